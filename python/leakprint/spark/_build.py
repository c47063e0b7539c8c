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


def _piece_task(
    output: str,
    generation: int,
    options: Dict[str, Any],
    fail_once: Optional[str],
):
    """The function each task runs: build its piece, return its summary."""

    def run(item: Tuple[int, List[Entry]]) -> Tuple[int, Dict[str, Any]]:
        piece, entries = item
        summary = leakprint.build_piece(entries, output, generation, piece, **options)
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
) -> Dict[int, Dict[str, Any]]:
    """Build ``pieces`` (numbered ``numbers``, default 1, 2, ...) as Spark
    tasks, one task per piece; returns each piece's summary by number."""
    numbers = numbers or list(range(1, len(pieces) + 1))
    items = list(zip(numbers, pieces))
    rdd = spark.sparkContext.parallelize(items, max(1, len(items)))
    task = _piece_task(output, generation, dict(options or {}), fail_once)
    return dict(rdd.map(task).collect())


def _read_counts(output: str, generation: int):
    """The mapInPandas function of the reduce: the key counts of the
    pieces in each batch, as (key, docs) frames of at most KEY_BATCH rows.
    Keys are 64-bit patterns carried in Spark's signed longs."""

    def run(batches: Iterable[Any]) -> Iterator[Any]:
        import numpy as np
        import pandas as pd

        for batch in batches:
            for piece in batch["piece"]:
                path = os.path.join(output, leakprint.piece_keys_name(generation, int(piece)))
                counts = leakprint.KeyCounts(path)
                for start in range(0, len(counts), KEY_BATCH):
                    keys, docs = counts.read(start, KEY_BATCH)
                    yield pd.DataFrame(
                        {
                            "key": np.frombuffer(keys, dtype="<i8"),
                            "docs": np.frombuffer(docs, dtype="<u4").astype("int64"),
                        }
                    )

    return run


def reduce_key_counts(spark, output: str, generation: int, numbers: List[int], min_docs: int):
    """Sum the key counts of the pieces across the cluster; the keys whose
    total reaches ``min_docs`` as two numpy arrays (keys as unsigned
    64-bit, totals as unsigned 32-bit)."""
    import numpy as np
    from pyspark.sql import functions as F

    pieces = spark.createDataFrame([(n,) for n in numbers], "piece int").repartition(
        max(1, len(numbers))
    )
    counts = pieces.mapInPandas(_read_counts(output, generation), schema="key long, docs long")
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
    _fail_once: Optional[str] = None,
) -> Dict[str, Any]:
    """Index the files and folders ``input`` into the index folder
    ``output`` with a Spark job (see the module documentation)."""
    started = time.monotonic()
    output = os.path.abspath(os.fspath(output))
    parent = os.path.dirname(output)
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)
    sc = spark.sparkContext
    n = partitions or sc.defaultParallelism
    pieces = plan(input, n)
    generation = leakprint.begin_pieces(output)
    options: Dict[str, Any] = {"threads": threads}
    if memory is not None:
        options["memory"] = memory
    if common_min_docs is not None:
        options["common_min_docs"] = common_min_docs
    if common_fraction is not None:
        options["common_fraction"] = common_fraction
    numbers = list(range(1, len(pieces) + 1))
    t0 = time.monotonic()
    summaries = build_pieces(spark, output, generation, pieces, numbers, options, _fail_once)
    t1 = time.monotonic()
    min_docs = common_min_docs if common_min_docs is not None else leakprint.DEFAULT_COMMON_MIN_DOCS
    keys, docs = reduce_key_counts(spark, output, generation, numbers, min_docs)
    t2 = time.monotonic()
    commit_options = {k: v for k, v in options.items() if k.startswith("common_")}
    committed = leakprint.commit_pieces(
        output, generation, numbers, keys.astype("<u8").tobytes(), docs.astype("<u4").tobytes(), **commit_options
    )
    summary = dict(committed)
    for field in ("indexed", "binary", "skipped_files", "copies", "bytes", "duplicate_parts"):
        summary[field] = sum(s.get(field, 0) for s in summaries.values())
    summary["skipped"] = [x for n_ in numbers for x in summaries[n_].get("skipped", [])]
    summary["pieces"] = len(numbers)
    summary["generation"] = generation
    summary["seconds"] = time.monotonic() - started
    summary["seconds_pieces"] = t1 - t0
    summary["seconds_reduce"] = t2 - t1
    return summary

