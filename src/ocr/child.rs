//! Run a child process on one input under a deadline, with bounded output.
//!
//! Used twice: the parent runs the OCR worker (`leakprint ocr-worker`), and
//! the worker runs `tesseract`. The input is written from one thread, stdout
//! and stderr are read by two more (so no pipe can fill up and stall the
//! child), and the child is killed when the deadline passes. Stdout is read
//! up to a cap, stderr up to [`STDERR_KEPT`] bytes.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Longest stderr kept, for the reason of a failure.
pub const STDERR_KEPT: u64 = 4096;

/// What a finished child left.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout, at most the cap plus one byte (more means it was over).
    pub stdout: Vec<u8>,
    /// The start of its stderr.
    pub stderr: Vec<u8>,
}

/// Why a child gave no answer.
#[derive(Debug)]
pub enum ChildError {
    /// It could not be started.
    Spawn(std::io::Error),
    /// It ran past the deadline and was killed.
    Timeout,
    /// Waiting for it or reading its output failed.
    Lost(String),
}

/// Run `cmd` with `input` on its stdin; stdout is kept up to `out_cap`
/// bytes (one more is read so that the caller can tell it was over).
pub fn run(
    mut cmd: Command,
    input: &[u8],
    timeout: Duration,
    out_cap: u64,
) -> Result<Finished, ChildError> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(ChildError::Spawn)?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(ChildError::Lost("the child has no pipes".to_owned()));
    };
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (timed_out, status, out, err) = std::thread::scope(|s| {
        s.spawn(move || {
            // A child that exits early closes the pipe; its status says why.
            let _ = stdin.write_all(input);
        });
        let err_reader = s.spawn(move || {
            let mut e = Vec::new();
            let _ = stderr.take(STDERR_KEPT).read_to_end(&mut e);
            e
        });
        let out_reader = s.spawn(move || {
            let mut out = Vec::new();
            let r = stdout.take(out_cap + 1).read_to_end(&mut out);
            let _ = done_tx.send(());
            r.map(|_| out)
        });
        // The child closes stdout when it exits (or is killed).
        let timed_out = match done_rx.recv_timeout(timeout) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => false,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                true
            }
        };
        let status = child.wait();
        (
            timed_out,
            status,
            out_reader.join(),
            err_reader.join().unwrap_or_default(),
        )
    });
    if timed_out {
        return Err(ChildError::Timeout);
    }
    let status = status.map_err(|e| ChildError::Lost(e.to_string()))?;
    let stdout = match out {
        Ok(Ok(out)) => out,
        _ => return Err(ChildError::Lost("its output could not be read".to_owned())),
    };
    Ok(Finished {
        status,
        stdout,
        stderr: err,
    })
}

/// Words for a child that did not exit cleanly: its signal or status and
/// the last line of its stderr.
pub fn describe_failure(what: &str, f: &Finished) -> String {
    let err = String::from_utf8_lossy(&f.stderr);
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = f.status.signal() {
            let how = match sig {
                6 => "aborted",
                9 => "killed",
                11 => "crashed (segmentation fault)",
                24 => "ran out of CPU time",
                _ => "killed by a signal",
            };
            return format!("{what} {how} (signal {sig}) {last}")
                .trim()
                .to_owned();
        }
    }
    format!("{what} failed ({}): {last}", f.status)
}
