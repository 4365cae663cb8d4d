//! A room: its occupants and its messages, indexed for big rooms.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use jid::BareJid;

use crate::protocol::OccupantInfo;
use crate::protocol::muc::Role;

/// Which protocol a room is spoken with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// XEP-0045 Multi-User Chat.
    Muc,
    /// Generic conferencing, `jabber:iq:conference`.
    Conference,
    /// groupchat 1.0 (plain presence).
    Groupchat,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Muc => "muc",
            Protocol::Conference => "conference",
            Protocol::Groupchat => "gc",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinState {
    /// Join presence sent, self-presence not yet seen.
    Joining,
    Joined,
    /// Connection lost; the session rejoins on reconnection.
    Rejoining,
    /// Leave asked for, not yet confirmed.
    Leaving,
    /// Out of the room.
    Left,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupant {
    pub nick: String,
    pub info: OccupantInfo,
    /// Join generation: occupants not seen again after a rejoin are gone.
    pub(super) generation: u32,
}

/// Occupants by nick, with a sorted index (role, then nick) for the
/// participant list. Every change is O(log n); lookups are O(1).
#[derive(Debug, Default, Clone)]
pub struct Occupants {
    by_nick: HashMap<String, Occupant>,
    sorted: BTreeSet<(Role, String)>,
}

impl Occupants {
    pub fn get(&self, nick: &str) -> Option<&Occupant> {
        self.by_nick.get(nick)
    }
    pub fn len(&self) -> usize {
        self.by_nick.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_nick.is_empty()
    }
    pub(super) fn insert(&mut self, occ: Occupant) -> Option<Occupant> {
        let old = self.remove(&occ.nick);
        self.sorted.insert((occ.info.role, occ.nick.clone()));
        self.by_nick.insert(occ.nick.clone(), occ);
        old
    }
    pub(super) fn remove(&mut self, nick: &str) -> Option<Occupant> {
        let old = self.by_nick.remove(nick)?;
        self.sorted.remove(&(old.info.role, old.nick.clone()));
        Some(old)
    }
    pub(super) fn clear(&mut self) {
        self.by_nick.clear();
        self.sorted.clear();
    }
    /// Nicks of occupants from an older generation.
    pub(super) fn stale(&self, generation: u32) -> Vec<String> {
        self.by_nick
            .values()
            .filter(|o| o.generation != generation)
            .map(|o| o.nick.clone())
            .collect()
    }
    /// Occupants sorted by role (moderators first), then nick.
    pub fn iter_sorted(&self) -> impl DoubleEndedIterator<Item = &Occupant> + '_ {
        self.sorted
            .iter()
            .filter_map(|(_, nick)| self.by_nick.get(nick))
    }
}

/// What a line of a room's timeline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// A message someone wrote (`/me` actions included: the body starts
    /// with `/me `).
    #[default]
    Chat,
    /// `nick` arrived (`body`: their status text, if any).
    Join,
    /// `nick` left (`body`: the reason, if any).
    Leave,
    /// `nick` is the new nick, `body` the old one.
    NickChange,
    /// `nick` set the subject to `body`.
    Subject,
    /// Moderation about `nick`: `body` says what, after the nick ("was
    /// kicked by alice (spam)", "now has voice").
    Moderation,
}

/// One line in a room or conversation: a message, or an event line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    /// Position in the log: increases with arrival; older lines loaded from
    /// the archive get smaller numbers. Set by the log.
    pub seq: i64,
    pub id: Option<String>,
    pub stanza_id: Option<String>,
    pub time: DateTime<Utc>,
    /// Sender's nick in a room (`None`: the room itself); in a one-to-one
    /// conversation, the sender's JID.
    pub nick: Option<String>,
    pub body: String,
    pub own: bool,
    pub private: bool,
    pub delayed: bool,
    /// Loaded from the local archive.
    pub archived: bool,
    /// The body was replaced by a XEP-0308 correction from its sender.
    pub edited: bool,
}

