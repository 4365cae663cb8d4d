//! Re-joins without a network: the drop, the deadlines (given as
//! instants), the commands out and the events back.

use std::time::Duration;

use tokio::time::Instant;

use super::super::tests::{AV, OFFER, ROOM, T, iq_payload};
use super::{ATTEMPT_TIMEOUT, MAX_ATTEMPTS, REJOIN_AFTER};
use crate::app::call::{MediaEvent, jingle};
use crate::media::engine::{EndCause, MediaCmd};
use crate::protocol::jingle::{Action, Role, sdp};
use crate::session::{SessionCmd, SessionEvent};
use crate::store::{CallState, Event};

/// A connected conference call with bob's stream; (our sid, the stream's).
fn connected() -> (T, String, String) {
    let mut t = T::new();
    t.call(AV);
    assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
    let MediaCmd::StartSend { sid } = t.media() else {
        panic!()
    };
    t.app.on_media(MediaEvent::LocalDescription {
        sid: sid.clone(),
        sdp: OFFER.into(),
    });
    let _initiate = t.cmd();
    t.app.on_media(MediaEvent::Connected { sid: sid.clone() });
    let offer = sdp::from_sdp(OFFER, Role::Initiator).unwrap();
    let from: jid::Jid = ROOM.parse().unwrap();
    let init = jingle::session_initiate("s-bob", &from, &offer, None);
    let (answer, _) = t.request(ROOM, init);
    assert!(answer.is_ok());
    assert!(matches!(t.media(), MediaCmd::AcceptStream { .. }));
    (t, sid, "s-bob".into())
}

fn json(events: &[Event]) -> Vec<serde_json::Value> {
    events.iter().map(Event::to_json).collect()
}

/// Everything sent to the server so far.
fn drain(t: &mut T) -> Vec<SessionCmd> {
    std::iter::from_fn(|| t.cmds.try_recv().ok()).collect()
}

/// The session-terminates among `cmds`: (sid, reason).
fn terminates(cmds: Vec<SessionCmd>) -> Vec<(String, String)> {
    cmds.into_iter()
        .filter(|c| matches!(c, SessionCmd::Iq { set: true, .. }))
        .filter_map(|c| jingle::parse(&iq_payload(c).1).ok())
        .filter(|j| j.action == Action::SessionTerminate)
        .map(|j| (j.sid, j.reason.map(|r| r.condition).unwrap_or_default()))
        .collect()
}

/// The media commands so far: the sessions closed, the new one started.
fn closed_and_started(t: &mut T) -> (Vec<String>, String) {
    let mut closed = Vec::new();
    loop {
        match t.media() {
            MediaCmd::Close { sid } => closed.push(sid),
            MediaCmd::StartSend { sid } => return (closed, sid),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_drop_that_lasts_rejoins_the_same_call_cleanly() {
    let (mut t, sid, stream) = connected();
    let events = t
        .app
        .on_media(MediaEvent::Disconnected { sid: sid.clone() });
    assert_eq!(json(&events)[0]["state"], "reconnecting");
    // ICE may come back by itself: nothing before REJOIN_AFTER.
    let due = t.app.rejoin_deadline().expect("a re-join is due");
    assert!(due <= Instant::now() + REJOIN_AFTER);
    assert!(t.app.rejoin_due(Instant::now()).is_empty());
    let events = json(&t.app.rejoin_due(due));
    // Bob's stream is gone (forwarded anew), the call is the same.
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "stream" && e["state"] == "removed"),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e["event"] == "call"
            && e["state"] == "reconnecting"
            && e["reason"]
                .as_str()
                .unwrap()
                .starts_with(&format!("re-joining (attempt 1 of {MAX_ATTEMPTS})"))),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| e["state"] == "ended"), "{events:?}");
    // Both dead sessions terminated with failed-transport, presence again.
    let cmds = drain(&mut t);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, SessionCmd::Presence { .. }))
    );
    let mut ended = terminates(cmds);
    ended.sort();
    let mut want = vec![
        (sid.clone(), "failed-transport".to_string()),
        (stream.clone(), "failed-transport".to_string()),
    ];
    want.sort();
    assert_eq!(ended, want);
    let (mut closed, new) = closed_and_started(&mut t);
    closed.sort();
    let mut both = vec![sid.clone(), stream.clone()];
    both.sort();
    assert_eq!(closed, both, "the media task closes both");
    assert_ne!(new, sid, "a new session, with a new sid");
    let call = t.app.store.calls.current.as_ref().expect("the same call");
    assert_eq!(call.state, CallState::Reconnecting);
    assert_eq!(call.sid, new);
    assert!(call.streams.is_empty());

    // The old sessions are gone: the old peer's transport-info is refused.
    let cand =
        sdp::candidate_to_jingle("candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host").unwrap();
    let info = jingle::transport_info(&stream, "0", None, None, &cand);
    let (answer, events) = t.request(ROOM, info);
    assert!(answer.is_err(), "an unknown session now");
    assert!(events.is_empty());

    // The new session is offered, then connects: the call is connected.
    t.app.on_media(MediaEvent::LocalDescription {
        sid: new.clone(),
        sdp: OFFER.into(),
    });
    let (to, init) = iq_payload(t.cmd());
    assert_eq!(to.unwrap().to_string(), ROOM);
    assert_eq!(
        jingle::parse(&init).unwrap().action,
        Action::SessionInitiate
    );
    let events = json(&t.app.on_media(MediaEvent::Connected { sid: new.clone() }));
    assert_eq!(events[0]["state"], "connected");
    assert_eq!(t.app.rejoin_deadline(), None, "the drop is over");
}

