//! The alignment [`verify`](fn@super::verify) computes for a candidate
//! ([`align_any`]): bounded first, banded around the candidate's
//! diagonals, and bridged across one word dropped or replaced in the
//! quote.

use std::ops::Range;

use super::{Candidate, QueryLimits, Symbols, VerifyScratch};
use crate::matcher::align::{self, Aligner, Alignment};
use crate::normalize::{self};

/// The best local alignment of `qsub` against the window `wstr` in the band
/// of byte diagonals `[d_lo, d_hi]`, with its spans as byte ranges of
/// `qsub` and `wstr` (`q_from`, `ws`: where `qsub` and `wstr` start in the
/// query and the part).
///
/// `None` also when the alignment cannot make a match of `min_len`. The
/// net score `verify` compares with `min_len` is the alignment score times
/// the mean weight of the chars of the alignment's query side, widened to
/// whole source chars; with `score <= chars`, it is at most
/// `heaviest * (score + widen)` ([`QueryLimits`]; on ASCII text a byte
/// weighs one letter). So when [`Aligner::score_bound`] (linear time) is
/// below that, the alignment (time in proportion to the query length
/// times the band width) is not computed. That is the fate of most lone
/// k-grams of unrelated posts. (Until December 2026 the bound was used on
/// ASCII text only, and without `widen`: a ligature at the end of an
/// alignment one letter short could in principle have been dropped.)
/// With `low` the alignment scores are [`low_identity_scoring`](super::low_identity_scoring), for which
/// the bound does not hold (an edit costs less than two matches): the
/// alignment is always computed.
///
/// Nor is the bound computed for a candidate of [`BOUND_MAX_HITS`] hits or
/// more: it almost never rejects those, and costs up to a quarter of their
/// alignment (it only ever saves work, so skipping it changes no result).
/// Most hits of a candidate whose alignment is bounded first
/// ([`align_any`]). On the first 20,000 posts of the scale stream the bound
/// rejected 85% of the candidates of one hit, 51% of two, 23% of three,
/// 8.6% of four, 3% of five, 1.3% of six and none of the 3,194 of seven
/// or more. It costs about a quarter of an alignment (criterion: 2.6 us
/// for `score_bound_270x320_band49/lone_stock_phrase`, 9.1 us for
/// `align_250x350_band51/banded`), so it pays while it rejects more than
/// a quarter of the candidates, and breaks even at three hits. Skipped
/// above that, the 400 slowest of those posts ran 14% faster (1,410 ->
/// 1,605 posts/s, examples/throughput --repeat 20 under `perf record`).
const BOUND_MAX_HITS: u32 = 3;

