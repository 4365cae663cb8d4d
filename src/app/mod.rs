//! The app: the one owner of the store. It turns commands into session
//! requests, session events into store inputs, and follows every command
//! until its one result event (`ok` or `error`).

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use jid::{BareJid, Jid};
use tokio::time::Instant;

use crate::command::{Command, Show, StatusTarget};
use crate::history::{History, Record};
use crate::protocol::ErrorInfo;
use crate::protocol::message::chat;
use crate::protocol::muc::{self, HistoryRequest};
use crate::protocol::owner;
use crate::session::{SessionCmd, SessionEvent, SessionHandle, Tag};
use crate::store::{Connection, Event, Input, JoinState, Protocol, Store};

mod bookmarks;
mod call;
mod chatting;
mod conference;
mod continuity;
mod drain;
#[cfg(test)]
pub(crate) mod fixtures;
mod focus;
mod invite;
mod loop_event;
mod moderation;
mod outcomes;
mod pep;
mod requests;
mod rooms;
mod roster;
mod store_input;
mod window;

/// How long a command may wait for its outcome once its stanza is out.
const OUTCOME_TIMEOUT: Duration = Duration::from_secs(30);

/// What a command waits for.
#[derive(Debug, Clone)]
enum Waiting {
    /// Self-presence from the room (or an error from it).
    Join { room: BareJid },
    /// The stanza to be written.
    Sent,
    /// The stanza to be written; then a chat message enters the store.
    SentChat {
        to: Jid,
        body: String,
        id: String,
        private: bool,
    },
    /// Our nick change confirmed by the room (or an error).
    Nick { room: BareJid },
    /// The room confirming that we left.
    Left { room: BareJid },
    /// The room's echo of our message (or an error for it); the body
    /// for rooms that give the echo a new id (`app/outcomes.rs`).
    Echo {
        room: BareJid,
        id: String,
        body: String,
    },
    /// The room's subject change by us (or an error for our message).
    Subject { room: BareJid, id: String },
    /// The answer to an IQ, handed to the continuation.
    Iq(IqThen),
    /// Self-presence from the room (or an error from it); then the
    /// continuation decides (called with `Ok(None)`), e.g. `/create`.
    JoinThen { room: BareJid, then: IqThen },
    /// `/call`: our session connected (or the call ended first).
    Call,
}

/// What a command does with the answer to its IQ: the events to show, and
/// either the end (the events then end with the command's `ok` or
/// `error`) or a next request.
pub enum IqStep {
    Done(Vec<Event>),
    Next {
        events: Vec<Event>,
        to: Option<Jid>,
        payload: minidom::Element,
        set: bool,
        then: IqThen,
    },
    /// The command goes on under its own tag, which the function gets
    /// (with the command): it registers what the command waits for now,
    /// e.g. a join once the room's protocol is known (`app/conference.rs`).
    WithTag(Box<WithTagFn>),
}

type WithTagFn = dyn FnOnce(&mut App, Tag, String) -> Vec<Event> + Send;

type IqFn =
    dyn Fn(&mut App, &str, Result<Option<minidom::Element>, ErrorInfo>) -> IqStep + Send + Sync;

/// A continuation for an IQ answer (`command` is the command as written).
#[derive(Clone)]
pub struct IqThen(std::sync::Arc<IqFn>);

impl std::fmt::Debug for IqThen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IqThen")
    }
}

impl IqThen {
    pub fn new(
        f: impl Fn(&mut App, &str, Result<Option<minidom::Element>, ErrorInfo>) -> IqStep
        + Send
        + Sync
        + 'static,
    ) -> IqThen {
        IqThen(std::sync::Arc::new(f))
    }

    /// `ok` on a result, `error` (condition and text) on an error.
    pub fn ok() -> IqThen {
        IqThen::new(|_, command, result| {
            IqStep::Done(vec![App::result(command, result.map(|_| ()))])
        })
    }
}

#[derive(Debug)]
struct Pending {
    /// The command as written; empty for requests the app makes itself,
    /// which report only failures.
    command: String,
    waiting: Waiting,
    /// Set once the stanza is out (or at once for those that need no
    /// sending first); `None` while the session still holds it.
    deadline: Option<Instant>,
    sent: bool,
}

