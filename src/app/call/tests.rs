//! Call signalling without a network: session commands and media commands
//! out, events back.

use tokio::sync::mpsc::UnboundedReceiver;

use super::*;
use crate::app::fixtures::iq_result;
use crate::protocol::iq::IqRequest;
use crate::protocol::jingle::{CoinUser, ConferenceInfo};
use crate::protocol::{adhoc, ns};
use crate::session::{SessionCmd, SessionEvent};
use xmpp_parsers::data_forms::DataForm;

pub(super) const ROOM: &str = "standup@sfu.localhost";

pub(super) const OFFER: &str = "v=0\r\n\
    o=- 4242 2 IN IP4 127.0.0.1\r\n\
    s=-\r\n\
    t=0 0\r\n\
    a=group:BUNDLE 0\r\n\
    m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
    c=IN IP4 0.0.0.0\r\n\
    a=mid:0\r\n\
    a=ice-ufrag:Ufrg\r\n\
    a=ice-pwd:pwdpwdpwdpwdpwdpwdpwdpwd\r\n\
    a=fingerprint:sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9\r\n\
    a=setup:actpass\r\n\
    a=rtcp-mux\r\n\
    a=sendonly\r\n\
    a=rtpmap:111 opus/48000/2\r\n\
    a=fmtp:111 minptime=10;useinbandfec=1\r\n";

pub(super) struct T {
    pub(super) app: App,
    pub(super) cmds: UnboundedReceiver<SessionCmd>,
    pub(super) media: UnboundedReceiver<MediaCmd>,
}

impl T {
    pub(super) fn new() -> T {
        let (app, cmds) = App::for_tests("alice@localhost", 0);
        let (handle, media) = MediaHandle::pair();
        let mut app = app.with_media(handle);
        app.on_session(SessionEvent::Online {
            jid: "alice@localhost/confab".parse().unwrap(),
            reconnect: false,
        });
        T { app, cmds, media }
    }

    pub(super) fn cmd(&mut self) -> SessionCmd {
        self.cmds.try_recv().expect("a session command")
    }

    pub(super) fn media(&mut self) -> MediaCmd {
        self.media.try_recv().expect("a media command")
    }

    pub(super) fn run(&mut self, line: &str) -> Exec {
        let cmd = crate::command::parse(line).unwrap();
        self.app.execute(cmd, line)
    }

    pub(super) fn request(&mut self, from: &str, payload: Element) -> (IqAnswer, Vec<Event>) {
        let events = self.app.on_session(SessionEvent::IqRequest(IqRequest {
            from: Some(from.parse().unwrap()),
            id: "r1".into(),
            set: true,
            payload,
        }));
        match self.cmd() {
            SessionCmd::Reply { answer, .. } => (answer, events),
            other => panic!("{other:?}"),
        }
    }

    /// `/call ROOM` answered by disco; returns our sid.
    pub(super) fn call(&mut self, disco: &str) -> (Tag, Vec<Event>) {
        let exec = self.run(&format!("/call {ROOM}"));
        let tag = exec.pending.expect("waits for disco");
        assert!(matches!(self.cmd(), SessionCmd::Iq { set: false, .. }));
        let events = iq_result(&mut self.app, tag, disco);
        (tag, events)
    }
}

pub(super) const AV: &str = "<query xmlns='http://jabber.org/protocol/disco#info'>\
    <identity category='conference' type='audio-video'/>\
    <feature var='urn:xmpp:jingle:av-conferences:0'/></query>";

