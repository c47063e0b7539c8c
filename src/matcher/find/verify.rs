//! Step 3 of [`super`]: a candidate verified against its part's text
//! ([`verify`]): the source window read and normalized, aligned, and the
//! alignment checked (length net of boilerplate, similarity, numbers) and
//! mapped back to byte spans of the query and the source.

use std::ops::Range;

use super::{
    align_any, snippet, Candidate, LOW_MIN_LEN_QUARTERS, LOW_MIN_SIMILARITY, NOVEL_SHARE,
    QUERY_MARGIN,
};
use crate::index::segment::TextWindow;
use crate::index::text::BlockCache;
use crate::index::{Index, IndexError};
use crate::matcher::align::{self, Aligner};
use crate::matcher::{Match, MatchConfig};
use crate::normalize::{self, Normalized};

/// The query as the verification needs it.
#[derive(Clone, Copy)]
pub(super) struct QueryView<'a> {
    /// Original text (spans are byte offsets into it).
    pub(super) text: &'a str,
    /// Its normalized bytes.
    pub(super) qn: &'a [u8],
    /// Its normalization with offsets.
    pub(super) qnorm: &'a Normalized,
    /// Bytes covered by common k-grams before each position.
    pub(super) common_cover: &'a [u32],
    /// Content weight of the whole normalized query.
    pub(super) content: i64,
    /// What [`align_any`]'s bound needs of the query: its heaviest
    /// normalized char and how many chars whole-char widening may add.
    pub(super) limits: QueryLimits,
    /// Query bytes aligned beyond a lone hit ([`lone_margin`](super::lone_margin)).
    pub(super) lone_margin: usize,
    /// Query positions of k-grams to look up that seed nothing
    /// (`Scratch::seedless`).
    pub(super) seedless: &'a [u32],
}

/// Per query: the heaviest normalized char (quarters of a letter) and
/// `widen`, how many normalized chars `whole_source_chars` may add to an
/// alignment's query side: at each end, the other chars of a source char
/// that normalizes to several (a Hangul syllable to its jamo, a ligature
/// to its letters), so twice the most chars one source char gave, less
/// one.
#[derive(Clone, Copy)]
pub(super) struct QueryLimits {
    pub(super) heaviest: u32,
    pub(super) widen: i64,
}

