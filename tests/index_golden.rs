//! The index format, pinned: a segment built from a fixed set of documents
//! is committed as `tests/data/index-v7/golden.lps` (format 7, LZ4 text),
//! with `golden-zstd.lps` (the same documents, zstd text blocks) and
//! `golden-dict.lps` (generated documents with enough text, 160 KiB, for
//! the segment to train an LZ4 dictionary: the trainer and the
//! dictionary compressor are pinned too).
//! `tests/data/index-v6/` holds the same files as format 6 wrote them
//! (contexts over 7 bytes a side, where format 7's reach 14),
//! `tests/data/index-v5/` as format 5 did (contexts over 4 bytes a side),
//! `tests/data/index-v4/` as format 4 did (a context byte of 4 bits a side
//! in each posting, where format 5 keeps two bytes), `tests/data/index-v3/`
//! the same documents as format 3 wrote
//! them (no dictionary section, 8 KiB text blocks), `tests/data/index-v2/`
//! as format 2 did (postings without context bytes): all still read and
//! matched.
//!
//! - Building it again must give the same bytes: any change to the format,
//!   the normalization, the rolling hash, winnowing, chunk cut points or the
//!   compression shows up here, and must come with a format or
//!   normalization version bump and a new fixture.
//! - The committed files must keep opening, verifying and matching: old
//!   format versions stay readable (kept as `index-vN/`), and so do
//!   segments an older builder wrote with other settings (text blocks of
//!   16 KiB, before they became 8 KiB, then 1 KiB; the block size is
//!   recorded in each segment).
//! - Segments of format 1 (`index-v1/golden-norm1*.lps`, which also used
//!   normalization v1, before the confusable folds) are refused with an
//!   error that says to rebuild: their fingerprints would silently miss,
//!   and format 2 keeps what format 1 dropped (the postings of common
//!   keys), so they cannot be upgraded in place.
//!
//! Regenerate after a deliberate change:
//! `LEAKPRINT_BLESS=1 cargo test --test index_golden`.

use leakprint::fingerprint::{context, context_v5, context_v6, narrow_context};
use leakprint::index::wire::{
    decode_layout, Codec, ContextWidth, Posting, Record, SectionKind, POSTING_V2_LEN,
    POSTING_V3_LEN,
};
use leakprint::{Index, IndexBuilder, MatchConfig, Matcher};

const DOCS: &[(&str, &str)] = &[
    (
        "dump/mail/1.eml",
        "Subject: numbers\n\nAmy,\n\nThe quarterly numbers for the studio look weak and we should not \
         share this with anyone outside the team until finance has signed off.\n\n> Earlier: please keep \
         the premiere schedule confidential.\n\nThanks,\nMichael\n",
    ),
    (
        "dump/docs/rights.txt",
        "Distribution rights for the overseas territories revert to the studio in 2016 unless \
         the partner renews; legal wants the renewal terms kept internal.",
    ),
    ("dump/empty.txt", ""),
    ("dump/unicode.txt", "Ｃａｆé — “ﬁnal” numbers: ÆSIR Straße 1000 | Ι ι ﬀ"),
];

