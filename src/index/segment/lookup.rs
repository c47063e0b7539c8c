//! Lookups in a segment: a key's bucket in the fingerprint directory, its
//! postings (with their contexts), and the part holding a posting's
//! position ([`PartBases`]).

use super::Segment;
use crate::index::wire::*;
use std::ops::Range;

impl Segment {
    /// Where the postings of `key` are: its bucket's records and the
    /// fragment that tells its own records apart. Reads one directory
    /// entry.
    pub fn bucket(&self, key: u64) -> Bucket {
        let bits = self.meta.dir_bits;
        let bucket = bucket_of(key, bits);
        let dir = self.section(&self.r.dir);
        let entry = |i: usize| {
            dir.get(i * 4..i * 4 + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])) as usize
        };
        let len = self.r.postings.len();
        let lo = entry(bucket).saturating_mul(self.posting_len).min(len);
        let hi = entry(bucket + 1)
            .saturating_mul(self.posting_len)
            .min(len)
            .max(lo);
        Bucket {
            lo,
            hi,
            frag: fragment(key, bits),
        }
    }

    /// [`Segment::bucket`] for many keys at once, appended to `out`, and
    /// every cache line of each bucket's records read. The reads of
    /// different keys do not depend on each other, so in this tight loop
    /// the processor overlaps their cache misses (on a large index each
    /// lookup is two misses, directory and records, that would otherwise
    /// be paid one after the other).
    pub fn buckets(&self, keys: &[u64], out: &mut Vec<Bucket>) {
        let start = out.len();
        out.extend(keys.iter().map(|&k| self.bucket(k)));
        let p = self.section(&self.r.postings);
        // Every cache line of a bucket's records (a bucket of 15 postings
        // of 8 bytes spans two or three): the scan that follows reads
        // them all until it passes the key's fragment.
        let base = p.as_ptr() as usize;
        let mut touched = 0u8;
        for b in &out[start..] {
            let mut at = b.lo;
            while at < b.hi {
                touched ^= p[at];
                at = ((base + at) | 63) + 1 - base;
            }
        }
        std::hint::black_box(touched);
    }

    /// The postings in a bucket found by [`Segment::bucket`] on this segment.
    pub fn postings_of(&self, b: Bucket) -> Postings<'_> {
        let p = self.section(&self.r.postings);
        let hi = b.hi.min(p.len());
        let lo = b.lo.min(hi);
        Postings {
            recs: &p[lo..hi],
            frag: b.frag,
            len: self.posting_len,
        }
    }

    /// What this segment's postings keep of their k-grams' context
    /// (see [`Postings::next_with_context`]).
    pub fn context_width(&self) -> ContextWidth {
        Posting::context_in(self.layout.header.version)
    }

    /// The global normalized positions of `key` in this segment.
    pub fn postings(&self, key: u64) -> Postings<'_> {
        self.postings_of(self.bucket(key))
    }

    /// The keys found in at least `common_min_docs` parts of this segment,
    /// with their part counts, sorted by key.
    pub fn frequent(&self) -> impl Iterator<Item = Frequent> + '_ {
        self.section(&self.r.frequent)
            .chunks_exact(Frequent::LEN)
            .filter_map(Frequent::decode)
    }

    /// The normalized positions of part `i` (`norm_base..norm_base +
    /// norm_len`; empty for a part with no text of its own).
    pub fn part_span(&self, i: u32) -> Option<Range<u32>> {
        let start = (i as usize).checked_mul(PartRecord::LEN)?;
        let b = self
            .section(&self.r.parts)
            .get(start..start.checked_add(PartRecord::LEN)?)?;
        let r = PartRecord::decode(b)?;
        Some(r.norm_base..r.norm_base.saturating_add(r.norm_len))
    }

    /// The table [`Segment::locate_part`] searches, built on first use.
    fn part_bases(&self) -> &PartBases {
        self.bases.get_or_init(|| {
            let parts = self.section(&self.r.parts);
            PartBases::new(
                parts
                    .chunks_exact(PartRecord::LEN)
                    .enumerate()
                    .filter_map(|(i, b)| {
                        let r = PartRecord::decode(b)?;
                        (r.norm_len > 0).then(|| PartBase {
                            base: r.norm_base,
                            part: i as u32,
                            key: text_key(&r.text_hash),
                        })
                    })
                    .collect(),
            )
        })
    }

    /// The part holding global normalized position `pos`, and the offset in it.
    pub fn locate(&self, pos: u32) -> Option<(u32, u32)> {
        self.locate_part(pos)
            .map(|(part, base, _)| (part, pos - base))
    }

    /// The part holding global normalized position `pos`, its first global
    /// position and the end of its positions (exclusive).
    pub fn locate_part(&self, pos: u32) -> Option<(u32, u32, u64)> {
        self.locate_keyed(pos).map(|l| (l.part, l.base, l.end))
    }

    /// [`Segment::locate_part`], with the part's text key: the first 8
    /// bytes of the blake3 of its text as a big-endian integer, the
    /// matcher's layout-independent order of candidates. The key lies in
    /// the entry the search ends on, so it costs no read of its own: kept
    /// in a table of its own, indexed by part, it was a cache miss for
    /// each of the 30 candidates a post of the scale stream ranks.
    pub(crate) fn locate_keyed(&self, pos: u32) -> Option<Located> {
        let bases = self.part_bases();
        // Last part starting at or before pos.
        let i = bases.count_at_or_before(pos).checked_sub(1)?;
        let bases = &bases.bases;
        let PartBase { base, part, key } = bases[i];
        // Parts with text tile the normalized space (checked by `verify`):
        // a part ends where the next begins.
        let end = bases
            .get(i + 1)
            .map_or(self.meta.norm_bytes, |b| u64::from(b.base));
        pos.checked_sub(base)?;
        (u64::from(pos) < end).then_some(Located {
            part,
            base,
            end,
            key,
        })
    }

    /// Asks the processor for what [`Segment::locate_keyed`] of `pos`
    /// reads first, without waiting: its entry of the coarse index.
    #[inline]
    pub(crate) fn prefetch_locate_index(&self, pos: u32) {
        let b = self.part_bases();
        let j = (u64::from(pos) >> b.shift) as usize;
        crate::index::text::prefetch_slice(
            b.starts.get(j..).map_or(&[][..], |s| &s[..s.len().min(2)]),
        );
    }

    /// Asks the processor for what [`Segment::locate_keyed`] of `pos`
    /// reads next (its coarse index entry read, so best once
    /// [`Segment::prefetch_locate_index`] of it has had time to arrive):
    /// the entries of the parts starting in its stretch, and the next.
    #[inline]
    pub(crate) fn prefetch_locate_parts(&self, pos: u32) {
        let b = self.part_bases();
        let j = (u64::from(pos) >> b.shift) as usize;
        let Some(&lo) = b.starts.get(j) else {
            return;
        };
        let hi = b.starts.get(j + 1).map_or(b.bases.len(), |&h| h as usize);
        // (The search reads the last entry before the stretch too, when
        // none starts in it, and the entry after the part found; a stretch
        // holds about one part, but at most 16 entries, five lines, are
        // asked for.)
        let lo = (lo as usize).saturating_sub(1);
        let hi = (hi + 1).min(b.bases.len()).min(lo + 16).max(lo);
        crate::index::text::prefetch_slice(b.bases.get(lo..hi).unwrap_or(&[]));
    }
}

