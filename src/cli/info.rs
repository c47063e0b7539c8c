//! `leakprint info` and `leakprint verify`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use leakprint::index::Index;

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
        for f in leakprint::query::describe::files(&index) {
            let f = f?;
            if a.json {
                writeln!(out, "{}", serde_json::to_string(&f)?)?;
            } else {
                let fmt = f.format.unwrap_or("-");
                let reason = if f.reason.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", f.reason)
                };
                let state = if f.state == "live" {
                    String::new()
                } else {
                    format!("[{}] ", f.state)
                };
                writeln!(
                    out,
                    "{:<8} {:<7} {:>10} {:>4} parts  {state}{}{reason}",
                    f.status,
                    fmt,
                    f.bytes,
                    f.parts.len(),
                    f.path,
                )?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let t = index.totals();
    let p = index.params();
    let described = leakprint::query::describe::info(&index);
    let sections = &described.section_bytes;
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&described)?)?;
    } else {
        writeln!(out, "index        {}", a.index.display())?;
        writeln!(out, "parameters   k={} w={} (every shared run of >= {} normalized bytes is found) seed={:#x} normalization v{}", p.k, p.w, p.guarantee(), p.seed, p.norm_version)?;
        // Format versions of the segments (an index grown across releases
        // may mix them; `compact` rewrites all in the current one).
        let mut versions: Vec<u32> = index
            .segments()
            .iter()
            .map(|s| s.header().version)
            .collect();
        versions.sort_unstable();
        versions.dedup();
        let versions: Vec<String> = versions.iter().map(u32::to_string).collect();
        writeln!(
            out,
            "segments     {} (format {})",
            t.segments,
            versions.join(", ")
        )?;
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
        for (k, &n) in sections {
            writeln!(
                out,
                "  {:<22} {:>12}  {:.3}x",
                k,
                human_bytes(n),
                n as f64 / t.text_bytes.max(1) as f64
            )?;
        }
        if described.shards.len() > 1 {
            writeln!(
                out,
                "shards       {} by key (each: all the text, its keys' postings)",
                described.shards.len()
            )?;
            for s in &described.shards {
                writeln!(
                    out,
                    "  {:<22} {:>12}  {} postings, lookups {}",
                    s.folder
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                    human_bytes(s.bytes),
                    s.postings,
                    human_bytes(s.lookup_bytes),
                )?;
            }
        }
        let mm = &described.matcher_memory;
        writeln!(
            out,
            "matcher mem  {} for the whole index in one process; {} per shard on its own machine; text {} read on demand",
            human_bytes(mm.whole),
            human_bytes(mm.per_shard),
            human_bytes(mm.text_on_demand)
        )?;
        writeln!(
            out,
            "loaded       {} of anonymous memory holds every segment with `match --load` or `serve --load` (instead of pages of the mapping)",
            human_bytes(t.index_bytes)
        )?;
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
