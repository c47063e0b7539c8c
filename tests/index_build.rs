//! Index builds through the library: determinism, spills, append, compact,
//! lookups against an oracle, corruption.

mod common;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use leakprint::index::builder::{Mode, NoProgress};
use leakprint::index::{Index, IndexBuilder, IndexError};

fn build(
    inputs: &[PathBuf],
    out: &std::path::Path,
    b: IndexBuilder,
) -> leakprint::index::BuildSummary {
    b.build()
        .unwrap()
        .index_paths(inputs, out, Mode::Create, &NoProgress)
        .unwrap()
}

#[test]
fn same_bytes_at_any_thread_count_and_memory_budget() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 120, 7, 6000);
    // A duplicate file and an empty file.
    std::fs::copy(src.join("box0/mail0000.txt"), src.join("box1/copy.txt")).unwrap();
    std::fs::write(src.join("empty.txt"), "").unwrap();
    let a = d.path().join("a");
    let b = d.path().join("b");
    let c = d.path().join("c");
    build(
        std::slice::from_ref(&src),
        &a,
        IndexBuilder::new().threads(1),
    );
    build(
        std::slice::from_ref(&src),
        &b,
        IndexBuilder::new().threads(4),
    );
    // 16 MiB forces spills of the fingerprint buffer? No: compute the
    // cap; use the smallest budget allowed and a larger corpus below.
    build(
        std::slice::from_ref(&src),
        &c,
        IndexBuilder::new().threads(3).memory(16 << 20),
    );
    let sa = common::segment_bytes(&a);
    assert_eq!(sa, common::segment_bytes(&b));
    assert_eq!(sa, common::segment_bytes(&c));
    let idx = Index::open(&a).unwrap();
    idx.verify().unwrap();
    let t = idx.totals();
    assert_eq!(t.files, 122);
    // box1/copy.txt has the bytes of box0/mail0000.txt: a copy, no parts.
    assert_eq!(t.parts, 121);
}

#[test]
fn spilled_runs_merge_to_the_same_segment() {
    // 16 MiB of memory gives a fingerprint buffer of ~700k entries; a
    // corpus with more fingerprints than that must spill and still give
    // the same bytes as an in-memory build.
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 160, 11, 120_000);
    let a = d.path().join("a");
    let b = d.path().join("b");
    let sa = build(
        std::slice::from_ref(&src),
        &a,
        IndexBuilder::new().threads(2).memory(16 << 20),
    );
    build(
        std::slice::from_ref(&src),
        &b,
        IndexBuilder::new().threads(2).memory(4 << 30),
    );
    assert!(
        sa.postings + sa.common > 700_000,
        "corpus too small to spill: {}",
        sa.postings
    );
    assert_eq!(common::segment_bytes(&a), common::segment_bytes(&b));
    // At one thread the text blocks' dictionary is trained inline, at more
    // on a thread of its own while batches are assembled (more than
    // `DICT_TRAIN_BYTES` of text: the training starts before the end):
    // the same dictionary, the same bytes.
    let text: u64 = walk_bytes(&src);
    assert!(
        text > 2 * leakprint::index::text::DICT_TRAIN_BYTES as u64,
        "{text} bytes"
    );
    let c = d.path().join("c");
    build(
        std::slice::from_ref(&src),
        &c,
        IndexBuilder::new().threads(1).memory(16 << 20),
    );
    assert_eq!(common::segment_bytes(&a), common::segment_bytes(&c));
}

/// Bytes of the files under `dir`, as the indexer's walk finds them.
fn walk_bytes(dir: &std::path::Path) -> u64 {
    leakprint::index::builder::walk::walk(&[dir.to_path_buf()])
        .unwrap()
        .iter()
        .map(|e| match e {
            leakprint::index::builder::walk::Entry::File { size, .. } => *size,
            leakprint::index::builder::walk::Entry::Skipped { .. } => 0,
        })
        .sum()
}

#[test]
fn every_fingerprint_of_every_part_can_be_looked_up() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 30, 3, 3000);
    let out = d.path().join("x");
    build(&[src], &out, IndexBuilder::new());
    let idx = Index::open(&out).unwrap();
    let p = idx.params();
    let seg = &idx.segments()[0];
    for part in 0..seg.part_count() {
        let info = seg.part(part).unwrap();
        if info.duplicate != leakprint::index::wire::Duplicate::None {
            continue;
        }
        let text = seg.part_text(part).unwrap();
        let norm = leakprint::normalize::normalize(&text);
        assert_eq!(norm.text.len() as u32, info.norm_len);
        let mut fps = Vec::new();
        leakprint::winnow::fingerprints(
            norm.text.as_bytes(),
            p.k as usize,
            p.w as usize,
            p.seed,
            &mut fps,
        );
        for (h, pos) in fps {
            let key = leakprint::fingerprint::remix(h);
            let global = info.norm_base + pos;
            let found: Vec<u32> = seg.postings(key).collect();
            // Every key keeps its postings, common ones included (whether
            // a key is common is an index-wide decision that can change as
            // the index grows).
            assert!(
                found.contains(&global),
                "part {part} pos {pos}: key {key:#x} not found"
            );
            assert_eq!(seg.locate(global), Some((part, pos)));
        }
        // The window API gives back the same normalized text.
        let w = seg.window(part, 10..60).unwrap();
        let end = 60.min(norm.text.len());
        let start = 10.min(end);
        assert_eq!(w.normalized.text, norm.text[start..end]);
        assert_eq!(w.norm_start, start);
    }
}

