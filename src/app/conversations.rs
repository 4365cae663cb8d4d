//! One-to-one windows seen from the app: opened with their archived lines
//! (`/msg JID`; a message's window gets its archive when the burst is
//! archived), closed (`/close`), read (`/read`, or looked at in the TUI),
//! and brought back at start with their unread counts; the history
//! database remembers which are open and where each was read.

use chrono::Utc;
use jid::{BareJid, Jid};

use super::{App, Exec, refuse};
use crate::history::{History, HistoryError};
use crate::store::{Event, Input};

impl App {
    /// `/msg JID` without text: the conversation's window, opened with
    /// its archived lines if it is not open yet.
    pub(super) fn start_open_chat(&mut self, text: &str, jid: Jid) -> Result<Exec, Box<Event>> {
        let bare = jid.to_bare();
        if self.store.room(&bare).is_some() {
            return Err(refuse(
                text,
                "not-acceptable",
                format!("{bare} is a room: a private message needs TEXT (/msg {bare}/NICK TEXT)"),
            ));
        }
        let mut events = self.open_chat(&bare, false);
        events.push(Event::Ok {
            command: text.to_string(),
        });
        Ok(Exec::done(events))
    }

    /// `/close JID`: the window goes (read up to its end); its history
    /// stays archived.
    pub(super) fn start_close(
        &mut self,
        text: &str,
        jid: Option<BareJid>,
    ) -> Result<Exec, Box<Event>> {
        let jid = self.named_conversation(text, jid)?;
        let mut events = self.mark_read(&jid);
        events.extend(self.persist(|h| h.set_open(jid.as_str(), false, Utc::now())));
        events.extend(self.store.apply(Input::CloseChat { jid }, Utc::now()));
        events.push(Event::Ok {
            command: text.to_string(),
        });
        Ok(Exec::done(events))
    }

    /// `/read JID`: the conversation is read up to its newest line.
    pub(super) fn start_read(
        &mut self,
        text: &str,
        jid: Option<BareJid>,
    ) -> Result<Exec, Box<Event>> {
        let jid = self.named_conversation(text, jid)?;
        let mut events = self.mark_read(&jid);
        events.push(Event::Ok {
            command: text.to_string(),
        });
        Ok(Exec::done(events))
    }

    /// The open one-to-one window a command names (a room is refused).
    fn named_conversation(&self, text: &str, jid: Option<BareJid>) -> Result<BareJid, Box<Event>> {
        let Some(jid) = jid else {
            return Err(refuse(
                text,
                "bad-request",
                "which conversation? (give its JID; the TUI takes the current window)",
            ));
        };
        if self.store.room(&jid).is_some() {
            return Err(refuse(
                text,
                "not-acceptable",
                format!("{jid} is a room: leave it with /part {jid}"),
            ));
        }
        if !self.store.conversations.contains_key(&jid) {
            return Err(refuse(
                text,
                "item-not-found",
                format!("no conversation with {jid} is open"),
            ));
        }
        Ok(jid)
    }

    /// The conversation is read up to its newest line (the TUI calls it
    /// while the window is looked at): in memory, and in the archive once
    /// its lines are written there; archive failures come back.
    pub fn mark_read(&mut self, jid: &BareJid) -> Vec<Event> {
        if !self
            .store
            .conversations
            .get(jid)
            .is_some_and(|c| c.has_unread())
        {
            return Vec::new();
        }
        let mut events = self.write_journal();
        self.store
            .apply(Input::ChatRead { jid: jid.clone() }, Utc::now());
        events.extend(self.persist(|h| h.set_read(jid.as_str())));
        events
    }

    /// The windows open when confab last ran, back with their archived
    /// lines and unread counts (once, at start).
    pub fn restore_windows(&mut self) -> Vec<Event> {
        let Some(h) = self.history.as_ref() else {
            return Vec::new();
        };
        let windows = match h.open_windows() {
            Ok(w) => w,
            Err(e) => return vec![self.history_broken(e)],
        };
        let mut events = Vec::new();
        for w in windows {
            if let Ok(jid) = BareJid::new(&w.conversation) {
                events.extend(self.open_chat(&jid, true));
            }
        }
        events
    }

    /// Opens the window of `jid` with its last lines from the archive,
    /// its read marker and unread count (nothing if it is open); notes it
    /// open.
    fn open_chat(&mut self, jid: &BareJid, restored: bool) -> Vec<Event> {
        if self.store.has_conversation(jid) {
            return Vec::new();
        }
        // A window a message opened already holds its new lines: only
        // what is older comes from the archive.
        let first = self
            .store
            .conversations
            .get(jid)
            .and_then(|c| c.messages.iter().next().map(|m| m.time));
        let held = self
            .store
            .conversations
            .get(jid)
            .map_or(0, |c| c.unread_held());
        let limit = self.opts.history_load;
        let key = jid.to_string();
        let loaded = self.history.as_ref().map(|h| {
            let messages = match first {
                Some(t) => h.before(&key, t, limit)?,
                None => h.recent(&key, limit)?,
            };
            let unread = h.unread(&key, h.read_marker(&key)?)?;
            Ok::<_, HistoryError>((messages, unread))
        });
        let mut events = Vec::new();
        let (messages, unread) = match loaded {
            Some(Ok(l)) => l,
            Some(Err(e)) => {
                events.push(self.history_broken(e));
                (Vec::new(), held)
            }
            None => (Vec::new(), held),
        };
        events.extend(self.store.apply(
            Input::OpenChat {
                jid: jid.clone(),
                messages,
                unread: unread.max(held),
                restored,
            },
            Utc::now(),
        ));
        if !restored {
            events.extend(self.persist(|h| h.set_open(jid.as_str(), true, Utc::now())));
        }
        events
    }

    /// Windows that messages opened in the burst just archived: their
    /// archived lines, read marker and unread count (after the burst's
    /// own lines were written, so that they count).
    pub(super) fn windows_opened(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        for jid in self.store.take_opened() {
            events.extend(self.open_chat(&jid, false));
        }
        events
    }

    /// A write to the history database; a failure drops the archive (said
    /// once).
    fn persist(&mut self, f: impl FnOnce(&mut History) -> Result<(), HistoryError>) -> Vec<Event> {
        let Some(h) = self.history.as_mut() else {
            return Vec::new();
        };
        match f(h) {
            Ok(()) => Vec::new(),
            Err(e) => vec![self.history_broken(e)],
        }
    }
}

#[cfg(test)]
mod tests;
