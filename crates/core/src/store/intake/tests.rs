//! One-to-one intake: live messages, carbons and our account's archive
//! meet in one conversation, each message once.

use chrono::{DateTime, Duration, Utc};
use jid::{BareJid, FullJid, Jid};

use super::super::{Event, Input, Protocol, Store};
use confab_proto::carbons::{Carbon, Direction};
use confab_proto::fixtures::occupant_in;
use confab_proto::{ChatMessage, Incoming};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-06T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn j(s: &str) -> Jid {
    Jid::new(s).unwrap()
}

fn online() -> Store {
    let mut s = Store::new();
    s.apply(
        Input::Online {
            jid: FullJid::new("alice@localhost/a").unwrap(),
            reconnect: false,
        },
        t0(),
    );
    s
}

fn from_bob(body: &str, sid: Option<&str>) -> ChatMessage {
    let mut c = ChatMessage::new(j("bob@localhost/pda"), body);
    c.to = Some(j("alice@localhost/a"));
    if let Some(sid) = sid {
        c.stanza_ids
            .push((BareJid::new("alice@localhost").unwrap(), sid.into()));
    }
    c
}

fn carbon(direction: Direction, message: ChatMessage) -> Input {
    Input::Incoming(Incoming::Carbon(Carbon {
        from: Some(j("alice@localhost")),
        direction,
        time: None,
        message: confab_proto::carbons::Copied::Chat(message),
    }))
}

fn archived(message: ChatMessage, sid: &str, time: DateTime<Utc>) -> Input {
    Input::AccountArchive {
        message,
        stanza_id: sid.into(),
        time: Some(time),
    }
}

fn messages(ev: &[Event]) -> Vec<serde_json::Value> {
    ev.iter()
        .map(Event::to_json)
        .filter(|j| j["event"] == "message")
        .collect()
}

fn bob() -> BareJid {
    BareJid::new("bob@localhost").unwrap()
}

#[test]
fn live_carbon_and_archive_copies_are_one_message() {
    let mut s = online();
    let ev = s.apply(
        Input::Incoming(Incoming::Chat(from_bob("hi", Some("S1")))),
        t0(),
    );
    assert_eq!(messages(&ev).len(), 1);
    // The same message again, by carbon and from the archive: nothing.
    let ev = s.apply(
        carbon(Direction::Received, from_bob("hi", Some("S1"))),
        t0(),
    );
    assert!(messages(&ev).is_empty(), "{ev:?}");
    let ev = s.apply(archived(from_bob("hi", None), "S1", t0()), t0());
    assert!(messages(&ev).is_empty(), "{ev:?}");
    assert_eq!(s.conversations[&bob()].messages.len(), 1);
    let mark = s.account_mark.clone().unwrap();
    assert_eq!(mark.stanza_id, "S1");
    // A newer one from the archive: added, with the archive's time, and
    // the mark moves on; an older one does not move it back.
    let later = t0() + Duration::seconds(60);
    let ev = s.apply(archived(from_bob("again", None), "S2", later), t0());
    let m = &messages(&ev)[0];
    assert_eq!(m["delayed"], true);
    assert_eq!(m["time"], later.to_rfc3339());
    assert_eq!(m["from"], "bob@localhost/pda");
    assert_eq!(s.account_mark.as_ref().unwrap().stanza_id, "S2");
    s.apply(
        archived(from_bob("old", None), "S0", t0() - Duration::hours(1)),
        t0(),
    );
    assert_eq!(s.account_mark.as_ref().unwrap().stanza_id, "S2");
    assert_eq!(s.take_journal().len(), 3);
}

#[test]
fn a_stanza_id_by_anyone_else_is_worthless() {
    let mut s = online();
    let mut c = ChatMessage::new(j("bob@localhost/pda"), "hi");
    c.stanza_ids.push((bob(), "S1".into()));
    s.apply(Input::Incoming(Incoming::Chat(c)), t0());
    assert!(s.account_mark.is_none());
    let ev = s.apply(archived(from_bob("other", None), "S1", t0()), t0());
    assert_eq!(messages(&ev).len(), 1, "not a copy of bob's claim");
}

