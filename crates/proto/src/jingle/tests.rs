use super::*;
use crate::fixtures::el;
use xmpp_parsers::hashes::Algo;
use xmpp_parsers::jingle_dtls_srtp::Setup;
use xmpp_parsers::jingle_ice_udp::Type;

/// XEP-0167 example 1 (with its XEP-0176 ICE-UDP transport).
pub(super) const XEP_0167_INITIATE: &str = "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>\
  <content creator='initiator' name='voice'>\
    <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
      <payload-type id='96' name='speex' clockrate='16000'/>\
      <payload-type id='97' name='speex' clockrate='8000'/>\
      <payload-type id='18' name='G729'/>\
      <payload-type id='0' name='PCMU'/>\
      <payload-type id='103' name='L16' clockrate='16000' channels='2'/>\
      <payload-type id='98' name='x-ISAC' clockrate='8000'/>\
    </description>\
    <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
      <candidate component='1' foundation='1' generation='0' id='el0747fg11' ip='10.0.1.1' network='1' port='8998' priority='2130706431' protocol='udp' type='host'/>\
      <candidate component='1' foundation='2' generation='0' id='y3s2b30v3r' ip='192.0.2.3' network='1' port='45664' priority='1694498815' protocol='udp' rel-addr='10.0.1.1' rel-port='8998' type='srflx'/>\
    </transport>\
  </content>\
</jingle>";

/// An Opus session as confab sends it: XEP-0320 fingerprint in the
/// transport, XEP-0338 BUNDLE, XEP-0293 rtcp-fb, XEP-0294 header
/// extension, XEP-0339 source.
pub(super) const OPUS_INITIATE: &str = "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='alice@localhost/confab' sid='s-opus-1'>\
  <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='0'/></group>\
  <content creator='initiator' name='0' senders='initiator'>\
    <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
      <payload-type id='111' name='opus' clockrate='48000' channels='2'>\
        <parameter name='minptime' value='10'/>\
        <parameter name='useinbandfec' value='1'/>\
        <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/>\
      </payload-type>\
      <rtcp-mux/>\
      <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2694138343'>\
        <parameter name='cname' value='confab-alice'/>\
        <parameter name='msid' value='confab-stream confab-audio'/>\
      </source>\
      <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>\
    </description>\
    <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='lYuXmvHQvbtmLfQmmLlOMnJHSdUstPeH' ufrag='hJGDKyXqvMkbSBdd'>\
      <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2</fingerprint>\
      <candidate component='1' foundation='1966762133' generation='0' id='c1' ip='127.0.0.1' port='52344' priority='2130706431' protocol='udp' type='host'/>\
    </transport>\
  </content>\
  <conference-info xmlns='urn:xmpp:coin:1' isfocus='true'><users><user entity='xmpp:bob@localhost'/></users></conference-info>\
</jingle>";

#[test]
fn xep_0167_session_initiate() {
    let j = parse(&el(XEP_0167_INITIATE)).unwrap();
    assert_eq!(j.action, Action::SessionInitiate);
    assert_eq!(j.sid, "a73sjjvkla37jfea");
    assert_eq!(
        j.initiator.as_ref().unwrap().to_string(),
        "romeo@montague.lit/orchard"
    );
    assert!(j.conference.is_none() && j.reason.is_none() && j.session.bundle.is_none());
    let c = &j.session.contents[0];
    assert_eq!(c.name, "voice");
    assert_eq!(c.creator, Creator::Initiator);
    assert_eq!(c.senders, Senders::Both);
    let d = c.description.as_ref().unwrap();
    assert_eq!(d.media, "audio");
    let ids: Vec<u8> = d.payload_types.iter().map(|p| p.id).collect();
    assert_eq!(ids, [96, 97, 18, 0, 103, 98]);
    assert_eq!(d.payload_types[4].channels.0, 2);
    assert_eq!(d.payload_types[2].clockrate, None);
    let t = &c.transport;
    assert_eq!(t.ufrag.as_deref(), Some("8hhy"));
    assert_eq!(t.pwd.as_deref(), Some("asd88fgpdd777uzjYhagZg"));
    assert_eq!(t.candidates.len(), 2);
    let srflx = &t.candidates[1];
    assert_eq!(srflx.type_, Type::Srflx);
    assert_eq!(srflx.id, "y3s2b30v3r");
    assert_eq!(srflx.rel_addr.unwrap().to_string(), "10.0.1.1");
    assert_eq!(srflx.rel_port, Some(8998));
    assert_eq!(srflx.network, Some(1));
}

