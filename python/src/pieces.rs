//! Building one index in pieces on many machines (`leakprint.spark` runs
//! these in a Spark job): `plan_pieces`, `begin_pieces`, `build_piece`,
//! `KeyCounts`, `commit_pieces`. The Rust library's
//! `leakprint::index::builder::pieces` documents the protocol and why
//! retried pieces and the single commit are safe.

use std::path::PathBuf;

use leakprint::index::builder::walk::{self, Entry};
use leakprint::index::builder::{plan_pieces as plan, Indexer, NoProgress};
use leakprint::index::keycount::KeyCounts;
use leakprint::index::wire::Frequent;
use leakprint::IndexBuilder;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors;
use crate::types::to_python;

/// An entry as Python sees it: `(path, display, reason)`; `path` is the
/// file to read (None for an entry the walk skipped), `display` the path
/// as reached from the input argument (bytes, as the index records it),
/// `reason` why it is skipped (None for a file to read).
type PyEntry = (Option<PathBuf>, Vec<u8>, Option<String>);

fn to_py(e: Entry) -> PyEntry {
    match e {
        Entry::File { path, display, .. } => (Some(path), display, None),
        Entry::Skipped { display, reason } => (None, display, Some(reason)),
    }
}

fn from_py(py: Python<'_>, e: PyEntry) -> PyResult<Entry> {
    match e {
        // (The size as this machine sees the file: the tuple carries none.)
        (Some(path), display, None) => {
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            Ok(Entry::File {
                path,
                display,
                size,
            })
        }
        (None, display, Some(reason)) => Ok(Entry::Skipped { display, reason }),
        _ => Err(errors::config_message(
            py,
            "an entry is (path, display, None) or (None, display, reason)".into(),
        )),
    }
}

/// The indexer the pieces and the commit share.
fn indexer(
    py: Python<'_>,
    threads: Option<usize>,
    memory: Option<u64>,
    common_min_docs: Option<u32>,
    common_fraction: Option<f64>,
) -> PyResult<Indexer> {
    let mut b = IndexBuilder::new();
    if let Some(t) = threads {
        b = b.threads(t);
    }
    if let Some(m) = memory {
        b = b.memory(m);
    }
    if let Some(n) = common_min_docs {
        b = b.common_min_docs(n);
    }
    if let Some(f) = common_fraction {
        b = b.common_fraction(f);
    }
    b.build().map_err(|e| errors::config(py, e))
}

fn summary_dict(py: Python<'_>, s: &impl serde::Serialize) -> PyResult<Py<PyAny>> {
    let v = serde_json::to_value(s).map_err(|e| PyValueError::new_err(e.to_string()))?;
    to_python(py, &v)
}

/// Walk `paths` (one path or a list, as `build` takes them) and cut the
/// files into at most `pieces` lists of about the same number of bytes,
/// files of one size together (byte-identical files meet in one piece).
/// Each list holds `(path, display, reason)` tuples in walk order, ready
/// for `build_piece`.
///
/// Raises `FileAccessError` when an input does not exist.
#[pyfunction]
pub fn plan_pieces(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    pieces: usize,
) -> PyResult<Vec<Vec<PyEntry>>> {
    let entries = py
        .detach(|| walk::walk(&paths))
        .map_err(|e| errors::index(py, e))?;
    Ok(py
        .detach(|| plan(entries, pieces))
        .into_iter()
        .map(|p| p.into_iter().map(to_py).collect())
        .collect())
}

/// The file name of piece `piece`'s key counts in generation `generation`
/// (in the output folder, until the commit removes it).
#[pyfunction]
pub fn piece_keys_name(generation: u64, piece: u32) -> String {
    leakprint::index::builder::piece_keys_name(generation, piece)
}

/// The file name of piece `piece`'s segment in generation `generation`.
#[pyfunction]
pub fn piece_segment_name(generation: u64, piece: u32) -> String {
    leakprint::index::builder::piece_segment_name(generation, piece)
}

/// Check or create the index folder `output` for a build in pieces and
/// return the generation the pieces are written under. An index already
/// there stays visible until `commit_pieces` replaces it.
#[pyfunction]
pub fn begin_pieces(py: Python<'_>, output: PathBuf) -> PyResult<u64> {
    let ix = indexer(py, Some(1), None, None, None)?;
    py.detach(|| ix.begin_pieces(&output))
        .map_err(|e| errors::index(py, e))
}

