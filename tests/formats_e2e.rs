//! Issue "Read real dumps", end to end: a folder holding mail, mbox, HTML,
//! PDF, Office files and a ZIP of them is indexed by the real binary, and
//! quotes taken from each kind are found by `leakprint match`, naming the
//! right part and span: the reported span of the part's extracted text
//! holds the quote and little more.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_leakprint");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/extract")
        .join(name)
}

fn b64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, c) in bytes.chunks(3).enumerate() {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for j in 0..4 {
            if j <= c.len() {
                out.push(T[(n >> (18 - 6 * j)) as usize & 63] as char);
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

struct Hit {
    source: String,
    span: (usize, usize),
}

fn matches(index: &Path, post: &str) -> Vec<Hit> {
    let out = common::match_stdin(
        index,
        &["--format", "lines", "--json"],
        format!("{post}\n").as_bytes(),
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Hit {
                source: v["source"].as_str().unwrap().to_string(),
                span: (
                    v["source_span"][0].as_u64().unwrap() as usize,
                    v["source_span"][1].as_u64().unwrap() as usize,
                ),
            }
        })
        .collect()
}

/// The extracted text of a reported source (`<dump>/<file>#<part>...`),
/// read back with the library's extractor.
fn part_text(dump: &str, source: &str) -> String {
    let rel = source
        .strip_prefix(dump)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or_else(|| panic!("{source} is not under {dump}"));
    let (file, part) = rel.split_once('#').unwrap_or((rel, ""));
    let bytes = std::fs::read(Path::new(dump).join(file)).unwrap();
    let x =
        leakprint::extract::extract(&bytes, file, &leakprint::extract::ExtractLimits::default());
    x.parts
        .into_iter()
        .find(|p| p.name == part)
        .unwrap_or_else(|| panic!("{source}: no part {part:?}"))
        .text
}

/// The reported span holds the whole quote (normalized) and at most 10%
/// more normalized text.
fn check_span(dump: &str, h: &Hit, quote: &str) {
    let text = part_text(dump, &h.source);
    let got = text.get(h.span.0..h.span.1).unwrap_or_else(|| {
        panic!(
            "{}: span {:?} outside the text or off a char boundary",
            h.source, h.span
        )
    });
    let (g, q) = (
        leakprint::normalize::normalize(got).text,
        leakprint::normalize::normalize(quote).text,
    );
    assert!(
        g.contains(&q),
        "{}: span {:?} = {got:?} does not hold the quote {quote:?}",
        h.source,
        h.span
    );
    assert!(
        g.len() * 10 <= q.len() * 11,
        "{}: span {:?} = {got:?} is much longer than the quote",
        h.source,
        h.span
    );
}

#[test]
fn quotes_from_every_format_are_found_with_their_part() {
    let d = tempfile::tempdir().unwrap();
    let dump = d.path().join("dump");
    std::fs::create_dir_all(dump.join("mail")).unwrap();
    let copy = |from: &str, to: &str| std::fs::copy(fixture(from), dump.join(to)).unwrap();
    copy("office/declaration.docx", "decl.docx");
    copy("office/budget.xlsx", "sheet.xlsx");
    copy("office/slides.pptx", "deck.pptx");
    copy("mail/spamassassin-sample-nonspam.eml", "mail/1.");
    std::fs::write(
        dump.join("page.html"),
        "<html><head><style>p{color:red}</style><script>var secret = 1;</script></head><body>\
         <p>The studio&#39;s quarterly forecast for the overseas distribution deal was revised downward twice.</p></body></html>",
    )
    .unwrap();
    let mbox = "From a@example.com Mon Jan  1 00:00:00 2014\nSubject: one\n\nFirst message of the box, nothing to see.\n\n\
                From b@example.com Mon Jan  1 00:00:01 2014\nSubject: two\n\n\
                The talent agency asked us to keep the premiere date away from the press until November.\n";
    std::fs::write(dump.join("box.mbox"), mbox).unwrap();
    // A mail with a PDF attachment, inside a ZIP.
    let pdf = std::fs::read(fixture("office/declaration.pdf")).unwrap();
    let mail = format!(
        "From: legal@studio.example\r\nTo: amy@studio.example\r\nSubject: the text\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n\
         Attached as discussed.\r\n--XX\r\nContent-Type: application/pdf; name=\"decl.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"decl.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--XX--\r\n",
        b64(&pdf)
    );
    std::fs::write(
        dump.join("pack.zip"),
        common::zip_of(&[("inner/mail.eml", mail.as_bytes())]),
    )
    .unwrap();

    let index = d.path().join("idx");
    let st = Command::new(BIN)
        .arg("index")
        .arg(&dump)
        .arg("--output")
        .arg(&index)
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(st.success());
    let files = Command::new(BIN)
        .args(["info", "--files", "--json"])
        .arg(&index)
        .output()
        .unwrap();
    let listed = String::from_utf8(files.stdout).unwrap();
    assert_eq!(
        listed.lines().count(),
        7,
        "every file accounted for:\n{listed}"
    );

    let dump_s = dump.to_string_lossy().to_string();
    // `post` quotes `quote`; each wanted source is found, its span holds
    // the quote
    let expect_quote = |post: &str, quote: &str, wanted: &[&str]| {
        let hits = matches(&index, post);
        for w in wanted {
            let full = format!("{dump_s}/{w}");
            let h = hits.iter().find(|h| h.source == full).unwrap_or_else(|| {
                panic!(
                    "{w} not found for {post:?}; got {:?}",
                    hits.iter().map(|h| &h.source).collect::<Vec<_>>()
                )
            });
            check_span(&dump_s, h, quote);
        }
    };
    let expect = |post: &str, wanted: &[&str]| expect_quote(post, post, wanted);
    // Word, PDF inside a mail inside a ZIP: the same Declaration sentence.
    let decl = "it becomes necessary for one people to dissolve the political bands which have connected them with another";
    expect_quote(
        &format!("wow: \"{decl}\""),
        decl,
        &["decl.docx", "pack.zip#inner/mail.eml#attachment:decl.pdf"],
    );
    // Spreadsheet cell and slide.
    let prudence = "prudence indeed will dictate that governments long established";
    expect_quote(
        &format!("\"{prudence}\" lol"),
        prudence,
        &["sheet.xlsx", "deck.pptx"],
    );
    // HTML visible text (not the script), mbox message 2, maildir-style mail without extension.
    // the post adds "the": the source reads "The studio's quarterly ..."
    expect_quote(
        "the quarterly forecast for the overseas distribution deal was revised downward twice",
        "quarterly forecast for the overseas distribution deal was revised downward twice",
        &["page.html"],
    );
    assert!(matches(
        &index,
        "var secret = 1; var secret = 1; var secret = 1; var secret = 1;"
    )
    .is_empty());
    expect(
        "The talent agency asked us to keep the premiere date away from the press until November",
        &["box.mbox#2"],
    );
    expect("Timely news of the bellwethers in computer and communications technology that will affect electronic commerce", &["mail/1."]);
}
