//! `leakprint.build` and `leakprint.Index`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use leakprint::index::builder::{Mode, Progress};
use leakprint::index::Residence;
use leakprint::query::describe;
use leakprint::{Index, IndexBuilder};
use pyo3::prelude::*;

use crate::errors;
use crate::types::to_python;

/// An open index: a folder written by `build` or `leakprint index`, or one
/// segment file. Thread-safe; share one between matchers.
#[pyclass(module = "leakprint", name = "Index", frozen)]
pub struct PyIndex {
    pub index: Arc<Index>,
    path: PathBuf,
}

#[pymethods]
impl PyIndex {
    /// Open the index at `path` (checks headers and bounds; see `verify`).
    /// With `load=True` its segments are read into memory backed by huge
    /// pages instead of mapped: memory the size of the index, 0.4-2.5 s to
    /// open 1.2 GB here, then 6-14% more unrelated posts a second and 3-9%
    /// more mixed ones on a large index.
    ///
    /// Raises `FileAccessError` when it cannot be read (or, loaded, when
    /// its memory cannot be allocated; with the kernel's overcommit the
    /// process may instead be killed when it runs out) and
    /// `CorruptIndexError` when it is not a valid index.
    #[staticmethod]
    #[pyo3(signature = (path, load = false))]
    fn open(py: Python<'_>, path: PathBuf, load: bool) -> PyResult<PyIndex> {
        let p = path.clone();
        let residence = if load {
            Residence::Loaded
        } else {
            Residence::Mapped
        };
        let index = py
            .detach(move || Index::open_with(&p, residence))
            .map_err(|e| errors::index(py, e))?;
        Ok(PyIndex {
            index: Arc::new(index),
            path,
        })
    }

    /// The path the index was opened from.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Parameters, totals, segment files and bytes per section: the dict of
    /// `leakprint info --json`.
    fn info(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let v = serde_json::to_value(describe::info(&self.index))
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        to_python(py, &v)
    }

    /// Every input file the index records, with its status, counts, reason
    /// and parts: the lines of `leakprint info --files --json`, as dicts,
    /// lazily.
    fn files(&self) -> FileIter {
        FileIter {
            index: self.index.clone(),
            segment: 0,
            file: 0,
        }
    }

    /// Check every checksum and structure (reads the whole index).
    ///
    /// Raises `CorruptIndexError` naming the first problem.
    fn verify(&self, py: Python<'_>) -> PyResult<()> {
        let index = self.index.clone();
        py.detach(move || index.verify())
            .map_err(|e| errors::index(py, e))
    }

    fn __repr__(&self) -> String {
        let t = self.index.totals();
        format!(
            "Index({:?}, segments={}, files={})",
            self.path.display().to_string(),
            t.segments,
            t.files
        )
    }
}

/// The files of an index, one dict each.
#[pyclass(module = "leakprint")]
pub struct FileIter {
    index: Arc<Index>,
    segment: usize,
    file: u32,
}

#[pymethods]
impl FileIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            let Some(seg) = self.index.segments().get(self.segment) else {
                return Ok(None);
            };
            if self.file >= seg.file_count() {
                self.segment += 1;
                self.file = 0;
                continue;
            }
            let entry = describe::file_entry(&self.index, self.segment, self.file)
                .map_err(|e| errors::index(py, e))?;
            self.file += 1;
            let v = serde_json::to_value(entry)
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            return to_python(py, &v).map(Some);
        }
    }
}

/// Progress counters the build thread updates and Python reads.
#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    files_done: AtomicU64,
    bytes_done: AtomicU64,
    merging: AtomicBool,
}

impl Progress for Counters {
    fn start(&self, files: u64, bytes: u64) {
        self.files.store(files, Ordering::Relaxed);
        self.bytes.store(bytes, Ordering::Relaxed);
    }
    fn file_done(&self, bytes: u64) {
        self.files_done.fetch_add(1, Ordering::Relaxed);
        self.bytes_done.fetch_add(bytes, Ordering::Relaxed);
    }
    fn merging(&self) {
        self.merging.store(true, Ordering::Relaxed);
    }
}

/// How often the progress callback is called, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Tells `progress` how far the build got: a tqdm-like object (has
/// `update`) gets `total` set and `update(delta)` calls; a callable gets
/// `progress(done, total)`. Units are bytes, or files when the inputs
/// hold no bytes (a compaction).
struct Reporter {
    target: Option<Py<PyAny>>,
    shown: u64,
    total_set: bool,
    merging_shown: bool,
}

