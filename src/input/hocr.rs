//! Tesseract hOCR (`tesseract image out hocr`): XHTML whose `ocrx_word`
//! spans carry `title="bbox x0 y0 x1 y1; x_wconf N"`.
//!
//! Structure comes from the classes: `ocr_page`, `ocr_carea` (block),
//! `ocr_par`, and `ocr_line` / `ocr_caption` / `ocr_header` /
//! `ocr_textfloat` (lines); the text is laid out as described in
//! [`super::OcrPage`]. Word text is everything inside the word element,
//! including nested markup such as `<strong>`, with entities resolved.
//!
//! Parsing uses quick-xml, leniently: tesseract writes well-formed XHTML,
//! but hOCR from other tools or edited by hand may have mismatched end tags
//! or a stray `&`, so end names are not checked, unmatched ends are
//! allowed, dangling `&` is text and unknown entities are kept as written.
//! A hand parser would have to redo attribute quoting, entities and
//! comments; quick-xml does these and streams with a bounded buffer. A word
//! without a readable `bbox` gets a zero box (its text still counts), and
//! `x_wconf` defaults to -1.

use std::io::BufRead;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::ocr::{PageBuilder, Position, WordBox};
use super::{InputError, InputLimits, Query, QueryId};

/// What a start tag's `class` says about the structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Page,
    Block,
    Par,
    Line,
    Word,
    Other,
}

fn role(classes: &str) -> Role {
    for c in classes.split_ascii_whitespace() {
        match c {
            "ocr_page" => return Role::Page,
            "ocr_carea" => return Role::Block,
            "ocr_par" => return Role::Par,
            "ocr_line" | "ocr_caption" | "ocr_header" | "ocr_textfloat" => return Role::Line,
            "ocrx_word" => return Role::Word,
            _ => {}
        }
    }
    Role::Other
}

/// `(box, conf)` from a title such as `bbox 23 25 88 46; x_wconf 96`.
fn parse_title(title: &str) -> (WordBox, f32) {
    let mut bx = WordBox {
        left: 0,
        top: 0,
        width: 0,
        height: 0,
    };
    let mut conf = -1.0;
    for prop in title.split(';') {
        let mut parts = prop.split_ascii_whitespace();
        match parts.next() {
            Some("bbox") => {
                let v: Vec<u32> = parts.filter_map(|p| p.parse().ok()).collect();
                if let [x0, y0, x1, y1] = v[..] {
                    bx = WordBox {
                        left: x0,
                        top: y0,
                        width: x1.saturating_sub(x0),
                        height: y1.saturating_sub(y0),
                    };
                }
            }
            Some("x_wconf") => {
                if let Some(c) = parts.next().and_then(|p| p.parse::<f32>().ok()) {
                    if c.is_finite() {
                        conf = c;
                    }
                }
            }
            _ => {}
        }
    }
    (bx, conf)
}

fn attr_value(a: &Attribute<'_>) -> String {
    a.normalized_value(XmlVersion::Implicit1_0)
        .map_or_else(|_| a.value.to_string(), |v| v.into_owned())
}

/// `(class, title)` attributes of a start tag.
fn class_and_title(e: &BytesStart<'_>) -> (String, String) {
    let (mut class, mut title) = (String::new(), String::new());
    for a in e.attributes().with_checks(false).flatten() {
        match a.key.as_ref() {
            "class" => class = attr_value(&a),
            "title" => title = attr_value(&a),
            _ => {}
        }
    }
    (class, title)
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => return None,
    })
}

/// The word being read: its position, box, confidence, text, and the
/// element depth at which it closes.
struct OpenWord {
    at: Position,
    bx: WordBox,
    conf: f32,
    text: String,
    depth: usize,
}

/// Read a whole tesseract hOCR output as one query with this id.
///
/// # Errors
/// [`InputError::Hocr`] when the markup cannot be read,
/// [`InputError::TooLarge`] past [`InputLimits::max_text_bytes`] of input,
/// [`InputError::TooManyWords`] past [`InputLimits::max_words`].
pub fn read_hocr<R: BufRead>(
    reader: R,
    id: QueryId,
    limits: &InputLimits,
) -> Result<Query, InputError> {
    let max = limits.max_text_bytes();
    let mut xml = Reader::from_reader(reader.take(max as u64 + 1));
    {
        let cfg = xml.config_mut();
        cfg.check_end_names = false;
        cfg.allow_unmatched_ends = true;
        cfg.allow_dangling_amp = true;
        cfg.check_comments = false;
    }
    let mut page = PageBuilder::new(limits.max_words(), max);
    let mut at = Position {
        page: 0,
        block: 0,
        par: 0,
        line: 0,
    };
    let mut depth = 0usize;
    let mut word: Option<OpenWord> = None;
    let mut buf = Vec::new();
    loop {
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            // Cut at the size limit: that is the error, not the broken markup.
            Err(_) if xml.get_ref().limit() == 0 => {
                return Err(InputError::TooLarge { limit: max })
            }
            Err(e) => {
                return Err(InputError::Hocr {
                    offset: xml.buffer_position(),
                    reason: e.to_string(),
                })
            }
        };
        match event {
            Event::Start(e) => {
                depth += 1;
                let (class, title) = if word.is_none() {
                    class_and_title(&e)
                } else {
                    // Markup inside a word (`<strong>`) only nests.
                    (String::new(), String::new())
                };
                match role(&class) {
                    Role::Page => at.page += 1,
                    Role::Block => at.block += 1,
                    Role::Par => at.par += 1,
                    Role::Line => at.line += 1,
                    Role::Word => {
                        let (bx, conf) = parse_title(&title);
                        word = Some(OpenWord {
                            at,
                            bx,
                            conf,
                            text: String::new(),
                            depth,
                        });
                    }
                    Role::Other => {}
                }
            }
            Event::End(_) => {
                if word.as_ref().is_some_and(|w| w.depth == depth) {
                    if let Some(w) = word.take() {
                        page.push(w.at, &w.text, w.bx, w.conf)?;
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                if let Some(w) = word.as_mut() {
                    w.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(w) = word.as_mut() {
                    w.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(w) = word.as_mut() {
                    let c = if r.is_char_ref() {
                        r.resolve_char_ref().ok().flatten()
                    } else {
                        entity(&r.xml10_content())
                    };
                    match c {
                        Some(c) => w.text.push(c),
                        None => {
                            w.text.push('&');
                            w.text.push_str(&r.xml10_content());
                            w.text.push(';');
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if xml.get_ref().limit() == 0 {
        return Err(InputError::TooLarge { limit: max });
    }
    if let Some(w) = word.take() {
        page.push(w.at, &w.text, w.bx, w.conf)?;
    }
    let (text, ocr) = page.finish();
    Ok(Query {
        id,
        text,
        ocr: Some(ocr),
    })
}
