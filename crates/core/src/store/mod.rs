//! The state store: rooms, occupants, messages, conversations, errors.
//!
//! Changed only by [`Store::apply`], plain data in and [`Event`]s out, so
//! it is tested without a network. Every input costs O(1) (or O(log n))
//! in the size of the room it touches.

pub mod attachments;
mod bookmarks;
pub mod calls;
mod contacts;
mod continuity;
mod conversations;
mod event;
mod fasten;
mod ignore;
mod intake;
mod invitations;
mod lookalike;
mod moderation;
mod presence;
mod room;
mod typing;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jid::{BareJid, FullJid, Jid};

pub use bookmarks::{BookmarkItem, Bookmarks};
pub use calls::{Call, CallState, Calls};
pub use contacts::{ContactItem, Contacts, PublishState, Publishing, RequestItem};
pub use event::{Event, FoundLine, LeftKind, OccupantAction, ReactionCount, ReplyTo};
pub use fasten::{ReactionWrite, Removal, SenderCheck};
pub use ignore::{IgnoreEntry, Ignores, MAX_IGNORED};
pub use intake::ArchiveMark;
pub use invitations::{DeclineItem, InvitationItem, Invitations};
pub use room::{
    JoinState, Kind, Lock, MAX_REACTORS, Message, MessageLog, Meta, Occupant, Occupants, Protocol,
    Reacted, Removed, Room, SAME_MESSAGE_WINDOW_SECS, SCROLLBACK_BYTES, SCROLLBACK_LINES,
    WINDOW_BYTES, WINDOW_LINES, set_reactions,
};
pub use typing::{ChatState, Typing, Typist};

use confab_proto::carbons::Copied;
use confab_proto::{ChatMessage, Dropped, ErrorInfo, Incoming};

/// What the store takes in. (A transient value, never stored: the size
/// difference between variants costs nothing.)
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Input {
    /// A connection attempt starts (attempt 1 is the first).
    Connecting { attempt: u32 },
    /// Logged in with this SASL mechanism (comes just before `Online`).
    LoggedIn { mechanism: String },
    /// Logged in and bound. `reconnect` is false the first time.
    Online { jid: FullJid, reconnect: bool },
    /// XEP-0198: the server would not resume the lost stream (said with
    /// the `reconnected` that follows).
    ResumeRefused { reason: String },
    /// XEP-0198: the lost stream was resumed; rooms are still joined and
    /// nothing was missed.
    Resumed { jid: FullJid },
    /// The connection was lost or an attempt failed; the next attempt is
    /// made after `retry_in`.
    Disconnected { reason: String, retry_in: Duration },
    /// The session gave up for good (wrong password, certificate error).
    Fatal(ErrorInfo),
    /// A stanza from the network, classified.
    Incoming(Incoming),
    /// A stanza that could not be parsed (it is dropped, never fatal).
    Malformed { from: Option<String>, text: String },
    /// An answer with the id of a request of ours from someone the request
    /// did not go to (dropped).
    Forged { from: Option<String>, text: String },
    /// A stanza past the parse limits, dropped unread.
    StanzaDropped(Dropped),
    /// The stream was closed at the app's request.
    Closed,
    /// The app starts joining a room.
    Joining {
        room: BareJid,
        nick: String,
        protocol: Protocol,
    },
    /// The app asked to leave a room.
    Leaving { room: BareJid },
    /// Older lines from the archive (scrolling back), oldest first;
    /// `complete` when the archive holds nothing older.
    Older {
        room: BareJid,
        messages: Vec<Message>,
        complete: bool,
    },
    /// Messages from the local archive for a room, oldest first.
    Archive {
        room: BareJid,
        messages: Vec<Message>,
    },
    /// Open the window of a one-to-one conversation with its archived
    /// lines (oldest first; before those it holds, for a window a message
    /// opened), with `unread` lines not read in the archive; `restored`:
    /// it was open when confab last ran. An open window stays as it is.
    OpenChat {
        jid: BareJid,
        messages: Vec<Message>,
        unread: usize,
        restored: bool,
    },
    /// Close a conversation's window (its lines leave memory).
    CloseChat { jid: BareJid },
    /// The conversation is read up to its newest line.
    ChatRead { jid: BareJid },
    /// A one-to-one message from our account's archive (XEP-0313), with
    /// its archive id and the archive's time; the app checked that it
    /// answers our query.
    AccountArchive {
        message: ChatMessage,
        stanza_id: String,
        time: Option<DateTime<Utc>>,
    },
    /// We sent a one-to-one or private message (no copy comes back).
    SentChat {
        to: Jid,
        body: String,
        id: String,
        private: bool,
        /// XEP-0461: the message it answers.
        reply: Option<confab_proto::reply::Reply>,
        /// Sent OMEMO-encrypted (by our device).
        e2e: Option<confab_proto::omemo_pep::E2e>,
    },
    /// Several inputs that one stanza or one step of the app means (a
    /// browse push's occupant changes; a join's window and its archive),
    /// applied in order as one.
    Batch(Vec<Input>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Offline,
    Connecting,
    Online,
    /// Gave up (see the last error).
    Failed,
}

/// One entry of the window list.
#[derive(Debug, Clone, Copy)]
pub enum Window<'a> {
    Room(&'a Room),
    Chat(&'a BareJid, &'a Conversation),
}

impl<'a> Window<'a> {
    pub fn jid(&self) -> &'a BareJid {
        match self {
            Window::Room(r) => &r.jid,
            Window::Chat(j, _) => j,
        }
    }
    pub fn messages(&self) -> &'a MessageLog {
        match self {
            Window::Room(r) => &r.messages,
            Window::Chat(_, c) => &c.messages,
        }
    }
    pub fn room(&self) -> Option<&'a Room> {
        match self {
            Window::Room(r) => Some(r),
            Window::Chat(..) => None,
        }
    }
}

