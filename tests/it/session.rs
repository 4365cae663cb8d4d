//! The session against a real Prosody: login errors, TLS verification,
//! reconnection with rejoin and the offline queue, one-to-one chat. The
//! tests made with `on_both!` also run on ejabberd.

use serde_json::Value;

use crate::common::*;

const ROOM: &str = "lair@conference.localhost";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

#[test]
fn wrong_password_is_a_clear_error_and_exit_1() {
    let server = prosody_with(&["alice"]);
    let home = tempfile::tempdir().unwrap();
    let mut c = Client::start_in_with_password(&server, "alice", home.path(), "not-the-password");
    let e = c.event("login error", |v| is(v, "error"));
    assert_eq!(e["condition"], "not-authorized", "{e}");
    assert!(e["text"].as_str().unwrap().contains("password"), "{e}");
    assert!(
        !e.to_string().contains("not-the-password"),
        "password leaked: {e}"
    );
    assert_eq!(c.exit_status(), 1);
    assert!(!c.saw(|v| is(v, "connected")));
    // It gave up at once: one attempt, no reconnect loop.
    assert!(!c.saw(|v| is(v, "reconnecting")));
}

crate::on_both!(unknown_certificate_authority_is_refused);

fn unknown_certificate_authority_is_refused(kind: ServerKind) {
    let server = server_with(kind, &["alice"]);
    let home = tempfile::tempdir().unwrap();
    // No --ca-file: the test CA is not trusted.
    let mut c = Client::start_in_without_ca(&*server, "alice", home.path());
    let e = c.event("certificate error", |v| is(v, "error"));
    assert_eq!(e["condition"], "bad-certificate", "{e}");
    assert!(e["text"].as_str().unwrap().contains("--ca-file"), "{e}");
    assert_eq!(c.exit_status(), 1);
}

crate::on_both!(one_to_one_chat);

fn one_to_one_chat(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::start(&*server, "alice");
    let mut bob = Client::start(&*server, "bob");
    alice.connected();
    let bob_jid = bob.connected()["jid"].as_str().unwrap().to_string();
    alice.ok(&format!("/msg {bob_jid} hi bob, direct"));
    let m = bob.event("direct message", |v| {
        is(v, "message") && v["body"] == "hi bob, direct"
    });
    assert!(
        m["from"].as_str().unwrap().starts_with("alice@localhost/"),
        "{m}"
    );
    assert!(m.get("room").is_none() && m.get("nick").is_none(), "{m}");
    assert_eq!(m["private"], false);
    let own = alice.event("own copy", |v| is(v, "message") && v["own"] == true);
    assert_eq!(own["from"], bob_jid.as_str());
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

crate::on_both!(a_character_xml_cannot_carry_is_refused_and_the_stream_kept);

fn a_character_xml_cannot_carry_is_refused_and_the_stream_kept(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &["--keep-going"]);
    let mut bob = Client::start(&*server, "bob");
    alice.connected();
    bob.connected();
    // ESC in a message, BEL in a status: XML has no way to write them.
    let line = "/msg bob@localhost \"clear \u{1b}[2Jscreen\"";
    let e = alice.run(line);
    assert_eq!(e["event"], "error", "{e}");
    let text = e["text"].as_str().unwrap_or_default();
    assert!(text.contains("U+001B cannot be sent"), "{e}");
    let e = alice.run("/status all away \"ring \u{7}\"");
    assert_eq!(e["event"], "error", "{e}");
    // The stream is still up, and what follows goes out.
    alice.ok("/msg bob@localhost after that");
    bob.event("the next message", |v| {
        is(v, "message") && v["body"] == "after that"
    });
    assert!(
        !alice.saw(|v| is(v, "disconnected") || is(v, "reconnecting")),
        "{:?}",
        alice.raw_lines()
    );
    assert!(
        !bob.saw(|v| is(v, "message") && v["body"].as_str().is_some_and(|b| b.contains("clear")))
    );
    assert_eq!(alice.finish(), 1, "two commands failed");
    assert_eq!(bob.finish(), 0);
}

#[test]
fn reconnects_rejoins_and_sends_what_was_queued() {
    let mut server = prosody_with(&["alice", "bob"]);
    let mut alice = Client::online(&server, "alice");
    let mut bob = Client::online(&server, "bob");
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    alice.ok(&format!("/wait occupant {ROOM} bob"));

    server.stop();
    alice.event("disconnected", |v| is(v, "disconnected"));
    bob.event("disconnected", |v| is(v, "disconnected"));

    // Given while offline: queued, sent once the room is rejoined.
    alice.send(&format!("/say {ROOM} written while the server was down"));
    server.restart().expect("prosody restarts");

    alice.event("reconnecting", |v| is(v, "reconnecting"));
    alice.event("reconnected", |v| is(v, "reconnected"));
    bob.event("reconnected", |v| is(v, "reconnected"));
    let j = alice.event("rejoined", |v| is(v, "joined") && v["rejoined"] == true);
    assert_eq!(j["room"], ROOM);
    bob.event("rejoined", |v| is(v, "joined") && v["rejoined"] == true);
    let r = alice.event("result of the queued /say", |v| {
        (is(v, "ok") || is(v, "error"))
            && v["command"].as_str().is_some_and(|c| c.starts_with("/say"))
    });
    assert_eq!(r["event"], "ok", "{r}");
    bob.ok(&format!(
        "/wait message {ROOM} --from alice --contains \"while the server was down\""
    ));

    // And the room works as before.
    bob.ok(&format!("/say {ROOM} back to normal"));
    alice.ok(&format!(
        "/wait message {ROOM} --from bob --contains normal"
    ));
    assert_eq!(bob.finish(), 0);
    assert_eq!(alice.finish(), 0);
}

crate::on_both!(message_for_a_dead_server_is_reported_failed_not_dropped);

fn message_for_a_dead_server_is_reported_failed_not_dropped(kind: ServerKind) {
    let mut server = server_with(kind, &["alice"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &["--outbox-ttl", "1"]);
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    server.stop();
    alice.event("disconnected", |v| is(v, "disconnected"));
    let r = alice.run(&format!("/say {ROOM} nobody will hear this"));
    assert_eq!(r["event"], "error", "{r}");
    assert_eq!(r["condition"], "recipient-unavailable", "{r}");
    assert_eq!(alice.exit_status(), 1);
}

#[test]
fn keepalive_pings_and_a_silent_server_is_detected() {
    let mut opts = ProsodyOptions::new().account("alice", password_of("alice"));
    opts.debug_log = true;
    let server = Prosody::start(opts).expect("prosody");
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&server, "alice", home.path(), &["--keepalive", "0.5"]);
    alice.connected();

    // Idle: confab pings the server (seen in the server's own log).
    let until = std::time::Instant::now() + LONG;
    loop {
        let log = std::fs::read_to_string(server.log_path()).unwrap_or_default();
        if log.contains("confab-ping-") {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "no keep-alive ping reached the server"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Still connected after several idle periods.
    assert!(!alice.saw(|v| is(v, "disconnected")));

    // A server that stops answering is noticed, and confab comes back
    // once it answers again.
    let pid = server.pid().expect("running") as libc::pid_t;
    // SAFETY: plain signals to our own child process.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let d = alice.event("disconnected", |v| is(v, "disconnected"));
    unsafe { libc::kill(pid, libc::SIGCONT) };
    assert!(d["reason"].as_str().unwrap().contains("lost"), "{d}");
    alice.event("reconnected", |v| is(v, "reconnected"));
    assert_eq!(alice.finish(), 0);
}
