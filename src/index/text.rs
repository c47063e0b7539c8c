//! The stored text: the extracted text of every part that owns its text,
//! concatenated into one arena and cut into fixed-size blocks, each
//! compressed on its own ([`Codec`]), so that verifying a candidate decodes
//! one or two blocks.
//!
//! Writing ([`Arena`]) cuts blocks as text arrives; the builder compresses
//! full blocks in parallel ([`compress`], a pure function of the block and
//! the segment's dictionary) and writes them in order. Reading
//! ([`BlockCache`]) decodes blocks into buffers it keeps, with a reused
//! decompression context.
//!
//! The codec is recorded per segment. LZ4 is the default: on this project's
//! machine it decodes a block several times faster than zstd (the matcher
//! verifies candidates by decoding), and compresses faster; zstd gives a
//! smaller index. Blocks are 1 KiB, so that a verification decodes about
//! 1.0 KiB instead of 5.4 KiB with 8 KiB blocks (20,000 posts of the 1 GB
//! scale stream), and LZ4 blocks reach back
//! into a dictionary trained on the segment's first text
//! ([`train_dictionary`], `index::lz4`), which more than makes up what small
//! blocks lose: 0.576x of the text on the 1 GB scale dump, against 0.745x
//! for 8 KiB blocks and 0.894x for 1 KiB blocks alone. `examples/codec.rs`
//! measures the codecs on a folder.

use super::wire::{corrupt, Codec};
use super::IndexError;

/// Text blocks of this many bytes (the last one of a segment is shorter).
/// 1 KiB against 8 KiB, no dictionary, checkpoints every 1,024 bytes:
/// 133,600-138,300 against 116,600-121,400 unrelated posts/s and
/// 6,300-6,400 against 5,240-5,250 mixed ones on the 1 GB scale index,
/// first pass, one thread (BENCHMARKS.md "Small text blocks against a
/// dictionary").
pub const DEFAULT_BLOCK: u32 = 1 << 10;
/// Largest text block a reader accepts: bounds the buffer one forged block
/// record can make a reader allocate.
pub const MAX_BLOCK: u32 = 1 << 20;
/// zstd level of [`Codec::Zstd`] blocks.
pub const ZSTD_LEVEL: i32 = 1;

/// Text a segment's LZ4 dictionary is trained on: its first 2 MiB (the
/// first blocks, so that the dictionary is known before any block is
/// compressed, and is the same at every thread count). Trained on the
/// first 2 MiB of the first 100 MB of the 1 GB scale dump, it compresses
/// those 100 MB to 0.575x, one trained on a block in 16 of all of them
/// to 0.572x, one trained on 8 MiB to 0.572x; training takes 0.17 s
/// (`examples/dict_train`; BENCHMARKS.md "Small text blocks against a
/// dictionary").
pub const DICT_TRAIN_BYTES: usize = 2 << 20;
/// The dictionary is a 32nd of the text it is trained on, at most
/// [`MAX_DICT`](super::lz4::MAX_DICT): a segment with less text than
/// 32 times this gets none.
pub const MIN_DICT: usize = 4 << 10;

/// The dictionary for a segment whose text starts with `samples` (its
/// first blocks, up to [`DICT_TRAIN_BYTES`]): zstd's trainer picks the
/// strings that recur across them, and LZ4 uses the result as raw bytes
/// that precede every block. Empty when the samples are too few or the
/// trainer fails (the blocks are then plain LZ4).
///
/// The trainer is zstd's (`ZDICT_trainFromBuffer`, single-threaded and
/// deterministic); its output is part of the index format, so the `zstd`
/// crates are pinned (Cargo.toml) and the golden segments check it.
pub fn train_dictionary<S: AsRef<[u8]>>(samples: &[S]) -> Vec<u8> {
    let total: usize = samples.iter().map(|s| s.as_ref().len()).sum();
    let size = (total / 32).min(super::lz4::MAX_DICT);
    if size < MIN_DICT {
        return Vec::new();
    }
    zstd::dict::from_samples(samples, size).unwrap_or_default()
}

