//! The SFU's stanza layer without network: discovery, the ad-hoc config
//! command, refusals. (Media paths are covered by `media::rtc` tests and
//! the `tests/it/sfu.rs` integration test.)

use jid::Jid;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field};

use super::*;
use confab_proto::adhoc;
use confab_proto::jingle::{self, Reason, Role, sdp};

const SFU: &str = "sfu.localhost";
const ROOM: &str = "lounge@sfu.localhost";
const ALICE: &str = "alice@localhost/a";

/// An offer as webrtc-rs writes it (see `media::rtc`).
const OFFER: &str = "v=0\r\n\
o=- 8174605192769646979 711147662 IN IP4 0.0.0.0\r\n\
s=-\r\n\
t=0 0\r\n\
a=fingerprint:sha-256 55:12:EF:1C:07:D5:E9:DB:8B:06:A2:63:0E:D6:D2:86:04:09:EB:99:1F:C8:F0:7B:DA:83:58:E3:F3:95:DB:80\r\n\
a=group:BUNDLE 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
c=IN IP4 0.0.0.0\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=ice-ufrag:OzVwwWKpcOBfcGpb\r\n\
a=ice-pwd:DxpUQmriwHkTTYShhmptsoGWMJoPavNe\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=ssrc:306323203 cname:confab-12421f03\r\n\
a=sendonly\r\n";

fn sfu() -> Sfu {
    let (tx, _rx) = mpsc::unbounded_channel();
    Sfu::new(Options::new(SFU), tx)
}

fn iq(type_: &str, from: &str, to: &str, payload: Element) -> Element {
    stanza("iq")
        .attr(nc("type"), type_)
        .attr(nc("from"), from)
        .attr(nc("to"), to)
        .attr(nc("id"), "q1")
        .append(payload)
        .build()
}

fn query(ns_: &str, node: Option<&str>) -> Element {
    let mut b = Element::builder("query", ns_);
    if let Some(n) = node {
        b = b.attr(nc("node"), n);
    }
    b.build()
}

fn features(reply: &Element) -> Vec<String> {
    reply
        .get_child("query", ns::DISCO_INFO)
        .expect("query")
        .children()
        .filter(|c| c.is("feature", ns::DISCO_INFO))
        .filter_map(|c| c.attr("var").map(str::to_string))
        .collect()
}

fn identity(reply: &Element) -> (String, String) {
    let i = reply
        .get_child("query", ns::DISCO_INFO)
        .and_then(|q| q.get_child("identity", ns::DISCO_INFO))
        .expect("identity");
    (
        i.attr("category").unwrap_or_default().to_string(),
        i.attr("type").unwrap_or_default().to_string(),
    )
}

fn error_condition(reply: &Element) -> Option<String> {
    reply.get_child("error", NS).and_then(|e| {
        e.children()
            .find(|c| c.ns() == ns::STANZAS && c.name() != "text")
            .map(|c| c.name().to_string())
    })
}

fn error_text(reply: &Element) -> String {
    reply
        .get_child("error", NS)
        .and_then(|e| e.get_child("text", ns::STANZAS))
        .map(|t| t.text())
        .unwrap_or_default()
}

#[tokio::test]
async fn rooms_and_the_service_are_av_conferences() {
    let mut s = sfu();
    for to in [ROOM, "anything@sfu.localhost", SFU] {
        let out = s
            .on_stanza(&iq("get", ALICE, to, query(ns::DISCO_INFO, None)))
            .await;
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].attr("type"), Some("result"), "{to}");
        assert_eq!(out[0].attr("to"), Some(ALICE));
        assert_eq!(out[0].attr("from"), Some(to));
        assert_eq!(
            identity(&out[0]),
            ("conference".into(), "audio-video".into())
        );
        let f = features(&out[0]);
        assert!(
            f.iter().any(|f| f == ns::JINGLE_AV_CONFERENCES),
            "{to}: {f:?}"
        );
    }
    let room = s
        .on_stanza(&iq("get", ALICE, ROOM, query(ns::DISCO_INFO, None)))
        .await;
    let f = features(&room[0]);
    for want in [
        ns::JINGLE,
        ns::JINGLE_RTP,
        ns::JINGLE_RTP_AUDIO,
        ns::JINGLE_ICE_UDP,
        ns::JINGLE_DTLS,
        ns::COMMANDS,
    ] {
        assert!(f.iter().any(|x| x == want), "room lacks {want}");
    }
    // Someone else's domain, a room's occupant-like JID: not ours.
    let out = s
        .on_stanza(&iq(
            "get",
            ALICE,
            "lounge@sfu.localhost/x",
            query(ns::DISCO_INFO, None),
        ))
        .await;
    assert_eq!(error_condition(&out[0]).as_deref(), Some("item-not-found"));
}

