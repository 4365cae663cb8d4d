//! Sending an encrypted one-to-one message: the contact's device list
//! read (OMEMO 2's; 0.3's when that one has no device), the bundles of
//! devices without a session fetched (sessions built, identities
//! recorded), the body encrypted to every trusted device of the contact
//! and our own other devices (OMEMO 2: in an XEP-0420 envelope, `v2.rs`).
//! Never plaintext instead: without a device to encrypt to, a clear error
//! and nothing sent.

use jid::{BareJid, Jid};
use minidom::Element;

use super::publish::bundle_of;
use super::{now_ms, omemo_of};
use crate::app::{App, Exec, IqStep, IqThen, Waiting, refuse};
use crate::protocol::omemo::{self as xml, Key};
use crate::protocol::{ErrorInfo, omemo_pep};
use crate::session::{SessionCmd, Tag};
use crate::store::Event;
use confab_core::omemo_store::{IdentitySeen, Loaded};
use confab_omemo::session::Session;
use confab_omemo::{Version, payload};

/// One send under way.
#[derive(Clone)]
struct Plan {
    /// The version tried (OMEMO 2 first) or chosen.
    version: Version,
    to: Jid,
    body: String,
    /// Devices whose bundles are still to fetch.
    queue: Vec<(BareJid, u32)>,
    events: Vec<Event>,
}

