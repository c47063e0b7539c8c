//! Queries as every front end runs them: texts and whole files in,
//! evidence out.
//!
//! `leakprint match`, `leakprint serve` and the Python package call these
//! functions, so that a file sent to any of them is read, extracted and
//! matched the same way and its evidence is written with the same fields:
//!
//! - [`find_text`]: the [`Match`]es of one text, with a [`Cut`] when the
//!   text is longer than the matcher considers (never cut silently);
//! - [`find_in_file`]: whole-file evidence (blake3 and content-defined
//!   chunks, [`Matcher::find_file`]), then the file's text parts
//!   ([`crate::extract`]) each matched as a text named `file#part`
//!   ([`part_path`]), with the parts that could not be read and why;
//! - [`find_image`], [`find_in_image`]: an image's OCR matches with their
//!   word boxes (and, sent as a file, its whole-file evidence), a failure
//!   of tesseract explained ([`image`]);
//! - [`read_file`]: the bytes of a file query, at most a given size;
//! - [`record`]: the fields of the JSON lines of `leakprint match` (and of
//!   the service's answers and the Python `to_dict()`), one definition;
//! - [`config`]: checked builders for extraction limits, the extraction
//!   worker and chunk sizes, so that a library user gets the validation of
//!   the command line;
//! - [`describe`]: an index's parameters, totals and file table as records.
//!
//! Invariants: nothing here prints, reads the environment or panics on
//! input; errors name the query (`file#part`) they are about.

pub mod config;
pub mod describe;
pub mod image;
pub mod record;

use std::fmt;
use std::path::Path;

use crate::extract::{self, ExtractLimits, Format, PartSkip};
use crate::index::IndexError;
use crate::matcher::{FileEvidence, Match, Matcher};

pub use image::{find_image, find_in_image, ImageFindings};

/// A query matched on its head only: the first `matched` of its `total`
/// bytes (see [`crate::matcher::MatchConfig::max_query_bytes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Bytes matched (the matcher's limit).
    pub matched: usize,
    /// Bytes of the query.
    pub total: usize,
}

impl fmt::Display for Cut {
    /// `only the first 1.0 MiB of its 3.2 MiB were matched (query size limit)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "only the first {} of its {} were matched (query size limit)",
            human_bytes(self.matched as u64),
            human_bytes(self.total as u64)
        )
    }
}

/// The [`Cut`] `matcher` applies to `text`, if any.
pub fn cut(matcher: &Matcher<'_>, text: &str) -> Option<Cut> {
    let max = matcher.config().max_query_bytes();
    (text.len() > max).then_some(Cut {
        matched: max,
        total: text.len(),
    })
}

/// What one text query found.
#[derive(Debug, Clone, PartialEq)]
pub struct TextFindings {
    /// The matches, ordered by query position.
    pub matches: Vec<Match>,
    /// Set when only the head of the text was matched.
    pub cut: Option<Cut>,
}

/// Match one text.
///
/// # Errors
/// When a part of the index needed to verify a candidate is corrupt.
pub fn find_text(matcher: &Matcher<'_>, text: &str) -> Result<TextFindings, IndexError> {
    Ok(TextFindings {
        matches: matcher.try_find(text)?,
        cut: cut(matcher, text),
    })
}

/// Match one text read by OCR (tesseract TSV or hOCR), with the seeds
/// that survive OCR errors ([`Matcher::try_find_ocr`]).
///
/// # Errors
/// When a part of the index needed to verify a candidate is corrupt.
pub fn find_ocr_text(matcher: &Matcher<'_>, text: &str) -> Result<TextFindings, IndexError> {
    Ok(TextFindings {
        matches: matcher.try_find_ocr(text)?,
        cut: cut(matcher, text),
    })
}

/// The name of a part as queries and sources show it: the file's name,
/// then `#` and the part's name unless the part is the file itself.
pub fn part_path(file: &str, part: &str) -> String {
    if part.is_empty() {
        file.to_owned()
    } else {
        format!("{file}#{part}")
    }
}

