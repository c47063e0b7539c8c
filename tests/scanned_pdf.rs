//! Scanned PDF pages through OCR (issue 18, item 5), end to end through the
//! real binary and its extraction worker: a PDF with a text page and a
//! scanned page gives both texts, the scanned one as the part
//! `page N (OCR)`; 1-bit scans in CCITT Group 4 and in FlateDecode samples
//! are read; corrupt scans, a missing tesseract and `--no-ocr` leave a
//! reason in the manifest, and the rest of the file is still indexed.
//!
//! Needs `tesseract-ocr` and `tesseract-ocr-eng` (installed by `.ci/run`).
//! Fixtures: `tests/data/extract/scan/` (see its SOURCES.md).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_leakprint");

fn scan(name: &str) -> Vec<u8> {
    common::extract_fixture(&format!("scan/{name}"))
}

fn text(name: &str) -> String {
    String::from_utf8(scan(name)).unwrap()
}

/// Index `dump` with the real binary and `extra` options, `PATH` set to
/// `path` when given; the manifest, one JSON value a file.
fn index(dump: &Path, out: &Path, extra: &[&str], path: Option<&str>) -> Vec<serde_json::Value> {
    let mut cmd = Command::new(BIN);
    cmd.arg("index")
        .arg(dump)
        .arg("--output")
        .arg(out)
        .arg("--quiet")
        .args(extra);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let st = cmd.status().unwrap();
    assert!(st.success());
    common::info_files(out)
}

fn file<'a>(files: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(&format!("/{name}")))
        .unwrap_or_else(|| panic!("{name} not in the manifest"))
}

