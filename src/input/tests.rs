use std::path::Path;

use super::testio::{same_all_ways, SplitReader};
use super::*;

const PAGE1_TSV: &str = include_str!("../../tests/data/ocr/page1.tsv");
const PAGE1_HOCR: &str = include_str!("../../tests/data/ocr/page1.hocr");
const PAGE2_TSV: &str = include_str!("../../tests/data/ocr/page2.tsv");
const PAGE2_HOCR: &str = include_str!("../../tests/data/ocr/page2.hocr");

const PAGE1_TEXT: &str = "Dear board members, please find attached the quar-\n\
terly figures for the merger. Do not forward this invite outside\n\n\
the company.\n\n\
The second paragraph names Mr. O'Brien & partners; totals are\n\
1,250,000 EUR.";

fn limits(line: usize, text: usize, words: usize) -> InputLimits {
    InputLimits::new(line, text, words).unwrap()
}

/// `Ok((id, text))` or `Err(line)` per item, for table comparisons.
type Outcome = Result<(QueryId, String), Option<u64>>;

fn outcomes(it: impl Iterator<Item = Result<Query, InputError>>) -> Vec<Outcome> {
    it.map(|r| r.map(|q| (q.id, q.text)).map_err(|e| e.line()))
        .collect()
}

fn n(i: u64, t: &str) -> Outcome {
    Ok((QueryId::Num(i), t.to_owned()))
}

fn s(i: &str, t: &str) -> Outcome {
    Ok((QueryId::Str(i.to_owned()), t.to_owned()))
}

#[test]
fn jsonl_table() {
    let rows: Vec<(&[u8], Vec<Outcome>)> = vec![
        (b"", vec![]),
        (b"{\"id\": 5, \"text\": \"a\"}\n", vec![n(5, "a")]),
        (b"{\"id\": \"x\", \"text\": \"a\"}", vec![s("x", "a")]),
        (
            b"{\"text\": \"a\"}\n{\"text\": \"b\"}\r\n",
            vec![n(1, "a"), n(2, "b")],
        ),
        (
            b"{\"id\": null, \"text\": \"a\", \"extra\": [1]}",
            vec![n(1, "a")],
        ),
        (
            b"{\"text\": \"a\"}\nnot json\n\n{\"id\": 9, \"text\": \"c\"}\n",
            vec![n(1, "a"), Err(Some(2)), n(9, "c")],
        ),
        (
            b"{\"id\": 1}\n{\"id\": -3, \"text\": \"a\"}\n{\"text\": 7}\n",
            vec![Err(Some(1)), Err(Some(2)), Err(Some(3))],
        ),
        (
            b"{\"id\": 1.5, \"text\": \"a\"}\n{\"id\": true, \"text\": \"a\"}\n{\"id\": [1], \"text\": \"a\"}",
            vec![Err(Some(1)), Err(Some(2)), Err(Some(3))],
        ),
        (
            b"{\"id\": 18446744073709551615, \"text\": \"a\"}\n{\"id\": \"q\\\"1\\u00e9\", \"text\": \"b\"}",
            vec![n(u64::MAX, "a"), s("q\"1\u{e9}", "b")],
        ),
        (
            b"{\"text\": \"caf\\u00e9 \\\"q\\\"\"}",
            vec![n(1, "café \"q\"")],
        ),
        (
            b"{\"text\": \"\xff\"}\n{\"text\": \"ok\"}",
            vec![Err(Some(1)), n(2, "ok")],
        ),
    ];
    for (input, want) in rows {
        let got = same_all_ways(input, |r| {
            outcomes(JsonlReader::new(r, &InputLimits::default()))
        });
        assert_eq!(got, want, "{input:?}");
    }
}

#[test]
fn lines_table() {
    let rows: Vec<(&[u8], Vec<Outcome>)> = vec![
        (b"", vec![]),
        (b"a", vec![n(1, "a")]),
        (b"a\n\n  \nb\r\nc\n", vec![n(1, "a"), n(4, "b"), n(5, "c")]),
        (b"x\xffy\n", vec![n(1, "x\u{fffd}y")]),
    ];
    for (input, want) in rows {
        let got = same_all_ways(input, |r| {
            outcomes(LinesReader::new(r, &InputLimits::default()))
        });
        assert_eq!(got, want, "{input:?}");
    }
}

