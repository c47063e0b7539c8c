//! Images used as queries, as every front end runs them.
//!
//! - [`find_image`]: OCR an image and match its text ([`crate::ocr::find_in_image`]),
//!   with a failure of tesseract explained (a missing language model is
//!   named with the package that brings it);
//! - [`find_in_image`]: an image sent as a file: whole-file evidence
//!   (blake3 and chunks, [`Matcher::find_file`]) and the OCR matches, each
//!   part failing on its own.
//!
//! `leakprint match`, `leakprint serve` (`POST /v1/match/file`) and the
//! Python `Matcher.find_image` call these, so an image gives the same
//! matches and word boxes through all of them.

use crate::index::IndexError;
use crate::input::QueryId;
use crate::matcher::{FileEvidence, Matcher};
use crate::ocr::{self, ImageError, ImageMatches, OcrConfig};

use super::record::{Kind, TextRecord};

/// OCR `bytes` and match the text read (see [`crate::ocr::find_in_image`]).
///
/// # Errors
/// The [`ImageError`] of this image. When tesseract fails (or the OCR
/// worker does), the languages of `cfg` are checked, and a missing model
/// or program is the error given, naming the package to install.
pub fn find_image(
    matcher: &Matcher<'_>,
    bytes: &[u8],
    cfg: &OcrConfig,
) -> Result<ImageMatches, ImageError> {
    ocr::find_in_image(matcher, bytes, cfg).map_err(|e| explain(e, cfg))
}

/// A failure of tesseract, replaced by its cause when the cause is a
/// missing program or language model (tesseract's own message then only
/// says that loading failed).
fn explain(e: ImageError, cfg: &OcrConfig) -> ImageError {
    match e {
        ImageError::Ocr { .. } | ImageError::Worker { .. } => match cfg.check_languages() {
            Err(why) => why,
            Ok(()) => e,
        },
        e => e,
    }
}

/// What an image sent as a file found.
#[derive(Debug)]
pub struct ImageFindings {
    /// The name the image was queried under (its query id).
    pub name: String,
    /// Indexed files identical to it or sharing chunks with it, or the
    /// index error met while looking.
    pub evidence: Result<Vec<FileEvidence>, IndexError>,
    /// The OCR matches (with the page's word boxes), or why the image could
    /// not be read.
    pub image: Result<ImageMatches, ImageError>,
}

impl ImageFindings {
    /// Errors met, each naming the query: the whole-file lookup's, then
    /// the image's.
    pub fn errors(&self) -> Vec<String> {
        let whole = self.evidence.as_ref().err().map(|e| e.to_string());
        let image = self.image.as_ref().err().map(|e| e.to_string());
        whole
            .into_iter()
            .chain(image)
            .map(|e| format!("{}: {e}", self.name))
            .collect()
    }

    /// The records of the OCR matches (`"kind": "image"`, with boxes),
    /// found in the query `id`.
    pub fn image_records<'a>(&'a self, id: &'a QueryId) -> Vec<TextRecord<'a>> {
        match &self.image {
            Ok(found) => found
                .matches
                .iter()
                .map(|m| TextRecord::new(Kind::Image, Some(id), m, Some(&found.page)))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Look up an image used as a file query: its blake3 and chunks, then the
/// matches of its OCR text ([`find_image`]). `name` labels it and is never
/// opened.
pub fn find_in_image(
    matcher: &Matcher<'_>,
    name: &str,
    bytes: &[u8],
    cfg: &OcrConfig,
) -> ImageFindings {
    ImageFindings {
        name: name.to_owned(),
        evidence: matcher.find_file(bytes),
        image: find_image(matcher, bytes, cfg),
    }
}
