//! The segment file format, version 7: the one owner of every byte layout.
//!
//! Every fixed-size structure of a segment is a type here with a paired
//! `encode` / `decode` written field by field in the same order through the
//! [`Enc`] and [`Dec`] cursors, so no other module knows an offset; a round
//! trip test covers each record, and the golden segment
//! (`tests/data/index-v3/golden.lps`) pins the bytes. (The layout style is
//! that of regex-automata's `util/wire.rs`: label, endianness check,
//! version, alignment, and a checked decode for everything read from disk.)
//!
//! A segment is one file, all integers little-endian, every section starting
//! on an 8-byte boundary:
//!
//! ```text
//! header   64 bytes     magic "LEAKPRNT", format version, endianness check,
//!                       normalization version, k, w, flags, seed
//! sections ...          see `SectionKind`; each has its own checksum
//! table    32 bytes x n (kind, reserved, offset, length, checksum)
//! footer   32 bytes     table offset, section count, reserved,
//!                       checksum of header + table, magic "LPRNTEND"
//! ```
//!
//! Opening reads the footer, the table and the header (O(1) in the size of
//! the file) and checks that every section lies inside the file, in order
//! and aligned ([`decode_layout`]); the segment reader then checks each
//! section's size against the meta's counts. Checksums are the first 8
//! bytes of the section's blake3 hash: they detect corruption, not
//! tampering by someone who can rewrite the checksum as well.
//!
//! Version history: 1 (zstd text blocks, common keys dropped from the
//! postings; no longer read: its segments were all built with
//! normalization v1, which this build refuses anyway); 2 (postings of 6
//! bytes: fragment and position; still read, and matched without the
//! context check); 3 (every posting also keeps its k-gram's context
//! byte, `fingerprint::narrow_context`, 7 bytes); 4 (LZ4 text blocks of
//! 1 KiB and a text dictionary); 5 (postings of 8 bytes, whose context
//! keeps 8 bits a side, `fingerprint::context_v5`, over 4 bytes); 6 (the
//! same postings, whose context reaches 7 bytes a side,
//! `fingerprint::context_v6`); 7 (this one: the context reaches 14 bytes a
//! side, `fingerprint::context`). 2 to 6 are still read.

use super::IndexError;

/// First 8 bytes of every segment.
pub const MAGIC: &[u8; 8] = b"LEAKPRNT";
/// Last 8 bytes of every segment.
pub const FOOTER_MAGIC: &[u8; 8] = b"LPRNTEND";
/// The version written by this library.
///
/// - 2: postings of common keys kept (format 1 dropped them).
/// - 3: a context byte in each posting.
/// - 4: a text dictionary section ([`SectionKind::TextDictionary`]), which
///   the LZ4 text blocks may reach back into.
/// - 5: postings of 8 bytes, whose context keeps 8 bits a side (4 before).
/// - 6: the context hashes 7 bytes a side (4 before): the same layout.
/// - 7: the context hashes 14 bytes a side (7 before): the same layout.
pub const FORMAT_VERSION: u32 = 7;
/// The oldest version this library reads.
pub const OLDEST_READ_VERSION: u32 = 2;
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

/// The 8-byte checksum of a byte range.
pub fn checksum(bytes: &[u8]) -> u64 {
    let h = blake3::hash(bytes);
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(b)
}

/// Writes fields one after the other into a record buffer.
pub struct Enc<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl<'a> Enc<'a> {
    /// A cursor at the start of `buf` (zeroed by the caller).
    pub fn new(buf: &'a mut [u8]) -> Self {
        Enc { buf, at: 0 }
    }
    /// Append bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
        self
    }
    /// Append a `u8`.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes(&[v])
    }
    /// Append a little-endian `u16`.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    /// Append a little-endian `u32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    /// Append a little-endian `u64`.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }
    /// Skip `n` bytes (left zero: reserved).
    pub fn skip(&mut self, n: usize) -> &mut Self {
        self.at += n;
        self
    }
}

/// Reads fields one after the other from a record. Every read is checked:
/// reading past the end yields zeros and marks the cursor short, which
/// [`Dec::finish`] reports (records are sized by their sections, so this
/// only happens on a bug, never on input).
pub struct Dec<'a> {
    buf: &'a [u8],
    at: usize,
    short: bool,
}

