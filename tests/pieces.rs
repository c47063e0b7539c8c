//! An index built in pieces (issue 16: the core of the Spark build) is the
//! index one build of the same files gives: same common keys, same totals,
//! same matches through the real binary; a piece built twice (a retried
//! task) writes the same bytes; nothing is visible before the commit; a
//! stale commit is refused.

mod common;

use std::path::{Path, PathBuf};

use common::{prose, Rng};
use leakprint::index::builder::{
    piece_keys_name, piece_segment_name, plan_pieces, walk, NoProgress,
};
use leakprint::index::keycount::sum_key_counts;
use leakprint::index::{Index, IndexBuilder};

fn indexer() -> leakprint::index::builder::Indexer {
    IndexBuilder::new().threads(2).build().unwrap()
}

/// Build `inputs` in `n` pieces into `out`; returns the piece numbers.
fn build_in_pieces(inputs: &[PathBuf], out: &Path, n: usize) -> Vec<u32> {
    let ix = indexer();
    let generation = ix.begin_pieces(out).unwrap();
    let plan = plan_pieces(walk::walk(inputs).unwrap(), n);
    let scratch = tempfile::tempdir().unwrap();
    let mut numbers = Vec::new();
    let mut keys = Vec::new();
    for (i, entries) in plan.into_iter().enumerate() {
        let piece = i as u32 + 1;
        ix.build_piece(entries, out, generation, piece, scratch.path(), &NoProgress)
            .unwrap();
        numbers.push(piece);
        keys.push(out.join(piece_keys_name(generation, piece)));
    }
    assert!(
        Index::open(out).is_err(),
        "pieces are visible before the commit"
    );
    let frequent = sum_key_counts(&keys, 1).unwrap();
    ix.commit_pieces(out, generation, &numbers, frequent)
        .unwrap();
    numbers
}

fn corpus(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

#[test]
fn pieces_of_the_corpus_match_like_one_build() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.idx");
    let split = dir.path().join("split.idx");
    // The dump without the folders of test mail whose files share texts
    // (the same body in two files of different bytes): pieces deduplicate
    // text inside a piece only (see `index::builder::pieces`).
    let inputs = vec![
        corpus("corpus/dump/docs"),
        corpus("corpus/dump/mail/synthetic"),
        corpus("corpus/dump/maildir"),
    ];
    indexer()
        .index_paths(
            &inputs,
            &one,
            leakprint::index::builder::Mode::Create,
            &NoProgress,
        )
        .unwrap();
    let pieces = build_in_pieces(&inputs, &split, 3);
    assert_eq!(pieces.len(), 3);

    let (a, b) = (Index::open(&one).unwrap(), Index::open(&split).unwrap());
    b.verify().unwrap();
    assert_eq!(b.segments().len(), 3);
    let (sa, sb) = (a.state().unwrap(), b.state().unwrap());
    assert_eq!(sa.live_texts, sb.live_texts);
    assert!(sa.common_keys().len() > 10, "the corpus has boilerplate");
    assert_eq!(sa.common_keys(), sb.common_keys());
    let (ta, tb) = (a.totals(), b.totals());
    assert_eq!(
        (ta.files, ta.parts, ta.postings, ta.text_bytes, ta.chunks),
        (tb.files, tb.parts, tb.postings, tb.text_bytes, tb.chunks)
    );
    // The key-count files are gone with the commit.
    let left: Vec<String> = std::fs::read_dir(&split)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lpk") || n.starts_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    let queries = [
        corpus("corpus/queries/exact.jsonl"),
        corpus("corpus/queries/edited.jsonl"),
        corpus("corpus/queries/near_duplicates.jsonl"),
    ];
    let (ma, mb) = (
        common::cli_match_lines(&one, &queries, &[0, 1]),
        common::cli_match_lines(&split, &queries, &[0, 1]),
    );
    assert!(ma.len() > 400, "only {} matches", ma.len());
    let only_one: Vec<_> = ma.difference(&mb).take(3).collect();
    let only_split: Vec<_> = mb.difference(&ma).take(3).collect();
    assert!(
        ma == mb,
        "one build only: {only_one:#?}\npieces only: {only_split:#?}"
    );
}

const NOTICE: &str = "CONFIDENTIALITY NOTICE: This e-mail message, including any \
attachments, is for the sole use of the intended recipient(s) and may contain \
confidential and privileged information. Any unauthorized review, use, disclosure \
or distribution is prohibited.";

#[test]
fn boilerplate_spread_over_pieces_is_common_in_the_whole_index() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let mut rng = Rng(16);
    // 40 mails with the notice, of distinct sizes (so spread over pieces):
    // fewer than 32 in any one piece of four, 40 in the index.
    for i in 0..40 {
        let body = format!("{}\n\n{NOTICE}\n", prose(&mut rng, 600 + 13 * i));
        std::fs::write(docs.join(format!("m{i:02}.txt")), body).unwrap();
    }
    let (one, split) = (dir.path().join("one.idx"), dir.path().join("split.idx"));
    let inputs = vec![docs.clone()];
    indexer()
        .index_paths(
            &inputs,
            &one,
            leakprint::index::builder::Mode::Create,
            &NoProgress,
        )
        .unwrap();
    build_in_pieces(&inputs, &split, 4);
    let b = Index::open(&split).unwrap();
    for s in b.segments() {
        assert!(
            s.meta().files < 32,
            "a piece holds {} files",
            s.meta().files
        );
    }
    let common_one = Index::open(&one).unwrap().state().unwrap().common_keys();
    assert!(!common_one.is_empty());
    assert_eq!(b.state().unwrap().common_keys(), common_one);
}

