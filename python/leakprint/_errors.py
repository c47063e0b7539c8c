"""The exceptions leakprint raises (re-exported by ``leakprint``).

Messages are those of the Rust library: they name the file and the problem.
"""


class LeakprintError(Exception):
    """Base class of every error leakprint raises."""


class ConfigError(LeakprintError, ValueError):
    """A setting is out of its range or contradicts another one."""


class FileAccessError(LeakprintError, OSError):
    """A file or folder could not be read or written (an index, an input,
    a file used as a query), or a query file is over ``max_file_size``."""


class CorruptIndexError(LeakprintError):
    """The index is not a valid leakprint index: bad magic, other format
    version, truncated or edited segment, bad manifest, checksum mismatch."""


class ImageError(LeakprintError, ValueError):
    """An image used as a query cannot be read: not a PNG, JPEG, GIF, WebP,
    BMP or TIFF image, larger than ``max_pixels``, corrupt, or over the OCR
    worker's memory cap."""


class OcrError(LeakprintError, RuntimeError):
    """Tesseract could not read an image: it is not installed, lacks a
    language model (the message names the package), failed, or took
    longer than ``timeout``."""
