//! `/react`, `/reply`, `/retract`, `/moderate`: a stanza about one message
//! of a room or conversation, named by the reference its XEP uses (a
//! room's stanza-id, a chat's message id) or as `@NICK` (`MessageRef`).
//! In a room the room's echo finishes the command; in a chat the stanza
//! written does, and our own change enters the store at once.

use chrono::Utc;
use jid::{BareJid, Jid};

use super::{App, Exec, IqStep, IqThen, Waiting, err_event, refuse};
use crate::command::MessageRef;
use crate::protocol::reactions::{
    self, MAX_PER_SENDER, MAX_REACTION_BYTES, Reactions, Restrictions,
};
use crate::protocol::reply::{self, Reply};
use crate::protocol::retract::{self, ModerateVersion, Retraction};
use crate::protocol::{Incoming, mam, message::chat, muc};
use crate::session::SessionCmd;
use crate::store::{Event, Input, JoinState, Kind, Message};

/// A message a command acts on.
struct Found {
    /// A room's (else a conversation's).
    room: bool,
    conv: BareJid,
    /// The reference to send: its stanza-id in a room, its id in a chat.
    target: String,
    line: Message,
}

impl App {
    /// The message `r` names in the room or conversation `to`.
    fn find_message(&self, command: &str, to: &Jid, r: &MessageRef) -> Result<Found, Box<Event>> {
        let conv = to.to_bare();
        let (room, log) = match self.store.room(&conv) {
            Some(rm) if rm.state != JoinState::Left => {
                self.in_room(&conv, command)?;
                (true, &rm.messages)
            }
            _ => match self.store.conversations.get(&conv) {
                Some(c) => (false, &c.messages),
                None => {
                    return Err(refuse(
                        command,
                        "item-not-found",
                        format!("no room or conversation with {conv} is open"),
                    ));
                }
            },
        };
        let usable =
            |m: &&Message| m.kind == Kind::Chat && !(room && m.private) && m.meta.removed.is_none();
        let line = match r {
            MessageRef::Id(id) => log.find_ref(id, room).and_then(|i| log.get(i)),
            MessageRef::LastOf(Some(me)) if me == "me" => {
                log.iter().rev().filter(usable).find(|m| m.own)
            }
            MessageRef::LastOf(Some(nick)) if room => log
                .iter()
                .rev()
                .filter(usable)
                .find(|m| m.nick.as_deref() == Some(nick.as_str())),
            MessageRef::LastOf(_) => log.iter().rev().filter(usable).find(|m| !m.own),
        };
        let Some(line) = line.filter(|m| usable(m)) else {
            let what = match r {
                MessageRef::Id(id) => format!("no message {id} in {conv}"),
                MessageRef::LastOf(Some(n)) => format!("no message of {n} in {conv}"),
                MessageRef::LastOf(None) => format!("no message from {conv}"),
            };
            return Err(refuse(command, "item-not-found", what));
        };
        let target = if room {
            line.stanza_id.clone()
        } else {
            line.id.clone()
        };
        let Some(target) = target else {
            return Err(refuse(
                command,
                "item-not-found",
                format!(
                    "this message has no {} to name it by",
                    if room {
                        "stanza-id from the room"
                    } else {
                        "id"
                    }
                ),
            ));
        };
        Ok(Found {
            room,
            conv,
            target,
            line: line.clone(),
        })
    }

    /// `/react`: each emoji toggled in our set of reactions to the message
    /// (none: all withdrawn); the whole set is sent (XEP-0444), within
    /// what a room's disco#info allows.
    pub(super) fn start_react(
        &mut self,
        text: &str,
        to: &Jid,
        r: &MessageRef,
        emojis: Vec<String>,
    ) -> Result<Exec, Box<Event>> {
        let f = self.find_message(text, to, r)?;
        let mut set: Vec<String> = f
            .line
            .meta
            .reactions
            .iter()
            .find(|x| x.own)
            .map(|x| x.emojis.clone())
            .unwrap_or_default();
        if emojis.is_empty() {
            if set.is_empty() {
                return Err(refuse(
                    text,
                    "item-not-found",
                    "you have no reactions to it",
                ));
            }
            set.clear();
        }
        for e in emojis {
            if e.len() > MAX_REACTION_BYTES {
                return Err(refuse(text, "not-acceptable", format!("{e} is too long")));
            }
            match set.iter().position(|x| *x == e) {
                Some(i) => {
                    set.remove(i);
                }
                None => set.push(e),
            }
        }
        if set.len() > MAX_PER_SENDER {
            return Err(refuse(
                text,
                "not-acceptable",
                format!("at most {MAX_PER_SENDER} reactions per message"),
            ));
        }
        if !f.room {
            let id = self.message_id();
            let m = reactions::reactions(to.clone(), false, &f.target, &set, &id);
            let own = self.store.jid.clone().map(Jid::from).map(|from| {
                Incoming::Reactions(Reactions {
                    from,
                    to: Some(to.clone()),
                    groupchat: false,
                    target: f.target.clone(),
                    emojis: set,
                    occupant_id: None,
                    id: Some(id),
                    time: None,
                    delayed: false,
                })
            });
            return Ok(self.send_to_contact(text, m, own));
        }
        // A room may restrict reactions (XEP-0444 §2.1): its disco#info.
        let (room, target) = (f.conv, f.target);
        let then = IqThen::new(move |_, command, result| {
            let info = result.ok().flatten();
            if let Some(why) = Restrictions::from_disco(info.as_ref()).refuses(&set) {
                return IqStep::Done(vec![err_event(command, "not-acceptable", why)]);
            }
            let (room, target, set) = (room.clone(), target.clone(), set.clone());
            IqStep::WithTag(Box::new(move |app: &mut App, tag, command| {
                let id = app.message_id();
                let m = reactions::reactions(room.clone().into(), true, &target, &set, &id);
                app.send_echoed_as(tag, &command, room, m, id);
                Vec::new()
            }))
        });
        let to = Some(Jid::from(to.to_bare()));
        Ok(self.start_iq(text, to, mam::disco_info(), false, then))
    }

