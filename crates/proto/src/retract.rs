//! XEP-0424 Message Retraction (a sender takes back their own message)
//! and XEP-0425 Moderated Message Retraction (a room's moderator removes
//! anyone's), in both forms in use: `urn:xmpp:message-moderate:1` with
//! `<retract/>` of `urn:xmpp:message-retract:1`, and the older `:0`
//! fastened to the message (`<apply-to xmlns='urn:xmpp:fasten:0'>`), as
//! Debian's `mod_muc_moderation` and ejabberd 23.01 speak it. Archives
//! replace a removed message with a tombstone (`<retracted/>`), handled
//! when it comes from an archive we asked (the app fills in the target).

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::message::{Id, Lang, Message, MessageType};

use super::reply::FALLBACK;
use super::{Incoming, nc, ns, trusted_delay};

pub const RETRACT: &str = "urn:xmpp:message-retract:1";
pub const RETRACT_0: &str = "urn:xmpp:message-retract:0";
pub const MODERATE: &str = "urn:xmpp:message-moderate:1";
pub const MODERATE_0: &str = "urn:xmpp:message-moderate:0";
pub const FASTEN: &str = "urn:xmpp:fasten:0";

/// A reason kept at most, in bytes.
pub const MAX_REASON_BYTES: usize = 1024;

/// Who removed a message, when a moderator did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderation {
    /// The moderator as the room names them (`room/nick`, or a JID).
    pub by: Option<String>,
    pub reason: Option<String>,
}

impl Moderation {
    /// The moderator's nick where `by` is `room/nick`, else `by` itself.
    pub fn by_nick(&self) -> Option<String> {
        let by = self.by.as_deref()?;
        Some(match Jid::new(by) {
            Ok(j) => j
                .resource()
                .map_or_else(|| by.to_string(), |r| r.to_string()),
            Err(_) => by.to_string(),
        })
    }
}

/// A retraction, a moderation or a tombstone, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retraction {
    /// `room/nick` (the sender retracting), the room itself (a
    /// moderation), or the contact's JID.
    pub from: Jid,
    pub to: Option<Jid>,
    pub groupchat: bool,
    /// The message removed. `None` for a tombstone: the message is the
    /// archive's result itself, whose id the app puts here.
    pub target: Option<String>,
    /// Set when a moderator removed it (only the room may say so: the
    /// parser accepts a moderation only from the room's bare JID).
    pub moderation: Option<Moderation>,
    /// An archive's tombstone (trusted only from an archive we asked).
    pub tombstone: bool,
    /// XEP-0421 occupant-id of the sender, in a room that adds it.
    pub occupant_id: Option<String>,
    /// The retraction's own id (origin-id first).
    pub id: Option<String>,
    pub time: Option<DateTime<Utc>>,
    pub delayed: bool,
}

fn reason_of(el: &Element) -> Option<String> {
    el.children()
        .find(|c| c.name() == "reason")
        .map(|r| {
            let mut t = r.text().trim().to_string();
            if t.len() > MAX_REASON_BYTES {
                let mut cut = MAX_REASON_BYTES;
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.truncate(cut);
            }
            t
        })
        .filter(|t| !t.is_empty())
}

fn by_of(el: &Element) -> Option<String> {
    el.attr("by").filter(|b| !b.is_empty()).map(str::to_string)
}

