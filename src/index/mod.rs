//! Index (in progress).
