//! Files larger than the text limit (`max_file`): read in pieces, never
//! whole.
//!
//! Such a file is handled alone, after the batch before it, in two passes:
//!
//! 1. its blake3 and FastCDC chunks, streamed (`chunk::chunk_reader`), so
//!    that whether it is unchanged, a new version or a copy is known before
//!    any of its parts is stored, exactly as for a file read whole;
//! 2. its pieces (`extract::stream`: the messages of an mbox, the windows
//!    of a text file), in batches of at most [`StreamConfig::batch_bytes`]
//!    bytes and [`BATCH_PIECES`] pieces, each batch extracted and analyzed
//!    in parallel and added to the segment in order before the next batch
//!    is read.
//!
//! Memory is then bounded by one batch (its raw bytes, their extracted
//! text and analyses), one piece at most `piece_cap` bytes plus two lines,
//! and what the segment keeps anyway (the key buffer, spilled past half of
//! `--memory`, and a record per part); not by the file's size. Batches
//! depend on the bytes only, and are consumed in order: the index is the
//! same at any thread count.
//!
//! A gzip file is read through its decompressor the same way when what it
//! holds is an mbox or plain text (`box.mbox.gz`): its pieces are named as
//! the in-memory reader names them, under the inner name
//! (`box.mbox.gz#box.mbox#3`, `log.txt.gz#log.txt#window 2`), and at most
//! `max_ratio` times its compressed size is read (the rest is a note), in
//! place of `max_expanded`, which bounds what is held, not what is streamed.
//!
//! An archive (ZIP, tar, `.tar.gz`) is read member by member
//! (`extract::stream_archive`) on a thread of its own, which hands the
//! members (read whole up to the text limit), the messages and the windows
//! of larger ones, and its notes, in archive order, through a channel
//! holding at most [`ARCHIVE_QUEUE_BYTES`] of them read ahead (or one
//! item, whatever its size); they are batched and extracted as a mailbox's
//! messages are. The members are named as the in-memory read names them
//! (`dump.zip#a/b.txt`), a large member's pieces under it
//! (`dump.zip#logs/big.txt#window 3`, `dump.tar.gz#box.mbox#12`).
//!
//! A file of another format (an Office document among ZIP files) is
//! recorded by its chunks only, with a reason naming the format, which is
//! read whole.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use flate2::read::MultiGzDecoder;

use rayon::prelude::*;

use super::analyze::{self, Fp};
use super::read::{self, FileResult, PartResult, ReadConfig};
use crate::extract::detect::{self, Kind};
use crate::extract::stream::{
    self, MboxReader, NotStreamable, Streamable, TextWindows, HEAD, TEXT_WINDOW, WINDOW_OVERLAP,
};
use crate::extract::stream_archive::{self, ArchiveConfig, ArchiveKind, Item, ZipRefused};
use crate::extract::{extract_member, gzip_inner_name, join, ExtractLimits, Format};
use crate::index::wire::FileStatus;

/// Most pieces in one batch.
pub(crate) const BATCH_PIECES: usize = 1024;
/// Most notes (skipped messages, cut parts) one streamed file keeps; the
/// rest are counted in one last note.
pub(crate) const MAX_NOTES: usize = 1000;
/// Bytes of a streamed archive's items read ahead of the batch being
/// collected. A larger item (a member read whole, up to the text limit)
/// waits until the queue is empty, so at most one such member is queued
/// and one more is being read: the queue never holds a few members of
/// the text limit at once, as a queue counted in items did.
pub(crate) const ARCHIVE_QUEUE_BYTES: u64 = 16 << 20;

/// The settings of a streamed read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamConfig {
    /// Raw bytes of pieces per batch.
    pub(crate) batch_bytes: u64,
    /// Longest mbox message read (longer ones are skipped with a reason).
    pub(crate) piece_cap: usize,
    /// Text window and overlap, bytes.
    pub(crate) window: usize,
    pub(crate) overlap: usize,
    /// Largest expansion of a streamed gzip file over its size.
    pub(crate) max_ratio: u64,
    /// The text limit: archive members up to it are read whole.
    pub(crate) max_file: u64,
    /// Deepest nesting (the members of an archive are at depth 1).
    pub(crate) max_depth: usize,
}