#[test]
fn our_messages_from_another_client_are_ours_with_the_contact() {
    let mut s = online();
    let mut mine = ChatMessage::new(j("alice@localhost/phone"), "sent elsewhere");
    mine.to = Some(j("bob@localhost"));
    let ev = s.apply(carbon(Direction::Sent, mine.clone()), t0());
    let m = &messages(&ev)[0];
    assert_eq!(m["own"], true);
    assert_eq!(m["from"], "bob@localhost");
    assert!(m.get("room").is_none());
    let line = s.conversations[&bob()].messages.last().unwrap().clone();
    assert!(line.own && line.nick.is_none());
    // Its copy from the archive (no stanza-id in the carbon): the same
    // sender and body within the same two minutes.
    let ev = s.apply(
        archived(mine.clone(), "S5", t0() + Duration::seconds(1)),
        t0(),
    );
    assert!(messages(&ev).is_empty(), "{ev:?}");
    // Our own message without a `to`: nowhere.
    mine.to = None;
    mine.body = "lost".into();
    let ev = s.apply(archived(mine, "S6", t0()), t0());
    assert!(messages(&ev).is_empty());
    // Received by another client of ours: shown too.
    let ev = s.apply(
        carbon(Direction::Received, from_bob("to the phone", None)),
        t0(),
    );
    assert_eq!(messages(&ev)[0]["own"], false);
    assert_eq!(s.conversations.len(), 1);
}

#[test]
fn carbons_of_private_messages_go_to_a_room_we_are_in_or_nowhere() {
    let mut s = online();
    let room = BareJid::new("r@conference.localhost").unwrap();
    s.apply(
        Input::Joining {
            room: room.clone(),
            nick: "alice".into(),
            protocol: Protocol::Muc,
        },
        t0(),
    );
    let p = occupant_in(&room, "alice").codes(&[110]).build();
    s.apply(Input::Incoming(Incoming::MucPresence(p)), t0());
    let mut pm = ChatMessage::new(j("r@conference.localhost/bob"), "psst");
    pm.muc_user = true;
    let ev = s.apply(carbon(Direction::Received, pm.clone()), t0());
    let m = &messages(&ev)[0];
    assert_eq!(m["room"], room.as_str());
    assert_eq!(m["private"], true);
    assert_eq!(m["nick"], "bob");
    // Ours, sent from another client.
    let mut mine = ChatMessage::new(j("alice@localhost/phone"), "psst back");
    mine.to = Some(j("r@conference.localhost/bob"));
    mine.muc_user = true;
    let ev = s.apply(carbon(Direction::Sent, mine), t0());
    let m = &messages(&ev)[0];
    assert_eq!(
        (m["own"].clone(), m["nick"].clone()),
        (true.into(), "bob".into())
    );
    // A room we are not in: nothing, and no conversation either.
    let mut other = ChatMessage::new(j("x@conference.localhost/bob"), "psst");
    other.muc_user = true;
    let ev = s.apply(carbon(Direction::Received, other), t0());
    assert!(messages(&ev).is_empty());
    assert!(s.conversations.is_empty());
}

#[test]
fn an_omemo_room_message_carries_its_lock() {
    let mut s = online();
    let room = BareJid::new("club@conference.localhost").unwrap();
    s.apply(
        Input::Joining {
            room: room.clone(),
            nick: "alice".into(),
            protocol: Protocol::Muc,
        },
        t0(),
    );
    let p = occupant_in(&room, "alice").codes(&[110]).build();
    s.apply(Input::Incoming(Incoming::MucPresence(p)), t0());
    let mut m = confab_proto::fixtures::room_message(&room, "bob", "sealed")
        .id("m1")
        .build();
    m.e2e = Some(confab_proto::omemo_pep::E2e {
        version: "0.3",
        device: 7,
        trusted: true,
        decrypted: true,
    });
    let ev = s.apply(Input::Incoming(Incoming::RoomMessage(m)), t0());
    let e = &messages(&ev)[0];
    assert_eq!(e["encrypted"]["device"], 7);
    assert_eq!(e["encrypted"]["decrypted"], true);
    let line = s.rooms[&room].messages.last().unwrap();
    assert_eq!(
        line.meta.lock,
        Some(super::super::Lock {
            trusted: true,
            decrypted: true
        })
    );
    // A plain room message has none.
    let plain = confab_proto::fixtures::room_message(&room, "bob", "open").build();
    let ev = s.apply(Input::Incoming(Incoming::RoomMessage(plain)), t0());
    assert!(messages(&ev)[0]["encrypted"].is_null());
    assert_eq!(s.rooms[&room].messages.last().unwrap().meta.lock, None);
}
