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
//! opened file, and the index is opened from the very bytes hashed, so
//! identity, content and index belong together; if the manifest moved on
//! meanwhile the next look reloads again. A manifest that fails to open
//! is logged once and not retried until it changes; the old index goes on
//! serving.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::index::manifest::{Manifest, MANIFEST_NAME};
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
    let stamped = stamp(&commit_file(path))?;
    load_stamped(path, residence, stamped)
}

/// [`load`] of the commit file as `stamp` read it: an index folder is
/// opened from the manifest bytes that were hashed, not from a second read
/// of the file, so the index, its generation and the identity recorded
/// belong together whatever commits meanwhile (a compaction that commits
/// and unlinks the segments the first manifest named fails this load, and
/// that failure is the first manifest's, not the new one's).
fn load_stamped(
    path: &Path,
    residence: Residence,
    (identity, hash, bytes): (Identity, blake3::Hash, Vec<u8>),
) -> Result<Served, IndexError> {
    let index = if path.is_dir() {
        let m = Manifest::parse(&bytes, path.join(MANIFEST_NAME))?;
        Index::open_manifest(path, m, residence)?
    } else {
        Index::open_with(path, residence)?
    };
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
    /// Run between reading a changed commit file and opening its index
    /// (tests: a commit landing in between).
    #[cfg(test)]
    before_open: Option<fn(&Path)>,
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
            #[cfg(test)]
            before_open: None,
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
        let stamped = match stamp(&file) {
            Ok(s) => s,
            Err(e) => return self.fail(id, e),
        };
        let (id, hash) = (stamped.0, stamped.1);
        if hash == self.current().hash {
            // Same content under a new identity (touched, copied back).
            *lock_write(&self.seen) = id;
            *lock_write(&self.failed) = None;
            return Check::Unchanged;
        }
        #[cfg(test)]
        if let Some(hook) = self.before_open {
            hook(&self.path);
        }
        match load_stamped(&self.path, self.residence, stamped) {
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
            // The failure of the manifest read and hashed above: a newer
            // one (committed while this one was opened) is tried at the
            // next look.
            Err(e) => self.fail(id, e),
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

    /// A compaction that commits (and unlinks the segments the manifest
    /// before it named) between the server's read of that manifest and the
    /// opening of its index: the failure, or the index served, is the
    /// manifest's that was read, with its generation, and the next look
    /// serves the compacted index.
    #[test]
    fn a_commit_between_reading_a_manifest_and_opening_it() {
        let d = tempfile::tempdir().unwrap();
        let idx = d.path().join("idx");
        let indexer = IndexBuilder::new().threads(1).build().unwrap();
        for (i, name) in ["a.txt", "b.txt"].into_iter().enumerate() {
            let doc = write_doc(
                d.path(),
                name,
                &format!("document number {i} that is long enough to be indexed here"),
            );
            let mode = if i == 0 { Mode::Create } else { Mode::Append };
            indexer
                .index_paths(&[doc], &idx, mode, &NoProgress)
                .unwrap();
        }
        let mut live = LiveIndex::open(&idx, Residence::Mapped).unwrap();
        assert_eq!(live.current().generation, 2);
        let c = write_doc(
            d.path(),
            "c.txt",
            "a third document that is long enough to be indexed as well",
        );
        indexer
            .index_paths(&[c], &idx, Mode::Append, &NoProgress)
            .unwrap();
        // Generation 3 names three segments; the compaction commits
        // generation 4 and unlinks them, once.
        static ONCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        live.before_open = Some(|path| {
            if !ONCE.swap(true, std::sync::atomic::Ordering::SeqCst) {
                let ix = IndexBuilder::new().threads(1).build().unwrap();
                ix.compact(path, &NoProgress).unwrap();
            }
        });
        match live.check() {
            Check::Failed(_) => {}
            Check::Reloaded {
                generation,
                segments,
            } => assert_eq!((generation, segments), (3, 3)),
            other => panic!("expected a reload or a failure, got {other:?}"),
        }
        match live.check() {
            Check::Reloaded {
                generation,
                segments,
            } => assert_eq!((generation, segments), (4, 1)),
            other => panic!("expected the compacted index, got {other:?}"),
        }
        assert_eq!(live.current().generation, 4);
        assert_eq!(live.current().index.totals().files, 3);
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
