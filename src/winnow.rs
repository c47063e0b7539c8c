//! winnow (in progress).
