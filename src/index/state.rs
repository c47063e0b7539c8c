//! The index-level state: what is true of the whole index, not of one
//! segment. Written with every publish, named by the manifest, replaced
//! atomically like a segment.
//!
//! - **Frequent keys**: every key found in at least `min_docs` live texts
//!   of the index, with that count. A key found in at least
//!   `max(min_docs, fraction x live texts)` of them is *common*
//!   (boilerplate): it never makes a match on its own. Keeping every key
//!   down to `min_docs` (not only the common ones) is what keeps the
//!   decision exact as the index grows and shrinks: the threshold moves
//!   with the number of live texts, and any key that can cross it is here
//!   with its count. Counts are per live text: a text stored once and
//!   referenced by several files (copies, duplicate parts) counts once.
//! - **Dead files**: files superseded by a changed version at the same path
//!   (`index --append`) or removed (`leakprint remove`), by segment file
//!   name and file number. Segments are never rewritten for this; matching
//!   ignores texts no live file references, and `compact` drops them.
//!
//! # Layout
//!
//! ```text
//! magic "LPSTATE\0"  version u32  reserved u32
//! generation u64  live_texts u64  min_docs u32  reserved u32
//! fraction f64 (bits)  frequent count u64  dead count u64
//! frequent records  (key u64, docs u32, reserved u32) sorted by key
//! dead records      (segment name [40] zero-padded, file u32, kind u8,
//!                    reserved [3], generation u64), sorted
//! checksum u64 (first 8 bytes of blake3 of everything before)
//! magic "LPSTEND\0"
//! ```

use std::path::Path;

use super::wire::{Dec, Enc, Frequent, Record};
use super::IndexError;
use crate::fileio::AtomicFile;

const MAGIC: &[u8; 8] = b"LPSTATE\0";
const END: &[u8; 8] = b"LPSTEND\0";
/// Version of the state layout.
pub const STATE_VERSION: u32 = 1;
const HEAD_LEN: usize = 64;
const DEAD_LEN: usize = 56;
/// Longest segment file name a dead record holds.
pub const MAX_SEGMENT_NAME: usize = 40;

/// Why a file no longer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeadKind {
    /// A later append brought changed bytes at the same path.
    Superseded,
    /// `leakprint remove` named it.
    Removed,
}

impl DeadKind {
    /// A lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            DeadKind::Superseded => "superseded",
            DeadKind::Removed => "removed",
        }
    }
}

/// A file of a segment that no longer counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeadFile {
    /// The segment's file name in the index folder.
    pub segment: String,
    /// The file's number in that segment.
    pub file: u32,
    /// Why.
    pub kind: DeadKind,
    /// The generation that marked it.
    pub generation: u64,
}

/// The index-level state (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The generation that wrote it.
    pub generation: u64,
    /// Texts referenced by at least one live file.
    pub live_texts: u64,
    /// Keys in at least this many live texts are kept in `frequent`.
    pub min_docs: u32,
    /// Share of the live texts above which a key is common.
    pub fraction: f64,
    /// Sorted by key.
    pub frequent: Vec<Frequent>,
    /// Sorted.
    pub dead: Vec<DeadFile>,
}

impl State {
    /// The number of live texts from which a key is common.
    pub fn common_docs(&self) -> u32 {
        common_docs(self.live_texts, self.min_docs, self.fraction)
    }

    /// The common keys, sorted.
    pub fn common_keys(&self) -> Vec<u64> {
        let t = self.common_docs();
        self.frequent
            .iter()
            .filter(|f| f.docs >= t)
            .map(|f| f.key)
            .collect()
    }

