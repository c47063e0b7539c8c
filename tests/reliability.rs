//! Reliability under hostile input and faults (issue 6): corrupt and forged
//! indexes, inputs changing while indexed, SIGKILL mid-write, readers during
//! appends, limits, and memory over a long stream of queries.
//!
//! Process-level tests run the real binary (`CARGO_BIN_EXE_leakprint`). The
//! whole file is meant to finish in well under a minute on two cores in the
//! test profile; longer variants are `#[ignore]`d with a note.
//! RELIABILITY.md maps each fault to its test here.

mod common;

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Rng;
use leakprint::extract::ExtractLimits;
use leakprint::index::builder::{Mode, NoProgress};
use leakprint::index::wire::{decode_layout, SectionKind, FOOTER_LEN, TABLE_ENTRY_LEN};
use leakprint::index::{FileStatus, Index, IndexBuilder};
use leakprint::input::{InputError, InputLimits, JsonlReader, QueryId};
use leakprint::matcher::{MatchConfig, Matcher};

// ---------------------------------------------------------------------------
// An allocator that remembers the largest single request, so that tests can
// assert that no forged length leads to an absurd allocation.

struct Tracking;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// wrapper only records sizes in an atomic.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout; same contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Tracking = Tracking;

/// No test in this file needs a single allocation this large.
const ABSURD: usize = 1 << 30;

fn assert_no_absurd_allocation(what: &str) {
    let l = LARGEST.load(Ordering::Relaxed);
    assert!(
        l < ABSURD,
        "{what}: an allocation of {l} bytes was requested"
    );
}

// ---------------------------------------------------------------------------
// Corrupt and forged indexes.

/// Byte range of a section in `b`.
fn section(b: &[u8], kind: SectionKind) -> std::ops::Range<usize> {
    decode_layout(b).unwrap().range(kind).unwrap()
}

