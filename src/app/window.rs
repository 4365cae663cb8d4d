//! The store holds a window of each room (`store::WINDOW_LINES`); a copy
//! of a line that has left it is recognised by the archive instead.

use chrono::Utc;

use super::App;
use crate::protocol::Incoming;
use crate::session::SessionEvent;
use crate::store::{Kind, Message, SAME_MESSAGE_WINDOW_SECS};

impl App {
    /// Whether `ev` is a delayed room message (MUC history replayed on a
    /// join or rejoin) that the store does not hold but the archive has:
    /// by stanza-id, else by sender and body within
    /// [`SAME_MESSAGE_WINDOW_SECS`]. Live messages are never looked up;
    /// archive answers to MAM queries are checked by `on_mam_result`.
    pub(super) fn known_in_archive(&self, ev: &SessionEvent) -> bool {
        let SessionEvent::Incoming(Incoming::RoomMessage(m)) = ev else {
            return false;
        };
        if !m.delayed {
            return false;
        }
        let (Some(h), Some(room)) = (self.history.as_ref(), self.store.room(&m.room)) else {
            return false;
        };
        let line = Message {
            id: m.id.clone(),
            stanza_id: m.stanza_id.clone(),
            delayed: true,
            ..Message::new(
                Kind::Chat,
                m.time.unwrap_or_else(Utc::now),
                m.nick.clone(),
                m.body.clone(),
            )
        };
        if room.messages.contains(&line) {
            // The store drops it itself.
            return false;
        }
        let key = m.room.as_str();
        match &line.stanza_id {
            Some(sid) => h.has_stanza_id(key, sid).unwrap_or(false),
            None => h
                .has_copy(
                    key,
                    line.nick.as_deref(),
                    &line.body,
                    line.time,
                    SAME_MESSAGE_WINDOW_SECS,
                )
                .unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use jid::BareJid;

    use super::*;
    use crate::app::fixtures::{self, room_message};
    use crate::history::History;
    use crate::store::{Event, WINDOW_LINES};

    fn room() -> BareJid {
        BareJid::new("r@conference.localhost").unwrap()
    }

    fn t(i: usize) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + i as i64, 0).unwrap()
    }

    /// Alice in `r@conference.localhost`, with an archive.
    fn joined() -> App {
        let history = History::in_memory("alice@localhost").unwrap();
        let (mut app, _rx) = App::for_tests_with("alice@localhost", 50, Some(history));
        fixtures::joined(&mut app, &room(), "alice");
        app
    }

    fn message(i: usize, sid: bool, delayed: bool) -> SessionEvent {
        let mut m = room_message(&room(), "bob", &format!("line {i}"))
            .time(t(i))
            .delayed(delayed);
        if sid {
            m = m.stanza_id(&format!("s{i}"));
        }
        SessionEvent::Incoming(m.incoming())
    }

    fn shown(events: &[Event]) -> usize {
        events
            .iter()
            .filter(|e| matches!(e, Event::Message { .. }))
            .count()
    }

    /// `n` live lines, archived burst by burst as the loops do.
    fn flood(app: &mut App, n: usize, sid: bool) {
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            for &i in chunk {
                assert_eq!(shown(&app.on_session(message(i, sid, false))), 1);
            }
            assert!(app.flush_history().is_empty());
        }
    }

    fn held(app: &App) -> (usize, String) {
        let log = &app.store.room(&room()).unwrap().messages;
        (log.len(), log.iter().next().unwrap().body.clone())
    }

    #[test]
    fn lines_past_the_window_leave_memory_but_not_the_archive() {
        let mut app = joined();
        let n = WINDOW_LINES + 500;
        flood(&mut app, n, true);
        assert_eq!(held(&app), (WINDOW_LINES, "line 500".into()));
        let h = app.history.as_ref().unwrap();
        assert_eq!(h.recent(room().as_str(), 10 * n).unwrap().len(), n);

        // Scrolling back past the window loads them again, page by page.
        let ev = app.load_older(&room(), 200);
        assert_eq!(ev[0].to_json()["count"], 200);
        assert_eq!(held(&app), (WINDOW_LINES + 200, "line 300".into()));
        app.load_older(&room(), 200);
        let ev = app.load_older(&room(), 200);
        assert_eq!(ev[0].to_json()["count"], 100);
        assert_eq!(held(&app), (n, "line 0".into()));
        assert!(app.load_older(&room(), 200).is_empty(), "all of it");
        // Back at the newest line: the window again.
        app.store.shrink_windows(None);
        assert_eq!(held(&app), (WINDOW_LINES, "line 500".into()));
        // Reading back in this room keeps what was loaded.
        app.load_older(&room(), 200);
        app.store.shrink_windows(Some(&room()));
        assert_eq!(held(&app).0, WINDOW_LINES + 200);
    }

    #[test]
    fn replays_at_the_edge_of_the_window_are_still_duplicates() {
        for sid in [true, false] {
            let mut app = joined();
            flood(&mut app, WINDOW_LINES + 500, sid);
            // MUC history on a rejoin: lines just outside the window (the
            // archive knows them), at its edge (memory), and inside.
            for i in [0, 499, 500, WINDOW_LINES + 499] {
                let ev = app.on_session(message(i, sid, true));
                assert_eq!(shown(&ev), 0, "line {i} (stanza-id: {sid}) shown twice");
            }
            // A line nobody had seen is new.
            let ev = app.on_session(message(10 * WINDOW_LINES, sid, true));
            assert_eq!(shown(&ev), 1, "stanza-id: {sid}");
        }
    }

    #[test]
    fn without_an_archive_older_lines_are_simply_gone() {
        let (mut app, _rx) = App::for_tests("alice@localhost", 50);
        fixtures::join(&mut app, &room());
        for i in 0..WINDOW_LINES + 10 {
            app.on_session(message(i, true, false));
            app.flush_history();
        }
        assert_eq!(held(&app), (WINDOW_LINES, "line 10".into()));
        assert!(app.load_older(&room(), 200).is_empty());
        assert!(!app.store.room(&room()).unwrap().messages.more_in_archive);
    }
}