/// What [`App::execute`] did.
#[derive(Debug)]
pub struct Exec {
    /// Events to show now. Without `pending`, the last is the result
    /// (`ok` or `error`).
    pub events: Vec<Event>,
    /// Under way: the result event will come from [`App::on_session`] or
    /// [`App::tick`].
    pub pending: Option<Tag>,
}

impl Exec {
    pub(crate) fn done(events: Vec<Event>) -> Exec {
        Exec {
            events,
            pending: None,
        }
    }
    pub(crate) fn pending(tag: Tag) -> Exec {
        Exec {
            events: Vec::new(),
            pending: Some(tag),
        }
    }
}

pub struct AppOptions {
    pub account: BareJid,
    pub default_nick: String,
    /// Messages of archive shown on join (and history asked of the room
    /// the first time).
    pub history_load: usize,
}

pub struct App {
    pub store: Store,
    session: SessionHandle,
    history: Option<History>,
    opts: AppOptions,
    next_tag: Tag,
    pending: HashMap<Tag, Pending>,
    /// Archive errors are reported once, then the archive is dropped.
    history_failed: bool,
    /// The room directory: the discovered MUC service (`app/rooms.rs`).
    rooms: rooms::RoomsState,
    /// MAM catch-up state (`app/continuity.rs`).
    catchup: continuity::Catchup,
    /// Jitsi conference requests and what the focus said (`app/focus.rs`).
    focus: focus::FocusState,
    /// Generic conferencing and groupchat 1.0 rooms (`app/conference.rs`).
    conference: conference::ConferenceState,
    /// XEP-0194: which rooms we tell contacts about (`app/chatting.rs`).
    chatting: chatting::ChattingState,
    /// What this session learnt about PEP publish-options (`app/pep.rs`).
    pep: pep::PepState,
    /// Our own broadcast show and status (`/status all`), for the
    /// directed presence of `app/roster.rs`.
    own_presence: (Show, Option<String>),
    /// Call signalling and the media task (`app/call.rs`).
    call: call::CallSignals,
}

pub use drain::{DRAIN_TIMEOUT, Drained};
pub use focus::machine_uid;
pub use loop_event::{LoopEvent, merge};

fn refuse(command: &str, condition: &str, text: impl Into<String>) -> Box<Event> {
    Box::new(err_event(command, condition, text))
}

fn err_event(command: &str, condition: &str, text: impl Into<String>) -> Event {
    Event::Error {
        command: (!command.is_empty()).then(|| command.to_string()),
        room: None,
        condition: condition.to_string(),
        text: Some(text.into()),
        message_id: None,
    }
}

impl App {
    pub fn new(session: SessionHandle, history: Option<History>, opts: AppOptions) -> App {
        App {
            store: Store::new(),
            session,
            history,
            opts,
            next_tag: 0,
            pending: HashMap::new(),
            history_failed: false,
            rooms: rooms::RoomsState::default(),
            catchup: continuity::Catchup::default(),
            focus: focus::FocusState::default(),
            conference: conference::ConferenceState::default(),
            chatting: chatting::ChattingState::default(),
            pep: pep::PepState::default(),
            own_presence: (Show::Available, None),
            call: call::CallSignals::default(),
        }
    }

    pub fn session(&self) -> &SessionHandle {
        &self.session
    }

    /// The result event of a command: `ok`, or `error` with the condition
    /// and text.
    pub fn result(command: &str, r: Result<(), ErrorInfo>) -> Event {
        match r {
            Ok(()) => Event::Ok {
                command: command.to_string(),
            },
            Err(e) => err_event(command, &e.condition, e.text.unwrap_or_default()),
        }
    }

    /// Starts a command that is one IQ (or a chain of them, see
    /// [`IqStep::Next`]); `then` turns the answer into events.
    pub fn start_iq(
        &mut self,
        command: &str,
        to: Option<Jid>,
        payload: minidom::Element,
        set: bool,
        then: IqThen,
    ) -> Exec {
        let tag = self.wait(command, Waiting::Iq(then), true);
        self.session.send(SessionCmd::Iq {
            to,
            payload,
            set,
            timeout: OUTCOME_TIMEOUT,
            tag,
        });
        Exec::pending(tag)
    }

