//! One-to-one windows across restarts: which are open (in the order they
//! were opened) and up to when each was read; unread lines are the
//! archived lines of others after that time, counted by the time index
//! and bounded.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{History, HistoryError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS windows (
    account TEXT NOT NULL,
    conversation TEXT NOT NULL,
    open INTEGER NOT NULL,
    opened_ms INTEGER NOT NULL,
    read_ms INTEGER,
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
    /// Read up to this time (`None`: nothing read).
    pub read: Option<DateTime<Utc>>,
}

fn from_ms(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(DateTime::<Utc>::from_timestamp_millis)
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

    /// Moves the read marker of a conversation to `time` (never back).
    pub fn set_read(
        &mut self,
        conversation: &str,
        time: DateTime<Utc>,
    ) -> Result<(), HistoryError> {
        self.conn
            .prepare_cached(
                "INSERT INTO windows (account, conversation, open, opened_ms, read_ms)
                 VALUES (?1, ?2, 0, ?3, ?3)
                 ON CONFLICT (account, conversation) DO UPDATE SET
                    read_ms = MAX(COALESCE(windows.read_ms, ?3), ?3)",
            )?
            .execute(params![self.account, conversation, time.timestamp_millis()])?;
        Ok(())
    }

    /// Where a conversation was read up to, if anywhere.
    pub fn read_marker(&self, conversation: &str) -> Result<Option<DateTime<Utc>>, HistoryError> {
        let ms: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT read_ms FROM windows WHERE account = ?1 AND conversation = ?2")?
            .query_row(params![self.account, conversation], |row| row.get(0))
            .optional()?;
        Ok(from_ms(ms.flatten()))
    }

    /// The windows open when confab last ran, in the order they were
    /// opened (at most [`MAX_WINDOWS`]).
    pub fn open_windows(&self) -> Result<Vec<OpenWindow>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT conversation, read_ms FROM windows WHERE account = ?1 AND open = 1
             ORDER BY opened_ms, rowid LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![self.account, MAX_WINDOWS as i64], |row| {
            Ok(OpenWindow {
                conversation: row.get(0)?,
                read: from_ms(row.get(1)?),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Archived lines of others after `read` (all of them for `None`), up
    /// to [`MAX_UNREAD`].
    pub fn unread(
        &self,
        conversation: &str,
        read: Option<DateTime<Utc>>,
    ) -> Result<usize, HistoryError> {
        let after = read.map_or(i64::MIN, |t| t.timestamp_millis());
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM (SELECT 1 FROM messages
                 WHERE account = ?1 AND conversation = ?2 AND time_ms > ?3 AND own = 0
                 LIMIT ?4)",
            )?
            .query_row(
                params![self.account, conversation, after, MAX_UNREAD as i64],
                |row| row.get(0),
            )?;
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
            h.set_open("carol@localhost", true, t(1)).unwrap();
            h.set_open("bob@localhost", true, t(2)).unwrap();
            h.set_open("dave@localhost", true, t(3)).unwrap();
            h.set_open("dave@localhost", false, t(4)).unwrap();
            // Opened again: stays in its place.
            h.set_open("carol@localhost", true, t(5)).unwrap();
            h.set_read("bob@localhost", t(20)).unwrap();
            // Never back.
            h.set_read("bob@localhost", t(10)).unwrap();
            h.set_read("dave@localhost", t(7)).unwrap();
        }
        let h = History::open(&path, "alice@localhost").unwrap();
        assert_eq!(
            h.open_windows().unwrap(),
            vec![
                OpenWindow {
                    conversation: "carol@localhost".into(),
                    read: None
                },
                OpenWindow {
                    conversation: "bob@localhost".into(),
                    read: Some(t(20))
                },
            ]
        );
        assert_eq!(h.read_marker("dave@localhost").unwrap(), Some(t(7)));
        assert_eq!(h.read_marker("eve@localhost").unwrap(), None);
        // Another account has none of them.
        let other = History::open(&path, "bob@localhost").unwrap();
        assert!(other.open_windows().unwrap().is_empty());
    }

    #[test]
    fn unread_counts_lines_of_others_after_the_marker() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        let bob = "bob@localhost";
        h.append(&[
            rec(bob, "one", 1, false),
            rec(bob, "mine", 2, true),
            rec(bob, "two", 3, false),
            rec(bob, "three", 4, false),
            rec("carol@localhost", "x", 5, false),
        ])
        .unwrap();
        assert_eq!(h.unread(bob, None).unwrap(), 3);
        assert_eq!(h.unread(bob, Some(t(1))).unwrap(), 2);
        assert_eq!(h.unread(bob, Some(t(4))).unwrap(), 0);
        // A line after the marker is unread, whenever it lands (offline
        // storage, the account's archive).
        h.append(&[rec(bob, "late", 5, false)]).unwrap();
        assert_eq!(h.unread(bob, Some(t(4))).unwrap(), 1);
    }
}