/// Compress one block (LZ4 blocks against `dict`).
///
/// # Errors
/// Only when zstd cannot allocate a context.
pub fn compress(
    codec: Codec,
    raw: &[u8],
    dict: &super::lz4::Lz4Dict,
    zstd: &mut Option<zstd::bulk::Compressor<'static>>,
) -> std::io::Result<Vec<u8>> {
    match codec {
        Codec::Lz4 => Ok(super::lz4::compress(raw, dict)),
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

/// Compress one block (LZ4 blocks against `dict`) and append it to `out`,
/// with a compression context and an LZ4 hash table kept across calls:
/// the bytes of [`compress`], without its allocations. Returns the
/// compressed length.
///
/// # Errors
/// Only when zstd cannot allocate a context.
pub fn compress_append(
    codec: Codec,
    raw: &[u8],
    dict: &super::lz4::Lz4Dict,
    zstd: &mut Option<zstd::bulk::Compressor<'static>>,
    table: &mut Vec<u32>,
    out: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let before = out.len();
    match codec {
        Codec::Lz4 => super::lz4::compress_with(raw, dict, out, table),
        Codec::Zstd => out.extend_from_slice(&compress(codec, raw, dict, zstd)?),
    }
    Ok(out.len() - before)
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
    /// Whether [`Arena::finish`] was called: no more text comes.
    pub finished: bool,
}

impl Arena {
    /// An empty arena cutting blocks of `block` bytes.
    pub fn new(block: u32) -> Arena {
        Arena {
            block,
            current: Vec::with_capacity(block as usize),
            pending: Vec::new(),
            len: 0,
            finished: false,
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
        self.finished = true;
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
///
/// LZ4 blocks are decoded lazily: only as far as a read needs, and a later
/// read that needs more resumes where the decoding stopped (LZ4 decodes
/// front to back, so a window in the first half of a block costs half a
/// block). zstd blocks are decoded whole.
pub struct BlockCache {
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    entries: Vec<Entry>,
    capacity: usize,
    next: usize,
    /// A window's raw bytes, reused from window to window
    /// (`Segment::window_into`).
    pub(crate) raw: Vec<u8>,
}

/// One cached block.
struct Entry {
    /// Segment id ([`u64::MAX`]: the slot holds nothing valid).
    seg: u64,
    /// Block number.
    block: u32,
    /// The block's decoded bytes so far, in a buffer of its whole length.
    buf: Vec<u8>,
    /// Bytes of `buf` decoded.
    decoded: usize,
    /// Where the decoding of the compressed block stopped.
    input_pos: usize,
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
            raw: Vec::new(),
        }
    }

    /// Bytes of decoded text the cache holds at most for blocks of
    /// `block` bytes.
    pub fn bytes_for(capacity: usize, block: u32) -> u64 {
        capacity.max(1) as u64 * u64::from(block)
    }

    /// The decoded block `i` of segment `seg`, from its start to at least
    /// byte `need` (or to its end, if shorter): from the cache, or decoded
    /// from `compressed` (raw length `raw`) with `codec` and the segment's
    /// LZ4 dictionary `dict` into a slot. A block decoded to its end is
    /// checked to be `raw` bytes long.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn get<'c>(
        &'c mut self,
        seg: u64,
        i: u32,
        codec: Codec,
        dict: &[u8],
        compressed: &[u8],
        raw: usize,
        need: usize,
    ) -> Result<&'c [u8], IndexError> {
        let need = need.min(raw);
        let slot = match self
            .entries
            .iter()
            .position(|e| e.seg == seg && e.block == i)
        {
            Some(at) if self.entries[at].decoded >= need => {
                let e = &self.entries[at];
                return Ok(&e.buf[..e.decoded]);
            }
            Some(at) => at,
            None => {
                let slot = if self.entries.len() < self.capacity {
                    self.entries.push(Entry {
                        seg: u64::MAX,
                        block: u32::MAX,
                        buf: Vec::new(),
                        decoded: 0,
                        input_pos: 0,
                    });
                    self.entries.len() - 1
                } else {
                    let s = self.next;
                    self.next = (self.next + 1) % self.capacity;
                    s
                };
                let e = &mut self.entries[slot];
                e.block = i;
                e.decoded = 0;
                e.input_pos = 0;
                // Bytes past `decoded` are never read: a buffer of the
                // right length is reused as it is, not zeroed again.
                if e.buf.len() != raw {
                    e.buf.resize(raw, 0);
                }
                slot
            }
        };
        let e = &mut self.entries[slot];
        // Invalidate first: if decoding fails the slot must not look valid.
        e.seg = u64::MAX;
        let bad =
            |why: String| corrupt("text data", format!("block {i} does not decompress: {why}"));
        match codec {
            Codec::Lz4 if need == raw && e.decoded == 0 && dict.is_empty() => {
                // The whole block at once: `lz4_flex` decodes it faster
                // than the resumable decoder below (1.4x, the ignored
                // `speed` test); the lengths must agree.
                let n = lz4_flex::block::decompress_into(compressed, &mut e.buf[..])
                    .map_err(|err| bad(err.to_string()))?;
                if n != raw {
                    return Err(corrupt(
                        "text data",
                        format!("block {i} decompressed to {n} bytes, expected {raw}"),
                    ));
                }
                e.decoded = raw;
                e.input_pos = compressed.len();
            }
            Codec::Lz4 => {
                // A read of the whole block decodes to the end of the
                // input, where the lengths are checked.
                let until = if need == raw { usize::MAX } else { need };
                // The compressed bytes the decoding will read, in
                // proportion to the bytes it must produce, plus a line.
                let from = e.input_pos.min(compressed.len());
                let upto = if need == raw {
                    compressed.len()
                } else {
                    ((need as u64 * compressed.len() as u64 / raw.max(1) as u64) as usize + 64)
                        .min(compressed.len())
                };
                prefetch(compressed.get(from..upto).unwrap_or(&[]));
                lz4_decode_until(
                    compressed,
                    dict,
                    &mut e.input_pos,
                    &mut e.buf,
                    &mut e.decoded,
                    until,
                )
                .map_err(|why| bad(why.to_string()))?;
                let at_end = e.input_pos == compressed.len();
                if (at_end && e.decoded != raw) || (!at_end && e.decoded >= raw) {
                    return Err(corrupt(
                        "text data",
                        format!("block {i} decompresses to other than {raw} bytes"),
                    ));
                }
            }
            Codec::Zstd => {
                if self.zstd.is_none() {
                    self.zstd = zstd::bulk::Decompressor::new().ok();
                }
                let res = match self.zstd.as_mut() {
                    Some(d) => d.decompress_to_buffer(compressed, &mut e.buf[..]),
                    None => zstd::bulk::decompress_to_buffer(compressed, &mut e.buf[..]),
                };
                let n = res.map_err(|err| bad(err.to_string()))?;
                if n != raw {
                    return Err(corrupt(
                        "text data",
                        format!("block {i} decompressed to {n} bytes, expected {raw}"),
                    ));
                }
                e.decoded = raw;
                e.input_pos = compressed.len();
            }
        }
        e.seg = seg;
        Ok(&e.buf[..e.decoded])
    }
}

/// Copy `len` bytes from `src` to `dst` in `out` in chunks of `C` bytes,
/// the last one whole (up to `C - 1` bytes past `dst + len` are written).
/// The caller ensures `C <= dst - src` and room for the last chunk.
#[inline(always)]
fn copy_chunks<const C: usize>(out: &mut [u8], src: usize, dst: usize, len: usize) {
    let mut k = 0;
    while k < len {
        let mut chunk = [0u8; C];
        chunk.copy_from_slice(&out[src + k..src + k + C]);
        out[dst + k..dst + k + C].copy_from_slice(&chunk);
        k += C;
    }
}

/// Decode the sequences of an LZ4 block (`lz4_flex::block` format), whose
/// matches may reach back into `dict` (the bytes before the block's start;
/// empty for blocks compressed without a dictionary), from
/// input position `*ip` into `out` at `*op`, until at least `need` bytes
/// are out or the input ends; both positions are advanced to the end of
/// the last whole sequence decoded, so that a later call resumes there.
/// `out` must be the block's whole length (bytes past `*op` may be
/// overwritten: copies of up to 16 bytes are done whole, then counted).
///
/// Safe code, every read and write checked: a corrupt block is an error,
/// never a panic.
pub fn lz4_decode_until(
    input: &[u8],
    dict: &[u8],
    ip: &mut usize,
    out: &mut [u8],
    op: &mut usize,
    need: usize,
) -> Result<(), &'static str> {
    let (mut i, mut o) = (*ip, *op);
    let (n, cap) = (input.len(), out.len());
    // An extended length: bytes of 255 add up until one that is not.
    fn extend(input: &[u8], i: &mut usize, len: &mut usize) -> Result<(), &'static str> {
        loop {
            let b = *input.get(*i).ok_or("length past the end of the block")?;
            *i += 1;
            *len += usize::from(b);
            if b != 255 {
                return Ok(());
            }
        }
    }
    while o < need && i < n {
        let token = input[i];
        i += 1;
        let mut lit = usize::from(token >> 4);
        if lit == 15 {
            extend(input, &mut i, &mut lit)?;
        }
        if lit <= 16 && i + 16 <= n && o + 16 <= cap {
            out[o..o + 16].copy_from_slice(&input[i..i + 16]);
        } else {
            if lit > n - i || lit > cap - o {
                return Err("literals past the end");
            }
            out[o..o + lit].copy_from_slice(&input[i..i + lit]);
        }
        i += lit;
        o += lit;
        if i == n {
            // The last sequence holds only literals.
            break;
        }
        if n - i < 2 {
            return Err("offset past the end of the block");
        }
        let off = usize::from(u16::from_le_bytes([input[i], input[i + 1]]));
        i += 2;
        let mut ml = usize::from(token & 15);
        if ml == 15 {
            extend(input, &mut i, &mut ml)?;
        }
        ml += 4;
        if off == 0 {
            return Err("match offset 0");
        }
        if ml > cap - o {
            return Err("match past the end of the block");
        }
        if off > o {
            // The match starts in the dictionary (which ends where the
            // block starts) and may go on into the block's own start.
            let back = off - o;
            if back > dict.len() {
                return Err("match offset outside the decoded text and the dictionary");
            }
            let from = dict.len() - back;
            let take = ml.min(back);
            if take <= 16 && from + 16 <= dict.len() && o + 16 <= cap {
                // Most are short: one chunk through a register, not a
                // call to `memcpy` (up to 15 bytes past the match are
                // written, then overwritten).
                let mut chunk = [0u8; 16];
                chunk.copy_from_slice(&dict[from..from + 16]);
                out[o..o + 16].copy_from_slice(&chunk);
            } else {
                out[o..o + take].copy_from_slice(&dict[from..from + take]);
            }
            // The rest, from the block's start (`off` back), byte by byte
            // where it overlaps what it writes.
            for k in 0..ml - take {
                out[o + take + k] = out[k];
            }
            o += ml;
            continue;
        }
        let src = o - off;
        // Whole chunks through a register (no call for short matches): a
        // chunk of `c <= off` bytes reads only bytes already written.
        if off >= 16 && ml + 15 <= cap - o {
            copy_chunks::<16>(out, src, o, ml);
        } else if off >= 8 && ml + 7 <= cap - o {
            copy_chunks::<8>(out, src, o, ml);
        } else if off >= ml {
            out.copy_within(src..src + ml, o);
        } else {
            // Overlapping: the match repeats the last `off` bytes.
            for k in 0..ml {
                out[o + k] = out[src + k];
            }
        }
        o += ml;
    }
    *ip = i;
    *op = o;
    Ok(())
}

