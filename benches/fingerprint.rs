//! Benchmark: fingerprinting throughput, in bytes of *source* text per
//! second (so the stages add up to the indexer's per-core text rate).
//!
//! * `normalize_text_only`: the normalization alone;
//! * `kgram_hashes`: the rolling hash over the normalized bytes;
//! * `kgram_hashes+winnow`: hash and robust winnowing;
//! * `normalize+fingerprint`: the whole text path of the indexer
//!   (`normalize_text_only` then `fingerprints`), the >= 400 MB/s goal.
//!
//! k = 16, w = 32 (guarantee threshold t = 47 normalized bytes). Corpus: git
//! release notes (`/usr/share/doc/git/RelNotes/*.txt`, read at bench time,
//! not bundled), or seeded English-like text when absent.
//!
//! Run and compare against a saved baseline:
//! ```text
//! cargo bench --bench fingerprint -- --save-baseline a
//! # change something
//! cargo bench --bench fingerprint -- --baseline a
//! ```
//! Quick run: `cargo bench --bench fingerprint -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakprint::fingerprint::{kgram_hashes, DEFAULT_SEED};
use leakprint::normalize::normalize_text_only;
use leakprint::winnow::{fingerprints, winnow};

const K: usize = 16;
const W: usize = 32;

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
        s = generated(target);
    }
    s
}

/// Seeded (splitmix64) English-like text of `target` bytes.
fn generated(target: usize) -> String {
    const WORDS: [&str; 24] = [
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "release", "film",
        "meeting", "we", "should", "not", "think", "budget", "please", "forward", "email", "with",
        "contract", "studio",
    ];
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
        s.push_str(WORDS[(next() % WORDS.len() as u64) as usize]);
        s.push(if next() % 12 == 0 { '\n' } else { ' ' });
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = english_corpus(2 << 20);
    let mut norm = String::new();
    normalize_text_only(&text, &mut norm);
    let mut g = c.benchmark_group("fingerprint");
    g.throughput(Throughput::Bytes(text.len() as u64));

    let mut out = String::with_capacity(text.len());
    g.bench_function("normalize_text_only", |b| {
        b.iter(|| {
            out.clear();
            normalize_text_only(black_box(&text), &mut out);
            black_box(out.len())
        })
    });

    let mut hashes = Vec::with_capacity(norm.len());
    g.bench_function("kgram_hashes", |b| {
        b.iter(|| {
            kgram_hashes(black_box(norm.as_bytes()), K, DEFAULT_SEED, &mut hashes);
            black_box(hashes.len())
        })
    });

    let mut fps = Vec::new();
    g.bench_function("kgram_hashes+winnow", |b| {
        b.iter(|| {
            kgram_hashes(black_box(norm.as_bytes()), K, DEFAULT_SEED, &mut hashes);
            fps.clear();
            winnow(&hashes, W, &mut fps);
            black_box(fps.len())
        })
    });

    g.bench_function("normalize+fingerprint", |b| {
        b.iter(|| {
            out.clear();
            normalize_text_only(black_box(&text), &mut out);
            fps.clear();
            fingerprints(out.as_bytes(), K, W, DEFAULT_SEED, &mut fps);
            black_box(fps.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
