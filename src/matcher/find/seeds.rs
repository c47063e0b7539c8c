//! What a query's k-grams seed, beside its window minima (step 1 of
//! [`super`]): the k-grams one edit away that OCR text also looks up
//! ([`one_edit_keys`]), the periodic k-grams that seed nothing
//! ([`mark_low_complexity`]), and the boilerplate cover that common and
//! periodic k-grams leave on the query ([`boilerplate_cover`]).

use std::ops::Range;

use super::COMMON_EDGE;
use crate::fingerprint;
use crate::normalize::{self};

/// Buffers of [`one_edit_keys`].
#[derive(Default)]
pub(crate) struct EditScratch {
    /// The chars an edit may write, UTF-8 encoded.
    alphabet: Vec<([u8; 4], u8)>,
    /// One edited stretch of the query and its k-gram hashes.
    buf: Vec<u8>,
    pub(super) hashes: Vec<u64>,
}

/// Largest alphabet an edit draws from (the query's own chars first).
const MAX_EDIT_ALPHABET: usize = 96;

/// Appends to `keys` (remixed, as the index keys them) every k-gram one
/// edit away from a k-gram of `qn`, and to `kpos` the query position it
/// stands for: for each char of the query, the k-grams through it with the
/// char replaced by another of the alphabet, or deleted, and the k-grams
/// through the gap before it with a char of the alphabet inserted.
///
/// The alphabet is the query's own normalized chars plus the ASCII letters
/// and digits that normalization keeps: an OCR error turns a char of the
/// source into another, and the source char is almost always a letter of
/// the query's script. A k-gram with one error is found by the edit that
/// undoes it (a substitution by a substitution, a char OCR added by a
/// deletion, one it dropped by an insertion); k-grams with two errors are
/// not (their neighbourhood is about a thousand times larger).
///
/// Each edit hashes only the stretch of k - 1 bytes on either side of it,
/// so every k-gram hashed contains the edit (see the test
/// `one_edit_keys_are_the_naive_neighbourhood`).
pub(super) fn one_edit_keys(
    qn: &[u8],
    k: usize,
    seed: u64,
    e: &mut EditScratch,
    keys: &mut Vec<u64>,
    kpos: &mut Vec<u32>,
) {
    let Ok(q) = std::str::from_utf8(qn) else {
        return;
    };
    edit_alphabet(q, &mut e.alphabet);
    let ctx = k - 1;
    let mut push_stretch = |buf: &mut Vec<u8>, hashes: &mut Vec<u64>, from: usize| {
        fingerprint::kgram_hashes(buf, k, seed, hashes);
        for (j, &h) in hashes.iter().enumerate() {
            keys.push(fingerprint::remix(h));
            kpos.push((from + j) as u32);
        }
    };
    for (p, c) in q.char_indices() {
        let end = p + c.len_utf8();
        let from = p.saturating_sub(ctx);
        let left = &qn[from..p];
        let right_sub = &qn[end..(end + ctx).min(qn.len())];
        let right_ins = &qn[p..(p + ctx).min(qn.len())];
        for &(bytes, len) in &e.alphabet {
            let a = &bytes[..len as usize];
            // Substitution of `c` by `a`.
            if a != &qn[p..end] {
                e.buf.clear();
                e.buf.extend_from_slice(left);
                e.buf.extend_from_slice(a);
                e.buf.extend_from_slice(right_sub);
                push_stretch(&mut e.buf, &mut e.hashes, from);
            }
            // Insertion of `a` before `c` (not before the first char:
            // those k-grams would start with the inserted char only).
            if p > 0 {
                e.buf.clear();
                e.buf.extend_from_slice(left);
                e.buf.extend_from_slice(a);
                e.buf.extend_from_slice(right_ins);
                push_stretch(&mut e.buf, &mut e.hashes, from);
            }
        }
        // Deletion of `c` (inner chars only: deleting the first or last
        // char leaves k-grams the exact seeds already hold).
        if p > 0 && end < qn.len() {
            e.buf.clear();
            e.buf.extend_from_slice(left);
            e.buf.extend_from_slice(right_sub);
            push_stretch(&mut e.buf, &mut e.hashes, from);
        }
    }
}

