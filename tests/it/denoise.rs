//! Noise suppression in a real call through the testbed SFU: the same
//! noisy spoken sample (espeak-ng plus white noise) sent by a caller with
//! `--denoise on` and by one with `--denoise off`; the listener's
//! recordings of the two streams are compared, and the denoising caller's
//! voice detector reports when it hears speech.

use std::path::Path;

use crate::call::{SFU, caller, heard, server_with_sfu};

/// One second of silence, a sentence, one second of silence, with white
/// noise 10 dB under the voice throughout (48 kHz WAV).
fn noisy_speech(path: &Path) {
    let clean = confab::media::speech::padded_sentence(path.parent().unwrap())
        .expect("espeak-ng (scripts/ensure-deps test)");
    let noisy = confab::media::speech::with_white_noise(&clean, 10.0, 0x5eed);
    confab::media::wav::write_mono(path, &noisy, 48_000).expect("noisy WAV");
}

/// The loud frames (the voice, 90th percentile of 20 ms frame energies)
/// over the quiet ones (the noise between words, 10th percentile), in dB.
fn voice_over_floor(path: &Path) -> f32 {
    let (samples, rate) =
        confab::media::wav::read_mono(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let n = rate as usize / 50;
    // Leave out the first second: the stream starting.
    let mut e: Vec<f32> = samples
        .chunks_exact(n)
        .skip(50)
        .map(|f| f.iter().map(|x| x * x).sum::<f32>() / n as f32 + 1e-12)
        .collect();
    assert!(e.len() > 150, "{}: only {} frames", path.display(), e.len());
    e.sort_by(f32::total_cmp);
    let p = |q: f32| e[((e.len() - 1) as f32 * q) as usize];
    10.0 * (p(0.9) / p(0.1)).log10()
}

#[test]
fn a_noisy_voice_arrives_cleaned_and_the_voice_is_detected() {
    let server = server_with_sfu(&["alice", "carol", "bob"], 0);
    let room = format!("quiet@{SFU}");
    let homes: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let wav = homes[0].path().join("noisy.wav");
    noisy_speech(&wav);
    let input = format!("file:{}", wav.display());
    let mut alice = caller(&server, "alice", &input, homes[0].path());
    let mut carol = caller(&server, "carol", &input, homes[1].path());
    let mut bob = caller(&server, "bob", "null", homes[2].path());
    // A file is sent as it is unless asked (auto cleans a microphone).
    alice.ok("/denoise on");
    carol.ok("/denoise off");
    for c in [&mut bob, &mut alice, &mut carol] {
        c.ok(&format!("/call {room}"));
    }
    // The sample is about 7 s long: two rounds of it.
    heard(&mut bob, "alice", 40);
    heard(&mut bob, "carol", 4);
    // Alice's detector heard her speak, and stop in the pauses.
    alice.expect("alice heard speaking", |v| {
        v["event"] == "voice" && v["speaking"] == true
    });
    alice.expect("alice heard silent", |v| {
        v["event"] == "voice" && v["speaking"] == false
    });
    assert!(
        carol.find(|v| v["event"] == "voice").is_none(),
        "no detector without suppression"
    );
    bob.send("/quit");
    assert_eq!(bob.finish(), 0);
    let rec = homes[2].path().join("received");
    let on = voice_over_floor(&rec.join("alice@localhost.wav"));
    let off = voice_over_floor(&rec.join("carol@localhost.wav"));
    eprintln!("voice over the noise floor: {on:.1} dB denoised, {off:.1} dB as it was");
    assert!(
        on >= off + 10.0,
        "denoised {on:.1} dB, as it was {off:.1} dB"
    );
    for c in [alice, carol] {
        let mut c = c;
        c.send("/quit");
        assert_eq!(c.finish(), 0);
    }
}
