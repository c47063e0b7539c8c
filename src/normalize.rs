//! Text normalization: the same leaked sentence must normalize to the same
//! bytes whether it comes from an email, a post or OCR output.
//!
//! # The map
//!
//! Normalization is a **per-character map**: every source `char` is mapped on
//! its own, with no context, to zero or more output chars. So every char
//! boundary of the source is a restart point: `normalize(a + b) ==
//! normalize(a) + normalize(b)` for any split at a char boundary, which lets
//! the indexer stream text in pieces and the matcher map any normalized
//! position back to the source. For each source char `c`:
//!
//! 1. NFKD-decompose `c` (compatibility decomposition: `ﬁ` -> `fi`, `①` -> `1`,
//!    full-width `Ａ` -> `A`, mathematical `𝐒` -> `S`, `é` -> `e` + U+0301);
//! 2. drop nonspacing marks (General_Category `Mn`: accents, Hebrew and Arabic
//!    vowel points, the Cyrillic breve of `й`) and default-ignorable code
//!    points (zero-width space and joiners, soft hyphen, BOM, bidi controls,
//!    variation selectors, Hangul fillers). Spacing marks (`Mc`, e.g. the
//!    Devanagari vowel sign `ा`) are letters of their script and are kept;
//! 3. full lowercase (`char::to_lowercase`) and the fold table below;
//! 4. for letters and digits, the confusable prototype of Unicode Technical
//!    Standard #39 (the `skeleton` of `unicode-security`, Unicode 18
//!    tables): Cyrillic `о а е р с` become Latin `o a e p c`, Greek `ο` and
//!    `σ` become `o`, `カ` becomes `力`; then steps 2 and 3 again on the
//!    prototype (prototypes are decomposed and may be capitals); a letter
//!    whose capital has a Latin capital as prototype takes that one in both
//!    cases (`Ε ε` -> `e`), unless the small letter's own prototype is
//!    another Latin letter (`Ν` -> `n` but `ν` -> `v`, see
//!    `own_latin_letter`);
//!    Chinese, Japanese and Korean chars take no UTS #39 prototype (see
//!    `prototype`); Traditional Chinese characters take their Simplified
//!    form instead (OpenCC's character table, see `simplified`);
//! 5. keep only chars with `char::is_alphanumeric()`;
//! 6. repeat 1-5 on the result until it no longer changes (prototype chains
//!    such as `δ` -> `ẟ` are short), so every output char is a fixed point.
//!
//! Everything else (spaces, line breaks, punctuation, curly quotes, `> `
//! quote prefixes, line-end hyphens, `#` of hashtags, emoji) maps to nothing,
//! so `"in-\nvite"`, `"> in vite"` and `"invite"` normalize the same, and so
//! do a quote and the same quote with look-alike letters, zero-width
//! characters, full-width forms or stripped accents in it.
//!
//! # Fold table (applied after lowercasing)
//!
//! | from | to | why |
//! |---|---|---|
//! | `\|` `1` `i` `ı` | `l` | tesseract reads `I` as `\|`, `l`/`1`/`i` are one vertical stroke in many fonts; `ı` is the dotless i of Turkish text and of OCR that lost the dot (`İ` becomes `i` by steps 1-2) |
//! | `0` | `o` | digit zero / letter o |
//! | `f` | `t` | the f/t swap of tesseract on small text |
//! | `b` | `h` | the b/h swap |
//! | `m` | `n` | the m/n swap (`rn` read as `m` is context-dependent and not folded; the UTS #39 prototype of `m` is `rn`, so `m` is folded before it is looked up) |
//! | `ß` | `ss` | full case folding (Unicode CaseFolding.txt `F`): `Straße` = `STRASSE` = `strasse`. `to_lowercase` keeps `ß`, and capital `ẞ` lowercases to `ß`, so both end as `ss` |
//! | `ς` | `σ` | full case folding: final sigma; `to_lowercase` of a lone `Σ` gives `σ` |
//! | `ᴀ ʙ ᴄ ... ᴢ`, `ĸ`, `ʍ` | `a b c ... z`, `k`, `m` | Latin small capitals (and kra, turned w) are the prototypes of Cyrillic `в н т к м`: folded to the Latin letter, a capital look-alike (`В` for `B`, `Н` for `H`) normalizes like its Latin twin after lowercasing |
//!
//! These folds lose information on purpose: every confusable pair normalizes
//! to one form, so an OCR error within a pair or a swapped look-alike changes
//! no fingerprint. The price is a smaller alphabet (21 ASCII letters and 8
//! digits remain; Cyrillic `в` and `н` both end as `h`), which k (the k-gram
//! length) makes up for.
//!
//! # Content weight
//!
//! Lengths that decide a match (the minimum aligned length, the floor for
//! second pieces) count content, not bytes: [`char_weight`] gives each
//! normalized char its weight in quarters of a Latin letter, measured per
//! script (see its docs), so that a Chinese quote must carry about as much
//! information as a Latin one to match. The weight of a char is never more
//! than its UTF-8 length in quarters, so a run of `t` content units always
//! spans at least `t` normalized bytes: the winnowing guarantee, stated in
//! bytes, holds in content units too.
//!
//! # Invariants (tested)
//!
//! * output is only alphanumeric chars; it is a fixed point:
//!   `normalize(normalize(x).text).text == normalize(x).text`;
//! * `offsets.len() == text.len()`, offsets are non-decreasing, each points
//!   at the first byte of a source char;
//! * the ASCII fast path equals the general path for all 128 ASCII chars.
//!
//! # Versioning
//!
//! The output depends on the Unicode tables of `unicode-normalization` (NFKD),
//! `unicode-general-category` (pinned, Unicode 16), `unicode-security`
//! (pinned, Unicode 18 confusables) and the Rust standard library
//! (`to_lowercase`, `is_alphanumeric`). Updating them changes the
//! output only for chars newly assigned in Unicode; any change to the map
//! itself must bump [`NORMALIZATION_VERSION`], which the index records.
//!
//! # Speed
//!
//! ASCII bytes go through a 128-entry table: 64 bytes a step where the
//! CPU has AVX-512 VBMI2 (`wide`; 12 GiB/s without offsets, 2.4 GiB/s
//! with them, `cargo bench --bench normalize`), else eight (1.6 and 0.7
//! GiB/s). Other chars go through the general path, memoized in a table
//! shared by all threads (`MEMO`).

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::char::decompose_compatible;
use unicode_security::skeleton;