impl<'a> Dec<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Dec {
            buf,
            at: 0,
            short: false,
        }
    }
    /// The next `N` bytes.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        match self.buf.get(self.at..self.at + N) {
            Some(b) => out.copy_from_slice(b),
            None => self.short = true,
        }
        self.at += N;
        out
    }
    /// The next `u8`.
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }
    /// The next little-endian `u16`.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }
    /// The next little-endian `u32`.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }
    /// The next little-endian `u64`.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }
    /// Skip `n` bytes; they must be zero (reserved), else the cursor is
    /// marked as holding non-zero reserved bytes.
    pub fn reserved(&mut self, n: usize) {
        match self.buf.get(self.at..self.at + n) {
            Some(b) if b.iter().all(|&x| x == 0) => {}
            Some(_) => self.short = true,
            None => self.short = true,
        }
        self.at += n;
    }
    /// Whether every read was inside the buffer and every reserved byte zero.
    pub fn finish(&self) -> bool {
        !self.short && self.at <= self.buf.len()
    }
}

/// A fixed-size record of a table section.
pub trait Record: Sized {
    /// Encoded length in bytes.
    const LEN: usize;
    /// Encode into `out` (exactly [`Record::LEN`] bytes, zeroed).
    fn encode(&self, out: &mut [u8]);
    /// Decode from exactly [`Record::LEN`] bytes; `None` when reserved
    /// bytes are set or a field is out of its domain.
    fn decode(b: &[u8]) -> Option<Self>;

    /// Append the encoding to a byte vector.
    fn push_to(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.resize(at + Self::LEN, 0);
        self.encode(&mut out[at..]);
    }
}

/// The sections of a segment. The numbers are part of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum SectionKind {
    /// Counts and build parameters ([`Meta`]).
    Meta = 1,
    /// Byte strings (paths, part names, reasons) referenced as
    /// [`StrRef`]s; paths may be any bytes (see [`FileRecord::path_raw`]).
    Strings = 2,
    /// [`FileRecord`]s.
    Files = 3,
    /// [`PartRecord`]s.
    Parts = 4,
    /// [`BlockRecord`]s: the directory of the stored text blocks.
    TextBlocks = 5,
    /// The compressed text blocks ([`Codec`]).
    TextData = 6,
    /// [`Checkpoint`]s: restart points from normalized positions to text.
    Checkpoints = 7,
    /// Bucket directory over the postings: `2^dir_bits + 1` `u32` offsets.
    FpDirectory = 8,
    /// [`Posting`]s sorted by bucket, fragment, position.
    FpPostings = 9,
    /// [`Frequent`] keys: every key found in at least `common_min_docs`
    /// parts of this segment, sorted by key, with its part count.
    Frequent = 10,
    /// [`ChunkRecord`]s sorted by hash.
    Chunks = 11,
    /// File ids (`u32`) sorted by the files' blake3.
    FileHashes = 12,
    /// [`PartHash`]es sorted by text hash (parts that own a non-empty text).
    PartHashes = 13,
    /// The bytes every LZ4 text block of the segment may reach back into,
    /// as if they preceded the block (format 4 on; empty when the segment
    /// has too little text to train one, or its codec is zstd).
    TextDictionary = 14,
}

impl SectionKind {
    /// Every kind, in the order the builder writes them.
    pub const ALL: [SectionKind; 14] = [
        SectionKind::TextData,
        SectionKind::TextDictionary,
        SectionKind::FpPostings,
        SectionKind::FpDirectory,
        SectionKind::Strings,
        SectionKind::Files,
        SectionKind::Parts,
        SectionKind::TextBlocks,
        SectionKind::Checkpoints,
        SectionKind::Frequent,
        SectionKind::Chunks,
        SectionKind::FileHashes,
        SectionKind::PartHashes,
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
            SectionKind::Frequent => "frequent fingerprints",
            SectionKind::Chunks => "chunks",
            SectionKind::FileHashes => "file hashes",
            SectionKind::PartHashes => "part hashes",
            SectionKind::TextDictionary => "text dictionary",
        }
    }

    /// The first format version that has this section (every segment of
    /// that version or later must declare it; earlier ones must not).
    pub fn since_version(self) -> u32 {
        match self {
            SectionKind::TextDictionary => 4,
            _ => OLDEST_READ_VERSION,
        }
    }
}

/// Parameters stored in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Format version ([`FORMAT_VERSION`] for every segment this library
    /// writes; [`OLDEST_READ_VERSION`] and later are read).
    pub version: u32,
    /// Normalization version the text was normalized with.
    pub norm_version: u32,
    /// k-gram length in normalized bytes.
    pub k: u32,
    /// Winnowing window in k-grams.
    pub w: u32,
    /// Rolling hash seed.
    pub seed: u64,
}

