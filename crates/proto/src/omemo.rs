//! XEP-0384 OMEMO's elements, both versions the deployed clients speak:
//! `eu.siacs.conversations.axolotl` (0.3) and `urn:xmpp:omemo:2`. The
//! `<encrypted/>` element of a message, the device list and the bundle (PEP
//! items), as plain data with the binary fields decoded; the crypto is
//! confab-omemo's. Every size is bounded: the element comes from anyone.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use jid::BareJid;
use minidom::Element;

use super::{ErrorInfo, bad, nc};

pub const LEGACY: &str = "eu.siacs.conversations.axolotl";
/// 0.3's device list node (item id `current`).
pub const LEGACY_DEVICE_LIST_NODE: &str = "eu.siacs.conversations.axolotl.devicelist";
/// 0.3's bundle nodes are this prefix and the device id (item `current`).
pub const LEGACY_BUNDLES_PREFIX: &str = "eu.siacs.conversations.axolotl.bundles:";
pub const V2: &str = "urn:xmpp:omemo:2";
/// OMEMO 2's device list node (item id `current`).
pub const V2_DEVICES_NODE: &str = "urn:xmpp:omemo:2:devices";
/// The disco features asking PEP for contacts' device lists (XEP-0163).
pub const LEGACY_DEVICE_LIST_NOTIFY: &str = "eu.siacs.conversations.axolotl.devicelist+notify";
pub const V2_DEVICES_NOTIFY: &str = "urn:xmpp:omemo:2:devices+notify";
/// OMEMO 2's bundle node (one item per device, id = the device id).
pub const V2_BUNDLES_NODE: &str = "urn:xmpp:omemo:2:bundles";

/// The most `<key>` elements read from one message (one per recipient
/// device, in a room all members' devices).
pub const MAX_KEYS: usize = 1000;
/// The largest `<key>` content accepted, decoded (a real one is < 300).
pub const MAX_KEY_BYTES: usize = 4096;
/// The largest `<payload>` accepted, decoded.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// The most devices read from a device list.
pub const MAX_DEVICES: usize = 100;
/// The most prekeys read from a bundle.
pub const MAX_PREKEYS: usize = 200;
/// The longest device label kept (OMEMO 2), in bytes.
pub const MAX_LABEL_BYTES: usize = 100;

/// Which OMEMO.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Omemo {
    Legacy,
    V2,
}

impl Omemo {
    pub const fn ns(self) -> &'static str {
        match self {
            Omemo::Legacy => LEGACY,
            Omemo::V2 => V2,
        }
    }
    fn of(el: &Element) -> Option<Omemo> {
        match el.ns().as_str() {
            LEGACY => Some(Omemo::Legacy),
            V2 => Some(Omemo::V2),
            _ => None,
        }
    }
}

/// One recipient device's key element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The recipient's account (OMEMO 2 groups keys by JID; 0.3 does not
    /// say whose device it is).
    pub jid: Option<BareJid>,
    pub rid: u32,
    /// A key exchange (`prekey="true"` in 0.3, `kex="true"` in 2).
    pub kex: bool,
    pub data: Vec<u8>,
}

/// An `<encrypted/>` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encrypted {
    pub omemo: Omemo,
    /// The sending device.
    pub sid: u32,
    pub keys: Vec<Key>,
    /// 0.3's AES-GCM IV (empty in OMEMO 2).
    pub iv: Vec<u8>,
    /// None for an empty OMEMO message (key transport, heartbeat).
    pub payload: Option<Vec<u8>>,
}

fn decode(text: &str, max: usize, what: &str) -> Result<Vec<u8>, ErrorInfo> {
    let text = text.trim();
    // base64 is 4/3 of the bytes: refuse before decoding.
    if text.len() > max.div_ceil(3) * 4 + 4 {
        return Err(bad(format!("OMEMO {what} too large")));
    }
    let bytes = B64
        .decode(
            text.as_bytes()
                .iter()
                .filter(|b| !b.is_ascii_whitespace())
                .copied()
                .collect::<Vec<_>>(),
        )
        .map_err(|_| bad(format!("OMEMO {what} is not base64")))?;
    if bytes.len() > max {
        return Err(bad(format!("OMEMO {what} too large")));
    }
    Ok(bytes)
}

fn id_attr(el: &Element, name: &str) -> Result<u32, ErrorInfo> {
    el.attr(name)
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| bad(format!("OMEMO <{}/> without a numeric {name}", el.name())))
}

fn flag(el: &Element, name: &str) -> bool {
    matches!(el.attr(name), Some("true" | "1"))
}

fn child<'a>(el: &'a Element, name: &str) -> Option<&'a Element> {
    el.children()
        .find(|c| c.name() == name && c.ns() == el.ns())
}

impl Encrypted {
    /// The `<encrypted/>` of a message, 0.3 or 2 (the first found; a
    /// client sending both puts OMEMO 2 first, which is preferred here).
    pub fn find(message: &Element) -> Option<&Element> {
        let mut found = message
            .children()
            .filter(|c| c.name() == "encrypted" && Omemo::of(c).is_some());
        let first = found.next()?;
        Some(if Omemo::of(first) == Some(Omemo::V2) {
            first
        } else {
            found
                .find(|c| Omemo::of(c) == Some(Omemo::V2))
                .unwrap_or(first)
        })
    }

