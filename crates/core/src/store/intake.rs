//! Message intake: room messages, one-to-one and private messages (ours
//! included), each added once to its log and to the journal for the
//! archive; event lines of the timeline.

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};

use super::{Event, Kind, Message, MessageLog, ReplyTo, Room, Store};
use confab_proto::reply::Reply;
use confab_proto::{ChatMessage, RoomMessage};

/// How long after logging in our server's offline messages (with its
/// `<delay/>`) are expected.
const OFFLINE_DELIVERY_SECS: i64 = 10;

impl Store {
    /// Adds a message to a log unless it holds it already, and to the
    /// journal; false for a duplicate.
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
        log.push_new(m);
        true
    }

    /// A line of the timeline that is not a message (join, leave, nick
    /// change, subject, moderation).
    pub(super) fn event_line(
        r: &mut Room,
        kind: Kind,
        nick: &str,
        body: Option<String>,
        now: DateTime<Utc>,
    ) {
        r.messages.push_event(Message::new(
            kind,
            now,
            Some(nick.to_string()),
            body.unwrap_or_default(),
        ));
    }

    /// We sent a one-to-one or private message (no copy comes back).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply_sent_chat(
        &mut self,
        to: Jid,
        body: String,
        id: String,
        private: bool,
        reply: Option<Reply>,
        e2e: Option<confab_proto::omemo_pep::E2e>,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let reply_to = reply.as_ref().map(ReplyTo::from);
        let mut m = Message {
            id: Some(id.clone()),
            own: true,
            private,
            ..Message::new(Kind::Chat, now, None, body.clone())
        };
        m.meta.reply = reply.map(Box::new);
        m.meta.lock = e2e.as_ref().map(super::Lock::of);
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
                attachments: super::attachments::of(&body),
                body,
                private: true,
                delayed: false,
                own: true,
                time: now.to_rfc3339(),
                id: Some(id),
                stanza_id: None,
                reply_to: reply_to.clone(),
                encrypted: e2e.clone(),
            });
        } else {
            let log =
                &mut Self::conversation(&mut self.order, &mut self.conversations, &bare).messages;
            Self::add_message(&mut self.journal, log, &bare, m);
            out.push(Event::Message {
                room: None,
                nick: None,
                from: Some(to.to_string()),
                attachments: super::attachments::of(&body),
                body,
                private: false,
                delayed: false,
                own: true,
                time: now.to_rfc3339(),
                id: Some(id),
                stanza_id: None,
                reply_to,
                encrypted: e2e,
            });
        }
    }

    /// A message in a room (also a notice from the room itself).
    pub(super) fn apply_room_message(
        &mut self,
        m: RoomMessage,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let Some(r) = self.rooms.get_mut(&m.room) else {
            return;
        };
        let own = m.nick.as_deref() == Some(r.own_nick.as_str());
        let mut msg = Message {
            id: m.id.clone(),
            stanza_id: m.stanza_id.clone(),
            own,
            delayed: m.delayed,
            ..Message::new(
                Kind::Chat,
                m.time.unwrap_or(now),
                m.nick.clone(),
                m.body.clone(),
            )
        };
        msg.meta.occupant_id = m.occupant_id.clone();
        msg.meta.lock = m.e2e.as_ref().map(super::Lock::of);
        let reply_to = m.reply.as_ref().map(ReplyTo::from);
        msg.meta.reply = m.reply.map(Box::new);
        let time = msg.time.to_rfc3339();
        if !Self::add_message(&mut self.journal, &mut r.messages, &m.room, msg) {
            return;
        }
        out.push(Event::Message {
            room: Some(m.room.clone()),
            nick: m.nick,
            from: None,
            attachments: super::attachments::of(&m.body),
            body: m.body,
            private: false,
            delayed: m.delayed,
            own,
            time,
            id: m.id,
            stanza_id: m.stanza_id,
            reply_to,
            encrypted: m.e2e,
        });
    }

    /// A one-to-one message, a private message from an occupant, or a
    /// room's notice, as it arrived live.
    pub(super) fn apply_chat(
        &mut self,
        mut c: ChatMessage,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let account = self.jid.as_ref().map(|j| j.to_bare());
        // A live one-to-one message is shown when it arrived, whatever
        // time it claims; only offline storage of our server, delivered
        // right after we log in, may say when it was sent.
        if let (Some(account), Some(since)) = (&account, self.online_at)
            && now - since <= chrono::Duration::seconds(OFFLINE_DELIVERY_SECS)
        {
            c.trust_delay(account);
        }
        let bare = c.from.to_bare();
        let time = c.time.unwrap_or(now);
        if c.from.resource().is_some() && self.rooms.contains_key(&bare) {
            // A private message from a room occupant.
            self.add_private(&c.from, false, c.body, c.id, time, c.delayed, out);
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
                occupant_id: None,
                reply: None,
                encrypted: None,
                e2e: None,
            };
            return self.apply_room_message(m, now, out);
        }
        // Our server's archive id, if it archived the message (the one
        // dedup key shared with carbons and the account's archive).
        let stanza_id = account.and_then(|a| c.stanza_id_by(&a).map(str::to_string));
        self.add_direct(
            Direct {
                peer: c.from,
                own: false,
                body: c.body,
                id: c.id,
                stanza_id,
                time,
                delayed: c.delayed,
                reply: c.reply,
                e2e: c.e2e,
            },
            out,
        );
    }

    /// A one-to-one message our own server forwarded: a XEP-0280 carbon
    /// (`stanza_id` none: the copy's own, if by our account) or a result
    /// of our account's archive (`stanza_id` its archive id). `time` is
    /// the forwarding's `<delay/>`, our server's and trusted. Ours when it
    /// is from our account (any resource): then the conversation is with
    /// its `to`. A private message in a room goes to that room if we are
    /// in it, else nowhere.
    pub(super) fn apply_forwarded(
        &mut self,
        c: ChatMessage,
        time: Option<DateTime<Utc>>,
        stanza_id: Option<String>,
        delayed: bool,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let Some(account) = self.jid.as_ref().map(|j| j.to_bare()) else {
            return;
        };
        let Some((peer, own)) = c.peer(&account) else {
            return;
        };
        let stanza_id = stanza_id.or_else(|| c.stanza_id_by(&account).map(str::to_string));
        let time = time.unwrap_or(now);
        let bare = peer.to_bare();
        if c.muc_user || self.rooms.contains_key(&bare) {
            if peer.resource().is_some() && self.rooms.contains_key(&bare) {
                self.add_private(&peer, own, c.body, c.id, time, delayed, out);
            }
            return;
        }
        self.add_direct(
            Direct {
                peer,
                own,
                body: c.body,
                id: c.id,
                stanza_id,
                time,
                delayed,
                reply: c.reply,
                e2e: c.e2e,
            },
            out,
        );
    }

    /// A private message in a room we are in, with `occupant`
    /// (`room/nick`); ours or theirs.
    #[allow(clippy::too_many_arguments)]
    fn add_private(
        &mut self,
        occupant: &Jid,
        own: bool,
        body: String,
        id: Option<String>,
        time: DateTime<Utc>,
        delayed: bool,
        out: &mut Vec<Event>,
    ) {
        let bare = occupant.to_bare();
        let (Some(r), Some(nick)) = (self.rooms.get_mut(&bare), occupant.resource()) else {
            return;
        };
        let nick = nick.to_string();
        let line_nick = if own {
            r.own_nick.clone()
        } else {
            nick.clone()
        };
        let m = Message {
            id: id.clone(),
            own,
            private: true,
            delayed,
            ..Message::new(Kind::Chat, time, Some(line_nick), body.clone())
        };
        if !Self::add_message(&mut self.journal, &mut r.messages, &bare, m) {
            return;
        }
        out.push(Event::Message {
            room: Some(bare),
            nick: Some(nick),
            from: None,
            attachments: super::attachments::of(&body),
            body,
            private: true,
            delayed,
            own,
            time: time.to_rfc3339(),
            id,
            stanza_id: None,
            reply_to: None,
            encrypted: None,
        });
    }

    /// Moves [`Store::account_mark`] to this archive id unless it holds a
    /// newer one.
    pub fn advance_account_mark(&mut self, stanza_id: &str, time: DateTime<Utc>) {
        if self.account_mark.as_ref().is_none_or(|m| m.time <= time) {
            self.account_mark = Some(ArchiveMark {
                stanza_id: stanza_id.to_string(),
                time,
            });
        }
    }

    /// The one intake of a one-to-one message (live, carbon, archive):
    /// added once to the conversation with `peer`, said once.
    fn add_direct(&mut self, d: Direct, out: &mut Vec<Event>) {
        let bare = d.peer.to_bare();
        if let Some(sid) = &d.stanza_id {
            self.advance_account_mark(sid, d.time);
        }
        // Ours: no nick, as [`Store::apply_sent_chat`] writes it.
        let nick = (!d.own).then(|| d.peer.to_string());
        let mut m = Message {
            id: d.id.clone(),
            stanza_id: d.stanza_id.clone(),
            own: d.own,
            delayed: d.delayed,
            ..Message::new(Kind::Chat, d.time, nick, d.body.clone())
        };
        let reply_to = d.reply.as_ref().map(ReplyTo::from);
        m.meta.reply = d.reply.map(Box::new);
        m.meta.lock = d.e2e.as_ref().map(super::Lock::of);
        let log = &mut Self::conversation(&mut self.order, &mut self.conversations, &bare).messages;
        if !Self::add_message(&mut self.journal, log, &bare, m) {
            return;
        }
        out.push(Event::Message {
            room: None,
            nick: None,
            from: Some(d.peer.to_string()),
            attachments: super::attachments::of(&d.body),
            body: d.body,
            private: false,
            delayed: d.delayed,
            own: d.own,
            time: d.time.to_rfc3339(),
            id: d.id,
            stanza_id: d.stanza_id,
            reply_to,
            encrypted: d.e2e,
        });
    }
}

/// A one-to-one message in the store's terms.
struct Direct {
    /// The contact (its full JID when known).
    peer: Jid,
    own: bool,
    body: String,
    id: Option<String>,
    /// The archive id our account's server gave it.
    stanza_id: Option<String>,
    time: DateTime<Utc>,
    delayed: bool,
    reply: Option<Reply>,
    e2e: Option<confab_proto::omemo_pep::E2e>,
}

/// The newest message of our account's archive we hold: where the next
/// catch-up of the archive starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveMark {
    pub stanza_id: String,
    pub time: DateTime<Utc>,
}

#[cfg(test)]
mod tests;
