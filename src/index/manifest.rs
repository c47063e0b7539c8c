//! The manifest of an index folder: which segments are live.
//!
//! `manifest.json` is small and human-readable; it is replaced atomically
//! (temporary file, fsync, rename, fsync of the folder) and is the commit
//! point of every build, append and compaction.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{IndexError, Params};
use crate::fileio::AtomicFile;

/// File name of the manifest inside an index folder.
pub const MANIFEST_NAME: &str = "manifest.json";
/// Value of the `format` field.
pub const MANIFEST_FORMAT: &str = "leakprint-index";
/// Version of the manifest layout.
pub const MANIFEST_VERSION: u32 = 1;

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// Manifest layout version.
    pub version: u32,
    /// Parameters shared by every segment.
    pub params: Params,
    /// Increases with every publish; names new segments.
    pub generation: u64,
    /// Live segments, oldest first.
    pub segments: Vec<SegmentEntry>,
}

/// One live segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentEntry {
    /// File name inside the index folder.
    pub file: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Input files it records.
    pub files: u64,
    /// Text parts it holds.
    pub parts: u64,
}

impl Manifest {
    /// Read `dir/manifest.json`.
    ///
    /// # Errors
    /// When it is missing, unreadable or not a leakprint manifest.
    pub fn read(dir: &Path) -> Result<Manifest, IndexError> {
        let path = dir.join(MANIFEST_NAME);
        let bytes = std::fs::read(&path).map_err(|e| IndexError::io(&path, e))?;
        let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| IndexError::Manifest {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        if m.format != MANIFEST_FORMAT || m.version != MANIFEST_VERSION {
            return Err(IndexError::Manifest {
                path,
                detail: format!(
                    "format {:?} version {} is not {MANIFEST_FORMAT} version {MANIFEST_VERSION}",
                    m.format, m.version
                ),
            });
        }
        for s in &m.segments {
            if s.file.contains('/') || s.file.contains('\\') || s.file.starts_with('.') {
                return Err(IndexError::Manifest {
                    path,
                    detail: format!("segment name {:?} is not a plain file name", s.file),
                });
            }
        }
        Ok(m)
    }

    /// Write `dir/manifest.json` atomically.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&self, dir: &Path) -> Result<(), IndexError> {
        let path = dir.join(MANIFEST_NAME);
        let mut f = AtomicFile::create(&path).map_err(|e| IndexError::io(&path, e))?;
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| IndexError::Manifest {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        json.push(b'\n');
        std::io::Write::write_all(&mut f, &json).map_err(|e| IndexError::io(&path, e))?;
        f.commit().map_err(|e| IndexError::io(&path, e))
    }
}
