//! The index format, pinned: a segment built from a fixed set of documents
//! is committed as `tests/data/index-v1/golden.lps`.
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
//! - Segments built with an older normalization (`golden-norm1*.lps`,
//!   normalization v1, before the confusable folds) are refused with an
//!   error that says to rebuild: their fingerprints would silently miss.
//!
//! Regenerate after a deliberate change:
//! `LEAKPRINT_BLESS=1 cargo test --test index_golden`.

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

fn golden_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/index-v1/golden.lps")
}

fn build() -> Vec<u8> {
    IndexBuilder::new()
        .threads(1)
        .build()
        .unwrap()
        .segment_from_texts(DOCS)
        .unwrap()
}

#[test]
fn rebuilding_gives_the_committed_bytes() {
    let bytes = build();
    if std::env::var_os("LEAKPRINT_BLESS").is_some() {
        std::fs::write(golden_path(), &bytes).unwrap();
    }
    let golden =
        std::fs::read(golden_path()).expect("golden segment missing: run with LEAKPRINT_BLESS=1");
    assert_eq!(bytes.len(), golden.len(), "segment size changed");
    let first_diff = bytes.iter().zip(&golden).position(|(a, b)| a != b);
    assert_eq!(
        first_diff, None,
        "segment bytes changed from offset {first_diff:?}"
    );
}

#[test]
fn committed_segments_open_verify_and_match() {
    let golden = std::fs::read(golden_path()).unwrap();
    check_committed(golden);
}

#[test]
fn segments_of_an_older_normalization_are_refused_with_a_rebuild_message() {
    for name in ["golden-norm1.lps", "golden-norm1-16k-blocks.lps"] {
        let bytes = std::fs::read(golden_path().with_file_name(name)).unwrap();
        let err = Index::from_bytes(bytes).unwrap_err().to_string();
        assert!(
            err.contains("normalization v1") && err.contains("rebuild the index"),
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