fn put(b: &mut [u8], at: usize, v: u64, width: usize) {
    b[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
}

/// Open, verify and call every accessor; `Err` is fine, a panic is not.
/// Returns (opened, verified).
fn probe(b: Vec<u8>, what: &str) -> (bool, bool) {
    let res = std::panic::catch_unwind(move || {
        let Ok(idx) = Index::from_bytes(b) else {
            return (false, false);
        };
        let ok = idx.verify().is_ok();
        harness::exercise(&idx, what.as_bytes());
        (true, ok)
    });
    res.unwrap_or_else(|_| panic!("{what}: panicked"))
}

/// Every 4-byte field of every section, the section table and the footer,
/// overwritten with hostile values (as u32 and as u64) and with every
/// checksum recomputed, so that only structural checks can catch it:
/// open or verify fail, or the accessors return errors; nothing panics or
/// allocates absurdly.
#[test]
fn forged_fields_with_valid_checksums_never_panic() {
    let seed = harness::seed_segment().to_vec();
    let layout = decode_layout(&seed).unwrap();
    let mut regions: Vec<(&str, usize, usize)> = layout
        .sections
        .iter()
        .flatten()
        .map(|e| (e.kind.name(), e.offset as usize, e.len as usize))
        .collect();
    regions.push((
        "section table",
        layout.footer.table_offset as usize,
        layout.footer.count as usize * TABLE_ENTRY_LEN,
    ));
    regions.push(("footer", seed.len() - FOOTER_LEN, FOOTER_LEN));
    let n = seed.len() as u64;
    let values = [
        0u64,
        1,
        7,
        8,
        0xFF,
        0xFFFF,
        u32::MAX as u64 - 1,
        u32::MAX as u64,
        1 << 32,
        1 << 40,
        n,
        n + 8,
        i64::MAX as u64,
        u64::MAX,
    ];
    let (mut tried, mut refused_at_open, mut refused_by_verify) = (0, 0, 0);
    for (name, start, len) in regions {
        // Every 4-byte-aligned field of the whole region (the seed segment
        // is small: three documents).
        for at in (start..start + len).step_by(4) {
            for &v in &values {
                for width in [4usize, 8] {
                    if at + width > seed.len() {
                        continue;
                    }
                    let mut b = seed.clone();
                    put(&mut b, at, v, width);
                    if b == seed {
                        continue;
                    }
                    harness::fix_checksums(&mut b);
                    let what = format!("{name} byte {} = {v:#x} (u{})", at - start, width * 8);
                    let (opened, verified) = probe(b, &what);
                    tried += 1;
                    if !opened {
                        refused_at_open += 1;
                    } else if !verified {
                        refused_by_verify += 1;
                    }
                }
            }
        }
    }
    assert_no_absurd_allocation("forged fields");
    eprintln!(
        "forged {tried} fields: {refused_at_open} refused at open, \
         {refused_by_verify} by verify, the rest were data fields (sizes, hashes, counts \
         of fingerprints) that no structure constrains"
    );
    // Open checks the structure it needs to serve queries (header, footer,
    // section table, record counts); verify checks everything else. Format 2
    // measured 3,080 and 32,866 of 40,923 (88% together); the rest are data
    // fields no structure constrains.
    assert!(refused_at_open > tried / 20, "{refused_at_open} of {tried}");
    assert!(
        (refused_at_open + refused_by_verify) * 4 > tried * 3,
        "{refused_at_open} + {refused_by_verify} of {tried}"
    );
}

/// Named forgeries with recomputed checksums, each refused where it should be.
#[test]
fn forged_structures_give_clear_errors() {
    let seed = harness::seed_segment().to_vec();
    let meta = section(&seed, SectionKind::Meta);
    let parts = section(&seed, SectionKind::Parts);
    let blocks = section(&seed, SectionKind::TextBlocks);
    let text_bytes = u64::from_le_bytes(seed[meta.start + 24..meta.start + 32].try_into().unwrap());

    let forge = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut b = seed.clone();
        edit(&mut b);
        harness::fix_checksums(&mut b);
        b
    };
    let open_err = |b: Vec<u8>| -> String {
        match std::panic::catch_unwind(|| Index::from_bytes(b)) {
            Ok(Err(e)) => e.to_string(),
            Ok(Ok(_)) => "opened".into(),
            Err(_) => "panicked".into(),
        }
    };

    // A huge part count: the parts section cannot hold it.
    let e = open_err(forge(&|b| put(b, meta.start + 4, u32::MAX as u64, 4)));
    assert!(e.contains("parts") && e.contains("records"), "{e}");
    // A huge posting count.
    let e = open_err(forge(&|b| put(b, meta.start + 8, u64::MAX / 2, 8)));
    assert!(e.contains("fingerprint postings"), "{e}");
    // A directory of 2^40 buckets.
    let e = open_err(forge(&|b| put(b, meta.start + 16, 40, 4)));
    assert!(e.contains("too large"), "{e}");
    // A section whose length runs past the table.
    let table = decode_layout(&seed).unwrap().footer.table_offset as usize;
    let e = open_err(forge(&|b| put(b, table + 16, u64::MAX - 7, 8)));
    assert!(e.contains("outside the data area"), "{e}");
    // A table offset pointing into the header.
    let e = open_err(forge(&|b| {
        let n = b.len();
        put(b, n - FOOTER_LEN, 8, 8)
    }));
    assert!(e.contains("section table"), "{e}");

    // A part whose text lies past the arena: opens (O(1)), then every
    // accessor of that part and verify refuse it.
    let b = forge(&|b| put(b, parts.start + 16, text_bytes + 1, 8));
    let idx = Index::from_bytes(b).unwrap();
    let seg = &idx.segments()[0];
    let e = seg.part(0).unwrap_err().to_string();
    assert!(e.contains("outside the text arena"), "{e}");
    assert!(seg.part_text(0).is_err());
    assert!(seg.window(0, 0..10).is_err());
    assert!(idx.verify().is_err());

    // An arena forged to 2^62 bytes with a part claiming all of it: no
    // accessor may try to allocate that much.
    LARGEST.store(0, Ordering::Relaxed);
    let b = forge(&|b| {
        put(b, meta.start + 24, 1 << 62, 8);
        put(b, parts.start + 24, (1 << 62) - 1, 8);
    });
    let (_, verified) = probe(b, "arena of 2^62 bytes");
    assert!(!verified);
    // A block claiming 4 GiB of text with a block size of 4 GiB.
    let b = forge(&|b| {
        put(b, meta.start + 20, u32::MAX as u64, 4);
        put(b, blocks.start + 12, u32::MAX as u64, 4);
    });
    let (_, verified) = probe(b, "block of 4 GiB");
    assert!(!verified);
    assert_no_absurd_allocation("forged arena and block sizes");
    // A part claiming more text than its checkpoints cover (one checkpoint
    // covers at most 259 bytes): every reader of the part refuses it
    // rather than read and allocate what the record claims. (A segment of
    // its own: the seed's texts are shorter than a checkpoint's span.)
    {
        let text: String = (0..120)
            .map(|i| format!("line {i} of the long memo; "))
            .collect();
        let long = IndexBuilder::new()
            .build()
            .unwrap()
            .segment_from_texts(&[("memo.txt", text.as_str())])
            .unwrap();
        let [meta, parts, blocks, checkpoints] = [
            SectionKind::Meta,
            SectionKind::Parts,
            SectionKind::TextBlocks,
            SectionKind::Checkpoints,
        ]
        .map(|k| section(&long, k));
        let get = |at: usize, width: usize| {
            let mut v = [0u8; 8];
            v[..width].copy_from_slice(&long[at..at + width]);
            u64::from_le_bytes(v)
        };
        let forge_long = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut b = long.clone();
            edit(&mut b);
            harness::fix_checksums(&mut b);
            Index::from_bytes(b).unwrap()
        };
        // (Part 0's text: its length, first checkpoint and checkpoints.)
        let (len, first, cks) = (
            get(parts.start + 24, 8),
            get(parts.start + 40, 4),
            get(parts.start + 44, 4),
        );
        assert!(
            len == text.len() as u64 && cks >= 3,
            "{len} bytes, {cks} checkpoints"
        );
        let idx = forge_long(&|b| put(b, parts.start + 44, 1, 4));
        let seg = &idx.segments()[0];
        let e = seg.part_text(0).unwrap_err().to_string();
        assert!(e.contains("bytes of text for 1 checkpoints"), "{e}");
        assert!(seg.window(0, 0..10).is_err());
        assert!(idx.verify().is_err());
        // A checkpoint moved to the part's end: a window between it and the
        // one before would read the whole part; refused.
        let ck1 = checkpoints.start + (first as usize + 1) * 8;
        let idx = forge_long(&|b| put(b, ck1 + 4, len, 4));
        let e = idx.segments()[0].window(0, 0..10).unwrap_err().to_string();
        assert!(e.contains("between checkpoints 1 apart"), "{e}");
        // The first block's record replaced by the last one's (a short
        // block that decodes): reads of it are refused; taken, they would
        // shift every later byte of the text.
        let block_size = get(meta.start + 20, 4);
        let text_bytes = get(meta.start + 24, 8);
        assert!(
            len > block_size && len == text_bytes,
            "{len} bytes of text, blocks of {block_size}"
        );
        let last = blocks.start + ((text_bytes - 1) / block_size) as usize * 16;
        let idx = forge_long(&|b| {
            let rec = b[last..last + 16].to_vec();
            b[blocks.start..blocks.start + 16].copy_from_slice(&rec);
        });
        let e = idx.segments()[0].part_text(0).unwrap_err().to_string();
        assert!(e.contains("where the arena has"), "{e}");
    }

    // Chunk sizes out of the chunker's ranges: refused at open (the matcher
    // hands them to fastcdc, which asserts) and by the builder.
    let e = open_err(forge(&|b| put(b, meta.start + 56, 0, 4)));
    assert!(e.contains("chunk sizes"), "{e}");
    for (min, avg, max) in [
        (0, 16384, 65536),
        (4096, 16384, 1 << 30),
        (8192, 4096, 65536),
    ] {
        let p = leakprint::chunk::ChunkParams {
            min_size: min,
            avg_size: avg,
            max_size: max,
        };
        assert!(
            IndexBuilder::new().chunk_params(p).build().is_err(),
            "{p:?}"
        );
    }
}

