//! Print the parts leakprint extracts from one file, as JSON lines
//! (`{"name", "text"}`), and what it skipped: a debugging aid for the
//! extraction of a dump's files.
//!
//! `cargo run --release --example extract_dump -- FILE`

use leakprint::extract::{extract, ExtractLimits};

fn main() {
    let path = std::env::args().nth(1).expect("usage: extract_dump FILE");
    let bytes = std::fs::read(&path).expect("read");
    let got = extract(&bytes, &path, &ExtractLimits::default());
    for p in &got.parts {
        println!("{}", serde_json::json!({"name": p.name, "text": p.text}));
    }
    for s in &got.skipped {
        eprintln!("skipped: {s:?}");
    }
}
