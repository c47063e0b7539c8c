//! Building indexes: configuration, and the pipeline that turns files into
//! published segments.
//!
//! ```text
//! walk (sorted)                       builder/walk.rs     sequential, cheap
//! -> batches of files                 builder/batch.rs    (8 MiB or 256 files
//!                                                          at the default
//!                                                          budget)
//! -> read + extract, per file         builder/read.rs     parallel (rayon),
//! -> analyze, per part                builder/analyze.rs  up to 2 batches
//!    (a file over the text limit:      builder/stream.rs   ahead; alone, in
//!     mbox messages, text windows)                         batches of pieces)
//! -> assemble, in input order         builder/assemble.rs sequential, on the
//!      text blocks -> compress        index/text.rs       calling thread;
//!      (key, position) -> partitions  builder/postings.rs compression is
//!                                                          pool jobs; spills
//!                                                          (past --memory)
//!                                                          written by the pool
//! -> sort partitions, write           builder/postings.rs parallel by
//!                                                          partition, written
//!                                                          while the next are
//!                                                          sorted
//! -> segment sections, publish        builder/write.rs    sequential I/O
//! -> index state and manifest         index/state.rs, index/manifest.rs
//! ```
//!
//! The loop that drives these stages segment by segment is in
//! `builder/run.rs`; the settings, checked once, in `builder/config.rs`;
//! what an append knows of the index it grows (files and texts already
//! stored, key counts, files superseded) in `builder/prior.rs`; the
//! index folder's names and leftovers in `builder/output.rs`; builds in
//! pieces and sharded builds in `builder/pieces.rs` and
//! `builder/shards.rs`. This module holds the [`Indexer`]'s entry points
//! (index, compact, remove) and publishing.
//!
//! Files go through the read and analyze stages in batches (8 MiB or 256
//! files at the default budget). The calling thread assembles the batches
//! in input order while the pool reads up to two more; the text
//! blocks a batch fills are compressed by pool jobs and written back in
//! order, and a spill of the key buffers is written by the pool, partitions
//! in parallel, while the calling thread waits (so that the buffers are
//! freed before new ones fill). No
//! stage waits for another to end, only for the results it needs next, so
//! a pool thread done with its share of a batch takes the next batch's
//! files or a compression job: the end of a batch (one large file on one
//! thread) leaves no core idle. With one thread there is no read-ahead:
//! the stages take turns (the calling thread writes compressed blocks
//! while the pool thread reads, 1.1 CPU seconds per second of wall time
//! on the 1 GB scale corpus).
//!
//! The per-stage costs (callgrind instruction counts of a one-thread
//! build, and the wall-time timeline at 1 and 2 threads) are in
//! BENCHMARKS.md, "Indexing per stage, and the pipeline" and "Indexing
//! without barriers".
//!
//! Determinism: files are taken in walk order and their results consumed
//! in that order whatever the thread count; partitions are sorted by a
//! total order; so the segment bytes are identical at any thread count and
//! memory budget (tested).
//!
//! Appends ([`Mode::Append`]) keep the index exactly what one build of the
//! same files would give: a file already indexed (same path, same bytes) is
//! skipped as unchanged; a changed file at the same path supersedes the old
//! one; identical bytes under a new path are a copy; identical text is
//! stored once; and the frequent keys (boilerplate) are counted over the
//! whole index ([`super::state`]).

mod analyze;
mod assemble;
mod batch;
mod config;
mod output;
mod pieces;
mod postings;
mod prior;
mod read;
mod run;
mod shards;
mod stream;
pub mod walk;
mod write;

pub use pieces::{piece_keys_name, piece_segment_name, plan_pieces};

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use rayon::prelude::*;

use super::manifest::{Manifest, MANIFEST_NAME};
use super::state::{DeadFile, DeadKind, State};
use super::wire::Header;
use super::{Index, IndexError, Params};
use crate::chunk::Chunk;
use crate::normalize;
use analyze::Fp;
use assemble::{NoPrior, SegState, SegmentParams};
use postings::KeyTotals;
use read::{FileResult, PartResult, ReadConfig, Source};
use walk::Entry;
use write::SegmentWriter;

