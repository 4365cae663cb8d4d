use std::time::Duration;

use super::*;
use crate::fixtures::joining;
use confab_proto::fixtures::{occupant_in, room_message};
use confab_proto::muc::{Destroyed, MucPresence, Role};
use confab_proto::{ChatMessage, RoomMessage};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn room() -> BareJid {
    BareJid::new("r@conference.localhost").unwrap()
}

fn pres(nick: &str, available: bool, codes: &[u16]) -> MucPresence {
    occupant_in(&room(), nick)
        .available(available)
        .role(Role::Participant)
        .show(if available {
            "available"
        } else {
            "unavailable"
        })
        .codes(codes)
        .build()
}

fn inc(i: Incoming) -> Input {
    Input::Incoming(i)
}

fn joined_store() -> Store {
    let mut s = joining(&room(), "alice", t0());
    s.apply(inc(Incoming::MucPresence(pres("bob", true, &[]))), t0());
    let ev = s.apply(
        inc(Incoming::MucPresence(pres("alice", true, &[110, 201]))),
        t0(),
    );
    assert!(
        matches!(&ev[..], [Event::Occupant { .. }, Event::Joined { .. }]),
        "{ev:?}"
    );
    s
}

fn msg(nick: &str, body: &str, sid: Option<&str>, delayed: bool) -> RoomMessage {
    let mut m = room_message(&room(), nick, body).delayed(delayed);
    if let Some(sid) = sid {
        m = m.stanza_id(sid);
    }
    if delayed {
        m = m.time(t0());
    }
    m.build()
}

#[test]
fn join_completes_on_self_presence_with_notices() {
    let mut s = joining(&room(), "alice", t0());
    let ev = s.apply(inc(Incoming::MucPresence(pres("bob", true, &[]))), t0());
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].to_json()["action"], "join");
    assert_eq!(ev[0].to_json()["self"], false);
    let ev = s.apply(
        inc(Incoming::MucPresence(pres("alice", true, &[110, 201]))),
        t0(),
    );
    let j = ev.last().unwrap().to_json();
    assert_eq!(j["event"], "joined");
    assert_eq!(j["room"], "r@conference.localhost");
    assert_eq!(j["nick"], "alice");
    assert_eq!(j["protocol"], "muc");
    assert_eq!(j["notices"][0], "a new room was created");
    let r = s.room(&room()).unwrap();
    assert_eq!(r.state, JoinState::Joined);
    assert_eq!(r.occupants.len(), 2);
}

#[test]
fn occupant_update_only_when_something_changed() {
    let mut s = joined_store();
    let ev = s.apply(inc(Incoming::MucPresence(pres("bob", true, &[]))), t0());
    assert!(ev.is_empty(), "{ev:?}");
    let mut p = pres("bob", true, &[]);
    p.info.show = "away";
    p.info.status = Some("lunch".into());
    let ev = s.apply(inc(Incoming::MucPresence(p)), t0());
    let j = ev[0].to_json();
    assert_eq!(j["action"], "update");
    assert_eq!(j["show"], "away");
    assert_eq!(j["status"], "lunch");
}

#[test]
fn nick_change_keeps_the_occupant() {
    let mut s = joined_store();
    let mut p = pres("bob", false, &[303]);
    p.new_nick = Some("robert".into());
    let ev = s.apply(inc(Incoming::MucPresence(p)), t0());
    let j = ev[0].to_json();
    assert_eq!(j["action"], "nick");
    assert_eq!(j["nick"], "robert");
    assert_eq!(j["old_nick"], "bob");
    // The available presence under the new nick is not a new join.
    let ev = s.apply(inc(Incoming::MucPresence(pres("robert", true, &[]))), t0());
    assert!(ev.is_empty(), "{ev:?}");
    let r = s.room(&room()).unwrap();
    assert!(r.occupants.get("bob").is_none());
    assert!(r.occupants.get("robert").is_some());
}

