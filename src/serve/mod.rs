//! `leakprint serve`: the matcher as an HTTP service.
//!
//! ```text
//! POST /v1/match        {"text": "..."}                      -> {"matches": [...]}
//!                       {"items": [{"id": .., "text": ..}]}   -> {"results": [{"id", "matches"}, ...]}
//! POST /v1/match/file   raw bytes (?name=label)               -> {"matches": [...]}
//!                       an image (PNG, JPEG, ...): OCR        -> {"matches": [{"kind": "image", .., "boxes"}]}
//! GET  /healthz         {"status": "ok", "generation", "segments", "files"}
//! GET  /metrics         Prometheus (OpenMetrics text) metrics
//! ```
//!
//! Matches carry the fields of `leakprint match`'s JSON lines
//! ([`crate::query::record`]); files go through [`crate::query::find_in_file`],
//! the same path as the command line; images (found by content, or sent
//! as `image/*`) through [`crate::query::find_in_image`]: whole-file
//! evidence, then the matches of their OCR text with word boxes in the
//! image's pixels. `notes` lists what was cut or could not be read, and
//! `errors` what failed (tesseract missing, an undecodable image), when
//! there is something to say.
//!
//! # Design
//!
//! - **HTTP**: axum on tokio, HTTP/1.1 by hyper, one task per connection
//!   ([`server`]); headers must arrive within a deadline (slow clients),
//!   bodies are read under the request's deadline and size limit.
//! - **Matching is CPU work**: it runs on a rayon pool of `threads`
//!   threads, never on the async workers; a batch is spread over the pool
//!   and answered in input order ([`api`]).
//! - **Hot reload** ([`reload`]): the index folder's `manifest.json` is
//!   watched by identity (device, inode, modification time, size) and
//!   content hash; a new manifest opens a new [`crate::Index`] that
//!   replaces the old one for new requests, while requests in flight finish
//!   on the one they started with (an `Arc`; the old segments stay mapped
//!   until the last of them ends). A manifest that cannot be opened is
//!   logged and the old index goes on serving.
//! - **Limits**: body size, items per request, time per request,
//!   concurrent requests; bad requests get 400 (malformed JSON), 413 (too
//!   large), 415 (not JSON), 422 (wrong fields or types), each with a JSON
//!   `{"error": "..."}` naming the problem; 503 when busy or out of time.
//! - **Access**: loopback by default; a bearer token (constant-time
//!   comparison) guards every endpoint but `/healthz`; a non-loopback
//!   address without a token is refused at start. No endpoint reads or
//!   writes a file named by a request (`?name=` only labels the answer).
//! - **Shutdown**: on SIGTERM or Ctrl-C the listener closes, idle
//!   connections close, requests in flight finish (up to a grace period).
//! - **Logs**: `tracing` events, one per request (method, path, status,
//!   milliseconds, queries, matches) and one per reload.

pub mod api;
pub mod metrics;
pub mod reload;
pub mod server;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::ConfigError;
use crate::extract::ExtractLimits;
use crate::index::{IndexError, Residence};
use crate::matcher::MatchConfig;
use crate::ocr::OcrConfig;

pub use server::{run, serve, shutdown_signal};

/// Default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7700";
/// Default largest JSON request body: 8 MiB.
pub const DEFAULT_MAX_BODY: usize = 8 << 20;
/// Default largest body of `/v1/match/file`: 64 MiB.
pub const DEFAULT_MAX_FILE_SIZE: usize = 64 << 20;
/// Default most items in one request.
pub const DEFAULT_MAX_ITEMS: usize = 1000;
/// Default longest time a request may take (body, queue and matching).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default most requests matched or queued at once; more get 503.
pub const DEFAULT_MAX_CONCURRENT: usize = 256;
/// Default interval between two looks at the manifest.
pub const DEFAULT_RELOAD_EVERY: Duration = Duration::from_millis(500);
/// Default longest wait for requests in flight at shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Default longest time a client may take to send a request's headers.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The checked settings of a service; build with [`ServeConfig::builder`].
#[derive(Clone)]
pub struct ServeConfig {
    pub(crate) index: PathBuf,
    pub(crate) listen: SocketAddr,
    pub(crate) threads: usize,
    pub(crate) token: Option<String>,
    pub(crate) max_body: usize,
    pub(crate) max_file_size: usize,
    pub(crate) max_items: usize,
    pub(crate) timeout: Duration,
    pub(crate) max_concurrent: usize,
    pub(crate) reload_every: Duration,
    pub(crate) shutdown_grace: Duration,
    pub(crate) header_timeout: Duration,
    pub(crate) matching: MatchConfig,
    pub(crate) extract: ExtractLimits,
    pub(crate) ocr: OcrConfig,
    pub(crate) residence: Residence,
}

