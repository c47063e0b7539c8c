"""leakprint.spark in Spark's local mode, against the command line.

One SparkSession for the module (``local[2,3]``: two cores, a failed task
tried up to three times). Fixture: most of the bundled dump ``corpus/dump`` (speeches, synthetic
mail with boilerplate, a maildir) and the bundled posts ``corpus/queries``. The command-line binary is
``$LEAKPRINT_BIN``, else ``target/release/leakprint``, else
``target/debug/leakprint``.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

if os.environ.get("CI"):
    import pyspark  # noqa: F401  (CI installs it: fail, never skip)
else:
    pytest.importorskip("pyspark")

import leakprint
from leakprint import spark as lps

# Credentials for moto's S3 server (the S3 tests), set before the Spark
# session starts: its Python workers inherit the environment of that moment.
for _k, _v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ.setdefault(_k, _v)

REPO = pathlib.Path(__file__).resolve().parents[2]
# The bundled dump without its folders of test mail whose files share texts
# (pieces deduplicate text inside a piece only; docs/SCALE.md): 4.7 MB, 461
# files, the synthetic mail bringing boilerplate.
DUMP = [REPO / "corpus" / "dump" / d for d in ("docs", "mail/synthetic", "maildir")]
QUERIES = [REPO / "corpus" / "queries" / f"{n}.jsonl" for n in ("exact", "edited")]


def binary():
    env = os.environ.get("LEAKPRINT_BIN")
    if env:
        return env
    for p in (REPO / "target" / "release" / "leakprint", REPO / "target" / "debug" / "leakprint"):
        if p.exists():
            return str(p)
    pytest.skip("no leakprint binary (set LEAKPRINT_BIN or cargo build)")


def cli(*args, ok=(0,)):
    out = subprocess.run([binary(), *map(str, args)], capture_output=True, text=True)
    assert out.returncode in ok, out.stderr
    return out.stdout


def cli_matches(index, queries, fmt="jsonl"):
    """`leakprint match` over the query files: the JSON lines, parsed."""
    out = cli("match", "--format", fmt, "--index", index, *queries, ok=(0, 1))
    return [json.loads(line) for line in out.splitlines()]


def key(m):
    """What makes two matches the same, in both outputs."""
    also = m.get("also") or []
    return (
        str(m["query"]),
        m["source"],
        tuple(m["query_span"]),
        tuple(m["source_span"]),
        round(m["score"], 4),
        round(m["similarity"], 4),
        m["aligned_len"],
        m["snippet"],
        tuple(sorted(also)),
    )


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2,3]")
        .appName("leakprint-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "768m")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def indexes(spark, tmp_path_factory):
    """The dump indexed three ways: `leakprint index`; the Spark build with
    every task failing once after writing its piece (so every piece is
    written twice, by two attempts); the Spark build without failures."""
    d = tmp_path_factory.mktemp("spark")
    one = d / "one.idx"
    cli("index", *DUMP, "--output", one, "--quiet")
    failing = d / "failing.idx"
    markers = d / "markers"
    markers.mkdir()
    summary = lps.build(spark, DUMP, failing, partitions=3, _fail_once=str(markers))
    clean = d / "clean.idx"
    lps.build(spark, DUMP, clean, partitions=3)
    return {"one": one, "failing": failing, "clean": clean, "summary": summary, "markers": markers}


def test_spark_build_opens_like_any_index(indexes):
    idx = indexes["failing"]
    cli("verify", idx)
    info = json.loads(cli("info", idx, "--json"))
    one = json.loads(cli("info", indexes["one"], "--json"))
    assert info["totals"]["segments"] == 3
    for field in ("files", "parts", "postings", "common", "text_bytes", "chunks"):
        assert info["totals"][field] == one["totals"][field], field
    assert info["totals"]["common"] > 0, "the dump has boilerplate"
    assert indexes["summary"]["pieces"] == 3
    # Every piece's first attempt failed after writing it: three retries.
    assert sorted(os.listdir(indexes["markers"])) == ["piece-1", "piece-2", "piece-3"]
    # Nothing but the manifest, the state and the segments is left.
    names = sorted(os.listdir(idx))
    assert [n for n in names if not (n.endswith(".lps") or n.endswith(".lpst"))] == ["manifest.json"], names


def test_spark_build_matches_like_one_build(indexes):
    one = cli_matches(indexes["one"], QUERIES)
    split = cli_matches(indexes["failing"], QUERIES)
    assert len(one) > 400
    a, b = sorted(map(key, one)), sorted(map(key, split))
    assert a == b, (set(a) - set(b), set(b) - set(a))


def test_a_retried_piece_leaves_the_same_index(indexes):
    def files(idx):
        return {n: (idx / n).read_bytes() for n in sorted(os.listdir(idx))}

    assert files(indexes["failing"]) == files(indexes["clean"])


def test_a_piece_run_twice_by_hand_leaves_the_same_index(spark, indexes, tmp_path):
    out = tmp_path / "twice.idx"
    pieces = lps.plan(DUMP, 3)
    generation = leakprint.begin_pieces(out)
    numbers = [1, 2, 3]
    lps.build_pieces(spark, str(out), generation, pieces, numbers)
    assert not (out / "manifest.json").exists(), "visible before the commit"
    # Piece 2 again, as a speculative duplicate would.
    lps.build_pieces(spark, str(out), generation, [pieces[1]], [2])
    keys, docs = lps.reduce_key_counts(spark, str(out), generation, numbers, leakprint.DEFAULT_COMMON_MIN_DOCS)
    leakprint.commit_pieces(str(out), generation, numbers, keys.tobytes(), docs.tobytes())
    for name in os.listdir(indexes["clean"]):
        assert (out / name).read_bytes() == (indexes["clean"] / name).read_bytes(), name


def test_batch_match_equals_the_command_line(spark, indexes, tmp_path):
    idx = indexes["clean"]
    expected = sorted(map(key, cli_matches(idx, QUERIES)))
    posts = spark.read.json([str(q) for q in QUERIES])
    got = lps.match_dataframe(posts, idx).collect()
    assert sorted(key(r.asDict()) for r in got) == expected
    # The command: JSON lines in, JSON lines out.
    out = tmp_path / "matches"
    lps.match(spark, idx, QUERIES[0], out)
    written = [json.loads(line) for f in sorted(out.glob("part-*.json")) for line in f.read_text().splitlines()]
    assert sorted(map(key, written)) == sorted(map(key, cli_matches(idx, QUERIES[:1])))


def test_batch_match_reads_parquet_and_lines_and_user_columns(spark, indexes, tmp_path):
    idx = indexes["clean"]
    posts = spark.read.json(str(QUERIES[0])).select("id", "text")
    parquet = tmp_path / "posts.parquet"
    posts.write.parquet(str(parquet))
    from_parquet = sorted(key(r.asDict()) for r in lps.match(spark, idx, parquet).collect())
    assert from_parquet == sorted(map(key, cli_matches(idx, QUERIES[:1])))
    # A user's DataFrame with other column names.
    renamed = posts.withColumnRenamed("id", "post_id").withColumnRenamed("text", "body")
    mine = lps.match_dataframe(renamed, idx, id_column="post_id", text_column="body").collect()
    assert sorted(key(r.asDict()) for r in mine) == from_parquet
    # Plain lines: one post a line, id = line number.
    texts = [json.loads(line)["text"].replace("\n", " ") for line in QUERIES[0].read_text().splitlines()[:40]]
    lines = tmp_path / "posts.txt"
    lines.write_text("\n".join(texts) + "\n")
    got = sorted(key(r.asDict()) for r in lps.match(spark, idx, lines).collect())
    want = sorted(map(key, cli_matches(idx, [lines], fmt="lines")))
    assert got == want and got


def test_plan_keeps_same_size_files_together_and_balances(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    sizes = [100, 100, 100, 5000, 4000, 3000, 2000, 50, 50]
    for i, s in enumerate(sizes):
        (d / f"f{i}.txt").write_bytes(bytes([97 + i]) * s)
    pieces = lps.plan(d, 3)
    assert len(pieces) == 3
    by_size = {}
    for n, piece in enumerate(pieces):
        displays = [e[1] for e in piece]
        assert displays == sorted(displays), "walk order inside a piece"
        for path, display, reason in piece:
            assert reason is None and os.path.isabs(path)
            by_size.setdefault(os.path.getsize(path), set()).add(n)
    assert all(len(v) == 1 for v in by_size.values()), by_size
    loads = sorted(sum(os.path.getsize(e[0]) for e in p) for p in pieces)
    assert loads == [4400, 5000, 5000]


def test_the_commands_of_the_readme(tmp_path):
    """`python3 -m leakprint.spark build` and `match` (their own Spark
    session, local mode), on the speeches."""
    idx = tmp_path / "cli.idx"
    docs = REPO / "corpus" / "dump" / "docs"
    run = [sys.executable, "-m", "leakprint.spark", "--master", "local[2]"]
    out = subprocess.run([*run, "build", "--input", docs, "--output", idx, "--partitions", "2"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout.splitlines()[-1])
    assert summary["pieces"] == 2 and summary["files"] == 120
    cli("verify", idx)
    matches = tmp_path / "matches"
    out = subprocess.run([*run, "match", "--index", idx, "--input", QUERIES[0], "--output", matches], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    written = [json.loads(line) for f in sorted(matches.glob("part-*.json")) for line in f.read_text().splitlines()]
    assert sorted(map(key, written)) == sorted(map(key, cli_matches(idx, QUERIES[:1])))


# --- Shards by key (issue 16, item 2) ---------------------------------------


def test_spark_build_with_shards_matches_like_one_build(spark, indexes, tmp_path):
    idx = tmp_path / "sharded.idx"
    summary = lps.build(spark, DUMP, idx, partitions=3, shards=4)
    assert summary["shards"] == 4
    cli("verify", idx)
    info = json.loads(cli("info", idx, "--json"))
    assert len(info["shards"]) == 4
    assert sum(s["postings"] for s in info["shards"]) == info["totals"]["postings"]
    assert info["matcher_memory"]["per_shard"] < info["matcher_memory"]["whole"]
    one = sorted(map(key, cli_matches(indexes["one"], QUERIES)))
    assert sorted(map(key, cli_matches(idx, QUERIES))) == one
    # The Python matcher (one per worker) over the shards.
    posts = spark.read.json([str(q) for q in QUERIES])
    assert sorted(key(r.asDict()) for r in lps.match_dataframe(posts, idx).collect()) == one
    # A shard alone is refused with the way out.
    with pytest.raises(leakprint.ConfigError, match="shard 1 of 4"):
        leakprint.Index.open(idx / info["shards"][1]["folder"].rsplit("/", 1)[-1])


# --- S3-compatible storage (issue 16, item 4), moto's server on loopback ------


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """moto's S3 server on a free loopback port, with the dump uploaded
    under s3://leaks/dump/; yields (endpoint, boto3 client)."""
    if os.environ.get("CI"):
        import boto3
        import moto  # noqa: F401  (CI installs them: fail, never skip)
    else:
        boto3 = pytest.importorskip("boto3")
        pytest.importorskip("moto")
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
            os.environ.setdefault(k, v)
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket="leaks")
        root = REPO / "corpus" / "dump"
        for d in DUMP:
            for f in sorted(d.rglob("*")):
                if f.is_file():
                    client.upload_file(str(f), "leaks", f"dump/{f.relative_to(root).as_posix()}")
        yield endpoint, client
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def s3_keys(client, prefix):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket="leaks", Prefix=prefix)
    return sorted(o["Key"][len(prefix) :] for p in pages for o in p.get("Contents", []))


