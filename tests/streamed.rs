//! Files larger than the text limit, read in pieces (`index/builder/stream.rs`):
//! the streamed read against the in-memory one (the oracle) on the same
//! small files, by lowering the limit; quotes found with the right part;
//! the same bytes at any thread count; hostile input gives reasons.

mod common;

use std::path::{Path, PathBuf};

use common::{file_info, parts_of, Rng};
use leakprint::extract::ExtractLimits;
use leakprint::index::builder::{Mode, NoProgress};
use leakprint::index::{FileStatus, Index, IndexBuilder};
use leakprint::{MatchConfig, Matcher};

fn build(inputs: &[PathBuf], out: &Path, b: IndexBuilder) -> leakprint::index::BuildSummary {
    b.build()
        .unwrap()
        .index_paths(inputs, out, Mode::Create, &NoProgress)
        .unwrap()
}

/// An mbox (mboxrd) of `messages`, each given with its `From ` line.
fn mbox_of(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        out.extend_from_slice(
            format!("From sender{i}@example.org Mon Jan  1 00:00:00 2001\n").as_bytes(),
        );
        for line in m.split_inclusive(|&b| b == b'\n') {
            let q = line.iter().take_while(|&&b| b == b'>').count();
            if line[q..].starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

/// Every real mail fixture: MIME, charsets, attachments, HTML, quoting.
fn fixture_mails() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/extract/mail");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 5,
        "mail fixtures missing in {}",
        dir.display()
    );
    names.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn prose_mail(rng: &mut Rng, i: usize, len: usize) -> Vec<u8> {
    format!(
        "From: a{i}@example.org\nTo: b@example.org\nSubject: note {i}\nDate: Mon, 1 Jan 2001 00:00:00 +0000\n\n{}\n",
        common::prose(rng, len)
    )
    .into_bytes()
}

/// The oracle: an mbox read message by message gives the very segment the
/// in-memory reader gives (same parts, names, texts, notes, hash, chunks).
#[test]
fn streamed_mbox_gives_the_segment_of_the_in_memory_read() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut mails = fixture_mails();
    let mut rng = Rng(11);
    for i in 0..40 {
        mails.push(prose_mail(&mut rng, i, 300 + i * 40));
    }
    // A body line starting "From " (escaped in the file, restored in the
    // text), a preamble-free start, CRLF lines.
    mails.push(b"Subject: from line\n\nFrom here on the plan is final.\n".to_vec());
    mails.push(b"Subject: crlf\r\n\r\nBody with CRLF lines.\r\n".to_vec());
    let largest = mails.iter().map(Vec::len).max().unwrap() as u64;
    let bytes = mbox_of(&mails);
    std::fs::write(src.join("box.mbox"), &bytes).unwrap();
    let limit = largest + 1024;
    assert!(limit < bytes.len() as u64);
    let a = d.path().join("a");
    let b = d.path().join("b");
    let sa = build(std::slice::from_ref(&src), &a, IndexBuilder::new());
    let sb = build(
        std::slice::from_ref(&src),
        &b,
        IndexBuilder::new().max_file_size(limit).memory(16 << 20),
    );
    assert_eq!(sa.parts, sb.parts);
    assert!(sa.parts as usize >= mails.len());
    let pa = parts_of(&a);
    assert_eq!(pa, parts_of(&b));
    assert_eq!(common::segment_bytes(&a), common::segment_bytes(&b));
    Index::open(&b).unwrap().verify().unwrap();
    // Named as the in-memory reader names them.
    assert!(pa.iter().any(|p| p.1 == "1"));
    assert!(pa.iter().any(|p| p.1 == mails.len().to_string()));
    let from_line = &pa
        .iter()
        .find(|p| p.2.contains("From here on the plan is final."))
        .unwrap();
    assert_eq!(from_line.1, (mails.len() - 1).to_string());
}