#[test]
fn own_nick_change() {
    let mut s = joined_store();
    let mut p = pres("alice", false, &[303, 110]);
    p.new_nick = Some("alicia".into());
    let ev = s.apply(inc(Incoming::MucPresence(p)), t0());
    assert_eq!(ev[0].to_json()["self"], true);
    assert_eq!(s.room(&room()).unwrap().own_nick, "alicia");
    let ev = s.apply(
        inc(Incoming::MucPresence(pres("alicia", true, &[110]))),
        t0(),
    );
    assert!(ev.is_empty(), "{ev:?}");
}

#[test]
fn leave_kick_ban_destroy() {
    let mut s = joined_store();
    let ev = s.apply(inc(Incoming::MucPresence(pres("bob", false, &[]))), t0());
    assert_eq!(ev[0].to_json()["action"], "leave");
    let mut p = pres("alice", false, &[110, 307]);
    p.reason = Some("spam".into());
    p.actor = Some("mod".into());
    let ev = s.apply(inc(Incoming::MucPresence(p)), t0());
    let j = ev[0].to_json();
    assert_eq!(j["event"], "left");
    assert_eq!(j["kind"], "kicked");
    assert_eq!(j["reason"], "spam");
    assert_eq!(j["actor"], "mod");
    assert_eq!(s.room(&room()).unwrap().state, JoinState::Left);
    assert!(s.room(&room()).unwrap().occupants.is_empty());

    let mut s = joined_store();
    let mut p = pres("alice", false, &[110]);
    p.destroyed = Some(Destroyed {
        reason: Some("moving".into()),
        venue: Some("new@conference.localhost".into()),
    });
    let j = s.apply(inc(Incoming::MucPresence(p)), t0())[0].to_json();
    assert_eq!(j["kind"], "destroyed");
    assert_eq!(j["venue"], "new@conference.localhost");
    assert_eq!(j["reason"], "moving");

    let mut s = joined_store();
    let j = s.apply(
        inc(Incoming::MucPresence(pres("alice", false, &[110, 301]))),
        t0(),
    )[0]
    .to_json();
    assert_eq!(j["kind"], "banned");
}

#[test]
fn destroy_without_status_110_ends_the_room() {
    // ejabberd (and XEP-0045 §10.9's example) send the destroy presence
    // without 110, from every occupant's JID: whichever comes first ends
    // the room for us, as destroyed.
    for from in ["bob", "alice"] {
        let mut s = joined_store();
        let mut p = pres(from, false, &[]);
        p.destroyed = Some(Destroyed {
            reason: Some("gone".into()),
            venue: None,
        });
        let ev = s.apply(inc(Incoming::MucPresence(p.clone())), t0());
        let j = ev.last().unwrap().to_json();
        assert_eq!(j["event"], "left", "{from}: {ev:?}");
        assert_eq!(j["kind"], "destroyed");
        assert_eq!(j["reason"], "gone");
        assert_eq!(s.room(&room()).unwrap().state, JoinState::Left);
        // The presences that follow change nothing.
        p.nick = "alice".into();
        assert!(s.apply(inc(Incoming::MucPresence(p)), t0()).is_empty());
    }
}

#[test]
fn our_occupant_jid_is_ours_without_110() {
    let mut s = joined_store();
    let ev = s.apply(inc(Incoming::MucPresence(pres("alice", false, &[]))), t0());
    let j = ev[0].to_json();
    assert_eq!(j["event"], "left", "{ev:?}");
    assert_eq!(j["kind"], "left");
}

#[test]
fn a_nick_change_keeps_the_occupants_show() {
    let mut s = joined_store();
    let mut away = pres("bob", true, &[]);
    away.info.show = "away";
    s.apply(inc(Incoming::MucPresence(away)), t0());
    let mut p = pres("bob", false, &[303]);
    p.new_nick = Some("robert".into());
    p.info.show = "unavailable";
    let j = s.apply(inc(Incoming::MucPresence(p)), t0())[0].to_json();
    assert_eq!(j["action"], "nick");
    assert_eq!(j["show"], "away", "{j}");
}

