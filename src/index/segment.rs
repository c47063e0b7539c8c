//! Reading one segment: zero-copy over its bytes, every offset checked.
//!
//! [`Segment::from_storage`] validates the header, the section table and
//! the size of every fixed-record section in O(1) of the file size. Records
//! are decoded by [`super::wire`] on access; each accessor re-checks the
//! offsets it reads (they come from the file) and returns
//! [`IndexError::Corrupt`] rather than panicking; [`Segment::verify`]
//! additionally checks every checksum and cross-reference.
//!
//! Lookup of a fingerprint key costs one read of the bucket directory and
//! one scan of a bucket of about eight 8-byte postings (about one cache
//! miss each); [`Segment::buckets`] does it for many keys at once so that
//! their misses overlap.

use std::ops::Range;

use super::text::{prefetch, BlockCache, MAX_BLOCK};
use super::wire::*;
use super::IndexError;
use crate::extract::Format;
use crate::normalize::{self, Normalized};

pub use super::wire::{Codec, Duplicate, FileStatus, Meta};

/// Owned bytes a segment can live in: a `Vec<u8>`, a mapping, a static.
pub type Storage = Box<dyn AsRef<[u8]> + Send + Sync>;

/// One input file, as the file table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo<'a> {
    /// The path as reached from the `index` argument, exactly as the file
    /// system or container gave it (any bytes).
    pub path_bytes: &'a [u8],
    /// Bytes read.
    pub size: u64,
    /// blake3 of the bytes read (zero when skipped).
    pub blake3: [u8; 32],
    /// The format it was read as (`None` when skipped).
    pub format: Option<Format>,
    /// What happened to it.
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
    /// This record continues the file of the same path recorded in an
    /// earlier segment (a streamed file whose text outgrew a segment): its
    /// parts follow that record's, it holds no chunks and
    /// [`Segment::find_file`] does not return it.
    pub continued: bool,
}

impl FileInfo<'_> {
    /// The path for people and JSON: the bytes when they are UTF-8, else
    /// valid runs kept and every other byte escaped as `\xNN` (so that two
    /// names differing only in such bytes stay apart; see
    /// [`crate::names`]).
    pub fn path(&self) -> String {
        crate::names::display(self.path_bytes)
    }
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
    /// Whether its text is stored with another part.
    pub duplicate: Duplicate,
    /// Fingerprints it contributed.
    pub fingerprints: u32,
    /// First 16 bytes of the blake3 of its text.
    pub text_hash: [u8; 16],
}

/// Text blocks of one window at most that [`Segment::prefetch_window_text`]
/// asks for (a window of a post of a few hundred bytes spans a few).
const PREFETCH_BLOCKS: u64 = 8;

/// Most bytes a part costs in the copies of the part table a matcher makes
/// in memory on first use: its first position and number (8 bytes, parts
/// with text; [`PartBases`]), the coarse index over them (a 4-byte entry
/// a stretch of at least half the mean part: at most 8 bytes a part), and
/// the first 8 bytes of its text hash
/// ([`Segment::part_text_key`]). `info` counts them in a matcher's memory.
pub(crate) const MATCHER_BYTES_PER_PART: u64 = 24;

/// What a window read needs of a part's record ([`Segment::text_layout`]).
struct TextLayout {
    text_offset: u64,
    text_len: u64,
    norm_len: u32,
    checkpoints: Range<u32>,
}

/// Where the text of a window lies: the checkpoint at or before its start,
/// the text offset of the one at or after its end (or the part's end), and
/// the window's normalized range clamped to the part.
struct WindowPlan {
    /// The part's text in the segment's arena.
    text_offset: u64,
    start: Checkpoint,
    end_text: u64,
    norm_start: usize,
    norm_end: usize,
}

/// A window of a part's text, with its normalization.
#[derive(Debug, Default)]
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