impl Header {
    /// Encode the header.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        Enc::new(&mut h)
            .bytes(MAGIC)
            .u32(self.version)
            .u32(ENDIAN_CHECK)
            .u32(self.norm_version)
            .u32(self.k)
            .u32(self.w)
            .u32(0) // flags: none defined
            .u64(self.seed);
        h
    }

    /// Decode and check the header.
    ///
    /// # Errors
    /// Truncation, wrong magic, another format version, byte order, or
    /// non-zero flags and reserved bytes.
    pub fn decode(b: &[u8]) -> Result<Header, IndexError> {
        let h = b.get(..HEADER_LEN).ok_or(IndexError::Truncated {
            what: "header",
            need: HEADER_LEN as u64,
            have: b.len() as u64,
        })?;
        let mut d = Dec::new(h);
        if &d.array::<8>() != MAGIC {
            return Err(IndexError::BadMagic);
        }
        let version = d.u32();
        if !(OLDEST_READ_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(IndexError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if d.u32() != ENDIAN_CHECK {
            return Err(corrupt(
                "header",
                "byte-order check failed (index written on a big-endian machine?)",
            ));
        }
        let norm_version = d.u32();
        let k = d.u32();
        let w = d.u32();
        let flags = d.u32();
        let seed = d.u64();
        d.reserved(HEADER_LEN - 40);
        if flags != 0 || !d.finish() {
            return Err(corrupt(
                "header",
                "unknown flags or non-zero reserved bytes",
            ));
        }
        Ok(Header {
            version,
            norm_version,
            k,
            w,
            seed,
        })
    }
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
        Enc::new(&mut e)
            .u32(self.kind as u32)
            .skip(4)
            .u64(self.offset)
            .u64(self.len)
            .u64(self.checksum);
        e
    }
}

/// The footer: where the table is, and the checksum of header and table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// Offset of the section table.
    pub table_offset: u64,
    /// Number of table entries.
    pub count: u32,
    /// Checksum over the header and the table.
    pub head_sum: u64,
}

impl Footer {
    /// Encode the footer.
    pub fn encode(&self) -> [u8; FOOTER_LEN] {
        let mut f = [0u8; FOOTER_LEN];
        Enc::new(&mut f)
            .u64(self.table_offset)
            .u32(self.count)
            .skip(4)
            .u64(self.head_sum)
            .bytes(FOOTER_MAGIC);
        f
    }

    /// Decode the footer (the last [`FOOTER_LEN`] bytes of a segment).
    fn decode(f: &[u8]) -> Result<Footer, IndexError> {
        let mut d = Dec::new(f);
        let table_offset = d.u64();
        let count = d.u32();
        d.reserved(4);
        let head_sum = d.u64();
        let magic = d.array::<8>();
        if &magic != FOOTER_MAGIC {
            return Err(corrupt(
                "footer",
                "footer magic missing (file truncated or not a leakprint segment)",
            ));
        }
        if !d.finish() {
            return Err(corrupt("footer", "reserved bytes are not zero"));
        }
        Ok(Footer {
            table_offset,
            count,
            head_sum,
        })
    }
}

/// The decoded footer, section table and header.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Parameters from the header.
    pub header: Header,
    /// The sections, indexed by `SectionKind as usize`.
    pub sections: [Option<SectionEntry>; 16],
    /// The footer.
    pub footer: Footer,
}

impl Layout {
    /// The byte range of a section.
    ///
    /// # Errors
    /// When the section is missing.
    pub fn range(&self, kind: SectionKind) -> Result<std::ops::Range<usize>, IndexError> {
        let e =
            self.sections[kind as usize].ok_or_else(|| corrupt(kind.name(), "section missing"))?;
        // Bounds were checked against the file length in `decode_layout`.
        Ok(e.offset as usize..(e.offset + e.len) as usize)
    }
}

/// Checksum over the header and the section table (what the footer stores).
pub fn head_checksum(header: &[u8], table: &[u8]) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(header);
    h.update(table);
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.finalize().as_bytes()[..8]);
    u64::from_le_bytes(b)
}