/// Reads a retraction, a moderation or a tombstone, if the message is one.
pub fn parse(m: &Message) -> Option<Incoming> {
    let from = m.from.clone()?;
    let groupchat = m.type_ == MessageType::Groupchat;
    // Only the room itself announces a moderation.
    let from_room = groupchat && from.resource().is_none();
    let mut target = None;
    let mut moderation = None;
    let mut tombstone = false;
    let mut found = false;
    // `:1`: <retract id='…'> (with <moderated/> in it from a moderator).
    if let Some(r) = m.payloads.iter().find(|p| p.is("retract", RETRACT)) {
        found = true;
        target = r.attr("id").filter(|i| !i.is_empty()).map(str::to_string);
        if let Some(md) = r.children().find(|c| c.is("moderated", MODERATE)) {
            if !from_room {
                return Some(Incoming::Ignored("moderation not from the room"));
            }
            moderation = Some(Moderation {
                by: by_of(md),
                reason: reason_of(r).or_else(|| reason_of(md)),
            });
        }
    } else if let Some(a) = m.payloads.iter().find(|p| p.is("apply-to", FASTEN)) {
        // `:0`: <apply-to id='…'> fastening a retraction or a moderation.
        let id = a.attr("id").filter(|i| !i.is_empty()).map(str::to_string);
        if let Some(md) = a.children().find(|c| c.is("moderated", MODERATE_0)) {
            if !from_room {
                return Some(Incoming::Ignored("moderation not from the room"));
            }
            if md.children().any(|c| c.is("retract", RETRACT_0)) {
                found = true;
                target = id;
                moderation = Some(Moderation {
                    by: by_of(md),
                    reason: reason_of(md),
                });
            }
        } else if a.children().any(|c| c.is("retract", RETRACT_0)) {
            found = true;
            target = id;
        }
    } else if let Some(t) = m.payloads.iter().find(|p| p.is("retracted", RETRACT)) {
        // `:1` tombstone, a moderator's with <moderated/> in it.
        found = true;
        tombstone = true;
        moderation = t
            .children()
            .find(|c| c.is("moderated", MODERATE))
            .map(|md| Moderation {
                by: by_of(md),
                reason: reason_of(t).or_else(|| reason_of(md)),
            });
    } else if let Some(md) = m
        .payloads
        .iter()
        .find(|p| p.is("moderated", MODERATE_0) || p.is("moderated", MODERATE))
    {
        // `:0` tombstone: <moderated by><retracted/><reason/></moderated>.
        if md.children().any(|c| c.name() == "retracted") {
            found = true;
            tombstone = true;
            moderation = Some(Moderation {
                by: by_of(md),
                reason: reason_of(md),
            });
        }
    } else if m.payloads.iter().any(|p| p.is("retracted", RETRACT_0)) {
        found = true;
        tombstone = true;
    }
    if !found {
        return None;
    }
    if !tombstone && target.is_none() {
        return Some(Incoming::Ignored("retraction without a target"));
    }
    let (time, delayed) = if groupchat {
        let room = from.to_bare();
        trusted_delay(&m.payloads, |f| {
            f.resource().is_none() && f.to_bare() == room
        })
    } else {
        (None, false)
    };
    Some(Incoming::Retraction(Retraction {
        occupant_id: super::reactions::occupant_id(m),
        to: m.to.clone(),
        id: super::message::origin_id_of(m),
        from,
        groupchat,
        target,
        moderation,
        tombstone,
        time,
        delayed,
    }))
}

/// A retraction of our message `target` (a room's stanza-id, or our id in
/// a chat), with a fallback body for clients without XEP-0424 and the
/// store hint.
pub fn retraction(to: Jid, groupchat: bool, target: &str, id: &str) -> Message {
    let mut m = if groupchat {
        Message::new_with_type(MessageType::Groupchat, Some(to))
    } else {
        Message::new_with_type(MessageType::Chat, Some(to))
    };
    m.id = Some(Id(id.to_string()));
    m.bodies.insert(
        Lang::new(),
        "/me retracted a previous message, but it's unsupported by your client.".to_string(),
    );
    m.payloads.push(
        Element::builder("retract", RETRACT)
            .attr(nc("id"), target)
            .build(),
    );
    m.payloads.push(
        Element::builder("fallback", FALLBACK)
            .attr(nc("for"), RETRACT)
            .build(),
    );
    m.payloads
        .push(Element::builder("store", super::reactions::HINTS).build());
    m.payloads.push(
        Element::builder("origin-id", ns::STANZA_ID)
            .attr(nc("id"), id)
            .build(),
    );
    m
}

/// Which moderation a room speaks, from its disco#info features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerateVersion {
    /// `urn:xmpp:message-moderate:1` (XEP-0425 0.3).
    V1,
    /// `urn:xmpp:message-moderate:0` (XEP-0425 0.2, fastening).
    V0,
}

impl ModerateVersion {
    /// The newest one a room's disco#info announces.
    pub fn from_disco(info: Option<&Element>) -> Option<ModerateVersion> {
        let has = |f: &str| super::mam::has_feature(info, f);
        if has(MODERATE) {
            Some(ModerateVersion::V1)
        } else if has(MODERATE_0) {
            Some(ModerateVersion::V0)
        } else {
            None
        }
    }
}

/// The payload of the IQ (type set, to the room) asking the room to
/// remove message `target` (its stanza-id).
pub fn moderate(version: ModerateVersion, target: &str, reason: Option<&str>) -> Element {
    let reason_el = |ns: &str| reason.map(|r| Element::builder("reason", ns).append(r).build());
    match version {
        ModerateVersion::V1 => {
            let mut el = Element::builder("moderate", MODERATE)
                .attr(nc("id"), target)
                .append(Element::builder("retract", RETRACT).build());
            if let Some(r) = reason_el(MODERATE) {
                el = el.append(r);
            }
            el.build()
        }
        ModerateVersion::V0 => {
            let mut inner = Element::builder("moderate", MODERATE_0)
                .append(Element::builder("retract", RETRACT_0).build());
            if let Some(r) = reason_el(MODERATE_0) {
                inner = inner.append(r);
            }
            Element::builder("apply-to", FASTEN)
                .attr(nc("id"), target)
                .append(inner.build())
                .build()
        }
    }
}