pub(super) fn align_any(
    scratch: &mut VerifyScratch,
    qsub: &str,
    wstr: &str,
    c: &Candidate,
    (q_from, ws): (usize, i64),
    (d_lo, d_hi, band): (i64, i64, i64),
    (min_len, low, limits): (usize, bool, QueryLimits),
) -> Option<(Alignment, Range<usize>, Range<usize>)> {
    let aligner = if low {
        &mut scratch.low_aligner
    } else {
        &mut scratch.aligner
    };
    let bounded = c.hits <= BOUND_MAX_HITS;
    if qsub.is_ascii() && wstr.is_ascii() {
        let bound = bounded
            .then(|| {
                aligner.score_bound_bridged_from(
                    qsub.as_bytes(),
                    wstr.as_bytes(),
                    d_lo as isize,
                    d_hi as isize,
                    min_len as i64 - limits.widen,
                    BRIDGE_MAX,
                )
            })
            .flatten();
        if bound.is_some_and(|b| b + limits.widen < min_len as i64) {
            return None;
        }
        let a = aligner.best_local(
            qsub.as_bytes(),
            wstr.as_bytes(),
            d_lo as isize,
            d_hi as isize,
        )?;
        let a = if low {
            a
        } else {
            let ascii = |r: Range<usize>| r.len() as u64 * u64::from(normalize::WEIGHT_UNIT);
            let sides = Sides {
                q: qsub.as_bytes(),
                s: wstr.as_bytes(),
                q_weight: &ascii,
                s_weight: &ascii,
            };
            bridge(
                aligner,
                &sides,
                (d_lo as isize, d_hi as isize),
                a,
                (
                    min_len as i64 * i64::from(normalize::WEIGHT_UNIT),
                    min_len as i64 - limits.widen,
                ),
            )
        };
        let (qa, sa) = (a.query.clone(), a.source.clone());
        return Some((a, qa, sa));
    }
    let sy = &mut scratch.symbols;
    sy.load(qsub, wstr)?;
    // The band in char diagonals: the byte diagonals of the candidate's
    // first and last hit, mapped to chars on both sides, widened by the
    // band (in chars).
    let mut lo = i64::MAX;
    let mut hi = i64::MIN;
    for qpos in [c.q_lo as i64, c.q_hi as i64] {
        let qb = qpos - q_from as i64;
        let qc = Symbols::char_of(&sy.q_at, qb);
        for d in [c.d_lo, c.d_hi] {
            let sb = qpos + d - ws;
            let sc = Symbols::char_of(&sy.s_at, sb);
            lo = lo.min(sc - qc);
            hi = hi.max(sc - qc);
        }
    }
    let (lo, hi) = ((lo - band) as isize, (hi + band) as isize);
    // The same bound over chars (see above), each weighing at most the
    // query's heaviest.
    // (A bound below `floor` fails the test below: bound + widen is then
    // below units / heaviest.)
    let units = min_len as i64 * i64::from(normalize::WEIGHT_UNIT);
    let heaviest = i64::from(limits.heaviest).max(1);
    let floor = (units + heaviest - 1) / heaviest - limits.widen;
    if let Some(bound) = bounded
        .then(|| aligner.score_bound_bridged_from(&sy.q, &sy.s, lo, hi, floor, BRIDGE_MAX))
        .flatten()
    {
        if (bound + limits.widen) * i64::from(limits.heaviest) < units {
            return None;
        }
    }
    let a = aligner.best_local(&sy.q, &sy.s, lo, hi)?;
    let a = if low {
        a
    } else {
        let weight = |text: &str, at: &[u32], r: Range<usize>| {
            normalize::content_weight(&text[at[r.start] as usize..at[r.end] as usize])
        };
        let sides = Sides {
            q: &sy.q,
            s: &sy.s,
            q_weight: &|r| weight(qsub, &sy.q_at, r),
            s_weight: &|r| weight(wstr, &sy.s_at, r),
        };
        bridge(aligner, &sides, (lo, hi), a, (units, floor))
    };
    let qa = sy.q_at[a.query.start] as usize..sy.q_at[a.query.end] as usize;
    let sa = sy.s_at[a.source.start] as usize..sy.s_at[a.source.end] as usize;
    Some((a, qa, sa))
}

/// Most content (in letters, as [`normalize::content_weight`] counts it)
/// a bridge skips on either side: one word replaced, dropped or added.
///
/// Chosen on the tuning half of the bundled corpus (BENCHMARKS.md "A
/// bridge across one word"): 12 letters let a stock formula of another
/// speech ("the Almighty Ruler of the Universe upon your deliberations"
/// against "... may so direct our deliberations") match through the OCR
/// path, a hard negative that shares 29 characters; 10 does not, and
/// finds the same edited quotes ("military" for "repealable" is 10).
const BRIDGE_MAX: usize = 10;

/// What a bridge costs the alignment score: one edit of [`scoring`](super::scoring).
const BRIDGE_COST: i32 = 2;

/// Least net score (in letters) of the piece a bridge reaches: less is a
/// few letters that agree by chance past a quote's end. With any piece of
/// three letters or more, two two-passage quotes of the tuning half
/// ("... mortgages for... Caribbean Basin, we're ...") lost their second
/// passage, whose alignment had reached back over the "..." to a
/// coincidental run and then overlapped the first passage.
const BRIDGE_MIN_PIECE: i64 = 8;

/// The two sides of an alignment and the content weight of a range of
/// each side's symbols.
pub(super) struct Sides<'a, S> {
    pub(super) q: &'a [S],
    pub(super) s: &'a [S],
    q_weight: &'a dyn Fn(Range<usize>) -> u64,
    s_weight: &'a dyn Fn(Range<usize>) -> u64,
}

