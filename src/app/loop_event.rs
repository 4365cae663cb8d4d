//! One type for everything the app's loops (the TUI's, the batch runner's,
//! the drain at the end of a run) wait on: the session task's events, the
//! media task's, the app's next deadline, and the loop's input (the
//! terminal's keys, mouse, pastes and resizes; a script's lines). The
//! session and the media task know nothing of each other; their channels
//! meet here ([`merge`]), and [`LoopEvents`] adds the deadline and the
//! input, so that a loop has one source of events.
//!
//! There is no periodic tick: the loop sets the timer to
//! [`App::next_deadline`] after each event it handled, and with nothing
//! due an idle app sleeps until something comes.
//!
//! The [`App`] takes the session's, the media task's and the deadline's
//! ([`App::on_event`]); the input is the loop's own: the TUI and the batch
//! runner turn it into commands themselves ([`App::execute`]).

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

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
    /// The deadline the loop set came ([`App::next_deadline`]: a command
    /// deadline, a focus back-off): the app's [`App::tick`] is due.
    Tick,
    /// From the terminal: a key, the mouse, a paste, a resize, a focus
    /// change (the TUI).
    Term(crossterm::event::Event),
    /// The terminal could not be read (the TUI says so and goes on).
    TermError(String),
    /// A line of the script (batch), without its line ending.
    Line(String),
    /// The script could not be read further (batch).
    InputError(String),
    /// The input ended: the terminal's event stream, the script's last
    /// line. No input follows.
    InputEnd,
}

impl LoopEvent {
    /// The session closed the stream at the app's request.
    pub fn is_closed(&self) -> bool {
        matches!(self, LoopEvent::Session(SessionEvent::Closed))
    }

    /// The loop's input (keys, lines), which the loop handles itself.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            LoopEvent::Term(_)
                | LoopEvent::TermError(_)
                | LoopEvent::Line(_)
                | LoopEvent::InputError(_)
                | LoopEvent::InputEnd
        )
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

/// The loop's input as events: the terminal's, or a script's lines.
pub type LoopInput<'a> = Pin<Box<dyn Stream<Item = LoopEvent> + Send + 'a>>;

/// The one source of events of a loop: the session's and the media task's
/// (from [`merge`]), the deadline the loop set ([`LoopEvents::set_deadline`],
/// from [`App::next_deadline`]) and the loop's input, in the order they
/// come (none is preferred: a flood of stanzas does not starve the keys).
/// It ends when the session's events end.
///
/// The timer and the input can be paused: the batch runner reads the next
/// line of its script only once a command has its outcome, and minds the
/// app's deadline while a command runs (between commands only a call's:
/// its re-joins after a drop). The end of a run ([`App::drain`])
/// takes the session's and the media task's events alone
/// ([`LoopEvents::app_events`]).
pub struct LoopEvents<'a> {
    events: mpsc::UnboundedReceiver<LoopEvent>,
    /// The session's events have not ended yet.
    open: bool,
    /// When [`LoopEvent::Tick`] comes; none: never.
    deadline: Option<Instant>,
    ticking: bool,
    input: Option<LoopInput<'a>>,
    reading: bool,
}

impl<'a> LoopEvents<'a> {
    /// The session's and the media task's events; no deadline, no input
    /// yet.
    pub fn new(events: mpsc::UnboundedReceiver<LoopEvent>) -> Self {
        LoopEvents {
            events,
            open: true,
            deadline: None,
            ticking: true,
            input: None,
            reading: true,
        }
    }

    /// With the loop's input; when that ends, it should say so with
    /// [`LoopEvent::InputEnd`].
    pub fn with_input(mut self, input: LoopInput<'a>) -> Self {
        self.input = Some(input);
        self
    }

    /// The terminal's events (keys, mouse, pastes, resizes), then
    /// [`LoopEvent::InputEnd`] when it has no more.
    pub fn with_terminal(self, term: crossterm::event::EventStream) -> Self {
        let term = term
            .map(|e| match e {
                Ok(e) => LoopEvent::Term(e),
                Err(e) => LoopEvent::TermError(e.to_string()),
            })
            .chain(futures::stream::once(async { LoopEvent::InputEnd }));
        self.with_input(Box::pin(term))
    }

    /// A script's lines, then [`LoopEvent::InputEnd`] at its end (or
    /// [`LoopEvent::InputError`] if it cannot be read).
    pub fn with_lines<R>(self, input: R) -> Self
    where
        R: tokio::io::AsyncBufRead + Unpin + Send + 'a,
    {
        use tokio::io::AsyncBufReadExt;
        let lines = futures::stream::unfold(Some(input.lines()), |lines| async move {
            let mut lines = lines?;
            match lines.next_line().await {
                Ok(Some(l)) => Some((LoopEvent::Line(l), Some(lines))),
                Ok(None) => Some((LoopEvent::InputEnd, None)),
                Err(e) => Some((LoopEvent::InputError(e.to_string()), None)),
            }
        });
        self.with_input(Box::pin(lines))
    }

    /// Whether the input is read (it is at first).
    pub fn set_reading(&mut self, on: bool) {
        self.reading = on;
    }

