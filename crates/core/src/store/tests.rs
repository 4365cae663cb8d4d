use std::time::Duration;

use super::*;
use crate::fixtures::joining;
use confab_proto::fixtures::{occupant_in, room_message};
use confab_proto::muc::{Destroyed, MucPresence, Role};
use confab_proto::{ChatMessage, RoomMessage};

mod connection;

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
