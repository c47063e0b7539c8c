//! Finding a query's leaked content: seed, cluster, verify.
//!
//! 1. **Seeds.** The query is normalized exactly as the index was and its
//!    k-grams hashed. With [`Seeds::Minima`] (the default) the k-grams that
//!    are a minimum of one of the query's windows of w are looked up: a run
//!    of t = w + k - 1 bytes shared with an indexed text holds a whole
//!    window, whose minimum the index selected too, so nothing such a run
//!    would find is lost, at about 2 / (w + 1) of the lookups. With
//!    [`Seeds::All`] every k-gram is looked up, which also finds indexed
//!    k-grams inside shorter shared runs. The lookups of a query are done
//!    in batched passes whose cache misses overlap. Keys marked common, or
//!    with more postings than [`MatchConfig`]'s `max_postings` over all
//!    segments, seed nothing: they can never make a match on their own
//!    (nor do k-grams past a query's first 2^30 normalized bytes, which
//!    are not looked up). Nor do periodic k-grams, whose key recurs less
//!    than k positions away in the query (a run of one character, a short
//!    pattern repeated: [`mark_low_complexity`]); like common ones, they
//!    cover their bytes in step 3.
//! 2. **Candidates.** Hits are grouped by part and by diagonal
//!    (source position - query position); hits whose diagonals differ by at
//!    most the band are chained into one candidate, so that indels from OCR
//!    or editing (which shift the diagonal) stay in one candidate while a
//!    second quoted passage (another diagonal) gets its own.
//!    A candidate of one hit on a k-gram that is no window minimum of the
//!    query (its shared run is shorter than t) is not verified, because the
//!    decoding of the stored text that verification needs is most of the
//!    cost of a query, nor is one whose k-gram's context (the bytes on
//!    each side, hashed into every posting) disagrees with the query's on
//!    both sides, which no exact run of `min_len` does (in format 7,
//!    unless the key has one posting in the whole index: see `find_with`),
//!    nor, in format 7, a chain of several hits whose every context
//!    disagrees (`Candidate::second_only`); every other candidate is, up
//!    to `max_candidates` (twice that for OCR text, whose tolerant seeds
//!    bring many candidates of one hit), unless a match explains it
//!    (step 3).
//! 3. **Verification.** Each candidate, best first, is aligned against the
//!    part's normalized text around it (local alignment in a diagonal band),
//!    which yields the exact spans and a similarity; spans map back to byte
//!    offsets in the query and in the part's extracted text. A match is kept
//!    when its aligned length and similarity pass the thresholds and it does
//!    not repeat a match already kept. Query bytes covered by common (or
//!    periodic) k-grams do not count toward the minimum length, so
//!    boilerplate never makes a match on its own, even where a few of its
//!    k-grams escaped the common mark. A candidate of another text whose
//!    hits all lie inside a query stretch a match already explains, with
//!    at most half that match's hits there (and it at least 3), is not
//!    verified (a text that shares a sentence of the quote:
//!    [`Explained`]), unless `every_source` is set or the seeds are
//!    tolerant. OCR text that fails is aligned a second time for a
//!    low-identity match (tiny text read with an error every few chars);
//!    then a match whose stretch another text matches clearly more
//!    similarly is dropped ([`EXPLAINED_GAP`]).
//! 4. **Second pieces.** Once a part is established by a match of full
//!    length, its other candidates outside the reported query stretches
//!    (those step 2 verifies only as second pieces among them), its lone
//!    hits on window minima whatever their context, and its chains the cap
//!    cut, are verified again with a minimum length of 24 and a similarity
//!    of 0.9 (not counted in `max_candidates`; the query stretches they
//!    read get the boilerplate cover too):
//!    the second passage of a "first ... second" quote is often shorter
//!    than the minimum length, and next to a confirmed source a short
//!    exact stretch is evidence, not chance.
//!
//! This module runs the steps for a query ([`find`]) and keeps the
//! buffers they reuse ([`Scratch`]); the helpers of the steps are in
//! `seeds` (the edited keys of OCR text, periodic k-grams, the
//! boilerplate cover), `candidates` (postings located and chained, the
//! ranking and the cap), `verify` (a candidate against its source window)
//! and `bridge` (the alignment it computes, bridged across a word).

use std::cell::RefCell;
use std::ops::Range;

use super::align::{Aligner, Scoring};
use super::{Match, MatchConfig, Seeds};
use crate::fingerprint;
use crate::index::segment::{Bucket, TextWindow};
use crate::index::text::BlockCache;
use crate::index::wire::ContextWidth;
use crate::index::{Index, IndexError};
use crate::normalize::{self, Normalized};
use crate::winnow;

