//! OCR of scanned PDF pages: the pages whose text layer is empty but which
//! draw images.
//!
//! [`super::pdf`] hands out such a page's images ([`PageImage`]: the stored
//! JPEG as it is, or decoded samples as a PNM, CCITT fax and 1-bit samples
//! included); [`PageReader::read`] decodes each to grey under the OCR
//! decoding limits and runs it through the screenshot OCR path
//! ([`crate::ocr`]: preprocessing, tesseract as a child process with
//! `OMP_THREAD_LIMIT=1`, a second pass when the first one's confidence is
//! low), keeping the pass with the higher mean word confidence. With
//! isolation on, this runs in the extraction worker, so tesseract runs
//! under the worker's address-space cap, and the file's deadline bounds
//! all its pages.
//!
//! Why the embedded images and not a renderer: the scans are the images
//! themselves (a scanner or a "print to PDF" of a scan writes one image a
//! page), they are already in memory, and decoding them is memory-safe
//! Rust; a renderer (poppler's `pdftoppm`, MuPDF) would be one more
//! program to install and run per page, for the same pixels. A page drawn
//! as vector outlines without text is not covered (no image to read).
//!
//! Every page that is not read says why, in the file's manifest notes:
//! tesseract missing (once known, later pages are not tried again), an
//! image in an encoding without a decoder (JPEG 2000, JBIG2), an OCR
//! failure or timeout, the page cap ([`PdfOcr::max_pages`]) or the file's
//! deadline.
//!
//! Reproducibility: the text depends on the tesseract version and models,
//! as for screenshots; the pages read depend on the clock only when the
//! file's deadline cuts the OCR short, and that is noted.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use image::{DynamicImage, GrayImage, ImageBuffer, Rgb};
use serde::{Deserialize, Serialize};

use super::pdf::PageImage;
use crate::ocr::{self, DecodeLimits, ImageError, OcrConfig};

/// How the pages of a PDF that have no text layer (scans) are read by OCR;
/// `None` in [`super::ExtractLimits::pdf_ocr`] lists them with a reason
/// instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdfOcr {
    /// Tesseract models joined by `+` (`eng`, `eng+rus`).
    pub lang: String,
    /// The tesseract program (`tesseract` on `PATH` by default).
    pub tesseract: PathBuf,
    /// Longest time one page may take (every pass).
    pub page_timeout: Duration,
    /// Most pages of one PDF read by OCR; later scanned pages are listed
    /// with a reason.
    pub max_pages: usize,
}

impl PdfOcr {
    /// Default time one page may take: 60 s.
    pub const DEFAULT_PAGE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default cap on OCR'd pages per PDF.
    pub const DEFAULT_MAX_PAGES: usize = 1000;

    /// OCR with the models `lang` and the defaults.
    pub fn new(lang: &str) -> PdfOcr {
        PdfOcr {
            lang: lang.to_owned(),
            tesseract: PathBuf::from("tesseract"),
            page_timeout: PdfOcr::DEFAULT_PAGE_TIMEOUT,
            max_pages: PdfOcr::DEFAULT_MAX_PAGES,
        }
    }
}

impl Default for PdfOcr {
    fn default() -> Self {
        PdfOcr::new(OcrConfig::DEFAULT_LANG)
    }
}

/// Time kept back from the file's deadline: OCR of a page does not start
/// with less than this left.
const MIN_PAGE_TIME: Duration = Duration::from_secs(2);

/// Reads the scanned pages of one PDF, in page order.
pub(crate) struct PageReader<'a> {
    cfg: &'a PdfOcr,
    ocr: Result<OcrConfig, String>,
    deadline: Option<Instant>,
    unavailable: Option<String>,
    done: usize,
}

