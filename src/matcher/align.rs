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
//!   have grown to the largest shape seen. Memory is about
//!   `(2 * query.len() + band width) * (band width / 2 rounded up to 16, + 2)`
//!   cells of 2 bytes (4 when scores may exceed 8,000), i.e. about `band
//!   width + 32` bytes per query byte: callers bound query length and band.
//!
//! The score bounds that let the matcher skip an alignment are in `bound`;
//! the vector kernels of the fill in `kernel`, `sse2`, `avx2` and `avx512`
//! (x86_64).

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

    fn step<S: Symbol>(&self, a: S, b: S) -> i32 {
        if a.id() == b.id() {
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

/// The code that fills the cells of an alignment. All give the same
/// alignments (the oracle tests run each one the machine has); they differ
/// in speed. [`Aligner::new`] takes the fastest the CPU has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlignKernel {
    /// Plain Rust over rows of lanes, vectorized by the compiler: every
    /// target, and every band on every target.
    Portable,
    /// SSE2 (every x86_64 CPU) for rows of up to 64 lanes (128
    /// diagonals), with the rows a row depends on kept in registers.
    Sse2,
    /// AVX2, the same with 16 lanes a register, up to 128 lanes.
    Avx2,
    /// AVX-512BW for rows of up to 512 lanes in whole registers of 32
    /// (1 to 8, 12 or 16 of them; AVX2 for rows of 16 lanes more than a
    /// multiple of 32, up to 128): see `row_lanes`.
    Avx512,
}

impl AlignKernel {
    /// Whether this CPU can run the kernel.
    pub fn available(self) -> bool {
        match self {
            AlignKernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            AlignKernel::Sse2 => true,
            #[cfg(target_arch = "x86_64")]
            AlignKernel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            AlignKernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx2")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The kernel [`Aligner::new`] uses: the fastest this CPU has, unless
    /// the environment variable `LEAKPRINT_ALIGN_KERNEL` names another one
    /// it has (`portable`, `sse2`, `avx2` or `avx512`; any other value is
    /// ignored).
    /// The variable is for measuring what a CPU without AVX-512 gets, and
    /// for ruling a kernel out when chasing a fault: every kernel gives the
    /// same alignments. It is read once per process.
    pub fn best() -> Self {
        static CHOSEN: std::sync::OnceLock<AlignKernel> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let asked = std::env::var("LEAKPRINT_ALIGN_KERNEL").ok();
            Self::chosen(asked.as_deref())
        })
    }

    /// The kernel named by `asked` when this CPU has it, else the fastest.
    fn chosen(asked: Option<&str>) -> Self {
        let named = match asked.map(str::trim) {
            Some("portable") => Some(AlignKernel::Portable),
            Some("sse2") => Some(AlignKernel::Sse2),
            Some("avx2") => Some(AlignKernel::Avx2),
            Some("avx512") => Some(AlignKernel::Avx512),
            _ => None,
        };
        named.filter(|k| k.available()).unwrap_or_else(|| {
            [AlignKernel::Avx512, AlignKernel::Avx2, AlignKernel::Sse2]
                .into_iter()
                .find(|k| k.available())
                .unwrap_or(AlignKernel::Portable)
        })
    }
}

/// A reusable banded local aligner.
///
/// Cells are computed by anti-diagonals `t = i + j`: the cells of one
/// anti-diagonal depend only on the two before it, so each is one loop
/// without a carried dependency, which the compiler vectorizes. On
/// anti-diagonal `t` the cells have the diagonals `d = lo + p + 2u`
/// (`p = (t - lo) mod 2`, `u = 0, 1, ..`); row `t` of the buffer stores cell
/// `u` at `1 + u`, with forbidden sentinels around. The predecessors of cell
/// `u` are: diagonal step, same `u` two rows up; query step (`d + 1`) and
/// source step (`d - 1`), one row up at `u` and `u - 1` when `p = 0`, at
/// `u + 1` and `u` when `p = 1`. Query bytes are read reversed, since along an
/// anti-diagonal `i` falls as `j` rises; both sequences are widened to `u16`
/// and padded so that every row is computed over the same whole blocks of
/// lanes, with no bounds per row (see `fill_and_trace` for why the cells
/// outside the matrix change nothing).
#[derive(Debug, Clone)]
pub struct Aligner {
    scoring: Scoring,
    kernel: AlignKernel,
    narrow: Buffers<i16>,
    wide: Buffers<i32>,
    qpad: Vec<u16>,
    spad: Vec<u16>,
    bound: BoundScratch,
}

/// Cell values of one width: `i16` when the best possible score is small
/// enough (twice the lanes per vector), `i32` otherwise.
trait Lane: Copy + Ord + std::ops::Add<Output = Self> + std::fmt::Debug {
    const FORBIDDEN: Self;
    const ZERO: Self;
    const ONE: Self;
    /// Above every cell value: a cap that changes nothing.
    const CAP: Self;
    /// Rows shorter than this can count their cells in this type.
    const MAX_INDEX: usize;
    /// Only called with scores of magnitude <= [`MAX_SCORE_MAGNITUDE`].
    fn narrow(v: i32) -> Self;
    fn widen(self) -> i32;
    /// The fill of [`fill`] by a kernel for this type and target, when
    /// there is one for this many lanes (`None`: the portable kernel).
    fn fill_fast(
        _: AlignKernel,
        _: &mut Buffers<Self>,
        _: (&[u16], &[u16]),
        _: usize,
        _: Scoring,
        _: Geometry,
    ) -> Option<(Self, (usize, usize))> {
        None
    }
}

impl Lane for i16 {
    const FORBIDDEN: Self = i16::MIN / 2;
    const ZERO: Self = 0;
    const ONE: Self = 1;
    const CAP: Self = i16::MAX;
    const MAX_INDEX: usize = i16::MAX as usize;
    fn narrow(v: i32) -> Self {
        v as i16
    }
    fn widen(self) -> i32 {
        if self == Self::FORBIDDEN {
            FORBIDDEN
        } else {
            i32::from(self)
        }
    }
    #[cfg(target_arch = "x86_64")]
    fn fill_fast(
        kernel: AlignKernel,
        buf: &mut Buffers<Self>,
        pads: (&[u16], &[u16]),
        n: usize,
        sc: Scoring,
        geo: Geometry,
    ) -> Option<(Self, (usize, usize))> {
        let Buffers {
            cells,
            caps,
            row_max,
        } = buf;
        let (c, r) = (&mut cells[..], &caps[..]);
        let lanes = geo.stride - 2;
        macro_rules! run {
            ($fill:expr) => {
                // SAFETY: the kernels are only chosen where the CPU has
                // their instruction set (`AlignKernel::available`;
                // AVX-512BW only with AVX2; SSE2 is part of the x86_64
                // baseline), the only requirement of these target-feature
                // functions.
                unsafe { $fill(c, r, row_max, pads, n, sc, geo) }
            };
        }
        // A row of `lanes` (a multiple of 16, see `row_lanes`) in R
        // registers: AVX-512BW takes 32 lanes a register (R of 1 to 8, 12
        // or 16), AVX2 16 and SSE2 8 (R of 1 to 8); R is a constant of
        // each copy. Rows of 16 lanes more than a multiple of 32 (at most
        // 128) go to AVX2 on an AVX-512 machine. Wider rows, and the
        // portable kernel, take `fill`'s loop. (Criterion
        // `align_250x400_band255`, 128 lanes: 24.9 us portable, 11.5 us
        // AVX2, 7.7 us AVX-512BW.)
        use AlignKernel::{Avx2, Avx512, Portable, Sse2};
        macro_rules! by_registers {
            ($module:ident, $r:expr, $($wide:literal)*) => {
                match $r {
                    1 => run!($module::fill::<1>),
                    2 => run!($module::fill::<2>),
                    3 => run!($module::fill::<3>),
                    4 => run!($module::fill::<4>),
                    5 => run!($module::fill::<5>),
                    6 => run!($module::fill::<6>),
                    7 => run!($module::fill::<7>),
                    8 => run!($module::fill::<8>),
                    $($wide => run!($module::fill::<$wide>),)*
                    _ => return None,
                }
            };
        }
        Some(match kernel {
            Portable => return None,
            Avx512 if lanes.is_multiple_of(32) => by_registers!(avx512, lanes / 32, 12 16),
            Avx512 | Avx2 => by_registers!(avx2, lanes / 16,),
            Sse2 => by_registers!(sse2, lanes / 8,),
        })
    }
}

impl Lane for i32 {
    const FORBIDDEN: Self = FORBIDDEN;
    const ZERO: Self = 0;
    const ONE: Self = 1;
    const CAP: Self = i32::MAX;
    const MAX_INDEX: usize = i32::MAX as usize;
    fn narrow(v: i32) -> Self {
        v
    }
    fn widen(self) -> i32 {
        self
    }
}

/// Largest best score for which the `i16` cells are used: far from
/// `i16::MAX`, and `i16::MIN / 2` minus a penalty stays representable.
const NARROW_MAX_SCORE: i64 = 8_000;

#[derive(Debug, Clone, Default)]
struct Buffers<L> {
    cells: Vec<L>,
    /// Per parity, the cap of each lane: [`Lane::CAP`] in the band,
    /// forbidden past it.
    caps: Vec<L>,
    /// Scratch of the SIMD fills (`kernel`): each row's lane-wise maximum
    /// over its registers.
    row_max: Vec<L>,
}

/// Band geometry of one call, shared by the fill and the cell lookup.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    lo: isize,
    hi: isize,
    t_min: isize,
    t_max: isize,
    stride: usize,
}

