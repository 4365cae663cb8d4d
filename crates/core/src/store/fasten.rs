//! Stanzas about an earlier message: XEP-0444 reactions, XEP-0424
//! retractions, XEP-0425 moderations and archives' tombstones. Each finds
//! its line by the reference its XEP uses (`room/fasten.rs`); one for a
//! line we do not hold is dropped without a word (a tombstone from an
//! archive we asked becomes a line of its own).

use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};

use super::room::fasten::Fastened;
use super::{Event, Kind, Message, MessageLog, Reacted, ReactionCount, Removed, Store};
use confab_proto::reactions::Reactions;
use confab_proto::retract::Retraction;

/// A removal for the archive to make (`History::remove`), whether or not
/// the line is still in memory: the archive checks the sender as the
/// store does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub conversation: BareJid,
    pub target: String,
    /// A room's reference (stanza-id, else id) rather than a chat's id.
    pub room: bool,
    pub sender: SenderCheck,
    pub removed: Removed,
}

/// A sender's reactions for the archive to keep (`History::react`),
/// whether or not the line is still in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionWrite {
    pub conversation: BareJid,
    /// The reference: a room's stanza-id (else id), a chat's id.
    pub target: String,
    pub room: bool,
    pub who: Reacted,
}

/// Whose line a removal may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderCheck {
    /// Anyone's: the room moderated it, or its archive said so.
    Any,
    /// In a room: this occupant-id where the line has one, else this nick.
    Occupant {
        nick: String,
        occupant_id: Option<String>,
    },
    /// In a chat: ours, or the contact's.
    Chat { own: bool },
}

/// Where a fastening stanza lands: the log, whether it is a room's, the
/// sender's nick (a room) or JID (a chat) and whether the sender is us.
struct Target<'s> {
    log: &'s mut MessageLog,
    journal: &'s mut Vec<(BareJid, Message)>,
    removals: &'s mut Vec<Removal>,
    reaction_writes: &'s mut Vec<ReactionWrite>,
    conv: BareJid,
    room: bool,
    /// The sender's name: nick in a room, bare JID in a chat.
    sender: String,
    own: bool,
    /// The peer of a conversation (for the events' `from`).
    peer: Option<Jid>,
}

