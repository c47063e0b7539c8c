//! Building segments: configuration, the parallel pipeline, publishing.
//!
//! ```text
//! walk (sorted) -> batches of files -> rayon: read, extract, normalize,
//!   fingerprint, chunk, blake3 (per file, in parallel)
//! -> in input order: dedupe parts by text hash, append text to the arena
//!   (zstd blocks compressed in parallel), buffer (key, position) pairs
//!   -> sorted runs spilled to disk when the memory budget is reached
//! -> k-way merge: postings + bucket directory + common keys -> segment
//! ```
//!
//! Determinism: files are taken in walk order and their results consumed
//! in that order whatever the thread count; runs are sorted by the total
//! order (key, position), so spilling or not gives the same merge. The
//! segment bytes are therefore identical at any thread count and memory
//! budget (tested).
//!
//! Memory: in flight are one batch of files (bounded by a share of the
//! budget), the fingerprint buffer (the rest of the budget, spilled when
//! full), and per-file and per-part records (about 200 bytes each, growing
//! with the number of files, not their size).

use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use super::format::*;
use super::manifest::{Manifest, SegmentEntry, MANIFEST_FORMAT, MANIFEST_NAME, MANIFEST_VERSION};
use super::segment::{encode_format, FileStatus, Meta};
use super::walk::{self, Entry};
use super::{Index, IndexError, Params};
use crate::chunk::{self, Chunk, ChunkParams};
use crate::error::ConfigError;
use crate::extract::{self, ExtractLimits, Format};
use crate::fingerprint;
use crate::normalize;
use crate::winnow;

/// Default k-gram length (normalized bytes). See BENCHMARKS.md for the
/// measurements behind it.
pub const DEFAULT_K: usize = 16;
/// Default winnowing window; with k this gives t = w + k - 1 = 40.
pub const DEFAULT_W: usize = 25;
/// Default memory budget for a build.
pub const DEFAULT_MEMORY: u64 = 1 << 30;
/// Default largest file whose text is extracted; larger files are chunked only.
pub const DEFAULT_MAX_FILE: u64 = 256 << 20;
/// A fingerprint in at least this share of the parts is common...
pub const DEFAULT_COMMON_FRACTION: f64 = 0.005;
/// ...and in at least this many parts. A reply chain copies a mail into
/// every answer, so in a small dump a passage found in a dozen parts is
/// often the leaked mail itself, quoted, not boilerplate; footers and list
/// signatures are in far more. With 8 (the first default) a mail quoted in
/// eight replies could never be matched in a dump of under 1,600 parts; 32
/// leaves the quality evaluation unchanged (its boilerplate is in 175
/// files) and only reports more sources (`cargo run --release --example
/// quality -- --common-min-docs 8`, then 32).
pub const DEFAULT_COMMON_MIN_DOCS: u32 = 32;
/// Uncompressed size of a text block. Every match candidate the matcher
/// verifies decodes at least one block, so this trades index size for
/// matching speed. On the 1 GB scale corpus (`leakprint index` with each
/// size, then `examples/throughput --repeat 1 --threads 1` over its three
/// query sets, three interleaved runs): 16 KiB blocks gave 848 MB and
/// 6,070 posts/s, 8 KiB 876 MB (+3.3%) and 8,280 posts/s (+37%), 4 KiB
/// 909 MB and no clear further gain.
pub const TEXT_BLOCK: u32 = 8 << 10;
/// zstd level of the text blocks (level 1 measured fastest at a ratio
/// close to level 3 on English text; see BENCHMARKS.md).
pub const ZSTD_LEVEL: i32 = 1;
/// A checkpoint is written every this many bytes of text.
pub const CHECKPOINT_EVERY: usize = 1024;
/// Most normalized bytes one segment holds (positions are u32).
pub const MAX_SEGMENT_NORM: u64 = u32::MAX as u64 - (1 << 20);
/// Most files in one batch.
const BATCH_FILES: usize = 1024;

/// Builder of an [`Indexer`]; every setting is checked by [`IndexBuilder::build`].
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
    cancel: Option<Arc<AtomicBool>>,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        IndexBuilder::new()
    }
}

