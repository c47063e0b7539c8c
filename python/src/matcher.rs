//! `leakprint.Matcher`: `find`, `find_many`, `find_file`, `find_image`.
//!
//! Matching (and OCR) releases the GIL. `find_many` reads its iterable in batches
//! (at most [`BATCH_ITEMS`] texts or [`BATCH_BYTES`] bytes), matches a batch
//! on a rayon pool while the caller consumes the previous one, and yields
//! one list of matches per text, in input order; at most two batches are
//! held at once, so memory is bounded however long the iterable is.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use leakprint::extract::ExtractLimits;
use leakprint::input::QueryId;
use leakprint::ocr::{DecodeLimits, OcrConfig, Steps};
use leakprint::query::config::{ExtractLimitsBuilder, IsolationBuilder};
use leakprint::query::record::BoxRecord;
use leakprint::query::{self, FileFindings};
use leakprint::{Index, Match, MatchConfig, Matcher, Seeds};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyIterator, PyList};

use crate::errors;
use crate::index::PyIndex;
use crate::types::{FileResult, PyEvidence, PyMatch};

/// Most texts in one `find_many` batch.
pub const BATCH_ITEMS: usize = 1024;
/// Most bytes of text in one `find_many` batch.
pub const BATCH_BYTES: usize = 4 << 20;
/// Most matching threads a matcher or a `find_many` call may ask for.
const MAX_THREADS: usize = 1024;
/// Default largest file `find_file` reads.
const DEFAULT_MAX_FILE_SIZE: u64 = 256 << 20;

/// What a matcher needs, shared with its pool's jobs.
struct Shared {
    index: Arc<Index>,
    cfg: MatchConfig,
}

impl Shared {
    fn matcher(&self) -> Matcher<'_> {
        Matcher::new(&self.index, self.cfg.clone())
    }
}

fn pool(threads: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("leakprint-py-{i}"))
        // A panicking job drops its channel: the caller gets an error
        // instead of an aborted interpreter.
        .panic_handler(|_| {})
        .build()
        .map(Arc::new)
        .map_err(|e| PyValueError::new_err(format!("cannot start {threads} matching threads: {e}")))
}

/// Finds leaked content of an `Index` in texts and files.
///
/// `Matcher(index, **config)`; every setting is optional and checked:
///
/// - matching: `min_len` (normalized bytes, 8..100000, default 44),
///   `min_similarity` (0.5..1, default 0.75), `seeds` (`"minima"`,
///   `"all"` or `"tolerant"`; default `"minima"`), `ocr_seeds` (the same
///   choice for the OCR text of `find_image`; default `"tolerant"`: also
///   k-grams one OCR error away), `max_query_bytes` (default 1 MiB; longer
///   texts are matched on their head), `every_source` (default `False`:
///   a text that only shares a piece of a stretch another text's match
///   explains is not verified), `max_candidates`, `band`,
///   `max_postings`, `snippet_chars`;
/// - `threads`: threads of `find_many` (default: one per core);
/// - files (`find_file`): `max_file_size` (default 256 MiB),
///   `max_part_text`, `max_parts`, `max_depth`, `max_expanded`, `max_ratio`;
///   `extract_worker` (the path of a `leakprint` binary) reads PDF and
///   legacy Office files in a separate process under `extract_memory`
///   bytes and `extract_timeout` seconds, as the command line does; without
///   it they are read in this process.
///
/// A bad value raises `ConfigError` (a `ValueError`); an unknown name,
/// `TypeError`.
#[pyclass(module = "leakprint", name = "Matcher", frozen)]
pub struct PyMatcher {
    shared: Arc<Shared>,
    threads: usize,
    /// The matching threads of `find_many`, and the process they were
    /// started in: a child made by `os.fork()` has the pool's state but
    /// none of its threads (a job given to it would never run), so it
    /// starts its own (see [`PyMatcher::pool_here`]).
    pool: std::sync::Mutex<(u32, Arc<rayon::ThreadPool>)>,
    limits: ExtractLimits,
    max_file_size: u64,
}

struct Settings {
    cfg: MatchConfig,
    threads: usize,
    limits: ExtractLimits,
    max_file_size: u64,
}

