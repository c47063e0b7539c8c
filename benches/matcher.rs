//! Benchmark: lookup and matching of one post (`Segment::postings`, `Matcher::try_find`).
//!
//! What is measured, on one segment built in the bench from 600 seeded
//! synthetic documents of 4-16 KB (about 6 MB of English-shaped prose, see
//! `support/seeded_text.rs`; default k and w):
//! - `lookup/present`: `Segment::postings(key)` for 4,096 keys drawn from the
//!   index's own fingerprints (each lookup walks its bucket and yields the
//!   positions), in a fixed random order, so most lookups miss the CPU
//!   caches as they would on a large index;
//! - `lookup/absent`: the same for 4,096 random keys (almost all absent:
//!   the cost of a miss, which is what most k-grams of a post are);
//! - `find_280B/matching`: `Matcher::try_find` of a 280-byte post that
//!   quotes about 200 bytes of one document inside commentary, a hashtag and
//!   a link (seeds, candidates, banded alignment, spans and snippet);
//! - `find_280B/non_matching`: a 280-byte post of fresh prose from the same
//!   vocabulary (seeding and the common-key checks only; no candidate
//!   survives);
//! - `*_seeds_all`: the same with every k-gram looked up (`Seeds::All`)
//!   instead of the window minima (the default).
//!
//! Throughput: lookups are reported per element (keys), posts in bytes.
//! Everything comes from fixed seeds, so runs compare.
//!
//! How to compare: `cargo bench --bench matcher -- --save-baseline before`,
//! change the code, then `cargo bench --bench matcher -- --baseline before`.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakprint::index::{Index, IndexBuilder};
use leakprint::matcher::{MatchConfig, Matcher, Seeds};
use leakprint::{fingerprint, normalize, winnow};

#[path = "support/seeded_text.rs"]
mod seeded_text;

use seeded_text::{Prose, Rng};

/// A post of exactly `len` bytes (ASCII): commentary + quote + tags.
fn post_around(quote: &str, len: usize) -> String {
    let mut p = format!("wow, look what leaked today: \"{quote}\" #leak https://t.co/x1Yz ");
    while p.len() < len {
        p.push_str("so much for transparency ");
    }
    p.truncate(len);
    p
}

fn bench(c: &mut Criterion) {
    let docs = Prose::new(0x3a7c_4e12).documents(600, 4 << 10, 16 << 10);
    let refs: Vec<(&str, &str)> = docs.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let indexer = IndexBuilder::new()
        .build()
        .expect("default configuration is valid");
    let params = indexer.params();
    let bytes = indexer.segment_from_texts(&refs).expect("in-memory build");
    let index = Index::from_bytes(bytes).expect("a freshly built segment opens");
    let seg = &index.segments()[0];

    // Keys present in the index: the winnowed fingerprints of some documents.
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut present = Vec::new();
    let mut fps = Vec::new();
    for (_, text) in docs.iter().step_by(7) {
        let norm = normalize::normalize(text);
        winnow::fingerprints(
            norm.text.as_bytes(),
            params.k as usize,
            params.w as usize,
            params.seed,
            &mut fps,
        );
        present.extend(fps.iter().map(|&(h, _)| fingerprint::remix(h)));
    }
    for i in (1..present.len()).rev() {
        present.swap(i, rng.below(i + 1));
    }
    present.truncate(4096);
    let absent: Vec<u64> = (0..4096).map(|_| rng.next_u64()).collect();
    let hits: usize = present.iter().map(|&k| seg.postings(k).count()).sum();
    assert!(hits >= present.len(), "present keys must be found");

    let mut group = c.benchmark_group("lookup");
    for (name, keys) in [("present", &present), ("absent", &absent)] {
        group.throughput(Throughput::Elements(keys.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0u64;
                for &k in keys.iter() {
                    for pos in seg.postings(black_box(k)) {
                        n = n.wrapping_add(pos as u64);
                    }
                }
                black_box(n)
            })
        });
    }
    group.finish();

    // Posts: a ~200-byte quote from the middle of one document, and fresh prose.
    let (_, src) = &docs[123];
    let mut start = src.len() / 2;
    while !src.is_char_boundary(start) {
        start += 1;
    }
    let quote: String = src[start..].chars().take(200).collect();
    let matching = post_around(quote.trim(), 280);
    let mut fresh = String::new();
    Prose::new(0x0dd_f00d).fill(&mut fresh, 400);
    let non_matching: String = fresh.chars().take(280).collect();

    let matcher = Matcher::new(&index, MatchConfig::default());
    let found = matcher.try_find(&matching).expect("valid index");
    assert!(!found.is_empty(), "the quoting post must match");
    let none = matcher.try_find(&non_matching).expect("valid index");
    assert!(none.is_empty(), "fresh prose must not match");

    let all = Matcher::new(
        &index,
        MatchConfig::builder()
            .seeds(Seeds::All)
            .build()
            .expect("valid configuration"),
    );
    assert_eq!(
        all.try_find(&matching).expect("valid index").len(),
        found.len()
    );
    let mut group = c.benchmark_group("find_280B");
    for (name, post) in [("matching", &matching), ("non_matching", &non_matching)] {
        group.throughput(Throughput::Bytes(post.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(matcher.try_find(black_box(post)).expect("valid index")))
        });
        group.bench_function(format!("{name}_seeds_all"), |b| {
            b.iter(|| black_box(all.try_find(black_box(post)).expect("valid index")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