    /// Carries out what a continuation returned for the command `tag`:
    /// its events (a request of our own, with an empty command, reports
    /// only failures), and for [`IqStep::Next`] the next request.
    pub(crate) fn follow_step(&mut self, tag: Tag, command: String, step: IqStep) -> Vec<Event> {
        match step {
            IqStep::Done(mut events) => {
                // `/info`: what a Jitsi focus said about the room goes with it.
                self.add_conference_info(&mut events);
                events
                    .into_iter()
                    .filter(|e| !(command.is_empty() && matches!(e, Event::Ok { .. })))
                    .collect()
            }
            IqStep::WithTag(f) => f(self, tag, command),
            IqStep::Next {
                events,
                to,
                payload,
                set,
                then,
            } => {
                self.wait_as(tag, &command, Waiting::Iq(then), true);
                self.session.send(SessionCmd::Iq {
                    to,
                    payload,
                    set,
                    timeout: OUTCOME_TIMEOUT,
                    tag,
                });
                events
            }
        }
    }

    /// Sends a groupchat message (its id is `id`); the command finishes
    /// when the room echoes it, or fails with the room's error for it.
    pub(crate) fn send_echoed(
        &mut self,
        command: &str,
        room: BareJid,
        message: xmpp_parsers::message::Message,
        id: String,
    ) -> Exec {
        let body = message.bodies.values().next().cloned().unwrap_or_default();
        let tag = self.wait(
            command,
            Waiting::Echo {
                room: room.clone(),
                id,
                body,
            },
            false,
        );
        self.session.send(SessionCmd::Message {
            message: Box::new(message),
            room: Some(room),
            tag,
        });
        Exec::pending(tag)
    }

    /// Whether the command with this tag still waits for its outcome.
    pub fn is_pending(&self, tag: Tag) -> bool {
        self.pending.contains_key(&tag)
    }

