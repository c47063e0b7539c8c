//! Writing one segment file, section by section, in a single pass.
//!
//! Sections are streamed in (no section needs to be held whole in memory),
//! each hashed as it is written; the table and footer are written last and
//! the file is published atomically by [`SegmentWriter::finish`]. Dropping a
//! writer without finishing removes its temporary file.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::format::*;
use super::IndexError;
use crate::fileio::AtomicFile;

/// Streams one segment to disk.
pub struct SegmentWriter {
    out: AtomicFile,
    path: PathBuf,
    pos: u64,
    header: [u8; HEADER_LEN],
    entries: Vec<SectionEntry>,
    current: Option<(SectionKind, u64, blake3::Hasher)>,
}

impl SegmentWriter {
    /// Start a segment at `path` (written under a temporary name).
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn create(path: &Path, params: &HeaderParams) -> Result<SegmentWriter, IndexError> {
        let mut out = AtomicFile::create(path).map_err(|e| IndexError::io(path, e))?;
        let header = encode_header(params);
        out.write_all(&header)
            .map_err(|e| IndexError::io(path, e))?;
        Ok(SegmentWriter {
            out,
            path: path.to_path_buf(),
            pos: HEADER_LEN as u64,
            header,
            entries: Vec::new(),
            current: None,
        })
    }

    fn io(&self, e: std::io::Error) -> IndexError {
        IndexError::io(&self.path, e)
    }

    /// Begin a section; the previous one must have been ended.
    ///
    /// # Panics
    /// When a section is already open (a bug in the builder, not input).
    pub fn begin(&mut self, kind: SectionKind) {
        assert!(self.current.is_none(), "section {} still open", kind.name());
        self.current = Some((kind, self.pos, blake3::Hasher::new()));
    }

    /// Append bytes to the open section.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), IndexError> {
        let (_, _, h) = self.current.as_mut().expect("a section is open");
        h.update(bytes);
        self.pos += bytes.len() as u64;
        self.out
            .write_all(bytes)
            .map_err(|e| IndexError::io(&self.path, e))
    }

    /// End the open section, padding the file to 8 bytes (the padding is not
    /// part of the section).
    ///
    /// # Errors
    /// I/O errors.
    pub fn end(&mut self) -> Result<(), IndexError> {
        let (kind, start, h) = self.current.take().expect("a section is open");
        let sum = u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"));
        self.entries.push(SectionEntry {
            kind,
            offset: start,
            len: self.pos - start,
            checksum: sum,
        });
        let pad = (8 - (self.pos % 8) as usize) % 8;
        self.out
            .write_all(&[0u8; 8][..pad])
            .map_err(|e| self.io(e))?;
        self.pos += pad as u64;
        Ok(())
    }

    /// Write a whole section at once.
    ///
    /// # Errors
    /// I/O errors.
    pub fn section(&mut self, kind: SectionKind, bytes: &[u8]) -> Result<(), IndexError> {
        self.begin(kind);
        self.write(bytes)?;
        self.end()
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Write the table and footer, fsync and publish under the final name.
    /// Returns the size of the file.
    ///
    /// # Errors
    /// I/O errors; nothing is published then.
    pub fn finish(mut self) -> Result<u64, IndexError> {
        assert!(self.current.is_none(), "a section is still open");
        let table_offset = self.pos;
        let mut table = Vec::with_capacity(self.entries.len() * TABLE_ENTRY_LEN);
        for e in &self.entries {
            table.extend_from_slice(&e.encode());
        }
        let mut h = blake3::Hasher::new();
        h.update(&self.header);
        h.update(&table);
        let head_sum =
            u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"));
        let footer = encode_footer(table_offset, self.entries.len() as u32, head_sum);
        self.out
            .write_all(&table)
            .map_err(|e| IndexError::io(&self.path, e))?;
        self.out
            .write_all(&footer)
            .map_err(|e| IndexError::io(&self.path, e))?;
        let size = table_offset + table.len() as u64 + footer.len() as u64;
        let path = self.path.clone();
        self.out.commit().map_err(|e| IndexError::io(&path, e))?;
        Ok(size)
    }
}
