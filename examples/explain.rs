use leakprint::index::Index;
use leakprint::matcher::{MatchConfig, Matcher};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let idx = Index::open(&args[1]).unwrap();
    let m = Matcher::new(&idx, MatchConfig::default());
    let ids: Vec<&str> = args[3].split(',').collect();
    for line in std::fs::read_to_string(&args[2]).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if !ids.contains(&v["id"].as_str().unwrap()) {
            continue;
        }
        println!("=== {} expect {}\n{}", v["id"], v["expect"], v["text"]);
        for g in m.find(v["text"].as_str().unwrap()) {
            println!(
                "  -> {} {:?} sim {:.3} len {} q {:?} | {}",
                g.source, g.source_span, g.similarity, g.aligned_len, g.query_span, g.snippet
            );
        }
    }
}
