//! Third-party parsers in a child process, under a memory cap and a
//! deadline.
//!
//! The PDF reader (`pdf-extract` on `lopdf`) and the legacy Excel reader
//! (`calamine`) are large parsers of hostile formats that this crate does
//! not control: `lopdf` inflates streams without a cap (a deflate bomb
//! inside a PDF allocates without bound), `calamine` builds a dense cell
//! grid sized by the largest row and column named in the file, and a stack
//! overflow or an endless loop in either cannot be caught by
//! `catch_unwind`. With an [`Isolation`] in the [`ExtractLimits`], those two
//! formats are read by a worker process instead: the parent writes one
//! request (a JSON header line, then the file's bytes) to the worker's
//! stdin and reads one JSON answer from its stdout. The worker lowers its
//! own address-space limit (`RLIMIT_AS`) before reading anything, so an
//! allocation past the cap fails there and kills only the worker; the
//! parent kills a worker that outlives the deadline. Either way the file is
//! recorded as binary with the reason, and indexing goes on.
//!
//! Scanned PDF pages are read by OCR in the worker too
//! (`super::scan`): tesseract, its child, inherits the address-space
//! cap, and the worker stops starting pages a tenth of the deadline (at
//! least a second) before the parent would kill it, so that the text of
//! the pages already read is kept and the rest are listed with the reason.
//!
//! The worker is whatever program the [`Isolation`] names, run with its
//! arguments; it must call [`worker_main`]. The `leakprint` binary does so
//! in its hidden `extract-worker` command, and `leakprint index` isolates
//! by default. Library users opt in with their own binary (or the
//! `leakprint` one).
//!
//! Cost: one process per PDF or `.xls` file, about 2.4 ms each on this
//! project's machine (`leakprint index` of 300 copies of an 11 KB PDF at
//! one thread: 0.97 s, against 0.25-0.35 s with `--no-isolate`), small
//! next to the tens of milliseconds a real PDF takes to parse.

use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::sink::Sink;
use super::{ExtractLimits, Format, PdfOcr};

/// How to run the isolated extractors: see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isolation {
    /// The worker program; it must call [`worker_main`].
    pub program: PathBuf,
    /// Arguments before the request (e.g. the `extract-worker` command).
    pub args: Vec<OsString>,
    /// Address space the worker may use, in bytes (Unix; the worker's own
    /// code and libraries count too, so keep it well above 64 MiB).
    pub max_memory: u64,
    /// Longest time one file may take.
    pub timeout: Duration,
}

impl Isolation {
    /// The default cap on the worker's address space: 2 GiB.
    pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;
    /// The default deadline per file: 120 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

    /// Run `program args...` as the worker, with the default caps.
    pub fn new(program: impl Into<PathBuf>, args: Vec<OsString>) -> Isolation {
        Isolation {
            program: program.into(),
            args,
            max_memory: Isolation::DEFAULT_MAX_MEMORY,
            timeout: Isolation::DEFAULT_TIMEOUT,
        }
    }
}

/// Which in-process extractor the worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Job {
    Pdf,
    Ole,
}

/// The header line of a request.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    job: Job,
    name_hint: String,
    name: String,
    depth: usize,
    max_memory: u64,
    max_part_text: usize,
    max_parts: usize,
    max_depth: usize,
    max_expanded: u64,
    max_ratio: u64,
    /// OCR of scanned PDF pages.
    #[serde(default)]
    pdf_ocr: Option<PdfOcr>,
    /// The parent's deadline for this file, in milliseconds: the worker
    /// stops starting OCR pages before it.
    #[serde(default)]
    timeout_ms: u64,
    bytes: u64,
}

/// The answer.
#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    format: String,
    /// (name, format, text)
    parts: Vec<(String, String, String)>,
    /// (name, reason)
    skipped: Vec<(String, String)>,
}

