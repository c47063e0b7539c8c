//! Test readers that split their bytes in chosen places, for the rule that
//! streaming gives the same answer however the input is split.

use std::io::{self, BufRead, Read};

/// A `BufRead` over `data` whose `fill_buf` never returns more than up to
/// the next cut.
pub(crate) struct SplitReader {
    data: Vec<u8>,
    pos: usize,
    cuts: Vec<usize>,
    next_cut: usize,
}

impl SplitReader {
    /// Chunks ending at each of `cuts` (sorted, deduplicated here).
    pub(crate) fn new(data: &[u8], mut cuts: Vec<usize>) -> Self {
        cuts.retain(|&c| c > 0 && c < data.len());
        cuts.sort_unstable();
        cuts.dedup();
        SplitReader {
            data: data.to_vec(),
            pos: 0,
            cuts,
            next_cut: 0,
        }
    }

    /// One byte at a time.
    pub(crate) fn bytewise(data: &[u8]) -> Self {
        Self::new(data, (1..data.len()).collect())
    }

    /// Cuts from a fixed-seed xorshift generator.
    pub(crate) fn random(data: &[u8], seed: u64) -> Self {
        let mut x = seed | 1;
        let mut cuts = Vec::new();
        let mut at = 0usize;
        while at < data.len() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            at += 1 + (x % 17) as usize;
            cuts.push(at);
        }
        Self::new(data, cuts)
    }
}

impl Read for SplitReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let chunk = self.fill_buf()?;
            let n = chunk.len().min(out.len());
            out[..n].copy_from_slice(&chunk[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for SplitReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.cuts.get(self.next_cut).is_some_and(|&c| c <= self.pos) {
            self.next_cut += 1;
        }
        let end = self
            .cuts
            .get(self.next_cut)
            .copied()
            .unwrap_or(self.data.len());
        Ok(&self.data[self.pos..end])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.data.len());
    }
}

/// `f` applied to `data` read whole, 1 byte at a time and in several random
/// splits; panics unless all agree, else returns the whole-read result.
pub(crate) fn same_all_ways<T: std::fmt::Debug>(data: &[u8], f: impl Fn(SplitReader) -> T) -> T {
    let whole = f(SplitReader::new(data, Vec::new()));
    let want = format!("{whole:?}");
    assert_eq!(
        format!("{:?}", f(SplitReader::bytewise(data))),
        want,
        "1-byte reads"
    );
    for seed in [1u64, 7, 42, 1234, 99_999] {
        assert_eq!(
            format!("{:?}", f(SplitReader::random(data, seed))),
            want,
            "random split, seed {seed}"
        );
    }
    whole
}
