//! Benchmark: index build of an in-memory corpus (`leakprint::index`).
//!
//! What is measured: `IndexBuilder::new().threads(n).build()?.segment_from_texts(&docs)`
//! on 400 seeded synthetic documents of 4-16 KB (about 4 MB of
//! English-shaped prose, see `support/seeded_text.rs`), at 1 and 2 threads.
//! One iteration is the whole build: normalize, rolling hash and
//! winnowing, content-defined chunks and blake3, sorting the postings,
//! marking common keys, compressing the normalized text and writing the
//! segment bytes (in memory: no file I/O, no extraction, no directory walk;
//! `scripts/bench.py` times the CLI end to end). Throughput is in input
//! text bytes, so the figure compares directly with the MB/s of
//! `leakprint index` and with the per-stage benches.
//!
//! The corpus is generated from a fixed seed: every run and every machine
//! indexes the same bytes. On a shared 2-core machine, read the 2-thread
//! figure only when the second core was idle.
//!
//! How to compare: `cargo bench --bench index -- --save-baseline before`,
//! change the code, then `cargo bench --bench index -- --baseline before`
//! (criterion prints the change and whether it is significant).
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakprint::index::IndexBuilder;

#[path = "support/seeded_text.rs"]
mod seeded_text;

fn build(c: &mut Criterion) {
    let docs = seeded_text::Prose::new(0x1ea4_5eed).documents(400, 4 << 10, 16 << 10);
    let refs: Vec<(&str, &str)> = docs.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let bytes: usize = docs.iter().map(|(_, t)| t.len()).sum();
    let mut group = c.benchmark_group("index_build_4MB");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for threads in [1usize, 2] {
        let indexer = IndexBuilder::new()
            .threads(threads)
            .build()
            .expect("default configuration is valid");
        group.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| {
                let seg = indexer
                    .segment_from_texts(black_box(&refs))
                    .expect("in-memory build");
                black_box(seg.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