pub(super) fn iq_payload(cmd: SessionCmd) -> (Option<Jid>, Element) {
    match cmd {
        SessionCmd::Iq {
            to,
            payload,
            set: true,
            ..
        } => (to, payload),
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_media_or_twice_a_call_is_refused() {
    let (mut app, _) = App::for_tests("alice@localhost", 0);
    let line = format!("/call {ROOM}");
    let e = app.execute(crate::command::parse(&line).unwrap(), &line);
    assert_eq!(e.events[0].to_json()["condition"], "service-unavailable");
    let mut t = T::new();
    t.call(AV);
    let e = t.run("/call other@sfu.localhost");
    assert_eq!(e.events[0].to_json()["condition"], "conflict");
    let e = t.run("/mute");
    assert_eq!(e.events.last().unwrap().to_json()["event"], "ok");
    assert!(matches!(t.media(), MediaCmd::StartSend { .. }));
    assert!(matches!(t.media(), MediaCmd::Mute(true)));
}

#[test]
fn a_peer_that_is_not_an_av_conference_is_an_error() {
    let mut t = T::new();
    let (_, events) = t.call(
        "<query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='conference' type='text'/>\
         <feature var='http://jabber.org/protocol/muc'/></query>",
    );
    let e = events[0].to_json();
    assert_eq!(e["event"], "error");
    assert_eq!(e["condition"], "feature-not-implemented");
    assert!(t.media.try_recv().is_err(), "no media started");
    assert!(t.app.store.calls.current.is_none());
}

#[test]
fn a_call_is_signalled_streams_come_and_go_and_hangup_ends_it() {
    let mut t = T::new();
    let (tag, events) = t.call(AV);
    assert_eq!(events[0].to_json()["state"], "connecting");
    // Directed presence to the conference, then our offer is made.
    assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
    let MediaCmd::StartSend { sid } = t.media() else {
        panic!()
    };
    t.app.on_media(MediaEvent::LocalDescription {
        sid: sid.clone(),
        sdp: OFFER.into(),
    });
    let (to, init) = iq_payload(t.cmd());
    assert_eq!(to.unwrap().to_string(), ROOM);
    let j = jingle::parse(&init).unwrap();
    assert_eq!(j.action, Action::SessionInitiate);
    assert_eq!(j.initiator.unwrap().to_string(), "alice@localhost/confab");
    assert_eq!(
        j.session.contents[0].senders,
        jingle::Senders::Initiator,
        "we only send"
    );
    // A trickled candidate goes as transport-info with our ufrag.
    t.app.on_media(MediaEvent::LocalCandidate {
        sid: sid.clone(),
        candidate: "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host".into(),
        mid: "0".into(),
    });
    let (_, info) = iq_payload(t.cmd());
    let j = jingle::parse(&info).unwrap();
    assert_eq!(j.action, Action::TransportInfo);
    assert_eq!(
        j.session.contents[0].transport.ufrag.as_deref(),
        Some("Ufrg")
    );
    assert_eq!(j.session.contents[0].transport.candidates[0].port, 50000);

    // The conference accepts: the answer goes to the media task.
    let accept = jingle::session_accept(
        &sid,
        None,
        &Jid::new(ROOM).unwrap(),
        &sdp::from_sdp(&OFFER.replace("a=sendonly", "a=recvonly"), Role::Responder).unwrap(),
        None,
    );
    let (answer, _) = t.request(ROOM, accept);
    assert!(answer.is_ok());
    assert!(matches!(t.media(), MediaCmd::RemoteAnswer { .. }));
    let events = t.app.on_media(MediaEvent::Connected { sid: sid.clone() });
    assert_eq!(events[0].to_json()["state"], "connected");
    assert_eq!(
        events[1].to_json(),
        serde_json::json!({"event":"ok","command":format!("/call {ROOM}")})
    );
    assert!(!t.app.is_pending(tag));

    // The conference forwards bob's stream.
    let coin = ConferenceInfo {
        isfocus: true,
        users: vec![CoinUser {
            entity: "xmpp:bob@localhost".into(),
            display: None,
        }],
    };
    let offer = sdp::from_sdp(OFFER, Role::Initiator).unwrap();
    let init = jingle::session_initiate("s-bob", &Jid::new(ROOM).unwrap(), &offer, Some(&coin));
    let (answer, events) = t.request(ROOM, init.clone());
    assert!(answer.is_ok());
    assert_eq!(
        events[0].to_json(),
        serde_json::json!({"event":"stream","call":ROOM,"entity":"xmpp:bob@localhost","state":"added"})
    );
    let MediaCmd::AcceptStream { sid: s, entity, .. } = t.media() else {
        panic!()
    };
    assert_eq!(
        (s.as_str(), entity.as_str()),
        ("s-bob", "xmpp:bob@localhost")
    );
    // Twice the same session is out of order.
    let (answer, _) = t.request(ROOM, init);
    assert!(answer.is_err());
    // A session from another conference is acknowledged and declined.
    let other = jingle::session_initiate(
        "s-x",
        &Jid::new("other@sfu.localhost").unwrap(),
        &offer,
        None,
    );
    let (answer, events) = t.request("other@sfu.localhost", other);
    assert!(answer.is_ok() && events.is_empty());
    let (to, term) = iq_payload(t.cmd());
    assert_eq!(to.unwrap().to_string(), "other@sfu.localhost");
    assert_eq!(
        jingle::parse(&term).unwrap().action,
        Action::SessionTerminate
    );
    // Unknown sessions are refused.
    let stray = jingle::session_terminate("nope", Reason::Gone, None);
    let (answer, _) = t.request(ROOM, stray);
    assert!(answer.is_err());

    // Levels arrive throttled in the store; bob hangs up.
    let ev = t.app.on_media(MediaEvent::Level {
        sid: "s-bob".into(),
        level: 0.4,
        speaking: true,
    });
    assert_eq!(ev[0].to_json()["event"], "audio-level");
    let (answer, events) = t.request(ROOM, jingle::session_terminate("s-bob", Reason::Gone, None));
    assert!(answer.is_ok());
    assert_eq!(events[0].to_json()["state"], "removed");
    assert!(matches!(t.media(), MediaCmd::Close { .. }));

    // We hang up: unavailable presence, terminate, media stops.
    let exec = t.run("/hangup");
    let names: Vec<String> = exec
        .events
        .iter()
        .map(|e| e.to_json()["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["call", "ok"]);
    assert_eq!(exec.events[0].to_json()["state"], "ended");
    assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
    let (_, term) = iq_payload(t.cmd());
    assert_eq!(jingle::parse(&term).unwrap().sid, sid);
    assert!(t.cmds.try_recv().is_err(), "one session left to end");
    assert!(matches!(t.media(), MediaCmd::Hangup { .. }));
    let e = t.run("/hangup");
    assert_eq!(e.events[0].to_json()["condition"], "item-not-found");
}

/// The session-initiate made from webrtc-rs's real offer, read as XML:
/// BUNDLE, rtcp-mux, the DTLS fingerprint with its setup role, Opus
/// 48000/2 with in-band FEC and 20 ms packets, and we only send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_session_initiate_has_bundle_rtcp_mux_dtls_and_opus_with_fec_and_ptime() {
    use crate::media::rtc::{AudioPeer, RtcOptions};
    let (peer, _events) = AudioPeer::offer(RtcOptions::loopback()).await.unwrap();
    let offer = peer.local_sdp().await.unwrap();
    let mut t = T::new();
    t.call(AV);
    assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
    let MediaCmd::StartSend { sid } = t.media() else {
        panic!()
    };
    t.app
        .on_media(MediaEvent::LocalDescription { sid, sdp: offer });
    let (_, init) = iq_payload(t.cmd());
    let xml = String::from(&init);
    assert_eq!(init.attr("action"), Some("session-initiate"), "{xml}");
    let group = init
        .get_child("group", ns::JINGLE_GROUPING)
        .unwrap_or_else(|| panic!("BUNDLE group: {xml}"));
    assert_eq!(group.attr("semantics"), Some("BUNDLE"), "{xml}");
    let contents: Vec<&Element> = init
        .children()
        .filter(|c| c.is("content", ns::JINGLE))
        .collect();
    assert_eq!(contents.len(), 1, "one audio content: {xml}");
    let content = contents[0];
    assert_eq!(content.attr("senders"), Some("initiator"), "{xml}");
    let name = content.attr("name").unwrap();
    assert!(
        group.children().any(|c| c.attr("name") == Some(name)),
        "the content is in the bundle: {xml}"
    );
    let desc = content.get_child("description", ns::JINGLE_RTP).unwrap();
    assert_eq!(desc.attr("media"), Some("audio"));
    assert!(
        desc.has_child("rtcp-mux", ns::JINGLE_RTP),
        "rtcp-mux: {xml}"
    );
    let opus = desc
        .children()
        .find(|p| p.name() == "payload-type" && p.attr("name") == Some("opus"))
        .unwrap_or_else(|| panic!("opus: {xml}"));
    assert_eq!(opus.attr("clockrate"), Some("48000"));
    assert_eq!(opus.attr("channels"), Some("2"));
    assert_eq!(opus.attr("ptime"), Some("20"), "20 ms packets: {xml}");
    assert!(
        opus.children()
            .any(|p| p.attr("name") == Some("useinbandfec") && p.attr("value") == Some("1")),
        "in-band FEC: {xml}"
    );
    let transport = content.get_child("transport", ns::JINGLE_ICE_UDP).unwrap();
    assert!(transport.attr("ufrag").is_some() && transport.attr("pwd").is_some());
    let fp = transport
        .get_child("fingerprint", ns::JINGLE_DTLS)
        .unwrap_or_else(|| panic!("DTLS fingerprint: {xml}"));
    assert_eq!(fp.attr("hash"), Some("sha-256"), "{xml}");
    assert_eq!(fp.attr("setup"), Some("actpass"), "{xml}");
    assert_eq!(fp.text().split(':').count(), 32, "{xml}");
    peer.close().await.unwrap();
}

const MUC_ROOM: &str = "<query xmlns='http://jabber.org/protocol/disco#info'>\
    <identity category='conference' type='text' name='Talk'/>\
    <feature var='http://jabber.org/protocol/muc'/></query>";

/// `/call` of a text room: answered with the room's disco#info.
fn call_text_room(t: &mut T) -> Vec<Event> {
    let exec = t.run("/call talk@conference.localhost");
    let tag = exec.pending.expect("waits for disco");
    let SessionCmd::Iq { to, set: false, .. } = t.cmd() else {
        panic!()
    };
    assert_eq!(to.unwrap().to_string(), "talk@conference.localhost");
    iq_result(&mut t.app, tag, MUC_ROOM)
}

#[test]
fn a_text_room_without_a_linked_service_says_how_to_link_one() {
    let mut t = T::new();
    let events = call_text_room(&mut t);
    let e = events[0].to_json();
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["command"], "/call talk@conference.localhost");
    let text = e["text"].as_str().unwrap();
    assert!(
        text.contains("talk@conference.localhost is a text chat room")
            && text.contains("call_service"),
        "{text}"
    );
    assert!(t.media.try_recv().is_err(), "no media started");
}

#[test]
fn a_text_room_calls_the_conference_of_its_name_at_the_call_service() {
    let mut t = T::new();
    t.app
        .set_call_service(Some(BareJid::new("sfu.localhost").unwrap()));
    let events = call_text_room(&mut t);
    assert_eq!(events.len(), 1, "{events:?}");
    let info = events[0].to_json();
    assert_eq!(info["event"], "info");
    assert!(
        info["text"]
            .as_str()
            .unwrap()
            .contains("calling its A/V conference talk@sfu.localhost"),
        "{info}"
    );
    // The linked conference is checked by disco too.
    let SessionCmd::Iq {
        to,
        tag,
        set: false,
        ..
    } = t.cmd()
    else {
        panic!()
    };
    assert_eq!(to.unwrap().to_string(), "talk@sfu.localhost");
    let events = iq_result(&mut t.app, tag, AV);
    assert_eq!(
        events[0].to_json(),
        serde_json::json!({"event":"call","jid":"talk@sfu.localhost","state":"connecting"})
    );
    assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
    assert!(matches!(t.media(), MediaCmd::StartSend { .. }));

    // A linked "conference" that is not one is an error about it, and
    // no link is followed twice.
    let mut t = T::new();
    t.app
        .set_call_service(Some(BareJid::new("conference.localhost").unwrap()));
    let events = call_text_room(&mut t);
    let e = events[0].to_json();
    assert_eq!(e["event"], "error", "{e}");
    assert!(t.cmds.try_recv().is_err(), "nothing more asked");
}

#[test]
fn two_calls_racing_through_disco_make_one_call() {
    let mut t = T::new();
    let first = t.run(&format!("/call {ROOM}")).pending.unwrap();
    let second = t.run("/call other@sfu.localhost").pending.unwrap();
    for tag in [first, second] {
        let _ = t.cmd();
        let events = iq_result(&mut t.app, tag, AV);
        if tag == second {
            let e = events[0].to_json();
            assert_eq!(e["event"], "error", "{e}");
            assert_eq!(e["condition"], "conflict", "{e}");
        }
    }
    assert_eq!(
        t.app.store.calls.current.as_ref().unwrap().jid.as_str(),
        ROOM
    );
}

#[test]
fn a_call_whose_media_cannot_start_fails_without_signalling() {
    let mut t = T::new();
    let (tag, _) = t.call(AV);
    assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
    let MediaCmd::StartSend { sid } = t.media() else {
        panic!()
    };
    let events = t.app.on_media(MediaEvent::Ended {
        sid,
        reason: "no microphone found".into(),
        cause: EndCause::Audio,
    });
    assert_eq!(events[0].to_json()["state"], "ended");
    let e = events[1].to_json();
    assert_eq!(e["condition"], "service-unavailable");
    assert_eq!(e["text"], "no microphone found");
    assert!(!t.app.is_pending(tag));
    // Only the unavailable presence: the conference never heard of it.
    assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
    assert!(t.cmds.try_recv().is_err());
}

#[test]
fn losing_the_server_ends_the_call_quietly() {
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
    iq_payload(t.cmd());
    let events = t.app.on_session(SessionEvent::Disconnected {
        reason: crate::session::SessionError::Io("connection reset".into()),
        retry_in: std::time::Duration::from_secs(1),
    });
    let ended = events
        .iter()
        .map(|e| e.to_json())
        .find(|e| e["event"] == "call")
        .expect("the call ends");
    assert_eq!(ended["state"], "ended");
    assert_eq!(ended["reason"], "the connection to the server was lost");
    assert!(
        events
            .iter()
            .any(|e| e.to_json()["command"] == format!("/call {ROOM}"))
    );
    assert!(t.cmds.try_recv().is_err(), "nothing is sent offline");
    assert!(matches!(t.media(), MediaCmd::Hangup { .. }));
}

#[test]
fn callconfig_form_is_edited_then_submitted_by_adhoc() {
    let mut t = T::new();
    let exec = t.run(&format!("/callconfig {ROOM}"));
    let tag = exec.pending.unwrap();
    let (_, exe) = iq_payload(t.cmd());
    assert_eq!(exe.attr("node"), Some(ns::AV_CONFERENCES_CONFIG));
    let form: DataForm = xmpp_parsers::data_forms::DataForm::try_from(
        "<x xmlns='jabber:x:data' type='form'><field var='max-participants' type='text-single'><value>0</value></field></x>"
            .parse::<Element>()
            .unwrap(),
    )
    .unwrap();
    let response = adhoc::response(
        ns::AV_CONFERENCES_CONFIG,
        "cfg-1",
        adhoc::Status::Executing,
        &[adhoc::Action::Complete],
        Some(form.clone()),
        &[],
    );
    let events = t.app.on_session(SessionEvent::IqResponse {
        tag,
        result: Ok(Some(response)),
    });
    assert_eq!(events[0].to_json()["event"], "room-form");
    assert_eq!(events[0].to_json()["purpose"], "callconfig");
    // The TUI submits the edited form: it goes back by XEP-0050.
    let exec = t
        .app
        .submit_room_form(BareJid::new(ROOM).unwrap(), form, "(form)");
    assert!(exec.pending.is_some());
    let (_, submit) = iq_payload(t.cmd());
    assert_eq!(submit.attr("sessionid"), Some("cfg-1"));
    assert_eq!(submit.attr("action"), Some("complete"));
}

#[test]
fn record_starts_and_stops_through_the_media_task_and_ends_with_its_answer() {
    let mut t = T::new();
    let e = t.run("/record");
    assert_eq!(e.events[0].to_json()["condition"], "item-not-found");
    t.call(AV);
    assert!(matches!(t.media(), MediaCmd::StartSend { .. }));
    let e = t.run("/record stop");
    assert_eq!(e.events[0].to_json()["condition"], "item-not-found");

    // Without a DIR: a new folder named after the conference.
    let exec = t.run("/record");
    let tag = exec.pending.expect("waits for the media task");
    let dir = match t.media() {
        MediaCmd::Record(Some(d)) => d,
        other => panic!("{other:?}"),
    };
    let name = dir.file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with("standup-"), "{name}");
    assert!(dir.starts_with(std::env::temp_dir().join("confab-test-recordings")));
    // A second /record while the first waits is refused.
    let e = t.run("/record /tmp/x");
    assert_eq!(e.events[0].to_json()["condition"], "conflict");
    let mix = dir.join("mix.opus");
    let events = t.app.on_media(MediaEvent::Recording {
        active: true,
        dir: Some(dir.clone()),
        files: vec![mix.clone()],
        error: None,
    });
    let json: Vec<_> = events.iter().map(Event::to_json).collect();
    assert_eq!(json[0]["event"], "recording");
    assert_eq!(json[0]["state"], "started");
    assert_eq!(json[0]["files"][0], mix.display().to_string());
    assert_eq!(json[1]["event"], "ok");
    assert!(!t.app.pending.contains_key(&tag));
    assert!(t.app.store.calls.is_recording());

    // Stopped with a write error: the files and the error are both told.
    t.run("/record stop");
    assert!(matches!(t.media(), MediaCmd::Record(None)));
    let events = t.app.on_media(MediaEvent::Recording {
        active: false,
        dir: Some(dir.clone()),
        files: vec![mix.clone(), dir.join("bob@localhost.opus")],
        error: Some("disk full".into()),
    });
    let json: Vec<_> = events.iter().map(Event::to_json).collect();
    assert!(json.iter().any(|v| v["event"] == "recording"
        && v["state"] == "stopped"
        && v["files"].as_array().map(Vec::len) == Some(2)));
    assert!(
        json.last().unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("disk full")
    );
    assert!(!t.app.store.calls.is_recording());

    // A start the media task refused: the command fails, nothing changes.
    t.run("/record /nonexistent/x");
    t.media();
    let events = t.app.on_media(MediaEvent::Recording {
        active: false,
        dir: None,
        files: Vec::new(),
        error: Some("permission denied".into()),
    });
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].to_json()["event"], "error");
    assert!(!t.app.store.calls.is_recording());
}

