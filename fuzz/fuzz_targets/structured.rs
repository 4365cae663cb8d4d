//! The test suite's generator driven by the fuzzer's bytes: a few hostile
//! XMPP-shaped cases per input, through the whole incoming path.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let rng = confab::fuzz_cases::r#gen::Rng::from_bytes(data);
    let mut h = confab::fuzz_cases::Harness::new(rng);
    h.run(4);
});
