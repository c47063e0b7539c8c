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
}

pub fn shots() -> Vec<Shot> {
    let dir = shots_dir();
    let truth =
        fs::read_to_string(dir.join("truth.jsonl")).expect("corpus/screenshots/truth.jsonl");
    truth
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let words = v["words"]
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

/// Whether a match in a file other than the true source holds the same or
/// a near-identical passage (the synthetic mails of the dump quote the
/// speeches, and the speeches repeat themselves across years): at least 85%
/// of its normalized characters appear, in order, in the quote (a longest
/// common subsequence). `source` is the match's source as printed
/// (`.../corpus/dump/REL`).
pub fn same_passage_elsewhere(source: &str, source_span: [usize; 2], shot: &Shot) -> bool {
    let Some(rel) = source.split("corpus/dump/").nth(1) else {
        return false;
    };
    let (Some(a), Some(b)) = (
        dump_passage(rel, source_span),
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
