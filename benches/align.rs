//! Benchmark: banded local alignment (`leakprint::matcher::align`).
//!
//! What: a 300-byte normalized query, a mutated copy (about 5% substitutions,
//! insertions and deletions) of bytes inside a 400-byte source window, aligned
//! in a band of 64 diagonals around the true offset; the shape of one
//! verification in `find`. Also the full-matrix oracle on the same input, as
//! the floor any optimisation must beat, and an unrelated query (no match).
//! A second group has the shape `find` produces by default: a 250-byte post,
//! an odd band width of 51.
//! Inputs come from a fixed-seed generator, so runs are comparable.
//!
//! How to compare: `cargo bench --bench align -- --save-baseline before`,
//! change the code, then `cargo bench --bench align -- --baseline before`.
//! Throughput is reported in query bytes.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakprint::matcher::align::{best_local_naive, Aligner, Scoring};

/// xorshift64*: a fixed, dependency-free generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn letter(&mut self) -> u8 {
        b'a' + (self.next() % 26) as u8
    }
}

fn inputs() -> (Vec<u8>, Vec<u8>, Vec<u8>, isize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let source: Vec<u8> = (0..400).map(|_| rng.letter()).collect();
    let offset = 50usize;
    let mut query = Vec::with_capacity(320);
    for &b in &source[offset..offset + 300] {
        match rng.next() % 60 {
            0 => query.push(rng.letter()),
            1 => {
                query.push(b);
                query.push(rng.letter());
            }
            2 => {}
            _ => query.push(b),
        }
    }
    let unrelated: Vec<u8> = (0..300).map(|_| rng.letter()).collect();
    (query, source, unrelated, offset as isize)
}

fn align(c: &mut Criterion) {
    let (query, source, unrelated, offset) = inputs();
    let (lo, hi) = (offset - 32, offset + 31);
    let scoring = Scoring::default();
    let mut group = c.benchmark_group("align_300x400_band64");
    group.throughput(Throughput::Bytes(query.len() as u64));
    let mut aligner = Aligner::new(scoring);
    group.bench_function("banded", |b| {
        b.iter(|| aligner.best_local(black_box(&query), black_box(&source), lo, hi))
    });
    group.bench_function("banded_unrelated", |b| {
        b.iter(|| aligner.best_local(black_box(&unrelated), black_box(&source), lo, hi))
    });
    group.bench_function("naive_oracle", |b| {
        b.iter(|| best_local_naive(black_box(&query), black_box(&source), lo, hi, scoring))
    });
    group.finish();

    // The matcher's default shape: a 250-byte post, band 24 on each side of
    // a chain spanning 2 diagonals (odd width 51, as `find` produces).
    let (query, source) = (&query[..250], &source[..350]);
    let (lo, hi) = (offset - 25, offset + 25);
    let mut group = c.benchmark_group("align_250x350_band51");
    group.throughput(Throughput::Bytes(query.len() as u64));
    group.bench_function("banded", |b| {
        b.iter(|| aligner.best_local(black_box(query), black_box(source), lo, hi))
    });
    group.bench_function("banded_unrelated", |b| {
        b.iter(|| aligner.best_local(black_box(&unrelated[..250]), black_box(source), lo, hi))
    });
    group.finish();
}

criterion_group!(benches, align);
criterion_main!(benches);
