//! The screenshot gate: `leakprint match` on the committed screenshot set
//! (`corpus/screenshots`: held-out images of every style and unrelated
//! negatives), run as a user runs it, a folder of images against an index
//! of `corpus/dump`.
//!
//! Per row (a style; re-shares whose text ends under 9 px apart, see
//! `images_common::TINY_PX`), the share of images whose quote is found in its true source
//! (the match names the file and overlaps the true span, its span taken
//! back to the file's bytes by `images_common::file_span`) must reach the
//! target in `TARGETS` (styles in `KNOWN_MISSES`, whose target the held-out
//! benchmark does not see met, are reported and held to a regression floor); no negative may match; no image may match a wrong
//! source (a match in another file that holds the same or a near-identical
//! passage, as the dump's synthetic mails quote its speeches, is not wrong); the outlines of the matched words must overlap the true word
//! boxes of the words those matches cover (by their bytes in the source,
//! `word_spans` of the truth) with a mean IoU of at least `MIN_IOU` (issue
//! 14's 0.8), exact over unions of sub-pixel boxes (`words_exact`).
//! Needs `tesseract-ocr` and `tesseract-ocr-eng`.

mod images_common;

use std::collections::BTreeMap;

use images_common::{
    area_iou, file_span, index_dump, match_lines, require_tesseract, same_passage_elsewhere, shots,
};
use serde_json::Value;

/// (row, issue 14's target share found): 99% for readable styles, 95%
/// for angled photos, 90% for thumbnails. A row is a style, but re-shares
/// whose text ends under `TINY_PX` are `reshared_tiny` (`Shot::row`).
const TARGETS: &[(&str, f64)] = &[
    ("tweet_light", 0.99),
    ("tweet_dark", 0.99),
    ("dim_dark", 0.99),
    ("small_text", 0.99),
    ("reshared_jpeg", 0.99),
    ("mail_client", 0.99),
    ("highlighted", 0.99),
    ("photo_screen", 0.99),
    ("angled_photo", 0.95),
    ("thumbnail", 0.90),
    // Re-shares shrunk to thumbnail size (text under `TINY_PX`), a row of
    // their own since round 7, held to the thumbnails' target.
    ("reshared_tiny", 0.90),
];

/// Styles whose target the code does not meet yet on the held-out
/// benchmark, with the regression floor they must still hold on this
/// sample and what was measured there (docs/SCREENSHOTS.md). Three images
/// cannot measure 90%: when this sample meets the target but the held-out
/// benchmark does not, the gate notes it; the held-out benchmark decides
/// when a style moves to the targets (angled photos moved in round 2:
/// 65/66 on seed 2026, 63/66 on seed 4242; thumbnails in round 6: 60/65 on
/// seed 4242, 61/65 on a fresh seed 5151; re-shared JPEGs in round 7, once
/// the re-shares shrunk below `TINY_PX` were reported apart: 90/90 on the
/// held-out half of seed 6161, 178/178 on the held-out half of a fresh
/// seed 8181).
const KNOWN_MISSES: &[(&str, f64, &str)] = &[(
    "reshared_tiny",
    1.0,
    "21/26 (80.8%) on the held-out half of seed 6161, 28/32 (87.5%) on a \
     fresh seed 8181: re-shares whose text ends under 9 px at JPEG quality \
     20-45, held to the thumbnails' target; the 3 of 28 tuning images \
     that none of 14 preparations lets be found are read with 28-47% \
     character errors at best",
)];

/// Issue 14's target for the mean box IoU of the matched words. Met since
/// round 3 (word boxes shrunk to their ink): 0.84 on the held-out benchmark
/// of seed 4242, 0.89 on the tuning half of seed 14 (docs/SCREENSHOTS.md).
const MIN_IOU: f64 = 0.8;

