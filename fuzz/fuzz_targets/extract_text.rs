#![no_main]
use libfuzzer_sys::fuzz_target;

// Plain text decoding: BOMs, UTF-16 without a BOM, chardetng's legacy
// charset detection; seeded with the legacy-charset texts.
fuzz_target!(|data: &[u8]| {
    leakprint_fuzz::harness::allow_caught_dependency_panics();
    leakprint_fuzz::harness::extract(data, "notes.txt");
});
