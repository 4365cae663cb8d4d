//! Invitations to rooms, in all three forms, received as one kind of
//! [`Invitation`]:
//!
//! - legacy `jabber:x:conference` (seed 000): `<x jid='room'/>` in a normal
//!   message, the reason in the element's text or the message body;
//! - XEP-0249 direct: the same element with `password`, `reason`,
//!   `continue`, `thread` attributes;
//! - XEP-0045 mediated: a message from the room with
//!   `<x xmlns='…muc#user'><invite from='…'><reason/></invite><password/></x>`
//!   (servers often add a `jabber:x:conference` element and a body too: it
//!   is still one invitation).
//!
//! And declines coming back through a room (`<decline from='…'/>`), plus the
//! builders for sending invitations and declines.

use jid::{BareJid, Jid};
use minidom::Element;
use serde::Serialize;
use xmpp_parsers::message::{Message, MessageType};

use super::ns;

/// `jabber:x:conference` (seed 000 and XEP-0249).
pub const NS_CONFERENCE: &str = "jabber:x:conference";

/// How an invitation came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InviteKind {
    /// XEP-0249: from the inviter, with reason/password/continue/thread.
    Direct,
    /// XEP-0045: through the room.
    Mediated,
    /// `jabber:x:conference` with only a `jid` (indistinguishable from a
    /// XEP-0249 invitation that has no reason, password or thread).
    Legacy,
}

impl InviteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteKind::Direct => "direct",
            InviteKind::Mediated => "mediated",
            InviteKind::Legacy => "legacy",
        }
    }
}

/// A received invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub room: BareJid,
    /// Who invites: the sender (direct, legacy) or the `from` of
    /// `<invite/>` (mediated; the room if it names nobody).
    pub from: Jid,
    pub reason: Option<String>,
    pub password: Option<String>,
    pub kind: InviteKind,
    /// XEP-0249 `continue='true'`: continuing a one-to-one chat.
    pub continue_chat: bool,
    /// XEP-0249 `thread`.
    pub thread: Option<String>,
}

/// A decline relayed by a room to us, the inviter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decline {
    pub room: BareJid,
    /// Who declined (the `from` of `<decline/>`), else the room.
    pub from: Jid,
    pub reason: Option<String>,
}

/// What a message holds, invitation-wise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Invitation(Invitation),
    Decline(Decline),
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn body_of(m: &Message) -> Option<String> {
    m.bodies
        .get("")
        .or_else(|| m.bodies.get("en"))
        .or_else(|| m.bodies.values().next())
        .cloned()
}

/// Finds an invitation or a decline in a (non-groupchat, non-error)
/// message. A mediated invitation wins over a `jabber:x:conference`
/// element in the same message (servers add one for old clients).
pub fn parse(m: &Message) -> Option<Parsed> {
    if matches!(m.type_, MessageType::Groupchat | MessageType::Error) {
        return None;
    }
    let sender = m.from.clone()?;
    if let Some(x) = m.payloads.iter().find(|p| p.is("x", ns::MUC_USER)) {
        let room = sender.to_bare();
        if room.node().is_some() {
            if let Some(inv) = x.get_child("invite", ns::MUC_USER) {
                let from = inv
                    .attr("from")
                    .and_then(|f| Jid::new(f).ok())
                    .unwrap_or_else(|| sender.clone());
                let reason = non_empty(inv.get_child("reason", ns::MUC_USER).map(Element::text));
                let password = x
                    .get_child("password", ns::MUC_USER)
                    .map(Element::text)
                    .filter(|p| !p.is_empty());
                return Some(Parsed::Invitation(Invitation {
                    room,
                    from,
                    reason,
                    password,
                    kind: InviteKind::Mediated,
                    continue_chat: false,
                    thread: None,
                }));
            }
            if let Some(dec) = x.get_child("decline", ns::MUC_USER) {
                let from = dec
                    .attr("from")
                    .and_then(|f| Jid::new(f).ok())
                    .unwrap_or_else(|| sender.clone());
                let reason = non_empty(dec.get_child("reason", ns::MUC_USER).map(Element::text));
                return Some(Parsed::Decline(Decline { room, from, reason }));
            }
        }
    }
    let x = m.payloads.iter().find(|p| p.is("x", NS_CONFERENCE))?;
    let room = BareJid::new(x.attr("jid")?).ok()?;
    room.node()?;
    let direct = ["password", "reason", "continue", "thread"]
        .iter()
        .any(|a| x.attr(*a).is_some());
    let reason = if direct {
        non_empty(x.attr("reason").map(str::to_string))
    } else {
        non_empty(Some(x.text())).or_else(|| non_empty(body_of(m)))
    };
    Some(Parsed::Invitation(Invitation {
        room,
        from: sender,
        reason,
        password: x
            .attr("password")
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        kind: if direct {
            InviteKind::Direct
        } else {
            InviteKind::Legacy
        },
        continue_chat: matches!(x.attr("continue"), Some("true" | "1")),
        thread: x.attr("thread").map(str::to_string),
    }))
}