    pub fn parse(el: &Element) -> Result<Encrypted, ErrorInfo> {
        let omemo = Omemo::of(el)
            .filter(|_| el.name() == "encrypted")
            .ok_or_else(|| bad("not an OMEMO <encrypted/>"))?;
        let header =
            child(el, "header").ok_or_else(|| bad("OMEMO <encrypted/> without <header/>"))?;
        let sid = id_attr(header, "sid")?;
        let mut keys = Vec::new();
        let mut push = |jid: Option<BareJid>, k: &Element| -> Result<(), ErrorInfo> {
            if keys.len() >= MAX_KEYS {
                return Err(bad("too many OMEMO keys"));
            }
            keys.push(Key {
                jid,
                rid: id_attr(k, "rid")?,
                kex: flag(k, if omemo == Omemo::V2 { "kex" } else { "prekey" }),
                data: decode(&k.text(), MAX_KEY_BYTES, "key")?,
            });
            Ok(())
        };
        let mut iv = Vec::new();
        for c in header.children().filter(|c| c.ns() == el.ns()) {
            match (omemo, c.name()) {
                (Omemo::Legacy, "key") => push(None, c)?,
                (Omemo::Legacy, "iv") => iv = decode(&c.text(), 16, "IV")?,
                (Omemo::V2, "keys") => {
                    let jid = c
                        .attr("jid")
                        .and_then(|j| BareJid::new(j).ok())
                        .ok_or_else(|| bad("OMEMO <keys/> without a JID"))?;
                    for k in c
                        .children()
                        .filter(|k| k.name() == "key" && k.ns() == el.ns())
                    {
                        push(Some(jid.clone()), k)?;
                    }
                }
                _ => {}
            }
        }
        if omemo == Omemo::Legacy && iv.is_empty() {
            return Err(bad("OMEMO 0.3 <header/> without <iv/>"));
        }
        let payload = match child(el, "payload") {
            Some(p) => Some(decode(&p.text(), MAX_PAYLOAD_BYTES, "payload")?),
            None => None,
        };
        Ok(Encrypted {
            omemo,
            sid,
            keys,
            iv,
            payload,
        })
    }

    /// The key for this device, if the message has one.
    pub fn key_for(&self, own: &BareJid, device_id: u32) -> Option<&Key> {
        self.keys
            .iter()
            .find(|k| k.rid == device_id && k.jid.as_ref().is_none_or(|j| j == own))
    }

    pub fn to_element(&self) -> Element {
        let ns = self.omemo.ns();
        let key = |k: &Key| {
            let kex = if self.omemo == Omemo::V2 {
                "kex"
            } else {
                "prekey"
            };
            let mut b = Element::builder("key", ns).attr(nc("rid"), k.rid.to_string());
            if k.kex {
                b = b.attr(nc(kex), "true");
            }
            b.append(B64.encode(&k.data)).build()
        };
        let mut header = Element::builder("header", ns).attr(nc("sid"), self.sid.to_string());
        match self.omemo {
            Omemo::Legacy => {
                for k in &self.keys {
                    header = header.append(key(k));
                }
                header = header.append(
                    Element::builder("iv", ns)
                        .append(B64.encode(&self.iv))
                        .build(),
                );
            }
            Omemo::V2 => {
                // Grouped by JID, in the order the JIDs first appear.
                let mut jids: Vec<&BareJid> = Vec::new();
                for j in self.keys.iter().filter_map(|k| k.jid.as_ref()) {
                    if !jids.contains(&j) {
                        jids.push(j);
                    }
                }
                for j in jids {
                    let mut keys = Element::builder("keys", ns).attr(nc("jid"), j.to_string());
                    for k in self.keys.iter().filter(|k| k.jid.as_ref() == Some(j)) {
                        keys = keys.append(key(k));
                    }
                    header = header.append(keys.build());
                }
            }
        }
        let mut el = Element::builder("encrypted", ns).append(header.build());
        if let Some(p) = &self.payload {
            el = el.append(
                Element::builder("payload", ns)
                    .append(B64.encode(p))
                    .build(),
            );
        }
        el.build()
    }
}

/// A device in a device list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: u32,
    /// OMEMO 2's optional label (its signature is not checked here).
    pub label: Option<String>,
}

