//! The fill of `i16` cells with SIMD registers, written once for every
//! instruction set: [`fill_kernel!`] expands to the `fill` of a module
//! (`sse2`, `avx2`, `avx512`) that supplies the register type and a few
//! primitives, each a function of that module's target feature.
//!
//! Why not the portable kernel: a row reads the row just stored at an
//! offset of one lane (the query step on rows of parity 1, the source step
//! on rows of parity 0), through memory, with about ten bounds checks, a
//! cap on every lane and a scan of the row each time the best score grows
//! (every other row along an alignment). Here the two rows a row depends
//! on stay in registers; the row shifted by one lane is made from them (a
//! byte shift and an or per SSE2 vector, a lane permute and an align per
//! AVX2 register, one two-source word permute per AVX-512 register); rows
//! are only stored, for the traceback; and the best cell is looked up once,
//! after the fill, from each row's lane-wise maximum.
//!
//! The cells in the band are the portable kernel's values (the same
//! operations per lane; no value comes near the ends of `i16`, so wrapping
//! adds equal checked ones). Lanes past the band hold 0 where the portable
//! kernel caps them to forbidden. That changes no cell in the band: a gap
//! costs (`Scoring::new` requires it), so 0 plus a gap is below the 0 every
//! cell starts from, and a lane past the band is never the diagonal step
//! of a lane in it (rows two apart have the same parity). The traceback and
//! the search for the best cell read only lanes in the band. The oracle
//! tests of the aligner run every kernel the CPU has.
//!
//! The macro is given the instruction set, the register type, its lanes
//! and the intrinsics that load, store, splat, add and take the maximum of
//! 16-bit lanes, and writes those primitives itself. The module defines the
//! rest, as `#[target_feature]` functions of its instruction set: `type
//! Band` (which lanes of a register are in the band), `step` (the score of
//! each lane's byte pair), `from_up` / `from_down` (a row shifted by one
//! lane toward higher / lower lanes, the lane shifted in taken from the
//! neighbouring register), `band`, `floor` (`max(h, 0)` in the band, 0
//! past it), `max_lane` and `holds`.

