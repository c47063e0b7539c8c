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
//! A file of another format is recorded by its chunks only, with a reason
//! naming the format, which is read whole.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use rayon::prelude::*;

use super::analyze::{self, Fp};
use super::read::{self, FileResult, PartResult, ReadConfig};
use crate::extract::stream::{
    self, MboxReader, NotStreamable, Streamable, TextWindows, HEAD, TEXT_WINDOW, WINDOW_OVERLAP,
};
use crate::extract::{gzip_inner_name, join, ExtractLimits, Format};
use crate::index::wire::FileStatus;

/// Most pieces in one batch.
pub(crate) const BATCH_PIECES: usize = 1024;
/// Most notes (skipped messages, cut parts) one streamed file keeps; the
/// rest are counted in one last note.
pub(crate) const MAX_NOTES: usize = 1000;

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
        }
    }
}

/// How a large file is read in pieces.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// What its (decompressed) bytes are.
    pub(crate) kind: Streamable,
    /// For a gzip file: the part name of what it holds.
    pub(crate) gzip: Option<String>,
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
        let kind = stream::classify(&inner_head, &inner);
        gzip = Some(inner);
        kind
    } else {
        stream::classify(&head, &hint)
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
            Large::Stream(Box::new(r), Plan { kind, gzip })
        }
        _ => Large::Done(Box::new(r)),
    }
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
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Message(m) => m.len,
            Piece::Window(w) => w.text.len() as u64,
        }
    }
}

/// The pieces of one large file, read in order.
pub(crate) struct Pieces {
    src: Src,
    prefix: String,
}

enum Src {
    /// Messages of an mbox.
    Mbox(MboxReader<Input>),
    /// Windows of a text file.
    Text(TextWindows<Input>),
}

impl Pieces {
    /// Open `path` for pass 2.
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub(crate) fn open(path: &Path, plan: &Plan, c: &StreamConfig) -> std::io::Result<Pieces> {
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
        let src = match plan.kind {
            Streamable::Mbox => Src::Mbox(MboxReader::new(f, c.piece_cap)),
            Streamable::Text { encoding, bom } => {
                Src::Text(TextWindows::new(f, encoding, bom, c.window, c.overlap))
            }
        };
        Ok(Pieces {
            src,
            prefix: plan.gzip.clone().unwrap_or_default(),
        })
    }

    /// The part name the pieces are under (the inner name of a gzip file,
    /// empty for the file itself).
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The next batch: pieces up to `bytes` bytes (one at least) and
    /// [`BATCH_PIECES`]; empty at the end.
    ///
    /// # Errors
    /// Read errors.
    pub(crate) fn next_batch(&mut self, bytes: u64) -> std::io::Result<Vec<Piece>> {
        let mut out = Vec::new();
        let mut total = 0u64;
        while out.len() < BATCH_PIECES && (out.is_empty() || total < bytes) {
            let p = match &mut self.src {
                Src::Mbox(m) => m.next_message()?.map(Piece::Message),
                Src::Text(t) => t.next_window()?.map(Piece::Window),
            };
            let Some(p) = p else { break };
            total += p.len();
            out.push(p);
        }
        Ok(out)
    }
}

/// The parts of one piece and its notes (`(part name, reason)`).
pub(crate) type PieceResult = (Vec<PartResult>, Vec<(String, String)>);

/// Extract and analyze one piece: its parts and notes, named under
/// `prefix`.
pub(crate) fn process_piece(
    p: Piece,
    prefix: &str,
    limits: &ExtractLimits,
    c: &StreamConfig,
    fp: Fp,
    scratch: &mut analyze::Scratch,
) -> PieceResult {
    match p {
        Piece::Window(w) => {
            let name = join(prefix, &format!("window {}", w.number));
            let part = PartResult {
                analysis: analyze::analyze(&w.text, fp, scratch),
                name,
                format: Format::Text,
                text: w.text,
            };
            (vec![part], Vec::new())
        }
        Piece::Message(m) => {
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
            let ex = stream::extract_message(&bytes, m.number, limits);
            drop(bytes);
            let notes = ex
                .skipped
                .into_iter()
                .map(|s| (join(prefix, &s.name), s.reason))
                .collect();
            let parts = ex
                .parts
                .into_iter()
                .map(|p| PartResult {
                    analysis: analyze::analyze(&p.text, fp, scratch),
                    name: join(prefix, &p.name),
                    format: p.format,
                    text: p.text,
                })
                .collect();
            (parts, notes)
        }
    }
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
