//! One-to-one calls (XEP-0353 ringing, one two-way XEP-0167 session)
//! against an independent implementation: tests/peers/call_peer.py,
//! written from the XEPs with aiortc (ICE, DTLS-SRTP, Opus) and slixmpp,
//! run from the venv `scripts/ensure-deps test` makes (target/py, or
//! $CONFAB_PY_VENV). confab sends a 440 Hz tone, the peer 660 Hz; each
//! side's recording of the other must carry the other's tone. Also:
//! declining, calling off, a forged `proceed`, confab calling confab, and
//! a call riding out a short network drop.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use confab::media::analysis::{spectrum_peaks, tone_snr, trim_quiet};

use crate::common::*;

const DEADLINE: Duration = Duration::from_secs(30);

fn python() -> PathBuf {
    let venv = std::env::var_os("CONFAB_PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: `scripts/ensure-deps test` installs the test peers",
        python.display()
    );
    python
}

/// The aiortc peer, logged in as `user`.
struct CallPeer {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
    seen: Vec<Value>,
}

impl CallPeer {
    /// `on_propose`: `accept`, `reject` or `ring`.
    fn start(
        server: &dyn TestServer,
        user: &str,
        hz: u32,
        record: &Path,
        on_propose: &str,
    ) -> CallPeer {
        let mut child = Command::new(python())
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/call_peer.py"))
            .arg(server.jid(user))
            .arg(password_of(user))
            .arg(server.c2s_port().to_string())
            .arg(server.ca_file())
            .arg(hz.to_string())
            .arg(record)
            .arg(on_propose)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the call peer starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && tx.send(v).is_err()
                {
                    break;
                }
            }
        });
        let mut peer = CallPeer {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        };
        peer.event("ready", |v| v["event"] == "ready");
        peer
    }

    /// The first event (seen or to come) that `pred` accepts.
    fn event(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                Err(_) => panic!("call peer: no {what}; got {:?}", self.seen),
            }
        }
    }

    fn saw(&self, pred: impl Fn(&Value) -> bool) -> bool {
        self.seen.iter().any(pred)
    }

    fn command(&mut self, cmd: Value) {
        writeln!(self.stdin, "{cmd}").unwrap();
        self.stdin.flush().unwrap();
    }
}

