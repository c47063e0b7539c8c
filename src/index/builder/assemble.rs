//! Stage 4, assembly: file results, in input order, become the records of
//! one segment. Sequential, and kept light (a copy of each text into the
//! arena, a push of each fingerprint): the heavy work is done in parallel
//! before (read, extract, analyze) and after (block compression, partition
//! sorts).
//!
//! Here identical content is stored once: a file byte-identical to one
//! already in the index (same blake3) becomes a [`FileStatus::Copy`]
//! record; a part whose text an earlier part holds becomes a duplicate
//! record (of this segment, or of an earlier segment of the index found by
//! its text hash) with no text and no fingerprints of its own. The first
//! occurrence in input order owns the content, so the result does not
//! depend on the thread count.

use std::collections::HashMap;

use rayon::prelude::*;

use super::super::lz4::Lz4Dict;
use super::super::text::{self, Arena};
use super::super::wire::*;
use super::super::IndexError;
use super::postings::{KeySink, KeyTotals};
use super::read::{FileResult, PartResult};
use super::write::SegmentWriter;
use super::BuildSummary;
use crate::chunk::Chunk;

/// Content already in the index before this build (appends): what the
/// assembly must not store twice.
pub(crate) trait Prior: Sync {
    /// A live file with these bytes exists.
    fn has_file(&self, blake3: &[u8; 32]) -> bool;
    /// A part of an earlier segment owns this text.
    fn has_text(&self, hash: &[u8; 16]) -> bool;
}

/// No earlier content (a fresh build, or a segment built in memory).
pub(crate) struct NoPrior;
impl Prior for NoPrior {
    fn has_file(&self, _: &[u8; 32]) -> bool {
        false
    }
    fn has_text(&self, _: &[u8; 16]) -> bool {
        false
    }
}

/// Everything accumulated for the segment being built.
pub(crate) struct SegState {
    strings: Vec<u8>,
    files: Vec<u8>,
    file_count: u32,
    parts: Vec<u8>,
    part_count: u32,
    /// Checkpoint records, spilled to a file past a MiB (at one every 256
    /// bytes of text they are 3% of it: a 5 GB mailbox's would not fit in
    /// the build's memory budget).
    checkpoints: Spill,
    checkpoint_count: u32,
    chunks: Vec<(Chunk, u32)>,
    file_hashes: Vec<([u8; 32], u32)>,
    part_hashes: Vec<PartHash>,
    /// Text hash -> owning part, in this segment.
    texts: HashMap<[u8; 16], u32>,
    /// blake3 -> first file, in this segment.
    files_by_hash: HashMap<[u8; 32], u32>,
    pub(crate) arena: Arena,
    /// The LZ4 dictionary of the text blocks, once trained on the first
    /// blocks (`None` until then: blocks wait in the arena).
    dict: Option<std::sync::Arc<Lz4Dict>>,
    /// Whether the dictionary is trained on a thread of its own (a build
    /// on more than one thread), and that training, under way.
    train_apart: bool,
    training: Option<std::thread::JoinHandle<Lz4Dict>>,
    /// Block records, spilled like the checkpoints (one per KiB of text).
    blocks: Spill,
    block_count: u32,
    text_data_len: u64,
    pub(crate) keys: KeySink,
    /// The key buffer's share of the budget, before the records held.
    key_budget: u64,
    /// (first normalized position, part) of every part with normalized text.
    pub(crate) bases: Vec<(u32, u32)>,
    pub(crate) norm_total: u64,
}

/// Text blocks taken from the arena to be compressed, possibly on other
/// threads, and written in order ([`SegState::take_blocks`]).
pub(crate) struct Blocks {
    /// The blocks, uncompressed, in text order.
    pub(crate) raw: Vec<Vec<u8>>,
    dict: std::sync::Arc<Lz4Dict>,
    codec: Codec,
}

/// Compressed text blocks end to end, and the length of each: one
/// allocation for many blocks. The blocks are compressed on pool threads
/// and freed by the assembling thread; freed one by one, each free took the
/// lock of the pool thread's malloc arena while that thread allocated, and
/// the assembly blocked on it 94,000 times in a one-thread build of the
/// 1 GB scale corpus.
#[derive(Default)]
pub(crate) struct Packed {
    bytes: Vec<u8>,
    lens: Vec<u32>,
}