fn data(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

const GOLDENS: &[(&str, Codec)] = &[
    ("index-v7/golden.lps", Codec::Lz4),
    ("index-v7/golden-zstd.lps", Codec::Zstd),
];

/// The segment with a text dictionary.
const GOLDEN_DICT: &str = "index-v7/golden-dict.lps";

/// The same documents in the older formats this build still reads.
const V6: [&str; 2] = ["index-v6/golden.lps", "index-v6/golden-zstd.lps"];
const V5: [&str; 2] = ["index-v5/golden.lps", "index-v5/golden-zstd.lps"];
const V4: [&str; 2] = ["index-v4/golden.lps", "index-v4/golden-zstd.lps"];
const V3: [&str; 2] = ["index-v3/golden.lps", "index-v3/golden-zstd.lps"];
const V2: [&str; 2] = ["index-v2/golden.lps", "index-v2/golden-zstd.lps"];
const OLDER: [[&str; 2]; 5] = [V6, V5, V4, V3, V2];

fn build(codec: Codec, docs: &[(String, String)]) -> Vec<u8> {
    IndexBuilder::new()
        .threads(1)
        .text_codec(codec)
        .build()
        .unwrap()
        .segment_from_texts(
            &docs
                .iter()
                .map(|(p, t)| (p.as_str(), t.as_str()))
                .collect::<Vec<_>>(),
        )
        .unwrap()
}

fn docs() -> Vec<(String, String)> {
    DOCS.iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
}

/// 40 generated mails (as text files) of about 4 KiB: sentences of one vocabulary from a
/// fixed xorshift sequence, each mail with the same signature, so that the
/// text has the recurring strings a dictionary is trained on.
fn dict_docs() -> Vec<(String, String)> {
    const WORDS: &[&str] = &[
        "the",
        "studio",
        "numbers",
        "quarterly",
        "finance",
        "release",
        "schedule",
        "premiere",
        "rights",
        "territories",
        "partner",
        "renewal",
        "legal",
        "confidential",
        "team",
        "budget",
        "marketing",
        "overseas",
        "distribution",
        "contract",
        "draft",
        "meeting",
        "tomorrow",
        "please",
        "review",
        "attached",
        "before",
        "signed",
        "weekend",
        "office",
        "numbers",
        "of",
        "and",
        "to",
        "with",
        "for",
        "on",
        "we",
        "should",
        "not",
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..40)
        .map(|d| {
            let mut t = format!("Subject: update {d}\n\nAll,\n\n");
            while t.len() < 4000 {
                let n = 6 + (next() % 10) as usize;
                for i in 0..n {
                    let w = WORDS[(next() % WORDS.len() as u64) as usize];
                    if i > 0 {
                        t.push(' ');
                    }
                    t.push_str(w);
                }
                t.push_str(". ");
            }
            t.push_str(
                "\n\nRegards,\nThe office of the studio chief, 10202 West Washington Boulevard\n",
            );
            (format!("dump/mail/{d:02}.txt"), t)
        })
        .collect()
}

#[test]
fn rebuilding_gives_the_committed_bytes() {
    let all = GOLDENS
        .iter()
        .map(|&(rel, codec)| (rel, codec, docs()))
        .chain([(GOLDEN_DICT, Codec::Lz4, dict_docs())]);
    for (rel, codec, docs) in all {
        let bytes = build(codec, &docs);
        if std::env::var_os("LEAKPRINT_BLESS").is_some() {
            std::fs::write(data(rel), &bytes).unwrap();
        }
        let golden =
            std::fs::read(data(rel)).expect("golden segment missing: run with LEAKPRINT_BLESS=1");
        assert_eq!(bytes.len(), golden.len(), "{rel}: segment size changed");
        let first_diff = bytes.iter().zip(&golden).position(|(a, b)| a != b);
        assert_eq!(
            first_diff, None,
            "{rel}: segment bytes changed from offset {first_diff:?}"
        );
    }
}

#[test]
fn committed_segments_open_verify_and_match() {
    for rel in GOLDENS.iter().map(|g| g.0).chain(OLDER.concat()) {
        let golden = std::fs::read(data(rel)).unwrap();
        let version = u32::from_le_bytes(golden[8..12].try_into().unwrap());
        let expect: u32 = rel[7..8].parse().unwrap();
        assert_eq!(version, expect, "{rel}");
        check_committed(golden);
    }
}

#[test]
fn the_dictionary_segment_trains_one_and_reads_through_it() {
    let bytes = std::fs::read(data(GOLDEN_DICT)).unwrap();
    let layout = decode_layout(&bytes).unwrap();
    let dict = layout.range(SectionKind::TextDictionary).unwrap();
    let text = layout.range(SectionKind::TextData).unwrap();
    let docs = dict_docs();
    let total: usize = docs.iter().map(|d| d.1.len()).sum();
    // A 32nd of the 160 KiB of text it was trained on (its first 2 MiB).
    assert_eq!(dict.len(), total / 32, "dictionary size");
    // The blocks compress to well under what 1 KiB blocks alone give.
    let plain: usize = docs
        .iter()
        .map(|d| d.1.as_str())
        .collect::<String>()
        .as_bytes()
        .chunks(1024)
        .map(|b| lz4_flex::block::compress(b).len())
        .sum();
    assert!(
        (text.len() as f64) < 0.8 * plain as f64,
        "{} bytes with the dictionary, {plain} without",
        text.len()
    );
    let index = Index::from_bytes(bytes).unwrap();
    index.verify().unwrap();
    let seg = &index.segments()[0];
    for (p, (_, t)) in docs.iter().enumerate() {
        assert_eq!(seg.part_text(p as u32).unwrap(), *t, "part {p}");
    }
    // A quote from the middle of a mail is found with its span.
    let (path, t) = &docs[17];
    let quote = &t[2000..2200];
    let m = Matcher::new(&index, MatchConfig::default());
    let found = m.try_find(quote).unwrap();
    assert!(found.iter().any(|f| f.source == *path
        && f.source_span.start <= 2000 + 8
        && f.source_span.end + 8 >= 2200));
}

/// Every posting's context, checked against the one computed from the
/// segment's own text at the posting's position: `f` over the part's
/// normalized text (an oracle that knows nothing of how the builder
/// computes it).
fn contexts_are_the_texts(bytes: &[u8], f: fn(&[u8], usize, usize) -> u16) -> usize {
    let index = Index::from_bytes(bytes.to_vec()).unwrap();
    let seg = &index.segments()[0];
    let k = index.params().k as usize;
    let posts = section(bytes, SectionKind::FpPostings);
    let mut checked = 0;
    for rec in posts.chunks_exact(Posting::LEN) {
        let p = Posting::decode(rec).unwrap();
        let (part, local) = seg.locate(p.pos).unwrap();
        let norm = leakprint::normalize::normalize(&seg.part_text(part).unwrap()).text;
        assert_eq!(
            p.ctx,
            f(norm.as_bytes(), local as usize, k),
            "posting {p:?}"
        );
        checked += 1;
    }
    checked
}

/// Segments `a` and `b` have the same sections, and every one but the
/// postings is byte for byte the same.
fn same_sections_but_postings(name: &str, a: &[u8], b: &[u8]) {
    let (la, lb) = (decode_layout(a).unwrap(), decode_layout(b).unwrap());
    let kinds = |l: &leakprint::index::wire::Layout| {
        l.sections
            .iter()
            .flatten()
            .map(|e| e.kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds(&la), kinds(&lb), "{name}");
    for kind in kinds(&la) {
        if kind != SectionKind::FpPostings {
            assert_eq!(section(a, kind), section(b, kind), "{name}: {kind:?}");
        }
    }
}

/// The postings of segments `a` and `b`, each decoded as its format says,
/// paired in order: as many, and the same key fragments and positions.
fn paired_postings(name: &str, a: &[u8], b: &[u8]) -> Vec<(Posting, Posting)> {
    let decode = |bytes: &[u8]| -> Vec<Posting> {
        let version = decode_layout(bytes).unwrap().header.version;
        section(bytes, SectionKind::FpPostings)
            .chunks_exact(Posting::len_in(version))
            .map(|r| Posting::decode_in(version, r).unwrap())
            .collect()
    };
    let (pa, pb) = (decode(a), decode(b));
    assert!(!pa.is_empty() && pa.len() == pb.len(), "{name}");
    for (x, y) in pa.iter().zip(&pb) {
        assert_eq!((x.frag, x.pos), (y.frag, y.pos), "{name}");
    }
    pa.into_iter().zip(pb).collect()
}

/// The bytes of two golden segments.
fn read_pair(new: &str, old: &str) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(data(new)).unwrap(),
        std::fs::read(data(old)).unwrap(),
    )
}

