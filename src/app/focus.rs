//! `/join ROOM --focus [FOCUS-JID]` / `--focus-http URL` (issue 8): the
//! Jitsi conference request before the MUC join (seed 002).
//!
//! The request goes to the focus as a ConferenceIq (or as JSON over HTTP
//! through the session, [`SessionCmd::Http`]); while the answer says
//! `ready='false'` it is asked again after a bounded back-off (the user is
//! told); on `ready='true'` the focus JID and the properties are kept for
//! the room (`/info` shows them), a `conference-ready` event goes out, and
//! the ordinary MUC join follows under the same command — in the visitor
//! node's MUC domain after a `vnode` redirect. A `session-id` from an
//! answer is sent again on the next request to the same focus.
//!
//! The `focusjid` of the `ready` answer is the room's trusted focus: the
//! occupant with that real JID is marked as the focus (`occupant` events'
//! `focus`, the TUI's participant list); an occupant merely called
//! `focus`, or one whose JID the room hides, is not. After a reconnection
//! a room entered through a focus is not rejoined by the session
//! ([`SessionCmd::AppRejoins`]): the focus is asked again first (as Jitsi
//! clients do: the conference may have ended, moved to a visitor node or
//! need setting up again), and the rejoin follows its `ready` answer; a
//! refusal or a redirect elsewhere ends our presence in the room (an
//! error for the room). Every request carries the installation's stable
//! `machine-uid` ([`machine_uid`], a file in the data directory).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use jid::{BareJid, Jid};
use minidom::Element;
use tokio::time::Instant;

use super::join::{Occasion, RoomEntry};
use super::{App, Exec, IqStep, IqThen, OUTCOME_TIMEOUT, Pending, Waiting, refuse};
use crate::command::{FocusTarget, JoinOptions};
use crate::config::FocusSettings;
use crate::protocol::focus::{self as proto, Conference, ConferenceInfo};
use crate::protocol::{ErrorInfo, Incoming};
use crate::protocol::{muc, rooms};
use crate::session::http::HttpResponse;
use crate::session::{SessionCmd, Tag};
use crate::store::{Event, Input, JoinState, Protocol};

/// Requests made while the focus keeps answering `ready='false'`.
pub(super) const MAX_ATTEMPTS: u32 = 10;
/// The first wait before asking again; it doubles up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(8);
/// How long an HTTP request may take (below the command deadline, so
/// that its own error is the one reported).
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The wait before request `attempt + 1` after `attempt` answers of
/// `ready='false'` (1-based).
pub(super) fn backoff(attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(8);
    (BACKOFF_MIN * factor).min(BACKOFF_MAX)
}

/// Where the request goes, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Xmpp(Jid),
    Http(String),
}

impl Target {
    /// The key for the remembered `session-id`, and the name in messages.
    fn key(&self) -> String {
        match self {
            Target::Xmpp(j) => j.to_string(),
            Target::Http(u) => u.clone(),
        }
    }
}

/// A conference request under way (keyed by its command's tag).
#[derive(Debug)]
struct Request {
    room: BareJid,
    nick: String,
    password: Option<String>,
    target: Target,
    properties: Vec<(String, String)>,
    /// `ready='false'` answers so far.
    not_ready: u32,
    /// The focus was not named (`focus.DOMAIN` is tried): if it is not
    /// there, look for a service of the domain announcing the focus
    /// namespace (disco#items, then disco#info of each).
    discover: bool,
    /// Asked again after a reconnection (no command): the room we were in
    /// and rejoin on `ready`.
    rejoin: Option<BareJid>,
}

/// A room entered through a focus: what to ask again after a
/// reconnection.
#[derive(Debug, Clone)]
struct Entered {
    /// The room asked for (the visitor node's room may be the one entered).
    requested: BareJid,
    target: Target,
    properties: Vec<(String, String)>,
    password: Option<String>,
}