mod bridge;
mod candidates;
mod seeds;
#[cfg(test)]
mod tests;
mod verify;

use bridge::*;
use candidates::*;
use seeds::*;
use verify::*;

/// Alignment scores: a mismatch or a gap costs two matches, so an
/// alignment never extends past a quote's end through a gap followed by a
/// couple of coincidental matches (with -1 it does: "signed off" + "on"
/// against "signed off\" #Son"), while a run of three or more matches
/// after an OCR error still pays for it.
fn scoring() -> Scoring {
    Scoring::new(1, -2, -2).expect("constant scoring is valid")
}

/// Scores of the second, low-identity verification of OCR text (see
/// [`LOW_MIN_SIMILARITY`]): an edit costs one match, so an alignment
/// grows while more than half of its columns match.
fn low_identity_scoring() -> Scoring {
    Scoring::new(1, -1, -1).expect("constant scoring is valid")
}

/// Lowest similarity of a low-identity match.
///
/// OCR text of tiny or blurred text (timeline thumbnails, 6-8 px) has an
/// error every three to five characters. At 25-35% errors the +1/-2/-2
/// alignment of [`scoring`] loses more at each error than it gains between
/// them and never reaches `min_len`, however long the quote. So a candidate
/// of OCR text ([`Seeds::Tolerant`]) that fails the first verification is
/// aligned again with [`low_identity_scoring`] and kept when that net
/// score (matches minus edits) reaches `min_len`, the alignment spans
/// [`LOW_MIN_LEN_QUARTERS`] quarters of `min_len`, at least this share of its
/// columns match, the boilerplate rule holds as for any match, and its
/// figures agree ([`numbers_agree`]).
///
/// Chosen on the tuning halves (BENCHMARKS.md "Low-identity OCR
/// matches"): English OCR above 15% errors 6 -> 8 of 23 found,
/// multilingual 9 -> 11 of 14, the seed-2026 tuning thumbnails 49 -> 51
/// of 55, no negative newly flagged. A similarity floor of 0.7 found one
/// English text fewer. Without the length floor (spans of `min_len`) two
/// multilingual negatives were flagged (a Chinese text of the same
/// language, a Cyrillic hard negative sharing 20-39 chars).
const LOW_MIN_SIMILARITY: f64 = 0.6;

/// A low-identity match spans at least this many quarters of `min_len`
/// (1.75 times; see [`LOW_MIN_SIMILARITY`]).
///
/// Chosen on the tuning halves (BENCHMARKS.md "Shorter low-identity
/// matches"): twice `min_len` (88 letters) lost a thumbnail whose reading
/// aligns over 85 (81% similar); 1.75 found it, and 1.5 found nothing more
/// on any tuning half. Both add matches to a Polish hard negative already
/// flagged (1.75 two, 1.5 four). Spans of `min_len` flagged two
/// multilingual negatives.
const LOW_MIN_LEN_QUARTERS: i64 = 7;

/// Tolerant seeds bring many candidates of a single hit (a k-gram one edit
/// from the query's that a stock phrase of other documents holds), which
/// crowd the right one out of [`MatchConfig::max_candidates`]: OCR text
/// keeps this many times as many. Measured on the tuning thumbnails: a
/// reading with 109 candidates, all of one hit, whose one hit on its
/// source ranked past the 32nd (most hits first, then by text hash) was
/// found at twice the cap, nothing more at four times; the OCR path's cost
/// did not change (`ocr_seeds_cost`, 8.9 ms median per text either way).
const TOLERANT_CANDIDATE_FACTOR: usize = 2;

/// Query bytes aligned beyond the first and last hit of a candidate (but
/// see [`lone_margin`]).
const QUERY_MARGIN: usize = 256;

