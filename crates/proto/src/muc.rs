//! XEP-0045 Multi-User Chat: presence builders and the parsing of
//! occupant presence (`muc#user`), written on plain elements so that an
//! unknown status code or attribute never makes us drop a presence.

use jid::{BareJid, FullJid, Jid, ResourcePart};
use minidom::Element;
use serde::Serialize;
use xmpp_parsers::message::{Id, Lang, Message, MessageType};
use xmpp_parsers::presence::{Presence, Show as PShow, Type as PType};

use super::{ErrorInfo, Incoming, Show, nc, ns};

mod status;
pub use status::StatusCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Moderator,
    Participant,
    Visitor,
    #[default]
    None,
}

impl Role {
    pub fn parse(s: &str) -> Role {
        match s {
            "moderator" => Role::Moderator,
            "participant" => Role::Participant,
            "visitor" => Role::Visitor,
            _ => Role::None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::Participant => "participant",
            Role::Visitor => "visitor",
            Role::None => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Affiliation {
    Owner,
    Admin,
    Member,
    Outcast,
    #[default]
    None,
}

impl Affiliation {
    pub fn parse(s: &str) -> Affiliation {
        match s {
            "owner" => Affiliation::Owner,
            "admin" => Affiliation::Admin,
            "member" => Affiliation::Member,
            "outcast" => Affiliation::Outcast,
            _ => Affiliation::None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Affiliation::Owner => "owner",
            Affiliation::Admin => "admin",
            Affiliation::Member => "member",
            Affiliation::Outcast => "outcast",
            Affiliation::None => "none",
        }
    }
}

/// What an occupant's presence says about them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OccupantInfo {
    pub role: Role,
    pub affiliation: Affiliation,
    /// Real JID, where the room shows it.
    pub jid: Option<Jid>,
    /// `available`, `chat`, `away`, `xa` or `dnd`.
    pub show: &'static str,
    pub status: Option<String>,
    /// XEP-0421 occupant id.
    pub occupant_id: Option<String>,
}

/// A room being destroyed (XEP-0045 §10.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destroyed {
    pub reason: Option<String>,
    pub venue: Option<String>,
}

/// Presence from `room@service/nick`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MucPresence {
    pub room: BareJid,
    pub nick: String,
    pub available: bool,
    pub info: OccupantInfo,
    /// Status codes (110 self, 303 nick change, 307 kicked, ...).
    pub codes: Vec<StatusCode>,
    /// The presence carried `muc#user` (false with groupchat 1.0 rooms).
    pub has_muc_user: bool,
    /// New nick on a 303 nick change.
    pub new_nick: Option<String>,
    /// Reason given by an actor (kick, ban) or on destruction.
    pub reason: Option<String>,
    pub actor: Option<String>,
    pub destroyed: Option<Destroyed>,
}

impl MucPresence {
    pub fn is_self(&self) -> bool {
        self.codes.contains(&StatusCode::SelfPresence)
    }
}

/// How much history to ask for when joining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryRequest {
    /// The service's default.
    Default,
    /// At most this many messages.
    MaxStanzas(u32),
    /// Everything since this time (used when rejoining after a disconnect).
    Since(chrono::DateTime<chrono::Utc>),
}

fn show_to_parsers(show: Show) -> Option<PShow> {
    match show {
        Show::Available => None,
        Show::Chat => Some(PShow::Chat),
        Show::Away => Some(PShow::Away),
        Show::Xa => Some(PShow::Xa),
        Show::Dnd => Some(PShow::Dnd),
    }
}

/// `room/nick`, or an error saying why the nick cannot be used.
pub fn occupant_jid(room: &BareJid, nick: &str) -> Result<FullJid, ErrorInfo> {
    let res = ResourcePart::new(nick).map_err(|e| {
        ErrorInfo::new(
            "jid-malformed",
            format!("{nick:?} cannot be used as a nick: {e}"),
        )
    })?;
    Ok(room.with_resource(&res))
}

