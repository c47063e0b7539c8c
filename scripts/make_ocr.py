#!/usr/bin/env python3
"""Generate corpus/queries/ocr.jsonl + ocr/<id>.{txt,tsv}: real screenshots, real OCR.

For each query a passage (100-400 chars) of a quotable file is rendered as an
image with ImageMagick 6 (`/usr/bin/convert`, one paragraph at a time with
`caption:`, stacked with `-append`), degraded (clean / blur / jpeg / down75 =
downscaled to 75% and re-compressed as JPEG), optionally upscaled 3x, then
OCRed with `OMP_THREAD_LIMIT=1 tesseract IMG OUT -l eng txt tsv`.

CER = Levenshtein(ocr, truth) / len(truth), both with every whitespace run
collapsed to one space and ends stripped (line breaks and wrap positions of a
screenshot are not errors). Buckets: ocr:cer<5, ocr:cer5-15, ocr:cer>15 (%).

Needs: apt-get install -y tesseract-ocr tesseract-ocr-eng imagemagick
fonts-dejavu-core fonts-liberation2 (use --install). Images go to
bench-out/ocr-images/ (git-ignored). Tesseract output depends on its version
(5.3.0 here), so reruns elsewhere may differ slightly: the committed files are
the reference.

Usage: nice python3 scripts/make_ocr.py [--seed 5] [--n 250] [--min-bucket 40]
"""
from __future__ import annotations

import argparse
import collections
import html
import json
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from querylib import Picker, norm_len  # noqa: E402
from make_queries import CORPUS, OUT, ROOT, corpus_norm, load_dump, quotable_docs  # noqa: E402

CONVERT = "/usr/bin/convert"
FONTS = ["DejaVu-Sans", "DejaVu-Serif", "Liberation-Sans", "Liberation-Serif", "Liberation-Mono"]
IMG = os.path.join(ROOT, "bench-out", "ocr-images")


