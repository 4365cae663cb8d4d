//! XEP-0444 Message Reactions: `<reactions id='…'><reaction>👋</reaction>
//! </reactions>` refers to a message (in a room by the room's XEP-0359
//! stanza-id, in a one-to-one chat by its id) and carries the sender's
//! whole set of reactions to it: a new set replaces the previous one, an
//! empty set withdraws them.

use chrono::{DateTime, Utc};
use jid::Jid;
use minidom::Element;
use xmpp_parsers::message::{Id, Message, MessageType};

use super::{Incoming, nc, ns, trusted_delay};

pub const REACTIONS: &str = "urn:xmpp:reactions:0";
/// XEP-0334 hints (`<store/>`: archive a bodyless message).
pub const HINTS: &str = "urn:xmpp:hints";
/// The FORM_TYPE of a room's (or entity's) reaction restrictions.
pub const RESTRICTIONS: &str = "urn:xmpp:reactions:0:restrictions";

/// Reactions kept per sender and message at most (more are dropped).
pub const MAX_PER_SENDER: usize = 16;
/// One reaction's length at most, in bytes (an emoji sequence such as a
/// family with skin tones takes about 40).
pub const MAX_REACTION_BYTES: usize = 64;

/// A set of reactions as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reactions {
    /// `room/nick` in a room, the contact's JID in a chat.
    pub from: Jid,
    pub to: Option<Jid>,
    pub groupchat: bool,
    /// The message reacted to.
    pub target: String,
    /// The sender's reactions now (empty: withdrawn), distinct, bounded.
    pub emojis: Vec<String>,
    /// XEP-0421 occupant-id of the sender, in a room that adds it.
    pub occupant_id: Option<String>,
    /// The reaction message's own id (origin-id first).
    pub id: Option<String>,
    /// The room's `<delay/>` (MUC history); `None`: now.
    pub time: Option<DateTime<Utc>>,
    pub delayed: bool,
}

/// Reads `<reactions/>`: distinct, non-empty reactions, at most
/// [`MAX_PER_SENDER`], each at most [`MAX_REACTION_BYTES`] (longer ones
/// are dropped, not cut).
pub fn parse(m: &Message) -> Option<Incoming> {
    let el = m.payloads.iter().find(|p| p.is("reactions", REACTIONS))?;
    let target = el.attr("id").filter(|id| !id.is_empty())?.to_string();
    let from = m.from.clone()?;
    let groupchat = m.type_ == MessageType::Groupchat;
    let mut emojis: Vec<String> = Vec::new();
    for r in el.children().filter(|c| c.is("reaction", REACTIONS)) {
        let text = r.text();
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_REACTION_BYTES || emojis.iter().any(|e| e == text) {
            continue;
        }
        if emojis.len() == MAX_PER_SENDER {
            break;
        }
        emojis.push(text.to_string());
    }
    let (time, delayed) = if groupchat {
        let room = from.to_bare();
        trusted_delay(&m.payloads, |f| {
            f.resource().is_none() && f.to_bare() == room
        })
    } else {
        (None, false)
    };
    Some(Incoming::Reactions(Reactions {
        occupant_id: occupant_id(m),
        to: m.to.clone(),
        id: super::message::origin_id_of(m),
        from,
        groupchat,
        target,
        emojis,
        time,
        delayed,
    }))
}

/// The XEP-0421 occupant-id a room put on a message.
pub fn occupant_id(m: &Message) -> Option<String> {
    m.payloads
        .iter()
        .find(|p| p.is("occupant-id", ns::OCCUPANT_ID))
        .and_then(|p| p.attr("id"))
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

/// Our whole set of reactions to `target` (empty: withdraw them all), to
/// a room (`groupchat`, with an origin-id) or a contact.
pub fn reactions(to: Jid, groupchat: bool, target: &str, emojis: &[String], id: &str) -> Message {
    let mut m = if groupchat {
        Message::new_with_type(MessageType::Groupchat, Some(to))
    } else {
        Message::new_with_type(MessageType::Chat, Some(to))
    };
    m.id = Some(Id(id.to_string()));
    let mut el = Element::builder("reactions", REACTIONS).attr(nc("id"), target);
    for e in emojis {
        el = el.append(
            Element::builder("reaction", REACTIONS)
                .append(e.as_str())
                .build(),
        );
    }
    m.payloads.push(el.build());
    m.payloads.push(Element::builder("store", HINTS).build());
    m.payloads.push(
        Element::builder("origin-id", ns::STANZA_ID)
            .attr(nc("id"), id)
            .build(),
    );
    m
}

/// What a room or contact allows (XEP-0444 §2.1, the `restrictions`
/// form of its disco#info): `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restrictions {
    pub max_reactions_per_user: Option<usize>,
    pub allowlist: Option<Vec<String>>,
}

impl Restrictions {
    /// Reads the restrictions form out of a disco#info result.
    pub fn from_disco(info: Option<&Element>) -> Restrictions {
        let mut r = Restrictions::default();
        let Some(q) = info else { return r };
        let forms = q.children().filter(|c| c.is("x", "jabber:x:data"));
        for form in forms {
            let field = |var: &str| {
                form.children()
                    .find(|f| f.is("field", "jabber:x:data") && f.attr("var") == Some(var))
            };
            let values = |f: &Element| {
                f.children()
                    .filter(|v| v.is("value", "jabber:x:data"))
                    .map(|v| v.text().trim().to_string())
                    .collect::<Vec<_>>()
            };
            let is_ours =
                field("FORM_TYPE").is_some_and(|f| values(f).iter().any(|v| v == RESTRICTIONS));
            if !is_ours {
                continue;
            }
            r.max_reactions_per_user = field("max_reactions_per_user")
                .and_then(|f| values(f).first().and_then(|v| v.parse().ok()));
            r.allowlist = field("allowlist").map(values).filter(|v| !v.is_empty());
        }
        r
    }

