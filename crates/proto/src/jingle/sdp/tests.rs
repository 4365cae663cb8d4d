use super::*;
use crate::fixtures::el;
use crate::jingle::tests::{OPUS_INITIATE, XEP_0167_INITIATE};
use crate::jingle::{self, candidate_id};
use xmpp_parsers::jingle_ice_udp::Type;

/// An offer as webrtc-rs writes it for one send-only Opus track
/// (session-level fingerprint, mid `0`, a host candidate).
const WEBRTC_OFFER: &str = "v=0\r
o=- 7193521226457393014 460118230 IN IP4 0.0.0.0\r
s=-\r
t=0 0\r
a=fingerprint:sha-256 3B:9A:0F:10:7E:2C:55:1D:08:71:D3:3D:64:62:C4:0C:A1:52:0C:7B:7B:9E:03:91:7C:5D:29:E8:40:86:DB:9A\r
a=extmap-allow-mixed\r
a=group:BUNDLE 0\r
m=audio 9 UDP/TLS/RTP/SAVPF 111 9 0 8\r
c=IN IP4 0.0.0.0\r
a=setup:actpass\r
a=mid:0\r
a=ice-ufrag:hJGDKyXqvMkbSBdd\r
a=ice-pwd:lYuXmvHQvbtmLfQmmLlOMnJHSdUstPeH\r
a=rtcp-mux\r
a=rtcp-rsize\r
a=rtpmap:111 opus/48000/2\r
a=fmtp:111 minptime=10;useinbandfec=1\r
a=rtcp-fb:111 transport-cc\r
a=rtpmap:9 G722/8000\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:8 PCMA/8000\r
a=extmap:1 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r
a=ssrc:2694138343 cname:yvKhXcEEAMWqkCYd\r
a=ssrc:2694138343 msid:webrtc-rs webrtc-rs-audio\r
a=ssrc:2694138343 mslabel:webrtc-rs\r
a=ssrc:2694138343 label:webrtc-rs-audio\r
a=msid:webrtc-rs webrtc-rs-audio\r
a=sendonly\r
a=candidate:1966762133 1 udp 2130706431 192.168.1.5 52344 typ host\r
a=candidate:1966762134 2 udp 2130706430 192.168.1.5 52345 typ host\r
a=end-of-candidates\r
";

/// A Chrome-like answer: media-level fingerprint, `recvonly`, wildcard
/// rtcp-fb, a data channel section that is left out.
const CHROME_ANSWER: &str = "v=0\r
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE audio data\r
a=msid-semantic: WMS\r
m=audio 9 UDP/TLS/RTP/SAVPF 111 126\r
c=IN IP4 0.0.0.0\r
a=rtcp:9 IN IP4 0.0.0.0\r
a=ice-ufrag:Fx1u\r
a=ice-pwd:7wRmEmlTTmIdDUVn8uCLGw4V\r
a=ice-options:trickle\r
a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r
a=setup:active\r
a=mid:audio\r
a=extmap:1/recvonly urn:ietf:params:rtp-hdrext:ssrc-audio-level\r
a=recvonly\r
a=rtcp-mux\r
a=rtpmap:111 opus/48000/2\r
a=rtcp-fb:* nack\r
a=fmtp:111 minptime=10;useinbandfec=1;stereo=1\r
a=rtpmap:126 telephone-event/8000\r
a=fmtp:126 0-15\r
a=ptime:20\r
a=candidate:842163049 1 udp 1677729535 2001:db8::7 61665 typ srflx raddr 2001:db8::1 rport 61665 generation 0 ufrag Fx1u network-id 3 network-cost 10\r
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r
c=IN IP4 0.0.0.0\r
a=mid:data\r
a=sctp-port:5000\r
";

fn check_webrtc_parses(sdp: &str) -> rtc::sdp::SessionDescription {
    rtc::sdp::SessionDescription::unmarshal(&mut std::io::Cursor::new(sdp.as_bytes()))
        .unwrap_or_else(|e| panic!("webrtc-rs rejects our SDP: {e}\n{sdp}"))
}

fn lines(sdp: &str) -> Vec<&str> {
    sdp.split("\r\n").filter(|l| !l.is_empty()).collect()
}

