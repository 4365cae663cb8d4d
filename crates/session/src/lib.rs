//! **confab-session** — rule: owns the socket and nothing else; speaks
//! `SessionCmd` in and `SessionEvent` out; depends on confab-proto only
//! (never on the store, the media, the app or the terminal).
//!
//! The session task: it owns the XMPP stream. Login, keep-alive,
//! reconnection with backoff, rejoining rooms, IQ tracking with timeouts,
//! and a queue for what is sent while offline.
//!
//! The app talks to it through a [`SessionHandle`] (never blocks) and hears
//! from it through a channel of [`SessionEvent`]s.

pub mod channel_binding;
pub mod connect;
mod error;
mod event;
pub mod guard;
pub mod http;
mod params;
pub mod resolve;
mod sasl;
mod scram;
pub mod sm;
mod task;
pub mod transfer;
pub mod wire;
pub mod xml;

use std::time::Duration;

use tokio::sync::mpsc;

pub use connect::{ConnectError, ConnectParams, TlsSetupError, tls_config};
pub use error::SessionError;
pub use event::{SessionCmd, SessionEvent, Tag};
pub use params::{Secret, TlsMode};
pub use resolve::Discovery;
pub use sm::SmError;
pub use xml::{Tap, XmlDir};

/// Timing of the session (defaults suit a desktop on a normal network).
#[derive(Debug, Clone)]
pub struct SessionParams {
    pub connect: ConnectParams,
    /// First wait before reconnecting; doubles up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// How long a message may wait for the connection before it is
    /// reported as failed.
    pub outbox_ttl: Duration,
    /// Silence from a room after which we ping our own occupant JID
    /// there (XEP-0410) to learn whether the room still has us.
    pub self_ping: Duration,
    /// XEP-0198: an `<r/>` unanswered (or a write not done) for this long
    /// means the connection is dead (a cut without FIN); it is resumed.
    pub ack_timeout: Duration,
}

/// The app's side of the session: sending a command never blocks.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    tx: mpsc::UnboundedSender<SessionCmd>,
}

impl SessionHandle {
    /// A handle with the receiving end given back: for tests and
    /// benchmarks that look at what the app asks of the session.
    pub fn pair() -> (SessionHandle, mpsc::UnboundedReceiver<SessionCmd>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (SessionHandle { tx }, rx)
    }

    /// Queues a command; returns false when the session task has ended.
    pub fn send(&self, cmd: SessionCmd) -> bool {
        self.tx.send(cmd).is_ok()
    }
}

/// Starts the session task on the current tokio runtime.
pub fn spawn(
    params: SessionParams,
) -> (
    SessionHandle,
    mpsc::UnboundedReceiver<SessionEvent>,
    tokio::task::JoinHandle<()>,
) {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let join = tokio::spawn(task::Task::new(params, cmd_rx, ev_tx).run());
    (SessionHandle { tx: cmd_tx }, ev_rx, join)
}
