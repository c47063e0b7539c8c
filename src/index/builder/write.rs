//! Stage 6, writing: one segment writer for files and for memory.
//!
//! Sections are streamed in (no section needs to be held whole), each
//! hashed as it is written; the table and footer come last
//! ([`super::super::wire`] encodes them). A file segment is written under a
//! temporary name and published by [`SegmentWriter::finish`] (fsync,
//! rename, fsync of the folder); dropping an unfinished writer removes the
//! temporary file. The memory variant writes the same bytes into a vector,
//! so tests of in-memory segments cover the file path's layout too.
//!
//! Cost: a memcpy per byte into the page cache plus blake3 of every section
//! (about 0.3 ns per byte of segment).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::super::wire::{Footer, Header, SectionEntry, SectionKind, HEADER_LEN, TABLE_ENTRY_LEN};
use super::super::IndexError;
use crate::fileio::AtomicFile;

/// Where a segment goes.
enum Out {
    File { file: AtomicFile, path: PathBuf },
    Memory(Vec<u8>),
}

/// Streams one segment, section by section.
pub(crate) struct SegmentWriter {
    out: Out,
    pos: u64,
    header: [u8; HEADER_LEN],
    entries: Vec<SectionEntry>,
    current: Option<(SectionKind, u64, blake3::Hasher)>,
}

impl SegmentWriter {
    /// A segment to be published at `path`.
    ///
    /// # Errors
    /// When the temporary file cannot be created.
    pub(crate) fn file(path: &Path, header: &Header) -> Result<SegmentWriter, IndexError> {
        let file = AtomicFile::create(path).map_err(|e| IndexError::io(path, e))?;
        let mut w = SegmentWriter::new(
            Out::File {
                file,
                path: path.to_path_buf(),
            },
            header,
        );
        let h = w.header;
        w.raw(&h)?;
        Ok(w)
    }

    /// Start the write-back of what is written so far (a file; nothing in
    /// memory), unless one is under way: see
    /// [`AtomicFile::sync_in_background_if_idle`]. (A file also starts
    /// one every [`crate::fileio::WRITE_BACK_EVERY`] bytes.)
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn sync_in_background(&mut self) -> Result<(), IndexError> {
        match &mut self.out {
            Out::File { file, path } => file
                .sync_in_background_if_idle()
                .map_err(|e| IndexError::io(path, e)),
            Out::Memory(_) => Ok(()),
        }
    }

    /// A segment built in memory.
    pub(crate) fn memory(header: &Header) -> SegmentWriter {
        let mut w = SegmentWriter::new(Out::Memory(Vec::new()), header);
        let h = w.header;
        // Writing to a vector cannot fail.
        let _ = w.raw(&h);
        w
    }

    fn new(out: Out, header: &Header) -> SegmentWriter {
        SegmentWriter {
            out,
            pos: 0,
            header: header.encode(),
            entries: Vec::new(),
            current: None,
        }
    }

    fn raw(&mut self, b: &[u8]) -> Result<(), IndexError> {
        self.pos += b.len() as u64;
        match &mut self.out {
            Out::File { file, path } => file.write_all(b).map_err(|e| IndexError::io(path, e)),
            Out::Memory(v) => {
                v.extend_from_slice(b);
                Ok(())
            }
        }
    }

    /// Begin a section; the previous one must have been ended.
    ///
    /// # Panics
    /// When a section is already open (a bug in the builder, not input).
    pub(crate) fn begin(&mut self, kind: SectionKind) {
        assert!(self.current.is_none(), "section {} still open", kind.name());
        self.current = Some((kind, self.pos, blake3::Hasher::new()));
    }

    /// Append bytes to the open section.
    ///
    /// # Errors
    /// I/O errors.
    ///
    /// # Panics
    /// When no section is open (a bug in the builder).
    pub(crate) fn write(&mut self, b: &[u8]) -> Result<(), IndexError> {
        let (_, _, h) = self.current.as_mut().expect("a section is open");
        h.update(b);
        self.raw(b)
    }

    /// End the open section and pad the file to 8 bytes (the padding is not
    /// part of the section).
    ///
    /// # Errors
    /// I/O errors.
    ///
    /// # Panics
    /// When no section is open (a bug in the builder).
    pub(crate) fn end(&mut self) -> Result<(), IndexError> {
        let (kind, start, h) = self.current.take().expect("a section is open");
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&h.finalize().as_bytes()[..8]);
        self.entries.push(SectionEntry {
            kind,
            offset: start,
            len: self.pos - start,
            checksum: u64::from_le_bytes(sum),
        });
        let pad = ((8 - self.pos % 8) % 8) as usize;
        self.raw(&[0u8; 8][..pad])
    }

    /// Write a whole section at once.
    ///
    /// # Errors
    /// I/O errors.
    pub(crate) fn section(&mut self, kind: SectionKind, b: &[u8]) -> Result<(), IndexError> {
        self.begin(kind);
        self.write(b)?;
        self.end()
    }

    /// Write the table and the footer, then publish (file) or return the
    /// bytes (memory). Returns the segment's size and, in memory, its bytes.
    ///
    /// # Errors
    /// I/O errors; nothing is published then.
    ///
    /// # Panics
    /// When a section is still open (a bug in the builder).
    pub(crate) fn finish(mut self) -> Result<(u64, Option<Vec<u8>>), IndexError> {
        assert!(self.current.is_none(), "a section is still open");
        let table_offset = self.pos;
        let mut table = Vec::with_capacity(self.entries.len() * TABLE_ENTRY_LEN);
        for e in &self.entries {
            table.extend_from_slice(&e.encode());
        }
        let footer = Footer {
            table_offset,
            count: self.entries.len() as u32,
            head_sum: super::super::wire::head_checksum(&self.header, &table),
        }
        .encode();
        self.raw(&table)?;
        self.raw(&footer)?;
        let size = self.pos;
        match self.out {
            Out::File { file, path } => {
                crate::failpoint::hit("segment-before-commit");
                file.commit().map_err(|e| IndexError::io(&path, e))?;
                crate::failpoint::hit("segment-after-commit");
                Ok((size, None))
            }
            Out::Memory(v) => Ok((size, Some(v))),
        }
    }
}
