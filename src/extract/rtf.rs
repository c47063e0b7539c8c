//! Outlook's compressed RTF bodies, and RTF to text.
//!
//! [`decompress`] implements [MS-OXRTFCP] §2.1.3 (LZFu): a 16-byte header
//! (`COMPSIZE`, `RAWSIZE`, `COMPTYPE`, `CRC`), then runs of a control byte
//! whose bits, low first, say whether the next item is a literal byte or a
//! 2-byte big-endian reference (12-bit offset, 4-bit length + 2) into a
//! 4096-byte ring dictionary that starts with a fixed 207-byte RTF prefix.
//! A reference to the write position ends the stream. `MELA` streams are
//! stored uncompressed. The output is capped; the CRC is not checked (a
//! damaged body still gives its readable head).
//!
//! [`rtf_to_text`] reads RTF 1.9 the way a text extractor needs: groups,
//! control words and symbols, `\'hh` bytes in the document's `\ansicpg`
//! code page (double-byte code pages included), `\uN` with its `\ucN`
//! fallback skipped, paragraph, line, tab and cell marks as layout, and
//! the destinations that hold no body text (font, colour and style tables,
//! document info, pictures, objects, field instructions, `\*` unknowns)
//! skipped. RTF that Outlook made from HTML (`\fromhtml1`) is
//! de-encapsulated per [MS-OXRTFEX]: the `\*\htmltag` groups and the text
//! outside `\htmlrtf` spans are the HTML, reduced to visible text.
//! Nesting is tracked on a heap stack capped at [`MAX_DEPTH`] levels.

use encoding_rs::Encoding;

/// The dictionary's initial content ([MS-OXRTFCP] §2.1.2.1).
const PREBUF: &[u8] = b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

const COMPRESSED: u32 = 0x7546_5A4C;
const UNCOMPRESSED: u32 = 0x414C_454D;

/// Deepest group nesting tracked; deeper groups share the state of this one.
pub(crate) const MAX_DEPTH: usize = 1024;

/// Decompress an Outlook compressed-RTF stream, keeping at most `max` bytes.
///
/// # Errors
/// When the header is truncated or names an unknown compression type.
pub(crate) fn decompress(data: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let word = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(_comp_size), Some(raw_size), Some(comp_type)) = (word(0), word(4), word(8)) else {
        return Err(format!("header truncated ({} bytes)", data.len()));
    };
    let body = &data[16.min(data.len())..];
    match comp_type {
        UNCOMPRESSED => {
            let n = (raw_size as usize).min(body.len()).min(max);
            Ok(body[..n].to_vec())
        }
        COMPRESSED => Ok(lzfu(body, (raw_size as usize).min(max))),
        t => Err(format!("unknown compression type {t:#010x}")),
    }
}

fn lzfu(body: &[u8], max: usize) -> Vec<u8> {
    let mut dict = [0u8; 4096];
    dict[..PREBUF.len()].copy_from_slice(PREBUF);
    let mut wpos = PREBUF.len();
    let mut out = Vec::with_capacity(max.min(body.len() * 4));
    let mut at = 0usize;
    while at < body.len() {
        let control = body[at];
        at += 1;
        for bit in 0..8 {
            if out.len() >= max {
                return out;
            }
            if control & (1 << bit) == 0 {
                let Some(&b) = body.get(at) else {
                    return out;
                };
                at += 1;
                out.push(b);
                dict[wpos] = b;
                wpos = (wpos + 1) % 4096;
            } else {
                let Some(r) = body.get(at..at + 2) else {
                    return out;
                };
                at += 2;
                let r = u16::from_be_bytes([r[0], r[1]]);
                let offset = usize::from(r >> 4);
                let len = usize::from(r & 0xF) + 2;
                if offset == wpos {
                    return out;
                }
                for i in 0..len {
                    let b = dict[(offset + i) % 4096];
                    out.push(b);
                    dict[wpos] = b;
                    wpos = (wpos + 1) % 4096;
                }
            }
        }
    }
    out.truncate(max);
    out
}

/// Destinations whose text is not body text.
const SKIP: &[&[u8]] = &[
    b"fonttbl",
    b"colortbl",
    b"stylesheet",
    b"info",
    b"pict",
    b"object",
    b"fldinst",
    b"listtable",
    b"listoverridetable",
    b"revtbl",
    b"rsidtbl",
    b"generator",
    b"xmlnstbl",
    b"themedata",
    b"colorschememapping",
    b"datastore",
    b"latentstyles",
    b"pgdsctbl",
    b"filetbl",
    b"bkmkstart",
    b"bkmkend",
    b"mmathPr",
    b"nonshppict",
    b"defchp",
    b"defpap",
];

#[derive(Clone, Copy)]
struct Group {
    skip: bool,
    uc: usize,
    htmlrtf: bool,
    htmltag: bool,
}

struct Reader {
    out: String,
    pending: Vec<u8>,
    enc: &'static Encoding,
    html: bool,
}

