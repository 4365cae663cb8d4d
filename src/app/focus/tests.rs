use super::*;
use crate::app::fixtures::{iq_result, occupant};
use crate::command::Command;
use crate::session::SessionEvent;
use crate::store::Protocol;

fn join(app: &mut App, line: &str, options: JoinOptions) -> Exec {
    app.execute(
        Command::Join {
            room: BareJid::new("r@conference.localhost").unwrap(),
            nick: None,
            password: None,
            options,
        },
        line,
    )
}

fn xmpp(focus: Option<&str>, props: &[(&str, &str)]) -> JoinOptions {
    JoinOptions {
        focus: Some(FocusTarget::Xmpp(focus.map(|f| Jid::new(f).unwrap()))),
        focus_props: props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

const NOT_READY: &str =
    "<conference xmlns='http://jitsi.org/protocol/focus' ready='false' session-id='s-1'/>";

#[test]
fn backoff_is_bounded() {
    assert_eq!(backoff(1), Duration::from_millis(500));
    assert_eq!(backoff(2), Duration::from_secs(1));
    assert_eq!(backoff(5), Duration::from_secs(8));
    assert_eq!(backoff(40), BACKOFF_MAX);
}

#[test]
fn the_request_goes_to_focus_domain_with_properties() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    let exec = join(&mut app, "/join r --focus", xmpp(None, &[("a", "1")]));
    let tag = exec.pending.unwrap();
    let Ok(SessionCmd::Iq {
        to, payload, set, ..
    }) = rx.try_recv()
    else {
        panic!("an IQ")
    };
    assert!(set);
    assert_eq!(to.unwrap().to_string(), "focus.localhost");
    let c = Conference::from_element(&payload).unwrap();
    assert_eq!(c.room.as_deref(), Some("r@conference.localhost"));
    assert_eq!(c.properties, vec![("a".into(), "1".into())]);
    assert!(app.is_pending(tag));
}

#[test]
fn not_ready_waits_then_asks_again_with_the_session_id() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    let tag = join(&mut app, "/join r", xmpp(Some("focus.example"), &[]))
        .pending
        .unwrap();
    rx.try_recv().unwrap();
    let ev = iq_result(&mut app, tag, NOT_READY);
    assert_eq!(
        ev[0].to_json(),
        serde_json::json!({"event": "conference-waiting", "room": "r@conference.localhost",
                "focus": "focus.example", "attempt": 2, "retry_in": 0.5})
    );
    assert!(app.is_pending(tag), "still under way");
    assert!(app.tick().is_empty(), "no deadline while waiting");
    assert!(rx.try_recv().is_err(), "not at once");
    // The loop's timer is set to the back-off's end.
    assert_eq!(app.next_deadline(), Some(app.focus.retries[0].0));
    // Make the retry due.
    app.focus.retries[0].0 = Instant::now();
    app.tick();
    let Ok(SessionCmd::Iq { to, payload, .. }) = rx.try_recv() else {
        panic!("asked again")
    };
    assert_eq!(to.unwrap().to_string(), "focus.example");
    let c = Conference::from_element(&payload).unwrap();
    assert_eq!(c.session_id.as_deref(), Some("s-1"));
    // Ready: the event, then the join.
    let ev = iq_result(
        &mut app,
        tag,
        "<conference xmlns='http://jitsi.org/protocol/focus' ready='true' \
                 focusjid='focus@focus.example/focus'>\
                 <property name='sipGatewayEnabled' value='true'/></conference>",
    );
    let ready = ev.iter().find(|e| e.name() == "conference-ready").unwrap();
    assert_eq!(
        ready.to_json(),
        serde_json::json!({"event": "conference-ready", "room": "r@conference.localhost",
                "focus": "focus@focus.example/focus", "vnode": null,
                "properties": {"sipGatewayEnabled": "true"}})
    );
    let Ok(SessionCmd::Join { room, tag: t, .. }) = rx.try_recv() else {
        panic!("the join")
    };
    assert_eq!((room.as_str(), t), ("r@conference.localhost", tag));
    let room = BareJid::new("r@conference.localhost").unwrap();
    assert_eq!(
        app.conference(&room).unwrap().focus.as_deref(),
        Some("focus@focus.example/focus")
    );
}

