//! Plain text in any common encoding, decoded to UTF-8.
//!
//! Order of decisions, on the bytes alone:
//! 1. a byte-order mark (UTF-8, UTF-16LE, UTF-16BE) decides;
//! 2. UTF-16 without a mark is recognised when one byte of each pair is NUL
//!    in most of the first 4 KiB;
//! 3. other data with NUL bytes, or with many C0 control bytes, is binary;
//! 4. valid UTF-8 is taken as it is;
//! 5. anything else is Windows-1252 (a superset of Latin-1's printable range,
//!    which is what WHATWG browsers do for "latin1" too).

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How many leading bytes the binary sniffer looks at.
const SNIFF: usize = 8192;

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
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(s.to_owned()),
        Err(_) => {
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
            Some(text.into_owned())
        }
    }
}

/// UTF-16 without a BOM: most code units of the head have one NUL byte, on
/// the same side.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096) & !1];
    let pairs = head.len() / 2;
    if pairs < 8 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in head.chunks_exact(2) {
        even += usize::from(pair[0] == 0 && pair[1] != 0);
        odd += usize::from(pair[1] == 0 && pair[0] != 0);
    }
    if odd * 10 >= pairs * 9 {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 9 {
        Some(UTF_16BE)
    } else {
        None
    }
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
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    controls * 10 > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

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