fn settings(py: Python<'_>, config: Option<&Bound<'_, PyDict>>) -> PyResult<Settings> {
    let mut m = MatchConfig::builder();
    let mut x = ExtractLimitsBuilder::new();
    let mut threads = 0usize;
    let mut max_file_size = DEFAULT_MAX_FILE_SIZE;
    let mut worker: Option<PathBuf> = None;
    let mut worker_memory: Option<u64> = None;
    let mut worker_timeout: Option<f64> = None;
    if let Some(config) = config {
        for (k, v) in config.iter() {
            let key: String = k.extract()?;
            match key.as_str() {
                "min_len" => m = m.min_len(v.extract()?),
                "min_similarity" => m = m.min_similarity(v.extract()?),
                "max_candidates" => m = m.max_candidates(v.extract()?),
                "band" => m = m.band(v.extract()?),
                "max_postings" => m = m.max_postings(v.extract()?),
                "max_query_bytes" => m = m.max_query_bytes(v.extract()?),
                "snippet_chars" => m = m.snippet_chars(v.extract()?),
                "every_source" => m = m.every_source(v.extract()?),
                "seeds" | "ocr_seeds" => {
                    let s: String = v.extract()?;
                    let seeds = match s.as_str() {
                        "minima" => Seeds::Minima,
                        "all" => Seeds::All,
                        "tolerant" => Seeds::Tolerant,
                        _ => {
                            return Err(errors::config_message(
                                py,
                                format!("{key} = {s:?}: use \"minima\", \"all\" or \"tolerant\""),
                            ))
                        }
                    };
                    m = if key == "seeds" {
                        m.seeds(seeds)
                    } else {
                        m.ocr_seeds(seeds)
                    };
                }
                "threads" => threads = v.extract()?,
                "max_file_size" => max_file_size = v.extract()?,
                "max_part_text" => x = x.max_part_text(v.extract()?),
                "max_parts" => x = x.max_parts(v.extract()?),
                "max_depth" => x = x.max_depth(v.extract()?),
                "max_expanded" => x = x.max_expanded(v.extract()?),
                "max_ratio" => x = x.max_ratio(v.extract()?),
                "extract_worker" => worker = v.extract()?,
                "extract_memory" => worker_memory = Some(v.extract()?),
                "extract_timeout" => worker_timeout = Some(v.extract()?),
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "Matcher() got an unexpected keyword argument '{other}'"
                    )))
                }
            }
        }
    }
    if let Some(program) = worker {
        let mut iso = IsolationBuilder::new(program, vec![OsString::from("extract-worker")]);
        if let Some(b) = worker_memory {
            iso = iso.extract_memory(b);
        }
        if let Some(s) = worker_timeout {
            let d = Duration::try_from_secs_f64(s).map_err(|_| {
                errors::config_message(
                    py,
                    format!("extract_timeout = {s} is not a duration in seconds"),
                )
            })?;
            iso = iso.extract_timeout(d);
        }
        x = x.isolation(Some(iso.build().map_err(|e| errors::config(py, e))?));
    } else if worker_memory.is_some() || worker_timeout.is_some() {
        return Err(errors::config_message(
            py,
            "extract_memory and extract_timeout need extract_worker".to_owned(),
        ));
    }
    if threads == 0 {
        threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    }
    if threads > MAX_THREADS {
        return Err(errors::config_message(
            py,
            format!("threads = {threads} is out of range: it must be between 0 and {MAX_THREADS}"),
        ));
    }
    if max_file_size == 0 {
        return Err(errors::config_message(
            py,
            "max_file_size must be at least 1 byte".to_owned(),
        ));
    }
    Ok(Settings {
        cfg: m.build().map_err(|e| errors::config(py, e))?,
        threads,
        limits: x.build().map_err(|e| errors::config(py, e))?,
        max_file_size,
    })
}

fn matches_list(py: Python<'_>, found: Vec<Match>) -> PyResult<Py<PyList>> {
    let list = PyList::empty(py);
    for m in found {
        list.append(Py::new(py, PyMatch::of_text(m))?)?;
    }
    Ok(list.unbind())
}

