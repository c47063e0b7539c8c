//! The primitives of [`super::kernel`] for AVX-512BW: 32 lanes a register
//! (the default band of `find`, 49-51 diagonals, is one register). The
//! one-lane shift is one two-source word permute (`vpermt2w`), a match a
//! masked add, and the floor at 0 with the lanes past the band cleared one
//! masked max.

use std::arch::x86_64::{
    __m512i, __mmask32, _mm512_add_epi16, _mm512_cmpeq_epi16_mask, _mm512_loadu_si512,
    _mm512_mask_add_epi16, _mm512_maskz_max_epi16, _mm512_max_epi16, _mm512_permutex2var_epi16,
    _mm512_reduce_max_epi32, _mm512_set1_epi16, _mm512_setzero_si512, _mm512_slli_epi32,
    _mm512_srai_epi32, _mm512_storeu_si512,
};

use super::Lane;

/// The lanes in the band: one bit each.
type Band = __mmask32;

/// `mismatch`, plus `delta` where the symbols agree.
#[inline]
#[target_feature(enable = "avx512bw")]
fn step(q: V, s: V, mismatch: V, delta: V) -> V {
    _mm512_mask_add_epi16(mismatch, _mm512_cmpeq_epi16_mask(q, s), mismatch, delta)
}

/// Word indices for `vpermt2w`: lane u takes lane u - 1 of the first
/// source, lane 0 the last lane of the second.
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

/// Lane u takes lane u + 1 of the first source, the last lane lane 0 of
/// the second.
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

/// Lane u takes lane u - 1 of `v`; lane 0 the last lane of `before`.
#[inline]
#[target_feature(enable = "avx512bw")]
fn from_up(v: V, before: V) -> V {
    _mm512_permutex2var_epi16(v, load(&UP_ONE[..], 0), before)
}

/// Lane u takes lane u + 1 of `v`; the last lane lane 0 of `after`.
#[inline]
#[target_feature(enable = "avx512bw")]
fn from_down(v: V, after: V) -> V {
    _mm512_permutex2var_epi16(v, load(&DOWN_ONE[..], 0), after)
}

/// The lanes of `caps[at..at + 32]` in the band (cap [`Lane::CAP`]).
#[inline]
#[target_feature(enable = "avx512bw")]
fn band(caps: &[i16], at: usize) -> Band {
    _mm512_cmpeq_epi16_mask(load(caps, at), splat(i16::CAP))
}

/// `max(h, 0)` in the band, 0 past it.
#[inline]
#[target_feature(enable = "avx512bw")]
fn floor(h: V, zero: V, band: Band) -> V {
    _mm512_maskz_max_epi16(band, h, zero)
}

/// The largest lane of `v`, or 0 when every lane is negative.
#[inline]
#[target_feature(enable = "avx512bw")]
fn max_lane(v: V) -> i16 {
    // The low and the high word of each 32-bit lane, sign-extended.
    let low = _mm512_srai_epi32::<16>(_mm512_slli_epi32::<16>(v));
    let high = _mm512_srai_epi32::<16>(v);
    (_mm512_reduce_max_epi32(_mm512_max_epi16(low, high)) as i16).max(0)
}

/// Whether a lane of `v` equals the lane of `target`.
#[inline]
#[target_feature(enable = "avx512bw")]
fn holds(v: V, target: V) -> bool {
    _mm512_cmpeq_epi16_mask(v, target) != 0
}

super::kernel::fill_kernel! {
    feature: "avx512bw",
    register: __m512i,
    lanes: 32,
    splat: _mm512_set1_epi16,
    zero: _mm512_setzero_si512,
    load: _mm512_loadu_si512,
    store: _mm512_storeu_si512,
    add: _mm512_add_epi16,
    max: _mm512_max_epi16,
}
