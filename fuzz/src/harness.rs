//! Fuzz entry points shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`)
//! and the regression replay test (`tests/fuzz_regressions.rs`, which
//! includes this file with `#[path]`). Each function takes arbitrary bytes,
//! drives one reader of leakprint through its public API and panics only
//! when leakprint itself panics or breaks a documented invariant.
//!
//! Depends on `leakprint` and `std` only, so that both crates can use it.
#![allow(dead_code)]

use std::io::Cursor;
use std::sync::OnceLock;

use leakprint::extract::{self, ExtractLimits};
use leakprint::index::wire::{decode_layout, FOOTER_LEN, TABLE_ENTRY_LEN};
use leakprint::index::{Index, IndexBuilder};
use leakprint::input::{self, InputLimits, QueryId};
use leakprint::matcher::{MatchConfig, Matcher};
use leakprint::normalize;

/// Limits small enough that one input runs in milliseconds.
pub fn extract_limits() -> ExtractLimits {
    ExtractLimits {
        max_part_text: 1 << 20,
        max_parts: 200,
        max_depth: 4,
        max_expanded: 16 << 20,
        max_ratio: 200,
        // The fuzz targets exercise the in-process extractors themselves.
        isolation: None,
        pdf_ocr: None,
    }
}

/// Input limits small enough that one input runs in milliseconds.
pub fn input_limits() -> InputLimits {
    InputLimits::new(64 << 10, 1 << 20, 20_000).expect("valid limits")
}

/// Extract `data` as if it were a file called `hint`.
pub fn extract(data: &[u8], hint: &str) {
    let out = extract::extract(data, hint, &extract_limits());
    let lim = extract_limits();
    assert!(
        out.parts.len() <= lim.max_parts,
        "{} parts > limit",
        out.parts.len()
    );
    for p in &out.parts {
        assert!(
            p.text.len() <= lim.max_part_text,
            "part text {} > limit",
            p.text.len()
        );
    }
}

