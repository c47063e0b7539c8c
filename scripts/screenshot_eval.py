#!/usr/bin/env python3
"""Score `leakprint match` on screenshots made by scripts/make_screenshots.py.

Runs the binary on the images of one split, then per style: recall (some
image match names the true source and overlaps its span), wrong-source
matches, false matches on negatives, and box IoU (pixels covered by the
reported boxes of right-source matches against pixels of the true words of
the quote: |A and B| / |A or B|). Also images/s per core (wall time with
--threads 1 divided by images, only when --threads is 1).

Usage: python3 scripts/screenshot_eval.py --bin target/debug/leakprint
         --index IDX --dir DIR [--split test|tune|all] [--threads 1]
         [--ocr-steps invert,upscale,deskew,retry] [--kind positive|negative|all]
         [--json OUT] [--gate]
--gate exits 1 when a target of docs/SCREENSHOTS.md is missed.
"""
from __future__ import annotations

import argparse
import warnings
import collections
import difflib
import json
import os
import subprocess
import sys
import time

from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from querylib import normalize  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)
DUMP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "corpus", "dump")

READABLE = {"tweet_light", "tweet_dark", "dim_dark", "small_text", "reshared_jpeg", "mail_client",
            "highlighted", "photo_screen"}
TARGETS = {"readable": 0.99, "angled_photo": 0.95, "thumbnail": 0.90, "iou": 0.8}


def mask(size, boxes):
    m = Image.new("1", size, 0)
    d = ImageDraw.Draw(m)
    for l, t, w, h in boxes:
        if w > 0 and h > 0:
            d.rectangle([l, t, l + w - 1, t + h - 1], fill=1)
    return m


def iou(size, a, b) -> float:
    ma, mb = mask(size, a), mask(size, b)
    da, db = list(ma.getdata()), list(mb.getdata())
    inter = sum(1 for p, q in zip(da, db) if p and q)
    union = sum(1 for p, q in zip(da, db) if p or q)
    return inter / union if union else 0.0


def overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def passage(rel: str, span) -> str:
    return open(os.path.join(DUMP, rel), "rb").read()[span[0]:span[1]].decode("utf-8", "replace")