/// One text part of a file query and what it found.
#[derive(Debug)]
pub struct PartFindings {
    /// The part's query name: [`part_path`] of the file and the part.
    pub query: String,
    /// The part's name inside the file (empty for the file's own text).
    pub part: String,
    /// The format the part was read as.
    pub format: Format,
    /// Set when only the head of the part's text was matched.
    pub cut: Option<Cut>,
    /// Its matches, or the index error met while verifying them.
    pub matches: Result<Vec<Match>, IndexError>,
}

/// Everything a file used as a query found, in the order `leakprint match`
/// prints it: whole-file evidence, then each part's matches.
#[derive(Debug)]
pub struct FileFindings {
    /// The name the file was queried under.
    pub name: String,
    /// The file's own format, as extraction recognised it.
    pub format: Option<Format>,
    /// Indexed files identical to it or sharing chunks with it, most
    /// shared bytes first, or the index error met while looking.
    pub evidence: Result<Vec<FileEvidence>, IndexError>,
    /// The text parts, in file order.
    pub parts: Vec<PartFindings>,
    /// Parts (or the file) that could not be read, or were read in part,
    /// with reasons; `name` is the part's name inside the file.
    pub skipped: Vec<PartSkip>,
}

impl FileFindings {
    /// Notes a user should see: every skipped or partly read part, then
    /// every cut part, each starting with the query name it is about.
    pub fn notes(&self) -> Vec<String> {
        let skips = self
            .skipped
            .iter()
            .map(|s| format!("{}: {}", part_path(&self.name, &s.name), s.reason));
        let cuts = self
            .parts
            .iter()
            .filter_map(|p| p.cut.map(|c| format!("{}: {c}", p.query)));
        skips.chain(cuts).collect()
    }

    /// Errors met, each naming its query: the whole-file lookup's first,
    /// then each part's, in file order.
    pub fn errors(&self) -> Vec<String> {
        let whole = self
            .evidence
            .as_ref()
            .err()
            .map(|e| format!("{}: {e}", self.name));
        let parts = self.parts.iter().filter_map(|p| {
            p.matches
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", p.query))
        });
        whole.into_iter().chain(parts).collect()
    }

    /// The number of pieces of evidence: whole-file findings plus text
    /// matches.
    pub fn evidence_count(&self) -> usize {
        let whole = self.evidence.as_ref().map_or(0, Vec::len);
        let parts: usize = self
            .parts
            .iter()
            .map(|p| p.matches.as_ref().map_or(0, Vec::len))
            .sum();
        whole + parts
    }
}

/// Look up a file used as a query: its blake3 and chunks, then the text of
/// each of its parts (extracted under `limits`, PDF and legacy Office in
/// the extraction worker when `limits.isolation` is set).
///
/// `name` labels the file in part names and messages; it is also the name
/// hint of extraction (which detects formats by content) and is never
/// opened.
pub fn find_in_file(
    matcher: &Matcher<'_>,
    name: &str,
    bytes: &[u8],
    limits: &ExtractLimits,
) -> FileFindings {
    let evidence = matcher.find_file(bytes);
    let extracted = extract::extract(bytes, name, limits);
    let parts = extracted
        .parts
        .into_iter()
        .map(|p| PartFindings {
            query: part_path(name, &p.name),
            cut: cut(matcher, &p.text),
            matches: matcher.try_find(&p.text),
            part: p.name,
            format: p.format,
        })
        .collect();
    FileFindings {
        name: name.to_owned(),
        format: extracted.format,
        evidence,
        parts,
        skipped: extracted.skipped,
    }
}

/// Why a file query could not be read.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than the limit.
    #[error("{path}: larger than the file size limit ({})", human_bytes(*.limit))]
    TooLarge {
        /// The file.
        path: std::path::PathBuf,
        /// The limit in force, in bytes.
        limit: u64,
    },
}

/// The bytes of the file at `path`, if it holds at most `limit` bytes.
///
/// # Errors
/// [`ReadError::Io`] when it cannot be read, [`ReadError::TooLarge`] when it
/// is larger than `limit`.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (bytes, more) =
        crate::fileio::read_prefix(path, limit).map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
    if more {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// Bytes for people: `512 B`, `1.5 KiB`, `3.2 GiB`.
pub fn human_bytes(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

#[cfg(test)]
mod tests;
