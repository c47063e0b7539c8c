//! Benchmark: fingerprinting throughput, in bytes of *source* text per
//! second (so the stages add up to the indexer's per-core text rate).
//!
//! * `normalize_text_only`: the normalization alone;
//! * `kgram_hashes`: the rolling hash over the normalized bytes;
//! * `kgram_hashes+winnow`: hash and robust winnowing;
//! * `normalize+fingerprint`: the whole text path of the indexer
//!   (`normalize_text_only` then `fingerprints`), the >= 400 MB/s goal.
//!
//! Group `query` (the matcher's per-post work, in k-grams per second, over
//! post-sized stretches of 170 bytes):
//! * `window_minima`: which k-grams of a post are looked up, with
//!   `window_minima_naive` (every window from scratch) as the reference;
//! * `context`: the context byte of every k-gram (format 3's postings;
//!   the matcher computes it for each hit).
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
use leakprint::fingerprint::{context, kgram_hashes, DEFAULT_SEED};
use leakprint::normalize::normalize_text_only;
use leakprint::winnow::{fingerprints, window_minima, window_minima_naive, winnow};

const K: usize = 16;
const W: usize = 32;

#[path = "support/english.rs"]
mod english;
use english::english_corpus;

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

    // Post-sized stretches of the normalized text.
    const POST: usize = 170;
    let posts: Vec<&[u8]> = norm.as_bytes().chunks_exact(POST).take(2000).collect();
    let post_hashes: Vec<Vec<u64>> = posts
        .iter()
        .map(|p| {
            let mut h = Vec::new();
            kgram_hashes(p, K, DEFAULT_SEED, &mut h);
            h
        })
        .collect();
    let kgrams: usize = post_hashes.iter().map(Vec::len).sum();
    let mut q = c.benchmark_group("query");
    q.throughput(Throughput::Elements(kgrams as u64));
    let (mut scratch, mut marked) = (Vec::new(), Vec::new());
    q.bench_function("window_minima", |b| {
        b.iter(|| {
            let mut n = 0;
            for h in &post_hashes {
                window_minima(black_box(h), W, &mut scratch, &mut marked);
                n += marked.len();
            }
            black_box(n)
        })
    });
    q.bench_function("window_minima_naive", |b| {
        b.iter(|| {
            let mut n = 0;
            for h in &post_hashes {
                n += window_minima_naive(black_box(h), W).len();
            }
            black_box(n)
        })
    });
    q.bench_function("context", |b| {
        b.iter(|| {
            let mut x = 0u16;
            for p in &posts {
                for i in 0..=p.len() - K {
                    x ^= context(black_box(p), i, K);
                }
            }
            black_box(x)
        })
    });
    q.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
