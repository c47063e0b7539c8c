//! The endpoints: request checks, matching on the pool, JSON answers.
//!
//! Every answer is JSON (but `/metrics`); every refusal is
//! `{"error": "..."}` with its status:
//!
//! | status | when |
//! |---|---|
//! | 400 | malformed JSON, an unreadable body, a bad query string |
//! | 401 | a token is required and the `Authorization: Bearer` one is missing or wrong |
//! | 404, 405 | no such endpoint, or not with this method |
//! | 408 | the body did not arrive within the time limit |
//! | 413 | a body over its size limit, more items than allowed |
//! | 415 | a JSON endpoint sent something declared as not JSON |
//! | 422 | well-formed JSON with wrong fields or types; a body declared `image/*` that is no image |
//! | 500 | the index is corrupt where a query needed it, or a matching thread failed |
//! | 503 | too many requests at once, or the answer took longer than the time limit |
//!
//! Parsing, matching, OCR and writing the answer run on the matching pool;
//! the async workers only move bytes. A request holds a concurrency permit from
//! its arrival until its matching job ends (even if the client or the
//! deadline gave up first), so the pool never has more than
//! `max_concurrent` jobs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::metrics::Metrics;
use super::reload::{LiveIndex, Served};
use super::wire::{MatchBody, WireId};
use super::{ServeConfig, ServeError};
use crate::input::QueryId;
use crate::matcher::Matcher;
use crate::query::record::{FileRecord, Kind, TextRecord};
use crate::query::{self, human_bytes, TextFindings};

/// The state every handler shares.
pub struct App {
    cfg: ServeConfig,
    index: Arc<LiveIndex>,
    metrics: Arc<Metrics>,
    pool: rayon::ThreadPool,
    permits: Arc<Semaphore>,
    token: Option<blake3::Hash>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("cfg", &self.cfg).finish()
    }
}

impl App {
    /// The state of a service with these settings, index and metrics; starts
    /// the matching pool.
    ///
    /// # Errors
    /// When the matching threads cannot start.
    pub fn new(
        cfg: ServeConfig,
        index: Arc<LiveIndex>,
        metrics: Arc<Metrics>,
    ) -> Result<App, ServeError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cfg.threads)
            .thread_name(|i| format!("leakprint-match-{i}"))
            .panic_handler(|_| tracing::error!("a matching thread panicked"))
            .build()
            .map_err(|e| ServeError::Start(format!("cannot start the matching threads: {e}")))?;
        Ok(App {
            permits: Arc::new(Semaphore::new(cfg.max_concurrent)),
            token: cfg.token.as_ref().map(|t| blake3::hash(t.as_bytes())),
            cfg,
            index,
            metrics,
            pool,
        })
    }

    /// A concurrency permit, or 503.
    fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "busy: {} requests are being answered (the limit, --max-concurrent); retry later",
                    self.cfg.max_concurrent
                ),
            )
        })
    }

    /// Run `f` on the matching pool; 503 when `deadline` passes first.
    async fn run<T: Send + 'static>(
        &self,
        deadline: Instant,
        permit: OwnedSemaphorePermit,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            // A job that waited in the queue past its deadline was answered
            // 503 already: not run, so that a burst does not keep the pool
            // busy with answers nobody waits for.
            if Instant::now() < deadline {
                let _ = tx.send(f());
            }
            drop(permit);
        });
        match tokio::time::timeout_at(deadline.into(), rx).await {
            Ok(Ok(v)) => Ok(v),
            // (Dropped unanswered at the deadline, before the timer here.)
            Ok(Err(_)) if Instant::now() >= deadline => Err(self.too_slow()),
            Ok(Err(_)) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "matching failed: a matching thread stopped (see the service log)",
            )),
            Err(_) => Err(self.too_slow()),
        }
    }

    fn too_slow(&self) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the answer took longer than the time limit ({}, --timeout)",
                secs(self.cfg.timeout)
            ),
        )
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// The routes, with authentication, metrics and logs.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/match", post(match_json))
        .route("/v1/match/file", post(match_file))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(app.clone(), auth))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// A refusal: a status and a message, answered as `{"error": message}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What is wrong, as the answer says it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&ErrorBody {
            error: &self.message,
        })
        .unwrap_or_default();
        let mut r = json(body, Outcome::default());
        *r.status_mut() = self.status;
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// Queries and matches of an answer, for the metrics and the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// Texts and files matched.
    pub queries: u64,
    /// Pieces of evidence returned.
    pub matches: u64,
}

