use super::*;
use proptest::prelude::*;

fn unit() -> Scoring {
    Scoring::default()
}

fn check_invariants(a: &Alignment, query: &[u8], source: &[u8], sc: Scoring) {
    assert!(a.score > 0);
    assert!(a.matches >= 1);
    assert_eq!(
        a.score,
        a.matches as i32 * sc.matched()
            + a.mismatches as i32 * sc.mismatch()
            + a.gaps as i32 * sc.gap()
    );
    assert!(a.query.end <= query.len() && a.source.end <= source.len());
    assert_eq!(
        a.query.len() + a.source.len(),
        2 * (a.matches + a.mismatches) as usize + a.gaps as usize
    );
    // Starts and ends on a matching byte.
    assert_eq!(query[a.query.start], source[a.source.start]);
    assert_eq!(query[a.query.end - 1], source[a.source.end - 1]);
}

#[test]
fn table() {
    // (query, source, d_lo, d_hi, expected (query span, source span, matches, mismatches, gaps))
    type Row = (
        &'static str,
        &'static str,
        isize,
        isize,
        Option<(Range<usize>, Range<usize>, u32, u32, u32)>,
    );
    let rows: &[Row] = &[
        ("", "", 0, 0, None),
        ("abc", "", -5, 5, None),
        ("", "abc", -5, 5, None),
        ("abc", "xyz", -5, 5, None),
        ("abc", "abc", 0, 0, Some((0..3, 0..3, 3, 0, 0))),
        ("abc", "abc", 5, 9, None),
        ("abc", "xxabcxx", 0, 4, Some((0..3, 2..5, 3, 0, 0))),
        ("abc", "xxabcxx", 0, 1, None),
        ("abc", "xxabcxx", 2, 2, Some((0..3, 2..5, 3, 0, 0))),
        ("abc", "xxabcxx", 1, 1, None),
        ("abcdefgh", "abcdXfgh", 0, 0, Some((0..8, 0..8, 7, 1, 0))),
        ("abcdefgh", "abcdfgh", -1, 0, Some((0..8, 0..7, 7, 0, 1))),
        ("abcdfgh", "abcdefgh", 0, 1, Some((0..7, 0..8, 7, 0, 1))),
        // Band [-1, 0] forbids the source-side gap: the best is one piece.
        (
            "abcdfghij",
            "abcdefghij",
            -1,
            0,
            Some((0..4, 0..4, 4, 0, 0)),
        ),
        (
            "abcdfghij",
            "abcdefghij",
            1,
            1,
            Some((4..9, 5..10, 5, 0, 0)),
        ),
        (
            "abcdfghij",
            "abcdefghij",
            0,
            1,
            Some((0..9, 0..10, 9, 0, 1)),
        ),
        // Swap: two mismatches, still one alignment.
        ("abcdefgh", "abcedfgh", 0, 0, Some((0..8, 0..8, 6, 2, 0))),
        // d_lo > d_hi
        ("abc", "abc", 1, 0, None),
    ];
    for (q, s, lo, hi, want) in rows {
        let mut al = Aligner::new(unit());
        let got = al.best_local(q.as_bytes(), s.as_bytes(), *lo, *hi);
        let naive = best_local_naive(q.as_bytes(), s.as_bytes(), *lo, *hi, unit());
        assert_eq!(got, naive, "{q:?} vs {s:?} [{lo}, {hi}]");
        let got = got.map(|a| (a.query, a.source, a.matches, a.mismatches, a.gaps));
        assert_eq!(&got, want, "{q:?} vs {s:?} [{lo}, {hi}]");
    }
}

#[test]
fn ties_take_the_first_end_and_shortest_start() {
    // "ab" occurs twice at the same score: the end with the smallest i, then j wins.
    let a = Aligner::new(unit())
        .best_local(b"ab", b"abab", -4, 4)
        .unwrap();
    assert_eq!((a.query, a.source), (0..2, 0..2));
}