#[test]
fn screenshot_gate() {
    require_tesseract();
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    index_dump(&idx);
    let set = shots();
    let dir = images_common::shots_dir();
    let (lines, stderr) = match_lines(&idx, &dir);
    assert!(!stderr.contains("error:"), "errors: {stderr}");
    let mut by_query: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for v in lines {
        if v["kind"] == "image" {
            by_query
                .entry(v["query"].as_str().unwrap().to_owned())
                .or_default()
                .push(v);
        }
    }
    let name = |p: &std::path::Path| {
        format!(
            "{}/{}",
            dir.display(),
            p.file_name().unwrap().to_string_lossy()
        )
    };
    let mut found: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let (mut false_matches, mut wrong, mut ious) = (Vec::new(), Vec::new(), Vec::new());
    for s in &set {
        let ms = by_query.get(&name(&s.file)).cloned().unwrap_or_default();
        if !s.positive {
            if !ms.is_empty() {
                false_matches.push(s.file.display().to_string());
            }
            continue;
        }
        let e = found.entry(s.row()).or_default();
        e.1 += 1;
        // Each match's span: bytes of its source part's text, taken back to
        // the file's bytes (a mail's part text starts with a header summary).
        let span_of = |m: &Value| {
            let sp = &m["source_span"];
            [
                sp[0].as_u64().unwrap() as usize,
                sp[1].as_u64().unwrap() as usize,
            ]
        };
        let snippet = |m: &Value| m["snippet"].as_str().unwrap_or("").to_owned();
        let (right, file_spans): (Vec<&Value>, Vec<[usize; 2]>) = ms
            .iter()
            .filter(|m| m["source"].as_str().unwrap().ends_with(&s.source))
            .filter_map(|m| {
                let fs = file_span(&s.source, span_of(m), &snippet(m))?;
                (fs[0] < s.span[1] && s.span[0] < fs[1]).then_some((m, fs))
            })
            .unzip();
        let elsewhere = |m: &Value| {
            same_passage_elsewhere(m["source"].as_str().unwrap(), span_of(m), &snippet(m), s)
        };
        if ms
            .iter()
            .any(|m| !m["source"].as_str().unwrap().ends_with(&s.source) && !elsewhere(m))
        {
            wrong.push(s.file.display().to_string());
        }
        if !right.is_empty() {
            e.0 += 1;
            let got: Vec<[f64; 4]> = right
                .iter()
                .flat_map(|m| m["boxes"].as_array().unwrap().iter())
                .map(|b| ["left", "top", "width", "height"].map(|k| b[k].as_f64().unwrap()))
                .collect();
            ious.push(area_iou(&got, &s.covered_words(&file_spans)));
        }
    }
    let mut report = String::new();
    let mut failed = Vec::new();
    let mut known = Vec::new();
    for (style, target) in TARGETS {
        let (k, n) = found.get(style).copied().unwrap_or((0, 0));
        assert!(n > 0, "no positives of row {style} in the set");
        let share = k as f64 / n as f64;
        report.push_str(&format!("{style}: {k}/{n}\n"));
        match KNOWN_MISSES.iter().find(|(s, _, _)| s == style) {
            None if share < *target => {
                failed.push(format!("{style}: found {k} of {n} (target {target})"))
            }
            None => {}
            Some((_, floor, why)) => {
                if share < *floor {
                    failed.push(format!(
                        "{style}: found {k} of {n} (< regression floor {floor})"
                    ));
                } else if share >= *target {
                    known.push(format!(
                        "{style}: {k} of {n} on this sample, but {why} (target {target})"
                    ));
                } else {
                    known.push(format!("{style}: {k} of {n} < target {target} ({why})"));
                }
            }
        }
    }
    if !known.is_empty() {
        eprintln!(
            "KNOWN MISSES (issue 14 stays open):\n  {}",
            known.join("\n  ")
        );
    }
    let iou = ious.iter().sum::<f64>() / ious.len().max(1) as f64;
    report.push_str(&format!(
        "mean IoU {iou:.3}; false {false_matches:?}; wrong {wrong:?}\n"
    ));
    eprintln!("{report}");
    assert!(failed.is_empty(), "{failed:?}\n{report}");
    assert!(
        false_matches.is_empty(),
        "negatives matched: {false_matches:?}"
    );
    assert!(wrong.is_empty(), "wrong sources: {wrong:?}");
    assert!(iou >= MIN_IOU, "mean box IoU {iou:.4} < target {MIN_IOU}");
}

