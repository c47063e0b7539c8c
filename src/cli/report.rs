//! `leakprint report`: one self-contained HTML file of evidence.
//!
//! For each input (files, or folders walked as `match` walks them) that
//! matched: the screenshot (embedded as a `data:` URI) with the matched
//! words outlined, and for every match the source path and part, both byte
//! spans, score and similarity, the item's passage and the source's passage
//! side by side with the words that differ marked (`<del>` in the item,
//! `<ins>` in the source; a word diff by the `similar` crate). Text inputs
//! (any format `match --format file` reads) get the same without the
//! picture. Unmatched items and errors are listed apart, at the end.
//!
//! Invariants: every string that comes from an input, the index or OCR is
//! HTML-escaped (text and attribute rules) before it is written; the page
//! loads nothing from outside (no scripts, no links, images inline); the
//! outlines are positioned in percent of the image's own size, so they stay
//! on their words at any display size (the browser test checks this).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine as _;
use clap::Args;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use leakprint::extract::{extract, ExtractLimits};
use leakprint::index::builder::walk::{walk, Entry};
use leakprint::index::Index;
use leakprint::matcher::{Match, MatchConfig, Matcher};
use leakprint::ocr::{self, OcrConfig};
use leakprint::stream::{self, PipelineConfig};

use super::parse_size;

/// Options of `leakprint report`.
#[derive(Args)]
pub struct ReportArgs {
    /// The index folder (or segment file) to match against.
    #[arg(short, long)]
    index: PathBuf,
    /// The HTML file to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Largest input file read.
    #[arg(long, value_parser = parse_size, default_value = "256MiB")]
    max_file_size: u64,
    #[command(flatten)]
    extract: super::ExtractLimitArgs,
    #[command(flatten)]
    ocr: super::OcrArgs,
    /// Report every source text, also texts that only share a piece of a
    /// stretch another text's match already explains (as `match
    /// --every-source`; images are matched that way always).
    #[arg(long)]
    every_source: bool,
    /// Images, text files or folders to report on.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

/// Characters of context shown around a passage on each side.
const CONTEXT_CHARS: usize = 80;

/// One item's part of the report.
struct Section {
    /// The HTML of a matched item (empty when nothing matched).
    html: String,
    /// The item's name, for the unmatched list.
    name: String,
    /// An error about the item.
    error: Option<String>,
}

const STYLE: &str = "body{font:14px/1.45 sans-serif;margin:24px;color:#111;background:#fff}\
h1{font-size:20px}h2{font-size:16px;margin:28px 0 8px;word-break:break-all}\
.shot{position:relative;display:inline-block;max-width:100%;border:1px solid #ccc}\
.shot img{display:block;width:100%;height:auto}\
.shot .box{position:absolute;outline:2px solid #e0115f;background:rgba(224,17,95,.12)}\
.item{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\
.shotwrap{flex:0 1 640px;min-width:200px}\
table.m{border-collapse:collapse;margin:8px 0}table.m td,table.m th{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}\
.pass{white-space:pre-wrap;font-family:monospace;font-size:13px;max-width:560px}\
del{background:#fdd;text-decoration:line-through}ins{background:#cfc;text-decoration:none}\
.ctx{color:#888}.err{color:#a00}";

/// Run `leakprint report`.
pub fn run(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let index = Index::open(&a.index)
        .with_context(|| format!("cannot open the index {}", a.index.display()))?;
    let config = MatchConfig::builder()
        .every_source(a.every_source)
        .build()
        .context("bad option")?;
    let matcher = Matcher::new(&index, config);
    let ocr_cfg = a.ocr.config(&a.extract)?;
    let limits = a.extract.limits(a.ocr.lang())?;
    let threads = if a.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        a.threads
    };
    let entries = walk(&a.inputs).context("cannot read the inputs")?;
    let tmp = a.output.with_extension("html.tmp");
    let file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let mut out = BufWriter::new(file);
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\
         <title>leakprint evidence report</title><style>{STYLE}</style></head><body>\n\
         <h1>leakprint evidence report</h1>\n<p>Index: <code>{}</code></p>\n",
        text(&a.index.display().to_string())
    )?;
    let mut unmatched = Vec::new();
    let mut errors = Vec::new();
    let mut matched = 0usize;
    let items = entries.into_iter();
    let ctx = Ctx {
        matcher: &matcher,
        ocr: &ocr_cfg,
        limits: &limits,
        max_file_size: a.max_file_size,
    };
    let pipeline = PipelineConfig {
        threads,
        ordered: true,
    };
    stream::run(
        &pipeline,
        items,
        |e| ctx.section(e),
        |s: Section| -> std::io::Result<()> {
            if let Some(e) = s.error {
                errors.push(e);
            } else if s.html.is_empty() {
                unmatched.push(s.name);
            } else {
                matched += 1;
                out.write_all(s.html.as_bytes())?;
            }
            Ok(())
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    write!(
        out,
        "<h2>Not matched ({})</h2>\n<ul id=\"unmatched\">",
        unmatched.len()
    )?;
    for n in &unmatched {
        write!(out, "<li>{}</li>", text(n))?;
    }
    write!(
        out,
        "</ul>\n<h2>Errors ({})</h2>\n<ul id=\"errors\">",
        errors.len()
    )?;
    for e in &errors {
        write!(out, "<li class=\"err\">{}</li>", text(e))?;
    }
    writeln!(out, "</ul>\n</body></html>")?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &a.output)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    for e in &errors {
        eprintln!("leakprint: error: {e}");
    }
    eprintln!(
        "leakprint: {} matched, {} not matched, {} errors: {}",
        matched,
        unmatched.len(),
        errors.len(),
        a.output.display()
    );
    Ok(ExitCode::from(if !errors.is_empty() {
        super::EXIT_ERROR
    } else if matched > 0 {
        0
    } else {
        1
    }))
}