#[test]
fn scoring_is_checked() {
    assert!(Scoring::new(1, -1, -1).is_ok());
    assert!(Scoring::new(2, -3, -2).is_ok());
    assert!(Scoring::new(0, -1, -1).is_err());
    assert!(Scoring::new(1, 1, -1).is_err());
    assert!(Scoring::new(1, -1, 0).is_err());
    assert!(Scoring::new(1, -1, -(MAX_SCORE_MAGNITUDE + 1)).is_err());
    assert!(Scoring::new(
        MAX_SCORE_MAGNITUDE,
        -MAX_SCORE_MAGNITUDE,
        -MAX_SCORE_MAGNITUDE
    )
    .is_ok());
}

#[test]
fn exact_copy_inside_a_window_is_whole() {
    let text: Vec<u8> = (0..300u32)
        .map(|i| b'a' + ((i * 7 + i / 13) % 26) as u8)
        .collect();
    let mut source = b"zzzzzqqqqq".repeat(5);
    let off = source.len();
    source.extend_from_slice(&text);
    source.extend_from_slice(b"qqqqzzzz");
    let mut al = Aligner::new(unit());
    let a = al
        .best_local(&text, &source, off as isize - 32, off as isize + 32)
        .unwrap();
    assert_eq!(a.query, 0..text.len());
    assert_eq!(a.source, off..off + text.len());
    assert_eq!(a.similarity(), 1.0);
    assert_eq!(a.len(), text.len());
}

#[derive(Debug, Clone)]
enum Edit {
    Sub(usize, u8),
    Ins(usize, u8),
    Del(usize),
}

fn apply(base: &[u8], edits: &[Edit], cut: (usize, usize)) -> Vec<u8> {
    let mut v = base.to_vec();
    for e in edits {
        match *e {
            Edit::Sub(p, c) if !v.is_empty() => {
                let p = p % v.len();
                v[p] = c;
            }
            Edit::Ins(p, c) => {
                let p = p % (v.len() + 1);
                v.insert(p, c);
            }
            Edit::Del(p) if !v.is_empty() => {
                let p = p % v.len();
                v.remove(p);
            }
            _ => {}
        }
    }
    let start = cut.0.min(v.len());
    let end = v.len() - cut.1.min(v.len() - start);
    v[start..end].to_vec()
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), b'a'..=b'e').prop_map(|(p, c)| Edit::Sub(p, c)),
        (any::<usize>(), b'a'..=b'e').prop_map(|(p, c)| Edit::Ins(p, c)),
        any::<usize>().prop_map(Edit::Del),
    ]
}

fn bytes(alphabet_end: u8, max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(b'a'..=alphabet_end, 0..max)
}

fn scoring() -> impl Strategy<Value = Scoring> {
    prop_oneof![
        Just(Scoring::default()),
        Just(Scoring::new(1, -2, -2).unwrap()),
        Just(Scoring::new(2, -1, -3).unwrap()),
    ]
}

/// One aligner per kernel this CPU has.
fn aligners(sc: Scoring) -> Vec<Aligner> {
    [
        AlignKernel::Portable,
        AlignKernel::Sse2,
        AlignKernel::Avx2,
        AlignKernel::Avx512,
    ]
    .into_iter()
    .filter_map(|k| Aligner::with_kernel(sc, k))
    .collect()
}

