//! Golden test of content-defined chunking: the cut points and blake3 hashes
//! of the committed fixture `tests/data/chunk_fixture.bin` are pinned in
//! `tests/data/chunk_fixture.golden` (one line per chunk: `offset len
//! blake3-hex`), with the default parameters (min 4 KiB, avg 16 KiB, max
//! 64 KiB). If this test fails, the chunk table of the index format changed.
//!
//! The fixture is the output of [`fixture_bytes`] below, committed as bytes;
//! a test checks that they still agree. To regenerate both files (only when
//! changing the format on purpose): `LEAKPRINT_BLESS=1 cargo test --test
//! chunk_golden -- --test-threads=1` (one thread: the other tests read the
//! files being written).

use std::fmt::Write as _;
use std::path::PathBuf;

use leakprint::chunk::{chunk_bytes, chunk_reader, ChunkParams};

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// splitmix64 (Steele, Lea, Flood 2014), self-contained so the fixture does
/// not depend on crate code.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The fixture, 310 KiB + 13 bytes:
/// 1. 80 KiB of splitmix64 bytes (seed `0x0063_6875_6e6b`, the top byte of each
///    output);
/// 2. 80 KiB of English-like text: words drawn from `WORDS` by splitmix64
///    (seed 7), sentences of 6-17 words, a line break every 60-odd columns,
///    a blank line every 8 sentences;
/// 3. block 1 again with the 13 bytes `"LEAKED-INSERT"` inserted at 40 KiB
///    (chunks away from the edit must repeat those of block 1);
/// 4. 70 KiB of zero bytes (no cut point: a chunk of exactly max size).
fn fixture_bytes() -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "that",
        "for",
        "it",
        "as",
        "was",
        "with",
        "be",
        "by",
        "on",
        "not",
        "he",
        "this",
        "are",
        "or",
        "his",
        "from",
        "at",
        "which",
        "but",
        "have",
        "an",
        "had",
        "they",
        "you",
        "were",
        "their",
        "one",
        "all",
        "we",
        "can",
        "her",
        "has",
        "there",
        "been",
        "if",
        "more",
        "when",
        "will",
        "would",
        "who",
        "so",
        "no",
        "film",
        "release",
        "budget",
        "meeting",
        "contract",
        "studio",
        "email",
        "draft",
        "press",
        "Monday",
        "confidential",
        "please",
        "forward",
        "schedule",
        "numbers",
        "review",
    ];
    let mut rng = SplitMix64(0x0063_6875_6e6b);
    let random: Vec<u8> = (0..80 * 1024).map(|_| (rng.next() >> 56) as u8).collect();

    let mut rng = SplitMix64(7);
    let mut text = String::new();
    let (mut column, mut sentence) = (0usize, 0usize);
    while text.len() < 80 * 1024 {
        let words = 6 + (rng.next() % 12) as usize;
        for i in 0..words {
            let w = WORDS[(rng.next() % WORDS.len() as u64) as usize];
            let word = if i == 0 {
                let mut c = w.chars();
                c.next()
                    .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
            } else {
                w.to_string()
            };
            text.push_str(&word);
            column += word.len() + 1;
            text.push(if i + 1 == words { '.' } else { ' ' });
            if i + 1 == words {
                text.push(' ');
            }
            if column > 60 {
                text.push('\n');
                column = 0;
            }
        }
        sentence += 1;
        if sentence % 8 == 0 {
            text.push_str("\n\n");
            column = 0;
        }
    }
    text.truncate(80 * 1024);

    let mut out = random.clone();
    out.extend_from_slice(text.as_bytes());
    let mut edited = random;
    edited.splice(40 * 1024..40 * 1024, *b"LEAKED-INSERT");
    out.extend_from_slice(&edited);
    out.extend(std::iter::repeat_n(0u8, 70 * 1024));
    out
}

fn golden_lines(data: &[u8]) -> String {
    let mut s = String::new();
    for c in chunk_bytes(data, &ChunkParams::default()) {
        let hex: String = c.hash.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(s, "{} {} {}", c.offset, c.len, hex);
    }
    s
}

fn bless() -> bool {
    std::env::var_os("LEAKPRINT_BLESS").is_some()
}

#[test]
fn fixture_is_the_documented_generator_output() {
    let generated = fixture_bytes();
    if bless() {
        std::fs::write(data_path("chunk_fixture.bin"), &generated).unwrap();
    }
    let committed = std::fs::read(data_path("chunk_fixture.bin")).unwrap();
    assert_eq!(committed.len(), generated.len());
    assert!(committed == generated, "fixture differs from its generator");
}

#[test]
fn golden_cut_points_and_hashes() {
    let data = std::fs::read(data_path("chunk_fixture.bin")).unwrap();
    let lines = golden_lines(&data);
    if bless() {
        std::fs::write(data_path("chunk_fixture.golden"), &lines).unwrap();
    }
    let golden = std::fs::read_to_string(data_path("chunk_fixture.golden")).unwrap();
    assert_eq!(lines, golden);
}

#[test]
fn golden_through_one_byte_reads() {
    struct OneByte<'a>(&'a [u8]);
    impl std::io::Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((&b, rest)), Some(slot)) => {
                    *slot = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }
    let data = std::fs::read(data_path("chunk_fixture.bin")).unwrap();
    let mut streamed = Vec::new();
    let (hash, len) = chunk_reader(OneByte(&data), &ChunkParams::default(), |c| {
        streamed.push(c)
    })
    .unwrap();
    assert_eq!(len, data.len() as u64);
    assert_eq!(hash, blake3::hash(&data));
    assert_eq!(streamed, chunk_bytes(&data, &ChunkParams::default()));
}

#[test]
fn edited_copy_shares_chunks_with_the_original() {
    let data = std::fs::read(data_path("chunk_fixture.bin")).unwrap();
    let chunks = chunk_bytes(&data, &ChunkParams::default());
    let block = 80 * 1024u64;
    let first: Vec<_> = chunks
        .iter()
        .filter(|c| c.offset + u64::from(c.len) <= block)
        .map(|c| c.hash)
        .collect();
    let copy: Vec<_> = chunks
        .iter()
        .filter(|c| c.offset >= 2 * block && c.offset + u64::from(c.len) <= 3 * block + 13)
        .map(|c| c.hash)
        .collect();
    assert!(
        first.iter().any(|h| copy.contains(h)),
        "no chunk of block 1 recurs in its edited copy"
    );
    // the zero tail holds a chunk of exactly max size
    assert!(chunks.iter().any(|c| c.len == 65536));
}
