//! Issue 18 (and 10.2) end to end: a folder of real corporate files (PST
//! stores, .msg, legacy Word and PowerPoint, a half-scanned PDF, mail and
//! text in legacy CJK and Cyrillic charsets) is indexed by the real binary
//! (with its extraction worker, as users run it), and quotes of at least
//! 50 normalized characters from each are found by `leakprint match`,
//! naming the right file and `#part`. Damaged copies of each format are in
//! the same folder: each gets a reason in the manifest and the run goes on.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_leakprint");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/extract")
        .join(name)
}

fn sources(index: &Path, post: &str) -> Vec<String> {
    let out = common::match_stdin(
        index,
        &["--format", "lines", "--json"],
        format!("{post}\n").as_bytes(),
    );
    common::json_lines(&out)
        .iter()
        .map(|v| v["source"].as_str().unwrap().to_owned())
        .collect()
}

/// Index `dump` with the real binary; the manifest, one JSON value a file.
fn index_dump(dump: &Path, index: &Path) -> Vec<serde_json::Value> {
    let st = Command::new(BIN)
        .arg("index")
        .arg(dump)
        .arg("--output")
        .arg(index)
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(st.success());
    common::info_files(index)
}

/// Assert that `post` is found in each of `wanted` (paths under `root`).
fn expect(index: &Path, root: &Path, post: &str, wanted: &[&str]) {
    let hits = sources(index, post);
    for w in wanted {
        let full = format!("{}/{w}", root.display());
        assert!(
            hits.contains(&full),
            "{w} not found for {post:?}; got {hits:?}"
        );
    }
}

#[test]
fn quotes_from_corporate_formats_are_found_with_their_part() {
    let d = tempfile::tempdir().unwrap();
    let dump = d.path().join("dump");
    std::fs::create_dir_all(&dump).unwrap();
    let copy = |from: &str, to: &str| {
        std::fs::copy(fixture(from), dump.join(to)).unwrap();
    };
    copy("outlook/sample1.pst", "mail.pst");
    copy("outlook/submessage.pst", "sub.pst");
    copy("outlook/test_ansi.pst", "old.pst");
    copy("outlook/qwerty_2-with_custom_properties.msg", "saved.msg");
    copy("legacy/sotu-1941.doc", "speech.doc");
    copy("scan/mixed-scan.pdf", "scan.pdf");
    // Damaged copies: cut in half, and with their headers overwritten.
    for (from, to) in [
        ("outlook/sample1.pst", "bad-cut.pst"),
        ("outlook/test_Blammo.msg", "bad-cut.msg"),
        ("legacy/sotu-1941.doc", "bad-cut.doc"),
        ("legacy/sotu-1941.ppt", "bad-cut.ppt"),
    ] {
        let b = std::fs::read(fixture(from)).unwrap();
        std::fs::write(dump.join(to), &b[..b.len() / 2]).unwrap();
    }
    let mut pst = std::fs::read(fixture("outlook/sample1.pst")).unwrap();
    pst[224..232].copy_from_slice(&[0xFF; 8]); // the node B-tree root
    std::fs::write(dump.join("bad-root.pst"), &pst).unwrap();

    let index = d.path().join("idx");
    let files = index_dump(&dump, &index);
    assert_eq!(files.len(), 11, "every file accounted for");
    let file = |name: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(&format!("/{name}")))
            .unwrap_or_else(|| panic!("{name} not in the manifest"))
    };
    for (name, format) in [
        ("mail.pst", "pst"),
        ("saved.msg", "msg"),
        ("speech.doc", "doc"),
        ("scan.pdf", "pdf"),
    ] {
        assert_eq!(file(name)["format"], format, "{name}");
        assert_eq!(file(name)["status"], "indexed", "{name}");
    }
    // The scanned page is read by OCR (tests/scanned_pdf.rs has the rest).
    assert_eq!(file("scan.pdf")["reason"], "", "{}", file("scan.pdf"));
    for bad in [
        "bad-cut.pst",
        "bad-cut.msg",
        "bad-cut.doc",
        "bad-cut.ppt",
        "bad-root.pst",
    ] {
        let reason = file(bad)["reason"].as_str().unwrap();
        assert!(!reason.is_empty(), "{bad}: no reason in {:?}", file(bad));
    }

    let expect = |post: &str, wanted: &[&str]| expect(&index, &dump, post, wanted);
    expect(
        "lol: \"With a sample attachment. It's my daughter and our puppy. Aren't they cute?\"",
        &["mail.pst#Sample1/2010-03-15 Here is a sample message"],
    );
    expect(
        "Date: 2010-03-17 23:01:47 +0000. This is the body of an embedded message",
        &["sub.pst#submessage/2010-03-17 This is a message which has an embedded message attached#attachment:This is an embedded message"],
    );
    expect(
        "Subject: Post From: Terry Mahaffey Date: 2008-07-09 18:11:05 Post",
        &["old.pst#Folder/2008-07-09 Post"],
    );
    expect(
        "Charles Lowe, Data Analyst, Freehills. Direct 61 2 9322 4181 Switch 61 2 9225 5000",
        &["saved.msg"],
    );
    expect(
        "Since the permanent formation of our Government under the Constitution, in 1789, most of the periods of crisis in our history have related to our domestic affairs.",
        &["speech.doc"],
    );
    expect(
        "This week we begin anew our joint and separate efforts to build the American future",
        &["scan.pdf"],
    );
    expect(
        "We are all trustees for the American people, custodians of the American heritage.",
        &["scan.pdf#page 2 (OCR)"],
    );
}

/// The same through mixed-script files: a deck with Russian and Chinese
/// slides, Word files in Russian and Chinese, GB2312 and KOI8-R mail and an
/// unlabelled GB2312 text file, each quote found with its part.
#[test]
fn quotes_from_mixed_script_files_are_found_with_their_part() {
    let d = tempfile::tempdir().unwrap();
    let dump = d.path().join("dump");
    std::fs::create_dir_all(&dump).unwrap();
    let copy = |from: &str, to: &str| {
        std::fs::copy(fixture(from), dump.join(to)).unwrap();
    };
    copy("legacy/manual-ru.doc", "ru.doc");
    copy("legacy/manual-zh_cn.doc", "zh.doc");
    copy("legacy/sotu-1941.ppt", "deck.ppt");
    copy("charset/zh_cn-gb2312.eml", "zh.eml");
    copy("charset/ru-koi8-r.eml", "ru.eml");
    // The GB2312 text as a plain file with no label.
    let zh = String::from_utf8(common::extract_fixture("charset/zh_cn.txt")).unwrap();
    std::fs::write(dump.join("notes.txt"), encoding_rs::GB18030.encode(&zh).0).unwrap();
    let index = d.path().join("idx");
    let files = index_dump(&dump, &index);
    assert_eq!(files.len(), 6);
    let expect = |post: &str, wanted: &[&str]| expect(&index, &dump, post, wanted);
    expect(
        "\"we look forward to a world founded upon four essential human freedoms\" — FDR",
        &["deck.ppt"],
    );
    expect(
        "в сочетании с -l выводит информацию о владельце каждого файла",
        &["ru.doc", "ru.eml"],
    );
    expect(
        "bzip2 采用 Burrows-Wheeler 块排序文本压缩算法和 Huffman 编码方式压缩文件。压缩率一般比基于 LZ77/LZ78 的压缩软件好得多",
        &["zh.doc", "zh.eml", "notes.txt"],
    );
    expect(
        "для символических ссылок отображать информацию о файле, на который они ссылаются, а не о самой ссылке",
        &["ru.eml"],
    );
}
