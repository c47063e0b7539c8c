//! Streaming extraction: files larger than the text limit, read a piece at
//! a time and never held whole.
//!
//! Two formats can be read this way, because their pieces stand alone:
//!
//! - **mbox**: [`MboxReader`] yields one message at a time, split by exactly
//!   the rules of the in-memory reader (`mail::split_mbox`: a line starting
//!   `From ` at the start of the file, after an empty line, or followed by a
//!   header field line); [`extract_message`] extracts it like a `.eml`, with
//!   `>From ` unescaped, and names it by its number from 1, as the in-memory
//!   reader does (`box.mbox#N`). Only the current message, the current line
//!   and one line of look-ahead are held, each at most `cap` bytes: a longer
//!   message is skipped with a reason (its bytes still count in the file's
//!   blake3 and chunks), a longer line only makes its message too long.
//! - **plain text**: [`TextWindows`] decodes the file (its encoding judged on
//!   its head, as `decode_text` judges a whole file) and cuts the text into
//!   windows of `window` bytes, each starting `window - overlap` bytes after
//!   the previous one (at char boundaries), named `window N` from 1. A quote
//!   of at most `overlap` bytes lies whole inside one window wherever it
//!   falls; a longer one is found in pieces, one per window.
//!
//! Archives (ZIP, tar, `.tar.gz`) are read member by member by
//! [`super::stream_archive`], each large member through the readers here.
//! Every other format (a single message, HTML, PDF, Office files, PST)
//! needs the whole file in memory and is refused by [`classify`] with its
//! name, which the builder turns into a reason.
//!
//! Limits: [`extract_message`] applies the [`ExtractLimits`] to each message
//! on its own (parts, expansion), where the in-memory reader applies the
//! expansion limit to the whole mailbox: so the two paths give the same
//! parts unless a mailbox of many messages exhausts `max_expanded`.

use std::io::{self, BufRead, Read};

use encoding_rs::Encoding;

use super::detect::{self, Kind};
use super::sink::Sink;
use super::{floor_char_boundary, mail, ExtractLimits, Extracted, Format};

/// Bytes of a file's head used to judge its format and encoding.
pub(crate) const HEAD: usize = 64 << 10;
/// Default size of a text window (bytes of decoded text).
pub(crate) const TEXT_WINDOW: usize = 4 << 20;
/// Default overlap of consecutive text windows.
pub(crate) const WINDOW_OVERLAP: usize = 64 << 10;

/// How a file too large to hold can be read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Streamable {
    /// An mbox, message by message.
    Mbox,
    /// Plain text in this encoding, after a byte-order mark of `bom` bytes.
    Text {
        /// The encoding the head was judged to be in.
        encoding: &'static Encoding,
        /// Length of the byte-order mark to skip.
        bom: usize,
    },
}

/// Why a file cannot be streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotStreamable {
    /// No text in it at all (binary by its head).
    Binary,
    /// A format read whole; its name for the reason.
    Whole(&'static str),
}

/// Judge a large file by its head (its first [`HEAD`] bytes).
pub(crate) fn classify(head: &[u8], name_hint: &str) -> Result<Streamable, NotStreamable> {
    match detect::detect(head, name_hint) {
        Kind::Mbox => Ok(Streamable::Mbox),
        Kind::Text => match super::text::head_encoding(head) {
            Some((encoding, bom)) => Ok(Streamable::Text { encoding, bom }),
            None => Err(NotStreamable::Binary),
        },
        Kind::Binary => Err(NotStreamable::Binary),
        Kind::Mail => Err(NotStreamable::Whole("a single mail message")),
        Kind::Html => Err(NotStreamable::Whole("an HTML page")),
        Kind::Pdf => Err(NotStreamable::Whole("a PDF")),
        Kind::Zip => Err(NotStreamable::Whole("a ZIP archive (or Office file)")),
        Kind::Gzip => Err(NotStreamable::Whole("a gzip stream")),
        Kind::Tar => Err(NotStreamable::Whole("a tar archive")),
        Kind::Ole => Err(NotStreamable::Whole(
            "an OLE2 file (.doc, .xls, .ppt, .msg)",
        )),
        Kind::Pst => Err(NotStreamable::Whole("an Outlook mail store")),
    }
}