impl<S> Sides<'_, S> {
    /// The net score of an alignment of these sides in content units:
    /// its score times the mean weight of its query side's symbols (as
    /// `verify_pass` weighs it against `min_len`).
    pub(super) fn net(&self, x: &Alignment) -> i64 {
        i64::from(x.score) * (self.q_weight)(x.query.clone()) as i64 / x.query.len().max(1) as i64
    }
}

/// The best local alignment `a` of `sides` in the band `[lo, hi]`, when
/// its net score is below `min_units`, continued across one word: joined
/// for [`BRIDGE_COST`] to the best local alignment of what follows it (or
/// precedes it) that starts (or ends) at most [`BRIDGE_MAX`] letters away
/// on both sides, when that piece nets [`BRIDGE_MIN_PIECE`] letters or
/// more. The best such join, or `a` itself when none scores more.
///
/// A quote with one word replaced or dropped ("where dreams may be"
/// against "where greater dreams may be") costs the linear gaps of
/// [`scoring`](super::scoring) two matches a letter, so its alignment stops at the word
/// and a quote of 50-60 letters falls under `min_len`. The bridge charges
/// the word as one edit. The joined alignment counts the bridge's columns
/// as edits (mismatches up to the shorter side, gaps for the rest), so
/// its similarity falls as a replaced word's length grows; its score is
/// not the linear-gap score of any single path, so the bound that spares
/// alignments is [`Aligner::score_bound_bridged_from`], which bounds
/// joins too.
///
/// `a` often runs a few letters into the word ("where dr|eams" against
/// "where gr|eater": two matches pay for the mismatch), leaving a piece
/// after it too short to count. So the piece is also looked for from a
/// word before `a`'s end, and `a` is then aligned again up to where the
/// piece starts.
///
/// `need` is the least score of an alignment that can make a match (see
/// [`align_any`]). A join scores at most `a`'s score plus its piece's,
/// less the bridge, so a piece region whose [`Aligner::score_bound`] is
/// below the rest is not aligned, nor one where no piece can start
/// ([`run_of_three`]).
pub(super) fn bridge<S: align::Symbol>(
    aligner: &mut Aligner,
    sides: &Sides<'_, S>,
    band: (isize, isize),
    a: Alignment,
    (min_units, need): (i64, i64),
) -> Alignment {
    if sides.net(&a) >= min_units {
        return a;
    }
    let piece_need = need
        .saturating_sub(i64::from(a.score))
        .saturating_add(i64::from(BRIDGE_COST));
    // The piece is a local alignment in the band, where `a` is the best:
    // it scores no more than `a`.
    if piece_need > i64::from(a.score) {
        return a;
    }
    let after = bridge_after(aligner, sides, band, &a, piece_need);
    let before = bridge_before(aligner, sides, band, &a, piece_need);
    [after, before]
        .into_iter()
        .flatten()
        .fold(a, |best, joined| {
            if joined.score > best.score {
                joined
            } else {
                best
            }
        })
}

/// `first` and `second` joined into `best` when the join scores more
/// than `best` and holds: `piece` (one of the two, the one the bridge
/// reached) nets [`BRIDGE_MIN_PIECE`] letters, and the bridge skips at
/// most a word on either side.
fn keep_join<S>(
    sides: &Sides<'_, S>,
    best: &mut Option<Alignment>,
    (first, second): (&Alignment, &Alignment),
    piece: &Alignment,
) {
    let unit = i64::from(normalize::WEIGHT_UNIT);
    let max = BRIDGE_MAX as u64 * unit as u64;
    if sides.net(piece) >= BRIDGE_MIN_PIECE * unit
        && (sides.q_weight)(first.query.end..second.query.start) <= max
        && (sides.s_weight)(first.source.end..second.source.start) <= max
    {
        let joined = join(first, second);
        if best.as_ref().is_none_or(|b| joined.score > b.score) {
            *best = Some(joined);
        }
    }
}

/// `first` and `second` joined by a bridge over what lies between them.
pub(super) fn join(first: &Alignment, second: &Alignment) -> Alignment {
    let bq = second.query.start - first.query.end;
    let bs = second.source.start - first.source.end;
    Alignment {
        query: first.query.start..second.query.end,
        source: first.source.start..second.source.end,
        score: first.score + second.score - BRIDGE_COST,
        matches: first.matches + second.matches,
        mismatches: first.mismatches + second.mismatches + bq.min(bs) as u32,
        gaps: first.gaps + second.gaps + bq.abs_diff(bs) as u32,
    }
}