#[test]
fn join_error_reports_condition() {
    let mut s = joining(&room(), "alice", t0());
    let ev = s.apply(
        inc(Incoming::MucPresenceError {
            room: room(),
            nick: Some("alice".into()),
            error: ErrorInfo::new("not-authorized", Some("Password required".to_string())),
        }),
        t0(),
    );
    let j = ev[0].to_json();
    assert_eq!(j["event"], "error");
    assert_eq!(j["room"], "r@conference.localhost");
    assert_eq!(j["condition"], "not-authorized");
    assert_eq!(j["text"], "Password required");
    assert_eq!(s.room(&room()).unwrap().state, JoinState::Left);
    assert_eq!(s.errors.len(), 1);
}

#[test]
fn messages_own_and_deduplicated() {
    let mut s = joined_store();
    let ev = s.apply(
        inc(Incoming::RoomMessage(msg("bob", "hi", Some("s1"), false))),
        t0(),
    );
    let j = ev[0].to_json();
    assert_eq!(j["event"], "message");
    assert_eq!(j["nick"], "bob");
    assert_eq!(j["own"], false);
    assert_eq!(j["delayed"], false);
    assert_eq!(j["private"], false);
    // Same stanza-id again (e.g. history after a rejoin): dropped.
    let ev = s.apply(
        inc(Incoming::RoomMessage(msg("bob", "hi", Some("s1"), true))),
        t0(),
    );
    assert!(ev.is_empty());
    let ev = s.apply(
        inc(Incoming::RoomMessage(msg(
            "alice",
            "mine",
            Some("s2"),
            false,
        ))),
        t0(),
    );
    assert_eq!(ev[0].to_json()["own"], true);
    assert_eq!(s.room(&room()).unwrap().messages.len(), 2);
}

#[test]
fn archive_then_history_has_no_duplicates() {
    let mut s = joined_store();
    let archived = vec![
        Message {
            kind: Kind::Chat,
            seq: 0,
            id: None,
            stanza_id: Some("a1".into()),
            time: t0(),
            nick: Some("bob".into()),
            body: "one".into(),
            own: false,
            private: false,
            delayed: true,
            archived: true,
            edited: false,
            meta: Default::default(),
        },
        Message {
            kind: Kind::Chat,
            seq: 0,
            id: None,
            stanza_id: None,
            time: t0(),
            nick: Some("bob".into()),
            body: "two".into(),
            own: false,
            private: false,
            delayed: true,
            archived: true,
            edited: false,
            meta: Default::default(),
        },
    ];
    let ev = s.apply(
        Input::Archive {
            room: room(),
            messages: archived,
        },
        t0(),
    );
    assert_eq!(ev[0].to_json()["count"], 2);
    // The room replays both: one with the stanza-id, one without but with
    // the same sender and body within the window.
    assert!(
        s.apply(
            inc(Incoming::RoomMessage(msg("bob", "one", Some("a1"), true))),
            t0()
        )
        .is_empty()
    );
    assert!(
        s.apply(
            inc(Incoming::RoomMessage(msg("bob", "two", None, true))),
            t0()
        )
        .is_empty()
    );
    // A new one passes.
    assert_eq!(
        s.apply(
            inc(Incoming::RoomMessage(msg("bob", "three", None, true))),
            t0()
        )
        .len(),
        1
    );
}

