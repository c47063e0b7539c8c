//! Connections, reloads and shutdown.
//!
//! [`serve`] accepts connections on a bound listener and serves each with
//! hyper's HTTP/1.1 server (keep-alive, a deadline for the request headers
//! so that a client that sends slowly or not at all cannot hold a
//! connection), watching each for graceful shutdown. It also runs the
//! reload loop ([`super::reload`]). When `shutdown` resolves, the listener
//! closes, idle connections close, connections with a request in flight
//! finish it, and `serve` returns once they are all done or after the grace
//! period.
//!
//! [`run`] is the blocking entry point of `leakprint serve`: it opens the
//! index, binds, starts a tokio runtime and serves until SIGTERM or Ctrl-C
//! ([`shutdown_signal`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::api::{router, App};
use super::metrics::Metrics;
use super::reload::{Check, LiveIndex};
use super::{ServeConfig, ServeError};

/// Serve `cfg`'s index on `listener` until `shutdown` resolves.
///
/// # Errors
/// When the index cannot be opened or the matching threads cannot start.
pub async fn serve(
    cfg: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let (path, residence) = (cfg.index.clone(), cfg.residence);
    let live = tokio::task::spawn_blocking(move || LiveIndex::open(&path, residence))
        .await
        .map_err(|e| ServeError::Start(e.to_string()))?
        .map_err(|source| ServeError::Index {
            path: cfg.index.clone(),
            source,
        })?;
    let live = Arc::new(live);
    let metrics = Arc::new(Metrics::new());
    {
        let cur = live.current();
        metrics.serving(cur.generation, cur.index.segments().len());
        let t = cur.index.totals();
        tracing::info!(
            index = %cfg.index.display(),
            generation = cur.generation,
            segments = t.segments,
            files = t.files,
            "index opened"
        );
    }
    let (grace, header_timeout, reload_every) =
        (cfg.shutdown_grace, cfg.header_timeout, cfg.reload_every);
    let threads = cfg.threads;
    let app = Arc::new(App::new(cfg, live.clone(), metrics.clone())?);
    let service = TowerToHyperService::new(router(app));
    let addr = listener
        .local_addr()
        .map_or_else(|e| e.to_string(), |a| a.to_string());
    tracing::info!(%addr, threads, "listening");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let reloader = tokio::spawn(reload_loop(live, metrics, reload_every, stop_rx));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(header_timeout)
                        .serve_connection(TokioIo::new(stream), service.clone());
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let open = graceful.count();
    tracing::info!(open_connections = open, "shutting down: no new connections");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("every request in flight finished"),
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_secs = grace.as_secs_f64(), "requests still in flight after the grace period; stopping")
        }
    }
    let _ = reloader.await;
    Ok(())
}

/// Look at the manifest every `every` until `stop` turns true.
async fn reload_loop(
    live: Arc<LiveIndex>,
    metrics: Arc<Metrics>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let l = live.clone();
        let Ok(check) = tokio::task::spawn_blocking(move || l.check()).await else {
            continue;
        };
        match check {
            Check::Unchanged | Check::StillFailing => {}
            Check::Reloaded {
                generation,
                segments,
            } => {
                metrics.reloaded(true);
                metrics.serving(generation, segments);
                tracing::info!(generation, segments, "index reloaded");
            }
            Check::Failed(e) => {
                metrics.reloaded(false);
                tracing::warn!(error = %e, "the index changed but cannot be opened; serving the previous one");
            }
        }
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!(signal = "SIGINT", "shutdown requested"),
        () = term => tracing::info!(signal = "SIGTERM", "shutdown requested"),
    }
}

/// Serve until SIGTERM or Ctrl-C: the body of `leakprint serve`.
///
/// # Errors
/// When the runtime cannot start, the address cannot be bound or the
/// index cannot be opened.
pub fn run(cfg: ServeConfig) -> Result<(), ServeError> {
    // The async workers only move bytes; matching has its own pool.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("leakprint-io")
        .enable_all()
        .build()
        .map_err(|e| ServeError::Start(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        let addr = cfg.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        serve(cfg, listener, shutdown_signal()).await
    })
}
