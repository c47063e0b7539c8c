#!/usr/bin/env python3
"""The committed tuning / held-out split of every query set (issue 11.1).

Rule: within each stratum (the query's `case`, and its `lang` when it has
one), queries are ordered by SHA-256 of "<seed>:<id>"; the first half
(rounded up) is `"split": "tune"`, the rest `"split": "held_out"`. The split
depends only on the seed and the ids, so regenerating a set with the same
seed gives the same halves, and a query never changes half when others are
added to its stratum... except through the rounding of its stratum's size.

Defaults are chosen on the tuning half only; CI gates the held-out half at the
targets (corpus/README.md).

Usage (adds or rewrites the field in place, keeps every other byte of each row):
  python3 scripts/split_queries.py [--seed 5] corpus/queries/*.jsonl
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json

SPLIT_SEED = 5


def assign_split(rows: list[dict], seed: int = SPLIT_SEED) -> None:
    strata: dict[tuple, list[dict]] = collections.defaultdict(list)
    for r in rows:
        strata[(r["case"], r.get("lang", ""))].append(r)
    for group in strata.values():
        group.sort(key=lambda r: hashlib.sha256(f"{seed}:{r['id']}".encode()).hexdigest())
        half = (len(group) + 1) // 2
        for i, r in enumerate(group):
            r["split"] = "tune" if i < half else "held_out"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=SPLIT_SEED)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    for fn in a.files:
        rows = [json.loads(line) for line in open(fn, encoding="utf-8") if line.strip()]
        assign_split(rows, a.seed)
        with open(fn, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        c = collections.Counter(r["split"] for r in rows)
        print(f"{fn}: {dict(c)}")


if __name__ == "__main__":
    main()
