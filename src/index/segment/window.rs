//! Reading a part's text: the windows the matcher verifies candidates
//! against (a normalized range of a part, read from the checkpoint at or
//! before it and normalized again), whole texts, and the prefetches that
//! let the reads of several candidates overlap.

use std::ops::Range;

use super::{try_partition_point, Segment};
use crate::index::text::{prefetch, BlockCache};
use crate::index::wire::*;
use crate::index::IndexError;
use crate::normalize::{self, Normalized};

impl Segment {
    /// Where the text of part `part` lies: that of the part itself, or of
    /// the earlier part of this segment it duplicates ([`Segment::text_owner`]),
    /// read from the records alone (a window read needs no name).
    fn text_layout(&self, part: u32) -> Result<TextLayout, IndexError> {
        let (mut rec, _, mut checkpoints) = self.part_checked(part)?;
        match rec.duplicate {
            Duplicate::None => {}
            Duplicate::Local(d) => (rec, _, checkpoints) = self.part_checked(d)?,
            Duplicate::External => {
                return Err(corrupt(
                    "parts",
                    format!("part {part}: its text is in another segment"),
                ))
            }
        }
        Ok(TextLayout {
            text_offset: rec.text_offset,
            text_len: rec.text_len,
            norm_len: rec.norm_len,
            checkpoints,
        })
    }

    /// Decompress bytes `range` of the text arena.
    ///
    /// # Errors
    /// When the range or a block is outside the arena, or a block does not
    /// decompress to its recorded size.
    pub fn arena(&self, range: Range<u64>) -> Result<Vec<u8>, IndexError> {
        self.arena_cached(range, &mut BlockCache::new(0))
    }

    /// [`Segment::arena`], keeping decoded blocks in `cache` for later calls.
    ///
    /// # Errors
    /// As [`Segment::arena`].
    pub fn arena_cached(
        &self,
        range: Range<u64>,
        cache: &mut BlockCache,
    ) -> Result<Vec<u8>, IndexError> {
        let mut out = Vec::new();
        self.arena_into(range, cache, &mut out)?;
        Ok(out)
    }

    /// [`Segment::arena_cached`] into `out` (cleared first).
    fn arena_into(
        &self,
        range: Range<u64>,
        cache: &mut BlockCache,
        out: &mut Vec<u8>,
    ) -> Result<(), IndexError> {
        out.clear();
        if range.start > range.end || range.end > self.meta.text_bytes {
            return Err(corrupt(
                "text blocks",
                format!("text range {range:?} outside the arena"),
            ));
        }
        let bs = u64::from(self.meta.block_size);
        out.reserve((range.end - range.start).min(4 * bs) as usize);
        if range.is_empty() {
            return Ok(());
        }
        for blk in range.start / bs..=(range.end - 1) / bs {
            let blk_start = blk * bs;
            // Decode the block only as far as the range needs.
            let need = (range.end - blk_start).min(bs) as usize;
            let buf = self.block(blk as u32, need, cache)?;
            let a = range.start.max(blk_start) - blk_start;
            let b = range.end.min(blk_start + buf.len() as u64) - blk_start;
            let piece = buf.get(a as usize..b as usize).ok_or_else(|| {
                corrupt(
                    "text blocks",
                    format!("block {blk} shorter than the arena says"),
                )
            })?;
            out.extend_from_slice(piece);
        }
        Ok(())
    }

    /// The bytes of the arena block `i` holds: `block_size`, but the last
    /// block holds the rest (0 past the arena's end).
    pub(crate) fn block_len(&self, i: u32) -> u64 {
        let bs = u64::from(self.meta.block_size);
        self.meta
            .text_bytes
            .saturating_sub(u64::from(i) * bs)
            .min(bs)
    }

