//! `leakprint report` opened in headless Chromium: the drawn outlines must sit
//! on the words of the quote in the screenshot, and hostile input must stay
//! text.
//!
//! The test writes the report for a few committed screenshots
//! (`corpus/screenshots`, whose truth holds the rendered word boxes) and a
//! hostile text file, then opens a copy of it (its Content-Security-Policy
//! removed, a measuring script added) with `chromium --headless
//! --dump-dom`. The script reads, after layout, every outline's rectangle
//! relative to its image and scales it to the image's natural pixels; the
//! test then requires that (1) each rectangle is where the report's own
//! data says (CSS geometry), and (2) the outlines cover the true words of
//! the quote (pixel IoU against the rendered word boxes). Wrong boxes
//! (unscaled, shifted, from another pass) fail (2); broken CSS fails (1).
//! Needs Debian's `chromium` and `tesseract-ocr` (CI installs both).

mod images_common;

use std::fs;
use std::process::Command;

use images_common::{box_iou, f, index_dump, mask_iou, require_tesseract, shots, Shot};
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";

const MEASURE: &str = r#"<script>
window.addEventListener('load', () => {
  const out = [];
  for (const shot of document.querySelectorAll('.shot')) {
    const img = shot.querySelector('img');
    const r = img.getBoundingClientRect();
    const sx = img.naturalWidth / r.width, sy = img.naturalHeight / r.height;
    for (const b of shot.querySelectorAll('.box')) {
      const q = b.getBoundingClientRect();
      out.push({item: shot.closest('section').querySelector('h2').textContent,
        shown_width: r.width, natural_width: img.naturalWidth,
        left: (q.left - r.left) * sx, top: (q.top - r.top) * sy,
        width: q.width * sx, height: q.height * sy,
        data: [+b.dataset.left, +b.dataset.top, +b.dataset.width, +b.dataset.height]});
    }
  }
  const pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"#;

fn chromium_dom(html: &std::path::Path, profile: &std::path::Path) -> String {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "this test needs Debian's chromium: apt-get install chromium"
    );
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1100,3000",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[test]
fn outlines_sit_on_the_matched_words_in_chromium() {
    require_tesseract();
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    index_dump(&idx);
    // The first positive of three styles with different geometry: a plain
    // tweet, a downscaled re-share, an angled photo (boxes through a
    // perspective and the deskew's rotation).
    let all = shots();
    let picked: Vec<Shot> = ["tweet_light", "reshared_jpeg", "angled_photo"]
        .iter()
        .map(|s| {
            all.iter()
                .find(|x| x.positive && &x.style == s)
                .unwrap()
                .clone()
        })
        .collect();
    // A hostile text input that also quotes a source, so it is reported.
    let source = fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus/dump")
            .join(&picked[0].source),
    )
    .unwrap();
    let quote = String::from_utf8_lossy(&source[picked[0].span[0]..picked[0].span[1]]).into_owned();
    let hostile = tmp.path().join("post<img src=x onerror=alert(1)>.txt");
    fs::write(
        &hostile,
        format!(
            "<script>alert('x')</script> \"{quote}\" </textarea><b onmouseover=alert(2)>hi</b>"
        ),
    )
    .unwrap();
    let report = tmp.path().join("report.html");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakprint"));
    cmd.args(["report", "--threads", "2", "--index"])
        .arg(&idx)
        .arg("--output")
        .arg(&report);
    for p in &picked {
        cmd.arg(&p.file);
    }
    let st = cmd.arg(&hostile).output().unwrap();
    assert_eq!(
        st.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let html = fs::read_to_string(&report).unwrap();

    // Hostile text stays text.
    assert!(!html.contains("<script>alert"), "unescaped script");
    assert!(
        !html.contains("<img src=x"),
        "unescaped tag from a file name"
    );
    assert!(
        !html.contains("<b onmouseover"),
        "unescaped tag from a file"
    );
    assert!(html.contains("&lt;script&gt;alert"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the report loads nothing"
    );
    assert_eq!(
        html.matches("<section class=\"item\"").count(),
        4,
        "every input matched"
    );

    // Measure in Chromium.
    let csp_start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = csp_start + html[csp_start..].find('>').unwrap() + 1;
    let probe = format!("{}{}", &html[..csp_start], &html[csp_end..])
        .replace("</body>", &format!("{MEASURE}</body>"));
    let probe_path = tmp.path().join("probe.html");
    fs::write(&probe_path, probe).unwrap();
    let dom = chromium_dom(&probe_path, &tmp.path().join("profile"));
    let start = dom
        .find("<pre id=\"measured\">")
        .expect("the measuring script ran")
        + "<pre id=\"measured\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let measured: Vec<Value> = serde_json::from_str(&unescape(&dom[start..end])).unwrap();
    assert!(!measured.is_empty());

    for shot in &picked {
        let name = shot.file.display().to_string();
        let rects: Vec<&Value> = measured
            .iter()
            .filter(|m| m["item"] == name.as_str())
            .collect();
        assert!(!rects.is_empty(), "{name}: no outlines");
        let mut drawn = Vec::new();
        for m in &rects {
            let got = [
                m["left"].as_f64().unwrap(),
                m["top"].as_f64().unwrap(),
                m["width"].as_f64().unwrap(),
                m["height"].as_f64().unwrap(),
            ];
            let data: Vec<f64> = m["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            // (1) the outline is drawn where the report says, to within
            // the rounding of one displayed pixel in image pixels.
            let tol =
                1.5 * m["natural_width"].as_f64().unwrap() / m["shown_width"].as_f64().unwrap();
            for k in 0..4 {
                assert!(
                    (got[k] - data[k]).abs() <= tol,
                    "{name}: outline at {got:?}, report says {data:?}"
                );
            }
            drawn.push(got);
        }
        // (2) the outlines cover the words of the quote.
        let truth: Vec<[f64; 4]> = shot.words.iter().map(|w| f(*w)).collect();
        let iou = mask_iou(&drawn, &truth);
        assert!(
            iou >= 0.6,
            "{name}: outlines overlap the true words with IoU {iou:.2}"
        );
        let on_words = drawn
            .iter()
            .filter(|d| truth.iter().any(|t| box_iou(**d, *t) >= 0.3))
            .count();
        assert!(
            on_words * 10 >= drawn.len() * 8,
            "{name}: only {on_words} of {} outlines sit on a word of the quote",
            drawn.len()
        );
    }
}
