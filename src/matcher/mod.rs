//! Matching incoming text against an index, with evidence.
//!
//! [`Matcher`] is built over an [`Index`] with a checked [`MatchConfig`];
//! [`Matcher::try_find`] returns every [`Match`] of a text: which part of
//! which leaked file, the byte spans on both sides, how much of the query it
//! covers and how similar the aligned texts are. The algorithm is described
//! in the `find` module. A `Matcher` is `Send + Sync`: share it between
//! threads; each thread reuses its own buffers, so steady-state queries do
//! not allocate beyond their results.
//!
//! [`Matcher::find_file`] adds whole-file evidence for re-shared files:
//! identical blake3, or the share of content-defined chunks in common.

pub mod align;
mod find;

use std::collections::HashMap;
use std::ops::Range;

use crate::chunk;
use crate::error::ConfigError;
use crate::index::{Index, IndexError};

/// One piece of leaked content found in a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The source: `file path` or `file path#part`, as indexed (a path
    /// that is not UTF-8 is shown escaped, see [`crate::names`]).
    pub source: String,
    /// `source` decoded for people when the file name is not UTF-8 (the
    /// legacy encoding guessed: `r\xE9sum\xE9.txt` is `résumé.txt`);
    /// `None` for UTF-8 names, which are their own decoding.
    pub source_decoded: Option<String>,
    /// Other live paths with the same content: byte-identical copies of the
    /// source file and parts elsewhere with the same text. Sorted.
    pub also: Vec<String>,
    /// Segment of the index holding the source.
    pub segment: u32,
    /// Part number in that segment (the part that stores the text).
    pub part: u32,
    /// Byte range of the match in the query text.
    pub query_span: Range<usize>,
    /// Byte range of the match in the source part's extracted text.
    pub source_span: Range<usize>,
    /// Share of the query's normalized text that the match covers (0..=1).
    pub score: f64,
    /// Share of aligned columns that are identical (0..=1).
    pub similarity: f64,
    /// Content of the alignment, in Latin-letter equivalents (see
    /// [`crate::normalize::char_weight`]): what `min_len` is compared with.
    pub aligned_len: usize,
    /// The matched source text, whitespace collapsed, cut if long.
    pub snippet: String,
    /// Normalized range in the query (for tools that need it).
    pub query_norm: Range<usize>,
    /// Normalized range in the source part.
    pub source_norm: Range<usize>,
}

/// Settings of a [`Matcher`]; build with [`MatchConfig::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct MatchConfig {
    pub(crate) min_len: usize,
    pub(crate) min_similarity: f64,
    pub(crate) max_candidates: usize,
    pub(crate) band: usize,
    pub(crate) max_postings: usize,
    pub(crate) max_query_bytes: usize,
    pub(crate) snippet_chars: usize,
    pub(crate) seeds: Seeds,
    pub(crate) ocr_seeds: Seeds,
    pub(crate) every_source: bool,
}

/// Which k-grams of a query are looked up in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seeds {
    /// The minima of the query's windows of `w` k-grams (about
    /// 2 / (w + 1) of them, 8% at w = 25): any run of t = w + k - 1 bytes
    /// the query shares with an indexed text holds one the index selected
    /// too. The default: on the quality evaluation (`examples/quality`,
    /// with and without `--seed-all`) it finds as much as [`Seeds::All`]
    /// with a tenth of the lookups: more on the scale corpus (strict exact
    /// 99.65% against 99.29%, one false match fewer), two of 2,215 queries
    /// fewer on the bundled one.
    #[default]
    Minima,
    /// Every k-gram: also finds indexed k-grams in shared runs shorter
    /// than t, at about twelve times the lookups.
    All,
    /// Every k-gram, and every k-gram one edit away from one of the
    /// query's (one char substituted, inserted or deleted): for OCR text,
    /// where an error every 6 to 10 characters leaves few exact k-grams but
    /// many with a single error. About a thousand lookups per query byte,
    /// so meant for OCR output (images, TSV, hOCR), not for a firehose of
    /// posts. Every candidate is verified by alignment at the same
    /// thresholds first; one that fails is aligned a second time for a
    /// low-identity match (similarity 0.6 to 0.75, an alignment of 1.75
    /// times `min_len` whose matches outnumber its edits by `min_len`, its
    /// figures those of the source, its net score reached outside
    /// boilerplate), the reading of tiny text; twice `max_candidates` are
    /// verified (single hits crowd), and a match whose stretch another
    /// text matches at least 0.1 more similarly is dropped. See the
    /// `find` module and BENCHMARKS.md "Seeds that survive OCR errors" and
    /// "Low-identity OCR matches".
    Tolerant,
}

/// Default minimum aligned length, in normalized bytes (see BENCHMARKS.md).
pub const DEFAULT_MIN_LEN: usize = 44;
/// Default minimum similarity (see BENCHMARKS.md).
pub const DEFAULT_MIN_SIMILARITY: f64 = 0.75;

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            min_len: DEFAULT_MIN_LEN,
            min_similarity: DEFAULT_MIN_SIMILARITY,
            max_candidates: 32,
            band: 24,
            max_postings: 4096,
            max_query_bytes: 1 << 20,
            snippet_chars: 160,
            seeds: Seeds::Minima,
            ocr_seeds: Seeds::Tolerant,
            every_source: false,
        }
    }
}

