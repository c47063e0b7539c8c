//! Text in every script: no query ever ends in an error, every span lies on
//! character boundaries, look-alike and invisible characters are folded,
//! and lengths count content rather than bytes (issue "Leaks in every
//! script").

mod common;

use common::index_of;

use leakprint::matcher::{MatchConfig, Matcher};
use proptest::prelude::*;

/// Pools of real characters of many scripts, so that random documents look
/// like text (words of one script separated by spaces and punctuation),
/// with the hard cases mixed in: combining marks, emoji with joiners and
/// variation selectors, right-to-left text with bidi controls, chars
/// outside the BMP.
const POOLS: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯіїєґ",
    "αβγδεζηθικλμνξοπρστυφχψωςΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώ",
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴",
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー",
    "가나다라마바사아자차카타파하한국어대한민국서울부산회의보고서계약예산비밀유출",
    "אבגדהוזחטיכלמנסעפצקרשתךםןףץ",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "कखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसहािीुूेैोौं्",
    "กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮะัาำิีึืุู",
    "𝐀𝐁𝐂𝐚𝐛𝐜𝟎𝟏ＡＢＣａｂｃ０１２😀🔥👍🏽👨‍👩‍👧❤️\u{200B}\u{200D}\u{00AD}\u{FEFF}\u{202E}\u{202C}\u{FE0F}\u{0301}\u{0308}\u{0327}𠀀𠀁𪚥",
];

/// A document of `words` words drawn from a few pools (mostly one script,
/// as real documents are).
fn document(rng: &mut common::Rng, words: usize) -> String {
    let pools: Vec<Vec<char>> = POOLS.iter().map(|p| p.chars().collect()).collect();
    let main = rng.below(pools.len() as u64) as usize;
    let mut out = String::new();
    for i in 0..words {
        let pool = if rng.below(5) == 0 {
            &pools[rng.below(pools.len() as u64) as usize]
        } else {
            &pools[main]
        };
        let len = 1 + rng.below(8) as usize;
        for _ in 0..len {
            out.push(pool[rng.below(pool.len() as u64) as usize]);
        }
        out.push(match rng.below(12) {
            0 => '\n',
            1 => ',',
            2 => '。',
            _ => ' ',
        });
        if i % 40 == 39 {
            out.push_str("\n\n");
        }
    }
    out
}

/// Char-boundary-respecting random cut of `s` of about `len` bytes.
fn cut(rng: &mut common::Rng, s: &str, len: usize) -> String {
    let start = rng.below(s.len().saturating_sub(len).max(1) as u64) as usize;
    let mut a = start;
    while !s.is_char_boundary(a) {
        a += 1;
    }
    let mut b = (a + len).min(s.len());
    while !s.is_char_boundary(b) {
        b += 1;
    }
    s[a..b].to_string()
}

