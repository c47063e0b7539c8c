//! PDF text in reading order, page by page.
//!
//! `pdf-extract` (MIT, on `lopdf`) lays out each page's text runs by their
//! positions. Real PDFs make PDF parsers panic, so loading and every page run
//! under `catch_unwind`: a page that panics or fails is reported and the
//! other pages are kept. Neither crate writes to stdout (they log through the
//! `log` facade only); a panic's message goes to stderr through the panic
//! hook. Encrypted files are opened with the empty user password (as viewers
//! do); if that fails they are skipped with the reason.
//!
//! Known limit: `lopdf` inflates streams without a size cap, so a PDF whose
//! content stream is a deflate bomb can allocate far beyond its size; with
//! isolation on, PDFs are read in the extraction worker under its caps.
//!
//! Scanned pages: a page whose text layer is empty but which draws images
//! is a scan. It is never silently empty: it is listed as a note "page N
//! has no text layer (scanned image WxH FORMAT): OCR not run", and
//! [`scanned_page_images`] hands out its embedded images, ready for OCR
//! (see [`PageImage`]: the stored JPEG or JPEG 2000 file as it is, or the
//! decoded 8-bit gray or RGB samples as a PNM file). That is the seam for
//! the OCR of issue 14: where the note is recorded, OCR of these images
//! (in this worker, under its memory cap and deadline) gives the page's
//! text instead.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pdf_extract::{Document, ObjectId, PlainTextOutput};

use super::sink::Sink;
use super::Format;

/// One image drawn on a page without a text layer, as OCR needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageImage {
    /// The page number (1-based, as in the PDF's page tree).
    pub(crate) page: u32,
    /// Width and height in samples.
    pub(crate) width: u32,
    /// Height in samples.
    pub(crate) height: u32,
    /// What [`PageImage::file`] holds: `jpeg`, `jpeg2000`, `pnm`.
    pub(crate) kind: &'static str,
    /// A standalone image file: the stored JPEG (`DCTDecode`) or JPEG 2000
    /// (`JPXDecode`) stream as it is, or decoded 8-bit gray or RGB samples
    /// (`FlateDecode` and friends) as a binary PNM (P5/P6).
    pub(crate) file: Vec<u8>,
}

/// Most bytes of decoded samples one page image may take (a 600 dpi
/// letter-size RGB scan is about 100 MB).
pub(crate) const MAX_PAGE_IMAGE: usize = 128 << 20;

/// The images of page `page` (object `id`), as files OCR can read; images
/// in other encodings (CCITT fax, JBIG2, 1-bit or CMYK samples) are left
/// out and named in the second list, with their size.
pub(crate) fn scanned_page_images(
    doc: &Document,
    page: u32,
    id: ObjectId,
) -> (Vec<PageImage>, Vec<String>) {
    let (mut out, mut other) = (Vec::new(), Vec::new());
    let Ok(images) = doc.get_page_images(id) else {
        return (out, other);
    };
    for img in images {
        let (Ok(width), Ok(height)) = (u32::try_from(img.width), u32::try_from(img.height)) else {
            continue;
        };
        let filters = img.filters.clone().unwrap_or_default();
        let last = filters.last().map(String::as_str).unwrap_or("");
        let stored = |kind: &'static str| {
            // Transport filters before the image codec (reportlab writes
            // ASCII85 around JPEGs) are undone; the codec is kept.
            let file = if filters.len() == 1 {
                Some(img.content.to_vec())
            } else {
                undo_filters(doc, img.id, filters.len() - 1)
            };
            file.map(|file| PageImage {
                page,
                width,
                height,
                kind,
                file,
            })
        };
        let found = match last {
            "DCTDecode" => stored("jpeg"),
            "JPXDecode" => stored("jpeg2000"),
            _ => None,
        };
        if let Some(f) = found {
            out.push(f);
            continue;
        }
        match last {
            "DCTDecode" | "JPXDecode" => other.push(format!("{width}x{height} {last}")),
            _ => match pnm(doc, &img, width, height) {
                Some(file) => out.push(PageImage {
                    page,
                    width,
                    height,
                    kind: "pnm",
                    file,
                }),
                None => other.push(format!(
                    "{width}x{height} {}",
                    if last.is_empty() { "raw" } else { last }
                )),
            },
        }
    }
    (out, other)
}

/// The content of stream `id` with its first `n` filters undone.
fn undo_filters(doc: &Document, id: ObjectId, n: usize) -> Option<Vec<u8>> {
    let stream = doc.get_object(id).ok()?.as_stream().ok()?;
    let names: Vec<pdf_extract::Object> = stream
        .filters()
        .ok()?
        .into_iter()
        .take(n)
        .map(|f| pdf_extract::Object::Name(f.to_vec()))
        .collect();
    let mut s = stream.clone();
    s.dict.set("Filter", pdf_extract::Object::Array(names));
    s.decompressed_content().ok()
}

