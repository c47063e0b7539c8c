#!/usr/bin/env python3
"""Per-post latency of the matcher under an offered load (issue 13).

    scripts/latency_load.py --index IDX --posts POSTS.jsonl [--threads 1 2]
        [--runs 3] [--fractions 0.5 0.9] [--bin target/release/examples/throughput]

For each thread count: the maximum rate is measured first (examples/throughput
as fast as possible, one pass, median of --runs), then each fraction of it is
offered open loop (`--rate`: post i is due at start + i / rate, and its
latency counts from then, queueing included). Prints a Markdown table of the
medians over --runs of p50, p99 and p999 per post. Every run is a first pass
over distinct posts (`--repeat 1`), in a fresh process.

The posts are shuffled first (seeded, --seed): a file grouped by topic or
length (the Debian fortunes come by category, 71 to 328 bytes on average
per 500 posts) would otherwise offer stretches of heavier posts at the same
rate, and what the table measures is the matcher under a mixed stream.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile


def run(binary, index, posts, threads, rate):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [binary, "--index", index, "--posts", posts, "--threads", str(threads),
               "--repeat", "1", "--json", out.name]
        if rate:
            cmd += ["--rate", f"{rate:.1f}"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out.name) as f:
            return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", required=True)
    ap.add_argument("--posts", required=True)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.5, 0.9])
    ap.add_argument("--bin", default="target/release/examples/throughput")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with open(a.posts) as f:
        lines = [l for l in f if l.strip()]
    random.Random(a.seed).shuffle(lines)
    shuffled = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    shuffled.writelines(lines)
    shuffled.close()
    try:
        table(a, shuffled.name)
    finally:
        os.unlink(shuffled.name)


def table(a, posts):
    print("| threads | offered | posts/s offered | posts/s done | p50 µs | p99 µs | p999 µs | runs (p99 µs) |")
    print("|---|---|---|---|---|---|---|---|")
    for t in a.threads:
        full = [run(a.bin, a.index, posts, t, 0) for _ in range(a.runs)]
        top = statistics.median(r["posts_per_second"] for r in full)
        rows = [("maximum", 0, full)]
        for f in a.fractions:
            rows.append((f"{f:.0%} of maximum", f * top,
                         [run(a.bin, a.index, posts, t, f * top) for _ in range(a.runs)]))
        for label, rate, rs in rows:
            med = lambda k: statistics.median(r["latency_us"][k] for r in rs)
            done = statistics.median(r["posts_per_second"] for r in rs)
            p99s = ", ".join("%.1f" % r["latency_us"]["p99"] for r in rs)
            print(f"| {t} | {label} | {rate or top:,.0f} | {done:,.0f} | {med('p50'):.1f} | "
                  f"{med('p99'):.1f} | {med('p999'):.1f} | {p99s} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
