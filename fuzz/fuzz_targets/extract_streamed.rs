#![no_main]
use libfuzzer_sys::fuzz_target;

// Archives, gzip, mbox and text over the text limit, read by the streaming
// readers (member by member, in pieces) through a whole index build; seeded
// with small archives whose members pass the 1 KiB limit of the harness.
fuzz_target!(|data: &[u8]| {
    leakprint_fuzz::harness::allow_caught_dependency_panics();
    leakprint_fuzz::harness::extract_streamed(data);
});
