//! PDF and legacy Office files read in a worker process (`Isolation`):
//! the same results as in-process extraction, and a deflate bomb, a hung
//! worker, a crashing worker or a missing worker program each cost one file
//! with a reason, never the run.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use leakprint::extract::{extract, ExtractLimits, Isolation};

use common::{extract_fixture as fixture, reasons};

/// The `leakprint` binary as the worker, with a memory cap.
fn worker(max_memory: u64) -> ExtractLimits {
    let mut iso = Isolation::new(
        env!("CARGO_BIN_EXE_leakprint"),
        vec!["extract-worker".into()],
    );
    iso.max_memory = max_memory;
    ExtractLimits {
        isolation: Some(iso),
        ..ExtractLimits::default()
    }
}

/// A one-page PDF whose content stream is `content`, deflated.
fn pdf_with_stream(deflated: &[u8]) -> Vec<u8> {
    let objs: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
           /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_vec(),
        [
            format!(
                "<< /Length {} /Filter /FlateDecode >>\nstream\n",
                deflated.len()
            )
            .as_bytes(),
            deflated,
            b"\nendstream",
        ]
        .concat(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(o);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn deflate(parts: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for p in parts {
        z.write_all(&p).unwrap();
    }
    z.finish().unwrap()
}

#[test]
fn worker_gives_the_same_parts_as_in_process() {
    for f in [
        "office/declaration.pdf",
        "office/declaration-restricted.pdf",
        "office/declaration-password.pdf",
        "office/budget.xls",
    ] {
        let bytes = fixture(f);
        let here = extract(&bytes, f, &ExtractLimits::default());
        let there = extract(&bytes, f, &worker(Isolation::DEFAULT_MAX_MEMORY));
        assert_eq!(here, there, "{f}");
    }
    // A small PDF built here, with text.
    let pdf = pdf_with_stream(&deflate([
        b"BT /F1 12 Tf 72 700 Td (The quarterly numbers look weak) Tj ET".to_vec(),
    ]));
    let there = extract(&pdf, "n.pdf", &worker(Isolation::DEFAULT_MAX_MEMORY));
    assert!(
        there.parts[0].text.contains("quarterly numbers look weak"),
        "{there:#?}"
    );
    assert_eq!(there, extract(&pdf, "n.pdf", &ExtractLimits::default()));
}

#[test]
fn pdf_deflate_bomb_hits_the_worker_memory_cap() {
    // 1 MB of deflate that inflates to 1 GiB of spaces in a content stream.
    let mut parts = vec![b"BT /F1 12 Tf 72 700 Td (bomb) Tj ET\n".to_vec()];
    parts.extend((0..1024).map(|_| vec![b' '; 1 << 20]));
    let pdf = pdf_with_stream(&deflate(parts));
    assert!(pdf.len() < 2 << 20);
    let x = extract(&pdf, "bomb.pdf", &worker(256 << 20));
    let r = reasons(&x);
    assert!(x.parts.iter().all(|p| p.text.is_empty()), "{x:#?}");
    assert!(
        r.contains("PDF not read") && r.contains("memory cap (256 MiB)"),
        "{r}"
    );
}

#[test]
fn hung_crashing_and_missing_workers_cost_one_file() {
    let pdf = fixture("office/declaration.pdf");
    let with = |program: &str, args: &[&str], timeout: Duration| {
        let mut iso = Isolation::new(program, args.iter().map(|a| a.into()).collect());
        iso.timeout = timeout;
        ExtractLimits {
            isolation: Some(iso),
            ..ExtractLimits::default()
        }
    };
    // Hung: killed at the deadline.
    let t = Instant::now();
    let x = extract(
        &pdf,
        "d.pdf",
        &with("sh", &["-c", "exec sleep 30"], Duration::from_secs(1)),
    );
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    assert!(
        reasons(&x).contains("longer than 1 s (killed)"),
        "{}",
        reasons(&x)
    );
    // Crashing.
    let x = extract(
        &pdf,
        "d.pdf",
        &with("sh", &["-c", "kill -SEGV $$"], Duration::from_secs(30)),
    );
    assert!(reasons(&x).contains("signal 11"), "{}", reasons(&x));
    // Answering garbage.
    let x = extract(
        &pdf,
        "d.pdf",
        &with(
            "sh",
            &["-c", "cat >/dev/null; echo nonsense"],
            Duration::from_secs(30),
        ),
    );
    assert!(
        reasons(&x).contains("answer is not valid"),
        "{}",
        reasons(&x)
    );
    // Missing.
    let x = extract(
        &pdf,
        "d.pdf",
        &with("/nonexistent/worker", &[], Duration::from_secs(30)),
    );
    assert!(
        reasons(&x).contains("cannot start the extraction worker"),
        "{}",
        reasons(&x)
    );
    assert!(reasons(&x).contains("kept as binary"), "{}", reasons(&x));
}

#[test]
fn index_isolates_by_default_and_goes_on() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let mut parts = vec![b"BT /F1 12 Tf 72 700 Td (bomb) Tj ET\n".to_vec()];
    parts.extend((0..1024).map(|_| vec![b' '; 1 << 20]));
    std::fs::write(src.join("bomb.pdf"), pdf_with_stream(&deflate(parts))).unwrap();
    std::fs::write(src.join("decl.pdf"), fixture("office/declaration.pdf")).unwrap();
    std::fs::write(src.join("budget.xls"), fixture("office/budget.xls")).unwrap();
    let out: PathBuf = d.path().join("idx");
    let run = Command::new(env!("CARGO_BIN_EXE_leakprint"))
        .args(["index", "--quiet", "--extract-memory", "256MiB", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let info = Command::new(env!("CARGO_BIN_EXE_leakprint"))
        .args(["info", "--files", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8(info.stdout).unwrap();
    let files: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(text.contains("memory cap (256 MiB)"), "{text}");
    let by_name = |n: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(n)))
            .cloned()
            .unwrap_or_else(|| panic!("{n} not in {text}"))
    };
    assert_eq!(by_name("decl.pdf")["format"], "pdf", "{text}");
    assert_eq!(by_name("budget.xls")["format"], "xls", "{text}");
    assert_eq!(by_name("bomb.pdf")["format"], "binary", "{text}");
}
