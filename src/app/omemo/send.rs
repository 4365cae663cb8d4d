//! Sending an encrypted one-to-one message: the contact's device list
//! read, the bundles of devices without a session fetched (sessions built,
//! identities recorded), the body encrypted to every trusted device of the
//! contact and our own other devices. Never plaintext instead: without a
//! device to encrypt to, a clear error and nothing sent.

use jid::{BareJid, Jid};
use minidom::Element;

use super::publish::bundle_of;
use super::{SENT, now_ms, omemo_of};
use crate::app::{App, Exec, IqStep, IqThen, Waiting, refuse};
use crate::protocol::omemo::{self as xml, Key};
use crate::protocol::{ErrorInfo, omemo_pep};
use crate::session::{SessionCmd, Tag};
use crate::store::Event;
use confab_core::omemo_store::{IdentitySeen, Loaded};
use confab_omemo::payload;
use confab_omemo::session::Session;

/// One send under way.
#[derive(Clone)]
struct Plan {
    to: Jid,
    body: String,
    /// Devices whose bundles are still to fetch.
    queue: Vec<(BareJid, u32)>,
    events: Vec<Event>,
}

fn bundle_request(jid: &BareJid, own: &BareJid, device: u32) -> (Option<Jid>, Element) {
    let (node, item) = xml::bundle_node(omemo_of(SENT), device);
    let to = (jid != own).then(|| Jid::from(jid.clone()));
    (to, omemo_pep::fetch(&node, Some(&item)))
}

impl App {
    pub(in crate::app) fn start_omemo_msg(
        &mut self,
        text: &str,
        to: Jid,
        body: String,
    ) -> Result<Exec, Box<Event>> {
        if self.omemo.store.is_none() || self.omemo.own.is_none() {
            return Err(refuse(
                text,
                "service-unavailable",
                format!("{}: not sent", self.omemo_unavailable()),
            ));
        }
        let contact = to.to_bare();
        let plan = Plan {
            to,
            body,
            queue: Vec::new(),
            events: Vec::new(),
        };
        let node = omemo_pep::device_list_node(omemo_of(SENT));
        let who = contact.clone();
        let then = IqThen::new(move |app, command, r| {
            app.contact_list_read(&who, command, r, plan.clone())
        });
        Ok(self.start_iq(
            text,
            Some(contact.into()),
            omemo_pep::fetch(node, None),
            false,
            then,
        ))
    }

    fn contact_list_read(
        &mut self,
        contact: &BareJid,
        command: &str,
        r: Result<Option<Element>, ErrorInfo>,
        mut plan: Plan,
    ) -> IqStep {
        let devices = match r {
            Ok(result) => omemo_pep::first_item(result.as_ref())
                .and_then(|l| xml::parse_device_list(l).ok())
                .map(|(_, d)| d)
                .unwrap_or_default(),
            Err(e) if e.condition == "item-not-found" => Vec::new(),
            Err(e) => {
                return IqStep::Done(vec![App::result(
                    command,
                    Err(ErrorInfo::new(
                        &e.condition,
                        Some(format!(
                            "OMEMO: the device list of {contact} could not be read ({}): not sent",
                            e.text.as_deref().unwrap_or(&e.condition)
                        )),
                    )),
                )]);
            }
        };
        for id in self.note_device_list(contact.clone(), &devices) {
            plan.events.push(Event::Omemo {
                text: format!("OMEMO: {contact} has a new device {id}"),
            });
        }
        let own = self.omemo_account();
        let own_id = self.omemo_device().expect("checked");
        let mut targets: Vec<(BareJid, u32)> =
            devices.iter().map(|d| (contact.clone(), d.id)).collect();
        if contact != &own {
            targets.extend(
                self.omemo
                    .lists
                    .get(&own)
                    .into_iter()
                    .flatten()
                    .filter(|id| **id != own_id)
                    .map(|id| (own.clone(), *id)),
            );
        }
        let store = self.omemo.store.as_mut().expect("checked");
        for (jid, id) in targets {
            if matches!(
                store.session(SENT, jid.as_str(), id),
                Ok(Loaded::Missing | Loaded::Corrupt)
            ) {
                plan.queue.push((jid, id));
            }
        }
        self.next_bundle(plan)
    }

    /// The next bundle to fetch, or the message itself.
    fn next_bundle(&mut self, mut plan: Plan) -> IqStep {
        let Some((jid, device)) = plan.queue.pop() else {
            let events = std::mem::take(&mut plan.events);
            return IqStep::WithTag(Box::new(move |app, tag, command| {
                let mut events = events;
                events.extend(app.encrypt_and_send(tag, &command, plan));
                events
            }));
        };
        let own = self.omemo_account();
        let (to, payload) = bundle_request(&jid, &own, device);
        let then = IqThen::new(move |app, _, r| {
            let mut plan = plan.clone();
            app.bundle_read(&jid, device, r, &mut plan.events);
            app.next_bundle(plan)
        });
        IqStep::Next {
            events: Vec::new(),
            to,
            payload,
            set: false,
            then,
        }
    }