    /// Number of commands still waiting for their outcome.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    fn tag(&mut self) -> Tag {
        self.next_tag += 1;
        self.next_tag
    }

    /// A fresh message id (also the XEP-0359 origin-id): random, so that
    /// nobody can aim an error at a message before seeing it.
    fn message_id(&mut self) -> String {
        crate::protocol::origin::random_id("msg")
    }

    fn wait(&mut self, command: &str, waiting: Waiting, sent: bool) -> Tag {
        let tag = self.tag();
        self.wait_as(tag, command, waiting, sent);
        tag
    }

    /// Sends a presence as it is; `command` (if any) ends when it is
    /// written, a failure is reported.
    fn send_presence(&mut self, command: &str, presence: xmpp_parsers::presence::Presence) -> Tag {
        let tag = self.wait(command, Waiting::Sent, false);
        self.session.send(SessionCmd::Presence {
            presence: Box::new(presence),
            tag,
        });
        tag
    }

    /// [`App::wait`] for a tag the command already has.
    fn wait_as(&mut self, tag: Tag, command: &str, waiting: Waiting, sent: bool) {
        self.pending.insert(
            tag,
            Pending {
                command: command.to_string(),
                waiting,
                deadline: sent.then(|| Instant::now() + OUTCOME_TIMEOUT),
                sent,
            },
        );
    }

    /// The MUC join of command `tag` (`/join`'s, or a focus's once it
    /// named the room): archive shown, password noted, MAM first if we
    /// have history.
    fn join_tagged(
        &mut self,
        tag: Tag,
        command: &str,
        room: BareJid,
        nick: String,
        password: Option<String>,
    ) -> Vec<Event> {
        let mut events = self.store.apply(
            Input::Joining {
                room: room.clone(),
                nick: nick.clone(),
                protocol: Protocol::Muc,
            },
            Utc::now(),
        );
        let history = self.load_archive(&room, &mut events);
        self.store
            .invitations
            .note_password(&room, password.as_deref());
        self.wait_as(tag, command, Waiting::Join { room: room.clone() }, true);
        // Asks the room about MAM first when we hold its history.
        self.send_join(room, nick, password, history, tag);
        events
    }

    fn in_room(&self, room: &BareJid, command: &str) -> Result<(), Box<Event>> {
        match self.store.room(room).map(|r| r.state) {
            Some(JoinState::Joined | JoinState::Rejoining) => Ok(()),
            Some(JoinState::Joining) => Err(refuse(
                command,
                "not-acceptable",
                format!("still joining {room}"),
            )),
            _ => Err(refuse(
                command,
                "not-acceptable",
                format!("you are not in {room} (use /join {room})"),
            )),
        }
    }

    /// Starts a command. `text` is the command as the user wrote it (for
    /// the result event). `/wait`, `/sleep` and `/quit` belong to the
    /// caller (batch or TUI) and are refused here.
    pub fn execute(&mut self, cmd: Command, text: &str) -> Exec {
        match self.start(cmd, text) {
            Ok(exec) => exec,
            Err(e) => Exec::done(vec![*e]),
        }
    }

    fn start(&mut self, cmd: Command, text: &str) -> Result<Exec, Box<Event>> {
        Ok(match cmd {
            Command::Join {
                room,
                nick,
                password,
                options,
            } => {
                self.note_chatting_join(&room, password.is_some(), options.private);
                if let Some(JoinState::Joined) = self.store.room(&room).map(|r| r.state) {
                    return Err(refuse(text, "conflict", format!("already in {room}")));
                }
                if let Some(focus) = self.focus_for(&room, &options) {
                    let props = options.focus_props;
                    return self.start_focus_join(text, room, nick, password, focus, props);
                }
                // Generic conferencing or groupchat 1.0 (`app/conference.rs`).
                if let Some(exec) =
                    self.join_by_protocol(text, &room, &nick, &password, &options)?
                {
                    return Ok(exec);
                }
                let nick = nick.unwrap_or_else(|| self.opts.default_nick.clone());
                muc::occupant_jid(&room, &nick)
                    .map_err(|e| refuse(text, &e.condition, e.text.unwrap_or_default()))?;
                let tag = self.tag();
                let events = self.join_tagged(tag, text, room, nick, password);
                Exec {
                    events,
                    pending: Some(tag),
                }
            }
            Command::Part { room, reason } => {
                if self
                    .store
                    .room(&room)
                    .is_none_or(|r| r.state == JoinState::Left)
                {
                    return Err(refuse(
                        text,
                        "item-not-found",
                        format!("you are not in {room}"),
                    ));
                }
                if let Some(exec) = self.conference_part(text, &room) {
                    return Ok(exec);
                }
                self.store
                    .apply(Input::Leaving { room: room.clone() }, Utc::now());
                let tag = self.wait(text, Waiting::Left { room: room.clone() }, false);
                self.session.send(SessionCmd::Leave { room, reason, tag });
                Exec::pending(tag)
            }
            Command::Say { room, text: body } => {
                self.in_room(&room, text)?;
                let id = self.message_id();
                let message = muc::groupchat(&room, &body, &id);
                self.send_echoed(text, room, message, id)
            }
            Command::Correct { room, text: body } => self.start_correct(room, body, text)?,
            Command::Msg { to, text: body } => {
                let bare = to.to_bare();
                let private = to.resource().is_some() && self.store.room(&bare).is_some();
                if private {
                    self.in_room(&bare, text)?;
                }
                let id = self.message_id();
                let message = chat(self.wire_address(&to), &body, &id, private);
                let tag = self.wait(
                    text,
                    Waiting::SentChat {
                        to,
                        body,
                        id,
                        private,
                    },
                    false,
                );
                self.session.send(SessionCmd::Message {
                    message: Box::new(message),
                    room: private.then_some(bare),
                    tag,
                });
                Exec::pending(tag)
            }
            Command::Nick { room, nick } => {
                self.in_room(&room, text)?;
                if self.store.room(&room).is_some_and(|r| r.own_nick == nick) {
                    return Err(refuse(text, "conflict", format!("you are already {nick}")));
                }
                if let Some(exec) = self.conference_nick(text, &room, &nick) {
                    return Ok(exec);
                }
                let tag = self.wait(text, Waiting::Nick { room: room.clone() }, false);
                self.session.send(SessionCmd::Nick { room, nick, tag });
                Exec::pending(tag)
            }
            Command::Topic {
                room,
                text: subject,
            } => {
                self.in_room(&room, text)?;
                let id = self.message_id();
                let message = muc::subject(&room, &subject, &id);
                let tag = self.wait(
                    text,
                    Waiting::Subject {
                        room: room.clone(),
                        id,
                    },
                    false,
                );
                self.session.send(SessionCmd::Message {
                    message: Box::new(message),
                    room: Some(room),
                    tag,
                });
                Exec::pending(tag)
            }
            Command::Status {
                target,
                show,
                text: status,
            } => {
                let room = match target {
                    StatusTarget::All => {
                        self.own_presence = (show, status.clone());
                        self.conference_status(text, None, show, status.as_deref());
                        None
                    }
                    StatusTarget::Room(r) => {
                        self.in_room(&r, text)?;
                        if let Some(exec) =
                            self.conference_status(text, Some(&r), show, status.as_deref())
                        {
                            return Ok(exec);
                        }
                        Some(r)
                    }
                };
                let tag = self.wait(text, Waiting::Sent, false);
                self.session.send(SessionCmd::Status {
                    room,
                    show,
                    text: status,
                    tag,
                });
                Exec::pending(tag)
            }
            Command::Config { room, fields } => {
                let show_form = fields.is_empty();
                let payload = if show_form {
                    owner::get_config()
                } else {
                    owner::submit_config(&fields)
                };
                let then = if show_form {
                    let jid = room.to_string();
                    IqThen::new(move |_, command, result| {
                        // The text for batch, the form for the TUI's editor.
                        let r = result.and_then(|p| {
                            Ok((
                                owner::describe_form(p.as_ref())?,
                                rooms::form_event(&jid, "config", p.as_ref())?,
                            ))
                        });
                        match r {
                            Ok((text, form)) => IqStep::Done(vec![
                                Event::Info { text },
                                form,
                                App::result(command, Ok(())),
                            ]),
                            Err(e) => IqStep::Done(vec![App::result(command, Err(e))]),
                        }
                    })
                } else {
                    IqThen::ok()
                };
                self.start_iq(text, Some(room.into()), payload, !show_form, then)
            }
            Command::Rooms { service } => self.start_rooms(text, service),
            Command::Search { query, service } => self.start_search(text, query, service),
            Command::Info { room } => match self.conference_info(text, &room) {
                Some(exec) => exec,
                None => self.start_info(text, room),
            },
            Command::Browse { jid } => self.start_browse(text, jid),
            Command::Whois { room, nick } => self.start_whois(text, room, nick)?,
            Command::Create {
                room,
                nick,
                instant,
                fields,
            } => self.start_create_any(text, room, nick, instant, fields)?,
            Command::Destroy {
                room,
                reason,
                venue,
            } => self.start_destroy(text, room, reason, venue),
            Command::Moderate(m) => self.moderate(m, text)?,
            Command::Invite {
                room,
                to,
                reason,
                mediated,
            } => self.start_invite_send(text, room, to, reason, mediated),
            Command::Invitations => self.start_invitations(text),
            Command::Accept { id } => self.start_accept(text, id)?,
            Command::Decline { id, reason } => self.start_decline(text, id, reason)?,
            Command::Bookmark {
                room,
                autojoin,
                nick,
                password,
                name,
            } => self.start_bookmark(text, room, autojoin, nick, password, name)?,
            Command::Bookmarks => self.start_bookmark_list(text),
            Command::Unbookmark { room } => self.start_unbookmark(text, room),
            Command::Roster => self.start_roster(text),
            Command::AddContact { jid } => self.start_add_contact(text, jid),
            Command::RemoveContact { jid } => self.start_remove_contact(text, jid),
            Command::Approve { jid } => self.start_approve(text, jid),
            Command::Deny { jid } => self.start_deny(text, jid),
            Command::Where { contact } => self.start_where(text, contact),
            Command::Chatting { target, publish } => self.start_chatting(text, target, publish),
            Command::Call { room } => self.start_call(text, room)?,
            Command::Hangup => self.start_hangup(text)?,
            Command::Mute => self.start_mute(text, true)?,
            Command::Unmute => self.start_mute(text, false)?,
            Command::Deafen => self.start_deafen(text, true)?,
            Command::Undeafen => self.start_deafen(text, false)?,
            Command::Devices => self.start_devices(text)?,
            Command::CallConfig { room, fields } => self.call_config(text, room, fields),
            Command::Help { topic } => match crate::command::table::help_text(topic.as_deref()) {
                Ok(help) => Exec::done(vec![
                    Event::Info { text: help },
                    Event::Ok {
                        command: text.to_string(),
                    },
                ]),
                Err(e) => return Err(refuse(text, "bad-request", e)),
            },
            Command::Wait(_)
            | Command::Sleep(_)
            | Command::Quit
            | Command::Me { .. }
            | Command::Win(_)
            | Command::Layout { .. } => {
                return Err(refuse(
                    text,
                    "bad-request",
                    format!("/{} is not available here", cmd.name()),
                ));
            }
        })
    }
}