impl Reporter {
    fn report(&mut self, py: Python<'_>, c: &Counters) -> PyResult<()> {
        let Some(target) = &self.target else {
            return Ok(());
        };
        let target = target.bind(py);
        let bytes = c.bytes.load(Ordering::Relaxed);
        let (done, total) = if bytes > 0 {
            (c.bytes_done.load(Ordering::Relaxed).min(bytes), bytes)
        } else {
            (
                c.files_done.load(Ordering::Relaxed),
                c.files.load(Ordering::Relaxed),
            )
        };
        if target.hasattr("update")? {
            if !self.total_set && total > 0 {
                target.setattr("total", total)?;
                if bytes > 0 && target.hasattr("unit")? {
                    let _ = target.setattr("unit", "B");
                }
                self.total_set = true;
            }
            if done > self.shown {
                target.call_method1("update", (done - self.shown,))?;
                self.shown = done;
            }
            if c.merging.load(Ordering::Relaxed) && !self.merging_shown {
                self.merging_shown = true;
                if target.hasattr("set_postfix_str")? {
                    target.call_method1("set_postfix_str", ("merging fingerprints",))?;
                }
            }
        } else if done != self.shown || !self.total_set {
            target.call1((done, total))?;
            self.shown = done;
            self.total_set = true;
        }
        Ok(())
    }
}

/// The paths of `paths`: one path or a list of them.
fn path_list(paths: &Bound<'_, PyAny>) -> PyResult<Vec<PathBuf>> {
    if let Ok(one) = paths.extract::<PathBuf>() {
        return Ok(vec![one]);
    }
    let mut out = Vec::new();
    for p in paths.try_iter()? {
        out.push(p?.extract::<PathBuf>()?);
    }
    Ok(out)
}

/// Index files and folders into the index folder `output`.
///
/// `paths` is one path or a list of them; `threads` defaults to one per
/// core, `memory` (bytes) to 1 GiB; `append=True` adds a segment to an
/// existing index. `progress` is a tqdm bar (anything with `update`; its
/// `total` is set) or a callable `progress(done, total)`, called from this
/// thread at most every 0.1 s, in bytes. Ctrl-C stops the build (nothing is
/// published) and raises `KeyboardInterrupt`.
///
/// Returns the build summary as a dict (files, indexed, binary,
/// skipped_files, bytes, parts, ..., seconds, skipped).
#[pyfunction]
#[pyo3(signature = (paths, output, threads=None, memory=None, append=false, progress=None))]
pub fn build(
    py: Python<'_>,
    paths: &Bound<'_, PyAny>,
    output: PathBuf,
    threads: Option<usize>,
    memory: Option<u64>,
    append: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let inputs = path_list(paths)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let mut builder = IndexBuilder::new().cancel_flag(cancel.clone());
    if let Some(t) = threads {
        builder = builder.threads(t);
    }
    if let Some(m) = memory {
        builder = builder.memory(m);
    }
    let indexer = builder.build().map_err(|e| errors::config(py, e))?;
    let counters = Arc::new(Counters::default());
    let c = counters.clone();
    let mode = if append { Mode::Append } else { Mode::Create };
    let handle = std::thread::Builder::new()
        .name("leakprint-build".into())
        .spawn(move || indexer.index_paths(&inputs, &output, mode, &*c))
        .map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start the build: {e}"))
        })?;
    let mut reporter = Reporter {
        target: progress,
        shown: 0,
        total_set: false,
        merging_shown: false,
    };
    let mut failure: Option<PyErr> = None;
    while !handle.is_finished() {
        py.detach(|| std::thread::sleep(PROGRESS_EVERY));
        if failure.is_none() {
            if let Err(e) = py
                .check_signals()
                .and_then(|()| reporter.report(py, &counters))
            {
                // Ctrl-C or a failing callback: stop the build, then raise.
                cancel.store(true, Ordering::Relaxed);
                failure = Some(e);
            }
        }
    }
    let result = handle
        .join()
        .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err("the build thread panicked"))?;
    if let Some(e) = failure {
        return Err(e);
    }
    let summary = result.map_err(|e| errors::index(py, e))?;
    reporter.report(py, &counters)?;
    let v = serde_json::to_value(summary)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    to_python(py, &v)
}
