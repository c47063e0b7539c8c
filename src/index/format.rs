//! The segment file format, version 1: layout constants and checked decoding.
//!
//! A segment is one file, all integers little-endian, every section starting
//! on an 8-byte boundary:
//!
//! ```text
//! header   64 bytes   magic "LEAKPRNT", format version, endianness check,
//!                     normalization version, k, w, flags, seed
//! sections ...        see `SectionKind`; each has its own blake3 checksum
//! table    32 bytes × n   (kind u32, reserved u32, offset u64, len u64, checksum u64)
//! footer   32 bytes   table offset u64, section count u32, reserved u32,
//!                     checksum of header + table u64, magic "LPRNTEND"
//! ```
//!
//! Opening reads the footer, the table and the header (O(1) in the size of
//! the file) and checks that every section lies inside the file and has a
//! size consistent with its record counts; [`super::Segment::verify`] checks
//! every checksum and every cross-reference. Any offset taken from the file
//! is checked before use: a truncated or edited segment gives an error,
//! never a panic or an out-of-bounds read.
//!
//! Checksums are the first 8 bytes of the section's blake3 hash, read as a
//! little-endian u64: they detect corruption, not tampering by someone who
//! can rewrite the checksum as well.

use super::IndexError;

/// First 8 bytes of every segment.
pub const MAGIC: &[u8; 8] = b"LEAKPRNT";
/// Last 8 bytes of every segment.
pub const FOOTER_MAGIC: &[u8; 8] = b"LPRNTEND";
/// The version written by this library; the only one it reads.
pub const FORMAT_VERSION: u32 = 1;
/// Written little-endian; a reader on another byte order sees it swapped.
pub const ENDIAN_CHECK: u32 = 0x0A0B_0C0D;
/// Size of the header.
pub const HEADER_LEN: usize = 64;
/// Size of the footer.
pub const FOOTER_LEN: usize = 32;
/// Size of one section table entry.
pub const TABLE_ENTRY_LEN: usize = 32;
/// Most sections a segment may declare (a forged count is refused).
pub const MAX_SECTIONS: usize = 64;

/// Record sizes of the fixed-size tables.
pub const FILE_RECORD_LEN: usize = 96;
/// Size of a part record.
pub const PART_RECORD_LEN: usize = 64;
/// Size of a text block directory entry.
pub const BLOCK_RECORD_LEN: usize = 16;
/// Size of a checkpoint record.
pub const CHECKPOINT_RECORD_LEN: usize = 8;
/// Size of a posting: 16-bit key fragment + 32-bit position.
pub const POSTING_LEN: usize = 6;
/// Size of a chunk record.
pub const CHUNK_RECORD_LEN: usize = 48;
/// Size of the meta section.
pub const META_LEN: usize = 96;

/// The sections of a segment. The numbers are part of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum SectionKind {
    /// Counts and build parameters (fixed 96 bytes).
    Meta = 1,
    /// UTF-8 strings referenced by (offset, length) from other tables.
    Strings = 2,
    /// One record per input file: path, size, blake3, format, status.
    Files = 3,
    /// One record per text part (the document table).
    Parts = 4,
    /// Directory of the compressed text blocks.
    TextBlocks = 5,
    /// The zstd-compressed blocks of the concatenated part texts.
    TextData = 6,
    /// Restart points mapping normalized positions to text offsets.
    Checkpoints = 7,
    /// Bucket directory over the sorted fingerprint keys.
    FpDirectory = 8,
    /// Postings: key fragment + position, sorted by key then position.
    FpPostings = 9,
    /// Sorted keys of common (boilerplate) fingerprints.
    Common = 10,
    /// Chunk records sorted by hash.
    Chunks = 11,
    /// File ids sorted by the files' blake3.
    FileHashes = 12,
}

impl SectionKind {
    /// Every kind, in the order they are written.
    pub const ALL: [SectionKind; 12] = [
        SectionKind::TextData,
        SectionKind::FpPostings,
        SectionKind::FpDirectory,
        SectionKind::Strings,
        SectionKind::Files,
        SectionKind::Parts,
        SectionKind::TextBlocks,
        SectionKind::Checkpoints,
        SectionKind::Common,
        SectionKind::Chunks,
        SectionKind::FileHashes,
        SectionKind::Meta,
    ];

    /// The kind with this number.
    pub fn from_u32(v: u32) -> Option<SectionKind> {
        SectionKind::ALL.into_iter().find(|k| *k as u32 == v)
    }

