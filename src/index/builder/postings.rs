//! Stages 4 and 5 of the fingerprints: buffering, spilling, sorting and
//! writing the postings.
//!
//! # Partitioned, not merged
//!
//! Every `(key, position)` pair goes straight into one of [`PARTITIONS`]
//! buffers by the top bits of its key (keys are remixed hashes, so the
//! partitions fill evenly). When the buffers reach the memory budget each
//! partition's pairs are appended, unsorted, to that partition's spill
//! file. At the end each partition is loaded and sorted on its own, in
//! parallel, and the partitions are written in key order: there is no
//! global comparison sort and no k-way merge, and the final phase runs on
//! every core. A partition holds `1 / PARTITIONS` of the pairs (about
//! 0.7 MB per GB of input text), so memory stays far below the budget.
//!
//! # Order and identity
//!
//! The directory has `2^dir_bits` buckets (top bits of the key) and each
//! posting keeps the next 16 bits (its fragment); within a bucket postings
//! are sorted by fragment, then position. Keys agreeing on those
//! `dir_bits + 16` bits share their postings: that is the key's identity in
//! this segment, and part counts (for the frequent keys) are taken per
//! identity, exactly as a lookup sees them.
//!
//! The output depends only on the multiset of pairs: the same bytes at any
//! thread count and memory budget (tested).

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::super::wire::{bucket_of, fragment, shard_of, Frequent, Posting, Record};
use super::super::IndexError;

/// Number of partitions (a power of two; the top bits of a key pick one).
pub(crate) const PARTITIONS: usize = 1024;
const PARTITION_BITS: u32 = PARTITIONS.trailing_zeros();
/// Smallest directory: the partitions must each own whole buckets.
pub(crate) const MIN_DIR_BITS: u32 = PARTITION_BITS;
/// Postings per bucket the directory is sized for: 8 postings are 64 bytes,
/// one cache line, and the directory costs half a byte per posting.
pub(crate) const POSTINGS_PER_BUCKET: u64 = 8;
/// Partitions built or being built ahead of the writing in the final
/// phase, per thread (see [`KeySink::finish`]): as many as its two waves
/// of 4 a thread held before December 2026.
const AHEAD_PER_THREAD: usize = 8;
/// Bytes a buffered pair takes.
pub(crate) const PAIR_BYTES: usize = 14;

/// Which postings a shard of an index keeps (see [`shard_of`]): shard
/// `index` of `2^bits`. Its segments get `bits` fewer directory bits than
/// the unsharded segment of the same files would, and keep the postings
/// whose key has `index` in the bits below the shard's key identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShardFilter {
    /// log2 of the number of shards.
    pub(crate) bits: u32,
    /// This shard.
    pub(crate) index: u32,
}

/// A buffered pair: 14 bytes, unaligned.
#[derive(Clone, Copy)]
#[repr(C, packed)]
struct Pair {
    key: u64,
    pos: u32,
    /// The posting's context (`fingerprint::context`).
    ctx: u16,
}

/// Collects `(key, position)` pairs in bounded memory.
pub(crate) struct KeySink {
    dir: PathBuf,
    parts: Vec<Vec<Pair>>,
    /// Spill files per partition (created on first spill).
    spilled: Vec<Option<PathBuf>>,
    buffered: usize,
    cap: usize,
    /// Pairs pushed in all.
    pub(crate) total: u64,
    /// The shard kept, when the segment is a shard's.
    shard: Option<ShardFilter>,
    /// Whether a spill only sets the buffered pairs aside (in `held`) for
    /// the caller to write on other threads ([`KeySink::take_spill`]).
    defer: bool,
    /// Pairs set aside by a deferred spill, not yet written.
    held: Option<Vec<Vec<Pair>>>,
}

impl KeySink {
    /// A sink spilling into temporary files in `dir` once `budget` bytes of
    /// pairs are buffered.
    pub(crate) fn new(dir: &Path, budget: u64) -> KeySink {
        KeySink {
            dir: dir.to_path_buf(),
            parts: (0..PARTITIONS).map(|_| Vec::new()).collect(),
            spilled: vec![None; PARTITIONS],
            buffered: 0,
            cap: (budget as usize / PAIR_BYTES).max(1 << 16),
            total: 0,
            shard: None,
            defer: false,
            held: None,
        }
    }

    /// Let spills set the buffered pairs aside for [`KeySink::take_spill`]
    /// instead of writing them (`true`), or write them as they happen
    /// (`false`, the default). One spill at most is held: a second one
    /// writes the first before it sets its own pairs aside, so the pairs
    /// in memory stay under twice the budget, and under the budget plus
    /// what is pushed between a spill and its writing.
    pub(crate) fn defer_spills(&mut self, defer: bool) {
        self.defer = defer;
    }

