//! Email: one RFC 5322 message (MIME included) or an mbox of them.
//!
//! Parsing is done by `mail-parser` 0.11 (Stalwart Labs; MIT/Apache-2.0):
//! RFC 5322 headers with RFC 2047 encoded words, MIME multipart without
//! recursion (an explicit stack, so thousands of nested multiparts cannot
//! overflow ours), base64 and quoted-printable, and charsets in bodies,
//! RFC 2047 encoded words and RFC 2231 parameters through `encoding_rs`
//! (every WHATWG label: UTF-8, Windows-125x, ISO-8859-x, KOI8-R/U, GBK,
//! GB18030, Big5, Shift_JIS, EUC-JP, ISO-2022-JP, EUC-KR...) plus UTF-7. It never panics by
//! contract; we still run it under `catch_unwind`. Its `full_encoding`
//! feature is on: without it, multi-byte charsets (GB2312, Big5, Shift_JIS,
//! ISO-2022-JP, EUC-KR...) came out as UTF-8 mojibake. A text part that
//! names no charset and is not UTF-8 is decoded in the charset `chardetng`
//! detects. We add what it leaves to
//! the caller: `format=flowed` (RFC 3676) reflowing, HTML bodies to visible
//! text, attachments extracted recursively, nested `message/rfc822` walked
//! with a depth limit, and mbox splitting with `>From ` unescaping (mboxrd).
//!
//! Naming (see the module root): the message's main part carries its
//! `Subject:`, `From:`, `To:`, `Cc:`, `Date:` lines, a blank line and the
//! text body; these header lines are kept because leaked mail is quoted with
//! them ("From: ... Sent: ... Subject: ..."). An HTML alternative whose
//! visible text differs from the plain body (compared on letters and digits
//! only) is the part `html`. Attachments are `attachment:NAME`.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mail_parser::{Address, Message, MessageParser, MimeHeaders, PartType};

use super::html::html_to_text;
use super::sink::Sink;
use super::{clean_name, decode_text, extract_into, join, Format};

/// The parser, built once: MIME headers, Subject, Date and the address
/// fields are parsed; other fields are skipped (we do not index them, and
/// parsing `Received:` chains cost a tenth of the time on real mail).
fn parser() -> &'static MessageParser {
    static PARSER: std::sync::OnceLock<MessageParser> = std::sync::OnceLock::new();
    PARSER.get_or_init(|| {
        MessageParser::new()
            .with_minimal_headers()
            .default_header_ignore()
    })
}

/// Extract one message whose main part is named `name`.
pub(crate) fn extract_mail(sink: &mut Sink<'_>, bytes: &[u8], name: &str, depth: usize) {
    let parsed = catch_unwind(AssertUnwindSafe(|| parser().parse(bytes)));
    match parsed {
        Ok(Some(msg)) if !msg.parts.is_empty() => walk(sink, &msg, name, depth),
        Ok(_) => {
            sink.skip(name, "no RFC 5322 header block found: read as plain text");
            text_fallback(sink, bytes, name);
        }
        Err(_) => {
            sink.skip(name, "mail parser panicked: read as plain text");
            text_fallback(sink, bytes, name);
        }
    }
}

fn text_fallback(sink: &mut Sink<'_>, bytes: &[u8], name: &str) {
    match decode_text(bytes) {
        Some(t) => sink.text(name, Format::Text, t),
        None => sink.binary(name, Format::Binary),
    }
}

/// The header lines kept as context at the top of the main part.
fn header_lines(msg: &Message<'_>) -> String {
    let mut s = String::new();
    if let Some(subject) = msg.subject() {
        s.push_str("Subject: ");
        s.push_str(subject.trim());
        s.push('\n');
    }
    for (label, addr) in [("From", msg.from()), ("To", msg.to()), ("Cc", msg.cc())] {
        if let Some(a) = addr {
            let list = format_addresses(a);
            if !list.is_empty() {
                s.push_str(label);
                s.push_str(": ");
                s.push_str(&list);
                s.push('\n');
            }
        }
    }
    if let Some(date) = msg.header_raw("Date") {
        s.push_str("Date: ");
        s.push_str(date.trim());
        s.push('\n');
    }
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

fn format_addresses(a: &Address<'_>) -> String {
    let mut out = Vec::new();
    for addr in a.iter() {
        let name = addr
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let email = addr
            .address
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        out.push(match (name, email) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (Some(n), None) => n.to_owned(),
            (None, Some(e)) => e.to_owned(),
            (None, None) => continue,
        });
    }
    out.join(", ")
}

