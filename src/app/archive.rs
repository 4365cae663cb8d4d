//! The local archive seen from the app: a room's archived lines shown on
//! its join, older lines loaded when scrolling back, the burst's new
//! messages written in one transaction, and the archive dropped (said
//! once) when it fails.

use chrono::Utc;
use jid::BareJid;

use super::App;
use crate::history::Record;
use crate::protocol::muc::HistoryRequest;
use crate::store::{Event, Input};

/// What waits for the archive (a catch-up's deferred writes) is written
/// when the app ends, however it ends.
impl Drop for App {
    fn drop(&mut self) {
        if self.store.journal_len() > 0 {
            let _ = self.write_journal();
        }
    }
}

impl App {
    /// The archived lines of a room to show on its join (the store's
    /// input, applied with the join's), which history to ask the room
    /// for (what came after the archive, or the last few), and an archive
    /// failure to report.
    pub(super) fn load_archive(
        &mut self,
        room: &BareJid,
    ) -> (Option<Input>, HistoryRequest, Option<Event>) {
        let fallback =
            HistoryRequest::MaxStanzas(self.opts.history_load.min(u32::MAX as usize) as u32);
        let Some(h) = self.history.as_ref() else {
            return (None, fallback, None);
        };
        let key = room.to_string();
        let loaded = h
            .recent(&key, self.opts.history_load)
            .and_then(|msgs| Ok((msgs, h.last_time(&key)?)));
        match loaded {
            Ok((messages, last)) => {
                let input = Input::Archive {
                    room: room.clone(),
                    messages,
                };
                let request = match last {
                    Some(t) => HistoryRequest::Since(t),
                    None => fallback,
                };
                (Some(input), request, None)
            }
            Err(e) => (None, fallback, Some(self.history_broken(e))),
        }
    }

    pub(super) fn history_broken(&mut self, e: crate::history::HistoryError) -> Event {
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
    /// transaction; then the one-to-one windows they opened get their
    /// archived lines (`app/conversations.rs`). Call it when a burst of
    /// events has been handled: it also ends the read transaction the
    /// burst's look-ups shared (`History::end_burst`), so that nothing
    /// stays open while the loop waits.
    pub fn flush_history(&mut self) -> Vec<Event> {
        // A catch-up's messages are written in larger transactions (a
        // page's worth and more: the archive's cost per message falls by
        // a third); if we stop first, the next catch-up fetches them again.
        let mut events = if self.may_defer_writes() {
            Vec::new()
        } else {
            self.write_journal()
        };
        events.extend(self.windows_opened());
        if let Some(h) = self.history.as_mut()
            && let Err(e) = h.end_burst()
        {
            events.push(self.history_broken(e));
        }
        events
    }

    pub(super) fn write_journal(&mut self) -> Vec<Event> {
        let journal = self.store.take_journal();
        if let Some(h) = self.history.as_mut()
            && !journal.is_empty()
        {
            let records: Vec<Record> = journal
                .into_iter()
                .map(|(conv, message)| Record {
                    conversation: conv.to_string(),
                    message,
                })
                .collect();
            if let Err(e) = h.append(&records) {
                return vec![self.history_broken(e)];
            }
        }
        // Then what retractions and moderations removed: the text goes
        // from the archive too.
        let removals = self.store.take_removals();
        if let Some(h) = self.history.as_mut() {
            for r in &removals {
                if let Err(e) = h.remove(r) {
                    return vec![self.history_broken(e)];
                }
            }
        }
        // And reactions, kept with their line.
        let reactions = self.store.take_reaction_writes();
        if let Some(h) = self.history.as_mut() {
            for w in &reactions {
                if let Err(e) = h.react(w) {
                    return vec![self.history_broken(e)];
                }
            }
        }
        // Then where the account's catch-up starts next time.
        self.save_account_mark().into_iter().collect()
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures;
    use crate::history::{History, Record};
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
                    meta: Default::default(),
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