    /// Text block `i`, decoded from its start to at least byte `need`,
    /// from the cache or decompressed into it.
    pub(super) fn block<'c>(
        &self,
        i: u32,
        need: usize,
        cache: &'c mut BlockCache,
    ) -> Result<&'c [u8], IndexError> {
        let rec: BlockRecord = self.record(&self.r.blocks, i, "text blocks")?;
        // (Checked here, not only by `verify`: a block shorter than its
        // share would shift every later byte of a read.)
        let want = self.block_len(i);
        if u64::from(rec.raw) != want {
            return Err(corrupt(
                "text blocks",
                format!(
                    "block {i} claims {} bytes where the arena has {want}",
                    rec.raw
                ),
            ));
        }
        let comp = rec
            .offset
            .checked_add(u64::from(rec.clen))
            .and_then(|end| {
                self.section(&self.r.text)
                    .get(rec.offset as usize..end as usize)
            })
            .ok_or_else(|| {
                corrupt(
                    "text data",
                    format!(
                        "block {i} at {}+{} outside the text data",
                        rec.offset, rec.clen
                    ),
                )
            })?;
        let dict = self.section(&self.r.dict);
        cache.get(
            self.id,
            i,
            self.meta.codec,
            dict,
            comp,
            rec.raw as usize,
            need,
        )
    }

    /// The part holding the text of part `part`: itself, or the earlier
    /// part of this segment it duplicates.
    ///
    /// # Errors
    /// When the records are corrupt, or the part's text is in another
    /// segment ([`Duplicate::External`]).
    pub fn text_owner(&self, part: u32) -> Result<u32, IndexError> {
        match self.part(part)?.duplicate {
            Duplicate::None => Ok(part),
            Duplicate::Local(d) => Ok(d),
            Duplicate::External => Err(corrupt(
                "parts",
                format!("part {part}: its text is in another segment"),
            )),
        }
    }

    /// The whole extracted text of a part that owns its text (or duplicates
    /// one of this segment).
    ///
    /// # Errors
    /// When the records or the text are corrupt.
    pub fn part_text(&self, part: u32) -> Result<String, IndexError> {
        let p = self.part(self.text_owner(part)?)?;
        let bytes = self.arena(p.text_offset..p.text_offset + p.text_len)?;
        String::from_utf8(bytes)
            .map_err(|_| corrupt("text data", format!("text of part {part} is not UTF-8")))
    }

    fn checkpoint(&self, i: u32) -> Result<Checkpoint, IndexError> {
        self.record(&self.r.ckpts, i, "checkpoints")
    }

    /// The text and normalization of a part around normalized range `norm`
    /// (clamped to the part), decompressing only the blocks needed.
    ///
    /// # Errors
    /// When the records or the text are corrupt.
    pub fn window(&self, part: u32, norm: Range<usize>) -> Result<TextWindow, IndexError> {
        self.window_cached(part, norm, &mut BlockCache::new(0))
    }

    /// [`Segment::window`], keeping decoded blocks in `cache`.
    ///
    /// The window is widened to whole normalized characters: positions come
    /// from k-gram hits and diagonals, which count bytes and may fall inside
    /// a multi-byte character.
    ///
    /// # Errors
    /// As [`Segment::window`].
    pub fn window_cached(
        &self,
        part: u32,
        norm: Range<usize>,
        cache: &mut BlockCache,
    ) -> Result<TextWindow, IndexError> {
        let mut w = TextWindow::default();
        self.window_into(part, norm, cache, &mut w)?;
        Ok(w)
    }

    /// [`Segment::window_cached`] into `out`, reusing its buffers (a
    /// matcher reads a window per candidate it verifies).
    ///
    /// # Errors
    /// As [`Segment::window`]; `out` then holds no valid window.
    pub fn window_into(
        &self,
        part: u32,
        norm: Range<usize>,
        cache: &mut BlockCache,
        out: &mut TextWindow,
    ) -> Result<(), IndexError> {
        let WindowPlan {
            text_offset,
            start,
            end_text,
            norm_start,
            norm_end,
        } = self.window_plan(part, norm)?;
        // The raw bytes go through the cache's scratch buffer.
        let mut raw = std::mem::take(&mut cache.raw);
        self.arena_into(
            text_offset + u64::from(start.text)..text_offset + end_text,
            cache,
            &mut raw,
        )?;
        // Validated with SIMD (`simdutf8`), then copied (a copy costs a
        // fraction of `std`'s validation, which took a tenth of matching
        // time on text in other scripts).
        out.text.clear();
        let valid = match simdutf8::basic::from_utf8(&raw) {
            Ok(t) => {
                out.text.push_str(t);
                true
            }
            Err(_) => false,
        };
        cache.raw = raw;
        if !valid {
            return Err(corrupt(
                "text data",
                "window is not UTF-8 (checkpoint inside a character)",
            ));
        }
        let text = &out.text;
        let normalized = &mut out.normalized;
        normalized.text.clear();
        normalized.offsets.clear();
        // Room for the normalization up front: it is rarely longer than
        // the text (decomposed Hangul is), and growing by doubling cost
        // reallocations on every window.
        normalized.text.reserve(text.len());
        normalized.offsets.reserve(text.len());
        // Only as far as the window reaches, and a char beyond (its end is
        // widened to a whole char below).
        normalize::normalize_into_until(
            text,
            start.text,
            &mut normalized.text,
            &mut normalized.offsets,
            (norm_end - start.norm as usize).saturating_add(4),
        );
        let t = &normalized.text;
        let b = (norm_end - start.norm as usize).min(t.len());
        let a = (norm_start - start.norm as usize).min(b);
        let a = crate::extract::floor_char_boundary(t, a);
        let b = ceil_char_boundary(t, b);
        // Cut in place, without new buffers.
        normalized.text.truncate(b);
        normalized.text.drain(..a);
        normalized.offsets.truncate(b);
        normalized.offsets.drain(..a);
        out.text_start = start.text as usize;
        out.norm_start = start.norm as usize + a;
        Ok(())
    }

    /// Where the text of a window lies (see [`Segment::window_into`]): the
    /// checkpoints around the normalized range `norm` of `part`.
    fn window_plan(&self, part: u32, norm: Range<usize>) -> Result<WindowPlan, IndexError> {
        let part = self.text_layout(part)?;
        let norm_end = norm.end.min(part.norm_len as usize);
        let norm_start = norm.start.min(norm_end);
        // Checkpoints: (normalized position, text offset), increasing; the
        // first is (0, 0). Find the last at or before norm_start and the
        // first at or after norm_end.
        let cks = part.checkpoints.clone();
        // Checkpoints are about evenly spaced (every CHECKPOINT_EVERY bytes
        // of text), so the search starts where norm_start falls in
        // proportion and gallops from there: one or two reads instead of a
        // binary search's dozen over a long part.
        let count = u64::from(cks.end - cks.start);
        let guess = cks.start
            + (norm_start as u64 * count / u64::from(part.norm_len.max(1)))
                .min(count.saturating_sub(1)) as u32;
        let lo = gallop(cks.clone(), guess, |i| {
            Ok(self.checkpoint(i)?.norm as usize <= norm_start)
        })?;
        let start = if lo > cks.start {
            self.checkpoint(lo - 1)?
        } else {
            Checkpoint { norm: 0, text: 0 }
        };
        let mut end_text = part.text_len;
        let mut j = lo;
        while j < cks.end {
            let c = self.checkpoint(j)?;
            if c.norm as usize >= norm_end {
                end_text = u64::from(c.text);
                break;
            }
            j += 1;
        }
        // The checkpoints read (from the one before `lo` to `j`) are at
        // most `checkpoint_span` bytes of text apart: a read between them
        // that is longer comes from forged records, and would be a read
        // (and an allocation) as large as they claim.
        if u64::from(start.text) > end_text
            || end_text > part.text_len
            || start.norm as usize > norm_start
        {
            return Err(corrupt(
                "checkpoints",
                format!(
                    "checkpoints of a part at text {} are not increasing",
                    part.text_offset
                ),
            ));
        }
        let first = lo.saturating_sub(1).max(cks.start);
        let most = u64::from((j - first).max(1)) * self.checkpoint_span();
        let span = end_text - u64::from(start.text);
        if span > most {
            return Err(corrupt(
                "checkpoints",
                format!(
                    "a part at text {} has {span} bytes of text between checkpoints {} apart (at most {most})",
                    part.text_offset,
                    j - first
                ),
            ));
        }
        Ok(WindowPlan {
            text_offset: part.text_offset,
            start,
            end_text,
            norm_start,
            norm_end,
        })
    }

    /// The first of two hints before a window of `part` around `norm` is
    /// read (by [`Segment::window_into`]): the processor is asked for the
    /// checkpoint and block records the read will need, as far as they can
    /// be told from the part's record alone. A matcher gives this hint for
    /// every candidate of a query, then [`Segment::prefetch_window_text`]
    /// for every one, then reads them: the cache misses of all its
    /// candidates overlap instead of coming one after another. (A window
    /// read of the mixed scale stream took 3.1 us on average, 1.7 us with
    /// its bytes in the caches; BENCHMARKS.md "Windows asked for ahead".) Never
    /// an error, and the read's result is the same: a corrupt record is
    /// found by the read.
    pub(crate) fn prefetch_window_records(&self, part: u32, norm: Range<usize>) {
        let Ok(p) = self.text_layout(part) else {
            return;
        };
        let norm_start = norm.start.min(p.norm_len as usize) as u64;
        let cks = p.checkpoints;
        let count = u64::from(cks.end - cks.start);
        if count > 0 {
            // The checkpoint the search starts from, and its neighbours.
            let guess = u64::from(cks.start)
                + (norm_start * count / u64::from(p.norm_len.max(1))).min(count - 1);
            let from = (guess.saturating_sub(1) as usize) * Checkpoint::LEN;
            let to = ((guess + 2).min(u64::from(cks.end)) as usize) * Checkpoint::LEN;
            prefetch(self.section(&self.r.ckpts).get(from..to).unwrap_or(&[]));
        }
        // The block record of the text where `norm_start` falls in
        // proportion, and of the blocks beside it.
        let bs = u64::from(self.meta.block_size.max(1));
        let at = p.text_offset
            + (u128::from(norm_start) * u128::from(p.text_len) / u128::from(p.norm_len.max(1)))
                as u64;
        let blk = at / bs;
        let from = (blk.saturating_sub(1) as usize).saturating_mul(BlockRecord::LEN);
        let to = ((blk + 2) as usize).saturating_mul(BlockRecord::LEN);
        let blocks = self.section(&self.r.blocks);
        prefetch(blocks.get(from..to.min(blocks.len())).unwrap_or(&[]));
    }

    /// The second hint (see [`Segment::prefetch_window_records`]): the
    /// compressed bytes the read of the window will decode, found through
    /// the records the first hint asked for.
    pub(crate) fn prefetch_window_text(&self, part: u32, norm: Range<usize>) {
        let Ok(plan) = self.window_plan(part, norm) else {
            return;
        };
        let range = plan.text_offset + u64::from(plan.start.text)..plan.text_offset + plan.end_text;
        if range.is_empty() || range.end > self.meta.text_bytes {
            return;
        }
        let bs = u64::from(self.meta.block_size.max(1));
        let text = self.section(&self.r.text);
        // A window of a long query (a whole file) may span many blocks: only
        // the first few are asked for, so that the hints of a post's
        // candidates stay within the second-level cache.
        let last = ((range.end - 1) / bs).min(range.start / bs + PREFETCH_BLOCKS - 1);
        for blk in range.start / bs..=last {
            let Ok(rec) = self.record::<BlockRecord>(&self.r.blocks, blk as u32, "text blocks")
            else {
                return;
            };
            // As far into the block as the read decodes, in proportion.
            let need = (range.end - blk * bs).min(u64::from(rec.raw));
            let bytes = (need * u64::from(rec.clen) / u64::from(rec.raw.max(1)) + 64)
                .min(u64::from(rec.clen));
            let from = rec.offset as usize;
            prefetch(
                text.get(from..from.saturating_add(bytes as usize))
                    .unwrap_or(&[]),
            );
        }
    }
}

