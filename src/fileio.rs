//! File access: reading inputs, mapping indexes, writing atomically.
//!
//! This is the only module that memory-maps. Policy:
//! - **Index segments** are mapped (`map_readonly`) when larger than
//!   [`MAP_THRESHOLD`], read otherwise. leakprint never rewrites a published
//!   segment in place (a new segment is written under a temporary name,
//!   fsynced and renamed), so the mapping only changes if another program
//!   edits the file under us; that is documented as unsupported.
//!   On request ([`load_resident`], `leakprint match --load`) a segment
//!   is read instead into anonymous memory the kernel may back with huge
//!   pages: a matcher's random reads of a 1 GB index then miss the TLB far
//!   less (6-14% more unrelated posts a second, 3-9% more mixed ones,
//!   BENCHMARKS.md "ASCII normalization 64 bytes a step; an index held in
//!   huge pages"), for memory the size of the index.
//! - **Input files** of a dump are *read*, never mapped: a dump is hostile
//!   and may be truncated while we index it, and a truncated mapping raises
//!   SIGBUS, which would kill the process. Reading into one buffer per file
//!   costs one memcpy (about 20 GB/s here) against indexing at well under
//!   1 GB/s, so mapping would not pay for its risk. Files larger than the
//!   text limit are streamed in fixed blocks ([`read_prefix`] plus the
//!   chunker's reader), so memory stays bounded.
//! - Every write of a published file is atomic: [`AtomicFile`] writes to a
//!   temporary name in the same folder, fsyncs, renames, fsyncs the folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Files at most this large are read into memory instead of mapped.
pub const MAP_THRESHOLD: u64 = 1 << 20;

/// Bytes of a file, read or mapped.
///
/// Only this module builds the two mapped variants (both are
/// `#[non_exhaustive]`, so other crates cannot, and no other module of
/// this one does): [`FileBytes::release_resident`]
/// relies on a `Mapped` value being a shared read-only mapping of a file,
/// which `map_readonly` alone makes. (An anonymous or private mapping
/// wrapped as `Mapped` would have its pages zeroed under live borrows.)
#[non_exhaustive]
pub enum FileBytes {
    /// Read into memory.
    Owned(Vec<u8>),
    /// A shared read-only mapping of a file (`map_readonly`).
    #[non_exhaustive]
    Mapped(memmap2::Mmap),
    /// Read into anonymous memory, made read-only ([`load_resident`]).
    #[non_exhaustive]
    Loaded(memmap2::Mmap),
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            FileBytes::Owned(v) => v,
            FileBytes::Mapped(m) | FileBytes::Loaded(m) => m,
        }
    }
}

impl FileBytes {
    /// Let the kernel drop this process's resident pages of a mapping
    /// (they count in its RSS though they are page cache): the next read
    /// of a byte faults it back in from the page cache or the file. For
    /// bytes read into memory (owned or [`FileBytes::Loaded`], where the
    /// advice would discard them), nothing.
    pub fn release_resident(&self) {
        #[cfg(unix)]
        if let FileBytes::Mapped(m) = self {
            // SAFETY: `m` is a read-only shared mapping made by
            // `map_readonly` (other crates cannot build `Mapped`: the variant
            // is `#[non_exhaustive]`; in this one only that function makes
            // one), of a file published by rename and never written in place
            // (see the SAFETY note there). MADV_DONTNEED on such a
            // mapping only unmaps this process's page-table entries; a later
            // access reads the same bytes back from the file, so every
            // `&[u8]` borrowed from the mapping keeps seeing the bytes it
            // saw. (On a private or anonymous mapping it would zero written
            // pages; this is neither.) An error only leaves the pages
            // resident.
            let _ = unsafe { m.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }
}

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            FileBytes::Owned(_) => "Owned",
            FileBytes::Mapped(_) => "Mapped",
            FileBytes::Loaded(_) => "Loaded",
        };
        write!(f, "FileBytes::{kind}({} bytes)", self.as_ref().len())
    }
}

