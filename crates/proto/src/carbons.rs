//! XEP-0280 Message Carbons: the `<enable/>` sent after login, and the
//! copies our server forwards (`<received/>`: a message to another of our
//! clients; `<sent/>`: one another of our clients sent).
//!
//! Only our own server forwards carbons, as our bare JID (§11): a wrapper
//! from anyone else is forged — the session drops it ([`from_account`]).

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::carbons::{Enable, Received, Sent};
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::ns::CARBONS;

use super::{ChatMessage, Incoming, message};

/// Which copy a carbon is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A message to another of our clients.
    Received,
    /// A message another of our clients sent.
    Sent,
}

/// A carbon copy, as forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carbon {
    /// The wrapper's `from` (only our bare JID, or none, may send it).
    pub from: Option<Jid>,
    pub direction: Direction,
    /// The time of the `<delay/>` inside `<forwarded/>` (our server's).
    pub time: Option<DateTime<Utc>>,
    /// The forwarded message (a `chat` or `normal` one with a body).
    pub message: ChatMessage,
}

/// The IQ set payload that enables carbons for this session.
pub fn enable() -> Element {
    Enable.into()
}

/// Whether a carbon's wrapper comes from our account: our bare JID
/// exactly, or no `from` (RFC 6120 §8.1.2.1: our server on behalf of the
/// account).
pub fn from_account(from: Option<&Jid>, account: &BareJid) -> bool {
    from.is_none_or(|f| f.resource().is_none() && f.to_bare() == *account)
}

/// Reads a `<message>` wrapping `<received/>` or `<sent/>`; `None` when it
/// carries neither. A copy of anything but a one-to-one message with a
/// body (chat states, receipts, groupchat, errors, nested wrappers) is
/// [`Incoming::Ignored`].
pub(super) fn parse(m: &Message) -> Option<Incoming> {
    let (el, direction) = m.payloads.iter().find_map(|p| {
        if p.ns() != CARBONS {
            return None;
        }
        match p.name() {
            "received" => Some((p, Direction::Received)),
            "sent" => Some((p, Direction::Sent)),
            _ => None,
        }
    })?;
    let forwarded = match direction {
        Direction::Received => Received::try_from(el.clone()).map(|r| r.forwarded),
        Direction::Sent => Sent::try_from(el.clone()).map(|s| s.forwarded),
    };
    let Ok(forwarded) = forwarded else {
        return Some(Incoming::Ignored("malformed carbon"));
    };
    let inner = forwarded.message;
    if !matches!(inner.type_, MessageType::Chat | MessageType::Normal) {
        return Some(Incoming::Ignored("carbon of a groupchat or error message"));
    }
    if inner
        .payloads
        .iter()
        .any(|p| p.ns() == CARBONS || p.is("result", super::mam::MAM))
    {
        return Some(Incoming::Ignored("nested carbon"));
    }
    let Incoming::Chat(message) = message::parse_chat(&inner) else {
        return Some(Incoming::Ignored("carbon without body"));
    };
    Some(Incoming::Carbon(Carbon {
        from: m.from.clone(),
        direction,
        time: forwarded.delay.map(|d| d.stamp.0.with_timezone(&Utc)),
        message,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{classify_message, fixtures::el};

    fn msg(xml: &str) -> Message {
        Message::try_from(el(xml)).expect("message parses")
    }

    fn alice() -> BareJid {
        BareJid::new("alice@localhost").unwrap()
    }

    #[test]
    fn received_and_sent_copies() {
        // XEP-0280 §7 examples.
        let m = msg("<message xmlns='jabber:client' from='alice@localhost' to='alice@localhost/a' type='chat'>
              <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
                <message xmlns='jabber:client' from='bob@localhost/pda' to='alice@localhost/b' type='chat' id='m1'>
                  <body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' id='S1' by='alice@localhost'/>
                  <stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='bob@localhost'/>
                </message></forwarded></received></message>");
        let Incoming::Carbon(c) = classify_message(&m) else {
            panic!("a carbon")
        };
        assert_eq!(c.direction, Direction::Received);
        assert!(from_account(c.from.as_ref(), &alice()));
        assert_eq!(c.message.body, "hi");
        assert_eq!(c.message.id.as_deref(), Some("m1"));
        assert_eq!(c.message.stanza_id_by(&alice()), Some("S1"));
        let (peer, own) = c.message.peer(&alice()).unwrap();
        assert_eq!(
            (peer.to_string().as_str(), own),
            ("bob@localhost/pda", false)
        );

        let m = msg("<message xmlns='jabber:client' from='alice@localhost' to='alice@localhost/a' type='chat'>
              <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
                <delay xmlns='urn:xmpp:delay' stamp='2026-12-06T01:02:03Z'/>
                <message xmlns='jabber:client' from='alice@localhost/b' to='bob@localhost' type='chat'>
                  <body>hello bob</body></message></forwarded></sent></message>");
        let Incoming::Carbon(c) = classify_message(&m) else {
            panic!("a carbon")
        };
        assert_eq!(c.direction, Direction::Sent);
        assert_eq!(c.time.unwrap().to_rfc3339(), "2026-12-06T01:02:03+00:00");
        let (peer, own) = c.message.peer(&alice()).unwrap();
        assert_eq!((peer.to_string().as_str(), own), ("bob@localhost", true));
    }

    #[test]
    fn only_our_bare_jid_forwards_carbons() {
        let me = alice();
        assert!(from_account(None, &me));
        for bad in [
            "bob@localhost",
            "alice@localhost/b",
            "localhost",
            "alice@evil.example",
        ] {
            assert!(!from_account(Some(&Jid::new(bad).unwrap()), &me), "{bad}");
        }
    }

    #[test]
    fn copies_of_non_messages_are_ignored() {
        for inner in [
            // A chat state: no body.
            "<message xmlns='jabber:client' from='bob@localhost/x' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
            // A receipt.
            "<message xmlns='jabber:client' from='bob@localhost/x'><received xmlns='urn:xmpp:receipts' id='x'/></message>",
            "<message xmlns='jabber:client' from='r@c/x' type='groupchat'><body>x</body></message>",
            "<message xmlns='jabber:client' from='bob@localhost/x' type='chat'><body>x</body><received xmlns='urn:xmpp:carbons:2'/></message>",
        ] {
            let m = msg(&format!(
                "<message xmlns='jabber:client' from='alice@localhost'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{inner}</forwarded></received></message>"
            ));
            assert!(
                matches!(classify_message(&m), Incoming::Ignored(_)),
                "{inner}"
            );
        }
        let broken = msg(
            "<message xmlns='jabber:client' from='alice@localhost'><sent xmlns='urn:xmpp:carbons:2'/></message>",
        );
        assert!(matches!(classify_message(&broken), Incoming::Ignored(_)));
    }

    #[test]
    fn enable_payload() {
        let e = enable();
        assert!(e.is("enable", CARBONS));
    }
}
