"""Measurements of docs/SCALE.md for shards and S3 storage (issue 16):

- `leakprint compact` against `compact --shards 2` and `--shards 4` of the
  bundled dump's index, with each shard's size and the matcher's memory
  (`leakprint info --json`);
- `leakprint match --threads 1` over the unsharded index and over 4
  shards (user CPU seconds: the machine is shared, wall time is noise);
- the Spark build (local[2], 3 pieces) from a local folder to a local
  folder, and from moto's S3 server on loopback to it.

    python3 scripts/shards_s3_bench.py [--runs 3] [--bin target/release/leakprint]

Needs the Python package, pyspark, boto3 and moto[server] installed.
Prints one JSON object per measurement (medians of --runs runs)."""

import argparse
import json
import os
import pathlib
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
DUMP = REPO / "corpus" / "dump"
# The dump the Spark tests use (no texts shared across files of different bytes).
SPARK_DUMP = [DUMP / d for d in ("docs", "mail/synthetic", "maildir")]
QUERIES = [REPO / "corpus" / "queries" / f"{n}.jsonl" for n in ("exact", "edited", "near_duplicates", "negatives", "ocr")]


def median(xs):
    return statistics.median(xs)


def timed(f):
    t = time.monotonic()
    f()
    return time.monotonic() - t


def child_cpu(cmd):
    """User CPU seconds of one run of `cmd` (and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=str(REPO / "target" / "release" / "leakprint"))
    a = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="lp-shards-bench-"))
    base = tmp / "base.idx"
    subprocess.run([a.bin, "index", str(DUMP), "--output", str(base), "--quiet"], check=True)
    subprocess.run([a.bin, "compact", str(base), "--quiet"], check=True)

    for shards in (1, 2, 4):
        times = []
        for _ in range(a.runs):
            idx = tmp / f"s{shards}.idx"
            shutil.rmtree(idx, ignore_errors=True)
            shutil.copytree(base, idx)
            times.append(timed(lambda: subprocess.run([a.bin, "compact", str(idx), "--shards", str(shards), "--quiet"], check=True)))
        info = json.loads(subprocess.run([a.bin, "info", str(idx), "--json"], check=True, capture_output=True).stdout)
        print(
            json.dumps(
                {
                    "what": f"leakprint compact --shards {shards}",
                    "median_s": median(times),
                    "runs": times,
                    "text_bytes": info["totals"]["text_bytes"],
                    "index_bytes": info["totals"]["index_bytes"],
                    "shards": [{k: s[k] for k in ("bytes", "postings", "lookup_bytes", "table_bytes", "text_bytes")} for s in info["shards"]],
                    "matcher_memory": info["matcher_memory"],
                }
            )
        )

    # Ten copies of the bundled posts, ids made distinct.
    posts = tmp / "posts.jsonl"
    with open(posts, "w") as out:
        for rep in range(10):
            for q in QUERIES:
                for line in q.read_text().splitlines():
                    d = json.loads(line)
                    d["id"] = f"{rep}-{d['id']}"
                    out.write(json.dumps(d) + "\n")
    n_posts = sum(1 for _ in open(posts))
    for shards in (1, 4):
        idx = tmp / f"s{shards}.idx"
        cpu = [child_cpu([a.bin, "match", "--threads", "1", "--index", str(idx), str(posts)]) for _ in range(a.runs)]
        print(json.dumps({"what": f"leakprint match --threads 1, {shards} shard(s)", "posts": n_posts, "median_user_s": median(cpu), "runs": cpu}))

    spark_bench(a, tmp)


def spark_bench(a, tmp):
    import boto3
    from pyspark.sql import SparkSession

    from leakprint import spark as lps

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(k, v)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    spark = None
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="leaks")
        dump_bytes = 0
        t_upload = time.monotonic()
        for d in SPARK_DUMP:
            for f in sorted(d.rglob("*")):
                if f.is_file():
                    dump_bytes += f.stat().st_size
                    s3.upload_file(str(f), "leaks", f"dump/{f.relative_to(DUMP).as_posix()}")
        t_upload = time.monotonic() - t_upload
        spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate()
        lps.build(spark, SPARK_DUMP, tmp / "warm.idx", partitions=3)  # JVM and workers warm
        for name, src, dst in (
            ("local -> local", SPARK_DUMP, lambda i: tmp / f"l{i}.idx"),
            ("s3 -> s3 (moto, loopback)", "s3://leaks/dump", lambda i: f"s3://leaks/idx{i}"),
        ):
            runs = []
            for i in range(a.runs):
                summary = lps.build(spark, src, dst(i), partitions=3, s3_endpoint=endpoint)
                runs.append({k: summary[k] for k in ("seconds", "seconds_pieces", "seconds_reduce", "seconds_commit")})
            print(
                json.dumps(
                    {
                        "what": f"Spark build local[2], 3 pieces, {name}",
                        "bytes": dump_bytes,
                        "median_s": median([r["seconds"] for r in runs]),
                        "median_pieces_s": median([r["seconds_pieces"] for r in runs]),
                        "median_commit_s": median([r["seconds_commit"] for r in runs]),
                        "runs": runs,
                    }
                )
            )
        fetch = [timed(lambda: lps._storage.fetch_index("s3://leaks/idx0", cache=tempfile.mkdtemp(dir=tmp), endpoint_url=endpoint)) for _ in range(a.runs)]
        print(json.dumps({"what": "fetch_index of the S3 index (moto, loopback)", "median_s": median(fetch), "runs": fetch, "upload_dump_s": t_upload}))
    finally:
        if spark is not None:
            spark.stop()
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