/// What each of two segments keeps of a posting's context, opened.
fn context_widths(a: Vec<u8>, b: Vec<u8>) -> (ContextWidth, ContextWidth) {
    let width = |bytes| Index::from_bytes(bytes).unwrap().segments()[0].context_width();
    (width(a), width(b))
}

/// A context function of `leakprint::fingerprint`.
type ContextFn = fn(&[u8], usize, usize) -> u16;

/// Pairs of golden segments (newer, older) of the same documents whose
/// formats differ only in how far the postings' contexts reach: every
/// other section is the same, most contexts differ, and each format's
/// contexts are those of the text (`contexts`: the newer's and the
/// older's context functions; `versions` and `widths` likewise).
fn differ_only_in_reach(
    pairs: impl Iterator<Item = (&'static str, &'static str)>,
    versions: (u32, u32),
    contexts: (ContextFn, ContextFn),
    widths: (ContextWidth, ContextWidth),
) {
    for (new, old) in pairs {
        let (ba, bb) = read_pair(new, old);
        let (la, lb) = (decode_layout(&ba).unwrap(), decode_layout(&bb).unwrap());
        assert_eq!((la.header.version, lb.header.version), versions, "{new}");
        same_sections_but_postings(new, &ba, &bb);
        let differ = paired_postings(new, &ba, &bb)
            .iter()
            .filter(|(a, b)| a.ctx != b.ctx)
            .count();
        let n = contexts_are_the_texts(&ba, contexts.0);
        assert_eq!(n, contexts_are_the_texts(&bb, contexts.1), "{new}");
        // (Near the ends of a text both reach its end, and the hashes of
        // the same bytes are the same.)
        assert!(n > 0 && differ * 2 > n, "{new}: {differ} of {n} differ");
        assert_eq!(context_widths(ba, bb), widths);
    }
}