fn json(body: Vec<u8>, outcome: Outcome) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.extensions_mut().insert(outcome);
    r
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    // Plain data (strings, numbers, lists) always serializes.
    serde_json::to_vec(v).unwrap_or_default()
}

/// Metrics and one log event per request.
async fn observe(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let endpoint = Metrics::endpoint(&path);
    let _in_flight = app.metrics.in_flight();
    let resp = next.run(req).await;
    let o = resp
        .extensions()
        .get::<Outcome>()
        .copied()
        .unwrap_or_default();
    let status = resp.status().as_u16();
    let seconds = start.elapsed().as_secs_f64();
    app.metrics
        .finished(endpoint, status, seconds, o.queries, o.matches);
    let ms = (seconds * 1e6).round() / 1e3;
    macro_rules! log {
        ($lvl:ident) => {
            tracing::$lvl!(%method, path = ?path, status, ms, queries = o.queries, matches = o.matches, "request")
        };
    }
    match status {
        500.. => log!(warn),
        400.. => log!(info),
        _ => log!(debug),
    }
    resp
}

/// The bearer token, when one is set.
async fn auth(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if let Some(expected) = &app.token {
        let given = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                // The scheme is case-insensitive (RFC 9110, 11.1).
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(token)
            });
        // blake3::Hash compares in constant time.
        if given.map(|t| blake3::hash(t.trim().as_bytes())) != Some(*expected) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required: send 'Authorization: Bearer <token>' with the token of --token-file",
            )
            .into_response();
        }
    }
    next.run(req).await
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint (POST /v1/match, POST /v1/match/file, GET /healthz, GET /metrics)",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed here (POST /v1/match, POST /v1/match/file, GET /healthz, GET /metrics)",
    )
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    generation: u64,
    segments: usize,
    files: u64,
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let cur = app.index.current();
    json(
        to_json(&Health {
            status: "ok",
            generation: cur.generation,
            segments: cur.index.segments().len(),
            files: cur.index.totals().files,
        }),
        Outcome::default(),
    )
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let mut r = Response::new(Body::from(app.metrics.encode()));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

/// The body, at most `limit` bytes, before `deadline`.
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    option: &str,
    deadline: Instant,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is larger than the limit of {} ({option})",
                human_bytes(limit as u64)
            ),
        )
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // Frames copied into one buffer as they come (`collect` would keep
    // each frame, and a chunked body of 1-byte chunks is millions of
    // frames, each holding on to the read buffer it came in).
    // (At most 1 MiB reserved before any byte arrives: a declared length
    // is a promise, not bytes.)
    let start = declared.map_or(0, |n| n as usize).min(limit).min(1 << 20);
    let gather = async move {
        let mut body = Limited::new(body, limit);
        let mut buf = Vec::with_capacity(start);
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                buf.extend_from_slice(&data);
            }
        }
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Bytes::from(buf))
    };
    match tokio::time::timeout_at(deadline.into(), gather).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body did not arrive within the time limit ({}, --timeout)",
                secs(timeout)
            ),
        )),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("cannot read the body: {e}"),
        )),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// JSON endpoints take `application/json` (or `...+json`), or no type.
fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(ct) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let mime = ct
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || mime.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type {mime:?} is not JSON: send application/json"),
        ))
    }
}

