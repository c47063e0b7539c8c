//! The index being served, replaced when its manifest changes.
//!
//! [`LiveIndex::current`] hands out an `Arc` of the [`Served`] index: a
//! request keeps the index it started with until it ends, however many
//! reloads happen meanwhile, and the old segments stay mapped until the
//! last such `Arc` is dropped (segment files are never rewritten in place:
//! a build or compaction writes new files and unlinks old ones, and an
//! unlinked file stays readable through its mapping).
//!
//! A change is seen by the identity of the file that commits the index:
//! `manifest.json` of an index folder, or the segment file itself. Its
//! identity is (device, inode, modification time, size); when that
//! changes, the file is read and hashed (blake3), and only a new hash
//! opens a new index (a `touch` does not). The identity is taken from the
//! opened file, so identity and content belong together; after the new
//! index is opened the identity is taken again, and if the manifest moved
//! on meanwhile the next look reloads again. A manifest that fails to open
//! is logged once and not retried until it changes; the old index goes on
//! serving.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::index::manifest::MANIFEST_NAME;
use crate::index::{Index, IndexError, Residence};

/// Who a file is: any change of these means it may have new content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    dev: u64,
    ino: u64,
    modified: Option<SystemTime>,
    len: u64,
}

impl Identity {
    fn of(meta: &std::fs::Metadata) -> Identity {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt as _;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Identity {
            dev,
            ino,
            modified: meta.modified().ok(),
            len: meta.len(),
        }
    }
}

/// The commit file of the index at `path`: its manifest, or the segment.
pub fn commit_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(MANIFEST_NAME)
    } else {
        path.to_path_buf()
    }
}

/// An opened index and what it was opened from.
#[derive(Debug)]
pub struct Served {
    /// The index.
    pub index: Index,
    /// The manifest's `generation` (0 for a segment file or a manifest
    /// without one).
    pub generation: u64,
    identity: Identity,
    hash: blake3::Hash,
}

/// Identity and hash of the commit file, read from one open handle.
fn stamp(file: &Path) -> Result<(Identity, blake3::Hash, Vec<u8>), IndexError> {
    let io = |e| IndexError::Io {
        path: file.to_path_buf(),
        source: e,
    };
    let mut f = File::open(file).map_err(io)?;
    let id = Identity::of(&f.metadata().map_err(io)?);
    // A segment file can be large: its identity is enough (segments are
    // written once), so only a manifest's bytes are hashed.
    if file.file_name().is_some_and(|n| n == MANIFEST_NAME) {
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map_err(io)?;
        Ok((id, blake3::hash(&bytes), bytes))
    } else {
        Ok((id, blake3::hash(&id.len.to_le_bytes()), Vec::new()))
    }
}

fn generation_of(manifest: &[u8]) -> u64 {
    serde_json::from_slice::<serde_json::Value>(manifest)
        .ok()
        .and_then(|v| v.get("generation").and_then(|g| g.as_u64()))
        .unwrap_or(0)
}

/// Open the index at `path`, held as `residence` says, with the stamp of
/// its commit file.
///
/// # Errors
/// When the index cannot be opened.
pub fn load(path: &Path, residence: Residence) -> Result<Served, IndexError> {
    let file = commit_file(path);
    let (identity, hash, bytes) = stamp(&file)?;
    let index = Index::open_with(path, residence)?;
    Ok(Served {
        index,
        generation: generation_of(&bytes),
        identity,
        hash,
    })
}

/// What [`LiveIndex::check`] did.
#[derive(Debug)]
pub enum Check {
    /// The commit file has not changed (or only its identity did).
    Unchanged,
    /// A new index is served.
    Reloaded {
        /// Its generation.
        generation: u64,
        /// Its segments.
        segments: usize,
    },
    /// The changed index could not be opened; the old one is served.
    Failed(IndexError),
    /// The same failure as the last check: not logged again.
    StillFailing,
}

/// The index being served.
#[derive(Debug)]
pub struct LiveIndex {
    path: PathBuf,
    residence: Residence,
    current: RwLock<Arc<Served>>,
    /// The identity of the commit file last seen with `current`'s content.
    seen: RwLock<Identity>,
    /// The identity of a commit file that failed to open.
    failed: RwLock<Option<Identity>>,
}

impl LiveIndex {
    /// Serve the index at `path` (opened now, and on every reload, held
    /// as `residence` says).
    ///
    /// # Errors
    /// When it cannot be opened.
    pub fn open(path: &Path, residence: Residence) -> Result<LiveIndex, IndexError> {
        let loaded = load(path, residence)?;
        Ok(LiveIndex {
            path: path.to_path_buf(),
            residence,
            seen: RwLock::new(loaded.identity),
            current: RwLock::new(Arc::new(loaded)),
            failed: RwLock::new(None),
        })
    }