impl App {
    /// Shows the archived messages of a room and says which history to ask
    /// the room for: what came after the archive, or the last few.
    fn load_archive(&mut self, room: &BareJid, events: &mut Vec<Event>) -> HistoryRequest {
        let fallback =
            HistoryRequest::MaxStanzas(self.opts.history_load.min(u32::MAX as usize) as u32);
        let Some(h) = self.history.as_ref() else {
            return fallback;
        };
        let key = room.to_string();
        let loaded = h
            .recent(&key, self.opts.history_load)
            .and_then(|msgs| Ok((msgs, h.last_time(&key)?)));
        match loaded {
            Ok((messages, last)) => {
                events.extend(self.store.apply(
                    Input::Archive {
                        room: room.clone(),
                        messages,
                    },
                    Utc::now(),
                ));
                match last {
                    Some(t) => HistoryRequest::Since(t),
                    None => fallback,
                }
            }
            Err(e) => {
                events.push(self.history_broken(e));
                fallback
            }
        }
    }

    fn history_broken(&mut self, e: crate::history::HistoryError) -> Event {
        self.history = None;
        self.history_failed = true;
        Event::error(
            "history-unavailable",
            Some(format!(
                "{e}; messages are no longer archived in this session"
            )),
        )
    }

    /// Writes the messages that came in since the last call, in one
    /// transaction. Call it when a burst of events has been handled.
    pub fn flush_history(&mut self) -> Vec<Event> {
        let journal = self.store.take_journal();
        let Some(h) = self.history.as_mut() else {
            return Vec::new();
        };
        if journal.is_empty() {
            return Vec::new();
        }
        let records: Vec<Record> = journal
            .into_iter()
            .map(|(conv, message)| Record {
                conversation: conv.to_string(),
                message,
            })
            .collect();
        match h.append(&records) {
            Ok(_) => Vec::new(),
            Err(e) => vec![self.history_broken(e)],
        }
    }