impl Geometry {
    /// Buffer position of cell `(i, j)`, or `None` when it is outside the band.
    fn position(&self, i: usize, j: usize) -> Option<usize> {
        let (t, d) = ((i + j) as isize, j as isize - i as isize);
        if d < self.lo || d > self.hi || t < self.t_min || t > self.t_max {
            return None;
        }
        let u = ((d - self.lo) / 2) as usize;
        Some(self.row(t) + 1 + u)
    }

    /// Buffer position of the start of anti-diagonal `t` (two forbidden
    /// rows precede `t_min`).
    fn row(&self, t: isize) -> usize {
        (t - self.t_min + 2) as usize * self.stride
    }
}

impl Aligner {
    /// An aligner with these scores and empty buffers, using the fastest
    /// [`AlignKernel`] this CPU has.
    pub fn new(scoring: Scoring) -> Self {
        Self::with_kernel(scoring, AlignKernel::best()).expect("the best kernel is available")
    }

    /// An aligner that fills cells with `kernel`; `None` when this CPU
    /// cannot run it. For comparing kernels: every kernel gives the same
    /// alignments.
    pub fn with_kernel(scoring: Scoring, kernel: AlignKernel) -> Option<Self> {
        kernel.available().then(|| Aligner {
            scoring,
            kernel,
            narrow: Buffers::default(),
            wide: Buffers::default(),
            qpad: Vec::new(),
            spad: Vec::new(),
            bound: BoundScratch::default(),
        })
    }