    /// Why this set may not be sent, if it may not.
    pub fn refuses(&self, emojis: &[String]) -> Option<String> {
        if let Some(max) = self.max_reactions_per_user
            && emojis.len() > max
        {
            return Some(format!("at most {max} reactions per message here"));
        }
        if let Some(allowed) = &self.allowlist
            && let Some(e) = emojis.iter().find(|e| !allowed.contains(e))
        {
            return Some(format!(
                "{e} is not allowed here (allowed: {})",
                allowed.join(" ")
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{classify_message, fixtures::el};

    fn msg(xml: &str) -> Message {
        Message::try_from(el(xml)).expect("message parses")
    }

    #[test]
    fn the_xeps_examples() {
        // XEP-0444 §3 example 3 (one-to-one), two reactions.
        let m = msg("<message xmlns='jabber:client' to='romeo@capulet.net/orchard' id='96d73204-a57a-11e9-88b8-4889e7820c76' type='chat' from='juliet@capulet.net/balcony'>
              <reactions id='744f6e18-a57a-11e9-a656-4889e7820c76' xmlns='urn:xmpp:reactions:0'>
                <reaction>👋</reaction>
                <reaction>🐢</reaction>
              </reactions>
              <store xmlns='urn:xmpp:hints'/>
            </message>");
        let Incoming::Reactions(r) = classify_message(&m) else {
            panic!()
        };
        assert_eq!(r.target, "744f6e18-a57a-11e9-a656-4889e7820c76");
        assert_eq!(r.emojis, ["👋", "🐢"]);
        assert!(!r.groupchat);
        // Example 4: an empty set withdraws them all.
        let m = msg("<message xmlns='jabber:client' to='romeo@capulet.net/orchard' id='x' type='chat' from='juliet@capulet.net/balcony'>
              <reactions id='744f6e18-a57a-11e9-a656-4889e7820c76' xmlns='urn:xmpp:reactions:0'/>
              <store xmlns='urn:xmpp:hints'/></message>");
        let Incoming::Reactions(r) = classify_message(&m) else {
            panic!()
        };
        assert!(r.emojis.is_empty());
        // In a room: the stanza-id, and the occupant-id the room adds.
        let m = msg("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='groupchat' id='r1'>
              <reactions id='5f3dbc5e' xmlns='urn:xmpp:reactions:0'><reaction>🔥</reaction></reactions>
              <occupant-id xmlns='urn:xmpp:occupant-id:0' id='oid-3'/></message>");
        let Incoming::Reactions(r) = classify_message(&m) else {
            panic!()
        };
        assert!(r.groupchat);
        assert_eq!(r.occupant_id.as_deref(), Some("oid-3"));
        assert_eq!(r.id.as_deref(), Some("r1"));
    }

    #[test]
    fn a_flood_of_reactions_is_bounded() {
        let many: String = (0..1000)
            .map(|i| format!("<reaction>{i}</reaction><reaction>{i}</reaction>"))
            .collect();
        let long = "x".repeat(MAX_REACTION_BYTES + 1);
        let m = msg(&format!(
            "<message xmlns='jabber:client' from='a@b/c' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='t'><reaction>{long}</reaction><reaction> </reaction>{many}</reactions></message>"
        ));
        let Incoming::Reactions(r) = classify_message(&m) else {
            panic!()
        };
        assert_eq!(r.emojis.len(), MAX_PER_SENDER);
        assert_eq!(r.emojis[0], "0");
        assert_eq!(r.emojis[1], "1");
        // No target: not a reaction.
        let m = msg(
            "<message xmlns='jabber:client' from='a@b/c' type='chat'><reactions xmlns='urn:xmpp:reactions:0'><reaction>👍</reaction></reactions></message>",
        );
        assert!(matches!(classify_message(&m), Incoming::Ignored(_)));
    }

    #[test]
    fn builder_round_trip() {
        let to = Jid::new("coven@chat.shakespeare.lit").unwrap();
        let m = reactions(
            to,
            true,
            "sid-1",
            &["👍".to_string(), "🎉".to_string()],
            "me-1",
        );
        let mut back = Message::try_from(Element::from(m)).unwrap();
        back.from = Some(Jid::new("coven@chat.shakespeare.lit/me").unwrap());
        let Incoming::Reactions(r) = classify_message(&back) else {
            panic!()
        };
        assert_eq!(r.target, "sid-1");
        assert_eq!(r.emojis, ["👍", "🎉"]);
        assert_eq!(r.id.as_deref(), Some("me-1"));
        assert!(back.payloads.iter().any(|p| p.is("store", HINTS)));
    }

    #[test]
    fn restrictions_from_disco() {
        let q = el("<query xmlns='http://jabber.org/protocol/disco#info'>
              <feature var='urn:xmpp:reactions:0'/>
              <x xmlns='jabber:x:data' type='result'>
                <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:reactions:0:restrictions</value></field>
                <field var='max_reactions_per_user'><value>1</value></field>
                <field var='allowlist'><value>💘</value><value>❤️</value><value>💜</value></field>
              </x></query>");
        let r = Restrictions::from_disco(Some(&q));
        assert_eq!(r.max_reactions_per_user, Some(1));
        assert_eq!(r.allowlist.as_ref().unwrap().len(), 3);
        assert!(r.refuses(&["💘".into()]).is_none());
        assert!(r.refuses(&["💘".into(), "💜".into()]).is_some());
        assert!(r.refuses(&["👍".into()]).is_some());
        assert_eq!(Restrictions::from_disco(None), Restrictions::default());
    }
}
