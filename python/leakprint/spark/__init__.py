"""leakprint on Apache Spark: build an index of a dump too large for one
machine, and match batches of posts, with an existing Spark cluster (or
``local[N]``).

Command line::

    python3 -m leakprint.spark build --input DUMP --output INDEX [--partitions N]
    python3 -m leakprint.spark match --index INDEX --input POSTS --output OUT

From a Spark job of your own::

    from leakprint import spark as lps
    summary = lps.build(spark, "dump/", "dump.idx", partitions=64)
    matches = lps.match_dataframe(posts_df, "dump.idx")   # columns id, text
    matches.write.json("matches/")

The build
---------

1. The driver walks the input (the same walk, order and recorded paths as
   ``leakprint index``) and cuts the files into pieces of about the same
   bytes; files of one size go to one piece, so byte-identical files meet
   there and are recorded as copies (``leakprint.plan_pieces``).
2. One task per piece builds a segment with the same code as ``leakprint
   index`` and writes the key counts of its fingerprints beside it
   (``leakprint.build_piece``). Both files are written under temporary
   names and renamed to names fixed by the build's generation and the piece
   number; the bytes depend only on the piece's files. A retried or
   speculative attempt therefore renames the same bytes over the same
   names, and an attempt that dies leaves at most a temporary file.
3. The common (boilerplate) fingerprints are decided for the whole dump:
   the key counts of all pieces are summed per key by a Spark aggregation
   (``mapInPandas`` + ``groupBy``), and the keys reaching the minimum come
   back to the driver.
4. The driver commits once (``leakprint.commit_pieces``): the state file
   (the common keys) and then the manifest are written atomically; the
   manifest names the segments and is the commit point. Until then readers
   see the index that was there before (or none), never a part of the new
   one; the commit removes the key counts and any file no manifest names.

The output folder must be shared by the driver and the executors (a local
folder in local mode, NFS or a cluster file system otherwise), or be an
``s3://bucket/prefix`` URI; inputs may be ``s3://`` URIs too (``_storage``:
boto3, any S3-compatible server, ``--s3-endpoint``). ``shards=N``
(``--shards N``) cuts the committed index into N shards by key
(``leakprint.compact``; ``leakprint compact --shards N``).

Matching
--------

``match_dataframe`` runs ``mapInPandas`` over the posts; each Python worker
process opens the index once (cached in this module) and matches its
batches with ``Matcher.find_many``; the output has one row per match with
the fields of ``leakprint match``'s JSON lines (``OUTPUT_SCHEMA``).
"""

from . import _storage
from ._build import build, build_pieces, plan, plan_objects, reduce_key_counts
from ._match import COLUMNS, OUTPUT_SCHEMA, match, match_dataframe, matcher, read_posts

__all__ = [
    "build",
    "plan",
    "plan_objects",
    "build_pieces",
    "reduce_key_counts",
    "match",
    "match_dataframe",
    "read_posts",
    "matcher",
    "OUTPUT_SCHEMA",
    "COLUMNS",
]