/// Truncations and bit flips of a segment on disk, through `leakprint
/// verify` and `info`: a clear error and exit status 2, never a panic.
#[test]
fn cli_refuses_damaged_segments_with_a_message() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 6, 11, 3000);
    let out = d.path().join("x");
    run_ok(&["index", "-q", "-o", p(&out), p(&src)]);
    run_ok(&["verify", p(&out)]);
    let seg = segment_files(&out).pop().unwrap();
    let good = std::fs::read(&seg).unwrap();
    let mut rng = Rng(6);
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for cut in [
        0,
        1,
        63,
        64,
        100,
        good.len() / 2,
        good.len() - 33,
        good.len() - 1,
    ] {
        cases.push((format!("truncated to {cut}"), good[..cut].to_vec()));
    }
    for _ in 0..12 {
        let i = rng.below(good.len() as u64) as usize;
        let mut b = good.clone();
        b[i] ^= 1 << rng.below(8);
        cases.push((format!("bit flipped at {i}"), b));
    }
    for (what, bytes) in cases {
        std::fs::write(&seg, &bytes).unwrap();
        for cmd in ["verify", "info"] {
            let o = leakprint(&[cmd, p(&out)]).output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            if cmd == "info" && o.status.success() {
                // A flip in a data section passes the O(1) open: fine for
                // info, verify catches it.
                continue;
            }
            assert_eq!(o.status.code(), Some(2), "{cmd} on {what}: {err}");
            assert!(err.contains("leakprint: error:"), "{cmd} on {what}: {err}");
            assert!(!err.contains("panicked"), "{cmd} on {what}: {err}");
        }
    }
    std::fs::write(&seg, &good).unwrap();
    run_ok(&["verify", p(&out)]);
}

/// A damaged or hostile manifest: a clear error from `verify`, exit 2.
#[test]
fn cli_refuses_damaged_manifests() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 3, 12, 1000);
    let out = d.path().join("x");
    run_ok(&["index", "-q", "-o", p(&out), p(&src)]);
    let mpath = out.join("manifest.json");
    let good = std::fs::read_to_string(&mpath).unwrap();
    let seg = segment_files(&out)[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    // Each case with what its message must name: exit 2 alone would pass
    // even if the check were gone (opening `/etc/passwd` as a segment fails
    // too, later and for another reason).
    let cases = [
        ("empty", String::new(), "manifest"),
        ("truncated", good[..good.len() / 2].to_owned(), "manifest"),
        ("not json", "\u{0}\u{1}garbage".to_owned(), "manifest"),
        (
            "absolute segment path",
            good.replace(&seg, "/etc/passwd"),
            "not a plain file name",
        ),
        (
            "parent segment path",
            good.replace(&seg, "../x/manifest.json"),
            "not a plain file name",
        ),
        (
            "missing segment",
            good.replace(&seg, "seg-999999.lps"),
            "seg-999999.lps",
        ),
        (
            "no segments",
            {
                let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
                v["segments"] = serde_json::json!([]);
                v.to_string()
            },
            "segment",
        ),
        (
            "other version",
            good.replace("\"version\": 2", "\"version\": 99"),
            "manifest version 99",
        ),
    ];
    for (what, text, names) in cases {
        std::fs::write(&mpath, &text).unwrap();
        let o = leakprint(&["verify", p(&out)]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("leakprint: error:"), "{what}: {err}");
        assert!(
            err.contains(names),
            "{what}: the message does not name {names:?}: {err}"
        );
    }
    std::fs::write(&mpath, &good).unwrap();
    run_ok(&["verify", p(&out)]);
}

// ---------------------------------------------------------------------------
// Helpers for the process tests.

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_leakprint")
}

fn leakprint(args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args).stdin(Stdio::null());
    c
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let o = leakprint(args).output().unwrap();
    assert!(
        o.status.success(),
        "leakprint {args:?} failed ({:?}): {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn segment_files(index: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(index)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "lps"))
        .collect();
    v.sort();
    v
}

