//! Building indexes: configuration, and the pipeline that turns files into
//! published segments.
//!
//! ```text
//! walk (sorted)                       build/walk.rs     sequential, cheap
//! -> read + extract, per file         build/read.rs     parallel (rayon),
//! -> analyze, per part                build/analyze.rs  up to 2 batches
//!    (a file over the text limit:      build/stream.rs   ahead; alone, in
//!     mbox messages, text windows)                       batches of pieces)
//! -> assemble, in input order         build/assemble.rs sequential, on the
//!      text blocks -> compress        index/text.rs     calling thread;
//!      (key, position) -> partitions  build/postings.rs compression is
//!                                                        pool jobs; spills
//!                                                        (past --memory)
//!                                                        written by the pool
//! -> sort partitions, write           build/postings.rs parallel by
//!                                                        partition, written
//!                                                        while the next are
//!                                                        sorted
//! -> segment sections, publish        build/write.rs    sequential I/O
//! -> index state and manifest         index/state.rs, index/manifest.rs
//! ```
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
mod pieces;
mod postings;
mod read;
mod shards;
mod stream;
pub mod walk;
mod write;

pub use pieces::{piece_keys_name, piece_segment_name, plan_pieces};

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

use rayon::prelude::*;

use super::keycount::KeyCountWriter;
use super::live::Liveness;
use super::manifest::{Manifest, SegmentEntry, MANIFEST_NAME};
use super::state::{DeadFile, DeadKind, State};
use super::wire::{Codec, FileStatus, Frequent, Header};
use super::{Index, IndexError, Params, Segment};
use crate::chunk::{Chunk, ChunkParams};
use crate::error::ConfigError;
use crate::extract::ExtractLimits;
use crate::normalize;
use analyze::Fp;
use assemble::{Blocks, NoPrior, Packed, Prior, SegState, SegmentParams};
use postings::{KeyTotals, ShardFilter, SpillJob};
use read::{FileResult, PartResult, ReadConfig, Source};
use walk::Entry;
use write::SegmentWriter;

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

/// Builder of an [`Indexer`]; every setting is checked by
/// [`IndexBuilder::build`], in release builds too.
#[derive(Debug, Clone)]
pub struct IndexBuilder {
    cfg: Config,
}

#[derive(Debug, Clone)]
struct Config {
    k: usize,
    w: usize,
    seed: u64,
    threads: usize,
    memory: u64,
    max_file: u64,
    limits: ExtractLimits,
    chunk: ChunkParams,
    common_fraction: f64,
    common_min_docs: u32,
    segment_norm: u64,
    codec: Codec,
    block: u32,
    cancel: Option<Arc<AtomicBool>>,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        IndexBuilder::new()
    }
}

