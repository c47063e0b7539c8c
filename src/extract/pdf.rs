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
//! content stream is a deflate bomb can allocate far beyond its size; running
//! extraction in a child process would bound that, at a cost per file.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pdf_extract::{Document, PlainTextOutput};

use super::sink::Sink;
use super::Format;

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
    let pages: Vec<u32> =
        match catch_unwind(AssertUnwindSafe(|| doc.get_pages().into_keys().collect())) {
            Ok(p) => p,
            Err(_) => {
                sink.skip(name, "PDF parser panicked while listing pages");
                sink.binary(name, Format::Pdf);
                return;
            }
        };
    let mut text = String::new();
    let mut failed: Vec<String> = Vec::new();
    for &page in &pages {
        let mut page_text = String::new();
        let run = catch_unwind(AssertUnwindSafe(|| {
            let mut out = PlainTextOutput::new(&mut page_text);
            pdf_extract::output_doc_page(&doc, &mut out, page)
        }));
        match run {
            Ok(Ok(())) => {
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
    if pages.is_empty() {
        sink.skip(name, "PDF has no readable page tree");
    }
    if failed.len() == pages.len() {
        sink.binary(name, Format::Pdf);
    } else {
        sink.text(name, Format::Pdf, text);
    }
}