def local_source(m):
    """A match on the index of s3://leaks/dump as it reads on the local build."""
    local = str(REPO / "corpus" / "dump") + "/"
    m = dict(m)
    m["source"] = m["source"].replace("s3://leaks/dump/", local)
    m["also"] = [a.replace("s3://leaks/dump/", local) for a in (m.get("also") or [])]
    return m


def test_build_from_and_to_s3_matches_like_one_build(spark, indexes, s3, tmp_path):
    endpoint, client = s3
    summary = lps.build(spark, "s3://leaks/dump", "s3://leaks/idx", partitions=3, s3_endpoint=endpoint)
    assert summary["pieces"] == 3 and summary["files"] == 461
    keys = s3_keys(client, "idx/")
    # Segments, the state and the manifest (put last); no key counts left.
    assert keys == ["manifest.json", *[f"seg-000001-00{i}.lps" for i in (1, 2, 3)], "state-000001.lpst"], keys
    local = lps._storage.fetch_index("s3://leaks/idx", cache=str(tmp_path / "cache"), endpoint_url=endpoint)
    cli("verify", local)
    one = sorted(map(key, cli_matches(indexes["one"], QUERIES)))
    got = cli_matches(local, QUERIES)
    assert all(m["source"].startswith("s3://leaks/dump/") for m in got)
    assert sorted(key(local_source(m)) for m in got) == one
    # Batch matching straight from the bucket (each worker fetches the index).
    posts = spark.read.json([str(q) for q in QUERIES])
    rows = lps.match_dataframe(posts, "s3://leaks/idx", s3_endpoint=endpoint).collect()
    assert sorted(key(local_source(r.asDict())) for r in rows) == one

    # A second build into the same prefix, cut into two shards: a new
    # generation; the old segments are deleted after the new manifest.
    lps.build(spark, "s3://leaks/dump", "s3://leaks/idx", partitions=2, shards=2, s3_endpoint=endpoint)
    keys = s3_keys(client, "idx/")
    assert not [k for k in keys if k.startswith("seg-") or k.endswith(".lpk")], keys
    manifest = json.loads(client.get_object(Bucket="leaks", Key="idx/manifest.json")["Body"].read())
    assert manifest["generation"] == 3 and len(manifest["shards"]) == 2
    local = lps._storage.fetch_index("s3://leaks/idx", cache=str(tmp_path / "cache"), endpoint_url=endpoint)
    assert sorted(key(local_source(m)) for m in cli_matches(local, QUERIES)) == one


def test_s3_listing_and_plan(s3):
    endpoint, _ = s3
    objects = lps._storage.list_objects("s3://leaks/dump/maildir", endpoint)
    assert objects and all(uri.startswith("s3://leaks/dump/maildir/") for uri, _ in objects)
    pieces = lps.plan_objects(objects, 3)
    assert sorted(e[0] for p in pieces for e in p) == [uri for uri, _ in objects]
    sizes = {}
    for n, p in enumerate(pieces):
        for uri, display, reason in p:
            assert display == uri.encode() and reason is None
            sizes.setdefault(dict(objects)[uri], set()).add(n)
    assert all(len(v) == 1 for v in sizes.values()), "objects of one size meet in one piece"
    with pytest.raises(FileNotFoundError):
        lps._storage.list_objects("s3://leaks/no-such-prefix", endpoint)
