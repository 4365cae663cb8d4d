//! Pending invitations to rooms (all three kinds, see
//! [`confab_proto::invite`]), with short stable ids (1, 2, 3, …) for
//! `/accept` and `/decline`; and the passwords we entered rooms with (a
//! direct invitation passes the password on).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};
use serde::Serialize;

use super::Event;
use confab_proto::invite::{Decline, Invitation, InviteKind};

/// One pending invitation, as the store keeps it and the events show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvitationItem {
    pub id: u32,
    pub room: String,
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub kind: InviteKind,
    #[serde(skip)]
    pub time: Option<DateTime<Utc>>,
}

/// A decline of one of our invitations, relayed by the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclineItem {
    pub room: String,
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Pending invitations kept at most (anyone can send them): past it the
/// oldest is dropped.
pub const MAX_PENDING: usize = 256;

#[derive(Debug, Default)]
pub struct Invitations {
    next_id: u32,
    pending: Vec<InvitationItem>,
    /// Rooms we asked to join with a password (for direct invitations).
    passwords: HashMap<BareJid, String>,
    /// Rooms we sent mediated invitations through: only they may report
    /// declines.
    invited_through: HashSet<BareJid>,
}

impl Invitations {
    pub fn new() -> Invitations {
        Invitations::default()
    }

    /// A new invitation: kept (the same room from the same inviter
    /// replaces the earlier one and keeps its id) and reported.
    pub fn receive(&mut self, i: Invitation, now: DateTime<Utc>) -> Event {
        let room = i.room.to_string();
        let from = i.from.to_string();
        let from_bare = i.from.to_bare();
        let existing = self.pending.iter().position(|p| {
            p.room == room && Jid::new(&p.from).is_ok_and(|f| f.to_bare() == from_bare)
        });
        let id = match existing {
            Some(pos) => self.pending.remove(pos).id,
            None => {
                self.next_id += 1;
                self.next_id
            }
        };
        let item = InvitationItem {
            id,
            room,
            from,
            reason: i.reason,
            password: i.password,
            kind: i.kind,
            time: Some(now),
        };
        self.pending.push(item.clone());
        self.pending.sort_by_key(|p| p.id);
        if self.pending.len() > MAX_PENDING {
            self.pending.remove(0);
        }
        Event::Invitation(item)
    }

    /// A decline relayed by a room we invited through (from anyone
    /// else it is ignored: `None`).
    pub fn declined(&self, d: Decline) -> Option<Event> {
        self.invited_through.contains(&d.room).then(|| {
            Event::InvitationDeclined(DeclineItem {
                room: d.room.to_string(),
                from: d.from.to_string(),
                reason: d.reason,
            })
        })
    }

    /// We sent a mediated invitation through this room.
    pub fn note_invited_through(&mut self, room: &BareJid) {
        self.invited_through.insert(room.clone());
    }

    /// The pending invitations, oldest first.
    pub fn pending(&self) -> &[InvitationItem] {
        &self.pending
    }

    /// The pending invitation with this id (as typed: `3` or `#3`).
    pub fn get(&self, id: &str) -> Option<&InvitationItem> {
        let n: u32 = id.trim_start_matches('#').parse().ok()?;
        self.pending.iter().find(|p| p.id == n)
    }

    /// Removes (and returns) the invitation with this id.
    pub fn take(&mut self, id: u32) -> Option<InvitationItem> {
        let pos = self.pending.iter().position(|p| p.id == id)?;
        Some(self.pending.remove(pos))
    }

    /// Invitations to rooms we have now joined are no longer pending.
    pub fn forget_joined(&mut self, events: &[Event]) {
        for e in events {
            if let Event::Joined { room, .. } = e {
                self.pending.retain(|p| p.room != room.as_str());
            }
        }
    }

    /// Remembers the password a room is joined with (`None` forgets it).
    pub fn note_password(&mut self, room: &BareJid, password: Option<&str>) {
        match password {
            Some(p) => {
                self.passwords.insert(room.clone(), p.to_string());
            }
            None => {
                self.passwords.remove(room);
            }
        }
    }

    pub fn password_of(&self, room: &BareJid) -> Option<&str> {
        self.passwords.get(room).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(room: &str, from: &str, kind: InviteKind) -> Invitation {
        Invitation {
            room: BareJid::new(room).unwrap(),
            from: Jid::new(from).unwrap(),
            reason: Some("come".into()),
            password: None,
            kind,
            continue_chat: false,
            thread: None,
        }
    }

    #[test]
    fn pending_invitations_are_bounded() {
        let mut s = Invitations::new();
        let now = Utc::now();
        for i in 0..MAX_PENDING + 10 {
            s.receive(
                invitation(&format!("r{i}@c"), "spam@x", InviteKind::Direct),
                now,
            );
        }
        assert_eq!(s.pending().len(), MAX_PENDING);
        assert_eq!(s.pending()[0].room, "r10@c", "the oldest went");
    }

    #[test]
    fn ids_are_short_and_stable() {
        let mut s = Invitations::new();
        let now = Utc::now();
        let e = s.receive(invitation("a@c", "alice@x/r", InviteKind::Direct), now);
        let j = e.to_json();
        assert_eq!(j["event"], "invitation");
        assert_eq!(j["id"], 1);
        assert_eq!(j["room"], "a@c");
        assert_eq!(j["from"], "alice@x/r");
        assert_eq!(j["reason"], "come");
        assert_eq!(j["kind"], "direct");
        assert!(j.get("password").is_none());
        s.receive(invitation("b@c", "bob@x", InviteKind::Legacy), now);
        s.receive(invitation("c@c", "carol@x", InviteKind::Mediated), now);
        assert_eq!(
            s.pending().iter().map(|p| p.id).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        // The same room from the same person again: same id.
        let again = s.receive(invitation("a@c", "alice@x/other", InviteKind::Direct), now);
        assert_eq!(again.to_json()["id"], 1);
        assert_eq!(s.pending().len(), 3);
        assert_eq!(s.get("2").unwrap().room, "b@c");
        assert_eq!(s.get("#3").unwrap().room, "c@c");
        assert!(s.get("9").is_none() && s.get("x").is_none());
        assert_eq!(s.take(2).unwrap().room, "b@c");
        // Ids are never reused.
        let e = s.receive(invitation("d@c", "dave@x", InviteKind::Direct), now);
        assert_eq!(e.to_json()["id"], 4);
        // Joining a room settles its invitation.
        s.forget_joined(&[Event::Joined {
            room: BareJid::new("c@c").unwrap(),
            nick: "me".into(),
            protocol: "muc",
            rejoined: false,
            notices: vec![],
        }]);
        assert_eq!(s.pending().iter().map(|p| p.id).collect::<Vec<_>>(), [1, 4]);
    }

    #[test]
    fn passwords_and_declines() {
        let mut s = Invitations::new();
        let r = BareJid::new("r@c").unwrap();
        s.note_password(&r, Some("pw"));
        assert_eq!(s.password_of(&r), Some("pw"));
        s.note_password(&r, None);
        assert_eq!(s.password_of(&r), None);
        let decline = Decline {
            room: r.clone(),
            from: Jid::new("bob@x").unwrap(),
            reason: None,
        };
        assert_eq!(
            s.declined(decline.clone()),
            None,
            "not a room we invited through"
        );
        s.note_invited_through(&r);
        let e = s.declined(decline).unwrap();
        assert_eq!(
            e.to_json(),
            serde_json::json!({"event":"invitation-declined","room":"r@c","from":"bob@x"})
        );
    }
}