/// Extract message number `number` (from 1) of an mbox from its bytes
/// (without its `From ` line), as the in-memory mbox reader does: the
/// parts are named `N`, `N#attachment:...`. `depth` is the message's
/// nesting: 1 in a mailbox file, 2 in a mailbox inside an archive.
pub(crate) fn extract_message(
    bytes: &[u8],
    number: usize,
    depth: usize,
    limits: &ExtractLimits,
) -> Extracted {
    let mut sink = Sink::new(limits);
    let name = number.to_string();
    if limits.max_depth < depth {
        sink.skip(
            &name,
            format!("nested deeper than max_depth = {}", limits.max_depth),
        );
        return sink.finish(Format::Mail);
    }
    let msg = mail::unescape_from(bytes);
    mail::extract_mail(&mut sink, &msg, &name, depth);
    sink.finish(Format::Mail)
}

/// Read one line (through its `\n`) into `buf`, keeping at most `keep`
/// bytes of it; returns its full length (0 at the end of the input).
fn read_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, keep: usize) -> io::Result<u64> {
    buf.clear();
    let mut total = 0u64;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(total);
        }
        let (n, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        let room = keep.saturating_sub(buf.len());
        buf.extend_from_slice(&avail[..n.min(room)]);
        r.consume(n);
        total += n as u64;
        if done {
            return Ok(total);
        }
    }
}

/// One message of a streamed mbox.
#[derive(Debug)]
pub(crate) struct RawMessage {
    /// Its number, from 1.
    pub(crate) number: usize,
    /// Its bytes without the `From ` line; `None` when longer than the cap.
    pub(crate) bytes: Option<Vec<u8>>,
    /// Its length in bytes.
    pub(crate) len: u64,
}

/// Splits an mbox read from `r` into messages, holding one at a time.
pub(crate) struct MboxReader<R> {
    r: R,
    cap: usize,
    line: Vec<u8>,
    next: Vec<u8>,
    next_len: Option<u64>,
    prev_blank: bool,
    /// The message being read: (number, bytes, length, too long).
    open: Option<(usize, Vec<u8>, u64, bool)>,
    count: usize,
}

impl<R: BufRead> MboxReader<R> {
    /// A reader keeping at most `cap` bytes of one message.
    pub(crate) fn new(r: R, cap: usize) -> MboxReader<R> {
        // A field name is at most 76 bytes: the look-ahead needs 78.
        let cap = cap.max(128);
        MboxReader {
            r,
            cap,
            line: Vec::new(),
            next: Vec::new(),
            next_len: None,
            prev_blank: true,
            open: None,
            count: 0,
        }
    }

    fn close(&mut self) -> Option<RawMessage> {
        self.open
            .take()
            .map(|(number, bytes, len, long)| RawMessage {
                number,
                bytes: (!long).then_some(bytes),
                len,
            })
    }

    /// The next message, or `None` at the end of the input.
    ///
    /// # Errors
    /// Read errors of the input.
    pub(crate) fn next_message(&mut self) -> io::Result<Option<RawMessage>> {
        loop {
            let len = match self.next_len.take() {
                Some(n) => {
                    std::mem::swap(&mut self.line, &mut self.next);
                    n
                }
                None => read_line(&mut self.r, &mut self.line, self.cap)?,
            };
            if len == 0 {
                return Ok(self.close());
            }
            let is_sep = self.line.starts_with(b"From ")
                && (self.prev_blank || {
                    let n = read_line(&mut self.r, &mut self.next, self.cap)?;
                    self.next_len = Some(n);
                    let next = self.next.strip_suffix(b"\n").unwrap_or(&self.next);
                    n > 0 && detect::field_name(next).is_some()
                });
            let trimmed = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
            self.prev_blank = len <= 2 && trimmed.strip_suffix(b"\r").unwrap_or(trimmed).is_empty();
            if is_sep {
                let done = self.close();
                self.count += 1;
                self.open = Some((self.count, Vec::new(), 0, false));
                if done.is_some() {
                    return Ok(done);
                }
            } else if let Some((_, bytes, total, long)) = &mut self.open {
                *total += len;
                if !*long {
                    if *total > self.cap as u64 {
                        *long = true;
                        *bytes = Vec::new();
                    } else {
                        bytes.extend_from_slice(&self.line);
                    }
                }
            }
        }
    }
}

