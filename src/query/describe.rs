//! An index described as records: its parameters and totals
//! ([`IndexInfo`], the shape of `leakprint info --json`) and its file table
//! ([`FileEntry`], the shape of `leakprint info --files --json`), for the
//! Python package's `Index.info()` and `Index.files()` and the service's
//! `/healthz`.
//!
//! Reading the file table goes through the bounds-checked segment
//! accessors: a corrupt table gives an [`IndexError`], never a panic.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::index::shards::{MatcherMemory, ShardInfo};
use crate::index::wire::Duplicate;
use crate::index::{Index, IndexError, Totals};

/// Parameters, totals, segment files and bytes per section of an index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexInfo {
    /// The fingerprint parameters.
    pub params: ParamsInfo,
    /// Counts over all segments.
    pub totals: Totals,
    /// The segment files, oldest first.
    pub segments: Vec<PathBuf>,
    /// Bytes of each kind of section, over all segments, by section name
    /// (of shard 0 for a sharded index: the text is in every shard).
    pub section_bytes: BTreeMap<String, u64>,
    /// Each shard's folder and sizes (one entry, the index itself, when it
    /// is not cut into shards).
    pub shards: Vec<ShardInfo>,
    /// What a matcher over the index keeps in memory.
    pub matcher_memory: MatcherMemory,
}

/// The fingerprint parameters of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParamsInfo {
    /// k-gram length, in normalized bytes.
    pub k: u32,
    /// Winnowing window, in k-grams.
    pub w: u32,
    /// Rolling hash seed.
    pub seed: u64,
    /// Normalization version.
    pub normalization: u32,
    /// t = w + k - 1: every shared run this long is found.
    pub guarantee: u32,
}

/// Describe `index`.
pub fn info(index: &Index) -> IndexInfo {
    let p = index.params();
    let mut section_bytes = BTreeMap::new();
    for seg in index.segments() {
        for (kind, n) in seg.section_sizes() {
            *section_bytes.entry(kind.name().to_owned()).or_insert(0) += n;
        }
    }
    IndexInfo {
        params: ParamsInfo {
            k: p.k,
            w: p.w,
            seed: p.seed,
            normalization: p.norm_version,
            guarantee: p.guarantee(),
        },
        totals: index.totals(),
        segments: index.segment_paths().to_vec(),
        section_bytes,
        shards: index.shard_sizes(),
        matcher_memory: index.matcher_memory(),
    }
}

/// One input file as the index recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// The path as reached from the `index` argument (escaped when its
    /// bytes are not UTF-8: see [`crate::names`]).
    pub path: String,
    /// When the path is not UTF-8: the name decoded in the legacy encoding
    /// it most likely uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_decoded: Option<String>,
    /// `indexed`, `binary`, `skipped` or `copy` (same bytes as an earlier
    /// file, which holds the content).
    pub status: &'static str,
    /// `live`, `superseded` (a changed version was appended at the same
    /// path) or `removed`.
    pub state: &'static str,
    /// The generation that superseded or removed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_since_generation: Option<u64>,
    /// The segment file holding its record.
    pub segment: String,
    /// The format it was read as (none when skipped).
    pub format: Option<&'static str>,
    /// Bytes read.
    pub bytes: u64,
    /// blake3 of the bytes read, in hex (zeros when skipped).
    pub blake3: String,
    /// Bytes of text extracted.
    pub text_bytes: u64,
    /// Fingerprints its parts contributed.
    pub fingerprints: u64,
    /// Chunks recorded.
    pub chunks: u32,
    /// Why it was skipped, or warnings; may be empty.
    pub reason: String,
    /// This record continues the file listed before it with the same path
    /// (a streamed file whose text outgrew a segment goes on in the next
    /// ones, one record per segment; its parts continue the numbering).
    pub continued: bool,
    /// Its text parts.
    pub parts: Vec<PartEntry>,
}

