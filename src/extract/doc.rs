//! Legacy Word (`.doc`, Word 97-2003) text, from the piece table.
//!
//! Implements the text retrieval of [MS-DOC] §2.4.1: the File Information
//! Block (FIB) at the start of the `WordDocument` stream names the table
//! stream (`0Table` or `1Table`, bit `fWhichTblStm`) and the offset of the
//! `Clx` in it (`fcClx`/`lcbClx`, entry 33 of `FibRgFcLcb97`). The `Clx`
//! holds a `PlcPcd`: n + 1 character positions and n piece descriptors,
//! each naming where its characters lie in `WordDocument`, either as
//! UTF-16LE or, when `fCompressed` is set, one byte per character in
//! Windows-1252 (§2.4.1, "FcCompressed"). Every piece is read, so the main
//! text, footnotes, headers, comments, endnotes and text boxes (which
//! follow each other in character-position order) all come out.
//!
//! Word's control characters become text layout: paragraph and cell marks
//! (13, 7) become line ends and tabs, hard line and page breaks (11, 12)
//! line ends; field instructions (between 19 and 20) are dropped and field
//! results (between 20 and 21) kept; object anchors (1, 8) and optional
//! hyphens (31) vanish, non-breaking hyphens (30) become `-`.
//!
//! Invariants: every offset is bounds-checked against its stream; the
//! output holds at most `max_text` bytes (the rest is reported cut);
//! encrypted (`fEncrypted`) and pre-97 files (`nFib` < 101, no piece table)
//! are refused with the reason.

use super::le::{u16_at, u32_at};

/// Why a `.doc` gave no text.
pub(crate) type DocError = String;

/// The name of the table stream this `WordDocument` stream uses.
///
/// # Errors
/// When the FIB is truncated, the file is encrypted or older than Word 97.
pub(crate) fn table_stream_name(word: &[u8]) -> Result<&'static str, DocError> {
    let ident = u16_at(word, 0).ok_or("WordDocument stream shorter than its header")?;
    if ident != 0xA5EC {
        return Err(format!("not a Word binary document (wIdent {ident:#06x})"));
    }
    let nfib = u16_at(word, 2).ok_or("FIB truncated")?;
    if nfib < 101 {
        return Err(format!(
            "Word 6/95 document (nFib {nfib}): no piece table to read"
        ));
    }
    let flags = u16_at(word, 0x0A).ok_or("FIB truncated")?;
    if flags & 0x0100 != 0 {
        return Err("encrypted Word document: needs a password".into());
    }
    Ok(if flags & 0x0200 != 0 {
        "1Table"
    } else {
        "0Table"
    })
}

/// Where `FibRgFcLcb` starts, from the variable-length FIB header.
fn fc_lcb_start(word: &[u8]) -> Option<usize> {
    let csw = u16_at(word, 32)? as usize;
    let at = 34 + csw * 2;
    let cslw = u16_at(word, at)? as usize;
    Some(at + 2 + cslw * 4 + 2)
}

/// The text of a Word document from its `WordDocument` and table streams,
/// cut at `max_text` bytes (the flag says whether it was cut).
///
/// # Errors
/// When the FIB, the `Clx` or the piece table is malformed.
pub(crate) fn doc_text(
    word: &[u8],
    table: &[u8],
    max_text: usize,
) -> Result<(String, bool), DocError> {
    let start = fc_lcb_start(word).ok_or("FIB truncated")?;
    let fc_clx = u32_at(word, start + 33 * 8).ok_or("FIB has no fcClx")? as usize;
    let lcb_clx = u32_at(word, start + 33 * 8 + 4).ok_or("FIB has no lcbClx")? as usize;
    let clx = fc_clx
        .checked_add(lcb_clx)
        .and_then(|end| table.get(fc_clx..end))
        .ok_or("Clx lies outside the table stream")?;
    let plc = piece_table(clx)?;
    let n = (plc.len() - 4) / 12;
    let mut text = Text::new(max_text);
    for i in 0..n {
        let cp0 = u32_at(plc, 4 * i).unwrap_or(0) as usize;
        let cp1 = u32_at(plc, 4 * i + 4).unwrap_or(0) as usize;
        let chars = cp1.saturating_sub(cp0);
        let pcd = 4 * (n + 1) + 8 * i;
        let fc = u32_at(plc, pcd + 2).ok_or("piece descriptor truncated")?;
        let compressed = fc & 0x4000_0000 != 0;
        let fc = (fc & 0x3FFF_FFFF) as usize;
        let (from, len) = if compressed {
            (fc / 2, chars)
        } else {
            (fc, chars.saturating_mul(2))
        };
        let Some(bytes) = from.checked_add(len).and_then(|end| word.get(from..end)) else {
            return Err(format!(
                "piece {i} ({chars} characters at {from}) lies outside the WordDocument stream"
            ));
        };
        if compressed {
            for &b in bytes {
                text.push(cp1252(b));
            }
        } else {
            let units = bytes
                .chunks_exact(2)
                .map(|u| u16::from_le_bytes([u[0], u[1]]));
            for c in char::decode_utf16(units) {
                text.push(c.unwrap_or('\u{FFFD}'));
            }
        }
        if text.full {
            break;
        }
    }
    Ok(text.finish())
}

