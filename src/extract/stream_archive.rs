//! Archives larger than the text limit, read member by member and never
//! held whole: ZIP (stored and deflate members, each read in place through
//! the central directory) and tar, plain or inside gzip (read through the
//! decompressor).
//!
//! Each member is handled as a file of its size on disk is:
//!
//! - up to the text limit (`max_file`): read whole and extracted as the
//!   in-memory archive reader extracts its entries ([`Item::Whole`], then
//!   `extract_member`): the same part names (`dump.zip#a/b.txt`), nested
//!   containers included;
//! - larger: judged by its head ([`super::stream::classify`]). An mbox is
//!   read message by message and plain text in overlapping windows, named
//!   under the member as a file's pieces are named under the file
//!   (`dump.zip#a/box.mbox#3`, `dump.tar.gz#logs/big.txt#window 2`). A
//!   member without text is a part without text, as in the in-memory read.
//!   Any other format needs the whole member in memory: a note names it.
//!
//! Limits. What is held at once is bounded as for a file on disk: a member
//! read whole is at most the text limit, a message at most `piece_cap`, a
//! window `window` bytes. What is streamed is bounded as for a streamed
//! gzip file: at most `max_ratio` times the archive's size in all (members,
//! and for a `.tar.gz` every decompressed byte), which stops bombs of many
//! members or of overlapping ones; the rest is noted. A ZIP member keeps the
//! in-memory reader's own rules too: at most `max_ratio` times its
//! compressed size (members under 1 MiB exempt), a declared size over that
//! refused before inflating, the real size checked while reading;
//! encrypted members and unsupported methods are refused with the reason.
//! `max_expanded` bounds what the nested content of a member read whole may
//! expand to (it bounds what is held, as it does for a file), `max_parts`
//! counts again for each member, as for each message of a mailbox, and the
//! members are at depth 1, as in the in-memory read.
//!
//! The items come out in archive order and depend on the bytes alone: the
//! caller may extract them in parallel and still build the same index.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::path::Path;
use std::sync::Arc;

use zip::ZipArchive;

use super::stream::{
    self, MboxReader, NotStreamable, RawMessage, Streamable, TextWindow, TextWindows, HEAD,
};
use super::{clean_name, office};

/// Members this small are never refused for their compression ratio (as
/// in the in-memory reader).
const RATIO_EXEMPT: u64 = 1 << 20;
/// Buffer of the readers under a streamed member.
const BUF: usize = 256 << 10;

/// Which archive format a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArchiveKind {
    /// A ZIP archive (not an Office document).
    Zip,
    /// A tar archive; `gzip` when inside a gzip stream (`.tar.gz`).
    Tar {
        /// Read through a gzip decompressor.
        gzip: bool,
    },
}

/// The settings of a streamed archive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArchiveConfig {
    /// Members up to this size are read whole; larger ones are streamed.
    pub(crate) max_file: u64,
    /// Longest mbox message of a streamed member.
    pub(crate) piece_cap: usize,
    /// Text window and overlap of a streamed text member, bytes.
    pub(crate) window: usize,
    /// See `window`.
    pub(crate) overlap: usize,
    /// Largest expansion: of the whole archive over its size, and of a ZIP
    /// member over its compressed size.
    pub(crate) max_ratio: u64,
    /// Deepest nesting; the members are at depth 1.
    pub(crate) max_depth: usize,
}

/// One piece of a streamed archive, in archive order.
#[derive(Debug)]
pub(crate) enum Item {
    /// A member up to the text limit, read whole: to extract under `name`.
    Whole {
        /// Its part name (the cleaned stored path; also the name hint
        /// for detection).
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// A message of a member that is an mbox.
    Message {
        /// The member's part name.
        member: Arc<str>,
        /// The message.
        message: RawMessage,
    },
    /// A window of a member that is plain text.
    Window {
        /// The member's part name.
        member: Arc<str>,
        /// The window.
        window: TextWindow,
    },
    /// A member without text (a part without text, as in memory).
    Binary {
        /// Its part name.
        name: String,
    },
    /// A note: what was not read, and why.
    Note {
        /// The part it concerns (empty for the archive itself).
        name: String,
        /// Why.
        reason: String,
    },
}

impl Item {
    /// Bytes it holds.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Item::Whole { bytes, .. } => bytes.len() as u64,
            Item::Message { message, .. } => message.len,
            Item::Window { window, .. } => window.text.len() as u64,
            Item::Binary { .. } | Item::Note { .. } => 0,
        }
    }
}

