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
//! Naming: the main text of a document (text, HTML, PDF, Office file, the
//! body of a mail) is the part named by the path that reaches it (empty for
//! the file itself). A mail's main part holds its `Subject:`, `From:`, `To:`,
//! `Cc:` and `Date:` lines, a blank line, then its text body (HTML bodies
//! reduced to visible text); an HTML alternative whose visible text differs
//! from the plain one is the part `html`. Attachments are
//! `attachment:NAME` (`attachment:partN` when unnamed), mbox messages are
//! numbered from 1, archive entries keep their stored path (`../` and all:
//! names are never used to touch the filesystem).
//!
//! Nested content without text (an image attachment, a binary archive entry)
//! is a [`Part`] with [`Format::Binary`] and empty text, so that the manifest
//! lists it; notes about partial reads (cut text, unreadable PDF pages, bad
//! base64 kept as raw text) are [`PartSkip`]s named like the part they concern.
//!
//! Detection is by content ([`detect`]); the file name only breaks ties.

mod archive;
pub mod detect;
mod doc;
mod html;
pub mod isolate;
mod le;
mod mail;
mod mapi;
mod msg;
mod office;
mod ole;
mod pdf;
mod ppt;
mod pst;
mod rtf;
mod scan;
mod sink;
pub(crate) mod stream;
pub(crate) mod stream_archive;
pub mod text;

pub(crate) use archive::gzip_inner_name;
pub use html::html_to_text;
pub use isolate::Isolation;
pub use scan::PdfOcr;
pub use text::decode_text;

use detect::Kind;
use sink::Sink;

/// What a file (or a part inside it) was recognised as.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Plain text in some encoding.
    Text,
    /// Anything without extractable text: only chunks and blake3 are kept.
    Binary,
    /// One RFC 5322 message (`.eml`, a maildir file), MIME included.
    Mail,
    /// An mbox mailbox: messages separated by `From ` lines.
    Mbox,
    /// An HTML page (visible text only).
    Html,
    /// A PDF document.
    Pdf,
    /// Office Open XML word processing (`.docx`).
    Docx,
    /// Office Open XML spreadsheet (`.xlsx`).
    Xlsx,
    /// Office Open XML presentation (`.pptx`).
    Pptx,
    /// OpenDocument text (`.odt`).
    Odt,
    /// OpenDocument spreadsheet (`.ods`).
    Ods,
    /// OpenDocument presentation (`.odp`).
    Odp,
    /// Legacy binary Excel workbook (`.xls`).
    Xls,
    /// A ZIP archive (other than an Office document).
    Zip,
    /// A tar archive.
    Tar,
    /// A gzip stream.
    Gzip,
    /// Legacy binary Word document (`.doc`, Word 97-2003).
    Doc,
    /// Legacy binary PowerPoint presentation (`.ppt`, 97-2003).
    Ppt,
    /// An Outlook message saved alone (`.msg`).
    Msg,
    /// An Outlook mail store (`.pst`, `.ost`).
    Pst,
}

impl Format {
    /// Every format, in declaration order.
    pub const ALL: [Format; 20] = [
        Format::Text,
        Format::Binary,
        Format::Mail,
        Format::Mbox,
        Format::Html,
        Format::Pdf,
        Format::Docx,
        Format::Xlsx,
        Format::Pptx,
        Format::Odt,
        Format::Ods,
        Format::Odp,
        Format::Xls,
        Format::Zip,
        Format::Tar,
        Format::Gzip,
        Format::Doc,
        Format::Ppt,
        Format::Msg,
        Format::Pst,
    ];

