"""The distributed build: plan on the driver, one piece per task, a reduce
of the key counts, one commit on the driver.

See ``leakprint.spark`` for the protocol and why retries are safe.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import leakprint

from . import _storage as storage
#: Records read from a key-count file per pandas batch of the reduce.
KEY_BATCH = 1 << 20

Entry = Tuple[Optional[str], bytes, Optional[str]]


def _absolute(plan: List[List[Entry]]) -> List[List[Entry]]:
    """The plan with every path absolute (the executors' working folder is
    not the driver's); the recorded display paths stay as walked."""
    return [
        [(os.path.abspath(p) if p is not None else None, d, r) for (p, d, r) in piece]
        for piece in plan
    ]


def plan(inputs: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]], pieces: int) -> List[List[Entry]]:
    """Walk ``inputs`` on the driver and cut the files into at most
    ``pieces`` lists of about the same number of bytes (files of one size
    together). Paths are made absolute; the paths the index records are
    those ``leakprint index INPUTS`` records."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    return _absolute(leakprint.plan_pieces([os.fspath(p) for p in inputs], pieces))


def plan_objects(objects: List[Tuple[str, int]], pieces: int) -> List[List[Entry]]:
    """Cut listed objects ((URI, size), in key order) into at most
    ``pieces`` pieces as ``leakprint.plan_pieces`` cuts files: objects of
    one size together (byte-identical objects meet in one piece), groups
    of most bytes first, each into the piece with the fewest bytes, key
    order inside a piece. Each entry records the object by its URI."""
    groups: Dict[int, List[int]] = {}
    for i, (_, size) in enumerate(objects):
        groups.setdefault(size, []).append(i)
    order = sorted(groups.items(), key=lambda g: (-g[0] * len(g[1]), g[1][0]))
    load = [0] * max(1, pieces)
    members: List[List[int]] = [[] for _ in load]
    for size, m in order:
        target = min(range(len(load)), key=lambda i: (load[i], i))
        load[target] += size * len(m)
        members[target].extend(m)
    out = [
        [(objects[i][0], objects[i][0].encode(), None) for i in sorted(m)] for m in members if m
    ]
    return out or [[]]


def _localize(entries: List[Entry], work: str, endpoint: Optional[str]) -> List[Entry]:
    """The entries with every ``s3://`` object downloaded into ``work``
    (under its own name: extraction looks at the extension), recorded by
    its URI."""
    s3 = None
    out = []
    for i, (path, display, reason) in enumerate(entries):
        if path is not None and storage.is_s3(path):
            s3 = s3 or storage.client(endpoint)
            dest = os.path.join(work, "in", str(i), path.rsplit("/", 1)[-1] or "object")
            storage.download(s3, path, dest)
            path = dest
        out.append((path, display, reason))
    return out


def _piece_task(
    output: str,
    generation: int,
    options: Dict[str, Any],
    fail_once: Optional[str],
    endpoint: Optional[str] = None,
):
    """The function each task runs: build its piece (downloading ``s3://``
    inputs first; into local scratch and then uploaded when ``output`` is
    ``s3://``), return its summary."""

    def run(item: Tuple[int, List[Entry]]) -> Tuple[int, Dict[str, Any]]:
        piece, entries = item
        with tempfile.TemporaryDirectory(prefix="leakprint-piece-") as work:
            local = _localize(entries, work, endpoint)
            target = os.path.join(work, "out") if storage.is_s3(output) else output
            os.makedirs(target, exist_ok=True)
            scratch = os.path.join(work, "scratch")
            os.makedirs(scratch, exist_ok=True)
            summary = leakprint.build_piece(local, target, generation, piece, scratch=scratch, **options)
            if storage.is_s3(output):
                # Final names, the same bytes on a retry: a PUT replaces
                # the object whole, so readers never see half a piece.
                names = [
                    leakprint.piece_segment_name(generation, piece),
                    leakprint.piece_keys_name(generation, piece),
                ]
                storage.put_files(storage.client(endpoint), target, output, names)
        if fail_once is not None:
            # Test hook: the first attempt of every piece dies after writing
            # its files, as a lost executor would; Spark runs it again.
            marker = os.path.join(fail_once, f"piece-{piece}")
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                raise RuntimeError(f"simulated failure of piece {piece} after writing it")
        return piece, summary

    return run


def build_pieces(
    spark,
    output: str,
    generation: int,
    pieces: List[List[Entry]],
    numbers: Optional[List[int]] = None,
    options: Optional[Dict[str, Any]] = None,
    fail_once: Optional[str] = None,
    endpoint: Optional[str] = None,
) -> Dict[int, Dict[str, Any]]:
    """Build ``pieces`` (numbered ``numbers``, default 1, 2, ...) as Spark
    tasks, one task per piece; returns each piece's summary by number.
    ``output`` is a shared folder or an ``s3://`` prefix."""
    numbers = numbers or list(range(1, len(pieces) + 1))
    items = list(zip(numbers, pieces))
    rdd = spark.sparkContext.parallelize(items, max(1, len(items)))
    task = _piece_task(output, generation, dict(options or {}), fail_once, endpoint)
    return dict(rdd.map(task).collect())


def _read_counts(output: str, generation: int, endpoint: Optional[str] = None):
    """The mapInPandas function of the reduce: the key counts of the
    pieces in each batch, as (key, docs) frames of at most KEY_BATCH rows.
    Keys are 64-bit patterns carried in Spark's signed longs. From an
    ``s3://`` output the files are downloaded to local scratch first."""

    def frames(path: str) -> Iterator[Any]:
        import numpy as np
        import pandas as pd

        counts = leakprint.KeyCounts(path)
        for start in range(0, len(counts), KEY_BATCH):
            keys, docs = counts.read(start, KEY_BATCH)
            yield pd.DataFrame(
                {
                    "key": np.frombuffer(keys, dtype="<i8"),
                    "docs": np.frombuffer(docs, dtype="<u4").astype("int64"),
                }
            )

    def run(batches: Iterable[Any]) -> Iterator[Any]:
        for batch in batches:
            for piece in batch["piece"]:
                name = leakprint.piece_keys_name(generation, int(piece))
                if not storage.is_s3(output):
                    yield from frames(os.path.join(output, name))
                    continue
                with tempfile.TemporaryDirectory(prefix="leakprint-keys-") as work:
                    local = os.path.join(work, name)
                    storage.download(storage.client(endpoint), f"{output}/{name}", local)
                    yield from frames(local)

    return run


def reduce_key_counts(
    spark, output: str, generation: int, numbers: List[int], min_docs: int, endpoint: Optional[str] = None
):
    """Sum the key counts of the pieces across the cluster; the keys whose
    total reaches ``min_docs`` as two numpy arrays (keys as unsigned
    64-bit, totals as unsigned 32-bit)."""
    import numpy as np
    from pyspark.sql import functions as F

    pieces = spark.createDataFrame([(n,) for n in numbers], "piece int").repartition(
        max(1, len(numbers))
    )
    counts = pieces.mapInPandas(_read_counts(output, generation, endpoint), schema="key long, docs long")
    frequent = (
        counts.groupBy("key")
        .agg(F.sum("docs").alias("docs"))
        .where(F.col("docs") >= min_docs)
        .toPandas()
    )
    keys = frequent["key"].to_numpy(dtype="int64").view("uint64")
    docs = np.minimum(frequent["docs"].to_numpy(dtype="int64"), 2**32 - 1).astype("uint32")
    return keys, docs


def build(
    spark,
    input,
    output,
    partitions: Optional[int] = None,
    *,
    memory: Optional[int] = None,
    threads: int = 1,
    common_min_docs: Optional[int] = None,
    common_fraction: Optional[float] = None,
    shards: Optional[int] = None,
    s3_endpoint: Optional[str] = None,
    _fail_once: Optional[str] = None,
) -> Dict[str, Any]:
    """Index the files and folders ``input`` into the index folder
    ``output`` with a Spark job (see the module documentation). Inputs
    and output may be ``s3://bucket/prefix`` URIs (``_storage``);
    ``shards`` cuts the committed index into that many shards by key
    (``leakprint.compact``)."""
    started = time.monotonic()
    inputs = [input] if isinstance(input, (str, os.PathLike)) else list(input)
    inputs = [i if storage.is_s3(i) else os.fspath(i) for i in inputs]
    on_s3 = [storage.is_s3(i) for i in inputs]
    if any(on_s3) and not all(on_s3):
        raise leakprint.ConfigError("inputs are either all s3:// URIs or all paths")
    endpoint = storage.endpoint(s3_endpoint)
    staging = None
    if storage.is_s3(output):
        output = output.rstrip("/")
        # The driver commits in a local copy of the output's manifest (the
        # generations go on from the index already there), then uploads.
        staging = tempfile.mkdtemp(prefix="leakprint-staging-")
        body = storage.read_manifest(output, endpoint)
        if body is not None:
            with open(os.path.join(staging, storage.MANIFEST), "wb") as f:
                f.write(body)
        local_out = staging
    else:
        output = os.path.abspath(os.fspath(output))
        parent = os.path.dirname(output)
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)
        local_out = output
    sc = spark.sparkContext
    n = partitions or sc.defaultParallelism
    if any(on_s3):
        objects = [o for uri in inputs for o in storage.list_objects(uri, endpoint)]
        pieces = plan_objects(objects, n)
    else:
        pieces = plan(inputs, n)
    generation = leakprint.begin_pieces(local_out)
    options: Dict[str, Any] = {"threads": threads}
    if memory is not None:
        options["memory"] = memory
    if common_min_docs is not None:
        options["common_min_docs"] = common_min_docs
    if common_fraction is not None:
        options["common_fraction"] = common_fraction
    numbers = list(range(1, len(pieces) + 1))
    t0 = time.monotonic()
    summaries = build_pieces(spark, output, generation, pieces, numbers, options, _fail_once, endpoint)
    t1 = time.monotonic()
    min_docs = common_min_docs if common_min_docs is not None else leakprint.DEFAULT_COMMON_MIN_DOCS
    keys, docs = reduce_key_counts(spark, output, generation, numbers, min_docs, endpoint)
    t2 = time.monotonic()
    segments = [leakprint.piece_segment_name(generation, p) for p in numbers]
    if staging is not None:
        # The commit opens every piece's segment: bring them to the staging copy.
        s3 = storage.client(endpoint)
        for name in segments:
            storage.download(s3, f"{output}/{name}", os.path.join(staging, name))
    commit_options = {k: v for k, v in options.items() if k.startswith("common_")}
    committed = leakprint.commit_pieces(
        local_out, generation, numbers, keys.astype("<u8").tobytes(), docs.astype("<u4").tobytes(), **commit_options
    )
    summary = dict(committed)
    if shards is not None and shards > 1:
        cut = leakprint.compact(local_out, shards=shards, threads=threads, memory=memory)
        summary["shards"] = shards
        summary["index_bytes"] = cut.get("index_bytes")
        segments = []
    t3 = time.monotonic()
    if staging is not None:
        # Everything but the manifest, then the manifest: the commit point.
        storage.publish_index(staging, output, endpoint, skip=segments)
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    for field in ("indexed", "binary", "skipped_files", "copies", "bytes", "duplicate_parts"):
        summary[field] = sum(s.get(field, 0) for s in summaries.values())
    summary["skipped"] = [x for n_ in numbers for x in summaries[n_].get("skipped", [])]
    summary["pieces"] = len(numbers)
    summary["generation"] = generation
    summary["seconds"] = time.monotonic() - started
    summary["seconds_pieces"] = t1 - t0
    summary["seconds_reduce"] = t2 - t1
    summary["seconds_commit"] = time.monotonic() - t2
    summary["seconds_shards"] = t3 - t2 if shards and shards > 1 else 0.0
    return summary