#[test]
fn directions_both_ways_for_both_writers() {
    let all = [
        Senders::Both,
        Senders::Initiator,
        Senders::Responder,
        Senders::None,
    ];
    for writer in [Role::Initiator, Role::Responder] {
        for s in &all {
            let d = direction(s, writer);
            assert_eq!(&senders(d, writer), s, "{d} by {writer:?}");
        }
    }
    // XEP-0521: we send to the SFU; it only receives.
    assert_eq!(direction(&Senders::Initiator, Role::Initiator), "sendonly");
    assert_eq!(direction(&Senders::Initiator, Role::Responder), "recvonly");
    assert_eq!(senders("recvonly", Role::Responder), Senders::Initiator);
    assert_eq!(senders("bogus", Role::Responder), Senders::Both);
}

#[test]
fn opus_session_to_sdp() {
    let j = jingle::parse(&el(OPUS_INITIATE)).unwrap();
    let sdp = to_sdp(&j.session, Role::Initiator).unwrap();
    let l = lines(&sdp);
    assert_eq!(l[0], "v=0");
    assert!(l[1].starts_with("o=- ") && l[1].ends_with(" 2 IN IP4 127.0.0.1"));
    assert_eq!(
        &l[2..],
        &[
            "s=-",
            "t=0 0",
            "a=group:BUNDLE 0",
            "a=ice-options:trickle",
            "a=msid-semantic: WMS *",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "c=IN IP4 0.0.0.0",
            "a=ice-ufrag:hJGDKyXqvMkbSBdd",
            "a=ice-pwd:lYuXmvHQvbtmLfQmmLlOMnJHSdUstPeH",
            "a=fingerprint:sha-256 02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2",
            "a=setup:actpass",
            "a=mid:0",
            "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
            "a=sendonly",
            "a=msid:confab-stream confab-audio",
            "a=rtcp-mux",
            "a=rtpmap:111 opus/48000/2",
            "a=rtcp-fb:111 transport-cc",
            "a=fmtp:111 minptime=10;useinbandfec=1",
            "a=ssrc:2694138343 cname:confab-alice",
            "a=ssrc:2694138343 msid:confab-stream confab-audio",
            "a=candidate:1966762133 1 udp 2130706431 127.0.0.1 52344 typ host generation 0",
        ][..]
    );
    let parsed = check_webrtc_parses(&sdp);
    assert_eq!(parsed.media_descriptions.len(), 1);
    assert_eq!(
        parsed.attribute("group").map(String::as_str),
        Some("BUNDLE 0")
    );
    // The same session written by the responder is receive-only.
    assert!(
        to_sdp(&j.session, Role::Responder)
            .unwrap()
            .contains("\r\na=recvonly\r\n")
    );
}

#[test]
fn opus_session_round_trip_jingle_sdp_jingle() {
    let j = jingle::parse(&el(OPUS_INITIATE)).unwrap();
    for writer in [Role::Initiator, Role::Responder] {
        let sdp = to_sdp(&j.session, writer).unwrap();
        let mut back = from_sdp(&sdp, writer).unwrap();
        // Candidate ids are not in SDP: made up on the way back.
        for c in &mut back.contents[0].transport.candidates {
            assert!(c.id.starts_with('c'));
            c.id = "c1".into();
        }
        assert_eq!(back, j.session, "{writer:?}");
    }
}

/// XEP-0167 example 1: static payload types without a clock rate get the
/// RFC 3551 rate; all else survives.
#[test]
fn xep_0167_example_round_trip() {
    let j = jingle::parse(&el(XEP_0167_INITIATE)).unwrap();
    let sdp = to_sdp(&j.session, Role::Initiator).unwrap();
    check_webrtc_parses(&sdp);
    assert!(sdp.contains("a=rtpmap:18 G729/8000\r\n"));
    assert!(sdp.contains("a=rtpmap:0 PCMU/8000\r\n"));
    assert!(sdp.contains("a=rtpmap:103 L16/16000/2\r\n"));
    assert!(sdp.contains("\r\na=sendrecv\r\n"));
    assert!(!sdp.contains("a=group:"));
    assert!(sdp.contains(
        "a=candidate:2 1 udp 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 generation 0 network-id 1\r\n"
    ));
    let back = from_sdp(&sdp, Role::Initiator).unwrap();
    let mut want = j.session.clone();
    let c = &mut want.contents[0];
    for p in &mut c.description.as_mut().unwrap().payload_types {
        if p.clockrate.is_none() {
            p.clockrate = Some(8000);
        }
    }
    for k in &mut c.transport.candidates {
        k.id = candidate_id(&k.foundation, k.component, &k.ip, k.port);
    }
    assert_eq!(back, want);
}

