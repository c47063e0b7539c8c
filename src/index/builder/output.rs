//! The index folder: the names of segments and temporary files, the check
//! of an output folder before a build, and the removal of files no
//! manifest names (what a failed build left, the files a new generation
//! replaced).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::index::manifest::{Manifest, MANIFEST_NAME};
use crate::index::IndexError;

use super::shards;

/// File name of segment `n` (1, 2, ...) written by generation `generation`.
pub(super) fn segment_name(generation: u64, n: u64) -> String {
    format!("seg-{generation:06}-{n:03}.lps")
}

/// A temporary file name unique in this process: `.tmp-<pid>-<n>-<what>`.
pub(crate) fn temp_name(dir: &Path, what: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".tmp-{}-{n}-{what}", std::process::id()))
}

/// Check the output path; return the existing manifest if there is one.
pub(super) fn prepare_output(output: &Path) -> Result<Option<Manifest>, IndexError> {
    match std::fs::metadata(output) {
        Ok(m) if m.is_dir() => {
            if output.join(MANIFEST_NAME).exists() {
                Manifest::read(output).map(Some)
            } else {
                // An empty folder, or one that holds only what a first build
                // interrupted before its manifest leaves (temporary files,
                // segments and state files no manifest names): start afresh.
                let names: Vec<(PathBuf, String)> = std::fs::read_dir(output)
                    .map_err(|e| IndexError::io(output, e))?
                    .map(|e| {
                        let e = e.map_err(|err| IndexError::io(output, err))?;
                        Ok((e.path(), e.file_name().to_string_lossy().into_owned()))
                    })
                    .collect::<Result<_, IndexError>>()?;
                if names.iter().all(|(_, n)| is_build_leftover(n)) {
                    for (path, _) in &names {
                        std::fs::remove_file(path).map_err(|e| IndexError::io(path, e))?;
                    }
                    Ok(None)
                } else {
                    Err(IndexError::NotAnIndex {
                        path: output.to_path_buf(),
                    })
                }
            }
        }
        Ok(_) => Err(IndexError::NotAnIndex {
            path: output.to_path_buf(),
        }),
        Err(_) => {
            let parent = output
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if !parent.is_dir() {
                return Err(IndexError::MissingOutputDir {
                    path: parent.to_path_buf(),
                });
            }
            std::fs::create_dir(output).map_err(|e| IndexError::io(output, e))?;
            Ok(None)
        }
    }
}

/// Whether a file name is one an index build writes before its manifest:
/// a temporary file, a segment, a piece's key counts or a state file.
fn is_build_leftover(name: &str) -> bool {
    name.starts_with(".tmp-")
        || (name.starts_with("seg-") && (name.ends_with(".lps") || name.ends_with(".lpk")))
        || (name.starts_with("state-") && name.ends_with(".lpst"))
}

/// Remove segment and state files, shard folders and leftovers the
/// manifest does not name.
pub(super) fn remove_unlisted(dir: &Path, m: &Manifest) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for ent in rd.flatten() {
        let name = ent.file_name().to_string_lossy().to_string();
        if shards::is_shard_folder(&name) && !m.shards.contains(&name) {
            let _ = std::fs::remove_dir_all(ent.path());
            continue;
        }
        let named =
            m.segments.iter().any(|s| s.file == name) || m.state.as_deref() == Some(name.as_str());
        if is_build_leftover(&name) && !named {
            let _ = std::fs::remove_file(ent.path());
        }
    }
}