/// A file's bytes shared between a segment's storage and its page release.
struct Shared(std::sync::Arc<crate::fileio::FileBytes>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

/// A validated segment over owned bytes.
pub struct Segment {
    storage: Storage,
    /// The file bytes behind `storage`, when it is a file (mapped or read):
    /// what [`Segment::release_resident`] releases.
    file: Option<std::sync::Arc<crate::fileio::FileBytes>>,
    layout: Layout,
    meta: Meta,
    r: Ranges,
    /// The parts' first global normalized positions, copied out of the part
    /// records on the first [`Segment::locate`] (see [`PartBases`]).
    bases: std::sync::OnceLock<PartBases>,
    /// The first 8 bytes of each part's text hash, copied out of the part
    /// records on the first [`Segment::part_text_key`].
    text_keys: std::sync::OnceLock<Vec<u64>>,
    /// [`Segment::continuation_count`], counted on first use (`totals`
    /// serves every `/healthz`: the file table is scanned once).
    continuations: std::sync::OnceLock<u32>,
    /// Unique in this process: the key of its blocks in a [`BlockCache`].
    id: u64,
    /// Bytes of one posting record in this segment's format version.
    posting_len: usize,
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
    /// The LZ4 blocks' dictionary (empty before format 4).
    dict: Range<usize>,
    ckpts: Range<usize>,
    dir: Range<usize>,
    postings: Range<usize>,
    frequent: Range<usize>,
    chunks: Range<usize>,
    file_hashes: Range<usize>,
    part_hashes: Range<usize>,
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

impl Segment {
    /// Validate `storage` as a segment: header, table, section sizes (O(1)).
    ///
    /// # Errors
    /// [`IndexError`] naming what is wrong and where.
    pub fn from_storage(storage: Storage) -> Result<Segment, IndexError> {
        let b = (*storage).as_ref();
        let layout = decode_layout(b)?;
        let get = |k: SectionKind| layout.range(k);
        let meta = Meta::decode(&b[get(SectionKind::Meta)?])
            .ok_or_else(|| corrupt("meta", "bad size, unknown codec or reserved bytes set"))?;
        let r = Ranges {
            strings: get(SectionKind::Strings)?,
            files: get(SectionKind::Files)?,
            parts: get(SectionKind::Parts)?,
            blocks: get(SectionKind::TextBlocks)?,
            text: get(SectionKind::TextData)?,
            // `decode_layout` has required the dictionary of the versions
            // that have one and refused it in the others.
            dict: get(SectionKind::TextDictionary).unwrap_or(0..0),
            ckpts: get(SectionKind::Checkpoints)?,
            dir: get(SectionKind::FpDirectory)?,
            postings: get(SectionKind::FpPostings)?,
            frequent: get(SectionKind::Frequent)?,
            chunks: get(SectionKind::Chunks)?,
            file_hashes: get(SectionKind::FileHashes)?,
            part_hashes: get(SectionKind::PartHashes)?,
        };
        let expect = |what: &'static str, range: &Range<usize>, count: u64, rec: usize| {
            if count.checked_mul(rec as u64) != Some(range.len() as u64) {
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
        let m = &meta;
        expect("files", &r.files, m.files.into(), FileRecord::LEN)?;
        expect("parts", &r.parts, m.parts.into(), PartRecord::LEN)?;
        expect("text blocks", &r.blocks, m.blocks.into(), BlockRecord::LEN)?;
        expect(
            "checkpoints",
            &r.ckpts,
            m.checkpoints.into(),
            Checkpoint::LEN,
        )?;
        let posting_len = Posting::len_in(layout.header.version);
        expect("fingerprint postings", &r.postings, m.postings, posting_len)?;
        expect(
            "frequent fingerprints",
            &r.frequent,
            m.frequent.into(),
            Frequent::LEN,
        )?;
        expect("chunks", &r.chunks, m.chunks.into(), ChunkRecord::LEN)?;
        expect("file hashes", &r.file_hashes, m.files.into(), 4)?;
        expect(
            "part hashes",
            &r.part_hashes,
            m.part_hashes.into(),
            PartHash::LEN,
        )?;
        if r.dict.len() > super::lz4::MAX_DICT
            || (m.codec != super::wire::Codec::Lz4 && !r.dict.is_empty())
        {
            return Err(corrupt(
                "text dictionary",
                format!(
                    "{} bytes for {} text (at most {} for lz4, none for zstd)",
                    r.dict.len(),
                    m.codec.name(),
                    super::lz4::MAX_DICT
                ),
            ));
        }
        if m.dir_bits > MAX_DIR_BITS {
            return Err(corrupt(
                "meta",
                format!("directory of 2^{} buckets is too large", m.dir_bits),
            ));
        }
        expect("fingerprint directory", &r.dir, (1u64 << m.dir_bits) + 1, 4)?;
        if m.block_size == 0 || m.block_size > MAX_BLOCK {
            return Err(corrupt(
                "meta",
                format!("text block size {} outside [1, {MAX_BLOCK}]", m.block_size),
            ));
        }
        // Chunk parameters are handed to the chunker when matching files;
        // out-of-range values would make it panic.
        if crate::chunk::ChunkParams::new(m.chunk_min, m.chunk_avg, m.chunk_max).is_err() {
            return Err(corrupt(
                "meta",
                format!(
                    "chunk sizes {}/{}/{} outside the chunker's ranges",
                    m.chunk_min, m.chunk_avg, m.chunk_max
                ),
            ));
        }
        // The arena cannot hold more text than its blocks do, so that no
        // accessor sizes a buffer from a forged total.
        if m.text_bytes > u64::from(m.blocks) * u64::from(m.block_size) {
            return Err(corrupt(
                "meta",
                format!(
                    "{} bytes of text do not fit in {} blocks of {} bytes",
                    m.text_bytes, m.blocks, m.block_size
                ),
            ));
        }
        if m.norm_bytes > u64::from(u32::MAX) {
            return Err(corrupt("meta", "normalized text past 4 GiB"));
        }
        Ok(Segment {
            storage,
            file: None,
            layout,
            meta,
            r,
            bases: std::sync::OnceLock::new(),
            text_keys: std::sync::OnceLock::new(),
            continuations: std::sync::OnceLock::new(),
            id: NEXT_SEGMENT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            posting_len,
        })
    }

    /// Validate a segment file's bytes ([`crate::fileio::map_readonly`]),
    /// keeping them releasable ([`Segment::release_resident`]).
    ///
    /// # Errors
    /// As [`Segment::from_storage`].
    pub fn from_file(bytes: crate::fileio::FileBytes) -> Result<Segment, IndexError> {
        let file = std::sync::Arc::new(bytes);
        let mut seg = Segment::from_storage(Box::new(Shared(std::sync::Arc::clone(&file))))?;
        seg.file = Some(file);
        Ok(seg)
    }

    /// Drop this process's resident pages of a mapped segment file: they
    /// are page cache, but count in the RSS, and a scan of the whole
    /// segment (an append or a second segment counting its keys across
    /// the index) would otherwise make its whole mapping resident. Later
    /// reads fault the pages back. Nothing for bytes held in memory.
    pub fn release_resident(&self) {
        if let Some(f) = &self.file {
            f.release_resident();
        }
    }

    /// The segment's bytes.
    pub fn bytes(&self) -> &[u8] {
        (*self.storage).as_ref()
    }

    /// Parameters from the header.
    pub fn header(&self) -> Header {
        self.layout.header
    }

    /// Counts from the meta section.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// This segment's id, unique in the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sizes of the sections, for `info`.
    pub fn section_sizes(&self) -> Vec<(SectionKind, u64)> {
        SectionKind::ALL
            .iter()
            .filter_map(|k| self.layout.sections[*k as usize].map(|e| (*k, e.len)))
            .collect()
    }

    /// The byte range of a section (validated at open).
    pub(crate) fn section_range(&self, kind: SectionKind) -> Range<usize> {
        self.layout.range(kind).unwrap_or(0..0)
    }

    fn section(&self, r: &Range<usize>) -> &[u8] {
        &self.bytes()[r.clone()]
    }

    fn string(&self, s: StrRef, what: &'static str) -> Result<&[u8], IndexError> {
        let start = s.off as usize;
        start
            .checked_add(s.len as usize)
            .and_then(|end| self.section(&self.r.strings).get(start..end))
            .ok_or_else(|| {
                corrupt(
                    what,
                    format!("string at {}+{} outside the string table", s.off, s.len),
                )
            })
    }

    fn text_string(&self, s: StrRef, what: &'static str) -> Result<&str, IndexError> {
        std::str::from_utf8(self.string(s, what)?)
            .map_err(|_| corrupt(what, "name or reason is not UTF-8"))
    }

    fn record<R: Record>(
        &self,
        range: &Range<usize>,
        i: u32,
        what: &'static str,
    ) -> Result<R, IndexError> {
        let start = (i as usize).checked_mul(R::LEN);
        let b = start
            .and_then(|s| self.section(range).get(s..s + R::LEN))
            .ok_or_else(|| corrupt(what, format!("record {i} out of range")))?;
        R::decode(b).ok_or_else(|| {
            corrupt(
                what,
                format!("record {i} has reserved bytes set or a field out of its domain"),
            )
        })
    }

    /// The first 16 bytes of the blake3 of part `i`'s text (as
    /// [`Segment::part`]'s `text_hash`, without decoding and checking the
    /// rest of its record); `None` past the last part.
    pub fn part_text_hash(&self, i: u32) -> Option<[u8; 16]> {
        let start = (i as usize).checked_mul(PartRecord::LEN)?;
        let b = self
            .section(&self.r.parts)
            .get(start..start.checked_add(PartRecord::LEN)?)?;
        PartRecord::text_hash_of(b)
    }

    /// The first 8 bytes of the blake3 of part `i`'s text as a big-endian
    /// integer (0 past the last part): the matcher's layout-independent
    /// order of candidates. Read from a copy in memory, 8 bytes a part,
    /// made on first use: a quote of a passage in many texts ranks a
    /// hundred candidates, and reading their part records cost a cache
    /// miss each (7% of the time of the scale stream's posts with one
    /// match, prefetched).
    pub(crate) fn part_text_key(&self, i: u32) -> u64 {
        let keys = self.text_keys.get_or_init(|| {
            self.section(&self.r.parts)
                .chunks_exact(PartRecord::LEN)
                .map(|b| {
                    PartRecord::text_hash_of(b).map_or(0, |h| {
                        u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
                    })
                })
                .collect()
        });
        keys.get(i as usize).copied().unwrap_or(0)
    }

    /// The blake3 of every file recorded as a copy of another
    /// ([`FileStatus::Copy`]), read from the file records alone (no path
    /// decoded); records that do not decode are passed over.
    pub(crate) fn copy_hashes(&self) -> impl Iterator<Item = [u8; 32]> + '_ {
        (0..self.meta.files)
            .filter_map(|i| self.record::<FileRecord>(&self.r.files, i, "files").ok())
            .filter(|r| r.status == FileStatus::Copy)
            .map(|r| r.blake3)
    }

    /// Number of files.
    pub fn file_count(&self) -> u32 {
        self.meta.files
    }

    /// File records that continue a file begun in an earlier segment
    /// ([`FileInfo::continued`]): records, not files. (One scan of the
    /// file table, kept; records that do not decode are not counted.)
    pub fn continuation_count(&self) -> u32 {
        *self.continuations.get_or_init(|| {
            (0..self.meta.files)
                .filter(|&i| {
                    self.record::<FileRecord>(&self.r.files, i, "files")
                        .is_ok_and(|r| r.continued)
                })
                .count() as u32
        })
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
        let rec: FileRecord = self.record(&self.r.files, i, "files")?;
        let format = if rec.status == FileStatus::Skipped {
            None
        } else {
            Some(decode_format(rec.format).ok_or_else(|| {
                corrupt("files", format!("file {i}: unknown format {}", rec.format))
            })?)
        };
        let end = rec
            .first_part
            .checked_add(rec.part_count)
            .filter(|&e| e <= self.meta.parts)
            .ok_or_else(|| {
                corrupt(
                    "files",
                    format!(
                        "file {i}: parts {}+{} out of range",
                        rec.first_part, rec.part_count
                    ),
                )
            })?;
        let path_bytes = self.string(rec.path, "files")?;
        if !rec.path_raw && std::str::from_utf8(path_bytes).is_err() {
            return Err(corrupt(
                "files",
                format!("file {i}: path marked UTF-8 is not"),
            ));
        }
        Ok(FileInfo {
            path_bytes,
            size: rec.size,
            blake3: rec.blake3,
            format,
            status: rec.status,
            reason: self.text_string(rec.reason, "files")?,
            parts: rec.first_part..end,
            chunks: rec.chunks,
            text_bytes: rec.text_bytes,
            fingerprints: rec.fingerprints,
            continued: rec.continued,
        })
    }

    /// The part record `i`.
    ///
    /// # Errors
    /// When `i` is out of range or the record is corrupt.
    pub fn part(&self, i: u32) -> Result<PartInfo<'_>, IndexError> {
        let (rec, format, checkpoints) = self.part_checked(i)?;
        Ok(PartInfo {
            name: self.text_string(rec.name, "parts")?,
            file: rec.file,
            format,
            text_offset: rec.text_offset,
            text_len: rec.text_len,
            norm_base: rec.norm_base,
            norm_len: rec.norm_len,
            checkpoints,
            duplicate: rec.duplicate,
            fingerprints: rec.fingerprints,
            text_hash: rec.text_hash,
        })
    }

    /// Part record `i`, checked as [`Segment::part`] checks it but for its
    /// name (not read), with its format and its checkpoints.
    fn part_checked(&self, i: u32) -> Result<(PartRecord, Format, Range<u32>), IndexError> {
        let rec: PartRecord = self.record(&self.r.parts, i, "parts")?;
        let format = decode_format(rec.format)
            .ok_or_else(|| corrupt("parts", format!("part {i}: unknown format {}", rec.format)))?;
        if rec
            .text_offset
            .checked_add(rec.text_len)
            .is_none_or(|e| e > self.meta.text_bytes)
        {
            return Err(corrupt(
                "parts",
                format!(
                    "part {i}: text {}+{} outside the text arena",
                    rec.text_offset, rec.text_len
                ),
            ));
        }
        let ck_end = rec
            .first_checkpoint
            .checked_add(rec.checkpoints)
            .filter(|&e| e <= self.meta.checkpoints)
            .ok_or_else(|| {
                corrupt(
                    "parts",
                    format!(
                        "part {i}: checkpoints {}+{} out of range",
                        rec.first_checkpoint, rec.checkpoints
                    ),
                )
            })?;
        if u64::from(rec.norm_base) + u64::from(rec.norm_len) > self.meta.norm_bytes {
            return Err(corrupt(
                "parts",
                format!("part {i}: normalized range past the segment's end"),
            ));
        }
        if let Duplicate::Local(d) = rec.duplicate {
            if d >= i {
                return Err(corrupt(
                    "parts",
                    format!("part {i}: duplicate of a later part {d}"),
                ));
            }
        }
        Ok((rec, format, rec.first_checkpoint..ck_end))
    }

    /// Where the text of part `part` lies: that of the part itself, or of
    /// the earlier part of this segment it duplicates ([`Segment::text_owner`]),
    /// read from the records alone (a window read needs no name).
    fn text_layout(&self, part: u32) -> Result<TextLayout, IndexError> {
        let (mut rec, _, mut checkpoints) = self.part_checked(part)?;
        match rec.duplicate {
            Duplicate::None => {}
            Duplicate::Local(d) => (rec, _, checkpoints) = self.part_checked(d)?,
            Duplicate::External => {
                return Err(corrupt(
                    "parts",
                    format!("part {part}: its text is in another segment"),
                ))
            }
        }
        Ok(TextLayout {
            text_offset: rec.text_offset,
            text_len: rec.text_len,
            norm_len: rec.norm_len,
            checkpoints,
        })
    }

    /// The full source path of a part for display: `file path` or
    /// `file path#part name`.
    ///
    /// # Errors
    /// When the records are corrupt.
    pub fn part_path(&self, part: u32) -> Result<String, IndexError> {
        let p = self.part(part)?;
        let f = self.file(p.file)?;
        Ok(crate::names::join_part(&f.path(), p.name))
    }

    /// Where the postings of `key` are: its bucket's records and the
    /// fragment that tells its own records apart. Reads one directory
    /// entry.
    pub fn bucket(&self, key: u64) -> Bucket {
        let bits = self.meta.dir_bits;
        let bucket = bucket_of(key, bits);
        let dir = self.section(&self.r.dir);
        let entry = |i: usize| {
            dir.get(i * 4..i * 4 + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])) as usize
        };
        let len = self.r.postings.len();
        let lo = entry(bucket).saturating_mul(self.posting_len).min(len);
        let hi = entry(bucket + 1)
            .saturating_mul(self.posting_len)
            .min(len)
            .max(lo);
        Bucket {
            lo,
            hi,
            frag: fragment(key, bits),
        }
    }

    /// [`Segment::bucket`] for many keys at once, appended to `out`, and
    /// every cache line of each bucket's records read. The reads of
    /// different keys do not depend on each other, so in this tight loop
    /// the processor overlaps their cache misses (on a large index each
    /// lookup is two misses, directory and records, that would otherwise
    /// be paid one after the other).
    pub fn buckets(&self, keys: &[u64], out: &mut Vec<Bucket>) {
        let start = out.len();
        out.extend(keys.iter().map(|&k| self.bucket(k)));
        let p = self.section(&self.r.postings);
        // Every cache line of a bucket's records (a bucket of 15 postings
        // of 8 bytes spans two or three): the scan that follows reads
        // them all until it passes the key's fragment.
        let base = p.as_ptr() as usize;
        let mut touched = 0u8;
        for b in &out[start..] {
            let mut at = b.lo;
            while at < b.hi {
                touched ^= p[at];
                at = ((base + at) | 63) + 1 - base;
            }
        }
        std::hint::black_box(touched);
    }

    /// The postings in a bucket found by [`Segment::bucket`] on this segment.
    pub fn postings_of(&self, b: Bucket) -> Postings<'_> {
        let p = self.section(&self.r.postings);
        let hi = b.hi.min(p.len());
        let lo = b.lo.min(hi);
        Postings {
            recs: &p[lo..hi],
            frag: b.frag,
            len: self.posting_len,
        }
    }

    /// What this segment's postings keep of their k-grams' context
    /// (see [`Postings::next_with_context`]).
    pub fn context_width(&self) -> ContextWidth {
        Posting::context_in(self.layout.header.version)
    }

    /// The global normalized positions of `key` in this segment.
    pub fn postings(&self, key: u64) -> Postings<'_> {
        self.postings_of(self.bucket(key))
    }

    /// The keys found in at least `common_min_docs` parts of this segment,
    /// with their part counts, sorted by key.
    pub fn frequent(&self) -> impl Iterator<Item = Frequent> + '_ {
        self.section(&self.r.frequent)
            .chunks_exact(Frequent::LEN)
            .filter_map(Frequent::decode)
    }

    /// The normalized positions of part `i` (`norm_base..norm_base +
    /// norm_len`; empty for a part with no text of its own).
    pub fn part_span(&self, i: u32) -> Option<Range<u32>> {
        let start = (i as usize).checked_mul(PartRecord::LEN)?;
        let b = self
            .section(&self.r.parts)
            .get(start..start.checked_add(PartRecord::LEN)?)?;
        let r = PartRecord::decode(b)?;
        Some(r.norm_base..r.norm_base.saturating_add(r.norm_len))
    }

    /// The table [`Segment::locate_part`] searches, built on first use.
    fn part_bases(&self) -> &PartBases {
        self.bases.get_or_init(|| {
            let parts = self.section(&self.r.parts);
            PartBases::new(
                parts
                    .chunks_exact(PartRecord::LEN)
                    .enumerate()
                    .filter_map(|(i, b)| {
                        let r = PartRecord::decode(b)?;
                        (r.norm_len > 0).then_some((r.norm_base, i as u32))
                    })
                    .collect(),
            )
        })
    }

    /// The part holding global normalized position `pos`, and the offset in it.
    pub fn locate(&self, pos: u32) -> Option<(u32, u32)> {
        self.locate_part(pos)
            .map(|(part, base, _)| (part, pos - base))
    }

    /// The part holding global normalized position `pos` and the range of
    /// positions it holds (`base..end`): what [`Segment::locate`] reads,
    /// so that positions of the same part need not be located again.
    pub fn locate_part(&self, pos: u32) -> Option<(u32, u32, u64)> {
        let bases = self.part_bases();
        // Last part starting at or before pos.
        let i = bases.count_at_or_before(pos).checked_sub(1)?;
        let bases = &bases.bases;
        let (base, part) = bases[i];
        // Parts with text tile the normalized space (checked by `verify`):
        // a part ends where the next begins.
        let end = bases
            .get(i + 1)
            .map_or(self.meta.norm_bytes, |&(b, _)| u64::from(b));
        pos.checked_sub(base)?;
        (u64::from(pos) < end).then_some((part, base, end))
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
        let mut out = Vec::new();
        self.arena_into(range, cache, &mut out)?;
        Ok(out)
    }

    /// [`Segment::arena_cached`] into `out` (cleared first).
    fn arena_into(
        &self,
        range: Range<u64>,
        cache: &mut BlockCache,
        out: &mut Vec<u8>,
    ) -> Result<(), IndexError> {
        out.clear();
        if range.start > range.end || range.end > self.meta.text_bytes {
            return Err(corrupt(
                "text blocks",
                format!("text range {range:?} outside the arena"),
            ));
        }
        let bs = u64::from(self.meta.block_size);
        out.reserve((range.end - range.start).min(4 * bs) as usize);
        if range.is_empty() {
            return Ok(());
        }
        for blk in range.start / bs..=(range.end - 1) / bs {
            let blk_start = blk * bs;
            // Decode the block only as far as the range needs.
            let need = (range.end - blk_start).min(bs) as usize;
            let buf = self.block(blk as u32, need, cache)?;
            let a = range.start.max(blk_start) - blk_start;
            let b = range.end.min(blk_start + buf.len() as u64) - blk_start;
            let piece = buf.get(a as usize..b as usize).ok_or_else(|| {
                corrupt(
                    "text blocks",
                    format!("block {blk} shorter than the arena says"),
                )
            })?;
            out.extend_from_slice(piece);
        }
        Ok(())
    }

    /// Text block `i`, decoded from its start to at least byte `need`,
    /// from the cache or decompressed into it.
    fn block<'c>(
        &self,
        i: u32,
        need: usize,
        cache: &'c mut BlockCache,
    ) -> Result<&'c [u8], IndexError> {
        let rec: BlockRecord = self.record(&self.r.blocks, i, "text blocks")?;
        if rec.raw > self.meta.block_size {
            return Err(corrupt(
                "text blocks",
                format!(
                    "block {i} claims {} bytes, more than the block size",
                    rec.raw
                ),
            ));
        }
        let comp = rec
            .offset
            .checked_add(u64::from(rec.clen))
            .and_then(|end| {
                self.section(&self.r.text)
                    .get(rec.offset as usize..end as usize)
            })
            .ok_or_else(|| {
                corrupt(
                    "text data",
                    format!(
                        "block {i} at {}+{} outside the text data",
                        rec.offset, rec.clen
                    ),
                )
            })?;
        let dict = self.section(&self.r.dict);
        cache.get(
            self.id,
            i,
            self.meta.codec,
            dict,
            comp,
            rec.raw as usize,
            need,
        )
    }

    /// The part holding the text of part `part`: itself, or the earlier
    /// part of this segment it duplicates.
    ///
    /// # Errors
    /// When the records are corrupt, or the part's text is in another
    /// segment ([`Duplicate::External`]).
    pub fn text_owner(&self, part: u32) -> Result<u32, IndexError> {
        match self.part(part)?.duplicate {
            Duplicate::None => Ok(part),
            Duplicate::Local(d) => Ok(d),
            Duplicate::External => Err(corrupt(
                "parts",
                format!("part {part}: its text is in another segment"),
            )),
        }
    }

    /// The whole extracted text of a part that owns its text (or duplicates
    /// one of this segment).
    ///
    /// # Errors
    /// When the records or the text are corrupt.
    pub fn part_text(&self, part: u32) -> Result<String, IndexError> {
        let p = self.part(self.text_owner(part)?)?;
        let bytes = self.arena(p.text_offset..p.text_offset + p.text_len)?;
        String::from_utf8(bytes)
            .map_err(|_| corrupt("text data", format!("text of part {part} is not UTF-8")))
    }

    fn checkpoint(&self, i: u32) -> Result<Checkpoint, IndexError> {
        self.record(&self.r.ckpts, i, "checkpoints")
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
    /// The window is widened to whole normalized characters: positions come
    /// from k-gram hits and diagonals, which count bytes and may fall inside
    /// a multi-byte character.
    ///
    /// # Errors
    /// As [`Segment::window`].
    pub fn window_cached(
        &self,
        part: u32,
        norm: Range<usize>,
        cache: &mut BlockCache,
    ) -> Result<TextWindow, IndexError> {
        let mut w = TextWindow::default();
        self.window_into(part, norm, cache, &mut w)?;
        Ok(w)
    }

    /// [`Segment::window_cached`] into `out`, reusing its buffers (a
    /// matcher reads a window per candidate it verifies).
    ///
    /// # Errors
    /// As [`Segment::window`]; `out` then holds no valid window.
    pub fn window_into(
        &self,
        part: u32,
        norm: Range<usize>,
        cache: &mut BlockCache,
        out: &mut TextWindow,
    ) -> Result<(), IndexError> {
        let WindowPlan {
            text_offset,
            start,
            end_text,
            norm_start,
            norm_end,
        } = self.window_plan(part, norm)?;
        // The raw bytes go through the cache's scratch buffer.
        let mut raw = std::mem::take(&mut cache.raw);
        self.arena_into(
            text_offset + u64::from(start.text)..text_offset + end_text,
            cache,
            &mut raw,
        )?;
        // Validated with SIMD (`simdutf8`), then copied (a copy costs a
        // fraction of `std`'s validation, which took a tenth of matching
        // time on text in other scripts).
        out.text.clear();
        let valid = match simdutf8::basic::from_utf8(&raw) {
            Ok(t) => {
                out.text.push_str(t);
                true
            }
            Err(_) => false,
        };
        cache.raw = raw;
        if !valid {
            return Err(corrupt(
                "text data",
                "window is not UTF-8 (checkpoint inside a character)",
            ));
        }
        let text = &out.text;
        let normalized = &mut out.normalized;
        normalized.text.clear();
        normalized.offsets.clear();
        // Room for the normalization up front: it is rarely longer than
        // the text (decomposed Hangul is), and growing by doubling cost
        // reallocations on every window.
        normalized.text.reserve(text.len());
        normalized.offsets.reserve(text.len());
        // Only as far as the window reaches, and a char beyond (its end is
        // widened to a whole char below).
        normalize::normalize_into_until(
            text,
            start.text,
            &mut normalized.text,
            &mut normalized.offsets,
            (norm_end - start.norm as usize).saturating_add(4),
        );
        let t = &normalized.text;
        let b = (norm_end - start.norm as usize).min(t.len());
        let a = (norm_start - start.norm as usize).min(b);
        let a = crate::extract::floor_char_boundary(t, a);
        let b = ceil_char_boundary(t, b);
        // Cut in place, without new buffers.
        normalized.text.truncate(b);
        normalized.text.drain(..a);
        normalized.offsets.truncate(b);
        normalized.offsets.drain(..a);
        out.text_start = start.text as usize;
        out.norm_start = start.norm as usize + a;
        Ok(())
    }

    /// Where the text of a window lies (see [`Segment::window_into`]): the
    /// checkpoints around the normalized range `norm` of `part`.
    fn window_plan(&self, part: u32, norm: Range<usize>) -> Result<WindowPlan, IndexError> {
        let part = self.text_layout(part)?;
        let norm_end = norm.end.min(part.norm_len as usize);
        let norm_start = norm.start.min(norm_end);
        // Checkpoints: (normalized position, text offset), increasing; the
        // first is (0, 0). Find the last at or before norm_start and the
        // first at or after norm_end.
        let cks = part.checkpoints.clone();
        // Checkpoints are about evenly spaced (every CHECKPOINT_EVERY bytes
        // of text), so the search starts where norm_start falls in
        // proportion and gallops from there: one or two reads instead of a
        // binary search's dozen over a long part.
        let count = u64::from(cks.end - cks.start);
        let guess = cks.start
            + (norm_start as u64 * count / u64::from(part.norm_len.max(1)))
                .min(count.saturating_sub(1)) as u32;
        let lo = gallop(cks.clone(), guess, |i| {
            Ok(self.checkpoint(i)?.norm as usize <= norm_start)
        })?;
        let start = if lo > cks.start {
            self.checkpoint(lo - 1)?
        } else {
            Checkpoint { norm: 0, text: 0 }
        };
        let mut end_text = part.text_len;
        let mut j = lo;
        while j < cks.end {
            let c = self.checkpoint(j)?;
            if c.norm as usize >= norm_end {
                end_text = u64::from(c.text);
                break;
            }
            j += 1;
        }
        if u64::from(start.text) > end_text
            || end_text > part.text_len
            || start.norm as usize > norm_start
        {
            return Err(corrupt(
                "checkpoints",
                format!(
                    "checkpoints of a part at text {} are not increasing",
                    part.text_offset
                ),
            ));
        }
        Ok(WindowPlan {
            text_offset: part.text_offset,
            start,
            end_text,
            norm_start,
            norm_end,
        })
    }

    /// The first of two hints before a window of `part` around `norm` is
    /// read (by [`Segment::window_into`]): the processor is asked for the
    /// checkpoint and block records the read will need, as far as they can
    /// be told from the part's record alone. A matcher gives this hint for
    /// every candidate of a query, then [`Segment::prefetch_window_text`]
    /// for every one, then reads them: the cache misses of all its
    /// candidates overlap instead of coming one after another. (A window
    /// read of the mixed scale stream took 3.1 us on average, 1.7 us with
    /// its bytes in the caches; BENCHMARKS.md "Windows asked for ahead".) Never
    /// an error, and the read's result is the same: a corrupt record is
    /// found by the read.
    pub(crate) fn prefetch_window_records(&self, part: u32, norm: Range<usize>) {
        let Ok(p) = self.text_layout(part) else {
            return;
        };
        let norm_start = norm.start.min(p.norm_len as usize) as u64;
        let cks = p.checkpoints;
        let count = u64::from(cks.end - cks.start);
        if count > 0 {
            // The checkpoint the search starts from, and its neighbours.
            let guess = u64::from(cks.start)
                + (norm_start * count / u64::from(p.norm_len.max(1))).min(count - 1);
            let from = (guess.saturating_sub(1) as usize) * Checkpoint::LEN;
            let to = ((guess + 2).min(u64::from(cks.end)) as usize) * Checkpoint::LEN;
            prefetch(self.section(&self.r.ckpts).get(from..to).unwrap_or(&[]));
        }
        // The block record of the text where `norm_start` falls in
        // proportion, and of the blocks beside it.
        let bs = u64::from(self.meta.block_size.max(1));
        let at = p.text_offset
            + (u128::from(norm_start) * u128::from(p.text_len) / u128::from(p.norm_len.max(1)))
                as u64;
        let blk = at / bs;
        let from = (blk.saturating_sub(1) as usize).saturating_mul(BlockRecord::LEN);
        let to = ((blk + 2) as usize).saturating_mul(BlockRecord::LEN);
        let blocks = self.section(&self.r.blocks);
        prefetch(blocks.get(from..to.min(blocks.len())).unwrap_or(&[]));
    }

    /// The second hint (see [`Segment::prefetch_window_records`]): the
    /// compressed bytes the read of the window will decode, found through
    /// the records the first hint asked for.
    pub(crate) fn prefetch_window_text(&self, part: u32, norm: Range<usize>) {
        let Ok(plan) = self.window_plan(part, norm) else {
            return;
        };
        let range = plan.text_offset + u64::from(plan.start.text)..plan.text_offset + plan.end_text;
        if range.is_empty() || range.end > self.meta.text_bytes {
            return;
        }
        let bs = u64::from(self.meta.block_size.max(1));
        let text = self.section(&self.r.text);
        // A window of a long query (a whole file) may span many blocks: only
        // the first few are asked for, so that the hints of a post's
        // candidates stay within the second-level cache.
        let last = ((range.end - 1) / bs).min(range.start / bs + PREFETCH_BLOCKS - 1);
        for blk in range.start / bs..=last {
            let Ok(rec) = self.record::<BlockRecord>(&self.r.blocks, blk as u32, "text blocks")
            else {
                return;
            };
            // As far into the block as the read decodes, in proportion.
            let need = (range.end - blk * bs).min(u64::from(rec.raw));
            let bytes = (need * u64::from(rec.clen) / u64::from(rec.raw.max(1)) + 64)
                .min(u64::from(rec.clen));
            let from = rec.offset as usize;
            prefetch(
                text.get(from..from.saturating_add(bytes as usize))
                    .unwrap_or(&[]),
            );
        }
    }

    /// Every chunk record.
    pub fn chunks(&self) -> impl Iterator<Item = ChunkRecord> + '_ {
        self.section(&self.r.chunks)
            .chunks_exact(ChunkRecord::LEN)
            .filter_map(ChunkRecord::decode)
    }

    /// Chunks with this blake3 hash.
    pub fn find_chunk(&self, hash: &[u8; 32]) -> Vec<ChunkHit> {
        let c = self.section(&self.r.chunks);
        let n = c.len() / ChunkRecord::LEN;
        let key = |i: usize| &c[i * ChunkRecord::LEN..i * ChunkRecord::LEN + 32];
        let start = partition_point(n, |i| key(i) < &hash[..]);
        (start..n)
            .take_while(|&i| key(i) == &hash[..])
            .filter_map(|i| {
                ChunkRecord::decode(&c[i * ChunkRecord::LEN..(i + 1) * ChunkRecord::LEN])
            })
            .map(|r| ChunkHit {
                file: r.file,
                offset: r.offset,
                len: r.len,
            })
            .collect()
    }

    /// Files whose blake3 is `hash`: whole files, that is first records
    /// (a streamed file's continuation records, [`FileInfo::continued`],
    /// share its hash and are left out).
    pub fn find_file(&self, hash: &[u8; 32]) -> Vec<u32> {
        let fh = self.section(&self.r.file_hashes);
        let n = fh.len() / 4;
        let id =
            |i: usize| u32::from_le_bytes([fh[i * 4], fh[i * 4 + 1], fh[i * 4 + 2], fh[i * 4 + 3]]);
        let files = self.section(&self.r.files);
        let hash_of = |f: u32| {
            let at = f as usize * FileRecord::LEN + 16;
            files.get(at..at + 32)
        };
        let start = partition_point(n, |i| hash_of(id(i)).is_some_and(|h| h < &hash[..]));
        (start..n)
            .take_while(|&i| hash_of(id(i)) == Some(&hash[..]))
            .map(id)
            .filter(|&f| {
                self.record::<FileRecord>(&self.r.files, f, "files")
                    .is_ok_and(|r| !r.continued)
            })
            .collect()
    }

    /// The part of this segment that owns the text with this hash, if any.
    pub fn find_part_text(&self, hash: &[u8; 16]) -> Option<u32> {
        let ph = self.section(&self.r.part_hashes);
        let n = ph.len() / PartHash::LEN;
        let rec = |i: usize| PartHash::decode(&ph[i * PartHash::LEN..(i + 1) * PartHash::LEN]);
        let i = partition_point(n, |i| rec(i).is_some_and(|r| r.hash < *hash));
        if i >= n {
            return None;
        }
        rec(i).filter(|r| r.hash == *hash).map(|r| r.part)
    }

    /// Check every checksum and cross-reference.
    ///
    /// # Errors
    /// The first problem found, naming its section.
    pub fn verify(&self) -> Result<(), IndexError> {
        let b = self.bytes();
        let f = self.layout.footer;
        let table = &b[f.table_offset as usize..b.len() - FOOTER_LEN];
        if head_checksum(&b[..HEADER_LEN], table) != f.head_sum {
            return Err(IndexError::Checksum {
                section: "header and section table",
            });
        }
        // Bytes between sections (alignment padding) must be zero, so that
        // every byte is covered.
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
            .chain(std::iter::once((f.table_offset as usize, 0)))
        {
            if b[at..start].iter().any(|&x| x != 0) {
                return Err(corrupt(
                    "padding",
                    format!("non-zero bytes between offsets {at} and {start}"),
                ));
            }
            at = end;
        }
        for e in self.layout.sections.iter().flatten() {
            if checksum(&b[e.offset as usize..(e.offset + e.len) as usize]) != e.checksum {
                return Err(IndexError::Checksum {
                    section: e.kind.name(),
                });
            }
        }
        super::verify::structure(self)
    }
}

