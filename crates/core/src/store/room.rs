//! A room: its occupants and its messages, indexed for big rooms.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use jid::BareJid;

use confab_proto::OccupantInfo;
use confab_proto::muc::{Role, StatusCode};

pub use confab_proto::Protocol;
pub use fasten::{Lock, MAX_REACTORS, Meta, Reacted, Removed, set_reactions};

pub(super) mod fasten;

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
    /// The entries of `sorted` whose nick may imitate another's
    /// ([`crate::names::likely_imitation`]): only they can, so an arrival
    /// is checked against them, not against the whole room.
    suspects: BTreeSet<(Role, String)>,
    /// Bumped by every change: what a view derived from the occupants
    /// (look-alike nicks) is stale when it moves.
    revision: u64,
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
    /// Changes so far.
    pub fn revision(&self) -> u64 {
        self.revision
    }
    pub(super) fn insert(&mut self, occ: Occupant) -> Option<Occupant> {
        self.revision += 1;
        let old = self.remove(&occ.nick);
        self.sorted.insert((occ.info.role, occ.nick.clone()));
        if crate::names::likely_imitation(&occ.nick) {
            self.suspects.insert((occ.info.role, occ.nick.clone()));
        }
        self.by_nick.insert(occ.nick.clone(), occ);
        old
    }
    pub(super) fn remove(&mut self, nick: &str) -> Option<Occupant> {
        let old = self.by_nick.remove(nick)?;
        self.revision += 1;
        let key = (old.info.role, old.nick.clone());
        self.sorted.remove(&key);
        self.suspects.remove(&key);
        Some(old)
    }
    pub(super) fn clear(&mut self) {
        self.revision += 1;
        self.by_nick.clear();
        self.sorted.clear();
        self.suspects.clear();
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
        self.iter_sorted_from(0)
    }
    /// The occupants whose nick may imitate another's, in the order of
    /// [`Self::iter_sorted`].
    pub fn suspects(&self) -> impl Iterator<Item = &Occupant> + '_ {
        self.suspects
            .iter()
            .filter_map(|(_, nick)| self.by_nick.get(nick))
    }
    /// [`Self::iter_sorted`] past the first `skip` (skipped in the index,
    /// without looking them up).
    pub fn iter_sorted_from(&self, skip: usize) -> impl DoubleEndedIterator<Item = &Occupant> + '_ {
        self.sorted
            .iter()
            .skip(skip)
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
    /// News about the conversation itself (`body`; no nick): an OMEMO
    /// device of the contact seen for the first time, a changed key.
    Notice,
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
    /// What later stanzas and the sender added: the message answered,
    /// reactions, removal (`room/fasten.rs`).
    pub meta: Meta,
}

impl Message {
    /// A line of `kind` by `nick` at `time`; the rest unset: no ids, not
    /// ours, not private, not delayed, not from the archive, not edited
    /// (`seq` is the log's to set). Set more with struct update syntax:
    /// `Message { own: true, ..Message::new(Kind::Chat, now, nick, body) }`.
    pub fn new(kind: Kind, time: DateTime<Utc>, nick: Option<String>, body: String) -> Message {
        Message {
            kind,
            seq: 0,
            id: None,
            stanza_id: None,
            time,
            nick,
            body,
            own: false,
            private: false,
            delayed: false,
            archived: false,
            edited: false,
            meta: Meta::default(),
        }
    }

    /// Key under which duplicates are recognised: the stanza-id.
    pub fn dedup_key(&self) -> Option<&str> {
        self.stanza_id.as_deref()
    }
    /// What the line costs in a window: its text and the line itself
    /// (the indexes hold about the same again).
    pub fn weight(&self) -> usize {
        std::mem::size_of::<Message>()
            + self.body.len()
            + self.nick.as_ref().map_or(0, String::len)
            + self.id.as_ref().map_or(0, String::len)
            + self.stanza_id.as_ref().map_or(0, String::len)
            + self.meta.weight()
    }
    /// Key under which a copy of a message with an id is recognised
    /// however it came (a resent stanza a server delivered twice after a
    /// stream resumption, a history replay): id and sender; the key
    /// maps to [`Message::body_hash`], since some clients reuse ids.
    pub fn id_key(&self) -> Option<(&str, &str)> {
        let id = self.id.as_deref()?;
        (self.kind == Kind::Chat).then(|| (id, self.sender()))
    }
    /// The sender as the keys know it (no nick: empty).
    fn sender(&self) -> &str {
        self.nick.as_deref().unwrap_or("")
    }
    /// A hash of the body, for [`Message::id_key`].
    pub fn body_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.body.hash(&mut h);
        h.finish()
    }
    /// Fallback key for messages without a stanza-id: body and sender.
    pub fn content_key(&self) -> (&str, &str) {
        (&self.body, self.sender())
    }
}