    /// The kernel that fills the cells.
    pub fn kernel(&self) -> AlignKernel {
        self.kernel
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
    pub fn best_local<S: Symbol>(
        &mut self,
        query: &[S],
        source: &[S],
        d_lo: isize,
        d_hi: isize,
    ) -> Option<Alignment> {
        let query = &query[..query.len().min(MAX_QUERY)];
        let (n, m) = (query.len(), source.len());
        let (lo, hi) = clamp_band(n, m, d_lo, d_hi)?;
        let width = (hi - lo + 1) as usize;
        let sc = self.scoring;
        let top = n.min(m) as i64 * i64::from(sc.matched);
        // Room for whole blocks of lanes and a forbidden cell on each side
        // (rows of `i32` cells are filled by the portable loop: no
        // rounding for a SIMD kernel).
        let narrow = top <= NARROW_MAX_SCORE;
        let kernel = if narrow {
            self.kernel
        } else {
            AlignKernel::Portable
        };
        let stride = row_lanes(kernel, width) + 2;
        // t = 2i + d = 2j - d, so t >= max(lo, -hi, 0) and t <= min(2n + hi, 2m - lo, n + m).
        let t_min = lo.max(-hi).max(0);
        let t_max = (2 * n as isize + hi)
            .min(2 * m as isize - lo)
            .min((n + m) as isize);
        if t_min > t_max {
            return None;
        }
        let geo = Geometry {
            lo,
            hi,
            t_min,
            t_max,
            stride,
        };
        let pad = pad_len(stride);
        widen_padded(
            &mut self.qpad,
            query.iter().rev().map(|&q| q.id()),
            pad,
            PAD_QUERY,
        );
        widen_padded(
            &mut self.spad,
            source.iter().map(|&s| s.id()),
            pad,
            PAD_SOURCE,
        );
        let (qpad, spad) = (&self.qpad[..], &self.spad[..]);
        if narrow {
            fill_and_trace(
                self.kernel,
                &mut self.narrow,
                qpad,
                spad,
                query,
                source,
                sc,
                geo,
            )
        } else {
            fill_and_trace(
                self.kernel,
                &mut self.wide,
                qpad,
                spad,
                query,
                source,
                sc,
                geo,
            )
        }
    }
}

/// Fill the band anti-diagonal by anti-diagonal (see [`Aligner`]), find the
/// best end cell and trace it back.
///
/// Every row is computed over its full band width, with no per-row bounds:
/// `qpad` / `spad` are the (reversed) query and the source widened to `u16`
/// and padded on both sides with [`PAD_QUERY`] / [`PAD_SOURCE`], which equal
/// no byte and not each other. Cells outside the matrix are then computed
/// too, and this changes nothing: by induction every cell with `i <= 0` or
/// `j <= 0` is 0 (a pad never matches, so each step from a 0 costs and the
/// `max(0, ..)` wins), which is exactly the boundary; and every path into a
/// cell with `i > n` or `j > m` crosses into it by a costing step and only
/// costs after, so such a cell is below the best valid cell of an earlier
/// anti-diagonal and is never chosen as the end. Only valid cells feed
/// valid cells, and the traceback reads only valid cells.
#[allow(clippy::too_many_arguments)]
fn fill_and_trace<L: Lane, S: Symbol>(
    kernel: AlignKernel,
    buf: &mut Buffers<L>,
    qpad: &[u16],
    spad: &[u16],
    query: &[S],
    source: &[S],
    sc: Scoring,
    geo: Geometry,
) -> Option<Alignment> {
    let (best, best_at) = fill(kernel, buf, qpad, spad, query.len(), sc, geo);
    if best <= L::ZERO {
        return None;
    }
    let cells = &buf.cells;
    let at =
        |i: usize, j: usize| -> i32 { geo.position(i, j).map_or(FORBIDDEN, |x| cells[x].widen()) };
    Some(traceback(query, source, sc, best.widen(), best_at, at))
}

/// Fill the cells of the band; returns the best value and its cell (the
/// value is 0 when no cell is positive).
///
/// The portable kernel (every target, `i32` cells, and rows wider than
/// the SIMD kernels take: see `Lane::fill_fast`) reads the row just
/// stored at an offset of one lane, so the loop
/// is bound by that latency and by per-row overhead rather than by vector
/// width: compiling it for AVX2 (run-time dispatch) measured no gain over
/// the SSE2 baseline. The kernels of `sse2` and `avx512` keep the rows in
/// registers instead (criterion `align_250x350_band51/banded`, December
/// 2026: 9.1 us portable, 6.2 us SSE2, 4.2 us AVX-512BW).
fn fill<L: Lane>(
    kernel: AlignKernel,
    buf: &mut Buffers<L>,
    qpad: &[u16],
    spad: &[u16],
    n: usize,
    sc: Scoring,
    geo: Geometry,
) -> (L, (usize, usize)) {
    let Geometry {
        lo,
        hi,
        t_min,
        t_max,
        stride,
    } = geo;
    let width = (hi - lo + 1) as usize;
    let total = geo.row(t_max + 1);
    if buf.cells.len() < total {
        buf.cells.resize(total, L::FORBIDDEN);
    }
    // The two rows before t_min, read as the first rows' predecessors.
    buf.cells[..2 * stride].fill(L::FORBIDDEN);
    // Every row runs over the same whole blocks of lanes (no scalar tail);
    // `caps[p]` forces the lanes past the band (with an odd width, rows of
    // odd parity hold one cell fewer) to forbidden inside the kernel (the
    // SIMD kernels take their band from it too).
    let lanes = stride - 2;
    let len = [width.div_ceil(2), width / 2];
    buf.caps.clear();
    for l in len {
        buf.caps
            .extend((0..lanes).map(|u| if u < l { L::CAP } else { L::FORBIDDEN }));
    }
    if let Some(r) = L::fill_fast(kernel, buf, (qpad, spad), n, sc, geo) {
        return r;
    }
    let (matched, mismatch, gap) = (
        L::narrow(sc.matched),
        L::narrow(sc.mismatch),
        L::narrow(sc.gap),
    );
    let pad = pad_len(stride) as isize;
    let cells = &mut buf.cells[..total];
    let caps = &buf.caps[..];

    let (mut best, mut best_at) = (L::ZERO, (0usize, 0usize));
    for t in t_min..=t_max {
        let p = (t - lo) & 1;
        let base = geo.row(t);
        let (before, rest) = cells.split_at_mut(base);
        let row = &mut rest[..stride];
        // The sentinels around the lanes: out of the band.
        row[0] = L::FORBIDDEN;
        row[stride - 1] = L::FORBIDDEN;
        // Cell u has d = lo + p + 2u: i = i0 - u, j = j0 + u, and
        // query[i - 1] = reversed[n - i].
        let d0 = lo + p;
        let i0 = (t - d0) / 2;
        let j0 = (t + d0) / 2;
        let r0 = (pad + n as isize - i0) as usize;
        let s0 = (pad + j0 - 1) as usize;
        let qs = &qpad[r0..r0 + lanes];
        let ss = &spad[s0..s0 + lanes];
        let prev = &before[base - stride..];
        let diag = &before[base - 2 * stride + 1..][..lanes];
        // Query step at d + 1, source step at d - 1 (positions in `prev`).
        let q_off = if p == 0 { 1 } else { 2 };
        let up = &prev[q_off..][..lanes];
        let left = &prev[q_off - 1..][..lanes];
        let cap = &caps[p as usize * lanes..][..lanes];
        let out = &mut row[1..1 + lanes];
        // Common lane counts get a copy of the kernel with a constant trip
        // count (unrolled, no loop tests).
        let k = (out, diag, up, left, qs, ss, cap);
        let row_max = match lanes {
            16 => row_kernel(k, 16, matched, mismatch, gap),
            32 => row_kernel(k, 32, matched, mismatch, gap),
            48 => row_kernel(k, 48, matched, mismatch, gap),
            64 => row_kernel(k, 64, matched, mismatch, gap),
            _ => row_kernel(k, lanes, matched, mismatch, gap),
        };
        if row_max > L::ZERO && row_max >= best {
            // Smallest i on this anti-diagonal is the largest d: the last
            // lane holding the maximum.
            let k = last_index_of(&row[1..1 + lanes], row_max);
            let d = d0 + 2 * k as isize;
            let at = (((t - d) / 2) as usize, ((t + d) / 2) as usize);
            if row_max > best || at < best_at {
                best = row_max;
                best_at = at;
            }
        }
    }
    (best, best_at)
}

/// The rows a kernel reads and writes: out, diag, up, left, query, source,
/// caps.
type RowSlices<'a, L> = (
    &'a mut [L],
    &'a [L],
    &'a [L],
    &'a [L],
    &'a [u16],
    &'a [u16],
    &'a [L],
);

