//! Benchmark: banded local alignment (`leakprint::matcher::align`).
//!
//! What: a 300-byte normalized query, a mutated copy (about 5% substitutions,
//! insertions and deletions) of bytes inside a 400-byte source window, aligned
//! in a band of 64 diagonals around the true offset; the shape of one
//! verification in `find`. Also the full-matrix oracle on the same input, as
//! the floor any optimisation must beat, and an unrelated query (no match).
//! A second group has the shape `find` produces by default: a 250-byte post,
//! an odd band width of 51, also timed with each fill kernel the CPU has
//! (`AlignKernel`: portable, SSE2, AVX2, AVX-512BW).
//! A third group times each kernel on a band of 255 diagonals (128 lanes
//! a row: a chain of hits drifting over many diagonals).
//! A fourth group times `Aligner::score_bound`, the linear-time bound that
//! settles most verifications of unrelated posts before any alignment: a
//! 270-byte post of English-like text sharing one 22-byte stock phrase with
//! a 320-byte source window (the mean shape of the lone hits the Debian
//! fortunes verify against the 1 GB scale index).
//! Inputs come from a fixed-seed generator, so runs are comparable.
//!
//! How to compare: `cargo bench --bench align -- --save-baseline before`,
//! change the code, then `cargo bench --bench align -- --baseline before`.
//! Throughput is reported in query bytes.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakprint::matcher::align::{best_local_naive, AlignKernel, Aligner, Scoring};

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

/// `banded_<kernel>`: `query` against `source` in the band `lo..=hi` with
/// each fill kernel this CPU has.
fn each_kernel(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    scoring: Scoring,
    (query, source): (&[u8], &[u8]),
    (lo, hi): (isize, isize),
) {
    for kernel in [
        AlignKernel::Portable,
        AlignKernel::Sse2,
        AlignKernel::Avx2,
        AlignKernel::Avx512,
    ] {
        let Some(mut al) = Aligner::with_kernel(scoring, kernel) else {
            continue;
        };
        group.bench_function(format!("banded_{kernel:?}").to_lowercase(), |b| {
            b.iter(|| al.best_local(black_box(query), black_box(source), lo, hi))
        });
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
    // Each fill kernel this CPU has, on the same input (`banded` above is
    // the one `Aligner::new` picks).
    each_kernel(&mut group, scoring, (query, source), (lo, hi));
    group.finish();

    // A chain whose hits drift over many diagonals (repeated lines of
    // code, a quote with several indels): a band of 255 diagonals, 128
    // lanes a row (four AVX-512 registers; until December 2026 every row
    // past 64 lanes took the portable kernel).
    let (query, source, _, offset) = inputs();
    let query = &query[..250];
    let (lo, hi) = (offset - 127, offset + 127);
    let mut group = c.benchmark_group("align_250x400_band255");
    group.throughput(Throughput::Bytes(query.len() as u64));
    each_kernel(&mut group, scoring, (query, &source), (lo, hi));
    group.finish();

    // The bound on a lone hit: English-like letter frequencies (chance
    // matches on every diagonal), one shared phrase on diagonal 0 of a
    // band of 49.
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    const ENGLISH: &[u8] = b"eeeeeeeeeeeetttttttttaaaaaaaaooooooooiiiiiiinnnnnnnsssssshhhhhhrrrrrrddddllllcccuuummwwffggyyppbbvk";
    let mut text = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| ENGLISH[(rng.next() % ENGLISH.len() as u64) as usize])
            .collect()
    };
    let phrase = b"inthemiddleofthenightx";
    let mut post = text(124);
    post.extend_from_slice(phrase);
    post.extend(text(124));
    let mut window = text(149);
    window.extend_from_slice(phrase);
    window.extend(text(149));
    let d = 149 - 124;
    let (lo, hi) = (d - 24, d + 24);
    // The matcher's scores (an edit costs two matches), for which the
    // bound holds.
    let mut bounder = Aligner::new(Scoring::new(1, -2, -2).expect("valid scores"));
    assert!(bounder.score_bound(&post, &window, lo, hi).is_some());
    let mut group = c.benchmark_group("score_bound_270x320_band49");
    group.throughput(Throughput::Bytes(post.len() as u64));
    group.bench_function("lone_stock_phrase", |b| {
        b.iter(|| bounder.score_bound(black_box(&post), black_box(&window), lo, hi))
    });
    // As `find` asks it: does the bound reach the minimum length of 44?
    group.bench_function("lone_stock_phrase_floor_44", |b| {
        b.iter(|| bounder.score_bound_from(black_box(&post), black_box(&window), lo, hi, 44))
    });
    group.finish();
}

criterion_group!(benches, align);
criterion_main!(benches);
