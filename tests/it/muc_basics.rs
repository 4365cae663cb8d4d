//! Two confab --batch processes in one room of a real Prosody and of a
//! real ejabberd (each test runs on both): join, messages both ways,
//! private message, nick change, subject, status, leave.

use serde_json::Value;

use crate::common::*;

const ROOM: &str = "coven@conference.localhost";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

crate::on_both!(two_clients_chat_in_a_room);

fn two_clients_chat_in_a_room(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::start(&*server, "alice");
    let mut bob = Client::start(&*server, "bob");
    let c = alice.connected();
    assert!(
        c["jid"].as_str().unwrap().starts_with("alice@localhost/"),
        "{c}"
    );
    bob.connected();

    alice.ok(&format!("/join {ROOM}/alice"));
    let j = alice.find(|v| is(v, "joined")).expect("joined before ok");
    assert_eq!(j["room"], ROOM);
    assert_eq!(j["nick"], "alice");
    assert_eq!(j["protocol"], "muc");

    bob.ok(&format!("/join {ROOM}/bob"));
    // Bob sees alice already there; alice sees bob arrive.
    assert!(bob.saw(|v| is(v, "occupant") && v["nick"] == "alice" && v["action"] == "join"));
    alice.ok(&format!("/wait occupant {ROOM} bob"));

    // Messages both ways.
    alice.ok(&format!("/say {ROOM} hello bob, how are you?"));
    bob.ok(&format!(
        "/wait message {ROOM} --from alice --contains \"how are you\""
    ));
    let m = bob.event("alice's message", |v| {
        is(v, "message") && v["nick"] == "alice"
    });
    assert_eq!(m["body"], "hello bob, how are you?");
    assert_eq!(m["private"], false);
    assert_eq!(m["delayed"], false);
    assert_eq!(m["own"], false);
    bob.ok(&format!("/say {ROOM} fine, thanks"));
    alice.ok(&format!("/wait message {ROOM} --from bob --contains fine"));
    // Alice's own message came back as hers.
    assert!(
        alice.saw(|v| is(v, "message")
            && v["own"] == true
            && v["body"] == "hello bob, how are you?")
    );

    // A private message to an occupant.
    alice.ok(&format!("/msg {ROOM}/bob just between us"));
    let pm = bob.event("private message", |v| {
        is(v, "message") && v["private"] == true
    });
    assert_eq!(pm["room"], ROOM);
    assert_eq!(pm["nick"], "alice");
    assert_eq!(pm["body"], "just between us");

    // Nick change, seen by the other with old and new nick.
    alice.ok(&format!("/nick {ROOM} alicia"));
    let n = bob.event("nick change", |v| {
        is(v, "occupant") && v["action"] == "nick"
    });
    assert_eq!(n["nick"], "alicia");
    assert_eq!(n["old_nick"], "alice");
    assert_eq!(n["self"], false);
    assert!(alice.saw(|v| is(v, "occupant") && v["action"] == "nick" && v["self"] == true));
    // And messages now come from the new nick.
    alice.ok(&format!("/say {ROOM} call me alicia"));
    let m = bob.event("message under the new nick", |v| {
        is(v, "message") && v["body"] == "call me alicia"
    });
    assert_eq!(m["nick"], "alicia");

    // Subject.
    alice.ok(&format!("/topic {ROOM} Cauldron maintenance"));
    let s = bob.event("subject", |v| {
        is(v, "subject") && v["subject"] == "Cauldron maintenance"
    });
    assert_eq!(s["nick"], "alicia");

    // Status change in the room.
    bob.ok(&format!("/status {ROOM} away lunch"));
    let u = alice.event("status update", |v| {
        is(v, "occupant") && v["nick"] == "bob" && v["action"] == "update"
    });
    assert_eq!(u["show"], "away");
    assert_eq!(u["status"], "lunch");

    // Leave.
    bob.ok(&format!("/part {ROOM} see you"));
    let l = alice.event("bob leaves", |v| {
        is(v, "occupant") && v["action"] == "leave"
    });
    assert_eq!(l["nick"], "bob");
    let left = bob.event("left", |v| is(v, "left"));
    assert_eq!(left["room"], ROOM);
    assert_eq!(left["kind"], "left");

    assert_eq!(bob.finish(), 0);
    assert_eq!(alice.finish(), 0);
    assert!(
        alice.saw(|v| is(v, "left") && v["room"] == ROOM),
        "alice left at the end"
    );
}

crate::on_both!(wrong_room_password_is_an_error_and_exit_1);

fn wrong_room_password_is_an_error_and_exit_1(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::online(&*server, "alice");
    alice.ok("/join locked@conference.localhost/alice");
    // Make the room password-protected through its configuration form.
    alice.ok("/config locked@conference.localhost muc#roomconfig_passwordprotectedroom=1 muc#roomconfig_roomsecret=s3cret");
    let mut bob = Client::online(&*server, "bob");
    let e = bob.run("/join locked@conference.localhost/bob wrong");
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "not-authorized");
    assert_eq!(e["command"], "/join locked@conference.localhost/bob wrong");
    assert_eq!(bob.exit_status(), 1);
}

crate::on_both!(nick_conflict_is_reported);

fn nick_conflict_is_reported(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::online(&*server, "alice");
    let mut bob = Client::online(&*server, "bob");
    alice.ok(&format!("/join {ROOM}/witch"));
    let e = bob.run(&format!("/join {ROOM}/witch"));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "conflict");
    assert_eq!(e["room"], ROOM);
    assert_eq!(bob.exit_status(), 1);
}

crate::on_both!(nick_change_to_a_taken_nick_fails_and_keeps_the_old_one);

fn nick_change_to_a_taken_nick_fails_and_keeps_the_old_one(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::online(&*server, "alice");
    let mut bob = Client::online(&*server, "bob");
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    let e = bob.run(&format!("/nick {ROOM} alice"));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "conflict");
    assert_eq!(e["command"], format!("/nick {ROOM} alice"));
    // Still in the room under the old nick.
    alice.ok(&format!("/wait occupant {ROOM} bob"));
    assert!(!alice.saw(|v| is(v, "occupant") && v["action"] == "nick"));
    assert_eq!(bob.exit_status(), 1);
}

#[test]
fn an_occupant_imitating_another_is_marked_lookalike() {
    let server = prosody_with(&["alice", "bob", "mallory"]);
    let mut alice = Client::online(&server, "alice");
    let mut bob = Client::online(&server, "bob");
    let mut mallory = Client::online(&server, "mallory");
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/admin"));
    alice.ok(&format!("/wait occupant {ROOM} admin"));
    // A Cyrillic а in front of Latin letters.
    mallory.ok(&format!("/join {ROOM}/\u{430}dmin"));
    let e = alice.event("the imitation", |v| {
        is(v, "occupant") && v["nick"] == "\u{430}dmin" && v["action"] == "join"
    });
    assert_eq!(e["lookalike"], "admin", "{e}");
    // The original is not marked.
    let orig = alice
        .find(|v| is(v, "occupant") && v["nick"] == "admin")
        .unwrap();
    assert!(orig.get("lookalike").is_none(), "{orig}");
    for c in [&mut alice, &mut bob, &mut mallory] {
        assert_eq!(c.finish(), 0);
    }
}
