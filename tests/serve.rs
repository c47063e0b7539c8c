//! `leakprint serve` through the real binary: answers equal `leakprint
//! match`'s JSON lines, every refusal is a JSON error with its status, the
//! token guards every endpoint but `/healthz`.

mod serve_support;

use serde_json::{json, Value};
use serve_support::*;

struct Fixture {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    docs: Vec<std::path::PathBuf>,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let docs: Vec<_> = corpus_docs().into_iter().step_by(10).take(12).collect();
    index_docs(&root, "dump", &docs, false);
    Fixture {
        _tmp: tmp,
        root,
        docs,
    }
}

/// The JSON lines of `leakprint match` for `lines` (JSONL), as values.
fn cli_lines(root: &std::path::Path, args: &[&str], input: &str) -> Vec<Value> {
    use std::io::Write as _;
    let mut child = bin()
        .current_dir(root)
        .args(["match", "--index", "idx", "--ordered", "--json"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn answers_carry_the_json_lines_of_leakprint_match() {
    let f = fixture();
    let server = Server::start(&f.root, &[]);
    let health = server.get("/healthz", &[]).json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["files"], 12);
    assert_eq!(health["generation"], 1);

    // Posts quoting each document, with an unrelated one in the middle.
    let mut items: Vec<Value> = f
        .docs
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"id": format!("p{i}"), "text": format!("wow \"{}\" #leak", quote(d))}))
        .collect();
    items.insert(
        3,
        json!({"id": 99, "text": "nothing to see here, just a short unrelated post"}),
    );
    let jsonl: String = items.iter().map(|v| format!("{v}\n")).collect();
    let expected = cli_lines(&f.root, &["--format", "jsonl"], &jsonl);
    assert!(expected.len() >= f.docs.len(), "{expected:?}");

    let r = server.post_json("/v1/match", &json!({ "items": items }));
    assert_eq!(r.status, 200, "{}", r.text());
    let results = r.json()["results"].as_array().unwrap().clone();
    let ids: Vec<&Value> = results.iter().map(|r| &r["id"]).collect();
    let sent: Vec<&Value> = items.iter().map(|i| &i["id"]).collect();
    assert_eq!(ids, sent, "results in input order");
    let got: Vec<Value> = results
        .iter()
        .flat_map(|r| r["matches"].as_array().unwrap().clone())
        .collect();
    assert_eq!(got, expected);
    for (i, d) in f.docs.iter().enumerate() {
        let r = &results[if i < 3 { i } else { i + 1 }];
        assert_eq!(r["matches"][0]["source"], source_of(d).as_str(), "{r}");
    }
    assert_eq!(results[3]["matches"], json!([]));

    // One text, with and without an id; ids default to positions.
    let one = server.post_json("/v1/match", &json!({"text": items[0]["text"]}));
    let m = &one.json()["matches"];
    assert_eq!(m[0]["source"], expected[0]["source"]);
    assert!(m[0].get("query").is_none());
    let mut with_query = m[0].clone();
    with_query["query"] = json!("p0");
    assert_eq!(with_query, expected[0]);
    let line = server.post_json("/v1/match", &items[0]).json();
    assert_eq!(line["matches"][0], expected[0]);
    let anon = server
        .post_json(
            "/v1/match",
            &json!({"items": [{"text": "a"}, {"text": "b"}]}),
        )
        .json();
    assert_eq!(anon["results"][1]["id"], 1);

    // A file: whole-file evidence and its text, as `--format file` says.
    let doc = std::fs::read(&f.docs[2]).unwrap();
    let r = request(
        server.addr,
        "POST",
        "/v1/match/file?name=copy.txt",
        &[],
        &doc,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    std::fs::write(f.root.join("copy.txt"), &doc).unwrap();
    let expected = cli_lines(&f.root, &["--format", "file", "copy.txt"], "");
    assert_eq!(r.json()["matches"].as_array().unwrap(), &expected);
    assert_eq!(expected[0]["identical"], true);

    // The metrics counted them.
    let metrics = server.get("/metrics", &[]).text();
    assert!(
        metrics.contains("leakprint_requests_total{endpoint=\"/v1/match\",status=\"200\"} 4"),
        "{metrics}"
    );
    assert!(metrics.contains("leakprint_index_segments 1"), "{metrics}");
    assert!(
        metrics.contains("leakprint_index_generation 1"),
        "{metrics}"
    );
}

