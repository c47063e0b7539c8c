//! `leakprint index` and `leakprint compact`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use leakprint::index::builder::{Mode, Progress};
use leakprint::index::{BuildSummary, IndexBuilder};

use super::{human_bytes, interactive, parse_size};

#[derive(Args)]
pub struct IndexArgs {
    /// Files and folders to index.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The index folder to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Add to an existing index instead of replacing it: files already
    /// indexed with the same bytes are skipped, changed ones replace their
    /// earlier version, identical files under new paths are recorded as
    /// copies.
    #[arg(long)]
    append: bool,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Memory budget, e.g. 512MiB; fingerprints spill to disk beyond it.
    #[arg(long, value_parser = parse_size, default_value = "1GiB")]
    memory: u64,
    /// Largest file (or archive member) read whole; larger mbox and text
    /// files are streamed (messages, windows), ZIP and tar archives member
    /// by member, others get chunks only.
    #[arg(long, value_parser = parse_size, default_value = "256MiB")]
    max_file_size: u64,
    #[command(flatten)]
    extract: super::ExtractLimitArgs,
    /// Tesseract models for scanned PDF pages, joined by '+' (eng,
    /// eng+rus+chi_sim); each needs its Debian package (tesseract-ocr-rus, ...).
    #[arg(long, default_value = leakprint::ocr::OcrConfig::DEFAULT_LANG)]
    ocr_lang: String,
    /// A fingerprint found in at least this share of the parts is common
    /// (boilerplate: it never makes a match on its own)...
    #[arg(long, default_value_t = leakprint::index::builder::DEFAULT_COMMON_FRACTION)]
    common_fraction: f64,
    /// ...and in at least this many parts.
    #[arg(long, default_value_t = leakprint::index::builder::DEFAULT_COMMON_MIN_DOCS)]
    common_min_docs: u32,
    /// k-gram length in normalized bytes.
    #[arg(long, default_value_t = leakprint::index::builder::DEFAULT_K)]
    k: usize,
    /// Winnowing window in k-grams.
    #[arg(long, default_value_t = leakprint::index::builder::DEFAULT_W)]
    window: usize,
    /// How the stored text is compressed: lz4 (fast to verify matches) or
    /// zstd (a smaller index).
    #[arg(long, default_value = "lz4", value_parser = parse_codec)]
    text_codec: leakprint::index::wire::Codec,
    /// No progress bar and no summary.
    #[arg(short, long)]
    quiet: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RemoveArgs {
    /// The index folder.
    index: PathBuf,
    /// File paths as `leakprint info --files` shows them (a folder removes
    /// every file under it).
    #[arg(required = true)]
    paths: Vec<String>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn parse_codec(s: &str) -> Result<leakprint::index::wire::Codec, String> {
    match s {
        "lz4" => Ok(leakprint::index::wire::Codec::Lz4),
        "zstd" => Ok(leakprint::index::wire::Codec::Zstd),
        _ => Err(format!("unknown codec {s:?}: lz4 or zstd")),
    }
}

#[derive(Args)]
pub struct CompactArgs {
    /// The index folder.
    index: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Memory budget.
    #[arg(long, value_parser = parse_size, default_value = "1GiB")]
    memory: u64,
    /// Cut the index into N shards by key (a power of two): sub-folders
    /// the index folder lists, each holding 1/N of the postings and all the
    /// text; `match`, `info` and `serve` open the folder as before.
    #[arg(long, default_value_t = 1)]
    shards: u32,
    /// No progress bar and no summary.
    #[arg(short, long)]
    quiet: bool,
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, files: u64, bytes: u64) {
        if bytes > 0 {
            self.0.set_length(bytes);
            self.0.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        } else {
            self.0.set_length(files);
        }
    }
    fn file_done(&self, bytes: u64) {
        self.0.inc(bytes.max(u64::from(self.0.length() == Some(0))));
    }
    fn merging(&self) {
        self.0.set_message("merging fingerprints");
    }
}

fn cancel_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    // A second Ctrl-C kills the process the default way.
    let _ = ctrlc::set_handler(move || {
        if f.swap(true, Ordering::SeqCst) {
            std::process::exit(super::EXIT_INTERRUPTED as i32);
        }
    });
    flag
}