#[cfg(target_arch = "x86_64")]
mod wide;
mod zh_fold;

/// Version of the normalization map, recorded in the index: an index built
/// with another version must not be matched against. Version 2 added the
/// UTS #39 confusable prototypes, the default-ignorable code points and the
/// small-capital folds.
pub const NORMALIZATION_VERSION: u32 = 2;

/// Content weight of one Latin letter, in the units [`char_weight`]
/// returns (quarters of a letter).
pub const WEIGHT_UNIT: u32 = 4;

/// Weight of a Han ideograph, in quarters of a Latin letter (2.5 letters).
/// See [`char_weight`].
pub const HAN_WEIGHT: u32 = 10;

/// Weight of a kana (2.25 letters). See [`char_weight`].
pub const KANA_WEIGHT: u32 = 9;

/// Weight of a Cyrillic or Greek letter that no Latin look-alike replaced
/// (1.25 letters). See [`char_weight`].
pub const CYRILLIC_WEIGHT: u32 = 5;

/// Weight of an Arabic or Hebrew letter (1.5 letters: short vowels are not
/// written). See [`char_weight`].
pub const ABJAD_WEIGHT: u32 = 6;

/// Content weight of a normalized char, in quarters of a Latin letter
/// ([`WEIGHT_UNIT`] = one letter): how much a match must hold to mean as
/// much in every script.
///
/// The weight of a char is the information it carries against a Latin
/// letter, measured as xz-compressed bits per normalized char on the
/// multilingual corpus (`corpus/ml/dump`, letters and digits only; Latin
/// languages 2.3-2.6 bits per letter) and then checked on the tuning half
/// of its queries (recall of quotes with as much content as 50 Latin letters
/// against false matches on same-language negatives; BENCHMARKS.md,
/// "Lengths in every script"):
///
/// | chars | bits/char | weight (letters) |
/// |---|---|---|
/// | Latin, Greek, digits; Hangul jamo (a syllable decomposes into 2-3: 5.9 bits a syllable) | 2.3-2.6 | 1 |
/// | Cyrillic and Greek left after the look-alike fold (`д ж ᴎ π ...`; `а е о р с` fold to Latin and weigh 1) | 2.3-3.7 | 1.25 |
/// | Arabic, Hebrew (short vowels unwritten) | 3.9-4.4 | 1.5 |
/// | kana | 5.0 | 2.25 |
/// | Han ideographs | 7.6 | 2.5 |
///
/// Where the tuning half could tell, the weight is the one with the best
/// recall that added no false match: Han at 3 letters gave a false match,
/// kana at 2.25 letters found more exact quotes than at 2 and no more
/// false matches, at 2.5 more stray second pieces.
///
/// Never more than `4 * c.len_utf8()`: a run of content weight `t` letters
/// spans at least `t` normalized bytes (see the module docs).
#[inline]
pub fn char_weight(c: char) -> u32 {
    if is_han(c) {
        HAN_WEIGHT
    } else if is_kana(c) {
        KANA_WEIGHT
    } else if is_cyrillic_like(c) {
        CYRILLIC_WEIGHT
    } else if is_abjad(c) {
        ABJAD_WEIGHT
    } else {
        WEIGHT_UNIT
    }
}