#[test]
fn line_limit_boundaries() {
    // Limit 4: 4 bytes pass, 5 fail (with or without a final newline), the
    // reader goes on after an overlong line, and "\r\n" does not count.
    let rows: Vec<(&str, Vec<Outcome>)> = vec![
        (
            "abcd\nabcde\nab\n",
            vec![n(1, "abcd"), Err(Some(2)), n(3, "ab")],
        ),
        ("abcde", vec![Err(Some(1))]),
        ("abcd", vec![n(1, "abcd")]),
        ("abcd\r\n", vec![n(1, "abcd")]),
        ("abcd\r", vec![n(1, "abcd")]),
        ("abcd\rx\nq", vec![Err(Some(1)), n(2, "q")]),
        ("abcde\r\nq", vec![Err(Some(1)), n(2, "q")]),
        ("abcdefghijklmnop\nz", vec![Err(Some(1)), n(2, "z")]),
    ];
    for (input, want) in rows {
        let got = same_all_ways(input.as_bytes(), |r| {
            outcomes(LinesReader::new(r, &limits(4, 100, 10)))
        });
        assert_eq!(got, want, "{input:?}");
    }
}

#[test]
fn jsonl_line_limit() {
    let line = "{\"text\": \"abcdef\"}"; // 18 bytes
    for (limit, ok) in [(17, false), (18, true), (19, true)] {
        let input = format!("{line}\n{line}\n");
        let got = outcomes(JsonlReader::new(input.as_bytes(), &limits(limit, 100, 10)));
        let want = if ok {
            vec![n(1, "abcdef"), n(2, "abcdef")]
        } else {
            vec![Err(Some(1)), Err(Some(2))]
        };
        assert_eq!(got, want, "limit {limit}");
    }
}

#[test]
fn text_whole_reader() {
    let id = QueryId::Str("a.txt".into());
    let q = same_all_ways(b"hello\nworld\n", |r| {
        read_text(r, id.clone(), &InputLimits::default()).unwrap()
    });
    assert_eq!(q.text, "hello\nworld\n");
    assert_eq!(q.id, id);
    // Windows-1252 like the indexer.
    assert_eq!(
        read_text(&b"caf\xe9"[..], id.clone(), &InputLimits::default())
            .unwrap()
            .text,
        "café"
    );
    for (len, ok) in [(9, true), (10, true), (11, false)] {
        let r = read_text(&vec![b'a'; len][..], id.clone(), &limits(10, 10, 10));
        assert_eq!(r.is_ok(), ok, "len {len}");
        if !ok {
            assert!(matches!(r, Err(InputError::TooLarge { limit: 10 })));
        }
    }
    assert!(matches!(
        read_text(
            &b"\0\0\0\x01\x02binary\0\0"[..],
            id,
            &InputLimits::default()
        ),
        Err(InputError::Binary)
    ));
}

fn tsv(data: &str, l: &InputLimits) -> Result<Query, InputError> {
    tsv::read_tsv(data.as_bytes(), QueryId::Str("p.tsv".into()), l)
}

fn hocr(data: &str, l: &InputLimits) -> Result<Query, InputError> {
    hocr::read_hocr(data.as_bytes(), QueryId::Str("p.hocr".into()), l)
}

/// Word texts and boxes, without confidences (TSV has decimals, hOCR integers).
fn words(q: &Query) -> Vec<(&str, u32, u32, u32, u32, u32)> {
    q.ocr
        .as_ref()
        .unwrap()
        .words
        .iter()
        .map(|w| {
            (
                &q.text[w.text_range.clone()],
                w.left,
                w.top,
                w.width,
                w.height,
                w.line,
            )
        })
        .collect()
}

#[test]
fn tsv_and_hocr_fixtures_agree() {
    for (t, h) in [(PAGE1_TSV, PAGE1_HOCR), (PAGE2_TSV, PAGE2_HOCR)] {
        let a = same_all_ways(t.as_bytes(), |r| {
            tsv::read_tsv(r, QueryId::Num(0), &InputLimits::default()).unwrap()
        });
        let b = same_all_ways(h.as_bytes(), |r| {
            hocr::read_hocr(r, QueryId::Num(0), &InputLimits::default()).unwrap()
        });
        assert_eq!(a.text, b.text);
        assert_eq!(words(&a), words(&b));
        // Word ranges hold exactly the words, in order, without overlap.
        let ws = &a.ocr.as_ref().unwrap().words;
        for pair in ws.windows(2) {
            assert!(pair[0].text_range.end < pair[1].text_range.start);
        }
        for w in ws {
            assert!(!a.text[w.text_range.clone()].contains(char::is_whitespace));
        }
    }
}

