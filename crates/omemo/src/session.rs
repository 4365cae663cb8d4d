//! A session with one peer device: X3DH and the ratchet together, the key
//! exchange wrapping, and which identity key comes first in each version's
//! MAC.

use prost::Message as _;
use serde::{Deserialize, Serialize};

use crate::device::DeviceKeys;
use crate::ratchet::{Ratchet, peek_header};
use crate::wire::{self, LegacyKeyExchange, V2AuthenticatedMessage, V2KeyExchange};
use crate::x3dh::{self, Bundle, KeyExchangeHeader};
use crate::{Error, Result, Version};

/// Messages received on one ratchet key before a heartbeat is due
/// (XEP-0384; python-omemo's STALENESS_MAGIC_NUMBER).
pub const HEARTBEAT_AFTER: u32 = 53;

/// Who started the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Initiation {
    /// We read their bundle and sent the key exchange.
    Active,
    /// We answered their key exchange.
    Passive,
}

/// An incoming key exchange (`prekey="true"` key element), parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyExchange {
    pub header: KeyExchangeHeader,
    /// The ratchet message inside.
    pub message: Vec<u8>,
}

impl KeyExchange {
    pub fn parse(version: Version, bytes: &[u8]) -> Result<Self> {
        match version {
            Version::Legacy => {
                let [wire::LEGACY_VERSION_BYTE, rest @ ..] = bytes else {
                    return Err(Error::Malformed(
                        "a 0.3 key exchange has an unknown version byte",
                    ));
                };
                let k: LegacyKeyExchange = wire::decode(rest)?;
                Ok(Self {
                    header: KeyExchangeHeader {
                        prekey_id: k.pk_id,
                        signed_prekey_id: k.spk_id,
                        identity_key: wire::parse_legacy_public(&k.ik)?,
                        ephemeral_key: wire::parse_legacy_public(&k.ek)?,
                    },
                    message: k.message,
                })
            }
            Version::V2 => {
                let k: V2KeyExchange = wire::decode(bytes)?;
                Ok(Self {
                    header: KeyExchangeHeader {
                        prekey_id: k.pk_id,
                        signed_prekey_id: k.spk_id,
                        identity_key: wire::parse_public(version, &k.ik)?,
                        ephemeral_key: wire::parse_public(version, &k.ek)?,
                    },
                    message: k.message.encode_to_vec(),
                })
            }
        }
    }

    pub fn encode(&self, version: Version) -> Result<Vec<u8>> {
        let h = &self.header;
        Ok(match version {
            Version::Legacy => {
                let mut out = vec![wire::LEGACY_VERSION_BYTE];
                LegacyKeyExchange {
                    pk_id: h.prekey_id,
                    ek: wire::legacy_public(&h.ephemeral_key),
                    ik: wire::legacy_public(&h.identity_key),
                    message: self.message.clone(),
                    unused: None,
                    spk_id: h.signed_prekey_id,
                }
                .encode(&mut out)
                .expect("a Vec grows");
                out
            }
            Version::V2 => V2KeyExchange {
                pk_id: h.prekey_id,
                spk_id: h.signed_prekey_id,
                ik: h.identity_key.to_vec(),
                ek: h.ephemeral_key.to_vec(),
                message: wire::decode::<V2AuthenticatedMessage>(&self.message)?,
            }
            .encode_to_vec(),
        })
    }
}