/// The normalized chars of Cyrillic (and Greek) text that no Latin
/// look-alike replaced: Greek and Cyrillic letters, and the Latin small
/// capitals that are the UTS #39 prototypes of `и` and `я` (`ᴎ`, `ᴙ`; the
/// small capitals with a Latin twin are folded to it). All are two or three
/// bytes, so the weight stays under the UTF-8 length.
fn is_cyrillic_like(c: char) -> bool {
    matches!(c, '\u{0370}'..='\u{03FF}' | '\u{0400}'..='\u{052F}' | '\u{1D00}'..='\u{1D2B}')
}

/// Arabic (with its supplements) and Hebrew letters.
fn is_abjad(c: char) -> bool {
    matches!(
        c,
        '\u{0590}'..='\u{05FF}' | '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}'
    )
}

/// Hiragana and katakana (the half-width forms are full width after NFKD).
fn is_kana(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}')
}

/// Han ideographs: the CJK Unified Ideographs blocks and extensions, the
/// compatibility ideographs and the radicals.
fn is_han(c: char) -> bool {
    matches!(
        c,
        '\u{2E80}'..='\u{2FDF}'
            | '\u{3005}'..='\u{3007}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{3FFFF}'
    )
}

/// Total content weight of normalized text, in quarters of a Latin letter
/// (see [`char_weight`]). ASCII text weighs [`WEIGHT_UNIT`] per byte.
pub fn content_weight(norm: &str) -> u64 {
    if norm.is_ascii() {
        return norm.len() as u64 * u64::from(WEIGHT_UNIT);
    }
    norm.chars().map(|c| u64::from(char_weight(c))).sum()
}

/// Normalized text plus a map back to the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    /// Normalized UTF-8 text: only alphanumeric chars.
    pub text: String,
    /// `offsets.len() == text.len()`; `offsets[i]` is the byte offset in the
    /// source of the source char that produced normalized byte `i`.
    pub offsets: Vec<u32>,
}

impl Normalized {
    /// Source byte range covered by the normalized byte range `norm`: from
    /// `offsets[norm.start]` to the end of the source char that produced byte
    /// `norm.end - 1`. `src` is the text that was normalized (for
    /// [`normalize_into`] with a `base`, the whole text the offsets refer to).
    ///
    /// Out-of-bounds ends are clamped to the normalized text; an empty range
    /// gives an empty source range at the position of `norm.start` (or the
    /// end of `src`). Never panics.
    pub fn source_span(&self, src: &str, norm: Range<usize>) -> Range<usize> {
        let end = norm.end.min(self.offsets.len());
        let at = |i: usize| self.offsets.get(i).map_or(src.len(), |&o| o as usize);
        if norm.start >= end {
            let p = at(norm.start).min(src.len());
            return p..p;
        }
        let start = at(norm.start).min(src.len());
        let last = at(end - 1).min(src.len());
        let last_len = src
            .get(last..)
            .and_then(|s| s.chars().next())
            .map_or(0, char::len_utf8);
        start..last + last_len
    }
}

/// Normalizes `src` into a new [`Normalized`] with offsets from 0.
pub fn normalize(src: &str) -> Normalized {
    let mut n = Normalized {
        text: String::with_capacity(src.len()),
        offsets: Vec::with_capacity(src.len()),
    };
    normalize_into(src, 0, &mut n.text, &mut n.offsets);
    n
}

/// Normalizes `src`, appending to `text` and `offsets`; each offset is
/// `base + local source offset`.
///
/// Offsets saturate at `u32::MAX`: callers split sources so that
/// `base + src.len()` fits in a `u32` (the indexer works per part).
pub fn normalize_into(src: &str, base: u32, text: &mut String, offsets: &mut Vec<u32>) {
    normalize_into_until(src, base, text, offsets, usize::MAX);
}