    /// Takes a session event: updates the store, finishes the commands it
    /// answers. Returns the events to show, in order.
    pub fn on_session(&mut self, ev: SessionEvent) -> Vec<Event> {
        let ev = match ev {
            SessionEvent::Incoming(crate::protocol::Incoming::MamResult(r)) => {
                return self.on_mam_result(r);
            }
            SessionEvent::IqRequest(req) => return self.on_iq_request(req),
            ev => ev,
        };
        // Temporary JIDs of conference rooms become room/name.
        let Some(ev) = self.conference_incoming(ev) else {
            return Vec::new();
        };
        // A replayed line older than the room's window.
        if self.known_in_archive(&ev) {
            return Vec::new();
        }
        let mut results = Vec::new();
        match &ev {
            SessionEvent::Sent { tag } => {
                if let Some(p) = self.pending.get_mut(tag) {
                    p.sent = true;
                    p.deadline = Some(Instant::now() + OUTCOME_TIMEOUT);
                    let offline = self.store.connection != Connection::Online;
                    match p.waiting.clone() {
                        Waiting::Sent => results.extend(self.finish_ok(*tag)),
                        Waiting::SentChat {
                            to,
                            body,
                            id,
                            private,
                        } => {
                            let p = self.pending.remove(tag).expect("pending");
                            results.extend(self.store.apply(
                                Input::SentChat {
                                    to,
                                    body,
                                    id,
                                    private,
                                },
                                Utc::now(),
                            ));
                            results.push(Event::Ok { command: p.command });
                        }
                        // Offline, a nick change is only remembered for the
                        // rejoin: done.
                        Waiting::Nick { .. } if offline => results.extend(self.finish_ok(*tag)),
                        // Offline there is no room to confirm the leave.
                        Waiting::Left { .. } if offline => results.extend(self.finish_ok(*tag)),
                        _ => {}
                    }
                }
                return results;
            }
            SessionEvent::HttpResponse { tag, result } => {
                return self.on_http_response(*tag, result.clone());
            }
            SessionEvent::IqResponse { tag, result } => {
                if let Some(p) = self.pending.remove(tag) {
                    let Waiting::Iq(then) = p.waiting else {
                        return results;
                    };
                    let step = (then.0)(self, &p.command, result.clone());
                    results.extend(self.follow_step(*tag, p.command, step));
                    // A new room configured: XEP-0194 may publish it now.
                    let more = self.contacts_after_events(&results);
                    results.extend(more);
                }
                return results;
            }
            SessionEvent::SendFailed { tag, error } => {
                if let Some(p) = self.pending.remove(tag) {
                    results.push(Event::Error {
                        command: (!p.command.is_empty()).then_some(p.command),
                        room: None,
                        condition: error.condition.clone(),
                        text: error.text.clone(),
                        message_id: None,
                    });
                }
                return results;
            }
            SessionEvent::Fatal(e) => {
                // Nothing under way can finish now.
                let tags: Vec<Tag> = self.pending.keys().copied().collect();
                for tag in tags {
                    let p = self.pending.remove(&tag).expect("pending");
                    results.push(err_event(
                        &p.command,
                        &e.condition,
                        e.text.clone().unwrap_or_default(),
                    ));
                }
            }
            _ => {}
        }
        let events = match store_input::store_input(ev) {
            Some(input) => self.store.apply(input, Utc::now()),
            None => Vec::new(),
        };
        let mut out = Vec::with_capacity(events.len() + results.len());
        for e in events {
            match self.answers(&e) {
                None if self.rejoined_new_room(&e) => {
                    // After a server restart the room may be new: it stays
                    // locked for the others until configured.
                    let Event::Joined { room, .. } = &e else {
                        unreachable!()
                    };
                    let room = room.clone();
                    out.push(e);
                    let tag = self.wait("", Waiting::Join { room }, true);
                    self.request_instant_config(tag);
                }
                Some((tag, true)) if self.needs_instant_config(tag, &e) => {
                    // A new room stays locked until configured: accept the
                    // defaults (XEP-0045 instant room) before saying ok.
                    out.push(e);
                    self.request_instant_config(tag);
                }
                Some((tag, true)) if self.joins_then(tag) => {
                    out.push(e);
                    out.extend(self.continue_join(tag));
                }
                Some((tag, true)) => {
                    out.push(e);
                    out.extend(self.finish_ok(tag));
                }
                Some((tag, false)) => {
                    // The error is the command's result: say which command.
                    let p = self.pending.remove(&tag).expect("pending");
                    out.push(match e {
                        Event::Error {
                            room,
                            condition,
                            text,
                            message_id,
                            ..
                        } => Event::Error {
                            command: (!p.command.is_empty()).then_some(p.command),
                            room,
                            condition,
                            text,
                            message_id,
                        },
                        other => other,
                    });
                }
                None => out.push(e),
            }
        }
        // MAM catch-up on joins, corrections into the archive.
        let more = self.after_events(&out);
        out.extend(more);
        // Rooms entered through a Jitsi focus: rejoins ask it again.
        self.focus_after_events(&out);
        // XEP-0194 publications.
        let more = self.contacts_after_events(&out);
        out.extend(more);
        // A call does not survive the connection.
        if self.store.connection != Connection::Online {
            out.extend(self.call_lost());
        }
        out.extend(results);
        out
    }