#[test]
fn device_switches_go_to_the_media_task_and_end_with_its_answers_in_order() {
    use crate::media::spec::{AudioIn, AudioOut};
    let mut t = T::new();
    // A spec that does not parse never reaches the media task.
    let e = t.run("/devices input tone:5");
    assert_eq!(e.events[0].to_json()["condition"], "bad-request");
    assert!(t.media.try_recv().is_err());
    // Two switches at once: answered in the order they were sent.
    let first = t.run("/devices input tone:880").pending.expect("waits");
    let second = t
        .run("/devices output device:No Such Card")
        .pending
        .expect("waits");
    assert!(matches!(t.media(), MediaCmd::Input(AudioIn::Tone(hz)) if hz == 880.0));
    assert!(matches!(t.media(), MediaCmd::Output(AudioOut::Device(n)) if n == "No Such Card"));
    let events = t.app.on_media(MediaEvent::Device {
        output: false,
        now: Some("tone 880 Hz".into()),
        error: None,
    });
    let json: Vec<_> = events.iter().map(Event::to_json).collect();
    assert_eq!(json[0]["event"], "audio-device");
    assert_eq!(json[0]["side"], "input");
    assert_eq!(json[0]["next_call"], true, "no call runs");
    assert_eq!(json[1]["event"], "ok");
    assert_eq!(json[1]["command"], "/devices input tone:880");
    assert!(!t.app.pending.contains_key(&first));
    let events = t.app.on_media(MediaEvent::Device {
        output: true,
        now: None,
        error: Some("no speaker named \"No Such Card\"".into()),
    });
    assert_eq!(events.len(), 1);
    let e = events[0].to_json();
    assert_eq!(e["event"], "error");
    assert_eq!(e["command"], "/devices output device:No Such Card");
    let text = e["text"].as_str().unwrap();
    assert!(
        text.contains("not switched") && text.contains("No Such Card"),
        "{text}"
    );
    assert!(!t.app.pending.contains_key(&second));
}

