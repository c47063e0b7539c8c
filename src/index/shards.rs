//! Shards by key: an index cut into `2^b` shards, each holding the
//! postings of one range of remixed keys, for indexes whose postings are
//! too large for one matcher's memory.
//!
//! ```text
//! x/manifest.json                 "shards": ["shard-000007-000", ...], no segments
//! x/state-000007.lpst             the common keys of the whole index
//! x/shard-000007-000/manifest.json  "shard": {"index": 0, "count": 4, "set": 7}
//! x/shard-000007-000/seg-000001-001.lps
//! x/shard-000007-000/state-000001.lpst   (a copy of the index's)
//! ```
//!
//! Written by `leakprint compact x --shards N` ([`Indexer::compact_shards`]).
//!
//! # What a shard holds, and why lookups stay exact
//!
//! Every shard holds the same segments with the same files, parts and
//! text (text is replicated: verification needs the text of every
//! candidate, and candidates come from every shard), and a shard's
//! segment holds only the postings of its keys. A segment of a shard has
//! `b` fewer directory bits than the unsharded segment of the same files,
//! and the shard of a key is the `b` key bits just below the shard
//! segment's key identity ([`shard_of`]): the identity in the unsharded
//! segment is exactly (identity in the shard, shard number). So a lookup
//! in the key's shard returns the very postings a lookup in the unsharded
//! segment returns, hash collisions included, in the same order; the
//! matcher ([`Index::lookup_segment`]) routes each key to its shard and
//! everything after the lookup (candidates, verification, sources) reads
//! shard 0, whose documents are everyone's. Matches over the shards are
//! the matches over the unsharded index, field for field (tested).
//!
//! The shard bits are bits of the remixed key (a splitmix64 finalizer of
//! the rolling hash), as `DESIGN.md` asks: raw winnowed minima skew small
//! and would fill the shards unevenly.
//!
//! [`Indexer::compact_shards`]: super::builder::Indexer::compact_shards
//! [`Index::lookup_segment`]: super::Index::lookup_segment

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::manifest::Manifest;
use super::wire::{shard_of, SectionKind};
use super::{Index, IndexError, Params, Residence, Segment};

/// Most shards an index is cut into.
pub const MAX_SHARDS: u32 = 1024;

/// The postings of the shards after the first (shard 0's segments are the
/// index's own), and the number of key bits that route a key.
#[derive(Debug)]
pub(crate) struct Shards {
    bits: u32,
    /// The folder of every shard, shard 0 first.
    folders: Vec<PathBuf>,
    /// Segments of shards 1.., in the order of shard 0's.
    rest: Vec<Vec<Segment>>,
    /// Their files.
    rest_paths: Vec<Vec<PathBuf>>,
}

impl Shards {
    /// Number of shards.
    pub(crate) fn count(&self) -> usize {
        self.folders.len()
    }

    /// The segment of shard `shard` at position `si`, when `shard > 0`.
    pub(crate) fn segment(&self, shard: usize, si: usize) -> &Segment {
        &self.rest[shard - 1][si]
    }

    /// Every segment of the shards after the first, with its file.
    pub(crate) fn rest_segments(&self) -> impl Iterator<Item = (&Segment, &PathBuf)> {
        self.rest
            .iter()
            .flatten()
            .zip(self.rest_paths.iter().flatten())
    }

    /// The shard that holds the postings of `key` in segment `seg` (of
    /// any shard: they have the same directory size).
    #[inline]
    pub(crate) fn route(&self, seg: &Segment, key: u64) -> usize {
        shard_of(key, seg.meta().dir_bits, self.bits) as usize
    }
}

/// One shard's size and what a matcher over it keeps in memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardInfo {
    /// The shard's folder.
    pub folder: PathBuf,
    /// Bytes of its segment files.
    pub bytes: u64,
    /// Its postings.
    pub postings: u64,
    /// Directory and postings: read at random by every key looked up, so
    /// they must stay in memory for lookups of microseconds.
    pub lookup_bytes: u64,
    /// File, part, checkpoint and string tables and the frequent keys:
    /// read for every hit and candidate (the same in every shard); with
    /// the copies of the part table a matcher makes in memory on first use
    /// (each part's first position and number, the coarse index over them,
    /// and the first 8 bytes of its text hash: at most 24 bytes a part).
    pub table_bytes: u64,
    /// Stored text (blocks and their directory): read only to verify a
    /// candidate, a few blocks per query; may stay on disk (the same in
    /// every shard).
    pub text_bytes: u64,
}

