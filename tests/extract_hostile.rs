//! Hostile inputs, built here: each must end as a skip with a reason or as
//! partial text, never a panic, a hang or unbounded memory.

mod common;

use common::zip_of;

use leakprint::extract::{extract, ExtractLimits, Format};
use proptest::prelude::*;

use common::{extract_fixture as fixture, reasons};

#[test]
fn truncated_mime_keeps_what_is_there() {
    let mail = "From: a@example.com\nTo: b@example.com\nSubject: cut\nContent-Type: multipart/mixed; boundary=Z\n\n--Z\nContent-Type: text/plain\n\nThe first part survives.\n--Z\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=a.pdf\n\nJVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSL0Zp";
    let x = extract(mail.as_bytes(), "m.eml", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Mail));
    let body = &x.parts[0];
    assert!(body.text.contains("The first part survives."), "{x:#?}");
    // The cut PDF is decoded as far as it goes, read as a PDF, and refused
    // with the PDF reader's reason; its base64 is not indexed as text.
    let r = reasons(&x);
    assert!(r.contains("attachment:a.pdf: PDF not readable"), "{r}");
    assert!(x.parts.iter().all(|p| !p.text.contains("JVBER")), "{x:#?}");
}

#[test]
fn bad_base64_is_reported() {
    let mail = "From: a@example.com\nTo: b@example.com\nSubject: bad\nContent-Type: multipart/mixed; boundary=Z\n\n--Z\nContent-Type: text/plain\n\nok body\n--Z\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=x.bin\n\n!!!! this is *not* base64 ####\n--Z--\n";
    let x = extract(mail.as_bytes(), "m.eml", &ExtractLimits::default());
    assert!(x.parts[0].text.contains("ok body"));
    let r = reasons(&x);
    assert!(
        r.contains("attachment:x.bin") && r.contains("not decodable"),
        "{x:#?}"
    );
}

#[test]
fn thousands_of_nested_multiparts() {
    let depth = 5000;
    let mut mail = String::from("From: a@example.com\nTo: b@example.com\nSubject: deep\n");
    for i in 0..depth {
        mail.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n"
        ));
    }
    mail.push_str("Content-Type: text/plain\n\nat the bottom\n");
    for i in (0..depth).rev() {
        mail.push_str(&format!("--b{i}--\n"));
    }
    let x = extract(mail.as_bytes(), "deep.eml", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Mail));
    assert!(x.parts[0].text.contains("Subject: deep"));
}

#[test]
fn thousands_of_nested_messages_stop_at_max_depth() {
    let depth = 3000;
    let mut mail = String::new();
    for i in 0..depth {
        mail.push_str(&format!("From: a{i}@example.com\nTo: b@example.com\nSubject: level {i}\nContent-Type: message/rfc822\n\n"));
    }
    mail.push_str("From: z@example.com\nTo: b@example.com\nSubject: bottom\n\nbottom text\n");
    let limits = ExtractLimits::default();
    let x = extract(mail.as_bytes(), "deep.eml", &limits);
    assert!(x.parts.len() <= limits.max_depth + 2, "{}", x.parts.len());
}

#[test]
fn zip_bomb_is_refused() {
    let zeros = vec![0u8; 8 << 20];
    let bomb = zip_of(&[("zeros.txt", &zeros), ("ok.txt", b"small and fine")]);
    assert!(bomb.len() < 100_000);
    let x = extract(&bomb, "bomb.zip", &ExtractLimits::default());
    let r = reasons(&x);
    assert!(r.contains("zeros.txt") && r.contains("max_ratio"), "{r}");
    assert!(x
        .parts
        .iter()
        .any(|p| p.name == "ok.txt" && p.text == "small and fine"));
    assert!(x.parts.iter().all(|p| p.name != "zeros.txt"));
}

