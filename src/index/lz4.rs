//! An LZ4 block compressor that reuses one dictionary for every block of a
//! segment.
//!
//! A segment's text is cut into small blocks (1 KiB by default) so that
//! verifying a candidate decodes little (`text::BlockCache`). On its own a
//! 1 KiB block of text compresses badly with LZ4 (0.89x of the text on the
//! 1 GB scale dump); against a 64 KiB dictionary of the segment's common
//! strings it compresses to 0.58x, better than 8 KiB blocks without one
//! (0.74x; BENCHMARKS.md "Small text blocks against a dictionary").
//!
//! `lz4_flex` compresses with a dictionary too, but hashes the whole
//! dictionary again for every block: 60 MB/s on 1 KiB blocks against a
//! 64 KiB dictionary, a sixth of its speed without one. Here the
//! dictionary's hash table is built once ([`Lz4Dict::new`]) and only read
//! while compressing; each block's own strings go to a small table of its
//! own. The output is the standard LZ4 block format, with match offsets
//! that may reach back past the block's start into the dictionary (as
//! `LZ4_compress_fast_continue` after `LZ4_loadDict` writes them), so
//! `lz4_flex::block::decompress_with_dict` and the matcher's resumable
//! decoder (`text::lz4_decode_until`) both read it; the tests hold the
//! compressor to the first.
//!
//! The output is a pure function of the block and the dictionary (it is
//! part of the index format: the golden segments pin it).

/// Bits of the dictionary's hash table (16 K entries).
const DICT_HASH_BITS: u32 = 14;
/// Most bits of a block's own hash table.
const BLOCK_HASH_BITS: u32 = 12;
/// Shortest match the format allows.
const MIN_MATCH: usize = 4;
/// The last match starts at least this many bytes before the block's end
/// (the format's rule, which fast decoders rely on).
const MF_LIMIT: usize = 12;
/// The last bytes of a block are always literals.
const LAST_LITERALS: usize = 5;
/// Longest distance a match may reach back.
const MAX_DISTANCE: usize = 65_535;
/// Longest dictionary used: LZ4 reaches back 64 KiB.
pub const MAX_DICT: usize = 64 << 10;
/// No position in a hash table slot.
const EMPTY: u32 = u32::MAX;
/// No position in the dictionary's table (whose positions fit in 16 bits:
/// the last string of 4 bytes of a 64 KiB dictionary starts at 65,532).
const DICT_EMPTY: u16 = u16::MAX;

