//! Extraction of real files: mail fixtures from enmime, CPython, talon and
//! SpamAssassin (see tests/data/extract/mail/SOURCES.md) and Office/PDF files
//! made with LibreOffice from tests/data/extract/office/*.txt|csv|fodp.

mod common;

use common::zip_of;
use std::io::Write;

use leakprint::extract::{extract, ExtractLimits, Extracted, Format};

use common::extract_fixture as fixture;

fn run(path: &str) -> Extracted {
    let bytes = fixture(path);
    let name = path.rsplit('/').next().unwrap_or(path);
    extract(&bytes, name, &ExtractLimits::default())
}

fn part<'a>(x: &'a Extracted, name: &str) -> &'a str {
    match x.parts.iter().find(|p| p.name == name) {
        Some(p) => &p.text,
        None => panic!("no part {name:?} in {:#?}", x),
    }
}

/// Whitespace-insensitive containment: layouts may wrap lines differently.
fn has(text: &str, needle: &str) -> bool {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    squash(text).contains(&squash(needle))
}

#[test]
fn mail_fixtures_table() {
    // (file, part, text that must be in it)
    let cases: &[(&str, &str, &str)] = &[
        (
            "mail/enmime-mime-alternative.eml",
            "",
            "Subject: Multipart Mixed",
        ),
        (
            "mail/enmime-html-only-inline.eml",
            "",
            "Test of HTML section",
        ),
        (
            "mail/enmime-html-only-inline.eml",
            "",
            "From: James Hillyerd <james@makita.skynet>",
        ),
        (
            "mail/enmime-quoted-printable.eml",
            "",
            "Phasellus sit amet arcu",
        ),
        (
            "mail/enmime-qp-utf8-header.eml",
            "",
            "Subject: MIME UTF8 Test \u{a2} More Text",
        ),
        ("mail/enmime-attachment.eml", "", "A text section"),
        (
            "mail/cpython-msg_02.eml",
            "",
            "Send Ppp mailing list submissions to",
        ),
        (
            "mail/cpython-msg_02.eml",
            "attachment:part4",
            "Subject: [Ppp] testing #1",
        ),
        ("mail/cpython-msg_16.eml", "", "Delivery Notification"),
        (
            "mail/spamassassin-sample-nonspam.eml",
            "",
            "Subject: TBTF ping for 2001-04-20: Reviving",
        ),
        (
            "mail/spamassassin-sample-nonspam.eml",
            "",
            "Layer of ash separates morning and evening milk.",
        ),
        (
            "mail/talon-reply-quotations-share-block.eml",
            "",
            "Subject: Re: You've got a new booking inquiry!",
        ),
        (
            "mail/talon-reply-quotations-share-block.eml",
            "",
            "Hi Katharine.\u{a0} Sounds great.",
        ),
        // The HTML alternative holds more than the plain one: kept as `html`.
        (
            "mail/talon-reply-quotations-share-block.eml",
            "html",
            "Your place is the home of bespoke dining",
        ),
    ];
    for (file, name, needle) in cases {
        let x = run(file);
        assert_eq!(x.format, Some(Format::Mail), "{file}");
        let text = part(&x, name);
        assert!(
            has(text, needle),
            "{file}#{name}: {needle:?} not in {text:?}"
        );
    }
}

#[test]
fn html_attachment_is_a_part() {
    // Its content is `<html>` alone: an empty Html part, still listed.
    let x = run("mail/enmime-attachment.eml");
    let p = x.parts.iter().find(|p| p.name == "attachment:test.html");
    assert_eq!(
        p.map(|p| (p.format, p.text.as_str())),
        Some((Format::Html, ""))
    );
}

#[test]
fn maildir_name_without_extension_is_mail() {
    let bytes = fixture("mail/spamassassin-sample-nonspam.eml");
    let x = extract(&bytes, "cur/1.", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Mail));
}