#[test]
fn refusals_are_json_errors_that_name_the_problem() {
    let f = fixture();
    let server = Server::start(
        &f.root,
        &[
            "--max-body",
            "2KiB",
            "--max-items",
            "3",
            "--max-file-size",
            "1KiB",
        ],
    );
    let a = server.addr;
    let json_h = [("Content-Type", "application/json")];
    let cases: Vec<(Response, u16, &str)> = vec![
        (
            request(a, "POST", "/v1/match", &json_h, b"{\"text\": "),
            400,
            "malformed JSON",
        ),
        (
            request(a, "POST", "/v1/match", &json_h, b"\xff\xfe"),
            400,
            "malformed JSON",
        ),
        (
            request(a, "POST", "/v1/match", &json_h, b"{\"text\": 5}"),
            422,
            "invalid type",
        ),
        (
            request(a, "POST", "/v1/match", &json_h, b"{\"txt\": \"a\"}"),
            422,
            "unknown field `txt`",
        ),
        (
            request(a, "POST", "/v1/match", &json_h, b"{}"),
            422,
            "needs a \"text\"",
        ),
        (
            request(
                a,
                "POST",
                "/v1/match",
                &json_h,
                b"{\"text\":\"a\",\"items\":[]}",
            ),
            422,
            "not both",
        ),
        (
            request(
                a,
                "POST",
                "/v1/match",
                &json_h,
                br#"{"items":[{"text":"a"},{"text":"a"},{"text":"a"},{"text":"a"}]}"#,
            ),
            413,
            "more than the limit of 3",
        ),
        (
            request(
                a,
                "POST",
                "/v1/match",
                &json_h,
                format!("{{\"text\":\"{}\"}}", "a".repeat(2048)).as_bytes(),
            ),
            413,
            "larger than the limit of 2.0 KiB (--max-body)",
        ),
        (
            request(
                a,
                "POST",
                "/v1/match",
                &[("Content-Type", "text/plain")],
                b"{}",
            ),
            415,
            "not JSON",
        ),
        (
            request(a, "POST", "/v1/match/file", &[], &[0u8; 1025]),
            413,
            "--max-file-size",
        ),
        (
            request(a, "POST", "/v1/match/file?path=/etc/passwd", &[], b"x"),
            400,
            "bad query string",
        ),
        (
            request(a, "GET", "/v1/nothing", &[], b""),
            404,
            "no such endpoint",
        ),
        (
            request(a, "DELETE", "/v1/match", &[], b""),
            405,
            "method not allowed",
        ),
    ];
    for (r, status, needle) in cases {
        let body = r.json();
        assert_eq!(r.status, status, "{body}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        let msg = body["error"].as_str().unwrap();
        assert!(msg.contains(needle), "{status}: {msg:?} lacks {needle:?}");
    }
    // Exactly at the limits is accepted.
    let at = format!("{{\"text\":\"{}\"}}", "a".repeat(2048 - 11));
    assert_eq!(at.len(), 2048);
    assert_eq!(
        request(a, "POST", "/v1/match", &json_h, at.as_bytes()).status,
        200
    );
    assert_eq!(
        request(a, "POST", "/v1/match/file", &[], &[1u8; 1024]).status,
        200
    );
    assert_eq!(server.get("/healthz", &[]).status, 200);
}

#[test]
fn a_token_guards_every_endpoint_but_healthz() {
    let f = fixture();
    let token = "s3cret-token-0123456789";
    std::fs::write(f.root.join("token"), format!("{token}\n")).unwrap();
    let server = Server::start(&f.root, &["--token-file", "token"]);
    let body = br#"{"text":"hello"}"#;
    let ok = format!("Bearer {token}");
    let json_h = ("Content-Type", "application/json");
    for (path, method) in [
        ("/v1/match", "POST"),
        ("/metrics", "GET"),
        ("/v1/match/file", "POST"),
    ] {
        let none = request(server.addr, method, path, &[json_h], body);
        assert_eq!(none.status, 401, "{path}");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        assert!(none.json()["error"]
            .as_str()
            .unwrap()
            .contains("bearer token"));
        let wrong = request(
            server.addr,
            method,
            path,
            &[json_h, ("Authorization", "Bearer s3cret-token-0123456780")],
            body,
        );
        assert_eq!(wrong.status, 401, "{path}");
        let right = request(
            server.addr,
            method,
            path,
            &[json_h, ("Authorization", &ok)],
            body,
        );
        assert_eq!(right.status, 200, "{path}: {}", right.text());
        // The scheme in any case (RFC 9110: it is case-insensitive); no
        // other scheme.
        for (scheme, status) in [("bearer", 200), ("BEARER", 200), ("Basic", 401)] {
            let auth = format!("{scheme} {token}");
            let r = request(
                server.addr,
                method,
                path,
                &[json_h, ("Authorization", &auth)],
                body,
            );
            assert_eq!(r.status, status, "{path}, scheme {scheme}: {}", r.text());
        }
    }
    assert_eq!(server.get("/healthz", &[]).status, 200);
    assert!(
        !server.log().contains(token),
        "the token must not be logged"
    );

    // Open addresses need a token.
    let out = bin()
        .current_dir(&f.root)
        .args(["serve", "--index", "idx", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("non-loopback") && err.contains("--token-file"),
        "{err}"
    );
    // A missing index is an error naming it, before listening.
    let out = bin()
        .args([
            "serve",
            "--index",
            "/nonexistent/idx",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/idx"));
}

/// `corpus/screenshots/tweet_light-001.png` quotes this document (see the
/// set's `truth.jsonl`).
const SHOT: &str = "tweet_light-001.png";
const SHOT_SOURCE: &str = "2016-Obama-1.txt";

#[test]
fn an_image_is_read_by_ocr_and_answered_with_word_boxes() {
    let tesseract = std::process::Command::new("tesseract")
        .arg("--version")
        .output();
    assert!(
        tesseract.is_ok_and(|o| o.status.success()),
        "this test needs tesseract: apt-get install tesseract-ocr tesseract-ocr-eng"
    );
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![manifest.join("corpus/dump/docs").join(SHOT_SOURCE)];
    docs.extend(corpus_docs().into_iter().take(3));
    index_docs(root, "dump", &docs, false);
    let png = std::fs::read(manifest.join("corpus/screenshots").join(SHOT)).unwrap();
    let server = Server::start(root, &[]);

    // Found by content, named by ?name=: the command line's lines for the
    // same file, word boxes included.
    let r = request(
        server.addr,
        "POST",
        "/v1/match/file?name=shot.png",
        &[],
        &png,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    std::fs::write(root.join("shot.png"), &png).unwrap();
    let expected = cli_lines(root, &["--format", "file", "shot.png"], "");
    let got = r.json()["matches"].as_array().unwrap().clone();
    assert_eq!(got, expected);
    assert!(!got.is_empty(), "{}", r.text());
    let m = &got[0];
    assert_eq!(m["kind"], "image");
    assert_eq!(m["query"], "shot.png");
    assert_eq!(m["source"], format!("dump/{SHOT_SOURCE}"));
    assert!(!m["boxes"].as_array().unwrap().is_empty(), "{m}");

    // Declared as image/png, without a name: labelled upload.png.
    let typed = request(
        server.addr,
        "POST",
        "/v1/match/file",
        &[("Content-Type", "image/png")],
        &png,
    );
    assert_eq!(typed.status, 200, "{}", typed.text());
    assert_eq!(typed.json()["matches"][0]["query"], "upload.png");

    // Declared as an image but not one: 422 naming the problem.
    let fake = request(
        server.addr,
        "POST",
        "/v1/match/file",
        &[("Content-Type", "image/jpeg")],
        b"plain text pretending",
    );
    assert_eq!(fake.status, 422, "{}", fake.text());
    assert!(fake.json()["error"]
        .as_str()
        .unwrap()
        .contains("declares an image"));

    // A truncated image: answered, with the reason among the errors.
    let cut = request(
        server.addr,
        "POST",
        "/v1/match/file?name=cut.png",
        &[],
        &png[..png.len() / 3],
    );
    assert_eq!(cut.status, 200, "{}", cut.text());
    let body = cut.json();
    assert_eq!(body["matches"], json!([]));
    let err = body["errors"][0].as_str().unwrap();
    assert!(
        err.starts_with("cut.png: ") && err.contains("decode"),
        "{err}"
    );

    let metrics = server.get("/metrics", &[]).text();
    for line in [
        "leakprint_images_total{result=\"ok\"} 2",
        "leakprint_images_total{result=\"error\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line}\n{metrics}");
    }
}