impl Message {
    /// Key under which duplicates are recognised.
    pub fn dedup_key(&self) -> Option<String> {
        self.stanza_id.as_ref().map(|s| format!("sid:{s}"))
    }
    /// Fallback key for messages without a stanza-id: sender and body.
    pub fn content_key(&self) -> String {
        format!("{}\u{0}{}", self.nick.as_deref().unwrap_or(""), self.body)
    }
}

/// Messages in arrival order, with the indexes that keep duplicate checks
/// O(1). Holds at most `cap` messages in memory (the oldest go first; the
/// archive keeps them).
#[derive(Debug, Clone)]
pub struct MessageLog {
    messages: VecDeque<Message>,
    seen: HashSet<String>,
    /// Content key -> times, for messages without a stanza-id.
    by_content: HashMap<String, Vec<DateTime<Utc>>>,
    cap: usize,
    /// Seq of the next line appended / of the oldest line held.
    next_seq: i64,
    first_seq: i64,
    /// Whether older lines than those held exist in the archive (unknown
    /// until a load comes back short).
    pub more_in_archive: bool,
}

/// What [`MessageLog::correct`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Correct {
    /// The message now reads the new body.
    Done(Message),
    /// Already corrected to this body (a replayed correction).
    Unchanged,
    /// The id belongs to someone else's message: ignored.
    WrongSender,
    NotFound,
}

/// How far apart two copies of one message may be stamped (server delay
/// stamp vs. our arrival time).
const SAME_MESSAGE_WINDOW_SECS: i64 = 120;

impl Default for MessageLog {
    fn default() -> Self {
        MessageLog::with_cap(200_000)
    }
}

impl MessageLog {
    pub fn with_cap(cap: usize) -> MessageLog {
        MessageLog {
            messages: VecDeque::new(),
            seen: HashSet::new(),
            by_content: HashMap::new(),
            cap,
            next_seq: 0,
            first_seq: 0,
            more_in_archive: true,
        }
    }