/// The `PlcPcd` of a `Clx`, after its `Prc` entries ([MS-DOC] §2.9.38).
fn piece_table(clx: &[u8]) -> Result<&[u8], DocError> {
    let mut at = 0usize;
    loop {
        match clx.get(at) {
            Some(0x01) => {
                let cb = u16_at(clx, at + 1).ok_or("Clx truncated in a Prc")? as usize;
                at += 3 + cb;
            }
            Some(0x02) => {
                let lcb = u32_at(clx, at + 1).ok_or("Clx truncated in its Pcdt")? as usize;
                let plc = clx
                    .get(at + 5..at + 5 + lcb.min(clx.len()))
                    .filter(|p| p.len() == lcb)
                    .ok_or("piece table longer than its Clx")?;
                if lcb < 4 || !(lcb - 4).is_multiple_of(12) {
                    return Err(format!("piece table of {lcb} bytes is not 4 + 12n"));
                }
                return Ok(plc);
            }
            Some(t) => return Err(format!("unknown Clx entry type {t:#04x}")),
            None => return Err("Clx has no piece table".into()),
        }
    }
}

/// Windows-1252 for one byte (the 8-bit pieces of [MS-DOC] §2.4.1).
fn cp1252(b: u8) -> char {
    let mut out = [0u16; 1];
    let mut dec = encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling();
    let (_, _, written, _) = dec.decode_to_utf16(&[b], &mut out, true);
    if written == 1 {
        char::from_u32(u32::from(out[0])).unwrap_or('\u{FFFD}')
    } else {
        '\u{FFFD}'
    }
}

/// Word's character stream to plain text, with field codes dropped.
struct Text {
    s: String,
    max: usize,
    full: bool,
    /// Depth of field instructions being skipped (19 opens, 20 or 21 ends).
    instr: Vec<bool>,
}

impl Text {
    fn new(max: usize) -> Text {
        Text {
            s: String::new(),
            max,
            full: false,
            instr: Vec::new(),
        }
    }

    fn push(&mut self, c: char) {
        match c {
            '\u{13}' => {
                // Bounded: a field nest deeper than this is malformed.
                if self.instr.len() < 64 {
                    self.instr.push(true);
                }
                return;
            }
            '\u{14}' => {
                if let Some(top) = self.instr.last_mut() {
                    *top = false;
                }
                return;
            }
            '\u{15}' => {
                self.instr.pop();
                return;
            }
            _ => {}
        }
        if self.instr.iter().any(|&i| i) {
            return;
        }
        let out = match c {
            '\r' | '\u{0B}' | '\u{0C}' => '\n',
            '\u{07}' => '\t',
            '\u{1E}' => '-',
            '\u{01}' | '\u{08}' | '\u{1F}' | '\0' => return,
            c => c,
        };
        if self.s.len() + out.len_utf8() > self.max {
            self.full = true;
            return;
        }
        self.s.push(out);
    }

