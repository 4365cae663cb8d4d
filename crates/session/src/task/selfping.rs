//! XEP-0410 MUC self-ping in the session task: after a silence from a
//! room we ping our own occupant JID there; an answer that says the room
//! no longer has us makes the session rejoin (and the app hear of it as
//! [`Incoming::MucDropped`]). Also the MAM flag of rooms.

use std::time::Duration;

use jid::{BareJid, Jid};
use tokio::time::Instant;
use tokio_xmpp::Stanza;
use xmpp_parsers::iq::Iq;

use super::{Stream, Task};
use crate::{SessionError, SessionEvent};
use confab_proto::selfping::{self, SelfPing};
use confab_proto::{ErrorInfo, Incoming, muc};

/// How long a self-ping may go unanswered (no decision then: the stream's
/// own keep-alive finds dead connections).
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

impl Task {
    /// [`crate::SessionCmd::CatchUpByMam`].
    pub(super) fn catch_up_by_mam(&mut self, room: BareJid, mam: bool) {
        if let Some(r) = self.rooms.get_mut(&room) {
            r.mam = mam;
        }
        if mam {
            self.mam_rooms.insert(room);
        } else {
            self.mam_rooms.remove(&room);
        }
    }

    /// Notes that a room (the bare JID of the sender) spoke.
    pub(super) fn heard_from(&mut self, s: &Stanza) {
        let from = match s {
            Stanza::Iq(iq) => match iq {
                Iq::Get { from, .. }
                | Iq::Set { from, .. }
                | Iq::Result { from, .. }
                | Iq::Error { from, .. } => from.as_ref(),
            },
            Stanza::Message(m) => m.from.as_ref(),
            Stanza::Presence(p) => p.from.as_ref(),
        };
        if let Some(r) = from.and_then(|f| self.rooms.get_mut(&confab_proto::bare(f))) {
            r.heard = Instant::now();
        }
    }

    /// The joined rooms to ping now (none in flight): those quiet for the
    /// configured time and, with them, those quiet for three quarters of
    /// it, so that the quiet rooms' pings fall together (one wake-up for
    /// all, not one per room).
    pub(super) fn self_pings_due(&self, now: Instant) -> Vec<(BareJid, String)> {
        let quiet = self.params.self_ping;
        let silent = |r: &super::RoomJoin, d| r.joined && now.duration_since(r.heard) >= d;
        let idle: Vec<(&BareJid, &super::RoomJoin)> = self
            .rooms
            .iter()
            .filter(|(j, _)| !self.self_pings.values().any(|(room, _, _)| room == *j))
            .collect();
        if !idle.iter().any(|(_, r)| silent(r, quiet)) {
            return Vec::new();
        }
        idle.into_iter()
            .filter(|(_, r)| silent(r, quiet * 3 / 4))
            .map(|(j, r)| (j.clone(), r.nick.clone()))
            .collect()
    }

    /// Pings ourselves in the joined rooms that have been quiet for the
    /// configured time ([`Task::self_pings_due`]).
    pub(super) async fn self_ping_rooms(
        &mut self,
        stream: &mut Stream,
    ) -> Result<(), SessionError> {
        let now = Instant::now();
        // Unanswered pings: no decision, try again after another silence.
        self.self_pings
            .retain(|_, (_, _, deadline)| *deadline > now);
        let due = self.self_pings_due(now);
        for (room, nick) in due {
            let Ok(to) = muc::occupant_jid(&room, &nick) else {
                // Not pingable: not due again before another silence
                // (the task's timer must not fire over and over).
                if let Some(r) = self.rooms.get_mut(&room) {
                    r.heard = now;
                }
                continue;
            };
            let id = self.new_id("selfping");
            self.self_pings
                .insert(id.clone(), (room.clone(), nick, now + ANSWER_WITHIN));
            if let Some(r) = self.rooms.get_mut(&room) {
                // The next ping only after another silence.
                r.heard = now;
            }
            let iq = Iq::Get {
                from: None,
                to: Some(Jid::from(to)),
                id,
                payload: selfping::ping(),
            };
            Self::write(stream, iq.into()).await?;
        }
        Ok(())
    }

    /// The answer to a self-ping.
    pub(super) async fn self_ping_answer(
        &mut self,
        iq: &Iq,
        stream: &mut Stream,
    ) -> Result<(), SessionError> {
        let (id, answer) = match iq {
            Iq::Result { id, payload, .. } => (id, Ok(payload.clone())),
            Iq::Error { id, error, .. } => (id, Err(ErrorInfo::from_stanza_error(error))),
            _ => return Ok(()),
        };
        let Some((room, nick, _)) = self.self_pings.remove(id) else {
            return Ok(());
        };
        if selfping::classify(&answer) != SelfPing::Dropped {
            return Ok(());
        }
        let Some(r) = self.rooms.get_mut(&room) else {
            return Ok(());
        };
        // Our nick changed while the ping was under way: it asked about
        // the old one (XEP-0410: item-not-found then means just that).
        if !r.joined || r.nick != nick {
            return Ok(());
        }
        // Silently dropped: join again (messages wait for it).
        r.joined = false;
        r.retries = 0;
        r.retry_at = None;
        let Err(error) = answer else {
            return Ok(());
        };
        let presence = Self::join_presence(&room, r);
        self.emit(SessionEvent::Incoming(Incoming::MucDropped {
            room: room.clone(),
            error,
        }));
        match presence {
            Ok(p) => Self::write(stream, p.into()).await,
            Err(e) => {
                self.emit(SessionEvent::Incoming(Incoming::MucPresenceError {
                    room,
                    nick: None,
                    error: e,
                }));
                Ok(())
            }
        }
    }
}
