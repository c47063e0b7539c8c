//! The fill of `i16` cells with AVX-512BW, for bands of 32 or 64 lanes
//! (the default band of `find`, 49-51 diagonals, is 32 lanes): one or two
//! registers a row, chosen at run time where the CPU has AVX-512BW.
//!
//! It is `sse2`'s fill with 32 lanes a register: the rows a row depends on
//! stay in registers, the row shifted by one lane is one two-source word
//! permute (`vpermt2w`), a match is a mask blend, and the rows are only
//! stored, for the traceback and the deferred search for the best cell.
//! A row of 32 lanes is about 14 instructions against about 60 with SSE2,
//! and the fill is then bound by the latency of the chain from one row to
//! the next (permute, max, add, max, max).
//!
//! The cells in the band are the same values as the portable kernel's (the
//! same operations per lane; no value comes near the ends of `i16`); lanes
//! past the band hold 0 instead of forbidden (see `fill`). The oracle tests
//! of the aligner run every kernel the machine has.

use std::arch::x86_64::{
    __m512i, __mmask32, _mm512_add_epi16, _mm512_cmpeq_epi16_mask, _mm512_loadu_si512,
    _mm512_mask_blend_epi16, _mm512_maskz_max_epi16, _mm512_max_epi16, _mm512_permutex2var_epi16,
    _mm512_reduce_max_epi32, _mm512_set1_epi16, _mm512_setzero_si512, _mm512_slli_epi32,
    _mm512_srai_epi32, _mm512_storeu_si512,
};

use super::{last_index_of, Geometry, Lane, Scoring};

/// Lanes of `i16` per register.
const W: usize = 32;

/// Loads 32 lanes from `s[at..at + 32]` (bounds checked).
#[inline]
#[target_feature(enable = "avx512bw")]
fn load<T: Copy>(s: &[T], at: usize) -> __m512i {
    const { assert!(std::mem::size_of::<T>() == 2) };
    let chunk: &[T; W] = s[at..at + W].try_into().expect("32 lanes");
    // SAFETY: `chunk` is 32 two-byte values, 64 readable bytes; the load
    // has no alignment requirement.
    unsafe { _mm512_loadu_si512(chunk.as_ptr().cast()) }
}

/// Stores 32 lanes to `s[at..at + 32]` (bounds checked).
#[inline]
#[target_feature(enable = "avx512bw")]
fn store(s: &mut [i16], at: usize, v: __m512i) {
    let chunk: &mut [i16; W] = (&mut s[at..at + W]).try_into().expect("32 lanes");
    // SAFETY: `chunk` is 64 writable bytes borrowed mutably; the store has
    // no alignment requirement.
    unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), v) }
}

/// The largest lane of `v`, or 0 when every lane is negative.
#[inline]
#[target_feature(enable = "avx512bw")]
fn max_lane(v: __m512i) -> i16 {
    // The low and the high word of each 32-bit lane, sign-extended.
    let low = _mm512_srai_epi32::<16>(_mm512_slli_epi32::<16>(v));
    let high = _mm512_srai_epi32::<16>(v);
    (_mm512_reduce_max_epi32(_mm512_max_epi16(low, high)) as i16).max(0)
}

/// Word indices for `vpermt2w`: lane u takes lane u - 1 of the first
/// source, lane 0 the last lane of the second (the row shifted up).
const UP_ONE: [i16; W] = {
    let mut x = [0i16; W];
    let mut u = 1;
    while u < W {
        x[u] = (u - 1) as i16;
        u += 1;
    }
    x[0] = (W + W - 1) as i16;
    x
};

/// Lane u takes lane u + 1 of the first source, the last lane the first
/// lane of the second (the row shifted down).
const DOWN_ONE: [i16; W] = {
    let mut x = [0i16; W];
    let mut u = 0;
    while u + 1 < W {
        x[u] = (u + 1) as i16;
        u += 1;
    }
    x[W - 1] = W as i16;
    x
};