impl Blocks {
    /// Blocks per compression job: 512 KiB of text at the default block
    /// size, about 3 ms of LZ4, so that the jobs fill the gaps at the end
    /// of a batch's read without a job's own end leaving a thread idle for
    /// long.
    pub(crate) const JOB_BLOCKS: usize = 64;

    /// Compression jobs of [`Blocks::JOB_BLOCKS`] blocks.
    pub(crate) fn jobs(&self) -> usize {
        self.raw.len().div_ceil(Self::JOB_BLOCKS)
    }

    /// The compressed blocks of job `job` (one compression context for
    /// all; the output does not depend on the context, the golden segment
    /// checks it).
    ///
    /// # Errors
    /// Only when zstd cannot allocate a context.
    pub(crate) fn compress(&self, job: usize) -> std::io::Result<Packed> {
        let from = job * Self::JOB_BLOCKS;
        let to = (from + Self::JOB_BLOCKS).min(self.raw.len());
        let (mut ctx, mut table) = (None, Vec::new());
        let raw = &self.raw[from..to];
        let mut out = Packed {
            bytes: Vec::with_capacity(raw.iter().map(Vec::len).sum::<usize>() / 2),
            lens: Vec::with_capacity(raw.len()),
        };
        for b in raw {
            let len = text::compress_append(
                self.codec,
                b,
                &self.dict,
                &mut ctx,
                &mut table,
                &mut out.bytes,
            )?;
            out.lens.push(len as u32);
        }
        Ok(out)
    }
}

impl SegState {
    /// An empty segment spilling keys into `dir` beyond `key_budget` bytes.
    pub(crate) fn new(dir: &std::path::Path, key_budget: u64, block: u32) -> SegState {
        SegState {
            strings: Vec::new(),
            files: Vec::new(),
            file_count: 0,
            parts: Vec::new(),
            part_count: 0,
            checkpoints: Spill::new(dir, "checkpoints"),
            checkpoint_count: 0,
            chunks: Vec::new(),
            file_hashes: Vec::new(),
            part_hashes: Vec::new(),
            texts: HashMap::new(),
            files_by_hash: HashMap::new(),
            arena: Arena::new(block),
            dict: None,
            train_apart: false,
            training: None,
            blocks: Spill::new(dir, "blocks"),
            block_count: 0,
            text_data_len: 0,
            keys: KeySink::new(dir, key_budget),
            key_budget,
            bases: Vec::new(),
            norm_total: 0,
        }
    }

    /// Train the text blocks' dictionary on a thread of its own (see
    /// [`SegState::take_blocks`]); the dictionary is the same.
    pub(crate) fn train_dictionary_apart(&mut self, apart: bool) {
        self.train_apart = apart;
    }

    /// Bytes the records of this segment hold in memory (strings, files,
    /// parts, checkpoints, chunks, hashes, the text map): about 200 bytes
    /// per part, which a mailbox of a million messages makes count.
    pub(crate) fn held(&self) -> u64 {
        let chunk = std::mem::size_of::<(Chunk, u32)>();
        (self.strings.capacity()
            + self.files.capacity()
            + self.parts.capacity()
            + self.checkpoints.held()
            + self.blocks.held()
            + self.chunks.capacity() * chunk
            + self.file_hashes.capacity() * 36
            + self.part_hashes.capacity() * std::mem::size_of::<PartHash>()
            + self.texts.capacity() * 24
            + self.files_by_hash.capacity() * 40
            + self.bases.capacity() * 8) as u64
    }

    /// Shrink the key buffer's budget by what the records hold, so that
    /// both stay within the budget together (the key buffer keeps a
    /// quarter of its share at least).
    ///
    /// # Errors
    /// I/O errors of a spill.
    pub(crate) fn rebudget(&mut self) -> Result<(), IndexError> {
        let budget = self
            .key_budget
            .saturating_sub(self.held())
            .max(self.key_budget / 4);
        self.keys.set_budget(budget)
    }

    /// Files recorded so far.
    pub(crate) fn file_count(&self) -> u32 {
        self.file_count
    }

    /// Parts recorded so far.
    pub(crate) fn part_count(&self) -> u32 {
        self.part_count
    }

    fn string(&mut self, s: &[u8]) -> StrRef {
        if s.is_empty() {
            return StrRef::default();
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s);
        StrRef {
            off,
            len: s.len() as u32,
        }
    }

