//! Plain text in any common encoding, decoded to UTF-8.
//!
//! Order of decisions, on the bytes alone:
//! 1. a byte-order mark (UTF-8, UTF-16LE, UTF-16BE) decides;
//! 2. UTF-16 without a mark is recognised when one byte of each pair is NUL
//!    in most of the first 4 KiB (Latin text), or when the head holds NUL
//!    bytes mostly on one side of the pairs and decodes as clean UTF-16
//!    (Cyrillic and CJK text, whose NULs are mostly those of its spaces,
//!    digits and line ends);
//! 3. other data with NUL bytes, or with many C0 control bytes, is binary;
//! 4. valid UTF-8 without an escape byte is taken as it is;
//! 5. anything else is decoded in the legacy encoding that `chardetng`
//!    (by encoding_rs's author; the detector of Firefox) guesses from the
//!    first [`DETECT_PREFIX`] bytes: the Windows code pages, ISO-8859-x,
//!    KOI8-U, GBK/GB18030, Big5, Shift_JIS, EUC-JP, ISO-2022-JP, EUC-KR.
//!    Its answer for bytes it cannot place is Windows-1252, as WHATWG
//!    browsers do for "latin1".

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};

/// How many leading bytes the binary sniffer looks at.
const SNIFF: usize = 8192;

/// How many leading bytes of a non-UTF-8 text the charset detector reads:
/// thousands of characters, enough for a confident guess. chardetng reads
/// about 1 MB/s on this project's machine (`examples/extract_speed` on a
/// 900 KB unlabelled GB2312 file: 0.8 MB/s with a 1 MiB prefix, 14 MB/s
/// with 64 KiB), so the prefix is what bounds its cost on big files.
pub const DETECT_PREFIX: usize = 16 << 10;

/// Decode `bytes` as text, or `None` when they look binary.
///
/// Invalid sequences in the chosen encoding become U+FFFD; nothing fails.
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Some(text.into_owned());
    }
    if let Some(enc) = sniff_utf16(bytes) {
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return Some(text.into_owned());
    }
    if looks_binary(bytes) {
        return None;
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        if !bytes.contains(&0x1b) {
            return Some(s.to_owned());
        }
    }
    let (text, _) = detect_legacy(bytes).decode_without_bom_handling(bytes);
    Some(text.into_owned())
}

/// The encoding [`decode_text`] would choose for a file whose first bytes
/// are `head`, with the length of its byte-order mark; `None` when binary.
/// For streaming a file too large to hold: the head is judged as a whole
/// file is, except that a UTF-8 sequence cut at the end of the head counts
/// as valid.
pub(crate) fn head_encoding(head: &[u8]) -> Option<(&'static Encoding, usize)> {
    if let Some((enc, bom_len)) = Encoding::for_bom(head) {
        return Some((enc, bom_len));
    }
    if let Some(enc) = sniff_utf16(head) {
        return Some((enc, 0));
    }
    if looks_binary(head) {
        return None;
    }
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    if utf8 && !head.contains(&0x1b) {
        return Some((encoding_rs::UTF_8, 0));
    }
    Some((detect_legacy(head), 0))
}

/// The legacy encoding of unlabelled bytes, by `chardetng` on their first
/// [`DETECT_PREFIX`] bytes (UTF-8 allowed as an answer).
pub fn detect_legacy(bytes: &[u8]) -> &'static Encoding {
    let head = &bytes[..bytes.len().min(DETECT_PREFIX)];
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    det.feed(head, head.len() == bytes.len());
    det.guess(None, chardetng::Utf8Detection::Allow)
}

