//! Tests of the normalization map: table-driven cases, the char-by-char
//! oracle, an exhaustive fixed-point check and property tests.

use super::*;
use proptest::prelude::*;

/// The oracle: normalize char by char with the general path, offsets from
/// `char_indices`.
fn oracle(src: &str) -> Normalized {
    let mut n = Normalized::default();
    for (at, c) in src.char_indices() {
        let before = n.text.len();
        normalize_char(c, &mut n.text);
        n.offsets
            .resize(n.offsets.len() + n.text.len() - before, at as u32);
    }
    n
}

fn norm(s: &str) -> String {
    normalize(s).text
}

#[test]
fn table_of_cases() {
    // (input, expected normalized text). Expected values are worked out by
    // hand from the map in the module docs.
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("   \n\t", ""),
        ("Hello, World!", "helloworld"),
        // curly quotes and apostrophes vanish like straight ones
        ("\u{201C}don\u{2019}t\u{201D}", "dont"),
        ("\"don't\"", "dont"),
        ("dont", "dont"),
        // `> ` quoting and soft line breaks
        ("> we will\n> meet", "wewlllneet"),
        ("we will meet", "wewlllneet"),
        // quoted-printable style soft break residue and hyphenation
        ("in-\nvite", "lnvlte"),
        ("in vite", "lnvlte"),
        ("invite", "lnvlte"),
        ("in-vite", "lnvlte"),
        // OCR: `|` for `I`, digits for letters, f/t b/h m/n
        ("| think", "lthlnk"),
        ("I think", "lthlnk"),
        ("1 think", "lthlnk"),
        ("l0ve", "love"),
        ("of the", "otthe"),
        ("ot the", "otthe"),
        ("bat", "hat"),
        ("hat", "hat"),
        ("mail", "nall"),
        ("nail", "nall"),
        // emoji and hashtags
        ("#leak \u{1F600}\u{1F525} #sony", "leaksony"),
        ("\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}", ""),
        // NFKC/NFKD ligatures and compatibility forms
        ("\u{FB01}nance", "tlnance"),
        ("finance", "tlnance"),
        ("\u{FB00}", "tt"),
        ("\u{FF21}\u{FF22}\u{FF23}", "ahc"),
        ("x\u{00B2}", "x2"),
        ("\u{2460}", "l"),
        ("\u{00BD}", "l2"),
        // accents, precomposed or combining
        ("caf\u{E9}", "cate"),
        ("cafe\u{301}", "cate"),
        ("NA\u{EF}VE", "nalve"),
        ("\u{C5}ngstr\u{F6}m", "angstron"),
        // sharp s and final sigma
        ("Stra\u{DF}e", "strasse"),
        ("STRASSE", "strasse"),
        ("\u{1E9E}", "ss"),
        // Greek: a letter whose capital looks like a Latin capital takes
        // that letter in both cases (Ο ο -> o, Ι ι -> i -> l, Α α -> a,
        // Ε ε -> e, Ν -> n); the others are lowercased, then take their
        // UTS #39 prototypes (σ looks like o; φ has the prototype ɸ)
        ("\u{3A3}\u{39F}\u{3A6}\u{399}\u{391}", "ooɸla"),
        ("σοφίας", "ooɸlao"),
        ("ΕΝΝΕΑ", "ennea"),
        // ... except a small letter that is itself a Latin look-alike:
        // ν looks like v (UTS #39 says so), its capital Ν like N.
        ("εννεα", "evvea"),
        ("giνen nοt aνailable", "glvennotavallahle"),
        // Turkish dotted capital I and dotless i
        ("\u{130}stanbul", "lstanhul"),
        ("\u{131}", "l"),
        // Cyrillic: lowercased, й loses its breve (Mn), then the UTS #39
        // prototypes: р е о а с look like Latin p e o a c; в н т к м like
        // the Latin small capitals ʙ ʜ ᴛ ĸ ʍ, which fold to b h t k m (and
        // b -> h, m -> n by the OCR folds); и (ᴎ) and п (π) have no Latin
        // twin
        ("ПРИВЕТ", "πpᴎhet"),
        ("привет", "πpᴎhet"),
        ("\u{419}", "ᴎ"),
        // look-alike swaps in both directions normalize alike
        ("сорок", "copok"),
        ("copok", "copok"),
        ("ВНКМТОРАХСЕУ", "hhkntopaxcey"),
        ("BHKMTOPAXCEY", "hhkntopaxcey"),
        // default-ignorable code points vanish: zero-width space and
        // joiners, soft hyphen, word joiner, BOM, bidi controls, variation
        // selectors, the Hangul filler (a letter by category)
        ("So\u{200B}ny", "sony"),
        ("le\u{200D}a\u{200C}k\u{00AD}ed\u{2060}", "leaked"),
        ("\u{FEFF}\u{202E}leak\u{202C}\u{FE0F}", "leak"),
        ("\u{3164}", ""),
        // full-width and mathematical alphanumeric forms
        ("\u{FF33}\u{FF4F}\u{FF4E}\u{FF59}", "sony"),
        ("\u{1D412}\u{1D428}\u{1D427}\u{1D432}", "sony"),
        // a symbol whose prototype holds letters drops out like any symbol
        ("50%", "5o"),
        // CJK: kept as is, without UTS #39 prototypes (they would drop く
        // and 井, whose prototypes are `<` and `#`, and scramble 今, 合 and
        // 長 into jamo); fullwidth punctuation dropped
        // (the Japanese 漏洩 takes the Simplified 泄 of 洩 like any Han text)
        ("\u{6F0F}\u{6D29}\u{3002}", "\u{6F0F}\u{6CC4}"),
        ("\u{3042}\u{FF01}", "\u{3042}"),
        ("\u{30AB}\u{30BF}", "\u{30AB}\u{30BF}"),
        ("\u{4E00}", "\u{4E00}"),
        (
            "\u{304F}\u{4E95}\u{4ECA}\u{5408}\u{9577}",
            "\u{304F}\u{4E95}\u{4ECA}\u{5408}\u{957F}",
        ),
        // Devanagari: Mc vowel sign kept (its prototype is the Nandinagari
        // sign U+119D1), Mn vowel sign dropped
        ("\u{915}\u{93E}", "\u{915}\u{119D1}"),
        ("\u{915}\u{941}", "\u{915}"),
        // Arabic harakat (Mn) dropped
        (
            "\u{643}\u{64E}\u{62A}\u{64E}\u{628}\u{64E}",
            "\u{643}\u{62A}\u{628}",
        ),
    ];
    for &(input, expected) in cases {
        assert_eq!(norm(input), expected, "input {input:?}");
        let mut t = String::new();
        normalize_text_only(input, &mut t);
        assert_eq!(t, expected, "text_only, input {input:?}");
    }
}