    /// Lines from `seq` on (for the view: what is new since a marker).
    pub fn since(&self, seq: i64) -> impl Iterator<Item = &Message> + '_ {
        let skip = (seq - self.first_seq).clamp(0, self.messages.len() as i64) as usize;
        self.messages.iter().skip(skip)
    }

    /// The line at an index (0 = oldest held).
    pub fn get(&self, index: usize) -> Option<&Message> {
        self.messages.get(index)
    }

    /// Seq of the next line to be appended.
    pub fn next_seq(&self) -> i64 {
        self.next_seq
    }

    /// Appends an event line (no duplicate check, never archived).
    pub fn push_event(&mut self, mut m: Message) {
        m.seq = self.next_seq;
        self.next_seq += 1;
        if self.messages.is_empty() {
            self.first_seq = m.seq;
        }
        self.messages.push_back(m);
        self.trim();
    }

    /// Puts older lines (oldest first) in front of what is held; returns
    /// how many were new.
    pub fn prepend(&mut self, older: Vec<Message>) -> usize {
        let mut added = 0;
        for mut m in older.into_iter().rev() {
            if self.contains(&m) {
                continue;
            }
            self.index(&m);
            if self.messages.is_empty() {
                m.seq = self.next_seq;
                self.next_seq += 1;
                self.first_seq = m.seq;
            } else {
                self.first_seq -= 1;
                m.seq = self.first_seq;
            }
            self.messages.push_front(m);
            added += 1;
        }
        added
    }

    fn index(&mut self, m: &Message) {
        if let Some(k) = m.dedup_key() {
            self.seen.insert(k);
        }
        if m.kind == Kind::Chat {
            self.by_content
                .entry(m.content_key())
                .or_default()
                .push(m.time);
        }
    }

    fn trim(&mut self) {
        if self.messages.len() > self.cap
            && let Some(old) = self.messages.pop_front()
        {
            self.forget(&old);
            self.first_seq = old.seq + 1;
            self.more_in_archive = true;
        }
    }
    pub fn len(&self) -> usize {
        self.messages.len()
    }
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Message> + ExactSizeIterator + '_ {
        self.messages.iter()
    }
    pub fn last(&self) -> Option<&Message> {
        self.messages.back()
    }

    /// Whether `m` is already here.
    pub fn contains(&self, m: &Message) -> bool {
        if let Some(k) = m.dedup_key()
            && self.seen.contains(&k)
        {
            return true;
        }
        if (m.delayed || m.archived)
            && let Some(times) = self.by_content.get(&m.content_key())
        {
            return times
                .iter()
                .any(|t| (*t - m.time).num_seconds().abs() <= SAME_MESSAGE_WINDOW_SECS);
        }
        false
    }

    /// Appends unless it is a duplicate; returns whether it was added.
    pub fn push(&mut self, m: Message) -> bool {
        if self.contains(&m) {
            return false;
        }
        self.index(&m);
        self.push_event(m);
        true
    }

    /// Replaces the body of the newest message with this id (message id
    /// or origin-id) from `nick`, and marks it edited. Only a message of
    /// the same sender is touched (XEP-0308 §5).
    pub fn correct(&mut self, id: &str, nick: Option<&str>, body: &str) -> Correct {
        let mut other_sender = false;
        for m in self.messages.iter_mut().rev() {
            if m.kind != Kind::Chat || m.private || m.id.as_deref() != Some(id) {
                continue;
            }
            if m.nick.as_deref() != nick {
                other_sender = true;
                continue;
            }
            if m.edited && m.body == body {
                return Correct::Unchanged;
            }
            m.body = body.to_string();
            m.edited = true;
            return Correct::Done(m.clone());
        }
        if other_sender {
            Correct::WrongSender
        } else {
            Correct::NotFound
        }
    }

    fn forget(&mut self, old: &Message) {
        if let Some(k) = old.dedup_key() {
            self.seen.remove(&k);
        }
        let key = old.content_key();
        if let Some(times) = self.by_content.get_mut(&key) {
            if let Some(pos) = times.iter().position(|t| *t == old.time) {
                times.swap_remove(pos);
            }
            if times.is_empty() {
                self.by_content.remove(&key);
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Room {
    pub jid: BareJid,
    pub name: Option<String>,
    pub subject: Option<String>,
    pub subject_nick: Option<String>,
    pub protocol: Protocol,
    pub state: JoinState,
    pub own_nick: String,
    pub occupants: Occupants,
    pub messages: MessageLog,
    /// Status codes seen on join (100, 170, 201, ...).
    pub codes: Vec<u16>,
    pub(super) generation: u32,
    /// XEP-0421 occupant-id -> the nick it was last seen with.
    pub occupant_ids: HashMap<String, String>,
    /// The trusted focus of a Jitsi conference (the `focusjid` of the
    /// focus's `ready` answer, `app/focus.rs`): the occupant with this
    /// real JID is the focus.
    pub focus: Option<jid::Jid>,
}

impl Room {
    pub fn new(jid: BareJid, nick: String, protocol: Protocol) -> Room {
        Room {
            jid,
            name: None,
            subject: None,
            subject_nick: None,
            protocol,
            state: JoinState::Joining,
            own_nick: nick,
            occupants: Occupants::default(),
            messages: MessageLog::default(),
            codes: Vec::new(),
            generation: 0,
            occupant_ids: HashMap::new(),
            focus: None,
        }
    }

    /// Whether this occupant is the room's trusted focus (its real JID,
    /// where the room shows it, is the focus's).
    pub fn is_focus(&self, info: &OccupantInfo) -> bool {
        is_trusted_focus(self.focus.as_ref(), info)
    }
}

/// Whether the occupant's real JID, where the room shows it, is that of
/// the trusted focus.
pub(super) fn is_trusted_focus(trusted: Option<&jid::Jid>, info: &OccupantInfo) -> bool {
    match (trusted, &info.jid) {
        (Some(trusted), Some(real)) => crate::protocol::focus::is_trusted_focus(trusted, real),
        _ => false,
    }
}