#[test]
fn a_failed_session_rejoins_at_once_and_gives_up_after_its_attempts() {
    let (mut t, sid, _) = connected();
    let mut sid = sid;
    for attempt in 1..=MAX_ATTEMPTS {
        let events = json(&t.app.on_media(MediaEvent::Ended {
            sid: sid.clone(),
            reason: "connection failed".into(),
            cause: EndCause::Connection,
        }));
        assert!(
            events.iter().any(|e| e["reason"]
                .as_str()
                .is_some_and(|t| t.contains(&format!("attempt {attempt} of")))),
            "{events:?}"
        );
        drain(&mut t);
        sid = closed_and_started(&mut t).1;
        if attempt == 2 {
            // This one does not even fail: it never connects in time.
            let due = t.app.rejoin_deadline().expect("the attempt's deadline");
            assert!(due <= Instant::now() + ATTEMPT_TIMEOUT);
            let events = json(&t.app.rejoin_due(due + Duration::from_millis(1)));
            assert!(
                events.iter().any(|e| e["reason"]
                    .as_str()
                    .is_some_and(|t| t.contains("attempt 3 of"))),
                "{events:?}"
            );
            drain(&mut t);
            sid = closed_and_started(&mut t).1;
            break;
        }
    }
    // The attempts left fail, then the next failure ends the call, saying why.
    for _ in 3..=MAX_ATTEMPTS + 1 {
        let events = json(&t.app.on_media(MediaEvent::Ended {
            sid: sid.clone(),
            reason: "connection failed".into(),
            cause: EndCause::Connection,
        }));
        if let Some(end) = events.iter().find(|e| e["state"] == "ended") {
            let reason = end["reason"].as_str().unwrap();
            assert!(
                reason.contains(&format!("could not be re-joined ({MAX_ATTEMPTS} attempts)")),
                "{reason}"
            );
            assert!(t.app.store.calls.current.is_none());
            assert_eq!(t.app.rejoin_deadline(), None);
            return;
        }
        drain(&mut t);
        sid = closed_and_started(&mut t).1;
    }
    panic!("the call never ended");
}

#[test]
fn the_server_connection_lost_waits_resumed_goes_on_new_stream_rejoins() {
    let (mut t, sid, _) = connected();
    let lost = || SessionEvent::Disconnected {
        reason: crate::session::SessionError::Closed,
        retry_in: Duration::from_millis(500),
    };
    // Lost, then resumed: the media never dropped, the call goes on.
    let events = json(&t.app.on_session(lost()));
    assert!(
        events.iter().any(|e| e["state"] == "reconnecting"),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| e["state"] == "ended"), "{events:?}");
    let events = json(&t.app.on_session(SessionEvent::Resumed {
        jid: "alice@localhost/confab".parse().unwrap(),
    }));
    assert!(
        events.iter().any(|e| e["state"] == "connected"),
        "{events:?}"
    );
    drain(&mut t);
    assert!(t.media.try_recv().is_err(), "nothing restarted");

    // Lost, then a new stream: the conference dropped us; re-joined.
    t.app.on_session(lost());
    let events = json(&t.app.on_session(SessionEvent::Online {
        jid: "alice@localhost/confab".parse().unwrap(),
        reconnect: true,
    }));
    assert!(
        events.iter().any(|e| e["reason"]
            .as_str()
            .is_some_and(|t| t.contains("without resumption"))),
        "{events:?}"
    );
    let (closed, new) = closed_and_started(&mut t);
    assert!(closed.contains(&sid));
    assert_ne!(new, sid);

    // Lost for good: the call ends when the wait is over.
    t.app.on_session(lost());
    let due = t.app.rejoin_deadline().expect("the wait's end");
    let events = json(&t.app.rejoin_due(due));
    let end = events
        .iter()
        .find(|e| e["state"] == "ended")
        .expect("the call ended");
    assert!(
        end["reason"]
            .as_str()
            .unwrap()
            .contains("did not come back within 60 s"),
        "{end}"
    );
}