    /// The live texts holding `key` when it is frequent.
    pub fn docs_of(&self, key: u64) -> Option<u32> {
        self.frequent
            .binary_search_by_key(&key, |f| f.key)
            .ok()
            .map(|i| self.frequent[i].docs)
    }

    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; HEAD_LEN];
        Enc::new(&mut out)
            .bytes(MAGIC)
            .u32(STATE_VERSION)
            .skip(4)
            .u64(self.generation)
            .u64(self.live_texts)
            .u32(self.min_docs)
            .skip(4)
            .u64(self.fraction.to_bits())
            .u64(self.frequent.len() as u64)
            .u64(self.dead.len() as u64);
        for f in &self.frequent {
            f.push_to(&mut out);
        }
        for d in &self.dead {
            let at = out.len();
            out.resize(at + DEAD_LEN, 0);
            let mut name = [0u8; MAX_SEGMENT_NAME];
            let n = d.segment.len().min(MAX_SEGMENT_NAME);
            name[..n].copy_from_slice(&d.segment.as_bytes()[..n]);
            Enc::new(&mut out[at..])
                .bytes(&name)
                .u32(d.file)
                .u8(match d.kind {
                    DeadKind::Superseded => 1,
                    DeadKind::Removed => 2,
                })
                .skip(3)
                .u64(d.generation);
        }
        let sum = super::wire::checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out.extend_from_slice(END);
        out
    }

    /// Decode and check.
    ///
    /// # Errors
    /// A wrong magic, version or checksum, truncation, unsorted records.
    pub fn decode(b: &[u8]) -> Result<State, IndexError> {
        let bad = |detail: &str| IndexError::Corrupt {
            section: "state",
            detail: detail.to_string(),
        };
        if b.len() < HEAD_LEN + 16 || &b[b.len() - 8..] != END || &b[..8] != MAGIC {
            return Err(bad(
                "not a leakprint state file (magic missing or truncated)",
            ));
        }
        let body = &b[..b.len() - 16];
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&b[b.len() - 16..b.len() - 8]);
        if super::wire::checksum(body) != u64::from_le_bytes(sum) {
            return Err(IndexError::Checksum { section: "state" });
        }
        let mut d = Dec::new(&body[..HEAD_LEN]);
        let _ = d.array::<8>();
        let version = d.u32();
        if version != STATE_VERSION {
            return Err(IndexError::UnsupportedVersion {
                found: version,
                supported: STATE_VERSION,
            });
        }
        d.reserved(4);
        let generation = d.u64();
        let live_texts = d.u64();
        let min_docs = d.u32();
        d.reserved(4);
        let fraction = f64::from_bits(d.u64());
        let nf = d.u64();
        let nd = d.u64();
        if !d.finish() || !(0.0..=1.0).contains(&fraction) {
            return Err(bad(
                "header has reserved bytes set or a fraction outside [0, 1]",
            ));
        }
        let need = nf
            .checked_mul(Frequent::LEN as u64)
            .and_then(|a| {
                nd.checked_mul(DEAD_LEN as u64)
                    .and_then(|b| a.checked_add(b))
            })
            .and_then(|x| x.checked_add(HEAD_LEN as u64));
        if need != Some(body.len() as u64) {
            return Err(bad("record counts do not match the size"));
        }
        let mut at = HEAD_LEN;
        let mut frequent = Vec::with_capacity(nf as usize);
        for _ in 0..nf {
            let f = Frequent::decode(&body[at..at + Frequent::LEN])
                .ok_or_else(|| bad("frequent record has reserved bytes set"))?;
            if f.docs < min_docs || frequent.last().is_some_and(|p: &Frequent| p.key >= f.key) {
                return Err(bad("frequent keys unsorted or below the minimum count"));
            }
            frequent.push(f);
            at += Frequent::LEN;
        }
        let mut dead = Vec::with_capacity(nd as usize);
        for _ in 0..nd {
            let mut d = Dec::new(&body[at..at + DEAD_LEN]);
            let name = d.array::<MAX_SEGMENT_NAME>();
            let file = d.u32();
            let kind = match d.u8() {
                1 => DeadKind::Superseded,
                2 => DeadKind::Removed,
                _ => return Err(bad("unknown dead-file kind")),
            };
            d.reserved(3);
            let generation = d.u64();
            let n = name
                .iter()
                .position(|&c| c == 0)
                .unwrap_or(MAX_SEGMENT_NAME);
            let segment = std::str::from_utf8(&name[..n])
                .map_err(|_| bad("segment name is not UTF-8"))?
                .to_string();
            if !d.finish() || name[n..].iter().any(|&c| c != 0) {
                return Err(bad("dead record has reserved bytes set"));
            }
            dead.push(DeadFile {
                segment,
                file,
                kind,
                generation,
            });
            at += DEAD_LEN;
        }
        if dead.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("dead records unsorted or repeated"));
        }
        Ok(State {
            generation,
            live_texts,
            min_docs,
            fraction,
            frequent,
            dead,
        })
    }

    /// Read a state file.
    ///
    /// # Errors
    /// I/O errors or [`State::decode`]'s.
    pub fn read(path: &Path) -> Result<State, IndexError> {
        let b = std::fs::read(path).map_err(|e| IndexError::io(path, e))?;
        State::decode(&b).map_err(|e| IndexError::InSegment {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Write a state file atomically.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&self, path: &Path) -> Result<(), IndexError> {
        let mut f = AtomicFile::create(path).map_err(|e| IndexError::io(path, e))?;
        std::io::Write::write_all(&mut f, &self.encode()).map_err(|e| IndexError::io(path, e))?;
        crate::failpoint::hit("state-before-commit");
        f.commit().map_err(|e| IndexError::io(path, e))?;
        crate::failpoint::hit("state-after-commit");
        Ok(())
    }
}

/// `max(min_docs, ceil(fraction x live_texts))`.
pub fn common_docs(live_texts: u64, min_docs: u32, fraction: f64) -> u32 {
    ((fraction * live_texts as f64).ceil() as u64)
        .max(u64::from(min_docs))
        .min(u64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        State {
            generation: 7,
            live_texts: 1000,
            min_docs: 32,
            fraction: 0.005,
            frequent: vec![
                Frequent { key: 3, docs: 32 },
                Frequent { key: 9, docs: 400 },
            ],
            dead: vec![DeadFile {
                segment: "seg-000001-001.lps".into(),
                file: 4,
                kind: DeadKind::Removed,
                generation: 6,
            }],
        }
    }

    #[test]
    fn round_trip_and_common_keys() {
        let s = sample();
        let b = s.encode();
        assert_eq!(State::decode(&b).unwrap(), s);
        assert_eq!(s.common_docs(), 32);
        assert_eq!(s.common_keys(), vec![3, 9]);
        let mut big = s.clone();
        big.live_texts = 10_000;
        assert_eq!(big.common_docs(), 50);
        assert_eq!(big.common_keys(), vec![9]);
        assert_eq!(s.docs_of(9), Some(400));
        assert_eq!(s.docs_of(4), None);
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let b = sample().encode();
        for i in 0..b.len() {
            let mut c = b.clone();
            c[i] ^= 0x40;
            assert!(State::decode(&c).is_err(), "byte {i} flipped was accepted");
        }
        for n in 0..b.len() {
            assert!(State::decode(&b[..n]).is_err(), "truncated to {n} accepted");
        }
    }
}