/// What goes into one device's `<key>` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyElement {
    pub data: Vec<u8>,
    /// Whether it is a key exchange (`prekey="true"`, 0.3; `kex="true"`, 2).
    pub key_exchange: bool,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    version: Version,
    initiation: Initiation,
    /// The key exchange we sent (active) or answered (passive).
    key_exchange: KeyExchangeHeader,
    /// Initiator's identity key ‖ responder's, version-encoded.
    associated_data: Vec<u8>,
    their_identity: [u8; 32],
    ratchet: Ratchet,
    /// Whether a message from the peer was decrypted; until then an
    /// active session keeps sending its key exchange.
    confirmed: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("version", &self.version)
            .field("initiation", &self.initiation)
            .field("confirmed", &self.confirmed)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Starts a session from the peer's bundle (verifying its signature).
    /// The first messages go out as key exchanges until the peer answers.
    pub fn initiate(own: &DeviceKeys, bundle: &Bundle) -> Result<Self> {
        let version = own.version();
        let (agreement, key_exchange) = x3dh::initiate(version, own.identity(), bundle)?;
        let ratchet = Ratchet::initiate(version, agreement.shared_secret, bundle.signed_prekey)?;
        Ok(Self {
            version,
            initiation: Initiation::Active,
            key_exchange,
            associated_data: agreement.associated_data,
            their_identity: bundle.identity_key,
            ratchet,
            confirmed: false,
        })
    }

    /// Answers a key exchange: builds the session and decrypts the key
    /// material in it. The one-time prekey is removed from `own` on
    /// success (replenish and republish the bundle after).
    pub fn accept(own: &mut DeviceKeys, kex: &KeyExchange) -> Result<(Self, Vec<u8>)> {
        let version = own.version();
        let h = &kex.header;
        let signed_prekey = own
            .signed_prekey(h.signed_prekey_id)
            .ok_or(Error::UnknownSignedPreKey)?;
        let prekey = own.prekey(h.prekey_id).ok_or(Error::UnknownPreKey)?;
        let agreement = x3dh::respond(version, own.identity(), signed_prekey, prekey, h)?;
        let first = peek_header(version, &kex.message)?;
        let ratchet = Ratchet::respond(
            version,
            agreement.shared_secret,
            signed_prekey,
            first.ratchet_pub,
        )?;
        let mut session = Self {
            version,
            initiation: Initiation::Passive,
            key_exchange: h.clone(),
            associated_data: agreement.associated_data,
            their_identity: h.identity_key,
            ratchet,
            confirmed: false,
        };
        let key_material = session.decrypt(&kex.message)?;
        own.remove_prekey(h.prekey_id);
        Ok((session, key_material))
    }

    /// Whether `kex` is the key exchange this session was built from (the
    /// initiator repeats it until it hears back): then its message is for
    /// [`Session::decrypt`], not a new session.
    pub fn built_from(&self, kex: &KeyExchange) -> bool {
        self.initiation == Initiation::Passive && self.key_exchange == kex.header
    }

    pub fn version(&self) -> Version {
        self.version
    }
    pub fn initiation(&self) -> Initiation {
        self.initiation
    }
    /// The peer's identity key in the version's form (0.3: Curve25519,
    /// 2: Ed25519), for trust decisions and fingerprints.
    pub fn their_identity(&self) -> [u8; 32] {
        self.their_identity
    }
    pub fn confirmed(&self) -> bool {
        self.confirmed
    }

    /// Whether to send an empty message (a heartbeat) now: more than
    /// [`HEARTBEAT_AFTER`] messages arrived on this ratchet key without an
    /// answer (XEP-0384's staleness rule). After answering a key exchange
    /// an empty message is due too (python-omemo sends one), so the
    /// initiator stops repeating its key exchange.
    pub fn needs_heartbeat(&self) -> bool {
        self.ratchet.receiving_chain_length().unwrap_or(0) > HEARTBEAT_AFTER
    }

    /// The identity keys as the MAC of a message in this direction takes
    /// them: 0.3 sender first, OMEMO 2 initiator first.
    fn identities(&self, sending: bool) -> Vec<u8> {
        let we_are_initiator = self.initiation == Initiation::Active;
        if self.version == Version::V2 || sending == we_are_initiator {
            return self.associated_data.clone();
        }
        let half = self.associated_data.len() / 2;
        let mut swapped = self.associated_data[half..].to_vec();
        swapped.extend_from_slice(&self.associated_data[..half]);
        swapped
    }

    /// Encrypts key material for this device.
    pub fn encrypt(&mut self, key_material: &[u8]) -> Result<KeyElement> {
        let identities = self.identities(true);
        let message = self.ratchet.encrypt(key_material, &identities);
        if self.initiation == Initiation::Active && !self.confirmed {
            let kex = KeyExchange {
                header: self.key_exchange.clone(),
                message,
            };
            return Ok(KeyElement {
                data: kex.encode(self.version)?,
                key_exchange: true,
            });
        }
        Ok(KeyElement {
            data: message,
            key_exchange: false,
        })
    }

    /// Decrypts the key material of a ratchet message from this device.
    pub fn decrypt(&mut self, message: &[u8]) -> Result<Vec<u8>> {
        let identities = self.identities(false);
        let key_material = self.ratchet.decrypt(message, &identities)?;
        self.confirmed = true;
        Ok(key_material)
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
