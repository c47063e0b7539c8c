//! Step 2 of [`super`]: the postings a query's keys found, located in
//! their parts and chained by diagonal into candidates ([`Pool`]), and
//! the order in which candidates are verified ([`rank`], [`keep_best`]),
//! and the query stretches a match already explains ([`Explained`]).

use std::ops::Range;

use crate::index::live::Liveness;
use crate::index::segment::{Located, Segment};
use crate::index::wire::ContextWidth;

/// A posting found for a query k-gram in one segment, packed into one
/// integer whose order is (global diagonal, query position, context
/// agreement): the global diagonal is the posting's position in the
/// segment's normalized text less the query position, biased by 2^32 to
/// stay positive (33 bits), above 30 bits of query position and the bit.
/// A query is seeded over its first [`Found::MAX_QPOS`] + 1 normalized
/// bytes (a query is cut at `max_query_bytes`, at most 2^30 bytes, but
/// normalization may lengthen a few chars).
///
/// 64 bits, not 128 with the segment: the postings are kept per segment
/// ([`Pool::found`]). Sorting a post's few hundred was 12% of the time of
/// the stream's posts with one match as 128-bit integers; in 64 bits
/// those posts ran 1.09x as fast (BENCHMARKS.md "Postings in 64 bits").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Found(u64);

impl Found {
    const BIAS: i64 = 1 << 32;
    /// Bits of the query position.
    const QPOS_BITS: u32 = 30;
    /// The last query position a posting can be found for.
    pub(super) const MAX_QPOS: u32 = (1 << Found::QPOS_BITS) - 1;
    /// Where the diagonal starts: above the query position and the bit.
    const DIAG_SHIFT: u32 = Found::QPOS_BITS + 1;

    pub(super) fn new(qpos: u32, pos: u32, agrees: bool) -> Found {
        debug_assert!(qpos <= Found::MAX_QPOS);
        // In 2^32 - 2^30 + 1 .. 2^33: 33 bits, above the other 31.
        let diag = (i64::from(pos) - i64::from(qpos) + Found::BIAS) as u64;
        Found(diag << Found::DIAG_SHIFT | u64::from(qpos) << 1 | u64::from(agrees))
    }

    /// Whether `other` (of the same segment) has its global diagonal at
    /// most `band` from this one's.
    pub(super) fn near(self, other: Found, band: i64) -> bool {
        (self.0 >> Found::DIAG_SHIFT).abs_diff(other.0 >> Found::DIAG_SHIFT) <= band as u64
    }

    /// (query position, global position, context agreement).
    pub(super) fn unpack(self) -> (u32, u32, bool) {
        let qpos = (self.0 >> 1) as u32 & Found::MAX_QPOS;
        let diag = (self.0 >> Found::DIAG_SHIFT) as i64 - Found::BIAS;
        (qpos, (diag + i64::from(qpos)) as u32, self.0 & 1 == 1)
    }
}

/// The part a posting was last located in, to locate the next posting of
/// the same part without a lookup.
#[derive(Default)]
struct PartAt {
    /// Segment, the part, whether a live file holds it.
    pub(super) last: Option<(u32, Located, bool)>,
}

impl PartAt {
    /// The hit of posting `f` of segment `si`; none when it is in no part,
    /// or in a text no live file references any more (superseded, removed).
    pub(super) fn hit(
        &mut self,
        segs: &[Segment],
        live: &Liveness,
        si: u32,
        f: Found,
        tolerant: bool,
    ) -> Option<Hit> {
        let (qpos, pos, agrees) = f.unpack();
        let (at, live_text) = match self.last {
            Some((s0, at, l)) if s0 == si && at.base <= pos && u64::from(pos) < at.end => (at, l),
            _ => {
                let at = segs[si as usize].locate_keyed(pos)?;
                let l = live.text_live(si as usize, at.part);
                self.last = Some((si, at, l));
                (at, l)
            }
        };
        live_text.then_some(Hit {
            seg: si,
            part: at.part,
            diag: i64::from(pos - at.base) - i64::from(qpos),
            qpos,
            // (OCR text's lone hits are all verified: see `Pool::candidates`.)
            ctx_agrees: tolerant || agrees,
            text_key: at.key,
        })
    }
}