#[test]
fn tsv_page1_layout_and_boxes() {
    let q = tsv(PAGE1_TSV, &InputLimits::default()).unwrap();
    assert_eq!(q.text, PAGE1_TEXT);
    let page = q.ocr.as_ref().unwrap();
    assert_eq!(page.words.len(), 33);
    let w0 = &page.words[0];
    assert_eq!(
        (
            w0.text_range.clone(),
            w0.left,
            w0.top,
            w0.width,
            w0.height,
            w0.page,
            w0.line
        ),
        (0..4, 23, 25, 65, 21, 1, 0)
    );
    assert!((w0.conf - 96.694664).abs() < 1e-4);
    // The hyphenated "quar-\nterly": both words and both boxes.
    let start = q.text.find("quar-").unwrap();
    let end = q.text.find("terly").unwrap() + "terly".len();
    let hit: Vec<_> = page
        .boxes_for(start..end)
        .into_iter()
        .map(|w| (&q.text[w.text_range.clone()], w.left, w.top, w.line))
        .collect();
    assert_eq!(hit, vec![("quar-", 693, 30, 0), ("terly", 21, 57, 1)]);
    // Lines are counted across blocks: "the company." is line 2, "1,250,000" line 4.
    let line_of = |word: &str| {
        page.words
            .iter()
            .find(|w| &q.text[w.text_range.clone()] == word)
            .map(|w| w.line)
    };
    assert_eq!(line_of("company."), Some(2));
    assert_eq!(line_of("EUR."), Some(4));
}

#[test]
fn boxes_for_table() {
    let q = tsv(PAGE1_TSV, &InputLimits::default()).unwrap();
    let page = q.ocr.as_ref().unwrap();
    let names = |r: std::ops::Range<usize>| -> Vec<&str> {
        page.boxes_for(r)
            .into_iter()
            .map(|w| &q.text[w.text_range.clone()])
            .collect()
    };
    // "Dear board": 0..4 and 5..10.
    assert_eq!(names(0..0), Vec::<&str>::new());
    assert_eq!(names(0..1), vec!["Dear"]);
    assert_eq!(names(3..5), vec!["Dear"]); // the space after Dear touches no word
    assert_eq!(names(3..6), vec!["Dear", "board"]);
    assert_eq!(names(4..5), Vec::<&str>::new());
    assert_eq!(names(5..10), vec!["board"]);
    assert_eq!(names(q.text.len()..q.text.len() + 5), Vec::<&str>::new());
    assert_eq!(names(0..q.text.len()).len(), page.words.len());
    // The oracle: every word whose range overlaps.
    for a in (0..q.text.len()).step_by(7) {
        for b in (a..q.text.len()).step_by(11) {
            let want: Vec<&str> = page
                .words
                .iter()
                .filter(|w| a < b && w.text_range.start < b && a < w.text_range.end)
                .map(|w| &q.text[w.text_range.clone()])
                .collect();
            assert_eq!(names(a..b), want, "{a}..{b}");
        }
    }
}

#[test]
fn tsv_errors() {
    let head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n";
    let ok = "5\t1\t1\t1\t1\t1\t10\t20\t30\t40\t90.5\tword\n";
    let rows: Vec<(String, Option<u64>)> = vec![
        (format!("{head}{ok}5\t1\t1\t1\n"), Some(3)),
        (
            format!("{head}5\t1\t1\t1\t1\t1\t-10\t20\t30\t40\t90\tw\n"),
            Some(2),
        ),
        (
            format!("{head}5\t1\t1\t1\t1\t1\t10\t20\t30\t40\tabc\tw\n"),
            Some(2),
        ),
        (
            format!("{ok}x\t1\t1\t1\t1\t1\t10\t20\t30\t40\t1\tw\n"),
            Some(2),
        ),
    ];
    for (input, line) in rows {
        let e = tsv(&input, &InputLimits::default()).unwrap_err();
        assert!(matches!(e, InputError::Tsv { .. }), "{e}");
        assert_eq!(e.line(), line, "{input:?}");
    }
    // No header and a word with spaces around: accepted and trimmed.
    let q = tsv(
        "5\t1\t1\t1\t1\t1\t1\t2\t3\t4\t-1\t  hi \n",
        &InputLimits::default(),
    )
    .unwrap();
    assert_eq!(q.text, "hi");
    // Words limit: at the limit fine, one more fails.
    let three = format!("{head}{ok}{ok}{ok}");
    assert_eq!(
        tsv(&three, &limits(100, 1000, 3)).unwrap().text,
        "word word word"
    );
    assert!(matches!(
        tsv(&three, &limits(100, 1000, 2)),
        Err(InputError::TooManyWords { limit: 2 })
    ));
    // Line limit.
    assert!(matches!(
        tsv(&three, &limits(40, 1000, 10)),
        Err(InputError::LineTooLong { line: 1, .. })
    ));
    // Input size limit.
    assert!(matches!(
        tsv(&three, &limits(100, 50, 10)),
        Err(InputError::TooLarge { .. })
    ));
}

