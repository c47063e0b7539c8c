//! Rust errors as Python exceptions, with the same messages.
//!
//! The exception classes live in `leakprint/_errors.py` (so that they can
//! inherit from both `LeakprintError` and `ValueError` or `OSError`):
//!
//! | Rust | Python |
//! |---|---|
//! | `ConfigError`, `IndexError::Config`, `IndexError::PieceTooLarge` | `leakprint.ConfigError` (a `ValueError`) |
//! | `IndexError::Io`, missing inputs or output folder, `ReadError` | `leakprint.FileAccessError` (an `OSError`) |
//! | `IndexError::Interrupted` | `KeyboardInterrupt` |
//! | any other `IndexError` | `leakprint.CorruptIndexError` |
//! | `ImageError::{NotAnImage, TooLarge, Decode, Worker}` | `leakprint.ImageError` (a `ValueError`) |
//! | `ImageError::{Ocr, Timeout, Tsv}` | `leakprint.OcrError` (a `RuntimeError`) |
//! | `ImageError::Index` | as `IndexError` above |

use leakprint::index::IndexError;
use leakprint::ocr::ImageError;
use leakprint::query::ReadError;
use leakprint::ConfigError;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::PyType;

fn raise(py: Python<'_>, class: &str, message: String) -> PyErr {
    let cls = py
        .import("leakprint._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
    match cls {
        Ok(t) => PyErr::from_type(t, message),
        Err(e) => e,
    }
}

/// A configuration error as `leakprint.ConfigError`.
pub fn config(py: Python<'_>, e: ConfigError) -> PyErr {
    raise(py, "ConfigError", e.to_string())
}

/// A configuration problem found on the Python side, as `leakprint.ConfigError`.
pub fn config_message(py: Python<'_>, message: String) -> PyErr {
    raise(py, "ConfigError", message)
}

/// An index error as the exception of the table above.
pub fn index(py: Python<'_>, e: IndexError) -> PyErr {
    let message = e.to_string();
    let mut inner = &e;
    while let IndexError::InSegment { source, .. } = inner {
        inner = source;
    }
    let class = match inner {
        IndexError::Interrupted => return PyKeyboardInterrupt::new_err(message),
        IndexError::Config(_)
        | IndexError::PieceTooLarge { .. }
        | IndexError::TooManyShards { .. }
        | IndexError::Sharded { .. }
        | IndexError::LoneShard { .. } => "ConfigError",
        IndexError::Io { .. }
        | IndexError::MissingInput { .. }
        | IndexError::MissingOutputDir { .. } => "FileAccessError",
        _ => "CorruptIndexError",
    };
    raise(py, class, message)
}

/// A file query that cannot be read, as `leakprint.FileAccessError`.
pub fn read(py: Python<'_>, e: ReadError) -> PyErr {
    raise(py, "FileAccessError", e.to_string())
}

/// An image that cannot be read, or OCR that failed, as the exception of
/// the table above.
pub fn image(py: Python<'_>, e: ImageError) -> PyErr {
    let class = match e {
        ImageError::Index(e) => return index(py, e),
        ImageError::NotAnImage
        | ImageError::TooLarge { .. }
        | ImageError::Decode { .. }
        | ImageError::Worker { .. } => "ImageError",
        _ => "OcrError",
    };
    raise(py, class, e.to_string())
}
