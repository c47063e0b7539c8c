#!/usr/bin/env python3
"""Score `leakprint match` on screenshots made by scripts/make_screenshots.py.

Runs the binary on the images of one split, then per style (re-shares
shrunk below TINY_PX in a row of their own, `reshared_tiny`): recall (some
image match names the true source and overlaps its span, the match's span
taken back to the file's bytes, see file_span), wrong-source
matches, false matches on negatives, and box IoU of the matched words:
the area covered by the reported boxes of the right-source matches against
the area of the true boxes of the quote's words that those matches cover
(a true word is covered when its bytes in the source overlap a match's
source span), |A and B| / |A or B|, exact over the union of rectangles
(sub-pixel boxes count as they are). Reported beside it: `iou_quote`, the
same reported boxes against the whole quote's words (the measure before
round 3, which counts a partial match's missing words as box error), and
`coverage`, the share of the quote's words covered. Also images/s per core
(wall time divided by images and threads).

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
import email
import email.policy
import json
import os
import subprocess
import sys
import time


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from querylib import normalize, word_spans  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)
DUMP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "corpus", "dump")

READABLE = {"tweet_light", "tweet_dark", "dim_dark", "small_text", "reshared_jpeg", "mail_client",
            "highlighted", "photo_screen"}
TARGETS = {"readable": 0.99, "angled_photo": 0.95, "thumbnail": 0.90, "reshared_tiny": 0.90, "iou": 0.8}

# Re-shares whose body text ends smaller than this (px, the font's size in
# the image) are reported in their own row, `reshared_tiny`: smaller than
# the smallest readable style (small_text, 9-11 px), about the size of the
# thumbnails (6-8 px), and compressed harder (JPEG quality 20-45, once or
# twice). Plain tesseract reads them with 57% character errors, the
# re-shares of 9 px and more with 4.7% (seed 7171, tuning half,
# scripts/ocr_cer.py; BENCHMARKS.md "Re-shares shrunk to thumbnail size").
# The row is held to the thumbnails' target, the nearest issue 14 sets.
TINY_PX = 9.0


def row_of(t) -> str:
    """The row an image is reported in: its style, but re-shares under
    TINY_PX apart (truth files written before text_px count as their style)."""
    if t["style"] == "reshared_jpeg" and t.get("text_px", TINY_PX) < TINY_PX:
        return "reshared_tiny"
    return t["style"]


def union_area(boxes) -> float:
    """Exact area of a union of rectangles [l, t, w, h] (floats welcome):
    over each vertical slab between consecutive x edges, the merged length
    of the y intervals of the rectangles that span it."""
    rs = [(l, t, l + w, t + h) for l, t, w, h in boxes if w > 0 and h > 0]
    xs = sorted({x for r in rs for x in (r[0], r[2])})
    area = 0.0
    for x0, x1 in zip(xs, xs[1:]):
        ys = sorted((r[1], r[3]) for r in rs if r[0] <= x0 and x1 <= r[2])
        cov, end = 0.0, None
        for y0, y1 in ys:
            if end is None or y0 > end:
                cov += y1 - y0
                end = y1
            elif y1 > end:
                cov += y1 - end
                end = y1
        area += cov * (x1 - x0)
    return area


def iou(a, b) -> float:
    """|A and B| / |A or B| of two unions of rectangles [l, t, w, h]."""
    ua, ub, uab = union_area(a), union_area(b), union_area(list(a) + list(b))
    return (ua + ub - uab) / uab if uab > 0 else 0.0


_collapsed = {}


def collapsed(rel: str):
    """The file's text with every whitespace run made one space, and each
    char's byte offset in the file (cached)."""
    if rel not in _collapsed:
        text = open(os.path.join(DUMP, rel), "rb").read().decode("utf-8", "replace")
        chars, offs, b, space = [], [], 0, False
        for c in text:
            if c.isspace():
                if chars and not space:
                    chars.append(" ")
                    offs.append(b)
                space = True
            else:
                chars.append(c)
                offs.append(b)
                space = False
            b += len(c.encode("utf-8"))
        _collapsed[rel] = ("".join(chars), offs)
    return _collapsed[rel]


def snippet_end(text: str, head_end: int, tail: str):
    """Where a snippet whose head ends at `head_end` in `text` ends: past
    its tail (the part after " … ", found after the head), or at the
    head's end when it has none; None when the tail is not there."""
    if not tail:
        return head_end
    j = text.find(tail, head_end)
    return None if j < 0 else j + len(tail)


