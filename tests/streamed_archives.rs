//! Archives larger than the text limit, read member by member
//! (`extract/stream_archive.rs`): through the real binary, a quote from deep
//! inside a big text or mbox member of a ZIP (stored and deflated), a tar
//! and a `.tar.gz` is found in the right window or message; the same index
//! bytes at 1 and 2 threads; members under the limit give the parts of the
//! in-memory read (the oracle); bombs and members that cannot be streamed
//! give reasons.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{file_info, parts_of, Rng};
use leakprint::extract::ExtractLimits;
use leakprint::index::builder::{Mode, NoProgress};
use leakprint::index::{FileStatus, IndexBuilder};

const BIN: &str = env!("CARGO_BIN_EXE_leakprint");
/// `--max-file-size` of the runs: every archive and big member is over it.
const LIMIT: &str = "64KiB";
/// `--max-part-text` of the runs: text windows of 256 KiB...
const WINDOW: usize = 256 << 10;
/// ...overlapping by 64 KiB (a quarter of the window).
const OVERLAP: usize = 64 << 10;

fn zip_with(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(false);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// About `len` bytes of made-up words (3 to 9 random letters), so that any
/// run of a few words is in one place only.
fn words(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        for _ in 0..3 + rng.below(7) {
            s.push(char::from(b'a' + rng.below(26) as u8));
        }
        s.push(if rng.below(12) == 0 { '\n' } else { ' ' });
    }
    s
}

/// An mbox of `n` prose messages; their bodies.
fn mbox(rng: &mut Rng, n: usize) -> (Vec<u8>, Vec<String>) {
    let mut out = Vec::new();
    let mut bodies = Vec::new();
    for i in 0..n {
        let body = words(rng, 900);
        out.extend_from_slice(
            format!(
                "From a{i}@example.org Mon Jan  1 00:00:00 2001\nFrom: a{i}@example.org\nSubject: note {i}\n\n{body}\n\n"
            )
            .as_bytes(),
        );
        bodies.push(body);
    }
    (out, bodies)
}

/// What one archive of the dump holds, and the quotes to find in it.
struct Archive {
    file: &'static str,
    /// `(query id, quote, part names that may be the best source)`.
    quotes: Vec<(String, String, Vec<String>)>,
}

/// The archive's members: a small text, a big text, a big mbox, a big
/// member that is neither (a PDF), each big one over [`LIMIT`]; quotes
/// from deep inside the big text and from a late message.
fn members(seed: u64, file: &'static str) -> (Vec<(String, Vec<u8>)>, Archive) {
    let mut rng = Rng(seed);
    let small = words(&mut rng, 2_000);
    let big = words(&mut rng, 1_500_000);
    let (mb, bodies) = mbox(&mut rng, 400);
    let pdf = format!("%PDF-1.4\n{}", "0 0 0 RG\n".repeat(20_000));
    // A quote at 90% of the big text: in the windows that hold it whole.
    let at = big.len() * 9 / 10;
    let quote = big[at..at + 200].to_owned();
    let stride = WINDOW - OVERLAP;
    let windows: Vec<String> = (1..=big.len() / stride + 1)
        .filter(|n| {
            let s = (n - 1) * stride;
            s <= at && at + 200 <= s + WINDOW
        })
        .map(|n| format!("{file}#logs/big.txt#window {n}"))
        .collect();
    assert!(!windows.is_empty());
    let n = 377;
    let mquote = bodies[n - 1][300..500].to_owned();
    let archive = Archive {
        file,
        quotes: vec![
            (format!("{file}-text"), quote, windows),
            (
                format!("{file}-mail"),
                mquote,
                vec![format!("{file}#mail/box.mbox#{n}")],
            ),
            (
                format!("{file}-small"),
                small[500..700].to_owned(),
                vec![format!("{file}#small/readme.txt")],
            ),
        ],
    };
    let members = vec![
        ("small/readme.txt".to_owned(), small.into_bytes()),
        ("logs/big.txt".to_owned(), big.into_bytes()),
        ("mail/box.mbox".to_owned(), mb),
        ("scan.pdf".to_owned(), pdf.into_bytes()),
    ];
    (members, archive)
}

