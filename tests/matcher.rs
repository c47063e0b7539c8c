//! The matcher through the library, on an in-memory index.

mod common;

use leakprint::index::{Index, IndexBuilder};
use leakprint::matcher::{MatchConfig, Matcher};

const EMAIL: &str = "From: amy@studio.example\nSubject: numbers\n\n\
Amy,\n\nThe quarterly numbers for the studio look weak and we should not share this with \
anyone outside the team until finance has signed off on the forecast. Please keep the \
premiere schedule confidential as well; legal is still reviewing the distribution rights.\n\n\
Thanks,\nMichael\n";

const OTHER: &str = "Minutes of the marketing review. The campaign for the summer release \
will start in May; the theater chains asked for a longer window before streaming, and \
the talent agents want approval over the trailer cut before it goes public.\n";

fn index() -> Index {
    let mut rng = common::Rng(9);
    let mut docs: Vec<(String, String)> = (0..40)
        .map(|i| (format!("dump/filler{i}.txt"), common::prose(&mut rng, 3000)))
        .collect();
    docs.push(("dump/mail/1.eml".into(), EMAIL.into()));
    docs.push(("dump/minutes.txt".into(), OTHER.into()));
    let refs: Vec<(&str, &str)> = docs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let bytes = IndexBuilder::new()
        .build()
        .unwrap()
        .segment_from_texts(&refs)
        .unwrap();
    Index::from_bytes(bytes).unwrap()
}

#[test]
fn exact_quote_in_a_post() {
    let idx = index();
    let m = Matcher::new(&idx, MatchConfig::default());
    let quote =
        "we should not share this with anyone outside the team until finance has signed off";
    let post = format!("Wow look at this 🔥 \"{quote}\" #SonyLeak https://t.co/x");
    let got = m.find(&post);
    assert_eq!(got.len(), 1, "{got:#?}");
    let g = &got[0];
    assert_eq!(g.source, "dump/mail/1.eml");
    assert_eq!(&post[g.query_span.clone()], quote);
    assert_eq!(&EMAIL[g.source_span.clone()], quote);
    assert!(g.similarity > 0.99);
}

#[test]
fn edited_ocr_and_two_sources() {
    let idx = index();
    let m = Matcher::new(&idx, MatchConfig::default());
    // OCR-like: case, | for I, merged words, a dropped letter, a hyphen break.
    let ocr = "THE QUARTERLY NUMBERS F0R THE STUDIO L00K WEAK AND WE SH0ULD NOT SHARE TH|S W|TH any0ne outs-\nide the team";
    let got = m.find(ocr);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].source, "dump/mail/1.eml");
    // Two passages from two documents, joined by "...".
    let post = "keep the premiere schedule confidential as well; legal is still reviewing ... \
                the theater chains asked for a longer window before streaming";
    let got = m.find(post);
    let sources: Vec<&str> = got.iter().map(|g| g.source.as_str()).collect();
    assert_eq!(sources, ["dump/mail/1.eml", "dump/minutes.txt"], "{got:#?}");
}

#[test]
fn unrelated_text_does_not_match() {
    let idx = index();
    let m = Matcher::new(&idx, MatchConfig::default());
    assert!(m
        .find("Had a great time at the beach today, the weather was lovely and the kids loved it")
        .is_empty());
    assert!(m.find("").is_empty());
    assert!(m.find("short").is_empty());
}