#[test]
fn private_and_direct_messages() {
    let mut s = joined_store();
    let ev = s.apply(
        inc(Incoming::Chat(ChatMessage {
            from: Jid::new("r@conference.localhost/bob").unwrap(),
            to: None,
            body: "psst".into(),
            id: None,
            time: None,
            delayed: false,
            muc_user: true,
            delays: Vec::new(),
            stanza_ids: Vec::new(),
            reply: None,
            encrypted: None,
            e2e: None,
        })),
        t0(),
    );
    let j = ev[0].to_json();
    assert_eq!(j["private"], true);
    assert_eq!(j["room"], "r@conference.localhost");
    assert_eq!(j["nick"], "bob");
    let ev = s.apply(
        inc(Incoming::Chat(ChatMessage {
            from: Jid::new("carol@localhost/phone").unwrap(),
            to: None,
            body: "hello".into(),
            id: None,
            time: None,
            delayed: false,
            muc_user: false,
            delays: Vec::new(),
            stanza_ids: Vec::new(),
            reply: None,
            encrypted: None,
            e2e: None,
        })),
        t0(),
    );
    let j = ev[0].to_json();
    assert_eq!(j["from"], "carol@localhost/phone");
    assert!(j.get("room").is_none());
    assert_eq!(
        s.conversations[&BareJid::new("carol@localhost").unwrap()]
            .messages
            .len(),
        1
    );
    // An OMEMO message's line carries its lock, as its event says.
    let ev = s.apply(
        inc(Incoming::Chat(ChatMessage {
            from: Jid::new("carol@localhost/phone").unwrap(),
            to: None,
            body: "sealed".into(),
            id: None,
            time: None,
            delayed: false,
            muc_user: false,
            delays: Vec::new(),
            stanza_ids: Vec::new(),
            reply: None,
            encrypted: None,
            e2e: Some(confab_proto::omemo_pep::E2e {
                version: "0.3",
                device: 7,
                trusted: false,
                decrypted: true,
            }),
        })),
        t0(),
    );
    assert_eq!(ev[0].to_json()["encrypted"]["trusted"], false);
    let line = s.conversations[&BareJid::new("carol@localhost").unwrap()]
        .messages
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        line.meta.lock,
        Some(crate::store::Lock {
            trusted: false,
            decrypted: true
        })
    );
}

#[test]
fn subject_is_kept() {
    let mut s = joined_store();
    let ev = s.apply(
        inc(Incoming::Subject {
            room: room(),
            nick: Some("bob".into()),
            subject: "Today: cauldrons".into(),
            delayed: false,
        }),
        t0(),
    );
    assert_eq!(ev[0].to_json()["subject"], "Today: cauldrons");
    assert_eq!(
        s.room(&room()).unwrap().subject.as_deref(),
        Some("Today: cauldrons")
    );
}

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
            kind: Kind::Chat,
            seq: 0,
            id: None,
            stanza_id: Some(format!("s{i}")),
            time: t0(),
            nick: None,
            body: format!("{i}"),
            own: false,
            private: false,
            delayed: false,
            archived: false,
            edited: false,
            meta: Default::default(),
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

#[test]
fn timeline_has_event_lines_after_the_join() {
    let mut s = joined_store();
    // bob was there before we joined: no line for him.
    assert!(s.room(&room()).unwrap().messages.is_empty());
    s.apply(inc(Incoming::MucPresence(pres("carol", true, &[]))), t0());
    let mut p = pres("carol", false, &[303]);
    p.new_nick = Some("caroline".into());
    s.apply(inc(Incoming::MucPresence(p)), t0());
    let mut p = pres("caroline", false, &[]);
    p.info.status = Some("bye".into());
    s.apply(inc(Incoming::MucPresence(p)), t0());
    s.apply(
        inc(Incoming::Subject {
            room: room(),
            nick: Some("bob".into()),
            subject: "news".into(),
            delayed: false,
        }),
        t0(),
    );
    let lines: Vec<_> = s
        .room(&room())
        .unwrap()
        .messages
        .iter()
        .map(|m| (m.kind, m.nick.clone().unwrap(), m.body.clone()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (Kind::Join, "carol".into(), "".into()),
            (Kind::NickChange, "caroline".into(), "carol".into()),
            (Kind::Leave, "caroline".into(), "bye".into()),
            (Kind::Subject, "bob".into(), "news".into()),
        ]
    );
    // Event lines are never archived.
    assert!(s.take_journal().is_empty());
}