/// Lines of a room or conversation held in memory: the window. Older
/// lines are in the archive (scrolling back loads them again); without
/// an archive (`--no-history`) they are gone.
pub const WINDOW_LINES: usize = 2_000;
/// Text held in a window at most (bodies, nicks, ids and the line itself,
/// see [`Message::weight`]): a room of very long messages holds fewer
/// lines.
pub const WINDOW_BYTES: usize = 2 * 1024 * 1024;
/// Lines scrolling back may load beyond the window, until the view goes
/// back to the newest line ([`MessageLog::shrink_to_window`]).
pub const SCROLLBACK_LINES: usize = 20_000;
/// Text scrolling back may load beyond the window.
pub const SCROLLBACK_BYTES: usize = 16 * 1024 * 1024;

/// Messages in arrival order, with the indexes that keep duplicate checks
/// O(1). Holds a window of the newest lines (at most `cap` lines and
/// `max_bytes` of text; the oldest go first and the archive keeps them),
/// plus what scrolling back loaded, up to [`SCROLLBACK_LINES`] more. The
/// indexes cover exactly the lines held: a copy of a line that left the
/// window is recognised by the archive (`App::known_in_archive`).
#[derive(Debug, Clone)]
pub struct MessageLog {
    messages: VecDeque<Message>,
    /// Stanza-ids ([`Message::dedup_key`]).
    seen: HashSet<String>,
    /// [`Message::content_key`]: body -> (sender, time), for messages
    /// without a stanza-id. Keyed by the body alone so that a look-up
    /// borrows the message's own text (no key is built per line).
    by_content: HashMap<String, Vec<(String, DateTime<Utc>)>>,
    /// [`Message::id_key`]: id -> (sender, [`Message::body_hash`]), one
    /// entry per sender.
    by_id: HashMap<String, Vec<(String, u64)>>,
    cap: usize,
    max_bytes: usize,
    /// [`Message::weight`] of the lines held.
    bytes: usize,
    /// Lines and bytes scrolling back loaded beyond the window.
    extra: usize,
    extra_bytes: usize,
    /// Lines that left the window so far.
    dropped: u64,
    /// Seq of the next line appended / of the oldest line held.
    next_seq: i64,
    first_seq: i64,
    /// Bumped whenever a line held changes in place (a correction): what
    /// was laid out from it is stale.
    revision: u64,
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
pub const SAME_MESSAGE_WINDOW_SECS: i64 = 120;

impl Default for MessageLog {
    fn default() -> Self {
        MessageLog::with_cap(WINDOW_LINES)
    }
}

impl MessageLog {
    /// A log holding at most `cap` lines (and [`WINDOW_BYTES`]).
    pub fn with_cap(cap: usize) -> MessageLog {
        MessageLog::with_limits(cap, WINDOW_BYTES)
    }

    /// A log holding at most `cap` lines and `max_bytes` of text (at least
    /// one line, however long).
    pub fn with_limits(cap: usize, max_bytes: usize) -> MessageLog {
        MessageLog {
            messages: VecDeque::new(),
            seen: HashSet::new(),
            by_content: HashMap::new(),
            by_id: HashMap::new(),
            cap: cap.max(1),
            max_bytes,
            bytes: 0,
            extra: 0,
            extra_bytes: 0,
            dropped: 0,
            next_seq: 0,
            first_seq: 0,
            revision: 0,
            more_in_archive: true,
        }
    }

    /// Lines that left the window since the log was made.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// [`Message::weight`] of the lines held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether scrolling back may load more: the archive may have older
    /// lines and the scrollback bound is not reached.
    pub fn can_load_older(&self) -> bool {
        self.more_in_archive
            && self.messages.len() < self.cap + SCROLLBACK_LINES
            && self.bytes < self.max_bytes + SCROLLBACK_BYTES
    }

