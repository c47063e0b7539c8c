//! The typed results: `Match`, `FileEvidence`, `FileResult`, `WordBox`.
//!
//! Each has `to_dict()` giving exactly the fields of `leakprint match`'s
//! JSON lines (the library's `query::record`), so a dict written with
//! `json.dumps` is a line the command line could have printed.

use leakprint::input::QueryId;
use leakprint::matcher::FileEvidence as RsEvidence;
use leakprint::query::record::{BoxRecord, FileRecord, Kind, TextRecord};
use leakprint::Match as RsMatch;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A JSON value as the Python object `json.loads` would give.
pub fn to_python(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u.into_pyobject(py)?.into_any().unbind(),
            (None, Some(i)) => i.into_pyobject(py)?.into_any().unbind(),
            _ => n
                .as_f64()
                .unwrap_or(f64::NAN)
                .into_pyobject(py)?
                .into_any()
                .unbind(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(to_python(py, x)?)?;
            }
            list.into_any().unbind()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, to_python(py, x)?)?;
            }
            d.into_any().unbind()
        }
    })
}

fn dict_of<T: serde::Serialize>(py: Python<'_>, record: &T) -> PyResult<Py<PyAny>> {
    let v = serde_json::to_value(record)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    to_python(py, &v)
}

/// One piece of indexed text found in a query.
///
/// Spans are byte offsets: `query_span` into the query text (UTF-8),
/// `source_span` into the source part's extracted text.
#[pyclass(module = "leakprint", name = "Match", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub struct PyMatch {
    pub inner: RsMatch,
    pub query: Option<QueryId>,
    pub part: Option<String>,
    pub boxes: Option<Vec<BoxRecord>>,
}

impl PyMatch {
    /// A match of a text query (no id, no part).
    pub fn of_text(m: RsMatch) -> PyMatch {
        PyMatch {
            inner: m,
            query: None,
            part: None,
            boxes: None,
        }
    }

    fn record(&self) -> TextRecord<'_> {
        let kind = if self.boxes.is_some() {
            Kind::Image
        } else {
            Kind::Text
        };
        let mut r = TextRecord::new(kind, self.query.as_ref(), &self.inner, None);
        r.boxes = self.boxes.clone();
        r
    }
}

#[pymethods]
impl PyMatch {
    /// `"text"`, or `"image"` for the OCR text of an image.
    #[getter]
    fn kind(&self) -> &'static str {
        if self.boxes.is_some() {
            "image"
        } else {
            "text"
        }
    }
    /// The source: `path` or `path#part`, as indexed.
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }
    /// Every other live path holding the same text (copies and
    /// duplicates of the source), sorted; the `also` field of the JSON
    /// line (absent there when empty).
    #[getter]
    fn also(&self) -> Vec<String> {
        self.inner.also.clone()
    }
    /// The source decoded for people when its file name is not UTF-8
    /// (`source` then has the exact bytes escaped as `\xNN`); `None` for
    /// UTF-8 names.
    #[getter]
    fn source_decoded(&self) -> Option<&str> {
        self.inner.source_decoded.as_deref()
    }
    /// For a file query: the part of the queried file the match is in
    /// (`""` for its own text); `None` for a text query.
    #[getter]
    fn part(&self) -> Option<&str> {
        self.part.as_deref()
    }
    /// For a file query: `name` or `name#part`; `None` for a text query.
    #[getter]
    fn query(&self) -> Option<String> {
        self.query.as_ref().map(|q| q.to_string())
    }
    /// `(start, end)` byte offsets of the match in the query text.
    #[getter]
    fn query_span(&self) -> (usize, usize) {
        (self.inner.query_span.start, self.inner.query_span.end)
    }
    /// `(start, end)` byte offsets in the source part's extracted text.
    #[getter]
    fn source_span(&self) -> (usize, usize) {
        (self.inner.source_span.start, self.inner.source_span.end)
    }
    /// Share of the query's normalized text the match covers (0 to 1).
    #[getter]
    fn score(&self) -> f64 {
        self.inner.score
    }
    /// Share of aligned columns that are identical (0 to 1).
    #[getter]
    fn similarity(&self) -> f64 {
        self.inner.similarity
    }
    /// Length of the alignment, in normalized bytes.
    #[getter]
    fn aligned_len(&self) -> usize {
        self.inner.aligned_len
    }
    /// The matched source text, whitespace collapsed, cut if long.
    #[getter]
    fn snippet(&self) -> &str {
        &self.inner.snippet
    }
    /// OCR word boxes of the matched region (image queries), else `None`.
    #[getter]
    fn boxes(&self) -> Option<Vec<WordBox>> {
        self.boxes
            .as_ref()
            .map(|b| b.iter().map(|&inner| WordBox { inner }).collect())
    }
    /// The fields of `leakprint match`'s JSON line for this match (ratios
    /// rounded to four decimals).
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        dict_of(py, &self.record())
    }
    fn __repr__(&self) -> String {
        format!(
            "Match(source={:?}, query_span={:?}, source_span={:?}, similarity={:.4})",
            self.inner.source,
            self.query_span(),
            self.source_span(),
            self.inner.similarity
        )
    }
}

