//! Reading one segment: zero-copy over its bytes, every offset checked.
//!
//! [`Segment::from_storage`] validates the header, the section table and
//! the size of every fixed-record section in O(1) of the file size. Each
//! accessor re-checks the offsets it reads (they come from the file) and
//! returns [`IndexError::Corrupt`] rather than panicking; [`Segment::verify`]
//! additionally checks every checksum and cross-reference.
//!
//! Lookup of a fingerprint key costs one read of the bucket directory and
//! one scan of a bucket of a few 6-byte postings (about one cache miss each).

use std::ops::Range;

use super::format::*;
use super::IndexError;
use crate::extract::Format;
use crate::normalize::{self, Normalized};

/// Owned bytes a segment can live in: a `Vec<u8>`, a mapping, a static.
pub type Storage = Box<dyn AsRef<[u8]> + Send + Sync>;

/// Counts and parameters from the meta section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Input files recorded (indexed, binary or skipped).
    pub files: u32,
    /// Text parts.
    pub parts: u32,
    /// Postings in the fingerprint table.
    pub postings: u64,
    /// Bits of the bucket directory.
    pub dir_bits: u32,
    /// Uncompressed size of a text block.
    pub block_size: u32,
    /// Bytes of extracted text stored.
    pub text_bytes: u64,
    /// Normalized bytes fingerprinted (duplicates excluded).
    pub norm_bytes: u64,
    /// Text blocks.
    pub blocks: u32,
    /// Checkpoint records.
    pub checkpoints: u32,
    /// Fingerprints marked common.
    pub common: u32,
    /// Chunk records.
    pub chunks: u32,
    /// FastCDC minimum chunk size.
    pub chunk_min: u32,
    /// FastCDC average chunk size.
    pub chunk_avg: u32,
    /// FastCDC maximum chunk size.
    pub chunk_max: u32,
    /// A fingerprint found in at least this many parts was marked common.
    pub common_docs: u32,
}

impl Meta {
    /// Encode as the meta section.
    pub fn encode(&self) -> [u8; META_LEN] {
        let mut m = [0u8; META_LEN];
        m[0..4].copy_from_slice(&self.files.to_le_bytes());
        m[4..8].copy_from_slice(&self.parts.to_le_bytes());
        m[8..16].copy_from_slice(&self.postings.to_le_bytes());
        m[16..20].copy_from_slice(&self.dir_bits.to_le_bytes());
        m[20..24].copy_from_slice(&self.block_size.to_le_bytes());
        m[24..32].copy_from_slice(&self.text_bytes.to_le_bytes());
        m[32..40].copy_from_slice(&self.norm_bytes.to_le_bytes());
        m[40..44].copy_from_slice(&self.blocks.to_le_bytes());
        m[44..48].copy_from_slice(&self.checkpoints.to_le_bytes());
        m[48..52].copy_from_slice(&self.common.to_le_bytes());
        m[52..56].copy_from_slice(&self.chunks.to_le_bytes());
        m[56..60].copy_from_slice(&self.chunk_min.to_le_bytes());
        m[60..64].copy_from_slice(&self.chunk_avg.to_le_bytes());
        m[64..68].copy_from_slice(&self.chunk_max.to_le_bytes());
        m[68..72].copy_from_slice(&self.common_docs.to_le_bytes());
        m
    }

    fn decode(b: &[u8]) -> Option<Meta> {
        if b.len() != META_LEN || b[72..].iter().any(|&x| x != 0) {
            return None;
        }
        Some(Meta {
            files: u32_at(b, 0)?,
            parts: u32_at(b, 4)?,
            postings: u64_at(b, 8)?,
            dir_bits: u32_at(b, 16)?,
            block_size: u32_at(b, 20)?,
            text_bytes: u64_at(b, 24)?,
            norm_bytes: u64_at(b, 32)?,
            blocks: u32_at(b, 40)?,
            checkpoints: u32_at(b, 44)?,
            common: u32_at(b, 48)?,
            chunks: u32_at(b, 52)?,
            chunk_min: u32_at(b, 56)?,
            chunk_avg: u32_at(b, 60)?,
            chunk_max: u32_at(b, 64)?,
            common_docs: u32_at(b, 68)?,
        })
    }
}

/// What happened to an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileStatus {
    /// Text extracted and fingerprinted (maybe with warnings in `reason`).
    Indexed,
    /// No text: only chunks and the file hash were recorded.
    Binary,
    /// Not read at all; `reason` says why.
    Skipped,
}

impl FileStatus {
    fn from_u8(v: u8) -> Option<FileStatus> {
        match v {
            0 => Some(FileStatus::Indexed),
            1 => Some(FileStatus::Binary),
            2 => Some(FileStatus::Skipped),
            _ => None,
        }
    }
    /// The byte written in the file table.
    pub fn to_u8(self) -> u8 {
        match self {
            FileStatus::Indexed => 0,
            FileStatus::Binary => 1,
            FileStatus::Skipped => 2,
        }
    }
    /// A lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            FileStatus::Indexed => "indexed",
            FileStatus::Binary => "binary",
            FileStatus::Skipped => "skipped",
        }
    }
}

