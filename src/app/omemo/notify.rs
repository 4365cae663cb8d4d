//! Device lists pushed by PEP: confab announces
//! `eu.siacs.conversations.axolotl.devicelist+notify` and
//! `urn:xmpp:omemo:2:devices+notify` (proto `disco::FEATURES`), so the
//! server sends the lists of contacts with a presence subscription when
//! we come online and whenever they change. Each list is the pushing
//! account's own (proto takes only pushes from a bare JID), kept in the
//! store; a device never seen in either version is announced; our own
//! list pushed without this device gets it added again. A list
//! pushed this session is current (PEP keeps it so): an encrypted /msg
//! uses it without asking (`send.rs`).

use confab_omemo::Version;

use super::publish::failed;
use super::{VERSIONS, omemo_of, version_of};
use crate::app::{App, IqStep, IqThen};
use crate::protocol::omemo::Device;
use crate::protocol::omemo_pep::{self, DeviceListPush};
use crate::store::Event;

impl App {
    pub(super) fn omemo_list_pushed(&mut self, push: DeviceListPush) -> Vec<Event> {
        if self.omemo.store.is_none() {
            return Vec::new();
        }
        let v = version_of(push.omemo);
        let jid = push.from;
        let own = self.omemo_account();
        let own_id = self.omemo_device();
        // Devices already known in the other version are not new.
        let other: Vec<u32> = VERSIONS
            .iter()
            .filter(|o| **o != v)
            .flat_map(|o| {
                self.omemo
                    .store
                    .as_ref()
                    .and_then(|s| s.devices(*o, jid.as_str()).ok())
                    .unwrap_or_default()
            })
            .map(|d| d.device_id)
            .collect();
        let mut events = Vec::new();
        if jid == own
            && let Some(id) = own_id
            && self.omemo.own_listed.contains(&v)
            && !push.devices.iter().any(|d| d.id == id)
        {
            events.push(self.add_own_device_again(v, id, &push.devices));
        }
        let new = self.note_device_list(v, jid.clone(), &push.devices);
        self.omemo.pushed.insert((v, jid.clone()));
        for id in new
            .into_iter()
            .filter(|id| !other.contains(id) && (jid != own || Some(*id) != own_id))
        {
            events.push(if jid == own {
                Event::Omemo {
                    text: format!("OMEMO: this account has a new device {id}"),
                }
            } else {
                super::news(
                    &mut self.store,
                    &jid,
                    format!("OMEMO: {jid} has a new device {id}"),
                )
            });
        }
        events
    }

    /// Another client of ours published our device list without this
    /// device (XEP-0384 §5.3.1: a client adds itself again).
    fn add_own_device_again(&mut self, v: Version, id: u32, devices: &[Device]) -> Event {
        let mut devices = devices.to_vec();
        devices.push(Device { id, label: None });
        let publication = omemo_pep::device_list_publication(omemo_of(v), &devices);
        let then = IqThen::new(move |_, _, r| {
            IqStep::Done(match r {
                Ok(_) => Vec::new(),
                Err(e) => vec![failed(v, "publishing our device list", &e)],
            })
        });
        let (payload, then) = self.pep_publish(publication, then);
        self.start_iq("", None, payload, true, then);
        Event::Omemo {
            text: format!(
                "OMEMO: our device list ({}) came without this device {id}: added again",
                match v {
                    Version::Legacy => "0.3",
                    Version::V2 => "2",
                }
            ),
        }
    }

    /// The version to speak to `contact` and its devices, from lists
    /// pushed this session; `None`: to be asked.
    pub(super) fn pushed_version(&self, contact: &jid::BareJid) -> Option<Version> {
        let pushed = |v: Version| self.omemo.pushed.contains(&(v, contact.clone()));
        if pushed(Version::V2) && !self.device_list(Version::V2, contact).is_empty() {
            return Some(Version::V2);
        }
        if pushed(Version::Legacy)
            && !self.device_list(Version::Legacy, contact).is_empty()
            && (pushed(Version::V2)
                || self
                    .omemo
                    .lists
                    .get(&(Version::V2, contact.clone()))
                    .is_some_and(|l| l.is_empty()))
        {
            return Some(Version::Legacy);
        }
        None
    }
}