impl QueryLimits {
    pub(super) fn of(n: &Normalized) -> QueryLimits {
        let mut heaviest = 0;
        let (mut longest, mut run) = (0i64, 0i64);
        let mut prev = None;
        let mut see = |c: char, at: u32| {
            heaviest = heaviest.max(normalize::char_weight(c));
            if prev == Some(at) {
                run += 1;
            } else {
                (prev, run) = (Some(at), 1);
            }
            longest = longest.max(run);
        };
        if n.text.is_ascii() {
            for (&b, &at) in n.text.as_bytes().iter().zip(&n.offsets) {
                see(char::from(b), at);
            }
        } else {
            for (i, c) in n.text.char_indices() {
                see(c, n.offsets.get(i).copied().unwrap_or(u32::MAX));
            }
        }
        QueryLimits {
            heaviest,
            widen: 2 * (longest.max(1) - 1),
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Verifications run on this thread (tests count them).
    pub(super) static VERIFIED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Set by tests: every candidate is verified with [`QUERY_MARGIN`].
    pub(super) static WHOLE_MARGIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Lone hits verified at [`lone_margin`](super::lone_margin), and those of them tried again
    /// at [`QUERY_MARGIN`] (tests count them).
    pub(super) static LONE_PASSES: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// Align the query against the source around a candidate; with `low`,
/// the second, low-identity verification of OCR text
/// ([`LOW_MIN_SIMILARITY`]).
///
/// Positions from the index (hits, diagonals, windows) count normalized
/// bytes; the alignment and the thresholds count characters and content.
/// Text that is ASCII on both sides is aligned byte for byte (a byte is a
/// char of weight one letter); other text is aligned char by char, each
/// char replaced by a small id ([`Symbols`]), and every span it reports
/// lies on char boundaries.
pub(super) fn verify(
    index: &Index,
    cfg: &MatchConfig,
    q: &QueryView<'_>,
    c: &Candidate,
    scratch: &mut VerifyScratch,
    low: bool,
    w: &mut TextWindow,
) -> Result<Option<Match>, IndexError> {
    #[cfg(test)]
    VERIFIED.with(|v| v.set(v.get() + 1));
    // A lone hit's shorter margin holds where every window minimum around
    // it seeds (see `lone_margin`); a common one nearby may hide a longer
    // shared run (text repeated in many documents).
    let k = index.params().k as usize;
    #[cfg(test)]
    let whole = WHOLE_MARGIN.with(std::cell::Cell::get);
    #[cfg(not(test))]
    let whole = false;
    if !whole && first_margin(q, c, k) < QUERY_MARGIN {
        #[cfg(test)]
        LONE_PASSES.with(|n| n.set((n.get().0 + 1, n.get().1)));
        match verify_pass(index, cfg, q, c, scratch, (low, q.lone_margin), w)? {
            Pass::Found(m) => return Ok(Some(m)),
            Pass::Nothing => return Ok(None),
            // An alignment that may go on past the stretch, or fails.
            Pass::Wider => {
                #[cfg(test)]
                LONE_PASSES.with(|n| n.set((n.get().0, n.get().1 + 1)));
            }
        }
    }
    match verify_pass(index, cfg, q, c, scratch, (low, QUERY_MARGIN), w)? {
        Pass::Found(m) => Ok(Some(m)),
        Pass::Nothing | Pass::Wider => Ok(None),
    }
}

/// The query margin of a candidate's first verification: a lone hit's
/// shorter one where every window minimum around it seeds (see
/// [`lone_margin`](super::lone_margin); a common one nearby may hide a longer shared run, text
/// repeated in many documents), else [`QUERY_MARGIN`].
pub(super) fn first_margin(q: &QueryView<'_>, c: &Candidate, k: usize) -> usize {
    if c.hits != 1 || q.lone_margin >= QUERY_MARGIN {
        return QUERY_MARGIN;
    }
    let from = (c.q_lo as usize).saturating_sub(QUERY_MARGIN);
    let at = q.seedless.partition_point(|&p| (p as usize) < from);
    let seeds_around = q
        .seedless
        .get(at)
        .is_none_or(|&p| p as usize > c.q_hi as usize + k + QUERY_MARGIN);
    if seeds_around {
        q.lone_margin
    } else {
        QUERY_MARGIN
    }
}

/// What one verification of a candidate found.
pub(super) enum Pass {
    Found(Match),
    Nothing,
    /// At a lone hit's margin: an alignment that ends within k bytes of a
    /// cut end of the query stretch (not the query's own end), which a
    /// wider margin may find longer, or one that fails the thresholds, or
    /// a stretch with too few bytes outside boilerplate. Only a candidate
    /// the score bound rejects is settled at that margin.
    Wider,
}

/// [`verify`] with `margin` query bytes beyond the candidate's hits.
pub(super) fn verify_pass(
    index: &Index,
    cfg: &MatchConfig,
    q: &QueryView<'_>,
    c: &Candidate,
    scratch: &mut VerifyScratch,
    (low, margin): (bool, usize),
    w: &mut TextWindow,
) -> Result<Pass, IndexError> {
    let QueryView {
        text,
        qn,
        qnorm,
        common_cover,
        content,
        limits,
        ..
    } = *q;
    let seg = &index.segments()[c.seg as usize];
    let band = cfg.band as i64;
    // Only the stretch of the query around the candidate's hits is aligned
    // (hits are at most w + k apart inside a shared run, so the margin
    // reaches past both ends of it; a lone hit's is shorter, see
    // `lone_margin`): a long query (a whole file) then costs memory and
    // time in proportion to what it shares, not to its length.
    let k = index.params().k as usize;
    let qstr = &qnorm.text;
    let q_from =
        crate::extract::floor_char_boundary(qstr, (c.q_lo as usize).saturating_sub(margin));
    let q_to = ceil_boundary(qstr, (c.q_hi as usize + k + margin).min(qn.len()));
    let qsub = &qstr[q_from..q_to];
    // Boilerplate settled before the source is read: a match needs
    // NOVEL_SHARE of the minimum length in query bytes no common k-gram
    // covers (below), its query side lies inside q_from..q_to, and a byte
    // weighs at most WEIGHT_UNIT; so a stretch with too few such bytes
    // cannot match, whatever the source holds.
    let min_units = cfg.min_len as i64 * i64::from(normalize::WEIGHT_UNIT);
    let uncovered = (q_to - q_from) as i64 - i64::from(common_cover[q_to] - common_cover[q_from]);
    if uncovered * i64::from(normalize::WEIGHT_UNIT) * 100 < min_units * NOVEL_SHARE {
        // (The whole margin may hold more such bytes.)
        return Ok(if margin < QUERY_MARGIN {
            Pass::Wider
        } else {
            Pass::Nothing
        });
    }
    // Source positions that can align with any of those query positions.
    let s_lo = (c.d_lo - band + q_from as i64).max(0) as usize;
    let s_hi = (c.d_hi + q_to as i64 + band).max(0) as usize;
    seg.window_into(c.part, s_lo..s_hi, &mut scratch.blocks, w)?;
    let w = &*w;
    let ws = w.norm_start as i64;
    let wstr = w.normalized.text.as_str();
    // The band in byte diagonals of (qsub, window).
    let d_lo = c.d_lo - band - ws + q_from as i64;
    let d_hi = c.d_hi + band - ws + q_from as i64;
    let Some((a, qa, sa)) = align_any(
        scratch,
        qsub,
        wstr,
        c,
        (q_from, ws),
        (d_lo, d_hi, band),
        (cfg.min_len, low, limits),
    ) else {
        return Ok(Pass::Nothing);
    };
    // Past the bound, a failure at a lone hit's margin is tried again at
    // the whole margin.
    let fail = if margin < QUERY_MARGIN {
        Pass::Wider
    } else {
        Pass::Nothing
    };
    let qa = qa.start + q_from..qa.end + q_from;
    if margin < QUERY_MARGIN
        && ((q_from > 0 && qa.start < q_from + k) || (q_to < qn.len() && qa.end + k > q_to))
    {
        return Ok(Pass::Wider);
    }
    // Whole source chars on both sides: a Hangul syllable is three jamo and
    // a ligature two letters once normalized, and an alignment that starts
    // or ends inside one would report the whole char as evidence.
    let qa = whole_source_chars(&qnorm.offsets, qa);
    let sa = whole_source_chars(&w.normalized.offsets, sa);
    // Content weights (quarters of a Latin letter) of both sides.
    let cq = normalize::content_weight(&qstr[qa.clone()]) as i64;
    let cs = normalize::content_weight(&wstr[sa.clone()]) as i64;
    let aligned = cq.max(cs);
    let sim = a.similarity();
    let (min_aligned, min_sim) = if low {
        (min_units * LOW_MIN_LEN_QUARTERS / 4, LOW_MIN_SIMILARITY)
    } else {
        (min_units, cfg.min_similarity)
    };
    if aligned < min_aligned || sim < min_sim || qa.is_empty() || sa.is_empty() {
        return Ok(fail);
    }
    // Symbols of the query side and their mean weight: the alignment
    // score counts symbols (+1 a match, -2 an edit), the thresholds content.
    let q_symbols = a.query.len() as i64;
    let per_symbol = |x: i64| x * cq / q_symbols.max(1);
    // Boilerplate never makes a match on its own: the query bytes of the
    // alignment that no common k-gram covers must reach the minimum length.
    // (A k-gram of a footer shared by many documents may be selected by
    // winnowing in only a few of them and so escape the common mark; its
    // neighbours, selected everywhere, are common and cover it.)
    let covered = i64::from(common_cover[qa.end] - common_cover[qa.start]);
    let novel = (qa.len() as i64 - covered) * cq / (qa.len() as i64).max(1);
    // The net score (matches minus the penalties of edits) of what is not
    // boilerplate must reach the minimum too: a formula of the domain with a
    // word changed ("work with Congress" / "work with the Congress") scores
    // below its length.
    let net = per_symbol(i64::from(a.score));
    if net < min_units || novel * 100 < min_units * NOVEL_SHARE {
        return Ok(fail);
    }
    // A low-identity alignment must reach the net score on what is not
    // boilerplate: each covered column earned at most one match, so the
    // rest earned at least `net - covered`. (A mail in the dump's template
    // with another body aligns at 73% over 319 letters: its header and
    // footer match in full, the bodies as any two texts of one language
    // do.)
    if low && net - (covered * cq / (qa.len() as i64).max(1)) < min_units {
        return Ok(fail);
    }
    let query_span = qnorm.source_span(text, qa.clone());
    // Source span: offsets are relative to the part's text; the window's
    // text starts at w.text_start.
    let offs = &w.normalized.offsets;
    let src_start = offs[sa.start] as usize;
    let last = offs[sa.end - 1] as usize;
    let rel_last = last - w.text_start;
    let last_len = w
        .text
        .get(rel_last..)
        .and_then(|t| t.chars().next())
        .map_or(1, char::len_utf8);
    let src_end = last + last_len;
    let snippet_raw = w
        .text
        .get(src_start - w.text_start..src_end - w.text_start)
        .unwrap_or("");
    // Figures are compared as written (normalization folds 0 and 1 into
    // letters and drops the separators between numbers).
    if low && !numbers_agree(&text[query_span.clone()], snippet_raw) {
        return Ok(fail);
    }
    let (source, source_decoded, also) = index.source_of_decoded(c.seg as usize, c.part)?;
    Ok(Pass::Found(Match {
        source,
        source_decoded,
        also,
        segment: c.seg,
        part: c.part,
        query_span,
        source_span: src_start..src_end,
        score: (cq as f64 / content.max(1) as f64).min(1.0),
        similarity: sim,
        aligned_len: (aligned / i64::from(normalize::WEIGHT_UNIT)) as usize,
        snippet: snippet(snippet_raw, cfg.snippet_chars),
        query_norm: qa,
        source_norm: (sa.start + w.norm_start)..(sa.end + w.norm_start),
    }))
}

/// Whether the numbers of a low-identity alignment's two sides agree: when
/// the query side holds two or more numbers (runs of two or more ASCII
/// digits that touch no letter but a digit look-alike: "s00n" is a misread
/// word, "2O14" a misread figure), at least half
/// of them occur on the source side: as they are,
/// or, for numbers of three digits or more, within one edit (OCR drops,
/// doubles and misreads digits too; two-digit numbers one edit apart are
/// too many to tell anything).
///
/// A formula of the domain filled in with other figures ("the public land
/// disposed of during the year amounted to 10,406,100.77 acres" against
/// "... lands ... amount to 13,453,887.96 acres", 78% similar over 95
/// characters, sharing 30) aligns as well as a noisy reading of the same
/// sentence; its figures are what tell it apart (none of its 7 numbers is
/// found). That formula, a same-domain hard negative of the English tuning
/// half, was the one negative the low-identity verification newly matched
/// without this rule.
pub(super) fn numbers_agree(q: &str, s: &str) -> bool {
    /// Numbers compared at most (a table of figures is decided by its first).
    const MAX_NUMBERS: usize = 64;
    /// ASCII letters OCR reads for digits (0 O o D Q, 1 I l i, 2 Z z,
    /// 5 S s, 6 G b, 8 B, 9 g q): next to one, a digit run may be part of
    /// a misread figure ("2O14"), so it still counts.
    const DIGIT_LOOKALIKES: &[u8] = b"OoDQIliZzSsGbBgq";
    /// Runs of two or more ASCII digits; with `standalone`, only those
    /// that touch no ASCII letter other than a digit look-alike (figures
    /// next to ideographs, "2014年", count).
    pub(super) fn numbers(t: &str, standalone: bool) -> Vec<&[u8]> {
        let word_letter = |c: Option<&u8>| {
            c.is_some_and(|c| c.is_ascii_alphabetic() && !DIGIT_LOOKALIKES.contains(c))
        };
        let b = t.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() && out.len() < MAX_NUMBERS {
            if !b[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let touches_letter =
                word_letter(start.checked_sub(1).and_then(|j| b.get(j))) || word_letter(b.get(i));
            if i - start >= 2 && !(standalone && touches_letter) {
                out.push(&b[start..i]);
            }
        }
        out
    }
    // A run of digits inside a word of the reading ("s00n", "l00k") is a
    // misread word, not a figure; the source side keeps every run.
    let (nq, ns) = (numbers(q, true), numbers(s, false));
    if nq.len() < 2 {
        return true;
    }
    let shared = nq
        .iter()
        .filter(|n| {
            ns.iter()
                .any(|m| *n == m || (n.len() >= 3 && within_one_edit(n, m)))
        })
        .count();
    shared * 2 >= nq.len()
}

/// Whether `a` becomes `b` by at most one char replaced, deleted or inserted.
pub(super) fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let head = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        // One replacement at most: the rest after the first difference.
        head == short.len() || short[head + 1..] == long[head + 1..]
    } else {
        // One insertion into the short side at the first difference.
        short[head..] == long[head + 1..]
    }
}

/// Shrinks a normalized range so that it holds only whole expansions of
/// source chars: the normalized chars one source char produced share its
/// offset, so a range that starts after the first of them, or ends before
/// the last, is moved inward to where the offset changes (normalized chars
/// of one source char share an offset, so that is a char boundary).
pub(crate) fn whole_source_chars(offsets: &[u32], r: Range<usize>) -> Range<usize> {
    let (mut start, mut end) = (r.start, r.end.min(offsets.len()));
    if start > 0 {
        while start < end && offsets[start] == offsets[start - 1] {
            start += 1;
        }
    }
    if end < offsets.len() {
        while end > start && offsets[end - 1] == offsets[end] {
            end -= 1;
        }
    }
    start..end
}

/// The smallest char boundary of `s` at or above `i`.
fn ceil_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Buffers of one thread's verifications.
pub(crate) struct VerifyScratch {
    pub(super) aligner: Aligner,
    pub(super) low_aligner: Aligner,
    pub(super) blocks: BlockCache,
    pub(super) symbols: Symbols,
}

/// Chars of the two sides of a verification as small ids (the aligner
/// compares `u16`s), with the byte offset of every char.
#[derive(Default)]
pub(super) struct Symbols {
    ids: rustc_hash::FxHashMap<char, u16>,
    pub(super) q: Vec<u16>,
    pub(super) s: Vec<u16>,
    /// Byte offset of each char of each side, plus the side's length.
    pub(super) q_at: Vec<u32>,
    pub(super) s_at: Vec<u32>,
}

impl Symbols {
    /// Fill both sides; `None` when they hold more distinct chars than ids.
    pub(super) fn load(&mut self, q: &str, s: &str) -> Option<()> {
        self.ids.clear();
        for (text, out, at) in [
            (q, &mut self.q, &mut self.q_at),
            (s, &mut self.s, &mut self.s_at),
        ] {
            out.clear();
            at.clear();
            for (i, ch) in text.char_indices() {
                let next = self.ids.len();
                if next > usize::from(align::MAX_SYMBOL_ID) {
                    return None;
                }
                let id = *self.ids.entry(ch).or_insert(next as u16);
                out.push(id);
                at.push(i as u32);
            }
            at.push(text.len() as u32);
        }
        Some(())
    }

    /// Index of the char of a side that holds byte `b` (the last char for
    /// bytes past the end).
    pub(super) fn char_of(at: &[u32], b: i64) -> i64 {
        let b = b.max(0) as u32;
        (at.partition_point(|&x| x <= b) as i64 - 1).max(0)
    }
}
