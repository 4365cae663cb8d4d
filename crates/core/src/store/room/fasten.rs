//! What later stanzas fasten to a line: the message it answers (XEP-0461),
//! reactions (XEP-0444), its removal by its sender or a moderator
//! (XEP-0424/0425). Found by the reference each XEP uses: in a room the
//! room's stanza-id, in a conversation the message's id.

use confab_proto::reply::Reply;

use super::{Kind, Message, MessageLog};

/// Senders whose reactions a line keeps at most: past it a new sender's
/// reactions are dropped (those who reacted already may change theirs).
pub const MAX_REACTORS: usize = 64;

/// The additions to a line; empty for most.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// XEP-0421 occupant-id the room gave the sender.
    pub occupant_id: Option<String>,
    /// The message this one answers.
    pub reply: Option<Box<Reply>>,
    /// Reactions, one entry per sender, in the order they first came.
    pub reactions: Vec<Reacted>,
    /// Removed: the text is gone, this says by whom and why.
    pub removed: Option<Box<Removed>>,
    /// End-to-end encrypted (OMEMO), and how it stands.
    pub lock: Option<Lock>,
}

/// How an end-to-end encrypted line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock {
    /// From (or to) a trusted device.
    pub trusted: bool,
    /// False: what is shown is the sender's fallback, not decrypted.
    pub decrypted: bool,
}

impl Lock {
    pub fn of(e: &confab_proto::omemo_pep::E2e) -> Lock {
        Lock {
            trusted: e.trusted,
            decrypted: e.decrypted,
        }
    }

    /// As the archive keeps it: 1, plus 2 if untrusted, plus 4 if not
    /// decrypted.
    pub fn code(self) -> i64 {
        1 + if self.trusted { 0 } else { 2 } + if self.decrypted { 0 } else { 4 }
    }

    pub fn from_code(code: Option<i64>) -> Option<Lock> {
        let c = code.filter(|c| c & 1 == 1)?;
        Some(Lock {
            trusted: c & 2 == 0,
            decrypted: c & 4 == 0,
        })
    }
}

/// One sender's reactions to a line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reacted {
    /// Who, as the XEP says to tell senders apart: the occupant-id in a
    /// room that gives one, else the nick; the bare JID in a chat.
    pub sender: String,
    /// The name to show (the nick, or the JID).
    pub nick: String,
    pub emojis: Vec<String>,
    /// Ours.
    pub own: bool,
}

/// A sender's reactions to a line now are `who.emojis` (empty: none):
/// they replace what that sender had; a new sender past
/// [`MAX_REACTORS`] is not kept. Returns whether the list changed.
pub fn set_reactions(list: &mut Vec<Reacted>, who: Reacted) -> bool {
    match list.iter().position(|r| r.sender == who.sender) {
        Some(i) if list[i].emojis == who.emojis => return false,
        Some(i) if who.emojis.is_empty() => {
            list.remove(i);
        }
        Some(i) => list[i] = who,
        None if who.emojis.is_empty() || list.len() >= MAX_REACTORS => return false,
        None => list.push(who),
    }
    true
}

/// How a line was removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// The moderator (nick or JID); `None`: its sender retracted it.
    pub by: Option<String>,
    pub reason: Option<String>,
}

impl Meta {
    pub(super) fn weight(&self) -> usize {
        self.occupant_id.as_ref().map_or(0, String::len)
            + self.reply.as_ref().map_or(0, |r| {
                std::mem::size_of::<Reply>()
                    + r.id.len()
                    + r.to.as_ref().map_or(0, String::len)
                    + r.quote.as_ref().map_or(0, String::len)
            })
            + self
                .reactions
                .iter()
                .map(|r| {
                    std::mem::size_of::<Reacted>()
                        + r.sender.len()
                        + r.nick.len()
                        + r.emojis.iter().map(|e| e.len() + 24).sum::<usize>()
                })
                .sum::<usize>()
            + self.removed.as_ref().map_or(0, |r| {
                std::mem::size_of::<Removed>()
                    + r.by.as_ref().map_or(0, String::len)
                    + r.reason.as_ref().map_or(0, String::len)
            })
    }

    /// Reactions grouped: each emoji with who reacted with it, in the
    /// order the emojis first came.
    pub fn grouped(&self) -> Vec<(&str, Vec<&Reacted>)> {
        let mut out: Vec<(&str, Vec<&Reacted>)> = Vec::new();
        for r in &self.reactions {
            for e in &r.emojis {
                match out.iter_mut().find(|(x, _)| x == e) {
                    Some((_, who)) => who.push(r),
                    None => out.push((e, vec![r])),
                }
            }
        }
        out
    }
}

/// What [`MessageLog::react`] and [`MessageLog::remove`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fastened {
    /// The line as it now is.
    Done(Message),
    /// Nothing changed (the same again, or a new sender past the bound).
    Unchanged,
    /// The line is someone else's: not theirs to remove.
    WrongSender,
    NotFound,
}

