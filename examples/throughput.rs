//! Matching throughput and per-post latency, measured in the library.
//!
//! ```text
//! cargo run --release --example throughput -- --index IDX --posts posts.jsonl
//!     [--threads 1] [--repeat 3] [--json out.json]
//! ```
//!
//! Opens an existing index (builds nothing), loads the `text` field of every
//! line of a JSONL file (the format of `corpus/queries`), touches every page
//! of the mapped index once (warm cache), then times each
//! `Matcher::try_find` on its own with `Instant` (the loop over the posts
//! is repeated `--repeat` times; with `--threads N` the posts are dealt
//! round-robin to N threads sharing one `Matcher`). Reports posts/s (wall),
//! posts/s per thread, p50/p90/p99/max latency per post, and how many posts
//! matched. Reading and parsing the JSONL are outside the timing.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use leakprint::index::Index;
use leakprint::matcher::{MatchConfig, Matcher};

#[derive(Parser)]
struct Args {
    /// The index folder (or one segment file).
    #[arg(long)]
    index: PathBuf,
    /// JSONL files of posts (the `text` field of each line is matched).
    #[arg(long, required = true)]
    posts: Vec<PathBuf>,
    /// Matching threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Passes over the posts.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Cut every post to at most this many bytes (0: no cut).
    #[arg(long, default_value_t = 0)]
    max_bytes: usize,
    /// Write the result as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(serde::Deserialize)]
struct Post {
    text: String,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    anyhow::ensure!(a.threads >= 1, "--threads must be at least 1");
    let index = Index::open(&a.index)?;
    let mut posts = Vec::new();
    for p in &a.posts {
        let text = std::fs::read_to_string(p)?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let post: Post = serde_json::from_str(line)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", p.display(), n + 1))?;
            let mut t = post.text;
            if a.max_bytes > 0 && t.len() > a.max_bytes {
                let mut cut = a.max_bytes;
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.truncate(cut);
            }
            posts.push(t);
        }
    }
    anyhow::ensure!(!posts.is_empty(), "no posts");
    let post_bytes: usize = posts.iter().map(|p| p.len()).sum();

    // Warm the mapped index: touch one byte per page.
    let mut touch = 0u64;
    for seg in index.segments() {
        for b in seg.bytes().iter().step_by(4096) {
            touch = touch.wrapping_add(*b as u64);
        }
    }
    std::hint::black_box(touch);

    let matcher = Matcher::new(&index, MatchConfig::default());
    // One untimed pass warms the caches and the per-thread scratch buffers.
    for p in posts.iter().take(200) {
        matcher.try_find(p)?;
    }

    let started = Instant::now();
    let per_thread: Vec<anyhow::Result<(Vec<u64>, usize)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.threads)
            .map(|t| {
                let matcher = &matcher;
                let posts = &posts;
                let repeat = a.repeat;
                let threads = a.threads;
                s.spawn(move || -> anyhow::Result<(Vec<u64>, usize)> {
                    let mut lat = Vec::new();
                    let mut matched = 0usize;
                    for _ in 0..repeat {
                        for p in posts.iter().skip(t).step_by(threads) {
                            let t0 = Instant::now();
                            let m = matcher.try_find(p)?;
                            lat.push(t0.elapsed().as_nanos() as u64);
                            matched += usize::from(!m.is_empty());
                        }
                    }
                    Ok((lat, matched))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a matching thread panicked")))
            })
            .collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let mut lat = Vec::new();
    let mut matched = 0;
    for r in per_thread {
        let (l, m) = r?;
        lat.extend(l);
        matched += m;
    }
    lat.sort_unstable();
    let n = lat.len();
    let busy: f64 = lat.iter().map(|&x| x as f64).sum::<f64>() / 1e9;
    let t = index.totals();
    let out = serde_json::json!({
        "index_text_bytes": t.text_bytes,
        "index_bytes": t.index_bytes,
        "posts": posts.len(),
        "mean_post_bytes": post_bytes as f64 / posts.len() as f64,
        "repeat": a.repeat,
        "threads": a.threads,
        "finds": n,
        "matched_fraction": matched as f64 / n.max(1) as f64,
        "wall_seconds": wall,
        "posts_per_second": n as f64 / wall,
        "posts_per_second_per_thread": n as f64 / wall / a.threads as f64,
        "posts_per_busy_second": n as f64 / busy.max(1e-12),
        "latency_us": {
            "p50": percentile(&lat, 0.50) as f64 / 1e3,
            "p90": percentile(&lat, 0.90) as f64 / 1e3,
            "p99": percentile(&lat, 0.99) as f64 / 1e3,
            "max": lat.last().copied().unwrap_or(0) as f64 / 1e3,
        },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    if let Some(j) = &a.json {
        std::fs::write(j, serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}
