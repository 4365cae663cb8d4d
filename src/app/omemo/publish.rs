//! Our device at login: the store opened (a new device announced), our id
//! added to our device list (the ids of our other clients kept), our bundle
//! published; both with access model `open` (XEP-0384 §5.3), through
//! `app/pep.rs`'s publish-options and its fallback; OMEMO 0.3 first, then
//! OMEMO 2 (one node of bundles, item id = device id). Again after a key
//! exchange used one of our prekeys (replenished first).

use minidom::Element;

use super::{now_ms, omemo_of};
use crate::app::{App, IqStep, IqThen};
use crate::protocol::omemo::{self as xml, Device};
use crate::protocol::{ErrorInfo, omemo_pep};
use crate::store::Event;
use confab_omemo::device::PREKEYS;
use confab_omemo::{Version, wire};

/// A bundle in the XML's terms (0.3's keys with their type byte).
pub(super) fn bundle_xml(v: Version, b: &confab_omemo::x3dh::Bundle) -> xml::Bundle {
    xml::Bundle {
        identity_key: wire::encode_public(v, &b.identity_key),
        signed_prekey_id: b.signed_prekey_id,
        signed_prekey: wire::encode_public(v, &b.signed_prekey),
        signed_prekey_signature: b.signed_prekey_signature.to_vec(),
        prekeys: b
            .prekeys
            .iter()
            .map(|(id, k)| (*id, wire::encode_public(v, k)))
            .collect(),
    }
}

/// A bundle read from the XML, checked (keys, signature).
pub(super) fn bundle_of(v: Version, b: &xml::Bundle) -> Result<confab_omemo::x3dh::Bundle, String> {
    let key = |k: &[u8]| wire::parse_public(v, k).map_err(|e| e.to_string());
    let bundle = confab_omemo::x3dh::Bundle {
        identity_key: key(&b.identity_key)?,
        signed_prekey_id: b.signed_prekey_id,
        signed_prekey: key(&b.signed_prekey)?,
        signed_prekey_signature: b
            .signed_prekey_signature
            .clone()
            .try_into()
            .map_err(|_| "the signature is not 64 bytes".to_string())?,
        prekeys: b
            .prekeys
            .iter()
            .filter_map(|(id, k)| Some((*id, wire::parse_public(v, k).ok()?)))
            .take(confab_omemo::x3dh::MAX_BUNDLE_PREKEYS)
            .collect(),
    };
    bundle.verify(v).map_err(|e| e.to_string())?;
    Ok(bundle)
}

/// Not an `error`: no command failed, the server may just have no PEP
/// (then OMEMO cannot work with it at all); said once, as OMEMO news.
pub(super) fn failed(v: Version, what: &str, e: &ErrorInfo) -> Event {
    let version = match v {
        Version::Legacy => "0.3",
        Version::V2 => "2",
    };
    Event::Omemo {
        text: format!(
            "OMEMO {version}: {what} failed ({}): contacts cannot encrypt to this device with OMEMO {version}",
            e.text.as_deref().unwrap_or(&e.condition)
        ),
    }
}

/// The request for our device list of version `v`.
fn own_list_request(v: Version) -> Element {
    omemo_pep::fetch(omemo_pep::device_list_node(omemo_of(v)), None)
}

impl App {
    /// Logged in (or back): our device loaded or made, then published.
    pub(in crate::app) fn omemo_online(&mut self) {
        let Some(store) = self.omemo.store.as_mut() else {
            return;
        };
        if self.omemo.published {
            return;
        }
        self.omemo.published = true;
        let mut announce = Vec::new();
        if self.omemo.own.is_none() {
            match store.own_device() {
                Ok(own) => {
                    if own.created {
                        announce.push(Event::Omemo {
                            text: format!(
                                "OMEMO: a new device {} of this account was made (fingerprint {}); contacts will see a new key",
                                own.device_id,
                                confab_omemo::keys::fingerprint(&own.keys(Version::Legacy).identity_public())
                            ),
                        });
                    }
                    let node = xml::bundle_node(omemo_of(Version::Legacy), own.device_id).0;
                    self.omemo.legacy_node = Some(Box::leak(node.into_boxed_str()));
                    self.omemo.own = Some(own);
                }
                Err(e) => {
                    self.omemo.failed = Some(e.to_string());
                    self.omemo.store = None;
                    return;
                }
            }
        }
        let v = Version::Legacy;
        let then = IqThen::new(move |app, _, r| app.own_list_read(v, r, announce.clone(), true));
        self.start_iq("", None, own_list_request(v), false, then);
    }

