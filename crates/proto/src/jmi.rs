//! XEP-0353 Jingle Message Initiation: ringing a contact before the
//! Jingle session of a one-to-one call (XEP-0167) starts.
//!
//! The caller sends `<propose id='SID'>` (with the RTP descriptions it
//! wants) to the callee's bare JID, so every resource rings; a resource
//! that rings answers `<ringing/>`, one that takes the call `<proceed/>`
//! (to the caller's full JID; `<accept/>` to its own bare JID so that its
//! other resources stop ringing), one that declines `<reject/>`; the
//! caller may `<retract/>` before an answer. After `proceed` the caller
//! sends the Jingle `session-initiate` with the same id to the resource
//! that proceeded. `<finish/>` closes the call's history.
//!
//! A proposal stored while we were offline arrives with a XEP-0203
//! `<delay/>` ([`CallMessage::delayed`]). All of these are `type='chat'` messages with a `<store/>` hint.
//! Parsing is bounded: an id longer than [`MAX_ID`] or with control
//! characters, or a propose without an RTP description, is not a call.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::message::{Message, MessageType};

use super::ns;

/// `urn:xmpp:jingle-message:0`.
pub const NS: &str = "urn:xmpp:jingle-message:0";
/// XEP-0334 message processing hints.
pub const HINTS: &str = "urn:xmpp:hints";
/// The longest session id we take.
pub const MAX_ID: usize = 256;
/// The most RTP descriptions a propose may carry that we look at.
const MAX_MEDIA: usize = 8;

/// What a JMI message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A call is proposed; `media` lists the RTP media (`audio`, `video`).
    Propose {
        media: Vec<String>,
    },
    Ringing,
    Proceed,
    Accept,
    Reject,
    Retract,
    Finish,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Propose { .. } => "propose",
            Action::Ringing => "ringing",
            Action::Proceed => "proceed",
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Retract => "retract",
            Action::Finish => "finish",
        }
    }

    fn from_name(name: &str) -> Option<Action> {
        Some(match name {
            "propose" => Action::Propose { media: Vec::new() },
            "ringing" => Action::Ringing,
            "proceed" => Action::Proceed,
            "accept" => Action::Accept,
            "reject" => Action::Reject,
            "retract" => Action::Retract,
            "finish" => Action::Finish,
            _ => return None,
        })
    }
}

/// A received JMI message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallMessage {
    pub from: Jid,
    /// The Jingle session id it is about.
    pub sid: String,
    pub action: Action,
    /// The XEP-0166 reason's condition (`busy`, `decline`, `success`…).
    pub reason: Option<String>,
    /// It carries a XEP-0203 delay: stored while we were offline (a
    /// proposal that rang then is a missed call, not a call).
    pub delayed: bool,
}

/// The JMI element of a message, if it has one that is usable; `None`
/// also for one without a sender (we cannot answer it).
pub fn parse(m: &Message) -> Option<CallMessage> {
    let el = m.payloads.iter().find(|p| p.ns() == NS)?;
    let mut action = Action::from_name(el.name())?;
    let sid = el.attr("id")?;
    if sid.is_empty() || sid.len() > MAX_ID || sid.chars().any(char::is_control) {
        return None;
    }
    if let Action::Propose { media } = &mut action {
        for d in el
            .children()
            .filter(|c| c.is("description", ns::JINGLE_RTP))
            .take(MAX_MEDIA)
        {
            if let Some(kind) = d.attr("media").filter(|k| k.len() <= 16) {
                media.push(kind.to_string());
            }
        }
        if media.is_empty() {
            return None;
        }
    }
    let reason = el
        .get_child("reason", ns::JINGLE)
        .and_then(|r| r.children().find(|c| c.name() != "text"))
        .map(|c| c.name().chars().take(64).collect());
    Some(CallMessage {
        from: m.from.clone()?,
        sid: sid.to_string(),
        action,
        reason,
        delayed: m.payloads.iter().any(|p| p.is("delay", ns::DELAY)),
    })
}