#[tokio::test]
async fn the_room_lists_its_config_command() {
    let mut s = sfu();
    let out = s
        .on_stanza(&iq(
            "get",
            ALICE,
            ROOM,
            query(DISCO_ITEMS, Some(ns::COMMANDS)),
        ))
        .await;
    let q = out[0].get_child("query", DISCO_ITEMS).expect("items");
    let item = q.get_child("item", DISCO_ITEMS).expect("one command");
    assert_eq!(item.attr("node"), Some(ns::AV_CONFERENCES_CONFIG));
    assert_eq!(item.attr("jid"), Some(ROOM));
    // The service lists rooms with participants.
    s.rooms.join(ROOM, ALICE, "s1").unwrap();
    let out = s
        .on_stanza(&iq("get", ALICE, SFU, query(DISCO_ITEMS, None)))
        .await;
    let q = out[0].get_child("query", DISCO_ITEMS).expect("items");
    let jids: Vec<&str> = q.children().filter_map(|i| i.attr("jid")).collect();
    assert_eq!(jids, vec![ROOM]);
}

fn command(action: Option<&str>, sessionid: Option<&str>, form: Option<DataForm>) -> Element {
    let mut b =
        Element::builder("command", ns::COMMANDS).attr(nc("node"), ns::AV_CONFERENCES_CONFIG);
    if let Some(a) = action {
        b = b.attr(nc("action"), a);
    }
    if let Some(s) = sessionid {
        b = b.attr(nc("sessionid"), s);
    }
    if let Some(f) = form {
        b = b.append(Element::from(f));
    }
    b.build()
}

fn submit(value: &str) -> DataForm {
    DataForm::new(
        DataFormType::Submit,
        ns::AV_CONFERENCES_CONFIG,
        vec![Field::text_single(MAX_PARTICIPANTS_FIELD, value)],
    )
}

#[tokio::test]
async fn the_config_command_sets_max_participants() {
    let mut s = sfu();
    let out = s
        .on_stanza(&iq(
            "set",
            ALICE,
            ROOM,
            command(Some("execute"), None, None),
        ))
        .await;
    let c = adhoc::parse(out[0].get_child("command", ns::COMMANDS).expect("command")).unwrap();
    assert_eq!(c.status, Some(adhoc::Status::Executing));
    let form = c.form.expect("a form");
    let field = form
        .fields
        .iter()
        .find(|f| f.var.as_deref() == Some(MAX_PARTICIPANTS_FIELD))
        .expect("the field");
    assert_eq!(field.values, vec!["0".to_string()]);
    let sid = c.sessionid.expect("sessionid");

    let out = s
        .on_stanza(&iq(
            "set",
            ALICE,
            ROOM,
            command(Some("complete"), Some(&sid), Some(submit("2"))),
        ))
        .await;
    let c = adhoc::parse(out[0].get_child("command", ns::COMMANDS).unwrap()).unwrap();
    assert_eq!(c.status, Some(adhoc::Status::Completed));
    assert!(c.notes[0].text.contains("at most 2"), "{:?}", c.notes);
    assert_eq!(s.rooms.max_participants(ROOM), 2);
    assert_eq!(
        s.rooms.max_participants("other@sfu.localhost"),
        0,
        "per room"
    );

    // The form now shows the value; a bad value is a clear error.
    let out = s
        .on_stanza(&iq(
            "set",
            ALICE,
            ROOM,
            command(None, None, Some(submit("many"))),
        ))
        .await;
    assert_eq!(error_condition(&out[0]).as_deref(), Some("bad-request"));
    assert!(
        error_text(&out[0]).contains("whole number"),
        "{}",
        error_text(&out[0])
    );
    assert_eq!(s.rooms.max_participants(ROOM), 2);

    let out = s
        .on_stanza(&iq(
            "set",
            ALICE,
            ROOM,
            command(Some("cancel"), Some("x"), None),
        ))
        .await;
    let c = adhoc::parse(out[0].get_child("command", ns::COMMANDS).unwrap()).unwrap();
    assert_eq!(c.status, Some(adhoc::Status::Canceled));

    // Other nodes, and the bare service, have no such command.
    let other = Element::builder("command", ns::COMMANDS)
        .attr(nc("node"), "urn:example:nope")
        .attr(nc("action"), "execute")
        .build();
    let out = s.on_stanza(&iq("set", ALICE, ROOM, other)).await;
    assert_eq!(error_condition(&out[0]).as_deref(), Some("item-not-found"));
    let out = s
        .on_stanza(&iq("set", ALICE, SFU, command(Some("execute"), None, None)))
        .await;
    assert_eq!(error_condition(&out[0]).as_deref(), Some("item-not-found"));
}

