//! Quality evaluation: recall, false matches and span accuracy against
//! queries with ground truth.
//!
//! Truth files are JSONL, one query a line (the format of
//! `corpus/queries/*.jsonl`, described in `corpus/README.md`):
//!
//! ```json
//! {"id": "exact-0001", "text": "...", "case": "exact",
//!  "expect": [{"source": "docs/1863-Lincoln-1.txt", "span": [24503, 24771]}]}
//! ```
//!
//! `source` is relative to the indexed folder; `span` is a byte range of the
//! source part's extracted text. Negatives have an empty `expect`.
//!
//! Per case the report gives:
//! - **recall**: share of positive queries for which every expected source
//!   is matched;
//! - **false matches**: on negatives, every match, also per 10,000 queries;
//! - **other sources**: on positives, matches on sources the truth does not
//!   name. They are reported, not counted as false: the dump repeats text
//!   (a synthetic mail quoting a speech, two messages of one president
//!   sharing a paragraph), and every match has passed alignment;
//! - **span accuracy**, character level as in the PAN text-alignment
//!   measure (Potthast et al. 2010): precision (share of reported source
//!   bytes inside the true span), recall (share of the true span reported),
//!   granularity (reported spans per detected true span) and their overlap
//!   (|reported ∩ true| / |reported ∪ true|), averaged over detected spans.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::index::{Index, IndexError};
use crate::matcher::{Match, MatchConfig, Matcher};

/// One query with its ground truth.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TruthQuery {
    /// Query id.
    pub id: String,
    /// The query text.
    pub text: String,
    /// Case name, e.g. `exact`, `edited:word_dropped`, `ocr:cer<5`, `negative:same_domain`.
    pub case: String,
    /// Expected sources; empty for negatives.
    #[serde(default)]
    pub expect: Vec<Expected>,
    /// Character error rate, for OCR queries.
    #[serde(default)]
    pub cer: Option<f64>,
    /// Normalized length of the quoted passage (exact quotes).
    #[serde(default)]
    pub norm_len: Option<usize>,
}

/// The derived case of exact quotes of at least 50 normalized characters,
/// which must all be found.
pub const STRICT_EXACT: &str = "exact (>=50 normalized)";

/// The derived case of edited quotes of at least 50 normalized characters.
pub const STRICT_EDITED: &str = "edited (>=50 normalized)";

/// The derived rows a query also counts in, besides its own case: the
/// quotes of at least 50 normalized characters (exact and edited), and the
/// OCR outputs above 15% character error split by their measured rate.
pub fn derived_cases(q: &TruthQuery) -> Vec<String> {
    let mut out = Vec::new();
    let long = q.norm_len.is_some_and(|n| n >= 50);
    if q.case == "exact" && long {
        out.push(STRICT_EXACT.to_string());
    }
    if q.case.starts_with("edited:") && long {
        out.push(STRICT_EDITED.to_string());
    }
    if q.case == "ocr:cer>15" {
        if let Some(c) = q.cer {
            out.push(
                if c < 0.25 {
                    "ocr:cer>15, 15-25%"
                } else if c < 0.40 {
                    "ocr:cer>15, 25-40%"
                } else {
                    "ocr:cer>15, 40%+"
                }
                .to_string(),
            );
        }
    }
    out
}

/// One expected source of a query.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Expected {
    /// Source path relative to the indexed folder.
    pub source: String,
    /// Byte range in the source's extracted text.
    pub span: [usize; 2],
}

/// Errors loading truth files.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// I/O on a truth file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A line that is not a truth query.
    #[error("{path}:{line}: {detail}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// The index failed while matching.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Read a truth file.
///
/// # Errors
/// I/O errors and malformed lines (with their line number).
pub fn load(path: &Path) -> Result<Vec<TruthQuery>, EvalError> {
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| EvalError::Io {
        path: name.clone(),
        source: e,
    })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| EvalError::Io {
            path: name.clone(),
            source: e,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let q: TruthQuery = serde_json::from_str(&line).map_err(|e| EvalError::Parse {
            path: name.clone(),
            line: i + 1,
            detail: e.to_string(),
        })?;
        out.push(q);
    }
    Ok(out)
}