/// Letters and digits only, lowercased: to compare two renderings of a body.
pub(crate) fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            }
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn walk(sink: &mut Sink<'_>, msg: &Message<'_>, name: &str, depth: usize) {
    let mut body = header_lines(msg);
    let mut plain = String::new();
    for &id in &msg.text_body {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        let text = match &part.body {
            PartType::Text(t) => {
                let ct = part.content_type();
                let flowed = ct
                    .and_then(|c| c.attribute("format"))
                    .is_some_and(|f| f.eq_ignore_ascii_case("flowed"));
                let t = undeclared_charset(msg, part)
                    .map_or(std::borrow::Cow::Borrowed(&**t), Into::into);
                if flowed {
                    let delsp = ct
                        .and_then(|c| c.attribute("delsp"))
                        .is_some_and(|d| d.eq_ignore_ascii_case("yes"));
                    unflow(&t, delsp)
                } else {
                    t.into_owned()
                }
            }
            PartType::Html(h) => html_to_text(h),
            _ => continue,
        };
        if part.is_encoding_problem {
            sink.skip(
                name,
                "body not decodable (bad base64 or quoted-printable, or truncated): raw text kept",
            );
        }
        if !plain.is_empty() && !plain.ends_with('\n') {
            plain.push('\n');
        }
        plain.push_str(&text);
    }
    body.push_str(&plain);
    sink.text(name, Format::Mail, body);

    let mut html = String::new();
    for &id in &msg.html_body {
        if msg.text_body.contains(&id) {
            continue;
        }
        if let Some(PartType::Html(h)) = msg.parts.get(id as usize).map(|p| &p.body) {
            if !html.is_empty() {
                html.push('\n');
            }
            html.push_str(&html_to_text(h));
        }
    }
    if !html.is_empty() && squash(&html) != squash(&plain) {
        sink.text(&join(name, "html"), Format::Html, html);
    }

    let mut used: HashSet<String> = HashSet::new();
    for &id in &msg.attachments {
        if sink.is_full() {
            return;
        }
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        let base = part
            .attachment_name()
            .map(clean_name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("part{id}"));
        let unique = unique_name(&mut used, &base);
        let pname = join(name, &format!("attachment:{unique}"));
        if part.is_encoding_problem {
            sink.skip(&pname, "attachment not decodable (bad base64 or quoted-printable, or truncated): raw bytes kept");
        }
        let deeper = depth + 1;
        if !matches!(
            part.body,
            PartType::Text(_) | PartType::Html(_) | PartType::Multipart(_)
        ) && deeper > sink.limits.max_depth
        {
            sink.skip(
                &pname,
                format!("nested deeper than max_depth = {}", sink.limits.max_depth),
            );
            continue;
        }
        let declared_text = part
            .content_type()
            .is_none_or(|c| c.ctype().eq_ignore_ascii_case("text"));
        let base64 = part
            .content_transfer_encoding()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"));
        if part.is_encoding_problem && !declared_text && base64 {
            // mail-parser kept the undecodable body as raw text: decode what
            // is decodable (a cut attachment keeps its head) and read that.
            let raw = match &part.body {
                PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
                PartType::Binary(b) | PartType::InlineBinary(b) => b.as_ref(),
                _ => &[],
            };
            extract_into(sink, &lenient_base64(raw), &unique, &pname, deeper);
            continue;
        }
        match &part.body {
            PartType::Text(t) => {
                let t = undeclared_charset(msg, part).unwrap_or_else(|| t.to_string());
                sink.text(&pname, Format::Text, t);
            }
            PartType::Html(h) => sink.text(&pname, Format::Html, html_to_text(h)),
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                extract_into(sink, b, &unique, &pname, deeper);
            }
            PartType::Message(m) => {
                if m.parts.is_empty() {
                    sink.skip(&pname, "empty attached message");
                } else {
                    walk(sink, m, &pname, deeper);
                }
            }
            PartType::Multipart(_) => {}
        }
    }
}

