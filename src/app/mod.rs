//! The app: the one owner of the store. It turns commands into session
//! requests, session events into store inputs, and follows every command
//! until its one result event (`ok` or `error`).

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use jid::{BareJid, Jid};
use tokio::time::Instant;

use crate::command::{Command, Show, StatusTarget};
use crate::history::History;
use crate::protocol::ErrorInfo;
use crate::protocol::message::chat;
use crate::protocol::muc;
use crate::protocol::owner;
use crate::protocol::reply::Reply;
use crate::session::{SessionCmd, SessionHandle, Tag};
use crate::store::{Event, Input, JoinState, Store};

mod archive;
mod bookmarks;
mod buffer;
mod call;
mod chat_states;
mod chatting;
mod conference;
mod continuity;
mod conversations;
mod drain;
mod fasten;
pub mod files;
#[cfg(test)]
pub(crate) mod fixtures;
mod focus;
mod intake;
mod invite;
mod join;
mod loop_event;
mod moderation;
mod omemo;
mod outcomes;
mod pep;
mod requests;
mod rooms;
mod roster;
mod store_input;
mod window;
mod xml_console;

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
        /// XEP-0461: the message it answers.
        reply: Option<Reply>,
        /// Sent OMEMO-encrypted (`app/omemo`).
        e2e: Option<crate::protocol::omemo_pep::E2e>,
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
    /// `/record`: the media task started or stopped the recording.
    Record,
    /// `/devices input|output SPEC`: the media task switched (or not).
    Device,
    /// `/upload`, `/save`: the transfer's end (no deadline: files take
    /// what they take; `/cancel` stops them).
    Transfer,
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
    /// Where `/export` writes without a FILE.
    pub export_dir: std::path::PathBuf,
    /// Where `/record` makes its folder without a DIR.
    pub recordings_dir: std::path::PathBuf,
    /// `[files]`: downloads and the opener.
    pub files: files::FilesOptions,
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
    /// Our XEP-0085 chat states (`app/chat_states.rs`).
    chat_states: chat_states::ChatStates,
    /// `/xmlconsole` (`app/xml_console.rs`).
    xml: xml_console::XmlConsole,
    /// The upload service and the transfers under way (`app/files.rs`).
    files: files::FilesState,
    /// OMEMO: the key store, our device, contacts' devices (`app/omemo`).
    omemo: omemo::OmemoState,
}

pub use drain::{DRAIN_TIMEOUT, Drained};
pub use focus::machine_uid;
pub use loop_event::{LoopEvent, LoopEvents, LoopInput, merge, sleep_until};

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
        let mut app = App {
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
            chat_states: chat_states::ChatStates::default(),
            xml: Default::default(),
            files: Default::default(),
            omemo: Default::default(),
        };
        app.load_ignores();
        app
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
        let tag = self.tag();
        self.send_echoed_as(tag, command, room, message, id);
        Exec::pending(tag)
    }

    /// [`App::send_echoed`] under a tag the command has already.
    pub(crate) fn send_echoed_as(
        &mut self,
        tag: Tag,
        command: &str,
        room: BareJid,
        message: xmpp_parsers::message::Message,
        id: String,
    ) {
        let body = message.bodies.values().next().cloned().unwrap_or_default();
        self.wait_as(
            tag,
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
        // What XML cannot carry can reach no server (and would be kept,
        // e.g. as our status, for every presence after it).
        if let Some(c) = confab_proto::xml_chars::forbidden_in(text) {
            return Exec::done(vec![*refuse(
                text,
                "not-acceptable",
                format!(
                    "U+{:04X} cannot be sent: XML does not allow this control character",
                    c as u32
                ),
            )]);
        }
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
            } => self.start_join(text, room, nick, password, options)?,
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
                if self.omemo_enabled(&room) {
                    return self.start_omemo_room_say(text, room, body);
                }
                let id = self.message_id();
                let message = muc::groupchat(&room, &body, &id);
                let message = self.with_chat_state(&room, message);
                self.send_echoed(text, room, message, id)
            }
            Command::Correct { room, text: body } => self.start_correct(room, body, text)?,
            Command::React { to, target, emojis } => {
                self.start_react(text, &to, &target, emojis)?
            }
            Command::Reply {
                to,
                target,
                text: body,
            } => self.start_reply(text, &to, &target, body)?,
            Command::Retract { to, target } => self.start_retract(text, &to, &target)?,
            Command::RemoveMessage {
                room,
                target,
                reason,
            } => self.start_remove_message(text, room, &target, reason)?,
            Command::Msg { to, text: body } => {
                let bare = to.to_bare();
                let private = to.resource().is_some() && self.store.room(&bare).is_some();
                if private {
                    self.in_room(&bare, text)?;
                }
                if !private && self.omemo_enabled(&bare) {
                    return self.start_omemo_msg(text, to, body);
                }
                let id = self.message_id();
                let mut message = chat(self.wire_address(&to), &body, &id, private);
                if !private {
                    message = self.with_chat_state(&bare, message);
                }
                let tag = self.wait(
                    text,
                    Waiting::SentChat {
                        to,
                        body,
                        id,
                        private,
                        reply: None,
                        e2e: None,
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
            Command::OpenChat { jid } => self.start_open_chat(text, jid)?,
            Command::Close { jid } => self.start_close(text, jid)?,
            Command::Read { jid } => self.start_read(text, jid)?,
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
            Command::Omemo { action, jid } => self.start_omemo(text, action, jid)?,
            Command::Find {
                text: words,
                within,
            } => self.start_find(text, words, within)?,
            Command::Export { of, file, json } => self.start_export(text, of, file, json)?,
            Command::Ignore { jid, nick } => self.start_ignore(text, jid, nick)?,
            Command::Unignore { jid, nick } => self.start_unignore(text, jid, nick)?,
            Command::Ignored => self.start_ignored(text),
            Command::Upload { to: Some(to), path } => self.start_upload(text, to, &path)?,
            Command::Upload { to: None, .. } => {
                return Err(refuse(
                    text,
                    "bad-request",
                    "name the room or contact: /upload PATH ROOM|JID",
                ));
            }
            Command::Save { of, target, path } => {
                self.start_save(text, &of, &target, path.as_deref())?
            }
            Command::Open { of, target } => self.open_url(text, &of, &target)?,
            Command::Cancel => self.cancel_transfers(text),
            Command::Call { room } => self.start_call(text, room)?,
            Command::AnswerCall => self.start_answer(text)?,
            Command::RejectCall => self.start_reject(text)?,
            Command::Hangup => self.start_hangup(text)?,
            Command::Mute => self.start_mute(text, true)?,
            Command::Unmute => self.start_mute(text, false)?,
            Command::Deafen => self.start_deafen(text, true)?,
            Command::Undeafen => self.start_deafen(text, false)?,
            Command::Devices => self.start_devices(text)?,
            Command::SwitchDevice { output, spec } => {
                self.start_switch_device(text, output, &spec)?
            }
            Command::Denoise { mode } => self.start_denoise(text, &mode)?,
            Command::Record { dir } => self.start_record(text, dir)?,
            Command::RecordStop => self.start_record_stop(text)?,
            Command::CallConfig { room, fields } => self.call_config(text, room, fields),
            Command::XmlConsole { on, filter } => self.start_xml_console(text, on, filter),
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
            | Command::Clear
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
    /// Rooms we are in or entering (to leave at the end).
    pub fn active_rooms(&self) -> Vec<BareJid> {
        self.store
            .rooms()
            .filter(|r| r.state != JoinState::Left && r.state != JoinState::Leaving)
            .map(|r| r.jid.clone())
            .collect()
    }
}