#[test]
fn append_then_compact() {
    let d = tempfile::tempdir().unwrap();
    let one = d.path().join("one");
    let two = d.path().join("two");
    common::text_tree(&one, 20, 1, 2000);
    common::text_tree(&two, 15, 2, 2000);
    let out = d.path().join("x");
    let ix = IndexBuilder::new().build().unwrap();
    ix.index_paths(std::slice::from_ref(&one), &out, Mode::Create, &NoProgress)
        .unwrap();
    ix.index_paths(std::slice::from_ref(&two), &out, Mode::Append, &NoProgress)
        .unwrap();
    let idx = Index::open(&out).unwrap();
    assert_eq!(idx.segments().len(), 2);
    assert_eq!(idx.totals().files, 35);
    idx.verify().unwrap();
    drop(idx);
    ix.compact(&out, &NoProgress).unwrap();
    let idx = Index::open(&out).unwrap();
    assert_eq!(idx.segments().len(), 1);
    assert_eq!(idx.totals().files, 35);
    idx.verify().unwrap();
    // Compacting gives the same segment as indexing both at once.
    let both = d.path().join("both");
    ix.index_paths(&[one, two], &both, Mode::Create, &NoProgress)
        .unwrap();
    assert_eq!(common::segment_bytes(&both), common::segment_bytes(&out));
    // Only the manifest, one segment and the state are left in the folder.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 3);
}

#[test]
fn small_segment_limit_splits_into_several_segments() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 40, 5, 3000);
    let out = d.path().join("x");
    let s = build(&[src], &out, IndexBuilder::new().segment_norm_limit(20_000));
    assert!(s.segments > 3, "{} segments", s.segments);
    let idx = Index::open(&out).unwrap();
    idx.verify().unwrap();
    assert_eq!(idx.totals().files, 40);
}

#[test]
fn cancelled_build_publishes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 10, 5, 1000);
    let out = d.path().join("x");
    build(std::slice::from_ref(&src), &out, IndexBuilder::new());
    let before = common::segment_bytes(&out);
    let flag = Arc::new(AtomicBool::new(true));
    let err = IndexBuilder::new()
        .cancel_flag(flag)
        .build()
        .unwrap()
        .index_paths(&[src], &out, Mode::Create, &NoProgress)
        .unwrap_err();
    assert!(matches!(err, IndexError::Interrupted));
    assert_eq!(common::segment_bytes(&out), before);
}

#[test]
fn bad_outputs_and_inputs() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 2, 5, 100);
    let ix = IndexBuilder::new().build().unwrap();
    let e = ix
        .index_paths(
            &[d.path().join("missing")],
            &d.path().join("x"),
            Mode::Create,
            &NoProgress,
        )
        .unwrap_err();
    assert!(matches!(e, IndexError::MissingInput { .. }), "{e}");
    let e = ix
        .index_paths(
            std::slice::from_ref(&src),
            &d.path().join("no/such/x"),
            Mode::Create,
            &NoProgress,
        )
        .unwrap_err();
    assert!(matches!(e, IndexError::MissingOutputDir { .. }), "{e}");
    // A folder with other files is not overwritten.
    let e = ix
        .index_paths(std::slice::from_ref(&src), &src, Mode::Create, &NoProgress)
        .unwrap_err();
    assert!(matches!(e, IndexError::NotAnIndex { .. }), "{e}");
}

#[test]
fn config_is_checked() {
    assert!(IndexBuilder::new().k(3).build().is_err());
    assert!(IndexBuilder::new().window(0).build().is_err());
    assert!(IndexBuilder::new().memory(1).build().is_err());
    assert!(IndexBuilder::new().common_fraction(2.0).build().is_err());
    assert!(IndexBuilder::new().k(8).window(1).build().is_ok());
}

#[test]
fn every_flipped_byte_is_detected_without_panic() {
    let ix = IndexBuilder::new().build().unwrap();
    let bytes = ix
        .segment_from_texts(&[
            (
                "a.txt",
                "The quarterly numbers for the studio look weak; do not forward this.",
            ),
            (
                "b.txt",
                "Please keep the premiere schedule confidential until legal signs off.",
            ),
        ])
        .unwrap();
    Index::from_bytes(bytes.clone()).unwrap().verify().unwrap();
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            let res =
                std::panic::catch_unwind(|| Index::from_bytes(b).and_then(|idx| idx.verify()));
            match res {
                Ok(r) => assert!(
                    r.is_err(),
                    "flip of bit {bit:#x} at byte {i} of {} went unnoticed",
                    bytes.len()
                ),
                Err(_) => panic!("flip at byte {i} panicked"),
            }
        }
    }
    // Every truncation is refused too.
    for len in 0..bytes.len() {
        assert!(
            Index::from_bytes(bytes[..len].to_vec()).is_err(),
            "truncation to {len} accepted"
        );
    }
}

#[test]
fn a_segment_filling_while_the_next_batch_is_read_hands_that_batch_on() {
    // More files than one batch (256), in segments of a few dozen: the
    // first segment fills while the second batch is being read, and that
    // batch, read already, must start the next segment in walk order.
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 700, 11, 400);
    let one = d.path().join("one");
    let b = || IndexBuilder::new().segment_norm_limit(20_000);
    let s = build(std::slice::from_ref(&src), &one, b().threads(1));
    assert!(s.segments > 8, "{} segments", s.segments);
    let two = d.path().join("two");
    build(std::slice::from_ref(&src), &two, b().threads(2));
    assert_eq!(common::segment_bytes(&one), common::segment_bytes(&two));
    let idx = Index::open(&one).unwrap();
    idx.verify().unwrap();
    let listed: Vec<String> = common::info_files(&one)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    let mut walk_order = listed.clone();
    walk_order.sort();
    walk_order.dedup();
    assert_eq!(listed.len(), 700);
    assert_eq!(listed, walk_order, "every file once, in walk order");
}
