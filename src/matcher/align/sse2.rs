//! The fill of `i16` cells with SSE2 (baseline on x86_64), for bands of up
//! to 64 lanes: the two rows a row depends on stay in registers.
//!
//! Why not the portable kernel: a row reads the row just stored at an
//! offset of one lane (the query step when the row's parity is 1, the
//! source step when it is 0). A 16-byte load that straddles two 16-byte
//! stores still in the store buffer cannot be forwarded from them and
//! waits until they are written to the cache, on every row. Here the
//! shifted row is made from the previous row's registers (a byte shift
//! and an or per vector), and the rows are only stored, for the
//! traceback, never read back during the fill. The deferred search for
//! the best cell (the row maxima first, the lane of the best only in the
//! rows that reach it) also removes a scan of the row each time the best
//! score grows, which is every other row along an alignment.
//!
//! The cells are the same values as the portable kernel's (the same
//! operations per lane, in the same order; no value comes near the ends of
//! `i16`, so wrapping adds equal checked ones), so the oracle tests of the
//! aligner cover this path: every band of up to 128 diagonals takes it.

use std::arch::x86_64::{
    __m128i, _mm_add_epi16, _mm_and_si128, _mm_cmpeq_epi16, _mm_cvtsi128_si32, _mm_loadu_si128,
    _mm_max_epi16, _mm_min_epi16, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi16,
    _mm_setzero_si128, _mm_slli_si128, _mm_srli_si128, _mm_storeu_si128,
};

use super::{last_index_of, Geometry, Lane, Scoring};

/// Lanes of `i16` per vector.
const W: usize = 8;

/// Loads 8 lanes from `s[at..at + 8]` (bounds checked).
#[inline]
#[target_feature(enable = "sse2")]
fn load<T: Copy>(s: &[T], at: usize) -> __m128i {
    const { assert!(std::mem::size_of::<T>() == 2) };
    let chunk: &[T; W] = s[at..at + W].try_into().expect("8 lanes");
    // SAFETY: `chunk` is 8 two-byte values, 16 readable bytes; the load
    // has no alignment requirement.
    unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) }
}

/// Stores 8 lanes to `s[at..at + 8]` (bounds checked).
#[inline]
#[target_feature(enable = "sse2")]
fn store(s: &mut [i16], at: usize, v: __m128i) {
    let chunk: &mut [i16; W] = (&mut s[at..at + W]).try_into().expect("8 lanes");
    // SAFETY: `chunk` is 16 writable bytes borrowed mutably; the store has
    // no alignment requirement.
    unsafe { _mm_storeu_si128(chunk.as_mut_ptr().cast(), v) }
}

/// The largest lane of `v`, or 0 when every lane is negative.
#[inline]
#[target_feature(enable = "sse2")]
fn max_lane(mut v: __m128i) -> i16 {
    v = _mm_max_epi16(v, _mm_srli_si128::<8>(v));
    v = _mm_max_epi16(v, _mm_srli_si128::<4>(v));
    v = _mm_max_epi16(v, _mm_srli_si128::<2>(v));
    (_mm_cvtsi128_si32(v) as i16).max(0)
}