/// `base`, or `base~2`, `base~3`... the first not yet in `used` (and now
/// in it): unique part names, the same on every run.
pub(crate) fn unique_name(used: &mut HashSet<String>, base: &str) -> String {
    let mut unique = base.to_owned();
    let mut n = 2;
    while !used.insert(unique.clone()) {
        unique = format!("{base}~{n}");
        n += 1;
    }
    unique
}

/// A text part without a `charset` parameter whose bytes are not UTF-8
/// (mail-parser then gives U+FFFD for them): its body again, decoded in the
/// charset that `chardetng` detects. `None` when the part declares a
/// charset or decoded cleanly.
fn undeclared_charset(msg: &Message<'_>, part: &mail_parser::MessagePart<'_>) -> Option<String> {
    let PartType::Text(t) = &part.body else {
        return None;
    };
    if !t.contains('\u{FFFD}')
        || part
            .content_type()
            .and_then(|c| c.attribute("charset"))
            .is_some()
    {
        return None;
    }
    let raw = msg
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)?;
    let bytes: std::borrow::Cow<'_, [u8]> = match part.encoding {
        mail_parser::Encoding::None => raw.into(),
        mail_parser::Encoding::Base64 => lenient_base64(raw).into(),
        mail_parser::Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(raw)?.into()
        }
    };
    let enc = super::text::detect_legacy(&bytes);
    let (text, _) = enc.decode_without_bom_handling(&bytes);
    Some(text.into_owned())
}

/// Base64 decoding that skips every byte outside the alphabet and drops a
/// trailing incomplete group: the readable head of a damaged attachment.
pub(crate) fn lenient_base64(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in raw {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Undo RFC 3676 `format=flowed`: a line ending in a space continues on the
/// next line of the same quote depth; space-stuffing is removed; with
/// `delsp=yes` the trailing space is deleted rather than kept.
pub(crate) fn unflow(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<usize> = None; // quote depth of a flowed line being continued
    for line in text.lines() {
        let depth = line.bytes().take_while(|&b| b == b'>').count();
        let mut content = &line[depth..];
        if let Some(c) = content.strip_prefix(' ') {
            content = c;
        }
        match open {
            Some(d) if d == depth => {}
            Some(_) => {
                out.push('\n');
                out.push_str(&line[..depth]);
                if depth > 0 {
                    out.push(' ');
                }
            }
            None => {
                out.push_str(&line[..depth]);
                if depth > 0 {
                    out.push(' ');
                }
            }
        }
        let flowed = content.ends_with(' ') && content != "-- ";
        if flowed {
            out.push_str(if delsp {
                &content[..content.len() - 1]
            } else {
                content
            });
            open = Some(depth);
        } else {
            out.push_str(content);
            out.push('\n');
            open = None;
        }
    }
    if out.ends_with('\n') && !text.ends_with('\n') {
        out.pop();
    }
    out
}

/// Split an mbox into messages named `1`, `2`, ... under `name`. A mailbox
/// that is the file itself (`depth` 0) applies `max_parts` to each message
/// (see `stream.rs`, which reads larger mailboxes message by message).
pub(crate) fn extract_mbox(sink: &mut Sink<'_>, bytes: &[u8], name: &str, depth: usize) {
    let deeper = depth + 1;
    if deeper > sink.limits.max_depth {
        sink.skip(
            name,
            format!("nested deeper than max_depth = {}", sink.limits.max_depth),
        );
        return;
    }
    for (k, (start, end)) in split_mbox(bytes).into_iter().enumerate() {
        if depth == 0 {
            // The mailbox is the file: each message gets the part limit,
            // as when a mailbox too large to hold is streamed.
            sink.new_scope();
        } else if sink.is_full() {
            return;
        }
        let msg = unescape_from(&bytes[start..end]);
        extract_mail(sink, &msg, &join(name, &(k + 1).to_string()), deeper);
    }
}

/// Byte ranges of the messages of an mbox, each without its `From ` line.
///
/// A separator is a line starting with `From ` at the start of the file,
/// after an empty line, or followed by a header field line.
pub(crate) fn split_mbox(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut current: Option<usize> = None;
    let mut pos = 0;
    let mut prev_blank = true;
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |e| pos + e + 1);
        let line = &bytes[pos..end];
        let is_sep = line.starts_with(b"From ")
            && (prev_blank || {
                let next_end = bytes[end..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |e| end + e);
                super::detect::field_name(&bytes[end..next_end]).is_some()
            });
        if is_sep {
            if let Some(s) = current {
                ranges.push((s, pos));
            }
            current = Some(end);
        }
        let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
        prev_blank = trimmed.strip_suffix(b"\r").unwrap_or(trimmed).is_empty();
        pos = end;
    }
    if let Some(s) = current {
        ranges.push((s, bytes.len()));
    }
    ranges
}

