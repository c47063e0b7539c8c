//! The persistent index: immutable segments, an index-level state and a
//! small manifest.
//!
//! An index on disk is a folder:
//!
//! ```text
//! x/manifest.json          parameters, generation, live segments, the state file
//! x/seg-000001-001.lps     a segment (format: `wire`)
//! x/seg-000002-001.lps     added by `index --append`
//! x/state-000002.lpst      frequent keys and dead files of the whole index (`state`)
//! ```
//!
//! The manifest is the commit point: segments and the state are written
//! under temporary names, fsynced and renamed, then a new manifest is
//! written the same way. A crash at any moment leaves either the old
//! manifest (and the files it names) or the new one. Files that no
//! manifest names are leftovers of an interrupted build and are removed by
//! the next one.
//!
//! A single segment file is an index too: [`Index::open`] accepts a folder
//! or a `.lps` file, and [`Index::from_bytes`] takes the bytes of one
//! segment (zero-copy: a `Vec<u8>`, a mapping, a static slice); such an
//! index takes its common keys from the segment's own frequent keys.
//!
//! Modules: `wire` owns the segment bytes, `segment` reads them, `verify`
//! checks them, `text` stores text blocks, `builder` writes segments,
//! `state` and `live` hold what spans segments, `compact` feeds a rebuild,
//! `keycount` carries a segment's key counts between the pieces of a
//! distributed build and its commit (`builder::Indexer::build_piece`),
//! `shards` opens an index cut into shards by key (`compact --shards N`).

pub mod builder;
mod compact;
pub mod keycount;
pub mod keyset;
pub mod live;
pub mod lz4;
pub mod manifest;
pub mod segment;
pub mod shards;
pub mod state;
pub mod text;
mod verify;
pub mod wire;

use std::path::{Path, PathBuf};