/// The chars edits draw from: the query's distinct chars, most frequent
/// first, then the ASCII letters and digits that normalization keeps as
/// they are, at most [`MAX_EDIT_ALPHABET`].
fn edit_alphabet(q: &str, out: &mut Vec<([u8; 4], u8)>) {
    let mut counts: std::collections::HashMap<char, u32> = std::collections::HashMap::new();
    for c in q.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let mut chars: Vec<(char, u32)> = counts.into_iter().collect();
    chars.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut seen: Vec<char> = chars.iter().map(|&(c, _)| c).collect();
    seen.truncate(MAX_EDIT_ALPHABET);
    for c in ('a'..='z').chain('0'..='9') {
        if seen.len() >= MAX_EDIT_ALPHABET {
            break;
        }
        let mut b = [0u8; 4];
        if !seen.contains(&c) && normalize::normalize(c.encode_utf8(&mut b)).text == c.to_string() {
            seen.push(c);
        }
    }
    out.clear();
    out.extend(seen.into_iter().map(|c| {
        let mut b = [0u8; 4];
        let len = c.encode_utf8(&mut b).len() as u8;
        (b, len)
    }));
}

/// [`Scratch::common_at`](super::Scratch::common_at) of a query k-gram whose key recurs less than k
/// positions away in the query ([`mark_low_complexity`]).
pub(super) const LOW_COMPLEXITY: u8 = 3;

/// Marks in `common_at` ([`LOW_COMPLEXITY`]) the query k-grams whose key
/// recurs less than `k` positions away among `keys` (the exact keys looked
/// up, at `kpos`, increasing).
///
/// Two equal k-grams that overlap are periodic text, with a period under
/// k: a run of one character, a short pattern repeated ("0, 0, 0, ...",
/// "hahaha", "TPM_UNDEFINED, " three times or more). It is evidence of
/// nothing, as low-complexity stretches are to sequence search (BLAST
/// masks them before seeding), and it is costly: the smallest k-gram of a
/// period recurs in every window, ties are all window minima, so it is
/// looked up at each of its occurrences (with [`Seeds::All`](crate::matcher::Seeds::All), every
/// k-gram is), each bringing the key's postings again on another
/// diagonal. A 188-byte post of zeros looked up one key at 83 positions
/// and sorted 339,507 postings (27 ms), against an index of a source tree
/// whose image files hold runs of zeros, and its matches were the zeros of
/// those files. Periodic k-grams are treated as common ones are: they seed
/// nothing and they cover their bytes, so a match needs `min_len`'s novel
/// share outside them. The repeats of the looked-up k-grams are enough to
/// find a periodic stretch: the cover reaches across the gaps between
/// them (see [`boilerplate_cover`]).
///
/// Repeats farther apart are a phrase said twice, which source code does
/// all the time ("cam_cc_csi4phytimer_clk.clkr,
/// \[CAM_CC_CSI4PHYTIMER_CLK_SRC\]" repeats 20 normalized bytes 24 apart).
/// Marking repeats up to w apart lost 59 of the 29,954 quotes of a stream
/// over an index of the Linux source tree; marking them up to k apart
/// loses 10, and 8 of those 10 are nothing but a short pattern repeated
/// (BENCHMARKS.md, "100,000 distinct unrelated posts").
pub(super) fn mark_low_complexity(keys: &[u64], kpos: &[u32], k: usize, common_at: &mut [u8]) {
    for (i, (&key, &p)) in keys.iter().zip(kpos).enumerate() {
        // The nearest earlier repeat is enough: it was marked with the one
        // before it, if any.
        let repeat = keys[..i]
            .iter()
            .zip(&kpos[..i])
            .rev()
            .take_while(|&(_, &q)| {
                debug_assert!(p > q, "positions increase");
                ((p - q) as usize) < k
            })
            .find(|&(&k2, _)| k2 == key);
        if let Some((_, &q)) = repeat {
            common_at[q as usize] = LOW_COMPLEXITY;
            common_at[p as usize] = LOW_COMPLEXITY;
        }
    }
}

/// The boilerplate cover of a query (see `find_with`), exact inside
/// `want`: `cover` (one count per normalized byte and one more, zeroed)
/// becomes the number of covered bytes before each position, where
/// `is_common(p)` says whether the k-gram at `p` (of `kgrams`) is common.
///
/// A common k-gram covers the bytes from `COMMON_EDGE` before it (or from
/// the previous common k-gram, when that is at most `w` before it) to
/// `COMMON_EDGE` after it. So whether a byte is covered depends only on
/// the k-grams from `k + COMMON_EDGE + w` before it to `w + COMMON_EDGE`
/// after it, and only those around `want` are asked: on a long post with
/// one candidate, the cover of every k-gram took 8.5 us of a 1 KiB
/// fortune's time. Counts are exact as differences between positions of
/// `want` (`cover[b] - cover[a]` for `a <= b` in `want.start..=want.end`).
pub(super) fn boilerplate_cover(
    (k, w, kgrams): (usize, usize, usize),
    want: Range<usize>,
    cover: &mut [u32],
    mut is_common: impl FnMut(usize) -> bool,
) {
    let len = cover.len() - 1;
    let from = want.start.saturating_sub(k + COMMON_EDGE + w);
    let to = (want.end + w + COMMON_EDGE).min(kgrams);
    let mut last_common: Option<usize> = None;
    for qpos in from..to {
        if is_common(qpos) {
            let start = match last_common {
                Some(l) if qpos - l <= w => l,
                _ => qpos.saturating_sub(COMMON_EDGE),
            };
            last_common = Some(qpos);
            let end = (qpos + k + COMMON_EDGE).min(len);
            cover[start] = cover[start].wrapping_add(1);
            cover[end] = cover[end].wrapping_sub(1);
        }
    }
    // Turn the difference array into `covered bytes before i`.
    let mut depth = 0u32;
    let mut covered = 0u32;
    for c in cover.iter_mut() {
        depth = depth.wrapping_add(*c);
        let here = covered;
        covered += u32::from(depth > 0);
        *c = here;
    }
}

