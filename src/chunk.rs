//! Content-defined chunking of raw bytes, with a blake3 hash per chunk, so
//! that re-shared files and pieces of binaries are found without text.
//!
//! Cut points are those of FastCDC 2020 (Xia et al., "The Design of Fast
//! Content-Defined Chunking for Data Deduplication Based Storage Systems",
//! IEEE TPDS 2020) as implemented by the `fastcdc` crate, pinned to `=3.2.1`
//! (module `v2020`, normalization level 1, the crate's unseeded gear table):
//! the cut points are part of the index format, and a golden test on a
//! committed fixture (`tests/data/chunk_fixture.bin`) pins them.
//!
//! # Invariants (tested)
//!
//! * chunks tile the input: offsets start at 0 and each begins where the
//!   previous ended; no chunk is empty; empty input gives no chunks;
//! * every chunk but the last is at least `min_size` bytes (`min_size - 1`
//!   when `min_size` is odd: FastCDC 2020 rolls two bytes per step, starting
//!   at `min_size / 2 * 2`); every chunk is at most `max_size` bytes;
//! * `hash` is blake3 of the chunk's bytes;
//! * [`chunk_reader`] gives exactly the chunks of [`chunk_bytes`], whatever
//!   sizes the reader returns (down to one byte per `read`).
//!
//! The reader version holds at most `2 * max(max_size, 512 KiB)` bytes.

use std::io::{self, Read};

use fastcdc::v2020;

use crate::error::ConfigError;

/// Chunk size limits in bytes (see [`ChunkParams::new`] for the ranges).
///
/// Fields are public for reading; build values with [`ChunkParams::new`].
/// A value built otherwise with out-of-range sizes is clamped into the
/// supported ranges when used (never a panic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkParams {
    /// No chunk but the last is shorter (64 B to 1 MiB; one byte less is
    /// possible when odd, see the module docs).
    pub min_size: u32,
    /// Expected chunk size (256 B to 4 MiB).
    pub avg_size: u32,
    /// No chunk is longer (1 KiB to 16 MiB).
    pub max_size: u32,
}

impl ChunkParams {
    /// Default minimum chunk size (part of the default index format).
    pub const DEFAULT_MIN: u32 = 4096;
    /// Default average chunk size.
    pub const DEFAULT_AVG: u32 = 16384;
    /// Default maximum chunk size.
    pub const DEFAULT_MAX: u32 = 65536;

    /// Checked constructor. The ranges are those `fastcdc::v2020` supports:
    /// `min_size` in 64..=1_048_576, `avg_size` in 256..=4_194_304,
    /// `max_size` in 1024..=16_777_216, and `min_size <= avg_size <= max_size`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] for a size outside its range,
    /// [`ConfigError::Inconsistent`] when the sizes are not ordered.
    pub fn new(min_size: u32, avg_size: u32, max_size: u32) -> Result<Self, ConfigError> {
        ConfigError::check_range(
            "chunk min_size",
            u64::from(min_size),
            u64::from(v2020::MINIMUM_MIN),
            u64::from(v2020::MINIMUM_MAX),
        )?;
        ConfigError::check_range(
            "chunk avg_size",
            u64::from(avg_size),
            u64::from(v2020::AVERAGE_MIN),
            u64::from(v2020::AVERAGE_MAX),
        )?;
        ConfigError::check_range(
            "chunk max_size",
            u64::from(max_size),
            u64::from(v2020::MAXIMUM_MIN),
            u64::from(v2020::MAXIMUM_MAX),
        )?;
        if min_size > avg_size || avg_size > max_size {
            return Err(ConfigError::Inconsistent(
                "chunk sizes must satisfy min_size <= avg_size <= max_size",
            ));
        }
        Ok(ChunkParams {
            min_size,
            avg_size,
            max_size,
        })
    }
}

impl Default for ChunkParams {
    /// min 4 KiB, average 16 KiB, max 64 KiB.
    fn default() -> Self {
        ChunkParams {
            min_size: Self::DEFAULT_MIN,
            avg_size: Self::DEFAULT_AVG,
            max_size: Self::DEFAULT_MAX,
        }
    }
}

/// One content-defined chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Byte offset of the chunk in the input.
    pub offset: u64,
    /// Length in bytes (never 0).
    pub len: u32,
    /// blake3 of the chunk's bytes.
    pub hash: [u8; 32],
}

