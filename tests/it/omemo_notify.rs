//! OMEMO device lists by PEP `+notify` (both versions' nodes in confab's
//! caps), on Prosody and ejabberd: a contact's new device is announced
//! (an `omemo` event) without us sending anything, and an encrypted /msg
//! then uses the pushed lists without asking for them (checked in the
//! trace) and reaches every device of the contact, the new one included;
//! the new device's OMEMO 2 answer is read by the contact's confab too, as
//! a carbon copy.
//! The new device is an independent client (tests/peers/omemo_xmpp_peer.py,
//! slixmpp-omemo, OMEMO 2 and 0.3) logging in to the contact's account.

use serde_json::json;

use crate::common::*;

use super::chatting::befriend;
use super::omemo::{message_with, ready};
use super::omemo_slixmpp::{Publishes, SlixPeer};

crate::on_both!(a_contacts_new_device_is_announced);

fn a_contacts_new_device_is_announced(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut alice, _) = ready(&*server, "alice", home_a.path());
    let (mut bob, _) = ready(&*server, "bob", home_b.path());
    befriend(&mut alice, &mut bob);
    // Bob's second client: Alice hears of it, sending nothing.
    let mut phone = SlixPeer::start_with(&*server, "bob", Publishes::Both);
    let phone_dev = phone.event("ready", |v| v["event"] == "ready")["device"]
        .as_u64()
        .unwrap();
    let news = format!("OMEMO: bob@localhost has a new device {phone_dev}");
    alice.event("the new device announced", |v| {
        v["event"] == "omemo" && v["text"] == news.as_str()
    });

    // An encrypted /msg on the pushed lists: both of Bob's devices read it.
    alice.ok("/omemo on bob@localhost");
    alice.ok("/msg bob@localhost to all of bob");
    let m = message_with(&mut bob, "to all of bob");
    assert_eq!(m["encrypted"]["version"], "2", "{m}");
    let m = phone.event("alice's message on bob's phone", |v| {
        v["event"] == "message" && v["body"] == "to all of bob"
    });
    assert_eq!(m["version"], "2", "{m}");

    // The phone answers in OMEMO 2: Alice reads it, and Bob's confab reads
    // the carbon copy (its envelope says Bob to Alice: checked against the
    // copied stanza, not against Bob's own account).
    phone.command(serde_json::json!({"op": "send", "to": "alice@localhost",
        "text": "from bob's phone", "version": "2"}));
    let m = message_with(&mut alice, "from bob's phone");
    assert_eq!(m["encrypted"]["device"], phone_dev, "{m}");
    let copy = message_with(&mut bob, "from bob's phone");
    assert_eq!(copy["own"], true, "{copy}");
    assert_eq!(copy["encrypted"]["version"], "2", "{copy}");
    assert_eq!(copy["encrypted"]["device"], phone_dev, "{copy}");
    assert!(!bob.saw(|v| v["event"] == "error"), "{:?}", bob.events);

    alice.finish();
    let log = std::fs::read_to_string(home_a.path().join("alice.log")).unwrap();
    let asked: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("bob@localhost")
                && l.contains("<items")
                && (l.contains("devices") || l.contains("devicelist"))
        })
        .filter(|l| l.contains("<iq"))
        .collect();
    assert!(asked.is_empty(), "bob's device list asked for: {asked:?}");
}

crate::on_both!(our_device_is_added_again);

/// Another client of ours publishes our OMEMO 2 device list without this
/// device: confab hears it (our own list pushed) and adds itself again.
fn our_device_is_added_again(kind: ServerKind) {
    let server = server_with(kind, &["alice"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, alice_dev) = ready(&*server, "alice", home.path());
    let mut other = SlixPeer::start_with(&*server, "alice", Publishes::Both);
    let other_dev = other.event("ready", |v| v["event"] == "ready")["device"]
        .as_u64()
        .unwrap();
    let ids = other.request(json!({"op": "devices"}), "devices");
    assert!(
        ids["ids"].as_array().unwrap().contains(&json!(alice_dev)),
        "slixmpp-omemo kept confab's device: {ids}"
    );
    alice.event("our other device announced", |v| {
        v["event"] == "omemo"
            && v["text"] == format!("OMEMO: this account has a new device {other_dev}")
    });

    other.command(json!({"op": "publish_devices", "ids": [other_dev]}));
    alice.event("our device missing, added again", |v| {
        v["event"] == "omemo"
            && v["text"]
                == format!(
                    "OMEMO: our device list (2) came without this device {alice_dev}: added again"
                )
    });
    // The publication is on its way: the list as the server has it, until
    // it holds both (or the deadline).
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let ids = other.request(json!({"op": "devices"}), "devices");
        let ids = ids["ids"].as_array().unwrap().clone();
        if ids.contains(&json!(alice_dev)) && ids.contains(&json!(other_dev)) {
            break;
        }
        assert!(
            std::time::Instant::now() < end,
            "confab's device not added again: {ids:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!alice.saw(|v| v["event"] == "error"), "{:?}", alice.events);
}