def file_span(m, rel: str):
    """The match's source span as bytes of the file `rel`, or None.

    `source_span` counts bytes of the source part's extracted text, which is
    the file for the dump's plain-text speeches but, for its mails (RFC 822
    text), a header summary followed by the body: the same passage sits at
    another offset than in the file. The snippet (the extracted text of the
    span, whitespace made single spaces, cut as "head … tail" past 160
    characters) is found in the file's text; of several places, the one
    nearest the part offset (the smallest shift)."""
    snip = m.get("snippet", "")
    head, _, tail = snip.partition(" \u2026 ")
    if not head:
        return None
    text, offs = collapsed(rel)
    best = None
    i = text.find(head)
    while i >= 0:
        if best is None or abs(offs[i] - m["source_span"][0]) < abs(offs[best] - m["source_span"][0]):
            best = i
        i = text.find(head, i + 1)
    if best is None:
        return None
    end = snippet_end(text, best + len(head), tail)
    if end is None:
        return None
    last = text[end - 1]
    return [offs[best], offs[end - 1] + len(last.encode("utf-8"))]


def true_words(t, right):
    """The true boxes of the quote's words covered by the matches `right`
    (their bytes in the source overlap a match's source span), and the
    share of the quote's words that is. Falls back to the whole quote (and
    None) when the truth has no word spans that line up with its boxes."""
    words = t.get("words_exact") or t["words"]
    spans = t.get("word_spans")
    if spans is None:
        rel = t["source"]
        spans = word_spans(rel, open(os.path.join(DUMP, rel), "rb").read(), t["span"])
    if len(spans) != len(words):
        return words, None
    keep = [w for w, sp in zip(words, spans) if any(overlaps(m["file_span"], sp) for m in right)]
    return keep, len(keep) / len(words)


def mean(v):
    return sum(v) / len(v) if v else None


def overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def passage(rel: str, span) -> str:
    return open(os.path.join(DUMP, rel), "rb").read()[span[0]:span[1]].decode("utf-8", "replace")


