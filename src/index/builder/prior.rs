//! What a build knows of the index it adds to ([`Earlier`]): the files and
//! texts the earlier segments hold, which are not stored again, and the
//! key counts summed with theirs; the files an append supersedes or a
//! removal drops marked dead (`kill`); frequent keys merged.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use crate::index::live::Liveness;
use crate::index::manifest::Manifest;
use crate::index::state::{DeadFile, State};
use crate::index::wire::Frequent;
use crate::index::{Index, IndexError, Segment};

use super::analyze::{self, Fp};
use super::assemble::Prior;

/// The records of one path (segment, file): one, or a streamed file's
/// first record and its continuations; and its blake3.
type PathRecords = (Vec<(usize, u32)>, [u8; 32]);

/// The segments of the index before this build, and the new segments of
/// this build as they are published: what later files must not store
/// again, and where earlier key counts come from.
pub(super) struct Earlier {
    pub(super) segments: Vec<Segment>,
    pub(super) names: Vec<String>,
    pub(super) live: Liveness,
    /// Live files by path bytes: their records and blake3.
    pub(super) by_path: HashMap<Vec<u8>, PathRecords>,
    /// Calls of [`Earlier::docs`] so far.
    lookups: std::sync::atomic::AtomicU64,
}

/// Key look-ups in the earlier segments between two releases of their
/// resident pages (one `madvise` over each mapping). Measured on the 6.8 GB
/// mailbox of BENCHMARKS.md (a second segment counting its keys in the
/// first): without releases the first segment's resident pages reached
/// 2.07 GiB; releasing every 65,536 look-ups, 40 MiB (peak RSS 596 MiB,
/// over `--memory` + 64); every 8,192, see BENCHMARKS.md.
const RELEASE_EVERY: u64 = 1 << 13;

impl Earlier {
    pub(super) fn empty() -> Earlier {
        Earlier {
            segments: Vec::new(),
            names: Vec::new(),
            live: Liveness::all_live(0),
            by_path: HashMap::new(),
            lookups: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Live parts of the earlier segments holding `key` (a lookup in each).
    /// Every [`RELEASE_EVERY`] calls the segments' resident pages are
    /// released: counting a segment's keys across the index reads most of
    /// the earlier segments' postings, which would otherwise all stay
    /// resident (2.07 GiB of a 6.8 GB mailbox's first segment, over a
    /// `--memory` of 512 MiB; BENCHMARKS.md).
    pub(super) fn docs(&self, key: u64) -> u32 {
        if self.lookups.fetch_add(1, Ordering::Relaxed) % RELEASE_EVERY == RELEASE_EVERY - 1 {
            for seg in &self.segments {
                seg.release_resident();
            }
        }
        let mut total = 0u32;
        for (si, seg) in self.segments.iter().enumerate() {
            let mut last = u32::MAX;
            for pos in seg.postings(key) {
                if let Some((part, _)) = seg.locate(pos) {
                    if part != last && self.live.text_live(si, part) {
                        total = total.saturating_add(1);
                    }
                    last = part;
                }
            }
        }
        total
    }
}

impl Prior for Earlier {
    fn has_file(&self, blake3: &[u8; 32]) -> bool {
        self.segments.iter().enumerate().any(|(si, s)| {
            s.find_file(blake3)
                .into_iter()
                .any(|f| self.live.file_live(si, f))
        })
    }
    fn has_text(&self, hash: &[u8; 16]) -> bool {
        self.segments.iter().enumerate().any(|(si, s)| {
            s.find_part_text(hash)
                .is_some_and(|p| self.live.text_live(si, p))
        })
    }
}

/// The earlier segments of an index being appended to.
pub(super) fn earlier_of(index: Index, m: &Manifest) -> Result<Earlier, IndexError> {
    let live = index.liveness().clone();
    let mut by_path = HashMap::new();
    for (si, seg) in index.segments().iter().enumerate() {
        for f in 0..seg.file_count() {
            if !live.file_live(si, f) {
                continue;
            }
            let info = seg.file(f)?;
            let entry = by_path
                .entry(info.path_bytes.to_vec())
                .or_insert_with(|| (Vec::new(), info.blake3));
            if !info.continued {
                // A path's live file starts here; continuations follow it
                // in later segments.
                entry.0.clear();
                entry.1 = info.blake3;
            }
            entry.0.push((si, f));
        }
    }
    let names = m.segments.iter().map(|s| s.file.clone()).collect();
    let (segments, _, _) = index.into_parts();
    Ok(Earlier {
        segments,
        names,
        live,
        by_path,
        lookups: std::sync::atomic::AtomicU64::new(0),
    })
}

/// Mark `dead` files of `index` dead in `state`: their texts that no live
/// file references any more stop counting, in the live-text total and in
/// the frequent keys.
pub(super) fn kill(
    index: &Index,
    state: &mut State,
    dead: &[DeadFile],
    fp: Fp,
) -> Result<(), IndexError> {
    let names = index.segment_names();
    kill_with(index, index.liveness(), &names, state, dead, fp)
}

pub(super) fn kill_with(
    index: &Index,
    before: &Liveness,
    names: &[String],
    state: &mut State,
    dead: &[DeadFile],
    fp: Fp,
) -> Result<(), IndexError> {
    let mut all = state.dead.clone();
    all.extend(dead.iter().cloned());
    all.sort();
    all.dedup_by(|a, b| a.segment == b.segment && a.file == b.file);
    let after = Liveness::compute(index.segments(), names, &all)?;
    // Texts live before and dead after.
    let mut scratch = analyze::Scratch::default();
    let mut lost: HashMap<u64, u32> = HashMap::new();
    let mut texts = 0u64;
    for (si, seg) in index.segments().iter().enumerate() {
        for p in 0..seg.part_count() {
            let info = seg.part(p)?;
            if info.duplicate != crate::index::wire::Duplicate::None
                || info.norm_len == 0 && info.text_len == 0
            {
                continue;
            }
            if before.text_live(si, p) && !after.text_live(si, p) {
                texts += 1;
                let text = seg.part_text(p)?;
                let a = analyze::analyze(&text, fp, &mut scratch);
                let mut keys: Vec<u64> = a.fps.iter().map(|f| f.0).collect();
                keys.sort_unstable();
                keys.dedup();
                for k in keys {
                    *lost.entry(k).or_default() += 1;
                }
            }
        }
    }
    state.live_texts = state.live_texts.saturating_sub(texts);
    state.frequent.retain_mut(|f| {
        if let Some(&n) = lost.get(&f.key) {
            f.docs = f.docs.saturating_sub(n);
        }
        f.docs >= state.min_docs
    });
    state.dead = all;
    Ok(())
}

/// Merge `new` (keys of a new segment with their index-wide counts) into
/// the sorted `frequent` list: a key in both takes the new count.
pub(super) fn merge_frequent(frequent: &mut Vec<Frequent>, new: Vec<Frequent>) {
    if new.is_empty() {
        return;
    }
    let old = std::mem::take(frequent);
    let mut out = Vec::with_capacity(old.len() + new.len());
    let (mut a, mut b) = (old.into_iter().peekable(), new.into_iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.key < y.key => out.push(a.next().expect("peeked")),
            (Some(x), Some(y)) if x.key > y.key => out.push(b.next().expect("peeked")),
            (Some(_), Some(_)) => {
                a.next();
                out.push(b.next().expect("peeked"));
            }
            (Some(_), None) => out.push(a.next().expect("peeked")),
            (None, Some(_)) => out.push(b.next().expect("peeked")),
            (None, None) => break,
        }
    }
    *frequent = out;
}
