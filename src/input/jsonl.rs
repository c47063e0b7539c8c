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

/// A query's id as it is written: a non-negative integer or a string.
///
/// Deserialized by a visitor that takes either directly. (Derived as an
/// `untagged` enum, serde buffered every id and, for a string, first
/// failed to read it as a number, building and formatting an error: a
/// third of the input reader's time on short posts, BENCHMARKS.md "Posts
/// handed over in batches".)
enum RawId {
    Num(u64),
    Str(String),
}

impl<'de> Deserialize<'de> for RawId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = RawId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a non-negative integer or a string")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawId, E> {
                Ok(RawId::Num(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawId, E> {
                u64::try_from(v)
                    .map(RawId::Num)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawId, E> {
                Ok(RawId::Str(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<RawId, E> {
                Ok(RawId::Str(v))
            }
        }
        d.deserialize_any(IdVisitor)
    }
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
