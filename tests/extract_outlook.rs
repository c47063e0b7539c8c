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
/// them must be a part of ours with the same subject and body.
#[test]
fn pst_agrees_with_readpst() {
    if Command::new("readpst").arg("-V").output().is_err() {
        eprintln!("SKIPPED: readpst not installed (apt-get install pst-utils)");
        return;
    }
    for file in ["sample1", "submessage", "test_ansi", "dist-list"] {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/data/extract/outlook/{file}.pst"));
        let st = Command::new("readpst")
            .args(["-e", "-q", "-o"])
            .arg(dir.path())
            .arg(&src)
            .status()
            .unwrap();
        assert!(st.success(), "readpst failed on {file}");
        let ours = run(&format!("outlook/{file}.pst"));
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
            let subject = main.lines().next().unwrap();
            assert!(subject.starts_with("Subject: "), "{main}");
            let body = main.split_once("\n\n").map_or("", |(_, b)| b);
            let found = ours.parts.iter().any(|p| {
                p.format == Format::Msg
                    && p.text.starts_with(&format!("{subject}\n"))
                    && squash(&p.text).contains(&squash(body))
            });
            assert!(
                found,
                "{file}: readpst's {subject:?} with body {body:?} not among our parts"
            );
        }
        let top = ours
            .parts
            .iter()
            .filter(|p| p.format == Format::Msg && !p.name.contains('#'))
            .count();
        assert!(
            top >= emls.len(),
            "{file}: {top} messages, readpst {}",
            emls.len()
        );
    }
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
