//! Benchmark: content-defined chunking + blake3 throughput (bytes/s).
//!
//! * `chunk_bytes`: FastCDC 2020 cut points and blake3 of every chunk over
//!   a buffer in memory (default params: min 4 KiB, avg 16 KiB, max 64 KiB);
//! * `chunk_reader`: the same through `Read` with a bounded buffer, plus the
//!   blake3 of the whole stream (each byte hashed twice);
//! * `blake3`: blake3 of the whole buffer alone, the reference.
//!
//! Data: 16 MiB of seeded (splitmix64) bytes, half random, half English-like
//! text, so both chunk statistics occur.
//!
//! Run and compare against a saved baseline:
//! ```text
//! cargo bench --bench chunk -- --save-baseline a
//! # change something
//! cargo bench --bench chunk -- --baseline a
//! ```
//! Quick run: `cargo bench --bench chunk -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakprint::chunk::{chunk_bytes, chunk_reader, ChunkParams};

#[path = "support/english.rs"]
mod english;

/// `len` seeded bytes: random first half, English-like text second half.
fn data(len: usize) -> Vec<u8> {
    const WORDS: [&str; 12] = [
        "the", "of", "and", "release", "film", "meeting", "we", "should", "budget", "please",
        "email", "studio",
    ];
    let mut rng = english::SplitMix(0x0063_6875_6e6b);
    let mut next = || rng.next_u64();
    let mut v: Vec<u8> = (0..len / 2).map(|_| (next() >> 56) as u8).collect();
    while v.len() < len {
        v.extend_from_slice(WORDS[(next() % WORDS.len() as u64) as usize].as_bytes());
        v.push(b' ');
    }
    v.truncate(len);
    v
}

fn bench(c: &mut Criterion) {
    let bytes = data(16 << 20);
    let params = ChunkParams::default();
    let mut g = c.benchmark_group("chunk");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.sample_size(20);
    g.bench_function("chunk_bytes", |b| {
        b.iter(|| black_box(chunk_bytes(black_box(&bytes), &params)))
    });
    g.bench_function("chunk_reader", |b| {
        b.iter(|| {
            let mut n = 0u32;
            let r = chunk_reader(black_box(&bytes[..]), &params, |_| n += 1);
            black_box((r.ok(), n))
        })
    });
    g.bench_function("blake3", |b| {
        b.iter(|| black_box(blake3::hash(black_box(&bytes))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
