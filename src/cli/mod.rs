//! Argument parsing and dispatch.

mod index;
mod info;
mod matching;
mod report;
mod serve;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status for errors (as grep).
pub const EXIT_ERROR: u8 = 2;
/// Exit status after Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser)]
#[command(
    name = "leakprint",
    version,
    about = "Index a leaked dump; find its content in posts, OCR text and files, with evidence."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Index files and folders into an index folder.
    Index(index::IndexArgs),
    /// Merge the segments of an index into one, dropping removed and
    /// superseded files for good.
    Compact(index::CompactArgs),
    /// Mark files of an index removed (not part of the leak, a legal
    /// request): matching ignores them at once; `compact` drops them.
    Remove(index::RemoveArgs),
    /// Find indexed content in posts, OCR output and files (JSON lines).
    Match(matching::MatchArgs),
    /// Write one HTML file of evidence: screenshots with the matched words
    /// outlined, source passages with the differences marked.
    Report(report::ReportArgs),
    /// Describe an index: counts, parameters, sections, files.
    Info(info::InfoArgs),
    /// Check every checksum and structure of an index.
    Verify(info::VerifyArgs),
    /// Serve matching over HTTP, reloading the index when it changes.
    Serve(serve::ServeArgs),
    /// Internal: read one PDF or legacy Office file for `index` or `match`
    /// (request on stdin, answer on stdout), under a memory cap.
    #[command(hide = true)]
    ExtractWorker,
    /// Internal: OCR one image for `match` or `report` (request on stdin,
    /// answer on stdout), under a memory and CPU cap.
    #[command(hide = true)]
    OcrWorker,
}

/// Extraction limits, shared by `index` and `match` (see `ExtractLimits`).
#[derive(clap::Args, Debug, Clone)]
pub struct ExtractLimitArgs {
    /// Most bytes of text kept from one part (the rest is cut, with a note).
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    max_part_text: u64,
    /// Most parts (attachments, archive entries, messages) read from one
    /// file; in a mailbox file, from each message.
    #[arg(long, default_value_t = 10_000)]
    max_parts: usize,
    /// Deepest nesting of containers (zip in mail in tar...).
    #[arg(long, default_value_t = 8)]
    max_depth: usize,
    /// Most bytes the parts of one file may expand to (archives, encodings).
    #[arg(long, value_parser = parse_size, default_value = "1GiB")]
    max_expanded: u64,
    /// Largest expansion ratio of one archive entry (bombs go over it).
    #[arg(long, default_value_t = 200)]
    max_ratio: u64,
    /// Do not OCR the pages of PDFs that have no text layer (scans): list
    /// them in the manifest instead. OCR needs tesseract (apt-get install
    /// tesseract-ocr); without it such pages are listed with that reason.
    #[arg(long)]
    no_ocr: bool,
    #[command(flatten)]
    isolation: IsolationArgs,
}

impl ExtractLimitArgs {
    /// The limits, with the extraction worker unless `--no-isolate` and
    /// scanned PDF pages read by OCR with the models `ocr_lang` unless
    /// `--no-ocr`, checked by the library's builder.
    pub fn limits(&self, ocr_lang: &str) -> anyhow::Result<leakprint::extract::ExtractLimits> {
        leakprint::query::config::ExtractLimitsBuilder::new()
            .max_part_text(usize::try_from(self.max_part_text).unwrap_or(usize::MAX))
            .max_parts(self.max_parts)
            .max_depth(self.max_depth)
            .max_expanded(self.max_expanded)
            .max_ratio(self.max_ratio)
            .isolation(self.isolation.isolation()?)
            .pdf_ocr((!self.no_ocr).then(|| leakprint::extract::PdfOcr::new(ocr_lang)))
            .build()
            .map_err(option_error)
    }

    /// Whether scanned PDF pages are read by OCR (no `--no-ocr`).
    pub fn ocr(&self) -> bool {
        !self.no_ocr
    }
}

/// A library configuration error, with the setting named as its option
/// (`max_parts` as `--max-parts`).
pub fn option_error(e: leakprint::ConfigError) -> anyhow::Error {
    match e {
        leakprint::ConfigError::OutOfRange {
            name,
            value,
            min,
            max,
        } => {
            anyhow::anyhow!(
                "bad option: --{} = {value} is out of range: it must be between {min} and {max}",
                name.replace('_', "-")
            )
        }
        e => anyhow::Error::new(e).context("bad option"),
    }
}

/// How images are read (`match`, `report`): tesseract models, steps, limits.
#[derive(clap::Args, Debug, Clone)]
pub struct OcrArgs {
    /// Tesseract models for images, joined by '+' (eng, eng+rus+chi_sim);
    /// each needs its Debian package (tesseract-ocr-rus, ...).
    #[arg(long, default_value = leakprint::ocr::OcrConfig::DEFAULT_LANG)]
    ocr_lang: String,
    /// Preprocessing steps of the first OCR pass, comma-separated: invert
    /// (dark mode), perspective (a photographed screen warped upright),
    /// upscale (small text, 2-4x), binarize (Sauvola), deskew; retry adds
    /// an upscaled second pass when the first one's mean word confidence is
    /// under 80 (and a third, 4x, when the second's is too); "none" for none.
    #[arg(long, default_value = "invert,perspective,deskew,retry")]
    ocr_steps: String,
    /// Longest time one image may take to OCR, in seconds.
    #[arg(long, default_value_t = leakprint::ocr::OcrConfig::DEFAULT_TIMEOUT.as_secs())]
    ocr_timeout: u64,
    /// Most pixels of an image (larger images are an error for that image).
    #[arg(long, default_value_t = leakprint::ocr::DecodeLimits::DEFAULT_MAX_PIXELS)]
    max_image_pixels: u64,
}

