//! A second reading of a page whose lines tesseract cut into columns.
//!
//! Tesseract's page layout (`--psm 3`) looks for columns. Monospaced text
//! (a plain-text mail client, a terminal, a code editor) puts the spaces
//! of its lines at the same offsets, and where a few lines have a space at
//! nearly the same place the layout sees a gutter: it reads the left
//! halves of the lines as one block and the right halves as another, and
//! the page text holds no run of the quote longer than half a line. Of the
//! 235 monospaced images `scripts/screenshot_novel.py` rendered (seeds 78
//! to 81), one was read so (BENCHMARKS.md "Postings in 64 bits; screenshots
//! in layouts the benchmark does not render").
//!
//! [`by_rows`] reads the words again by rows: lines (as tesseract cut
//! them) whose boxes share at least half the shorter one's height and do
//! not overlap side by side are one row, read left to right, and rows are read top to bottom.
//! It is only a second reading, matched beside the first
//! ([`super::find_in_image`] keeps the reading whose matches cover more
//! text): a page really set in columns whose lines happen to align (a
//! two-column document) is read right by the first and scrambled by this
//! one. It is offered only where at least two rows join lines, so that a
//! stray pair of aligned lines (a name beside a time stamp) costs nothing.
//!
//! Boxes are compared in the coordinates tesseract saw (the prepared,
//! deskewed image), where a row is level.

use crate::input::ocr::{PageBuilder, Position, WordBox};
use crate::input::{InputError, OcrPage};

/// A line of the first reading: its words (indices) and its box.
struct Line {
    words: Vec<usize>,
    top: u32,
    bottom: u32,
    left: u32,
    right: u32,
}

/// Least share of the shorter of two lines' heights that their boxes must
/// share to be in one row.
const ROW_OVERLAP: f64 = 0.5;

/// Rows that must join two lines or more for the reading to be offered.
const MIN_JOINED_ROWS: usize = 2;