#[test]
fn hocr_lenient_and_entities() {
    let doc = "<html><body><div class='ocr_page'><div class='ocr_carea'><p class='ocr_par'>\
        <span class='ocr_line'>\
        <span class='ocrx_word' title='bbox 1 2 11 22; x_wconf 90'><strong>A&amp;B</strong></span> \
        <span class='ocrx_word' title=\"bbox 12 2 20 22\">c&#233;&unknown;</span>\
        </span><span class='ocr_caption'><span class=\"ocrx_word x\" title='x_wconf 50; bbox 1 30 9 40'>d & e</span>\
        </span></p></div></body></html>";
    let q = hocr(doc, &InputLimits::default()).unwrap();
    assert_eq!(q.text, "A&B cé&unknown;\nd & e");
    let page = q.ocr.unwrap();
    let got: Vec<_> = page
        .words
        .iter()
        .map(|w| (w.left, w.top, w.width, w.height, w.conf, w.line))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 2, 10, 20, 90.0, 0),
            (12, 2, 8, 20, -1.0, 0),
            (1, 30, 8, 10, 50.0, 1)
        ]
    );
    // Mismatched end tags are tolerated.
    let bad = "<html><div class='ocr_line'><span class='ocrx_word' title='bbox 0 0 1 1'>x</b></span><span class='ocrx_word' title='bbox 0 0 1 1'>y</span></div>";
    assert!(hocr(bad, &InputLimits::default()).is_ok());
    // Limits.
    assert!(matches!(
        hocr(PAGE1_HOCR, &limits(100, 1000, 100)),
        Err(InputError::TooLarge { .. })
    ));
    assert!(matches!(
        hocr(PAGE1_HOCR, &limits(100, 1 << 20, 32)),
        Err(InputError::TooManyWords { limit: 32 })
    ));
    assert!(hocr(PAGE1_HOCR, &limits(100, 1 << 20, 33)).is_ok());
}

#[test]
fn hocr_garbage_never_panics() {
    for doc in [
        "",
        "<",
        "<<<>>>",
        "<span class='ocrx_word'",
        "&&&;",
        "<a b='c>d</a>",
        "\u{0}\u{1}",
    ] {
        let _ = hocr(doc, &InputLimits::default());
    }
}

#[test]
fn detect_table() {
    let tsv_head = &PAGE1_TSV.as_bytes()[..200];
    let hocr_head = PAGE1_HOCR.as_bytes();
    let rows: &[(Option<&str>, &[u8], Format)] = &[
        (None, b"{\"text\": 1}", Format::Jsonl),
        (None, b"\xEF\xBB\xBF  \n{", Format::Jsonl),
        (Some("a.txt"), b"{ not really", Format::Jsonl),
        (None, tsv_head, Format::Tsv),
        (Some("x.dat"), tsv_head, Format::Tsv),
        (None, hocr_head, Format::Hocr),
        (Some("x.html"), hocr_head, Format::Hocr),
        (
            Some("x.html"),
            b"<html><body>hi</body></html>",
            Format::Text,
        ),
        (None, b"<html><body>hi</body></html>", Format::Lines),
        (Some("q.jsonl"), b"", Format::Jsonl),
        (Some("q.NDJSON"), b"x", Format::Jsonl),
        (Some("q.tsv"), b"a\tb", Format::Tsv),
        (Some("q.hocr"), b"", Format::Hocr),
        (Some("q.txt"), b"hello", Format::Text),
        (Some("q"), b"hello", Format::Text),
        (None, b"hello\nworld", Format::Lines),
        (None, b"", Format::Lines),
    ];
    for (path, head, want) in rows {
        assert_eq!(
            detect(path.map(Path::new), head),
            *want,
            "{path:?} {head:?}"
        );
    }
    for f in [
        Format::Auto,
        Format::Jsonl,
        Format::Lines,
        Format::Text,
        Format::Tsv,
        Format::Hocr,
    ] {
        assert_eq!(Format::from_name(f.name()), Some(f));
    }
    assert_eq!(Format::from_name("xml"), None);
}