/// What a matcher over an index needs in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MatcherMemory {
    /// A matcher over the whole index in one process: every shard's
    /// lookup bytes and the tables once.
    pub whole: u64,
    /// A matcher holding one shard's lookups (the largest shard) and the
    /// tables: what each machine of a matcher spread over machines needs.
    pub per_shard: u64,
    /// Text read on demand (pages of the mapping; not counted above).
    pub text_on_demand: u64,
}

fn sizes(folder: PathBuf, segs: &[Segment]) -> ShardInfo {
    let mut s = ShardInfo {
        folder,
        bytes: 0,
        postings: 0,
        lookup_bytes: 0,
        table_bytes: 0,
        text_bytes: 0,
    };
    for seg in segs {
        s.bytes += seg.bytes().len() as u64;
        s.postings += seg.meta().postings;
        s.table_bytes += super::segment::MATCHER_BYTES_PER_PART * u64::from(seg.meta().parts);
        for (kind, n) in seg.section_sizes() {
            match kind {
                SectionKind::FpDirectory | SectionKind::FpPostings => s.lookup_bytes += n,
                SectionKind::TextData | SectionKind::TextBlocks | SectionKind::TextDictionary => {
                    s.text_bytes += n
                }
                // Chunks and file hashes serve whole-file queries only.
                SectionKind::Chunks | SectionKind::FileHashes => {}
                _ => s.table_bytes += n,
            }
        }
    }
    s
}

impl Index {
    /// The shards of a sharded index, shard 0 first, with their sizes; one
    /// entry (the index itself) for an index that is not sharded.
    pub fn shard_sizes(&self) -> Vec<ShardInfo> {
        let Some(sh) = &self.shards else {
            let folder = self
                .paths
                .first()
                .and_then(|p| p.parent())
                .map(Path::to_path_buf)
                .unwrap_or_default();
            return vec![sizes(folder, &self.segments)];
        };
        let mut out = vec![sizes(sh.folders[0].clone(), &self.segments)];
        for (i, segs) in sh.rest.iter().enumerate() {
            out.push(sizes(sh.folders[i + 1].clone(), segs));
        }
        out
    }

    /// The memory a matcher over this index needs (see [`MatcherMemory`]).
    pub fn matcher_memory(&self) -> MatcherMemory {
        let shards = self.shard_sizes();
        let tables = shards.first().map_or(0, |s| s.table_bytes);
        let lookups: u64 = shards.iter().map(|s| s.lookup_bytes).sum();
        let largest = shards.iter().map(|s| s.lookup_bytes).max().unwrap_or(0);
        MatcherMemory {
            whole: lookups + tables,
            per_shard: largest + tables,
            text_on_demand: shards.first().map_or(0, |s| s.text_bytes),
        }
    }

    /// The number of shards (1 for an index that is not sharded).
    pub fn shard_count(&self) -> usize {
        self.shards.as_ref().map_or(1, Shards::count)
    }

    /// The segment holding the postings of `key` for segment `si` of the
    /// index: the segment itself, or its counterpart in the key's shard.
    #[inline]
    pub fn lookup_segment(&self, si: usize, key: u64) -> &Segment {
        let seg = &self.segments[si];
        match &self.shards {
            None => seg,
            Some(sh) => match sh.route(seg, key) {
                0 => seg,
                i => sh.segment(i, si),
            },
        }
    }
}

/// Open the segments a manifest names in `dir`, held as `residence` says.
pub(crate) fn open_segments(
    dir: &Path,
    m: &Manifest,
    residence: Residence,
) -> Result<(Vec<Segment>, Vec<PathBuf>), IndexError> {
    let paths: Vec<PathBuf> = m.segments.iter().map(|s| dir.join(&s.file)).collect();
    let mut segments = Vec::with_capacity(paths.len());
    for p in &paths {
        let bytes = residence.bytes_of(p)?;
        let seg = Segment::from_storage(Box::new(bytes)).map_err(|e| IndexError::InSegment {
            path: p.clone(),
            source: Box::new(e),
        })?;
        segments.push(seg);
    }
    Ok((segments, paths))
}

