//! Rolling hash (temporary minimal version; replaced by the algo branch).
/// Default seed.
pub const DEFAULT_SEED: u64 = 0x6c65_616b_7072_696e;
/// Hash of one k-gram.
pub fn kgram_hash(kgram: &[u8], seed: u64) -> u64 {
    let mut h = seed;
    for &b in kgram {
        h = h.wrapping_mul(0x100000001b3).wrapping_add(b as u64 + 1);
    }
    remix(h)
}
/// All k-gram hashes.
pub fn kgram_hashes(norm: &[u8], k: usize, seed: u64, out: &mut Vec<u64>) {
    out.clear();
    if norm.len() >= k {
        for i in 0..=norm.len() - k {
            out.push(kgram_hash(&norm[i..i + k], seed));
        }
    }
}
/// splitmix64 finalizer.
pub fn remix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}
