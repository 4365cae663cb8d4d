//! OMEMO 2 in rooms, on Prosody and ejabberd: confab ↔ the slixmpp peer
//! (python-omemo's session manager with twomemo, publishing both
//! versions: the room speaks OMEMO 2) ↔ a second confab, every message
//! read by all the others; the XEP-0420 envelope's `<to/>` is the room,
//! its `<from/>` the sender's real JID: one whose `<from/>` names another
//! member, or whose `<to/>` is not the room, is refused, shown marked,
//! and the stream goes on.

use serde_json::{Value, json};

use crate::common::*;
use crate::omemo::{message_with, ready};
use crate::omemo_rooms::{
    ROOM, assert_from_v, no_errors, own_echo, private_room, room_message, sees, slix_room_message,
};
use crate::omemo_slixmpp::{Publishes, SlixPeer};

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

fn slix_v2(p: &mut SlixPeer, body: &str, device: u64, nick: &str) {
    let m = slix_room_message(p, body);
    assert_eq!(m["version"], "2", "{m}");
    assert_eq!(m["device"], device, "{m}");
    assert_eq!(m["nick"], nick, "{m}");
}

crate::on_both!(omemo_2_in_a_room_with_slixmpp_and_confab);

fn omemo_2_in_a_room_with_slixmpp_and_confab(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let (home_a, home_c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut alice, alice_dev) = ready(&*server, "alice", home_a.path());
    let (mut carol, carol_dev) = ready(&*server, "carol", home_c.path());
    let mut bob = SlixPeer::start_with(&*server, "bob", Publishes::Both);
    let bob_dev = bob.event("ready", |v| is(v, "ready"))["device"]
        .as_u64()
        .unwrap();

    private_room(&mut alice, &["bob", "carol"]);
    carol.ok(&format!("/join {ROOM}/carol"));
    bob.command(json!({"op": "join", "room": ROOM, "nick": "bob"}));
    sees(&mut alice, "bob");
    sees(&mut alice, "carol");
    sees(&mut carol, "bob");
    sees(&mut carol, "alice");

    // Every member has an OMEMO 2 device: the room speaks OMEMO 2.
    alice.ok(&format!("/omemo on {ROOM}"));
    assert!(
        alice.saw(|v| is(v, "omemo")
            && v["text"]
                == format!(
                    "OMEMO: {ROOM} speaks OMEMO 2 now (every member with a device has an OMEMO 2 device)"
                )),
        "{:#?}",
        alice.events
    );
    alice.ok(&format!("/say {ROOM} the club meets at nine"));
    own_echo(&mut alice, "the club meets at nine", alice_dev);
    assert_eq!(
        room_message(&mut alice, "the club meets at nine")["encrypted"]["version"],
        "2"
    );
    slix_v2(&mut bob, "the club meets at nine", alice_dev, "alice");
    let m = room_message(&mut carol, "the club meets at nine");
    assert_from_v(&m, alice_dev, "2");
    assert_eq!(m["nick"], "alice", "{m}");

    // The independent implementation → both confabs.
    bob.command(
        json!({"op": "send_room", "room": ROOM, "text": "bob brings the keys", "version": "2"}),
    );
    assert_from_v(
        &room_message(&mut alice, "bob brings the keys"),
        bob_dev,
        "2",
    );
    assert_from_v(
        &room_message(&mut carol, "bob brings the keys"),
        bob_dev,
        "2",
    );

    // The second confab → the others.
    carol.ok(&format!("/omemo on {ROOM}"));
    carol.ok(&format!("/say {ROOM} carol says yes"));
    own_echo(&mut carol, "carol says yes", carol_dev);
    slix_v2(&mut bob, "carol says yes", carol_dev, "carol");
    assert_from_v(&room_message(&mut alice, "carol says yes"), carol_dev, "2");

    // And on, the ratchets moving.
    alice.ok(&format!("/say {ROOM} second from alice"));
    slix_v2(&mut bob, "second from alice", alice_dev, "alice");
    assert_from_v(
        &room_message(&mut carol, "second from alice"),
        alice_dev,
        "2",
    );
    bob.command(
        json!({"op": "send_room", "room": ROOM, "text": "second from bob", "version": "2"}),
    );
    assert_from_v(&room_message(&mut alice, "second from bob"), bob_dev, "2");
    assert_from_v(&room_message(&mut carol, "second from bob"), bob_dev, "2");

    for c in [&alice, &carol] {
        assert!(
            !c.saw(|v| is(v, "message") && v["encrypted"].is_null() && v["room"] == ROOM),
            "{:#?}",
            c.events
        );
        no_errors(c);
    }
    assert!(!bob.seen.iter().any(|v| is(v, "error")), "{:?}", bob.seen);

    // Bob's envelope says it is from Carol: decrypted on Bob's session,
    // but refused — shown marked, the fallback only, and said.
    bob.command(json!({
        "op": "send_room", "room": ROOM, "text": "carol owes me",
        "version": "2", "forge_from": "carol@localhost",
    }));
    for c in [&mut alice, &mut carol] {
        let m = c.event("the forged message", |v| {
            is(v, "message")
                && v["room"] == ROOM
                && v["body"].as_str().is_some_and(|b| {
                    b.starts_with("[not decrypted: refused: SCE <from/> is not the sender]")
                })
        });
        assert_eq!(m["encrypted"]["decrypted"], false, "{m}");
        assert_eq!(m["encrypted"]["device"], bob_dev, "{m}");
        assert!(
            c.saw(|v| is(v, "error")
                && v["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("a message from bob")
                        && t.contains("<from/> is not the sender"))),
            "{:#?}",
            c.events
        );
        assert!(!c.saw(|v| v["body"] == "carol owes me"), "{:#?}", c.events);
    }
    // An envelope to Alice, not the room (a private message made a room
    // one): refused too.
    bob.command(json!({
        "op": "send_room", "room": ROOM, "text": "only for alice",
        "version": "2", "forge_to": "alice@localhost",
    }));
    for c in [&mut alice, &mut carol] {
        let m = c.event("the message not to the room", |v| {
            is(v, "message")
                && v["room"] == ROOM
                && v["body"].as_str().is_some_and(|b| {
                    b.starts_with("[not decrypted: refused: SCE <to/> is not this conversation]")
                })
        });
        assert_eq!(m["encrypted"]["decrypted"], false, "{m}");
        assert!(!c.saw(|v| v["body"] == "only for alice"), "{:#?}", c.events);
    }
    // The stream goes on.
    bob.command(json!({"op": "send_room", "room": ROOM, "text": "sorry, carol", "version": "2"}));
    assert_from_v(&room_message(&mut alice, "sorry, carol"), bob_dev, "2");
    assert_from_v(&room_message(&mut carol, "sorry, carol"), bob_dev, "2");
    alice.ok(&format!("/say {ROOM} accepted"));
    slix_v2(&mut bob, "accepted", alice_dev, "alice");
    message_with(&mut carol, "accepted");

    // The traces hold no plaintext.
    for (home, name) in [(&home_a, "alice"), (&home_c, "carol")] {
        let log = std::fs::read_to_string(home.path().join(format!("{name}.log"))).unwrap();
        for said in [
            "club meets",
            "brings the keys",
            "says yes",
            "owes me",
            "only for alice",
        ] {
            assert!(!log.contains(said), "{name}'s log has {said:?}");
        }
    }
}
