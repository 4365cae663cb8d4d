//! One-to-one windows: opened with their archived lines (by `/msg JID`,
//! at start for those open when confab last ran, or by a message in or
//! out, whose archive the app then loads), closed (`/close`), read up to a
//! time (the marker that unread counts start from).

use jid::BareJid;

use super::{Conversation, Event, Kind, Message, Store};

impl Conversation {
    /// Lines of others not read in this session, among those held.
    pub fn unread_held(&self) -> usize {
        self.messages
            .iter()
            .rev()
            .take_while(|m| self.read.is_none_or(|r| m.seq > r))
            .filter(|m| m.kind == Kind::Chat && !m.own)
            .count()
    }

    /// Seq of the `n`th newest line of others (where the "new messages"
    /// line goes when `n` are unread), if held.
    pub fn nth_newest_of_others(&self, n: usize) -> Option<i64> {
        let n = n.checked_sub(1)?;
        self.messages
            .iter()
            .rev()
            .filter(|m| m.kind == Kind::Chat && !m.own)
            .nth(n)
            .map(|m| m.seq)
    }

    /// Whether lines came since it was last read.
    pub fn has_unread(&self) -> bool {
        self.messages
            .last()
            .is_some_and(|m| self.read.is_none_or(|r| m.seq > r))
    }
}

impl Store {
    /// Conversations opened by a message since the last call.
    pub fn take_opened(&mut self) -> Vec<BareJid> {
        std::mem::take(&mut self.opened)
    }

    /// Whether a one-to-one window is open with `jid` (and told).
    pub fn has_conversation(&self, jid: &BareJid) -> bool {
        self.conversations.get(jid).is_some_and(|c| c.told)
    }

    pub(super) fn open_chat(
        &mut self,
        jid: BareJid,
        messages: Vec<Message>,
        unread: usize,
        restored: bool,
        out: &mut Vec<Event>,
    ) {
        if self.rooms.contains_key(&jid) {
            return;
        }
        if !self.conversations.contains_key(&jid) {
            self.order.push(jid.clone());
        }
        let c = self.conversations.entry(jid.clone()).or_default();
        if c.told {
            return;
        }
        c.told = true;
        // A window a message opened: its archived lines go before.
        let count = if c.messages.is_empty() {
            let mut n = 0;
            for m in messages {
                n += usize::from(c.messages.push(m));
            }
            n
        } else {
            c.messages.prepend(messages)
        };
        out.push(Event::WindowOpened {
            jid: jid.clone(),
            unread,
            restored,
        });
        if count > 0 {
            out.push(Event::History {
                room: jid.to_string(),
                count,
            });
        }
    }

    pub(super) fn close_chat(&mut self, jid: &BareJid, out: &mut Vec<Event>) {
        if self.conversations.remove(jid).is_none() {
            return;
        }
        self.order.retain(|j| j != jid);
        self.opened.retain(|j| j != jid);
        out.push(Event::WindowClosed { jid: jid.clone() });
    }

    pub(super) fn chat_read(&mut self, jid: &BareJid) {
        if let Some(c) = self.conversations.get_mut(jid)
            && let Some(m) = c.messages.last()
        {
            c.read = Some(m.seq);
        }
    }