/// Text blocks of one window at most that [`Segment::prefetch_window_text`]
/// asks for (a window of a post of a few hundred bytes spans a few).
const PREFETCH_BLOCKS: u64 = 8;

/// What a window read needs of a part's record ([`Segment::text_layout`]).
struct TextLayout {
    text_offset: u64,
    text_len: u64,
    norm_len: u32,
    checkpoints: Range<u32>,
}

/// Where the text of a window lies: the checkpoint at or before its start,
/// the text offset of the one at or after its end (or the part's end), and
/// the window's normalized range clamped to the part.
struct WindowPlan {
    /// The part's text in the segment's arena.
    text_offset: u64,
    start: Checkpoint,
    end_text: u64,
    norm_start: usize,
    norm_end: usize,
}

/// A window of a part's text, with its normalization.
#[derive(Debug, Default)]
pub struct TextWindow {
    /// Source text of the window.
    pub text: String,
    /// Byte offset of `text` in the part's text.
    pub text_start: usize,
    /// Normalized window; offsets are relative to the part's text.
    pub normalized: Normalized,
    /// Normalized position (in the part) of `normalized.text[0]`.
    pub norm_start: usize,
}

/// The smallest char boundary of `s` at or above `i` (`s.len()` past the end).
fn ceil_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The first index of `range` at which `le` is false, `le` being true on a
/// prefix of the range and false after it; searched from `guess` outwards
/// with doubling steps, then by halving. Costs O(log d) calls of `le`,
/// d being the distance from `guess` to the answer.
///
/// # Errors
/// The first error of `le`.
fn gallop(
    range: Range<u32>,
    guess: u32,
    le: impl Fn(u32) -> Result<bool, IndexError>,
) -> Result<u32, IndexError> {
    // The answer lies in lo..=hi.
    let (mut lo, mut hi) = (range.start, range.end);
    let g = guess.clamp(lo, hi);
    if g < hi && le(g)? {
        lo = g + 1;
        let mut step = 1u32;
        while let Some(p) = lo.checked_add(step - 1).filter(|&p| p < hi) {
            if le(p)? {
                lo = p + 1;
                step = step.saturating_mul(2);
            } else {
                hi = p;
                break;
            }
        }
    } else {
        hi = g;
        let mut step = 1u32;
        while let Some(p) = hi.checked_sub(step).filter(|&p| p >= lo) {
            if le(p)? {
                lo = p + 1;
                break;
            }
            hi = p;
            step = step.saturating_mul(2);
        }
    }
    // Both ends are u32, and so is every index between them.
    try_partition_point(lo as usize..hi as usize, |i| le(i as u32)).map(|i| i as u32)
}

