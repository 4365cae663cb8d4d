//! The archive's side of the account's catch-up (XEP-0313 on our own
//! JID): where the last one got to (the newest archive id of our account
//! we hold), and copies of our own messages that have no archive id.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{History, HistoryError};
use crate::store::ArchiveMark;

/// Adds the `marks` table (one row per account and archive). The rows
/// without an archive id have an index by body (`messages_conv_without_id`,
/// few: a look-up per result of a catch-up must not scan every row of
/// its time window).
pub(super) fn migrate(conn: &Connection) -> Result<(), HistoryError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS marks (
             account TEXT NOT NULL,
             archive TEXT NOT NULL,
             stanza_id TEXT NOT NULL,
             time_ms INTEGER NOT NULL,
             PRIMARY KEY (account, archive)
         );",
    )?;
    Ok(())
}

impl History {
    /// The newest message of `archive` (our bare JID) we held when it
    /// was last saved.
    pub fn mark(&self, archive: &str) -> Result<Option<ArchiveMark>, HistoryError> {
        let row: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT stanza_id, time_ms FROM marks WHERE account = ?1 AND archive = ?2",
                params![self.account, archive],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        Ok(row.map(|(stanza_id, ms)| ArchiveMark {
            stanza_id,
            time: DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default(),
        }))
    }

    /// Saves where the catch-up of `archive` starts next time.
    pub fn set_mark(&mut self, archive: &str, mark: &ArchiveMark) -> Result<(), HistoryError> {
        self.end_burst()?;
        self.conn
            .prepare_cached(
                "INSERT INTO marks (account, archive, stanza_id, time_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account, archive)
                 DO UPDATE SET stanza_id = excluded.stanza_id, time_ms = excluded.time_ms",
            )?
            .execute(params![
                self.account,
                archive,
                mark.stanza_id,
                mark.time.timestamp_millis()
            ])?;
        Ok(())
    }

    /// Forgets the mark of `archive`.
    pub fn clear_mark(&mut self, archive: &str) -> Result<(), HistoryError> {
        self.end_burst()?;
        self.conn
            .prepare_cached("DELETE FROM marks WHERE account = ?1 AND archive = ?2")?
            .execute(params![self.account, archive])?;
        Ok(())
    }

    /// Whether a message from `nick` with this body, stamped within `secs`
    /// of `time`, is archived without an archive id (our own message as
    /// we sent it, a carbon): the archive's copy of it is no new message.
    pub fn has_copy_without_id(
        &self,
        conversation: &str,
        nick: Option<&str>,
        body: &str,
        time: DateTime<Utc>,
        secs: i64,
    ) -> Result<bool, HistoryError> {
        self.copy_exists(
            "SELECT 1 FROM messages INDEXED BY messages_conv_without_id
             WHERE conv = ?1 AND body = ?5
               AND stanza_id IS NULL AND time_ms BETWEEN ?2 AND ?3 AND nick IS ?4",
            (conversation, nick, body),
            time,
            secs,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Record;
    use crate::store::{Kind, Message};

    #[test]
    fn marks_are_per_account_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite3");
        let t = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        {
            let mut h = History::open(&path, "alice@localhost").unwrap();
            assert_eq!(h.mark("alice@localhost").unwrap(), None);
            for sid in ["S1", "S2"] {
                h.set_mark(
                    "alice@localhost",
                    &ArchiveMark {
                        stanza_id: sid.into(),
                        time: t,
                    },
                )
                .unwrap();
            }
        }
        let h = History::open(&path, "alice@localhost").unwrap();
        let m = h.mark("alice@localhost").unwrap().unwrap();
        assert_eq!((m.stanza_id.as_str(), m.time), ("S2", t));
        let other = History::open(&path, "bob@localhost").unwrap();
        assert_eq!(other.mark("alice@localhost").unwrap(), None);
        let mut h = h;
        h.clear_mark("alice@localhost").unwrap();
        assert_eq!(h.mark("alice@localhost").unwrap(), None);
    }

    #[test]
    fn copies_without_an_archive_id() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        let t = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let line = |sid: Option<&str>, body: &str| Record {
            conversation: "bob@localhost".into(),
            message: Message {
                stanza_id: sid.map(str::to_string),
                own: true,
                ..Message::new(Kind::Chat, t, None, body.into())
            },
        };
        h.append(&[line(None, "mine"), line(Some("S1"), "known")])
            .unwrap();
        let copy = |body: &str, secs: i64| {
            h.has_copy_without_id(
                "bob@localhost",
                None,
                body,
                t + chrono::Duration::seconds(secs),
                120,
            )
            .unwrap()
        };
        assert!(copy("mine", 30));
        assert!(!copy("mine", 300), "too far apart");
        assert!(!copy("known", 0), "that one has its archive id");
    }
}