impl IndexBuilder {
    /// A builder with the defaults.
    pub fn new() -> IndexBuilder {
        IndexBuilder {
            cfg: Config {
                k: DEFAULT_K,
                w: DEFAULT_W,
                seed: crate::fingerprint::DEFAULT_SEED,
                threads: 0,
                memory: DEFAULT_MEMORY,
                max_file: DEFAULT_MAX_FILE,
                limits: ExtractLimits::default(),
                chunk: ChunkParams::default(),
                common_fraction: DEFAULT_COMMON_FRACTION,
                common_min_docs: DEFAULT_COMMON_MIN_DOCS,
                segment_norm: MAX_SEGMENT_NORM,
                codec: Codec::Lz4,
                block: super::text::DEFAULT_BLOCK,
                cancel: None,
            },
        }
    }
    /// k-gram length in normalized bytes (8..=64).
    pub fn k(mut self, k: usize) -> Self {
        self.cfg.k = k;
        self
    }
    /// Winnowing window (1..=256).
    pub fn window(mut self, w: usize) -> Self {
        self.cfg.w = w;
        self
    }
    /// Rolling hash seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.cfg.seed = seed;
        self
    }
    /// Worker threads (0 = one per core).
    pub fn threads(mut self, n: usize) -> Self {
        self.cfg.threads = n;
        self
    }
    /// Memory budget in bytes (16 MiB..): buffered fingerprints spill to
    /// disk past half of it.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.cfg.memory = bytes;
        self
    }
    /// Largest file read whole; larger mbox and text files are streamed
    /// (message by message, in windows), others get chunks only.
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.cfg.max_file = bytes;
        self
    }
    /// Extraction limits.
    pub fn extract_limits(mut self, limits: ExtractLimits) -> Self {
        self.cfg.limits = limits;
        self
    }
    /// FastCDC chunk sizes.
    pub fn chunk_params(mut self, p: ChunkParams) -> Self {
        self.cfg.chunk = p;
        self
    }
    /// Share of the texts above which a key is common (0..=1).
    pub fn common_fraction(mut self, f: f64) -> Self {
        self.cfg.common_fraction = f;
        self
    }
    /// Smallest number of texts that makes a key common (2..).
    pub fn common_min_docs(mut self, n: u32) -> Self {
        self.cfg.common_min_docs = n;
        self
    }
    /// Most normalized bytes per segment (for tests of segment splitting).
    pub fn segment_norm_limit(mut self, n: u64) -> Self {
        self.cfg.segment_norm = n;
        self
    }
    /// How stored text is compressed (default LZ4).
    pub fn text_codec(mut self, c: Codec) -> Self {
        self.cfg.codec = c;
        self
    }
    /// Uncompressed size of a text block (1 KiB..=1 MiB).
    pub fn text_block(mut self, bytes: u32) -> Self {
        self.cfg.block = bytes;
        self
    }
    /// A flag that, once set, makes the build stop with
    /// [`IndexError::Interrupted`] and publish nothing.
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cfg.cancel = Some(flag);
        self
    }

    /// Check the settings and start the worker threads.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad setting, or when the threads
    /// cannot be started.
    pub fn build(self) -> Result<Indexer, ConfigError> {
        let c = &self.cfg;
        ConfigError::check_range("k", c.k as u64, 8, 64)?;
        ConfigError::check_range("window", c.w as u64, 1, 256)?;
        ConfigError::check_range("threads", c.threads as u64, 0, 1024)?;
        ConfigError::check_range("memory", c.memory, 16 << 20, 1 << 46)?;
        ConfigError::check_range("max_file_size", c.max_file, 1, 1 << 40)?;
        ConfigError::check_range(
            "common_min_docs",
            c.common_min_docs.into(),
            2,
            u32::MAX.into(),
        )?;
        ConfigError::check_range("segment_norm_limit", c.segment_norm, 1024, MAX_SEGMENT_NORM)?;
        ConfigError::check_range(
            "text_block",
            c.block.into(),
            1024,
            super::text::MAX_BLOCK.into(),
        )?;
        ChunkParams::new(c.chunk.min_size, c.chunk.avg_size, c.chunk.max_size)?;
        if !(0.0..=1.0).contains(&c.common_fraction) {
            return Err(ConfigError::Inconsistent(
                "common_fraction must be between 0 and 1",
            ));
        }
        let threads = if c.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            c.threads
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("leakprint-index-{i}"))
            .build()
            .map_err(|e| ConfigError::Threads(e.to_string()))?;
        Ok(Indexer {
            cfg: self.cfg,
            pool,
        })
    }
}

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

/// The records of one path (segment, file): one, or a streamed file's
/// first record and its continuations; and its blake3.
type PathRecords = (Vec<(usize, u32)>, [u8; 32]);

/// The segments of the index before this build, and the new segments of
/// this build as they are published: what later files must not store
/// again, and where earlier key counts come from.
struct Earlier {
    segments: Vec<Segment>,
    names: Vec<String>,
    live: Liveness,
    /// Live files by path bytes: their records and blake3.
    by_path: HashMap<Vec<u8>, PathRecords>,
    /// Calls of [`Earlier::docs`] so far.
    lookups: std::sync::atomic::AtomicU64,
}

/// Key look-ups in the earlier segments between two releases of their
/// resident pages (one `madvise` over each mapping). Measured on the 6.8 GB
/// mailbox of BENCHMARKS.md (a second segment counting its keys in the
/// first): without releases the first segment's resident pages reached
/// 2.07 GiB; releasing every 65,536 look-ups, 40 MiB (peak RSS 596 MiB,
/// over `--memory` + 64); every 8,192, see BENCHMARKS.md.
const RELEASE_EVERY: u64 = 1 << 13;

