//! The OCR worker process: one image per process, under caps.
//!
//! The same pattern as [`crate::extract::isolate`]: the parent writes one
//! request (a JSON header line, then the image bytes) to the worker's stdin
//! and reads one JSON [`Recognized`] from its stdout. Before reading the
//! image, the worker lowers its own address-space limit (`RLIMIT_AS`, the
//! [`Isolation::max_memory`]) and its CPU time (`RLIMIT_CPU`, the timeout
//! plus a margin); `tesseract`, its child, inherits both. So a decoder that
//! allocates without bound, a crash, or an endless loop costs this image
//! only: the parent reports it and goes on. The worker also kills tesseract
//! at the deadline, and the parent kills the worker shortly after.
//!
//! The worker is the program [`Isolation`] names, which must call
//! [`worker_main`]; the `leakprint` binary does so in its hidden
//! `ocr-worker` command.

use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::child::{self, ChildError};
use super::{DecodeLimits, ImageError, OcrConfig, Recognized, Steps};
use crate::extract::Isolation;

/// Time the parent grants the worker past the OCR timeout (start-up,
/// decoding, the answer).
const GRACE: Duration = Duration::from_secs(5);
/// Largest answer accepted from a worker.
const MAX_ANSWER: u64 = 256 << 20;

/// The header line of a request.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    lang: String,
    steps: String,
    max_pixels: u64,
    max_side: u32,
    max_alloc: u64,
    timeout_ms: u64,
    retry_below: f32,
    tesseract: PathBuf,
    max_memory: u64,
    bytes: u64,
}

/// Recognize `bytes` in a worker process.
pub(crate) fn call(
    bytes: &[u8],
    cfg: &OcrConfig,
    iso: &Isolation,
) -> Result<Recognized, ImageError> {
    let req = Request {
        lang: cfg.lang.clone(),
        steps: cfg.steps.to_list(),
        max_pixels: cfg.decode.max_pixels,
        max_side: cfg.decode.max_side,
        max_alloc: cfg.decode.max_alloc,
        timeout_ms: cfg.timeout.as_millis() as u64,
        retry_below: cfg.retry_below,
        tesseract: cfg.tesseract.clone(),
        max_memory: iso.max_memory,
        bytes: bytes.len() as u64,
    };
    let mut input = serde_json::to_vec(&req).map_err(|e| ImageError::Worker {
        reason: e.to_string(),
    })?;
    input.push(b'\n');
    input.extend_from_slice(bytes);
    let mut cmd = Command::new(&iso.program);
    cmd.args(&iso.args).env("OMP_THREAD_LIMIT", "1");
    let done = child::run(cmd, &input, cfg.timeout + GRACE, MAX_ANSWER).map_err(|e| match e {
        ChildError::Spawn(e) => ImageError::Worker {
            reason: format!("cannot start {}: {e}", iso.program.display()),
        },
        ChildError::Timeout => ImageError::Timeout {
            seconds: cfg.timeout.as_secs_f64(),
        },
        ChildError::Lost(why) => ImageError::Worker { reason: why },
    })?;
    if !done.status.success() {
        // The worker prints an ImageError as one JSON line on stderr when
        // it fails cleanly; otherwise describe how it died.
        let err = String::from_utf8_lossy(&done.stderr);
        if let Some(e) = err
            .lines()
            .find_map(|l| serde_json::from_str::<WorkerFailure>(l).ok())
        {
            return Err(e.into_error());
        }
        let why = child::describe_failure("the worker", &done);
        let oom = err.contains("memory allocation") || err.contains("capacity overflow");
        return Err(ImageError::Worker {
            reason: if oom {
                format!(
                    "needed more than the worker's memory cap ({} MiB)",
                    iso.max_memory >> 20
                )
            } else {
                format!("{why} (memory cap {} MiB)", iso.max_memory >> 20)
            },
        });
    }
    if done.stdout.len() as u64 > MAX_ANSWER {
        return Err(ImageError::Worker {
            reason: "answer larger than the limit".to_owned(),
        });
    }
    serde_json::from_slice(&done.stdout).map_err(|e| ImageError::Worker {
        reason: format!("answer is not valid: {e}"),
    })
}

