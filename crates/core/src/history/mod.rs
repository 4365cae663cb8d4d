//! The local archive: messages of rooms and conversations in SQLite, in the
//! data directory. Writes come in batches, one transaction each. The open
//! one-to-one windows and their read markers live beside them
//! (`windows.rs`).
//!
//! Each conversation (a room or contact of an account) is a row of
//! `conversations`; messages name it by that small integer (`conv`), and
//! every index of `messages` leads with it rather than with two long
//! texts (`layout.rs` converts archives of the earlier layout).
//!
//! The look-ups of a burst of events (a catch-up's results, each checked
//! by its stanza-id) share one read transaction, opened by the first and
//! ended by [`History::end_burst`] (the app calls it when it writes the
//! burst) or by the next write: nothing is held while the app waits.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::store::{Kind, Message};

mod edits;
mod fasten;
mod ignored;
mod layout;
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
    /// Conversation ids by JID, as committed (at most [`MAX_CACHED`]).
    convs: RefCell<HashMap<String, i64>>,
    /// A read transaction of the burst's look-ups is open.
    reading: Cell<bool>,
}

/// Conversation ids kept in memory at most (the cache starts over).
const MAX_CACHED: usize = 1024;

/// Bytes the WAL file keeps after a checkpoint, at most.
const WAL_LIMIT: i64 = 32 << 20;

/// Today's tables and the indexes of `messages` (each query's plan is
/// checked in `layout.rs`'s tests): by stanza-id (unique: the catch-up's
/// look-up, `INSERT OR IGNORE`), by time (reading a conversation), by
/// message id (corrections, reactions, retractions), by row id (unread
/// lines of a window) and the rows without a stanza-id by body (copies
/// of our own messages, few).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    jid TEXT NOT NULL,
    UNIQUE (account, jid)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conv INTEGER NOT NULL,
    stanza_id TEXT,
    message_id TEXT,
    time_ms INTEGER NOT NULL,
    nick TEXT,
    body TEXT NOT NULL,
    own INTEGER NOT NULL,
    private INTEGER NOT NULL,
    edited INTEGER NOT NULL DEFAULT 0,
    occupant_id TEXT,
    reply_id TEXT,
    reply_to TEXT,
    reply_quote TEXT,
    removed INTEGER NOT NULL DEFAULT 0,
    removed_by TEXT,
    removed_reason TEXT,
    reactions TEXT,
    e2e INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_stanza_id_conv
    ON messages(stanza_id, conv) WHERE stanza_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_conv_time ON messages(conv, time_ms);
