//! A conference call survives a network drop, on both servers: Alice's
//! media to and from the testbed SFU goes through the testbed's UDP relays
//! (`confab_testbed::impair`: every candidate either side signals is
//! replaced by a relay's address, so no path goes around them); the relays
//! are cut for longer than ICE's failed timeout (webrtc-rs: 25 s), Alice's
//! call goes `reconnecting`, re-joins the conference (her dead sessions
//! terminated with `failed-transport`, a new session-initiate), and is
//! `connected` again — the same call. Bob, listening, gets her stream
//! anew, and his recording of it holds her 440 Hz tone again; the SFU is
//! left with exactly the sessions of two participants.
//!
//! The same when Alice's XMPP stream is cut (`confab_testbed::Proxy`, the
//! servers without stream management: no resumption): the server tells the
//! SFU she is gone, and once she is back online the call re-joins. With
//! stream management the stream is resumed: the conference never saw her
//! go, and the call goes on as it was — no re-join, no stream ends.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use minidom::Element;
use serde_json::Value;

use confab::media::analysis::dominant_frequency;
use confab::protocol::{jingle, nc, ns};
use confab_testbed::component::ComponentStream;
use confab_testbed::impair::{Blackhole, Impairment, Relay};
use confab_testbed::sfu;

use crate::call::{SFU, entity, heard};
use crate::common::*;

const SECRET: &str = "sfu-secret";
/// How long the path is cut: past ICE's disconnected (5 s) and failed
/// (25 s) timeouts.
const DROP: Duration = Duration::from_secs(30);

/// What the SFU holds: (participants, forwarded sessions, webrtc
/// sessions) of every room.
type SfuState = (usize, usize, usize);

/// The SFU, served here: `relayed`'s media goes through relays cut by
/// `hole`; every session-terminate it receives is reported (sender,
/// reason); its state is answered on request.
struct TappedSfu {
    terminates: std::sync::mpsc::Receiver<(String, String)>,
    ask: tokio::sync::mpsc::UnboundedSender<std::sync::mpsc::Sender<SfuState>>,
}

impl TappedSfu {
    fn state(&self) -> SfuState {
        let (tx, rx) = std::sync::mpsc::channel();
        self.ask.send(tx).expect("the SFU runs");
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the SFU answers")
    }

