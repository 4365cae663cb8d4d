//! Test fixtures shared by the tests of this crate and, through the
//! `test-support` feature, of the crates above it: XML parsed into an
//! [`Element`], and builders of occupant presences ([`MucPresence`]) and
//! of room messages ([`RoomMessage`]).

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use minidom::Element;

use crate::Incoming;
use crate::message::RoomMessage;
use crate::muc::{Affiliation, MucPresence, OccupantInfo, Role};

/// `xml` parsed; panics on XML that does not parse.
pub fn el(xml: &str) -> Element {
    xml.parse().expect("test XML parses")
}

/// An available presence of `nick` in `room` with `muc#user`, no status
/// code and [`OccupantInfo::default`] (role and affiliation `None`, an
/// empty `show`); the methods change one part each.
///
/// ```ignore
/// occupant("r@c", "bob").role(Role::Moderator).codes(&[110]).build()
/// ```
pub fn occupant(room: &str, nick: &str) -> Occupant {
    occupant_in(&BareJid::new(room).expect("a bare room JID"), nick)
}

/// [`occupant`] for a room already held as a [`BareJid`].
pub fn occupant_in(room: &BareJid, nick: &str) -> Occupant {
    Occupant(MucPresence {
        room: room.clone(),
        nick: nick.into(),
        available: true,
        info: OccupantInfo::default(),
        codes: vec![],
        has_muc_user: true,
        new_nick: None,
        reason: None,
        actor: None,
        destroyed: None,
    })
}

/// A [`MucPresence`] being built; see [`occupant`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Occupant(MucPresence);

impl Occupant {
    /// Available or not (`unavailable` leaves the room).
    pub fn available(mut self, available: bool) -> Self {
        self.0.available = available;
        self
    }

    /// An unavailable presence.
    pub fn unavailable(self) -> Self {
        self.available(false)
    }

    pub fn role(mut self, role: Role) -> Self {
        self.0.info.role = role;
        self
    }

    pub fn affiliation(mut self, affiliation: Affiliation) -> Self {
        self.0.info.affiliation = affiliation;
        self
    }

    /// The real JID, where the room shows it.
    pub fn jid(mut self, jid: &str) -> Self {
        self.0.info.jid = Some(Jid::new(jid).expect("a JID"));
        self
    }

    /// `available`, `chat`, `away`, `xa`, `dnd` (or `unavailable`).
    pub fn show(mut self, show: &'static str) -> Self {
        self.0.info.show = show;
        self
    }

    pub fn status(mut self, status: &str) -> Self {
        self.0.info.status = Some(status.into());
        self
    }

    /// The XEP-0421 occupant id.
    pub fn occupant_id(mut self, id: &str) -> Self {
        self.0.info.occupant_id = Some(id.into());
        self
    }

    /// All of the occupant's information at once.
    pub fn info(mut self, info: OccupantInfo) -> Self {
        self.0.info = info;
        self
    }

    /// The status codes (110 self, 303 nick change, 307 kicked, …).
    pub fn codes(mut self, codes: &[u16]) -> Self {
        self.0.codes = codes.iter().map(|&c| c.into()).collect();
        self
    }

    /// Whether the presence carried `muc#user` (not in groupchat 1.0).
    pub fn muc_user(mut self, has: bool) -> Self {
        self.0.has_muc_user = has;
        self
    }

    pub fn new_nick(mut self, nick: &str) -> Self {
        self.0.new_nick = Some(nick.into());
        self
    }

    /// The reason given by an actor or on destruction.
    pub fn reason(mut self, reason: &str) -> Self {
        self.0.reason = Some(reason.into());
        self
    }

    pub fn actor(mut self, actor: &str) -> Self {
        self.0.actor = Some(actor.into());
        self
    }

    pub fn build(self) -> MucPresence {
        self.0
    }

    /// The presence as the classifier gives it.
    pub fn incoming(self) -> Incoming {
        Incoming::MucPresence(self.0)
    }
}

/// A live message of `nick` in `room`: no id, no stanza-id, no time, not
/// delayed; the methods change one part each.
pub fn room_message(room: &BareJid, nick: &str, body: &str) -> Said {
    Said(RoomMessage {
        room: room.clone(),
        nick: Some(nick.into()),
        body: body.into(),
        id: None,
        stanza_id: None,
        time: None,
        delayed: false,
        occupant_id: None,
        reply: None,
        encrypted: None,
        e2e: None,
    })
}

/// A [`RoomMessage`] being built; see [`room_message`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Said(RoomMessage);

impl Said {
    /// The sender's message id.
    pub fn id(mut self, id: &str) -> Self {
        self.0.id = Some(id.into());
        self
    }

    /// The room's XEP-0359 stanza-id.
    pub fn stanza_id(mut self, id: &str) -> Self {
        self.0.stanza_id = Some(id.into());
        self
    }

    /// The time of a `<delay/>`.
    pub fn time(mut self, time: DateTime<Utc>) -> Self {
        self.0.time = Some(time);
        self
    }

    /// History (MUC history or a catch-up), not live.
    pub fn delayed(mut self, delayed: bool) -> Self {
        self.0.delayed = delayed;
        self
    }

    pub fn build(self) -> RoomMessage {
        self.0
    }

    /// The message as the classifier gives it.
    pub fn incoming(self) -> Incoming {
        Incoming::RoomMessage(self.0)
    }
}