#[pymethods]
impl PyMatcher {
    #[new]
    #[pyo3(signature = (index, **config))]
    fn new(
        py: Python<'_>,
        index: &PyIndex,
        config: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyMatcher> {
        let s = settings(py, config)?;
        Ok(PyMatcher {
            shared: Arc::new(Shared {
                index: index.index.clone(),
                cfg: s.cfg,
            }),
            pool: std::sync::Mutex::new((std::process::id(), pool(s.threads)?)),
            threads: s.threads,
            limits: s.limits,
            max_file_size: s.max_file_size,
        })
    }

    /// Threads `find_many` uses by default.
    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    /// Every match of `text`, ordered by position in the text.
    fn find(&self, py: Python<'_>, text: &str) -> PyResult<Py<PyList>> {
        let shared = self.shared.clone();
        let text = text.to_owned();
        let found = py
            .detach(move || shared.matcher().try_find(&text))
            .map_err(|e| errors::index(py, e))?;
        matches_list(py, found)
    }

    /// Match every text of `texts` (any iterable of `str`, read lazily) in
    /// parallel; yields one list of matches per text, in input order.
    ///
    /// `threads` overrides the matcher's thread count for this call (1 to
    /// 1024, else `ConfigError`).
    ///
    /// An item that is not a `str` (`TypeError`), a `str` that is not valid
    /// Unicode such as a lone surrogate (`ValueError`), or an exception of
    /// the iterable itself is raised after the results of every item
    /// before it, and ends the iteration: results never shift against
    /// their items. Usable in a child of `os.fork()` (it starts its own
    /// threads there); an iterator made before the fork is not.
    #[pyo3(signature = (texts, threads=None))]
    fn find_many(&self, texts: &Bound<'_, PyAny>, threads: Option<usize>) -> PyResult<FindMany> {
        let pool = match threads {
            None => self.pool_here()?,
            Some(n) if n == 0 || n > MAX_THREADS => {
                return Err(errors::config_message(
                    texts.py(),
                    format!(
                        "threads = {n} is out of range: it must be between 1 and {MAX_THREADS}"
                    ),
                ))
            }
            Some(n) if n == self.threads => self.pool_here()?,
            Some(n) => pool(n)?,
        };
        Ok(FindMany {
            source: texts.try_iter()?.unbind(),
            shared: self.shared.clone(),
            pool,
            pending: None,
            ready: VecDeque::new(),
            position: 0,
            exhausted: false,
            failed: None,
            pid: std::process::id(),
        })
    }

    /// Look up a file used as a query: whole-file evidence (blake3 and
    /// content-defined chunks), then the text of each of its parts
    /// (attachments, archive entries, ...), as `leakprint match --format
    /// file` does.
    ///
    /// `file` is a path (`str` or `os.PathLike`) or the file's contents
    /// (`bytes`); `name` labels it in the results (default: the path, or
    /// `"bytes"`). Raises `FileAccessError` when the path cannot be read or
    /// is larger than `max_file_size`.
    #[pyo3(signature = (file, name=None))]
    fn find_file(
        &self,
        py: Python<'_>,
        file: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<FileResult> {
        let (bytes, label) = if let Ok(b) = file.cast::<PyBytes>() {
            (
                b.as_bytes().to_vec(),
                name.unwrap_or_else(|| "bytes".to_owned()),
            )
        } else {
            let path: PathBuf = file.extract()?;
            let limit = self.max_file_size;
            let p = path.clone();
            let bytes = py
                .detach(move || query::read_file(&p, limit))
                .map_err(|e| errors::read(py, e))?;
            (bytes, name.unwrap_or_else(|| path.display().to_string()))
        };
        let shared = self.shared.clone();
        let limits = self.limits.clone();
        let found: FileFindings =
            py.detach(move || query::find_in_file(&shared.matcher(), &label, &bytes, &limits));
        file_result(py, found)
    }

    /// OCR an image used as a query and match its text: every match, with
    /// the word `boxes` of the matched text in the image's pixels.
    ///
    /// `image` is a path (`str` or `os.PathLike`) or the image's bytes (PNG,
    /// JPEG, GIF, WebP, BMP or TIFF, found by content). Tesseract reads it
    /// (`apt-get install tesseract-ocr tesseract-ocr-eng`): `lang` is its
    /// models joined by `+` (`"eng+rus"`, each from its package
    /// `tesseract-ocr-rus`, ...), `steps` the preprocessing of the first
    /// pass (default `"invert,perspective,deskew,retry"`: dark mode, a
    /// photographed screen's perspective, rotation, upscaled passes when
    /// confidence is low; `"none"` for none), `timeout`
    /// the seconds one image may take (default 120), `max_pixels` the
    /// largest image read (default 40,000,000).
    ///
    /// The image is decoded here (memory-safe Rust, under `max_pixels`)
    /// and tesseract runs as a child process, killed at `timeout`; with the
    /// matcher's `extract_worker` set, both run in that worker process
    /// under `extract_memory`, as `leakprint match` does.
    ///
    /// Raises `ImageError` when the bytes are no readable image,
    /// `OcrError` when tesseract is missing, lacks a model (named with its
    /// package), fails or times out, `FileAccessError` for an unreadable
    /// path.
    #[pyo3(signature = (image, lang="eng", steps=None, timeout=None, max_pixels=None))]
    fn find_image(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        lang: &str,
        steps: Option<&str>,
        timeout: Option<f64>,
        max_pixels: Option<u64>,
    ) -> PyResult<Py<PyList>> {
        let cfg = self.ocr_config(py, lang, steps, timeout, max_pixels)?;
        let bytes = if let Ok(b) = image.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else {
            let path: PathBuf = image.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "find_image: image must be a path or bytes, not {}",
                    image
                        .get_type()
                        .name()
                        .map_or("?".into(), |n| n.to_string())
                ))
            })?;
            let limit = self.max_file_size;
            py.detach(move || query::read_file(&path, limit))
                .map_err(|e| errors::read(py, e))?
        };
        let shared = self.shared.clone();
        let found = py
            .detach(move || query::find_image(&shared.matcher(), &bytes, &cfg))
            .map_err(|e| errors::image(py, e))?;
        let list = PyList::empty(py);
        for m in found.matches {
            let boxes = found
                .page
                .boxes_for(m.query_span.clone())
                .into_iter()
                .map(BoxRecord::from)
                .collect();
            list.append(Py::new(
                py,
                PyMatch {
                    inner: m,
                    query: None,
                    part: None,
                    boxes: Some(boxes),
                },
            )?)?;
        }
        Ok(list.unbind())
    }

    fn __repr__(&self) -> String {
        format!("Matcher(threads={})", self.threads)
    }
}