#[test]
fn quote_from_message_n_of_a_streamed_mbox_names_message_n() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut rng = Rng(5);
    let mails: Vec<Vec<u8>> = (0..300).map(|i| prose_mail(&mut rng, i, 1500)).collect();
    std::fs::write(src.join("box.mbox"), mbox_of(&mails)).unwrap();
    let out = d.path().join("x");
    let s = build(
        std::slice::from_ref(&src),
        &out,
        IndexBuilder::new().max_file_size(64 << 10).memory(16 << 20),
    );
    assert_eq!(s.indexed, 1);
    let (status, reason, parts) = file_info(&out, "box.mbox");
    assert_eq!(status, FileStatus::Indexed);
    assert_eq!(reason, "");
    assert_eq!(parts, 300);
    let idx = Index::open(&out).unwrap();
    let m = Matcher::new(&idx, MatchConfig::default());
    for n in [1usize, 137, 300] {
        let body = String::from_utf8(mails[n - 1].clone()).unwrap();
        let at = body.find("\n\n").unwrap() + 400;
        let quote = &body[at..at + 120];
        let found = m.try_find(quote).unwrap();
        assert!(!found.is_empty(), "message {n}: {quote:?} not found");
        let want = format!("dump/box.mbox#{n}");
        assert!(
            found[0].source.ends_with(&want),
            "message {n}: best source {} not {want}",
            found[0].source
        );
    }
}

/// Windows of a text file over the limit: they cover the text the
/// in-memory read gives, overlap, and a quote across a boundary is found.
#[test]
fn big_text_is_indexed_in_overlapping_windows() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut rng = Rng(3);
    let text = common::prose(&mut rng, 100_000);
    std::fs::write(src.join("big.txt"), &text).unwrap();
    let limits = ExtractLimits {
        max_part_text: 10_000,
        ..ExtractLimits::default()
    };
    let out = d.path().join("x");
    build(
        std::slice::from_ref(&src),
        &out,
        IndexBuilder::new()
            .max_file_size(50_000)
            .extract_limits(limits)
            .memory(16 << 20),
    );
    let parts = parts_of(&out);
    assert!(parts.len() >= 10, "{} windows", parts.len());
    // Reassemble: each window overlaps the text so far by 2,500 bytes (a
    // quarter of the window), at char boundaries.
    let mut whole = String::new();
    for (i, (_, name, t)) in parts.iter().enumerate() {
        assert_eq!(name, &format!("window {}", i + 1));
        assert!(t.len() <= 10_000);
        if i == 0 {
            whole.push_str(t);
        } else {
            let ov = (0..=t.len().min(whole.len()))
                .rev()
                .find(|&k| whole.ends_with(&t[..k]) && t.is_char_boundary(k))
                .unwrap();
            assert!(ov >= 2_490, "window {} overlaps by {ov}", i + 1);
            whole.push_str(&t[ov..]);
        }
    }
    assert_eq!(whole, text);
    // A quote across the boundary of windows 3 and 4 is in one window.
    let w3 = &parts[2].2;
    let q = &w3[w3.len() - 1000..];
    let at = text.find(q).unwrap();
    let quote = &text[at..at + 1800];
    let idx = Index::open(&out).unwrap();
    let m = Matcher::new(&idx, MatchConfig::default());
    let found = m.try_find(quote).unwrap();
    let w4 = found
        .iter()
        .find(|f| f.source.ends_with("big.txt#window 4"))
        .unwrap_or_else(|| panic!("not in window 4: {found:?}"));
    assert!(w4.score > 0.99, "{}", w4.score);
}

#[test]
fn streamed_files_give_the_same_bytes_at_any_thread_count() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut rng = Rng(9);
    // 2,500 messages: three batches of at most 1,024.
    let mails: Vec<Vec<u8>> = (0..2500).map(|i| prose_mail(&mut rng, i, 200)).collect();
    std::fs::write(src.join("a.mbox"), mbox_of(&mails)).unwrap();
    std::fs::write(src.join("b.txt"), common::prose(&mut rng, 300_000)).unwrap();
    common::text_tree(&src.join("small"), 20, 4, 3000);
    let limits = ExtractLimits {
        max_part_text: 20_000,
        ..ExtractLimits::default()
    };
    let mut segs = Vec::new();
    for threads in [1, 2] {
        let out = d.path().join(format!("t{threads}"));
        let s = build(
            std::slice::from_ref(&src),
            &out,
            IndexBuilder::new()
                .threads(threads)
                .max_file_size(100_000)
                .extract_limits(limits.clone())
                .memory(16 << 20),
        );
        assert_eq!(s.files, 22);
        assert!(s.parts > 2500 + 15 + 20);
        Index::open(&out).unwrap().verify().unwrap();
        segs.push(common::segment_bytes(&out));
    }
    assert_eq!(segs[0], segs[1]);
}

