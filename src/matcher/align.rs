//! Alignment (temporary minimal version; replaced by the match branch).
use std::ops::Range;
/// Scoring.
#[derive(Debug, Clone, Copy)]
pub struct Scoring {
    /// Match.
    pub matched: i32,
    /// Mismatch.
    pub mismatch: i32,
    /// Gap.
    pub gap: i32,
}
impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            matched: 1,
            mismatch: -1,
            gap: -1,
        }
    }
}
/// Alignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    /// Query range.
    pub query: Range<usize>,
    /// Source range.
    pub source: Range<usize>,
    /// Score.
    pub score: i32,
    /// Matches.
    pub matches: u32,
    /// Mismatches.
    pub mismatches: u32,
    /// Gaps.
    pub gaps: u32,
}
impl Alignment {
    /// Similarity.
    pub fn similarity(&self) -> f64 {
        let t = self.matches + self.mismatches + self.gaps;
        if t == 0 {
            0.0
        } else {
            self.matches as f64 / t as f64
        }
    }
}
/// Aligner.
#[derive(Debug)]
pub struct Aligner {
    s: Scoring,
}
impl Aligner {
    /// New.
    pub fn new(s: Scoring) -> Self {
        Aligner { s }
    }
    /// Best local alignment within diagonals [d_lo, d_hi] (d = source - query).
    pub fn best_local(
        &mut self,
        q: &[u8],
        s: &[u8],
        d_lo: isize,
        d_hi: isize,
    ) -> Option<Alignment> {
        let (n, m) = (q.len(), s.len());
        // h, matches, mismatches, gaps, start_i, start_j
        #[derive(Clone, Copy, Default)]
        struct C {
            h: i32,
            ma: u32,
            mi: u32,
            g: u32,
            si: usize,
            sj: usize,
        }
        let mut prev = vec![C::default(); m + 1];
        let mut cur = vec![C::default(); m + 1];
        let mut best: Option<(C, usize, usize)> = None;
        for i in 1..=n {
            for j in 0..=m {
                cur[j] = C {
                    h: 0,
                    ma: 0,
                    mi: 0,
                    g: 0,
                    si: i,
                    sj: j,
                };
            }
            for j in 1..=m {
                let d = j as isize - i as isize;
                if d < d_lo || d > d_hi {
                    continue;
                }
                let mut c = C {
                    h: 0,
                    ma: 0,
                    mi: 0,
                    g: 0,
                    si: i,
                    sj: j,
                };
                let p = prev[j - 1];
                let (dh, ism) = if q[i - 1] == s[j - 1] {
                    (self.s.matched, true)
                } else {
                    (self.s.mismatch, false)
                };
                let diag = p.h + dh;
                if diag > c.h {
                    c = C {
                        h: diag,
                        ma: p.ma + ism as u32,
                        mi: p.mi + (!ism) as u32,
                        g: p.g,
                        si: if p.h == 0 { i - 1 } else { p.si },
                        sj: if p.h == 0 { j - 1 } else { p.sj },
                    };
                }
                let up = prev[j];
                if up.h + self.s.gap > c.h && up.h > 0 {
                    c = C {
                        h: up.h + self.s.gap,
                        g: up.g + 1,
                        ..up
                    };
                }
                let left = cur[j - 1];
                if left.h + self.s.gap > c.h && left.h > 0 {
                    c = C {
                        h: left.h + self.s.gap,
                        g: left.g + 1,
                        ..left
                    };
                }
                cur[j] = c;
                if c.h > 0 && best.is_none_or(|b| c.h > b.0.h) {
                    best = Some((c, i, j));
                }
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        best.map(|(c, i, j)| Alignment {
            query: c.si..i,
            source: c.sj..j,
            score: c.h,
            matches: c.ma,
            mismatches: c.mi,
            gaps: c.g,
        })
    }
}
