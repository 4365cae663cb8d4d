//! OMEMO (XEP-0384) over XMPP, driven by the app; the crypto is
//! confab-omemo's, the keys in confab-core's `OmemoStore`
//! (`omemo.sqlite3` in the data directory).
//!
//! At login our device goes into our device lists (the ids of our other
//! clients kept) and our bundles are published, access model `open`
//! (`publish.rs`), for both versions: OMEMO 0.3
//! (`eu.siacs.conversations.axolotl`, what Conversations, Dino, Gajim,
//! Profanity read today) and OMEMO 2 (`urn:xmpp:omemo:2`), one device id
//! and identity for both. Sending (`send.rs`) speaks OMEMO 2 to a contact
//! whose OMEMO 2 device list has devices, 0.3 otherwise; receiving
//! (`receive.rs`) reads both. OMEMO 2's plaintext is an XEP-0420 envelope
//! (`v2.rs`).

mod correct;
mod files;
mod notify;
mod publish;
mod receive;
mod room;
mod send;
mod v2;

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use jid::BareJid;

use super::{App, Exec, refuse};
use crate::command::OmemoAction;
use crate::protocol::omemo::Omemo;
use crate::store::Event;
use crate::store::Store;
use confab_core::omemo_store::{OmemoStore, OwnDevice, Trust};
use confab_omemo::Version;
use confab_omemo::keys::fingerprint;

/// Both versions, the preferred first.
pub(crate) const VERSIONS: [Version; 2] = [Version::V2, Version::Legacy];

pub(crate) fn omemo_of(v: Version) -> Omemo {
    match v {
        Version::Legacy => Omemo::Legacy,
        Version::V2 => Omemo::V2,
    }
}

/// The devices of version `v` in a device-list fetch's result (none
/// when the result holds no list, another version's, or a bad one).
pub(crate) fn devices_of(
    v: Version,
    result: Option<&minidom::Element>,
) -> Vec<crate::protocol::omemo::Device> {
    crate::protocol::omemo_pep::first_item(result)
        .and_then(|l| crate::protocol::omemo::parse_device_list(l).ok())
        .filter(|(o, _)| *o == omemo_of(v))
        .map(|(_, d)| d)
        .unwrap_or_default()
}

pub(crate) fn version_of(o: Omemo) -> Version {
    match o {
        Omemo::Legacy => Version::Legacy,
        Omemo::V2 => Version::V2,
    }
}

#[derive(Default)]
pub(super) struct OmemoState {
    store: Option<OmemoStore>,
    own: Option<OwnDevice>,
    /// Why there is no store (said when OMEMO is asked for).
    failed: Option<String>,
    /// Device lists read this session (ours included), by version and
    /// account.
    lists: HashMap<(Version, BareJid), Vec<u32>>,
    /// The lists among them that PEP pushed (kept current by the server:
    /// used without asking, `notify.rs`).
    pushed: HashSet<(Version, BareJid)>,
    /// The versions whose device list of ours has our device (read or
    /// published at login): a push without it later is answered by
    /// adding it again (`notify.rs`).
    own_listed: HashSet<Version>,
    /// The 0.3 bundle node of our device (its id is in the name).
    legacy_node: Option<&'static str>,
    /// Our device list and bundle are being published, or were: a
    /// reconnection does not publish again (PEP keeps them), and two
    /// publications never race each other.
    published: bool,
    /// OMEMO in rooms (`room.rs`).
    rooms: room::RoomState,
}

impl std::fmt::Debug for OmemoState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OmemoState")
            .field("device", &self.own.as_ref().map(|o| o.device_id))
            .finish_non_exhaustive()
    }
}