/// `POST /v1/match`.
async fn match_json(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let deadline = Instant::now() + app.cfg.timeout;
    let permit = app.admit()?;
    require_json(&headers)?;
    let bytes = read_body(
        body,
        &headers,
        app.cfg.max_body,
        "--max-body",
        deadline,
        app.cfg.timeout,
    )
    .await?;
    let loaded = app.index.current();
    let job = JsonJob {
        cfg: app.cfg.clone(),
        deadline,
    };
    let (body, outcome) = app
        .run(deadline, permit, move || job.answer(&loaded, &bytes))
        .await??;
    Ok(json(body, outcome))
}

struct JsonJob {
    cfg: ServeConfig,
    deadline: Instant,
}

#[derive(Serialize)]
struct TextAnswer<'a> {
    matches: Vec<TextRecord<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

#[derive(Serialize)]
struct ItemAnswer<'a> {
    id: &'a QueryId,
    matches: Vec<TextRecord<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct ItemsAnswer<'a> {
    results: Vec<ItemAnswer<'a>>,
}

fn cut_notes(what: &str, f: &TextFindings) -> Vec<String> {
    f.cut.iter().map(|c| format!("{what}: {c}")).collect()
}

fn records<'a>(query: Option<&'a QueryId>, f: &'a TextFindings) -> Vec<TextRecord<'a>> {
    f.matches
        .iter()
        .map(|m| TextRecord::new(Kind::Text, query, m, None))
        .collect()
}

impl JsonJob {
    fn answer(&self, loaded: &Served, bytes: &[u8]) -> Result<(Vec<u8>, Outcome), ApiError> {
        let req = MatchBody::parse(bytes)?;
        let matcher = Matcher::new(&loaded.index, self.cfg.matching.clone());
        if req.id.is_some() && req.items.is_some() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "\"id\" goes with \"text\"; items carry their own ids",
            ));
        }
        let id = req.id.map(|WireId(id)| id);
        match (req.text, req.items) {
            (Some(text), None) => {
                let f = query::find_text(&matcher, &text).map_err(|e| {
                    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("text: {e}"))
                })?;
                let outcome = Outcome {
                    queries: 1,
                    matches: f.matches.len() as u64,
                };
                let what = id
                    .as_ref()
                    .map_or("text".to_owned(), |id| format!("text {id}"));
                let answer = TextAnswer {
                    matches: records(id.as_ref(), &f),
                    notes: cut_notes(&what, &f),
                };
                Ok((to_json(&answer), outcome))
            }
            (None, Some(items)) => {
                if items.len() > self.cfg.max_items {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "{} items, more than the limit of {} per request (--max-items)",
                            items.len(),
                            self.cfg.max_items
                        ),
                    ));
                }
                let ids: Vec<QueryId> = items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| match &it.id {
                        Some(WireId(id)) => id.clone(),
                        None => QueryId::Num(i as u64),
                    })
                    .collect();
                let found: Vec<Option<Result<TextFindings, String>>> = items
                    .par_iter()
                    .map(|it| {
                        (Instant::now() < self.deadline).then(|| {
                            query::find_text(&matcher, &it.text).map_err(|e| e.to_string())
                        })
                    })
                    .collect();
                let mut outcome = Outcome::default();
                let mut results = Vec::with_capacity(found.len());
                for (id, f) in ids.iter().zip(&found) {
                    let Some(f) = f else {
                        return Err(ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!(
                                "the answer took longer than the time limit ({}, --timeout)",
                                secs(self.cfg.timeout)
                            ),
                        ));
                    };
                    outcome.queries += 1;
                    results.push(match f {
                        Ok(f) => {
                            outcome.matches += f.matches.len() as u64;
                            ItemAnswer {
                                id,
                                matches: records(Some(id), f),
                                notes: cut_notes(&format!("item {id}"), f),
                                error: None,
                            }
                        }
                        Err(e) => ItemAnswer {
                            id,
                            matches: Vec::new(),
                            notes: Vec::new(),
                            error: Some(e.clone()),
                        },
                    });
                }
                Ok((to_json(&ItemsAnswer { results }), outcome))
            }
            (Some(_), Some(_)) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "give either \"text\" or \"items\", not both",
            )),
            (None, None) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request needs a \"text\" string or an \"items\" list",
            )),
        }
    }
}

