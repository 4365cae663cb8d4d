//! The end of a run: before the stream closes, the requests the app
//! started itself (XEP-0194 publications after a leave, MAM pages, the
//! roster…) get a short time to be answered, so that what the server
//! applied is not reported as failed by the closing session.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use super::{App, LoopEvent};
use crate::session::SessionCmd;
use crate::store::{Connection, Event};

/// How long the app's own requests may still take when a run ends.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How a [`App::drain`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// The session ended meanwhile.
    pub closed: bool,
    /// Requests of our own still unanswered (the deadline passed).
    pub unanswered: usize,
}

impl App {
    /// Requests the app started itself (no command of the user's) that
    /// still wait for their answer.
    pub fn own_pending(&self) -> usize {
        self.pending
            .values()
            .filter(|p| p.command.is_empty())
            .count()
    }

    /// Asks the session to close the stream (it answers with
    /// [`crate::session::SessionEvent::Closed`]). After [`App::drain`].
    pub fn shutdown(&self) {
        self.session().send(SessionCmd::Shutdown);
    }

    /// Handles the loop's events until the app's own requests are answered
    /// (or `within` passes, which it then says with an `error` event);
    /// `show` gets every event on the way. Offline nothing can be
    /// answered: it returns at once. Call it before [`App::shutdown`].
    pub async fn drain(
        &mut self,
        events: &mut UnboundedReceiver<LoopEvent>,
        within: Duration,
        mut show: impl FnMut(&App, Vec<Event>),
    ) -> Drained {
        let deadline = Instant::now() + within;
        loop {
            let unanswered = self.own_pending();
            if unanswered == 0 || self.store.connection != Connection::Online {
                return Drained {
                    closed: false,
                    unanswered: 0,
                };
            }
            if Instant::now() >= deadline {
                let e = Event::error(
                    "remote-server-timeout",
                    Some(format!(
                        "closing with {unanswered} request(s) of our own unanswered after {} s \
                         (e.g. telling contacts that we left a room)",
                        within.as_secs()
                    )),
                );
                show(self, vec![e]);
                return Drained {
                    closed: false,
                    unanswered,
                };
            }
            tokio::select! {
                ev = events.recv() => {
                    let Some(ev) = ev else {
                        return Drained { closed: true, unanswered: 0 };
                    };
                    let closed = ev.is_closed();
                    let mut out = self.on_event(ev);
                    out.extend(self.flush_history());
                    show(self, out);
                    if closed {
                        return Drained { closed: true, unanswered: 0 };
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;
    use crate::session::SessionEvent;

    /// An app online, with the roster asked for (a request of its own);
    /// the tag of that request.
    fn online_with_a_request() -> (App, mpsc::UnboundedReceiver<SessionCmd>, u64) {
        let (mut app, mut cmds) = crate::app::fixtures::online("me@localhost/r");
        while cmds.try_recv().is_ok() {}
        app.fetch_roster();
        let tag = match cmds.try_recv() {
            Ok(SessionCmd::Iq { tag, .. }) => tag,
            other => panic!("{other:?}"),
        };
        assert_eq!(app.own_pending(), 1);
        (app, cmds, tag)
    }

    #[tokio::test]
    async fn the_apps_own_requests_are_answered_before_the_end() {
        let (mut app, _cmds, tag) = online_with_a_request();
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(LoopEvent::Session(SessionEvent::IqResponse {
            tag,
            result: Ok(None),
        }))
        .unwrap();
        let mut shown = Vec::new();
        let d = app
            .drain(&mut rx, Duration::from_secs(5), |_, e| shown.extend(e))
            .await;
        assert_eq!(
            d,
            Drained {
                closed: false,
                unanswered: 0
            }
        );
        assert_eq!(app.own_pending(), 0);
        assert!(!shown.iter().any(|e| matches!(e, Event::Error { .. })));
    }

    #[tokio::test]
    async fn past_the_deadline_it_says_so() {
        let (mut app, _cmds, _) = online_with_a_request();
        let (_tx, mut rx) = mpsc::unbounded_channel();
        let mut shown = Vec::new();
        let d = app
            .drain(&mut rx, Duration::from_millis(50), |_, e| shown.extend(e))
            .await;
        assert_eq!(d.unanswered, 1);
        let text = shown[0].to_json()["text"].to_string();
        assert!(
            text.contains("1 request(s) of our own unanswered"),
            "{text}"
        );
    }
}