/// (first global normalized position, part) of every part with normalized
/// text, in position order, 8 bytes a part in one array, with a coarse
/// index over it: `starts[j]` is the number of parts starting before
/// `j << shift`, with about one part per `2^shift` positions. A posting's
/// part is then found among the few parts starting in its stretch of
/// `2^shift` positions, where a binary search over all of them made 16
/// dependent reads for every posting (2.6% of the time of unrelated
/// posts against the 1 GB scale index, perf at format 5).
#[derive(Debug)]
struct PartBases {
    bases: Vec<(u32, u32)>,
    starts: Vec<u32>,
    shift: u32,
}

impl PartBases {
    fn new(mut bases: Vec<(u32, u32)>) -> PartBases {
        // (Collected from the parts with text: no spare capacity kept.)
        bases.shrink_to_fit();
        let end = bases.last().map_or(0, |b| u64::from(b.0)) + 1;
        // Stretches of at least as many positions as the mean part holds.
        let per_part = end / bases.len().max(1) as u64;
        let shift = 64 - per_part.max(1).leading_zeros() - 1;
        let stretches = (end >> shift) as usize + 2;
        let mut starts = Vec::with_capacity(stretches);
        let mut i = 0usize;
        for j in 0..stretches as u64 {
            let from = j << shift;
            while i < bases.len() && u64::from(bases[i].0) < from {
                i += 1;
            }
            starts.push(i as u32);
        }
        PartBases {
            bases,
            starts,
            shift,
        }
    }

