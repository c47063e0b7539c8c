//! Round trips of every record, and refusal of set reserved bytes and
//! out-of-domain fields.

use super::*;
use proptest::prelude::*;

fn round_trip<R: Record + PartialEq + std::fmt::Debug>(r: &R) {
    let mut b = vec![0u8; R::LEN];
    r.encode(&mut b);
    assert_eq!(R::decode(&b).as_ref(), Some(r));
    let mut v = Vec::new();
    r.push_to(&mut v);
    assert_eq!(v, b);
}

/// Flipping any byte outside the written fields (the reserved tail) makes
/// decoding fail.
fn reserved_tail_is_checked<R: Record>(r: &R, used: usize) {
    let mut b = vec![0u8; R::LEN];
    r.encode(&mut b);
    for i in used..R::LEN {
        let mut c = b.clone();
        c[i] = 1;
        assert!(
            R::decode(&c).is_none(),
            "byte {i} of a reserved tail accepted"
        );
    }
}

proptest! {
    #[test]
    fn file_records(path in any::<(u32, u32)>(), size in any::<u64>(), h in any::<[u8; 32]>(),
                    format in any::<u8>(), status in 0u8..4, raw in any::<bool>(), cont in any::<bool>(),
                    reason in any::<(u32, u32)>(), parts in any::<(u32, u32)>(), chunks in any::<u32>(),
                    tb in any::<u64>(), fps in any::<u64>()) {
        let r = FileRecord {
            path: StrRef { off: path.0, len: path.1 },
            size, blake3: h, format,
            status: FileStatus::from_u8(status).unwrap(),
            path_raw: raw,
            continued: cont,
            reason: StrRef { off: reason.0, len: reason.1 },
            first_part: parts.0, part_count: parts.1, chunks, text_bytes: tb, fingerprints: fps,
        };
        round_trip(&r);
        reserved_tail_is_checked(&r, 88);
    }

    #[test]
    fn part_records(name in any::<(u32, u32)>(), file in any::<u32>(), format in any::<u8>(),
                    dup in 0u8..3, of in 0u32..u32::MAX, text in any::<(u64, u64)>(),
                    norm in any::<(u32, u32)>(), cks in any::<(u32, u32)>(), fps in any::<u32>(),
                    hash in any::<[u8; 16]>()) {
        let duplicate = match dup { 0 => Duplicate::None, 1 => Duplicate::Local(of), _ => Duplicate::External };
        let r = PartRecord {
            name: StrRef { off: name.0, len: name.1 }, file, format, duplicate,
            text_offset: text.0, text_len: text.1, norm_base: norm.0, norm_len: norm.1,
            first_checkpoint: cks.0, checkpoints: cks.1, fingerprints: fps, text_hash: hash,
        };
        round_trip(&r);
        reserved_tail_is_checked(&r, 72);
        // The hash read alone is the hash encoded.
        let mut b = vec![0u8; PartRecord::LEN];
        r.encode(&mut b);
        prop_assert_eq!(PartRecord::text_hash_of(&b), Some(hash));
        prop_assert_eq!(PartRecord::text_hash_of(&b[1..]), None);
    }

    #[test]
    fn small_records(a in any::<u64>(), b in any::<u32>(), c in any::<u32>(), f in any::<u16>(),
                     h in any::<[u8; 32]>(), h16 in any::<[u8; 16]>()) {
        round_trip(&BlockRecord { offset: a, clen: b, raw: c });
        round_trip(&Checkpoint { norm: b, text: c });
        round_trip(&Posting { frag: f, pos: b, ctx: c as u16 });
        // Format 2's 6-byte postings decode with context 0.
        let mut v2 = [0u8; POSTING_V2_LEN];
        v2[..2].copy_from_slice(&f.to_le_bytes());
        v2[2..].copy_from_slice(&b.to_le_bytes());
        prop_assert_eq!(Posting::decode_in(2, &v2), Some(Posting { frag: f, pos: b, ctx: 0 }));
        prop_assert_eq!(Posting::decode_in(3, &v2), None);
        // Formats 3 and 4 keep a context byte after the position.
        let mut v3 = [0u8; POSTING_V3_LEN];
        v3[..6].copy_from_slice(&v2);
        v3[6] = c as u8;
        for version in [3, 4] {
            prop_assert_eq!(Posting::decode_in(version, &v3), Some(Posting { frag: f, pos: b, ctx: u16::from(c as u8) }));
            prop_assert_eq!(Posting::decode_in(version, &v2), None);
            prop_assert_eq!(Posting::len_in(version), POSTING_V3_LEN);
        }
        prop_assert_eq!(Posting::decode_in(5, &v3), None);
        prop_assert_eq!(Posting::len_in(5), Posting::LEN);
        let fr = Frequent { key: a, docs: b };
        round_trip(&fr);
        reserved_tail_is_checked(&fr, 12);
        round_trip(&ChunkRecord { hash: h, file: b, len: c, offset: a });
        round_trip(&PartHash { hash: h16, part: b });
    }

    #[test]
    fn meta(v in proptest::collection::vec(any::<u32>(), 16), big in any::<(u64, u64, u64)>(), codec in 1u32..3) {
        let m = Meta {
            files: v[0], parts: v[1], postings: big.0, dir_bits: v[2], block_size: v[3],
            text_bytes: big.1, norm_bytes: big.2, blocks: v[4], checkpoints: v[5], frequent: v[6],
            chunks: v[7], chunk_min: v[8], chunk_avg: v[9], chunk_max: v[10], common_min_docs: v[11],
            common_docs: v[12], codec: Codec::from_u32(codec).unwrap(), part_hashes: v[13],
        };
        let b = m.encode();
        prop_assert_eq!(Meta::decode(&b), Some(m));
        for i in 84..Meta::LEN {
            let mut c = b;
            c[i] = 1;
            prop_assert!(Meta::decode(&c).is_none());
        }
    }

    #[test]
    fn header(version in OLDEST_READ_VERSION..=FORMAT_VERSION, norm in any::<u32>(), k in any::<u32>(), w in any::<u32>(), seed in any::<u64>()) {
        let h = Header { version, norm_version: norm, k, w, seed };
        let b = h.encode();
        prop_assert_eq!(Header::decode(&b).unwrap(), h);
    }
}