/// Decode the footer, table and header, checking every bound.
///
/// # Errors
/// Truncation, bad magic, a version or byte order this library does not
/// read, or a section outside the file, overlapping another, misaligned,
/// declared twice or missing.
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
    let header = Header::decode(b)?;
    let footer = Footer::decode(&b[b.len() - FOOTER_LEN..])?;
    if footer.count as usize > MAX_SECTIONS {
        return Err(corrupt(
            "footer",
            format!(
                "{} sections declared, at most {MAX_SECTIONS} allowed",
                footer.count
            ),
        ));
    }
    let table_len = u64::from(footer.count) * TABLE_ENTRY_LEN as u64;
    let footer_start = len - FOOTER_LEN as u64;
    if footer.table_offset < HEADER_LEN as u64
        || footer.table_offset.checked_add(table_len) != Some(footer_start)
    {
        return Err(corrupt(
            "footer",
            format!(
                "section table at {} with {} entries does not end where the footer starts ({footer_start})",
                footer.table_offset, footer.count
            ),
        ));
    }
    let mut sections: [Option<SectionEntry>; 16] = [None; 16];
    let mut spans: Vec<(u64, u64)> = Vec::with_capacity(footer.count as usize);
    for i in 0..footer.count as usize {
        let at = footer.table_offset as usize + i * TABLE_ENTRY_LEN;
        let mut d = Dec::new(&b[at..at + TABLE_ENTRY_LEN]);
        let raw_kind = d.u32();
        d.reserved(4);
        let offset = d.u64();
        let slen = d.u64();
        let sum = d.u64();
        let kind = SectionKind::from_u32(raw_kind).ok_or_else(|| {
            corrupt(
                "section table",
                format!("entry {i} has unknown section kind {raw_kind}"),
            )
        })?;
        if !d.finish() {
            return Err(corrupt(
                "section table",
                format!("entry {i} has non-zero reserved bytes"),
            ));
        }
        let end = offset.checked_add(slen);
        if offset < HEADER_LEN as u64
            || !offset.is_multiple_of(8)
            || end.is_none_or(|e| e > footer.table_offset)
        {
            return Err(corrupt(
                kind.name(),
                format!(
                    "section at {offset} of {slen} bytes lies outside the data area [{HEADER_LEN}, {}) or is misaligned",
                    footer.table_offset
                ),
            ));
        }
        if sections[kind as usize].is_some() {
            return Err(corrupt(kind.name(), "section declared twice"));
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
        return Err(corrupt("section table", "sections overlap"));
    }
    for kind in SectionKind::ALL {
        let expected = header.version >= kind.since_version();
        if sections[kind as usize].is_none() && expected {
            return Err(corrupt(kind.name(), "section missing"));
        }
        if sections[kind as usize].is_some() && !expected {
            return Err(corrupt(
                kind.name(),
                format!("section not part of format {}", header.version),
            ));
        }
    }
    Ok(Layout {
        header,
        sections,
        footer,
    })
}

/// Recompute every section checksum and the header/table checksum of a
/// segment in place, so that only structural checks can catch an edit (for
/// tests and fuzzing that forge fields). Does nothing when the footer or
/// the section table cannot be decoded.
pub fn fix_checksums(b: &mut [u8]) {
    let Ok(l) = decode_layout(b) else {
        return;
    };
    let t = l.footer.table_offset as usize;
    for i in 0..l.footer.count as usize {
        let at = t + i * TABLE_ENTRY_LEN;
        let mut d = Dec::new(&b[at..at + TABLE_ENTRY_LEN]);
        d.reserved(8);
        let (off, len) = (d.u64() as usize, d.u64() as usize);
        let Some(sec) = off.checked_add(len).and_then(|end| b.get(off..end)) else {
            return;
        };
        let sum = checksum(sec);
        b[at + 24..at + 32].copy_from_slice(&sum.to_le_bytes());
    }
    let n = b.len();
    let table_end = t + l.footer.count as usize * TABLE_ENTRY_LEN;
    let head = head_checksum(&b[..HEADER_LEN], &b[t..table_end]);
    b[n - FOOTER_LEN + 16..n - FOOTER_LEN + 24].copy_from_slice(&head.to_le_bytes());
}

/// How the text blocks are compressed. The numbers are part of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// LZ4 block format (`lz4_flex::block`): decodes at several GB/s, so
    /// that verifying a candidate costs microseconds.
    Lz4 = 1,
    /// zstd frames at level 1: smaller, several times slower to decode.
    Zstd = 2,
}

impl Codec {
    /// The codec with this number.
    pub fn from_u32(v: u32) -> Option<Codec> {
        match v {
            1 => Some(Codec::Lz4),
            2 => Some(Codec::Zstd),
            _ => None,
        }
    }
    /// A lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }
}

/// Counts and parameters: the meta section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Input files recorded (indexed, binary, skipped, copies).
    pub files: u32,
    /// Part records.
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
    /// Frequent-key records.
    pub frequent: u32,
    /// Chunk records.
    pub chunks: u32,
    /// FastCDC minimum chunk size.
    pub chunk_min: u32,
    /// FastCDC average chunk size.
    pub chunk_avg: u32,
    /// FastCDC maximum chunk size.
    pub chunk_max: u32,
    /// Keys found in at least this many parts are listed as frequent.
    pub common_min_docs: u32,
    /// Within this segment alone, a key found in at least this many parts
    /// is common (`max(common_min_docs, common fraction of the parts)`).
    pub common_docs: u32,
    /// The text codec.
    pub codec: Codec,
    /// Parts that own a non-empty text (have a [`PartHash`]).
    pub part_hashes: u32,
}

impl Meta {
    /// Encoded length.
    pub const LEN: usize = 128;