impl Reader {
    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let (s, _) = self.enc.decode_without_bom_handling(&self.pending);
            self.out.push_str(&s);
            self.pending.clear();
        }
    }

    fn push_str(&mut self, s: &str) {
        self.flush();
        self.out.push_str(s);
    }
}

/// The text of an RTF document (HTML-made RTF reduced to visible text).
pub(crate) fn rtf_to_text(rtf: &[u8]) -> String {
    let mut r = Reader {
        out: String::new(),
        pending: Vec::new(),
        enc: encoding_rs::WINDOWS_1252,
        html: false,
    };
    let mut stack: Vec<Group> = Vec::new();
    let mut overflow = 0usize;
    let mut g = Group {
        skip: false,
        uc: 1,
        htmlrtf: false,
        htmltag: false,
    };
    // Fallback characters still to skip after a \uN.
    let mut to_skip = 0usize;
    let mut i = 0usize;
    // Whether the next control word is the first of its group (`{\*\x`).
    let mut group_start = false;
    let mut starred = false;
    while i < rtf.len() {
        let c = rtf[i];
        let visible = |g: &Group, html: bool| !g.skip && (!html || g.htmltag || !g.htmlrtf);
        match c {
            b'{' => {
                if stack.len() < MAX_DEPTH {
                    stack.push(g);
                } else {
                    overflow += 1;
                }
                group_start = true;
                starred = false;
                i += 1;
                continue;
            }
            b'}' => {
                if overflow > 0 {
                    overflow -= 1;
                } else if let Some(prev) = stack.pop() {
                    if r.html && g.htmltag && !prev.htmltag {
                        r.flush();
                    }
                    g = prev;
                }
                to_skip = 0;
                i += 1;
                continue;
            }
            b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'\\' => {
                let Some(&next) = rtf.get(i + 1) else { break };
                if next.is_ascii_alphabetic() {
                    let start = i + 1;
                    let mut j = start;
                    while j < rtf.len() && rtf[j].is_ascii_alphabetic() && j - start < 32 {
                        j += 1;
                    }
                    let word = &rtf[start..j];
                    let num_start = j;
                    if j < rtf.len() && rtf[j] == b'-' {
                        j += 1;
                    }
                    while j < rtf.len() && rtf[j].is_ascii_digit() && j - num_start < 10 {
                        j += 1;
                    }
                    let param: Option<i64> = std::str::from_utf8(&rtf[num_start..j])
                        .ok()
                        .and_then(|s| s.parse().ok());
                    if j < rtf.len() && rtf[j] == b' ' {
                        j += 1;
                    }
                    i = j;
                    let first = group_start;
                    group_start = false;
                    if to_skip > 0 {
                        to_skip -= 1;
                        continue;
                    }
                    control_word(&mut r, &mut g, word, param, first, starred, &mut to_skip);
                    starred = false;
                    continue;
                }
                i += 2;
                match next {
                    b'*' => {
                        starred = true;
                        continue;
                    }
                    b'\'' => {
                        let hex = rtf.get(i..i + 2).and_then(|h| {
                            std::str::from_utf8(h)
                                .ok()
                                .and_then(|h| u8::from_str_radix(h, 16).ok())
                        });
                        i += 2;
                        group_start = false;
                        if to_skip > 0 {
                            to_skip -= 1;
                            continue;
                        }
                        if let Some(b) = hex {
                            if visible(&g, r.html) {
                                r.pending.push(b);
                            }
                        }
                        continue;
                    }
                    b'\\' | b'{' | b'}' => {
                        group_start = false;
                        if to_skip > 0 {
                            to_skip -= 1;
                        } else if visible(&g, r.html) {
                            r.pending.push(next);
                        }
                        continue;
                    }
                    b'~' | b'_' | b'\r' | b'\n' if visible(&g, r.html) => {
                        r.push_str(match next {
                            b'~' => "\u{a0}",
                            b'_' => "-",
                            _ => "\n",
                        });
                    }
                    _ => {}
                }
                group_start = false;
                continue;
            }
            _ => {
                group_start = false;
                if to_skip > 0 {
                    to_skip -= 1;
                } else if visible(&g, r.html) {
                    r.pending.push(c);
                }
                i += 1;
            }
        }
    }
    r.flush();
    if r.html {
        super::html::html_to_text(&r.out)
    } else {
        r.out
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_owned()
    }
}

