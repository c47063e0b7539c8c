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
//! [`winnow`] works on the hash slice directly, with no queue (the deque
//! of the textbook version is its bottleneck). Until the current selection
//! leaves the window, only a strictly smaller hash can change it, so the
//! loop searches for one, four compares per branch. When the selection
//! leaves, the window is rescanned (four-lane minimum, then its rightmost
//! occurrence); that happens about once per `w` hashes, so it costs about
//! one comparison per hash. [`fingerprints`] hashes and winnows in blocks of
//! 4096 k-grams that stay in the first-level caches instead of writing all
//! hashes to memory and reading them back.
//! [`winnow_naive`] re-examines every window from scratch and is the oracle.
//!
//! Positions are `u32`: hashes beyond the first 2^32 are ignored (callers
//! fingerprint texts part by part, each far below 4 GiB).

use crate::fingerprint::with_hasher;

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
    let mut sel = Selection::first(hashes, w, out);
    sel.advance_from(hashes, 0, w, w, out);
}

/// The current selection of a streaming winnower: position (global) and
/// value of the minimum of the last window.
#[derive(Debug, Clone, Copy)]
struct Selection {
    pos: usize,
    val: u64,
}

impl Selection {
    /// Selects in the first window, `hashes[..w]` (positions from 0).
    fn first(hashes: &[u64], w: usize, out: &mut Vec<(u64, u32)>) -> Self {
        let pos = rightmost_min(&hashes[..w]);
        let val = hashes[pos];
        out.push((val, pos as u32));
        Selection { pos, val }
    }

    /// Slides the window to end at each index `from..buf.len()` of `buf`,
    /// where `buf[i]` is the hash at position `base + i`. Needs
    /// `from >= w - 1` (each window `buf[i + 1 - w..=i]` lies in `buf`) and
    /// the windows ending before `from` already processed.
    #[inline]
    fn advance_from(
        &mut self,
        buf: &[u64],
        base: usize,
        w: usize,
        from: usize,
        out: &mut Vec<(u64, u32)>,
    ) {
        let Selection { mut pos, mut val } = *self;
        let n = buf.len();
        let mut i = from;
        while i < n {
            // The window ending at buffer index `expire` is the first one
            // without the current selection. Until then only a strictly
            // smaller hash changes the selection: search for one. (The
            // selection lies in the last window, which starts at or after
            // `base - 1`, so `pos + w - base` does not underflow.)
            let expire = pos + w - base;
            let limit = (expire + 1).min(n);
            match first_below(&buf[i..limit], val) {
                Some(j) => {
                    // Strictly smaller than everything else in its window.
                    i += j;
                    pos = base + i;
                    val = buf[i];
                    out.push((val, pos as u32));
                    i += 1;
                }
                None if expire < n => {
                    // The selection left the window: rescan it.
                    let lo = expire + 1 - w;
                    let at = lo + rightmost_min(&buf[lo..=expire]);
                    pos = base + at;
                    val = buf[at];
                    out.push((val, pos as u32));
                    i = expire + 1;
                }
                None => break,
            }
        }
        *self = Selection { pos, val };
    }
}

/// Index of the rightmost minimum of a slice (0 if empty): the minimum by
/// four independent lanes (no loop-carried compare chain), then its
/// rightmost occurrence.
#[inline]
fn rightmost_min(s: &[u64]) -> usize {
    let mut lanes = [u64::MAX; 4];
    let mut quads = s.chunks_exact(4);
    for q in &mut quads {
        for (l, &h) in lanes.iter_mut().zip(q) {
            *l = (*l).min(h);
        }
    }
    let m = quads
        .remainder()
        .iter()
        .fold(lanes.into_iter().fold(u64::MAX, u64::min), |a, &h| a.min(h));
    s.iter().rposition(|&h| h == m).unwrap_or(0)
}

