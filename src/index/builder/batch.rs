//! Batches: files taken from the walk in batches for the read and analyze
//! stages (`next_batch`, [`Sources`]) and admitted into the segment being
//! assembled (`admit`); a file over the text limit streamed in pieces
//! (`Indexer::add_large`, `Indexer::stream_file`).

use std::collections::HashMap;
use std::path::PathBuf;

use crate::index::state::{DeadFile, DeadKind};
use crate::index::wire::FileStatus;
use crate::index::IndexError;

use super::assemble::SegState;
use super::prior::Earlier;
use super::read::{FileResult, ReadConfig, Source};
use super::write::SegmentWriter;
use super::{stream, BuildSummary, Indexer, Progress, BATCH_FILES};

/// What the segment loop takes next from its sources.
pub(super) enum Next {
    /// Files to read in parallel (at least one).
    Batch(Vec<Source>),
    /// A file over the text limit, or the rest of a streamed file: read
    /// alone, in pieces.
    Large(Source),
    /// The sources are used up.
    End,
}

/// The next batch: files up to `batch_bytes` (at least one) and
/// [`BATCH_FILES`], stopping before a file over `max_file` or a streamed
/// file's rest, which come alone.
pub(super) fn next_batch(sources: &mut Sources<'_>, max_file: u64, batch_bytes: u64) -> Next {
    let mut batch = Vec::new();
    let mut bytes = 0u64;
    while let Some(s) = sources.peek() {
        let size = s.disk_size();
        let alone = match s {
            // The rest of a streamed file, begun in the last segment.
            Source::Resume(_) => true,
            Source::Disk { .. } => size > max_file,
            _ => false,
        };
        if alone {
            if batch.is_empty() {
                return Next::Large(sources.next().expect("peeked"));
            }
            break;
        }
        if !batch.is_empty() && (batch.len() >= BATCH_FILES || bytes + size > batch_bytes) {
            break;
        }
        bytes += size.min(max_file);
        batch.push(sources.next().expect("peeked"));
    }
    if batch.is_empty() {
        Next::End
    } else {
        Next::Batch(batch)
    }
}

/// Processed files handed back to the sources, to be taken as they are.
pub(super) fn stored(results: Vec<FileResult>) -> Vec<Source> {
    results
        .into_iter()
        .map(|r| Source::Stored(Box::new(r)))
        .collect()
}

impl Ctx<'_, '_> {
    /// Stage 4 for one batch of processed files: add `results` in order.
    /// The full text blocks they fill wait in the arena for the caller to
    /// compress ([`SegState::take_blocks`]). Returns the results that did
    /// not fit (the segment is full) from the first one that would take
    /// the segment past its limit; none when all fit.
    pub(super) fn add_files(
        &mut self,
        results: Vec<FileResult>,
        ix: &Indexer,
    ) -> Result<Vec<FileResult>, IndexError> {
        let mut left = Vec::new();
        let mut rest = results.into_iter();
        while let Some(r) = rest.next() {
            if !admit(&r, self.earlier, self.seen, self.dead, self.summary) {
                continue;
            }
            let add = r.norm_bytes();
            if self.st.norm_total + add > ix.cfg.segment_norm && self.st.file_count() > 0 {
                self.seen.remove(&r.name);
                left.push(r);
                left.extend(rest);
                break;
            }
            self.st.add_file(r, self.earlier, self.summary)?;
        }
        self.st.rebudget()?;
        Ok(left)
    }
}