/// Map a file read-only if it is large, else read it. Crate-private: the
/// mapping is sound only for the index's own files, which nothing writes
/// in place (see the SAFETY note below); a caller that mapped any other
/// file and then wrote it would read changing bytes through `&[u8]`.
///
/// # Errors
/// Any I/O error from opening, reading or mapping.
pub(crate) fn map_readonly(path: &Path) -> io::Result<FileBytes> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len <= MAP_THRESHOLD {
        let mut buf = Vec::with_capacity(len as usize);
        (&file).read_to_end(&mut buf)?;
        return Ok(FileBytes::Owned(buf));
    }
    // SAFETY: the mapping is read-only and shared (`MAP_SHARED`). The files
    // mapped here are the index's own: segments (published, pieces of a
    // build, a segment just written), key counts; leakprint writes each
    // through `AtomicFile` (a temporary name, fsync, rename) and never
    // modifies it in place afterwards, so the bytes cannot change under us
    // unless another program writes into or truncates a published file.
    // That is unsupported (the module docs): a write in place is undefined
    // behaviour for any mapping, and a truncation raises SIGBUS, which is
    // not handled and ends the process. An index in a place others may
    // write to should be opened with `load_resident` (`match --load`),
    // which reads it instead. The bytes as mapped are still treated as
    // hostile: every offset is bounds-checked against the mapping's length
    // taken here, and nothing reads them through unchecked pointers.
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(map) => Ok(FileBytes::Mapped(map)),
        // Some file systems cannot map: fall back to reading.
        Err(_) => {
            let mut buf = Vec::with_capacity(len as usize);
            (&file).read_to_end(&mut buf)?;
            Ok(FileBytes::Owned(buf))
        }
    }
}

/// Read a whole file into anonymous memory, asking the kernel to back it
/// with huge pages (`MADV_HUGEPAGE`; where transparent huge pages are off
/// the advice has no effect, or fails on a kernel without them, and the
/// bytes stay in ordinary pages), then make it read-only. Files of at
/// most [`MAP_THRESHOLD`] bytes are read into a vector, as
/// `map_readonly` does.
///
/// Reads the length the file had when opened: a file that shrinks while
/// read is an error ([`io::ErrorKind::UnexpectedEof`]), one that grows is
/// read to its old length (a segment is never written in place, see the
/// module docs).
///
/// # Errors
/// I/O errors from opening or reading, and a failed allocation of the
/// file's size (`ENOMEM`). (Where the kernel overcommits memory the
/// allocation succeeds and a process that then runs out while reading is
/// killed instead.)
pub fn load_resident(path: &Path) -> io::Result<FileBytes> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len <= MAP_THRESHOLD {
        let mut buf = Vec::with_capacity(len as usize);
        (&file).take(len).read_to_end(&mut buf)?;
        if (buf.len() as u64) < len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while read",
            ));
        }
        return Ok(FileBytes::Owned(buf));
    }
    let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
    let mut m = memmap2::MmapOptions::new().len(len).map_anon()?;
    #[cfg(target_os = "linux")]
    {
        // Only a hint: without transparent huge pages the bytes stay in
        // ordinary pages and everything else holds.
        let _ = m.advise(memmap2::Advice::HugePage);
    }
    (&file).read_exact(&mut m[..])?;
    Ok(FileBytes::Loaded(m.make_read_only()?))
}