/// `info --files --json` as (path, status, bytes, reason).
fn manifest_files(index: &Path) -> Vec<(String, String, u64, String)> {
    run_ok(&["info", "--files", "--json", p(index)])
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["path"].as_str().unwrap().to_owned(),
                v["status"].as_str().unwrap().to_owned(),
                v["bytes"].as_u64().unwrap(),
                v["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Inputs changing while `index` reads them.

/// Really truncate, grow and replace files from another thread while
/// `leakprint index` runs: the process survives (inputs are read, never
/// mapped, so there is no SIGBUS), verify passes and the manifest records
/// what was read. Run once with text extraction of the big file and once
/// with `--max-file-size` below it, so that it is streamed to the chunker.
#[test]
fn files_truncated_grown_and_replaced_during_index() {
    for max in ["256MiB", "1MiB"] {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("dump");
        common::text_tree(&src, 30, 3, 4000);
        let big = src.join("big.txt");
        let mut rng = Rng(9);
        let chunk = common::prose(&mut rng, 1 << 20);
        {
            let mut f = std::fs::File::create(&big).unwrap();
            for _ in 0..24 {
                f.write_all(chunk.as_bytes()).unwrap();
            }
        }
        let victim = src.join("victim.txt");
        std::fs::write(&victim, common::prose(&mut rng, 200_000)).unwrap();
        let out = d.path().join("x");
        let mut child = leakprint(&[
            "index",
            "-q",
            "--threads",
            "2",
            "--max-file-size",
            max,
            "-o",
            p(&out),
            p(&src),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        // Edit the inputs until the process ends; count edits made while it ran.
        let mut edits_while_running = 0;
        let mut step = 0u32;
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            match step % 4 {
                0 => {
                    let f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
                    f.set_len(3 << 20).unwrap();
                }
                1 => {
                    let f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
                    f.set_len(0).unwrap();
                }
                2 => {
                    let mut f = std::fs::OpenOptions::new().append(true).open(&big).unwrap();
                    f.write_all(chunk.as_bytes()).unwrap();
                }
                _ => {
                    let tmp = src.join(".victim.new");
                    std::fs::write(&tmp, format!("replaced {step}")).unwrap();
                    std::fs::rename(&tmp, &victim).unwrap();
                }
            }
            edits_while_running += 1;
            step += 1;
            std::thread::sleep(Duration::from_millis(3));
        }
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "index died ({:?}) with --max-file-size {max}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(edits_while_running > 0, "the run ended before any edit");
        run_ok(&["verify", p(&out)]);
        let files = manifest_files(&out);
        let rec = files
            .iter()
            .find(|f| f.0.ends_with("big.txt"))
            .expect("big.txt in the manifest");
        // What was read is recorded: at most the largest size it ever had.
        assert!(rec.2 <= 25 << 20, "{rec:?}");
        assert!(files.iter().any(|f| f.0.ends_with("victim.txt")));
        eprintln!("--max-file-size {max}: {edits_while_running} edits during the run, big.txt recorded as {rec:?}");
    }
}

/// The deterministic version of the test above: the reader's test hook
/// (`leakprint::fileio::TRUNCATE_VAR`) cuts a file under the reader after a
/// chosen number of bytes, so the truncation lands while the file is read,
/// every time. The run must go on with the bytes it has: the manifest
/// records that size, the text before the cut is found, the text after it
/// is not, and `verify` passes.
#[test]
fn a_file_truncated_while_it_is_read_keeps_what_was_read() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    common::text_tree(&src, 6, 4, 3000);
    let mut rng = Rng(21);
    let head = common::prose(&mut rng, 40_000);
    let tail = common::prose(&mut rng, 40_000);
    let cut = head.len() as u64;
    std::fs::write(src.join("victim.txt"), format!("{head}{tail}")).unwrap();
    let out = d.path().join("x");
    let o = leakprint(&["index", "-q", "--threads", "2", "-o", p(&out), p(&src)])
        .env(leakprint::fileio::TRUNCATE_VAR, format!("victim.txt:{cut}"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "index failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The hook really cut the file under the reader.
    assert_eq!(
        std::fs::metadata(src.join("victim.txt")).unwrap().len(),
        cut
    );
    run_ok(&["verify", p(&out)]);
    let files = manifest_files(&out);
    let rec = files
        .iter()
        .find(|f| f.0.ends_with("victim.txt"))
        .expect("victim.txt in the manifest");
    assert_eq!(rec.2, cut, "{rec:?}");
    assert_eq!(rec.1, "indexed", "{rec:?}");
    // A quote from before the cut is found in victim.txt, one from after
    // it is not found at all.
    let quote = |s: &str, at: usize| {
        let from = s.ceil_char_boundary(at);
        s[from..s.floor_char_boundary(from + 300)].to_owned()
    };
    let before = common::match_stdin(&out, &["--format", "text"], quote(&head, 20_000).as_bytes());
    let hits = common::json_lines(&before);
    assert!(
        hits.iter().any(|m| m["source"]
            .as_str()
            .is_some_and(|s| s.ends_with("victim.txt"))),
        "quote before the cut not found: {hits:?}"
    );
    let after = common::match_stdin(&out, &["--format", "text"], quote(&tail, 20_000).as_bytes());
    assert!(
        common::json_lines(&after).is_empty(),
        "text cut off the file was matched"
    );
}

// ---------------------------------------------------------------------------
// SIGKILL mid-write.

/// The index before a run (a folder to restore and its segment bytes) and
/// the segment bytes an uninterrupted run produces.
struct Outcomes<'a> {
    old_dir: &'a Path,
    old: &'a [Vec<u8>],
    new: &'a [Vec<u8>],
}

/// Kill `leakprint <args>` at `kills` seeded moments in [0, span) and check
/// after each that `out` holds exactly the old or the new index and verifies.
fn kill_at_random_moments(
    args: &[&str],
    out: &Path,
    want: &Outcomes,
    span: Duration,
    kills: usize,
    seed: u64,
) -> (usize, usize) {
    let Outcomes { old_dir, old, new } = *want;
    let mut rng = Rng(seed);
    let (mut saw_old, mut saw_new) = (0, 0);
    for i in 0..kills {
        copy_dir(old_dir, out);
        let at = Duration::from_micros(rng.below(span.as_micros() as u64 + 1));
        let mut child = leakprint(args).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = common::segment_bytes(out);
        if now == old {
            saw_old += 1;
        } else if now == new {
            saw_new += 1;
        } else {
            panic!(
                "kill {i} at {at:?} of {args:?} left neither the old nor the new index ({} segments)",
                now.len()
            );
        }
        run_ok(&["verify", p(out)]);
    }
    (saw_old, saw_new)
}

/// Time of one uninterrupted run.
fn timed(args: &[&str]) -> Duration {
    let t = Instant::now();
    run_ok(args);
    t.elapsed()
}

#[test]
fn sigkill_during_index_leaves_old_or_new() {
    let d = tempfile::tempdir().unwrap();
    let old_src = d.path().join("old");
    let src = d.path().join("dump");
    common::text_tree(&old_src, 5, 21, 2000);
    common::text_tree(&src, 60, 22, 20_000);
    let old_dir = d.path().join("old-index");
    run_ok(&["index", "-q", "-o", p(&old_dir), p(&old_src)]);
    let new_dir = d.path().join("new-index");
    let args = ["index", "-q", "--threads", "2", "-o", p(&new_dir), p(&src)];
    let span = timed(&args);
    let old = common::segment_bytes(&old_dir);
    let new = common::segment_bytes(&new_dir);
    let out = d.path().join("x");
    let args = ["index", "-q", "--threads", "2", "-o", p(&out), p(&src)];
    let (o, n) = kill_at_random_moments(
        &args,
        &out,
        &Outcomes {
            old_dir: &old_dir,
            old: &old,
            new: &new,
        },
        span * 11 / 10,
        20,
        41,
    );
    eprintln!("index killed 20 times over {span:?}: {o} left the old index, {n} the new");
    // A later uninterrupted run cleans up whatever the kills left behind.
    run_ok(&args);
    assert_eq!(common::segment_bytes(&out), new);
    let names: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
    // The segments, the state file and the manifest.
    assert_eq!(names.len(), new.len() + 2, "leftovers in the index folder");
}

#[test]
fn sigkill_during_append_leaves_old_or_new() {
    let d = tempfile::tempdir().unwrap();
    let first = d.path().join("first");
    let more = d.path().join("more");
    common::text_tree(&first, 10, 31, 3000);
    common::text_tree(&more, 60, 32, 20_000);
    let old_dir = d.path().join("old-index");
    run_ok(&["index", "-q", "-o", p(&old_dir), p(&first)]);
    let new_dir = d.path().join("new-index");
    copy_dir(&old_dir, &new_dir);
    let args = [
        "index",
        "-q",
        "--append",
        "--threads",
        "2",
        "-o",
        p(&new_dir),
        p(&more),
    ];
    let span = timed(&args);
    let old = common::segment_bytes(&old_dir);
    let new = common::segment_bytes(&new_dir);
    assert_eq!(new.len(), old.len() + 1);
    let out = d.path().join("x");
    let args = [
        "index",
        "-q",
        "--append",
        "--threads",
        "2",
        "-o",
        p(&out),
        p(&more),
    ];
    let (o, n) = kill_at_random_moments(
        &args,
        &out,
        &Outcomes {
            old_dir: &old_dir,
            old: &old,
            new: &new,
        },
        span * 11 / 10,
        20,
        43,
    );
    eprintln!("index --append killed 20 times over {span:?}: {o} left the old index, {n} the new");
}

// ---------------------------------------------------------------------------
// Readers during appends and compaction.

#[test]
fn reader_keeps_its_view_during_append_and_sees_new_segment_after_reopen() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a");
    let b = d.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let mut rng = Rng(77);
    let text_a = common::prose(&mut rng, 3000);
    let text_b = common::prose(&mut rng, 3000);
    std::fs::write(a.join("a.txt"), &text_a).unwrap();
    std::fs::write(b.join("b.txt"), &text_b).unwrap();
    // Enough other text that segments are mapped (over 1 MiB).
    common::text_tree(&a.join("bulk"), 40, 78, 40_000);
    common::text_tree(&b.join("bulk"), 40, 79, 40_000);
    let out = d.path().join("x");
    let ix = IndexBuilder::new().threads(1).build().unwrap();
    ix.index_paths(&[a], &out, Mode::Create, &NoProgress)
        .unwrap();

    let idx = Index::open(&out).unwrap();
    let m = Matcher::new(&idx, MatchConfig::default());
    let qa = &text_a[1000..1400];
    let qb = &text_b[1000..1400];
    let before_a = m.try_find(qa).unwrap();
    assert!(!before_a.is_empty());
    assert!(m.try_find(qb).unwrap().is_empty());

    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let done = done.clone();
        let out = out.clone();
        std::thread::spawn(move || {
            let ix = IndexBuilder::new().threads(1).build().unwrap();
            ix.index_paths(&[b], &out, Mode::Append, &NoProgress)
                .unwrap();
            // Compaction deletes the old segment files under the reader.
            ix.compact(&out, &NoProgress).unwrap();
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut rounds = 0;
    while !done.load(Ordering::SeqCst) || rounds == 0 {
        assert_eq!(
            m.try_find(qa).unwrap(),
            before_a,
            "view changed during append"
        );
        assert!(m.try_find(qb).unwrap().is_empty());
        rounds += 1;
    }
    writer.join().unwrap();
    // The old view still works after its segment file was removed.
    assert_eq!(m.try_find(qa).unwrap(), before_a);
    idx.verify().unwrap();
    let idx2 = Index::open(&out).unwrap();
    idx2.verify().unwrap();
    let m2 = Matcher::new(&idx2, MatchConfig::default());
    assert!(!m2.try_find(qa).unwrap().is_empty());
    assert!(!m2.try_find(qb).unwrap().is_empty());
    eprintln!("{rounds} query rounds during append + compact");
}

// ---------------------------------------------------------------------------
// Limits: over a limit gives a reason (manifest or error), never a crash.

#[test]
fn jsonl_line_limit_skips_the_line_and_keeps_reading() {
    let limits = InputLimits::new(100, 1 << 20, 1000).unwrap();
    let long = format!("{{\"id\":2,\"text\":\"{}\"}}", "x".repeat(50_000));
    let input =
        format!("{{\"id\":1,\"text\":\"short\"}}\n{long}\n{{\"id\":3,\"text\":\"after\"}}\n");
    let got: Vec<_> = JsonlReader::new(std::io::Cursor::new(input), &limits).collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].as_ref().unwrap().text, "short");
    assert!(
        matches!(
            got[1],
            Err(InputError::LineTooLong {
                line: 2,
                limit: 100
            })
        ),
        "{:?}",
        got[1]
    );
    let e = got[1].as_ref().unwrap_err().to_string();
    assert!(e.contains("longer than the limit"), "{e}");
    assert_eq!(got[2].as_ref().unwrap().text, "after");
}

#[test]
fn ocr_word_and_size_limits_give_errors() {
    let mut tsv = String::from(
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n",
    );
    for i in 0..50 {
        tsv.push_str(&format!(
            "5\t1\t1\t1\t1\t{}\t{}\t0\t10\t10\t96\tword{i}\n",
            i + 1,
            i * 12
        ));
    }
    let few_words = InputLimits::new(1 << 20, 1 << 20, 10).unwrap();
    let e =
        leakprint::input::tsv::read_tsv(tsv.as_bytes(), QueryId::Num(1), &few_words).unwrap_err();
    assert!(matches!(e, InputError::TooManyWords { limit: 10 }), "{e}");
    let small = InputLimits::new(1 << 20, 200, 1000).unwrap();
    let e = leakprint::input::tsv::read_tsv(tsv.as_bytes(), QueryId::Num(1), &small).unwrap_err();
    assert!(matches!(e, InputError::TooLarge { limit: 200 }), "{e}");
    let ok = InputLimits::default();
    let q = leakprint::input::tsv::read_tsv(tsv.as_bytes(), QueryId::Num(1), &ok).unwrap();
    assert_eq!(q.ocr.unwrap().words.len(), 50);
    // hOCR: the same word limit.
    let mut hocr = String::from("<html><body><div class='ocr_page' title='bbox 0 0 1000 1000'>");
    for i in 0..50 {
        hocr.push_str(&format!(
            "<span class='ocrx_word' title='bbox {} 0 {} 10; x_wconf 90'>w{i}</span> ",
            i * 12,
            i * 12 + 10
        ));
    }
    hocr.push_str("</div></body></html>");
    let e = leakprint::input::hocr::read_hocr(hocr.as_bytes(), QueryId::Num(1), &few_words)
        .unwrap_err();
    assert!(matches!(e, InputError::TooManyWords { limit: 10 }), "{e}");
}

#[test]
fn query_size_limit_cuts_the_query() {
    let ix = IndexBuilder::new().build().unwrap();
    let mut rng = Rng(5);
    let doc = common::prose(&mut rng, 4000);
    let idx = Index::from_bytes(ix.segment_from_texts(&[("d.txt", &doc)]).unwrap()).unwrap();
    let cfg = MatchConfig::builder()
        .max_query_bytes(1000)
        .build()
        .unwrap();
    let m = Matcher::new(&idx, cfg);
    // A quote past the first 1000 bytes of the query is not looked at.
    let query = format!("{}{}", "ü".repeat(700), &doc[500..1500]);
    assert!(m.try_find(&query).unwrap().is_empty());
    // Within the limit it is found.
    let query = format!("{}{}", "ü".repeat(10), &doc[500..900]);
    assert!(!m.try_find(&query).unwrap().is_empty());
}

/// [`common::zip_of`] for owned entries.
fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    common::zip_of(&refs)
}

#[test]
fn file_and_archive_limits_are_recorded_in_the_manifest() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut rng = Rng(8);
    // Too large for text extraction, and HTML is read whole (a text file
    // this large would be read in windows).
    std::fs::write(
        src.join("large.html"),
        format!(
            "<!DOCTYPE html><html><body><p>{}</p></body></html>",
            common::prose(&mut rng, 50_000)
        ),
    )
    .unwrap();
    // Too many parts.
    let many: Vec<(String, Vec<u8>)> = (0..30)
        .map(|i| {
            (
                format!("p{i}.txt"),
                common::prose(&mut rng, 200).into_bytes(),
            )
        })
        .collect();
    std::fs::write(src.join("many.zip"), zip_of(&many)).unwrap();
    // Too deep: a zip in a zip in ... 8 levels.
    let mut nested = zip_of(&[("core.txt".into(), b"the innermost text".to_vec())]);
    for lvl in 0..8 {
        nested = zip_of(&[(format!("level{lvl}.zip"), nested)]);
    }
    std::fs::write(src.join("deep.zip"), &nested).unwrap();
    // Expands too much: 20 MB of zeros deflate to about 20 KB.
    std::fs::write(
        src.join("bomb.zip"),
        zip_of(&[("zeros.txt".into(), vec![b'0'; 20 << 20])]),
    )
    .unwrap();
    // Cut text.
    std::fs::write(src.join("long.txt"), common::prose(&mut rng, 30_000)).unwrap();
    let limits = ExtractLimits {
        max_part_text: 20_000,
        max_parts: 10,
        max_depth: 3,
        max_expanded: 8 << 20,
        max_ratio: 200,
        isolation: None,
        pdf_ocr: None,
    };
    let out = d.path().join("x");
    let ix = IndexBuilder::new()
        .max_file_size(40_000)
        .extract_limits(limits)
        .build()
        .unwrap();
    ix.index_paths(&[src], &out, Mode::Create, &NoProgress)
        .unwrap();
    assert_no_absurd_allocation("archive limits");
    run_ok(&["verify", p(&out)]);
    let files = manifest_files(&out);
    let find = |name: &str| {
        files
            .iter()
            .find(|f| f.0.ends_with(name))
            .unwrap_or_else(|| panic!("{name} not in {files:?}"))
            .clone()
    };
    let cases = [
        ("large.html", "text limit"),
        ("many.zip", "max_parts"),
        ("deep.zip", "depth"),
        ("bomb.zip", "limit max_ratio"),
        ("long.txt", "max_part_text"),
    ];
    for (name, want) in cases {
        let f = find(name);
        eprintln!("{name}: {} {:?}", f.1, f.3);
        assert!(!f.3.is_empty(), "{name}: no reason recorded: {f:?}");
        assert!(
            f.3.contains(want),
            "{name}: reason {:?} lacks {want:?}",
            f.3
        );
    }
    // The library sees the same reasons.
    let idx = Index::open(&out).unwrap();
    let seg = &idx.segments()[0];
    let large = (0..seg.file_count())
        .map(|i| seg.file(i).unwrap())
        .find(|f| f.path().ends_with("large.html"))
        .unwrap();
    assert_eq!(large.status, FileStatus::Binary);
}

