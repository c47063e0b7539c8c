//! Stage 3, analysis: one part's text becomes what the index keeps of it:
//! its normalized length, its winnowed fingerprints (remixed keys with
//! positions in the part), its checkpoints and its text hash.
//!
//! Normalization (`crate::normalize`), the rolling hash
//! (`crate::fingerprint`) and robust winnowing (`crate::winnow`) are the
//! algorithms; this stage runs them over the text in one pass of blocks:
//! the text is normalized a checkpoint interval at a time into one buffer,
//! and `winnow::fingerprints` hashes and winnows it in blocks that stay in
//! the first-level caches. It runs in parallel, one part per task.

use super::super::wire::Checkpoint;
use crate::fingerprint;
use crate::normalize;
use crate::winnow;

/// A checkpoint is written every this many bytes of text (at the next char
/// boundary): verifying a candidate re-normalizes at most this much text
/// beyond the window it needs. 256 rather than 1,024 took the 1 GB scale
/// index from 133,500 to 147,500 unrelated posts/s and from 6,300 to 7,100
/// mixed ones (1 KiB blocks, first pass, one thread) for 2% more index
/// (BENCHMARKS.md "Small text blocks against a dictionary"). The segment
/// being built spills its checkpoints to a file past a MiB
/// (`assemble::Spill`): held in memory, at 3% of the text, they took a 5 GB
/// mailbox's build 124 MiB past its memory budget.
pub(crate) const CHECKPOINT_EVERY: usize = 256;

/// What the index keeps of one part.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    /// Normalized bytes.
    pub(crate) norm_len: u32,
    /// (remixed key, normalized position in the part, context:
    /// `fingerprint::context`), by position.
    pub(crate) fps: Vec<(u64, u32, u16)>,
    /// Restart points; the first is (0, 0).
    pub(crate) checkpoints: Vec<Checkpoint>,
    /// First 16 bytes of the blake3 of the text.
    pub(crate) text_hash: [u8; 16],
}

/// Buffers reused across the parts one worker analyzes.
#[derive(Default)]
pub(crate) struct Scratch {
    norm: String,
    raw: Vec<(u64, u32)>,
}

/// Fingerprint parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fp {
    pub(crate) k: usize,
    pub(crate) w: usize,
    pub(crate) seed: u64,
}

/// Analyze one part's text.
pub(crate) fn analyze(text: &str, fp: Fp, s: &mut Scratch) -> Analysis {
    analyze_hashed(text, None, fp, s)
}

/// Analyze one part's text whose blake3 may be known already (`hash`, the
/// full hash of exactly these bytes): a text file's one part is its bytes,
/// hashed once for the file.
pub(crate) fn analyze_hashed(
    text: &str,
    hash: Option<&[u8; 32]>,
    fp: Fp,
    s: &mut Scratch,
) -> Analysis {
    let mut text_hash = [0u8; 16];
    match hash {
        Some(h) => text_hash.copy_from_slice(&h[..16]),
        None => text_hash.copy_from_slice(&blake3::hash(text.as_bytes()).as_bytes()[..16]),
    }
    s.norm.clear();
    let mut checkpoints = Vec::with_capacity(text.len() / CHECKPOINT_EVERY + 1);
    let mut at = 0usize;
    while at < text.len() {
        let mut end = (at + CHECKPOINT_EVERY).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        checkpoints.push(Checkpoint {
            norm: s.norm.len() as u32,
            text: at as u32,
        });
        normalize::normalize_text_only(&text[at..end], &mut s.norm);
        at = end;
    }
    if checkpoints.is_empty() {
        checkpoints.push(Checkpoint { norm: 0, text: 0 });
    }
    s.raw.clear();
    winnow::fingerprints(s.norm.as_bytes(), fp.k, fp.w, fp.seed, &mut s.raw);
    let norm = s.norm.as_bytes();
    let fps = s
        .raw
        .iter()
        .map(|&(h, p)| {
            (
                fingerprint::remix(h),
                p,
                fingerprint::context(norm, p as usize, fp.k),
            )
        })
        .collect();
    Analysis {
        norm_len: s.norm.len() as u32,
        fps,
        checkpoints,
        text_hash,
    }
}
