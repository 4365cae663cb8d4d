//! Our groupchat messages a lost stream left unacknowledged
//! (XEP-0198, [`SessionEvent::Unconfirmed`](crate::session::SessionEvent)):
//! they may or may not have reached the room, so they are never sent
//! blindly (a room must not see one twice). The room's catch-up decides:
//! one found in the room's window or among the archive's results (by our
//! id, the origin-id the room reflects) arrived; one not found once the
//! catch-up is complete is sent again, once. A room that keeps no archive,
//! or a catch-up that stopped short, cannot tell: the message is reported
//! failed (an `error` event with its id), never dropped silently.

use std::collections::HashMap;

use jid::BareJid;

use crate::app::App;
use crate::protocol::message::origin_id_of;
use crate::session::{SessionCmd, Tag};
use crate::store::Event;
use xmpp_parsers::message::Message;

/// Per room, the messages waiting for the catch-up's verdict.
#[derive(Debug, Default)]
pub(crate) struct Unconfirmed(HashMap<BareJid, Vec<(Tag, String, Message)>>);

impl App {
    /// The session's list for `room`: held until the room's catch-up ends
    /// (a room not known to archive: failed now).
    pub(in crate::app) fn on_unconfirmed(
        &mut self,
        room: BareJid,
        messages: Vec<(Tag, Message)>,
    ) -> Vec<Event> {
        let held: Vec<(Tag, String, Message)> = messages
            .into_iter()
            .map(|(tag, m)| (tag, origin_id_of(&m).unwrap_or_default(), m))
            .collect();
        if !self.catchup.mam_rooms.contains(&room) {
            return self.unconfirmed_failed(
                &room,
                held,
                "the room keeps no archive to check it against",
            );
        }
        let (arrived, held): (Vec<_>, Vec<_>) = held
            .into_iter()
            .partition(|(_, id, _)| self.in_window(&room, id));
        if !held.is_empty() {
            // The room's catch-up decides (found: ok; else written again,
            // or an error): their commands wait for it, not for the
            // outcome window that started with the reconnection.
            let until = tokio::time::Instant::now() + crate::app::outcomes::OFFLINE_GRACE;
            for (tag, _, _) in &held {
                if let Some(p) = self.pending.get_mut(tag) {
                    p.deadline = Some(until);
                }
            }
            self.catchup
                .unconfirmed
                .0
                .entry(room)
                .or_default()
                .extend(held);
        }
        arrived
            .into_iter()
            .filter_map(|(tag, _, _)| self.arrived(tag))
            .collect()
    }

    /// An archive result of `room` with our `id`: that message arrived
    /// (its command, if it still waits for the echo the cut took, is done).
    pub(in crate::app) fn unconfirmed_seen(
        &mut self,
        room: &BareJid,
        id: Option<&str>,
    ) -> Vec<Event> {
        let Some(id) = id else {
            return Vec::new();
        };
        let Some(v) = self.catchup.unconfirmed.0.get_mut(room) else {
            return Vec::new();
        };
        let (arrived, kept): (Vec<_>, Vec<_>) = v.drain(..).partition(|(_, i, _)| i == id);
        *v = kept;
        arrived
            .into_iter()
            .filter_map(|(tag, _, _)| self.arrived(tag))
            .collect()
    }

    /// The room's catch-up ended (`complete` or not): what was not found
    /// is sent again, or failed when the archive could not say.
    pub(in crate::app) fn unconfirmed_settle(
        &mut self,
        room: &BareJid,
        complete: bool,
    ) -> Vec<Event> {
        let Some(held) = self.catchup.unconfirmed.0.remove(room) else {
            return Vec::new();
        };
        let (arrived, held): (Vec<_>, Vec<_>) = held
            .into_iter()
            .partition(|(_, id, _)| self.in_window(room, id));
        let mut events: Vec<Event> = arrived
            .into_iter()
            .filter_map(|(tag, _, _)| self.arrived(tag))
            .collect();
        if !complete {
            events.extend(self.unconfirmed_failed(
                room,
                held,
                "the room's archive catch-up did not complete",
            ));
            return events;
        }
        for (tag, _, m) in held {
            self.session.send(SessionCmd::Message {
                message: Box::new(m),
                room: Some(room.clone()),
                tag,
            });
        }
        events
    }

    /// A message found in the room: its command, if it still waits (for
    /// an echo the cut took), is done.
    fn arrived(&mut self, tag: Tag) -> Option<Event> {
        let p = self.pending.remove(&tag)?;
        (!p.command.is_empty()).then_some(Event::Ok { command: p.command })
    }

    fn in_window(&self, room: &BareJid, id: &str) -> bool {
        !id.is_empty()
            && self
                .store
                .room(room)
                .is_some_and(|r| r.messages.iter().any(|m| m.id.as_deref() == Some(id)))
    }

    fn unconfirmed_failed(
        &mut self,
        room: &BareJid,
        held: Vec<(Tag, String, Message)>,
        why: &str,
    ) -> Vec<Event> {
        held.into_iter()
            .map(|(tag, id, _)| {
                let command = self.pending.remove(&tag).map(|p| p.command);
                Event::Error {
                    command: command.filter(|c| !c.is_empty()),
                    room: Some(room.clone()),
                    condition: "undefined-condition".into(),
                    text: Some(format!(
                        "a message to {room} may not have arrived: the connection was lost \
                         before the server acknowledged it, and {why}; it was not sent again"
                    )),
                    message_id: (!id.is_empty()).then_some(id),
                }
            })
            .collect()
    }
}
