//! When the session task has something to do on its own: no periodic
//! tick, a timer set to the earliest deadline it has — an IQ unanswered,
//! a message waiting too long for the connection, the XEP-0198 `<r/>`
//! budget and ack deadline, a refused rejoin to retry, a quiet room to
//! self-ping. Recomputed after everything the task handles; with none (an
//! idle, acknowledged stream) it sleeps until the socket or the app has
//! something. The stream's keep-alive after a silence is the XML stream's
//! own read timeout (`Timeouts`, `incoming.rs`), a deadline too.

use std::pin::Pin;

use tokio::time::{Instant, Sleep};

use super::{Outgoing, Stream, Task};

/// The one timer of a loop: reset only when its deadline changes, not
/// registered anew for every stanza handled.
pub(super) struct Timer {
    sleep: Pin<Box<Sleep>>,
    at: Option<Instant>,
}

impl Timer {
    pub(super) fn new() -> Timer {
        Timer {
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
            at: None,
        }
    }

    /// Fires at `at` (none: never).
    pub(super) fn set(&mut self, at: Option<Instant>) {
        if at != self.at {
            if let Some(t) = at {
                self.sleep.as_mut().reset(t);
            }
            self.at = at;
        }
    }

    /// Until the deadline set (once; never without one).
    pub(super) async fn fired(&mut self) {
        match self.at {
            Some(_) => {
                self.sleep.as_mut().await;
                self.at = None;
            }
            None => std::future::pending().await,
        }
    }
}