/// A conversation with one contact.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub messages: MessageLog,
    /// Read up to the line of this seq in this session (`None`: not yet;
    /// the archive keeps the marker across restarts).
    pub read: Option<i64>,
    /// Its `window-opened` was told: a window a message opened is told
    /// once the app has loaded its archive (`Store::take_opened`).
    told: bool,
}

/// An error kept for the status line and `/errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEntry {
    pub time: DateTime<Utc>,
    pub room: Option<BareJid>,
    pub error: ErrorInfo,
}

const MAX_ERRORS: usize = 200;

#[derive(Debug)]
pub struct Store {
    pub jid: Option<FullJid>,
    pub connection: Connection,
    /// When the current connection came up: our server's offline messages
    /// (XEP-0160) arrive just after, and only then is a `<delay/>` from
    /// our server taken at its word.
    online_at: Option<DateTime<Utc>>,
    /// The SASL mechanism of the current login.
    sasl: Option<String>,
    /// Why the server would not resume the lost stream (XEP-0198), for
    /// the `reconnected` that follows.
    resume_refused: Option<String>,
    rooms: HashMap<BareJid, Room>,
    /// Rooms and conversations in the order they were opened (the
    /// window list).
    order: Vec<BareJid>,
    pub conversations: HashMap<BareJid, Conversation>,
    pub errors: VecDeque<ErrorEntry>,
    /// New messages since the last [`Store::take_journal`] (to archive).
    journal: Vec<(BareJid, Message)>,
    /// Removals since the last [`Store::take_removals`] (for the archive).
    removals: Vec<fasten::Removal>,
    /// Reactions since the last [`Store::take_reaction_writes`].
    reaction_writes: Vec<ReactionWrite>,
    /// Conversations a message opened since the last
    /// [`Store::take_opened`] (their archive is loaded by the app).
    opened: Vec<BareJid>,
    /// Pending invitations to rooms.
    pub invitations: Invitations,
    /// The account's room bookmarks.
    pub bookmarks: Bookmarks,
    /// Roster, contacts' presence and rooms, subscription requests.
    pub contacts: Contacts,
    /// Which of our rooms we publish (XEP-0194).
    pub publishing: Publishing,
    /// The call we are in, if any.
    pub calls: Calls,
    /// The newest one-to-one message with our account's archive id
    /// (live, carbon or archive): the account's catch-up starts after it.
    pub account_mark: Option<ArchiveMark>,
    /// Who is typing where (XEP-0085).
    pub typing: Typing,
    /// Whom we ignore (`/ignore`): dropped on the way in.
    pub ignores: Ignores,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl Store {
    pub fn new() -> Store {
        Store {
            jid: None,
            connection: Connection::Offline,
            online_at: None,
            sasl: None,
            resume_refused: None,
            rooms: HashMap::new(),
            order: Vec::new(),
            conversations: HashMap::new(),
            errors: VecDeque::new(),
            journal: Vec::new(),
            removals: Vec::new(),
            reaction_writes: Vec::new(),
            opened: Vec::new(),
            invitations: Invitations::new(),
            bookmarks: Bookmarks::new(),
            contacts: Contacts::new(),
            publishing: Publishing::default(),
            calls: Calls::default(),
            account_mark: None,
            typing: Typing::default(),
            ignores: Ignores::default(),
        }
    }

    /// Messages added since the last call, for the archive.
    pub fn take_journal(&mut self) -> Vec<(BareJid, Message)> {
        std::mem::take(&mut self.journal)
    }

    /// The conversations of the messages waiting for the archive (one per
    /// message), if nothing else waits for it (no removal, no reaction).
    pub fn journal_only(&self) -> Option<impl Iterator<Item = &BareJid>> {
        (self.removals.is_empty() && self.reaction_writes.is_empty())
            .then(|| self.journal.iter().map(|(c, _)| c))
    }

    /// How many messages wait for the archive.
    pub fn journal_len(&self) -> usize {
        self.journal.len()
    }

    /// Retractions and moderations since the last call, for the archive
    /// (after [`Store::take_journal`]).
    pub fn take_removals(&mut self) -> Vec<Removal> {
        std::mem::take(&mut self.removals)
    }

    /// Reactions since the last call, for the archive (after
    /// [`Store::take_journal`]).
    pub fn take_reaction_writes(&mut self) -> Vec<ReactionWrite> {
        std::mem::take(&mut self.reaction_writes)
    }

    pub fn room(&self, jid: &BareJid) -> Option<&Room> {
        self.rooms.get(jid)
    }

    /// A [`Kind::Notice`] line in the window of `jid` (a conversation or
    /// a room), if one is open; false when none is.
    pub fn notice(&mut self, jid: &BareJid, text: String, now: DateTime<Utc>) -> bool {
        let log = match (self.conversations.get_mut(jid), self.rooms.get_mut(jid)) {
            (Some(c), _) => &mut c.messages,
            (None, Some(r)) => &mut r.messages,
            (None, None) => return false,
        };
        log.push_event(Message::new(Kind::Notice, now, None, text));
        true
    }

    /// Forgets what scrolling back loaded beyond the window, in every
    /// room and conversation but `keep` (the one the user is reading
    /// back in, if any).
    pub fn shrink_windows(&mut self, keep: Option<&BareJid>) {
        let logs = self
            .rooms
            .iter_mut()
            .map(|(j, r)| (j, &mut r.messages))
            .chain(
                self.conversations
                    .iter_mut()
                    .map(|(j, c)| (j, &mut c.messages)),
            );
        for (jid, log) in logs {
            if Some(jid) != keep {
                log.shrink_to_window();
            }
        }
    }

    /// Sets the trusted Jitsi focus of a room (`app/focus.rs`).
    pub fn set_trusted_focus(&mut self, jid: &BareJid, focus: Option<Jid>) {
        if let Some(r) = self.rooms.get_mut(jid) {
            r.focus = focus;
        }
    }

    /// Rooms in the order they were opened.
    pub fn rooms(&self) -> impl Iterator<Item = &Room> + '_ {
        self.order.iter().filter_map(|j| self.rooms.get(j))
    }

