//! Outlook messages as MAPI properties, shared by `.msg` ([MS-OXMSG]) and
//! PST/OST stores ([MS-PST]), and how one message becomes parts.
//!
//! A message is a property bag (subject, sender, bodies, times), a
//! recipient table and an attachment table ([MS-OXPROPS] names every
//! property used here by its id). Its main part reads like a mail's (see
//! the module root): `Subject:`, `From:`, `To:`, `Cc:` and `Date:` lines,
//! a blank line, then the body. The body is `PR_BODY`; without it, the
//! compressed RTF body ([MS-OXRTFCP], with HTML de-encapsulated per
//! [MS-OXRTFEX] when it was made from HTML), else the HTML body reduced to
//! text. An HTML body whose visible text differs from the plain one is the
//! part `html`, as for `.eml`. Attachments are `attachment:NAME` (the long
//! file name, else the short one, else the display name, else
//! `attachmentN`; repeated names get `~2`, `~3`), read again through
//! [`extract_into`]; embedded messages (`afEmbeddedMessage`) are walked the
//! same way, one level deeper, under `max_depth`. Items that are not mail
//! (contacts, distribution lists) add the string values of their contact
//! properties (`0x3A00`-`0x3AFF`: names, company, addresses, numbers), one
//! a line, after the body.
//!
//! 8-bit strings (`PT_STRING8`) are decoded in the message's code page
//! (`PR_MESSAGE_CODEPAGE`, else `PR_INTERNET_CPID`, else Windows-1252)
//! through the `codepage` crate's table of Windows code pages.

use std::collections::{BTreeMap, HashSet};

use encoding_rs::Encoding;

use super::html::{html_bytes_to_text, html_to_text};
use super::sink::Sink;
use super::{clean_name, extract_into, join, rtf, Format};

/// Property ids ([MS-OXPROPS]).
pub(crate) mod id {
    pub const SUBJECT: u16 = 0x0037;
    pub const CLIENT_SUBMIT_TIME: u16 = 0x0039;
    pub const SENT_REPRESENTING_NAME: u16 = 0x0042;
    pub const SENT_REPRESENTING_EMAIL: u16 = 0x0065;
    pub const SENDER_NAME: u16 = 0x0C1A;
    pub const SENDER_EMAIL: u16 = 0x0C1F;
    pub const RECIPIENT_TYPE: u16 = 0x0C15;
    pub const DISPLAY_CC: u16 = 0x0E03;
    pub const DISPLAY_TO: u16 = 0x0E04;
    pub const MESSAGE_DELIVERY_TIME: u16 = 0x0E06;
    pub const BODY: u16 = 0x1000;
    pub const RTF_COMPRESSED: u16 = 0x1009;
    pub const HTML: u16 = 0x1013;
    pub const DISPLAY_NAME: u16 = 0x3001;
    pub const EMAIL_ADDRESS: u16 = 0x3003;
    pub const CREATION_TIME: u16 = 0x3007;
    pub const ATTACH_DATA: u16 = 0x3701;
    pub const ATTACH_FILENAME: u16 = 0x3704;
    pub const ATTACH_METHOD: u16 = 0x3705;
    pub const ATTACH_LONG_FILENAME: u16 = 0x3707;
    pub const SMTP_ADDRESS: u16 = 0x39FE;
    pub const INTERNET_CPID: u16 = 0x3FDE;
    pub const MESSAGE_CODEPAGE: u16 = 0x3FFD;
    pub const SENDER_SMTP: u16 = 0x5D01;
    pub const SENT_REPRESENTING_SMTP: u16 = 0x5D02;
}

/// One property value, as far as extraction needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// `PT_UNICODE`.
    Str(String),
    /// `PT_STRING8`, still in the message's code page.
    Str8(Vec<u8>),
    /// `PT_BINARY` (and `PT_OBJECT` data read as bytes).
    Bin(Vec<u8>),
    /// Integers and booleans.
    Int(i64),
    /// `PT_SYSTIME`: 100 ns ticks since 1601-01-01 UTC.
    Time(i64),
}

/// A property bag keyed by property id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Props(pub(crate) BTreeMap<u16, Value>);

impl Props {
    fn get(&self, id: u16) -> Option<&Value> {
        self.0.get(&id)
    }

    /// A string property, decoded with `enc` when it is 8-bit.
    pub(crate) fn str(&self, id: u16, enc: &'static Encoding) -> Option<String> {
        let s = match self.get(id)? {
            Value::Str(s) => s.clone(),
            Value::Str8(b) => enc.decode_without_bom_handling(b).0.into_owned(),
            _ => return None,
        };
        let s = s.trim_end_matches('\0').trim().to_owned();
        (!s.is_empty()).then_some(s)
    }

