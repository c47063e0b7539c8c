//! The evidence records of `leakprint match`'s JSON lines, one definition
//! for the command line, the service's answers and the Python `to_dict()`.
//!
//! ```text
//! {"kind":"text", "query", "source", "score", "similarity", "aligned_len",
//!  "query_span":[start,end], "source_span":[start,end], "snippet"[, "boxes"]}
//! {"kind":"file", "query", "source", "identical", "shared_chunks",
//!  "query_chunks", "shared_bytes"}
//! ```
//!
//! Field order is the order above (serde writes fields in declaration
//! order), ratios are rounded to four decimals ([`round4`]), spans are byte
//! offsets. `query` is left out when the caller has no id for the query
//! (a single text sent to the service); `boxes` only comes with OCR input.

use serde::Serialize;

use crate::input::{OcrPage, QueryId};
use crate::matcher::{FileEvidence, Match};

/// What a record is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A piece of indexed text found in a text query.
    Text,
    /// A piece of indexed text found in the OCR text of an image.
    Image,
    /// Whole-file evidence (blake3, shared chunks) for a file query.
    File,
}

/// Four decimals are plenty for a ratio and keep lines short.
pub fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// A text match as a JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextRecord<'a> {
    /// [`Kind::Text`] or [`Kind::Image`].
    pub kind: Kind,
    /// The query's id, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<&'a QueryId>,
    /// `path` or `path#part` of the source.
    pub source: &'a str,
    /// [`Match::source_decoded`]: the source decoded for people when its
    /// file name is not UTF-8 (`source` then has the exact bytes escaped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_decoded: Option<&'a str>,
    /// Other live paths with the same content ([`Match::also`]): copies
    /// of the source file, the same text in other files.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub also: &'a [String],
    /// [`Match::score`], rounded.
    pub score: f64,
    /// [`Match::similarity`], rounded.
    pub similarity: f64,
    /// [`Match::aligned_len`].
    pub aligned_len: usize,
    /// Byte range in the query text.
    pub query_span: [usize; 2],
    /// Byte range in the source part's text.
    pub source_span: [usize; 2],
    /// The matched source text, whitespace collapsed.
    pub snippet: &'a str,
    /// The OCR words overlapping `query_span`, for OCR input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boxes: Option<Vec<BoxRecord>>,
}

impl<'a> TextRecord<'a> {
    /// The record of `m`, found in the query `query`; `ocr` (the query's
    /// word boxes) adds the boxes of the matched words.
    pub fn new(
        kind: Kind,
        query: Option<&'a QueryId>,
        m: &'a Match,
        ocr: Option<&OcrPage>,
    ) -> TextRecord<'a> {
        TextRecord {
            kind,
            query,
            source: &m.source,
            source_decoded: m.source_decoded.as_deref(),
            also: &m.also,
            score: round4(m.score),
            similarity: round4(m.similarity),
            aligned_len: m.aligned_len,
            query_span: [m.query_span.start, m.query_span.end],
            source_span: [m.source_span.start, m.source_span.end],
            snippet: &m.snippet,
            boxes: ocr.map(|page| {
                page.boxes_for(m.query_span.clone())
                    .into_iter()
                    .map(BoxRecord::from)
                    .collect()
            }),
        }
    }
}

/// One OCR word box of a [`TextRecord`], in the image's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BoxRecord {
    /// Left edge.
    pub left: u32,
    /// Top edge.
    pub top: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Tesseract's confidence (0 to 100, -1 when not given).
    pub conf: f32,
    /// 1-based page.
    pub page: u32,
    /// 0-based line among the query's lines.
    pub line: u32,
}

impl From<&crate::input::OcrWord> for BoxRecord {
    fn from(w: &crate::input::OcrWord) -> BoxRecord {
        BoxRecord {
            left: w.left,
            top: w.top,
            width: w.width,
            height: w.height,
            conf: w.conf,
            page: w.page,
            line: w.line,
        }
    }
}

/// Whole-file evidence as a JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileRecord<'a> {
    /// Always [`Kind::File`].
    pub kind: Kind,
    /// The file query's name.
    pub query: &'a str,
    /// The indexed file.
    pub source: &'a str,
    /// Byte-identical (same blake3).
    pub identical: bool,
    /// Chunks of the query found in the source.
    pub shared_chunks: usize,
    /// Chunks of the query.
    pub query_chunks: usize,
    /// Bytes of the query in shared chunks.
    pub shared_bytes: u64,
}

impl<'a> FileRecord<'a> {
    /// The record of `e`, found for the file query named `query`.
    pub fn new(query: &'a str, e: &'a FileEvidence) -> FileRecord<'a> {
        FileRecord {
            kind: Kind::File,
            query,
            source: &e.source,
            identical: e.identical,
            shared_chunks: e.shared_chunks,
            query_chunks: e.query_chunks,
            shared_bytes: e.shared_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::OcrWord;

    fn sample() -> Match {
        Match {
            source: "dump/a.eml#attachment:x.txt".into(),
            source_decoded: None,
            also: Vec::new(),
            segment: 0,
            part: 3,
            query_span: 4..20,
            source_span: 100..118,
            score: 0.123456,
            similarity: 0.987654,
            aligned_len: 15,
            snippet: "say \"hi\"\n".into(),
            query_norm: 1..16,
            source_norm: 50..65,
        }
    }

    /// The exact bytes of the JSON lines (the command line's contract).
    #[test]
    fn text_and_file_lines_are_pinned() {
        let m = sample();
        let id = QueryId::Num(7);
        let line =
            serde_json::to_string(&TextRecord::new(Kind::Text, Some(&id), &m, None)).unwrap();
        assert_eq!(
            line,
            r#"{"kind":"text","query":7,"source":"dump/a.eml#attachment:x.txt","score":0.1235,"similarity":0.9877,"aligned_len":15,"query_span":[4,20],"source_span":[100,118],"snippet":"say \"hi\"\n"}"#
        );
        let anon = serde_json::to_string(&TextRecord::new(Kind::Image, None, &m, None)).unwrap();
        assert!(anon.starts_with(r#"{"kind":"image","source":"#), "{anon}");
        let e = FileEvidence {
            source: "dump/b.bin".into(),
            identical: true,
            shared_chunks: 2,
            query_chunks: 3,
            shared_bytes: 9000,
        };
        assert_eq!(
            serde_json::to_string(&FileRecord::new("q.bin", &e)).unwrap(),
            r#"{"kind":"file","query":"q.bin","source":"dump/b.bin","identical":true,"shared_chunks":2,"query_chunks":3,"shared_bytes":9000}"#
        );
    }

    #[test]
    fn boxes_are_the_words_overlapping_the_query_span() {
        let m = sample();
        let word = |start, end, left| OcrWord {
            text_range: start..end,
            left,
            top: 1,
            width: 2,
            height: 3,
            conf: 90.5,
            page: 1,
            line: 0,
        };
        let page = OcrPage {
            words: vec![
                word(0, 3, 10),
                word(4, 9, 20),
                word(19, 25, 30),
                word(26, 30, 40),
            ],
        };
        let id = QueryId::Str("p.tsv".into());
        let r = TextRecord::new(Kind::Text, Some(&id), &m, Some(&page));
        let lefts: Vec<u32> = r.boxes.unwrap().iter().map(|b| b.left).collect();
        assert_eq!(lefts, vec![20, 30]);
    }

    #[test]
    fn round4_rounds_half_away_from_zero() {
        assert_eq!(round4(0.99995), 1.0);
        assert_eq!(round4(0.12344), 0.1234);
        assert_eq!(round4(1.0), 1.0);
    }
}
