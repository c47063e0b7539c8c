//! The query functions against their naive composition (extract, then
//! `try_find` per part, `find_file` for the whole), on real office files
//! (`tests/data/extract/office`, see its SOURCES.md) and an archive.

use std::io::Write as _;

use super::*;
use crate::extract::{extract, ExtractLimits};
use crate::{Index, IndexBuilder, MatchConfig};

const OFFICE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/extract/office");

fn declaration() -> String {
    std::fs::read_to_string(format!("{OFFICE}/declaration.txt")).unwrap()
}

fn index() -> Index {
    let text = declaration();
    let seg = IndexBuilder::new()
        .build()
        .unwrap()
        .segment_from_texts(&[("dump/declaration.txt", &text)])
        .unwrap();
    Index::from_bytes(seg).unwrap()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `find_in_file` is exactly the composition it documents.
fn assert_is_the_composition(matcher: &Matcher<'_>, name: &str, bytes: &[u8]) -> FileFindings {
    let limits = ExtractLimits::default();
    let got = find_in_file(matcher, name, bytes, &limits);
    assert_eq!(got.name, name);
    assert_eq!(
        got.evidence.as_ref().unwrap(),
        &matcher.find_file(bytes).unwrap()
    );
    let naive = extract(bytes, name, &limits);
    assert_eq!(got.format, naive.format);
    assert_eq!(got.skipped, naive.skipped);
    assert_eq!(got.parts.len(), naive.parts.len());
    for (g, p) in got.parts.iter().zip(&naive.parts) {
        assert_eq!(g.part, p.name);
        assert_eq!(g.format, p.format);
        let expected = if p.name.is_empty() {
            name.to_owned()
        } else {
            format!("{name}#{}", p.name)
        };
        assert_eq!(g.query, expected);
        assert_eq!(
            g.matches.as_ref().unwrap(),
            &matcher.try_find(&p.text).unwrap()
        );
        assert_eq!(g.cut, cut(matcher, &p.text));
    }
    got
}

#[test]
fn office_files_and_archives_match_per_part() {
    let index = index();
    let matcher = Matcher::new(&index, MatchConfig::default());
    for file in ["declaration.docx", "declaration.odt", "declaration.txt"] {
        let bytes = std::fs::read(format!("{OFFICE}/{file}")).unwrap();
        let f = assert_is_the_composition(&matcher, file, &bytes);
        let sources: Vec<&str> = f
            .parts
            .iter()
            .flat_map(|p| p.matches.as_ref().unwrap())
            .map(|m| m.source.as_str())
            .collect();
        assert!(
            sources.contains(&"dump/declaration.txt"),
            "{file}: {sources:?}"
        );
        assert!(f.evidence_count() >= sources.len());
    }
    // The .txt is the indexed file itself: identical.
    let txt = std::fs::read(format!("{OFFICE}/declaration.txt")).unwrap();
    let f = find_in_file(&matcher, "q.txt", &txt, &ExtractLimits::default());
    assert!(f.evidence.as_ref().unwrap().iter().any(|e| e.identical));

    let docx = std::fs::read(format!("{OFFICE}/declaration.docx")).unwrap();
    let zip = zip_of(&[("inner/decl.docx", &docx), ("notes.txt", b"nothing here")]);
    let f = assert_is_the_composition(&matcher, "q.zip", &zip);
    let found: Vec<&str> = f
        .parts
        .iter()
        .filter(|p| !p.matches.as_ref().unwrap().is_empty())
        .map(|p| p.query.as_str())
        .collect();
    assert_eq!(found, ["q.zip#inner/decl.docx"]);
    assert!(f.errors().is_empty());
}

#[test]
fn notes_name_skipped_and_cut_parts() {
    let index = index();
    let cfg = MatchConfig::builder().max_query_bytes(64).build().unwrap();
    let matcher = Matcher::new(&index, cfg);
    let limits = ExtractLimits {
        max_parts: 1,
        ..ExtractLimits::default()
    };
    let text = declaration();
    let zip = zip_of(&[("a.txt", text.as_bytes()), ("b.txt", b"second part")]);
    let f = find_in_file(&matcher, "q.zip", &zip, &limits);
    let notes = f.notes();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].starts_with("q.zip#b.txt: part limit reached"),
        "{notes:?}"
    );
    assert_eq!(
        notes[1],
        format!(
            "q.zip#a.txt: only the first 64 B of its {} were matched (query size limit)",
            human_bytes(text.len() as u64)
        )
    );
    assert_eq!(
        f.parts[0].cut,
        Some(Cut {
            matched: 64,
            total: text.len()
        })
    );
    let t = find_text(&matcher, &text).unwrap();
    assert_eq!(t.cut, f.parts[0].cut);
    assert_eq!(t.matches, matcher.try_find(&text).unwrap());
    assert_eq!(find_text(&matcher, "short").unwrap().cut, None);
}

#[test]
fn read_file_enforces_its_limit_at_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.bin");
    std::fs::write(&p, vec![7u8; 100]).unwrap();
    assert_eq!(read_file(&p, 100).unwrap().len(), 100);
    assert_eq!(read_file(&p, 101).unwrap().len(), 100);
    let e = read_file(&p, 99).unwrap_err();
    assert!(matches!(e, ReadError::TooLarge { limit: 99, .. }));
    assert_eq!(
        e.to_string(),
        format!("{}: larger than the file size limit (99 B)", p.display())
    );
    let missing = read_file(&dir.path().join("none"), 10).unwrap_err();
    assert!(matches!(missing, ReadError::Io { .. }));
    assert!(missing.to_string().contains("none"));
}

#[test]
fn part_paths_and_sizes_read_well() {
    assert_eq!(part_path("a.eml", ""), "a.eml");
    assert_eq!(
        part_path("a.eml", "attachment:x.pdf"),
        "a.eml#attachment:x.pdf"
    );
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(1023), "1023 B");
    assert_eq!(human_bytes(1024), "1.0 KiB");
    assert_eq!(human_bytes(3 << 30), "3.0 GiB");
}
