//! Cutting an index into shards by key (`leakprint compact --shards N`);
//! the layout and why lookups stay exact are in `index::shards`.
//!
//! The live files are built once as one compaction builds them (which
//! gives the common keys of the whole index and the segment boundaries),
//! then once per shard with the postings filtered ([`ShardFilter`]): the
//! same files, so the same segments, texts and duplicates, and in each
//! segment the postings of the shard's keys under a directory `log2 N`
//! bits smaller. Each shard is a folder with its own manifest (saying
//! which shard of which set it is); the index folder's manifest, written
//! last, names the shards and the state: that write is the commit, as for
//! every other change of an index. Cost: N + 1 builds of the stored text
//! on one machine; the shards are independent, so a cluster can build
//! them side by side (`build_shard`, as the Spark build does).

use std::path::Path;
use std::time::Instant;

use super::postings::ShardFilter;
use super::prior::Earlier;
use super::read::Source;
use super::{BuildSummary, Indexer, Progress, State};
use crate::error::ConfigError;
use crate::index::manifest::{Manifest, SegmentEntry, ShardOf};
use crate::index::shards::MAX_SHARDS;
use crate::index::{Index, IndexError};

/// The folder name of shard `i` of the set written at `generation`.
pub fn shard_folder_name(generation: u64, i: u32) -> String {
    format!("shard-{generation:06}-{i:03}")
}

/// Whether `name` is a shard folder's name (`shard-GGGGGG-III`).
pub(crate) fn is_shard_folder(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 16
        && name.starts_with("shard-")
        && b[12] == b'-'
        && b[6..12].iter().chain(&b[13..]).all(u8::is_ascii_digit)
}

impl Indexer {
    /// Cut the index folder `dir` into `shards` shards by key (a power of
    /// two, 1 to 1024; 1 is a plain [`Indexer::compact`]). The result is
    /// compacted (superseded and removed files are dropped) and gives the
    /// same matches as the unsharded compaction, field for field.
    ///
    /// # Errors
    /// A shard count that is no power of two or out of range, a segment
    /// with too few postings for that many shards, I/O errors or a
    /// corrupt index; nothing is published then.
    pub fn compact_shards(
        &self,
        dir: &Path,
        shards: u32,
        progress: &dyn Progress,
    ) -> Result<BuildSummary, IndexError> {
        if !shards.is_power_of_two() || shards > MAX_SHARDS {
            return Err(ConfigError::Inconsistent(
                "the number of shards must be a power of two from 1 to 1024 (shards are cut by key bits)",
            )
            .into());
        }
        if shards == 1 {
            return self.compact(dir, progress);
        }
        let started = Instant::now();
        let mut manifest = Manifest::read(dir)?;
        let index = Index::open(dir)?;
        let params = manifest.params;
        manifest.generation += 1;
        let generation = manifest.generation;
        let fp = self.fp(params);
        let state = self.compaction_state(&index);
        let files = super::super::compact::stored_files(&index, fp)?;
        progress.start(files.len() as u64 * (u64::from(shards) + 1), 0);
        // The whole index, unsharded: the common keys and the segments
        // every shard must reproduce. Its segments are not published.
        let mut summary = BuildSummary::default();
        let whole = self.run(
            params,
            files.into_iter().map(|f| Source::Stored(Box::new(f))),
            dir,
            generation,
            Earlier::empty(),
            state.clone(),
            None,
            progress,
            &mut summary,
        )?;
        let bits = shards.trailing_zeros();
        let mut names = Vec::with_capacity(shards as usize);
        summary.index_bytes = 0;
        for i in 0..shards {
            let name = shard_folder_name(generation, i);
            let folder = dir.join(&name);
            let written = self.build_shard(
                &index,
                &folder,
                ShardFilter { bits, index: i },
                state.clone(),
                progress,
            )?;
            if written.len() != whole.written.len()
                || written
                    .iter()
                    .zip(&whole.written)
                    .any(|(a, b)| (a.files, a.parts) != (b.files, b.parts))
            {
                return Err(IndexError::Corrupt {
                    section: "shards",
                    detail: format!(
                        "shard {i} was cut into other segments than the index ({} against {})",
                        written.len(),
                        whole.written.len()
                    ),
                });
            }
            summary.index_bytes += written.iter().map(|s| s.bytes).sum::<u64>();
            let m = Manifest {
                generation: 1,
                segments: written,
                shard: Some(ShardOf {
                    index: i,
                    count: shards,
                    set: generation,
                }),
                ..Manifest::new(params)
            };
            m.write(&folder)?;
            names.push(name);
        }
        drop(index);
        manifest.segments.clear();
        manifest.shards = names;
        self.publish(dir, &mut manifest, whole.state, &mut summary)?;
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Write one shard's segments into `folder` (created, or emptied of an
    /// interrupted attempt), from the live files of `index`.
    fn build_shard(
        &self,
        index: &Index,
        folder: &Path,
        shard: ShardFilter,
        state: State,
        progress: &dyn Progress,
    ) -> Result<Vec<SegmentEntry>, IndexError> {
        if folder.exists() {
            std::fs::remove_dir_all(folder).map_err(|e| IndexError::io(folder, e))?;
        }
        std::fs::create_dir(folder).map_err(|e| IndexError::io(folder, e))?;
        let files = super::super::compact::stored_files(index, self.fp(index.params()))?;
        let mut summary = BuildSummary::default();
        let out = self.run(
            index.params(),
            files.into_iter().map(|f| Source::Stored(Box::new(f))),
            folder,
            1,
            Earlier::empty(),
            state,
            Some(shard),
            progress,
            &mut summary,
        )?;
        Ok(out.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_folder_names_are_recognized() {
        assert!(is_shard_folder(&shard_folder_name(7, 3)));
        assert!(is_shard_folder("shard-000012-999"));
        for other in [
            "shard-00001-001",
            "shard-000001_001",
            "shards-00001-001",
            "shard-00000a-001",
            "seg-000001-001.lps",
        ] {
            assert!(!is_shard_folder(other), "{other}");
        }
    }
}