/// 8-bit gray or RGB samples as a binary PNM, decoded under [`MAX_PAGE_IMAGE`].
fn pnm(
    doc: &Document,
    img: &pdf_extract::xobject::PdfImage<'_>,
    w: u32,
    h: u32,
) -> Option<Vec<u8>> {
    let channels: usize = match img.color_space.as_deref() {
        Some("DeviceGray") | Some("CalGray") => 1,
        Some("DeviceRGB") | Some("CalRGB") => 3,
        _ => return None,
    };
    if img.bits_per_component != Some(8) {
        return None;
    }
    let len = (w as usize)
        .checked_mul(h as usize)?
        .checked_mul(channels)?;
    if len == 0 || len > MAX_PAGE_IMAGE {
        return None;
    }
    let stream = doc.get_object(img.id).ok()?.as_stream().ok()?;
    let samples = if img.filters.as_ref().is_some_and(|f| !f.is_empty()) {
        stream.decompressed_content().ok()?
    } else {
        stream.content.clone()
    };
    let samples = samples.get(..len)?;
    let mut file = format!("P{}\n{w} {h}\n255\n", if channels == 1 { 5 } else { 6 }).into_bytes();
    file.extend_from_slice(samples);
    Some(file)
}

/// Extract the text of a PDF into the part `name`.
pub(crate) fn extract_pdf(sink: &mut Sink<'_>, bytes: &[u8], name: &str) {
    let loaded = catch_unwind(AssertUnwindSafe(|| Document::load_mem(bytes)));
    let mut doc = match loaded {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) => {
            sink.skip(name, format!("PDF not readable: {e}"));
            sink.binary(name, Format::Pdf);
            return;
        }
        Err(_) => {
            sink.skip(name, "PDF parser panicked while loading the file");
            sink.binary(name, Format::Pdf);
            return;
        }
    };
    if doc.is_encrypted() {
        let ok = catch_unwind(AssertUnwindSafe(|| doc.decrypt("").is_ok())).unwrap_or(false);
        if !ok {
            sink.skip(name, "encrypted PDF: needs a password");
            sink.binary(name, Format::Pdf);
            return;
        }
    }
    let pages: Vec<(u32, ObjectId)> =
        match catch_unwind(AssertUnwindSafe(|| doc.get_pages().into_iter().collect())) {
            Ok(p) => p,
            Err(_) => {
                sink.skip(name, "PDF parser panicked while listing pages");
                sink.binary(name, Format::Pdf);
                return;
            }
        };
    let mut text = String::new();
    let mut failed: Vec<String> = Vec::new();
    let mut scanned: Vec<String> = Vec::new();
    for &(page, id) in &pages {
        let mut page_text = String::new();
        let run = catch_unwind(AssertUnwindSafe(|| {
            let mut out = PlainTextOutput::new(&mut page_text);
            pdf_extract::output_doc_page(&doc, &mut out, page)
        }));
        match run {
            Ok(Ok(())) => {
                if page_text.trim().is_empty() {
                    let found =
                        catch_unwind(AssertUnwindSafe(|| scanned_page_images(&doc, page, id)));
                    if let Ok((images, other)) = found {
                        let mut what: Vec<String> = images
                            .iter()
                            .map(|i| format!("{}x{} {}", i.width, i.height, i.kind))
                            .collect();
                        what.extend(other);
                        if !what.is_empty() {
                            scanned.push(format!(
                                "page {page} has no text layer (scanned image {}): OCR not run",
                                what.join(", ")
                            ));
                        }
                    }
                }
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(&page_text);
            }
            Ok(Err(e)) => failed.push(format!("page {page}: {e}")),
            Err(_) => failed.push(format!("page {page}: parser panicked")),
        }
    }
    if !failed.is_empty() {
        let shown: Vec<&str> = failed.iter().take(5).map(String::as_str).collect();
        let more = failed.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        sink.skip(
            name,
            format!(
                "{} of {} PDF pages unreadable ({}{tail})",
                failed.len(),
                pages.len(),
                shown.join("; ")
            ),
        );
    }
    for note in scanned {
        sink.skip(name, note);
    }
    if pages.is_empty() {
        sink.skip(name, "PDF has no readable page tree");
    }
    if failed.len() == pages.len() {
        sink.binary(name, Format::Pdf);
    } else {
        sink.text(name, Format::Pdf, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/data/extract/scan/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// The seam for OCR: the scanned page hands out the very JPEG that was
    /// placed on it (reportlab's ASCII85 wrapping undone).
    #[test]
    fn scanned_page_gives_back_its_jpeg() {
        let doc = Document::load_mem(&fixture("mixed-scan.pdf")).unwrap();
        let pages: Vec<(u32, ObjectId)> = doc.get_pages().into_iter().collect();
        assert_eq!(pages.len(), 2);
        let (text_page, _) = scanned_page_images(&doc, pages[0].0, pages[0].1);
        assert!(text_page.is_empty());
        let (images, other) = scanned_page_images(&doc, pages[1].0, pages[1].1);
        assert!(other.is_empty(), "{other:?}");
        assert_eq!(images.len(), 1);
        let img = &images[0];
        assert_eq!(
            (img.page, img.width, img.height, img.kind),
            (2, 1114, 256, "jpeg")
        );
        assert_eq!(img.file, fixture("scan.jpg"));
    }
}