/// The app's focus state (`App::focus`).
#[derive(Debug, Default)]
pub(super) struct FocusState {
    requests: HashMap<Tag, Request>,
    /// Requests to make again: when, and which.
    retries: Vec<(Instant, Tag)>,
    /// The last `session-id` per focus (JID or URL).
    sessions: HashMap<String, String>,
    /// What the focus said about rooms it had ready (the room asked for
    /// and, after a redirect, the visitor node's room).
    conferences: HashMap<BareJid, ConferenceInfo>,
    /// Rooms entered through a focus (by the room entered).
    entered: HashMap<BareJid, Entered>,
    /// The `machine-uid`, once read or made (inner `None`: not available).
    machine_uid: Option<Option<String>>,
    /// Joins that go through a focus without `--focus` (the config's
    /// `focus` entries: MUC domains, every room there, and single rooms).
    config: FocusSettings,
    /// Where the installation's `machine-uid` is kept ([`machine_uid`]);
    /// none: requests go without one.
    data_dir: Option<PathBuf>,
}

/// The file in the data directory holding the `machine-uid`.
const MACHINE_UID_FILE: &str = "machine-uid";

/// The installation's stable `machine-uid` (jicofo's ConferenceIq
/// attribute; lib-jitsi-meet keeps a random id per browser): 32 hex
/// digits kept in `dir/machine-uid`, made on first use; a damaged file is
/// made again.
pub fn machine_uid(dir: &Path) -> std::io::Result<String> {
    let path = dir.join(MACHINE_UID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) if valid_machine_uid(s.trim()) => return Ok(s.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(dir)?;
    let id = random_hex128();
    std::fs::write(&path, format!("{id}\n"))?;
    Ok(id)
}

fn valid_machine_uid(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// 128 random bits as hex (std's randomly keyed hasher, the time and the
/// process id: no crate needed for an id that only has to be unique).
fn random_hex128() -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    (0..2u8)
        .map(|i| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(now);
            h.write_u32(std::process::id());
            h.write_u8(i);
            format!("{:016x}", h.finish())
        })
        .collect()
}

impl App {
    /// Sets the joins that go through a focus without `--focus`, and
    /// where the `machine-uid` is kept.
    pub fn set_focus_config(&mut self, config: FocusSettings, data_dir: Option<PathBuf>) {
        self.focus.config = config;
        self.focus.data_dir = data_dir;
    }

    /// The conference a focus prepared for `room` (the trusted focus JID,
    /// the visitor node, the properties), if any.
    pub fn conference(&self, room: &BareJid) -> Option<&ConferenceInfo> {
        self.focus.conferences.get(room)
    }

    /// `room-info` events carry what a focus said about their room.
    pub(super) fn add_conference_info(&self, events: &mut [Event]) {
        for e in events {
            if let Event::RoomInfo { room, info } = e
                && info.conference.is_none()
                && let Ok(jid) = BareJid::new(room)
            {
                info.conference = self.conference(&jid).cloned();
            }
        }
    }

    /// The focus a join of `room` goes through: `--focus`/`--focus-http`,
    /// else the config's `focus` entries.
    pub(super) fn focus_for(&self, room: &BareJid, options: &JoinOptions) -> Option<FocusTarget> {
        if let Some(f) = &options.focus {
            return Some(f.clone());
        }
        let c = &self.focus.config;
        let listed = c
            .entries
            .iter()
            .any(|e| e == room.as_str() || e == room.domain().as_str());
        if !listed {
            return None;
        }
        Some(match &c.http {
            Some(url) => FocusTarget::Http(url.clone()),
            None => FocusTarget::Xmpp(c.jid.clone()),
        })
    }

    /// `/join … --focus`: the conference request, then (from
    /// [`App::on_focus_answer`]) the join.
    pub(super) fn start_focus_join(
        &mut self,
        text: &str,
        room: BareJid,
        nick: Option<String>,
        password: Option<String>,
        target: FocusTarget,
        properties: Vec<(String, String)>,
    ) -> Result<Exec, Box<Event>> {
        let nick = nick.unwrap_or_else(|| self.opts.default_nick.clone());
        muc::occupant_jid(&room, &nick)
            .map_err(|e| refuse(text, &e.condition, e.text.unwrap_or_default()))?;
        let discover = target == FocusTarget::Xmpp(None);
        let target = match target {
            FocusTarget::Xmpp(Some(j)) => Target::Xmpp(j),
            FocusTarget::Xmpp(None) => {
                let domain = format!("focus.{}", self.opts.account.domain());
                Target::Xmpp(
                    Jid::new(&domain)
                        .map_err(|e| refuse(text, "jid-malformed", format!("{domain}: {e}")))?,
                )
            }
            FocusTarget::Http(url) => {
                let url = proto::http_url(&url);
                crate::session::http::parse_url(&url)
                    .map_err(|e| refuse(text, "bad-request", e.to_string()))?;
                Target::Http(url)
            }
        };
        let tag = self.tag();
        self.focus.requests.insert(
            tag,
            Request {
                room,
                nick,
                password,
                target,
                properties,
                not_ready: 0,
                discover,
                rejoin: None,
            },
        );
        self.send_focus_request(tag, text.to_string());
        Ok(Exec::pending(tag))
    }

