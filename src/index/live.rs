//! Which files and texts of an index still count, after supersedes and
//! removals ([`super::state::DeadFile`]).
//!
//! Content is stored once and referenced: a file byte-identical to an
//! earlier one is a *copy* (no parts of its own), a part whose text an
//! earlier part holds is a *duplicate* (of a part of its segment, or of a
//! part of an earlier segment found by the text's hash). So:
//!
//! - a file's **content is live** when the file is not dead, or when any
//!   live file has the same bytes (a live copy keeps its original's parts);
//! - a stored **text is live** when any part referencing it (its owner, or
//!   a duplicate) belongs to a file whose content is live.
//!
//! Matching ignores hits on dead texts and reports a live reference of a
//! live text ([`Liveness::reference`]). With no dead file (the common case)
//! everything is live and nothing is computed.

use std::collections::HashMap;

use super::wire::{Duplicate, FileStatus};
use super::{IndexError, Segment};
use crate::index::state::DeadFile;

/// Liveness of every file and text of an index (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Liveness {
    /// Per segment: dead flag per file (empty = all live).
    dead_files: Vec<Vec<bool>>,
    /// Per segment: dead flag per part that owns its text (empty = all live).
    dead_texts: Vec<Vec<bool>>,
    /// Per segment: for owners whose own file's content is dead but that a
    /// duplicate keeps alive, the live reference (segment, part).
    moved: Vec<HashMap<u32, (usize, u32)>>,
}

impl Liveness {
    /// Everything live, for `segments` segments.
    pub fn all_live(segments: usize) -> Liveness {
        Liveness {
            dead_files: vec![Vec::new(); segments],
            dead_texts: vec![Vec::new(); segments],
            moved: vec![HashMap::new(); segments],
        }
    }

    /// Every file live, and the texts flagged in `dead_texts` (per segment,
    /// per part) dead: for tests of what matching skips.
    #[cfg(test)]
    pub(crate) fn with_dead_texts(dead_texts: Vec<Vec<bool>>) -> Liveness {
        let n = dead_texts.len();
        Liveness {
            dead_files: vec![Vec::new(); n],
            dead_texts,
            moved: vec![HashMap::new(); n],
        }
    }

    /// Add a segment in which everything is live.
    pub fn push_segment(&mut self, _files: u32, _parts: u32) {
        self.dead_files.push(Vec::new());
        self.dead_texts.push(Vec::new());
        self.moved.push(HashMap::new());
    }

    /// Whether any file is dead.
    pub fn any_dead(&self) -> bool {
        self.dead_files.iter().any(|d| d.iter().any(|&x| x))
    }

    /// Whether file `f` of segment `seg` is live (not superseded, not removed).
    pub fn file_live(&self, seg: usize, f: u32) -> bool {
        self.dead_files
            .get(seg)
            .and_then(|d| d.get(f as usize))
            .is_none_or(|&dead| !dead)
    }

    /// Whether the text owned by part `p` of segment `seg` is live.
    pub fn text_live(&self, seg: usize, p: u32) -> bool {
        self.dead_texts
            .get(seg)
            .and_then(|d| d.get(p as usize))
            .is_none_or(|&dead| !dead)
    }

    /// A live part referencing the text owned by `(seg, p)`: itself when its
    /// file's content is live, else the duplicate that keeps it alive.
    pub fn reference(&self, seg: usize, p: u32) -> (usize, u32) {
        self.moved
            .get(seg)
            .and_then(|m| m.get(&p))
            .copied()
            .unwrap_or((seg, p))
    }

    /// Compute liveness for `segments` (named `names` in the manifest) and
    /// the dead files `dead`.
    ///
    /// # Errors
    /// When records needed are corrupt.
    pub fn compute(
        segments: &[Segment],
        names: &[String],
        dead: &[DeadFile],
    ) -> Result<Liveness, IndexError> {
        let n = segments.len();
        let mut live = Liveness::all_live(n);
        if dead.is_empty() {
            return Ok(live);
        }
        let index_of: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        for d in dead {
            // Dead records of segments compacted away name no live segment.
            if let Some(&si) = index_of.get(d.segment.as_str()) {
                let files = &mut live.dead_files[si];
                if files.is_empty() {
                    files.resize(segments[si].file_count() as usize, false);
                }
                if let Some(x) = files.get_mut(d.file as usize) {
                    *x = true;
                }
            }
        }
        // Content liveness of dead files: a live file with the same bytes.
        let mut content_dead: Vec<Vec<bool>> = vec![Vec::new(); n];
        for si in 0..n {
            let dead_here: Vec<u32> = live.dead_files[si]
                .iter()
                .enumerate()
                .filter(|(_, &d)| d)
                .map(|(f, _)| f as u32)
                .collect();
            for f in dead_here {
                let info = segments[si].file(f)?;
                if info.status == FileStatus::Skipped {
                    continue;
                }
                let hash = info.blake3;
                let kept = segments.iter().enumerate().any(|(sj, s)| {
                    s.find_file(&hash)
                        .into_iter()
                        .any(|g| (sj, g) != (si, f) && live.file_live(sj, g))
                });
                if !kept {
                    let c = &mut content_dead[si];
                    if c.is_empty() {
                        c.resize(segments[si].file_count() as usize, false);
                    }
                    c[f as usize] = true;
                }
            }
        }
        let content_live = |si: usize, f: u32| content_dead[si].get(f as usize).is_none_or(|&d| !d);
        // Duplicates that reference each text: local ones by owner, external
        // ones by hash.
        let mut external: HashMap<[u8; 16], Vec<(usize, u32)>> = HashMap::new();
        let mut local: Vec<HashMap<u32, Vec<u32>>> = vec![HashMap::new(); n];
        for (si, seg) in segments.iter().enumerate() {
            for p in 0..seg.part_count() {
                let info = seg.part(p)?;
                match info.duplicate {
                    Duplicate::None => {}
                    Duplicate::Local(o) => local[si].entry(o).or_default().push(p),
                    Duplicate::External => {
                        external.entry(info.text_hash).or_default().push((si, p))
                    }
                }
            }
        }
        for (si, seg) in segments.iter().enumerate() {
            if content_dead[si].is_empty() {
                continue;
            }
            for p in 0..seg.part_count() {
                let info = seg.part(p)?;
                if info.duplicate != Duplicate::None || content_live(si, info.file) {
                    continue;
                }
                // Its owner's file is gone: a live duplicate keeps it?
                let mut keeper = None;
                for &q in local[si].get(&p).map_or(&[][..], |v| v) {
                    if content_live(si, seg.part(q)?.file) {
                        keeper = Some((si, q));
                        break;
                    }
                }
                if keeper.is_none() {
                    for &(sj, q) in external.get(&info.text_hash).map_or(&[][..], |v| v) {
                        if content_live(sj, segments[sj].part(q)?.file) {
                            keeper = Some((sj, q));
                            break;
                        }
                    }
                }
                match keeper {
                    Some(k) => {
                        live.moved[si].insert(p, k);
                    }
                    None => {
                        let t = &mut live.dead_texts[si];
                        if t.is_empty() {
                            t.resize(seg.part_count() as usize, false);
                        }
                        t[p as usize] = true;
                    }
                }
            }
        }
        Ok(live)
    }
}