/// Hostile streamed input: a flood of `From ` lines, a message and a line
/// longer than everything allowed, a big archive: reasons, never a crash.
#[test]
fn hostile_streamed_input_gives_reasons() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    // 100,000 more separators: empty messages, each noted; notes are
    // bounded.
    std::fs::write(
        src.join("flood.mbox"),
        format!(
            "From x@y Mon\nSubject: s\n\n{}",
            "From x@y Mon\n\n".repeat(100_000)
        ),
    )
    .unwrap();
    // 10,000 messages with an attachment each, over `max_parts` = 1: a note
    // each; a file keeps 1,000 notes and counts the rest.
    let one = "From x@y Mon\nSubject: s\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: text/plain; name=a.txt\nContent-Disposition: attachment; filename=a.txt\n\nattached\n--b--\n\n";
    std::fs::write(src.join("notes.mbox"), one.repeat(10_000)).unwrap();
    // One message holding a 3 MB line, between two ordinary ones.
    let mut long = b"From a@b Mon\nSubject: one\n\nfirst message body text\n\n".to_vec();
    long.extend_from_slice(b"From a@b Tue\nSubject: two\n\n");
    long.extend(std::iter::repeat_n(b'x', 3 << 20));
    long.extend_from_slice(b"\n\nFrom a@b Wed\nSubject: three\n\nthird message body text\n");
    std::fs::write(src.join("long.mbox"), &long).unwrap();
    // A text file that is one line of 3 MB.
    std::fs::write(src.join("line.txt"), "word ".repeat(600_000)).unwrap();
    // An archive over the limit: read member by member, `max_parts`
    // counting for each member (tests/streamed_archives.rs has the rest).
    let mut rng = Rng(2);
    let entries: Vec<(String, Vec<u8>)> = (0..100)
        .map(|i| {
            (
                format!("e{i}.txt"),
                format!("{i} {}", common::prose(&mut rng, 60_000)).into_bytes(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    std::fs::write(src.join("big.zip"), common::zip_of(&refs)).unwrap();
    let out = d.path().join("x");
    let limit: u64 = 1 << 20;
    assert!(std::fs::metadata(src.join("big.zip")).unwrap().len() > limit);
    let limits = ExtractLimits {
        max_part_text: 1 << 20,
        max_parts: 1,
        ..ExtractLimits::default()
    };
    let s = build(
        std::slice::from_ref(&src),
        &out,
        IndexBuilder::new()
            .max_file_size(limit)
            .extract_limits(limits)
            .memory(16 << 20),
    );
    assert_eq!(s.files, 5);
    Index::open(&out).unwrap().verify().unwrap();

    let (status, _, parts) = file_info(&out, "flood.mbox");
    assert_eq!(parts, 100_001);
    assert!(matches!(status, FileStatus::Indexed | FileStatus::Binary));

    let (status, reason, parts) = file_info(&out, "notes.mbox");
    assert_eq!(status, FileStatus::Indexed);
    assert_eq!(parts, 10_000);
    assert!(
        reason.starts_with("1#attachment:a.txt: part limit reached"),
        "{reason:.200}"
    );
    assert_eq!(reason.matches("part limit reached").count(), 1000);
    assert!(
        reason.ends_with("; 9000 more notes not listed"),
        "{reason:.200}"
    );

    let (status, reason, parts) = file_info(&out, "long.mbox");
    assert_eq!(status, FileStatus::Indexed);
    assert_eq!(parts, 2);
    assert!(reason.starts_with("2: message of"), "{reason}");
    assert!(reason.contains("not read"), "{reason}");
    let texts = parts_of(&out);
    assert!(texts
        .iter()
        .any(|p| p.1 == "3" && p.2.contains("third message body")));

    let (status, _, parts) = file_info(&out, "line.txt");
    assert_eq!(status, FileStatus::Indexed);
    assert!(parts >= 3);

    let (status, reason, parts) = file_info(&out, "big.zip");
    assert_eq!(status, FileStatus::Indexed);
    assert_eq!(parts, 100);
    assert_eq!(reason, "");
    assert!(texts
        .iter()
        .any(|p| p.1 == "e99.txt" && p.2.starts_with("99 ")));
}

/// Appends see a streamed file's hash before its parts: unchanged, it is
/// skipped; changed, it supersedes the old version; copied, a copy.
#[test]
fn appends_know_a_streamed_file_before_reading_its_parts() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut rng = Rng(21);
    let mut mails: Vec<Vec<u8>> = (0..100).map(|i| prose_mail(&mut rng, i, 800)).collect();
    std::fs::write(src.join("box.mbox"), mbox_of(&mails)).unwrap();
    let out = d.path().join("x");
    let b = || IndexBuilder::new().max_file_size(16 << 10).memory(16 << 20);
    build(std::slice::from_ref(&src), &out, b());
    let append = |b: IndexBuilder| {
        b.build()
            .unwrap()
            .index_paths(std::slice::from_ref(&src), &out, Mode::Append, &NoProgress)
            .unwrap()
    };
    let s = append(b());
    assert_eq!((s.unchanged, s.parts, s.segments), (1, 0, 0));
    mails.push(prose_mail(&mut rng, 100, 800));
    std::fs::write(src.join("box.mbox"), mbox_of(&mails)).unwrap();
    std::fs::copy(src.join("box.mbox"), src.join("copy.mbox")).unwrap();
    let s = append(b());
    assert_eq!(s.superseded, 1);
    assert_eq!(s.copies, 1);
    assert_eq!(s.parts, 101);
    // Only the new message's text is new: the others are stored already.
    assert_eq!(s.duplicate_parts, 100);
    let idx = Index::open(&out).unwrap();
    idx.verify().unwrap();
    let m = Matcher::new(&idx, MatchConfig::default());
    let body = String::from_utf8(mails[100].clone()).unwrap();
    let at = body.find("\n\n").unwrap() + 200;
    let found = m.try_find(&body[at..at + 150]).unwrap();
    assert!(
        found
            .iter()
            .any(|f| f.source.ends_with("dump/box.mbox#101")),
        "{found:?}"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A gzip file over the limit holding an mbox or text is read through its
/// decompressor in pieces: the same parts, names and texts as the in-memory
/// read of the same file (the oracle), and a quote names its message.
#[test]
fn streamed_gzip_members_give_the_parts_of_the_in_memory_read() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut mails = fixture_mails();
    let mut rng = Rng(17);
    for i in 0..60 {
        mails.push(prose_mail(&mut rng, i, 900 + i * 20));
    }
    let gz = gzip(&mbox_of(&mails));
    std::fs::write(src.join("box.mbox.gz"), &gz).unwrap();
    let text = common::prose(&mut rng, 200_000);
    std::fs::write(src.join("notes.txt.gz"), gzip(text.as_bytes())).unwrap();
    let limit = 16 << 10;
    assert!(gz.len() as u64 > limit);
    let a = d.path().join("a");
    let b = d.path().join("b");
    build(std::slice::from_ref(&src), &a, IndexBuilder::new());
    let limits = ExtractLimits {
        max_part_text: 40_000,
        ..ExtractLimits::default()
    };
    build(
        std::slice::from_ref(&src),
        &b,
        IndexBuilder::new()
            .max_file_size(limit)
            .memory(16 << 20)
            .extract_limits(limits),
    );
    let with_text = |index: &Path, file: &str| -> Vec<(String, String)> {
        parts_of(index)
            .into_iter()
            .filter(|p| p.0.ends_with(file) && !p.2.is_empty())
            .map(|p| (p.1, p.2))
            .collect()
    };
    let pa = with_text(&a, "box.mbox.gz");
    assert!(pa.len() >= mails.len());
    assert_eq!(pa, with_text(&b, "box.mbox.gz"));
    assert!(pa.iter().any(|p| p.0 == "box.mbox#1"));
    let (status, reason, _) = file_info(&b, "box.mbox.gz");
    assert_eq!((status, reason.as_str()), (FileStatus::Indexed, ""));

    // The text in windows under its inner name, covering the whole text.
    let windows = with_text(&b, "notes.txt.gz");
    assert!(windows.len() > 4, "{}", windows.len());
    for (i, (name, _)) in windows.iter().enumerate() {
        assert_eq!(name, &format!("notes.txt#window {}", i + 1));
    }
    assert_eq!(windows[0].1, text[..windows[0].1.len()]);
    assert!(text.ends_with(&windows.last().unwrap().1));

    let idx = Index::open(&b).unwrap();
    let m = Matcher::new(&idx, MatchConfig::default());
    let n = mails.len() - 3;
    let body = String::from_utf8(mails[n - 1].clone()).unwrap();
    let at = body.find("\n\n").unwrap() + 300;
    let found = m.try_find(&body[at..at + 120]).unwrap();
    let want = format!("dump/box.mbox.gz#box.mbox#{n}");
    assert!(
        found.first().is_some_and(|f| f.source.ends_with(&want)),
        "{want} not the best of {:?}",
        found.iter().map(|f| &f.source).collect::<Vec<_>>()
    );
}

/// A streamed gzip stops at `max_ratio` times its size, with the reason;
/// a corrupt one is kept by its chunks, with the reason.
#[test]
fn streamed_gzip_bombs_and_corrupt_streams_give_reasons() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    // 40 MB of one letter: a ratio near 1000.
    let bomb = gzip("x".repeat(40 << 20).as_bytes());
    std::fs::write(src.join("bomb.txt.gz"), &bomb).unwrap();
    let mut rng = Rng(4);
    let mut bad = gzip(common::prose(&mut rng, 300_000).as_bytes());
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 64] {
        *b ^= 0xA5;
    }
    std::fs::write(src.join("bad.txt.gz"), &bad).unwrap();
    let out = d.path().join("x");
    build(
        std::slice::from_ref(&src),
        &out,
        IndexBuilder::new().max_file_size(16 << 10).memory(16 << 20),
    );
    let (status, reason, parts) = file_info(&out, "bomb.txt.gz");
    assert_eq!(status, FileStatus::Indexed);
    assert!(
        reason.contains("200 times its compressed size"),
        "{reason:?}, {} compressed bytes",
        bomb.len()
    );
    assert!(parts >= 1);
    let (_, reason, _) = file_info(&out, "bad.txt.gz");
    assert!(!reason.is_empty(), "no reason for the corrupt gzip");
}

/// The records of `path` in an index, in order: (continued, chunks, live
/// state, parts).
fn records_of(index: &Path, path: &str) -> Vec<(bool, u64, String, usize)> {
    common::info_files(index)
        .into_iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.ends_with(path)))
        .map(|f| {
            (
                f["continued"].as_bool().unwrap(),
                f["chunks"].as_u64().unwrap(),
                f["state"].as_str().unwrap().to_string(),
                f["parts"].as_array().unwrap().len(),
            )
        })
        .collect()
}

