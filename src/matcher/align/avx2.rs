//! The primitives of [`super::kernel`] for AVX2: 16 lanes a register. The
//! one-lane shift crosses the register's two 128-bit halves: a permute of
//! halves brings the neighbouring half beside each one, and a byte align
//! takes the shifted lanes from the pair.

use std::arch::x86_64::{
    __m256i, _mm256_add_epi16, _mm256_alignr_epi8, _mm256_and_si256, _mm256_cmpeq_epi16,
    _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_max_epi16, _mm256_movemask_epi8,
    _mm256_permute2x128_si256, _mm256_set1_epi16, _mm256_setzero_si256, _mm256_storeu_si256,
    _mm_cvtsi128_si32, _mm_max_epi16, _mm_srli_si128,
};

use super::Lane;

/// The lanes in the band: all ones, or zero past it.
type Band = __m256i;

/// `mismatch`, plus `delta` where the symbols agree.
#[inline]
#[target_feature(enable = "avx2")]
fn step(q: V, s: V, mismatch: V, delta: V) -> V {
    _mm256_add_epi16(mismatch, _mm256_and_si256(_mm256_cmpeq_epi16(q, s), delta))
}

/// Lane u takes lane u - 1 of `v`; lane 0 the last lane of `before`.
#[inline]
#[target_feature(enable = "avx2")]
fn from_up(v: V, before: V) -> V {
    // Low half: the high half of `before`; high half: the low half of `v`.
    let below = _mm256_permute2x128_si256::<0x03>(v, before);
    _mm256_alignr_epi8::<14>(v, below)
}

/// Lane u takes lane u + 1 of `v`; the last lane lane 0 of `after`.
#[inline]
#[target_feature(enable = "avx2")]
fn from_down(v: V, after: V) -> V {
    // Low half: the high half of `v`; high half: the low half of `after`.
    let above = _mm256_permute2x128_si256::<0x21>(v, after);
    _mm256_alignr_epi8::<2>(above, v)
}

/// The lanes of `caps[at..at + 16]` in the band (cap [`Lane::CAP`]).
#[inline]
#[target_feature(enable = "avx2")]
fn band(caps: &[i16], at: usize) -> Band {
    _mm256_cmpeq_epi16(load(caps, at), splat(i16::CAP))
}

/// `max(h, 0)` in the band, 0 past it.
#[inline]
#[target_feature(enable = "avx2")]
fn floor(h: V, zero: V, band: Band) -> V {
    _mm256_and_si256(_mm256_max_epi16(h, zero), band)
}

/// The largest lane of `v`, or 0 when every lane is negative.
#[inline]
#[target_feature(enable = "avx2")]
fn max_lane(v: V) -> i16 {
    let mut x = _mm_max_epi16(
        _mm256_extracti128_si256::<0>(v),
        _mm256_extracti128_si256::<1>(v),
    );
    x = _mm_max_epi16(x, _mm_srli_si128::<8>(x));
    x = _mm_max_epi16(x, _mm_srli_si128::<4>(x));
    x = _mm_max_epi16(x, _mm_srli_si128::<2>(x));
    (_mm_cvtsi128_si32(x) as i16).max(0)
}

/// Whether a lane of `v` equals the lane of `target`.
#[inline]
#[target_feature(enable = "avx2")]
fn holds(v: V, target: V) -> bool {
    _mm256_movemask_epi8(_mm256_cmpeq_epi16(v, target)) != 0
}

super::kernel::fill_kernel! {
    feature: "avx2",
    register: __m256i,
    lanes: 16,
    splat: _mm256_set1_epi16,
    zero: _mm256_setzero_si256,
    load: _mm256_loadu_si256,
    store: _mm256_storeu_si256,
    add: _mm256_add_epi16,
    max: _mm256_max_epi16,
}