    /// Forgets what scrolling back loaded beyond the window (the view is
    /// back at the newest line); returns how many lines left.
    pub fn shrink_to_window(&mut self) -> usize {
        if self.extra == 0 && self.extra_bytes == 0 {
            return 0;
        }
        self.extra = 0;
        self.extra_bytes = 0;
        self.trim()
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

    /// Changes in place so far (corrections, reactions, removals): a view that laid out lines
    /// lays them out again when this moves. Appended, prepended and
    /// dropped lines change the seqs held instead.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Appends an event line (no duplicate check, never archived).
    pub fn push_event(&mut self, mut m: Message) {
        m.seq = self.next_seq;
        self.next_seq += 1;
        if self.messages.is_empty() {
            self.first_seq = m.seq;
        }
        self.bytes += m.weight();
        self.messages.push_back(m);
        self.trim();
    }

    /// Puts older lines (oldest first) in front of what is held, beyond
    /// the window up to the scrollback bound; returns how many were new.
    pub fn prepend(&mut self, older: Vec<Message>) -> usize {
        let mut added = 0;
        for mut m in older.into_iter().rev() {
            if self.contains(&m) {
                continue;
            }
            let w = m.weight();
            let room_left = self.messages.len() < self.cap + SCROLLBACK_LINES
                && self.bytes + w <= self.max_bytes + SCROLLBACK_BYTES;
            if !room_left {
                break;
            }
            // Held beyond the window while the view is scrolled back.
            if self.messages.len() >= self.cap + self.extra {
                self.extra += 1;
            }
            if self.bytes + w > self.max_bytes + self.extra_bytes {
                self.extra_bytes = self.bytes + w - self.max_bytes;
            }
            self.bytes += w;
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
            self.seen.insert(k.to_string());
        }
        // A removed line has no content left to recognise it by.
        if m.meta.removed.is_none() {
            self.index_id(m);
        }
        if m.kind == Kind::Chat && m.meta.removed.is_none() {
            let (body, sender) = m.content_key();
            let entry = (sender.to_string(), m.time);
            match self.by_content.get_mut(body) {
                Some(times) => times.push(entry),
                None => {
                    self.by_content.insert(body.to_string(), vec![entry]);
                }
            }
        }
    }

    pub(super) fn index_id(&mut self, m: &Message) {
        if let Some((id, sender)) = m.id_key() {
            let hash = m.body_hash();
            match self.by_id.get_mut(id) {
                Some(senders) => match senders.iter_mut().find(|(s, _)| s == sender) {
                    Some((_, h)) => *h = hash,
                    None => senders.push((sender.to_string(), hash)),
                },
                None => {
                    self.by_id
                        .insert(id.to_string(), vec![(sender.to_string(), hash)]);
                }
            }
        }
    }

    /// Drops the oldest lines until the log is within its bounds (the
    /// newest line always stays); returns how many went.
    fn trim(&mut self) -> usize {
        let mut gone = 0;
        while self.messages.len() > 1
            && (self.messages.len() > self.cap + self.extra
                || self.bytes > self.max_bytes + self.extra_bytes)
            && let Some(old) = self.messages.pop_front()
        {
            self.bytes -= old.weight();
            self.forget(&old);
            self.first_seq = old.seq + 1;
            self.more_in_archive = true;
            self.dropped += 1;
            gone += 1;
        }
        gone
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
            && self.seen.contains(k)
        {
            return true;
        }
        if m.meta.removed.is_none()
            && let Some((id, sender)) = m.id_key()
            && let Some(senders) = self.by_id.get(id)
            && let Some((_, h)) = senders.iter().find(|(s, _)| s == sender)
            && *h == m.body_hash()
        {
            return true;
        }
        if (m.delayed || m.archived) && m.meta.removed.is_none() {
            let (body, sender) = m.content_key();
            if let Some(times) = self.by_content.get(body) {
                return times.iter().any(|(s, t)| {
                    s == sender && (*t - m.time).num_seconds().abs() <= SAME_MESSAGE_WINDOW_SECS
                });
            }
        }
        false
    }

    /// Appends unless it is a duplicate; returns whether it was added.
    pub fn push(&mut self, m: Message) -> bool {
        if self.contains(&m) {
            return false;
        }
        self.push_new(m);
        true
    }

    /// Appends a line the caller found not [`MessageLog::contains`]ed.
    pub(super) fn push_new(&mut self, m: Message) {
        self.index(&m);
        self.push_event(m);
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
            let before = m.weight();
            m.body = body.to_string();
            m.edited = true;
            self.revision += 1;
            let done = m.clone();
            self.bytes = self.bytes - before + done.weight();
            self.trim();
            return Correct::Done(done);
        }
        if other_sender {
            Correct::WrongSender
        } else {
            Correct::NotFound
        }
    }

    fn forget(&mut self, old: &Message) {
        if let Some(k) = old.dedup_key() {
            self.seen.remove(k);
        }
        if let Some((id, sender)) = old.id_key()
            && let Some(senders) = self.by_id.get_mut(id)
        {
            let hash = old.body_hash();
            if let Some(pos) = senders.iter().position(|(s, h)| s == sender && *h == hash) {
                senders.swap_remove(pos);
            }
            if senders.is_empty() {
                self.by_id.remove(id);
            }
        }
        if old.meta.removed.is_some() {
            return;
        }
        let (body, sender) = old.content_key();
        if let Some(times) = self.by_content.get_mut(body) {
            if let Some(pos) = times
                .iter()
                .position(|(s, t)| s == sender && *t == old.time)
            {
                times.swap_remove(pos);
            }
            if times.is_empty() {
                self.by_content.remove(body);
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
    pub codes: Vec<StatusCode>,
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
        (Some(trusted), Some(real)) => confab_proto::focus::is_trusted_focus(trusted, real),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
