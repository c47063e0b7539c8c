//! English text for the algorithm benches (normalize, fingerprint, chunk).
//!
//! The git release notes when they are installed (real mailing-list prose),
//! else seeded English-like text from a small vocabulary: the same bytes on
//! every run and platform, so baselines compare.
#![allow(dead_code)] // each bench uses a part

/// Common words of mail prose, for the generated fallback.
pub const WORDS: [&str; 24] = [
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "release", "film", "meeting",
    "we", "should", "not", "think", "budget", "please", "forward", "email", "with", "contract",
    "studio",
];

/// splitmix64: a fixed, dependency-free generator.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Seeded text of `target` bytes from `words`, words separated by spaces
/// and now and then a line break.
pub fn generated(target: usize, words: &[&str]) -> String {
    let mut rng = SplitMix(0x0062_656e_6368);
    let mut s = String::with_capacity(target + 16);
    while s.len() < target {
        s.push_str(words[(rng.next_u64() % words.len() as u64) as usize]);
        s.push(if rng.next_u64().is_multiple_of(12) {
            '\n'
        } else {
            ' '
        });
    }
    s
}

/// About `target` bytes of English: the git release notes if installed,
/// else [`generated`] text from [`WORDS`].
pub fn english_corpus(target: usize) -> String {
    let mut files: Vec<_> = std::fs::read_dir("/usr/share/doc/git/RelNotes")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let mut s = String::new();
    for f in files {
        if s.len() >= target {
            break;
        }
        if let Ok(t) = std::fs::read_to_string(f) {
            s.push_str(&t);
        }
    }
    if s.is_empty() {
        s = generated(target, &WORDS);
    }
    s
}