    /// Rooms and one-to-one conversations, in the order they were opened.
    pub fn windows(&self) -> impl Iterator<Item = Window<'_>> + '_ {
        self.order.iter().filter_map(|j| {
            self.rooms
                .get(j)
                .map(Window::Room)
                .or_else(|| self.conversations.get(j).map(|c| Window::Chat(j, c)))
        })
    }

    /// The window of a room or contact.
    pub fn window(&self, jid: &BareJid) -> Option<Window<'_>> {
        if let Some(r) = self.rooms.get(jid) {
            return Some(Window::Room(r));
        }
        self.conversations
            .get_key_value(jid)
            .map(|(j, c)| Window::Chat(j, c))
    }

    /// The conversation with a contact, opened (and listed) if new.
    fn conversation<'s>(
        order: &mut Vec<BareJid>,
        conversations: &'s mut HashMap<BareJid, Conversation>,
        jid: &BareJid,
    ) -> &'s mut Conversation {
        // (A room's JID is listed already: one window each.)
        if !conversations.contains_key(jid) && !order.contains(jid) {
            order.push(jid.clone());
        }
        conversations.entry(jid.clone()).or_default()
    }

    /// Applies one input; returns what changed, as events.
    pub fn apply(&mut self, input: Input, now: DateTime<Utc>) -> Vec<Event> {
        let mut out = Vec::new();
        let windows = self.order.len();
        match input {
            Input::Connecting { attempt } => {
                self.connection = Connection::Connecting;
                // Every attempt after a failure or a lost connection.
                if attempt > 1 || self.jid.is_some() {
                    out.push(Event::Reconnecting { attempt });
                }
            }
            Input::LoggedIn { mechanism } => self.sasl = Some(mechanism),
            Input::Online { jid, reconnect } => {
                self.connection = Connection::Online;
                self.jid = Some(jid.clone());
                self.online_at = Some(now);
                if reconnect {
                    // Occupants not seen again after the rejoin are gone.
                    for r in self.rooms.values_mut() {
                        if r.state == JoinState::Rejoining {
                            r.generation += 1;
                        }
                    }
                }
                out.push(if reconnect {
                    Event::Reconnected {
                        jid: jid.to_string(),
                        sasl: self.sasl.take(),
                        resume_refused: self.resume_refused.take(),
                    }
                } else {
                    Event::Connected {
                        jid: jid.to_string(),
                        sasl: self.sasl.take(),
                    }
                });
            }
            Input::ResumeRefused { reason } => self.resume_refused = Some(reason),
            Input::Resumed { jid } => {
                self.connection = Connection::Online;
                self.jid = Some(jid.clone());
                self.online_at = Some(now);
                self.sasl = None;
                // The server kept us in the rooms: no rejoin follows.
                for r in self.rooms.values_mut() {
                    if r.state == JoinState::Rejoining {
                        r.state = JoinState::Joined;
                    }
                }
                out.push(Event::Resumed {
                    jid: jid.to_string(),
                });
            }
            Input::Disconnected { reason, retry_in } => {
                let was_online = self.connection == Connection::Online;
                self.connection = Connection::Offline;
                self.typing.clear_all();
                self.contacts.offline();
                for r in self.rooms.values_mut() {
                    if r.state == JoinState::Joined || r.state == JoinState::Joining {
                        r.state = JoinState::Rejoining;
                    }
                }
                // Report a lost connection once, not every failed attempt.
                if was_online || self.jid.is_none() {
                    out.push(Event::Disconnected {
                        reason,
                        retry_in: retry_in.as_secs_f64(),
                    });
                }
            }
            Input::Fatal(error) => {
                self.connection = Connection::Failed;
                self.push_error(None, error.clone(), now);
                out.push(Event::error(&error.condition, error.text));
            }
            Input::Incoming(inc) => self.apply_incoming(inc, now, &mut out),
            Input::Malformed { from, text } => {
                let error = ErrorInfo::new(
                    "malformed-stanza",
                    match &from {
                        Some(f) => format!("dropped a malformed stanza from {f}: {text}"),
                        None => format!("dropped a malformed stanza: {text}"),
                    },
                );
                self.push_error(None, error.clone(), now);
                out.push(Event::error(&error.condition, error.text));
            }
            Input::Forged { text, .. } => {
                // Like a malformed stanza: dropped, and said so.
                let error = ErrorInfo::new("forged-answer", text);
                self.push_error(None, error.clone(), now);
                out.push(Event::error(&error.condition, error.text));
            }
            Input::StanzaDropped(d) => {
                self.push_error(
                    None,
                    ErrorInfo::new(d.limit.reason(), Some(d.text.clone())),
                    now,
                );
                out.push(Event::StanzaDropped {
                    stanza: d.stanza,
                    from: d.from,
                    reason: d.limit.reason().to_string(),
                    text: d.text,
                });
            }
            Input::Closed => {
                self.connection = Connection::Offline;
            }
            Input::Batch(inputs) => {
                for input in inputs {
                    out.extend(self.apply(input, now));
                }
            }
            Input::Joining {
                room,
                nick,
                protocol,
            } => {
                if let Some(r) = self.rooms.get_mut(&room) {
                    r.state = JoinState::Joining;
                    r.own_nick = nick;
                    r.protocol = protocol;
                    r.occupants.clear();
                    r.codes.clear();
                    // Trusted again only if a focus says so (`app/focus.rs`).
                    r.focus = None;
                } else {
                    self.order.push(room.clone());
                    self.rooms
                        .insert(room.clone(), Room::new(room, nick, protocol));
                }
            }
            Input::Leaving { room } => {
                if let Some(r) = self.rooms.get_mut(&room) {
                    r.state = JoinState::Leaving;
                }
            }
            Input::Older {
                room,
                messages,
                complete,
            } => {
                let log = match self.rooms.get_mut(&room) {
                    Some(r) => &mut r.messages,
                    None => {
                        &mut Self::conversation(&mut self.order, &mut self.conversations, &room)
                            .messages
                    }
                };
                let count = log.prepend(messages);
                if complete {
                    log.more_in_archive = false;
                }
                if count > 0 {
                    out.push(Event::History {
                        room: room.to_string(),
                        count,
                    });
                }
            }
            Input::Archive { room, messages } => {
                if let Some(r) = self.rooms.get_mut(&room) {
                    let mut count = 0;
                    for m in messages {
                        if r.messages.push(m) {
                            count += 1;
                        }
                    }
                    if count > 0 {
                        out.push(Event::History {
                            room: room.to_string(),
                            count,
                        });
                    }
                }
            }
            Input::SentChat {
                to,
                body,
                id,
                private,
                reply,
                e2e,
            } => self.apply_sent_chat(to, body, id, private, reply, e2e, now, &mut out),
            Input::OpenChat {
                jid,
                messages,
                unread,
                restored,
            } => self.open_chat(jid, messages, unread, restored, &mut out),
            Input::CloseChat { jid } => self.close_chat(&jid, &mut out),
            Input::ChatRead { jid } => self.chat_read(&jid),
            // From the account's archive: an ignored contact's too is dropped.
            Input::AccountArchive { message, .. }
                if self.ignores.blocks_jid(&message.from.to_bare()) => {}
            Input::AccountArchive {
                message,
                stanza_id,
                time,
            } => self.apply_forwarded(message, time, Some(stanza_id), true, now, &mut out),
        }
        self.note_opened(windows);
        self.invitations.forget_joined(&out);
        out
    }

    fn push_error(&mut self, room: Option<BareJid>, error: ErrorInfo, now: DateTime<Utc>) {
        if self.errors.len() >= MAX_ERRORS {
            self.errors.pop_front();
        }
        self.errors.push_back(ErrorEntry {
            time: now,
            room,
            error,
        });
    }

    /// A chat state notice: shown for joined rooms (not our own nick)
    /// and open conversations; an event when what is shown changes.
    fn apply_chat_state(
        &mut self,
        n: confab_proto::chat_states::ChatStateNotice,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let (window, who, in_room) = match &n.room {
            Some(room) => {
                let Some(r) = self.rooms.get(room) else {
                    return;
                };
                let Some(nick) = n.from.resource() else {
                    return;
                };
                if r.state != JoinState::Joined || nick.as_str() == r.own_nick {
                    return;
                }
                (room.clone(), nick.to_string(), true)
            }
            None => {
                let bare = n.from.to_bare();
                let ours = self.jid.as_ref().is_some_and(|j| j.to_bare() == bare);
                if ours || !self.conversations.contains_key(&bare) {
                    return;
                }
                let who = bare.to_string();
                (bare, who, false)
            }
        };
        if self.typing.set(&window, &who, n.state, now) {
            out.push(Event::ChatState {
                room: in_room.then(|| window.clone()),
                nick: in_room.then(|| who.clone()),
                from: (!in_room).then_some(who),
                state: n.state.name(),
            });
        }
    }

    /// Whether `inc` comes from someone we ignore (dropped unseen).
    fn ignored(&self, inc: &Incoming) -> bool {
        let in_room = |room: &BareJid, nick: Option<&str>| {
            let (Some(r), Some(nick)) = (self.rooms.get(room), nick) else {
                return false;
            };
            nick != r.own_nick && self.ignores.blocks_occupant(r, nick)
        };
        match inc {
            Incoming::RoomMessage(m) => in_room(&m.room, m.nick.as_deref()),
            Incoming::Correction(c) => in_room(&c.room, c.nick.as_deref()),
            Incoming::Chat(c) if c.muc_user => {
                in_room(&c.from.to_bare(), c.from.resource().map(|r| r.as_str()))
            }
            Incoming::Chat(c) => self.ignores.blocks_jid(&c.from.to_bare()),
            // A copy of what an ignored contact sent to another client of ours.
            Incoming::Carbon(c) => self.ignores.blocks_jid(&c.message.from().to_bare()),
            Incoming::ChatState(n) => match &n.room {
                Some(room) => in_room(room, n.from.resource().map(|r| r.as_str())),
                None => self.ignores.blocks_jid(&n.from.to_bare()),
            },
            _ => false,
        }
    }

    fn apply_incoming(&mut self, inc: Incoming, now: DateTime<Utc>, out: &mut Vec<Event>) {
        if self.ignored(&inc) {
            return;
        }
        match inc {
            Incoming::MucPresence(p) => self.apply_presence(p, now, out),
            Incoming::MucPresenceError {
                room,
                nick: _,
                error,
            } => self.apply_presence_error(room, error, now, out),
            Incoming::RoomMessage(m) => {
                if let Some(nick) = &m.nick {
                    self.typing.clear(&m.room, nick);
                }
                self.apply_room_message(m, now, out)
            }
            Incoming::Subject {
                room,
                nick,
                subject,
                delayed: _,
            } => {
                let Some(r) = self.rooms.get_mut(&room) else {
                    return;
                };
                r.subject = Some(subject.clone());
                r.subject_nick = nick.clone();
                if !subject.is_empty() {
                    Self::event_line(
                        r,
                        Kind::Subject,
                        nick.as_deref().unwrap_or(""),
                        Some(subject.clone()),
                        now,
                    );
                }
                out.push(Event::Subject {
                    room: room.clone(),
                    nick,
                    subject,
                });
            }
            Incoming::Chat(c) => {
                let bare = c.from.to_bare();
                self.typing.clear(&bare, bare.as_str());
                self.apply_chat(c, now, out)
            }
            Incoming::ChatState(n) => self.apply_chat_state(n, now, out),
            // The session passed on only our own account's copies.
            Incoming::Carbon(c) => {
                let delayed = c.time.is_some();
                match c.message {
                    Copied::Chat(m) => self.apply_forwarded(m, c.time, None, delayed, now, out),
                    Copied::Reactions(r) => self.apply_reactions(r, out),
                    Copied::Retraction(r) => self.apply_retraction(r, now, out),
                }
            }
            Incoming::MessageError { from, id, error } => {
                let room = from
                    .as_ref()
                    .map(|f| f.to_bare())
                    .filter(|b| self.rooms.contains_key(b));
                self.push_error(room.clone(), error.clone(), now);
                out.push(Event::Error {
                    command: None,
                    room,
                    condition: error.condition,
                    text: error.text,
                    message_id: id,
                });
            }
            Incoming::VoiceRequest(vr) => self.apply_voice_request(vr, now, out),
            Incoming::Invitation(i) => out.push(self.invitations.receive(i, now)),
            Incoming::InvitationDeclined(d) => out.extend(self.invitations.declined(d)),
            Incoming::Correction(c) => self.apply_correction(c, now, out),
            Incoming::Reactions(r) => self.apply_reactions(r, out),
            Incoming::Retraction(r) => self.apply_retraction(r, now, out),
            Incoming::MucDropped { room, error } => self.apply_dropped(room, error, now, out),
            Incoming::Chatting(e) => {
                // Our own account's events: we know what we publish.
                if self.jid.as_ref().is_none_or(|j| j.to_bare() != e.from) {
                    out.extend(self.contacts.chatting(e));
                }
            }
            Incoming::Subscription(s) => out.push(self.contacts.subscription(s)),
            // Unwrapped by the app: only answers to its own queries count.
            Incoming::MamResult(_) => {}
            // Taken by the app's OMEMO (`app/omemo/notify.rs`).
            Incoming::OmemoDevices(_) => {}
            // Taken by the app (`app/call/direct.rs`) before the store.
            Incoming::CallMessage(_) => {}
            Incoming::Ignored(_) => {}
        }
    }
}

#[cfg(test)]
mod tests;