    /// Add one file's records, deduplicating its content.
    ///
    /// # Errors
    /// I/O errors of a key spill.
    pub(crate) fn add_file(
        &mut self,
        mut r: FileResult,
        prior: &dyn Prior,
        summary: &mut BuildSummary,
    ) -> Result<(), IndexError> {
        // A continuation shares its hash with its own first record: it is
        // the rest of that file, not a copy of it.
        if r.status != FileStatus::Skipped && !r.continued && self.is_copy(&r.blake3, prior) {
            // Its content is in the index already: keep the path only.
            r.status = FileStatus::Copy;
            r.parts.clear();
            r.chunks.clear();
            summary.copies += 1;
        }
        let mut f = self.open_file(&r.blake3, r.status, r.continued);
        for p in std::mem::take(&mut r.parts) {
            self.add_part(&mut f, p, prior, summary)?;
        }
        self.close_file(f, r, summary);
        Ok(())
    }

    /// Whether a file with these bytes is in this segment or the index.
    pub(crate) fn is_copy(&self, blake3: &[u8; 32], prior: &dyn Prior) -> bool {
        self.files_by_hash.contains_key(blake3) || prior.has_file(blake3)
    }

    /// Start the records of one file with this hash and status; its parts
    /// follow ([`SegState::add_part`]), then [`SegState::close_file`]. One
    /// file is open at a time. A `continued` record (the rest of a file
    /// begun in an earlier segment) is not a whole file: copies are not
    /// found by it.
    pub(crate) fn open_file(
        &mut self,
        blake3: &[u8; 32],
        status: FileStatus,
        continued: bool,
    ) -> OpenFile {
        let id = self.file_count;
        self.file_count += 1;
        if status != FileStatus::Skipped && status != FileStatus::Copy && !continued {
            self.files_by_hash.insert(*blake3, id);
        }
        OpenFile {
            id,
            first_part: self.part_count,
            text_bytes: 0,
            fingerprints: 0,
            any_text: false,
        }
    }

    /// Add one part of the open file `f`, deduplicating its text.
    ///
    /// # Errors
    /// I/O errors of a key spill.
    pub(crate) fn add_part(
        &mut self,
        f: &mut OpenFile,
        p: PartResult,
        prior: &dyn Prior,
        summary: &mut BuildSummary,
    ) -> Result<(), IndexError> {
        let part_id = self.part_count;
        self.part_count += 1;
        summary.parts += 1;
        f.text_bytes += p.text.len() as u64;
        f.any_text |= !p.text.is_empty();
        summary.text_bytes += p.text.len() as u64;
        let a = p.analysis;
        let name = self.string(p.name.as_bytes());
        let mut rec = PartRecord {
            name,
            file: f.id,
            format: crate::index::format_code(p.format),
            duplicate: Duplicate::None,
            text_offset: 0,
            text_len: 0,
            norm_base: self.norm_total as u32,
            norm_len: 0,
            first_checkpoint: self.checkpoint_count,
            checkpoints: 0,
            fingerprints: 0,
            text_hash: a.text_hash,
        };
        // Empty texts (binary parts inside containers) are not
        // deduplicated: they are all equal and say nothing.
        let local = if p.text.is_empty() {
            None
        } else {
            self.texts.get(&a.text_hash).copied()
        };
        if let Some(orig) = local {
            summary.duplicate_parts += 1;
            rec.duplicate = Duplicate::Local(orig);
        } else if !p.text.is_empty() && prior.has_text(&a.text_hash) {
            summary.duplicate_parts += 1;
            rec.duplicate = Duplicate::External;
        } else {
            if !p.text.is_empty() {
                self.texts.insert(a.text_hash, part_id);
            }
            rec.text_offset = self.arena.push(p.text.as_bytes());
            rec.text_len = p.text.len() as u64;
            rec.norm_len = a.norm_len;
            for c in &a.checkpoints {
                c.push_to(&mut self.checkpoints.buf);
            }
            self.checkpoints.spill_if_full()?;
            self.checkpoint_count += a.checkpoints.len() as u32;
            rec.checkpoints = a.checkpoints.len() as u32;
            rec.fingerprints = a.fps.len() as u32;
            if !p.text.is_empty() {
                self.part_hashes.push(PartHash {
                    hash: a.text_hash,
                    part: part_id,
                });
            }
            let base = self.norm_total as u32;
            if a.norm_len > 0 {
                self.bases.push((base, part_id));
            }
            f.fingerprints += a.fps.len() as u64;
            self.keys.push_part(&a.fps, base)?;
            self.norm_total += u64::from(a.norm_len);
        }
        rec.push_to(&mut self.parts);
        Ok(())
    }