impl std::fmt::Debug for ServeConfig {
    /// Everything but the token's value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("index", &self.index)
            .field("listen", &self.listen)
            .field("threads", &self.threads)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("max_body", &self.max_body)
            .field("max_file_size", &self.max_file_size)
            .field("max_items", &self.max_items)
            .field("timeout", &self.timeout)
            .field("max_concurrent", &self.max_concurrent)
            .field("reload_every", &self.reload_every)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("header_timeout", &self.header_timeout)
            .field("matching", &self.matching)
            .field("extract", &self.extract)
            .field("ocr", &self.ocr)
            .field("residence", &self.residence)
            .finish()
    }
}

impl ServeConfig {
    /// A builder for serving the index at `index` (a folder or a segment
    /// file), starting from the defaults.
    pub fn builder(index: impl Into<PathBuf>) -> ServeBuilder {
        ServeBuilder {
            cfg: ServeConfig {
                index: index.into(),
                listen: DEFAULT_LISTEN.parse().expect("a valid constant address"),
                threads: 0,
                token: None,
                max_body: DEFAULT_MAX_BODY,
                max_file_size: DEFAULT_MAX_FILE_SIZE,
                max_items: DEFAULT_MAX_ITEMS,
                timeout: DEFAULT_TIMEOUT,
                max_concurrent: DEFAULT_MAX_CONCURRENT,
                reload_every: DEFAULT_RELOAD_EVERY,
                shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
                header_timeout: DEFAULT_HEADER_TIMEOUT,
                matching: MatchConfig::default(),
                extract: ExtractLimits::default(),
                ocr: OcrConfig::default(),
                residence: Residence::Mapped,
            },
        }
    }

    /// The address to listen on.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// Matching threads.
    pub fn threads(&self) -> usize {
        self.threads
    }
}

/// Builder of a [`ServeConfig`]; [`ServeBuilder::build`] checks it.
#[derive(Debug, Clone)]
pub struct ServeBuilder {
    cfg: ServeConfig,
}