    /// The number of parts starting at or before `pos`.
    #[inline]
    fn count_at_or_before(&self, pos: u32) -> usize {
        let j = (u64::from(pos) >> self.shift) as usize;
        let Some(&lo) = self.starts.get(j) else {
            return self.bases.len();
        };
        let hi = self
            .starts
            .get(j + 1)
            .map_or(self.bases.len(), |&h| h as usize);
        let lo = lo as usize;
        lo + self.bases[lo..hi].partition_point(|&(b, _)| b <= pos)
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

/// Where one key's postings are in a segment: see [`Segment::bucket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Byte range of the bucket's records in the postings section.
    lo: usize,
    hi: usize,
    /// The key's fragment (the bits below the bucket number).
    frag: u16,
}

/// The postings of one key in one segment: global normalized positions.
#[derive(Debug, Clone)]
pub struct Postings<'a> {
    recs: &'a [u8],
    frag: u16,
    /// Bytes of one record (by format version).
    len: usize,
}

impl Postings<'_> {
    /// The next posting's position and context (`fingerprint::context`;
    /// in a segment of format 6 `fingerprint::context_v6`, of format 5
    /// `fingerprint::context_v5`, of format 3 or
    /// 4 its `fingerprint::narrow_context`; 0 in a segment without them:
    /// see [`Segment::context_width`]).
    #[inline]
    pub fn next_with_context(&mut self) -> Option<(u32, u16)> {
        // One loop per record length, each over fixed-size records: with
        // the length known at compile time the scan has no bounds checks
        // (a loop over a run-time length made the OCR path, millions of
        // look-ups, 24% slower).
        match self.len {
            Posting::LEN => self.scan::<{ Posting::LEN }>(),
            POSTING_V3_LEN => self.scan::<POSTING_V3_LEN>(),
            _ => self.scan::<POSTING_V2_LEN>(),
        }
    }

    /// [`Postings::next_with_context`] over records of `N` bytes: fragment,
    /// position, then (format 3 on) the context, of `N - 6` bytes.
    #[inline(always)]
    fn scan<const N: usize>(&mut self) -> Option<(u32, u16)> {
        while let Some((rec, rest)) = self.recs.split_first_chunk::<N>() {
            self.recs = rest;
            let f = u16::from_le_bytes([rec[0], rec[1]]);
            if f == self.frag {
                let pos = u32::from_le_bytes([rec[2], rec[3], rec[4], rec[5]]);
                let ctx = match N {
                    8 => u16::from_le_bytes([rec[6], rec[N - 1]]),
                    7 => u16::from(rec[N - 1]),
                    _ => 0,
                };
                return Some((pos, ctx));
            }
            if f > self.frag {
                // Sorted by fragment within the bucket: no more matches.
                self.recs = &[];
            }
        }
        None
    }
}