#[test]
fn the_best_kernel_is_available_and_chosen() {
    let best = AlignKernel::best();
    assert!(best.available());
    assert_eq!(Aligner::new(unit()).kernel(), best);
    let fastest = AlignKernel::chosen(None);
    #[cfg(target_arch = "x86_64")]
    assert_ne!(fastest, AlignKernel::Portable);
    // A kernel named in the environment, when the CPU has it.
    assert_eq!(AlignKernel::chosen(Some("portable")), AlignKernel::Portable);
    #[cfg(target_arch = "x86_64")]
    assert_eq!(AlignKernel::chosen(Some("sse2")), AlignKernel::Sse2);
    let avx2 = AlignKernel::chosen(Some("avx2"));
    assert_eq!(avx2 == AlignKernel::Avx2, AlignKernel::Avx2.available());
    let avx512 = AlignKernel::chosen(Some("avx512"));
    assert_eq!(
        avx512 == AlignKernel::Avx512,
        AlignKernel::Avx512.available()
    );
    assert_eq!(AlignKernel::chosen(Some("gpu")), fastest);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_pairs_agree_with_oracle(
        q in bytes(b'd', 40),
        s in bytes(b'd', 60),
        lo in -45isize..65,
        w in 0isize..40,
        sc in scoring(),
    ) {
        let naive = best_local_naive(&q, &s, lo, lo + w, sc);
        for mut al in aligners(sc) {
            let fast = al.best_local(&q, &s, lo, lo + w);
            prop_assert_eq!(&fast, &naive, "{:?}", al.kernel());
        }
        if let Some(a) = naive {
            check_invariants(&a, &q, &s, sc);
        }
    }

    #[test]
    fn mutated_copies_agree_with_oracle(
        base in bytes(b'z', 120),
        pre in bytes(b'z', 30),
        post in bytes(b'z', 30),
        edits in proptest::collection::vec(edit(), 0..8),
        cut in (0usize..20, 0usize..20),
        half_band in 0isize..24,
        sc in scoring(),
    ) {
        let q = apply(&base, &edits, cut);
        let mut s = pre.clone();
        s.extend_from_slice(&base);
        s.extend_from_slice(&post);
        let center = (pre.len() + cut.0) as isize;
        let (lo, hi) = (center - half_band, center + half_band);
        // One aligner reused over different shapes: stale cells must not leak.
        let naive = best_local_naive(&q, &s, lo, hi, sc);
        for mut al in aligners(sc) {
            let _ = al.best_local(&s, &q, -10, 10);
            let fast = al.best_local(&q, &s, lo, hi);
            prop_assert_eq!(&fast, &naive, "{:?}", al.kernel());
        }
        if let Some(a) = &naive {
            check_invariants(a, &q, &s, sc);
        }
        if edits.is_empty() && !q.is_empty() {
            let a = naive.unwrap();
            prop_assert_eq!(a.similarity(), 1.0);
            prop_assert_eq!(a.query.clone(), 0..q.len());
            prop_assert_eq!(a.len(), q.len());
        }
    }

    /// Wide bands: up to 260 diagonals once cut to the matrix, rows of up
    /// to 130 lanes (160 in whole AVX-512 registers), so the kernels'
    /// rows of 16 to 128 lanes (SSE2 up to 64, the portable loop past
    /// that) meet the oracle, each kernel's aligner reused over the
    /// calls. (Every row width, once each: `every_row_width_agrees_with_oracle`.)
    #[test]
    fn wide_bands_agree_with_oracle(
        calls in proptest::collection::vec(
            (bytes(b'e', 160), bytes(b'e', 200), -60isize..60, 60isize..400, scoring()),
            1..4,
        ),
    ) {
        for mut al in aligners(unit()) {
            for (q, s, lo, w, sc) in &calls {
                al.scoring = *sc;
                let fast = al.best_local(q, s, *lo, lo + w);
                let naive = best_local_naive(q, s, *lo, lo + w, *sc);
                prop_assert_eq!(&fast, &naive, "{:?}", al.kernel());
            }
        }
    }

    /// Rows of 201 to 500 lanes (the query is long enough that the band
    /// is never cut): AVX-512 in 7, 8, 12 or 16 registers, the portable
    /// loop on other CPUs, against the oracle on random sequences.
    #[test]
    fn very_wide_bands_agree_with_oracle(
        q in proptest::collection::vec(b'a'..=b'e', 300..600),
        s in proptest::collection::vec(b'a'..=b'e', 400..700),
        lo in -300isize..0,
        w in 400isize..1200,
        sc in scoring(),
    ) {
        let naive = best_local_naive(&q, &s, lo, lo + w, sc);
        for mut al in aligners(sc) {
            let fast = al.best_local(&q, &s, lo, lo + w);
            prop_assert_eq!(&fast, &naive, "{:?}", al.kernel());
        }
    }

    /// Any byte values (the padding of the fast fill must equal none of
    /// them), and one aligner reused over a sequence of shapes and widths.
    #[test]
    fn any_bytes_and_reuse_agree_with_oracle(
        calls in proptest::collection::vec(
            (
                proptest::collection::vec(
                    proptest::sample::select(vec![0u8, 1, b'a', 0xFE, 0xFF]), 0..50),
                proptest::collection::vec(
                    proptest::sample::select(vec![0u8, 1, b'a', 0xFE, 0xFF]), 0..70),
                -55isize..75,
                0isize..70,
            ),
            1..5,
        ),
    ) {
        for mut al in aligners(unit()) {
            for (q, s, lo, w) in &calls {
                let fast = al.best_local(q, s, *lo, lo + w);
                let naive = best_local_naive(q, s, *lo, lo + w, unit());
                prop_assert_eq!(&fast, &naive, "{:?}", al.kernel());
            }
        }
    }
}