pub fn run(a: IndexArgs) -> anyhow::Result<ExitCode> {
    let indexer = IndexBuilder::new()
        .k(a.k)
        .window(a.window)
        .threads(a.threads)
        .memory(a.memory)
        .max_file_size(a.max_file_size)
        .common_fraction(a.common_fraction)
        .common_min_docs(a.common_min_docs)
        .extract_limits(a.extract.limits(&a.ocr_lang)?)
        .text_codec(a.text_codec)
        .cancel_flag(cancel_flag())
        .build()
        .context("bad option")?;
    if a.extract.ocr() {
        check_ocr(&a.ocr_lang, a.quiet)?;
    }
    let bar = progress_bar(a.quiet);
    let mode = if a.append { Mode::Append } else { Mode::Create };
    let summary = indexer.index_paths(&a.paths, &a.output, mode, &bar)?;
    bar.0.finish_and_clear();
    report(&summary, a.quiet, a.json)?;
    Ok(ExitCode::SUCCESS)
}

/// Before indexing with OCR of scanned PDF pages: models that tesseract
/// lacks are an error (the user asked for them); tesseract missing is a
/// warning (the pages are then listed in the manifest with the reason).
fn check_ocr(lang: &str, quiet: bool) -> anyhow::Result<()> {
    let cfg = leakprint::ocr::OcrConfig::builder()
        .lang(lang)
        .build()
        .context("bad option --ocr-lang")?;
    match leakprint::ocr::tesseract::installed_langs(cfg.tesseract()) {
        Err(e) => {
            if !quiet {
                eprintln!("warning: scanned PDF pages will not be read: {e} (or pass --no-ocr)");
            }
            Ok(())
        }
        // (The list asked for above: tesseract is run once.)
        Ok(have) => cfg
            .check_languages_in(&have)
            .map_err(|e| anyhow::anyhow!("--ocr-lang: {e}")),
    }
}

pub fn compact(a: CompactArgs) -> anyhow::Result<ExitCode> {
    let indexer = IndexBuilder::new()
        .threads(a.threads)
        .memory(a.memory)
        .cancel_flag(cancel_flag())
        .build()
        .context("bad option")?;
    let bar = progress_bar(a.quiet);
    let summary = indexer.compact_shards(&a.index, a.shards, &bar)?;
    bar.0.finish_and_clear();
    report(&summary, a.quiet, false)?;
    Ok(ExitCode::SUCCESS)
}

pub fn remove(a: RemoveArgs) -> anyhow::Result<ExitCode> {
    let indexer = IndexBuilder::new().build().context("bad option")?;
    let s = indexer.remove(&a.index, &a.paths)?;
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        eprintln!(
            "removed {} file(s); {} common fingerprints now (run leakprint compact to drop them for good)",
            s.removed, s.common
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(quiet: bool) -> Bar {
    if quiet || !interactive() {
        Bar(ProgressBar::hidden())
    } else {
        Bar(ProgressBar::new(0))
    }
}

fn report(s: &BuildSummary, quiet: bool, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(s)?);
    }
    if quiet {
        return Ok(());
    }
    let mbs = s.bytes as f64 / 1e6 / s.seconds.max(1e-9);
    eprintln!(
        "indexed {} files ({} with text, {} binary, {} skipped, {} copies), {} in {:.2}s ({mbs:.1} MB/s)",
        s.files,
        s.indexed,
        s.binary,
        s.skipped_files,
        s.copies,
        human_bytes(s.bytes),
        s.seconds
    );
    if s.unchanged + s.superseded > 0 {
        eprintln!(
            "{} already indexed and unchanged (skipped), {} replacing an earlier version",
            s.unchanged, s.superseded
        );
    }
    eprintln!(
        "{} parts ({} duplicates), {} of text, {} fingerprints ({} common), {} chunks; {} segment(s), {} on disk",
        s.parts,
        s.duplicate_parts,
        human_bytes(s.text_bytes),
        s.postings,
        s.common,
        s.chunks,
        s.segments,
        human_bytes(s.index_bytes)
    );
    if !s.skipped.is_empty() {
        let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (path, reason) in &s.skipped {
            let key = mask_numbers(reason);
            groups.entry(key).or_default().push(path);
        }
        eprintln!("skipped or read in part, by reason (details: leakprint info --files):");
        for (reason, paths) in groups {
            let example = paths.first().copied().unwrap_or("");
            eprintln!("  {:>6}  {reason}  (e.g. {example})", paths.len());
        }
    }
    Ok(())
}

/// Sizes and offsets (runs of 3 or more digits) vary between files with the
/// same reason; mask them so that such reasons group together.
fn mask_numbers(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut digits = String::new();
    for c in reason.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 3 {
            out.push('N');
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}