    /// Waits until the SFU holds `want`.
    fn settles_at(&self, want: SfuState) {
        let until = Instant::now() + LONG;
        loop {
            let now = self.state();
            if now == want {
                return;
            }
            assert!(
                Instant::now() < until,
                "the SFU holds {now:?}, not {want:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Every UDP candidate in `el`'s Jingle payload now points at a relay
/// (one per real address, made on first sight) towards it.
async fn relay_candidates(
    el: &mut Element,
    relays: &mut HashMap<SocketAddr, Relay>,
    hole: &Blackhole,
) {
    let Some(j) = el.get_child_mut("jingle", ns::JINGLE) else {
        return;
    };
    for content in j.children_mut() {
        for transport in content.children_mut() {
            for cand in transport.children_mut().filter(|c| c.name() == "candidate") {
                let target = match (cand.attr("ip"), cand.attr("port")) {
                    (Some(ip), Some(port)) => format!("{ip}:{port}").parse::<SocketAddr>(),
                    _ => continue,
                };
                let Ok(target) = target else { continue };
                let addr = match relays.entry(target) {
                    Entry::Occupied(r) => r.get().addr,
                    Entry::Vacant(slot) => {
                        let r = Relay::start_with(target, Impairment::clean(), hole.clone())
                            .await
                            .expect("a relay");
                        slot.insert(r).addr
                    }
                };
                let none = || minidom::rxml::Namespace::NONE;
                cand.set_attr(none(), nc("ip"), addr.ip().to_string());
                cand.set_attr(none(), nc("port"), addr.port().to_string());
            }
        }
    }
}

/// `resume`: XEP-0198 resumption for that many seconds (else none).
fn server_with_relayed_sfu(
    kind: ServerKind,
    users: &[&str],
    relayed: &'static str,
    hole: Blackhole,
    resume: Option<u32>,
) -> (Box<dyn TestServer>, TappedSfu) {
    let server: Box<dyn TestServer> = match kind {
        ServerKind::Prosody => {
            let mut opts = users
                .iter()
                .fold(ProsodyOptions::new(), |o, u| o.account(*u, password_of(u)))
                .component(SFU, SECRET);
            if let Some(secs) = resume {
                opts.extra_modules.push("smacks".into());
                opts.extra_global_config
                    .push_str(&format!("smacks_hibernation_time = {secs}\n"));
            }
            Box::new(Prosody::start(opts).unwrap_or_else(|e| panic!("Prosody: {e}")))
        }
        ServerKind::Ejabberd => {
            let mut opts = users
                .iter()
                .fold(EjabberdOptions::new(), |o, u| o.account(*u, password_of(u)))
                .component(SFU, SECRET);
            if let Some(secs) = resume {
                opts.extra_modules
                    .push(format!("mod_stream_mgmt: {{resume_timeout: {secs}}}"));
            }
            Box::new(Ejabberd::start(opts).unwrap_or_else(|e| panic!("ejabberd: {e}")))
        }
    };
    let port = server.component_port();
    let (tx, terminates) = std::sync::mpsc::channel();
    let (ask, mut asked) =
        tokio::sync::mpsc::unbounded_channel::<std::sync::mpsc::Sender<SfuState>>();
    let prefix = format!("{relayed}/");
    run_peer(async move {
        let mut stream = ComponentStream::connect(port, SFU, SECRET)
            .await
            .expect("the SFU connects");
        let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let mut sfu = sfu::Sfu::new(sfu::Options::new(SFU), events_tx);
        let mut relays = HashMap::new();
        loop {
            let out = tokio::select! {
                el = stream.next() => match el {
                    Some(mut el) => {
                        let from = el.attr("from").unwrap_or_default().to_string();
                        if let Some(j) = el.get_child("jingle", ns::JINGLE)
                            && let Ok(j) = jingle::parse(j)
                            && j.action == jingle::Action::SessionTerminate
                        {
                            let reason = j.reason.map(|r| r.condition).unwrap_or_default();
                            let _ = tx.send((from.clone(), reason));
                        }
                        if from.starts_with(&prefix) {
                            relay_candidates(&mut el, &mut relays, &hole).await;
                        }
                        sfu.on_stanza(&el).await
                    }
                    None => break,
                },
                Some((key, ev)) = events.recv() => sfu.on_rtc(key, ev).await,
                Some(reply) = asked.recv() => {
                    let (p, f) = sfu.rooms().active().fold((0, 0), |(p, f), (_, r)| {
                        (p + r.participants.len(), f + r.forwards.len())
                    });
                    let _ = reply.send((p, f, sfu.session_count()));
                    Vec::new()
                }
            };
            for mut el in out {
                if el.attr("to").is_some_and(|t| t.starts_with(&prefix)) {
                    relay_candidates(&mut el, &mut relays, &hole).await;
                }
                if stream.send(&el).await.is_err() {
                    return;
                }
            }
        }
    });
    (server, TappedSfu { terminates, ask })
}

/// The options of a client sending `audio_in`, recording what arrives
/// in `rec`.
fn audio_args<'a>(audio_in: &'a str, rec: &'a Path) -> [&'a str; 8] {
    [
        "--audio-in",
        audio_in,
        "--audio-out",
        "null",
        "--audio-out-dir",
        rec.to_str().expect("utf-8 path"),
        "--rtc-bind",
        "127.0.0.1:0",
    ]
}

/// A client sending `audio_in`, recording what arrives in `home`/received.
fn caller(server: &dyn TestServer, user: &str, audio_in: &str, home: &Path) -> Client {
    let rec = home.join("received");
    let mut c = Client::start_in(server, user, home, &audio_args(audio_in, &rec));
    c.connected();
    c
}

/// Waits (up to `within`) for an event after those looked at.
fn within(c: &mut Client, what: &str, within: Duration, pred: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + within;
    let mut seen = c.events.len();
    loop {
        if let Some(v) = c.events[seen..].iter().find(|v| pred(v)) {
            return v.clone();
        }
        seen = c.events.len();
        assert!(
            Instant::now() < until,
            "{}: no {what} within {within:?}; got:\n{}",
            c.user,
            c.events
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        c.pump(Duration::from_millis(200));
    }
}

/// Waits until `c` has seen `n` level reports of `who`'s stream with
/// sound in them, among the events from now on.
fn heard_again(c: &mut Client, who: &str, n: usize) {
    let start = c.events.len();
    let until = Instant::now() + LONG;
    let loud = |v: &Value| {
        v["event"] == "audio-level"
            && v["entity"] == entity(who)
            && v["level"].as_f64().unwrap_or(0.0) > 0.05
    };
    loop {
        let have = c.events[start..].iter().filter(|v| loud(v)).count();
        if have >= n {
            return;
        }
        assert!(
            Instant::now() < until,
            "{}: {who} heard {have} times of {n}",
            c.user
        );
        c.pump(Duration::from_millis(200));
    }
}

/// A re-join: the call reconnecting, the reason saying which attempt.
fn rejoining(v: &Value) -> bool {
    call_state(v, "reconnecting")
        && v["reason"]
            .as_str()
            .is_some_and(|t| t.starts_with("re-joining (attempt "))
}

fn call_state(v: &Value, state: &str) -> bool {
    v["event"] == "call" && v["state"] == state
}

/// The dominant frequency of the sound in the WAV at `path` (silence
/// around it left out), and how many seconds of sound there are.
fn tone_of(path: &Path) -> (Option<f32>, f32) {
    let (samples, rate) =
        confab::media::wav::read_mono(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let loud: Vec<f32> = samples.iter().copied().filter(|x| x.abs() > 0.01).collect();
    let secs = loud.len() as f32 / rate as f32;
    // The last second of sound (a steady stretch of the tone).
    let tail = &samples[..samples
        .iter()
        .rposition(|x| x.abs() > 0.01)
        .map_or(0, |i| i + 1)];
    let n = (rate as usize).min(tail.len());
    (dominant_frequency(&tail[tail.len() - n..], rate), secs)
}

/// The name of the newest recording of `who`'s streams in `dir` (the
/// player names a stream's second file `who-2.wav`, and so on): each
/// re-join is a new stream.
fn last_recording(dir: &Path, who: &str) -> String {
    let n = std::fs::read_dir(dir)
        .expect("the recordings")
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let rest = name.strip_prefix(who)?.strip_suffix(".wav")?;
            match rest.strip_prefix('-') {
                Some(n) => n.parse::<u32>().ok(),
                None => rest.is_empty().then_some(1),
            }
        })
        .max()
        .expect("a recording");
    assert!(n >= 2, "a stream after the first");
    format!("{who}-{n}.wav")
}

crate::on_both!(a_conference_call_rejoins_after_a_network_drop);

fn a_conference_call_rejoins_after_a_network_drop(kind: ServerKind) {
    let hole = Blackhole::default();
    let (server, sfu) = server_with_relayed_sfu(
        kind,
        &["alice", "bob"],
        "alice@localhost",
        hole.clone(),
        None,
    );
    let server = &*server;
    let room = format!("drop@{SFU}");
    let homes: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut alice = caller(server, "alice", "tone:440", homes[0].path());
    let mut bob = caller(server, "bob", "null", homes[1].path());
    for c in [&mut alice, &mut bob] {
        c.ok(&format!("/call {room}"));
    }
    bob.event("alice's stream", |v| {
        v["event"] == "stream" && v["entity"] == entity("alice") && v["state"] == "added"
    });
    heard(&mut bob, "alice", 6);
    sfu.settles_at((2, 2, 4));

    // The drop: nothing passes between Alice and the SFU.
    let cut = Instant::now();
    hole.cut_for(DROP);
    within(&mut alice, "reconnecting", DROP, |v| {
        call_state(v, "reconnecting")
    });
    eprintln!("reconnecting after {:?}", cut.elapsed());
    let info = within(&mut alice, "a re-join", DROP, rejoining);
    eprintln!("{} after {:?}", info["reason"], cut.elapsed());
    // Back: connected again (the same call, never ended), Alice's stream
    // anew at Bob, with her tone.
    within(&mut alice, "connected again", DROP * 2, |v| {
        call_state(v, "connected")
    });
    let back = cut.elapsed();
    eprintln!("connected again after {back:?}");
    assert!(back >= DROP, "connected only once the path was back");
    let stream_again = within(&mut bob, "alice's stream again", LONG, |v| {
        v["event"] == "stream" && v["entity"] == entity("alice") && v["state"] == "added"
    });
    assert_eq!(stream_again["state"], "added");
    heard_again(&mut bob, "alice", 8);
    assert!(
        bob.saw(|v| v["event"] == "stream"
            && v["entity"] == entity("alice")
            && v["state"] == "removed"),
        "the dead stream was removed at bob"
    );
    assert!(
        !alice.saw(|v| call_state(v, "ended")),
        "alice's call went on"
    );
    assert!(!bob.saw(|v| call_state(v, "ended")), "bob's call went on");
    let states: Vec<&str> = alice
        .events
        .iter()
        .filter(|v| v["event"] == "call")
        .filter_map(|v| v["state"].as_str())
        .collect();
    eprintln!("alice's call: {states:?}");
    let attempts = alice.events.iter().filter(|v| rejoining(v)).count();
    eprintln!("re-joins: {attempts}");
    assert_eq!(states.first(), Some(&"connecting"));
    assert_eq!(states.last(), Some(&"connected"));
    assert!(
        states
            .windows(2)
            .any(|w| w == ["connected", "reconnecting"]),
        "{states:?}"
    );

    // Nothing dangles: two participants, their two forwards, four
    // webrtc sessions; Alice ended her dead session herself.
    sfu.settles_at((2, 2, 4));
    let terminates: Vec<(String, String)> = sfu.terminates.try_iter().collect();
    eprintln!("session-terminates at the SFU: {terminates:?}");
    assert!(
        terminates
            .iter()
            .any(|(from, reason)| from.starts_with("alice@localhost/")
                && reason == "failed-transport"),
        "{terminates:?}"
    );

    for c in [&mut bob, &mut alice] {
        c.send("/quit");
        assert_eq!(c.finish(), 0, "{}: no command failed", c.user);
    }
    // Bob's recordings: the tone before the drop, and again after it.
    let rec = homes[1].path().join("received");
    let last = last_recording(&rec, "alice@localhost");
    for name in ["alice@localhost.wav", last.as_str()] {
        let (f, secs) = tone_of(&rec.join(name));
        eprintln!("{name}: {f:?} Hz, {secs:.1} s of sound");
        assert!(secs >= 1.5, "{name}: {secs} s of sound");
        assert!(f.is_some_and(|f| (f - 440.0).abs() <= 5.0), "{name}: {f:?}");
    }
}

/// A conference call `room`: alice (sending 440 Hz, her XMPP stream
/// through `proxy`, her media relayed) and bob (directly, listening),
/// both in the call, bob hearing alice.
struct ProxiedCall {
    _server: Box<dyn TestServer>,
    sfu: TappedSfu,
    proxy: Proxy,
    homes: Vec<tempfile::TempDir>,
    alice: Client,
    bob: Client,
}

/// [`ProxiedCall`] on `kind`, the server resuming streams for
/// `resume` seconds (`None`: no stream management).
fn proxied_call(kind: ServerKind, room: &str, resume: Option<u32>) -> ProxiedCall {
    let hole = Blackhole::default();
    let (server, sfu) =
        server_with_relayed_sfu(kind, &["alice", "bob"], "alice@localhost", hole, resume);
    let room = format!("{room}@{SFU}");
    let homes: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let proxy = Proxy::start(([127, 0, 0, 1], server.c2s_port()).into()).expect("proxy");
    let rec = homes[0].path().join("received");
    let mut alice = Client::spawn_at(
        &server.jid("alice"),
        &proxy.addr(),
        Some(server.ca_file()),
        homes[0].path(),
        &audio_args("tone:440", &rec),
        &password_of("alice"),
    );
    alice.connected();
    let mut bob = caller(&*server, "bob", "null", homes[1].path());
    for c in [&mut alice, &mut bob] {
        c.ok(&format!("/call {room}"));
    }
    heard(&mut bob, "alice", 4);
    sfu.settles_at((2, 2, 4));
    ProxiedCall {
        _server: server,
        sfu,
        proxy,
        homes,
        alice,
        bob,
    }
}

crate::on_both!(a_conference_call_rejoins_after_its_xmpp_stream_comes_back_anew);

fn a_conference_call_rejoins_after_its_xmpp_stream_comes_back_anew(kind: ServerKind) {
    let ProxiedCall {
        _server,
        sfu,
        proxy,
        homes,
        mut alice,
        mut bob,
    } = proxied_call(kind, "anew", None);

    // The stream is cut (FIN): no resumption on these servers.
    proxy.cut();
    within(&mut alice, "reconnecting", LONG, |v| {
        call_state(v, "reconnecting")
    });
    within(&mut alice, "back online", LONG, |v| {
        v["event"] == "reconnected"
    });
    let info = within(&mut alice, "a re-join", LONG, rejoining);
    assert!(
        info["reason"]
            .as_str()
            .unwrap()
            .contains("without resumption"),
        "{info}"
    );
    within(&mut alice, "connected again", LONG, |v| {
        call_state(v, "connected")
    });
    within(&mut bob, "alice's stream again", LONG, |v| {
        v["event"] == "stream" && v["entity"] == entity("alice") && v["state"] == "added"
    });
    heard_again(&mut bob, "alice", 8);
    assert!(
        !alice.saw(|v| call_state(v, "ended")),
        "alice's call went on"
    );
    assert!(!bob.saw(|v| call_state(v, "ended")), "bob's call went on");
    sfu.settles_at((2, 2, 4));
    for c in [&mut bob, &mut alice] {
        c.send("/quit");
        assert_eq!(c.finish(), 0, "{}: no command failed", c.user);
    }
    let rec = homes[1].path().join("received");
    let (f, secs) = tone_of(&rec.join(last_recording(&rec, "alice@localhost")));
    eprintln!("after the re-join: {f:?} Hz, {secs:.1} s of sound");
    assert!(
        secs >= 1.5 && f.is_some_and(|f| (f - 440.0).abs() <= 5.0),
        "{f:?} {secs}"
    );
}

crate::on_both!(a_conference_call_goes_on_when_its_xmpp_stream_is_resumed);

fn a_conference_call_goes_on_when_its_xmpp_stream_is_resumed(kind: ServerKind) {
    let ProxiedCall {
        _server,
        sfu,
        proxy,
        homes: _homes,
        mut alice,
        mut bob,
    } = proxied_call(kind, "resumed", Some(60));

    proxy.cut();
    within(&mut alice, "reconnecting", LONG, |v| {
        call_state(v, "reconnecting")
    });
    within(&mut alice, "resumed", LONG, |v| v["event"] == "resumed");
    within(&mut alice, "connected again", LONG, |v| {
        call_state(v, "connected")
    });
    heard_again(&mut bob, "alice", 8);
    assert!(!alice.saw(rejoining), "a resumed stream needs no re-join");
    let ends =
        |v: &Value| call_state(v, "ended") || (v["event"] == "stream" && v["state"] == "removed");
    assert!(!alice.saw(ends), "nothing of alice's call ended");
    assert!(!bob.saw(ends), "nothing of bob's call ended");
    sfu.settles_at((2, 2, 4));
    for c in [&mut bob, &mut alice] {
        c.send("/quit");
        assert_eq!(c.finish(), 0, "{}: no command failed", c.user);
    }
}