/// Why a ZIP file over the text limit is not streamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ZipRefused {
    /// An Office document (read whole, as one document).
    Office,
    /// Not a readable ZIP: the error.
    Unreadable(String),
}

/// Whether a ZIP file can be read member by member: not when it is an
/// Office document (told as the in-memory read tells it:
/// [`office::OOXML_MARKERS`], [`office::opendocument_format`]) or not
/// readable.
///
/// # Errors
/// The reason it cannot.
pub(crate) fn check_zip(path: &Path) -> Result<(), ZipRefused> {
    let file = File::open(path).map_err(|e| ZipRefused::Unreadable(e.to_string()))?;
    let mut zip =
        ZipArchive::new(BufReader::new(file)).map_err(|e| ZipRefused::Unreadable(e.to_string()))?;
    if office::OOXML_MARKERS
        .iter()
        .any(|(n, _)| zip.index_for_name(n).is_some())
    {
        return Err(ZipRefused::Office);
    }
    if let Some(i) = zip.index_for_name("mimetype") {
        let mut mime = Vec::new();
        if let Ok(f) = zip.by_index(i) {
            let _ = f.take(256).read_to_end(&mut mime);
        }
        if office::opendocument_format(&mime).is_some() {
            return Err(ZipRefused::Office);
        }
    }
    Ok(())
}

/// A reader that stops at its own allowance and at the archive's: one byte
/// past either is an error naming the limit.
struct Metered<'b, R> {
    r: R,
    left: u64,
    why: &'b str,
    total: &'b Cell<u64>,
    total_why: &'b str,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = self.left.min(self.total.get());
        if room == 0 {
            let mut one = [0u8; 1];
            return match self.r.read(&mut one)? {
                0 => Ok(0),
                _ if self.left == 0 => Err(io::Error::other(self.why.to_owned())),
                _ => Err(io::Error::other(self.total_why.to_owned())),
            };
        }
        let n = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let got = self.r.read(&mut buf[..n])?;
        self.left -= got as u64;
        self.total.set(self.total.get() - got as u64);
        Ok(got)
    }
}

/// How a member ended.
enum End {
    /// Read; go on.
    Next,
    /// The consumer wants no more.
    Stop,
    /// A read error (noted): the stream position is unknown.
    Broken,
}

/// Read the archive at `path` and hand its items to `emit` in order until
/// the end or until `emit` returns false. Never fails: what cannot be read
/// is an [`Item::Note`].
pub(crate) fn read_archive(
    path: &Path,
    kind: ArchiveKind,
    c: &ArchiveConfig,
    emit: &mut dyn FnMut(Item) -> bool,
) {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            emit(note("", format!("cannot read: {e}")));
            return;
        }
    };
    if c.max_depth < 1 {
        emit(note(
            "",
            format!(
                "nested deeper than max_depth = {}: entries not read",
                c.max_depth
            ),
        ));
        return;
    }
    let size = file.metadata().map_or(0, |m| m.len());
    let cap = size.saturating_mul(c.max_ratio).max(RATIO_EXEMPT);
    let total = Cell::new(cap);
    let total_why = format!(
        "the archive's content passes {cap} bytes, {} times its size (limit max_ratio, likely an archive bomb)",
        c.max_ratio
    );
    match kind {
        ArchiveKind::Zip => read_zip(
            BufReader::with_capacity(BUF, file),
            c,
            &total,
            &total_why,
            emit,
        ),
        ArchiveKind::Tar { gzip: false } => {
            read_tar(BufReader::with_capacity(BUF, file), c, emit);
        }
        ArchiveKind::Tar { gzip: true } => {
            let gz = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(BUF, file));
            let metered = Metered {
                r: gz,
                left: u64::MAX,
                why: &total_why,
                total: &total,
                total_why: &total_why,
            };
            read_tar(BufReader::with_capacity(BUF, metered), c, emit);
        }
    }
}

