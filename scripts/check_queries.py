#!/usr/bin/env python3
"""Check the ground truth of query JSONL files against a dump, print counts.

For every expected span: it lies inside the file, decodes as UTF-8, and its
normalized text occurs exactly once in the whole dump. For "exact" cases the
normalized span also occurs inside the normalized post. Exits 1 on any error.

Usage: python3 scripts/check_queries.py [--dump corpus/dump] [--no-unique] FILE.jsonl...
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from querylib import normalize  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                   "corpus", "dump"))
    ap.add_argument("--no-unique", action="store_true", help="skip the (slow on big dumps) uniqueness check")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    cache: dict[str, bytes] = {}
    norm_all = None
    if not a.no_unique:
        parts = []
        for r, _, ns in os.walk(a.dump):
            for n in sorted(ns):
                parts.append(normalize(open(os.path.join(r, n), "rb").read().decode("utf-8", "replace")))
        norm_all = "\x00".join(parts)
    errors = 0
    counts: collections.Counter = collections.Counter()
    strict = collections.Counter()
    for fn in a.files:
        for line in open(fn, encoding="utf-8"):
            q = json.loads(line)
            counts[q["case"]] += 1
            if q.get("norm_len", 0) >= 50:
                strict[q["case"]] += 1
            for ex in q["expect"]:
                src = ex["source"]
                if src not in cache:
                    cache[src] = open(os.path.join(a.dump, src), "rb").read()
                s, e = ex["span"]
                data = cache[src]
                if not (0 <= s < e <= len(data)):
                    print(f"{q['id']}: span {s},{e} outside {src}")
                    errors += 1
                    continue
                try:
                    n = normalize(data[s:e].decode("utf-8"))
                except UnicodeDecodeError:
                    print(f"{q['id']}: span not on UTF-8 boundaries")
                    errors += 1
                    continue
                if q["case"] == "exact" and n not in normalize(q["text"]):
                    print(f"{q['id']}: exact quote not in post")
                    errors += 1
                if norm_all is not None:
                    i = norm_all.find(n)
                    if i < 0 or norm_all.find(n, i + 1) >= 0:
                        print(f"{q['id']}: span text not unique in dump")
                        errors += 1
    for c in sorted(counts):
        print(f"{c:28s} {counts[c]:6d}   norm_len>=50: {strict[c]}")
    print(f"errors: {errors}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
