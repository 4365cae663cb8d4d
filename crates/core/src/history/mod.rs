//! The local archive: messages of rooms and conversations in SQLite, in the
//! data directory. Writes come in batches, one transaction each. The open
//! one-to-one windows and their read markers live beside them
//! (`windows.rs`).

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::store::{Kind, Message};

mod edits;
mod fasten;
mod ignored;
mod marks;
mod search;
mod windows;

pub use search::{Found, MAX_FOUND};
pub use windows::{MAX_UNREAD, MAX_WINDOWS, OpenWindow};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("history database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot create the data directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("history database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("writing: {0}")]
    Write(std::io::Error),
}

/// One message to archive, under its room or contact (bare JID).
#[derive(Debug, Clone)]
pub struct Record {
    pub conversation: String,
    pub message: Message,
}

pub struct History {
    conn: Connection,
    account: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    conversation TEXT NOT NULL,
    stanza_id TEXT,
    message_id TEXT,
    time_ms INTEGER NOT NULL,
    nick TEXT,
    body TEXT NOT NULL,
    own INTEGER NOT NULL,
    private INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_stanza_id_first
    ON messages(stanza_id, account, conversation) WHERE stanza_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_time
    ON messages(account, conversation, time_ms);
";

impl History {
    /// Opens (or creates) the archive at `path` for `account`.
    pub fn open(path: &Path, account: &str) -> Result<History, HistoryError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| HistoryError::Dir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| HistoryError::Open {
            path: path.display().to_string(),
            source,
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&conn)?;
        Ok(History {
            conn,
            account: account.to_string(),
        })
    }

    /// An archive in memory (tests, benchmarks).
    pub fn in_memory(account: &str) -> Result<History, HistoryError> {
        let conn = Connection::open_in_memory()?;
        migrate(&conn)?;
        Ok(History {
            conn,
            account: account.to_string(),
        })
    }

    /// Archives a batch in one transaction. Messages whose stanza-id is
    /// already archived are skipped.
    pub fn append(&mut self, records: &[Record]) -> Result<usize, HistoryError> {
        if records.is_empty() {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        let last = search::last_row(&tx)?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO messages
                 (account, conversation, stanza_id, message_id, time_ms, nick, body, own, private,
                  edited, occupant_id, reply_id, reply_to, reply_quote, removed, removed_by,
                  removed_reason, e2e)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                  ?17, ?18)",
            )?;
            for r in records {
                let m = &r.message;
                added += stmt.execute(params![
                    self.account,
                    r.conversation,
                    m.stanza_id,
                    m.id,
                    m.time.timestamp_millis(),
                    m.nick,
                    m.body,
                    m.own,
                    m.private,
                    m.edited,
                    m.meta.occupant_id,
                    m.meta.reply.as_ref().map(|r| &r.id),
                    m.meta.reply.as_ref().and_then(|r| r.to.as_ref()),
                    m.meta.reply.as_ref().and_then(|r| r.quote.as_ref()),
                    m.meta.removed.is_some(),
                    m.meta.removed.as_ref().and_then(|r| r.by.as_ref()),
                    m.meta.removed.as_ref().and_then(|r| r.reason.as_ref()),
                    m.meta.lock.map(crate::store::Lock::code),
                ])?;
            }
        }
        if added > 0 {
            search::index_new_rows(&tx, last)?;
        }
        tx.commit()?;
        Ok(added)
    }

    /// The last `limit` messages of a conversation, oldest first.
    pub fn recent(&self, conversation: &str, limit: usize) -> Result<Vec<Message>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM messages
             WHERE account = ?1 AND conversation = ?2
             ORDER BY time_ms DESC, id DESC LIMIT ?3",
            message_columns("")
        ))?;
        let rows = stmt.query_map(
            params![self.account, conversation, limit as i64],
            row_to_message,
        )?;
        let mut out = rows.collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Up to `limit` messages older than `before` (oldest first): for
    /// scrolling back past what is in memory.
    pub fn before(
        &self,
        conversation: &str,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Message>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM messages
             WHERE account = ?1 AND conversation = ?2 AND time_ms < ?3
             ORDER BY time_ms DESC, id DESC LIMIT ?4",
            message_columns("")
        ))?;
        let rows = stmt.query_map(
            params![
                self.account,
                conversation,
                before.timestamp_millis(),
                limit as i64
            ],
            row_to_message,
        )?;
        let mut out = rows.collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Whether a message from `nick` with this body is archived, stamped
    /// within `secs` of `time` (a copy without a stanza-id).
    pub fn has_copy(
        &self,
        conversation: &str,
        nick: Option<&str>,
        body: &str,
        time: DateTime<Utc>,
        secs: i64,
    ) -> Result<bool, HistoryError> {
        self.copy_exists(
            "SELECT 1 FROM messages
             WHERE account = ?1 AND conversation = ?2 AND time_ms BETWEEN ?3 AND ?4
               AND nick IS ?5 AND body = ?6",
            (conversation, nick, body),
            time,
            secs,
        )
    }

    /// Whether `sql` finds a row for (account, conversation, from
    /// `time - secs` to `time + secs` in ms, nick, body) as ?1 to ?6.
    fn copy_exists(
        &self,
        sql: &str,
        (conversation, nick, body): (&str, Option<&str>, &str),
        time: DateTime<Utc>,
        secs: i64,
    ) -> Result<bool, HistoryError> {
        let ms = time.timestamp_millis();
        Ok(self.conn.prepare_cached(sql)?.exists(params![
            self.account,
            conversation,
            ms - secs * 1000,
            ms + secs * 1000,
            nick,
            body
        ])?)
    }

    /// Time of the newest archived message of a conversation.
    pub fn last_time(&self, conversation: &str) -> Result<Option<DateTime<Utc>>, HistoryError> {
        let ms: Option<i64> = self.conn.query_row(
            "SELECT MAX(time_ms) FROM messages WHERE account = ?1 AND conversation = ?2",
            params![self.account, conversation],
            |row| row.get(0),
        )?;
        Ok(ms.and_then(DateTime::<Utc>::from_timestamp_millis))
    }
}

