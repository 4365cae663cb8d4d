//! The state store: rooms, occupants, messages, conversations, errors.
//!
//! Changed only by [`Store::apply`], plain data in and [`Event`]s out, so
//! it is tested without a network. Every input costs O(1) (or O(log n))
//! in the size of the room it touches.

mod bookmarks;
pub mod calls;
mod contacts;
mod continuity;
mod event;
mod invitations;
mod lookalike;
mod moderation;
mod room;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jid::{BareJid, FullJid, Jid};

pub use bookmarks::{BookmarkItem, Bookmarks};
pub use calls::{Call, CallState, Calls};
pub use contacts::{ContactItem, Contacts, PublishState, Publishing, RequestItem};
pub use event::{Event, LeftKind, OccupantAction};
pub use invitations::{DeclineItem, InvitationItem, Invitations};
pub use room::{
    JoinState, Kind, Message, MessageLog, Occupant, Occupants, Protocol, Room,
    SAME_MESSAGE_WINDOW_SECS, SCROLLBACK_BYTES, SCROLLBACK_LINES, WINDOW_BYTES, WINDOW_LINES,
};

use confab_proto::muc::{MucPresence, status_code_text};
use confab_proto::{ChatMessage, Dropped, ErrorInfo, Incoming, RoomMessage};

