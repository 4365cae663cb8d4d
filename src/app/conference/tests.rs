use tokio::sync::mpsc::UnboundedReceiver;

use super::*;
use crate::app::fixtures::{self, el, iq_error as fail, iq_result as answer, room_message};
use crate::command::{Command, JoinOptions};
use crate::session::{SessionCmd, Tag};
use crate::store::JoinState;

const ROOM: &str = "grp@gserv.example";

fn online() -> (App, UnboundedReceiver<SessionCmd>) {
    fixtures::online("dude@example.org/x")
}

fn room() -> BareJid {
    BareJid::new(ROOM).unwrap()
}

/// The next session command that is not the answer to a push.
fn next(rx: &mut UnboundedReceiver<SessionCmd>) -> SessionCmd {
    loop {
        match rx.try_recv().expect("a session command") {
            SessionCmd::Reply { .. } => continue,
            other => return other,
        }
    }
}

/// Whether the answer to a push was a result.
fn reply(rx: &mut UnboundedReceiver<SessionCmd>) -> bool {
    loop {
        if let SessionCmd::Reply { answer, .. } = rx.try_recv().expect("a reply") {
            return answer.is_ok();
        }
    }
}

fn iq(rx: &mut UnboundedReceiver<SessionCmd>) -> (Tag, String, minidom::Element, bool) {
    match next(rx) {
        SessionCmd::Iq {
            tag,
            to,
            payload,
            set,
            ..
        } => (
            tag,
            to.map(|t| t.to_string()).unwrap_or_default(),
            payload,
            set,
        ),
        other => panic!("expected an IQ, got {other:?}"),
    }
}

fn join(app: &mut App, line: &str, options: JoinOptions, password: Option<&str>) -> Exec {
    app.execute(
        Command::Join {
            room: room(),
            nick: None,
            password: password.map(str::to_string),
            options,
        },
        line,
    )
}

fn push(app: &mut App, users: &[(&str, &str)]) -> Vec<Event> {
    let items: String = users
        .iter()
        .map(|(id, name)| format!("<user jid='{ROOM}/{id}' name='{name}'/>"))
        .collect();
    app.on_session(SessionEvent::IqRequest(IqRequest {
        from: Some(Jid::new(ROOM).unwrap()),
        id: "p".into(),
        set: true,
        payload: el(&format!(
            "<conference xmlns='jabber:iq:browse' type='private' name='Demo'>{items}</conference>"
        )),
    }))
}

fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let j = e.to_json();
            match j["event"].as_str().unwrap() {
                "occupant" => format!(
                    "{} {}",
                    j["action"].as_str().unwrap(),
                    j["nick"].as_str().unwrap()
                ),
                other => other.to_string(),
            }
        })
        .collect()
}

/// Detection, then the entry steps of the seed: presence to the bare
/// room, the set with secret, the account's nicks and privacy.
fn enter(app: &mut App, rx: &mut UnboundedReceiver<SessionCmd>) -> Tag {
    app.set_nicks(vec!["dude".into(), "dude_".into()]);
    let exec = join(
        app,
        "/join grp@gserv.example foo --private",
        JoinOptions {
            private: true,
            ..Default::default()
        },
        Some("foo"),
    );
    let tag = exec.pending.expect("under way");
    let (t, to, payload, _) = iq(rx);
    assert_eq!(t, tag, "the command's own IQ");
    assert_eq!(to, "gserv.example");
    assert!(payload.is("query", crate::protocol::ns::DISCO_INFO));
    fail(app, tag, "service-unavailable");
    let (_, to, payload, set) = iq(rx);
    assert_eq!((to.as_str(), set), (ROOM, false));
    assert_eq!(payload, proto::get());
    assert!(answer(
            app,
            tag,
            "<query xmlns='jabber:iq:conference'><nick/><secret/><privacy/><name>Demo Room</name></query>"
        )
        .is_empty());
    match next(rx) {
        SessionCmd::Presence { presence, .. } => {
            assert_eq!(presence.to.unwrap().to_string(), ROOM);
            assert_eq!(presence.type_, PType::None);
        }
        other => panic!("{other:?}"),
    }
    let (_, _, payload, set) = iq(rx);
    assert!(set);
    assert_eq!(
        payload,
        el(
            "<query xmlns='jabber:iq:conference'><secret>foo</secret><nick>dude</nick><nick>dude_</nick><privacy/></query>"
        )
    );
    tag
}