impl StreamConfig {
    /// Derived from the memory budget and the limits: batches of an eighth
    /// of `--memory` (as file batches), messages up to the text limit or a
    /// batch (16 MiB at least), windows of 4 MiB (at most `max_part_text`)
    /// overlapping by 64 KiB (at most a quarter of the window).
    pub(crate) fn new(memory: u64, max_file: u64, limits: &ExtractLimits) -> StreamConfig {
        let batch_bytes = (memory / 8).max(4 << 20);
        let piece_cap = max_file.min(batch_bytes.max(16 << 20));
        let window = TEXT_WINDOW.min(limits.max_part_text).max(64);
        StreamConfig {
            batch_bytes,
            piece_cap: usize::try_from(piece_cap).unwrap_or(usize::MAX),
            window,
            overlap: WINDOW_OVERLAP.min(window / 4),
            max_ratio: limits.max_ratio,
            max_file,
            max_depth: limits.max_depth,
        }
    }

    fn archive(&self) -> ArchiveConfig {
        ArchiveConfig {
            max_file: self.max_file,
            piece_cap: self.piece_cap,
            window: self.window,
            overlap: self.overlap,
            max_ratio: self.max_ratio,
            max_depth: self.max_depth,
        }
    }
}

/// How a large file is read in pieces.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// What its (decompressed) bytes are.
    pub(crate) kind: How,
    /// For a gzip file holding an mbox or text: the part name of what it
    /// holds.
    pub(crate) gzip: Option<String>,
}

/// What a large file's pieces are.
#[derive(Debug, Clone, Copy)]
pub(crate) enum How {
    /// Messages or windows of the file (or of what its gzip holds).
    Pieces(Streamable),
    /// The members of an archive.
    Archive(ArchiveKind),
}

/// What a large file is.
pub(crate) enum Large {
    /// To be read in pieces; pass 1 done (hash and chunks, no parts).
    Stream(Box<FileResult>, Plan),
    /// Recorded by its chunks only, or skipped: the result as it stays.
    Done(Box<FileResult>),
}

/// Judge a large file by its head and run pass 1 (hash and chunks).
pub(crate) fn classify(path: &Path, name: Vec<u8>, cfg: ReadConfig<'_>) -> Large {
    let mut head = Vec::with_capacity(HEAD);
    let judged = File::open(path).and_then(|f| f.take(HEAD as u64).read_to_end(&mut head));
    if let Err(e) = judged {
        return Large::Done(Box::new(FileResult::skipped(
            name,
            format!("cannot read: {e}"),
        )));
    }
    let base = name.rsplit(|&b| b == b'/').next().unwrap_or(&name);
    let hint = String::from_utf8_lossy(base).into_owned();
    let limit = cfg.max_file;
    let mut gzip = None;
    let kind = if head.starts_with(&[0x1f, 0x8b]) {
        // What the gzip holds, judged on its first HEAD decompressed bytes.
        let inner = gzip_inner_name(&hint);
        let mut inner_head = Vec::with_capacity(HEAD);
        let read = File::open(path).and_then(|f| {
            MultiGzDecoder::new(BufReader::new(f))
                .take(HEAD as u64)
                .read_to_end(&mut inner_head)
        });
        if let Err(e) = read {
            let reason = format!("gzip stream corrupt: {e}; chunks only");
            return Large::Done(Box::new(read::chunk_only(
                path,
                name,
                cfg,
                Some(reason),
                Format::Gzip,
            )));
        }
        if detect::detect(&inner_head, &inner) == Kind::Tar {
            // `x.tar.gz#a/b.txt`, as the in-memory read names its entries.
            return archive(path, name, cfg, ArchiveKind::Tar { gzip: true });
        }
        let kind = stream::classify(&inner_head, &inner);
        gzip = Some(inner);
        kind
    } else {
        match detect::detect(&head, &hint) {
            Kind::Tar => return archive(path, name, cfg, ArchiveKind::Tar { gzip: false }),
            Kind::Zip => match stream_archive::check_zip(path) {
                Ok(()) => return archive(path, name, cfg, ArchiveKind::Zip),
                Err(ZipRefused::Office) => Err(NotStreamable::Whole(
                    "an Office document (.docx, .xlsx, .pptx, OpenDocument)",
                )),
                Err(ZipRefused::Unreadable(e)) => {
                    let reason = format!("ZIP not readable: {e}; chunks only");
                    return Large::Done(Box::new(read::chunk_only(
                        path,
                        name,
                        cfg,
                        Some(reason),
                        Format::Zip,
                    )));
                }
            },
            _ => stream::classify(&head, &hint),
        }
    };
    let (format, reason) = match (kind, &gzip) {
        (_, Some(_)) => (
            Format::Gzip,
            match kind {
                Err(NotStreamable::Whole(what)) => Some(format!(
                    "larger than the text limit of {limit} bytes, and {what} inside gzip is read whole: chunks only"
                )),
                _ => None,
            },
        ),
        (Ok(Streamable::Mbox), None) => (Format::Mbox, None),
        (Ok(Streamable::Text { .. }), None) => (Format::Text, None),
        (Err(NotStreamable::Binary), None) => (Format::Binary, None),
        (Err(NotStreamable::Whole(what)), None) => (
            Format::Binary,
            Some(format!(
                "larger than the text limit of {limit} bytes, and {what} is read whole: chunks only"
            )),
        ),
    };
    let mut r = read::chunk_only(path, name, cfg, reason, format);
    match kind {
        Ok(kind) if r.status != FileStatus::Skipped => {
            r.status = FileStatus::Indexed;
            let plan = Plan {
                kind: How::Pieces(kind),
                gzip,
            };
            Large::Stream(Box::new(r), plan)
        }
        _ => Large::Done(Box::new(r)),
    }
}