/// Run `job` on `bytes` in a worker and add what it found to `sink`;
/// returns the format of the blob (binary when the worker failed).
pub(crate) fn run(
    sink: &mut Sink<'_>,
    iso: &Isolation,
    job: Job,
    bytes: &[u8],
    name_hint: &str,
    name: &str,
    depth: usize,
) -> Format {
    let what = match job {
        Job::Pdf => "PDF",
        Job::Ole => "legacy Office file or Outlook message",
    };
    match call(sink.limits, iso, job, bytes, name_hint, name, depth) {
        Ok(answer) => {
            for (n, f, text) in answer.parts {
                let format = Format::from_name(&f).unwrap_or(Format::Binary);
                if text.is_empty() {
                    sink.binary(&n, format);
                } else {
                    sink.text(&n, format, text);
                }
            }
            for (n, reason) in answer.skipped {
                sink.skip(&n, reason);
            }
            Format::from_name(&answer.format).unwrap_or(Format::Binary)
        }
        Err(why) => {
            sink.skip(name, format!("{what} not read: {why}; kept as binary"));
            sink.binary(name, Format::Binary);
            Format::Binary
        }
    }
}

/// Longest stderr kept from a worker, for the reason of a failure.
const STDERR_KEPT: u64 = 4096;

fn call(
    limits: &ExtractLimits,
    iso: &Isolation,
    job: Job,
    bytes: &[u8],
    name_hint: &str,
    name: &str,
    depth: usize,
) -> Result<Answer, String> {
    let req = Request {
        job,
        name_hint: name_hint.to_owned(),
        name: name.to_owned(),
        depth,
        max_memory: iso.max_memory,
        max_part_text: limits.max_part_text,
        max_parts: limits.max_parts,
        max_depth: limits.max_depth,
        max_expanded: limits.max_expanded,
        max_ratio: limits.max_ratio,
        pdf_ocr: limits.pdf_ocr.clone(),
        timeout_ms: u64::try_from(iso.timeout.as_millis()).unwrap_or(u64::MAX),
        bytes: bytes.len() as u64,
    };
    let header = serde_json::to_string(&req).map_err(|e| e.to_string())?;
    let mut child = Command::new(&iso.program)
        .args(&iso.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start the extraction worker {}: {e}",
                iso.program.display()
            )
        })?;
    let (mut stdin, stdout, stderr) =
        match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
            (Some(i), Some(o), Some(e)) => (i, o, e),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("the extraction worker has no pipes".to_owned());
            }
        };
    // The answer holds at most max_parts parts of max_part_text bytes,
    // JSON-escaped (up to 6 bytes per byte), and the notes.
    let answer_cap = (limits.max_part_text as u64)
        .saturating_mul(limits.max_parts as u64)
        .min(limits.max_expanded)
        .saturating_mul(6)
        .saturating_add(16 << 20);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let result = std::thread::scope(|s| {
        s.spawn(move || {
            // A worker that dies early closes the pipe: the write fails and
            // the exit status tells why.
            let _ = stdin
                .write_all(header.as_bytes())
                .and_then(|()| stdin.write_all(b"\n"))
                .and_then(|()| stdin.write_all(bytes));
        });
        let err_reader = s.spawn(move || {
            let mut e = Vec::new();
            let _ = stderr.take(STDERR_KEPT).read_to_end(&mut e);
            e
        });
        let out_reader = s.spawn(move || {
            let mut out = Vec::new();
            let r = stdout.take(answer_cap + 1).read_to_end(&mut out);
            let _ = done_tx.send(());
            r.map(|_| out)
        });
        // The worker closes stdout when it exits (or is killed).
        let timed_out = match done_rx.recv_timeout(iso.timeout) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => false,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                true
            }
        };
        let status = child.wait();
        let out = out_reader.join();
        let err = err_reader.join().unwrap_or_default();
        (timed_out, status, out, err)
    });
    let (timed_out, status, out, err) = result;
    if timed_out {
        return Err(format!(
            "extraction took longer than {} s (killed)",
            iso.timeout.as_secs_f64()
        ));
    }
    let status = status.map_err(|e| format!("extraction worker lost: {e}"))?;
    let out = match out {
        Ok(Ok(out)) => out,
        _ => return Err("extraction worker's output could not be read".to_owned()),
    };
    if !status.success() {
        return Err(describe_failure(status, &err, iso.max_memory));
    }
    if out.len() as u64 > answer_cap {
        return Err("extraction worker's answer is larger than the limits allow".to_owned());
    }
    serde_json::from_slice(&out)
        .map_err(|e| format!("extraction worker's answer is not valid: {e}"))
}