/// The fill of `super::fill` for `i16` cells and `V * 32` lanes: the same
/// cells in `cells`, the same best value and cell. `row_max` is scratch.
///
/// (A safe function of the target feature: callers need an `unsafe` block
/// that says why AVX-512BW is there.)
#[target_feature(enable = "avx512bw")]
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
    let forbidden = _mm512_set1_epi16(i16::FORBIDDEN);
    let zero = _mm512_setzero_si512();
    let mismatch = _mm512_set1_epi16(i16::narrow(sc.mismatch));
    let matched = _mm512_set1_epi16(i16::narrow(sc.matched));
    let gap = _mm512_set1_epi16(i16::narrow(sc.gap));
    let up_one = load(&UP_ONE[..], 0);
    let down_one = load(&DOWN_ONE[..], 0);
    // Per parity and register, the lanes in the band. A lane past the band
    // is set to 0 (the portable kernel caps it to forbidden instead): that
    // changes no cell in the band, because a gap costs (`Scoring::new`
    // requires it), so 0 plus a gap is below the 0 every cell starts from,
    // and a lane past the band is never the diagonal step of one in it
    // (both rows have the same parity). The traceback and the search for
    // the best cell read only lanes in the band.
    let in_band: [[__mmask32; V]; 2] = std::array::from_fn(|p| {
        std::array::from_fn(|k| {
            let c = &caps[p * lanes + k * W..][..W];
            (0..W).fold(0, |m, u| m | (u32::from(c[u] == i16::CAP) << u))
        })
    });
    let pad = super::pad_len(stride) as isize;
    // Rows t - 1 and t - 2; the two rows before t_min are forbidden.
    let mut prev = [forbidden; V];
    let mut prev2 = [forbidden; V];
    // Each row's lane-wise maximum over its registers: the row's largest
    // cell is found after the fill, only where needed (every lane is
    // written before it is read).
    let rows = (t_max - t_min + 1).max(0) as usize;
    if row_max.len() < rows * W {
        row_max.resize(rows * W, 0);
    }
    // The lane-wise maximum over all rows.
    let mut all = zero;
    // One row of parity `$p` (a constant in each copy).
    macro_rules! row {
        ($t:expr, $p:literal) => {{
            let t = $t;
            let d0 = lo + $p;
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
                let (up, left) = if $p == 0 {
                    let before = if k == 0 { forbidden } else { prev[k - 1] };
                    (prev[k], _mm512_permutex2var_epi16(prev[k], up_one, before))
                } else {
                    let after = if k + 1 == V { forbidden } else { prev[k + 1] };
                    (_mm512_permutex2var_epi16(prev[k], down_one, after), prev[k])
                };
                let eq = _mm512_cmpeq_epi16_mask(load(qs, k * W), load(ss, k * W));
                let step = _mm512_mask_blend_epi16(eq, mismatch, matched);
                let h = _mm512_max_epi16(
                    _mm512_add_epi16(prev2[k], step),
                    _mm512_add_epi16(_mm512_max_epi16(up, left), gap),
                );
                let h = _mm512_maskz_max_epi16(in_band[$p][k], h, zero);
                out[k] = h;
                top = _mm512_max_epi16(top, h);
            }
            let row = &mut cells[base..base + stride];
            row[0] = i16::FORBIDDEN;
            row[stride - 1] = i16::FORBIDDEN;
            for (k, &h) in out.iter().enumerate() {
                store(row, 1 + k * W, h);
            }
            store(row_max, (t - t_min) as usize * W, top);
            all = _mm512_max_epi16(all, top);
            prev2 = prev;
            prev = out;
        }};
    }
    for t in t_min..=t_max {
        if (t - lo) & 1 == 0 {
            row!(t, 0)
        } else {
            row!(t, 1)
        }
    }
    // The best cell: the highest value; among equals the smallest i, then
    // the smallest j. On one row that is the last lane holding the value
    // (the largest d); across rows, the smallest (i, j).
    let best = max_lane(all);
    let mut best_at = (0usize, 0usize);
    if best > 0 {
        let target = _mm512_set1_epi16(best);
        let mut found = false;
        for r in 0..rows {
            if _mm512_cmpeq_epi16_mask(load(row_max, r * W), target) == 0 {
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
