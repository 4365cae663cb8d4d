//! The archive's side of replies, reactions, retractions and moderations:
//! the columns that keep what a line answers, its reactions (JSON) and
//! how it was removed, and the removal itself — the text goes, the row
//! stays as a tombstone.

use rusqlite::{Connection, params};

use super::{History, HistoryError};
use crate::store::{Reacted, ReactionWrite, Removal, SenderCheck, set_reactions};

/// The columns older archives lack (added before they are converted,
/// `layout.rs`).
const COLUMNS: &[(&str, &str)] = &[
    ("occupant_id", "TEXT"),
    ("reply_id", "TEXT"),
    ("reply_to", "TEXT"),
    ("reply_quote", "TEXT"),
    ("removed", "INTEGER NOT NULL DEFAULT 0"),
    ("removed_by", "TEXT"),
    ("removed_reason", "TEXT"),
    ("reactions", "TEXT"),
    ("e2e", "INTEGER"),
];

/// The row a reference names: in a room its stanza-id, else its id; in a
/// chat its id (the newest, as for a removal). ?1: the conversation's id,
/// ?2 the reference, ?3 whether in a room. Each way down its own index
/// (without `INDEXED BY` the planner walks the conversation by time).
pub(super) const TARGET_ROW: &str = "SELECT id FROM (
    SELECT id, stanza_id, time_ms FROM messages INDEXED BY messages_message_id_conv
        WHERE message_id = ?2 AND conv = ?1 AND (NOT ?3 OR private = 0)
    UNION ALL
    SELECT id, stanza_id, time_ms FROM messages INDEXED BY messages_stanza_id_conv
        WHERE ?3 AND stanza_id = ?2 AND conv = ?1 AND private = 0)
    ORDER BY (stanza_id IS ?2) DESC, time_ms DESC, id DESC LIMIT 1";

/// The `reactions` column as read (JSON; what cannot be read is none).
pub(super) fn reactions_of(json: Option<String>) -> Vec<Reacted> {
    json.and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default()
}

pub(super) fn migrate(conn: &Connection) -> Result<(), HistoryError> {
    for (name, ty) in COLUMNS {
        let has = conn
            .prepare("SELECT 1 FROM pragma_table_info('messages') WHERE name = ?1")?
            .exists([name])?;
        if !has {
            conn.execute_batch(&format!("ALTER TABLE messages ADD COLUMN {name} {ty};"))?;
        }
    }
    Ok(())
}

impl History {
    /// A retraction or moderation: the newest row the reference names
    /// (in a room its stanza-id, else its id; in a chat its id) loses its
    /// text and keeps who removed it and why — if the sender check allows
    /// it. Returns whether a row changed.
    pub fn remove(&mut self, r: &Removal) -> Result<bool, HistoryError> {
        let (check, nick, oid, own) = match &r.sender {
            SenderCheck::Any => (0, None, None, false),
            SenderCheck::Occupant { nick, occupant_id } => {
                (1, Some(nick.as_str()), occupant_id.as_deref(), false)
            }
            SenderCheck::Chat { own } => (2, None, None, *own),
        };
        let Some(conv) = self.conv(r.conversation.as_str())? else {
            return Ok(false);
        };
        self.end_burst()?;
        let n = self.conn.execute(
            &format!(
                "UPDATE messages SET body = '', edited = 0, removed = 1, removed_by = ?4,
                 removed_reason = ?5, reply_id = NULL, reply_to = NULL, reply_quote = NULL,
                 reactions = NULL
             WHERE id = ({TARGET_ROW})
               AND (?6 = 0
                    OR (?6 = 1 AND CASE WHEN ?8 IS NOT NULL AND occupant_id IS NOT NULL
                                        THEN occupant_id = ?8 ELSE nick IS ?7 END)
                    OR (?6 = 2 AND own = ?9))"
            ),
            params![
                conv,
                r.target,
                r.room,
                r.removed.by,
                r.removed.reason,
                check,
                nick,
                oid,
                own,
            ],
        )?;
        Ok(n > 0)
    }

    /// A sender's reactions to the row the reference names, unless it was
    /// removed. Returns whether the row changed.
    pub fn react(&mut self, w: &ReactionWrite) -> Result<bool, HistoryError> {
        use rusqlite::{OptionalExtension, TransactionBehavior};
        let Some(conv) = self.conv(w.conversation.as_str())? else {
            return Ok(false);
        };
        self.end_burst()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(i64, Option<String>)> = tx
            .query_row(
                &format!(
                    "SELECT id, reactions FROM messages WHERE id = ({TARGET_ROW}) AND removed = 0"
                ),
                params![conv, w.target, w.room],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, json)) = row else {
            return Ok(false);
        };
        let mut list = reactions_of(json);
        if !set_reactions(&mut list, w.who.clone()) {
            return Ok(false);
        }
        let json =
            (!list.is_empty()).then(|| serde_json::to_string(&list).expect("reactions serialize"));
        tx.execute(
            "UPDATE messages SET reactions = ?1 WHERE id = ?2",
            params![json, id],
        )?;
        tx.commit()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Record;
    use super::*;
    use crate::store::{Kind, Message, Removed};
    use chrono::{DateTime, Utc};
    use jid::BareJid;

    const ROOM: &str = "r@conference.localhost";