#[test]
fn a_vnode_redirects_the_join() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    let tag = join(&mut app, "/join r", xmpp(None, &[])).pending.unwrap();
    rx.try_recv().unwrap();
    let ev = iq_result(
        &mut app,
        tag,
        "<conference xmlns='http://jitsi.org/protocol/focus' ready='true' vnode='v1'/>",
    );
    let ready = ev.iter().find(|e| e.name() == "conference-ready").unwrap();
    assert_eq!(ready.to_json()["room"], "r@conference.v1.localhost");
    assert_eq!(ready.to_json()["vnode"], "v1");
    let Ok(SessionCmd::Join { room, .. }) = rx.try_recv() else {
        panic!("the join")
    };
    assert_eq!(room.as_str(), "r@conference.v1.localhost");
    // A hostile vnode is an error, not a join.
    let tag = join(&mut app, "/join r2", xmpp(None, &[])).pending.unwrap();
    rx.try_recv().unwrap();
    let ev = iq_result(
        &mut app,
        tag,
        "<conference xmlns='http://jitsi.org/protocol/focus' ready='true' vnode='a@b/c'/>",
    );
    assert_eq!(ev.last().unwrap().name(), "error");
    assert!(!app.is_pending(tag));
}

#[test]
fn errors_and_endless_not_ready_end_the_command() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    let tag = join(&mut app, "/join r", xmpp(None, &[])).pending.unwrap();
    rx.try_recv().unwrap();
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: Err(ErrorInfo::new(
            "not-authorized",
            Some("log in first".into()),
        )),
    });
    let e = ev.last().unwrap().to_json();
    assert_eq!(e["condition"], "not-authorized");
    assert_eq!(e["command"], "/join r");
    assert!(e["text"].as_str().unwrap().contains("log in first"));
    assert!(!app.is_pending(tag));

    let tag = join(&mut app, "/join r", xmpp(None, &[])).pending.unwrap();
    for _ in 0..MAX_ATTEMPTS {
        rx.try_recv().unwrap();
        let ev = iq_result(&mut app, tag, NOT_READY);
        if !app.is_pending(tag) {
            let e = ev.last().unwrap().to_json();
            assert_eq!(e["condition"], "remote-server-timeout");
            return;
        }
        app.focus.retries[0].0 = Instant::now();
        app.tick();
    }
    panic!("never gave up");
}

