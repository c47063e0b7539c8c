//! Verification alignment: banded local alignment (Smith-Waterman) of a
//! query's normalized bytes against a window of a source's normalized bytes.
//!
//! Smith and Waterman, "Identification of common molecular subsequences",
//! J. Mol. Biol. 147 (1981), with linear gap costs, restricted to a band of
//! diagonals as in banded alignment (Chao, Pearson, Miller, CABIOS 1992).
//!
//! # Model
//!
//! Cell `(i, j)` stands for the prefixes `query[..i]` and `source[..j]`; its
//! diagonal is `d = j - i` (source position minus query position). Only cells
//! with `d_lo <= d <= d_hi` exist; every other cell is forbidden, so an
//! alignment path (start cell, every step, end cell) stays inside the band.
//!
//! ```text
//! H(i, j) = max(0,
//!               H(i-1, j-1) + (query[i-1] == source[j-1] ? matched : mismatch),
//!               H(i-1, j)   + gap,     // query byte against nothing
//!               H(i,   j-1) + gap)     // source byte against nothing
//! ```
//!
//! # Scoring for OCR and edited text
//!
//! The default is `+1 / -1 / -1` (unit costs, as edit distance). OCR errors
//! are mostly single substitutions (`e`/`c`, `rn`/`m` is a substitution plus
//! a deletion), dropped or doubled letters (one gap) and swaps (two
//! mismatches); merged words cost nothing, since normalization drops spaces.
//! With unit costs the score of a stretch is `matches - errors`, so the
//! alignment keeps extending through text with an error rate up to 50%: a
//! screenshot with 25% character errors still aligns end to end (with
//! `-2 / -2` the break-even is 33%, and such pages fall apart into pieces).
//! On unrelated text the optimal local score drifts down (letters match by
//! chance far less than half the time, and the longest common subsequence
//! of random text over a 26+ letter alphabet is well under half its length),
//! so an alignment overshoots its true end by only a few bytes. Whether the
//! result is a match is then decided by the caller's thresholds on
//! [`Alignment::len`] and [`Alignment::similarity`].
//!
//! # Tie-breaking (deterministic, shared by [`Aligner`] and the oracle)
//!
//! 1. End cell: the highest `H`; among equals the smallest `i`, then the
//!    smallest `j` (the first one met in row-major order).
//! 2. Traceback from the end cell prefers the diagonal step, then the step
//!    that consumes a query byte (`i-1`), then the one that consumes a
//!    source byte (`j-1`), taking the first whose predecessor plus step score
//!    equals the cell's value.
//! 3. The traceback stops at the first cell whose `H` is 0, so alignments
//!    start and end on a matching byte and carry no zero-score prefix.
//!
//! # Invariants
//!
//! - A result has `score > 0`, `matches >= 1`, and
//!   `score == matches*matched + mismatches*mismatch + gaps*gap`.
//! - [`Aligner::best_local`] and [`best_local_naive`] return the same value
//!   for every input (tested by proptest).
//! - [`Aligner`] keeps its buffers between calls: no allocation once they
//!   have grown to the largest `(query.len() + 1) * band width` seen.
//!   Memory is 4 bytes per band cell; callers bound query length and band.

use std::ops::Range;

use crate::error::ConfigError;

/// Largest accepted magnitude of a score or penalty. Together with
/// [`MAX_QUERY`] this keeps every cell value far inside `i32`.
pub const MAX_SCORE_MAGNITUDE: i32 = 1_000;

/// Longest query (in normalized bytes) accepted by the aligners; longer
/// queries are cut to this length. `MAX_QUERY * MAX_SCORE_MAGNITUDE` fits
/// in `i32`.
pub const MAX_QUERY: usize = 1 << 20;

/// Value of a forbidden cell: far below any reachable score, and far enough
/// from `i32::MIN` that adding a penalty cannot overflow.
const FORBIDDEN: i32 = i32::MIN / 2;

/// Scores of the alignment steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scoring {
    matched: i32,
    mismatch: i32,
    gap: i32,
}