    /// The index to answer a request with.
    pub fn current(&self) -> Arc<Served> {
        lock_read(&self.current).clone()
    }

    /// Look at the commit file and reload when its content changed.
    /// Blocking (file I/O, mapping): call it off the async workers.
    pub fn check(&self) -> Check {
        let file = commit_file(&self.path);
        let Ok(meta) = std::fs::metadata(&file) else {
            // Between a rename and the next, or removed: look again later.
            return Check::Unchanged;
        };
        let id = Identity::of(&meta);
        if *lock_read(&self.seen) == id {
            return Check::Unchanged;
        }
        if *lock_read(&self.failed) == Some(id) {
            return Check::StillFailing;
        }
        let (id, hash) = match stamp(&file) {
            Ok((id, hash, _)) => (id, hash),
            Err(e) => return self.fail(id, e),
        };
        if hash == self.current().hash {
            // Same content under a new identity (touched, copied back).
            *lock_write(&self.seen) = id;
            *lock_write(&self.failed) = None;
            return Check::Unchanged;
        }
        match load(&self.path, self.residence) {
            Ok(new) => {
                let (generation, segments) = (new.generation, new.index.segments().len());
                *lock_write(&self.seen) = new.identity;
                *lock_write(&self.current) = Arc::new(new);
                *lock_write(&self.failed) = None;
                Check::Reloaded {
                    generation,
                    segments,
                }
            }
            Err(e) => {
                let id = std::fs::metadata(&file).map_or(id, |m| Identity::of(&m));
                self.fail(id, e)
            }
        }
    }

    fn fail(&self, id: Identity, e: IndexError) -> Check {
        *lock_write(&self.failed) = Some(id);
        Check::Failed(e)
    }
}

// A poisoned lock still holds a valid value: nothing panics between
// reading and writing one, so the poison is ignored.
fn lock_read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn lock_write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::builder::{Mode, NoProgress};
    use crate::IndexBuilder;

    fn write_doc(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn appends_and_compactions_reload_and_old_readers_keep_their_index() {
        for residence in [Residence::Mapped, Residence::Loaded] {
            reloads_with(residence);
        }
    }

    fn reloads_with(residence: Residence) {
        let d = tempfile::tempdir().unwrap();
        let idx = d.path().join("idx");
        let indexer = IndexBuilder::new().threads(1).build().unwrap();
        let a = write_doc(
            d.path(),
            "a.txt",
            "alpha document that is long enough to be indexed here",
        );
        indexer
            .index_paths(&[a], &idx, Mode::Create, &NoProgress)
            .unwrap();
        let live = LiveIndex::open(&idx, residence).unwrap();
        let first = live.current();
        assert_eq!(first.generation, 1);
        assert!(matches!(live.check(), Check::Unchanged));

        let b = write_doc(
            d.path(),
            "b.txt",
            "bravo document that is long enough to be indexed too",
        );
        indexer
            .index_paths(&[b], &idx, Mode::Append, &NoProgress)
            .unwrap();
        match live.check() {
            Check::Reloaded {
                generation,
                segments,
            } => assert_eq!((generation, segments), (2, 2)),
            other => panic!("expected a reload, got {other:?}"),
        }
        indexer.compact(&idx, &NoProgress).unwrap();
        assert!(matches!(
            live.check(),
            Check::Reloaded {
                generation: 3,
                segments: 1
            }
        ));
        // The first reader still reads its segment, unlinked by compaction.
        assert_eq!(first.index.segments().len(), 1);
        assert_eq!(first.index.totals().files, 1);
        first.index.verify().unwrap();

        // A touched manifest (same bytes, new identity) does not reload.
        let manifest = idx.join(MANIFEST_NAME);
        let bytes = std::fs::read(&manifest).unwrap();
        std::fs::remove_file(&manifest).unwrap();
        std::fs::write(&manifest, &bytes).unwrap();
        assert!(matches!(live.check(), Check::Unchanged));
        assert_eq!(live.current().generation, 3);

        // A broken manifest fails once, keeps the old index, then recovers.
        std::fs::write(&manifest, b"{ not json").unwrap();
        assert!(matches!(live.check(), Check::Failed(_)));
        assert!(matches!(live.check(), Check::StillFailing));
        assert_eq!(live.current().generation, 3);
        std::fs::remove_file(&manifest).unwrap();
        std::fs::write(&manifest, &bytes).unwrap();
        assert!(matches!(
            live.check(),
            Check::Unchanged | Check::Reloaded { .. }
        ));
        assert_eq!(live.current().index.totals().files, 2);
    }
}
