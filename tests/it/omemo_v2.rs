//! OMEMO 2 (`urn:xmpp:omemo:2`, XEP-0384 0.8+ with XEP-0420 envelopes)
//! between confab and an independent client over XMPP, on Prosody and
//! ejabberd: tests/peers/omemo_xmpp_peer.py in `both` mode — slixmpp and
//! slixmpp-omemo's session manager with the python-twomemo backend, the
//! SCE envelope written and checked by tests/peers/sce_envelope.py
//! (slixmpp-omemo 2.2 does not do OMEMO 2's SCE itself). confab chooses
//! OMEMO 2 because the peer's OMEMO 2 device list has a device.

use serde_json::json;

use super::omemo::{message_with, ready};
use super::omemo_slixmpp::{Publishes, SlixPeer};
use crate::common::*;

fn peer(server: &dyn TestServer, user: &str) -> (SlixPeer, u64) {
    let mut p = SlixPeer::start_with(server, user, Publishes::Both);
    let dev = p.event("ready", |v| v["event"] == "ready")["device"]
        .as_u64()
        .unwrap();
    (p, dev)
}

fn send_v2(p: &mut SlixPeer, to: &str, text: &str) {
    p.command(json!({"op": "send", "to": to, "text": text, "version": "2"}));
}

crate::on_both!(confab_and_peer_omemo2_both_ways);

fn confab_and_peer_omemo2_both_ways(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, alice_dev) = ready(&*server, "alice", home.path());
    let (mut bob, bob_dev) = peer(&*server, "bob");

    // confab → peer: a key exchange, the body in an SCE envelope.
    alice.ok("/omemo on bob@localhost");
    alice.ok("/msg bob@localhost first in OMEMO 2");
    let own = message_with(&mut alice, "first in OMEMO 2");
    assert_eq!(own["encrypted"]["version"], "2", "{own}");
    let m = bob.event("confab's message", |v| {
        v["event"] == "message" && v["body"] == "first in OMEMO 2"
    });
    assert_eq!(m["version"], "2", "{m}");
    assert_eq!(m["device"], alice_dev, "{m}");

    // peer → confab, on that session.
    send_v2(&mut bob, "alice@localhost", "answer in OMEMO 2");
    let m = message_with(&mut alice, "answer in OMEMO 2");
    assert_eq!(m["encrypted"]["version"], "2", "{m}");
    assert_eq!(m["encrypted"]["device"], bob_dev, "{m}");
    assert_eq!(m["encrypted"]["trusted"], true, "{m}");
    assert_eq!(m["encrypted"]["decrypted"], true, "{m}");

    // And on, both ratchets moving.
    alice.ok("/msg bob@localhost second <from> confab & co");
    bob.event("confab's second", |v| {
        v["event"] == "message" && v["body"] == "second <from> confab & co"
    });
    send_v2(&mut bob, "alice@localhost", "second from the peer");
    message_with(&mut alice, "second from the peer");
    assert!(
        !bob.seen.iter().any(|v| v["event"] == "error"),
        "{:?}",
        bob.seen
    );
    assert!(!alice.saw(|v| v["event"] == "error"), "{:?}", alice.events);
}

crate::on_both!(peer_starts_the_omemo2_session);

/// The peer builds the session from confab's OMEMO 2 bundle: confab
/// answers the key exchange (its prekey replaced, the bundle republished)
/// and answers in OMEMO 2.
fn peer_starts_the_omemo2_session(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, _) = ready(&*server, "alice", home.path());
    let (mut bob, bob_dev) = peer(&*server, "bob");
    send_v2(&mut bob, "alice@localhost", "hello in OMEMO 2");
    let m = message_with(&mut alice, "hello in OMEMO 2");
    assert_eq!(m["encrypted"]["version"], "2", "{m}");
    assert_eq!(m["encrypted"]["device"], bob_dev, "{m}");
    alice.ok("/omemo on bob@localhost");
    alice.ok("/msg bob@localhost hello back");
    let m = bob.event("confab's answer", |v| {
        v["event"] == "message" && v["body"] == "hello back"
    });
    assert_eq!(m["version"], "2", "{m}");
    // confab's empty message after the key exchange was read too.
    assert!(
        !bob.seen.iter().any(|v| v["event"] == "error"),
        "{:?}",
        bob.seen
    );
    assert!(!alice.saw(|v| v["event"] == "error"), "{:?}", alice.events);
}

crate::on_both!(tampered_and_forged_omemo2_refused);

/// A payload altered in transit fails its HMAC; an envelope whose
/// `<from/>` names someone else than the stanza's sender is refused: each
/// with a clear event, the text never shown; the session goes on; a
/// replayed message is shown once.
fn tampered_and_forged_omemo2_refused(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, _) = ready(&*server, "alice", home.path());
    let (mut bob, _) = peer(&*server, "bob");
    send_v2(&mut bob, "alice@localhost", "before");
    message_with(&mut alice, "before");

    bob.command(
        json!({"op": "send", "to": "alice@localhost", "text": "altered in transit",
        "version": "2", "tamper": true}),
    );
    let e = alice.event("the refusal of the altered message", |v| {
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

    bob.command(
        json!({"op": "send", "to": "alice@localhost", "text": "in someone else's name",
        "version": "2", "forge_from": "carol@localhost/desk"}),
    );
    let e = alice.event("the refusal of the forged envelope", |v| {
        v["event"] == "error" && v["text"].as_str().is_some_and(|t| t.contains("<from/>"))
    });
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .contains("refused: SCE <from/> is not the sender"),
        "{e}"
    );
    // A replayed copy (same envelope, new stanza id) is not shown twice.
    bob.command(
        json!({"op": "send", "to": "alice@localhost", "text": "said once",
        "version": "2", "replay": true}),
    );
    message_with(&mut alice, "said once");
    send_v2(&mut bob, "alice@localhost", "after");
    message_with(&mut alice, "after");
    let n = alice
        .events
        .iter()
        .filter(|v| v["event"] == "message" && v["body"] == "said once")
        .count();
    assert_eq!(n, 1, "{:?}", alice.events);
    let marked = alice
        .events
        .iter()
        .filter(|v| v["event"] == "message" && v["encrypted"]["decrypted"] == false)
        .count();
    assert_eq!(
        marked, 2,
        "both shown only as not decrypted: {:?}",
        alice.events
    );
    assert!(
        !alice.saw(|v| v["body"] == "altered in transit" || v["body"] == "in someone else's name")
    );
}