/// mboxrd unescaping: `>From `, `>>From `... lose one `>`.
pub(crate) fn unescape_from(msg: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if super::detect::find(msg, b">From ").is_none() {
        return msg.into();
    }
    let mut out = Vec::with_capacity(msg.len());
    for line in msg.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if quotes > 0 && line[quotes..].starts_with(b"From ") {
            out.extend_from_slice(&line[1..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_base64_table() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"aGVsbG8=", b"hello"),
            (b"aGVs\r\nbG8", b"hello"),
            (b"!!aG*Vs#bG8=garbage", b"hello"),
            (b"aGVsbG8gd29y", b"hello wor"),
            (b"aGVsbG8gd2", b"hello w"),
            (b"", b""),
        ];
        for (input, want) in cases {
            assert_eq!(
                lenient_base64(input),
                *want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn unflow_table() {
        let cases: &[(&str, bool, &str)] = &[
            ("Hello \nworld\n", false, "Hello world\n"),
            ("Hello \nworld\n", true, "Helloworld\n"),
            (
                "> quoted \n> more\nplain\n",
                false,
                "> quoted more\nplain\n",
            ),
            (" From stuffed\n", false, "From stuffed\n"),
            ("sig\n-- \nme\n", false, "sig\n-- \nme\n"),
            ("a \n> b\n", false, "a \n> b\n"),
        ];
        for (input, delsp, want) in cases {
            assert_eq!(unflow(input, *delsp), *want, "{input:?}");
        }
    }

    #[test]
    fn mbox_split_and_unescape() {
        let mbox = b"From a@b Mon Jan 1 2001\nSubject: one\n\n>From the start\n\nFrom b@c Tue Jan 2 2001\nSubject: two\n\nbody\n";
        let r = split_mbox(mbox);
        assert_eq!(r.len(), 2);
        let first = unescape_from(&mbox[r[0].0..r[0].1]);
        assert_eq!(&first[..], b"Subject: one\n\nFrom the start\n\n");
        assert_eq!(&mbox[r[1].0..r[1].1], b"Subject: two\n\nbody\n");
    }

    /// Oracle: a message of lines never starting with `From ` survives
    /// splitting whole, however many times it is repeated.
    #[test]
    fn mbox_split_oracle() {
        use proptest::prelude::*;
        let mut runner =
            proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(64));
        runner
            .run(
                &(
                    proptest::collection::vec("[a-zA-Z >]{0,20}", 0..8),
                    1usize..5,
                ),
                |(lines, n)| {
                    let body: String = lines
                        .iter()
                        .filter(|l| !l.starts_with("From "))
                        .map(|l| format!("{l}\n"))
                        .collect();
                    let msg = format!("Subject: s\n\n{body}");
                    let mut mbox = String::new();
                    for _ in 0..n {
                        mbox.push_str("From x@y Mon Jan 1 2001\n");
                        mbox.push_str(&msg);
                        mbox.push('\n');
                    }
                    let ranges = split_mbox(mbox.as_bytes());
                    prop_assert_eq!(ranges.len(), n);
                    for (s, e) in ranges {
                        prop_assert_eq!(&mbox[s..e], format!("{msg}\n"));
                    }
                    Ok(())
                },
            )
            .unwrap();
    }
}