impl Earlier {
    fn empty() -> Earlier {
        Earlier {
            segments: Vec::new(),
            names: Vec::new(),
            live: Liveness::all_live(0),
            by_path: HashMap::new(),
            lookups: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Live parts of the earlier segments holding `key` (a lookup in each).
    /// Every [`RELEASE_EVERY`] calls the segments' resident pages are
    /// released: counting a segment's keys across the index reads most of
    /// the earlier segments' postings, which would otherwise all stay
    /// resident (2.07 GiB of a 6.8 GB mailbox's first segment, over a
    /// `--memory` of 512 MiB; BENCHMARKS.md).
    fn docs(&self, key: u64) -> u32 {
        if self.lookups.fetch_add(1, Ordering::Relaxed) % RELEASE_EVERY == RELEASE_EVERY - 1 {
            for seg in &self.segments {
                seg.release_resident();
            }
        }
        let mut total = 0u32;
        for (si, seg) in self.segments.iter().enumerate() {
            let mut last = u32::MAX;
            for pos in seg.postings(key) {
                if let Some((part, _)) = seg.locate(pos) {
                    if part != last && self.live.text_live(si, part) {
                        total = total.saturating_add(1);
                    }
                    last = part;
                }
            }
        }
        total
    }
}

impl Prior for Earlier {
    fn has_file(&self, blake3: &[u8; 32]) -> bool {
        self.segments.iter().enumerate().any(|(si, s)| {
            s.find_file(blake3)
                .into_iter()
                .any(|f| self.live.file_live(si, f))
        })
    }
    fn has_text(&self, hash: &[u8; 16]) -> bool {
        self.segments.iter().enumerate().any(|(si, s)| {
            s.find_part_text(hash)
                .is_some_and(|p| self.live.text_live(si, p))
        })
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

    /// Process sources into as many segments as needed, in `dir`, and
    /// bring the state up to date with them.
    #[allow(clippy::too_many_arguments)]
    fn run(
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
    fn write_segment(
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
        w.begin(super::wire::SectionKind::TextData);
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

/// What the segment loop takes next from its sources.
enum Next {
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
fn next_batch(sources: &mut Sources<'_>, max_file: u64, batch_bytes: u64) -> Next {
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
fn stored(results: Vec<FileResult>) -> Vec<Source> {
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
    fn add_files(
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
    if r.status != super::wire::FileStatus::Skipped {
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
struct Ctx<'a, 'w> {
    st: &'a mut SegState,
    w: &'w mut SegmentWriter,
    earlier: &'a Earlier,
    seen: &'a mut HashMap<Vec<u8>, [u8; 32]>,
    dead: &'a mut Vec<DeadFile>,
    summary: &'a mut BuildSummary,
    /// A streamed file may go on in the next segment (not in a build in
    /// pieces, whose piece is one segment).
    spans: bool,
}

impl Indexer {
    /// Add a file over the text limit ([`stream`]): pass 1 (hash, chunks),
    /// then its pieces batch by batch. Returns true when the segment is
    /// full: the file is handed back to start the next one (or, with
    /// `c.spans`, to go on there; see [`Indexer::stream_file`]).
    fn add_large(
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
    fn stream_file(
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

/// What [`Indexer::remove`] did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct RemoveSummary {
    /// Files marked removed.
    pub removed: u64,
    /// Keys common in the whole index after the removal.
    pub common: u64,
}

struct Outcome {
    written: Vec<SegmentEntry>,
    state: State,
}

/// How a segment being written counts its keys.
enum KeyCounting<'a> {
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
struct Countdown {
    left: Mutex<usize>,
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
    fn new(jobs: usize) -> Countdown {
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
    fn wait(&self) {
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
struct Compression {
    blocks: Blocks,
    /// One slot per job, filled by the job.
    done: Mutex<Vec<Option<std::io::Result<Packed>>>>,
    /// Jobs not ended yet.
    left: Countdown,
}

impl Compression {
    fn new(blocks: Blocks) -> Arc<Compression> {
        let jobs = blocks.jobs();
        Arc::new(Compression {
            blocks,
            done: Mutex::new((0..jobs).map(|_| None).collect()),
            left: Countdown::new(jobs),
        })
    }

    /// Compress the blocks of job `job`.
    fn run(&self, job: usize) {
        let _ended = self.left.end_on_drop();
        let out = self.blocks.compress(job);
        self.done.lock().unwrap_or_else(PoisonError::into_inner)[job] = Some(out);
    }

    /// Write the compressed blocks, in order, once every job has ended.
    ///
    /// # Errors
    /// Compression and I/O errors; a job that panicked (its panic is
    /// raised again by the scope that ran it).
    fn write(&self, st: &mut SegState, w: &mut SegmentWriter) -> Result<(), IndexError> {
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

fn header_of(p: Params) -> Header {
    Header {
        version: super::wire::FORMAT_VERSION,
        norm_version: p.norm_version,
        k: p.k,
        w: p.w,
        seed: p.seed,
    }
}

/// The earlier segments of an index being appended to.
fn earlier_of(index: Index, m: &Manifest) -> Result<Earlier, IndexError> {
    let live = index.liveness().clone();
    let mut by_path = HashMap::new();
    for (si, seg) in index.segments().iter().enumerate() {
        for f in 0..seg.file_count() {
            if !live.file_live(si, f) {
                continue;
            }
            let info = seg.file(f)?;
            let entry = by_path
                .entry(info.path_bytes.to_vec())
                .or_insert_with(|| (Vec::new(), info.blake3));
            if !info.continued {
                // A path's live file starts here; continuations follow it
                // in later segments.
                entry.0.clear();
                entry.1 = info.blake3;
            }
            entry.0.push((si, f));
        }
    }
    let names = m.segments.iter().map(|s| s.file.clone()).collect();
    let (segments, _, _) = index.into_parts();
    Ok(Earlier {
        segments,
        names,
        live,
        by_path,
        lookups: std::sync::atomic::AtomicU64::new(0),
    })
}

/// Mark `dead` files of `index` dead in `state`: their texts that no live
/// file references any more stop counting, in the live-text total and in
/// the frequent keys.
fn kill(index: &Index, state: &mut State, dead: &[DeadFile], fp: Fp) -> Result<(), IndexError> {
    let names = index.segment_names();
    kill_with(index, index.liveness(), &names, state, dead, fp)
}

fn kill_with(
    index: &Index,
    before: &Liveness,
    names: &[String],
    state: &mut State,
    dead: &[DeadFile],
    fp: Fp,
) -> Result<(), IndexError> {
    let mut all = state.dead.clone();
    all.extend(dead.iter().cloned());
    all.sort();
    all.dedup_by(|a, b| a.segment == b.segment && a.file == b.file);
    let after = Liveness::compute(index.segments(), names, &all)?;
    // Texts live before and dead after.
    let mut scratch = analyze::Scratch::default();
    let mut lost: HashMap<u64, u32> = HashMap::new();
    let mut texts = 0u64;
    for (si, seg) in index.segments().iter().enumerate() {
        for p in 0..seg.part_count() {
            let info = seg.part(p)?;
            if info.duplicate != super::wire::Duplicate::None
                || info.norm_len == 0 && info.text_len == 0
            {
                continue;
            }
            if before.text_live(si, p) && !after.text_live(si, p) {
                texts += 1;
                let text = seg.part_text(p)?;
                let a = analyze::analyze(&text, fp, &mut scratch);
                let mut keys: Vec<u64> = a.fps.iter().map(|f| f.0).collect();
                keys.sort_unstable();
                keys.dedup();
                for k in keys {
                    *lost.entry(k).or_default() += 1;
                }
            }
        }
    }
    state.live_texts = state.live_texts.saturating_sub(texts);
    state.frequent.retain_mut(|f| {
        if let Some(&n) = lost.get(&f.key) {
            f.docs = f.docs.saturating_sub(n);
        }
        f.docs >= state.min_docs
    });
    state.dead = all;
    Ok(())
}

/// Merge `new` (keys of a new segment with their index-wide counts) into
/// the sorted `frequent` list: a key in both takes the new count.
fn merge_frequent(frequent: &mut Vec<Frequent>, new: Vec<Frequent>) {
    if new.is_empty() {
        return;
    }
    let old = std::mem::take(frequent);
    let mut out = Vec::with_capacity(old.len() + new.len());
    let (mut a, mut b) = (old.into_iter().peekable(), new.into_iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.key < y.key => out.push(a.next().expect("peeked")),
            (Some(x), Some(y)) if x.key > y.key => out.push(b.next().expect("peeked")),
            (Some(_), Some(_)) => {
                a.next();
                out.push(b.next().expect("peeked"));
            }
            (Some(_), None) => out.push(a.next().expect("peeked")),
            (None, Some(_)) => out.push(b.next().expect("peeked")),
            (None, None) => break,
        }
    }
    *frequent = out;
}

/// Sources with a front buffer (a full segment hands its rest back).
struct Sources<'a> {
    front: Vec<Source>,
    rest: Box<dyn Iterator<Item = Source> + 'a>,
}

impl<'a> Sources<'a> {
    fn new(it: impl Iterator<Item = Source> + 'a) -> Sources<'a> {
        Sources {
            front: Vec::new(),
            rest: Box::new(it),
        }
    }
    fn peek(&mut self) -> Option<&Source> {
        if self.front.is_empty() {
            let next = self.rest.next()?;
            self.front.push(next);
        }
        self.front.last()
    }
    fn next(&mut self) -> Option<Source> {
        self.front.pop().or_else(|| self.rest.next())
    }
    fn push_front(&mut self, v: Vec<Source>) {
        // `front` is a stack: the last element comes out first.
        self.front.extend(v.into_iter().rev());
    }
}

/// File name of segment `n` (1, 2, ...) written by generation `generation`.
fn segment_name(generation: u64, n: u64) -> String {
    format!("seg-{generation:06}-{n:03}.lps")
}

/// A temporary file name unique in this process: `.tmp-<pid>-<n>-<what>`.
pub(crate) fn temp_name(dir: &Path, what: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".tmp-{}-{n}-{what}", std::process::id()))
}

/// Check the output path; return the existing manifest if there is one.
fn prepare_output(output: &Path) -> Result<Option<Manifest>, IndexError> {
    match std::fs::metadata(output) {
        Ok(m) if m.is_dir() => {
            if output.join(MANIFEST_NAME).exists() {
                Manifest::read(output).map(Some)
            } else {
                // An empty folder, or one that holds only what a first build
                // interrupted before its manifest leaves (temporary files,
                // segments and state files no manifest names): start afresh.
                let names: Vec<(PathBuf, String)> = std::fs::read_dir(output)
                    .map_err(|e| IndexError::io(output, e))?
                    .map(|e| {
                        let e = e.map_err(|err| IndexError::io(output, err))?;
                        Ok((e.path(), e.file_name().to_string_lossy().into_owned()))
                    })
                    .collect::<Result<_, IndexError>>()?;
                if names.iter().all(|(_, n)| is_build_leftover(n)) {
                    for (path, _) in &names {
                        std::fs::remove_file(path).map_err(|e| IndexError::io(path, e))?;
                    }
                    Ok(None)
                } else {
                    Err(IndexError::NotAnIndex {
                        path: output.to_path_buf(),
                    })
                }
            }
        }
        Ok(_) => Err(IndexError::NotAnIndex {
            path: output.to_path_buf(),
        }),
        Err(_) => {
            let parent = output
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if !parent.is_dir() {
                return Err(IndexError::MissingOutputDir {
                    path: parent.to_path_buf(),
                });
            }
            std::fs::create_dir(output).map_err(|e| IndexError::io(output, e))?;
            Ok(None)
        }
    }
}

/// Whether a file name is one an index build writes before its manifest:
/// a temporary file, a segment, a piece's key counts or a state file.
fn is_build_leftover(name: &str) -> bool {
    name.starts_with(".tmp-")
        || (name.starts_with("seg-") && (name.ends_with(".lps") || name.ends_with(".lpk")))
        || (name.starts_with("state-") && name.ends_with(".lpst"))
}

/// Remove segment and state files, shard folders and leftovers the
/// manifest does not name.
fn remove_unlisted(dir: &Path, m: &Manifest) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for ent in rd.flatten() {
        let name = ent.file_name().to_string_lossy().to_string();
        if shards::is_shard_folder(&name) && !m.shards.contains(&name) {
            let _ = std::fs::remove_dir_all(ent.path());
            continue;
        }
        let named =
            m.segments.iter().any(|s| s.file == name) || m.state.as_deref() == Some(name.as_str());
        if is_build_leftover(&name) && !named {
            let _ = std::fs::remove_file(ent.path());
        }
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
