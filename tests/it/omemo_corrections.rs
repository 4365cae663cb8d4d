//! Corrections (XEP-0308) in an OMEMO room, on Prosody and ejabberd, as
//! Conversations sends them (the `<replace/>` in the clear beside the
//! `<encrypted/>`): confab's `/correct` read by a second confab (the line
//! replaced) and by slixmpp-omemo (the new text decrypted, the replaced
//! id in the clear, nothing else); slixmpp-omemo's encrypted correction
//! replaces its own line in confab; one aimed at someone else's line
//! replaces nothing; no corrected text in the trace.

use serde_json::{Value, json};

use crate::common::*;
use crate::omemo::{message_with, ready};
use crate::omemo_rooms::{ROOM, private_room, sees};
use crate::omemo_slixmpp::SlixPeer;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

fn correction(c: &mut Client, nick: &str, body: &str) -> Value {
    let (n, b) = (nick.to_string(), body.to_string());
    c.event(&format!("{nick}'s correction to {body:?}"), move |v| {
        is(v, "correction") && v["nick"] == n.as_str() && v["body"] == b.as_str()
    })
}

crate::on_both!(omemo_corrections_in_a_room);

fn omemo_corrections_in_a_room(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let (home_a, home_c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut alice, _) = ready(&*server, "alice", home_a.path());
    let (mut carol, _) = ready(&*server, "carol", home_c.path());
    let mut bob = SlixPeer::start(&*server, "bob");
    bob.event("ready", |v| is(v, "ready"));
    private_room(&mut alice, &["bob", "carol"]);
    carol.ok(&format!("/join {ROOM}/carol"));
    bob.command(json!({"op": "join", "room": ROOM, "nick": "bob"}));
    sees(&mut alice, "bob");
    sees(&mut alice, "carol");
    sees(&mut carol, "bob");
    alice.ok(&format!("/omemo on {ROOM}"));

    // confab's correction.
    alice.ok(&format!("/say {ROOM} lunch at noon"));
    message_with(&mut carol, "lunch at noon");
    let original = bob.event("the original", |v| {
        is(v, "message") && v["body"] == "lunch at noon"
    });
    alice.ok(&format!("/correct {ROOM} lunch at one"));
    let own = correction(&mut alice, "alice", "lunch at one");
    assert_eq!(own["own"], true, "{own}");
    let c = correction(&mut carol, "alice", "lunch at one");
    assert_eq!(c["own"], false, "{c}");
    let m = bob.event("the correction", |v| {
        is(v, "message") && v["body"] == "lunch at one"
    });
    assert_eq!(m["encrypted"], true, "{m}");
    assert_eq!(m["in_clear"]["replace"], original["id"], "{m} / {original}");
    let clear = m["in_clear"]["stanza"].as_str().unwrap();
    assert!(
        !clear.contains("lunch at"),
        "the text in the clear: {clear}"
    );

    // slixmpp-omemo corrects its own line.
    let sent = bob.request(
        json!({"op": "send_room", "room": ROOM, "text": "bob brings tea"}),
        "sent",
    );
    message_with(&mut alice, "bob brings tea");
    message_with(&mut carol, "bob brings tea");
    bob.command(
        json!({"op": "send_room", "room": ROOM, "text": "bob brings coffee",
        "replace": sent["id"]}),
    );
    let c = correction(&mut alice, "bob", "bob brings coffee");
    assert_eq!(c["replaces"], sent["id"], "{c}");
    correction(&mut carol, "bob", "bob brings coffee");

    // Aimed at alice's line: replaces nothing.
    let original_id = original["id"].clone();
    bob.command(
        json!({"op": "send_room", "room": ROOM, "text": "lunch is cancelled",
        "replace": original_id}),
    );
    bob.command(json!({"op": "send_room", "room": ROOM, "text": "after the forgery"}));
    message_with(&mut alice, "after the forgery");
    message_with(&mut carol, "after the forgery");
    for c in [&alice, &carol] {
        assert!(
            !c.saw(|v| v["body"] == "lunch is cancelled"),
            "{:#?}",
            c.events
        );
        assert!(!c.saw(|v| is(v, "error")), "{:#?}", c.events);
    }
    assert!(!bob.seen.iter().any(|v| is(v, "error")), "{:?}", bob.seen);

    alice.finish();
    carol.finish();
    for (home, user) in [(home_a.path(), "alice"), (home_c.path(), "carol")] {
        let log = std::fs::read_to_string(home.join(format!("{user}.log"))).unwrap();
        assert!(
            log.contains("urn:xmpp:message-correct:0"),
            "{user}: no trace"
        );
        for secret in ["lunch at one", "bob brings coffee", "lunch is cancelled"] {
            assert!(!log.contains(secret), "{user}'s log holds {secret:?}");
        }
    }
}