    /// End the open file `f` with the record of `r` (whose parts were added
    /// already; `r.parts` is ignored). A continuation (`r.continued`) is
    /// counted with its first record, not as a file of its own, and keeps
    /// no chunks (the first record holds the file's).
    pub(crate) fn close_file(&mut self, f: OpenFile, r: FileResult, summary: &mut BuildSummary) {
        if !r.continued {
            summary.files += 1;
            summary.bytes += r.size;
            match r.status {
                FileStatus::Indexed => summary.indexed += 1,
                FileStatus::Binary => summary.binary += 1,
                FileStatus::Skipped => summary.skipped_files += 1,
                FileStatus::Copy => {}
            }
        }
        debug_assert!(!r.continued || r.chunks.is_empty());
        let display = crate::names::display(&r.name);
        for (name, reason) in &r.notes {
            summary
                .skipped
                .push((crate::names::join_part(&display, name), reason.clone()));
        }
        let path = self.string(&r.name);
        let reason = self.string(r.reason.as_bytes());
        FileRecord {
            path,
            size: r.size,
            blake3: r.blake3,
            format: r.format.map_or(0, crate::index::format_code),
            status: r.status,
            path_raw: crate::names::is_escaped(&r.name),
            continued: r.continued,
            reason,
            first_part: f.first_part,
            part_count: self.part_count - f.first_part,
            chunks: r.chunks.len() as u32,
            text_bytes: f.text_bytes,
            fingerprints: f.fingerprints,
        }
        .push_to(&mut self.files);
        summary.chunks += r.chunks.len() as u64;
        self.chunks.extend(r.chunks.into_iter().map(|c| (c, f.id)));
        if r.status != FileStatus::Skipped {
            self.file_hashes.push((r.blake3, f.id));
        }
    }

    /// Compress the full text blocks waiting in the arena and write them,
    /// on the pool (see [`SegState::take_blocks`]).
    ///
    /// # Errors
    /// Compression and I/O errors.
    pub(crate) fn flush_blocks(
        &mut self,
        pool: &rayon::ThreadPool,
        codec: Codec,
        w: &mut SegmentWriter,
    ) -> Result<(), IndexError> {
        let Some(blocks) = self.take_blocks(codec) else {
            return Ok(());
        };
        let compressed: Vec<std::io::Result<Packed>> = pool.install(|| {
            (0..blocks.jobs())
                .into_par_iter()
                .map(|j| blocks.compress(j))
                .collect()
        });
        self.write_blocks(&blocks, compressed, w)
    }

    /// The full text blocks waiting in the arena, with the dictionary to
    /// compress them against, or `None` when there are none or the LZ4
    /// dictionary is still waiting for its training text (the first
    /// [`text::DICT_TRAIN_BYTES`], or the end of the segment's text) or
    /// being trained on its own thread (see
    /// [`SegState::train_dictionary_apart`]; joined once the arena is
    /// finished; a state dropped meanwhile, on an error, leaves that
    /// thread to end on its own with its copy of the samples).
    /// They must be written ([`SegState::write_blocks`]) before any later
    /// blocks are taken.
    pub(crate) fn take_blocks(&mut self, codec: Codec) -> Option<Blocks> {
        let dict = match &self.dict {
            Some(d) => d.clone(),
            None => {
                let d = std::sync::Arc::new(self.dictionary(codec)?);
                self.dict = Some(d.clone());
                d
            }
        };
        let raw = std::mem::take(&mut self.arena.pending);
        if raw.is_empty() {
            return None;
        }
        Some(Blocks { raw, dict, codec })
    }

