//! Key counts of one segment: every fingerprint key of the segment with the
//! number of its texts that hold it.
//!
//! An index built in pieces by workers that do not see each other
//! ([`super::builder::Indexer::build_piece`], run by a Spark job) cannot
//! decide its common (boilerplate) keys piece by piece: a key in 20 texts
//! of each of 10 pieces is in 200 texts of the index. So each piece writes
//! this file beside its segment; a distributed reduce sums the counts of a
//! key over all pieces and keeps the keys reaching the common minimum,
//! which [`super::builder::Indexer::commit_pieces`] writes into the index
//! state. Counts are taken exactly as a build counts them for its frequent
//! keys (per key identity in the segment, see `builder/postings.rs`), so a
//! key's total over the pieces is what an append of the same pieces one by
//! one would record.
//!
//! The file is a temporary of the build: the commit removes it.
//!
//! # Layout
//!
//! ```text
//! magic "LPKEYS\0\0"  version u32  reserved u32
//! k u32  w u32  seed u64  normalization version u32  reserved u32
//! records (key u64, docs u32, reserved u32), strictly increasing by key
//! count u64  owners u64  checksum u64 (first 8 bytes of blake3 of all before)
//! magic "LPKEYEND"
//! ```
//!
//! `owners` is the number of texts the segment stores (each counts once in
//! the index's live-text total). Written atomically (temporary file, fsync,
//! rename); read through a mapping, every byte checked on open.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::wire::{Dec, Enc, Frequent, Record};
use super::{IndexError, Params};
use crate::fileio::{AtomicFile, FileBytes};

const MAGIC: &[u8; 8] = b"LPKEYS\0\0";
const END: &[u8; 8] = b"LPKEYEND";
/// Version of the key-count layout.
pub const KEYCOUNT_VERSION: u32 = 1;
const HEAD_LEN: usize = 40;
const TRAILER_LEN: usize = 32;

fn bad(detail: impl Into<String>) -> IndexError {
    IndexError::Corrupt {
        section: "key counts",
        detail: detail.into(),
    }
}

/// Writes a key-count file, records in increasing key order.
pub struct KeyCountWriter {
    file: AtomicFile,
    path: PathBuf,
    hasher: blake3::Hasher,
    count: u64,
    last: Option<u64>,
    buf: Vec<u8>,
}

impl KeyCountWriter {
    /// Start writing the key counts of a segment with parameters `params`
    /// at `path` (published by [`KeyCountWriter::commit`]).
    ///
    /// # Errors
    /// When the temporary file cannot be created.
    pub fn create(path: &Path, params: Params) -> Result<KeyCountWriter, IndexError> {
        let file = AtomicFile::create(path).map_err(|e| IndexError::io(path, e))?;
        let mut head = vec![0u8; HEAD_LEN];
        Enc::new(&mut head)
            .bytes(MAGIC)
            .u32(KEYCOUNT_VERSION)
            .skip(4)
            .u32(params.k)
            .u32(params.w)
            .u64(params.seed)
            .u32(params.norm_version);
        let mut w = KeyCountWriter {
            file,
            path: path.to_path_buf(),
            hasher: blake3::Hasher::new(),
            count: 0,
            last: None,
            buf: Vec::new(),
        };
        w.raw(&head)?;
        Ok(w)
    }

    fn raw(&mut self, b: &[u8]) -> Result<(), IndexError> {
        self.hasher.update(b);
        self.file
            .write_all(b)
            .map_err(|e| IndexError::io(&self.path, e))
    }

    /// Append records; keys must increase strictly across all calls.
    ///
    /// # Errors
    /// I/O errors, or keys out of order (a bug of the caller).
    pub fn push(&mut self, records: &[Frequent]) -> Result<(), IndexError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for r in records {
            if self.last.is_some_and(|l| l >= r.key) {
                return Err(bad(format!(
                    "key {:#x} written after {:#x}: keys must increase",
                    r.key,
                    self.last.unwrap_or_default()
                )));
            }
            self.last = Some(r.key);
            r.push_to(&mut buf);
        }
        self.count += records.len() as u64;
        let res = self.raw(&buf);
        self.buf = buf;
        res
    }

    /// Write the trailer and publish the file.
    ///
    /// # Errors
    /// I/O errors.
    pub fn commit(mut self, owners: u64) -> Result<(), IndexError> {
        let mut tail = [0u8; 16];
        Enc::new(&mut tail).u64(self.count).u64(owners);
        self.raw(&tail)?;
        let h = self.hasher.finalize();
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&h.as_bytes()[..8]);
        let path = self.path.clone();
        let mut file = self.file;
        file.write_all(&sum)
            .and_then(|()| file.write_all(END))
            .map_err(|e| IndexError::io(&path, e))?;
        file.commit().map_err(|e| IndexError::io(&path, e))
    }
}