/// A JMI message to `to` (`reason`: a XEP-0166 condition such as `busy`,
/// `decline`, `success`, for reject, retract and finish).
pub fn build(to: Jid, sid: &str, action: &Action, reason: Option<&str>) -> Message {
    let mut el = Element::builder(action.name(), NS).attr(super::nc("id"), sid);
    if let Action::Propose { media } = action {
        for kind in media {
            el = el.append(
                Element::builder("description", ns::JINGLE_RTP)
                    .attr(super::nc("media"), kind.as_str())
                    .build(),
            );
        }
    }
    if let Some(r) = reason {
        el = el.append(
            Element::builder("reason", ns::JINGLE)
                .append(Element::builder(r, ns::JINGLE).build())
                .build(),
        );
    }
    let mut m = Message::new_with_type(MessageType::Chat, Some(to));
    m.id = Some(xmpp_parsers::message::Id(format!(
        "jmi-{sid}-{}",
        action.name()
    )));
    m.payloads.push(el.build());
    m.payloads.push(Element::builder("store", HINTS).build());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(xml: &str) -> Option<CallMessage> {
        let el: Element = xml.parse().unwrap();
        parse(&Message::try_from(el).unwrap())
    }

    #[test]
    fn a_propose_round_trips() {
        let to = Jid::new("juliet@capulet.example").unwrap();
        let mut m = build(
            to,
            "a73sjjvkla37jfea",
            &Action::Propose {
                media: vec!["audio".into()],
            },
            None,
        );
        m.from = Some(Jid::new("romeo@montague.example/orchard").unwrap());
        let got = parse(&m).unwrap();
        assert_eq!(got.sid, "a73sjjvkla37jfea");
        assert_eq!(
            got.action,
            Action::Propose {
                media: vec!["audio".into()]
            }
        );
        assert_eq!(m.type_, MessageType::Chat);
        assert!(m.payloads.iter().any(|p| p.is("store", HINTS)));
    }

    #[test]
    fn reasons_and_the_other_actions_parse() {
        let got = from(
            "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' type='chat'>\
             <reject xmlns='urn:xmpp:jingle-message:0' id='x1'>\
             <reason xmlns='urn:xmpp:jingle:1'><busy/><text>later</text></reason></reject></message>",
        )
        .unwrap();
        assert_eq!(got.action, Action::Reject);
        assert_eq!(got.reason.as_deref(), Some("busy"));
        for name in ["ringing", "proceed", "accept", "retract", "finish"] {
            let got = from(&format!(
                "<message xmlns='jabber:client' from='a@b/c'><{name} xmlns='urn:xmpp:jingle-message:0' id='s'/></message>"
            ))
            .unwrap();
            assert_eq!(got.action.name(), name);
        }
    }

    #[test]
    fn unusable_ones_are_not_calls() {
        // No description, no id, a huge id, no sender, an unknown action.
        for xml in [
            "<message xmlns='jabber:client' from='a@b/c'><propose xmlns='urn:xmpp:jingle-message:0' id='s'/></message>",
            "<message xmlns='jabber:client' from='a@b/c'><proceed xmlns='urn:xmpp:jingle-message:0'/></message>",
            &format!(
                "<message xmlns='jabber:client' from='a@b/c'><proceed xmlns='urn:xmpp:jingle-message:0' id='{}'/></message>",
                "x".repeat(MAX_ID + 1)
            ),
            "<message xmlns='jabber:client'><proceed xmlns='urn:xmpp:jingle-message:0' id='s'/></message>",
            "<message xmlns='jabber:client' from='a@b/c'><dance xmlns='urn:xmpp:jingle-message:0' id='s'/></message>",
        ] {
            assert_eq!(from(xml), None, "{xml}");
        }
        // A control character in the id (the XML parser refuses it too).
        let mut m = Message::new_with_type(MessageType::Chat, None);
        m.from = Some(Jid::new("a@b/c").unwrap());
        m.payloads.push(
            Element::builder("proceed", NS)
                .attr(crate::nc("id"), "a\u{1b}b")
                .build(),
        );
        assert_eq!(parse(&m), None);
    }
}