CREATE INDEX IF NOT EXISTS messages_message_id_conv ON messages(message_id, conv);
CREATE INDEX IF NOT EXISTS messages_conv_id ON messages(conv, id);
CREATE INDEX IF NOT EXISTS messages_conv_without_id
    ON messages(conv, body) WHERE stanza_id IS NULL;
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
        // A checkpoint every 4,000 pages rather than 1,000: a page that
        // every burst changes (an index's leaf) is copied to the file
        // once per checkpoint (`benches/history.rs`: a fifth fewer bytes
        // written, a tenth less CPU). The WAL file is cut back to
        // `WAL_LIMIT` after a checkpoint (a big transaction, e.g. the
        // conversion, leaves it large).
        conn.pragma_update(None, "wal_autocheckpoint", 4000)?;
        conn.pragma_update(None, "journal_size_limit", WAL_LIMIT)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&conn)?;
        Ok(History::with(conn, account))
    }

    /// An archive in memory (tests, benchmarks).
    pub fn in_memory(account: &str) -> Result<History, HistoryError> {
        let conn = Connection::open_in_memory()?;
        migrate(&conn)?;
        Ok(History::with(conn, account))
    }

    fn with(conn: Connection, account: &str) -> History {
        History {
            conn,
            account: account.to_string(),
            convs: RefCell::new(HashMap::new()),
            reading: Cell::new(false),
        }
    }

    /// The connection for a look-up of the burst: in the burst's read
    /// transaction (begun by the first look-up).
    fn reader(&self) -> Result<&Connection, HistoryError> {
        if !self.reading.get() && self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN DEFERRED")?;
            self.reading.set(true);
        }
        Ok(&self.conn)
    }

    /// Ends the read transaction of the burst's look-ups, if one is open.
    /// The app calls it when it has handled a burst of events (with the
    /// burst's writes): nothing stays open while it waits for the next.
    pub fn end_burst(&mut self) -> Result<(), HistoryError> {
        if self.reading.replace(false) && !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT")?;
        }
        Ok(())
    }

    /// The id of a conversation that has archived rows (`None`: nothing
    /// archived there yet, so no row can match).
    fn conv(&self, jid: &str) -> Result<Option<i64>, HistoryError> {
        if let Some(id) = self.convs.borrow().get(jid) {
            return Ok(Some(*id));
        }
        let id = find_conv(&self.conn, &self.account, jid)?;
        if let Some(id) = id {
            self.remember(jid, id);
        }
        Ok(id)
    }

    fn remember(&self, jid: &str, id: i64) {
        let mut convs = self.convs.borrow_mut();
        if convs.len() >= MAX_CACHED {
            convs.clear();
        }
        convs.insert(jid.to_string(), id);
    }

    /// Archives a batch in one transaction. Messages whose stanza-id is
    /// already archived are skipped.
    pub fn append(&mut self, records: &[Record]) -> Result<usize, HistoryError> {
        if records.is_empty() {
            return Ok(0);
        }
        self.end_burst()?;
        // Immediate: the write lock is taken (waiting for another writer)
        // before anything is read.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last = search::last_row(&tx)?;
        let mut added = 0;
        // The batch's conversations: remembered once committed (an id
        // created by a transaction that fails does not exist).
        let mut ids: HashMap<&str, i64> = HashMap::new();
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO messages
                 (conv, stanza_id, message_id, time_ms, nick, body, own, private,
                  edited, occupant_id, reply_id, reply_to, reply_quote, removed, removed_by,
                  removed_reason, e2e)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                  ?17)",
            )?;
            for r in records {
                let jid = r.conversation.as_str();
                let conv = match ids.get(jid) {
                    Some(id) => *id,
                    None => {
                        let cached = self.convs.borrow().get(jid).copied();
                        let id = match cached {
                            Some(id) => id,
                            None => conv_to_write(&tx, &self.account, jid)?,
                        };
                        ids.insert(jid, id);
                        id
                    }
                };
                let m = &r.message;
                added += stmt.execute(params![
                    conv,
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
        for (jid, id) in ids {
            self.remember(jid, id);
        }
        Ok(added)
    }

    /// The last `limit` messages of a conversation, oldest first.
    pub fn recent(&self, conversation: &str, limit: usize) -> Result<Vec<Message>, HistoryError> {
        let Some(conv) = self.conv(conversation)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM messages WHERE conv = ?1
             ORDER BY time_ms DESC, id DESC LIMIT ?2",
            message_columns("")
        ))?;
        let rows = stmt.query_map(params![conv, limit as i64], row_to_message)?;
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
        let Some(conv) = self.conv(conversation)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM messages WHERE conv = ?1 AND time_ms < ?2
             ORDER BY time_ms DESC, id DESC LIMIT ?3",
            message_columns("")
        ))?;
        let rows = stmt.query_map(
            params![conv, before.timestamp_millis(), limit as i64],
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
             WHERE conv = ?1 AND time_ms BETWEEN ?2 AND ?3 AND nick IS ?4 AND body = ?5",
            (conversation, nick, body),
            time,
            secs,
        )
    }

    /// Whether `sql` finds a row for (conversation id, from `time - secs`
    /// to `time + secs` in ms, nick, body) as ?1 to ?5 (a look-up of the
    /// burst).
    fn copy_exists(
        &self,
        sql: &str,
        (conversation, nick, body): (&str, Option<&str>, &str),
        time: DateTime<Utc>,
        secs: i64,
    ) -> Result<bool, HistoryError> {
        let conn = self.reader()?;
        let Some(conv) = self.conv(conversation)? else {
            return Ok(false);
        };
        let ms = time.timestamp_millis();
        Ok(conn.prepare_cached(sql)?.exists(params![
            conv,
            ms - secs * 1000,
            ms + secs * 1000,
            nick,
            body
        ])?)
    }

    /// Time of the newest archived message of a conversation.
    pub fn last_time(&self, conversation: &str) -> Result<Option<DateTime<Utc>>, HistoryError> {
        let Some(conv) = self.conv(conversation)? else {
            return Ok(None);
        };
        let ms: Option<i64> = self.conn.query_row(
            "SELECT MAX(time_ms) FROM messages WHERE conv = ?1",
            [conv],
            |row| row.get(0),
        )?;
        Ok(ms.and_then(DateTime::<Utc>::from_timestamp_millis))
    }
}