/// Words for a worker that did not exit cleanly.
fn describe_failure(status: std::process::ExitStatus, stderr: &[u8], max_memory: u64) -> String {
    let err = String::from_utf8_lossy(stderr);
    let oom = err.contains("memory allocation") || err.contains("capacity overflow");
    if oom {
        return format!(
            "extraction needed more than the worker's memory cap ({} MiB)",
            max_memory >> 20
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let what = match sig {
                6 => "aborted",
                9 => "killed",
                11 => "crashed (segmentation fault)",
                _ => "killed by a signal",
            };
            return format!(
                "extraction worker {what} (signal {sig}; memory cap {} MiB)",
                max_memory >> 20
            );
        }
    }
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    format!("extraction worker failed ({status}): {}", last.trim())
}

/// The worker's side: read one request from `input`, extract, write the
/// answer to `output`. Call it from a program's entry point with stdin
/// and stdout (the `leakprint` binary's hidden `extract-worker` command);
/// a failure is an error message for stderr and a non-zero exit status.
///
/// # Errors
/// When the request cannot be read or the answer cannot be written.
pub fn worker_main(input: impl Read, mut output: impl Write) -> io::Result<()> {
    let started = Instant::now();
    let mut input = io::BufReader::new(input);
    let mut line = String::new();
    input.read_line(&mut line)?;
    let req: Request = serde_json::from_str(&line)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("bad request: {e}")))?;
    // Before the file is read: the bytes count against the cap too.
    limit_memory(req.max_memory)?;
    let len = usize::try_from(req.bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "request too large"))?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len).map_err(|_| {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            "memory allocation failed for the file",
        )
    })?;
    input.take(req.bytes).read_to_end(&mut bytes)?;
    let limits = ExtractLimits {
        max_part_text: req.max_part_text,
        max_parts: req.max_parts,
        max_depth: req.max_depth,
        max_expanded: req.max_expanded,
        max_ratio: req.max_ratio,
        isolation: None,
        pdf_ocr: req.pdf_ocr,
    };
    // OCR pages stop a tenth of the deadline (at least a second) before
    // the parent kills this worker, so that the text already read is kept.
    let deadline = (req.timeout_ms > 0).then(|| {
        let t = Duration::from_millis(req.timeout_ms);
        started + t.saturating_sub((t / 10).max(Duration::from_secs(1)))
    });
    let mut sink = Sink::new(&limits);
    let format = match req.job {
        Job::Pdf => {
            super::pdf::extract_pdf(&mut sink, &bytes, &req.name, deadline);
            Format::Pdf
        }
        Job::Ole => {
            super::ole::extract_ole(&mut sink, &bytes, &req.name_hint, &req.name, req.depth)
        }
    };
    let ex = sink.finish(format);
    let answer = Answer {
        format: format.name().to_owned(),
        parts: ex
            .parts
            .into_iter()
            .map(|p| (p.name, p.format.name().to_owned(), p.text))
            .collect(),
        skipped: ex.skipped.into_iter().map(|s| (s.name, s.reason)).collect(),
    };
    serde_json::to_writer(&mut output, &answer)?;
    output.flush()
}

/// Cap this process's address space at `bytes` (Unix).
fn limit_memory(bytes: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        rlimit::setrlimit(rlimit::Resource::AS, bytes, bytes)
    }
    #[cfg(not(unix))]
    {
        let _ = bytes;
        Ok(())
    }
}
