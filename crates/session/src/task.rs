//! The session task: its state (the rooms to rejoin, the offline queue,
//! the IQs in flight) and where each concern lives: `life.rs` the
//! connection life cycle (connect, run, back off, reconnect),
//! `deadlines.rs` its one timer (no tick), `commands.rs`
//! what the app asks ([`SessionCmd`]), `incoming.rs` what the stream
//! brings, `iqs.rs` IQ requests and answers, `rooms.rs` the rejoin
//! registry, `legacy.rs` groupchat 1.0 rooms, `selfping.rs` XEP-0410,
//! `origin.rs` who may answer what, `dropped.rs` stanzas past the parse
//! limits.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use futures::SinkExt;
use jid::{BareJid, FullJid, Jid};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::XmppStreamElement;
use xmpp_parsers::message::Message;

use super::sm::{Sm, Unacked};
use super::{SessionCmd, SessionError, SessionEvent, SessionParams, Tag};
use confab_proto::muc::HistoryRequest;
use confab_proto::{ErrorInfo, Show};

mod commands;
mod deadlines;
mod dropped;
mod incoming;
mod iqs;
mod legacy;
mod life;
mod origin;
mod rooms;
mod selfping;
mod sm;

/// A connected stream with its XEP-0198 state (when the server enabled
/// it): every stanza goes through [`Task::write`], which counts it.
pub(super) struct Stream {
    xml: crate::wire::Bound,
    sm: Option<Sm>,
    /// How long a write, or an `<r/>` waiting for its `<a/>`, may take
    /// before the connection counts as dead.
    ack_timeout: std::time::Duration,
    /// The protocol trace (`xml.rs`).
    tap: crate::Tap,
}

/// A room the session is in (or entering), kept to rejoin after a
/// reconnection.
struct RoomJoin {
    nick: String,
    password: Option<String>,
    history: HistoryRequest,
    joined: bool,
    /// Time of the last message seen from the room (history to ask for on
    /// rejoin).
    last_seen: Option<DateTime<Utc>>,
    show: Show,
    status: Option<String>,
    /// Messages waiting for the (re)join to finish.
    pending: VecDeque<Outgoing>,
    /// We were in the room in this session: a refused rejoin is retried.
    was_joined: bool,
    retries: u32,
    retry_at: Option<Instant>,
    /// The app catches the room up by MAM: rejoins ask for no history.
    mam: bool,
    /// When the room last sent us anything (XEP-0410 self-ping after a
    /// silence).
    heard: Instant,
    /// groupchat 1.0: plain join presence (`task/legacy.rs`).
    plain: bool,
    /// groupchat 1.0: the nick asked for, until the room answers.
    nick_to: Option<String>,
    /// [`SessionCmd::AppRejoins`]: no rejoin of our own after a
    /// reconnection.
    app_rejoins: bool,
    /// When the room last removed us for a delivery error (XEP-0045 333):
    /// rejoined then, but not twice within a minute.
    error_kick: Option<Instant>,
}

struct Outgoing {
    stanza: Message,
    tag: Tag,
    room: Option<BareJid>,
    queued: Instant,
}

struct PendingIq {
    tag: Tag,
    deadline: Instant,
    /// Where the request went: only that entity may answer it.
    to: Option<Jid>,
}

/// What a presence meant for the rejoin registry.
enum Track {
    Nothing,
    /// Our join of this room just finished (its waiting messages can go).
    Joined(BareJid),
    /// A refused rejoin that will be tried again: not worth reporting yet.
    Retrying,
    /// The room removed us because stanzas to us could not be delivered
    /// (333): a rejoin follows.
    Dropped(BareJid),
}

enum Outcome {
    Shutdown,
    Lost(SessionError),
}

pub(super) struct Task {
    params: SessionParams,
    cmd_rx: mpsc::UnboundedReceiver<SessionCmd>,
    ev_tx: mpsc::UnboundedSender<SessionEvent>,
    rooms: HashMap<BareJid, RoomJoin>,
    show: Show,
    status: Option<String>,
    /// Messages for no room (or unknown rooms) waiting for the connection.
    outbox: VecDeque<Outgoing>,
    iqs: HashMap<String, PendingIq>,
    /// Our full JID while connected (who may answer requests to our
    /// account).
    own: Option<FullJid>,
    /// Where recent messages went (their errors must come from there).
    sent: origin::SentMessages,
    ever_online: bool,
    /// Rooms the app catches up by MAM.
    mam_rooms: std::collections::HashSet<BareJid>,
    /// Self-pings in flight: IQ id -> room, the nick pinged, deadline.
    self_pings: HashMap<String, (BareJid, String, Instant)>,
    /// groupchat 1.0 rooms (`task/legacy.rs`).
    plain_rooms: std::collections::HashSet<BareJid>,
    /// XEP-0198: the lost stream we may still resume (`task/sm.rs`).
    sm: Option<Sm>,
    /// What a stream that could not be resumed left unacknowledged, for
    /// the next one (`task/sm.rs`).
    unacked: Vec<Unacked>,
    /// Asked for while a lost stream waits to be resumed (`task/sm.rs`).
    resume_todo: sm::ResumeTodo,
    /// The protocol trace: the log, and the app's console when open.
    tap: crate::Tap,
    /// HTTPS transfers under way (`transfer.rs`).
    transfers: crate::transfer::Transfers,
}

