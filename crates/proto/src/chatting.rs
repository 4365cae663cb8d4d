//! XEP-0194 User Chatting: the rooms a user is in, published through PEP
//! (node `urn:xmpp:chatting:0`, one item per room, the item id the SHA-1
//! hex of the room's URI) and delivered to contacts as PubSub events.
//! Leaving a room publishes an empty `<room/>` under the same item id.

use jid::BareJid;
use minidom::Element;
use serde::Serialize;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::sha1::{Digest, Sha1};

use super::pep::Publication;
use super::{Incoming, nc, ns};

pub const NS_CHATTING: &str = "urn:xmpp:chatting:0";
pub const NOTIFY: &str = "urn:xmpp:chatting:0+notify";
pub const NS_PUBSUB: &str = "http://jabber.org/protocol/pubsub";
pub const NS_PUBSUB_EVENT: &str = "http://jabber.org/protocol/pubsub#event";

/// Longest name, topic or URI we keep from the network (characters).
const MAX_TEXT: usize = 1024;
/// Most items read from one event or fetch result.
const MAX_ITEMS: usize = 64;

/// One room as XEP-0194 describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChattingRoom {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    pub uri: String,
}

/// One item of a contact's chatting node: the room, or `None` when they
/// left it (an empty `<room/>`, or the item retracted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChattingItem {
    pub id: String,
    pub room: Option<ChattingRoom>,
}

/// A PEP event of the chatting node from `from` (a bare JID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChattingEvent {
    pub from: BareJid,
    pub items: Vec<ChattingItem>,
}

/// `xmpp:room@service` (RFC 5122) for an XMPP room.
pub fn room_uri(room: &BareJid) -> String {
    format!("xmpp:{room}")
}