struct Ctx<'a> {
    matcher: &'a Matcher<'a>,
    ocr: &'a OcrConfig,
    limits: &'a ExtractLimits,
    max_file_size: u64,
}

impl Ctx<'_> {
    fn section(&self, e: Entry) -> Section {
        let (path, name) = match e {
            Entry::File { path, display, .. } => (path, leakprint::names::display(&display)),
            Entry::Skipped { display, reason } => {
                let display = leakprint::names::display(&display);
                return Section {
                    html: String::new(),
                    error: Some(format!("{display}: skipped: {reason}")),
                    name: display,
                };
            }
        };
        let mut bytes = Vec::new();
        let read =
            File::open(&path).and_then(|f| f.take(self.max_file_size + 1).read_to_end(&mut bytes));
        let fail = |why: String| Section {
            html: String::new(),
            error: Some(format!("{name}: {why}")),
            name: name.clone(),
        };
        match read {
            Err(e) => return fail(e.to_string()),
            Ok(n) if n as u64 > self.max_file_size => {
                return fail("larger than --max-file-size".to_owned())
            }
            Ok(_) => {}
        }
        let html = if ocr::sniff(&bytes).is_some() {
            match self.image(&name, &bytes) {
                Ok(h) => h,
                Err(e) => return fail(e),
            }
        } else {
            match self.text(&name, &bytes) {
                Ok(h) => h,
                Err(e) => return fail(e),
            }
        };
        Section {
            html,
            name,
            error: None,
        }
    }

    fn image(&self, name: &str, bytes: &[u8]) -> Result<String, String> {
        let found = ocr::find_in_image(self.matcher, bytes, self.ocr).map_err(|e| e.to_string())?;
        if found.matches.is_empty() {
            return Ok(String::new());
        }
        let (mime, data) = embeddable(bytes, self.ocr)?;
        let mut h = String::new();
        let _ = write!(
            h,
            "<section class=\"item\" data-kind=\"image\"><h2>{}</h2>\n<div class=\"shotwrap\">\
             <div class=\"shot\" data-width=\"{}\" data-height=\"{}\"><img alt=\"{}\" src=\"data:{mime};base64,{}\">",
            text(name),
            found.width,
            found.height,
            attr(name),
            base64::engine::general_purpose::STANDARD.encode(&data)
        );
        let (w, hgt) = (f64::from(found.width), f64::from(found.height));
        for (i, m) in found.matches.iter().enumerate() {
            for b in found.page.boxes_for(m.query_span.clone()) {
                let _ = write!(
                    h,
                    "<div class=\"box\" data-match=\"{i}\" data-left=\"{}\" data-top=\"{}\" data-width=\"{}\" data-height=\"{}\" \
                     style=\"left:{:.4}%;top:{:.4}%;width:{:.4}%;height:{:.4}%\"></div>",
                    b.left,
                    b.top,
                    b.width,
                    b.height,
                    100.0 * f64::from(b.left) / w,
                    100.0 * f64::from(b.top) / hgt,
                    100.0 * f64::from(b.width) / w,
                    100.0 * f64::from(b.height) / hgt
                );
            }
        }
        h.push_str("</div></div>\n<div>");
        for (i, m) in found.matches.iter().enumerate() {
            h.push_str(&self.match_table(i, &found.text, m));
        }
        let rows = if found.by_rows {
            ", words read by rows"
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<p class=\"ctx\">OCR: {} pass(es){rows}, mean word confidence {:.0}</p></div></section>",
            found.passes, found.mean_conf
        );
        Ok(h)
    }

    fn text(&self, name: &str, bytes: &[u8]) -> Result<String, String> {
        let ex = extract(bytes, name, self.limits);
        let mut body = String::new();
        let mut n = 0;
        for part in &ex.parts {
            let found = self
                .matcher
                .try_find(&part.text)
                .map_err(|e| e.to_string())?;
            for m in &found {
                body.push_str(&self.match_table(n, &part.text, m));
                n += 1;
            }
        }
        if n == 0 {
            return Ok(String::new());
        }
        Ok(format!(
            "<section class=\"item\" data-kind=\"text\"><h2>{}</h2>\n<div>{body}</div></section>\n",
            text(name)
        ))
    }

    /// The evidence of one match: where, how similar, both passages.
    fn match_table(&self, i: usize, query: &str, m: &Match) -> String {
        let source_text = self
            .matcher
            .index()
            .segments()
            .get(m.segment as usize)
            .and_then(|s| s.part_text(m.part).ok())
            .unwrap_or_default();
        let q = slice(query, m.query_span.clone());
        let s = slice(&source_text, m.source_span.clone());
        let (q_html, s_html) = diff_html(q, s);
        let mut h = String::new();
        let _ = writeln!(
            h,
            "<table class=\"m\" data-match=\"{i}\"><tr><th>source</th><td><code>{}</code></td></tr>\
             <tr><th>spans</th><td>item {}..{}, source {}..{}</td></tr>\
             <tr><th>similarity</th><td>{:.3} (score {:.3}, {} normalized bytes aligned)</td></tr>\
             <tr><th>item</th><td class=\"pass\"><span class=\"ctx\">{}</span>{}<span class=\"ctx\">{}</span></td></tr>\
             <tr><th>source</th><td class=\"pass\"><span class=\"ctx\">{}</span>{}<span class=\"ctx\">{}</span></td></tr></table>",
            text(&m.source),
            m.query_span.start,
            m.query_span.end,
            m.source_span.start,
            m.source_span.end,
            m.similarity,
            m.score,
            m.aligned_len,
            text(&context_before(query, m.query_span.start)),
            q_html,
            text(&context_after(query, m.query_span.end)),
            text(&context_before(&source_text, m.source_span.start)),
            s_html,
            text(&context_after(&source_text, m.source_span.end)),
        );
        h
    }
}

