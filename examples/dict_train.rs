//! How much text a segment's LZ4 dictionary must be trained on: for each
//! training set, the size of the whole text in 1 KiB blocks compressed
//! against the dictionary (as the index does, `index::lz4`) and the
//! training time.
//!
//! ```text
//! cargo run --release --example dict_train -- --input DIR [--stride 1] [--max-bytes 100000000]
//! ```
//!
//! Reads every `--stride`-th file (folders walked, sorted) up to
//! `--max-bytes`. The index trains on the first `text::DICT_TRAIN_BYTES` of
//! a segment; the rows compare that with other prefixes and with samples
//! spread over the whole text (which the builder cannot have before it
//! compresses the first block).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

mod common;
use leakprint::index::lz4;

#[derive(Parser)]
struct Args {
    /// Files or folders of text.
    #[arg(long, required = true)]
    input: Vec<PathBuf>,
    /// Read one file in this many.
    #[arg(long, default_value_t = 1)]
    stride: usize,
    /// Most bytes read.
    #[arg(long, default_value_t = 100_000_000)]
    max_bytes: usize,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let (text, _) = common::read_text(&a.input, a.stride, a.max_bytes);
    let blocks: Vec<&[u8]> = text.chunks(1024).collect();
    println!(
        "text {:.1} MB, {} blocks of 1 KiB",
        text.len() as f64 / 1e6,
        blocks.len()
    );
    let plain: usize = blocks
        .iter()
        .map(|b| lz4::compress(b, &lz4::Lz4Dict::empty()).len())
        .sum();
    println!("| trained on | dictionary | size / text | training s |");
    println!("|---|---|---|---|");
    println!("| (none) | 0 | {:.3} | |", plain as f64 / text.len() as f64);
    // (label, samples)
    let mut sets: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    for mb in [1usize, 2, 4, 8] {
        let n = (mb << 20) / 1024;
        sets.push((
            format!("first {mb} MiB"),
            blocks.iter().take(n).map(|b| b.to_vec()).collect(),
        ));
    }
    sets.push((
        String::from("one block in 16, all the text"),
        blocks.iter().step_by(16).map(|b| b.to_vec()).collect(),
    ));
    for (label, samples) in &sets {
        let t = Instant::now();
        let dict = leakprint::index::text::train_dictionary(samples);
        let secs = t.elapsed().as_secs_f64();
        let d = lz4::Lz4Dict::new(&dict);
        let size: usize = blocks
            .iter()
            .map(|b| lz4::compress(b, &d).len())
            .sum::<usize>()
            + dict.len();
        println!(
            "| {label} | {} | {:.3} | {secs:.2} |",
            dict.len(),
            size as f64 / text.len() as f64
        );
    }
    Ok(())
}