/// Read at most `limit` bytes of a file; the second value says whether the
/// file had more. Reads what is there: a file that shrinks or grows while
/// being read gives the bytes seen, never an error.
///
/// # Errors
/// I/O errors other than the file changing size.
pub fn read_prefix(path: &Path, limit: u64) -> io::Result<(Vec<u8>, bool)> {
    let file = File::open(path)?;
    let hint = file.metadata().map(|m| m.len()).unwrap_or(0).min(limit);
    let mut buf = Vec::with_capacity(hint as usize);
    if let Some(at) = truncation_point(path) {
        // Test hook (see `truncation_point`): read `at` bytes, then the file
        // is cut under the reader, which must go on with what it has.
        (&file).take(at.min(limit)).read_to_end(&mut buf)?;
        OpenOptions::new().write(true).open(path)?.set_len(at)?;
    }
    let mut taken = (&file).take(limit - buf.len() as u64);
    taken.read_to_end(&mut buf)?;
    let mut probe = [0u8; 1];
    let more = (&file).read(&mut probe)? > 0;
    Ok((buf, more))
}

/// The environment variable of the truncation test hook:
/// `NAME:OFFSET` makes [`read_prefix`] cut the file whose name is `NAME`
/// to `OFFSET` bytes after reading that many, as a file truncated by
/// another program while it is indexed.
pub const TRUNCATE_VAR: &str = "LEAKPRINT_TRUNCATE_WHILE_READING";

/// The offset at which the test hook truncates `path`, if it names it.
fn truncation_point(path: &Path) -> Option<u64> {
    let v = std::env::var(TRUNCATE_VAR).ok()?;
    let (name, at) = v.rsplit_once(':')?;
    (path.file_name()?.to_str()? == name).then(|| at.parse().ok())?
}

/// A file written under a temporary name and published by rename.
///
/// Dropping it without [`AtomicFile::commit`] removes the temporary file, so
/// an error or a panic never leaves a partial file under the final name.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<io::BufWriter<File>>,
    /// A write-back started by [`AtomicFile::sync_in_background`].
    syncing: Option<std::thread::JoinHandle<io::Result<()>>>,
    /// Bytes written since the last write-back started.
    unsynced: u64,
    /// Write-backs started as the file is written (see
    /// [`WRITE_BACK_EVERY`]), for tests.
    write_backs: u32,
    /// [`WRITE_BACK_EVERY`] (smaller in tests).
    write_back_every: u64,
}

/// A file being written starts a write-back of what it holds whenever this
/// many bytes have been written since the last one began, and none is
/// under way (see [`AtomicFile::sync_in_background`]), so that the disk
/// writes a large file while it is being produced rather than all of it
/// in the fsync of [`AtomicFile::commit`], with every other thread idle.
/// A segment of the 1 GB scale corpus ended with 0.25 s of fsync for its
/// last 600 MB (the postings and the sections after them, written after
/// the text data's own write-back began). Measured on ext4, where an
/// `fdatasync` under way does not hold up writes to the same file; a file
/// system whose fsync locks the file would make the writer wait for each.
pub const WRITE_BACK_EVERY: u64 = 64 << 20;

