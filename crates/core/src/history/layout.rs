//! From the layout before conversation ids to today's: `messages` named
//! its conversation by two texts (`account`, `conversation`) that led
//! every index, so every insert and look-up compared them at each step
//! down five trees. Converting copies the rows (ids kept: the search
//! index, the windows' read markers stay right) into a table that names
//! a row of `conversations` instead.

use rusqlite::Connection;

use super::HistoryError;

/// Whether `messages` has the old layout (its `conversation` column).
pub(super) fn is_old(conn: &Connection) -> Result<bool, HistoryError> {
    Ok(conn
        .prepare("SELECT 1 FROM pragma_table_info('messages') WHERE name = 'conversation'")?
        .exists([])?)
}

/// Every column of a message row but its conversation, in both layouts.
const COLUMNS: &str = "id, stanza_id, message_id, time_ms, nick, body, own, private, edited,
    occupant_id, reply_id, reply_to, reply_quote, removed, removed_by, removed_reason,
    reactions, e2e";

/// Converts an archive of the old layout (with every later column, see
/// `history::migrate`), in one transaction: the old table goes with its
/// indexes and triggers, today's is made by `SCHEMA` and `search`.
pub(super) fn convert(conn: &Connection) -> Result<(), HistoryError> {
    let columns = COLUMNS.replace('\n', " ");
    let m_columns = columns
        .split(", ")
        .map(|c| format!("m.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         DROP TRIGGER IF EXISTS messages_fts_insert;
         DROP TRIGGER IF EXISTS messages_fts_delete;
         DROP TRIGGER IF EXISTS messages_fts_update;
         ALTER TABLE messages RENAME TO messages_old;
         {schema}
         INSERT OR IGNORE INTO conversations (account, jid)
             SELECT DISTINCT account, conversation FROM messages_old ORDER BY account, conversation;
         INSERT INTO messages (conv, {columns})
             SELECT c.id, {m_columns} FROM messages_old m
             JOIN conversations c ON c.account = m.account AND c.jid = m.conversation
             ORDER BY m.id;
         DROP TABLE messages_old;
         COMMIT;",
        schema = super::SCHEMA,
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{DateTime, Utc};

    use super::super::History;
    use crate::fixtures::record as rec;

    const ROOM: &str = "r@conference.localhost";

    /// An archive as the confab before conversation ids left it: every
    /// column, its five indexes, its search index and triggers; two
    /// accounts, two conversations, one window read up to row 2.
    fn previous_layout(path: &Path) {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute_batch(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, account TEXT NOT NULL,
                 conversation TEXT NOT NULL, stanza_id TEXT, message_id TEXT,
                 time_ms INTEGER NOT NULL, nick TEXT, body TEXT NOT NULL,
                 own INTEGER NOT NULL, private INTEGER NOT NULL,
                 edited INTEGER NOT NULL DEFAULT 0, occupant_id TEXT, reply_id TEXT,
                 reply_to TEXT, reply_quote TEXT, removed INTEGER NOT NULL DEFAULT 0,
                 removed_by TEXT, removed_reason TEXT, reactions TEXT, e2e INTEGER);
             CREATE UNIQUE INDEX messages_stanza_id_first
                 ON messages(stanza_id, account, conversation) WHERE stanza_id IS NOT NULL;
             CREATE INDEX messages_time ON messages(account, conversation, time_ms);
             CREATE INDEX messages_message_id_first
                 ON messages(message_id, account, conversation);
             CREATE INDEX messages_conversation_id ON messages(account, conversation, id);
             CREATE INDEX messages_without_id
                 ON messages(account, conversation, body) WHERE stanza_id IS NULL;
             CREATE TABLE windows (account TEXT NOT NULL, conversation TEXT NOT NULL,
                 open INTEGER NOT NULL, opened_ms INTEGER NOT NULL, read_id INTEGER,
                 PRIMARY KEY (account, conversation));
             INSERT INTO messages (id, account, conversation, stanza_id, message_id, time_ms,
                 nick, body, own, private, edited, reactions)
             VALUES
                 (1, 'alice@localhost', 'r@conference.localhost', 's1', 'm1', 1700000001000,
                  'bob', 'the old café', 0, 0, 1, NULL),
                 (2, 'alice@localhost', 'bob@localhost', NULL, 'm2', 1700000002000,
                  NULL, 'mine, don''t lose it', 1, 0, 0, NULL),
                 (3, 'carol@localhost', 'r@conference.localhost', 's1', 'm3', 1700000003000,
                  'bob', 'carol''s copy', 0, 0, 0, NULL),
                 (4, 'alice@localhost', 'r@conference.localhost', 's4', 'm4', 1700000004000,
                  'dave', 'reacted', 0, 0, 0,
                  '[{\"sender\":\"name:x\",\"nick\":\"x\",\"emojis\":[\"👍\"],\"own\":false}]');
             INSERT INTO windows VALUES ('alice@localhost', 'bob@localhost', 1, 5, 2);
             CREATE VIRTUAL TABLE messages_fts USING fts5(
                 body, content='messages', content_rowid='id',
                 tokenize='unicode61 remove_diacritics 2');
             CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
                 INSERT INTO messages_fts(messages_fts, rowid, body)
                 VALUES ('delete', old.id, old.body);
             END;
             CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
                 INSERT INTO messages_fts(messages_fts, rowid, body)
                 VALUES ('delete', old.id, old.body);
                 INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
             END;
             INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');",
        )
        .unwrap();
    }

    fn names(h: &History, kind: &str) -> Vec<String> {
        h.conn
            .prepare("SELECT name FROM sqlite_master WHERE type = ?1 ORDER BY name")
            .unwrap()
            .query_map([kind], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn an_archive_of_the_previous_layout_is_converted_and_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite3");
        previous_layout(&path);
        let mut h = History::open(&path, "alice@localhost").unwrap();
        // Today's indexes only; the triggers are back.
        let indexes: Vec<String> = names(&h, "index")
            .into_iter()
            .filter(|n| n.starts_with("messages"))
            .collect();
        assert_eq!(
            indexes,
            [
                "messages_conv_id",
                "messages_conv_time",
                "messages_conv_without_id",
                "messages_message_id_conv",
                "messages_stanza_id_conv"
            ]
        );
        let triggers = names(&h, "trigger");
        assert_eq!(triggers, ["messages_fts_delete", "messages_fts_update"]);
        assert!(!names(&h, "table").contains(&"messages_old".to_string()));
        // Rows, columns and accounts as they were.
        let r = h.recent(ROOM, 10).unwrap();
        let bodies: Vec<&str> = r.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["the old café", "reacted"]);
        assert!(r[0].edited);
        assert_eq!(r[1].meta.reactions[0].emojis, ["👍"]);
        assert!(h.has_stanza_id(ROOM, "s1").unwrap());
        assert!(!h.has_stanza_id(ROOM, "s3").unwrap());
        assert_eq!(h.last_stanza_id(ROOM).unwrap().as_deref(), Some("s4"));
        let carol = History::open(&path, "carol@localhost").unwrap();
        assert_eq!(carol.recent(ROOM, 10).unwrap()[0].body, "carol's copy");
        // The search index still matches the rows (ids kept).
        h.conn
            .execute(
                "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .unwrap();
        let found = h.find("cafe", None, 10).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].conversation, ROOM);
        assert_eq!(h.find("\"don't\"", None, 10).unwrap().len(), 1);
        // The window's marker still points at its row.
        let w = h.open_windows().unwrap();
        assert_eq!(w[0].read, Some(2));
        assert_eq!(h.unread("bob@localhost", w[0].read).unwrap(), 0);
        assert!(
            h.has_copy_without_id(
                "bob@localhost",
                None,
                "mine, don't lose it",
                DateTime::<Utc>::from_timestamp(1_700_000_010, 0).unwrap(),
                60
            )
            .unwrap()
        );
        // New rows after the old ones; a stanza-id is unique per
        // conversation only; the triggers keep the index right.
        assert_eq!(h.append(&[rec(ROOM, "s1", "again", 9)]).unwrap(), 0);
        assert_eq!(
            h.append(&[
                rec(ROOM, "s5", "new", 9),
                rec("x@localhost", "s1", "elsewhere", 9)
            ])
            .unwrap(),
            2
        );
        assert!(h.correct(ROOM, "m1", Some("bob"), "the new tea").unwrap());
        assert!(h.find("cafe", None, 10).unwrap().is_empty());
        assert_eq!(h.find("tea", Some(ROOM), 10).unwrap().len(), 1);
        let max: i64 = h
            .conn
            .query_row("SELECT MAX(id) FROM messages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(max, 6);
        drop(h);
        // Opened again: nothing more to do.
        let h = History::open(&path, "alice@localhost").unwrap();
        assert_eq!(h.recent(ROOM, 10).unwrap().len(), 3);
    }

    /// The plan of `sql` (its parameters all NULL), its steps joined.
    fn plan(h: &History, sql: &str) -> String {
        let mut stmt = h
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
        let steps: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        steps.join("; ")
    }

    /// Each query of the archive, and the index its plan must use (never
    /// a scan of `messages`).
    #[test]
    fn every_query_goes_down_an_index() {
        let h = History::in_memory("alice@localhost").unwrap();
        let cols = super::super::message_columns("");
        let queries: Vec<(String, &str)> = vec![
            (
                "SELECT 1 FROM messages WHERE conv = ?1 AND stanza_id = ?2".into(),
                "messages_stanza_id_conv",
            ),
            (
                format!(
                    "SELECT {cols} FROM messages WHERE conv = ?1
                     ORDER BY time_ms DESC, id DESC LIMIT ?2"
                ),
                "messages_conv_time",
            ),
            (
                format!(
                    "SELECT {cols} FROM messages WHERE conv = ?1 AND time_ms < ?2
                     ORDER BY time_ms DESC, id DESC LIMIT ?3"
                ),
                "messages_conv_time",
            ),
            (
                "SELECT 1 FROM messages WHERE conv = ?1 AND time_ms BETWEEN ?2 AND ?3
                 AND nick IS ?4 AND body = ?5"
                    .into(),
                "messages_conv_time",
            ),
            (
                "SELECT MAX(time_ms) FROM messages WHERE conv = ?1".into(),
                "messages_conv_time",
            ),
            (
                "SELECT stanza_id FROM messages WHERE conv = ?1 AND stanza_id IS NOT NULL
                 ORDER BY time_ms DESC, id DESC LIMIT 1"
                    .into(),
                "messages_conv_time",
            ),
            (
                "SELECT id FROM messages INDEXED BY messages_message_id_conv
                 WHERE conv = ?1 AND message_id = ?2 AND nick IS ?3 AND private = 0
                 ORDER BY time_ms DESC, id DESC LIMIT 1"
                    .into(),
                "messages_message_id_conv",
            ),
            (
                super::super::fasten::TARGET_ROW.into(),
                "messages_message_id_conv",
            ),
            (
                super::super::fasten::TARGET_ROW.into(),
                "messages_stanza_id_conv",
            ),
            (
                "SELECT 1 FROM messages INDEXED BY messages_conv_without_id
                 WHERE conv = ?1 AND body = ?5
                 AND stanza_id IS NULL AND time_ms BETWEEN ?2 AND ?3 AND nick IS ?4"
                    .into(),
                "messages_conv_without_id",
            ),
            (
                "SELECT MAX(id) FROM messages WHERE conv = ?1".into(),
                "messages_conv_id",
            ),
            (
                "SELECT COUNT(*) FROM (SELECT 1 FROM messages
                 WHERE conv = ?1 AND id > ?2 AND own = 0 LIMIT ?3)"
                    .into(),
                "messages_conv_id",
            ),
            (
                format!("SELECT {cols} FROM messages WHERE conv = ?1 ORDER BY time_ms, id"),
                "messages_conv_time",
            ),
            (
                format!(
                    "SELECT {cols} FROM messages WHERE conv = ?1 AND time_ms >= ?2
                     ORDER BY time_ms, id LIMIT ?3"
                ),
                "messages_conv_time",
            ),
        ];
        for (sql, index) in queries {
            let plan = plan(&h, &sql);
            assert!(plan.contains(index), "{sql}: {plan}");
            assert!(!plan.contains("SCAN messages"), "{sql}: {plan}");
        }
        // `/find`: the search index first, then each row by its id.
        let plan = plan(
            &h,
            &format!(
                "SELECT {}, c.jid
                 FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
                 JOIN conversations c ON c.id = m.conv
                 WHERE messages_fts MATCH ?1 AND c.account = ?2
                   AND (?3 IS NULL OR m.conv = ?3)
                 ORDER BY messages_fts.rowid DESC LIMIT ?4",
                super::super::message_columns("m.")
            ),
        );
        assert!(plan.contains("VIRTUAL TABLE INDEX"), "{plan}");
        assert!(!plan.contains("SCAN m "), "{plan}");
        assert!(!plan.contains("SCAN c"), "{plan}");
    }
}