    /// The installation's `machine-uid` (read or made once).
    fn machine_uid(&mut self) -> Option<String> {
        if self.focus.machine_uid.is_none() {
            let id = self
                .focus
                .data_dir
                .as_deref()
                .and_then(|d| machine_uid(d).ok());
            self.focus.machine_uid = Some(id);
        }
        self.focus.machine_uid.clone().flatten()
    }

    /// Sends (again) the request of command `tag`.
    fn send_focus_request(&mut self, tag: Tag, command: String) {
        let machine_uid = self.machine_uid();
        let Some(r) = self.focus.requests.get(&tag) else {
            return;
        };
        let mut c = Conference::request(r.room.as_str(), &r.properties);
        c.session_id = self.focus.sessions.get(&r.target.key()).cloned();
        c.machine_uid = machine_uid;
        let target = r.target.clone();
        self.wait_as(tag, &command, Waiting::Iq(focus_then(tag)), true);
        match target {
            Target::Xmpp(to) => {
                self.session.send(SessionCmd::Iq {
                    to: Some(to),
                    payload: c.to_element(),
                    set: true,
                    timeout: OUTCOME_TIMEOUT,
                    tag,
                });
            }
            Target::Http(url) => {
                self.session.send(SessionCmd::Http {
                    url,
                    body: c.to_json().to_string(),
                    timeout: HTTP_TIMEOUT,
                    tag,
                });
            }
        }
    }