/// One window of a streamed text file.
#[derive(Debug)]
pub(crate) struct TextWindow {
    /// Its number, from 1.
    pub(crate) number: usize,
    /// Byte offset of its start in the whole decoded text (for tests and
    /// debugging: a window's part name and text say all the index keeps).
    #[allow(dead_code)]
    pub(crate) start: u64,
    /// Its text.
    pub(crate) text: String,
}

/// Decodes a text file read from `r` and cuts it into overlapping windows.
pub(crate) struct TextWindows<R> {
    r: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    /// Decoded text not yet dropped; starts at `start` in the whole text.
    buf: String,
    start: u64,
    /// Bytes of `buf` already in an emitted window.
    emitted: usize,
    window: usize,
    overlap: usize,
    number: usize,
    skip_bom: usize,
    eof: bool,
}

impl<R: Read> TextWindows<R> {
    /// Windows of `window` bytes overlapping by `overlap` (clamped to a
    /// quarter of the window) of text in `encoding` after a `bom`.
    pub(crate) fn new(
        r: R,
        encoding: &'static Encoding,
        bom: usize,
        window: usize,
        overlap: usize,
    ) -> TextWindows<R> {
        let window = window.max(64);
        TextWindows {
            r,
            decoder: encoding.new_decoder_without_bom_handling(),
            raw: vec![0; 64 << 10],
            buf: String::new(),
            start: 0,
            emitted: 0,
            window,
            overlap: overlap.min(window / 4),
            number: 0,
            skip_bom: bom,
            eof: false,
        }
    }

    fn emit(&mut self, end: usize) -> TextWindow {
        self.number += 1;
        let w = TextWindow {
            number: self.number,
            start: self.start,
            text: self.buf[..end].to_owned(),
        };
        // The next window starts `overlap` bytes before this one's end; a
        // window is at least 4 times the overlap, so this moves forward.
        let from = floor_char_boundary(&self.buf, end - self.overlap.min(end));
        let from = if from == 0 { end } else { from };
        self.buf.drain(..from);
        self.start += from as u64;
        self.emitted = end - from;
        w
    }