/// Asks the processor for what locating the parts of `found` (postings of
/// `seg`) reads, in two rounds: the coarse index entries, then the part
/// entries they point to (see [`Segment::prefetch_locate_parts`]).
fn prefetch_locate(seg: &Segment, found: impl Iterator<Item = Found> + Clone) {
    for f in found.clone() {
        seg.prefetch_locate_index(f.unpack().1);
    }
    for f in found {
        seg.prefetch_locate_parts(f.unpack().1);
    }
}

/// One fingerprint hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Hit {
    pub(super) seg: u32,
    pub(super) part: u32,
    pub(super) diag: i64,
    pub(super) qpos: u32,
    /// The k-gram's context agrees with the posting's on at least one side
    /// (`fingerprint::context_agrees`), or the segment keeps no context.
    pub(super) ctx_agrees: bool,
    /// The part's text key (`Segment::locate_keyed`; one per part, so it
    /// changes no order of hits).
    pub(super) text_key: u64,
}

/// A chain of hits on neighbouring diagonals of one part.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    pub(super) seg: u32,
    pub(super) part: u32,
    pub(super) d_lo: i64,
    pub(super) d_hi: i64,
    pub(super) hits: u32,
    /// Where its hits start in the query's hits (`hits` of them: those of
    /// a chain are sorted, those of a lone posting located later are
    /// appended after them).
    pub(super) first_hit: u32,
    pub(super) q_lo: u32,
    pub(super) q_hi: u32,
    /// Some hit's context agrees (see [`Hit`]).
    pub(super) ctx_agrees: bool,
    /// Verified only as a second piece: a candidate of several hits in a
    /// segment of format 7 whose every hit's context disagrees, none of
    /// them of a key the rule leaves out (see [`Pool::candidates`]).
    pub(super) second_only: bool,
    /// The first 8 bytes of the blake3 of the part's text, as a
    /// big-endian integer (the ranking's layout-independent tie-break;
    /// `Segment::locate_keyed`), found with the part. (Two texts whose
    /// hashes share their first 64 bits, which any two of n texts do with
    /// a chance of about n^2 / 2^65, are ordered as two copies of one
    /// text are: by diagonal, then by index order, which depends on how
    /// the dump was cut into segments. It was the first 16 bytes until
    /// December 2026, read from each candidate's part record.)
    pub(super) text_hash: u64,
}

impl Candidate {
    /// The candidate of hit `h`, the `i`-th of the query's hits, alone.
    pub(super) fn of(h: &Hit, i: usize) -> Candidate {
        Candidate {
            seg: h.seg,
            part: h.part,
            d_lo: h.diag,
            d_hi: h.diag,
            hits: 1,
            first_hit: i as u32,
            q_lo: h.qpos,
            q_hi: h.qpos,
            ctx_agrees: h.ctx_agrees,
            second_only: false,
            text_hash: h.text_key,
        }
    }

    /// Extends the chain with hit `h`, next on its diagonals.
    pub(super) fn absorb(&mut self, h: &Hit) {
        self.d_hi = h.diag;
        self.hits += 1;
        self.q_lo = self.q_lo.min(h.qpos);
        self.q_hi = self.q_hi.max(h.qpos);
        self.ctx_agrees |= h.ctx_agrees;
    }

    /// The order of the sorted hits, by each candidate's first.
    pub(super) fn hit_order(&self) -> (u32, u32, i64, u32) {
        (self.seg, self.part, self.d_lo, self.q_lo)
    }
}