    /// Encode as the meta section.
    pub fn encode(&self) -> [u8; Meta::LEN] {
        let mut m = [0u8; Meta::LEN];
        Enc::new(&mut m)
            .u32(self.files)
            .u32(self.parts)
            .u64(self.postings)
            .u32(self.dir_bits)
            .u32(self.block_size)
            .u64(self.text_bytes)
            .u64(self.norm_bytes)
            .u32(self.blocks)
            .u32(self.checkpoints)
            .u32(self.frequent)
            .u32(self.chunks)
            .u32(self.chunk_min)
            .u32(self.chunk_avg)
            .u32(self.chunk_max)
            .u32(self.common_min_docs)
            .u32(self.common_docs)
            .u32(self.codec as u32)
            .u32(self.part_hashes);
        m
    }

    /// Decode the meta section; `None` on a bad size, an unknown codec or
    /// reserved bytes set.
    pub fn decode(b: &[u8]) -> Option<Meta> {
        if b.len() != Meta::LEN {
            return None;
        }
        let mut d = Dec::new(b);
        let m = Meta {
            files: d.u32(),
            parts: d.u32(),
            postings: d.u64(),
            dir_bits: d.u32(),
            block_size: d.u32(),
            text_bytes: d.u64(),
            norm_bytes: d.u64(),
            blocks: d.u32(),
            checkpoints: d.u32(),
            frequent: d.u32(),
            chunks: d.u32(),
            chunk_min: d.u32(),
            chunk_avg: d.u32(),
            chunk_max: d.u32(),
            common_min_docs: d.u32(),
            common_docs: d.u32(),
            codec: Codec::from_u32(d.u32())?,
            part_hashes: d.u32(),
        };
        d.reserved(Meta::LEN - 84);
        d.finish().then_some(m)
    }
}

/// A reference to a byte string in the strings section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StrRef {
    /// Offset in the strings section.
    pub off: u32,
    /// Length in bytes.
    pub len: u32,
}

impl StrRef {
    fn put(&self, e: &mut Enc<'_>) {
        e.u32(self.off).u32(self.len);
    }
    fn get(d: &mut Dec<'_>) -> StrRef {
        StrRef {
            off: d.u32(),
            len: d.u32(),
        }
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
    /// Byte-identical to a file indexed before (same blake3): recorded with
    /// its path, nothing else stored; matches name the first one and list
    /// this path with it.
    Copy,
}

impl FileStatus {
    /// The byte written in the file table.
    pub fn to_u8(self) -> u8 {
        match self {
            FileStatus::Indexed => 0,
            FileStatus::Binary => 1,
            FileStatus::Skipped => 2,
            FileStatus::Copy => 3,
        }
    }
    /// The status with this byte.
    pub fn from_u8(v: u8) -> Option<FileStatus> {
        match v {
            0 => Some(FileStatus::Indexed),
            1 => Some(FileStatus::Binary),
            2 => Some(FileStatus::Skipped),
            3 => Some(FileStatus::Copy),
            _ => None,
        }
    }
    /// A lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            FileStatus::Indexed => "indexed",
            FileStatus::Binary => "binary",
            FileStatus::Skipped => "skipped",
            FileStatus::Copy => "copy",
        }
    }
}

/// One input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRecord {
    /// The path as reached from the `index` argument, as raw bytes.
    pub path: StrRef,
    /// Bytes read.
    pub size: u64,
    /// blake3 of the bytes read (zero when skipped).
    pub blake3: [u8; 32],
    /// Table code of the format it was read as (ignored when skipped).
    pub format: u8,
    /// What happened to it.
    pub status: FileStatus,
    /// The path's bytes are not UTF-8 (kept exactly; shown decoded).
    pub path_raw: bool,
    /// This record continues the file of the same path and hash recorded
    /// last in an earlier segment: a streamed file whose text outgrew one
    /// segment goes on in the next ones, one record per segment, its parts
    /// still named in file order. Only the first record of such a file
    /// holds its chunks and is found by its hash as a whole file
    /// (continuations are in the file-hash table, in hash order, but file
    /// look-ups skip them). (Flag bit 1; readers before it refuse such a
    /// record as malformed.)
    pub continued: bool,
    /// Why it was skipped, or warnings; may be empty.
    pub reason: StrRef,
    /// First of its parts.
    pub first_part: u32,
    /// Number of its parts.
    pub part_count: u32,
    /// Chunks recorded for it.
    pub chunks: u32,
    /// Bytes of text extracted from it.
    pub text_bytes: u64,
    /// Fingerprints its parts contributed.
    pub fingerprints: u64,
}