    /// The next window, or `None` at the end.
    ///
    /// # Errors
    /// Read errors of the input.
    pub(crate) fn next_window(&mut self) -> io::Result<Option<TextWindow>> {
        loop {
            if self.buf.len() >= self.window {
                let mut end = floor_char_boundary(&self.buf, self.window);
                if end == 0 {
                    end = self.buf.len();
                }
                return Ok(Some(self.emit(end)));
            }
            if self.eof {
                if self.buf.len() > self.emitted || self.number == 0 {
                    let end = self.buf.len();
                    let w = self.emit(end);
                    self.buf.clear();
                    self.emitted = 0;
                    return Ok(Some(w));
                }
                return Ok(None);
            }
            let n = match self.r.read(&mut self.raw) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let mut input = &self.raw[..n];
            if self.skip_bom > 0 {
                let k = self.skip_bom.min(input.len());
                input = &input[k..];
                self.skip_bom -= k;
            }
            let last = n == 0;
            self.eof = last;
            let need = self
                .decoder
                .max_utf8_buffer_length(input.len())
                .unwrap_or(input.len() * 3 + 16);
            self.buf.reserve(need);
            let (_, _, _) = self.decoder.decode_to_string(input, &mut self.buf, last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives one byte per read: the streamed result must not
    /// depend on how the input is split.
    struct OneByte<'a>(&'a [u8]);
    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    fn messages<R: BufRead>(r: R, cap: usize) -> Vec<RawMessage> {
        let mut m = MboxReader::new(r, cap);
        let mut out = Vec::new();
        while let Some(x) = m.next_message().unwrap() {
            out.push(x);
        }
        out
    }

    /// Oracle: the in-memory splitter, on any mix of lines that make
    /// separators or not, read whole and one byte at a time.
    #[test]
    fn mbox_reader_splits_as_the_in_memory_splitter() {
        use proptest::prelude::*;
        let line = prop_oneof![
            Just("From a@b Mon Jan 1 2001\n".to_string()),
            Just("From \n".to_string()),
            Just("From the start\n".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("Subject: x\n".to_string()),
            Just(">From here\n".to_string()),
            "[a-z :]{0,12}\n",
            "[a-z ]{0,5}",
        ];
        let mut runner =
            proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(256));
        runner
            .run(&proptest::collection::vec(line, 0..24), |lines| {
                let mbox: String = lines.concat();
                let bytes = mbox.as_bytes();
                let want: Vec<&[u8]> = mail::split_mbox(bytes)
                    .into_iter()
                    .map(|(s, e)| &bytes[s..e])
                    .collect();
                for got in [
                    messages(bytes, 1 << 20),
                    messages(io::BufReader::with_capacity(1, OneByte(bytes)), 1 << 20),
                ] {
                    prop_assert_eq!(got.len(), want.len());
                    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                        prop_assert_eq!(g.number, i + 1);
                        prop_assert_eq!(g.bytes.as_deref(), Some(*w));
                        prop_assert_eq!(g.len, w.len() as u64);
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_message_over_the_cap_is_skipped_not_held() {
        let long = "x".repeat(5000);
        let mbox = format!(
            "From a@b Mon\nSubject: one\n\n{long}\n\nFrom a@b Tue\nSubject: two\n\nshort\n"
        );
        let got = messages(mbox.as_bytes(), 1000);
        assert_eq!(got.len(), 2);
        assert!(got[0].bytes.is_none());
        assert_eq!(got[0].len, (mbox.find("From a@b Tue").unwrap() - 13) as u64);
        assert_eq!(
            got[1].bytes.as_deref(),
            Some(&b"Subject: two\n\nshort\n"[..])
        );
    }

    fn windows<R: Read>(r: R, enc: &'static Encoding, window: usize, ov: usize) -> Vec<TextWindow> {
        let mut t = TextWindows::new(r, enc, 0, window, ov);
        let mut out = Vec::new();
        while let Some(w) = t.next_window().unwrap() {
            out.push(w);
        }
        out
    }

    /// Oracle: every window is the whole decoded text at its offset, the
    /// windows cover it, consecutive ones overlap by about `overlap`.
    #[test]
    fn windows_cover_the_decoded_text_with_overlap() {
        let text: String = (0..3000)
            .map(|i| match i % 7 {
                0 => "é",
                1 => "日本",
                2 => "\n",
                _ => "abc ",
            })
            .collect();
        for (window, ov) in [(100, 25), (257, 10), (1000, 250), (1 << 20, 1000)] {
            for split in [false, true] {
                let ws = if split {
                    windows(OneByte(text.as_bytes()), encoding_rs::UTF_8, window, ov)
                } else {
                    windows(text.as_bytes(), encoding_rs::UTF_8, window, ov)
                };
                let mut covered = 0u64;
                for (i, w) in ws.iter().enumerate() {
                    assert_eq!(w.number, i + 1);
                    let s = w.start as usize;
                    assert_eq!(&text[s..s + w.text.len()], w.text);
                    assert!(w.start <= covered, "gap before window {}", w.number);
                    if i > 0 {
                        assert!(covered - w.start + 4 >= ov as u64, "overlap too short");
                    }
                    assert!(w.text.len() <= window);
                    covered = w.start + w.text.len() as u64;
                }
                assert_eq!(covered, text.len() as u64);
            }
        }
        // Empty input: one empty window, as the in-memory reader gives one
        // empty part.
        let ws = windows(&b""[..], encoding_rs::UTF_8, 100, 10);
        assert_eq!(ws.len(), 1);
        assert!(ws[0].text.is_empty());
    }

    #[test]
    fn windows_decode_legacy_charsets_as_decode_text() {
        let text = "Привет, мир. ".repeat(500);
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
        let whole = super::super::decode_text(&bytes).unwrap();
        let (enc, bom) = super::super::text::head_encoding(&bytes).unwrap();
        assert_eq!(enc, encoding_rs::WINDOWS_1251);
        let mut t = TextWindows::new(OneByte(&bytes), enc, bom, 1 << 20, 100);
        let w = t.next_window().unwrap().unwrap();
        assert_eq!(w.text, whole);
        assert!(t.next_window().unwrap().is_none());
    }
}
