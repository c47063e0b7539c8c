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
//! is a scan. [`scanned_page_images`] hands out its embedded images, ready
//! for OCR (see [`PageImage`]: the stored JPEG as it is, or decoded gray
//! or RGB samples as a PNM file: 8-bit samples, 1-bit samples and stencil
//! masks, CCITT Group 4 and Group 3 fax data). With
//! [`super::ExtractLimits::pdf_ocr`] set, each such page is read by OCR
//! ([`super::scan`]) into the part `page N (OCR)`; otherwise, or when OCR
//! cannot read it, it is never silently empty: a note says "page N has no
//! text layer (scanned image WxH FORMAT): " and why it was not read.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use pdf_extract::{Document, ObjectId, PlainTextOutput};

use super::scan::PageReader;
use super::sink::Sink;
use super::{join, Format};

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
            "CCITTFaxDecode" => ccitt(doc, &img, width, height).map(|file| PageImage {
                page,
                width,
                height,
                kind: "pnm",
                file,
            }),
            _ => None,
        };
        if let Some(f) = found {
            out.push(f);
            continue;
        }
        match last {
            "DCTDecode" | "JPXDecode" | "CCITTFaxDecode" => {
                other.push(format!("{width}x{height} {last}"))
            }
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
    let mask = image_mask(img);
    let channels: usize = match img.color_space.as_deref() {
        Some("DeviceGray") | Some("CalGray") => 1,
        Some("DeviceRGB") | Some("CalRGB") => 3,
        None if mask => 1,
        _ => return None,
    };
    let bits = if mask {
        1
    } else {
        img.bits_per_component.unwrap_or(0)
    };
    if bits != 8 && !(bits == 1 && channels == 1) {
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
    let mut file = pnm_header(channels, w, h);
    if bits == 8 {
        file.extend_from_slice(samples.get(..len)?);
        return Some(file);
    }
    // 1 bit a sample, rows padded to a byte: 0 is black (a grey sample of
    // 0, or the painted part of a stencil mask).
    let row = (w as usize).div_ceil(8);
    let packed = samples.get(..row.checked_mul(h as usize)?)?;
    for r in packed.chunks_exact(row) {
        file.extend((0..w as usize).map(|x| {
            if r[x / 8] & (0x80 >> (x % 8)) == 0 {
                0
            } else {
                255
            }
        }));
    }
    Some(file)
}

/// Whether an image XObject is a stencil mask (`/ImageMask true`).
fn image_mask(img: &pdf_extract::xobject::PdfImage<'_>) -> bool {
    img.origin_dict
        .get(b"ImageMask")
        .and_then(|o| o.as_bool())
        .unwrap_or(false)
}

/// The header of a binary PNM of `channels` (1: P5 grey, 3: P6 RGB).
fn pnm_header(channels: usize, w: u32, h: u32) -> Vec<u8> {
    format!("P{}\n{w} {h}\n255\n", if channels == 1 { 5 } else { 6 }).into_bytes()
}

/// A CCITT fax image (Group 4, or Group 3 one-dimensional) as a grey PNM
/// (`fax`, MIT, the decoder the `tiff` crate uses), under [`MAX_PAGE_IMAGE`].
fn ccitt(
    doc: &Document,
    img: &pdf_extract::xobject::PdfImage<'_>,
    w: u32,
    h: u32,
) -> Option<Vec<u8>> {
    let filters = img.filters.as_deref().unwrap_or_default();
    let data = if filters.len() == 1 {
        img.content.to_vec()
    } else {
        undo_filters(doc, img.id, filters.len().checked_sub(1)?)?
    };
    // DecodeParms: a dictionary, or an array with one per filter.
    let parms = img
        .origin_dict
        .get(b"DecodeParms")
        .or_else(|_| img.origin_dict.get(b"DP"))
        .ok()
        .and_then(|p| match p {
            pdf_extract::Object::Dictionary(d) => Some(d.clone()),
            pdf_extract::Object::Array(a) => a.last().and_then(|o| o.as_dict().ok()).cloned(),
            pdf_extract::Object::Reference(id) => doc.get_dictionary(*id).ok().cloned(),
            _ => None,
        });
    let int = |key: &[u8], default: i64| {
        parms
            .as_ref()
            .and_then(|d| d.get(key).ok())
            .and_then(|o| o.as_i64().ok())
            .unwrap_or(default)
    };
    let k = int(b"K", 0);
    let columns = u16::try_from(int(b"Columns", 1728)).ok()?;
    let rows = u16::try_from(h).ok()?;
    if u32::from(columns) != w || (w as usize).checked_mul(h as usize)? > MAX_PAGE_IMAGE {
        return None;
    }
    let mut file = pnm_header(1, w, h);
    let want = file.len() + (w as usize) * (h as usize);
    let mut line = |transitions: &[u16]| {
        if file.len() < want {
            file.extend(fax::decoder::pels(transitions, columns).map(|c| match c {
                fax::Color::Black => 0u8,
                fax::Color::White => 255,
            }));
        }
    };
    let bytes = data.iter().copied();
    if k < 0 {
        fax::decoder::decode_g4(bytes, columns, Some(rows), &mut line)?;
    } else {
        fax::decoder::decode_g3(bytes, &mut line)?;
    }
    // Lines the data did not give are white.
    file.resize(want, 255);
    Some(file)
}

/// Extract the text of a PDF into the part `name`; its scanned pages are
/// read by OCR into the parts `page N (OCR)` when the limits ask for it,
/// until `deadline` (the extraction worker's), if any.
pub(crate) fn extract_pdf(
    sink: &mut Sink<'_>,
    bytes: &[u8],
    name: &str,
    deadline: Option<Instant>,
) {
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
    let mut read: Vec<(u32, String)> = Vec::new();
    let mut reader = sink
        .limits
        .pdf_ocr
        .as_ref()
        .map(|cfg| PageReader::new(cfg, deadline));
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
                        what.extend(other.iter().cloned());
                        let head = format!(
                            "page {page} has no text layer (scanned image {})",
                            what.join(", ")
                        );
                        match (&mut reader, images.is_empty()) {
                            _ if what.is_empty() => {}
                            (None, _) => scanned.push(format!("{head}: OCR not run")),
                            (Some(_), true) => scanned.push(format!(
                                "{head}: OCR not run: cannot decode {}",
                                other.join(", ")
                            )),
                            (Some(r), false) => {
                                match catch_unwind(AssertUnwindSafe(|| r.read(&images)))
                                    .unwrap_or_else(|_| Err("OCR failed: it panicked".to_owned()))
                                {
                                    Ok(t) if t.is_empty() => {
                                        scanned.push(format!("{head}: OCR found no text"))
                                    }
                                    Ok(t) => {
                                        if !other.is_empty() {
                                            scanned.push(format!(
                                            "{head}: OCR read the other images; cannot decode {}",
                                            other.join(", ")
                                        ));
                                        }
                                        read.push((page, t));
                                    }
                                    Err(why) => scanned.push(format!("{head}: {why}")),
                                }
                            }
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
    for (page, t) in read {
        sink.text(&join(name, &format!("page {page} (OCR)")), Format::Pdf, t);
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
