//! Bytes → one element (minidom) → what the session does with a stanza
//! (parse, classify, app, store) → the screen drawn and the batch lines
//! checked (`confab::fuzz_cases::Harness`).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Stanzas nested deeper than this crash in minidom's recursive drop
/// (issue 12: the byte-level depth limit of `session/connect.rs` is the
/// fix); inputs with more elements are left to that limit.
const MAX_TAGS: usize = 256;

fuzz_target!(|data: &[u8]| {
    if data.iter().filter(|b| **b == b'<').count() > MAX_TAGS {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(el) = text.parse::<minidom::Element>() else {
        return;
    };
    let mut h = confab::fuzz_cases::Harness::new(confab::fuzz_cases::r#gen::Rng::new(0));
    h.deliver(el);
    h.draw();
});