/// Every row width from 16 to 576 lanes, once each (bands of 32 to
/// 1,152 diagonals), with a copy (edited every 40 bytes or so) at the
/// band's low edge, its middle and its high edge: each kernel the CPU has
/// meets the oracle at every register count it has a copy for (AVX-512
/// 1-8, 12 and 16 registers, AVX2 and SSE2 1-8) and hands the rows past
/// those to the portable loop.
#[test]
fn every_row_width_agrees_with_oracle() {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let s: Vec<u8> = (0..2300).map(|_| b'a' + (next() % 4) as u8).collect();
    // Source bytes 1000..1300, on diagonal 1000 give or take the edits.
    let mut q = Vec::new();
    for &b in &s[1000..1300] {
        match next() % 40 {
            0 => {}
            1 => q.extend([b, b'e']),
            2 => q.push(b'f'),
            _ => q.push(b),
        }
    }
    let sc = Scoring::new(1, -2, -2).unwrap();
    let mut aligners = aligners(sc);
    for width in (32..=1152isize).step_by(32) {
        for below in [3, width / 2, width - 4] {
            // The copy's diagonal `below` diagonals above the band's low
            // edge; the band is never cut by the matrix.
            let lo = 1000 - below;
            let hi = lo + width - 1;
            assert!(lo >= -(q.len() as isize) && hi <= s.len() as isize);
            let naive = best_local_naive(&q, &s, lo, hi, sc);
            assert!(
                naive.as_ref().is_some_and(|a| a.score > 100),
                "width {width}"
            );
            for al in &mut aligners {
                let fast = al.best_local(&q, &s, lo, hi);
                assert_eq!(
                    fast,
                    naive,
                    "{:?}, width {width}, below {below}",
                    al.kernel()
                );
            }
        }
    }
}