/// The fill of `super::fill` for `i16` cells and `V * 8` lanes: the same
/// cells in `cells`, the same best value and cell. `row_max` is scratch.
///
/// (A safe function of the target feature: callers outside this module
/// need an `unsafe` block that says why SSE2 is there.)
#[target_feature(enable = "sse2")]
pub(super) fn fill<const V: usize>(
    cells: &mut [i16],
    caps: &[i16],
    row_max: &mut Vec<i16>,
    (qpad, spad): (&[u16], &[u16]),
    n: usize,
    sc: Scoring,
    geo: Geometry,
) -> (i16, (usize, usize)) {
    let Geometry {
        lo,
        t_min,
        t_max,
        stride,
        ..
    } = geo;
    let lanes = V * W;
    debug_assert_eq!(stride, lanes + 2);
    let forbidden = _mm_set1_epi16(i16::FORBIDDEN);
    let zero = _mm_setzero_si128();
    let mismatch = _mm_set1_epi16(i16::narrow(sc.mismatch));
    // A match adds `matched`: `mismatch` plus this where the symbols agree.
    let delta = _mm_set1_epi16(i16::narrow(sc.matched) - i16::narrow(sc.mismatch));
    let gap = _mm_set1_epi16(i16::narrow(sc.gap));
    let cap: [[__m128i; V]; 2] =
        std::array::from_fn(|p| std::array::from_fn(|k| load(caps, p * lanes + k * W)));
    // Vectors below this one are in the band on rows of both parities
    // (their caps change nothing): only the last vectors are capped.
    let uncapped = caps[lanes..2 * lanes]
        .iter()
        .position(|&c| c != i16::CAP)
        .unwrap_or(lanes)
        / W;
    let pad = super::pad_len(stride) as isize;
    // Rows t - 1 and t - 2; the two rows before t_min are forbidden.
    let mut prev = [forbidden; V];
    let mut prev2 = [forbidden; V];
    // Each row's lane-wise maximum over its vectors (8 values a row): the
    // row's largest cell is found after the fill, only where needed (every
    // lane is written before it is read).
    let rows = (t_max - t_min + 1).max(0) as usize;
    if row_max.len() < rows * W {
        row_max.resize(rows * W, 0);
    }
    for t in t_min..=t_max {
        let p = ((t - lo) & 1) as usize;
        let d0 = lo + p as isize;
        let i0 = (t - d0) / 2;
        let j0 = (t + d0) / 2;
        let r0 = (pad + n as isize - i0) as usize;
        let s0 = (pad + j0 - 1) as usize;
        let base = geo.row(t);
        // One bounds check per sequence and row.
        let qs = &qpad[r0..r0 + lanes];
        let ss = &spad[s0..s0 + lanes];
        let mut out = [zero; V];
        let mut top = zero;
        for k in 0..V {
            // The predecessors one row up: lane u and u - 1 (p = 0) or
            // u + 1 and u (p = 1), forbidden past the ends.
            let (up, left) = if p == 0 {
                let before = if k == 0 { forbidden } else { prev[k - 1] };
                let shifted =
                    _mm_or_si128(_mm_slli_si128::<2>(prev[k]), _mm_srli_si128::<14>(before));
                (prev[k], shifted)
            } else {
                let after = if k + 1 == V { forbidden } else { prev[k + 1] };
                let shifted =
                    _mm_or_si128(_mm_srli_si128::<2>(prev[k]), _mm_slli_si128::<14>(after));
                (shifted, prev[k])
            };
            let eq = _mm_cmpeq_epi16(load(qs, k * W), load(ss, k * W));
            let step = _mm_add_epi16(mismatch, _mm_and_si128(eq, delta));
            let h = _mm_max_epi16(
                _mm_add_epi16(prev2[k], step),
                _mm_add_epi16(_mm_max_epi16(up, left), gap),
            );
            let mut h = _mm_max_epi16(h, zero);
            if k >= uncapped {
                h = _mm_min_epi16(h, cap[p][k]);
            }
            out[k] = h;
            top = _mm_max_epi16(top, h);
        }
        let row = &mut cells[base..base + stride];
        row[0] = i16::FORBIDDEN;
        row[stride - 1] = i16::FORBIDDEN;
        for (k, &h) in out.iter().enumerate() {
            store(row, 1 + k * W, h);
        }
        store(row_max, (t - t_min) as usize * W, top);
        prev2 = prev;
        prev = out;
    }
    // The best cell: the highest value; among equals the smallest i, then
    // the smallest j. On one row that is the last lane holding the value
    // (the largest d); across rows, the smallest (i, j).
    let mut all = zero;
    for r in 0..rows {
        all = _mm_max_epi16(all, load(row_max, r * W));
    }
    let best = max_lane(all);
    let mut best_at = (0usize, 0usize);
    if best > 0 {
        let target = _mm_set1_epi16(best);
        let mut found = false;
        for r in 0..rows {
            if _mm_movemask_epi8(_mm_cmpeq_epi16(load(row_max, r * W), target)) == 0 {
                continue;
            }
            let t = t_min + r as isize;
            let base = geo.row(t);
            let k = last_index_of(&cells[base + 1..base + 1 + lanes], best);
            let d = lo + ((t - lo) & 1) + 2 * k as isize;
            let at = (((t - d) / 2) as usize, ((t + d) / 2) as usize);
            if !found || at < best_at {
                best_at = at;
                found = true;
            }
        }
    }
    (best, best_at)
}