/// A part found by [`Segment::locate_keyed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    /// The part's number in its segment.
    pub(crate) part: u32,
    /// Its first global normalized position.
    pub(crate) base: u32,
    /// The end of its positions (exclusive).
    pub(crate) end: u64,
    /// Its text key (see [`Segment::locate_keyed`]).
    pub(crate) key: u64,
}

/// The first 8 bytes of a text hash as a big-endian integer.
fn text_key(h: &[u8; 16]) -> u64 {
    u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

/// A part with normalized text, as [`PartBases`] keeps it: 16 bytes, so
/// that a cache line holds four and the text key comes with the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PartBase {
    /// First global normalized position.
    pub(super) base: u32,
    /// The part's number.
    pub(super) part: u32,
    /// Its text key ([`Segment::locate_keyed`]).
    pub(super) key: u64,
}

/// Every part with normalized text ([`PartBase`]: first global
/// position, number, text key), in position order, 16 bytes a part in one
/// array, with a coarse index over it: `starts[j]` is the number of parts
/// starting before `j << shift`, with about one part per `2^shift`
/// positions. A posting's part is then found among the few parts starting
/// in its stretch of `2^shift` positions, where a binary search over all
/// of them made 16 dependent reads for every posting (2.6% of the time of
/// unrelated posts against the 1 GB scale index, perf at format 5).
#[derive(Debug)]
pub(super) struct PartBases {
    bases: Vec<PartBase>,
    starts: Vec<u32>,
    shift: u32,
}