use config::Config;
pub use config::IndexBuilder;
use output::{prepare_output, remove_unlisted};
use prior::{earlier_of, kill, Earlier};

/// Default k-gram length (normalized bytes).
pub const DEFAULT_K: usize = 16;
/// Default winnowing window.
pub const DEFAULT_W: usize = 25;
/// Default memory budget of a build.
pub const DEFAULT_MEMORY: u64 = 1 << 30;
/// Default largest file read whole.
pub const DEFAULT_MAX_FILE: u64 = 256 << 20;
/// Default share of the live texts above which a key is common.
pub const DEFAULT_COMMON_FRACTION: f64 = 0.005;
/// Default smallest number of texts that makes a key common. A reply chain
/// copies a mail into every answer: with 8, a mail quoted in eight replies
/// could never be matched in a dump of under 1,600 parts; 32 keeps real
/// quoting while a confidentiality notice in hundreds of mails is still
/// boilerplate.
pub const DEFAULT_COMMON_MIN_DOCS: u32 = 32;
/// Most normalized bytes one segment holds (positions are u32).
pub const MAX_SEGMENT_NORM: u64 = u32::MAX as u64 - (1 << 20);
/// Batches the pool reads ahead of the assembly (beside the one it waits
/// for). Each holds up to `--memory / 128` of files and what they give.
const READ_AHEAD: usize = 2;
/// Batches whose text blocks may wait compressed, or being compressed, for
/// their turn to be written.
const COMPRESS_AHEAD: usize = 2;
/// Jobs a spill of the key buffers is cut into, to be written by the pool.
const SPILL_JOBS: usize = 16;
/// Most files in one batch of the parallel stages.
const BATCH_FILES: usize = 256;

/// Receives progress of a build (the CLI draws a bar with it).
pub trait Progress: Sync {
    /// The walk found `files` files totalling `bytes` bytes.
    fn start(&self, files: u64, bytes: u64) {
        let _ = (files, bytes);
    }
    /// One file was processed.
    fn file_done(&self, bytes: u64) {
        let _ = bytes;
    }
    /// The final merge started.
    fn merging(&self) {}
}

/// A progress sink that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// What a build did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BuildSummary {
    /// File records written (indexed + binary + skipped + copies).
    pub files: u64,
    /// Files whose text was indexed.
    pub indexed: u64,
    /// Files recorded by chunks only.
    pub binary: u64,
    /// Files not read, with reasons in `skipped`.
    pub skipped_files: u64,
    /// Files byte-identical to one in the index, recorded as copies.
    pub copies: u64,
    /// Files already indexed with the same bytes at the same path (appends):
    /// not recorded again.
    pub unchanged: u64,
    /// Files whose earlier version at the same path they replaced.
    pub superseded: u64,
    /// Bytes read from input files.
    pub bytes: u64,
    /// Text parts.
    pub parts: u64,
    /// Parts whose text duplicates one already stored.
    pub duplicate_parts: u64,
    /// Bytes of extracted text.
    pub text_bytes: u64,
    /// Postings written.
    pub postings: u64,
    /// Keys common in the whole index after this build.
    pub common: u64,
    /// Chunks recorded.
    pub chunks: u64,
    /// Segments written.
    pub segments: u64,
    /// Bytes of the segments written.
    pub index_bytes: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// `(path, reason)` of every skipped file and every file with warnings.
    pub skipped: Vec<(String, String)>,
}

/// How [`Indexer::index_paths`] treats an existing index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Replace whatever index is there.
    Create,
    /// Add to an existing index (created if missing), keeping its
    /// parameters: unchanged files are skipped, changed ones replace their
    /// earlier version, copies are recorded as such.
    Append,
}