impl Scoring {
    /// Scores for a match (positive), a mismatch and a gap (both negative),
    /// each of magnitude at most [`MAX_SCORE_MAGNITUDE`].
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] naming the first value out of range.
    pub fn new(matched: i32, mismatch: i32, gap: i32) -> Result<Self, ConfigError> {
        let max = MAX_SCORE_MAGNITUDE as u64;
        ConfigError::check_range("align.matched", matched.max(0) as u64, 1, max)?;
        ConfigError::check_range("align.mismatch", mismatch.unsigned_abs() as u64, 1, max)?;
        ConfigError::check_range("align.gap", gap.unsigned_abs() as u64, 1, max)?;
        if mismatch >= 0 {
            return Err(ConfigError::Inconsistent("align.mismatch must be negative"));
        }
        if gap >= 0 {
            return Err(ConfigError::Inconsistent("align.gap must be negative"));
        }
        Ok(Scoring {
            matched,
            mismatch,
            gap,
        })
    }

    /// Score of two equal bytes.
    pub fn matched(&self) -> i32 {
        self.matched
    }

    /// Score (negative) of two different bytes aligned together.
    pub fn mismatch(&self) -> i32 {
        self.mismatch
    }

    /// Score (negative) of a byte aligned against nothing.
    pub fn gap(&self) -> i32 {
        self.gap
    }

    fn step(&self, a: u8, b: u8) -> i32 {
        if a == b {
            self.matched
        } else {
            self.mismatch
        }
    }
}

impl Default for Scoring {
    /// `+1 / -1 / -1`: see the module documentation for why.
    fn default() -> Self {
        Scoring {
            matched: 1,
            mismatch: -1,
            gap: -1,
        }
    }
}

/// The best local alignment found: spans on both sides and its composition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    /// Aligned bytes of the query.
    pub query: Range<usize>,
    /// Aligned bytes of the source window.
    pub source: Range<usize>,
    /// Alignment score (always positive).
    pub score: i32,
    /// Columns with two equal bytes.
    pub matches: u32,
    /// Columns with two different bytes.
    pub mismatches: u32,
    /// Columns with a byte on one side only.
    pub gaps: u32,
}

impl Alignment {
    /// `matches / (matches + mismatches + gaps)`, in `(0, 1]`.
    pub fn similarity(&self) -> f64 {
        let columns = self.columns();
        if columns == 0 {
            return 0.0;
        }
        f64::from(self.matches) / columns as f64
    }

    /// Number of alignment columns (`matches + mismatches + gaps`).
    pub fn len(&self) -> usize {
        self.columns() as usize
    }

    /// True for an alignment without columns (never returned by the aligners).
    pub fn is_empty(&self) -> bool {
        self.columns() == 0
    }

    fn columns(&self) -> u64 {
        u64::from(self.matches) + u64::from(self.mismatches) + u64::from(self.gaps)
    }
}

/// Clamp the band to the diagonals that exist for these lengths; `None` when
/// no cell is left.
fn clamp_band(n: usize, m: usize, d_lo: isize, d_hi: isize) -> Option<(isize, isize)> {
    let lo = d_lo.max(-(n as isize));
    let hi = d_hi.min(m as isize);
    (lo <= hi).then_some((lo, hi))
}

/// A reusable banded local aligner.
///
/// The band is stored row by row, cell `(i, j)` at `i * width + (j - i - d_lo)`,
/// so the diagonal predecessor has the same column, the one above the next
/// column and the one to the left the previous column.
#[derive(Debug, Clone)]
pub struct Aligner {
    scoring: Scoring,
    cells: Vec<i32>,
}

impl Aligner {
    /// An aligner with these scores and empty buffers.
    pub fn new(scoring: Scoring) -> Self {
        Aligner {
            scoring,
            cells: Vec::new(),
        }
    }

    /// The scores in use.
    pub fn scoring(&self) -> Scoring {
        self.scoring
    }