/// Index `data` as one file over the text limit (1 KiB), so that the
/// streaming readers take it: archives member by member (ZIP, tar,
/// tar.gz), gzip, mbox and text in pieces. The file is named after its
/// first bytes (`bundle.zip`, `bundle.tar.gz`, `bundle.tar`). A hostile or
/// corrupt file must give a reason in the manifest, never an error of the
/// run, and the index written must pass `verify`.
pub fn extract_streamed(data: &[u8]) {
    use leakprint::index::builder::{Mode, NoProgress};
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUN: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "leakprint-fuzz-streamed-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let name = match data {
        [b'P', b'K', ..] => "bundle.zip",
        [0x1f, 0x8b, ..] => "bundle.tar.gz",
        _ => "bundle.tar",
    };
    let file = dir.join(name);
    std::fs::write(&file, data).expect("temp file");
    let out = dir.join("idx");
    let result = IndexBuilder::new()
        .max_file_size(1 << 10)
        .memory(16 << 20)
        .threads(1)
        .extract_limits(extract_limits())
        .build()
        .expect("valid configuration")
        .index_paths(&[file], &out, Mode::Create, &NoProgress);
    let verified = result
        .as_ref()
        .ok()
        .map(|_| Index::open(&out).and_then(|i| i.verify()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = result {
        panic!("indexing a hostile streamed file failed the run: {e}");
    }
    if let Some(Err(e)) = verified {
        panic!("the index of a streamed file does not verify: {e}");
    }
}

/// Read `data` as a tesseract TSV page.
pub fn input_tsv(data: &[u8]) {
    let q = input::tsv::read_tsv(Cursor::new(data), QueryId::Num(0), &input_limits());
    if let Ok(q) = q {
        check_query(&q);
    }
}

/// Read `data` as an hOCR page.
pub fn input_hocr(data: &[u8]) {
    let q = input::hocr::read_hocr(Cursor::new(data), QueryId::Num(0), &input_limits());
    if let Ok(q) = q {
        check_query(&q);
    }
}

/// Read `data` as JSON lines, to the end.
pub fn input_jsonl(data: &[u8]) {
    let r = input::JsonlReader::new(Cursor::new(data.to_vec()), &input_limits());
    for q in r.take(10_000).flatten() {
        check_query(&q);
    }
}

fn check_query(q: &input::Query) {
    if let Some(page) = &q.ocr {
        for w in &page.words {
            assert!(
                w.text_range.start <= w.text_range.end && w.text_range.end <= q.text.len(),
                "word range {:?} outside the text ({} bytes)",
                w.text_range,
                q.text.len()
            );
            assert!(q.text.is_char_boundary(w.text_range.start));
            assert!(q.text.is_char_boundary(w.text_range.end));
        }
        let n = q.text.len();
        let _ = page.boxes_for(0..n);
        let _ = page.boxes_for(n / 3..n / 2);
    }
}

/// Normalize `data` (lossily decoded) and check the offset invariants.
pub fn normalize(data: &[u8]) {
    let src = String::from_utf8_lossy(data);
    let n = normalize::normalize(&src);
    assert_eq!(
        n.offsets.len(),
        n.text.len(),
        "one offset per normalized byte"
    );
    let mut prev = 0u32;
    for &o in &n.offsets {
        assert!(o >= prev, "offsets decrease");
        assert!((o as usize) < src.len(), "offset past the source");
        assert!(
            src.is_char_boundary(o as usize),
            "offset inside a character"
        );
        prev = o;
    }
    let mut only = String::new();
    normalize::normalize_text_only(&src, &mut only);
    assert_eq!(only, n.text, "normalize_text_only disagrees with normalize");
    // Spans back to the source for a few ranges on character boundaries.
    let bounds: Vec<usize> = (0..=n.text.len())
        .filter(|&i| n.text.is_char_boundary(i))
        .collect();
    if bounds.len() >= 2 {
        let a = bounds[data.first().map_or(0, |&b| b as usize) % (bounds.len() - 1)];
        let b = *bounds.last().unwrap_or(&a);
        if a < b {
            let span = n.source_span(&src, a..b);
            assert!(span.start <= span.end && span.end <= src.len());
        }
    }
    // Normalizing with a base shifts every offset by it.
    let mut t = String::new();
    let mut offs = Vec::new();
    normalize::normalize_into(&src, 1000, &mut t, &mut offs);
    assert_eq!(t, n.text);
    assert!(offs.iter().zip(&n.offsets).all(|(a, b)| *a == b + 1000));
}

/// Open `data` as a segment; on success verify it and call every accessor.
pub fn index_reader(data: &[u8]) {
    let Ok(idx) = Index::from_bytes(data.to_vec()) else {
        return;
    };
    let _ = idx.verify();
    exercise(&idx, data);
}

/// Call every read accessor of an opened (maybe corrupt) index, bounded.
pub fn exercise(idx: &Index, salt: &[u8]) {
    let _ = idx.totals();
    for seg in idx.segments() {
        let _ = seg.section_sizes();
        for i in 0..seg.file_count().min(32) + 2 {
            let _ = seg.file(i);
        }
        for i in 0..seg.part_count().min(32) + 2 {
            let _ = seg.part(i);
            let _ = seg.part_path(i);
            let _ = seg.part_text(i);
            let _ = seg.window(i, 0..64);
            let _ = seg.window(i, 7..usize::MAX);
            let _ = seg.window(i, usize::MAX - 1..usize::MAX);
        }
        let mut key = 0x9E37_79B9_7F4A_7C15u64;
        for chunk in salt
            .chunks(8)
            .take(64)
            .chain([&[0u8; 8][..], &[0xFF; 8][..]])
        {
            for (j, b) in chunk.iter().enumerate() {
                key ^= (*b as u64) << (8 * j);
            }
            key = key.rotate_left(17).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let _ = seg.postings(key).take(10_000).count();
            let _ = seg.postings(!key).take(10_000).count();
            let _ = idx.is_common(key);
            let _ = seg.find_part_text(&h16(key));
            let _ = seg.locate(key as u32);
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&key.to_le_bytes());
            let _ = seg.find_chunk(&h);
            let _ = seg.find_file(&h);
        }
        for pos in [0u32, 1, 100, u32::MAX] {
            let _ = seg.locate(pos);
        }
    }
    // The matcher over the (maybe corrupt) index: errors, never panics.
    let m = Matcher::new(idx, MatchConfig::default());
    let _ = m.try_find(
        "The quarterly numbers for the studio look weak; do not forward this. \
         Please keep the premiere schedule confidential until legal signs off.",
    );
    let _ = m.try_find(&String::from_utf8_lossy(salt));
    let _ = m.find_file(salt);
}

