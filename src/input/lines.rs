//! Bounded line reading, and the `lines` format (one query a line).
//!
//! [`BoundedLines`] reads with `read_until` through a `take(limit + 2)`, so a
//! line never buffers more than `limit + 2` bytes (a `\r\n` does not count
//! against the limit); the rest of an overlong
//! line is skipped without buffering and reported once, with its number.

use std::io::{BufRead, Read};

use super::{InputError, InputLimits, Query, QueryId};

/// Reads lines of at most `max` bytes (line break excluded), numbering them
/// from 1. A trailing `\r` is removed with the `\n`.
#[derive(Debug)]
pub(crate) struct BoundedLines<R> {
    inner: R,
    max: usize,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> BoundedLines<R> {
    pub(crate) fn new(inner: R, max: usize) -> Self {
        BoundedLines {
            inner,
            max,
            line: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    /// The next line as `(number, bytes)`, an error naming an overlong line
    /// (the reader goes on after it), or `None` at the end. After an I/O
    /// error the reader ends.
    pub(crate) fn next_line(&mut self) -> Option<Result<(u64, &[u8]), InputError>> {
        match self.fill()? {
            Ok(line) => Some(Ok((line, &self.buf))),
            Err(e) => Some(Err(e)),
        }
    }

    /// [`BoundedLines::next_line`], skipping lines that hold only
    /// whitespace (what the `lines` and `jsonl` formats ignore).
    pub(crate) fn next_nonblank(&mut self) -> Option<Result<(u64, &[u8]), InputError>> {
        loop {
            match self.fill()? {
                Err(e) => return Some(Err(e)),
                Ok(_) if self.buf.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(line) => return Some(Ok((line, &self.buf))),
            }
        }
    }

    /// Read the next line into `buf`; its number, an error, or `None` at the end.
    fn fill(&mut self) -> Option<Result<u64, InputError>> {
        if self.done {
            return None;
        }
        self.buf.clear();
        // Room for the longest line, its "\r\n", and one byte to tell.
        let cap = self.max as u64 + 2;
        let read = self
            .inner
            .by_ref()
            .take(cap)
            .read_until(b'\n', &mut self.buf);
        match read {
            Err(e) => {
                self.done = true;
                return Some(Err(e.into()));
            }
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(_) => {}
        }
        self.line += 1;
        let ended = self.buf.last() == Some(&b'\n');
        let cut = !ended && self.buf.len() as u64 == cap;
        if ended {
            self.buf.pop();
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if cut {
            if let Err(e) = self.inner.skip_until(b'\n') {
                self.done = true;
                return Some(Err(e.into()));
            }
        }
        if cut || self.buf.len() > self.max {
            return Some(Err(InputError::LineTooLong {
                line: self.line,
                limit: self.max,
            }));
        }
        Some(Ok(self.line))
    }
}

/// The `lines` format: every non-blank line is a query whose id is its
/// 1-based line number. Bytes that are not UTF-8 become U+FFFD.
#[derive(Debug)]
pub struct LinesReader<R> {
    lines: BoundedLines<R>,
}

impl<R: BufRead> LinesReader<R> {
    /// Read `inner` with the line limit of `limits`.
    pub fn new(inner: R, limits: &InputLimits) -> Self {
        LinesReader {
            lines: BoundedLines::new(inner, limits.max_line_bytes()),
        }
    }
}

impl<R: BufRead> Iterator for LinesReader<R> {
    type Item = Result<Query, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.lines.next_nonblank()?.map(|(line, bytes)| Query {
            id: QueryId::Num(line),
            text: String::from_utf8_lossy(bytes).into_owned(),
            ocr: None,
        }))
    }
}
