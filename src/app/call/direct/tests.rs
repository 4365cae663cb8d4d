//! One-to-one call signalling without a network: who may ring, answer,
//! call off and start the session.

use tokio::sync::mpsc::UnboundedReceiver;

use super::*;
use crate::app::fixtures::{iq_error, iq_result};
use crate::media::engine::{MediaEvent, MediaHandle};
use crate::protocol::Incoming;
use crate::protocol::iq::IqRequest;
use crate::session::SessionEvent;
use minidom::Element;

struct T {
    app: App,
    cmds: UnboundedReceiver<SessionCmd>,
    media: UnboundedReceiver<MediaCmd>,
}

impl T {
    fn new() -> T {
        let (app, cmds) = App::for_tests("alice@localhost", 0);
        let (handle, media) = MediaHandle::pair();
        let mut app = app.with_media(handle);
        app.on_session(SessionEvent::Online {
            jid: "alice@localhost/confab".parse().unwrap(),
            reconnect: false,
        });
        let mut t = T { app, cmds, media };
        while t.cmds.try_recv().is_ok() {}
        t
    }

    fn run(&mut self, line: &str) -> Exec {
        let cmd = crate::command::parse(line).unwrap();
        self.app.execute(cmd, line)
    }

    /// The JMI messages sent since the last look: (to, action, id, reason).
    fn sent(&mut self) -> Vec<(String, String, String, Option<String>)> {
        let mut out = Vec::new();
        while let Ok(cmd) = self.cmds.try_recv() {
            if let SessionCmd::Message { message, .. } = cmd
                && let Some(el) = message.payloads.iter().find(|p| p.ns() == jmi::NS)
            {
                out.push((
                    message
                        .to
                        .as_ref()
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    el.name().to_string(),
                    el.attr("id").unwrap_or_default().to_string(),
                    el.get_child("reason", crate::protocol::ns::JINGLE)
                        .and_then(|r| r.children().next())
                        .map(|c| c.name().to_string()),
                ));
            }
        }
        out
    }

    fn jmi(&mut self, from: &str, action: Jmi, sid: &str) -> Vec<Event> {
        self.app
            .on_session(SessionEvent::Incoming(Incoming::CallMessage(CallMessage {
                from: from.parse().unwrap(),
                sid: sid.to_string(),
                action,
                reason: None,
                delayed: false,
            })))
    }

    fn states(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| e.to_json())
            .filter(|v| v["event"] == "call")
            .map(|v| v["state"].as_str().unwrap().to_string())
            .collect()
    }

    /// `/call bob@localhost`, disco saying it is an account: our sid.
    fn call_bob(&mut self) -> String {
        let exec = self.run("/call bob@localhost");
        let tag = exec.pending.expect("waits for disco");
        assert!(matches!(
            self.cmds.try_recv(),
            Ok(SessionCmd::Iq { set: false, .. })
        ));
        let events = iq_result(
            &mut self.app,
            tag,
            "<query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='account' type='registered'/></query>",
        );
        assert_eq!(T::states(&events), ["proposed"]);
        let sent = self.sent();
        assert_eq!(sent.len(), 1, "{sent:?}");
        let (to, action, sid, _) = &sent[0];
        assert_eq!((to.as_str(), action.as_str()), ("bob@localhost", "propose"));
        assert_eq!(sid.len(), 32, "128 random bits");
        sid.clone()
    }

    /// Whether the request `payload` from `from` is accepted.
    fn request(&mut self, from: &str, payload: Element) -> bool {
        self.app.on_session(SessionEvent::IqRequest(IqRequest {
            from: Some(from.parse().unwrap()),
            id: "r1".into(),
            set: true,
            payload,
        }));
        loop {
            match self.cmds.try_recv().expect("an answer") {
                SessionCmd::Reply { answer, .. } => return answer.is_ok(),
                _ => continue,
            }
        }
    }
}

const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
    m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n\
    a=ice-ufrag:Ufrg\r\na=ice-pwd:pwdpwdpwdpwdpwdpwdpwdpwd\r\n\
    a=fingerprint:sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9\r\n\
    a=setup:actpass\r\na=rtcp-mux\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n";

fn initiate(sid: &str, from: &str) -> Element {
    let session = sdp::from_sdp(OFFER, Role::Initiator).unwrap();
    jingle::session_initiate(sid, &from.parse().unwrap(), &session, None)
}