/// Offset in `s` of the first hash strictly below `val`: four compares per
/// branch.
#[inline]
fn first_below(s: &[u64], val: u64) -> Option<usize> {
    let mut quads = s.chunks_exact(4);
    let mut off = 0;
    for q in &mut quads {
        if (q[0] < val) | (q[1] < val) | (q[2] < val) | (q[3] < val) {
            return q.iter().position(|&h| h < val).map(|j| off + j);
        }
        off += 4;
    }
    quads
        .remainder()
        .iter()
        .position(|&h| h < val)
        .map(|j| off + j)
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

/// Marks every position that holds a minimum of some window of `w`
/// consecutive hashes (of the whole sequence if it is shorter than `w`):
/// `out[i]` is true when no hash in one of the windows containing `i` is
/// smaller than `hashes[i]`. `out` is cleared and gets one flag per hash.
///
/// Every position [`winnow`] selects is marked, whatever the tie-breaking.
/// The matcher uses this on a query: a run the query shares with an
/// indexed text that is at least `t = w + k - 1` bytes long holds a whole
/// window, and the fingerprint the index selected there is a marked
/// position of the query. A hit on an unmarked position therefore comes
/// from a shared run shorter than `t` (or from an edit-broken one).
///
/// Branch-free, in O(n) (van Herk, Gil and Werman's block decomposition,
/// twice): the minimum of every window from the running minima of blocks
/// of `w` hashes (forward and backward), then for every position the
/// largest of the minima of the windows containing it, the same way; a
/// position is marked when its hash is that largest minimum (each of
/// those windows holds it, so no minimum exceeds it, and it is the minimum
/// of the window whose minimum is largest exactly when it equals it).
/// `scratch` is reused across calls (five buffers of at most n hashes).
///
/// A monotone queue of candidate minima did this in one pass, but its
/// pops are data-dependent branches that random hashes mispredict: 10.5%
/// of `leakprint match` over unrelated posts went to it (perf, fortunes
/// against the 1 GB scale index); these passes are plain loops of `min`
/// and `max` (BENCHMARKS.md "Lone hits decided by their context"), both
/// directions at once (see `block_scan`).
pub fn window_minima(hashes: &[u64], w: usize, scratch: &mut Vec<u64>, out: &mut Vec<bool>) {
    let hashes = &hashes[..hashes.len().min(MAX_HASHES)];
    let n = hashes.len();
    out.clear();
    if n == 0 {
        return;
    }
    let w = w.max(1).min(n);
    // Windows start at 0..m.
    let m = n - w + 1;
    // Every cell used is written below, so the scratch is not cleared.
    let need = 2 * n + 3 * m;
    if scratch.len() < need {
        scratch.resize(need, 0);
    }
    let (pre, rest) = scratch[..need].split_at_mut(n);
    let (suf, rest) = rest.split_at_mut(n);
    let (mins, rest) = rest.split_at_mut(m);
    let (pmax, smax) = rest.split_at_mut(m);
    // Running minima inside each block of w hashes, from its start (pre)
    // and from its end (suf).
    block_scan(hashes, w, pre, suf, u64::min, u64::MAX);
    // Window s covers the end of s's block and the start of the next one
    // (or all of s's block when s starts it).
    for (s, x) in mins.iter_mut().enumerate() {
        *x = suf[s].min(pre[s + w - 1]);
    }
    // Running maxima of the window minima, blocks of w windows.
    block_scan(mins, w, pmax, smax, u64::max, 0);
    // Position p is in windows lo..=hi, lo = max(0, p + 1 - w),
    // hi = min(p, m - 1): at most w windows, in one block of them or two.
    out.reserve(n);
    // Near the start: windows 0..=hi, all in the first block (hi < w - 1).
    let left = (w - 1).min(n);
    out.extend((0..left).map(|p| hashes[p] <= pmax[p.min(m - 1)]));
    // Exactly w windows, p + 1 - w ..= p: the end of one block and the
    // start of the next (or one whole block).
    if m > left {
        out.extend((left..m).map(|p| hashes[p] <= smax[p + 1 - w].max(pmax[p])));
    }
    // Near the end: windows lo..=m - 1, fewer than w, the end of the last
    // block of windows and perhaps of the one before it.
    let last_block = (m - 1) / w * w;
    out.extend((left.max(m)..n).map(|p| {
        let lo = p + 1 - w;
        let best = if lo >= last_block {
            smax[lo]
        } else {
            smax[lo].max(pmax[m - 1])
        };
        hashes[p] <= best
    }));
    debug_assert_eq!(out.len(), n);
}

/// The running `op` (`min` or `max`, with identity `id`) inside each block
/// of `w` values of `h` (the last may be shorter), from the block's start
/// into `fwd` and from its end into `bwd`.
///
/// Each direction's scan of a block is a chain of dependent operations;
/// the two run side by side so that their chains overlap. One after the
/// other, the chains' latency made [`window_minima`] 6.2 ns a hash
/// (criterion `query/window_minima`, 2,000 posts of 170 bytes); side by
/// side 3.8 ns. (Two or four blocks at once as well, padded to whole
/// groups of blocks: 4.2 and 5.2 ns.)
#[inline(always)]
fn block_scan(
    h: &[u64],
    w: usize,
    fwd: &mut [u64],
    bwd: &mut [u64],
    op: impl Fn(u64, u64) -> u64,
    id: u64,
) {
    let chunks = h.chunks(w).zip(fwd.chunks_mut(w)).zip(bwd.chunks_mut(w));
    for ((hb, fb), bb) in chunks {
        let (mut f, mut b) = (id, id);
        let forward = hb.iter().zip(fb.iter_mut());
        let backward = hb.iter().rev().zip(bb.iter_mut().rev());
        for ((&x, y), (&v, u)) in forward.zip(backward) {
            f = op(f, x);
            *y = f;
            b = op(b, v);
            *u = b;
        }
    }
}

/// Oracle for [`window_minima`]: every window examined from scratch.
pub fn window_minima_naive(hashes: &[u64], w: usize) -> Vec<bool> {
    let n = hashes.len();
    let mut out = vec![false; n];
    if n == 0 {
        return out;
    }
    let w = w.max(1).min(n);
    for start in 0..=n - w {
        let win = &hashes[start..start + w];
        let m = *win.iter().min().expect("window is not empty");
        for (j, &h) in win.iter().enumerate() {
            if h == m {
                out[start + j] = true;
            }
        }
    }
    out
}

/// Hashes computed and winnowed per step by [`fingerprints`]: the buffer
/// (`w - 1 + BLOCK_HASHES` hashes) stays in the first-level caches.
const BLOCK_HASHES: usize = 4096;

/// Fingerprints of normalized bytes: `winnow(kgram_hashes(norm, k, seed), w)`,
/// appended to `out`, computed block by block so that the hashes never go
/// to memory.
pub fn fingerprints(norm: &[u8], k: usize, w: usize, seed: u64, out: &mut Vec<(u64, u32)>) {
    fingerprints_in_blocks(norm, k, w, seed, BLOCK_HASHES, out);
}

/// [`fingerprints`] with `block` hashes per step (tests use small blocks).
fn fingerprints_in_blocks(
    norm: &[u8],
    k: usize,
    w: usize,
    seed: u64,
    block: usize,
    out: &mut Vec<(u64, u32)>,
) {
    if k == 0 || norm.len() < k {
        return;
    }
    let w = w.max(1);
    let m = (norm.len() - k + 1).min(MAX_HASHES);
    with_hasher(k, seed, |hasher| {
        let block = block.max(w);
        let first = m.min(block);
        // Allocated (zeroed) once; blocks overwrite it in place.
        let mut buf = vec![0u64; if m <= block { m } else { w - 1 + block }];
        hasher.hashes_to(&norm[..first + k - 1], &mut buf[..first]);
        if m <= w {
            winnow(&buf[..first], w, out);
            return;
        }
        out.reserve(2 * m / (w + 1) + 1);
        let mut filled = first;
        let mut sel = Selection::first(&buf[..filled], w, out);
        // Windows end at positions w..first of this first block.
        sel.advance_from(&buf[..filled], 0, w, w, out);
        let mut base = 0;
        let mut next = first;
        while next < m {
            // Keep the last w - 1 hashes: the next windows reach back to them.
            let drop = filled - (w - 1);
            buf.copy_within(drop..filled, 0);
            base += drop;
            let count = (m - next).min(block);
            filled = w - 1 + count;
            hasher.hashes_to(&norm[next..next + count + k - 1], &mut buf[w - 1..filled]);
            // Buffer index w - 1 is position `next`, the end of a new window.
            sel.advance_from(&buf[..filled], base, w, w - 1, out);
            next += count;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::DEFAULT_SEED;
    use proptest::prelude::*;

    #[test]
    fn table_of_cases() {
        // (hashes, w, expected (hash, position) pairs), worked by hand.
        type Case = (&'static [u64], usize, &'static [(u64, u32)]);
        let cases: &[Case] = &[
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
            (&[5, 3, 4, 3, 9], usize::MAX, &[(3, 3)]),
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
    fn window_minima_cases() {
        // (hashes, w, marked positions), worked by hand.
        type Case = (&'static [u64], usize, &'static [usize]);
        let cases: &[Case] = &[
            (&[], 3, &[]),
            (&[5], 3, &[0]),
            (&[5, 3], 3, &[1]),
            (&[3, 3, 3], 2, &[0, 1, 2]),
            (&[5, 1, 4, 1, 6, 7], 3, &[1, 3]),
            (&[1, 2, 3, 4, 5], 2, &[0, 1, 2, 3]),
            (&[5, 4, 3, 2, 1], 2, &[1, 2, 3, 4]),
            (&[9, 2, 8, 7, 6, 5], 3, &[1, 4, 5]),
            (&[7, 8, 9], 1, &[0, 1, 2]),
        ];
        let mut q = Vec::new();
        let mut out = Vec::new();
        for &(hashes, w, marked) in cases {
            window_minima(hashes, w, &mut q, &mut out);
            let got: Vec<usize> = (0..out.len()).filter(|&i| out[i]).collect();
            assert_eq!(got, marked, "hashes {hashes:?} w {w}");
            assert_eq!(
                window_minima_naive(hashes, w),
                out,
                "naive {hashes:?} w {w}"
            );
        }
    }

    proptest! {
        /// Without ties the blocks' running minima and maxima decide
        /// alone: wide values, windows up to longer than the input.
        #[test]
        fn window_minima_matches_oracle_with_wide_values(
            hashes in proptest::collection::vec(any::<u64>(), 0..300),
            w in 1usize..80,
        ) {
            let mut q = Vec::new();
            let mut out = Vec::new();
            window_minima(&hashes, w, &mut q, &mut out);
            prop_assert_eq!(&out, &window_minima_naive(&hashes, w));
        }

        /// The block version equals the oracle, and every winnowed
        /// position is marked (with many ties: a tiny value range).
        #[test]
        fn window_minima_matches_oracle_and_covers_winnow(
            hashes in proptest::collection::vec(0u64..6, 0..300),
            w in 1usize..40,
        ) {
            let mut q = Vec::new();
            let mut out = Vec::new();
            window_minima(&hashes, w, &mut q, &mut out);
            prop_assert_eq!(&out, &window_minima_naive(&hashes, w));
            let mut sel = Vec::new();
            winnow(&hashes, w, &mut sel);
            for (_, p) in sel {
                prop_assert!(out[p as usize], "winnowed position {} not marked", p);
            }
        }

        /// A text that contains a run of `t = w + k - 1` bytes of another
        /// shares a selected fingerprint of it at a marked position.
        #[test]
        fn shared_run_has_a_marked_winnowed_hit(
            seed in any::<u64>(),
            pre in 0usize..60,
            post in 0usize..60,
            extra in 0usize..30,
        ) {
            let (k, w) = (8, 10);
            let run = seeded_text(seed, w + k - 1 + extra, b"abcde");
            let mut source = seeded_text(seed ^ 1, pre, b"abcde");
            source.extend_from_slice(&run);
            source.extend(seeded_text(seed ^ 2, post, b"abcde"));
            let mut query = seeded_text(seed ^ 3, post, b"abcde");
            let qoff = query.len();
            query.extend_from_slice(&run);
            query.extend(seeded_text(seed ^ 4, pre, b"abcde"));
            let mut fp = Vec::new();
            fingerprints(&source, k, w, DEFAULT_SEED, &mut fp);
            let mut qh = Vec::new();
            crate::fingerprint::kgram_hashes(&query, k, DEFAULT_SEED, &mut qh);
            let (mut q, mut marked) = (Vec::new(), Vec::new());
            window_minima(&qh, w, &mut q, &mut marked);
            let found = fp.iter().any(|&(h, p)| {
                let p = p as usize;
                p >= pre && p + k <= pre + run.len() && {
                    let qp = qoff + p - pre;
                    qh[qp] == h && marked[qp]
                }
            });
            prop_assert!(found);
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

    /// The blockwise pipeline equals hashing everything, then winnowing.
    fn check_fingerprints(norm: &[u8], k: usize, w: usize, block: usize) {
        let mut hashes = Vec::new();
        crate::fingerprint::kgram_hashes(norm, k, DEFAULT_SEED, &mut hashes);
        let mut expected = vec![(1, 1)];
        winnow(&hashes, w, &mut expected);
        let mut got = vec![(1, 1)];
        fingerprints_in_blocks(norm, k, w, DEFAULT_SEED, block, &mut got);
        assert_eq!(
            got,
            expected,
            "k {k} w {w} block {block} len {}",
            norm.len()
        );
    }

    #[test]
    fn fingerprints_across_default_blocks() {
        let text = seeded_text(3, 3 * BLOCK_HASHES + 77, b"abcdefghijklmnopqrstuvwxyz");
        for (k, w) in [
            (4, 1),
            (16, 32),
            (64, 100),
            (5, BLOCK_HASHES + 3),
            (8, 5 * BLOCK_HASHES),
            (8, usize::MAX),
        ] {
            check_fingerprints(&text, k, w, BLOCK_HASHES);
            let mut a = Vec::new();
            fingerprints(&text, k, w, DEFAULT_SEED, &mut a);
            let mut b = Vec::new();
            fingerprints_in_blocks(&text, k, w, DEFAULT_SEED, BLOCK_HASHES, &mut b);
            assert_eq!(a, b);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn fingerprints_in_small_blocks(
            seed in any::<u64>(),
            len in 0usize..400,
            k in 0usize..10,
            w in 0usize..40,
            block in 1usize..50,
            small_alphabet in any::<bool>(),
        ) {
            let alphabet: &[u8] = if small_alphabet { b"ab" } else { b"abcdefghij" };
            check_fingerprints(&seeded_text(seed, len, alphabet), k, w, block);
        }

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
