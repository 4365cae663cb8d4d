//! XEP-0308 Last Message Correction: `<replace id='…'/>` on a later
//! message from the same sender replaces the body of the original.

use chrono::{DateTime, Utc};
use jid::BareJid;
use minidom::Element;
use xmpp_parsers::message::Message;

use super::{Incoming, RoomMessage, nc};

pub const CORRECT: &str = "urn:xmpp:message-correct:0";

/// A correction received in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub room: BareJid,
    /// The sender (only the original's sender may correct it).
    pub nick: Option<String>,
    /// Id of the corrected message (its id, or origin-id).
    pub replaces: String,
    /// The new body.
    pub body: String,
    /// The correction's own id and stanza-id.
    pub id: Option<String>,
    pub stanza_id: Option<String>,
    pub time: Option<DateTime<Utc>>,
    pub delayed: bool,
    /// XEP-0384: an OMEMO correction (as Conversations sends them: the
    /// `<replace/>` in the clear beside the `<encrypted/>`); until the app
    /// decrypts it, `body` is the sender's fallback text.
    pub encrypted: Option<Box<Result<crate::omemo::Encrypted, crate::ErrorInfo>>>,
    /// What the app found decrypting it (set by the app, not the parser).
    pub e2e: Option<crate::omemo_pep::E2e>,
}

/// The id a message says it replaces, if any.
pub fn replaces(m: &Message) -> Option<String> {
    m.payloads
        .iter()
        .find(|p| p.is("replace", CORRECT))
        .and_then(|p| p.attr("id"))
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

/// Turns a classified groupchat message that carries `<replace/>` into a
/// correction; anything else is returned as it was.
pub fn refine(m: &Message, inc: Incoming) -> Incoming {
    let Incoming::RoomMessage(rm) = inc else {
        return inc;
    };
    match replaces(m) {
        Some(id) => Incoming::Correction(from_room_message(rm, id)),
        None => Incoming::RoomMessage(rm),
    }
}

fn from_room_message(rm: RoomMessage, replaces: String) -> Correction {
    Correction {
        room: rm.room,
        nick: rm.nick,
        replaces,
        body: rm.body,
        id: rm.id,
        stanza_id: rm.stanza_id,
        time: rm.time,
        delayed: rm.delayed,
        encrypted: rm.encrypted,
        e2e: None,
    }
}

/// `<replace id='original'/>`.
pub fn replace_element(original: &str) -> Element {
    Element::builder("replace", CORRECT)
        .attr(nc("id"), original)
        .build()
}

/// A correction of our message `original` in a room: a groupchat message
/// with a fresh `id` (and origin-id) and `<replace/>`.
pub fn correction(room: &BareJid, body: &str, id: &str, original: &str) -> Message {
    let mut m = super::muc::groupchat(room, body, id);
    m.payloads.push(replace_element(original));
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{classify_message, fixtures::el};

    #[test]
    fn groupchat_correction_from_the_xep() {
        // XEP-0308 §4 example 2, as a room would reflect it.
        let m = Message::try_from(el("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/romeo' type='groupchat' id='good1'>
              <body>But soft, what light through yonder window breaks?</body>
              <replace id='bad1' xmlns='urn:xmpp:message-correct:0'/>
              <stanza-id xmlns='urn:xmpp:sid:0' id='s-2' by='coven@chat.shakespeare.lit'/>
            </message>"))
        .unwrap();
        let Incoming::Correction(c) = classify_message(&m) else {
            panic!("a correction")
        };
        assert_eq!(c.replaces, "bad1");
        assert_eq!(c.nick.as_deref(), Some("romeo"));
        assert_eq!(c.body, "But soft, what light through yonder window breaks?");
        assert_eq!(c.id.as_deref(), Some("good1"));
        assert_eq!(c.stanza_id.as_deref(), Some("s-2"));
    }

    #[test]
    fn a_plain_message_stays_a_message() {
        let m = Message::try_from(el(
            "<message xmlns='jabber:client' from='r@c/romeo' type='groupchat' id='bad1'><body>But soft, what light through yonder airlock breaks?</body></message>",
        ))
        .unwrap();
        assert!(matches!(classify_message(&m), Incoming::RoomMessage(_)));
        // An empty id replaces nothing.
        let m = Message::try_from(el(
            "<message xmlns='jabber:client' from='r@c/romeo' type='groupchat'><body>x</body><replace xmlns='urn:xmpp:message-correct:0' id=''/></message>",
        ))
        .unwrap();
        assert!(matches!(classify_message(&m), Incoming::RoomMessage(_)));
    }

    #[test]
    fn an_encrypted_correction_keeps_its_encrypted_element() {
        // As Conversations sends it: <replace/> in the clear.
        let m = Message::try_from(el("<message xmlns='jabber:client' from='r@c/romeo' type='groupchat' id='good2'>
              <body>I sent you an OMEMO encrypted message</body>
              <encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='7'><key rid='9'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>AAAA</payload></encrypted>
              <replace id='bad2' xmlns='urn:xmpp:message-correct:0'/>
            </message>"))
        .unwrap();
        let Incoming::Correction(c) = classify_message(&m) else {
            panic!("a correction")
        };
        assert_eq!(c.replaces, "bad2");
        let e = c.encrypted.expect("the encrypted element kept");
        assert_eq!(e.as_ref().as_ref().unwrap().sid, 7);
    }

    #[test]
    fn builder_round_trip() {
        let room = BareJid::new("coven@chat.shakespeare.lit").unwrap();
        let m = correction(&room, "fixed", "good1", "bad1");
        let e: Element = m.into();
        let back = Message::try_from(e).unwrap();
        assert_eq!(replaces(&back).as_deref(), Some("bad1"));
        assert_eq!(back.id.as_ref().unwrap().0, "good1");
        assert!(
            back.payloads
                .iter()
                .any(|p| p.is("origin-id", crate::ns::STANZA_ID) && p.attr("id") == Some("good1"))
        );
    }
}