impl PyMatcher {
    /// The matcher's pool, started again when this process is not the one
    /// that started it (a child of `os.fork()`).
    fn pool_here(&self) -> PyResult<Arc<rayon::ThreadPool>> {
        let mut g = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        let pid = std::process::id();
        if g.0 != pid {
            let (_, old) = std::mem::replace(&mut *g, (pid, pool(self.threads)?));
            // Not dropped: dropping a pool wakes its threads through locks
            // one of them may have held at the fork, never released here.
            std::mem::forget(old);
        }
        Ok(g.1.clone())
    }

    /// The OCR settings of one `find_image` call, checked by the library.
    ///
    /// Isolation: a Python process has no `leakprint` executable to run as
    /// the OCR worker, so by default the image is read in this process:
    /// decoding is memory-safe Rust under `max_pixels`, and tesseract, the
    /// part that could crash or run away, is already a child process killed
    /// at the timeout. A caller who set `extract_worker` (the path of a
    /// `leakprint` binary) gets the worker, as the command line does: its
    /// hidden `ocr-worker` command under the same memory cap.
    fn ocr_config(
        &self,
        py: Python<'_>,
        lang: &str,
        steps: Option<&str>,
        timeout: Option<f64>,
        max_pixels: Option<u64>,
    ) -> PyResult<OcrConfig> {
        let mut b = OcrConfig::builder().lang(lang);
        if let Some(list) = steps {
            let s = Steps::parse(list)
                .map_err(|e| errors::config_message(py, format!("steps = {list:?}: {e}")))?;
            b = b.steps(s);
        }
        if let Some(t) = timeout {
            let d = Duration::try_from_secs_f64(t).map_err(|_| {
                errors::config_message(py, format!("timeout = {t} is not a duration in seconds"))
            })?;
            b = b.timeout(d);
        }
        if let Some(p) = max_pixels {
            b = b.decode_limits(DecodeLimits {
                max_pixels: p,
                ..DecodeLimits::default()
            });
        }
        let iso = self.limits.isolation.clone().map(|mut iso| {
            iso.args = vec![OsString::from("ocr-worker")];
            iso
        });
        b.isolation(iso).build().map_err(|e| errors::config(py, e))
    }
}

fn file_result(py: Python<'_>, f: FileFindings) -> PyResult<FileResult> {
    let notes = f.notes();
    let name = f.name;
    let evidence = match f.evidence {
        Ok(ev) => ev
            .into_iter()
            .map(|inner| PyEvidence {
                query: name.clone(),
                inner,
            })
            .collect(),
        Err(e) => return Err(errors::index(py, e)),
    };
    let mut matches = Vec::new();
    for p in f.parts {
        let found = p.matches.map_err(|e| errors::index(py, e))?;
        for m in found {
            matches.push(PyMatch {
                inner: m,
                query: Some(QueryId::Str(p.query.clone())),
                part: Some(p.part.clone()),
                boxes: None,
            });
        }
    }
    Ok(FileResult {
        name,
        evidence,
        matches,
        notes,
    })
}