/// One anti-diagonal over `lanes` cells: `out[u] = min(cap[u], max(0,
/// diag[u] + step(qs[u], ss[u]), up[u] + gap, left[u] + gap))`; returns the
/// largest value written. Separate slices (no aliasing) and a plain indexed
/// loop, so that it compiles to vector code.
#[inline(always)]
fn row_kernel<L: Lane>(
    (out, diag, up, left, qs, ss, cap): RowSlices<'_, L>,
    lanes: usize,
    matched: L,
    mismatch: L,
    gap: L,
) -> L {
    let (out, diag, up, left) = (
        &mut out[..lanes],
        &diag[..lanes],
        &up[..lanes],
        &left[..lanes],
    );
    let (qs, ss, cap) = (&qs[..lanes], &ss[..lanes], &cap[..lanes]);
    let mut row_max = L::ZERO;
    for u in 0..lanes {
        let st = if qs[u] == ss[u] { matched } else { mismatch };
        // max(up + gap, left + gap) with one addition: no value is near
        // the ends of the lane type, so adding commutes with max.
        let h = (diag[u] + st)
            .max(up[u].max(left[u]) + gap)
            .max(L::ZERO)
            .min(cap[u]);
        out[u] = h;
        row_max = row_max.max(h);
    }
    row_max
}

