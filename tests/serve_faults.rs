//! `leakprint serve` under reloads and hostile clients (small, bounded
//! versions of `scripts/serve_load.sh`): an append and a compaction while
//! clients keep asking fail no request; slow, vanishing and malformed
//! clients leave the server answering correctly; SIGTERM lets a request in
//! flight finish. Every loop is bounded in count and time; all traffic is
//! on loopback.

mod serve_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use serve_support::*;

fn quote_post(doc: &std::path::Path) -> Value {
    json!({"text": format!("\"{}\"", quote(doc))})
}

#[test]
fn append_and_compact_under_load_fail_no_request() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let docs = corpus_docs();
    let (first, second) = (&docs[..30], &docs[30..50]);
    index_docs(root, "a", first, false);
    let server = Server::start(root, &[]);

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let clients: Vec<_> = (0..3)
        .map(|c| {
            let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
            let addr = server.addr;
            let posts: Vec<(String, Value)> = first
                .iter()
                .skip(c)
                .step_by(3)
                .map(|d| {
                    (
                        format!("a/{}", d.file_name().unwrap().to_string_lossy()),
                        quote_post(d),
                    )
                })
                .collect();
            std::thread::spawn(move || {
                let end = Instant::now() + Duration::from_secs(120);
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                    let (src, post) = &posts[i % posts.len()];
                    i += 1;
                    let r = request(
                        addr,
                        "POST",
                        "/v1/match",
                        &[("Content-Type", "application/json")],
                        post.to_string().as_bytes(),
                    );
                    let found = r.status == 200 && r.json()["matches"][0]["source"] == src.as_str();
                    if found {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                        eprintln!("failed: {} {}", r.status, r.text());
                    }
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(300));
    index_docs(root, "b", second, true);
    server.wait_generation(2);
    let new = server
        .post_json("/v1/match", &quote_post(&second[5]))
        .json();
    assert_eq!(
        new["matches"][0]["source"],
        format!("b/{}", second[5].file_name().unwrap().to_string_lossy())
    );
    let out = bin()
        .current_dir(root)
        .args(["compact", "idx", "-q", "--threads", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.wait_generation(3);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(failed, 0, "{ok} answered, {failed} failed");
    assert!(ok > 10, "only {ok} requests");
    let h = server.get("/healthz", &[]).json();
    assert_eq!(
        (h["segments"].as_u64(), h["files"].as_u64()),
        (Some(1), Some(50))
    );
    let metrics = server.get("/metrics", &[]).text();
    assert!(
        metrics.contains("leakprint_index_reloads_total{result=\"ok\"} 2"),
        "{metrics}"
    );
    assert!(server.log().contains("index reloaded"));
}

#[test]
fn slow_vanishing_and_malformed_clients_leave_it_answering() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let docs: Vec<_> = corpus_docs().into_iter().take(8).collect();
    index_docs(root, "dump", &docs, false);
    let server = Server::start(root, &["--timeout", "2"]);
    let addr = server.addr;
    let post = quote_post(&docs[3]).to_string();
    let expect = source_of(&docs[3]);
    let healthy = |why: &str| {
        let r = request(
            addr,
            "POST",
            "/v1/match",
            &[("Content-Type", "application/json")],
            post.as_bytes(),
        );
        assert_eq!(r.status, 200, "after {why}: {}", r.text());
        assert_eq!(
            r.json()["matches"][0]["source"],
            expect.as_str(),
            "after {why}"
        );
    };

    // A client that sends slowly, within the limits, is answered.
    let mut s = TcpStream::connect(addr).unwrap();
    let req = format!(
        "POST /v1/match HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{post}",
        post.len()
    );
    for chunk in req.as_bytes().chunks(req.len() / 8 + 1) {
        s.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(40));
    }
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let r = parse(&out).unwrap();
    assert_eq!(r.status, 200);
    healthy("a slow client");

    // A body that stops arriving gets 408 when the request's time is up,
    // and the others are answered meanwhile.
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled
        .write_all(b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":")
        .unwrap();
    healthy("a stalled body");
    stalled
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut out = Vec::new();
    let _ = stalled.read_to_end(&mut out);
    let r = parse(&out).expect("an answer to the stalled body");
    assert_eq!(r.status, 408);
    assert!(r.json()["error"].as_str().unwrap().contains("time limit"));

    // Clients that vanish mid-body or mid-headers.
    for cut in [10usize, 60, 120] {
        let mut s = TcpStream::connect(addr).unwrap();
        let big = format!("{{\"text\":\"{}\"}}", "word ".repeat(200));
        let req = format!(
            "POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{big}",
            big.len()
        );
        s.write_all(&req.as_bytes()[..cut.min(req.len())]).unwrap();
        drop(s);
    }
    healthy("vanishing clients");

    // Malformed requests of every kind.
    let garbage: Vec<Vec<u8>> = vec![
        b"GARBAGE\r\n\r\n".to_vec(),
        b"POST /v1/match HTTP/1.1\r\nContent-Length: abc\r\n\r\n".to_vec(),
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{{{".to_vec(),
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
        vec![0u8; 512],
        b"GET /healthz HTTP/9.9\r\n\r\n".to_vec(),
        format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
        format!(
            "GET /healthz HTTP/1.1\r\nX: {}\r\n\r\n",
            "b".repeat(500_000)
        )
        .into_bytes(),
    ];
    let n = 1000;
    let started = Instant::now();
    for i in 0..n {
        let _ = raw(addr, &garbage[i % garbage.len()]);
    }
    assert!(started.elapsed() < Duration::from_secs(300));
    healthy("malformed requests");
    let metrics = server.get("/metrics", &[]).text();
    // Only the request asking for the metrics is in flight.
    assert!(
        metrics.contains("leakprint_requests_in_flight 1"),
        "{metrics}"
    );
}

#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let docs: Vec<_> = corpus_docs().into_iter().take(20).collect();
    index_docs(root, "dump", &docs, false);
    let mut server = Server::start(root, &["--threads", "1"]);
    // A batch that takes a while: every document's text, many times.
    let items: Vec<Value> = (0..200)
        .map(|i| json!({"id": i, "text": std::fs::read_to_string(&docs[i % docs.len()]).unwrap()}))
        .collect();
    let body = json!({ "items": items }).to_string();
    let addr = server.addr;
    let client = std::thread::spawn(move || {
        request(
            addr,
            "POST",
            "/v1/match",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    });
    // Wait until the batch is being matched, then ask the server to stop.
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let m = server.get("/metrics", &[]).text();
        if m.contains("leakprint_requests_in_flight 2") {
            break;
        }
        assert!(Instant::now() < end, "the batch never started: {m}");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.terminate();
    let r = client.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 200);
    let st = server.wait(Duration::from_secs(60));
    assert!(st.success(), "{st:?}\n{}", server.log());
    let log = server.log();
    assert!(
        log.contains("SIGTERM") && log.contains("every request in flight finished"),
        "{log}"
    );
    assert!(TcpStream::connect(addr).is_err(), "still listening");
}

/// The process's peak resident memory (`VmHWM`), KiB; `None` where
/// `/proc` does not say (not Linux).
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// A chunked body of one-byte chunks is read into one buffer: two million
/// chunks (2 MB of body) raise the server's peak memory by a few MB, not
/// by the tens that keeping every chunk apart costs; and it is answered.
#[test]
fn a_body_of_tiny_chunks_costs_its_size_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let docs: Vec<_> = corpus_docs().into_iter().take(4).collect();
    index_docs(root, "dump", &docs, false);
    let server = Server::start(root, &["--timeout", "120"]);
    // (2 MB of body, most of it whitespace between the JSON's tokens, so
    // that matching the text costs nothing to speak of.)
    let json = format!(
        "{{\"text\":{}{}}}",
        serde_json::to_string(&quote(&docs[1])).unwrap(),
        " ".repeat(2_000_000)
    );
    let mut req = b"POST /v1/match HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for b in json.bytes() {
        req.extend_from_slice(b"1\r\n");
        req.push(b);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let before = peak_kib(server.pid());
    let r = raw(server.addr, &req).expect("an answer");
    let after = peak_kib(server.pid());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["matches"][0]["source"],
        source_of(&docs[1]).as_str()
    );
    let (Some(before), Some(after)) = (before, after) else {
        eprintln!("no VmHWM in /proc here: memory not checked");
        return;
    };
    assert!(
        after - before < 16 << 10,
        "peak memory went from {before} KiB to {after} KiB for a body of {} bytes",
        json.len()
    );
}
