//! The buffer tools' app side: `/find` over the archive, `/export` of a
//! room's or contact's history to a file, `/ignore` (kept beside the
//! archive, applied by the store). `/clear` is the TUI's own.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use jid::BareJid;

use super::{App, Exec, refuse};
use crate::history::MAX_FOUND;
use crate::store::{Event, FoundLine, IgnoreEntry, Message};
use crate::ui::{sanitize, sanitize_name};

impl App {
    /// The entries kept beside the archive, into the store (at start).
    pub(super) fn load_ignores(&mut self) {
        if let Some(h) = &self.history
            && let Ok(entries) = h.ignored()
        {
            for e in entries {
                self.store.ignores.add(e);
            }
        }
    }

    fn ignored_event(&self) -> Event {
        Event::Ignored {
            entries: self
                .store
                .ignores
                .entries()
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    fn save_ignores(&mut self, command: &str) -> Result<(), Box<Event>> {
        let entries = self.store.ignores.entries().to_vec();
        if let Some(h) = self.history.as_mut() {
            h.set_ignored(&entries)
                .map_err(|e| refuse(command, "internal-server-error", e.to_string()))?;
        }
        Ok(())
    }

    fn ok(&self, command: &str, mut events: Vec<Event>) -> Exec {
        events.push(Event::Ok {
            command: command.to_string(),
        });
        Exec::done(events)
    }

    pub(super) fn start_ignore(
        &mut self,
        text: &str,
        jid: BareJid,
        nick: Option<String>,
    ) -> Result<Exec, Box<Event>> {
        let entry = match &nick {
            Some(nick) => match self.store.room(&jid) {
                Some(room) if *nick == room.own_nick => {
                    return Err(refuse(text, "bad-request", "you cannot ignore yourself"));
                }
                Some(room) => IgnoreEntry::occupant(room, nick),
                None => IgnoreEntry::Nick {
                    room: jid,
                    nick: nick.clone(),
                },
            },
            None => {
                if self.store.room(&jid).is_some() {
                    return Err(refuse(
                        text,
                        "bad-request",
                        format!("{jid} is a room: /ignore {jid} NICK ignores one of its occupants"),
                    ));
                }
                IgnoreEntry::Jid(jid)
            }
        };
        if !self.store.ignores.add(entry) {
            return Err(refuse(
                text,
                "resource-constraint",
                "too many people ignored: /unignore some first",
            ));
        }
        self.save_ignores(text)?;
        Ok(self.ok(text, vec![self.ignored_event()]))
    }

    pub(super) fn start_unignore(
        &mut self,
        text: &str,
        jid: BareJid,
        nick: Option<String>,
    ) -> Result<Exec, Box<Event>> {
        // By the nick it had, or by the occupant-id the occupant has now.
        let now_id = nick.as_deref().and_then(|n| {
            self.store
                .room(&jid)?
                .occupants
                .get(n)?
                .info
                .occupant_id
                .clone()
        });
        let removed = self.store.ignores.remove(|e| match (&nick, e) {
            (Some(n), IgnoreEntry::OccupantId { room, id, .. }) => {
                (*room == jid && now_id.as_ref() == Some(id)) || e.names(&jid, n)
            }
            (Some(n), e) => e.names(&jid, n),
            (None, IgnoreEntry::Jid(j)) => *j == jid,
            (None, _) => false,
        });
        if removed.is_empty() {
            return Err(refuse(text, "item-not-found", "not ignored"));
        }
        self.save_ignores(text)?;
        Ok(self.ok(text, vec![self.ignored_event()]))
    }

    pub(super) fn start_ignored(&mut self, text: &str) -> Exec {
        self.ok(text, vec![self.ignored_event()])
    }

    pub(super) fn start_find(
        &mut self,
        text: &str,
        words: String,
        within: Option<BareJid>,
    ) -> Result<Exec, Box<Event>> {
        // What came in just now is searched too.
        let mut events = self.flush_history();
        let h = self.history.as_ref().ok_or_else(|| {
            refuse(
                text,
                "not-acceptable",
                "no local history (--no-history): nothing to search",
            )
        })?;
        let found = h
            .find(&words, within.as_ref().map(|j| j.as_str()), MAX_FOUND)
            .map_err(|e| refuse(text, "internal-server-error", e.to_string()))?;
        let results = found
            .into_iter()
            .map(|f| FoundLine {
                conversation: f.conversation,
                time: f.message.time.to_rfc3339(),
                nick: f.message.nick,
                body: f.message.body,
                stanza_id: f.message.stanza_id,
                own: f.message.own,
            })
            .collect();
        events.push(Event::Found {
            words,
            within,
            results,
        });
        Ok(self.ok(text, events))
    }

    pub(super) fn start_export(
        &mut self,
        text: &str,
        of: BareJid,
        file: Option<String>,
        json: bool,
    ) -> Result<Exec, Box<Event>> {
        let mut events = self.flush_history();
        let fail = |e: &dyn std::fmt::Display| refuse(text, "internal-server-error", e.to_string());
        let Some(h) = self.history.as_ref() else {
            return Err(refuse(
                text,
                "not-acceptable",
                "no local history (--no-history): nothing to export",
            ));
        };
        let path = match file {
            Some(f) => PathBuf::from(f),
            None => self
                .opts
                .export_dir
                .join(format!("{of}.{}", if json { "jsonl" } else { "txt" })),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(&format!("{}: {e}", dir.display())))?;
        }
        // A private history: readable by its owner only.
        let out = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| fail(&format!("{}: {e}", path.display())))?
        };
        let mut out = BufWriter::new(out);
        let messages = h
            .each_message(of.as_str(), |m| export_line(&mut out, m, json))
            .map_err(|e| fail(&e))?;
        out.flush().map_err(|e| fail(&e))?;
        events.push(Event::Exported {
            of,
            path: path.display().to_string(),
            messages,
        });
        Ok(self.ok(text, events))
    }
}

/// One message as a line of text (`2026-12-06 09:00:00 <nick> body`,
/// every terminal control character escaped, continuation lines
/// indented) or a JSON object.
fn export_line(out: &mut impl Write, m: &Message, json: bool) -> std::io::Result<()> {
    if json {
        let mut v = serde_json::json!({
            "time": m.time.to_rfc3339(),
            "nick": m.nick,
            "body": m.body,
            "own": m.own,
            "id": m.id,
            "stanza_id": m.stanza_id,
            "edited": m.edited,
        });
        if let Some(r) = &m.meta.reply {
            v["reply_to"] = serde_json::json!({"id": r.id, "to": r.to});
        }
        if !m.meta.reactions.is_empty() {
            v["reactions"] = m
                .meta
                .reactions
                .iter()
                .map(|r| serde_json::json!({"nick": r.nick, "emojis": r.emojis, "own": r.own}))
                .collect();
        }
        if let Some(r) = &m.meta.removed {
            v["removed"] = serde_json::json!({"by": r.by, "reason": r.reason});
        }
        return writeln!(out, "{v}");
    }
    let time = m.time.format("%Y-%m-%d %H:%M:%S");
    let nick = m.nick.as_deref().map(sanitize_name).unwrap_or_default();
    let body = sanitize(&m.body, true);
    let mut lines = body.split('\n');
    writeln!(out, "{time} <{nick}> {}", lines.next().unwrap_or(""))?;
    for more in lines {
        writeln!(out, "    {more}")?;
    }
    Ok(())
}