    /// A binary property (or an 8-bit string's bytes).
    pub(crate) fn bin(&self, id: u16) -> Option<&[u8]> {
        match self.get(id)? {
            Value::Bin(b) | Value::Str8(b) => Some(b),
            _ => None,
        }
    }

    /// An integer property.
    pub(crate) fn int(&self, id: u16) -> Option<i64> {
        match self.get(id)? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A time property.
    pub(crate) fn time(&self, id: u16) -> Option<i64> {
        match self.get(id)? {
            Value::Time(t) => Some(*t),
            _ => None,
        }
    }
}

/// The data of one attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttachData {
    /// The attached file's bytes.
    Bytes(Vec<u8>),
    /// An embedded message.
    Message(Box<Message>),
    /// Not readable, with the reason (or a method with no data, such as a
    /// link to a file elsewhere).
    Missing(String),
}

/// One attachment: its properties and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attachment {
    pub(crate) props: Props,
    pub(crate) data: AttachData,
}

/// One message: properties, recipients, attachments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) props: Props,
    pub(crate) recipients: Vec<Props>,
    pub(crate) attachments: Vec<Attachment>,
}

impl Message {
    /// The encoding of this message's 8-bit strings.
    pub(crate) fn encoding(&self) -> &'static Encoding {
        [id::MESSAGE_CODEPAGE, id::INTERNET_CPID]
            .into_iter()
            .filter_map(|p| self.props.int(p))
            .filter_map(|cp| u16::try_from(cp).ok())
            .find_map(codepage::to_encoding)
            .unwrap_or(encoding_rs::WINDOWS_1252)
    }

    /// The subject, if any, without the prefix marker a PST may store
    /// before it ([MS-PST] §2.5.3.1.1: U+0001 and the prefix length).
    pub(crate) fn subject(&self) -> Option<String> {
        let s = self.props.str(id::SUBJECT, self.encoding())?;
        let s = match s.strip_prefix('\u{1}') {
            Some(rest) => rest.chars().skip(1).collect::<String>(),
            None => s,
        };
        let s = s.trim().to_owned();
        (!s.is_empty()).then_some(s)
    }

    /// Delivery time, else submit time, else creation time.
    pub(crate) fn time(&self) -> Option<i64> {
        [
            id::MESSAGE_DELIVERY_TIME,
            id::CLIENT_SUBMIT_TIME,
            id::CREATION_TIME,
        ]
        .into_iter()
        .find_map(|p| self.props.time(p))
    }
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `(date, time)` of a FILETIME: `YYYY-MM-DD`, `HH:MM:SS`.
pub(crate) fn filetime_parts(ft: i64) -> Option<(String, String)> {
    // 1601-01-01 to 1970-01-01 in seconds.
    let secs = ft.checked_div(10_000_000)?.checked_sub(11_644_473_600)?;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if !(1..=9999).contains(&y) {
        return None;
    }
    Some((
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60),
    ))
}

fn address(name: Option<String>, email: Option<String>) -> Option<String> {
    let email = email.filter(|e| e.contains('@'));
    match (name, email) {
        (Some(n), Some(e)) if n != e => Some(format!("{n} <{e}>")),
        (Some(n), _) => Some(n),
        (None, Some(e)) => Some(e),
        (None, None) => None,
    }
}

