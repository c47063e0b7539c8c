//! Shared helpers for the integration tests: seeded text and file trees.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// A small deterministic PRNG (splitmix64), so tests need no extra crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "the",
    "budget",
    "meeting",
    "studio",
    "release",
    "contract",
    "salary",
    "review",
    "please",
    "confidential",
    "schedule",
    "tomorrow",
    "director",
    "premiere",
    "script",
    "draft",
    "numbers",
    "quarter",
    "forecast",
    "legal",
    "agreement",
    "talent",
    "agent",
    "marketing",
    "campaign",
    "theater",
    "distribution",
    "rights",
    "streaming",
    "deal",
    "we",
    "should",
    "not",
    "share",
    "this",
    "with",
    "anyone",
    "outside",
    "team",
    "until",
    "signed",
    "and",
    "approved",
    "by",
    "finance",
    "I",
    "think",
    "our",
    "partners",
    "will",
    "be",
    "upset",
    "about",
    "numbers",
    "in",
    "Q3",
    "2014",
];

/// `n` documents of [`prose`] of about `len` bytes each, named
/// `{prefix}{i}.txt`, drawn from `rng` one after the other.
pub fn prose_docs(rng: &mut Rng, prefix: &str, n: usize, len: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("{prefix}{i}.txt"), prose(rng, len)))
        .collect()
}

/// Seeded English-like prose of about `len` bytes.
pub fn prose(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    let mut sentence = 0;
    while s.len() < len {
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        if sentence == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push_str(w);
        }
        sentence += 1;
        if sentence > 6 && rng.below(6) == 0 {
            s.push_str(". ");
            sentence = 0;
            if rng.below(5) == 0 {
                s.push('\n');
            }
        } else {
            s.push(' ');
        }
        // A random number now and then makes documents distinct.
        if rng.below(9) == 0 {
            s.push_str(&format!("{} ", rng.below(100_000)));
        }
    }
    s
}

/// Write a tree of `n` text files under `root`, returning their paths.
pub fn text_tree(root: &Path, n: usize, seed: u64, size: usize) -> Vec<PathBuf> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for i in 0..n {
        let dir = root.join(format!("box{}", i % 4));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(format!("mail{i:04}.txt"));
        let len = size / 2 + rng.below(size as u64) as usize;
        std::fs::write(&p, prose(&mut rng, len)).unwrap();
        out.push(p);
    }
    out
}

/// `(file path, part name, text)` of every part of an index.
pub fn parts_of(index: &Path) -> Vec<(String, String, String)> {
    let idx = leakprint::index::Index::open(index).unwrap();
    let mut out = Vec::new();
    for seg in idx.segments() {
        for f in 0..seg.file_count() {
            let info = seg.file(f).unwrap();
            for p in info.parts.clone() {
                let part = seg.part(p).unwrap();
                out.push((
                    info.path(),
                    part.name.to_string(),
                    seg.part_text(p).unwrap(),
                ));
            }
        }
    }
    out
}

/// `(status, reason, parts)` of the file of an index whose path ends with
/// `suffix`.
///
/// # Panics
/// When no file of the index has that suffix.
pub fn file_info(index: &Path, suffix: &str) -> (leakprint::index::FileStatus, String, u32) {
    let idx = leakprint::index::Index::open(index).unwrap();
    for seg in idx.segments() {
        for f in 0..seg.file_count() {
            let info = seg.file(f).unwrap();
            if info.path().ends_with(suffix) {
                return (
                    info.status,
                    info.reason.to_string(),
                    info.parts.len() as u32,
                );
            }
        }
    }
    panic!("{suffix} not in the index");
}

/// The bytes of every segment of an index folder, in manifest order.
pub fn segment_bytes(index: &Path) -> Vec<Vec<u8>> {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(index.join("manifest.json")).unwrap()).unwrap();
    m["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| std::fs::read(index.join(s["file"].as_str().unwrap())).unwrap())
        .collect()
}

/// A ZIP archive holding `entries` (name, bytes), deflated.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The bytes of a committed extraction fixture, `tests/data/extract/<path>`.
pub fn extract_fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/data/extract/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Every skip and note of an extraction, one `name: reason` per line.
pub fn reasons(x: &leakprint::extract::Extracted) -> String {
    x.skipped
        .iter()
        .map(|s| format!("{}: {}\n", s.name, s.reason))
        .collect()
}

/// Runs `leakprint match --index INDEX ARGS... -` with `input` on its
/// standard input; the finished process's output.
pub fn match_stdin(index: &Path, args: &[&str], input: &[u8]) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakprint"))
        .args(["match", "--index"])
        .arg(index)
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start leakprint match");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write the query");
    child.wait_with_output().expect("wait for leakprint match")
}

/// The JSON lines of a command's standard output.
pub fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// An in-memory index of `(path, text)` documents, default settings.
pub fn index_of(docs: &[(String, String)]) -> leakprint::index::Index {
    let refs: Vec<(&str, &str)> = docs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let bytes = leakprint::index::IndexBuilder::new()
        .build()
        .unwrap()
        .segment_from_texts(&refs)
        .unwrap();
    leakprint::index::Index::from_bytes(bytes).unwrap()
}

/// `leakprint info --files --json INDEX` through the real binary: the
/// manifest, one JSON value a file.
pub fn info_files(index: &std::path::Path) -> Vec<serde_json::Value> {
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_leakprint"))
        .args(["info", "--files", "--json"])
        .arg(index)
        .output()
        .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `leakprint match --format jsonl --index INDEX QUERIES...` through the real
/// binary: every match line, sorted. Fails unless the exit code is one of
/// `codes` (0: a match, 1: none).
pub fn cli_match_lines(
    index: &std::path::Path,
    queries: &[std::path::PathBuf],
    codes: &[i32],
) -> std::collections::BTreeSet<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakprint"))
        .args(["match", "--format", "jsonl", "--index"])
        .arg(index)
        .args(queries)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}
