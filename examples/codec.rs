//! The stored text's codec, measured: size and the cost of reading one
//! verification window, for LZ4 and zstd (with and without a dictionary
//! trained on the text) at several block sizes.
//!
//! ```text
//! cargo run --release --example codec -- --input DIR_OR_FILE... \
//!     [--max-bytes 200000000] [--blocks 2048,4096,8192] [--windows 20000]
//! ```
//!
//! Reads files (folders walked, sorted) up to `--max-bytes`, cuts their
//! concatenation into blocks as the index does, and for each codec and
//! block size reports the compressed size against the text, compression
//! MB/s on one thread, and the mean time to read `--windows` windows of
//! 1,400 bytes at random offsets (the mean raw window of a verification on
//! the 1 GB scale index), decoding as the matcher does: LZ4 from the start
//! of each block to the end of the window (`lz4_decode_until`), zstd each
//! block whole. LZ4 with a dictionary (the last 64 KiB of the zstd one)
//! is compressed and read as the index does (`index::lz4`, and the same
//! resumable decoder). The windows are read in random order over the whole text,
//! so most blocks are not in the processor's caches, as in matching.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

mod common;

#[derive(Parser)]
struct Args {
    /// Files or folders of text.
    #[arg(long, required = true)]
    input: Vec<PathBuf>,
    /// Most bytes read.
    #[arg(long, default_value_t = 200_000_000)]
    max_bytes: usize,
    /// Block sizes, comma-separated.
    #[arg(long, default_value = "2048,4096,8192")]
    blocks: String,
    /// Windows read per configuration.
    #[arg(long, default_value_t = 20_000)]
    windows: usize,
    /// Raw bytes of one window.
    #[arg(long, default_value_t = 1400)]
    window: usize,
    /// zstd levels, comma-separated.
    #[arg(long, default_value = "1,3")]
    levels: String,
    /// Bytes of the zstd dictionary.
    #[arg(long, default_value_t = 112 << 10)]
    dict_bytes: usize,
}

/// A small deterministic generator (xorshift), so that every run reads the
/// same windows.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

enum Codec<'d> {
    Lz4,
    Lz4Dict(&'d [u8]),
    Zstd(i32, Option<&'d [u8]>),
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let (text, files) = common::read_text(&a.input, 1, a.max_bytes);
    anyhow::ensure!(text.len() > a.window * 2, "too little text");
    println!(
        "text {:.1} MB from {} files",
        text.len() as f64 / 1e6,
        files
    );
    let blocks: Vec<usize> = a
        .blocks
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let levels: Vec<i32> = a
        .levels
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    println!("| codec | block | size / text | compress MB/s | read a window, us |");
    println!("|---|---|---|---|---|");
    for &bs in &blocks {
        // A dictionary trained on blocks spread over the text (one in 16).
        let samples: Vec<&[u8]> = text.chunks(bs).step_by(16).collect();
        let t = Instant::now();
        let dict = zstd::dict::from_samples(&samples, a.dict_bytes)?;
        let train = t.elapsed().as_secs_f64();
        // LZ4 reaches back 64 KiB: the dictionary's last 64 KiB (a zstd
        // dictionary ends with its content, most useful last).
        let lz4_dict = &dict[dict.len().saturating_sub(64 << 10)..];
        let mut codecs = vec![
            (String::from("lz4"), Codec::Lz4),
            (String::from("lz4 + dict"), Codec::Lz4Dict(lz4_dict)),
        ];
        for &l in &levels {
            codecs.push((format!("zstd {l}"), Codec::Zstd(l, None)));
            codecs.push((format!("zstd {l} + dict"), Codec::Zstd(l, Some(&dict))));
        }
        for (name, codec) in &codecs {
            let t = Instant::now();
            let comp: Vec<Vec<u8>> = match codec {
                Codec::Lz4 => text.chunks(bs).map(lz4_flex::block::compress).collect(),
                Codec::Lz4Dict(d) => {
                    // The index's compressor: the dictionary hashed once.
                    let d = leakprint::index::lz4::Lz4Dict::new(d);
                    text.chunks(bs)
                        .map(|b| leakprint::index::lz4::compress(b, &d))
                        .collect()
                }
                Codec::Zstd(l, d) => {
                    let mut c = match d {
                        Some(d) => zstd::bulk::Compressor::with_dictionary(*l, d)?,
                        None => zstd::bulk::Compressor::new(*l)?,
                    };
                    text.chunks(bs)
                        .map(|b| c.compress(b))
                        .collect::<Result<_, _>>()?
                }
            };
            let secs = t.elapsed().as_secs_f64();
            let size: usize = comp.iter().map(Vec::len).sum::<usize>()
                + match codec {
                    Codec::Zstd(_, Some(_)) => dict.len(),
                    Codec::Lz4Dict(d) => d.len(),
                    _ => 0,
                };
            // How a block is read back, per codec.
            enum Reader<'d> {
                Lz4(&'d [u8]),
                Zstd(zstd::bulk::Decompressor<'d>),
            }
            let mut reader = match codec {
                Codec::Lz4 => Reader::Lz4(&[]),
                Codec::Lz4Dict(d) => Reader::Lz4(d),
                Codec::Zstd(_, Some(d)) => {
                    Reader::Zstd(zstd::bulk::Decompressor::with_dictionary(d)?)
                }
                Codec::Zstd(_, None) => Reader::Zstd(zstd::bulk::Decompressor::new()?),
            };
            let mut out = vec![0u8; bs];
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            let mut sink = 0u64;
            let t = Instant::now();
            for _ in 0..a.windows {
                let start = (rng.next() % (text.len() - a.window) as u64) as usize;
                let end = start + a.window;
                for b in start / bs..=(end - 1) / bs {
                    let need = (end - b * bs).min(bs);
                    let raw = text[b * bs..].len().min(bs);
                    match &mut reader {
                        Reader::Lz4(d) => {
                            let (mut ip, mut op) = (0, 0);
                            leakprint::index::text::lz4_decode_until(
                                &comp[b],
                                d,
                                &mut ip,
                                &mut out[..raw],
                                &mut op,
                                need,
                            )
                            .map_err(anyhow::Error::msg)?;
                        }
                        Reader::Zstd(d) => {
                            d.decompress_to_buffer(&comp[b], &mut out[..raw])?;
                        }
                    }
                    sink = sink.wrapping_add(u64::from(out[need - 1]));
                }
            }
            let per = t.elapsed().as_secs_f64() / a.windows as f64 * 1e6;
            println!(
                "| {name} | {bs} | {:.3} | {:.0} | {per:.2} |",
                size as f64 / text.len() as f64,
                text.len() as f64 / 1e6 / secs,
            );
            std::hint::black_box(sink);
        }
        println!(
            "(dictionary of {} bytes trained in {train:.1} s)",
            dict.len()
        );
    }
    Ok(())
}