impl IndexBuilder {
    /// Defaults: k = 16, w = 25, 1 GiB of memory, all cores.
    pub fn new() -> IndexBuilder {
        IndexBuilder {
            cfg: Config {
                k: DEFAULT_K,
                w: DEFAULT_W,
                seed: fingerprint::DEFAULT_SEED,
                threads: 0,
                memory: DEFAULT_MEMORY,
                max_file: DEFAULT_MAX_FILE,
                limits: ExtractLimits::default(),
                chunk: ChunkParams::default(),
                common_fraction: DEFAULT_COMMON_FRACTION,
                common_min_docs: DEFAULT_COMMON_MIN_DOCS,
                segment_norm: MAX_SEGMENT_NORM,
                cancel: None,
            },
        }
    }
    /// k-gram length in normalized bytes (8..=64).
    pub fn k(mut self, k: usize) -> Self {
        self.cfg.k = k;
        self
    }
    /// Winnowing window in k-grams (1..=256).
    pub fn window(mut self, w: usize) -> Self {
        self.cfg.w = w;
        self
    }
    /// Rolling hash seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.cfg.seed = seed;
        self
    }
    /// Worker threads; 0 means one per core.
    pub fn threads(mut self, n: usize) -> Self {
        self.cfg.threads = n;
        self
    }
    /// Memory budget in bytes (at least 16 MiB).
    pub fn memory(mut self, bytes: u64) -> Self {
        self.cfg.memory = bytes;
        self
    }
    /// Largest file whose text is extracted; larger ones are chunked only.
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.cfg.max_file = bytes;
        self
    }
    /// Extraction limits (archive bombs, part counts...).
    pub fn extract_limits(mut self, limits: ExtractLimits) -> Self {
        self.cfg.limits = limits;
        self
    }
    /// Content-defined chunking parameters.
    pub fn chunk_params(mut self, p: ChunkParams) -> Self {
        self.cfg.chunk = p;
        self
    }
    /// Share of parts a fingerprint must be found in to be common (0..=1).
    pub fn common_fraction(mut self, f: f64) -> Self {
        self.cfg.common_fraction = f;
        self
    }
    /// Fewest parts a common fingerprint must be found in.
    pub fn common_min_docs(mut self, n: u32) -> Self {
        self.cfg.common_min_docs = n;
        self
    }
    /// Most normalized bytes per segment (tests use small values).
    pub fn segment_norm_limit(mut self, n: u64) -> Self {
        self.cfg.segment_norm = n;
        self
    }
    /// A flag that, once set, stops the build between batches with
    /// [`IndexError::Interrupted`], publishing nothing.
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cfg.cancel = Some(flag);
        self
    }

    /// Check the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad setting.
    pub fn build(self) -> Result<Indexer, ConfigError> {
        let c = &self.cfg;
        ConfigError::check_range("k", c.k as u64, 8, 64)?;
        ConfigError::check_range("window", c.w as u64, 1, 256)?;
        ConfigError::check_range("threads", c.threads as u64, 0, 1024)?;
        ConfigError::check_range("memory", c.memory, 16 << 20, 1 << 46)?;
        ConfigError::check_range("max_file_size", c.max_file, 1, 1 << 40)?;
        ConfigError::check_range(
            "common_min_docs",
            c.common_min_docs as u64,
            2,
            u32::MAX as u64,
        )?;
        ConfigError::check_range("segment_norm_limit", c.segment_norm, 1024, MAX_SEGMENT_NORM)?;
        {
            // The chunker's own bounds (it asserts them); readers refuse others.
            use fastcdc::v2020 as cdc;
            let ch = &c.chunk;
            let r = |n, v: u32, lo: u32, hi: u32| {
                ConfigError::check_range(n, v as u64, lo as u64, hi as u64)
            };
            r(
                "chunk.min_size",
                ch.min_size,
                cdc::MINIMUM_MIN,
                cdc::MINIMUM_MAX,
            )?;
            r(
                "chunk.avg_size",
                ch.avg_size,
                cdc::AVERAGE_MIN,
                cdc::AVERAGE_MAX,
            )?;
            r(
                "chunk.max_size",
                ch.max_size,
                cdc::MAXIMUM_MIN,
                cdc::MAXIMUM_MAX,
            )?;
            if ch.min_size > ch.avg_size || ch.avg_size > ch.max_size {
                return Err(ConfigError::Inconsistent(
                    "chunk sizes must satisfy min_size <= avg_size <= max_size",
                ));
            }
        }
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
            .map_err(|_| ConfigError::Inconsistent("cannot start the worker threads"))?;
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
    /// Files seen (indexed + binary + skipped).
    pub files: u64,
    /// Files whose text was indexed.
    pub indexed: u64,
    /// Files recorded by chunks only.
    pub binary: u64,
    /// Files not read, with reasons in `skipped`.
    pub skipped_files: u64,
    /// Bytes read from input files.
    pub bytes: u64,
    /// Text parts.
    pub parts: u64,
    /// Parts whose text duplicates an earlier part.
    pub duplicate_parts: u64,
    /// Bytes of extracted text.
    pub text_bytes: u64,
    /// Postings written.
    pub postings: u64,
    /// Fingerprints marked common.
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
    /// Add a segment to an existing index (created if missing), keeping its parameters.
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

/// The result of processing one input file (or one stored file, when
/// compacting).
#[derive(Debug)]
struct FileResult {
    display: String,
    size: u64,
    blake3: [u8; 32],
    status: FileStatus,
    format: Option<Format>,
    reason: String,
    /// `(part name, reason)` of everything skipped or cut; joined into `reason`.
    notes: Vec<(String, String)>,
    parts: Vec<PartResult>,
    chunks: Vec<Chunk>,
}

#[derive(Debug)]
struct PartResult {
    name: String,
    format: Format,
    text: String,
    text_hash: [u8; 32],
    norm_len: u32,
    /// (remixed key, local normalized position)
    fps: Vec<(u64, u32)>,
    /// (local normalized position, local text offset), first is (0, 0)
    checkpoints: Vec<(u32, u32)>,
}

/// Where a batch item comes from.
enum Source {
    Disk { path: PathBuf, display: String },
    Skipped { display: String, reason: String },
    Stored(Box<FileResult>),
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
        let (params, mut manifest) = match (&existing, mode) {
            (Some(m), Mode::Append) => (m.params, m.clone()),
            (Some(m), Mode::Create) => (
                self.params(),
                Manifest {
                    segments: Vec::new(),
                    params: self.params(),
                    ..m.clone()
                },
            ),
            (None, _) => (
                self.params(),
                Manifest {
                    format: MANIFEST_FORMAT.into(),
                    version: MANIFEST_VERSION,
                    params: self.params(),
                    generation: 0,
                    segments: Vec::new(),
                },
            ),
        };
        if params.norm_version != normalize::NORMALIZATION_VERSION {
            return Err(IndexError::ParamsMismatch {
                path: output.join(MANIFEST_NAME),
                what: format!("normalization v{}", params.norm_version),
                expected: format!(
                    "normalization v{} (rebuild the index)",
                    normalize::NORMALIZATION_VERSION
                ),
            });
        }
        manifest.generation += 1;
        let total_bytes: u64 = entries
            .iter()
            .map(|e| match e {
                Entry::File { path, .. } => std::fs::metadata(path).map_or(0, |m| m.len()),
                Entry::Skipped { .. } => 0,
            })
            .sum();
        progress.start(entries.len() as u64, total_bytes);
        let sources = entries.into_iter().map(|e| match e {
            Entry::File { path, display } => Source::Disk { path, display },
            Entry::Skipped { display, reason } => Source::Skipped { display, reason },
        });
        let mut summary = BuildSummary::default();
        let written = self.run(
            params,
            sources,
            output,
            manifest.generation,
            progress,
            &mut summary,
        )?;
        let old = std::mem::take(&mut manifest.segments);
        if mode == Mode::Append {
            manifest.segments = old.clone();
        }
        manifest.segments.extend(written);
        manifest.write(output)?;
        remove_unlisted(output, &manifest);
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Merge all segments of the index folder `dir` into one, re-deriving the
    /// fingerprints from the stored text (so that the merged segment's
    /// directory and common set are those of a fresh build).
    ///
    /// # Errors
    /// I/O errors or a corrupt index; nothing is published then.
    pub fn compact(&self, dir: &Path, progress: &dyn Progress) -> Result<BuildSummary, IndexError> {
        let started = Instant::now();
        let mut manifest = Manifest::read(dir)?;
        let index = Index::open(dir)?;
        let params = manifest.params;
        manifest.generation += 1;
        let mut stored = Vec::new();
        for seg in index.segments() {
            let mut per_file: HashMap<u32, Vec<Chunk>> = HashMap::new();
            for c in seg_chunks(seg) {
                per_file.entry(c.0).or_default().push(c.1);
            }
            for f in 0..seg.file_count() {
                let mut chunks = per_file.remove(&f).unwrap_or_default();
                chunks.sort_by_key(|c| c.offset);
                stored.push(Source::Stored(Box::new(
                    self.stored_file(seg, f, chunks, params)?,
                )));
            }
        }
        progress.start(stored.len() as u64, 0);
        let mut summary = BuildSummary::default();
        let written = self.run(
            params,
            stored.into_iter(),
            dir,
            manifest.generation,
            progress,
            &mut summary,
        )?;
        manifest.segments = written;
        manifest.write(dir)?;
        remove_unlisted(dir, &manifest);
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Build one segment in memory from `(path, text)` documents, as if each
    /// were a UTF-8 text file. For tests, examples and embedding.
    ///
    /// # Errors
    /// Only on internal I/O to temporary spill files.
    pub fn segment_from_texts(&self, docs: &[(&str, &str)]) -> Result<Vec<u8>, IndexError> {
        let params = self.params();
        let sources: Vec<Source> = docs
            .iter()
            .map(|(path, text)| {
                let bytes = text.as_bytes();
                Source::Stored(Box::new(self.file_from_bytes(
                    path.to_string(),
                    bytes,
                    params,
                )))
            })
            .collect();
        let dir = std::env::temp_dir();
        let mut summary = BuildSummary::default();
        let mut out = SegmentOut::Memory(Vec::new());
        let mut sources = Sources::new(sources.into_iter());
        self.write_segment(
            params,
            &mut sources,
            &dir,
            &mut out,
            &NoProgress,
            &mut summary,
        )?;
        match out {
            SegmentOut::Memory(v) => Ok(v),
            SegmentOut::File(_) => unreachable!("memory output requested"),
        }
    }

    /// Process sources into as many segments as needed, in `dir`.
    fn run(
        &self,
        params: Params,
        sources: impl Iterator<Item = Source>,
        dir: &Path,
        generation: u64,
        progress: &dyn Progress,
        summary: &mut BuildSummary,
    ) -> Result<Vec<SegmentEntry>, IndexError> {
        let mut sources = Sources::new(sources);
        let mut written = Vec::new();
        let mut n = 0;
        loop {
            n += 1;
            let name = format!("seg-{generation:06}-{n:03}.lps");
            let path = dir.join(&name);
            let mut out = SegmentOut::File(path.clone());
            let (files, parts) =
                self.write_segment(params, &mut sources, dir, &mut out, progress, summary)?;
            let bytes = std::fs::metadata(&path)
                .map_err(|e| IndexError::io(&path, e))?
                .len();
            written.push(SegmentEntry {
                file: name,
                bytes,
                files,
                parts,
            });
            summary.segments += 1;
            summary.index_bytes += bytes;
            if sources.peek().is_none() {
                break;
            }
        }
        Ok(written)
    }

    fn cancelled(&self) -> bool {
        self.cfg
            .cancel
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// Consume sources until they end or the segment is full; write it.
    fn write_segment(
        &self,
        params: Params,
        sources: &mut Sources<'_>,
        dir: &Path,
        out: &mut SegmentOut,
        progress: &dyn Progress,
        summary: &mut BuildSummary,
    ) -> Result<(u64, u64), IndexError> {
        let header = HeaderParams {
            norm_version: params.norm_version,
            k: params.k,
            w: params.w,
            seed: params.seed,
        };
        let mut w = SegWriter::new(out, &header)?;
        let fp_budget = (self.cfg.memory / 2 / 12).max(1 << 16) as usize;
        let batch_bytes = (self.cfg.memory / 8).max(4 << 20);
        let mut st = SegState::new(dir, fp_budget);
        w.begin(SectionKind::TextData);
        let mut full = false;
        while !full && sources.peek().is_some() {
            if self.cancelled() {
                return Err(IndexError::Interrupted);
            }
            // Take a batch: by count and by bytes on disk.
            let mut batch = Vec::new();
            let mut bytes = 0u64;
            while let Some(s) = sources.peek() {
                let size = match s {
                    Source::Disk { path, .. } => std::fs::metadata(path).map_or(0, |m| m.len()),
                    _ => 0,
                };
                if !batch.is_empty() && (batch.len() >= BATCH_FILES || bytes + size > batch_bytes) {
                    break;
                }
                bytes += size.min(self.cfg.max_file);
                batch.push(sources.next().expect("peeked"));
            }
            let results: Vec<FileResult> = self.pool.install(|| {
                batch
                    .into_par_iter()
                    .map(|s| {
                        let r = self.process(s, params);
                        progress.file_done(r.size);
                        r
                    })
                    .collect()
            });
            let mut rest = results.into_iter();
            while let Some(r) = rest.next() {
                let add: u64 = r.parts.iter().map(|p| p.norm_len as u64).sum();
                if st.norm_total + add > self.cfg.segment_norm && !st.files.is_empty() {
                    // The segment is full: hand this result and the rest of
                    // the batch back, to start the next segment.
                    full = true;
                    let mut back = vec![Source::Stored(Box::new(r))];
                    back.extend(rest.by_ref().map(|r| Source::Stored(Box::new(r))));
                    sources.push_front(back);
                    break;
                }
                st.add_file(r, summary)?;
            }
            self.flush_blocks(&mut st, &mut w)?;
        }
        st.arena_finish();
        self.flush_blocks(&mut st, &mut w)?;
        w.end()?;
        progress.merging();
        st.finish(&mut w, &self.cfg, summary)?;
        let counts = (st.files.len() as u64, st.part_count as u64);
        w.finish()?;
        Ok(counts)
    }

    /// Compress the arena's full blocks in parallel and write them in order.
    fn flush_blocks(&self, st: &mut SegState, w: &mut SegWriter<'_>) -> Result<(), IndexError> {
        let pending = std::mem::take(&mut st.pending_blocks);
        let compressed: Vec<Result<Vec<u8>, std::io::Error>> = self.pool.install(|| {
            // One compression context per rayon split, not per block
            // (creating one was 1.4% of an index run); the output does not
            // depend on the context (the golden segment checks it).
            pending
                .par_iter()
                .map_init(
                    || zstd::bulk::Compressor::new(ZSTD_LEVEL),
                    |c, b| match c {
                        Ok(c) => c.compress(b),
                        Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
                    },
                )
                .collect()
        });
        for (raw, c) in pending.iter().zip(compressed) {
            let c = c.map_err(|e| IndexError::io(Path::new("<zstd>"), e))?;
            st.blocks
                .push((st.text_data_len, c.len() as u32, raw.len() as u32));
            st.text_data_len += c.len() as u64;
            w.write(&c)?;
        }
        Ok(())
    }

    /// Read and process one source.
    fn process(&self, s: Source, params: Params) -> FileResult {
        match s {
            Source::Stored(r) => *r,
            Source::Skipped { display, reason } => FileResult::skipped(display, reason),
            Source::Disk { path, display } => {
                match crate::fileio::read_prefix(&path, self.cfg.max_file) {
                    Err(e) => FileResult::skipped(display, format!("cannot read: {e}")),
                    Ok((bytes, false)) => self.file_from_bytes(display, &bytes, params),
                    Ok((_, true)) => self.chunk_only(&path, display),
                }
            }
        }
    }

    /// A file over the size limit: stream it for chunks and hash only.
    fn chunk_only(&self, path: &Path, display: String) -> FileResult {
        let mut chunks = Vec::new();
        let res = File::open(path).and_then(|f| {
            chunk::chunk_reader(BufReader::new(f), &self.cfg.chunk, |c| chunks.push(c))
        });
        match res {
            Err(e) => FileResult::skipped(display, format!("cannot read: {e}")),
            Ok((hash, size)) => FileResult {
                display,
                size,
                blake3: *hash.as_bytes(),
                status: FileStatus::Binary,
                format: Some(Format::Binary),
                reason: format!(
                    "larger than the text limit of {} bytes: chunks only",
                    self.cfg.max_file
                ),
                notes: vec![(
                    String::new(),
                    format!(
                        "larger than the text limit of {} bytes: chunks only",
                        self.cfg.max_file
                    ),
                )],
                parts: Vec::new(),
                chunks,
            },
        }
    }

    fn file_from_bytes(&self, display: String, bytes: &[u8], params: Params) -> FileResult {
        let chunks = chunk::chunk_bytes(bytes, &self.cfg.chunk);
        let blake3 = *blake3::hash(bytes).as_bytes();
        let name = display.rsplit('/').next().unwrap_or(&display).to_string();
        let ex = extract::extract(bytes, &name, &self.cfg.limits);
        let notes: Vec<(String, String)> =
            ex.skipped.into_iter().map(|s| (s.name, s.reason)).collect();
        let reason = notes
            .iter()
            .map(|(name, reason)| {
                if name.is_empty() {
                    reason.clone()
                } else {
                    format!("{name}: {reason}")
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        let parts: Vec<PartResult> = ex
            .parts
            .into_iter()
            .map(|p| part_result(p.name, p.format, p.text, params))
            .collect();
        let status = if parts.iter().all(|p| p.text.is_empty()) {
            FileStatus::Binary
        } else {
            FileStatus::Indexed
        };
        FileResult {
            display,
            size: bytes.len() as u64,
            blake3,
            status,
            format: Some(ex.format.unwrap_or(Format::Binary)),
            reason,
            notes,
            parts,
            chunks,
        }
    }

    fn stored_file(
        &self,
        seg: &super::Segment,
        f: u32,
        chunks: Vec<Chunk>,
        params: Params,
    ) -> Result<FileResult, IndexError> {
        let info = seg.file(f)?;
        let mut parts = Vec::new();
        for p in info.parts.clone() {
            let pi = seg.part(p)?;
            let text = seg.part_text(p)?;
            parts.push(part_result(pi.name.to_string(), pi.format, text, params));
        }
        Ok(FileResult {
            display: info.path.to_string(),
            size: info.size,
            blake3: info.blake3,
            status: info.status,
            format: info.format,
            reason: info.reason.to_string(),
            notes: if info.reason.is_empty() {
                Vec::new()
            } else {
                vec![(String::new(), info.reason.to_string())]
            },
            parts,
            chunks,
        })
    }
}

fn seg_chunks(seg: &super::Segment) -> Vec<(u32, Chunk)> {
    let r = seg.section_range(SectionKind::Chunks);
    let b = &seg.bytes()[r];
    b.chunks_exact(CHUNK_RECORD_LEN)
        .map(|r| {
            (
                u32_at(r, 32).unwrap_or(0),
                Chunk {
                    hash: r[..32].try_into().expect("32 bytes"),
                    len: u32_at(r, 36).unwrap_or(0),
                    offset: u64_at(r, 40).unwrap_or(0),
                },
            )
        })
        .collect()
}

/// Normalize and fingerprint one part.
fn part_result(name: String, format: Format, text: String, params: Params) -> PartResult {
    let text_hash = *blake3::hash(text.as_bytes()).as_bytes();
    let mut norm = String::with_capacity(text.len());
    let mut checkpoints = Vec::with_capacity(text.len() / CHECKPOINT_EVERY + 1);
    let mut at = 0usize;
    while at < text.len() {
        let mut end = (at + CHECKPOINT_EVERY).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        checkpoints.push((norm.len() as u32, at as u32));
        normalize::normalize_text_only(&text[at..end], &mut norm);
        at = end;
    }
    if checkpoints.is_empty() {
        checkpoints.push((0, 0));
    }
    let mut raw = Vec::new();
    winnow::fingerprints(
        norm.as_bytes(),
        params.k as usize,
        params.w as usize,
        params.seed,
        &mut raw,
    );
    let fps = raw
        .into_iter()
        .map(|(h, p)| (fingerprint::remix(h), p))
        .collect();
    PartResult {
        name,
        format,
        text,
        text_hash,
        norm_len: norm.len() as u32,
        fps,
        checkpoints,
    }
}

impl FileResult {
    fn skipped(display: String, reason: String) -> FileResult {
        FileResult {
            display,
            size: 0,
            blake3: [0; 32],
            status: FileStatus::Skipped,
            format: None,
            notes: vec![(String::new(), reason.clone())],
            reason,
            parts: Vec::new(),
            chunks: Vec::new(),
        }
    }
}

/// The queue of sources: an iterator plus results handed back when a
/// segment fills up.
struct Sources<'a> {
    back: std::collections::VecDeque<Source>,
    it: Box<dyn Iterator<Item = Source> + 'a>,
}

impl<'a> Sources<'a> {
    fn new(it: impl Iterator<Item = Source> + 'a) -> Sources<'a> {
        Sources {
            back: Default::default(),
            it: Box::new(it),
        }
    }
    fn peek(&mut self) -> Option<&Source> {
        if self.back.is_empty() {
            let next = self.it.next()?;
            self.back.push_back(next);
        }
        self.back.front()
    }
    fn next(&mut self) -> Option<Source> {
        self.back.pop_front().or_else(|| self.it.next())
    }
    fn push_front(&mut self, v: Vec<Source>) {
        for s in v.into_iter().rev() {
            self.back.push_front(s);
        }
    }
}

/// Where a segment goes.
enum SegmentOut {
    File(PathBuf),
    Memory(Vec<u8>),
}

/// A segment writer over a file or memory.
struct SegWriter<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    File(Box<super::writer::SegmentWriter>),
    Memory {
        buf: &'a mut Vec<u8>,
        entries: Vec<SectionEntry>,
        current: Option<(SectionKind, u64)>,
        header: [u8; HEADER_LEN],
    },
}

impl<'a> SegWriter<'a> {
    fn new(out: &'a mut SegmentOut, header: &HeaderParams) -> Result<SegWriter<'a>, IndexError> {
        Ok(SegWriter {
            inner: match out {
                SegmentOut::File(p) => {
                    Inner::File(Box::new(super::writer::SegmentWriter::create(p, header)?))
                }
                SegmentOut::Memory(buf) => {
                    buf.clear();
                    let h = encode_header(header);
                    buf.extend_from_slice(&h);
                    Inner::Memory {
                        buf,
                        entries: Vec::new(),
                        current: None,
                        header: h,
                    }
                }
            },
        })
    }
    fn begin(&mut self, kind: SectionKind) {
        match &mut self.inner {
            Inner::File(w) => w.begin(kind),
            Inner::Memory { buf, current, .. } => *current = Some((kind, buf.len() as u64)),
        }
    }
    fn write(&mut self, b: &[u8]) -> Result<(), IndexError> {
        match &mut self.inner {
            Inner::File(w) => w.write(b),
            Inner::Memory { buf, .. } => {
                buf.extend_from_slice(b);
                Ok(())
            }
        }
    }
    fn end(&mut self) -> Result<(), IndexError> {
        match &mut self.inner {
            Inner::File(w) => w.end(),
            Inner::Memory {
                buf,
                entries,
                current,
                ..
            } => {
                let (kind, start) = current.take().expect("open section");
                let len = buf.len() as u64 - start;
                entries.push(SectionEntry {
                    kind,
                    offset: start,
                    len,
                    checksum: checksum(&buf[start as usize..]),
                });
                while buf.len() % 8 != 0 {
                    buf.push(0);
                }
                Ok(())
            }
        }
    }
    fn section(&mut self, kind: SectionKind, b: &[u8]) -> Result<(), IndexError> {
        self.begin(kind);
        self.write(b)?;
        self.end()
    }
    fn finish(self) -> Result<(), IndexError> {
        match self.inner {
            Inner::File(w) => w.finish().map(|_| ()),
            Inner::Memory {
                buf,
                entries,
                header,
                ..
            } => {
                let table_offset = buf.len() as u64;
                let mut table = Vec::new();
                for e in &entries {
                    table.extend_from_slice(&e.encode());
                }
                let mut h = blake3::Hasher::new();
                h.update(&header);
                h.update(&table);
                let sum =
                    u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"));
                buf.extend_from_slice(&table);
                buf.extend_from_slice(&encode_footer(table_offset, entries.len() as u32, sum));
                Ok(())
            }
        }
    }
}

/// Everything accumulated for the segment being built.
struct SegState {
    dir: PathBuf,
    strings: Vec<u8>,
    files: Vec<[u8; FILE_RECORD_LEN]>,
    file_hashes: Vec<([u8; 32], u32)>,
    parts: Vec<[u8; PART_RECORD_LEN]>,
    part_count: u32,
    /// Normalized bases of the non-duplicate parts, for counting documents.
    bases: Vec<u32>,
    dedupe: HashMap<[u8; 32], u32>,
    checkpoints: Vec<u8>,
    checkpoint_count: u32,
    chunks: Vec<(Chunk, u32)>,
    norm_total: u64,
    arena_len: u64,
    arena_block: Vec<u8>,
    pending_blocks: Vec<Vec<u8>>,
    blocks: Vec<(u64, u32, u32)>,
    text_data_len: u64,
    sorter: Sorter,
}

impl SegState {
    fn new(dir: &Path, fp_budget: usize) -> SegState {
        SegState {
            dir: dir.to_path_buf(),
            strings: Vec::new(),
            files: Vec::new(),
            file_hashes: Vec::new(),
            parts: Vec::new(),
            part_count: 0,
            bases: Vec::new(),
            dedupe: HashMap::new(),
            checkpoints: Vec::new(),
            checkpoint_count: 0,
            chunks: Vec::new(),
            norm_total: 0,
            arena_len: 0,
            arena_block: Vec::with_capacity(TEXT_BLOCK as usize),
            pending_blocks: Vec::new(),
            blocks: Vec::new(),
            text_data_len: 0,
            sorter: Sorter::new(dir, fp_budget),
        }
    }

    fn string(&mut self, s: &str) -> (u32, u32) {
        if s.is_empty() {
            return (0, 0);
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        (off, s.len() as u32)
    }

    fn arena_push(&mut self, mut text: &[u8]) -> u64 {
        let start = self.arena_len;
        while !text.is_empty() {
            let room = TEXT_BLOCK as usize - self.arena_block.len();
            let take = room.min(text.len());
            self.arena_block.extend_from_slice(&text[..take]);
            text = &text[take..];
            self.arena_len += take as u64;
            if self.arena_block.len() == TEXT_BLOCK as usize {
                let full = std::mem::replace(
                    &mut self.arena_block,
                    Vec::with_capacity(TEXT_BLOCK as usize),
                );
                self.pending_blocks.push(full);
            }
        }
        start
    }

    fn arena_finish(&mut self) {
        if !self.arena_block.is_empty() {
            let last = std::mem::take(&mut self.arena_block);
            self.pending_blocks.push(last);
        }
    }

    fn add_file(&mut self, r: FileResult, summary: &mut BuildSummary) -> Result<(), IndexError> {
        let file_id = self.files.len() as u32;
        summary.files += 1;
        summary.bytes += r.size;
        match r.status {
            FileStatus::Indexed => summary.indexed += 1,
            FileStatus::Binary => summary.binary += 1,
            FileStatus::Skipped => summary.skipped_files += 1,
        }
        for (name, reason) in &r.notes {
            let at = if name.is_empty() {
                r.display.clone()
            } else {
                format!("{}#{name}", r.display)
            };
            summary.skipped.push((at, reason.clone()));
        }
        let first_part = self.part_count;
        let mut text_bytes = 0u64;
        let mut fp_total = 0u64;
        for p in r.parts {
            let part_id = self.part_count;
            self.part_count += 1;
            summary.parts += 1;
            text_bytes += p.text.len() as u64;
            summary.text_bytes += p.text.len() as u64;
            let (name_off, name_len) = self.string(&p.name);
            let mut rec = [0u8; PART_RECORD_LEN];
            rec[0..4].copy_from_slice(&name_off.to_le_bytes());
            rec[4..8].copy_from_slice(&name_len.to_le_bytes());
            rec[8..12].copy_from_slice(&file_id.to_le_bytes());
            rec[12] = encode_format(p.format);
            rec[32..36].copy_from_slice(&(self.norm_total as u32).to_le_bytes());
            let first_ck = self.checkpoint_count;
            // Empty texts (binary parts inside containers) are not
            // deduplicated: they are all equal and say nothing.
            let dup = if p.text.is_empty() {
                None
            } else {
                self.dedupe.get(&p.text_hash).copied()
            };
            match dup {
                Some(orig) => {
                    summary.duplicate_parts += 1;
                    let o = &self.parts[orig as usize];
                    let (off, len) = (u64_at(o, 16).unwrap_or(0), u64_at(o, 24).unwrap_or(0));
                    rec[16..24].copy_from_slice(&off.to_le_bytes());
                    rec[24..32].copy_from_slice(&len.to_le_bytes());
                    rec[40..44].copy_from_slice(&first_ck.to_le_bytes());
                    rec[48..52].copy_from_slice(&orig.to_le_bytes());
                }
                None => {
                    self.dedupe.insert(p.text_hash, part_id);
                    let off = self.arena_push(p.text.as_bytes());
                    rec[16..24].copy_from_slice(&off.to_le_bytes());
                    rec[24..32].copy_from_slice(&(p.text.len() as u64).to_le_bytes());
                    rec[36..40].copy_from_slice(&p.norm_len.to_le_bytes());
                    for (n, t) in &p.checkpoints {
                        self.checkpoints.extend_from_slice(&n.to_le_bytes());
                        self.checkpoints.extend_from_slice(&t.to_le_bytes());
                    }
                    self.checkpoint_count += p.checkpoints.len() as u32;
                    rec[40..44].copy_from_slice(&first_ck.to_le_bytes());
                    rec[44..48].copy_from_slice(&(p.checkpoints.len() as u32).to_le_bytes());
                    rec[48..52].copy_from_slice(&u32::MAX.to_le_bytes());
                    rec[52..56].copy_from_slice(&(p.fps.len() as u32).to_le_bytes());
                    let base = self.norm_total as u32;
                    if p.norm_len > 0 {
                        self.bases.push(base);
                    }
                    fp_total += p.fps.len() as u64;
                    for (key, pos) in p.fps {
                        self.sorter.push(key, base + pos)?;
                    }
                    self.norm_total += p.norm_len as u64;
                }
            }
            self.parts.push(rec);
        }
        let (path_off, path_len) = self.string(&r.display);
        let (reason_off, reason_len) = self.string(&r.reason);
        let mut rec = [0u8; FILE_RECORD_LEN];
        rec[0..4].copy_from_slice(&path_off.to_le_bytes());
        rec[4..8].copy_from_slice(&path_len.to_le_bytes());
        rec[8..16].copy_from_slice(&r.size.to_le_bytes());
        rec[16..48].copy_from_slice(&r.blake3);
        rec[48] = r.format.map_or(0, encode_format);
        rec[49] = r.status.to_u8();
        rec[52..56].copy_from_slice(&reason_off.to_le_bytes());
        rec[56..60].copy_from_slice(&reason_len.to_le_bytes());
        rec[60..64].copy_from_slice(&first_part.to_le_bytes());
        rec[64..68].copy_from_slice(&(self.part_count - first_part).to_le_bytes());
        rec[68..72].copy_from_slice(&(r.chunks.len() as u32).to_le_bytes());
        rec[72..80].copy_from_slice(&text_bytes.to_le_bytes());
        rec[80..88].copy_from_slice(&fp_total.to_le_bytes());
        summary.chunks += r.chunks.len() as u64;
        self.chunks
            .extend(r.chunks.into_iter().map(|c| (c, file_id)));
        self.file_hashes.push((r.blake3, file_id));
        self.files.push(rec);
        Ok(())
    }

    /// Merge the fingerprints and write every remaining section.
    fn finish(
        &mut self,
        w: &mut SegWriter<'_>,
        cfg: &Config,
        summary: &mut BuildSummary,
    ) -> Result<(), IndexError> {
        let unique_parts = self.bases.len() as u64;
        let common_docs = ((cfg.common_fraction * unique_parts as f64).ceil() as u64)
            .max(cfg.common_min_docs as u64) as u32;
        let total = self.sorter.total;
        let dir_bits = if total <= 8 {
            0
        } else {
            (64 - ((total / 4).max(1) - 1).leading_zeros()).min(31)
        };
        let nb = 1usize << dir_bits;
        // Postings, streamed; the directory is built alongside into a temp file.
        let dir_tmp = temp_name(&self.dir, "dir");
        let mut dir_out =
            BufWriter::new(File::create(&dir_tmp).map_err(|e| IndexError::io(&dir_tmp, e))?);
        let _guard = RemoveOnDrop(dir_tmp.clone());
        let mut common: Vec<u64> = Vec::new();
        let mut postings: u64 = 0;
        let mut next_bucket = 0usize;
        let bases = &self.bases;
        w.begin(SectionKind::FpPostings);
        let mut group: Vec<u32> = Vec::new();
        let mut group_key: Option<u64> = None;
        let mut rec_buf: Vec<u8> = Vec::with_capacity(1 << 16);
        let mut flush_group = |key: u64,
                               group: &mut Vec<u32>,
                               w: &mut SegWriter<'_>,
                               dir_out: &mut BufWriter<File>|
         -> Result<(), IndexError> {
            // Distinct parts among the positions (sorted).
            let mut docs = 0u32;
            let mut last_doc = usize::MAX;
            if group.len() as u32 >= common_docs {
                for &p in group.iter() {
                    let d = bases.partition_point(|&b| b <= p);
                    if d != last_doc {
                        docs += 1;
                        last_doc = d;
                    }
                }
            }
            if docs >= common_docs {
                common.push(key);
                group.clear();
                return Ok(());
            }
            let bucket = if dir_bits == 0 {
                0
            } else {
                (key >> (64 - dir_bits)) as usize
            };
            while next_bucket <= bucket {
                dir_out
                    .write_all(&(postings as u32).to_le_bytes())
                    .map_err(|e| IndexError::io(Path::new("<directory>"), e))?;
                next_bucket += 1;
            }
            let frag = super::segment::fragment(key, dir_bits);
            for &p in group.iter() {
                rec_buf.extend_from_slice(&frag.to_le_bytes());
                rec_buf.extend_from_slice(&p.to_le_bytes());
                if rec_buf.len() >= (1 << 16) - POSTING_LEN {
                    w.write(&rec_buf)?;
                    rec_buf.clear();
                }
            }
            postings += group.len() as u64;
            group.clear();
            Ok(())
        };
        let mut merged = self.sorter.merged()?;
        while let Some((key, pos)) = merged.next_item()? {
            if group_key != Some(key) {
                if let Some(k) = group_key {
                    flush_group(k, &mut group, w, &mut dir_out)?;
                }
                group_key = Some(key);
            }
            group.push(pos);
        }
        if let Some(k) = group_key {
            flush_group(k, &mut group, w, &mut dir_out)?;
        }
        if !rec_buf.is_empty() {
            w.write(&rec_buf)?;
        }
        w.end()?;
        while next_bucket <= nb {
            dir_out
                .write_all(&(postings as u32).to_le_bytes())
                .map_err(|e| IndexError::io(&dir_tmp, e))?;
            next_bucket += 1;
        }
        dir_out.flush().map_err(|e| IndexError::io(&dir_tmp, e))?;
        drop(dir_out);
        w.begin(SectionKind::FpDirectory);
        let mut f = File::open(&dir_tmp).map_err(|e| IndexError::io(&dir_tmp, e))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| IndexError::io(&dir_tmp, e))?;
            if n == 0 {
                break;
            }
            w.write(&buf[..n])?;
        }
        w.end()?;
        w.section(SectionKind::Strings, &self.strings)?;
        w.section(SectionKind::Files, &self.files.concat())?;
        w.section(SectionKind::Parts, &self.parts.concat())?;
        let mut blocks = Vec::with_capacity(self.blocks.len() * BLOCK_RECORD_LEN);
        for (off, clen, raw) in &self.blocks {
            blocks.extend_from_slice(&off.to_le_bytes());
            blocks.extend_from_slice(&clen.to_le_bytes());
            blocks.extend_from_slice(&raw.to_le_bytes());
        }
        w.section(SectionKind::TextBlocks, &blocks)?;
        w.section(SectionKind::Checkpoints, &self.checkpoints)?;
        let common_bytes: Vec<u8> = common.iter().flat_map(|k| k.to_le_bytes()).collect();
        w.section(SectionKind::Common, &common_bytes)?;
        self.chunks.sort_by_key(|a| (a.0.hash, a.1, a.0.offset));
        let mut chunk_bytes = Vec::with_capacity(self.chunks.len() * CHUNK_RECORD_LEN);
        for (c, f) in &self.chunks {
            chunk_bytes.extend_from_slice(&c.hash);
            chunk_bytes.extend_from_slice(&f.to_le_bytes());
            chunk_bytes.extend_from_slice(&c.len.to_le_bytes());
            chunk_bytes.extend_from_slice(&c.offset.to_le_bytes());
        }
        w.section(SectionKind::Chunks, &chunk_bytes)?;
        self.file_hashes.sort();
        let fh: Vec<u8> = self
            .file_hashes
            .iter()
            .flat_map(|(_, id)| id.to_le_bytes())
            .collect();
        w.section(SectionKind::FileHashes, &fh)?;
        let meta = Meta {
            files: self.files.len() as u32,
            parts: self.part_count,
            postings,
            dir_bits,
            block_size: TEXT_BLOCK,
            text_bytes: self.arena_len,
            norm_bytes: self.norm_total,
            blocks: self.blocks.len() as u32,
            checkpoints: self.checkpoint_count,
            common: common.len() as u32,
            chunks: self.chunks.len() as u32,
            chunk_min: cfg.chunk.min_size,
            chunk_avg: cfg.chunk.avg_size,
            chunk_max: cfg.chunk.max_size,
            common_docs,
        };
        w.section(SectionKind::Meta, &meta.encode())?;
        summary.postings += postings;
        summary.common += common.len() as u64;
        Ok(())
    }
}

/// A temporary file name unique in this process: `.tmp-<pid>-<n>-<what>`.
fn temp_name(dir: &Path, what: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".tmp-{}-{n}-{what}", std::process::id()))
}

/// Removes a temporary file when dropped (also on error and panic).
struct RemoveOnDrop(PathBuf);
impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Buffers (key, position) pairs; spills sorted runs when the budget is hit.
struct Sorter {
    dir: PathBuf,
    buf: Vec<(u64, u32)>,
    cap: usize,
    runs: Vec<RemoveOnDrop>,
    total: u64,
}

impl Sorter {
    fn new(dir: &Path, cap: usize) -> Sorter {
        Sorter {
            dir: dir.to_path_buf(),
            buf: Vec::new(),
            cap,
            runs: Vec::new(),
            total: 0,
        }
    }

    fn push(&mut self, key: u64, pos: u32) -> Result<(), IndexError> {
        if self.buf.len() >= self.cap {
            self.spill()?;
        }
        self.buf.push((key, pos));
        self.total += 1;
        Ok(())
    }

    fn spill(&mut self) -> Result<(), IndexError> {
        self.buf.par_sort_unstable();
        let path = temp_name(&self.dir, "run");
        let guard = RemoveOnDrop(path.clone());
        let mut out = BufWriter::with_capacity(
            1 << 20,
            File::create(&path).map_err(|e| IndexError::io(&path, e))?,
        );
        for (k, p) in &self.buf {
            out.write_all(&k.to_le_bytes())
                .map_err(|e| IndexError::io(&path, e))?;
            out.write_all(&p.to_le_bytes())
                .map_err(|e| IndexError::io(&path, e))?;
        }
        out.flush().map_err(|e| IndexError::io(&path, e))?;
        self.runs.push(guard);
        self.buf.clear();
        Ok(())
    }

    fn merged(&mut self) -> Result<Merged, IndexError> {
        self.buf.par_sort_unstable();
        let mut readers = Vec::with_capacity(self.runs.len());
        for r in &self.runs {
            let f = File::open(&r.0).map_err(|e| IndexError::io(&r.0, e))?;
            readers.push((BufReader::with_capacity(1 << 18, f), r.0.clone()));
        }
        let mut m = Merged {
            mem: std::mem::take(&mut self.buf).into_iter(),
            mem_head: None,
            readers,
            heap: BinaryHeap::new(),
        };
        m.mem_head = m.mem.next();
        for i in 0..m.readers.len() {
            if let Some(item) = m.read(i)? {
                m.heap.push(std::cmp::Reverse((item, i)));
            }
        }
        Ok(m)
    }
}

/// k-way merge over the in-memory run and the spilled runs.
struct Merged {
    mem: std::vec::IntoIter<(u64, u32)>,
    mem_head: Option<(u64, u32)>,
    readers: Vec<(BufReader<File>, PathBuf)>,
    heap: BinaryHeap<std::cmp::Reverse<((u64, u32), usize)>>,
}

impl Merged {
    fn read(&mut self, i: usize) -> Result<Option<(u64, u32)>, IndexError> {
        let (r, path) = &mut self.readers[i];
        let mut rec = [0u8; 12];
        match r.read_exact(&mut rec) {
            Ok(()) => Ok(Some((
                u64::from_le_bytes(rec[..8].try_into().expect("8")),
                u32::from_le_bytes(rec[8..].try_into().expect("4")),
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(IndexError::io(path, e)),
        }
    }

    fn next_item(&mut self) -> Result<Option<(u64, u32)>, IndexError> {
        let disk = self.heap.peek().map(|r| r.0 .0);
        match (self.mem_head, disk) {
            (None, None) => Ok(None),
            (Some(m), d) if d.is_none_or(|d| m <= d) => {
                self.mem_head = self.mem.next();
                Ok(Some(m))
            }
            _ => {
                let std::cmp::Reverse((item, i)) = self.heap.pop().expect("peeked");
                if let Some(next) = self.read(i)? {
                    self.heap.push(std::cmp::Reverse((next, i)));
                }
                Ok(Some(item))
            }
        }
    }
}

/// Check the output path; return the existing manifest if there is one.
fn prepare_output(output: &Path) -> Result<Option<Manifest>, IndexError> {
    match std::fs::metadata(output) {
        Ok(m) if m.is_dir() => {
            if output.join(MANIFEST_NAME).exists() {
                Manifest::read(output).map(Some)
            } else {
                let empty = std::fs::read_dir(output)
                    .map_err(|e| IndexError::io(output, e))?
                    .next()
                    .is_none();
                if empty {
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

/// Remove segment files and leftovers that the manifest does not name.
fn remove_unlisted(dir: &Path, m: &Manifest) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for ent in rd.flatten() {
        let name = ent.file_name().to_string_lossy().to_string();
        let stale_seg = name.starts_with("seg-")
            && name.ends_with(".lps")
            && !m.segments.iter().any(|s| s.file == name);
        let stale_tmp = name.starts_with(".tmp-");
        if stale_seg || stale_tmp {
            let _ = std::fs::remove_file(ent.path());
        }
    }
}
