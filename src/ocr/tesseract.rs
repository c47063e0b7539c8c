//! The `tesseract` program (4.x/5.x) as the OCR engine.
//!
//! One call: a PNG on stdin, TSV on stdout (`tesseract stdin stdout -l LANG
//! --psm 3 tsv`), always with `OMP_THREAD_LIMIT=1` (tesseract's own OpenMP
//! threads make it several times slower on a shared machine; the pool of
//! `--threads` workers gives the parallelism). The TSV is read by
//! [`crate::input::tsv`], which builds the page text and its word boxes.
//!
//! Why the program and not a binding: the `leptess` (0.14, 2023) and
//! `tesseract` (0.15, 2023) crates are MIT but bind the C++ library through
//! bindgen, so building leakprint would need libtesseract-dev, libleptonica-dev
//! and clang everywhere, and a crash inside tesseract would take the whole
//! process down; the program is one `apt-get install` and fails alone.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::child::{self, ChildError};
use super::ImageError;

/// Largest TSV accepted from one image: 64 MiB.
pub const MAX_TSV_BYTES: u64 = 64 << 20;

/// Whether `lang` is a well-formed tesseract language list: model names of
/// letters, digits, `_` and `-`, joined by `+`.
pub fn valid_lang(lang: &str) -> bool {
    !lang.is_empty()
        && lang.len() <= 200
        && lang.split('+').all(|m| {
            !m.is_empty()
                && m.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// Run `program` on the PNG `png` with the models `lang`; its TSV output.
///
/// # Errors
/// [`ImageError::Ocr`] when tesseract cannot start, fails, or writes more
/// than [`MAX_TSV_BYTES`]; [`ImageError::Timeout`] past `timeout`.
pub fn run(
    program: &Path,
    png: &[u8],
    lang: &str,
    timeout: Duration,
) -> Result<Vec<u8>, ImageError> {
    let mut cmd = Command::new(program);
    cmd.args(["stdin", "stdout", "-l", lang, "--psm", "3", "tsv"])
        .env("OMP_THREAD_LIMIT", "1");
    let done = child::run(cmd, png, timeout, MAX_TSV_BYTES).map_err(|e| match e {
        ChildError::Spawn(e) => ImageError::Ocr {
            reason: format!(
                "cannot run {} ({e}); install it: apt-get install tesseract-ocr",
                program.display()
            ),
        },
        ChildError::Timeout => ImageError::Timeout {
            seconds: timeout.as_secs_f64(),
        },
        ChildError::Lost(why) => ImageError::Ocr {
            reason: format!("tesseract lost: {why}"),
        },
    })?;
    if !done.status.success() {
        return Err(ImageError::Ocr {
            reason: child::describe_failure("tesseract", &done),
        });
    }
    if done.stdout.len() as u64 > MAX_TSV_BYTES {
        return Err(ImageError::Ocr {
            reason: format!("tesseract wrote more than {MAX_TSV_BYTES} bytes of TSV"),
        });
    }
    Ok(done.stdout)
}

/// The language models `program --list-langs` knows.
///
/// # Errors
/// [`ImageError::Ocr`] when the program cannot be run.
pub fn installed_langs(program: &Path) -> Result<Vec<String>, ImageError> {
    let mut cmd = Command::new(program);
    cmd.arg("--list-langs").env("OMP_THREAD_LIMIT", "1");
    let done =
        child::run(cmd, &[], Duration::from_secs(30), 1 << 20).map_err(|e| ImageError::Ocr {
            reason: format!(
                "cannot run {} ({}); install it: apt-get install tesseract-ocr",
                program.display(),
                match e {
                    ChildError::Spawn(e) => e.to_string(),
                    ChildError::Timeout => "timed out".to_owned(),
                    ChildError::Lost(w) => w,
                }
            ),
        })?;
    // tesseract 4 prints the list on stderr, 5 on stdout.
    let mut text = String::from_utf8_lossy(&done.stdout).into_owned();
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(&done.stderr));
    Ok(text
        .lines()
        .skip_while(|l| !l.starts_with("List of available languages"))
        .skip(1)
        .map(|l| l.trim().to_owned())
        .filter(|l| valid_lang(l))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_lists() {
        for ok in ["eng", "eng+rus+chi_sim", "chi_tra_vert", "script-Latin"] {
            assert!(valid_lang(ok), "{ok}");
        }
        for bad in ["", "eng+", "+eng", "eng rus", "eng;rm", "../eng", "eng\n"] {
            assert!(!valid_lang(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let e = run(
            Path::new("/nonexistent/tesseract"),
            b"",
            "eng",
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("apt-get install tesseract-ocr"),
            "{e}"
        );
    }
}
