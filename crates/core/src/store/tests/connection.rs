//! The store across connections: rejoins, resumption, dropped stanzas,
//! big rooms, connection steps.

use super::*;

#[test]
fn reconnect_rejoin_drops_occupants_who_left_meanwhile() {
    let mut s = joined_store();
    s.apply(inc(Incoming::MucPresence(pres("carol", true, &[]))), t0());
    let jid = FullJid::new("alice@localhost/confab").unwrap();
    let ev = s.apply(
        Input::Disconnected {
            reason: "connection reset".into(),
            retry_in: Duration::from_secs(1),
        },
        t0(),
    );
    assert_eq!(ev[0].name(), "disconnected");
    assert_eq!(s.room(&room()).unwrap().state, JoinState::Rejoining);
    let ev = s.apply(
        Input::Online {
            jid,
            reconnect: true,
        },
        t0(),
    );
    assert_eq!(ev[0].name(), "reconnected");
    // bob is still there, carol is gone.
    assert!(
        s.apply(inc(Incoming::MucPresence(pres("bob", true, &[]))), t0())
            .is_empty()
    );
    let ev = s.apply(
        inc(Incoming::MucPresence(pres("alice", true, &[110]))),
        t0(),
    );
    let names: Vec<_> = ev.iter().map(|e| e.to_json()).collect();
    assert_eq!(names[0]["action"], "leave");
    assert_eq!(names[0]["nick"], "carol");
    assert_eq!(names[1]["event"], "joined");
    assert_eq!(names[1]["rejoined"], true);
}

#[test]
fn a_resumed_stream_keeps_the_rooms_and_their_occupants() {
    let mut s = joined_store();
    s.apply(inc(Incoming::MucPresence(pres("carol", true, &[]))), t0());
    s.apply(
        Input::Disconnected {
            reason: "no acknowledgement".into(),
            retry_in: Duration::from_secs(1),
        },
        t0(),
    );
    assert_eq!(s.room(&room()).unwrap().state, JoinState::Rejoining);
    let jid = FullJid::new("alice@localhost/confab").unwrap();
    let ev = s.apply(Input::Resumed { jid }, t0());
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].to_json()["event"], "resumed");
    assert_eq!(ev[0].to_json()["jid"], "alice@localhost/confab");
    assert_eq!(s.connection, Connection::Online);
    let r = s.room(&room()).unwrap();
    assert_eq!(r.state, JoinState::Joined);
    // Nothing was missed: carol is still there, no rejoin expected.
    assert!(r.occupants.get("carol").is_some());
    // Her presence again changes nothing.
    assert!(
        s.apply(inc(Incoming::MucPresence(pres("carol", true, &[]))), t0())
            .is_empty()
    );
}

#[test]
fn a_refused_resumption_is_said_with_the_reconnection_once() {
    let mut s = joined_store();
    s.apply(
        Input::Disconnected {
            reason: "no acknowledgement".into(),
            retry_in: Duration::from_secs(1),
        },
        t0(),
    );
    let refused = Input::ResumeRefused {
        reason: "the server refused (item-not-found)".into(),
    };
    assert!(s.apply(refused, t0()).is_empty());
    let jid = FullJid::new("alice@localhost/confab").unwrap();
    let online = |jid: &FullJid| Input::Online {
        jid: jid.clone(),
        reconnect: true,
    };
    let ev = s.apply(online(&jid), t0());
    let j = ev[0].to_json();
    assert_eq!(j["event"], "reconnected");
    assert_eq!(j["resume_refused"], "the server refused (item-not-found)");
    // The next reconnection did not try to resume: nothing to say.
    let ev = s.apply(online(&jid), t0());
    assert!(ev[0].to_json().get("resume_refused").is_none(), "{ev:?}");
}

