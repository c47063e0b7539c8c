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
//!
//! This module opens a segment and reads its records (files, parts,
//! chunks, hashes) and checks it; `lookup` finds a key's postings and the
//! part holding a position, `window` reads a part's text.

use std::ops::Range;

use super::text::MAX_BLOCK;
use super::wire::*;
use super::IndexError;
use crate::extract::Format;

pub use super::wire::{Codec, Duplicate, FileStatus, Meta};

mod lookup;
mod window;

pub(crate) use lookup::Located;
use lookup::PartBases;
pub use lookup::{Bucket, Postings};
pub use window::TextWindow;

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

/// Most bytes a part costs in the copies of the part table a matcher makes
/// in memory on first use: its first position, number and the first 8
/// bytes of its text hash (16 bytes, parts with text; [`PartBases`],
/// [`Segment::locate_keyed`]), and the coarse index over them (a 4-byte
/// entry a stretch of at least half the mean part: at most 8 bytes a
/// part). `info` counts them in a matcher's memory.
pub(crate) const MATCHER_BYTES_PER_PART: u64 = 24;

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
    /// The parts' first global normalized positions and text keys, copied
    /// out of the part records on first use (a part located, or a
    /// matcher's hint to locate one; see [`PartBases`]).
    bases: std::sync::OnceLock<PartBases>,
    /// [`Segment::continuation_count`], counted on first use (`totals`
    /// serves every `/healthz`: the file table is scanned once).
    continuations: std::sync::OnceLock<u32>,
    /// Unique in this process: the key of its blocks in a [`BlockCache`](super::text::BlockCache).
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
            continuations: std::sync::OnceLock::new(),
            id: NEXT_SEGMENT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            posting_len,
        })
    }

    /// Validate a segment file's bytes (`crate::fileio::map_readonly` or
    /// [`crate::fileio::load_resident`]), keeping them releasable
    /// ([`Segment::release_resident`]; bytes read into memory stay).
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

    /// The most text bytes between two checkpoints of a part (or from the
    /// last one to the part's end) that a build writes: one every
    /// `CHECKPOINT_EVERY` (256) bytes, moved up to 3 bytes on to a char
    /// boundary, in format 4 on; every 1,024 bytes (256 for a while) before.
    pub(crate) fn checkpoint_span(&self) -> u64 {
        if self.layout.header.version >= 4 {
            crate::index::builder::CHECKPOINT_EVERY as u64 + 3
        } else {
            1024 + 3
        }
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
        // A part's checkpoints cover its text, each at most
        // `checkpoint_span` bytes: more text than that (forged records) would
        // make a read of the whole part as large as the records claim.
        if rec.text_len > u64::from(rec.checkpoints) * self.checkpoint_span() {
            return Err(corrupt(
                "parts",
                format!(
                    "part {i}: {} bytes of text for {} checkpoints",
                    rec.text_len, rec.checkpoints
                ),
            ));
        }
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
