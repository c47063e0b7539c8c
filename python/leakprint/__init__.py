"""leakprint: find leaked content in posts, OCR text and files, with evidence.

Index a dump of leaked files once, then ask, for every incoming item (a post
quoting an email, the OCR text of a screenshot, a re-shared file), whether it
carries leaked content, from which document, and where.

Build and open an index::

    import leakprint
    summary = leakprint.build(["dump/"], "dump.idx", progress=tqdm.tqdm())
    index = leakprint.Index.open("dump.idx")
    index.info()            # parameters and totals (leakprint info --json)
    next(index.files())     # one dict per input file (leakprint info --files)

Match::

    matcher = leakprint.Matcher(index, min_similarity=0.8)
    for m in matcher.find(post_text):
        print(m.source, m.query_span, m.similarity, m.snippet)
    for matches in matcher.find_many(posts):          # any iterable of str
        ...                                           # one list per post, in order
    result = matcher.find_file("shared.zip")           # or the file's bytes
    result.evidence, result.matches, result.notes
    for m in matcher.find_image("screenshot.png"):      # or the image's bytes
        print(m.source, m.snippet, [(b.left, b.top, b.width, b.height) for b in m.boxes])

``find_image`` reads the image with tesseract (``apt-get install
tesseract-ocr tesseract-ocr-eng``; other languages with ``lang="eng+rus"``
and their packages); each match carries the word ``boxes`` of the matched
text in the image's pixels.

Results are typed objects (``Match``, ``FileEvidence``, ``FileResult``,
``WordBox``); ``to_dict()`` gives the fields of ``leakprint match``'s JSON
lines. Spans are byte offsets (UTF-8) into the query text and into the
source part's extracted text.

Matching releases the GIL; ``find_many`` matches batches in parallel on
``threads`` threads while you consume earlier results, holding at most two
batches, so it streams an endless iterable in bounded memory. An item it
cannot match (not a ``str``, or a ``str`` with a lone surrogate) is raised
after the results of every item before it and ends the iteration, so
results never shift against their items; it works in a child of
``os.fork()``.

Scale out on Apache Spark with ``leakprint.spark`` (``python3 -m
leakprint.spark build|match``); it builds an index in pieces with
``plan_pieces``, ``build_piece``, ``KeyCounts`` and ``commit_pieces``,
which other engines can drive the same way; ``compact(index, shards=N)``
cuts an index into N shards by key (``leakprint compact --shards N``).

Errors are ``LeakprintError`` subclasses with the library's messages:
``ConfigError`` (also a ``ValueError``), ``FileAccessError`` (also an
``OSError``), ``CorruptIndexError``, ``ImageError`` (also a ``ValueError``:
the bytes are no readable image) and ``OcrError`` (also a ``RuntimeError``:
tesseract is missing, lacks a model, failed or timed out). Ctrl-C during ``build`` stops it
without publishing anything and raises ``KeyboardInterrupt``.
"""

from ._errors import (
    ConfigError,
    CorruptIndexError,
    FileAccessError,
    ImageError,
    LeakprintError,
    OcrError,
)
from ._leakprint import (
    DEFAULT_COMMON_MIN_DOCS,
    FileEvidence,
    FileResult,
    Index,
    KeyCounts,
    Match,
    Matcher,
    WordBox,
    __version__,
    begin_pieces,
    build,
    build_piece,
    commit_pieces,
    compact,
    piece_keys_name,
    piece_segment_name,
    plan_pieces,
)

__all__ = [
    "build",
    "Index",
    "Matcher",
    "Match",
    "FileEvidence",
    "FileResult",
    "WordBox",
    "LeakprintError",
    "ConfigError",
    "FileAccessError",
    "CorruptIndexError",
    "ImageError",
    "OcrError",
    "__version__",
    # Building in pieces (leakprint.spark).
    "plan_pieces",
    "begin_pieces",
    "build_piece",
    "piece_keys_name",
    "piece_segment_name",
    "KeyCounts",
    "commit_pieces",
    "compact",
    "DEFAULT_COMMON_MIN_DOCS",
]