    /// Requests whose back-off is over go out again (from [`App::tick`]).
    pub(super) fn focus_retries_due(&mut self) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) =
            self.focus.retries.drain(..).partition(|(at, _)| *at <= now);
        self.focus.retries = later;
        for (_, tag) in due {
            match self.pending.get(&tag).map(|p| p.command.clone()) {
                Some(command) => self.send_focus_request(tag, command),
                None => {
                    self.focus.requests.remove(&tag);
                }
            }
        }
    }

    /// When the next back-off ends ([`App::next_deadline`]).
    pub(super) fn focus_next_retry(&self) -> Option<Instant> {
        self.focus.retries.iter().map(|(at, _)| *at).min()
    }

    /// An HTTP answer (the JSON form): judged like the ConferenceIq's.
    pub(super) fn on_http_response(
        &mut self,
        tag: Tag,
        result: Result<HttpResponse, ErrorInfo>,
    ) -> Vec<Event> {
        let Some(p) = self.pending.remove(&tag) else {
            return Vec::new();
        };
        let Waiting::Iq(then) = p.waiting else {
            self.pending.insert(tag, p);
            return Vec::new();
        };
        let step = (then.0)(self, &p.command, http_answer(result));
        self.follow_step(tag, p.command, step)
    }

    /// The focus answered the request of command `tag`.
    fn on_focus_answer(
        &mut self,
        tag: Tag,
        command: &str,
        result: Result<Option<Element>, ErrorInfo>,
    ) -> IqStep {
        let Some(r) = self.focus.requests.get_mut(&tag) else {
            return IqStep::Done(Vec::new());
        };
        let who = r.target.key();
        let answer = match result {
            Ok(Some(el)) => Conference::from_element(&el)
                .map_err(|e| ErrorInfo::new("undefined-condition", format!("a bad answer: {e}"))),
            Ok(None) => Err(ErrorInfo::new(
                "undefined-condition",
                "an answer without <conference/>".to_string(),
            )),
            Err(e) => Err(e),
        };
        let c = match answer {
            Ok(c) => c,
            // Asking again after a reconnection: a timeout (or the
            // connection lost again), or a focus not back yet after a
            // server restart, is not the focus's refusal: asked again
            // after the back-off (as the session retries refused rejoins).
            Err(e) if r.rejoin.is_some() && REJOIN_RETRYABLE.contains(&e.condition.as_str()) => {
                Conference::default()
            }
            Err(e) if r.discover && NOT_THERE.contains(&e.condition.as_str()) => {
                r.discover = false;
                return self.discover_focus(tag, e);
            }
            Err(e) => {
                let r = self.focus.requests.remove(&tag).expect("request");
                let why = match e.text.as_deref() {
                    Some(t) if !t.is_empty() => format!(": {t}"),
                    _ => String::new(),
                };
                let text = if e.condition == "remote-server-timeout" {
                    format!(
                        "the focus {who} did not answer the conference request for {} in time ({}{why})",
                        r.room, e.condition
                    )
                } else {
                    format!(
                        "the focus {who} refused the conference request for {} ({}{why})",
                        r.room, e.condition
                    )
                };
                return self.focus_failed(r, command, &e.condition, text);
            }
        };
        if let Some(sid) = c.session_id.as_ref().filter(|s| !s.is_empty()) {
            self.focus.sessions.insert(who.clone(), sid.clone());
        }
        let r = self.focus.requests.get_mut(&tag).expect("request");
        if c.ready != Some(true) {
            r.not_ready += 1;
            if r.not_ready >= MAX_ATTEMPTS {
                let r = self.focus.requests.remove(&tag).expect("request");
                let text = format!(
                    "the focus {who} did not have {} ready after {MAX_ATTEMPTS} requests",
                    r.room
                );
                return self.focus_failed(r, command, "remote-server-timeout", text);
            }
            let wait = backoff(r.not_ready);
            let waiting = Event::ConferenceWaiting {
                room: r.room.to_string(),
                focus: who,
                attempt: r.not_ready + 1,
                retry_in: wait.as_secs_f64(),
            };
            self.focus.retries.push((Instant::now() + wait, tag));
            // Still under way, without a deadline until the next request.
            self.pending.insert(
                tag,
                Pending {
                    command: command.to_string(),
                    waiting: Waiting::Iq(focus_then(tag)),
                    deadline: None,
                    sent: true,
                },
            );
            return IqStep::Done(vec![waiting]);
        }
        let r = self.focus.requests.remove(&tag).expect("request");
        let mut events = Vec::new();
        let join_room = match c.vnode.as_deref().filter(|v| !v.is_empty()) {
            None => r.room.clone(),
            Some(vnode) => {
                let domain = proto::visitor_muc_domain(r.room.domain().as_str(), vnode);
                let node = r.room.node().map(|n| n.as_str()).unwrap_or_default();
                match BareJid::new(&format!("{node}@{domain}")) {
                    // Told by `conference-ready` (its `vnode`).
                    Ok(j) => j,
                    Err(e) => {
                        let text = format!(
                            "the focus {who} redirected to a bad visitor node {vnode:?}: {e}"
                        );
                        return self.focus_failed(r, command, "undefined-condition", text);
                    }
                }
            }
        };
        let info = ConferenceInfo {
            focus: c.focus_jid.clone(),
            vnode: c.vnode.clone().filter(|v| !v.is_empty()),
            properties: c.properties.iter().cloned().collect::<BTreeMap<_, _>>(),
        };
        // The focus to trust: a JID (a malformed one is trusted nowhere).
        let trusted = c.focus_jid.as_deref().and_then(|j| Jid::new(j).ok());
        if let Some(room) = r.rejoin.clone()
            && room != join_room
        {
            let text = format!(
                "the focus {who} now sends {} to {join_room}, not {room}: /join it again",
                r.room
            );
            return self.focus_failed(r, command, "redirect", text);
        }
        events.push(Event::ConferenceReady {
            room: join_room.to_string(),
            focus: info.focus.clone(),
            vnode: info.vnode.clone(),
            properties: info.properties.clone(),
        });
        self.focus.conferences.insert(r.room.clone(), info.clone());
        self.focus.conferences.insert(join_room.clone(), info);
        self.focus.entered.insert(
            join_room.clone(),
            Entered {
                requested: r.room.clone(),
                target: r.target.clone(),
                properties: r.properties.clone(),
                password: r.password.clone(),
            },
        );
        let state = self.store.room(&join_room).map(|r| r.state);
        if r.rejoin.is_some() {
            // The rejoin after a reconnection (unless we left meanwhile).
            if state == Some(JoinState::Rejoining) {
                self.store.set_trusted_focus(&join_room, trusted);
                let entering = RoomEntry {
                    room: join_room,
                    nicks: vec![r.nick],
                    password: r.password,
                    private: false,
                    protocol: Protocol::Muc,
                };
                // Nothing for the store: the room is rejoining already.
                self.enter_room(tag, command, entering, Occasion::Again);
            }
            return IqStep::Done(events);
        }
        if let Some(JoinState::Joined) = state {
            self.store.set_trusted_focus(&join_room, trusted);
            events.push(Event::Ok {
                command: command.to_string(),
            });
            return IqStep::Done(events);
        }
        let entering = RoomEntry {
            room: join_room.clone(),
            nicks: vec![r.nick],
            password: r.password,
            private: false,
            protocol: Protocol::Muc,
        };
        events.extend(self.enter_room(tag, command, entering, Occasion::First));
        self.store.set_trusted_focus(&join_room, trusted);
        IqStep::Done(events)
    }

    /// A request ends in a refusal: the command's error, or (asking again
    /// after a reconnection) the room's: the session forgets the room and
    /// the store has us out of it.
    fn focus_failed(&mut self, r: Request, command: &str, condition: &str, text: String) -> IqStep {
        let Some(room) = r.rejoin else {
            return focus_failed(command, &r.room, condition, text);
        };
        self.focus.entered.remove(&room);
        let tag = self.tag();
        self.session.send(SessionCmd::Leave {
            room: room.clone(),
            reason: None,
            tag,
        });
        let error = ErrorInfo::new(condition, format!("{text} (rejoining {room})"));
        IqStep::Done(self.store.apply(
            Input::Incoming(Incoming::MucPresenceError {
                room,
                nick: None,
                error,
            }),
            Utc::now(),
        ))
    }

    /// Rooms entered through a focus, after events (from
    /// [`App::on_session`]): once in, the session leaves their rejoin to
    /// us; a lost connection drops the requests under way for rejoins; a
    /// new one asks the focus again for each room to rejoin.
    pub(super) fn focus_after_events(&mut self, events: &[Event]) {
        for e in events {
            match e {
                Event::Joined { room, .. } => {
                    let room = room.clone();
                    let trusted = self.store.room(&room).is_some_and(|r| r.focus.is_some());
                    if trusted && self.focus.entered.contains_key(&room) {
                        self.session.send(SessionCmd::AppRejoins { room });
                    }
                }
                Event::Left { room, .. } => {
                    self.focus.entered.remove(room);
                }
                Event::Disconnected { .. } => {
                    let gone: Vec<Tag> = self
                        .focus
                        .requests
                        .iter()
                        .filter(|(_, r)| r.rejoin.is_some())
                        .map(|(t, _)| *t)
                        .collect();
                    for tag in gone {
                        self.focus.requests.remove(&tag);
                        self.pending.remove(&tag);
                        self.focus.retries.retain(|(_, t)| *t != tag);
                    }
                }
                Event::Reconnected { .. } => self.ask_focus_again(),
                _ => {}
            }
        }
    }

    /// After a reconnection: the request again for every room entered
    /// through a focus that the session did not rejoin.
    fn ask_focus_again(&mut self) {
        let mut rooms: Vec<(BareJid, Entered)> = self
            .focus
            .entered
            .iter()
            .map(|(j, e)| (j.clone(), e.clone()))
            .collect();
        rooms.sort_by(|a, b| a.0.cmp(&b.0));
        for (room, entered) in rooms {
            let Some(nick) = self
                .store
                .room(&room)
                .filter(|r| r.state == JoinState::Rejoining && r.focus.is_some())
                .map(|r| r.own_nick.clone())
            else {
                continue;
            };
            let under_way = self
                .focus
                .requests
                .values()
                .any(|r| r.rejoin.as_ref() == Some(&room));
            if under_way {
                continue;
            }
            let tag = self.tag();
            self.focus.requests.insert(
                tag,
                Request {
                    room: entered.requested,
                    nick,
                    password: entered.password,
                    target: entered.target,
                    properties: entered.properties,
                    not_ready: 0,
                    discover: false,
                    rejoin: Some(room),
                },
            );
            self.send_focus_request(tag, String::new());
        }
    }

    /// `focus.DOMAIN` is not there: ask the domain for its services.
    fn discover_focus(&mut self, tag: Tag, first: ErrorInfo) -> IqStep {
        let domain = Jid::from(BareJid::from_parts(None, self.opts.account.domain()));
        let then = IqThen::new(move |app, command, result| {
            let candidates = match result.and_then(|p| rooms::parse_items(p.as_ref())) {
                Ok(page) => page
                    .items
                    .iter()
                    .filter_map(|i| Jid::new(&i.jid).ok())
                    .collect(),
                Err(_) => Vec::new(),
            };
            app.probe_focus(tag, command, candidates, first.clone())
        });
        IqStep::Next {
            events: Vec::new(),
            to: Some(domain),
            payload: rooms::items_query(None, None),
            set: false,
            then,
        }
    }

    /// Asks the next candidate whether it is a focus (disco#info with the
    /// focus namespace); none left: the first error, explained.
    fn probe_focus(
        &mut self,
        tag: Tag,
        command: &str,
        mut candidates: Vec<Jid>,
        first: ErrorInfo,
    ) -> IqStep {
        if candidates.is_empty() {
            let Some(r) = self.focus.requests.remove(&tag) else {
                return IqStep::Done(Vec::new());
            };
            return focus_failed(
                command,
                &r.room,
                &first.condition,
                format!(
                    "the focus {} refused the conference request for {} ({first}), and no service of {} announces {} (disco)",
                    r.target.key(),
                    r.room,
                    self.opts.account.domain(),
                    proto::NS
                ),
            );
        }
        let candidate = candidates.remove(0);
        let to = candidate.clone();
        let then = IqThen::new(move |app, command, result| {
            let is_focus = result
                .and_then(|p| rooms::parse_info(p.as_ref()))
                .is_ok_and(|info| info.features.iter().any(|f| f == proto::NS));
            match app.focus.requests.get_mut(&tag) {
                Some(r) if is_focus => {
                    r.target = Target::Xmpp(to.clone());
                    app.send_focus_request(tag, command.to_string());
                    IqStep::Done(Vec::new())
                }
                Some(_) => app.probe_focus(tag, command, candidates.clone(), first.clone()),
                None => IqStep::Done(Vec::new()),
            }
        });
        IqStep::Next {
            events: Vec::new(),
            to: Some(candidate),
            payload: rooms::info_query(),
            set: false,
            then,
        }
    }
}