def mail_text(rel: str) -> str:
    """The decoded text of a mail file's text parts (base64 and
    quoted-printable undone by Python's `email` package, independent of
    leakprint), whitespace runs made single spaces; "" for other files."""
    if not rel.endswith(".eml"):
        return ""
    msg = email.message_from_bytes(open(os.path.join(DUMP, rel), "rb").read(),
                                   policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            try:
                parts.append(part.get_content())
            except (LookupError, ValueError):
                continue
    return " ".join(" ".join(p.split()) for p in parts)


def encoded_passage(m, rel: str):
    """The matched text of a mail whose body is encoded (base64): the
    snippet's head and tail found in the decoded text, and the text between
    them; None when they are not there."""
    head, _, tail = m.get("snippet", "").partition(" \u2026 ")
    text = mail_text(rel)
    i = text.find(head) if head else -1
    if i < 0:
        return None
    end = snippet_end(text, i + len(head), tail)
    return None if end is None else text[i:end]


def duplicate(m, t) -> bool:
    """A match in another file that holds the same or a near-identical
    passage: the synthetic mails of the dump quote the speeches, and the
    speeches repeat themselves across years. At least 85% of the matched
    source text's normalized characters must appear, in order, in the true
    quote (a longest common subsequence). The matched text is read from the
    file at the match's span, or, for a mail whose body is encoded (the
    passage is not in its bytes), from the decoded body."""
    rel = m["source"].split("corpus/dump/", 1)[-1]
    if "#" in rel or not os.path.isfile(os.path.join(DUMP, rel)):
        return False
    span = file_span(m, rel)
    matched = passage(rel, span) if span is not None else encoded_passage(m, rel)
    if matched is None:
        return False
    a, b = normalize(matched), normalize(passage(t["source"], t["span"]))
    k = sum(x.size for x in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return k >= 0.85 * max(1, len(a))


def add_set_args(ap: argparse.ArgumentParser, split: str) -> None:
    """The arguments every screenshot script takes: the binary, the index,
    the image folder and the split (default `split`)."""
    ap.add_argument("--bin", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--split", default=split, choices=["test", "tune", "all"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_set_args(ap, "test")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ocr-steps", default=None)
    ap.add_argument("--styles", default=None)
    ap.add_argument("--kind", default="all", choices=["positive", "negative", "all"])
    ap.add_argument("--json", default=None)
    ap.add_argument("--gate", action="store_true")
    ap.add_argument("--raw", default=None, help="save the binary's output there, or score the output saved there "
                    "(same images) without running it again")
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
    if a.raw and os.path.exists(a.raw):
        saved = json.load(open(a.raw))
        p = subprocess.CompletedProcess(cmd, saved["returncode"], saved["stdout"], saved["stderr"])
        secs = saved["seconds"]
    else:
        t0 = time.monotonic()
        p = subprocess.run(cmd + paths, capture_output=True, text=True, env=env)
        secs = time.monotonic() - t0
        if a.raw:
            json.dump({"cmd": cmd, "returncode": p.returncode, "stdout": p.stdout, "stderr": p.stderr,
                       "seconds": secs}, open(a.raw, "w"))
    if p.returncode == 2:
        sys.stderr.write(p.stderr)
    lines = collections.defaultdict(list)
    for l in p.stdout.splitlines():
        m = json.loads(l)
        lines[m["query"]].append(m)
    per = collections.defaultdict(lambda: collections.Counter())
    ious = collections.defaultdict(list)
    ious_quote = collections.defaultdict(list)
    coverage = collections.defaultdict(list)
    images = []
    for t, path in zip(truth, paths):
        ms = [m for m in lines.get(path, []) if m.get("kind") == "image"]
        row = row_of(t)
        st = per[row]
        if t["kind"] == "negative":
            st["neg"] += 1
            st["false"] += bool(ms)
            continue
        st["pos"] += 1
        for m in ms:
            if m["source"].endswith(t["source"]):
                m["file_span"] = file_span(m, t["source"])
        right = [m for m in ms if m["source"].endswith(t["source"]) and m["file_span"] is not None
                 and overlaps(m["file_span"], t["span"])]
        st["unmapped"] += sum(1 for m in ms if m["source"].endswith(t["source"]) and m["file_span"] is None)
        st["found"] += bool(right)
        images.append({"file": t["file"], "style": t["style"], "row": row, "found": bool(right)})
        others = [m for m in ms if not m["source"].endswith(t["source"])]
        st["dup"] += sum(duplicate(m, t) for m in others)
        st["wrong"] += any(not duplicate(m, t) for m in others)
        if right:
            got = [[b["left"], b["top"], b["width"], b["height"]] for m in right for b in m.get("boxes", [])]
            want, cov = true_words(t, right)
            ious[row].append(iou(got, want))
            ious_quote[row].append(iou(got, t.get("words_exact") or t["words"]))
            if cov is not None:
                coverage[row].append(cov)
            images[-1].update(iou=ious[row][-1], iou_quote=ious_quote[row][-1], coverage=cov)
    rows = []
    tot = collections.Counter()
    for style in sorted(per):
        st = per[style]
        tot.update(st)
        rows.append({"style": style, "positives": st["pos"], "found": st["found"],
                     "recall": st["found"] / st["pos"] if st["pos"] else None,
                     "wrong_source": st["wrong"], "same_passage_elsewhere": st["dup"], "negatives": st["neg"], "false": st["false"],
                     "iou": mean(ious[style]), "iou_quote": mean(ious_quote[style]),
                     "coverage": mean(coverage[style])})
    all_iou = [v for s in ious.values() for v in s]
    summary = {"images": len(truth), "seconds": round(secs, 1), "threads": a.threads,
               "images_per_s_per_core": round(len(truth) / secs / a.threads, 3),
               "positives": tot["pos"], "found": tot["found"], "negatives": tot["neg"], "false": tot["false"],
               "wrong_source": tot["wrong"], "same_passage_elsewhere": tot["dup"], "iou": mean(all_iou),
               "iou_quote": mean([v for s in ious_quote.values() for v in s]),
               "coverage": mean([v for s in coverage.values() for v in s]),
               "unmapped_spans": tot["unmapped"], "errors": p.stderr.count("error:"), "steps": a.ocr_steps or "default", "split": a.split}
    print(f"{'style':<15} {'found':>9} {'recall':>7} {'wrong':>5} {'false':>9} {'IoU':>5} {'IoUq':>5} {'cover':>5}")
    fmt = lambda v, p: f"{v:.{p}f}" if v is not None else "-"  # noqa: E731
    for r in rows:
        print(f"{r['style']:<15} {r['found']:>4}/{r['positives']:<4} {fmt(r['recall'], 3):>7} {r['wrong_source']:>5} "
              f"{r['false']:>4}/{r['negatives']:<4} {fmt(r['iou'], 2):>5} {fmt(r['iou_quote'], 2):>5} "
              f"{fmt(r['coverage'], 2):>5}")
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
