#!/usr/bin/env python3
"""Posts/s of ``Matcher.find_many`` against the Rust library on one index.

    python3 -P python/bench_find_many.py --index IDX --posts posts.jsonl [--threads 2] [--repeat 5]

Loads the ``text`` of every JSONL line, then times ``find_many`` over all of
them (results consumed, Match objects built) ``--repeat`` times and reports
the median posts/s. With ``--rust`` (the path of a built
``examples/throughput``) it runs the library on the same posts and threads
(``--repeat`` passes, posts/s wall) in the same invocation and prints the
ratio. Both touch the index once before timing (warm page cache).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

import leakprint


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", required=True)
    ap.add_argument("--posts", required=True, nargs="+")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rust", help="path of target/release/examples/throughput")
    a = ap.parse_args()
    posts = []
    for p in a.posts:
        with open(p, encoding="utf-8") as f:
            posts += [json.loads(line)["text"] for line in f if line.strip()]
    matcher = leakprint.Matcher(leakprint.Index.open(a.index), threads=a.threads)
    sum(len(r) for r in matcher.find_many(posts))  # warm-up
    rates, found = [], 0
    for _ in range(a.repeat):
        t = time.perf_counter()
        found = sum(len(r) for r in matcher.find_many(posts))
        rates.append(len(posts) / (time.perf_counter() - t))
    py = statistics.median(rates)
    out = {"posts": len(posts), "threads": a.threads, "matches": found,
           "python_posts_per_second": round(py), "python_runs": [round(r) for r in rates]}
    if a.rust:
        runs = []
        for _ in range(a.repeat):
            with tempfile.NamedTemporaryFile(suffix=".json") as j:
                posts_args = [x for p in a.posts for x in ("--posts", p)]
                subprocess.run([a.rust, "--index", a.index, *posts_args,
                                "--threads", str(a.threads), "--repeat", "1", "--json", j.name],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                runs.append(json.load(open(j.name))["posts_per_second"])
        rust = statistics.median(runs)
        out.update({"rust_posts_per_second": round(rust), "rust_runs": [round(r) for r in runs],
                    "python_over_rust": round(py / rust, 3)})
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
