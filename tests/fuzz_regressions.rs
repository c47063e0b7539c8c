//! Replays the inputs the fuzzers found (and their seed corpora) through
//! the same entry points as the fuzz targets, so that `cargo test` keeps
//! every fixed crash fixed.
//!
//! Layout: `tests/data/fuzz-regressions/<target>/<file>`, where `<target>`
//! is a fuzz target name (`fuzz/fuzz_targets/<target>.rs`); seeds are in
//! `fuzz/corpus/<target>/`. The harness is `fuzz/src/harness.rs`, shared
//! with the fuzz crate.

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::path::Path;

/// Run one target's entry point on `data`.
fn run(target: &str, data: &[u8]) {
    match target {
        "index_reader" => harness::index_reader(data),
        "index_forged" => harness::index_forged(data),
        "extract_mail" => harness::extract(data, "message.eml"),
        "extract_html" => harness::extract(data, "page.html"),
        "extract_pdf" => harness::extract(data, "document.pdf"),
        "extract_office" => harness::extract(data, "document.docx"),
        "extract_archive" => harness::extract(data, "bundle.zip"),
        "extract_outlook" => harness::extract(data, "store.pst"),
        "extract_legacy" => harness::extract(data, "document.doc"),
        "extract_text" => harness::extract(data, "notes.txt"),
        "extract_streamed" => harness::extract_streamed(data),
        "input_tsv" => harness::input_tsv(data),
        "input_hocr" => harness::input_hocr(data),
        "input_jsonl" => harness::input_jsonl(data),
        "normalize" => harness::normalize(data),
        other => panic!("unknown fuzz target folder {other}"),
    }
}

/// Every file under `root/<target>/`, replayed; returns how many ran.
///
/// # Panics
/// When `root` cannot be read (a missing folder must fail the test, not
/// replay nothing) or a replay panics.
fn replay(root: &Path) -> usize {
    let dirs = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: cannot read the replay folder: {e}", root.display()));
    let mut n = 0;
    let mut dirs: Vec<_> = dirs.flatten().map(|d| d.path()).collect();
    dirs.sort();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        let target = dir.file_name().and_then(|s| s.to_str()).unwrap_or("");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files.iter().filter(|f| f.is_file()) {
            let data = std::fs::read(f).unwrap();
            let res = std::panic::catch_unwind(|| run(target, &data));
            assert!(res.is_ok(), "{} panicked", f.display());
            n += 1;
        }
    }
    n
}

#[test]
fn fuzz_regressions_replay_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let n = replay(&root);
    // the committed crash inputs (one folder per target); a replay of
    // nothing would pass whatever the code does
    assert!(
        n >= 3,
        "only {n} regression inputs found under {}",
        root.display()
    );
}

#[test]
fn fuzz_seed_corpora_replay_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let n = replay(&root);
    assert!(n > 20, "only {n} seeds found under {}", root.display());
}

#[test]
fn seed_segment_is_valid_and_forging_nothing_keeps_it_valid() {
    let seed = harness::seed_segment().to_vec();
    let idx = leakprint::index::Index::from_bytes(seed.clone()).unwrap();
    idx.verify().unwrap();
    assert_eq!(idx.totals().files, 3);
    let mut same = seed.clone();
    harness::fix_checksums(&mut same);
    assert_eq!(
        same, seed,
        "recomputing checksums of a valid segment changes it"
    );
    harness::index_forged(&[]);
}

/// The committed seed of `index_reader` is a segment this build opens and
/// verifies: a seed refused at open (an older format or normalization)
/// leaves the fuzzer at the header checks (172 edges in 44 M runs, session
/// 52, against 2,330 with a valid seed). After a format change, rewrite it
/// with `LEAKPRINT_WRITE_SEEDS=1 cargo test --test fuzz_regressions seed`.
#[test]
fn the_index_reader_seed_is_a_segment_this_build_opens() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/index_reader/seed-small.lps");
    if std::env::var_os("LEAKPRINT_WRITE_SEEDS").is_some() {
        std::fs::write(&p, harness::seed_segment()).unwrap();
    }
    let bytes = std::fs::read(&p).unwrap();
    let idx = leakprint::index::Index::from_bytes(bytes).expect("the seed opens");
    idx.verify().unwrap();
}
