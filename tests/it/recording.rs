//! `/record` end to end: three `confab --batch` clients in a conference on
//! the testbed SFU (real Prosody, ICE, DTLS-SRTP, Opus on loopback); Carol
//! records. The Ogg Opus files are read back with the `ogg` crate (which
//! checks every page's CRC), their headers checked against RFC 7845, their
//! packets decoded with confab's Opus decoder, and the tones found in them:
//! Alice's 440 Hz and Bob's 660 Hz in their own files and in the mix,
//! Carol's own 880 Hz in hers. opus-tools' `opusinfo` reads them too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use confab::media::analysis::{spectrum_peaks, tone_snr, trim_quiet};
use confab::media::codec::{Decoder, MAX_DECODED};

use crate::call::{SFU, caller, entity, heard, server_with_sfu};
use crate::common::*;

/// What an Ogg Opus file holds, read and checked.
struct OpusFile {
    pre_skip: u16,
    /// The granule position of the last page.
    granule: u64,
    /// Decoded, pre-skip dropped.
    pcm: Vec<f32>,
    tags: Vec<u8>,
}

/// Reads `path` as an Ogg Opus stream: one logical stream, `OpusHead`
/// alone on the first (BOS) page, `OpusTags` alone on the second, audio
/// pages with granule positions that never go back, an EOS page last.
fn read_opus(path: &Path) -> OpusFile {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = ogg::reading::PacketReader::new(std::io::BufReader::new(f));
    let head = r
        .read_packet_expected()
        .expect("OpusHead page (CRC checked)");
    assert!(head.first_in_stream() && head.first_in_page() && head.last_in_page());
    let h = &head.data;
    assert_eq!(
        h.len(),
        19,
        "{}: OpusHead of mapping family 0",
        path.display()
    );
    assert_eq!(&h[..8], b"OpusHead");
    assert_eq!(h[8], 1, "version");
    assert_eq!(h[9], 1, "mono");
    let pre_skip = u16::from_le_bytes([h[10], h[11]]);
    assert_eq!(u32::from_le_bytes([h[12], h[13], h[14], h[15]]), 48_000);
    assert_eq!(i16::from_le_bytes([h[16], h[17]]), 0, "output gain");
    assert_eq!(h[18], 0, "mapping family");
    assert_eq!(head.absgp_page(), 0);
    let tags = r.read_packet_expected().expect("OpusTags page");
    assert!(tags.first_in_page() && tags.last_in_page());
    assert_eq!(&tags.data[..8], b"OpusTags");
    assert_eq!(tags.absgp_page(), 0);
    let serial = head.stream_serial();

    let mut dec = Decoder::new().unwrap();
    let mut out = vec![0.0; MAX_DECODED];
    let mut pcm = Vec::new();
    let mut granule = 0;
    loop {
        let p = r
            .read_packet()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .unwrap_or_else(|| panic!("{}: no end-of-stream page", path.display()));
        assert_eq!(p.stream_serial(), serial);
        assert!(!p.first_in_page() || p.absgp_page() >= granule);
        let n = dec
            .decode(&p.data, &mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        pcm.extend_from_slice(&out[..n]);
        if p.last_in_page() {
            assert!(p.absgp_page() >= granule, "granules never go back");
            granule = p.absgp_page();
            // The granule counts exactly the samples of the packets so far.
            assert_eq!(granule, pcm.len() as u64, "{}", path.display());
        }
        if p.last_in_stream() {
            assert!(p.last_in_page());
            break;
        }
    }
    assert!(r.read_packet().unwrap().is_none(), "nothing after EOS");
    let pcm = pcm.split_off(usize::from(pre_skip).min(pcm.len()));
    OpusFile {
        pre_skip,
        granule,
        pcm,
        tags: tags.data,
    }
}

/// The `recording` event in `state` that came after event number `mark`
/// (it may come before or after the command's `ok`).
/// opus-tools' `opusinfo` (an independent reader, `scripts/ensure-deps
/// test` installs it) finds nothing wrong with `path`; its report.
fn opusinfo(path: &Path) -> String {
    let out = std::process::Command::new("opusinfo")
        .arg(path)
        .output()
        .expect("opusinfo (opus-tools; scripts/ensure-deps test installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{}: {text}", path.display());
    let lower = text.to_lowercase();
    assert!(
        !lower.contains("warning") && !lower.contains("error") && !lower.contains("hole"),
        "{}: {text}",
        path.display()
    );
    text
}

fn recording_event(c: &mut Client, mark: usize, state: &'static str) -> Value {
    let pred = move |v: &Value| v["event"] == "recording" && v["state"] == state;
    if let Some(v) = c.events[mark..].iter().find(|v| pred(v)) {
        return v.clone();
    }
    c.expect(&format!("recording {state}"), pred)
}

fn files_of(v: &Value) -> BTreeSet<PathBuf> {
    v["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| PathBuf::from(f.as_str().unwrap()))
        .collect()
}

/// The tone `hz` dominates `pcm`, at an SNR of at least `min_db`.
fn has_tone(what: &str, pcm: &[f32], hz: f32, min_db: f32) {
    let tone = trim_quiet(pcm, 0.05);
    assert!(
        tone.len() > 48_000,
        "{what}: {} samples of sound",
        tone.len()
    );
    let peaks = spectrum_peaks(tone, 48_000);
    assert!(
        peaks
            .first()
            .is_some_and(|p| (p.frequency - hz).abs() <= 2.0),
        "{what}: {peaks:?}, sent {hz} Hz"
    );
    let snr = tone_snr(tone, 48_000, hz).expect("a tone");
    eprintln!("{what}: {hz} Hz at {snr:.1} dB SNR");
    assert!(snr >= min_db, "{what}: SNR {snr:.1} dB");
}

#[test]
fn a_recorded_call_is_ogg_opus_that_decodes_back_to_each_speakers_tone() {
    let server = server_with_sfu(&["alice", "bob", "carol"], 0);
    let room = format!("rec@{SFU}");
    let homes: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut alice = caller(&server, "alice", "tone:440", homes[0].path());
    let mut bob = caller(&server, "bob", "tone:660", homes[1].path());
    let mut carol = caller(&server, "carol", "tone:880", homes[2].path());

    for c in [&mut alice, &mut bob, &mut carol] {
        c.ok(&format!("/call {room}"));
        c.event("call connected", |v| {
            v["event"] == "call" && v["state"] == "connected"
        });
    }
    heard(&mut carol, "alice", 2);
    heard(&mut carol, "bob", 2);

    let dir = homes[2].path().join("calls").join("standup");
    let started = Instant::now();
    let mark = carol.events.len();
    carol.ok(&format!("/record {}", dir.display()));
    let v = recording_event(&mut carol, mark, "started");
    assert_eq!(files_of(&v), BTreeSet::from([dir.join("mix.opus")]));
    // Three seconds and more of both.
    heard(&mut carol, "alice", 12);
    heard(&mut carol, "bob", 2);
    let mark = carol.events.len();
    carol.ok("/record stop");
    let elapsed = started.elapsed().as_secs_f64();
    let v = recording_event(&mut carol, mark, "stopped");
    let expected: BTreeSet<PathBuf> = ["mix", "alice@localhost", "bob@localhost", "own"]
        .iter()
        .map(|n| dir.join(format!("{n}.opus")))
        .collect();
    assert_eq!(files_of(&v), expected, "{v}");

    for (name, hz) in [
        ("alice@localhost", 440.0),
        ("bob@localhost", 660.0),
        ("own", 880.0),
    ] {
        let f = read_opus(&dir.join(format!("{name}.opus")));
        assert_eq!(f.pre_skip, 312);
        let secs = f.granule as f64 / 48_000.0;
        eprintln!("{name}.opus: {secs:.2} s (recorded for {elapsed:.2} s)");
        assert!(
            secs > 2.5 && secs <= elapsed + 0.2,
            "{name}: {secs:.2} s of {elapsed:.2} s"
        );
        if name != "own" {
            let speaker = entity(name.trim_end_matches("@localhost"));
            assert!(
                f.tags
                    .windows(speaker.len())
                    .any(|w| w == speaker.as_bytes()),
                "{name}: the speaker in OpusTags"
            );
        }
        has_tone(name, &f.pcm, hz, 20.0);
        let info = opusinfo(&dir.join(format!("{name}.opus")));
        assert!(info.contains("Playback length: 0m:0"), "{info}");
    }
    let mix = read_opus(&dir.join("mix.opus"));
    assert!(mix.pre_skip > 0);
    let secs = mix.granule as f64 / 48_000.0;
    assert!(
        (secs - elapsed).abs() < 0.5,
        "the mix runs in real time: {secs:.2} s of {elapsed:.2} s"
    );
    opusinfo(&dir.join("mix.opus"));
    let peaks = spectrum_peaks(trim_quiet(&mix.pcm, 0.05), 48_000);
    let mut top: Vec<f32> = peaks.iter().take(2).map(|p| p.frequency).collect();
    top.sort_by(f32::total_cmp);
    assert!(
        top.len() == 2 && (top[0] - 440.0).abs() <= 2.0 && (top[1] - 660.0).abs() <= 2.0,
        "the mix holds both others: {peaks:?}"
    );

    // Recording again, then hanging up: the recording stops with the call,
    // in new files beside the old.
    let mark = carol.events.len();
    carol.ok(&format!("/record {}", dir.display()));
    recording_event(&mut carol, mark, "started");
    heard(&mut carol, "alice", 2);
    let mark = carol.events.len();
    carol.ok("/hangup");
    let v = recording_event(&mut carol, mark, "stopped");
    assert!(files_of(&v).contains(&dir.join("mix-2.opus")), "{v}");
    assert!(
        files_of(&v).contains(&dir.join("alice@localhost-2.opus")),
        "{v}"
    );
    for name in ["alice@localhost-2.opus", "mix-2.opus"] {
        read_opus(&dir.join(name));
        opusinfo(&dir.join(name));
    }

    for mut c in [alice, bob, carol] {
        c.send("/quit");
        assert_eq!(c.finish(), 0);
    }
}
