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
    /// The forwarded message.
    pub message: Copied,
}

/// What a carbon may carry: a one-to-one message (`chat` or `normal`)
/// with a body, or reactions to or the retraction of one (XEP-0444,
/// XEP-0424) — ours, from another of our clients, or the contact's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    Chat(ChatMessage),
    Reactions(super::reactions::Reactions),
    Retraction(super::retract::Retraction),
}

impl Copied {
    /// Who sent the forwarded message.
    pub fn from(&self) -> &Jid {
        match self {
            Copied::Chat(c) => &c.from,
            Copied::Reactions(r) => &r.from,
            Copied::Retraction(r) => &r.from,
        }
    }
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
/// body, reactions or a retraction (chat states, receipts, groupchat,
/// errors, tombstones, nested wrappers) is [`Incoming::Ignored`].
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
    let message = match super::retract::parse(&inner)
        .or_else(|| super::reactions::parse(&inner))
        .unwrap_or_else(|| message::parse_chat(&inner))
    {
        Incoming::Chat(c) => Copied::Chat(c),
        Incoming::Reactions(r) if !r.groupchat => Copied::Reactions(r),
        // Only an archive we asked may say a message is gone for good.
        Incoming::Retraction(r) if !r.groupchat && !r.tombstone && r.moderation.is_none() => {
            Copied::Retraction(r)
        }
        _ => return Some(Incoming::Ignored("carbon without body")),
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
        let Copied::Chat(m) = &c.message else {
            panic!("a chat message")
        };
        assert_eq!(m.body, "hi");
        assert_eq!(m.id.as_deref(), Some("m1"));
        assert_eq!(m.stanza_id_by(&alice()), Some("S1"));
        let (peer, own) = m.peer(&alice()).unwrap();
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
        let Copied::Chat(m) = &c.message else {
            panic!("a chat message")
        };
        let (peer, own) = m.peer(&alice()).unwrap();
        assert_eq!((peer.to_string().as_str(), own), ("bob@localhost", true));
    }

    #[test]
    fn copies_of_reactions_and_retractions() {
        let wrap = |inner: &str| {
            msg(&format!(
                "<message xmlns='jabber:client' from='alice@localhost' to='alice@localhost/a' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{inner}</forwarded></sent></message>"
            ))
        };
        let m = wrap(
            "<message xmlns='jabber:client' from='alice@localhost/b' to='bob@localhost' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m1'><reaction>\u{1F44D}</reaction></reactions></message>",
        );
        let Incoming::Carbon(c) = classify_message(&m) else {
            panic!("a carbon")
        };
        let Copied::Reactions(r) = &c.message else {
            panic!("reactions")
        };
        assert_eq!((r.target.as_str(), r.emojis.len()), ("m1", 1));
        assert_eq!(c.message.from().to_string(), "alice@localhost/b");
        let m = wrap(
            "<message xmlns='jabber:client' from='alice@localhost/b' to='bob@localhost' type='chat'><retract xmlns='urn:xmpp:message-retract:1' id='m1'/><body>/me retracted</body></message>",
        );
        let Incoming::Carbon(c) = classify_message(&m) else {
            panic!("a carbon")
        };
        assert!(matches!(&c.message, Copied::Retraction(r) if r.target.as_deref() == Some("m1")));
        // A tombstone is an archive's word, not a copy's.
        let m = wrap(
            "<message xmlns='jabber:client' from='bob@localhost/x' to='alice@localhost' type='chat'><retracted xmlns='urn:xmpp:message-retract:1' id='m1'/></message>",
        );
        assert!(matches!(classify_message(&m), Incoming::Ignored(_)));
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
