#![no_main]
use libfuzzer_sys::fuzz_target;

// Legacy Word and PowerPoint (OLE2 with a WordDocument or PowerPoint
// Document stream), seeded with the .doc and .ppt fixtures.
fuzz_target!(|data: &[u8]| {
    leakprint_fuzz::harness::allow_caught_dependency_panics();
    leakprint_fuzz::harness::extract(data, "document.doc");
});
