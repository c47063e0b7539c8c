//! Matcher (in progress).