#[test]
fn only_the_callee_may_ring_or_proceed_and_the_session_goes_to_who_proceeded() {
    let mut t = T::new();
    let sid = t.call_bob();
    // Someone else knows the id: nothing happens.
    assert!(t.jmi("mallory@localhost/x", Jmi::Ringing, &sid).is_empty());
    assert!(t.jmi("mallory@localhost/x", Jmi::Proceed, &sid).is_empty());
    assert!(t.jmi("mallory@localhost/x", Jmi::Reject, &sid).is_empty());
    assert!(t.media.try_recv().is_err());
    // A proceed about another id: nothing either.
    assert!(
        t.jmi("bob@localhost/phone", Jmi::Proceed, "other")
            .is_empty()
    );
    assert_eq!(
        T::states(&t.jmi("bob@localhost/phone", Jmi::Ringing, &sid)),
        ["ringing"]
    );
    let events = t.jmi("bob@localhost/phone", Jmi::Proceed, &sid);
    assert_eq!(T::states(&events), ["connecting"]);
    match t.media.try_recv().unwrap() {
        MediaCmd::StartDirect {
            sid: s,
            entity,
            offer: None,
        } => assert_eq!(
            (s.as_str(), entity.as_str()),
            (sid.as_str(), "xmpp:bob@localhost")
        ),
        other => panic!("{other:?}"),
    }
    // A second resource proceeding later changes nothing.
    assert!(t.jmi("bob@localhost/laptop", Jmi::Proceed, &sid).is_empty());
    t.app.on_media(MediaEvent::LocalDescription {
        sid: sid.clone(),
        sdp: OFFER.to_string(),
    });
    match t.cmds.try_recv().unwrap() {
        SessionCmd::Iq {
            to,
            payload,
            set: true,
            ..
        } => {
            assert_eq!(to.unwrap().to_string(), "bob@localhost/phone");
            let j = jingle::parse(&payload).unwrap();
            assert_eq!(j.action, Action::SessionInitiate);
            assert_eq!(j.session.contents[0].senders, jingle::Senders::Both);
        }
        other => panic!("{other:?}"),
    }
    // /hangup: terminate and finish.
    t.run("/hangup");
    let sent = t.sent();
    assert!(
        sent.iter()
            .any(|(to, a, s, _)| to == "bob@localhost/phone" && a == "finish" && *s == sid),
        "{sent:?}"
    );
}

#[test]
fn a_call_rings_and_only_the_caller_s_resource_may_call_it_off_or_start_it() {
    let mut t = T::new();
    let events = t.jmi(
        "bob@localhost/phone",
        Jmi::Propose {
            media: vec!["audio".into()],
        },
        "s1",
    );
    assert_eq!(T::states(&events), ["incoming"]);
    assert_eq!(
        t.sent(),
        [(
            "bob@localhost/phone".to_string(),
            "ringing".to_string(),
            "s1".to_string(),
            None
        )]
    );
    // Another resource (or account) cannot call it off.
    assert!(t.jmi("bob@localhost/laptop", Jmi::Retract, "s1").is_empty());
    assert!(t.jmi("mallory@localhost/x", Jmi::Retract, "s1").is_empty());
    // A second call meanwhile: busy.
    t.jmi(
        "carol@localhost/c",
        Jmi::Propose {
            media: vec!["audio".into()],
        },
        "s2",
    );
    assert_eq!(t.sent()[0].3.as_deref(), Some("busy"));

    let exec = t.run("/answer");
    assert!(exec.pending.is_some());
    let sent = t.sent();
    assert!(sent.contains(&("alice@localhost".into(), "accept".into(), "s1".into(), None)));
    assert!(sent.contains(&(
        "bob@localhost/phone".into(),
        "proceed".into(),
        "s1".into(),
        None
    )));
    // The session only from the resource that proposed, with its id.
    assert!(!t.request(
        "bob@localhost/laptop",
        initiate("s1", "bob@localhost/laptop")
    ));
    assert!(!t.request("bob@localhost/phone", initiate("s9", "bob@localhost/phone")));
    assert!(t.media.try_recv().is_err());
    assert!(t.request("bob@localhost/phone", initiate("s1", "bob@localhost/phone")));
    assert!(matches!(
        t.media.try_recv().unwrap(),
        MediaCmd::StartDirect { offer: Some(_), .. }
    ));
}