/// UTF-16 without a BOM: most code units of the head have one NUL byte, on
/// the same side; or some do, at least two thirds of them on the same side,
/// none is U+0000, and the head decodes without a lone surrogate or a C0
/// control other than whitespace (legacy 8-bit text never holds a NUL
/// byte).
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096) & !1];
    let pairs = head.len() / 2;
    if pairs < 8 {
        return None;
    }
    let (mut even, mut odd, mut both) = (0usize, 0usize, 0usize);
    for pair in head.chunks_exact(2) {
        even += usize::from(pair[0] == 0 && pair[1] != 0);
        odd += usize::from(pair[1] == 0 && pair[0] != 0);
        both += usize::from(pair[0] == 0 && pair[1] == 0);
    }
    if odd * 10 >= pairs * 9 {
        return Some(UTF_16LE);
    }
    if even * 10 >= pairs * 9 {
        return Some(UTF_16BE);
    }
    // CJK and hangul code units have NUL low bytes too (U+4E00, U+AC00):
    // the side of the ASCII units must be the clear majority.
    let enc = if both > 0 {
        return None;
    } else if odd > 0 && odd >= 2 * even {
        UTF_16LE
    } else if even > 0 && even >= 2 * odd {
        UTF_16BE
    } else {
        return None;
    };
    // A cut at the end of the head may split a surrogate pair: drop the
    // last unit from the check.
    let units = head.chunks_exact(2).take(pairs - 1).map(|p| {
        if enc == UTF_16LE {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    let clean = char::decode_utf16(units).all(|c| match c {
        Ok(c) => !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'),
        Err(_) => false,
    });
    clean.then_some(enc)
}

/// Would [`decode_text`] refuse these bytes? (No BOM, not UTF-16, and
/// binary by [`looks_binary`].)
pub(crate) fn looks_binary_head(bytes: &[u8]) -> bool {
    Encoding::for_bom(bytes).is_none() && sniff_utf16(bytes).is_none() && looks_binary(bytes)
}

/// Binary: a NUL in the head, or more than 10% control bytes other than
/// whitespace, form feed and escape.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF)];
    if head.contains(&0) {
        return true;
    }
    controls(head) * 10 > head.len()
}

/// Control bytes of `bytes` other than whitespace, form feed and escape.
/// Counted without a branch a byte, in `u8` sums of 255 bytes at most,
/// which the compiler turns into vector compares and adds (the filtered
/// count it replaces compared two bytes a step: 1.6% of a one-thread
/// build of the real corpus, under `perf`).
fn controls(bytes: &[u8]) -> usize {
    let control = |b: u8| {
        u8::from(
            (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r') & (b != 0x0c) & (b != 0x1b),
        )
    };
    bytes
        .chunks(255)
        .map(|c| usize::from(c.iter().fold(0u8, |n, &b| n + control(b))))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filtered count of control bytes, as `looks_binary` defined it.
    fn naive_controls(b: &[u8]) -> usize {
        b.iter()
            .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
            .count()
    }

    /// Every byte value counts as the filter counts it.
    #[test]
    fn every_byte_value_is_counted_as_the_filter_counts_it() {
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(controls(&all), naive_controls(&all));
        assert_eq!(naive_controls(&all), 27);
    }

    proptest::proptest! {
        /// The branch-free count is the filtered one, across the 255-byte
        /// sums (bytes mostly below 0x28: dense in control bytes).
        #[test]
        fn controls_are_counted_as_the_filter_counts_them(
            bytes in proptest::collection::vec(0u8..0x28, 0..2000),
        ) {
            proptest::prop_assert_eq!(controls(&bytes), naive_controls(&bytes));
        }
    }

    #[test]
    fn utf8_passes_through() {
        assert_eq!(decode_text("héllo".as_bytes()).unwrap(), "héllo");
    }

    #[test]
    fn utf8_bom_is_dropped() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFabc").unwrap(), "abc");
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let s = "Dear Amy, the budget is final.";
        let le: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let mut le_bom = vec![0xFF, 0xFE];
        le_bom.extend_from_slice(&le);
        let mut be_bom = vec![0xFE, 0xFF];
        be_bom.extend_from_slice(&be);
        for bytes in [&le, &be, &le_bom, &be_bom] {
            assert_eq!(decode_text(bytes).unwrap(), s);
        }
    }

    #[test]
    fn cjk_utf16_without_bom() {
        let s =
            "压缩率一般比基于 LZ77/LZ78 的压缩软件好得多，\n其性能接近 PPM 族统计类压缩软件。\n";
        let le: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(decode_text(&le).unwrap(), s);
        assert_eq!(decode_text(&be).unwrap(), s);
    }

    #[test]
    fn windows_1252_fallback() {
        // "café “quoted”" in Windows-1252.
        let bytes = b"caf\xe9 \x93quoted\x94";
        assert_eq!(decode_text(bytes).unwrap(), "café \u{201c}quoted\u{201d}");
    }

    #[test]
    fn binary_is_refused() {
        assert!(decode_text(b"\x7fELF\x02\x01\x01\x00\x00\x00").is_none());
        let controls = vec![1u8; 100];
        assert!(decode_text(&controls).is_none());
    }

    #[test]
    fn empty_is_empty_text() {
        assert_eq!(decode_text(b"").unwrap(), "");
    }
}
