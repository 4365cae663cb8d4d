//! Messages: groupchat messages from rooms, one-to-one and private
//! messages, and their builders.

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use xmpp_parsers::message::{Id, Lang, Message, MessageType};

use super::reply::{self, Reply};
use super::{Delay, Incoming, delays, ns, stanza_id_by, trusted_delay};

/// A groupchat message as received from a room.
/// The id that identifies a message of ours in its room's reflection:
/// its XEP-0359 origin-id first (some services rewrite the message id),
/// else its id.
pub fn origin_id_of(m: &Message) -> Option<String> {
    m.payloads
        .iter()
        .find(|p| p.is("origin-id", ns::STANZA_ID))
        .and_then(|p| p.attr("id").map(str::to_string))
        .or_else(|| m.id.as_ref().map(|i| i.0.clone()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMessage {
    pub room: BareJid,
    /// `None` when the room itself speaks (service messages).
    pub nick: Option<String>,
    pub body: String,
    pub id: Option<String>,
    /// XEP-0359 id assigned by the room.
    pub stanza_id: Option<String>,
    /// Time from the room's own `<delay/>` (MUC history); `None` means
    /// "now" (a delay from anyone else is ignored).
    pub time: Option<DateTime<Utc>>,
    pub delayed: bool,
    /// XEP-0421 occupant-id the room gave the sender.
    pub occupant_id: Option<String>,
    /// XEP-0461: the message it answers (its fallback quote taken out of
    /// `body`).
    pub reply: Option<Reply>,
    /// XEP-0384: the OMEMO `<encrypted/>` it carried (as
    /// [`ChatMessage::encrypted`]); the app decrypts it with the sender's
    /// real JID from the room's presence.
    pub encrypted: Option<Box<Result<crate::omemo::Encrypted, crate::ErrorInfo>>>,
    /// What the app found decrypting it (set by the app, not the parser).
    pub e2e: Option<crate::omemo_pep::E2e>,
}

/// A `chat` or `normal` message with a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub from: Jid,
    /// Its `to`: the contact, for a copy of our own message (a sent
    /// carbon, our account's archive).
    pub to: Option<Jid>,
    pub body: String,
    pub id: Option<String>,
    /// A trusted time (`None`: "now"). The parser sets none: only the
    /// store knows our server ([`ChatMessage::trust_delay`]).
    pub time: Option<DateTime<Utc>>,
    pub delayed: bool,
    /// Carried `<x xmlns='…muc#user'/>`: a private message in a room.
    pub muc_user: bool,
    /// The `<delay/>`s it carried, trusted or not.
    pub delays: Vec<Delay>,
    /// The XEP-0359 `<stanza-id/>`s it carried as `(by, id)`: only the
    /// one by our own account means anything ([`ChatMessage::stanza_id_by`]).
    pub stanza_ids: Vec<(BareJid, String)>,
    /// XEP-0461: the message it answers (its fallback quote taken out of
    /// `body`).
    pub reply: Option<Reply>,
    /// XEP-0384: the OMEMO `<encrypted/>` it carried, or why it did not
    /// parse. Until the app decrypts it, `body` is the sender's fallback
    /// text (or empty: a key exchange or heartbeat has none).
    pub encrypted: Option<Box<Result<crate::omemo::Encrypted, crate::ErrorInfo>>>,
    /// What the app found decrypting it (set by the app, not the parser).
    pub e2e: Option<crate::omemo_pep::E2e>,
}

impl ChatMessage {
    /// A message from `from` with `body`, nothing else set.
    pub fn new(from: Jid, body: impl Into<String>) -> ChatMessage {
        ChatMessage {
            from,
            to: None,
            body: body.into(),
            id: None,
            time: None,
            delayed: false,
            muc_user: false,
            delays: Vec::new(),
            stanza_ids: Vec::new(),
            reply: None,
            encrypted: None,
            e2e: None,
        }
    }

    /// The stanza-id `by` gave it (our account's archive: our bare JID).
    /// One added by anyone else is worthless.
    pub fn stanza_id_by(&self, by: &BareJid) -> Option<&str> {
        self.stanza_ids
            .iter()
            .find(|(b, _)| b == by)
            .map(|(_, id)| id.as_str())
    }

    /// Who the message is with, seen from `account`, and whether it is
    /// ours: from our account (any resource) it is ours and with its
    /// `to`; else it is with its sender. `None`: ours without a `to`.
    pub fn peer(&self, account: &BareJid) -> Option<(Jid, bool)> {
        if self.from.to_bare() == *account {
            self.to.clone().map(|to| (to, true))
        } else {
            Some((self.from.clone(), false))
        }
    }

    /// Takes the time of the last `<delay/>` from our own server (XEP-0160
    /// offline storage; `from` our domain or our bare JID), if any. The
    /// caller decides when that is plausible (just after logging in):
    /// the `from` of a delay is written by whoever sent the stanza.
    pub fn trust_delay(&mut self, account: &BareJid) {
        let ours = |f: &Jid| {
            f.resource().is_none()
                && (f.to_bare() == *account
                    || (f.node().is_none() && f.domain() == account.domain()))
        };
        if let Some(d) = self
            .delays
            .iter()
            .rev()
            .find(|d| d.from.as_ref().is_some_and(ours))
        {
            self.time = d.stamp;
            self.delayed = true;
        }
    }
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
    let room = super::bare(from);
    let nick = from.resource().map(|r| r.as_str().to_string());
    // Only the room's own delay (history); Prosody strips occupants'
    // delays that claim to be the room's (a bare JID equals only itself).
    let (time, delayed) = trusted_delay(&m.payloads, |f| *f == room);
    let encrypted = encrypted_of(m);
    let body = body_of(m).or_else(|| encrypted.as_ref().map(|_| String::new()));
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
        if nick.is_some()
            && let Some(state) = super::chat_states::of(m)
        {
            return Incoming::ChatState(super::chat_states::ChatStateNotice {
                from: from.clone(),
                room: Some(room),
                state,
            });
        }
        return Incoming::Ignored("groupchat without body");
    }
    let stanza_id = stanza_id_by(&m.payloads, &room);
    let (reply, body) = reply::split(m, body.unwrap_or_default());
    let body = super::upload::body_with_oob(&m.payloads, body);
    Incoming::RoomMessage(RoomMessage {
        room,
        nick,
        body,
        occupant_id: super::reactions::occupant_id(m),
        reply,
        id: origin_id_of(m),
        stanza_id,
        time,
        delayed,
        encrypted,
        e2e: None,
    })
}

/// The OMEMO `<encrypted/>` of a message, parsed (OMEMO 2 preferred when
/// a message carries both).
fn encrypted_of(m: &Message) -> Option<Box<Result<crate::omemo::Encrypted, crate::ErrorInfo>>> {
    [crate::omemo::V2, crate::omemo::LEGACY]
        .iter()
        .find_map(|ns| m.payloads.iter().find(|p| p.is("encrypted", *ns)))
        .map(|e| Box::new(crate::omemo::Encrypted::parse(e)))
}

pub(super) fn parse_chat(m: &Message) -> Incoming {
    let Some(from) = m.from.clone() else {
        return Incoming::Ignored("message without sender");
    };
    let encrypted = encrypted_of(m);
    let body = body_of(m).or_else(|| encrypted.as_ref().map(|_| String::new()));
    let Some(body) = body else {
        // A private message's notice (from a room occupant) is not shown.
        let private = m.payloads.iter().any(|p| p.is("x", ns::MUC_USER));
        if !private && let Some(state) = super::chat_states::of(m) {
            return Incoming::ChatState(super::chat_states::ChatStateNotice {
                from,
                room: None,
                state,
            });
        }
        return Incoming::Ignored("message without body");
    };
    let (reply, body) = reply::split(m, body);
    let body = super::upload::body_with_oob(&m.payloads, body);
    Incoming::Chat(ChatMessage {
        from,
        to: m.to.clone(),
        body,
        reply,
        id: m.id.as_ref().map(|i| i.0.clone()),
        time: None,
        delayed: false,
        muc_user: m.payloads.iter().any(|p| p.is("x", ns::MUC_USER)),
        delays: delays(&m.payloads),
        stanza_ids: stanza_ids(&m.payloads),
        encrypted,
        e2e: None,
    })
}

/// Every `<stanza-id/>` with a readable `by` and an `id`.
fn stanza_ids(payloads: &[minidom::Element]) -> Vec<(BareJid, String)> {
    payloads
        .iter()
        .filter(|p| p.is("stanza-id", ns::STANZA_ID))
        .filter_map(|p| {
            let by = BareJid::new(p.attr("by")?).ok()?;
            Some((by, p.attr("id")?.to_string()))
        })
        .collect()
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
    use crate::{classify_message, fixtures::el};

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
    fn a_delay_not_from_the_room_is_ignored() {
        // An occupant's claim (the room relays it) is not history.
        for delay in [
            "<delay xmlns='urn:xmpp:delay' from='coven@chat.shakespeare.lit/secondwitch' stamp='1970-01-01T00:00:00Z'/>",
            "<delay xmlns='urn:xmpp:delay' stamp='1970-01-01T00:00:00Z'/>",
        ] {
            let m = msg(&format!(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/secondwitch' type='groupchat'><body>x</body>{delay}</message>"
            ));
            let Incoming::RoomMessage(rm) = classify_message(&m) else {
                panic!()
            };
            assert!(!rm.delayed && rm.time.is_none(), "{delay}");
        }
    }

    #[test]
    fn a_chat_delay_counts_only_from_our_server() {
        let m = msg("<message xmlns='jabber:client' from='mallory@evil.example/x' type='chat'><body>old news</body>
              <delay xmlns='urn:xmpp:delay' from='mallory@evil.example' stamp='1970-01-01T00:00:00Z'/></message>");
        let Incoming::Chat(mut c) = classify_message(&m) else {
            panic!()
        };
        // As parsed: "now".
        assert!(!c.delayed && c.time.is_none());
        let me = BareJid::new("alice@localhost").unwrap();
        c.trust_delay(&me);
        assert!(!c.delayed && c.time.is_none());
        // Offline storage: the server's delay, appended after the sender's.
        let m = msg("<message xmlns='jabber:client' from='bob@example.org/x' type='chat'><body>hi</body>
              <delay xmlns='urn:xmpp:delay' from='bob@example.org' stamp='1970-01-01T00:00:00Z'/>
              <delay xmlns='urn:xmpp:delay' from='localhost' stamp='2026-12-06T01:02:03Z'/></message>");
        let Incoming::Chat(mut c) = classify_message(&m) else {
            panic!()
        };
        c.trust_delay(&me);
        assert!(c.delayed);
        assert_eq!(c.time.unwrap().to_rfc3339(), "2026-12-06T01:02:03+00:00");
        // Another server's, or a full JID of ours: no.
        for from in [
            "example.org",
            "localhost/res",
            "alice@localhost/phone",
            "x@localhost",
        ] {
            let m = msg(&format!("<message xmlns='jabber:client' from='bob@example.org/x' type='chat'><body>hi</body>
                  <delay xmlns='urn:xmpp:delay' from='{from}' stamp='1970-01-01T00:00:00Z'/></message>"));
            let Incoming::Chat(mut c) = classify_message(&m) else {
                panic!()
            };
            c.trust_delay(&me);
            assert!(!c.delayed && c.time.is_none(), "{from}");
        }
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
        // Chat-state only: a notice (XEP-0085), not a message.
        let m = msg(
            "<message xmlns='jabber:client' from='a@b/c' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        );
        assert!(matches!(classify_message(&m), Incoming::ChatState(_)));
        // Without body or state: ignored.
        let m = msg("<message xmlns='jabber:client' from='a@b/c' type='chat'/>");
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