/// Everything `v2020::cut` needs, derived once from [`ChunkParams`].
#[derive(Debug, Clone, Copy)]
struct Cutter {
    min: usize,
    avg: usize,
    max: usize,
    mask_s: u64,
    mask_l: u64,
}

impl Cutter {
    /// Clamps the sizes into fastcdc's ranges and derives the masks exactly
    /// as `v2020::FastCDC::new` does (normalization level 1).
    fn new(p: &ChunkParams) -> Self {
        let min = p.min_size.clamp(v2020::MINIMUM_MIN, v2020::MINIMUM_MAX);
        let avg = p.avg_size.clamp(v2020::AVERAGE_MIN, v2020::AVERAGE_MAX);
        let max = p.max_size.clamp(v2020::MAXIMUM_MIN, v2020::MAXIMUM_MAX);
        // avg is within 2^8..=2^22, so bits +- 1 indexes MASKS (26 entries).
        let bits = v2020::logarithm2(avg) as usize;
        let mask = |i: usize| v2020::MASKS.get(i).copied().unwrap_or(0);
        Cutter {
            min: min as usize,
            avg: avg as usize,
            max: max as usize,
            mask_s: mask(bits + 1),
            mask_l: mask(bits.saturating_sub(1)),
        }
    }

    /// Length of the next chunk at the start of `data` (which holds at least
    /// `max` bytes, or everything up to the end of input). 0 only if `data`
    /// is empty.
    fn next_len(&self, data: &[u8]) -> usize {
        let (_, len) = v2020::cut(
            data,
            self.min,
            self.avg,
            self.max,
            self.mask_s,
            self.mask_l,
            self.mask_s << 1,
            self.mask_l << 1,
        );
        len.min(data.len())
    }
}

fn make_chunk(offset: u64, bytes: &[u8]) -> Chunk {
    Chunk {
        offset,
        // next_len never exceeds max_size (<= 16 MiB).
        len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        hash: *blake3::hash(bytes).as_bytes(),
    }
}

/// Cut points and blake3 of each chunk of `data`. Empty input gives no
/// chunks.
pub fn chunk_bytes(data: &[u8], params: &ChunkParams) -> Vec<Chunk> {
    let cutter = Cutter::new(params);
    let mut chunks = Vec::with_capacity(data.len() / cutter.avg + 1);
    let mut start = 0;
    while start < data.len() {
        let rest = &data[start..];
        let len = cutter.next_len(rest);
        if len == 0 {
            break;
        }
        chunks.push(make_chunk(start as u64, &rest[..len]));
        start += len;
    }
    chunks
}

/// Chunks everything `r` yields, calling `on_chunk` for each chunk in
/// order, with bounded memory. Returns the blake3 of the whole stream and its
/// length. The chunks are exactly those [`chunk_bytes`] gives on the same
/// bytes.
///
/// # Errors
/// The first error of `r` other than [`io::ErrorKind::Interrupted`] (which
/// is retried); chunks before it have been passed to `on_chunk`.
pub fn chunk_reader<R: Read>(
    mut r: R,
    params: &ChunkParams,
    mut on_chunk: impl FnMut(Chunk),
) -> io::Result<(blake3::Hash, u64)> {
    let cutter = Cutter::new(params);
    let cap = 2 * cutter.max.max(512 * 1024);
    let mut buf = vec![0u8; cap];
    let mut whole = blake3::Hasher::new();
    // Bytes not yet chunked are buf[pos..filled].
    let (mut pos, mut filled) = (0usize, 0usize);
    let mut offset = 0u64;
    let mut total = 0u64;
    let mut eof = false;
    loop {
        // The cut needs `max` bytes ahead, or the true end of the input, to
        // decide as chunk_bytes does.
        if !eof && filled - pos < cutter.max {
            buf.copy_within(pos..filled, 0);
            filled -= pos;
            pos = 0;
            while !eof && filled < cap {
                match r.read(&mut buf[filled..]) {
                    Ok(0) => eof = true,
                    Ok(n) => {
                        let n = n.min(cap - filled);
                        whole.update(&buf[filled..filled + n]);
                        filled += n;
                        total += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let rest = &buf[pos..filled];
        if rest.is_empty() {
            break;
        }
        let len = cutter.next_len(rest);
        if len == 0 {
            break;
        }
        on_chunk(make_chunk(offset, &rest[..len]));
        offset += len as u64;
        pos += len;
    }
    Ok((whole.finalize(), total))
}

#[cfg(test)]
mod tests;