#[test]
fn webrtc_offer_to_jingle() {
    let s = from_sdp(WEBRTC_OFFER, Role::Initiator).unwrap();
    assert_eq!(s.bundle, Some(vec!["0".to_string()]));
    assert_eq!(s.contents.len(), 1);
    let c = &s.contents[0];
    assert_eq!(c.name, "0");
    assert_eq!(c.creator, Creator::Initiator);
    assert_eq!(c.senders, Senders::Initiator);
    let d = c.description.as_ref().unwrap();
    assert_eq!(d.media, "audio");
    assert!(d.rtcp_mux);
    let opus = &d.payload_types[0];
    assert_eq!(
        (
            opus.id,
            opus.name.as_deref(),
            opus.clockrate,
            opus.channels.0
        ),
        (111, Some("opus"), Some(48000), 2)
    );
    let params: Vec<(&str, &str)> = opus
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(params, [("minptime", "10"), ("useinbandfec", "1")]);
    assert_eq!(opus.rtcp_fbs[0].type_, "transport-cc");
    assert_eq!(d.payload_types.len(), 4);
    assert_eq!(d.hdrexts[0].id, 1);
    let src = &d.ssrcs[0];
    assert_eq!(src.id, 2694138343);
    let p: Vec<(&str, Option<&str>)> = src
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_deref()))
        .collect();
    assert_eq!(p[0], ("cname", Some("yvKhXcEEAMWqkCYd")));
    assert_eq!(p[1], ("msid", Some("webrtc-rs webrtc-rs-audio")));
    let t = &c.transport;
    assert_eq!(t.ufrag.as_deref(), Some("hJGDKyXqvMkbSBdd"));
    let f = t.fingerprint.as_ref().unwrap();
    assert_eq!(f.setup, Setup::Actpass);
    assert_eq!(f.value[0], 0x3b);
    // rtcp-mux: only component 1.
    assert_eq!(t.candidates.len(), 1);
    assert_eq!(t.candidates[0].port, 52344);
}

#[test]
fn sdp_round_trips_are_fixpoints_and_survive_xml() {
    for (sdp, writer) in [
        (WEBRTC_OFFER, Role::Initiator),
        (CHROME_ANSWER, Role::Responder),
    ] {
        let j1 = from_sdp(sdp, writer).unwrap();
        let s2 = to_sdp(&j1, writer).unwrap();
        check_webrtc_parses(&s2);
        let j2 = from_sdp(&s2, writer).unwrap();
        assert_eq!(j2, j1, "{s2}");
        // Through the stanza and back.
        let built = jingle::session_accept("x", None, &"r@s/x".parse().unwrap(), &j1, None);
        assert_eq!(jingle::parse(&built).unwrap().session, j1);
    }
}

#[test]
fn chrome_answer_to_jingle() {
    let s = from_sdp(CHROME_ANSWER, Role::Responder).unwrap();
    assert_eq!(s.bundle, Some(vec!["audio".to_string()]));
    assert_eq!(s.contents.len(), 1, "the data channel is left out");
    let c = &s.contents[0];
    assert_eq!(c.senders, Senders::Initiator, "recvonly by the responder");
    let d = c.description.as_ref().unwrap();
    let opus = &d.payload_types[0];
    assert_eq!(opus.parameters.len(), 3);
    assert_eq!(opus.ptime, Some(20));
    assert_eq!(opus.rtcp_fbs[0].type_, "nack", "wildcard rtcp-fb");
    let te = &d.payload_types[1];
    assert_eq!(
        (
            te.parameters[0].name.as_str(),
            te.parameters[0].value.as_str()
        ),
        ("", "0-15"),
        "a bare value as Jitsi writes it"
    );
    assert_eq!(
        d.hdrexts[0].uri,
        "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
    );
    let t = &c.transport;
    assert_eq!(t.fingerprint.as_ref().unwrap().setup, Setup::Active);
    let k = &t.candidates[0];
    assert_eq!(k.ip.to_string(), "2001:db8::7");
    assert_eq!(k.type_, Type::Srflx);
    assert_eq!(k.rel_port, Some(61665));
    assert_eq!(k.network, Some(3));
    let sdp = to_sdp(&s, Role::Responder).unwrap();
    assert!(sdp.contains("a=fmtp:126 0-15\r\n"));
    assert!(sdp.contains("a=ptime:20\r\n"));
    assert!(sdp.contains("a=recvonly\r\n"));
}