#[test]
fn session_initiate_round_trip_through_builder() {
    for xml in [XEP_0167_INITIATE, OPUS_INITIATE] {
        let j = parse(&el(xml)).unwrap();
        let built = session_initiate(
            &j.sid,
            j.initiator.as_ref().unwrap(),
            &j.session,
            j.conference.as_ref(),
        );
        let back = parse(&built).unwrap();
        assert_eq!(back, j, "{xml}");
        // xmpp-parsers reads our element too.
        let xp = xmpp_parsers::jingle::Jingle::try_from(built).unwrap();
        assert_eq!(xp.contents.len(), 1);
    }
}

#[test]
fn xep_0320_fingerprint_and_xep_0338_group() {
    let j = parse(&el(OPUS_INITIATE)).unwrap();
    assert_eq!(j.session.bundle, Some(vec!["0".to_string()]));
    let c = &j.session.contents[0];
    assert_eq!(c.senders, Senders::Initiator);
    let f = c.transport.fingerprint.as_ref().unwrap();
    assert_eq!(f.hash, Algo::Sha_256);
    assert_eq!(f.setup, Setup::Actpass);
    assert_eq!(f.value.len(), 32);
    assert_eq!(f.value[..3], [0x02, 0x1a, 0xcc]);
    // Written back as upper-case colon hex, as in XEP-0320.
    let t = transport_element(&c.transport);
    let fp = t.get_child("fingerprint", ns::JINGLE_DTLS).unwrap();
    assert!(fp.text().starts_with("02:1A:CC:54"));
    assert_eq!(fp.attr("setup"), Some("actpass"));
    let d = c.description.as_ref().unwrap();
    assert!(d.rtcp_mux);
    let opus = &d.payload_types[0];
    assert_eq!(opus.name.as_deref(), Some("opus"));
    assert_eq!(opus.parameters[1].name, "useinbandfec");
    assert_eq!(opus.rtcp_fbs[0].type_, "transport-cc");
    assert_eq!(d.ssrcs[0].id, 2694138343);
    assert_eq!(d.hdrexts[0].id, 1);
}

#[test]
fn coin_sits_in_the_jingle_element() {
    let j = parse(&el(OPUS_INITIATE)).unwrap();
    let ci = j.conference.as_ref().unwrap();
    assert!(ci.isfocus);
    assert_eq!(ci.entity(), Some("xmpp:bob@localhost"));
    let built = session_initiate(
        "s2",
        &"sfu.localhost".parse().unwrap(),
        &j.session,
        Some(&ConferenceInfo::focus_of("sip:carol@example.com")),
    );
    let child = built.get_child("conference-info", ns::COIN).unwrap();
    assert_eq!(child.attr("isfocus"), Some("true"));
    assert_eq!(
        parse(&built).unwrap().conference.unwrap().entity(),
        Some("sip:carol@example.com")
    );
}

#[test]
fn session_accept_round_trip() {
    let j = parse(&el(OPUS_INITIATE)).unwrap();
    let mut session = j.session.clone();
    session.contents[0]
        .transport
        .fingerprint
        .as_mut()
        .unwrap()
        .setup = Setup::Active;
    let responder: Jid = "room@sfu.localhost".parse().unwrap();
    let a = session_accept(
        "s-opus-1",
        j.initiator.as_ref(),
        &responder,
        &session,
        Some(&ConferenceInfo {
            isfocus: true,
            users: vec![],
        }),
    );
    let back = parse(&a).unwrap();
    assert_eq!(back.action, Action::SessionAccept);
    assert_eq!(back.responder.as_ref(), Some(&responder));
    assert_eq!(back.initiator, j.initiator);
    assert_eq!(back.session, session);
    assert!(back.conference.unwrap().isfocus);
}

#[test]
fn transport_info_with_one_candidate() {
    let cand = sdp::candidate_to_jingle(
        "candidate:842163049 1 udp 1677729535 192.0.2.7 61665 typ srflx raddr 10.0.0.2 rport 61665 generation 0",
    )
    .unwrap();
    let e = transport_info("sid1", "0", Some("uf"), Some("pw"), &cand);
    // XEP-0176 shape: content with creator and name, transport with the credentials.
    let content = e.get_child("content", ns::JINGLE).unwrap();
    assert_eq!(content.attr("creator"), Some("initiator"));
    let t = content.get_child("transport", ns::JINGLE_ICE_UDP).unwrap();
    assert_eq!(t.attr("ufrag"), Some("uf"));
    let j = parse(&e).unwrap();
    assert_eq!(j.action, Action::TransportInfo);
    let c = &j.session.contents[0];
    assert_eq!(c.name, "0");
    assert!(c.description.is_none());
    assert_eq!(c.transport.pwd.as_deref(), Some("pw"));
    assert_eq!(c.transport.candidates, vec![cand]);
}