fn note(name: &str, reason: impl Into<String>) -> Item {
    Item::Note {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

fn read_zip<R: Read + Seek>(
    r: R,
    c: &ArchiveConfig,
    total: &Cell<u64>,
    total_why: &str,
    emit: &mut dyn FnMut(Item) -> bool,
) {
    let mut zip = match ZipArchive::new(r) {
        Ok(z) => z,
        Err(e) => {
            emit(note("", format!("ZIP not readable: {e}")));
            return;
        }
    };
    for i in 0..zip.len() {
        let (name, encrypted, size, compressed) = match zip.by_index_raw(i) {
            Ok(f) if f.is_dir() => continue,
            Ok(f) => (
                clean_name(&f.name().unwrap_or_else(|_| format!("entry {i}").into())),
                f.encrypted(),
                f.size(),
                f.compressed_size(),
            ),
            Err(e) => {
                if !emit(note(
                    &format!("entry {i}"),
                    format!("ZIP entry not readable: {e}"),
                )) {
                    return;
                }
                continue;
            }
        };
        if total.get() == 0 {
            emit(note(
                &name,
                format!("{total_why}: this and later members not read"),
            ));
            return;
        }
        if encrypted {
            if !emit(note(&name, "encrypted ZIP entry: needs a password")) {
                return;
            }
            continue;
        }
        let by_ratio = compressed.saturating_mul(c.max_ratio).max(RATIO_EXEMPT);
        let (allow, why) = if by_ratio < total.get() {
            (
                by_ratio,
                format!(
                    "expands more than {} times its compressed size ({compressed} bytes): limit max_ratio, likely an archive bomb",
                    c.max_ratio
                ),
            )
        } else {
            (total.get(), total_why.to_owned())
        };
        if size > allow {
            if allow == total.get() {
                // The archive's allowance: nothing later is read either.
                emit(note(
                    &name,
                    format!("declared size {size} bytes: {why}: this and later members not read"),
                ));
                return;
            }
            if !emit(note(&name, format!("declared size {size} bytes: {why}"))) {
                return;
            }
            continue;
        }
        let file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                if !emit(note(&name, format!("ZIP entry not readable: {e}"))) {
                    return;
                }
                continue;
            }
        };
        let metered = Metered {
            r: file,
            left: allow,
            why: &why,
            total,
            total_why,
        };
        // A member's read error is its own: the next one is found by the
        // central directory.
        if let End::Stop = member(metered, size, &name, c, emit) {
            return;
        }
    }
}

fn read_tar<R: Read>(r: R, c: &ArchiveConfig, emit: &mut dyn FnMut(Item) -> bool) {
    let mut archive = tar::Archive::new(r);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            emit(note("", format!("tar not readable: {e}")));
            return;
        }
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                emit(note(
                    "",
                    format!("tar truncated or corrupt, later entries not read: {e}"),
                ));
                return;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = clean_name(&String::from_utf8_lossy(&entry.path_bytes()));
        let size = entry.size();
        match member(&mut entry, size, &name, c, emit) {
            End::Next => {}
            End::Stop => return,
            End::Broken => {
                emit(note("", "later entries not read"));
                return;
            }
        }
    }
    // The rest of the stream (padding; a gzip's trailer, whose checksum
    // tells a corrupt stream that still inflated), as the in-memory read
    // reads it to the end.
    if let Err(e) = io::copy(&mut archive.into_inner(), &mut io::sink()) {
        emit(note(
            "",
            format!("stream corrupt after the last entry: {e}"),
        ));
    }
}

/// Read `len` bytes at most, stopping early at the end.
fn read_up_to<R: Read>(r: &mut R, len: u64, hint: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(hint.min(len).min(64 << 20) as usize);
    r.take(len).read_to_end(&mut out)?;
    Ok(out)
}

/// A member's read error, noted.
fn broken(name: &str, emit: &mut dyn FnMut(Item) -> bool, e: io::Error) -> End {
    if emit(note(name, format!("member not read: {e}"))) {
        End::Broken
    } else {
        End::Stop
    }
}

