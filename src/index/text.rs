//! The stored text: the extracted text of every part that owns its text,
//! concatenated into one arena and cut into fixed-size blocks, each
//! compressed on its own ([`Codec`]), so that verifying a candidate decodes
//! one or two blocks.
//!
//! Writing ([`Arena`]) cuts blocks as text arrives; the builder compresses
//! full blocks in parallel ([`compress`], a pure function of the block) and
//! writes them in order. Reading ([`BlockCache`]) decodes blocks into
//! buffers it keeps, with a reused decompression context.
//!
//! The codec is recorded per segment. LZ4 is the default: on this project's
//! machine it decodes an 8 KiB block several times faster than zstd (the
//! matcher verifies candidates by decoding), and compresses faster; zstd
//! gives a smaller index. `examples/codec.rs` measures both on a file.

use super::wire::{corrupt, Codec};
use super::IndexError;

/// Text blocks of this many bytes (the last one of a segment is shorter).
pub const DEFAULT_BLOCK: u32 = 8 << 10;
/// Largest text block a reader accepts: bounds the buffer one forged block
/// record can make a reader allocate.
pub const MAX_BLOCK: u32 = 1 << 20;
/// zstd level of [`Codec::Zstd`] blocks.
pub const ZSTD_LEVEL: i32 = 1;

/// Compress one block.
///
/// # Errors
/// Only when zstd cannot allocate a context.
pub fn compress(
    codec: Codec,
    raw: &[u8],
    zstd: &mut Option<zstd::bulk::Compressor<'static>>,
) -> std::io::Result<Vec<u8>> {
    match codec {
        Codec::Lz4 => Ok(lz4_flex::block::compress(raw)),
        Codec::Zstd => {
            if zstd.is_none() {
                *zstd = Some(zstd::bulk::Compressor::new(ZSTD_LEVEL)?);
            }
            match zstd.as_mut() {
                Some(c) => c.compress(raw),
                None => Err(std::io::Error::other("no zstd context")),
            }
        }
    }
}

/// The text arena being written: full blocks wait in `pending` for the
/// builder to compress them.
#[derive(Debug)]
pub struct Arena {
    block: u32,
    current: Vec<u8>,
    /// Full blocks, in order, not yet compressed.
    pub pending: Vec<Vec<u8>>,
    /// Bytes appended so far.
    pub len: u64,
}

impl Arena {
    /// An empty arena cutting blocks of `block` bytes.
    pub fn new(block: u32) -> Arena {
        Arena {
            block,
            current: Vec::with_capacity(block as usize),
            pending: Vec::new(),
            len: 0,
        }
    }

    /// Append `text`; returns its offset in the arena.
    pub fn push(&mut self, mut text: &[u8]) -> u64 {
        let start = self.len;
        let bs = self.block as usize;
        while !text.is_empty() {
            let take = (bs - self.current.len()).min(text.len());
            self.current.extend_from_slice(&text[..take]);
            text = &text[take..];
            self.len += take as u64;
            if self.current.len() == bs {
                let full = std::mem::replace(&mut self.current, Vec::with_capacity(bs));
                self.pending.push(full);
            }
        }
        start
    }

    /// Move the last, partial block to `pending`.
    pub fn finish(&mut self) {
        if !self.current.is_empty() {
            let last = std::mem::take(&mut self.current);
            self.pending.push(last);
        }
    }
}

/// Decoded text blocks kept between reads, with a reused zstd context.
///
/// The matcher keeps one per thread: verifying candidates reads the same
/// popular documents again and again, and creating a decompression context
/// and zeroing a buffer for every block cost more than decoding it.
/// Entries are keyed by a segment id unique in the process (not by an
/// address, which a later segment may reuse).
pub struct BlockCache {
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    /// (segment id, block number, decoded bytes)
    entries: Vec<(u64, u32, Vec<u8>)>,
    capacity: usize,
    next: usize,
}

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockCache")
            .field("blocks", &self.entries.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl BlockCache {
    /// A cache of up to `capacity` decoded blocks (0 keeps only the block
    /// being read).
    pub fn new(capacity: usize) -> BlockCache {
        BlockCache {
            zstd: None,
            entries: Vec::new(),
            capacity: capacity.max(1),
            next: 0,
        }
    }

    /// Bytes of decoded text the cache holds at most for blocks of
    /// `block` bytes.
    pub fn bytes_for(capacity: usize, block: u32) -> u64 {
        capacity.max(1) as u64 * u64::from(block)
    }

    /// The decoded block `i` of segment `seg`: from the cache, or decoded
    /// from `compressed` (raw length `raw`) with `codec` into a slot.
    pub(crate) fn get<'c>(
        &'c mut self,
        seg: u64,
        i: u32,
        codec: Codec,
        compressed: &[u8],
        raw: usize,
    ) -> Result<&'c [u8], IndexError> {
        if let Some(at) = self.entries.iter().position(|e| e.0 == seg && e.1 == i) {
            return Ok(&self.entries[at].2);
        }
        let slot = if self.entries.len() < self.capacity {
            self.entries.push((u64::MAX, u32::MAX, Vec::new()));
            self.entries.len() - 1
        } else {
            let s = self.next;
            self.next = (self.next + 1) % self.capacity;
            // Invalidate first: if decoding fails the slot must not look valid.
            self.entries[s].0 = u64::MAX;
            s
        };
        let mut buf = std::mem::take(&mut self.entries[slot].2);
        buf.clear();
        buf.resize(raw, 0);
        let n = match codec {
            Codec::Lz4 => lz4_flex::block::decompress_into(compressed, &mut buf)
                .map_err(|e| corrupt("text data", format!("block {i} does not decompress: {e}")))?,
            Codec::Zstd => {
                if self.zstd.is_none() {
                    self.zstd = zstd::bulk::Decompressor::new().ok();
                }
                let res = match self.zstd.as_mut() {
                    Some(d) => d.decompress_to_buffer(compressed, &mut buf[..]),
                    None => zstd::bulk::decompress_to_buffer(compressed, &mut buf[..]),
                };
                res.map_err(|e| {
                    corrupt("text data", format!("block {i} does not decompress: {e}"))
                })?
            }
        };
        if n != raw {
            return Err(corrupt(
                "text data",
                format!("block {i} decompressed to {n} bytes, expected {raw}"),
            ));
        }
        self.entries[slot] = (seg, i, buf);
        Ok(&self.entries[slot].2)
    }
}