fn bundle_request(v: Version, jid: &BareJid, own: &BareJid, device: u32) -> (Option<Jid>, Element) {
    let (node, item) = xml::bundle_node(omemo_of(v), device);
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
        let step = self.omemo_msg_step(to, body);
        let tag = self.tag();
        let events = self.follow_step(tag, text.to_string(), step);
        let pending = self.pending.contains_key(&tag).then_some(tag);
        Ok(Exec { events, pending })
    }

    /// The first step of an encrypted one-to-one message (the store and
    /// our device checked by the caller): the contact's device list read,
    /// or (pushed by PEP) the bundles or the message itself.
    pub(in crate::app) fn omemo_msg_step(&mut self, to: Jid, body: String) -> IqStep {
        let contact = to.to_bare();
        let cached = self.pushed_version(&contact);
        let plan = Plan {
            version: cached.unwrap_or(Version::V2),
            to,
            body,
            queue: Vec::new(),
            events: Vec::new(),
        };
        if cached.is_some() {
            // The contact's lists came by PEP: no request for them.
            return self.plan_sessions(&contact, plan);
        }
        let (to, payload, then) = list_request(&contact, plan);
        IqStep::Next {
            events: Vec::new(),
            to,
            payload,
            set: false,
            then,
        }
    }

    fn contact_list_read(
        &mut self,
        contact: &BareJid,
        command: &str,
        r: Result<Option<Element>, ErrorInfo>,
        mut plan: Plan,
    ) -> IqStep {
        let v = plan.version;
        let devices = match r {
            Ok(result) => super::devices_of(v, result.as_ref()),
            Err(e) if e.condition == "item-not-found" => Vec::new(),
            // No OMEMO 2 (whatever the reason): 0.3 is asked next.
            Err(_) if v == Version::V2 => Vec::new(),
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
        for id in self.note_device_list(v, contact.clone(), &devices) {
            plan.events.push(super::news(
                &mut self.store,
                contact,
                format!("OMEMO: {contact} has a new device {id}"),
            ));
        }
        if devices.is_empty() && v == Version::V2 {
            plan.version = Version::Legacy;
            let (to, payload, then) = list_request(contact, plan);
            return IqStep::Next {
                events: Vec::new(),
                to,
                payload,
                set: false,
                then,
            };
        }
        self.plan_sessions(contact, plan)
    }

    /// Devices of the contact and ours without a session: their bundles
    /// to fetch.
    fn plan_sessions(&mut self, contact: &BareJid, mut plan: Plan) -> IqStep {
        let v = plan.version;
        let own = self.omemo_account();
        let own_id = self.omemo_device().expect("checked");
        let mut targets: Vec<(BareJid, u32)> = self
            .device_list(v, contact)
            .iter()
            .map(|d| (contact.clone(), *d))
            .collect();
        if contact != &own {
            targets.extend(
                self.device_list(v, &own)
                    .iter()
                    .filter(|id| **id != own_id)
                    .map(|id| (own.clone(), *id)),
            );
        }
        let store = self.omemo.store.as_mut().expect("checked");
        for (jid, id) in targets {
            if matches!(
                store.session(v, jid.as_str(), id),
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
        let (to, payload) = bundle_request(plan.version, &jid, &own, device);
        let then = IqThen::new(move |app, _, r| {
            let mut plan = plan.clone();
            app.bundle_read(plan.version, &jid, device, r, &mut plan.events);
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
        v: Version,
        jid: &BareJid,
        device: u32,
        r: Result<Option<Element>, ErrorInfo>,
        events: &mut Vec<Event>,
    ) {
        let bundle = match r {
            // OMEMO 2's bundles share a node: the item must be this device's.
            Ok(result) => match v {
                Version::Legacy => omemo_pep::first_item(result.as_ref()),
                Version::V2 => omemo_pep::item_with_id(result.as_ref(), &device.to_string()),
            }
            .ok_or_else(|| "no bundle published".to_string())
            .and_then(|b| xml::parse_bundle(b).map_err(|e| e.to_string()))
            .and_then(|(o, b)| {
                if o == omemo_of(v) {
                    bundle_of(v, &b)
                } else {
                    Err("a bundle of the other OMEMO version".into())
                }
            }),
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
            store.identity_seen(v, jid.as_str(), device, &bundle.identity_key, now_ms())
        {
            events.push(super::news(
                &mut self.store,
                jid,
                format!(
                    "OMEMO: device {device} of {jid} shows a NEW key: trust reset to undecided"
                ),
            ));
        }
        match Session::initiate(own.keys(v), &bundle) {
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
        let v = plan.version;
        let contact = plan.to.to_bare();
        let own = self.omemo_account();
        let own_id = self.omemo_device().expect("checked");
        let plaintext = match v {
            Version::Legacy => plan.body.as_bytes().to_vec(),
            Version::V2 => super::v2::envelope(&plan.body, &own, &contact),
        };
        let enc = payload::encrypt(v, &plaintext);
        drop(plaintext);
        let mut targets: Vec<(BareJid, u32)> = Vec::new();
        for jid in [&contact, &own] {
            for id in self.device_list(v, jid) {
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
            if !store.trusted(v, jid.as_str(), id).unwrap_or(false) {
                continue;
            }
            let Ok(Loaded::Found(mut s)) = store.session(v, jid.as_str(), id) else {
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
                jid: (v == Version::V2).then(|| jid.clone()),
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
            omemo: omemo_of(v),
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
                    version: omemo_pep::version_name(omemo_of(v)),
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
    pub(super) fn send_heartbeat(&mut self, v: Version, to: &Jid, jid: &BareJid, device: u32) {
        let (Some(store), Some(own_id)) = (
            self.omemo.store.as_mut(),
            self.omemo.own.as_ref().map(|o| o.device_id),
        ) else {
            return;
        };
        let Ok(Loaded::Found(mut s)) = store.session(v, jid.as_str(), device) else {
            return;
        };
        let material = payload::empty_key_material(v);
        let Ok(k) = s.encrypt(&material) else {
            return;
        };
        let _ = store.save_session(jid.as_str(), device, &s, now_ms());
        // 0.3 asks for an IV even without a payload; OMEMO 2 has none.
        let iv = match v {
            Version::Legacy => payload::encrypt(v, b"").iv,
            Version::V2 => Vec::new(),
        };
        let encrypted = xml::Encrypted {
            omemo: omemo_of(v),
            sid: own_id,
            keys: vec![Key {
                jid: (v == Version::V2).then(|| jid.clone()),
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

/// The request for `contact`'s device list of the plan's version, and what
/// follows.
fn list_request(contact: &BareJid, plan: Plan) -> (Option<Jid>, Element, IqThen) {
    let node = omemo_pep::device_list_node(omemo_of(plan.version));
    let who = contact.clone();
    let then =
        IqThen::new(move |app, command, r| app.contact_list_read(&who, command, r, plan.clone()));
    (
        Some(contact.clone().into()),
        omemo_pep::fetch(node, None),
        then,
    )
}
