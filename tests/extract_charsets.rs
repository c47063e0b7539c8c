//! Charsets (issue 10, point 2): real legacy-charset mail made by Python's
//! `email` package from real translated manual pages and kernel
//! documentation (tests/data/extract/charset/SOURCES.md), plain text files
//! in those charsets, and HTML that names its charset. The expected text is
//! the committed UTF-8 source (`<name>.txt`).

mod common;

use common::extract_fixture as fixture;
use leakprint::extract::{decode_text, extract, ExtractLimits, Extracted, Format};

/// (source text, charset label, attachment file name): as in make_mails.py.
const MAILS: &[(&str, &str, &str)] = &[
    ("zh_cn", "gb2312", "压缩说明.txt"),
    ("zh_tw", "big5", "說明.txt"),
    ("ja", "shift_jis", "説明書.txt"),
    ("ja", "iso-2022-jp", "説明書.txt"),
    ("ko", "euc-kr", "안내.txt"),
    ("ru", "koi8-r", "справка.txt"),
    ("pl", "iso-8859-2", "pomoc-łódź.txt"),
];

fn source(name: &str) -> String {
    String::from_utf8(fixture(&format!("charset/{name}.txt"))).unwrap()
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn part<'a>(x: &'a Extracted, name: &str) -> &'a str {
    match x.parts.iter().find(|p| p.name == name) {
        Some(p) => &p.text,
        None => panic!(
            "no part {name:?} in {:?}",
            x.parts.iter().map(|p| &p.name).collect::<Vec<_>>()
        ),
    }
}

/// Han, kana and hangul characters: what mojibake loses.
fn cjk_chars(s: &str) -> usize {
    s.chars()
        .filter(|c| matches!(*c as u32, 0x3040..=0x30FF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF))
        .count()
}

#[test]
fn legacy_charset_mail_bodies_headers_and_file_names() {
    for (src, charset, fname) in MAILS {
        let text = source(src);
        let (subject, body) = text.split_once('\n').unwrap();
        let file = format!("charset/{src}-{charset}.eml");
        let x = extract(&fixture(&file), &file, &ExtractLimits::default());
        assert_eq!(x.format, Some(Format::Mail), "{file}");
        let main = part(&x, "");
        assert!(
            main.starts_with(&format!("Subject: {subject}\n")),
            "{file}: RFC 2047 subject not decoded: {:?}",
            main.lines().next()
        );
        assert!(
            squash(main).contains(&squash(body)),
            "{file}: body not decoded: {:?}",
            &main[..main.len().min(300)]
        );
        // The sender's name (the subject's head) may add a few.
        assert!(cjk_chars(main) >= cjk_chars(&text), "{file}");
        // RFC 2231 file name in the charset, and the attachment's own text.
        let att = part(&x, &format!("attachment:{fname}"));
        assert_eq!(squash(att), squash(body), "{file}");
        assert!(x.skipped.is_empty(), "{file}: {:?}", x.skipped);
    }
}

/// Issue 10: "A GB2312 mail with 3,169 characters of Chinese is indexed as
/// 916 normalized bytes". Every Han character of the source must survive.
#[test]
fn gb2312_mail_keeps_every_chinese_character() {
    let text = source("zh_cn");
    let han = cjk_chars(&text);
    assert!(han > 3000, "{han}");
    let x = extract(
        &fixture("charset/zh_cn-gb2312.eml"),
        "zh_cn-gb2312.eml",
        &ExtractLimits::default(),
    );
    assert_eq!(cjk_chars(part(&x, "")), han);
}

/// The same texts as plain files in their legacy charsets, with no label:
/// the encoding is detected from the bytes.
#[test]
fn legacy_charset_plain_files_are_detected() {
    for (src, label, _) in MAILS {
        let text = source(src);
        let enc = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
        let (bytes, _, unmappable) = enc.encode(&text);
        assert!(!unmappable, "{src} in {label}");
        let got = decode_text(&bytes).unwrap();
        assert_eq!(got, text, "{src} in {label}");
    }
}

/// UTF-16 with and without a byte-order mark, UTF-8 with one.
#[test]
fn unicode_plain_files() {
    for (src, _, _) in MAILS {
        let text = source(src);
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let bom = |b: &[u8], v: &[u8]| [b, v].concat();
        for bytes in [
            le.clone(),
            be.clone(),
            bom(&[0xFF, 0xFE], &le),
            bom(&[0xFE, 0xFF], &be),
            bom(&[0xEF, 0xBB, 0xBF], text.as_bytes()),
        ] {
            assert_eq!(decode_text(&bytes).unwrap(), text, "{src}");
        }
    }
}

/// HTML in a legacy charset named by `<meta charset>` or `http-equiv`.
#[test]
fn html_meta_charsets() {
    for (src, label, _) in MAILS {
        let text = source(src);
        let enc = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
        let body: String = text
            .lines()
            .map(|l| {
                let l = l
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                format!("<p>{l}</p>\n")
            })
            .collect();
        for head in [
            format!("<meta charset=\"{label}\">"),
            format!("<meta http-equiv=\"Content-Type\" content=\"text/html; charset={label}\">"),
        ] {
            let page =
                format!("<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>");
            let (bytes, _, _) = enc.encode(&page);
            let x = extract(&bytes, "page.html", &ExtractLimits::default());
            assert_eq!(x.format, Some(Format::Html));
            assert_eq!(squash(part(&x, "")), squash(&text), "{src} {head}");
        }
    }
}

/// Raw 8-bit mail that names no charset (old clients did this): the body
/// is decoded in the charset detected from its bytes. Made from the KOI8-R
/// and GB2312 fixtures by dropping the `charset` parameters and the
/// transfer encoding.
#[test]
fn undeclared_charset_is_detected() {
    for (src, label) in [("ru", "koi8-r"), ("zh_cn", "gb2312"), ("ko", "euc-kr")] {
        let text = source(src);
        let body = text.split_once('\n').unwrap().1;
        let enc = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
        let mut mail = b"From: a@example.com\nTo: b@example.com\nSubject: no charset\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\n".to_vec();
        mail.extend_from_slice(&enc.encode(body).0);
        let x = extract(&mail, "m.eml", &ExtractLimits::default());
        assert!(squash(part(&x, "")).contains(&squash(body)), "{src}");
    }
}