/// [`normalize_into`], stopping at the first char boundary where `text`
/// holds at least `until` bytes (it may then hold a block of ASCII bytes
/// more). What it appends is a prefix of what [`normalize_into`] appends,
/// offsets included: both are the same loop, this one left early, and
/// each char is normalized on its own (test
/// `normalizing_until_gives_a_prefix`). The matcher's text windows need
/// the normalization only to their end, which lies on average half a
/// checkpoint interval before the text decoded ends.
pub fn normalize_into_until(
    src: &str,
    base: u32,
    text: &mut String,
    offsets: &mut Vec<u32>,
    until: usize,
) {
    let bytes = src.as_bytes();
    let offset_of = |i: usize| {
        u32::try_from(i)
            .ok()
            .and_then(|i| base.checked_add(i))
            .unwrap_or(u32::MAX)
    };
    let mut out = [0u8; BLOCK];
    let mut out_off = [0u32; BLOCK];
    let mut i = 0;
    while i < bytes.len() && text.len() < until {
        let end = bytes.len().min(i + BLOCK);
        let (used, n) = map_ascii_offsets(&bytes[i..end], offset_of(i), &mut out, &mut out_off);
        push_ascii(text, &out[..n]);
        offsets.extend_from_slice(&out_off[..n]);
        i += used;
        if i < end && text.len() < until {
            i = slow_run(src, i, text, until, |at, added| {
                offsets.resize(offsets.len() + added, offset_of(at));
            });
        }
    }
}

/// Normalizes `src` without offsets (the indexer's fast path), appending to
/// `text`. Equals `normalize(src).text`.
pub fn normalize_text_only(src: &str, text: &mut String) {
    let bytes = src.as_bytes();
    let mut out = [0u8; BLOCK];
    let mut i = 0;
    while i < bytes.len() {
        let end = bytes.len().min(i + BLOCK);
        let (used, n) = map_ascii(&bytes[i..end], &mut out);
        push_ascii(text, &out[..n]);
        i += used;
        if i < end {
            i = slow_run(src, i, text, usize::MAX, |_, _| {});
        }
    }
}

/// Bit 7 of each byte of a word: set for non-ASCII bytes.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Maps the leading ASCII bytes of `bytes` (at most [`BLOCK`]) through
/// [`ASCII_MAP`] into `out`, dropping zeros. Stops at the first non-ASCII
/// byte. Returns (bytes consumed, bytes produced). 64 bytes at a time
/// where the CPU can ([`wide`]), then eight while a whole word is ASCII.
#[inline(always)]
fn map_ascii(bytes: &[u8], out: &mut [u8; BLOCK]) -> (usize, usize) {
    let bytes = &bytes[..bytes.len().min(BLOCK)];
    #[cfg(target_arch = "x86_64")]
    let (i, n) = wide::map_ascii(bytes, out);
    #[cfg(not(target_arch = "x86_64"))]
    let (i, n) = (0, 0);
    map_ascii_from(bytes, out, i, n)
}

/// The scalar loop of [`map_ascii`], from byte `i` of `bytes` (at most
/// [`BLOCK`]) with `n` bytes already produced.
#[inline(always)]
fn map_ascii_from(
    bytes: &[u8],
    out: &mut [u8; BLOCK],
    mut i: usize,
    mut n: usize,
) -> (usize, usize) {
    for word in bytes[i..].chunks_exact(8) {
        let Ok(w) = <[u8; 8]>::try_from(word) else {
            break;
        };
        if u64::from_le_bytes(w) & HIGH_BITS != 0 {
            break;
        }
        for b in w {
            let t = ASCII_MAP[usize::from(b)];
            out[n & (BLOCK - 1)] = t;
            n += usize::from(t != 0);
        }
        i += 8;
    }
    for &b in &bytes[i..] {
        if b >= 0x80 {
            break;
        }
        let t = ASCII_MAP[usize::from(b)];
        out[n & (BLOCK - 1)] = t;
        n += usize::from(t != 0);
        i += 1;
    }
    (i, n)
}

