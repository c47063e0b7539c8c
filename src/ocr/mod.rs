//! Screenshots as queries: decode, preprocess, OCR, match, and word boxes in
//! the image's own pixels.
//!
//! ```text
//! bytes -> sniff + decode (limits) -> grey, contrast -> screen perspective
//!       -> dark mode inverted
//!       -> small text upscaled -> (binarized) -> deskewed -> PNG
//!       -> tesseract TSV -> page text + word boxes -> boxes shrunk to their
//!          ink -> boxes mapped back
//!          [+ a second reading by rows, where the layout cut the lines
//!           into columns: `rows`]
//!       -> [upscaled passes (fitted x-height, then 4x) while the mean
//!           confidence is low]
//!       -> Matcher::try_find on each pass's text (and second reading)
//!       -> the matches of the one that covers the most text
//! ```
//!
//! [`find_in_image`] is the one call: image bytes in, [`ImageMatches`] out,
//! each match's words found with [`OcrPage::boxes_for`] on
//! [`ImageMatches::page`]. [`recognize`] stops before matching.
//!
//! Untrusted images are read either in this process (image decoding is
//! memory-safe Rust under [`DecodeLimits`]; tesseract always runs as a
//! child process) or, with an [`Isolation`], in a worker process
//! ([`worker`]) whose address space and CPU time are capped: a decoder bomb
//! or a tesseract crash then costs that one image. `leakprint match` uses
//! its hidden `ocr-worker` command.
//!
//! Invariants: every word box lies inside the decoded image; the page text
//! and boxes are those of the pass whose matches are returned; the result
//! does not depend on the thread that ran it.

mod child;
pub mod decode;
pub mod prep;
mod rows;
pub mod tesseract;
pub mod worker;

use std::io::Cursor;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use image::{GrayImage, ImageFormat};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::ConfigError;
use crate::extract::Isolation;
use crate::index::IndexError;
use crate::input::{tsv, InputError, InputLimits, OcrPage, QueryId};
use crate::matcher::{Match, Matcher};

pub use decode::{sniff, DecodeLimits};
pub use prep::Steps;

/// Why an image gave no result. Each is about that one image.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum ImageError {
    /// The bytes are none of the supported image formats.
    #[error("not a PNG, JPEG, GIF, WebP, BMP or TIFF image")]
    NotAnImage,
    /// The image is larger than the limits allow.
    #[error("image of {width} x {height} pixels is larger than the limit of {max_pixels} pixels")]
    TooLarge {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The limit in force.
        max_pixels: u64,
    },
    /// The image data is corrupt, truncated or unsupported.
    #[error("cannot decode the image: {reason}")]
    Decode {
        /// What the decoder said.
        reason: String,
    },
    /// Tesseract failed, or could not be run.
    #[error("OCR failed: {reason}")]
    Ocr {
        /// What went wrong.
        reason: String,
    },
    /// OCR took longer than allowed.
    #[error("OCR took longer than {seconds} s (killed)")]
    Timeout {
        /// The limit in force.
        seconds: f64,
    },
    /// Tesseract's TSV could not be read.
    #[error("tesseract output: {0}")]
    Tsv(#[from] InputError),
    /// The worker process failed (its memory cap, a crash, a bad answer).
    #[error("OCR worker: {reason}")]
    Worker {
        /// What went wrong.
        reason: String,
    },
    /// Matching the recognized text failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// How images are read. Built by [`OcrConfig::builder`]; checked there.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrConfig {
    lang: String,
    steps: Steps,
    decode: DecodeLimits,
    timeout: Duration,
    retry_below: f32,
    tesseract: PathBuf,
    isolation: Option<Isolation>,
}

impl OcrConfig {
    /// Default tesseract models.
    pub const DEFAULT_LANG: &'static str = "eng";
    /// Default time one image may take (every pass): 120 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
    /// Shortest timeout accepted: 100 ms.
    pub const MIN_TIMEOUT: Duration = Duration::from_millis(100);
    /// Default mean word confidence under which a second pass runs.
    pub const DEFAULT_RETRY_BELOW: f32 = 80.0;

    /// A builder with the defaults.
    pub fn builder() -> OcrConfigBuilder {
        OcrConfigBuilder(OcrConfig {
            lang: Self::DEFAULT_LANG.to_owned(),
            steps: Steps::DEFAULT,
            decode: DecodeLimits::default(),
            timeout: Self::DEFAULT_TIMEOUT,
            retry_below: Self::DEFAULT_RETRY_BELOW,
            tesseract: PathBuf::from("tesseract"),
            isolation: None,
        })
    }

    /// The tesseract models, e.g. `eng+rus`.
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// The preprocessing steps.
    pub fn steps(&self) -> Steps {
        self.steps
    }