/// The postings a query finds, and the hits and candidates made of them
/// ([`Pool::candidates`]).
#[derive(Default)]
pub(super) struct Pool {
    /// Postings found, segment by segment, packed by [`Found`] so that
    /// they sort by global diagonal.
    pub(super) found: Vec<Vec<Found>>,
    /// Those with no other near their diagonal, not located unless needed,
    /// with their segment.
    pub(super) lone: Vec<(u32, Found)>,
    /// How many postings each segment had before the key being looked up.
    marks: Vec<usize>,
    pub(super) hits: Vec<Hit>,
    pub(super) cands: Vec<Candidate>,
    /// Lone hits on window minima, whatever their context, and the chains
    /// the cap cuts: verified as second pieces of a part the query matched
    /// (lone hits that are also candidates the cap keeps are dropped from
    /// it there).
    pub(super) unverified: Vec<Candidate>,
}

impl Pool {
    /// No postings, for an index of `segments` segments.
    pub(super) fn clear_found(&mut self, segments: usize) {
        self.found.resize_with(segments, Vec::new);
        self.found.truncate(segments);
        self.found.iter_mut().for_each(Vec::clear);
    }

    /// Remember where each segment's postings end ([`Pool::back_to_mark`]).
    pub(super) fn mark(&mut self) {
        self.marks.clear();
        self.marks.extend(self.found.iter().map(Vec::len));
    }

    /// Drop the postings found since [`Pool::mark`].
    pub(super) fn back_to_mark(&mut self) {
        for (f, &m) in self.found.iter_mut().zip(&self.marks) {
            f.truncate(m);
        }
    }