    fn rec(sid: &str, nick: &str, body: &str, oid: Option<&str>) -> Record {
        let mut m = Message {
            id: Some(format!("id-{sid}")),
            stanza_id: Some(sid.into()),
            ..Message::new(
                Kind::Chat,
                DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap(),
                Some(nick.into()),
                body.into(),
            )
        };
        m.meta.occupant_id = oid.map(str::to_string);
        m.meta.reply = Some(Box::new(confab_proto::reply::Reply {
            id: "s0".into(),
            to: Some(format!("{ROOM}/x")),
            quote: Some("quoted".into()),
        }));
        Record {
            conversation: ROOM.into(),
            message: m,
        }
    }

    fn removal(target: &str, sender: SenderCheck) -> Removal {
        Removal {
            conversation: BareJid::new(ROOM).unwrap(),
            target: target.into(),
            room: true,
            sender,
            removed: Removed {
                by: Some("mod".into()),
                reason: Some("spam".into()),
            },
        }
    }

    #[test]
    fn a_removal_leaves_a_tombstone_and_checks_the_sender() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        h.append(&[
            rec("s1", "bob", "buy now", None),
            rec("s2", "carol", "hers", Some("o-carol")),
        ])
        .unwrap();
        let r = h.recent(ROOM, 10).unwrap();
        assert_eq!(
            r[0].meta.reply.as_ref().unwrap().quote.as_deref(),
            Some("quoted")
        );
        // Not bob's to remove by someone else; carol's id decides, not her nick.
        let other = |nick: &str, oid: Option<&str>| SenderCheck::Occupant {
            nick: nick.into(),
            occupant_id: oid.map(str::to_string),
        };
        assert!(!h.remove(&removal("s1", other("mallory", None))).unwrap());
        assert!(
            !h.remove(&removal("s2", other("carol", Some("o-evil"))))
                .unwrap()
        );
        assert!(
            h.remove(&removal("s2", other("caroline", Some("o-carol"))))
                .unwrap()
        );
        assert!(h.remove(&removal("s1", SenderCheck::Any)).unwrap());
        assert!(!h.remove(&removal("s9", SenderCheck::Any)).unwrap());
        let r = h.recent(ROOM, 10).unwrap();
        for m in &r {
            assert!(m.body.is_empty());
            assert!(m.meta.reply.is_none());
            let rm = m.meta.removed.as_deref().unwrap();
            assert_eq!(rm.reason.as_deref(), Some("spam"));
        }
        // No trace of the text in the file.
        let n: i64 = h
            .conn
            .query_row(
                "SELECT COUNT(*) FROM messages WHERE body LIKE '%buy%'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn reactions_are_kept_with_their_line_until_it_is_removed() {
        let mut h = History::in_memory("alice@localhost").unwrap();
        h.append(&[rec("s1", "bob", "cake?", None)]).unwrap();
        let react = |sender: &str, emojis: &[&str]| ReactionWrite {
            conversation: BareJid::new(ROOM).unwrap(),
            target: "s1".into(),
            room: true,
            who: Reacted {
                sender: format!("name:{sender}"),
                nick: sender.into(),
                emojis: emojis.iter().map(|e| e.to_string()).collect(),
                own: sender == "alice",
            },
        };
        assert!(h.react(&react("carol", &["🎂"])).unwrap());
        assert!(h.react(&react("alice", &["👍", "🎂"])).unwrap());
        assert!(
            !h.react(&react("alice", &["👍", "🎂"])).unwrap(),
            "unchanged"
        );
        assert!(h.react(&react("carol", &[])).unwrap(), "withdrawn");
        let r = &h.recent(ROOM, 1).unwrap()[0].meta.reactions;
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].nick.as_str(), r[0].own), ("alice", true));
        assert_eq!(r[0].emojis, ["👍", "🎂"]);
        // By the id too (a room without stanza-ids); not another line's.
        let mut by_id = react("dave", &["🐢"]);
        by_id.target = "id-s1".into();
        assert!(h.react(&by_id).unwrap());
        by_id.target = "s9".into();
        assert!(!h.react(&by_id).unwrap());
        // Removed: the reactions go with the text, and none come back.
        assert!(h.remove(&removal("s1", SenderCheck::Any)).unwrap());
        assert!(h.recent(ROOM, 1).unwrap()[0].meta.reactions.is_empty());
        assert!(!h.react(&react("carol", &["🎂"])).unwrap());
        // Garbage in the column reads as none.
        h.conn
            .execute("UPDATE messages SET reactions = 'not json'", [])
            .unwrap();
        assert!(h.recent(ROOM, 1).unwrap()[0].meta.reactions.is_empty());
    }

    #[test]
    fn an_encrypted_line_keeps_its_lock() {
        use crate::store::Lock;
        let mut h = History::in_memory("alice@localhost").unwrap();
        let mut sealed = rec("s1", "bob", "sealed", None);
        sealed.message.meta.lock = Some(Lock {
            trusted: false,
            decrypted: true,
        });
        h.append(&[sealed, rec("s2", "bob", "plain", None)])
            .unwrap();
        let r = h.recent(ROOM, 2).unwrap();
        assert_eq!(
            r[0].meta.lock,
            Some(Lock {
                trusted: false,
                decrypted: true
            })
        );
        assert_eq!(r[1].meta.lock, None);
    }

    #[test]
    fn an_old_archive_gets_the_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        super::super::old_archive(&path);
        let mut h = History::open(&path, "alice@localhost").unwrap();
        assert!(h.recent(ROOM, 1).unwrap()[0].meta.removed.is_none());
        assert!(h.remove(&removal("m1", SenderCheck::Any)).unwrap());
        drop(h);
        let h = History::open(&path, "alice@localhost").unwrap();
        assert!(h.recent(ROOM, 1).unwrap()[0].meta.removed.is_some());
    }
}