fn err(condition: &str, text: impl Into<String>) -> ErrorInfo {
    ErrorInfo::new(condition, Some(text.into()))
}

impl Task {
    pub(super) fn new(
        params: SessionParams,
        cmd_rx: mpsc::UnboundedReceiver<SessionCmd>,
        ev_tx: mpsc::UnboundedSender<SessionEvent>,
    ) -> Task {
        Task {
            params,
            cmd_rx,
            tap: crate::Tap::new(ev_tx.clone()),
            ev_tx,
            rooms: HashMap::new(),
            show: Show::Available,
            status: None,
            outbox: VecDeque::new(),
            iqs: HashMap::new(),
            own: None,
            sent: Default::default(),
            ever_online: false,
            mam_rooms: Default::default(),
            self_pings: HashMap::new(),
            plain_rooms: Default::default(),
            sm: None,
            unacked: Vec::new(),
            resume_todo: Default::default(),
            transfers: crate::transfer::Transfers::new(),
        }
    }

    fn emit(&self, ev: SessionEvent) {
        log_event(&ev);
        // The app going away ends us through the command channel.
        let _ = self.ev_tx.send(ev);
    }

    fn new_id(&mut self, prefix: &str) -> String {
        confab_proto::origin::random_id(prefix)
    }

    async fn write(stream: &mut Stream, stanza: Stanza) -> Result<(), SessionError> {
        Self::write_tagged(stream, stanza, None).await
    }

    /// Writes a stanza (within the ack timeout: a peer that reads nothing
    /// must not block us) and, under XEP-0198, counts it and asks for an
    /// ack when the budget says so.
    ///
    /// Under XEP-0198 the stanza joins the unacknowledged ones *before*
    /// the write: a write that fails or times out may still have reached
    /// the server, whose `h` decides on resumption (so callers requeue a
    /// stanza that failed only when `stream.sm` is `None`). Past the
    /// queue's bound it is kept all the same, the write fails and the
    /// stream is not resumed.
    async fn write_tagged(
        stream: &mut Stream,
        stanza: Stanza,
        tag: Option<Tag>,
    ) -> Result<(), SessionError> {
        if let Some(sm) = stream.sm.as_mut() {
            let room = match &stanza {
                Stanza::Message(m) if m.type_ == xmpp_parsers::message::MessageType::Groupchat => {
                    m.to.as_ref().map(|j| j.to_bare())
                }
                _ => None,
            };
            let u = Unacked {
                stanza: crate::sm::copy(&stanza),
                tag,
                room,
            };
            if let Err(e) = sm.check_room() {
                sm.requeue([u]);
                sm.forbid_resume();
                return Err(e.into());
            }
            sm.sent(u, Instant::now())?;
        }
        Self::send_element(stream, &XmppStreamElement::Stanza(stanza)).await?;
        // The stanza is out (and counted): a failed `<r/>` is the next
        // read's or write's to notice, so the caller never writes it twice.
        let _ = Self::request_ack(stream).await;
        Ok(())
    }

    async fn send_element(stream: &mut Stream, el: &XmppStreamElement) -> Result<(), SessionError> {
        stream.tap.record(crate::XmlDir::Out, el);
        match tokio::time::timeout(stream.ack_timeout, stream.xml.send(el)).await {
            Ok(r) => r.map_err(|e| SessionError::Write(e.to_string())),
            Err(_) => Err(SessionError::Write(format!(
                "nothing could be written for {} s",
                stream.ack_timeout.as_secs_f64()
            ))),
        }
    }
}

/// The life of the connection in the log (no stanza contents: those are
/// the protocol trace's, redacted, `xml.rs`).
fn log_event(ev: &SessionEvent) {
    match ev {
        SessionEvent::Connecting { attempt } => tracing::info!(attempt, "connecting"),
        SessionEvent::Online { jid, reconnect } => tracing::info!(%jid, reconnect, "online"),
        SessionEvent::Resumed { jid } => tracing::info!(%jid, "stream resumed (XEP-0198)"),
        SessionEvent::ResumeRefused { reason } => {
            tracing::warn!(%reason, "resumption refused; reconnecting anew")
        }
        SessionEvent::Unconfirmed { room, messages } => {
            tracing::warn!(%room, count = messages.len(), "messages left unacknowledged")
        }
        SessionEvent::Disconnected { reason, retry_in } => {
            tracing::warn!(%reason, retry_in_s = retry_in.as_secs_f64(), "disconnected")
        }
        SessionEvent::Fatal(e) => tracing::error!(error = %e, "session gave up"),
        SessionEvent::Malformed { from, text } => {
            tracing::debug!(from = from.as_deref().unwrap_or("-"), %text, "malformed stanza dropped")
        }
        SessionEvent::Forged { from, text } => {
            tracing::warn!(from = from.as_deref().unwrap_or("-"), %text, "forged answer dropped")
        }
        SessionEvent::StanzaDropped(d) => {
            tracing::warn!(dropped = ?d, "stanza past the limits dropped")
        }
        SessionEvent::SendFailed { tag, error } => tracing::debug!(tag, %error, "send failed"),
        SessionEvent::Closed => tracing::info!("session closed"),
        _ => {}
    }
}
