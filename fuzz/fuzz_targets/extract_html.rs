#![no_main]
use libfuzzer_sys::fuzz_target;

// Detection is by content; the name hint and the seed corpus steer this
// target towards the html extractor.
fuzz_target!(|data: &[u8]| {
    leakprint_fuzz::harness::allow_caught_dependency_panics();
    leakprint_fuzz::harness::extract(data, "page.html");
});
