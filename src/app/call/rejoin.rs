//! A conference call survives a network drop: when our sending session
//! stays disconnected ([`REJOIN_AFTER`]), fails (ICE failed), or the
//! connection to the server came back without resumption (XEP-0198: the
//! server told the conference we were gone), the call re-joins the
//! conference cleanly — every session of the call is terminated
//! (`failed-transport`), our directed presence goes out again, and a new
//! sending session starts (the conference then forwards the streams
//! anew). The call stays the same call in the store, `reconnecting` until
//! the new session is `connected`. At most [`MAX_ATTEMPTS`] re-joins, each
//! given [`ATTEMPT_TIMEOUT`] to connect; then the call ends with a reason
//! that says so. A server connection that does not come back within
//! [`OFFLINE_LIMIT`] ends the call too.
//!
//! One-to-one calls are not re-joined: a drop shows `reconnecting` while
//! ICE tries, and the call goes on if it comes back before ICE fails;
//! a failed session ends the call.
//!
//! Why no ICE restart: neither the testbed SFU nor our media layer
//! (`media::rtc`) renegotiates an established peer connection, and
//! XEP-0521 conferences do not define one; a re-join uses only what every
//! conference already does (a participant calling again replaces its old
//! session).

use std::time::Duration;

use tokio::time::Instant;

use chrono::Utc;
use xmpp_parsers::presence::Type as PresenceType;

use super::{App, MediaCmd, Reason, Signal, jingle};
use crate::store::{Connection, Event};

/// How long our session may stay disconnected (ICE consent lost) before
/// the call re-joins rather than waits for ICE to fail (webrtc-rs: 25 s
/// without an answer) — a drop ICE recovers from by itself is shorter.
pub(super) const REJOIN_AFTER: Duration = Duration::from_secs(8);
/// How long one re-join may take to connect before the next. ICE gives
/// up on a candidate pair after 7 unanswered checks (webrtc-rs: ~1.5 s),
/// so a re-join made while the network is still down cannot connect when
/// it comes back: the next one does.
pub(super) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(8);
/// Re-joins before the call ends (counted since it was last connected):
/// with [`REJOIN_AFTER`], a call waits about 70 s for its network.
pub(super) const MAX_ATTEMPTS: u32 = 8;
/// How long the call waits for the server connection to come back.
pub(super) const OFFLINE_LIMIT: Duration = Duration::from_secs(60);

/// Where a drop of the call stands.
#[derive(Debug, Clone, Default)]
pub(super) struct Recovery {
    /// Our session lost its connection then (ICE disconnected).
    disconnected: Option<Instant>,
    /// Re-joins since the call was last connected.
    attempts: u32,
    /// The running re-join must connect by then.
    attempt_deadline: Option<Instant>,
    /// The connection to the server was lost then.
    offline: Option<Instant>,
    /// Our sending session is connected (ICE + DTLS) now.
    media_up: bool,
}

impl App {
    /// Whether the call is a conference call that has been connected (the
    /// ones a drop re-joins).
    fn rejoinable(&self) -> bool {
        self.call.direct.is_none()
            && self
                .store
                .calls
                .current
                .as_ref()
                .is_some_and(|c| !c.direct && c.connected_at.is_some())
    }

    /// Our sending session is connected: the drop, if any, is over.
    pub(super) fn call_media_up(&mut self) {
        let offline = self.call.recovery.offline;
        self.call.recovery = Recovery {
            media_up: true,
            offline,
            ..Recovery::default()
        };
    }

    /// Our sending session lost its connection: the call is reconnecting;
    /// a re-join is due if it does not come back by itself.
    pub(super) fn call_media_down(&mut self) -> Vec<Event> {
        // A one-to-one call waits for ICE: it comes back, or fails.
        let rejoinable = self.rejoinable();
        let r = &mut self.call.recovery;
        r.media_up = false;
        if rejoinable && r.attempt_deadline.is_none() {
            r.disconnected.get_or_insert_with(Instant::now);
        }
        self.store.calls.reconnecting()
    }

    /// Our sending session failed (`why`): a re-join, if the call is one
    /// that can (`None`: it cannot; the caller ends the call).
    pub(super) fn call_media_failed(&mut self, why: &str) -> Option<Vec<Event>> {
        if !self.rejoinable() {
            return None;
        }
        self.call.recovery.media_up = false;
        if self.store.connection != Connection::Online {
            // Re-joined when the server connection is back.
            self.call.recovery.disconnected = None;
            self.call.recovery.attempt_deadline = None;
            return Some(self.store.calls.reconnecting());
        }
        Some(self.rejoin(why))
    }

    /// The connection to the server is lost during a conference call: the
    /// call waits for it (`None`: not such a call; the caller ends it).
    pub(super) fn call_offline(&mut self) -> Option<Vec<Event>> {
        if !self.rejoinable() {
            return None;
        }
        let r = &mut self.call.recovery;
        if r.offline.is_some() {
            return Some(Vec::new());
        }
        r.offline = Some(Instant::now());
        Some(self.store.calls.reconnecting())
    }

