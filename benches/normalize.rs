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

#[path = "support/english.rs"]
mod english;
use english::{english_corpus, generated};

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