impl MessageLog {
    /// The newest line a reference names: in a room (`by_stanza_id`) its
    /// stanza-id (else, for clients that use it, its id), in a
    /// conversation its id. Private lines of a room are never named by
    /// the room's references.
    pub fn find_ref(&self, r: &str, by_stanza_id: bool) -> Option<usize> {
        let chat = |m: &Message| m.kind == Kind::Chat && !(by_stanza_id && m.private);
        let pos =
            |f: &dyn Fn(&Message) -> bool| self.messages.iter().rposition(|m| chat(m) && f(m));
        if by_stanza_id {
            pos(&|m| m.stanza_id.as_deref() == Some(r))
                .or_else(|| pos(&|m| m.id.as_deref() == Some(r)))
        } else {
            pos(&|m| m.id.as_deref() == Some(r))
        }
    }

    /// A sender's reactions to a line now are `emojis` (empty: none): they
    /// replace what that sender had.
    pub fn react(&mut self, at: usize, who: Reacted) -> Fastened {
        let Some(m) = self.messages.get_mut(at) else {
            return Fastened::NotFound;
        };
        if m.meta.removed.is_some() {
            return Fastened::Unchanged;
        }
        let before = m.weight();
        if !set_reactions(&mut m.meta.reactions, who) {
            return Fastened::Unchanged;
        }
        let done = m.clone();
        self.bytes = self.bytes - before + done.weight();
        // A row of reactions more or less: views lay the lines out again.
        self.revision += 1;
        self.trim();
        Fastened::Done(done)
    }

    /// Removes a line's text (its sender's retraction, a moderation, an
    /// archive's tombstone): the line stays, saying so.
    pub fn remove(&mut self, at: usize, removed: Removed) -> Fastened {
        let Some(m) = self.messages.get(at) else {
            return Fastened::NotFound;
        };
        if m.meta.removed.is_some() {
            return Fastened::Unchanged;
        }
        let old = m.clone();
        self.forget(&old);
        let m = &mut self.messages[at];
        m.body.clear();
        m.edited = false;
        m.meta.reply = None;
        m.meta.reactions.clear();
        m.meta.removed = Some(Box::new(removed));
        let done = m.clone();
        self.index(&done);
        // A copy of what was removed, come again, stays removed.
        self.index_id(&old);
        self.bytes = self.bytes - old.weight() + done.weight();
        self.revision += 1;
        Fastened::Done(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn line(sid: &str, nick: &str, body: &str) -> Message {
        Message {
            stanza_id: Some(sid.into()),
            id: Some(format!("id-{sid}")),
            ..Message::new(
                Kind::Chat,
                DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
                Some(nick.into()),
                body.into(),
            )
        }
    }

    fn who(sender: &str, emojis: &[&str]) -> Reacted {
        Reacted {
            sender: sender.into(),
            nick: sender.into(),
            emojis: emojis.iter().map(|e| e.to_string()).collect(),
            own: false,
        }
    }

    #[test]
    fn a_new_set_replaces_the_senders_earlier_one() {
        let mut log = MessageLog::default();
        log.push(line("s1", "anna", "cake?"));
        let at = log.find_ref("s1", true).unwrap();
        assert_eq!(log.find_ref("id-s1", true), Some(at));
        assert_eq!(log.find_ref("s1", false), None);
        assert!(matches!(
            log.react(at, who("bob", &["👍", "🎂"])),
            Fastened::Done(_)
        ));
        assert!(matches!(
            log.react(at, who("carol", &["👍"])),
            Fastened::Done(_)
        ));
        assert_eq!(log.react(at, who("carol", &["👍"])), Fastened::Unchanged);
        let Fastened::Done(m) = log.react(at, who("bob", &["🎂"])) else {
            panic!()
        };
        let g = m.meta.grouped();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].0, "🎂");
        assert_eq!(g[1].0, "👍");
        assert_eq!(g[1].1[0].nick, "carol");
        // Empty: withdrawn.
        let Fastened::Done(m) = log.react(at, who("bob", &[])) else {
            panic!()
        };
        assert_eq!(m.meta.reactions.len(), 1);
    }

    #[test]
    fn reactions_are_bounded_and_weigh() {
        let mut log = MessageLog::default();
        log.push(line("s1", "anna", "x"));
        let w = log.bytes();
        for i in 0..MAX_REACTORS + 50 {
            log.react(0, who(&format!("p{i}"), &["👍"]));
        }
        assert_eq!(log.get(0).unwrap().meta.reactions.len(), MAX_REACTORS);
        assert!(log.bytes() > w);
        assert_eq!(log.bytes(), log.get(0).unwrap().weight());
    }

    #[test]
    fn a_removed_line_keeps_its_place_without_its_text() {
        let mut log = MessageLog::default();
        log.push(line("s1", "anna", "spam spam"));
        log.react(0, who("bob", &["👎"]));
        let Fastened::Done(m) = log.remove(
            0,
            Removed {
                by: Some("mod".into()),
                reason: Some("spam".into()),
            },
        ) else {
            panic!()
        };
        assert!(m.body.is_empty() && m.meta.reactions.is_empty());
        assert_eq!(log.remove(0, Removed::default()), Fastened::Unchanged);
        assert_eq!(log.react(0, who("bob", &["👍"])), Fastened::Unchanged);
        assert_eq!(log.bytes(), log.get(0).unwrap().weight());
        // Still recognised when it comes again (MAM): its stanza-id.
        assert!(log.contains(&line("s1", "anna", "spam spam")));
    }
}
