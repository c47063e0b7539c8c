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