impl Store {
    /// The log a stanza from `from` (to `to`) is about, if we hold it.
    fn target(&mut self, from: &Jid, to: Option<&Jid>, groupchat: bool) -> Option<Target<'_>> {
        if groupchat {
            let room = from.to_bare();
            let r = self.rooms.get_mut(&room)?;
            let sender = from.resource().map(|n| n.to_string()).unwrap_or_default();
            return Some(Target {
                own: sender == r.own_nick,
                log: &mut r.messages,
                journal: &mut self.journal,
                removals: &mut self.removals,
                reaction_writes: &mut self.reaction_writes,
                conv: room,
                room: true,
                sender,
                peer: None,
            });
        }
        let account = self.jid.as_ref()?.to_bare();
        let own = from.to_bare() == account;
        let peer = if own { to?.clone() } else { from.clone() };
        let conv = peer.to_bare();
        // Private messages in rooms: not addressed here.
        if self.rooms.contains_key(&conv) {
            return None;
        }
        let c = self.conversations.get_mut(&conv)?;
        Some(Target {
            log: &mut c.messages,
            journal: &mut self.journal,
            removals: &mut self.removals,
            reaction_writes: &mut self.reaction_writes,
            sender: if own {
                account.to_string()
            } else {
                conv.to_string()
            },
            conv,
            room: false,
            own,
            peer: Some(peer),
        })
    }

    pub(super) fn apply_reactions(&mut self, r: Reactions, out: &mut Vec<Event>) {
        let Some(t) = self.target(&r.from, r.to.as_ref(), r.groupchat) else {
            return;
        };
        if t.room && t.sender.is_empty() {
            return;
        }
        // Tell senders apart as XEP-0444 says: occupant-id where the room
        // gives one, else the nick; in a chat the bare JID.
        let key = match (&r.occupant_id, t.room) {
            (Some(oid), true) => format!("oid:{oid}"),
            _ => format!("name:{}", t.sender),
        };
        let who = Reacted {
            sender: key,
            nick: t.sender.clone(),
            emojis: r.emojis.clone(),
            own: t.own,
        };
        // The archive keeps them too, for lines it holds beyond memory.
        t.reaction_writes.push(ReactionWrite {
            conversation: t.conv.clone(),
            target: r.target.clone(),
            room: t.room,
            who: who.clone(),
        });
        let Some(at) = t.log.find_ref(&r.target, t.room) else {
            return;
        };
        let Fastened::Done(m) = t.log.react(at, who) else {
            return;
        };
        out.push(Event::Reactions {
            room: t.room.then(|| t.conv.clone()),
            nick: t.room.then(|| t.sender.clone()),
            from: t.peer.as_ref().map(|p| p.to_string()),
            target: r.target,
            emojis: r.emojis,
            reactions: counts(&m),
            own: t.own,
            delayed: r.delayed,
            id: r.id,
        });
    }

    pub(super) fn apply_retraction(
        &mut self,
        r: Retraction,
        now: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) {
        // A tombstone counts only from an archive we asked: the app puts
        // the archive's id of the message in `target`.
        let Some(target) = r.target.clone() else {
            return;
        };
        let own_nick = r
            .groupchat
            .then(|| {
                self.rooms
                    .get(&r.from.to_bare())
                    .map(|x| x.own_nick.clone())
            })
            .flatten();
        let Some(t) = self.target(&r.from, r.to.as_ref(), r.groupchat) else {
            return;
        };
        let removed = Removed {
            by: r
                .moderation
                .as_ref()
                .map(|m| m.by_nick().unwrap_or_else(|| "a moderator".into())),
            reason: r.moderation.as_ref().and_then(|m| m.reason.clone()),
        };
        let sender = if r.moderation.is_some() || r.tombstone {
            SenderCheck::Any
        } else if t.room {
            SenderCheck::Occupant {
                nick: t.sender.clone(),
                occupant_id: r.occupant_id.clone(),
            }
        } else {
            SenderCheck::Chat { own: t.own }
        };
        t.removals.push(Removal {
            conversation: t.conv.clone(),
            target: target.clone(),
            room: t.room,
            sender,
            removed: removed.clone(),
        });
        let Some(at) = t.log.find_ref(&target, t.room) else {
            if r.tombstone && t.room {
                // The archive gives the tombstone instead of a message we
                // never saw: a line saying so, archived as such.
                let mut m = Message {
                    stanza_id: Some(target.clone()),
                    delayed: true,
                    ..Message::new(
                        Kind::Chat,
                        r.time.unwrap_or(now),
                        Some(t.sender.clone()),
                        String::new(),
                    )
                };
                m.meta.removed = Some(Box::new(removed.clone()));
                if !t.log.contains(&m) {
                    t.journal.push((t.conv.clone(), m.clone()));
                    t.log.push(m);
                    out.push(retracted(&t, target, &r, removed, own_nick.as_deref()));
                }
            }
            return;
        };
        let line = t.log.get(at).expect("found");
        // Who may remove it: the room (a moderation, an archive's
        // tombstone), else only its sender — by occupant-id where both
        // carry one, else by nick; in a chat the side that wrote it.
        let allowed = r.moderation.is_some()
            || r.tombstone
            || if t.room {
                match (&line.meta.occupant_id, &r.occupant_id) {
                    (Some(a), Some(b)) => a == b,
                    _ => line.nick.as_deref() == Some(t.sender.as_str()),
                }
            } else {
                line.own == t.own
            };
        if !allowed {
            t.removals.pop();
            return;
        }
        let nick = line.nick.clone();
        // The archive: the removal pushed above runs after the journal is
        // written, so a line not yet archived loses its text there too.
        let Fastened::Done(_) = t.log.remove(at, removed.clone()) else {
            return;
        };
        let mut e = retracted(&t, target, &r, removed, own_nick.as_deref());
        if let Event::Retracted { nick: n, .. } = &mut e
            && t.room
        {
            *n = nick;
        }
        out.push(e);
    }
}

fn retracted(
    t: &Target<'_>,
    target: String,
    r: &Retraction,
    removed: Removed,
    own_nick: Option<&str>,
) -> Event {
    let moderated = r.moderation.is_some();
    let own = if moderated {
        own_nick.is_some() && removed.by.as_deref() == own_nick
    } else {
        t.own
    };
    Event::Retracted {
        room: t.room.then(|| t.conv.clone()),
        nick: t.room.then(|| t.sender.clone()),
        from: t.peer.as_ref().map(|p| p.to_string()),
        target,
        moderated,
        by: removed.by,
        reason: removed.reason,
        own,
        tombstone: r.tombstone,
        id: r.id.clone(),
    }
}

/// A line's reactions grouped, for the events.
fn counts(m: &Message) -> Vec<ReactionCount> {
    m.meta
        .grouped()
        .into_iter()
        .map(|(e, who)| ReactionCount {
            emoji: e.to_string(),
            count: who.len(),
            by: who.iter().map(|w| w.nick.clone()).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
