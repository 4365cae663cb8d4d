//! One type for what the app's loops (the TUI's, the batch runner's, the
//! drain at the end of a run) hand to the [`App`]: the session task's
//! events, the media task's, and the timer's ticks. The session and the
//! media task know nothing of each other; their channels meet here.
//!
//! Keys and script lines are not among them: the TUI and the batch runner
//! turn those into commands themselves ([`App::execute`]).

use tokio::sync::mpsc;

use super::App;
use crate::media::engine::MediaEvent;
use crate::session::SessionEvent;
use crate::store::Event;

/// An event of the app's loop.
// Nearly every event is a session event, carried unboxed as the session's
// channel carries it: boxing it would allocate once more per stanza.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum LoopEvent {
    /// From the session task.
    Session(SessionEvent),
    /// From the media task of a call.
    Media(MediaEvent),
    /// The loop's timer (every 250 ms): command deadlines, focus back-offs.
    Tick,
}

impl LoopEvent {
    /// The session closed the stream at the app's request.
    pub fn is_closed(&self) -> bool {
        matches!(self, LoopEvent::Session(SessionEvent::Closed))
    }
}

impl From<SessionEvent> for LoopEvent {
    fn from(ev: SessionEvent) -> LoopEvent {
        LoopEvent::Session(ev)
    }
}

impl From<MediaEvent> for LoopEvent {
    fn from(ev: MediaEvent) -> LoopEvent {
        LoopEvent::Media(ev)
    }
}

/// One stream of events for the app's loop: the session's and the media
/// task's. It ends when the session's ends.
pub fn merge(
    mut session: mpsc::UnboundedReceiver<SessionEvent>,
    mut media: mpsc::UnboundedReceiver<MediaEvent>,
) -> mpsc::UnboundedReceiver<LoopEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut media_open = true;
        loop {
            tokio::select! {
                ev = session.recv() => match ev {
                    Some(ev) => {
                        if tx.send(LoopEvent::Session(ev)).is_err() {
                            break;
                        }
                    }
                    None => break,
                },
                ev = media.recv(), if media_open => match ev {
                    Some(ev) => {
                        if tx.send(LoopEvent::Media(ev)).is_err() {
                            break;
                        }
                    }
                    None => media_open = false,
                },
            }
        }
    });
    rx
}

impl App {
    /// Takes one event of the loop: updates the store, finishes the
    /// commands it answers. Returns the events to show, in order.
    pub fn on_event(&mut self, ev: LoopEvent) -> Vec<Event> {
        match ev {
            LoopEvent::Session(ev) => self.on_session(ev),
            LoopEvent::Media(ev) => self.on_media(ev),
            LoopEvent::Tick => self.tick(),
        }
    }
}