/// [`map_ascii`] that also records, for each produced byte, `at` plus the
/// index of its source byte (saturating at `u32::MAX`); 64 bytes a step
/// first where the CPU can ([`wide`]), as there.
#[inline(always)]
fn map_ascii_offsets(
    bytes: &[u8],
    at: u32,
    out: &mut [u8; BLOCK],
    out_off: &mut [u32; BLOCK],
) -> (usize, usize) {
    let bytes = &bytes[..bytes.len().min(BLOCK)];
    #[cfg(target_arch = "x86_64")]
    let (i, n) = wide::map_ascii_offsets(bytes, at, out, out_off);
    #[cfg(not(target_arch = "x86_64"))]
    let (i, n) = (0, 0);
    map_ascii_offsets_from(bytes, at, (out, out_off), i, n)
}

/// The scalar loop of [`map_ascii_offsets`], from byte `i` of `bytes` (at
/// most [`BLOCK`]) with `n` bytes already produced.
#[inline(always)]
fn map_ascii_offsets_from(
    bytes: &[u8],
    at: u32,
    (out, out_off): (&mut [u8; BLOCK], &mut [u32; BLOCK]),
    mut i: usize,
    mut n: usize,
) -> (usize, usize) {
    for word in bytes[i..].chunks_exact(8) {
        let Ok(w) = <[u8; 8]>::try_from(word) else {
            break;
        };
        if u64::from_le_bytes(w) & HIGH_BITS != 0 {
            break;
        }
        for (j, b) in w.into_iter().enumerate() {
            let t = ASCII_MAP[usize::from(b)];
            out[n & (BLOCK - 1)] = t;
            out_off[n & (BLOCK - 1)] = at.saturating_add((i + j) as u32);
            n += usize::from(t != 0);
        }
        i += 8;
    }
    for &b in &bytes[i..] {
        if b >= 0x80 {
            break;
        }
        let t = ASCII_MAP[usize::from(b)];
        out[n & (BLOCK - 1)] = t;
        out_off[n & (BLOCK - 1)] = at.saturating_add(i as u32);
        n += usize::from(t != 0);
        i += 1;
    }
    (i, n)
}

/// Appends the normalized form of one char to `out` (zero or more
/// alphanumeric chars). This is the general path, without table or cache:
/// the oracle the fast paths are tested against.
pub fn normalize_char(c: char, out: &mut String) {
    for_each_normalized(c, |n| out.push(n));
}

/// Bytes of ASCII input handled per inner loop (stack buffer size). A power
/// of two: the loops index the buffers with `n & (BLOCK - 1)`, which equals
/// `n` (`n` < `BLOCK` bytes are produced from fewer consumed) and spares a
/// bounds check per byte.
const BLOCK: usize = 1024;

/// The general per-char map (see the module docs): [`one_pass`] applied
/// until its output no longer changes, so that every output char is a fixed
/// point of the map (prototypes can themselves have a compatibility
/// decomposition or a prototype: `%` -> `°/₀`, `₀` -> `0` -> `o`). Calls
/// `emit` for each output char.
fn for_each_normalized(c: char, mut emit: impl FnMut(char)) {
    let mut cur: Vec<char> = Vec::new();
    one_pass(c, &mut |o| cur.push(o));
    // Chains are short (measured: at most 3 passes over all of Unicode);
    // the bound only guards against a table cycle.
    for _ in 0..8 {
        let mut next: Vec<char> = Vec::with_capacity(cur.len());
        for &o in &cur {
            one_pass(o, &mut |n| next.push(n));
        }
        if next == cur {
            break;
        }
        cur = next;
    }
    cur.into_iter().for_each(&mut emit);
}

/// One pass of the map: NFKD, drop `Mn` and default-ignorable code points,
/// lowercase, fold, replace by the UTS #39 confusable prototype, then drop
/// marks, lowercase and fold the prototype, and keep alphanumerics.
fn one_pass(c: char, emit: &mut impl FnMut(char)) {
    decompose_compatible(c, |d| {
        if is_dropped(d) {
            return;
        }
        // A letter whose capital has a Latin capital as its prototype
        // takes that one, in either case: Greek `Ε` and `ε` both become `e`
        // (UTS #39 maps `Ε` to `E` but `ε` to `ꞓ`), `Β` and `β` both `b`
        // (`β` alone would be `ß`). Lowercasing first would leave a capital
        // look-alike unfolded, prototyping the char as written would make
        // `ΕΛΛΑΔΑ` and `ελλαδα` differ.
        if let Some(latin) = latin_capital_prototype(d).filter(|_| !own_latin_letter(d)) {
            latin.chars().for_each(|p| lower_fold_prototype(p, emit));
        } else {
            lower_fold_prototype(d, emit);
        }
    });
}