    /// A device's bundle: its identity recorded, a session built.
    pub(super) fn bundle_read(
        &mut self,
        jid: &BareJid,
        device: u32,
        r: Result<Option<Element>, ErrorInfo>,
        events: &mut Vec<Event>,
    ) {
        let bundle = match r {
            Ok(result) => omemo_pep::first_item(result.as_ref())
                .ok_or_else(|| "no bundle published".to_string())
                .and_then(|b| xml::parse_bundle(b).map_err(|e| e.to_string()))
                .and_then(|(_, b)| bundle_of(&b)),
            Err(e) => Err(e.to_string()),
        };
        let bundle = match bundle {
            Ok(b) => b,
            Err(e) => {
                events.push(Event::Omemo {
                    text: format!(
                        "OMEMO: device {device} of {jid} is skipped: its bundle is unusable ({e})"
                    ),
                });
                return;
            }
        };
        let (Some(store), Some(own)) = (self.omemo.store.as_mut(), self.omemo.own.as_ref()) else {
            return;
        };
        if let Ok(IdentitySeen::Changed) =
            store.identity_seen(SENT, jid.as_str(), device, &bundle.identity_key, now_ms())
        {
            events.push(Event::Omemo {
                text: format!(
                    "OMEMO: device {device} of {jid} shows a NEW key: trust reset to undecided"
                ),
            });
        }
        match Session::initiate(own.keys(SENT), &bundle) {
            Ok(s) => {
                let _ = store.save_session(jid.as_str(), device, &s, now_ms());
            }
            Err(e) => events.push(Event::Omemo {
                text: format!("OMEMO: no session with device {device} of {jid}: {e}"),
            }),
        }
    }

    /// Encrypts to every trusted device with a session; sends, or says why not.
    fn encrypt_and_send(&mut self, tag: Tag, command: &str, plan: Plan) -> Vec<Event> {
        let contact = plan.to.to_bare();
        let own = self.omemo_account();
        let own_id = self.omemo_device().expect("checked");
        let enc = payload::encrypt(SENT, plan.body.as_bytes());
        let mut targets: Vec<(BareJid, u32)> = Vec::new();
        for jid in [&contact, &own] {
            for id in self.omemo.lists.get(jid).into_iter().flatten() {
                let ours = jid == &own && *id == own_id;
                if !ours && !targets.contains(&(jid.clone(), *id)) {
                    targets.push((jid.clone(), *id));
                }
            }
        }
        let store = self.omemo.store.as_mut().expect("checked");
        let mut keys = Vec::new();
        let mut to_contact = 0;
        for (jid, id) in targets {
            if !store.trusted(SENT, jid.as_str(), id).unwrap_or(false) {
                continue;
            }
            let Ok(Loaded::Found(mut s)) = store.session(SENT, jid.as_str(), id) else {
                continue;
            };
            let Ok(k) = s.encrypt(&enc.key_material) else {
                continue;
            };
            let _ = store.save_session(jid.as_str(), id, &s, now_ms());
            if jid == contact {
                to_contact += 1;
            }
            keys.push(Key {
                jid: None,
                rid: id,
                kex: k.key_exchange,
                data: k.data,
            });
        }
        if to_contact == 0 {
            return vec![App::result(
                command,
                Err(ErrorInfo::new(
                    "item-not-found",
                    Some(format!(
                        "OMEMO: {contact} has no trusted device with a usable bundle: not sent (see /omemo fingerprints {contact}, or /omemo off {contact})"
                    )),
                )),
            )];
        }
        let encrypted = xml::Encrypted {
            omemo: omemo_of(SENT),
            sid: own_id,
            keys,
            iv: enc.iv,
            payload: Some(enc.ciphertext),
        };
        let id = self.message_id();
        let message = omemo_pep::chat_message(self.wire_address(&plan.to), &id, &encrypted, true);
        self.wait_as(
            tag,
            command,
            Waiting::SentChat {
                to: plan.to,
                body: plan.body,
                id,
                private: false,
                reply: None,
                e2e: Some(omemo_pep::E2e {
                    version: omemo_pep::version_name(omemo_of(SENT)),
                    device: own_id,
                    trusted: true,
                    decrypted: true,
                }),
            },
            false,
        );
        self.session.send(SessionCmd::Message {
            message: Box::new(message),
            room: None,
            tag,
        });
        Vec::new()
    }

    /// An empty message to one device (XEP-0384: after answering a key
    /// exchange, and when a ratchet went stale): the ratchet moves, the
    /// other side stops repeating its key exchange.
    pub(super) fn send_heartbeat(&mut self, to: &Jid, jid: &BareJid, device: u32) {
        let (Some(store), Some(own_id)) = (
            self.omemo.store.as_mut(),
            self.omemo.own.as_ref().map(|o| o.device_id),
        ) else {
            return;
        };
        let Ok(Loaded::Found(mut s)) = store.session(SENT, jid.as_str(), device) else {
            return;
        };
        let material = payload::empty_key_material(SENT);
        let Ok(k) = s.encrypt(&material) else {
            return;
        };
        let _ = store.save_session(jid.as_str(), device, &s, now_ms());
        let iv = payload::encrypt(SENT, b"").iv;
        let encrypted = xml::Encrypted {
            omemo: omemo_of(SENT),
            sid: own_id,
            keys: vec![Key {
                jid: None,
                rid: device,
                kex: k.key_exchange,
                data: k.data,
            }],
            iv,
            payload: None,
        };
        let id = self.message_id();
        let message = omemo_pep::chat_message(to.clone(), &id, &encrypted, false);
        let tag = self.wait("", Waiting::Sent, false);
        self.session.send(SessionCmd::Message {
            message: Box::new(message),
            room: None,
            tag,
        });
    }
}