/// Whether three equal symbols on one diagonal of `[dl, dh]` start at
/// `p - back` for some query position `p` of `at`, other than the runs of
/// `a` itself: those on its diagonal `d_a` that start (`back = 0`) before
/// its end `edge`, or end (`back = 3`) after its start `edge`.
///
/// A piece a bridge reaches starts and ends with such a run: a local
/// alignment of [`scoring`](super::scoring) starts on a match and every prefix scores
/// above 0 (one match then an edit scores -1), so its first run is three
/// matches or more, or it is one run of [`BRIDGE_MIN_PIECE`]; the same
/// holds for its last run (every suffix scores above 0, or an earlier end
/// would have been chosen). So where no run of three starts (or, with
/// `back = 3`, ends) within a word of `a`, there is no piece to align.
/// `a`'s own runs are left out: a piece that starts on `a`'s diagonal
/// inside it would split `a` at one of its own edits, which `a` already
/// crosses (a split at two adjacent mismatches would gain two matches;
/// such joins are not looked for). Most posts of the domain that share a
/// stock phrase with a document, whose alignment fails, end here
/// (BENCHMARKS.md "A bridge across one word" measures what the piece
/// searches cost with and without this test and the anchored bound).
fn run_of_three<S: align::Symbol>(
    sides: &Sides<'_, S>,
    at: Range<usize>,
    (dl, dh): (isize, isize),
    (back, (edge, d_a)): (usize, (usize, isize)),
) -> bool {
    let (q, s) = (sides.q, sides.s);
    at.filter_map(|p| p.checked_sub(back))
        .filter(|&p| p + 3 <= q.len())
        .any(|p| {
            let own = if back == 0 { p < edge } else { p + 3 > edge };
            (dl..=dh).any(|d| {
                let j = p as isize + d;
                !(own && d == d_a) && j >= 0 && j as usize + 3 <= s.len() && {
                    let j = j as usize;
                    q[p] == s[j] && q[p + 1] == s[j + 1] && q[p + 2] == s[j + 2]
                }
            })
        })
}

/// Whether the best local alignment of `q[qf..qt]` against `s[sf..st]`
/// on the diagonals `[dl, dh]` of the whole sides that starts or ends as
/// `anchor` says (in the region's positions) may score `need`, by
/// [`Aligner::score_bound_anchored_from`] (true when it cannot tell).
fn may_reach<S: align::Symbol>(
    aligner: &mut Aligner,
    sides: &Sides<'_, S>,
    ((qf, qt), (sf, st)): ((usize, usize), (usize, usize)),
    (dl, dh): (isize, isize),
    (need, anchor): (i64, align::Anchor),
) -> bool {
    if qf >= qt || sf >= st || dl > dh {
        return false;
    }
    let shift = sf as isize - qf as isize;
    aligner
        .score_bound_anchored_from(
            &sides.q[qf..qt],
            &sides.s[sf..st],
            dl - shift,
            dh - shift,
            need,
            anchor,
        )
        .is_none_or(|b| b >= need)
}

/// The best local alignment of `q[qf..qt]` against `s[sf..st]` on the
/// diagonals `[dl, dh]` of the whole sides, in their coordinates.
fn align_in<S: align::Symbol>(
    aligner: &mut Aligner,
    sides: &Sides<'_, S>,
    (qf, qt): (usize, usize),
    (sf, st): (usize, usize),
    (dl, dh): (isize, isize),
) -> Option<Alignment> {
    if qf >= qt || sf >= st || dl > dh {
        return None;
    }
    let shift = sf as isize - qf as isize;
    let mut b = aligner.best_local(&sides.q[qf..qt], &sides.s[sf..st], dl - shift, dh - shift)?;
    b.query = qf + b.query.start..qf + b.query.end;
    b.source = sf + b.source.start..sf + b.source.end;
    Some(b)
}