    /// Conversations a message opened in this `apply` (listed after
    /// `windows`) are noted for the app, once.
    pub(super) fn note_opened(&mut self, windows: usize) {
        for jid in self.order.iter().skip(windows) {
            if self.conversations.get(jid).is_some_and(|c| !c.told) && !self.opened.contains(jid) {
                self.opened.push(jid.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Input;
    use chrono::{DateTime, Utc};
    use confab_proto::{ChatMessage, Incoming};
    use jid::Jid;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn line(body: &str, secs: i64, own: bool) -> Message {
        Message {
            stanza_id: Some(format!("s-{body}")),
            own,
            archived: true,
            ..Message::new(
                Kind::Chat,
                t(secs),
                Some("bob@localhost".into()),
                body.into(),
            )
        }
    }

    fn bob() -> BareJid {
        BareJid::new("bob@localhost").unwrap()
    }

    fn chat_from_bob(body: &str) -> Input {
        Input::Incoming(Incoming::Chat(ChatMessage {
            id: Some(format!("id-{body}")),
            ..ChatMessage::new(Jid::new("bob@localhost/phone").unwrap(), body)
        }))
    }

    #[test]
    fn open_lists_the_window_with_its_lines_once_and_close_forgets_it() {
        let mut s = Store::new();
        let ev = s.apply(
            Input::OpenChat {
                jid: bob(),
                messages: vec![line("one", 1, false), line("two", 2, true)],
                unread: 1,
                restored: true,
            },
            t(10),
        );
        assert_eq!(
            ev,
            vec![
                Event::WindowOpened {
                    jid: bob(),
                    unread: 1,
                    restored: true
                },
                Event::History {
                    room: "bob@localhost".into(),
                    count: 2
                }
            ]
        );
        assert_eq!(ev[0].to_json()["event"], "window-opened");
        assert_eq!(s.windows().count(), 1);
        let c = &s.conversations[&bob()];
        assert_eq!(c.unread_held(), 1, "our own line is not unread");
        assert!(c.has_unread());
        assert_eq!(
            c.nth_newest_of_others(1),
            Some(c.messages.iter().next().unwrap().seq)
        );
        assert_eq!(c.nth_newest_of_others(2), None);
        assert_eq!(c.nth_newest_of_others(0), None);
        // Opened explicitly: nothing for the app to load.
        assert!(s.take_opened().is_empty());
        // Open already: nothing more.
        let ev = s.apply(
            Input::OpenChat {
                jid: bob(),
                messages: vec![line("two", 2, true)],
                unread: 0,
                restored: false,
            },
            t(10),
        );
        assert!(ev.is_empty(), "{ev:?}");
        assert_eq!(s.conversations[&bob()].messages.len(), 2);

        s.apply(Input::ChatRead { jid: bob() }, t(11));
        assert_eq!(s.conversations[&bob()].unread_held(), 0);
        assert!(!s.conversations[&bob()].has_unread());

        let ev = s.apply(Input::CloseChat { jid: bob() }, t(12));
        assert_eq!(ev, vec![Event::WindowClosed { jid: bob() }]);
        assert_eq!(s.windows().count(), 0);
        assert!(s.window(&bob()).is_none());
        // Closing what is not open says nothing.
        assert!(s.apply(Input::CloseChat { jid: bob() }, t(13)).is_empty());
    }

    #[test]
    fn a_message_opens_a_window_noted_once_for_the_archive() {
        let mut s = Store::new();
        s.apply(chat_from_bob("hi"), t(5));
        s.apply(chat_from_bob("again"), t(6));
        assert_eq!(s.take_opened(), vec![bob()]);
        assert!(s.take_opened().is_empty());
        assert!(s.apply(chat_from_bob("more"), t(6)).len() == 1);
        assert!(s.take_opened().is_empty(), "noted once");
        // In a batch too, once.
        s.apply(Input::CloseChat { jid: bob() }, t(7));
        s.apply(
            Input::Batch(vec![chat_from_bob("x"), chat_from_bob("y")]),
            t(8),
        );
        assert_eq!(s.take_opened(), vec![bob()]);
        assert!(!s.has_conversation(&bob()), "not told yet");
        // The app loads the archive: its older lines go before the new
        // ones, and the window is told.
        let ev = s.apply(
            Input::OpenChat {
                jid: bob(),
                messages: vec![line("old", 1, false)],
                unread: 3,
                restored: false,
            },
            t(9),
        );
        assert_eq!(ev[0].to_json()["unread"], 3);
        assert_eq!(ev[1].to_json()["count"], 1);
        assert!(s.has_conversation(&bob()));
        let bodies: Vec<&str> = s.conversations[&bob()]
            .messages
            .iter()
            .map(|m| m.body.as_str())
            .collect();
        assert_eq!(bodies, ["old", "x", "y"]);
        assert_eq!(s.conversations[&bob()].unread_held(), 3, "nothing read");
    }

    #[test]
    fn a_room_is_never_a_conversation_window() {
        let mut s = Store::new();
        let room = BareJid::new("r@conference.localhost").unwrap();
        s.apply(
            Input::Joining {
                room: room.clone(),
                nick: "alice".into(),
                protocol: crate::store::Protocol::Muc,
            },
            t(0),
        );
        let ev = s.apply(
            Input::OpenChat {
                jid: room.clone(),
                messages: vec![],
                unread: 0,
                restored: false,
            },
            t(1),
        );
        assert!(ev.is_empty());
        assert!(!s.has_conversation(&room));
        assert_eq!(s.windows().count(), 1);
    }

    #[test]
    fn a_notice_goes_into_an_open_window_only() {
        let mut s = Store::new();
        assert!(!s.notice(&bob(), "OMEMO: bob has a new device 7".into(), t(5)));
        s.apply(
            Input::OpenChat {
                jid: bob(),
                messages: Vec::new(),
                unread: 0,
                restored: false,
            },
            t(10),
        );
        assert!(s.notice(&bob(), "OMEMO: bob has a new device 7".into(), t(11)));
        let w = s.windows().find(|w| w.jid() == &bob()).unwrap();
        let last = w.messages().iter().last().unwrap();
        assert_eq!(last.kind, Kind::Notice);
        assert_eq!(last.body, "OMEMO: bob has a new device 7");
        assert_eq!(last.nick, None);
    }
}