/// One input file, as the file table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo<'a> {
    /// The path as reached from the `index` argument.
    pub path: &'a str,
    /// Bytes read.
    pub size: u64,
    /// blake3 of the bytes read (zero when skipped).
    pub blake3: [u8; 32],
    /// The format it was read as (`None` when skipped).
    pub format: Option<Format>,
    /// Indexed, binary or skipped.
    pub status: FileStatus,
    /// Why it was skipped, or warnings (parts skipped, text cut); may be empty.
    pub reason: &'a str,
    /// Its parts: indices into the part table.
    pub parts: Range<u32>,
    /// Chunks recorded for it.
    pub chunks: u32,
    /// Bytes of text extracted from it.
    pub text_bytes: u64,
    /// Fingerprints its parts contributed.
    pub fingerprints: u64,
}

/// One text part (a document), as the part table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo<'a> {
    /// Part name inside its file (empty for the file's own text).
    pub name: &'a str,
    /// Index of its file.
    pub file: u32,
    /// Format the part was read as.
    pub format: Format,
    /// Offset of its text in the segment's text arena.
    pub text_offset: u64,
    /// Bytes of extracted text.
    pub text_len: u64,
    /// First normalized position of the part in the segment.
    pub norm_base: u32,
    /// Normalized bytes (0 for a duplicate).
    pub norm_len: u32,
    /// Its checkpoints.
    pub checkpoints: Range<u32>,
    /// The earlier part with the same text, if this one is a duplicate.
    pub duplicate_of: Option<u32>,
    /// Fingerprints it contributed.
    pub fingerprints: u32,
}

/// A window of a part's text, with its normalization.
#[derive(Debug)]
pub struct TextWindow {
    /// Source text of the window.
    pub text: String,
    /// Byte offset of `text` in the part's text.
    pub text_start: usize,
    /// Normalized window; offsets are relative to the part's text.
    pub normalized: Normalized,
    /// Normalized position (in the part) of `normalized.text[0]`.
    pub norm_start: usize,
}

/// A chunk found by hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHit {
    /// The file holding it.
    pub file: u32,
    /// Offset in the file.
    pub offset: u64,
    /// Length.
    pub len: u32,
}

/// Decoded text blocks kept between reads, with a reused zstd context.
///
/// The matcher keeps one per thread: verifying candidates reads the same
/// popular documents again and again, and creating a decompression context
/// and zeroing a buffer for every block cost more than decoding it.
pub struct BlockCache {
    dctx: Option<zstd::bulk::Decompressor<'static>>,
    /// (segment id, block number, decoded bytes)
    entries: Vec<(u64, u32, Vec<u8>)>,
    capacity: usize,
    next: usize,
}

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockCache")
            .field("blocks", &self.entries.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl BlockCache {
    /// A cache of up to `capacity` decoded blocks (0 keeps only the block
    /// being read).
    pub fn new(capacity: usize) -> BlockCache {
        BlockCache {
            dctx: zstd::bulk::Decompressor::new().ok(),
            entries: Vec::new(),
            capacity: capacity.max(1),
            next: 0,
        }
    }

    /// A slot to decode into: a free one, or the oldest (FIFO).
    fn slot(&mut self) -> usize {
        if self.entries.len() < self.capacity {
            self.entries.push((u64::MAX, u32::MAX, Vec::new()));
            return self.entries.len() - 1;
        }
        let s = self.next;
        self.next = (self.next + 1) % self.capacity;
        // Invalidate first: if decoding fails the slot must not look valid.
        self.entries[s].0 = u64::MAX;
        s
    }
}

/// A validated segment over owned bytes.
pub struct Segment {
    storage: Storage,
    layout: Layout,
    meta: Meta,
    r: Ranges,
    /// The parts' first global normalized positions, copied out of the
    /// part records on the first [`Segment::locate`]: 4 bytes per part in
    /// one array, so that the binary search of every posting stays in the
    /// caches instead of touching a 64-byte record per probe.
    bases: std::sync::OnceLock<Vec<u32>>,
    /// Unique in this process: the key of its blocks in a [`BlockCache`].
    /// (Not the address of its bytes: a segment dropped and another opened
    /// may get the same address, and the cache would serve the old text.)
    id: u64,
}

/// Source of [`Segment`] ids.
static NEXT_SEGMENT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Section ranges, resolved once at open.
#[derive(Debug, Clone)]
struct Ranges {
    strings: Range<usize>,
    files: Range<usize>,
    parts: Range<usize>,
    blocks: Range<usize>,
    text: Range<usize>,
    ckpts: Range<usize>,
    dir: Range<usize>,
    postings: Range<usize>,
    common: Range<usize>,
    chunks: Range<usize>,
    file_hashes: Range<usize>,
}

fn corrupt(section: &'static str, detail: impl Into<String>) -> IndexError {
    IndexError::Corrupt {
        section,
        detail: detail.into(),
    }
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("bytes", &self.bytes().len())
            .field("meta", &self.meta)
            .finish()
    }
}

/// Largest directory accepted (2^32 buckets would be 16 GiB).
const MAX_DIR_BITS: u32 = 31;

/// Largest text block accepted (the builder writes 64 KiB blocks). Bounds
/// the buffer one forged block record can make a reader allocate.
const MAX_BLOCK_SIZE: u32 = 1 << 20;