impl MatchConfig {
    /// Longest query text considered, in bytes: [`Matcher::try_find`]
    /// ignores the rest, so callers should report the cut.
    pub fn max_query_bytes(&self) -> usize {
        self.max_query_bytes
    }

    /// A builder starting from the defaults.
    pub fn builder() -> MatchConfigBuilder {
        MatchConfigBuilder {
            cfg: MatchConfig::default(),
        }
    }
}

/// Builder of a [`MatchConfig`]; [`MatchConfigBuilder::build`] checks it.
#[derive(Debug, Clone)]
pub struct MatchConfigBuilder {
    cfg: MatchConfig,
}

impl MatchConfigBuilder {
    /// Shortest alignment reported, in normalized bytes (8..=100000).
    /// Below k + 2 * reach - 1 (43 with format 7's 14 bytes a side and
    /// the default k) the context rule of lone hits is off in a segment
    /// (`fingerprint::context`): no exact match is lost to the rule, but
    /// more lone hits are verified, and they compete for
    /// `max_candidates` (the tuning sweep's row k = 14, `min_len` 36 lost
    /// 0.4 points of exact recall with format 7, where format 6's 7 bytes
    /// kept the rule on: BENCHMARKS.md "Contexts of fourteen bytes").
    pub fn min_len(mut self, n: usize) -> Self {
        self.cfg.min_len = n;
        self
    }
    /// Lowest similarity reported (0.5..=1.0).
    pub fn min_similarity(mut self, s: f64) -> Self {
        self.cfg.min_similarity = s;
        self
    }
    /// Most candidates verified per query (1..=10000); OCR text with
    /// [`Seeds::Tolerant`] verifies twice as many. Second pieces (shorter
    /// stretches of a text a match established, looked for among every
    /// candidate of that text, those the cap cut included) are not
    /// counted: a query verifies at most as many of them as it has
    /// candidates in the texts it matched.
    pub fn max_candidates(mut self, n: usize) -> Self {
        self.cfg.max_candidates = n;
        self
    }
    /// Diagonal slack around hits, in normalized bytes (0..=1024).
    pub fn band(mut self, n: usize) -> Self {
        self.cfg.band = n;
        self
    }
    /// A key with more postings than this over all segments seeds nothing (1..=10^7).
    pub fn max_postings(mut self, n: usize) -> Self {
        self.cfg.max_postings = n;
        self
    }
    /// Longest query text considered, in bytes; the rest is ignored (64..=2^30).
    /// (Seeds are looked up in the first 2^30 bytes of its normalized text,
    /// which a few chars make longer than they are.)
    pub fn max_query_bytes(mut self, n: usize) -> Self {
        self.cfg.max_query_bytes = n;
        self
    }
    /// Longest snippet, in characters (16..=100000).
    pub fn snippet_chars(mut self, n: usize) -> Self {
        self.cfg.snippet_chars = n;
        self
    }
    /// Which k-grams of the query are looked up (default [`Seeds::Minima`]).
    pub fn seeds(mut self, seeds: Seeds) -> Self {
        self.cfg.seeds = seeds;
        self
    }
    /// Which k-grams of OCR text are looked up by [`Matcher::try_find_ocr`]
    /// (images, tesseract TSV, hOCR; default [`Seeds::Tolerant`]).
    pub fn ocr_seeds(mut self, seeds: Seeds) -> Self {
        self.cfg.ocr_seeds = seeds;
        self
    }
    /// Verify every candidate text (up to `max_candidates`; in format 7
    /// not a chain whose every hit's context disagrees, which is verified
    /// only as a second piece), also a text whose hits all lie inside a
    /// query stretch that another text's match already explains with at
    /// least twice as many hits there, and at least 3 (a text sharing a
    /// sentence of a quote found whole elsewhere). Off by default: such
    /// texts are skipped, which more than halves the cost of a mixed stream on a dump where sentences recur
    /// in many files (BENCHMARKS.md "Texts that repeat a piece of a
    /// match"). Copies of the matched passage with about as many hits are
    /// reported either way. Text matched with [`Seeds::Tolerant`] (OCR
    /// text, by default) always verifies every candidate.
    pub fn every_source(mut self, on: bool) -> Self {
        self.cfg.every_source = on;
        self
    }
    /// Check the settings.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad setting.
    pub fn build(self) -> Result<MatchConfig, ConfigError> {
        let c = &self.cfg;
        ConfigError::check_range("min_len", c.min_len as u64, 8, 100_000)?;
        ConfigError::check_range("max_candidates", c.max_candidates as u64, 1, 10_000)?;
        ConfigError::check_range("band", c.band as u64, 0, 1024)?;
        ConfigError::check_range("max_postings", c.max_postings as u64, 1, 10_000_000)?;
        ConfigError::check_range("max_query_bytes", c.max_query_bytes as u64, 64, 1 << 30)?;
        ConfigError::check_range("snippet_chars", c.snippet_chars as u64, 16, 100_000)?;
        if !(0.5..=1.0).contains(&c.min_similarity) {
            return Err(ConfigError::Inconsistent(
                "min_similarity must be between 0.5 and 1.0",
            ));
        }
        Ok(self.cfg)
    }
}

