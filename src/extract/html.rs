//! HTML to visible text.
//!
//! A single forward scan, lenient like a browser's tokenizer (WHATWG HTML
//! §13.2.5, reduced to what matters for text): tags are dropped, the content
//! of `script`, `style`, `template` and `iframe` is skipped, comments and
//! doctype are dropped, character references are decoded (all HTML5 named
//! references, via `html-escape`), runs of whitespace collapse to one space
//! (except inside `pre`/`textarea`), block elements and `br` become line
//! breaks and table cells tabs.
//!
//! Why not a tree builder (html5ever): visible text needs no tree, and the
//! scan is linear with no allocation per node; malformed markup cannot make
//! it deeper or slower. The encoding of a byte document comes from a BOM, a
//! `<meta charset>` in the first 1 KiB, valid UTF-8, else Windows-1252.

use encoding_rs::Encoding;

/// Elements whose content is never shown.
const HIDDEN: &[&str] = &["script", "style", "template", "iframe"];

/// Elements that break lines.
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "body",
    "legend",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "title",
    "tr",
    "ul",
    "option",
    "textarea",
];

/// Decode HTML bytes (charset from BOM or `<meta>`) and reduce to text.
pub(crate) fn html_bytes_to_text(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(1024)];
    let from_meta = meta_charset(head).and_then(|l| Encoding::for_label(l.as_bytes()));
    let text = if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        enc.decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned()
    } else if let Some(enc) = from_meta {
        enc.decode_without_bom_handling(bytes).0.into_owned()
    } else {
        super::decode_text(bytes).unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned())
    };
    html_to_text(&text)
}

/// The charset named by `<meta charset=...>` or `content="...; charset=..."`.
fn meta_charset(head: &[u8]) -> Option<String> {
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("charset") {
        let at = from + i + "charset".len();
        let rest = lower[at..].trim_start();
        if let Some(rest) = rest.strip_prefix('=') {
            let rest = rest.trim_start().trim_start_matches(['"', '\'']);
            let label: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
                .collect();
            if !label.is_empty() {
                return Some(label);
            }
        }
        from = at;
    }
    None
}

