//! The same test bodies on both servers, Prosody 0.12 and ejabberd 23.01:
//! login with SCRAM over STARTTLS and direct TLS, a wrong password, two
//! clients in a room, MAM catch-up after an absence, a room destroyed
//! under its occupants, a new room and its form, a server restart, an
//! XEP-0114 component, the TUI in tmux. Each body is run as `servers::<body>::prosody` and
//! `servers::<body>::ejabberd`; where the servers legitimately differ the
//! body says what it expects of which.

use serde_json::Value;

use confab::protocol::nc;
use confab_testbed::component::{ComponentError, ComponentStream, stanza};

use crate::common::*;

const MUC: &str = "conference.localhost";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

crate::on_both!(
    harness_starts_and_registers,
    logs_in_over_starttls_and_direct_tls,
    wrong_password_is_a_clear_error_and_exit_1,
    two_clients_chat_in_a_room,
    mam_fills_the_gap_while_a_client_was_away,
    destroy_is_seen_by_the_other_occupant,
    a_new_room_and_its_form,
    reconnects_and_rejoins_after_a_server_restart,
    a_component_talks_with_a_client,
    the_tui_joins_and_chats,
);

fn harness_starts_and_registers(kind: ServerKind) {
    let server = server_with(kind, &["alice"]);
    assert_eq!(server.kind(), kind);
    assert_eq!(server.domain(), "localhost");
    assert_eq!(server.muc_domain(), MUC);
    assert_eq!(server.jid("alice"), "alice@localhost");
    assert!(server.ca_file().exists());
    assert!(server.pid().is_some());
    let ports = [
        server.c2s_port(),
        server.c2s_direct_tls_port(),
        server.component_port(),
    ];
    for port in ports {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("{kind}: port {port} refused: {e}"));
    }
    assert_eq!(server.components()[0].0, DEFAULT_COMPONENT);
    assert_eq!(server.components()[0].1, server.component_secret());
    server
        .register("bob", &password_of("bob"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut bob = Client::online(&*server, "bob");
    assert_eq!(bob.finish(), 0);
}

fn logs_in_over_starttls_and_direct_tls(kind: ServerKind) {
    let server = server_with(kind, &["alice"]);
    // STARTTLS on the c2s port (the command line names the server).
    let mut alice = Client::start(&*server, "alice");
    let c = alice.connected();
    assert!(
        c["jid"].as_str().unwrap().starts_with("alice@localhost/"),
        "{kind}: {c}"
    );
    // The best SCRAM each offers us. ejabberd 23.01 offers
    // SCRAM-SHA-256-PLUS but binds only to tls-unique (no XEP-0440): plain
    // SCRAM-SHA-256 (a guessed tls-exporter is refused, "Invalid channel
    // binding"). Prosody 0.12 offers no -PLUS on TLS 1.3.
    let expect = match kind {
        ServerKind::Prosody => "SCRAM-SHA-1",
        ServerKind::Ejabberd => "SCRAM-SHA-256",
    };
    assert_eq!(c["sasl"], expect, "{kind}: {c}");
    assert_eq!(alice.finish(), 0);

    // Direct TLS (XEP-0368) on its own port, from the config file.
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_direct_tls(&*server, "alice", home.path());
    let c = alice.connected();
    assert!(
        c["jid"].as_str().unwrap().starts_with("alice@localhost/"),
        "{kind}: {c}"
    );
    alice.ok("/status all away direct");
    assert_eq!(alice.finish(), 0);
}

fn wrong_password_is_a_clear_error_and_exit_1(kind: ServerKind) {
    let server = server_with(kind, &["alice"]);
    let home = tempfile::tempdir().unwrap();
    let mut c = Client::start_in_with_password(&*server, "alice", home.path(), "not-the-pw");
    let e = c.event("login error", |v| is(v, "error"));
    assert_eq!(e["condition"], "not-authorized", "{kind}: {e}");
    assert!(e["text"].as_str().unwrap().contains("password"), "{e}");
    assert!(
        !e.to_string().contains("not-the-pw"),
        "password leaked: {e}"
    );
    assert_eq!(c.exit_status(), 1);
    assert!(!c.saw(|v| is(v, "connected")));
    assert!(!c.saw(|v| is(v, "reconnecting")));
}

fn two_clients_chat_in_a_room(kind: ServerKind) {
    let room = format!("coven@{MUC}");
    let server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::online(&*server, "alice");
    let mut bob = Client::online(&*server, "bob");

    alice.ok(&format!("/join {room}/alice"));
    let j = alice.find(|v| is(v, "joined")).expect("joined before ok");
    assert_eq!(j["room"], room.as_str());
    assert_eq!(j["nick"], "alice");
    bob.ok(&format!("/join {room}/bob"));
    // Bob sees alice already there; alice sees bob arrive.
    assert!(bob.saw(|v| is(v, "occupant") && v["nick"] == "alice" && v["action"] == "join"));
    alice.ok(&format!("/wait occupant {room} bob"));

    alice.ok(&format!("/say {room} hello bob"));
    bob.ok(&format!(
        "/wait message {room} --from alice --contains hello"
    ));
    let m = bob.event("alice's message", |v| {
        is(v, "message") && v["nick"] == "alice"
    });
    assert_eq!(m["body"], "hello bob");
    assert_eq!(m["delayed"], false);
    assert_eq!(m["own"], false);
    bob.ok(&format!("/say {room} hi alice"));
    alice.ok(&format!(
        "/wait message {room} --from bob --contains \"hi alice\""
    ));
    assert!(alice.saw(|v| is(v, "message") && v["own"] == true && v["body"] == "hello bob"));

    // Occupant-id (XEP-0421): Prosody 0.12 (mod_muc's own) gives one;
    // ejabberd only from 23.10, so 23.01 gives none.
    let o = alice.event("bob as occupant", |v| {
        is(v, "occupant") && v["nick"] == "bob" && v["action"] == "join"
    });
    match kind {
        ServerKind::Prosody => assert!(o["occupant_id"].is_string(), "{o}"),
        ServerKind::Ejabberd => assert!(
            o.get("occupant_id").is_none_or(Value::is_null),
            "ejabberd 23.01 has no occupant-id: {o}"
        ),
    }

    bob.ok(&format!("/part {room} bye"));
    let l = alice.event("bob leaves", |v| {
        is(v, "occupant") && v["action"] == "leave"
    });
    assert_eq!(l["nick"], "bob");
    let left = bob.event("left", |v| is(v, "left"));
    assert_eq!(left["kind"], "left", "{kind}: {left}");
    assert_eq!(bob.finish(), 0);
    assert_eq!(alice.finish(), 0);
}

fn bodies(c: &Client, room: &str, prefix: &str) -> Vec<String> {
    c.events
        .iter()
        .filter(|v| is(v, "message") && v["room"] == room)
        .filter_map(|v| v["body"].as_str())
        .filter(|b| b.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

fn mam_fills_the_gap_while_a_client_was_away(kind: ServerKind) {
    let room = format!("annals@{MUC}");
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    let mut bob = Client::online(&*server, "bob");
    alice.connected();
    alice.ok(&format!("/join {room}/alice"));
    bob.ok(&format!("/join {room}/bob"));
    bob.ok(&format!("/say {room} before the gap"));
    alice.ok(&format!("/wait message {room} --from bob --contains gap"));
    assert_eq!(alice.finish(), 0);

    // More than one page of the room's archive.
    const N: usize = 60;
    for i in 0..N {
        bob.ok(&format!("/say {room} missed {i}"));
    }

    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    alice.connected();
    alice.ok(&format!("/join {room}/alice"));
    let m = alice.event("mam", |v| is(v, "mam") && v["room"] == room.as_str());
    assert_eq!(m["count"], N, "{kind}: {m}");
    let written: Vec<String> = (0..N).map(|i| format!("missed {i}")).collect();
    assert_eq!(bodies(&alice, &room, "missed "), written, "{kind}");
    assert!(
        alice
            .events
            .iter()
            .filter(|v| is(v, "message") && v["room"] == room.as_str())
            .all(|v| v["delayed"] == true && v["nick"] == "bob"),
        "{kind}: caught-up messages are delayed, from bob"
    );
    assert!(bodies(&alice, &room, "before the gap").is_empty(), "{kind}");
    bob.ok(&format!("/say {room} live again"));
    alice.ok(&format!(
        "/wait message {room} --from bob --contains \"live again\""
    ));
    assert_eq!(bodies(&alice, &room, "live again").len(), 1);
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

fn destroy_is_seen_by_the_other_occupant(kind: ServerKind) {
    let room = format!("old@{MUC}");
    let mut server = server_with(kind, &["alice", "bob"]);
    let home_a = tempfile::tempdir().unwrap();
    let home_b = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home_a.path(), &["--keep-going"]);
    let mut bob = Client::start_in(&*server, "bob", home_b.path(), &["--keep-going"]);
    alice.connected();
    bob.connected();
    // Joining a room that does not exist creates it, alice its owner.
    alice.ok(&format!("/join {room}/alice"));
    bob.ok(&format!("/join {room}/bob"));
    alice.ok(&format!("/wait occupant {room} bob"));

    alice.ok(&format!("/destroy {room} --reason \"we moved\""));
    let e = alice.run(&format!("/info {room}"));
    assert_eq!(e["condition"], "item-not-found", "{kind}: gone: {e}");

    // Each is told: `left`, kind `destroyed`, with the reason — also on
    // ejabberd, whose destroy presence carries no status 110 (neither does
    // XEP-0045 §10.9's example): a presence from our own occupant JID is
    // ours, and a destroy ends the room whoever it is about.
    for (c, nick) in [(&mut alice, "alice"), (&mut bob, "bob")] {
        let r = room.clone();
        let told = c.event("the destroy", move |v| {
            is(v, "left") && v["room"] == r.as_str()
        });
        assert_eq!(told["kind"], "destroyed", "{kind}: {told}");
        assert_eq!(told["reason"], "we moved", "{kind}: {told}");
        // Not our own leave reported as someone else's.
        assert!(
            !c.saw(|v| is(v, "occupant") && v["action"] == "leave" && v["nick"] == nick),
            "{kind}: {nick} left as an occupant"
        );
    }

    // The room stays gone: a reconnection does not rejoin (and so
    // re-create) it.
    server.restart().expect("restart");
    for c in [&mut alice, &mut bob] {
        c.event("reconnected", |v| is(v, "reconnected"));
    }
    let e = bob.run(&format!("/info {room}"));
    assert_eq!(e["condition"], "item-not-found", "{kind}: re-created: {e}");
    assert!(!alice.saw(|v| is(v, "joined") && v["rejoined"] == true));
    // (Both ran an `/info` that failed on purpose: exit status 1.)
    alice.finish();
    bob.finish();
}

fn a_new_room_and_its_form(kind: ServerKind) {
    let room = format!("draft@{MUC}");
    let server = server_with(kind, &["alice", "bob"]);
    let home_b = tempfile::tempdir().unwrap();
    let mut alice = Client::online(&*server, "alice");
    let mut bob = Client::start_in(&*server, "bob", home_b.path(), &["--keep-going"]);
    bob.connected();
    // Without fields or --instant: the configuration form comes back.
    alice.ok(&format!("/create {room}"));
    let f = alice.event("the form", |v| is(v, "room-form"));
    assert_eq!(f["purpose"], "create", "{kind}: {f}");
    let r = bob.run(&format!("/join {room}/bob"));
    match kind {
        // Prosody locks a new room until its owner submits the form
        // (XEP-0045 §10.1.2): nobody else may enter.
        ServerKind::Prosody => assert_eq!(r["condition"], "item-not-found", "locked: {r}"),
        // ejabberd does not lock it: bob is in at once.
        ServerKind::Ejabberd => assert_eq!(r["event"], "ok", "{kind}: not locked: {r}"),
    }
    alice.ok(&format!("/config {room} muc#roomconfig_roomname=Drafted"));
    bob.ok(&format!("/info {room}"));
    let info = bob.event("info", |v| is(v, "room-info") && v["room"] == room.as_str());
    assert_eq!(info["name"], "Drafted", "{kind}: {info}");
    if kind == ServerKind::Prosody {
        bob.ok(&format!("/join {room}/bob"));
    }
    alice.ok(&format!("/wait occupant {room} bob"));
    assert_eq!(alice.finish(), 0);
}

fn reconnects_and_rejoins_after_a_server_restart(kind: ServerKind) {
    let room = format!("lair@{MUC}");
    let mut server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::online(&*server, "alice");
    let mut bob = Client::online(&*server, "bob");
    alice.ok(&format!("/join {room}/alice"));
    bob.ok(&format!("/join {room}/bob"));
    alice.ok(&format!("/wait occupant {room} bob"));

    server.stop();
    alice.event("disconnected", |v| is(v, "disconnected"));
    bob.event("disconnected", |v| is(v, "disconnected"));
    // Given while offline: queued, sent once the room is rejoined.
    alice.send(&format!("/say {room} written while the server was down"));
    server
        .restart()
        .unwrap_or_else(|e| panic!("{kind} restarts: {e}"));

    let r = alice.event("reconnected", |v| is(v, "reconnected"));
    // Each login names its mechanism.
    assert!(
        r["sasl"].as_str().is_some_and(|m| m.starts_with("SCRAM-")),
        "{kind}: {r}"
    );
    bob.event("reconnected", |v| is(v, "reconnected"));
    let j = alice.event("rejoined", |v| is(v, "joined") && v["rejoined"] == true);
    assert_eq!(j["room"], room.as_str(), "{kind}: {j}");
    bob.event("rejoined", |v| is(v, "joined") && v["rejoined"] == true);
    let r = alice.event("result of the queued /say", |v| {
        (is(v, "ok") || is(v, "error"))
            && v["command"].as_str().is_some_and(|c| c.starts_with("/say"))
    });
    assert_eq!(r["event"], "ok", "{kind}: {r}");
    bob.ok(&format!(
        "/wait message {room} --from alice --contains \"while the server was down\""
    ));
    bob.ok(&format!("/say {room} back to normal"));
    alice.ok(&format!(
        "/wait message {room} --from bob --contains normal"
    ));
    assert_eq!(bob.finish(), 0);
    assert_eq!(alice.finish(), 0);
}

fn a_component_talks_with_a_client(kind: ServerKind) {
    let server = server_with(kind, &["alice"]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let port = server.component_port();
    let wrong = rt.block_on(ComponentStream::connect(port, DEFAULT_COMPONENT, "wrong"));
    let e = wrong.err().expect("a wrong secret is refused");
    assert!(matches!(e, ComponentError::Refused { .. }), "{kind}: {e}");
    let secret = server.component_secret().to_string();
    let mut comp = rt
        .block_on(ComponentStream::connect(port, DEFAULT_COMPONENT, &secret))
        .unwrap_or_else(|e| panic!("{kind}: handshake: {e}\n{}", server.log_tail(30)));

    let mut alice = Client::online(&*server, "alice");
    let alice_jid = alice.find(|v| is(v, "connected")).unwrap()["jid"]
        .as_str()
        .unwrap()
        .to_string();
    let echo = format!("echo@{DEFAULT_COMPONENT}");
    alice.ok(&format!("/msg {echo} ping through the component"));
    let got = rt.block_on(received(
        &mut comp,
        "message",
        "the message reached the component",
    ));
    assert_eq!(got.attr("from"), Some(alice_jid.as_str()), "{kind}");
    let reply = stanza("message")
        .attr(nc("from"), echo.clone())
        .attr(nc("to"), alice_jid)
        .attr(nc("type"), "chat")
        .append(stanza("body").append("pong").build())
        .build();
    rt.block_on(comp.send(&reply)).unwrap();
    let m = alice.event("the answer", |v| is(v, "message") && v["body"] == "pong");
    assert_eq!(m["from"], echo.as_str(), "{kind}");
    assert_eq!(alice.finish(), 0);
}

fn the_tui_joins_and_chats(kind: ServerKind) {
    let room = format!("tuiroom@{MUC}");
    let server = server_with(kind, &["alice", "bob"]);
    let mut bob = Client::online(&*server, "bob");
    bob.ok(&format!("/join {room}/bob"));
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&*server, "alice", home.path(), 110, 30);
    tmux.send(&[&format!("/join {room}"), "Enter"]);
    tmux.wait_for("both participants", |s| {
        s.contains("bob") && s.contains("2 people")
    });
    tmux.send(&["hello from the terminal", "Enter"]);
    bob.ok(&format!(
        "/wait message {room} --from alice --contains terminal"
    ));
    bob.ok(&format!("/say {room} hi alice"));
    let s = tmux.wait_for("bob's message", |s| s.contains("hi alice"));
    assert!(s.contains("<bob>"), "{kind}: {s}");
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
    bob.event("alice leaves", |v| {
        is(v, "occupant") && v["action"] == "leave" && v["nick"] == "alice"
    });
    assert_eq!(bob.finish(), 0);
}
