//! The native module `leakprint._leakprint` of the Python package (PyO3,
//! abi3 for CPython >= 3.9). `leakprint/__init__.py` re-exports it with
//! the documentation a Python user reads; the Rust library does the work
//! (`leakprint::query` is the path the command line and the service take
//! too).

mod errors;
mod index;
mod matcher;
mod pieces;
mod types;

use pyo3::prelude::*;

/// The native part of `leakprint` (import `leakprint` instead).
#[pymodule]
fn _leakprint(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(index::build, m)?)?;
    m.add_class::<index::PyIndex>()?;
    m.add_class::<index::FileIter>()?;
    m.add_function(wrap_pyfunction!(pieces::plan_pieces, m)?)?;
    m.add_function(wrap_pyfunction!(pieces::begin_pieces, m)?)?;
    m.add_function(wrap_pyfunction!(pieces::build_piece, m)?)?;
    m.add_function(wrap_pyfunction!(pieces::commit_pieces, m)?)?;
    m.add_function(wrap_pyfunction!(pieces::piece_keys_name, m)?)?;
    m.add_function(wrap_pyfunction!(pieces::compact, m)?)?;
    m.add_function(wrap_pyfunction!(pieces::piece_segment_name, m)?)?;
    m.add_class::<pieces::PyKeyCounts>()?;
    m.add(
        "DEFAULT_COMMON_MIN_DOCS",
        leakprint::index::builder::DEFAULT_COMMON_MIN_DOCS,
    )?;
    m.add_class::<matcher::PyMatcher>()?;
    m.add_class::<matcher::FindMany>()?;
    m.add_class::<types::PyMatch>()?;
    m.add_class::<types::PyEvidence>()?;
    m.add_class::<types::FileResult>()?;
    m.add_class::<types::WordBox>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