/// A dump of a stored ZIP, a deflated ZIP, a tar and a `.tar.gz`, each
/// over the limit with members over it.
fn dump(dir: &Path) -> Vec<Archive> {
    std::fs::create_dir_all(dir).unwrap();
    let mut out = Vec::new();
    for (seed, file) in [
        (1, "stored.zip"),
        (2, "deflated.zip"),
        (3, "plain.tar"),
        (4, "packed.tar.gz"),
    ] {
        let (m, archive) = members(seed, file);
        let refs: Vec<(&str, &[u8])> = m.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
        let bytes = match seed {
            1 => zip_with(&refs, zip::CompressionMethod::Stored),
            2 => zip_with(&refs, zip::CompressionMethod::Deflated),
            3 => tar_of(&refs),
            _ => gzip(&tar_of(&refs)),
        };
        assert!(bytes.len() > 64 << 10);
        std::fs::write(dir.join(file), bytes).unwrap();
        out.push(archive);
    }
    out
}

fn index(dump: &Path, out: &Path, threads: &str) {
    let st = Command::new(BIN)
        .arg("index")
        .arg(dump)
        .arg("--output")
        .arg(out)
        .args(["--quiet", "--max-file-size", LIMIT, "--max-part-text"])
        .arg(WINDOW.to_string())
        .args(["--memory", "64MiB", "--threads", threads])
        .status()
        .unwrap();
    assert!(st.success());
}

/// The acceptance test: quotes from deep inside big members of each
/// archive are found, best, in the right window or message, through
/// `leakprint index` and `leakprint match`; the manifest says why the big
/// PDF member was not read; 1 and 2 threads write the same index bytes.
#[test]
fn quotes_deep_in_big_archive_members_name_their_window_or_message() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    let archives = dump(&src);
    let one = d.path().join("t1");
    let two = d.path().join("t2");
    index(&src, &one, "1");
    index(&src, &two, "2");
    assert_eq!(
        common::segment_bytes(&one),
        common::segment_bytes(&two),
        "the thread count changed the index"
    );
    assert!(Command::new(BIN)
        .arg("verify")
        .arg(&one)
        .status()
        .unwrap()
        .success());

    let queries = d.path().join("q.jsonl");
    let mut q = String::new();
    for a in &archives {
        for (id, text, _) in &a.quotes {
            q.push_str(&serde_json::json!({ "id": id, "text": text }).to_string());
            q.push('\n');
        }
    }
    std::fs::write(&queries, q).unwrap();
    let lines = common::cli_match_lines(&one, &[queries], &[0]);
    let root = src.display().to_string();
    for a in &archives {
        for (id, _, want) in &a.quotes {
            // The best match of this query (the first line the matcher
            // wrote for it is its best; lines are sorted here, so pick by
            // score).
            let best = lines
                .iter()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .filter(|v| v["query"].as_str() == Some(id.as_str()))
                .max_by(|x, y| {
                    x["score"]
                        .as_f64()
                        .partial_cmp(&y["score"].as_f64())
                        .unwrap()
                })
                .unwrap_or_else(|| panic!("{id}: no match"));
            let source = best["source"].as_str().unwrap();
            assert!(
                want.iter().any(|w| source == format!("{root}/{w}")),
                "{id}: best source {source}, wanted one of {want:?}"
            );
            assert!(best["score"].as_f64().unwrap() > 0.99, "{id}: {best}");
        }
        let files = common::info_files(&one);
        let f = files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(a.file))
            .unwrap();
        assert_eq!(f["status"], "indexed", "{f}");
        let reason = f["reason"].as_str().unwrap();
        assert!(
            reason.contains("scan.pdf: member of 180009 bytes, larger than the text limit of 65536 bytes, and a PDF is read whole: not read"),
            "{}: {reason}",
            a.file
        );
    }
}

fn build(src: &Path, out: &Path, b: IndexBuilder) {
    b.build()
        .unwrap()
        .index_paths(&[src.to_path_buf()], out, Mode::Create, &NoProgress)
        .unwrap();
}