#[cfg(test)]
mod tests {
    use super::{edit_alphabet, one_edit_keys, EditScratch};
    use crate::fingerprint;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// The naive neighbourhood: apply each edit to the whole query and
    /// keep the keys of the k-grams of the edited text that overlap the
    /// edit (for a deletion: that span the junction).
    fn naive(q: &str, k: usize, seed: u64) -> BTreeSet<u64> {
        let mut alphabet = Vec::new();
        edit_alphabet(q, &mut alphabet);
        let alphabet: Vec<String> = alphabet
            .iter()
            .map(|(b, n)| String::from_utf8(b[..*n as usize].to_vec()).unwrap())
            .collect();
        let chars: Vec<(usize, char)> = q.char_indices().collect();
        let mut out = BTreeSet::new();
        let mut add = |edited: &str, lo: usize, hi: usize| {
            let b = edited.as_bytes();
            for s in 0..(b.len() + 1).saturating_sub(k) {
                // The k-gram s..s+k overlaps lo..hi (a deletion: lo == hi,
                // the k-gram holds bytes on both sides of lo).
                let overlaps = if lo == hi {
                    s < lo && s + k > lo
                } else {
                    s < hi && s + k > lo
                };
                if overlaps {
                    out.insert(fingerprint::remix(fingerprint::kgram_hash(
                        &b[s..s + k],
                        seed,
                    )));
                }
            }
        };
        for (i, &(p, c)) in chars.iter().enumerate() {
            let end = p + c.len_utf8();
            for a in &alphabet {
                if a.as_str() != &q[p..end] {
                    add(&format!("{}{a}{}", &q[..p], &q[end..]), p, p + a.len());
                }
                if i > 0 {
                    add(&format!("{}{a}{}", &q[..p], &q[p..]), p, p + a.len());
                }
            }
            if i > 0 && end < q.len() {
                add(&format!("{}{}", &q[..p], &q[end..]), p, p);
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Every key `one_edit_keys` looks up is a k-gram one edit away
        /// from the query's, and every such k-gram is looked up.
        #[test]
        fn one_edit_keys_are_the_naive_neighbourhood(
            q in "[abé中ж0]{0,24}",
            k in 4usize..9,
        ) {
            let seed = fingerprint::DEFAULT_SEED;
            let (mut keys, mut kpos) = (Vec::new(), Vec::new());
            one_edit_keys(q.as_bytes(), k, seed, &mut EditScratch::default(), &mut keys, &mut kpos);
            prop_assert_eq!(keys.len(), kpos.len());
            prop_assert!(kpos.iter().all(|&p| (p as usize) <= q.len()));
            let got: BTreeSet<u64> = keys.iter().copied().collect();
            prop_assert_eq!(got, naive(&q, k, seed));
        }
    }

    /// The alphabet: the query's chars, most frequent first, then the
    /// ASCII letters and digits normalization keeps, no char twice.
    #[test]
    fn the_alphabet_is_the_query_chars_then_ascii() {
        let mut a = Vec::new();
        edit_alphabet("жжжbb", &mut a);
        let chars: Vec<String> = a
            .iter()
            .map(|(b, n)| String::from_utf8(b[..*n as usize].to_vec()).unwrap())
            .collect();
        assert_eq!(chars[0], "ж");
        assert_eq!(chars[1], "b");
        assert!(chars.contains(&"a".to_owned()) && chars.contains(&"z".to_owned()));
        let set: BTreeSet<&String> = chars.iter().collect();
        assert_eq!(set.len(), chars.len());
        assert!(chars.len() <= super::MAX_EDIT_ALPHABET);
    }
}
