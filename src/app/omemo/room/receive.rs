//! Incoming OMEMO room messages (see the parent module's docs): the
//! sender by the occupant's real JID, our own echo, history checked.

use jid::{BareJid, Jid};

use confab_omemo::Version;

use super::super::receive::{Outcome, shown};
use super::super::{omemo_of, version_of};
use super::omemo_event;
use crate::app::{App, IqStep, IqThen};
use crate::protocol::ChatMessage;
use crate::protocol::omemo::Omemo;
use crate::protocol::omemo_pep::{self, E2e, version_name};
use crate::store::{Event, Kind, Message};

/// The most device-list reads remembered (a room full of senders
/// claiming devices is hostile input too).
const ASKED_KEPT: usize = 1024;

impl App {
    /// A member's device list read in the background (see
    /// [`App::omemo_room_message`]); new devices said.
    fn read_member_list(&mut self, v: Version, jid: BareJid, device: u32) {
        let asked = &mut self.omemo.rooms.asked;
        if asked.len() >= ASKED_KEPT {
            asked.clear();
        }
        if !asked.insert((v == Version::V2, jid.clone(), device)) {
            return;
        }
        let node = omemo_pep::device_list_node(omemo_of(v));
        let who = jid.clone();
        let then = IqThen::new(move |app, _, r| {
            let devices = match r {
                Ok(result) => super::super::devices_of(v, result.as_ref()),
                Err(e) if e.condition == "item-not-found" => Vec::new(),
                Err(_) => return IqStep::Done(Vec::new()),
            };
            let new = app.note_device_list(v, who.clone(), &devices);
            IqStep::Done(
                new.into_iter()
                    .map(|id| omemo_event(format!("OMEMO: {who} has a new device {id}")))
                    .collect(),
            )
        });
        self.start_iq(
            "",
            Some(jid.into()),
            omemo_pep::fetch(node, None),
            false,
            then,
        );
    }

    /// Whether the room's log holds this message (by the room's
    /// stanza-id) already.
    fn room_holds(&self, m: &crate::protocol::RoomMessage) -> bool {
        let (Some(sid), Some(r)) = (&m.stanza_id, self.store.room(&m.room)) else {
            return false;
        };
        let mut probe = Message::new(
            Kind::Chat,
            chrono::Utc::now(),
            m.nick.clone(),
            String::new(),
        );
        probe.stanza_id = Some(sid.clone());
        r.messages.contains(&probe)
    }

    /// An encrypted room message decrypted, or marked (see the module
    /// docs). `None`: nothing to show.
    pub(in crate::app::omemo) fn omemo_room_message(
        &mut self,
        mut m: crate::protocol::RoomMessage,
        archived: bool,
        events: &mut Vec<Event>,
    ) -> Option<crate::protocol::RoomMessage> {
        let Some(enc) = m.encrypted.take() else {
            return Some(m);
        };
        // The room's history or its archive: sent by whoever had the
        // nick then.
        let history = archived || m.delayed;
        if self.room_holds(&m) {
            // History or an archive page we hold already (a rejoin, a
            // restart): its ratchet step is spent, the store drops it.
            return None;
        }
        let nick = m.nick.clone().unwrap_or_default();
        let account = self.omemo_account();
        let own_nick = self
            .store
            .room(&m.room)
            .is_some_and(|r| m.nick.as_deref() == Some(r.own_nick.as_str()));
        let own_id = self.omemo_device();
        let (omemo, sid) = match &*enc {
            Ok(e) => (e.omemo, e.sid),
            Err(_) => (Omemo::Legacy, 0),
        };
        let v = version_of(omemo);
        // Our own message, echoed: the plaintext we sent.
        if own_nick && Some(sid) == own_id {
            let sent = m.id.as_ref().and_then(|id| {
                self.omemo
                    .rooms
                    .sent
                    .iter()
                    .find(|(r, i, _)| r == &m.room && i == id)
                    .map(|(_, _, body)| body.clone())
            });
            // Else an old one (the room's history): it is in ours already.
            let body = sent?;
            m.body = body;
            m.e2e = Some(E2e {
                version: version_name(omemo),
                device: sid,
                trusted: true,
                decrypted: true,
            });
            return Some(m);
        }
        // Whose device: the occupant's real JID from the room's presence.
        let real = if own_nick {
            Some(account.clone())
        } else {
            self.store
                .room(&m.room)
                .and_then(|r| r.occupants.get(&nick))
                .and_then(|o| o.info.jid.as_ref())
                .map(|j| j.to_bare())
        };
        let outcome = match (&*enc, &real) {
            (Err(e), _) => Outcome::Failed(e.to_string()),
            _ if m.nick.is_none() => Outcome::Failed("the room itself has no OMEMO device".into()),
            (_, None) => Outcome::Failed(format!(
                "the room did not tell {nick}'s real JID, so whose device sent it is unknown"
            )),
            (Ok(e), Some(real)) => {
                let listed = self
                    .omemo
                    .lists
                    .get(&(v, real.clone()))
                    .map(|l| l.contains(&e.sid));
                if listed != Some(true) {
                    // Read (again) for the next messages: a new device
                    // is in the list by then, a forged one is not.
                    self.read_member_list(v, real.clone(), e.sid);
                }
                match listed {
                    Some(false) => Outcome::Failed(format!(
                        "device {} is not in the device list of {real}",
                        e.sid
                    )),
                    // History: the nick may have been someone else's
                    // then. A session we hold with this JID's device
                    // proves the sender; a key exchange would not (it
                    // would make a stranger's device this JID's).
                    None if history
                        && self
                            .omemo_device()
                            .and_then(|id| e.key_for(&account, id))
                            .is_some_and(|k| k.kex) =>
                    {
                        Outcome::Failed(format!(
                            "an earlier key exchange: that {nick} then was {real} cannot be checked (their device list is not read yet)"
                        ))
                    }
                    _ => {
                        // Live, the occupant's JID is the room's word:
                        // sessions are per real JID, as one-to-one;
                        // OMEMO 2's envelope is to the room, from that JID.
                        let as_chat = ChatMessage::new(Jid::from(real.clone()), "");
                        self.decrypt_in(&as_chat, e, Some(&m.room), events)
                    }
                }
            }
        };
        let trusted = real.as_ref().is_some_and(|real| {
            self.omemo
                .store
                .as_ref()
                .is_some_and(|s| s.trusted(v, real.as_str(), sid).unwrap_or(false))
        });
        let who = format!("{nick} in {}", m.room);
        let (body, e2e) = shown(outcome, &m.body, omemo, sid, trusted, &who, events)?;
        m.body = body;
        m.e2e = Some(e2e);
        Some(m)
    }
}
