//! chunk (in progress).