/// Build piece `piece` (1, 2, ...) of generation `generation` from
/// `entries` into `output`: a segment and its key counts, each written
/// atomically under a name fixed by generation and piece, so that running
/// it again (a retried task) writes the same bytes over the same names.
/// `scratch` is a local folder for spilled fingerprints (default: the
/// system's temporary folder). Returns the summary as a dict.
#[pyfunction]
#[pyo3(signature = (entries, output, generation, piece, scratch=None, threads=None, memory=None, common_min_docs=None, common_fraction=None))]
#[allow(clippy::too_many_arguments)]
pub fn build_piece(
    py: Python<'_>,
    entries: Vec<PyEntry>,
    output: PathBuf,
    generation: u64,
    piece: u32,
    scratch: Option<PathBuf>,
    threads: Option<usize>,
    memory: Option<u64>,
    common_min_docs: Option<u32>,
    common_fraction: Option<f64>,
) -> PyResult<Py<PyAny>> {
    let ix = indexer(py, threads, memory, common_min_docs, common_fraction)?;
    let entries = entries
        .into_iter()
        .map(|e| from_py(py, e))
        .collect::<PyResult<Vec<_>>>()?;
    let scratch = scratch.unwrap_or_else(std::env::temp_dir);
    let summary = py
        .detach(|| ix.build_piece(entries, &output, generation, piece, &scratch, &NoProgress))
        .map_err(|e| errors::index(py, e))?;
    summary_dict(py, &summary)
}

/// Make the pieces `pieces` of generation `generation` the index in
/// `output`, in one atomic manifest commit. `keys` and `docs` are the
/// summed key counts of all pieces (the reduce of their `KeyCounts`):
/// little-endian 64-bit keys and 32-bit counts, in any order; counts
/// below `common_min_docs` are ignored. Returns the summary as a dict.
#[pyfunction]
#[pyo3(signature = (output, generation, pieces, keys, docs, common_min_docs=None, common_fraction=None))]
// (The arguments are the Python function's, two of them keywords.)
#[allow(clippy::too_many_arguments)]
pub fn commit_pieces(
    py: Python<'_>,
    output: PathBuf,
    generation: u64,
    pieces: Vec<u32>,
    keys: &[u8],
    docs: &[u8],
    common_min_docs: Option<u32>,
    common_fraction: Option<f64>,
) -> PyResult<Py<PyAny>> {
    if !keys.len().is_multiple_of(8)
        || !docs.len().is_multiple_of(4)
        || keys.len() / 8 != docs.len() / 4
    {
        return Err(errors::config_message(
            py,
            format!(
                "keys ({} bytes) and docs ({} bytes) must hold as many 8-byte keys as 4-byte counts",
                keys.len(),
                docs.len()
            ),
        ));
    }
    let mut frequent: Vec<Frequent> = keys
        .chunks_exact(8)
        .zip(docs.chunks_exact(4))
        .map(|(k, d)| Frequent {
            key: u64::from_le_bytes(k.try_into().unwrap_or_default()),
            docs: u32::from_le_bytes(d.try_into().unwrap_or_default()),
        })
        .collect();
    frequent.sort_unstable();
    let ix = indexer(py, Some(1), None, common_min_docs, common_fraction)?;
    let summary = py
        .detach(|| ix.commit_pieces(&output, generation, &pieces, frequent))
        .map_err(|e| errors::index(py, e))?;
    summary_dict(py, &summary)
}

/// Compact the index folder `index` (superseded and removed files are
/// dropped for good) and cut it into `shards` shards by key (a power of
/// two; 1 leaves one index): sub-folders the index folder lists, each with
/// all the text and the postings of its keys, giving the matches of the
/// unsharded index. Returns the summary as a dict.
#[pyfunction]
#[pyo3(signature = (index, shards=1, threads=None, memory=None))]
pub fn compact(
    py: Python<'_>,
    index: PathBuf,
    shards: u32,
    threads: Option<usize>,
    memory: Option<u64>,
) -> PyResult<Py<PyAny>> {
    let ix = indexer(py, threads, memory, None, None)?;
    let summary = py
        .detach(|| ix.compact_shards(&index, shards, &NoProgress))
        .map_err(|e| errors::index(py, e))?;
    summary_dict(py, &summary)
}

/// The key counts a piece wrote (checked on open): every fingerprint key
/// of its segment with the number of its texts holding it.
#[pyclass(module = "leakprint", name = "KeyCounts", frozen)]
pub struct PyKeyCounts {
    inner: KeyCounts,
}

#[pymethods]
impl PyKeyCounts {
    /// Open and check the key-count file at `path`.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<PyKeyCounts> {
        let inner = py
            .detach(|| KeyCounts::open(&path))
            .map_err(|e| errors::index(py, e))?;
        Ok(PyKeyCounts { inner })
    }

    fn __len__(&self) -> usize {
        self.inner.len() as usize
    }

    /// Texts the piece's segment stores.
    #[getter]
    fn owners(&self) -> u64 {
        self.inner.owners()
    }

    /// Records `start` to `start + count` (clamped), in key order, as
    /// `(keys, docs)`: little-endian 64-bit keys and 32-bit counts
    /// (`numpy.frombuffer(keys, "<u8")`, `numpy.frombuffer(docs, "<u4")`).
    fn read<'py>(
        &self,
        py: Python<'py>,
        start: u64,
        count: u64,
    ) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
        let mut keys = Vec::new();
        let mut docs = Vec::new();
        for f in self.inner.records(start..start.saturating_add(count)) {
            keys.extend_from_slice(&f.key.to_le_bytes());
            docs.extend_from_slice(&f.docs.to_le_bytes());
        }
        (PyBytes::new(py, &keys), PyBytes::new(py, &docs))
    }
}
