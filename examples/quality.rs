//! The quality evaluation, one command:
//!
//! ```text
//! cargo run --release --example quality -- [--dump corpus/dump] [--queries corpus/queries]
//!     [--split tune|held_out|all] [--k 16 --window 25] [--min-len N --min-similarity S]
//!     [--json report.json]
//! cargo run --release --example quality -- --dump corpus/ml/dump --queries corpus/ml/queries
//! ```
//!
//! Tune defaults with `--split tune` only; the held-out half is what CI gates
//! (`tests/quality.rs`, `corpus/README.md`).
//!
//! Builds an index of the dump (in a temporary folder), runs every query of
//! the truth files through the matcher, and prints recall, false matches and
//! span accuracy per case (see `leakprint::eval`).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use leakprint::eval;
use leakprint::index::builder::{Mode, NoProgress};
use leakprint::index::{Index, IndexBuilder};
use leakprint::matcher::{MatchConfig, Seeds};

#[derive(Parser)]
struct Args {
    /// The folder to index.
    #[arg(long, default_value = "corpus/dump")]
    dump: PathBuf,
    /// Truth files, or folders of them (*.jsonl).
    #[arg(long, default_values = ["corpus/queries"])]
    queries: Vec<PathBuf>,
    /// Which half of the queries to run: tune, held_out or all.
    #[arg(long, default_value = "all")]
    split: String,
    /// Reuse this index instead of building one.
    #[arg(long)]
    index: Option<PathBuf>,
    #[arg(long, default_value_t = leakprint::index::builder::DEFAULT_K)]
    k: usize,
    #[arg(long, default_value_t = leakprint::index::builder::DEFAULT_W)]
    window: usize,
    #[arg(long, default_value_t = leakprint::matcher::DEFAULT_MIN_LEN)]
    min_len: usize,
    #[arg(long, default_value_t = leakprint::matcher::DEFAULT_MIN_SIMILARITY)]
    min_similarity: f64,
    /// Fewest parts a fingerprint must be in to be marked common.
    #[arg(long, default_value_t = leakprint::index::builder::DEFAULT_COMMON_MIN_DOCS)]
    common_min_docs: u32,
    /// Look up every k-gram of a query instead of its window minima.
    #[arg(long)]
    seed_all: bool,
    /// Seeds of OCR queries (and of the negatives' OCR-path rows):
    /// tolerant (the default), all or minima.
    #[arg(long, default_value = "tolerant")]
    ocr_seeds: String,
    /// Verify every candidate text (`MatchConfigBuilder::every_source`).
    #[arg(long)]
    every_source: bool,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let tmp;
    let index_path = match &a.index {
        Some(p) => p.clone(),
        None => {
            tmp = std::env::temp_dir().join(format!("leakprint-quality-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            let t = Instant::now();
            let s = IndexBuilder::new()
                .k(a.k)
                .window(a.window)
                .common_min_docs(a.common_min_docs)
                .build()?
                .index_paths(
                    std::slice::from_ref(&a.dump),
                    &tmp,
                    Mode::Create,
                    &NoProgress,
                )?;
            eprintln!(
                "indexed {} files, {} parts, {} bytes of text in {:.2}s; index {} bytes ({:.2}x text)",
                s.files,
                s.parts,
                s.text_bytes,
                t.elapsed().as_secs_f64(),
                s.index_bytes,
                s.index_bytes as f64 / s.text_bytes.max(1) as f64
            );
            tmp.clone()
        }
    };
    let index = Index::open(&index_path)?;
    let mut queries = Vec::new();
    for q in &a.queries {
        if q.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(q)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect();
            files.sort();
            for f in files {
                queries.extend(eval::load(&f)?);
            }
        } else {
            queries.extend(eval::load(q)?);
        }
    }
    anyhow::ensure!(
        ["tune", "held_out", "all"].contains(&a.split.as_str()),
        "--split must be tune, held_out or all, not {}",
        a.split
    );
    queries.retain(|q| eval::in_split(q, &a.split));
    let cfg = MatchConfig::builder()
        .min_len(a.min_len)
        .min_similarity(a.min_similarity)
        .seeds(if a.seed_all {
            Seeds::All
        } else {
            Seeds::Minima
        })
        .ocr_seeds(match a.ocr_seeds.as_str() {
            "minima" => Seeds::Minima,
            "all" => Seeds::All,
            "tolerant" => Seeds::Tolerant,
            o => anyhow::bail!("--ocr-seeds: unknown '{o}' (tolerant, all, minima)"),
        })
        .every_source(a.every_source)
        .build()?;
    let prefix = format!("{}/", a.dump.to_string_lossy().trim_end_matches('/'));
    let t = Instant::now();
    let reports = eval::evaluate(&index, &cfg, &prefix, &queries)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "k={} w={} min_len={} min_similarity={} seeds={} ocr_seeds={}{}; split {}: {} queries in {:.2}s",
        index.params().k,
        index.params().w,
        a.min_len,
        a.min_similarity,
        if a.seed_all { "all" } else { "minima" },
        a.ocr_seeds,
        if a.every_source { " every_source" } else { "" },
        a.split,
        queries.len(),
        secs
    );
    print!("{}", eval::table(&reports));
    if let Some(j) = &a.json {
        std::fs::write(j, serde_json::to_string_pretty(&reports)?)?;
    }
    if a.index.is_none() {
        let _ = std::fs::remove_dir_all(&index_path);
    }
    Ok(())
}
