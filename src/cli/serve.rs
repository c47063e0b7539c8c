//! `leakprint serve`: the matching service (see `leakprint::serve`).

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use leakprint::index::Residence;
use leakprint::serve::{self, ServeConfig};

use super::parse_size;

const SERVE_HELP: &str = "\
ENDPOINTS
  POST /v1/match        {\"text\": \"...\"} -> {\"matches\": [...]}
                        {\"items\": [{\"id\": .., \"text\": ..}, ...]} -> {\"results\": [{\"id\", \"matches\"}, ...]}
  POST /v1/match/file   the file's bytes (?name=LABEL) -> {\"matches\": [...]}; an image
                        (PNG, JPEG, GIF, WebP, BMP, TIFF) is read with tesseract
                        (--ocr-lang) and its matches carry word boxes
  GET  /healthz         {\"status\": \"ok\", \"generation\", \"segments\", \"files\"}
  GET  /metrics         Prometheus metrics (OpenMetrics text)
  Matches carry the fields of `leakprint match`'s JSON lines. Errors are
  {\"error\": \"...\"} with status 400, 401, 404, 405, 408, 413, 415, 422, 500 or 503.

RELOAD
  When the index folder's manifest changes (index --append, compact), the new
  index is opened and serves new requests; requests in flight finish on the old.

ACCESS
  Loopback only unless --token-file is given; with it, every endpoint but
  /healthz needs 'Authorization: Bearer <token>'.

LOGS
  On stderr (tracing); RUST_LOG=debug shows every request, --log-json writes JSON.
  SIGTERM or Ctrl-C stops accepting, lets requests in flight finish, and exits 0.";

/// Options of `leakprint serve`.
#[derive(Args)]
#[command(after_long_help = SERVE_HELP)]
pub struct ServeArgs {
    /// The index folder (or segment file) to serve.
    #[arg(short, long)]
    index: PathBuf,
    /// Address and port to listen on; a non-loopback address needs --token-file.
    #[arg(long, default_value = serve::DEFAULT_LISTEN)]
    listen: String,
    /// Matching threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// A file holding the bearer token clients must send (16 to 4096
    /// visible ASCII characters; surrounding whitespace is ignored).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Largest JSON request body.
    #[arg(long, value_parser = parse_size, default_value = "8MiB")]
    max_body: u64,
    /// Largest body of /v1/match/file.
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    max_file_size: u64,
    /// Most items in one request.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_ITEMS)]
    max_items: usize,
    /// Longest time one request may take, in seconds (body, queue, matching).
    #[arg(long, default_value_t = serve::DEFAULT_TIMEOUT.as_secs_f64())]
    timeout: f64,
    /// Most requests answered at once; more get 503.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_CONCURRENT)]
    max_concurrent: usize,
    /// How often the manifest is looked at, in milliseconds.
    #[arg(long, default_value_t = serve::DEFAULT_RELOAD_EVERY.as_millis() as u64)]
    reload_every_ms: u64,
    /// Longest wait for requests in flight at shutdown, in seconds.
    #[arg(long, default_value_t = serve::DEFAULT_SHUTDOWN_GRACE.as_secs_f64())]
    shutdown_grace: f64,
    /// Write logs as JSON lines.
    #[arg(long)]
    log_json: bool,
    /// Read the index into memory backed by huge pages (memory the size of
    /// the index, twice that during a reload): 6-14% more unrelated posts a
    /// second and 3-9% more mixed ones on a large index
    #[arg(long)]
    load: bool,
    #[command(flatten)]
    matching: super::matching::MatchConfigArgs,
    #[command(flatten)]
    extract: super::ExtractLimitArgs,
    #[command(flatten)]
    ocr: super::OcrArgs,
}

fn seconds(name: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("bad option: {name} = {s} is not a duration in seconds"))
}

/// The address: an IP and port, or `localhost:PORT`.
fn listen_addr(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(a) = s.parse() {
        return Ok(a);
    }
    s.to_socket_addrs()
        .with_context(|| format!("bad option: --listen {s:?} is not an address:port"))?
        .next()
        .with_context(|| format!("bad option: --listen {s:?} resolves to no address"))
}

fn read_token(path: &PathBuf) -> anyhow::Result<String> {
    let t = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o004 != 0 {
                tracing::warn!(file = %path.display(), "the token file is readable by every user (chmod 600 it)");
            }
        }
    }
    Ok(t.trim().to_owned())
}

fn init_logs(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    // A second initialisation (never in the binary) is harmless.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Run `leakprint serve`.
pub fn run(a: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logs(a.log_json);
    let token = a.token_file.as_ref().map(read_token).transpose()?;
    let cfg = ServeConfig::builder(&a.index)
        .listen(listen_addr(&a.listen)?)
        .threads(a.threads)
        .token(token)
        .max_body(usize::try_from(a.max_body).unwrap_or(usize::MAX))
        .max_file_size(usize::try_from(a.max_file_size).unwrap_or(usize::MAX))
        .max_items(a.max_items)
        .timeout(seconds("--timeout", a.timeout)?)
        .max_concurrent(a.max_concurrent)
        .reload_every(Duration::from_millis(a.reload_every_ms))
        .shutdown_grace(seconds("--shutdown-grace", a.shutdown_grace)?)
        .matching(a.matching.config()?)
        .extract(a.extract.limits(a.ocr.lang())?)
        .ocr(a.ocr.config(&a.extract)?)
        .residence(if a.load {
            Residence::Loaded
        } else {
            Residence::Mapped
        })
        .build()
        .map_err(super::option_error)?;
    serve::run(cfg)?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
