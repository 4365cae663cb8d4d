//! confab against an independent OMEMO client over XMPP: slixmpp with
//! slixmpp-omemo 2.2 (python-omemo, -oldmemo, -twomemo), run by
//! tests/peers/omemo_xmpp_peer.py from the venv `scripts/ensure-deps test`
//! makes (target/py, or $CONFAB_PY_VENV), logged in to the same testbed
//! server and checking its certificate against the test CA. slixmpp-omemo
//! sends OMEMO 0.3 only; the peer here publishes no OMEMO 2 device list
//! (`0.3` mode), so confab speaks 0.3 to it too (OMEMO 2: `omemo_v2.rs`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::*;

const DEADLINE: Duration = Duration::from_secs(30);

pub(crate) fn python() -> PathBuf {
    let venv = std::env::var_os("CONFAB_PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: `scripts/ensure-deps test` installs the OMEMO test peers",
        python.display()
    );
    python
}

pub(crate) struct SlixPeer {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
    pub(crate) seen: Vec<Value>,
}

/// Which OMEMO versions the peer publishes.
#[derive(Clone, Copy)]
pub(crate) enum Publishes {
    /// 0.3 only (its OMEMO 2 device list removed).
    Legacy,
    /// OMEMO 2 and 0.3, as slixmpp-omemo does.
    Both,
}

impl SlixPeer {
    pub(crate) fn start(server: &dyn TestServer, user: &str) -> SlixPeer {
        SlixPeer::start_with(server, user, Publishes::Legacy)
    }

    pub(crate) fn start_with(
        server: &dyn TestServer,
        user: &str,
        publishes: Publishes,
    ) -> SlixPeer {
        let mut child = Command::new(python())
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/omemo_xmpp_peer.py"))
            .arg(server.jid(user))
            .arg(password_of(user))
            .arg(server.c2s_port().to_string())
            .arg(server.ca_file())
            .arg(match publishes {
                Publishes::Legacy => "0.3",
                Publishes::Both => "both",
            })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the slixmpp peer starts");
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
        SlixPeer {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    pub(crate) fn event(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.event_after(0, what, pred)
    }

    /// The first event from index `from` on that `pred` accepts.
    fn event_after(&mut self, from: usize, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().skip(from).find(|v| pred(v)) {
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
                Err(_) => panic!("slixmpp peer: no {what}; got {:?}", self.seen),
            }
        }
    }

    fn send(&mut self, to: &str, text: &str) {
        self.command(json!({"op": "send", "to": to, "text": text}));
    }

    /// A command; returns once the peer says it is sent.
    pub(crate) fn command(&mut self, cmd: Value) {
        self.request(cmd, "sent");
    }

    /// A command; returns the peer's answer, an `answer` event.
    pub(crate) fn request(&mut self, cmd: Value, answer: &str) -> Value {
        let from = self.seen.len();
        writeln!(self.stdin, "{cmd}").unwrap();
        self.stdin.flush().unwrap();
        let v = self.event_after(from, answer, |v| {
            v["event"] == answer || v["event"] == "error"
        });
        assert_eq!(v["event"], answer, "{v}");
        v
    }
}

impl Drop for SlixPeer {
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

crate::on_both!(confab_and_slixmpp_omemo_both_ways);

fn confab_and_slixmpp_omemo_both_ways(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, alice_dev) = super::omemo::ready(&*server, "alice", home.path());
    let mut bob = SlixPeer::start(&*server, "bob");
    let ready = bob.event("ready", |v| v["event"] == "ready");
    let bob_dev = ready["device"].as_u64().unwrap();

    // confab → slixmpp-omemo: a key exchange it accepts.
    alice.ok("/omemo on bob@localhost");
    alice.ok("/msg bob@localhost first from confab");
    let m = bob.event("confab's message", |v| {
        v["event"] == "message" && v["body"] == "first from confab"
    });
    assert_eq!(m["encrypted"], true, "{m}");
    assert_eq!(m["version"], "0.3", "{m}");
    assert_eq!(m["device"], alice_dev, "{m}");