/// A checked configuration that builds indexes.
pub struct Indexer {
    cfg: Config,
    pool: rayon::ThreadPool,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer").field("cfg", &self.cfg).finish()
    }
}

impl Indexer {
    /// The parameters segments get.
    pub fn params(&self) -> Params {
        Params {
            k: self.cfg.k as u32,
            w: self.cfg.w as u32,
            seed: self.cfg.seed,
            norm_version: normalize::NORMALIZATION_VERSION,
        }
    }

    fn fp(&self, p: Params) -> Fp {
        Fp {
            k: p.k as usize,
            w: p.w as usize,
            seed: p.seed,
        }
    }

    fn segment_params(&self) -> SegmentParams {
        SegmentParams {
            block: self.cfg.block,
            codec: self.cfg.codec,
            chunk: self.cfg.chunk,
            common_min_docs: self.cfg.common_min_docs,
            common_fraction: self.cfg.common_fraction,
        }
    }

    /// Index `inputs` into the index folder `output`.
    ///
    /// # Errors
    /// A missing input, an output that cannot be written or is not an
    /// index, I/O errors, or an interruption. Nothing is published then.
    pub fn index_paths(
        &self,
        inputs: &[PathBuf],
        output: &Path,
        mode: Mode,
        progress: &dyn Progress,
    ) -> Result<BuildSummary, IndexError> {
        let started = Instant::now();
        let entries = walk::walk(inputs)?;
        let existing = prepare_output(output)?;
        let (params, mut manifest, earlier, state) = match (existing, mode) {
            (Some(m), Mode::Append) if !m.shards.is_empty() => {
                return Err(IndexError::Sharded {
                    path: output.to_path_buf(),
                    count: m.shards.len(),
                    what: "index --append",
                })
            }
            (Some(m), Mode::Append) => {
                let index = Index::open(output)?;
                let state = index.state().cloned().unwrap_or_else(|| self.empty_state());
                let earlier = earlier_of(index, &m)?;
                (m.params, m, earlier, state)
            }
            (Some(m), Mode::Create) => (
                self.params(),
                Manifest {
                    segments: Vec::new(),
                    shards: Vec::new(),
                    params: self.params(),
                    ..m
                },
                Earlier::empty(),
                self.empty_state(),
            ),
            (None, _) => (
                self.params(),
                Manifest::new(self.params()),
                Earlier::empty(),
                self.empty_state(),
            ),
        };
        if params.norm_version != normalize::NORMALIZATION_VERSION {
            return Err(IndexError::OldNormalization {
                found: params.norm_version,
                supported: normalize::NORMALIZATION_VERSION,
            });
        }
        manifest.generation += 1;
        progress.start(entries.len() as u64, disk_bytes(&entries));
        let sources = entries.into_iter().map(Source::from);
        let mut summary = BuildSummary::default();
        let outcome = self.run(
            params,
            sources,
            output,
            manifest.generation,
            earlier,
            state,
            None,
            progress,
            &mut summary,
        )?;
        if mode == Mode::Create {
            manifest.segments.clear();
        }
        manifest.segments.extend(outcome.written);
        self.publish(output, &mut manifest, outcome.state, &mut summary)?;
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// The state a compaction of `index` starts from: empty, with the
    /// index's own common-key thresholds (those it was built with, not
    /// this builder's).
    fn compaction_state(&self, index: &Index) -> State {
        State {
            min_docs: index
                .state()
                .map_or(self.cfg.common_min_docs, |s| s.min_docs),
            fraction: index
                .state()
                .map_or(self.cfg.common_fraction, |s| s.fraction),
            ..self.empty_state()
        }
    }

    fn empty_state(&self) -> State {
        State {
            generation: 0,
            live_texts: 0,
            min_docs: self.cfg.common_min_docs,
            fraction: self.cfg.common_fraction,
            frequent: Vec::new(),
            dead: Vec::new(),
        }
    }

    /// Write the state, then the manifest (the commit point), then remove
    /// what the manifest no longer names.
    fn publish(
        &self,
        dir: &Path,
        manifest: &mut Manifest,
        mut state: State,
        summary: &mut BuildSummary,
    ) -> Result<(), IndexError> {
        state.generation = manifest.generation;
        let name = format!("state-{:06}.lpst", manifest.generation);
        state.write(&dir.join(&name))?;
        manifest.state = Some(name);
        summary.common = state.common_keys().len() as u64;
        manifest.write(dir)?;
        remove_unlisted(dir, manifest);
        Ok(())
    }

    /// Merge all segments of the index folder `dir` into one, re-deriving
    /// everything from the stored text of the live files (so the result is
    /// what one build of those files gives): superseded and removed files
    /// are dropped for good.
    ///
    /// # Errors
    /// I/O errors or a corrupt index; nothing is published then.
    pub fn compact(&self, dir: &Path, progress: &dyn Progress) -> Result<BuildSummary, IndexError> {
        let started = Instant::now();
        let mut manifest = Manifest::read(dir)?;
        let index = Index::open(dir)?;
        let params = manifest.params;
        manifest.generation += 1;
        let stored = super::compact::stored_files(&index, self.fp(params))?;
        progress.start(stored.len() as u64, 0);
        let mut summary = BuildSummary::default();
        let state = self.compaction_state(&index);
        let outcome = self.run(
            params,
            stored.into_iter().map(|f| Source::Stored(Box::new(f))),
            dir,
            manifest.generation,
            Earlier::empty(),
            state,
            None,
            progress,
            &mut summary,
        )?;
        drop(index);
        manifest.segments = outcome.written;
        manifest.shards.clear();
        self.publish(dir, &mut manifest, outcome.state, &mut summary)?;
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Mark files of the index folder `dir` removed (a document found not
    /// to be part of the leak, a legal request): matching ignores them at
    /// once, `compact` drops them for good. Segments are not rewritten; the
    /// state is, atomically. `paths` are file paths as `info --files`
    /// shows them; a folder path removes every file under it.
    ///
    /// # Errors
    /// A path that names no live file, I/O errors, a corrupt index.
    pub fn remove(&self, dir: &Path, paths: &[String]) -> Result<RemoveSummary, IndexError> {
        let mut manifest = Manifest::read(dir)?;
        if !manifest.shards.is_empty() {
            return Err(IndexError::Sharded {
                path: dir.to_path_buf(),
                count: manifest.shards.len(),
                what: "remove",
            });
        }
        let index = Index::open(dir)?;
        let mut state = index.state().cloned().unwrap_or_else(|| self.empty_state());
        let names: Vec<String> = manifest.segments.iter().map(|s| s.file.clone()).collect();
        let mut targets: Vec<(usize, u32)> = Vec::new();
        for want in paths {
            let before = targets.len();
            for (si, seg) in index.segments().iter().enumerate() {
                for f in 0..seg.file_count() {
                    let info = seg.file(f)?;
                    let p = info.path();
                    let under = p == *want
                        || (p.starts_with(want.as_str())
                            && p.as_bytes().get(want.len()) == Some(&b'/'));
                    if under && index.liveness().file_live(si, f) {
                        targets.push((si, f));
                    }
                }
            }
            if targets.len() == before {
                return Err(IndexError::NoSuchFile { path: want.clone() });
            }
        }
        targets.sort_unstable();
        targets.dedup();
        manifest.generation += 1;
        let dead: Vec<DeadFile> = targets
            .iter()
            .map(|&(si, f)| DeadFile {
                segment: names[si].clone(),
                file: f,
                kind: DeadKind::Removed,
                generation: manifest.generation,
            })
            .collect();
        kill(&index, &mut state, &dead, self.fp(manifest.params))?;
        drop(index);
        let mut summary = BuildSummary::default();
        let removed = dead.len() as u64;
        self.publish(dir, &mut manifest, state, &mut summary)?;
        Ok(RemoveSummary {
            removed,
            common: summary.common,
        })
    }

    /// Build one segment in memory from `(path, text)` documents, as if each
    /// were a UTF-8 text file. For tests, examples and embedding: the
    /// segment opens with `Index::from_bytes` and uses its own frequent
    /// keys as the common set.
    ///
    /// # Errors
    /// Only on internal I/O to temporary spill files.
    pub fn segment_from_texts(&self, docs: &[(&str, &str)]) -> Result<Vec<u8>, IndexError> {
        let params = self.params();
        let cfg = self.read_config(params);
        let results: Vec<FileResult> = self.pool.install(|| {
            docs.par_iter()
                .map_init(analyze::Scratch::default, |s, (path, text)| {
                    read::from_bytes(path.as_bytes().to_vec(), text.as_bytes(), cfg, s)
                })
                .collect()
        });
        let mut summary = BuildSummary::default();
        let mut w = SegmentWriter::memory(&header_of(params));
        let dir = std::env::temp_dir();
        let mut st = SegState::new(&dir, self.cfg.memory / 2, self.cfg.block);
        w.begin(super::wire::SectionKind::TextData);
        for r in results {
            st.add_file(r, &NoPrior, &mut summary)?;
            st.flush_blocks(&self.pool, self.cfg.codec, &mut w)?;
        }
        st.arena.finish();
        st.flush_blocks(&self.pool, self.cfg.codec, &mut w)?;
        w.end()?;
        st.finish(
            &mut w,
            &self.pool,
            &self.segment_params(),
            KeyTotals::Segment,
            &mut |_| Ok(()),
            &mut summary,
        )?;
        let (_, bytes) = w.finish()?;
        Ok(bytes.unwrap_or_default())
    }

    fn read_config(&self, params: Params) -> ReadConfig<'_> {
        ReadConfig {
            max_file: self.cfg.max_file,
            limits: &self.cfg.limits,
            chunk: &self.cfg.chunk,
            fp: self.fp(params),
        }
    }

    fn cancelled(&self) -> bool {
        self.cfg
            .cancel
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }
}

/// What [`Indexer::remove`] did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct RemoveSummary {
    /// Files marked removed.
    pub removed: u64,
    /// Keys common in the whole index after the removal.
    pub common: u64,
}

fn header_of(p: Params) -> Header {
    Header {
        version: super::wire::FORMAT_VERSION,
        norm_version: p.norm_version,
        k: p.k,
        w: p.w,
        seed: p.seed,
    }
}

/// A stored file, for compaction: its parts re-analyzed from their text.
pub(crate) fn stored_result(
    name: Vec<u8>,
    info: &super::FileInfo<'_>,
    parts: Vec<(String, crate::extract::Format, String)>,
    chunks: Vec<Chunk>,
    fp: Fp,
) -> FileResult {
    let mut scratch = analyze::Scratch::default();
    let parts = parts
        .into_iter()
        .map(|(pname, format, text)| PartResult {
            analysis: analyze::analyze(&text, fp, &mut scratch),
            name: pname,
            format,
            text,
        })
        .collect();
    FileResult {
        name,
        size: info.size,
        blake3: info.blake3,
        status: if info.status == super::wire::FileStatus::Copy {
            super::wire::FileStatus::Indexed
        } else {
            info.status
        },
        format: info.format,
        reason: info.reason.to_string(),
        notes: if info.reason.is_empty() {
            Vec::new()
        } else {
            vec![(String::new(), info.reason.to_string())]
        },
        parts,
        chunks,
        continued: info.continued,
    }
}

pub(crate) use analyze::Fp as FingerprintParams;
pub(crate) use analyze::CHECKPOINT_EVERY;
/// A file read back from an index, ready to be built again.
pub(crate) type StoredFile = FileResult;

/// Bytes on disk of the files a walk listed, as the walk found them (for
/// progress).
pub(crate) fn disk_bytes(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| match e {
            Entry::File { size, .. } => *size,
            Entry::Skipped { .. } => 0,
        })
        .sum()
}
