//! Fuzz harness for leakprint; see `harness.rs` and `../README.md`.
#[path = "harness.rs"]
pub mod harness;