impl<'a> PageReader<'a> {
    /// A reader for one file; `deadline` is when the file's extraction must
    /// be over (the worker's), if any.
    pub(crate) fn new(cfg: &'a PdfOcr, deadline: Option<Instant>) -> PageReader<'a> {
        let ocr = OcrConfig::builder()
            .lang(&cfg.lang)
            .tesseract(cfg.tesseract.clone())
            .timeout(cfg.page_timeout.max(OcrConfig::MIN_TIMEOUT))
            .build()
            .map_err(|e| format!("OCR not run: {e}"));
        PageReader {
            cfg,
            ocr,
            deadline,
            unavailable: None,
            done: 0,
        }
    }

    /// The text of one scanned page from its images (in their order), or
    /// why it could not be read (a phrase starting `OCR`). An empty text
    /// is a page where OCR found no word.
    pub(crate) fn read(&mut self, images: &[PageImage]) -> Result<String, String> {
        let ocr = self.ocr.as_ref().map_err(Clone::clone)?;
        if let Some(why) = &self.unavailable {
            return Err(why.clone());
        }
        if self.done >= self.cfg.max_pages {
            return Err(format!(
                "OCR not run: past the limit of {} OCR pages per file",
                self.cfg.max_pages
            ));
        }
        let now = Instant::now();
        let mut page_deadline = now + ocr.timeout();
        if let Some(d) = self.deadline {
            let left = d.saturating_duration_since(now);
            if left < MIN_PAGE_TIME {
                return Err(
                    "OCR not run: the file's extraction deadline was reached (--extract-timeout)"
                        .to_owned(),
                );
            }
            page_deadline = page_deadline.min(d);
        }
        self.done += 1;
        let mut text = String::new();
        for img in images {
            let grey = to_grey(img, ocr.decode_limits()).map_err(|e| {
                format!(
                    "OCR not run: {}x{} {}: {e}",
                    img.width, img.height, img.kind
                )
            })?;
            let rec = match ocr::recognize_grey(&grey, img.kind, ocr, page_deadline) {
                Ok(rec) => rec,
                Err(e) => {
                    let why = format!("OCR failed: {e}");
                    if matches!(&e, ImageError::Ocr { reason } if reason.starts_with("cannot run"))
                    {
                        self.unavailable = Some(why.clone());
                    }
                    return Err(why);
                }
            };
            // The OCR pass tesseract was surest of (a second reading by
            // rows is no pass of its own: a page really set in columns
            // would be indexed with its columns interleaved).
            let best = rec
                .passes
                .into_iter()
                .filter(|p| !p.by_rows)
                .reduce(|a, b| if b.mean_conf > a.mean_conf { b } else { a });
            if let Some(pass) = best {
                let t = pass.text.trim();
                if !t.is_empty() {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(t);
                }
            }
        }
        Ok(text)
    }
}

/// A page image as grey pixels, under `limits`.
fn to_grey(img: &PageImage, limits: &DecodeLimits) -> Result<GrayImage, ImageError> {
    match img.kind {
        "pnm" => {
            ocr::decode::check_size(img.width, img.height, limits)?;
            from_pnm(&img.file).ok_or_else(|| ImageError::Decode {
                reason: "bad samples".to_owned(),
            })
        }
        "jpeg" => {
            let (grey, _) = ocr::decode::decode(&img.file, limits)?;
            Ok(grey)
        }
        other => Err(ImageError::Decode {
            reason: format!("no decoder for {other} images"),
        }),
    }
}

/// The binary PNM (P5 grey, P6 RGB, 8 bits) written by [`super::pdf`].
fn from_pnm(file: &[u8]) -> Option<GrayImage> {
    let mut fields = Vec::with_capacity(4);
    let mut at = 0;
    while fields.len() < 4 {
        let end = at
            + file
                .get(at..)?
                .iter()
                .position(|&b| b == b'\n' || b == b' ')?;
        fields.push(std::str::from_utf8(&file[at..end]).ok()?);
        at = end + 1;
    }
    let w: u32 = fields[1].parse().ok()?;
    let h: u32 = fields[2].parse().ok()?;
    let samples = file.get(at..)?.to_vec();
    match fields[0] {
        "P5" => GrayImage::from_raw(w, h, samples),
        "P6" => {
            let rgb: ImageBuffer<Rgb<u8>, Vec<u8>> = ImageBuffer::from_raw(w, h, samples)?;
            Some(ocr::decode::to_grey(DynamicImage::ImageRgb8(rgb)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnm_round_trip() {
        let mut f = b"P5\n3 2\n255\n".to_vec();
        f.extend_from_slice(&[0, 128, 255, 1, 2, 3]);
        let g = from_pnm(&f).unwrap();
        assert_eq!((g.width(), g.height()), (3, 2));
        assert_eq!(g.as_raw(), &[0, 128, 255, 1, 2, 3]);
        let mut f = b"P6\n1 1\n255\n".to_vec();
        f.extend_from_slice(&[255, 255, 255]);
        assert_eq!(from_pnm(&f).unwrap().as_raw(), &[255]);
        // Too few samples, a bad header.
        assert!(from_pnm(b"P5\n3 2\n255\n\x00").is_none());
        assert!(from_pnm(b"P5\n3").is_none());
        assert!(from_pnm(b"P7\n1 1\n255\n\x00").is_none());
    }

    #[test]
    fn a_missing_tesseract_is_named_once_and_remembered() {
        let cfg = PdfOcr {
            tesseract: PathBuf::from("/nonexistent/tesseract"),
            ..PdfOcr::default()
        };
        let mut r = PageReader::new(&cfg, None);
        let mut f = b"P5\n8 8\n255\n".to_vec();
        f.extend_from_slice(&[255; 64]);
        let img = PageImage {
            page: 1,
            width: 8,
            height: 8,
            kind: "pnm",
            file: f,
        };
        let e = r.read(std::slice::from_ref(&img)).unwrap_err();
        assert!(e.contains("apt-get install tesseract-ocr"), "{e}");
        assert_eq!(r.unavailable.as_deref(), Some(e.as_str()));
        assert_eq!(r.read(&[img]).unwrap_err(), e);
    }

    #[test]
    fn the_page_cap_and_the_deadline_are_reasons() {
        let cfg = PdfOcr {
            max_pages: 0,
            ..PdfOcr::default()
        };
        let e = PageReader::new(&cfg, None).read(&[]).unwrap_err();
        assert!(e.contains("limit of 0 OCR pages"), "{e}");
        let cfg = PdfOcr::default();
        let e = PageReader::new(&cfg, Some(Instant::now()))
            .read(&[])
            .unwrap_err();
        assert!(e.contains("deadline"), "{e}");
    }
}
