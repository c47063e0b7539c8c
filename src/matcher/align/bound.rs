//! Upper bounds on the score of a local alignment in time linear in the
//! lengths ([`Aligner::score_bound`] and its anchored and bridged forms):
//! the matcher skips the alignment of a candidate whose bound is below the
//! minimum length. The argument that the bound holds is on
//! [`Aligner::score_bound`]; the property tests hold it to the oracle.

use super::{clamp_band, Aligner, Symbol, MAX_QUERY, MAX_SYMBOL_ID};

/// Buffers of [`Aligner::score_bound`]: one bitset of source positions per
/// symbol that occurs in the query.
#[derive(Debug, Clone, Default)]
pub(super) struct BoundScratch {
    /// Symbol id -> its bitset's number, [`NO_SLOT`] when not in the
    /// query (`MAX_SYMBOL_ID + 1` entries, allocated on first use).
    slot: Vec<u8>,
    /// The slot of each query position.
    qslot: Vec<u8>,
    bits: Vec<u64>,
    /// Which diagonals hold a 2-gram, per query position.
    two: Vec<u64>,
    /// Which diagonals of the band match, per query position.
    masks: Vec<u64>,
    /// The chaining values `f(k)`, per query position.
    best: Vec<i64>,
    /// The chaining values with one skip, `g(k)` (see
    /// [`Aligner::score_bound_bridged_from`]).
    skipped: Vec<i64>,
}

/// Which local alignments a score bound covers (see
/// [`Aligner::score_bound_anchored_from`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// All of them.
    Anywhere,
    /// Those that start at this query position or before.
    StartBy(usize),
    /// Those that end at this query position or after.
    EndFrom(usize),
}

/// [`BoundScratch::slot`] of a symbol that is not in the query.
const NO_SLOT: u8 = u8::MAX;

impl Aligner {
    /// An upper bound on the score of [`Aligner::best_local`] for the same
    /// arguments, in time linear in the lengths (no alignment matrix); 0
    /// when the band holds no cell. `None` when it cannot tell cheaply: a
    /// band wider than 64 diagonals, a query of more than 254 distinct
    /// symbols, or scores where an edit costs less than two matches.
    ///
    /// The bound is `matched * (2 + F)`. A *run* is a stretch of equal
    /// symbols (bytes, or chars by id) on one diagonal of the band; a piece
    /// of a run of length `r >= 3` weighs `r - 2`. `F` is the largest
    /// weight of a stretch of the query: the weights of pieces in it that
    /// do not share a query position, plus, for each of its other
    /// positions, 0 when a 2-gram of the band (two equal symbols on one
    /// diagonal) covers that position or the next one, -1/2 otherwise.
    ///
    /// Why it holds: the best alignment covers a stretch of the query
    /// with runs of matches separated by edit columns, each run but the
    /// first preceded by at least one edit (`e >= 2 * matched`, the
    /// cheapest edit). Charge each run with the edit just before it: a run
    /// of `r` adds at most `matched * (r - 2)`, and the first run adds
    /// `matched * r`, so 2 more. Runs of 3 or more are pieces. Every other
    /// query position of the stretch adds at most its weight: a position of
    /// a run of 2 adds at most 0, and so does the edit before such a run or
    /// before a piece (the position after it is in a 2-gram); a run of 1
    /// with its edit adds at most `-matched`, -1/2 for each of its at most
    /// two positions; any other edit is not charged to a run and costs at
    /// least `2 * matched`.
    ///
    /// `F` is found in one pass over the query with one bit per diagonal
    /// of the band (bitsets of the source positions by symbol), in time
    /// linear in the lengths: the best stretch ending at each position, as in
    /// Kadane's maximum subarray, where a piece jumps from its start to
    /// its end.
    ///
    /// Unrelated text around a lone shared k-gram holds few runs of three
    /// or more on one diagonal (the k-gram itself weighs k - 2), and the
    /// stretches between them cost, so its bound stays below a minimum
    /// length of 44 and the alignment need not be computed. (Until
    /// December 2026 `F` summed pieces over the whole query, whatever lay
    /// between them: a stock phrase of 20 bytes with agreeing context, in
    /// 268 bytes of unrelated text, was bounded at 44-57 and aligned at
    /// 16-24, a quarter of the lone hits of the Debian fortunes.)
    pub fn score_bound<S: Symbol>(
        &mut self,
        query: &[S],
        source: &[S],
        d_lo: isize,
        d_hi: isize,
    ) -> Option<i64> {
        self.score_bound_from(query, source, d_lo, d_hi, i64::MIN)
    }

