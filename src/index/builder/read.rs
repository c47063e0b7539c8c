//! Stage 2, read and extract: one input becomes a [`FileResult`]: its bytes
//! read, hashed with blake3, cut into FastCDC chunks, extracted into parts,
//! and each part analyzed (stage 3, [`super::analyze`]). Runs in parallel,
//! one file per task.
//!
//! Files up to the text limit are read into memory (`crate::fileio`
//! explains why inputs are read, not mapped); larger files are read in
//! pieces by [`super::stream`]. Nothing fails the
//! run: an unreadable file becomes a skipped record with the error.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use super::super::wire::FileStatus;
use super::analyze::{self, Analysis, Fp};
use crate::chunk::{self, Chunk, ChunkParams};
use crate::extract::{self, ExtractLimits, Format};

/// The result of processing one input file (or one stored file, when
/// compacting).
#[derive(Debug)]
pub(crate) struct FileResult {
    /// The path as reached from the `index` argument, as bytes.
    pub(crate) name: Vec<u8>,
    pub(crate) size: u64,
    pub(crate) blake3: [u8; 32],
    pub(crate) status: FileStatus,
    pub(crate) format: Option<Format>,
    /// Every note joined (`part: reason; ...`).
    pub(crate) reason: String,
    /// `(part name, reason)` of everything skipped or cut.
    pub(crate) notes: Vec<(String, String)>,
    pub(crate) parts: Vec<PartResult>,
    pub(crate) chunks: Vec<Chunk>,
    /// It continues, in this segment, a streamed file whose text outgrew
    /// an earlier segment (see [`super::super::wire::FileRecord::continued`]).
    pub(crate) continued: bool,
}

/// One extracted part with its analysis.
#[derive(Debug)]
pub(crate) struct PartResult {
    pub(crate) name: String,
    pub(crate) format: Format,
    pub(crate) text: String,
    pub(crate) analysis: Analysis,
}

/// Where an input comes from.
pub(crate) enum Source {
    /// A file to read.
    Disk { path: PathBuf, name: Vec<u8> },
    /// Something the walk did not read.
    Skipped { name: Vec<u8>, reason: String },
    /// Already processed (in-memory documents, compaction).
    Stored(Box<FileResult>),
    /// The rest of a streamed file whose text filled a segment: it goes on
    /// in the next one. Only the builder's segment loop takes it.
    Resume(Box<super::stream::Stream>),
}

impl Source {
    /// Bytes on disk this source will read (0 when not a file).
    pub(crate) fn disk_size(&self) -> u64 {
        match self {
            // Asked again, not the walk's size: a file that grew past the
            // size limit since the walk is streamed (`Next::Large`), so
            // only one that grows in the moment between this and its read
            // is read for chunks alone (`process`).
            Source::Disk { path, .. } => std::fs::metadata(path).map_or(0, |m| m.len()),
            _ => 0,
        }
    }
}

/// What reading needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadConfig<'a> {
    pub(crate) max_file: u64,
    pub(crate) limits: &'a ExtractLimits,
    pub(crate) chunk: &'a ChunkParams,
    pub(crate) fp: Fp,
}

impl FileResult {
    /// A file that was not read.
    pub(crate) fn skipped(name: Vec<u8>, reason: String) -> FileResult {
        FileResult {
            name,
            size: 0,
            blake3: [0; 32],
            status: FileStatus::Skipped,
            format: None,
            notes: vec![(String::new(), reason.clone())],
            reason,
            parts: Vec::new(),
            chunks: Vec::new(),
            continued: false,
        }
    }

    /// Normalized bytes its parts will add.
    pub(crate) fn norm_bytes(&self) -> u64 {
        self.parts
            .iter()
            .map(|p| u64::from(p.analysis.norm_len))
            .sum()
    }
}

