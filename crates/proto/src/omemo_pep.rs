//! OMEMO over XMPP: the PEP requests for device lists and bundles (both
//! versions), the encrypted message as sent (XEP-0334 store hint, XEP-0380
//! EME, a fallback body), and what a received message says about its
//! encryption (`E2e`, for the `message` event).

use jid::{BareJid, Jid};
use minidom::Element;
use serde::Serialize;
use xmpp_parsers::message::{Id, Lang, Message, MessageType};

use super::nc;
use super::omemo::{Encrypted, Omemo};
use super::pep::{NS_PUBSUB, Publication};

pub const NS_HINTS: &str = "urn:xmpp:hints";
pub const NS_EME: &str = "urn:xmpp:eme:0";
const NS_PUBSUB_EVENT: &str = "http://jabber.org/protocol/pubsub#event";

/// The body other clients show for a message they cannot decrypt.
pub const FALLBACK_BODY: &str = "I sent you an OMEMO encrypted message but your client doesn't seem to support that. Find more information on https://conversations.im/omemo";

/// What a received message said about its encryption, for the `message`
/// event and the lock marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct E2e {
    /// `0.3` or `2`.
    pub version: &'static str,
    /// The sending device.
    pub device: u32,
    /// The sending device is trusted (BTBV or verified).
    pub trusted: bool,
    /// False: the body is the sender's fallback text, not decrypted.
    pub decrypted: bool,
}

pub fn version_name(omemo: Omemo) -> &'static str {
    match omemo {
        Omemo::Legacy => "0.3",
        Omemo::V2 => "2",
    }
}

/// The device list node of a version.
pub fn device_list_node(omemo: Omemo) -> &'static str {
    match omemo {
        Omemo::Legacy => super::omemo::LEGACY_DEVICE_LIST_NODE,
        Omemo::V2 => super::omemo::V2_DEVICES_NODE,
    }
}

/// A request for the items of `node` (to an account's bare JID), one item
/// if `item` is given.
pub fn fetch(node: &str, item: Option<&str>) -> Element {
    let mut items = Element::builder("items", NS_PUBSUB).attr(nc("node"), node);
    if let Some(id) = item {
        items = items.append(
            Element::builder("item", NS_PUBSUB)
                .attr(nc("id"), id)
                .build(),
        );
    } else {
        items = items.attr(nc("max_items"), "1");
    }
    Element::builder("pubsub", NS_PUBSUB)
        .append(items.build())
        .build()
}

/// The payload of the first item of a fetch's result (`None`: no item).
pub fn first_item(result: Option<&Element>) -> Option<&Element> {
    result?
        .get_child("items", NS_PUBSUB)?
        .children()
        .find(|i| i.is("item", NS_PUBSUB))?
        .children()
        .next()
}

/// The publication of our device list, access model `open` (XEP-0384 §5.3.1).
pub fn device_list_publication(omemo: Omemo, devices: &[super::omemo::Device]) -> Publication {
    Publication {
        node: device_list_node(omemo),
        id: "current".into(),
        payload: super::omemo::device_list_element(omemo, devices),
        options: vec![("pubsub#access_model", "open")],
    }
}

/// The publication of our bundle. `node` is [`super::omemo::bundle_node`]'s,
/// kept for the session (0.3's has the device id in it).
pub fn bundle_publication(
    omemo: Omemo,
    node: &'static str,
    item: String,
    bundle: &super::omemo::Bundle,
) -> Publication {
    let mut options = vec![("pubsub#access_model", "open")];
    if omemo == Omemo::V2 {
        // One item per device in one node.
        options.push(("pubsub#max_items", "max"));
    }
    Publication {
        node,
        id: item,
        payload: super::omemo::bundle_element(omemo, bundle),
        options,
    }
}

/// A device list pushed by PEP (a `+notify` of ours): whose, which
/// version, the list element.
pub fn parse_device_list_event(m: &Message) -> Option<(BareJid, Omemo, Element)> {
    let items = m
        .payloads
        .iter()
        .find(|p| p.is("event", NS_PUBSUB_EVENT))?
        .get_child("items", NS_PUBSUB_EVENT)?;
    let omemo = match items.attr("node")? {
        super::omemo::LEGACY_DEVICE_LIST_NODE => Omemo::Legacy,
        super::omemo::V2_DEVICES_NODE => Omemo::V2,
        _ => return None,
    };
    let from = m.from.as_ref()?;
    if from.resource().is_some() {
        return None;
    }
    let list = items
        .children()
        .find(|i| i.is("item", NS_PUBSUB_EVENT))?
        .children()
        .next()?
        .clone();
    Some((from.to_bare(), omemo, list))
}

/// An encrypted chat message: the `<encrypted/>`, a fallback body, a store
/// hint (XEP-0334: an empty one too must be kept), the EME (XEP-0380).
pub fn chat_message(to: Jid, id: &str, encrypted: &Encrypted, with_body: bool) -> Message {
    let mut m = Message::new_with_type(MessageType::Chat, Some(to));
    m.id = Some(Id(id.to_string()));
    if with_body {
        m.bodies.insert(Lang::new(), FALLBACK_BODY.to_string());
    }
    m.payloads.push(encrypted.to_element());
    m.payloads.push(Element::builder("store", NS_HINTS).build());
    let name = match encrypted.omemo {
        Omemo::Legacy => "OMEMO",
        Omemo::V2 => "OMEMO 2",
    };
    m.payloads.push(
        Element::builder("encryption", NS_EME)
            .attr(nc("namespace"), encrypted.omemo.ns())
            .attr(nc("name"), name)
            .build(),
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::omemo::{Device, Key};

    #[test]
    fn message_carries_hint_eme_and_fallback() {
        let e = Encrypted {
            omemo: Omemo::Legacy,
            sid: 7,
            keys: vec![Key {
                jid: None,
                rid: 9,
                kex: true,
                data: vec![1, 2, 3],
            }],
            iv: vec![0; 12],
            payload: Some(vec![4, 5]),
        };
        let m = chat_message("bob@example.org".parse().unwrap(), "m1", &e, true);
        let el: Element = m.into();
        assert!(el.get_child("store", NS_HINTS).is_some());
        let eme = el.get_child("encryption", NS_EME).unwrap();
        assert_eq!(eme.attr("namespace"), Some(crate::omemo::LEGACY));
        assert!(el.get_child("body", "jabber:client").is_some());
        let back = Encrypted::parse(Encrypted::find(&el).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn device_list_publication_is_open() {
        let p = device_list_publication(Omemo::V2, &[Device { id: 5, label: None }]);
        assert_eq!(p.node, crate::omemo::V2_DEVICES_NODE);
        assert_eq!(p.options, vec![("pubsub#access_model", "open")]);
    }

    #[test]
    fn first_item_of_a_fetch() {
        let r: Element = "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='x'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='3'/></list></item></items></pubsub>".parse().unwrap();
        let list = first_item(Some(&r)).unwrap();
        let (v, d) = crate::omemo::parse_device_list(list).unwrap();
        assert_eq!((v, d[0].id), (Omemo::Legacy, 3));
    }
}