/// Expands to the module's plain primitives (`W`, `V`, `splat`, `zero`,
/// `load`, `store`, `add`, `max`) from the intrinsics named, and to
/// `pub(in crate::matcher::align) fn fill<const R: usize>`, the fill of
/// `align::fill` for `i16` cells and `R` registers of `W` lanes a row,
/// compiled for the instruction set `$feature` (see the module
/// documentation).
macro_rules! fill_kernel {
    (
        feature: $feature:literal,
        register: $reg:ty,
        lanes: $lanes:literal,
        splat: $splat:ident,
        zero: $zero:ident,
        load: $loadu:ident,
        store: $storeu:ident,
        add: $add:ident,
        max: $max:ident $(,)?
    ) => {
        /// Lanes of `i16` per register.
        const W: usize = $lanes;
        /// A register of lanes.
        type V = $reg;

        #[inline]
        #[target_feature(enable = $feature)]
        fn splat(v: i16) -> V {
            $splat(v)
        }

        #[inline]
        #[target_feature(enable = $feature)]
        fn zero() -> V {
            $zero()
        }

        /// Loads `W` lanes from `s[at..at + W]` (bounds checked).
        #[inline]
        #[target_feature(enable = $feature)]
        fn load<T: Copy>(s: &[T], at: usize) -> V {
            const { assert!(std::mem::size_of::<T>() == 2) };
            const { assert!(std::mem::size_of::<V>() == W * 2) };
            let chunk: &[T; W] = s[at..at + W].try_into().expect("W lanes");
            // SAFETY: `chunk` is W two-byte values, the register's width
            // in readable bytes (both asserted at compile time); the load
            // has no alignment requirement.
            unsafe { $loadu(chunk.as_ptr().cast()) }
        }

        /// Stores `W` lanes to `s[at..at + W]` (bounds checked).
        #[inline]
        #[target_feature(enable = $feature)]
        fn store(s: &mut [i16], at: usize, v: V) {
            const { assert!(std::mem::size_of::<V>() == W * 2) };
            let chunk: &mut [i16; W] = (&mut s[at..at + W]).try_into().expect("W lanes");
            // SAFETY: `chunk` is the register's width in writable bytes
            // (asserted at compile time), borrowed mutably; the store has
            // no alignment requirement.
            unsafe { $storeu(chunk.as_mut_ptr().cast(), v) }
        }

        #[inline]
        #[target_feature(enable = $feature)]
        fn add(a: V, b: V) -> V {
            $add(a, b)
        }

        #[inline]
        #[target_feature(enable = $feature)]
        fn max(a: V, b: V) -> V {
            $max(a, b)
        }

        /// The fill of `align::fill` for `i16` cells and `R * W` lanes:
        /// the same cells in the band, the same best value and cell.
        /// `row_max` is scratch.
        ///
        /// (A safe function of the target feature: callers need an
        /// `unsafe` block that says why the CPU has it.)
        #[target_feature(enable = $feature)]
        pub(in crate::matcher::align) fn fill<const R: usize>(
            cells: &mut [i16],
            caps: &[i16],
            row_max: &mut Vec<i16>,
            (qpad, spad): (&[u16], &[u16]),
            n: usize,
            sc: $crate::matcher::align::Scoring,
            geo: $crate::matcher::align::Geometry,
        ) -> (i16, (usize, usize)) {
            use $crate::matcher::align::{last_index_of, pad_len, Lane};
            let lo = geo.lo;
            let (t_min, t_max, stride) = (geo.t_min, geo.t_max, geo.stride);
            let lanes = R * W;
            debug_assert_eq!(stride, lanes + 2);
            let forbidden = splat(i16::FORBIDDEN);
            let zero = zero();
            let mismatch = splat(i16::narrow(sc.mismatch));
            // A match adds `matched`: `mismatch` plus this where the
            // symbols agree.
            let delta = splat(i16::narrow(sc.matched) - i16::narrow(sc.mismatch));
            let gap = splat(i16::narrow(sc.gap));
            // Per parity and register, the lanes in the band.
            let in_band: [[Band; R]; 2] =
                std::array::from_fn(|p| std::array::from_fn(|k| band(caps, p * lanes + k * W)));
            let pad = pad_len(stride) as isize;
            // Rows t - 1 and t - 2; the two rows before t_min are forbidden.
            let mut prev = [forbidden; R];
            let mut prev2 = [forbidden; R];
            // Each row's lane-wise maximum over its registers, and over
            // all rows: the largest cell is looked up after the fill, only
            // in the rows that hold it (every lane is written before it is
            // read).
            let rows = (t_max - t_min + 1).max(0) as usize;
            if row_max.len() < rows * W {
                row_max.resize(rows * W, 0);
            }
            let mut all = zero;
            // One row of parity `$p` (a constant in each copy).
            macro_rules! row {
                ($t:expr, $p:literal) => {{
                    let t = $t;
                    let d0 = lo + $p;
                    let i0 = (t - d0) / 2;
                    let j0 = (t + d0) / 2;
                    let r0 = (pad + n as isize - i0) as usize;
                    let s0 = (pad + j0 - 1) as usize;
                    let base = geo.row(t);
                    // One bounds check per sequence and row.
                    let qs = &qpad[r0..r0 + lanes];
                    let ss = &spad[s0..s0 + lanes];
                    let mut out = [zero; R];
                    let mut top = zero;
                    for k in 0..R {
                        // The predecessors one row up: lanes u and u - 1
                        // (p = 0) or u + 1 and u (p = 1), forbidden past
                        // the ends.
                        let (up, left) = if $p == 0 {
                            let before = if k == 0 { forbidden } else { prev[k - 1] };
                            (prev[k], from_up(prev[k], before))
                        } else {
                            let after = if k + 1 == R { forbidden } else { prev[k + 1] };
                            (from_down(prev[k], after), prev[k])
                        };
                        let st = step(load(qs, k * W), load(ss, k * W), mismatch, delta);
                        let h = max(add(prev2[k], st), add(max(up, left), gap));
                        let h = floor(h, zero, in_band[$p][k]);
                        out[k] = h;
                        top = max(top, h);
                    }
                    // (The row's sentinels are left as they are: nothing
                    // reads them, the rows being in registers and the
                    // traceback reading only lanes in the band.)
                    for (k, &h) in out.iter().enumerate() {
                        store(cells, base + 1 + k * W, h);
                    }
                    store(row_max, (t - t_min) as usize * W, top);
                    all = max(all, top);
                    prev2 = prev;
                    prev = out;
                }};
            }
            for t in t_min..=t_max {
                if (t - lo) & 1 == 0 {
                    row!(t, 0)
                } else {
                    row!(t, 1)
                }
            }
            // The best cell: the highest value; among equals the smallest
            // i, then the smallest j. On one row that is the last lane
            // holding the value (the largest d); across rows, the smallest
            // (i, j).
            let best = max_lane(all);
            let mut best_at = (0usize, 0usize);
            if best > 0 {
                let target = splat(best);
                let mut found = false;
                for r in 0..rows {
                    if !holds(load(row_max, r * W), target) {
                        continue;
                    }
                    let t = t_min + r as isize;
                    let base = geo.row(t);
                    let k = last_index_of(&cells[base + 1..base + 1 + lanes], best);
                    let d = lo + ((t - lo) & 1) + 2 * k as isize;
                    let at = (((t - d) / 2) as usize, ((t + d) / 2) as usize);
                    if !found || at < best_at {
                        best_at = at;
                        found = true;
                    }
                }
            }
            (best, best_at)
        }
    };
}

pub(super) use fill_kernel;