/// Asks the processor to bring every cache line of `bytes` into its caches
/// without waiting for them: the lines of a compressed block are read by a
/// decoder whose every step depends on the one before, so without this they
/// arrive one miss at a time.
#[inline]
pub(crate) fn prefetch(bytes: &[u8]) {
    prefetch_slice(bytes);
}

/// [`prefetch`] for the items of any slice: every cache line they span.
#[inline]
pub(crate) fn prefetch_slice<T>(items: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = items.as_ptr().cast::<u8>();
        let len = std::mem::size_of_val(items);
        // A line every 64 bytes from the first, and the last byte's (the
        // slice need not start at a line).
        let last = len.checked_sub(1);
        for at in (0..len).step_by(64).chain(last) {
            // SAFETY: a prefetch is a hint: it reads nothing the program
            // sees and never faults, whatever the address; this one is
            // inside the slice's bytes (`at < len`). SSE, which the
            // intrinsic needs, is part of every x86_64 processor.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(at).cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = items;
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Text with repeats at every distance (short and long matches,
    /// overlapping ones from runs of one byte), and random bytes.
    pub(in crate::index) fn block_text() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(vec![
                        b"the ".to_vec(),
                        b"congress ".to_vec(),
                        b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
                        b"of the united states ".to_vec(),
                        b"ab".to_vec(),
                    ]),
                    proptest::collection::vec(any::<u8>(), 1..40),
                ],
                0..300,
            )
            .prop_map(|v| v.concat()),
            proptest::collection::vec(any::<u8>(), 0..3000),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Reads of growing (and repeated) lengths through one cache see
        /// exactly the prefixes of the block, against `lz4_flex`'s
        /// compressor; the whole block is the text.
        #[test]
        fn lazy_lz4_reads_are_prefixes(
            text in block_text(),
            other in block_text(),
            needs in proptest::collection::vec((0usize..4000, any::<bool>()), 0..6),
            slots in 1usize..3,
        ) {
            let comp = lz4_flex::block::compress(&text);
            let other_comp = lz4_flex::block::compress(&other);
            let mut cache = BlockCache::new(slots);
            for &(need, evict) in &needs {
                let got = cache.get(7, 3, Codec::Lz4, &[], &comp, text.len(), need).unwrap();
                prop_assert!(got.len() >= need.min(text.len()));
                prop_assert_eq!(got, &text[..got.len()]);
                if evict {
                    // Another block through the same slots (reused, not
                    // zeroed): what it left must not show.
                    let o = cache.get(7, 4, Codec::Lz4, &[], &other_comp, other.len(), need).unwrap();
                    prop_assert_eq!(o, &other[..o.len()]);
                }
            }
            let all = cache.get(7, 3, Codec::Lz4, &[], &comp, text.len(), text.len()).unwrap();
            prop_assert_eq!(all, &text[..]);
            // A fresh decoder, all at once.
            let (mut ip, mut op) = (0, 0);
            let mut out = vec![0; text.len()];
            lz4_decode_until(&comp, &[], &mut ip, &mut out, &mut op, usize::MAX).unwrap();
            prop_assert_eq!((ip, op), (comp.len(), text.len()));
            prop_assert_eq!(out, text);
        }

        /// With a dictionary: reads of growing lengths see the prefixes of
        /// the block, for blocks of `lz4_flex`'s dictionary compressor (the
        /// oracle encoder) and of ours (`index::lz4`), and a whole decode
        /// agrees with `lz4_flex`'s.
        #[test]
        fn lazy_reads_with_a_dictionary_are_prefixes(
            text in block_text(),
            dict in block_text(),
            needs in proptest::collection::vec(0usize..4000, 0..5),
            ours in any::<bool>(),
        ) {
            let d = super::super::lz4::Lz4Dict::new(&dict);
            let comp = if ours {
                super::super::lz4::compress(&text, &d)
            } else {
                lz4_flex::block::compress_with_dict(&text, d.bytes())
            };
            let mut cache = BlockCache::new(1);
            for &need in &needs {
                let got = cache.get(9, 0, Codec::Lz4, d.bytes(), &comp, text.len(), need).unwrap();
                prop_assert!(got.len() >= need.min(text.len()));
                prop_assert_eq!(got, &text[..got.len()]);
            }
            let all = cache.get(9, 0, Codec::Lz4, d.bytes(), &comp, text.len(), text.len()).unwrap();
            prop_assert_eq!(all, &text[..]);
        }

        /// A damaged block is an error or some bytes, never a panic; when
        /// it decodes whole, it decodes as `lz4_flex` decodes it.
        #[test]
        fn damaged_lz4_blocks_never_panic(
            text in block_text(),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
            cut in any::<bool>(),
            need in 0usize..4000,
        ) {
            let mut comp = lz4_flex::block::compress(&text);
            if comp.is_empty() {
                return Ok(());
            }
            for &(at, b) in &flips {
                let at = at % comp.len();
                comp[at] = b;
            }
            if cut {
                comp.truncate(comp.len() / 2);
            }
            let mut cache = BlockCache::new(1);
            let _ = cache.get(1, 0, Codec::Lz4, &[], &comp, text.len(), need);
            if let Ok(got) = cache.get(1, 0, Codec::Lz4, &[], &comp, text.len(), text.len()) {
                prop_assert_eq!(got.len(), text.len());
                let theirs = lz4_flex::block::decompress(&comp, text.len());
                if let Ok(theirs) = theirs {
                    prop_assert_eq!(got, &theirs[..]);
                }
            }
        }
    }

    /// A failed read leaves no valid-looking entry behind, and a block
    /// whose length disagrees with its record is an error once decoded to
    /// its end.
    #[test]
    fn a_failed_read_is_not_cached() {
        let text = b"the congress of the united states, the congress".repeat(40);
        let comp = lz4_flex::block::compress(&text);
        let mut cache = BlockCache::new(4);
        for raw in [text.len() + 1, text.len() - 1] {
            assert!(cache
                .get(1, 0, Codec::Lz4, &[], &comp, raw, usize::MAX)
                .is_err());
        }
        // A damaged copy fails; the same key read from the sound block
        // then decodes afresh.
        let mut bad = comp.clone();
        let last = bad.len() - 1;
        bad.truncate(last);
        assert!(cache
            .get(2, 0, Codec::Lz4, &[], &bad, text.len(), text.len())
            .is_err());
        let ok = cache
            .get(2, 0, Codec::Lz4, &[], &comp, text.len(), text.len())
            .unwrap();
        assert_eq!(ok, &text[..]);
    }
}

