//! Answers checked against where the request went
//! ([`confab_proto::origin`]): IQ results and errors (also the ones we
//! cannot parse), self-ping answers and message errors. One with the id
//! of a request of ours from anyone else is forged: it is dropped with a
//! [`SessionEvent::Forged`] (an `error` event `forged-answer` naming the
//! sender) and the request keeps waiting for the real answer.

use std::collections::{HashMap, VecDeque};

use jid::Jid;
use xmpp_parsers::message::{Message, MessageType};

use super::Task;
use crate::SessionEvent;
use confab_proto::origin;
use confab_proto::{Incoming, classify_message};

/// How many sent messages are remembered for their errors (the oldest
/// are forgotten first; an error for a forgotten one is shown, but for
/// no message of ours).
const REMEMBERED: usize = 2048;

/// Where our recent messages went, by id.
#[derive(Default)]
pub(super) struct SentMessages {
    order: VecDeque<String>,
    /// id → (recipient, whether it is a room).
    to: HashMap<String, (Jid, bool)>,
}

impl SentMessages {
    fn note(&mut self, id: String, to: Jid, to_room: bool) {
        if self.to.insert(id.clone(), (to, to_room)).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.to.remove(&old);
            }
        }
    }

    /// Judges an error with `id` from `from`; a trusted one answers its
    /// message, which is forgotten.
    fn judge(&mut self, id: &str, from: Option<&Jid>) -> Bounce {
        match self.to.get(id) {
            None => Bounce::Unknown,
            Some((to, to_room)) if origin::bounces_message(to, *to_room, from) => {
                self.to.remove(id);
                Bounce::Trusted
            }
            Some((to, _)) => Bounce::Forged(to.clone()),
        }
    }
}

/// What a message error is to us.
#[derive(Debug, PartialEq)]
enum Bounce {
    /// Not one of the messages we remember.
    Unknown,
    /// From where our message went.
    Trusted,
    /// From anyone else (our message went to this JID).
    Forged(Jid),
}

/// Whether an answer may end its request.
pub(super) enum Origin {
    /// No request of ours has this id.
    NotOurs,
    /// From the entity the request went to.
    Trusted,
    /// From anyone else: reported, dropped.
    Forged,
}

fn describe(to: Option<&Jid>) -> String {
    match to {
        Some(t) => t.to_string(),
        None => "our server".into(),
    }
}

impl Task {
    /// Reports a forged answer (`what` names what it pretended to answer).
    fn forged(&self, from: Option<&Jid>, what: &str, to: Option<&Jid>) {
        let sender = from.map(|f| f.to_string());
        self.emit(SessionEvent::Forged {
            text: format!(
                "ignored {what} from {}: only {} can answer it",
                sender.as_deref().unwrap_or("our server"),
                describe(to)
            ),
            from: sender,
        });
    }

    /// Remembers where a message goes, to judge errors that come back
    /// with its id.
    pub(super) fn note_message(&mut self, m: &Message) {
        let (Some(id), Some(to)) = (&m.id, &m.to) else {
            return;
        };
        let to_room = m.type_ == MessageType::Groupchat
            || (to.resource().is_none() && self.rooms.contains_key(&to.to_bare()));
        self.sent.note(id.0.clone(), to.clone(), to_room);
    }

    /// A message error, judged: what to pass on (`None`: it was forged
    /// and has been reported). An error for a message we do not know is
    /// passed on without its id, so it is nobody's answer.
    pub(super) fn message_error(&mut self, m: &Message) -> Option<Incoming> {
        let mut inc = classify_message(m);
        let Incoming::MessageError { from, id, .. } = &mut inc else {
            return Some(inc);
        };
        let Some(mid) = id.clone() else {
            return Some(inc);
        };
        match self.sent.judge(&mid, from.as_ref()) {
            Bounce::Unknown => *id = None,
            Bounce::Trusted => {}
            Bounce::Forged(to) => {
                self.forged(from.as_ref(), "an error for our message", Some(&to));
                return None;
            }
        }
        Some(inc)
    }

    /// A XEP-0280 carbon not forwarded by our own account (§11: the
    /// classic carbon spoofing): reported and true, to drop it.
    pub(super) fn forged_carbon(&self, inc: &Incoming) -> bool {
        let Incoming::Carbon(c) = inc else {
            return false;
        };
        let account = self.own.as_ref().map(|o| o.to_bare());
        if account
            .as_ref()
            .is_some_and(|a| confab_proto::carbons::from_account(c.from.as_ref(), a))
        {
            return false;
        }
        let sender = c.from.as_ref().map(|f| f.to_string());
        self.emit(SessionEvent::Forged {
            text: format!(
                "ignored a forged carbon copy from {}: only our own account {} forwards them",
                sender.as_deref().unwrap_or("our server"),
                account.map_or_else(|| "(not bound)".to_string(), |a| a.to_string())
            ),
            from: sender,
        });
        true
    }

    /// Judges an IQ answer (`from` as sent) by the request with its id.
    pub(super) fn iq_origin(&self, id: &str, from: Option<&Jid>) -> Origin {
        if let Some((room, nick, _)) = self.self_pings.get(id) {
            // XEP-0410: the answer comes from the occupant JID we pinged
            // (Prosody's errors too: `from` is the `to` of the ping, the
            // room names itself only in the error's `by`).
            let to = confab_proto::muc::occupant_jid(room, nick)
                .ok()
                .map(Jid::from);
            if to.is_some() && from == to.as_ref() {
                return Origin::Trusted;
            }
            self.forged(from, "an answer to a self-ping", to.as_ref());
            return Origin::Forged;
        }
        let Some(p) = self.iqs.get(id) else {
            return Origin::NotOurs;
        };
        if origin::answers_iq(p.to.as_ref(), from, self.own.as_ref()) {
            Origin::Trusted
        } else {
            self.forged(from, "an answer to our request", p.to.as_ref());
            Origin::Forged
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Jid {
        Jid::new(s).unwrap()
    }

    #[test]
    fn message_errors_are_judged_by_where_the_message_went() {
        let mut sent = SentMessages::default();
        let room = j("r@conference.localhost");
        sent.note("m1".into(), room.clone(), true);
        sent.note("m2".into(), j("bob@localhost"), false);
        // Someone else, an occupant of the room: forged, and the message
        // still waits for its real error.
        for forger in ["mallory@localhost/peer", "r@conference.localhost/mallory"] {
            assert_eq!(
                sent.judge("m1", Some(&j(forger))),
                Bounce::Forged(room.clone())
            );
        }
        assert_eq!(sent.judge("m1", None), Bounce::Forged(room.clone()));
        assert_eq!(sent.judge("m1", Some(&room)), Bounce::Trusted);
        // Answered: a second error is nobody's.
        assert_eq!(sent.judge("m1", Some(&room)), Bounce::Unknown);
        assert_eq!(
            sent.judge("m2", Some(&j("bob@localhost/phone"))),
            Bounce::Trusted
        );
        assert_eq!(sent.judge("guessed", Some(&room)), Bounce::Unknown);
    }

    #[test]
    fn only_the_latest_messages_are_remembered() {
        let mut sent = SentMessages::default();
        let room = j("r@conference.localhost");
        for i in 0..REMEMBERED + 10 {
            sent.note(format!("m{i}"), room.clone(), true);
        }
        assert_eq!(sent.to.len(), REMEMBERED);
        assert_eq!(sent.order.len(), REMEMBERED);
        assert_eq!(sent.judge("m9", Some(&room)), Bounce::Unknown);
        assert_eq!(sent.judge("m10", Some(&room)), Bounce::Trusted);
    }
}
