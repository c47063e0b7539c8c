#![no_main]
use libfuzzer_sys::fuzz_target;

// Outlook stores and messages: the PST reader (detected by its `!BDN`
// header) and the .msg reader (OLE2); seeded with the PST and MSG
// fixtures of tests/data/extract/outlook.
fuzz_target!(|data: &[u8]| {
    leakprint_fuzz::harness::allow_caught_dependency_panics();
    leakprint_fuzz::harness::extract(data, "store.pst");
});
