//! One-to-one windows across restarts: which are open (in the order they
//! were opened) and up to which archived line each was read (its row id:
//! a line that lands later — offline storage, the account's archive —
//! is unread whatever time it claims); unread lines are the archived
//! lines of others after it, counted on an index and bounded.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{History, HistoryError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS windows (
    account TEXT NOT NULL,
    conversation TEXT NOT NULL,
    open INTEGER NOT NULL,
    opened_ms INTEGER NOT NULL,
    read_id INTEGER,
    PRIMARY KEY (account, conversation)
);
";

/// Unread lines are counted up to this many (a bounded query).
pub const MAX_UNREAD: usize = 9_999;

/// Windows brought back at start, at most.
pub const MAX_WINDOWS: usize = 100;

pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

/// A window that was open when confab last ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenWindow {
    pub conversation: String,
    /// Read up to this archived line (`None`: nothing read).
    pub read: Option<i64>,
}

impl History {
    /// Notes a window open (`now`: its place in the list) or closed; its
    /// read marker stays.
    pub fn set_open(
        &mut self,
        conversation: &str,
        open: bool,
        now: DateTime<Utc>,
    ) -> Result<(), HistoryError> {
        self.end_burst()?;
        self.conn
            .prepare_cached(
                "INSERT INTO windows (account, conversation, open, opened_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account, conversation) DO UPDATE SET
                    open = excluded.open,
                    opened_ms = CASE WHEN windows.open = excluded.open
                        THEN windows.opened_ms ELSE excluded.opened_ms END",
            )?
            .execute(params![
                self.account,
                conversation,
                open,
                now.timestamp_millis()
            ])?;
        Ok(())
    }

    /// Moves the read marker of a conversation to its newest archived
    /// line.
    pub fn set_read(&mut self, conversation: &str) -> Result<(), HistoryError> {
        let conv = self.conv(conversation)?;
        self.end_burst()?;
        self.conn
            .prepare_cached(
                "INSERT INTO windows (account, conversation, open, opened_ms, read_id)
                 VALUES (?1, ?2, 0, 0, (SELECT MAX(id) FROM messages WHERE conv = ?3))
                 ON CONFLICT (account, conversation) DO UPDATE SET
                    read_id = COALESCE(excluded.read_id, windows.read_id)",
            )?
            .execute(params![self.account, conversation, conv])?;
        Ok(())
    }

    /// Up to which archived line a conversation was read, if any.
    pub fn read_marker(&self, conversation: &str) -> Result<Option<i64>, HistoryError> {
        let id: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT read_id FROM windows WHERE account = ?1 AND conversation = ?2")?
            .query_row(params![self.account, conversation], |row| row.get(0))
            .optional()?;
        Ok(id.flatten())
    }

    /// The windows open when confab last ran, in the order they were
    /// opened (at most [`MAX_WINDOWS`]).
    pub fn open_windows(&self) -> Result<Vec<OpenWindow>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT conversation, read_id FROM windows WHERE account = ?1 AND open = 1
             ORDER BY opened_ms, rowid LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![self.account, MAX_WINDOWS as i64], |row| {
            Ok(OpenWindow {
                conversation: row.get(0)?,
                read: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Archived lines of others after line `read` (all of them for
    /// `None`), up to [`MAX_UNREAD`].
    pub fn unread(&self, conversation: &str, read: Option<i64>) -> Result<usize, HistoryError> {
        let after = read.unwrap_or(i64::MIN);
        let Some(conv) = self.conv(conversation)? else {
            return Ok(0);
        };
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM (SELECT 1 FROM messages
                 WHERE conv = ?1 AND id > ?2 AND own = 0 LIMIT ?3)",
            )?
            .query_row(params![conv, after, MAX_UNREAD as i64], |row| row.get(0))?;
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Record;
    use super::*;
    use crate::store::{Kind, Message};

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn rec(conv: &str, body: &str, secs: i64, own: bool) -> Record {
        Record {
            conversation: conv.into(),
            message: Message {
                stanza_id: Some(format!("s-{conv}-{body}")),
                own,
                ..Message::new(
                    Kind::Chat,
                    t(secs),
                    Some("bob@localhost".into()),
                    body.into(),
                )
            },
        }
    }

    #[test]
    fn open_windows_come_back_in_order_with_their_markers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite3");
        {
            let mut h = History::open(&path, "alice@localhost").unwrap();
            h.append(&[rec("bob@localhost", "one", 1, false)]).unwrap();
            h.set_open("carol@localhost", true, t(1)).unwrap();
            h.set_open("bob@localhost", true, t(2)).unwrap();
            h.set_open("dave@localhost", true, t(3)).unwrap();
            h.set_open("dave@localhost", false, t(4)).unwrap();
            // Opened again: stays in its place.
            h.set_open("carol@localhost", true, t(5)).unwrap();
            h.set_read("bob@localhost").unwrap();
            // Nothing archived: no marker.
            h.set_read("dave@localhost").unwrap();
        }
        let h = History::open(&path, "alice@localhost").unwrap();
        let windows = h.open_windows().unwrap();
        let names: Vec<&str> = windows.iter().map(|w| w.conversation.as_str()).collect();
        assert_eq!(names, ["carol@localhost", "bob@localhost"]);
        assert_eq!(windows[0].read, None);
        assert!(windows[1].read.is_some());
        assert_eq!(h.unread("bob@localhost", windows[1].read).unwrap(), 0);
        assert_eq!(h.read_marker("dave@localhost").unwrap(), None);
        assert_eq!(h.read_marker("eve@localhost").unwrap(), None);
        // Another account has none of them.
        let other = History::open(&path, "bob@localhost").unwrap();
        assert!(other.open_windows().unwrap().is_empty());
    }

    #[test]
    fn unread_counts_lines_of_others_that_landed_after_the_marker() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        let bob = "bob@localhost";
        h.append(&[
            rec(bob, "one", 1, false),
            rec(bob, "mine", 2, true),
            rec(bob, "two", 3, false),
        ])
        .unwrap();
        assert_eq!(h.unread(bob, None).unwrap(), 2);
        h.set_read(bob).unwrap();
        let read = h.read_marker(bob).unwrap();
        assert_eq!(h.unread(bob, read).unwrap(), 0);
        h.append(&[
            rec(bob, "three", 4, false),
            rec(bob, "four", 5, false),
            rec("carol@localhost", "x", 6, false),
        ])
        .unwrap();
        assert_eq!(h.unread(bob, read).unwrap(), 2);
        // A line that lands later is unread whatever time it claims
        // (offline storage, the account's archive).
        h.append(&[rec(bob, "late", 0, false)]).unwrap();
        assert_eq!(h.unread(bob, read).unwrap(), 3);
        // The marker never goes back to nothing.
        h.set_read("carol@localhost").unwrap();
        h.set_read(bob).unwrap();
        assert_eq!(h.unread(bob, h.read_marker(bob).unwrap()).unwrap(), 0);
    }
}