/// A XEP-0249 direct invitation to `to`.
pub fn direct(
    to: Jid,
    room: &BareJid,
    reason: Option<&str>,
    password: Option<&str>,
    id: &str,
) -> Message {
    let mut x = Element::builder("x", NS_CONFERENCE).attr(super::nc("jid"), room.as_str());
    if let Some(p) = password {
        x = x.attr(super::nc("password"), p);
    }
    if let Some(r) = reason {
        x = x.attr(super::nc("reason"), r);
    }
    let mut m = Message::new_with_type(MessageType::Normal, Some(to));
    m.id = Some(xmpp_parsers::message::Id(id.to_string()));
    m.payloads.push(x.build());
    m
}

/// A XEP-0045 mediated invitation: to the room, which passes it on.
pub fn mediated(room: &BareJid, to: &Jid, reason: Option<&str>, id: &str) -> Message {
    let mut invite = Element::builder("invite", ns::MUC_USER).attr(super::nc("to"), to.as_str());
    if let Some(r) = reason {
        invite = invite.append(Element::builder("reason", ns::MUC_USER).append(r).build());
    }
    let x = Element::builder("x", ns::MUC_USER)
        .append(invite.build())
        .build();
    let mut m = Message::new_with_type(MessageType::Normal, Some(Jid::from(room.clone())));
    m.id = Some(xmpp_parsers::message::Id(id.to_string()));
    m.payloads.push(x);
    m
}

/// A XEP-0045 decline of a mediated invitation: to the room, for the
/// inviter.
pub fn decline(room: &BareJid, inviter: &Jid, reason: Option<&str>, id: &str) -> Message {
    let mut d = Element::builder("decline", ns::MUC_USER).attr(super::nc("to"), inviter.as_str());
    if let Some(r) = reason {
        d = d.append(Element::builder("reason", ns::MUC_USER).append(r).build());
    }
    let mut m = Message::new_with_type(MessageType::Normal, Some(Jid::from(room.clone())));
    m.id = Some(xmpp_parsers::message::Id(id.to_string()));
    m.payloads.push(
        Element::builder("x", ns::MUC_USER)
            .append(d.build())
            .build(),
    );
    m
}

/// `muc#admin`: make `jid` a member of the room (an IQ set payload).
pub fn grant_membership(jid: &BareJid, reason: Option<&str>) -> Element {
    const MUC_ADMIN: &str = "http://jabber.org/protocol/muc#admin";
    let mut item = Element::builder("item", MUC_ADMIN)
        .attr(super::nc("affiliation"), "member")
        .attr(super::nc("jid"), jid.as_str());
    if let Some(r) = reason {
        item = item.append(Element::builder("reason", MUC_ADMIN).append(r).build());
    }
    Element::builder("query", MUC_ADMIN)
        .append(item.build())
        .build()
}

/// `disco#info` query payload (to learn whether a room is members-only).
pub fn disco_info() -> Element {
    Element::builder("query", ns::DISCO_INFO).build()
}