    /// The decoding limits.
    pub fn decode_limits(&self) -> &DecodeLimits {
        &self.decode
    }

    /// The tesseract program.
    pub fn tesseract(&self) -> &std::path::Path {
        &self.tesseract
    }

    /// The longest time one image may take, all passes together.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// This configuration with its timeout lowered to `at_most` when that
    /// is shorter (never raised), but not under [`Self::MIN_TIMEOUT`] (the
    /// builder's floor, which the OCR worker checks again): a service gives
    /// an image the time its request has left.
    pub fn timeout_at_most(&self, at_most: Duration) -> OcrConfig {
        let mut c = self.clone();
        c.timeout = c.timeout.min(at_most.max(Self::MIN_TIMEOUT));
        c
    }

    /// Whether images are read in a worker process, and its caps.
    pub fn isolation(&self) -> Option<&Isolation> {
        self.isolation.as_ref()
    }

    /// Check that tesseract runs and knows every model of [`Self::lang`].
    ///
    /// # Errors
    /// [`ImageError::Ocr`] naming the missing models and the package that
    /// brings them.
    pub fn check_languages(&self) -> Result<(), ImageError> {
        self.check_languages_in(&tesseract::installed_langs(&self.tesseract)?)
    }

    /// [`Self::check_languages`] against the models `have` (the list of
    /// [`tesseract::installed_langs`], asked once by a caller that wants
    /// it for itself too).
    ///
    /// # Errors
    /// As [`Self::check_languages`], when a model is missing.
    pub fn check_languages_in(&self, have: &[String]) -> Result<(), ImageError> {
        let missing: Vec<&str> = self
            .lang
            .split('+')
            .filter(|m| !have.iter().any(|h| h == m))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let packages: Vec<String> = missing
            .iter()
            .map(|m| format!("tesseract-ocr-{}", m.replace('_', "-").to_lowercase()))
            .collect();
        Err(ImageError::Ocr {
            reason: format!(
                "tesseract has no model for {} (installed: {}); install it: apt-get install {}",
                missing.join(", "),
                have.join(", "),
                packages.join(" ")
            ),
        })
    }
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig::builder().0
    }
}

/// Builds an [`OcrConfig`].
#[derive(Debug, Clone)]
pub struct OcrConfigBuilder(OcrConfig);

impl OcrConfigBuilder {
    /// Tesseract models joined by `+` (`eng`, `eng+rus+chi_sim`).
    pub fn lang(mut self, lang: &str) -> Self {
        self.0.lang = lang.to_owned();
        self
    }

    /// The preprocessing steps.
    pub fn steps(mut self, steps: Steps) -> Self {
        self.0.steps = steps;
        self
    }

    /// Decoding limits.
    pub fn decode_limits(mut self, limits: DecodeLimits) -> Self {
        self.0.decode = limits;
        self
    }

    /// Longest time one image may take, all passes together.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.0.timeout = timeout;
        self
    }

    /// Mean word confidence (0-100) under which a second pass runs.
    pub fn retry_below(mut self, conf: f32) -> Self {
        self.0.retry_below = conf;
        self
    }

    /// The tesseract program (default: `tesseract` on `PATH`).
    pub fn tesseract(mut self, program: impl Into<PathBuf>) -> Self {
        self.0.tesseract = program.into();
        self
    }

    /// Read images in a worker process (see the module documentation).
    pub fn isolation(mut self, iso: Option<Isolation>) -> Self {
        self.0.isolation = iso;
        self
    }

    /// Check and build.
    ///
    /// # Errors
    /// [`ConfigError`] for a malformed language list or a limit out of range.
    pub fn build(self) -> Result<OcrConfig, ConfigError> {
        let c = self.0;
        if !tesseract::valid_lang(&c.lang) {
            return Err(ConfigError::Inconsistent(
                "ocr-lang must be tesseract model names joined by '+' (eng, eng+rus+chi_sim)",
            ));
        }
        ConfigError::check_range("ocr.max_pixels", c.decode.max_pixels, 1, 1 << 32)?;
        ConfigError::check_range("ocr.max_side", u64::from(c.decode.max_side), 1, 1 << 20)?;
        ConfigError::check_range("ocr.max_alloc", c.decode.max_alloc, 1 << 20, 1 << 40)?;
        ConfigError::check_range(
            "ocr.timeout_ms",
            c.timeout.as_millis() as u64,
            OcrConfig::MIN_TIMEOUT.as_millis() as u64,
            1 << 32,
        )?;
        ConfigError::check_range("ocr.retry_below", c.retry_below as u64, 0, 100)?;
        if let Some(iso) = &c.isolation {
            ConfigError::check_range("ocr.worker_memory", iso.max_memory, 64 << 20, 1 << 44)?;
        }
        Ok(c)
    }
}