#[test]
fn entering_a_conference_room_and_its_roster() {
    let (mut app, mut rx) = online();
    let tag = enter(&mut app, &mut rx);
    let events = answer(
        &mut app,
        tag,
        "<query xmlns='jabber:iq:conference'><id>grp@gserv.example/a32d</id><nick>dude_</nick></query>",
    );
    // (Other features may follow the join with events of their own.)
    assert_eq!(names(&events)[..3], ["join dude_", "joined", "ok"]);
    let joined = events[1].to_json();
    assert_eq!(joined["protocol"], "conference");
    assert_eq!(joined["nick"], "dude_");
    assert!(!app.is_pending(tag));

    // The push: others join; it is acknowledged.
    let ev = push(&mut app, &[("d351", "jer"), ("a32d", "dude_")]);
    assert_eq!(names(&ev), ["join jer"]);
    assert!(reply(&mut rx));
    // Messages and presence from temporary JIDs are under names.
    let hi = room_message(&room(), "d351", "hi").incoming();
    let ev = app.on_session(SessionEvent::Incoming(hi));
    assert_eq!(ev[0].to_json()["nick"], "jer");
    // Rename and leave in later pushes.
    let ev = push(&mut app, &[("d351", "jeremie"), ("a32d", "dude_")]);
    assert_eq!(names(&ev), ["nick jeremie"]);
    let ev = push(&mut app, &[("a32d", "dude_"), ("f00d", "pat")]);
    assert_eq!(names(&ev), ["leave jeremie", "join pat"]);
    // /msg ROOM/NICK goes to the temporary JID.
    let exec = app.execute(
        Command::Msg {
            to: Jid::new("grp@gserv.example/pat").unwrap(),
            text: "psst".into(),
        },
        "/msg grp@gserv.example/pat psst",
    );
    assert!(exec.pending.is_some());
    match next(&mut rx) {
        SessionCmd::Message { message, .. } => {
            assert_eq!(message.to.unwrap().to_string(), "grp@gserv.example/f00d")
        }
        other => panic!("{other:?}"),
    }
    // /part: unavailable presence to the room, left.
    let exec = app.execute(
        Command::Part {
            room: room(),
            reason: None,
        },
        "/part grp@gserv.example",
    );
    assert!(names(&exec.events).contains(&"left".to_string()));
    match next(&mut rx) {
        SessionCmd::Presence { presence, .. } => {
            assert_eq!(presence.type_, PType::Unavailable);
            assert_eq!(presence.to.unwrap().to_string(), ROOM);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn set_errors_come_back_with_their_condition() {
    let (mut app, mut rx) = online();
    let tag = enter(&mut app, &mut rx);
    let ev = fail(&mut app, tag, "conflict");
    let e = ev.last().unwrap().to_json();
    assert_eq!(e["event"], "error");
    assert_eq!(e["condition"], "conflict");
    assert_eq!(e["command"], "/join grp@gserv.example foo --private");
    assert!(e["text"].as_str().unwrap().contains("taken"));
    assert_eq!(app.store.room(&room()).unwrap().state, JoinState::Left);
    // We told the room we are gone.
    match next(&mut rx) {
        SessionCmd::Presence { presence, .. } => assert_eq!(presence.type_, PType::Unavailable),
        other => panic!("{other:?}"),
    }
    assert!(!app.is_pending(tag));
}

#[test]
fn a_muc_service_gets_the_muc_join_under_the_same_command() {
    let (mut app, mut rx) = online();
    let exec = join(
        &mut app,
        "/join grp@gserv.example",
        JoinOptions::default(),
        None,
    );
    let tag = exec.pending.unwrap();
    let _ = iq(&mut rx);
    answer(
        &mut app,
        tag,
        "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text'/><feature var='http://jabber.org/protocol/muc'/></query>",
    );
    match next(&mut rx) {
        SessionCmd::Join {
            tag: t, room: r, ..
        } => {
            assert_eq!(t, tag);
            assert_eq!(r, room());
        }
        other => panic!("{other:?}"),
    }
    assert!(app.is_pending(tag));
    // Known now: the next join goes straight to the room.
    app.execute(
        Command::Join {
            room: BareJid::new("other@gserv.example").unwrap(),
            nick: None,
            password: None,
            options: JoinOptions::default(),
        },
        "/join other@gserv.example",
    );
    assert!(matches!(next(&mut rx), SessionCmd::Join { .. }));
}

#[test]
fn neither_muc_nor_conference_is_groupchat_one_point_oh() {
    let (mut app, mut rx) = online();
    let exec = join(
        &mut app,
        "/join grp@gserv.example",
        JoinOptions::default(),
        None,
    );
    let tag = exec.pending.unwrap();
    let _ = iq(&mut rx);
    fail(&mut app, tag, "service-unavailable");
    let _ = iq(&mut rx);
    fail(&mut app, tag, "feature-not-implemented");
    match next(&mut rx) {
        SessionCmd::Groupchat { room: r } => assert_eq!(r, room()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(next(&mut rx), SessionCmd::Join { tag: t, .. } if t == tag));
    assert_eq!(
        app.store.room(&room()).unwrap().protocol,
        Protocol::Groupchat
    );
    // A 404 instead: a conference room that does not exist.
    let exec = app.execute(
        Command::Join {
            room: BareJid::new("nope@other.example").unwrap(),
            nick: None,
            password: None,
            options: JoinOptions::default(),
        },
        "/join nope@other.example",
    );
    let tag = exec.pending.unwrap();
    let _ = iq(&mut rx);
    fail(&mut app, tag, "service-unavailable");
    let _ = iq(&mut rx);
    let ev = fail(&mut app, tag, "item-not-found");
    let e = ev.last().unwrap().to_json();
    assert_eq!(e["condition"], "item-not-found");
    assert!(e["text"].as_str().unwrap().contains("/create"));
}

#[test]
fn after_a_reconnection_the_room_is_entered_again() {
    let (mut app, mut rx) = online();
    let tag = enter(&mut app, &mut rx);
    answer(
        &mut app,
        tag,
        "<query xmlns='jabber:iq:conference'><id>grp@gserv.example/a32d</id><nick>dude_</nick></query>",
    );
    push(&mut app, &[("d351", "jer"), ("a32d", "dude_")]);
    app.on_session(SessionEvent::Disconnected {
        reason: crate::session::SessionError::Closed,
        retry_in: std::time::Duration::from_secs(1),
    });
    app.on_session(SessionEvent::Online {
        jid: "dude@example.org/x".parse().unwrap(),
        reconnect: true,
    });
    assert!(matches!(next(&mut rx), SessionCmd::Presence { .. }));
    let (tag, to, payload, set) = iq(&mut rx);
    assert_eq!((to.as_str(), set), (ROOM, true));
    // The nick we had, the secret, privacy.
    assert_eq!(
        payload,
        el(
            "<query xmlns='jabber:iq:conference'><secret>foo</secret><nick>dude_</nick><privacy/></query>"
        )
    );
    let ev = answer(
        &mut app,
        tag,
        "<query xmlns='jabber:iq:conference'><id>grp@gserv.example/b0b0</id><nick>dude_</nick></query>",
    );
    let joined = ev.iter().find(|e| e.name() == "joined").unwrap().to_json();
    assert_eq!(joined["rejoined"], true);
    // The new push has jer again.
    let ev = push(&mut app, &[("d351", "jer"), ("b0b0", "dude_")]);
    assert_eq!(names(&ev), ["join jer"]);
}

#[test]
fn odd_pushes_are_read_leniently() {
    let (mut app, mut rx) = online();
    let tag = enter(&mut app, &mut rx);
    answer(
        &mut app,
        tag,
        "<query xmlns='jabber:iq:conference'><id>grp@gserv.example/a32d</id><nick>dude_</nick></query>",
    );
    // Users of another room, broken JIDs, no JID, no name: only the
    // room's own users count (no name: the resource).
    let ev = app.on_session(SessionEvent::IqRequest(IqRequest {
        from: Some(Jid::new(ROOM).unwrap()),
        id: "p".into(),
        set: true,
        payload: el("<conference xmlns='jabber:iq:browse'>\
                <user jid='grp@gserv.example/a32d' name='dude_'/>\
                <user jid='other@gserv.example/x' name='intruder'/>\
                <user jid='@@@' name='broken'/>\
                <user name='nojid'/>\
                <user jid='grp@gserv.example/n0n4me'/>\
                <item jid='grp@gserv.example/i' name='not a user'/>\
              </conference>"),
    }));
    assert_eq!(names(&ev), ["join n0n4me"]);
    assert!(reply(&mut rx));
    // A set answer without id or nick is an error, not a panic.
    let tag = app
        .execute(
            Command::Nick {
                room: room(),
                nick: "x".into(),
            },
            "/nick grp@gserv.example x",
        )
        .pending
        .unwrap();
    let ev = answer(&mut app, tag, "<query xmlns='jabber:iq:conference'/>");
    assert_eq!(ev.last().unwrap().to_json()["condition"], "bad-request");
}

#[test]
fn a_refused_set_says_so_not_that_rooms_are_not_created() {
    let (mut app, mut rx) = online();
    let tag = enter(&mut app, &mut rx);
    let ev = fail(&mut app, tag, "not-allowed");
    let e = ev.last().unwrap().to_json();
    assert_eq!(e["condition"], "not-allowed");
    let text = e["text"].as_str().unwrap();
    assert!(text.contains("does not allow"), "{text}");
    assert!(!text.contains("create"), "{text}");
}

/// `/create` on a service that speaks neither XEP-0045 nor generic
/// conferencing: a groupchat 1.0 room is made by entering it (plain
/// presence), no MUC creation (no owner form, no instant config).
#[test]
fn create_on_a_groupchat_service_enters_by_presence() {
    let (mut app, mut rx) = online();
    let create = |app: &mut App| {
        app.execute(
            Command::Create {
                room: room(),
                nick: None,
                instant: true,
                fields: Vec::new(),
            },
            "/create grp@gserv.example --instant",
        )
    };
    let tag = create(&mut app).pending.unwrap();
    let _ = iq(&mut rx);
    fail(&mut app, tag, "service-unavailable");
    let _ = iq(&mut rx);
    fail(&mut app, tag, "service-unavailable");
    assert!(matches!(next(&mut rx), SessionCmd::Groupchat { .. }));
    assert!(matches!(next(&mut rx), SessionCmd::Join { tag: t, .. } if t == tag));
    assert!(app.conference.creating.is_empty());
    let ev = app.on_session(SessionEvent::Incoming(occupant(
        &room(),
        "dude",
        true,
        vec![crate::protocol::muc::StatusCode::SelfPresence],
    )));
    let joined = ev.iter().find(|e| e.name() == "joined").unwrap().to_json();
    assert_eq!(joined["protocol"], "gc");
    assert_eq!(ev.last().unwrap().to_json()["event"], "ok");
    assert!(!app.is_pending(tag));
    // Nothing of a MUC creation follows (an owner form, an instant
    // config).
    while let Ok(cmd) = rx.try_recv() {
        if let SessionCmd::Iq { payload, .. } = &cmd {
            assert_ne!(payload.ns(), crate::protocol::owner::NS, "{cmd:?}");
        }
    }

    // Left, then created again (the protocol is known now): someone
    // is there already, so it existed: conflict, and we leave again.
    app.execute(
        Command::Part {
            room: room(),
            reason: None,
        },
        "/part grp@gserv.example",
    );
    app.on_session(SessionEvent::Incoming(occupant(
        &room(),
        "dude",
        false,
        vec![crate::protocol::muc::StatusCode::SelfPresence],
    )));
    while rx.try_recv().is_ok() {}
    let tag = create(&mut app).pending.unwrap();
    assert!(app.conference.creating.is_empty());
    assert!(matches!(next(&mut rx), SessionCmd::Groupchat { .. }));
    assert!(matches!(next(&mut rx), SessionCmd::Join { .. }));
    app.on_session(SessionEvent::Incoming(occupant(
        &room(),
        "jer",
        true,
        Vec::new(),
    )));
    let ev = app.on_session(SessionEvent::Incoming(occupant(
        &room(),
        "dude",
        true,
        vec![crate::protocol::muc::StatusCode::SelfPresence],
    )));
    let e = ev.last().unwrap().to_json();
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "conflict");
    assert!(e["text"].as_str().unwrap().contains("room exists"), "{e}");
    assert!(!app.is_pending(tag));
    let mut left = false;
    while let Ok(cmd) = rx.try_recv() {
        left |= matches!(cmd, SessionCmd::Leave { .. });
    }
    assert!(left, "left the room again");
}

#[test]
fn pushes_from_strangers_are_refused() {
    let (mut app, mut rx) = online();
    let ev = push(&mut app, &[("x", "y")]);
    assert!(ev.is_empty());
    assert!(!reply(&mut rx));
}
