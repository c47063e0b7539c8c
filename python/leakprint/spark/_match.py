"""Batch matching: posts in a DataFrame, one Matcher per Python worker
process, one output row per match with the fields of ``leakprint match``'s
JSON lines."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, Iterator, Optional, Tuple

import leakprint

from . import _storage as storage

#: The output columns, in the order of the JSON lines. ``query`` is the
#: post's id as a string (``leakprint match`` prints numeric ids as numbers).
OUTPUT_SCHEMA = (
    "query string, kind string, source string, source_decoded string, "
    "also array<string>, score double, similarity double, aligned_len long, "
    "query_span array<long>, source_span array<long>, snippet string"
)
COLUMNS = [c.split()[0] for c in OUTPUT_SCHEMA.split(", ")]

# One matcher per Python worker process and (index, settings): Spark reuses
# its Python workers across tasks (spark.python.worker.reuse, on by
# default), so the index is opened once per process; its segments are
# mapped, so the processes of an executor share their pages.
_MATCHERS: Dict[Tuple[str, Tuple[Tuple[str, Any], ...]], "leakprint.Matcher"] = {}


def matcher(index: str, config: Dict[str, Any]) -> "leakprint.Matcher":
    """The cached matcher of this process for ``index`` and ``config``.
    An ``s3://`` index is downloaded once into a local cache first
    (``_storage.fetch_index``; ``s3_endpoint`` in ``config`` names a
    non-AWS server)."""
    key = (index, tuple(sorted(config.items())))
    m = _MATCHERS.get(key)
    if m is None:
        settings = {"threads": 1, **config}
        endpoint = settings.pop("s3_endpoint", None)
        path = storage.fetch_index(index, endpoint_url=endpoint) if storage.is_s3(index) else index
        m = leakprint.Matcher(leakprint.Index.open(path), **settings)
        _MATCHERS[key] = m
    return m


def _query_id(v: Any) -> Optional[str]:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _rows(qid: Optional[str], found) -> Iterator[Dict[str, Any]]:
    for m in found:
        d = m.to_dict()
        yield {
            "query": qid,
            "kind": d.get("kind"),
            "source": d.get("source"),
            "source_decoded": d.get("source_decoded"),
            "also": d.get("also") or None,
            "score": d.get("score"),
            "similarity": d.get("similarity"),
            "aligned_len": d.get("aligned_len"),
            "query_span": list(d.get("query_span")),
            "source_span": list(d.get("source_span")),
            "snippet": d.get("snippet"),
        }


def _match_batches(index: str, config: Dict[str, Any], id_column: str, text_column: str):
    def run(batches: Iterable[Any]) -> Iterator[Any]:
        import pandas as pd

        m = matcher(index, config)
        for batch in batches:
            ids = [_query_id(v) for v in batch[id_column].tolist()]
            texts = [t if isinstance(t, str) else "" for t in batch[text_column].tolist()]
            rows = []
            for qid, found in zip(ids, m.find_many(texts)):
                rows.extend(_rows(qid, found))
            yield pd.DataFrame(rows, columns=COLUMNS)

    return run


def match_dataframe(df, index, *, id_column: str = "id", text_column: str = "text", **config):
    """Match the posts of the DataFrame ``df`` (a text column and an id
    column) against the index folder ``index`` (readable by every
    executor, or an ``s3://`` URI each worker downloads once); returns a DataFrame of one row per match (``OUTPUT_SCHEMA``).
    ``config`` holds ``Matcher`` settings (``min_len``, ``min_similarity``,
    ...). Lazy, like every DataFrame."""
    if storage.is_s3(index):
        # Fail on the driver if it cannot be fetched; workers fetch their own.
        matcher(index, config)
    else:
        index = os.path.abspath(os.fspath(index))
        # Fail on the driver, with the library's message, if it cannot be opened.
        leakprint.Index.open(index)
    posts = df.select(df[id_column].cast("string").alias(id_column), df[text_column])
    return posts.mapInPandas(_match_batches(index, config, id_column, text_column), schema=OUTPUT_SCHEMA)


def read_posts(spark, input, format: Optional[str] = None):
    """Posts as a DataFrame ``(id, text)``: JSON lines (``id``, ``text``,
    as ``leakprint match --format jsonl``), Parquet (columns ``id`` and
    ``text``), or plain lines (one post a line, id = 1-based line number,
    as ``--format lines``). ``format`` is ``jsonl``, ``parquet`` or
    ``lines``; by default it follows the name (``.jsonl``/``.json``,
    ``.parquet``, anything else lines)."""
    path = os.fspath(input)
    if format is None:
        name = path.rstrip("/").lower()
        if name.endswith((".jsonl", ".json", ".jsonl.gz", ".json.gz")):
            format = "jsonl"
        elif name.endswith(".parquet"):
            format = "parquet"
        else:
            format = "lines"
    if format == "jsonl":
        df = spark.read.json(path)
        if "id" not in df.columns:
            # As the command line: no id, the line number.
            rdd = spark.read.text(path).rdd.zipWithIndex()
            ids = spark.createDataFrame(rdd.map(lambda r: (str(r[1] + 1), r[0].value)), "id string, line string")
            from pyspark.sql import functions as F

            return ids.select("id", F.get_json_object("line", "$.text").alias("text"))
        return df.select(df["id"].cast("string").alias("id"), df["text"])
    if format == "parquet":
        df = spark.read.parquet(path)
        return df.select(df["id"].cast("string").alias("id"), df["text"])
    if format == "lines":
        rdd = spark.read.text(path).rdd.zipWithIndex()
        return spark.createDataFrame(rdd.map(lambda r: (str(r[1] + 1), r[0].value)), "id string, text string")
    raise leakprint.ConfigError(f"unknown posts format {format!r}: jsonl, parquet or lines")


def match(spark, index, input, output=None, *, format: Optional[str] = None, output_format: str = "json", **config):
    """Match the posts in ``input`` (see ``read_posts``) against ``index``;
    write the matches to ``output`` (a folder of JSON lines or Parquet
    files, replaced) when given. Returns the matches' DataFrame."""
    matches = match_dataframe(read_posts(spark, input, format), index, **config)
    if output is not None:
        writer = matches.write.mode("overwrite")
        if output_format == "json":
            writer.json(os.fspath(output))
        elif output_format == "parquet":
            writer.parquet(os.fspath(output))
        else:
            raise leakprint.ConfigError(f"unknown output format {output_format!r}: json or parquet")
    return matches