/// Brings an archive of any earlier confab to the current schema.
fn migrate(conn: &Connection) -> Result<(), HistoryError> {
    conn.execute_batch(SCHEMA)?;
    edits::migrate(conn)?;
    fasten::migrate(conn)?;
    windows::migrate(conn)?;
    marks::migrate(conn)?;
    search::migrate(conn)?;
    ignored::migrate(conn)?;
    // Before the ids came first, the stanza-id and message-id indexes led
    // with the account and conversation that every row of a room shares:
    // each look-up and each insert compared those long texts at every
    // step down the tree (SCHEMA and `edits` made the new ones).
    conn.execute_batch(
        "DROP INDEX IF EXISTS messages_stanza_id;
         DROP INDEX IF EXISTS messages_message_id;",
    )?;
    Ok(())
}

/// The columns [`row_to_message`] reads, in its order (`prefix`: a table
/// alias and its dot, or nothing).
pub(super) fn message_columns(prefix: &str) -> String {
    MESSAGE_COLUMNS.map(|c| format!("{prefix}{c}")).join(", ")
}

/// What [`row_to_message`] reads; a query's own columns come after them,
/// from index [`MESSAGE_COLUMN_COUNT`].
const MESSAGE_COLUMNS: [&str; 17] = [
    "stanza_id",
    "message_id",
    "time_ms",
    "nick",
    "body",
    "own",
    "private",
    "edited",
    "occupant_id",
    "reply_id",
    "reply_to",
    "reply_quote",
    "removed",
    "removed_by",
    "removed_reason",
    "reactions",
    "e2e",
];
pub(super) const MESSAGE_COLUMN_COUNT: usize = MESSAGE_COLUMNS.len();

/// An archive as the first confab wrote it (no later column), holding
/// bob's "old" (stanza-id `s1`, id `m1`) in `r@conference.localhost`:
/// what the migrations start from.
#[cfg(test)]
pub(super) fn old_archive(path: &Path) {
    Connection::open(path)
        .and_then(|c| {
            c.execute_batch(
                "CREATE TABLE messages (id INTEGER PRIMARY KEY, account TEXT NOT NULL,
                 conversation TEXT NOT NULL, stanza_id TEXT, message_id TEXT,
                 time_ms INTEGER NOT NULL, nick TEXT, body TEXT NOT NULL,
                 own INTEGER NOT NULL, private INTEGER NOT NULL);
                 INSERT INTO messages VALUES (1, 'alice@localhost', 'r@conference.localhost',
                 's1', 'm1', 1700000000000, 'bob', 'old', 0, 0);",
            )
        })
        .expect("an old archive");
}