/// The bound of [`Aligner::score_bound`] on the examples of its proof.
#[test]
fn score_bound_examples() {
    let sc = Scoring::new(1, -2, -2).unwrap();
    let mut al = Aligner::new(sc);
    // An exact copy of n bytes: n - 2 3-grams on diagonal 0, bound n.
    let q = b"abcdefghijklmnop";
    assert_eq!(al.score_bound(q, q, 0, 0), Some(16));
    // Nothing shared: the bound is 2 (it never goes below that).
    assert_eq!(al.score_bound(b"aaaaaa", b"bbbbbb", -3, 3), Some(2));
    // No cell in the band.
    assert_eq!(al.score_bound(b"abc", b"abc", 5, 9), Some(0));
    // Too wide a band, or edits cheaper than two matches: no bound.
    let long = [b'a'; 100];
    assert_eq!(al.score_bound(&long, &long, -40, 40), None);
    assert_eq!(Aligner::new(unit()).score_bound(q, q, 0, 0), None);
    // Runs on neighbouring diagonals overlap in the query: only one of
    // them counts (a count of every 3-gram would give 6 + 2 * 5 + 2 * 4).
    assert_eq!(al.score_bound(b"aaaaaaaa", b"aaaaaaaa", -2, 2), Some(8));
    // Two runs side by side in the query, on two diagonals, both count.
    assert_eq!(
        al.score_bound(b"abcdefuvwxyz", b"abcdefXuvwxyz", 0, 1),
        Some(10)
    );
    // Two runs far apart in the query, unrelated text between them (no
    // 2-gram of the band): what lies between costs, so only one counts.
    // (Summed, they would give 2 + 4 + 4.)
    let q = b"abcdefQRSTUVWXYZqrstuvwxyzuvwxyz";
    let s = b"abcdefJKLMNOPHIjklmnopghijuvwxyz";
    assert_eq!(al.score_bound(q, s, 0, 0), Some(6));
    // Close together, they both count: the stretch between weighs 0 where
    // a 2-gram covers the position after (exact here: 6 - 2 + 6), -1/2 a
    // position elsewhere (2 + 4 + 4 - 3/2, rounded up; the alignment
    // scores 6).
    assert_eq!(
        al.score_bound(b"abcdefKuvwxyz", b"abcdefJuvwxyz", 0, 0),
        Some(10)
    );
    assert_eq!(
        al.score_bound(b"abcdefKLMNuvwxyz", b"abcdefJJJJuvwxyz", 0, 0),
        Some(9)
    );
    // 3-grams off the band do not count.
    assert_eq!(al.score_bound(b"abcdef", b"xxxxabcdef", 0, 3), Some(2));
    assert_eq!(al.score_bound(b"abcdef", b"xxxxabcdef", 0, 4), Some(6));
}

/// The bound of an alignment with more than 254 distinct byte values in
/// the query is not computed (the bitsets are numbered by a byte).
#[test]
fn score_bound_gives_up_on_255_distinct_bytes() {
    let sc = Scoring::new(1, -2, -2).unwrap();
    let mut al = Aligner::new(sc);
    let q: Vec<u8> = (0..=255u8).collect();
    assert_eq!(al.score_bound(&q, &q, -10, 10), None);
    // The scratch is clean afterwards.
    assert_eq!(al.score_bound(b"abcde", b"abcde", 0, 0), Some(5));
}

fn edit_heavy_scoring() -> impl Strategy<Value = Scoring> {
    prop_oneof![
        Just(Scoring::new(1, -2, -2).unwrap()),
        Just(Scoring::new(1, -3, -2).unwrap()),
        Just(Scoring::new(2, -4, -5).unwrap()),
    ]
}

prop_compose! {
    /// A query and a source for the bound, with a band: random pairs over
    /// small alphabets (many chance matches) and mutated copies (long runs
    /// split by edits).
    fn bound_case()(
        base in bytes(b'z', 150),
        noise in bytes(b'c', 80),
        pre in bytes(b'e', 40),
        post in bytes(b'e', 40),
        edits in proptest::collection::vec(edit(), 0..12),
        cut in (0usize..30, 0usize..30),
        center_shift in -6isize..6,
        half_band in 0isize..36,
        random_query in any::<bool>(),
    ) -> (Vec<u8>, Vec<u8>, isize, isize) {
        let q = if random_query { noise } else { apply(&base, &edits, cut) };
        let s = [&pre[..], &base, &post].concat();
        let center = (pre.len() + cut.0) as isize + center_shift;
        (q, s, center - half_band, center + half_band)
    }
}

