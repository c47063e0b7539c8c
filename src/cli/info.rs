//! `leakprint info` and `leakprint verify`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use leakprint::index::Index;
use serde_json::json;

use super::human_bytes;

#[derive(Args)]
pub struct InfoArgs {
    /// The index folder or segment file.
    index: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// List every input file with its status, counts and reason (the manifest).
    #[arg(long)]
    files: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The index folder or segment file.
    index: PathBuf,
}

pub fn run(a: InfoArgs) -> anyhow::Result<ExitCode> {
    let index = Index::open(&a.index)?;
    let out = std::io::stdout();
    let mut out = out.lock();
    if a.files {
        let dead: std::collections::HashMap<(String, u32), &leakprint::index::state::DeadFile> =
            index
                .state()
                .map(|st| {
                    st.dead
                        .iter()
                        .map(|d| ((d.segment.clone(), d.file), d))
                        .collect()
                })
                .unwrap_or_default();
        for (si, seg) in index.segments().iter().enumerate() {
            let seg_name = index.segment_paths()[si]
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            for i in 0..seg.file_count() {
                let f = seg.file(i)?;
                let d = dead.get(&(seg_name.clone(), i));
                let state = d.map_or("live", |d| d.kind.name());
                let mut parts = Vec::new();
                for p in f.parts.clone() {
                    let pi = seg.part(p)?;
                    let dup = match pi.duplicate {
                        leakprint::index::wire::Duplicate::None => None,
                        leakprint::index::wire::Duplicate::Local(o) => Some(seg.part_path(o)?),
                        leakprint::index::wire::Duplicate::External => {
                            Some("(an earlier segment)".to_string())
                        }
                    };
                    parts.push(json!({
                        "name": pi.name, "format": pi.format.name(), "text_bytes": pi.text_len,
                        "normalized": pi.norm_len, "fingerprints": pi.fingerprints,
                        "duplicate_of": dup,
                    }));
                }
                let path = f.path();
                let mut v = json!({
                    "path": path, "status": f.status.name(), "state": state,
                    "format": f.format.map(|x| x.name()),
                    "bytes": f.size, "blake3": hex(&f.blake3), "text_bytes": f.text_bytes,
                    "fingerprints": f.fingerprints, "chunks": f.chunks, "reason": f.reason, "parts": parts,
                    "segment": seg_name,
                });
                if let Some(d) = d {
                    v["dead_since_generation"] = json!(d.generation);
                }
                if let Some(dec) = leakprint::names::decoded_guess(f.path_bytes) {
                    v["path_decoded"] = json!(dec);
                    v["path_escaped"] = json!(true);
                }
                if a.json {
                    writeln!(out, "{v}")?;
                } else {
                    let fmt = f.format.map_or("-", |x| x.name());
                    let reason = if f.reason.is_empty() {
                        String::new()
                    } else {
                        format!("  ({})", f.reason)
                    };
                    let shown_state = if state == "live" {
                        String::new()
                    } else {
                        format!("[{state}] ")
                    };
                    writeln!(
                        out,
                        "{:<8} {:<7} {:>10} {:>4} parts  {}{}{}",
                        f.status.name(),
                        fmt,
                        f.size,
                        f.parts.len(),
                        shown_state,
                        path,
                        reason
                    )?;
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let t = index.totals();
    let p = index.params();
    let mut sections = serde_json::Map::new();
    for seg in index.segments() {
        for (k, n) in seg.section_sizes() {
            let e = sections.entry(k.name().to_string()).or_insert(json!(0));
            *e = json!(e.as_u64().unwrap_or(0) + n);
        }
    }
    if a.json {
        let v = json!({
            "params": {"k": p.k, "w": p.w, "seed": p.seed, "normalization": p.norm_version, "guarantee": p.guarantee()},
            "totals": t,
            "segments": index.segment_paths(),
            "section_bytes": sections,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(out, "index        {}", a.index.display())?;
        writeln!(out, "parameters   k={} w={} (every shared run of >= {} normalized bytes is found) seed={:#x} normalization v{}", p.k, p.w, p.guarantee(), p.seed, p.norm_version)?;
        writeln!(out, "segments     {}", t.segments)?;
        writeln!(out, "files        {}", t.files)?;
        writeln!(out, "parts        {}", t.parts)?;
        writeln!(
            out,
            "text         {} ({} normalized)",
            human_bytes(t.text_bytes),
            human_bytes(t.norm_bytes)
        )?;
        writeln!(
            out,
            "fingerprints {} postings, {} common",
            t.postings, t.common
        )?;
        writeln!(out, "chunks       {}", t.chunks)?;
        let ratio = t.index_bytes as f64 / t.text_bytes.max(1) as f64;
        writeln!(
            out,
            "index size   {} ({ratio:.2}x the text)",
            human_bytes(t.index_bytes)
        )?;
        for (k, n) in &sections {
            let n = n.as_u64().unwrap_or(0);
            writeln!(
                out,
                "  {:<22} {:>12}  {:.3}x",
                k,
                human_bytes(n),
                n as f64 / t.text_bytes.max(1) as f64
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn verify(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let index = Index::open(&a.index)?;
    index.verify()?;
    let t = index.totals();
    eprintln!(
        "ok: {} segment(s), {} files, {} parts, every checksum and structure verified",
        t.segments, t.files, t.parts
    );
    Ok(ExitCode::SUCCESS)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