    /// The pairs of the spill held back, as at most `n` jobs of whole
    /// partitions that append them to the partitions' spill files (named
    /// now, so the names do not depend on when the jobs run), to be written
    /// on other threads. Every job must be written before the sink spills
    /// again or finishes (the builder writes them at once).
    pub(crate) fn take_spill(&mut self, n: usize) -> Vec<SpillJob> {
        match self.held.take() {
            Some(parts) => self.spill_job(parts).split(n),
            None => Vec::new(),
        }
    }

    fn spill_job(&mut self, parts: Vec<Vec<Pair>>) -> SpillJob {
        let mut files = Vec::new();
        for (p, buf) in parts.into_iter().enumerate() {
            if buf.is_empty() {
                continue;
            }
            let path = self.spilled[p]
                .get_or_insert_with(|| super::output::temp_name(&self.dir, &format!("keys-{p}")))
                .clone();
            files.push((path, buf));
        }
        SpillJob { files }
    }

    /// Keep only the postings of one shard (set before any pair is pushed).
    pub(crate) fn set_shard(&mut self, shard: Option<ShardFilter>) {
        self.shard = shard;
    }

    /// Add the pairs of one part, whose positions start at `base`.
    ///
    /// # Errors
    /// I/O errors of a spill.
    pub(crate) fn push_part(
        &mut self,
        fps: &[(u64, u32, u16)],
        base: u32,
    ) -> Result<(), IndexError> {
        for &(key, pos, ctx) in fps {
            let p = (key >> (64 - PARTITION_BITS)) as usize;
            self.parts[p].push(Pair {
                key,
                pos: base + pos,
                ctx,
            });
        }
        self.buffered += fps.len();
        self.total += fps.len() as u64;
        if self.buffered >= self.cap {
            self.spill()?;
        }
        Ok(())
    }

    /// Lower (or raise) the budget to `budget` bytes (at least 768 KiB of
    /// pairs); spills at once if the pairs buffered exceed it. The output
    /// does not depend on when spills happen.
    ///
    /// # Errors
    /// I/O errors of a spill.
    pub(crate) fn set_budget(&mut self, budget: u64) -> Result<(), IndexError> {
        self.cap = (budget as usize / PAIR_BYTES).max(1 << 16);
        if self.buffered >= self.cap {
            self.spill()?;
        }
        Ok(())
    }

    /// Append every partition's buffered pairs to its spill file (or set
    /// them aside, see [`KeySink::defer_spills`]).
    fn spill(&mut self) -> Result<(), IndexError> {
        if let Some(held) = self.held.take() {
            self.spill_job(held).write()?;
        }
        let fresh = (0..PARTITIONS).map(|_| Vec::new()).collect();
        let parts = std::mem::replace(&mut self.parts, fresh);
        self.buffered = 0;
        if self.defer {
            self.held = Some(parts);
            Ok(())
        } else {
            self.spill_job(parts).write()
        }
    }

    /// The directory size for the pairs pushed: that of the unsharded
    /// segment, less the shard bits for a shard's segment.
    ///
    /// # Errors
    /// A shard's directory would fall under [`MIN_DIR_BITS`]: the segment
    /// has too few postings for that many shards.
    pub(crate) fn dir_bits(&self) -> Result<u32, IndexError> {
        // The largest power of two of buckets holding at least
        // POSTINGS_PER_BUCKET postings each on average (8 to 16).
        let buckets = (self.total / POSTINGS_PER_BUCKET).max(1);
        let full = (63 - buckets.leading_zeros()).clamp(MIN_DIR_BITS, 31);
        match self.shard {
            None => Ok(full),
            Some(s) if full >= MIN_DIR_BITS + s.bits => Ok(full - s.bits),
            Some(s) => Err(IndexError::TooManyShards {
                shards: 1u64 << s.bits,
                postings: self.total,
                most: 1u64 << (full - MIN_DIR_BITS),
            }),
        }
    }

