//! Tests of chunking: invariants (naive oracle), agreement with the
//! `fastcdc` crate's own iterator, boundary sizes, and the streaming path
//! with arbitrary read sizes.

use super::*;
use proptest::prelude::*;

/// Deterministic pseudo-random bytes (splitmix64 stream).
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            (crate::fingerprint::remix(state) >> 56) as u8
        })
        .collect()
}

/// A reader returning at most `step` bytes per call (cycling through `steps`).
struct Trickle<'a> {
    data: &'a [u8],
    steps: Vec<usize>,
    i: usize,
    interrupt_every: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.i += 1;
        if self.interrupt_every > 0 && self.i.is_multiple_of(self.interrupt_every) {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        let step = self.steps[self.i % self.steps.len()].max(1);
        let n = step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn via_reader(data: &[u8], params: &ChunkParams, steps: Vec<usize>) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let reader = Trickle {
        data,
        steps,
        i: 0,
        interrupt_every: 7,
    };
    let (hash, len) = chunk_reader(reader, params, |c| chunks.push(c)).unwrap();
    assert_eq!(len, data.len() as u64);
    assert_eq!(hash, blake3::hash(data));
    chunks
}

/// The naive oracle: the invariants every chunking must satisfy.
fn check_invariants(data: &[u8], params: &ChunkParams, chunks: &[Chunk]) {
    let mut at = 0u64;
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(
            c.offset, at,
            "chunk {i} does not start where the last ended"
        );
        assert!(c.len > 0, "chunk {i} is empty");
        assert!(c.len <= params.max_size, "chunk {i} longer than max");
        if i + 1 < chunks.len() {
            // min_size rounded down to even: see the module docs
            assert!(c.len >= params.min_size & !1, "chunk {i} shorter than min");
        }
        let slice = &data[c.offset as usize..(c.offset + u64::from(c.len)) as usize];
        assert_eq!(&c.hash, blake3::hash(slice).as_bytes(), "chunk {i} hash");
        at += u64::from(c.len);
    }
    assert_eq!(at, data.len() as u64, "chunks do not cover the input");
}

/// Cut points of the `fastcdc` crate's own iterator, the reference.
fn reference_cuts(data: &[u8], p: &ChunkParams) -> Vec<(u64, u32)> {
    v2020::FastCDC::new(data, p.min_size, p.avg_size, p.max_size)
        .map(|c| (c.offset as u64, c.length as u32))
        .collect()
}

fn cuts(chunks: &[Chunk]) -> Vec<(u64, u32)> {
    chunks.iter().map(|c| (c.offset, c.len)).collect()
}

#[test]
fn params_ranges_and_defaults() {
    let d = ChunkParams::default();
    assert_eq!((d.min_size, d.avg_size, d.max_size), (4096, 16384, 65536));
    assert_eq!(ChunkParams::new(4096, 16384, 65536), Ok(d));
    // (min, avg, max, ok?) at +-1 around every limit
    let cases: &[(u32, u32, u32, bool)] = &[
        (64, 256, 1024, true),
        (63, 256, 1024, false),
        (64, 255, 1024, false),
        (64, 256, 1023, false),
        (1_048_576, 4_194_304, 16_777_216, true),
        (1_048_577, 4_194_304, 16_777_216, false),
        (1_048_576, 4_194_305, 16_777_216, false),
        (1_048_576, 4_194_304, 16_777_217, false),
        (0, 0, 0, false),
        (u32::MAX, u32::MAX, u32::MAX, false),
        (4096, 2048, 65536, false),
        (4096, 131_072, 65536, false),
        (4096, 4096, 4096, true),
    ];
    for &(min, avg, max, ok) in cases {
        let r = ChunkParams::new(min, avg, max);
        assert_eq!(r.is_ok(), ok, "{min} {avg} {max}: {r:?}");
    }
    assert!(matches!(
        ChunkParams::new(63, 256, 1024),
        Err(ConfigError::OutOfRange {
            value: 63,
            min: 64,
            ..
        })
    ));
    assert!(matches!(
        ChunkParams::new(4096, 2048, 65536),
        Err(ConfigError::Inconsistent(_))
    ));
}