#[test]
fn out_of_domain_fields_are_refused() {
    let mut b = vec![0u8; FileRecord::LEN];
    FileRecord {
        path: StrRef::default(),
        size: 0,
        blake3: [0; 32],
        format: 0,
        status: FileStatus::Indexed,
        path_raw: false,
        continued: false,
        reason: StrRef::default(),
        first_part: 0,
        part_count: 0,
        chunks: 0,
        text_bytes: 0,
        fingerprints: 0,
    }
    .encode(&mut b);
    b[49] = 9; // status
    assert!(FileRecord::decode(&b).is_none());
    b[49] = 0;
    b[50] = 2; // continued: a known flag
    assert!(FileRecord::decode(&b).is_some_and(|r| r.continued && !r.path_raw));
    b[50] = 4; // unknown flag
    assert!(FileRecord::decode(&b).is_none());

    let mut p = vec![0u8; PartRecord::LEN];
    PartRecord {
        name: StrRef::default(),
        file: 0,
        format: 0,
        duplicate: Duplicate::Local(3),
        text_offset: 0,
        text_len: 0,
        norm_base: 0,
        norm_len: 0,
        first_checkpoint: 0,
        checkpoints: 0,
        fingerprints: 0,
        text_hash: [0; 16],
    }
    .encode(&mut p);
    let mut q = p.clone();
    q[13] = 7; // unknown duplicate kind
    assert!(PartRecord::decode(&q).is_none());
    let mut q = p.clone();
    q[48..52].copy_from_slice(&u32::MAX.to_le_bytes()); // local duplicate of nothing
    assert!(PartRecord::decode(&q).is_none());

    let mut m = Meta {
        files: 0,
        parts: 0,
        postings: 0,
        dir_bits: 0,
        block_size: 0,
        text_bytes: 0,
        norm_bytes: 0,
        blocks: 0,
        checkpoints: 0,
        frequent: 0,
        chunks: 0,
        chunk_min: 0,
        chunk_avg: 0,
        chunk_max: 0,
        common_min_docs: 0,
        common_docs: 0,
        codec: Codec::Lz4,
        part_hashes: 0,
    }
    .encode();
    m[76..80].copy_from_slice(&9u32.to_le_bytes()); // unknown codec
    assert!(Meta::decode(&m).is_none());
}

#[test]
fn header_refusals() {
    let h = Header {
        version: FORMAT_VERSION,
        norm_version: 2,
        k: 16,
        w: 25,
        seed: 7,
    }
    .encode();
    let mut b = h;
    b[0] = b'X';
    assert!(matches!(Header::decode(&b), Err(IndexError::BadMagic)));
    let mut b = h;
    b[8] = 1;
    assert!(matches!(
        Header::decode(&b),
        Err(IndexError::UnsupportedVersion { found: 1, .. })
    ));
    let mut b = h;
    b[8] = (FORMAT_VERSION + 1) as u8;
    assert!(matches!(
        Header::decode(&b),
        Err(IndexError::UnsupportedVersion { found, .. }) if found == FORMAT_VERSION + 1
    ));
    let mut b = h;
    b[12..16].copy_from_slice(&ENDIAN_CHECK.to_be_bytes());
    assert!(Header::decode(&b).is_err());
    let mut b = h;
    b[28] = 1;
    assert!(Header::decode(&b).is_err());
    let mut b = h;
    b[63] = 1;
    assert!(Header::decode(&b).is_err());
    assert!(matches!(
        Header::decode(&h[..10]),
        Err(IndexError::Truncated { .. })
    ));
}

#[test]
fn fragments_and_buckets_split_the_key() {
    let key = 0xABCD_EF01_2345_6789u64;
    assert_eq!(bucket_of(key, 0), 0);
    assert_eq!(fragment(key, 0), 0xABCD);
    assert_eq!(bucket_of(key, 8), 0xAB);
    assert_eq!(fragment(key, 8), 0xCDEF);
    assert_eq!(bucket_of(key, 12), 0xABC);
    assert_eq!(fragment(key, 12), 0xDEF0);
}