#[test]
fn unknown_rooms_are_ignored_and_malformed_is_an_error() {
    let mut s = Store::new();
    assert!(
        s.apply(inc(Incoming::MucPresence(pres("bob", true, &[]))), t0())
            .is_empty()
    );
    assert!(
        s.apply(
            inc(Incoming::RoomMessage(msg("bob", "x", None, false))),
            t0()
        )
        .is_empty()
    );
    let ev = s.apply(
        Input::Malformed {
            from: Some("evil@localhost".into()),
            text: "bad show".into(),
        },
        t0(),
    );
    assert_eq!(ev[0].to_json()["condition"], "malformed-stanza");
}

#[test]
fn a_stanza_dropped_by_the_guard_is_told_apart_from_a_room_drop() {
    use confab_proto::{Dropped, Limit};
    let mut s = Store::new();
    let ev = s.apply(
        Input::StanzaDropped(Dropped {
            stanza: "presence".into(),
            from: Some("evil@localhost/x".into()),
            id: None,
            type_: None,
            limit: Limit::Depth,
            text: "a presence from evil@localhost/x was dropped unread: …".into(),
        }),
        t0(),
    );
    let j = ev[0].to_json();
    assert_eq!(j["event"], "dropped");
    assert_eq!(j["stanza"], "presence");
    assert_eq!(j["from"], "evil@localhost/x");
    assert_eq!(j["reason"], "too-deep");
    assert!(j.get("room").is_none(), "{j}");
    assert_eq!(ev[0].name(), "dropped");
}

#[test]
fn big_room_sorted_index_and_cap() {
    let mut s = joined_store();
    for i in 0..10_000 {
        let mut p = pres(&format!("user{i:05}"), true, &[]);
        if i % 1000 == 0 {
            p.info.role = Role::Moderator;
        }
        s.apply(inc(Incoming::MucPresence(p)), t0());
    }
    let r = s.room(&room()).unwrap();
    assert_eq!(r.occupants.len(), 10_002);
    let first: Vec<_> = r
        .occupants
        .iter_sorted()
        .take(2)
        .map(|o| o.nick.clone())
        .collect();
    assert_eq!(first, vec!["user00000", "user01000"]);

    let mut log = MessageLog::with_cap(3);
    for i in 0..5 {
        log.push(Message {
            stanza_id: Some(format!("s{i}")),
            ..Message::new(Kind::Chat, t0(), None, format!("{i}"))
        });
    }
    assert_eq!(log.len(), 3);
    assert_eq!(log.iter().next().unwrap().body, "2");
}

#[test]
fn connection_steps_are_events() {
    let mut s = Store::new();
    assert!(s.apply(Input::Connecting { attempt: 1 }, t0()).is_empty());
    // First attempt failed: each retry is reported.
    let ev = s.apply(
        Input::Disconnected {
            reason: "connection-refused".into(),
            retry_in: Duration::from_millis(500),
        },
        t0(),
    );
    assert_eq!(ev[0].to_json()["retry_in"], 0.5);
    let ev = s.apply(Input::Connecting { attempt: 2 }, t0());
    assert_eq!(ev[0].to_json()["attempt"], 2);
    let jid = FullJid::new("alice@localhost/c").unwrap();
    let ev = s.apply(
        Input::Online {
            jid: jid.clone(),
            reconnect: false,
        },
        t0(),
    );
    assert_eq!(ev[0].to_json()["event"], "connected");
    // After a loss, even the first new attempt is a reconnection step.
    s.apply(
        Input::Disconnected {
            reason: "connection-lost".into(),
            retry_in: Duration::from_millis(500),
        },
        t0(),
    );
    let ev = s.apply(Input::Connecting { attempt: 1 }, t0());
    assert_eq!(ev[0].name(), "reconnecting");
    // A fatal error marks the connection failed.
    let ev = s.apply(
        Input::Fatal(ErrorInfo::new(
            "not-authorized",
            Some("check the password".to_string()),
        )),
        t0(),
    );
    assert_eq!(ev[0].to_json()["condition"], "not-authorized");
    assert_eq!(s.connection, Connection::Failed);
}