    // slixmpp-omemo → confab, on that session.
    bob.send("alice@localhost", "first from slixmpp");
    let m = super::omemo::message_with(&mut alice, "first from slixmpp");
    assert_eq!(m["encrypted"]["version"], "0.3", "{m}");
    assert_eq!(m["encrypted"]["device"], bob_dev, "{m}");
    assert_eq!(m["encrypted"]["trusted"], true, "{m}");

    // And on, both ratchets moving.
    alice.ok("/msg bob@localhost second from confab");
    bob.event("confab's second", |v| {
        v["event"] == "message" && v["body"] == "second from confab"
    });
    bob.send("alice@localhost", "second from slixmpp");
    super::omemo::message_with(&mut alice, "second from slixmpp");
    assert!(
        !bob.seen.iter().any(|v| v["event"] == "error"),
        "{:?}",
        bob.seen
    );
    assert!(!alice.saw(|v| v["event"] == "error"), "{:?}", alice.events);
}

crate::on_both!(slixmpp_omemo_starts_the_session);

/// slixmpp-omemo builds the session from confab's bundle (confab answers a
/// key exchange, its prekey replaced and republished).
fn slixmpp_omemo_starts_the_session(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, _) = super::omemo::ready(&*server, "alice", home.path());
    let mut bob = SlixPeer::start(&*server, "bob");
    let bob_dev = bob.event("ready", |v| v["event"] == "ready")["device"]
        .as_u64()
        .unwrap();
    bob.send("alice@localhost", "hello confab");
    let m = super::omemo::message_with(&mut alice, "hello confab");
    assert_eq!(m["encrypted"]["device"], bob_dev, "{m}");
    alice.ok("/omemo on bob@localhost");
    alice.ok("/msg bob@localhost hello slixmpp");
    let m = bob.event("confab's answer", |v| {
        v["event"] == "message" && v["body"] == "hello slixmpp"
    });
    assert_eq!(m["encrypted"], true, "{m}");
}

crate::on_both!(tampered_and_replayed_messages);

/// A message with a flipped payload byte is refused with a clear event and
/// shown only marked as not decrypted; a replayed copy is not shown twice.
fn tampered_and_replayed_messages(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, _) = super::omemo::ready(&*server, "alice", home.path());
    let mut bob = SlixPeer::start(&*server, "bob");
    bob.event("ready", |v| v["event"] == "ready");
    bob.send("alice@localhost", "before");
    super::omemo::message_with(&mut alice, "before");

    bob.command(json!({"op": "send", "to": "alice@localhost", "text": "altered in transit", "tamper": true}));
    let e = alice.event("the refusal", |v| {
        v["event"] == "error"
            && v["text"]
                .as_str()
                .is_some_and(|t| t.contains("could not be decrypted"))
    });
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .contains("authentication failed"),
        "{e}"
    );
    let shown = alice.event("the marked fallback", |v| {
        v["event"] == "message" && v["encrypted"]["decrypted"] == false
    });
    assert!(
        shown["body"]
            .as_str()
            .unwrap()
            .starts_with("[not decrypted:"),
        "{shown}"
    );
    assert!(!alice.saw(|v| v["body"] == "altered in transit"));

    bob.command(
        json!({"op": "send", "to": "alice@localhost", "text": "said once", "replay": true}),
    );
    super::omemo::message_with(&mut alice, "said once");
    // A message after the replay: once it is shown, the replay was read.
    bob.send("alice@localhost", "after");
    super::omemo::message_with(&mut alice, "after");
    let n = alice
        .events
        .iter()
        .filter(|v| v["event"] == "message" && v["body"] == "said once")
        .count();
    assert_eq!(n, 1, "{:?}", alice.events);
}
