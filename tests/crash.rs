//! Crash tests that reach the fault (issue 11.6): a real `leakprint index`
//! (new index, append) or `leakprint remove` run is aborted at every crash
//! point of the publish sequence
//! (`leakprint::failpoint::POINTS`: segment, state file and manifest, each
//! before and after its commit), for a new index and for an append. After
//! each crash the index must be exactly the old one or exactly the new one
//! (by its file list and by what it matches), `verify` must pass, and the
//! next run must succeed and leave no stray file behind.
//!
//! `abort` runs no destructors, so temporary files stay behind as after a
//! power cut; the sequence is deterministic, unlike a SIGKILL at a random
//! moment.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use leakprint::failpoint;

mod common;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leakprint"))
}

/// Writes `n` documents of distinct text named `{prefix}-{i}.txt`.
fn dump(dir: &Path, prefix: &str, n: usize) -> PathBuf {
    let d = dir.join(prefix);
    std::fs::create_dir_all(&d).unwrap();
    for i in 0..n {
        std::fs::write(d.join(format!("{prefix}-{i}.txt")), text(prefix, i)).unwrap();
    }
    d
}

/// Seeded prose, by the prefix and the document: no two documents share
/// a run of words as long as a quote.
fn text(prefix: &str, i: usize) -> String {
    let seed = prefix.bytes().fold(i as u64, |h, b| {
        h.wrapping_mul(131).wrapping_add(u64::from(b))
    });
    common::prose(&mut common::Rng(seed), 2400)
}

/// A quote of about 150 characters from document 0 of `prefix`.
fn quote(prefix: &str) -> String {
    text(prefix, 0)[200..350].to_string()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run leakprint")
}

/// The indexed file names (last path component), from `info --files --json`.
fn files(idx: &Path) -> BTreeSet<String> {
    let out = run(bin().arg("info").arg(idx).args(["--files", "--json"]));
    assert!(
        out.status.success(),
        "info: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"path\""))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let p = v["path"].as_str().unwrap().to_string();
            p.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

/// Whether the index finds the quote.
fn finds(idx: &Path, q: &str) -> bool {
    let out = common::match_stdin(idx, &[], q.as_bytes());
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!("match failed: {}", String::from_utf8_lossy(&out.stderr)),
    }
}