#[test]
fn charsets_are_decoded() {
    let mail = b"From: a@example.com\nTo: b@example.com\nSubject: =?koi8-r?B?8NLJ18XU?=\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4 \xcd\xc9\xd2\n--X\nContent-Type: text/plain; charset=windows-1252\nContent-Disposition: attachment; filename=w.txt\n\n\x93quoted\x94 caf\xe9\n--X\nContent-Type: text/plain; charset=iso-8859-2\nContent-Transfer-Encoding: quoted-printable\nContent-Disposition: attachment; filename=l2.txt\n\n=A3=F3d=BC\n--X--\n";
    let x = extract(mail, "m.eml", &ExtractLimits::default());
    let body = part(&x, "");
    assert!(body.contains("Subject: Привет"), "{body}");
    assert!(body.contains("Привет мир"), "{body}");
    assert_eq!(
        part(&x, "attachment:w.txt").trim(),
        "\u{201c}quoted\u{201d} café"
    );
    assert_eq!(part(&x, "attachment:l2.txt").trim(), "Łódź");
}

#[test]
fn format_flowed_is_reflowed() {
    let mail = b"From: a@example.com\nTo: b@example.com\nSubject: f\nContent-Type: text/plain; charset=utf-8; format=flowed\n\nThe budget is \nfinal now.\n";
    let x = extract(mail, "m.eml", &ExtractLimits::default());
    assert!(part(&x, "").contains("The budget is final now."));
}

#[test]
fn html_alternative_kept_only_when_different() {
    let same = b"From: a@example.com\nTo: b@example.com\nSubject: s\nContent-Type: multipart/alternative; boundary=B\n\n--B\nContent-Type: text/plain\n\nHello there, Amy.\n--B\nContent-Type: text/html\n\n<p>Hello <b>there</b>, Amy.</p>\n--B--\n";
    let x = extract(same, "m.eml", &ExtractLimits::default());
    assert!(x.parts.iter().all(|p| p.name != "html"), "{x:#?}");
    let differ = String::from_utf8_lossy(same).replace(
        "<b>there</b>, Amy.",
        "there, Amy. Secret plan <script>x()</script>",
    );
    let x = extract(differ.as_bytes(), "m.eml", &ExtractLimits::default());
    assert_eq!(part(&x, "html"), "Hello there, Amy. Secret plan");
}

#[test]
fn mbox_is_split_and_unescaped() {
    let mbox = b"From alice@example.com Mon Jan  1 00:00:00 2001\nFrom: alice@example.com\nTo: bob@example.com\nSubject: one\n\n>From here on the plan is final.\n\nFrom bob@example.com Tue Jan  2 00:00:00 2001\nFrom: bob@example.com\nTo: alice@example.com\nSubject: two\n\nSecond body.\n";
    let x = extract(mbox, "box.mbox", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Mbox));
    assert!(part(&x, "1").contains("\nFrom here on the plan is final."));
    assert!(part(&x, "2").contains("Subject: two"));
    assert_eq!(x.parts.len(), 2);
}

#[test]
fn office_and_pdf_fixtures() {
    let decl = "We hold these truths to be self-evident, that all men are created equal";
    let cases: &[(&str, Format, &str)] = &[
        ("office/declaration.docx", Format::Docx, decl),
        ("office/declaration.odt", Format::Odt, decl),
        ("office/declaration.pdf", Format::Pdf, decl),
        (
            "office/budget.xlsx",
            Format::Xlsx,
            "Alice Example\t1250.5\tquarterly budget for the west wing renovation",
        ),
        (
            "office/budget.ods",
            Format::Ods,
            "Alice Example\t1250.5\tquarterly budget for the west wing renovation",
        ),
        (
            "office/budget.xls",
            Format::Xls,
            "Alice Example\t1250.5\tquarterly budget for the west wing renovation",
        ),
        (
            "office/slides.pptx",
            Format::Pptx,
            "deriving their just powers from the consent of the governed",
        ),
        (
            "office/slides.odp",
            Format::Odp,
            "should not be changed for light and transient causes",
        ),
    ];
    for (file, format, needle) in cases {
        let x = run(file);
        assert_eq!(x.format, Some(*format), "{file}: {x:#?}");
        let text = part(&x, "");
        assert!(has(text, needle), "{file}: {needle:?} not in {text:?}");
        assert!(x.skipped.is_empty(), "{file}: {:?}", x.skipped);
    }
    // Slides in order.
    let x = run("office/slides.pptx");
    let t = part(&x, "");
    assert!(t.find("consent of the governed") < t.find("transient causes"));
}

