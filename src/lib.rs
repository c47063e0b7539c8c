//! leakprint: a streaming content-fingerprint engine for leaked dumps.
//!
//! (Overview filled in as the modules land.)
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod chunk;
pub mod error;
pub mod eval;
pub mod extract;
pub mod fileio;
pub mod fingerprint;
pub mod index;
pub mod input;
pub mod matcher;
pub mod normalize;
pub mod stream;
pub mod winnow;