/// A monospaced quote whose lines tesseract's layout cuts into two
/// columns (the left halves first, then the right: no run of the quote
/// longer than half a line) is found through its second reading by rows
/// (`ocr::rows`), with the words of all four lines outlined. (Seen with
/// tesseract 5.3.0 and its Debian `eng` model, which CI installs; a
/// version that reads the lines whole passes without the second reading.)
#[test]
fn a_quote_read_as_two_columns_is_found() {
    require_tesseract();
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    index_dump(&idx);
    let img = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/images/columns/mono.png");
    let (lines, stderr) = match_lines(&idx, &img);
    assert!(!stderr.contains("error:"), "errors: {stderr}");
    let m = lines
        .iter()
        .find(|m| {
            m["source"]
                .as_str()
                .unwrap()
                .ends_with("docs/1957-Eisenhower-1.txt")
        })
        .expect("the quote's source");
    // The whole quote (200 normalized bytes), not half a line of it.
    assert!(m["aligned_len"].as_u64().unwrap() >= 180, "{m}");
    // Words of all four lines (tops 22 px apart, within a few px on a
    // line) are outlined, on both halves of each line (text from 20 px,
    // the right half from 289 px).
    let mut boxes: Vec<(i64, i64)> = m["boxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["top"].as_i64().unwrap(), b["left"].as_i64().unwrap()))
        .collect();
    boxes.sort_unstable();
    let lines: Vec<&[(i64, i64)]> = boxes.chunk_by(|a, b| b.0 - a.0 <= 10).collect();
    assert_eq!(lines.len(), 4, "{boxes:?}");
    for line in lines {
        assert!(
            line.iter().any(|b| b.1 < 100) && line.iter().any(|b| b.1 > 280),
            "{line:?}"
        );
    }
}

/// Only re-shares whose text ends under `TINY_PX` leave their style's row;
/// a truth without `text_px` keeps its style.
#[test]
fn only_small_reshares_get_a_row_of_their_own() {
    let shot = |style: &str, px: Option<f64>| images_common::Shot {
        file: "x.jpg".into(),
        style: style.to_owned(),
        positive: true,
        source: String::new(),
        span: [0, 0],
        words: Vec::new(),
        words_exact: Vec::new(),
        word_spans: Vec::new(),
        text_px: px,
    };
    assert_eq!(shot("reshared_jpeg", Some(8.99)).row(), "reshared_tiny");
    assert_eq!(shot("reshared_jpeg", Some(9.0)).row(), "reshared_jpeg");
    assert_eq!(shot("reshared_jpeg", None).row(), "reshared_jpeg");
    assert_eq!(shot("thumbnail", Some(7.0)).row(), "thumbnail");
    // The committed sample has one tiny re-share, so the gate's row is fed.
    assert_eq!(
        shots()
            .iter()
            .filter(|s| s.positive && s.row() == "reshared_tiny")
            .count(),
        1
    );
}

/// The exact union-area IoU agrees with the pixel-mask oracle on whole-pixel
/// boxes (and is symmetric, 1 on itself).
#[test]
fn area_iou_matches_the_pixel_mask_oracle() {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % n) as f64
    };
    for _ in 0..500 {
        let mut boxes = || -> Vec<[f64; 4]> {
            let k = next(6) as usize;
            (0..k)
                .map(|_| [next(30), next(30), next(12), next(12)])
                .collect()
        };
        let (a, b) = (boxes(), boxes());
        let want = images_common::mask_iou(&a, &b);
        let got = area_iou(&a, &b);
        assert!((got - want).abs() < 1e-9, "{a:?} {b:?}: {got} vs {want}");
        assert!((area_iou(&b, &a) - got).abs() < 1e-9);
        if images_common::union_area(&a) > 0.0 {
            assert!((area_iou(&a, &a) - 1.0).abs() < 1e-9);
        }
    }
}