type BatchResult = Vec<Result<Vec<Match>, leakprint::IndexError>>;

/// The text of item `position` of `find_many`: a `str` (a `TypeError`
/// otherwise), whose encoding to UTF-8 may fail (a lone surrogate, common
/// in JSON from social platforms): a `ValueError` naming the item, with
/// Python's error as its cause.
fn text_of(item: &Bound<'_, PyAny>, position: usize) -> PyResult<String> {
    let Ok(s) = item.cast::<pyo3::types::PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "find_many: item {position} is a {}, not a str",
            item.get_type().name().map_or("?".into(), |n| n.to_string())
        )));
    };
    s.to_cow().map(|c| c.into_owned()).map_err(|cause| {
        let e = PyValueError::new_err(format!(
            "find_many: item {position} is not valid Unicode (a lone surrogate?): {cause}"
        ));
        e.set_cause(item.py(), Some(cause));
        e
    })
}

/// The iterator of `Matcher.find_many`.
#[pyclass(module = "leakprint")]
pub struct FindMany {
    source: Py<PyIterator>,
    shared: Arc<Shared>,
    pool: Arc<rayon::ThreadPool>,
    pending: Option<crossbeam_channel::Receiver<BatchResult>>,
    ready: VecDeque<Result<Vec<Match>, leakprint::IndexError>>,
    position: usize,
    exhausted: bool,
    /// The error of the item that ended the reading (not a text, or the
    /// iterable raised), raised once the results of the items before it
    /// are handed out: results never shift against their items.
    failed: Option<PyErr>,
    /// The process that made the iterator: its pool's threads do not
    /// exist in a child of `os.fork()`.
    pid: u32,
}

impl FindMany {
    /// Read the next batch from the iterable and start matching it.
    fn submit(&mut self, py: Python<'_>) -> PyResult<()> {
        let mut texts = Vec::new();
        let mut bytes = 0;
        let mut source = self.source.bind(py).clone();
        while texts.len() < BATCH_ITEMS && bytes < BATCH_BYTES {
            let Some(item) = source.next() else {
                self.exhausted = true;
                break;
            };
            match item.and_then(|item| text_of(&item, self.position)) {
                Ok(text) => {
                    self.position += 1;
                    bytes += text.len();
                    texts.push(text);
                }
                Err(e) => {
                    // Stop here: the texts before it are matched and
                    // handed out first, then this error ends the stream.
                    self.failed = Some(e);
                    self.exhausted = true;
                    break;
                }
            }
        }
        if texts.is_empty() {
            return Ok(());
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        let shared = self.shared.clone();
        self.pool.spawn(move || {
            use rayon::prelude::*;
            let m = shared.matcher();
            let out: BatchResult = texts.par_iter().map(|t| m.try_find(t)).collect();
            let _ = tx.send(out);
        });
        self.pending = Some(rx);
        Ok(())
    }
}

#[pymethods]
impl FindMany {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyList>>> {
        if self.pid != std::process::id() {
            return Err(PyValueError::new_err(
                "find_many: this iterator was made before os.fork(); call find_many again in this process",
            ));
        }
        loop {
            if let Some(r) = self.ready.pop_front() {
                let found = r.map_err(|e| errors::index(py, e))?;
                return matches_list(py, found).map(Some);
            }
            if let Some(rx) = self.pending.take() {
                let Ok(batch) = py.detach(move || rx.recv()) else {
                    // The batch's results are lost: nothing after them
                    // could be paired with its item, so the stream ends.
                    self.exhausted = true;
                    self.failed = None;
                    return Err(PyValueError::new_err(
                        "find_many: a matching thread stopped",
                    ));
                };
                self.ready = batch.into();
                // Start the next batch before handing these out.
                if !self.exhausted {
                    self.submit(py)?;
                }
                continue;
            }
            if let Some(e) = self.failed.take() {
                return Err(e);
            }
            if self.exhausted {
                return Ok(None);
            }
            self.submit(py)?;
            if self.pending.is_none() && self.failed.is_none() {
                return Ok(None);
            }
        }
    }
}
