//! Full-text search over the whole archive (`/find`) with SQLite FTS5, and
//! reading a conversation out in order (`/export`).
//!
//! The index is an external-content FTS5 table over `messages.body`, kept
//! in step in the same transaction as the change: new rows by
//! [`History::append`] ([`index_new_rows`]: one statement for the whole
//! batch), corrections and retractions (a blanked or deleted row) by
//! triggers. New rows are not indexed by a trigger: FTS5 writes its
//! pending terms out at every statement that touches it, so a trigger per
//! inserted row wrote one tiny segment per message and merged them over
//! and over (a 50,000-message catch-up spent two thirds of its archive
//! time there). An archive from before the index is indexed once when it
//! is opened; one whose index still has the insert trigger loses it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{History, HistoryError, MESSAGE_COLUMN_COUNT, message_columns, row_to_message};
use crate::store::Message;

/// Results of one `/find` at most.
pub const MAX_FOUND: usize = 200;
/// Words of a `/find` query used at most.
const MAX_TERMS: usize = 16;

const INDEX: &str = "
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content='messages', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
";

/// The triggers (a table converted to today's layout lost its own,
/// `layout.rs`).
const TRIGGERS: &str = "
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;
";

/// Creates the index (and indexes what is archived) if it is missing.
pub(super) fn migrate(conn: &Connection) -> Result<(), HistoryError> {
    let exists = conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'")?
        .exists([])?;
    if !exists {
        conn.execute_batch(&format!("BEGIN;{INDEX}{TRIGGERS}COMMIT;"))?;
    } else {
        // The index of an earlier version: rows were indexed by a trigger,
        // now by `append` (indexing them twice would corrupt the index).
        conn.execute_batch(&format!(
            "DROP TRIGGER IF EXISTS messages_fts_insert;{TRIGGERS}"
        ))?;
    }
    Ok(())
}

/// The archive's newest row id (0 when empty): rows inserted after it in
/// the same transaction have greater ids (`INTEGER PRIMARY KEY` without
/// `AUTOINCREMENT` takes the largest plus one), so they are exactly those
/// [`index_new_rows`] indexes.
pub(super) fn last_row(conn: &Connection) -> Result<i64, HistoryError> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(id), 0) FROM messages", [], |r| {
            r.get(0)
        })?,
    )
}

/// Indexes the rows inserted after `last` (from [`last_row`], in the
/// same transaction) in one statement.
pub(super) fn index_new_rows(conn: &Connection, last: i64) -> Result<(), HistoryError> {
    conn.prepare_cached(
        "INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages WHERE id > ?1",
    )?
    .execute([last])?;
    Ok(())
}

/// One message `/find` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The room or contact (bare JID) it belongs to.
    pub conversation: String,
    pub message: Message,
}

