#!/usr/bin/env python3
"""What an edit costs: each edited quote against its own unedited passage.

    python3 scripts/edit_cost.py --index IDX --queries corpus/ml/queries_fresh \\
        [--bin target/release/leakprint] [--split fresh]

Issue 10 asks that look-alike, zero-width, full-width and stripped-accent
edits be found >= 99% of the time. An edit of a quote too short to match
unedited (under min_len) is lost for its length, not for the edit, so the
quality tables gate edits of quotes with >= 50 Latin-equivalent of content.
This script measures the other reading, with no length cut: of the edited
quotes whose *unedited* passage is found in its right file, the share whose
edited form is found in that file too. Both forms go through the real binary
(`leakprint match --format jsonl`) in one run each.

Prints one row per script family and edit kind, and every edited quote
lost although its passage is found.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys

EDITS = ("lookalike", "zero_width", "fullwidth", "stripped_accents")


def run(binary: str, index: str, posts: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Sources matched per post id."""
    data = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in posts)
    out = subprocess.run(
        [binary, "match", "--index", index, "--format", "jsonl", "-"],
        input=data.encode(), capture_output=True, check=False,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"leakprint match failed ({out.returncode}): {out.stderr.decode()[-2000:]}")
    found: dict[str, set[str]] = collections.defaultdict(set)
    for line in out.stdout.decode().splitlines():
        m = json.loads(line)
        if "source" in m:
            found[str(m["query"])].add(m["source"])
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--queries", required=True, help="a folder with positives.jsonl")
    ap.add_argument("--dump", default="corpus/ml/dump", help="the dump the spans of .txt sources refer to")
    ap.add_argument("--bin", default="target/release/leakprint")
    ap.add_argument("--split", default=None, help="only rows of this split")
    args = ap.parse_args()
    rows = []
    with open(os.path.join(args.queries, "positives.jsonl"), encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            if q.get("case") not in EDITS or not q.get("expect"):
                continue
            if args.split and q.get("split") != args.split:
                continue
            rows.append(q)
    edited = run(args.bin, args.index, [(q["id"], q["text"]) for q in rows])

    def passage(q: dict) -> str:
        e = q["expect"][0]
        if "passage" in e:
            return e["passage"]
        # .txt sources: byte offsets of the file itself.
        with open(os.path.join(args.dump, e["source"]), "rb") as f:
            return f.read()[e["span"][0]:e["span"][1]].decode("utf-8")

    plain = run(args.bin, args.index, [(q["id"], passage(q)) for q in rows])

    def right(found: dict[str, set[str]], q: dict) -> bool:
        want = q["expect"][0]["source"]
        return any(s == want or s.endswith("/" + want) for s in found.get(q["id"], ()))

    table: dict[tuple[str, str], list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    lost = []
    for q in rows:
        key = (q["script"], q["case"])
        t = table[key]
        t[0] += 1
        if right(plain, q):
            t[1] += 1
            if right(edited, q):
                t[2] += 1
            else:
                lost.append(q)
    print("| family | edit | quotes | unedited found | edited found of those | share |")
    print("|---|---|---|---|---|---|")
    totals = collections.defaultdict(lambda: [0, 0, 0])
    for (family, case), (n, p, e) in sorted(table.items()):
        share = f"{100.0 * e / p:.2f}%" if p else "-"
        print(f"| {family} | {case} | {n} | {p} | {e} | {share} |")
        for i, v in enumerate((n, p, e)):
            totals[family][i] += v
    for family, (n, p, e) in sorted(totals.items()):
        share = f"{100.0 * e / p:.2f}%" if p else "-"
        print(f"| {family} | all edits | {n} | {p} | {e} | **{share}** |")
    for q in lost:
        print(f"lost: {q['id']} ({q['lang']}, {q.get('latin_equiv')} latin-equivalent): {q['text']!r}")


if __name__ == "__main__":
    main()
