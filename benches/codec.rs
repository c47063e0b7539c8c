//! Benchmark: compressing the stored text (`leakprint::index::lz4`).
//!
//! What is measured: `lz4::compress_with` over every 1 KiB block of the
//! bundled corpus's files (`corpus/dump`, about 5.6 MB of real mail and
//! documents, concatenated in path order: raw files, headers and markup
//! included, not the extracted text the index stores), against a
//! dictionary trained as the index trains one, on their first 2 MiB
//! (`text::train_dictionary`),
//! with one hash table kept across blocks, as the builder's compression
//! jobs do. Throughput is in input bytes. The dictionary is trained once,
//! outside the timing.
//!
//! The same blocks compressed by `lz4_flex` (one block at a time, no
//! dictionary: it hashes a dictionary again for every block) are the
//! reference in the same run. The text compressor is about a fifth of a
//! one-thread `leakprint index` run (BENCHMARKS.md "Indexing: the end of
//! the build on every core"); this bench times it alone, so that a change
//! to it can be compared without the rest of the build's noise.
//!
//! How to compare: `cargo bench --bench codec -- --save-baseline before`,
//! change the code, then `cargo bench --bench codec -- --baseline before`.
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakprint::index::builder::walk::{walk, Entry};
use leakprint::index::lz4::{self, Lz4Dict};
use leakprint::index::text;

fn compress(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/dump");
    let mut bytes = Vec::new();
    // (The indexer's walk: its files in path order.)
    for e in walk(&[root]).expect("corpus/dump is readable") {
        if let Entry::File { path, .. } = e {
            bytes.extend(std::fs::read(path).expect("corpus file"));
        }
    }
    let block = text::DEFAULT_BLOCK as usize;
    let blocks: Vec<&[u8]> = bytes.chunks(block).collect();
    let samples: Vec<&[u8]> = blocks
        .iter()
        .copied()
        .take(text::DICT_TRAIN_BYTES / block)
        .collect();
    let dict = Lz4Dict::new(&text::train_dictionary(&samples));
    let mut group = c.benchmark_group("text_codec");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(6));
    for (name, d) in [
        ("lz4_dict_1k_blocks", &dict),
        ("lz4_1k_blocks", &Lz4Dict::empty()),
    ] {
        let mut out = Vec::with_capacity(bytes.len());
        let mut table = Vec::new();
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                for blk in &blocks {
                    lz4::compress_with(black_box(blk), d, &mut out, &mut table);
                }
                black_box(out.len())
            })
        });
    }
    // (Into one buffer kept across blocks, as ours appends to one.)
    let mut buf = vec![0u8; lz4_flex::block::get_maximum_output_size(block)];
    group.bench_function("lz4_flex_1k_blocks", |b| {
        b.iter(|| {
            let mut n = 0;
            for blk in &blocks {
                n += lz4_flex::block::compress_into(black_box(blk), &mut buf)
                    .expect("the buffer holds a block's largest output");
            }
            black_box(n)
        })
    });
    group.finish();
}

criterion_group!(benches, compress);
criterion_main!(benches);
