//! Extraction throughput per format (MB/s of input bytes).
//!
//! What is measured: `leakprint::extract::extract` on one in-memory input
//! per format, default limits, single thread. Inputs:
//! - `text`: git's release notes (`/usr/share/doc/git/RelNotes`, read at
//!   bench time, never committed), or a seeded synthetic text without them;
//! - `html`: the same paragraphs wrapped in `<p>`, with entities, a script
//!   and a style block per 50 paragraphs;
//! - `mbox`: 300 messages built from the committed mail fixtures (an mbox
//!   of real MIME layouts: QP, base64, alternatives, attachments);
//! - `pdf`, `docx`, `xlsx`, `pptx`, `odt`: the small LibreOffice fixtures
//!   (so these figures include per-file overhead: container and XML setup);
//! - `zip`: a ZIP of all the fixtures above;
//! - `doc`, `ppt`: the LibreOffice-made legacy fixtures (1941 State of the
//!   Union address); `msg`, `pst`: the real Outlook fixtures (ruby-msg's
//!   `qwerty_2`, the PST SDK's `sample1.pst` with its JPEG attachment);
//! - `text-gb2312`: the Chinese manual-page text of the charset fixtures,
//!   repeated to about 1 MB and encoded in GB2312 with no label (the cost
//!   of chardetng's detection plus decoding).
//!
//! Compare baselines with `cargo bench --bench extract -- --save-baseline A`
//! then `--baseline A`. Quick run: `cargo bench --bench extract -- --quick`.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakprint::extract::{extract, ExtractLimits};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/data/extract/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// About 1.5 MB of real prose, or a seeded synthetic stand-in.
fn prose() -> String {
    let mut s = String::new();
    if let Ok(dir) = std::fs::read_dir("/usr/share/doc/git/RelNotes") {
        let mut paths: Vec<_> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if let Ok(t) = std::fs::read_to_string(&p) {
                s.push_str(&t);
            }
        }
    }
    if s.is_empty() {
        let words = [
            "budget", "final", "the", "merger", "closes", "on", "Friday", "and", "we", "agreed",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..250_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(words[(x % 10) as usize]);
            s.push(if i % 12 == 11 { '\n' } else { ' ' });
        }
    }
    s
}

fn html_of(text: &str) -> String {
    let mut h = String::from("<!DOCTYPE html><html><head><title>Notes</title></head><body>\n");
    for (i, para) in text.split("\n\n").enumerate() {
        if i % 50 == 0 {
            h.push_str(
                "<script>var x = '<p>not text</p>';</script><style>p { margin: 0 }</style>\n",
            );
        }
        h.push_str("<p>");
        h.push_str(
            &para
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
        );
        h.push_str("</p>\n");
    }
    h.push_str("</body></html>\n");
    h
}

fn mbox() -> Vec<u8> {
    let dir = format!("{}/tests/data/extract/mail", env!("CARGO_MANIFEST_DIR"));
    let mut mails: Vec<Vec<u8>> = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("mail fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for p in paths {
        if p.extension().is_some_and(|e| e == "eml") {
            mails.push(std::fs::read(&p).expect("read"));
        }
    }
    let mut out = Vec::new();
    for i in 0..300 {
        out.extend_from_slice(b"From bench@example.com Mon Jan  1 00:00:00 2001\n");
        for line in mails[i % mails.len()].split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        out.extend_from_slice(b"\n");
    }
    out
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

fn bench(c: &mut Criterion) {
    let text = prose();
    let html = html_of(&text);
    let mbox = mbox();
    let pdf = fixture("office/declaration.pdf");
    let docx = fixture("office/declaration.docx");
    let xlsx = fixture("office/budget.xlsx");
    let pptx = fixture("office/slides.pptx");
    let odt = fixture("office/declaration.odt");
    let zip = zip_of(&[
        ("a.txt", text.as_bytes()),
        ("b.html", html.as_bytes()),
        ("c.mbox", &mbox),
        ("d.pdf", &pdf),
        ("e.docx", &docx),
        ("f.xlsx", &xlsx),
    ]);
    let doc = fixture("legacy/sotu-1941.doc");
    let ppt = fixture("legacy/sotu-1941.ppt");
    let msg = fixture("outlook/qwerty_2-with_custom_properties.msg");
    let pst = fixture("outlook/sample1.pst");
    let zh = String::from_utf8(fixture("charset/zh_cn.txt")).expect("UTF-8");
    let gb = encoding_rs::GB18030
        .encode(&zh.repeat(1 + (1 << 20) / zh.len()))
        .0
        .into_owned();
    let inputs: [(&str, &str, &[u8]); 15] = [
        ("text", "notes.txt", text.as_bytes()),
        ("html", "notes.html", html.as_bytes()),
        ("mbox", "box.mbox", &mbox),
        ("pdf", "d.pdf", &pdf),
        ("docx", "d.docx", &docx),
        ("xlsx", "b.xlsx", &xlsx),
        ("pptx", "s.pptx", &pptx),
        ("odt", "d.odt", &odt),
        ("zip", "all.zip", &zip),
        ("zip-entries-total", "all.zip", &zip),
        ("doc", "d.doc", &doc),
        ("ppt", "s.ppt", &ppt),
        ("msg", "m.msg", &msg),
        ("pst", "m.pst", &pst),
        ("text-gb2312", "notes.txt", &gb),
    ];
    let limits = ExtractLimits::default();
    let mut g = c.benchmark_group("extract");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    for (label, name, bytes) in inputs {
        if label == "zip-entries-total" {
            // Same work as `zip`, counted in expanded bytes.
            let expanded =
                text.len() + html.len() + mbox.len() + pdf.len() + docx.len() + xlsx.len();
            g.throughput(Throughput::Bytes(expanded as u64));
        } else {
            g.throughput(Throughput::Bytes(bytes.len() as u64));
        }
        g.bench_function(label, |b| {
            b.iter(|| black_box(extract(black_box(bytes), name, &limits)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