#[test]
fn zip_lying_about_its_size_is_cut() {
    // Declared sizes are patched to look small; inflation must stop anyway.
    let zeros = vec![b'a'; 4 << 20];
    let mut bomb = zip_of(&[("liar.txt", &zeros)]);
    // Uncompressed size: local header offset 22, central header offset 24.
    bomb[22..26].copy_from_slice(&100u32.to_le_bytes());
    if let Some(cd) = bomb.windows(4).position(|w| w == b"PK\x01\x02") {
        bomb[cd + 24..cd + 28].copy_from_slice(&100u32.to_le_bytes());
    }
    let x = extract(&bomb, "liar.zip", &ExtractLimits::default());
    assert!(
        x.parts.iter().all(|p| p.text.len() < 2 << 20),
        "{:?}",
        reasons(&x)
    );
    assert!(!x.skipped.is_empty());
}

#[test]
fn max_expanded_is_a_total() {
    let limits = ExtractLimits {
        max_expanded: 100_000,
        ..ExtractLimits::default()
    };
    let block = vec![b'x'; 60_000];
    let z = zip_of(&[("a.txt", &block), ("b.txt", &block)]);
    let x = extract(&z, "z.zip", &limits);
    assert_eq!(x.parts.len(), 1);
    assert!(reasons(&x).contains("max_expanded"), "{}", reasons(&x));
}

#[test]
fn dotdot_names_are_only_names() {
    let z = zip_of(&[
        ("../../etc/evil.txt", b"escape attempt"),
        ("a/#b.txt", b"hash"),
    ]);
    let x = extract(&z, "z.zip", &ExtractLimits::default());
    let names: Vec<&str> = x.parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["../../etc/evil.txt", "a/%23b.txt"]);
}

#[test]
fn encrypted_zip_entry_is_skipped() {
    let mut z = zip_of(&[
        ("secret.txt", b"the secret plan"),
        ("open.txt", b"open text"),
    ]);
    // Set the "encrypted" bit (general purpose flag bit 0) on the first entry,
    // in its local header and its central directory record.
    z[6] |= 1;
    if let Some(cd) = z.windows(4).position(|w| w == b"PK\x01\x02") {
        z[cd + 8] |= 1;
    }
    let x = extract(&z, "z.zip", &ExtractLimits::default());
    let r = reasons(&x);
    assert!(r.contains("secret.txt: encrypted"), "{r}");
    assert!(x.parts.iter().all(|p| !p.text.contains("secret plan")));
    assert!(x.parts.iter().any(|p| p.name == "open.txt"));
}

#[test]
fn pdf_with_broken_xref() {
    let pdf = fixture("office/declaration.pdf");
    // Point startxref into nowhere.
    let s = pdf
        .windows(9)
        .rposition(|w| w == b"startxref")
        .expect("startxref");
    let mut broken = pdf[..s].to_vec();
    broken.extend_from_slice(b"startxref\n999999999\n%%EOF\n");
    let x = extract(&broken, "b.pdf", &ExtractLimits::default());
    assert_eq!(x.format, Some(Format::Pdf));
    let text: String = x.parts.iter().map(|p| p.text.as_str()).collect();
    assert!(
        text.contains("self-evident") || !x.skipped.is_empty(),
        "{x:#?}"
    );
    // Cut in half: partial text or a reason.
    let x = extract(&pdf[..pdf.len() / 2], "half.pdf", &ExtractLimits::default());
    assert!(!x.parts.is_empty() || !x.skipped.is_empty(), "{x:#?}");
}

#[test]
fn encrypted_pdfs() {
    // Made by LibreOffice with an open password: skipped with the reason.
    let x = extract(
        &fixture("office/declaration-password.pdf"),
        "p.pdf",
        &ExtractLimits::default(),
    );
    assert_eq!(x.format, Some(Format::Pdf));
    assert!(x.parts.is_empty());
    assert!(reasons(&x).contains("password"), "{x:#?}");
    // Only a permissions password: readable with the empty user password.
    let x = extract(
        &fixture("office/declaration-restricted.pdf"),
        "r.pdf",
        &ExtractLimits::default(),
    );
    assert!(x.parts[0].text.contains("self-evident"), "{x:#?}");
}