#[test]
fn an_absent_default_focus_is_found_by_disco() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    let tag = join(&mut app, "/join r", xmpp(None, &[])).pending.unwrap();
    rx.try_recv().unwrap();
    let gone = || Err(ErrorInfo::new("remote-server-not-found", None));
    app.on_session(SessionEvent::IqResponse {
        tag,
        result: gone(),
    });
    let Ok(SessionCmd::Iq { to, payload, .. }) = rx.try_recv() else {
        panic!("disco#items")
    };
    assert_eq!(to.unwrap().to_string(), "localhost");
    assert_eq!(payload.name(), "query");
    let items = "<query xmlns='http://jabber.org/protocol/disco#items'>\
                     <item jid='conference.localhost'/><item jid='jicofo.localhost'/></query>";
    iq_result(&mut app, tag, items);
    let Ok(SessionCmd::Iq { to, .. }) = rx.try_recv() else {
        panic!("disco#info")
    };
    assert_eq!(to.unwrap().to_string(), "conference.localhost");
    let muc = "<query xmlns='http://jabber.org/protocol/disco#info'>\
                   <feature var='http://jabber.org/protocol/muc'/></query>";
    iq_result(&mut app, tag, muc);
    let Ok(SessionCmd::Iq { to, .. }) = rx.try_recv() else {
        panic!("disco#info")
    };
    assert_eq!(to.unwrap().to_string(), "jicofo.localhost");
    let focus = "<query xmlns='http://jabber.org/protocol/disco#info'>\
                     <feature var='http://jitsi.org/protocol/focus'/></query>";
    iq_result(&mut app, tag, focus);
    let Ok(SessionCmd::Iq { to, payload, .. }) = rx.try_recv() else {
        panic!("the request again")
    };
    assert_eq!(to.unwrap().to_string(), "jicofo.localhost");
    assert!(payload.is("conference", proto::NS));
    // A named focus that is not there is not looked for.
    let tag = join(&mut app, "/join r2", xmpp(Some("f.example"), &[]))
        .pending
        .unwrap();
    rx.try_recv().unwrap();
    let ev = app.on_session(SessionEvent::IqResponse {
        tag,
        result: gone(),
    });
    assert_eq!(
        ev.last().unwrap().to_json()["condition"],
        "remote-server-not-found"
    );
    assert!(!app.is_pending(tag));
}

const READY: &str = "<conference xmlns='http://jitsi.org/protocol/focus' ready='true' \
                         focusjid='focus@focus.example/focus' session-id='s-9'/>";

fn presence(nick: &str, jid: Option<&str>, codes: Vec<u16>) -> SessionEvent {
    let mut p = occupant("r@conference.localhost", nick)
        .affiliation(muc::Affiliation::Owner)
        .codes(&codes);
    if let Some(jid) = jid {
        p = p.jid(jid);
    }
    SessionEvent::Incoming(p.incoming())
}

/// The commands to the session about the focus and the room (not the
/// roster fetched after a reconnection and such).
fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<SessionCmd>) -> Vec<SessionCmd> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .filter(|c| match c {
            SessionCmd::Iq { payload, .. } => payload.is("conference", proto::NS),
            SessionCmd::Join { .. } | SessionCmd::Leave { .. } => true,
            SessionCmd::AppRejoins { .. } => true,
            _ => false,
        })
        .collect()
}

/// `/join r` through focus.example, ready, and in the room.
fn joined_through_the_focus() -> (App, tokio::sync::mpsc::UnboundedReceiver<SessionCmd>) {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    let tag = join(&mut app, "/join r", xmpp(Some("focus.example"), &[]))
        .pending
        .unwrap();
    rx.try_recv().unwrap();
    iq_result(&mut app, tag, READY);
    let ev = app.on_session(presence("alice", None, vec![110]));
    assert!(ev.iter().any(|e| e.name() == "joined"), "{ev:?}");
    (app, rx)
}

#[test]
fn the_trusted_focus_is_marked_and_no_other_occupant_is() {
    let (mut app, mut rx) = joined_through_the_focus();
    let room = BareJid::new("r@conference.localhost").unwrap();
    let occupant = |app: &mut App, nick: &str, jid: Option<&str>| {
        let ev = app.on_session(presence(nick, jid, Vec::new()));
        ev.iter()
            .find(|e| e.name() == "occupant")
            .expect("an occupant event")
            .to_json()
    };
    let focus = occupant(&mut app, "focus", Some("focus@focus.example/focus"));
    assert_eq!(focus["focus"], true, "{focus}");
    // Called focus, or with the focus's domain, or hiding its JID: not it.
    for (nick, jid) in [
        ("focus2", Some("focus@evil.example/focus")),
        ("mallory", Some("mallory@focus.example/focus")),
        ("hidden", None),
    ] {
        let v = occupant(&mut app, nick, jid);
        assert!(v.get("focus").is_none(), "{v}");
    }
    let r = app.store.room(&room).unwrap();
    assert!(r.is_focus(&r.occupants.get("focus").unwrap().info));
    assert!(!r.is_focus(&r.occupants.get("focus2").unwrap().info));
    // In, the session leaves the rejoin to us.
    let cmds = drain(&mut rx);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, SessionCmd::AppRejoins { room: j } if *j == room)),
        "{cmds:?}"
    );
    // A later plain join of the room trusts nobody.
    app.store.apply(
        Input::Joining {
            room: room.clone(),
            nick: "alice".into(),
            protocol: Protocol::Muc,
        },
        Utc::now(),
    );
    assert_eq!(app.store.room(&room).unwrap().focus, None);
}

