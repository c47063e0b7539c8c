//! The persistent index: immutable segments plus a small manifest.
//!
//! An index on disk is a folder:
//!
//! ```text
//! x/manifest.json          format, parameters, the list of live segments
//! x/seg-000001.lps         a segment (see `format`)
//! x/seg-000002.lps         added by `index --append`
//! ```
//!
//! The manifest is the commit point: segments are written under temporary
//! names, fsynced and renamed, then a new manifest is written the same way.
//! A crash at any moment leaves either the old manifest (and the old
//! segments it names) or the new one. Files that no manifest names are
//! leftovers of an interrupted build and are removed by the next one.
//!
//! A single segment file is an index too: [`Index::open`] accepts a folder
//! or a `.lps` file, and [`Index::from_bytes`] takes the bytes of one
//! segment (zero-copy: a `Vec<u8>`, a mapping, a static slice).

pub mod builder;
pub mod format;
pub mod manifest;
pub mod segment;
pub mod walk;
pub mod writer;

use std::path::{Path, PathBuf};

pub use builder::{BuildSummary, IndexBuilder, Progress};
pub use segment::{FileInfo, FileStatus, PartInfo, Segment, TextWindow};

use crate::error::ConfigError;
use crate::extract::Format;
use thiserror::Error;

/// Errors reading, writing or building an index.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum IndexError {
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes end before a structure does.
    #[error("truncated {what}: needs {need} bytes, has {have}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        need: u64,
        /// Bytes present.
        have: u64,
    },
    /// Not a leakprint segment.
    #[error("not a leakprint index segment (bad magic)")]
    BadMagic,
    /// Written by another format version.
    #[error(
        "index format version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// A structure is inconsistent.
    #[error("corrupt index: {section}: {detail}")]
    Corrupt {
        /// The section.
        section: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A checksum does not match.
    #[error("corrupt index: checksum mismatch in section '{section}'")]
    Checksum {
        /// The section.
        section: &'static str,
    },
    /// Segments of one index disagree on their parameters.
    #[error("segment {path} was built with {what}, the index with {expected}")]
    ParamsMismatch {
        /// The segment.
        path: PathBuf,
        /// Its parameters.
        what: String,
        /// The index's.
        expected: String,
    },
    /// The manifest is unreadable.
    #[error("{path}: bad manifest: {detail}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// An error inside a named segment file.
    #[error("{path}: {source}")]
    InSegment {
        /// The segment file.
        path: PathBuf,
        /// The error.
        #[source]
        source: Box<IndexError>,
    },
    /// An input path given to the builder does not exist.
    #[error("{path}: no such file or folder")]
    MissingInput {
        /// The path.
        path: PathBuf,
    },
    /// The folder that should hold the output does not exist.
    #[error("{path}: the folder to write the index in does not exist")]
    MissingOutputDir {
        /// The folder.
        path: PathBuf,
    },
    /// The output exists and is not a leakprint index.
    #[error("{path}: exists and is not a leakprint index; refusing to overwrite it")]
    NotAnIndex {
        /// The path.
        path: PathBuf,
    },
    /// The build was interrupted (Ctrl-C); nothing was published.
    #[error("interrupted; the index was left as it was")]
    Interrupted,
    /// A bad builder setting.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl IndexError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> IndexError {
        IndexError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The parameters an index was built with; the matcher reads them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Params {
    /// k-gram length, in normalized bytes.
    pub k: u32,
    /// Winnowing window, in k-grams.
    pub w: u32,
    /// Rolling hash seed.
    pub seed: u64,
    /// Normalization version.
    pub norm_version: u32,
}

impl Params {
    /// The guarantee threshold t = w + k - 1: every shared run of at least t
    /// normalized bytes shares a fingerprint.
    pub fn guarantee(&self) -> u32 {
        self.w + self.k - 1
    }

    fn describe(&self) -> String {
        format!(
            "k={} w={} seed={:#x} normalization v{}",
            self.k, self.w, self.seed, self.norm_version
        )
    }
}

impl From<format::HeaderParams> for Params {
    fn from(h: format::HeaderParams) -> Params {
        Params {
            k: h.k,
            w: h.w,
            seed: h.seed,
            norm_version: h.norm_version,
        }
    }
}

/// An open index: one or more segments with the same parameters.
///
/// `Send + Sync`; share it between threads by reference or `Arc`.
#[derive(Debug)]
pub struct Index {
    params: Params,
    segments: Vec<Segment>,
    paths: Vec<PathBuf>,
}

impl Index {
    /// Open an index folder (through its manifest) or a single segment file.
    /// Segments are mapped; opening checks headers and section bounds only.
    ///
    /// # Errors
    /// A missing or unreadable path, a bad manifest, a corrupt segment or
    /// segments whose parameters disagree.
    pub fn open(path: impl AsRef<Path>) -> Result<Index, IndexError> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| IndexError::io(path, e))?;
        let seg_paths = if meta.is_dir() {
            let m = manifest::Manifest::read(path)?;
            m.segments.iter().map(|s| path.join(&s.file)).collect()
        } else {
            vec![path.to_path_buf()]
        };
        let mut segments = Vec::with_capacity(seg_paths.len());
        for p in &seg_paths {
            let bytes = crate::fileio::map_readonly(p).map_err(|e| IndexError::io(p, e))?;
            let seg =
                Segment::from_storage(Box::new(bytes)).map_err(|e| IndexError::InSegment {
                    path: p.clone(),
                    source: Box::new(e),
                })?;
            segments.push(seg);
        }
        Index::from_segments(segments, seg_paths)
    }

    /// An index over the bytes of one segment, without copying them.
    ///
    /// # Errors
    /// When the bytes are not a valid segment.
    pub fn from_bytes<B: AsRef<[u8]> + Send + Sync + 'static>(
        bytes: B,
    ) -> Result<Index, IndexError> {
        let seg = Segment::from_storage(Box::new(bytes))?;
        Index::from_segments(vec![seg], vec![PathBuf::from("<bytes>")])
    }

    fn from_segments(segments: Vec<Segment>, paths: Vec<PathBuf>) -> Result<Index, IndexError> {
        let first = segments.first().ok_or_else(|| IndexError::Manifest {
            path: paths.first().cloned().unwrap_or_default(),
            detail: "the index has no segments".into(),
        })?;
        let params = Params::from(first.params());
        for (s, p) in segments.iter().zip(&paths) {
            let sp = Params::from(s.params());
            if sp != params {
                return Err(IndexError::ParamsMismatch {
                    path: p.clone(),
                    what: sp.describe(),
                    expected: params.describe(),
                });
            }
        }
        if params.norm_version != crate::normalize::NORMALIZATION_VERSION {
            return Err(IndexError::Corrupt {
                section: "header",
                detail: format!(
                    "built with normalization v{}, this build has v{}: rebuild the index",
                    params.norm_version,
                    crate::normalize::NORMALIZATION_VERSION
                ),
            });
        }
        Ok(Index {
            params,
            segments,
            paths,
        })
    }

    /// The parameters the index was built with.
    pub fn params(&self) -> Params {
        self.params
    }

    /// The segments, oldest first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The file each segment was read from.
    pub fn segment_paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Check every checksum and structure of every segment.
    ///
    /// # Errors
    /// The first problem, naming the segment file and section.
    pub fn verify(&self) -> Result<(), IndexError> {
        for (s, p) in self.segments.iter().zip(&self.paths) {
            s.verify().map_err(|e| IndexError::InSegment {
                path: p.clone(),
                source: Box::new(e),
            })?;
        }
        Ok(())
    }

    /// Total counts over all segments.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for s in &self.segments {
            let m = s.meta();
            t.files += m.files as u64;
            t.parts += m.parts as u64;
            t.postings += m.postings;
            t.text_bytes += m.text_bytes;
            t.norm_bytes += m.norm_bytes;
            t.common += m.common as u64;
            t.chunks += m.chunks as u64;
            t.index_bytes += s.bytes().len() as u64;
        }
        t.segments = self.segments.len() as u64;
        t
    }
}