fn control_word(
    r: &mut Reader,
    g: &mut Group,
    word: &[u8],
    param: Option<i64>,
    first: bool,
    starred: bool,
    to_skip: &mut usize,
) {
    let visible = !g.skip && (!r.html || g.htmltag || !g.htmlrtf);
    match word {
        b"ansicpg" => {
            if let Some(enc) = param
                .and_then(|p| u16::try_from(p).ok())
                .and_then(codepage::to_encoding)
            {
                r.flush();
                r.enc = enc;
            }
        }
        b"fromhtml" => r.html = param != Some(0),
        b"htmlrtf" => g.htmlrtf = param != Some(0),
        b"htmltag" if first && starred => {
            g.htmltag = true;
            g.skip = false;
        }
        b"uc" => g.uc = param.unwrap_or(1).clamp(0, 16) as usize,
        b"u" => {
            if let Some(p) = param {
                let unit = (p as i16) as u16;
                if visible {
                    r.flush();
                    r.out
                        .push(char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}'));
                }
                *to_skip = g.uc;
            }
        }
        w if visible && layout(w, r.html).is_some() => {
            r.push_str(layout(w, r.html).unwrap_or(""));
        }
        w if first && (starred || SKIP.contains(&w)) => g.skip = true,
        _ => {}
    }
}

/// The text a layout or typography control word stands for.
fn layout(word: &[u8], html: bool) -> Option<&'static str> {
    Some(match word {
        b"par" | b"line" | b"row" | b"sect" | b"page" => {
            if html {
                "\r\n"
            } else {
                "\n"
            }
        }
        b"tab" | b"cell" => "\t",
        b"emdash" => "\u{2014}",
        b"endash" => "\u{2013}",
        b"lquote" => "\u{2018}",
        b"rquote" => "\u{2019}",
        b"ldblquote" => "\u{201c}",
        b"rdblquote" => "\u{201d}",
        b"bullet" => "\u{2022}",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prebuffer_is_207_bytes() {
        assert_eq!(PREBUF.len(), 207);
    }

    /// The `compressed-rtf` crate (Microsoft's outlook-pst-rs, MIT) as the
    /// oracle: what it compresses, we decompress back.
    #[test]
    fn round_trip_with_the_reference_compressor() {
        let cases = [
            "{\\rtf1\\ansi\\ansicpg1252\\pard hello}\r\n".to_owned(),
            "{\\rtf1 ".to_owned() + &"abcabcabc ".repeat(500) + "}",
            String::new(),
        ];
        for rtf in cases {
            let packed = compressed_rtf::compress_rtf(&rtf).unwrap();
            assert_eq!(decompress(&packed, 1 << 20).unwrap(), rtf.as_bytes());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(128))]
        #[test]
        fn round_trip_random(s in "[ -~\r\n]{0,3000}") {
            let packed = compressed_rtf::compress_rtf(&s).unwrap();
            proptest::prop_assert_eq!(decompress(&packed, 1 << 20).unwrap(), s.as_bytes());
        }

        #[test]
        fn hostile_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            if let Ok(out) = decompress(&b, 5000) {
                proptest::prop_assert!(out.len() <= 5000);
            }
            let _ = rtf_to_text(&b);
        }
    }

    #[test]
    fn rtf_text() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}}{\\colortbl;\\red0;}\\pard Caf\\'e9 \\ldblquote hi\\rdblquote\\par Next\\tab x}",
                "Caf\u{e9} \u{201c}hi\u{201d}\nNext\tx",
            ),
            (
                b"{\\rtf1\\ansi\\ansicpg1251\\uc1 \\'cf\\'f0\\'e8 \\u1074?\\u1077?\\'f2}",
                "\u{41f}\u{440}\u{438} \u{432}\u{435}\u{442}",
            ),
            (
                b"{\\rtf1{\\*\\generator Riched20;}{\\*\\unknown hidden}see {\\field{\\*\\fldinst HYPERLINK x}{\\fldrslt the site}} now}",
                "see the site now",
            ),
            (b"{\\rtf1\\ansi\\ansicpg936 \\'d6\\'d0\\'ce\\'c4}", "\u{4e2d}\u{6587}"),
        ];
        for (rtf, want) in cases {
            assert_eq!(rtf_to_text(rtf), *want, "{}", String::from_utf8_lossy(rtf));
        }
    }

    #[test]
    fn html_in_rtf_is_de_encapsulated() {
        let rtf = b"{\\rtf1\\ansi\\fbidis\\ansicpg1252\\deff0\\fromhtml1 {\\fonttbl{\\f0\\fswiss Arial;}}{\\*\\htmltag19 <html>}{\\*\\htmltag34 <head>}{\\*\\htmltag241 <style>p\\{x\\}</style>}\\htmlrtf {\\htmlrtf0 {\\*\\htmltag64 <p>}\\htmlrtf {\\htmlrtf0 The merger closes Friday\\htmlrtf }\\htmlrtf0 {\\*\\htmltag72 </p>}\\htmlrtf }\\htmlrtf0 {\\*\\htmltag27 </html>}}";
        assert_eq!(rtf_to_text(rtf), "The merger closes Friday");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut rtf = b"{\\rtf1 ".to_vec();
        rtf.extend(std::iter::repeat_n(b'{', 100_000));
        rtf.extend_from_slice(b"deep");
        rtf.extend(std::iter::repeat_n(b'}', 100_000));
        rtf.push(b'}');
        assert_eq!(rtf_to_text(&rtf), "deep");
    }
}