/// The FTS5 query for what the user typed: every word must occur (as a
/// word, any case, accents ignored). Each word is quoted, so no input is
/// FTS5 syntax; `None` when there is no word.
fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .take(MAX_TERMS)
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl History {
    /// The newest messages (at most `limit`, newest first) whose body has
    /// every word of `text`, in `conversation` or everywhere. "Newest" is
    /// the latest archived (FTS5 walks its index backwards and stops at
    /// `limit`, so a word in every message costs no more than a rare one);
    /// those are then ordered by time.
    pub fn find(
        &self,
        text: &str,
        conversation: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Found>, HistoryError> {
        let Some(query) = fts_query(text) else {
            return Ok(Vec::new());
        };
        let conv = match conversation {
            Some(c) => match self.conv(c)? {
                Some(id) => Some(id),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {}, c.jid
             FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
             JOIN conversations c ON c.id = m.conv
             WHERE messages_fts MATCH ?1 AND c.account = ?2
               AND (?3 IS NULL OR m.conv = ?3)
             ORDER BY messages_fts.rowid DESC LIMIT ?4",
            message_columns("m.")
        ))?;
        let rows = stmt.query_map(
            params![query, self.account, conv, limit.min(MAX_FOUND) as i64],
            |row| {
                Ok(Found {
                    message: row_to_message(row)?,
                    conversation: row.get(MESSAGE_COLUMN_COUNT)?,
                })
            },
        )?;
        let mut found = rows.collect::<Result<Vec<_>, _>>()?;
        found.sort_by_key(|f| std::cmp::Reverse(f.message.time));
        Ok(found)
    }

    /// Every archived message of `conversation`, oldest first, handed to
    /// `each` (streamed: an archive of any size costs one row at a time);
    /// how many there were.
    pub fn each_message(
        &self,
        conversation: &str,
        mut each: impl FnMut(&Message) -> std::io::Result<()>,
    ) -> Result<usize, HistoryError> {
        let Some(conv) = self.conv(conversation)? else {
            return Ok(0);
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM messages WHERE conv = ?1 ORDER BY time_ms, id",
            message_columns("")
        ))?;
        let mut rows = stmt.query([conv])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            each(&row_to_message(row)?).map_err(HistoryError::Write)?;
            n += 1;
        }
        Ok(n)
    }

    /// The archived messages of `conversation` from `start` on (oldest
    /// first, at most `limit`): the context of a message `/find` found.
    pub fn from_time(
        &self,
        conversation: &str,
        start: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Message>, HistoryError> {
        let Some(conv) = self.conv(conversation)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM messages WHERE conv = ?1 AND time_ms >= ?2
             ORDER BY time_ms, id LIMIT ?3",
            message_columns("")
        ))?;
        let rows = stmt.query_map(
            params![conv, start.timestamp_millis(), limit as i64],
            row_to_message,
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::record as rec;

    const ROOM: &str = "r@conference.localhost";

    #[test]
    fn words_anywhere_newest_first_any_case_and_accent() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        h.append(&[
            rec(ROOM, "a", "The release is out", 1),
            rec(ROOM, "b", "nothing to see", 2),
            rec("bob@localhost", "c", "Release notes: café ready", 3),
            rec(ROOM, "d", "released? not the same word", 4),
        ])
        .unwrap();
        let found = h.find("release", None, 10).unwrap();
        let bodies: Vec<&str> = found.iter().map(|f| f.message.body.as_str()).collect();
        assert_eq!(bodies, ["Release notes: café ready", "The release is out"]);
        assert_eq!(found[0].conversation, "bob@localhost");
        // Every word; accents ignored; one conversation.
        assert_eq!(h.find("CAFE release", None, 10).unwrap().len(), 1);
        assert_eq!(h.find("release", Some(ROOM), 10).unwrap().len(), 1);
        assert!(h.find("   ", None, 10).unwrap().is_empty());
        // Another account's archive is not searched.
        let mut other = History::in_memory("carol@localhost").unwrap();
        other.append(&[rec(ROOM, "z", "release", 9)]).unwrap();
        assert_eq!(other.find("release", None, 10).unwrap().len(), 1);
    }

    #[test]
    fn fts_syntax_in_the_query_is_just_text() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        h.append(&[rec(ROOM, "a", "say \"NEAR\" or (x) AND y*", 1)])
            .unwrap();
        for q in [
            "\"NEAR\"", "(x)", "AND", "y*", "\"", "body:x", "NOT", "^x", "-x",
        ] {
            assert!(h.find(q, None, 10).is_ok(), "{q}");
        }
        assert_eq!(h.find("NEAR AND", None, 10).unwrap().len(), 1);
    }

    #[test]
    fn a_correction_changes_what_is_found() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        h.append(&[rec(ROOM, "a", "the cat sat", 1)]).unwrap();
        assert!(h.correct(ROOM, "id-a", Some("bob"), "the dog sat").unwrap());
        assert!(h.find("cat", None, 10).unwrap().is_empty());
        assert_eq!(h.find("dog", None, 10).unwrap().len(), 1);
    }

    #[test]
    fn an_archive_from_before_the_index_is_indexed_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite3");
        {
            let mut h = History::open(&path, "alice@localhost").unwrap();
            h.append(&[rec(ROOM, "a", "old words", 1)]).unwrap();
            h.conn
                .execute_batch(
                    "DROP TRIGGER messages_fts_delete;
                     DROP TRIGGER messages_fts_update; DROP TABLE messages_fts;",
                )
                .unwrap();
        }
        let h = History::open(&path, "alice@localhost").unwrap();
        assert_eq!(h.find("old", None, 10).unwrap().len(), 1);
    }

    /// FTS5's own check that the index matches the messages' bodies.
    fn index_is_sound(h: &History) {
        h.conn
            .execute(
                "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .expect("the index matches the archive");
    }

    #[test]
    fn appended_batches_are_indexed_once_duplicates_not_again() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        h.append(&[rec(ROOM, "a", "first words", 1), rec(ROOM, "b", "more", 2)])
            .unwrap();
        // A repeated stanza-id is not archived, nor indexed, again.
        assert_eq!(
            h.append(&[rec(ROOM, "a", "first words", 1), rec(ROOM, "c", "words", 3)])
                .unwrap(),
            1
        );
        h.append(&[]).unwrap();
        index_is_sound(&h);
        assert_eq!(h.find("words", None, 10).unwrap().len(), 2);
        assert_eq!(h.find("first", None, 10).unwrap().len(), 1);
        // Corrections and removals still go through their triggers.
        assert!(h.correct(ROOM, "id-c", Some("bob"), "other").unwrap());
        index_is_sound(&h);
        assert_eq!(h.find("words", None, 10).unwrap().len(), 1);
    }

    #[test]
    fn an_index_with_the_old_insert_trigger_loses_it_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite3");
        {
            let mut h = History::open(&path, "alice@localhost").unwrap();
            h.append(&[rec(ROOM, "a", "old words", 1)]).unwrap();
            // What the previous version created.
            h.conn
                .execute_batch(
                    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
                         INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
                     END;",
                )
                .unwrap();
        }
        let mut h = History::open(&path, "alice@localhost").unwrap();
        h.append(&[rec(ROOM, "b", "new words", 2)]).unwrap();
        index_is_sound(&h);
        assert_eq!(h.find("words", None, 10).unwrap().len(), 2);
    }

    #[test]
    fn each_message_streams_in_order_and_from_time_gives_context() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        h.append(&[
            rec(ROOM, "b", "two", 2),
            rec(ROOM, "a", "one", 1),
            rec(ROOM, "c", "three", 3),
        ])
        .unwrap();
        let mut seen = Vec::new();
        let n = h
            .each_message(ROOM, |m| {
                seen.push(m.body.clone());
                Ok(())
            })
            .unwrap();
        assert_eq!(
            (n, seen),
            (3, vec!["one".to_string(), "two".into(), "three".into()])
        );
        let t2 = DateTime::<Utc>::from_timestamp(1_700_000_002, 0).unwrap();
        let ctx = h.from_time(ROOM, t2, 10).unwrap();
        assert_eq!(ctx.len(), 2);
        assert_eq!(ctx[0].body, "two");
    }
}