/// Errors that say the default focus is not there (then discovery; a
/// focus that refuses with one of them is looked for in vain, and its
/// error is the one reported).
const NOT_THERE: &[&str] = &[
    "service-unavailable",
    "remote-server-not-found",
    "item-not-found",
    "recipient-unavailable",
    "feature-not-implemented",
    // Prosody without s2s, for a domain it does not serve.
    "not-allowed",
];

/// Errors of a request asked again after a reconnection that are tried
/// again (bounded by [`MAX_ATTEMPTS`]).
const REJOIN_RETRYABLE: &[&str] = &[
    "remote-server-timeout",
    "service-unavailable",
    "remote-server-not-found",
    "recipient-unavailable",
    "item-not-found",
];

fn focus_failed(command: &str, room: &BareJid, condition: &str, text: String) -> IqStep {
    IqStep::Done(vec![Event::Error {
        command: (!command.is_empty()).then(|| command.to_string()),
        room: Some(room.clone()),
        condition: condition.to_string(),
        text: Some(text),
        message_id: None,
    }])
}

fn focus_then(tag: Tag) -> IqThen {
    IqThen::new(move |app, command, result| app.on_focus_answer(tag, command, result))
}

/// The HTTP answer as the ConferenceIq answer it stands for: 2xx with a
/// JSON body is the conference; 403 is `not-authorized`, 400
/// `bad-request`, anything else `undefined-condition`.
fn http_answer(result: Result<HttpResponse, ErrorInfo>) -> Result<Option<Element>, ErrorInfo> {
    let r = result?;
    let body: String = r.body.trim().chars().take(200).collect();
    let said = if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    };
    match r.status {
        200..=299 => Conference::from_json(&r.body)
            .map(|c| Some(c.to_element()))
            .map_err(|e| ErrorInfo::new("undefined-condition", format!("a bad JSON answer: {e}"))),
        403 => Err(ErrorInfo::new("not-authorized", format!("HTTP 403{said}"))),
        400 => Err(ErrorInfo::new("bad-request", format!("HTTP 400{said}"))),
        s => Err(ErrorInfo::new(
            "undefined-condition",
            format!("HTTP {s}{said}"),
        )),
    }
}

#[cfg(test)]
mod tests;