#[test]
fn legacy_doc_is_read() {
    let x = run("office/declaration.doc");
    assert_eq!(x.format, Some(Format::Doc));
    assert!(has(
        part(&x, ""),
        "We hold these truths to be self-evident, that all men are created equal"
    ));
    assert!(x.skipped.is_empty(), "{:?}", x.skipped);
}

#[test]
fn html_file() {
    let page = b"<!DOCTYPE html><html><head><title>Memo</title><style>p{color:red}</style></head><body><p>The merger closes on &ldquo;Friday&rdquo;.</p><script>track()</script></body></html>";
    let x = extract(page, "memo.html", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Html));
    assert_eq!(
        part(&x, ""),
        "Memo\n\nThe merger closes on \u{201c}Friday\u{201d}."
    );
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, c) in data.chunks(3).enumerate() {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if i % 19 == 18 {
            out.push_str("\r\n");
        }
    }
    out
}

/// Mail with attachments, the mail inside a ZIP: the PDF's text is found as
/// `mail.eml#attachment:a.pdf`, a nested docx and text too.
#[test]
fn pdf_in_mail_in_zip() {
    let pdf = fixture("office/declaration.pdf");
    let docx = fixture("office/declaration.docx");
    let inner_zip = zip_of(&[("deep/x.docx", &docx)]);
    let mail = format!(
        "From: Leaker <l@example.com>\r\nTo: press@example.com\r\nSubject: the files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b1\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\n\r\n{}\r\n--b1\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"more.zip\"\r\n\r\n{}\r\n--b1--\r\n",
        base64(&pdf),
        base64(&inner_zip)
    );
    let outer = zip_of(&[
        ("mail.eml", mail.as_bytes()),
        ("notes/readme.txt", b"plain notes"),
    ]);
    let x = extract(&outer, "x.zip", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Zip));
    assert!(part(&x, "mail.eml").contains("See attached."));
    assert!(has(part(&x, "mail.eml#attachment:a.pdf"), "self-evident"));
    assert!(has(
        part(&x, "mail.eml#attachment:more.zip#deep/x.docx"),
        "self-evident"
    ));
    assert_eq!(part(&x, "notes/readme.txt"), "plain notes");
    let formats: Vec<(&str, Format)> = x
        .parts
        .iter()
        .map(|p| (p.name.as_str(), p.format))
        .collect();
    assert!(
        formats.contains(&("mail.eml#attachment:a.pdf", Format::Pdf)),
        "{formats:?}"
    );
    assert!(formats.contains(&("mail.eml", Format::Mail)), "{formats:?}");
    assert!(x.skipped.is_empty(), "{:?}", x.skipped);
}

#[test]
fn gzip_and_tar() {
    let mut tar_bytes = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar_bytes);
        let data = b"tar entry text";
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "dir/a.txt", &data[..]).unwrap();
        b.finish().unwrap();
    }
    let x = extract(&tar_bytes, "t.tar", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Tar));
    assert_eq!(part(&x, "dir/a.txt"), "tar entry text");

    let gz = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let x = extract(&gz(&tar_bytes), "t.tar.gz", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Gzip));
    assert_eq!(part(&x, "dir/a.txt"), "tar entry text");
    let x = extract(
        &gz(b"gzipped notes"),
        "notes.txt.gz",
        &ExtractLimits::default(),
    );
    assert_eq!(part(&x, "notes.txt"), "gzipped notes");
}

#[test]
fn format_names_round_trip() {
    for f in Format::ALL {
        assert_eq!(Format::from_name(f.name()), Some(f));
    }
    assert_eq!(Format::from_name("nope"), None);
}

