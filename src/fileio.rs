//! fileio (in progress).