/// A small letter whose own UTS #39 prototype is one Latin letter keeps it
/// rather than take its capital's: Greek `ν` looks like `v` (its capital
/// `Ν` like `N`), `η` like `n`, `υ` like `u`, and the small forms are what a
/// filter-dodger swaps into Latin text (`giνen`, `nοt aνailable`: two
/// quotes of the fresh multilingual set were lost at the length threshold
/// while `ν` folded to `n`).
fn own_latin_letter(d: char) -> bool {
    if !d.is_lowercase() {
        return false;
    }
    let mut buf = [0u8; 4];
    let mut p = skeleton(d.encode_utf8(&mut buf)).filter(|&p| !is_dropped(p));
    matches!((p.next(), p.next()), (Some(l), None) if l.is_ascii_alphabetic())
}

/// The prototype of a non-ASCII letter's capital when it is plain ASCII
/// letters and digits (after dropping marks): `Е` -> `E`, `ε` -> `E`.
fn latin_capital_prototype(d: char) -> Option<String> {
    if d.is_ascii() || !d.is_alphabetic() || is_cjk(d) {
        return None;
    }
    let mut up = d.to_uppercase();
    let (Some(u), None) = (up.next(), up.next()) else {
        return None;
    };
    let mut buf = [0u8; 4];
    let p: String = skeleton(u.encode_utf8(&mut buf))
        .filter(|&p| !is_dropped(p))
        .collect();
    (!p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric())).then_some(p)
}

/// Steps 3 and 4 of the map for one decomposed char: lowercase, fold, the
/// confusable prototype, then lowercase and fold the prototype.
fn lower_fold_prototype(d: char, emit: &mut impl FnMut(char)) {
    for l in d.to_lowercase() {
        folded(l, &mut |f| {
            // Only letters and digits take their prototype: symbols drop
            // out anyway, and some have letters in theirs (`%` -> `°/₀`).
            if !f.is_alphanumeric() {
                return;
            }
            prototype(f, &mut |p| {
                for l2 in p.to_lowercase() {
                    folded(l2, &mut |g| {
                        if g.is_alphanumeric() {
                            emit(g);
                        }
                    });
                }
            });
        });
    }
}

/// The UTS #39 confusable prototype of a letter or digit, without the marks
/// it decomposes into (the prototype is NFD, maybe capitals: `О` -> `O`);
/// the char itself where it has none.
///
/// Two exceptions keep text intact. Chars of the CJK scripts (Han, kana,
/// Hangul, Bopomofo) keep their own form: their prototypes are look-alikes
/// of strokes, not letters that a filter-dodger swaps in (`く` -> `<`,
/// `井` -> `#`, `今` -> `ᄉーᄀ`, `合` -> `ᄉーᄆ`, `正` -> a counting-rod
/// numeral), and following them drops or scrambles common words. And a
/// letter whose prototype has no letter or digit (a click letter `ǀ` ->
/// `|`) is kept as it is rather than dropped.
fn prototype(c: char, emit: &mut impl FnMut(char)) {
    if is_cjk(c) {
        emit(simplified(c));
        return;
    }
    let mut buf = [0u8; 4];
    let mut proto = [char::default(); 8];
    let mut n = 0;
    for p in skeleton(c.encode_utf8(&mut buf)) {
        if is_dropped(p) {
            continue;
        }
        if n == proto.len() {
            // No prototype is this long; keep the char rather than cut it.
            emit(c);
            return;
        }
        proto[n] = p;
        n += 1;
    }
    if proto[..n].iter().any(|p| p.is_alphanumeric()) {
        proto[..n].iter().for_each(|&p| emit(p));
    } else {
        emit(c);
    }
}

/// The Simplified Chinese form of a Traditional character (OpenCC's
/// character table, see [`zh_fold`]); any other char as it is. The same
/// document is often published in both forms, and a post quotes it in the
/// poster's own: measured on the multilingual corpus, quotes converted to
/// the other form (OpenCC `t2s`/`s2t`) were found 18 of 18 times with the
/// fold and 3 of 18 without, same-form quotes 18 of 18 either way, and
/// Chinese negatives with a match went from 13 to 8 of 336 (boilerplate in
/// both forms now counts as one).
fn simplified(c: char) -> char {
    match zh_fold::TS.binary_search_by_key(&c, |&(t, _)| t) {
        Ok(i) => zh_fold::TS[i].1,
        Err(_) => c,
    }
}

