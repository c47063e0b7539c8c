#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    leakprint_fuzz::harness::allow_caught_dependency_panics();
    leakprint_fuzz::harness::index_reader(data);
});