/// The best source of `quote`, if any.
fn best_source(index: &Path, quote: &str) -> Option<String> {
    let idx = Index::open(index).unwrap();
    let m = Matcher::new(&idx, MatchConfig::default());
    m.try_find(quote)
        .unwrap()
        .into_iter()
        .next()
        .map(|x| x.source)
}

/// A streamed mbox whose text outgrows a segment goes on in the next
/// segments as continuation records: every message is indexed and found
/// under its own name, the file counts once, the bytes are the same at 1
/// and 2 threads, an unchanged append adds nothing, a changed file
/// supersedes every record (its content kept alive by a copy), compaction
/// keeps the copy whole, and removal takes every record.
#[test]
fn a_streamed_file_larger_than_a_segment_continues_in_the_next() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut rng = Rng(17);
    let mut mails: Vec<Vec<u8>> = (0..240).map(|i| prose_mail(&mut rng, i, 1500)).collect();
    std::fs::write(src.join("a-note.txt"), common::prose(&mut rng, 3000)).unwrap();
    std::fs::write(src.join("box.mbox"), mbox_of(&mails)).unwrap();
    std::fs::write(src.join("copy.mbox"), mbox_of(&mails)).unwrap();
    let b = |threads: usize| {
        IndexBuilder::new()
            .max_file_size(64 << 10)
            .memory(16 << 20)
            .segment_norm_limit(60_000)
            .threads(threads)
    };
    let out = d.path().join("x");
    let s = build(std::slice::from_ref(&src), &out, b(1));
    assert_eq!((s.files, s.indexed, s.copies), (3, 2, 1));
    assert_eq!(s.parts, 241);
    assert!(s.segments >= 5, "{} segments", s.segments);
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    let other = d.path().join("y");
    build(std::slice::from_ref(&src), &other, b(2));
    assert_eq!(common::segment_bytes(&out), common::segment_bytes(&other));
    let idx = Index::open(&out).unwrap();
    idx.verify().unwrap();
    assert_eq!(idx.totals().files, 3);
    drop(idx);

    // One first record with the chunks, then continuations without.
    let recs = records_of(&out, "dump/box.mbox");
    assert!(recs.len() >= 4, "{recs:?}");
    assert!(!recs[0].0 && recs[0].1 > 0);
    assert!(recs[1..].iter().all(|r| r.0 && r.1 == 0), "{recs:?}");
    assert_eq!(recs.iter().map(|r| r.3).sum::<usize>(), 240);
    // Every message once, in order, under its own name.
    let names: Vec<String> = parts_of(&out)
        .into_iter()
        .filter(|p| p.0.ends_with("box.mbox") && !p.0.ends_with("copy.mbox"))
        .map(|p| p.1)
        .collect();
    let want: Vec<String> = (1..=240).map(|n| n.to_string()).collect();
    assert_eq!(names, want);

    let quote_of = |m: &[u8]| {
        let body = String::from_utf8(m.to_vec()).unwrap();
        let at = body.find("\n\n").unwrap() + 300;
        body[at..at + 120].to_string()
    };
    for n in (1..=240).step_by(17).chain([240]) {
        let got = best_source(&out, &quote_of(&mails[n - 1]));
        assert_eq!(
            got.as_deref()
                .map(|s| s.ends_with(&format!("dump/box.mbox#{n}"))),
            Some(true),
            "message {n}: {got:?}"
        );
    }

    // An unchanged append records nothing new.
    let s = b(1)
        .build()
        .unwrap()
        .index_paths(std::slice::from_ref(&src), &out, Mode::Append, &NoProgress)
        .unwrap();
    assert_eq!((s.unchanged, s.indexed, s.superseded), (3, 0, 0));

    // A changed box.mbox supersedes every record of the old one; the copy
    // keeps the old text alive, found under the copy's name.
    let old_quote = quote_of(&mails[199]);
    mails[199] = prose_mail(&mut Rng(99), 199, 1500);
    let new_quote = quote_of(&mails[199]);
    std::fs::write(src.join("box.mbox"), mbox_of(&mails)).unwrap();
    let s = b(1)
        .build()
        .unwrap()
        .index_paths(std::slice::from_ref(&src), &out, Mode::Append, &NoProgress)
        .unwrap();
    assert_eq!(s.superseded as usize, recs.len());
    Index::open(&out).unwrap().verify().unwrap();
    let states: Vec<String> = records_of(&out, "dump/box.mbox")
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(
        states.iter().filter(|s| *s == "superseded").count(),
        recs.len()
    );
    assert_eq!(
        states.iter().filter(|s| *s == "live").count(),
        states.len() - recs.len()
    );
    let got = best_source(&out, &old_quote).unwrap();
    assert!(got.ends_with("dump/copy.mbox#200"), "{got}");
    let got = best_source(&out, &new_quote).unwrap();
    assert!(got.ends_with("dump/box.mbox#200"), "{got}");

    // Compaction: the copy now owns the old content, all of it.
    b(1).build().unwrap().compact(&out, &NoProgress).unwrap();
    let idx = Index::open(&out).unwrap();
    idx.verify().unwrap();
    assert_eq!(idx.totals().files, 3);
    drop(idx);
    let copy = records_of(&out, "dump/copy.mbox");
    assert!(
        copy.len() >= 4 && !copy[0].0 && copy[1..].iter().all(|r| r.0),
        "{copy:?}"
    );
    assert_eq!(copy.iter().map(|r| r.3).sum::<usize>(), 240);
    for n in [1usize, 120, 200, 240] {
        let q = if n == 200 {
            old_quote.clone()
        } else {
            quote_of(&mails[n - 1])
        };
        let got = best_source(&out, &q).unwrap();
        assert!(got.ends_with(&format!("#{n}")), "message {n}: {got}");
    }

    // Removal takes every record of the path. (The changed box.mbox is one
    // record: all its messages but one are the copy's texts.)
    let path = src.join("copy.mbox").to_str().unwrap().to_string();
    b(1).build().unwrap().remove(&out, &[path]).unwrap();
    let states: Vec<String> = records_of(&out, "dump/copy.mbox")
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert!(
        states.len() >= 4 && states.iter().all(|s| s == "removed"),
        "{states:?}"
    );
    assert_eq!(best_source(&out, &old_quote), None);
    let got = best_source(&out, &quote_of(&mails[9])).unwrap();
    assert!(got.ends_with("dump/box.mbox#10"), "{got}");
    Index::open(&out).unwrap().verify().unwrap();
}
