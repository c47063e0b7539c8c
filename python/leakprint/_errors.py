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