    /// The candidates of the postings in `found` (of `segs`, with `live`
    /// saying which texts count), best first and at most `cap`, in
    /// `cands`; their hits in `hits`; the lone hits and the chains the cap
    /// cuts, which only second pieces may verify, in `unverified`, and
    /// with them the postings set aside in `lone`
    /// ([`Pool::lone_of_sources`]).
    pub(super) fn candidates(
        &mut self,
        segs: &[Segment],
        live: &Liveness,
        (minima, exempt): (&[bool], &[bool]),
        band: i64,
        cap: usize,
        tolerant: bool,
    ) {
        // The hits, sorted by segment, part, diagonal and query position. The
        // postings are sorted, segment by segment, by global diagonal
        // (position in the segment's text less position in the query)
        // instead, a sort of plain integers: within a part that is the same
        // order, and the hits of one part on neighbouring diagonals come one
        // after the other, so that the part is located once for all of them
        // rather than once a posting. Parts follow one another in that order
        // too, but where a diagonal of one part passes one of the next
        // (within the query's length of their border); the hits are sorted
        // again then.
        self.hits.clear();
        let mut at = PartAt::default();
        let mut sorted = true;
        self.lone.clear();
        for (si, found) in self.found.iter_mut().enumerate() {
            let si = si as u32;
            found.sort_unstable();
            let found = &found[..];
            // A posting with no other within the band of its diagonal is a
            // candidate of one hit wherever it lies (two hits of one part on
            // neighbouring diagonals are neighbours here). Those are set
            // aside, not located: most are cut by the cap on candidates below
            // (hundreds a post where a quoted sentence is in many texts).
            // (OCR text keeps them all, and dedups its hits first.)
            let lone = |i: usize| {
                let near = |j: usize| found.get(j).is_some_and(|g| found[i].near(*g, band));
                !tolerant && !near(i.wrapping_sub(1)) && !near(i + 1)
            };
            // The parts of the others are located in passes, as the keys
            // were looked up: every one's coarse index entry asked for, then
            // its part entries, then read, so that their cache misses
            // overlap instead of coming one after the other.
            prefetch_locate(
                &segs[si as usize],
                (0..found.len()).filter(|&i| !lone(i)).map(|i| found[i]),
            );
            for (i, f) in found.iter().enumerate() {
                if lone(i) {
                    self.lone.push((si, *f));
                    continue;
                }
                if let Some(h) = at.hit(segs, live, si, *f, tolerant) {
                    sorted &= self.hits.last().is_none_or(|last| *last <= h);
                    self.hits.push(h);
                }
            }
        }
        if tolerant {
            // One source k-gram found from several query positions (the exact
            // k-gram and edits of its neighbours, or two edits) is one hit.
            self.hits
                .sort_unstable_by_key(|h| (h.seg, h.part, h.diag + i64::from(h.qpos), h.qpos));
            self.hits
                .dedup_by_key(|h| (h.seg, h.part, h.diag + i64::from(h.qpos)));
            self.hits.sort_unstable();
        } else if !sorted {
            self.hits.sort_unstable();
        }
        // Candidates: chains of hits on neighbouring diagonals.
        self.cands.clear();
        let mut cur: Option<Candidate> = None;
        for (i, h) in self.hits.iter().enumerate() {
            match &mut cur {
                Some(c) if c.seg == h.seg && c.part == h.part && h.diag - c.d_hi <= band => {
                    c.absorb(h);
                }
                _ => {
                    self.cands.extend(cur.take());
                    cur = Some(Candidate::of(h, i));
                }
            }
        }
        self.cands.extend(cur);
        // Of the postings set aside, those that make candidates of one hit
        // (window minima whose context agrees: see below) are located only
        // when such candidates can make the cap (fewer candidates of several
        // hits than it: the ranking puts those first). The others are located
        // only if a match establishes their text, for second pieces (below).
        let several = self.cands.iter().filter(|c| c.hits > 1).count();
        // (Candidates past this one come of the postings set aside.)
        let of_hits = self.cands.len();
        if several < cap {
            let lone = std::mem::take(&mut self.lone);

            let candidate = |f: &Found| {
                let (qpos, _, agrees) = f.unpack();
                (agrees || exempt[qpos as usize]) && minima[qpos as usize]
            };
            // (Set aside segment by segment: in runs of one segment.)
            for run in lone.chunk_by(|a, b| a.0 == b.0) {
                let seg = &segs[run[0].0 as usize];
                prefetch_locate(seg, run.iter().map(|&(_, f)| f).filter(candidate));
            }
            for &(si, f) in lone.iter().filter(|(_, f)| candidate(f)) {
                if let Some(h) = at.hit(segs, live, si, f, tolerant) {
                    self.cands.push(Candidate::of(&h, self.hits.len()));
                    self.hits.push(h);
                }
            }
            self.lone = lone;
        }
        // A candidate of one hit is verified only when that hit is a window
        // minimum of the query: a shared run of t = w + k - 1 bytes or more
        // always yields such a hit (see `winnow::window_minima`), so what this
        // drops are lone 16-byte coincidences (a stock phrase of the domain)
        // that no longer run surrounds, the bulk of the candidates of an
        // unrelated post.
        // Nor is a lone hit whose k-gram's context disagrees with the
        // posting's on both sides (`fingerprint::context`, 14 bytes a side
        // from format 7 on, 7 in format 6, 4 in formats 3 to 5): the two
        // texts then share at most k + 26 bytes there (each side's 8-bit
        // hash agrees by chance once in 256, so about one such hit in 128
        // still passes), while a shared run of k + 27 bytes or more agrees
        // on one side at least, wherever the k-gram falls in it. So no exact
        // match of `min_len` is lost when `min_len` is at least k + 27 (k +
        // 13 with 7 bytes, k + 7 with 4; a char weighs at most its bytes;
        // the default is 44), and the rule is off below that (per segment,
        // `by_context` in `find_with`). Second pieces, which may be shorter,
        // are looked for among the lone hits this drops as well. For edited
        // matches, which may break both sides, its safety is measured, not
        // proven: over 14 bytes it lost three edited quotes of the
        // evaluation, each seeded by a k-gram in one place, so in format 7
        // the rule leaves out keys with one posting in the index (see
        // `find_with`), and then lost none (BENCHMARKS.md "Contexts of
        // fourteen bytes").
        // It decides without decoding the source what verification would have
        // found of most lone hits: over 4 bytes it ruled out 86% of those of
        // unrelated posts (BENCHMARKS.md "Lone hits decided by their
        // context"); over 7 bytes it also ruled out 42% of those left in a
        // mixed stream, most of them stock phrases of 20 to 28 bytes shared
        // with a few documents; over 14 bytes most of those then left
        // (phrases of 23 to 42 bytes).
        // With tolerant seeds a lone hit is kept too: at 15% character errors
        // a quote's only surviving seed may be one (the cap on candidates,
        // most hits first, bounds the cost).

        // A lone hit of a key the rule leaves out (`exempt`, format 7:
        // see `find_with`) is verified whatever its context.
        // Every lone hit on a window minimum is also kept for second
        // pieces, where the cap cannot cut it: those ruled out, and those
        // that are candidates, which the cap may cut (those of the postings
        // set aside by `lone_of_sources`). (Until December 2026 only those
        // whose context disagreed were, so a second piece whose one hit
        // agreed was lost wherever the cap cut it: one in each of the
        // stream's two sets, BENCHMARKS.md "Chains whose every context
        // disagrees".)
        self.unverified.clear();
        if !tolerant {
            let unverified = &mut self.unverified;
            let mut i = 0;
            self.cands.retain(|c| {
                let lone_minimum = c.hits == 1 && minima[c.q_lo as usize];
                let exempt = lone_minimum && exempt[c.q_lo as usize];
                let keep = c.hits > 1 || (lone_minimum && (c.ctx_agrees || exempt));
                // (Those located from the postings set aside, past
                // `of_hits`, are kept, and `lone_of_sources` adds them.)
                if lone_minimum && i < of_hits {
                    unverified.push(*c);
                }
                i += 1;
                keep
            });
            // Nor is a candidate of several hits verified, but as a second
            // piece, when every hit's context disagrees and the rule is on
            // for all of them (a segment of format 7, none of them of a key
            // the rule leaves out, `exempt`). No exact match of `min_len`
            // runs through any of its hits, as above, nor anywhere else on
            // its diagonals: a shared run of t bytes there holds a window
            // minimum that is a hit of the chain, whose context would agree
            // (unless that minimum's key seeds nothing: common, which the
            // boilerplate cover keeps from matching anyway, or over
            // `max_postings`, a rare loss the rule accepts).
            // Edited quotes are where it could lose, as with lone hits; over
            // every query set of the evaluation it lost none, and the
            // stream's first 20,000 posts verified 7,860 such candidates
            // (0.4 a post), none a match (BENCHMARKS.md "Chains whose every
            // context disagrees"). Such chains stay in the ranking and
            // under the cap as they were: a stock phrase in many texts
            // keeps the cap's places whether or not it is verified.
            let hits = &self.hits;
            for c in self.cands.iter_mut() {
                c.second_only = c.hits > 1
                    && !c.ctx_agrees
                    && segs[c.seg as usize].context_width() == ContextWidth::Longer
                    && !hits[c.first_hit as usize..][..c.hits as usize]
                        .iter()
                        .any(|h| exempt[h.qpos as usize]);
            }
        }
        // Best first: most hits, then by the text's hash and the diagonal, so
        // that which candidates the cap keeps (a stock passage in more texts
        // than the cap) does not depend on how the dump was cut into segments;
        // index order last (identical texts, deterministic).
        // The chains the cap cuts are kept for second pieces, as the lone
        // hits are (above): a text's second passage, cut by a first one in
        // more texts than the cap, is still found once the text is a
        // source. (Until December 2026 it was lost; BENCHMARKS.md "Chains
        // whose every context disagrees".) OCR text keeps its own.
        let unverified = &mut self.unverified;
        let mut cut_off = |c: &Candidate| {
            if !tolerant && c.hits > 1 {
                unverified.push(*c);
            }
        };
        // (Those with fewer hits than the cap-th most are outranked by `cap`
        // candidates of more hits or as many, whatever their hashes: cut
        // before the sort.)
        if self.cands.len() > cap {
            if cap == 0 {
                self.cands.iter().for_each(&mut cut_off);
                self.cands.clear();
            } else {
                let (_, nth, _) = self
                    .cands
                    .select_nth_unstable_by(cap - 1, |a, b| b.hits.cmp(&a.hits));
                let least = nth.hits;
                self.cands.retain(|c| {
                    let keep = c.hits >= least;
                    if !keep {
                        cut_off(c);
                    }
                    keep
                });
            }
        }
        keep_best(&mut self.cands, cap, cut_off);
    }

