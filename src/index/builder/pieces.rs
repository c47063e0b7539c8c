//! Building one index in pieces, by workers that share nothing but the
//! output folder: a Spark job (`python3 -m leakprint.spark build`), a batch
//! of processes, a cluster scheduler.
//!
//! ```text
//! driver   begin_pieces(output)              -> generation G (folder checked or created)
//! workers  build_piece(entries_i, output, G, i)  -> seg-G-i.lps + seg-G-i.lpk   (any order, retried at will)
//! reduce   sum the .lpk counts of every key over the pieces; keep totals >= common_min_docs
//! driver   commit_pieces(output, G, pieces, frequent) -> state + manifest (the commit point)
//! ```
//!
//! A piece is a segment built by the same code as every other segment
//! (`Indexer::write_segment`), from its entries in the order given, and
//! its key-count file ([`crate::index::keycount`]). Both are written under
//! temporary names and renamed; their names depend only on the generation
//! and the piece number, and their bytes only on the entries (builds are
//! deterministic), so a retried or speculative attempt of a piece renames
//! the same bytes over the same name. Nothing a piece writes is visible:
//! readers open an index through its manifest, which only
//! [`Indexer::commit_pieces`] writes, once, with the state (the common
//! keys of the whole index) beside it; the commit then removes the
//! key-count files and whatever no manifest names (pieces of failed
//! attempts, temporaries).
//!
//! Equality with a build on one machine: content is deduplicated inside a
//! piece only. A caller that puts files of the same size in the same piece
//! (byte-identical files have the same size) gets copies recorded as one
//! build records them; parts with identical text in different files of
//! different pieces are stored once per piece and count once per piece
//! towards the common keys (a one-machine build stores them once).

use std::path::Path;

use super::super::keycount::KeyCountWriter;
use super::super::manifest::{Manifest, SegmentEntry};
use super::super::state::State;
use super::super::wire::Frequent;
use super::super::{IndexError, Params, Segment};
use super::output::prepare_output;
use super::prior::Earlier;
use super::read::Source;
use super::run::KeyCounting;
use super::walk::Entry;
use super::write::SegmentWriter;
use super::{header_of, BuildSummary, Indexer, Progress};
use std::collections::HashMap;

/// File name of piece `piece`'s segment in generation `generation`.
pub fn piece_segment_name(generation: u64, piece: u32) -> String {
    super::output::segment_name(generation, u64::from(piece))
}

/// File name of piece `piece`'s key counts in generation `generation`.
pub fn piece_keys_name(generation: u64, piece: u32) -> String {
    let seg = piece_segment_name(generation, piece);
    format!("{}.lpk", seg.trim_end_matches(".lps"))
}

impl Indexer {
    /// Start a build in pieces into the index folder `output` (created if
    /// missing; an existing index stays visible until the commit, which
    /// replaces it). Returns the generation the pieces are written under.
    ///
    /// # Errors
    /// An output that is not an index folder, or I/O errors.
    pub fn begin_pieces(&self, output: &Path) -> Result<u64, IndexError> {
        let existing = prepare_output(output)?;
        Ok(existing.map_or(0, |m| m.generation) + 1)
    }