#[test]
fn email_post_and_ocr_forms_agree() {
    let email = "> Hi Amy,\n> I don't think we should re-\n> lease the film on Dec. 25th.";
    let post = "\u{201C}I don\u{2019}t think we should release the film on Dec 25th\u{201D} \u{1F633} #SonyHack";
    let ocr = "| dont think we shou1d re- lease tbe fi1m on Dec. 25th";
    let core = norm("I don't think we should release the film on Dec. 25th");
    assert!(norm(email).contains(&core));
    assert!(norm(post).contains(&core));
    assert_eq!(norm(ocr), core);
}

#[test]
fn ascii_table_matches_general_path() {
    for b in 0u8..128 {
        let c = char::from(b);
        let mut general = String::new();
        normalize_char(c, &mut general);
        let table = ASCII_MAP[usize::from(b)];
        let fast = if table == 0 {
            String::new()
        } else {
            char::from(table).to_string()
        };
        assert_eq!(fast, general, "ASCII byte {b:#04x}");
    }
}

/// Every char of every output is alphanumeric and a fixed point of the map
/// (the reason for idempotence), over all of Unicode.
#[test]
fn every_output_char_is_a_fixed_point() {
    let mut out = String::new();
    let mut again = String::new();
    let mut bad = Vec::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        out.clear();
        normalize_char(c, &mut out);
        for o in out.chars() {
            again.clear();
            normalize_char(o, &mut again);
            let mut buf = [0u8; 4];
            if !o.is_alphanumeric() || *again != *o.encode_utf8(&mut buf) {
                bad.push((c, o, again.clone()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} bad, first: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
}

#[test]
fn memo_gives_the_direct_map_for_every_char() {
    // Every code point of the memoized planes and past their end, and the
    // tags, twice (the first pass fills the memo, the second reads it):
    // chars of one, two and three outputs, chars of more (`\u{FDFA}` is 18
    // letters: never memoized), dropped chars, chars above the memo.
    let all: String = (0x80u32..0x3_2000)
        .chain(0xE_0000..0xE_0200)
        .filter_map(char::from_u32)
        .collect();
    for _ in 0..2 {
        assert_eq!(normalize(&all), oracle(&all));
    }
}

#[test]
fn long_mixed_text_equals_oracle() {
    // Runs of every length between non-ASCII chars, across many blocks:
    // exercises the switches between the ASCII and the cached slow path.
    let mut src = String::new();
    for i in 0..3000usize {
        src.push_str(&"ab, ".repeat(i % 13));
        src.push(['\u{E9}', 'ж', '漏', '\u{FB01}', '\u{1F600}'][i % 5]);
    }
    assert_eq!(normalize(&src), oracle(&src));
    let mut t = String::new();
    normalize_text_only(&src, &mut t);
    assert_eq!(t, oracle(&src).text);
}

#[test]
fn source_span_examples() {
    let src = "> Hello,\n> w\u{F6}rld \u{FB01}n";
    let n = normalize(src);
    assert_eq!(n.text, "helloworldtln");
    // "hello" -> "Hello"
    assert_eq!(&src[n.source_span(src, 0..5)], "Hello");
    // "world" -> "w\u{F6}rld": the o comes from a 2-byte char
    assert_eq!(&src[n.source_span(src, 5..10)], "w\u{F6}rld");
    // the second byte of the ligature's expansion maps to the ligature
    assert_eq!(&src[n.source_span(src, 11..12)], "\u{FB01}");
    // clamping and empty ranges
    assert_eq!(
        n.source_span(src, 11..99),
        n.source_span(src, 11..n.text.len())
    );
    assert_eq!(n.source_span(src, 3..3), 5..5);
    assert_eq!(n.source_span(src, 99..120), src.len()..src.len());
}

#[test]
fn normalize_into_adds_base() {
    let mut text = String::from("ab");
    let mut offsets = vec![0, 1];
    normalize_into("x, Y\u{E9}", 100, &mut text, &mut offsets);
    assert_eq!(text, "abxye");
    assert_eq!(offsets, vec![0, 1, 100, 103, 104]);
}

#[test]
fn offsets_saturate_instead_of_overflowing() {
    let mut text = String::new();
    let mut offsets = Vec::new();
    normalize_into("abc", u32::MAX - 1, &mut text, &mut offsets);
    assert_eq!(offsets, vec![u32::MAX - 1, u32::MAX, u32::MAX]);
}

/// Strings mixing ASCII, punctuation, accents, other scripts, emoji and the
/// confusables of the fold table.
fn text_strategy() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        4 => "[a-zA-Z0-9 ,.'|\\-\n>#]{0,12}",
        1 => "[\u{e0}-\u{ff}\u{100}-\u{17f}]{0,4}",
        1 => "[\u{300}-\u{36f}\u{391}-\u{3c9}\u{400}-\u{44f}]{0,4}",
        1 => "[\u{4e00}-\u{4e40}\u{3040}-\u{30ff}\u{900}-\u{97f}]{0,4}",
        1 => "[\u{fb00}-\u{fb06}\u{2460}-\u{2473}\u{ff01}-\u{ff5e}\u{1f600}-\u{1f64f}\u{df}\u{130}\u{131}\u{1e9e}\u{3c2}]{0,4}",
        1 => any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fast_path_equals_oracle(s in text_strategy()) {
        prop_assert_eq!(normalize(&s), oracle(&s));
    }

    /// A normalization stopped early is a prefix of the whole one, with
    /// the same offsets, at least `until` bytes long when the whole is.
    #[test]
    fn normalizing_until_gives_a_prefix(
        parts in proptest::collection::vec(text_strategy(), 1..40),
        until in 0usize..3000,
    ) {
        let s = parts.concat();
        let whole = normalize(&s);
        let mut n = Normalized::default();
        normalize_into_until(&s, 0, &mut n.text, &mut n.offsets, until);
        prop_assert!(whole.text.starts_with(&n.text));
        prop_assert_eq!(&n.offsets[..], &whole.offsets[..n.offsets.len()]);
        prop_assert!(n.text.len() >= until.min(whole.text.len()));
    }

    #[test]
    fn text_only_equals_normalize(s in text_strategy()) {
        let mut t = String::from("prefix");
        normalize_text_only(&s, &mut t);
        prop_assert_eq!(&t["prefix".len()..], normalize(&s).text);
    }

    #[test]
    fn split_invariance(s in text_strategy(), cut in any::<prop::sample::Index>()) {
        let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
        let at = bounds[cut.index(bounds.len())];
        let (a, b) = s.split_at(at);
        let whole = normalize(&s);
        let mut text = String::new();
        let mut offsets = Vec::new();
        normalize_into(a, 0, &mut text, &mut offsets);
        normalize_into(b, at as u32, &mut text, &mut offsets);
        prop_assert_eq!(&text, &whole.text);
        prop_assert_eq!(&offsets, &whole.offsets);
        prop_assert_eq!(norm(a) + &norm(b), whole.text);
    }

    #[test]
    fn output_alphanumeric_offsets_monotone_and_on_boundaries(s in text_strategy()) {
        let n = normalize(&s);
        prop_assert!(n.text.chars().all(char::is_alphanumeric));
        prop_assert_eq!(n.offsets.len(), n.text.len());
        prop_assert!(n.offsets.windows(2).all(|w| w[0] <= w[1]));
        for &o in &n.offsets {
            prop_assert!((o as usize) < s.len() && s.is_char_boundary(o as usize));
        }
    }

    #[test]
    fn idempotent(s in text_strategy()) {
        let once = norm(&s);
        prop_assert_eq!(norm(&once), once);
    }

    #[test]
    fn source_span_round_trips(s in text_strategy(), a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let n = normalize(&s);
        prop_assume!(!n.text.is_empty());
        // ranges on char boundaries of the normalized text
        let bounds: Vec<usize> = n.text.char_indices().map(|(i, _)| i).chain([n.text.len()]).collect();
        let (mut i, mut j) = (bounds[a.index(bounds.len())], bounds[b.index(bounds.len())]);
        if i > j { std::mem::swap(&mut i, &mut j); }
        prop_assume!(i < j);
        let span = n.source_span(&s, i..j);
        prop_assert!(s.is_char_boundary(span.start) && s.is_char_boundary(span.end));
        // the source span normalizes to a text containing the normalized range
        // (exactly it, when the range starts and ends on whole source chars)
        let renorm = norm(&s[span.clone()]);
        prop_assert!(renorm.contains(&n.text[i..j]), "{:?} not in {:?}", &n.text[i..j], renorm);
        let starts_char = i == 0 || n.offsets[i - 1] != n.offsets[i];
        let ends_char = j == n.text.len() || n.offsets[j] != n.offsets[j - 1];
        if starts_char && ends_char {
            prop_assert_eq!(renorm, &n.text[i..j]);
        }
    }
}

/// A char never weighs more than its UTF-8 length (in quarters of a
/// letter): a run of content weight t letters spans at least t normalized
/// bytes, so the byte-counted winnowing guarantee holds in content units.
#[test]
fn weights_never_exceed_utf8_length() {
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        assert!(char_weight(c) <= WEIGHT_UNIT * c.len_utf8() as u32, "{c:?}");
        assert!(char_weight(c) >= WEIGHT_UNIT, "{c:?}");
    }
    assert_eq!(content_weight("abc"), 3 * u64::from(WEIGHT_UNIT));
    assert_eq!(
        content_weight("ab\u{4E2D}\u{0436}\u{30AB}\u{0628}"),
        2 * u64::from(WEIGHT_UNIT)
            + u64::from(HAN_WEIGHT + CYRILLIC_WEIGHT + KANA_WEIGHT + ABJAD_WEIGHT)
    );
}

/// Capital look-alikes take the prototype of the capital, not of their
/// lowercase form: Greek `Ε` is `E` (where `ε` is `ꞓ`), `Β` is `B` (where
/// `β` is `ß`), `Ν` is `N` (where `ν` is `v`).
#[test]
fn capital_look_alikes_fold_as_capitals() {
    for (fake, real) in [
        ("GΕRÄTΕNΑMΕΝ Βackend", "GERÄTENAMEN Backend"),
        ("RΕIΝDEΧ", "REINDEX"),
        ("АССT КОНТРОЛЬ", "ACCT KOHTPOЛЬ"),
    ] {
        assert_eq!(normalize(fake).text, normalize(real).text, "{fake}");
    }
}

/// Case never matters: a letter and its capital normalize alike (a
/// capital look-alike and its lowercase form take one prototype), except
/// where the small letter is itself a look-alike of another Latin letter
/// than its capital (`ν` of `v`, `Ν` of `N`; `η`, `υ` and their accented
/// forms, and a few others): then each takes its own.
#[test]
fn capitals_normalize_like_lowercase() {
    let mut differ = Vec::new();
    let mut small_look_alikes = Vec::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let mut lower = c.to_lowercase();
        let (Some(l), None) = (lower.next(), lower.next()) else {
            continue;
        };
        if l == c || !c.is_alphabetic() {
            continue;
        }
        if norm(&c.to_string()) != norm(&l.to_string()) {
            // The small letter's form must be one Latin letter, its own
            // UTS #39 prototype (lowercased).
            let mut buf = [0u8; 4];
            let own: String = unicode_security::skeleton(l.encode_utf8(&mut buf))
                .filter(|&p| !super::is_dropped(p))
                .flat_map(char::to_lowercase)
                .collect();
            if own.len() == 1 && own == norm(&l.to_string()) {
                small_look_alikes.push(l);
            } else {
                differ.push((c, l, norm(&c.to_string()), norm(&l.to_string())));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "{} differ: {:?}",
        differ.len(),
        &differ[..differ.len().min(40)]
    );
    // Measured: 37 (Greek η, ν, υ and their accented forms, ƽ, ϭ, յ, one
    // Warang Citi letter); a change of the map that makes many more
    // letters differ from their capitals is a mistake, not a look-alike.
    assert!(
        small_look_alikes.contains(&'ν') && small_look_alikes.len() <= 40,
        "{small_look_alikes:?}"
    );
}

/// Traditional and Simplified Chinese normalize alike, and the fold table
/// is sorted (binary search) and idempotent (every target is a fixed point
/// of the whole map).
#[test]
fn traditional_chinese_folds_to_simplified() {
    assert!(super::zh_fold::TS.windows(2).all(|w| w[0].0 < w[1].0));
    for &(t, s) in super::zh_fold::TS {
        assert_eq!(norm(&t.to_string()), norm(&s.to_string()), "{t} {s}");
        assert_eq!(
            norm(&s.to_string()),
            s.to_string(),
            "{s} is not a fixed point"
        );
    }
    assert_eq!(
        norm("與 set-hostname 命令一起使用，表示僅更新特定的主機名"),
        norm("与 set-hostname 命令一起使用，表示仅更新特定的主机名")
    );
}

/// ASCII bytes (any of the 128) with now and then a non-ASCII one, up to
/// past [`BLOCK`] bytes: the inputs of the ASCII loops.
fn ascii_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(prop_oneof![60 => 0u8..0x80, 1 => 0x80u8..=0xff], 0..1200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The ASCII loop with its 64-byte steps ([`wide`], where the CPU has
    /// them) produces what the scalar loop alone does, with or without
    /// offsets, whatever the offset of the first byte (near `u32::MAX`
    /// the wide path leaves the chunk to the scalar loop, which saturates).
    #[test]
    fn wide_ascii_loop_equals_the_scalar_one(
        bytes in ascii_bytes(),
        at in prop_oneof![0u32..1 << 20, (u32::MAX - 2000)..=u32::MAX],
    ) {
        let bytes = &bytes[..bytes.len().min(BLOCK)];
        let (mut out, mut want) = ([0u8; BLOCK], [0u8; BLOCK]);
        let (got_in, got_n) = map_ascii(bytes, &mut out);
        let (want_in, want_n) = map_ascii_from(bytes, &mut want, 0, 0);
        prop_assert_eq!((got_in, got_n), (want_in, want_n));
        prop_assert_eq!(&out[..got_n], &want[..want_n]);
        let (mut off, mut want_off) = ([0u32; BLOCK], [0u32; BLOCK]);
        let r = map_ascii_offsets(bytes, at, &mut out, &mut off);
        let w = map_ascii_offsets_from(bytes, at, (&mut want, &mut want_off), 0, 0);
        prop_assert_eq!(r, w);
        prop_assert_eq!(&out[..r.1], &want[..w.1]);
        prop_assert_eq!(&off[..r.1], &want_off[..w.1]);
    }

    /// Long ASCII text with a few other chars against the oracle: the
    /// 64-byte steps, their ends and the switches to the slow path.
    #[test]
    fn long_mostly_ascii_text_equals_oracle(
        parts in proptest::collection::vec(
            prop_oneof![8 => "[ -~\n\t]{0,200}", 1 => "[é€漏ﬁ\u{300}]{1,2}"],
            0..20,
        ),
    ) {
        let s = parts.concat();
        prop_assert_eq!(normalize(&s), oracle(&s));
        let mut t = String::new();
        normalize_text_only(&s, &mut t);
        prop_assert_eq!(t, oracle(&s).text);
    }
}

/// Where the CPU has the instruction sets, the wide path does run (so the
/// property test above compares two loops, not one with itself), and stops
/// at the chunk that holds a non-ASCII byte.
/// With `LEAKPRINT_REQUIRE_WIDE` set, a CPU without them fails it (for a
/// machine known to have them, where a broken detection would otherwise
/// leave the property test comparing the scalar loop with itself).
#[cfg(target_arch = "x86_64")]
#[test]
fn the_wide_ascii_path_runs_where_the_cpu_has_it() {
    let has = std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vbmi")
        && std::arch::is_x86_feature_detected!("avx512vbmi2");
    if !has {
        assert!(
            std::env::var_os("LEAKPRINT_REQUIRE_WIDE").is_none(),
            "LEAKPRINT_REQUIRE_WIDE is set, but this CPU lacks AVX-512 VBMI2"
        );
        eprintln!("this CPU lacks AVX-512 VBMI2: the wide path is not taken here");
        return;
    }
    let mut bytes = b"Leaked memo, 2014: the Quarterly Numbers; see attachment #3. ".repeat(4);
    let mut out = [0u8; BLOCK];
    let (used, n) = wide::map_ascii(&bytes, &mut out);
    assert_eq!(used, bytes.len() / 64 * 64);
    let mut want = [0u8; BLOCK];
    let (_, wn) = map_ascii_from(&bytes[..used], &mut want, 0, 0);
    assert_eq!(&out[..n], &want[..wn]);
    bytes[100] = 0xc3;
    assert_eq!(wide::map_ascii(&bytes, &mut out).0, 64);
    bytes[10] = 0xc3;
    assert_eq!(wide::map_ascii(&bytes, &mut out), (0, 0));
}