/// How the fingerprints list names a version.
fn version_label(v: Version) -> &'static str {
    match v {
        Version::Legacy => "OMEMO 0.3",
        Version::V2 => "OMEMO 2",
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl App {
    /// The key store (opened by `main` in the data directory); `Err`: why
    /// OMEMO cannot work in this run.
    pub fn set_omemo_store(&mut self, store: Result<OmemoStore, String>) {
        match store {
            Ok(s) => self.omemo.store = Some(s),
            Err(e) => self.omemo.failed = Some(e),
        }
    }

    /// Our device id, once the store has made or loaded it.
    pub fn omemo_device(&self) -> Option<u32> {
        self.omemo.own.as_ref().map(|o| o.device_id)
    }

    /// Whether messages to `jid` are to be encrypted (also the TUI's
    /// lock on the title).
    pub fn omemo_enabled(&self, jid: &BareJid) -> bool {
        self.omemo
            .store
            .as_ref()
            .and_then(|s| s.encryption(jid.as_str()).ok().flatten())
            .unwrap_or(false)
    }

    fn omemo_unavailable(&self) -> String {
        match &self.omemo.failed {
            Some(e) => format!("OMEMO is unavailable: {e}"),
            None => "OMEMO is unavailable: no key store (not logged in yet?)".into(),
        }
    }

    pub(super) fn start_omemo(
        &mut self,
        text: &str,
        action: OmemoAction,
        jid: Option<BareJid>,
    ) -> Result<Exec, Box<Event>> {
        if self.omemo.store.is_none() || self.omemo.own.is_none() {
            return Err(refuse(
                text,
                "service-unavailable",
                self.omemo_unavailable(),
            ));
        }
        if let Some(j) = &jid
            && self.store.room(j).is_some()
        {
            match action {
                OmemoAction::On => return self.start_omemo_room_on(text, j.clone()),
                OmemoAction::Off => {}
                _ => {
                    return Err(refuse(
                        text,
                        "bad-request",
                        format!("{j} is a room: name a member's JID (see /whois)"),
                    ));
                }
            }
        }
        if jid.is_none() && matches!(action, OmemoAction::On | OmemoAction::Off) {
            return Err(refuse(
                text,
                "bad-request",
                "name the contact or room: /omemo on|off JID (the TUI: the current window)",
            ));
        }
        let store = self.omemo.store.as_mut().expect("checked");
        let r: Result<Vec<Event>, String> = match action {
            OmemoAction::On | OmemoAction::Off => {
                let on = action == OmemoAction::On;
                let jid = jid.expect("checked above");
                store
                    .set_encryption(jid.as_str(), on)
                    .map_err(|e| e.to_string())
                    .map(|_| {
                        vec![Event::Info {
                            text: format!(
                                "OMEMO {} for {jid}",
                                if on {
                                    "on: messages are encrypted"
                                } else {
                                    "off: messages are NOT encrypted"
                                }
                            ),
                        }]
                    })
            }
            OmemoAction::Fingerprints => Ok(vec![Event::Info {
                text: self.fingerprints_text(jid.as_ref()),
            }]),
            OmemoAction::Trust(fp) => {
                self.set_trust(&jid.expect("the parser asks for it"), &fp, Trust::Verified)
            }
            OmemoAction::Distrust(fp) => self.set_trust(
                &jid.expect("the parser asks for it"),
                &fp,
                Trust::Distrusted,
            ),
        };
        match r {
            Ok(mut events) => {
                events.push(Event::Ok {
                    command: text.to_string(),
                });
                Ok(Exec::done(events))
            }
            Err(e) => Err(refuse(text, "not-acceptable", e)),
        }
    }

    /// Our fingerprint and those of `jid`'s devices (every contact known
    /// without a JID), as Conversations shows them: hex in groups of 8.
    fn fingerprints_text(&self, jid: Option<&BareJid>) -> String {
        let own = self.omemo.own.as_ref().expect("checked");
        let mut out = String::new();
        for v in VERSIONS {
            out.push_str(&format!(
                "{}own device {} ({}): {}",
                if out.is_empty() { "" } else { "\n" },
                own.device_id,
                version_label(v),
                fingerprint(&own.keys(v).identity_public())
            ));
        }
        let store = self.omemo.store.as_ref().expect("checked");
        let mut jids: Vec<BareJid> = match jid {
            Some(j) => vec![j.clone()],
            None => self.omemo.lists.keys().map(|(_, j)| j.clone()).collect(),
        };
        jids.sort();
        jids.dedup();
        for j in jids {
            let devices: Vec<_> = VERSIONS
                .iter()
                .flat_map(|v| {
                    let d = store.devices(*v, j.as_str()).unwrap_or_default();
                    d.into_iter().map(move |d| (*v, d))
                })
                .collect();
            if devices.is_empty() {
                out.push_str(&format!("\n{j}: no devices known"));
            }
            for (v, d) in devices {
                let trusted = store.trusted(v, j.as_str(), d.device_id).unwrap_or(false);
                let fp = d
                    .identity
                    .map(|i| fingerprint(&i))
                    .unwrap_or_else(|| "(key not seen yet)".into());
                out.push_str(&format!(
                    "\n{j} device {} ({}): {fp} [{}{}]",
                    d.device_id,
                    version_label(v),
                    match d.trust {
                        Trust::Verified => "verified",
                        Trust::Distrusted => "distrusted",
                        Trust::Undecided if trusted => "trusted (blind)",
                        Trust::Undecided => "undecided",
                    },
                    if d.active { "" } else { ", inactive" }
                ));
            }
        }
        out
    }

    fn set_trust(&mut self, jid: &BareJid, fp: &str, trust: Trust) -> Result<Vec<Event>, String> {
        let hex: String = fp.chars().filter(|c| !c.is_whitespace()).collect();
        // 0.3 fingerprints are sometimes shown with the 0x05 type byte.
        let hex = if hex.len() == 66 && hex.starts_with("05") {
            &hex[2..]
        } else {
            &hex[..]
        };
        let bytes: Option<Vec<u8>> = (hex.len() == 64)
            .then(|| {
                (0..32)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                    .collect()
            })
            .flatten();
        let Some(key) = bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()) else {
            return Err("a fingerprint is 64 hex digits (spaces allowed)".into());
        };
        let store = self.omemo.store.as_mut().expect("checked");
        let mut n = 0;
        // One key may be a device's in both versions (0.3 shows its
        // Curve25519 form, OMEMO 2 its Ed25519 form).
        for v in VERSIONS {
            n += store
                .set_trust(v, jid.as_str(), &key, trust)
                .map_err(|e| e.to_string())?;
        }
        if n == 0 {
            return Err(format!(
                "no device of {jid} has this fingerprint (see /omemo fingerprints {jid})"
            ));
        }
        Ok(vec![Event::Info {
            text: format!(
                "{jid}: key {} {}",
                fingerprint(&key),
                if trust == Trust::Verified {
                    "verified"
                } else {
                    "distrusted: not encrypted to, its messages marked"
                }
            ),
        }])
    }
}

/// News about a contact's devices (a new device, a changed key, a
/// rebuilt session): an `omemo` event, and a line in the window of that
/// conversation if one is open.
pub(super) fn news(store: &mut Store, about: &BareJid, text: String) -> Event {
    store.notice(about, text.clone(), Utc::now());
    Event::Omemo { text }
}