    /// `/reply`: TEXT answering the message (XEP-0461), with a quote of
    /// its first line marked as the fallback (XEP-0428).
    pub(super) fn start_reply(
        &mut self,
        text: &str,
        to: &Jid,
        r: &MessageRef,
        body: String,
    ) -> Result<Exec, Box<Event>> {
        let f = self.find_message(text, to, r)?;
        let id = self.message_id();
        let author = match (&f.line.nick, f.room) {
            (Some(n), _) => n.clone(),
            (None, true) => f.conv.to_string(),
            (None, false) => self.opts.account.to_string(),
        };
        // Who wrote it, as a JID: the occupant in a room, else the contact
        // (or our own account).
        let author_jid = if f.room {
            muc::occupant_jid(&f.conv, &author).ok().map(Jid::from)
        } else if f.line.own {
            Some(Jid::from(self.opts.account.clone()))
        } else {
            Jid::new(&author).ok()
        };
        let first = f.line.body.lines().next().unwrap_or("").to_string();
        if self.omemo_enabled(&f.conv) {
            return Err(super::refuse(
                text,
                "not-acceptable",
                format!(
                    "OMEMO is on for {}: replies cannot be encrypted yet, not sent (use /msg or /say)",
                    f.conv
                ),
            ));
        }
        if f.room {
            let mut m = muc::groupchat(&f.conv, &body, &id);
            reply::add(&mut m, author_jid.as_ref(), &f.target, &author, &first);
            return Ok(self.send_echoed(text, f.conv, m, id));
        }
        let mut m = chat(to.clone(), &body, &id, false);
        reply::add(&mut m, author_jid.as_ref(), &f.target, &author, &first);
        let tag = self.wait(
            text,
            Waiting::SentChat {
                to: to.clone(),
                body,
                id,
                private: false,
                reply: Some(Reply {
                    id: f.target,
                    to: author_jid.map(|j| j.to_string()),
                    quote: Some(first),
                }),
                e2e: None,
            },
            false,
        );
        self.session.send(SessionCmd::Message {
            message: Box::new(m),
            room: None,
            tag,
        });
        Ok(Exec::pending(tag))
    }

    /// `/retract`: take back one of our messages (XEP-0424).
    pub(super) fn start_retract(
        &mut self,
        text: &str,
        to: &Jid,
        r: &MessageRef,
    ) -> Result<Exec, Box<Event>> {
        let f = self.find_message(text, to, r)?;
        if !f.line.own {
            return Err(refuse(
                text,
                "forbidden",
                "only your own messages can be retracted (moderators: /moderate)",
            ));
        }
        let id = self.message_id();
        if f.room {
            let m = retract::retraction(f.conv.clone().into(), true, &f.target, &id);
            return Ok(self.send_echoed(text, f.conv, m, id));
        }
        let m = retract::retraction(to.clone(), false, &f.target, &id);
        let own = self.store.jid.clone().map(Jid::from).map(|from| {
            Incoming::Retraction(Retraction {
                from,
                to: Some(to.clone()),
                groupchat: false,
                target: Some(f.target.clone()),
                moderation: None,
                tombstone: false,
                occupant_id: None,
                id: Some(id),
                time: None,
                delayed: false,
            })
        });
        Ok(self.send_to_contact(text, m, own))
    }

    /// `/moderate`: ask the room to remove anyone's message (XEP-0425), in
    /// the version its disco#info announces (`:1`, else `:0`).
    pub(super) fn start_remove_message(
        &mut self,
        text: &str,
        room: BareJid,
        r: &MessageRef,
        reason: Option<String>,
    ) -> Result<Exec, Box<Event>> {
        let f = self.find_message(text, &Jid::from(room.clone()), r)?;
        if !f.room {
            return Err(refuse(
                text,
                "not-acceptable",
                format!("{room} is not a room"),
            ));
        }
        let target = f.target;
        let to = room.clone();
        let then = IqThen::new(move |_, command, result| {
            let info = result.ok().flatten();
            match ModerateVersion::from_disco(info.as_ref()) {
                None => IqStep::Done(vec![err_event(
                    command,
                    "feature-not-implemented",
                    format!("{room} offers no message moderation (XEP-0425)"),
                )]),
                Some(v) => IqStep::Next {
                    events: Vec::new(),
                    to: Some(room.clone().into()),
                    payload: retract::moderate(v, &target, reason.as_deref()),
                    set: true,
                    then: IqThen::ok(),
                },
            }
        });
        Ok(self.start_iq(text, Some(to.into()), mam::disco_info(), false, then))
    }

    /// Sends a stanza to a contact: done once written; our own change
    /// (`own`, as if from our account) enters the store now.
    fn send_to_contact(
        &mut self,
        text: &str,
        m: xmpp_parsers::message::Message,
        own: Option<Incoming>,
    ) -> Exec {
        let tag = self.wait(text, Waiting::Sent, false);
        self.session.send(SessionCmd::Message {
            message: Box::new(m),
            room: None,
            tag,
        });
        let events = own
            .map(|inc| self.store.apply(Input::Incoming(inc), Utc::now()))
            .unwrap_or_default();
        Exec {
            events,
            pending: Some(tag),
        }
    }
}