#[test]
fn older_lines_are_prepended_with_smaller_seqs() {
    let mut s = joined_store();
    s.apply(
        inc(Incoming::RoomMessage(msg("bob", "new", Some("n1"), false))),
        t0(),
    );
    let old = |sid: &str, body: &str| Message {
        kind: Kind::Chat,
        seq: 0,
        id: None,
        stanza_id: Some(sid.into()),
        time: t0() - chrono::Duration::hours(1),
        nick: Some("bob".into()),
        body: body.into(),
        own: false,
        private: false,
        delayed: true,
        archived: true,
        edited: false,
        meta: Default::default(),
    };
    let ev = s.apply(
        Input::Older {
            room: room(),
            messages: vec![old("o1", "oldest"), old("o2", "older"), old("n1", "new")],
            complete: true,
        },
        t0(),
    );
    assert_eq!(ev[0].to_json()["count"], 2);
    let log = &s.room(&room()).unwrap().messages;
    let got: Vec<_> = log.iter().map(|m| (m.seq, m.body.as_str())).collect();
    assert_eq!(got, vec![(-2, "oldest"), (-1, "older"), (0, "new")]);
    assert!(!log.more_in_archive);
    assert_eq!(log.since(-1).count(), 2);
}

#[test]
fn a_chat_delay_is_trusted_only_from_our_server_just_after_login() {
    use confab_proto::Delay;
    let mut s = Store::new();
    let jid = jid::FullJid::new("alice@localhost/confab").unwrap();
    s.apply(
        Input::Online {
            jid,
            reconnect: false,
        },
        t0(),
    );
    let stamp = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 2, 3, 4, 5).unwrap();
    let chat = |delay_from: &str| {
        inc(Incoming::Chat(ChatMessage {
            from: Jid::new("bob@example.org/x").unwrap(),
            to: None,
            body: "hi".into(),
            id: None,
            time: None,
            delayed: false,
            muc_user: false,
            delays: vec![Delay {
                stamp: Some(stamp),
                from: Some(Jid::new(delay_from).unwrap()),
            }],
            stanza_ids: Vec::new(),
            reply: None,
            encrypted: None,
            e2e: None,
        }))
    };
    // Offline storage, delivered just after login: the stored time.
    let ev = s.apply(chat("localhost"), t0() + chrono::Duration::seconds(2));
    assert_eq!(ev[0].to_json()["time"], stamp.to_rfc3339());
    assert_eq!(ev[0].to_json()["delayed"], true);
    // The sender's own claim: the time it arrived.
    let now = t0() + chrono::Duration::seconds(3);
    let ev = s.apply(chat("example.org"), now);
    assert_eq!(ev[0].to_json()["time"], now.to_rfc3339());
    assert_eq!(ev[0].to_json()["delayed"], false);
    // Our server's delay long after login is a forgery too.
    let later = t0() + chrono::Duration::seconds(600);
    let ev = s.apply(chat("localhost"), later);
    assert_eq!(ev[0].to_json()["time"], later.to_rfc3339());
}

/// Found by the fuzzer (`src/fuzz_cases/`): a chat (or normal) message
/// from a room's bare JID opened a conversation under the room's JID: the
/// room was listed twice in the window list and the line was hidden
/// behind the room's window.
#[test]
fn fuzz_chat_from_a_rooms_bare_jid_is_a_line_of_the_room() {
    let mut s = joined_store();
    let before = s.room(&room()).unwrap().messages.len();
    let ev = s.apply(
        inc(Incoming::Chat(confab_proto::ChatMessage {
            from: Jid::from(room()),
            to: None,
            body: "the room is closing".into(),
            id: None,
            time: None,
            delayed: false,
            muc_user: false,
            delays: vec![],
            stanza_ids: Vec::new(),
            reply: None,
            encrypted: None,
            e2e: None,
        })),
        t0(),
    );
    assert_eq!(s.windows().count(), 1, "one window for the room");
    assert!(s.conversations.is_empty());
    assert_eq!(s.room(&room()).unwrap().messages.len(), before + 1);
    assert_eq!(ev[0].to_json()["room"], "r@conference.localhost");
    // Sending to the room's JID does not list it twice either.
    s.apply(
        Input::SentChat {
            to: Jid::from(room()),
            body: "x".into(),
            id: "i".into(),
            private: false,
            reply: None,
            e2e: None,
        },
        t0(),
    );
    assert_eq!(s.windows().count(), 1);
}
