//! XEP-0198 in the session task: the server's `<r/>` answered and its
//! `<a/>` taken, our `<r/>` on a budget (`sm.rs` counts), the ack
//! deadline, and what a lost stream leaves: resumed, the rest written
//! again; not resumed, one-to-one messages written again once on the new
//! stream and groupchat messages handed to the app
//! ([`SessionEvent::Unconfirmed`]), which sends again only those the
//! room's catch-up does not bring back.

use std::collections::BTreeMap;

use jid::BareJid;
use tokio::time::Instant;
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::XmppStreamElement;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::presence::Presence;
use xmpp_parsers::sm::{A, Nonza, R};

use super::{Stream, Task};
use crate::sm::{Sm, Unacked};
use crate::{SessionError, SessionEvent, Tag};
use confab_proto::{Incoming, disco, muc};

/// What the app asked for while a lost stream waited to be resumed: done
/// on the resumed stream (a new stream does it anyway: initial presence,
/// rejoins of the rooms we are in).
#[derive(Debug, Default)]
pub(super) struct ResumeTodo {
    /// Rooms entered meanwhile.
    pub(super) joins: Vec<BareJid>,
    /// Rooms left meanwhile: (room, nick, reason).
    pub(super) leaves: Vec<(BareJid, String, Option<String>)>,
    /// Our status or a nick changed meanwhile.
    pub(super) presence: bool,
}

impl Task {
    /// A stream management nonza from the server.
    pub(super) async fn on_sm(
        &mut self,
        n: Nonza,
        stream: &mut Stream,
    ) -> Result<(), SessionError> {
        let Some(sm) = stream.sm.as_mut() else {
            // Not enabled: nothing to answer or count.
            return Ok(());
        };
        match n {
            Nonza::Req(_) => {
                let a = Nonza::Ack(A::new(sm.inbound()));
                Self::send_element(stream, &XmppStreamElement::SM(a)).await
            }
            Nonza::Ack(a) => match sm.acked(a.h) {
                Ok(_) => Ok(()),
                Err(e) => {
                    // A server that acknowledges what we never sent cannot
                    // be trusted with a resumption either.
                    sm.forbid_resume();
                    Err(e.into())
                }
            },
            // Answers to requests we did not make now: ignored.
            _ => Ok(()),
        }
    }

    /// Our `<r/>` when the budget says so (after writes and on the tick).
    pub(super) async fn request_ack(stream: &mut Stream) -> Result<(), SessionError> {
        let now = Instant::now();
        if stream.sm.as_ref().is_some_and(|sm| sm.wants_request(now)) {
            Self::send_element(stream, &XmppStreamElement::SM(Nonza::Req(R))).await?;
            if let Some(sm) = stream.sm.as_mut() {
                sm.requested(now);
            }
        }
        Ok(())
    }

    /// An `<r/>` now (unless one waits for its `<a/>`), whatever the
    /// budget: with the keep-alive ping, so that both answers come back
    /// together (one wake-up, not two a second apart) and the ack
    /// deadline watches the link.
    pub(super) async fn request_ack_now(stream: &mut Stream) -> Result<(), SessionError> {
        if stream.sm.as_ref().is_some_and(|sm| !sm.awaiting_ack()) {
            Self::send_element(stream, &XmppStreamElement::SM(Nonza::Req(R))).await?;
            if let Some(sm) = stream.sm.as_mut() {
                sm.requested(Instant::now());
            }
        }
        Ok(())
    }

    /// When a deadline came (`deadlines.rs`): an unanswered `<r/>` past
    /// the deadline means a dead connection (a cut without FIN); else
    /// maybe a request.
    pub(super) async fn sm_tick(stream: &mut Stream) -> Result<(), SessionError> {
        if let Some(sm) = &stream.sm {
            sm.overdue(Instant::now(), stream.ack_timeout)?;
        }
        Self::request_ack(stream).await
    }

    /// A stanza came in (read or not: the server counted it).
    pub(super) fn count_received(stream: &mut Stream, n: usize) {
        if let Some(sm) = stream.sm.as_mut() {
            for _ in 0..n {
                sm.received();
            }
        }
    }

    /// The connection ended with `sm` (if any): kept for a resumption when
    /// the server allows one, else the stream is over.
    pub(super) fn stream_lost(&mut self, sm: Option<Sm>) {
        match sm {
            Some(mut sm) if sm.resumable() => {
                sm.lost(Instant::now());
                self.sm = Some(sm);
            }
            other => self.stream_over(other),
        }
    }

