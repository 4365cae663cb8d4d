//! XEP-0198 stream management, the pure part: the counters (`h` both
//! ways, wrapping u32), the bounded queue of our stanzas the server has
//! not acknowledged yet, the `<r/>` budget, the ack deadline, and what a
//! resumption needs (the stream id, our full JID, the server's window).
//! No I/O: the session task (`task/life.rs`, `task/incoming.rs`) feeds it
//! what it writes and reads; `connect.rs` resumes with it.

use std::collections::VecDeque;
use std::time::Duration;

use jid::{BareJid, FullJid};
use tokio::time::Instant;
use tokio_xmpp::Stanza;
use xmpp_parsers::sm::Enabled;

use crate::Tag;

pub(crate) mod handshake;

/// Ask for an ack after this many unacknowledged stanzas…
pub const REQUEST_EVERY: u32 = 5;
/// …or this long after the first unacknowledged write, whichever first.
pub const REQUEST_AFTER: Duration = Duration::from_secs(1);
/// At most this many stanzas wait for the server's ack; past it the
/// connection counts as broken (the server acknowledges nothing).
pub const QUEUE_CAP: usize = 5_000;

/// What the app asked for with a stanza still unacknowledged: its tag and
/// the room of a groupchat message (which must never double, `life.rs`).
#[derive(Debug, PartialEq)]
pub struct Unacked {
    pub stanza: Stanza,
    pub tag: Option<Tag>,
    pub room: Option<BareJid>,
}

/// A copy of a stanza (xmpp-parsers' `Stanza` is not `Clone`).
pub fn copy(s: &Stanza) -> Stanza {
    match s {
        Stanza::Iq(i) => Stanza::Iq(i.clone()),
        Stanza::Message(m) => Stanza::Message(m.clone()),
        Stanza::Presence(p) => Stanza::Presence(p.clone()),
    }
}

/// A stream management violation: the stream cannot go on (and is not
/// resumed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmError {
    #[error("the server acknowledged {h} stanzas, but only {sent} were sent")]
    TooHigh { h: u32, sent: u32 },
    #[error("{0} stanzas were sent without an acknowledgement from the server")]
    QueueFull(usize),
    #[error("no acknowledgement from the server within {0} s")]
    AckTimeout(u64),
}

/// The state of one managed stream; kept across a lost connection to
/// resume it.
#[derive(Debug)]
pub struct Sm {
    /// The server allows resuming this stream: its id, its window.
    resume_id: Option<String>,
    max: Option<Duration>,
    /// Our full JID on the stream (a resumed stream keeps it).
    jid: FullJid,
    /// Stanzas we have handled (received), mod 2^32.
    inbound: u32,
    /// The server's last `h`: stanzas it acknowledged, mod 2^32.
    acked: u32,
    /// Stanza number `acked + 1 + i` is `unacked[i]`.
    unacked: VecDeque<Unacked>,
    cap: usize,
    /// Writes since the last `<r/>`, and the time of the first of them.
    unrequested: u32,
    first_unrequested: Option<Instant>,
    /// An `<r/>` waits for its `<a/>` since then.
    request_out: Option<Instant>,
    /// When the connection was lost (the window runs from there).
    lost_at: Option<Instant>,
}

impl Sm {
    /// After `<enabled/>` on a stream bound to `jid`.
    pub fn enabled(enabled: &Enabled, jid: FullJid) -> Sm {
        Sm::with_cap(enabled, jid, QUEUE_CAP)
    }

    pub fn with_cap(enabled: &Enabled, jid: FullJid, cap: usize) -> Sm {
        Sm {
            resume_id: enabled
                .resume
                .then(|| enabled.id.as_ref().map(|i| i.0.clone()))
                .flatten(),
            max: enabled.max.map(|s| Duration::from_secs(u64::from(s))),
            jid,
            inbound: 0,
            acked: 0,
            unacked: VecDeque::new(),
            cap,
            unrequested: 0,
            first_unrequested: None,
            request_out: None,
            lost_at: None,
        }
    }

    pub fn jid(&self) -> &FullJid {
        &self.jid
    }

