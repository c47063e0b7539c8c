//! Robust winnowing: choose a few k-gram hashes of a text as its
//! fingerprints (Schleimer, Wilkerson, Aiken, "Winnowing: local algorithms
//! for document fingerprinting", SIGMOD 2003, section 4 and "robust
//! winnowing").
//!
//! # Definition
//!
//! Slide a window of `w` consecutive hashes over the sequence. In each
//! window select the minimum hash; if the previous window's selection is
//! still in the window and still minimal, keep it; otherwise select the
//! rightmost minimal hash. Record every selection once, with its position
//! (the index into the hash sequence, which is the start of the k-gram in
//! normalized bytes). If the sequence is shorter than `w` but not empty, it
//! forms one window.
//!
//! # Guarantee
//!
//! Two texts that share a run of at least `t = w + k - 1` normalized bytes
//! share `w` consecutive identical hashes, i.e. a whole window, and both
//! select that window's minimum value: they share a selected hash. The
//! expected density of selected positions is `2 / (w + 1)`.
//!
//! # Speed
//!
//! [`winnow`] works on the hash slice directly: a new hash is compared with
//! the current minimum (one branch, rarely taken); only when the minimum
//! leaves the window is the window rescanned, which happens about once per
//! selection, so the cost is about two comparisons per hash with no queue
//! to maintain (the deque of the textbook version is its bottleneck).
//! [`winnow_naive`] re-examines every window from scratch and is the oracle.
//!
//! Positions are `u32`: hashes beyond the first 2^32 are ignored (callers
//! fingerprint texts part by part, each far below 4 GiB).

use crate::fingerprint::kgram_hashes;
use std::cell::RefCell;

/// Largest number of hashes looked at (positions are `u32`).
const MAX_HASHES: usize = u32::MAX as usize + 1;

/// Robust winnowing of `hashes` with window `w` (`w = 0` is taken as 1).
/// Appends `(hash, position)` pairs in increasing position order, each
/// selected position once.
pub fn winnow(hashes: &[u64], w: usize, out: &mut Vec<(u64, u32)>) {
    let hashes = &hashes[..hashes.len().min(MAX_HASHES)];
    let n = hashes.len();
    if n == 0 {
        return;
    }
    let w = w.max(1);
    if n <= w {
        let p = rightmost_min(hashes);
        out.push((hashes[p], p as u32));
        return;
    }
    out.reserve(2 * n / (w + 1) + 1);
    let mut min_pos = rightmost_min(&hashes[..w]);
    let mut min_val = hashes[min_pos];
    out.push((min_val, min_pos as u32));
    for (r, &h) in hashes.iter().enumerate().skip(w) {
        if h < min_val {
            // Strictly smaller than everything else in the window.
            min_pos = r;
            min_val = h;
            out.push((h, r as u32));
        } else if min_pos + w <= r {
            // The selection left the window: rescan it.
            let lo = r + 1 - w;
            min_pos = lo + rightmost_min(&hashes[lo..=r]);
            min_val = hashes[min_pos];
            out.push((min_val, min_pos as u32));
        }
    }
}

/// Index of the rightmost minimum of a non-empty slice (0 if empty).
#[inline]
fn rightmost_min(s: &[u64]) -> usize {
    let mut best = u64::MAX;
    let mut at = 0;
    for (i, &h) in s.iter().enumerate() {
        if h <= best {
            best = h;
            at = i;
        }
    }
    at
}

/// Oracle for [`winnow`]: examines each window from scratch.
pub fn winnow_naive(hashes: &[u64], w: usize) -> Vec<(u64, u32)> {
    let hashes = &hashes[..hashes.len().min(MAX_HASHES)];
    let n = hashes.len();
    let w = w.max(1).min(n);
    let mut out = Vec::new();
    let mut prev: Option<usize> = None;
    if n == 0 {
        return out;
    }
    for start in 0..=n - w {
        let window = start..start + w;
        let Some(&m) = hashes[window.clone()].iter().min() else {
            continue;
        };
        let keep = prev.filter(|&p| window.contains(&p) && hashes[p] == m);
        let sel = match keep {
            Some(p) => p,
            None => match window.clone().rev().find(|&i| hashes[i] == m) {
                Some(i) => i,
                None => continue,
            },
        };
        if prev != Some(sel) {
            out.push((hashes[sel], sel as u32));
            prev = Some(sel);
        }
    }
    out
}