impl Record for FileRecord {
    const LEN: usize = 96;
    fn encode(&self, out: &mut [u8]) {
        let mut e = Enc::new(out);
        self.path.put(&mut e);
        e.u64(self.size)
            .bytes(&self.blake3)
            .u8(self.format)
            .u8(self.status.to_u8())
            .u16(u16::from(self.path_raw) | u16::from(self.continued) << 1);
        self.reason.put(&mut e);
        e.u32(self.first_part)
            .u32(self.part_count)
            .u32(self.chunks)
            .u64(self.text_bytes)
            .u64(self.fingerprints);
    }
    fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b);
        let path = StrRef::get(&mut d);
        let size = d.u64();
        let blake3 = d.array::<32>();
        let format = d.u8();
        let status = FileStatus::from_u8(d.u8())?;
        let flags = d.u16();
        let reason = StrRef::get(&mut d);
        let r = FileRecord {
            path,
            size,
            blake3,
            format,
            status,
            path_raw: flags & 1 != 0,
            continued: flags & 2 != 0,
            reason,
            first_part: d.u32(),
            part_count: d.u32(),
            chunks: d.u32(),
            text_bytes: d.u64(),
            fingerprints: d.u64(),
        };
        d.reserved(Self::LEN - 88);
        (flags & !3 == 0 && d.finish()).then_some(r)
    }
}

/// Where a part's text is when it does not own it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    /// The part owns its text: stored, fingerprinted, hashed.
    None,
    /// Same text as an earlier part of this segment.
    Local(u32),
    /// Same text as a part of an earlier segment of the index, found by its
    /// [`PartHash`] (the text is stored and fingerprinted there).
    External,
}

/// One text part (a document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRecord {
    /// Part name inside its file (empty for the file's own text).
    pub name: StrRef,
    /// Index of its file.
    pub file: u32,
    /// Table code of the format the part was read as.
    pub format: u8,
    /// Whether (and where) its text is stored elsewhere.
    pub duplicate: Duplicate,
    /// Offset of its text in the segment's text arena.
    pub text_offset: u64,
    /// Bytes of extracted text.
    pub text_len: u64,
    /// First normalized position of the part in the segment.
    pub norm_base: u32,
    /// Normalized bytes (0 for a duplicate).
    pub norm_len: u32,
    /// First of its checkpoints.
    pub first_checkpoint: u32,
    /// Number of its checkpoints.
    pub checkpoints: u32,
    /// Fingerprints it contributed.
    pub fingerprints: u32,
    /// First 16 bytes of the blake3 of its text.
    pub text_hash: [u8; 16],
}

impl PartRecord {
    /// Where `text_hash` lies in an encoded record (a test checks it
    /// against [`Record::encode`]).
    const TEXT_HASH: std::ops::Range<usize> = 56..72;

    /// The `text_hash` of an encoded record, read without decoding the
    /// rest (`Segment::part_text_hash`); `None` when `b` is not a whole
    /// record.
    pub fn text_hash_of(b: &[u8]) -> Option<[u8; 16]> {
        if b.len() != Self::LEN {
            return None;
        }
        b.get(Self::TEXT_HASH)?.try_into().ok()
    }
}

impl Record for PartRecord {
    const LEN: usize = 80;
    fn encode(&self, out: &mut [u8]) {
        let (kind, of) = match self.duplicate {
            Duplicate::None => (0u8, u32::MAX),
            Duplicate::Local(p) => (1, p),
            Duplicate::External => (2, u32::MAX),
        };
        let mut e = Enc::new(out);
        self.name.put(&mut e);
        e.u32(self.file)
            .u8(self.format)
            .u8(kind)
            .skip(2)
            .u64(self.text_offset)
            .u64(self.text_len)
            .u32(self.norm_base)
            .u32(self.norm_len)
            .u32(self.first_checkpoint)
            .u32(self.checkpoints)
            .u32(of)
            .u32(self.fingerprints)
            .bytes(&self.text_hash);
    }
    fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b);
        let name = StrRef::get(&mut d);
        let file = d.u32();
        let format = d.u8();
        let kind = d.u8();
        d.reserved(2);
        let text_offset = d.u64();
        let text_len = d.u64();
        let norm_base = d.u32();
        let norm_len = d.u32();
        let first_checkpoint = d.u32();
        let checkpoints = d.u32();
        let of = d.u32();
        let fingerprints = d.u32();
        let text_hash = d.array::<16>();
        d.reserved(Self::LEN - 72);
        let duplicate = match (kind, of) {
            (0, u32::MAX) => Duplicate::None,
            (1, p) if p != u32::MAX => Duplicate::Local(p),
            (2, u32::MAX) => Duplicate::External,
            _ => return None,
        };
        d.finish().then_some(PartRecord {
            name,
            file,
            format,
            duplicate,
            text_offset,
            text_len,
            norm_base,
            norm_len,
            first_checkpoint,
            checkpoints,
            fingerprints,
            text_hash,
        })
    }
}

/// One compressed text block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRecord {
    /// Offset of its bytes in the text data section.
    pub offset: u64,
    /// Compressed length.
    pub clen: u32,
    /// Uncompressed length.
    pub raw: u32,
}

