//! The segment loop (`Indexer::run`): sources read, analyzed and
//! assembled into segments, each written and published
//! (`Indexer::write_segment`), with the text compression the pool runs
//! while the assembling thread goes on ([`Compression`], [`Countdown`]).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use rayon::prelude::*;

use crate::index::keycount::KeyCountWriter;
use crate::index::manifest::SegmentEntry;
use crate::index::state::{DeadFile, State};
use crate::index::wire::Frequent;
use crate::index::{Index, IndexError, Params, Segment};

use super::assemble::{self, Blocks, Packed, SegState};
use super::batch::{next_batch, stored, Ctx, Next, Sources};
use super::output::segment_name;
use super::postings::{KeyTotals, ShardFilter, SpillJob};
use super::prior::{kill_with, merge_frequent, Earlier};
use super::read::{self, FileResult, Source};
use super::write::SegmentWriter;
use super::{
    analyze, header_of, BuildSummary, Indexer, Progress, COMPRESS_AHEAD, READ_AHEAD, SPILL_JOBS,
};

impl Indexer {
    /// Process sources into as many segments as needed, in `dir`, and
    /// bring the state up to date with them.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run(
        &self,
        params: Params,
        sources: impl Iterator<Item = Source>,
        dir: &Path,
        generation: u64,
        mut earlier: Earlier,
        mut state: State,
        shard: Option<ShardFilter>,
        progress: &dyn Progress,
        summary: &mut BuildSummary,
    ) -> Result<Outcome, IndexError> {
        let mut sources = Sources::new(sources);
        let mut written = Vec::new();
        let mut n = 0;
        // Paths seen in this run: a path given twice is one file.
        let mut seen: HashMap<Vec<u8>, [u8; 32]> = HashMap::new();
        let mut dead: Vec<DeadFile> = Vec::new();
        loop {
            n += 1;
            let name = segment_name(generation, n);
            let path = dir.join(&name);
            let mut w = SegmentWriter::file(&path, &header_of(params))?;
            let mut global = Vec::new();
            let (finished, files, parts) = self.write_segment(
                params,
                &mut sources,
                dir,
                &mut w,
                &earlier,
                KeyCounting::Index {
                    state: &state,
                    global: &mut global,
                },
                &mut seen,
                &mut dead,
                shard,
                progress,
                summary,
            )?;
            let (bytes, _) = w.finish()?;
            if files == 0 && !(written.is_empty() && earlier.segments.is_empty()) {
                // Nothing new (an append of unchanged files): no segment.
                let _ = std::fs::remove_file(&path);
                break;
            }
            written.push(SegmentEntry {
                file: name.clone(),
                bytes,
                files,
                parts,
            });
            summary.segments += 1;
            summary.index_bytes += bytes;
            state.live_texts += finished.owners;
            merge_frequent(&mut state.frequent, global);
            let more = sources.peek().is_some();
            if more {
                // Later segments count keys in this one too.
                let storage =
                    crate::fileio::map_readonly(&path).map_err(|e| IndexError::io(&path, e))?;
                let seg = Segment::from_file(storage)?;
                earlier
                    .live
                    .push_segment(seg.file_count(), seg.part_count());
                earlier.segments.push(seg);
                earlier.names.push(name);
            } else {
                break;
            }
        }
        // Files replaced by a changed version: their texts stop counting.
        if !dead.is_empty() {
            let index = Index::from_segments_unchecked(
                earlier.segments,
                earlier.names.iter().map(PathBuf::from).collect(),
                None,
            )?;
            let mut named = dead.clone();
            for d in &mut named {
                d.generation = generation;
            }
            kill_with(
                &index,
                &earlier.live,
                &earlier.names,
                &mut state,
                &named,
                self.fp(params),
            )?;
            summary.superseded += named.len() as u64;
        }
        Ok(Outcome { written, state })
    }

    /// Consume sources until they end or the segment is full; write it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write_segment(
        &self,
        params: Params,
        sources: &mut Sources<'_>,
        dir: &Path,
        w: &mut SegmentWriter,
        earlier: &Earlier,
        counting: KeyCounting<'_>,
        seen: &mut HashMap<Vec<u8>, [u8; 32]>,
        dead: &mut Vec<DeadFile>,
        shard: Option<ShardFilter>,
        progress: &dyn Progress,
        summary: &mut BuildSummary,
    ) -> Result<(assemble::Finished, u64, u64), IndexError> {
        // Small batches keep short the assembly of the last one, which
        // nothing overlaps (on the 100 MB scale corpus at 2 threads, 0.12 s
        // with batches of up to 64 MiB or 1,024 files, 0.03 s with 16 MiB
        // or 256), and the memory of the batches read ahead: with 1/64 of
        // the budget a batch, a 2 GB build at `--memory 512MiB` peaked at
        // 466-607 MiB of RSS over five runs (the budget plus 64 MiB is
        // 576), with 1/128 at 448-457 MiB over four, and no slower
        // (BENCHMARKS.md "Indexing without barriers").
        let batch_bytes = (self.cfg.memory / 128).max(4 << 20);
        // A streamed file may go on in the next segment, except in a build
        // in pieces, whose piece is one segment.
        let spans = matches!(counting, KeyCounting::Index { .. });
        let mut st = SegState::new(dir, self.cfg.memory / 2, self.cfg.block);
        st.train_dictionary_apart(self.pool.current_num_threads() > 1);
        st.keys.set_shard(shard);
        let cfg = self.read_config(params);
        let codec = self.cfg.codec;
        w.begin(crate::index::wire::SectionKind::TextData);
        // The pipeline. The pool reads up to READ_AHEAD batches ahead of
        // this thread, which assembles them in input order (stage 4, on
        // one thread: run on whichever pool thread was free, a 10 GB build
        // held 1.87 GB of anonymous memory against its 1 GiB budget; on
        // this thread 1.05 GB), hands the text blocks they fill to the pool
        // to compress and writes them back in order; a spill of the key
        // buffers is written by the pool (below). No stage waits for another
        // to end: a pool thread done with its share of a batch takes the
        // next batch's files or a compression job, so that the end of a
        // batch (one large file on one thread) leaves no thread idle, and
        // this thread waits only for the batch it assembles next. With
        // one thread there is no read-ahead: reading, assembling and
        // compressing take turns (about one core).
        let read_ahead = if self.pool.current_num_threads() > 1 {
            READ_AHEAD
        } else {
            0
        };
        let mut reading: VecDeque<crossbeam_channel::Receiver<Vec<FileResult>>> = VecDeque::new();
        let mut compressing: VecDeque<Arc<Compression>> = VecDeque::new();
        let pool = &self.pool;
        let outcome: Result<(), IndexError> = pool.in_place_scope(|scope| {
            // A large file or the end, met by the read-ahead: taken once
            // every batch before it is assembled.
            let mut after: Option<Next> = None;
            loop {
                if self.cancelled() {
                    return Err(IndexError::Interrupted);
                }
                while after.is_none() && reading.len() <= read_ahead {
                    match next_batch(sources, self.cfg.max_file, batch_bytes) {
                        Next::Batch(batch) => {
                            let (tx, rx) = crossbeam_channel::bounded(1);
                            scope.spawn(move |_| {
                                let results = batch
                                    .into_par_iter()
                                    .map_init(analyze::Scratch::default, |s, src| {
                                        let r = read::process(src, cfg, s);
                                        progress.file_done(r.size);
                                        r
                                    })
                                    .collect::<Vec<FileResult>>();
                                let _ = tx.send(results);
                            });
                            reading.push_back(rx);
                        }
                        other => after = Some(other),
                    }
                }
                // Blocks compressed meanwhile, written in order.
                while compressing.front().is_some_and(|c| c.left.is_done()) {
                    if let Some(c) = compressing.pop_front() {
                        c.write(&mut st, w)?;
                    }
                }
                let mut ctx = Ctx {
                    st: &mut st,
                    w,
                    earlier,
                    seen,
                    dead,
                    summary,
                    spans,
                };
                if let Some(rx) = reading.pop_front() {
                    // (A read that panicked sends nothing; the scope
                    // raises its panic again.)
                    let Ok(results) = rx.recv() else {
                        return Ok(());
                    };
                    // A spill of the key buffers is written by the pool,
                    // partitions in parallel, before this thread pushes
                    // more pairs: once the batches read ahead are in, the
                    // pool writes it while this thread waits, so the
                    // buffers are freed before new ones fill. (Spawned
                    // beside the reading instead, the spill waited behind
                    // the batches read ahead while this thread went on
                    // filling new buffers: 1,105 MiB of anonymous memory
                    // at the default 1 GiB budget on the 10 GB scale
                    // corpus; 1,051 MiB so; 989 MiB with the spill written
                    // by this thread alone.)
                    ctx.st.keys.defer_spills(true);
                    let left = ctx.add_files(results, self);
                    ctx.st.keys.defer_spills(false);
                    let jobs = ctx.st.keys.take_spill(SPILL_JOBS);
                    if !jobs.is_empty() {
                        pool.install(|| jobs.into_par_iter().try_for_each(SpillJob::write))?;
                    }
                    let left = left?;
                    if !left.is_empty() {
                        // The segment is full: these results, the batches
                        // read ahead and what came after them start the
                        // next one.
                        let mut back = vec![stored(left)];
                        for rx in reading.drain(..) {
                            let Ok(results) = rx.recv() else {
                                return Ok(());
                            };
                            back.push(stored(results));
                        }
                        if let Some(Next::Large(source)) = after.take() {
                            back.push(vec![source]);
                        }
                        for b in back.into_iter().rev() {
                            sources.push_front(b);
                        }
                        return Ok(());
                    }
                    if let Some(blocks) = ctx.st.take_blocks(codec) {
                        let c = Compression::new(blocks);
                        for job in 0..c.blocks.jobs() {
                            let c = c.clone();
                            scope.spawn(move |_| c.run(job));
                        }
                        compressing.push_back(c);
                    }
                    // At most COMPRESS_AHEAD batches' blocks in memory.
                    while compressing.len() > COMPRESS_AHEAD {
                        if let Some(c) = compressing.pop_front() {
                            c.write(&mut st, w)?;
                        }
                    }
                    continue;
                }
                // Every batch before `after` is assembled; its blocks are
                // written before any of a large file's.
                for c in compressing.drain(..) {
                    c.write(ctx.st, ctx.w)?;
                }
                let Some(Next::Large(source)) = after.take() else {
                    return Ok(());
                };
                let full = match source {
                    Source::Disk { path, name } => {
                        self.add_large(path, name, cfg, sources, &mut ctx, progress)?
                    }
                    Source::Resume(s) => self.stream_file(*s, cfg, sources, &mut ctx, progress)?,
                    other => {
                        sources.push_front(vec![other]);
                        false
                    }
                };
                st.flush_blocks(pool, codec, w)?;
                if full {
                    return Ok(());
                }
            }
        });
        // Every job of the scope has ended: their blocks are in.
        outcome?;
        for c in compressing.drain(..) {
            c.write(&mut st, w)?;
        }
        st.arena.finish();
        st.flush_blocks(&self.pool, self.cfg.codec, w)?;
        w.end()?;
        // The text data (most of the segment) goes to the disk while the
        // postings are sorted.
        w.sync_in_background()?;
        progress.merging();
        let (files, parts) = (u64::from(st.file_count()), u64::from(st.part_count()));
        let finished = match counting {
            KeyCounting::Index { state, global } => {
                let old_docs = |key: u64| -> u32 {
                    match state.docs_of(key) {
                        Some(d) => d,
                        None => earlier.docs(key),
                    }
                };
                let totals = if earlier.segments.is_empty() {
                    KeyTotals::Segment
                } else {
                    KeyTotals::WithEarlier(&old_docs)
                };
                st.finish(
                    w,
                    &self.pool,
                    &self.segment_params(),
                    totals,
                    &mut |g| {
                        global.extend_from_slice(g);
                        Ok(())
                    },
                    summary,
                )?
            }
            KeyCounting::Every(out) => st.finish(
                w,
                &self.pool,
                &self.segment_params(),
                KeyTotals::Every,
                &mut |g| out.push(g),
                summary,
            )?,
        };
        Ok((finished, files, parts))
    }
}

