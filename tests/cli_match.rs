//! `leakprint match` through the real binary: every input format, exit
//! codes, bad lines, ordering, thread counts, files and folders, closed pipes.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const OCR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ocr");

/// The texts rendered into the OCR fixtures (see tests/data/ocr/regenerate.sh).
const PAGE1: &str =
    "Dear board members, please find attached the quar-\nterly figures for the merger. \
Do not forward this invite outside the company.\n\nThe second paragraph names Mr. O'Brien & \
partners; totals are 1,250,000 EUR.";
const PAGE2: &str = "Re: budget 2024 - the vendor invoice (#4471) was paid twice; please keep \
this between us until the audit closes.";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leakprint"))
}

/// A dump with the two OCR source mails, filler documents and one big file,
/// indexed into `idx`; paths are relative to `root` (the current directory
/// of every command).
struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    /// The filler documents' texts, by source name.
    docs: Vec<(String, String)>,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let dump = root.join("dump");
        std::fs::create_dir_all(dump.join("mail")).unwrap();
        std::fs::write(
            dump.join("mail/1.txt"),
            format!(
                "From: board@example.com\n\n{}\n\nRegards\n",
                PAGE1.replace("quar-\nterly", "quarterly")
            ),
        )
        .unwrap();
        std::fs::write(dump.join("mail/2.txt"), format!("{PAGE2}\n")).unwrap();
        let mut rng = common::Rng(77);
        let mut docs = Vec::new();
        for i in 0..12 {
            let name = format!("dump/doc{i:02}.txt");
            let text = common::prose(&mut rng, 2500);
            std::fs::write(root.join(&name), &text).unwrap();
            docs.push((name, text));
        }
        std::fs::write(dump.join("big.txt"), common::prose(&mut rng, 400_000)).unwrap();
        let out = bin()
            .current_dir(&root)
            .args(["index", "dump", "-o", "idx", "-q", "--threads", "1"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Fixture {
            _tmp: tmp,
            root,
            docs,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Run `leakprint match --index idx <args>` with `stdin`.
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = bin()
            .current_dir(&self.root)
            .args(["match", "--index", "idx"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let data = stdin.to_owned();
        let feeder = std::thread::spawn(move || {
            // The child may stop reading early; that is not our failure.
            let _ = input.write_all(data.as_bytes());
        });
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        out
    }
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn span(v: &Value, key: &str) -> std::ops::Range<usize> {
    let a = v[key].as_array().unwrap();
    a[0].as_u64().unwrap() as usize..a[1].as_u64().unwrap() as usize
}

/// A jsonl line quoting `quote` inside post-like noise.
fn post(id: usize, quote: &str) -> String {
    let text = format!("omg look at this 🔥 \"{quote}\" #leak https://t.co/x{id}");
    serde_json::json!({"id": id, "text": text}).to_string()
}

#[test]
fn jsonl_lines_and_text_inputs() {
    let f = Fixture::new();
    let (src, text) = &f.docs[3];
    let quote = &text[500..700];
    let quote = quote.trim();

    // JSONL on stdin, auto-detected.
    let input = format!(
        "{}\n{}\n",
        post(7, quote),
        serde_json::json!({"id": "s", "text": "nothing leaked in this short post at all"})
    );
    let out = f.run(&[], &input);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    let g = &got[0];
    assert_eq!(g["kind"], "text");
    assert_eq!(g["query"], 7);
    assert_eq!(g["source"], src.as_str());
    let posted = format!("omg look at this 🔥 \"{quote}\" #leak https://t.co/x7");
    assert_eq!(&posted[span(g, "query_span")], quote);
    assert_eq!(&text[span(g, "source_span")], quote);
    for key in ["score", "similarity", "aligned_len", "snippet"] {
        assert!(!g[key].is_null(), "{key} missing in {g}");
    }
    assert!(g.get("boxes").is_none());

    // Lines: id = line number.
    let input = format!("nothing here\n\n{quote}\n");
    let out = f.run(&["--format", "lines"], &input);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["query"], 3);
    assert_eq!(got[0]["source"], src.as_str());

    // Text files: id = the path as given.
    std::fs::write(f.path("q.txt"), format!("Forwarded:\n{quote}\n")).unwrap();
    let out = f.run(&["--format", "text", "q.txt"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["query"], "q.txt");
    assert_eq!(got[0]["source"], src.as_str());
}

#[test]
fn ocr_inputs_carry_word_boxes() {
    let f = Fixture::new();
    for (file, format, source) in [
        ("page1.tsv", "tsv", "dump/mail/1.txt"),
        ("page1.hocr", "hocr", "dump/mail/1.txt"),
        ("page2.tsv", "tsv", "dump/mail/2.txt"),
        ("page2.hocr", "hocr", "dump/mail/2.txt"),
    ] {
        let path = format!("{OCR}/{file}");
        for fmt in [format, "auto"] {
            let out = f.run(&["--format", fmt, &path], "");
            assert_eq!(code(&out), 0, "{file} {fmt}: {}", stderr(&out));
            let got = lines(&out);
            assert_eq!(got.len(), 1, "{file} {fmt}: {got:?}");
            let g = &got[0];
            assert_eq!(g["source"], source);
            assert_eq!(g["query"], path.as_str());
            let boxes = g["boxes"].as_array().unwrap();
            assert!(boxes.len() >= 10, "{file}: {} boxes", boxes.len());
            for b in boxes {
                for key in ["left", "top", "width", "height", "conf", "page", "line"] {
                    assert!(b[key].is_number(), "{key} in {b}");
                }
                assert_eq!(b["page"], 1);
            }
            // Boxes are in reading order: lines never go back.
            let lines: Vec<u64> = boxes.iter().map(|b| b["line"].as_u64().unwrap()).collect();
            assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
        }
    }
}

#[test]
fn exit_codes_follow_grep() {
    let f = Fixture::new();
    let quote = f.docs[0].1[100..300].trim().to_owned();
    let out = f.run(&["--format", "lines"], &format!("{quote}\n"));
    assert_eq!(code(&out), 0);
    let out = f.run(&["--format", "lines"], "no leak in here whatsoever\n");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    // A missing input: error naming it, status 2, even with a match elsewhere.
    std::fs::write(f.path("q.txt"), &quote).unwrap();
    let out = f.run(&["q.txt", "missing.txt"], "");
    assert_eq!(code(&out), 2);
    assert_eq!(lines(&out).len(), 1);
    assert!(stderr(&out).contains("missing.txt"), "{}", stderr(&out));
    // A missing index.
    let out = bin()
        .current_dir(&f.root)
        .args(["match", "--index", "nope", "q.txt"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
    // A bad option value.
    let out = f.run(&["--min-similarity", "0.2", "q.txt"], "");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("min_similarity"), "{}", stderr(&out));
}

#[test]
fn thresholds_filter_matches() {
    let f = Fixture::new();
    let quote = f.docs[1].1[1000..1060].trim().to_owned();
    let out = f.run(&["--format", "lines"], &format!("{quote}\n"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = f.run(
        &["--format", "lines", "--min-len", "200"],
        &format!("{quote}\n"),
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn both_seedings_give_the_same_spans_and_a_bad_one_is_refused() {
    let f = Fixture::new();
    let input: String = (0..6)
        .map(|i| format!("{}\n", f.docs[i].1[500..700].trim()))
        .collect();
    let minima = f.run(
        &["--format", "lines", "--ordered", "--seeds", "minima"],
        &input,
    );
    let all = f.run(
        &["--format", "lines", "--ordered", "--seeds", "all"],
        &input,
    );
    assert_eq!(code(&minima), 0, "{}", stderr(&minima));
    assert_eq!(lines(&minima).len(), 6);
    assert_eq!(lines(&minima), lines(&all));
    let bad = f.run(&["--format", "lines", "--seeds", "some"], &input);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("--seeds"), "{}", stderr(&bad));
}

#[test]
fn malformed_jsonl_line_is_reported_and_skipped() {
    let f = Fixture::new();
    let q = |i: usize| f.docs[i].1[200..400].trim().to_owned();
    let input = format!(
        "{}\n{{\"id\": 2, \"text\": \n{}\n[1,2]\n{}\n",
        post(1, &q(0)),
        post(3, &q(1)),
        post(5, &q(2))
    );
    std::fs::write(f.path("posts.jsonl"), &input).unwrap();
    let out = f.run(&["posts.jsonl"], "");
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("posts.jsonl") && err.contains("line 2"),
        "{err}"
    );
    assert!(err.contains("line 4"), "{err}");
    let ids: BTreeSet<u64> = lines(&out)
        .iter()
        .map(|v| v["query"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from([1, 3, 5]));
}

/// 300 posts: quotes of the filler documents, mixed with unrelated posts.
fn many_posts(f: &Fixture) -> String {
    let mut rng = common::Rng(5);
    let mut s = String::new();
    for id in 0..300 {
        if id % 3 == 2 {
            let t = common::prose(&mut rng, 120);
            s += &serde_json::json!({"id": id, "text": t}).to_string();
        } else {
            let (_, text) = &f.docs[rng.below(f.docs.len() as u64) as usize];
            let start = rng.below(text.len() as u64 - 400) as usize;
            let start = (start..).find(|&i| text.is_char_boundary(i)).unwrap();
            let end = (start + 150..).find(|&i| text.is_char_boundary(i)).unwrap();
            s += &post(id, &text[start..end]);
        }
        s.push('\n');
    }
    s
}

#[test]
fn thread_count_and_order() {
    let f = Fixture::new();
    let input = many_posts(&f);
    let run = |args: &[&str]| {
        let out = f.run(args, &input);
        assert!(code(&out) == 0, "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let one = run(&["--threads", "1"]);
    let four = run(&["--threads", "4"]);
    let one_ordered = run(&["--threads", "1", "--ordered"]);
    let four_ordered = run(&["--threads", "4", "--ordered"]);
    let loaded = run(&["--threads", "4", "--ordered", "--load"]);
    assert_eq!(
        loaded, four_ordered,
        "an index read into memory matches the same"
    );
    let set = |s: &str| s.lines().map(str::to_owned).collect::<BTreeSet<_>>();
    assert!(one.lines().count() >= 150, "{one}");
    assert_eq!(set(&one), set(&four));
    assert_eq!(one_ordered, four_ordered);
    assert_eq!(set(&one), set(&four_ordered));
    // Ordered output follows the input order.
    let ids: Vec<u64> = four_ordered
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["query"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "{ids:?}");
}

#[test]
fn files_and_folders() {
    let f = Fixture::new();
    let q = f.path("q");
    std::fs::create_dir_all(q.join("sub")).unwrap();
    // An identical copy of an indexed file.
    std::fs::copy(f.path("dump/doc05.txt"), q.join("copy.txt")).unwrap();
    // Half of the big file followed by new text: shares many chunks.
    let big = std::fs::read_to_string(f.path("dump/big.txt")).unwrap();
    let cut = (200_000..).find(|&i| big.is_char_boundary(i)).unwrap();
    let mut rng = common::Rng(999);
    let mixed = format!("{}{}", &big[..cut], common::prose(&mut rng, 100_000));
    std::fs::write(q.join("sub/mixed.txt"), &mixed).unwrap();
    // Unrelated binary bytes.
    let noise: Vec<u8> = (0..5000).map(|_| rng.next() as u8).collect();
    std::fs::write(q.join("sub/noise.bin"), noise).unwrap();

    let check = |out: &Output, copy: &str, mixed: &str| {
        assert_eq!(code(out), 0, "{}", stderr(out));
        let got = lines(out);
        let file = |query: &str| -> Vec<&Value> {
            got.iter()
                .filter(|v| v["kind"] == "file" && v["query"] == query)
                .collect()
        };
        let c = file(copy);
        assert_eq!(c.len(), 1, "{got:?}");
        assert_eq!(c[0]["source"], "dump/doc05.txt");
        assert_eq!(c[0]["identical"], true);
        let m = file(mixed);
        assert_eq!(m.len(), 1, "{got:?}");
        assert_eq!(m[0]["source"], "dump/big.txt");
        assert_eq!(m[0]["identical"], false);
        let shared = m[0]["shared_chunks"].as_u64().unwrap();
        let total = m[0]["query_chunks"].as_u64().unwrap();
        assert!(shared >= 3 && shared < total, "{shared} of {total}");
        assert!(m[0]["shared_bytes"].as_u64().unwrap() >= 100_000);
        // The text is matched too.
        assert!(got
            .iter()
            .any(|v| v["kind"] == "text" && v["query"] == copy && v["source"] == "dump/doc05.txt"));
        assert!(got
            .iter()
            .any(|v| v["kind"] == "text" && v["query"] == mixed && v["source"] == "dump/big.txt"));
        assert!(!got
            .iter()
            .any(|v| v["query"].as_str().is_some_and(|q| q.contains("noise"))));
    };
    // A folder argument: every file, recursively, as --format file.
    let out = f.run(&["--threads", "2", "q"], "");
    check(&out, "q/copy.txt", "q/sub/mixed.txt");
    // Files with --format file.
    let out = f.run(&["--format", "file", "q/copy.txt", "q/sub/mixed.txt"], "");
    check(&out, "q/copy.txt", "q/sub/mixed.txt");
    // Nothing matches in the noise alone.
    let out = f.run(&["--format", "file", "q/sub/noise.bin"], "");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
}

#[test]
fn pretty_view() {
    let f = Fixture::new();
    let path = format!("{OCR}/page2.tsv");
    let out = f.run(&["--pretty", &path], "");
    assert_eq!(code(&out), 0);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("dump/mail/2.txt") && text.contains("vendor invoice"),
        "{text}"
    );
    assert!(serde_json::from_str::<Value>(text.lines().next().unwrap()).is_err());
}

/// `leakprint match ... | head -1`: the reader goes away after one line.
#[test]
fn closed_stdout_pipe_is_quiet() {
    let f = Fixture::new();
    let quote = f.docs[4].1[300..500].trim().to_owned();
    let input: String = (0..20_000).map(|i| post(i, &quote) + "\n").collect();
    let posts = f.path("posts.jsonl");
    std::fs::write(&posts, input).unwrap();
    let mut child = bin()
        .current_dir(&f.root)
        .args(["match", "--index", "idx", "--threads", "2"])
        .arg(Path::new("posts.jsonl"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    {
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        // Dropping the reader closes the pipe.
    }
    assert!(first.contains("\"source\""), "{first}");
    let out = child.wait_with_output().unwrap();
    assert_eq!(stderr(&out), "");
    assert_eq!(code(&out), 0);
}

/// A live stream (`tail -f posts | leakprint match --line-buffered`): each
/// result comes out while the input is still open.
#[test]
fn live_stream_answers_before_end_of_input() {
    let f = Fixture::new();
    let quote = f.docs[6].1[300..500].trim().to_owned();
    let mut child = bin()
        .current_dir(&f.root)
        .args(["match", "--index", "idx", "--line-buffered"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", post(1, &quote)).unwrap();
    stdin.flush().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut out = BufReader::new(stdout);
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        tx.send(line).unwrap();
        // Drain the rest until the child exits.
        let mut rest = String::new();
        while out.read_line(&mut rest).unwrap_or(0) > 0 {}
    });
    let got = rx.recv_timeout(std::time::Duration::from_secs(60));
    drop(stdin);
    if got.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let line = got.expect("no result while the input was open");
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["query"], 1);
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_query_over_the_size_limit_is_reported_not_cut_silently() {
    let f = Fixture::new();
    let (_, text) = &f.docs[3];
    let quote = text[500..700].trim().to_string();
    // 1.2 MB of text: the quote first, then filler past the 1 MiB limit.
    let big = format!(
        "{quote}\n{}",
        "filler words that match nothing at all. ".repeat(30_000)
    );
    let path = f.root.join("big.txt");
    std::fs::write(&path, &big).unwrap();
    let out = f.run(&["--format", "text", "big.txt"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(lines(&out).len(), 1);
    let err = stderr(&out);
    assert!(
        err.contains("big.txt") && err.contains("only the first"),
        "{err}"
    );
}

/// A file whose name is not UTF-8 (Latin-1 `résumé`, as on an old Windows
/// share) is named exactly, escaped, and decoded for people beside it; a
/// file that differs only in those bytes stays apart.
#[cfg(unix)]
#[test]
fn non_utf8_names_are_exact_and_decoded() {
    use std::os::unix::ffi::OsStrExt;
    let d = tempfile::tempdir().unwrap();
    let dump = d.path().join("dump");
    std::fs::create_dir_all(&dump).unwrap();
    let text = "The quarterly numbers for the studio were confidential and should not \
                be shared with anyone outside the finance team until the board approved them.";
    let other = "Completely different words about the harbor schedule, the ferry \
                 timetable and the lighthouse keepers who retired in the spring of that year.";
    std::fs::write(
        dump.join(std::ffi::OsStr::from_bytes(b"r\xe9sum\xe9.txt")),
        text,
    )
    .unwrap();
    std::fs::write(
        dump.join(std::ffi::OsStr::from_bytes(b"r\xe8sum\xe8.txt")),
        other,
    )
    .unwrap();
    let idx = d.path().join("idx");
    let out = bin()
        .arg("index")
        .arg(&dump)
        .arg("--output")
        .arg(&idx)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = common::match_stdin(
        &idx,
        &[],
        b"numbers for the studio were confidential and should not be shared with anyone outside the finance team",
    );
    let got = lines(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    let source = got[0]["source"].as_str().unwrap();
    assert!(source.ends_with("/r\\xE9sum\\xE9.txt"), "{source}");
    let decoded = got[0]["source_decoded"].as_str().unwrap();
    assert!(decoded.ends_with("/résumé.txt"), "{decoded}");
    // The exact bytes come back from the escaped form.
    let name = source.rsplit('/').next().unwrap();
    assert_eq!(
        leakprint::names::parse_display(name).unwrap(),
        b"r\xe9sum\xe9.txt"
    );
}

/// Real tesseract output of a screenshot (CER 15.7%, `corpus/queries`):
/// as TSV it is matched with the seeds that survive OCR errors and found in
/// its source mail; with `--ocr-seeds minima`, or as plain text (posts keep
/// the window-minima seeds), nothing is found.
#[test]
fn ocr_tsv_is_matched_with_tolerant_seeds() {
    let root = env!("CARGO_MANIFEST_DIR");
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let out = bin()
        .current_dir(root)
        .args(["index", "corpus/dump", "-q", "-o"])
        .arg(&idx)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let tsv = "corpus/queries/ocr/ocr-0082.tsv";
    let run = |args: &[&str]| {
        bin()
            .current_dir(root)
            .arg("match")
            .arg("--index")
            .arg(&idx)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--format", "tsv", tsv]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["source"], "corpus/dump/mail/synthetic/0212.txt");
    assert!(got[0]["boxes"].as_array().is_some_and(|b| b.len() >= 10));
    // The truth's span of the passage (`ocr.jsonl`): 1441..1588 of the
    // file; the part's text puts a header summary first, so compare loosely.
    let s = span(&got[0], "source_span");
    assert!(s.start < 1588 && s.end > 1441 - 100, "{s:?}");
    let out = run(&["--format", "tsv", "--ocr-seeds", "minima", tsv]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(lines(&out).is_empty());
    // The same words as a text query: posts are matched as before.
    let words: String = std::fs::read_to_string(format!("{root}/{tsv}"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(11).map(str::to_owned))
        .filter(|w| !w.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let text = tmp.path().join("ocr.txt");
    std::fs::write(&text, &words).unwrap();
    let out = run(&["--format", "text", text.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{words}: {}", stderr(&out));
}

/// `--every-source` through the binary: a quote of a whole mail passage is
/// reported in that mail only by default, and also in the replies that
/// repeat one of its sentences with the flag (`MatchConfigBuilder::
/// every_source`; the library test `texts_sharing_one_sentence_...` says
/// why).
#[test]
fn every_source_also_reports_texts_sharing_a_sentence() {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("dump");
    std::fs::create_dir_all(&dump).unwrap();
    let middle = "The insurance carrier refused to cover the stunt sequence unless the second unit is replaced.";
    let passage = format!(
        "Before the board meets on Thursday we need the revised budget for the Lisbon shoot in writing. \
         {middle} Nobody outside this thread should see the numbers until the studio chief signs them."
    );
    let mut rng = common::Rng(5);
    // The mail, four replies that repeat its middle sentence, filler.
    let mut files = vec![("original.txt".to_string(), passage.clone(), 900)];
    files.extend((0..4).map(|i| (format!("reply-{i}.txt"), format!("> {middle}"), 700)));
    for (name, inner, around) in files {
        let (before, after) = (
            common::prose(&mut rng, around),
            common::prose(&mut rng, around),
        );
        std::fs::write(dump.join(name), format!("{before}\n{inner}\n{after}")).unwrap();
    }
    for i in 0..10 {
        std::fs::write(
            dump.join(format!("filler-{i}.txt")),
            common::prose(&mut rng, 2000),
        )
        .unwrap();
    }
    let out = bin()
        .current_dir(tmp.path())
        .args(["index", "dump", "-o", "idx", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let post = format!("{{\"id\": 1, \"text\": \"leaked: {passage}\"}}\n");
    let sources = |extra: &[&str]| {
        let mut args = vec!["--format", "jsonl"];
        args.extend_from_slice(extra);
        let out = common::match_stdin(&tmp.path().join("idx"), &args, post.as_bytes());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: Vec<String> = common::json_lines(&out)
            .iter()
            .map(|m| {
                m["source"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(sources(&[]), ["original.txt"]);
    assert_eq!(
        sources(&["--every-source"]),
        [
            "original.txt",
            "reply-0.txt",
            "reply-1.txt",
            "reply-2.txt",
            "reply-3.txt"
        ]
    );
}