/// Han ideographs, kana, Hangul (syllables and jamo), Bopomofo and the CJK
/// radicals and symbols.
fn is_cjk(c: char) -> bool {
    is_han(c)
        || matches!(
            c,
            '\u{1100}'..='\u{11FF}'
                | '\u{3000}'..='\u{303F}'
                | '\u{3040}'..='\u{31FF}'
                | '\u{A960}'..='\u{A97F}'
                | '\u{AC00}'..='\u{D7FF}'
                | '\u{FF65}'..='\u{FFDC}'
        )
}

/// Whether a decomposed char is dropped: a nonspacing mark (`Mn`) or a
/// default-ignorable code point (zero-width space and joiners, soft hyphen,
/// BOM, bidi controls, variation selectors, Hangul fillers, ...).
fn is_dropped(d: char) -> bool {
    get_general_category(d) == GeneralCategory::NonspacingMark || is_default_ignorable(d)
}

/// Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt), the
/// ranges that are not already nonspacing marks or non-alphanumeric (those
/// are dropped anyway): listed in full so the set does not depend on a
/// crate's private table.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The fold table applied to one lowercased char: `ß` becomes `ss`, the
/// others map one to one through [`fold`].
fn folded(l: char, emit: &mut impl FnMut(char)) {
    if l == 'ß' {
        emit('s');
        emit('s');
    } else {
        emit(fold(l));
    }
}

/// The single-char part of the fold table (after lowercasing): the OCR
/// folds, final sigma, and the Latin small capitals (the confusable
/// prototypes of Cyrillic `в т н к м`, ...) to the lowercase letter they
/// stand for, so that a capital look-alike (`В` for `B`) folds like its
/// Latin twin once both are lowercased. The result may be folded again
/// (`ʙ` -> `b` -> `h`): [`for_each_normalized`] iterates to a fixed point.
fn fold(c: char) -> char {
    match c {
        '|' | '1' | 'i' | 'ı' => 'l',
        '0' => 'o',
        'f' => 't',
        'b' => 'h',
        'm' => 'n',
        'ς' => 'σ',
        'ᴀ' => 'a',
        'ʙ' => 'b',
        'ᴄ' => 'c',
        'ᴅ' => 'd',
        'ᴇ' => 'e',
        'ꜰ' => 'f',
        'ɢ' => 'g',
        'ʜ' => 'h',
        'ɪ' => 'i',
        'ᴊ' => 'j',
        'ᴋ' | 'ĸ' => 'k',
        'ʟ' => 'l',
        'ᴍ' | 'ʍ' => 'm',
        'ɴ' => 'n',
        'ᴏ' => 'o',
        'ᴘ' => 'p',
        'ꞯ' => 'q',
        'ʀ' => 'r',
        'ꜱ' => 's',
        'ᴛ' => 't',
        'ᴜ' => 'u',
        'ᴠ' => 'v',
        'ᴡ' => 'w',
        'ʏ' => 'y',
        'ᴢ' => 'z',
        other => other,
    }
}

/// Output byte for each ASCII byte, 0 for "drops out". ASCII chars have no
/// decomposition and no nonspacing marks, so this is lowercase + fold +
/// alphanumeric filter (checked against [`normalize_char`] by a test).
const ASCII_MAP: [u8; 128] = ascii_map();

const fn ascii_map() -> [u8; 128] {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let l = (b as u8).to_ascii_lowercase();
        t[b] = match l {
            b'|' | b'1' | b'i' => b'l',
            b'0' => b'o',
            b'f' => b't',
            b'b' => b'h',
            b'm' => b'n',
            b'a'..=b'z' | b'2'..=b'9' => l,
            _ => 0,
        };
        b += 1;
    }
    t
}

/// Appends ASCII bytes produced by [`ASCII_MAP`].
#[inline]
fn push_ascii(text: &mut String, bytes: &[u8]) {
    // ASCII_MAP only produces ASCII bytes, so this never fails; the check is
    // a word-at-a-time ASCII scan, cheap next to the rest.
    if let Ok(s) = std::str::from_utf8(bytes) {
        text.push_str(s);
    } else {
        debug_assert!(false, "ASCII_MAP produced a non-ASCII byte");
    }
}