/// The oracle: archives whose members are all under the limit, read member
/// by member (the archive over the limit), give the parts of the in-memory
/// read: names, texts, formats of nested mail, attachments, a nested ZIP,
/// binary members.
#[test]
fn small_members_give_the_parts_of_the_in_memory_read() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mail_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/extract/mail");
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    for p in &names {
        let n = format!("mail/{}", p.file_name().unwrap().to_string_lossy());
        entries.push((n, std::fs::read(p).unwrap()));
    }
    let mut rng = Rng(5);
    for i in 0..30 {
        entries.push((
            format!("notes/{i}.txt"),
            common::prose(&mut rng, 1_000 + i * 500).into_bytes(),
        ));
    }
    let inner = common::zip_of(&[("deep/x.txt", b"a nested archive's text")]);
    entries.push(("inner.zip".to_owned(), inner));
    entries.push(("blob.bin".to_owned(), vec![0u8, 1, 2, 3, 255, 0, 0, 7]));
    entries.push(("dir#with#hash.txt".to_owned(), b"a hash in a name".to_vec()));
    let refs: Vec<(&str, &[u8])> = entries.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let zip = zip_with(&refs, zip::CompressionMethod::Deflated);
    let tgz = gzip(&tar_of(&refs));
    std::fs::write(src.join("a.zip"), &zip).unwrap();
    std::fs::write(src.join("a.tar.gz"), &tgz).unwrap();
    let limit = 16 << 10;
    assert!(zip.len() as u64 > limit && tgz.len() as u64 > limit);
    assert!(entries.iter().all(|(_, b)| (b.len() as u64) < limit));
    let whole = d.path().join("whole");
    let streamed = d.path().join("streamed");
    build(&src, &whole, IndexBuilder::new());
    build(
        &src,
        &streamed,
        IndexBuilder::new().max_file_size(limit).memory(16 << 20),
    );
    let a = parts_of(&whole);
    assert!(a.len() > entries.len() * 2, "{}", a.len());
    assert!(a.iter().any(|p| p.1 == "inner.zip#deep/x.txt"));
    assert!(a.iter().any(|p| p.1 == "blob.bin" && p.2.is_empty()));
    assert_eq!(a, parts_of(&streamed));
    for f in ["a.zip", "a.tar.gz"] {
        assert_eq!(file_info(&whole, f), file_info(&streamed, f));
    }
}

/// Bombs in streamed archives stop at `max_ratio` with the reason; an
/// Office document and an unreadable ZIP over the limit keep their chunks
/// with a reason; a corrupt tar.gz keeps what it read and says why.
#[test]
fn streamed_archive_bombs_and_refusals_give_reasons() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    // A tar.gz of 40 MiB of one letter: a ratio near 1000.
    std::fs::write(
        src.join("bomb.tar.gz"),
        gzip(&tar_of(&[("x.txt", "x".repeat(40 << 20).as_bytes())])),
    )
    .unwrap();
    // A ZIP member of 8 MiB of one letter: refused by its declared size.
    let mut rng = Rng(8);
    let filler = common::prose(&mut rng, 100_000);
    std::fs::write(
        src.join("bomb.zip"),
        zip_with(
            &[
                ("filler.txt", filler.as_bytes()),
                ("z.txt", "z".repeat(8 << 20).as_bytes()),
            ],
            zip::CompressionMethod::Deflated,
        ),
    )
    .unwrap();
    // A .docx over the limit: an Office document, read whole.
    std::fs::write(
        src.join("big.docx"),
        zip_with(
            &[
                ("word/document.xml", filler.as_bytes()),
                ("[Content_Types].xml", b"<Types/>"),
            ],
            zip::CompressionMethod::Stored,
        ),
    )
    .unwrap();
    // A corrupt tar.gz: the middle of its stream flipped.
    let mut bad = gzip(&tar_of(&[(
        "t.txt",
        common::prose(&mut rng, 300_000).as_bytes(),
    )]));
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 64] {
        *b ^= 0xA5;
    }
    std::fs::write(src.join("bad.tar.gz"), &bad).unwrap();
    let out = d.path().join("x");
    let limits = ExtractLimits {
        max_part_text: 1 << 20,
        ..ExtractLimits::default()
    };
    build(
        &src,
        &out,
        IndexBuilder::new()
            .max_file_size(16 << 10)
            .memory(16 << 20)
            .extract_limits(limits),
    );
    let (status, reason, _) = file_info(&out, "bomb.tar.gz");
    assert_eq!(status, FileStatus::Indexed);
    assert!(reason.contains("200 times its size"), "{reason}");
    let read: usize = parts_of(&out)
        .iter()
        .filter(|p| p.0.ends_with("bomb.tar.gz"))
        .map(|p| p.2.len())
        .sum();
    assert!(read > 0 && read < 40 << 20, "{read}");

    let (status, reason, _) = file_info(&out, "bomb.zip");
    assert_eq!(status, FileStatus::Indexed);
    assert!(
        reason.contains(
            "z.txt: declared size 8388608 bytes: expands more than 200 times its compressed size"
        ),
        "{reason}"
    );
    let (status, reason, _) = file_info(&out, "big.docx");
    assert_eq!(status, FileStatus::Binary);
    assert!(
        reason.contains(
            "an Office document (.docx, .xlsx, .pptx, OpenDocument) is read whole: chunks only"
        ),
        "{reason}"
    );
    let (_, reason, _) = file_info(&out, "bad.tar.gz");
    assert!(
        reason.contains("t.txt: member not read") || reason.contains("stream corrupt"),
        "{reason:?}"
    );
}
