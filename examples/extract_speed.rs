//! Extraction speed per format, and its share of the per-file indexing work.
//!
//! ```text
//! cargo run --release --example extract_speed -- ROOT... [--sample-bytes 200M]
//!     [--min-seconds 0.2] [--json out.json]
//! ```
//!
//! Walks the roots as `leakprint index` does, reads every file (or an even
//! sample of the files up to `--sample-bytes`) into memory, then, on one
//! thread and per file:
//! - times `extract::extract` (detection, decoding, MIME, containers...),
//!   repeating small inputs until `--min-seconds` of work per format so
//!   that tiny fixtures still give a stable figure;
//! - times the rest of what the indexer does with that file, once: for every
//!   extracted part, normalization and winnowed fingerprints (default k, w,
//!   seed); for the file's bytes, content-defined chunks and blake3.
//!
//! Reports input MB/s per format (grouped by the file's detected format)
//! and the share of extraction in extract + normalize/fingerprint + chunk
//! time. Reading files, sorting and writing postings are outside both
//! sides, so the share is of the per-file CPU work, not of wall time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use leakprint::chunk::{chunk_bytes, ChunkParams};
use leakprint::extract::{extract, ExtractLimits};
use leakprint::index::builder::walk::{walk, Entry};
use leakprint::index::builder::{DEFAULT_K, DEFAULT_W};
use leakprint::{fingerprint, normalize, winnow};

#[derive(Parser)]
struct Args {
    /// Files and folders to read.
    #[arg(required = true)]
    roots: Vec<PathBuf>,
    /// Read an even sample of the files up to about this many bytes (0: all).
    #[arg(long, default_value_t = 0)]
    sample_bytes: u64,
    /// Repeat each format's extraction until it took at least this long.
    #[arg(long, default_value_t = 0.2)]
    min_seconds: f64,
    /// Write the result as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Default, serde::Serialize)]
struct PerFormat {
    files: u64,
    bytes: u64,
    text_bytes: u64,
    extract_seconds: f64,
    extract_mb_per_s: f64,
    fingerprint_seconds: f64,
    chunk_seconds: f64,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let mut files: Vec<(String, u64, PathBuf)> = Vec::new();
    for e in walk(&a.roots)? {
        if let Entry::File {
            path,
            display,
            size,
        } = e
        {
            files.push((leakprint::names::display(&display), size, path));
        }
    }
    let total: u64 = files.iter().map(|f| f.1).sum();
    if a.sample_bytes > 0 && total > a.sample_bytes {
        let stride = (total as f64 / a.sample_bytes as f64).ceil() as usize;
        files = files.into_iter().step_by(stride.max(1)).collect();
    }
    let mut inputs = Vec::with_capacity(files.len());
    for (display, _, path) in &files {
        inputs.push((display.clone(), std::fs::read(path)?));
    }
    let limits = ExtractLimits::default();
    let cp = ChunkParams::default();
    let mut per: BTreeMap<String, PerFormat> = BTreeMap::new();
    let mut hashes = Vec::new();
    let mut formats = Vec::with_capacity(inputs.len());
    for (name, bytes) in &inputs {
        let t0 = Instant::now();
        let ex = extract(bytes, name, &limits);
        let mut secs = t0.elapsed().as_secs_f64();
        let fmt = ex.format.map_or("none", |f| f.name()).to_string();
        formats.push(fmt.clone());
        let e = per.entry(fmt).or_default();
        e.files += 1;
        e.bytes += bytes.len() as u64;
        let t1 = Instant::now();
        for part in &ex.parts {
            e.text_bytes += part.text.len() as u64;
            let norm = normalize::normalize(&part.text);
            winnow::fingerprints(
                norm.text.as_bytes(),
                DEFAULT_K,
                DEFAULT_W,
                fingerprint::DEFAULT_SEED,
                &mut hashes,
            );
            std::hint::black_box(&hashes);
        }
        e.fingerprint_seconds += t1.elapsed().as_secs_f64();
        let t2 = Instant::now();
        std::hint::black_box(chunk_bytes(bytes, &cp));
        e.chunk_seconds += t2.elapsed().as_secs_f64();
        // Tiny inputs: repeat to measure extraction above timer noise.
        let mut reps = 1;
        while secs < 1e-4 && reps < 64 {
            let t = Instant::now();
            std::hint::black_box(extract(bytes, name, &limits));
            secs = (secs * reps as f64 + t.elapsed().as_secs_f64()) / (reps + 1) as f64;
            reps += 1;
        }
        e.extract_seconds += secs;
    }
    // Formats whose files took too little time in total: repeat the whole set.
    for (fmt, e) in per.iter_mut() {
        if e.extract_seconds >= a.min_seconds || e.extract_seconds <= 0.0 {
            continue;
        }
        let mine: Vec<&(String, Vec<u8>)> = inputs
            .iter()
            .zip(&formats)
            .filter(|(_, f)| *f == fmt)
            .map(|(i, _)| i)
            .collect();
        let t = Instant::now();
        let mut rounds = 0u64;
        while t.elapsed().as_secs_f64() < a.min_seconds {
            for (n, b) in &mine {
                std::hint::black_box(extract(b, n, &limits));
            }
            rounds += 1;
        }
        e.extract_seconds = t.elapsed().as_secs_f64() / rounds as f64;
    }
    let (mut ex, mut fp, mut ch, mut by) = (0.0, 0.0, 0.0, 0u64);
    for e in per.values_mut() {
        e.extract_mb_per_s = e.bytes as f64 / 1e6 / e.extract_seconds.max(1e-12);
        ex += e.extract_seconds;
        fp += e.fingerprint_seconds;
        ch += e.chunk_seconds;
        by += e.bytes;
    }
    let out = serde_json::json!({
        "files": inputs.len(),
        "bytes": by,
        "of_total_bytes": total,
        "per_format": per,
        "extract_seconds": ex,
        "fingerprint_seconds": fp,
        "chunk_seconds": ch,
        "extract_share": ex / (ex + fp + ch).max(1e-12),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    if let Some(j) = &a.json {
        std::fs::write(j, serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}