// ---------------------------------------------------------------------------
// Memory over a long stream of queries.

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A reader generating `n` JSON lines lazily, like a pipe: prose posts,
/// every 7th quoting an indexed document.
struct Posts {
    rng: Rng,
    left: usize,
    docs: Arc<Vec<String>>,
    buf: Vec<u8>,
    at: usize,
}

impl std::io::Read for Posts {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.buf.len() {
            if self.left == 0 {
                return Ok(0);
            }
            self.left -= 1;
            let len = 80 + self.rng.below(300) as usize;
            let mut text = common::prose(&mut self.rng, len);
            if self.left.is_multiple_of(7) {
                let d = &self.docs[self.rng.below(self.docs.len() as u64) as usize];
                let s = self.rng.below((d.len() - 400) as u64) as usize;
                let s = (s..).find(|&i| d.is_char_boundary(i)).unwrap();
                text.push_str(&d[s..s + 200]);
            }
            self.buf = serde_json::to_vec(&serde_json::json!({"id": self.left, "text": text}))?;
            self.buf.push(b'\n');
            self.at = 0;
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn stream_posts(n: usize) -> (u64, u64, usize) {
    let ix = IndexBuilder::new().build().unwrap();
    let mut rng = Rng(99);
    let docs: Vec<String> = (0..40).map(|_| common::prose(&mut rng, 3000)).collect();
    let named: Vec<(String, &str)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("d{i}.txt"), d.as_str()))
        .collect();
    let refs: Vec<(&str, &str)> = named.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    let idx = Index::from_bytes(ix.segment_from_texts(&refs).unwrap()).unwrap();
    let m = Matcher::new(&idx, MatchConfig::default());
    let posts = Posts {
        rng: Rng(100),
        left: n,
        docs: Arc::new(docs),
        buf: Vec::new(),
        at: 0,
    };
    let reader = JsonlReader::new(std::io::BufReader::new(posts), &InputLimits::default());
    let (mut warm, mut hits) = (0u64, 0usize);
    for (i, q) in reader.enumerate() {
        let q = q.unwrap();
        hits += usize::from(!m.try_find(&q.text).unwrap().is_empty());
        if i == n / 10 {
            warm = rss_kib().unwrap_or(0);
        }
    }
    (warm, rss_kib().unwrap_or(0), hits)
}

