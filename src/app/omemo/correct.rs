//! Corrections (XEP-0308) in OMEMO rooms, as Conversations sends them:
//! the new text encrypted like any room message, the `<replace id=…/>`
//! beside the `<encrypted/>` in the clear (the room and every client
//! must see which line it replaces). An incoming one is decrypted as a
//! message of the same occupant (`room/receive.rs`: the sender's device
//! by the occupant's real JID) and then replaces the line only if that
//! occupant wrote it (the store's check, as for plaintext corrections);
//! one that does not decrypt replaces nothing (an error says why).

use jid::BareJid;

use crate::app::{App, Exec};
use crate::protocol::RoomMessage;
use crate::protocol::correction::Correction;
use crate::store::Event;

impl App {
    /// `/correct ROOM TEXT` with OMEMO on: our message `original` now
    /// reads `body`, encrypted to the room's members.
    pub(in crate::app) fn start_omemo_room_correct(
        &mut self,
        text: &str,
        room: BareJid,
        body: String,
        original: String,
    ) -> Result<Exec, Box<Event>> {
        self.omemo_can_send(text)?;
        let mut plan = self.room_plan(text, &room, body, true);
        plan.replaces = Some(original);
        let step = self.next_room_step(plan);
        let tag = self.tag();
        let events = self.follow_step(tag, text.to_string(), step);
        let pending = self.pending.contains_key(&tag).then_some(tag);
        Ok(Exec { events, pending })
    }

    /// An encrypted correction decrypted (`None`: nothing to apply —
    /// it did not decrypt, said in `events`, or it was a replay).
    pub(super) fn omemo_room_correction(
        &mut self,
        mut c: Correction,
        archived: bool,
        events: &mut Vec<Event>,
    ) -> Option<Correction> {
        let Some(enc) = c.encrypted.take() else {
            return Some(c);
        };
        let as_message = RoomMessage {
            room: c.room.clone(),
            nick: c.nick.clone(),
            body: String::new(),
            id: c.id.clone(),
            stanza_id: c.stanza_id.clone(),
            time: c.time,
            delayed: c.delayed,
            occupant_id: None,
            reply: None,
            encrypted: Some(enc),
            e2e: None,
        };
        // An empty fallback: a failure is said, and nothing is shown.
        let m = self.omemo_room_message(as_message, archived, events)?;
        match m.e2e {
            Some(e2e) if e2e.decrypted => {
                c.body = m.body;
                c.e2e = Some(e2e);
                Some(c)
            }
            _ => None,
        }
    }
}
