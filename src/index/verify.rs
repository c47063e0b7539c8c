//! `Segment::verify`'s structural half: every cross-reference of a segment
//! whose checksums already passed. Every record is decoded (reserved bytes
//! zero, fields in their domains), files own consecutive parts, parts tile
//! the normalized space, checkpoints increase, blocks tile the arena and
//! decompress, the directory is monotone, postings point inside the
//! normalized text and are sorted, frequent keys, chunks, file hashes and
//! part hashes are sorted and refer to existing records.

use super::segment::Segment;
use super::text::BlockCache;
use super::wire::*;
use super::IndexError;

/// Check the structure of `seg` (see the module docs).
///
/// # Errors
/// The first problem found, naming its section.
pub(crate) fn structure(seg: &Segment) -> Result<(), IndexError> {
    let m = *seg.meta();
    // Files and their part ranges.
    let mut next_part = 0u32;
    for i in 0..m.files {
        let f = seg.file(i)?;
        if !f.parts.is_empty() && f.parts.start != next_part {
            return Err(corrupt(
                "files",
                format!("file {i}: parts do not follow the previous file's"),
            ));
        }
        if f.status == FileStatus::Copy && !f.parts.is_empty() {
            return Err(corrupt("files", format!("file {i}: a copy with parts")));
        }
        if f.continued && (f.chunks != 0 || f.status == FileStatus::Copy) {
            return Err(corrupt(
                "files",
                format!("file {i}: a continuation with chunks or marked a copy"),
            ));
        }
        next_part = next_part.max(f.parts.end);
    }
    if next_part != m.parts {
        return Err(corrupt("files", "files do not account for every part"));
    }
    // Parts: normalized ranges tile, checkpoints increase, files exist.
    let mut norm = 0u64;
    let mut owners = 0u32;
    for i in 0..m.parts {
        let p = seg.part(i)?;
        if p.file >= m.files {
            return Err(corrupt(
                "parts",
                format!("part {i}: file {} out of range", p.file),
            ));
        }
        match p.duplicate {
            Duplicate::None => owners += u32::from(p.text_len > 0),
            Duplicate::Local(_) | Duplicate::External => {
                if p.norm_len != 0 || !p.checkpoints.is_empty() {
                    return Err(corrupt(
                        "parts",
                        format!("part {i}: a duplicate with text of its own"),
                    ));
                }
            }
        }
        if p.norm_len > 0 {
            if u64::from(p.norm_base) != norm {
                return Err(corrupt(
                    "parts",
                    format!(
                        "part {i}: normalized base {} where {norm} was expected",
                        p.norm_base
                    ),
                ));
            }
            norm += u64::from(p.norm_len);
        }
        let mut prev = Checkpoint { norm: 0, text: 0 };
        for c in p.checkpoints.clone() {
            let ck = checkpoint(seg, c)?;
            if ck.norm < prev.norm
                || ck.text < prev.text
                || ck.norm > p.norm_len
                || u64::from(ck.text) > p.text_len
            {
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
    if owners != m.part_hashes {
        return Err(corrupt(
            "part hashes",
            format!(
                "{} part hashes for {owners} parts that own a text",
                m.part_hashes
            ),
        ));
    }
    // Text blocks tile the arena and decompress.
    let bs = u64::from(m.block_size);
    if m.text_bytes.div_ceil(bs) != u64::from(m.blocks) {
        return Err(corrupt(
            "text blocks",
            format!("{} blocks for {} bytes of text", m.blocks, m.text_bytes),
        ));
    }
    let mut cache = BlockCache::new(0);
    let mut data_end = 0u64;
    for i in 0..m.blocks {
        let start = u64::from(i) * bs;
        let want = seg.block_len(i);
        let got = seg.arena_cached(start..start + want, &mut cache)?;
        if got.len() as u64 != want {
            return Err(corrupt(
                "text blocks",
                format!("block {i} holds {} bytes, expected {want}", got.len()),
            ));
        }
        let rec = block(seg, i)?;
        if rec.offset != data_end || u64::from(rec.raw) != want {
            return Err(corrupt(
                "text blocks",
                format!("block {i} does not follow the previous one"),
            ));
        }
        data_end += u64::from(rec.clen);
    }
    if data_end != section(seg, SectionKind::TextData).len() as u64 {
        return Err(corrupt("text data", "blocks do not cover the text data"));
    }
    // Directory is monotone and ends at the posting count; postings point
    // inside the normalized space and are sorted within a bucket.
    let dir = section(seg, SectionKind::FpDirectory);
    let nb = 1usize << m.dir_bits;
    let entry =
        |i: usize| u32::from_le_bytes([dir[i * 4], dir[i * 4 + 1], dir[i * 4 + 2], dir[i * 4 + 3]]);
    let post = section(seg, SectionKind::FpPostings);
    let version = seg.header().version;
    let plen = Posting::len_in(version);
    if entry(0) != 0 {
        return Err(corrupt("fingerprint directory", "first entry is not 0"));
    }
    for i in 0..nb {
        let (lo, hi) = (entry(i), entry(i + 1));
        if hi < lo {
            return Err(corrupt(
                "fingerprint directory",
                format!("entry {i} decreases"),
            ));
        }
        let mut prev: Option<Posting> = None;
        for k in lo..hi {
            let at = k as usize * plen;
            let p = post
                .get(at..at + plen)
                .and_then(|b| Posting::decode_in(version, b))
                .ok_or_else(|| corrupt("fingerprint postings", "bucket past the postings"))?;
            if u64::from(p.pos) >= m.norm_bytes {
                return Err(corrupt(
                    "fingerprint postings",
                    format!("position {} past the normalized text", p.pos),
                ));
            }
            if prev.is_some_and(|q| q > p) {
                return Err(corrupt(
                    "fingerprint postings",
                    format!("bucket {i} not sorted"),
                ));
            }
            prev = Some(p);
        }
    }
    if u64::from(entry(nb)) != m.postings {
        return Err(corrupt(
            "fingerprint directory",
            "last entry is not the posting count",
        ));
    }
    let freq: Vec<Frequent> = seg.frequent().collect();
    if freq.len() != m.frequent as usize {
        return Err(corrupt("frequent fingerprints", "a record does not decode"));
    }
    if freq.windows(2).any(|w| w[0].key >= w[1].key)
        || freq
            .iter()
            .any(|f| f.docs < m.common_min_docs || f.docs > m.parts)
    {
        return Err(corrupt(
            "frequent fingerprints",
            "keys not strictly increasing or part counts out of range",
        ));
    }
    let chunks: Vec<ChunkRecord> = seg.chunks().collect();
    if chunks.len() != m.chunks as usize {
        return Err(corrupt("chunks", "a record does not decode"));
    }
    for (i, c) in chunks.iter().enumerate() {
        if c.file >= m.files {
            return Err(corrupt("chunks", format!("chunk {i}: file out of range")));
        }
        if i > 0 && chunks[i - 1].hash > c.hash {
            return Err(corrupt("chunks", "chunks not sorted by hash"));
        }
    }
    let fh = section(seg, SectionKind::FileHashes);
    let mut seen = vec![false; m.files as usize];
    let mut prev_hash: Option<[u8; 32]> = None;
    for (i, id) in fh
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .enumerate()
    {
        match seen.get_mut(id as usize) {
            Some(s) if !*s => *s = true,
            _ => {
                return Err(corrupt(
                    "file hashes",
                    format!("entry {i}: file {id} out of range or repeated"),
                ))
            }
        }
        let h = seg.file(id)?.blake3;
        if prev_hash.is_some_and(|p| p > h) {
            return Err(corrupt("file hashes", "not sorted by hash"));
        }
        prev_hash = Some(h);
    }
    let ph = section(seg, SectionKind::PartHashes);
    let mut prev: Option<PartHash> = None;
    for (i, r) in ph.chunks_exact(PartHash::LEN).enumerate() {
        let r =
            PartHash::decode(r).ok_or_else(|| corrupt("part hashes", "record does not decode"))?;
        let p = seg.part(r.part)?;
        if p.duplicate != Duplicate::None || p.text_hash != r.hash {
            return Err(corrupt(
                "part hashes",
                format!("entry {i}: part {} does not own that text", r.part),
            ));
        }
        if prev.is_some_and(|q| q.hash >= r.hash) {
            return Err(corrupt("part hashes", "hashes not strictly increasing"));
        }
        prev = Some(r);
    }
    Ok(())
}

fn section(seg: &Segment, kind: SectionKind) -> &[u8] {
    &seg.bytes()[seg.section_range(kind)]
}

fn checkpoint(seg: &Segment, i: u32) -> Result<Checkpoint, IndexError> {
    let b = section(seg, SectionKind::Checkpoints);
    b.get(i as usize * Checkpoint::LEN..(i as usize + 1) * Checkpoint::LEN)
        .and_then(Checkpoint::decode)
        .ok_or_else(|| corrupt("checkpoints", format!("record {i} out of range")))
}

fn block(seg: &Segment, i: u32) -> Result<BlockRecord, IndexError> {
    let b = section(seg, SectionKind::TextBlocks);
    b.get(i as usize * BlockRecord::LEN..(i as usize + 1) * BlockRecord::LEN)
        .and_then(BlockRecord::decode)
        .ok_or_else(|| corrupt("text blocks", format!("record {i} out of range")))
}