#[test]
fn session_terminate_reasons() {
    let cases = [
        (Reason::Success, "success"),
        (Reason::Decline, "decline"),
        (Reason::Gone, "gone"),
        (Reason::Busy, "busy"),
        (Reason::FailedTransport, "failed-transport"),
        (Reason::GeneralError, "general-error"),
        (Reason::Cancel, "cancel"),
    ];
    for (reason, name) in cases {
        assert_eq!(reason_name(&reason), name);
        for text in [None, Some("the room is full")] {
            let e = session_terminate("t1", reason.clone(), text);
            let j = parse(&e).unwrap();
            assert_eq!(j.action, Action::SessionTerminate);
            let r = j.reason.unwrap();
            assert_eq!(r.condition, name);
            assert_eq!(r.text.as_deref(), text);
            // And xmpp-parsers agrees on the shape.
            xmpp_parsers::jingle::Jingle::try_from(e).unwrap();
        }
    }
    // XEP-0166 example: <success/> with a text.
    let j = parse(&el(
        "<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a73sjjvkla37jfea'>\
           <reason><success/><text>Sorry, gotta go!</text></reason></jingle>",
    ))
    .unwrap();
    assert_eq!(
        j.reason.as_ref().unwrap().to_string(),
        "success: Sorry, gotta go!"
    );
    // An unknown condition is kept, not an error.
    let j = parse(&el(
        "<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='x'><reason><eaten-by-grue/></reason></jingle>",
    ))
    .unwrap();
    assert_eq!(j.reason.unwrap().condition, "eaten-by-grue");
}

#[test]
fn jitsi_source_add_is_an_unknown_action_not_a_failure() {
    let xml = "<jingle xmlns='urn:xmpp:jingle:1' action='source-add' sid='jitsi1'>\
        <content name='audio'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3735928559'><parameter name='msid' value='a b'/></source>\
        </description></content></jingle>";
    assert!(
        xmpp_parsers::jingle::Jingle::try_from(el(xml)).is_err(),
        "the trap this parser avoids"
    );
    let j = parse(&el(xml)).unwrap();
    assert_eq!(j.action, Action::Other("source-add".into()));
    assert_eq!(j.action.name(), "source-add");
    assert_eq!(Action::from_name("transport-info"), Action::TransportInfo);
    assert_eq!(Action::TransportInfo.name(), "transport-info");
    assert_eq!(
        j.session.contents[0].description.as_ref().unwrap().ssrcs[0].id,
        3735928559
    );
}

#[test]
fn hostile_jingle_gives_clear_errors() {
    let cases = [
        (
            "<jingle xmlns='urn:xmpp:jingle:1' sid='x'/>",
            "without an action",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'/>",
            "without a sid",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='x' initiator='@@'/>",
            "bad initiator",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='x'><content/></jingle>",
            "content without a name",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='x'><content name='a' senders='everyone'/></jingle>",
            "bad senders",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='x'><content name='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1'/></content></jingle>",
            "unreadable RTP description",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='x'><content name='a'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate component='1' foundation='1' ip='evil.local' port='1' priority='1' type='host'/></transport></content></jingle>",
            "bad candidate ip",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='x'><content name='a'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate component='1' foundation='1' ip='10.0.0.1' port='99999' priority='1' type='host'/></transport></content></jingle>",
            "bad candidate port",
        ),
        (
            "<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='x'><content name='a'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>zz:top</fingerprint></transport></content></jingle>",
            "hex",
        ),
        ("<query xmlns='urn:xmpp:jingle:1'/>", "not a Jingle element"),
    ];
    for (xml, want) in cases {
        let e = parse(&el(xml)).unwrap_err();
        assert_eq!(e.condition, "bad-request", "{xml}");
        let text = e.text.unwrap();
        assert!(text.contains(want), "{xml}: {text}");
    }
}

#[test]
fn lenient_where_harmless() {
    // No id, no generation, no protocol: made up / defaulted. Other
    // descriptions and transports are kept as contents without them.
    let j = parse(&el(
        "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='x'>\
         <content creator='initiator' name='ft'><description xmlns='urn:xmpp:jingle:apps:file-transfer:5'/>\
         <transport xmlns='urn:xmpp:jingle:transports:s5b:1'/></content>\
         <content name='a'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
         <candidate component='1' foundation='1' ip='::1' port='5000' priority='1' type='host'/></transport></content></jingle>",
    ))
    .unwrap();
    assert!(j.session.contents[0].description.is_none());
    assert_eq!(j.session.contents[0].transport, IceTransport::default());
    let c = &j.session.contents[1].transport.candidates[0];
    assert_eq!(c.generation, 0);
    assert_eq!(c.protocol, "udp");
    assert!(c.id.starts_with('c') && c.id.len() > 4);
    assert_eq!(c.ip.to_string(), "::1");
}

