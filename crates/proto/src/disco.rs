//! What confab says about itself: XEP-0030 disco#info (identity
//! `client/console`), XEP-0115 entity capabilities, XEP-0199 ping, and the
//! answers to IQs it does not know.

use std::collections::BTreeSet;

use minidom::Element;
use xmpp_parsers::caps::{Caps, compute_disco, hash_caps};
use xmpp_parsers::disco::{DiscoInfoResult, Identity};
use xmpp_parsers::hashes::Algo;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use super::ns;

/// The caps node confab announces.
pub const CAPS_NODE: &str = "https://confab.invalid/caps";

/// The features confab implements, as announced in disco#info.
pub const FEATURES: &[&str] = &[
    ns::DISCO_INFO,
    ns::CAPS,
    ns::MUC,
    ns::PING,
    "urn:xmpp:delay",
    "urn:xmpp:sid:0",
    // XEP-0194 User Chatting: contacts' rooms arrive as PEP events.
    super::chatting::NOTIFY,
    ns::JINGLE,
    ns::JINGLE_RTP,
    ns::JINGLE_RTP_AUDIO,
    ns::JINGLE_ICE_UDP,
    ns::JINGLE_DTLS,
    ns::JINGLE_AV_CONFERENCES,
    // XEP-0444, XEP-0461 (with XEP-0428), XEP-0424.
    super::reactions::REACTIONS,
    super::reply::REPLY,
    super::reply::FALLBACK,
    super::retract::RETRACT,
    // XEP-0384: contacts' OMEMO device lists arrive as PEP events.
    super::omemo::LEGACY_DEVICE_LIST_NOTIFY,
    super::omemo::V2_DEVICES_NOTIFY,
];

/// The disco#info result for confab (node echoed back when asked).
pub fn info(node: Option<String>) -> DiscoInfoResult {
    DiscoInfoResult {
        node,
        identities: vec![Identity::new("client", "console", "en", "confab")],
        features: FEATURES
            .iter()
            .map(|f| f.to_string())
            .collect::<BTreeSet<_>>(),
        extensions: vec![],
    }
}

/// The XEP-0115 `<c/>` element for presence.
pub fn caps() -> Element {
    let data = compute_disco(&info(None));
    let hash = hash_caps(&data, Algo::Sha_1).expect("sha-1 is supported");
    Caps::new(CAPS_NODE, hash).into()
}

/// The answer to an IQ get/set the session task answers itself (disco#info
/// and ping); `None` for the others, which go to the app.
pub fn answer_iq(iq: &Iq) -> Option<Iq> {
    let (from, id, payload, is_get) = match iq {
        Iq::Get {
            from, id, payload, ..
        } => (from, id, payload, true),
        Iq::Set {
            from, id, payload, ..
        } => (from, id, payload, false),
        _ => return None,
    };
    let reply = if is_get && payload.is("query", ns::DISCO_INFO) {
        let node = payload.attr("node").map(str::to_string);
        let known = node.as_deref().is_none_or(|n| n.starts_with(CAPS_NODE));
        if known {
            Iq::from_result(id.clone(), Some(info(node)))
        } else {
            error_reply(id, DefinedCondition::ItemNotFound, ErrorType::Cancel)
        }
    } else if is_get && payload.is("ping", ns::PING) {
        Iq::Result {
            from: None,
            to: None,
            id: id.clone(),
            payload: None,
        }
    } else {
        return None;
    };
    let reply = match from {
        Some(f) => reply.with_to(f.clone()),
        None => reply,
    };
    Some(reply)
}

fn error_reply(id: &str, condition: DefinedCondition, type_: ErrorType) -> Iq {
    Iq::from_error(id.to_string(), StanzaError::new(type_, condition, "en", ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    fn iq(xml: &str) -> Iq {
        Iq::try_from(el(xml)).unwrap()
    }

    #[test]
    fn answers_disco_info_with_console_identity() {
        let q = iq(
            "<iq xmlns='jabber:client' type='get' id='d1' from='bob@localhost/x'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
        );
        let Some(Iq::Result {
            to, id, payload, ..
        }) = answer_iq(&q)
        else {
            panic!()
        };
        assert_eq!(id, "d1");
        assert_eq!(to.unwrap().to_string(), "bob@localhost/x");
        let r = DiscoInfoResult::try_from(payload.unwrap()).unwrap();
        assert_eq!(r.identities[0].category, "client");
        assert_eq!(r.identities[0].type_, "console");
        assert!(r.features.contains(ns::MUC));
        assert!(r.features.contains(ns::PING));
        assert!(r.features.contains("urn:xmpp:chatting:0+notify"));
        // Jingle A/V conferences (XEP-0521) and what they are built on.
        for f in [
            "urn:xmpp:jingle:1",
            "urn:xmpp:jingle:apps:rtp:1",
            "urn:xmpp:jingle:apps:rtp:audio",
            "urn:xmpp:jingle:transports:ice-udp:1",
            "urn:xmpp:jingle:apps:dtls:0",
            "urn:xmpp:jingle:av-conferences:0",
        ] {
            assert!(r.features.contains(f), "{f}");
        }
    }

    #[test]
    fn answers_ping_and_leaves_others_to_the_app() {
        let q = iq(
            "<iq xmlns='jabber:client' type='get' id='p1' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
        );
        assert!(matches!(
            answer_iq(&q),
            Some(Iq::Result { payload: None, .. })
        ));
        let q = iq(
            "<iq xmlns='jabber:client' type='set' id='u1' from='x@y/z'><frob xmlns='urn:example'/></iq>",
        );
        assert!(answer_iq(&q).is_none(), "left to the app");
        let q = iq(
            "<iq xmlns='jabber:client' type='get' id='n1' from='x@y/z'><query xmlns='http://jabber.org/protocol/disco#info' node='other'/></iq>",
        );
        assert!(matches!(answer_iq(&q), Some(Iq::Error { .. })));
    }

    #[test]
    fn caps_hash_is_stable() {
        let a = caps();
        let b = caps();
        assert_eq!(a, b);
        assert_eq!(a.attr("hash"), Some("sha-1"));
        assert_eq!(a.attr("node"), Some(CAPS_NODE));
    }
}