impl Segment {
    /// Validate `storage` as a segment: header, table, section sizes (O(1)).
    ///
    /// # Errors
    /// [`IndexError`] naming what is wrong and where.
    pub fn from_storage(storage: Storage) -> Result<Segment, IndexError> {
        let b = (*storage).as_ref();
        let layout = decode_layout(b)?;
        let get = |k: SectionKind| layout.range(k);
        let meta_r = get(SectionKind::Meta)?;
        let meta = Meta::decode(&b[meta_r])
            .ok_or_else(|| corrupt("meta", "bad size or reserved bytes set"))?;
        let r = Ranges {
            strings: get(SectionKind::Strings)?,
            files: get(SectionKind::Files)?,
            parts: get(SectionKind::Parts)?,
            blocks: get(SectionKind::TextBlocks)?,
            text: get(SectionKind::TextData)?,
            ckpts: get(SectionKind::Checkpoints)?,
            dir: get(SectionKind::FpDirectory)?,
            postings: get(SectionKind::FpPostings)?,
            common: get(SectionKind::Common)?,
            chunks: get(SectionKind::Chunks)?,
            file_hashes: get(SectionKind::FileHashes)?,
        };
        let expect = |what: &'static str, range: &Range<usize>, count: u64, rec: usize| {
            let want = count.checked_mul(rec as u64);
            if want != Some(range.len() as u64) {
                Err(corrupt(
                    what,
                    format!(
                        "{} bytes do not hold {count} records of {rec} bytes",
                        range.len()
                    ),
                ))
            } else {
                Ok(())
            }
        };
        expect("files", &r.files, meta.files as u64, FILE_RECORD_LEN)?;
        expect("parts", &r.parts, meta.parts as u64, PART_RECORD_LEN)?;
        expect(
            "text blocks",
            &r.blocks,
            meta.blocks as u64,
            BLOCK_RECORD_LEN,
        )?;
        expect(
            "checkpoints",
            &r.ckpts,
            meta.checkpoints as u64,
            CHECKPOINT_RECORD_LEN,
        )?;
        expect(
            "fingerprint postings",
            &r.postings,
            meta.postings,
            POSTING_LEN,
        )?;
        expect("common fingerprints", &r.common, meta.common as u64, 8)?;
        expect("chunks", &r.chunks, meta.chunks as u64, CHUNK_RECORD_LEN)?;
        expect("file hashes", &r.file_hashes, meta.files as u64, 4)?;
        if meta.dir_bits > MAX_DIR_BITS {
            return Err(corrupt(
                "meta",
                format!("directory of 2^{} buckets is too large", meta.dir_bits),
            ));
        }
        expect(
            "fingerprint directory",
            &r.dir,
            (1u64 << meta.dir_bits) + 1,
            4,
        )?;
        if meta.block_size == 0 || meta.block_size > MAX_BLOCK_SIZE {
            return Err(corrupt(
                "meta",
                format!(
                    "text block size {} outside [1, {MAX_BLOCK_SIZE}]",
                    meta.block_size
                ),
            ));
        }
        // Chunk parameters are handed to the chunker when matching files;
        // out-of-range values would make it panic.
        {
            use fastcdc::v2020 as cdc;
            let ok = (cdc::MINIMUM_MIN..=cdc::MINIMUM_MAX).contains(&meta.chunk_min)
                && (cdc::AVERAGE_MIN..=cdc::AVERAGE_MAX).contains(&meta.chunk_avg)
                && (cdc::MAXIMUM_MIN..=cdc::MAXIMUM_MAX).contains(&meta.chunk_max)
                && meta.chunk_min <= meta.chunk_avg
                && meta.chunk_avg <= meta.chunk_max;
            if !ok {
                return Err(corrupt(
                    "meta",
                    format!(
                        "chunk sizes {}/{}/{} outside the chunker's ranges",
                        meta.chunk_min, meta.chunk_avg, meta.chunk_max
                    ),
                ));
            }
        }
        // The arena cannot hold more text than its blocks do, so that no
        // accessor sizes a buffer from a forged total.
        if meta.text_bytes > meta.blocks as u64 * meta.block_size as u64 {
            return Err(corrupt(
                "meta",
                format!(
                    "{} bytes of text do not fit in {} blocks of {} bytes",
                    meta.text_bytes, meta.blocks, meta.block_size
                ),
            ));
        }
        Ok(Segment {
            storage,
            layout,
            meta,
            r,
            bases: std::sync::OnceLock::new(),
            id: NEXT_SEGMENT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// The segment's bytes.
    pub fn bytes(&self) -> &[u8] {
        (*self.storage).as_ref()
    }

    /// Parameters from the header.
    pub fn params(&self) -> HeaderParams {
        self.layout.params
    }

    /// The byte range of a section (validated at open).
    pub(crate) fn section_range(&self, kind: SectionKind) -> Range<usize> {
        self.layout.range(kind).unwrap_or(0..0)
    }

    /// Counts from the meta section.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Sizes of the sections, for `info`.
    pub fn section_sizes(&self) -> Vec<(SectionKind, u64)> {
        SectionKind::ALL
            .iter()
            .filter_map(|k| self.layout.sections[*k as usize].map(|e| (*k, e.len)))
            .collect()
    }

    fn string(&self, off: u32, len: u32, what: &'static str) -> Result<&str, IndexError> {
        let s = &self.bytes()[self.r.strings.clone()];
        let start = off as usize;
        let bytes = start
            .checked_add(len as usize)
            .and_then(|end| s.get(start..end))
            .ok_or_else(|| {
                corrupt(
                    what,
                    format!("string at {off}+{len} outside the string table"),
                )
            })?;
        std::str::from_utf8(bytes).map_err(|_| corrupt(what, "string is not UTF-8"))
    }

    fn record(
        &self,
        range: &Range<usize>,
        i: u32,
        len: usize,
        what: &'static str,
    ) -> Result<&[u8], IndexError> {
        let start = range.start + i as usize * len;
        if i as usize >= range.len() / len {
            return Err(corrupt(what, format!("record {i} out of range")));
        }
        Ok(&self.bytes()[start..start + len])
    }

    /// Number of files.
    pub fn file_count(&self) -> u32 {
        self.meta.files
    }

    /// Number of parts.
    pub fn part_count(&self) -> u32 {
        self.meta.parts
    }

    /// The file record `i`.
    ///
    /// # Errors
    /// When `i` is out of range or the record is corrupt.
    pub fn file(&self, i: u32) -> Result<FileInfo<'_>, IndexError> {
        let rec = self.record(&self.r.files, i, FILE_RECORD_LEN, "files")?;
        let u32a = |o| u32_at(rec, o).unwrap_or(0);
        let u64a = |o| u64_at(rec, o).unwrap_or(0);
        let status = FileStatus::from_u8(rec[49])
            .ok_or_else(|| corrupt("files", format!("file {i}: unknown status {}", rec[49])))?;
        let format =
            if status == FileStatus::Skipped {
                None
            } else {
                Some(decode_format(rec[48]).ok_or_else(|| {
                    corrupt("files", format!("file {i}: unknown format {}", rec[48]))
                })?)
            };
        let first = u32a(60);
        let n = u32a(64);
        let end = first
            .checked_add(n)
            .filter(|&e| e <= self.meta.parts)
            .ok_or_else(|| corrupt("files", format!("file {i}: parts {first}+{n} out of range")))?;
        Ok(FileInfo {
            path: self.string(u32a(0), u32a(4), "files")?,
            size: u64a(8),
            blake3: rec[16..48].try_into().expect("32 bytes"),
            format,
            status,
            reason: self.string(u32a(52), u32a(56), "files")?,
            parts: first..end,
            chunks: u32a(68),
            text_bytes: u64a(72),
            fingerprints: u64a(80),
        })
    }

    /// The part record `i`.
    ///
    /// # Errors
    /// When `i` is out of range or the record is corrupt.
    pub fn part(&self, i: u32) -> Result<PartInfo<'_>, IndexError> {
        let rec = self.record(&self.r.parts, i, PART_RECORD_LEN, "parts")?;
        let u32a = |o| u32_at(rec, o).unwrap_or(0);
        let u64a = |o| u64_at(rec, o).unwrap_or(0);
        let format = decode_format(rec[12])
            .ok_or_else(|| corrupt("parts", format!("part {i}: unknown format {}", rec[12])))?;
        let text_offset = u64a(16);
        let text_len = u64a(24);
        if text_offset
            .checked_add(text_len)
            .is_none_or(|e| e > self.meta.text_bytes)
        {
            return Err(corrupt(
                "parts",
                format!("part {i}: text {text_offset}+{text_len} outside the text arena"),
            ));
        }
        let first = u32a(40);
        let n = u32a(44);
        let ck_end = first
            .checked_add(n)
            .filter(|&e| e <= self.meta.checkpoints)
            .ok_or_else(|| {
                corrupt(
                    "parts",
                    format!("part {i}: checkpoints {first}+{n} out of range"),
                )
            })?;
        let dup = u32a(48);
        let norm_base = u32a(32);
        let norm_len = u32a(36);
        if (norm_base as u64 + norm_len as u64) > self.meta.norm_bytes {
            return Err(corrupt(
                "parts",
                format!("part {i}: normalized range past the segment's end"),
            ));
        }
        Ok(PartInfo {
            name: self.string(u32a(0), u32a(4), "parts")?,
            file: u32a(8),
            format,
            text_offset,
            text_len,
            norm_base,
            norm_len,
            checkpoints: first..ck_end,
            duplicate_of: (dup != u32::MAX).then_some(dup),
            fingerprints: u32a(52),
        })
    }