def duplicate(m, t) -> bool:
    """A match in another file that holds the same or a near-identical
    passage: the synthetic mails of the dump quote the speeches, and the
    speeches repeat themselves across years. At least 85% of the matched
    source text's normalized characters must appear, in order, in the true
    quote (a longest common subsequence)."""
    rel = m["source"].split("corpus/dump/", 1)[-1]
    if "#" in rel or not os.path.isfile(os.path.join(DUMP, rel)):
        return False
    a, b = normalize(passage(rel, m["source_span"])), normalize(passage(t["source"], t["span"]))
    k = sum(x.size for x in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return k >= 0.85 * max(1, len(a))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--split", default="test", choices=["test", "tune", "all"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ocr-steps", default=None)
    ap.add_argument("--styles", default=None)
    ap.add_argument("--kind", default="all", choices=["positive", "negative", "all"])
    ap.add_argument("--json", default=None)
    ap.add_argument("--gate", action="store_true")
    ap.add_argument("--match-args", default="", help="more arguments for leakprint match, space-separated")
    a = ap.parse_args()
    truth = [json.loads(l) for l in open(os.path.join(a.dir, "truth.jsonl"))]
    truth = [t for t in truth if a.split == "all" or t["split"] == a.split]
    if a.kind != "all":
        truth = [t for t in truth if t["kind"] == a.kind]
    if a.styles:
        keep = set(a.styles.split(","))
        truth = [t for t in truth if t["style"] in keep]
    paths = [os.path.join(a.dir, t["file"]) for t in truth]
    cmd = [a.bin, "match", "--index", a.index, "--json", "--threads", str(a.threads)]
    if a.ocr_steps is not None:
        cmd += ["--ocr-steps", a.ocr_steps]
    cmd += a.match_args.split()
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    t0 = time.monotonic()
    p = subprocess.run(cmd + paths, capture_output=True, text=True, env=env)
    secs = time.monotonic() - t0
    if p.returncode == 2:
        sys.stderr.write(p.stderr)
    lines = collections.defaultdict(list)
    for l in p.stdout.splitlines():
        m = json.loads(l)
        lines[m["query"]].append(m)
    per = collections.defaultdict(lambda: collections.Counter())
    ious = collections.defaultdict(list)
    images = []
    for t, path in zip(truth, paths):
        ms = [m for m in lines.get(path, []) if m.get("kind") == "image"]
        st = per[t["style"]]
        if t["kind"] == "negative":
            st["neg"] += 1
            st["false"] += bool(ms)
            continue
        st["pos"] += 1
        right = [m for m in ms if m["source"].endswith(t["source"]) and overlaps(m["source_span"], t["span"])]
        st["found"] += bool(right)
        images.append({"file": t["file"], "style": t["style"], "found": bool(right)})
        others = [m for m in ms if not m["source"].endswith(t["source"])]
        st["dup"] += sum(duplicate(m, t) for m in others)
        st["wrong"] += any(not duplicate(m, t) for m in others)
        if right:
            size = Image.open(path).size
            got = [[b["left"], b["top"], b["width"], b["height"]] for m in right for b in m.get("boxes", [])]
            ious[t["style"]].append(iou(size, got, t["words"]))
            images[-1]["iou"] = ious[t["style"]][-1]
    rows = []
    tot = collections.Counter()
    for style in sorted(per):
        st = per[style]
        tot.update(st)
        iv = ious[style]
        rows.append({"style": style, "positives": st["pos"], "found": st["found"],
                     "recall": st["found"] / st["pos"] if st["pos"] else None,
                     "wrong_source": st["wrong"], "same_passage_elsewhere": st["dup"], "negatives": st["neg"], "false": st["false"],
                     "iou": sum(iv) / len(iv) if iv else None})
    all_iou = [v for s in ious.values() for v in s]
    summary = {"images": len(truth), "seconds": round(secs, 1), "threads": a.threads,
               "images_per_s_per_core": round(len(truth) / secs / a.threads, 3),
               "positives": tot["pos"], "found": tot["found"], "negatives": tot["neg"], "false": tot["false"],
               "wrong_source": tot["wrong"], "same_passage_elsewhere": tot["dup"], "iou": sum(all_iou) / len(all_iou) if all_iou else None,
               "errors": p.stderr.count("error:"), "steps": a.ocr_steps or "default", "split": a.split}
    print(f"{'style':<15} {'found':>9} {'recall':>7} {'wrong':>5} {'false':>9} {'IoU':>5}")
    for r in rows:
        rec = f"{r['recall']:.3f}" if r["recall"] is not None else "-"
        io = f"{r['iou']:.2f}" if r["iou"] is not None else "-"
        print(f"{r['style']:<15} {r['found']:>4}/{r['positives']:<4} {rec:>7} {r['wrong_source']:>5} "
              f"{r['false']:>4}/{r['negatives']:<4} {io:>5}")
    print(json.dumps(summary))
    if a.json:
        json.dump({"rows": rows, "summary": summary, "images": images}, open(a.json, "w"), indent=1)
    if a.gate:
        bad = []
        for r in rows:
            if r["recall"] is None:
                continue
            want = TARGETS["readable"] if r["style"] in READABLE else TARGETS.get(r["style"], 0)
            if r["recall"] < want:
                bad.append(f"{r['style']} recall {r['recall']:.3f} < {want}")
            if r["wrong_source"]:
                bad.append(f"{r['style']}: {r['wrong_source']} wrong-source matches")
        if tot["false"]:
            bad.append(f"{tot['false']} false matches on {tot['neg']} negatives")
        if summary["iou"] is not None and summary["iou"] < TARGETS["iou"]:
            bad.append(f"box IoU {summary['iou']:.2f} < {TARGETS['iou']}")
        if summary["errors"]:
            bad.append(f"{summary['errors']} errors")
        for b in bad:
            print("GATE FAILED:", b)
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
