//! XEP-0085 Chat State Notifications: "typing…" in one-to-one chats and
//! rooms. A notice without a body is its own stanza; with a body the
//! state rides along (`<active/>`).

use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::message::{Id, Message, MessageType};

pub const NS: &str = "http://jabber.org/protocol/chatstates";
/// XEP-0334 processing hints.
pub const HINTS: &str = "urn:xmpp:hints";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatState {
    Active,
    Composing,
    Paused,
    Inactive,
    Gone,
}

impl ChatState {
    /// The element name, also the word in events.
    pub fn name(self) -> &'static str {
        match self {
            ChatState::Active => "active",
            ChatState::Composing => "composing",
            ChatState::Paused => "paused",
            ChatState::Inactive => "inactive",
            ChatState::Gone => "gone",
        }
    }

    fn from_name(name: &str) -> Option<ChatState> {
        Some(match name {
            "active" => ChatState::Active,
            "composing" => ChatState::Composing,
            "paused" => ChatState::Paused,
            "inactive" => ChatState::Inactive,
            "gone" => ChatState::Gone,
            _ => return None,
        })
    }

    pub fn element(self) -> Element {
        Element::builder(self.name(), NS).build()
    }
}

/// A bodyless chat state notice received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatStateNotice {
    /// The sender: an occupant JID in a room, a (full) JID in a chat.
    pub from: Jid,
    /// Set for a groupchat notice: the room.
    pub room: Option<BareJid>,
    pub state: ChatState,
}

/// The chat state a message carries (the first one), if any.
pub fn of(m: &Message) -> Option<ChatState> {
    m.payloads
        .iter()
        .filter(|p| p.ns() == NS)
        .find_map(|p| ChatState::from_name(p.name()))
}

/// A standalone notice to a room (`groupchat`) or a contact (`chat`),
/// not to be archived (XEP-0334 `<no-store/>`).
pub fn notice(to: Jid, groupchat: bool, state: ChatState, id: &str) -> Message {
    let type_ = if groupchat {
        MessageType::Groupchat
    } else {
        MessageType::Chat
    };
    let mut m = Message::new_with_type(type_, Some(to));
    m.id = Some(Id(id.to_string()));
    m.payloads.push(state.element());
    m.payloads.push(Element::builder("no-store", HINTS).build());
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;
    use crate::{Incoming, classify_message};

    fn classify(xml: &str) -> Incoming {
        classify_message(&Message::try_from(el(xml)).expect("message parses"))
    }

    #[test]
    fn the_xep_examples_classify() {
        // XEP-0085 example 4 (a standalone notice in a chat).
        let inc = classify(
            "<message xmlns='jabber:client' from='bernardo@shakespeare.lit/pda' \
             to='francisco@shakespeare.lit/elsinore' type='chat'>\
             <composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        );
        let Incoming::ChatState(n) = inc else {
            panic!("{inc:?}")
        };
        assert_eq!(n.state, ChatState::Composing);
        assert_eq!(n.room, None);
        assert_eq!(n.from.to_string(), "bernardo@shakespeare.lit/pda");
        // In a room.
        let inc = classify(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' \
             type='groupchat'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>",
        );
        let Incoming::ChatState(n) = inc else {
            panic!("{inc:?}")
        };
        assert_eq!(n.state, ChatState::Paused);
        assert_eq!(n.room.unwrap().as_str(), "coven@chat.shakespeare.lit");
    }

    #[test]
    fn what_is_not_a_notice() {
        // The room itself has no chat state; an unknown element is
        // ignored; a private message's notice is ignored.
        for xml in [
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' type='groupchat'>\
             <composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<message xmlns='jabber:client' from='a@b/c' type='chat'>\
             <dancing xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/x' type='chat'>\
             <x xmlns='http://jabber.org/protocol/muc#user'/>\
             <composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        ] {
            assert!(matches!(classify(xml), Incoming::Ignored(_)), "{xml}");
        }
        // With a body it is a message (the state rides along).
        let m = Message::try_from(el(
            "<message xmlns='jabber:client' from='a@b/c' type='chat'><body>hi</body>\
             <active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        ))
        .unwrap();
        assert!(matches!(classify_message(&m), Incoming::Chat(_)));
        assert_eq!(of(&m), Some(ChatState::Active));
    }

    #[test]
    fn a_notice_is_built_with_no_store() {
        let m = notice(
            Jid::new("room@muc.example").unwrap(),
            true,
            ChatState::Composing,
            "id1",
        );
        assert_eq!(m.type_, MessageType::Groupchat);
        assert_eq!(of(&m), Some(ChatState::Composing));
        assert!(m.payloads.iter().any(|p| p.is("no-store", HINTS)));
        assert!(m.bodies.is_empty());
    }
}
