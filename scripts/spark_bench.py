"""Measurements of docs/SCALE.md: the Spark build in local[1] and local[2]
against `leakprint index`, the key counts shuffled, and batch matching.

    python3 scripts/spark_bench.py [--runs 3] [--bin target/release/leakprint]

Prints one JSON object per measurement (medians of --runs runs, wall time,
JVM start excluded)."""

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
DUMP = REPO / "corpus" / "dump"
POSTS = [REPO / "corpus" / "queries" / f"{n}.jsonl" for n in ("exact", "edited", "near_duplicates", "negatives")]


def median_time(f, runs):
    times = []
    for _ in range(runs):
        t = time.monotonic()
        f()
        times.append(time.monotonic() - t)
    return statistics.median(times), times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=str(REPO / "target" / "release" / "leakprint"))
    a = ap.parse_args()
    from pyspark.sql import SparkSession

    import leakprint
    from leakprint import spark as lps

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="lp-spark-bench-"))
    dump_bytes = sum(p.stat().st_size for p in DUMP.rglob("*") if p.is_file())
    out = tmp / "one.idx"

    def one():
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run([a.bin, "index", str(DUMP), "--output", str(out), "--quiet", "--threads", "2"], check=True)

    m, ts = median_time(one, a.runs)
    print(json.dumps({"what": "leakprint index, 2 threads", "bytes": dump_bytes, "median_s": m, "runs": ts}))
    for master, parts in (("local[1]", 2), ("local[2]", 2), ("local[2]", 4)):
        spark = (
            SparkSession.builder.master(master)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate()
        )
        idx = tmp / "spark.idx"
        summaries = []

        def build():
            shutil.rmtree(idx, ignore_errors=True)
            summaries.append(lps.build(spark, DUMP, idx, partitions=parts))

        lps.build(spark, DUMP, tmp / "warm.idx", partitions=parts)  # warm the Python workers
        m, ts = median_time(build, a.runs)
        s = summaries[-1]
        print(json.dumps({
            "what": f"spark build {master}, {parts} pieces",
            "bytes": dump_bytes,
            "median_s": m,
            "runs": ts,
            "pieces_s": s["seconds_pieces"],
            "reduce_s": s["seconds_reduce"],
        }))
        if master == "local[2]" and parts == 2:
            # Key-count records a build emits (what the reduce shuffles).
            gen = leakprint.begin_pieces(tmp / "kc.idx")
            plan = lps.plan(DUMP, parts)
            lps.build_pieces(spark, str(tmp / "kc.idx"), gen, plan)
            recs = sum(len(leakprint.KeyCounts(tmp / "kc.idx" / leakprint.piece_keys_name(gen, i + 1))) for i in range(len(plan)))
            lpk = sum((tmp / "kc.idx" / leakprint.piece_keys_name(gen, i + 1)).stat().st_size for i in range(len(plan)))
            print(json.dumps({"what": "key counts of the pieces", "records": recs, "lpk_bytes": lpk, "input_bytes": dump_bytes,
                              "records_per_mb": recs / (dump_bytes / 1e6)}))
            posts = spark.read.json([str(p) for p in POSTS]).select("id", "text").cache()
            n_posts = posts.count()
            rows = []

            def match():
                rows.append(lps.match_dataframe(posts, idx).count())

            match()  # warm: the matchers open the index
            m, ts = median_time(match, a.runs)
            print(json.dumps({"what": "spark match local[2]", "posts": n_posts, "matches": rows[-1], "median_s": m,
                              "posts_per_s": n_posts / m, "runs": ts}))

            def cli_match():
                subprocess.run([a.bin, "match", "--format", "jsonl", "--index", str(idx), *map(str, POSTS)],
                               stdout=subprocess.DEVNULL, check=False)

            m, ts = median_time(cli_match, a.runs)
            print(json.dumps({"what": "leakprint match (CLI)", "posts": n_posts, "median_s": m, "posts_per_s": n_posts / m, "runs": ts}))
        spark.stop()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