/// The room's broadcast of a moderation in the `:1` form (what a room
/// sends; the tests' raw peer plays the room with it).
pub fn moderated_broadcast(
    room: &BareJid,
    target: &str,
    by: &str,
    reason: Option<&str>,
) -> Element {
    let mut r = Element::builder("retract", RETRACT)
        .attr(nc("id"), target)
        .append(
            Element::builder("moderated", MODERATE)
                .attr(nc("by"), by)
                .build(),
        );
    if let Some(reason) = reason {
        r = r.append(Element::builder("reason", RETRACT).append(reason).build());
    }
    Element::builder("message", ns::JABBER_CLIENT)
        .attr(nc("from"), room.to_string())
        .attr(nc("type"), "groupchat")
        .attr(nc("id"), "mod-1")
        .append(r.build())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{classify_message, fixtures::el};

    fn msg(xml: &str) -> Message {
        Message::try_from(el(xml)).expect("message parses")
    }

    fn retraction_of(xml: &str) -> Retraction {
        match classify_message(&msg(xml)) {
            Incoming::Retraction(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_retraction_from_the_xep() {
        // XEP-0424 §4 example 2.
        let r = retraction_of("<message xmlns='jabber:client' type='chat' from='lord@capulet.example/phone' to='tybalt@capulet.example' id='retract-message-1'>
              <retract id='origin-id-1' xmlns='urn:xmpp:message-retract:1'/>
              <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>
              <body>/me retracted a previous message, but it's unsupported by your client.</body>
              <store xmlns='urn:xmpp:hints'/>
            </message>");
        assert_eq!(r.target.as_deref(), Some("origin-id-1"));
        assert!(r.moderation.is_none() && !r.tombstone && !r.groupchat);
        // The older fastened form.
        let r = retraction_of("<message xmlns='jabber:client' type='groupchat' from='r@c/lord' id='x'>
              <apply-to id='sid-1' xmlns='urn:xmpp:fasten:0'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to>
              <occupant-id xmlns='urn:xmpp:occupant-id:0' id='o1'/></message>");
        assert_eq!(r.target.as_deref(), Some("sid-1"));
        assert_eq!(r.occupant_id.as_deref(), Some("o1"));
    }

    #[test]
    fn moderations_both_versions_only_from_the_room() {
        // XEP-0425 0.3 (`:1`) broadcast.
        let r = retraction_of("<message type='groupchat' id='retraction-id-1' from='room@muc.example.com' to='room@muc.example.com/macbeth' xmlns='jabber:client'>
              <retract id='stanza-id-1' xmlns='urn:xmpp:message-retract:1'>
                <moderated by='room@muc.example.com/macbeth' xmlns='urn:xmpp:message-moderate:1'>
                  <occupant-id xmlns='urn:xmpp:occupant-id:0' id='dd72603deec90a38ba552f7c68cbcc61bca202cd'/>
                </moderated>
                <reason>This message contains inappropriate content for this forum</reason>
              </retract>
              <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>
              <body>/me retracted a message: This message contains inappropriate content for this forum</body>
            </message>");
        assert_eq!(r.target.as_deref(), Some("stanza-id-1"));
        let md = r.moderation.unwrap();
        assert_eq!(md.by_nick().as_deref(), Some("macbeth"));
        assert_eq!(
            md.reason.as_deref(),
            Some("This message contains inappropriate content for this forum")
        );
        // XEP-0425 0.2 (`:0`), as mod_muc_moderation sends it.
        let r = retraction_of("<message type='groupchat' id='retraction-id-1' from='room@muc.example.com' xmlns='jabber:client'>
              <apply-to id='stanza-id-1' xmlns='urn:xmpp:fasten:0'>
                <moderated by='room@muc.example.com/macbeth' xmlns='urn:xmpp:message-moderate:0'>
                  <retract xmlns='urn:xmpp:message-retract:0'/>
                  <reason>spam</reason>
                </moderated>
              </apply-to></message>");
        assert_eq!(r.target.as_deref(), Some("stanza-id-1"));
        assert_eq!(r.moderation.unwrap().reason.as_deref(), Some("spam"));
        // The same from an occupant: forged, ignored.
        for xml in [
            "<message type='groupchat' from='room@muc.example.com/mallory' xmlns='jabber:client'><retract id='s' xmlns='urn:xmpp:message-retract:1'><moderated by='room@muc.example.com/x' xmlns='urn:xmpp:message-moderate:1'/></retract></message>",
            "<message type='groupchat' from='room@muc.example.com/mallory' xmlns='jabber:client'><apply-to id='s' xmlns='urn:xmpp:fasten:0'><moderated by='x' xmlns='urn:xmpp:message-moderate:0'><retract xmlns='urn:xmpp:message-retract:0'/></moderated></apply-to></message>",
            "<message type='chat' from='room@muc.example.com' xmlns='jabber:client'><retract id='s' xmlns='urn:xmpp:message-retract:1'><moderated by='x' xmlns='urn:xmpp:message-moderate:1'/></retract></message>",
        ] {
            assert!(
                matches!(classify_message(&msg(xml)), Incoming::Ignored(_)),
                "{xml}"
            );
        }
    }

    #[test]
    fn tombstones() {
        // XEP-0425 0.2 / mod_muc_moderation's tombstone in the archive.
        let r = retraction_of("<message type='groupchat' from='room@muc.example.com/oldhag' id='message-id-1' xmlns='jabber:client'>
              <occupant-id xmlns='urn:xmpp:occupant-id:0' id='ef73b09de9c90a38ba552f7c68cbeef1dca24429'/>
              <moderated by='room@muc.example.com/macbeth' xmlns='urn:xmpp:message-moderate:0'>
                <retracted stamp='2019-09-20T23:19:12Z' xmlns='urn:xmpp:message-retract:0'/>
                <reason>This message contains inappropriate content for this forum</reason>
              </moderated></message>");
        assert!(r.tombstone && r.target.is_none());
        assert_eq!(r.moderation.unwrap().by_nick().as_deref(), Some("macbeth"));
        // XEP-0424/0425 current: <retracted> with <moderated> in it.
        let r = retraction_of("<message type='groupchat' from='room@muc.example.com/oldhag' id='m1' xmlns='jabber:client'>
              <retracted stamp='2019-09-20T23:09:32Z' xmlns='urn:xmpp:message-retract:1'>
                <moderated by='room@muc.example.com/macbeth' xmlns='urn:xmpp:message-moderate:1'/>
                <reason>spam</reason>
              </retracted></message>");
        assert!(r.tombstone);
        assert_eq!(r.moderation.unwrap().reason.as_deref(), Some("spam"));
        // A sender's own retraction, archived.
        let r = retraction_of("<message type='chat' from='lord@capulet.example/phone' id='m1' xmlns='jabber:client'>
              <retracted id='retract-message-1' stamp='2019-09-20T23:09:32Z' xmlns='urn:xmpp:message-retract:1'/></message>");
        assert!(r.tombstone && r.moderation.is_none());
    }

    #[test]
    fn builders() {
        let room = BareJid::new("r@c").unwrap();
        let m = retraction(room.clone().into(), true, "sid-9", "me-2");
        let mut back = Message::try_from(Element::from(m)).unwrap();
        back.from = Some(Jid::new("r@c/me").unwrap());
        let Incoming::Retraction(r) = classify_message(&back) else {
            panic!()
        };
        assert_eq!(r.target.as_deref(), Some("sid-9"));
        assert_eq!(r.id.as_deref(), Some("me-2"));
        let v1 = moderate(ModerateVersion::V1, "sid-9", Some("spam"));
        assert_eq!(
            String::from(&v1),
            "<moderate xmlns='urn:xmpp:message-moderate:1' id='sid-9'><retract xmlns='urn:xmpp:message-retract:1'/><reason>spam</reason></moderate>"
        );
        let v0 = moderate(ModerateVersion::V0, "sid-9", None);
        assert_eq!(
            String::from(&v0),
            "<apply-to xmlns='urn:xmpp:fasten:0' id='sid-9'><moderate xmlns='urn:xmpp:message-moderate:0'><retract xmlns='urn:xmpp:message-retract:0'/></moderate></apply-to>"
        );
        let b =
            Message::try_from(moderated_broadcast(&room, "sid-9", "r@c/mod", Some("why"))).unwrap();
        let Incoming::Retraction(r) = classify_message(&b) else {
            panic!()
        };
        assert_eq!(r.moderation.unwrap().reason.as_deref(), Some("why"));
        let info = el(
            "<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:message-moderate:0'/></query>",
        );
        assert_eq!(
            ModerateVersion::from_disco(Some(&info)),
            Some(ModerateVersion::V0)
        );
        assert_eq!(ModerateVersion::from_disco(None), None);
    }
}