/// Index of the last cell of `row` equal to `v` (0 when none). Rows that
/// fit count in lanes of the cell type, without branches, as a maximum of
/// `index + 1` over the equal cells (vector code); longer rows are scanned.
fn last_index_of<L: Lane>(row: &[L], v: L) -> usize {
    if row.len() >= L::MAX_INDEX {
        return row.iter().rposition(|&h| h == v).unwrap_or(0);
    }
    let mut k = L::ZERO;
    let mut index = L::ZERO;
    for &h in row {
        index = index + L::ONE;
        k = k.max(if h == v { index } else { L::ZERO });
    }
    (k.widen() as usize).saturating_sub(1)
}

/// Lanes of a row of a band `width` diagonals wide: every other
/// diagonal (half the width, rounded up), in whole [`BLOCK`]s; with
/// AVX-512, past 128 lanes in whole registers of 32, past 256 in whole
/// groups of four registers, so that `Lane::fill_fast` has a kernel for
/// it up to 512 lanes (lanes past the band change no cell in it: see
/// `kernel`; past 512 lanes, which the portable loop fills, rows are
/// not rounded further). A chain of hits can drift over thousands of diagonals
/// (repeated lines of code): on the real stream 0.5% of the alignments
/// (641 of 127,939) had rows wider than 64 lanes, 11 past 1,000 lanes,
/// and the portable loop filling them took 1.9% of the time.
fn row_lanes(kernel: AlignKernel, width: usize) -> usize {
    let lanes = width.div_ceil(2).next_multiple_of(BLOCK);
    match kernel {
        AlignKernel::Avx512 if lanes > 256 && lanes <= 512 => lanes.next_multiple_of(128),
        AlignKernel::Avx512 if lanes > 128 && lanes <= 256 => lanes.next_multiple_of(32),
        _ => lanes,
    }
}