pub(super) struct Outcome {
    pub(super) written: Vec<SegmentEntry>,
    pub(super) state: State,
}

/// How a segment being written counts its keys.
pub(super) enum KeyCounting<'a> {
    /// As part of this index: keys reaching the common minimum in the
    /// whole index (this segment plus `state` or the earlier segments) go
    /// to `global` with their totals.
    Index {
        state: &'a State,
        global: &'a mut Vec<Frequent>,
    },
    /// As a piece of a build in pieces: every key with its count in this
    /// segment goes to the key-count file.
    Every(&'a mut KeyCountWriter),
}

/// Jobs running on other threads, counted out as they end, so that their
/// results can be waited for.
pub(super) struct Countdown {
    pub(super) left: Mutex<usize>,
    ended: Condvar,
}

/// Counts one job out of a [`Countdown`] when dropped.
struct EndOnDrop<'a>(&'a Countdown);

impl Drop for EndOnDrop<'_> {
    fn drop(&mut self) {
        *self.0.left.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.0.ended.notify_all();
    }
}

impl Countdown {
    pub(super) fn new(jobs: usize) -> Countdown {
        Countdown {
            left: Mutex::new(jobs),
            ended: Condvar::new(),
        }
    }

    /// To be held by a job while it runs: it counts the job out however
    /// the job ends, a panic included (so that no waiter waits forever;
    /// the scope that ran the job raises the panic again).
    fn end_on_drop(&self) -> EndOnDrop<'_> {
        EndOnDrop(self)
    }

    /// Whether every job has ended.
    fn is_done(&self) -> bool {
        *self.left.lock().unwrap_or_else(PoisonError::into_inner) == 0
    }

    /// Wait until every job has ended.
    pub(super) fn wait(&self) {
        let mut left = self.left.lock().unwrap_or_else(PoisonError::into_inner);
        while *left > 0 {
            left = self
                .ended
                .wait(left)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Text blocks being compressed by pool jobs ([`Blocks::compress`]),
/// written in order once every job is done.
pub(super) struct Compression {
    pub(super) blocks: Blocks,
    /// One slot per job, filled by the job.
    done: Mutex<Vec<Option<std::io::Result<Packed>>>>,
    /// Jobs not ended yet.
    pub(super) left: Countdown,
}

impl Compression {
    pub(super) fn new(blocks: Blocks) -> Arc<Compression> {
        let jobs = blocks.jobs();
        Arc::new(Compression {
            blocks,
            done: Mutex::new((0..jobs).map(|_| None).collect()),
            left: Countdown::new(jobs),
        })
    }

    /// Compress the blocks of job `job`.
    pub(super) fn run(&self, job: usize) {
        let _ended = self.left.end_on_drop();
        let out = self.blocks.compress(job);
        self.done.lock().unwrap_or_else(PoisonError::into_inner)[job] = Some(out);
    }

    /// Write the compressed blocks, in order, once every job has ended.
    ///
    /// # Errors
    /// Compression and I/O errors; a job that panicked (its panic is
    /// raised again by the scope that ran it).
    pub(super) fn write(&self, st: &mut SegState, w: &mut SegmentWriter) -> Result<(), IndexError> {
        self.left.wait();
        let done = std::mem::take(&mut *self.done.lock().unwrap_or_else(PoisonError::into_inner));
        let mut compressed = Vec::with_capacity(done.len());
        for job in done {
            match job {
                Some(out) => compressed.push(out),
                None => {
                    return Err(IndexError::Compress {
                        codec: "text",
                        source: std::io::Error::other("a compression job did not end"),
                    })
                }
            }
        }
        st.write_blocks(&self.blocks, compressed, w)
    }
}