    /// Sort every partition and stream the directory and postings out
    /// through `out`, in key order, with the keys found in at least
    /// `min_docs` parts of this segment (`frequent`) and the keys `totals`
    /// asks for (`global`).
    ///
    /// `part_of` maps a position to an ordinal of its part (for the part
    /// counts) and the first position after that part; `part_count` is the
    /// number of ordinals it returns.
    ///
    /// Returns the number of postings written (fewer than the pairs
    /// pushed in a shard's segment).
    ///
    /// # Errors
    /// I/O errors reading spills or from `out`; too many shards.
    pub(crate) fn finish(
        mut self,
        pool: &rayon::ThreadPool,
        min_docs: u32,
        part_of: &(dyn Fn(u32) -> (u32, u32) + Sync),
        part_count: usize,
        totals: KeyTotals<'_>,
        out: &mut dyn FnMut(Written<'_>) -> Result<(), IndexError>,
    ) -> Result<u64, IndexError> {
        if let Some(held) = self.held.take() {
            self.spill_job(held).write()?;
        }
        let dir_bits = self.dir_bits()?;
        let wide_parts = part_count > 1 << PART_BITS;
        let shard = self.shard;
        let parts = std::mem::take(&mut self.parts);
        let spilled = std::mem::take(&mut self.spilled);
        let mut jobs: Vec<(Vec<Pair>, Option<PathBuf>)> = parts.into_iter().zip(spilled).collect();
        let buckets_per_part = 1usize << (dir_bits - PARTITION_BITS);
        // Partitions are built in parallel and written in order by this
        // thread, which writes each one as soon as it and every one before
        // it are built (a copy into the page cache, about a third of this
        // phase's time on one thread), and then hands the pool the next:
        // at most `window` are built or being built ahead of the writing.
        // (Until December 2026 they were built in waves of 4 a thread,
        // each written while the next was built: every wave waited for its
        // slowest partition, and the phase kept 1.70-1.78 of two cores busy
        // on the 1 GB scale corpus, 1.91-1.98 now; BENCHMARKS.md
        // "Indexing: the end of the build on every core".)
        let window = pool.current_num_threads().max(1) * AHEAD_PER_THREAD;
        let count = jobs.len();
        let build = |index: usize, (mem, spill): (Vec<Pair>, Option<PathBuf>)| {
            let geometry = Geometry {
                index,
                dir_bits,
                buckets: buckets_per_part,
                shard,
                wide_parts,
            };
            build_partition(geometry, mem, spill, min_docs, part_of, totals)
        };
        let mut posting_count = 0u64;
        let mut wrote: Result<(), IndexError> = Ok(());
        pool.in_place_scope(|scope| {
            type Built = std::thread::Result<Result<Partition, IndexError>>;
            let (tx, rx) = crossbeam_channel::unbounded::<(usize, Built)>();
            let build = &build;
            let mut spawn = |i: usize| {
                let job = std::mem::take(&mut jobs[i]);
                let tx = tx.clone();
                scope.spawn(move |_| {
                    // (A panic is sent back as the result, so that this
                    // thread, waiting for it, raises it.)
                    let r =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(i, job)));
                    let _ = tx.send((i, r));
                });
            };
            let mut spawned = count.min(window);
            (0..spawned).for_each(&mut spawn);
            let mut ready: Vec<Option<Result<Partition, IndexError>>> =
                (0..count).map(|_| None).collect();
            let mut next = 0;
            while next < count {
                let Ok((i, r)) = rx.recv() else {
                    // (Every job sends before it ends, and `tx` lives.)
                    unreachable!("a partition job ended without its result");
                };
                ready[i] = Some(match r {
                    Ok(r) => r,
                    Err(panic) => std::panic::resume_unwind(panic),
                });
                while let Some(r) = ready.get_mut(next).and_then(Option::take) {
                    let written = r.and_then(|p| {
                        out(Written {
                            dir: &p.dir,
                            postings: &p.postings,
                            base: posting_count,
                            frequent: &p.frequent,
                            global: &p.global,
                        })?;
                        posting_count += (p.postings.len() / Posting::LEN) as u64;
                        Ok(())
                    });
                    if let Err(e) = written {
                        // (The partitions under way end; no more start.)
                        wrote = Err(e);
                        return;
                    }
                    next += 1;
                    if spawned < count {
                        spawn(spawned);
                        spawned += 1;
                    }
                }
            }
        });
        wrote?;
        Ok(posting_count)
    }
}

/// Buffered pairs to append to their partitions' spill files
/// ([`KeySink::take_spill`]).
pub(crate) struct SpillJob {
    files: Vec<(PathBuf, Vec<Pair>)>,
}

impl SpillJob {
    /// This job cut into at most `n` jobs of whole partitions (about the
    /// same number of pairs each), to be written in parallel.
    pub(crate) fn split(self, n: usize) -> Vec<SpillJob> {
        let total: usize = self.files.iter().map(|(_, b)| b.len()).sum();
        let per = total.div_ceil(n.max(1)).max(1);
        let mut jobs = Vec::new();
        let empty = || SpillJob { files: Vec::new() };
        let mut cur = empty();
        let mut held = 0;
        for f in self.files {
            held += f.1.len();
            cur.files.push(f);
            if held >= per {
                jobs.push(std::mem::replace(&mut cur, empty()));
                held = 0;
            }
        }
        if !cur.files.is_empty() {
            jobs.push(cur);
        }
        jobs
    }