    /// Appends to `unverified` the candidates of the postings set aside by
    /// [`Pool::candidates`] that second pieces verify (window minima,
    /// whatever their context), of the texts in `sources`, keeps only
    /// those of `sources`, and puts them in the order of the hits (as if
    /// formed with the rest). (Those located as candidates too are among
    /// them, kept here where the cap cannot cut them.)
    pub(super) fn lone_of_sources(
        &mut self,
        segs: &[Segment],
        live: &Liveness,
        minima: &[bool],
        sources: &[(u32, u32)],
        unverified: &mut Vec<Candidate>,
    ) {
        let spans: Vec<(u32, Range<u32>)> = sources
            .iter()
            .filter_map(|&(sg, part)| Some((sg, segs[sg as usize].part_span(part)?)))
            .collect();
        let mut at = PartAt::default();
        for &(si, f) in &self.lone {
            let (qpos, pos, _) = f.unpack();
            let established = || spans.iter().any(|(sg, r)| *sg == si && r.contains(&pos));
            if !minima[qpos as usize] || !established() {
                continue;
            }
            if let Some(h) = at.hit(segs, live, si, f, false) {
                if sources.contains(&(h.seg, h.part)) {
                    unverified.push(Candidate::of(&h, self.hits.len()));
                    self.hits.push(h);
                }
            }
        }
        // (Those of other texts are never verified: left out before the sort.)
        unverified.retain(|c| sources.contains(&(c.seg, c.part)));
        unverified.sort_unstable_by_key(Candidate::hit_order);
    }
}

