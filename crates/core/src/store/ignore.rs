//! Whom we ignore (`/ignore`): their messages, corrections and typing are
//! dropped on the way into the store, so no view, event or archive sees
//! them. In a room an occupant is known by their XEP-0421 occupant-id
//! where the room gives one (a new nick does not escape it), else by the
//! real JID the room shows, else by nick.

use std::fmt;

use jid::BareJid;

use super::room::Room;

/// Entries kept at most.
pub const MAX_IGNORED: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IgnoreEntry {
    /// A user everywhere: one-to-one, and in rooms that show real JIDs.
    Jid(BareJid),
    /// An occupant of a room by occupant-id (`nick`: theirs when ignored).
    OccupantId {
        room: BareJid,
        id: String,
        nick: String,
    },
    /// An occupant of a room by nick.
    Nick { room: BareJid, nick: String },
}

impl fmt::Display for IgnoreEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoreEntry::Jid(j) => write!(f, "{j}"),
            IgnoreEntry::OccupantId { room, nick, .. } => {
                write!(f, "{room}/{nick} (by occupant-id)")
            }
            IgnoreEntry::Nick { room, nick } => write!(f, "{room}/{nick}"),
        }
    }
}

impl IgnoreEntry {
    /// What the archive keeps: `jid:J`, `oid:ROOM\tID\tNICK`, `nick:ROOM\tNICK`.
    pub fn to_record(&self) -> String {
        match self {
            IgnoreEntry::Jid(j) => format!("jid:{j}"),
            IgnoreEntry::OccupantId { room, id, nick } => format!("oid:{room}\t{id}\t{nick}"),
            IgnoreEntry::Nick { room, nick } => format!("nick:{room}\t{nick}"),
        }
    }

    pub fn from_record(s: &str) -> Option<IgnoreEntry> {
        let (kind, rest) = s.split_once(':')?;
        let mut parts = rest.split('\t');
        let room = |p: Option<&str>| BareJid::new(p?).ok();
        Some(match kind {
            "jid" => IgnoreEntry::Jid(BareJid::new(rest).ok()?),
            "oid" => IgnoreEntry::OccupantId {
                room: room(parts.next())?,
                id: parts.next()?.to_string(),
                nick: parts.next()?.to_string(),
            },
            "nick" => IgnoreEntry::Nick {
                room: room(parts.next())?,
                nick: parts.next()?.to_string(),
            },
            _ => return None,
        })
    }

    /// The entry for `nick` in `room` as the room shows them now.
    pub fn occupant(room: &Room, nick: &str) -> IgnoreEntry {
        match room
            .occupants
            .get(nick)
            .and_then(|o| o.info.occupant_id.clone())
        {
            Some(id) => IgnoreEntry::OccupantId {
                room: room.jid.clone(),
                id,
                nick: nick.to_string(),
            },
            None => IgnoreEntry::Nick {
                room: room.jid.clone(),
                nick: nick.to_string(),
            },
        }
    }

    /// Whether this entry is about `nick` in `room` (for `/unignore`).
    pub fn names(&self, room: &BareJid, nick: &str) -> bool {
        match self {
            IgnoreEntry::OccupantId {
                room: r, nick: n, ..
            }
            | IgnoreEntry::Nick { room: r, nick: n } => r == room && n == nick,
            IgnoreEntry::Jid(_) => false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Ignores {
    entries: Vec<IgnoreEntry>,
}

impl Ignores {
    pub fn entries(&self) -> &[IgnoreEntry] {
        &self.entries
    }

    /// Adds an entry (once); false when full.
    pub fn add(&mut self, e: IgnoreEntry) -> bool {
        if self.entries.contains(&e) {
            return true;
        }
        if self.entries.len() >= MAX_IGNORED {
            return false;
        }
        self.entries.push(e);
        true
    }

    /// Removes what `keep` refuses; the removed entries.
    pub fn remove(&mut self, gone: impl Fn(&IgnoreEntry) -> bool) -> Vec<IgnoreEntry> {
        let (out, keep): (Vec<_>, Vec<_>) = self.entries.drain(..).partition(|e| gone(e));
        self.entries = keep;
        out
    }

    /// Whether a one-to-one message or notice from `from` is dropped.
    pub fn blocks_jid(&self, from: &BareJid) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e, IgnoreEntry::Jid(j) if j == from))
    }

    /// Whether what `nick` says in `room` is dropped: by their
    /// occupant-id, their real JID or their nick.
    pub fn blocks_occupant(&self, room: &Room, nick: &str) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        let occupant = room.occupants.get(nick);
        let id = occupant.and_then(|o| o.info.occupant_id.as_deref());
        let real = occupant
            .and_then(|o| o.info.jid.as_ref())
            .map(|j| j.to_bare());
        self.entries.iter().any(|e| match e {
            IgnoreEntry::Jid(j) => real.as_ref() == Some(j),
            IgnoreEntry::OccupantId {
                room: r,
                id: i,
                nick: n,
            } => *r == room.jid && (id == Some(i.as_str()) || (id.is_none() && n == nick)),
            IgnoreEntry::Nick { room: r, nick: n } => *r == room.jid && n == nick,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let room = BareJid::new("r@c").unwrap();
        for e in [
            IgnoreEntry::Jid(BareJid::new("spam@evil.example").unwrap()),
            IgnoreEntry::OccupantId {
                room: room.clone(),
                id: "abc==".into(),
                nick: "mal lory".into(),
            },
            IgnoreEntry::Nick {
                room,
                nick: "bob".into(),
            },
        ] {
            assert_eq!(IgnoreEntry::from_record(&e.to_record()), Some(e));
        }
        assert_eq!(IgnoreEntry::from_record("what:ever"), None);
        assert_eq!(IgnoreEntry::from_record("oid:r@c\tonly"), None);
    }

    #[test]
    fn bounded() {
        let mut i = Ignores::default();
        for n in 0..MAX_IGNORED {
            assert!(i.add(IgnoreEntry::Jid(BareJid::new(&format!("u{n}@x")).unwrap())));
        }
        assert!(!i.add(IgnoreEntry::Jid(BareJid::new("one@more").unwrap())));
        assert!(i.add(IgnoreEntry::Jid(BareJid::new("u1@x").unwrap())));
        assert_eq!(i.entries().len(), MAX_IGNORED);
    }
}