    /// The text blocks' dictionary once it can be had (see
    /// [`SegState::take_blocks`]): `None` while it waits for its training
    /// text or is being trained on its own thread.
    fn dictionary(&mut self, codec: Codec) -> Option<Lz4Dict> {
        if let Some(t) = self.training.take() {
            // Still training: the blocks wait, unless no more text comes.
            if !t.is_finished() && !self.arena.finished {
                self.training = Some(t);
                return None;
            }
            return Some(t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        if codec != Codec::Lz4 {
            return Some(Lz4Dict::empty());
        }
        let held: usize = self.arena.pending.iter().map(Vec::len).sum();
        if held < text::DICT_TRAIN_BYTES && !self.arena.finished {
            return None;
        }
        // The first blocks up to the training size (the one that reaches
        // it included).
        let mut took = 0;
        let count = self
            .arena
            .pending
            .iter()
            .take_while(|b| {
                let more = took < text::DICT_TRAIN_BYTES;
                took += b.len();
                more
            })
            .count();
        let train = |samples: &[Vec<u8>]| Lz4Dict::new(&text::train_dictionary(samples));
        if self.train_apart && !self.arena.finished {
            // On a thread of its own, while this one assembles the next
            // batches (their blocks wait): zstd's trainer takes 0.1-0.2 s,
            // at the start of a build, when nothing else kept the pool's
            // threads busy once they had read the batches ahead.
            let samples = self.arena.pending[..count].to_vec();
            self.training = Some(std::thread::spawn(move || train(&samples)));
            return None;
        }
        Some(train(&self.arena.pending[..count]))
    }

    /// Write blocks taken by [`SegState::take_blocks`], compressed (the
    /// results of [`Blocks::compress`] for every job, in order), to the
    /// text data.
    ///
    /// # Errors
    /// Compression and I/O errors.
    pub(crate) fn write_blocks(
        &mut self,
        blocks: &Blocks,
        compressed: Vec<std::io::Result<Packed>>,
        w: &mut SegmentWriter,
    ) -> Result<(), IndexError> {
        debug_assert_eq!(blocks.jobs(), compressed.len());
        let mut raw = blocks.raw.iter();
        for job in compressed {
            let job = job.map_err(|e| IndexError::Compress {
                codec: blocks.codec.name(),
                source: e,
            })?;
            let mut at = 0;
            for (&len, raw) in job.lens.iter().zip(raw.by_ref()) {
                at += len as usize;
                BlockRecord {
                    offset: self.text_data_len,
                    clen: len,
                    raw: raw.len() as u32,
                }
                .push_to(&mut self.blocks.buf);
                self.block_count += 1;
                self.text_data_len += u64::from(len);
            }
            // The job's blocks lie end to end: written (and hashed for the
            // section's checksum) at once. Block by block, the hash ran on
            // a few hundred bytes at a time, one 64-byte block after
            // another, on this thread (callgrind, an 8.6 MB subset of the
            // scale dump: blake3 121 M -> 99 M instructions of 2,490 M).
            let bytes = job.bytes.get(..at).ok_or_else(|| IndexError::Compress {
                codec: blocks.codec.name(),
                source: std::io::Error::other("a compression job's blocks overrun its bytes"),
            })?;
            if !bytes.is_empty() {
                w.write(bytes)?;
            }
        }
        self.blocks.spill_if_full()
    }

    /// Write every section after the text data (which must be complete and
    /// ended) and the meta.
    ///
    /// The keys `totals` asks for (see [`KeyTotals`]) go to `global` with
    /// their counts, in key order, a partition at a time.
    ///
    /// # Errors
    /// I/O errors, and `global`'s.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish(
        mut self,
        w: &mut SegmentWriter,
        pool: &rayon::ThreadPool,
        params: &SegmentParams,
        totals: KeyTotals<'_>,
        global: &mut dyn FnMut(&[Frequent]) -> Result<(), IndexError>,
        summary: &mut BuildSummary,
    ) -> Result<Finished, IndexError> {
        // Every block was compressed and written: the last flush follows
        // `Arena::finish`, which ends the dictionary's wait.
        debug_assert!(self.arena.finished && self.arena.pending.is_empty());
        // The text blocks' dictionary (empty without one).
        let dict = self.dict.take();
        w.section(
            SectionKind::TextDictionary,
            dict.as_ref().map_or(&[][..], |d| d.bytes()),
        )?;
        // Texts this segment stores (parts that own a non-empty text).
        let owners = self.part_hashes.len() as u64;
        let common_docs = ((params.common_fraction * owners as f64).ceil() as u64)
            .max(u64::from(params.common_min_docs))
            .min(u64::from(u32::MAX)) as u32;
        let dir_bits = self.keys.dir_bits()?;
        let parts_with_text = self.bases.len();
        let lookup = PartLookup::new(std::mem::take(&mut self.bases));
        let part_of = move |pos: u32| lookup.find(pos);
        // Postings, then the directory (kept in memory meanwhile: 4 bytes
        // per bucket, half a byte per posting).
        let mut dir: Vec<u8> = Vec::with_capacity(((1usize << dir_bits) + 1) * 4);
        let mut frequent: Vec<Frequent> = Vec::new();
        let keys = std::mem::replace(&mut self.keys, KeySink::new(std::path::Path::new("."), 0));
        w.begin(SectionKind::FpPostings);
        let postings_total = keys.finish(
            pool,
            params.common_min_docs,
            &part_of,
            parts_with_text,
            totals,
            &mut |out| {
                for &d in out.dir {
                    let abs = out.base + u64::from(d);
                    dir.extend_from_slice(&(abs as u32).to_le_bytes());
                }
                frequent.extend_from_slice(out.frequent);
                global(out.global)?;
                w.write(out.postings)
            },
        )?;
        w.end()?;
        dir.extend_from_slice(&(postings_total as u32).to_le_bytes());
        w.section(SectionKind::FpDirectory, &dir)?;
        drop(dir);
        w.section(SectionKind::Strings, &self.strings)?;
        w.section(SectionKind::Files, &self.files)?;
        w.section(SectionKind::Parts, &self.parts)?;
        self.blocks.write_to(w, SectionKind::TextBlocks)?;
        self.checkpoints.write_to(w, SectionKind::Checkpoints)?;
        let mut freq = Vec::with_capacity(frequent.len() * Frequent::LEN);
        for f in &frequent {
            f.push_to(&mut freq);
        }
        w.section(SectionKind::Frequent, &freq)?;
        self.chunks.sort_by_key(|a| (a.0.hash, a.1, a.0.offset));
        let mut chunk_bytes = Vec::with_capacity(self.chunks.len() * ChunkRecord::LEN);
        for (c, f) in &self.chunks {
            ChunkRecord {
                hash: c.hash,
                file: *f,
                len: c.len,
                offset: c.offset,
            }
            .push_to(&mut chunk_bytes);
        }
        w.section(SectionKind::Chunks, &chunk_bytes)?;
        // Every file, skipped ones (zero hash) included, in hash order.
        let mut fh: Vec<([u8; 32], u32)> = Vec::with_capacity(self.file_count as usize);
        let mut with_hash = vec![false; self.file_count as usize];
        for &(h, id) in &self.file_hashes {
            with_hash[id as usize] = true;
            fh.push((h, id));
        }
        for (id, has) in with_hash.iter().enumerate() {
            if !has {
                fh.push(([0; 32], id as u32));
            }
        }
        fh.sort_unstable();
        let fh_bytes: Vec<u8> = fh.iter().flat_map(|(_, id)| id.to_le_bytes()).collect();
        w.section(SectionKind::FileHashes, &fh_bytes)?;
        self.part_hashes.sort_unstable();
        let mut ph = Vec::with_capacity(self.part_hashes.len() * PartHash::LEN);
        for p in &self.part_hashes {
            p.push_to(&mut ph);
        }
        w.section(SectionKind::PartHashes, &ph)?;
        let meta = Meta {
            files: self.file_count,
            parts: self.part_count,
            postings: postings_total,
            dir_bits,
            block_size: params.block,
            text_bytes: self.arena.len,
            norm_bytes: self.norm_total,
            blocks: self.block_count,
            checkpoints: self.checkpoint_count,
            frequent: frequent.len() as u32,
            chunks: self.chunks.len() as u32,
            chunk_min: params.chunk.min_size,
            chunk_avg: params.chunk.avg_size,
            chunk_max: params.chunk.max_size,
            common_min_docs: params.common_min_docs,
            common_docs,
            codec: params.codec,
            part_hashes: self.part_hashes.len() as u32,
        };
        w.section(SectionKind::Meta, &meta.encode())?;
        summary.postings += postings_total;
        Ok(Finished { owners })
    }
}

/// Bytes of one section gathered while the text data is being written:
/// kept in memory up to [`Spill::LIMIT`], then appended to a temporary file
/// in the build's folder, and copied into the segment when it is written.
struct Spill {
    dir: std::path::PathBuf,
    what: &'static str,
    /// Bytes not yet spilled.
    buf: Vec<u8>,
    /// The temporary file and the bytes it holds.
    file: Option<(std::path::PathBuf, std::fs::File, u64)>,
    /// Bytes held in memory at most ([`Spill::LIMIT`]; less in tests).
    limit: usize,
}

impl Spill {
    /// Bytes held in memory at most.
    const LIMIT: usize = 1 << 20;

