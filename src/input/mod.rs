//! Query input readers (in progress).