/// A key-count file, checked and mapped.
#[derive(Debug)]
pub struct KeyCounts {
    bytes: FileBytes,
    params: Params,
    count: u64,
    owners: u64,
}

impl KeyCounts {
    /// Open and check a key-count file: magic, version, size, checksum,
    /// reserved bytes and key order.
    ///
    /// # Errors
    /// I/O errors, or [`IndexError::Corrupt`] / [`IndexError::Checksum`]
    /// (wrapped in [`IndexError::InSegment`] naming the file).
    pub fn open(path: &Path) -> Result<KeyCounts, IndexError> {
        let bytes = crate::fileio::map_readonly(path).map_err(|e| IndexError::io(path, e))?;
        KeyCounts::check(bytes).map_err(|e| IndexError::InSegment {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    fn check(bytes: FileBytes) -> Result<KeyCounts, IndexError> {
        let b = bytes.as_ref();
        if b.len() < HEAD_LEN + TRAILER_LEN || &b[..8] != MAGIC || &b[b.len() - 8..] != END {
            return Err(bad(
                "not a leakprint key-count file (magic missing or truncated)",
            ));
        }
        let body = &b[..b.len() - 16];
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&b[b.len() - 16..b.len() - 8]);
        if super::wire::checksum(body) != u64::from_le_bytes(sum) {
            return Err(IndexError::Checksum {
                section: "key counts",
            });
        }
        let mut d = Dec::new(&b[..HEAD_LEN]);
        let _ = d.array::<8>();
        let version = d.u32();
        if version != KEYCOUNT_VERSION {
            return Err(IndexError::UnsupportedVersion {
                found: version,
                supported: KEYCOUNT_VERSION,
            });
        }
        d.reserved(4);
        let params = Params {
            k: d.u32(),
            w: d.u32(),
            seed: d.u64(),
            norm_version: d.u32(),
        };
        d.reserved(4);
        if !d.finish() {
            return Err(bad("header has reserved bytes set"));
        }
        let mut t = Dec::new(&body[body.len() - 16..]);
        let count = t.u64();
        let owners = t.u64();
        let records = body.len() - HEAD_LEN - 16;
        if Some(records as u64) != count.checked_mul(Frequent::LEN as u64) {
            return Err(bad(format!(
                "{count} records do not fit in {records} bytes"
            )));
        }
        let mut last: Option<u64> = None;
        for r in b[HEAD_LEN..HEAD_LEN + records].chunks_exact(Frequent::LEN) {
            let f = Frequent::decode(r).ok_or_else(|| bad("a record has reserved bytes set"))?;
            if last.is_some_and(|l| l >= f.key) {
                return Err(bad("keys are not strictly increasing"));
            }
            last = Some(f.key);
        }
        Ok(KeyCounts {
            bytes,
            params,
            count,
            owners,
        })
    }

    /// The parameters of the segment the counts are of.
    pub fn params(&self) -> Params {
        self.params
    }

    /// Number of keys.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Texts the segment stores.
    pub fn owners(&self) -> u64 {
        self.owners
    }

    /// The records `range` (clamped to the file), in key order.
    pub fn records(&self, range: std::ops::Range<u64>) -> impl Iterator<Item = Frequent> + '_ {
        let end = range.end.min(self.count) as usize;
        let start = (range.start as usize).min(end);
        let b = &self.bytes.as_ref()[HEAD_LEN..];
        b[start * Frequent::LEN..end * Frequent::LEN]
            .chunks_exact(Frequent::LEN)
            .filter_map(Frequent::decode)
    }
}

/// Sum the counts of several key-count files (a reduce on one machine,
/// by a merge of the sorted files): the keys whose total reaches
/// `min_docs`, with their totals, in key order.
///
/// # Errors
/// When a file cannot be opened or is corrupt, or the files were written
/// with different parameters.
pub fn sum_key_counts(paths: &[PathBuf], min_docs: u32) -> Result<Vec<Frequent>, IndexError> {
    let files = paths
        .iter()
        .map(|p| KeyCounts::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(first) = files.first() {
        for (f, p) in files.iter().zip(paths) {
            if f.params() != first.params() {
                return Err(IndexError::ParamsMismatch {
                    path: p.clone(),
                    what: f.params().describe(),
                    expected: first.params().describe(),
                });
            }
        }
    }
    let mut heads: std::collections::BinaryHeap<std::cmp::Reverse<(u64, u32, usize)>> =
        std::collections::BinaryHeap::new();
    let mut iters: Vec<_> = files.iter().map(|f| f.records(0..f.len())).collect();
    for (i, it) in iters.iter_mut().enumerate() {
        if let Some(r) = it.next() {
            heads.push(std::cmp::Reverse((r.key, r.docs, i)));
        }
    }
    let mut out: Vec<Frequent> = Vec::new();
    let mut cur: Option<Frequent> = None;
    while let Some(std::cmp::Reverse((key, docs, i))) = heads.pop() {
        match &mut cur {
            Some(c) if c.key == key => c.docs = c.docs.saturating_add(docs),
            _ => {
                if let Some(c) = cur.take().filter(|c| c.docs >= min_docs) {
                    out.push(c);
                }
                cur = Some(Frequent { key, docs });
            }
        }
        if let Some(r) = iters[i].next() {
            heads.push(std::cmp::Reverse((r.key, r.docs, i)));
        }
    }
    if let Some(c) = cur.filter(|c| c.docs >= min_docs) {
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params {
            k: 16,
            w: 25,
            seed: 7,
            norm_version: crate::normalize::NORMALIZATION_VERSION,
        }
    }

    fn write(dir: &Path, name: &str, recs: &[Frequent], owners: u64) -> PathBuf {
        let p = dir.join(name);
        let mut w = KeyCountWriter::create(&p, params()).unwrap();
        // Two pushes: the order check spans calls.
        let (a, b) = recs.split_at(recs.len() / 2);
        w.push(a).unwrap();
        w.push(b).unwrap();
        w.commit(owners).unwrap();
        p
    }

    fn f(key: u64, docs: u32) -> Frequent {
        Frequent { key, docs }
    }

    #[test]
    fn round_trip_and_sum() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.lpk", &[f(1, 3), f(5, 30), f(9, 1)], 40);
        let b = write(dir.path(), "b.lpk", &[f(5, 2), f(9, 31), f(12, 32)], 50);
        let ka = KeyCounts::open(&a).unwrap();
        assert_eq!(ka.len(), 3);
        assert_eq!(ka.owners(), 40);
        assert_eq!(ka.params(), params());
        assert_eq!(
            ka.records(1..10).collect::<Vec<_>>(),
            vec![f(5, 30), f(9, 1)]
        );
        let sum = sum_key_counts(&[a, b], 32).unwrap();
        assert_eq!(sum, vec![f(5, 32), f(9, 32), f(12, 32)]);
    }

    #[test]
    fn keys_out_of_order_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = KeyCountWriter::create(&dir.path().join("x.lpk"), params()).unwrap();
        w.push(&[f(5, 1)]).unwrap();
        assert!(w.push(&[f(5, 1)]).is_err());
    }

    #[test]
    fn every_flipped_byte_and_truncation_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "a.lpk", &[f(1, 3), f(5, 30)], 4);
        let good = std::fs::read(&p).unwrap();
        for i in 0..good.len() {
            let mut c = good.clone();
            c[i] ^= 0x20;
            std::fs::write(&p, &c).unwrap();
            assert!(
                KeyCounts::open(&p).is_err(),
                "byte {i} flipped was accepted"
            );
        }
        for n in 0..good.len() {
            std::fs::write(&p, &good[..n]).unwrap();
            assert!(KeyCounts::open(&p).is_err(), "truncated to {n} accepted");
        }
    }
}
