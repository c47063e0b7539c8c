//! Matching throughput and per-post latency, measured in the library.
//!
//! ```text
//! cargo run --release --example throughput -- --index IDX --posts posts.jsonl
//!     [--threads 1] [--repeat 3] [--rate POSTS_PER_S] [--json out.json]
//!     [--per-post latencies.tsv] [--load]
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
//!
//! With `--rate R` the load is offered open loop, as a platform's stream
//! arrives: post i (of the posts repeated `--repeat` times) is due at
//! `start + i / R`, the threads take posts in order from one queue, and a
//! post's latency counts from when it was due, so the time it waited
//! behind slower posts is included. Measure the maximum rate first
//! (without `--rate`), then offer fractions of it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use leakprint::index::{Index, Residence};
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
    /// Offered load in posts per second over all threads, open loop (see
    /// the module documentation); 0 runs as fast as possible.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Cut every post to at most this many bytes (0: no cut).
    #[arg(long, default_value_t = 0)]
    max_bytes: usize,
    /// Write the result as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write every timed post's latency here, one line each: the post's
    /// number in the input (from 0), its bytes and its latency in
    /// nanoseconds, tab-separated (to look at the slowest posts).
    #[arg(long)]
    per_post: Option<PathBuf>,
    /// Verify every candidate text (`MatchConfigBuilder::every_source`).
    #[arg(long)]
    every_source: bool,
    /// Read the index into memory backed by huge pages
    /// (`Residence::Loaded`) instead of mapping it.
    #[arg(long)]
    load: bool,
    /// Compare the two residences in one process: open the index mapped
    /// and loaded, and match blocks of this many posts on one thread,
    /// alternately on each (ABBA order), each post once. Prints posts/s of
    /// each and their ratio; the noise of a shared machine falls on both.
    /// (Each index is warmed by touching its segments' pages; those of a
    /// sharded index's other shards are not.)
    #[arg(long)]
    ab_load: Option<usize>,
    /// With `--ab-load`, give each block to the other residence (so that
    /// two runs, with and without, time each residence on every post).
    #[arg(long)]
    ab_swap: bool,
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

/// What a matching thread matches before its first timed post with
/// `--rate` (no post of any set: a few common words and a made-up name).
const WARM_UP: &str = "Warm-up text: the quick brown fox of Qwertzuiop jumps over the lazy dog \
    before the first timed post, so that this thread's buffers exist.";