fn verify_ok(idx: &Path) {
    let out = run(bin().arg("verify").arg(idx));
    assert!(
        out.status.success(),
        "verify after a crash: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file of the index folder is the manifest or named by it.
fn no_stray_files(idx: &Path) {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(idx.join("manifest.json")).unwrap()).unwrap();
    let mut named: BTreeSet<String> = m["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap().to_string())
        .collect();
    named.insert("manifest.json".into());
    if let Some(s) = m["state"].as_str() {
        named.insert(s.to_string());
    }
    let present: BTreeSet<String> = std::fs::read_dir(idx)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    let stray: Vec<&String> = present.difference(&named).collect();
    assert!(
        stray.is_empty(),
        "stray files after the next run: {stray:?}"
    );
}

fn crashed(out: &Output, point: &str) {
    assert!(
        !out.status.success(),
        "{point}: the run did not stop at the crash point"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("crash point {point} reached")),
        "{point}: not stopped by the crash point: {err}"
    );
}

#[test]
fn a_new_index_is_absent_or_complete_after_a_crash_at_every_point() {
    for &point in failpoint::POINTS {
        let d = tempfile::tempdir().unwrap();
        let a = dump(d.path(), "alpha", 4);
        let idx = d.path().join("idx");
        let out = run(bin()
            .arg("index")
            .arg(&a)
            .arg("--output")
            .arg(&idx)
            .env(failpoint::VAR, point));
        crashed(&out, point);
        let published = idx.join("manifest.json").exists();
        // Only a crash after the manifest's commit may leave an index.
        assert_eq!(
            published,
            point == "manifest-after-commit",
            "{point}: manifest present = {published}"
        );
        if published {
            verify_ok(&idx);
            assert_eq!(files(&idx).len(), 4, "{point}");
            assert!(finds(&idx, &quote("alpha")), "{point}");
        } else {
            // No index: opening it is a clear error, not a panic.
            let out = run(bin().arg("verify").arg(&idx));
            assert_eq!(out.status.code(), Some(2), "{point}");
            assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
        }
        // The next run publishes the index and clears what the crash left.
        let mut cmd = bin();
        cmd.arg("index").arg(&a).arg("--output").arg(&idx);
        if published {
            cmd.arg("--append");
        }
        let out = run(&mut cmd);
        assert!(
            out.status.success(),
            "{point}: rerun: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        verify_ok(&idx);
        assert_eq!(files(&idx).len(), 4, "{point}");
        assert!(finds(&idx, &quote("alpha")), "{point}");
        no_stray_files(&idx);
    }
}

#[test]
fn an_append_is_all_or_nothing_after_a_crash_at_every_point() {
    for &point in failpoint::POINTS {
        let d = tempfile::tempdir().unwrap();
        let a = dump(d.path(), "alpha", 4);
        let b = dump(d.path(), "beta", 3);
        let idx = d.path().join("idx");
        let out = run(bin().arg("index").arg(&a).arg("--output").arg(&idx));
        assert!(out.status.success());
        let old = files(&idx);
        let out = run(bin()
            .arg("index")
            .arg(&b)
            .arg("--output")
            .arg(&idx)
            .arg("--append")
            .env(failpoint::VAR, point));
        crashed(&out, point);
        verify_ok(&idx);
        let now = files(&idx);
        let has_new = finds(&idx, &quote("beta"));
        assert!(
            finds(&idx, &quote("alpha")),
            "{point}: the old content was lost"
        );
        if point == "manifest-after-commit" {
            assert_eq!(now.len(), 7, "{point}: {now:?}");
            assert!(has_new, "{point}");
        } else {
            assert_eq!(now, old, "{point}: half an append is visible");
            assert!(
                !has_new,
                "{point}: the new content is visible before the manifest"
            );
        }
        let out = run(bin()
            .arg("index")
            .arg(&b)
            .arg("--output")
            .arg(&idx)
            .arg("--append"));
        assert!(
            out.status.success(),
            "{point}: rerun: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        verify_ok(&idx);
        assert_eq!(files(&idx).len(), 7, "{point}");
        assert!(finds(&idx, &quote("beta")), "{point}");
        no_stray_files(&idx);
    }
}

/// `leakprint remove` writes a new state file and manifest: aborted at each
/// of their crash points, the file is either still matched (before the
/// manifest's commit) or removed (after it), `verify` passes, and the next
/// `remove` succeeds and leaves no stray file.
#[test]
fn a_removal_is_all_or_nothing_after_a_crash_at_every_point() {
    for &point in failpoint::POINTS
        .iter()
        .filter(|p| !p.starts_with("segment"))
    {
        let d = tempfile::tempdir().unwrap();
        let a = dump(d.path(), "alpha", 4);
        let idx = d.path().join("idx");
        let out = run(bin().arg("index").arg(&a).arg("--output").arg(&idx));
        assert!(out.status.success());
        let victim = a.join("alpha-0.txt");
        let out = run(bin()
            .arg("remove")
            .arg(&idx)
            .arg(&victim)
            .env(failpoint::VAR, point));
        crashed(&out, point);
        verify_ok(&idx);
        let still = finds(&idx, &quote("alpha"));
        assert_eq!(
            still,
            point != "manifest-after-commit",
            "{point}: the removal is visible = {}",
            !still
        );
        // The next writer: the same removal when it did not take, another
        // one when it did (removing a removed file is an error that says so).
        let next = if still { victim } else { a.join("alpha-1.txt") };
        let out = run(bin().arg("remove").arg(&idx).arg(&next));
        assert!(
            out.status.success(),
            "{point}: rerun: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        verify_ok(&idx);
        assert!(!finds(&idx, &quote("alpha")), "{point}");
        no_stray_files(&idx);
    }
}
