//! Calls end to end: three `confab --batch` clients call a conference on
//! the testbed SFU (XEP-0521) through a real Prosody, with real ICE,
//! DTLS-SRTP and Opus on loopback. Alice sends a 440 Hz tone, Bob 660 Hz,
//! Carol silence; Carol's recordings of the two streams must carry those
//! frequencies; nobody gets their own stream back; a hang-up removes the
//! stream at the others; the room's participant limit refuses a caller.

use std::path::{Path, PathBuf};

use serde_json::Value;

use confab::media::analysis::wav_dominant_frequency;
use confab_testbed::component::Link;
use confab_testbed::sfu;

use crate::common::*;

pub(crate) const SFU: &str = "sfu.localhost";
const SECRET: &str = "sfu-secret";

pub(crate) fn server_with_sfu(users: &[&str], max_participants: usize) -> Prosody {
    let opts = users
        .iter()
        .fold(ProsodyOptions::new(), |o, u| o.account(*u, password_of(u)))
        .component(SFU, SECRET);
    let server = Prosody::start(opts).unwrap_or_else(|e| panic!("Prosody: {e}"));
    let port = server.component_port();
    let mut opts = sfu::Options::new(SFU);
    opts.max_participants = max_participants;
    run_peer(async move {
        if let Err(e) = sfu::run(&Link::new(port, SECRET), opts).await {
            eprintln!("sfu ended: {e}");
        }
    });
    server
}

/// A client whose calls send `audio_in` and record what arrives in `dir`.
pub(crate) fn caller(server: &Prosody, user: &str, audio_in: &str, home: &Path) -> Client {
    let rec = home.join("received");
    let mut c = Client::start_in(
        server,
        user,
        home,
        &[
            "--audio-in",
            audio_in,
            "--audio-out",
            "null",
            "--audio-out-dir",
            rec.to_str().expect("utf-8 path"),
            "--rtc-bind",
            "127.0.0.1:0",
        ],
    );
    c.connected();
    c
}

pub(crate) fn entity(user: &str) -> String {
    format!("xmpp:{user}@localhost")
}

fn stream_event(v: &Value, who: &str, state: &str) -> bool {
    v["event"] == "stream" && v["entity"] == entity(who) && v["state"] == state
}

/// Waits until `c` has seen `n` more level reports of `who`'s stream with
/// sound in them (four a second at most): audio has been flowing that long.
/// (`expect`, not `event`: `event` would find the same first report `n`
/// times.)
pub(crate) fn heard(c: &mut Client, who: &str, n: usize) {
    for _ in 0..n {
        c.expect(&format!("sound from {who}"), |v| {
            v["event"] == "audio-level"
                && v["entity"] == entity(who)
                && v["level"].as_f64().unwrap_or(0.0) > 0.05
        });
    }
}