#[test]
fn unchecked_params_are_clamped_not_panicking() {
    let data = random_bytes(5, 20_000);
    for p in [
        ChunkParams {
            min_size: 0,
            avg_size: 0,
            max_size: 0,
        },
        ChunkParams {
            min_size: u32::MAX,
            avg_size: u32::MAX,
            max_size: u32::MAX,
        },
        ChunkParams {
            min_size: 5000,
            avg_size: 300,
            max_size: 1024,
        },
    ] {
        let chunks = chunk_bytes(&data, &p);
        assert_eq!(chunks.iter().map(|c| u64::from(c.len)).sum::<u64>(), 20_000);
        assert_eq!(via_reader(&data, &p, vec![333]), chunks);
    }
}

#[test]
fn boundary_sizes() {
    for p in [
        ChunkParams::default(),
        ChunkParams::new(64, 256, 1024).unwrap(),
    ] {
        let (min, max) = (p.min_size as usize, p.max_size as usize);
        for len in [
            0,
            1,
            min - 1,
            min,
            min + 1,
            max - 1,
            max,
            max + 1,
            2 * max + 1,
        ] {
            for data in [random_bytes(len as u64, len), vec![0u8; len]] {
                let chunks = chunk_bytes(&data, &p);
                check_invariants(&data, &p, &chunks);
                assert_eq!(cuts(&chunks), reference_cuts(&data, &p), "len {len}");
                assert_eq!(
                    via_reader(&data, &p, vec![1]),
                    chunks,
                    "len {len}, 1-byte reads"
                );
                assert_eq!(chunks.is_empty(), len == 0);
                if len <= min {
                    assert!(chunks.len() <= 1);
                }
            }
        }
    }
}

#[test]
fn zeros_cut_at_max() {
    let p = ChunkParams::default();
    let data = vec![0u8; 3 * 65536 + 10];
    let chunks = chunk_bytes(&data, &p);
    assert_eq!(
        cuts(&chunks),
        vec![(0, 65536), (65536, 65536), (131_072, 65536), (196_608, 10)]
    );
}

#[test]
fn insertion_only_disturbs_nearby_chunks() {
    let p = ChunkParams::new(256, 1024, 4096).unwrap();
    let a = random_bytes(9, 200_000);
    let mut b = a.clone();
    b.splice(100_000..100_000, *b"inserted bytes");
    let ha: std::collections::HashSet<_> = chunk_bytes(&a, &p).iter().map(|c| c.hash).collect();
    let cb = chunk_bytes(&b, &p);
    let shared = cb.iter().filter(|c| ha.contains(&c.hash)).count();
    assert!(
        shared + 3 >= cb.len(),
        "{shared} of {} chunks shared",
        cb.len()
    );
}

#[test]
fn reader_errors_are_returned() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.0.min(buf.len()).min(1000);
            buf[..n].fill(7);
            self.0 -= n;
            Ok(n)
        }
    }
    let r = chunk_reader(Failing(5000), &ChunkParams::default(), |_| {});
    assert_eq!(r.unwrap_err().to_string(), "disk on fire");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn streaming_equals_in_memory(
        seed in any::<u64>(),
        len in 0usize..40_000,
        zero_run in 0usize..10_000,
        steps in proptest::collection::vec(1usize..5000, 1..8),
        p in (64u32..=2048, 0u32..4, 0u32..4).prop_map(|(min, a, m)| {
            let avg = (min.max(256) << a).min(4_194_304);
            let max = (avg.max(1024) << m).min(16_777_216);
            ChunkParams::new(min, avg, max).unwrap()
        }),
    ) {
        let mut data = random_bytes(seed, len);
        let at = len / 2;
        data.splice(at..at, std::iter::repeat_n(0u8, zero_run));
        let chunks = chunk_bytes(&data, &p);
        check_invariants(&data, &p, &chunks);
        prop_assert_eq!(cuts(&chunks), reference_cuts(&data, &p));
        prop_assert_eq!(via_reader(&data, &p, steps), chunks);
    }
}

#[test]
fn odd_min_size_allows_one_byte_less() {
    // fastcdc 2020 rolls two bytes per step starting at min_size / 2 * 2, so
    // an odd min_size admits chunks one byte shorter (documented).
    let p = ChunkParams::new(65, 256, 1024).unwrap();
    let data = random_bytes(1, 400_000);
    let chunks = chunk_bytes(&data, &p);
    check_invariants(&data, &p, &chunks);
    let inner = &chunks[..chunks.len() - 1];
    assert!(inner.iter().any(|c| c.len == 64));
    assert!(inner.iter().all(|c| c.len >= 64));
}