/// An archive over the text limit: pass 1, then its members in pass 2.
fn archive(path: &Path, name: Vec<u8>, cfg: ReadConfig<'_>, kind: ArchiveKind) -> Large {
    let format = match kind {
        ArchiveKind::Zip => Format::Zip,
        ArchiveKind::Tar { gzip: false } => Format::Tar,
        ArchiveKind::Tar { gzip: true } => Format::Gzip,
    };
    let mut r = read::chunk_only(path, name, cfg, None, format);
    if r.status == FileStatus::Skipped {
        return Large::Done(Box::new(r));
    }
    r.status = FileStatus::Indexed;
    let plan = Plan {
        kind: How::Archive(kind),
        gzip: None,
    };
    Large::Stream(Box::new(r), plan)
}

/// A reader that gives at most `cap` bytes, then an error if there are more.
struct Capped<R> {
    r: R,
    left: u64,
    why: String,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            let mut one = [0u8; 1];
            return match self.r.read(&mut one)? {
                0 => Ok(0),
                _ => Err(io::Error::other(self.why.clone())),
            };
        }
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let got = self.r.read(&mut buf[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

/// The bytes a streamed file's pieces are read from.
type Input = Box<dyn BufRead + Send>;

/// A piece of a large file.
pub(crate) enum Piece {
    /// An mbox message.
    Message(stream::RawMessage),
    /// A text window.
    Window(stream::TextWindow),
    /// A member of an archive, or a piece or note of one (named).
    Member(Item),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Message(m) => m.len,
            Piece::Window(w) => w.text.len() as u64,
            Piece::Member(i) => i.len(),
        }
    }
}

/// The pieces of one large file, read in order.
pub(crate) struct Pieces {
    src: Src,
    prefix: String,
    /// A piece read but left for the next batch (it would have taken the
    /// batch past its bytes).
    held: Option<Piece>,
    /// A read error met after some pieces of a batch: the batch is
    /// returned, the error at the next call.
    failed: Option<std::io::Error>,
}

enum Src {
    /// Messages of an mbox.
    Mbox(MboxReader<Input>),
    /// Windows of a text file.
    Text(TextWindows<Input>),
    /// Items of an archive, read on a thread.
    Archive(ArchiveReader),
}

/// The thread reading an archive, and the channel of its items.
struct ArchiveReader {
    rx: Option<crossbeam_channel::Receiver<Item>>,
    gate: Arc<ByteGate>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The bytes of the items queued between the archive's reading thread and
/// the batch: the reader waits while adding an item would pass the cap,
/// unless nothing is queued; it stops waiting when the batch side closes.
#[derive(Debug)]
struct ByteGate {
    cap: u64,
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    queued: u64,
    closed: bool,
}

impl ByteGate {
    fn new(cap: u64) -> ByteGate {
        ByteGate {
            cap,
            state: Mutex::new(GateState::default()),
            changed: Condvar::new(),
        }
    }

    /// Wait for room for `n` bytes and count them; `false` once closed.
    fn enter(&self, n: u64) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while !s.closed && s.queued > 0 && s.queued.saturating_add(n) > self.cap {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        if s.closed {
            return false;
        }
        s.queued += n;
        true
    }

