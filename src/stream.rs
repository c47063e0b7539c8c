//! The bounded pipeline behind `leakprint match`: one reader thread pulls
//! items from an iterator, `threads` workers map them, and the caller's
//! thread hands the results to a sink (the writer).
//!
//! ```text
//! items --reader--> shelf --> bounded(cap) --workers--> bounded(cap) --caller--> sink
//!          ^        (batches)                                          |
//!          +---------------- permits: bounded(WINDOW) <----------------+
//! ```
//!
//! Invariants:
//! - **Flat memory.** The reader takes a permit before it pulls an item and
//!   the writer returns it once the sink has consumed the result, so at most
//!   [`PipelineConfig::window`] items are between the iterator and the sink
//!   (in channels, in workers, or waiting in the reorder buffer), whatever the
//!   input length.
//! - **Order.** With `ordered`, results reach the sink in input order (a
//!   reorder buffer of at most `window` slots); otherwise as they finish.
//!   The set of results never depends on the thread count.
//! - **Batched hand-over, no added wait.** Items cross the channels in
//!   batches of up to [`BATCH`]. The reader puts each item on a shelf
//!   and sends the shelf as one batch when it is full or when the channel
//!   to the workers is empty (a worker may be waiting); a worker that finds
//!   the channel empty takes what is on the shelf before it blocks. So an
//!   item never waits for the reader's next item, which may never come on
//!   a quiet pipe: while it is on the shelf, the channel holds a batch,
//!   and the worker that takes that batch looks at the shelf before it
//!   waits. A worker sends its results to the writer together, up to
//!   [`BATCH`] at once, and never holds a finished result longer than
//!   [`WORKER_HOLD`] or past the moment it would wait for input. One item
//!   at a time, each one woke a thread: on 150,000 short posts at one
//!   thread the hand-over cost more CPU than the matching (BENCHMARKS.md
//!   "Posts handed over in batches").
//! - **Prompt stop.** A sink error, a panicking worker or a panicking
//!   iterator drops the channels, which ends every thread at its next
//!   channel operation; [`run`] returns the error instead of hanging. An
//!   iterator blocked inside `next()` (a quiet pipe) is only seen once it
//!   returns: the scoped threads are joined before [`run`] returns.
//!
//! The design follows tantivy's indexing pipeline and ripgrep's
//! reader/worker/printer split: crossbeam channels, every one
//! `bounded(NAMED_CONST)`.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError};
use thiserror::Error;

use crate::error::ConfigError;

/// Batches queued per worker between the reader and the workers, and
/// between the workers and the writer.
pub const QUEUE_PER_WORKER: usize = 4;

/// Most items (or results) in one message between threads.
pub const BATCH: usize = 64;

/// Longest a worker keeps a finished result while it works on more items
/// that were already waiting (the delay batching may add to one result).
pub const WORKER_HOLD: Duration = Duration::from_millis(1);

/// Most worker threads accepted.
pub const MAX_THREADS: usize = 1024;

/// How the pipeline runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Worker threads (1 to [`MAX_THREADS`]).
    pub threads: usize,
    /// Deliver results in input order.
    pub ordered: bool,
}

impl PipelineConfig {
    /// Items admitted at once between the iterator and the sink:
    /// `4 * BATCH * threads`, room for a batch on the shelf, one in the
    /// channel, one in work and one on its way to the writer per worker.
    pub fn window(&self) -> usize {
        4 * BATCH * self.threads.max(1)
    }

    fn check(&self) -> Result<(), ConfigError> {
        ConfigError::check_range("threads", self.threads as u64, 1, MAX_THREADS as u64)?;
        Ok(())
    }
}