#[test]
fn pdf_with_mangled_trailer() {
    let pdf = fixture("office/declaration.pdf");
    let s = String::from_utf8_lossy(&pdf).replace("trailer", "trailxr");
    let x = extract(s.as_bytes(), "e.pdf", &ExtractLimits::default());
    assert!(
        !x.skipped.is_empty() || x.parts.iter().any(|p| p.text.contains("self-evident")),
        "{x:#?}"
    );
}

#[test]
fn part_limit_is_enforced() {
    let limits = ExtractLimits {
        max_parts: 3,
        ..ExtractLimits::default()
    };
    let entries: Vec<(String, Vec<u8>)> = (0..10)
        .map(|i| (format!("{i}.txt"), b"t".to_vec()))
        .collect();
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let x = extract(&zip_of(&refs), "z.zip", &limits);
    assert_eq!(x.parts.len(), 3);
    assert!(reasons(&x).contains("max_parts"));
}

#[test]
fn depth_limit_on_nested_zips() {
    let mut blob = b"innermost".to_vec();
    for i in 0..12 {
        blob = zip_of(&[(&format!("l{i}.zip"), &blob)]);
    }
    let x = extract(&blob, "n.zip", &ExtractLimits::default());
    assert!(reasons(&x).contains("max_depth"), "{x:#?}");
    assert!(x.parts.iter().all(|p| p.text != "innermost"));
}

#[test]
fn text_is_cut_at_max_part_text() {
    let limits = ExtractLimits {
        max_part_text: 10,
        ..ExtractLimits::default()
    };
    let x = extract("ééééééééé".as_bytes(), "t.txt", &limits);
    assert_eq!(x.parts[0].text, "ééééé");
    assert!(reasons(&x).contains("max_part_text"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Random bytes with a container's magic never panic.
    #[test]
    fn random_containers_never_panic(
        magic in prop::sample::select(vec![&b"PK\x03\x04"[..], b"%PDF-1.4\n", b"\x1f\x8b\x08\0", b"From a@b Mon\nFrom: x\n\n", b"From: a\nTo: b\nContent-Type: multipart/mixed; boundary=q\n\n--q\n", b"<html>", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"]),
        tail in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&tail);
        let limits = ExtractLimits::default();
        let x = extract(&bytes, "f", &limits);
        check_accounted(&x, &limits, bytes.len())?;
    }

    /// Truncating a real Office/PDF/mail file anywhere never panics, and the
    /// result accounts for something (a part, a skip or the format).
    #[test]
    fn truncated_fixtures_never_panic(which in 0usize..6, frac in 0.0f64..1.0) {
        let files = ["office/declaration.docx", "office/budget.xlsx", "office/slides.pptx", "office/declaration.odt", "office/declaration.pdf", "mail/enmime-html-only-inline.eml"];
        let bytes = fixture(files[which]);
        let cut = (bytes.len() as f64 * frac) as usize;
        let limits = ExtractLimits::default();
        let x = extract(&bytes[..cut], files[which], &limits);
        check_accounted(&x, &limits, cut)?;
    }
}

/// What every extraction of hostile bytes must satisfy: a non-empty input
/// ends in at least one part, one skip, or the binary format (its chunks are
/// indexed), every skip says why, no part text passes the limit, and part
/// names are unique (the index keys parts by name).
fn check_accounted(
    x: &leakprint::extract::Extracted,
    limits: &ExtractLimits,
    input_len: usize,
) -> Result<(), TestCaseError> {
    if input_len > 0 {
        let binary = x.format == Some(Format::Binary);
        prop_assert!(
            !x.parts.is_empty() || !x.skipped.is_empty() || binary,
            "nothing accounted: {x:?}"
        );
    }
    for s in &x.skipped {
        prop_assert!(!s.reason.trim().is_empty(), "skip without a reason: {s:?}");
    }
    for p in &x.parts {
        prop_assert!(
            p.text.len() <= limits.max_part_text,
            "{}: {} bytes",
            p.name,
            p.text.len()
        );
    }
    let mut names: Vec<&str> = x.parts.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    let n = names.len();
    names.dedup();
    prop_assert_eq!(names.len(), n, "duplicate part names");
    Ok(())
}