/// The visible text of an HTML document or fragment.
pub fn html_to_text(html: &str) -> String {
    let mut out = Out::default();
    let b = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    let mut pre = 0usize;
    while i < b.len() {
        if b[i] != b'<' {
            i = b[i..]
                .iter()
                .position(|&c| c == b'<')
                .map_or(b.len(), |p| i + p);
            continue;
        }
        // A tag-like thing starts here; flush the text before it.
        out.text(&html[text_start..i], pre > 0);
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = match super::detect::find(&rest[4..], b"-->") {
                Some(e) => i + 4 + e + 3,
                None => b.len(),
            };
            text_start = i;
            continue;
        }
        if rest.len() > 1 && matches!(rest[1], b'!' | b'?') {
            i = tag_end(b, i + 1);
            text_start = i;
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = i + 1 + usize::from(closing);
        let name_len = b[name_start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-' || **c == b':')
            .count();
        if name_len == 0 || !b[name_start].is_ascii_alphabetic() {
            // Not a tag: a literal `<`.
            text_start = i;
            i += 1;
            // Make sure the `<` stays text: flush it with the next run.
            continue;
        }
        let name = html[name_start..name_start + name_len].to_ascii_lowercase();
        let end = tag_end(b, name_start + name_len);
        let self_closing = end >= 2 && b[end - 2] == b'/';
        i = end;
        text_start = i;
        if !closing && HIDDEN.contains(&name.as_str()) && !self_closing {
            // Skip to the matching close tag (raw text: no nesting).
            let close = format!("</{name}");
            i = find_ci(b, i, close.as_bytes()).map_or(b.len(), |p| tag_end(b, p + close.len()));
            text_start = i;
            continue;
        }
        match name.as_str() {
            "pre" | "textarea" => {
                if closing {
                    pre = pre.saturating_sub(1);
                } else {
                    pre += 1;
                }
                out.newline();
            }
            "td" | "th" if closing => out.tab(),
            "br" | "hr" => out.newline(),
            n if BLOCK.contains(&n) => {
                if matches!(
                    n,
                    "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "blockquote"
                ) {
                    out.paragraph();
                } else {
                    out.newline();
                }
            }
            _ => {}
        }
    }
    out.text(&html[text_start.min(b.len())..], pre > 0);
    out.finish()
}

/// The index just past the `>` that ends the tag whose body starts at `i`,
/// honouring quoted attribute values; the end of input if there is none.
fn tag_end(b: &[u8], mut i: usize) -> usize {
    let mut quote = 0u8;
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            // Only a quote right after `=` (possibly spaced) opens a value.
            let prev = b[..i].iter().rev().find(|c| !c.is_ascii_whitespace());
            if prev == Some(&b'=') {
                quote = c;
            }
        } else if c == b'>' {
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// Case-insensitive search of an ASCII needle from `from`.
fn find_ci(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= b.len() {
        return None;
    }
    b[from..]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// Builds the output with collapsed whitespace and at most one blank line.
#[derive(Default)]
struct Out {
    s: String,
    /// A space is owed before the next word.
    space: bool,
}

impl Out {
    fn text(&mut self, raw: &str, pre: bool) {
        if raw.is_empty() {
            return;
        }
        let decoded = html_escape::decode_html_entities(raw);
        if pre {
            self.space = false;
            self.s.push_str(&decoded.replace('\u{a0}', " "));
            return;
        }
        // Byte scan: ASCII whitespace and U+00A0 (C2 A0) separate words.
        let b = decoded.as_bytes();
        let mut word_start: Option<usize> = None;
        let mut i = 0;
        while i < b.len() {
            let ws = match b[i] {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => 1,
                0xC2 if b.get(i + 1) == Some(&0xA0) => 2,
                _ => 0,
            };
            if ws == 0 {
                word_start.get_or_insert(i);
                i += 1;
                continue;
            }
            if let Some(s) = word_start.take() {
                self.word(&decoded[s..i]);
            }
            self.space = true;
            i += ws;
        }
        if let Some(s) = word_start {
            self.word(&decoded[s..]);
        }
    }

    fn word(&mut self, word: &str) {
        if self.space && !self.s.is_empty() && !self.s.ends_with(['\n', '\t']) {
            self.s.push(' ');
        }
        self.space = false;
        self.s.push_str(word);
    }

    fn trim_trailing_spaces(&mut self) {
        let keep = self.s.trim_end_matches(' ').len();
        self.s.truncate(keep);
        self.space = false;
    }

    fn newline(&mut self) {
        let keep = self.s.trim_end_matches([' ', '\t']).len();
        self.s.truncate(keep);
        self.space = false;
        if !self.s.is_empty() && !self.s.ends_with('\n') {
            self.s.push('\n');
        }
    }

    fn paragraph(&mut self) {
        self.newline();
        if !self.s.is_empty() && !self.s.ends_with("\n\n") {
            self.s.push('\n');
        }
    }

    fn tab(&mut self) {
        self.trim_trailing_spaces();
        if !self.s.is_empty() && !self.s.ends_with(['\n', '\t']) {
            self.s.push('\t');
        }
    }

    fn finish(mut self) -> String {
        let end = self.s.trim_end().len();
        self.s.truncate(end);
        self.s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, &str)] = &[
            ("<p>Hello <b>world</b></p><p>Bye</p>", "Hello world\n\nBye"),
            ("a<script>var x = '<p>no</p>';</script>b", "ab"),
            ("a<STYLE type=text/css>p{}</STYLE> b", "a b"),
            (
                "caf&eacute; &amp; &#8217;s&nbsp;x &#x41;",
                "café & \u{2019}s x A",
            ),
            ("line<br>next<br/>third", "line\nnext\nthird"),
            (
                "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
                "a\tb\nc",
            ),
            ("<!-- <p>hidden</p> -->shown", "shown"),
            ("<!DOCTYPE html><title>T</title><div>x</div>", "T\nx"),
            ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
            ("<a href=\"x>y\">link</a> text", "link text"),
            ("<pre>  keep\n  this</pre>after", "  keep\n  this\nafter"),
            ("unclosed <b", "unclosed"),
            ("<script>never closed", ""),
            ("  lots   of\n\n  space  ", "lots of space"),
        ];
        for (html, want) in cases {
            assert_eq!(html_to_text(html), *want, "{html}");
        }
    }

    #[test]
    fn meta_charset_is_honoured() {
        let mut doc = b"<html><head><meta charset=\"koi8-r\"></head><body>".to_vec();
        // "привет" in KOI8-R.
        doc.extend_from_slice(&[0xD0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4]);
        doc.extend_from_slice(b"</body></html>");
        assert_eq!(html_bytes_to_text(&doc), "привет");
        let w1252 = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"><p>caf\xe9</p>";
        assert_eq!(html_bytes_to_text(w1252), "café");
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(128))]
        /// Markup-free text comes back with only whitespace changed.
        #[test]
        fn plain_text_survives(s in "[a-zA-Z0-9 .,\n]{0,200}") {
            let want: Vec<&str> = s.split_whitespace().collect();
            let got = html_to_text(&s);
            let got: Vec<&str> = got.split_whitespace().collect();
            proptest::prop_assert_eq!(got, want);
        }

        /// Arbitrary input never panics and never yields a tag's name
        /// from inside a script.
        #[test]
        fn never_panics(s in ".{0,300}") {
            let _ = html_to_text(&s);
            let t = html_to_text(&format!("<script>{}</script>", s.replace("</", "")));
            proptest::prop_assert_eq!(t, "");
        }
    }
}