/// The id of `jid`'s conversation for `account`, if it has one.
fn find_conv(conn: &Connection, account: &str, jid: &str) -> Result<Option<i64>, HistoryError> {
    Ok(conn
        .prepare_cached("SELECT id FROM conversations WHERE account = ?1 AND jid = ?2")?
        .query_row(params![account, jid], |r| r.get(0))
        .optional()?)
}

/// The id of `jid`'s conversation for `account`, made if it has none (in
/// a write transaction).
fn conv_to_write(conn: &Connection, account: &str, jid: &str) -> Result<i64, HistoryError> {
    if let Some(id) = find_conv(conn, account, jid)? {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO conversations (account, jid) VALUES (?1, ?2)")?
        .execute(params![account, jid])?;
    Ok(conn.last_insert_rowid())
}

/// Brings an archive of any earlier confab to the current schema.
fn migrate(conn: &Connection) -> Result<(), HistoryError> {
    // The layout before conversation ids: its later columns first, then
    // converted (rows keep their ids, so the search index stays right).
    if layout::is_old(conn)? {
        edits::migrate(conn)?;
        fasten::migrate(conn)?;
        layout::convert(conn)?;
    }
    conn.execute_batch(SCHEMA)?;
    windows::migrate(conn)?;
    marks::migrate(conn)?;
    search::migrate(conn)?;
    ignored::migrate(conn)?;
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
    fn a_bursts_look_ups_share_one_read_transaction_that_never_outlives_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite3");
        let mut h = History::open(&path, "alice@localhost").unwrap();
        let mut other = History::open(&path, "alice@localhost").unwrap();
        h.append(&[rec(Some("a"), "one", 1)]).unwrap();
        // The look-ups of a burst: one read transaction.
        assert!(h.has_stanza_id("r@conference.localhost", "a").unwrap());
        assert!(!h.conn.is_autocommit());
        assert!(!h.has_stanza_id("r@conference.localhost", "b").unwrap());
        assert!(
            !h.has_copy(
                "r@conference.localhost",
                Some("bob"),
                "x",
                m(None, "", 1).time,
                5
            )
            .unwrap()
        );
        // Another process writes meanwhile (readers do not block it).
        assert_eq!(other.append(&[rec(Some("b"), "two", 2)]).unwrap(), 1);
        // The burst's write ends the read first, then sees everything.
        assert_eq!(
            h.append(&[rec(Some("b"), "two", 2), rec(Some("c"), "three", 3)])
                .unwrap(),
            1
        );
        assert!(h.conn.is_autocommit());
        // A look-up, then the end of the burst: nothing stays open.
        assert!(h.has_stanza_id("r@conference.localhost", "c").unwrap());
        h.end_burst().unwrap();
        assert!(h.conn.is_autocommit());
        h.end_burst().unwrap();
        // Every other write also ends the burst's read first.
        assert!(h.has_stanza_id("r@conference.localhost", "c").unwrap());
        h.set_open("bob@localhost", true, m(None, "", 1).time)
            .unwrap();
        assert!(h.conn.is_autocommit());
        assert!(h.has_stanza_id("r@conference.localhost", "c").unwrap());
        assert!(
            h.correct("r@conference.localhost", "none", Some("bob"), "x")
                .is_ok()
        );
        assert!(h.conn.is_autocommit());
        assert_eq!(h.recent("r@conference.localhost", 10).unwrap().len(), 3);
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
