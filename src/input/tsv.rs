//! Tesseract TSV (`tesseract image out tsv`): one row per page, block,
//! paragraph, line and word.
//!
//! Columns: `level page_num block_num par_num line_num word_num left top
//! width height conf text`. Only word rows (level 5) carry text; their
//! page/block/paragraph/line numbers place them (see [`super::OcrPage`] for
//! how the text is laid out). The header row is optional; a row with the
//! wrong number of columns or a bad number is an error naming its line.

use std::io::BufRead;

use super::lines::BoundedLines;
use super::ocr::{PageBuilder, Position, WordBox};
use super::{InputError, InputLimits, Query, QueryId};

/// The level of word rows.
const WORD_LEVEL: u32 = 5;

/// Read a whole tesseract TSV output as one query with this id.
///
/// # Errors
/// [`InputError::Tsv`] for a malformed row, [`InputError::LineTooLong`],
/// [`InputError::TooManyWords`], [`InputError::TooLarge`] past the limits,
/// [`InputError::Io`] when reading fails.
pub fn read_tsv<R: BufRead>(
    reader: R,
    id: QueryId,
    limits: &InputLimits,
) -> Result<Query, InputError> {
    let mut lines = BoundedLines::new(reader, limits.max_line_bytes());
    let mut page = PageBuilder::new(limits.max_words(), limits.max_text_bytes());
    let mut total = 0usize;
    while let Some(next) = lines.next_line() {
        let (line, bytes) = next?;
        total += bytes.len() + 1;
        if total > limits.max_text_bytes() {
            return Err(InputError::TooLarge {
                limit: limits.max_text_bytes(),
            });
        }
        if bytes.is_empty() || bytes.starts_with(b"level\t") {
            continue;
        }
        let row = std::str::from_utf8(bytes).map_err(|_| InputError::Tsv {
            line,
            reason: "not valid UTF-8",
        })?;
        let cols: Vec<&str> = row.splitn(12, '\t').collect();
        if cols.len() != 12 {
            return Err(InputError::Tsv {
                line,
                reason: "expected 12 tab-separated columns",
            });
        }
        let num = |i: usize| -> Result<u32, InputError> {
            cols[i].trim().parse::<u32>().map_err(|_| InputError::Tsv {
                line,
                reason: "a number column is not a non-negative integer",
            })
        };
        if num(0)? != WORD_LEVEL {
            continue;
        }
        let conf = cols[10]
            .trim()
            .parse::<f32>()
            .ok()
            .filter(|c| c.is_finite())
            .ok_or(InputError::Tsv {
                line,
                reason: "conf is not a number",
            })?;
        let at = Position {
            page: num(1)?,
            block: num(2)?,
            par: num(3)?,
            line: num(4)?,
        };
        let bx = WordBox {
            left: num(6)?,
            top: num(7)?,
            width: num(8)?,
            height: num(9)?,
        };
        page.push(at, cols[11], bx, conf)?;
    }
    let (text, ocr) = page.finish();
    Ok(Query {
        id,
        text,
        ocr: Some(ocr),
    })
}