impl Record for BlockRecord {
    const LEN: usize = 16;
    fn encode(&self, out: &mut [u8]) {
        Enc::new(out).u64(self.offset).u32(self.clen).u32(self.raw);
    }
    fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b);
        let r = BlockRecord {
            offset: d.u64(),
            clen: d.u32(),
            raw: d.u32(),
        };
        d.finish().then_some(r)
    }
}

/// A restart point: normalized position and text offset (both relative to
/// the part) at a char boundary of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Checkpoint {
    /// Normalized position in the part.
    pub norm: u32,
    /// Byte offset in the part's text.
    pub text: u32,
}

impl Record for Checkpoint {
    const LEN: usize = 8;
    fn encode(&self, out: &mut [u8]) {
        Enc::new(out).u32(self.norm).u32(self.text);
    }
    fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b);
        let r = Checkpoint {
            norm: d.u32(),
            text: d.u32(),
        };
        d.finish().then_some(r)
    }
}

/// One posting: the key bits below the directory's, a position, and the
/// k-gram's context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Posting {
    /// [`fragment`] of the key.
    pub frag: u16,
    /// Global normalized position in the segment.
    pub pos: u32,
    /// `fingerprint::context` of the k-gram at `pos`; in a segment of
    /// format 6 its `fingerprint::context_v6`, in one of format 5 its
    /// `fingerprint::context_v5`, in one of format 3 or 4
    /// the `fingerprint::narrow_context` of that (the low byte), and 0 in
    /// one of format 2, which has none (see [`Posting::decode_in`]).
    pub ctx: u16,
}

impl Record for Posting {
    const LEN: usize = 8;
    fn encode(&self, out: &mut [u8]) {
        Enc::new(out).u16(self.frag).u32(self.pos).u16(self.ctx);
    }
    fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b);
        let r = Posting {
            frag: d.u16(),
            pos: d.u32(),
            ctx: d.u16(),
        };
        d.finish().then_some(r)
    }
}

/// Length of a posting of format 2 (no context).
pub const POSTING_V2_LEN: usize = 6;
/// Length of a posting of formats 3 and 4 (a context byte).
pub const POSTING_V3_LEN: usize = 7;

/// What the postings of a segment keep of their k-gram's context (a new
/// format may add a width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContextWidth {
    /// None (format 2).
    None,
    /// `fingerprint::narrow_context`, 4 bits a side over 4 bytes (formats
    /// 3 and 4).
    Narrow,
    /// `fingerprint::context_v5`, 8 bits a side over 4 bytes (format 5).
    Wide,
    /// `fingerprint::context_v6`, 8 bits a side over 7 bytes (format 6).
    Long,
    /// `fingerprint::context`, 8 bits a side over 14 bytes (format 7 on).
    Longer,
}

impl ContextWidth {
    /// Normalized bytes the context summarizes on each side of a k-gram
    /// (0 without one): a shared run of `k + 2 * reach - 1` bytes or more
    /// agrees on one side at least wherever the k-gram falls in it.
    pub fn reach(self) -> usize {
        match self {
            ContextWidth::None => 0,
            ContextWidth::Narrow | ContextWidth::Wide => crate::fingerprint::CONTEXT_BYTES_V5,
            ContextWidth::Long => crate::fingerprint::CONTEXT_BYTES_V6,
            ContextWidth::Longer => crate::fingerprint::CONTEXT_BYTES,
        }
    }

    /// The context of the query k-gram at `pos` in `norm` that postings of
    /// this width are compared with ([`ContextWidth::agrees`]):
    /// `fingerprint::context`, `context_v6` or `context_v5` (of which
    /// [`ContextWidth::Narrow`] keeps the narrow byte); 0 without one.
    pub fn of_query(self, norm: &[u8], pos: usize, k: usize) -> u16 {
        use crate::fingerprint::{context, context_v5, context_v6};
        match self {
            ContextWidth::None => 0,
            ContextWidth::Narrow | ContextWidth::Wide => context_v5(norm, pos, k),
            ContextWidth::Long => context_v6(norm, pos, k),
            ContextWidth::Longer => context(norm, pos, k),
        }
    }

    /// Whether a query k-gram's context `query` (its
    /// [`ContextWidth::of_query`]) agrees on one side at least with a
    /// posting's `posting` as this width keeps it; always without a
    /// context.
    pub fn agrees(self, query: u16, posting: u16) -> bool {
        use crate::fingerprint::{context_agrees, narrow_context, narrow_context_agrees};
        match self {
            ContextWidth::None => true,
            ContextWidth::Narrow => narrow_context_agrees(narrow_context(query), posting as u8),
            ContextWidth::Wide | ContextWidth::Long | ContextWidth::Longer => {
                context_agrees(query, posting)
            }
        }
    }
}

