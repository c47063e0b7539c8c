//! The manifest of an index folder: which segments and which state file
//! make up the index.
//!
//! `manifest.json` is small and human-readable; it is replaced atomically
//! (temporary file, fsync, rename, fsync of the folder) and is the commit
//! point of every build, append, removal and compaction. Version 2 names
//! the state file (`state`); version 1 manifests (no state, segments of
//! format 1) are refused with a message to rebuild.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{IndexError, Params};
use crate::fileio::AtomicFile;

/// File name of the manifest inside an index folder.
pub const MANIFEST_NAME: &str = "manifest.json";
/// Value of the `format` field.
pub const MANIFEST_FORMAT: &str = "leakprint-index";
/// Version of the manifest layout.
pub const MANIFEST_VERSION: u32 = 2;

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
    /// The state file (frequent keys, dead files) in the index folder.
    #[serde(default)]
    pub state: Option<String>,
    /// A sharded index (`compact --shards N`): the sub-folders holding its
    /// shards, shard 0 first; `segments` is then empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<String>,
    /// In a shard's own folder: which shard of which set it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOf>,
}

/// What a shard's manifest says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardOf {
    /// Its number, from 0.
    pub index: u32,
    /// Shards in the set (a power of two).
    pub count: u32,
    /// The generation of the sharded index that wrote the set.
    pub set: u64,
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
    /// An empty manifest for an index with these parameters.
    pub fn new(params: Params) -> Manifest {
        Manifest {
            format: MANIFEST_FORMAT.into(),
            version: MANIFEST_VERSION,
            params,
            generation: 0,
            segments: Vec::new(),
            state: None,
            shards: Vec::new(),
            shard: None,
        }
    }

    /// Read `dir/manifest.json`.
    ///
    /// # Errors
    /// When it is missing, unreadable or not a leakprint manifest.
    pub fn read(dir: &Path) -> Result<Manifest, IndexError> {
        let path = dir.join(MANIFEST_NAME);
        let bytes = std::fs::read(&path).map_err(|e| IndexError::io(&path, e))?;
        Manifest::parse(&bytes, path)
    }

    /// The manifest of `bytes`, read from `path` (named in errors), checked
    /// as [`Manifest::read`] checks it.
    ///
    /// # Errors
    /// As [`Manifest::read`], but for reading the file.
    pub fn parse(bytes: &[u8], path: PathBuf) -> Result<Manifest, IndexError> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| IndexError::Manifest {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        if m.format != MANIFEST_FORMAT {
            return Err(IndexError::Manifest {
                path,
                detail: format!("format {:?} is not {MANIFEST_FORMAT}", m.format),
            });
        }
        if m.version != MANIFEST_VERSION {
            return Err(IndexError::Manifest {
                path,
                detail: format!(
                    "manifest version {} (this build reads version {MANIFEST_VERSION}): the index was built by another leakprint version; rebuild it (leakprint index ...)",
                    m.version
                ),
            });
        }
        let plain =
            |s: &str| !(s.contains('/') || s.contains('\\') || s.starts_with('.') || s.is_empty());
        if let Some(st) = &m.state {
            if !plain(st) {
                return Err(IndexError::Manifest {
                    path,
                    detail: format!("state name {st:?} is not a plain file name"),
                });
            }
        }
        for sh in &m.shards {
            if !plain(sh) {
                return Err(IndexError::Manifest {
                    path,
                    detail: format!("shard folder {sh:?} is not a plain name"),
                });
            }
        }
        if let Some(sh) = m.shard {
            if !sh.count.is_power_of_two() || sh.index >= sh.count {
                return Err(IndexError::Manifest {
                    path,
                    detail: format!("shard {} of {} is not a shard of a set", sh.index, sh.count),
                });
            }
        }
        if !m.shards.is_empty() && (!m.segments.is_empty() || !m.shards.len().is_power_of_two()) {
            return Err(IndexError::Manifest {
                path,
                detail: format!(
                    "{} shards and {} segments: a sharded index has a power of two of shards and no segments of its own",
                    m.shards.len(),
                    m.segments.len()
                ),
            });
        }
        for s in &m.segments {
            if s.file.len() > super::state::MAX_SEGMENT_NAME {
                return Err(IndexError::Manifest {
                    path,
                    detail: format!("segment name {:?} is too long", s.file),
                });
            }
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
        crate::failpoint::hit("manifest-before-commit");
        f.commit().map_err(|e| IndexError::io(&path, e))?;
        crate::failpoint::hit("manifest-after-commit");
        Ok(())
    }
}