/// Results for one case.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseReport {
    /// Case name.
    pub case: String,
    /// Queries in the case.
    pub queries: usize,
    /// Positive queries whose every expected source was matched.
    pub found: usize,
    /// `found / queries` for positive cases (absent for negatives).
    pub recall: Option<f64>,
    /// Matches on negatives.
    pub false_matches: usize,
    /// Matches of positive queries on sources the truth does not name.
    pub other_sources: usize,
    /// Queries with at least one false match.
    pub queries_with_false_match: usize,
    /// False matches per 10,000 queries.
    pub false_per_10k: f64,
    /// Mean character precision of the reported source spans.
    pub span_precision: Option<f64>,
    /// Mean character recall of the true spans.
    pub span_recall: Option<f64>,
    /// Mean overlap |reported ∩ true| / |reported ∪ true|.
    pub span_overlap: Option<f64>,
    /// Mean reported spans per detected true span.
    pub granularity: Option<f64>,
    /// Mean character error rate of the case's queries (OCR cases).
    pub mean_cer: Option<f64>,
    /// Ids of the positive queries that were missed (at most 20).
    pub missed: Vec<String>,
    /// Ids of queries with false matches (at most 20).
    pub false_ids: Vec<String>,
}

#[derive(Default)]
struct Acc {
    r: CaseReport,
    prec: Vec<f64>,
    rec: Vec<f64>,
    ovl: Vec<f64>,
    gran: Vec<f64>,
    cer: Vec<f64>,
}

/// Run every query through a matcher over `index` and score the results.
/// `prefix` is prepended to the truth's source paths (`"corpus/dump/"` when
/// the index was built from `corpus/dump`).
///
/// # Errors
/// When the index is corrupt.
pub fn evaluate(
    index: &Index,
    cfg: &MatchConfig,
    prefix: &str,
    queries: &[TruthQuery],
) -> Result<Vec<CaseReport>, EvalError> {
    let matcher = Matcher::new(index, cfg.clone());
    let results: Vec<Result<Vec<Match>, IndexError>> = queries
        .par_iter()
        .map(|q| matcher.try_find(&q.text))
        .collect();
    let mut by_case: BTreeMap<String, Acc> = BTreeMap::new();
    let mut truth = TruthMap::default();
    for (q, res) in queries.iter().zip(results) {
        let matches = res?;
        let mut cases = vec![q.case.clone()];
        cases.extend(derived_cases(q));
        for case in cases {
            let acc = by_case.entry(case.clone()).or_default();
            acc.r.case = case;
            acc.r.queries += 1;
            if let Some(c) = q.cer {
                acc.cer.push(c);
            }
            let mapped: Vec<(String, Range<usize>)> =
                q.expect.iter().map(|e| truth.map(prefix, e)).collect();
            let expected: Vec<String> = mapped.iter().map(|(s, _)| s.clone()).collect();
            let other = matches
                .iter()
                .filter(|m| !expected.contains(&m.source))
                .count();
            let false_here = if q.expect.is_empty() { other } else { 0 };
            acc.r.other_sources += other - false_here;
            acc.r.false_matches += false_here;
            if false_here > 0 {
                acc.r.queries_with_false_match += 1;
                if acc.r.false_ids.len() < 20 {
                    acc.r.false_ids.push(q.id.clone());
                }
            }
            if q.expect.is_empty() {
                continue;
            }
            let mut all = true;
            for (src, truth_span) in &mapped {
                let spans: Vec<Range<usize>> = matches
                    .iter()
                    .filter(|m| &m.source == src)
                    .map(|m| m.source_span.clone())
                    .collect();
                if spans.is_empty() {
                    all = false;
                    continue;
                }
                let (p, r, o, g) = span_scores(truth_span, &spans);
                acc.prec.push(p);
                acc.rec.push(r);
                acc.ovl.push(o);
                acc.gran.push(g);
            }
            if all {
                acc.r.found += 1;
            } else if acc.r.missed.len() < 20 {
                acc.r.missed.push(q.id.clone());
            }
        }
    }
    let mean = |v: &Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    Ok(by_case
        .into_values()
        .map(|mut a| {
            let positive = !a.r.case.starts_with("negative");
            a.r.recall = positive.then(|| a.r.found as f64 / a.r.queries.max(1) as f64);
            a.r.false_per_10k = a.r.false_matches as f64 * 10_000.0 / a.r.queries.max(1) as f64;
            a.r.span_precision = mean(&a.prec);
            a.r.span_recall = mean(&a.rec);
            a.r.span_overlap = mean(&a.ovl);
            a.r.granularity = mean(&a.gran);
            a.r.mean_cer = mean(&a.cer);
            a.r
        })
        .collect())
}

/// Maps truth spans, given in the bytes of the source *file*, to the part
/// and extracted-text offsets the index reports. Identity for plain text;
/// for a file read as mail (a synthetic `.txt` mail has a header block, so
/// detection by content reads it as mail) the passage is found again in
/// the extracted parts.
#[derive(Default)]
struct TruthMap {
    parts: std::collections::HashMap<String, Vec<(String, String)>>,
}