/// 5k posts through the JSONL reader and the matcher: RSS after the first
/// tenth and at the end differ by less than 8 MiB, so a leak of more than
/// about 2 KB per post fails. (About 10 s in the test profile on two
/// shared cores; the 200k and 1M variants below are `#[ignore]`d.)
#[test]
fn memory_stays_flat_over_a_stream_of_posts() {
    check_flat_memory(5_000, 8 * 1024);
}

/// 200k posts: about 4 minutes in the test profile on two shared cores.
/// Run with `cargo test --test reliability -- --ignored memory`.
#[test]
#[ignore = "long: 200k posts, about 4 minutes in the test profile"]
fn memory_stays_flat_over_200k_posts() {
    check_flat_memory(200_000, 32 * 1024);
}

/// The million posts.
#[test]
#[ignore = "long: a million posts, about 20 minutes in the test profile"]
fn memory_stays_flat_over_a_million_posts() {
    check_flat_memory(1_000_000, 32 * 1024);
}

/// Runs `stream_posts` in a child process (this test binary, filtered to
/// `memory_probe_child`), so that the RSS of the tests running beside it in
/// this process does not count.
fn check_flat_memory(n: usize, max_growth_kib: u64) {
    let o = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "memory_probe_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LEAKPRINT_MEMORY_CHILD", n.to_string())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "child failed: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line = out
        .lines()
        .find_map(|l| l.split_once("memory-probe ").map(|(_, r)| r.trim()))
        .unwrap_or_else(|| panic!("no probe line in {out}"));
    let v: Vec<u64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
    let (warm, end, hits) = (v[0], v[1], v[2] as usize);
    eprintln!(
        "{n} posts: RSS {warm} KiB after {}, {end} KiB at the end, {hits} posts matched",
        n / 10
    );
    assert!(warm > 0, "no /proc/self/status");
    assert!(hits >= n / 7 * 9 / 10, "only {hits} quoting posts matched");
    assert!(
        end < warm + max_growth_kib,
        "RSS grew from {warm} KiB to {end} KiB over {n} posts"
    );
}

