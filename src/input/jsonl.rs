//! The `jsonl` format: one JSON object a line, `{"id": .., "text": ..}`.
//!
//! `id` is a string or a non-negative integer; when it is missing (or
//! `null`) the 1-based line number is the id. `text` must be a string. Other
//! fields are ignored; blank lines are skipped. A bad line yields an error
//! naming it, and reading goes on with the next line.

use std::io::BufRead;

use serde::Deserialize;

use super::lines::BoundedLines;
use super::{InputError, InputLimits, Query, QueryId};

#[derive(Deserialize)]
#[serde(untagged)]
enum RawId {
    Num(u64),
    Str(String),
}

#[derive(Deserialize)]
struct RawQuery {
    #[serde(default)]
    id: Option<RawId>,
    text: String,
}

/// Streaming reader of the `jsonl` format.
#[derive(Debug)]
pub struct JsonlReader<R> {
    lines: BoundedLines<R>,
}

impl<R: BufRead> JsonlReader<R> {
    /// Read `inner` with the line limit of `limits`.
    pub fn new(inner: R, limits: &InputLimits) -> Self {
        JsonlReader {
            lines: BoundedLines::new(inner, limits.max_line_bytes()),
        }
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Result<Query, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, bytes) = match self.lines.next_nonblank()? {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let Ok(s) = std::str::from_utf8(bytes) else {
            return Some(Err(InputError::NotUtf8 { line }));
        };
        Some(match serde_json::from_str::<RawQuery>(s) {
            Ok(raw) => Ok(Query {
                id: match raw.id {
                    Some(RawId::Num(n)) => QueryId::Num(n),
                    Some(RawId::Str(s)) => QueryId::Str(s),
                    None => QueryId::Num(line),
                },
                text: raw.text,
                ocr: None,
            }),
            Err(source) => Err(InputError::Json { line, source }),
        })
    }
}