fn reconnect(app: &mut App) -> Vec<Event> {
    app.on_session(SessionEvent::Disconnected {
        reason: crate::session::SessionError::Closed,
        retry_in: Duration::from_millis(500),
    });
    app.on_session(SessionEvent::Connecting { attempt: 1 });
    app.on_session(SessionEvent::Online {
        jid: jid::FullJid::new("alice@localhost/r").unwrap(),
        reconnect: true,
    })
}

#[test]
fn a_reconnection_asks_the_focus_again_before_the_rejoin() {
    let (mut app, mut rx) = joined_through_the_focus();
    let room = BareJid::new("r@conference.localhost").unwrap();
    drain(&mut rx);
    reconnect(&mut app);
    let cmds = drain(&mut rx);
    let [
        SessionCmd::Iq {
            to, payload, tag, ..
        },
    ] = &cmds[..]
    else {
        panic!("only the request again: {cmds:?}")
    };
    assert_eq!(to.as_ref().unwrap().to_string(), "focus.example");
    let c = Conference::from_element(payload).unwrap();
    assert_eq!(c.room.as_deref(), Some("r@conference.localhost"));
    assert_eq!(c.session_id.as_deref(), Some("s-9"), "the session id again");
    // The connection is lost while the focus is asked: asked again on
    // the next reconnection, the room stays ours meanwhile.
    app.on_session(SessionEvent::IqResponse {
        tag: *tag,
        result: Err(ErrorInfo::new("remote-server-timeout", None)),
    });
    reconnect(&mut app);
    assert_eq!(app.store.room(&room).unwrap().state, JoinState::Rejoining);
    let cmds = drain(&mut rx);
    let [SessionCmd::Iq { tag, .. }] = &cmds[..] else {
        panic!("the request again: {cmds:?}")
    };
    // Ready: the rejoin, no command to finish.
    let ev = iq_result(&mut app, *tag, READY);
    assert!(ev.iter().any(|e| e.name() == "conference-ready"), "{ev:?}");
    let cmds = drain(&mut rx);
    assert!(
        matches!(&cmds[..], [SessionCmd::Join { room: j, nick, .. }] if *j == room && nick == "alice"),
        "{cmds:?}"
    );
    let ev = app.on_session(presence("alice", None, vec![110]));
    let joined = ev.iter().find(|e| e.name() == "joined").unwrap().to_json();
    assert_eq!(joined["rejoined"], true);
    assert!(
        !ev.iter()
            .any(|e| matches!(e, Event::Ok { .. } | Event::Error { .. }))
    );
    assert_eq!(
        app.store
            .room(&room)
            .unwrap()
            .focus
            .as_ref()
            .map(|j| j.to_string()),
        Some("focus@focus.example/focus".into())
    );

    // The next time the focus refuses: we are out of the room.
    drain(&mut rx);
    reconnect(&mut app);
    let cmds = drain(&mut rx);
    let [SessionCmd::Iq { tag, .. }] = &cmds[..] else {
        panic!("the request again: {cmds:?}")
    };
    let ev = app.on_session(SessionEvent::IqResponse {
        tag: *tag,
        result: Err(ErrorInfo::new("not-authorized", Some("ended".into()))),
    });
    let e = ev.iter().find(|e| e.name() == "error").unwrap().to_json();
    assert_eq!(e["room"], "r@conference.localhost");
    assert_eq!(e["condition"], "not-authorized");
    assert!(e["text"].as_str().unwrap().contains("ended"), "{e}");
    assert_eq!(app.store.room(&room).unwrap().state, JoinState::Left);
    let cmds = drain(&mut rx);
    assert!(
        matches!(&cmds[..], [SessionCmd::Leave { room: j, .. }] if *j == room),
        "{cmds:?}"
    );
    // Not asked again after the next reconnection.
    reconnect(&mut app);
    assert!(drain(&mut rx).is_empty());
}

