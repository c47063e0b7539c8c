//! Print the normalized form of each argument and its content weight in
//! Latin letters: a debugging aid for the normalization of other scripts.
//!
//! `cargo run --release --example normalize_text -- TEXT...`
//!
//! With `--weights` it reads one JSON string per line from stdin and writes
//! the content weight of each, in Latin letters, one per line (flushed after
//! each): the unit the query generators (`scripts/querylib.py`) label
//! quotes with, so that "as much content as 50 Latin letters" is counted as
//! the matcher counts `min_len`.

use std::io::{BufRead, Write};

fn letters(text: &str) -> (f64, String) {
    let n = leakprint::normalize::normalize(text);
    let w = leakprint::normalize::content_weight(&n.text) as f64
        / f64::from(leakprint::normalize::WEIGHT_UNIT);
    (w, n.text)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--weights") {
        let stdin = std::io::stdin();
        let mut out = std::io::stdout().lock();
        for line in stdin.lock().lines() {
            let line = line.expect("stdin");
            let text: String = serde_json::from_str(&line).unwrap_or_else(|e| {
                eprintln!("normalize_text: not a JSON string ({e}): {line}");
                std::process::exit(2)
            });
            writeln!(out, "{}", letters(&text).0).expect("stdout");
            out.flush().expect("stdout");
        }
        return;
    }
    for a in args {
        let (w, text) = letters(&a);
        println!("{w:6.1} {text}");
    }
}