/// Whether a room's disco#info result says it is members-only.
pub fn is_members_only(info: Option<&Element>) -> bool {
    info.is_some_and(|q| {
        q.children()
            .any(|f| f.is("feature", ns::DISCO_INFO) && f.attr("var") == Some("muc_membersonly"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Incoming, classify_message, fixtures::el};

    fn msg(xml: &str) -> Message {
        Message::try_from(el(xml)).expect("message parses")
    }

    fn inv(xml: &str) -> Invitation {
        match parse(&msg(xml)) {
            Some(Parsed::Invitation(i)) => i,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn legacy_invitation_from_the_seed() {
        // seed 000: jabber:x:conference inside a normal message.
        let i = inv(
            "<message xmlns='jabber:client' to='buzz@disney' from='woody@disney'>\
            <body>Come join the rest of the gang, talking about our next adventure</body>\
            <x xmlns='jabber:x:conference' jid='toystory3@conference.disney'/></message>",
        );
        assert_eq!(i.kind, InviteKind::Legacy);
        assert_eq!(i.room.as_str(), "toystory3@conference.disney");
        assert_eq!(i.from.as_str(), "woody@disney");
        assert_eq!(
            i.reason.as_deref(),
            Some("Come join the rest of the gang, talking about our next adventure")
        );
        assert_eq!(i.password, None);
    }

    #[test]
    fn direct_invitation_from_xep_0249() {
        // XEP-0249 example 1.
        let i = inv(
            "<message xmlns='jabber:client' from='crone1@shakespeare.lit/desktop' to='hecate@shakespeare.lit'>\
            <x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit' password='cauldronburn' \
               reason='Hey Hecate, this is the place for all good witches!'/></message>",
        );
        assert_eq!(i.kind, InviteKind::Direct);
        assert_eq!(i.room.as_str(), "darkcave@macbeth.shakespeare.lit");
        assert_eq!(i.from.as_str(), "crone1@shakespeare.lit/desktop");
        assert_eq!(
            i.reason.as_deref(),
            Some("Hey Hecate, this is the place for all good witches!")
        );
        assert_eq!(i.password.as_deref(), Some("cauldronburn"));
        // Example 2: continuing a one-to-one chat.
        let i = inv(
            "<message xmlns='jabber:client' from='crone1@shakespeare.lit/desktop' to='hecate@shakespeare.lit'>\
            <x xmlns='jabber:x:conference' continue='true' jid='darkcave@macbeth.shakespeare.lit' thread='e0ffe42b28561960c6b12b944a092794b9683a38'/></message>",
        );
        assert_eq!(i.kind, InviteKind::Direct);
        assert!(i.continue_chat);
        assert_eq!(
            i.thread.as_deref(),
            Some("e0ffe42b28561960c6b12b944a092794b9683a38")
        );
        assert_eq!(i.reason, None);
    }

    #[test]
    fn mediated_invitation_from_xep_0045() {
        // XEP-0045 example 58 (with the password of example 59).
        let i = inv(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='nzd143v8' to='hecate@shakespeare.lit'>\
            <x xmlns='http://jabber.org/protocol/muc#user'>\
              <invite from='crone1@shakespeare.lit/desktop'><reason>Hey Hecate, this is the place for all good witches!</reason></invite>\
              <password>cauldronburn</password></x></message>",
        );
        assert_eq!(i.kind, InviteKind::Mediated);
        assert_eq!(i.room.as_str(), "coven@chat.shakespeare.lit");
        assert_eq!(i.from.as_str(), "crone1@shakespeare.lit/desktop");
        assert_eq!(
            i.reason.as_deref(),
            Some("Hey Hecate, this is the place for all good witches!")
        );
        assert_eq!(i.password.as_deref(), Some("cauldronburn"));
    }

    #[test]
    fn mediated_and_direct_in_one_message_is_one_mediated_invitation() {
        // What Prosody sends: muc#user invite, a jabber:x:conference
        // element for old clients, and a body.
        let m = msg(
            "<message xmlns='jabber:client' from='coven@conference.localhost' to='bob@localhost'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><invite from='alice@localhost/x'><reason>come</reason></invite><password>pw</password></x>\
            <x xmlns='jabber:x:conference' jid='coven@conference.localhost'>come</x>\
            <body>alice@localhost/x invited you to the room coven@conference.localhost (come)</body></message>",
        );
        let Some(Parsed::Invitation(i)) = parse(&m) else {
            panic!()
        };
        assert_eq!(i.kind, InviteKind::Mediated);
        assert_eq!(i.from.as_str(), "alice@localhost/x");
        assert_eq!(i.password.as_deref(), Some("pw"));
        // The classifier makes it an invitation, not a chat message.
        assert_eq!(classify_message(&m), Incoming::Invitation(i));
    }

    #[test]
    fn decline_from_xep_0045() {
        // XEP-0045 example 62.
        let m = msg(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='jk2vs61v' to='crone1@shakespeare.lit/desktop'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><decline from='hecate@shakespeare.lit'>\
            <reason>Sorry, I&apos;m too busy right now.</reason></decline></x></message>",
        );
        let d = Decline {
            room: BareJid::new("coven@chat.shakespeare.lit").unwrap(),
            from: Jid::new("hecate@shakespeare.lit").unwrap(),
            reason: Some("Sorry, I'm too busy right now.".into()),
        };
        assert_eq!(parse(&m), Some(Parsed::Decline(d.clone())));
        assert_eq!(classify_message(&m), Incoming::InvitationDeclined(d));
    }

    #[test]
    fn not_invitations() {
        // A private message in a room carries an empty muc#user <x/>.
        let pm = msg(
            "<message xmlns='jabber:client' type='chat' from='r@c/bob' to='a@b'><body>hi</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>",
        );
        assert_eq!(parse(&pm), None);
        // No jid, or a jid without a room name.
        assert_eq!(
            parse(&msg(
                "<message xmlns='jabber:client' from='w@d'><x xmlns='jabber:x:conference'/></message>"
            )),
            None
        );
        assert_eq!(
            parse(&msg(
                "<message xmlns='jabber:client' from='w@d'><x xmlns='jabber:x:conference' jid='conference.disney'/></message>"
            )),
            None
        );
        // Groupchat never.
        assert_eq!(
            parse(&msg(
                "<message xmlns='jabber:client' type='groupchat' from='r@c/x'><body>b</body><x xmlns='jabber:x:conference' jid='r2@c'/></message>"
            )),
            None
        );
    }

    #[test]
    fn builders() {
        let room = BareJid::new("darkcave@macbeth.shakespeare.lit").unwrap();
        let to = Jid::new("hecate@shakespeare.lit").unwrap();
        let d: Element = direct(
            to.clone(),
            &room,
            Some("Hey Hecate, this is the place for all good witches!"),
            Some("cauldronburn"),
            "i1",
        )
        .into();
        assert_eq!(d.attr("to"), Some("hecate@shakespeare.lit"));
        // Normal messages, not chat.
        assert!(matches!(d.attr("type"), None | Some("normal")), "{d:?}");
        let x = d.get_child("x", NS_CONFERENCE).unwrap();
        assert_eq!(x.attr("jid"), Some("darkcave@macbeth.shakespeare.lit"));
        assert_eq!(x.attr("password"), Some("cauldronburn"));
        assert_eq!(
            x.attr("reason"),
            Some("Hey Hecate, this is the place for all good witches!")
        );
        // It parses back as the same invitation.
        let mut back = Message::try_from(d).unwrap();
        back.from = Some(Jid::new("crone1@shakespeare.lit/desktop").unwrap());
        let Some(Parsed::Invitation(i)) = parse(&back) else {
            panic!()
        };
        assert_eq!(
            (i.kind, i.password.as_deref()),
            (InviteKind::Direct, Some("cauldronburn"))
        );
        let bare: Element = direct(to.clone(), &room, None, None, "i2").into();
        let x = bare.get_child("x", NS_CONFERENCE).unwrap();
        assert_eq!(x.attr("password"), None);
        assert_eq!(x.attr("reason"), None);

        // XEP-0045 example 56.
        let m: Element = mediated(&room, &to, Some("Hey Hecate"), "i3").into();
        assert_eq!(m.attr("to"), Some("darkcave@macbeth.shakespeare.lit"));
        let inv = m
            .get_child("x", ns::MUC_USER)
            .unwrap()
            .get_child("invite", ns::MUC_USER)
            .unwrap();
        assert_eq!(inv.attr("to"), Some("hecate@shakespeare.lit"));
        assert_eq!(
            inv.get_child("reason", ns::MUC_USER).unwrap().text(),
            "Hey Hecate"
        );

        // XEP-0045 example 61.
        let inviter = Jid::new("crone1@shakespeare.lit").unwrap();
        let m: Element = decline(
            &room,
            &inviter,
            Some("Sorry, I'm too busy right now."),
            "d1",
        )
        .into();
        assert_eq!(m.attr("to"), Some("darkcave@macbeth.shakespeare.lit"));
        let dec = m
            .get_child("x", ns::MUC_USER)
            .unwrap()
            .get_child("decline", ns::MUC_USER)
            .unwrap();
        assert_eq!(dec.attr("to"), Some("crone1@shakespeare.lit"));
        assert_eq!(
            dec.get_child("reason", ns::MUC_USER).unwrap().text(),
            "Sorry, I'm too busy right now."
        );
        let m: Element = decline(&room, &inviter, None, "d2").into();
        assert!(
            m.get_child("x", ns::MUC_USER)
                .unwrap()
                .get_child("decline", ns::MUC_USER)
                .unwrap()
                .get_child("reason", ns::MUC_USER)
                .is_none()
        );

        // XEP-0045 example 123: grant membership.
        let q = grant_membership(&BareJid::new("hag66@shakespeare.lit").unwrap(), None);
        let item = q
            .get_child("item", "http://jabber.org/protocol/muc#admin")
            .unwrap();
        assert!(q.is("query", "http://jabber.org/protocol/muc#admin"));
        assert_eq!(item.attr("affiliation"), Some("member"));
        assert_eq!(item.attr("jid"), Some("hag66@shakespeare.lit"));
    }

    #[test]
    fn members_only_from_disco() {
        let info = el(
            "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text' name='x'/>\
            <feature var='http://jabber.org/protocol/muc'/><feature var='muc_membersonly'/></query>",
        );
        assert!(is_members_only(Some(&info)));
        let open = el(
            "<query xmlns='http://jabber.org/protocol/disco#info'><feature var='muc_open'/></query>",
        );
        assert!(!is_members_only(Some(&open)));
        assert!(!is_members_only(None));
    }
}
