//! OMEMO in rooms (XEP-0384 §"Group chats", as Conversations and
//! Profanity do it): only in a members-only, non-anonymous room, where
//! every member's real JID is known; the encrypted `groupchat` message.

use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::message::{Message, MessageType};

use super::omemo::Encrypted;
use super::{nc, ns};

/// Why a room cannot carry OMEMO, from its disco#info result (`Ok`: it
/// is members-only and non-anonymous).
pub fn room_refusal(info: Option<&Element>) -> Result<(), String> {
    let has = |var: &str| {
        info.is_some_and(|q| {
            q.is("query", ns::DISCO_INFO)
                && q.children()
                    .any(|f| f.is("feature", ns::DISCO_INFO) && f.attr("var") == Some(var))
        })
    };
    let missing: Vec<&str> = [
        ("muc_membersonly", "not members-only"),
        ("muc_nonanonymous", "not non-anonymous"),
    ]
    .iter()
    .filter(|(var, _)| !has(var))
    .map(|(_, why)| *why)
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing.join(" and "))
    }
}

/// An encrypted message to a room: the `<encrypted/>`, an origin-id
/// (XEP-0359, what our echo is matched by), the fallback body, the store
/// hint and the EME, as [`super::omemo_pep::chat_message`] gives them.
pub fn groupchat_message(room: &BareJid, id: &str, encrypted: &Encrypted) -> Message {
    let mut m = super::omemo_pep::chat_message(Jid::from(room.clone()), id, encrypted, true);
    m.type_ = MessageType::Groupchat;
    m.payloads.push(
        Element::builder("origin-id", ns::STANZA_ID)
            .attr(nc("id"), id)
            .build(),
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;
    use crate::omemo::{Key, Omemo};
    use crate::{Incoming, classify_message};

    fn info(features: &[&str]) -> Element {
        let f: String = features
            .iter()
            .map(|v| format!("<feature var='{v}'/>"))
            .collect();
        el(&format!(
            "<query xmlns='http://jabber.org/protocol/disco#info'>{f}</query>"
        ))
    }

    #[test]
    fn only_members_only_non_anonymous_rooms() {
        assert_eq!(
            room_refusal(Some(&info(&["muc_membersonly", "muc_nonanonymous"]))),
            Ok(())
        );
        assert_eq!(
            room_refusal(Some(&info(&["muc_open", "muc_semianonymous"]))).unwrap_err(),
            "not members-only and not non-anonymous"
        );
        assert_eq!(
            room_refusal(Some(&info(&["muc_membersonly", "muc_semianonymous"]))).unwrap_err(),
            "not non-anonymous"
        );
        assert!(room_refusal(None).is_err());
        // Features outside a disco#info query count for nothing.
        let other = el(
            "<query xmlns='urn:x'><feature xmlns='http://jabber.org/protocol/disco#info' var='muc_membersonly'/><feature xmlns='http://jabber.org/protocol/disco#info' var='muc_nonanonymous'/></query>",
        );
        assert!(room_refusal(Some(&other)).is_err());
    }

    #[test]
    fn groupchat_message_parses_back_encrypted() {
        let e = Encrypted {
            omemo: Omemo::Legacy,
            sid: 7,
            keys: vec![Key {
                jid: None,
                rid: 9,
                kex: false,
                data: vec![1, 2, 3],
            }],
            iv: vec![0; 12],
            payload: Some(vec![4, 5]),
        };
        let room: BareJid = "club@conference.localhost".parse().unwrap();
        let mut m = groupchat_message(&room, "m1", &e);
        assert_eq!(m.type_, MessageType::Groupchat);
        m.from = Some("club@conference.localhost/alice".parse().unwrap());
        let Incoming::RoomMessage(r) = classify_message(&m) else {
            panic!("not a room message");
        };
        assert_eq!(r.id.as_deref(), Some("m1"));
        assert_eq!(r.nick.as_deref(), Some("alice"));
        assert_eq!(*r.encrypted.unwrap(), Ok(e));
    }

    #[test]
    fn groupchat_with_only_encrypted_is_a_room_message() {
        let m: Message = el("<message xmlns='jabber:client' type='groupchat' from='club@conference.localhost/bob'><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='3'><iv>AAAAAAAAAAAAAAAA</iv></header></encrypted></message>").try_into().unwrap();
        let Incoming::RoomMessage(r) = classify_message(&m) else {
            panic!("not a room message");
        };
        assert_eq!(r.body, "");
        assert!(r.encrypted.is_some());
    }
}
