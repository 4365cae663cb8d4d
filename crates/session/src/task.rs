//! The session task's loop.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{
    FallibleStreamElement, ReadError, StreamElementError, XmppStreamElement,
};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::presence::Presence;

use super::connect::{Stream, connect};
use super::{SessionCmd, SessionEvent, SessionParams, Tag};
use confab_proto::iq::{self, IqRequest};
use confab_proto::muc::{self, HistoryRequest};
use confab_proto::{ErrorInfo, Incoming, Show, classify_message, classify_presence, disco};

mod dropped;
mod legacy;
mod origin;
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

/// Rejoins refused with these conditions are tried again: after a server
/// restart a room may be new and locked until its first occupant has
/// configured it, or the MUC service may not be up yet.
fn rejoin_retryable(condition: &str) -> bool {
    matches!(
        condition,
        "item-not-found"
            | "service-unavailable"
            | "remote-server-not-found"
            | "remote-server-timeout"
    )
}

const REJOIN_RETRIES: u32 = 5;

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
    Lost(String),
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

    pub(super) async fn run(mut self) {
        let mut attempt: u32 = 0;
        let mut backoff = self.params.backoff_min;
        loop {
            attempt += 1;
            self.emit(SessionEvent::Connecting { attempt });
            let params = self.params.connect.clone();
            let conn = connect(&params);
            tokio::pin!(conn);
            let result = loop {
                tokio::select! {
                    r = &mut conn => break r,
                    cmd = self.cmd_rx.recv() => match cmd {
                        None | Some(SessionCmd::Shutdown) => {
                            self.fail_all("the session was closed before it connected");
                            self.emit(SessionEvent::Closed);
                            return;
                        }
                        Some(c) => self.handle_offline(c),
                    },
                }
            };
            match result {
                Ok((stream, jid, mechanism)) => {
                    attempt = 0;
                    backoff = self.params.backoff_min;
                    let reconnect = self.ever_online;
                    self.ever_online = true;
                    self.emit(SessionEvent::LoggedIn {
                        mechanism: mechanism.to_string(),
                    });
                    self.emit(SessionEvent::Online {
                        jid: jid.clone(),
                        reconnect,
                    });
                    match self.run_connected(stream, jid).await {
                        Outcome::Shutdown => {
                            self.fail_all("the session was closed");
                            self.emit(SessionEvent::Closed);
                            return;
                        }
                        Outcome::Lost(reason) => {
                            self.connection_lost();
                            self.emit(SessionEvent::Disconnected {
                                reason,
                                retry_in: backoff,
                            });
                        }
                    }
                }
                Err(e) if e.fatal => {
                    self.emit(SessionEvent::Fatal(ErrorInfo::new(
                        &e.condition,
                        Some(e.text.clone()),
                    )));
                    self.fail_all(&format!("not connected: {}", e.text));
                    // Answer whatever still comes, until told to stop.
                    while let Some(cmd) = self.cmd_rx.recv().await {
                        if matches!(cmd, SessionCmd::Shutdown) {
                            break;
                        }
                        self.refuse(cmd, &e.text);
                    }
                    self.emit(SessionEvent::Closed);
                    return;
                }
                Err(e) => {
                    self.emit(SessionEvent::Disconnected {
                        reason: e.to_string(),
                        retry_in: backoff,
                    });
                }
            }
            // Wait before the next attempt, still taking commands.
            let wake = Instant::now() + backoff;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(wake) => break,
                    _ = tick.tick() => self.expire_outbox(),
                    cmd = self.cmd_rx.recv() => match cmd {
                        None | Some(SessionCmd::Shutdown) => {
                            self.fail_all("the session was closed while offline");
                            self.emit(SessionEvent::Closed);
                            return;
                        }
                        Some(c) => self.handle_offline(c),
                    },
                }
            }
            backoff = (backoff * 2).min(self.params.backoff_max);
        }
    }

    /// After the stream died: IQs in flight fail, rooms need a rejoin.
    fn connection_lost(&mut self) {
        self.self_pings.clear();
        for (_, iq) in self.iqs.drain() {
            let _ = self.ev_tx.send(SessionEvent::IqResponse {
                tag: iq.tag,
                result: Err(err("remote-server-timeout", "the connection was lost")),
            });
        }
        for r in self.rooms.values_mut() {
            r.joined = false;
            r.retries = 0;
            r.retry_at = None;
        }
    }

    fn fail_all(&mut self, why: &str) {
        let mut failed: Vec<Tag> = self.outbox.drain(..).map(|o| o.tag).collect();
        for r in self.rooms.values_mut() {
            failed.extend(r.pending.drain(..).map(|o| o.tag));
        }
        for tag in failed {
            self.emit(SessionEvent::SendFailed {
                tag,
                error: err("recipient-unavailable", why),
            });
        }
        for (_, iq) in self.iqs.drain() {
            let _ = self.ev_tx.send(SessionEvent::IqResponse {
                tag: iq.tag,
                result: Err(err("remote-server-timeout", why)),
            });
        }
    }

    /// Messages that waited too long for the connection are failed.
    fn expire_outbox(&mut self) {
        let ttl = self.params.outbox_ttl;
        let now = Instant::now();
        let mut failed = Vec::new();
        let keep = |o: &Outgoing, failed: &mut Vec<Tag>| {
            if now.duration_since(o.queued) >= ttl {
                failed.push(o.tag);
                false
            } else {
                true
            }
        };
        self.outbox.retain(|o| keep(o, &mut failed));
        for r in self.rooms.values_mut() {
            r.pending.retain(|o| keep(o, &mut failed));
        }
        for tag in failed {
            self.emit(SessionEvent::SendFailed {
                tag,
                error: err(
                    "recipient-unavailable",
                    format!("not sent: offline for more than {} s", ttl.as_secs()),
                ),
            });
        }
    }

    fn refuse(&self, cmd: SessionCmd, why: &str) {
        let tag = match cmd {
            SessionCmd::Join { tag, .. }
            | SessionCmd::Leave { tag, .. }
            | SessionCmd::Nick { tag, .. }
            | SessionCmd::Status { tag, .. }
            | SessionCmd::Presence { tag, .. }
            | SessionCmd::Message { tag, .. } => tag,
            SessionCmd::Iq { tag, .. } => {
                self.emit(SessionEvent::IqResponse {
                    tag,
                    result: Err(err("remote-server-not-found", why)),
                });
                return;
            }
            SessionCmd::CatchUpByMam { .. }
            | SessionCmd::AppRejoins { .. }
            | SessionCmd::Groupchat { .. }
            | SessionCmd::Reply { .. }
            | SessionCmd::Shutdown => {
                return;
            }
            // HTTP does not need the XMPP stream.
            http @ SessionCmd::Http { .. } => {
                self.http(http);
                return;
            }
        };
        self.emit(SessionEvent::SendFailed {
            tag,
            error: err("remote-server-not-found", format!("not connected: {why}")),
        });
    }

    /// [`SessionCmd::Http`]: the POST runs on its own task.
    fn http(&self, cmd: SessionCmd) {
        if let SessionCmd::Http {
            url,
            body,
            timeout,
            tag,
        } = cmd
        {
            super::http::spawn(
                url,
                body,
                timeout,
                tag,
                self.params.connect.tls_config.clone(),
                self.ev_tx.clone(),
            );
        }
    }

    /// A command while there is no stream: remember or queue it.
    fn handle_offline(&mut self, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Join {
                room,
                nick,
                password,
                history,
                tag: _,
            } => {
                self.remember_room(room, nick, password, history);
            }
            SessionCmd::Leave { room, tag, .. } => {
                if let Some(r) = self.rooms.remove(&room) {
                    for o in r.pending {
                        self.emit(SessionEvent::SendFailed {
                            tag: o.tag,
                            error: err("recipient-unavailable", "left the room before it was sent"),
                        });
                    }
                }
                self.emit(SessionEvent::Sent { tag });
            }
            SessionCmd::Nick { room, nick, tag } => {
                if let Some(r) = self.rooms.get_mut(&room) {
                    r.nick = nick;
                }
                self.emit(SessionEvent::Sent { tag });
            }
            SessionCmd::Status {
                room,
                show,
                text,
                tag,
            } => {
                self.set_status(room.as_ref(), show, text);
                self.emit(SessionEvent::Sent { tag });
            }
            SessionCmd::Message { message, room, tag } => {
                self.note_message(&message);
                self.queue(Outgoing {
                    stanza: *message,
                    tag,
                    room,
                    queued: Instant::now(),
                });
            }
            SessionCmd::Iq { tag, .. } => {
                self.emit(SessionEvent::IqResponse {
                    tag,
                    result: Err(err("remote-server-timeout", "not connected")),
                });
            }
            SessionCmd::CatchUpByMam { room, mam } => self.catch_up_by_mam(room, mam),
            SessionCmd::AppRejoins { room } => self.app_rejoins(&room),
            http @ SessionCmd::Http { .. } => self.http(http),
            SessionCmd::Groupchat { room } => self.mark_groupchat(room),
            SessionCmd::Presence { tag, .. } => self.emit(SessionEvent::SendFailed {
                tag,
                error: err("remote-server-not-found", "not connected"),
            }),
            // The request came over a stream that is gone: nobody to answer.
            SessionCmd::Reply { .. } | SessionCmd::Shutdown => {}
        }
    }

    fn queue(&mut self, o: Outgoing) {
        match o.room.as_ref().and_then(|r| self.rooms.get_mut(r)) {
            Some(r) => r.pending.push_back(o),
            None => self.outbox.push_back(o),
        }
    }

    fn remember_room(
        &mut self,
        room: BareJid,
        nick: String,
        password: Option<String>,
        history: HistoryRequest,
    ) {
        let show = self.show;
        let status = self.status.clone();
        let mam = self.mam_rooms.contains(&room);
        let plain = self.plain_rooms.contains(&room);
        let entry = self.rooms.entry(room).or_insert_with(|| RoomJoin {
            nick: nick.clone(),
            password: None,
            history: HistoryRequest::Default,
            joined: false,
            last_seen: None,
            show,
            status,
            pending: VecDeque::new(),
            was_joined: false,
            retries: 0,
            retry_at: None,
            mam,
            heard: Instant::now(),
            plain,
            nick_to: None,
            app_rejoins: false,
        });
        entry.nick = nick;
        entry.password = password;
        entry.history = history;
        entry.joined = false;
        entry.plain = plain;
    }

    /// [`SessionCmd::AppRejoins`].
    fn app_rejoins(&mut self, room: &BareJid) {
        if let Some(r) = self.rooms.get_mut(room) {
            r.app_rejoins = true;
        }
    }

    fn set_status(&mut self, room: Option<&BareJid>, show: Show, text: Option<String>) {
        match room {
            Some(j) => {
                if let Some(r) = self.rooms.get_mut(j) {
                    r.show = show;
                    r.status = text;
                }
            }
            None => {
                self.show = show;
                self.status = text.clone();
                for r in self.rooms.values_mut() {
                    r.show = show;
                    r.status = text.clone();
                }
            }
        }
    }

    fn join_presence(room: &BareJid, r: &RoomJoin) -> Result<Presence, ErrorInfo> {
        let history = match (&r.last_seen, &r.history) {
            // MAM fills the gap (the app asks the archive after the join).
            _ if r.mam => HistoryRequest::MaxStanzas(0),
            // After a reconnection: only what we missed.
            (Some(t), _) => HistoryRequest::Since(*t),
            (None, h) => h.clone(),
        };
        let p = muc::join(
            room,
            &r.nick,
            r.password.as_deref(),
            &history,
            r.show,
            r.status.as_deref(),
        )?;
        Ok(if r.plain { legacy::plain(p) } else { p })
    }

    async fn write(stream: &mut Stream, stanza: Stanza) -> Result<(), String> {
        stream
            .send(&XmppStreamElement::Stanza(stanza))
            .await
            .map_err(|e| format!("write failed: {e}"))
    }

    async fn run_connected(&mut self, mut stream: Stream, jid: FullJid) -> Outcome {
        self.own = Some(jid);
        // Initial presence with our capabilities.
        let mut presence = muc::status_presence(None, self.show, self.status.as_deref());
        presence.payloads.push(disco::caps());
        if let Err(e) = Self::write(&mut stream, presence.into()).await {
            return Outcome::Lost(e);
        }
        // Rejoin every room we were in (but those the app rejoins).
        let joins: Vec<(BareJid, Result<Presence, ErrorInfo>)> = self
            .rooms
            .iter()
            .filter(|(_, r)| !(r.app_rejoins && r.was_joined))
            .map(|(j, r)| (j.clone(), Self::join_presence(j, r)))
            .collect();
        for (room, p) in joins {
            match p {
                Ok(p) => {
                    if let Err(e) = Self::write(&mut stream, p.into()).await {
                        return Outcome::Lost(e);
                    }
                }
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
        // Messages that waited for the connection (not for a room).
        while let Some(o) = self.outbox.pop_front() {
            if let Some(r) = o.room.as_ref().and_then(|r| self.rooms.get_mut(r)) {
                r.pending.push_back(o);
                continue;
            }
            let tag = o.tag;
            if let Err(e) = Self::write(&mut stream, o.stanza.clone().into()).await {
                self.outbox.push_front(o);
                return Outcome::Lost(e);
            }
            self.emit(SessionEvent::Sent { tag });
        }

        let reports = stream.get_stream().get_ref().reports();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            let step = tokio::select! {
                item = stream.next() => self.on_item(item, &mut stream).await,
                _ = reports.wait() => self.on_dropped(&reports, &mut stream).await,
                cmd = self.cmd_rx.recv() => match cmd {
                    None | Some(SessionCmd::Shutdown) => {
                        self.close(&mut stream).await;
                        return Outcome::Shutdown;
                    }
                    Some(c) => self.handle_online(c, &mut stream).await,
                },
                _ = tick.tick() => {
                    self.expire_iqs();
                    self.expire_outbox();
                    match self.retry_joins(&mut stream).await {
                        Ok(()) => self.self_ping_rooms(&mut stream).await,
                        e => e,
                    }
                }
            };
            if let Err(reason) = step {
                return Outcome::Lost(reason);
            }
        }
    }

    /// Orderly end: unavailable presence (the server tells the rooms),
    /// stream footer, and a short wait for the server's footer.
    async fn close(&mut self, stream: &mut Stream) {
        let _ = Self::write(stream, Presence::unavailable().into()).await;
        let _ = stream.shutdown().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(item) = stream.next().await {
                if matches!(
                    item,
                    Err(ReadError::StreamFooterReceived) | Err(ReadError::HardError(_))
                ) {
                    break;
                }
            }
        })
        .await;
    }

    fn expire_iqs(&mut self) {
        let now = Instant::now();
        let expired: Vec<String> = self
            .iqs
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(p) = self.iqs.remove(&id) {
                self.emit(SessionEvent::IqResponse {
                    tag: p.tag,
                    result: Err(err("remote-server-timeout", "no answer in time")),
                });
            }
        }
    }

    async fn on_item(
        &mut self,
        item: Option<Result<FallibleStreamElement, ReadError>>,
        stream: &mut Stream,
    ) -> Result<(), String> {
        match item {
            None => Err("the connection was closed".into()),
            Some(Err(ReadError::SoftTimeout)) => {
                // Quiet for a while: a ping keeps the stream alive, and the
                // stream's hard timeout ends it if nothing comes back.
                let id = self.new_id("ping");
                let ping = Iq::from_get(id, xmpp_parsers::ping::Ping);
                Self::write(stream, ping.into()).await
            }
            Some(Err(ReadError::HardError(e))) => Err(format!("connection lost: {e}")),
            Some(Err(ReadError::StreamFooterReceived)) => {
                Err("the server closed the stream".into())
            }
            Some(Err(ReadError::ParseError(e))) => {
                self.emit(SessionEvent::Malformed {
                    from: None,
                    text: e.to_string(),
                });
                Ok(())
            }
            Some(Ok(FallibleStreamElement::Err(e))) => self.on_malformed(e, stream).await,
            Some(Ok(FallibleStreamElement::Ok(el))) => match el {
                XmppStreamElement::Stanza(s) => self.on_stanza(s, stream).await,
                XmppStreamElement::StreamError(e) => Err(format!("stream error: {e}")),
                _ => Ok(()),
            },
        }
    }

    async fn on_malformed(
        &mut self,
        e: StreamElementError,
        stream: &mut Stream,
    ) -> Result<(), String> {
        let text = e.to_string();
        if let StreamElementError::InvalidStanza { header, name, .. } = &e {
            // An IQ request we cannot read still deserves an answer.
            let is_request = matches!(header.type_.as_deref(), Some("get") | Some("set"));
            if name.to_string() == "iq"
                && is_request
                && let (Some(id), Some(from)) = (
                    &header.id,
                    header.from.as_deref().and_then(|f| Jid::new(f).ok()),
                )
            {
                let reply = Iq::from_error(
                    id.clone(),
                    xmpp_parsers::stanza_error::StanzaError::new(
                        xmpp_parsers::stanza_error::ErrorType::Modify,
                        xmpp_parsers::stanza_error::DefinedCondition::BadRequest,
                        "en",
                        "malformed request",
                    ),
                )
                .with_to(from);
                Self::write(stream, reply.into()).await?;
            }
            // An answer we cannot read (e.g. an old server's error with
            // only a numeric code) still ends the request that waits for it.
            let is_answer = matches!(header.type_.as_deref(), Some("result") | Some("error"));
            let from = header.from.as_deref().and_then(|f| Jid::new(f).ok());
            if name.to_string() == "iq"
                && is_answer
                && let Some(id) = header.id.as_ref()
                && matches!(self.iq_origin(id, from.as_ref()), origin::Origin::Trusted)
                && let Some(p) = self.iqs.remove(id)
            {
                self.emit(SessionEvent::IqResponse {
                    tag: p.tag,
                    result: Err(err(
                        "undefined-condition",
                        format!("the answer could not be read: {text}"),
                    )),
                });
            }
            self.emit(SessionEvent::Malformed {
                from: header.from.clone(),
                text,
            });
        } else {
            self.emit(SessionEvent::Malformed { from: None, text });
        }
        Ok(())
    }

    async fn on_stanza(&mut self, s: Stanza, stream: &mut Stream) -> Result<(), String> {
        self.heard_from(&s);
        match s {
            Stanza::Iq(iq) => self.on_iq(iq, stream).await,
            Stanza::Presence(p) => {
                let inc = self.groupchat_nick_change(classify_presence(&p));
                let flush = match self.track_presence(&inc) {
                    Track::Retrying => return Ok(()),
                    Track::Joined(room) => Some(room),
                    Track::Nothing => None,
                };
                self.emit(SessionEvent::Incoming(inc));
                if let Some(room) = flush {
                    self.flush_room(&room, stream).await?;
                }
                Ok(())
            }
            Stanza::Message(m) => {
                if m.type_ == MessageType::Groupchat
                    && let Some(from) = &m.from
                    && let Some(r) = self.rooms.get_mut(&from.to_bare())
                {
                    // Only the room's own delay (MUC history) is believed:
                    // an occupant's stamp in 2099 must not make the rejoin
                    // ask for history "since 2099". Never later than now.
                    let room = from.to_bare();
                    let (t, _) = confab_proto::trusted_delay(&m.payloads, |j| {
                        j.resource().is_none() && j.to_bare() == room
                    });
                    let t = t.unwrap_or_else(Utc::now).min(Utc::now());
                    if r.last_seen.is_none_or(|old| old < t) {
                        r.last_seen = Some(t);
                    }
                }
                let inc = if m.type_ == MessageType::Error {
                    match self.message_error(&m) {
                        Some(inc) => inc,
                        // Forged: reported, not passed on.
                        None => return Ok(()),
                    }
                } else {
                    classify_message(&m)
                };
                self.emit(SessionEvent::Incoming(inc));
                Ok(())
            }
        }
    }

    /// Keeps the rejoin registry in step with what the rooms say.
    fn track_presence(&mut self, inc: &Incoming) -> Track {
        match inc {
            Incoming::MucPresence(p) => {
                let Some(r) = self.rooms.get_mut(&p.room) else {
                    return Track::Nothing;
                };
                // Our own occupant JID, 110 or not (nicks are unique in a
                // room); a destroyed room ends for us whoever it is about.
                let is_self = p.is_self() || p.nick == r.nick;
                let destroyed = p.destroyed.is_some() && !p.available;
                if !is_self && !destroyed {
                    return Track::Nothing;
                }
                if p.available {
                    r.nick = p.nick.clone();
                    if !r.joined {
                        r.joined = true;
                        r.was_joined = true;
                        r.retries = 0;
                        r.retry_at = None;
                        return Track::Joined(p.room.clone());
                    }
                } else if p.codes.contains(&303) {
                    if let Some(n) = &p.new_nick {
                        r.nick = n.clone();
                    }
                } else if let Some(gone) = self.rooms.remove(&p.room) {
                    // Kicked, banned, destroyed or left: no rejoin.
                    self.fail_pending(gone, "you are no longer in the room");
                }
                Track::Nothing
            }
            Incoming::MucPresenceError { room, error, .. } => {
                let Some(r) = self.rooms.get_mut(room) else {
                    return Track::Nothing;
                };
                if r.joined {
                    r.nick_to = None;
                    return Track::Nothing;
                }
                if r.was_joined && r.retries < REJOIN_RETRIES && rejoin_retryable(&error.condition)
                {
                    let delay = Duration::from_millis(250) * 2u32.pow(r.retries);
                    r.retries += 1;
                    r.retry_at = Some(Instant::now() + delay);
                    return Track::Retrying;
                }
                if let Some(gone) = self.rooms.remove(room) {
                    self.fail_pending(gone, "could not enter the room");
                }
                Track::Nothing
            }
            _ => Track::Nothing,
        }
    }

    /// Sends the join presence again for refused rejoins whose time came.
    async fn retry_joins(&mut self, stream: &mut Stream) -> Result<(), String> {
        let now = Instant::now();
        let due: Vec<BareJid> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.retry_at.is_some_and(|t| t <= now))
            .map(|(j, _)| j.clone())
            .collect();
        for room in due {
            let Some(r) = self.rooms.get_mut(&room) else {
                continue;
            };
            r.retry_at = None;
            if let Ok(p) = Self::join_presence(&room, r) {
                Self::write(stream, p.into()).await?;
            }
        }
        Ok(())
    }

    fn fail_pending(&self, r: RoomJoin, why: &str) {
        for o in r.pending {
            self.emit(SessionEvent::SendFailed {
                tag: o.tag,
                error: err("recipient-unavailable", why),
            });
        }
    }

    async fn flush_room(&mut self, room: &BareJid, stream: &mut Stream) -> Result<(), String> {
        while let Some(o) = self.rooms.get_mut(room).and_then(|r| r.pending.pop_front()) {
            let tag = o.tag;
            if let Err(e) = Self::write(stream, o.stanza.clone().into()).await {
                if let Some(r) = self.rooms.get_mut(room) {
                    r.pending.push_front(o);
                }
                return Err(e);
            }
            self.emit(SessionEvent::Sent { tag });
        }
        Ok(())
    }

    async fn on_iq(&mut self, iq: Iq, stream: &mut Stream) -> Result<(), String> {
        match &iq {
            Iq::Get { .. } | Iq::Set { .. } => {
                if let Some(reply) = disco::answer_iq(&iq) {
                    Self::write(stream, reply.into()).await?;
                } else if let Some(req) = IqRequest::from_iq(&iq) {
                    self.emit(SessionEvent::IqRequest(req));
                }
                Ok(())
            }
            Iq::Result { id, from, .. } | Iq::Error { id, from, .. }
                if !matches!(self.iq_origin(id, from.as_ref()), origin::Origin::Trusted) =>
            {
                // Nobody's, or forged (reported): the request still waits.
                Ok(())
            }
            Iq::Result { id, .. } | Iq::Error { id, .. } if self.self_pings.contains_key(id) => {
                self.self_ping_answer(&iq, stream).await
            }
            Iq::Result { id, payload, .. } => {
                if let Some(p) = self.iqs.remove(id) {
                    self.emit(SessionEvent::IqResponse {
                        tag: p.tag,
                        result: Ok(payload.clone()),
                    });
                }
                Ok(())
            }
            Iq::Error { id, error, .. } => {
                if let Some(p) = self.iqs.remove(id) {
                    self.emit(SessionEvent::IqResponse {
                        tag: p.tag,
                        result: Err(ErrorInfo::from_stanza_error(error)),
                    });
                }
                Ok(())
            }
        }
    }

    async fn handle_online(&mut self, cmd: SessionCmd, stream: &mut Stream) -> Result<(), String> {
        match cmd {
            SessionCmd::Join {
                room,
                nick,
                password,
                history,
                tag,
            } => {
                self.remember_room(room.clone(), nick, password, history);
                let r = &self.rooms[&room];
                match Self::join_presence(&room, r) {
                    Ok(p) => Self::write(stream, p.into()).await?,
                    Err(e) => {
                        self.rooms.remove(&room);
                        self.emit(SessionEvent::SendFailed { tag, error: e });
                    }
                }
            }
            SessionCmd::Leave { room, reason, tag } => {
                let Some(r) = self.rooms.remove(&room) else {
                    self.emit(SessionEvent::SendFailed {
                        tag,
                        error: err("item-not-found", format!("not in {room}")),
                    });
                    return Ok(());
                };
                let nick = r.nick.clone();
                self.fail_pending(r, "left the room before it was sent");
                match muc::leave(&room, &nick, reason.as_deref()) {
                    Ok(p) => {
                        Self::write(stream, p.into()).await?;
                        self.emit(SessionEvent::Sent { tag });
                    }
                    Err(e) => self.emit(SessionEvent::SendFailed { tag, error: e }),
                }
            }
            SessionCmd::Nick { room, nick, tag } => {
                let Some(r) = self.rooms.get(&room) else {
                    self.emit(SessionEvent::SendFailed {
                        tag,
                        error: err("item-not-found", format!("not in {room}")),
                    });
                    return Ok(());
                };
                match muc::occupant_presence(&room, &nick, r.show, r.status.as_deref()) {
                    Ok(p) => {
                        if r.plain
                            && let Some(r) = self.rooms.get_mut(&room)
                        {
                            r.nick_to = Some(nick.clone());
                        }
                        Self::write(stream, p.into()).await?;
                        self.emit(SessionEvent::Sent { tag });
                    }
                    Err(e) => self.emit(SessionEvent::SendFailed { tag, error: e }),
                }
            }
            SessionCmd::Status {
                room,
                show,
                text,
                tag,
            } => {
                self.set_status(room.as_ref(), show, text.clone());
                let mut out: Vec<Presence> = Vec::new();
                match &room {
                    Some(j) => {
                        if let Some(r) = self.rooms.get(j) {
                            let to = muc::occupant_presence(j, &r.nick, show, text.as_deref());
                            match to {
                                Ok(p) => out.push(p),
                                Err(e) => {
                                    self.emit(SessionEvent::SendFailed { tag, error: e });
                                    return Ok(());
                                }
                            }
                        } else {
                            self.emit(SessionEvent::SendFailed {
                                tag,
                                error: err("item-not-found", format!("not in {j}")),
                            });
                            return Ok(());
                        }
                    }
                    None => {
                        // Broadcast presence reaches contacts; rooms get
                        // directed presence.
                        let mut p = muc::status_presence(None, show, text.as_deref());
                        p.payloads.push(disco::caps());
                        out.push(p);
                        for (j, r) in &self.rooms {
                            if let Ok(p) = muc::occupant_presence(j, &r.nick, show, text.as_deref())
                            {
                                out.push(p);
                            }
                        }
                    }
                }
                for p in out {
                    Self::write(stream, p.into()).await?;
                }
                self.emit(SessionEvent::Sent { tag });
            }
            SessionCmd::Message { message, room, tag } => {
                self.note_message(&message);
                let o = Outgoing {
                    stanza: *message,
                    tag,
                    room: room.clone(),
                    queued: Instant::now(),
                };
                let wait = room
                    .as_ref()
                    .and_then(|r| self.rooms.get(r))
                    .is_some_and(|r| !r.joined);
                if wait {
                    self.queue(o);
                } else {
                    let stanza = o.stanza.clone().into();
                    if let Err(e) = Self::write(stream, stanza).await {
                        self.queue(o);
                        return Err(e);
                    }
                    self.emit(SessionEvent::Sent { tag });
                }
            }
            SessionCmd::Iq {
                to,
                payload,
                set,
                timeout,
                tag,
            } => {
                let id = self.new_id("iq");
                let iq = iq_request(id.clone(), to.clone(), payload, set);
                self.iqs.insert(
                    id,
                    PendingIq {
                        tag,
                        deadline: Instant::now() + timeout,
                        to,
                    },
                );
                Self::write(stream, iq.into()).await?;
            }
            SessionCmd::CatchUpByMam { room, mam } => self.catch_up_by_mam(room, mam),
            SessionCmd::AppRejoins { room } => self.app_rejoins(&room),
            SessionCmd::Reply { to, id, answer } => {
                Self::write(stream, iq::reply(to, id, answer).into()).await?;
            }
            http @ SessionCmd::Http { .. } => self.http(http),
            SessionCmd::Groupchat { room } => self.mark_groupchat(room),
            SessionCmd::Presence { presence, tag } => {
                self.send_presence(*presence, tag, stream).await?;
            }
            SessionCmd::Shutdown => {}
        }
        Ok(())
    }
}

fn iq_request(id: String, to: Option<Jid>, payload: Element, set: bool) -> Iq {
    if set {
        Iq::Set {
            from: None,
            to,
            id,
            payload,
        }
    } else {
        Iq::Get {
            from: None,
            to,
            id,
            payload,
        }
    }
}
