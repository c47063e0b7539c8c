//! The ASCII fast path 64 bytes a step, with AVX-512 (`VBMI` for a
//! 128-entry byte table in two registers, `VBMI2` to compress the bytes
//! kept): [`map_ascii`] and [`map_ascii_offsets`] map the leading whole
//! 64-byte chunks of their input that are all ASCII, exactly as the scalar
//! loops of `super` do, and leave the rest to them.
//!
//! Per chunk: one load, a test of the high bits (a chunk with a non-ASCII
//! byte ends the wide path), a two-register byte permute through
//! `ASCII_MAP` (`vpermi2b`; a byte below 128 selects with its low seven
//! bits), a mask of the bytes that map to non-zero, and a compress of those
//! bytes into one register (`vpcompressb` into a register, not to memory,
//! which is microcoded and slow on AMD Zen 4), stored whole: the buffer
//! has room, see below. With offsets, the lane numbers 0..64 are
//! compressed by the same mask and widened to 32 bits, 16 a store.
//!
//! Measured by `cargo bench --bench normalize` (BENCHMARKS.md "ASCII
//! normalization 64 bytes a step; an index held in huge pages").
//!
//! Without those instruction sets (checked once a call, an atomic load in
//! the standard library) both functions consume nothing.

use std::arch::x86_64::{
    __m512i, _mm512_add_epi32, _mm512_castsi512_si128, _mm512_cvtepu8_epi32,
    _mm512_extracti32x4_epi32, _mm512_loadu_si512, _mm512_maskz_compress_epi8, _mm512_movepi8_mask,
    _mm512_permutex2var_epi8, _mm512_set1_epi32, _mm512_storeu_si512, _mm512_test_epi8_mask,
};

use super::{ASCII_MAP, BLOCK};

/// Bytes a step: one register.
const STEP: usize = 64;

/// Lane numbers, compressed with the bytes kept to give their offsets.
const LANES: [u8; STEP] = {
    let mut x = [0u8; STEP];
    let mut i = 0;
    while i < STEP {
        x[i] = i as u8;
        i += 1;
    }
    x
};

/// Whether this CPU has the instruction sets of the wide path.
#[inline]
fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vbmi")
        && std::arch::is_x86_feature_detected!("avx512vbmi2")
}

/// [`super::map_ascii`] over the leading 64-byte chunks of `bytes` (at
/// most [`BLOCK`] bytes) that are all ASCII: (bytes consumed, a multiple of
/// 64, bytes produced into `out`). (0, 0) without the instruction sets.
#[inline]
pub(super) fn map_ascii(bytes: &[u8], out: &mut [u8; BLOCK]) -> (usize, usize) {
    if bytes.len() < STEP || !available() {
        return (0, 0);
    }
    // SAFETY: the CPU has the four instruction sets the function is
    // compiled for (`available`).
    unsafe { map_chunks(bytes, out, None) }
}

/// [`super::map_ascii_offsets`] over the leading 64-byte chunks of `bytes`
/// that are all ASCII, `at` the offset of `bytes[0]`: as [`map_ascii`],
/// and each byte produced has its source offset in `out_off`. Stops before
/// a chunk whose offsets would pass `u32::MAX` (the scalar loop saturates
/// them).
#[inline]
pub(super) fn map_ascii_offsets(
    bytes: &[u8],
    at: u32,
    out: &mut [u8; BLOCK],
    out_off: &mut [u32; BLOCK],
) -> (usize, usize) {
    if bytes.len() < STEP || !available() {
        return (0, 0);
    }
    // SAFETY: as in `map_ascii`.
    unsafe { map_chunks(bytes, out, Some((at, out_off))) }
}

/// Loads `STEP` bytes from `s[at..]` (bounds checked).
#[inline]
#[target_feature(enable = "avx512f")]
fn load(s: &[u8], at: usize) -> __m512i {
    let chunk: &[u8; STEP] = s[at..at + STEP].try_into().expect("a register of bytes");
    // SAFETY: `chunk` is 64 readable bytes, the register's width; the load
    // has no alignment requirement.
    unsafe { _mm512_loadu_si512(chunk.as_ptr().cast()) }
}

/// Stores a register to `s[at..at + 64]` (bounds checked).
#[inline]
#[target_feature(enable = "avx512f")]
fn store_bytes(s: &mut [u8], at: usize, v: __m512i) {
    let chunk: &mut [u8; STEP] = (&mut s[at..at + STEP]).try_into().expect("64 bytes");
    // SAFETY: `chunk` is 64 writable bytes, the register's width, borrowed
    // mutably; the store has no alignment requirement, and any bit pattern
    // is a `u8`.
    unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), v) }
}

/// Stores a register to `s[at..at + 16]` (bounds checked).
#[inline]
#[target_feature(enable = "avx512f")]
fn store_words(s: &mut [u32], at: usize, v: __m512i) {
    let chunk: &mut [u32; 16] = (&mut s[at..at + 16]).try_into().expect("16 words");
    // SAFETY: `chunk` is 16 writable `u32`s, the register's 64 bytes,
    // borrowed mutably; the store has no alignment requirement, and any
    // bit pattern is a `u32`.
    unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), v) }
}

/// The loop of both wide paths; `offsets`: the offset of `bytes[0]` and the
/// offsets' buffer.
///
/// Each step stores a whole register at `out[n..]` (and 16 offsets at
/// `out_off[n + 16 g..]`, g < 4), of which the first `kept` are the
/// output. There is room: `n` (bytes produced) is at most `i` (bytes
/// consumed), and a step runs only when `i + 64 <= bytes.len() <= BLOCK`.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2")]
fn map_chunks(
    bytes: &[u8],
    out: &mut [u8; BLOCK],
    mut offsets: Option<(u32, &mut [u32; BLOCK])>,
) -> (usize, usize) {
    let bytes = &bytes[..bytes.len().min(BLOCK)];
    let (map_lo, map_hi) = (load(&ASCII_MAP, 0), load(&ASCII_MAP, STEP));
    let lanes = load(&LANES, 0);
    let (mut i, mut n) = (0usize, 0usize);
    while i + STEP <= bytes.len() {
        let v = load(bytes, i);
        if _mm512_movepi8_mask(v) != 0 {
            break;
        }
        // Bit 6 of each byte picks the table's half, bits 0-5 the entry.
        let mapped = _mm512_permutex2var_epi8(map_lo, v, map_hi);
        let keep = _mm512_test_epi8_mask(mapped, mapped);
        if let Some((at, out_off)) = offsets.as_mut() {
            let Some(base) = u32::try_from(i)
                .ok()
                .and_then(|i| at.checked_add(i))
                .filter(|b| b.checked_add(STEP as u32 - 1).is_some())
            else {
                break;
            };
            let kept = _mm512_maskz_compress_epi8(keep, lanes);
            let base = _mm512_set1_epi32(base as i32);
            let groups = (keep.count_ones() as usize).div_ceil(16);
            for g in 0..groups {
                let quarter = match g {
                    0 => _mm512_castsi512_si128(kept),
                    1 => _mm512_extracti32x4_epi32::<1>(kept),
                    2 => _mm512_extracti32x4_epi32::<2>(kept),
                    _ => _mm512_extracti32x4_epi32::<3>(kept),
                };
                let wide = _mm512_add_epi32(_mm512_cvtepu8_epi32(quarter), base);
                store_words(&mut out_off[..], n + 16 * g, wide);
            }
        }
        store_bytes(&mut out[..], n, _mm512_maskz_compress_epi8(keep, mapped));
        n += keep.count_ones() as usize;
        i += STEP;
    }
    (i, n)
}