    /// The stream will not be resumed: IQs in flight fail, rooms need a
    /// rejoin, what the server did not acknowledge waits for the next
    /// stream.
    pub(super) fn stream_over(&mut self, sm: Option<Sm>) {
        self.connection_lost();
        // The new stream sends presence and joins anew.
        self.resume_todo = ResumeTodo::default();
        if let Some(sm) = sm {
            self.unacked.extend(sm.into_unacked());
        }
    }

    /// After `<resumed/>`: what the server had not acknowledged is written
    /// again, then what waited meanwhile (rooms are still joined).
    pub(super) async fn after_resume(
        &mut self,
        stream: &mut Stream,
        rest: Vec<Unacked>,
    ) -> Result<(), SessionError> {
        let mut rest = rest.into_iter();
        while let Some(u) = rest.next() {
            if let Err(e) = Self::write_tagged(stream, u.stanza, u.tag).await {
                // Not written: kept as unacknowledged for the next try
                // (that one already is).
                if let Some(sm) = stream.sm.as_mut() {
                    sm.requeue(rest);
                }
                return Err(e);
            }
            if let Some(tag) = u.tag {
                self.emit(SessionEvent::Sent { tag });
            }
        }
        self.resume_todo_now(stream).await?;
        self.flush_outbox(stream).await?;
        let rooms: Vec<BareJid> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.joined && !r.pending.is_empty())
            .map(|(j, _)| j.clone())
            .collect();
        for room in rooms {
            self.flush_room(&room, stream).await?;
        }
        Ok(())
    }

    /// What was asked for while the stream waited: leaves, our presence
    /// (status, nicks) everywhere, joins.
    async fn resume_todo_now(&mut self, stream: &mut Stream) -> Result<(), SessionError> {
        let todo = std::mem::take(&mut self.resume_todo);
        for (room, nick, reason) in todo.leaves {
            if let Ok(p) = muc::leave(&room, &nick, reason.as_deref()) {
                Self::write(stream, p.into()).await?;
            }
        }
        if todo.presence {
            let mut p = muc::status_presence(None, self.show, self.status.as_deref());
            p.payloads.push(disco::caps());
            Self::write(stream, p.into()).await?;
            let rooms: Vec<Presence> = self
                .rooms
                .iter()
                .filter(|(_, r)| r.joined && !r.plain)
                .filter_map(|(j, r)| {
                    muc::occupant_presence(j, &r.nick, r.show, r.status.as_deref()).ok()
                })
                .collect();
            for p in rooms {
                Self::write(stream, p.into()).await?;
            }
        }
        for room in todo.joins {
            let Some(r) = self.rooms.get(&room).filter(|r| !r.joined) else {
                continue;
            };
            match Self::join_presence(&room, r) {
                Ok(p) => Self::write(stream, p.into()).await?,
                Err(e) => {
                    self.rooms.remove(&room);
                    self.emit(SessionEvent::Incoming(Incoming::MucPresenceError {
                        room,
                        nick: None,
                        error: e,
                    }));
                }
            }
        }
        Ok(())
    }

    /// On a new stream after one that was not resumed: one-to-one
    /// messages are written again once; groupchat messages go to the app
    /// ([`SessionEvent::Unconfirmed`]); presences and IQs are not (the
    /// new stream sends presences anew, the IQs were failed).
    pub(super) async fn after_new_stream(
        &mut self,
        stream: &mut Stream,
    ) -> Result<(), SessionError> {
        let old = std::mem::take(&mut self.unacked);
        let mut rooms: BTreeMap<BareJid, Vec<(Tag, Message)>> = BTreeMap::new();
        let mut iter = old.into_iter();
        while let Some(u) = iter.next() {
            let Stanza::Message(m) = u.stanza else {
                continue;
            };
            if m.type_ == MessageType::Groupchat {
                if let (Some(room), Some(tag)) = (u.room, u.tag) {
                    rooms.entry(room).or_default().push((tag, m));
                }
                continue;
            }
            if let Err(e) = Self::write_tagged(stream, m.clone().into(), u.tag).await {
                // Still not out: kept for the stream after this one (under
                // XEP-0198 it already waits among the unacknowledged).
                if stream.sm.is_none() {
                    self.unacked.push(Unacked {
                        stanza: m.into(),
                        tag: u.tag,
                        room: None,
                    });
                }
                self.unacked.extend(iter);
                return Err(e);
            }
            if let Some(tag) = u.tag {
                self.emit(SessionEvent::Sent { tag });
            }
        }
        for (room, messages) in rooms {
            self.emit(SessionEvent::Unconfirmed { room, messages });
        }
        Ok(())
    }
}