impl Drop for CallPeer {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"op": "quit"}));
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// confab as `user`, sending `audio_in`, each received stream recorded
/// under `home/received`.
fn confab(server: &dyn TestServer, user: &str, audio_in: &str, home: &Path) -> Client {
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

fn call_event(v: &Value, jid: &str, state: &str) -> bool {
    v["event"] == "call" && v["jid"] == jid && v["state"] == state
}

/// `n` more level reports with sound in them of `who`'s audio.
fn heard(c: &mut Client, who: &str, n: usize) {
    for _ in 0..n {
        c.expect(&format!("sound from {who}"), |v| {
            v["event"] == "audio-level"
                && v["entity"] == format!("xmpp:{who}")
                && v["level"].as_f64().unwrap_or(0.0) > 0.05
        });
    }
}

/// The recording at `path` holds `hz` as its strongest tone, for at least
/// a second, at an SNR of at least `min_db`.
fn has_tone(path: &Path, hz: f32, min_db: f32) {
    let (pcm, rate) =
        confab::media::wav::read_mono(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tone = trim_quiet(&pcm, 0.05);
    assert!(
        tone.len() > rate as usize,
        "{}: {} samples of sound",
        path.display(),
        tone.len()
    );
    let peaks = spectrum_peaks(tone, rate);
    assert!(
        peaks
            .first()
            .is_some_and(|p| (p.frequency - hz).abs() <= 3.0),
        "{}: {peaks:?}, sent {hz} Hz",
        path.display()
    );
    let snr = tone_snr(tone, rate, hz).expect("a tone");
    eprintln!(
        "{}: {hz} Hz at {snr:.1} dB SNR over {:.1} s",
        path.display(),
        tone.len() as f32 / rate as f32
    );
    assert!(snr >= min_db, "{}: SNR {snr:.1} dB", path.display());
}

/// The peer's recording, once its call is over.
fn peer_recording(peer: &mut CallPeer) -> PathBuf {
    let r = peer.event("its recording", |v| v["event"] == "recorded");
    PathBuf::from(r["path"].as_str().unwrap())
}

crate::on_both!(confab_calls_the_aiortc_peer);

/// confab rings the peer; a proceed forged by another account changes
/// nothing; the peer's own proceed starts the session with that resource;
/// both tones arrive.
fn confab_calls_the_aiortc_peer(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "mallory"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = confab(&*server, "alice", "tone:440", home.path());
    let mut bob = CallPeer::start(&*server, "bob", 660, &home.path().join("bob.wav"), "ring");
    let mut mallory = CallPeer::start(
        &*server,
        "mallory",
        880,
        &home.path().join("mallory.wav"),
        "ring",
    );

    alice.ok("/call bob@localhost");
    alice.event("proposed", |v| call_event(v, "bob@localhost", "proposed"));
    let propose = bob.event("the proposal", |v| v["event"] == "propose");
    let sid = propose["sid"].as_str().unwrap().to_string();
    let caller = propose["from"].as_str().unwrap().to_string();
    assert!(caller.starts_with("alice@localhost/"), "{propose}");
    assert!(sid.len() >= 32, "an unguessable id: {sid}");
    alice.event("ringing", |v| call_event(v, "bob@localhost", "ringing"));

    // Mallory knows the id (the worst case) and proceeds in bob's place.
    mallory.command(json!({"op": "jmi", "to": caller, "action": "proceed", "sid": sid}));
    mallory.event("forged proceed sent", |v| v["what"] == "proceed");
    bob.command(json!({"op": "proceed"}));
    bob.event("the session", |v| v["event"] == "session-initiate");
    alice.event("connected", |v| call_event(v, "bob@localhost", "connected"));
    bob.event("connected", |v| v["event"] == "connected");
    heard(&mut alice, "bob@localhost", 10);
    assert!(
        !mallory.saw(|v| v["event"] == "session-initiate"),
        "{:?}",
        mallory.seen
    );
    let connecting = alice
        .events
        .iter()
        .filter(|v| call_event(v, "bob@localhost", "connecting"))
        .count();
    assert_eq!(connecting, 1, "one session, with bob");

    alice.ok("/hangup");
    alice.event("ended", |v| call_event(v, "bob@localhost", "ended"));
    bob.event("terminated", |v| v["event"] == "session-terminate");
    bob.event("finished", |v| v["event"] == "finish");
    let bob_heard = peer_recording(&mut bob);
    alice.send("/quit");
    assert_eq!(alice.finish(), 0);
    has_tone(&bob_heard, 440.0, 15.0);
    has_tone(&home.path().join("received/bob@localhost.wav"), 660.0, 15.0);
}

crate::on_both!(a_call_rides_out_a_short_network_drop);

/// The peer's network drops for 12 s (every datagram of its ICE sockets,
/// both ways, past webrtc-rs' 5 s disconnected timeout and before its
/// 25 s failed one): confab's call goes `reconnecting`, then `connected`
/// again on the same session, never ends, and the audio flows both ways
/// again — the peer's recording after the drop holds confab's tone.
fn a_call_rides_out_a_short_network_drop(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = confab(&*server, "alice", "tone:440", home.path());
    let mut bob = CallPeer::start(&*server, "bob", 660, &home.path().join("bob.wav"), "accept");
    alice.ok("/call bob@localhost");
    alice.event("connected", |v| call_event(v, "bob@localhost", "connected"));
    bob.event("connected", |v| v["event"] == "connected");
    heard(&mut alice, "bob@localhost", 5);

    bob.command(json!({"op": "cut", "seconds": 12}));
    bob.event("the cut", |v| v["event"] == "cut");
    alice.expect("reconnecting", |v| {
        call_event(v, "bob@localhost", "reconnecting")
    });
    let dropped = Instant::now();
    alice.expect("connected again", |v| {
        call_event(v, "bob@localhost", "connected")
    });
    bob.event("the end of the cut", |v| v["event"] == "uncut");
    eprintln!(
        "{kind}: back {:.1} s after reconnecting",
        dropped.elapsed().as_secs_f32()
    );
    heard(&mut alice, "bob@localhost", 10);

    alice.ok("/hangup");
    alice.event("ended", |v| call_event(v, "bob@localhost", "ended"));
    let ended: Vec<&Value> = alice
        .events
        .iter()
        .filter(|v| call_event(v, "bob@localhost", "ended"))
        .collect();
    assert_eq!(ended.len(), 1, "ended once, by the hangup: {ended:?}");
    assert_eq!(ended[0]["reason"], "hung up", "{}", ended[0]);
    let sessions = alice
        .events
        .iter()
        .filter(|v| call_event(v, "bob@localhost", "connecting"))
        .count();
    assert_eq!(sessions, 1, "the same session throughout");
    let bob_heard = peer_recording(&mut bob);
    alice.send("/quit");
    assert_eq!(alice.finish(), 0);
    // Recorded after the drop only.
    has_tone(&bob_heard, 440.0, 15.0);
}

crate::on_both!(the_aiortc_peer_calls_confab);

/// The peer rings confab; `/answer` takes the call; the peer hangs up.
fn the_aiortc_peer_calls_confab(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = confab(&*server, "alice", "tone:440", home.path());
    let mut bob = CallPeer::start(&*server, "bob", 660, &home.path().join("bob.wav"), "ring");

    bob.command(json!({"op": "call", "to": "alice@localhost"}));
    alice.event("the call", |v| call_event(v, "bob@localhost", "incoming"));
    bob.event("ringing", |v| v["event"] == "ringing");
    alice.ok("/answer");
    bob.event("proceed", |v| v["event"] == "proceed");
    alice.event("connected", |v| call_event(v, "bob@localhost", "connected"));
    bob.event("connected", |v| v["event"] == "connected");
    heard(&mut alice, "bob@localhost", 10);

    bob.command(json!({"op": "hangup"}));
    alice.event("ended", |v| call_event(v, "bob@localhost", "ended"));
    let bob_heard = peer_recording(&mut bob);
    alice.send("/quit");
    assert_eq!(alice.finish(), 0);
    has_tone(&bob_heard, 440.0, 15.0);
    has_tone(&home.path().join("received/bob@localhost.wav"), 660.0, 15.0);
}

crate::on_both!(declined_and_called_off);

/// Both ways: a call declined, and one called off while it rings.
fn declined_and_called_off(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = confab(&*server, "alice", "tone:440", home.path());
    let mut bob = CallPeer::start(&*server, "bob", 660, &home.path().join("bob.wav"), "reject");
    let mut carol = CallPeer::start(
        &*server,
        "carol",
        660,
        &home.path().join("carol.wav"),
        "ring",
    );

    // confab → a peer that declines.
    alice.ok("/call bob@localhost");
    let ended = alice.event("declined", |v| call_event(v, "bob@localhost", "ended"));
    assert!(
        ended["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("declined"),
        "{ended}"
    );
    assert!(!alice.saw(|v| call_event(v, "bob@localhost", "connecting")));
    bob.event("the proposal it declined", |v| v["event"] == "propose");

    // confab → a peer that rings; confab hangs up first.
    alice.ok("/call carol@localhost");
    alice.event("ringing", |v| call_event(v, "carol@localhost", "ringing"));
    alice.ok("/hangup");
    carol.event("retracted", |v| v["event"] == "retract");
    alice.event("ended", |v| call_event(v, "carol@localhost", "ended"));

    // A peer → confab, declined.
    carol.command(json!({"op": "call", "to": "alice@localhost"}));
    alice.event("carol calls", |v| {
        call_event(v, "carol@localhost", "incoming")
    });
    alice.ok("/reject");
    carol.event("rejected", |v| v["event"] == "reject");

    // A peer → confab, called off while it rings.
    carol.command(json!({"op": "call", "to": "alice@localhost"}));
    alice.expect("carol calls again", |v| {
        call_event(v, "carol@localhost", "incoming")
    });
    carol.command(json!({"op": "retract"}));
    let off = alice.expect("called off", |v| call_event(v, "carol@localhost", "ended"));
    assert!(
        off["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("called off"),
        "{off}"
    );
    // Nothing rings any more.
    let e = alice.run("/answer");
    assert_eq!(e["event"], "error", "{e}");
}

crate::on_both!(confab_calls_confab);

fn confab_calls_confab(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let homes: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut alice = confab(&*server, "alice", "tone:440", homes[0].path());
    let mut bob = confab(&*server, "bob", "tone:660", homes[1].path());
    alice.ok("/call bob@localhost");
    bob.event("alice calls", |v| {
        call_event(v, "alice@localhost", "incoming")
    });
    alice.event("ringing", |v| call_event(v, "bob@localhost", "ringing"));
    bob.ok("/answer");
    alice.event("connected", |v| call_event(v, "bob@localhost", "connected"));
    bob.event("connected", |v| {
        call_event(v, "alice@localhost", "connected")
    });
    heard(&mut alice, "bob@localhost", 10);
    heard(&mut bob, "alice@localhost", 10);
    bob.ok("/hangup");
    alice.event("ended", |v| call_event(v, "bob@localhost", "ended"));
    for c in [&mut alice, &mut bob] {
        c.send("/quit");
        assert_eq!(c.finish(), 0);
    }
    has_tone(
        &homes[0].path().join("received/bob@localhost.wav"),
        660.0,
        15.0,
    );
    has_tone(
        &homes[1].path().join("received/alice@localhost.wav"),
        440.0,
        15.0,
    );
}

crate::on_both!(a_call_that_rang_while_offline_is_a_missed_call);

/// The server stores a proposal for an offline account (the `<store/>`
/// hint): when confab comes online it says it missed the call, and
/// nothing rings.
fn a_call_that_rang_while_offline_is_a_missed_call(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut bob = CallPeer::start(&*server, "bob", 660, &home.path().join("bob.wav"), "ring");
    bob.command(json!({"op": "call", "to": "alice@localhost"}));
    bob.event("proposed", |v| v["event"] == "proposed");
    // Bob's own echo of a message to alice arrives after the proposal
    // was stored: a fence, no sleep.
    bob.command(json!({"op": "jmi", "to": "bob@localhost", "action": "finish", "sid": "fence"}));
    bob.event("the fence", |v| {
        v["event"] == "finish" && v["sid"] == "fence"
    });
    let mut alice = confab(&*server, "alice", "tone:440", home.path());
    alice.event("a missed call", |v| {
        v["event"] == "info" && v["text"] == "missed call from bob@localhost"
    });
    assert!(!alice.saw(|v| v["event"] == "call"), "{:?}", alice.events);
    let e = alice.run("/answer");
    assert_eq!(e["event"], "error", "{e}");
}

/// In the TUI: the call from the peer is a prompt; Enter answers, the
/// panel shows the one-to-one call; the next call, Esc declines.
#[test]
fn the_tui_prompts_a_call_enter_answers_esc_declines() {
    let server = server_with(ServerKind::Prosody, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut bob = CallPeer::start(&*server, "bob", 660, &home.path().join("bob.wav"), "ring");
    let tmux = Tmux::start_with(
        &*server,
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
    tmux.wait_for("online", |s| s.contains("alice@localhost"));
    bob.command(json!({"op": "call", "to": "alice@localhost"}));
    tmux.wait_for("the prompt", |s| {
        s.contains("bob@localhost is calling you") && s.contains("Enter to answer, Esc to decline")
    });
    tmux.send(&["Enter"]);
    let s = tmux.wait_for("the call connected", |s| {
        s.contains("bob@localhost · connected") && s.contains("▶ ▮")
    });
    assert!(s.contains("One-to-one: DTLS-SRTP"), "{s}");
    bob.event("connected", |v| v["event"] == "connected");
    bob.command(json!({"op": "hangup"}));
    tmux.wait_for("the panel gone", |s| !s.contains("One-to-one: DTLS-SRTP"));

    bob.command(json!({"op": "call", "to": "alice@localhost"}));
    tmux.wait_for("the prompt again", |s| {
        s.contains("bob@localhost is calling you")
    });
    tmux.send(&["Escape"]);
    bob.event("declined", |v| v["event"] == "reject");
    tmux.wait_for("the prompt gone", |s| !s.contains("is calling you"));
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
}