/// Query bytes aligned beyond the k-gram of a candidate of one hit, for
/// text matched with exact seeds: 2w + k - 2 (64 with the defaults).
///
/// The shared run of bytes through a lone hit reaches at most w - 1 bytes
/// past its k-gram on either side: a run reaching w bytes past it holds a
/// whole window of w k-grams without it, whose minimum the index selected
/// too and the query looked up (a second hit, unless that key seeds
/// nothing: common, or over `max_postings`, or past a query's first 2^30
/// normalized bytes; a lone hit with such a key
/// within [`QUERY_MARGIN`] keeps the whole margin). Past an edit, the next
/// run is shorter than t = w + k - 1 bytes, for the same reason. So this
/// margin holds every alignment through the hit with at most one edit on
/// either side of the shared run. One that goes on through more edits
/// reaches the end of the stretch, or fails the thresholds there, and is
/// verified again with [`QUERY_MARGIN`] (`Pass::Wider`): only a candidate
/// whose score bound over the short stretch is below the minimum is
/// settled at this margin, which is what the lone hits of unrelated posts
/// (a stock phrase shared with a document) are. Not looked for any more:
/// an alignment that does not come near the hit, more than this margin
/// away (another copy of a stock phrase that happens to lie on a
/// neighbouring diagonal).
///
/// The stretch to bound and the source window to decode are then a
/// quarter to a third as long: the lone hits of unrelated posts were a
/// third of their matching time. Outputs are byte-identical to those with
/// [`QUERY_MARGIN`] on every query of `corpus/queries` and
/// `corpus/ml/queries`, 20,000 posts of the scale stream and 1,200 quotes
/// edited every 14-45 bytes (a margin of 48 changed two of those, 32 lost
/// matches in all four sets); the test
/// `lone_hits_at_their_margin_find_what_the_whole_margin_finds` holds it
/// to the whole margin's output (BENCHMARKS.md "A lone hit's margin").
///
/// OCR text keeps [`QUERY_MARGIN`]: its low-identity alignments from one
/// hit reached 148 bytes past it on the multilingual set (both halves).
fn lone_margin(k: usize, w: usize) -> usize {
    2 * w + k - 2
}

/// Decoded text blocks each matching thread keeps, a segment's block size
/// each: 64 KiB per thread with format 4's 1 KiB blocks (512 KiB with
/// format 3's 8 KiB). It serves the candidates of one post, which read
/// neighbouring windows; more would not serve other posts: on 20,000
/// posts of the scale stream an LRU of 1,024 blocks would have served
/// 0.3% of the block reads, one of 65,536 17.6% (BENCHMARKS.md "Where an
/// unrelated post's time goes").
const BLOCK_CACHE: usize = 64;

/// Bytes a stretch of common k-grams covers beyond its first and last
/// k-gram. The k-grams at the ends of a footer straddle the text before or
/// after it, which differs from document to document, so the documents'
/// winnowing selects them in too few documents to be common; a post with a
/// word the footer follows in two mails ("confidential", a signature's
/// name) then kept 20-30 novel bytes and matched. Chosen on the tuning
/// half: 2 to 8 took the template negatives from 5 of 30 flagged to 0 with
/// no recall lost on the exact, edited, near-duplicate and OCR rows
/// (English and multilingual); 10 and more cost exact quotes (BENCHMARKS.md
/// "Seeds that survive OCR errors, and the boilerplate cover").
const COMMON_EDGE: usize = 4;

/// Share (percent) of `min_len` that the bytes no common k-gram covers must reach.
const NOVEL_SHARE: i64 = 66;

/// Shortest second piece reported from a part the query already matched
/// at full length (normalized bytes), and its lowest similarity.
const SECONDARY_MIN_LEN: usize = 24;
const SECONDARY_MIN_SIMILARITY: f64 = 0.9;

/// Buffers reused across queries on one thread.
pub(crate) struct Scratch {
    norm: Normalized,
    hashes: Vec<u64>,
    /// The postings found, their hits and candidates.
    pool: Pool,
    /// Stretches explained by the query's matches so far ([`Explained`]).
    explained: Vec<Explained>,
    /// Remixed keys of the query's k-grams looked up, and their positions.
    keys: Vec<u64>,
    kpos: Vec<u32>,
    /// Their buckets, segment by segment (`segment * keys + k-gram`).
    buckets: Vec<Bucket>,
    /// Per normalized query byte: covered by a common k-gram (as a running
    /// count: `common_cover[i]` = covered bytes before i).
    common_cover: Vec<u32>,
    /// Per query k-gram: 0 not looked up, 1 common, 2 not common,
    /// [`LOW_COMPLEXITY`] periodic (not looked up; covers as a common one
    /// does).
    common_at: Vec<u8>,
    /// Per query k-gram: a minimum of one of its windows of `w`.
    minima: Vec<bool>,
    /// Per query k-gram: its key has one posting in the whole index, in
    /// a segment of format 7 (`ContextWidth::Longer`), whose lone hit the
    /// context does not rule out (see `find_with`).
    exempt: Vec<bool>,
    /// Scratch of `winnow::window_minima`.
    queue: Vec<u64>,
    /// Parts (segment, part) with a match of full length in this query.
    sources: Vec<(u32, u32)>,
    /// [`Candidate::hit_order`] of the lone hits among the candidates
    /// kept, sorted (second pieces verify them once).
    kept_lone: Vec<(u32, u32, i64, u32)>,
    /// Query positions of the exact k-grams to look up that seed nothing:
    /// common, or with more postings than `max_postings`, or periodic
    /// ([`LOW_COMPLEXITY`]), or past the first 2^30 normalized bytes (not
    /// looked up); increasing.
    seedless: Vec<u32>,
    /// [`Seeds::Tolerant`]: the edited k-grams, their hashes, the alphabet.
    edit: EditScratch,
    verify: VerifyScratch,
    /// The source window read for the candidate being verified (its
    /// buffers are reused from candidate to candidate).
    window: TextWindow,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            norm: Normalized::default(),
            hashes: Vec::new(),
            pool: Pool::default(),
            explained: Vec::new(),
            keys: Vec::new(),
            kpos: Vec::new(),
            buckets: Vec::new(),
            common_cover: Vec::new(),
            common_at: Vec::new(),
            minima: Vec::new(),
            exempt: Vec::new(),
            queue: Vec::new(),
            sources: Vec::new(),
            kept_lone: Vec::new(),
            seedless: Vec::new(),
            edit: EditScratch::default(),
            verify: VerifyScratch {
                aligner: Aligner::new(scoring()),
                low_aligner: Aligner::new(low_identity_scoring()),
                blocks: BlockCache::new(BLOCK_CACHE),
                symbols: Symbols::default(),
            },
            window: TextWindow::default(),
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
}

