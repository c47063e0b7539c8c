//! Benchmark: text normalization throughput (source bytes per second).
//!
//! Measures `normalize` (text + offsets, the matcher's path) and
//! `normalize_text_only` (the indexer's path) on
//! * `english`: git release notes (`/usr/share/doc/git/RelNotes/*.txt`, read
//!   at bench time, not bundled), or seeded English-like text when absent;
//! * `mixed`: seeded text mixing ASCII words with accented Latin, Cyrillic,
//!   Greek and CJK (the non-ASCII slow path and its cache).
//!
//! Run and compare against a saved baseline:
//! ```text
//! cargo bench --bench normalize -- --save-baseline a
//! # change something
//! cargo bench --bench normalize -- --baseline a
//! ```
//! Quick run: `cargo bench --bench normalize -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakprint::normalize::{normalize, normalize_text_only};

/// About `target` bytes of English: the git release notes if installed,
/// else seeded English-like text.
fn english_corpus(target: usize) -> String {
    let mut files: Vec<_> = std::fs::read_dir("/usr/share/doc/git/RelNotes")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let mut s = String::new();
    for f in files {
        if s.len() >= target {
            break;
        }
        if let Ok(t) = std::fs::read_to_string(f) {
            s.push_str(&t);
        }
    }
    if s.is_empty() {
        s = generated(target, &WORDS);
    }
    s
}

const WORDS: [&str; 24] = [
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "release", "film", "meeting",
    "we", "should", "not", "think", "budget", "please", "forward", "email", "with", "contract",
    "studio",
];

const MIXED: [&str; 12] = [
    "the",
    "café",
    "naïve",
    "Straße",
    "привет",
    "мир",
    "σοφία",
    "漏洩",
    "文書",
    "ﬁnance",
    "“quoted”",
    "release",
];

/// Seeded (splitmix64) text of `target` bytes from `words`.
fn generated(target: usize, words: &[&str]) -> String {
    let mut state = 0x0062_656e_6368_u64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut s = String::with_capacity(target + 16);
    while s.len() < target {
        s.push_str(words[(next() % words.len() as u64) as usize]);
        s.push(if next() % 12 == 0 { '\n' } else { ' ' });
    }
    s
}

fn bench(c: &mut Criterion) {
    let corpora = [
        ("english", english_corpus(2 << 20)),
        ("mixed", generated(1 << 20, &MIXED)),
    ];
    let mut g = c.benchmark_group("normalize");
    for (name, text) in &corpora {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(format!("with_offsets/{name}"), |b| {
            b.iter(|| black_box(normalize(black_box(text))))
        });
        let mut out = String::with_capacity(text.len());
        g.bench_function(format!("text_only/{name}"), |b| {
            b.iter(|| {
                out.clear();
                normalize_text_only(black_box(text), &mut out);
                black_box(out.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