/// The page read by rows (see the module documentation), or `None` when
/// fewer than [`MIN_JOINED_ROWS`] rows join lines. `text` is the page text
/// of the first reading (the words' ranges index into it); the result's
/// words keep their boxes and confidences.
///
/// # Errors
/// Past the limits of the first reading, which the second cannot pass (it
/// holds the same words and no more separators): none in practice.
pub(crate) fn by_rows(
    text: &str,
    page: &OcrPage,
    limits: (usize, usize),
) -> Result<Option<(String, OcrPage)>, InputError> {
    let mut lines: Vec<Line> = Vec::new();
    for (i, w) in page.words.iter().enumerate() {
        let (top, bottom) = (w.top, w.top.saturating_add(w.height));
        let (left, right) = (w.left, w.left.saturating_add(w.width));
        match lines.last_mut() {
            Some(l) if page.words[l.words[0]].line == w.line => {
                l.words.push(i);
                l.top = l.top.min(top);
                l.bottom = l.bottom.max(bottom);
                l.left = l.left.min(left);
                l.right = l.right.max(right);
            }
            _ => lines.push(Line {
                words: vec![i],
                top,
                bottom,
                left,
                right,
            }),
        }
    }
    // Rows, each a list of lines; a line joins the first row (in order of
    // their first line's top) it shares enough height with and overlaps
    // no line of side by side. Lines of other pages never join.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    let page_of = |l: &Line| page.words[l.words[0]].page;
    order.sort_by_key(|&i| (page_of(&lines[i]), lines[i].top, lines[i].left));
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for &i in &order {
        let l = &lines[i];
        let joins = |row: &Vec<usize>| {
            row.iter().all(|&j| {
                let o = &lines[j];
                let shared = l.bottom.min(o.bottom).saturating_sub(l.top.max(o.top));
                let shorter = (l.bottom - l.top).min(o.bottom - o.top).max(1);
                page_of(o) == page_of(l)
                    && f64::from(shared) >= ROW_OVERLAP * f64::from(shorter)
                    && (l.right <= o.left || o.right <= l.left)
            })
        };
        match rows.iter_mut().find(|r| joins(r)) {
            Some(r) => r.push(i),
            None => rows.push(vec![i]),
        }
    }
    if rows.iter().filter(|r| r.len() > 1).count() < MIN_JOINED_ROWS {
        return Ok(None);
    }
    let mut b = PageBuilder::new(limits.0, limits.1);
    for (ri, row) in rows.iter_mut().enumerate() {
        row.sort_by_key(|&i| lines[i].left);
        for &li in row.iter() {
            for &wi in &lines[li].words {
                let w = &page.words[wi];
                let at = Position {
                    page: w.page,
                    block: 1,
                    par: 1,
                    line: ri as u32,
                };
                let bx = WordBox {
                    left: w.left,
                    top: w.top,
                    width: w.width,
                    height: w.height,
                };
                b.push(at, &text[w.text_range.clone()], bx, w.conf)?;
            }
        }
    }
    Ok(Some(b.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ocr::OcrWord;

    /// A page of words given as (line, left, top, text), 10 px high, each
    /// 10 px a char wide, in the order given; lines from 100 on are on a
    /// second page.
    fn page(words: &[(u32, u32, u32, &str)]) -> (String, OcrPage) {
        let mut b = PageBuilder::new(1000, 100_000);
        for &(line, left, top, t) in words {
            let at = Position {
                page: 1 + line / 100,
                block: line,
                par: 1,
                line,
            };
            let bx = WordBox {
                left,
                top,
                width: 10 * t.len() as u32,
                height: 10,
            };
            b.push(at, t, bx, 90.0).unwrap();
        }
        b.finish()
    }

    fn rows(words: &[(u32, u32, u32, &str)]) -> Option<String> {
        let (text, p) = page(words);
        by_rows(&text, &p, (1000, 100_000)).unwrap().map(|(t, _)| t)
    }

    #[test]
    fn columns_of_aligned_lines_are_read_as_rows() {
        // Tesseract's order: the left column's lines, then the right's.
        let got = rows(&[
            (0, 0, 0, "aa"),
            (0, 30, 0, "bb"),
            (1, 0, 20, "cc"),
            (1, 30, 20, "dd"),
            (2, 100, 1, "ee"),
            (3, 100, 21, "ff"),
        ]);
        assert_eq!(got.as_deref(), Some("aa bb ee\ncc dd ff"));
    }

    #[test]
    fn one_joined_row_offers_nothing() {
        // A name beside a time stamp, then the text below.
        assert_eq!(
            rows(&[(0, 0, 0, "name"), (1, 200, 2, "5h"), (2, 0, 30, "text")]),
            None
        );
        // Lines that do not share half their height stay apart.
        assert_eq!(
            rows(&[
                (0, 0, 0, "aa"),
                (1, 0, 20, "bb"),
                (2, 100, 6, "cc"),
                (3, 100, 26, "dd"),
            ]),
            None
        );
    }

    #[test]
    fn lines_that_overlap_side_by_side_are_not_one_row() {
        // Two lines at one height whose boxes overlap (a deskew gone
        // wrong): not one row.
        assert_eq!(
            rows(&[
                (0, 0, 0, "aaaa"),
                (1, 30, 0, "bbbb"),
                (2, 0, 20, "cccc"),
                (3, 30, 20, "dddd"),
            ]),
            None
        );
    }

    #[test]
    fn lines_of_two_pages_are_not_one_row() {
        // The layout of `columns_of_aligned_lines_are_read_as_rows`, the
        // right column on a second page: no row; on one page: rows.
        let two_pages = [
            (0, 0, 0, "aa"),
            (1, 0, 20, "cc"),
            (102, 100, 1, "ee"),
            (103, 100, 21, "ff"),
        ];
        assert_eq!(rows(&two_pages), None);
        let one_page = two_pages.map(|(l, x, y, t)| (l % 100, x, y, t));
        assert_eq!(rows(&one_page).as_deref(), Some("aa ee\ncc ff"));
    }

    #[test]
    fn words_keep_their_boxes_and_ranges_index_the_new_text() {
        let (text, p) = page(&[
            (0, 0, 0, "aa"),
            (1, 0, 20, "cc"),
            (2, 100, 1, "ee"),
            (3, 100, 21, "ff"),
        ]);
        let (t, q) = by_rows(&text, &p, (1000, 100_000)).unwrap().unwrap();
        assert_eq!(t, "aa ee\ncc ff");
        let words: Vec<(&str, u32, u32)> = q
            .words
            .iter()
            .map(|w: &OcrWord| (&t[w.text_range.clone()], w.left, w.top))
            .collect();
        assert_eq!(
            words,
            vec![("aa", 0, 0), ("ee", 100, 1), ("cc", 0, 20), ("ff", 100, 21)]
        );
        assert_eq!(q.words[1].line, 0);
        assert_eq!(q.words[2].line, 1);
    }
}
