//! Query readers: the items `leakprint match` looks up, read as a stream.
//!
//! Each reader is an iterator over a [`BufRead`] yielding
//! `Result<Query, InputError>`; it never holds more than one query (and, for
//! line formats, one bounded line) in memory.
//!
//! | format | one query is | id |
//! |---|---|---|
//! | [`Format::Jsonl`] | a line `{"id": .., "text": ..}` | `id` (string or number), else the line number |
//! | [`Format::Lines`] | a non-blank line | the line number (1-based) |
//! | [`Format::Text`] | the whole reader | given by the caller (the path) |
//! | [`Format::Tsv`] | the whole tesseract TSV output | given by the caller |
//! | [`Format::Hocr`] | the whole tesseract hOCR output | given by the caller |
//!
//! Invariants:
//! - the result does not depend on how the underlying reader splits its
//!   bytes (tested with whole, 1-byte and random splits);
//! - every limit of [`InputLimits`] gives an error, never a crash or an
//!   unbounded buffer; a line format reports the bad line and goes on.
//!
//! # Format detection ([`Format::Auto`], see [`detect`])
//!
//! The first bytes decide when they are conclusive (after a UTF-8 BOM and
//! whitespace): `{` is JSONL; a line starting `level\tpage_num\t` is tesseract
//! TSV; `<?xml`, `<!DOCTYPE html` or `<html` with `ocrx_word` or `ocr_page` in
//! the first 8 KiB is hOCR. Otherwise the extension decides (`.jsonl`,
//! `.ndjson`, `.tsv`, `.hocr`, `.txt`), and otherwise a file is one text
//! query and standard input is read as lines.

mod jsonl;
mod lines;
pub(crate) mod ocr;
mod text;

pub mod hocr;
pub mod tsv;

use std::fmt;
use std::io::{self, BufRead, Read};
use std::path::Path;

use serde::{Serialize, Serializer};
use thiserror::Error;

use crate::error::ConfigError;

pub use jsonl::JsonlReader;
pub use lines::LinesReader;
pub use ocr::{OcrPage, OcrWord};
pub use text::read_text;

/// How a query is identified in the output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueryId {
    /// A number: a line number, or a numeric JSONL `id`.
    Num(u64),
    /// A string: a path, or a string JSONL `id`.
    Str(String),
}

impl Serialize for QueryId {
    /// A JSON number or a JSON string.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            QueryId::Num(n) => s.serialize_u64(*n),
            QueryId::Str(t) => s.serialize_str(t),
        }
    }
}

impl fmt::Display for QueryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryId::Num(n) => write!(f, "{n}"),
            QueryId::Str(t) => f.write_str(t),
        }
    }
}

/// One item to match.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Its id, echoed in the output.
    pub id: QueryId,
    /// Its text; match spans are byte offsets into it.
    pub text: String,
    /// Word boxes, for OCR input.
    pub ocr: Option<OcrPage>,
}

