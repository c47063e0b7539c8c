#!/usr/bin/env python3
"""Real tesseract TSV and hOCR in eight non-Latin models, for tests/images_lang.rs.

For each model (rus, ukr, chi_sim, chi_tra, jpn, kor, ara, heb) a few real
sentences are taken from a Debian gettext catalogue installed on every Debian
machine (apt's translations; glib's for Hebrew, which apt lacks), rendered
with Pillow (libraqm: shaping and the Unicode bidi algorithm, so Arabic and
Hebrew come out right to left) in Noto fonts (fonts-noto-core,
fonts-noto-cjk), and read with `OMP_THREAD_LIMIT=1 tesseract IMG OUT -l LANG
--psm 6 tsv hocr` (tesseract 5.3.0 here; one uniform block, since the
automatic layout analysis scrambles the kor page). Committed per model under
tests/data/images/lang/<model>/: expected.txt (the rendered sentences, in
logical order, one a line), page.png, page.tsv, page.hocr.

Needs: apt-get install tesseract-ocr tesseract-ocr-{rus,ukr,chi-sim,chi-tra,jpn,kor,ara,heb}
fonts-noto-core fonts-noto-cjk; pip install pillow.
Usage: python3 scripts/make_lang_screenshots.py [--seed 10] [--lines 4]
"""
from __future__ import annotations

import argparse
import gettext
import os
import random
import re
import subprocess

from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "images", "lang")
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
NOTO = "/usr/share/fonts/truetype/noto/"

# model: (locale, catalogue, font file, font index in a .ttc)
MODELS = {
    "rus": ("ru", "apt", NOTO + "NotoSans-Regular.ttf", 0),
    "ukr": ("uk", "apt", NOTO + "NotoSans-Regular.ttf", 0),
    "chi_sim": ("zh_CN", "apt", CJK, 2),
    "chi_tra": ("zh_TW", "apt", CJK, 3),
    "jpn": ("ja", "apt", CJK, 0),
    "kor": ("ko", "apt", CJK, 1),
    "ara": ("ar", "apt", NOTO + "NotoSansArabic-Regular.ttf", 0),
    "heb": ("he", "glib20", NOTO + "NotoSansHebrew-Regular.ttf", 0),
}


def sentences(locale: str, domain: str) -> list[str]:
    mo = f"/usr/share/locale/{locale}/LC_MESSAGES/{domain}.mo"
    cat = gettext.GNUTranslations(open(mo, "rb"))._catalog  # noqa: SLF001 (the catalogue itself)
    out = []
    for k, v in cat.items():
        if not isinstance(v, str) or not k or "%" in v or "{" in v or "\n" in v or "_" in v:
            continue
        v = re.sub(r"\s+", " ", v).strip()
        letters = sum(c.isalpha() for c in v)
        if 12 <= len(v) <= 60 and letters >= 0.7 * len(v) and not re.search(r"[A-Za-z]", v):
            out.append(v)
    return sorted(set(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--lines", type=int, default=4)
    a = ap.parse_args()
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    for model, (locale, domain, fontfile, idx) in MODELS.items():
        rng = random.Random(f"{a.seed}/{model}")
        lines = rng.sample(sentences(locale, domain), a.lines)
        f = ImageFont.truetype(fontfile, 28, index=idx)
        d0 = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        width = int(max(d0.textlength(l, font=f) for l in lines)) + 60
        img = Image.new("RGB", (width, 60 * len(lines) + 40), "white")
        d = ImageDraw.Draw(img)
        rtl = model in ("ara", "heb")
        for i, l in enumerate(lines):
            x = width - 30 - d.textlength(l, font=f) if rtl else 30
            d.text((x, 25 + 60 * i), l, font=f, fill="black")
        out = os.path.join(OUT, model)
        os.makedirs(out, exist_ok=True)
        img.save(os.path.join(out, "page.png"))
        with open(os.path.join(out, "expected.txt"), "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        subprocess.run(["tesseract", os.path.join(out, "page.png"), os.path.join(out, "page"), "-l", model,
                        "--psm", "6", "tsv", "hocr"], check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(model, len(lines), "lines")


if __name__ == "__main__":
    main()