#[test]
fn a_piece_built_again_is_the_same_bytes_and_a_stale_commit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    let files = common::text_tree(&docs, 12, 5, 3000);
    assert!(!files.is_empty());
    let out = dir.path().join("x.idx");
    let ix = indexer();
    let generation = ix.begin_pieces(&out).unwrap();
    let plan = plan_pieces(walk::walk(std::slice::from_ref(&docs)).unwrap(), 2);
    let scratch = tempfile::tempdir().unwrap();
    let read = |p: u32| {
        (
            std::fs::read(out.join(piece_segment_name(generation, p))).unwrap(),
            std::fs::read(out.join(piece_keys_name(generation, p))).unwrap(),
        )
    };
    ix.build_piece(
        plan[0].clone(),
        &out,
        generation,
        1,
        scratch.path(),
        &NoProgress,
    )
    .unwrap();
    let first = read(1);
    // The retried attempt.
    ix.build_piece(
        plan[0].clone(),
        &out,
        generation,
        1,
        scratch.path(),
        &NoProgress,
    )
    .unwrap();
    assert!(first == read(1), "a retried piece wrote other bytes");
    ix.build_piece(
        plan[1].clone(),
        &out,
        generation,
        2,
        scratch.path(),
        &NoProgress,
    )
    .unwrap();
    let keys: Vec<PathBuf> = (1..=2)
        .map(|p| out.join(piece_keys_name(generation, p)))
        .collect();
    let frequent = sum_key_counts(&keys, 1).unwrap();
    // A piece that was never built: refused, nothing published.
    assert!(ix
        .commit_pieces(&out, generation, &[1, 2, 3], frequent.clone())
        .is_err());
    assert!(Index::open(&out).is_err());
    ix.commit_pieces(&out, generation, &[1, 2], frequent.clone())
        .unwrap();
    let index = Index::open(&out).unwrap();
    index.verify().unwrap();
    assert_eq!(index.totals().files, files.len() as u64);
    // The same generation again: another build committed it already.
    assert!(ix
        .commit_pieces(&out, generation, &[1, 2], frequent)
        .is_err());
}

/// A piece is one segment: a streamed file whose text outgrows it is cut
/// there with a reason (a plain build goes on in a continuation record,
/// `tests/streamed.rs`), and the piece still builds.
#[test]
fn a_streamed_file_larger_than_a_piece_is_cut_with_a_reason() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut mbox = String::new();
    for i in 0..200 {
        mbox.push_str(&format!(
            "From a@example.org Mon Jan  1 00:00:00 2001\nSubject: m{i}\n\n{} {i}\n\n",
            "The plan for the quarter is final and the budget is approved by all. ".repeat(20)
        ));
    }
    std::fs::write(src.join("box.mbox"), &mbox).unwrap();
    let out = d.path().join("x");
    let ix = IndexBuilder::new()
        .max_file_size(16 << 10)
        .memory(16 << 20)
        .segment_norm_limit(50_000)
        .build()
        .unwrap();
    let generation = ix.begin_pieces(&out).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let entries = walk::walk(std::slice::from_ref(&src)).unwrap();
    let s = ix
        .build_piece(entries, &out, generation, 1, scratch.path(), &NoProgress)
        .unwrap();
    assert!(s.parts > 10 && s.parts < 200, "{} parts", s.parts);
    assert!(
        s.skipped.iter().any(
            |(name, why)| name.ends_with(&format!("box.mbox#{}", s.parts + 1))
                && why.contains("fills the segment of a build in pieces")
        ),
        "{:?}",
        s.skipped
    );
}

/// Any count of pieces past the number of files gives the plan of one
/// piece a file (empty pieces are dropped), without tables the size of
/// the count asked for (`plan_pieces(.., 2^40)` aborted on its
/// allocation).
#[test]
fn more_pieces_than_files_plan_one_piece_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    let files = common::text_tree(&docs, 7, 3, 2000);
    let entries = || walk::walk(std::slice::from_ref(&docs)).unwrap();
    let names = |plan: Vec<Vec<walk::Entry>>| -> Vec<Vec<String>> {
        plan.iter()
            .map(|p| p.iter().map(|e| format!("{e:?}")).collect())
            .collect()
    };
    let exact = names(plan_pieces(entries(), files.len()));
    assert_eq!(exact.len(), files.len());
    for n in [files.len() + 1, 1 << 20, 1 << 40, usize::MAX] {
        assert_eq!(names(plan_pieces(entries(), n)), exact, "{n} pieces");
    }
}