/// `?name=` of `/v1/match/file`: a label for the file (never opened).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParams {
    name: Option<String>,
}

/// Longest `?name=` label, in bytes.
const MAX_NAME: usize = super::wire::MAX_ID_BYTES;

/// The label and name hint of an uploaded file: `?name=`, else `upload`
/// with the extension of its declared type.
fn upload_name(params: &FileParams, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(n) = &params.name {
        if n.is_empty() || n.len() > MAX_NAME {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("name must be 1 to {MAX_NAME} bytes"),
            ));
        }
        return Ok(crate::extract::clean_name(n));
    }
    let ext = match declared_mime(headers).as_str() {
        "application/pdf" => ".pdf",
        "message/rfc822" => ".eml",
        "application/mbox" => ".mbox",
        "text/html" => ".html",
        "text/plain" => ".txt",
        "application/zip" => ".zip",
        "application/gzip" | "application/x-gzip" => ".gz",
        "application/x-tar" => ".tar",
        "application/msword" => ".doc",
        "application/vnd.ms-excel" => ".xls",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => ".docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => ".xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => ".pptx",
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "image/bmp" => ".bmp",
        "image/tiff" => ".tif",
        _ => "",
    };
    Ok(format!("upload{ext}"))
}

#[derive(Serialize)]
#[serde(untagged)]
enum AnyRecord<'a> {
    File(FileRecord<'a>),
    Text(TextRecord<'a>),
}

#[derive(Serialize)]
struct FileAnswer<'a> {
    matches: Vec<AnyRecord<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<String>,
}

/// `POST /v1/match/file`.
async fn match_file(
    State(app): State<Arc<App>>,
    params: Result<Query<FileParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let deadline = Instant::now() + app.cfg.timeout;
    let permit = app.admit()?;
    let Query(params) = params.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("bad query string (only ?name=LABEL): {}", e.body_text()),
        )
    })?;
    let name = upload_name(&params, &headers)?;
    let bytes = read_body(
        body,
        &headers,
        app.cfg.max_file_size,
        "--max-file-size",
        deadline,
        app.cfg.timeout,
    )
    .await?;
    let declared_image = declared_mime(&headers).starts_with("image/");
    if crate::ocr::sniff(&bytes).is_some() {
        return match_image(&app, deadline, permit, name, bytes).await;
    }
    if declared_image {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Content-Type {:?} declares an image, but the body is {}",
                declared_mime(&headers),
                crate::ocr::ImageError::NotAnImage
            ),
        ));
    }
    let loaded = app.index.current();
    let (matching, limits) = (app.cfg.matching.clone(), app.cfg.extract.clone());
    let (body, outcome) = app
        .run(deadline, permit, move || {
            let matcher = Matcher::new(&loaded.index, matching);
            let f = query::find_in_file(&matcher, &name, &bytes, &limits);
            let mut matches = Vec::new();
            if let Ok(ev) = &f.evidence {
                matches.extend(
                    ev.iter()
                        .map(|e| AnyRecord::File(FileRecord::new(&f.name, e))),
                );
            }
            let ids: Vec<QueryId> = f
                .parts
                .iter()
                .map(|p| QueryId::Str(p.query.clone()))
                .collect();
            for (p, id) in f.parts.iter().zip(&ids) {
                if let Ok(ms) = &p.matches {
                    matches.extend(
                        ms.iter().map(|m| {
                            AnyRecord::Text(TextRecord::new(Kind::Text, Some(id), m, None))
                        }),
                    );
                }
            }
            let outcome = Outcome {
                queries: 1,
                matches: matches.len() as u64,
            };
            let answer = FileAnswer {
                matches,
                notes: f.notes(),
                errors: f.errors(),
            };
            (to_json(&answer), outcome)
        })
        .await?;
    Ok(json(body, outcome))
}

