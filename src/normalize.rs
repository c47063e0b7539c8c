//! Normalization (temporary minimal version; replaced by the algo branch).
use unicode_normalization::UnicodeNormalization;
/// Version of the normalization.
pub const NORMALIZATION_VERSION: u32 = 1;
/// Normalized text and offsets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Normalized {
    /// Text.
    pub text: String,
    /// Offsets.
    pub offsets: Vec<u32>,
}
impl Normalized {
    /// Source span.
    pub fn source_span(&self, src: &str, norm: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let a = self.offsets[norm.start] as usize;
        let b = self.offsets[norm.end - 1] as usize;
        let l = src[b..].chars().next().map_or(0, |c| c.len_utf8());
        a..b + l
    }
}
/// Normalize one char.
pub fn normalize_char(c: char, out: &mut String) {
    for d in std::iter::once(c).nfkd() {
        if unicode_normalization::char::is_combining_mark(d) {
            continue;
        }
        for l in d.to_lowercase() {
            let l = match l {
                '|' | '1' | 'i' | 'ı' => 'l',
                '0' => 'o',
                'f' => 't',
                'b' => 'h',
                'm' => 'n',
                x => x,
            };
            if l.is_alphanumeric() {
                out.push(l);
            }
        }
    }
}
/// Normalize.
pub fn normalize(src: &str) -> Normalized {
    let mut n = Normalized {
        text: String::new(),
        offsets: Vec::new(),
    };
    normalize_into(src, 0, &mut n.text, &mut n.offsets);
    n
}
/// Normalize into.
pub fn normalize_into(src: &str, base: u32, text: &mut String, offsets: &mut Vec<u32>) {
    for (i, c) in src.char_indices() {
        let before = text.len();
        normalize_char(c, text);
        offsets.extend(std::iter::repeat_n(base + i as u32, text.len() - before));
    }
}
/// Text only.
pub fn normalize_text_only(src: &str, text: &mut String) {
    for c in src.chars() {
        normalize_char(c, text);
    }
}