#[test]
fn a_dropped_connection_is_reconnecting_then_connected_again_without_ending() {
    let mut t = T::new();
    let (_, _) = t.call(AV);
    assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
    let MediaCmd::StartSend { sid } = t.media() else {
        panic!()
    };
    let events = t.app.on_media(MediaEvent::Connected { sid: sid.clone() });
    assert_eq!(events[0].to_json()["state"], "connected");
    let since = t.app.store.calls.current.as_ref().unwrap().connected_at;
    // A stream's drop is not the call's.
    assert!(
        t.app
            .on_media(MediaEvent::Disconnected {
                sid: "someone-else".into()
            })
            .is_empty()
    );
    let events = t
        .app
        .on_media(MediaEvent::Disconnected { sid: sid.clone() });
    let json: Vec<_> = events.iter().map(Event::to_json).collect();
    assert_eq!(json.len(), 1, "{json:?}");
    assert_eq!(
        (&json[0]["event"], &json[0]["state"]),
        (&"call".into(), &"reconnecting".into())
    );
    let events = t.app.on_media(MediaEvent::Connected { sid: sid.clone() });
    assert_eq!(events[0].to_json()["state"], "connected");
    let call = t
        .app
        .store
        .calls
        .current
        .as_ref()
        .expect("the call goes on");
    assert_eq!(call.state, crate::store::CallState::Connected);
    assert_eq!(call.connected_at, since, "the call's clock goes on");
    assert!(t.media.try_recv().is_err(), "no hang-up");
}
