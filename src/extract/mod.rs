//! Extraction: turn the bytes of one input file into text *parts*.
//!
//! A part is a stream of text with provenance. The file itself is the part
//! with an empty name; parts inside containers are named by the path that
//! reaches them, joined with `#`: `attachment:plan.pdf`, `a/b.txt`,
//! `a/mail.eml#attachment:x.pdf`. The index shows a part as
//! `<file path>#<part name>`.
//!
//! Invariants:
//! - extraction never panics on any input and never allocates more than the
//!   [`ExtractLimits`] allow; what cannot be read becomes a [`PartSkip`] with
//!   a reason, so that the manifest accounts for everything;
//! - the output is a pure function of the bytes and the limits (no clock, no
//!   environment), so that indexes are reproducible.
//!
//! This module holds the seam and the plain-text decoder; the container and
//! document formats live in submodules.

pub mod text;

pub use text::decode_text;

/// What a file (or a part inside it) was recognised as.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Plain text in some encoding.
    Text,
    /// Anything without extractable text: only chunks and blake3 are kept.
    Binary,
}

impl Format {
    /// A short lowercase name, as written into the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Binary => "binary",
        }
    }

    /// The format with this [`Format::name`], if any.
    pub fn from_name(name: &str) -> Option<Format> {
        [Format::Text, Format::Binary]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

/// One stream of extracted text with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Path of the part inside the file; empty for the file's own text.
    pub name: String,
    /// The format the part was read as.
    pub format: Format,
    /// The extracted text. Spans reported by the matcher are byte offsets
    /// into this string.
    pub text: String,
}

/// A part (or the whole file) that could not be read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSkip {
    /// Path of the part inside the file; empty for the file itself.
    pub name: String,
    /// Why it was skipped, in words a user can act on.
    pub reason: String,
}

/// Limits that guard extraction against hostile input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Most bytes of text kept from one part; the rest is cut and reported.
    pub max_part_text: usize,
    /// Most parts one file may yield.
    pub max_parts: usize,
    /// Deepest nesting of containers (archive in mail in archive...).
    pub max_depth: usize,
    /// Most bytes all the parts of one file may expand to.
    pub max_expanded: u64,
    /// Largest ratio of expanded to compressed size for an archive entry.
    pub max_ratio: u64,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_part_text: 64 << 20,
            max_parts: 10_000,
            max_depth: 8,
            max_expanded: 1 << 30,
            max_ratio: 200,
        }
    }
}

/// The result of extracting one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// The format of the file itself (`None` only for an empty result).
    pub format: Option<Format>,
    /// The text parts, in the order they appear in the file.
    pub parts: Vec<Part>,
    /// What could not be read, with reasons.
    pub skipped: Vec<PartSkip>,
}

/// Extract the text parts of a file from its bytes.
///
/// `name_hint` is the file name (used only as a hint: detection is by
/// content). Never panics; bad input ends up in [`Extracted::skipped`].
pub fn extract(bytes: &[u8], name_hint: &str, limits: &ExtractLimits) -> Extracted {
    let _ = name_hint;
    let mut out = Extracted::default();
    match decode_text(bytes) {
        Some(mut text) => {
            if text.len() > limits.max_part_text {
                let cut = floor_char_boundary(&text, limits.max_part_text);
                text.truncate(cut);
                out.skipped.push(PartSkip {
                    name: String::new(),
                    reason: format!(
                        "text cut at {cut} bytes (limit max_part_text = {})",
                        limits.max_part_text
                    ),
                });
            }
            out.format = Some(Format::Text);
            out.parts.push(Part {
                name: String::new(),
                format: Format::Text,
                text,
            });
        }
        None => out.format = Some(Format::Binary),
    }
    out
}

/// The largest char boundary of `s` at or below `i`.
pub(crate) fn floor_char_boundary(s: &str, i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    let mut i = i;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