    /// The best local alignment of `query` against `source` inside the band
    /// of diagonals `[d_lo, d_hi]` (`d = source_pos - query_pos`), or `None`
    /// when no byte pair in the band matches. Queries longer than
    /// [`MAX_QUERY`] are cut. Ties are broken as the module documentation
    /// says, identically to [`best_local_naive`].
    pub fn best_local(
        &mut self,
        query: &[u8],
        source: &[u8],
        d_lo: isize,
        d_hi: isize,
    ) -> Option<Alignment> {
        let query = &query[..query.len().min(MAX_QUERY)];
        let (n, m) = (query.len(), source.len());
        let (lo, hi) = clamp_band(n, m, d_lo, d_hi)?;
        let width = (hi - lo + 1) as usize;
        let total = (n + 1).checked_mul(width)?;
        if self.cells.len() < total {
            self.cells.resize(total, FORBIDDEN);
        }
        let sc = self.scoring;
        let cells = &mut self.cells[..total];

        // Row 0: cells (0, j) with j = lo + k in [0, m] are 0, others forbidden.
        for (k, cell) in cells[..width].iter_mut().enumerate() {
            let j = lo + k as isize;
            *cell = if (0..=m as isize).contains(&j) {
                0
            } else {
                FORBIDDEN
            };
        }

        let mut best = 0i32;
        let mut best_at = (0usize, 0usize);
        for i in 1..=n {
            let (prev_rows, row_and_after) = cells.split_at_mut(i * width);
            let prev = &prev_rows[(i - 1) * width..];
            let row = &mut row_and_after[..width];
            let qi = query[i - 1];
            // j = i + lo + k must lie in [0, m].
            let j0 = i as isize + lo;
            let k_start = (-j0).max(0) as usize;
            let k_end = ((m as isize - j0 + 1).max(0) as usize).min(width);
            row[..k_start.min(width)].fill(FORBIDDEN);
            if k_start >= k_end {
                row[k_start.min(width)..].fill(FORBIDDEN);
                continue;
            }
            row[k_end..].fill(FORBIDDEN);
            let mut left = FORBIDDEN;
            for k in k_start..k_end {
                let j = (j0 + k as isize) as usize;
                let h = if j == 0 {
                    0
                } else {
                    let diag = prev[k] + sc.step(qi, source[j - 1]);
                    let up = if k + 1 < width {
                        prev[k + 1] + sc.gap
                    } else {
                        FORBIDDEN
                    };
                    diag.max(up).max(left + sc.gap).max(0)
                };
                row[k] = h;
                left = h;
                if h > best {
                    best = h;
                    best_at = (i, j);
                }
            }
        }
        if best <= 0 {
            return None;
        }
        let at = |i: usize, j: usize| -> i32 {
            let d = j as isize - i as isize;
            if d < lo || d > hi {
                FORBIDDEN
            } else {
                cells[i * width + (d - lo) as usize]
            }
        };
        Some(traceback(query, source, sc, best, best_at, at))
    }
}

/// Follow the tie-breaking rules back from `end`, where `h(i, j)` reads a
/// cell (forbidden cells read as [`FORBIDDEN`]).
fn traceback(
    query: &[u8],
    source: &[u8],
    sc: Scoring,
    score: i32,
    end: (usize, usize),
    h: impl Fn(usize, usize) -> i32,
) -> Alignment {
    let (mut i, mut j) = end;
    let (mut matches, mut mismatches, mut gaps) = (0u32, 0u32, 0u32);
    loop {
        let here = h(i, j);
        if here == 0 {
            break;
        }
        if i > 0 && j > 0 {
            let step = sc.step(query[i - 1], source[j - 1]);
            if h(i - 1, j - 1) + step == here {
                if query[i - 1] == source[j - 1] {
                    matches += 1;
                } else {
                    mismatches += 1;
                }
                i -= 1;
                j -= 1;
                continue;
            }
        }
        if i > 0 && h(i - 1, j) + sc.gap == here {
            gaps += 1;
            i -= 1;
            continue;
        }
        // A positive cell always has a predecessor that explains it; the
        // only one left is the left neighbour.
        debug_assert!(j > 0 && h(i, j - 1) + sc.gap == here);
        if j == 0 {
            break;
        }
        gaps += 1;
        j -= 1;
    }
    Alignment {
        query: i..end.0,
        source: j..end.1,
        score,
        matches,
        mismatches,
        gaps,
    }
}

/// The oracle: the same alignment computed on the full `(n+1) x (m+1)`
/// matrix, with cells outside the band forbidden. Quadratic in time and
/// memory; for tests and benchmarks.
pub fn best_local_naive(
    query: &[u8],
    source: &[u8],
    d_lo: isize,
    d_hi: isize,
    scoring: Scoring,
) -> Option<Alignment> {
    let query = &query[..query.len().min(MAX_QUERY)];
    let (n, m) = (query.len(), source.len());
    let in_band = |i: usize, j: usize| {
        let d = j as isize - i as isize;
        d_lo <= d && d <= d_hi
    };
    let mut h = vec![vec![FORBIDDEN; m + 1]; n + 1];
    let mut best = 0;
    let mut best_at = (0, 0);
    for i in 0..=n {
        for j in 0..=m {
            if !in_band(i, j) {
                continue;
            }
            let mut v = 0;
            if i > 0 && j > 0 {
                v = v.max(h[i - 1][j - 1] + scoring.step(query[i - 1], source[j - 1]));
            }
            if i > 0 {
                v = v.max(h[i - 1][j] + scoring.gap);
            }
            if j > 0 {
                v = v.max(h[i][j - 1] + scoring.gap);
            }
            h[i][j] = v;
            if v > best {
                best = v;
                best_at = (i, j);
            }
        }
    }
    if best <= 0 {
        return None;
    }
    Some(traceback(query, source, scoring, best, best_at, |i, j| {
        h[i][j]
    }))
}

#[cfg(test)]
mod tests;
