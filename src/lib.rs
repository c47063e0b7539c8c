//! leakprint: a streaming content-fingerprint engine for leaked dumps.
//!
//! Index a dump once; then tell, for every incoming item (a post quoting an
//! email, the OCR text of a screenshot, a re-shared file), whether it
//! carries leaked content, from which document and where, with evidence.
//!
//! # The main types
//!
//! - [`IndexBuilder`] checks a configuration and gives an
//!   [`index::builder::Indexer`], which walks files and folders, extracts
//!   their text ([`extract`]), fingerprints it and writes an index folder
//!   (segments + manifest, see [`index`]).
//! - [`Index`] opens an index (a folder, a segment file, or the bytes of a
//!   segment, zero-copy) and validates it; [`Index::verify`] checks every
//!   checksum.
//! - [`Matcher`] finds a text's leaked content in an [`Index`] as
//!   [`Match`]es: source, byte spans on both sides, score, similarity,
//!   snippet. [`Matcher::find_file`] adds whole-file evidence (blake3 and
//!   content-defined chunks).
//!
//! # Example
//!
//! ```
//! use leakprint::{Index, IndexBuilder, MatchConfig, Matcher};
//!
//! let segment = IndexBuilder::new().build()?.segment_from_texts(&[
//!     ("dump/a.txt", "Please keep the premiere schedule confidential until legal signs off on it."),
//!     ("dump/b.txt", "Minutes: the campaign for the summer release starts in May."),
//! ])?;
//! let index = Index::from_bytes(segment)?;
//! let matcher = Matcher::new(&index, MatchConfig::default());
//! let found = matcher.try_find("lol \"keep the premiere schedule confidential until legal signs off\" 👀")?;
//! assert_eq!(found.len(), 1);
//! assert_eq!(found[0].source, "dump/a.txt");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules
//!
//! - [`normalize`], [`fingerprint`], [`winnow`], [`chunk`]: the algorithms,
//!   each with its paper and a naive oracle in its tests.
//! - [`extract`]: text parts of mail, mbox, HTML, PDF, Office, archives.
//! - [`index`]: the segment format, the builder, the reader.
//! - [`matcher`]: seeds, chaining, banded alignment.
//! - [`input`], [`stream`]: query readers (JSONL, lines, text, tesseract TSV
//!   and hOCR) and the bounded pipeline of `leakprint match`.
//! - [`eval`]: the quality evaluation against queries with ground truth.
//!
//! No cargo features; every format is always built in.
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod chunk;
pub mod error;
pub mod eval;
pub mod extract;
pub mod failpoint;
pub mod fileio;
pub mod fingerprint;
pub mod index;
pub mod input;
pub mod matcher;
pub mod names;
pub mod normalize;
pub mod ocr;
pub mod query;
#[cfg(feature = "serve")]
pub mod serve;
pub mod stream;
pub mod winnow;

pub use error::ConfigError;
pub use index::{Index, IndexBuilder, IndexError};
pub use matcher::{Match, MatchConfig, Matcher, Seeds};

/// The README's library example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
