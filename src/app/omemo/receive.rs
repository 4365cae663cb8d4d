//! Receiving: OMEMO messages (0.3 and 2) decrypted before the store sees
//! them — live, carbon copies, results of our account's archive alike. A
//! key exchange builds the session (our prekey replaced, the bundle
//! republished, an empty message back); a replay is dropped silently; what
//! cannot be decrypted is said, and shown only marked as not decrypted.
//! OMEMO 2's envelope is opened by `v2.rs`, its affixes checked against
//! the stanza (a forged `<from/>` or `<to/>` is refused).

use confab_core::omemo_store::{IdentitySeen, Loaded};
use confab_omemo::session::{KeyExchange, Session};
use confab_omemo::{Error as OmemoError, Version, payload};

use super::{now_ms, version_of};
use crate::app::App;
use crate::protocol::carbons::{Carbon, Copied};
use crate::protocol::omemo::Omemo;
use crate::protocol::omemo_pep::{E2e, version_name};
use crate::protocol::{ChatMessage, Incoming};
use crate::session::SessionEvent;
use crate::store::Event;

/// What decrypting one message gave.
/// What a decryption's outcome shows: the text and its `E2e`, or
/// nothing (an empty message, a replay). A failure is said (`who`: the
/// sender as the error names it) and shows the sender's fallback marked;
/// without a fallback, nothing.
pub(super) fn shown(
    outcome: Outcome,
    fallback: &str,
    omemo: Omemo,
    sid: u32,
    trusted: bool,
    who: &str,
    events: &mut Vec<Event>,
) -> Option<(String, E2e)> {
    let (body, decrypted) = match outcome {
        Outcome::Plain(None) | Outcome::Duplicate => return None,
        Outcome::Plain(Some(text)) => (text, true),
        Outcome::Failed(why) => {
            events.push(Event::error(
                "not-acceptable",
                Some(format!(
                    "OMEMO: a message from {who} (device {sid}) could not be decrypted: {why}"
                )),
            ));
            if fallback.is_empty() {
                return None;
            }
            (format!("[not decrypted: {why}] {fallback}"), false)
        }
    };
    let e2e = E2e {
        version: version_name(omemo),
        device: sid,
        trusted,
        decrypted,
    };
    Some((body, e2e))
}

pub(super) enum Outcome {
    /// The plaintext (or `None`: an empty message, nothing to show).
    Plain(Option<String>),
    /// Already decrypted once: dropped without a word.
    Duplicate,
    Failed(String),
}

impl App {
    /// Decrypts the OMEMO of a session event before anything else sees
    /// it. `None`: nothing to hand on (an empty message, a replay).
    pub(in crate::app) fn omemo_intake(
        &mut self,
        ev: SessionEvent,
    ) -> (Option<SessionEvent>, Vec<Event>) {
        let mut events = Vec::new();
        let ev = match ev {
            SessionEvent::Incoming(Incoming::Chat(m)) => self
                .omemo_message(m, &mut events)
                .map(|m| SessionEvent::Incoming(Incoming::Chat(m))),
            SessionEvent::Incoming(Incoming::Carbon(Carbon {
                from,
                direction,
                time,
                message: Copied::Chat(m),
            })) => self.omemo_message(m, &mut events).map(|m| {
                SessionEvent::Incoming(Incoming::Carbon(Carbon {
                    from,
                    direction,
                    time,
                    message: Copied::Chat(m),
                }))
            }),
            SessionEvent::Incoming(Incoming::RoomMessage(m)) => self
                .omemo_room_message(m, false, &mut events)
                .map(|m| SessionEvent::Incoming(Incoming::RoomMessage(m))),
            SessionEvent::Incoming(Incoming::Correction(c)) => self
                .omemo_room_correction(c, false, &mut events)
                .map(|c| SessionEvent::Incoming(Incoming::Correction(c))),
            SessionEvent::Incoming(Incoming::MamResult(mut r)) => match *r.message {
                Incoming::Correction(c) => {
                    r.message = Box::new(match self.omemo_room_correction(c, true, &mut events) {
                        Some(c) => Incoming::Correction(c),
                        None => Incoming::Ignored("OMEMO correction not decrypted"),
                    });
                    Some(SessionEvent::Incoming(Incoming::MamResult(r)))
                }
                Incoming::Chat(m) => match self.omemo_message(m, &mut events) {
                    Some(m) => {
                        r.message = Box::new(Incoming::Chat(m));
                        Some(SessionEvent::Incoming(Incoming::MamResult(r)))
                    }
                    // The result still counts for the catch-up's mark.
                    None => {
                        r.message = Box::new(Incoming::Ignored("empty OMEMO message"));
                        Some(SessionEvent::Incoming(Incoming::MamResult(r)))
                    }
                },
                Incoming::RoomMessage(m) => {
                    r.message = Box::new(match self.omemo_room_message(m, true, &mut events) {
                        Some(m) => Incoming::RoomMessage(m),
                        None => Incoming::Ignored("empty OMEMO message"),
                    });
                    Some(SessionEvent::Incoming(Incoming::MamResult(r)))
                }
                other => {
                    r.message = Box::new(other);
                    Some(SessionEvent::Incoming(Incoming::MamResult(r)))
                }
            },
            SessionEvent::Incoming(Incoming::OmemoDevices(push)) => {
                events.extend(self.omemo_list_pushed(push));
                None
            }
            ev => Some(ev),
        };
        (ev, events)
    }