/// The item id of a room: the SHA-1 of its URI, in lower-case hex.
pub fn item_id(uri: &str) -> String {
    let digest = Sha1::digest(uri.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn text_child(name: &str, value: &str) -> Element {
    Element::builder(name, NS_CHATTING).append(value).build()
}

/// The `<room/>` payload; `None` gives the empty one (left the room).
pub fn room_element(room: Option<&ChattingRoom>) -> Element {
    let mut el = Element::builder("room", NS_CHATTING);
    if let Some(r) = room {
        if let Some(n) = &r.name {
            el = el.append(text_child("name", n));
        }
        if let Some(t) = &r.topic {
            el = el.append(text_child("topic", t));
        }
        el = el.append(text_child("uri", &r.uri));
    }
    el.build()
}

/// The publication of item `id` (XEP-0194 listings 1 and 3) with its
/// publish-options: only contacts with a presence subscription may see
/// it, and the node keeps one item per room.
pub fn publication(id: &str, room: Option<&ChattingRoom>) -> Publication {
    Publication {
        node: NS_CHATTING,
        id: id.to_string(),
        payload: room_element(room),
        options: vec![
            ("pubsub#access_model", "presence"),
            ("pubsub#max_items", "max"),
        ],
    }
}

/// Publishes item `id` with every publish-option.
pub fn publish(id: &str, room: Option<&ChattingRoom>) -> Element {
    publication(id, room).with_options()
}

/// Fetches the items of a chatting node (sent to the owner's bare JID).
pub fn fetch() -> Element {
    Element::builder("pubsub", NS_PUBSUB)
        .append(
            Element::builder("items", NS_PUBSUB)
                .attr(nc("node"), NS_CHATTING)
                .build(),
        )
        .build()
}

fn clip(s: String) -> String {
    if s.chars().count() > MAX_TEXT {
        s.chars().take(MAX_TEXT).collect()
    } else {
        s
    }
}

/// A `<room/>` payload: `None` when it is empty or has no usable URI.
pub fn parse_room(el: &Element) -> Option<ChattingRoom> {
    if !el.is("room", NS_CHATTING) {
        return None;
    }
    let text = |name: &str| {
        el.get_child(name, NS_CHATTING)
            .map(|c| c.text().trim().to_string())
            .filter(|t| !t.is_empty())
            .map(clip)
    };
    Some(ChattingRoom {
        name: text("name"),
        topic: text("topic"),
        uri: text("uri")?,
    })
}

/// The items under an `<items/>` (of an event or of a fetch result);
/// `<retract/>` counts as leaving. Items without an id are skipped.
pub fn parse_items(items: &Element, ns_items: &str) -> Vec<ChattingItem> {
    items
        .children()
        .filter_map(|i| {
            let id = i.attr("id").filter(|id| !id.is_empty())?.to_string();
            if i.is("retract", ns_items) {
                return Some(ChattingItem { id, room: None });
            }
            if !i.is("item", ns_items) {
                return None;
            }
            let room = i.get_child("room", NS_CHATTING).and_then(parse_room);
            Some(ChattingItem { id, room })
        })
        .take(MAX_ITEMS)
        .collect()
}

/// The items of a fetch result (`<pubsub><items/></pubsub>`).
pub fn parse_fetch(result: Option<&Element>) -> Vec<ChattingItem> {
    result
        .and_then(|p| p.get_child("items", NS_PUBSUB))
        .map(|items| parse_items(items, NS_PUBSUB))
        .unwrap_or_default()
}

/// A chatting PEP event in a message (XEP-0194 listings 2 and 4), if it is
/// one. Events come from the publisher's bare JID; one without a sender
/// is from our own account ([`Incoming::Ignored`]).
pub fn parse_event(m: &Message) -> Option<Incoming> {
    if m.type_ == MessageType::Groupchat {
        return None;
    }
    let items = m
        .payloads
        .iter()
        .find(|p| p.is("event", NS_PUBSUB_EVENT))?
        .get_child("items", NS_PUBSUB_EVENT)
        .filter(|i| i.attr("node") == Some(NS_CHATTING))?;
    let from = match &m.from {
        Some(j) if j.resource().is_none() => j.to_bare(),
        Some(_) => return Some(Incoming::Ignored("chatting event from a full JID")),
        None => return Some(Incoming::Ignored("chatting event of our own account")),
    };
    Some(Incoming::Chatting(ChattingEvent {
        from,
        items: parse_items(items, NS_PUBSUB_EVENT),
    }))
}

/// Whether a room's disco#info result announces `feature`.
pub fn has_feature(info: Option<&Element>, feature: &str) -> bool {
    info.is_some_and(|q| {
        q.children()
            .any(|f| f.is("feature", ns::DISCO_INFO) && f.attr("var") == Some(feature))
    })
}

/// Why a room's disco#info keeps it private (members-only,
/// password-protected, hidden), if it does.
pub fn private_by_features(info: Option<&Element>) -> Option<&'static str> {
    [
        ("muc_membersonly", "members-only room"),
        ("muc_passwordprotected", "password-protected room"),
        ("muc_hidden", "hidden room"),
    ]
    .into_iter()
    .find(|(f, _)| has_feature(info, f))
    .map(|(_, why)| why)
}

/// The room's name from its disco#info identity, if it has one.
pub fn name_from_disco(info: Option<&Element>) -> Option<String> {
    info?
        .children()
        .find(|c| c.is("identity", ns::DISCO_INFO))
        .and_then(|i| i.attr("name"))
        .map(|n| clip(n.trim().to_string()))
        .filter(|n| !n.is_empty())
}

/// The disco#info query for a room.
pub fn disco_info() -> Element {
    Element::builder("query", ns::DISCO_INFO).build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{classify_message, fixtures::el};

    const NS_DATA: &str = "jabber:x:data";

    fn message(xml: &str) -> Message {
        Message::try_from(el(xml)).unwrap()
    }

    fn jdev() -> ChattingRoom {
        ChattingRoom {
            name: Some("Jabber Development".into()),
            topic: None,
            uri: "xmpp:jdev@conference.jabber.org".into(),
        }
    }

    #[test]
    fn item_id_is_sha1_hex_of_the_uri() {
        let room = BareJid::new("jdev@conference.jabber.org").unwrap();
        let uri = room_uri(&room);
        assert_eq!(uri, "xmpp:jdev@conference.jabber.org");
        let id = item_id(&uri);
        assert_eq!(id, "0aaf1be228ecd8b1f06bec40c5a4727026df7a50");
        assert_eq!(id, item_id(&uri), "stable");
        assert_ne!(id, item_id("xmpp:other@conference.jabber.org"));
    }

    #[test]
    fn publish_as_in_listing_1_with_publish_options() {
        let p = publish("1b395148292c0b0ab3a83bb2c22909bf83d2a80b", Some(&jdev()));
        let pb = p.get_child("publish", NS_PUBSUB).unwrap();
        assert_eq!(pb.attr("node"), Some(NS_CHATTING));
        let item = pb.get_child("item", NS_PUBSUB).unwrap();
        assert_eq!(
            item.attr("id"),
            Some("1b395148292c0b0ab3a83bb2c22909bf83d2a80b")
        );
        let room = item.get_child("room", NS_CHATTING).unwrap();
        assert_eq!(parse_room(room), Some(jdev()));
        assert!(room.get_child("topic", NS_CHATTING).is_none());
        let x = p
            .get_child("publish-options", NS_PUBSUB)
            .unwrap()
            .get_child("x", NS_DATA)
            .unwrap();
        let value = |var: &str| {
            x.children()
                .find(|f| f.attr("var") == Some(var))
                .and_then(|f| f.get_child("value", NS_DATA))
                .map(Element::text)
        };
        assert_eq!(
            value("FORM_TYPE").as_deref(),
            Some("http://jabber.org/protocol/pubsub#publish-options")
        );
        assert_eq!(value("pubsub#access_model").as_deref(), Some("presence"));
        // Listing 3: the exit is an empty <room/> under the same id.
        let exit = publish("1b39", None);
        let room = exit
            .get_child("publish", NS_PUBSUB)
            .unwrap()
            .get_child("item", NS_PUBSUB)
            .unwrap()
            .get_child("room", NS_CHATTING)
            .unwrap();
        assert_eq!(room.children().count(), 0);
        assert_eq!(parse_room(room), None);
    }

    #[test]
    fn events_as_in_listings_2_and_4() {
        let m = message(
            "<message xmlns='jabber:client' from='stpeter@jabber.org' to='maineboy@jabber.org'>\
            <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:chatting:0'>\
            <item id='1b395148292c0b0ab3a83bb2c22909bf83d2a80b'><room xmlns='urn:xmpp:chatting:0'>\
            <name>Jabber Development</name><uri>xmpp:jdev@conference.jabber.org</uri></room></item>\
            </items></event></message>",
        );
        let Incoming::Chatting(e) = classify_message(&m) else {
            panic!("{:?}", classify_message(&m))
        };
        assert_eq!(e.from.as_str(), "stpeter@jabber.org");
        assert_eq!(
            e.items,
            vec![ChattingItem {
                id: "1b395148292c0b0ab3a83bb2c22909bf83d2a80b".into(),
                room: Some(jdev()),
            }]
        );
        let m = message(
            "<message xmlns='jabber:client' type='headline' from='stpeter@jabber.org' to='maineboy@jabber.org'>\
            <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:chatting:0'>\
            <item id='1b395148292c0b0ab3a83bb2c22909bf83d2a80b'><room xmlns='urn:xmpp:chatting:0'/></item>\
            <retract id='abc'/></items></event></message>",
        );
        let Incoming::Chatting(e) = classify_message(&m) else {
            panic!()
        };
        assert_eq!(e.items.len(), 2);
        assert!(e.items.iter().all(|i| i.room.is_none()));
        assert_eq!(e.items[1].id, "abc");
    }

    #[test]
    fn other_events_and_odd_senders_are_not_chatting() {
        // Another node: not ours (falls through to chat parsing).
        let m = message(
            "<message xmlns='jabber:client' from='a@b'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
            <items node='urn:xmpp:bookmarks:1'/></event></message>",
        );
        assert!(!matches!(classify_message(&m), Incoming::Chatting(_)));
        // A full JID sender or none: ignored.
        let m = message(
            "<message xmlns='jabber:client' from='a@b/c'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
            <items node='urn:xmpp:chatting:0'/></event></message>",
        );
        assert!(matches!(classify_message(&m), Incoming::Ignored(_)));
        let m = message(
            "<message xmlns='jabber:client'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
            <items node='urn:xmpp:chatting:0'/></event></message>",
        );
        assert!(matches!(classify_message(&m), Incoming::Ignored(_)));
        // A room without a URI is no room; groupchat messages stay MUC.
        let r = el("<room xmlns='urn:xmpp:chatting:0'><name>x</name><uri>  </uri></room>");
        assert_eq!(parse_room(&r), None);
        let m = message(
            "<message xmlns='jabber:client' type='groupchat' from='r@c/n'><body>hi</body>\
            <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:chatting:0'/></event></message>",
        );
        assert!(matches!(classify_message(&m), Incoming::RoomMessage(_)));
    }

    #[test]
    fn hostile_items_are_bounded_and_odd_ones_are_no_room() {
        let long = "x".repeat(5000);
        let mut xml = String::from(
            "<items xmlns='http://jabber.org/protocol/pubsub#event' node='urn:xmpp:chatting:0'>",
        );
        xml.push_str(&format!(
            "<item id='big'><room xmlns='urn:xmpp:chatting:0'><name>{long}</name><topic>\u{9b}2J\u{202e}evil</topic><uri>xmpp:r@c</uri></room></item>"
        ));
        // Another namespace, no room at all, a room without a URI.
        xml.push_str("<item id='ns'><room xmlns='urn:other'><uri>xmpp:r@c</uri></room></item>");
        xml.push_str("<item id='none'/>");
        xml.push_str(
            "<item id='nouri'><room xmlns='urn:xmpp:chatting:0'><name>n</name></room></item>",
        );
        for i in 0..100 {
            xml.push_str(&format!("<item id='{i}'/>"));
        }
        xml.push_str("</items>");
        let items = parse_items(&el(&xml), NS_PUBSUB_EVENT);
        assert_eq!(items.len(), MAX_ITEMS);
        let big = items[0].room.as_ref().unwrap();
        assert_eq!(big.name.as_ref().unwrap().chars().count(), MAX_TEXT);
        assert!(items[1..4].iter().all(|i| i.room.is_none()));
    }

    #[test]
    fn fetch_results_and_room_privacy() {
        let r = el(
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:chatting:0'>\
            <item id='a'><room xmlns='urn:xmpp:chatting:0'><name>N</name><topic>T</topic><uri>xmpp:r@c</uri></room></item>\
            <item id='b'><room xmlns='urn:xmpp:chatting:0'/></item><item><room xmlns='urn:xmpp:chatting:0'/></item>\
            </items></pubsub>",
        );
        let items = parse_fetch(Some(&r));
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].room.as_ref().unwrap().topic.as_deref(), Some("T"));
        assert!(items[1].room.is_none());
        assert!(parse_fetch(None).is_empty());
        let info = el(
            "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text' name='Lounge'/>\
            <feature var='muc_public'/><feature var='muc_membersonly'/></query>",
        );
        assert_eq!(private_by_features(Some(&info)), Some("members-only room"));
        assert_eq!(name_from_disco(Some(&info)).as_deref(), Some("Lounge"));
        let open = el(
            "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text'/>\
            <feature var='muc_public'/><feature var='muc_open'/><feature var='muc_nonanonymous'/></query>",
        );
        assert_eq!(private_by_features(Some(&open)), None);
        assert_eq!(name_from_disco(Some(&open)), None);
    }
}