/// Whether a processed file is to be recorded: not when it is already
/// indexed with the same bytes at the same path (or was seen in this run),
/// nor when a known path cannot be read now (the indexed version stays, the
/// reason is reported). A changed file at a known path marks the old
/// version superseded.
fn admit(
    r: &FileResult,
    earlier: &Earlier,
    seen: &mut HashMap<Vec<u8>, [u8; 32]>,
    dead: &mut Vec<DeadFile>,
    summary: &mut BuildSummary,
) -> bool {
    if r.continued {
        // The rest of a file admitted with its first record (compaction).
        return true;
    }
    if r.status != crate::index::wire::FileStatus::Skipped {
        if let Some(h) = seen.get(&r.name) {
            if *h == r.blake3 {
                summary.unchanged += 1;
                return false;
            }
        }
        if let Some((records, h)) = earlier.by_path.get(&r.name) {
            if *h == r.blake3 {
                summary.unchanged += 1;
                return false;
            }
            for &(si, f) in records {
                if !dead
                    .iter()
                    .any(|d| d.segment == earlier.names[si] && d.file == f)
                {
                    dead.push(DeadFile {
                        segment: earlier.names[si].clone(),
                        file: f,
                        kind: DeadKind::Superseded,
                        generation: 0,
                    });
                }
            }
        }
        seen.insert(r.name.clone(), r.blake3);
    } else if earlier.by_path.contains_key(&r.name) || seen.contains_key(&r.name) {
        let display = crate::names::display(&r.name);
        summary.skipped.push((
            display,
            format!("{} (the indexed version is kept)", r.reason),
        ));
        summary.unchanged += 1;
        return false;
    }
    true
}

/// What adding a file to the segment being written touches.
pub(super) struct Ctx<'a, 'w> {
    pub(super) st: &'a mut SegState,
    pub(super) w: &'w mut SegmentWriter,
    pub(super) earlier: &'a Earlier,
    pub(super) seen: &'a mut HashMap<Vec<u8>, [u8; 32]>,
    pub(super) dead: &'a mut Vec<DeadFile>,
    pub(super) summary: &'a mut BuildSummary,
    /// A streamed file may go on in the next segment (not in a build in
    /// pieces, whose piece is one segment).
    pub(super) spans: bool,
}

impl Indexer {
    /// Add a file over the text limit ([`stream`]): pass 1 (hash, chunks),
    /// then its pieces batch by batch. Returns true when the segment is
    /// full: the file is handed back to start the next one (or, with
    /// `c.spans`, to go on there; see [`Indexer::stream_file`]).
    pub(super) fn add_large(
        &self,
        path: PathBuf,
        name: Vec<u8>,
        cfg: ReadConfig<'_>,
        sources: &mut Sources<'_>,
        c: &mut Ctx<'_, '_>,
        progress: &dyn Progress,
    ) -> Result<bool, IndexError> {
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        // Its text is at most about its size: if that may not fit beside
        // what the segment holds, it starts the next segment.
        if c.st.file_count() > 0 && c.st.norm_total + size > self.cfg.segment_norm {
            sources.push_front(vec![Source::Disk { path, name }]);
            return Ok(true);
        }
        let (r, kind) = match stream::classify(&path, name, cfg) {
            stream::Large::Done(r) => {
                progress.file_done(r.size);
                if admit(&r, c.earlier, c.seen, c.dead, c.summary) {
                    c.st.add_file(*r, c.earlier, c.summary)?;
                }
                return Ok(false);
            }
            stream::Large::Stream(r, plan) => (r, plan),
        };
        if !admit(&r, c.earlier, c.seen, c.dead, c.summary) {
            progress.file_done(r.size);
            return Ok(false);
        }
        if c.st.is_copy(&r.blake3, c.earlier) {
            progress.file_done(r.size);
            c.st.add_file(*r, c.earlier, c.summary)?;
            return Ok(false);
        }
        let sc = stream::StreamConfig::new(self.cfg.memory, self.cfg.max_file, &self.cfg.limits);
        let mut notes = stream::Notes::default();
        let pieces = match stream::Pieces::open(&path, &kind, &sc) {
            Ok(p) => Some(p),
            Err(e) => {
                notes.push((String::new(), format!("cannot read: {e}")));
                None
            }
        };
        let s = stream::Stream {
            r,
            pieces,
            pending: std::collections::VecDeque::new(),
            notes,
        };
        self.stream_file(s, cfg, sources, c, progress)
    }