/// Find the matches of `text` in `index`.
pub(crate) fn find(
    index: &Index,
    cfg: &MatchConfig,
    seeds: Seeds,
    text: &str,
) -> Result<Vec<Match>, IndexError> {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => find_with(index, cfg, seeds, text, &mut s),
        // Re-entrant use on one thread (not done by this crate): fresh buffers.
        Err(_) => find_with(index, cfg, seeds, text, &mut Scratch::new()),
    })
}

fn find_with(
    index: &Index,
    cfg: &MatchConfig,
    seeds: Seeds,
    text: &str,
    s: &mut Scratch,
) -> Result<Vec<Match>, IndexError> {
    // Per-query state starts empty even if a previous query of this
    // thread ended early with an error.
    s.sources.clear();
    let text = &text[..crate::extract::floor_char_boundary(text, cfg.max_query_bytes)];
    let p = index.params();
    let k = p.k as usize;
    s.norm.text.clear();
    s.norm.offsets.clear();
    normalize::normalize_into(text, 0, &mut s.norm.text, &mut s.norm.offsets);
    let qn = s.norm.text.as_bytes();
    if qn.len() < k {
        return Ok(Vec::new());
    }
    fingerprint::kgram_hashes(qn, k, p.seed, &mut s.hashes);
    // Seeds.
    let w = p.w as usize;
    let segs = index.segments();
    // Lookups in passes, each a loop of independent memory reads that the
    // processor overlaps: the bucket of every key in every segment, then
    // the postings; the parts holding them are found in
    // `Pool::candidates`.
    // Which k-grams are looked up: the window minima of the query (every
    // run of t bytes shared with an indexed text holds one that the index
    // selected too), or all of them.
    winnow::window_minima(&s.hashes, w, &mut s.queue, &mut s.minima);
    s.keys.clear();
    s.kpos.clear();
    let tolerant = seeds == Seeds::Tolerant;
    let all = seeds == Seeds::All || tolerant;
    for (i, &h) in s.hashes.iter().enumerate() {
        if all || s.minima[i] {
            s.keys.push(fingerprint::remix(h));
            s.kpos.push(i as u32);
        }
    }
    // Keys from here on are k-grams one edit away from the query's: they
    // seed, but a common one marks no boilerplate (it is not in the query).
    let n_exact = s.keys.len();
    s.common_at.clear();
    s.common_at.resize(s.hashes.len(), 0);
    s.exempt.clear();
    s.exempt.resize(s.hashes.len(), false);
    if tolerant {
        one_edit_keys(qn, k, p.seed, &mut s.edit, &mut s.keys, &mut s.kpos);
    }
    mark_low_complexity(&s.keys[..n_exact], &s.kpos[..n_exact], k, &mut s.common_at);
    let n = s.keys.len();
    s.buckets.clear();
    let sharded = index.shard_count() > 1;
    for (si, seg) in segs.iter().enumerate() {
        if sharded {
            // Each key's bucket in the shard that holds its postings (the
            // same postings the unsharded segment holds: `index::shards`).
            let keys = &s.keys;
            s.buckets
                .extend(keys.iter().map(|&k| index.lookup_segment(si, k).bucket(k)));
        } else {
            seg.buckets(&s.keys, &mut s.buckets);
        }
    }
    s.pool.clear_found(segs.len());
    s.seedless.clear();
    for (ki, (&key, &qpos)) in s.keys.iter().zip(&s.kpos).enumerate() {
        if qpos > Found::MAX_QPOS {
            // Past the first 2^30 normalized bytes: not looked up, a minimum
            // that seeds nothing (for `first_margin`).
            if ki < n_exact {
                s.seedless.push(qpos);
            }
            continue;
        }
        let qpos = qpos as usize;
        // (An edited key may start past the last k-gram: an insertion of
        // a multibyte char at the query's end.)
        if s.common_at.get(qpos) == Some(&LOW_COMPLEXITY) {
            // Periodic text seeds nothing, nor do the edits of its
            // k-grams (OCR text): the k-grams across a periodic stretch's
            // ends are not periodic and keep theirs.
            if ki < n_exact {
                s.seedless.push(qpos as u32);
            }
            continue;
        }
        let mut found_here = 0usize;
        s.pool.mark();
        let mut common = index.is_common(key);
        let edited = ki >= n_exact;
        // The query k-gram's context, as the last segment's format
        // computes it (segments of several formats: an index grown across
        // versions).
        let mut qctx: Option<(ContextWidth, u16)> = None;
        // Whether the key's one posting so far lies in a segment of format
        // 7 whose context rule is on (see below).
        let mut one_in_longer = false;
        'segs: for si in 0..segs.len() {
            if common {
                break;
            }
            let seg = index.lookup_segment(si, key);
            // The segment the postings come from (a shard's, when the
            // index is sharded) says what they keep of the context.
            let width = seg.context_width();
            // Whether a context that disagrees rules a lone hit out (see
            // the rule below): only when every exact match of `min_len`
            // through the hit agrees on one side.
            let by_context =
                width != ContextWidth::None && cfg.min_len >= k + 2 * width.reach() - 1;
            let mut postings = seg.postings_of(s.buckets[si * n + ki]);
            let found = &mut s.pool.found[si];
            let mark = found.len();
            while let Some((pos, ctx)) = postings.next_with_context() {
                let agrees = !by_context || {
                    let q = match qctx {
                        Some((w, q)) if w == width => q,
                        _ => {
                            let q = width.of_query(qn, qpos, k);
                            qctx = Some((width, q));
                            q
                        }
                    };
                    width.agrees(q, ctx)
                };
                found.push(Found::new(qpos as u32, pos, agrees));
                if found_here + found.len() - mark > cfg.max_postings {
                    common = true;
                    break 'segs;
                }
            }
            let here = found.len() - mark;
            if here > 0 {
                one_in_longer = here == 1 && by_context && width == ContextWidth::Longer;
            }
            found_here += here;
        }
        if common {
            s.pool.back_to_mark();
        } else if !edited && found_here == 1 && one_in_longer {
            // Contexts of 14 bytes rule out only the lone hits of keys with
            // two postings or more in the index (counted over every segment,
            // so that how the index was cut into segments changes nothing;
            // postings of removed texts count until `compact`): a key in one
            // place is the likeliest seed of a quote, and an edit within 14
            // bytes of both its sides lost three edited quotes of the
            // evaluation (see `fingerprint::context`). The posting keeps
            // what its context says, for second pieces (`lone_of_sources`).
            s.exempt[qpos] = true;
        }
        if !edited {
            s.common_at[qpos] = if common { 1 } else { 2 };
            if common {
                s.seedless.push(qpos as u32);
            }
        }
    }
    let cap = if tolerant {
        cfg.max_candidates.saturating_mul(TOLERANT_CANDIDATE_FACTOR)
    } else {
        cfg.max_candidates
    };
    let live = index.liveness();
    s.pool.candidates(
        segs,
        live,
        (&s.minima, &s.exempt),
        cfg.band as i64,
        cap,
        tolerant,
    );
    // A post whose hits all fail the rules above (most unrelated posts
    // with hits) is settled here, before the cover below: it checks every
    // k-gram of the query against the common set, which took a long post
    // with no candidate left (fortunes of 1 KiB) 40-56 us.
    // (As is one whose every candidate is a second piece only: no match
    // of full length can make a text a source.)
    if s.pool.cands.iter().all(|c| c.second_only) {
        return Ok(Vec::new());
    }
    // Boilerplate cover: every k-gram of the query that is common, and the
    // gap back to the previous common k-gram when it is at most w away:
    // winnowing selects in every window of w, so a run between two common
    // selections that close holds no other selection of the documents: it
    // is part of the same boilerplate. The k-grams not looked up (not
    // window minima) are checked against the common set here, only for
    // queries with hits: with the minima alone, a footer's cover had holes
    // wherever the query's minima fell on its non-common k-grams, and a
    // mail in the dump's template matched 53 times in 30 tuning queries
    // (5 with every k-gram checked; BENCHMARKS.md "Seeds that survive OCR
    // errors, and the boilerplate cover").
    // Each covered stretch also reaches COMMON_EDGE bytes past both ends.
    // Only the query stretches the candidates verify read the cover
    // (`verify`'s q_from..q_to: QUERY_MARGIN around their hits, widened
    // to whole chars): it is computed around them (see `boilerplate_cover`).
    let (lo, hi) = stretch_of(&s.pool.cands, k);
    let cover = |(lo, hi): (usize, usize), cover: &mut Vec<u32>| {
        let reach = QUERY_MARGIN + 4;
        cover.clear();
        cover.resize(qn.len() + 1, 0);
        let (hashes, common_at) = (&s.hashes, &s.common_at);
        boilerplate_cover(
            (k, w, hashes.len()),
            lo.saturating_sub(reach)..(hi + reach).min(qn.len()),
            cover,
            |qpos| match common_at[qpos] {
                1 | LOW_COMPLEXITY => true,
                2 => false,
                _ => index.is_common(fingerprint::remix(hashes[qpos])),
            },
        );
    };
    cover((lo, hi), &mut s.common_cover);
    let mut out: Vec<Match> = Vec::new();
    let cands = std::mem::take(&mut s.pool.cands);
    let mut q = QueryView {
        text,
        qn,
        qnorm: &s.norm,
        common_cover: &s.common_cover,
        content: normalize::content_weight(&s.norm.text) as i64,
        limits: QueryLimits::of(&s.norm),
        lone_margin: if tolerant {
            QUERY_MARGIN
        } else {
            lone_margin(k, w).min(QUERY_MARGIN)
        },
        seedless: &s.seedless,
    };
    // Every candidate kept is verified, but for those a match explains
    // (`Explained`, below) and those verified only as second pieces
    // (`Candidate::second_only`). (Until December 2026 candidates
    // with the evidence of two that had failed, the same query stretch, hit
    // count and diagonal spread, were skipped as copies of one stock phrase;
    // but a copy that goes on where the others stop has that same evidence,
    // and the skip lost it: a Ukrainian cp(1) quote whose middle is in 12
    // other manual pages, and about one quoting post in a hundred of the
    // scale stream. See BENCHMARKS.md "Copies of a stock phrase".)
    // The source windows of the candidates are asked of the processor
    // before the first is read, in two rounds: the records, then the
    // compressed text they point to (`Segment::prefetch_window_records`);
    // for candidates a match may explain, only once those that can explain
    // them are verified (below).
    // Their cache misses then overlap: a window read took 1.7 us instead
    // of 3.1 us, the two rounds 0.84 us a candidate. (Asked for two and
    // four candidates ahead of the one verified instead, the stream ran
    // 2% slower; BENCHMARKS.md "Windows asked for ahead".)
    let window_of = |c: &Candidate| {
        let margin = first_margin(&q, c, k);
        let q_from = (c.q_lo as usize).saturating_sub(margin) as i64;
        let q_to = (c.q_hi as usize + k + margin).min(qn.len()) as i64;
        let band = cfg.band as i64;
        (c.d_lo - band + q_from).max(0) as usize..(c.d_hi + q_to + band).max(0) as usize
    };
    // Texts that only repeat a piece of a stretch another text's match
    // already explains are not verified (see `Explained`); text with
    // tolerant seeds (OCR) keeps every candidate (`drop_explained` decides
    // there, after alignment).
    let explaining = !tolerant && !cfg.every_source;
    s.explained.clear();
    // Candidates are in rank order, most hits first: those with more than
    // half the first one's hits can be explained by no other, and are
    // verified first; which of the rest are explained is known only once
    // those are, so their windows are asked for then, and only theirs.
    let top = cands.first().map_or(0, |c| c.hits);
    let sure = if explaining {
        cands.partition_point(|c| c.hits * EXPLAINING_HITS_FACTOR > top)
    } else {
        cands.len()
    };
    let (first, rest) = cands.split_at(sure);
    for round in [first, rest] {
        let open = |c: &&Candidate| {
            !c.second_only && (!explaining || !Explained::covers(&s.explained, c, k))
        };
        for c in round.iter().filter(open) {
            segs[c.seg as usize].prefetch_window_records(c.part, window_of(c));
        }
        for c in round.iter().filter(open) {
            segs[c.seg as usize].prefetch_window_text(c.part, window_of(c));
        }
        for c in round {
            // (Checked again: a match of this round may explain it.)
            if c.second_only || explaining && Explained::covers(&s.explained, c, k) {
                continue;
            }
            let mut found = verify(index, cfg, &q, c, &mut s.verify, false, &mut s.window)?;
            // OCR text: a candidate that fails is aligned again for a match at
            // 60-75% identity (tiny text read with an error every few chars).
            if found.is_none() && tolerant {
                found = verify(index, cfg, &q, c, &mut s.verify, true, &mut s.window)?;
            }
            if let Some(m) = found {
                // The hits inside the match's own stretch are its evidence
                // (a candidate's hits may reach past what aligned).
                let e = &m.query_norm;
                let inside = s.pool.hits[c.first_hit as usize..][..c.hits as usize]
                    .iter()
                    .filter(|h| e.start <= h.qpos as usize && h.qpos as usize + k <= e.end)
                    .count() as u32;
                let stretch = (explaining && inside >= EXPLAINING_MIN_HITS).then(|| Explained {
                    seg: c.seg,
                    part: c.part,
                    query_norm: e.clone(),
                    hits: inside,
                });
                if !s.sources.contains(&(c.seg, c.part)) {
                    s.sources.push((c.seg, c.part));
                }
                // (A match that repeats one of its own text's explains
                // nothing that one does not.)
                if push_new(&mut out, m) {
                    s.explained.extend(stretch);
                }
            }
        }
    }
    // OCR text: a stretch matched by a text clearly more similar is not
    // also reported for a text that merely shares a formula with it, nor
    // does that text stay established for second pieces.
    if tolerant {
        drop_explained(&mut out, EXPLAINED_GAP);
        s.sources
            .retain(|&(seg, part)| out.iter().any(|m| (m.segment, m.part) == (seg, part)));
    }
    // Second pieces: once a part is established as a source by a match of
    // full length, other stretches of the query that align with that same
    // part are reported down to SECONDARY_MIN_LEN bytes at
    // SECONDARY_MIN_SIMILARITY (the "..." joins of two passages of one
    // mail, whose second piece is often shorter than the minimum length).
    if !s.sources.is_empty() && cfg.min_len > SECONDARY_MIN_LEN {
        let relaxed = MatchConfig {
            min_len: SECONDARY_MIN_LEN,
            min_similarity: cfg.min_similarity.max(SECONDARY_MIN_SIMILARITY),
            ..cfg.clone()
        };
        // (With the lone hits of those parts, whatever their context, and
        // their chains the cap cut: a second piece may be too short for the
        // context's guarantee, and may have been cut by the cap. They are
        // not cut to the cap: which parts are sources is known only now,
        // and a cut by index order would keep those of the first parts.)
        let mut unverified = std::mem::take(&mut s.pool.unverified);
        // (With the postings set aside for them, of these texts.)
        s.pool
            .lone_of_sources(segs, live, &s.minima, &s.sources, &mut unverified);
        // (A lone hit that is a candidate is in both; verified once.)
        let lone = &mut s.kept_lone;
        lone.clear();
        lone.extend(
            cands
                .iter()
                .filter(|c| c.hits == 1)
                .map(Candidate::hit_order),
        );
        if !lone.is_empty() {
            lone.sort_unstable();
            unverified.retain(|u| lone.binary_search(&u.hit_order()).is_err());
        }
        // The boilerplate cover reaches the query stretches these read
        // (those of lone hits and cut chains may lie past the candidates').
        let sources = &s.sources;
        let of_sources = cands
            .iter()
            .chain(&unverified)
            .filter(|c| sources.contains(&(c.seg, c.part)));
        let (slo, shi) = stretch_of(of_sources, k);
        if slo < lo || shi > hi {
            let (content, limits, lone_margin) = (q.content, q.limits, q.lone_margin);
            cover((lo.min(slo), hi.max(shi)), &mut s.common_cover);
            q = QueryView {
                text,
                qn,
                qnorm: &s.norm,
                common_cover: &s.common_cover,
                content,
                limits,
                lone_margin,
                seedless: &s.seedless,
            };
        }
        for c in cands.iter().chain(&unverified) {
            if !s.sources.contains(&(c.seg, c.part)) {
                continue;
            }
            let (lo, hi) = (c.q_lo as usize, c.q_hi as usize + k);
            if out
                .iter()
                .any(|o| lo >= o.query_norm.start && hi <= o.query_norm.end)
            {
                continue;
            }
            if let Some(m) = verify(index, &relaxed, &q, c, &mut s.verify, false, &mut s.window)? {
                push_new(&mut out, m);
            }
        }
        s.pool.unverified = unverified;
    }
    s.sources.clear();
    s.pool.cands = cands;
    out.sort_by(|a, b| {
        (a.query_span.start, a.segment, a.part).cmp(&(b.query_span.start, b.segment, b.part))
    });
    Ok(out)
}