/// Returns at `due`: sleeps while it is far, then spins (a sleep overshoots
/// by tens of microseconds, more than a post takes).
fn wait_until(due: Instant) {
    loop {
        let now = Instant::now();
        if now >= due {
            return;
        }
        let left = due - now;
        if left > Duration::from_micros(300) {
            std::thread::sleep(left - Duration::from_micros(200));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// `--ab-load`: the index mapped against the index loaded, blocks of
/// `block` posts alternately (see `Args::ab_load`).
fn ab_load(a: &Args, posts: &[String], block: usize) -> anyhow::Result<()> {
    anyhow::ensure!(block >= 1, "--ab-load needs a block of at least one post");
    let mapped = Index::open_with(&a.index, Residence::Mapped)?;
    let loaded = Index::open_with(&a.index, Residence::Loaded)?;
    let mut touch = 0u64;
    for index in [&mapped, &loaded] {
        for seg in index.segments() {
            for b in seg.bytes().iter().step_by(4096) {
                touch = touch.wrapping_add(*b as u64);
            }
        }
    }
    std::hint::black_box(touch);
    let cfg = MatchConfig::builder()
        .every_source(a.every_source)
        .build()?;
    let matchers = [
        Matcher::new(&mapped, cfg.clone()),
        Matcher::new(&loaded, cfg),
    ];
    let (mut time, mut count, mut matched) = ([Duration::ZERO; 2], [0usize; 2], [0usize; 2]);
    for (b, chunk) in posts.chunks(block).enumerate() {
        // A B B A A B ...: neither is always first after the other.
        let which = (b + b / 2 + usize::from(a.ab_swap)) % 2;
        let t0 = Instant::now();
        for p in chunk {
            matched[which] += usize::from(!matchers[which].try_find(p)?.is_empty());
        }
        time[which] += t0.elapsed();
        count[which] += chunk.len();
    }
    let rate = |i: usize| count[i] as f64 / time[i].as_secs_f64().max(1e-9);
    let out = serde_json::json!({
        "index": a.index,
        "block": block,
        "swapped": a.ab_swap,
        "mapped": {"posts": count[0], "posts_per_second": rate(0), "matched": matched[0]},
        "loaded": {"posts": count[1], "posts_per_second": rate(1), "matched": matched[1]},
        "loaded_over_mapped": rate(1) / rate(0),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    anyhow::ensure!(a.threads >= 1, "--threads must be at least 1");
    if a.ab_load.is_some() {
        anyhow::ensure!(
            a.threads == 1 && a.rate == 0.0 && !a.load && a.json.is_none() && a.per_post.is_none(),
            "--ab-load runs one thread over each post once, and opens the index both ways: \
             without --threads, --rate, --load, --json or --per-post"
        );
    }
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
    if let Some(block) = a.ab_load {
        return ab_load(&a, &posts, block);
    }
    let residence = if a.load {
        Residence::Loaded
    } else {
        Residence::Mapped
    };
    let index = Index::open_with(&a.index, residence)?;
    let post_bytes: usize = posts.iter().map(|p| p.len()).sum();

    // Warm the mapped index: touch one byte per page.
    let mut touch = 0u64;
    for seg in index.segments() {
        for b in seg.bytes().iter().step_by(4096) {
            touch = touch.wrapping_add(*b as u64);
        }
    }
    std::hint::black_box(touch);

    anyhow::ensure!(
        a.rate >= 0.0 && a.rate.is_finite(),
        "--rate must be a number of posts per second, 0 for as fast as possible"
    );
    // No untimed warm-up pass: it would make its posts second passes (the
    // matching threads' scratch buffers are their own anyway).
    let cfg = MatchConfig::builder()
        .every_source(a.every_source)
        .build()?;
    let matcher = Matcher::new(&index, cfg);
    let total = posts.len() * a.repeat;
    let next = AtomicUsize::new(0);

    let started = Instant::now();
    // With --rate, the first post is due once every thread has started
    // and matched a warm-up text of its own (its scratch buffers are
    // allocated then): a lag at the start would otherwise queue the
    // first posts behind it and count as their latency.
    let first_due = started + Duration::from_millis(50);
    type Timed = (Vec<u64>, Vec<usize>, usize);
    let per_thread: Vec<anyhow::Result<Timed>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.threads)
            .map(|t| {
                let matcher = &matcher;
                let posts = &posts;
                let repeat = a.repeat;
                let threads = a.threads;
                let next = &next;
                let rate = a.rate;
                s.spawn(move || -> anyhow::Result<Timed> {
                    let mut lat = Vec::new();
                    let mut which = Vec::new();
                    let mut matched = 0usize;
                    if rate > 0.0 {
                        matcher.try_find(WARM_UP)?;
                        // Open loop: the next post in order, when it is due.
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= total {
                                break;
                            }
                            let due = first_due + Duration::from_secs_f64(i as f64 / rate);
                            wait_until(due);
                            let m = matcher.try_find(&posts[i % posts.len()])?;
                            lat.push(due.elapsed().as_nanos() as u64);
                            which.push(i % posts.len());
                            matched += usize::from(!m.is_empty());
                        }
                        return Ok((lat, which, matched));
                    }
                    for _ in 0..repeat {
                        for (i, p) in posts.iter().enumerate().skip(t).step_by(threads) {
                            let t0 = Instant::now();
                            let m = matcher.try_find(p)?;
                            lat.push(t0.elapsed().as_nanos() as u64);
                            which.push(i);
                            matched += usize::from(!m.is_empty());
                        }
                    }
                    Ok((lat, which, matched))
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
    let wall = if a.rate > 0.0 {
        first_due.elapsed().as_secs_f64()
    } else {
        started.elapsed().as_secs_f64()
    };
    let mut lat = Vec::new();
    let mut which = Vec::new();
    let mut matched = 0;
    for r in per_thread {
        let (l, w, m) = r?;
        lat.extend(l);
        which.extend(w);
        matched += m;
    }
    if let Some(f) = &a.per_post {
        let mut out = String::new();
        for (&ns, &i) in lat.iter().zip(&which) {
            out.push_str(&format!("{i}\t{}\t{ns}\n", posts[i].len()));
        }
        std::fs::write(f, out)?;
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
        "offered_posts_per_second": a.rate,
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
            "p999": percentile(&lat, 0.999) as f64 / 1e3,
            "max": lat.last().copied().unwrap_or(0) as f64 / 1e3,
        },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    if let Some(j) = &a.json {
        std::fs::write(j, serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}