/// Cells computed per step of the row loop: rows are processed in whole
/// blocks so that the loop compiles to vector code with no scalar tail
/// (16 `i16` lanes: one AVX2 register, or two SSE2 registers).
const BLOCK: usize = 16;

/// Query padding: no symbol id equals it (ids are below [`MAX_SYMBOL_ID`]).
const PAD_QUERY: u16 = 0xFFFE;
/// Source padding: equals no symbol id and not [`PAD_QUERY`].
const PAD_SOURCE: u16 = 0xFFFF;

/// Largest symbol id accepted by the aligners (the pads lie above it).
pub const MAX_SYMBOL_ID: u16 = 0xFFFD;

/// What the aligners align: a byte (normalized ASCII text) or a small id
/// standing for a char (normalized text in other scripts, see
/// `matcher::find`). Two symbols match when their ids are equal.
pub trait Symbol: Copy + Eq {
    /// The symbol's id, at most [`MAX_SYMBOL_ID`].
    fn id(self) -> u16;
}

impl Symbol for u8 {
    fn id(self) -> u16 {
        u16::from(self)
    }
}

impl Symbol for u16 {
    fn id(self) -> u16 {
        self.min(MAX_SYMBOL_ID)
    }
}

/// Padding on each side of the widened sequences: a row of lanes reaches
/// at most `stride` bytes outside the matrix (half the band width, rounded up
/// to whole blocks).
fn pad_len(stride: usize) -> usize {
    stride + 1
}

/// `pad` copies of `fill`, then `ids`, then `pad` copies again.
fn widen_padded(out: &mut Vec<u16>, ids: impl Iterator<Item = u16>, pad: usize, fill: u16) {
    out.clear();
    out.resize(pad, fill);
    out.extend(ids);
    out.resize(out.len() + pad, fill);
}

/// Follow the tie-breaking rules back from `end`, where `h(i, j)` reads a
/// cell (forbidden cells read as [`FORBIDDEN`]).
fn traceback<S: Symbol>(
    query: &[S],
    source: &[S],
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
                if query[i - 1].id() == source[j - 1].id() {
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
pub fn best_local_naive<S: Symbol>(
    query: &[S],
    source: &[S],
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

mod bound;

pub use bound::Anchor;
use bound::BoundScratch;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod kernel;
#[cfg(target_arch = "x86_64")]
mod sse2;

#[cfg(test)]
mod tests;