/// Edits of the kinds posts and OCR make, on chars (never splitting one).
fn edit(rng: &mut common::Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let edits = rng.below(4);
    for _ in 0..edits {
        if chars.is_empty() {
            break;
        }
        let at = rng.below(chars.len() as u64) as usize;
        match rng.below(5) {
            0 => {
                chars.remove(at);
            }
            1 => chars.insert(at, '\u{200B}'),
            2 => chars.insert(at, ' '),
            3 => chars[at] = 'x',
            _ => chars.insert(at, '🔥'),
        }
    }
    let mut out: String = chars.into_iter().collect();
    if rng.below(2) == 0 {
        out = format!("RT \"{out}\" #leak");
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Documents of random text in many scripts, queries cut from them at
    /// random and edited: matching never fails, and every reported span
    /// lies on char boundaries of the query and of the source text.
    #[test]
    fn no_query_fails_and_spans_are_on_boundaries(seed in any::<u64>()) {
        let mut rng = common::Rng(seed);
        let docs: Vec<(String, String)> = (0..6)
            .map(|i| (format!("dump/{i}.txt"), document(&mut rng, 300)))
            .collect();
        let idx = index_of(&docs);
        let m = Matcher::new(&idx, MatchConfig::default());
        for _ in 0..12 {
            let (_, doc) = &docs[rng.below(docs.len() as u64) as usize];
            let len = 20 + rng.below(400) as usize;
            let piece = cut(&mut rng, doc, len);
            let q = edit(&mut rng, &piece);
            let found = m.try_find(&q);
            prop_assert!(found.is_ok(), "query {q:?}: {:?}", found.err());
            for g in found.unwrap() {
                prop_assert!(q.is_char_boundary(g.query_span.start) && q.is_char_boundary(g.query_span.end),
                    "query span {:?} of {q:?}", g.query_span);
                // Spans are offsets in the extracted text, which does not
                // keep a leading byte order mark.
                let src = &docs.iter().find(|d| d.0 == g.source).unwrap().1;
                let src = src.strip_prefix('\u{FEFF}').unwrap_or(src);
                prop_assert!(src.is_char_boundary(g.source_span.start) && src.is_char_boundary(g.source_span.end),
                    "source span {:?} in {}", g.source_span, g.source);
                prop_assert!(g.query_span.start < g.query_span.end && g.source_span.start < g.source_span.end);
            }
        }
    }
}

/// A dump of Chinese text: quotes cut at every byte offset of a window, so
/// that hits and windows fall inside multi-byte chars (the failure of
/// issue 10: "window boundary inside a normalized character").
#[test]
fn cjk_quotes_at_every_offset_never_fail() {
    let mut rng = common::Rng(3);
    let mut docs: Vec<(String, String)> = Vec::new();
    for i in 0..4 {
        let mut d = String::new();
        while d.len() < 6000 {
            let pool: Vec<char> = POOLS[3].chars().collect();
            for _ in 0..(4 + rng.below(10)) {
                d.push(pool[rng.below(pool.len() as u64) as usize]);
            }
            d.push_str(if rng.below(3) == 0 { "。" } else { "，" });
            // Numbers and Latin abbreviations, as Chinese text has, so
            // that byte positions are not all multiples of 3.
            if rng.below(4) == 0 {
                d.push_str(["2014年", "Q3", "5%", "CEO", "7"][rng.below(5) as usize]);
            }
        }
        docs.push((format!("dump/zh{i}.txt"), d));
    }
    let idx = index_of(&docs);
    let m = Matcher::new(&idx, MatchConfig::default());
    let doc = &docs[1].1;
    let mut found = 0;
    for start in (900..1000).filter(|&s| doc.is_char_boundary(s)) {
        let end = (start + 150..).find(|&e| doc.is_char_boundary(e)).unwrap();
        let q = &doc[start..end];
        let got = m.try_find(q).expect("a CJK query must never fail");
        if got.iter().any(|g| g.source == "dump/zh1.txt") {
            found += 1;
        }
    }
    assert!(found > 0);
}

/// An exact Chinese quote of about 50 chars is found with its exact spans;
/// a shared run of 16 ideographs (48 bytes, more than `min_len` bytes but
/// far less content than 44 Latin letters) is not a match.
#[test]
fn cjk_lengths_count_content() {
    let a = "关于本季度的预算问题，我们需要在下周的董事会上讨论所有部门的支出计划，并且在财务部门签字之前不要与团队以外的任何人分享这些数字。另外请对首映日程保密，法务部门仍在审查发行权。";
    let b = "会议纪要：夏季发行的宣传活动将于五月开始，院线要求在流媒体上线之前有更长的窗口期，经纪人希望在预告片公开之前获得批准。";
    let idx = index_of(&[
        ("dump/a.txt".into(), a.into()),
        ("dump/b.txt".into(), b.into()),
    ]);
    let m = Matcher::new(&idx, MatchConfig::default());
    let quote = "我们需要在下周的董事会上讨论所有部门的支出计划，并且在财务部门签字之前不要与团队以外的任何人分享这些数字";
    let post = format!("看看这个：「{quote}」 #泄露");
    let got = m.try_find(&post).unwrap();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(&post[got[0].query_span.clone()], quote);
    assert_eq!(&a[got[0].source_span.clone()], quote);
    // 16 ideographs shared with document b inside unrelated text.
    let shared = "院线要求在流媒体上线之前有更长的";
    assert_eq!(shared.chars().count(), 16);
    let unrelated = format!("今天天气很好我们去公园散步吧{shared}然后回家吃饭睡觉明天再说");
    let got = m.try_find(&unrelated).unwrap();
    assert!(
        got.is_empty(),
        "a 16-ideograph stock phrase matched: {got:#?}"
    );
}

/// The tricks used to get a quote past a filter: Cyrillic letters swapped
/// for Latin look-alikes (and back), zero-width characters, full-width
/// forms, stripped accents.
#[test]
fn look_alikes_invisibles_and_full_width_are_folded() {
    let ru = "Бюджет студии на следующий квартал выглядит слабым, и мы не должны показывать эти цифры никому за пределами команды, пока финансовый отдел не подпишет прогноз.";
    let en = "The quarterly numbers for the studio look weak and we should not share this with anyone outside the team until finance has signed off on the forecast.";
    let fr = "Les chiffres trimestriels du studio sont mauvais et nous ne devons pas les partager avec qui que ce soit en dehors de l'équipe avant que la finance ait approuvé.";
    let idx = index_of(&[
        ("dump/ru.txt".into(), ru.into()),
        ("dump/en.txt".into(), en.into()),
        ("dump/fr.txt".into(), fr.into()),
    ]);
    let m = Matcher::new(&idx, MatchConfig::default());
    let swap = |s: &str, pairs: &[(char, char)]| -> String {
        s.chars()
            .map(|c| pairs.iter().find(|p| p.0 == c).map_or(c, |p| p.1))
            .collect()
    };
    let cyr_to_lat = [
        ('о', 'o'),
        ('а', 'a'),
        ('е', 'e'),
        ('р', 'p'),
        ('с', 'c'),
        ('у', 'y'),
        ('х', 'x'),
        ('Т', 'T'),
        ('Н', 'H'),
        ('В', 'B'),
        ('К', 'K'),
        ('М', 'M'),
    ];
    let lat_to_cyr: Vec<(char, char)> = cyr_to_lat.iter().map(|&(a, b)| (b, a)).collect();
    let zw = |s: &str| -> String {
        s.chars()
            .enumerate()
            .flat_map(|(i, c)| {
                if i % 3 == 1 {
                    vec![c, '\u{200B}']
                } else {
                    vec![c]
                }
            })
            .collect()
    };
    let full = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_graphic() {
                    char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap()
                } else {
                    c
                }
            })
            .collect()
    };
    let cases: Vec<(String, &str)> = vec![
        (swap(ru, &cyr_to_lat), "dump/ru.txt"),
        (swap(en, &lat_to_cyr), "dump/en.txt"),
        (zw(ru), "dump/ru.txt"),
        (zw(en), "dump/en.txt"),
        (full(en), "dump/en.txt"),
        (fr.replace(['é', 'è'], "e"), "dump/fr.txt"),
    ];
    for (q, want) in cases {
        let got = m.try_find(&q).unwrap();
        assert!(
            got.iter().any(|g| g.source == want),
            "{q:?} not found: {got:#?}"
        );
    }
}