    /// `n` bytes left the queue.
    fn leave(&self, n: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.queued = s.queued.saturating_sub(n);
        self.changed.notify_all();
    }

    /// No more items will be taken: wake the reader for good.
    fn close(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.closed = true;
        self.changed.notify_all();
    }

    #[cfg(test)]
    fn queued(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).queued
    }
}

impl ArchiveReader {
    fn spawn(path: &Path, kind: ArchiveKind, c: ArchiveConfig) -> io::Result<ArchiveReader> {
        // The gate bounds the bytes; the channel only needs room for the
        // empty items (notes, binary members) between them.
        let (tx, rx) = crossbeam_channel::bounded(64);
        let gate = Arc::new(ByteGate::new(ARCHIVE_QUEUE_BYTES));
        let g = Arc::clone(&gate);
        let path = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("leakprint-archive".into())
            .spawn(move || {
                stream_archive::read_archive(&path, kind, &c, &mut |item| {
                    g.enter(item.len()) && tx.send(item).is_ok()
                });
            })?;
        Ok(ArchiveReader {
            rx: Some(rx),
            gate,
            thread: Some(thread),
        })
    }

    /// The next item; `None` at the end.
    ///
    /// # Errors
    /// When the reading thread panicked.
    fn next(&mut self) -> io::Result<Option<Item>> {
        if let Some(item) = self.rx.as_ref().and_then(|rx| rx.recv().ok()) {
            self.gate.leave(item.len());
            return Ok(Some(item));
        }
        self.rx = None;
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Err(_)) => Err(io::Error::other("the archive reader failed")),
            _ => Ok(None),
        }
    }
}

