//! Message intake: room messages, one-to-one and private messages (ours
//! included), each added once to its log and to the journal for the
//! archive; event lines of the timeline.

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};

use super::{Event, Kind, Message, MessageLog, Room, Store};
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
        log.push(m)
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
    pub(super) fn apply_sent_chat(
        &mut self,
        to: Jid,
        body: String,
        id: String,
        private: bool,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        let m = Message {
            id: Some(id.clone()),
            own: true,
            private,
            ..Message::new(Kind::Chat, now, None, body.clone())
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
                &mut Self::conversation(&mut self.order, &mut self.conversations, &bare).messages;
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
        let msg = Message {
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

    /// A one-to-one message, a private message from an occupant, or a
    /// room's notice.
    pub(super) fn apply_chat(
        &mut self,
        mut c: ChatMessage,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
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
                    id: c.id.clone(),
                    private: true,
                    delayed: c.delayed,
                    ..Message::new(Kind::Chat, time, Some(nick.clone()), c.body.clone())
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
                id: c.id.clone(),
                delayed: c.delayed,
                ..Message::new(Kind::Chat, time, Some(c.from.to_string()), c.body.clone())
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
