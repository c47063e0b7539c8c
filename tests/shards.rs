//! An index cut into shards by key (issue 16, item 2) gives the matches of
//! the unsharded index, field for field, through the library and through
//! the binary; the shards split the postings exactly and evenly; a shard
//! alone, an append or a removal on a sharded index is refused with a
//! reason; a sharded index compacts back into one.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use leakprint::index::builder::{Mode, NoProgress};
use leakprint::index::{Index, IndexBuilder, IndexError, Residence};
use leakprint::matcher::{MatchConfig, Matcher};

fn indexer() -> leakprint::index::builder::Indexer {
    IndexBuilder::new().threads(2).build().unwrap()
}

fn corpus(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leakprint"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

const QUERIES: [&str; 5] = [
    "corpus/queries/exact.jsonl",
    "corpus/queries/edited.jsonl",
    "corpus/queries/near_duplicates.jsonl",
    "corpus/queries/negatives.jsonl",
    "corpus/queries/ocr.jsonl",
];

/// Every match of the bundled queries, as the binary prints them, sorted
/// (they hold matches: exit code 0).
fn cli_matches(idx: &Path) -> BTreeSet<String> {
    let queries: Vec<PathBuf> = QUERIES.iter().map(|q| corpus(q)).collect();
    common::cli_match_lines(idx, &queries, &[0])
}

/// The texts of the bundled queries.
fn query_texts() -> Vec<String> {
    let mut out = Vec::new();
    for q in QUERIES {
        for line in std::fs::read_to_string(corpus(q)).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            out.push(v["text"].as_str().unwrap().to_string());
        }
    }
    out
}

/// Every match of every query through the library, all fields (segment
/// and part numbers too).
fn lib_matches(idx: &Index, texts: &[String]) -> Vec<Vec<leakprint::matcher::Match>> {
    let m = Matcher::new(idx, MatchConfig::default());
    texts.iter().map(|t| m.try_find(t).unwrap()).collect()
}

#[test]
fn shards_match_like_the_unsharded_index() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one");
    indexer()
        .index_paths(&[corpus("corpus/dump")], &one, Mode::Create, &NoProgress)
        .unwrap();
    indexer().compact(&one, &NoProgress).unwrap();
    let four = dir.path().join("four");
    copy_dir(&one, &four);
    let st = bin()
        .args(["compact", "--quiet", "--shards", "4"])
        .arg(&four)
        .status()
        .unwrap();
    assert!(st.success());

    let (a, b) = (Index::open(&one).unwrap(), Index::open(&four).unwrap());
    b.verify().unwrap();
    assert_eq!(b.shard_count(), 4);
    assert!(a.common_count() > 10, "the corpus has boilerplate");
    assert_eq!(a.common_count(), b.common_count());
    // The shards split the postings exactly, and evenly (remixed keys).
    let whole = a.totals().postings;
    let shards = b.shard_sizes();
    assert_eq!(shards.iter().map(|s| s.postings).sum::<u64>(), whole);
    for s in &shards {
        assert!(
            s.postings * 100 > whole * 20 && s.postings * 100 < whole * 30,
            "{} of {whole} postings in {}",
            s.postings,
            s.folder.display()
        );
        assert!(s.lookup_bytes < shards[0].bytes / 2);
    }
    let mm = b.matcher_memory();
    assert!(mm.per_shard < mm.whole && mm.whole <= a.matcher_memory().whole + 4 * 4096);

    // Field for field, segment and part numbers included.
    let texts = query_texts();
    let ma = lib_matches(&a, &texts);
    assert!(ma.iter().filter(|m| !m.is_empty()).count() > 700);
    assert!(ma == lib_matches(&b, &texts), "library matches differ");
    // Read into memory (huge pages where the kernel allows) instead of
    // mapped, whole or in shards: the same matches.
    for dir in [&one, &four] {
        let loaded = Index::open_with(dir, Residence::Loaded).unwrap();
        assert!(
            ma == lib_matches(&loaded, &texts),
            "{} loaded",
            dir.display()
        );
    }
    // Through the binary, which opens the folder as any index.
    let (ca, cb) = (cli_matches(&one), cli_matches(&four));
    assert!(ca.len() > 1000, "only {} matches", ca.len());
    let only_one: Vec<_> = ca.difference(&cb).take(3).collect();
    let only_four: Vec<_> = cb.difference(&ca).take(3).collect();
    assert!(ca == cb, "one: {only_one:#?}\nfour: {only_four:#?}");

    // `info --json` reports each shard's size and the matcher's memory.
    let out = bin().arg("info").arg("--json").arg(&four).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["shards"].as_array().unwrap().len(), 4);
    assert!(v["shards"][3]["lookup_bytes"].as_u64().unwrap() > 0);
    assert!(v["matcher_memory"]["per_shard"].as_u64().unwrap() > 0);
    // The text form names the segments' format.
    let out = bin().arg("info").arg(&four).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("segments ")
            && l.ends_with(&format!(
                "(format {})",
                leakprint::index::wire::FORMAT_VERSION
            ))),
        "{text}"
    );

    // A shard alone holds a quarter of the postings: refused, with the way out.
    let lone = b.shard_sizes()[1].folder.clone();
    drop(b);
    match Index::open(&lone) {
        Err(IndexError::LoneShard {
            index: 1, count: 4, ..
        }) => {}
        other => panic!("a lone shard opened: {other:?}"),
    }
    let out = bin()
        .args(["match", "--index"])
        .arg(&lone)
        .arg(corpus(QUERIES[0]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 1 of 4"));
    // Appends and removals would need every shard rewritten: refused.
    let out = bin()
        .args(["index", "--append", "--quiet"])
        .arg(corpus("corpus/dump/maildir"))
        .arg("--output")
        .arg(&four)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut into 4 shards"));

    // Re-cut into two, then back into one index: the same matches, and
    // the folders of the earlier cut are gone.
    indexer().compact_shards(&four, 2, &NoProgress).unwrap();
    let two = Index::open(&four).unwrap();
    assert_eq!(two.shard_count(), 2);
    assert!(ma == lib_matches(&two, &texts));
    drop(two);
    let folders = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
            .count()
    };
    assert_eq!(folders(&four), 2);
    indexer().compact_shards(&four, 1, &NoProgress).unwrap();
    let back = Index::open(&four).unwrap();
    assert_eq!(back.shard_count(), 1);
    assert_eq!(folders(&four), 0);
    assert!(ma == lib_matches(&back, &texts));
}

#[test]
fn shard_counts_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let mut rng = common::Rng(16);
    for i in 0..3 {
        std::fs::write(docs.join(format!("{i}.txt")), common::prose(&mut rng, 2000)).unwrap();
    }
    let idx = dir.path().join("idx");
    indexer()
        .index_paths(&[docs], &idx, Mode::Create, &NoProgress)
        .unwrap();
    for bad in [0, 3, 2048] {
        let e = indexer()
            .compact_shards(&idx, bad, &NoProgress)
            .unwrap_err();
        assert!(e.to_string().contains("power of two"), "{bad}: {e}");
    }
    // A few hundred postings fill the smallest directory: no room for
    // shard bits below it.
    match indexer().compact_shards(&idx, 2, &NoProgress) {
        Err(IndexError::TooManyShards {
            shards: 2, most: 1, ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // Nothing was published: the index opens unsharded as before.
    assert_eq!(Index::open(&idx).unwrap().shard_count(), 1);
}