impl Drop for ArchiveReader {
    fn drop(&mut self) {
        // Closing the gate and the channel stops the thread at its next
        // item.
        self.gate.close();
        self.rx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Pieces {
    /// Open `path` for pass 2.
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub(crate) fn open(path: &Path, plan: &Plan, c: &StreamConfig) -> std::io::Result<Pieces> {
        let kind = match plan.kind {
            How::Pieces(kind) => kind,
            How::Archive(kind) => {
                return Ok(Pieces {
                    src: Src::Archive(ArchiveReader::spawn(path, kind, c.archive())?),
                    prefix: String::new(),
                    held: None,
                    failed: None,
                })
            }
        };
        let file = File::open(path)?;
        let f: Input = match &plan.gzip {
            None => Box::new(BufReader::with_capacity(256 << 10, file)),
            Some(_) => {
                let size = file.metadata()?.len();
                let cap = size.saturating_mul(c.max_ratio);
                let why = format!(
                    "the gzip content expands past {cap} bytes, {} times its compressed size (limit max_ratio, likely a bomb)",
                    c.max_ratio
                );
                let gz = MultiGzDecoder::new(BufReader::with_capacity(256 << 10, file));
                Box::new(BufReader::with_capacity(
                    256 << 10,
                    Capped {
                        r: gz,
                        left: cap,
                        why,
                    },
                ))
            }
        };
        let src = match kind {
            Streamable::Mbox => Src::Mbox(MboxReader::new(f, c.piece_cap)),
            Streamable::Text { encoding, bom } => {
                Src::Text(TextWindows::new(f, encoding, bom, c.window, c.overlap))
            }
        };
        Ok(Pieces {
            src,
            prefix: plan.gzip.clone().unwrap_or_default(),
            held: None,
            failed: None,
        })
    }

    /// The part name the pieces are under (the inner name of a gzip file,
    /// empty for the file itself).
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The next batch: pieces up to `bytes` bytes in all (or one piece,
    /// whatever its size) and [`BATCH_PIECES`]; empty at the end. A piece
    /// that would take the batch past `bytes` starts the next one, so a
    /// batch never holds two members read whole of nearly the text limit.
    ///
    /// # Errors
    /// Read errors, after the pieces read before them.
    pub(crate) fn next_batch(&mut self, bytes: u64) -> std::io::Result<Vec<Piece>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let mut out = Vec::new();
        let mut total = 0u64;
        while out.len() < BATCH_PIECES {
            let next = match self.held.take() {
                Some(p) => Ok(Some(p)),
                None => match &mut self.src {
                    Src::Mbox(m) => m.next_message().map(|m| m.map(Piece::Message)),
                    Src::Text(t) => t.next_window().map(|w| w.map(Piece::Window)),
                    Src::Archive(a) => a.next().map(|i| i.map(Piece::Member)),
                },
            };
            let p = match next {
                Ok(p) => p,
                Err(e) if out.is_empty() => return Err(e),
                Err(e) => {
                    // The pieces read are the file's: keep them.
                    self.failed = Some(e);
                    break;
                }
            };
            let Some(p) = p else { break };
            if !out.is_empty() && total + p.len() > bytes {
                self.held = Some(p);
                break;
            }
            total += p.len();
            out.push(p);
        }
        Ok(out)
    }
}

/// The parts of one piece and its notes (`(part name, reason)`).
pub(crate) type PieceResult = (Vec<PartResult>, Vec<(String, String)>);

/// Extract and analyze one piece: its parts and notes, named under
/// `prefix` (an archive's items carry their own names).
pub(crate) fn process_piece(
    p: Piece,
    prefix: &str,
    limits: &ExtractLimits,
    c: &StreamConfig,
    fp: Fp,
    scratch: &mut analyze::Scratch,
) -> PieceResult {
    match p {
        Piece::Window(w) => window(w, prefix, fp, scratch),
        Piece::Message(m) => message(m, prefix, 1, limits, c, fp, scratch),
        Piece::Member(Item::Window { member, window: w }) => window(w, &member, fp, scratch),
        Piece::Member(Item::Message { member, message: m }) => {
            message(m, &member, 2, limits, c, fp, scratch)
        }
        Piece::Member(Item::Whole { name, bytes }) => {
            let ex = extract_member(&bytes, &name, &name, limits);
            drop(bytes);
            let notes = ex.skipped.into_iter().map(|s| (s.name, s.reason)).collect();
            let parts = ex
                .parts
                .into_iter()
                .map(|p| part(p.name, p.format, p.text, fp, scratch))
                .collect();
            (parts, notes)
        }
        Piece::Member(Item::Binary { name }) => (
            vec![part(name, Format::Binary, String::new(), fp, scratch)],
            Vec::new(),
        ),
        Piece::Member(Item::Note { name, reason }) => (Vec::new(), vec![(name, reason)]),
    }
}

/// A text window as the part `prefix#window N`.
fn window(
    w: stream::TextWindow,
    prefix: &str,
    fp: Fp,
    scratch: &mut analyze::Scratch,
) -> PieceResult {
    let name = join(prefix, &format!("window {}", w.number));
    (
        vec![part(name, Format::Text, w.text, fp, scratch)],
        Vec::new(),
    )
}

/// A part of `text` named `name`, analyzed.
fn part(
    name: String,
    format: Format,
    text: String,
    fp: Fp,
    scratch: &mut analyze::Scratch,
) -> PartResult {
    PartResult {
        analysis: analyze::analyze(&text, fp, scratch),
        name,
        format,
        text,
    }
}

/// A message at nesting `depth` as the parts `prefix#N...`.
fn message(
    m: stream::RawMessage,
    prefix: &str,
    depth: usize,
    limits: &ExtractLimits,
    c: &StreamConfig,
    fp: Fp,
    scratch: &mut analyze::Scratch,
) -> PieceResult {
    let Some(bytes) = m.bytes else {
        let note = format!(
            "message of {} bytes, longer than the {} bytes a message of a streamed mailbox may have: not read",
            m.len, c.piece_cap
        );
        return (
            Vec::new(),
            vec![(join(prefix, &m.number.to_string()), note)],
        );
    };
    let ex = stream::extract_message(&bytes, m.number, depth, limits);
    drop(bytes);
    let notes = ex
        .skipped
        .into_iter()
        .map(|s| (join(prefix, &s.name), s.reason))
        .collect();
    let parts = ex
        .parts
        .into_iter()
        .map(|p| part(join(prefix, &p.name), p.format, p.text, fp, scratch))
        .collect();
    (parts, notes)
}

/// Process one batch of pieces in parallel, results in order.
pub(crate) fn process_batch(
    pool: &rayon::ThreadPool,
    batch: Vec<Piece>,
    prefix: &str,
    limits: &ExtractLimits,
    c: &StreamConfig,
    fp: Fp,
) -> Vec<PieceResult> {
    pool.install(|| {
        batch
            .into_par_iter()
            .map_init(analyze::Scratch::default, |s, p| {
                process_piece(p, prefix, limits, c, fp, s)
            })
            .collect()
    })
}

/// What a processed piece gave, waiting to be added in order.
pub(crate) enum Pending {
    /// A part to add.
    Part(PartResult),
    /// A note (part name, reason).
    Note((String, String)),
}

/// A streamed file being added, one record per segment it reaches: its
/// reader and the processed pieces not yet added. When a segment fills in
/// the middle of the file, the builder closes the record there and hands
/// this back as [`super::read::Source::Resume`], so that the file goes on
/// in the next segment as a continuation record
/// ([`crate::index::wire::FileRecord::continued`]).
pub(crate) struct Stream {
    /// The file's record as far as known: name, size, hash, format; its
    /// chunks until the first record takes them; `continued` once one
    /// record is written.
    pub(crate) r: Box<FileResult>,
    /// Where the pieces come from (`None` once they are all read or a read
    /// failed).
    pub(crate) pieces: Option<Pieces>,
    /// Processed, not yet added.
    pub(crate) pending: std::collections::VecDeque<Pending>,
    /// Notes of the record being written.
    pub(crate) notes: Notes,
}

impl Stream {
    /// The record of what was added since the last one (`any_text`: some
    /// part had text); the next record, if any, is a continuation and
    /// starts with fresh notes and no chunks.
    pub(crate) fn take_record(&mut self, any_text: bool) -> FileResult {
        let notes = std::mem::take(&mut self.notes).finish();
        let r = FileResult {
            name: self.r.name.clone(),
            size: self.r.size,
            blake3: self.r.blake3,
            status: if any_text {
                FileStatus::Indexed
            } else {
                FileStatus::Binary
            },
            format: self.r.format,
            reason: read::join_notes(&notes),
            notes,
            parts: Vec::new(),
            chunks: std::mem::take(&mut self.r.chunks),
            continued: self.r.continued,
        };
        self.r.continued = true;
        r
    }
}

/// Notes of one streamed file, at most [`MAX_NOTES`] kept.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    pub(crate) kept: Vec<(String, String)>,
    pub(crate) dropped: u64,
}

impl Notes {
    /// Add one note.
    pub(crate) fn push(&mut self, n: (String, String)) {
        if self.kept.len() < MAX_NOTES {
            self.kept.push(n);
        } else {
            self.dropped += 1;
        }
    }