/// Whole-file evidence for a file used as a query.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEvidence {
    /// The indexed file.
    pub source: String,
    /// Whether the whole file is byte-identical (same blake3).
    pub identical: bool,
    /// Chunks of the query file found in this indexed file.
    pub shared_chunks: usize,
    /// Chunks of the query file.
    pub query_chunks: usize,
    /// Bytes of the query file in shared chunks.
    pub shared_bytes: u64,
}

/// Finds leaked content in texts and files. `Send + Sync`.
#[derive(Debug)]
pub struct Matcher<'i> {
    index: &'i Index,
    cfg: MatchConfig,
}

impl<'i> Matcher<'i> {
    /// A matcher over `index`; the fingerprint parameters come from the index.
    pub fn new(index: &'i Index, cfg: MatchConfig) -> Matcher<'i> {
        Matcher { index, cfg }
    }

    /// The index matched against.
    pub fn index(&self) -> &'i Index {
        self.index
    }

    /// The settings.
    pub fn config(&self) -> &MatchConfig {
        &self.cfg
    }

    /// Every match of `text`, ordered by query position.
    ///
    /// # Errors
    /// When a part of the index needed to verify a candidate is corrupt.
    pub fn try_find(&self, text: &str) -> Result<Vec<Match>, IndexError> {
        find::find(self.index, &self.cfg, self.cfg.seeds, text)
    }

    /// Every match of `text` read by OCR (an image's text, tesseract TSV
    /// or hOCR): like [`Matcher::try_find`], with the configuration's
    /// `ocr_seeds` ([`Seeds::Tolerant`] unless set otherwise), which also
    /// seeds from k-grams one OCR error away from the query's.
    ///
    /// # Errors
    /// When a part of the index needed to verify a candidate is corrupt.
    pub fn try_find_ocr(&self, text: &str) -> Result<Vec<Match>, IndexError> {
        find::find(self.index, &self.cfg, self.cfg.ocr_seeds, text)
    }

    /// Like [`Matcher::try_find`], for an index already checked with
    /// [`Index::verify`].
    ///
    /// # Panics
    /// When the index is corrupt where a candidate must be verified.
    pub fn find(&self, text: &str) -> Vec<Match> {
        self.try_find(text)
            .unwrap_or_else(|e| panic!("corrupt index while matching (run verify): {e}"))
    }

    /// Whole-file evidence: indexed files identical to `bytes`, or sharing
    /// content-defined chunks with it, most shared bytes first.
    ///
    /// # Errors
    /// When the index's file records are corrupt.
    pub fn find_file(&self, bytes: &[u8]) -> Result<Vec<FileEvidence>, IndexError> {
        let hash = *blake3::hash(bytes).as_bytes();
        let mut by_file: HashMap<(usize, u32), FileEvidence> = HashMap::new();
        for (si, seg) in self.index.segments().iter().enumerate() {
            let m = seg.meta();
            let params = chunk::ChunkParams {
                min_size: m.chunk_min,
                avg_size: m.chunk_avg,
                max_size: m.chunk_max,
            };
            for f in seg.find_file(&hash) {
                let e = by_file.entry((si, f)).or_insert(FileEvidence {
                    source: seg.file(f)?.path(),
                    identical: false,
                    shared_chunks: 0,
                    query_chunks: 0,
                    shared_bytes: 0,
                });
                e.identical = true;
            }
            let chunks = chunk::chunk_bytes(bytes, &params);
            let mut seen_in: HashMap<u32, (usize, u64)> = HashMap::new();
            for c in &chunks {
                let mut files: Vec<u32> = seg
                    .find_chunk(&c.hash)
                    .into_iter()
                    .map(|h| h.file)
                    .collect();
                files.sort_unstable();
                files.dedup();
                for f in files {
                    let e = seen_in.entry(f).or_default();
                    e.0 += 1;
                    e.1 += c.len as u64;
                }
            }
            for (f, (n, b)) in seen_in {
                let src = seg.file(f)?.path();
                let e = by_file.entry((si, f)).or_insert(FileEvidence {
                    source: src,
                    identical: false,
                    shared_chunks: 0,
                    query_chunks: 0,
                    shared_bytes: 0,
                });
                e.shared_chunks = n;
                e.shared_bytes = b;
                e.query_chunks = chunks.len();
            }
        }
        let mut out: Vec<FileEvidence> = by_file.into_values().collect();
        out.sort_by(|a, b| {
            (b.identical, b.shared_bytes)
                .cmp(&(a.identical, a.shared_bytes))
                .then_with(|| a.source.cmp(&b.source))
        });
        Ok(out)
    }
}
