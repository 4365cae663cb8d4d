//! The session task: its state (the rooms to rejoin, the offline queue,
//! the IQs in flight) and where each concern lives: `life.rs` the
//! connection life cycle (connect, run, back off, reconnect), `commands.rs`
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

use super::connect::Stream;
use super::{SessionCmd, SessionError, SessionEvent, SessionParams, Tag};
use confab_proto::muc::HistoryRequest;
use confab_proto::{ErrorInfo, Show};

mod commands;
mod dropped;
mod incoming;
mod iqs;
mod legacy;
mod life;
mod origin;
mod rooms;
mod selfping;

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
        }
    }

    fn emit(&self, ev: SessionEvent) {
        // The app going away ends us through the command channel.
        let _ = self.ev_tx.send(ev);
    }

    fn new_id(&mut self, prefix: &str) -> String {
        confab_proto::origin::random_id(prefix)
    }

    async fn write(stream: &mut Stream, stanza: Stanza) -> Result<(), SessionError> {
        stream
            .send(&XmppStreamElement::Stanza(stanza))
            .await
            .map_err(|e| SessionError::Write(e.to_string()))
    }
}