#[cfg(test)]
mod prefetch_tests {
    use super::Duplicate;
    use crate::index::{Index, IndexBuilder};
    use proptest::prelude::*;

    /// Three parts: a long one (many text blocks and checkpoints), a short
    /// one, and one of a file whose bytes differ (a UTF-8 byte order mark
    /// first) and whose text is the same: a duplicate, its text stored
    /// with the short one's.
    fn index() -> &'static Index {
        static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
        INDEX.get_or_init(|| {
            let long: String = (0..4000u32)
                .map(|i| format!("word{} ", i.wrapping_mul(2_654_435_761) % 997))
                .collect();
            let short = "a short text of a few words, stored once";
            let marked = format!("\u{feff}{short}");
            let bytes = IndexBuilder::new()
                .threads(1)
                .build()
                .unwrap()
                .segment_from_texts(&[("long.txt", &long), ("a.txt", short), ("b.txt", &marked)])
                .unwrap();
            let index = Index::from_bytes(bytes).unwrap();
            assert_eq!(
                index.segments()[0].part(2).unwrap().duplicate,
                Duplicate::Local(1),
                "the third part is a duplicate of the second"
            );
            index
        })
    }

    proptest! {
        /// The hints take any part and any range, the parts and the ranges
        /// no read would ask for too, without a panic (an overflow is one
        /// in the test build). (The read after them is compared with the
        /// read without them as a check of the test's own reads: the hints
        /// take `&self` and change no state. Forged segments reach the
        /// hints through the matcher in `tests/reliability.rs`.)
        #[test]
        fn hints_take_any_window_and_change_no_read(
            part in 0u32..5,
            start in prop_oneof![0usize..40_000, Just(usize::MAX / 2), Just(usize::MAX)],
            len in prop_oneof![0usize..3_000, Just(usize::MAX)],
        ) {
            let seg = &index().segments()[0];
            let norm = start..start.saturating_add(len);
            let plain = seg.window(part, norm.clone()).map(|w| (w.text, w.text_start, w.norm_start));
            seg.prefetch_window_records(part, norm.clone());
            seg.prefetch_window_text(part, norm.clone());
            let hinted = seg.window(part, norm).map(|w| (w.text, w.text_start, w.norm_start));
            prop_assert_eq!(plain.is_ok(), hinted.is_ok());
            if let (Ok(a), Ok(b)) = (plain, hinted) {
                prop_assert_eq!(a, b);
            }
        }
    }
}

#[cfg(test)]
mod gallop_tests {
    use super::gallop;
    use proptest::prelude::*;

    proptest! {
        /// The same answer as a linear scan (the oracle), from any guess,
        /// inside or outside the range, and no probe outside the range.
        #[test]
        fn gallop_finds_the_first_false(
            start in 0u32..50,
            len in 0u32..300,
            cut in 0u32..301,
            guess in 0u32..400,
        ) {
            let end = start + len;
            let first_false = start + cut.min(len);
            let le = |i: u32| {
                assert!(i >= start && i < end, "probe {i} outside {start}..{end}");
                Ok(i < first_false)
            };
            let naive = (start..end).find(|&i| i >= first_false).unwrap_or(end);
            prop_assert_eq!(gallop(start..end, guess, le).unwrap(), naive);
        }
    }
}
