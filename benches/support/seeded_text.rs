//! Seeded synthetic prose shared by the index and matcher benches.
//!
//! English-shaped text without any data file: a vocabulary of 4,096
//! pseudo-words built from syllables, drawn with a Zipf-like skew (a few
//! words very common, most rare), in sentences of 6-24 words with
//! capitals, commas, periods and paragraph breaks. The same seed always
//! gives the same bytes, on every platform, so runs and baselines compare.

/// xorshift64*: a fixed, dependency-free generator.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

const SYLLABLES: [&str; 32] = [
    "ka", "ro", "the", "in", "ter", "al", "man", "de", "ri", "so", "ver", "con", "ple", "ment",
    "sta", "tion", "pro", "gra", "us", "na", "li", "ty", "or", "ex", "pe", "ci", "fi", "ble",
    "and", "mo", "ne", "ous",
];

/// A text generator with its own vocabulary.
pub struct Prose {
    words: Vec<String>,
    rng: Rng,
}

impl Prose {
    /// A generator for `seed` (the vocabulary depends on the seed too).
    pub fn new(seed: u64) -> Prose {
        let mut rng = Rng(seed | 1);
        let words = (0..4096)
            .map(|_| {
                let n = 1 + rng.below(4);
                (0..n)
                    .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                    .collect()
            })
            .collect();
        Prose { words, rng }
    }

    /// A Zipf-like word: the square of a uniform variate picks low ranks often.
    fn word(&mut self) -> &str {
        let u = self.rng.below(4096);
        let rank = u * u / 4096;
        &self.words[rank]
    }

    /// Append about `bytes` bytes of prose to `out` (whole sentences).
    pub fn fill(&mut self, out: &mut String, bytes: usize) {
        let end = out.len() + bytes;
        while out.len() < end {
            let n = 6 + self.rng.below(19);
            for i in 0..n {
                let w = self.word().to_owned();
                if i == 0 {
                    let mut c = w.chars();
                    if let Some(f) = c.next() {
                        out.extend(f.to_uppercase());
                        out.push_str(c.as_str());
                    }
                } else {
                    out.push(' ');
                    out.push_str(&w);
                }
                if i + 1 < n && self.rng.below(9) == 0 {
                    out.push(',');
                }
            }
            out.push('.');
            out.push_str(if self.rng.below(6) == 0 { "\n\n" } else { " " });
        }
    }

    /// `count` documents of `min..max` bytes each, named `docs/NNNNN.txt`.
    pub fn documents(&mut self, count: usize, min: usize, max: usize) -> Vec<(String, String)> {
        (0..count)
            .map(|i| {
                let size = min + self.rng.below(max - min + 1);
                let mut text = String::with_capacity(size + 200);
                self.fill(&mut text, size);
                (format!("docs/{i:05}.txt"), text)
            })
            .collect()
    }
}