/// The declared media type, lowercase, without parameters (`""` if none).
fn declared_mime(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// An image sent to `/v1/match/file`: whole-file evidence, then OCR and the
/// matches of its text, with word boxes (`"kind": "image"`).
///
/// OCR runs on the matching pool like every other query: a pool thread
/// waits on one tesseract process (one core, `OMP_THREAD_LIMIT=1`), so at
/// most `threads` images are read at once and text requests keep the rest
/// of the pool; the image gets the time its request has left, so tesseract
/// is killed near the deadline instead of running on after the 503. With
/// the server's worker process (the default, `--no-isolate` turns it off)
/// decoding and tesseract run under its memory cap.
async fn match_image(
    app: &Arc<App>,
    deadline: Instant,
    permit: OwnedSemaphorePermit,
    name: String,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let loaded = app.index.current();
    let matching = app.cfg.matching.clone();
    let ocr = app
        .cfg
        .ocr
        .timeout_at_most(deadline.saturating_duration_since(Instant::now()));
    let metrics = app.metrics.clone();
    let (body, outcome) = app
        .run(deadline, permit, move || {
            let matcher = Matcher::new(&loaded.index, matching);
            let f = query::find_in_image(&matcher, &name, &bytes, &ocr);
            metrics.image_read(f.image.is_ok());
            let id = QueryId::Str(f.name.clone());
            let mut matches: Vec<AnyRecord<'_>> = Vec::new();
            if let Ok(ev) = &f.evidence {
                matches.extend(
                    ev.iter()
                        .map(|e| AnyRecord::File(FileRecord::new(&f.name, e))),
                );
            }
            matches.extend(f.image_records(&id).into_iter().map(AnyRecord::Text));
            let outcome = Outcome {
                queries: 1,
                matches: matches.len() as u64,
            };
            let answer = FileAnswer {
                matches,
                notes: Vec::new(),
                errors: f.errors(),
            };
            (to_json(&answer), outcome)
        })
        .await?;
    Ok(json(body, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::builder::{Mode, NoProgress};
    use crate::index::Residence;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn app(dir: &std::path::Path) -> App {
        let doc = dir.join("a.txt");
        std::fs::write(&doc, "a document that is long enough to be indexed here").unwrap();
        let idx = dir.join("idx");
        crate::IndexBuilder::new()
            .threads(1)
            .build()
            .unwrap()
            .index_paths(&[doc], &idx, Mode::Create, &NoProgress)
            .unwrap();
        let cfg = ServeConfig::builder(&idx).threads(1).build().unwrap();
        let live = Arc::new(LiveIndex::open(&idx, Residence::Mapped).unwrap());
        App::new(cfg, live, Arc::new(Metrics::new())).unwrap()
    }

    /// A job whose deadline passed while it waited is answered 503 and
    /// not run (its permit comes back); one in time runs.
    #[test]
    fn a_job_past_its_deadline_is_not_run() {
        let d = tempfile::tempdir().unwrap();
        let app = app(d.path());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let all = app.cfg.max_concurrent;
        for late in [true, false] {
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            let deadline = if late {
                Instant::now()
            } else {
                Instant::now() + Duration::from_secs(60)
            };
            let permit = app.admit().unwrap();
            let got =
                rt.block_on(app.run(deadline, permit, move || r.store(true, Ordering::SeqCst)));
            // The job has ended once its permit is back.
            let waited = Instant::now();
            while app.permits.available_permits() < all {
                assert!(waited.elapsed() < Duration::from_secs(30));
                std::thread::sleep(Duration::from_millis(5));
            }
            if late {
                assert_eq!(got.unwrap_err().status(), StatusCode::SERVICE_UNAVAILABLE);
                assert!(!ran.load(Ordering::SeqCst), "a late job ran");
            } else {
                assert!(got.is_ok());
                assert!(ran.load(Ordering::SeqCst));
            }
        }
    }
}