/// Open the sharded index folder `dir` whose manifest is `m`.
pub(crate) fn open_sharded(
    dir: &Path,
    m: &Manifest,
    residence: Residence,
) -> Result<Index, IndexError> {
    let n = m.shards.len();
    let bad = |path: &Path, detail: String| IndexError::Manifest {
        path: path.join(super::manifest::MANIFEST_NAME),
        detail,
    };
    let mut sets = Vec::with_capacity(n);
    let mut folders = Vec::with_capacity(n);
    for (i, name) in m.shards.iter().enumerate() {
        let folder = dir.join(name);
        let sm = Manifest::read(&folder)?;
        match sm.shard {
            Some(s) if s.index as usize == i && s.count as usize == n && s.set == m.generation => {}
            other => {
                return Err(bad(
                    &folder,
                    format!(
                        "listed as shard {i} of {n} of generation {} but says {other:?}",
                        m.generation
                    ),
                ))
            }
        }
        if sm.params != m.params {
            return Err(bad(
                &folder,
                format!(
                    "built with {}, the index with {}",
                    sm.params.describe(),
                    m.params.describe()
                ),
            ));
        }
        sets.push(open_segments(&folder, &sm, residence)?);
        folders.push(folder);
    }
    // Every shard holds the same documents in the same segments, with
    // directories of the same size.
    let same = |a: &Segment, b: &Segment| {
        let (x, y) = (a.meta(), b.meta());
        (x.files, x.parts, x.norm_bytes, x.text_bytes, x.dir_bits)
            == (y.files, y.parts, y.norm_bytes, y.text_bytes, y.dir_bits)
            && Params::from(a.header()) == Params::from(b.header())
    };
    let first = &sets[0].0;
    for (i, (segs, paths)) in sets.iter().enumerate().skip(1) {
        if segs.len() != first.len() {
            return Err(bad(
                &folders[i],
                format!(
                    "{} segments, shard 0 has {}: not shards of one index",
                    segs.len(),
                    first.len()
                ),
            ));
        }
        for (si, (a, b)) in first.iter().zip(segs).enumerate() {
            if !same(a, b) {
                return Err(IndexError::Corrupt {
                    section: "shards",
                    detail: format!(
                        "{} does not hold the documents of segment {si} of shard 0",
                        paths[si].display()
                    ),
                });
            }
        }
    }
    let state = match &m.state {
        Some(s) => Some(super::state::State::read(&dir.join(s))?),
        None => None,
    };
    let mut it = sets.into_iter();
    let (segs0, paths0) = it.next().ok_or_else(|| bad(dir, "no shards".into()))?;
    let (rest, rest_paths): (Vec<Vec<Segment>>, Vec<Vec<PathBuf>>) = it.unzip();
    let mut index = Index::from_segments(segs0, paths0, state)?;
    index.shards = Some(Shards {
        bits: n.trailing_zeros(),
        folders,
        rest,
        rest_paths,
    });
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::shard_of;
    use crate::fingerprint::remix;

    /// The key identity of a segment with `dir_bits` directory bits: the
    /// top `dir_bits + 16` bits (the bucket, then the fragment).
    fn identity(key: u64, dir_bits: u32) -> u64 {
        key >> (48 - dir_bits)
    }

    /// Against the definition: two keys share an identity in the unsharded
    /// segment exactly when they fall in one shard and share an identity
    /// there, for every directory size and shard count; keys that differ
    /// only in the bits below that identity included (the collisions).
    #[test]
    fn the_shard_and_its_identity_are_the_unsharded_identity() {
        let mut x = 0x5eed_u64;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            remix(x)
        };
        for full in 10..=31u32 {
            for bits in 1..=(full - 10).min(10) {
                let shard_dir = full - bits;
                for _ in 0..200 {
                    let a = next();
                    // A key sharing the top `t` bits of `a`, for t around
                    // the identity widths.
                    let t = 32 + (next() % 32) as u32;
                    let b = (a & !(u64::MAX >> t)) | (next() & (u64::MAX >> t));
                    let same_full = identity(a, full) == identity(b, full);
                    let same_shard = shard_of(a, shard_dir, bits) == shard_of(b, shard_dir, bits)
                        && identity(a, shard_dir) == identity(b, shard_dir);
                    assert_eq!(
                        same_full, same_shard,
                        "{a:#x} {b:#x} full {full} bits {bits}"
                    );
                    assert!(shard_of(a, shard_dir, bits) < 1 << bits);
                }
            }
        }
        assert_eq!(shard_of(u64::MAX, 20, 0), 0);
    }
}