fn initiate(sid: &str, from: &str) -> Element {
    let session = sdp::from_sdp(OFFER, Role::Initiator).expect("offer maps to Jingle");
    jingle::session_initiate(sid, &from.parse::<Jid>().unwrap(), &session, None)
}

#[tokio::test]
async fn a_caller_beyond_the_limit_is_refused_with_a_reason() {
    let mut s = sfu();
    s.rooms.set_max_participants(ROOM, 1);
    s.rooms.join(ROOM, "bob@localhost/b", "sb").unwrap();
    let out = s
        .on_stanza(&iq("set", ALICE, ROOM, initiate("sa", ALICE)))
        .await;
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(
        out[0].attr("type"),
        Some("result"),
        "the IQ is acknowledged"
    );
    let t = out[1].get_child("jingle", ns::JINGLE).expect("jingle");
    assert_eq!(t.attr("action"), Some("session-terminate"));
    assert_eq!(t.attr("sid"), Some("sa"));
    let parsed = jingle::parse(t).unwrap();
    let reason = parsed.reason.expect("a reason");
    assert_eq!(reason.condition, "busy");
    assert!(
        reason.text.as_deref().unwrap_or("").contains("is full"),
        "{reason:?}"
    );
    assert_eq!(out[1].attr("from"), Some(ROOM));
    assert_eq!(out[1].attr("to"), Some(ALICE));
    assert_eq!(s.rooms.get(ROOM).unwrap().participants.len(), 1);
    // Its answer needs nothing more.
    let answer = stanza("iq")
        .attr(nc("type"), "result")
        .attr(nc("from"), ALICE)
        .attr(nc("to"), ROOM)
        .attr(nc("id"), out[1].attr("id").unwrap())
        .build();
    assert!(s.on_stanza(&answer).await.is_empty());
}

#[tokio::test]
async fn bad_calls_get_clear_errors() {
    let mut s = sfu();
    // The service itself is not a room.
    let out = s
        .on_stanza(&iq("set", ALICE, SFU, initiate("s1", ALICE)))
        .await;
    assert_eq!(error_condition(&out[0]).as_deref(), Some("bad-request"));
    assert!(error_text(&out[0]).contains("room@sfu.localhost"));
    // An unknown session.
    let ti = jingle::session_terminate("nope", Reason::Success, None);
    let out = s.on_stanza(&iq("set", ALICE, ROOM, ti)).await;
    assert_eq!(error_condition(&out[0]).as_deref(), Some("item-not-found"));
    let unknown = out[0]
        .get_child("error", NS)
        .and_then(|e| e.get_child("unknown-session", jingle::JINGLE_ERRORS));
    assert!(unknown.is_some(), "{:?}", out[0]);
    // Malformed Jingle, and payloads we do not serve.
    let bad = Element::builder("jingle", ns::JINGLE).build();
    let out = s.on_stanza(&iq("set", ALICE, ROOM, bad)).await;
    assert_eq!(error_condition(&out[0]).as_deref(), Some("bad-request"));
    let out = s
        .on_stanza(&iq("get", ALICE, ROOM, query("jabber:iq:version", None)))
        .await;
    assert_eq!(
        error_condition(&out[0]).as_deref(),
        Some("service-unavailable")
    );
    // Stanzas without addresses, messages: ignored.
    assert!(s.on_stanza(&stanza("iq").build()).await.is_empty());
    let msg = stanza("message")
        .attr(nc("from"), ALICE)
        .attr(nc("to"), ROOM)
        .build();
    assert!(s.on_stanza(&msg).await.is_empty());
}

#[tokio::test]
async fn unavailable_presence_of_a_stranger_changes_nothing() {
    let mut s = sfu();
    s.rooms.join(ROOM, "bob@localhost/b", "sb").unwrap();
    let p = stanza("presence")
        .attr(nc("type"), "unavailable")
        .attr(nc("from"), ALICE)
        .attr(nc("to"), ROOM)
        .build();
    assert!(s.on_stanza(&p).await.is_empty());
    assert_eq!(s.rooms.get(ROOM).unwrap().participants.len(), 1);
}