#[test]
fn open_auto_replays_the_sniffed_bytes() {
    // A JSONL stream longer than the sniff window, 1 byte at a time.
    let mut data = String::new();
    for i in 0..2000 {
        data.push_str(&format!(
            "{{\"id\": {i}, \"text\": \"query number {i}\"}}\n"
        ));
    }
    assert!(data.len() > SNIFF_BYTES * 2);
    let r = SplitReader::bytewise(data.as_bytes());
    let got: Vec<_> = open(Format::Auto, r, None, &InputLimits::default())
        .unwrap()
        .map(|q| q.unwrap())
        .collect();
    assert_eq!(got.len(), 2000);
    assert_eq!(got[1999].id, QueryId::Num(1999));
    assert_eq!(got[1234].text, "query number 1234");
    // Files: hOCR by content, id = path.
    let q: Vec<_> = open(
        Format::Auto,
        SplitReader::random(PAGE1_HOCR.as_bytes(), 3),
        Some(Path::new("scan/p1.out")),
        &InputLimits::default(),
    )
    .unwrap()
    .collect();
    let q = q.into_iter().next().unwrap().unwrap();
    assert_eq!(q.id, QueryId::Str("scan/p1.out".into()));
    assert_eq!(q.text, PAGE1_TEXT);
    // Standard input defaults to lines.
    let got = outcomes(
        open(
            Format::Auto,
            SplitReader::bytewise(b"a\nb\n"),
            None,
            &InputLimits::default(),
        )
        .unwrap(),
    );
    assert_eq!(got, vec![n(1, "a"), n(2, "b")]);
    // An explicit format is used as given.
    let got = outcomes(
        open(
            Format::Text,
            SplitReader::bytewise(b"a\nb\n"),
            None,
            &InputLimits::default(),
        )
        .unwrap(),
    );
    assert_eq!(got, vec![s("-", "a\nb\n")]);
}

#[test]
fn query_id_serializes_as_number_or_string() {
    assert_eq!(serde_json::to_string(&QueryId::Num(7)).unwrap(), "7");
    assert_eq!(
        serde_json::to_string(&QueryId::Str("a\"b".into())).unwrap(),
        "\"a\\\"b\""
    );
    assert_eq!(QueryId::Num(7).to_string(), "7");
}

#[test]
fn limits_are_checked() {
    assert!(InputLimits::new(0, 1, 1).is_err());
    assert!(InputLimits::new(1, 0, 1).is_err());
    assert!(InputLimits::new(1, 1, 0).is_err());
    assert!(InputLimits::new(1, 1, 1).is_ok());
}

#[test]
fn words_of_unspaced_scripts_are_joined_without_spaces() {
    // (words on one line, the text built)
    let table: &[(&[&str], &str)] = &[
        (&["the", "plan"], "the plan"),
        (&["下", "列", "软件", "包"], "下列软件包"),
        (&["软件", "："], "软件："),
        (&["ポリ", "シー", "設定"], "ポリシー設定"),
        (&["새", "버전을"], "새 버전을"),
        (&["apt", "软件"], "apt 软件"),
        (&["软件", "apt"], "软件 apt"),
        (&["ภาษา", "ไทย"], "ภาษาไทย"),
        (&["مجموع", "النسخ"], "مجموع النسخ"),
    ];
    for (words, want) in table {
        let mut tsv_text = String::from("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n");
        for (i, w) in words.iter().enumerate() {
            tsv_text.push_str(&format!(
                "5\t1\t1\t1\t1\t{}\t{}\t0\t10\t10\t90\t{w}\n",
                i + 1,
                i * 12
            ));
        }
        let q = tsv(&tsv_text, &InputLimits::default()).unwrap();
        assert_eq!(&q.text, want);
        let ocr = q.ocr.unwrap();
        for (w, word) in ocr.words.iter().zip(words.iter()) {
            assert_eq!(&q.text[w.text_range.clone()], *word);
        }
    }
}
