//! Show what the OCR preprocessing does to images: per file, one JSON line
//! with the measured x-height, the screen found by `perspective`, the
//! scale and deskew of the first pass, and (with `--ocr`) every OCR pass's
//! variant, confidence and text, then the second readings by rows of those
//! that have one (variant ending `,rows`). With `--save DIR` the first pass's
//! prepared image is written there as PNG. A debugging and measuring aid
//! for the screenshot benchmark (`docs/SCREENSHOTS.md`).
//!
//! `cargo run --release --example ocr_passes -- [--steps LIST] [--ocr]
//!  [--save DIR] IMAGE...`

use std::path::PathBuf;

use leakprint::ocr::{self, prep, DecodeLimits, OcrConfig, Steps};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut steps = Steps::DEFAULT;
    let (mut run_ocr, mut save, mut files) = (false, None::<PathBuf>, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--steps" => steps = Steps::parse(&args.next().ok_or("--steps LIST")?)?,
            "--ocr" => run_ocr = true,
            "--save" => save = Some(args.next().ok_or("--save DIR")?.into()),
            _ => files.push(PathBuf::from(a)),
        }
    }
    let cfg = OcrConfig::builder().steps(steps).build()?;
    for f in files {
        let bytes = std::fs::read(&f)?;
        let (grey, _) = ocr::decode::decode(&bytes, &DecodeLimits::default())?;
        let p = prep::prepare(&grey, steps, 1);
        if let Some(dir) = &save {
            let name = f.file_stem().unwrap_or_default().to_string_lossy();
            p.image.save(dir.join(format!("{name}.png")))?;
        }
        let passes = if run_ocr {
            ocr::recognize(&bytes, &cfg)?
                .passes
                .into_iter()
                .map(|p| {
                    serde_json::json!({"variant": p.variant, "scale": p.scale,
                        "mean_conf": p.mean_conf, "text": p.text})
                })
                .collect()
        } else {
            Vec::new()
        };
        let line = serde_json::json!({
            "file": f, "x_height": p.x_height, "screen": p.screen, "scale": p.scale,
            "deskew_deg": p.deskew_deg, "dark": p.dark, "passes": passes,
        });
        println!("{line}");
    }
    Ok(())
}