    pub fn resumable(&self) -> bool {
        self.resume_id.is_some()
    }

    /// No resumption of this stream (it broke the protocol).
    pub fn forbid_resume(&mut self) {
        self.resume_id = None;
    }

    /// Stanzas we sent, mod 2^32.
    pub fn sent_count(&self) -> u32 {
        self.acked.wrapping_add(self.unacked.len() as u32)
    }

    pub fn inbound(&self) -> u32 {
        self.inbound
    }

    pub fn unacked_len(&self) -> usize {
        self.unacked.len()
    }

    /// Whether another stanza may be written: past the cap the stream
    /// counts as broken.
    pub fn check_room(&self) -> Result<(), SmError> {
        if self.unacked.len() >= self.cap {
            return Err(SmError::QueueFull(self.cap));
        }
        Ok(())
    }

    /// A stanza of ours was written (refused past the cap).
    pub fn sent(&mut self, u: Unacked, now: Instant) -> Result<(), SmError> {
        self.check_room()?;
        self.unacked.push_back(u);
        self.unrequested += 1;
        self.first_unrequested.get_or_insert(now);
        Ok(())
    }

    /// Stanzas given back by [`resumed`](Self::resumed) that could not be
    /// written again: kept as unacknowledged (the next resumption's `h`
    /// tells what the server has, and the rest is written then).
    pub fn requeue(&mut self, rest: impl IntoIterator<Item = Unacked>) {
        self.unacked.extend(rest);
    }

    /// Whether to send `<r/>` now: never while one waits for its answer;
    /// after [`REQUEST_EVERY`] writes or [`REQUEST_AFTER`] since the first.
    pub fn wants_request(&self, now: Instant) -> bool {
        self.request_out.is_none()
            && (self.unrequested >= REQUEST_EVERY
                || self
                    .first_unrequested
                    .is_some_and(|t| now.duration_since(t) >= REQUEST_AFTER))
    }

    /// An `<r/>` was written.
    pub fn requested(&mut self, now: Instant) {
        self.request_out = Some(now);
        self.unrequested = 0;
        self.first_unrequested = None;
    }

    /// The server's `<a h/>`: the acknowledged stanzas leave the queue
    /// (how many). An `h` beyond what we sent is an error, and nothing
    /// changes.
    pub fn acked(&mut self, h: u32) -> Result<usize, SmError> {
        let n = h.wrapping_sub(self.acked) as usize;
        if n > self.unacked.len() {
            return Err(SmError::TooHigh {
                h,
                sent: self.sent_count(),
            });
        }
        self.unacked.drain(..n);
        self.acked = h;
        self.request_out = None;
        Ok(n)
    }

    /// An `<r/>` of ours waits for its `<a/>`.
    pub fn awaiting_ack(&self) -> bool {
        self.request_out.is_some()
    }

    /// When the stream has something to do on its own: the ack deadline
    /// of the `<r/>` out ([`Sm::overdue`]), else when the budget wants an
    /// `<r/>` ([`Sm::wants_request`]); `None` while nothing waits for an
    /// ack (an idle stream needs no timer).
    pub fn next_deadline(&self, timeout: Duration) -> Option<Instant> {
        match (self.request_out, self.first_unrequested) {
            (Some(t), _) => Some(t + timeout),
            (None, Some(_)) if self.unrequested >= REQUEST_EVERY => self.first_unrequested,
            (None, Some(t)) => Some(t + REQUEST_AFTER),
            (None, None) => None,
        }
    }

    /// Our `<r/>` went unanswered for `timeout`: the connection is dead.
    pub fn overdue(&self, now: Instant, timeout: Duration) -> Result<(), SmError> {
        match self.request_out {
            Some(t) if now.duration_since(t) >= timeout => {
                Err(SmError::AckTimeout(timeout.as_secs().max(1)))
            }
            _ => Ok(()),
        }
    }

    /// A stanza came in (counted whether we could read it or not).
    pub fn received(&mut self) {
        self.inbound = self.inbound.wrapping_add(1);
    }

