//! A set of remixed fingerprint keys that answers "no" with one read: the
//! sorted keys behind a bitmap of their top bits.
//!
//! The matcher asks whether a key is common for every k-gram of a query
//! that has hits (the boilerplate cover) and for every key it looks up.
//! Almost every answer is "no". A binary search over the 44,600 common
//! keys of the 1 GB scale index is 16 dependent reads, the last ones cache
//! misses: 6-8% of the time of unrelated posts. The bitmap holds a bit per
//! value of the keys' top `b` bits, with `2^b` at least 16 bits per key
//! (at most 2 MiB), so about one key in 16 or fewer that is not in the set
//! finds its bit set and goes on to an open-addressed table of the keys
//! (slot by top bits, linear probing, at most half full): one or two reads
//! where the binary search it replaced made 16 dependent ones (2.6% of the
//! time of unrelated posts, perf at format 5). Keys are remixed
//! fingerprints, uniform in their top bits.

/// Sorted keys, the bitmap of their top bits and their hash table.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<u64>,
    bits: Vec<u64>,
    /// Right shift that leaves a key's top bits (64 when `bits` is empty).
    shift: u32,
    /// The keys other than 0 at slot `key >> table_shift` or the first
    /// free slot after it (wrapping); 0 marks a free slot.
    table: Vec<u64>,
    table_shift: u32,
    /// Whether 0, which cannot be stored in the table, is in the set.
    has_zero: bool,
}

/// Bits of the bitmap per key.
const BITS_PER_KEY: usize = 16;
/// Largest bitmap: 2^24 bits, 2 MiB.
const MAX_BITS_LOG2: u32 = 24;

impl KeySet {
    /// The set of `keys` (sorted and deduplicated here).
    pub fn new(mut keys: Vec<u64>) -> KeySet {
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            return KeySet {
                keys,
                shift: 64,
                ..KeySet::default()
            };
        }
        let want = (keys.len() * BITS_PER_KEY).next_power_of_two().max(64);
        let log2 = want.trailing_zeros().min(MAX_BITS_LOG2);
        let shift = 64 - log2;
        let mut bits = vec![0u64; (1usize << log2) / 64];
        for &k in &keys {
            let b = (k >> shift) as usize;
            bits[b / 64] |= 1 << (b % 64);
        }
        let slots = (2 * keys.len()).next_power_of_two().max(2);
        let table_shift = 64 - slots.trailing_zeros();
        let mut table = vec![0u64; slots];
        for &k in keys.iter().filter(|&&k| k != 0) {
            let mut i = (k >> table_shift) as usize;
            while table[i] != 0 {
                i = (i + 1) & (slots - 1);
            }
            table[i] = k;
        }
        let has_zero = keys.first() == Some(&0);
        KeySet {
            keys,
            bits,
            shift,
            table,
            table_shift,
            has_zero,
        }
    }

    /// Whether `key` is in the set.
    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        if self.bits.is_empty() {
            return false;
        }
        let b = (key >> self.shift) as usize;
        if self.bits[b / 64] & (1 << (b % 64)) == 0 {
            return false;
        }
        if key == 0 {
            return self.has_zero;
        }
        // At most half the slots are taken: the probe meets a free one.
        let mask = self.table.len() - 1;
        let mut i = (key >> self.table_shift) as usize;
        loop {
            match self.table[i] {
                v if v == key => return true,
                0 => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, sorted.
    pub fn keys(&self) -> &[u64] {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_empty_set_holds_nothing() {
        let s = KeySet::new(Vec::new());
        assert!(!s.contains(0));
        assert!(!s.contains(u64::MAX));
        assert!(s.is_empty());
    }

    #[test]
    fn the_bitmap_is_sized_by_the_keys_and_capped() {
        // 16 bits a key, a power of two, at least one word.
        assert_eq!(KeySet::new(vec![1]).bits.len(), 1);
        assert_eq!(KeySet::new((0..100).collect()).bits.len(), 2048 / 64);
        let many: Vec<u64> = (0..2_000_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let s = KeySet::new(many);
        assert_eq!(s.bits.len(), (1 << MAX_BITS_LOG2) / 64);
        assert!(s.contains(0x9e37_79b9_7f4a_7c15));
    }

    #[test]
    fn zero_and_keys_that_share_a_slot_are_found() {
        // Keys with equal top bits take neighbouring slots; 0 is kept
        // apart from the free-slot mark.
        let keys = vec![0, 5, 6, 7, u64::MAX, u64::MAX - 1];
        let s = KeySet::new(keys.clone());
        for k in keys {
            assert!(s.contains(k), "{k}");
        }
        for k in [1, 4, 8, u64::MAX - 2] {
            assert!(!s.contains(k), "{k}");
        }
        assert!(!KeySet::new(vec![3]).contains(0));
    }

    proptest! {
        /// Against a binary search of the sorted keys (the naive oracle),
        /// with queries that share the keys' top bits but not the key.
        #[test]
        fn contains_is_membership(
            keys in proptest::collection::vec(any::<u64>(), 0..300),
            others in proptest::collection::vec(any::<u64>(), 0..300),
            low in any::<u64>(),
        ) {
            let s = KeySet::new(keys.clone());
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(s.keys(), &sorted[..]);
            let near = keys.iter().map(|k| (k & !0xffff) | (low & 0xffff));
            for q in keys.iter().copied().chain(others).chain(near).chain([0]) {
                prop_assert_eq!(s.contains(q), sorted.binary_search(&q).is_ok());
            }
        }
    }
}