/// Read and process one source.
pub(crate) fn process(
    s: Source,
    cfg: ReadConfig<'_>,
    scratch: &mut analyze::Scratch,
) -> FileResult {
    match s {
        Source::Stored(r) => *r,
        // Not reached: the segment loop takes a resumed file itself. Kept
        // total: the file is recorded as skipped rather than lost silently.
        Source::Resume(s) => FileResult::skipped(
            s.r.name.clone(),
            "internal: a resumed stream was read as a file".to_string(),
        ),
        Source::Skipped { name, reason } => FileResult::skipped(name, reason),
        Source::Disk { path, name } => match crate::fileio::read_prefix(&path, cfg.max_file) {
            Err(e) => FileResult::skipped(name, format!("cannot read: {e}")),
            Ok((bytes, false)) => from_bytes(name, &bytes, cfg, scratch),
            // The builder streams large files (`super::stream`); a file that
            // grew past the limit since the walk lands here.
            Ok((_, true)) => {
                let reason = format!(
                    "larger than the text limit of {} bytes: chunks only",
                    cfg.max_file
                );
                chunk_only(&path, name, cfg, Some(reason), Format::Binary)
            }
        },
    }
}

/// A file over the size limit: stream it for chunks and hash only, with
/// `reason` (if any) and `format` recorded.
pub(crate) fn chunk_only(
    path: &std::path::Path,
    name: Vec<u8>,
    cfg: ReadConfig<'_>,
    reason: Option<String>,
    format: Format,
) -> FileResult {
    let mut chunks = Vec::new();
    let res = File::open(path)
        .and_then(|f| chunk::chunk_reader(BufReader::new(f), cfg.chunk, |c| chunks.push(c)));
    match res {
        Err(e) => FileResult::skipped(name, format!("cannot read: {e}")),
        Ok((hash, size)) => FileResult {
            name,
            size,
            blake3: *hash.as_bytes(),
            status: FileStatus::Binary,
            format: Some(format),
            notes: reason.iter().map(|r| (String::new(), r.clone())).collect(),
            reason: reason.unwrap_or_default(),
            parts: Vec::new(),
            chunks,
            continued: false,
        },
    }
}

/// Process a file's bytes: hash, chunks, extraction, analysis of every part.
pub(crate) fn from_bytes(
    name: Vec<u8>,
    bytes: &[u8],
    cfg: ReadConfig<'_>,
    scratch: &mut analyze::Scratch,
) -> FileResult {
    let chunks = chunk::chunk_bytes(bytes, cfg.chunk);
    // Each byte hashed once where that is enough: a file of one chunk is
    // that chunk, and a part whose text is the file's bytes (a UTF-8 text
    // file) has the file's hash.
    let blake3 = match chunks.as_slice() {
        [only] if only.len as usize == bytes.len() => only.hash,
        _ => *blake3::hash(bytes).as_bytes(),
    };
    let base = name.rsplit(|&b| b == b'/').next().unwrap_or(&name);
    let hint = String::from_utf8_lossy(base);
    let ex = extract::extract(bytes, &hint, cfg.limits);
    let notes: Vec<(String, String)> = ex.skipped.into_iter().map(|s| (s.name, s.reason)).collect();
    let reason = join_notes(&notes);
    let parts: Vec<PartResult> = ex
        .parts
        .into_iter()
        .map(|p| PartResult {
            analysis: analyze::analyze_hashed(
                &p.text,
                (p.text.as_bytes() == bytes).then_some(&blake3),
                cfg.fp,
                scratch,
            ),
            name: p.name,
            format: p.format,
            text: p.text,
        })
        .collect();
    let status = if parts.iter().all(|p| p.text.is_empty()) {
        FileStatus::Binary
    } else {
        FileStatus::Indexed
    };
    FileResult {
        name,
        size: bytes.len() as u64,
        blake3,
        status,
        format: Some(ex.format.unwrap_or(Format::Binary)),
        reason,
        notes,
        parts,
        chunks,
        continued: false,
    }
}

/// Notes as one reason string: `reason` for the file itself,
/// `part: reason` for a part, joined with `; `.
pub(crate) fn join_notes(notes: &[(String, String)]) -> String {
    notes
        .iter()
        .map(|(name, reason)| {
            if name.is_empty() {
                reason.clone()
            } else {
                format!("{name}: {reason}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}
