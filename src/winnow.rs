//! Winnowing (temporary minimal version; replaced by the algo branch).
/// Robust winnowing.
pub fn winnow(hashes: &[u64], w: usize, out: &mut Vec<(u64, u32)>) {
    out.extend(winnow_naive(hashes, w));
}
/// Oracle.
pub fn winnow_naive(hashes: &[u64], w: usize) -> Vec<(u64, u32)> {
    let mut out: Vec<(u64, u32)> = Vec::new();
    if hashes.is_empty() {
        return out;
    }
    let nw = if hashes.len() < w {
        1
    } else {
        hashes.len() - w + 1
    };
    let mut prev: Option<usize> = None;
    for s in 0..nw {
        let win = &hashes[s..(s + w).min(hashes.len())];
        let m = *win.iter().min().unwrap();
        let sel = match prev {
            Some(p) if p >= s && hashes[p] == m => p,
            _ => s + win.iter().rposition(|&h| h == m).unwrap(),
        };
        if prev != Some(sel) {
            out.push((hashes[sel], sel as u32));
            prev = Some(sel);
        }
    }
    out
}
/// Fingerprints.
pub fn fingerprints(norm: &[u8], k: usize, w: usize, seed: u64, out: &mut Vec<(u64, u32)>) {
    let mut h = Vec::new();
    crate::fingerprint::kgram_hashes(norm, k, seed, &mut h);
    winnow(&h, w, out);
}
