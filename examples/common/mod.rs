//! What several examples share: reading a sample of text from folders.

use std::path::{Path, PathBuf};

/// Every file under `p` (itself if it is a file), in sorted order.
pub fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut e: Vec<PathBuf> = std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        e.sort();
        for q in &e {
            walk(q, out);
        }
    } else {
        out.push(p.to_path_buf());
    }
}

/// The files under `inputs`, one in `stride`, concatenated up to
/// `max_bytes`; also the number of files found. Unreadable files are
/// left out.
pub fn read_text(inputs: &[PathBuf], stride: usize, max_bytes: usize) -> (Vec<u8>, usize) {
    let mut files = Vec::new();
    for p in inputs {
        walk(p, &mut files);
    }
    let mut text = Vec::new();
    for f in files.iter().step_by(stride.max(1)) {
        if text.len() >= max_bytes {
            break;
        }
        if let Ok(b) = std::fs::read(f) {
            text.extend_from_slice(&b[..b.len().min(max_bytes - text.len())]);
        }
    }
    (text, files.len())
}