impl AtomicFile {
    /// Start writing `dest`. The temporary file lives in the same folder, so
    /// the final rename is atomic.
    ///
    /// # Errors
    /// When the folder does not exist or is not writable.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
        let mut tmp_name = std::ffi::OsString::from(".tmp-");
        tmp_name.push(std::process::id().to_string());
        tmp_name.push("-");
        tmp_name.push(name);
        let tmp = dest.with_file_name(tmp_name);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            file: Some(io::BufWriter::with_capacity(1 << 20, file)),
            syncing: None,
            unsynced: 0,
            write_backs: 0,
            write_back_every: WRITE_BACK_EVERY,
        })
    }

    /// Start writing what was written so far to the disk, on a thread of
    /// its own, so that the fsync of [`AtomicFile::commit`] finds less left
    /// to do: a segment's text data reaches the disk while its postings are
    /// sorted. The fsync of a 119 MB segment took 95 ms at the end of a
    /// 1.6 s build, a phase with every other thread idle. An error of this
    /// write-back is reported by the next call that waits for it: this
    /// one, the write that starts the next write-back (see
    /// [`WRITE_BACK_EVERY`]), or `commit`.
    ///
    /// # Errors
    /// Flushing the buffer, or duplicating the file handle.
    pub fn sync_in_background(&mut self) -> io::Result<()> {
        self.wait_for_sync()?;
        let writer = self.file.as_mut().expect("file present until commit");
        writer.flush()?;
        let file = writer.get_ref().try_clone()?;
        self.syncing = Some(std::thread::spawn(move || file.sync_data()));
        self.unsynced = 0;
        Ok(())
    }

    /// [`AtomicFile::sync_in_background`] unless a write-back is still
    /// under way (that one goes on; this asks for nothing).
    ///
    /// # Errors
    /// As [`AtomicFile::sync_in_background`], and the error of the last
    /// write-back, if it failed.
    pub fn sync_in_background_if_idle(&mut self) -> io::Result<()> {
        if self.write_back_idle() {
            self.sync_in_background()?;
        }
        Ok(())
    }

    /// No write-back is under way (none started, or the last one ended).
    fn write_back_idle(&self) -> bool {
        self.syncing.as_ref().is_none_or(|h| h.is_finished())
    }

    /// The result of the write-back under way, if any.
    fn wait_for_sync(&mut self) -> io::Result<()> {
        match self.syncing.take() {
            Some(h) => h
                .join()
                .map_err(|_| io::Error::other("the background fsync panicked"))?,
            None => Ok(()),
        }
    }

    /// The temporary path being written.
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// Flush, fsync, rename over the destination and fsync the folder.
    ///
    /// # Errors
    /// Any I/O error; the temporary file is removed then.
    pub fn commit(mut self) -> io::Result<()> {
        self.wait_for_sync()?;
        let writer = self.file.take().expect("file present until commit");
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.tmp, &self.dest)?;
        sync_dir(self.dest.parent().unwrap_or(Path::new(".")))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // (Before the bytes are taken: an error, such as the failure of the
        // last write-back, then takes none, as `Write::write` promises.)
        if self.unsynced >= self.write_back_every && self.write_back_idle() {
            self.sync_in_background()?;
            self.write_backs += 1;
        }
        let n = self.file.as_mut().expect("file present").write(buf)?;
        self.unsynced += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("file present").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        let _ = self.wait_for_sync();
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// fsync a folder so that a rename inside it is durable.
///
/// # Errors
/// I/O errors from opening or syncing the folder.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file written past the write-back size starts write-backs as it
    /// goes, and its bytes are whole at the end.
    #[test]
    fn a_large_file_is_written_back_as_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.bin");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_back_every = 64 << 10;
        let mut want = Vec::new();
        for i in 0..2_000u32 {
            let piece: Vec<u8> = (0..997u32).map(|j| (i ^ j) as u8).collect();
            f.write_all(&piece).unwrap();
            want.extend_from_slice(&piece);
            if i == 1_000 {
                // (Waits for the one under way, if any, and starts one.)
                f.sync_in_background().unwrap();
            }
        }
        // About 2 MB in pieces of 997 bytes: at least one write-back was
        // started by the writes themselves (each starts only once the
        // one before is done).
        assert!(f.write_backs >= 1, "{} write-backs", f.write_backs);
        f.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), want);
        // A small file starts none.
        let mut g = AtomicFile::create(&dir.path().join("small")).unwrap();
        g.write_all(&[7u8; 1000]).unwrap();
        assert_eq!(g.write_backs, 0);
        assert!(g.syncing.is_none());
        g.commit().unwrap();
    }

    #[test]
    fn atomic_file_publishes_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.bin");
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.write_all(b"partial").unwrap();
            assert!(f.temp_path().exists());
        }
        assert!(!dest.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"whole").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"whole");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// Resident kB of this process's mapping that starts at `addr`
    /// (`/proc/self/smaps`), if found.
    #[cfg(target_os = "linux")]
    fn mapping_rss_kb(addr: usize) -> Option<u64> {
        let smaps = fs::read_to_string("/proc/self/smaps").ok()?;
        let mut in_it = false;
        for line in smaps.lines() {
            let first = line.split_whitespace().next().unwrap_or("");
            if let Some((start, _)) = first.split_once('-') {
                if let Ok(a) = usize::from_str_radix(start, 16) {
                    in_it = a == addr;
                    continue;
                }
            }
            if in_it {
                if let Some(rest) = line.strip_prefix("Rss:") {
                    return rest.trim().trim_end_matches("kB").trim().parse().ok();
                }
            }
        }
        None
    }

    /// A mapped file read through is resident; released, it is not, and
    /// reads give the same bytes again. Bytes held in memory are left
    /// alone.
    #[cfg(target_os = "linux")]
    #[test]
    fn release_drops_resident_pages_and_keeps_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("seg");
        let data: Vec<u8> = (0..4u32 << 20)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        fs::write(&p, &data).unwrap();
        let bytes = map_readonly(&p).unwrap();
        assert!(matches!(bytes, FileBytes::Mapped(_)));
        let addr = bytes.as_ref().as_ptr() as usize;
        let sum = |b: &[u8]| b.iter().step_by(4096).map(|&x| u64::from(x)).sum::<u64>();
        let want = sum(&data);
        assert_eq!(sum(bytes.as_ref()), want);
        let before = mapping_rss_kb(addr).unwrap();
        assert!(before >= 4 << 10, "{before} kB resident after a full read");
        bytes.release_resident();
        let after = mapping_rss_kb(addr).unwrap();
        assert!(after < 64, "{after} kB resident after the release");
        assert_eq!(bytes.as_ref(), &data[..]);

        let small = dir.path().join("small");
        fs::write(&small, b"kept in memory").unwrap();
        let owned = map_readonly(&small).unwrap();
        owned.release_resident();
        assert_eq!(owned.as_ref(), b"kept in memory");
    }

    /// A file loaded resident holds its bytes, small or large, and keeps
    /// them when told to release its pages (on anonymous memory the advice
    /// of `release_resident` would zero them).
    #[test]
    fn loaded_files_hold_their_bytes_and_keep_them() {
        let dir = tempfile::tempdir().unwrap();
        let (small, large) = (dir.path().join("s"), dir.path().join("l"));
        fs::write(&small, b"kept in memory").unwrap();
        let data: Vec<u8> = (0..(3 * MAP_THRESHOLD as usize + 4099))
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2])
            .collect();
        fs::write(&large, &data).unwrap();
        let s = load_resident(&small).unwrap();
        assert!(matches!(s, FileBytes::Owned(_)));
        assert_eq!(s.as_ref(), b"kept in memory");
        let l = load_resident(&large).unwrap();
        assert!(matches!(l, FileBytes::Loaded(_)), "{l:?}");
        assert_eq!(l.as_ref(), &data[..]);
        l.release_resident();
        assert_eq!(l.as_ref(), &data[..]);
        assert!(load_resident(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn read_prefix_reports_more() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"0123456789").unwrap();
        assert_eq!(read_prefix(&p, 4).unwrap(), (b"0123".to_vec(), true));
        assert_eq!(
            read_prefix(&p, 10).unwrap(),
            (b"0123456789".to_vec(), false)
        );
        assert_eq!(
            read_prefix(&p, 11).unwrap(),
            (b"0123456789".to_vec(), false)
        );
    }

    #[test]
    fn map_small_and_large() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("s");
        let large = dir.path().join("l");
        fs::write(&small, b"abc").unwrap();
        let big: Vec<u8> = (0..(MAP_THRESHOLD as usize + 10))
            .map(|i| i as u8)
            .collect();
        fs::write(&large, &big).unwrap();
        assert!(matches!(map_readonly(&small).unwrap(), FileBytes::Owned(_)));
        let m = map_readonly(&large).unwrap();
        assert_eq!(m.as_ref(), &big[..]);
    }
}