/// Why a pipeline stopped early.
#[non_exhaustive]
#[derive(Debug, Error)]
pub enum PipelineError<E> {
    /// The sink returned an error (for example a closed stdout pipe).
    #[error("output failed")]
    Sink(#[source] E),
    /// A worker panicked while mapping an item.
    #[error("a worker panicked on item {item}: {message}")]
    WorkerPanicked {
        /// 0-based position of the item in the input.
        item: u64,
        /// The panic message, when it was a string.
        message: String,
    },
    /// The input iterator panicked.
    #[error("the input reader panicked: {message}")]
    ReaderPanicked {
        /// The panic message, when it was a string.
        message: String,
    },
    /// The configuration is out of range.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

/// A worker's results (item number, result) in input order of the
/// worker, or a panic.
enum Done<O> {
    Items(Vec<(u64, O)>),
    Panicked(u64, String),
    ReaderPanicked(String),
}

/// Map `items` with `work` on `cfg.threads` threads and feed the results to
/// `sink` on the calling thread, as the module documentation describes.
///
/// # Errors
/// [`PipelineError::Sink`] with the sink's first error,
/// [`PipelineError::WorkerPanicked`] / [`PipelineError::ReaderPanicked`]
/// when a thread panicked, [`PipelineError::Config`] for a bad thread count.
/// After an error no more items are pulled than are already admitted.
///
/// # Panics
/// Only if `sink` itself panics (the panic is resumed after the threads
/// have stopped).
pub fn run<I, O, E>(
    cfg: &PipelineConfig,
    items: impl Iterator<Item = I> + Send,
    work: impl Fn(I) -> O + Sync,
    mut sink: impl FnMut(O) -> Result<(), E>,
) -> Result<(), PipelineError<E>>
where
    I: Send,
    O: Send,
{
    cfg.check()?;
    let queue = QUEUE_PER_WORKER * cfg.threads;
    let window = cfg.window();
    let (in_tx, in_rx) = bounded::<Vec<(u64, I)>>(queue);
    let shelf: Mutex<Vec<(u64, I)>> = Mutex::new(Vec::new());
    let shelf = &shelf;
    let (out_tx, out_rx) = bounded::<Done<O>>(queue);
    let (permit_tx, permit_rx) = bounded::<()>(window);
    let stop = AtomicBool::new(false);
    let work = &work;
    let stop = &stop;

    std::thread::scope(|scope| {
        let reader_out = out_tx.clone();
        scope.spawn(move || reader(items, shelf, in_tx, permit_tx, reader_out, stop));
        for _ in 0..cfg.threads {
            let (rx, tx) = (in_rx.clone(), out_tx.clone());
            scope.spawn(move || worker(rx, shelf, tx, work, stop));
        }
        drop((in_rx, out_tx));
        let result = writer(out_rx, permit_rx, cfg.ordered, window, &mut sink);
        if result.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        // Returning drops the writer's receivers: blocked senders wake up
        // with an error and every thread ends.
        result
    })
}

/// The shelf's items, taken (a poisoned lock still holds plain data).
fn take_shelf<I>(shelf: &Mutex<Vec<(u64, I)>>) -> Vec<(u64, I)> {
    std::mem::take(&mut *shelf.lock().unwrap_or_else(PoisonError::into_inner))
}

fn reader<I>(
    items: impl Iterator<Item = I>,
    shelf: &Mutex<Vec<(u64, I)>>,
    in_tx: Sender<Vec<(u64, I)>>,
    permits: Sender<()>,
    out_tx: Sender<Done<impl Send>>,
    stop: &AtomicBool,
) {
    let mut items = items;
    let mut seq = 0u64;
    loop {
        // A permit first: at most `window` items admitted and not yet sunk.
        if stop.load(Ordering::Relaxed) || permits.send(()).is_err() {
            return;
        }
        let next = panic::catch_unwind(AssertUnwindSafe(|| items.next()));
        match next {
            Ok(Some(item)) => {
                // On the shelf; sent on when the shelf is full or no batch
                // is waiting (then a worker may be blocked). Checked under
                // the shelf's lock, which a worker takes after it found
                // the channel empty and before it blocks: an item left on
                // the shelf always has a batch in the channel ahead of it,
                // and whoever takes that batch looks at the shelf before
                // it waits.
                let batch = {
                    let mut s = shelf.lock().unwrap_or_else(PoisonError::into_inner);
                    s.push((seq, item));
                    if s.len() >= BATCH || in_tx.is_empty() {
                        std::mem::take(&mut *s)
                    } else {
                        Vec::new()
                    }
                };
                seq += 1;
                if !batch.is_empty() && in_tx.send(batch).is_err() {
                    return;
                }
            }
            Ok(None) => {
                let rest = take_shelf(shelf);
                if !rest.is_empty() {
                    let _ = in_tx.send(rest);
                }
                return;
            }
            Err(payload) => {
                let _ = out_tx.send(Done::ReaderPanicked(panic_message(&*payload)));
                return;
            }
        }
    }
}

fn worker<I, O>(
    in_rx: Receiver<Vec<(u64, I)>>,
    shelf: &Mutex<Vec<(u64, I)>>,
    out_tx: Sender<Done<O>>,
    work: &(impl Fn(I) -> O + Sync),
    stop: &AtomicBool,
) {
    let mut done: Vec<(u64, O)> = Vec::new();
    // When the first result of `done` was finished.
    let mut since = Instant::now();
    loop {
        // A batch already waiting is taken without blocking. Before
        // blocking: the results held so far go to the writer, and the
        // items on the shelf are taken.
        let batch = match in_rx.try_recv() {
            Ok(batch) => batch,
            Err(TryRecvError::Empty) => {
                if !done.is_empty() && out_tx.send(Done::Items(std::mem::take(&mut done))).is_err()
                {
                    return;
                }
                let shelved = take_shelf(shelf);
                if shelved.is_empty() {
                    match in_rx.recv() {
                        Ok(batch) => batch,
                        Err(_) => return,
                    }
                } else {
                    shelved
                }
            }
            Err(TryRecvError::Disconnected) => {
                if !done.is_empty() {
                    let _ = out_tx.send(Done::Items(done));
                }
                return;
            }
        };
        for (seq, item) in batch {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match panic::catch_unwind(AssertUnwindSafe(|| work(item))) {
                Ok(out) => {
                    if done.is_empty() {
                        since = Instant::now();
                    }
                    done.push((seq, out));
                }
                Err(payload) => {
                    stop.store(true, Ordering::Relaxed);
                    if !done.is_empty() {
                        let _ = out_tx.send(Done::Items(std::mem::take(&mut done)));
                    }
                    let _ = out_tx.send(Done::Panicked(seq, panic_message(&*payload)));
                    return;
                }
            }
            if (done.len() >= BATCH || since.elapsed() >= WORKER_HOLD)
                && out_tx.send(Done::Items(std::mem::take(&mut done))).is_err()
            {
                return;
            }
        }
    }
}

fn writer<O, E>(
    out_rx: Receiver<Done<O>>,
    permits: Receiver<()>,
    ordered: bool,
    window: usize,
    sink: &mut impl FnMut(O) -> Result<(), E>,
) -> Result<(), PipelineError<E>> {
    let mut emit = |out: O| -> Result<(), PipelineError<E>> {
        sink(out).map_err(PipelineError::Sink)?;
        // Give the item's permit back; the reader cannot be gone while
        // items are still arriving, and if it is, nothing waits on it.
        let _ = permits.try_recv();
        Ok(())
    };
    // Slot k holds the result of item `next + k`, once it has arrived.
    let mut pending: VecDeque<Option<O>> =
        VecDeque::with_capacity(if ordered { window } else { 0 });
    let mut next = 0u64;
    for done in out_rx {
        let items = match done {
            Done::Items(items) => items,
            Done::Panicked(item, message) => {
                return Err(PipelineError::WorkerPanicked { item, message })
            }
            Done::ReaderPanicked(message) => return Err(PipelineError::ReaderPanicked { message }),
        };
        for (seq, out) in items {
            if !ordered {
                emit(out)?;
                continue;
            }
            // Permits keep seq within `window` of `next`.
            let k = (seq - next) as usize;
            if pending.len() <= k {
                pending.resize_with(k + 1, || None);
            }
            pending[k] = Some(out);
            while let Some(Some(_)) = pending.front() {
                if let Some(Some(out)) = pending.pop_front() {
                    emit(out)?;
                    next += 1;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