/// The query stretch from the first hit of `cands` to the end of the
/// last's k-gram, (usize::MAX, 0) when there are none.
pub(super) fn stretch_of<'a>(
    cands: impl IntoIterator<Item = &'a Candidate>,
    k: usize,
) -> (usize, usize) {
    cands.into_iter().fold((usize::MAX, 0), |(lo, hi), c| {
        (lo.min(c.q_lo as usize), hi.max(c.q_hi as usize + k))
    })
}

/// A query stretch a verified match explains, with the evidence of the
/// candidate that made it: its hits inside the stretch.
///
/// A candidate of another text whose hits all lie inside such a stretch,
/// with at most 1 / [`EXPLAINING_HITS_FACTOR`] of those hits, is not
/// verified: it is a text that shares a piece of the quoted passage (a
/// sentence of it, a stock phrase), and its match, if any, would only
/// report that piece again, in another text. Most of a mixed stream's
/// verifications were such texts, and most of them failed (stock phrases
/// of 29-43 bytes in many documents); the others reported a sentence of a
/// quote already found whole elsewhere. Copies of the passage with about
/// as many hits as the text that explains it are still verified, as is
/// any candidate with a hit outside the stretch (a second passage, a text
/// that goes on where the first stops).
///
/// What it can lose, besides those sources: a skipped text whose exact
/// run with the query goes on past the stretch by less than w bytes (too
/// little to hold a hit of its own), or past it through edits, covers
/// query bytes no reported match covers. On the stream's first 20,000
/// posts, 33 of 5,442 matching posts reported 174 fewer query bytes; the
/// five cases looked at were a letter or a few that the other text
/// matched by chance past the quote's end (the `h` of a hashtag). Holding the
/// hits w - 1 bytes away from the stretch's ends kept all but 13 of those
/// bytes, but ran the stream 26% slower (BENCHMARKS.md "Texts that repeat
/// a piece of a match"). The rule weighs evidence, not similarity: a text
/// that matches the whole quote with edits explains a sentence of it that
/// another text holds exactly. [`MatchConfigBuilder::every_source`]
/// verifies them all (up to `max_candidates`), as before.
///
/// Chosen on the tuning halves and the scale stream (same section): no
/// recall changed on either tuning half, about two thirds of the match
/// lines of the stream's first 20,000 posts (texts holding a sentence of
/// the quote) went, and the stream ran more than twice as fast.
///
/// [`MatchConfigBuilder::every_source`]: crate::matcher::MatchConfigBuilder::every_source
#[derive(Debug, Clone)]
pub(crate) struct Explained {
    pub(super) seg: u32,
    pub(super) part: u32,
    pub(super) query_norm: Range<usize>,
    pub(super) hits: u32,
}

