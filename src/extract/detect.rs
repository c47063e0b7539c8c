//! Format detection by content; the file name only breaks ties.
//!
//! Order of decisions, on the leading bytes:
//! 1. magic numbers: `%PDF-` (within the first 1 KiB, as readers allow),
//!    ZIP local or end-of-directory header, gzip `1f 8b`, OLE2 compound file
//!    (legacy Office, `.msg`), `!BDN` with `SM` at 8 (Outlook PST/OST),
//!    `ustar` at offset 257 (POSIX tar);
//! 2. other data that [`decode_text`](super::decode_text) would refuse is
//!    binary;
//! 3. text that opens with an mbox `From ` line is an mbox;
//! 4. text that opens with an RFC 5322 header block holding at least two
//!    well-known mail fields (or one, when the name ends in `.eml`/`.msg`/
//!    `.mbox`... as a tie-breaker) is a mail: maildir files such as `1.` have
//!    no extension;
//! 5. text that opens (after whitespace, a BOM, comments or an XML
//!    declaration) with `<!doctype html`, `<html`, `<head` or `<body`, or
//!    holds `<html` in its first KiB, or is named `.htm(l)` and holds a tag,
//!    is HTML;
//! 6. everything else is text.
//!
//! Office documents are ZIPs: the archive reader tells them apart by their
//! inner files.

/// What the bytes look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Plain text.
    Text,
    /// No text to extract.
    Binary,
    /// One RFC 5322 message.
    Mail,
    /// An mbox mailbox.
    Mbox,
    /// HTML.
    Html,
    /// PDF.
    Pdf,
    /// A ZIP archive (Office Open XML and OpenDocument included).
    Zip,
    /// gzip.
    Gzip,
    /// tar.
    Tar,
    /// An OLE2 compound file: legacy `.doc`, `.xls`, `.ppt`, `.msg`.
    Ole,
    /// An Outlook mail store (PST or OST: `!BDN` ... `SM`).
    Pst,
}

/// How many bytes of a header block are examined.
const HEADER_SNIFF: usize = 16 * 1024;

/// Header fields that only mail carries (lowercase).
const MAIL_FIELDS: &[&str] = &[
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "mime-version",
    "content-type",
    "delivered-to",
    "reply-to",
    "in-reply-to",
    "references",
    "sender",
    "x-mailer",
    "content-transfer-encoding",
    "thread-topic",
    "x-original-to",
    "envelope-to",
    "dkim-signature",
    "list-id",
    "user-agent",
];

/// Recognise `bytes`; `name_hint` only breaks ties.
pub fn detect(bytes: &[u8], name_hint: &str) -> Kind {
    let lower_name = name_hint.to_ascii_lowercase();
    let ext = lower_name.rsplit_once('.').map_or("", |(_, e)| e);
    let head = &bytes[..bytes.len().min(1024)];
    if find(head, b"%PDF-").is_some() {
        return Kind::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    if bytes.starts_with(b"\x1f\x8b") {
        return Kind::Gzip;
    }
    if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Kind::Ole;
    }
    if super::pst::is_pst(bytes) {
        return Kind::Pst;
    }
    if bytes.len() >= 512 && bytes.get(257..262) == Some(b"ustar") {
        return Kind::Tar;
    }
    if super::text::looks_binary_head(bytes) {
        return Kind::Binary;
    }
    let body = strip_bom(bytes);
    if is_mbox(body) {
        return Kind::Mbox;
    }
    let mail_name = matches!(ext, "eml" | "msg" | "mbx" | "mbox" | "mail");
    if is_mail(body, mail_name) {
        return Kind::Mail;
    }
    if is_html(body, matches!(ext, "html" | "htm" | "xhtml")) {
        return Kind::Html;
    }
    Kind::Text
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Naive substring search (the haystacks here are at most a few KiB).
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    // SIMD substring search: the naive window comparison was 3-5% of
    // indexing a large mailbox (every message is searched for `>From `).
    memchr::memmem::find(hay, needle)
}

/// An mbox opens with `From ` followed by an address-ish token.
fn is_mbox(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(b"From ") else {
        return false;
    };
    let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let line = &rest[..line_end];
    // `From sender date`: a token, a space, more; and the next line looks
    // like a header field, so that prose starting "From the..." is not mbox.
    let has_token = line.iter().take_while(|&&b| b != b' ').count() > 0 && line.contains(&b' ');
    has_token && next_is_header(&rest[(line_end + 1).min(rest.len())..])
}

fn next_is_header(bytes: &[u8]) -> bool {
    let line_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    field_name(&bytes[..line_end]).is_some()
}