#[test]
fn candidates_both_ways() {
    // As webrtc-rs' RTCIceCandidate::to_json writes them.
    let host = "candidate:1966762133 1 udp 2130706431 192.168.1.5 52344 typ host";
    let c = candidate_to_jingle(host).unwrap();
    assert_eq!(c.component, 1);
    assert_eq!(c.foundation, "1966762133");
    assert_eq!(c.protocol, "udp");
    assert_eq!(c.priority, 2130706431);
    assert_eq!(c.ip.to_string(), "192.168.1.5");
    assert_eq!(c.port, 52344);
    assert_eq!(c.type_, Type::Host);
    assert_eq!(c.generation, 0);
    assert_eq!(candidate_to_sdp(&c), format!("{host} generation 0"));
    // With `a=` and without the prefix too.
    assert_eq!(candidate_to_jingle(&format!("a={host}")).unwrap(), c);
    assert_eq!(
        candidate_to_jingle(host.strip_prefix("candidate:").unwrap()).unwrap(),
        c
    );
    let srflx = "candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 generation 1 network-id 1";
    let c = candidate_to_jingle(srflx).unwrap();
    assert_eq!(c.rel_addr.unwrap().to_string(), "10.0.1.1");
    assert_eq!(c.rel_port, Some(8998));
    assert_eq!((c.generation, c.network), (1, Some(1)));
    assert_eq!(candidate_to_sdp(&c), srflx.replace("UDP", "udp"));
    // webrtc-rs reads what we write (it strips `candidate:` itself).
    for c in [candidate_to_jingle(host).unwrap(), c] {
        let s = candidate_to_sdp(&c);
        let parsed =
            rtc::ice::candidate::unmarshal_candidate(s.strip_prefix("candidate:").unwrap())
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(parsed.port(), c.port);
        assert_eq!(parsed.priority(), c.priority);
    }
}

#[test]
fn xep_0176_candidate_to_sdp() {
    let j = jingle::parse(&el(XEP_0167_INITIATE)).unwrap();
    let c = &j.session.contents[0].transport.candidates[0];
    assert_eq!(
        candidate_to_sdp(c),
        "candidate:1 1 udp 2130706431 10.0.1.1 8998 typ host generation 0 network-id 1"
    );
}

#[test]
fn bad_candidates_and_sdp() {
    for (line, want) in [
        (
            "candidate:1 1 udp 1 abcd.local 5000 typ host",
            "not an IP address",
        ),
        ("candidate:1 1 udp 1 10.0.0.1", "not an ICE candidate"),
        (
            "candidate:1 1 udp 1 10.0.0.1 5000 type host",
            "not an ICE candidate",
        ),
        ("candidate:1 x udp 1 10.0.0.1 5000 typ host", "component"),
        ("candidate:1 1 udp -1 10.0.0.1 5000 typ host", "priority"),
        ("candidate:1 1 udp 1 10.0.0.1 70000 typ host", "port"),
        ("candidate:1 1 udp 1 10.0.0.1 5000 typ weird", "type"),
    ] {
        let e = candidate_to_jingle(line).unwrap_err();
        assert!(e.to_string().contains(want), "{line}: {e}");
    }
    assert!(
        from_sdp("v=0\r\ns=-\r\n", Role::Initiator)
            .unwrap_err()
            .0
            .contains("no media")
    );
    assert!(from_sdp("garbage", Role::Initiator).is_err());
    assert!(from_sdp("v=0\r\nm=audio\r\n", Role::Initiator).is_err());
    let bad_fp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 ZZ:00\r\n";
    assert!(
        from_sdp(bad_fp, Role::Initiator)
            .unwrap_err()
            .0
            .contains("fingerprint")
    );
    // A content without an RTP description cannot be written.
    let mut s = jingle::parse(&el(OPUS_INITIATE)).unwrap().session;
    s.contents[0].description = None;
    assert!(
        to_sdp(&s, Role::Initiator)
            .unwrap_err()
            .0
            .contains("no RTP description")
    );
}