def lev(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def collapse(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def cer(ocr: str, truth: str) -> float:
    t = collapse(truth)
    return lev(collapse(ocr), t) / max(1, len(t))


def bucket(c: float) -> str:
    return "ocr:cer<5" if c < 0.05 else ("ocr:cer5-15" if c <= 0.15 else "ocr:cer>15")


def im_text(s: str) -> str:
    s = s.replace("\\", "\\\\").replace("%", "%%")
    return (" " + s) if s.startswith("@") else s


def render(paras: list[str], font: str, px: int, width: int, variant: str, upscale: int,
           rng: random.Random, out: str, coder: str = "caption") -> dict:
    """Render, degrade and (maybe) upscale. `coder` "pango" lays text out
    with Pango (shaping and the bidi algorithm: Arabic, Persian, Hebrew;
    `font` is then a fontconfig family name); "caption" is ImageMagick's own
    left-to-right layout."""
    parts = []
    for k, p in enumerate(paras):
        f = f"{out}.p{k}.png"
        text = html.escape(p, quote=False) if coder == "pango" else p
        subprocess.run([CONVERT, "-background", "white", "-fill", "black", "-font", font,
                        "-pointsize", str(px), "-size", f"{width}x", f"{coder}:{im_text(text)}", f], check=True)
        parts.append(f)
    args = [CONVERT, *sum([[p, "(", "-size", f"{width}x{px}", "xc:white", ")"] for p in parts], [])[:-5],
            "-append", "-bordercolor", "white", "-border", "12"]
    meta: dict = {}
    if variant == "blur":
        sigma = round(rng.uniform(0.5, 0.9), 2)
        args += ["-blur", f"0x{sigma}"]
        meta["blur"] = sigma
    final = out + (".png" if variant in ("clean", "blur") else ".jpg")
    if variant == "jpeg":
        q = rng.randint(12, 35)
        args += ["-quality", str(q)]
        meta["jpeg_quality"] = q
    if variant == "down75":
        q = rng.randint(25, 60)
        args += ["-resize", "75%", "-quality", str(q)]
        meta["jpeg_quality"] = q
    subprocess.run(args + [final], check=True)
    for p in parts:
        os.remove(p)
    ocr_in = final
    if upscale > 1:
        ocr_in = out + ".up.png"
        subprocess.run([CONVERT, final, "-resize", f"{upscale * 100}%", ocr_in], check=True)
    meta["image"] = os.path.relpath(final, ROOT)
    meta["ocr_input"] = ocr_in
    return meta


def tesseract(img: str, outbase: str) -> tuple[str, str]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    subprocess.run(["tesseract", img, outbase, "-l", "eng", "txt", "tsv"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return open(outbase + ".txt", encoding="utf-8").read(), open(outbase + ".tsv", encoding="utf-8").read()


# (variant, px range, upscale) profiles; the degraded ones feed the upper buckets
PROFILES = {
    "clean": ("clean", (10, 16), 1),
    "blur": ("blur", (10, 14), 1),
    "jpeg": ("jpeg", (10, 14), 1),
    "down75": ("down75", (10, 12), 1),
    "down75_up3": ("down75", (10, 13), 3),
}
PLAN = ["clean"] * 60 + ["blur"] * 40 + ["jpeg"] * 40 + ["down75"] * 60 + ["down75_up3"] * 50


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--n", type=int, default=len(PLAN), help="planned images (before top-up)")
    ap.add_argument("--min-bucket", type=int, default=40, help="top up until each bucket has this many")
    ap.add_argument("--max-extra", type=int, default=80)
    ap.add_argument("--install", action="store_true")
    a = ap.parse_args()
    if a.install:
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "tesseract-ocr",
                        "tesseract-ocr-eng", "imagemagick", "fonts-dejavu-core", "fonts-liberation2"], check=True)
    split = json.load(open(os.path.join(CORPUS, "split.json")))
    files = load_dump()
    rng = random.Random(a.seed * 1000 + 17)
    pk = Picker(rng, quotable_docs(files, split), corpus_norm(files))
    os.makedirs(IMG, exist_ok=True)
    odir = os.path.join(OUT, "ocr")
    os.makedirs(odir, exist_ok=True)
    for f in os.listdir(odir):
        if f.startswith("ocr-"):
            os.remove(os.path.join(odir, f))
    plan = PLAN[: a.n]
    rng.shuffle(plan)
    rows = []
    tally: collections.Counter = collections.Counter()
    by_profile: dict = collections.defaultdict(collections.Counter)
    extra = 0
    i = 0
    while True:
        if i < len(plan):
            prof = plan[i]
        else:
            short = [b for b in ("ocr:cer<5", "ocr:cer5-15", "ocr:cer>15") if tally[b] < a.min_bucket]
            if not short or extra >= a.max_extra:
                break
            # top up with the profile that most often produced the short bucket
            b = short[0]
            prof = max(PROFILES, key=lambda p: (by_profile[p][b] + 0.5) / (sum(by_profile[p].values()) + 1))
            extra += 1
        i += 1
        variant, (plo, phi), up = PROFILES[prof]
        d, s, e = pk.passage(100, 400, cross_para=rng.random() < 0.25)
        truth = d.text[s:e]
        paras = [p.strip() for p in truth.split("\n\n") if p.strip()]
        font = rng.choice(FONTS)
        px = rng.randint(plo, phi)
        width = rng.choice([360, 420, 480, 560, 640])
        qid = f"ocr-{i:04d}"
        meta = render(paras, font, px, width, variant, up, rng, os.path.join(IMG, qid))
        txt, tsv = tesseract(meta.pop("ocr_input"), os.path.join(odir, qid))
        if up > 1:
            os.remove(os.path.join(IMG, qid + ".up.png"))
        c = cer(txt, truth)
        b = bucket(c)
        tally[b] += 1
        by_profile[prof][b] += 1
        rows.append({"id": qid, "text": txt, "case": b, "cer": round(c, 4),
                     "tsv": f"ocr/{qid}.tsv", "txt": f"ocr/{qid}.txt",
                     "render": {"font": font, "px": px, "width": width, "variant": variant,
                                "upscale_before_ocr": up, **meta},
                     "norm_len": norm_len(truth), "expect": [{"source": d.rel, "span": d.span(s, e)}]})
        if i % 25 == 0:
            print(i, dict(tally), flush=True)
    with open(os.path.join(OUT, "ocr.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print("total", len(rows), dict(tally))
    for p, cnt in sorted(by_profile.items()):
        print(f"  {p:12s} {dict(cnt)}")


if __name__ == "__main__":
    main()
