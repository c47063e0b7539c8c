//! The index format, pinned: a segment built from a fixed set of documents
//! is committed as `tests/data/index-v3/golden.lps` (format 3, LZ4 text),
//! with `golden-zstd.lps` (the same documents, zstd text blocks).
//! `tests/data/index-v2/` holds the same documents as format 2 wrote them
//! (postings without context bytes): still read and matched.
//!
//! - Building it again must give the same bytes: any change to the format,
//!   the normalization, the rolling hash, winnowing, chunk cut points or the
//!   compression shows up here, and must come with a format or
//!   normalization version bump and a new fixture.
//! - The committed files must keep opening, verifying and matching: old
//!   format versions stay readable (kept as `index-vN/`), and so do
//!   segments an older builder wrote with other settings (text blocks of
//!   16 KiB, before they became 8 KiB; the block size is recorded in each
//!   segment).
//! - Segments of format 1 (`index-v1/golden-norm1*.lps`, which also used
//!   normalization v1, before the confusable folds) are refused with an
//!   error that says to rebuild: their fingerprints would silently miss,
//!   and format 2 keeps what format 1 dropped (the postings of common
//!   keys), so they cannot be upgraded in place.
//!
//! Regenerate after a deliberate change:
//! `LEAKPRINT_BLESS=1 cargo test --test index_golden`.

use leakprint::index::wire::{decode_layout, Codec, Posting, Record, SectionKind, POSTING_V2_LEN};
use leakprint::{Index, IndexBuilder, MatchConfig, Matcher};

const DOCS: &[(&str, &str)] = &[
    (
        "dump/mail/1.eml",
        "Subject: numbers\n\nAmy,\n\nThe quarterly numbers for the studio look weak and we should not \
         share this with anyone outside the team until finance has signed off.\n\n> Earlier: please keep \
         the premiere schedule confidential.\n\nThanks,\nMichael\n",
    ),
    (
        "dump/docs/rights.txt",
        "Distribution rights for the overseas territories revert to the studio in 2016 unless \
         the partner renews; legal wants the renewal terms kept internal.",
    ),
    ("dump/empty.txt", ""),
    ("dump/unicode.txt", "Ｃａｆé — “ﬁnal” numbers: ÆSIR Straße 1000 | Ι ι ﬀ"),
];

fn data(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

const GOLDENS: &[(&str, Codec)] = &[
    ("index-v3/golden.lps", Codec::Lz4),
    ("index-v3/golden-zstd.lps", Codec::Zstd),
];

/// Segments of older formats this build still reads.
const OLDER: &[&str] = &["index-v2/golden.lps", "index-v2/golden-zstd.lps"];

fn build(codec: Codec) -> Vec<u8> {
    IndexBuilder::new()
        .threads(1)
        .text_codec(codec)
        .build()
        .unwrap()
        .segment_from_texts(DOCS)
        .unwrap()
}

#[test]
fn rebuilding_gives_the_committed_bytes() {
    for &(rel, codec) in GOLDENS {
        let bytes = build(codec);
        if std::env::var_os("LEAKPRINT_BLESS").is_some() {
            std::fs::write(data(rel), &bytes).unwrap();
        }
        let golden =
            std::fs::read(data(rel)).expect("golden segment missing: run with LEAKPRINT_BLESS=1");
        assert_eq!(bytes.len(), golden.len(), "{rel}: segment size changed");
        let first_diff = bytes.iter().zip(&golden).position(|(a, b)| a != b);
        assert_eq!(
            first_diff, None,
            "{rel}: segment bytes changed from offset {first_diff:?}"
        );
    }
}

#[test]
fn committed_segments_open_verify_and_match() {
    for rel in GOLDENS.iter().map(|g| g.0).chain(OLDER.iter().copied()) {
        let golden = std::fs::read(data(rel)).unwrap();
        let version = u32::from_le_bytes(golden[8..12].try_into().unwrap());
        let expect = if rel.starts_with("index-v2/") { 2 } else { 3 };
        assert_eq!(version, expect, "{rel}");
        check_committed(golden);
    }
}

#[test]
fn format_2_and_3_hold_the_same_postings() {
    // The same documents: format 3 adds a context byte to each posting
    // and changes nothing else the matcher reads.
    for (new, old) in GOLDENS.iter().map(|g| g.0).zip(OLDER) {
        let (ba, bb) = (
            std::fs::read(data(new)).unwrap(),
            std::fs::read(data(old)).unwrap(),
        );
        let (la, lb) = (decode_layout(&ba).unwrap(), decode_layout(&bb).unwrap());
        let section =
            |b: &[u8], l: &leakprint::index::wire::Layout, k| b[l.range(k).unwrap()].to_vec();
        assert_eq!(
            section(&ba, &la, SectionKind::FpDirectory),
            section(&bb, &lb, SectionKind::FpDirectory),
            "{new}"
        );
        // Format 3's postings less their 7th byte are format 2's.
        let pa = section(&ba, &la, SectionKind::FpPostings);
        let pb = section(&bb, &lb, SectionKind::FpPostings);
        let stripped: Vec<u8> = pa
            .chunks_exact(Posting::LEN)
            .flat_map(|r| r[..POSTING_V2_LEN].to_vec())
            .collect();
        assert!(!pb.is_empty());
        assert_eq!(stripped, pb, "{new}");
        let a = Index::from_bytes(ba).unwrap();
        let b = Index::from_bytes(bb).unwrap();
        let (sa, sb) = (&a.segments()[0], &b.segments()[0]);
        assert!(sa.has_context() && !sb.has_context());
        assert_eq!(sa.part_text(0).unwrap(), sb.part_text(0).unwrap());
    }
}

#[test]
fn segments_of_format_1_are_refused_with_a_rebuild_message() {
    for name in [
        "index-v1/golden-norm1.lps",
        "index-v1/golden-norm1-16k-blocks.lps",
    ] {
        let bytes = std::fs::read(data(name)).unwrap();
        let err = Index::from_bytes(bytes).unwrap_err().to_string();
        assert!(
            err.contains("version 1") && err.contains("rebuild the index"),
            "{name}: {err}"
        );
    }
}

fn check_committed(golden: Vec<u8>) {
    let index = Index::from_bytes(golden).unwrap();
    index.verify().unwrap();
    let t = index.totals();
    assert_eq!((t.files, t.parts), (4, 4));
    let m = Matcher::new(&index, MatchConfig::default());
    let post =
        "\"we should not share this with anyone outside the team until finance has signed off\" 😬";
    let found = m.try_find(post).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].source, "dump/mail/1.eml");
    assert_eq!(
        &DOCS[0].1[found[0].source_span.clone()],
        "we should not share this with anyone outside the team until finance has signed off"
    );
}