    /// A lowercase name for messages.
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Meta => "meta",
            SectionKind::Strings => "strings",
            SectionKind::Files => "files",
            SectionKind::Parts => "parts",
            SectionKind::TextBlocks => "text blocks",
            SectionKind::TextData => "text data",
            SectionKind::Checkpoints => "checkpoints",
            SectionKind::FpDirectory => "fingerprint directory",
            SectionKind::FpPostings => "fingerprint postings",
            SectionKind::Common => "common fingerprints",
            SectionKind::Chunks => "chunks",
            SectionKind::FileHashes => "file hashes",
        }
    }
}

/// The 8-byte checksum of a byte range.
pub fn checksum(bytes: &[u8]) -> u64 {
    let h = blake3::hash(bytes);
    u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// Read a little-endian u16 at `off`, or `None` when out of bounds.
#[inline]
pub fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// Read a little-endian u32 at `off`, or `None` when out of bounds.
#[inline]
pub fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Read a little-endian u64 at `off`, or `None` when out of bounds.
#[inline]
pub fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(off..off.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Parameters stored in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderParams {
    /// Normalization version the text was normalized with.
    pub norm_version: u32,
    /// k-gram length in normalized bytes.
    pub k: u32,
    /// Winnowing window in k-grams.
    pub w: u32,
    /// Rolling hash seed.
    pub seed: u64,
}

/// Encode the header.
pub fn encode_header(p: &HeaderParams) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&ENDIAN_CHECK.to_le_bytes());
    h[16..20].copy_from_slice(&p.norm_version.to_le_bytes());
    h[20..24].copy_from_slice(&p.k.to_le_bytes());
    h[24..28].copy_from_slice(&p.w.to_le_bytes());
    // 28..32: flags, none defined in version 1.
    h[32..40].copy_from_slice(&p.seed.to_le_bytes());
    h
}

/// Decode and check the header.
///
/// # Errors
/// Wrong magic, another format version, byte order or non-zero flags.
pub fn decode_header(b: &[u8]) -> Result<HeaderParams, IndexError> {
    let h = b.get(..HEADER_LEN).ok_or(IndexError::Truncated {
        what: "header",
        need: HEADER_LEN as u64,
        have: b.len() as u64,
    })?;
    if &h[0..8] != MAGIC {
        return Err(IndexError::BadMagic);
    }
    let version = u32_at(h, 8).unwrap_or(0);
    if version != FORMAT_VERSION {
        return Err(IndexError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if u32_at(h, 12) != Some(ENDIAN_CHECK) {
        return Err(IndexError::Corrupt {
            section: "header",
            detail: "byte-order check failed (index written on a big-endian machine?)".into(),
        });
    }
    if u32_at(h, 28) != Some(0) || h[40..].iter().any(|&x| x != 0) {
        return Err(IndexError::Corrupt {
            section: "header",
            detail: "unknown flags or non-zero reserved bytes".into(),
        });
    }
    Ok(HeaderParams {
        norm_version: u32_at(h, 16).unwrap_or(0),
        k: u32_at(h, 20).unwrap_or(0),
        w: u32_at(h, 24).unwrap_or(0),
        seed: u64_at(h, 32).unwrap_or(0),
    })
}

/// One entry of the section table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionEntry {
    /// Which section.
    pub kind: SectionKind,
    /// Byte offset from the start of the segment.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// [`checksum`] of the section bytes.
    pub checksum: u64,
}

impl SectionEntry {
    /// Encode as a table entry.
    pub fn encode(&self) -> [u8; TABLE_ENTRY_LEN] {
        let mut e = [0u8; TABLE_ENTRY_LEN];
        e[0..4].copy_from_slice(&(self.kind as u32).to_le_bytes());
        e[8..16].copy_from_slice(&self.offset.to_le_bytes());
        e[16..24].copy_from_slice(&self.len.to_le_bytes());
        e[24..32].copy_from_slice(&self.checksum.to_le_bytes());
        e
    }
}

/// Encode the footer.
pub fn encode_footer(table_offset: u64, count: u32, head_sum: u64) -> [u8; FOOTER_LEN] {
    let mut f = [0u8; FOOTER_LEN];
    f[0..8].copy_from_slice(&table_offset.to_le_bytes());
    f[8..12].copy_from_slice(&count.to_le_bytes());
    f[16..24].copy_from_slice(&head_sum.to_le_bytes());
    f[24..32].copy_from_slice(FOOTER_MAGIC);
    f
}

/// The decoded footer and section table.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Parameters from the header.
    pub params: HeaderParams,
    /// The sections, indexed by `SectionKind as usize`.
    pub sections: [Option<SectionEntry>; 16],
    /// Offset of the section table.
    pub table_offset: u64,
    /// Number of table entries.
    pub table_count: u32,
    /// Checksum over the header and the table, from the footer.
    pub head_sum: u64,
}