#[test]
fn rtcp_mux_leaves_out_component_two_when_writing() {
    let mut s = jingle::parse(&el(OPUS_INITIATE)).unwrap().session;
    let mut c2 = s.contents[0].transport.candidates[0].clone();
    c2.component = 2;
    s.contents[0].transport.candidates.push(c2);
    let sdp = to_sdp(&s, Role::Initiator).unwrap();
    assert_eq!(sdp.matches("a=candidate:").count(), 1);
}

/// The real consumer: a webrtc-rs (sans-IO `rtc`) offer and answer go
/// through Jingle stanzas and back, and each side accepts the other's
/// rebuilt SDP.
#[test]
fn real_webrtc_offer_and_answer_through_jingle() {
    use rtc::media_stream::MediaStreamTrack;
    use rtc::peer_connection::RTCPeerConnectionBuilder;
    use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MediaEngine};
    use rtc::peer_connection::sdp::RTCSessionDescription;
    use rtc::rtp_transceiver::rtp_sender::{
        RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
    };
    use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
    use std::time::Instant;

    let engine = || {
        let mut m = MediaEngine::default();
        m.register_default_codecs().unwrap();
        m
    };
    let mut offerer = RTCPeerConnectionBuilder::new()
        .with_media_engine(engine())
        .build(Instant::now())
        .unwrap();
    let mut answerer = RTCPeerConnectionBuilder::new()
        .with_media_engine(engine())
        .build(Instant::now())
        .unwrap();
    let track = MediaStreamTrack::new(
        "confab".into(),
        "mic".into(),
        "mic".into(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(4242),
                ..Default::default()
            },
            codec: RTCRtpCodec {
                mime_type: MIME_TYPE_OPUS.to_owned(),
                clock_rate: 48000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
                rtcp_feedback: vec![],
            },
            ..Default::default()
        }],
    );
    offerer
        .add_transceiver_from_track(
            track,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendonly,
                streams: vec![],
                send_encodings: vec![],
            }),
        )
        .unwrap();
    let offer = offerer.create_offer(None).unwrap();
    offerer
        .set_local_description(Instant::now(), offer.clone())
        .unwrap();

    // Offer → session-initiate → SDP for the answerer.
    let s = from_sdp(&offer.sdp, Role::Initiator).unwrap();
    let c = &s.contents[0];
    assert_eq!(c.senders, Senders::Initiator, "{}", offer.sdp);
    assert!(c.transport.fingerprint.is_some() && c.transport.ufrag.is_some());
    let d = c.description.as_ref().unwrap();
    assert!(d.rtcp_mux);
    assert!(d.ssrcs.iter().any(|x| x.id == 4242), "{}", offer.sdp);
    let opus = d
        .payload_types
        .iter()
        .find(|p| p.name.as_deref() == Some("opus"))
        .unwrap();
    assert_eq!((opus.clockrate, opus.channels.0), (Some(48000), 2));
    let initiate = jingle::session_initiate("a1", &"alice@localhost/c".parse().unwrap(), &s, None);
    let remote = jingle::parse(&initiate).unwrap().session;
    let offer_sdp = to_sdp(&remote, Role::Initiator).unwrap();
    answerer
        .set_remote_description(
            Instant::now(),
            RTCSessionDescription::offer(offer_sdp.clone()).unwrap(),
        )
        .unwrap_or_else(|e| panic!("answerer rejects {offer_sdp}: {e}"));
    let answer = answerer.create_answer(None).unwrap();
    answerer
        .set_local_description(Instant::now(), answer.clone())
        .unwrap();

    // Answer → session-accept → SDP for the offerer.
    let a = from_sdp(&answer.sdp, Role::Responder).unwrap();
    assert_eq!(a.contents[0].senders, Senders::Initiator, "{}", answer.sdp);
    assert_eq!(a.contents[0].name, c.name);
    let accept =
        jingle::session_accept("a1", None, &"room@sfu.localhost".parse().unwrap(), &a, None);
    let remote = jingle::parse(&accept).unwrap().session;
    let answer_sdp = to_sdp(&remote, Role::Responder).unwrap();
    offerer
        .set_remote_description(
            Instant::now(),
            RTCSessionDescription::answer(answer_sdp.clone()).unwrap(),
        )
        .unwrap_or_else(|e| panic!("offerer rejects {answer_sdp}: {e}"));
}