/// Presence that sets show/status (without `muc` payload).
pub fn status_presence(to: Option<Jid>, show: Show, status: Option<&str>) -> Presence {
    let mut p = Presence::available();
    p.to = to;
    p.show = show_to_parsers(show);
    if let Some(s) = status {
        p.set_status(String::new(), s.to_string());
    }
    p
}

/// The join presence: `<presence to='room/nick'><x xmlns='…muc'>…`.
pub fn join(
    room: &BareJid,
    nick: &str,
    password: Option<&str>,
    history: &HistoryRequest,
    show: Show,
    status: Option<&str>,
) -> Result<Presence, ErrorInfo> {
    let to = occupant_jid(room, nick)?;
    let mut x = Element::builder("x", ns::MUC);
    let hist = match history {
        HistoryRequest::Default => None,
        HistoryRequest::MaxStanzas(n) => Some(
            Element::builder("history", ns::MUC)
                .attr(nc("maxstanzas"), n.to_string())
                .build(),
        ),
        HistoryRequest::Since(t) => Some(
            Element::builder("history", ns::MUC)
                .attr(
                    nc("since"),
                    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )
                .build(),
        ),
    };
    if let Some(h) = hist {
        x = x.append(h);
    }
    if let Some(pw) = password {
        x = x.append(Element::builder("password", ns::MUC).append(pw).build());
    }
    let mut p = status_presence(Some(to.into()), show, status);
    p.payloads.push(x.build());
    Ok(p)
}

/// Unavailable presence to leave a room.
pub fn leave(room: &BareJid, nick: &str, reason: Option<&str>) -> Result<Presence, ErrorInfo> {
    let mut p = Presence::new(PType::Unavailable);
    p.to = Some(occupant_jid(room, nick)?.into());
    if let Some(r) = reason {
        p.set_status(String::new(), r.to_string());
    }
    Ok(p)
}

/// Presence to `room/nick` with show/status: a status change in the
/// room, or (with a new nick) a nick change request.
pub fn occupant_presence(
    room: &BareJid,
    new_nick: &str,
    show: Show,
    status: Option<&str>,
) -> Result<Presence, ErrorInfo> {
    Ok(status_presence(
        Some(occupant_jid(room, new_nick)?.into()),
        show,
        status,
    ))
}

/// A groupchat message to the room, with the id also as XEP-0359
/// origin-id (kept by services that rewrite message ids).
pub fn groupchat(room: &BareJid, body: &str, id: &str) -> Message {
    let mut m = Message::new_with_type(MessageType::Groupchat, Some(Jid::from(room.clone())));
    m.id = Some(Id(id.to_string()));
    m.bodies.insert(Lang::new(), body.to_string());
    m.payloads.push(
        Element::builder("origin-id", ns::STANZA_ID)
            .attr(nc("id"), id)
            .build(),
    );
    m
}

/// A subject change.
pub fn subject(room: &BareJid, text: &str, id: &str) -> Message {
    let mut m = Message::new_with_type(MessageType::Groupchat, Some(Jid::from(room.clone())));
    m.id = Some(Id(id.to_string()));
    m.subjects.insert(Lang::new(), text.to_string());
    m
}

fn show_word(p: &Presence) -> &'static str {
    match p.show {
        None => "available",
        Some(PShow::Chat) => "chat",
        Some(PShow::Away) => "away",
        Some(PShow::Xa) => "xa",
        Some(PShow::Dnd) => "dnd",
    }
}

