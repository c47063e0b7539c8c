//! Configuration of a build: [`IndexBuilder`], whose settings are checked
//! once, in [`IndexBuilder::build`], for every caller.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::chunk::ChunkParams;
use crate::error::ConfigError;
use crate::extract::ExtractLimits;
use crate::index::wire::Codec;

use super::{
    Indexer, DEFAULT_COMMON_FRACTION, DEFAULT_COMMON_MIN_DOCS, DEFAULT_K, DEFAULT_MAX_FILE,
    DEFAULT_MEMORY, DEFAULT_W, MAX_SEGMENT_NORM,
};

/// Builder of an [`Indexer`]; every setting is checked by
/// [`IndexBuilder::build`], in release builds too.
#[derive(Debug, Clone)]
pub struct IndexBuilder {
    cfg: Config,
}

#[derive(Debug, Clone)]
pub(super) struct Config {
    pub(super) k: usize,
    pub(super) w: usize,
    pub(super) seed: u64,
    pub(super) threads: usize,
    pub(super) memory: u64,
    pub(super) max_file: u64,
    pub(super) limits: ExtractLimits,
    pub(super) chunk: ChunkParams,
    pub(super) common_fraction: f64,
    pub(super) common_min_docs: u32,
    pub(super) segment_norm: u64,
    pub(super) codec: Codec,
    pub(super) block: u32,
    pub(super) cancel: Option<Arc<AtomicBool>>,
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
                block: crate::index::text::DEFAULT_BLOCK,
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
    /// [`IndexError::Interrupted`](crate::index::IndexError::Interrupted) and publish nothing.
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
            crate::index::text::MAX_BLOCK.into(),
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
