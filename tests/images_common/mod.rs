//! Shared by the screenshot tests (`tests/images_gate.rs`,
//! `tests/report_browser.rs`): the committed screenshot set, an index of
//! the sources it quotes, and box overlap.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The committed screenshots (`corpus/screenshots`, see its README).
pub fn shots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/screenshots")
}

/// One image of the set and its truth.
#[derive(Debug, Clone)]
pub struct Shot {
    pub file: PathBuf,
    pub style: String,
    pub positive: bool,
    /// Source path relative to `corpus/dump`.
    pub source: String,
    pub span: [usize; 2],
    /// True word boxes of the quote: left, top, width, height.
    pub words: Vec<[u32; 4]>,
    /// The same before rounding to whole pixels (`words` when the truth
    /// has no `words_exact`).
    pub words_exact: Vec<[f64; 4]>,
    /// Each word's bytes in the source file, in the order of `words`
    /// (empty when the truth has none).
    pub word_spans: Vec<[usize; 2]>,
    /// The body font's size in the image's pixels (`text_px` of the truth).
    pub text_px: Option<f64>,
}

/// Re-shares whose text ends smaller than this (px) are reported in their
/// own row, `reshared_tiny`, as `scripts/screenshot_eval.py` does (its
/// `TINY_PX` says why).
pub const TINY_PX: f64 = 9.0;

impl Shot {
    /// The row the image is reported in: its style, but re-shares under
    /// [`TINY_PX`] apart.
    pub fn row(&self) -> &str {
        if self.style == "reshared_jpeg" && self.text_px.is_some_and(|px| px < TINY_PX) {
            "reshared_tiny"
        } else {
            &self.style
        }
    }

    /// The true boxes (unrounded) of the quote's words whose bytes in the
    /// source overlap one of `source_spans` (the right-source matches'
    /// spans): the words a match covers. The whole quote when the truth has
    /// no word spans that line up with its boxes.
    pub fn covered_words(&self, source_spans: &[[usize; 2]]) -> Vec<[f64; 4]> {
        if self.word_spans.len() != self.words_exact.len() {
            return self.words_exact.clone();
        }
        self.words_exact
            .iter()
            .zip(&self.word_spans)
            .filter(|(_, w)| source_spans.iter().any(|s| s[0] < w[1] && w[0] < s[1]))
            .map(|(b, _)| *b)
            .collect()
    }
}