/// Counts summed over an index's segments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Segments.
    pub segments: u64,
    /// Input files recorded.
    pub files: u64,
    /// Text parts.
    pub parts: u64,
    /// Fingerprint postings.
    pub postings: u64,
    /// Common fingerprints.
    pub common: u64,
    /// Chunks.
    pub chunks: u64,
    /// Extracted text bytes.
    pub text_bytes: u64,
    /// Normalized bytes fingerprinted.
    pub norm_bytes: u64,
    /// Bytes of the segment files.
    pub index_bytes: u64,
}

/// The formats this version can write, in code order. A format's code in
/// the tables is its position here; new formats are only ever appended.
pub(crate) const FORMAT_NAMES: &[&str] = &[
    "text", "binary", "mail", "mbox", "html", "pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp",
    "xls", "zip", "tar", "gzip", "doc", "ppt", "msg", "pst",
];

/// The table code of a format.
pub(crate) fn format_code(f: Format) -> u8 {
    FORMAT_NAMES
        .iter()
        .position(|n| *n == f.name())
        .map_or(u8::MAX, |p| p as u8)
}

/// The format of a table code.
pub(crate) fn format_from_code(c: u8) -> Option<Format> {
    FORMAT_NAMES
        .get(c as usize)
        .and_then(|n| Format::from_name(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_a_table_code() {
        for f in Format::ALL {
            let c = format_code(f);
            assert_ne!(c, u8::MAX, "{} has no code", f.name());
            assert_eq!(format_from_code(c), Some(f));
        }
    }
}
