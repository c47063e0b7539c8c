#!/usr/bin/env python3
"""Character error rate of plain tesseract on screenshot-benchmark images.

For each positive image of one split (make_screenshots.py's truth): run
`tesseract IMAGE stdout` with no preprocessing (what a newcomer runs), then
the quote's edit distance to the closest substring of the reading, over
normalized text (lower-case letters and digits, other runs as one space),
divided by the quote's length. Prints the mean and median per row, the rows
of scripts/screenshot_eval.py (a style, re-shares under TINY_PX apart).
This is the measure issue 14 quotes for its own set (8% for re-shared
JPEGs, 39% for thumbnails).

Usage: python3 scripts/ocr_cer.py --dir DIR [--split tune|test|all]
       [--styles a,b] [--threads 2]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from screenshot_eval import DUMP, row_of  # noqa: E402


def norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


def substring_distance(q: str, t: str) -> int:
    """Edit distance from q to its closest substring of t (free ends in t)."""
    prev = [0] * (len(t) + 1)
    for i in range(1, len(q) + 1):
        cur = [i] + [0] * len(t)
        qi = q[i - 1]
        for j in range(1, len(t) + 1):
            cur[j] = min(prev[j - 1] + (qi != t[j - 1]), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return min(prev)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--split", default="tune", choices=["test", "tune", "all"])
    ap.add_argument("--styles", default=None)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    truth = [json.loads(l) for l in open(os.path.join(a.dir, "truth.jsonl"))]
    truth = [t for t in truth if t["kind"] == "positive" and (a.split == "all" or t["split"] == a.split)]
    if a.styles:
        keep = set(a.styles.split(","))
        truth = [t for t in truth if t["style"] in keep]

    def cer(t) -> tuple[str, float]:
        with open(os.path.join(DUMP, t["source"]), "rb") as f:
            q = norm(f.read()[t["span"][0]:t["span"][1]].decode("utf-8", "replace"))
        done = subprocess.run(["tesseract", os.path.join(a.dir, t["file"]), "stdout"], capture_output=True,
                              env=dict(os.environ, OMP_THREAD_LIMIT="1"))
        if done.returncode != 0:
            raise SystemExit(f"tesseract failed on {t['file']}: {done.stderr.decode(errors='replace')}")
        return row_of(t), substring_distance(q, norm(done.stdout.decode("utf-8", "replace"))) / max(1, len(q))

    with ThreadPoolExecutor(a.threads) as ex:
        got = list(ex.map(cer, truth))
    rows = collections.defaultdict(list)
    for row, v in got:
        rows[row].append(v)
    print(f"{'row':<15} {'images':>6} {'mean':>6} {'median':>6}")
    for row in sorted(rows):
        v = sorted(rows[row])
        print(f"{row:<15} {len(v):>6} {sum(v) / len(v):>6.3f} {v[len(v) // 2]:>6.3f}")


if __name__ == "__main__":
    main()