/// Parses presence from a room occupant. Returns `None` when the sender is
/// not of the form `room@service/nick`.
pub fn parse_presence(p: &Presence) -> Option<Incoming> {
    let from = p.from.as_ref()?;
    let full = from.try_as_full().ok()?;
    let room = full.clone().into_bare();
    room.node()?;
    let nick = full.resource().as_str().to_string();
    if p.type_ == PType::Error {
        let error = p
            .payloads
            .iter()
            .find(|e| e.is("error", ns::JABBER_CLIENT))
            .map(ErrorInfo::from_error_element)
            .unwrap_or_else(|| ErrorInfo::new("undefined-condition", None));
        return Some(Incoming::MucPresenceError {
            room,
            nick: Some(nick),
            error,
        });
    }
    let available = match p.type_ {
        PType::None => true,
        PType::Unavailable => false,
        _ => return None,
    };
    let mut mp = MucPresence {
        room,
        nick,
        available,
        info: OccupantInfo {
            show: if available {
                show_word(p)
            } else {
                "unavailable"
            },
            status: p
                .statuses
                .get("")
                .or_else(|| p.statuses.values().next())
                .cloned(),
            ..OccupantInfo::default()
        },
        codes: Vec::new(),
        has_muc_user: false,
        new_nick: None,
        reason: None,
        actor: None,
        destroyed: None,
    };
    for el in &p.payloads {
        if el.is("x", ns::MUC_USER) {
            mp.has_muc_user = true;
            parse_muc_user(el, &mut mp);
        } else if el.is("occupant-id", ns::OCCUPANT_ID) {
            mp.info.occupant_id = el.attr("id").map(str::to_string);
        }
    }
    Some(Incoming::MucPresence(mp))
}

fn parse_muc_user(x: &Element, mp: &mut MucPresence) {
    for child in x.children() {
        match child.name() {
            "status" => {
                if let Some(code) = child.attr("code").and_then(|c| c.parse::<u16>().ok()) {
                    mp.codes.push(code.into());
                }
            }
            "item" => {
                if let Some(a) = child.attr("affiliation") {
                    mp.info.affiliation = Affiliation::parse(a);
                }
                if let Some(r) = child.attr("role") {
                    mp.info.role = Role::parse(r);
                }
                mp.info.jid = child.attr("jid").and_then(|j| Jid::new(j).ok());
                mp.new_nick = child.attr("nick").map(str::to_string);
                for sub in child.children() {
                    match sub.name() {
                        "reason" => mp.reason = Some(sub.text()),
                        "actor" => {
                            mp.actor = sub
                                .attr("nick")
                                .or_else(|| sub.attr("jid"))
                                .map(str::to_string)
                        }
                        _ => {}
                    }
                }
            }
            "destroy" => {
                let reason = child.get_child("reason", ns::MUC_USER).map(|r| r.text());
                mp.destroyed = Some(Destroyed {
                    reason,
                    venue: child.attr("jid").map(str::to_string),
                });
            }
            _ => {}
        }
    }
}

