use std::sync::atomic::AtomicU64;
use std::time::Duration;

use super::*;

fn cfg(threads: usize, ordered: bool) -> PipelineConfig {
    PipelineConfig { threads, ordered }
}

/// A slow-ish, uneven map so that workers finish out of order.
fn work(x: u64) -> u64 {
    if x.is_multiple_of(7) {
        std::thread::sleep(Duration::from_micros(200));
    }
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (x >> 3)
}

#[test]
fn ordered_equals_sequential_map() {
    let want: Vec<u64> = (0..2000).map(work).collect();
    for threads in [1, 2, 3, 8] {
        let mut got = Vec::new();
        run(&cfg(threads, true), 0..2000u64, work, |o| {
            got.push(o);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(got, want, "threads {threads}");
    }
}

#[test]
fn unordered_is_a_permutation() {
    let mut want: Vec<u64> = (0..2000).map(work).collect();
    want.sort_unstable();
    for threads in [1, 4] {
        let mut got = Vec::new();
        run(&cfg(threads, false), 0..2000u64, work, |o| {
            got.push(o);
            Ok::<(), ()>(())
        })
        .unwrap();
        got.sort_unstable();
        assert_eq!(got, want, "threads {threads}");
    }
}

#[test]
fn empty_input() {
    let mut n = 0;
    run(
        &cfg(2, true),
        std::iter::empty::<u8>(),
        |x| x,
        |_| {
            n += 1;
            Ok::<(), ()>(())
        },
    )
    .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn sink_error_stops_early_on_an_endless_input() {
    for ordered in [false, true] {
        let c = cfg(3, ordered);
        let pulled = AtomicU64::new(0);
        let items = (0u64..).inspect(|_| {
            pulled.fetch_add(1, Ordering::Relaxed);
        });
        let mut sunk = 0u64;
        let r = run(
            &c,
            items,
            |x| x,
            |_| {
                sunk += 1;
                if sunk == 100 {
                    Err("broken pipe")
                } else {
                    Ok(())
                }
            },
        );
        assert!(matches!(r, Err(PipelineError::Sink("broken pipe"))));
        let pulled = pulled.load(Ordering::Relaxed);
        // The 100th result failed: 99 reached the sink, the rest were admitted.
        assert!(pulled <= 100 + c.window() as u64, "pulled {pulled}");
        assert!(pulled >= 100);
    }
}

#[test]
fn worker_panic_is_an_error_not_a_hang() {
    for (threads, ordered) in [(1, true), (4, true), (4, false)] {
        let r = run(
            &cfg(threads, ordered),
            0u64..,
            |x| {
                if x == 500 {
                    panic!("boom at {x}");
                }
                x
            },
            |_| Ok::<(), ()>(()),
        );
        match r {
            Err(PipelineError::WorkerPanicked { item, message }) => {
                assert_eq!(item, 500);
                assert_eq!(message, "boom at 500");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn reader_panic_is_an_error() {
    let items = (0u64..).map(|x| if x == 50 { panic!("bad input") } else { x });
    let r = run(&cfg(2, true), items, |x| x, |_| Ok::<(), ()>(()));
    assert!(matches!(r, Err(PipelineError::ReaderPanicked { message }) if message == "bad input"));
}

#[test]
fn sink_panic_propagates_without_hanging() {
    let r = std::panic::catch_unwind(|| {
        run(
            &cfg(2, false),
            0u64..,
            |x| x,
            |x| {
                assert!(x < 10, "sink panic");
                Ok::<(), ()>(())
            },
        )
    });
    assert!(r.is_err());
}

#[test]
fn items_ahead_of_the_sink_are_bounded() {
    // A slow sink on a long input: the reader may never run further ahead
    // than the window, in both modes, whatever the thread count.
    for (threads, ordered) in [(1, false), (1, true), (4, false), (4, true)] {
        let c = cfg(threads, ordered);
        let pulled = AtomicU64::new(0);
        let items = (0u64..5000).inspect(|_| {
            pulled.fetch_add(1, Ordering::Relaxed);
        });
        let mut sunk = 0u64;
        let mut max_ahead = 0u64;
        run(
            &c,
            items,
            |x| x,
            |_| {
                sunk += 1;
                let ahead = pulled.load(Ordering::Relaxed) - sunk;
                max_ahead = max_ahead.max(ahead);
                if sunk.is_multiple_of(500) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(sunk, 5000);
        assert!(
            max_ahead < c.window() as u64,
            "{max_ahead} ahead, window {}",
            c.window()
        );
        assert!(max_ahead > 0);
    }
}

#[test]
fn ordered_with_one_stuck_item_keeps_the_buffer_bounded() {
    // Item 0 is slow: the others finish first and wait in the reorder
    // buffer, but the reader stops at the window.
    let c = cfg(4, true);
    let pulled = AtomicU64::new(0);
    let items = (0u64..3000).inspect(|_| {
        pulled.fetch_add(1, Ordering::Relaxed);
    });
    let mut got = Vec::new();
    let mut first_seen_pulled = 0;
    run(
        &c,
        items,
        |x| {
            if x == 0 {
                std::thread::sleep(Duration::from_millis(50));
            }
            x
        },
        |x| {
            if got.is_empty() {
                first_seen_pulled = pulled.load(Ordering::Relaxed);
            }
            got.push(x);
            Ok::<(), ()>(())
        },
    )
    .unwrap();
    assert_eq!(got, (0..3000).collect::<Vec<_>>());
    assert!(
        first_seen_pulled <= c.window() as u64,
        "{first_seen_pulled}"
    );
}

#[test]
fn bad_thread_count() {
    for threads in [0, MAX_THREADS + 1] {
        let r = run(&cfg(threads, true), 0..3u8, |x| x, |_| Ok::<(), ()>(()));
        assert!(matches!(r, Err(PipelineError::Config(_))));
    }
}

#[test]
fn an_item_never_waits_for_the_next_one() {
    // A live stream: 50 posts arrive at once, then nothing more until the
    // results of those 50 are out. Items the reader shelved while a slow
    // worker held a batch must still be matched and delivered; a reader
    // that kept them until its next item would wait here for ever (the
    // timeout turns that into a reader panic, an error).
    for threads in [1, 2, 3] {
        let n = 50u64;
        let (sunk_tx, sunk_rx) = crossbeam_channel::unbounded::<u64>();
        let items = (0..=n).inspect(move |&i| {
            if i == n {
                for _ in 0..n {
                    sunk_rx
                        .recv_timeout(Duration::from_secs(10))
                        .expect("an item was held back until the next one arrived");
                }
            }
        });
        let mut got = 0;
        run(
            &cfg(threads, true),
            items,
            |x| {
                std::thread::sleep(Duration::from_micros(300));
                x
            },
            |x| {
                got += 1;
                let _ = sunk_tx.send(x);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(got, n + 1, "threads {threads}");
    }
}