/// [`bridge`] past the end of `a`: the piece looked for from `a`'s end
/// and from a word before it, when the wider of those regions may hold a
/// piece of `need`.
fn bridge_after<S: align::Symbol>(
    aligner: &mut Aligner,
    sides: &Sides<'_, S>,
    (lo, hi): (isize, isize),
    a: &Alignment,
    need: i64,
) -> Option<Alignment> {
    let w = BRIDGE_MAX as isize;
    let (qe, se) = (a.query.end, a.source.end);
    let d = se as isize - qe as isize;
    let band = ((d - w).max(lo), (d + w).min(hi));
    let from = |back: usize| {
        (
            qe.saturating_sub(back).max(a.query.start),
            se.saturating_sub(back).max(a.source.start),
        )
    };
    let (qf, sf) = from(BRIDGE_MAX);
    if !run_of_three(sides, qf..qe + BRIDGE_MAX + 1, band, (0, (qe, d)))
        || !may_reach(
            aligner,
            sides,
            ((qf, sides.q.len()), (sf, sides.s.len())),
            band,
            (need, align::Anchor::StartBy(qe + BRIDGE_MAX - qf)),
        )
    {
        return None;
    }
    let mut best: Option<Alignment> = None;
    for back in [0, BRIDGE_MAX] {
        let (qf, sf) = from(back);
        let Some(piece) = align_in(
            aligner,
            sides,
            (qf, sides.q.len()),
            (sf, sides.s.len()),
            band,
        ) else {
            continue;
        };
        if piece.query.end <= qe
            || piece.source.end <= se
            || piece.query.start > qe + BRIDGE_MAX
            || piece.source.start > se + BRIDGE_MAX
        {
            continue;
        }
        let first = if piece.query.start < qe || piece.source.start < se {
            let Some(first) = align_in(
                aligner,
                sides,
                (a.query.start, piece.query.start),
                (a.source.start, piece.source.start),
                (lo, hi),
            ) else {
                continue;
            };
            first
        } else {
            a.clone()
        };
        keep_join(sides, &mut best, (&first, &piece), &piece);
    }
    best
}

