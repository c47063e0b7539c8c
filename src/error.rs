//! error (in progress).