impl Posting {
    /// Bytes of one posting in a segment of format `version`.
    pub fn len_in(version: u32) -> usize {
        match Posting::context_in(version) {
            ContextWidth::None => POSTING_V2_LEN,
            ContextWidth::Narrow => POSTING_V3_LEN,
            ContextWidth::Wide | ContextWidth::Long | ContextWidth::Longer => Posting::LEN,
        }
    }

    /// What postings of format `version` keep of the context.
    pub fn context_in(version: u32) -> ContextWidth {
        match version {
            ..=2 => ContextWidth::None,
            3 | 4 => ContextWidth::Narrow,
            5 => ContextWidth::Wide,
            6 => ContextWidth::Long,
            _ => ContextWidth::Longer,
        }
    }

    /// Decode one posting of format `version` (`b` is exactly
    /// [`Posting::len_in`] bytes); format 2's have context 0.
    pub fn decode_in(version: u32, b: &[u8]) -> Option<Posting> {
        let width = Posting::context_in(version);
        if matches!(
            width,
            ContextWidth::Wide | ContextWidth::Long | ContextWidth::Longer
        ) {
            return Posting::decode(b);
        }
        let mut d = Dec::new(b);
        let r = Posting {
            frag: d.u16(),
            pos: d.u32(),
            ctx: if width == ContextWidth::Narrow {
                u16::from(d.u8())
            } else {
                0
            },
        };
        d.finish().then_some(r)
    }
}

/// The bucket of a (remixed) key in a directory of `2^dir_bits` buckets:
/// its top `dir_bits` bits.
#[inline]
pub fn bucket_of(key: u64, dir_bits: u32) -> usize {
    if dir_bits == 0 {
        0
    } else {
        (key >> (64 - dir_bits)) as usize
    }
}

/// The 16 key bits a posting stores: those just below the directory bits.
#[inline]
pub fn fragment(key: u64, dir_bits: u32) -> u16 {
    ((key << dir_bits) >> 48) as u16
}

/// The shard of `key` in an index cut into `2^shard_bits` shards by key,
/// for a segment of a shard whose directory has `dir_bits` bits.
///
/// The shard number is the `shard_bits` key bits just below the shard
/// segment's key identity (its `dir_bits` directory bits and 16 fragment
/// bits). The unsharded segment had `dir_bits + shard_bits` directory
/// bits, so its identity is the shard's identity plus these bits: a lookup
/// in the key's shard returns exactly the postings a lookup in the
/// unsharded segment does, collisions included. Keys are remixed hashes
/// (`fingerprint::remix`), so these bits are uniform and the shards fill
/// evenly. Needs `dir_bits + 16 + shard_bits <= 64`.
#[inline]
pub fn shard_of(key: u64, dir_bits: u32, shard_bits: u32) -> u32 {
    if shard_bits == 0 {
        0
    } else {
        ((key << (dir_bits + 16)) >> (64 - shard_bits)) as u32
    }
}

/// A key found in many parts, with the number of parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Frequent {
    /// The remixed key.
    pub key: u64,
    /// Parts of the segment holding it.
    pub docs: u32,
}

impl Record for Frequent {
    const LEN: usize = 16;
    fn encode(&self, out: &mut [u8]) {
        Enc::new(out).u64(self.key).u32(self.docs);
    }
    fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b);
        let r = Frequent {
            key: d.u64(),
            docs: d.u32(),
        };
        d.reserved(4);
        d.finish().then_some(r)
    }
}

/// A content-defined chunk of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRecord {
    /// blake3 of the chunk.
    pub hash: [u8; 32],
    /// The file holding it.
    pub file: u32,
    /// Length.
    pub len: u32,
    /// Offset in the file.
    pub offset: u64,
}

impl Record for ChunkRecord {
    const LEN: usize = 48;
    fn encode(&self, out: &mut [u8]) {
        Enc::new(out)
            .bytes(&self.hash)
            .u32(self.file)
            .u32(self.len)
            .u64(self.offset);
    }
    fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b);
        let r = ChunkRecord {
            hash: d.array(),
            file: d.u32(),
            len: d.u32(),
            offset: d.u64(),
        };
        d.finish().then_some(r)
    }
}

/// The text hash of a part that owns its text, for finding identical text
/// across segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartHash {
    /// First 16 bytes of the blake3 of the text.
    pub hash: [u8; 16],
    /// The part.
    pub part: u32,
}

impl Record for PartHash {
    const LEN: usize = 20;
    fn encode(&self, out: &mut [u8]) {
        Enc::new(out).bytes(&self.hash).u32(self.part);
    }
    fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b);
        let r = PartHash {
            hash: d.array(),
            part: d.u32(),
        };
        d.finish().then_some(r)
    }
}

/// A [`IndexError::Corrupt`] for `section`.
pub(crate) fn corrupt(section: &'static str, detail: impl Into<String>) -> IndexError {
    IndexError::Corrupt {
        section,
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests;
