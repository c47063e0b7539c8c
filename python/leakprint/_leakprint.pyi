"""Type stubs of the native module (re-exported by ``leakprint``)."""

import os
from typing import Any, Callable, Iterable, Iterator, Optional, Protocol, Sequence, Union

__version__: str

_Path = Union[str, "os.PathLike[str]"]

class _TqdmLike(Protocol):
    total: Any
    def update(self, n: int) -> Any: ...

def build(
    paths: Union[_Path, Sequence[_Path]],
    output: _Path,
    threads: Optional[int] = None,
    memory: Optional[int] = None,
    append: bool = False,
    progress: Union[_TqdmLike, Callable[[int, int], Any], None] = None,
) -> dict[str, Any]:
    """Index files and folders into the index folder ``output``; returns the build summary."""

# Building one index in pieces (leakprint.spark runs these in a Spark job).

DEFAULT_COMMON_MIN_DOCS: int

_Entry = tuple[Optional[str], bytes, Optional[str]]

def plan_pieces(paths: Sequence[_Path], pieces: int) -> list[list[_Entry]]:
    """Walk ``paths`` and cut the files into at most ``pieces`` lists of about the same bytes."""

def begin_pieces(output: _Path) -> int:
    """Check or create the index folder; returns the generation the pieces are written under."""

def build_piece(
    entries: Sequence[_Entry],
    output: _Path,
    generation: int,
    piece: int,
    scratch: Optional[_Path] = None,
    threads: Optional[int] = None,
    memory: Optional[int] = None,
    common_min_docs: Optional[int] = None,
    common_fraction: Optional[float] = None,
) -> dict[str, Any]:
    """Build one piece (a segment and its key counts), atomically and idempotently."""

def piece_keys_name(generation: int, piece: int) -> str:
    """The file name of a piece's key counts in the output folder."""

class KeyCounts:
    """The key counts a piece wrote, checked on open."""
    def __init__(self, path: _Path) -> None: ...
    def __len__(self) -> int: ...
    @property
    def owners(self) -> int: ...
    def read(self, start: int, count: int) -> tuple[bytes, bytes]: ...

def commit_pieces(
    output: _Path,
    generation: int,
    pieces: Sequence[int],
    keys: bytes,
    docs: bytes,
    common_min_docs: Optional[int] = None,
    common_fraction: Optional[float] = None,
) -> dict[str, Any]:
    """Make the pieces the index, in one atomic manifest commit."""

def piece_segment_name(generation: int, piece: int) -> str:
    """The file name of a piece's segment."""

def compact(
    index: _Path,
    shards: int = 1,
    threads: Optional[int] = None,
    memory: Optional[int] = None,
) -> dict[str, Any]:
    """Compact the index folder and cut it into ``shards`` shards by key."""

class Index:
    """An open index (a folder or one segment file); thread-safe."""
    @staticmethod
    def open(path: _Path, load: bool = False) -> "Index": ...
    @property
    def path(self) -> str: ...
    def info(self) -> dict[str, Any]: ...
    def files(self) -> Iterator[dict[str, Any]]: ...
    def verify(self) -> None: ...

class WordBox:
    """An OCR word box, in the image's pixels."""
    @property
    def left(self) -> int: ...
    @property
    def top(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def conf(self) -> float: ...
    @property
    def page(self) -> int: ...
    @property
    def line(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

class Match:
    """One piece of indexed text found in a query."""
    @property
    def kind(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def also(self) -> list[str]: ...
    @property
    def source_decoded(self) -> Optional[str]: ...
    @property
    def part(self) -> Optional[str]: ...
    @property
    def query(self) -> Optional[str]: ...
    @property
    def query_span(self) -> tuple[int, int]: ...
    @property
    def source_span(self) -> tuple[int, int]: ...
    @property
    def score(self) -> float: ...
    @property
    def similarity(self) -> float: ...
    @property
    def aligned_len(self) -> int: ...
    @property
    def snippet(self) -> str: ...
    @property
    def boxes(self) -> Optional[list[WordBox]]: ...
    def to_dict(self) -> dict[str, Any]: ...

class FileEvidence:
    """An indexed file identical to a query file or sharing chunks with it."""
    @property
    def source(self) -> str: ...
    @property
    def identical(self) -> bool: ...
    @property
    def shared_chunks(self) -> int: ...
    @property
    def query_chunks(self) -> int: ...
    @property
    def shared_bytes(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

class FileResult:
    """What a file used as a query found."""
    @property
    def name(self) -> str: ...
    @property
    def evidence(self) -> list[FileEvidence]: ...
    @property
    def matches(self) -> list[Match]: ...
    @property
    def notes(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __bool__(self) -> bool: ...

class Matcher:
    """Finds leaked content of an Index in texts and files."""
    def __init__(self, index: Index, **config: Any) -> None: ...
    @property
    def threads(self) -> int: ...
    def find(self, text: str) -> list[Match]: ...
    def find_many(self, texts: Iterable[str], threads: Optional[int] = None) -> Iterator[list[Match]]: ...
    def find_file(self, file: Union[_Path, bytes], name: Optional[str] = None) -> FileResult: ...
    def find_image(
        self,
        image: Union[_Path, bytes],
        lang: str = "eng",
        steps: Optional[str] = None,
        timeout: Optional[float] = None,
        max_pixels: Optional[int] = None,
    ) -> list[Match]:
        """OCR an image (PNG, JPEG, GIF, WebP, BMP, TIFF) with tesseract and
        match its text; each match has the word ``boxes`` of the matched text."""