#[test]
fn format_6_and_7_differ_only_in_the_postings_contexts() {
    // The same documents, dictionary segment included: format 7 hashes 14
    // bytes a side where format 6 hashed 7.
    let pairs = GOLDENS
        .iter()
        .map(|g| g.0)
        .chain([GOLDEN_DICT])
        .zip(V6.into_iter().chain(["index-v6/golden-dict.lps"]));
    differ_only_in_reach(
        pairs,
        (7, 6),
        (context, context_v6),
        (ContextWidth::Longer, ContextWidth::Long),
    );
}

#[test]
fn format_5_and_6_differ_only_in_the_postings_contexts() {
    // The same documents, dictionary segment included: format 6 hashes 7
    // bytes a side where format 5 hashed 4.
    let pairs = V6
        .into_iter()
        .chain(["index-v6/golden-dict.lps"])
        .zip(V5.into_iter().chain(["index-v5/golden-dict.lps"]));
    differ_only_in_reach(
        pairs,
        (6, 5),
        (context_v6, context_v5),
        (ContextWidth::Long, ContextWidth::Wide),
    );
}

#[test]
fn format_4_and_5_differ_only_in_the_postings_contexts() {
    // The same documents, dictionary segment included: format 5 widens
    // each posting's context to 8 bits a side, whose top 4 bits are
    // format 4's byte; every other section is the same.
    let pairs = V5
        .into_iter()
        .chain(["index-v5/golden-dict.lps"])
        .zip(V4.into_iter().chain(["index-v4/golden-dict.lps"]));
    for (new, old) in pairs {
        let (ba, bb) = read_pair(new, old);
        same_sections_but_postings(new, &ba, &bb);
        for (a, b) in paired_postings(new, &ba, &bb) {
            assert_eq!(u16::from(narrow_context(a.ctx)), b.ctx, "{new}");
        }
        assert_eq!(
            context_widths(ba, bb),
            (ContextWidth::Wide, ContextWidth::Narrow)
        );
    }
}

#[test]
fn format_3_and_4_hold_the_same_postings_and_text() {
    // The same documents: format 4 adds the dictionary section (empty for
    // text this short) and cuts the text into 1 KiB blocks.
    for (new, old) in V4.iter().zip(&V3) {
        let (ba, bb) = read_pair(new, old);
        for k in [SectionKind::FpDirectory, SectionKind::FpPostings] {
            assert_eq!(section(&ba, k), section(&bb, k), "{new}");
        }
        assert!(section(&ba, SectionKind::TextDictionary).is_empty());
        let a = Index::from_bytes(ba).unwrap();
        let b = Index::from_bytes(bb).unwrap();
        for p in 0..4 {
            assert_eq!(
                a.segments()[0].part_text(p).unwrap(),
                b.segments()[0].part_text(p).unwrap()
            );
        }
    }
}