/// Adds `m` unless it repeats a match already in `out` (same part, and
/// more than half of its query and source stretches already reported);
/// whether it did.
fn push_new(out: &mut Vec<Match>, m: Match) -> bool {
    let dup = out.iter().any(|o| {
        o.segment == m.segment
            && o.part == m.part
            && overlap(&o.query_norm, &m.query_norm) * 2 > m.query_norm.len()
            && overlap(&o.source_norm, &m.source_norm) * 2 > m.source_norm.len()
    });
    if !dup {
        out.push(m);
    }
    !dup
}

/// How much more similar another text's match over the same query
/// stretch must be for a match of OCR text to be dropped as explained by
/// it ([`drop_explained`]).
///
/// The tolerant seeds and the larger candidate cap of OCR text
/// ([`TOLERANT_CANDIDATE_FACTOR`]) verify texts that share only a formula
/// with the quote: a thumbnail of "Mr. President, my colleagues in the
/// Congress, our distinguished guests and my fellow Americans" matched its
/// speech at 0.96, two later ones of the same president at 0.92 (the same
/// sentence, one word changed: kept), and another president's "Mr.
/// President, Members of the 105th Congress, distinguished guests, and my
/// fellow Americans" at 0.77 (39 chars shared: dropped). On the tuning
/// halves (BENCHMARKS.md "Shorter low-identity matches") 0.1 and 0.15 lost
/// no query and no span; 0.1 dropped more matches to other texts (English
/// OCR 3 -> 1, multilingual OCR 4 -> 2) and to negatives (multilingual
/// boilerplate and hard negatives as OCR 409 -> 397, no query unflagged).
const EXPLAINED_GAP: f64 = 0.1;