    fn finish(self) -> (String, bool) {
        (self.s, self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal WordDocument + table pair holding `pieces` (text, compressed).
    fn build(pieces: &[(&str, bool)]) -> (Vec<u8>, Vec<u8>) {
        let mut word = vec![0u8; 1024];
        word[0..2].copy_from_slice(&0xA5ECu16.to_le_bytes());
        word[2..4].copy_from_slice(&193u16.to_le_bytes());
        word[0x0A..0x0C].copy_from_slice(&0x0200u16.to_le_bytes());
        word[32..34].copy_from_slice(&14u16.to_le_bytes());
        word[62..64].copy_from_slice(&22u16.to_le_bytes());
        word[152..154].copy_from_slice(&93u16.to_le_bytes());
        let mut cps = vec![0u32];
        let mut pcds = Vec::new();
        for (t, compressed) in pieces {
            let fc = word.len();
            let n = if *compressed {
                let (b, _, _) = encoding_rs::WINDOWS_1252.encode(t);
                word.extend_from_slice(&b);
                pcds.push(((fc * 2) as u32) | 0x4000_0000);
                b.len()
            } else {
                let u: Vec<u16> = t.encode_utf16().collect();
                word.extend(u.iter().flat_map(|x| x.to_le_bytes()));
                pcds.push(fc as u32);
                u.len()
            };
            cps.push(cps.last().unwrap() + n as u32);
        }
        let mut plc = Vec::new();
        for cp in &cps {
            plc.extend_from_slice(&cp.to_le_bytes());
        }
        for fc in &pcds {
            plc.extend_from_slice(&[0, 0]);
            plc.extend_from_slice(&fc.to_le_bytes());
            plc.extend_from_slice(&[0, 0]);
        }
        let mut table = vec![0u8; 16];
        let fc_clx = table.len();
        table.extend_from_slice(&[0x01, 2, 0, 0xAA, 0xBB]);
        table.push(0x02);
        table.extend_from_slice(&(plc.len() as u32).to_le_bytes());
        table.extend_from_slice(&plc);
        let at = 154 + 33 * 8;
        word[at..at + 4].copy_from_slice(&(fc_clx as u32).to_le_bytes());
        word[at + 4..at + 8].copy_from_slice(&((table.len() - fc_clx) as u32).to_le_bytes());
        (word, table)
    }

    #[test]
    fn pieces_compressed_and_unicode() {
        let (w, t) = build(&[
            ("Caf\u{e9} \u{201c}quoted\u{201d}\r", true),
            ("Привет, 世界\r", false),
            ("cell\u{7}next\u{b}line", true),
        ]);
        assert_eq!(table_stream_name(&w).unwrap(), "1Table");
        let (text, cut) = doc_text(&w, &t, 1 << 20).unwrap();
        assert!(!cut);
        assert_eq!(
            text,
            "Caf\u{e9} \u{201c}quoted\u{201d}\nПривет, 世界\ncell\tnext\nline"
        );
    }

    #[test]
    fn field_instructions_are_dropped() {
        let (w, t) = build(&[(
            "See \u{13} HYPERLINK \"http://x\" \u{14}the site\u{15} now",
            true,
        )]);
        assert_eq!(doc_text(&w, &t, 1 << 20).unwrap().0, "See the site now");
    }

    #[test]
    fn cut_at_the_limit() {
        let (w, t) = build(&[("abcdef", true)]);
        assert_eq!(doc_text(&w, &t, 4).unwrap(), ("abcd".to_owned(), true));
    }

    #[test]
    fn truncated_streams_are_errors() {
        let (w, t) = build(&[("abcdef", false)]);
        for cut in [0, 10, 100, 300, w.len() - 3] {
            let _ = table_stream_name(&w[..cut]);
            assert!(doc_text(&w[..cut], &t, 100).is_err(), "{cut}");
        }
        for cut in [0, 16, 20, t.len() - 1] {
            assert!(doc_text(&w, &t[..cut], 100).is_err(), "{cut}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(256))]
        /// Any bytes: an answer or an error, never a panic, never past the cap.
        #[test]
        fn never_panics(word in proptest::collection::vec(proptest::num::u8::ANY, 0..2048),
                        table in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = table_stream_name(&word);
            if let Ok((t, _)) = doc_text(&word, &table, 64) {
                proptest::prop_assert!(t.len() <= 64);
            }
        }
    }
}
