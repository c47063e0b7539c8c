//! OCR pages: the text of tesseract output with a box for every word.
//!
//! The page text is built from the words: words of a line joined by one
//! space, lines by `\n`, paragraphs, blocks and pages by a blank line
//! (`\n\n`). Each [`OcrWord`] records the byte range of its text in
//! [`crate::input::Query::text`], so a match span maps back to boxes with
//! [`OcrPage::boxes_for`].
//!
//! Hyphenated line ends stay as tesseract wrote them (`quar-\nterly`):
//! normalization drops `-` and line breaks, so the text still matches
//! `quarterly`, and both words keep their own boxes.
//!
//! Scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar, and
//! CJK punctuation and full-width forms): tesseract's chi_sim, chi_tra and
//! jpn models cut a line into words of one to a few characters; two such
//! words on one line are joined with no space, so the page text reads as
//! the source does (`下列软件包`, not `下 列 软件 包`). Korean keeps its
//! spaces (Hangul is written with them).
//!
//! Right-to-left scripts (Arabic, Hebrew): tesseract's result iterator,
//! behind both TSV and hOCR, gives the words of a line in logical (reading)
//! order, rightmost first, and each word's characters in logical order too
//! (checked on real ara and heb output in `tests/images_lang.rs`), so the
//! text is built in the order it arrives, as for left-to-right scripts.
//!
//! Invariants: words are in text order, their ranges do not overlap, and
//! each range is a non-empty span of the text holding the word.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::InputError;

/// One recognised word and its box (pixels of the page image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrWord {
    /// Bytes of the word in the query text.
    pub text_range: Range<usize>,
    /// Left edge.
    pub left: u32,
    /// Top edge.
    pub top: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Tesseract's confidence, 0 to 100 (-1 when not given).
    pub conf: f32,
    /// 1-based page number.
    pub page: u32,
    /// 0-based index of the word's line among the lines of the query.
    pub line: u32,
}

/// The words of an OCR query, in text order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OcrPage {
    /// The words.
    pub words: Vec<OcrWord>,
}

impl OcrPage {
    /// The words whose text overlaps the byte range `range` of the query
    /// text, in text order. An empty range overlaps nothing.
    pub fn boxes_for(&self, range: Range<usize>) -> Vec<&OcrWord> {
        let first = self
            .words
            .partition_point(|w| w.text_range.end <= range.start);
        self.words[first..]
            .iter()
            .take_while(|w| w.text_range.start < range.end)
            .filter(|w| range.start < range.end && w.text_range.start < w.text_range.end)
            .collect()
    }
}

/// Where a word sits in the page structure; a change decides the separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) page: u32,
    pub(crate) block: u32,
    pub(crate) par: u32,
    pub(crate) line: u32,
}

/// A word box as read: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WordBox {
    pub(crate) left: u32,
    pub(crate) top: u32,
    pub(crate) width: u32,
    pub(crate) height: u32,
}

/// Whether `c` belongs to a script written without spaces between words
/// (see the module documentation).
pub(crate) fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x2E80..=0x2FDF // CJK radicals, Kangxi radicals
        | 0x3000..=0x303F // CJK symbols and punctuation
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3100..=0x312F // Bopomofo
        | 0x31F0..=0x31FF // Katakana phonetic extensions
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0xFF00..=0xFF60 // full-width forms
        | 0xFF61..=0xFF9F // half-width CJK punctuation and katakana
        | 0x20000..=0x3134F // CJK extensions B-G, compatibility supplement
    )
}

/// Builds the text and the words of a page, word by word, within limits.
#[derive(Debug)]
pub(crate) struct PageBuilder {
    text: String,
    words: Vec<OcrWord>,
    last: Option<Position>,
    line_index: u32,
    max_words: usize,
    max_bytes: usize,
}

impl PageBuilder {
    pub(crate) fn new(max_words: usize, max_bytes: usize) -> Self {
        PageBuilder {
            text: String::new(),
            words: Vec::new(),
            last: None,
            line_index: 0,
            max_words,
            max_bytes,
        }
    }

    /// Append a word; blank words are dropped.
    pub(crate) fn push(
        &mut self,
        at: Position,
        word: &str,
        bx: WordBox,
        conf: f32,
    ) -> Result<(), InputError> {
        let word = word.trim();
        if word.is_empty() {
            return Ok(());
        }
        if self.words.len() >= self.max_words {
            return Err(InputError::TooManyWords {
                limit: self.max_words,
            });
        }
        let sep = match self.last {
            None => "",
            Some(p) if (p.page, p.block, p.par) != (at.page, at.block, at.par) => "\n\n",
            Some(p) if p.line != at.line => "\n",
            Some(_)
                if self.text.chars().next_back().is_some_and(unspaced)
                    && word.chars().next().is_some_and(unspaced) =>
            {
                ""
            }
            Some(_) => " ",
        };
        if matches!(self.last, Some(p) if p != at) {
            self.line_index += 1;
        }
        if self.text.len() + sep.len() + word.len() > self.max_bytes {
            return Err(InputError::TooLarge {
                limit: self.max_bytes,
            });
        }
        self.text.push_str(sep);
        let start = self.text.len();
        self.text.push_str(word);
        self.words.push(OcrWord {
            text_range: start..self.text.len(),
            left: bx.left,
            top: bx.top,
            width: bx.width,
            height: bx.height,
            conf,
            page: at.page,
            line: self.line_index,
        });
        self.last = Some(at);
        Ok(())
    }

    pub(crate) fn finish(self) -> (String, OcrPage) {
        (self.text, OcrPage { words: self.words })
    }
}