    /// Build piece number `piece` (1, 2, ...) of generation `generation`
    /// from `entries`, in that order: its segment
    /// ([`piece_segment_name`]) and its key counts ([`piece_keys_name`])
    /// in `output`, each published atomically. Fingerprints spill into
    /// `scratch` (a local folder) when they pass the memory budget.
    /// Running it again with the same arguments writes the same bytes.
    ///
    /// # Errors
    /// I/O errors, an interruption, or more text than one segment holds
    /// (`IndexError::PieceTooLarge`: cut the input into more pieces).
    /// Unreadable inputs are not errors: they are recorded as skipped.
    pub fn build_piece(
        &self,
        entries: Vec<Entry>,
        output: &Path,
        generation: u64,
        piece: u32,
        scratch: &Path,
        progress: &dyn Progress,
    ) -> Result<BuildSummary, IndexError> {
        let started = std::time::Instant::now();
        let params = self.params();
        let seg_path = output.join(piece_segment_name(generation, piece));
        let keys_path = output.join(piece_keys_name(generation, piece));
        progress.start(entries.len() as u64, super::disk_bytes(&entries));
        let mut sources = super::batch::Sources::new(entries.into_iter().map(Source::from));
        let mut w = SegmentWriter::file(&seg_path, &header_of(params))?;
        let mut keys = KeyCountWriter::create(&keys_path, params)?;
        let mut summary = BuildSummary::default();
        let (finished, _, _) = self.write_segment(
            params,
            &mut sources,
            scratch,
            &mut w,
            &Earlier::empty(),
            KeyCounting::Every(&mut keys),
            &mut HashMap::new(),
            &mut Vec::new(),
            None,
            progress,
            &mut summary,
        )?;
        if sources.peek().is_some() {
            return Err(IndexError::PieceTooLarge {
                piece,
                limit: self.cfg.segment_norm,
            });
        }
        let (written, _) = w.finish()?;
        keys.commit(finished.owners)?;
        summary.segments = 1;
        summary.index_bytes = written;
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Make the pieces `pieces` of generation `generation` the index in
    /// `output`: write the index state, with `frequent` as its frequent
    /// keys, then the manifest (the commit point), then remove the
    /// key-count files and everything no manifest names.
    ///
    /// `frequent` holds the keys of the whole index with their summed
    /// counts (the reduce of the pieces' key counts); those below this
    /// indexer's `common_min_docs` are dropped, so the whole sum may be
    /// given. Every piece must have been built with this indexer's
    /// parameters, and every input entry put in exactly one piece.
    ///
    /// # Errors
    /// A missing or corrupt piece, a piece built with other parameters,
    /// `frequent` not strictly increasing by key, another build having
    /// committed to `output` since [`Indexer::begin_pieces`], or I/O
    /// errors. Nothing is published then.
    pub fn commit_pieces(
        &self,
        output: &Path,
        generation: u64,
        pieces: &[u32],
        mut frequent: Vec<Frequent>,
    ) -> Result<BuildSummary, IndexError> {
        let started = std::time::Instant::now();
        let params = self.params();
        // Read, not `prepare_output`: before a first commit the folder holds
        // only the pieces, which that would clear as leftovers.
        let before = if output.join(super::MANIFEST_NAME).exists() {
            Manifest::read(output)?.generation
        } else {
            0
        };
        if before + 1 != generation {
            return Err(IndexError::Manifest {
                path: output.join(super::MANIFEST_NAME),
                detail: format!(
                    "generation {before} is committed; pieces of generation {generation} cannot be (another build committed meanwhile?)"
                ),
            });
        }
        if frequent.windows(2).any(|w| w[0].key >= w[1].key) {
            return Err(IndexError::Corrupt {
                section: "key counts",
                detail: "the frequent keys given to the commit are not strictly increasing".into(),
            });
        }
        frequent.retain(|f| f.docs >= self.cfg.common_min_docs);
        let mut summary = BuildSummary::default();
        let mut manifest = Manifest {
            generation,
            ..Manifest::new(params)
        };
        let mut live_texts = 0u64;
        let mut sorted = pieces.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for &piece in &sorted {
            let name = piece_segment_name(generation, piece);
            let path = output.join(&name);
            let storage =
                crate::fileio::map_readonly(&path).map_err(|e| IndexError::io(&path, e))?;
            let seg =
                Segment::from_storage(Box::new(storage)).map_err(|e| IndexError::InSegment {
                    path: path.clone(),
                    source: Box::new(e),
                })?;
            let sp = Params::from(seg.header());
            if sp != params {
                return Err(IndexError::ParamsMismatch {
                    path,
                    what: sp.describe(),
                    expected: params.describe(),
                });
            }
            let m = seg.meta();
            live_texts += u64::from(m.part_hashes);
            summary.files += u64::from(m.files);
            summary.parts += u64::from(m.parts);
            summary.postings += m.postings;
            summary.text_bytes += m.text_bytes;
            summary.chunks += u64::from(m.chunks);
            summary.segments += 1;
            summary.index_bytes += seg.bytes().len() as u64;
            manifest.segments.push(SegmentEntry {
                file: name,
                bytes: seg.bytes().len() as u64,
                files: u64::from(m.files),
                parts: u64::from(m.parts),
            });
        }
        let state = State {
            generation,
            live_texts,
            frequent,
            ..self.empty_state()
        };
        self.publish(output, &mut manifest, state, &mut summary)?;
        for &piece in &sorted {
            let _ = std::fs::remove_file(output.join(piece_keys_name(generation, piece)));
        }
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }
}

/// Cut the entries of a walk ([`super::walk::walk`]) into at most `pieces`
/// pieces of about the same number of bytes, for [`Indexer::build_piece`].
///
/// Files of the same size always go to the same piece, so that
/// byte-identical files meet in one piece and are recorded as copies as
/// one build records them. Groups of one size are placed largest first,
/// each in the piece with the fewest bytes so far (the first on ties);
/// inside a piece the entries keep their walk order. Empty pieces are
/// dropped, except that an empty walk gives one empty piece. The plan
/// depends only on the entries and their sizes.
pub fn plan_pieces(entries: Vec<Entry>, pieces: usize) -> Vec<Vec<Entry>> {
    // More pieces than entries would only add empty pieces (dropped): the
    // plan is the same with as many as there are entries, and the tables
    // below stay the size of the walk whatever count is asked for.
    let pieces = pieces.clamp(1, entries.len().max(1));
    // (size, walk position) of every entry; skipped entries are their own
    // group of no bytes.
    let sized: Vec<(Option<u64>, Entry)> = entries
        .into_iter()
        .map(|e| {
            let size = match &e {
                Entry::File { size, .. } => Some(*size),
                Entry::Skipped { .. } => None,
            };
            (size, e)
        })
        .collect();
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut loners: Vec<usize> = Vec::new();
    for (i, (size, _)) in sized.iter().enumerate() {
        match size {
            Some(s) => groups.entry(*s).or_default().push(i),
            None => loners.push(i),
        }
    }
    // (bytes, first position, members)
    let mut order: Vec<(u64, usize, Vec<usize>)> = groups
        .into_iter()
        .map(|(size, members)| (size * members.len() as u64, members[0], members))
        .chain(loners.into_iter().map(|i| (0, i, vec![i])))
        .collect();
    order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut load = vec![0u64; pieces];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); pieces];
    for (bytes, _, m) in order {
        let (target, _) = load
            .iter()
            .enumerate()
            .min_by_key(|&(i, l)| (*l, i))
            .unwrap_or((0, &0));
        load[target] += bytes;
        members[target].extend(m);
    }
    let mut slots: Vec<Option<Entry>> = sized.into_iter().map(|(_, e)| Some(e)).collect();
    let mut out: Vec<Vec<Entry>> = members
        .into_iter()
        .filter(|m| !m.is_empty())
        .map(|mut m| {
            m.sort_unstable();
            m.into_iter().filter_map(|i| slots[i].take()).collect()
        })
        .collect();
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

impl From<Entry> for Source {
    fn from(e: Entry) -> Source {
        match e {
            Entry::File { path, display, .. } => Source::Disk {
                path,
                name: display,
            },
            Entry::Skipped { display, reason } => Source::Skipped {
                name: display,
                reason,
            },
        }
    }
}