/// A clean failure, sent from worker to parent on stderr.
#[derive(Debug, Serialize, Deserialize)]
struct WorkerFailure {
    kind: String,
    message: String,
    width: u32,
    height: u32,
    max_pixels: u64,
    seconds: f64,
}

impl WorkerFailure {
    fn from_error(e: &ImageError) -> WorkerFailure {
        let mut f = WorkerFailure {
            kind: String::new(),
            message: String::new(),
            width: 0,
            height: 0,
            max_pixels: 0,
            seconds: 0.0,
        };
        match e {
            ImageError::NotAnImage => f.kind = "not_an_image".into(),
            ImageError::TooLarge {
                width,
                height,
                max_pixels,
            } => {
                f.kind = "too_large".into();
                (f.width, f.height, f.max_pixels) = (*width, *height, *max_pixels);
            }
            ImageError::Decode { reason } => {
                f.kind = "decode".into();
                f.message = reason.clone();
            }
            ImageError::Timeout { seconds } => {
                f.kind = "timeout".into();
                f.seconds = *seconds;
            }
            e => {
                f.kind = "ocr".into();
                f.message = e.to_string();
            }
        }
        f
    }

    fn into_error(self) -> ImageError {
        match self.kind.as_str() {
            "not_an_image" => ImageError::NotAnImage,
            "too_large" => ImageError::TooLarge {
                width: self.width,
                height: self.height,
                max_pixels: self.max_pixels,
            },
            "decode" => ImageError::Decode {
                reason: self.message,
            },
            "timeout" => ImageError::Timeout {
                seconds: self.seconds,
            },
            _ => ImageError::Ocr {
                reason: self.message,
            },
        }
    }
}

/// The worker's side: read one request from `input`, recognize the image,
/// write the answer to `output`. A failure about the image is written to
/// `errors` as one JSON line and returned as an error (the caller exits
/// non-zero).
///
/// # Errors
/// When the request cannot be read, the answer cannot be written, or the
/// image gives an [`ImageError`].
pub fn worker_main(
    input: impl Read,
    mut output: impl Write,
    mut errors: impl Write,
) -> io::Result<()> {
    let mut input = io::BufReader::new(input);
    let mut line = String::new();
    input.read_line(&mut line)?;
    let req: Request = serde_json::from_str(&line)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("bad request: {e}")))?;
    let timeout = Duration::from_millis(req.timeout_ms);
    limit_resources(req.max_memory, timeout)?;
    let len = usize::try_from(req.bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "request too large"))?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len).map_err(|_| {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            "memory allocation failed for the image",
        )
    })?;
    input.take(req.bytes).read_to_end(&mut bytes)?;
    let steps =
        Steps::parse(&req.steps).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let cfg = OcrConfig::builder()
        .lang(&req.lang)
        .steps(steps)
        .decode_limits(DecodeLimits {
            max_pixels: req.max_pixels,
            max_side: req.max_side,
            max_alloc: req.max_alloc,
        })
        .timeout(timeout)
        .retry_below(req.retry_below)
        .tesseract(req.tesseract)
        .build()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    match super::recognize_here(&bytes, &cfg) {
        Ok(rec) => {
            serde_json::to_writer(&mut output, &rec)?;
            output.flush()
        }
        Err(e) => {
            serde_json::to_writer(&mut errors, &WorkerFailure::from_error(&e))?;
            errors.write_all(b"\n")?;
            errors.flush()?;
            Err(io::Error::other(e.to_string()))
        }
    }
}

/// Cap this process's address space and CPU time (Unix).
fn limit_resources(bytes: u64, timeout: Duration) -> io::Result<()> {
    #[cfg(unix)]
    {
        rlimit::setrlimit(rlimit::Resource::AS, bytes, bytes)?;
        // CPU seconds of this process; tesseract, started later, gets the
        // same budget of its own. SIGXCPU at the soft limit, SIGKILL at the
        // hard one.
        let cpu = timeout.as_secs() + 2;
        rlimit::setrlimit(rlimit::Resource::CPU, cpu, cpu + 1)
    }
    #[cfg(not(unix))]
    {
        let _ = (bytes, timeout);
        Ok(())
    }
}
