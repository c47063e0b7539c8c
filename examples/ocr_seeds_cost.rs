//! What the OCR path's seeds cost per query: every `text` of a JSONL file
//! (one query a line, as `corpus/queries/ocr.jsonl`) matched once through
//! [`Matcher::try_find_ocr`] on one thread, with the chosen OCR seeds;
//! prints the matches found and the mean, median and p99 time per query.
//!
//! ```text
//! cargo run --release --example ocr_seeds_cost -- INDEX [tolerant|all|minima] < QUERIES.jsonl
//! ```

use std::io::BufRead;
use std::time::Instant;

use anyhow::Context;
use leakprint::index::Index;
use leakprint::matcher::{MatchConfig, Matcher, Seeds};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .context("usage: ocr_seeds_cost INDEX [tolerant|all|minima]")?;
    let seeds = match args.get(2).map_or("tolerant", String::as_str) {
        "tolerant" => Seeds::Tolerant,
        "all" => Seeds::All,
        "minima" => Seeds::Minima,
        other => anyhow::bail!("unknown seeds {other:?}"),
    };
    let index = Index::open(std::path::Path::new(path))?;
    let m = Matcher::new(&index, MatchConfig::builder().ocr_seeds(seeds).build()?);
    let mut texts = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        texts.push(
            v["text"]
                .as_str()
                .context("a line without \"text\"")?
                .to_owned(),
        );
    }
    anyhow::ensure!(!texts.is_empty(), "no queries on stdin");
    let mut times = Vec::with_capacity(texts.len());
    let mut matches = 0;
    let all = Instant::now();
    for t in &texts {
        let t0 = Instant::now();
        matches += m.try_find_ocr(t)?.len();
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let total = all.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    println!(
        "{} queries, {matches} matches, {:?} seeds: mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms per query ({total:.2} s)",
        texts.len(),
        seeds,
        total * 1e3 / texts.len() as f64,
        times[times.len() / 2],
        times[(times.len() * 99 / 100).min(times.len() - 1)],
    );
    Ok(())
}
