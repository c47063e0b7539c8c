#!/usr/bin/env python3
"""Which preprocessing of an image lets its quote be found: an experiment aid.

For each positive image (make_screenshots.py's truth; one split, or the
files named): autocontrast and dark-mode inversion, then each variant of
VARIANTS (Pillow resampling and filters), tesseract's TSV of it, and
`leakprint match --format tsv` of that against an index. Prints per image
and variant whether the true source was found (Y or .), the reading's
character error rate (scripts/ocr_cer.py's measure) and how many other
sources were named (+n), then the count per variant and of their union,
and each variant's mean error rate.
The round-7 experiment of BENCHMARKS.md ("Re-shares shrunk to thumbnail
size") is `--split tune --rows reshared_tiny` on seed 7171.

Usage: python3 scripts/ocr_variants.py --bin BIN --index IDX --dir DIR
       [--split tune] [--rows reshared_tiny] [--files a.jpg,b.jpg]
       [--variants lz3,bc3] [--tessdata DIR] [--threads 2]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from PIL import Image, ImageFilter, ImageOps

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ocr_cer import norm, substring_distance  # noqa: E402
from screenshot_eval import DUMP, add_set_args, row_of  # noqa: E402


def up(im, s, f=Image.LANCZOS):
    return im.resize((round(im.size[0] * s), round(im.size[1] * s)), f)


VARIANTS = {
    "lz3": lambda g: up(g, 3),
    "lz4": lambda g: up(g, 4),
    "bc3": lambda g: up(g, 3, Image.BICUBIC),
    "bl3": lambda g: up(g, 3, Image.BILINEAR),
    "lz2.5": lambda g: up(g, 2.5),
    "lz3.5": lambda g: up(g, 3.5),
    "blur.6lz4": lambda g: up(g.filter(ImageFilter.GaussianBlur(0.6)), 4),
    "lz4blur1": lambda g: up(g, 4).filter(ImageFilter.GaussianBlur(1.2)),
    "bc4blur": lambda g: up(g, 4, Image.BICUBIC).filter(ImageFilter.GaussianBlur(1.5)),
    "lz4blur2": lambda g: up(g, 4).filter(ImageFilter.GaussianBlur(2)),
    "lz3blur1": lambda g: up(g, 3).filter(ImageFilter.GaussianBlur(1)),
    "med3lz4": lambda g: up(g.filter(ImageFilter.MedianFilter(3)), 4),
    "lz4usm": lambda g: up(g, 4).filter(ImageFilter.UnsharpMask(3, 150, 2)),
    "lz4thr150": lambda g: ImageOps.autocontrast(up(g, 4)).point(lambda v: 255 if v > 150 else 0),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_set_args(ap, "tune")
    ap.add_argument("--rows", default=None)
    ap.add_argument("--files", default=None)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--tessdata", default=None)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    truth = {t["file"]: t for t in map(json.loads, open(os.path.join(a.dir, "truth.jsonl")))}
    if a.files:
        files = a.files.split(",")
    else:
        files = [f for f, t in truth.items() if t["kind"] == "positive"
                 and (a.split == "all" or t["split"] == a.split)
                 and (not a.rows or row_of(t) in a.rows.split(","))]
    names = a.variants.split(",")
    tmpdir = tempfile.TemporaryDirectory()
    tmp = tmpdir.name
    tess = ["tesseract", "stdin", "stdout"] + (["--tessdata-dir", a.tessdata] if a.tessdata else []) + ["tsv"]
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def tsv_text(tsv: bytes) -> str:
        words = []
        for line in tsv.decode("utf-8", "replace").splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) >= 12 and cols[11].strip():
                words.append(cols[11])
        return " ".join(words)

    def run(f):
        t = truth[f]
        with open(os.path.join(DUMP, t["source"]), "rb") as fh:
            quote = norm(fh.read()[t["span"][0]:t["span"][1]].decode("utf-8", "replace"))
        g = ImageOps.autocontrast(Image.open(os.path.join(a.dir, f)).convert("L"))
        hist = g.histogram()
        if sum(i * n for i, n in enumerate(hist)) / max(1, sum(hist)) < 110:
            g = ImageOps.invert(g)
        out = {}
        for k in names:
            b = io.BytesIO()
            VARIANTS[k](g).save(b, "PNG")
            done = subprocess.run(tess, input=b.getvalue(), capture_output=True, env=env)
            if done.returncode != 0:
                raise SystemExit(f"tesseract failed on {f} ({k}): {done.stderr.decode(errors='replace')}")
            tsv = done.stdout
            p = os.path.join(tmp, f"{f}.{k}.tsv")
            with open(p, "wb") as o:
                o.write(tsv)
            r = subprocess.run([a.bin, "match", "--index", a.index, "--format", "tsv", "--threads", "1", "--json", p],
                               capture_output=True, text=True)
            if r.returncode not in (0, 1):
                raise SystemExit(f"leakprint failed on {f} ({k}): {r.stderr}")
            ms = [json.loads(l) for l in r.stdout.splitlines()]
            src = truth[f]["source"]
            cer = substring_distance(quote, norm(tsv_text(tsv))) / max(1, len(quote))
            out[k] = (any(m.get("source", "").endswith(src) for m in ms),
                      sum(1 for m in ms if not m.get("source", "").endswith(src)), cer)
        return f, out

    with ThreadPoolExecutor(a.threads) as ex:
        res = list(ex.map(run, files))
    print("file".ljust(26) + " ".join(k[:9].rjust(9) for k in names) + "  best err")
    for f, r in res:
        cells = (("Y" if r[k][0] else ".") + f"{r[k][2]:.2f}" + (f"+{r[k][1]}" if r[k][1] else "") for k in names)
        print(f.ljust(26) + " ".join(c.rjust(9) for c in cells) + f"  {min(r[k][2] for k in names):.2f}")
    print("found".ljust(26) + " ".join(str(sum(r[k][0] for _, r in res)).rjust(9) for k in names))
    print("other sources".ljust(26) + " ".join(str(sum(r[k][1] for _, r in res)).rjust(9) for k in names))
    print("mean error".ljust(26) + " ".join(f"{sum(r[k][2] for _, r in res) / len(res):.3f}".rjust(9)
                                              for k in names))
    print(f"union: {sum(any(r[k][0] for k in names) for _, r in res)} of {len(res)}")
    tmpdir.cleanup()


if __name__ == "__main__":
    main()