/// `s[r]`, or "" when the range is not on character boundaries.
fn slice(s: &str, r: std::ops::Range<usize>) -> &str {
    s.get(r).unwrap_or("")
}

fn context_before(s: &str, at: usize) -> String {
    let head = s.get(..at).unwrap_or("");
    let start = head
        .char_indices()
        .rev()
        .nth(CONTEXT_CHARS - 1)
        .map_or(0, |(i, _)| i);
    let mut t = head[start..].to_owned();
    if start > 0 {
        t.insert(0, '…');
    }
    t
}

fn context_after(s: &str, at: usize) -> String {
    let tail = s.get(at..).unwrap_or("");
    let end = tail
        .char_indices()
        .nth(CONTEXT_CHARS)
        .map_or(tail.len(), |(i, _)| i);
    let mut t = tail[..end].to_owned();
    if end < tail.len() {
        t.push('…');
    }
    t
}

/// Both passages as HTML, words only in the item in `<del>`, words only
/// in the source in `<ins>`; everything escaped.
pub(crate) fn diff_html(item: &str, source: &str) -> (String, String) {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::configure().diff_words(item, source);
    let (mut a, mut b) = (String::new(), String::new());
    for change in diff.iter_all_changes() {
        let v = text(change.value());
        match change.tag() {
            ChangeTag::Equal => {
                a.push_str(&v);
                b.push_str(&v);
            }
            ChangeTag::Delete => {
                let _ = write!(a, "<del>{v}</del>");
            }
            ChangeTag::Insert => {
                let _ = write!(b, "<ins>{v}</ins>");
            }
        }
    }
    (a, b)
}

/// The image as a browser shows it: the original bytes for the formats
/// browsers read, a PNG re-encoding for TIFF.
fn embeddable(bytes: &[u8], cfg: &OcrConfig) -> Result<(&'static str, Vec<u8>), String> {
    use image::ImageFormat;
    let format = ocr::sniff(bytes).ok_or("not an image")?;
    let mime = match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Gif => "image/gif",
        ImageFormat::WebP => "image/webp",
        ImageFormat::Bmp => "image/bmp",
        _ => {
            let (grey, _) =
                ocr::decode::decode(bytes, cfg.decode_limits()).map_err(|e| e.to_string())?;
            let mut png = std::io::Cursor::new(Vec::new());
            grey.write_to(&mut png, ImageFormat::Png)
                .map_err(|e| e.to_string())?;
            return Ok(("image/png", png.into_inner()));
        }
    };
    Ok((mime, bytes.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changed_words_and_escapes() {
        let (a, b) = diff_html("we will <b> share", "we would <b> share");
        assert!(a.contains("<del>will</del>"), "{a}");
        assert!(b.contains("<ins>would</ins>"), "{b}");
        assert!(!a.contains("<b>") && !b.contains("<b>"), "{a} {b}");
        assert!(
            a.contains("&lt;b&gt;") && b.contains("&lt;b&gt;"),
            "{a} {b}"
        );
    }

    #[test]
    fn context_is_cut_on_characters() {
        let s = "é".repeat(200);
        let before = context_before(&s, 200);
        assert!(before.starts_with('…'));
        assert_eq!(before.chars().count(), CONTEXT_CHARS + 1);
        assert_eq!(context_after(&s, 398).chars().count(), 1);
        assert_eq!(context_before(&s, 1), "");
    }
}