    /// The connection to the server is back: resumed (the conference
    /// never saw us go; the call goes on, connected if its media is), or
    /// a new stream (`resumed` false: the server told the conference we
    /// were gone): the call re-joins.
    pub(in crate::app) fn call_back_online(&mut self, resumed: bool) -> Vec<Event> {
        if self.call.recovery.offline.take().is_none() || self.store.calls.current.is_none() {
            return Vec::new();
        }
        if !resumed {
            return self.rejoin("the connection to the server came back without resumption");
        }
        if self.call.recovery.media_up {
            self.store.calls.connected(Utc::now())
        } else if self.call.recovery.disconnected.is_none()
            && self.call.recovery.attempt_deadline.is_none()
        {
            // Our session failed while offline: re-joined now.
            self.rejoin("our connection to the conference failed")
        } else {
            Vec::new()
        }
    }

    /// When a call's drop has something to do ([`App::tick`] does it):
    /// a loop minds it even with no command running.
    pub fn call_deadline(&self) -> Option<Instant> {
        self.rejoin_deadline()
    }

    /// When [`App::rejoin_due`] has something to do.
    pub(in crate::app) fn rejoin_deadline(&self) -> Option<Instant> {
        let r = &self.call.recovery;
        if let Some(t) = r.offline {
            // Nothing can be signalled until the server is back.
            return Some(t + OFFLINE_LIMIT);
        }
        [r.disconnected.map(|t| t + REJOIN_AFTER), r.attempt_deadline]
            .into_iter()
            .flatten()
            .min()
    }

    /// A drop that lasted too long: re-join, or end the call.
    pub(in crate::app) fn rejoin_due(&mut self, now: Instant) -> Vec<Event> {
        if self.store.calls.current.is_none() {
            self.call.recovery = Recovery::default();
            return Vec::new();
        }
        let r = self.call.recovery.clone();
        if r.offline.is_some_and(|t| t + OFFLINE_LIMIT <= now) {
            self.call.recovery = Recovery::default();
            return self.end_call(
                Reason::ConnectivityError,
                &format!(
                    "the connection to the server was lost and did not come back within {} s",
                    OFFLINE_LIMIT.as_secs()
                ),
            );
        }
        if r.offline.is_some() {
            // Nothing can be signalled until the server is back.
            return Vec::new();
        }
        if r.disconnected.is_some_and(|t| t + REJOIN_AFTER <= now) {
            return self.rejoin(&format!(
                "our connection to the conference was lost for {} s",
                REJOIN_AFTER.as_secs()
            ));
        }
        if r.attempt_deadline.is_some_and(|t| t <= now) {
            return self.rejoin(&format!(
                "the re-join did not connect within {} s",
                ATTEMPT_TIMEOUT.as_secs()
            ));
        }
        Vec::new()
    }

    /// Re-joins the conference (see the module docs), or ends the call
    /// after [`MAX_ATTEMPTS`].
    fn rejoin(&mut self, why: &str) -> Vec<Event> {
        let Some(jid) = self.store.calls.current.as_ref().map(|c| c.jid.clone()) else {
            return Vec::new();
        };
        let Some(own) = self.own_jid() else {
            return Vec::new();
        };
        let attempt = self.call.recovery.attempts + 1;
        if attempt > MAX_ATTEMPTS {
            self.call.recovery = Recovery::default();
            return self.end_call(
                Reason::FailedTransport,
                &format!("the call could not be re-joined ({MAX_ATTEMPTS} attempts): {why}"),
            );
        }
        // Every session of the call is over, at both ends.
        let sessions: Vec<(String, Signal)> = self.call.sessions.drain().collect();
        for (sid, s) in sessions {
            if s.signalled {
                self.quiet_iq(
                    s.peer,
                    jingle::session_terminate(
                        &sid,
                        Reason::FailedTransport,
                        Some("re-joining after a network drop"),
                    ),
                );
            }
            self.media(MediaCmd::Close { sid });
        }
        let sid = self.new_sid();
        let events = self.store.calls.rejoining(
            sid.clone(),
            format!("re-joining (attempt {attempt} of {MAX_ATTEMPTS}): {why}"),
        );
        self.call
            .sessions
            .insert(sid.clone(), Signal::our_offer(jid.clone().into(), own));
        self.call.recovery = Recovery {
            attempts: attempt,
            attempt_deadline: Some(Instant::now() + ATTEMPT_TIMEOUT),
            ..Recovery::default()
        };
        // After a new stream the server has told the conference we left.
        self.call_presence(&jid, PresenceType::None);
        self.media(MediaCmd::StartSend { sid });
        events
    }
}

#[cfg(test)]
mod tests;