pub fn shots() -> Vec<Shot> {
    let dir = shots_dir();
    let truth =
        fs::read_to_string(dir.join("truth.jsonl")).expect("corpus/screenshots/truth.jsonl");
    truth
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let words: Vec<[u32; 4]> = v["words"]
                .as_array()
                .map(|ws| {
                    ws.iter()
                        .map(|w| {
                            let n = |i: usize| w[i].as_u64().unwrap() as u32;
                            [n(0), n(1), n(2), n(3)]
                        })
                        .collect()
                })
                .unwrap_or_default();
            let words_exact = v["words_exact"]
                .as_array()
                .map(|ws| {
                    ws.iter()
                        .map(|w| {
                            let n = |i: usize| w[i].as_f64().unwrap();
                            [n(0), n(1), n(2), n(3)]
                        })
                        .collect()
                })
                .unwrap_or_else(|| words.iter().map(|w| f(*w)).collect());
            let word_spans = v["word_spans"]
                .as_array()
                .map(|ws| {
                    ws.iter()
                        .map(|w| {
                            [
                                w[0].as_u64().unwrap() as usize,
                                w[1].as_u64().unwrap() as usize,
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default();
            Shot {
                file: dir.join(v["file"].as_str().unwrap()),
                style: v["style"].as_str().unwrap().to_owned(),
                positive: v["kind"] == "positive",
                source: v["source"].as_str().unwrap_or("").to_owned(),
                span: [
                    v["span"][0].as_u64().unwrap_or(0) as usize,
                    v["span"][1].as_u64().unwrap_or(0) as usize,
                ],
                words,
                words_exact,
                word_spans,
                text_px: v["text_px"].as_f64(),
            }
        })
        .collect()
}

/// Index `corpus/dump` (whole, so that wrong sources can be found) into
/// `out`.
pub fn index_dump(out: &Path) {
    let dump = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/dump");
    let st = Command::new(env!("CARGO_BIN_EXE_leakprint"))
        .args(["index", "--threads", "2", "--output"])
        .arg(out)
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// `leakprint match --json --threads 2 --index idx path` (an image or a
/// folder of them): its output lines as JSON, and its stderr.
pub fn match_lines(idx: &Path, path: &Path) -> (Vec<serde_json::Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_leakprint"))
        .args(["match", "--json", "--threads", "2", "--index"])
        .arg(idx)
        .arg(path)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Tesseract must be installed for these tests (CI installs it).
pub fn require_tesseract() {
    let ok = Command::new("tesseract")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "these tests need tesseract: apt-get install tesseract-ocr tesseract-ocr-eng"
    );
}

/// Pixel IoU of two sets of boxes (left, top, width, height).
pub fn mask_iou(a: &[[f64; 4]], b: &[[f64; 4]]) -> f64 {
    let all = a.iter().chain(b);
    let w = all.clone().map(|r| r[0] + r[2]).fold(0.0, f64::max).ceil() as usize + 1;
    let h = all.map(|r| r[1] + r[3]).fold(0.0, f64::max).ceil() as usize + 1;
    let paint = |boxes: &[[f64; 4]]| {
        let mut m = vec![false; w * h];
        for r in boxes {
            let (x0, y0) = (
                r[0].max(0.0).round() as usize,
                r[1].max(0.0).round() as usize,
            );
            let (x1, y1) = (
                ((r[0] + r[2]).round() as usize).min(w),
                ((r[1] + r[3]).round() as usize).min(h),
            );
            for y in y0..y1 {
                for x in x0..x1 {
                    m[y * w + x] = true;
                }
            }
        }
        m
    };
    let (ma, mb) = (paint(a), paint(b));
    let inter = ma.iter().zip(&mb).filter(|(x, y)| **x && **y).count();
    let union = ma.iter().zip(&mb).filter(|(x, y)| **x || **y).count();
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Exact area of a union of boxes (left, top, width, height), sub-pixel
/// boxes as they are: over each vertical slab between consecutive x edges,
/// the merged length of the y intervals of the boxes spanning it.
pub fn union_area(boxes: &[[f64; 4]]) -> f64 {
    let rs: Vec<[f64; 4]> = boxes
        .iter()
        .filter(|b| b[2] > 0.0 && b[3] > 0.0)
        .map(|b| [b[0], b[1], b[0] + b[2], b[1] + b[3]])
        .collect();
    let mut xs: Vec<f64> = rs.iter().flat_map(|r| [r[0], r[2]]).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut area = 0.0;
    for x in xs.windows(2) {
        let mut ys: Vec<(f64, f64)> = rs
            .iter()
            .filter(|r| r[0] <= x[0] && x[1] <= r[2])
            .map(|r| (r[1], r[3]))
            .collect();
        ys.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (mut cov, mut end) = (0.0, f64::NEG_INFINITY);
        for (y0, y1) in ys {
            if y0 > end {
                cov += y1 - y0;
                end = y1;
            } else if y1 > end {
                cov += y1 - end;
                end = y1;
            }
        }
        area += cov * (x[1] - x[0]);
    }
    area
}

/// IoU of two unions of boxes, exact ([`union_area`]); equal to
/// [`mask_iou`] for whole-pixel boxes.
pub fn area_iou(a: &[[f64; 4]], b: &[[f64; 4]]) -> f64 {
    let both: Vec<[f64; 4]> = a.iter().chain(b).copied().collect();
    let (ua, ub, uab) = (union_area(a), union_area(b), union_area(&both));
    if uab > 0.0 {
        (ua + ub - uab) / uab
    } else {
        0.0
    }
}

/// IoU of two single boxes.
pub fn box_iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    let ix = ((a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0])).max(0.0);
    let iy = ((a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

pub fn f(b: [u32; 4]) -> [f64; 4] {
    b.map(f64::from)
}

fn norm(s: &str) -> Vec<char> {
    let mut t = String::new();
    leakprint::normalize::normalize_text_only(s, &mut t);
    t.chars().collect()
}

fn dump_passage(rel: &str, span: [usize; 2]) -> Option<String> {
    let bytes = fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("corpus/dump")
            .join(rel),
    )
    .ok()?;
    let b = bytes.get(span[0]..span[1].min(bytes.len()))?;
    Some(String::from_utf8_lossy(b).into_owned())
}

/// A match's source span as bytes of the file `rel` (relative to
/// `corpus/dump`), or `None` when its snippet is not found there.
///
/// `source_span` counts bytes of the source part's extracted text: the file
/// itself for the dump's plain-text speeches, but a header summary and then
/// the body for its mails (RFC 822 text), where the same passage sits at
/// another offset than in the file. The snippet (that text, whitespace made
/// single spaces, cut as "head … tail" past 160 characters) is found in the
/// file's text, whitespace collapsed the same way; of several places, the
/// one nearest the part offset.
pub fn file_span(rel: &str, source_span: [usize; 2], snippet: &str) -> Option<[usize; 2]> {
    let bytes = fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("corpus/dump")
            .join(rel),
    )
    .ok()?;
    let text = String::from_utf8_lossy(&bytes);
    // The collapsed text, and each of its chars' byte offset and length in
    // the file.
    let mut flat = String::new();
    let mut at: Vec<(usize, usize)> = Vec::new();
    let mut space = false;
    for (b, c) in text.char_indices() {
        if c.is_whitespace() {
            if !flat.is_empty() && !space {
                flat.push(' ');
                at.push((b, c.len_utf8()));
            }
            space = true;
        } else {
            flat.push(c);
            at.push((b, c.len_utf8()));
            space = false;
        }
    }
    let char_of: std::collections::HashMap<usize, usize> = flat
        .char_indices()
        .enumerate()
        .map(|(i, (b, _))| (b, i))
        .collect();
    let (head, tail) = match snippet.split_once(" \u{2026} ") {
        Some((h, t)) => (h, Some(t)),
        None => (snippet, None),
    };
    if head.is_empty() {
        return None;
    }
    let start = flat
        .match_indices(head)
        .map(|(b, _)| b)
        .min_by_key(|b| at[char_of[b]].0.abs_diff(source_span[0]))?;
    let mut end = start + head.len();
    if let Some(tail) = tail {
        end = end + flat[end..].find(tail)? + tail.len();
    }
    let last = at[char_of[&flat[..end].char_indices().last()?.0]];
    Some([at[char_of[&start]].0, last.0 + last.1])
}

/// Whether a match in a file other than the true source holds the same or
/// a near-identical passage (the synthetic mails of the dump quote the
/// speeches, and the speeches repeat themselves across years): at least 85%
/// of its normalized characters appear, in order, in the quote (a longest
/// common subsequence). `source` is the match's source as printed
/// (`.../corpus/dump/REL`), `source_span` and `snippet` as printed (see
/// [`file_span`]).
pub fn same_passage_elsewhere(
    source: &str,
    source_span: [usize; 2],
    snippet: &str,
    shot: &Shot,
) -> bool {
    let Some(rel) = source.split("corpus/dump/").nth(1) else {
        return false;
    };
    let Some(span) = file_span(rel, source_span, snippet) else {
        return false;
    };
    let (Some(a), Some(b)) = (
        dump_passage(rel, span),
        dump_passage(&shot.source, shot.span),
    ) else {
        return false;
    };
    let (a, b) = (norm(&a), norm(&b));
    // Longest common subsequence by plain dynamic programming.
    let mut prev = vec![0usize; b.len() + 1];
    for ca in &a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = if ca == cb {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        prev = cur;
    }
    prev[b.len()] * 100 >= a.len().max(1) * 85
}