/// Read one member of `declared` bytes named `name` from `r`.
fn member<R: Read>(
    mut r: R,
    declared: u64,
    name: &str,
    c: &ArchiveConfig,
    emit: &mut dyn FnMut(Item) -> bool,
) -> End {
    let head = if declared <= c.max_file {
        match read_up_to(&mut r, c.max_file.saturating_add(1), declared) {
            Err(e) => return broken(name, emit, e),
            Ok(bytes) if bytes.len() as u64 <= c.max_file => {
                let whole = Item::Whole {
                    name: name.to_owned(),
                    bytes,
                };
                return if emit(whole) { End::Next } else { End::Stop };
            }
            // Longer than it said: streamed as a large member.
            Ok(bytes) => bytes,
        }
    } else {
        match read_up_to(&mut r, HEAD as u64, HEAD as u64) {
            Err(e) => return broken(name, emit, e),
            Ok(bytes) => bytes,
        }
    };
    let kind = stream::classify(&head[..head.len().min(HEAD)], name);
    let rest = Cursor::new(head).chain(r);
    let member: Arc<str> = Arc::from(name);
    match kind {
        Ok(Streamable::Mbox) => {
            let mut m = MboxReader::new(BufReader::with_capacity(BUF, rest), c.piece_cap);
            loop {
                match m.next_message() {
                    Ok(Some(message)) => {
                        let item = Item::Message {
                            member: member.clone(),
                            message,
                        };
                        if !emit(item) {
                            return End::Stop;
                        }
                    }
                    Ok(None) => return End::Next,
                    Err(e) => return broken(name, emit, e),
                }
            }
        }
        Ok(Streamable::Text { encoding, bom }) => {
            let mut t = TextWindows::new(rest, encoding, bom, c.window, c.overlap);
            loop {
                match t.next_window() {
                    Ok(Some(window)) => {
                        let item = Item::Window {
                            member: member.clone(),
                            window,
                        };
                        if !emit(item) {
                            return End::Stop;
                        }
                    }
                    Ok(None) => return End::Next,
                    Err(e) => return broken(name, emit, e),
                }
            }
        }
        Err(NotStreamable::Binary) => {
            let item = Item::Binary {
                name: name.to_owned(),
            };
            if emit(item) {
                End::Next
            } else {
                End::Stop
            }
        }
        Err(NotStreamable::Whole(what)) => {
            let reason = format!(
                "member of {declared} bytes, larger than the text limit of {} bytes, and {what} is read whole: not read",
                c.max_file
            );
            if emit(note(name, reason)) {
                End::Next
            } else {
                End::Stop
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max_file: u64) -> ArchiveConfig {
        ArchiveConfig {
            max_file,
            piece_cap: 1 << 20,
            window: 1000,
            overlap: 100,
            max_ratio: 200,
            max_depth: 8,
        }
    }

    fn items(path: &Path, kind: ArchiveKind, c: &ArchiveConfig) -> Vec<Item> {
        let mut out = Vec::new();
        read_archive(path, kind, c, &mut |i| {
            out.push(i);
            true
        });
        out
    }

    fn zip_of(members: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, bytes) in members {
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// Refused as Office exactly what the in-memory read reads as one: the
    /// OOXML markers and the three OpenDocument types; a ZIP with another
    /// OpenDocument mimetype (a drawing) or none is an archive.
    #[test]
    fn check_zip_refuses_what_is_read_as_office() {
        let d = tempfile::tempdir().unwrap();
        type Members<'a> = &'a [(&'a str, &'a [u8])];
        let cases: [(&str, Members, bool); 5] = [
            ("docx", &[("word/document.xml", b"<w/>")], true),
            ("xlsx", &[("xl/workbook.xml", b"<x/>")], true),
            (
                "odt",
                &[("mimetype", b"application/vnd.oasis.opendocument.text")],
                true,
            ),
            (
                "odg",
                &[("mimetype", b"application/vnd.oasis.opendocument.graphics")],
                false,
            ),
            ("plain", &[("a.txt", b"text")], false),
        ];
        for (what, members, office) in cases {
            let path = d.path().join(what);
            std::fs::write(&path, zip_of(members, zip::CompressionMethod::Stored)).unwrap();
            let got = check_zip(&path);
            assert_eq!(got == Err(ZipRefused::Office), office, "{what}: {got:?}");
            if !office {
                assert_eq!(got, Ok(()), "{what}");
            }
        }
    }

    /// Small members whole, a big text member in windows covering it, a big
    /// mbox member message by message, a big PDF member noted; the same
    /// for stored and deflated members, and when the consumer stops.
    #[test]
    fn members_whole_windowed_by_message_or_noted() {
        let text: String = (0..400).map(|i| format!("line {i} of the log\n")).collect();
        let mbox: String = (0..30)
            .map(|i| {
                format!(
                    "From a@b Mon\nSubject: m{i}\n\nbody {i} {}\n\n",
                    "x".repeat(100)
                )
            })
            .collect();
        let pdf = format!("%PDF-1.4\n{}", "0".repeat(5000));
        let d = tempfile::tempdir().unwrap();
        for method in [
            zip::CompressionMethod::Stored,
            zip::CompressionMethod::Deflated,
        ] {
            let bytes = zip_of(
                &[
                    ("small.txt", b"a small one"),
                    ("big/log.txt", text.as_bytes()),
                    ("box.mbox", mbox.as_bytes()),
                    ("scan.pdf", pdf.as_bytes()),
                ],
                method,
            );
            let path = d.path().join("a.zip");
            std::fs::write(&path, &bytes).unwrap();
            let got = items(&path, ArchiveKind::Zip, &config(1000));
            assert!(
                matches!(&got[0], Item::Whole { name, bytes, .. } if name == "small.txt" && bytes == b"a small one")
            );
            let mut joined = String::new();
            let mut windows = 0;
            let mut messages = 0;
            for it in &got[1..] {
                match it {
                    Item::Window { member, window } => {
                        assert_eq!(&**member, "big/log.txt");
                        windows += 1;
                        assert_eq!(window.number, windows);
                        let s = window.start as usize;
                        assert_eq!(&text[s..s + window.text.len()], window.text);
                        joined.truncate(s);
                        joined.push_str(&window.text);
                    }
                    Item::Message { member, message } => {
                        assert_eq!(&**member, "box.mbox");
                        messages += 1;
                        assert_eq!(message.number, messages);
                    }
                    Item::Note { name, reason } => {
                        assert_eq!(name, "scan.pdf");
                        assert!(reason.contains("a PDF is read whole"), "{reason}");
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(joined, text);
            assert!(windows > 5);
            assert_eq!(messages, 30);
            // The consumer stops: nothing more is read.
            let mut n = 0;
            read_archive(&path, ArchiveKind::Zip, &config(1000), &mut |_| {
                n += 1;
                n < 3
            });
            assert_eq!(n, 3);
        }
    }

    fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, bytes) in members {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *bytes).unwrap();
        }
        b.into_inner().unwrap()
    }

    /// A tar (plain and gzip) reads as the ZIP does; a `.tar.gz` whose
    /// content passes `max_ratio` times its size stops with the reason.
    #[test]
    fn tar_members_and_the_archive_ratio() {
        use std::io::Write;
        let text: String = (0..400).map(|i| format!("line {i} of the log\n")).collect();
        let tar = tar_of(&[("a.txt", b"small"), ("log.txt", text.as_bytes())]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).unwrap();
        let tgz = gz.finish().unwrap();
        let d = tempfile::tempdir().unwrap();
        for (bytes, gzip) in [(&tar, false), (&tgz, true)] {
            let path = d.path().join("a.tar");
            std::fs::write(&path, bytes).unwrap();
            let got = items(&path, ArchiveKind::Tar { gzip }, &config(1000));
            assert!(matches!(&got[0], Item::Whole { name, .. } if name == "a.txt"));
            assert!(got.len() > 5);
            assert!(got[1..]
                .iter()
                .all(|i| matches!(i, Item::Window { member, .. } if &**member == "log.txt")));
        }
        // 40 MB of one letter in a tar.gz: a ratio near 1000.
        let bomb = tar_of(&[("x.txt", "x".repeat(40 << 20).as_bytes())]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bomb).unwrap();
        let path = d.path().join("bomb.tar.gz");
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let c = ArchiveConfig {
            window: 1 << 20,
            overlap: 1 << 10,
            ..config(1 << 20)
        };
        let got = items(&path, ArchiveKind::Tar { gzip: true }, &c);
        let read: u64 = got.iter().map(Item::len).sum();
        assert!(read < 40 << 20, "{read}");
        assert!(
            got.iter().any(
                |i| matches!(i, Item::Note { reason, .. } if reason.contains("200 times its size"))
            ),
            "{:?}",
            got.last()
        );
    }

    /// ZIP bombs: a member over its ratio is refused by its declared size;
    /// many members of one compressed run stop at the archive's allowance.
    #[test]
    fn zip_bombs_stop_at_the_ratios() {
        let zeros = vec![b'a'; 8 << 20];
        let one = zip_of(&[("z.txt", &zeros[..])], zip::CompressionMethod::Deflated);
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("one.zip");
        std::fs::write(&path, &one).unwrap();
        let got = items(&path, ArchiveKind::Zip, &config(1 << 20));
        assert!(
            matches!(&got[..], [Item::Note { name, reason }] if name == "z.txt" && reason.contains("times its compressed size")),
            "{got:?}"
        );
        // 60 members of 1 MiB (each exempt from the member ratio): 60 MiB
        // from a small file passes 200 times its size.
        let mib = vec![b'b'; 1 << 20];
        let members: Vec<(String, &[u8])> =
            (0..60).map(|i| (format!("m{i}.txt"), &mib[..])).collect();
        let refs: Vec<(&str, &[u8])> = members.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        let many = zip_of(&refs, zip::CompressionMethod::Deflated);
        let path = d.path().join("many.zip");
        std::fs::write(&path, &many).unwrap();
        let cap = many.len() as u64 * 200;
        assert!(cap < 60 << 20);
        let got = items(&path, ArchiveKind::Zip, &config(2 << 20));
        let read: u64 = got.iter().map(Item::len).sum();
        assert!(read <= cap, "{read} > {cap}");
        assert!(got.iter().any(
            |i| matches!(i, Item::Note { reason, .. } if reason.contains("200 times its size"))
        ));
    }
}
