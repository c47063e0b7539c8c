//! `leakprint match`: stream queries through the matcher, print evidence.
//!
//! One reader thread turns the arguments into jobs (queries of the input
//! readers, or files), `--threads` workers match them and render their
//! output lines, and the main thread writes them (the bounded pipeline of
//! `leakprint::stream`, so memory stays flat on an endless input).
//! Errors about one input line or file go to stderr in output order and the
//! run goes on; the exit status is then 2, as grep's.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use leakprint::extract::ExtractLimits;
use leakprint::index::builder::walk::{walk, Entry};
use leakprint::index::{Index, Residence};
use leakprint::input::{self, InputLimits, OcrPage, Queries, Query, QueryId};
use leakprint::matcher::{FileEvidence, Match, MatchConfig, Matcher, Seeds};
use leakprint::query::record::{FileRecord, Kind, TextRecord};
use leakprint::query::{self, ReadError};
use leakprint::stream::{self, PipelineConfig, PipelineError};

use super::{human_bytes, interactive, parse_size};

/// Input buffer per opened file or standard input.
const READ_BUFFER: usize = 64 << 10;
/// Output buffer of stdout.
const WRITE_BUFFER: usize = 64 << 10;

const MATCH_HELP: &str = "\
OUTPUT (stdout, one JSON object a line; --pretty or a terminal: a readable view)
  \"kind\": \"text\"  a piece of indexed text found in a query:
      {\"kind\":\"text\", \"query\", \"source\", \"score\", \"similarity\", \"aligned_len\",
       \"query_span\":[start,end], \"source_span\":[start,end], \"snippet\"}
      plus \"boxes\":[{\"left\",\"top\",\"width\",\"height\",\"conf\",\"page\",\"line\"}]
      (the OCR words overlapping query_span) for tsv and hocr input.
  \"kind\": \"image\"  the same fields for an image query (PNG, JPEG, GIF, WebP,
      BMP, TIFF, found by content): leakprint runs tesseract itself (--ocr-lang),
      query_span indexes the recognized text, and \"boxes\" are the matched
      words in the image's own pixels.
      Spans are byte offsets into the query text and the source part's text.
  \"kind\": \"file\"  whole-file evidence for a file query (--format file, folders):
      {\"kind\":\"file\", \"query\", \"source\", \"identical\", \"shared_chunks\",
       \"query_chunks\", \"shared_bytes\"}

QUERY IDS
  jsonl: the \"id\" field (else the line number); lines: the line number;
  text, tsv, hocr: the path (\"-\" for stdin); file: the path, or path#part for
  parts inside a container.

INPUTS
  Files, or standard input for \"-\" or no argument. A folder means every file
  in it, sorted and recursive, read as --format file (links to folders, FIFOs
  and devices are skipped with a note on stderr).

EXIT STATUS (as grep)
  0 something matched (a text match or file evidence), 1 nothing matched,
  2 an error occurred, even if something matched. Errors name the file and
  line on stderr; a bad line or file is skipped and the rest is still matched.
  A closed stdout pipe ends the run quietly.";

/// Options of `leakprint match`.
#[derive(Args)]
#[command(after_long_help = MATCH_HELP)]
pub struct MatchArgs {
    /// The index folder (or segment file) to match against.
    #[arg(short, long)]
    index: PathBuf,
    /// Input format: auto, jsonl, lines, text, tsv, hocr, file (extract
    /// the text of any file and look up its blake3 and chunks too), or
    /// image (OCR; auto finds images by content).
    #[arg(short, long, default_value = "auto", value_parser = parse_format)]
    format: QueryFormat,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print results in input order (default: as they are found).
    #[arg(long)]
    ordered: bool,
    /// Read the index into memory backed by huge pages before matching
    /// (memory the size of the index, 0.4-2.5 s to load 1.2 GB here): 6-14%
    /// more unrelated posts a second and 3-9% more mixed ones on a large
    /// index, for long streams
    #[arg(long)]
    load: bool,
    #[command(flatten)]
    matching: MatchConfigArgs,
    /// Print a readable view instead of JSON (the default on a terminal).
    #[arg(long, conflicts_with = "json")]
    pretty: bool,
    /// Print JSON lines even on a terminal.
    #[arg(long)]
    json: bool,
    /// Flush stdout after each query's output (the default on a terminal).
    #[arg(long)]
    line_buffered: bool,
    #[command(flatten)]
    extract: super::ExtractLimitArgs,
    #[command(flatten)]
    ocr: super::OcrArgs,
    /// Longest input line (JSONL, lines); a longer line is an error naming
    /// it, and reading goes on.
    #[arg(long, value_parser = parse_size, default_value = "1MiB")]
    max_line: u64,
    /// Largest query read whole (text, TSV, hOCR inputs).
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    max_input: u64,
    /// Most words on one OCR page (TSV, hOCR).
    #[arg(long, default_value_t = 1_000_000)]
    max_ocr_words: usize,
    /// Largest file read with --format file (and in folders).
    #[arg(long, value_parser = parse_size, default_value = "256MiB")]
    max_file_size: u64,
    /// Files or folders to match; "-" or none reads standard input.
    inputs: Vec<PathBuf>,
}

/// Matcher options, shared by `match` and `serve`.
#[derive(Args, Debug, Clone)]
pub struct MatchConfigArgs {
    /// Shortest match reported, in content units of one Latin letter (a Han
    /// ideograph counts 2.5, a kana 2.25; see README, "Scripts and charsets").
    /// Below k + 27 (43 at the default k of 16) an index of format 7 can
    /// no longer rule lone hits out by their context: matching slows, and
    /// more lone hits compete for the candidate cap.
    #[arg(long)]
    min_len: Option<usize>,
    /// Lowest similarity reported (0.5 to 1).
    #[arg(long)]
    min_similarity: Option<f64>,
    /// Which k-grams of a query are looked up: the window minima (fast;
    /// finds every shared run of w + k - 1 normalized bytes) or all of them
    /// (also seeds from shorter runs, for heavily damaged OCR).
    #[arg(long, value_enum, default_value_t = SeedsArg::Minima)]
    seeds: SeedsArg,
    /// Which k-grams of OCR text (images, TSV, hOCR) are looked up: by
    /// default also every k-gram one edit away from the query's
    /// (tolerant: finds quotes with an OCR error every 6-10 characters, at
    /// about a thousand lookups per byte), or as `--seeds`.
    #[arg(long, value_enum, default_value_t = SeedsArg::Tolerant)]
    ocr_seeds: SeedsArg,
    /// Longest query text matched, in bytes; the rest is ignored, with a note.
    #[arg(long, value_parser = parse_size, default_value = "1MiB")]
    max_query: u64,
    /// Verify every candidate text, also texts whose seed hits all lie
    /// inside a stretch that another text's match already explains with at
    /// least twice their hits (and 4): texts that share a sentence of a
    /// quote found whole elsewhere. More sources for passages that recur
    /// in many files, at about half the speed of a mixed stream.
    #[arg(long)]
    every_source: bool,
}

impl MatchConfigArgs {
    /// The checked matcher settings.
    pub fn config(&self) -> anyhow::Result<MatchConfig> {
        let mut builder = MatchConfig::builder();
        if let Some(n) = self.min_len {
            builder = builder.min_len(n);
        }
        if let Some(s) = self.min_similarity {
            builder = builder.min_similarity(s);
        }
        builder = builder.max_query_bytes(usize::try_from(self.max_query).unwrap_or(usize::MAX));
        builder = builder
            .seeds(self.seeds.into())
            .ocr_seeds(self.ocr_seeds.into())
            .every_source(self.every_source);
        builder.build().context("bad option")
    }
}

/// `--format`: one of the query readers, or whole files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QueryFormat {
    Reader(input::Format),
    File,
    Image,
}

fn parse_format(s: &str) -> Result<QueryFormat, String> {
    if s == "file" {
        return Ok(QueryFormat::File);
    }
    if s == "image" {
        return Ok(QueryFormat::Image);
    }
    input::Format::from_name(s)
        .map(QueryFormat::Reader)
        .ok_or_else(|| {
            format!("unknown format '{s}' (auto, jsonl, lines, text, tsv, hocr, file, image)")
        })
}

/// One unit of work for a worker.
enum Job {
    /// A query read from `input` (a path, or "(standard input)").
    Query { input: Arc<str>, query: Query },
    /// A whole file to extract and look up (`None`: standard input).
    File {
        path: Option<PathBuf>,
        display: String,
    },
    /// An image to OCR and match (`None`: standard input).
    Image {
        path: Option<PathBuf>,
        display: String,
    },
    /// An error found while reading; printed in order.
    Error(String),
    /// A note (a skipped folder entry); printed, not an error.
    Note(String),
}

/// What a worker hands to the writer.
#[derive(Default)]
struct Output {
    /// Rendered lines.
    text: Vec<u8>,
    /// Queries looked at.
    queries: u64,
    /// Lines of evidence in `text`.
    matches: u64,
    /// Error messages (already naming the input).
    errors: Vec<String>,
    /// Notes for stderr.
    notes: Vec<String>,
}

/// Reads the arguments lazily into jobs, one input at a time.
struct Jobs {
    args: std::vec::IntoIter<PathBuf>,
    format: QueryFormat,
    limits: InputLimits,
    current: Option<(Arc<str>, Queries)>,
    queued: std::collections::VecDeque<Job>,
}

const STDIN_NAME: &str = "(standard input)";

impl Jobs {
    fn new(inputs: Vec<PathBuf>, format: QueryFormat, limits: InputLimits) -> Jobs {
        let inputs = if inputs.is_empty() {
            vec![PathBuf::from("-")]
        } else {
            inputs
        };
        Jobs {
            args: inputs.into_iter(),
            format,
            limits,
            current: None,
            queued: Default::default(),
        }
    }

    /// Prepare the jobs of one argument.
    fn start(&mut self, arg: PathBuf) {
        let stdin = arg.as_os_str() == "-";
        if !stdin && arg.is_dir() {
            match walk(std::slice::from_ref(&arg)) {
                Ok(entries) => {
                    for e in entries {
                        self.queued.push_back(match e {
                            Entry::File { path, display, .. } => Job::File {
                                path: Some(path),
                                display: leakprint::names::display(&display),
                            },
                            Entry::Skipped { display, reason } => Job::Note(format!(
                                "{}: skipped: {reason}",
                                leakprint::names::display(&display)
                            )),
                        });
                    }
                }
                Err(e) => self
                    .queued
                    .push_back(Job::Error(format!("{}: {e}", arg.display()))),
            }
            return;
        }
        let display = if stdin {
            "-".to_owned()
        } else {
            arg.display().to_string()
        };
        let path = (!stdin).then(|| arg.clone());
        let format = match self.format {
            QueryFormat::File => return self.queued.push_back(Job::File { path, display }),
            QueryFormat::Image => return self.queued.push_back(Job::Image { path, display }),
            QueryFormat::Reader(input::Format::Auto) if is_image(&arg) => {
                return self.queued.push_back(Job::Image { path, display })
            }
            QueryFormat::Reader(f) => f,
        };
        let opened = if stdin {
            let mut r = BufReader::with_capacity(READ_BUFFER, io::stdin());
            // Decide from the first bytes that arrive rather than the first
            // 8 KiB: a live stream (`tail -f`) must not wait for them.
            let format = match format {
                input::Format::Auto => match r.fill_buf() {
                    Ok(head) => input::detect(None, head),
                    Err(_) => input::Format::Lines,
                },
                f => f,
            };
            input::open(format, r, None, &self.limits).map(|q| (Arc::from(STDIN_NAME), q))
        } else {
            match File::open(&arg) {
                Ok(f) => {
                    let r = BufReader::with_capacity(READ_BUFFER, f);
                    input::open(format, r, Some(&arg), &self.limits)
                        .map(|q| (Arc::from(arg.display().to_string()), q))
                }
                Err(e) => Err(e.into()),
            }
        };
        match opened {
            Ok(cur) => self.current = Some(cur),
            Err(e) => {
                let name = if stdin {
                    STDIN_NAME.to_owned()
                } else {
                    arg.display().to_string()
                };
                self.queued.push_back(Job::Error(format!("{name}: {e}")));
            }
        }
    }
}

impl Iterator for Jobs {
    type Item = Job;

    fn next(&mut self) -> Option<Job> {
        loop {
            if let Some(job) = self.queued.pop_front() {
                return Some(job);
            }
            if let Some((name, queries)) = &mut self.current {
                match queries.next() {
                    Some(Ok(query)) => {
                        return Some(Job::Query {
                            input: name.clone(),
                            query,
                        })
                    }
                    Some(Err(e)) => return Some(Job::Error(format!("{name}: {e}"))),
                    None => self.current = None,
                }
                continue;
            }
            let arg = self.args.next()?;
            self.start(arg);
        }
    }
}

/// How workers render.
struct Render {
    pretty: bool,
    /// How images are read.
    ocr: leakprint::ocr::OcrConfig,
    /// Whether tesseract has the models of `--ocr-lang`, checked at the
    /// first image.
    ocr_ready: std::sync::OnceLock<Result<(), String>>,
    max_file_size: u64,
    /// Limits (and worker process) for files used as queries.
    limits: ExtractLimits,
}

impl Render {
    fn text_match(&self, out: &mut Output, id: &QueryId, m: &Match, ocr: Option<&OcrPage>) {
        self.match_line(out, Kind::Text, id, m, ocr);
    }

    fn match_line(
        &self,
        out: &mut Output,
        kind: Kind,
        id: &QueryId,
        m: &Match,
        ocr: Option<&OcrPage>,
    ) {
        out.matches += 1;
        if self.pretty {
            let mut s = String::new();
            let _ = writeln!(
                s,
                "{id}: {}  score {:.2}  similarity {:.2}  {} bytes aligned  query {}..{}  source {}..{}",
                m.source,
                m.score,
                m.similarity,
                m.aligned_len,
                m.query_span.start,
                m.query_span.end,
                m.source_span.start,
                m.source_span.end
            );
            let _ = writeln!(s, "    \"{}\"", m.snippet);
            if let Some(page) = ocr {
                let boxes = page.boxes_for(m.query_span.clone());
                if let (Some(first), Some(last)) = (boxes.first(), boxes.last()) {
                    let _ = writeln!(
                        s,
                        "    {} OCR words, page {} line {} to page {} line {}",
                        boxes.len(),
                        first.page,
                        first.line,
                        last.page,
                        last.line
                    );
                }
            }
            out.text.extend_from_slice(s.as_bytes());
            return;
        }
        let line = TextRecord::new(kind, Some(id), m, ocr);
        // Serializing plain data into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out.text, &line);
        out.text.push(b'\n');
    }

    fn file_evidence(&self, out: &mut Output, query: &str, e: &FileEvidence) {
        out.matches += 1;
        if self.pretty {
            let line = if e.identical {
                format!("{query}: identical to {}\n", e.source)
            } else {
                let pct = 100.0 * e.shared_chunks as f64 / e.query_chunks.max(1) as f64;
                format!(
                    "{query}: shares {pct:.0}% of its chunks ({} of {}, {}) with {}\n",
                    e.shared_chunks,
                    e.query_chunks,
                    human_bytes(e.shared_bytes),
                    e.source
                )
            };
            out.text.extend_from_slice(line.as_bytes());
            return;
        }
        let _ = serde_json::to_writer(&mut out.text, &FileRecord::new(query, e));
        out.text.push(b'\n');
    }

    /// Match one job.
    fn run(&self, matcher: &Matcher<'_>, job: Job) -> Output {
        let mut out = Output::default();
        match job {
            Job::Error(e) => out.errors.push(e),
            Job::Note(n) => out.notes.push(n),
            Job::Query { input, query } => {
                out.queries = 1;
                let what = format!("{input}: query {}", query.id);
                // OCR text (TSV, hOCR) is matched with the seeds that
                // survive OCR errors, as images are.
                let found = if query.ocr.is_some() {
                    query::find_ocr_text(matcher, &query.text)
                } else {
                    query::find_text(matcher, &query.text)
                };
                match found {
                    Ok(found) => {
                        if let Some(cut) = found.cut {
                            out.notes.push(format!("{what}: {cut}"));
                        }
                        for m in &found.matches {
                            self.text_match(&mut out, &query.id, m, query.ocr.as_ref());
                        }
                    }
                    Err(e) => out.errors.push(format!("{what}: {e}")),
                }
            }
            Job::File { path, display } => {
                out.queries = 1;
                match self.read(path.as_deref(), &display) {
                    Ok(bytes) => self.file(matcher, &mut out, &display, &bytes),
                    Err(e) => out.errors.push(e),
                }
            }
            Job::Image { path, display } => {
                out.queries = 1;
                match self.read(path.as_deref(), &display) {
                    Ok(bytes) => self.image(matcher, &mut out, &display, &bytes),
                    Err(e) => out.errors.push(e),
                }
            }
        }
        out
    }

    /// OCR an image and print its matches (`"kind": "image"`).
    fn image(&self, matcher: &Matcher<'_>, out: &mut Output, display: &str, bytes: &[u8]) {
        let ready = self
            .ocr_ready
            .get_or_init(|| self.ocr.check_languages().map_err(|e| e.to_string()));
        if let Err(e) = ready {
            return out.errors.push(format!("{display}: {e}"));
        }
        match query::find_image(matcher, bytes, &self.ocr) {
            Ok(found) => {
                let id = QueryId::Str(display.to_owned());
                for m in &found.matches {
                    self.match_line(out, Kind::Image, &id, m, Some(&found.page));
                }
            }
            Err(e) => out.errors.push(format!("{display}: {e}")),
        }
    }

    /// A file query through the library: whole-file evidence, then each
    /// part's matches, named `display#part` (an image: its OCR text's).
    fn file(&self, matcher: &Matcher<'_>, out: &mut Output, display: &str, bytes: &[u8]) {
        if leakprint::ocr::sniff(bytes).is_some() {
            match matcher.find_file(bytes) {
                Ok(evidence) => {
                    for e in &evidence {
                        self.file_evidence(out, display, e);
                    }
                }
                Err(e) => out.errors.push(format!("{display}: {e}")),
            }
            return self.image(matcher, out, display, bytes);
        }
        let found = query::find_in_file(matcher, display, bytes, &self.limits);
        out.notes.extend(found.notes());
        out.errors.extend(found.errors());
        if let Ok(evidence) = &found.evidence {
            for e in evidence {
                self.file_evidence(out, display, e);
            }
        }
        for part in &found.parts {
            if let Ok(matches) = &part.matches {
                let id = QueryId::Str(part.query.clone());
                for m in matches {
                    self.text_match(out, &id, m, None);
                }
            }
        }
    }

    /// The bytes of a file query (`None`: standard input), at most
    /// `--max-file-size`; the error names the file.
    fn read(&self, path: Option<&Path>, display: &str) -> Result<Vec<u8>, String> {
        let limit = self.max_file_size;
        let too_large = || {
            format!(
                "{display}: larger than --max-file-size ({})",
                human_bytes(limit)
            )
        };
        let Some(path) = path else {
            let mut bytes = Vec::new();
            return match io::stdin().lock().take(limit + 1).read_to_end(&mut bytes) {
                Ok(n) if n as u64 > limit => Err(too_large()),
                Ok(_) => Ok(bytes),
                Err(e) => Err(format!("{display}: {e}")),
            };
        };
        query::read_file(path, limit).map_err(|e| match e {
            ReadError::TooLarge { .. } => too_large(),
            ReadError::Io { source, .. } => format!("{display}: {source}"),
            e => e.to_string(),
        })
    }
}

/// Whether the file at `path` starts like an image (`-`: standard input,
/// whose first bytes are peeked without being consumed).
fn is_image(path: &Path) -> bool {
    let mut head = [0u8; 32];
    if path.as_os_str() == "-" {
        let mut stdin = io::stdin().lock();
        return stdin
            .fill_buf()
            .is_ok_and(|b| leakprint::ocr::sniff(b).is_some());
    }
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    leakprint::ocr::sniff(&head[..n]).is_some()
}

/// `--seeds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeedsArg {
    /// The query's window minima.
    Minima,
    /// Every k-gram of the query.
    All,
    /// Every k-gram and every k-gram one edit away (for OCR text).
    Tolerant,
}