    /// Append the pairs to the files, freeing each partition's buffer once
    /// it is written.
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn write(self) -> Result<(), IndexError> {
        for (path, buf) in self.files {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| IndexError::io(&path, e))?;
            let mut w = BufWriter::with_capacity(1 << 16, f);
            for pair in &buf {
                let (k, pos, ctx) = (pair.key, pair.pos, pair.ctx);
                w.write_all(&k.to_le_bytes())
                    .and_then(|()| w.write_all(&pos.to_le_bytes()))
                    .and_then(|()| w.write_all(&ctx.to_le_bytes()))
                    .map_err(|e| IndexError::io(&path, e))?;
            }
            w.flush().map_err(|e| IndexError::io(&path, e))?;
        }
        Ok(())
    }
}

impl Drop for KeySink {
    fn drop(&mut self) {
        for p in self.spilled.iter().flatten() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The output of one partition, in key order.
pub(crate) struct Written<'a> {
    /// Directory entries of its buckets: posting counts before each bucket,
    /// relative to the partition (add `base`).
    pub(crate) dir: &'a [u32],
    /// Its postings, encoded.
    pub(crate) postings: &'a [u8],
    /// Postings of the partitions before it.
    pub(crate) base: u64,
    /// Its keys found in at least `min_docs` parts of the segment, sorted.
    pub(crate) frequent: &'a [Frequent],
    /// Its keys as [`KeyTotals`] asks, sorted.
    pub(crate) global: &'a [Frequent],
}

/// Which keys [`KeySink::finish`] reports in [`Written::global`], with
/// which counts.
#[derive(Clone, Copy)]
pub(crate) enum KeyTotals<'a> {
    /// The keys found in at least `min_docs` parts of this segment (the
    /// same as `frequent`): a segment that is the whole index.
    Segment,
    /// The keys found in at least `min_docs` parts of this segment plus
    /// the given number of live parts elsewhere in the index (appends).
    WithEarlier(&'a (dyn Fn(u64) -> u32 + Sync)),
    /// Every key, with its parts in this segment however few: a piece of
    /// a build whose counts are summed across pieces afterwards
    /// (`Indexer::build_piece`).
    Every,
}

struct Partition {
    dir: Vec<u32>,
    postings: Vec<u8>,
    frequent: Vec<Frequent>,
    global: Vec<Frequent>,
}

/// Which buckets a partition holds.
#[derive(Clone, Copy)]
struct Geometry {
    index: usize,
    dir_bits: u32,
    buckets: usize,
    /// The shard kept (the partition's pairs of other shards are dropped).
    shard: Option<ShardFilter>,
    /// More parts than a [`SortWord`] tells apart by ordinal.
    wide_parts: bool,
}

fn build_partition(
    g: Geometry,
    pairs: Vec<Pair>,
    spill: Option<PathBuf>,
    min_docs: u32,
    part_of: &(dyn Fn(u32) -> (u32, u32) + Sync),
    totals: KeyTotals<'_>,
) -> Result<Partition, IndexError> {
    let Geometry {
        index,
        dir_bits,
        buckets,
        shard,
        wide_parts,
    } = g;
    // Every pair becomes one sortable word carrying its part ordinal,
    // found here, before the sort: the pairs are pushed in position order
    // (the spilled ones first), so the look-ups walk the part tables
    // forward, in cache, and every position inside the part found last
    // needs none. Looking the parts up after the sort, key group by key
    // group, cost a cache miss or two per posting once the tables
    // outgrew the cache (12.8% of a 5 GB mailbox's build).
    let shift = 48 - dir_bits;
    let mut words: Vec<u128> = Vec::with_capacity(pairs.len());
    let mut walk = PartWalk::new(part_of);
    let keep = |key: u64| shard.is_none_or(|s| shard_of(key, dir_bits, s.bits) == s.index);
    if let Some(path) = spill {
        let f = File::open(&path).map_err(|e| IndexError::io(&path, e))?;
        let len = f.metadata().map_err(|e| IndexError::io(&path, e))?.len();
        words.reserve((len / PAIR_BYTES as u64) as usize);
        let mut r = BufReader::with_capacity(1 << 16, f);
        let mut rec = [0u8; PAIR_BYTES];
        loop {
            match r.read_exact(&mut rec) {
                Ok(()) => {
                    let mut k = [0u8; 8];
                    k.copy_from_slice(&rec[..8]);
                    let mut p = [0u8; 4];
                    p.copy_from_slice(&rec[8..12]);
                    let (key, pos) = (u64::from_le_bytes(k), u32::from_le_bytes(p));
                    if keep(key) {
                        let ctx = u16::from_le_bytes([rec[12], rec[13]]);
                        words.push(SortWord::pack(key, pos, walk.part(pos), ctx, shift));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(IndexError::io(&path, e)),
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    for p in &pairs {
        let (key, pos, ctx) = (p.key, p.pos, p.ctx);
        if keep(key) {
            words.push(SortWord::pack(key, pos, walk.part(pos), ctx, shift));
        }
    }
    drop(pairs);
    // Order: identity (the top dir_bits + 16 bits), then position.
    let _ = sort_words(&mut words, buckets, shift);
    let first_bucket = index * buckets;
    let mut dir = Vec::with_capacity(buckets);
    let mut postings = Vec::with_capacity(words.len() * Posting::LEN);
    let mut frequent = Vec::new();
    let mut global = Vec::new();
    let mut keys: Vec<u64> = Vec::new();
    let mut i = 0usize;
    for b in 0..buckets {
        dir.push((postings.len() / Posting::LEN) as u32);
        while i < words.len()
            && bucket_of(SortWord::key(words[i], shift), dir_bits) == first_bucket + b
        {
            // One identity group.
            let id = SortWord::identity(words[i], shift);
            let start = i;
            while i < words.len() && SortWord::identity(words[i], shift) == id {
                Posting {
                    frag: fragment(SortWord::key(words[i], shift), dir_bits),
                    pos: SortWord::pos(words[i], shift),
                    ctx: SortWord::context(words[i]),
                }
                .push_to(&mut postings);
                i += 1;
            }
            let group = &words[start..i];
            if group.len() < min_docs as usize && matches!(totals, KeyTotals::Segment) {
                continue;
            }
            // Positions ascend within a group, and so do their parts. A
            // word keeps the low 16 bits of its part's ordinal: in a
            // segment of more than 2^16 parts, two postings whose ordinals
            // agree there are looked up to tell whether they share a part.
            let mut docs = 0u32;
            let mut last: Option<(u32, u32)> = None;
            for &w in group {
                let (d, pos) = (SortWord::part(w), SortWord::pos(w, shift));
                let same = last.is_some_and(|(ld, lpos)| {
                    ld == d && (!wide_parts || part_of(lpos).0 == part_of(pos).0)
                });
                if !same {
                    docs += 1;
                }
                last = Some((d, pos));
            }
            keys.clear();
            keys.extend(group.iter().map(|&w| SortWord::key(w, shift)));
            keys.sort_unstable();
            keys.dedup();
            for &key in &keys {
                if docs >= min_docs {
                    frequent.push(Frequent { key, docs });
                }
                let (total, keep) = match totals {
                    KeyTotals::Segment => (docs, docs >= min_docs),
                    KeyTotals::WithEarlier(f) => {
                        let t = docs.saturating_add(f(key));
                        (t, t >= min_docs)
                    }
                    KeyTotals::Every => (docs, true),
                };
                if keep {
                    global.push(Frequent { key, docs: total });
                }
            }
        }
    }
    frequent.sort_unstable();
    global.sort_unstable();
    Ok(Partition {
        dir,
        postings,
        frequent,
        global,
    })
}

/// A pair packed into one `u128` whose integer order is the postings'
/// order, with its context and the low 16 bits of its part's ordinal
/// in the low bits: `identity | position | rest of the key | context |
/// part`, where the identity is the key's top `64 - shift` bits
/// (`shift = 48 - dir_bits`). Sorting the words sorts by identity, then
/// position (a key has one posting per position, so the lower fields never
/// decide).
struct SortWord;

/// Bits of a part's ordinal a [`SortWord`] keeps (the rest of its low 32
/// bits holds the 16-bit context).
const PART_BITS: u32 = 16;

impl SortWord {
    fn pack(key: u64, pos: u32, part: u32, ctx: u16, shift: u32) -> u128 {
        let low = u128::from(key & ((1u64 << shift) - 1));
        (u128::from(key >> shift) << (64 + shift))
            | (u128::from(pos) << (32 + shift))
            | (low << 32)
            | (u128::from(ctx) << PART_BITS)
            | u128::from(part & ((1 << PART_BITS) - 1))
    }

    /// The low [`PART_BITS`] bits of the part's ordinal.
    fn part(w: u128) -> u32 {
        (w as u32) & ((1 << PART_BITS) - 1)
    }

    fn context(w: u128) -> u16 {
        (w as u32 >> PART_BITS) as u16
    }

    fn identity(w: u128, shift: u32) -> u64 {
        (w >> (64 + shift)) as u64
    }

    fn key(w: u128, shift: u32) -> u64 {
        let low = ((w >> 32) as u64) & ((1u64 << shift) - 1);
        (Self::identity(w, shift) << shift) | low
    }

    fn pos(w: u128, shift: u32) -> u32 {
        (w >> (32 + shift)) as u32
    }
}

/// Sorts one partition's words into integer order, as `sort_unstable`
/// would. The pairs come in ascending position order (parts are pushed in
/// order, spills before the buffer), and a key has one posting per
/// position, so that order is a stable sort by identity: a least
/// significant digit radix sort, two passes over the fragment's bytes and
/// one over the bucket (the key bits below the partition's, `buckets` of
/// them). Words not in position order (never seen; checked) take the
/// comparison sort. Returns whether the radix sort was used.
///
/// Measured with callgrind on a one-thread build of 13.9 MB of the scale
/// corpus: the comparison sort took 234 M of 1,814 M instructions and the
/// rest of the partitions' work 82 M; with the three passes the whole of
/// it takes 166 M (and about 3 M more in memset). A counting sort by
/// bucket with each bucket then sorted by comparison saved nothing (8.4%
/// of a profile before, 8.4% after).
fn sort_words(words: &mut Vec<u128>, buckets: usize, shift: u32) -> bool {
    debug_assert!(buckets.is_power_of_two());
    if !words
        .windows(2)
        .all(|p| SortWord::pos(p[0], shift) < SortWord::pos(p[1], shift))
    {
        words.sort_unstable();
        return false;
    }
    let identity = |w: u128| SortWord::identity(w, shift) as usize;
    let mut other = vec![0u128; words.len()];
    scatter(words, &mut other, 256, |w| identity(w) & 0xFF);
    scatter(&other, words, 256, |w| (identity(w) >> 8) & 0xFF);
    scatter(words, &mut other, buckets, |w| {
        (identity(w) >> 16) & (buckets - 1)
    });
    *words = other;
    true
}

/// One stable counting-sort pass: `from` into `to` by `digit` (below
/// `radix`).
fn scatter(from: &[u128], to: &mut [u128], radix: usize, digit: impl Fn(u128) -> usize) {
    let mut next = vec![0usize; radix];
    for &w in from {
        next[digit(w)] += 1;
    }
    let mut at = 0usize;
    for n in next.iter_mut() {
        let count = *n;
        *n = at;
        at += count;
    }
    for &w in from {
        let d = digit(w);
        to[next[d]] = w;
        next[d] += 1;
    }
}

/// Part look-ups over positions that mostly ascend: a position inside the
/// part found last (at or after the position looked up, before that
/// part's end) needs no look-up. Correct in any order.
struct PartWalk<'a> {
    part_of: &'a (dyn Fn(u32) -> (u32, u32) + Sync),
    /// (position looked up last, its part, the end of that part).
    last: Option<(u32, u32, u32)>,
}

impl<'a> PartWalk<'a> {
    fn new(part_of: &'a (dyn Fn(u32) -> (u32, u32) + Sync)) -> Self {
        PartWalk {
            part_of,
            last: None,
        }
    }

    fn part(&mut self, pos: u32) -> u32 {
        if let Some((from, d, end)) = self.last {
            if pos >= from && pos < end {
                return d;
            }
        }
        let (d, end) = (self.part_of)(pos);
        self.last = Some((pos, d, end));
        d
    }
}

#[cfg(test)]
mod tests {
    use super::{
        build_partition, sort_words, Geometry, IndexError, KeySink, KeyTotals, Pair, PartWalk,
        Posting, SortWord, MIN_DIR_BITS, PAIR_BYTES, PARTITIONS, PARTITION_BITS,
    };
    use crate::index::wire::Record;
    use proptest::prelude::*;

    /// Everything `KeySink::finish` writes, and the pairs it counted.
    fn finish(sink: KeySink, threads: usize) -> (Vec<u8>, Vec<u32>, usize, u64) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (mut postings, mut dir, mut frequent) = (Vec::new(), Vec::new(), 0);
        let part_of = |pos: u32| (pos >> 12, ((pos >> 12) + 1) << 12);
        let n = sink
            .finish(&pool, 2, &part_of, 1 << 20, KeyTotals::Segment, &mut |w| {
                postings.extend_from_slice(w.postings);
                dir.extend(w.dir.iter().map(|&d| d + w.base as u32));
                frequent += w.frequent.len();
                Ok(())
            })
            .unwrap();
        (postings, dir, frequent, n)
    }

    /// Push `parts` into a sink of the smallest budget; with `deferred`,
    /// every spill is set aside and its jobs written on other threads,
    /// as the builder's pipeline does.
    fn fill(dir: &std::path::Path, parts: &[Vec<(u64, u32, u16)>], deferred: bool) -> KeySink {
        let mut sink = KeySink::new(dir, 0);
        let mut base = 0u32;
        for fps in parts {
            sink.defer_spills(deferred);
            sink.push_part(fps, base).unwrap();
            sink.defer_spills(false);
            let jobs = sink.take_spill(3);
            std::thread::scope(|s| {
                for job in jobs {
                    s.spawn(move || job.write().unwrap());
                }
            });
            base += 1 << 12;
        }
        sink
    }

    /// Parts of pairs enough to spill the smallest key buffer several
    /// times: keys from a small set (so that identities repeat and some
    /// are frequent), positions ascending within each part.
    fn parts(seed: u64, count: usize) -> Vec<Vec<(u64, u32, u16)>> {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..count)
            .map(|_| {
                (0..40_000u32)
                    .map(|i| {
                        let key = (next() % 5_000).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                        (key, i / 16, next() as u16)
                    })
                    .collect()
            })
            .collect()
    }

    /// Spills set aside and written on other threads (the builder's
    /// pipeline) give the segment that spills written at once give, at
    /// any thread count of the final phase.
    #[test]
    fn deferred_spills_write_what_spills_in_place_write() {
        let parts = parts(7, 6);
        let total: usize = parts.iter().map(Vec::len).sum();
        // The smallest buffer holds 1 << 16 pairs: the parts spill it.
        assert!(total > 3 << 16, "{total} pairs at {PAIR_BYTES} bytes");
        let d = tempfile::tempdir().unwrap();
        let (da, db) = (d.path().join("a"), d.path().join("b"));
        std::fs::create_dir_all(&da).unwrap();
        std::fs::create_dir_all(&db).unwrap();
        let in_place = finish(fill(&da, &parts, false), 1);
        let deferred = fill(&db, &parts, true);
        let spilled = deferred.spilled.iter().flatten().count();
        assert!(spilled > 0, "nothing spilled");
        let deferred = finish(deferred, 3);
        assert_eq!(in_place.3, total as u64);
        assert!(in_place.2 > 0, "no frequent key");
        assert_eq!(in_place, deferred);
        // The spill files are gone.
        assert_eq!(std::fs::read_dir(&db).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(&da).unwrap().count(), 0);
    }

    /// The final phase writes every partition once, in order, whatever
    /// the thread count (partitions are built ahead of the writing, and
    /// finish out of order); a write that fails stops it with that error,
    /// after no later partition.
    #[test]
    fn partitions_are_written_in_order_and_a_failed_write_stops_them() {
        let parts = parts(5, 3);
        for threads in [1, 2, 5] {
            let d = tempfile::tempdir().unwrap();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let part_of = |pos: u32| (pos >> 12, ((pos >> 12) + 1) << 12);
            // The partitions' frequent keys, as written: partitions are
            // ranges of keys, so in order they ascend, and a partition
            // written twice or left out shows (each holds some).
            let (mut keys, mut calls, mut postings) = (Vec::new(), 0, 0u64);
            let n = fill(d.path(), &parts, false)
                .finish(&pool, 2, &part_of, 1 << 20, KeyTotals::Segment, &mut |w| {
                    assert_eq!(w.base, postings);
                    postings += (w.postings.len() / Posting::LEN) as u64;
                    keys.push(w.frequent.iter().map(|f| f.key).collect::<Vec<_>>());
                    calls += 1;
                    Ok(())
                })
                .unwrap();
            assert_eq!(calls, PARTITIONS);
            assert_eq!(postings, n);
            let with_keys = keys.iter().filter(|k| !k.is_empty()).count();
            assert!(
                with_keys > PARTITIONS * 3 / 4,
                "{with_keys} partitions with keys"
            );
            let all: Vec<u64> = keys.concat();
            assert!(all.windows(2).all(|k| k[0] < k[1]), "keys out of order");
            // A write that fails, at the 300th partition.
            let mut written = 0;
            let err = fill(d.path(), &parts, false)
                .finish(&pool, 2, &part_of, 1 << 20, KeyTotals::Segment, &mut |_| {
                    written += 1;
                    if written == 300 {
                        return Err(IndexError::Interrupted);
                    }
                    Ok(())
                })
                .err();
            assert!(matches!(err, Some(IndexError::Interrupted)), "{err:?}");
            assert_eq!(written, 300);
        }
    }

    /// A deferred spill that cannot be written, written on another thread,
    /// returns its error there (the builder fails the build with it).
    #[test]
    fn a_deferred_spill_that_fails_fails_the_build() {
        let d = tempfile::tempdir().unwrap();
        let gone = d.path().join("gone");
        let mut sink = KeySink::new(&gone, 0);
        let parts = parts(11, 2);
        sink.defer_spills(true);
        sink.push_part(&parts[0], 0).unwrap();
        sink.push_part(&parts[1], 1 << 12).unwrap();
        let jobs = sink.take_spill(2);
        assert!(!jobs.is_empty());
        // Written on another thread, as the builder does.
        let errors: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .into_iter()
                .map(|j| s.spawn(move || j.write()))
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().unwrap().err())
                .collect()
        });
        let err = errors
            .into_iter()
            .next()
            .expect("a spill into a missing folder fails");
        assert!(err.to_string().contains("keys-"), "{err}");
    }