/// The field name of a `Name: value` line, if it is one.
pub(crate) fn field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    let ok =
        !name.is_empty() && name.len() <= 76 && name.iter().all(|&b| (b'!'..=b'~').contains(&b));
    ok.then_some(name)
}

/// An RFC 5322 header block: every line up to the first empty one is a field
/// or a continuation, and enough of them are mail fields.
fn is_mail(bytes: &[u8], mail_name: bool) -> bool {
    let head = &bytes[..bytes.len().min(HEADER_SNIFF)];
    let mut known = 0usize;
    let mut fields = 0usize;
    let mut complete = false;
    let mut lines = head.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            complete = true;
            break;
        }
        if lines.peek().is_none() && head.len() < bytes.len() {
            // The sniff window ended mid-line: judge what we have.
            complete = true;
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            if fields == 0 {
                return false;
            }
            continue;
        }
        match field_name(line) {
            Some(name) => {
                fields += 1;
                let lower = name.to_ascii_lowercase();
                if MAIL_FIELDS.iter().any(|f| f.as_bytes() == lower.as_slice()) {
                    known += 1;
                }
            }
            None => return false,
        }
    }
    // A file that is only a header block (no body) is still a mail.
    let complete = complete || head.len() == bytes.len();
    complete && fields > 0 && (known >= 2 || (known >= 1 && mail_name))
}

fn is_html(bytes: &[u8], html_name: bool) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let lower = head.to_ascii_lowercase();
    let mut s: &[u8] = &lower;
    loop {
        s = s.trim_ascii_start();
        if s.starts_with(b"<!--") {
            match find(s, b"-->") {
                Some(end) => s = &s[end + 3..],
                None => break,
            }
        } else if s.starts_with(b"<?xml") {
            match find(s, b"?>") {
                Some(end) => s = &s[end + 2..],
                None => break,
            }
        } else {
            break;
        }
    }
    for start in [&b"<!doctype html"[..], b"<html", b"<head", b"<body"] {
        if s.starts_with(start) {
            return true;
        }
    }
    if find(&lower, b"<html").is_some() {
        return true;
    }
    html_name
        && (find(&lower, b"<p").is_some()
            || find(&lower, b"<div").is_some()
            || find(&lower, b"</").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&[u8], &str, Kind)] = &[
            (b"%PDF-1.4\n...", "x.bin", Kind::Pdf),
            (b"PK\x03\x04rest", "x.docx", Kind::Zip),
            (b"PK\x05\x06\0\0", "", Kind::Zip),
            (b"\x1f\x8b\x08\0", "a.gz", Kind::Gzip),
            (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0", "a.xls", Kind::Ole),
            (b"!BDN\0\0\0\0SM\x17\0", "a.pst", Kind::Pst),
            (b"!BDN not a store", "a.txt", Kind::Text),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a.png", Kind::Binary),
            (
                b"From alice@example.com Mon Jan  1 00:00:00 2001\nFrom: alice@example.com\n\nhi\n",
                "box",
                Kind::Mbox,
            ),
            (
                b"From the desk of the editor: hello\nmore prose\n",
                "",
                Kind::Text,
            ),
            (
                b"Return-Path: <a@b>\nReceived: from x\n\tby y\nSubject: hi\n\nbody\n",
                "1.",
                Kind::Mail,
            ),
            (b"Subject: hi\n\nbody\n", "note.txt", Kind::Text),
            (b"Subject: hi\n\nbody\n", "note.eml", Kind::Mail),
            (b"From: a@b\r\nTo: c@d\r\n\r\nbody\r\n", "", Kind::Mail),
            (
                b"Dear Amy: see below.\nTo: whom it may concern\n\n",
                "",
                Kind::Text,
            ),
            (
                b"  <!DOCTYPE html><html><body>x</body></html>",
                "",
                Kind::Html,
            ),
            (b"<!-- c --><html><p>x", "", Kind::Html),
            (b"<p>hello</p>", "page.html", Kind::Html),
            (b"<p>hello</p>", "page.txt", Kind::Text),
            (b"a < b and c > d", "", Kind::Text),
            (b"", "", Kind::Text),
        ];
        for (bytes, name, want) in cases {
            assert_eq!(
                detect(bytes, name),
                *want,
                "{:?} {name}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn tar_magic() {
        let mut t = vec![0u8; 1024];
        t[..5].copy_from_slice(b"a.txt");
        t[257..262].copy_from_slice(b"ustar");
        assert_eq!(detect(&t, "x"), Kind::Tar);
    }
}