impl From<SeedsArg> for Seeds {
    fn from(s: SeedsArg) -> Seeds {
        match s {
            SeedsArg::Minima => Seeds::Minima,
            SeedsArg::All => Seeds::All,
            SeedsArg::Tolerant => Seeds::Tolerant,
        }
    }
}

/// Run `leakprint match`.
pub fn run(a: MatchArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let cfg = a.matching.config()?;
    let threads = if a.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        a.threads
    };
    let pipeline = PipelineConfig {
        threads,
        ordered: a.ordered,
    };
    let residence = if a.load {
        Residence::Loaded
    } else {
        Residence::Mapped
    };
    let index = Index::open_with(&a.index, residence)
        .with_context(|| format!("cannot open the index {}", a.index.display()))?;
    let matcher = Matcher::new(&index, cfg);

    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let render = Render {
        ocr: a.ocr.config(&a.extract)?,
        ocr_ready: std::sync::OnceLock::new(),
        limits: a.extract.limits(a.ocr.lang())?,
        pretty: a.pretty || (terminal && !a.json),
        max_file_size: a.max_file_size,
    };
    let flush_each = a.line_buffered || terminal;
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, stdout.lock());
    let (mut queries, mut matches, mut errors) = (0u64, 0u64, 0u64);

    let input_limits = InputLimits::new(
        usize::try_from(a.max_line).unwrap_or(usize::MAX),
        usize::try_from(a.max_input).unwrap_or(usize::MAX),
        a.max_ocr_words,
    )
    .context("bad option")?;
    let jobs = Jobs::new(a.inputs, a.format, input_limits);
    let result = stream::run(
        &pipeline,
        jobs,
        |job| render.run(&matcher, job),
        |o: Output| -> io::Result<()> {
            queries += o.queries;
            matches += o.matches;
            errors += o.errors.len() as u64;
            if !o.errors.is_empty() || !o.notes.is_empty() {
                // Keep stderr after the stdout lines that came before.
                out.flush()?;
                for n in &o.notes {
                    eprintln!("leakprint: note: {n}");
                }
                for e in &o.errors {
                    eprintln!("leakprint: error: {e}");
                }
            }
            if !o.text.is_empty() {
                out.write_all(&o.text)?;
                if flush_each {
                    out.flush()?;
                }
            }
            Ok(())
        },
    );
    let result = result.and_then(|()| out.flush().map_err(PipelineError::Sink));
    match result {
        Ok(()) => {}
        Err(PipelineError::Sink(e)) => {
            return Err(anyhow::Error::new(e).context("cannot write the results"))
        }
        Err(e) => return Err(e.into()),
    }
    if interactive() {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{queries} queries, {matches} matches, {errors} errors in {secs:.2}s ({:.0} queries/s)",
            queries as f64 / secs.max(1e-9)
        );
    }
    Ok(ExitCode::from(if errors > 0 {
        super::EXIT_ERROR
    } else if matches > 0 {
        0
    } else {
        1
    }))
}