    /// Whether the deadline is minded (it is at first). When it is again,
    /// a deadline passed meanwhile comes at once.
    pub fn set_ticking(&mut self, on: bool) {
        self.ticking = on;
    }

    /// When the next [`LoopEvent::Tick`] comes (once; `None`: none). The
    /// loop sets it to [`App::next_deadline`] before it waits.
    pub fn set_deadline(&mut self, at: Option<Instant>) {
        self.deadline = at;
    }

    /// The next event; `None` when the session's events have ended (once;
    /// after that only the deadline and input come), or when nothing is
    /// left that could come.
    pub async fn next(&mut self) -> Option<LoopEvent> {
        loop {
            let reading = self.reading && self.input.is_some();
            let due = self.deadline.filter(|_| self.ticking);
            tokio::select! {
                ev = self.events.recv(), if self.open => {
                    if ev.is_none() {
                        self.open = false;
                    }
                    return ev;
                }
                _ = sleep_until(due), if due.is_some() => {
                    self.deadline = None;
                    return Some(LoopEvent::Tick);
                }
                ev = next_input(&mut self.input), if reading => match ev {
                    Some(ev) => return Some(ev),
                    // The input has ended (and said so): nothing more to read.
                    None => self.input = None,
                },
                else => return None,
            }
        }
    }

    /// A session or media event already queued, without waiting (the
    /// burst a loop handles before it draws or archives).
    pub fn try_next_app(&mut self) -> Option<LoopEvent> {
        self.events.try_recv().ok()
    }

    /// The session's and the media task's events alone, for the end of a
    /// run ([`App::drain`]), when neither input nor ticks are wanted.
    pub fn app_events(&mut self) -> &mut mpsc::UnboundedReceiver<LoopEvent> {
        &mut self.events
    }
}

/// Sleeps until `at`; never, without one (a loop's optional timer).
pub async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The next event of the input; never, when there is none.
async fn next_input(input: &mut Option<LoopInput<'_>>) -> Option<LoopEvent> {
    match input {
        Some(i) => i.next().await,
        None => std::future::pending().await,
    }
}

impl App {
    /// Takes one event of the loop: updates the store, finishes the
    /// commands it answers. Returns the events to show, in order. The
    /// loop's input is the loop's: here it changes nothing.
    pub fn on_event(&mut self, ev: LoopEvent) -> Vec<Event> {
        match ev {
            LoopEvent::Session(ev) => self.on_session(ev),
            LoopEvent::Media(ev) => self.on_media(ev),
            LoopEvent::Tick => self.tick(),
            LoopEvent::Term(_)
            | LoopEvent::TermError(_)
            | LoopEvent::Line(_)
            | LoopEvent::InputError(_)
            | LoopEvent::InputEnd => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_source_lines_only_while_reading_and_the_end_once() {
        let (tx, rx) = mpsc::unbounded_channel();
        let script: &[u8] = b"/first\n/second\n";
        let mut events = LoopEvents::new(rx).with_lines(script);
        events.set_ticking(false);
        events.set_reading(false);
        tx.send(LoopEvent::Session(SessionEvent::Connecting { attempt: 1 }))
            .unwrap();
        // Not reading: the session's event, and no line.
        assert_eq!(
            events.next().await,
            Some(LoopEvent::Session(SessionEvent::Connecting { attempt: 1 }))
        );
        assert_eq!(events.try_next_app(), None);
        events.set_reading(true);
        assert_eq!(events.next().await, Some(LoopEvent::Line("/first".into())));
        assert_eq!(events.next().await, Some(LoopEvent::Line("/second".into())));
        assert_eq!(events.next().await, Some(LoopEvent::InputEnd));
        // The session's end, once; then nothing is left to come.
        drop(tx);
        assert_eq!(events.next().await, None);
        assert_eq!(events.next().await, None);
    }

    #[tokio::test]
    async fn the_deadline_comes_once_and_no_tick_without_one() {
        use std::time::Duration;
        let (_tx, rx) = mpsc::unbounded_channel();
        let mut events = LoopEvents::new(rx);
        // No deadline: nothing comes.
        let quiet = tokio::time::timeout(Duration::from_millis(400), events.next()).await;
        assert!(quiet.is_err(), "{quiet:?}");
        let at = Instant::now() + Duration::from_millis(200);
        events.set_deadline(Some(at));
        assert_eq!(events.next().await, Some(LoopEvent::Tick));
        assert!(Instant::now() >= at);
        // Once: then quiet again until the loop sets another.
        let quiet = tokio::time::timeout(Duration::from_millis(400), events.next()).await;
        assert!(quiet.is_err(), "{quiet:?}");
        // Not minded meanwhile: it comes when minded again.
        events.set_deadline(Some(Instant::now() + Duration::from_millis(50)));
        events.set_ticking(false);
        let quiet = tokio::time::timeout(Duration::from_millis(300), events.next()).await;
        assert!(quiet.is_err(), "{quiet:?}");
        events.set_ticking(true);
        assert_eq!(events.next().await, Some(LoopEvent::Tick));
    }
}
