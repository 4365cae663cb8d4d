//! Messages: groupchat messages from rooms, one-to-one and private
//! messages, and their builders.

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use xmpp_parsers::message::{Id, Lang, Message, MessageType};

use super::{Incoming, delay_of, ns, stanza_id_by};

/// A groupchat message as received from a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMessage {
    pub room: BareJid,
    /// `None` when the room itself speaks (service messages).
    pub nick: Option<String>,
    pub body: String,
    pub id: Option<String>,
    /// XEP-0359 id assigned by the room.
    pub stanza_id: Option<String>,
    /// Time from `<delay/>`; `None` means "now".
    pub time: Option<DateTime<Utc>>,
    pub delayed: bool,
}

/// A `chat` or `normal` message with a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub from: Jid,
    pub body: String,
    pub id: Option<String>,
    pub time: Option<DateTime<Utc>>,
    pub delayed: bool,
    /// Carried `<x xmlns='…muc#user'/>`: a private message in a room.
    pub muc_user: bool,
}

fn body_of(m: &Message) -> Option<String> {
    m.bodies
        .get("")
        .or_else(|| m.bodies.get("en"))
        .or_else(|| m.bodies.values().next())
        .cloned()
}

pub(super) fn parse_groupchat(m: &Message) -> Incoming {
    let Some(from) = m.from.as_ref() else {
        return Incoming::Ignored("groupchat without sender");
    };
    let room = from.to_bare();
    let nick = from.resource().map(|r| r.as_str().to_string());
    let (time, delayed) = delay_of(&m.payloads);
    let body = body_of(m);
    if body.is_none() {
        if let Some(subject) = m
            .subjects
            .get("")
            .or_else(|| m.subjects.values().next())
            .cloned()
        {
            return Incoming::Subject {
                room,
                nick,
                subject,
                delayed,
            };
        }
        // An empty <subject/> clears the subject.
        if m.payloads
            .iter()
            .any(|p| p.is("subject", ns::JABBER_CLIENT))
        {
            return Incoming::Subject {
                room,
                nick,
                subject: String::new(),
                delayed,
            };
        }
        return Incoming::Ignored("groupchat without body");
    }
    let stanza_id = stanza_id_by(&m.payloads, &room);
    // Our own echo is recognised by origin-id first: some services rewrite
    // the message id.
    let origin_id = m
        .payloads
        .iter()
        .find(|p| p.is("origin-id", ns::STANZA_ID))
        .and_then(|p| p.attr("id").map(str::to_string));
    Incoming::RoomMessage(RoomMessage {
        room,
        nick,
        body: body.unwrap_or_default(),
        id: origin_id.or_else(|| m.id.as_ref().map(|i| i.0.clone())),
        stanza_id,
        time,
        delayed,
    })
}

pub(super) fn parse_chat(m: &Message) -> Incoming {
    let Some(from) = m.from.clone() else {
        return Incoming::Ignored("message without sender");
    };
    let Some(body) = body_of(m) else {
        return Incoming::Ignored("message without body");
    };
    let (time, delayed) = delay_of(&m.payloads);
    Incoming::Chat(ChatMessage {
        from,
        body,
        id: m.id.as_ref().map(|i| i.0.clone()),
        time,
        delayed,
        muc_user: m.payloads.iter().any(|p| p.is("x", ns::MUC_USER)),
    })
}

/// A one-to-one chat message; `private` marks a private message to a room
/// occupant (XEP-0045 §7.5 asks for the `muc#user` marker).
pub fn chat(to: Jid, body: &str, id: &str, private: bool) -> Message {
    let mut m = Message::new_with_type(MessageType::Chat, Some(to));
    m.id = Some(Id(id.to_string()));
    m.bodies.insert(Lang::new(), body.to_string());
    if private {
        m.payloads
            .push(minidom::Element::builder("x", ns::MUC_USER).build());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{classify_message, tests::el};

    fn msg(xml: &str) -> Message {
        Message::try_from(el(xml)).expect("message parses")
    }

    #[test]
    fn live_groupchat_message() {
        let m = msg("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='groupchat' id='hysf1v37'>
              <body>Harpier cries: 'tis time, 'tis time.</body>
              <stanza-id xmlns='urn:xmpp:sid:0' id='5f3dbc5e' by='coven@chat.shakespeare.lit'/>
            </message>");
        let Incoming::RoomMessage(rm) = classify_message(&m) else {
            panic!()
        };
        assert_eq!(rm.nick.as_deref(), Some("thirdwitch"));
        assert_eq!(rm.body, "Harpier cries: 'tis time, 'tis time.");
        assert_eq!(rm.id.as_deref(), Some("hysf1v37"));
        assert_eq!(rm.stanza_id.as_deref(), Some("5f3dbc5e"));
        assert!(!rm.delayed && rm.time.is_none());
    }

    #[test]
    fn origin_id_wins_over_a_rewritten_id() {
        let m = msg("<message xmlns='jabber:client' from='r@c.example/me' type='groupchat' id='server-made'>
              <body>x</body><origin-id xmlns='urn:xmpp:sid:0' id='mine-1'/></message>");
        let Incoming::RoomMessage(rm) = classify_message(&m) else {
            panic!()
        };
        assert_eq!(rm.id.as_deref(), Some("mine-1"));
    }

    #[test]
    fn history_message_is_delayed() {
        let m = msg("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/secondwitch' type='groupchat'>
              <body>Fillet of a fenny snake</body>
              <delay xmlns='urn:xmpp:delay' from='coven@chat.shakespeare.lit' stamp='2002-10-13T23:58:37Z'/>
            </message>");
        let Incoming::RoomMessage(rm) = classify_message(&m) else {
            panic!()
        };
        assert!(rm.delayed);
        assert!(rm.time.is_some());
    }

    #[test]
    fn subject_message() {
        let m = msg(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/secondwitch' type='groupchat'><subject>Fire Burn and Cauldron Bubble!</subject></message>",
        );
        assert_eq!(
            classify_message(&m),
            Incoming::Subject {
                room: BareJid::new("coven@chat.shakespeare.lit").unwrap(),
                nick: Some("secondwitch".into()),
                subject: "Fire Burn and Cauldron Bubble!".into(),
                delayed: false
            }
        );
    }

    #[test]
    fn chat_and_private_messages() {
        let m = msg(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' type='chat'><body>I'll give thee a wind.</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>",
        );
        let Incoming::Chat(c) = classify_message(&m) else {
            panic!()
        };
        assert!(c.muc_user);
        assert_eq!(c.body, "I'll give thee a wind.");
        // Chat-state only: ignored.
        let m = msg(
            "<message xmlns='jabber:client' from='a@b/c' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        );
        assert!(matches!(classify_message(&m), Incoming::Ignored(_)));
    }

    #[test]
    fn error_message() {
        let m = msg(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' type='error' id='x1'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
        );
        match classify_message(&m) {
            Incoming::MessageError { id, error, .. } => {
                assert_eq!(id.as_deref(), Some("x1"));
                assert_eq!(error.condition, "not-acceptable");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn chat_builder_round_trip() {
        let to = Jid::new("coven@chat.shakespeare.lit/firstwitch").unwrap();
        let m = chat(to.clone(), "psst", "p1", true);
        let e: minidom::Element = m.into();
        let back = Message::try_from(e).unwrap();
        assert_eq!(back.to, Some(to));
        assert_eq!(back.type_, MessageType::Chat);
        assert!(back.payloads.iter().any(|p| p.is("x", ns::MUC_USER)));
    }
}
