#!/usr/bin/env python3
"""OCR queries for the multilingual dump: corpus/ml/queries/ocr.jsonl + ocr/<id>.{txt,tsv}.

Passages of corpus/ml/dump (Russian, Arabic, Persian: 100-300 characters;
Simplified Chinese: 40-150) are rendered with ImageMagick 6
(`/usr/bin/convert`, one paragraph at a time, stacked with `-append`) in Noto
fonts, degraded (clean / blur / jpeg / down75, some upscaled 3x before OCR,
as scripts/make_ocr.py), and read back by real tesseract: `OMP_THREAD_LIMIT=1
tesseract IMG OUT -l rus txt tsv` (or `-l chi_sim`, `-l ara`, `-l fas`). The
text and the TSV (word boxes, confidences) are committed. Russian and Chinese
are laid out by ImageMagick's `caption:`; Arabic and Persian, which run right
to left and need their letters joined, by `pango:` (Pango's shaping and bidi
algorithm, Noto Naskh Arabic / Noto Sans Arabic, 3 points larger since
Naskh's letters are small for their size).

CER = Levenshtein(ocr, truth) / len(truth), whitespace runs collapsed to one
space for Russian, Arabic and Persian; for Chinese all whitespace is removed
from both first (tesseract puts spaces between CJK characters, a line break
inside a CJK sentence is not a space).

Needs: apt-get install -y tesseract-ocr tesseract-ocr-rus tesseract-ocr-chi-sim
tesseract-ocr-ara tesseract-ocr-fas imagemagick fonts-noto-core fonts-noto-cjk
(--install does it). Images go to bench-out/ml-ocr-images/ (git-ignored).
Output depends on tesseract's version (5.3.0 made the committed files).

Usage: nice python3 scripts/ml_ocr.py [--seed 11] [--per-lang 36] [--install] [--langs ar,fa]
       nice python3 scripts/ml_ocr.py --seed 1211 --out corpus/ml/queries_fresh --split-name fresh \
           --exclude corpus/ml/queries
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_ocr import bucket, lev, render  # noqa: E402
import ml_build  # noqa: E402
from ml_queries import OUT, MlPicker, content_weights, excluded, expect, lengths, load_docs  # noqa: E402
from querylib import normalize  # noqa: E402
from split_queries import assign_split  # noqa: E402

IMG = os.path.join(ml_build.ROOT, "bench-out", "ml-ocr-images")
LANGS = {
    "ru": ("rus", (100, 300), ["Noto-Sans-Regular", "Noto-Serif-Regular", "DejaVu-Sans", "DejaVu-Serif"]),
    "zh_CN": ("chi_sim", (40, 150), ["Noto-Sans-CJK-SC", "Noto-Serif-CJK-SC"]),
    # right to left: laid out by Pango (shaping, bidi), fonts by fontconfig family name
    "ar": ("ara", (100, 300), ["Noto Naskh Arabic", "Noto Sans Arabic"]),
    "fa": ("fas", (100, 300), ["Noto Naskh Arabic", "Noto Sans Arabic"]),
}
RTL = {"ar", "fa"}
# Naskh's letters are small for their point size: the Arabic profiles render
# 3 points larger, so that the letters are as tall as the others' at 12-18.
RTL_PX = 3
PROFILES = {
    "clean": ("clean", (12, 18), 1),
    "blur": ("blur", (12, 16), 1),
    "jpeg": ("jpeg", (12, 16), 1),
    "down75": ("down75", (11, 14), 1),
    "down75_up3": ("down75", (11, 14), 3),
}
PLAN = ["clean"] * 12 + ["blur"] * 8 + ["jpeg"] * 6 + ["down75"] * 4 + ["down75_up3"] * 6


def ml_cer(ocr: str, truth: str, cjk: bool) -> float:
    if cjk:
        o, t = re.sub(r"\s+", "", ocr), re.sub(r"\s+", "", truth)
    else:
        o, t = re.sub(r"\s+", " ", ocr).strip(), re.sub(r"\s+", " ", truth).strip()
    return lev(o, t) / max(1, len(t))


def tesseract(img: str, outbase: str, model: str) -> tuple[str, str]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    subprocess.run(["tesseract", img, outbase, "-l", model, "txt", "tsv"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (open(outbase + ".txt", encoding="utf-8").read(),
            open(outbase + ".tsv", encoding="utf-8").read())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--per-lang", type=int, default=len(PLAN))
    ap.add_argument("--install", action="store_true")
    ap.add_argument("--out", default=OUT, help="the query folder (ocr.jsonl and ocr/ go there)")
    ap.add_argument("--split-name", default=None,
                    help='put every new row in this split (e.g. "fresh") instead of tune / held_out halves')
    ap.add_argument("--exclude", action="append", default=[],
                    help="a query folder whose passages no new passage may overlap (a fresh set)")
    ap.add_argument("--langs", default=",".join(LANGS),
                    help="languages to (re)make; the other languages' rows and files are kept as they are")
    a = ap.parse_args()
    langs = a.langs.split(",")
    unknown = [x for x in langs if x not in LANGS]
    if unknown:
        sys.exit(f"--langs: unknown {unknown}; known {list(LANGS)}")
    if a.install:
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "tesseract-ocr",
                        "tesseract-ocr-rus", "tesseract-ocr-chi-sim", "tesseract-ocr-ara", "tesseract-ocr-fas",
                        "imagemagick", "fonts-noto-core",
                        "fonts-noto-cjk", "fonts-dejavu-core"], check=True)
    split = json.load(open(os.path.join(ml_build.ML, "split.json"), encoding="utf-8"))
    docs = load_docs(split)
    weights = content_weights(docs)
    corpus_norm = "\x00".join(normalize(d.text) for ds in docs.values() for d, _ in ds)
    odir = os.path.join(a.out, "ocr")
    os.makedirs(odir, exist_ok=True)
    os.makedirs(IMG, exist_ok=True)
    for f in os.listdir(odir):
        if any(f.startswith(f"ml-{x}-ocr-") for x in langs):
            os.remove(os.path.join(odir, f))
    path = os.path.join(a.out, "ocr.jsonl")
    kept = []
    if os.path.exists(path):
        kept = [json.loads(ln) for ln in open(path, encoding="utf-8") if ln.strip()]
        kept = [r for r in kept if r["lang"] not in langs]
    rows = []
    for lang in langs:
        model, (lo, hi), fonts = LANGS[lang]
        fam = ml_build.SCRIPT[lang]
        rng = random.Random(f"{a.seed}:{lang}:ocr")
        pk = MlPicker(rng, docs[lang], corpus_norm, fam, excluded(a.exclude)[0])
        plan = (PLAN * (a.per_lang // len(PLAN) + 1))[:a.per_lang]
        rng.shuffle(plan)
        tally: collections.Counter = collections.Counter()
        for i, prof in enumerate(plan, 1):
            variant, (plo, phi), up = PROFILES[prof]
            d, mail, s, e = pk.passage(lo, hi)
            truth = d.text[s:e]
            paras = [p.strip() for p in truth.split("\n\n") if p.strip()]
            font, px = rng.choice(fonts), rng.randint(plo, phi)
            width = rng.choice([360, 420, 480, 560])
            qid = f"ml-{lang}-ocr-{i:03d}"
            if lang in RTL:
                px += RTL_PX
            meta = render(paras, font, px, width, variant, up, rng, os.path.join(IMG, qid),
                          coder="pango" if lang in RTL else "caption")
            txt, tsv = tesseract(meta.pop("ocr_input"), os.path.join(odir, qid), model)
            if up > 1:
                os.remove(os.path.join(IMG, qid + ".up.png"))
            c = ml_cer(txt, truth, fam == "cjk")
            tally[bucket(c)] += 1
            rows.append({"id": qid, "text": txt, "case": bucket(c), "lang": lang, "script": fam,
                         "cer": round(c, 4), "tesseract_lang": model,
                         "tsv": f"ocr/{qid}.tsv", "txt": f"ocr/{qid}.txt",
                         "render": {"font": font, "px": px, "width": width, "variant": variant,
                                    "upscale_before_ocr": up, **meta},
                         **lengths(truth, fam, weights), "expect": [expect(d, mail, s, e)]})
        print(lang, model, dict(tally), flush=True)
    if a.split_name:
        for r in rows:
            r["split"] = a.split_name
    else:
        assign_split(rows, a.seed)  # per (case, lang) stratum: the kept rows' halves do not move
    order = list(LANGS)
    rows = sorted(kept + rows, key=lambda r: (order.index(r["lang"]), r["id"]))
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)
    print("total", len(rows))


if __name__ == "__main__":
    main()