/// One OCR word box, in the image's pixels.
#[pyclass(module = "leakprint", name = "WordBox", frozen)]
#[derive(Debug, Clone)]
pub struct WordBox {
    inner: BoxRecord,
}

#[pymethods]
impl WordBox {
    /// Left edge.
    #[getter]
    fn left(&self) -> u32 {
        self.inner.left
    }
    /// Top edge.
    #[getter]
    fn top(&self) -> u32 {
        self.inner.top
    }
    /// Width.
    #[getter]
    fn width(&self) -> u32 {
        self.inner.width
    }
    /// Height.
    #[getter]
    fn height(&self) -> u32 {
        self.inner.height
    }
    /// Recognition confidence, 0 to 100 (-1 when unknown).
    #[getter]
    fn conf(&self) -> f32 {
        self.inner.conf
    }
    /// 1-based page.
    #[getter]
    fn page(&self) -> u32 {
        self.inner.page
    }
    /// 0-based line.
    #[getter]
    fn line(&self) -> u32 {
        self.inner.line
    }
    /// The box as a dict.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        dict_of(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        let b = &self.inner;
        format!(
            "WordBox(left={}, top={}, width={}, height={})",
            b.left, b.top, b.width, b.height
        )
    }
}

/// Whole-file evidence: an indexed file identical to the query file, or
/// sharing content-defined chunks with it.
#[pyclass(module = "leakprint", name = "FileEvidence", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub struct PyEvidence {
    pub query: String,
    pub inner: RsEvidence,
}

#[pymethods]
impl PyEvidence {
    /// The indexed file.
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }
    /// Byte-identical (same blake3).
    #[getter]
    fn identical(&self) -> bool {
        self.inner.identical
    }
    /// Chunks of the query file found in the indexed file.
    #[getter]
    fn shared_chunks(&self) -> usize {
        self.inner.shared_chunks
    }
    /// Chunks of the query file.
    #[getter]
    fn query_chunks(&self) -> usize {
        self.inner.query_chunks
    }
    /// Bytes of the query file in shared chunks.
    #[getter]
    fn shared_bytes(&self) -> u64 {
        self.inner.shared_bytes
    }
    /// The fields of `leakprint match`'s `"kind": "file"` JSON line.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        dict_of(py, &FileRecord::new(&self.query, &self.inner))
    }
    fn __repr__(&self) -> String {
        format!(
            "FileEvidence(source={:?}, identical={}, shared_chunks={}/{})",
            self.inner.source,
            if self.inner.identical {
                "True"
            } else {
                "False"
            },
            self.inner.shared_chunks,
            self.inner.query_chunks
        )
    }
}

/// What a file used as a query found: whole-file `evidence`, the text
/// `matches` of its parts (each with `part` set), and `notes` about parts
/// that were cut or could not be read.
#[pyclass(module = "leakprint", name = "FileResult", frozen, get_all)]
#[derive(Debug)]
pub struct FileResult {
    /// The name the file was queried under.
    pub name: String,
    /// Indexed files identical to it or sharing chunks with it.
    pub evidence: Vec<PyEvidence>,
    /// Text matches in its parts.
    pub matches: Vec<PyMatch>,
    /// Parts skipped, read in part or cut, with reasons.
    pub notes: Vec<String>,
}

#[pymethods]
impl FileResult {
    /// `{"name", "matches": [JSON lines, file evidence first], "notes"}`.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut lines = Vec::new();
        for e in &self.evidence {
            lines.push(
                serde_json::to_value(FileRecord::new(&e.query, &e.inner))
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?,
            );
        }
        for m in &self.matches {
            lines.push(
                serde_json::to_value(m.record())
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?,
            );
        }
        let v = serde_json::json!({"name": self.name, "matches": lines, "notes": self.notes});
        to_python(py, &v)
    }
    fn __bool__(&self) -> bool {
        !self.evidence.is_empty() || !self.matches.is_empty()
    }
    fn __repr__(&self) -> String {
        format!(
            "FileResult(name={:?}, evidence={}, matches={}, notes={})",
            self.name,
            self.evidence.len(),
            self.matches.len(),
            self.notes.len()
        )
    }
}