/// Words for the status codes a user may see (XEP-0045 §15.6).
pub fn status_code_text(code: StatusCode) -> Option<&'static str> {
    code.text()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    fn presence(xml: &str) -> Presence {
        Presence::try_from(el(xml)).expect("presence parses")
    }

    fn room() -> BareJid {
        BareJid::new("coven@chat.shakespeare.lit").unwrap()
    }

    #[test]
    fn join_presence_has_muc_payload_password_and_history() {
        let p = join(
            &room(),
            "thirdwitch",
            Some("cauldronburn"),
            &HistoryRequest::MaxStanzas(20),
            Show::Away,
            Some("brb"),
        )
        .unwrap();
        let e: Element = p.into();
        assert_eq!(e.attr("to"), Some("coven@chat.shakespeare.lit/thirdwitch"));
        let x = e.get_child("x", ns::MUC).expect("muc payload");
        assert_eq!(
            x.get_child("password", ns::MUC).unwrap().text(),
            "cauldronburn"
        );
        assert_eq!(
            x.get_child("history", ns::MUC).unwrap().attr("maxstanzas"),
            Some("20")
        );
        assert_eq!(
            e.get_child("show", ns::JABBER_CLIENT).unwrap().text(),
            "away"
        );
        assert_eq!(
            e.get_child("status", ns::JABBER_CLIENT).unwrap().text(),
            "brb"
        );
        // Round trip through the parser keeps the payload.
        let back = Presence::try_from(e).unwrap();
        assert!(back.payloads.iter().any(|p| p.is("x", ns::MUC)));
    }

    #[test]
    fn join_since_uses_utc_timestamp() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let p = join(
            &room(),
            "n",
            None,
            &HistoryRequest::Since(t),
            Show::Available,
            None,
        )
        .unwrap();
        let e: Element = p.into();
        let h = e
            .get_child("x", ns::MUC)
            .unwrap()
            .get_child("history", ns::MUC)
            .unwrap();
        assert_eq!(h.attr("since"), Some("2026-01-02T03:04:05Z"));
        assert!(e.get_child("show", ns::JABBER_CLIENT).is_none());
    }

    #[test]
    fn nick_with_invalid_characters_is_an_error() {
        let err = join(
            &room(),
            "",
            None,
            &HistoryRequest::Default,
            Show::Available,
            None,
        )
        .unwrap_err();
        assert_eq!(err.condition, "jid-malformed");
    }

    #[test]
    fn leave_and_nick_change() {
        let e: Element = leave(&room(), "me", Some("bye")).unwrap().into();
        assert_eq!(e.attr("type"), Some("unavailable"));
        assert_eq!(
            e.get_child("status", ns::JABBER_CLIENT).unwrap().text(),
            "bye"
        );
        let e: Element = occupant_presence(&room(), "new", Show::Dnd, None)
            .unwrap()
            .into();
        assert_eq!(e.attr("to"), Some("coven@chat.shakespeare.lit/new"));
        assert!(e.get_child("x", ns::MUC).is_none());
    }

    #[test]
    fn self_presence_with_codes() {
        // XEP-0045 example 24 (self-presence, non-anonymous room).
        let p = presence(
            "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' to='hag66@shakespeare.lit/pda' id='n13mt3l'>
               <x xmlns='http://jabber.org/protocol/muc#user'>
                 <item affiliation='member' jid='hag66@shakespeare.lit/pda' role='participant'/>
                 <status code='100'/><status code='110'/><status code='170'/><status code='999'/>
               </x>
               <occupant-id xmlns='urn:xmpp:occupant-id:0' id='abc'/>
             </presence>",
        );
        let Some(Incoming::MucPresence(mp)) = parse_presence(&p) else {
            panic!("not a muc presence")
        };
        assert_eq!(mp.room, room());
        assert_eq!(mp.nick, "thirdwitch");
        assert!(mp.available && mp.is_self() && mp.has_muc_user);
        assert_eq!(mp.codes, vec![100, 110, 170, 999]);
        assert_eq!(mp.info.affiliation, Affiliation::Member);
        assert_eq!(mp.info.role, Role::Participant);
        assert_eq!(
            mp.info.jid.as_ref().map(|j| j.to_string()).as_deref(),
            Some("hag66@shakespeare.lit/pda")
        );
        assert_eq!(mp.info.occupant_id.as_deref(), Some("abc"));
        assert_eq!(mp.info.show, "available");
    }

    #[test]
    fn nick_change_unavailable_303() {
        let p = presence(
            "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='unavailable'>
               <x xmlns='http://jabber.org/protocol/muc#user'>
                 <item affiliation='member' nick='oldhag' role='participant'/>
                 <status code='303'/>
               </x></presence>",
        );
        let Some(Incoming::MucPresence(mp)) = parse_presence(&p) else {
            panic!()
        };
        assert!(!mp.available);
        assert_eq!(mp.new_nick.as_deref(), Some("oldhag"));
        assert_eq!(mp.codes, vec![303]);
    }

    #[test]
    fn kick_with_reason_and_actor() {
        let p = presence(
            "<presence xmlns='jabber:client' from='harfleur@chat.shakespeare.lit/pistol' type='unavailable'>
               <x xmlns='http://jabber.org/protocol/muc#user'>
                 <item affiliation='none' role='none'><actor nick='Fluellen'/><reason>Avaunt, you cullion!</reason></item>
                 <status code='110'/><status code='307'/>
               </x></presence>",
        );
        let Some(Incoming::MucPresence(mp)) = parse_presence(&p) else {
            panic!()
        };
        assert_eq!(mp.reason.as_deref(), Some("Avaunt, you cullion!"));
        assert_eq!(mp.actor.as_deref(), Some("Fluellen"));
        assert!(mp.codes.contains(&StatusCode::Kicked));
    }

    #[test]
    fn destroy() {
        let p = presence(
            "<presence xmlns='jabber:client' from='heath@chat.shakespeare.lit/firstwitch' type='unavailable'>
               <x xmlns='http://jabber.org/protocol/muc#user'>
                 <item affiliation='none' role='none'/>
                 <destroy jid='coven@chat.shakespeare.lit'><reason>Macbeth doth come.</reason></destroy>
               </x></presence>",
        );
        let Some(Incoming::MucPresence(mp)) = parse_presence(&p) else {
            panic!()
        };
        let d = mp.destroyed.unwrap();
        assert_eq!(d.venue.as_deref(), Some("coven@chat.shakespeare.lit"));
        assert_eq!(d.reason.as_deref(), Some("Macbeth doth come."));
    }

    #[test]
    fn presence_errors() {
        let p = presence(
            "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='error'>
               <x xmlns='http://jabber.org/protocol/muc'/>
               <error by='coven@chat.shakespeare.lit' type='cancel'>
                 <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
               </error></presence>",
        );
        match parse_presence(&p) {
            Some(Incoming::MucPresenceError {
                room: r,
                nick,
                error,
            }) => {
                assert_eq!(r, room());
                assert_eq!(nick.as_deref(), Some("thirdwitch"));
                assert_eq!(error.condition, "conflict");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn groupchat_1_0_presence_and_non_room_presence() {
        let p = presence(
            "<presence xmlns='jabber:client' from='room@gc.example/nick'><status>hi</status></presence>",
        );
        let Some(Incoming::MucPresence(mp)) = parse_presence(&p) else {
            panic!()
        };
        assert!(!mp.has_muc_user);
        assert_eq!(mp.info.status.as_deref(), Some("hi"));
        // From a bare JID: not an occupant.
        let p = presence("<presence xmlns='jabber:client' from='room@gc.example'/>");
        assert!(parse_presence(&p).is_none());
    }

    #[test]
    fn groupchat_and_subject_builders() {
        let e: Element = groupchat(&room(), "hello", "m1").into();
        assert_eq!(e.attr("type"), Some("groupchat"));
        assert_eq!(e.attr("id"), Some("m1"));
        assert_eq!(
            e.get_child("origin-id", ns::STANZA_ID).unwrap().attr("id"),
            Some("m1")
        );
        assert_eq!(
            e.get_child("body", ns::JABBER_CLIENT).unwrap().text(),
            "hello"
        );
        let e: Element = subject(&room(), "new topic", "m2").into();
        assert_eq!(
            e.get_child("subject", ns::JABBER_CLIENT).unwrap().text(),
            "new topic"
        );
        assert!(e.get_child("body", ns::JABBER_CLIENT).is_none());
    }

    #[test]
    fn status_codes_in_words() {
        for code in [
            100, 101, 110, 170, 171, 172, 173, 174, 201, 210, 301, 303, 307, 321, 322, 332, 333,
        ] {
            assert!(status_code_text(StatusCode::from(code)).is_some(), "{code}");
        }
        assert!(status_code_text(StatusCode::from(999)).is_none());
    }
}