/// The recording at `path` holds at least `secs` of sound (not just the
/// first packets).
fn at_least_seconds(path: &Path, secs: f32) {
    let (samples, rate) =
        confab::media::wav::read_mono(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let loud = samples.iter().filter(|x| x.abs() > 0.05).count() as f32 / rate as f32;
    assert!(
        loud >= secs * 0.5,
        "{}: only {loud:.2} s of sound (expected {secs} s of a sine)",
        path.display()
    );
}

fn recording(home: &Path, who: &str) -> PathBuf {
    home.join("received").join(format!("{who}@localhost.wav"))
}

#[test]
fn three_callers_hear_each_other_never_themselves() {
    let server = server_with_sfu(&["alice", "bob", "carol"], 0);
    let room = format!("standup@{SFU}");
    let homes: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut alice = caller(&server, "alice", "tone:440", homes[0].path());
    let mut bob = caller(&server, "bob", "tone:660", homes[1].path());
    let mut carol = caller(&server, "carol", "null", homes[2].path());

    for c in [&mut alice, &mut bob, &mut carol] {
        c.ok(&format!("/call {room}"));
        c.event("call connected", |v| {
            v["event"] == "call" && v["state"] == "connected" && v["jid"] == room.as_str()
        });
    }
    // Carol gets both others' streams, labelled with their entities.
    carol.event("alice's stream", |v| stream_event(v, "alice", "added"));
    carol.event("bob's stream", |v| stream_event(v, "bob", "added"));
    alice.event("bob's stream", |v| stream_event(v, "bob", "added"));
    alice.event("carol's stream", |v| stream_event(v, "carol", "added"));
    bob.event("alice's stream", |v| stream_event(v, "alice", "added"));

    // Two seconds and more of each tone at Carol.
    heard(&mut carol, "alice", 8);
    heard(&mut carol, "bob", 8);
    heard(&mut alice, "bob", 2);
    // Carol sends silence: her stream's levels reach Alice, and they are
    // never loud and never "speaking" (the panel shows no marker for her).
    for _ in 0..4 {
        alice.expect("a level of carol's stream", |v| {
            v["event"] == "audio-level" && v["entity"] == entity("carol")
        });
    }
    let carol_levels: Vec<&Value> = alice
        .events
        .iter()
        .filter(|v| v["event"] == "audio-level" && v["entity"] == entity("carol"))
        .collect();
    assert!(
        carol_levels
            .iter()
            .all(|v| v["speaking"] == false && v["level"].as_f64().unwrap_or(1.0) < 0.05),
        "carol's silence: {carol_levels:?}"
    );

    // Alice hangs up: the others lose her stream.
    alice.ok("/hangup");
    alice.event("call ended", |v| {
        v["event"] == "call" && v["state"] == "ended"
    });
    carol.event("alice's stream gone", |v| {
        stream_event(v, "alice", "removed")
    });
    bob.event("alice's stream gone", |v| {
        stream_event(v, "alice", "removed")
    });
    assert!(
        !alice.saw(|v| v["event"] == "stream" && v["entity"] == entity("alice")),
        "alice never receives her own stream"
    );
    assert!(!bob.saw(|v| v["event"] == "stream" && v["entity"] == entity("bob")));
    assert!(!carol.saw(|v| v["event"] == "stream" && v["entity"] == entity("carol")));

    // Carol leaves; her recordings are complete once she has quit.
    carol.send("/quit");
    assert_eq!(carol.finish(), 0);
    for (who, hz) in [("alice", 440.0), ("bob", 660.0)] {
        let path = recording(homes[2].path(), who);
        at_least_seconds(&path, 1.5);
        let f = wav_dominant_frequency(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .unwrap_or_else(|| panic!("{}: no tone in it", path.display()));
        eprintln!("{who}'s stream recorded at carol: {f:.1} Hz (sent {hz} Hz)");
        assert!(
            (f - hz).abs() <= 5.0,
            "{who}'s stream at carol: {f:.1} Hz, sent {hz} Hz"
        );
    }
    bob.send("/quit");
    assert_eq!(bob.finish(), 0);
    alice.send("/quit");
    assert_eq!(alice.finish(), 0);
}

/// One second of a `hz` sine at −6 dBFS as a 16-bit WAV of `rate` Hz and
/// `channels` channels (a whole number of periods, so it loops cleanly).
fn tone_wav(path: &Path, hz: f32, rate: u32, channels: u16) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for i in 0..rate {
        let t = i as f32 / rate as f32;
        let v = ((t * hz * std::f32::consts::TAU).sin() * 16_384.0) as i16;
        for _ in 0..channels {
            w.write_sample(v).expect("sample");
        }
    }
    w.finalize().expect("wav written");
}

#[test]
fn a_wav_file_goes_through_a_whole_call_and_devices_are_listed() {
    let server = server_with_sfu(&["alice", "bob"], 0);
    let room = format!("wav@{SFU}");
    let homes: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    // 44.1 kHz stereo: mixed down and resampled to 48 kHz mono on the way.
    let wav = homes[0].path().join("in.wav");
    tone_wav(&wav, 500.0, 44_100, 2);
    let mut alice = caller(
        &server,
        "alice",
        &format!("file:{}", wav.display()),
        homes[0].path(),
    );
    let mix = homes[1].path().join("mix.wav");
    let rec = homes[1].path().join("received");
    let mut bob = Client::start_in(
        &server,
        "bob",
        homes[1].path(),
        &[
            "--audio-in",
            "null",
            "--audio-out",
            &format!("file:{}", mix.display()),
            "--audio-out-dir",
            rec.to_str().expect("utf-8 path"),
            "--rtc-bind",
            "127.0.0.1:0",
        ],
    );
    bob.connected();

    // /devices answers with a listing (the host's; maybe no card at all).
    bob.ok("/devices");
    let listing = bob
        .find(|v| v["event"] == "info")
        .expect("a device listing");
    let text = listing["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("Audio devices (")
            && text.contains("Inputs:")
            && text.contains("Outputs:"),
        "{listing}"
    );

    for c in [&mut alice, &mut bob] {
        c.ok(&format!("/call {room}"));
    }
    bob.event("alice's stream", |v| stream_event(v, "alice", "added"));
    heard(&mut bob, "alice", 8);
    // Deafened: the speaker (here the mix file) gets silence, while the
    // stream is still received, metered and recorded.
    bob.ok("/deafen");
    heard(&mut bob, "alice", 5);
    bob.send("/quit");
    assert_eq!(bob.finish(), 0);
    let tail = |path: &Path| {
        let (samples, rate) = confab::media::wav::read_mono(path).unwrap();
        let n = (rate as usize * 4) / 10;
        samples[samples.len().saturating_sub(n)..]
            .iter()
            .fold(0f32, |m, x| m.max(x.abs()))
    };
    assert!(tail(&mix) < 0.01, "the mix is silent once deafened");
    assert!(
        tail(&rec.join("alice@localhost.wav")) > 0.1,
        "the stream's recording goes on"
    );
    for path in [mix, rec.join("alice@localhost.wav")] {
        at_least_seconds(&path, 1.5);
        let f = wav_dominant_frequency(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .unwrap_or_else(|| panic!("{}: no tone in it", path.display()));
        eprintln!(
            "{}: {f:.1} Hz (sent 500 Hz from a WAV file)",
            path.display()
        );
        assert!((f - 500.0).abs() <= 5.0, "{}: {f:.1} Hz", path.display());
    }
    alice.send("/quit");
    assert_eq!(alice.finish(), 0);
}

#[test]
fn a_wav_input_that_cannot_be_read_is_a_clear_error() {
    let server = server_with_sfu(&["alice"], 0);
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("missing.wav");
    let mut alice = caller(
        &server,
        "alice",
        &format!("file:{}", missing.display()),
        home.path(),
    );
    let e = alice.run(&format!("/call nowav@{SFU}"));
    assert_eq!(e["event"], "error", "{e}");
    let text = e["text"].as_str().unwrap_or_default();
    assert!(text.contains("missing.wav"), "the file is named: {e}");
    alice.event("call ended", |v| {
        v["event"] == "call" && v["state"] == "ended"
    });
}

#[test]
fn a_full_conference_refuses_a_caller_clearly() {
    let server = server_with_sfu(&["alice", "bob", "carol"], 0);
    let room = format!("small@{SFU}");
    let homes: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut alice = caller(&server, "alice", "null", homes[0].path());
    alice.ok(&format!("/callconfig {room} max-participants=2"));
    let mut bob = caller(&server, "bob", "null", homes[1].path());
    let mut carol = caller(&server, "carol", "null", homes[2].path());
    alice.ok(&format!("/call {room}"));
    bob.ok(&format!("/call {room}"));
    let refused = carol.run(&format!("/call {room}"));
    assert_eq!(refused["event"], "error", "{refused}");
    let text = refused["text"].as_str().unwrap_or_default().to_lowercase();
    assert!(text.contains("full"), "the reason is given: {refused}");
    carol.event("call ended", |v| {
        v["event"] == "call" && v["state"] == "ended"
    });
    assert!(!alice.saw(|v| stream_event(v, "carol", "added")));
}

#[test]
fn calling_something_that_is_not_an_av_conference_is_a_clear_error() {
    let server = server_with_sfu(&["alice"], 0);
    let mut alice = Client::online(&server, "alice");
    // A MUC room (text only).
    alice.ok("/join talk@conference.localhost");
    let e = alice.run("/call talk@conference.localhost");
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "feature-not-implemented", "{e}");
    assert!(
        e["text"]
            .as_str()
            .unwrap_or_default()
            .contains("not an audio/video conference"),
        "{e}"
    );
    assert!(!alice.saw(|v| v["event"] == "call"), "no call was started");
}

#[test]
fn a_text_room_is_linked_to_the_conference_of_its_name_at_the_call_service() {
    let server = server_with_sfu(&["alice", "bob"], 0);
    let mut bob = caller(
        &server,
        "bob",
        "tone:660",
        tempfile::tempdir().unwrap().path(),
    );
    bob.ok(&format!("/call talk@{SFU}"));

    // Without a call service, /call of a text room says how to link one.
    let mut alice = Client::online(&server, "alice");
    alice.ok("/join talk@conference.localhost");
    let e = alice.run("/call talk@conference.localhost");
    let text = e["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("is a text chat room") && text.contains("call_service"),
        "{e}"
    );

    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(
        &server,
        "alice",
        home.path(),
        &[
            "--call-service",
            SFU,
            "--audio-in",
            "null",
            "--audio-out",
            "null",
            "--rtc-bind",
            "127.0.0.1:0",
        ],
    );
    alice.connected();
    alice.ok("/join talk@conference.localhost");
    alice.ok("/call talk@conference.localhost");
    let linked = format!("talk@{SFU}");
    alice.event("the linked conference is named", |v| {
        v["event"] == "info"
            && v["text"]
                .as_str()
                .is_some_and(|t| t.contains(&format!("calling its A/V conference {linked}")))
    });
    alice.event("connected to the linked conference", |v| {
        v["event"] == "call" && v["state"] == "connected" && v["jid"] == linked.as_str()
    });
    alice.event("bob's stream there", |v| stream_event(v, "bob", "added"));
    bob.event("alice's stream", |v| stream_event(v, "alice", "added"));
}

#[test]
fn the_tui_call_panel_shows_streams_mute_and_the_notice() {
    let server = server_with_sfu(&["alice", "bob", "carol"], 0);
    let room = format!("panel@{SFU}");
    let bob_home = tempfile::tempdir().unwrap();
    let mut bob = caller(&server, "bob", "tone:660", bob_home.path());
    bob.ok(&format!("/call {room}"));
    // Carol sends silence: she is listed, never marked as speaking.
    let carol_home = tempfile::tempdir().unwrap();
    let mut carol = caller(&server, "carol", "null", carol_home.path());
    carol.ok(&format!("/call {room}"));

    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start_with(
        &server,
        "alice",
        home.path(),
        110,
        30,
        &[
            "--audio-in",
            "tone:440",
            "--audio-out",
            "null",
            "--rtc-bind",
            "127.0.0.1:0",
        ],
    );
    tmux.send(&[&format!("/call {room}"), "Enter"]);
    let s = tmux.wait_for("the call connected with bob speaking", |s| {
        s.contains(&format!("{room} · connected"))
            && s.contains("▶ ▮")
            && s.contains("bob@localhost")
    });
    assert!(s.contains("Not end-to-end encrypted"), "{s}");
    bob.event("alice's stream", |v| stream_event(v, "alice", "added"));

    tmux.send(&["/mute", "Enter"]);
    let s = tmux.wait_for("muted, carol listed", |s| {
        s.contains("mic MUTED") && s.contains("carol@localhost")
    });
    let carol_row = s
        .lines()
        .find(|l| l.contains("carol@localhost"))
        .expect("carol's row");
    assert!(
        !carol_row.contains('▶') && carol_row.contains("▯▯▯▯▯▯▯▯▯"),
        "carol's silence is not speaking: {carol_row:?}\n{s}"
    );
    assert!(
        !s.contains("xmpp:"),
        "xmpp: entities are shown as JIDs:\n{s}"
    );
    // F6 toggles the microphone; F7 (push-to-talk) toggles too where
    // the terminal reports no key releases (tmux).
    tmux.send(&["F6"]);
    tmux.wait_for("unmuted by F6", |s| {
        !s.contains("mic MUTED") && s.contains("microphone on")
    });
    tmux.send(&["F7"]);
    tmux.wait_for("muted by F7", |s| s.contains("mic MUTED"));
    tmux.send(&["/hangup", "Enter"]);
    tmux.wait_for("the panel gone", |s| {
        !s.contains("Not end-to-end encrypted")
    });
    bob.event("alice's stream gone", |v| {
        stream_event(v, "alice", "removed")
    });
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
}

#[test]
fn a_microphone_that_cannot_be_opened_is_a_clear_error_and_alsa_stays_off_the_screen() {
    let server = server_with_sfu(&["alice"], 0);
    let room = format!("nomic@{SFU}");
    // Opening it enumerates the sound devices (ALSA prints to stderr while
    // probing a machine without a sound card).
    let no_mic = [
        "--audio-in",
        "device:no-such-microphone",
        "--audio-out",
        "null",
    ];
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&server, "alice", home.path(), &no_mic);
    alice.connected();
    let e = alice.run(&format!("/call {room}"));
    assert_eq!(e["event"], "error", "{e}");
    let text = e["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("microphone") && text.contains("no-such-microphone"),
        "/call says why: {e}"
    );
    alice.event("call ended", |v| {
        v["event"] == "call" && v["state"] == "ended"
    });
    assert!(!alice.saw(|v| v["event"] == "call" && v["state"] == "connected"));

    let tui_home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start_with(&server, "alice", tui_home.path(), 100, 24, &no_mic);
    // OMEMO's one publication notice comes first (it would replace the
    // error on the status line).
    tmux.wait_for("OMEMO's publication", |s| s.contains("published"));
    tmux.send(&[&format!("/call {room}"), "Enter"]);
    let s = tmux.wait_for("the error in the status line", |s| {
        s.contains("service-unavailable (no microphone")
    });
    assert!(
        !s.contains("ALSA"),
        "ALSA's own messages reached the screen:\n{s}"
    );
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
}

/// A Prosody with the SFU served here, on a loop that also reports every
/// Jingle session-terminate the SFU receives: (sender, reason).
fn server_with_tapped_sfu(
    users: &[&str],
) -> (Prosody, std::sync::mpsc::Receiver<(String, String)>) {
    use confab::protocol::{jingle, ns};
    use confab_testbed::component::ComponentStream;
    let opts = users
        .iter()
        .fold(ProsodyOptions::new(), |o, u| o.account(*u, password_of(u)))
        .component(SFU, SECRET);
    let server = Prosody::start(opts).unwrap_or_else(|e| panic!("Prosody: {e}"));
    let port = server.component_port();
    let (tx, rx) = std::sync::mpsc::channel();
    run_peer(async move {
        let mut stream = ComponentStream::connect(port, SFU, SECRET)
            .await
            .expect("the SFU connects");
        let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let mut sfu = sfu::Sfu::new(sfu::Options::new(SFU), events_tx);
        loop {
            let out = tokio::select! {
                el = stream.next() => match el {
                    Some(el) => {
                        if let Some(j) = el.get_child("jingle", ns::JINGLE)
                            && let Ok(j) = jingle::parse(j)
                            && j.action == jingle::Action::SessionTerminate
                        {
                            let from = el.attr("from").unwrap_or_default().to_string();
                            let reason = j.reason.map(|r| r.condition).unwrap_or_default();
                            let _ = tx.send((from, reason));
                        }
                        sfu.on_stanza(&el).await
                    }
                    None => break,
                },
                Some((key, ev)) = events.recv() => sfu.on_rtc(key, ev).await,
            };
            for el in out {
                if stream.send(&el).await.is_err() {
                    return;
                }
            }
        }
    });
    (server, rx)
}

/// A speaker that cannot be opened refuses the streams the conference
/// forwards with `media-error` (XEP-0166 §7.4: media processing), not
/// `failed-transport` (that would blame the connection).
#[test]
fn a_stream_the_speaker_cannot_play_is_refused_with_media_error() {
    let (server, terminates) = server_with_tapped_sfu(&["alice", "bob"]);
    let room = format!("nospeaker@{SFU}");
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(
        &server,
        "alice",
        home.path(),
        &[
            "--audio-in",
            "null",
            "--audio-out",
            "device:no-such-speaker",
            "--rtc-bind",
            "127.0.0.1:0",
            "--keep-going",
        ],
    );
    alice.connected();
    let bob_home = tempfile::tempdir().unwrap();
    let mut bob = caller(&server, "bob", "null", bob_home.path());
    alice.ok(&format!("/call {room}"));
    bob.ok(&format!("/call {room}"));
    // Bob's stream reaches alice, whose speaker cannot open.
    let e = alice.event("the stream refused", |v| {
        v["event"] == "error"
            && v["text"]
                .as_str()
                .is_some_and(|t| t.contains("a stream of the call ended"))
    });
    assert!(
        e["text"]
            .as_str()
            .unwrap_or_default()
            .contains("no-such-speaker"),
        "the speaker is named: {e}"
    );
    let deadline = std::time::Instant::now() + LONG;
    let reason = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let (from, reason) = terminates
            .recv_timeout(left)
            .expect("alice's session-terminate reaches the SFU");
        if from.starts_with("alice@localhost/") {
            break reason;
        }
    };
    assert_eq!(reason, "media-error");
    // The call itself goes on.
    assert!(!alice.saw(|v| v["event"] == "call" && v["state"] == "ended"));
}
