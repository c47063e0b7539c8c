//! Legacy PowerPoint (`.ppt`, 97-2003) text, from the record stream.
//!
//! The `PowerPoint Document` stream is a tree of records ([MS-PPT] §2.3.1):
//! an 8-byte header (`recVer` in the low 4 bits, `recInstance`, `recType`,
//! `recLen`) then the body; a record whose `recVer` is `0xF` is a
//! container whose body is more records. Text lives in `TextCharsAtom`
//! (`0x0FA0`, UTF-16LE), `TextBytesAtom` (`0x0FA8`, the low bytes of UTF-16
//! code units, that is ISO-8859-1) and `CString` atoms (`0x0FBA`, UTF-16LE:
//! slide and notes names, outline and comment text). Because containers
//! hold their children back to back, one flat scan that steps into every
//! container header and over every atom visits each record once, with no
//! recursion: nesting cannot overflow a stack.
//!
//! Order is the stream's: slides, then notes, as PowerPoint writes them;
//! text of the master slides ("Click to edit Master title style") and of
//! earlier saves still in the stream is read too (a leak shows all of it).
//! `\r` ends a paragraph and vertical tab (11) a line.
//!
//! Invariants: every header and body is bounds-checked; the output holds
//! at most `max_text` bytes.

const TEXT_CHARS_ATOM: u16 = 0x0FA0;
const TEXT_BYTES_ATOM: u16 = 0x0FA8;
const CSTRING: u16 = 0x0FBA;

/// The text of a `PowerPoint Document` stream, cut at `max_text` bytes
/// (the flag says whether it was cut), and the number of bytes at its end
/// that did not form a whole record (0 for a sound stream).
pub(crate) fn ppt_text(stream: &[u8], max_text: usize) -> (String, bool, usize) {
    let mut out = String::new();
    let mut at = 0usize;
    while at + 8 <= stream.len() {
        let ver_inst = u16::from_le_bytes([stream[at], stream[at + 1]]);
        let rec_type = u16::from_le_bytes([stream[at + 2], stream[at + 3]]);
        let len = u32::from_le_bytes([
            stream[at + 4],
            stream[at + 5],
            stream[at + 6],
            stream[at + 7],
        ]) as usize;
        let body_at = at + 8;
        if ver_inst & 0xF == 0xF {
            at = body_at;
            continue;
        }
        let Some(body) = body_at
            .checked_add(len)
            .and_then(|end| stream.get(body_at..end))
        else {
            return (out, false, stream.len() - at);
        };
        let text: Option<String> = match rec_type {
            TEXT_CHARS_ATOM | CSTRING => Some(
                char::decode_utf16(
                    body.chunks_exact(2)
                        .map(|u| u16::from_le_bytes([u[0], u[1]])),
                )
                .map(|c| c.unwrap_or('\u{FFFD}'))
                .collect(),
            ),
            TEXT_BYTES_ATOM => Some(body.iter().map(|&b| char::from(b)).collect()),
            _ => None,
        };
        // Programmable tags name themselves in CStrings (`___PPT10`).
        let text = text.filter(|t| !t.starts_with("___PPT"));
        if let Some(t) = text {
            let t = t.replace(['\r', '\u{0B}'], "\n");
            let t = t.trim_end_matches('\n');
            if !t.trim().is_empty() {
                if out.len() + t.len() + 1 > max_text {
                    let room = max_text.saturating_sub(out.len());
                    out.push_str(&t[..super::floor_char_boundary(t, room)]);
                    return (out, true, 0);
                }
                out.push_str(t);
                out.push('\n');
            }
        }
        at = body_at + len;
    }
    (out, false, stream.len() - at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ver: u16, ty: u16, body: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&ver.to_le_bytes());
        r.extend_from_slice(&ty.to_le_bytes());
        r.extend_from_slice(&(body.len() as u32).to_le_bytes());
        r.extend_from_slice(body);
        r
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn atoms_inside_containers() {
        let slide = [
            rec(0, TEXT_CHARS_ATOM, &utf16("Заголовок\rline two")),
            rec(0, 0x0F9F, &[0, 0, 0, 0]),
            rec(0, TEXT_BYTES_ATOM, b"caf\xe9 bytes"),
        ]
        .concat();
        let stream = [
            rec(0xF, 0x03E8, &rec(0xF, 0x03EE, &slide)),
            rec(0, CSTRING, &utf16("notes name")),
        ]
        .concat();
        let (text, cut, rest) = ppt_text(&stream, 1 << 20);
        assert_eq!(text, "Заголовок\nline two\ncafé bytes\nnotes name\n");
        assert!(!cut);
        assert_eq!(rest, 0);
    }

    #[test]
    fn truncated_record_is_reported() {
        let stream = [
            rec(0, TEXT_BYTES_ATOM, b"first"),
            rec(0, TEXT_BYTES_ATOM, b"second"),
        ]
        .concat();
        let (text, _, rest) = ppt_text(&stream[..stream.len() - 2], 1 << 20);
        assert_eq!(text, "first\n");
        assert_eq!(rest, 12);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(256))]
        #[test]
        fn never_panics_and_stays_capped(b in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            let (t, _, rest) = ppt_text(&b, 100);
            proptest::prop_assert!(t.len() <= 100);
            proptest::prop_assert!(rest <= b.len());
        }
    }
}