pub use builder::{BuildSummary, IndexBuilder, Progress};
pub use segment::{FileInfo, PartInfo, Segment, TextWindow};
pub use wire::FileStatus;

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
        "index format version {found} is not supported (this build reads versions 2 to {supported}): rebuild the index (leakprint index ...)"
    )]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// Built with a normalization this build does not apply: not corrupt,
    /// but its fingerprints would not match this build's queries.
    #[error(
        "index built with text normalization v{found}; this build normalizes with v{supported}: rebuild the index (leakprint index ...)"
    )]
    OldNormalization {
        /// Version in the index.
        found: u32,
        /// Version of this build.
        supported: u32,
    },
    /// A text block could not be compressed.
    #[error("cannot compress a text block with {codec}: {source}")]
    Compress {
        /// The codec.
        codec: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// `remove` was given a path that names no live file of the index.
    #[error("{path}: no live file of the index has this path (see leakprint info --files)")]
    NoSuchFile {
        /// The path given.
        path: String,
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
    /// A piece of a build in pieces holds more text than one segment can.
    #[error("piece {piece} holds more than {limit} normalized bytes, the most one segment holds: cut the input into more pieces")]
    PieceTooLarge {
        /// The piece number.
        piece: u32,
        /// The limit, in normalized bytes.
        limit: u64,
    },
    /// An index asked to be cut into more shards than its segments have
    /// postings for.
    #[error("cannot cut a segment of {postings} postings into {shards} shards (at most {most}): use fewer shards")]
    TooManyShards {
        /// Shards asked for.
        shards: u64,
        /// Postings of the segment.
        postings: u64,
        /// The most shards it can be cut into.
        most: u64,
    },
    /// A shard's folder opened on its own: it holds only some keys'
    /// postings, so matching it alone would miss matches.
    #[error("{path} is shard {index} of {count} of an index: open the index folder that lists its shards (the folder above it)")]
    LoneShard {
        /// The shard's folder.
        path: PathBuf,
        /// Its number.
        index: u32,
        /// Shards in its set.
        count: u32,
    },
    /// An operation that rewrites part of an index was given a sharded one.
    #[error("{path} is cut into {count} shards: {what} needs one index; run leakprint compact on it first (without --shards)")]
    Sharded {
        /// The index folder.
        path: PathBuf,
        /// Its shards.
        count: usize,
        /// What was refused.
        what: &'static str,
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

impl From<wire::Header> for Params {
    fn from(h: wire::Header) -> Params {
        Params {
            k: h.k,
            w: h.w,
            seed: h.seed,
            norm_version: h.norm_version,
        }
    }
}

/// Owner part (segment, part) -> the parts duplicating its text.
type DupMap = std::collections::HashMap<(usize, u32), Vec<(usize, u32)>>;

/// An open index: one or more segments with the same parameters, and what
/// spans them (the common keys, the dead files).
///
/// `Send + Sync`; share it between threads by reference or `Arc`.
#[derive(Debug)]
pub struct Index {
    params: Params,
    segments: Vec<Segment>,
    paths: Vec<PathBuf>,
    state: Option<state::State>,
    live: live::Liveness,
    /// Keys that never make a match on their own.
    common: keyset::KeySet,
    /// Owner part -> the parts duplicating its text, built on first use.
    dups: std::sync::OnceLock<DupMap>,
    /// The blake3 of every file recorded as a copy of another, built on
    /// first use (see `live_paths_of`).
    copied: std::sync::OnceLock<std::collections::HashSet<[u8; 32]>>,
    /// The other shards' postings, for an index cut into shards.
    shards: Option<shards::Shards>,
}

/// How an opened index holds its segments ([`Index::open_with`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Residence {
    /// Mapped from their files (the default): opening costs nothing, and
    /// the pages come and go with the page cache.
    #[default]
    Mapped,
    /// Read into anonymous memory backed by huge pages where the kernel
    /// allows ([`crate::fileio::load_resident`]): opening reads every
    /// segment (0.4-2.5 s for 1.2 GB on the 2-core VM of BENCHMARKS.md, most of
    /// it the kernel handing over fresh memory) and holds memory the size
    /// of the index, and then a post's random reads miss the TLB far less:
    /// 6-14% more unrelated posts a second and 3-9% more mixed ones against
    /// a 1.2 GB index (BENCHMARKS.md "ASCII normalization 64 bytes a step;
    /// an index held in huge pages"). Nor can a segment file cut under the
    /// process fault it (`SIGBUS`). For a long-running matcher with the
    /// memory.
    Loaded,
}

impl Residence {
    /// The bytes of segment file `p`, held as `self` says.
    pub(crate) fn bytes_of(self, p: &Path) -> Result<crate::fileio::FileBytes, IndexError> {
        match self {
            Residence::Mapped => crate::fileio::map_readonly(p),
            Residence::Loaded => crate::fileio::load_resident(p),
        }
        .map_err(|e| IndexError::io(p, e))
    }
}

impl Index {
    /// Open an index folder (through its manifest) or a single segment file.
    /// Segments are mapped; opening checks headers and section bounds only.
    ///
    /// # Errors
    /// A missing or unreadable path, a bad manifest or state, a corrupt
    /// segment, segments whose parameters disagree, or an index built with
    /// an older normalization.
    pub fn open(path: impl AsRef<Path>) -> Result<Index, IndexError> {
        Index::open_with(path, Residence::Mapped)
    }

    /// [`Index::open`], its segments held as `residence` says.
    ///
    /// # Errors
    /// As [`Index::open`]; with [`Residence::Loaded`] also a failure to
    /// allocate memory the size of a segment, or a segment file that
    /// shrinks while read.
    pub fn open_with(path: impl AsRef<Path>, residence: Residence) -> Result<Index, IndexError> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| IndexError::io(path, e))?;
        if meta.is_dir() {
            Index::open_manifest(path, manifest::Manifest::read(path)?, residence)
        } else {
            Index::open_segments(vec![path.to_path_buf()], None, residence)
        }
    }

    /// The index folder `path` as the manifest `m` (read from it) names
    /// it: for a caller that has read the manifest's bytes itself (the
    /// server, which must open the very manifest it hashed).
    ///
    /// # Errors
    /// As [`Index::open_with`].
    pub(crate) fn open_manifest(
        path: &Path,
        m: manifest::Manifest,
        residence: Residence,
    ) -> Result<Index, IndexError> {
        if let Some(sh) = m.shard {
            return Err(IndexError::LoneShard {
                path: path.to_path_buf(),
                index: sh.index,
                count: sh.count,
            });
        }
        if !m.shards.is_empty() {
            return shards::open_sharded(path, &m, residence);
        }
        let seg_paths = m.segments.iter().map(|s| path.join(&s.file)).collect();
        let state_path = m.state.as_ref().map(|s| path.join(s));
        Index::open_segments(seg_paths, state_path, residence)
    }

    /// The segments at `seg_paths` with the state file at `state_path`.
    fn open_segments(
        seg_paths: Vec<PathBuf>,
        state_path: Option<PathBuf>,
        residence: Residence,
    ) -> Result<Index, IndexError> {
        let mut segments = Vec::with_capacity(seg_paths.len());
        for p in &seg_paths {
            let bytes = residence.bytes_of(p)?;
            let seg = Segment::from_file(bytes).map_err(|e| IndexError::InSegment {
                path: p.clone(),
                source: Box::new(e),
            })?;
            segments.push(seg);
        }
        let state = match state_path {
            Some(p) => Some(state::State::read(&p)?),
            None => None,
        };
        Index::from_segments(segments, seg_paths, state)
    }

    /// An index over the bytes of one segment, without copying them.
    ///
    /// # Errors
    /// When the bytes are not a valid segment.
    pub fn from_bytes<B: AsRef<[u8]> + Send + Sync + 'static>(
        bytes: B,
    ) -> Result<Index, IndexError> {
        let seg = Segment::from_storage(Box::new(bytes))?;
        Index::from_segments(vec![seg], vec![PathBuf::from("<bytes>")], None)
    }

    fn from_segments(
        segments: Vec<Segment>,
        paths: Vec<PathBuf>,
        state: Option<state::State>,
    ) -> Result<Index, IndexError> {
        let first = segments.first().ok_or_else(|| IndexError::Manifest {
            path: paths.first().cloned().unwrap_or_default(),
            detail: "the index has no segments".into(),
        })?;
        let params = Params::from(first.header());
        for (s, p) in segments.iter().zip(&paths) {
            let sp = Params::from(s.header());
            if sp != params {
                return Err(IndexError::ParamsMismatch {
                    path: p.clone(),
                    what: sp.describe(),
                    expected: params.describe(),
                });
            }
        }
        if params.norm_version != crate::normalize::NORMALIZATION_VERSION {
            return Err(IndexError::OldNormalization {
                found: params.norm_version,
                supported: crate::normalize::NORMALIZATION_VERSION,
            });
        }
        Index::from_segments_unchecked(segments, paths, state)
    }

    /// An index over segments already checked to agree.
    pub(crate) fn from_segments_unchecked(
        segments: Vec<Segment>,
        paths: Vec<PathBuf>,
        state: Option<state::State>,
    ) -> Result<Index, IndexError> {
        let params = segments
            .first()
            .map(|s| Params::from(s.header()))
            .ok_or_else(|| IndexError::Manifest {
                path: PathBuf::new(),
                detail: "the index has no segments".into(),
            })?;
        let names = file_names(&paths);
        let (live, common) = match &state {
            Some(st) => (
                live::Liveness::compute(&segments, &names, &st.dead)?,
                st.common_keys(),
            ),
            None => {
                // Segments on their own: each one's common keys.
                let mut keys: Vec<u64> = segments
                    .iter()
                    .flat_map(|s| {
                        let t = s.meta().common_docs;
                        s.frequent().filter(move |f| f.docs >= t).map(|f| f.key)
                    })
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                (live::Liveness::all_live(segments.len()), keys)
            }
        };
        let common = keyset::KeySet::new(common);
        Ok(Index {
            params,
            segments,
            paths,
            state,
            live,
            common,
            dups: std::sync::OnceLock::new(),
            copied: std::sync::OnceLock::new(),
            shards: None,
        })
    }

    /// Take the index apart (for a build that appends to it).
    pub(crate) fn into_parts(self) -> (Vec<Segment>, Vec<PathBuf>, Option<state::State>) {
        (self.segments, self.paths, self.state)
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

    /// The file name of each segment (how the manifest and the state file
    /// name it).
    pub(crate) fn segment_names(&self) -> Vec<String> {
        file_names(&self.paths)
    }

    /// The index-level state (an index folder has one; a lone segment not).
    pub fn state(&self) -> Option<&state::State> {
        self.state.as_ref()
    }

    /// Which files and texts still count.
    pub fn liveness(&self) -> &live::Liveness {
        &self.live
    }

    /// Whether `key` (a remixed fingerprint) is common: found in so many
    /// texts that it never makes a match on its own.
    pub fn is_common(&self, key: u64) -> bool {
        self.common.contains(key)
    }

    /// The number of common keys.
    pub fn common_count(&self) -> usize {
        self.common.len()
    }

    /// Where the text owned by part `part` of segment `seg` is reported
    /// from: the path of a live part referencing it (its own, the first live
    /// copy of its file, or a live duplicate), and every other live path
    /// with the same content (copies and duplicates), sorted.
    ///
    /// # Errors
    /// When records needed are corrupt.
    pub fn source_of(&self, seg: usize, part: u32) -> Result<(String, Vec<String>), IndexError> {
        self.source_of_decoded(seg, part)
            .map(|(p, _, also)| (p, also))
    }

    /// [`Index::source_of`] with the reported path decoded for people when
    /// its file name is not UTF-8 (the legacy encoding `chardetng` guesses,
    /// see [`crate::names::decoded_guess`]); `None` for UTF-8 names.
    pub fn source_of_decoded(
        &self,
        seg: usize,
        part: u32,
    ) -> Result<(String, Option<String>, Vec<String>), IndexError> {
        let mut paths = self.live_paths_of(seg, part)?;
        // The reported path: the owner's own when live, else the moved
        // reference's, else the first. (The reference is the part itself
        // unless its text moved: then its paths are those just read.)
        let (rs, rp) = self.live.reference(seg, part);
        let preferred = if (rs, rp) == (seg, part) {
            paths.first().cloned()
        } else {
            self.live_paths_of(rs, rp)?.into_iter().next()
        };
        let dups = self.dups.get_or_init(|| self.duplicate_map());
        for &(sj, q) in dups.get(&(seg, part)).map_or(&[][..], |v| v) {
            paths.extend(self.live_paths_of(sj, q)?);
        }
        let (first, decoded) = preferred
            .or_else(|| paths.first().cloned())
            .unwrap_or_default();
        let mut also: Vec<String> = paths
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| *p != first)
            .collect();
        also.sort();
        also.dedup();
        Ok((first, decoded, also))
    }

    /// The live paths of part `part` of segment `seg`: its file's path when
    /// live, then its live copies' (same bytes), each with the part name and
    /// its decoded form when the file name is not UTF-8.
    fn live_paths_of(
        &self,
        seg: usize,
        part: u32,
    ) -> Result<Vec<(String, Option<String>)>, IndexError> {
        let s = &self.segments[seg];
        let p = s.part(part)?;
        let f = s.file(p.file)?;
        let named = |info: &segment::FileInfo<'_>| {
            (
                crate::names::join_part(&info.path(), p.name),
                crate::names::decoded_guess(info.path_bytes)
                    .map(|d| crate::names::join_part(&d, p.name)),
            )
        };
        let mut out = Vec::new();
        if self.live.file_live(seg, p.file) {
            out.push(named(&f));
        }
        // Most files have no copy: a set of the copies' hashes spares each
        // match a search of every segment's file hashes (a binary search
        // through the file records, a cache miss a step).
        let copied = self.copied.get_or_init(|| {
            self.segments
                .iter()
                .flat_map(Segment::copy_hashes)
                .collect()
        });
        if !copied.contains(&f.blake3) {
            return Ok(out);
        }
        for (sj, other) in self.segments.iter().enumerate() {
            for g in other.find_file(&f.blake3) {
                if (sj, g) == (seg, p.file) || !self.live.file_live(sj, g) {
                    continue;
                }
                let gi = other.file(g)?;
                if gi.status == FileStatus::Copy {
                    out.push(named(&gi));
                }
            }
        }
        Ok(out)
    }

    fn duplicate_map(&self) -> DupMap {
        let mut map = DupMap::new();
        for (si, s) in self.segments.iter().enumerate() {
            for p in 0..s.part_count() {
                let Ok(info) = s.part(p) else { continue };
                let owner = match info.duplicate {
                    wire::Duplicate::None => continue,
                    wire::Duplicate::Local(o) => Some((si, o)),
                    wire::Duplicate::External => self.segments[..si]
                        .iter()
                        .enumerate()
                        .find_map(|(sj, t)| t.find_part_text(&info.text_hash).map(|o| (sj, o))),
                };
                if let Some(o) = owner {
                    map.entry(o).or_default().push((si, p));
                }
            }
        }
        map
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
        if let Some(sh) = &self.shards {
            for (s, p) in sh.rest_segments() {
                s.verify().map_err(|e| IndexError::InSegment {
                    path: p.clone(),
                    source: Box::new(e),
                })?;
            }
        }
        Ok(())
    }

    /// Total counts over all segments.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for s in &self.segments {
            let m = s.meta();
            t.files += u64::from(m.files - s.continuation_count());
            t.parts += u64::from(m.parts);
            t.postings += m.postings;
            t.text_bytes += m.text_bytes;
            t.norm_bytes += m.norm_bytes;
            t.chunks += u64::from(m.chunks);
            t.index_bytes += s.bytes().len() as u64;
        }
        if let Some(sh) = &self.shards {
            for (s, _) in sh.rest_segments() {
                t.postings += s.meta().postings;
                t.index_bytes += s.bytes().len() as u64;
            }
        }
        t.common = self.common.len() as u64;
        t.segments = self.segments.len() as u64;
        t.shards = self.shard_count() as u64;
        t
    }
}