/// One OCR pass: the variant it read and what tesseract found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pass {
    /// The steps of this pass's variant, e.g. `invert,upscale,deskew`.
    pub variant: String,
    /// Upscaling factor used.
    pub scale: u32,
    /// Rotation corrected, degrees.
    pub deskew_deg: f32,
    /// The corners of the photographed screen whose perspective was
    /// corrected (top left, top right, bottom right, bottom left), in
    /// decoded-image pixels.
    pub screen: Option<[(f32, f32); 4]>,
    /// Whether the page was read as dark mode.
    pub dark: bool,
    /// The page text built from the words.
    pub text: String,
    /// The words, boxes in decoded-image pixels.
    pub page: OcrPage,
    /// Mean word confidence (0-100; 0 without words).
    pub mean_conf: f32,
    /// A second reading of an OCR pass's words, by rows (for text the
    /// page layout cut into columns; see `rows`), not a pass of its own.
    #[serde(default)]
    pub by_rows: bool,
}

/// What OCR found in one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recognized {
    /// Width of the image, pixels.
    pub width: u32,
    /// Height of the image, pixels.
    pub height: u32,
    /// The format found by its magic bytes (`png`, `jpeg`, ...).
    pub format: String,
    /// The passes, first one first, then the second readings by rows of
    /// those that have one ([`Pass::by_rows`]: the same words in another
    /// order, and the same `mean_conf`; a caller that wants the OCR passes
    /// only skips them).
    pub passes: Vec<Pass>,
}

/// Matches in one image.
#[derive(Debug, Clone)]
pub struct ImageMatches {
    /// Width of the image, pixels.
    pub width: u32,
    /// Height of the image, pixels.
    pub height: u32,
    /// The format found by its magic bytes.
    pub format: String,
    /// The text of the pass the matches come from (spans index into it).
    pub text: String,
    /// Its words; `page.boxes_for(m.query_span)` gives a match's boxes.
    pub page: OcrPage,
    /// Mean word confidence of that pass.
    pub mean_conf: f32,
    /// Whether the matches come from a second reading by rows
    /// ([`Pass::by_rows`]; the words' `line` then numbers rows).
    pub by_rows: bool,
    /// How many OCR passes ran (second readings by rows not counted).
    pub passes: usize,
    /// The matches.
    pub matches: Vec<Match>,
}

/// OCR an image (decode, preprocess, tesseract; more passes when the
/// first one's mean confidence is low), in a worker when the configuration
/// has an [`Isolation`].
///
/// # Errors
/// The [`ImageError`] of this image.
pub fn recognize(bytes: &[u8], cfg: &OcrConfig) -> Result<Recognized, ImageError> {
    match &cfg.isolation {
        Some(iso) => worker::call(bytes, cfg, iso),
        None => recognize_here(bytes, cfg),
    }
}

/// OCR an image and match every pass's text; the matches of the pass that
/// found the most aligned text (the first pass on a tie).
///
/// # Errors
/// The [`ImageError`] of this image.
pub fn find_in_image(
    matcher: &Matcher<'_>,
    bytes: &[u8],
    cfg: &OcrConfig,
) -> Result<ImageMatches, ImageError> {
    let rec = recognize(bytes, cfg)?;
    let n = rec.passes.iter().filter(|p| !p.by_rows).count();
    let mut best: Option<(usize, Pass, Vec<Match>)> = None;
    for pass in rec.passes {
        let found = matcher.try_find_ocr(&pass.text)?;
        let covered: usize = found.iter().map(|m| m.aligned_len).sum();
        if best.as_ref().is_none_or(|b| covered > b.0) {
            best = Some((covered, pass, found));
        }
    }
    let (_, pass, matches) = best.ok_or_else(|| ImageError::Ocr {
        reason: "no OCR pass ran".to_owned(),
    })?;
    Ok(ImageMatches {
        width: rec.width,
        height: rec.height,
        format: rec.format,
        text: pass.text,
        page: pass.page,
        mean_conf: pass.mean_conf,
        by_rows: pass.by_rows,
        passes: n,
        matches,
    })
}

/// [`recognize`] in this process.
pub(crate) fn recognize_here(bytes: &[u8], cfg: &OcrConfig) -> Result<Recognized, ImageError> {
    let deadline = Instant::now() + cfg.timeout;
    let (grey, format) = decode::decode(bytes, &cfg.decode)?;
    recognize_grey(&grey, format.extensions_str()[0], cfg, deadline)
}