impl Explained {
    /// Whether a stretch of `explained` explains `c` (see [`Explained`]).
    pub(super) fn covers(explained: &[Explained], c: &Candidate, k: usize) -> bool {
        let (lo, hi) = (c.q_lo as usize, c.q_hi as usize + k);
        explained.iter().any(|e| {
            (e.seg, e.part) != (c.seg, c.part)
                && c.hits * EXPLAINING_HITS_FACTOR <= e.hits
                && e.query_norm.start <= lo
                && hi <= e.query_norm.end
        })
    }
}

/// A match explains the candidates inside its stretch with at most this
/// share (its inverse) of the hits its candidate has there (see
/// [`Explained`]).
pub(super) const EXPLAINING_HITS_FACTOR: u32 = 2;

/// Fewest hits of a candidate whose match explains others: with 2, a
/// halving is the noise of winnowing at a shared run's ends, where two
/// copies of a passage may differ by a hit or two (seen on passages in
/// hundreds of documents, whose k-grams mostly seed nothing: copies of 1
/// and 2 hits aligned the same 104 bytes). A match of 3 explains texts of
/// one hit only. (It was 4 until December 2026: in the scale stream's
/// one-match posts, 42,242 of the 99,918 verifications were failures in
/// the posts whose best match has 3 hits, most of them texts of one hit;
/// 3 loses no copy of 0.8 of a post's longest match or more, and no
/// recall on any quality set; BENCHMARKS.md "Postings sorted by
/// diagonal".)
pub(super) const EXPLAINING_MIN_HITS: u32 = 3;

/// The ranking of candidates: most hits first, then by the text's hash,
/// the diagonal and the part (see `Pool::candidates`).
pub(super) fn rank(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    b.hits
        .cmp(&a.hits)
        .then(a.text_hash.cmp(&b.text_hash))
        .then(a.d_lo.cmp(&b.d_lo))
        .then((a.seg, a.part).cmp(&(b.seg, b.part)))
}

/// Keeps the best `cap` candidates by [`rank`], in that order. The order is
/// total (candidates of one part differ in their diagonals), so the best
/// are chosen first, in linear time, and only they are sorted: a quote of a
/// passage in hundreds of texts has that many candidates.
/// `cut` sees each of the others.
pub(super) fn keep_best(cands: &mut Vec<Candidate>, cap: usize, cut: impl FnMut(&Candidate)) {
    if cands.len() > cap {
        if cap > 0 {
            cands.select_nth_unstable_by(cap - 1, rank);
        }
        cands[cap..].iter().for_each(cut);
        cands.truncate(cap);
    }
    cands.sort_unstable_by(rank);
}