#[cfg(test)]
mod speed {
    use super::*;

    /// Hand-run: `cargo test --release --lib index::text::speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn lz4_decoders_side_by_side() {
        let mut text = Vec::new();
        for e in std::fs::read_dir("corpus/dump/docs").unwrap() {
            text.extend(std::fs::read(e.unwrap().path()).unwrap());
        }
        let blocks: Vec<(Vec<u8>, usize)> = text
            .chunks(8192)
            .map(|c| (lz4_flex::block::compress(c), c.len()))
            .collect();
        let mut out = vec![0u8; 8192];
        for round in 0..5 {
            let t = std::time::Instant::now();
            for (c, raw) in &blocks {
                let n = lz4_flex::block::decompress_into(c, &mut out[..*raw]).unwrap();
                assert_eq!(n, *raw);
            }
            let a = t.elapsed();
            let t = std::time::Instant::now();
            for (c, raw) in &blocks {
                let (mut ip, mut op) = (0, 0);
                lz4_decode_until(c, &[], &mut ip, &mut out[..*raw], &mut op, usize::MAX).unwrap();
                assert_eq!(op, *raw);
            }
            let b = t.elapsed();
            let t = std::time::Instant::now();
            for (c, raw) in &blocks {
                let (mut ip, mut op) = (0, 0);
                lz4_decode_until(c, &[], &mut ip, &mut out[..*raw], &mut op, raw / 2).unwrap();
            }
            let h = t.elapsed();
            let mb = text.len() as f64 / 1e6;
            println!(
                "round {round}: lz4_flex {:.0} MB/s, own {:.0} MB/s, own to mid-block {:.0} MB/s of blocks",
                mb / a.as_secs_f64(),
                mb / b.as_secs_f64(),
                mb / h.as_secs_f64()
            );
        }
    }
}
