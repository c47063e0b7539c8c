//! The service's metrics, in the OpenMetrics text format that Prometheus
//! scrapes (`prometheus-client`, the Prometheus project's Rust client).
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `leakprint_requests_total` | endpoint, status | requests answered |
//! | `leakprint_request_duration_seconds` | endpoint | latency histogram, 0.25 ms to 32 s |
//! | `leakprint_queries_total` | endpoint | texts and files matched |
//! | `leakprint_matches_total` | endpoint | pieces of evidence returned |
//! | `leakprint_requests_in_flight` | | requests being answered |
//! | `leakprint_index_generation` | | manifest generation served |
//! | `leakprint_index_segments` | | segments served |
//! | `leakprint_index_reloads_total` | result | reloads, `ok` or `error` |
//! | `leakprint_images_total` | result | images read by OCR, `ok` or `error` |
//!
//! `endpoint` is the route (`/v1/match`, ...) or `other`, so that a client
//! cannot grow the label set with made-up paths.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of per-endpoint metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Endpoint {
    endpoint: &'static str,
}

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointStatus {
    endpoint: &'static str,
    status: u16,
}

/// Labels of the reload and image counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms, 0.5 ms, ... 32.8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 18))
}

/// A request in flight, counted until dropped.
#[derive(Debug)]
pub struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Every metric of the service; cheap to share (`Arc`).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<EndpointStatus, Counter>,
    latency: Family<Endpoint, Histogram, fn() -> Histogram>,
    queries: Family<Endpoint, Counter>,
    matches: Family<Endpoint, Counter>,
    in_flight: Gauge,
    generation: Gauge,
    segments: Gauge,
    reloads: Family<ResultLabel, Counter>,
    images: Family<ResultLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The routes, as metric labels; anything else is `other`.
pub const ENDPOINTS: [&str; 4] = ["/v1/match", "/v1/match/file", "/healthz", "/metrics"];

impl Metrics {
    /// Registered, all at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("leakprint");
        let requests = Family::<EndpointStatus, Counter>::default();
        let latency = Family::<Endpoint, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let queries = Family::<Endpoint, Counter>::default();
        let matches = Family::<Endpoint, Counter>::default();
        let in_flight = Gauge::default();
        let generation = Gauge::default();
        let segments = Gauge::default();
        let reloads = Family::<ResultLabel, Counter>::default();
        let images = Family::<ResultLabel, Counter>::default();
        registry.register("requests", "Requests answered", requests.clone());
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to its answer",
            latency.clone(),
        );
        registry.register("queries", "Texts and files matched", queries.clone());
        registry.register("matches", "Pieces of evidence returned", matches.clone());
        registry.register(
            "requests_in_flight",
            "Requests being answered",
            in_flight.clone(),
        );
        registry.register(
            "index_generation",
            "Manifest generation of the index served",
            generation.clone(),
        );
        registry.register(
            "index_segments",
            "Segments of the index served",
            segments.clone(),
        );
        registry.register(
            "index_reloads",
            "Index reloads after a manifest change",
            reloads.clone(),
        );
        registry.register(
            "images",
            "Images sent as queries and read by OCR (ok) or not (error)",
            images.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            queries,
            matches,
            in_flight,
            generation,
            segments,
            reloads,
            images,
        }
    }

    /// The label of a path: one of [`ENDPOINTS`] or `other`.
    pub fn endpoint(path: &str) -> &'static str {
        ENDPOINTS
            .iter()
            .find(|e| **e == path)
            .copied()
            .unwrap_or("other")
    }

    /// A request started; it is in flight until the guard is dropped
    /// (also when the client goes away and the request is dropped).
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// A request ended with `status` after `seconds`, having matched
    /// `queries` items into `matches` pieces of evidence.
    pub fn finished(
        &self,
        endpoint: &'static str,
        status: u16,
        seconds: f64,
        queries: u64,
        matches: u64,
    ) {
        self.requests
            .get_or_create(&EndpointStatus { endpoint, status })
            .inc();
        let e = Endpoint { endpoint };
        self.latency.get_or_create(&e).observe(seconds);
        if queries > 0 {
            self.queries.get_or_create(&e).inc_by(queries);
        }
        if matches > 0 {
            self.matches.get_or_create(&e).inc_by(matches);
        }
    }

    /// The index served is now `generation` with `segments` segments.
    pub fn serving(&self, generation: u64, segments: usize) {
        self.generation
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
        self.segments.set(segments as i64);
    }

    /// A reload was tried.
    pub fn reloaded(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.reloads.get_or_create(&ResultLabel { result }).inc();
    }

    /// An image query was read by OCR (`ok`) or failed.
    pub fn image_read(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.images.get_or_create(&ResultLabel { result }).inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_in_the_text_format() {
        let m = Metrics::new();
        m.serving(7, 3);
        let held = m.in_flight();
        assert!(m
            .encode()
            .lines()
            .any(|l| l == "leakprint_requests_in_flight 1"));
        m.finished("/v1/match", 200, 0.003, 100, 4);
        drop(held);
        m.finished(Metrics::endpoint("/etc/passwd"), 404, 0.0001, 0, 0);
        m.reloaded(true);
        m.image_read(false);
        let t = m.encode();
        for line in [
            "leakprint_requests_total{endpoint=\"/v1/match\",status=\"200\"} 1",
            "leakprint_requests_total{endpoint=\"other\",status=\"404\"} 1",
            "leakprint_queries_total{endpoint=\"/v1/match\"} 100",
            "leakprint_matches_total{endpoint=\"/v1/match\"} 4",
            "leakprint_index_generation 7",
            "leakprint_index_segments 3",
            "leakprint_requests_in_flight 0",
            "leakprint_index_reloads_total{result=\"ok\"} 1",
            "leakprint_images_total{result=\"error\"} 1",
            "leakprint_request_duration_seconds_count{endpoint=\"/v1/match\"} 1",
            "# EOF",
        ] {
            assert!(t.lines().any(|l| l == line), "missing {line:?} in\n{t}");
        }
    }
}