    fn new(dir: &std::path::Path, what: &'static str) -> Spill {
        Spill {
            dir: dir.to_path_buf(),
            what,
            buf: Vec::new(),
            file: None,
            limit: Self::LIMIT,
        }
    }

    /// Memory held.
    fn held(&self) -> usize {
        self.buf.capacity()
    }

    /// Append the buffer to the file once it holds [`Spill::LIMIT`] bytes.
    fn spill_if_full(&mut self) -> Result<(), IndexError> {
        use std::io::Write;
        if self.buf.len() < self.limit {
            return Ok(());
        }
        if self.file.is_none() {
            let path = super::output::temp_name(&self.dir, self.what);
            let f = std::fs::OpenOptions::new()
                .create_new(true)
                .read(true)
                .write(true)
                .open(&path)
                .map_err(|e| IndexError::io(&path, e))?;
            self.file = Some((path, f, 0));
        }
        if let Some((path, f, n)) = self.file.as_mut() {
            f.write_all(&self.buf)
                .map_err(|e| IndexError::io(path, e))?;
            *n += self.buf.len() as u64;
        }
        self.buf.clear();
        Ok(())
    }

    /// Write everything gathered as section `kind`.
    fn write_to(&mut self, w: &mut SegmentWriter, kind: SectionKind) -> Result<(), IndexError> {
        use std::io::{Read, Seek};
        w.begin(kind);
        if let Some((path, f, n)) = self.file.as_mut() {
            f.seek(std::io::SeekFrom::Start(0))
                .map_err(|e| IndexError::io(path, e))?;
            let mut left = *n;
            let mut chunk = vec![0u8; self.limit.max(1)];
            while left > 0 {
                let take = left.min(chunk.len() as u64) as usize;
                f.read_exact(&mut chunk[..take])
                    .map_err(|e| IndexError::io(path, e))?;
                w.write(&chunk[..take])?;
                left -= take as u64;
            }
        }
        w.write(&self.buf)?;
        w.end()
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        if let Some((path, _, _)) = &self.file {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Which part a normalized position of the segment falls in, for the part
/// counts of every key (one look-up per posting of a repeated key: a
/// binary search over a million parts' bases was a quarter of the time
/// of a 1 GB mailbox).
///
/// A table gives, for every block of `1 << BLOCK_SHIFT` positions, the
/// last part starting at or before the block; a position is then looked
/// up among the few parts that start inside its block. The answer is that
/// of `bases.partition_point(|b| b.0 <= pos) - 1` (0 before the first
/// base), the naive oracle of the tests.
pub(crate) struct PartLookup {
    bases: Vec<u32>,
    first: Vec<u32>,
}

impl PartLookup {
    const BLOCK_SHIFT: u32 = 12;

    /// From the (first position, part) of every part with text, in
    /// position order.
    pub(crate) fn new(bases: Vec<(u32, u32)>) -> PartLookup {
        let bases: Vec<u32> = bases.into_iter().map(|(b, _)| b).collect();
        let blocks = bases
            .last()
            .map_or(1, |&b| (b >> Self::BLOCK_SHIFT) as usize + 1);
        let mut first = Vec::with_capacity(blocks + 1);
        let mut i = 0usize;
        for block in 0..=blocks as u64 {
            let start = block << Self::BLOCK_SHIFT;
            while i < bases.len() && u64::from(bases[i]) <= start {
                i += 1;
            }
            first.push(i.saturating_sub(1) as u32);
        }
        PartLookup { bases, first }
    }

    /// The ordinal of the part holding `pos`, and the first position after
    /// it (`u32::MAX` for the last part): positions up to there need no
    /// look-up.
    pub(crate) fn find(&self, pos: u32) -> (u32, u32) {
        let block = (pos >> Self::BLOCK_SHIFT) as usize;
        let i = if block + 1 < self.first.len() {
            let lo = self.first[block] as usize;
            let hi = (self.first[block + 1] as usize + 1).min(self.bases.len());
            lo + self.bases[lo..hi]
                .partition_point(|&b| b <= pos)
                .saturating_sub(1)
        } else {
            // Past the block of the last base: the last part.
            self.bases.len().saturating_sub(1)
        };
        let end = self.bases.get(i + 1).copied().unwrap_or(u32::MAX);
        (i as u32, end)
    }
}

/// A file whose parts are being added.
#[derive(Debug)]
pub(crate) struct OpenFile {
    id: u32,
    first_part: u32,
    text_bytes: u64,
    fingerprints: u64,
    /// Some part added so far has text.
    pub(crate) any_text: bool,
}

/// The settings a segment records.
#[derive(Debug, Clone)]
pub(crate) struct SegmentParams {
    pub(crate) block: u32,
    pub(crate) codec: Codec,
    pub(crate) chunk: crate::chunk::ChunkParams,
    pub(crate) common_min_docs: u32,
    pub(crate) common_fraction: f64,
}

/// What a finished segment tells the index.
#[derive(Debug)]
pub(crate) struct Finished {
    /// Parts that own their text.
    pub(crate) owners: u64,
}

#[cfg(test)]
mod tests {
    use super::PartLookup;
    use proptest::prelude::*;

    proptest! {
        /// A spilled section holds the bytes appended, in order, whatever
        /// the limit and the pieces; the temporary file is gone after.
        #[test]
        fn a_spilled_section_holds_what_was_appended(
            pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..30),
            limit in 1usize..100,
        ) {
            use super::super::super::wire::SectionKind;
            let dir = tempfile::tempdir().unwrap();
            let mut sp = super::Spill::new(dir.path(), "test");
            sp.limit = limit;
            let mut all = Vec::new();
            for p in &pieces {
                sp.buf.extend_from_slice(p);
                all.extend_from_slice(p);
                sp.spill_if_full().unwrap();
                prop_assert!(sp.buf.len() < limit);
            }
            let header = super::super::super::wire::Header {
                version: super::super::super::wire::FORMAT_VERSION,
                norm_version: 2,
                k: 16,
                w: 25,
                seed: 1,
            };
            let mut w = super::SegmentWriter::memory(&header);
            sp.write_to(&mut w, SectionKind::Checkpoints).unwrap();
            drop(sp);
            let (_, bytes) = w.finish().unwrap();
            let bytes = bytes.unwrap();
            // The one section starts right after the header.
            let at = super::super::super::wire::HEADER_LEN;
            prop_assert_eq!(&bytes[at..at + all.len()], &all[..]);
            prop_assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }

    fn naive(bases: &[u32], pos: u32) -> (u32, u32) {
        let i = bases.partition_point(|&b| b <= pos).saturating_sub(1);
        (i as u32, bases.get(i + 1).copied().unwrap_or(u32::MAX))
    }

    fn check(bases: Vec<u32>, probes: &[u32]) {
        let l = PartLookup::new(bases.iter().map(|&b| (b, 0)).collect());
        for &p in probes {
            assert_eq!(l.find(p), naive(&bases, p), "pos {p} in {bases:?}");
        }
    }

    #[test]
    fn boundaries() {
        let edges = |b: &[u32]| -> Vec<u32> {
            let mut v = vec![0, 1, 4095, 4096, 4097, 8191, 8192, u32::MAX - 1, u32::MAX];
            for &x in b {
                v.extend([x.saturating_sub(1), x, x.saturating_add(1)]);
            }
            v
        };
        for bases in [
            vec![],
            vec![0],
            vec![5],
            vec![0, 4096, 8192],
            vec![0, 1, 2, 3, 4095, 4096, 4097],
            vec![10, 5000, 5001, 5002, 100_000, u32::MAX - 5],
        ] {
            let p = edges(&bases);
            check(bases, &p);
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_binary_search(
            mut bases in proptest::collection::vec(0u32..200_000, 0..300),
            probes in proptest::collection::vec(0u32..210_000, 1..200),
        ) {
            bases.sort_unstable();
            bases.dedup();
            check(bases, &probes);
        }
    }
}