fn h16(key: u64) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[..8].copy_from_slice(&key.to_le_bytes());
    h
}

/// A small valid segment of three documents (built once).
pub fn seed_segment() -> &'static [u8] {
    static SEED: OnceLock<Vec<u8>> = OnceLock::new();
    SEED.get_or_init(|| {
        let ix = IndexBuilder::new()
            .k(8)
            .window(4)
            .build()
            .expect("valid builder");
        ix.segment_from_texts(&[
            (
                "mail/a.eml",
                "The quarterly numbers for the studio look weak; do not forward this.",
            ),
            (
                "docs/b.txt",
                "Please keep the premiere schedule confidential until legal signs off. \
                 The director wants a new draft of the script by Friday, Ünïcödé included.",
            ),
            (
                "docs/c.txt",
                "The quarterly numbers for the studio look weak; do not forward this.",
            ),
        ])
        .expect("seed segment")
    })
}

/// Recompute every checksum of a segment in place (see
/// `leakprint::index::wire::fix_checksums`).
pub fn fix_checksums(b: &mut [u8]) {
    leakprint::index::wire::fix_checksums(b);
}

/// Apply edits described by `data` to the seed segment, recompute the
/// checksums, then open, verify and exercise the result.
///
/// Each edit is 12 bytes: a region selector, a 16-bit offset into it, a
/// width selector and a 64-bit little-endian value. Regions are the
/// sections (by table order), the section table and the footer.
pub fn index_forged(data: &[u8]) {
    let mut b = seed_segment().to_vec();
    let Ok(layout) = decode_layout(&b) else {
        panic!("the seed segment does not decode");
    };
    let mut regions: Vec<(usize, usize)> = layout
        .sections
        .iter()
        .flatten()
        .map(|e| (e.offset as usize, e.len as usize))
        .collect();
    let table_len = layout.footer.count as usize * TABLE_ENTRY_LEN;
    regions.push((layout.footer.table_offset as usize, table_len));
    regions.push((b.len() - FOOTER_LEN, FOOTER_LEN));
    for e in data.chunks_exact(12) {
        let (start, len) = regions[e[0] as usize % regions.len()];
        if len == 0 {
            continue;
        }
        let width = [1usize, 2, 4, 8][e[3] as usize % 4];
        let at = start + u16::from_le_bytes([e[1], e[2]]) as usize % len;
        let val = u64::from_le_bytes(e[4..12].try_into().unwrap_or([0; 8]));
        let end = (at + width).min(b.len());
        let n = end - at;
        b[at..end].copy_from_slice(&val.to_le_bytes()[..n]);
    }
    // An odd length byte left over truncates the segment by that much.
    if data.len() % 12 == 1 {
        let cut = (data[data.len() - 1] as usize).min(b.len());
        b.truncate(b.len() - cut);
    }
    fix_checksums(&mut b);
    let Ok(idx) = Index::from_bytes(b.clone()) else {
        return;
    };
    let _ = idx.verify();
    exercise(&idx, data);
}

/// For the cargo-fuzz targets: let panics raised inside third-party
/// crates (which leakprint runs under `catch_unwind`: the PDF, mail and
/// XLS parsers) unwind instead of aborting at once, as libfuzzer-sys's
/// panic hook would. A panic that leakprint does not catch still reaches
/// libfuzzer-sys's own `catch_unwind` around the target and aborts there,
/// so it is still reported; any panic in leakprint's own code aborts here.
pub fn allow_caught_dependency_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let file = info.location().map(|l| l.file()).unwrap_or("");
            if file.contains("/.cargo/registry/") || file.contains("/rustc/") {
                return;
            }
            eprintln!("{info}");
            std::process::abort();
        }));
    });
}
