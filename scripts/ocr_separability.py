#!/usr/bin/env python3
"""How many OCR readings can any matcher tell from the rest of the dump?

For each OCR query of `corpus/queries/ocr.jsonl` this measures, over a
simple normalization (lower case, letters and digits, one space between
words), the smallest edit distance between the whole reading and any
stretch of

- its true source document (`d_true`), and
- any other document of the dump (`d_other`, the best wrong place),

with edlib's infix mode (Myers' bit-vector algorithm: the reading aligned
in full, the document's stretch free). It does the same for the
same-domain negatives (text of the domain that is in no dump document):
their smallest distance to the whole dump, as a share of their length, is
how close unrelated text of the domain comes by chance.

A reading is *separable* when its distance to its source is below both its
distance to every other document (else the evidence points elsewhere) and
the distance of every negative of similar length, 0.7 to 1.5 times the
reading's (else a threshold that takes it takes a negative too; where no
negative is that long or short, the closest negative of all is used, and
the `of` column says 0). The share of separable readings bounds the
recall of any matcher that decides by how well a reading aligns with the
dump, at the right source and with no false match among the negatives.
(A whole-reading distance; a matcher aligns locally and may drop junk at
a reading's ends, so `--trim` takes instead, for every reading and every
negative alike, the best distance per character over cuts of none, half
or all of a quarter of its words at either end, a quarter at most in
all.)

A mail's text is its decoded text parts and its header lines, as the
indexer extracts them.

    pip install edlib
    python3 scripts/ocr_separability.py [--split held_out|tune|all] [--case ocr:cer>15]
"""

import argparse
import json
import os
import re
import sys
from email import policy
from email.parser import BytesParser

import edlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
WORD = re.compile(r"[a-z0-9]+")


def norm(t):
    return " ".join(WORD.findall(t.lower()))


def doc_text(path):
    raw = open(path, "rb").read()
    if path.endswith(".eml") or "/maildir/" in path or path.endswith(".mbox"):
        try:
            msg = BytesParser(policy=policy.default).parsebytes(raw)
            parts = [f"{k}: {v}" for k, v in msg.items()]
            for p in msg.walk():
                if p.get_content_type().startswith("text/"):
                    try:
                        parts.append(str(p.get_content()))
                    except Exception:
                        parts.append(p.get_payload(decode=True).decode("utf-8", "replace"))
            return "\n".join(parts)
        except Exception:
            pass
    return raw.decode("utf-8", "replace")


def infix(q, t):
    if not q:
        return 0
    return edlib.align(q, t, mode="HW", task="distance")["editDistance"]


def best_trim(q, t, frac=0.25):
    """Smallest distance per char over cuts of up to `frac` of the words
    from either end (a local alignment that drops junk at the ends)."""
    words = q.split(" ")
    n = len(words)
    best = infix(q, t) / max(1, len(q))
    cut = int(n * frac)
    steps = sorted({0, cut // 2, cut})
    for a in steps:
        for b in steps:
            if a + b == 0 or a + b > cut:
                continue
            s = " ".join(words[a : n - b])
            if len(s) < 40:
                continue
            best = min(best, infix(s, t) / len(s))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="held_out")
    ap.add_argument("--case", default="ocr:cer>15")
    ap.add_argument("--trim", action="store_true")
    ap.add_argument("--negatives", type=int, default=600, help="same-domain negatives used")
    args = ap.parse_args()

    dump = os.path.join(ROOT, "corpus/dump")
    docs = {}
    for d, _, fs in os.walk(dump):
        for f in fs:
            p = os.path.join(d, f)
            docs[os.path.relpath(p, dump)] = norm(doc_text(p))
    sep = " " + "#" * 400 + " "
    names = sorted(docs)

    def others(excl):
        return sep.join(docs[n] for n in names if n not in excl)

    whole = others(set())
    rows = [json.loads(l) for l in open(os.path.join(ROOT, "corpus/queries/ocr.jsonl"))]
    rows = [
        r
        for r in rows
        if r["case"].startswith(args.case) and (args.split == "all" or r["split"] == args.split)
    ]
    negs = [json.loads(l) for l in open(os.path.join(ROOT, "corpus/queries/negatives.jsonl"))]
    negs = [
        r
        for r in negs
        if r["case"] == "negative:same_domain" and (args.split == "all" or r["split"] == args.split)
    ][: args.negatives]

    neg_r = []
    for r in negs:
        q = norm(r["text"])
        if len(q) < 60:
            continue
        d = best_trim(q, whole) if args.trim else infix(q, whole) / len(q)
        neg_r.append((d, len(q)))
    neg_r.sort()
    print(
        f"same-domain negatives ({args.split}, >= 60 chars): {len(neg_r)}; "
        f"closest distance per char {neg_r[0][0]:.3f} (len {neg_r[0][1]}), "
        f"1st/5th percentile {neg_r[len(neg_r)//100][0]:.3f} / {neg_r[len(neg_r)//20][0]:.3f}"
    )

    def floor_at(n):
        """The closest negative of a length near `n` (0.7n to 1.5n)."""
        near = [d for d, m in neg_r if 0.7 * n <= m <= 1.5 * n]
        return (min(near), len(near)) if near else (neg_r[0][0], 0)

    sep_n = 0
    out = []
    for r in rows:
        q = norm(r["text"])
        srcs = {e["source"] for e in r["expect"]}
        missing = srcs - docs.keys()
        if missing:
            sys.exit(f"{r['id']}: its source {sorted(missing)} is not in {dump}")
        true_t = sep.join(docs[s] for s in srcs)
        f = best_trim if args.trim else (lambda a, b: infix(a, b) / max(1, len(a)))
        dt = f(q, true_t)
        do = f(q, others(srcs))
        fl, nn = floor_at(len(q))
        ok = dt < do and dt < fl
        sep_n += ok
        out.append((r["cer"], dt, do, fl, nn, ok, r["id"], len(q)))
    out.sort()
    print(f"{'id':10} {'cer':>5} {'len':>4} {'d_true':>6} {'d_other':>7} {'neg':>6} {'of':>4}  separable")
    for cer, dt, do, fl, nn, ok, i, n in out:
        print(f"{i:10} {cer:5.2f} {n:4} {dt:6.3f} {do:7.3f} {fl:6.3f} {nn:4}  {'yes' if ok else 'no'}")
    bands = [(0.0, 0.05), (0.05, 0.15), (0.15, 0.25), (0.25, 0.40), (0.40, 9.0)]
    for lo, hi in bands:
        b = [o for o in out if lo < o[0] <= hi or (lo == 0.0 and o[0] == 0.0)]
        if not b:
            continue
        closer_elsewhere = sum(1 for o in b if o[1] >= o[2])
        print(
            f"  CER {lo:.2f}-{hi:.2f}: {len(b)} readings, {sum(o[5] for o in b)} separable, "
            f"{closer_elsewhere} as close to another document as to their source or closer; "
            f"d_true {min(o[1] for o in b):.2f}-{max(o[1] for o in b):.2f}, "
            f"d_other {min(o[2] for o in b):.2f}-{max(o[2] for o in b):.2f}, "
            f"neg {min(o[3] for o in b):.2f}-{max(o[3] for o in b):.2f}"
        )
    print(
        f"{args.case} {args.split}: {sep_n} of {len(rows)} separable "
        f"({100*sep_n/max(1,len(rows)):.1f}%): closer to their source than to any "
        f"other document and than every negative of a similar length to the dump"
    )


if __name__ == "__main__":
    sys.exit(main())