/// Counts summed over an index's segments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Segments.
    pub segments: u64,
    /// Input files recorded (a streamed file recorded in several segments
    /// counts once).
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
    /// Bytes of the segment files (of every shard).
    pub index_bytes: u64,
    /// Shards (1 when the index is not cut into shards); `segments`
    /// counts the segments of one shard, the others count them all.
    pub shards: u64,
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

/// The last component of each path, lossily as text (empty when none).
fn file_names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        })
        .collect()
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

    /// The set `live_paths_of` consults holds the hashes of the copies
    /// alone, and a match of the copied text still names every path.
    #[test]
    fn copy_hashes_are_those_of_copies_and_a_match_names_every_copy() {
        let text = "a text that two files hold, byte for byte, in this dump; ".repeat(4);
        let other = "and one other text that no file copies, with words of its own".repeat(2);
        let bytes = crate::IndexBuilder::new()
            .threads(1)
            .build()
            .unwrap()
            .segment_from_texts(&[("a.txt", &text), ("b.txt", &text), ("c.txt", &other)])
            .unwrap();
        let index = Index::from_bytes(bytes).unwrap();
        let seg = &index.segments()[0];
        let status: Vec<FileStatus> = (0..3).map(|f| seg.file(f).unwrap().status).collect();
        assert_eq!(status[1], FileStatus::Copy);
        assert_ne!(status[0], FileStatus::Copy);
        assert_ne!(status[2], FileStatus::Copy);
        let copies: Vec<[u8; 32]> = seg.copy_hashes().collect();
        assert_eq!(copies, vec![seg.file(1).unwrap().blake3]);
        assert_eq!(seg.file(0).unwrap().blake3, copies[0]);
        let part_of = |f: u32| seg.file(f).unwrap().parts.start;
        let (first, _, also) = index.source_of_decoded(0, part_of(0)).unwrap();
        assert_eq!((first.as_str(), also), ("a.txt", vec!["b.txt".to_string()]));
        let (first, _, also) = index.source_of_decoded(0, part_of(2)).unwrap();
        assert_eq!((first.as_str(), also.len()), ("c.txt", 0));
    }
}