fn part_names(f: &serde_json::Value) -> Vec<String> {
    f["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The sources `leakprint match` gives for `post`.
fn sources(index: &Path, post: &str) -> Vec<String> {
    let out = common::match_stdin(
        index,
        &["--format", "lines", "--json"],
        format!("{post}\n").as_bytes(),
    );
    let mut s: Vec<String> = common::json_lines(&out)
        .iter()
        .flat_map(|v| {
            let mut all = vec![v["source"].as_str().unwrap().to_owned()];
            if let Some(also) = v["also"].as_array() {
                all.extend(also.iter().map(|a| a.as_str().unwrap().to_owned()));
            }
            all
        })
        .collect();
    s.sort();
    s
}

/// A window of about 150 bytes from the middle of `s`, at word bounds.
fn quote(s: &str) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    let mid = words.len() / 3;
    let mut q = String::new();
    for w in &words[mid..] {
        if q.len() > 150 {
            break;
        }
        q.push_str(w);
        q.push(' ');
    }
    q
}

/// `bytes` with `with` written over the first match of `at` (same length).
fn patched(bytes: &[u8], at: &[u8], with: &[u8]) -> Vec<u8> {
    assert_eq!(at.len(), with.len());
    let i = bytes
        .windows(at.len())
        .position(|w| w == at)
        .unwrap_or_else(|| panic!("{:?} not found", String::from_utf8_lossy(at)));
    let mut b = bytes.to_vec();
    b[i..i + at.len()].copy_from_slice(with);
    b
}

/// The offset just after `stream\n` following the first `key`.
fn stream_after(bytes: &[u8], key: &[u8]) -> usize {
    let k = bytes.windows(key.len()).position(|w| w == key).unwrap();
    k + bytes[k..]
        .windows(7)
        .position(|w| w == b"stream\n")
        .unwrap()
        + 7
}

fn dump_dir(root: &Path) -> PathBuf {
    let dump = root.join("dump");
    std::fs::create_dir_all(&dump).unwrap();
    dump
}

#[test]
fn quotes_from_scanned_pages_are_found_with_file_and_page() {
    let d = tempfile::tempdir().unwrap();
    let dump = dump_dir(d.path());
    std::fs::write(dump.join("mixed.pdf"), scan("mixed-scan.pdf")).unwrap();
    std::fs::write(dump.join("fax.pdf"), scan("scan-fax.pdf")).unwrap();
    // Hostile copies: the scan's JPEG without its start marker (the
    // ASCII85 of FF D8 FF E0 zeroed), the fax data scrambled.
    let mixed = scan("mixed-scan.pdf");
    let jpeg = stream_after(&mixed, b"/DCTDecode");
    let mut bad = mixed.clone();
    bad[jpeg..jpeg + 5].copy_from_slice(b"!!!!!");
    std::fs::write(dump.join("bad-jpeg.pdf"), &bad).unwrap();
    let fax = scan("scan-fax.pdf");
    let g4 = stream_after(&fax, b"/CCITTFaxDecode");
    let mut bad = fax.clone();
    for b in &mut bad[g4 + 200..g4 + 4000] {
        *b ^= 0x5A;
    }
    std::fs::write(dump.join("bad-fax.pdf"), &bad).unwrap();
    // A fax image that claims other dimensions than its data has.
    let huge = patched(&fax, b"/Width 2082 /Height 768", b"/Width 9999 /Height 999");
    let huge = patched(
        &huge,
        b"/Columns 2082 /Rows 768",
        b"/Columns 9999 /Rows 999",
    );
    std::fs::write(dump.join("huge-fax.pdf"), &huge).unwrap();

    let idx = d.path().join("idx");
    let files = index(&dump, &idx, &[], None);
    assert_eq!(files.len(), 5, "every file accounted for");
    for f in &files {
        assert_eq!(f["status"], "indexed", "{f}");
        assert_eq!(f["format"], "pdf", "{f}");
    }
    assert_eq!(part_names(file(&files, "mixed.pdf")), ["", "page 2 (OCR)"]);
    assert_eq!(file(&files, "mixed.pdf")["reason"], "");
    // No text layer at all: only the OCR parts have text.
    assert_eq!(
        part_names(file(&files, "fax.pdf")),
        ["page 1 (OCR)", "page 2 (OCR)"]
    );
    let reason = |name: &str| file(&files, name)["reason"].as_str().unwrap().to_owned();
    let r = reason("bad-jpeg.pdf");
    assert!(
        r.contains("page 2 has no text layer (scanned image 1114x256 jpeg): OCR not run: 1114x256 jpeg: not a PNG, JPEG"),
        "{r}"
    );
    // The scrambled fax either does not decode or reads as no text; its
    // intact second page is read either way.
    let r = reason("bad-fax.pdf");
    assert!(r.contains("page 1 has no text layer"), "{r}");
    assert!(part_names(file(&files, "bad-fax.pdf")).contains(&"page 2 (OCR)".to_owned()));
    let r = reason("huge-fax.pdf");
    assert!(r.contains("page 1 has no text layer"), "{r}");

    let root = dump.display().to_string();
    let at = |p: &str| format!("{root}/{p}");
    // The text page and the scanned page of the same file.
    assert_eq!(
        sources(&idx, &quote(&text("page1.txt"))),
        [at("bad-jpeg.pdf"), at("mixed.pdf")]
    );
    assert_eq!(
        sources(&idx, &quote(&text("page2.txt"))),
        [at("mixed.pdf#page 2 (OCR)")]
    );
    // The two fax pages, each with its page.
    assert_eq!(
        sources(&idx, &quote(&text("page3.txt"))),
        [at("fax.pdf#page 1 (OCR)")]
    );
    assert_eq!(
        sources(&idx, &quote(&text("page4.txt"))),
        [
            at("bad-fax.pdf#page 2 (OCR)"),
            at("fax.pdf#page 2 (OCR)"),
            at("huge-fax.pdf#page 2 (OCR)")
        ]
    );
}

#[test]
fn without_tesseract_or_with_no_ocr_the_pages_are_listed_with_the_reason() {
    let d = tempfile::tempdir().unwrap();
    let dump = dump_dir(d.path());
    std::fs::write(dump.join("mixed.pdf"), scan("mixed-scan.pdf")).unwrap();
    std::fs::write(dump.join("fax.pdf"), scan("scan-fax.pdf")).unwrap();

    // No tesseract on PATH: the worker cannot run it, and says so once a
    // page; the text page is indexed.
    let files = index(&dump, &d.path().join("a"), &[], Some(""));
    let r = file(&files, "fax.pdf")["reason"].as_str().unwrap();
    for page in [1, 2] {
        assert!(
            r.contains(&format!("page {page} has no text layer (scanned image 2")),
            "{r}"
        );
    }
    assert_eq!(r.matches("apt-get install tesseract-ocr").count(), 2, "{r}");
    assert_eq!(part_names(file(&files, "mixed.pdf")), [""]);
    assert!(file(&files, "mixed.pdf")["reason"]
        .as_str()
        .unwrap()
        .contains("OCR failed: cannot run tesseract"));

    let files = index(&dump, &d.path().join("b"), &["--no-ocr"], None);
    assert_eq!(
        file(&files, "mixed.pdf")["reason"],
        "page 2 has no text layer (scanned image 1114x256 jpeg): OCR not run"
    );
    assert!(part_names(file(&files, "fax.pdf")).is_empty());

    // A model tesseract does not have is an error before anything is read.
    let st = Command::new(BIN)
        .arg("index")
        .arg(&dump)
        .arg("--output")
        .arg(d.path().join("c"))
        .args(["--quiet", "--ocr-lang", "xyz"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("tesseract-ocr-xyz"));
}