/// Drops a match whose query stretch is mostly (more than half) that of
/// a match to another text at least `gap` more similar: the quote's text
/// is explained by that one (the same stretch in two texts of about the
/// same similarity, a passage the dump holds twice, keeps both).
fn drop_explained(out: &mut Vec<Match>, gap: f64) {
    let keep: Vec<bool> = out
        .iter()
        .map(|m| {
            !out.iter().any(|o| {
                (o.segment, o.part) != (m.segment, m.part)
                    && o.similarity >= m.similarity + gap
                    && overlap(&o.query_norm, &m.query_norm) * 2 > m.query_norm.len()
            })
        })
        .collect();
    let kept = std::mem::take(out)
        .into_iter()
        .zip(keep)
        .filter_map(|(m, k)| k.then_some(m));
    out.extend(kept);
}

fn overlap(a: &Range<usize>, b: &Range<usize>) -> usize {
    a.end.min(b.end).saturating_sub(a.start.max(b.start))
}

/// The matched source text on one line, cut in the middle if long.
fn snippet(s: &str, max_chars: usize) -> String {
    // No intermediate vector of words. Built with a split, a join and two
    // passes over chars (the test's `naive_snippet`), a snippet took about
    // 2 us a match of 200-300 bytes, a third of the match's alignment.
    if s.is_ascii() {
        // (The same words, split on ASCII's White_Space bytes, a char a
        // byte, without decoding chars.)
        let mut bytes = Vec::with_capacity(s.len());
        for word in s
            .as_bytes()
            .split(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
            .filter(|w| !w.is_empty())
        {
            if !bytes.is_empty() {
                bytes.push(b' ');
            }
            bytes.extend_from_slice(word);
        }
        if bytes.len() > max_chars {
            let half = max_chars / 2;
            let tail = bytes.len() - half;
            bytes.splice(half..tail, " … ".bytes());
        }
        // (ASCII words and the ellipsis: UTF-8.)
        return String::from_utf8(bytes).unwrap_or_default();
    }
    let mut flat = String::with_capacity(s.len());
    let mut chars = 0usize;
    for word in s.split_whitespace() {
        if !flat.is_empty() {
            flat.push(' ');
            chars += 1;
        }
        flat.push_str(word);
        chars += word.chars().count();
    }
    if chars <= max_chars {
        return flat;
    }
    let half = max_chars / 2;
    // Byte offsets of the head's end and the tail's start (the last
    // `half` chars, found from the end).
    let head_end = flat.char_indices().nth(half).map_or(flat.len(), |(i, _)| i);
    let tail_start = match half {
        0 => flat.len(),
        _ => flat
            .char_indices()
            .rev()
            .nth(half - 1)
            .map_or(0, |(i, _)| i),
    };
    let mut out = String::with_capacity(head_end + flat.len() - tail_start + 5);
    out.push_str(&flat[..head_end]);
    out.push_str(" … ");
    out.push_str(&flat[tail_start..]);
    out
}