    /// [`Aligner::score_bound`] for a caller that only asks whether the
    /// bound reaches `floor`: when a quicker bound is already below it,
    /// that one is returned (still an upper bound of the best score, and
    /// below `floor` as the exact one is); otherwise the exact one.
    ///
    /// The quicker bound: each piece of a run of r matches on one diagonal
    /// adds 2 * (r - 2) half matches to the stretch and holds r - 2 cells
    /// that start a 3-gram, and the other positions add at most 0; so with
    /// T such cells in the whole band the bound is at most
    /// `matched * (T + 2)`. It takes one pass over the diagonal masks, and
    /// spares the chaining pass when a post shares a short stock phrase
    /// with the source and nothing else, as most unrelated posts that get
    /// this far do.
    pub fn score_bound_from<S: Symbol>(
        &mut self,
        query: &[S],
        source: &[S],
        d_lo: isize,
        d_hi: isize,
        floor: i64,
    ) -> Option<i64> {
        self.score_bound_bridged_from(query, source, d_lo, d_hi, floor, 0)
    }

    /// [`Aligner::score_bound_from`] that also bounds two local
    /// alignments in the band, query-disjoint with at most `skip` query
    /// positions between them, scored as the sum of their scores less two
    /// matches (one edit: the bridge of `matcher::find`).
    ///
    /// The second alignment's first run, whose two matches the bound
    /// grants once per stretch, pays the two, so such a pair is bounded
    /// by the bound of the two stretches with the positions between them
    /// weighing 0 instead of -1/2: `g(k)`, the largest weight of a
    /// stretch ending before `k` that skips at most `skip` consecutive
    /// positions once, found in the same pass as `f` (a skip from any of
    /// the `skip + 1` values of `f` before `k`). It is computed only when
    /// the plain bound is below `floor` and within `skip / 2` matches of
    /// it, the most a skip can add.
    pub fn score_bound_bridged_from<S: Symbol>(
        &mut self,
        query: &[S],
        source: &[S],
        d_lo: isize,
        d_hi: isize,
        floor: i64,
        skip: usize,
    ) -> Option<i64> {
        self.bound(query, source, (d_lo, d_hi), floor, (skip, Anchor::Anywhere))
    }

    /// [`Aligner::score_bound_from`] for the local alignments that start at
    /// or before the query position of [`Anchor::StartBy`], or end at or
    /// after that of [`Anchor::EndFrom`]: the stretches of `F` are
    /// held to the same rule (a stretch starts where its value may be
    /// reset to 0, and ends where `top` is read), which is all the proof
    /// of the bound needs, since the best such alignment covers such a
    /// stretch.
    pub fn score_bound_anchored_from<S: Symbol>(
        &mut self,
        query: &[S],
        source: &[S],
        d_lo: isize,
        d_hi: isize,
        floor: i64,
        anchor: Anchor,
    ) -> Option<i64> {
        self.bound(query, source, (d_lo, d_hi), floor, (0, anchor))
    }