impl ServeBuilder {
    /// Address to listen on (default [`DEFAULT_LISTEN`]); a non-loopback
    /// address needs a [`ServeBuilder::token`].
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.cfg.listen = addr;
        self
    }
    /// Matching threads (0: one per core; at most 1024).
    pub fn threads(mut self, n: usize) -> Self {
        self.cfg.threads = n;
        self
    }
    /// Require `Authorization: Bearer <token>` on every endpoint but
    /// `/healthz` (16 to 4096 visible ASCII characters).
    pub fn token(mut self, token: Option<String>) -> Self {
        self.cfg.token = token;
        self
    }
    /// Largest JSON request body, in bytes (1 KiB to 1 GiB).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.cfg.max_body = bytes;
        self
    }
    /// Largest body of `/v1/match/file`, in bytes (1 to 4 GiB).
    pub fn max_file_size(mut self, bytes: usize) -> Self {
        self.cfg.max_file_size = bytes;
        self
    }
    /// Most items in one request (1 to 1,000,000).
    pub fn max_items(mut self, n: usize) -> Self {
        self.cfg.max_items = n;
        self
    }
    /// Longest time a request may take, from its first body byte to its
    /// answer (1 ms to 1 hour).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.cfg.timeout = t;
        self
    }
    /// Most requests matched or waiting at once (1 to 100,000).
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.cfg.max_concurrent = n;
        self
    }
    /// How often the manifest is looked at (10 ms to 1 hour).
    pub fn reload_every(mut self, t: Duration) -> Self {
        self.cfg.reload_every = t;
        self
    }
    /// Longest wait for requests in flight at shutdown (0 to 1 hour).
    pub fn shutdown_grace(mut self, t: Duration) -> Self {
        self.cfg.shutdown_grace = t;
        self
    }
    /// Longest time a client may take to send a request's headers
    /// (100 ms to 1 hour); an idle kept-alive connection is closed then.
    pub fn header_timeout(mut self, t: Duration) -> Self {
        self.cfg.header_timeout = t;
        self
    }
    /// Matcher settings.
    pub fn matching(mut self, cfg: MatchConfig) -> Self {
        self.cfg.matching = cfg;
        self
    }
    /// Extraction limits (and worker process) for `/v1/match/file`.
    pub fn extract(mut self, limits: ExtractLimits) -> Self {
        self.cfg.extract = limits;
        self
    }
    /// How images sent to `/v1/match/file` are read (tesseract models,
    /// steps, limits, worker process); each image gets at most the time its
    /// request has left.
    pub fn ocr(mut self, cfg: OcrConfig) -> Self {
        self.cfg.ocr = cfg;
        self
    }
    /// How the index is held (mapped by default; [`Residence::Loaded`]
    /// reads it into huge pages, and a reload holds the old and the new
    /// index at once until the requests on the old finish).
    pub fn residence(mut self, r: Residence) -> Self {
        self.cfg.residence = r;
        self
    }

    /// Check the settings.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad setting; a non-loopback address
    /// without a token is [`ConfigError::Inconsistent`].
    pub fn build(self) -> Result<ServeConfig, ConfigError> {
        let mut c = self.cfg;
        if c.threads == 0 {
            c.threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        }
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        ConfigError::check_range("threads", c.threads as u64, 1, 1024)?;
        ConfigError::check_range("max_body", c.max_body as u64, 1 << 10, 1 << 30)?;
        ConfigError::check_range("max_file_size", c.max_file_size as u64, 1, 4 << 30)?;
        ConfigError::check_range("max_items", c.max_items as u64, 1, 1_000_000)?;
        ConfigError::check_range("timeout (ms)", ms(c.timeout), 1, 3_600_000)?;
        ConfigError::check_range("max_concurrent", c.max_concurrent as u64, 1, 100_000)?;
        ConfigError::check_range("reload_every (ms)", ms(c.reload_every), 10, 3_600_000)?;
        ConfigError::check_range("shutdown_grace (ms)", ms(c.shutdown_grace), 0, 3_600_000)?;
        ConfigError::check_range("header_timeout (ms)", ms(c.header_timeout), 100, 3_600_000)?;
        if let Some(t) = &c.token {
            ConfigError::check_range("token length", t.len() as u64, 16, 4096)?;
            if !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError::Inconsistent(
                    "the token must be visible ASCII characters (no spaces or control characters)",
                ));
            }
        }
        if c.token.is_none() && !c.listen.ip().is_loopback() {
            return Err(ConfigError::Inconsistent(
                "refusing to listen on a non-loopback address without a bearer token (--token-file)",
            ));
        }
        Ok(c)
    }
}

/// Why the service could not start or stopped with an error.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The index could not be opened at start.
    #[error("cannot open the index {path}: {source}")]
    Index {
        /// The index given.
        path: PathBuf,
        /// Why.
        #[source]
        source: IndexError,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The runtime or the matching threads could not start.
    #[error("cannot start the service: {0}")]
    Start(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_checks_limits_and_refuses_open_addresses_without_a_token() {
        let b = || ServeConfig::builder("idx");
        let c = b().build().unwrap();
        assert!(c.threads >= 1);
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert!(b().max_items(0).build().is_err());
        assert!(b().max_body(1023).build().is_err());
        assert!(b().timeout(Duration::ZERO).build().is_err());
        assert!(b().reload_every(Duration::from_millis(9)).build().is_err());
        let open: SocketAddr = "0.0.0.0:7700".parse().unwrap();
        let e = b().listen(open).build().unwrap_err();
        assert!(e.to_string().contains("non-loopback"), "{e}");
        let token = Some("0123456789abcdef".to_owned());
        assert!(b().listen(open).token(token.clone()).build().is_ok());
        assert!(b().token(Some("short".into())).build().is_err());
        assert!(b().token(Some("0123456789 abcdef".into())).build().is_err());
        let v6: SocketAddr = "[::1]:0".parse().unwrap();
        assert!(b().listen(v6).build().is_ok());
        let shown = format!("{:?}", b().token(token).build().unwrap());
        assert!(!shown.contains("0123456789abcdef") && shown.contains("<set>"));
    }
}