/// The child side of `check_flat_memory`; does nothing unless asked.
#[test]
fn memory_probe_child() {
    let Ok(n) = std::env::var("LEAKPRINT_MEMORY_CHILD") else {
        return;
    };
    let (warm, end, hits) = stream_posts(n.parse().unwrap());
    println!("memory-probe {warm} {end} {hits}");
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `leakprint match` reading 20,000 posts from a pipe, two worker threads:
/// the process's RSS after the first tenth and at the end of the stream
/// differ by less than 16 MiB, and its peak stays under 100 MiB (code, the
/// small mapped index and the bounded pipeline included).
#[test]
fn match_over_a_pipe_keeps_memory_flat() {
    let d = tempfile::tempdir().unwrap();
    let files = common::text_tree(&d.path().join("dump"), 40, 5, 3000);
    let docs: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let idx = d.path().join("idx");
    let st = Command::new(env!("CARGO_BIN_EXE_leakprint"))
        .args(["index", "--quiet", "-o"])
        .arg(&idx)
        .arg(d.path().join("dump"))
        .status()
        .unwrap();
    assert!(st.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakprint"))
        .args(["match", "--format", "jsonl", "--threads", "2", "--index"])
        .arg(&idx)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let n = 20_000usize;
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut posts = Posts {
            rng: Rng(3),
            left: n,
            docs: Arc::new(docs),
            buf: Vec::new(),
            at: 0,
        };
        let mut buf = vec![0u8; 64 << 10];
        let (mut written, mut warm) = (0usize, 0u64);
        loop {
            let k = std::io::Read::read(&mut posts, &mut buf).unwrap();
            if k == 0 {
                break;
            }
            stdin.write_all(&buf[..k]).unwrap();
            written += buf[..k].iter().filter(|&&b| b == b'\n').count();
            if warm == 0 && written >= n / 10 {
                warm = proc_status_kib(pid, "VmRSS:").unwrap_or(0);
            }
        }
        // Everything is in the pipe; the bounded pipeline holds the rest.
        std::thread::sleep(Duration::from_millis(300));
        let end = proc_status_kib(pid, "VmRSS:").unwrap_or(0);
        let peak = proc_status_kib(pid, "VmHWM:").unwrap_or(0);
        drop(stdin);
        (warm, end, peak)
    });
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    let (warm, end, peak) = writer.join().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let matches = out.lines().count();
    assert!(matches >= n / 10, "only {matches} matches");
    assert!(warm > 0 && end > 0 && peak > 0, "no /proc numbers");
    eprintln!("leakprint match over a pipe: RSS {warm} KiB after a tenth, {end} KiB at the end, peak {peak} KiB; {matches} matches");
    assert!(
        end < warm + 16 * 1024,
        "RSS grew from {warm} KiB to {end} KiB"
    );
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
}