    /// Add a streamed file's pieces, batch by batch, to the segment being
    /// written, as one record. When the segment cannot take the next part,
    /// the record ends there and the rest is handed back (a
    /// [`Source::Resume`]) to go on in the next segment as a continuation
    /// record; returns true then (the segment is full). A file's text is
    /// so never cut by the segment's size, whatever its length. Without
    /// `c.spans` (a build in pieces, where a piece is one segment) the rest
    /// is not indexed instead, with a reason.
    pub(super) fn stream_file(
        &self,
        mut s: stream::Stream,
        cfg: ReadConfig<'_>,
        sources: &mut Sources<'_>,
        c: &mut Ctx<'_, '_>,
        progress: &dyn Progress,
    ) -> Result<bool, IndexError> {
        let sc = stream::StreamConfig::new(self.cfg.memory, self.cfg.max_file, &self.cfg.limits);
        let mut f =
            c.st.open_file(&s.r.blake3, FileStatus::Indexed, s.r.continued);
        let full = 'batches: loop {
            while let Some(item) = s.pending.pop_front() {
                match item {
                    stream::Pending::Note(n) => s.notes.push(n),
                    stream::Pending::Part(p) => {
                        let add = u64::from(p.analysis.norm_len);
                        // Something is in the segment (so the part fits
                        // in an empty one, whatever the limit).
                        if c.st.norm_total > 0 && c.st.norm_total + add > self.cfg.segment_norm {
                            if c.spans {
                                s.pending.push_front(stream::Pending::Part(p));
                                break 'batches true;
                            }
                            s.notes.push((
                                p.name,
                                format!(
                                    "the file's text fills the segment of a build in pieces ({} normalized bytes): this and later parts not indexed",
                                    self.cfg.segment_norm
                                ),
                            ));
                            s.pending.clear();
                            s.pieces = None;
                            break 'batches false;
                        }
                        c.st.add_part(&mut f, p, c.earlier, c.summary)?;
                    }
                }
            }
            c.st.rebudget()?;
            c.st.flush_blocks(&self.pool, self.cfg.codec, c.w)?;
            let Some(pieces) = s.pieces.as_mut() else {
                break false;
            };
            if self.cancelled() {
                return Err(IndexError::Interrupted);
            }
            let batch = match pieces.next_batch(sc.batch_bytes) {
                Ok(b) if b.is_empty() => {
                    s.pieces = None;
                    continue;
                }
                Ok(b) => b,
                Err(e) => {
                    s.notes
                        .push((String::new(), format!("read error: {e}; the rest not read")));
                    s.pieces = None;
                    continue;
                }
            };
            let results = stream::process_batch(
                &self.pool,
                batch,
                pieces.prefix(),
                &self.cfg.limits,
                &sc,
                cfg.fp,
            );
            for (parts, notes) in results {
                s.pending
                    .extend(notes.into_iter().map(stream::Pending::Note));
                s.pending
                    .extend(parts.into_iter().map(stream::Pending::Part));
            }
        };
        let record = s.take_record(f.any_text);
        c.st.close_file(f, record, c.summary);
        if full {
            sources.push_front(vec![Source::Resume(Box::new(s))]);
        } else {
            progress.file_done(s.r.size);
        }
        Ok(full)
    }
}

/// Sources with a front buffer (a full segment hands its rest back).
pub(super) struct Sources<'a> {
    pub(super) front: Vec<Source>,
    rest: Box<dyn Iterator<Item = Source> + 'a>,
}

impl<'a> Sources<'a> {
    pub(super) fn new(it: impl Iterator<Item = Source> + 'a) -> Sources<'a> {
        Sources {
            front: Vec::new(),
            rest: Box::new(it),
        }
    }
    pub(super) fn peek(&mut self) -> Option<&Source> {
        if self.front.is_empty() {
            let next = self.rest.next()?;
            self.front.push(next);
        }
        self.front.last()
    }
    pub(super) fn next(&mut self) -> Option<Source> {
        self.front.pop().or_else(|| self.rest.next())
    }
    pub(super) fn push_front(&mut self, v: Vec<Source>) {
        // `front` is a stack: the last element comes out first.
        self.front.extend(v.into_iter().rev());
    }
}