/// Found by fuzzing: a 6 KB OLE2 file whose FAT chain loops made calamine
/// grow a buffer to 2 GB. It must be refused, quickly, with the reason.
#[test]
fn ole2_with_a_looping_sector_chain_is_refused() {
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz-regressions/extract_office/oom-xls-fat-loop"),
    )
    .unwrap();
    let ex = leakprint::extract::extract(
        &bytes,
        "x.xls",
        &leakprint::extract::ExtractLimits::default(),
    );
    assert!(ex.parts.iter().all(|p| p.text.is_empty()), "{ex:?}");
    assert!(
        ex.skipped.iter().any(|s| s.reason.contains("loop")),
        "{:?}",
        ex.skipped
    );
}

/// Word 97-2003 files written by LibreOffice from HTML (English, Russian,
/// Chinese): every paragraph of the source is in the text, in order.
#[test]
fn legacy_word_fixtures() {
    for name in ["sotu-1941", "manual-ru", "manual-zh_cn"] {
        let x = run(&format!("legacy/{name}.doc"));
        assert_eq!(x.format, Some(Format::Doc), "{name}");
        assert!(x.skipped.is_empty(), "{name}: {:?}", x.skipped);
        let html = String::from_utf8(fixture(&format!("legacy/{name}.html"))).unwrap();
        let want = leakprint::extract::html_to_text(&html);
        let got = squash_ws(part(&x, ""));
        let mut from = 0;
        let mut paras: Vec<String> = want.split("\n\n").map(squash_ws).collect();
        // The <title> repeats the <h1>; a Word file has no title line.
        paras.dedup();
        for para in paras.into_iter().filter(|p| !p.is_empty()) {
            let at = got[from..]
                .find(&para)
                .unwrap_or_else(|| panic!("{name}: {para:?} not in order in {got:?}"));
            from += at + para.len();
        }
    }
}

/// A PowerPoint 97-2003 file written by LibreOffice from a python-pptx deck:
/// slide titles and bodies (English, Russian, Chinese) and speaker notes.
#[test]
fn legacy_powerpoint_fixture() {
    let x = run("legacy/sotu-1941.ppt");
    assert_eq!(x.format, Some(Format::Ppt));
    assert!(x.skipped.is_empty(), "{:?}", x.skipped);
    let t = squash_ws(part(&x, ""));
    for needle in [
        "State of the Union, 1941",
        "I address you, the Members of the Seventy-seventh Congress, at a moment unprecedented in the history of the Union.",
        "we look forward to a world founded upon four essential human freedoms",
        "ls - выводит список содержимого каталога",
        "bzip2, bunzip2 - 一种块排序文件压缩软件，v0.9.5",
        "Since the permanent formation of our Government under the Constitution",
    ] {
        assert!(t.contains(needle), "{needle:?} not in {t:?}");
    }
    assert!(!t.contains("___PPT"), "{t}");
}

fn squash_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Scanned PDFs (issue 18.5): a page without a text layer that shows an
/// image is named with the reason, never silently empty; text pages of the
/// same file are read.
#[test]
fn scanned_pdf_pages_are_listed_with_a_reason() {
    let x = run("scan/mixed-scan.pdf");
    assert_eq!(x.format, Some(Format::Pdf));
    let page1 = String::from_utf8(fixture("scan/page1.txt")).unwrap();
    assert!(has(part(&x, ""), &page1.replace("\n\n", " ")));
    let reasons = common::reasons(&x);
    assert_eq!(
        reasons,
        ": page 2 has no text layer (scanned image 1114x256 jpeg): OCR not run\n"
    );
    let x = run("scan/scan-only.pdf");
    assert!(part(&x, "").trim().is_empty());
    assert!(
        common::reasons(&x).contains("page 1 has no text layer (scanned image"),
        "{:?}",
        x.skipped
    );
    // A text-only PDF has no such note.
    assert!(run("office/declaration.pdf").skipped.is_empty());
}