/// Reads a device list item's payload (`<list/>` in 0.3, `<devices/>` in
/// 2). Devices with unreadable ids are skipped; at most [`MAX_DEVICES`].
pub fn parse_device_list(el: &Element) -> Result<(Omemo, Vec<Device>), ErrorInfo> {
    let omemo = match (Omemo::of(el), el.name()) {
        (Some(Omemo::Legacy), "list") => Omemo::Legacy,
        (Some(Omemo::V2), "devices") => Omemo::V2,
        _ => return Err(bad("not an OMEMO device list")),
    };
    let mut devices: Vec<Device> = Vec::new();
    for d in el
        .children()
        .filter(|c| c.name() == "device" && c.ns() == el.ns())
    {
        let Ok(id) = id_attr(d, "id") else { continue };
        if devices.iter().any(|x| x.id == id) {
            continue;
        }
        let label = d
            .attr("label")
            .filter(|_| omemo == Omemo::V2)
            .map(|l| l.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|l| !l.is_empty() && l.len() <= MAX_LABEL_BYTES);
        devices.push(Device { id, label });
        if devices.len() == MAX_DEVICES {
            break;
        }
    }
    Ok((omemo, devices))
}

pub fn device_list_element(omemo: Omemo, devices: &[Device]) -> Element {
    let name = if omemo == Omemo::V2 {
        "devices"
    } else {
        "list"
    };
    let mut el = Element::builder(name, omemo.ns());
    for d in devices {
        let mut b = Element::builder("device", omemo.ns()).attr(nc("id"), d.id.to_string());
        if let (Omemo::V2, Some(l)) = (omemo, &d.label) {
            b = b.attr(nc("label"), l.as_str());
        }
        el = el.append(b.build());
    }
    el.build()
}

/// A bundle with its keys as the XML carries them (0.3's with the 0x05
/// type byte): confab-omemo's `wire::parse_public` reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    pub identity_key: Vec<u8>,
    pub signed_prekey_id: u32,
    pub signed_prekey: Vec<u8>,
    pub signed_prekey_signature: Vec<u8>,
    pub prekeys: Vec<(u32, Vec<u8>)>,
}

/// Element names of the two versions' bundles: identity key, signed prekey
/// (and its id attribute), signature, prekey (and its id attribute).
fn bundle_names(omemo: Omemo) -> [&'static str; 6] {
    match omemo {
        Omemo::Legacy => [
            "identityKey",
            "signedPreKeyPublic",
            "signedPreKeyId",
            "signedPreKeySignature",
            "preKeyPublic",
            "preKeyId",
        ],
        Omemo::V2 => ["ik", "spk", "id", "spks", "pk", "id"],
    }
}

pub fn parse_bundle(el: &Element) -> Result<(Omemo, Bundle), ErrorInfo> {
    let omemo = Omemo::of(el)
        .filter(|_| el.name() == "bundle")
        .ok_or_else(|| bad("not an OMEMO bundle"))?;
    let [ik, spk, spk_id, spks, pk, pk_id] = bundle_names(omemo);
    let need =
        |name: &str| child(el, name).ok_or_else(|| bad(format!("OMEMO bundle without <{name}/>")));
    let spk_el = need(spk)?;
    let mut prekeys = Vec::new();
    if let Some(list) = child(el, "prekeys") {
        for p in list
            .children()
            .filter(|c| c.name() == pk && c.ns() == el.ns())
            .take(MAX_PREKEYS)
        {
            // One bad prekey does not spoil the bundle.
            if let (Ok(id), Ok(key)) = (id_attr(p, pk_id), decode(&p.text(), 33, "prekey")) {
                prekeys.push((id, key));
            }
        }
    }
    Ok((
        omemo,
        Bundle {
            identity_key: decode(&need(ik)?.text(), 33, "identity key")?,
            signed_prekey_id: id_attr(spk_el, spk_id)?,
            signed_prekey: decode(&spk_el.text(), 33, "signed prekey")?,
            signed_prekey_signature: decode(&need(spks)?.text(), 64, "signature")?,
            prekeys,
        },
    ))
}

pub fn bundle_element(omemo: Omemo, b: &Bundle) -> Element {
    let ns = omemo.ns();
    let [ik, spk, spk_id, spks, pk, pk_id] = bundle_names(omemo);
    let text =
        |name: &str, data: &[u8]| Element::builder(name, ns).append(B64.encode(data)).build();
    let mut prekeys = Element::builder("prekeys", ns);
    for (id, key) in &b.prekeys {
        prekeys = prekeys.append(
            Element::builder(pk, ns)
                .attr(nc(pk_id), id.to_string())
                .append(B64.encode(key))
                .build(),
        );
    }
    Element::builder("bundle", ns)
        .append(
            Element::builder(spk, ns)
                .attr(nc(spk_id), b.signed_prekey_id.to_string())
                .append(B64.encode(&b.signed_prekey))
                .build(),
        )
        .append(text(spks, &b.signed_prekey_signature))
        .append(text(ik, &b.identity_key))
        .append(prekeys.build())
        .build()
}

/// The PEP node of a device's bundle, and the item id in it.
pub fn bundle_node(omemo: Omemo, device_id: u32) -> (String, String) {
    match omemo {
        Omemo::Legacy => (
            format!("{LEGACY_BUNDLES_PREFIX}{device_id}"),
            "current".into(),
        ),
        Omemo::V2 => (V2_BUNDLES_NODE.into(), device_id.to_string()),
    }
}

#[cfg(test)]
#[path = "omemo_tests.rs"]
mod tests;