    /// Our device list of version `v` as the server has it: ours added if
    /// missing. `ok`: the steps before went well (said at the end).
    fn own_list_read(
        &mut self,
        v: Version,
        r: Result<Option<Element>, ErrorInfo>,
        events: Vec<Event>,
        ok: bool,
    ) -> IqStep {
        let mut devices = match r {
            Ok(result) => omemo_pep::first_item(result.as_ref())
                .and_then(|l| xml::parse_device_list(l).ok())
                .filter(|(o, _)| *o == omemo_of(v))
                .map(|(_, d)| d)
                .unwrap_or_default(),
            Err(e) if e.condition == "item-not-found" => Vec::new(),
            Err(e) => {
                let mut events = events;
                events.push(failed(v, "reading our device list", &e));
                return self.after_publication(v, events, false);
            }
        };
        let own_id = self.omemo_device().expect("loaded");
        self.note_device_list(v, self.omemo_account(), &devices);
        if devices.iter().any(|d| d.id == own_id) {
            self.omemo.own_listed.insert(v);
            return self.publish_bundle(v, events, Some(ok));
        }
        devices.push(Device {
            id: own_id,
            label: None,
        });
        let publication = omemo_pep::device_list_publication(omemo_of(v), &devices);
        let then = IqThen::new(move |app, _, r| match r {
            Ok(_) => {
                app.omemo.own_listed.insert(v);
                app.publish_bundle(v, events.clone(), Some(ok))
            }
            Err(e) => {
                let mut events = events.clone();
                events.push(failed(v, "publishing our device list", &e));
                app.after_publication(v, events, false)
            }
        });
        let (payload, then) = self.pep_publish(publication, then);
        IqStep::Next {
            events: Vec::new(),
            to: None,
            payload,
            set: true,
            then,
        }
    }

    /// The step that publishes our bundle of version `v` (as it is now);
    /// `login`: at login, whether all went well so far (the next version
    /// follows, and the device is said ready at the end).
    pub(super) fn publish_bundle(
        &mut self,
        v: Version,
        events: Vec<Event>,
        login: Option<bool>,
    ) -> IqStep {
        let (Some(own), Some(legacy_node)) = (&self.omemo.own, self.omemo.legacy_node) else {
            return IqStep::Done(events);
        };
        let node = match v {
            Version::Legacy => legacy_node,
            Version::V2 => xml::V2_BUNDLES_NODE,
        };
        let bundle = bundle_xml(v, &own.keys(v).bundle());
        let item = xml::bundle_node(omemo_of(v), own.device_id).1;
        let publication = omemo_pep::bundle_publication(omemo_of(v), node, item, &bundle);
        let then = IqThen::new(move |app, _, r| {
            let mut events = events.clone();
            let published = match r {
                Err(e) => {
                    events.push(failed(v, "publishing our bundle", &e));
                    false
                }
                Ok(_) => true,
            };
            match login {
                Some(ok) => app.after_publication(v, events, ok && published),
                None => IqStep::Done(events),
            }
        });
        let (payload, then) = self.pep_publish(publication, then);
        IqStep::Next {
            events: Vec::new(),
            to: None,
            payload,
            set: true,
            then,
        }
    }

    /// At login, version `v` published (or not, `ok`): OMEMO 2 next, or
    /// the device said ready.
    fn after_publication(&mut self, v: Version, events: Vec<Event>, ok: bool) -> IqStep {
        if v == Version::Legacy {
            let next = Version::V2;
            return IqStep::Next {
                events: Vec::new(),
                to: None,
                payload: own_list_request(next),
                set: false,
                then: IqThen::new(move |app, _, r| app.own_list_read(next, r, events.clone(), ok)),
            };
        }
        let mut events = events;
        if ok && let Some(id) = self.omemo_device() {
            events.push(Event::Omemo {
                text: format!("OMEMO: device {id} published"),
            });
        }
        IqStep::Done(events)
    }

    /// A key exchange used one of our prekeys of version `v`: a new one
    /// made, the bundle published again.
    pub(super) fn replenish_prekeys(&mut self, v: Version) {
        let (Some(own), Some(store)) = (self.omemo.own.as_mut(), self.omemo.store.as_mut()) else {
            return;
        };
        let keys = own.keys_mut(v);
        keys.replenish(PREKEYS);
        let _ = store.save_own_keys(keys);
        let step = self.publish_bundle(v, Vec::new(), None);
        if let IqStep::Next { payload, then, .. } = step {
            self.start_iq("", None, payload, true, then);
        }
    }

    /// Our bare JID.
    pub(super) fn omemo_account(&self) -> jid::BareJid {
        self.store
            .jid
            .as_ref()
            .map(|j| j.to_bare())
            .unwrap_or_else(|| self.opts.account.clone())
    }

    /// A device list of version `v` read: kept for this session, new
    /// devices recorded; returns the new ones' ids.
    pub(super) fn note_device_list(
        &mut self,
        v: Version,
        jid: jid::BareJid,
        devices: &[Device],
    ) -> Vec<u32> {
        let ids: Vec<u32> = devices.iter().map(|d| d.id).collect();
        let new = self
            .omemo
            .store
            .as_mut()
            .and_then(|s| s.set_device_list(v, jid.as_str(), &ids, now_ms()).ok())
            .unwrap_or_default();
        self.omemo.lists.insert((v, jid), ids);
        new
    }

    /// The device ids of `jid`'s list of version `v` read this session.
    pub(super) fn device_list(&self, v: Version, jid: &jid::BareJid) -> &[u32] {
        self.omemo
            .lists
            .get(&(v, jid.clone()))
            .map(|l| &l[..])
            .unwrap_or(&[])
    }
}
