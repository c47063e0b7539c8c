"""``python3 -m leakprint.spark build|match``: the Spark jobs from the command
line. Starts a SparkSession (``--master``, default ``local[*]``, or what
``spark-submit`` set), runs the job and prints a JSON summary on stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m leakprint.spark", description=__doc__)
    p.add_argument("--master", default=None, help="Spark master (default: local[*] unless spark-submit set one)")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="index a dump with a Spark job")
    b.add_argument("--input", required=True, action="append", help="a file or folder to index (repeatable)")
    b.add_argument("--output", required=True, help="the index folder to write (shared by all executors)")
    b.add_argument("--partitions", type=int, default=None, help="pieces (default: Spark's default parallelism)")
    b.add_argument("--memory", type=int, default=None, help="memory budget of one task, bytes")
    b.add_argument("--threads", type=int, default=1, help="threads of one task (default 1)")
    b.add_argument("--shards", type=int, default=None, help="cut the index into N shards by key (a power of two)")
    m = sub.add_parser("match", help="match posts against an index with a Spark job")
    for sp in (b, m):
        sp.add_argument(
            "--s3-endpoint",
            default=None,
            help="endpoint of an S3-compatible store for s3:// inputs and outputs (default: LEAKPRINT_S3_ENDPOINT, AWS_ENDPOINT_URL_S3 or AWS)",
        )
    m.add_argument("--index", required=True, help="the index folder (readable by all executors)")
    m.add_argument("--input", required=True, help="posts: JSON lines (id, text), Parquet or plain lines")
    m.add_argument("--output", required=True, help="the folder to write the matches to (replaced)")
    m.add_argument("--format", choices=["jsonl", "parquet", "lines"], default=None, help="posts format (default: by name)")
    m.add_argument("--output-format", choices=["json", "parquet"], default="json")
    m.add_argument("--min-len", type=int, default=None)
    m.add_argument("--min-similarity", type=float, default=None)
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    # The Python workers run this interpreter (the one with leakprint
    # installed) unless spark-submit or the environment says otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    import leakprint
    from leakprint import spark as lps

    builder = SparkSession.builder.appName(f"leakprint {args.command}")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    try:
        if args.command == "build":
            summary = lps.build(
                spark,
                args.input,
                args.output,
                args.partitions,
                memory=args.memory,
                threads=args.threads,
                shards=args.shards,
                s3_endpoint=args.s3_endpoint,
            )
            summary.pop("skipped", None)
            print(json.dumps(summary))
            return 0
        started = time.monotonic()
        config = {}
        if args.min_len is not None:
            config["min_len"] = args.min_len
        if args.min_similarity is not None:
            config["min_similarity"] = args.min_similarity
        if args.s3_endpoint:
            config["s3_endpoint"] = args.s3_endpoint
        lps.match(spark, args.index, args.input, args.output, format=args.format, output_format=args.output_format, **config)
        written = spark.read.json(args.output) if args.output_format == "json" else spark.read.parquet(args.output)
        n = written.count()
        print(json.dumps({"matches": n, "output": args.output, "seconds": time.monotonic() - started}))
        return 0 if n > 0 else 1
    except leakprint.LeakprintError as e:
        print(f"leakprint.spark: error: {e}", file=sys.stderr)
        return 2
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