/// How long after logging in our server's offline messages (with its
/// `<delay/>`) are expected.
const OFFLINE_DELIVERY_SECS: i64 = 10;

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
    /// We sent a one-to-one or private message (no copy comes back).
    SentChat {
        to: Jid,
        body: String,
        id: String,
        private: bool,
    },
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
    rooms: HashMap<BareJid, Room>,
    /// Rooms and conversations in the order they were opened (the
    /// window list).
    order: Vec<BareJid>,
    pub conversations: HashMap<BareJid, Conversation>,
    pub errors: VecDeque<ErrorEntry>,
    /// New messages since the last [`Store::take_journal`] (to archive).
    journal: Vec<(BareJid, Message)>,
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
            rooms: HashMap::new(),
            order: Vec::new(),
            conversations: HashMap::new(),
            errors: VecDeque::new(),
            journal: Vec::new(),
            invitations: Invitations::new(),
            bookmarks: Bookmarks::new(),
            contacts: Contacts::new(),
            publishing: Publishing::default(),
            calls: Calls::default(),
        }
    }

    /// Messages added since the last call, for the archive.
    pub fn take_journal(&mut self) -> Vec<(BareJid, Message)> {
        std::mem::take(&mut self.journal)
    }

    fn add_message(
        journal: &mut Vec<(BareJid, Message)>,
        log: &mut MessageLog,
        key: &BareJid,
        m: Message,
    ) -> bool {
        if log.contains(&m) {
            return false;
        }
        journal.push((key.clone(), m.clone()));
        log.push(m)
    }

    pub fn room(&self, jid: &BareJid) -> Option<&Room> {
        self.rooms.get(jid)
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
                    }
                } else {
                    Event::Connected {
                        jid: jid.to_string(),
                        sasl: self.sasl.take(),
                    }
                });
            }
            Input::Disconnected { reason, retry_in } => {
                let was_online = self.connection == Connection::Online;
                self.connection = Connection::Offline;
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
            } => {
                let m = Message {
                    kind: Kind::Chat,
                    seq: 0,
                    id: Some(id.clone()),
                    stanza_id: None,
                    time: now,
                    nick: None,
                    body: body.clone(),
                    own: true,
                    private,
                    delayed: false,
                    archived: false,
                    edited: false,
                };
                let bare = to.to_bare();
                if private {
                    if let Some(r) = self.rooms.get_mut(&bare) {
                        let mut m = m;
                        m.nick = Some(r.own_nick.clone());
                        Self::add_message(&mut self.journal, &mut r.messages, &bare, m);
                    }
                    out.push(Event::Message {
                        room: Some(bare.clone()),
                        nick: to.resource().map(|r| r.to_string()),
                        from: None,
                        body,
                        private: true,
                        delayed: false,
                        own: true,
                        time: now.to_rfc3339(),
                        id: Some(id),
                    });
                } else {
                    let log =
                        &mut Self::conversation(&mut self.order, &mut self.conversations, &bare)
                            .messages;
                    Self::add_message(&mut self.journal, log, &bare, m);
                    out.push(Event::Message {
                        room: None,
                        nick: None,
                        from: Some(to.to_string()),
                        body,
                        private: false,
                        delayed: false,
                        own: true,
                        time: now.to_rfc3339(),
                        id: Some(id),
                    });
                }
            }
        }
        self.invitations.forget_joined(&out);
        out
    }

    fn event_line(r: &mut Room, kind: Kind, nick: &str, body: Option<String>, now: DateTime<Utc>) {
        r.messages.push_event(Message {
            kind,
            seq: 0,
            id: None,
            stanza_id: None,
            time: now,
            nick: Some(nick.to_string()),
            body: body.unwrap_or_default(),
            own: false,
            private: false,
            delayed: false,
            archived: false,
            edited: false,
        });
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

    fn apply_incoming(&mut self, inc: Incoming, now: DateTime<Utc>, out: &mut Vec<Event>) {
        match inc {
            Incoming::MucPresence(p) => self.apply_presence(p, now, out),
            Incoming::MucPresenceError {
                room,
                nick: _,
                error,
            } => {
                let Some(r) = self.rooms.get_mut(&room) else {
                    return;
                };
                if matches!(r.state, JoinState::Joining | JoinState::Rejoining) {
                    r.state = JoinState::Left;
                    r.occupants.clear();
                }
                self.push_error(Some(room.clone()), error.clone(), now);
                out.push(Event::Error {
                    command: None,
                    room: Some(room.clone()),
                    condition: error.condition,
                    text: error.text,
                    message_id: None,
                });
            }
            Incoming::RoomMessage(m) => self.apply_room_message(m, now, out),
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
            Incoming::Chat(c) => self.apply_chat(c, now, out),
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
            Incoming::Ignored(_) => {}
        }
    }

    fn apply_presence(&mut self, p: MucPresence, now: DateTime<Utc>, out: &mut Vec<Event>) {
        let Some(r) = self.rooms.get_mut(&p.room) else {
            // Not a room of ours: a contact's presence.
            self.apply_contact_presence(p, out);
            return;
        };
        if r.state == JoinState::Left {
            return;
        }
        let room_s = p.room.clone();
        // A presence from our own occupant JID is ours, status 110 or not
        // (ejabberd's destroy presence has none; groupchat 1.0 has no
        // codes at all): nicks are unique in a room.
        let is_self = p.is_self() || p.nick == r.own_nick;
        let trusted_focus = r.focus.clone();
        let occupant_event =
            |action, nick: &str, info: &confab_proto::OccupantInfo, old_nick: Option<String>| {
                Event::Occupant {
                    room: room_s.clone(),
                    nick: nick.to_string(),
                    action,
                    role: info.role,
                    affiliation: info.affiliation,
                    show: info.show,
                    status: info.status.clone(),
                    jid: info.jid.as_ref().map(|j| j.to_string()),
                    occupant_id: info.occupant_id.clone(),
                    old_nick,
                    is_self,
                    kind: (action == OccupantAction::Leave)
                        .then(|| moderation::leave_kind(&p.codes)),
                    reason: p.reason.clone(),
                    actor: p.actor.clone(),
                    was: None,
                    focus: room::is_trusted_focus(trusted_focus.as_ref(), info),
                    lookalike: None,
                }
            };

        if !p.available {
            // Nick change: the occupant moves to the new nick now; the
            // available presence under the new nick follows.
            if p.codes.contains(&303)
                && let Some(new_nick) = p.new_nick.clone()
            {
                // The occupant stays as they were (the unavailable
                // presence of a nick change says nothing of their show).
                let mut info = p.info.clone();
                if let Some(mut occ) = r.occupants.remove(&p.nick) {
                    info.show = occ.info.show;
                    info.status = occ.info.status.clone();
                    occ.nick = new_nick.clone();
                    r.occupants.insert(occ);
                }
                if is_self {
                    r.own_nick = new_nick.clone();
                }
                Self::event_line(r, Kind::NickChange, &new_nick, Some(p.nick.clone()), now);
                let mut ev =
                    occupant_event(OccupantAction::Nick, &new_nick, &info, Some(p.nick.clone()));
                lookalike::mark(r, &mut ev);
                out.push(ev);
                out.extend(lookalike::imitators_of(r, &room_s, &new_nick));
                return;
            }
            // The room is destroyed: it ends for us whoever the presence
            // is about (ejabberd sends it from every occupant, without 110).
            if is_self || p.destroyed.is_some() {
                let kind = if p.destroyed.is_some() {
                    LeftKind::Destroyed
                } else if p.codes.contains(&301) {
                    LeftKind::Banned
                } else if p.codes.contains(&307) {
                    LeftKind::Kicked
                } else if p.codes.iter().any(|c| matches!(c, 321 | 322 | 332 | 333)) {
                    LeftKind::Removed
                } else {
                    LeftKind::Left
                };
                if let Some(text) = moderation::leave_line(&p) {
                    Self::event_line(r, Kind::Moderation, &p.nick, Some(text), now);
                }
                r.state = JoinState::Left;
                r.occupants.clear();
                let (venue, dreason) = match &p.destroyed {
                    Some(d) => (d.venue.clone(), d.reason.clone()),
                    None => (None, None),
                };
                let reason = p.reason.clone().or(dreason).or_else(|| {
                    p.codes
                        .iter()
                        .filter(|c| matches!(c, 321 | 322 | 332 | 333))
                        .find_map(|c| status_code_text(*c).map(str::to_string))
                });
                out.push(Event::Left {
                    room: room_s,
                    kind,
                    reason,
                    actor: p.actor.clone(),
                    venue,
                });
                return;
            }
            if r.occupants.remove(&p.nick).is_some() {
                if r.state == JoinState::Joined {
                    if let Some(text) = moderation::leave_line(&p) {
                        Self::event_line(r, Kind::Moderation, &p.nick, Some(text), now);
                    } else {
                        let why = p.reason.clone().or_else(|| p.info.status.clone());
                        Self::event_line(r, Kind::Leave, &p.nick, why, now);
                    }
                }
                out.push(occupant_event(
                    OccupantAction::Leave,
                    &p.nick,
                    &p.info,
                    None,
                ));
            }
            return;
        }

        // Available presence: join or update.
        let was = continuity::note_occupant(r, &p.nick, &p.info);
        let generation = r.generation;
        let previous = r.occupants.insert(Occupant {
            nick: p.nick.clone(),
            info: p.info.clone(),
            generation,
        });
        match previous {
            None => {
                // Arrivals after our own join are lines in the timeline;
                // the occupant list we get on joining is not.
                if r.state == JoinState::Joined {
                    Self::event_line(r, Kind::Join, &p.nick, p.info.status.clone(), now);
                }
                let mut ev = occupant_event(OccupantAction::Join, &p.nick, &p.info, None);
                if let Event::Occupant { was: w, .. } = &mut ev {
                    *w = was;
                }
                lookalike::mark(r, &mut ev);
                out.push(ev);
                out.extend(lookalike::imitators_of(r, &room_s, &p.nick));
            }
            Some(old) if old.info != p.info => {
                if r.state == JoinState::Joined
                    && let Some(text) = moderation::change_line(&old.info, &p)
                {
                    Self::event_line(r, Kind::Moderation, &p.nick, Some(text), now);
                }
                let mut ev = occupant_event(OccupantAction::Update, &p.nick, &p.info, None);
                lookalike::mark(r, &mut ev);
                out.push(ev)
            }
            Some(old) if old.generation != generation => {
                // Seen again after a rejoin, unchanged: nothing to say.
            }
            Some(_) => {}
        }
        if is_self && matches!(r.state, JoinState::Joining | JoinState::Rejoining) {
            let rejoined = r.state == JoinState::Rejoining;
            r.state = JoinState::Joined;
            r.own_nick = p.nick.clone();
            r.codes = p.codes.clone();
            if rejoined {
                // Occupants who left while we were away.
                for nick in r.occupants.stale(generation) {
                    if let Some(o) = r.occupants.remove(&nick) {
                        let focus = r.is_focus(&o.info);
                        out.push(Event::Occupant {
                            room: room_s.clone(),
                            nick: o.nick,
                            action: OccupantAction::Leave,
                            role: o.info.role,
                            affiliation: o.info.affiliation,
                            show: "unavailable",
                            status: None,
                            jid: None,
                            occupant_id: o.info.occupant_id,
                            old_nick: None,
                            is_self: false,
                            kind: Some(LeftKind::Left),
                            reason: None,
                            actor: None,
                            was: None,
                            focus,
                            lookalike: None,
                        });
                    }
                }
            }
            let notices = p
                .codes
                .iter()
                .filter(|c| **c != 110)
                .filter_map(|c| status_code_text(*c).map(str::to_string))
                .collect();
            out.push(Event::Joined {
                room: room_s,
                nick: p.nick.clone(),
                protocol: r.protocol.as_str(),
                rejoined,
                notices,
            });
        }
    }

    fn apply_contact_presence(&mut self, p: MucPresence, out: &mut Vec<Event>) {
        let own = self.jid.as_ref().is_some_and(|j| j.to_bare() == p.room);
        if own || p.has_muc_user {
            return;
        }
        let Ok(from) = FullJid::new(&format!("{}/{}", p.room, p.nick)) else {
            return;
        };
        out.extend(
            self.contacts
                .presence(&from, p.available, p.info.show, p.info.status),
        );
    }

    fn apply_room_message(&mut self, m: RoomMessage, now: DateTime<Utc>, out: &mut Vec<Event>) {
        let Some(r) = self.rooms.get_mut(&m.room) else {
            return;
        };
        let own = m.nick.as_deref() == Some(r.own_nick.as_str());
        let msg = Message {
            kind: Kind::Chat,
            seq: 0,
            id: m.id.clone(),
            stanza_id: m.stanza_id.clone(),
            time: m.time.unwrap_or(now),
            nick: m.nick.clone(),
            body: m.body.clone(),
            own,
            private: false,
            delayed: m.delayed,
            archived: false,
            edited: false,
        };
        let time = msg.time.to_rfc3339();
        if !Self::add_message(&mut self.journal, &mut r.messages, &m.room, msg) {
            return;
        }
        out.push(Event::Message {
            room: Some(m.room.clone()),
            nick: m.nick,
            from: None,
            body: m.body,
            private: false,
            delayed: m.delayed,
            own,
            time,
            id: m.id,
        });
    }

    fn apply_chat(&mut self, mut c: ChatMessage, now: DateTime<Utc>, out: &mut Vec<Event>) {
        // A live one-to-one message is shown when it arrived, whatever
        // time it claims; only offline storage of our server, delivered
        // right after we log in, may say when it was sent.
        if let (Some(account), Some(since)) = (&self.jid, self.online_at)
            && now - since <= chrono::Duration::seconds(OFFLINE_DELIVERY_SECS)
        {
            c.trust_delay(&account.to_bare());
        }
        let bare = c.from.to_bare();
        let time = c.time.unwrap_or(now);
        let nick = c.from.resource().map(|r| r.to_string());
        if let (Some(r), Some(nick)) = (self.rooms.get_mut(&bare), nick) {
            // A private message from a room occupant.
            Self::add_message(
                &mut self.journal,
                &mut r.messages,
                &bare,
                Message {
                    kind: Kind::Chat,
                    seq: 0,
                    id: c.id.clone(),
                    stanza_id: None,
                    time,
                    nick: Some(nick.clone()),
                    body: c.body.clone(),
                    own: false,
                    private: true,
                    delayed: c.delayed,
                    archived: false,
                    edited: false,
                },
            );
            out.push(Event::Message {
                room: Some(bare.clone()),
                nick: Some(nick),
                from: None,
                body: c.body,
                private: true,
                delayed: c.delayed,
                own: false,
                time: time.to_rfc3339(),
                id: c.id,
            });
            return;
        }
        if self.rooms.contains_key(&bare) {
            // From the room itself (a service notice): a line of the room,
            // not a conversation hidden behind the room's window.
            let m = RoomMessage {
                room: bare,
                nick: None,
                body: c.body,
                id: c.id,
                stanza_id: None,
                time: c.time,
                delayed: c.delayed,
            };
            return self.apply_room_message(m, now, out);
        }
        let log = &mut Self::conversation(&mut self.order, &mut self.conversations, &bare).messages;
        Self::add_message(
            &mut self.journal,
            log,
            &bare,
            Message {
                kind: Kind::Chat,
                seq: 0,
                id: c.id.clone(),
                stanza_id: None,
                time,
                nick: Some(c.from.to_string()),
                body: c.body.clone(),
                own: false,
                private: false,
                delayed: c.delayed,
                archived: false,
                edited: false,
            },
        );
        out.push(Event::Message {
            room: None,
            nick: None,
            from: Some(c.from.to_string()),
            body: c.body,
            private: false,
            delayed: c.delayed,
            own: false,
            time: time.to_rfc3339(),
            id: c.id,
        });
    }
}

#[cfg(test)]
mod tests;