/// Chars below this code point have their normalized form memoized in
/// [`MEMO`]: the Basic Multilingual Plane and the two ideographic
/// supplementary planes, everything a text in any living script uses. A
/// per-thread direct-mapped cache of 1,024 slots did this before; Chinese
/// and Japanese text with thousands of distinct chars missed it so often
/// that `char::is_alphabetic`'s table search took 32% of the time of the
/// multilingual evaluation (perf, `examples/quality` on `corpus/ml`).
const MEMO_CHARS: usize = 0x3_0000;

/// Bits of one char in a [`MEMO`] entry (every code point fits in 21).
const MEMO_CHAR_BITS: u32 = 21;
/// Set in an entry once it is filled.
const MEMO_FILLED: u64 = 1 << 63;
/// First char field of a filled entry whose char normalizes to more than
/// three chars (not memoized: computed each time; none in the memoized
/// planes is that long today).
const MEMO_LONG: u64 = (1 << MEMO_CHAR_BITS) - 1;

/// The normalized form of each char below [`MEMO_CHARS`], filled on first
/// use: 0 while unknown, else [`MEMO_FILLED`] and up to three chars of 21
/// bits (0 is no char: NUL is never an output). Shared by all threads; two
/// threads filling one entry at once store the same value, so relaxed
/// ordering is enough. 1.5 MiB.
static MEMO: std::sync::OnceLock<Box<[AtomicU64]>> = std::sync::OnceLock::new();

fn memo() -> &'static [AtomicU64] {
    MEMO.get_or_init(|| (0..MEMO_CHARS).map(|_| AtomicU64::new(0)).collect())
}

/// Appends the normalized form of non-ASCII `c` to `text`, through [`MEMO`].
fn append_normalized(memo: &[AtomicU64], c: char, text: &mut String) {
    let Some(entry) = memo.get(c as usize) else {
        normalize_char(c, text);
        return;
    };
    let mut v = entry.load(Ordering::Relaxed);
    if v == 0 {
        let mut fields = [0u64; 3];
        let mut n = 0;
        for_each_normalized(c, |o| {
            if let Some(f) = fields.get_mut(n) {
                *f = u64::from(o);
            }
            n += 1;
        });
        v = if n > fields.len() {
            MEMO_FILLED | MEMO_LONG
        } else {
            MEMO_FILLED
                | fields[0]
                | fields[1] << MEMO_CHAR_BITS
                | fields[2] << (2 * MEMO_CHAR_BITS)
        };
        entry.store(v, Ordering::Relaxed);
    }
    let mask = MEMO_LONG;
    if v & mask == MEMO_LONG {
        normalize_char(c, text);
        return;
    }
    for i in 0..3 {
        let f = (v >> (i * MEMO_CHAR_BITS)) & mask;
        match char::from_u32(f as u32) {
            Some(o) if f != 0 => text.push(o),
            _ => break,
        }
    }
}

/// ASCII bytes in a row that end a [`slow_run`] (back to the word-at-a-time
/// path): short ASCII gaps between non-ASCII words (spaces, punctuation)
/// stay in the slow loop instead of paying a switch each.
const ASCII_RESUME: usize = 8;

/// Normalizes chars from byte `i` of `src` (a char boundary, normally at a
/// non-ASCII char) through [`MEMO`], until [`ASCII_RESUME`] ASCII
/// bytes in a row, the end, or `text` holding `until` bytes. Calls
/// `added(offset, bytes)` after each
/// char with its source offset and the number of bytes it appended.
/// Returns the byte index where it stopped (> `i` unless `i` is the end or
/// `text` already held `until` bytes).
fn slow_run(
    src: &str,
    i: usize,
    text: &mut String,
    until: usize,
    mut added: impl FnMut(usize, usize),
) -> usize {
    let bytes = src.as_bytes();
    let memo = memo();
    let Some(rest) = src.get(i..) else {
        return i;
    };
    // One decoding pass over the rest (positions from `char_indices`).
    for (at, c) in rest.char_indices() {
        if text.len() >= until {
            return i + at;
        }
        let here = i + at;
        let before = text.len();
        if c.is_ascii() {
            // Back to the fast path at ASCII_RESUME ASCII bytes in a
            // row, or an all-ASCII tail.
            let end = bytes.len().min(here + ASCII_RESUME);
            if bytes[here..end].is_ascii() {
                return here;
            }
            let t = ASCII_MAP[(u32::from(c) & 0x7f) as usize];
            if t != 0 {
                text.push(char::from(t));
            }
        } else {
            append_normalized(memo, c, text);
        }
        added(here, text.len() - before);
    }
    src.len()
}

#[cfg(test)]
mod tests;