    fn omemo_message(
        &mut self,
        mut m: ChatMessage,
        events: &mut Vec<Event>,
    ) -> Option<ChatMessage> {
        let Some(enc) = m.encrypted.take() else {
            return Some(m);
        };
        let sender = m.from.to_bare();
        let (outcome, omemo, sid) = match *enc {
            Err(e) => (Outcome::Failed(e.to_string()), Omemo::Legacy, 0),
            Ok(e) => (self.decrypt(&m, &e, events), e.omemo, e.sid),
        };
        let v = version_of(omemo);
        let trusted = self
            .omemo
            .store
            .as_ref()
            .is_some_and(|s| s.trusted(v, sender.as_str(), sid).unwrap_or(false));
        let (body, e2e) = shown(
            outcome,
            &m.body,
            omemo,
            sid,
            trusted,
            &m.from.to_string(),
            events,
        )?;
        m.body = body;
        m.e2e = Some(e2e);
        Some(m)
    }

    pub(super) fn decrypt(
        &mut self,
        m: &ChatMessage,
        e: &crate::protocol::omemo::Encrypted,
        events: &mut Vec<Event>,
    ) -> Outcome {
        self.decrypt_in(m, e, None, events)
    }

    /// [`App::decrypt`]; `room`: a groupchat message of that room (OMEMO
    /// 2's envelope must be addressed to it).
    pub(super) fn decrypt_in(
        &mut self,
        m: &ChatMessage,
        e: &crate::protocol::omemo::Encrypted,
        room: Option<&jid::BareJid>,
        events: &mut Vec<Event>,
    ) -> Outcome {
        let account = self.omemo_account();
        let (Some(own_id), true) = (self.omemo_device(), self.omemo.store.is_some()) else {
            return Outcome::Failed(self.omemo_unavailable());
        };
        let Some(key) = e.key_for(&account, own_id) else {
            if e.payload.is_none() {
                // A heartbeat or key transport for another of our
                // devices (a copy reached us): nothing for us in it.
                return Outcome::Plain(None);
            }
            return Outcome::Failed(format!("it was not encrypted for this device ({own_id})"));
        };
        let sender = m.from.to_bare();
        let sid = e.sid;
        let v = version_of(e.omemo);
        let store = self.omemo.store.as_mut().expect("checked");
        let existing = match store.session(v, sender.as_str(), sid) {
            Ok(Loaded::Found(s)) => Some(*s),
            Ok(Loaded::Corrupt) => {
                events.push(super::news(
                    &mut self.store,
                    &sender,
                    format!("OMEMO: the session with device {sid} of {sender} was corrupt and is rebuilt"),
                ));
                None
            }
            _ => None,
        };
        let mut answered = false;
        let result = if key.kex {
            match KeyExchange::parse(v, &key.data) {
                Err(err) => Err(err),
                Ok(kex) => match existing {
                    Some(mut s) if s.built_from(&kex) => s.decrypt(&kex.message).map(|k| (s, k)),
                    _ => {
                        let own = self.omemo.own.as_mut().expect("checked");
                        let r = Session::accept(own.keys_mut(v), &kex);
                        if r.is_ok() {
                            answered = true;
                        }
                        r
                    }
                },
            }
        } else {
            match existing {
                Some(mut s) => s.decrypt(&key.data).map(|k| (s, k)),
                None => {
                    return Outcome::Failed(
                        "no session with this device (its key exchange never reached us)".into(),
                    );
                }
            }
        };
        let (session, material) = match result {
            Ok(r) => r,
            Err(OmemoError::Duplicate) => return Outcome::Duplicate,
            Err(err) => return Outcome::Failed(err.to_string()),
        };
        let store = self.omemo.store.as_mut().expect("checked");
        let _ = store.save_session(sender.as_str(), sid, &session, now_ms());
        if let Ok(IdentitySeen::Changed) =
            store.identity_seen(v, sender.as_str(), sid, &session.their_identity(), now_ms())
        {
            events.push(super::news(
                &mut self.store,
                &sender,
                format!(
                    "OMEMO: device {sid} of {sender} shows a NEW key: trust reset to undecided"
                ),
            ));
        }
        let heartbeat = answered || session.needs_heartbeat();
        if answered {
            // The prekey it used is gone: a new one, the bundle again.
            self.replenish_prekeys(v);
        }
        let plain = match &e.payload {
            None => Outcome::Plain(None),
            Some(p) => match payload::decrypt(v, &material, &e.iv, p) {
                Ok(bytes) if v == Version::V2 => {
                    // Sent to us, or a copy of what our account sent.
                    let addressee = match (room, &m.to) {
                        (Some(room), _) => room.clone(),
                        (None, Some(to)) if sender == account => to.to_bare(),
                        _ => account.clone(),
                    };
                    match super::v2::open(&bytes, &sender, &addressee, room.is_some()) {
                        Ok(text) => Outcome::Plain(text),
                        Err(why) => Outcome::Failed(why),
                    }
                }
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => Outcome::Plain(Some(text)),
                    Err(_) => Outcome::Failed("the decrypted text is not UTF-8".into()),
                },
                Err(err) => Outcome::Failed(err.to_string()),
            },
        };
        // Not to ourselves from a copy of our own message.
        if heartbeat && !(sender == account && m.from.resource().is_none()) {
            let to = if sender == account {
                m.from.clone()
            } else {
                sender.clone().into()
            };
            self.send_heartbeat(v, &to, &sender, sid);
        }
        plain
    }
}