#[inline(always)]
fn read4(b: &[u8], i: usize) -> u32 {
    match b.get(i..i + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

#[inline(always)]
fn hash(v: u32, bits: u32) -> usize {
    (v.wrapping_mul(2_654_435_761) >> (32 - bits)) as usize
}

/// A dictionary and the hash table of its 4-byte strings, built once and
/// shared (read only) by every compressing thread.
#[derive(Clone)]
pub struct Lz4Dict {
    bytes: Vec<u8>,
    /// 16-bit positions: 32 KiB, half the processor's first-level cache
    /// footprint of 32-bit ones.
    table: Vec<u16>,
}

impl std::fmt::Debug for Lz4Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lz4Dict")
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl Lz4Dict {
    /// The dictionary of the last [`MAX_DICT`] bytes of `bytes` (the
    /// decoder must be given the same bytes).
    pub fn new(bytes: &[u8]) -> Lz4Dict {
        let bytes = bytes[bytes.len().saturating_sub(MAX_DICT)..].to_vec();
        let mut table = vec![DICT_EMPTY; 1 << DICT_HASH_BITS];
        // Later positions overwrite earlier ones: the dictionary's end is
        // closest to the block, and a zstd-trained dictionary puts its most
        // useful strings last.
        if bytes.len() >= MIN_MATCH {
            for i in 0..=bytes.len() - MIN_MATCH {
                table[hash(read4(&bytes, i), DICT_HASH_BITS)] = i as u16;
            }
        }
        Lz4Dict { bytes, table }
    }

    /// An empty dictionary: plain LZ4 blocks.
    pub fn empty() -> Lz4Dict {
        Lz4Dict::new(&[])
    }

    /// The dictionary's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Appends `n` as the bytes of an LZ4 length extension (after a nibble of
/// 15).
fn push_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 255 {
        out.push(255);
        n -= 255;
    }
    out.push(n as u8);
}

/// Appends one sequence: `lits`, then a match of `len` bytes `offset`
/// back (`len == 0`: the last sequence, literals only).
fn push_sequence(out: &mut Vec<u8>, lits: &[u8], offset: usize, len: usize) {
    let l = lits.len();
    let m = len.saturating_sub(MIN_MATCH);
    let token = ((l.min(15) as u8) << 4) | if len == 0 { 0 } else { m.min(15) as u8 };
    out.push(token);
    if l >= 15 {
        push_len(out, l - 15);
    }
    out.extend_from_slice(lits);
    if len == 0 {
        return;
    }
    out.extend_from_slice(&(offset as u16).to_le_bytes());
    if m >= 15 {
        push_len(out, m - 15);
    }
}

/// Bytes equal from `a[i..]` and `b[j..]`, up to `max`.
#[inline(always)]
fn common(a: &[u8], i: usize, b: &[u8], j: usize, max: usize) -> usize {
    let mut n = 0;
    while n + 8 <= max {
        let x = u64::from_le_bytes(a[i + n..i + n + 8].try_into().unwrap_or([0; 8]));
        let y = u64::from_le_bytes(b[j + n..j + n + 8].try_into().unwrap_or([0; 8]));
        let d = x ^ y;
        if d != 0 {
            return n + (d.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while n < max && a[i + n] == b[j + n] {
        n += 1;
    }
    n
}

/// Compresses `input` as one LZ4 block against `dict`, appending to `out`.
///
/// Greedy parsing: at each position the longer of the block's own last
/// string with the same hash and the dictionary's, extended backwards over
/// pending literals; after a run of misses the search skips ahead faster,
/// as LZ4's fast mode does (incompressible text costs little).
pub fn compress_into(input: &[u8], dict: &Lz4Dict, out: &mut Vec<u8>) {
    compress_with(input, dict, out, &mut Vec::new());
}

/// [`compress_into`] with the memory of its hash table kept in `table`
/// from one call to the next (its contents do not matter): one allocation
/// for many blocks instead of one per block. The output is the same.
pub fn compress_with(input: &[u8], dict: &Lz4Dict, out: &mut Vec<u8>, table: &mut Vec<u32>) {
    let n = input.len();
    let d = &dict.bytes;
    let dl = d.len();
    let mut anchor = 0;
    if n > MF_LIMIT {
        // A table sized to the block (2,048 entries for 1 KiB): a block
        // has no more strings to hold, and the table is filled anew for
        // every block.
        let bits = (usize::BITS - n.leading_zeros()).clamp(8, BLOCK_HASH_BITS);
        table.clear();
        table.resize(1 << bits, EMPTY);
        // Last position a match may start at, and where matches end.
        let start_limit = n - MF_LIMIT;
        let end_limit = n - LAST_LITERALS;
        let mut i = 0;
        let mut misses = 0usize;
        while i <= start_limit {
            let v = read4(input, i);
            let slot = hash(v, bits);
            let own = table[slot];
            table[slot] = i as u32;
            // The block's own candidate.
            let mut best: Option<Found> = None;
            if own != EMPTY {
                let c = own as usize;
                if i - c <= MAX_DISTANCE && read4(input, c) == v {
                    let len = MIN_MATCH
                        + common(
                            input,
                            i + MIN_MATCH,
                            input,
                            c + MIN_MATCH,
                            end_limit - i - MIN_MATCH,
                        );
                    best = Some(Found {
                        at: Source::Block(c),
                        len,
                        offset: i - c,
                    });
                }
            }
            // The dictionary's (offsets count back through the block's
            // start into the dictionary's end).
            if dl >= MIN_MATCH {
                let dc = dict.table[hash(v, DICT_HASH_BITS)];
                if dc != DICT_EMPTY {
                    let c = dc as usize;
                    let offset = i + dl - c;
                    if offset <= MAX_DISTANCE && read4(d, c) == v {
                        let max = (end_limit - i - MIN_MATCH).min(dl - c - MIN_MATCH);
                        let len = MIN_MATCH + common(input, i + MIN_MATCH, d, c + MIN_MATCH, max);
                        if best.is_none_or(|b| len > b.len) {
                            best = Some(Found {
                                at: Source::Dict(c),
                                len,
                                offset,
                            });
                        }
                    }
                }
            }
            let Some(Found {
                at,
                mut len,
                offset,
            }) = best
            else {
                misses += 1;
                i += 1 + (misses >> 6);
                continue;
            };
            misses = 0;
            // Backwards over the pending literals.
            let mut s = i;
            let (from, mut cc) = match at {
                Source::Block(c) => (input, c),
                Source::Dict(c) => (&d[..], c),
            };
            while s > anchor && cc > 0 && input[s - 1] == from[cc - 1] {
                s -= 1;
                cc -= 1;
                len += 1;
            }
            push_sequence(out, &input[anchor..s], offset, len);
            i = s + len;
            anchor = i;
            // The string just before the next search position, so that a
            // repeat of it is found.
            if i >= 2 && i - 2 + MIN_MATCH <= n && i <= start_limit {
                table[hash(read4(input, i - 2), bits)] = (i - 2) as u32;
            }
        }
    }
    push_sequence(out, &input[anchor..], 0, 0);
}

/// Where a match found by [`compress_into`] starts: in the block, or in
/// the dictionary (whose end the block's start follows).
#[derive(Clone, Copy)]
enum Source {
    Block(usize),
    Dict(usize),
}

/// A match: where it starts, its length, and its offset back from the
/// position being encoded.
#[derive(Clone, Copy)]
struct Found {
    at: Source,
    len: usize,
    offset: usize,
}

/// [`compress_into`] into a new buffer.
pub fn compress(input: &[u8], dict: &Lz4Dict) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 2 + 16);
    compress_into(input, dict, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use super::super::text::tests::block_text as text;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// `lz4_flex` (the oracle decoder) reads every block back, with
        /// the dictionary and without one.
        #[test]
        fn lz4_flex_decodes_every_block(input in text(), dict in text(), with_dict in any::<bool>()) {
            let dict = if with_dict { Lz4Dict::new(&dict) } else { Lz4Dict::empty() };
            let comp = compress(&input, &dict);
            let back = lz4_flex::block::decompress_with_dict(&comp, input.len(), dict.bytes())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, input);
        }

        /// A table kept from earlier blocks (of other sizes, other
        /// contents) changes nothing: the bytes of a fresh compression,
        /// appended after what `out` held.
        #[test]
        fn a_kept_table_gives_the_bytes_of_a_fresh_one(
            blocks in proptest::collection::vec(text(), 1..5),
            dict in text(),
            prefix in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let dict = Lz4Dict::new(&dict);
            let mut table = vec![7u32; 3];
            for b in &blocks {
                let mut out = prefix.clone();
                compress_with(b, &dict, &mut out, &mut table);
                prop_assert_eq!(&out[..prefix.len()], &prefix[..]);
                prop_assert_eq!(&out[prefix.len()..], &compress(b, &dict)[..]);
            }
        }

        /// A block drawn from the dictionary's own text compresses to a
        /// few sequences.
        #[test]
        fn text_in_the_dictionary_costs_little(dict in proptest::collection::vec(any::<u8>(), 2000..4000), at in 0usize..1000, len in 200usize..900) {
            let input = dict[at..at + len].to_vec();
            let with = compress(&input, &Lz4Dict::new(&dict));
            let without = compress(&input, &Lz4Dict::empty());
            prop_assert!(with.len() < 32, "{} bytes", with.len());
            prop_assert!(without.len() > input.len());
        }
    }

    #[test]
    fn the_format_rules_hold_at_the_block_end() {
        // Up to the limits: the last 5 bytes are literals, and no match
        // starts in the last 12.
        for n in 0..64 {
            let input = vec![b'a'; n];
            let comp = compress(&input, &Lz4Dict::new(b"aaaaaaaaaaaaaaaa"));
            let back =
                lz4_flex::block::decompress_with_dict(&comp, n, b"aaaaaaaaaaaaaaaa").unwrap();
            assert_eq!(back, input);
            // The last sequence's literals: at least min(n, 5).
            let tail = comp.len() - n.min(LAST_LITERALS);
            assert_eq!(&comp[tail..], &input[n - n.min(LAST_LITERALS)..]);
        }
    }

    #[test]
    fn a_long_dictionary_keeps_its_last_64_kib() {
        let mut long = vec![b'x'; MAX_DICT];
        long.extend_from_slice(b"the tail of the dictionary");
        let d = Lz4Dict::new(&long);
        assert_eq!(d.bytes().len(), MAX_DICT);
        assert!(d.bytes().ends_with(b"the tail of the dictionary"));
    }
}