    /// A short lowercase name, as written into the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Binary => "binary",
            Format::Mail => "mail",
            Format::Mbox => "mbox",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Odt => "odt",
            Format::Ods => "ods",
            Format::Odp => "odp",
            Format::Xls => "xls",
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::Doc => "doc",
            Format::Ppt => "ppt",
            Format::Msg => "msg",
            Format::Pst => "pst",
        }
    }

    /// The format with this [`Format::name`], if any.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
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
    /// Read PDF and legacy Office files in a worker process under a memory
    /// cap and a deadline (see [`Isolation`]); `None` reads them in this
    /// process, where a hostile file can exhaust memory.
    pub isolation: Option<Isolation>,
    /// Read the pages of a PDF that have no text layer (scans) by OCR, into
    /// the parts `page N (OCR)`; `None` lists them in the notes with the
    /// reason "OCR not run". Needs the `tesseract` program.
    pub pdf_ocr: Option<PdfOcr>,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_part_text: 64 << 20,
            max_parts: 10_000,
            max_depth: 8,
            max_expanded: 1 << 30,
            max_ratio: 200,
            isolation: None,
            pdf_ocr: None,
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
    let mut sink = Sink::new(limits);
    let format = extract_into(&mut sink, bytes, name_hint, "", 0);
    sink.finish(format)
}

/// Extract one member of an archive read member by member
/// ([`stream_archive`]), as the in-memory archive readers extract their
/// entries: parts named under `name`, nested at depth 1, under a
/// [`Sink`] of its own (`max_parts` and `max_expanded` count for the
/// member).
pub(crate) fn extract_member(
    bytes: &[u8],
    name_hint: &str,
    name: &str,
    limits: &ExtractLimits,
) -> Extracted {
    let mut sink = Sink::new(limits);
    let format = extract_into(&mut sink, bytes, name_hint, name, 1);
    sink.finish(format)
}

/// Join a container's part name and a child's name with `#`.
pub(crate) fn join(prefix: &str, child: &str) -> String {
    if prefix.is_empty() {
        child.to_owned()
    } else {
        format!("{prefix}#{child}")
    }
}

/// Extract one blob (the file, an attachment, an archive entry) whose part
/// name is `name` at container depth `depth`, and return its format.
pub(crate) fn extract_into(
    sink: &mut Sink<'_>,
    bytes: &[u8],
    name_hint: &str,
    name: &str,
    depth: usize,
) -> Format {
    match detect::detect(bytes, name_hint) {
        Kind::Text => match decode_text(bytes) {
            Some(text) => {
                sink.text(name, Format::Text, text);
                Format::Text
            }
            None => {
                sink.binary(name, Format::Binary);
                Format::Binary
            }
        },
        Kind::Binary => {
            sink.binary(name, Format::Binary);
            Format::Binary
        }
        Kind::Html => {
            sink.text(name, Format::Html, html::html_bytes_to_text(bytes));
            Format::Html
        }
        Kind::Mail => {
            mail::extract_mail(sink, bytes, name, depth);
            Format::Mail
        }
        Kind::Mbox => {
            mail::extract_mbox(sink, bytes, name, depth);
            Format::Mbox
        }
        Kind::Pdf => {
            let limits = sink.limits;
            if let Some(iso) = &limits.isolation {
                return isolate::run(sink, iso, isolate::Job::Pdf, bytes, name_hint, name, depth);
            }
            pdf::extract_pdf(sink, bytes, name, None);
            Format::Pdf
        }
        Kind::Zip => archive::extract_zip(sink, bytes, name_hint, name, depth),
        Kind::Gzip => archive::extract_gzip(sink, bytes, name_hint, name, depth),
        Kind::Tar => {
            archive::extract_tar(sink, bytes, name, depth);
            Format::Tar
        }
        Kind::Pst => pst::extract_pst(sink, bytes, name, depth),
        Kind::Ole => {
            let limits = sink.limits;
            if let Some(iso) = &limits.isolation {
                return isolate::run(sink, iso, isolate::Job::Ole, bytes, name_hint, name, depth);
            }
            ole::extract_ole(sink, bytes, name_hint, name, depth)
        }
    }
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

/// A name from outside (attachment, archive entry) made safe as a part name
/// component: `#` (the separator) becomes `%23`, control characters `?`.
pub(crate) fn clean_name(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '#' => s.push_str("%23"),
            c if c.is_control() => s.push('?'),
            c => s.push(c),
        }
    }
    s
}