impl OcrArgs {
    /// The tesseract models (`--ocr-lang`).
    pub fn lang(&self) -> &str {
        &self.ocr_lang
    }

    /// The OCR configuration; images are read by this executable's
    /// `ocr-worker` command under `--extract-memory`, unless `--no-isolate`.
    pub fn config(&self, extract: &ExtractLimitArgs) -> anyhow::Result<leakprint::ocr::OcrConfig> {
        use anyhow::Context as _;
        let steps = leakprint::ocr::Steps::parse(&self.ocr_steps)
            .map_err(|e| anyhow::anyhow!("--ocr-steps: {e}"))?;
        let isolation = extract.isolation.isolation()?.map(|mut iso| {
            iso.args = vec!["ocr-worker".into()];
            iso
        });
        let limits = leakprint::ocr::DecodeLimits {
            max_pixels: self.max_image_pixels,
            ..Default::default()
        };
        leakprint::ocr::OcrConfig::builder()
            .lang(&self.ocr_lang)
            .steps(steps)
            .timeout(std::time::Duration::from_secs(self.ocr_timeout))
            .decode_limits(limits)
            .isolation(isolation)
            .build()
            .context("bad OCR option")
    }
}

/// Options of the extraction worker process, shared by `index` and `match`.
#[derive(clap::Args, Debug, Clone)]
pub struct IsolationArgs {
    /// Read PDF and legacy Office files in this process instead of a worker
    /// process (faster on many small files, but a hostile file can then
    /// exhaust memory or crash the run).
    #[arg(long)]
    no_isolate: bool,
    /// Address space the extraction worker may use per file.
    #[arg(long, value_parser = parse_size, default_value = "2GiB")]
    extract_memory: u64,
    /// Longest time one PDF or legacy Office file may take, in seconds.
    #[arg(long, default_value_t = 120)]
    extract_timeout: u64,
}

impl IsolationArgs {
    /// The isolation to use: this executable's `extract-worker` command.
    pub fn isolation(&self) -> anyhow::Result<Option<leakprint::extract::Isolation>> {
        use anyhow::Context as _;
        if self.no_isolate {
            return Ok(None);
        }
        let exe = std::env::current_exe().context(
            "cannot find this executable to run the extraction worker (use --no-isolate)",
        )?;
        leakprint::query::config::IsolationBuilder::new(exe, vec!["extract-worker".into()])
            .extract_memory(self.extract_memory)
            .extract_timeout(std::time::Duration::from_secs(self.extract_timeout))
            .build()
            .map(Some)
            .map_err(option_error)
    }
}

/// Run the command line; never panics on bad input.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.cmd {
        Cmd::Index(a) => index::run(a),
        Cmd::Compact(a) => index::compact(a),
        Cmd::Remove(a) => index::remove(a),
        Cmd::Match(a) => matching::run(a),
        Cmd::Report(a) => report::run(a),
        Cmd::Info(a) => info::run(a),
        Cmd::Verify(a) => info::verify(a),
        Cmd::OcrWorker => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            let stderr = std::io::stderr().lock();
            leakprint::ocr::worker::worker_main(stdin, stdout, stderr)
                .map(|()| ExitCode::SUCCESS)
                .map_err(anyhow::Error::from)
        }
        Cmd::Serve(a) => serve::run(a),
        Cmd::ExtractWorker => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            leakprint::extract::isolate::worker_main(stdin, stdout)
                .map(|()| ExitCode::SUCCESS)
                .map_err(anyhow::Error::from)
        }
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            if e.downcast_ref::<leakprint::index::IndexError>()
                .is_some_and(|e| matches!(e, leakprint::index::IndexError::Interrupted))
            {
                eprintln!("leakprint: interrupted; nothing was published");
                return ExitCode::from(EXIT_INTERRUPTED);
            }
            // Print the chain, leaving out causes whose text the message
            // before them already shows.
            let mut shown = e.to_string();
            eprintln!("leakprint: error: {shown}");
            for cause in e.chain().skip(1) {
                let text = cause.to_string();
                if !shown.contains(&text) {
                    eprintln!("  caused by: {text}");
                }
                shown = text;
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Whether the error is a closed stdout pipe (then we exit quietly).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Whether progress bars should be drawn (stderr is a terminal).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}

/// Parse a size such as `512MiB`, `1G`, `4096`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (try 512MiB, 2G, 1048576)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        u => return Err(format!("unknown size unit '{u}' in '{s}' (use K, M, G, T)")),
    };
    Ok((n * mult as f64) as u64)
}

/// Human-readable bytes.
pub fn human_bytes(b: u64) -> String {
    leakprint::query::human_bytes(b)
}