/// [`bridge`] before the start of `a`: the piece looked for up to `a`'s
/// start and up to a word after it, when the wider of those regions may
/// hold a piece of `need`.
fn bridge_before<S: align::Symbol>(
    aligner: &mut Aligner,
    sides: &Sides<'_, S>,
    (lo, hi): (isize, isize),
    a: &Alignment,
    need: i64,
) -> Option<Alignment> {
    let w = BRIDGE_MAX as isize;
    let (qs, ss) = (a.query.start, a.source.start);
    let d = ss as isize - qs as isize;
    let band = ((d - w).max(lo), (d + w).min(hi));
    let to = |back: usize| ((qs + back).min(a.query.end), (ss + back).min(a.source.end));
    let (qt, st) = to(BRIDGE_MAX);
    if !run_of_three(
        sides,
        qs.saturating_sub(BRIDGE_MAX)..qt + 1,
        band,
        (3, (qs, d)),
    ) || !may_reach(
        aligner,
        sides,
        ((0, qt), (0, st)),
        band,
        (need, align::Anchor::EndFrom(qs.saturating_sub(BRIDGE_MAX))),
    ) {
        return None;
    }
    let mut best: Option<Alignment> = None;
    for back in [0, BRIDGE_MAX] {
        let (qt, st) = to(back);
        let Some(piece) = align_in(aligner, sides, (0, qt), (0, st), band) else {
            continue;
        };
        if piece.query.start >= qs
            || piece.source.start >= ss
            || piece.query.end + BRIDGE_MAX < qs
            || piece.source.end + BRIDGE_MAX < ss
        {
            continue;
        }
        let second = if piece.query.end > qs || piece.source.end > ss {
            let Some(second) = align_in(
                aligner,
                sides,
                (piece.query.end, a.query.end),
                (piece.source.end, a.source.end),
                (lo, hi),
            ) else {
                continue;
            };
            second
        } else {
            a.clone()
        };
        keep_join(sides, &mut best, (&piece, &second), &piece);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::super::scoring;
    use super::{bridge, Sides, BRIDGE_MAX};
    use crate::matcher::align::Aligner;
    use crate::normalize;
    use crate::{Index, IndexBuilder, MatchConfig, Matcher};
    use proptest::prelude::*;
    use std::ops::Range;

    fn letters(seed: u64, n: usize) -> String {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (b'a' + ((x >> 33) % 26) as u8) as char
            })
            .collect()
    }

    /// A document of random letters, and the source spans matched by a
    /// post that quotes `quote` inside unrelated letters.
    fn spans(doc: &str, quote: &str) -> Vec<Range<usize>> {
        let bytes = IndexBuilder::new()
            .threads(1)
            .build()
            .unwrap()
            .segment_from_texts(&[("doc.txt", doc)])
            .unwrap();
        let index = Index::from_bytes(bytes).unwrap();
        let m = Matcher::new(&index, MatchConfig::default());
        let post = format!("{} {quote} {}", letters(7, 30), letters(8, 30));
        m.find(&post).into_iter().map(|x| x.source_span).collect()
    }

    /// Quotes of 50 letters with one word dropped or replaced: 40 letters,
    /// the word, 10 letters. Each piece is under the minimum length of 44
    /// (the linear gaps stop the alignment at the word), together they
    /// make one match over both, through the word; a gap longer than a
    /// word is not bridged.
    #[test]
    fn one_word_dropped_or_replaced_is_bridged() {
        let doc = letters(1, 3000);
        let d = |r: Range<usize>| &doc[r];
        // "greater" dropped: 7 letters.
        let dropped = format!("{}{}", d(1000..1040), d(1047..1057));
        assert_eq!(spans(&doc, &dropped), vec![1000..1057]);
        // A word of 6 letters for one of 8.
        let replaced = format!("{}qqzzjx{}", d(1000..1040), d(1048..1058));
        assert_eq!(spans(&doc, &replaced), vec![1000..1058]);
        // A word in the quote that the source does not have.
        let added = format!("{}qqzzjxw{}", d(1000..1040), d(1040..1050));
        assert_eq!(spans(&doc, &added), vec![1000..1050]);
        // 12 letters dropped: more than a word.
        let too_long = format!("{}{}", d(1000..1040), d(1052..1062));
        assert_eq!(spans(&doc, &too_long), Vec::<Range<usize>>::new());
        // A piece of 7 letters after the word: too short to count.
        let short = format!("{}{}", d(1000..1040), d(1047..1054));
        assert_eq!(spans(&doc, &short), Vec::<Range<usize>>::new());
    }

    proptest! {
        /// The bridged score bound bounds a bridged alignment, so that
        /// skipping an alignment by the bound never loses a match a bridge
        /// would make: sources are the query with words (runs of
        /// 0-12 bytes) dropped, replaced and added, over 26 letters (the
        /// bound is tight there, and a replaced word raises the bridged
        /// score over the bound itself) or 3 (chance runs everywhere).
        #[test]
        fn the_bridged_bound_bounds_a_bridged_score(
            letters in prop_oneof![Just(26u8), Just(3u8)],
            q in proptest::collection::vec(any::<u8>(), 20..120),
            edits in proptest::collection::vec(
                (0usize..120, 0usize..13, proptest::collection::vec(any::<u8>(), 0..13)),
                0..4,
            ),
            band in (-16isize..4, 0isize..24),
        ) {
            let q: Vec<u8> = q.iter().map(|b| b'a' + b % letters).collect();
            let mut s = q.clone();
            for (at, del, word) in edits {
                let at = at.min(s.len());
                let del = del.min(s.len() - at);
                s.splice(at..at + del, word.iter().map(|b| b'a' + b % letters));
            }
            let (lo, hi) = (band.0, band.0 + band.1);
            let mut aligner = Aligner::new(scoring());
            if let Some(a) = aligner.best_local(&q, &s, lo, hi) {
                let ascii = |r: Range<usize>| r.len() as u64 * u64::from(normalize::WEIGHT_UNIT);
                let sides = Sides { q: &q, s: &s, q_weight: &ascii, s_weight: &ascii };
                let b = bridge(&mut aligner, &sides, (lo, hi), a.clone(), (i64::MAX, i64::MIN));
                prop_assert!(b.score >= a.score);
                prop_assert!(b.query.end <= q.len() && b.source.end <= s.len());
                prop_assert!(b.matches as usize <= b.query.len().min(b.source.len()));
                // Asked whether it reaches the bridged score: the chaining
                // pass with the skip runs whenever the plain one falls short.
                let floor = i64::from(b.score);
                if let Some(bound) = aligner.score_bound_bridged_from(&q, &s, lo, hi, floor, BRIDGE_MAX) {
                    prop_assert!(bound >= floor, "bound {bound} bridged {b:?} from {a:?}");
                }
            }
        }
    }
}