    /// The full source path of a part: `file path` or `file path#part name`.
    ///
    /// # Errors
    /// When the records are corrupt.
    pub fn part_path(&self, part: u32) -> Result<String, IndexError> {
        let p = self.part(part)?;
        let f = self.file(p.file)?;
        Ok(if p.name.is_empty() {
            f.path.to_owned()
        } else {
            format!("{}#{}", f.path, p.name)
        })
    }

    /// The remixed-key fingerprint postings for `key`: global normalized positions.
    pub fn postings(&self, key: u64) -> Postings<'_> {
        self.postings_of(self.bucket(key))
    }

    /// Where the postings of `key` are: its bucket's records and the
    /// fragment that tells its own records apart. Reads one directory
    /// entry.
    pub fn bucket(&self, key: u64) -> Bucket {
        let bits = self.meta.dir_bits;
        let bucket = if bits == 0 {
            0
        } else {
            (key >> (64 - bits)) as usize
        };
        let frag = fragment(key, bits);
        let dir = &self.bytes()[self.r.dir.clone()];
        let lo = u32_at(dir, bucket * 4).unwrap_or(0) as usize;
        let hi = u32_at(dir, bucket * 4 + 4).unwrap_or(0) as usize;
        let len = self.r.postings.len();
        let lo_b = lo.saturating_mul(POSTING_LEN).min(len);
        let hi_b = hi.saturating_mul(POSTING_LEN).min(len).max(lo_b);
        Bucket {
            // Section lengths are checked to fit in u32 at open (u32 record
            // counts times POSTING_LEN would not): keep usize here.
            lo: lo_b,
            hi: hi_b,
            frag,
        }
    }

    /// [`Segment::bucket`] for many keys at once, appended to `out`, and
    /// the first cache line of each bucket's records read. The reads of
    /// different keys do not depend on each other, so in this tight loop
    /// the processor overlaps their cache misses (on a large index each
    /// lookup is two misses, directory and records, that would otherwise
    /// be paid one after the other): the matcher looks up the k-grams of
    /// a query this way.
    pub fn buckets(&self, keys: &[u64], out: &mut Vec<Bucket>) {
        let start = out.len();
        out.extend(keys.iter().map(|&k| self.bucket(k)));
        let p = &self.bytes()[self.r.postings.clone()];
        let mut touched = 0u8;
        for b in &out[start..] {
            if b.lo < b.hi {
                touched ^= p[b.lo];
            }
        }
        std::hint::black_box(touched);
    }

    /// The postings in a bucket found by [`Segment::bucket`] on this segment.
    pub fn postings_of(&self, b: Bucket) -> Postings<'_> {
        let p = &self.bytes()[self.r.postings.clone()];
        let hi = b.hi.min(p.len());
        let lo = b.lo.min(hi);
        Postings {
            recs: &p[lo..hi],
            frag: b.frag,
        }
    }

    /// Whether `key` was marked common (found in too many parts).
    pub fn is_common(&self, key: u64) -> bool {
        let c = &self.bytes()[self.r.common.clone()];
        let n = c.len() / 8;
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let v = u64_at(c, mid * 8).unwrap_or(u64::MAX);
            match v.cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// The part holding global normalized position `pos`, and the offset in it.
    pub fn locate(&self, pos: u32) -> Option<(u32, u32)> {
        let parts = &self.bytes()[self.r.parts.clone()];
        let bases = self.bases.get_or_init(|| {
            (0..self.meta.parts as usize)
                .map(|i| u32_at(parts, i * PART_RECORD_LEN + 32).unwrap_or(u32::MAX))
                .collect()
        });
        // Last part with base <= pos.
        let i = bases.partition_point(|&b| b <= pos).checked_sub(1)?;
        // A forged index may have unsorted bases: then `b` may exceed `pos`.
        let off = pos.checked_sub(bases[i])?;
        let len = u32_at(parts, i * PART_RECORD_LEN + 36)?;
        (off < len).then_some((i as u32, off))
    }

    /// Decompress bytes `range` of the text arena.
    ///
    /// # Errors
    /// When the range or a block is outside the arena, or a block does not
    /// decompress to its recorded size.
    pub fn arena(&self, range: Range<u64>) -> Result<Vec<u8>, IndexError> {
        self.arena_cached(range, &mut BlockCache::new(0))
    }

    /// [`Segment::arena`], keeping decoded blocks in `cache` for later calls.
    ///
    /// # Errors
    /// As [`Segment::arena`].
    pub fn arena_cached(
        &self,
        range: Range<u64>,
        cache: &mut BlockCache,
    ) -> Result<Vec<u8>, IndexError> {
        if range.start > range.end || range.end > self.meta.text_bytes {
            return Err(corrupt(
                "text blocks",
                format!("text range {range:?} outside the arena"),
            ));
        }
        let bs = self.meta.block_size as u64;
        // Grown as blocks decompress: the range is bounded by the meta, but
        // reserve no more than a few blocks up front.
        let want = (range.end - range.start).min(4 * self.meta.block_size as u64);
        let mut out = Vec::with_capacity(want as usize);
        if range.is_empty() {
            return Ok(out);
        }
        let first = range.start / bs;
        let last = (range.end - 1) / bs;
        for blk in first..=last {
            let buf = self.block(blk as u32, cache)?;
            let blk_start = blk * bs;
            let a = range.start.max(blk_start) - blk_start;
            let b = (range.end.min(blk_start + buf.len() as u64)) - blk_start;
            let piece = buf.get(a as usize..b as usize).ok_or_else(|| {
                corrupt(
                    "text blocks",
                    format!("block {blk} shorter than the arena says"),
                )
            })?;
            out.extend_from_slice(piece);
        }
        Ok(out)
    }

    /// Text block `i`, decoded, from the cache or decompressed into it.
    fn block<'c>(&self, i: u32, cache: &'c mut BlockCache) -> Result<&'c [u8], IndexError> {
        let seg = self.id;
        if let Some(at) = cache.entries.iter().position(|e| e.0 == seg && e.1 == i) {
            return Ok(&cache.entries[at].2);
        }
        let rec = self.record(&self.r.blocks, i, BLOCK_RECORD_LEN, "text blocks")?;
        let off = u64_at(rec, 0).unwrap_or(u64::MAX);
        let clen = u32_at(rec, 8).unwrap_or(0) as u64;
        let raw = u32_at(rec, 12).unwrap_or(0) as usize;
        if raw as u64 > self.meta.block_size as u64 {
            return Err(corrupt(
                "text blocks",
                format!("block {i} claims {raw} bytes, more than the block size"),
            ));
        }
        let data = &self.bytes()[self.r.text.clone()];
        let comp = off
            .checked_add(clen)
            .and_then(|end| data.get(off as usize..end as usize))
            .ok_or_else(|| {
                corrupt(
                    "text data",
                    format!("block {i} at {off}+{clen} outside the text data"),
                )
            })?;
        let slot = cache.slot();
        let mut buf = std::mem::take(&mut cache.entries[slot].2);
        buf.resize(raw, 0);
        let res = match cache.dctx.as_mut() {
            Some(d) => d.decompress_to_buffer(comp, &mut buf[..]),
            None => zstd::bulk::decompress_to_buffer(comp, &mut buf[..]),
        };
        let n =
            res.map_err(|e| corrupt("text data", format!("block {i} does not decompress: {e}")))?;
        if n != raw {
            return Err(corrupt(
                "text data",
                format!("block {i} decompressed to {n} bytes, expected {raw}"),
            ));
        }
        cache.entries[slot] = (seg, i, buf);
        Ok(&cache.entries[slot].2)
    }

    /// The whole extracted text of a part.
    ///
    /// # Errors
    /// When the records or the text are corrupt.
    pub fn part_text(&self, part: u32) -> Result<String, IndexError> {
        let p = self.part(part)?;
        let bytes = self.arena(p.text_offset..p.text_offset + p.text_len)?;
        String::from_utf8(bytes)
            .map_err(|_| corrupt("text data", format!("text of part {part} is not UTF-8")))
    }

    fn checkpoint(&self, i: u32) -> Result<(u32, u32), IndexError> {
        let rec = self.record(&self.r.ckpts, i, CHECKPOINT_RECORD_LEN, "checkpoints")?;
        Ok((u32_at(rec, 0).unwrap_or(0), u32_at(rec, 4).unwrap_or(0)))
    }

    /// The text and normalization of a part around normalized range `norm`
    /// (clamped to the part), decompressing only the blocks needed.
    ///
    /// # Errors
    /// When the records or the text are corrupt.
    pub fn window(&self, part: u32, norm: Range<usize>) -> Result<TextWindow, IndexError> {
        self.window_cached(part, norm, &mut BlockCache::new(0))
    }

    /// [`Segment::window`], keeping decoded blocks in `cache`.
    ///
    /// # Errors
    /// As [`Segment::window`].
    pub fn window_cached(
        &self,
        part: u32,
        norm: Range<usize>,
        cache: &mut BlockCache,
    ) -> Result<TextWindow, IndexError> {
        let p = self.part(part)?;
        let part = p.duplicate_of.map_or(Ok(p.clone()), |d| self.part(d))?;
        let norm_end = norm.end.min(part.norm_len as usize);
        let norm_start = norm.start.min(norm_end);
        // Checkpoints: (normalized position, text offset), increasing; the
        // first is (0, 0). Find the last at or before norm_start and the
        // first at or after norm_end.
        let cks = part.checkpoints.clone();
        let (mut lo, mut hi) = (cks.start, cks.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.checkpoint(mid)?.0 as usize <= norm_start {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let (ck_norm, ck_text) = if lo > cks.start {
            self.checkpoint(lo - 1)?
        } else {
            (0, 0)
        };
        let mut end_text = part.text_len;
        let mut j = lo;
        while j < cks.end {
            let (n, t) = self.checkpoint(j)?;
            if n as usize >= norm_end {
                end_text = t as u64;
                break;
            }
            j += 1;
        }
        if ck_text as u64 > end_text || end_text > part.text_len || ck_norm as usize > norm_start {
            return Err(corrupt(
                "checkpoints",
                format!("checkpoints of part {part:?} are not increasing"),
            ));
        }
        let raw = self.arena_cached(
            part.text_offset + ck_text as u64..part.text_offset + end_text,
            cache,
        )?;
        let text = String::from_utf8(raw).map_err(|_| {
            corrupt(
                "text data",
                "window is not UTF-8 (checkpoint inside a character)",
            )
        })?;
        let mut normalized = Normalized {
            text: String::new(),
            offsets: Vec::new(),
        };
        normalize::normalize_into(
            &text,
            ck_text,
            &mut normalized.text,
            &mut normalized.offsets,
        );
        // Trim to [norm_start, norm_end), widened to whole normalized
        // characters: positions come from k-gram hits and diagonals, which
        // count bytes and may fall inside a multi-byte character.
        let t = &normalized.text;
        let b = (norm_end - ck_norm as usize).min(t.len());
        let a = (norm_start - ck_norm as usize).min(b);
        let a = crate::extract::floor_char_boundary(t, a);
        let b = ceil_char_boundary(t, b);
        normalized.text = normalized.text[a..b].to_owned();
        normalized.offsets = normalized.offsets[a..b].to_vec();
        Ok(TextWindow {
            text,
            text_start: ck_text as usize,
            normalized,
            norm_start: ck_norm as usize + a,
        })
    }

    /// Chunks with this blake3 hash.
    pub fn find_chunk(&self, hash: &[u8; 32]) -> Vec<ChunkHit> {
        let c = &self.bytes()[self.r.chunks.clone()];
        let n = c.len() / CHUNK_RECORD_LEN;
        let key = |i: usize| &c[i * CHUNK_RECORD_LEN..i * CHUNK_RECORD_LEN + 32];
        let start = partition_point(n, |i| key(i) < &hash[..]);
        (start..n)
            .take_while(|&i| key(i) == &hash[..])
            .map(|i| {
                let r = &c[i * CHUNK_RECORD_LEN..(i + 1) * CHUNK_RECORD_LEN];
                ChunkHit {
                    file: u32_at(r, 32).unwrap_or(0),
                    len: u32_at(r, 36).unwrap_or(0),
                    offset: u64_at(r, 40).unwrap_or(0),
                }
            })
            .collect()
    }

    /// Files whose blake3 is `hash`.
    pub fn find_file(&self, hash: &[u8; 32]) -> Vec<u32> {
        let fh = &self.bytes()[self.r.file_hashes.clone()];
        let n = fh.len() / 4;
        let id = |i: usize| u32_at(fh, i * 4).unwrap_or(u32::MAX);
        let files = &self.bytes()[self.r.files.clone()];
        let hash_of = |f: u32| {
            let at = f as usize * FILE_RECORD_LEN + 16;
            files.get(at..at + 32)
        };
        let start = partition_point(n, |i| hash_of(id(i)).is_some_and(|h| h < &hash[..]));
        (start..n)
            .take_while(|&i| hash_of(id(i)) == Some(&hash[..]))
            .map(id)
            .collect()
    }

    /// Check every checksum and cross-reference.
    ///
    /// # Errors
    /// The first problem found, naming its section.
    pub fn verify(&self) -> Result<(), IndexError> {
        let b = self.bytes();
        let head = head_checksum(b, self.layout.table_offset, self.layout.table_count);
        if head != self.layout.head_sum {
            return Err(IndexError::Checksum {
                section: "header and section table",
            });
        }
        // Bytes between sections (alignment padding) and the footer's
        // reserved field must be zero, so that every byte is covered.
        let mut spans: Vec<(usize, usize)> = self
            .layout
            .sections
            .iter()
            .flatten()
            .map(|e| (e.offset as usize, (e.offset + e.len) as usize))
            .collect();
        spans.sort_unstable();
        let mut at = HEADER_LEN;
        for (start, end) in spans
            .iter()
            .copied()
            .chain(std::iter::once((self.layout.table_offset as usize, 0)))
        {
            if b[at..start].iter().any(|&x| x != 0) {
                return Err(corrupt(
                    "padding",
                    format!("non-zero bytes between offsets {at} and {start}"),
                ));
            }
            at = end;
        }
        let footer = &b[b.len() - FOOTER_LEN..];
        if footer[12..16].iter().any(|&x| x != 0) {
            return Err(corrupt("footer", "reserved bytes are not zero"));
        }
        for e in self.layout.sections.iter().flatten() {
            let bytes = &b[e.offset as usize..(e.offset + e.len) as usize];
            if checksum(bytes) != e.checksum {
                return Err(IndexError::Checksum {
                    section: e.kind.name(),
                });
            }
        }
        self.verify_structure()
    }

    fn verify_structure(&self) -> Result<(), IndexError> {
        let m = &self.meta;
        // Files and their part ranges.
        let mut next_part = 0u32;
        for i in 0..m.files {
            let f = self.file(i)?;
            if f.parts.start != next_part && !f.parts.is_empty() {
                return Err(corrupt(
                    "files",
                    format!("file {i}: parts do not follow the previous file's"),
                ));
            }
            next_part = next_part.max(f.parts.end);
        }
        // Parts: normalized ranges tile, checkpoints increase, files exist.
        let mut norm = 0u64;
        for i in 0..m.parts {
            let p = self.part(i)?;
            if p.file >= m.files {
                return Err(corrupt(
                    "parts",
                    format!("part {i}: file {} out of range", p.file),
                ));
            }
            if let Some(d) = p.duplicate_of {
                if d >= i || p.norm_len != 0 {
                    return Err(corrupt(
                        "parts",
                        format!("part {i}: bad duplicate reference {d}"),
                    ));
                }
            }
            if p.norm_base as u64 != norm {
                return Err(corrupt(
                    "parts",
                    format!(
                        "part {i}: normalized base {} where {norm} was expected",
                        p.norm_base
                    ),
                ));
            }
            norm += p.norm_len as u64;
            let mut prev = (0u32, 0u32);
            for c in p.checkpoints.clone() {
                let ck = self.checkpoint(c)?;
                if ck.0 < prev.0 || ck.1 < prev.1 || ck.0 > p.norm_len || ck.1 as u64 > p.text_len {
                    return Err(corrupt(
                        "checkpoints",
                        format!("part {i}: checkpoint {c} out of order"),
                    ));
                }
                prev = ck;
            }
        }
        if norm != m.norm_bytes {
            return Err(corrupt(
                "parts",
                "normalized lengths do not add up to the meta's total",
            ));
        }
        // Text blocks tile the arena and decompress.
        let bs = m.block_size as u64;
        let want_blocks = m.text_bytes.div_ceil(bs);
        if want_blocks != m.blocks as u64 {
            return Err(corrupt(
                "text blocks",
                format!("{} blocks for {} bytes of text", m.blocks, m.text_bytes),
            ));
        }
        let mut cache = BlockCache::new(0);
        for i in 0..m.blocks {
            let buf = self.block(i, &mut cache)?;
            let want = (m.text_bytes - i as u64 * bs).min(bs);
            if buf.len() as u64 != want {
                return Err(corrupt(
                    "text blocks",
                    format!("block {i} holds {} bytes, expected {want}", buf.len()),
                ));
            }
        }
        // Directory is monotone and ends at the posting count; postings
        // point inside the normalized space and are sorted within a bucket.
        let dir = &self.bytes()[self.r.dir.clone()];
        let nb = 1usize << m.dir_bits;
        let mut prev = 0u32;
        for i in 0..=nb {
            let v = u32_at(dir, i * 4).unwrap_or(0);
            if v < prev || (i == 0 && v != 0) {
                return Err(corrupt(
                    "fingerprint directory",
                    format!("entry {i} decreases"),
                ));
            }
            prev = v;
        }
        if prev as u64 != m.postings {
            return Err(corrupt(
                "fingerprint directory",
                "last entry is not the posting count",
            ));
        }
        let p = &self.bytes()[self.r.postings.clone()];
        for rec in p.chunks_exact(POSTING_LEN) {
            let pos = u32_at(rec, 2).unwrap_or(u32::MAX);
            if pos as u64 >= m.norm_bytes {
                return Err(corrupt(
                    "fingerprint postings",
                    format!("position {pos} past the normalized text"),
                ));
            }
        }
        let c = &self.bytes()[self.r.common.clone()];
        for w in c.chunks_exact(8).collect::<Vec<_>>().windows(2) {
            if u64_at(w[0], 0) >= u64_at(w[1], 0) {
                return Err(corrupt(
                    "common fingerprints",
                    "keys not strictly increasing",
                ));
            }
        }
        let ch = &self.bytes()[self.r.chunks.clone()];
        let recs: Vec<&[u8]> = ch.chunks_exact(CHUNK_RECORD_LEN).collect();
        for (i, r) in recs.iter().enumerate() {
            if u32_at(r, 32).unwrap_or(u32::MAX) >= m.files {
                return Err(corrupt("chunks", format!("chunk {i}: file out of range")));
            }
            if i > 0 && recs[i - 1][..32] > r[..32] {
                return Err(corrupt("chunks", "chunks not sorted by hash"));
            }
        }
        let fh = &self.bytes()[self.r.file_hashes.clone()];
        let mut seen = vec![false; m.files as usize];
        for i in 0..m.files as usize {
            let id = u32_at(fh, i * 4).unwrap_or(u32::MAX);
            match seen.get_mut(id as usize) {
                Some(s) if !*s => *s = true,
                _ => {
                    return Err(corrupt(
                        "file hashes",
                        format!("entry {i}: file {id} out of range or repeated"),
                    ))
                }
            }
        }
        Ok(())
    }
}

/// Bits of the key stored in a posting, just below the directory bits.
#[inline]
pub fn fragment(key: u64, dir_bits: u32) -> u16 {
    ((key << dir_bits) >> 48) as u16
}

/// Where one key's postings are in a segment: see [`Segment::bucket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Byte range of the bucket's records in the postings section.
    lo: usize,
    hi: usize,
    /// The key's fragment (the bits below the bucket number).
    frag: u16,
}

/// The postings of one key in one segment.
#[derive(Debug, Clone)]
pub struct Postings<'a> {
    recs: &'a [u8],
    frag: u16,
}

impl Iterator for Postings<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        while self.recs.len() >= POSTING_LEN {
            let (rec, rest) = self.recs.split_at(POSTING_LEN);
            self.recs = rest;
            let f = u16::from_le_bytes([rec[0], rec[1]]);
            if f == self.frag {
                return Some(u32::from_le_bytes([rec[2], rec[3], rec[4], rec[5]]));
            }
            if f > self.frag {
                // Sorted by key within the bucket: no more matches.
                self.recs = &[];
            }
        }
        None
    }
}

/// The smallest char boundary of `s` at or above `i` (`s.len()` past the end).
fn ceil_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Format byte as stored in the tables.
pub fn encode_format(f: Format) -> u8 {
    // Stored by name order in `Format::ALL_NAMES`-free way: the index of the
    // name in the list of formats known to this version.
    crate::index::format_code(f)
}

fn decode_format(b: u8) -> Option<Format> {
    crate::index::format_from_code(b)
}