    fn bound<S: Symbol>(
        &mut self,
        query: &[S],
        source: &[S],
        (d_lo, d_hi): (isize, isize),
        floor: i64,
        (skip, anchor): (usize, Anchor),
    ) -> Option<i64> {
        let sc = self.scoring;
        let cheapest_edit = sc.mismatch.max(sc.gap);
        if -cheapest_edit < 2 * sc.matched {
            return None;
        }
        let query = &query[..query.len().min(MAX_QUERY)];
        let (n, m) = (query.len(), source.len());
        let Some((lo, hi)) = clamp_band(n, m, d_lo, d_hi) else {
            return Some(0);
        };
        let width = (hi - lo + 1) as usize;
        if width > 64 {
            return None;
        }
        let keep = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        let b = &mut self.bound;
        if b.slot.is_empty() {
            b.slot = vec![NO_SLOT; usize::from(MAX_SYMBOL_ID) + 1];
        }
        // Source position j is bit j + 64 of its symbol's bitset: one word
        // of zeros before (reads start up to 63 bits before position 0) and
        // one after (reads take two words).
        let words = (m + 64) / 64 + 2;
        let mut slots = 0usize;
        // Each query position's slot, kept for the masks below.
        b.qslot.clear();
        b.qslot.reserve(n);
        let table = &mut b.slot[..];
        for (i, &c) in query.iter().enumerate() {
            let id = usize::from(c.id());
            if table[id] == NO_SLOT {
                if slots == usize::from(NO_SLOT) {
                    // 255 distinct symbols: no slot left for this one.
                    for &c in &query[..i] {
                        table[usize::from(c.id())] = NO_SLOT;
                    }
                    return None;
                }
                table[id] = slots as u8;
                slots += 1;
            }
            b.qslot.push(table[id]);
        }
        b.bits.clear();
        b.bits.resize(slots * words, 0);
        let bits = &mut b.bits[..];
        for (j, &c) in source.iter().enumerate() {
            let sl = table[usize::from(c.id())];
            if sl != NO_SLOT {
                let at = j + 64;
                bits[usize::from(sl) * words + at / 64] |= 1u64 << (at % 64);
            }
        }
        for &c in query {
            table[usize::from(c.id())] = NO_SLOT;
        }
        // Bit u of masks[i]: query[i] == source[i + lo + u] (diagonal
        // lo + u); three zero words after the last position.
        let bits = &b.bits[..];
        let masks = &mut b.masks;
        masks.clear();
        masks.reserve(n + 3);
        for (i, &sl) in b.qslot.iter().enumerate() {
            let p = i as isize + lo + 64;
            let v = if p <= 0 || p as usize >= m + 64 {
                0
            } else {
                let p = p as usize;
                let row = &bits[usize::from(sl) * words..][..words];
                let (w, sh) = (p / 64, p % 64);
                // Two words shifted as one, without a branch on sh = 0.
                let pair = u128::from(row[w]) | (u128::from(row[w + 1]) << 64);
                (pair >> sh) as u64
            };
            masks.push(v & keep);
        }
        masks.extend([0, 0, 0]);
        let masks = &b.masks[..];
        let cells: u32 = masks
            .windows(3)
            .map(|x| (x[0] & x[1] & x[2]).count_ones())
            .sum();
        let quick = i64::from(sc.matched) * (i64::from(cells) + 2);
        if quick < floor {
            return Some(quick);
        }
        // 2-grams at i (diagonals where i and i + 1 both match), one zero
        // word before position 0 and two after the last.
        b.two.clear();
        b.two.push(0);
        b.two
            .extend(masks.windows(2).take(n + 1).map(|x| x[0] & x[1]));
        let two = &b.two[..];
        // f[k], in half matches: the largest weight of a stretch of the
        // query ending just before position k (0 for the empty one): its
        // pieces, query-disjoint, each weighing 2 * (r - 2), and its other
        // positions weighing 0 when a 2-gram of the band covers them or the
        // position after, -1 otherwise (see the method's documentation).
        // Filled in order; f[k] holds candidates from pieces ending at k
        // until it is final. f[j + 1] <= f[j] + 2 (by induction: the
        // positions of a 3-gram weigh 0), so a piece of a run is best
        // started where the run starts: a run of 3-grams starting at `a`
        // offers f[a] - 2 * a - 4 + 2 * k to every k it reaches.
        let mut top = chain::<false>(masks, two, n, &mut b.best, (None, anchor));
        let plain = i64::from(sc.matched) * ((top + 4 + 1) / 2);
        if skip > 0
            && plain < floor
            && plain + i64::from(sc.matched) * skip.div_ceil(2) as i64 >= floor
        {
            top = chain::<true>(
                masks,
                two,
                n,
                &mut b.best,
                (Some((&mut b.skipped, skip)), anchor),
            );
        }
        // The first run's 2 matches, then half matches rounded up.
        Some(i64::from(sc.matched) * ((top + 4 + 1) / 2))
    }
}