#[test]
fn a_ringing_call_is_declined_or_called_off() {
    let mut t = T::new();
    let propose = Jmi::Propose {
        media: vec!["audio".into()],
    };
    t.jmi("bob@localhost/phone", propose.clone(), "s1");
    t.sent();
    let exec = t.run("/reject");
    assert_eq!(T::states(&exec.events), ["ended"]);
    assert_eq!(t.sent()[0].1, "reject");
    t.jmi("bob@localhost/phone", propose, "s2");
    let events = t.jmi("bob@localhost/phone", Jmi::Retract, "s2");
    assert_eq!(T::states(&events), ["ended"]);
    let e = t.run("/answer");
    assert_eq!(e.events[0].to_json()["condition"], "item-not-found");
}

#[test]
fn an_unreachable_user_ends_the_call_with_the_reason() {
    let mut t = T::new();
    let sid = t.call_bob();
    let events = t
        .app
        .on_session(SessionEvent::Incoming(Incoming::MessageError {
            from: Some("bob@localhost".parse().unwrap()),
            id: Some(format!("jmi-{sid}-propose")),
            error: ErrorInfo::new("service-unavailable", None),
        }));
    assert_eq!(T::states(&events), ["ended"]);
    assert!(t.app.store.calls.current.is_none());
}

#[test]
fn a_user_is_an_account_or_a_jid_whose_server_will_not_say() {
    let bob: BareJid = "bob@localhost".parse().unwrap();
    let err = |c: &str| ErrorInfo::new(c, None);
    assert!(is_user(&bob, Err(&err("service-unavailable"))));
    assert!(is_user(&bob, Err(&err("subscription-required"))));
    assert!(!is_user(&bob, Err(&err("item-not-found"))));
    let domain: BareJid = "localhost".parse().unwrap();
    assert!(!is_user(&domain, Err(&err("service-unavailable"))));
    // And disco of a user that errors: the call rings.
    let mut t = T::new();
    let tag = t.run("/call bob@localhost").pending.unwrap();
    t.cmds.try_recv().unwrap();
    let events = iq_error(&mut t.app, tag, "service-unavailable");
    assert_eq!(T::states(&events), ["proposed"]);
}

#[test]
fn unanswered_calls_are_called_off_and_a_stored_proposal_is_a_missed_call() {
    let mut t = T::new();
    let sid = t.call_bob();
    let now = Instant::now();
    assert!(t.app.direct_due(now).is_empty());
    assert!(t.app.next_deadline().is_some_and(|d| d > now));
    let later = now + RING_TIMEOUT + Duration::from_secs(1);
    let events = t.app.direct_due(later);
    assert_eq!(T::states(&events), ["ended"]);
    let sent = t.sent();
    assert!(
        sent.iter()
            .any(|(to, a, s, _)| to == "bob@localhost" && a == "retract" && *s == sid),
        "{sent:?}"
    );
    assert!(t.app.store.calls.current.is_none());

    // Theirs rings here unanswered: missed.
    let propose = Jmi::Propose {
        media: vec!["audio".into()],
    };
    t.jmi("bob@localhost/phone", propose.clone(), "s1");
    let events = t.app.direct_due(later + RING_TIMEOUT);
    let ended = events[0].to_json();
    assert_eq!(ended["state"], "ended", "{ended}");
    assert!(
        ended["reason"].as_str().unwrap().contains("missed"),
        "{ended}"
    );

    // A proposal stored while we were offline does not ring.
    t.sent();
    let events = t
        .app
        .on_session(SessionEvent::Incoming(Incoming::CallMessage(CallMessage {
            from: "bob@localhost/phone".parse().unwrap(),
            sid: "s2".into(),
            action: propose,
            reason: None,
            delayed: true,
        })));
    assert!(T::states(&events).is_empty());
    assert!(t.sent().is_empty(), "no ringing");
    assert!(t.run("/answer").pending.is_none());
}

#[test]
fn a_call_ringing_when_confab_quits_is_declined() {
    let mut t = T::new();
    t.jmi(
        "bob@localhost/phone",
        Jmi::Propose {
            media: vec!["audio".into()],
        },
        "s1",
    );
    t.sent();
    let (events, media) = t.app.leave_call();
    assert!(media.is_none());
    assert_eq!(T::states(&events), ["ended"]);
    let sent = t.sent();
    assert_eq!(sent[0].0, "bob@localhost/phone");
    assert_eq!(sent[0].1, "reject");
    // Lost connection: nothing can be answered, nothing sent.
    t.jmi(
        "bob@localhost/phone",
        Jmi::Propose {
            media: vec!["audio".into()],
        },
        "s2",
    );
    t.sent();
    assert_eq!(T::states(&t.app.call_lost()), ["ended"]);
    assert!(t.sent().is_empty());
}