/// OCR an image already decoded to grey (a scanned PDF page), in this
/// process, by `deadline`; `format` names what it was decoded from.
pub(crate) fn recognize_grey(
    grey: &GrayImage,
    format: &str,
    cfg: &OcrConfig,
    deadline: Instant,
) -> Result<Recognized, ImageError> {
    let (first, rows) = run_pass(grey, cfg.steps, 1, cfg, deadline)?;
    let mut passes = vec![first];
    let mut by_rows: Vec<Pass> = rows.into_iter().collect();
    let mut run = |steps, scale, passes: &mut Vec<Pass>| -> Result<(), ImageError> {
        let (pass, rows) = run_pass(grey, steps, scale, cfg, deadline)?;
        passes.push(pass);
        by_rows.extend(rows);
        Ok(())
    };
    if cfg.steps.retry && passes[0].mean_conf < cfg.retry_below {
        // The other variant: upscaled (x-height towards
        // prep::TARGET_X_HEIGHT), not binarized; measured on the tuning
        // half of the screenshot benchmark (docs/SCREENSHOTS.md).
        let other = Steps {
            upscale: true,
            ..cfg.steps
        };
        run(other, 1, &mut passes)?;
        if passes[1].mean_conf < cfg.retry_below {
            // Still unsure (tiny text, timeline thumbnails): the largest
            // enlargement as well; the pass whose matches cover the most
            // text wins (find_in_image).
            run(other, prep::MAX_SCALE, &mut passes)?;
        }
    }
    // Last, so that a tie goes to the OCR passes.
    passes.extend(by_rows);
    Ok(Recognized {
        width: grey.width(),
        height: grey.height(),
        format: format.to_owned(),
        passes,
    })
}

fn variant_name(steps: Steps, extra_scale: u32) -> String {
    let steps = Steps {
        retry: false,
        ..steps
    };
    let mut name = steps.to_list();
    if extra_scale > 1 {
        name = format!("{name},x{extra_scale}");
    }
    name
}

/// One OCR pass, and its second reading by rows when it has one.
fn run_pass(
    grey: &GrayImage,
    steps: Steps,
    extra_scale: u32,
    cfg: &OcrConfig,
    deadline: Instant,
) -> Result<(Pass, Option<Pass>), ImageError> {
    let prepared = prep::prepare(grey, steps, extra_scale);
    let mut png = Cursor::new(Vec::new());
    prepared
        .image
        .write_to(&mut png, ImageFormat::Png)
        .map_err(|e| ImageError::Ocr {
            reason: format!("cannot encode the prepared image: {e}"),
        })?;
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ImageError::Timeout {
            seconds: cfg.timeout.as_secs_f64(),
        });
    }
    let tsv_bytes =
        tesseract::run(&cfg.tesseract, png.get_ref(), &cfg.lang, left).map_err(|e| match e {
            ImageError::Timeout { .. } => ImageError::Timeout {
                seconds: cfg.timeout.as_secs_f64(),
            },
            e => e,
        })?;
    let limits = InputLimits::default();
    let query = tsv::read_tsv(tsv_bytes.as_slice(), QueryId::Num(0), &limits)?;
    let page = query.ocr.unwrap_or_default();
    // (Rows are found where tesseract read them: in the prepared image.)
    let rows = rows::by_rows(
        &query.text,
        &page,
        (limits.max_words(), limits.max_text_bytes()),
    )?;
    // `first_conf`: the first reading's mean confidence, for a second
    // reading by rows (the same words: not summed again in another order).
    let pass = |text: String, mut page: OcrPage, first_conf: Option<f32>| {
        let t = prepared.transform;
        for w in &mut page.words {
            let [l, top, width, height] =
                prep::tighten_to_ink(&prepared.image, w.left, w.top, w.width, w.height);
            [w.left, w.top, w.width, w.height] = t.to_original(l, top, width, height);
        }
        let mean_conf = first_conf.unwrap_or_else(|| {
            let confs: Vec<f32> = page
                .words
                .iter()
                .map(|w| w.conf)
                .filter(|c| *c >= 0.0)
                .collect();
            if confs.is_empty() {
                0.0
            } else {
                confs.iter().sum::<f32>() / confs.len() as f32
            }
        });
        let mut variant = variant_name(steps, extra_scale);
        if first_conf.is_some() {
            variant.push_str(",rows");
        }
        Pass {
            variant,
            scale: prepared.scale,
            deskew_deg: prepared.deskew_deg,
            screen: prepared.screen,
            dark: prepared.dark,
            text,
            page,
            mean_conf,
            by_rows: first_conf.is_some(),
        }
    };
    let first = pass(query.text, page, None);
    let second = rows.map(|(text, page)| pass(text, page, Some(first.mean_conf)));
    Ok((first, second))
}