/// The chaining pass of [`Aligner::score_bound_from`] over the diagonal
/// masks of `n` query positions: the largest `f(k)` (and with `skip`,
/// `g(k)`, see [`Aligner::score_bound_bridged_from`]), in half matches.
///
/// `SKIP` says whether `skip` is given: the plain pass, run on every
/// bound, is compiled without the second state.
#[inline]
fn chain<const SKIP: bool>(
    masks: &[u64],
    two: &[u64],
    n: usize,
    f: &mut Vec<i64>,
    (mut skip, anchor): (Option<(&mut Vec<i64>, usize)>, Anchor),
) -> i64 {
    // Where a stretch may start (its value reset to 0) and end (`top`).
    let (start_by, end_from) = match anchor {
        Anchor::Anywhere => (n, 0),
        Anchor::StartBy(p) => (p.min(n), 0),
        Anchor::EndFrom(p) => (n, p.min(n)),
    };
    // No stretch reaches a position: far below any value, far from overflow.
    const NONE: i64 = i64::MIN / 4;
    f.clear();
    f.resize(n + 1, 0);
    f[start_by + 1..].fill(NONE);
    if let Some((g, _)) = skip.as_mut().filter(|_| SKIP) {
        g.clear();
        g.resize(n + 1, 0);
        g[start_by + 1..].fill(NONE);
    }
    let mut top = 0i64;
    let mut key = [0i64; 64];
    let mut key_g = [0i64; 64];
    let mut prev = 0u64;
    for i in 0..=n {
        if i > 0 {
            // two[i] is the 2-gram at i - 1 (the shift of one above).
            let near = two[i - 1] | two[i] | two[i + 1];
            let loose = if near != 0 { 0 } else { -1 };
            let reset = if i <= start_by { 0 } else { NONE };
            f[i] = f[i].max(f[i - 1] + loose).max(reset);
            if let Some((g, _)) = skip.as_mut().filter(|_| SKIP) {
                g[i] = g[i].max(g[i - 1] + loose).max(reset);
            }
        }
        if i >= end_from {
            top = top.max(f[i]);
        }
        if let Some((g, w)) = skip.as_mut().filter(|_| SKIP) {
            // Skip the positions j..i, at most w of them.
            let from = i.saturating_sub(*w);
            let skipped = f[from..=i].iter().copied().max().unwrap_or(NONE);
            g[i] = g[i].max(skipped);
            if i >= end_from {
                top = top.max(g[i]);
            }
        }
        // Diagonals with a 3-gram at i (none within 3 of the end: the
        // words after the last position are zero), and those where a
        // run starts.
        let t = masks[i] & masks[i + 1] & masks[i + 2];
        if t | prev == 0 {
            continue;
        }
        let mut new = t & !prev;
        while new != 0 {
            let d = new.trailing_zeros() as usize;
            key[d] = f[i] - 2 * i as i64 - 4;
            if let Some((g, _)) = skip.as_ref().filter(|_| SKIP) {
                key_g[d] = g[i] - 2 * i as i64 - 4;
            }
            new &= new - 1;
        }
        let mut on = t;
        while on != 0 {
            let d = on.trailing_zeros() as usize;
            let v = key[d] + 2 * (i as i64 + 3);
            f[i + 3] = f[i + 3].max(v);
            if let Some((g, _)) = skip.as_mut().filter(|_| SKIP) {
                let v = key_g[d] + 2 * (i as i64 + 3);
                g[i + 3] = g[i + 3].max(v);
            }
            on &= on - 1;
        }
        prev = t;
    }
    top
}
