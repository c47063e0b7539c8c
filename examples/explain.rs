use leakprint::index::Index;
use leakprint::matcher::{MatchConfig, Matcher};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let idx = Index::open(&args[1]).unwrap();
    let m = Matcher::new(&idx, MatchConfig::default());
    let ids: Vec<&str> = args[3].split(',').collect();
    for line in std::fs::read_to_string(&args[2]).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = v["id"].as_str().unwrap();
        let found = m.find(v["text"].as_str().unwrap());
        if ids[0] == "kg" {
            if id != ids[1] {
                continue;
            }
            let n = leakprint::normalize::normalize(v["text"].as_str().unwrap());
            let p = idx.params();
            let mut hs = Vec::new();
            leakprint::fingerprint::kgram_hashes(n.text.as_bytes(), p.k as usize, p.seed, &mut hs);
            let seg = &idx.segments()[0];
            let mut line = String::new();
            for (i, h) in hs.iter().enumerate() {
                let key = leakprint::fingerprint::remix(*h);
                let c = seg.is_common(key);
                let np = seg.postings(key).count();
                if c || np > 0 {
                    line.push_str(&format!("{i}:{}{} ", if c { "C" } else { "" }, np));
                }
            }
            println!("{line}\ncommon_docs {}", seg.meta().common_docs);
            continue;
        }
        if ids[0] == "lowspan" {
            let e = &v["expect"][0];
            let src = format!("corpus/dump/{}", e["source"].as_str().unwrap());
            let (a, b) = (
                e["span"][0].as_u64().unwrap() as usize,
                e["span"][1].as_u64().unwrap() as usize,
            );
            for g in found.iter().filter(|g| g.source == src) {
                let inter = g
                    .source_span
                    .end
                    .min(b)
                    .saturating_sub(g.source_span.start.max(a));
                let uni = g.source_span.end.max(b) - g.source_span.start.min(a);
                if (inter as f64) < 0.9 * uni as f64 {
                    println!(
                        "{id} truth {a}..{b} got {:?} q {:?}",
                        g.source_span, g.query_span
                    );
                }
            }
            continue;
        }
        if !ids.contains(&id) {
            continue;
        }
        println!("=== {} expect {}\n{}", v["id"], v["expect"], v["text"]);
        for g in found {
            println!(
                "  -> {} {:?} sim {:.3} len {} q {:?} | {}",
                g.source, g.source_span, g.similarity, g.aligned_len, g.query_span, g.snippet
            );
        }
    }
}
