//! The archive's side of corrections (XEP-0308) and MAM catch-up: the
//! `edited` column, updating a corrected row, and stanza-id look-ups.

use rusqlite::{Connection, OptionalExtension, params};

use super::{History, HistoryError};

/// Adds what older archives lack (the `edited` column), before they are
/// converted (`layout.rs`).
pub(super) fn migrate(conn: &Connection) -> Result<(), HistoryError> {
    let has_edited = conn
        .prepare("SELECT 1 FROM pragma_table_info('messages') WHERE name = 'edited'")?
        .exists([])?;
    if !has_edited {
        conn.execute_batch("ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;")?;
    }
    Ok(())
}

impl History {
    /// A correction: the newest row of `conversation` with message id `id`
    /// from `nick` gets the new body and is marked edited. Returns whether
    /// a row changed (the sender must match: someone else's message id is
    /// never touched).
    pub fn correct(
        &mut self,
        conversation: &str,
        id: &str,
        nick: Option<&str>,
        body: &str,
    ) -> Result<bool, HistoryError> {
        let Some(conv) = self.conv(conversation)? else {
            return Ok(false);
        };
        self.end_burst()?;
        let n = self.conn.execute(
            "UPDATE messages SET body = ?1, edited = 1 WHERE id = (
                 SELECT id FROM messages INDEXED BY messages_message_id_conv
                 WHERE conv = ?2 AND message_id = ?3 AND nick IS ?4 AND private = 0
                 ORDER BY time_ms DESC, id DESC LIMIT 1)",
            params![body, conv, id, nick],
        )?;
        Ok(n > 0)
    }

    /// Whether a message with this stanza-id is archived (a look-up of
    /// the burst: in its read transaction).
    pub fn has_stanza_id(&self, conversation: &str, stanza_id: &str) -> Result<bool, HistoryError> {
        let conn = self.reader()?;
        let Some(conv) = self.conv(conversation)? else {
            return Ok(false);
        };
        Ok(conn
            .prepare_cached("SELECT 1 FROM messages WHERE conv = ?1 AND stanza_id = ?2")?
            .exists(params![conv, stanza_id])?)
    }

    /// The stanza-id of the newest archived message that has one.
    pub fn last_stanza_id(&self, conversation: &str) -> Result<Option<String>, HistoryError> {
        let Some(conv) = self.conv(conversation)? else {
            return Ok(None);
        };
        Ok(self
            .conn
            .query_row(
                "SELECT stanza_id FROM messages
                 WHERE conv = ?1 AND stanza_id IS NOT NULL
                 ORDER BY time_ms DESC, id DESC LIMIT 1",
                [conv],
                |row| row.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Record;
    use super::*;
    use crate::store::{Kind, Message};
    use chrono::{DateTime, Utc};

    fn rec(sid: &str, id: &str, nick: &str, body: &str, secs: i64) -> Record {
        Record {
            conversation: "r@conference.localhost".into(),
            message: Message {
                kind: Kind::Chat,
                seq: 0,
                id: Some(id.into()),
                stanza_id: Some(sid.into()),
                time: DateTime::<Utc>::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
                nick: Some(nick.into()),
                body: body.into(),
                own: false,
                private: false,
                delayed: false,
                archived: false,
                edited: false,
                meta: Default::default(),
            },
        }
    }

    #[test]
    fn corrections_update_only_the_senders_row() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        h.append(&[
            rec("s1", "m1", "bob", "tpyo", 1),
            rec("s2", "m1", "carol", "carol's own", 2),
        ])
        .unwrap();
        assert!(
            h.correct("r@conference.localhost", "m1", Some("bob"), "typo")
                .unwrap()
        );
        assert!(
            !h.correct("r@conference.localhost", "m1", Some("mallory"), "x")
                .unwrap()
        );
        let r = h.recent("r@conference.localhost", 10).unwrap();
        assert_eq!(r[0].body, "typo");
        assert!(r[0].edited);
        assert_eq!(r[1].body, "carol's own");
        assert!(!r[1].edited);
    }

    #[test]
    fn stanza_id_lookups() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        assert_eq!(h.last_stanza_id("r@conference.localhost").unwrap(), None);
        h.append(&[
            rec("s1", "m1", "bob", "one", 1),
            rec("s2", "m2", "bob", "two", 2),
        ])
        .unwrap();
        assert_eq!(
            h.last_stanza_id("r@conference.localhost")
                .unwrap()
                .as_deref(),
            Some("s2")
        );
        assert!(h.has_stanza_id("r@conference.localhost", "s1").unwrap());
        assert!(!h.has_stanza_id("r@conference.localhost", "s9").unwrap());
        assert!(!h.has_stanza_id("other@conference.localhost", "s1").unwrap());
    }

    #[test]
    fn an_old_archive_gets_the_edited_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        super::super::old_archive(&path);
        let mut h = History::open(&path, "alice@localhost").unwrap();
        let r = h.recent("r@conference.localhost", 10).unwrap();
        assert_eq!(r[0].body, "old");
        assert!(!r[0].edited);
        assert!(
            h.correct("r@conference.localhost", "m1", Some("bob"), "new")
                .unwrap()
        );
        drop(h);
        let h = History::open(&path, "alice@localhost").unwrap();
        assert!(h.recent("r@conference.localhost", 1).unwrap()[0].edited);
    }
}