    fn rejoined_new_room(&self, e: &Event) -> bool {
        let Event::Joined { room, .. } = e else {
            return false;
        };
        self.store
            .room(room)
            .is_some_and(|r| r.codes.contains(&201))
    }

    fn needs_instant_config(&self, tag: Tag, e: &Event) -> bool {
        let Event::Joined { room, .. } = e else {
            return false;
        };
        matches!(
            self.pending.get(&tag).map(|p| &p.waiting),
            Some(Waiting::Join { .. })
        ) && self
            .store
            .room(room)
            .is_some_and(|r| r.codes.contains(&201))
    }

    fn request_instant_config(&mut self, tag: Tag) {
        let Some(p) = self.pending.get_mut(&tag) else {
            return;
        };
        let Waiting::Join { room } = p.waiting.clone() else {
            return;
        };
        p.waiting = Waiting::Iq(IqThen::ok());
        p.deadline = Some(Instant::now() + OUTCOME_TIMEOUT);
        self.session.send(SessionCmd::Iq {
            to: Some(room.into()),
            payload: owner::submit_config(&[]),
            set: true,
            timeout: OUTCOME_TIMEOUT,
            tag,
        });
    }

    fn finish_ok(&mut self, tag: Tag) -> Option<Event> {
        let p = self.pending.remove(&tag).expect("pending command");
        (!p.command.is_empty()).then_some(Event::Ok { command: p.command })
    }