/// The limits are options of the command line too: `--max-parts`,
/// `--max-depth` and `--max-part-text` on `index`; `--max-line`,
/// `--max-query` and `--max-ocr-words` on `match`. Each, set low, shows in
/// the manifest or on stderr, and a bad value is refused.
#[test]
fn cli_limit_options_reach_the_limits() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut rng = Rng(8);
    let texts: Vec<String> = (0..4).map(|_| common::prose(&mut rng, 600)).collect();
    let entries: Vec<(String, Vec<u8>)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("e{i}.txt"), t.clone().into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    std::fs::write(src.join("pack.zip"), common::zip_of(&refs)).unwrap();
    std::fs::write(src.join("long.txt"), common::prose(&mut rng, 5000)).unwrap();
    let idx = d.path().join("idx");
    let bin = || Command::new(env!("CARGO_BIN_EXE_leakprint"));
    let out = bin()
        .args([
            "index",
            "--quiet",
            "--max-parts",
            "2",
            "--max-part-text",
            "1000",
            "-o",
        ])
        .arg(&idx)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = bin()
        .args(["info", "--files", "--json"])
        .arg(&idx)
        .output()
        .unwrap();
    let manifest = String::from_utf8_lossy(&info.stdout);
    assert!(manifest.contains("max_parts = 2"), "{manifest}");
    assert!(manifest.contains("max_part_text = 1000"), "{manifest}");
    let bad = bin()
        .args(["index", "--quiet", "--max-parts", "0", "-o"])
        .arg(d.path().join("idx2"))
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--max-parts"));

    let run = |args: &[&str], stdin: &str| {
        let mut c = bin()
            .arg("match")
            .arg("--index")
            .arg(&idx)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        c.wait_with_output().unwrap()
    };
    let quote = &texts[0][100..400];
    let long_line = format!("{}\n{quote}\n", "x".repeat(5000));
    let o = run(&["--format", "lines", "--max-line", "1000"], &long_line);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 1") && err.contains("1000"), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        1,
        "{err}"
    );
    let o = run(
        &["--format", "text", "--max-query", "100"],
        &format!("{}{quote}", "y ".repeat(100)),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("100"));
    let tsv_head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n";
    let words: String = (0..50)
        .map(|i| format!("5\t1\t1\t1\t1\t{i}\t{}\t10\t20\t10\t95\tword{i}\n", i * 30))
        .collect();
    let o = run(
        &["--format", "tsv", "--max-ocr-words", "10"],
        &format!("{tsv_head}{words}"),
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("10"));
}