    /// The connection is gone; the server's window starts now.
    pub fn lost(&mut self, now: Instant) {
        self.lost_at = Some(now);
        self.request_out = None;
    }

    /// What `<resume/>` needs, while the server's window lasts.
    pub fn resume_token(&self, now: Instant) -> Option<(String, u32)> {
        let id = self.resume_id.as_ref()?;
        if let (Some(max), Some(at)) = (self.max, self.lost_at)
            && now.duration_since(at) >= max
        {
            return None;
        }
        Some((id.clone(), self.inbound))
    }

    /// `<resumed h/>`: the acknowledged stanzas leave the queue; the rest
    /// is given back to be written again (and counted again).
    pub fn resumed(&mut self, h: u32) -> Result<Vec<Unacked>, SmError> {
        self.acked(h)?;
        self.lost_at = None;
        self.unrequested = 0;
        self.first_unrequested = None;
        Ok(self.unacked.drain(..).collect())
    }

    /// The stream is over for good: what the server never acknowledged.
    pub fn into_unacked(self) -> Vec<Unacked> {
        self.unacked.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::message::Message;
    use xmpp_parsers::sm::StreamId;

    fn enabled(resume: bool, max: Option<u32>) -> Enabled {
        Enabled {
            id: Some(StreamId("s1".into())),
            location: None,
            max,
            resume,
        }
    }

    fn jid() -> FullJid {
        FullJid::new("a@b/c").unwrap()
    }

    fn msg(n: u64) -> Unacked {
        Unacked {
            stanza: Message::new(None).into(),
            tag: Some(n),
            room: None,
        }
    }

    fn tags(v: &[Unacked]) -> Vec<Option<Tag>> {
        v.iter().map(|u| u.tag).collect()
    }

    #[test]
    fn acks_drop_the_acknowledged_head() {
        let now = Instant::now();
        let mut sm = Sm::enabled(&enabled(true, None), jid());
        for n in 0..4 {
            sm.sent(msg(n), now).unwrap();
        }
        assert_eq!(sm.acked(3).unwrap(), 3);
        assert_eq!(sm.unacked_len(), 1);
        // The same h again acknowledges nothing new.
        assert_eq!(sm.acked(3).unwrap(), 0);
        assert_eq!(sm.sent_count(), 4);
    }

    #[test]
    fn an_ack_beyond_what_was_sent_is_refused_and_changes_nothing() {
        let now = Instant::now();
        let mut sm = Sm::enabled(&enabled(true, None), jid());
        sm.sent(msg(1), now).unwrap();
        assert_eq!(sm.acked(2), Err(SmError::TooHigh { h: 2, sent: 1 }));
        // A "negative" h (behind what was acknowledged) is also too high.
        sm.acked(1).unwrap();
        assert!(matches!(sm.acked(0), Err(SmError::TooHigh { .. })));
        assert!(matches!(sm.acked(u32::MAX), Err(SmError::TooHigh { .. })));
        assert_eq!(sm.sent_count(), 1);
    }

    #[test]
    fn counters_wrap_around() {
        let now = Instant::now();
        let mut sm = Sm::enabled(&enabled(true, None), jid());
        sm.acked = u32::MAX - 1;
        for n in 0..4 {
            sm.sent(msg(n), now).unwrap();
        }
        assert_eq!(sm.sent_count(), 2);
        assert_eq!(sm.acked(1).unwrap(), 3);
        assert_eq!(tags(&sm.into_unacked()), vec![Some(3)]);
        let mut sm = Sm::enabled(&enabled(true, None), jid());
        sm.inbound = u32::MAX;
        sm.received();
        assert_eq!(sm.inbound(), 0);
    }

    #[test]
    fn the_queue_is_bounded() {
        let now = Instant::now();
        let mut sm = Sm::with_cap(&enabled(true, None), jid(), 2);
        sm.sent(msg(1), now).unwrap();
        sm.sent(msg(2), now).unwrap();
        assert_eq!(sm.sent(msg(3), now), Err(SmError::QueueFull(2)));
        sm.acked(1).unwrap();
        sm.sent(msg(3), now).unwrap();
    }

    #[test]
    fn requests_on_a_budget_of_stanzas_and_time_one_at_a_time() {
        let t0 = Instant::now();
        let mut sm = Sm::enabled(&enabled(true, None), jid());
        assert!(!sm.wants_request(t0));
        sm.sent(msg(1), t0).unwrap();
        assert!(!sm.wants_request(t0));
        assert!(sm.wants_request(t0 + REQUEST_AFTER));
        for n in 2..=REQUEST_EVERY {
            sm.sent(msg(n.into()), t0).unwrap();
        }
        assert!(sm.wants_request(t0));
        sm.requested(t0);
        // One outstanding request at a time.
        for n in 0..10 {
            sm.sent(msg(n), t0).unwrap();
        }
        assert!(!sm.wants_request(t0 + REQUEST_AFTER));
        assert!(
            sm.overdue(t0 + Duration::from_secs(1), Duration::from_secs(2))
                .is_ok()
        );
        assert_eq!(
            sm.overdue(t0 + Duration::from_secs(2), Duration::from_secs(2)),
            Err(SmError::AckTimeout(2))
        );
        sm.acked(3).unwrap();
        assert!(
            sm.overdue(t0 + Duration::from_secs(9), Duration::from_secs(2))
                .is_ok()
        );
        assert!(sm.wants_request(t0));
    }

    #[test]
    fn the_next_deadline_is_the_budget_then_the_ack_and_none_when_idle() {
        let t0 = Instant::now();
        let timeout = Duration::from_secs(15);
        let mut sm = Sm::enabled(&enabled(true, None), jid());
        assert_eq!(sm.next_deadline(timeout), None, "nothing sent: no timer");
        sm.sent(msg(1), t0).unwrap();
        assert_eq!(sm.next_deadline(timeout), Some(t0 + REQUEST_AFTER));
        for n in 2..=REQUEST_EVERY as u64 {
            sm.sent(msg(n), t0 + Duration::from_millis(10)).unwrap();
        }
        // The budget is spent: due now (since the first write).
        assert_eq!(sm.next_deadline(timeout), Some(t0));
        assert!(sm.wants_request(t0));
        let asked = t0 + Duration::from_millis(20);
        sm.requested(asked);
        assert!(sm.awaiting_ack());
        assert_eq!(sm.next_deadline(timeout), Some(asked + timeout));
        assert!(sm.overdue(asked + timeout, timeout).is_err());
        // Acknowledged: idle again.
        sm.acked(REQUEST_EVERY).unwrap();
        assert!(!sm.awaiting_ack());
        assert_eq!(sm.next_deadline(timeout), None);
    }

    #[test]
    fn resumption_within_the_window_resends_the_rest() {
        let t0 = Instant::now();
        let mut sm = Sm::enabled(&enabled(true, Some(60)), jid());
        for n in 0..5 {
            sm.sent(msg(n), t0).unwrap();
        }
        sm.received();
        sm.received();
        sm.lost(t0);
        assert_eq!(
            sm.resume_token(t0 + Duration::from_secs(59)),
            Some(("s1".to_string(), 2))
        );
        assert_eq!(sm.resume_token(t0 + Duration::from_secs(60)), None);
        assert!(sm.resumed(9).is_err(), "h beyond what was sent");
        let rest = sm.resumed(2).unwrap();
        assert_eq!(tags(&rest), vec![Some(2), Some(3), Some(4)]);
        // The stanzas written again are counted again, after h.
        assert_eq!(sm.sent_count(), 2);
    }

    #[test]
    fn not_resumable_without_resume_or_id() {
        let sm = Sm::enabled(&enabled(false, None), jid());
        assert!(!sm.resumable());
        assert_eq!(sm.resume_token(Instant::now()), None);
        let mut e = enabled(true, None);
        e.id = None;
        assert!(!Sm::enabled(&e, jid()).resumable());
        let mut sm = Sm::enabled(&enabled(true, None), jid());
        sm.forbid_resume();
        assert_eq!(sm.resume_token(Instant::now()), None);
    }
}