/// The bound of `q` against `s` in the band `lo..=hi` is `None` only for a
/// band wider than 64, and never below the naive alignment's score; the
/// aligner was used first on `other` (a reused one must carry nothing
/// over).
fn check_bound<S: Symbol + std::fmt::Debug>(
    q: &[S],
    s: &[S],
    (lo, hi): (isize, isize),
    sc: Scoring,
    other: &[S],
) -> Result<(), TestCaseError> {
    let mut al = Aligner::new(sc);
    let _ = al.score_bound(other, q, -20, 20);
    let best = best_local_naive(q, s, lo, hi, sc).map_or(0, |a| i64::from(a.score));
    let exact = al.score_bound(q, s, lo, hi);
    match exact {
        Some(bound) => prop_assert!(bound >= best, "bound {} < score {}", bound, best),
        None => prop_assert!(hi - lo + 1 > 64),
    }
    // With a floor: the exact bound, or a bound below the floor that is
    // still at least the score.
    for floor in [i64::MIN, 0, best, best + 1, best + 8, 44] {
        match (al.score_bound_from(q, s, lo, hi, floor), exact) {
            (Some(quick), Some(exact)) if quick != exact => {
                prop_assert!(
                    quick < floor && quick >= best && quick > exact,
                    "floor {}: {} against exact {} and score {}",
                    floor,
                    quick,
                    exact,
                    best
                );
            }
            (got, exact) => prop_assert_eq!(got, exact),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The bound is never below the score of the alignment (the naive
    /// oracle).
    #[test]
    fn score_bound_is_an_upper_bound(
        (q, s, lo, hi) in bound_case(),
        sc in edit_heavy_scoring(),
    ) {
        check_bound(&q, &s, (lo, hi), sc, &s)?;
    }

    /// The same over symbol ids (chars of other scripts): each byte mapped
    /// to an id past 255, one of them to the largest id.
    #[test]
    fn score_bound_over_symbols_is_an_upper_bound(
        (q, s, lo, hi) in bound_case(),
        sc in edit_heavy_scoring(),
    ) {
        let ids = |v: &[u8]| -> Vec<u16> {
            v.iter()
                .map(|&b| if b == b'a' { MAX_SYMBOL_ID } else { 250 + u16::from(b - b'a') })
                .collect()
        };
        let (q, s) = (ids(&q), ids(&s));
        check_bound(&q, &s, (lo, hi), sc, &s)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// An anchored bound is never below the score of an alignment that
    /// starts (ends) where its anchor allows: the naive oracle's best
    /// alignments of the whole query, of its prefixes and of its suffixes
    /// (each also an alignment of the whole query), checked against
    /// `StartBy` and `EndFrom` at every position they allow, and the
    /// bridged bound (with a skip) never below the plain one.
    #[test]
    fn anchored_bounds_bound_the_alignments_they_allow(
        (q, s, lo, hi) in bound_case(),
        cuts in proptest::collection::vec(0usize..160, 1..4),
    ) {
        let sc = Scoring::new(1, -2, -2).unwrap();
        let mut al = Aligner::new(sc);
        let n = q.len();
        let mut found: Vec<Alignment> = Vec::new();
        found.extend(best_local_naive(&q, &s, lo, hi, sc));
        for &c in &cuts {
            let c = c.min(n);
            found.extend(best_local_naive(&q[..c], &s, lo, hi, sc));
            if let Some(mut a) = best_local_naive(&q[c..], &s, lo + c as isize, hi + c as isize, sc) {
                a.query = a.query.start + c..a.query.end + c;
                found.push(a);
            }
        }
        for a in &found {
            let score = i64::from(a.score);
            for anchor in [
                Anchor::StartBy(a.query.start),
                Anchor::StartBy(n),
                Anchor::EndFrom(a.query.end),
                Anchor::EndFrom(0),
            ] {
                // (A floor of i64::MIN runs the exact pass.)
                if let Some(b) = al.score_bound_anchored_from(&q, &s, lo, hi, i64::MIN, anchor) {
                    prop_assert!(b >= score, "{anchor:?}: bound {b} < {a:?}");
                }
            }
        }
        // A floor just above the plain bound runs the pass with a skip.
        if let Some(plain) = al.score_bound(&q, &s, lo, hi) {
            let bridged = al.score_bound_bridged_from(&q, &s, lo, hi, plain + 1, 10);
            prop_assert!(bridged.is_some_and(|b| b >= plain));
        }
    }
}