/// Why a query (or a line of input) could not be read.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum InputError {
    /// The underlying reader failed; the reader stops after this.
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    /// A line is longer than [`InputLimits::max_line_bytes`]; it is skipped.
    #[error("line {line}: longer than the limit of {limit} bytes")]
    LineTooLong {
        /// 1-based line number.
        line: u64,
        /// The limit in force.
        limit: usize,
    },
    /// A JSONL line is not a JSON object with a string `text`.
    #[error("line {line}: invalid JSON query: {source}")]
    Json {
        /// 1-based line number.
        line: u64,
        /// What the JSON parser said.
        source: serde_json::Error,
    },
    /// A JSONL line is not valid UTF-8.
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 {
        /// 1-based line number.
        line: u64,
    },
    /// A whole-reader query is larger than [`InputLimits::max_text_bytes`].
    #[error("input larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// An OCR page has more words than [`InputLimits::max_words`].
    #[error("OCR input has more than {limit} words")]
    TooManyWords {
        /// The limit in force.
        limit: usize,
    },
    /// A text query looks binary (NUL or many control bytes).
    #[error("input looks binary, not text")]
    Binary,
    /// A tesseract TSV row is malformed.
    #[error("line {line}: invalid tesseract TSV: {reason}")]
    Tsv {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// hOCR could not be parsed.
    #[error("invalid hOCR near byte {offset}: {reason}")]
    Hocr {
        /// Byte offset where the parser stopped.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

impl InputError {
    /// The 1-based input line the error is about, where there is one.
    pub fn line(&self) -> Option<u64> {
        match self {
            InputError::LineTooLong { line, .. }
            | InputError::Json { line, .. }
            | InputError::NotUtf8 { line }
            | InputError::Tsv { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// Bounds on what one query may hold. Checked in release builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    max_line_bytes: usize,
    max_text_bytes: usize,
    max_words: usize,
}

impl InputLimits {
    /// Default longest line: 1 MiB.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
    /// Default largest whole-reader query: 64 MiB.
    pub const DEFAULT_MAX_TEXT_BYTES: usize = 64 << 20;
    /// Default most words on an OCR page.
    pub const DEFAULT_MAX_WORDS: usize = 1_000_000;

    /// Limits on line length, whole-reader size and OCR words, each at least 1.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] for a zero (or absurd) value.
    pub fn new(
        max_line_bytes: usize,
        max_text_bytes: usize,
        max_words: usize,
    ) -> Result<Self, ConfigError> {
        let cap = 1u64 << 40;
        ConfigError::check_range("input.max_line_bytes", max_line_bytes as u64, 1, cap)?;
        ConfigError::check_range("input.max_text_bytes", max_text_bytes as u64, 1, cap)?;
        ConfigError::check_range("input.max_words", max_words as u64, 1, cap)?;
        Ok(InputLimits {
            max_line_bytes,
            max_text_bytes,
            max_words,
        })
    }

    /// Longest accepted line, in bytes, without its line break.
    pub fn max_line_bytes(&self) -> usize {
        self.max_line_bytes
    }

    /// Largest accepted whole-reader query (text, TSV, hOCR), in bytes.
    pub fn max_text_bytes(&self) -> usize {
        self.max_text_bytes
    }

    /// Most words accepted on an OCR page.
    pub fn max_words(&self) -> usize {
        self.max_words
    }
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_line_bytes: Self::DEFAULT_MAX_LINE_BYTES,
            max_text_bytes: Self::DEFAULT_MAX_TEXT_BYTES,
            max_words: Self::DEFAULT_MAX_WORDS,
        }
    }
}

/// The input formats of `leakprint match --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Decide from the first bytes and the file name ([`detect`]).
    Auto,
    /// One JSON object a line.
    Jsonl,
    /// One query a line.
    Lines,
    /// The whole input is one query.
    Text,
    /// Tesseract TSV output.
    Tsv,
    /// Tesseract hOCR output.
    Hocr,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Jsonl => "jsonl",
            Format::Lines => "lines",
            Format::Text => "text",
            Format::Tsv => "tsv",
            Format::Hocr => "hocr",
        }
    }

    /// The format with this command-line name.
    pub fn from_name(name: &str) -> Option<Format> {
        [
            Format::Auto,
            Format::Jsonl,
            Format::Lines,
            Format::Text,
            Format::Tsv,
            Format::Hocr,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }
}

/// How many leading bytes [`detect`] looks at.
pub const SNIFF_BYTES: usize = 8192;

/// The format of an input from its first bytes (`head`, up to
/// [`SNIFF_BYTES`]) and its path (`None` for standard input), by the rules
/// of the module documentation. Never returns [`Format::Auto`].
pub fn detect(path: Option<&Path>, head: &[u8]) -> Format {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let body = &head[start..];
    if body.starts_with(b"{") {
        return Format::Jsonl;
    }
    if body.starts_with(b"level\tpage_num\t") {
        return Format::Tsv;
    }
    let lower: Vec<u8> = body.iter().take(64).map(u8::to_ascii_lowercase).collect();
    let markup = [&b"<?xml"[..], b"<!doctype html", b"<html"]
        .iter()
        .any(|p| lower.starts_with(p));
    if markup && (contains(head, b"ocrx_word") || contains(head, b"ocr_page")) {
        return Format::Hocr;
    }
    let ext = path
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("jsonl" | "ndjson") => Format::Jsonl,
        Some("tsv") => Format::Tsv,
        Some("hocr") => Format::Hocr,
        Some("txt") => Format::Text,
        _ if path.is_none() => Format::Lines,
        _ => Format::Text,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A stream of queries of any format.
pub type Queries = Box<dyn Iterator<Item = Result<Query, InputError>> + Send>;

/// Read `reader` as `format`. `path` names a file (`None`: standard input,
/// id `-`); it is the id of whole-reader queries and helps [`Format::Auto`],
/// which first reads up to [`SNIFF_BYTES`] (and replays them).
///
/// # Errors
/// Only an I/O error while sniffing; everything else comes out of the
/// iterator.
pub fn open<R: BufRead + Send + 'static>(
    format: Format,
    mut reader: R,
    path: Option<&Path>,
    limits: &InputLimits,
) -> Result<Queries, InputError> {
    let id = QueryId::Str(path.map_or_else(|| "-".to_owned(), |p| p.display().to_string()));
    if format == Format::Auto {
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        (&mut reader)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut head)?;
        let format = detect(path, &head);
        let replay = io::Cursor::new(head).chain(reader);
        return Ok(open_known(format, replay, id, limits));
    }
    Ok(open_known(format, reader, id, limits))
}

fn open_known<R: BufRead + Send + 'static>(
    format: Format,
    reader: R,
    id: QueryId,
    limits: &InputLimits,
) -> Queries {
    let limits = *limits;
    match format {
        Format::Jsonl => Box::new(JsonlReader::new(reader, &limits)),
        Format::Lines | Format::Auto => Box::new(LinesReader::new(reader, &limits)),
        Format::Text => Box::new(std::iter::once_with(move || read_text(reader, id, &limits))),
        Format::Tsv => Box::new(std::iter::once_with(move || {
            tsv::read_tsv(reader, id, &limits)
        })),
        Format::Hocr => Box::new(std::iter::once_with(move || {
            hocr::read_hocr(reader, id, &limits)
        })),
    }
}

#[cfg(test)]
pub(crate) mod testio;

#[cfg(test)]
mod tests;