impl Iterator for Postings<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        self.next_with_context().map(|(pos, _)| pos)
    }
}

pub(crate) fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    match try_partition_point(0..n, |i| Ok::<_, std::convert::Infallible>(pred(i))) {
        Ok(i) => i,
        Err(never) => match never {},
    }
}

/// The first index of `range` at which `pred` is false, `pred` being true
/// on a prefix of the range and false after it (a binary search); the
/// first error of `pred` stops it.
fn try_partition_point<E>(
    range: Range<usize>,
    pred: impl Fn(usize) -> Result<bool, E>,
) -> Result<usize, E> {
    let (mut lo, mut hi) = (range.start, range.end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid)? {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

fn decode_format(b: u8) -> Option<Format> {
    crate::index::format_from_code(b)
}

/// The first index of `range` at which `le` is false, `le` being true on a
/// prefix of the range and false after it; searched from `guess` outwards
/// with doubling steps, then by halving. Costs O(log d) calls of `le`,
/// d being the distance from `guess` to the answer.
///
/// # Errors
/// The first error of `le`.
fn gallop(
    range: Range<u32>,
    guess: u32,
    le: impl Fn(u32) -> Result<bool, IndexError>,
) -> Result<u32, IndexError> {
    // The answer lies in lo..=hi.
    let (mut lo, mut hi) = (range.start, range.end);
    let g = guess.clamp(lo, hi);
    if g < hi && le(g)? {
        lo = g + 1;
        let mut step = 1u32;
        while let Some(p) = lo.checked_add(step - 1).filter(|&p| p < hi) {
            if le(p)? {
                lo = p + 1;
                step = step.saturating_mul(2);
            } else {
                hi = p;
                break;
            }
        }
    } else {
        hi = g;
        let mut step = 1u32;
        while let Some(p) = hi.checked_sub(step).filter(|&p| p >= lo) {
            if le(p)? {
                lo = p + 1;
                break;
            }
            hi = p;
            step = step.saturating_mul(2);
        }
    }
    // Both ends are u32, and so is every index between them.
    try_partition_point(lo as usize..hi as usize, |i| le(i as u32)).map(|i| i as u32)
}

#[cfg(test)]
mod prefetch_tests {
    use super::Duplicate;
    use crate::index::{Index, IndexBuilder};
    use proptest::prelude::*;

    /// Three parts: a long one (many text blocks and checkpoints), a short
    /// one, and one of a file whose bytes differ (a UTF-8 byte order mark
    /// first) and whose text is the same: a duplicate, its text stored
    /// with the short one's.
    fn index() -> &'static Index {
        static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
        INDEX.get_or_init(|| {
            let long: String = (0..4000u32)
                .map(|i| format!("word{} ", i.wrapping_mul(2_654_435_761) % 997))
                .collect();
            let short = "a short text of a few words, stored once";
            let marked = format!("\u{feff}{short}");
            let bytes = IndexBuilder::new()
                .threads(1)
                .build()
                .unwrap()
                .segment_from_texts(&[("long.txt", &long), ("a.txt", short), ("b.txt", &marked)])
                .unwrap();
            let index = Index::from_bytes(bytes).unwrap();
            assert_eq!(
                index.segments()[0].part(2).unwrap().duplicate,
                Duplicate::Local(1),
                "the third part is a duplicate of the second"
            );
            index
        })
    }

    proptest! {
        /// The hints take any part and any range, the parts and the ranges
        /// no read would ask for too, without a panic (an overflow is one
        /// in the test build). (The read after them is compared with the
        /// read without them as a check of the test's own reads: the hints
        /// take `&self` and change no state. Forged segments reach the
        /// hints through the matcher in `tests/reliability.rs`.)
        #[test]
        fn hints_take_any_window_and_change_no_read(
            part in 0u32..5,
            start in prop_oneof![0usize..40_000, Just(usize::MAX / 2), Just(usize::MAX)],
            len in prop_oneof![0usize..3_000, Just(usize::MAX)],
        ) {
            let seg = &index().segments()[0];
            let norm = start..start.saturating_add(len);
            let plain = seg.window(part, norm.clone()).map(|w| (w.text, w.text_start, w.norm_start));
            seg.prefetch_window_records(part, norm.clone());
            seg.prefetch_window_text(part, norm.clone());
            let hinted = seg.window(part, norm).map(|w| (w.text, w.text_start, w.norm_start));
            prop_assert_eq!(plain.is_ok(), hinted.is_ok());
            if let (Ok(a), Ok(b)) = (plain, hinted) {
                prop_assert_eq!(a, b);
            }
        }
    }
}

#[cfg(test)]
mod gallop_tests {
    use super::gallop;
    use proptest::prelude::*;

    proptest! {
        /// The same answer as a linear scan (the oracle), from any guess,
        /// inside or outside the range, and no probe outside the range.
        #[test]
        fn gallop_finds_the_first_false(
            start in 0u32..50,
            len in 0u32..300,
            cut in 0u32..301,
            guess in 0u32..400,
        ) {
            let end = start + len;
            let first_false = start + cut.min(len);
            let le = |i: u32| {
                assert!(i >= start && i < end, "probe {i} outside {start}..{end}");
                Ok(i < first_false)
            };
            let naive = (start..end).find(|&i| i >= first_false).unwrap_or(end);
            prop_assert_eq!(gallop(start..end, guess, le).unwrap(), naive);
        }
    }
}

#[cfg(test)]
mod part_bases_tests {
    use super::PartBases;
    use proptest::prelude::*;

    proptest! {
        /// The same count as a binary search over every part (the oracle),
        /// for parts of any sizes (empty stretches, many parts in one
        /// stretch, one huge part) and positions before, inside and past
        /// them.
        #[test]
        fn count_is_the_partition_point(
            gaps in proptest::collection::vec(prop_oneof![1u32..4, 1u32..300, 1u32..100_000], 0..200),
            first in 0u32..1000,
            probes in proptest::collection::vec(any::<u32>(), 0..100),
        ) {
            let mut at = first;
            let bases: Vec<(u32, u32)> = gaps
                .iter()
                .enumerate()
                .map(|(i, &g)| {
                    let b = (at, i as u32);
                    at = at.saturating_add(g);
                    b
                })
                .collect();
            let p = PartBases::new(bases.clone());
            let near = bases.iter().flat_map(|&(b, _)| [b.saturating_sub(1), b, b + 1]);
            for pos in probes.into_iter().chain(near).chain([0, at, u32::MAX]) {
                let naive = bases.partition_point(|&(b, _)| b <= pos);
                prop_assert_eq!(p.count_at_or_before(pos), naive, "pos {}", pos);
            }
        }
    }
}