/// The header lines at the top of a message's main part.
fn header_lines(m: &Message) -> String {
    let enc = m.encoding();
    let p = &m.props;
    let mut s = String::new();
    if let Some(subject) = m.subject() {
        s.push_str(&format!("Subject: {subject}\n"));
    }
    let from = address(
        p.str(id::SENT_REPRESENTING_NAME, enc)
            .or_else(|| p.str(id::SENDER_NAME, enc)),
        [
            id::SENT_REPRESENTING_SMTP,
            id::SENDER_SMTP,
            id::SENT_REPRESENTING_EMAIL,
            id::SENDER_EMAIL,
        ]
        .into_iter()
        .filter_map(|i| p.str(i, enc))
        .find(|e| e.contains('@')),
    );
    if let Some(f) = from {
        s.push_str(&format!("From: {f}\n"));
    }
    for (label, kind, display) in [("To", 1, id::DISPLAY_TO), ("Cc", 2, id::DISPLAY_CC)] {
        let list: Vec<String> = m
            .recipients
            .iter()
            .filter(|r| r.int(id::RECIPIENT_TYPE).unwrap_or(1) == kind)
            .filter_map(|r| {
                address(
                    r.str(id::DISPLAY_NAME, enc),
                    r.str(id::SMTP_ADDRESS, enc)
                        .or_else(|| r.str(id::EMAIL_ADDRESS, enc)),
                )
            })
            .collect();
        let line = if list.is_empty() {
            p.str(display, enc)
        } else {
            Some(list.join(", "))
        };
        if let Some(l) = line {
            s.push_str(&format!("{label}: {l}\n"));
        }
    }
    if let Some((d, t)) = m.time().and_then(filetime_parts) {
        s.push_str(&format!("Date: {d} {t} +0000\n"));
    }
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// The plain body and, when it differs, the HTML body's visible text.
fn bodies(sink: &mut Sink<'_>, m: &Message, name: &str) -> (String, Option<String>) {
    let enc = m.encoding();
    let html = m.props.bin(id::HTML).map(|h| {
        let from_cpid = enc.decode_without_bom_handling(h).0;
        // A <meta charset> wins over the code page, as in browsers.
        if h.windows(7).any(|w| w.eq_ignore_ascii_case(b"charset")) {
            html_bytes_to_text(h)
        } else {
            html_to_text(&from_cpid)
        }
    });
    let plain = if let Some(b) = m.props.str(id::BODY, enc) {
        Some(b)
    } else if let Some(rtf) = m.props.bin(id::RTF_COMPRESSED) {
        match rtf::decompress(rtf, sink.limits.max_part_text) {
            Ok(raw) => Some(rtf::rtf_to_text(&raw)),
            Err(e) => {
                sink.skip(name, format!("compressed RTF body not readable: {e}"));
                None
            }
        }
    } else {
        None
    };
    match (plain, html) {
        (Some(p), Some(h)) => {
            let differs = super::mail::squash(&p) != super::mail::squash(&h);
            (p, differs.then_some(h))
        }
        (Some(p), None) => (p, None),
        (None, Some(h)) => (h, None),
        (None, None) => (String::new(), None),
    }
}

/// The name an attachment is listed under.
fn attachment_name(a: &Attachment, enc: &'static Encoding, k: usize) -> String {
    let from_props = [
        id::ATTACH_LONG_FILENAME,
        id::ATTACH_FILENAME,
        id::DISPLAY_NAME,
    ]
    .into_iter()
    .find_map(|p| a.props.str(p, enc));
    let from_message = match &a.data {
        AttachData::Message(m) => m.subject(),
        _ => None,
    };
    from_props
        .or(from_message)
        .map(|n| clean_name(&n))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("attachment{}", k + 1))
}

/// Emit a message as its main part (format `format`), its `html` part and
/// its attachments, under the part name `name`.
pub(crate) fn emit_message(
    sink: &mut Sink<'_>,
    m: &Message,
    name: &str,
    format: Format,
    depth: usize,
) {
    let (plain, html) = bodies(sink, m, name);
    let mut text = header_lines(m);
    text.push_str(&plain);
    // Contacts, distribution lists and other items keep their text in
    // the contact properties (names, company, addresses, phone numbers).
    let enc = m.encoding();
    for (&pid, _) in m.props.0.range(0x3A00..=0x3AFF) {
        if let Some(v) = m.props.str(pid, enc) {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&v);
        }
    }
    sink.text(name, format, text);
    if let Some(h) = html {
        sink.text(&join(name, "html"), Format::Html, h);
    }
    let mut used: HashSet<String> = HashSet::new();
    for (k, a) in m.attachments.iter().enumerate() {
        if sink.is_full() {
            return;
        }
        let unique = super::mail::unique_name(&mut used, &attachment_name(a, enc, k));
        let pname = join(name, &format!("attachment:{unique}"));
        if depth + 1 > sink.limits.max_depth {
            sink.skip(
                &pname,
                format!("nested deeper than max_depth = {}", sink.limits.max_depth),
            );
            continue;
        }
        match &a.data {
            AttachData::Bytes(b) => {
                extract_into(sink, b, &unique, &pname, depth + 1);
            }
            AttachData::Message(inner) => emit_message(sink, inner, &pname, Format::Msg, depth + 1),
            AttachData::Missing(why) => sink.skip(&pname, why.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetimes() {
        // 2014-11-24 09:30:00 UTC.
        let ft = (1_416_821_400i64 + 11_644_473_600) * 10_000_000;
        assert_eq!(
            filetime_parts(ft),
            Some(("2014-11-24".into(), "09:30:00".into()))
        );
        assert_eq!(
            filetime_parts(0),
            Some(("1601-01-01".into(), "00:00:00".into()))
        );
        assert_eq!(filetime_parts(i64::MAX), None);
    }

    /// Oracle: every day from 1601 to 2400 steps the civil date by one.
    #[test]
    fn civil_dates_step_by_one_day() {
        let mut prev = civil_from_days(-134_774);
        assert_eq!(prev, (1601, 1, 1));
        for z in -134_773..157_000 {
            let cur = civil_from_days(z);
            let next_day = (prev.0, prev.1, prev.2 + 1);
            let next_month = (prev.0, prev.1 + 1, 1);
            let next_year = (prev.0 + 1, 1, 1);
            assert!(
                cur == next_day || cur == next_month || cur == next_year,
                "{prev:?} -> {cur:?}"
            );
            assert!(cur.2 <= 31 && cur.1 <= 12);
            prev = cur;
        }
    }
}
