//! Whom we ignore, kept beside the archive (`/ignore` is remembered).

use rusqlite::{Connection, params};

use super::{History, HistoryError};
use crate::store::{IgnoreEntry, MAX_IGNORED};

pub(super) fn migrate(conn: &Connection) -> Result<(), HistoryError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS ignored (
             account TEXT NOT NULL,
             entry TEXT NOT NULL,
             PRIMARY KEY (account, entry));",
    )?;
    Ok(())
}

impl History {
    /// The entries kept (unreadable ones are skipped).
    pub fn ignored(&self) -> Result<Vec<IgnoreEntry>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT entry FROM ignored WHERE account = ?1 ORDER BY rowid LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![self.account, MAX_IGNORED as i64], |r| {
            r.get::<_, String>(0)
        })?;
        Ok(rows
            .filter_map(Result::ok)
            .filter_map(|s| IgnoreEntry::from_record(&s))
            .collect())
    }

    /// Replaces the entries kept with `entries`.
    pub fn set_ignored(&mut self, entries: &[IgnoreEntry]) -> Result<(), HistoryError> {
        self.end_burst()?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM ignored WHERE account = ?1",
            params![self.account],
        )?;
        {
            let mut stmt = tx
                .prepare_cached("INSERT OR IGNORE INTO ignored (account, entry) VALUES (?1, ?2)")?;
            for e in entries {
                stmt.execute(params![self.account, e.to_record()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jid::BareJid;

    #[test]
    fn kept_per_account() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        let e = vec![
            IgnoreEntry::Jid(BareJid::new("spam@evil.example").unwrap()),
            IgnoreEntry::Nick {
                room: BareJid::new("r@c").unwrap(),
                nick: "bob".into(),
            },
        ];
        h.set_ignored(&e).unwrap();
        assert_eq!(h.ignored().unwrap(), e);
        h.set_ignored(&e[1..]).unwrap();
        assert_eq!(h.ignored().unwrap(), e[1..]);
    }
}