#[test]
fn a_rejoin_redirected_elsewhere_is_not_followed() {
    let (mut app, mut rx) = joined_through_the_focus();
    drain(&mut rx);
    reconnect(&mut app);
    let cmds = drain(&mut rx);
    let [SessionCmd::Iq { tag, .. }] = &cmds[..] else {
        panic!("the request again: {cmds:?}")
    };
    let ev = iq_result(
        &mut app,
        *tag,
        "<conference xmlns='http://jitsi.org/protocol/focus' ready='true' vnode='v1'/>",
    );
    let e = ev.iter().find(|e| e.name() == "error").unwrap().to_json();
    assert_eq!(e["condition"], "redirect");
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .contains("r@conference.v1.localhost"),
        "{e}"
    );
    assert!(matches!(&drain(&mut rx)[..], [SessionCmd::Leave { .. }]));
}

#[test]
fn the_machine_uid_is_stable_and_sent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = machine_uid(&data).unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(machine_uid(&data).unwrap(), id, "stable");
    let other = tempfile::tempdir().unwrap();
    assert_ne!(machine_uid(other.path()).unwrap(), id, "per installation");
    // A damaged file is made again.
    std::fs::write(data.join(MACHINE_UID_FILE), "\u{1b}[2J\n").unwrap();
    let again = machine_uid(&data).unwrap();
    assert!(valid_machine_uid(&again));
    assert_eq!(machine_uid(&data).unwrap(), again);

    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    app.set_focus_config(FocusSettings::default(), Some(data.clone()));
    join(&mut app, "/join r", xmpp(None, &[]));
    let Ok(SessionCmd::Iq { payload, .. }) = rx.try_recv() else {
        panic!("the request")
    };
    let c = Conference::from_element(&payload).unwrap();
    assert_eq!(c.machine_uid.as_deref(), Some(again.as_str()));
    // And in the JSON form.
    assert_eq!(c.to_json()["machineUid"], again);
}

#[test]
fn http_answers() {
    let ok = |status, body: &str| {
        http_answer(Ok(HttpResponse {
            status,
            body: body.into(),
        }))
    };
    let el = ok(200, r#"{"ready":true,"focusJid":"f@x"}"#)
        .unwrap()
        .unwrap();
    assert_eq!(el.attr("focusjid"), Some("f@x"));
    assert_eq!(ok(403, "").unwrap_err().condition, "not-authorized");
    assert_eq!(
        ok(400, "no room").unwrap_err().text.unwrap(),
        "HTTP 400: no room"
    );
    assert_eq!(ok(502, "").unwrap_err().condition, "undefined-condition");
    let e = ok(200, "<html>").unwrap_err();
    assert!(e.text.unwrap().contains("bad JSON"));
}

#[test]
fn the_config_routes_joins_through_the_focus() {
    let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
    app.set_focus_config(
        FocusSettings {
            entries: vec!["conference.localhost".into()],
            jid: None,
            http: Some("http://127.0.0.1:9".into()),
        },
        None,
    );
    join(&mut app, "/join r", JoinOptions::default());
    let Ok(SessionCmd::Http { url, body, .. }) = rx.try_recv() else {
        panic!("an HTTP request")
    };
    assert_eq!(url, "http://127.0.0.1:9/conference-request/v1");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"room": "r@conference.localhost"})
    );
}
