//! Switching audio devices in a running call (`/devices input|output
//! SPEC`), end to end through the testbed SFU on both servers: Bob's
//! speaker goes from one WAV file to another, Alice's microphone from a
//! 440 Hz to an 880 Hz tone, and the call goes on — no session ends, and
//! what arrives after the switch is the new tone, in the new file. A
//! device that cannot be opened fails the command and changes nothing.

use std::path::Path;

use confab::media::analysis::dominant_frequency;
use confab_testbed::component::Link;
use confab_testbed::sfu;

use crate::call::{SFU, entity, heard};
use crate::common::*;

const SECRET: &str = "sfu-secret";

/// A server of `kind` with the users and the SFU component attached.
fn server_with_sfu_on(kind: ServerKind, users: &[&str]) -> Box<dyn TestServer> {
    let server: Box<dyn TestServer> = match kind {
        ServerKind::Prosody => {
            let opts = users
                .iter()
                .fold(ProsodyOptions::new(), |o, u| o.account(*u, password_of(u)))
                .component(SFU, SECRET);
            Box::new(Prosody::start(opts).unwrap_or_else(|e| panic!("Prosody: {e}")))
        }
        ServerKind::Ejabberd => {
            let opts = users
                .iter()
                .fold(EjabberdOptions::new(), |o, u| o.account(*u, password_of(u)))
                .component(SFU, SECRET);
            Box::new(Ejabberd::start(opts).unwrap_or_else(|e| panic!("ejabberd: {e}")))
        }
    };
    let link = Link::new(server.component_port(), SECRET);
    run_peer(async move {
        if let Err(e) = sfu::run(&link, sfu::Options::new(SFU)).await {
            eprintln!("sfu ended: {e}");
        }
    });
    server
}

/// A client sending `audio_in`, playing to `audio_out`, recording what
/// arrives in `home`/received, going on after a failed command.
fn caller(
    server: &dyn TestServer,
    user: &str,
    audio_in: &str,
    audio_out: &str,
    home: &Path,
) -> Client {
    let rec = home.join("received");
    let mut c = Client::start_in(
        server,
        user,
        home,
        &[
            "--keep-going",
            "--audio-in",
            audio_in,
            "--audio-out",
            audio_out,
            "--audio-out-dir",
            rec.to_str().expect("utf-8 path"),
            "--rtc-bind",
            "127.0.0.1:0",
        ],
    );
    c.connected();
    c
}

