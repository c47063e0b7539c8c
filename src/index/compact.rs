//! Compaction's input: the live files of an index, each with its parts'
//! text read back from wherever it is stored (its own segment, the part it
//! duplicates, the original of a copy) and its chunks, in index order. The
//! builder then builds them as one fresh build would: dead files are gone
//! for good, and what was shared is shared again.

use std::collections::HashMap;

use super::builder::{stored_result, FingerprintParams};
use super::wire::{Duplicate, FileStatus};
use super::{Index, IndexError, Segment};
use crate::chunk::Chunk;

/// The live files of `index`, in order, ready to be built again.
///
/// # Errors
/// When a record or a stored text is corrupt or missing.
pub(crate) fn stored_files(
    index: &Index,
    fp: FingerprintParams,
) -> Result<Vec<super::builder::StoredFile>, IndexError> {
    let segs = index.segments();
    let live = index.liveness();
    let chunks: Vec<HashMap<u32, Vec<Chunk>>> = segs
        .iter()
        .map(|s| {
            let mut by_file: HashMap<u32, Vec<Chunk>> = HashMap::new();
            for c in s.chunks() {
                by_file.entry(c.file).or_default().push(Chunk {
                    offset: c.offset,
                    len: c.len,
                    hash: c.hash,
                });
            }
            for v in by_file.values_mut() {
                v.sort_by_key(|c| c.offset);
            }
            by_file
        })
        .collect();
    let mut out = Vec::new();
    // Hashes whose content a file put out so far holds: a copy put out
    // after one of them is a copy again in the new index; the first one
    // owns the content there, so it takes the original's continuations.
    let mut owned: std::collections::HashSet<[u8; 32]> = std::collections::HashSet::new();
    for (si, seg) in segs.iter().enumerate() {
        for f in 0..seg.file_count() {
            if !live.file_live(si, f) {
                continue;
            }
            let info = seg.file(f)?;
            // Where the content is: the file itself, or the original of a copy.
            let (cs, cf) = if info.status == FileStatus::Copy {
                original(segs, &info.blake3).ok_or_else(|| IndexError::Corrupt {
                    section: "files",
                    detail: format!("copy {} has no original", info.path()),
                })?
            } else {
                (si, f)
            };
            let mut records = vec![(cs, cf)];
            let content = segs[cs].file(cf)?;
            if info.status == FileStatus::Copy && !owned.contains(&info.blake3) {
                records.extend(continuations(segs, cs, &content)?);
            }
            if info.status != FileStatus::Skipped && !info.continued {
                owned.insert(info.blake3);
            }
            for (n, &(rs, rf)) in records.iter().enumerate() {
                let content = segs[rs].file(rf)?;
                let mut parts = Vec::new();
                for p in content.parts.clone() {
                    let pi = segs[rs].part(p)?;
                    let text = text_of(segs, rs, p, pi.duplicate, &pi.text_hash)?;
                    parts.push((pi.name.to_string(), pi.format, text));
                }
                let file_chunks = chunks[rs].get(&rf).cloned().unwrap_or_default();
                let mut info = info.clone();
                if info.status == FileStatus::Copy {
                    info.status = content.status;
                    info.format = content.format;
                    info.continued = n > 0;
                }
                out.push(stored_result(
                    info.path_bytes.to_vec(),
                    &info,
                    parts,
                    file_chunks,
                    fp,
                ));
            }
        }
    }
    Ok(out)
}

/// The continuation records of the streamed file whose first record is
/// `first` (in segment `si`): records of later segments with its path and
/// hash marked continued, in order, up to the next record of that path
/// that is not a continuation.
fn continuations(
    segs: &[Segment],
    si: usize,
    first: &super::segment::FileInfo<'_>,
) -> Result<Vec<(usize, u32)>, IndexError> {
    let mut out = Vec::new();
    for (sj, s) in segs.iter().enumerate().skip(si + 1) {
        for g in 0..s.file_count() {
            let gi = s.file(g)?;
            if gi.path_bytes != first.path_bytes {
                continue;
            }
            if !gi.continued || gi.blake3 != first.blake3 {
                return Ok(out);
            }
            out.push((sj, g));
        }
    }
    Ok(out)
}

/// The first file with these bytes that holds their content (not a copy).
fn original(segs: &[Segment], hash: &[u8; 32]) -> Option<(usize, u32)> {
    for (si, s) in segs.iter().enumerate() {
        for f in s.find_file(hash) {
            if s.file(f).ok()?.status != FileStatus::Copy {
                return Some((si, f));
            }
        }
    }
    None
}

/// The text of part `p` of segment `si`, wherever it is stored.
fn text_of(
    segs: &[Segment],
    si: usize,
    p: u32,
    dup: Duplicate,
    hash: &[u8; 16],
) -> Result<String, IndexError> {
    match dup {
        Duplicate::None | Duplicate::Local(_) => segs[si].part_text(p),
        Duplicate::External => {
            for s in &segs[..si] {
                if let Some(o) = s.find_part_text(hash) {
                    return s.part_text(o);
                }
            }
            Err(IndexError::Corrupt {
                section: "parts",
                detail: format!("part {p}: the earlier text it duplicates is missing"),
            })
        }
    }
}
