//! The rejoin registry of the session task: the rooms we are in (or
//! entering), their join presence, what their presences mean for us,
//! refused rejoins tried again, messages that wait for a join.

use std::collections::VecDeque;
use std::time::Duration;

use jid::BareJid;
use tokio::time::Instant;
use xmpp_parsers::presence::Presence;

use super::{RoomJoin, Stream, Task, Track, err, legacy};
use crate::{SessionError, SessionEvent};
use confab_proto::muc::{self, HistoryRequest};
use confab_proto::{ErrorInfo, Incoming, Show};

/// Rejoins refused with these conditions are tried again: after a server
/// restart a room may be new and locked until its first occupant has
/// configured it, or the MUC service may not be up yet.
fn rejoin_retryable(condition: &str) -> bool {
    matches!(
        condition,
        "item-not-found"
            | "service-unavailable"
            | "remote-server-not-found"
            | "remote-server-timeout"
    )
}

const REJOIN_RETRIES: u32 = 5;

impl Task {
    pub(super) fn remember_room(
        &mut self,
        room: BareJid,
        nick: String,
        password: Option<String>,
        history: HistoryRequest,
    ) {
        let show = self.show;
        let status = self.status.clone();
        let mam = self.mam_rooms.contains(&room);
        let plain = self.plain_rooms.contains(&room);
        let entry = self.rooms.entry(room).or_insert_with(|| RoomJoin {
            nick: nick.clone(),
            password: None,
            history: HistoryRequest::Default,
            joined: false,
            last_seen: None,
            show,
            status,
            pending: VecDeque::new(),
            was_joined: false,
            retries: 0,
            retry_at: None,
            mam,
            heard: Instant::now(),
            plain,
            nick_to: None,
            app_rejoins: false,
            error_kick: None,
        });
        entry.nick = nick;
        entry.password = password;
        entry.history = history;
        entry.joined = false;
        entry.plain = plain;
    }

    /// [`SessionCmd::AppRejoins`].
    pub(super) fn app_rejoins(&mut self, room: &BareJid) {
        if let Some(r) = self.rooms.get_mut(room) {
            r.app_rejoins = true;
        }
    }

    pub(super) fn set_status(&mut self, room: Option<&BareJid>, show: Show, text: Option<String>) {
        match room {
            Some(j) => {
                if let Some(r) = self.rooms.get_mut(j) {
                    r.show = show;
                    r.status = text;
                }
            }
            None => {
                self.show = show;
                self.status = text.clone();
                for r in self.rooms.values_mut() {
                    r.show = show;
                    r.status = text.clone();
                }
            }
        }
    }

    pub(super) fn join_presence(room: &BareJid, r: &RoomJoin) -> Result<Presence, ErrorInfo> {
        let history = match (&r.last_seen, &r.history) {
            // MAM fills the gap (the app asks the archive after the join).
            _ if r.mam => HistoryRequest::MaxStanzas(0),
            // After a reconnection: only what we missed.
            (Some(t), _) => HistoryRequest::Since(*t),
            (None, h) => h.clone(),
        };
        let p = muc::join(
            room,
            &r.nick,
            r.password.as_deref(),
            &history,
            r.show,
            r.status.as_deref(),
        )?;
        Ok(if r.plain { legacy::plain(p) } else { p })
    }

    /// Keeps the rejoin registry in step with what the rooms say.
    pub(super) fn track_presence(&mut self, inc: &Incoming) -> Track {
        match inc {
            Incoming::MucPresence(p) => {
                let Some(r) = self.rooms.get_mut(&p.room) else {
                    return Track::Nothing;
                };
                // Our own occupant JID, 110 or not (nicks are unique in a
                // room); a destroyed room ends for us whoever it is about.
                let is_self = p.is_self() || p.nick == r.nick;
                let destroyed = p.destroyed.is_some() && !p.available;
                if !is_self && !destroyed {
                    return Track::Nothing;
                }
                if p.available {
                    r.nick = p.nick.clone();
                    if !r.joined {
                        r.joined = true;
                        r.was_joined = true;
                        r.retries = 0;
                        r.retry_at = None;
                        return Track::Joined(p.room.clone());
                    }
                } else if p.codes.contains(&muc::StatusCode::NewNick) {
                    if let Some(n) = &p.new_nick {
                        r.nick = n.clone();
                    }
                } else if p.codes.contains(&muc::StatusCode::ServiceErrorKick)
                    && r.joined
                    && r.error_kick
                        .is_none_or(|t| t.elapsed() >= Duration::from_secs(60))
                {
                    // 333: stanzas to us could not be delivered (Prosody's
                    // mod_smacks bounces what a closing stream had not
                    // acknowledged) — nothing we did: join again shortly
                    // (messages wait for it), on this stream or the next.
                    r.joined = false;
                    r.retries = 0;
                    r.error_kick = Some(Instant::now());
                    r.retry_at = Some(Instant::now() + Duration::from_millis(500));
                    return Track::Dropped(p.room.clone());
                } else if let Some(gone) = self.rooms.remove(&p.room) {
                    // Kicked, banned, destroyed or left: no rejoin.
                    tracing::info!(room = %p.room, "out of the room");
                    self.fail_pending(gone, "you are no longer in the room");
                }
                Track::Nothing
            }
            Incoming::MucPresenceError { room, error, .. } => {
                let Some(r) = self.rooms.get_mut(room) else {
                    return Track::Nothing;
                };
                if r.joined {
                    r.nick_to = None;
                    return Track::Nothing;
                }
                if r.was_joined && r.retries < REJOIN_RETRIES && rejoin_retryable(&error.condition)
                {
                    let delay = Duration::from_millis(250) * 2u32.pow(r.retries);
                    r.retries += 1;
                    r.retry_at = Some(Instant::now() + delay);
                    return Track::Retrying;
                }
                if let Some(gone) = self.rooms.remove(room) {
                    self.fail_pending(gone, "could not enter the room");
                }
                Track::Nothing
            }
            _ => Track::Nothing,
        }
    }

    /// Sends the join presence again for refused rejoins whose time came.
    pub(super) async fn retry_joins(&mut self, stream: &mut Stream) -> Result<(), SessionError> {
        let now = Instant::now();
        let due: Vec<BareJid> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.retry_at.is_some_and(|t| t <= now))
            .map(|(j, _)| j.clone())
            .collect();
        for room in due {
            let Some(r) = self.rooms.get_mut(&room) else {
                continue;
            };
            r.retry_at = None;
            if let Ok(p) = Self::join_presence(&room, r) {
                Self::write(stream, p.into()).await?;
            }
        }
        Ok(())
    }

    pub(super) fn fail_pending(&self, r: RoomJoin, why: &str) {
        for o in r.pending {
            self.emit(SessionEvent::SendFailed {
                tag: o.tag,
                error: err("recipient-unavailable", why),
            });
        }
    }

    pub(super) async fn flush_room(
        &mut self,
        room: &BareJid,
        stream: &mut Stream,
    ) -> Result<(), SessionError> {
        while let Some(o) = self.rooms.get_mut(room).and_then(|r| r.pending.pop_front()) {
            let tag = o.tag;
            if let Err(e) = Self::write_tagged(stream, o.stanza.clone().into(), Some(tag)).await {
                // Under XEP-0198 it waits among the unacknowledged.
                if stream.sm.is_none()
                    && let Some(r) = self.rooms.get_mut(room)
                {
                    r.pending.push_front(o);
                }
                return Err(e);
            }
            self.emit(SessionEvent::Sent { tag });
        }
        Ok(())
    }
}
