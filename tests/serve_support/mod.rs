//! Running `leakprint serve` in tests: the real binary on a loopback port
//! the kernel picks, a minimal HTTP/1.1 client over `TcpStream` (so that
//! tests can also send broken, slow or cut requests), and a fixture index
//! of real text (State of the Union addresses from `corpus/dump/docs`,
//! public domain, see corpus/SOURCES.md).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leakprint"))
}

/// The sorted documents of the bundled corpus.
pub fn corpus_docs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/dump/docs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    v.sort();
    v
}

/// A quote of about 200 bytes from the middle of a document.
pub fn quote(doc: &Path) -> String {
    let text = std::fs::read_to_string(doc).unwrap();
    let mut start = text.len() / 2;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let mut end = (start + 200).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[start..end].to_owned()
}

/// The display path `index` records for a corpus document copied to
/// `dump/NAME` under the fixture root.
pub fn source_of(doc: &Path) -> String {
    format!("dump/{}", doc.file_name().unwrap().to_string_lossy())
}

/// Copy `docs` into `root/dir` and index (or append) them into `root/idx`.
pub fn index_docs(root: &Path, dir: &str, docs: &[PathBuf], append: bool) {
    let d = root.join(dir);
    std::fs::create_dir_all(&d).unwrap();
    for doc in docs {
        std::fs::copy(doc, d.join(doc.file_name().unwrap())).unwrap();
    }
    let mut cmd = bin();
    cmd.current_dir(root)
        .args(["index", dir, "-o", "idx", "-q", "--threads", "1"]);
    if append {
        cmd.arg("--append");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `leakprint serve`, stopped (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Start serving `root/idx` with `extra` options.
    pub fn start(root: &Path, extra: &[&str]) -> Server {
        let mut cmd = bin();
        cmd.current_dir(root)
            .args(["serve", "--index", "idx", "--listen", "127.0.0.1:0"])
            .args(["--reload-every-ms", "50"]);
        if !extra.contains(&"--threads") {
            cmd.args(["--threads", "2"]);
        }
        let mut child = cmd
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let l = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(a) = line.split("addr=").nth(1) {
                    let _ = tx.send(a.split_whitespace().next().unwrap_or("").to_owned());
                }
                let mut g = l.lock().unwrap();
                g.push_str(&line);
                g.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start:\n{}", log.lock().unwrap());
            }
        };
        Server {
            child: Some(child),
            addr,
            log,
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Send SIGTERM (without waiting).
    pub fn terminate(&self) {
        let st = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// Wait for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let end = Instant::now() + limit;
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return st;
            }
            assert!(
                Instant::now() < end,
                "the server did not exit:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        request(self.addr, "GET", path, headers, b"")
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Response {
        request(
            self.addr,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    /// Poll `/healthz` until its generation is `generation`.
    pub fn wait_generation(&self, generation: u64) {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let h = self.get("/healthz", &[]).json();
            if h["generation"] == generation {
                return;
            }
            assert!(
                Instant::now() < end,
                "no reload to {generation}: {h}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A response: status, headers (lowercase names) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a new connection (`Connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    raw(addr, &bytes).expect("a complete HTTP response")
}

/// Send raw bytes, read the answer to EOF, parse it; `None` when the
/// server closed the connection without a complete response.
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> Option<Response> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    // The server may answer (and close) before reading everything.
    let _ = s.write_all(bytes);
    // Read until one whole response is in (the server may keep the
    // connection open after it) or the server closes.
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        if let Some(r) = parse(&out) {
            return Some(r);
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return parse(&out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Parse one HTTP/1.1 response with a Content-Length body.
pub fn parse(bytes: &[u8]) -> Option<Response> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())?;
    let body = bytes.get(end + 4..end + 4 + len)?.to_vec();
    Some(Response {
        status,
        headers,
        body,
    })
}