/// Found by the fuzzer (`src/fuzz_cases/`): a value from the peer's
/// Jingle (here a payload-type name and a ufrag carrying `&#13;&#10;`)
/// was written into the SDP as it was, adding lines of the peer's choice.
#[test]
fn fuzz_sdp_line_injection_is_refused() {
    for (from, to) in [
        (
            "name='opus'",
            "name='opus/48000&#13;&#10;a=fingerprint:sha-256 00'",
        ),
        ("ufrag='hJGDKyXqvMkbSBdd'", "ufrag='u&#10;a=ice-lite'"),
        (
            "<content name='0'/>",
            "<content name='0&#13;&#10;m=video'/>",
        ),
    ] {
        let xml = OPUS_INITIATE.replace(from, to);
        assert_ne!(xml, OPUS_INITIATE);
        let j = jingle::parse(&el(&xml)).unwrap();
        for role in [Role::Initiator, Role::Responder] {
            let e = to_sdp(&j.session, role).unwrap_err();
            assert!(e.0.contains("control character"), "{e:?}");
        }
    }
    // The clean one still converts.
    let j = jingle::parse(&el(OPUS_INITIATE)).unwrap();
    assert!(to_sdp(&j.session, Role::Initiator).is_ok());
}

/// RED (RFC 2198) as browsers and confab offer it: its payload type and
/// the bare `111/111` fmtp map to a Jingle payload-type with a parameter
/// without a name (as Jitsi writes it) and back; the older form (the
/// value as the name) is read too; a parameter that would change the
/// fmtp line's meaning is refused.
#[test]
fn red_payload_type_both_ways_and_odd_parameters_refused() {
    let offer = WEBRTC_OFFER
        .replace(
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 9 0 8",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8",
        )
        .replace(
            "a=rtpmap:9 G722/8000\r\n",
            "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\n",
        );
    assert!(offer.contains("a=fmtp:63 111/111"));
    let j = from_sdp(&offer, Role::Initiator).unwrap();
    let d = j.contents[0].description.as_ref().unwrap();
    let red = d.payload_types.iter().find(|p| p.id == 63).unwrap();
    assert_eq!(red.name.as_deref(), Some("red"));
    assert_eq!((red.clockrate, red.channels.0), (Some(48000), 2));
    assert_eq!(
        red.parameters,
        vec![Parameter {
            name: String::new(),
            value: "111/111".into()
        }]
    );
    // Through the stanza: `<parameter name='' value='111/111'/>`.
    let built = jingle::session_initiate("x", &"i@s/x".parse().unwrap(), &j, None);
    let xml = String::from(&built);
    assert!(
        xml.contains("name='red'") || xml.contains("name=\"red\""),
        "{xml}"
    );
    let back = jingle::parse(&built).unwrap().session;
    assert_eq!(back, j);
    let sdp = to_sdp(&back, Role::Initiator).unwrap();
    assert!(sdp.contains("a=rtpmap:63 red/48000/2\r\n"), "{sdp}");
    assert!(sdp.contains("a=fmtp:63 111/111\r\n"), "{sdp}");
    check_webrtc_parses(&sdp);

    let with = |name: &str, value: &str| {
        let mut j = j.clone();
        let d = j.contents[0].description.as_mut().unwrap();
        let red = d.payload_types.iter_mut().find(|p| p.id == 63).unwrap();
        red.parameters = vec![Parameter {
            name: name.into(),
            value: value.into(),
        }];
        to_sdp(&j, Role::Initiator)
    };
    // The older form: the value as the name.
    assert!(
        with("111/111", "")
            .unwrap()
            .contains("a=fmtp:63 111/111\r\n")
    );
    // Nothing at all: no fmtp line for it.
    assert!(!with("", "").unwrap().contains("a=fmtp:63"));
    for (name, value) in [
        ("", "111/111;x=1"),
        ("", "a=b"),
        ("", "111/111 extra"),
        ("", "111/111\r\na=ice-lite"),
        ("x;y", "1"),
        ("x=y", ""),
        ("x", "1;evil=2"),
    ] {
        assert!(with(name, value).is_err(), "{name:?}={value:?}");
    }
}
