//! OMEMO over XMPP: the PEP requests for device lists and bundles (both
//! versions), the encrypted message as sent (XEP-0334 store hint, XEP-0380
//! EME, a fallback body), and what a received message says about its
//! encryption (`E2e`, for the `message` event).

use jid::{BareJid, Jid};
use minidom::Element;
use serde::Serialize;
use xmpp_parsers::message::{Id, Lang, Message, MessageType};

use super::omemo::{Encrypted, Omemo};
use super::pep::{NS_PUBSUB, Publication};
use super::{Incoming, nc};

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

/// The payload of the item `id` of a fetch's result (`None`: no such
/// item; another item in its place is not taken for it).
pub fn item_with_id<'a>(result: Option<&'a Element>, id: &str) -> Option<&'a Element> {
    result?
        .get_child("items", NS_PUBSUB)?
        .children()
        .find(|i| i.is("item", NS_PUBSUB) && i.attr("id") == Some(id))?
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

/// A device list pushed by PEP (our `+notify` of either version's node):
/// the list of the account that sent it (never another's), empty when
/// the node was deleted, purged or its item retracted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceListPush {
    pub from: BareJid,
    pub omemo: Omemo,
    pub devices: Vec<super::omemo::Device>,
}

/// A device list push in a message, if it is one (a malformed one:
/// [`Incoming::Ignored`]). Pushes come from the publisher's bare JID.
pub fn parse_device_list_push(m: &Message) -> Option<Incoming> {
    if m.type_ == MessageType::Groupchat {
        return None;
    }
    let event = m.payloads.iter().find(|p| p.is("event", NS_PUBSUB_EVENT))?;
    let node_of = |n: &str| match n {
        super::omemo::LEGACY_DEVICE_LIST_NODE => Some(Omemo::Legacy),
        super::omemo::V2_DEVICES_NODE => Some(Omemo::V2),
        _ => None,
    };
    let (child, omemo) = event
        .children()
        .filter(|c| c.ns() == NS_PUBSUB_EVENT)
        .find_map(|c| Some((c, node_of(c.attr("node")?)?)))?;
    let from = match &m.from {
        Some(j) if j.resource().is_none() => j.to_bare(),
        _ => {
            return Some(Incoming::Ignored(
                "OMEMO device list push not from a bare JID",
            ));
        }
    };
    let devices = match child.name() {
        "delete" | "purge" => Vec::new(),
        "items" => {
            let Some(item) = child.children().find(|i| i.is("item", NS_PUBSUB_EVENT)) else {
                // A retraction (or an empty notification): no list now.
                return Some(
                    if child.children().any(|i| i.is("retract", NS_PUBSUB_EVENT)) {
                        Incoming::OmemoDevices(DeviceListPush {
                            from,
                            omemo,
                            devices: Vec::new(),
                        })
                    } else {
                        Incoming::Ignored("OMEMO device list push without an item")
                    },
                );
            };
            match item.children().next().map(super::omemo::parse_device_list) {
                Some(Ok((o, devices))) if o == omemo => devices,
                _ => return Some(Incoming::Ignored("malformed OMEMO device list push")),
            }
        }
        _ => return Some(Incoming::Ignored("OMEMO device list push")),
    };
    Some(Incoming::OmemoDevices(DeviceListPush {
        from,
        omemo,
        devices,
    }))
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

    fn push(xml: &str) -> Option<Incoming> {
        let el: Element = xml.parse().unwrap();
        parse_device_list_push(&Message::try_from(el).unwrap())
    }

    #[test]
    fn device_list_pushes() {
        let ev = "xmlns='http://jabber.org/protocol/pubsub#event'";
        let Some(Incoming::OmemoDevices(p)) = push(&format!(
            "<message xmlns='jabber:client' from='bob@x.lit' type='headline'><event {ev}><items node='urn:xmpp:omemo:2:devices'><item id='current'><devices xmlns='urn:xmpp:omemo:2'><device id='7' label='phone'/><device id='9'/></devices></item></items></event></message>"
        )) else {
            panic!("not a push")
        };
        assert_eq!((p.from.as_str(), p.omemo), ("bob@x.lit", Omemo::V2));
        assert_eq!(p.devices.iter().map(|d| d.id).collect::<Vec<_>>(), [7, 9]);
        // Deleted: no devices now.
        let Some(Incoming::OmemoDevices(p)) = push(&format!(
            "<message xmlns='jabber:client' from='bob@x.lit'><event {ev}><delete node='eu.siacs.conversations.axolotl.devicelist'/></event></message>"
        )) else {
            panic!("not a push")
        };
        assert_eq!((p.omemo, p.devices.len()), (Omemo::Legacy, 0));
        // From a full JID, a list of the other version, another node.
        for bad in [
            format!(
                "<message xmlns='jabber:client' from='bob@x.lit/res'><event {ev}><items node='urn:xmpp:omemo:2:devices'><item><devices xmlns='urn:xmpp:omemo:2'/></item></items></event></message>"
            ),
            format!(
                "<message xmlns='jabber:client' from='bob@x.lit'><event {ev}><items node='urn:xmpp:omemo:2:devices'><item><list xmlns='eu.siacs.conversations.axolotl'><device id='1'/></list></item></items></event></message>"
            ),
        ] {
            assert!(matches!(push(&bad), Some(Incoming::Ignored(_))), "{bad}");
        }
        assert!(push(&format!("<message xmlns='jabber:client' from='bob@x.lit'><event {ev}><items node='urn:xmpp:chatting:0'/></event></message>")).is_none());
    }

    #[test]
    fn an_item_by_its_id_only() {
        let r: Element = "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:omemo:2:bundles'><item id='5'><bundle xmlns='urn:xmpp:omemo:2'/></item></items></pubsub>".parse().unwrap();
        assert!(item_with_id(Some(&r), "5").is_some());
        assert!(
            item_with_id(Some(&r), "6").is_none(),
            "another device's bundle"
        );
    }

    #[test]
    fn first_item_of_a_fetch() {
        let r: Element = "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='x'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='3'/></list></item></items></pubsub>".parse().unwrap();
        let list = first_item(Some(&r)).unwrap();
        let (v, d) = crate::omemo::parse_device_list(list).unwrap();
        assert_eq!((v, d[0].id), (Omemo::Legacy, 3));
    }
}