/// One text part of a [`FileEntry`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartEntry {
    /// Name inside the file (empty for the file's own text).
    pub name: String,
    /// The format it was read as.
    pub format: &'static str,
    /// Bytes of extracted text.
    pub text_bytes: u64,
    /// Normalized bytes (0 for a duplicate).
    pub normalized: u32,
    /// Fingerprints it contributed.
    pub fingerprints: u32,
    /// `file#part` of the earlier part with the same text, if any (its
    /// text is stored there once).
    pub duplicate_of: Option<String>,
}

/// The `file`-th file of segment `segment`.
///
/// # Errors
/// A segment or file number out of range, or a corrupt file or part table.
pub fn file_entry(index: &Index, segment: usize, file: u32) -> Result<FileEntry, IndexError> {
    let seg = index
        .segments()
        .get(segment)
        .ok_or_else(|| IndexError::Corrupt {
            section: "segments",
            detail: format!("no segment {segment}"),
        })?;
    let f = seg.file(file)?;
    let seg_name = index.segment_paths()[segment]
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let dead = index.state().and_then(|st| {
        st.dead
            .iter()
            .find(|d| d.segment == seg_name && d.file == file)
    });
    let mut parts = Vec::with_capacity(f.parts.len());
    for p in f.parts.clone() {
        let pi = seg.part(p)?;
        let duplicate_of = match pi.duplicate {
            Duplicate::None => None,
            Duplicate::Local(d) => Some(seg.part_path(d)?),
            Duplicate::External => {
                let mut found = None;
                for s in &index.segments()[..segment] {
                    if let Some(o) = s.find_part_text(&pi.text_hash) {
                        found = Some(s.part_path(o)?);
                        break;
                    }
                }
                found
            }
        };
        parts.push(PartEntry {
            name: pi.name.to_owned(),
            format: pi.format.name(),
            text_bytes: pi.text_len,
            normalized: pi.norm_len,
            fingerprints: pi.fingerprints,
            duplicate_of,
        });
    }
    Ok(FileEntry {
        path: f.path(),
        path_decoded: crate::names::decoded_guess(f.path_bytes),
        status: f.status.name(),
        state: dead.map_or("live", |d| d.kind.name()),
        dead_since_generation: dead.map(|d| d.generation),
        segment: seg_name,
        format: f.format.map(|x| x.name()),
        bytes: f.size,
        blake3: f.blake3.iter().map(|b| format!("{b:02x}")).collect(),
        text_bytes: f.text_bytes,
        fingerprints: f.fingerprints,
        chunks: f.chunks,
        reason: f.reason.to_owned(),
        continued: f.continued,
        parts,
    })
}

/// Every file of `index`, segment by segment, in table order.
pub fn files(index: &Index) -> impl Iterator<Item = Result<FileEntry, IndexError>> + '_ {
    index
        .segments()
        .iter()
        .enumerate()
        .flat_map(move |(s, seg)| (0..seg.file_count()).map(move |f| file_entry(index, s, f)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IndexBuilder;

    #[test]
    fn info_and_files_describe_an_in_memory_index() {
        let seg = IndexBuilder::new()
            .build()
            .unwrap()
            .segment_from_texts(&[
                (
                    "dump/a.txt",
                    "the first leaked document, long enough to fingerprint well",
                ),
                (
                    "dump/b.txt",
                    "the first leaked document, long enough to fingerprint well",
                ),
            ])
            .unwrap();
        let index = Index::from_bytes(seg).unwrap();
        let i = info(&index);
        assert_eq!(i.totals.files, 2);
        assert_eq!(i.params.guarantee, i.params.w + i.params.k - 1);
        assert!(i.section_bytes.values().sum::<u64>() > 0);
        let all: Vec<FileEntry> = files(&index).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            all.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["dump/a.txt", "dump/b.txt"]
        );
        assert_eq!(all[0].status, "indexed");
        assert_eq!(all[0].state, "live");
        assert_eq!(all[0].blake3.len(), 64);
        // Same bytes: b is a copy of a, with no parts of its own.
        assert_eq!(all[1].status, "copy");
        assert!(all[1].parts.is_empty());
        assert!(file_entry(&index, 1, 0).is_err());
        assert!(file_entry(&index, 0, 2).is_err());
    }
}