/// The dominant frequency of the last `secs` of sound in the WAV at
/// `path`, and the peak of that stretch.
fn tail_tone(path: &Path, secs: f32) -> (Option<f32>, f32) {
    let (samples, rate) =
        confab::media::wav::read_mono(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // The call's end leaves silence after the last packet: not counted.
    let end = samples
        .iter()
        .rposition(|x| x.abs() > 0.01)
        .map_or(0, |i| i + 1);
    let samples = &samples[..end];
    let n = (rate as f32 * secs) as usize;
    assert!(
        samples.len() >= n,
        "{}: only {} samples",
        path.display(),
        samples.len()
    );
    let tail = &samples[samples.len() - n..];
    let peak = tail.iter().fold(0f32, |m, x| m.max(x.abs()));
    (dominant_frequency(tail, rate), peak)
}

fn ended(v: &serde_json::Value) -> bool {
    (v["event"] == "call" && v["state"] == "ended")
        || (v["event"] == "stream" && v["state"] == "removed")
}

crate::on_both!(input_and_output_are_switched_in_a_running_call);

fn input_and_output_are_switched_in_a_running_call(kind: ServerKind) {
    let server = server_with_sfu_on(kind, &["alice", "bob"]);
    let server = &*server;
    let room = format!("switch@{SFU}");
    let homes: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut alice = caller(server, "alice", "tone:440", "null", homes[0].path());
    let (a_wav, b_wav) = (homes[1].path().join("a.wav"), homes[1].path().join("b.wav"));
    let rec = homes[1].path().join("received");
    let out = format!("file:{}", a_wav.display());
    let mut bob = caller(server, "bob", "null", &out, homes[1].path());
    for c in [&mut alice, &mut bob] {
        c.ok(&format!("/call {room}"));
    }
    bob.event("alice's stream", |v| {
        v["event"] == "stream" && v["entity"] == entity("alice") && v["state"] == "added"
    });
    heard(&mut bob, "alice", 6);

    // Bob's speaker: to b.wav. a.wav is finished at once (readable now).
    bob.ok(&format!("/devices output file:{}", b_wav.display()));
    let switched = bob.event("the output switched", |v| v["event"] == "audio-device");
    assert_eq!(switched["side"], "output", "{switched}");
    assert_eq!(switched["next_call"], false, "{switched}");
    let (f, peak) = tail_tone(&a_wav, 1.0);
    eprintln!("a.wav before the switch: {f:?} Hz, peak {peak:.2}");
    assert!(
        peak > 0.1 && f.is_some_and(|f| (f - 440.0).abs() <= 5.0),
        "{f:?} {peak}"
    );

    // A speaker that does not exist: an error naming it; b.wav stays.
    let e = bob.run("/devices output device:no-such-speaker");
    assert_eq!(e["event"], "error", "{e}");
    assert!(
        e["text"]
            .as_str()
            .unwrap_or_default()
            .contains("not switched"),
        "{e}"
    );
    // Alice's microphone: a source that cannot be opened fails the same
    // way (the tone goes on), then the switch to 880 Hz.
    let e = alice.run(&format!(
        "/devices input file:{}",
        homes[0].path().join("missing.wav").display()
    ));
    assert_eq!(e["event"], "error", "{e}");
    assert!(
        e["text"]
            .as_str()
            .unwrap_or_default()
            .contains("missing.wav"),
        "{e}"
    );
    alice.ok("/devices input tone:880");
    let switched = alice.event("the input switched", |v| v["event"] == "audio-device");
    assert_eq!(switched["side"], "input", "{switched}");
    assert_eq!(switched["device"], "tone 880 Hz", "{switched}");
    // Two seconds and more of the new tone at Bob.
    heard(&mut bob, "alice", 10);

    assert!(!alice.saw(ended), "no session of alice's call ended");
    assert!(!bob.saw(ended), "no session of bob's call ended");
    // Both had a command fail on purpose: the exit status says so.
    bob.send("/quit");
    assert_eq!(bob.finish(), 1);
    alice.send("/quit");
    assert_eq!(alice.finish(), 1);

    // After the switches: the new file gets the new tone, and the stream's
    // own recording (one stream all along) ends with it too.
    for path in [b_wav, rec.join("alice@localhost.wav")] {
        let (f, peak) = tail_tone(&path, 1.0);
        eprintln!("{}: last second {f:?} Hz, peak {peak:.2}", path.display());
        assert!(
            peak > 0.1 && f.is_some_and(|f| (f - 880.0).abs() <= 5.0),
            "{}: {f:?} Hz, peak {peak}",
            path.display()
        );
    }
}

#[test]
fn without_a_call_the_next_call_uses_the_switched_input() {
    let server = server_with_sfu_on(ServerKind::Prosody, &["alice", "bob"]);
    let server = &*server;
    let room = format!("later@{SFU}");
    let homes: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut alice = caller(server, "alice", "null", "null", homes[0].path());
    let mut bob = caller(server, "bob", "null", "null", homes[1].path());
    alice.ok("/devices input tone:660");
    let switched = alice.event("the input switched", |v| v["event"] == "audio-device");
    assert_eq!(switched["next_call"], true, "{switched}");
    let e = alice.run("/devices input tone:5");
    assert_eq!(e["event"], "error", "{e}");
    for c in [&mut alice, &mut bob] {
        c.ok(&format!("/call {room}"));
    }
    heard(&mut bob, "alice", 8);
    bob.send("/quit");
    let status = bob.finish();
    let errors: Vec<_> = bob
        .events
        .iter()
        .filter(|v| v["event"] == "error")
        .collect();
    assert_eq!(status, 0, "{errors:?}");
    let path = homes[1].path().join("received").join("alice@localhost.wav");
    let (f, _) = tail_tone(&path, 1.0);
    assert!(f.is_some_and(|f| (f - 660.0).abs() <= 5.0), "{f:?}");
    alice.send("/quit");
    assert_eq!(alice.finish(), 1, "/devices input tone:5 failed");
}