impl Layout {
    /// The byte range of a section.
    ///
    /// # Errors
    /// When the section is missing.
    pub fn range(&self, kind: SectionKind) -> Result<std::ops::Range<usize>, IndexError> {
        let e = self.sections[kind as usize].ok_or(IndexError::Corrupt {
            section: kind.name(),
            detail: "section missing".into(),
        })?;
        // Bounds were checked against the file length in `decode_layout`.
        Ok(e.offset as usize..(e.offset + e.len) as usize)
    }
}

/// Decode the footer, table and header, checking every bound.
///
/// # Errors
/// Truncation, bad magic, a version or byte order this library does not
/// read, or a section outside the file, overlapping another or misaligned.
pub fn decode_layout(b: &[u8]) -> Result<Layout, IndexError> {
    let len = b.len() as u64;
    let min = (HEADER_LEN + FOOTER_LEN) as u64;
    if len < min {
        return Err(IndexError::Truncated {
            what: "segment",
            need: min,
            have: len,
        });
    }
    let params = decode_header(b)?;
    let f = &b[b.len() - FOOTER_LEN..];
    if &f[24..32] != FOOTER_MAGIC {
        return Err(IndexError::Corrupt {
            section: "footer",
            detail: "footer magic missing (file truncated or not a leakprint segment)".into(),
        });
    }
    let table_offset = u64_at(f, 0).unwrap_or(u64::MAX);
    let table_count = u32_at(f, 8).unwrap_or(u32::MAX);
    let head_sum = u64_at(f, 16).unwrap_or(0);
    if table_count as usize > MAX_SECTIONS {
        return Err(IndexError::Corrupt {
            section: "footer",
            detail: format!("{table_count} sections declared, at most {MAX_SECTIONS} allowed"),
        });
    }
    let table_len = table_count as u64 * TABLE_ENTRY_LEN as u64;
    let footer_start = len - FOOTER_LEN as u64;
    if table_offset < HEADER_LEN as u64 || table_offset.checked_add(table_len) != Some(footer_start)
    {
        return Err(IndexError::Corrupt {
            section: "footer",
            detail: format!(
                "section table at {table_offset} with {table_count} entries does not end where the footer starts ({footer_start})"
            ),
        });
    }
    let mut sections: [Option<SectionEntry>; 16] = [None; 16];
    let mut spans: Vec<(u64, u64)> = Vec::with_capacity(table_count as usize);
    for i in 0..table_count as usize {
        let at = table_offset as usize + i * TABLE_ENTRY_LEN;
        let e = &b[at..at + TABLE_ENTRY_LEN];
        let raw_kind = u32_at(e, 0).unwrap_or(0);
        let kind = SectionKind::from_u32(raw_kind).ok_or_else(|| IndexError::Corrupt {
            section: "section table",
            detail: format!("entry {i} has unknown section kind {raw_kind}"),
        })?;
        let offset = u64_at(e, 8).unwrap_or(u64::MAX);
        let slen = u64_at(e, 16).unwrap_or(u64::MAX);
        let sum = u64_at(e, 24).unwrap_or(0);
        let end = offset.checked_add(slen);
        if offset < HEADER_LEN as u64
            || !offset.is_multiple_of(8)
            || end.is_none_or(|e| e > table_offset)
        {
            return Err(IndexError::Corrupt {
                section: kind.name(),
                detail: format!(
                    "section at {offset} of {slen} bytes lies outside the data area [{HEADER_LEN}, {table_offset}) or is misaligned"
                ),
            });
        }
        if sections[kind as usize].is_some() {
            return Err(IndexError::Corrupt {
                section: kind.name(),
                detail: "section declared twice".into(),
            });
        }
        spans.push((offset, offset + slen));
        sections[kind as usize] = Some(SectionEntry {
            kind,
            offset,
            len: slen,
            checksum: sum,
        });
    }
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[0].1 > w[1].0) {
        return Err(IndexError::Corrupt {
            section: "section table",
            detail: "sections overlap".into(),
        });
    }
    for kind in SectionKind::ALL {
        if sections[kind as usize].is_none() {
            return Err(IndexError::Corrupt {
                section: kind.name(),
                detail: "section missing".into(),
            });
        }
    }
    Ok(Layout {
        params,
        sections,
        table_offset,
        table_count,
        head_sum,
    })
}

/// Checksum over the header and the section table (what the footer stores).
pub fn head_checksum(b: &[u8], table_offset: u64, table_count: u32) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(&b[..HEADER_LEN]);
    let start = table_offset as usize;
    h.update(&b[start..start + table_count as usize * TABLE_ENTRY_LEN]);
    u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
}