fn row_to_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    let ms: i64 = row.get(2)?;
    let time = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    let (stanza_id, id, nick, body) = (row.get(0)?, row.get(1)?, row.get(3)?, row.get(4)?);
    let reply_id: Option<String> = row.get(9)?;
    let removed: bool = row.get(12)?;
    let meta = crate::store::Meta {
        occupant_id: row.get(8)?,
        reply: match reply_id {
            Some(id) => Some(Box::new(confab_proto::reply::Reply {
                id,
                to: row.get(10)?,
                quote: row.get(11)?,
            })),
            None => None,
        },
        reactions: fasten::reactions_of(row.get(15)?),
        lock: crate::store::Lock::from_code(row.get(16)?),
        removed: if removed {
            Some(Box::new(crate::store::Removed {
                by: row.get(13)?,
                reason: row.get(14)?,
            }))
        } else {
            None
        },
    };
    Ok(Message {
        meta,
        stanza_id,
        id,
        own: row.get(5)?,
        private: row.get(6)?,
        delayed: true,
        archived: true,
        edited: row.get(7)?,
        ..Message::new(Kind::Chat, time, nick, body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(sid: Option<&str>, body: &str, secs: i64) -> Message {
        Message {
            kind: Kind::Chat,
            seq: 0,
            id: None,
            stanza_id: sid.map(str::to_string),
            time: DateTime::<Utc>::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
            nick: Some("bob".into()),
            body: body.into(),
            own: false,
            private: false,
            delayed: false,
            archived: false,
            edited: false,
            meta: Default::default(),
        }
    }

    fn rec(sid: Option<&str>, body: &str, secs: i64) -> Record {
        Record {
            conversation: "r@conference.localhost".into(),
            message: m(sid, body, secs),
        }
    }

    #[test]
    fn append_is_idempotent_by_stanza_id_and_recent_is_ordered() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        assert_eq!(
            h.append(&[rec(Some("a"), "one", 1), rec(Some("b"), "two", 2)])
                .unwrap(),
            2
        );
        assert_eq!(
            h.append(&[rec(Some("a"), "one", 1), rec(None, "three", 3)])
                .unwrap(),
            1
        );
        let r = h.recent("r@conference.localhost", 10).unwrap();
        let bodies: Vec<_> = r.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["one", "two", "three"]);
        assert!(r.iter().all(|m| m.archived));
        let r = h.recent("r@conference.localhost", 2).unwrap();
        assert_eq!(r[0].body, "two");
        let t2 = r[0].time;
        let older = h.before("r@conference.localhost", t2, 10).unwrap();
        let bodies: Vec<_> = older.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["one"]);
        assert_eq!(
            h.last_time("r@conference.localhost")
                .unwrap()
                .unwrap()
                .timestamp(),
            1_700_000_003
        );
        assert!(h.last_time("other@x").unwrap().is_none());
    }

    #[test]
    fn an_archive_with_the_old_indexes_gets_the_id_first_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite3");
        // As the confab before this one left it: today's columns, the
        // indexes that led with the account and conversation.
        {
            let mut h = History::open(&path, "alice@localhost").unwrap();
            h.append(&[rec(Some("a"), "one", 1)]).unwrap();
            h.conn
                .execute_batch(
                    "DROP INDEX messages_stanza_id_first;
                     DROP INDEX messages_message_id_first;
                     CREATE UNIQUE INDEX messages_stanza_id
                         ON messages(account, conversation, stanza_id)
                         WHERE stanza_id IS NOT NULL;
                     CREATE INDEX messages_message_id
                         ON messages(account, conversation, message_id);",
                )
                .unwrap();
        }
        let mut h = History::open(&path, "alice@localhost").unwrap();
        let indexes: Vec<String> = h
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (name, there) in [
            ("messages_stanza_id_first", true),
            ("messages_message_id_first", true),
            ("messages_stanza_id", false),
            ("messages_message_id", false),
        ] {
            assert_eq!(
                indexes.iter().any(|i| i == name),
                there,
                "{name}: {indexes:?}"
            );
        }
        // The row is kept, and a stanza-id is still unique per account
        // and conversation only.
        assert_eq!(h.recent("r@conference.localhost", 10).unwrap().len(), 1);
        assert_eq!(h.append(&[rec(Some("a"), "one again", 1)]).unwrap(), 0);
        let elsewhere = Record {
            conversation: "other@conference.localhost".into(),
            message: m(Some("a"), "elsewhere", 2),
        };
        assert_eq!(h.append(&[elsewhere]).unwrap(), 1);
        assert!(h.has_stanza_id("r@conference.localhost", "a").unwrap());
        assert!(!h.has_stanza_id("r@conference.localhost", "b").unwrap());
        // The catch-up's look-up goes down the new index.
        let plan: String = h
            .conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT 1 FROM messages
                 WHERE account = ?1 AND conversation = ?2 AND stanza_id = ?3",
                params!["alice@localhost", "r@conference.localhost", "a"],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("messages_stanza_id_first"), "{plan}");
    }

    #[test]
    fn accounts_are_separate_and_file_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/history.sqlite3");
        {
            let mut h = History::open(&path, "alice@localhost").unwrap();
            h.append(&[rec(Some("a"), "one", 1)]).unwrap();
        }
        let h = History::open(&path, "alice@localhost").unwrap();
        assert_eq!(h.recent("r@conference.localhost", 10).unwrap().len(), 1);
        let other = History::open(&path, "bob@localhost").unwrap();
        assert!(
            other
                .recent("r@conference.localhost", 10)
                .unwrap()
                .is_empty()
        );
    }
}