impl TruthMap {
    fn map(&mut self, prefix: &str, e: &Expected) -> (String, Range<usize>) {
        let path = format!("{prefix}{}", e.source);
        let span = e.span[0]..e.span[1];
        let parts = self.parts.entry(path.clone()).or_insert_with(|| {
            std::fs::read(&path)
                .map(|b| {
                    let ex = crate::extract::extract(
                        &b,
                        &path,
                        &crate::extract::ExtractLimits::default(),
                    );
                    let raw = String::from_utf8_lossy(&b).into_owned();
                    let mut v = vec![(String::from("\0file"), raw)];
                    v.extend(ex.parts.into_iter().map(|p| (p.name, p.text)));
                    v
                })
                .unwrap_or_default()
        });
        let Some(passage) = parts.first().and_then(|(_, raw)| raw.get(span.clone())) else {
            return (path, span);
        };
        for (name, text) in parts.iter().skip(1) {
            if text.get(span.clone()) == Some(passage) {
                return (join(&path, name), span);
            }
            if let Some(at) = text.find(passage) {
                return (join(&path, name), at..at + passage.len());
            }
        }
        (path, span)
    }
}

fn join(path: &str, part: &str) -> String {
    if part.is_empty() {
        path.to_string()
    } else {
        format!("{path}#{part}")
    }
}

/// Character-level precision, recall, overlap and granularity of reported
/// spans against one true span. Spans of other passages of the same source
/// (a quote joined with "...") count against precision only where they fall
/// outside every true span of the query; here, one true span at a time, the
/// spans that do not touch it are ignored.
pub fn span_scores(truth: &Range<usize>, reported: &[Range<usize>]) -> (f64, f64, f64, f64) {
    let touching: Vec<Range<usize>> = reported
        .iter()
        .filter(|r| r.start < truth.end && truth.start < r.end)
        .cloned()
        .collect();
    if touching.is_empty() || truth.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let union = merge(&touching);
    let rep_len: usize = union.iter().map(|r| r.len()).sum();
    let inter: usize = union
        .iter()
        .map(|r| {
            r.end
                .min(truth.end)
                .saturating_sub(r.start.max(truth.start))
        })
        .sum();
    let uni = rep_len + truth.len() - inter;
    (
        inter as f64 / rep_len as f64,
        inter as f64 / truth.len() as f64,
        inter as f64 / uni as f64,
        touching.len() as f64,
    )
}

fn merge(spans: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut v = spans.to_vec();
    v.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in v {
        match out.last_mut() {
            Some(l) if r.start <= l.end => l.end = l.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// A plain-text table of the reports.
pub fn table(reports: &[CaseReport]) -> String {
    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3}"));
    let mut s = format!(
        "{:<28} {:>7} {:>8} {:>6} {:>9} {:>6} {:>8} {:>8} {:>8} {:>6} {:>6}\n",
        "case",
        "queries",
        "recall",
        "false",
        "false/10k",
        "other",
        "span P",
        "span R",
        "overlap",
        "gran",
        "CER"
    );
    for r in reports {
        s.push_str(&format!(
            "{:<28} {:>7} {:>8} {:>6} {:>9.1} {:>6} {:>8} {:>8} {:>8} {:>6} {:>6}\n",
            r.case,
            r.queries,
            r.recall
                .map_or("-".into(), |x| format!("{:.2}%", x * 100.0)),
            r.false_matches,
            r.false_per_10k,
            r.other_sources,
            f(r.span_precision),
            f(r.span_recall),
            f(r.span_overlap),
            r.granularity.map_or("-".into(), |x| format!("{x:.2}")),
            r.mean_cer
                .map_or("-".into(), |x| format!("{:.1}%", x * 100.0)),
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // one reported span is the common case
    fn span_scores_table() {
        assert_eq!(span_scores(&(10..20), &[10..20]), (1.0, 1.0, 1.0, 1.0));
        assert_eq!(span_scores(&(10..20), &[30..40]), (0.0, 0.0, 0.0, 0.0));
        let (p, r, o, g) = span_scores(&(10..20), &[15..25]);
        assert_eq!((p, r, g), (0.5, 0.5, 1.0));
        assert!((o - 5.0 / 15.0).abs() < 1e-12);
        let (p, r, _, g) = span_scores(&(0..100), &[0..40, 60..100]);
        assert_eq!((p, r, g), (1.0, 0.8, 2.0));
    }
}
