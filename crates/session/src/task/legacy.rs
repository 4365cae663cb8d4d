//! Rooms of the older protocols in the session task: groupchat 1.0 rooms
//! (plain join presence; a nick change comes back as unavailable from the
//! old nick and available from the new one, read here as a XEP-0045 nick
//! change) and the plain presence of generic conferencing.

use jid::BareJid;
use xmpp_parsers::presence::Presence;

use super::{Stream, Task};
use crate::{SessionError, SessionEvent, Tag};
use confab_proto::{Incoming, muc, ns};

impl Task {
    /// Marks a room as groupchat 1.0 (before its join).
    pub(super) fn mark_groupchat(&mut self, room: BareJid) {
        if let Some(r) = self.rooms.get_mut(&room) {
            r.plain = true;
        }
        self.plain_rooms.insert(room);
    }

    /// Sends a presence as it is.
    pub(super) async fn send_presence(
        &mut self,
        presence: Presence,
        tag: Tag,
        stream: &mut Stream,
    ) -> Result<(), SessionError> {
        Self::write(stream, presence.into()).await?;
        self.emit(SessionEvent::Sent { tag });
        Ok(())
    }

    /// In a groupchat 1.0 room where we asked for a new nick, our own
    /// unavailable presence is the first half of the change: it becomes a
    /// status 303 presence naming the new nick.
    pub(super) fn groupchat_nick_change(&mut self, inc: Incoming) -> Incoming {
        let Incoming::MucPresence(mut p) = inc else {
            return inc;
        };
        if let Some(r) = self.rooms.get_mut(&p.room)
            && r.plain
            && !p.available
            && !p.has_muc_user
            && p.nick == r.nick
            && let Some(new) = r.nick_to.take()
        {
            p.codes.push(muc::StatusCode::NewNick);
            p.new_nick = Some(new);
        }
        Incoming::MucPresence(p)
    }
}

/// The join presence of a groupchat 1.0 room: without the MUC `<x/>`.
pub(super) fn plain(mut p: Presence) -> Presence {
    p.payloads.retain(|e| !e.is("x", ns::MUC));
    p
}
