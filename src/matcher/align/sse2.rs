//! The primitives of [`super::kernel`] for SSE2, which every x86_64 CPU
//! has: 8 lanes a vector. The one-lane shift is a byte shift and an or.

use std::arch::x86_64::{
    __m128i, _mm_add_epi16, _mm_and_si128, _mm_cmpeq_epi16, _mm_cvtsi128_si32, _mm_loadu_si128,
    _mm_max_epi16, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi16, _mm_setzero_si128,
    _mm_slli_si128, _mm_srli_si128, _mm_storeu_si128,
};

use super::Lane;

/// The lanes in the band: all ones, or zero past it.
type Band = __m128i;

/// `mismatch`, plus `delta` where the symbols agree.
#[inline]
#[target_feature(enable = "sse2")]
fn step(q: V, s: V, mismatch: V, delta: V) -> V {
    _mm_add_epi16(mismatch, _mm_and_si128(_mm_cmpeq_epi16(q, s), delta))
}

/// Lane u takes lane u - 1 of `v`; lane 0 the last lane of `before`.
#[inline]
#[target_feature(enable = "sse2")]
fn from_up(v: V, before: V) -> V {
    _mm_or_si128(_mm_slli_si128::<2>(v), _mm_srli_si128::<14>(before))
}

/// Lane u takes lane u + 1 of `v`; the last lane lane 0 of `after`.
#[inline]
#[target_feature(enable = "sse2")]
fn from_down(v: V, after: V) -> V {
    _mm_or_si128(_mm_srli_si128::<2>(v), _mm_slli_si128::<14>(after))
}

/// The lanes of `caps[at..at + 8]` in the band (cap [`Lane::CAP`]).
#[inline]
#[target_feature(enable = "sse2")]
fn band(caps: &[i16], at: usize) -> Band {
    _mm_cmpeq_epi16(load(caps, at), splat(i16::CAP))
}

/// `max(h, 0)` in the band, 0 past it.
#[inline]
#[target_feature(enable = "sse2")]
fn floor(h: V, zero: V, band: Band) -> V {
    _mm_and_si128(_mm_max_epi16(h, zero), band)
}

/// The largest lane of `v`, or 0 when every lane is negative.
#[inline]
#[target_feature(enable = "sse2")]
fn max_lane(mut v: V) -> i16 {
    v = _mm_max_epi16(v, _mm_srli_si128::<8>(v));
    v = _mm_max_epi16(v, _mm_srli_si128::<4>(v));
    v = _mm_max_epi16(v, _mm_srli_si128::<2>(v));
    (_mm_cvtsi128_si32(v) as i16).max(0)
}

/// Whether a lane of `v` equals the lane of `target`.
#[inline]
#[target_feature(enable = "sse2")]
fn holds(v: V, target: V) -> bool {
    _mm_movemask_epi8(_mm_cmpeq_epi16(v, target)) != 0
}

super::kernel::fill_kernel! {
    feature: "sse2",
    register: __m128i,
    lanes: 8,
    splat: _mm_set1_epi16,
    zero: _mm_setzero_si128,
    load: _mm_loadu_si128,
    store: _mm_storeu_si128,
    add: _mm_add_epi16,
    max: _mm_max_epi16,
}
