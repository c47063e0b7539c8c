//! The `leakprint` command line (in progress).
fn main() {}