    /// Loads up to `limit` lines older than what a room (or conversation)
    /// holds from the archive; an empty result marks the archive exhausted.
    pub fn load_older(&mut self, room: &BareJid, limit: usize) -> Vec<Event> {
        let log = match self.store.room(room) {
            Some(r) => &r.messages,
            None => match self.store.conversations.get(room) {
                Some(c) => &c.messages,
                None => return Vec::new(),
            },
        };
        if !log.can_load_older() {
            return Vec::new();
        }
        let before = log.iter().next().map(|m| m.time).unwrap_or_else(Utc::now);
        let Some(h) = self.history.as_ref() else {
            // No archive: nothing older will ever come.
            return self.store.apply(
                Input::Older {
                    room: room.clone(),
                    messages: Vec::new(),
                    complete: true,
                },
                Utc::now(),
            );
        };
        match h.before(room.as_str(), before, limit) {
            Ok(messages) => {
                let complete = messages.len() < limit;
                self.store.apply(
                    Input::Older {
                        room: room.clone(),
                        messages,
                        complete,
                    },
                    Utc::now(),
                )
            }
            Err(e) => vec![self.history_broken(e)],
        }
    }

    /// Rooms we are in or entering (to leave at the end).
    pub fn active_rooms(&self) -> Vec<BareJid> {
        self.store
            .rooms()
            .filter(|r| r.state != JoinState::Left && r.state != JoinState::Leaving)
            .map(|r| r.jid.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Record;
    use crate::store::{Kind, Message};

    #[test]
    fn scrolling_back_loads_older_lines_from_the_archive() {
        let room = BareJid::new("r@conference.localhost").unwrap();
        let mut history = History::in_memory("alice@localhost").unwrap();
        let old: Vec<Record> = (0..300)
            .map(|i| Record {
                conversation: room.to_string(),
                message: Message {
                    kind: Kind::Chat,
                    seq: 0,
                    id: None,
                    stanza_id: Some(format!("s{i}")),
                    time: chrono::DateTime::from_timestamp(1_700_000_000 + i, 0).unwrap(),
                    nick: Some("bob".into()),
                    body: format!("old {i}"),
                    own: false,
                    private: false,
                    delayed: true,
                    archived: true,
                    edited: false,
                },
            })
            .collect();
        history.append(&old).unwrap();
        let (mut app, _rx) = App::for_tests_with("alice@localhost", 50, Some(history));
        let exec = fixtures::join(&mut app, &room);
        assert_eq!(
            exec.events[0].to_json()["count"],
            50,
            "the last 50 are shown on join"
        );
        app.on_session(App::self_presence(&room, "alice"));
        let first = |app: &App| {
            app.store
                .room(&room)
                .unwrap()
                .messages
                .iter()
                .next()
                .unwrap()
                .body
                .clone()
        };
        assert_eq!(first(&app), "old 250");
        let ev = app.load_older(&room, 200);
        assert_eq!(ev[0].to_json()["count"], 200);
        assert_eq!(first(&app), "old 50");
        let ev = app.load_older(&room, 200);
        assert_eq!(ev[0].to_json()["count"], 50);
        assert_eq!(first(&app), "old 0");
        // The archive is exhausted: no more queries.
        assert!(app.load_older(&room, 200).is_empty());
        assert!(!app.store.room(&room).unwrap().messages.more_in_archive);
        let seqs: Vec<i64> = app
            .store
            .room(&room)
            .unwrap()
            .messages
            .iter()
            .map(|m| m.seq)
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "lines stay in order");
    }
}
