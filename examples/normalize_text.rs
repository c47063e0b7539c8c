//! Print the normalized form of each argument and its content weight in
//! Latin letters: a debugging aid for the normalization of other scripts.
//!
//! `cargo run --release --example normalize_text -- TEXT...`

fn main() {
    for a in std::env::args().skip(1) {
        let n = leakprint::normalize::normalize(&a);
        let w = leakprint::normalize::content_weight(&n.text) as f64
            / f64::from(leakprint::normalize::WEIGHT_UNIT);
        println!("{w:6.1} {}", n.text);
    }
}