#[test]
fn jingle_error_answers() {
    let e = unknown_session();
    assert_eq!(e.defined_condition, DefinedCondition::ItemNotFound);
    assert!(
        e.other
            .as_ref()
            .unwrap()
            .is("unknown-session", JINGLE_ERRORS)
    );
    let e = out_of_order();
    assert!(e.other.as_ref().unwrap().is("out-of-order", JINGLE_ERRORS));
    let e = unsupported_info();
    assert_eq!(e.defined_condition, DefinedCondition::FeatureNotImplemented);
    let e = bad_request("no sid");
    assert_eq!(e.defined_condition, DefinedCondition::BadRequest);
    assert_eq!(e.texts.get("en").map(String::as_str), Some("no sid"));
    // They serialise as error elements.
    let el: Element = unknown_session().into();
    assert!(el.has_child("unknown-session", JINGLE_ERRORS));
}

fn info(identities: &[(&str, &str)], features: &[&str]) -> DiscoInfo {
    DiscoInfo {
        identities: identities
            .iter()
            .map(|(c, t)| (c.to_string(), t.to_string(), None))
            .collect(),
        features: features.iter().map(|f| f.to_string()).collect(),
        forms: vec![],
    }
}

#[test]
fn av_conference_check() {
    let jid = "room@sfu.localhost";
    let ok = info(
        &[("conference", "audio-video")],
        &[ns::DISCO_INFO, ns::JINGLE_AV_CONFERENCES],
    );
    assert!(check_av_conference(jid, &ok).is_ok());
    let no_identity = info(&[("conference", "text")], &[ns::JINGLE_AV_CONFERENCES]);
    let e = check_av_conference(jid, &no_identity).unwrap_err();
    let t = e.text.unwrap();
    assert!(
        t.contains(jid) && t.contains("no identity conference/audio-video"),
        "{t}"
    );
    let no_feature = info(&[("conference", "audio-video")], &[ns::MUC]);
    let t = check_av_conference(jid, &no_feature)
        .unwrap_err()
        .text
        .unwrap();
    assert!(
        t.contains("no feature urn:xmpp:jingle:av-conferences:0"),
        "{t}"
    );
    let neither = info(&[("client", "pc")], &[]);
    let e = check_av_conference(jid, &neither).unwrap_err();
    assert_eq!(e.condition, "feature-not-implemented");
    assert!(e.text.unwrap().contains("neither"));
    // From a real disco#info answer.
    let parsed = crate::rooms::parse_info(Some(&el(
        "<query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='conference' type='audio-video' name='SFU'/>\
         <feature var='urn:xmpp:jingle:av-conferences:0'/></query>",
    )))
    .unwrap();
    assert!(check_av_conference(jid, &parsed).is_ok());
}

#[test]
fn session_info_payloads() {
    let ping = parse(&el(
        "<jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='x'/>",
    ))
    .unwrap();
    assert_eq!(ping.action, Action::SessionInfo);
    assert!(ping.other.is_empty() && ping.info_understood());
    // XEP-0167 §7: ringing.
    let ringing = parse(&el(
        "<jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='x'><ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/></jingle>",
    ))
    .unwrap();
    assert!(ringing.other[0].is("ringing", RTP_INFO));
    assert!(ringing.info_understood());
    let odd = parse(&el(
        "<jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='x'><frob xmlns='urn:example'/></jingle>",
    ))
    .unwrap();
    assert!(!odd.info_understood());
}

/// Found by the fuzzer (`src/fuzz_cases/`): a candidate's foundation (or
/// protocol) with spaces or a line break went into the `candidate:` line
/// given to the media task as it was, shifting or adding fields.
#[test]
fn fuzz_candidate_foundation_must_be_an_ice_token() {
    let good = "foundation='1966762133'";
    for bad in [
        "foundation='1 2'",
        "foundation='x&#10;a=ice-lite'",
        "foundation=''",
        "foundation='1966762133' protocol='udp typ relay'",
    ] {
        let xml = OPUS_INITIATE.replace(good, bad).replace(
            "protocol='udp' type='host'",
            if bad.contains("protocol") {
                "type='host'"
            } else {
                "protocol='udp' type='host'"
            },
        );
        let e = parse(&el(&xml)).unwrap_err();
        assert!(
            e.text.as_deref().unwrap_or("").contains("bad candidate"),
            "{bad}: {e:?}"
        );
    }
    assert!(parse(&el(OPUS_INITIATE)).is_ok());
}