thread_local! {
    static SCRATCH: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Scratch buffers larger than this are freed after use.
const SCRATCH_KEEP: usize = 1 << 20;

/// Fingerprints of normalized bytes: `winnow(kgram_hashes(norm, k, seed), w)`,
/// appended to `out`.
pub fn fingerprints(norm: &[u8], k: usize, w: usize, seed: u64, out: &mut Vec<(u64, u32)>) {
    let mut hashes = SCRATCH
        .with(|s| s.try_borrow_mut().map(|mut v| std::mem::take(&mut *v)))
        .unwrap_or_default();
    kgram_hashes(norm, k, seed, &mut hashes);
    winnow(&hashes, w, out);
    if hashes.capacity() <= SCRATCH_KEEP {
        SCRATCH.with(|s| {
            if let Ok(mut v) = s.try_borrow_mut() {
                *v = hashes;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::DEFAULT_SEED;
    use proptest::prelude::*;

    #[test]
    fn table_of_cases() {
        // (hashes, w, expected (hash, position) pairs), worked by hand.
        let cases: &[(&[u64], usize, &[(u64, u32)])] = &[
            (&[], 3, &[]),
            (&[5], 3, &[(5, 0)]),
            (&[5, 3], 3, &[(3, 1)]),
            (&[3, 3], 3, &[(3, 1)]),
            (&[3, 3, 3], 3, &[(3, 2)]),
            // the paper's robust example: ties keep the old selection
            (&[1, 1, 1, 1, 1], 2, &[(1, 1), (1, 3)]),
            (&[2, 1, 1, 1, 3], 3, &[(1, 2)]),
            (&[5, 1, 4, 1, 6, 7], 3, &[(1, 1), (1, 3)]),
            (&[5, 4, 3, 2, 1], 2, &[(4, 1), (3, 2), (2, 3), (1, 4)]),
            (&[1, 2, 3, 4, 5], 2, &[(1, 0), (2, 1), (3, 2), (4, 3)]),
            (&[7, 8, 9], 1, &[(7, 0), (8, 1), (9, 2)]),
            (&[7, 8, 9], 0, &[(7, 0), (8, 1), (9, 2)]),
        ];
        for &(hashes, w, expected) in cases {
            let mut out = vec![(0, 0)];
            winnow(hashes, w, &mut out);
            assert_eq!(&out[1..], expected, "hashes {hashes:?} w {w}");
            assert_eq!(
                winnow_naive(hashes, w),
                expected,
                "naive, hashes {hashes:?} w {w}"
            );
        }
    }

    #[test]
    fn density_is_about_two_over_w_plus_one() {
        let text: Vec<u8> = (0..200_000u32)
            .map(|i| {
                b"abcdefghijklmnopqrstuvwxyz"
                    [(crate::fingerprint::remix(u64::from(i)) % 26) as usize]
            })
            .collect();
        let mut fp = Vec::new();
        fingerprints(&text, 8, 20, DEFAULT_SEED, &mut fp);
        let density = fp.len() as f64 / text.len() as f64;
        let expected = 2.0 / 21.0;
        assert!(
            (density - expected).abs() < expected * 0.05,
            "density {density}"
        );
    }

    fn seeded_text(seed: u64, len: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..len as u64)
            .map(|i| {
                alphabet[(crate::fingerprint::remix(seed ^ i.wrapping_mul(0x9e37_79b9))
                    % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn equals_oracle_with_many_ties(hashes in proptest::collection::vec(0u64..4, 0..200), w in 0usize..20) {
            let mut out = Vec::new();
            winnow(&hashes, w, &mut out);
            prop_assert_eq!(out, winnow_naive(&hashes, w));
        }

        #[test]
        fn equals_oracle_random(hashes in proptest::collection::vec(any::<u64>(), 0..300), w in 1usize..64) {
            let mut out = Vec::new();
            winnow(&hashes, w, &mut out);
            let naive = winnow_naive(&hashes, w);
            prop_assert!(out.windows(2).all(|p| p[0].1 < p[1].1));
            prop_assert_eq!(out, naive);
        }

        #[test]
        fn every_window_contains_a_selection(hashes in proptest::collection::vec(0u64..8, 1..200), w in 1usize..16) {
            let mut out = Vec::new();
            winnow(&hashes, w, &mut out);
            let w = w.min(hashes.len());
            for start in 0..=hashes.len() - w {
                let m = *hashes[start..start + w].iter().min().unwrap();
                prop_assert!(out.iter().any(|&(h, p)| (start..start + w).contains(&(p as usize)) && h == m));
            }
        }

        /// The winnowing guarantee, on random texts with an embedded shared
        /// run of exactly t = w + k - 1 bytes.
        #[test]
        fn shared_run_of_t_bytes_shares_a_fingerprint(
            seed in any::<u64>(),
            k in 4usize..=16,
            w in 1usize..=24,
            pre_a in 0usize..80, pre_b in 0usize..80, post_a in 0usize..40, post_b in 0usize..40,
            small_alphabet in any::<bool>(),
        ) {
            let alphabet: &[u8] = if small_alphabet { b"ab" } else { b"abcdefghijklmnopqrstuvwxyz0123456789" };
            let t = w + k - 1;
            let run = seeded_text(seed, t, alphabet);
            let mut a = seeded_text(seed ^ 1, pre_a, alphabet);
            a.extend_from_slice(&run);
            a.extend(seeded_text(seed ^ 2, post_a, alphabet));
            let mut b = seeded_text(seed ^ 3, pre_b, alphabet);
            b.extend_from_slice(&run);
            b.extend(seeded_text(seed ^ 4, post_b, alphabet));
            let (mut fa, mut fb) = (Vec::new(), Vec::new());
            fingerprints(&a, k, w, DEFAULT_SEED, &mut fa);
            fingerprints(&b, k, w, DEFAULT_SEED, &mut fb);
            // A selected hash of a k-gram lying inside the run, in both texts.
            let in_run = |f: &[(u64, u32)], pre: usize| -> Vec<u64> {
                f.iter().filter(|&&(_, p)| (pre..=pre + t - k).contains(&(p as usize))).map(|&(h, _)| h).collect()
            };
            let ha = in_run(&fa, pre_a);
            let hb = in_run(&fb, pre_b);
            prop_assert!(ha.iter().any(|h| hb.contains(h)), "no shared fingerprint: {:?} vs {:?}", ha, hb);
        }
    }
}