    /// The notes, with one for those not kept.
    pub(crate) fn finish(mut self) -> Vec<(String, String)> {
        if self.dropped > 0 {
            self.kept.push((
                String::new(),
                format!("{} more notes not listed", self.dropped),
            ));
        }
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::ByteGate;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    /// Items of random sizes through the gate: the bytes queued never pass
    /// the cap unless one item alone does, every item arrives in order,
    /// and closing wakes a waiting reader.
    #[test]
    fn the_gate_holds_the_cap_or_one_item() {
        let cap = 1000u64;
        let sizes: Vec<u64> = (0..2000u64)
            .map(|i| (i * 7919 + 13) % 1700) // some over the cap
            .collect();
        let gate = Arc::new(ByteGate::new(cap));
        let worst = Arc::new(AtomicU64::new(0));
        let (tx, rx) = crossbeam_channel::unbounded();
        let (g, w, s) = (Arc::clone(&gate), Arc::clone(&worst), sizes.clone());
        let reader = std::thread::spawn(move || {
            for n in s {
                assert!(g.enter(n));
                let q = g.queued();
                // Over the cap only as the one item queued.
                if q > cap {
                    assert_eq!(q, n, "{q} bytes queued with an item of {n}");
                }
                w.fetch_max(q, Ordering::Relaxed);
                tx.send(n).unwrap();
            }
        });
        let mut got = Vec::new();
        for (i, n) in rx.iter().enumerate() {
            if i % 3 == 0 {
                std::thread::yield_now();
            }
            gate.leave(n);
            got.push(n);
        }
        reader.join().unwrap();
        assert_eq!(got, sizes);
        assert!(worst.load(Ordering::Relaxed) <= *sizes.iter().max().unwrap());
        assert_eq!(gate.queued(), 0);

        // A reader waiting for room is let go, with `false`, by close.
        let gate = Arc::new(ByteGate::new(10));
        assert!(gate.enter(8));
        let g = Arc::clone(&gate);
        let waiting = std::thread::spawn(move || g.enter(5));
        std::thread::sleep(std::time::Duration::from_millis(20));
        gate.close();
        assert!(!waiting.join().unwrap());
    }
}
