//! fingerprint (in progress).