impl Task {
    /// The earliest deadline of the connected stream (`life.rs` sleeps
    /// until it, then runs the checks that are due).
    pub(super) fn next_deadline(&self, stream: &Stream) -> Option<Instant> {
        let sm = stream
            .sm
            .as_ref()
            .and_then(|sm| sm.next_deadline(stream.ack_timeout));
        [
            sm,
            self.next_iq_deadline(),
            self.next_outbox_expiry(),
            self.next_rejoin(),
            self.next_self_ping(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn next_iq_deadline(&self) -> Option<Instant> {
        self.iqs.values().map(|p| p.deadline).min()
    }

    /// When the oldest message waiting for the connection (or for its
    /// room's join) is failed.
    pub(super) fn next_outbox_expiry(&self) -> Option<Instant> {
        let ttl = self.params.outbox_ttl;
        let rooms = self.rooms.values().flat_map(|r| r.pending.iter());
        self.outbox
            .iter()
            .chain(rooms)
            .map(|o: &Outgoing| o.queued + ttl)
            .min()
    }

    fn next_rejoin(&self) -> Option<Instant> {
        self.rooms.values().filter_map(|r| r.retry_at).min()
    }

    /// A joined room's silence running out (a self-ping then), or a ping
    /// in flight given up on (the room may be pinged again after it).
    fn next_self_ping(&self) -> Option<Instant> {
        let quiet = self.params.self_ping;
        let in_flight = self.self_pings.values().map(|(_, _, deadline)| *deadline);
        let rooms = self
            .rooms
            .iter()
            .filter(|(j, r)| r.joined && !self.self_pings.values().any(|(room, _, _)| room == *j))
            .map(|(_, r)| r.heard + quiet);
        in_flight.chain(rooms).min()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jid::BareJid;
    use tokio_xmpp::xmlstream::Timeouts;
    use xmpp_parsers::message::Message;

    use super::super::PendingIq;
    use super::*;
    use crate::connect::ConnectParams;
    use crate::{Secret, SessionParams, TlsMode};
    use confab_proto::muc::HistoryRequest;

    fn task() -> Task {
        let params = SessionParams {
            connect: ConnectParams {
                jid: BareJid::new("me@localhost").unwrap(),
                password: Secret::new("pw".to_string()),
                host: "127.0.0.1".into(),
                port: 5222,
                tls: TlsMode::StartTls,
                discovery: None,
                resource: "r".into(),
                tls_config: crate::tls_config(None).unwrap(),
                timeouts: Timeouts::tight(),
                attempt_timeout: Duration::from_secs(30),
                stream_management: true,
            },
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            outbox_ttl: Duration::from_secs(300),
            self_ping: Duration::from_secs(300),
            ack_timeout: Duration::from_secs(15),
        };
        let (_cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
        let (ev_tx, _ev_rx) = tokio::sync::mpsc::unbounded_channel();
        Task::new(params, cmd_rx, ev_tx)
    }

    fn room(t: &mut Task, name: &str, joined: bool, heard: Instant) -> BareJid {
        let jid = BareJid::new(&format!("{name}@conference.localhost")).unwrap();
        t.remember_room(jid.clone(), "me".into(), None, HistoryRequest::Default);
        let r = t.rooms.get_mut(&jid).unwrap();
        r.joined = joined;
        r.heard = heard;
        jid
    }

    fn due(t: &Task) -> Option<Instant> {
        [
            t.next_iq_deadline(),
            t.next_outbox_expiry(),
            t.next_rejoin(),
            t.next_self_ping(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    #[test]
    fn an_idle_task_has_no_deadline_but_its_rooms_silence() {
        let mut t = task();
        assert_eq!(due(&t), None, "no room, nothing under way: no timer");
        let now = Instant::now();
        let quiet = t.params.self_ping;
        // A room being joined is not pinged; a joined one after its
        // silence.
        room(&mut t, "joining", false, now);
        assert_eq!(due(&t), None);
        let r = room(&mut t, "quiet", true, now);
        assert_eq!(due(&t), Some(now + quiet));
        // A ping in flight: the room waits for it (or for its end).
        let answer_by = now + Duration::from_secs(30);
        t.self_pings
            .insert("p1".into(), (r.clone(), "me".into(), answer_by));
        assert_eq!(due(&t), Some(answer_by));
        t.self_pings.clear();
        // A refused rejoin to retry sooner.
        let retry = now + Duration::from_millis(500);
        t.rooms.get_mut(&r).unwrap().retry_at = Some(retry);
        assert_eq!(due(&t), Some(retry));
    }

    #[tokio::test]
    async fn the_timer_fires_once_at_its_deadline_and_never_without_one() {
        let wait = |ms| Duration::from_millis(ms);
        let mut timer = Timer::new();
        let quiet = tokio::time::timeout(wait(200), timer.fired()).await;
        assert!(quiet.is_err(), "no deadline: never");
        let at = Instant::now() + wait(100);
        timer.set(Some(at));
        timer.fired().await;
        assert!(Instant::now() >= at);
        let quiet = tokio::time::timeout(wait(200), timer.fired()).await;
        assert!(quiet.is_err(), "once");
        // Set again (even to the same moment): it fires again.
        timer.set(Some(at));
        tokio::time::timeout(wait(200), timer.fired())
            .await
            .expect("set again");
        // Moved: the new deadline counts.
        timer.set(Some(Instant::now() + Duration::from_secs(60)));
        timer.set(Some(Instant::now() + wait(50)));
        tokio::time::timeout(wait(500), timer.fired())
            .await
            .expect("moved sooner");
    }

    #[test]
    fn quiet_rooms_are_pinged_together() {
        let mut t = task();
        let now = Instant::now();
        let quiet = t.params.self_ping;
        let a = room(&mut t, "a", true, now - quiet);
        let b = room(&mut t, "b", true, now - quiet * 4 / 5);
        room(&mut t, "c", true, now - quiet / 2);
        room(&mut t, "joining", false, now - quiet);
        // Nothing quiet long enough: no ping, however close.
        assert!(t.self_pings_due(now - quiet / 5).is_empty());
        // One is due: those nearly due come along; the others wait.
        let mut due: Vec<BareJid> = t.self_pings_due(now).into_iter().map(|(j, _)| j).collect();
        due.sort();
        assert_eq!(due, [a.clone(), b]);
        // A room with a ping in flight is not pinged twice.
        t.self_pings.insert("p".into(), (a, "me".into(), now));
        assert!(t.self_pings_due(now).is_empty());
    }

    #[test]
    fn iqs_and_waiting_messages_have_their_deadlines() {
        let mut t = task();
        let now = Instant::now();
        let ttl = t.params.outbox_ttl;
        t.iqs.insert(
            "q1".into(),
            PendingIq {
                tag: 1,
                deadline: now + Duration::from_secs(30),
                to: None,
            },
        );
        assert_eq!(due(&t), Some(now + Duration::from_secs(30)));
        let queued = now - ttl + Duration::from_secs(5);
        let r = room(&mut t, "joining", false, now);
        t.rooms.get_mut(&r).unwrap().pending.push_back(Outgoing {
            stanza: Message::new(None),
            tag: 2,
            room: Some(r.clone()),
            queued,
        });
        assert_eq!(due(&t), Some(queued + ttl));
        t.outbox.push_back(Outgoing {
            stanza: Message::new(None),
            tag: 3,
            room: None,
            queued: queued - Duration::from_secs(1),
        });
        assert_eq!(due(&t), Some(queued + ttl - Duration::from_secs(1)));
    }
}