impl PartBases {
    fn new(mut bases: Vec<PartBase>) -> PartBases {
        // (Collected from the parts with text: no spare capacity kept.)
        bases.shrink_to_fit();
        let end = bases.last().map_or(0, |b| u64::from(b.base)) + 1;
        // Stretches of a power of two positions, at most as many as the
        // mean part holds and more than half as many.
        let per_part = end / bases.len().max(1) as u64;
        let shift = 64 - per_part.max(1).leading_zeros() - 1;
        let stretches = (end >> shift) as usize + 2;
        let mut starts = Vec::with_capacity(stretches);
        let mut i = 0usize;
        for j in 0..stretches as u64 {
            let from = j << shift;
            while i < bases.len() && u64::from(bases[i].base) < from {
                i += 1;
            }
            starts.push(i as u32);
        }
        PartBases {
            bases,
            starts,
            shift,
        }
    }

    /// The number of parts starting at or before `pos`.
    #[inline]
    fn count_at_or_before(&self, pos: u32) -> usize {
        let j = (u64::from(pos) >> self.shift) as usize;
        let Some(&lo) = self.starts.get(j) else {
            return self.bases.len();
        };
        let hi = self
            .starts
            .get(j + 1)
            .map_or(self.bases.len(), |&h| h as usize);
        let lo = lo as usize;
        lo + self.bases[lo..hi].partition_point(|b| b.base <= pos)
    }
}

/// Where one key's postings are in a segment: see [`Segment::bucket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Byte range of the bucket's records in the postings section.
    lo: usize,
    hi: usize,
    /// The key's fragment (the bits below the bucket number).
    frag: u16,
}

/// The postings of one key in one segment: global normalized positions.
#[derive(Debug, Clone)]
pub struct Postings<'a> {
    recs: &'a [u8],
    frag: u16,
    /// Bytes of one record (by format version).
    len: usize,
}

impl Postings<'_> {
    /// The next posting's position and context (`fingerprint::context`;
    /// in a segment of format 6 `fingerprint::context_v6`, of format 5
    /// `fingerprint::context_v5`, of format 3 or
    /// 4 its `fingerprint::narrow_context`; 0 in a segment without them:
    /// see [`Segment::context_width`]).
    #[inline]
    pub fn next_with_context(&mut self) -> Option<(u32, u16)> {
        // One loop per record length, each over fixed-size records: with
        // the length known at compile time the scan has no bounds checks
        // (a loop over a run-time length made the OCR path, millions of
        // look-ups, 24% slower).
        match self.len {
            Posting::LEN => self.scan::<{ Posting::LEN }>(),
            POSTING_V3_LEN => self.scan::<POSTING_V3_LEN>(),
            _ => self.scan::<POSTING_V2_LEN>(),
        }
    }

    /// [`Postings::next_with_context`] over records of `N` bytes: fragment,
    /// position, then (format 3 on) the context, of `N - 6` bytes.
    #[inline(always)]
    fn scan<const N: usize>(&mut self) -> Option<(u32, u16)> {
        while let Some((rec, rest)) = self.recs.split_first_chunk::<N>() {
            self.recs = rest;
            let f = u16::from_le_bytes([rec[0], rec[1]]);
            if f == self.frag {
                let pos = u32::from_le_bytes([rec[2], rec[3], rec[4], rec[5]]);
                let ctx = match N {
                    8 => u16::from_le_bytes([rec[6], rec[N - 1]]),
                    7 => u16::from(rec[N - 1]),
                    _ => 0,
                };
                return Some((pos, ctx));
            }
            if f > self.frag {
                // Sorted by fragment within the bucket: no more matches.
                self.recs = &[];
            }
        }
        None
    }
}

impl Iterator for Postings<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        self.next_with_context().map(|(pos, _)| pos)
    }
}

#[cfg(test)]
mod part_bases_tests {
    use super::{PartBase, PartBases};
    use proptest::prelude::*;

    proptest! {
        /// The same count as a binary search over every part (the oracle),
        /// for parts of any sizes (empty stretches, many parts in one
        /// stretch, one huge part) and positions before, inside and past
        /// them.
        #[test]
        fn count_is_the_partition_point(
            gaps in proptest::collection::vec(prop_oneof![1u32..4, 1u32..300, 1u32..100_000], 0..200),
            first in 0u32..1000,
            probes in proptest::collection::vec(any::<u32>(), 0..100),
        ) {
            let mut at = first;
            let bases: Vec<PartBase> = gaps
                .iter()
                .enumerate()
                .map(|(i, &g)| {
                    let b = PartBase { base: at, part: i as u32, key: u64::from(g) };
                    at = at.saturating_add(g);
                    b
                })
                .collect();
            let p = PartBases::new(bases.clone());
            let near = bases.iter().flat_map(|b| [b.base.saturating_sub(1), b.base, b.base + 1]);
            for pos in probes.into_iter().chain(near).chain([0, at, u32::MAX]) {
                let naive = bases.partition_point(|b| b.base <= pos);
                prop_assert_eq!(p.count_at_or_before(pos), naive, "pos {}", pos);
            }
        }
    }
}