#[test]
fn format_2_and_3_hold_the_same_postings() {
    // The same documents: format 3 adds a context byte to each posting
    // and changes nothing else the matcher reads.
    for (new, old) in V3.iter().zip(&V2) {
        let (ba, bb) = read_pair(new, old);
        assert_eq!(
            section(&ba, SectionKind::FpDirectory),
            section(&bb, SectionKind::FpDirectory),
            "{new}"
        );
        // Format 3's postings less their 7th byte are format 2's.
        let pa = section(&ba, SectionKind::FpPostings);
        let pb = section(&bb, SectionKind::FpPostings);
        let stripped: Vec<u8> = pa
            .chunks_exact(POSTING_V3_LEN)
            .flat_map(|r| r[..POSTING_V2_LEN].to_vec())
            .collect();
        assert!(!pb.is_empty());
        assert_eq!(stripped, pb, "{new}");
        let a = Index::from_bytes(ba).unwrap();
        let b = Index::from_bytes(bb).unwrap();
        let (sa, sb) = (&a.segments()[0], &b.segments()[0]);
        assert_eq!(sa.context_width(), ContextWidth::Narrow);
        assert_eq!(sb.context_width(), ContextWidth::None);
        assert_eq!(sa.part_text(0).unwrap(), sb.part_text(0).unwrap());
    }
}

#[test]
fn segments_of_format_1_are_refused_with_a_rebuild_message() {
    for name in [
        "index-v1/golden-norm1.lps",
        "index-v1/golden-norm1-16k-blocks.lps",
    ] {
        let bytes = std::fs::read(data(name)).unwrap();
        let err = Index::from_bytes(bytes).unwrap_err().to_string();
        assert!(
            err.contains("version 1") && err.contains("rebuild the index"),
            "{name}: {err}"
        );
    }
}

/// The bytes of section `kind` of a segment.
fn section(b: &[u8], kind: SectionKind) -> Vec<u8> {
    b[decode_layout(b).unwrap().range(kind).unwrap()].to_vec()
}

fn check_committed(golden: Vec<u8>) {
    let index = Index::from_bytes(golden).unwrap();
    index.verify().unwrap();
    let t = index.totals();
    assert_eq!((t.files, t.parts), (4, 4));
    let m = Matcher::new(&index, MatchConfig::default());
    let post =
        "\"we should not share this with anyone outside the team until finance has signed off\" 😬";
    let found = m.try_find(post).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].source, "dump/mail/1.eml");
    assert_eq!(
        &DOCS[0].1[found[0].source_span.clone()],
        "we should not share this with anyone outside the team until finance has signed off"
    );
}

#[test]
fn sections_are_checked_against_the_format_version() {
    // A format-6 segment relabelled as format 3 declares a section that
    // format 3 does not have; it is refused, naming the section.
    let mut bytes = std::fs::read(data(GOLDENS[0].0)).unwrap();
    bytes[8..12].copy_from_slice(&3u32.to_le_bytes());
    let err = Index::from_bytes(bytes).unwrap_err().to_string();
    assert!(
        err.contains("text dictionary") && err.contains("not part of format 3"),
        "{err}"
    );
    // A format-6 segment relabelled as format 4 has postings of the
    // wrong size.
    let mut bytes = std::fs::read(data(GOLDENS[0].0)).unwrap();
    bytes[8..12].copy_from_slice(&4u32.to_le_bytes());
    let err = Index::from_bytes(bytes).unwrap_err().to_string();
    assert!(err.contains("fingerprint postings"), "{err}");
    // A format-3 segment relabelled as format 4 lacks the dictionary.
    let mut bytes = std::fs::read(data(V3[0])).unwrap();
    bytes[8..12].copy_from_slice(&4u32.to_le_bytes());
    let err = Index::from_bytes(bytes).unwrap_err().to_string();
    assert!(
        err.contains("text dictionary") && err.contains("missing"),
        "{err}"
    );
}