    /// Parts told apart only by the ordinal bits a sort word drops: in a
    /// segment with that many parts, the part counts look the parts up.
    #[test]
    fn part_counts_survive_ordinals_past_24_bits() {
        let key = 0x0000_1234_5678_9abc_u64;
        let pairs: Vec<Pair> = (0..6u32).map(|pos| Pair { key, pos, ctx: 0 }).collect();
        // Position p is in part p << 24 (ordinals ascend with positions,
        // as parts tile the normalized space), and each part is one byte.
        let part_of = |pos: u32| (pos << 24, pos + 1);
        let docs = |wide_parts: bool| {
            let g = Geometry {
                index: 0,
                dir_bits: MIN_DIR_BITS,
                buckets: 1,
                shard: None,
                wide_parts,
            };
            let p = build_partition(g, pairs.clone(), None, 1, &part_of, KeyTotals::Every).unwrap();
            assert_eq!(p.global.len(), 1);
            p.global[0].docs
        };
        assert_eq!(docs(true), 6);
        // Without the look-up the six parts would count as one.
        assert_eq!(docs(false), 1);
    }

    proptest! {
        #[test]
        fn sort_words_unpack_and_order_as_identity_then_position(
            dir_bits in 10u32..=31,
            a in (any::<u64>(), any::<u32>(), any::<u32>(), any::<u16>()),
            b in (any::<u64>(), any::<u32>(), any::<u32>(), any::<u16>()),
        ) {
            let shift = 48 - dir_bits;
            let wa = SortWord::pack(a.0, a.1, a.2, a.3, shift);
            let wb = SortWord::pack(b.0, b.1, b.2, b.3, shift);
            prop_assert_eq!(SortWord::key(wa, shift), a.0);
            prop_assert_eq!(SortWord::pos(wa, shift), a.1);
            prop_assert_eq!(SortWord::part(wa), a.2 & 0xFFFF);
            prop_assert_eq!(SortWord::context(wa), a.3);
            prop_assert_eq!(SortWord::identity(wa, shift), a.0 >> shift);
            // The naive order: identity, then position.
            let (oa, ob) = ((a.0 >> shift, a.1), (b.0 >> shift, b.1));
            if oa != ob {
                prop_assert_eq!(wa.cmp(&wb), oa.cmp(&ob));
            }
        }

        #[test]
        fn sort_words_is_the_comparison_sort(
            dir_bits in 10u32..=20,
            partition in 0u64..(1 << PARTITION_BITS),
            // Few distinct keys, so that buckets and identities repeat.
            keys in proptest::collection::vec((0u64..64, any::<u64>()), 0..400),
            mut positions in proptest::collection::vec(any::<u32>(), 400),
            ascending in any::<bool>(),
        ) {
            if ascending {
                // As the pairs come (the radix sort's case).
                let mut at = 0u32;
                for p in positions.iter_mut() {
                    at += *p % 1000 + 1;
                    *p = at;
                }
            }
            let shift = 48 - dir_bits;
            let buckets = 1usize << (dir_bits - PARTITION_BITS);
            let words: Vec<u128> = keys
                .iter()
                .zip(&positions)
                .map(|(&(pick, noise), &pos)| {
                    // The partition's top bits, then a key from a small
                    // set, or any key of the partition.
                    let rest = if noise % 3 == 0 { noise } else { pick.wrapping_mul(0x9E37_79B9_7F4A_7C15) };
                    let key = (partition << (64 - PARTITION_BITS)) | (rest >> PARTITION_BITS);
                    SortWord::pack(key, pos, pos ^ 0x5555, noise as u16, shift)
                })
                .collect();
            let mut naive = words.clone();
            naive.sort_unstable();
            let mut fast = words;
            let radix = sort_words(&mut fast, buckets, shift);
            prop_assert_eq!(fast, naive);
            if ascending {
                prop_assert!(radix, "ascending positions take the radix sort");
            }
        }

        #[test]
        fn part_walk_answers_as_the_look_up(
            mut bases in proptest::collection::vec(0u32..100_000, 1..60),
            runs in proptest::collection::vec(
                proptest::collection::vec(0u32..110_000, 0..80), 1..4),
        ) {
            bases.sort_unstable();
            bases.dedup();
            let find = |pos: u32| {
                let i = bases.partition_point(|&b| b <= pos).saturating_sub(1);
                let end = bases.get(i + 1).copied().unwrap_or(u32::MAX);
                (i as u32, end)
            };
            let mut walk = PartWalk::new(&find);
            // Ascending runs, as the pairs come, and their concatenation
            // (which need not ascend).
            for mut run in runs {
                run.sort_unstable();
                for pos in run {
                    prop_assert_eq!(walk.part(pos), find(pos).0);
                }
            }
        }
    }
}
