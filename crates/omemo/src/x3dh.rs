//! X3DH, as OMEMO uses it: the shared secret and associated data a session
//! starts from, the initiator (active) reading a bundle and the responder
//! (passive) reading a key exchange.
//!
//! Both versions: SK = HKDF-SHA-256(salt = 32 zero bytes,
//! IKM = 32×0xFF ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4, info = "WhisperText" (0.3) or
//! "OMEMO X3DH" (2)), 32 bytes. The identity keys enter the associated data
//! in the version's encoding (0.3: 0x05 + Curve25519; 2: Ed25519),
//! initiator first.

use serde::{Deserialize, Serialize};

use crate::kdf::hkdf_sha256;
use crate::keys::{self, IdentityKeyPair, KeyPair};
use crate::wire;
use crate::{Error, Result, Version};

/// A device's published bundle, with keys as 32 raw bytes (the XML
/// carries 0.3's keys with the 0x05 type byte: see [`wire::legacy_public`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// 0.3: the Curve25519 key; 2: the Ed25519 key.
    pub identity_key: [u8; 32],
    pub signed_prekey_id: u32,
    pub signed_prekey: [u8; 32],
    /// 0.3: with the sign bit in the top bit of byte 63.
    #[serde(with = "sig_bytes")]
    pub signed_prekey_signature: [u8; 64],
    pub prekeys: Vec<(u32, [u8; 32])>,
}

/// The most one-time prekeys read from a bundle (XEP-0384 asks for at
/// least 25; 100 is what clients publish).
pub const MAX_BUNDLE_PREKEYS: usize = 200;

impl Bundle {
    /// The bytes the signed prekey's signature covers.
    fn signed_message(version: Version, signed_prekey: &[u8; 32]) -> Vec<u8> {
        wire::encode_public(version, signed_prekey)
    }

    /// Checks the signed prekey's signature against the identity key.
    pub fn verify(&self, version: Version) -> Result<()> {
        let msg = Self::signed_message(version, &self.signed_prekey);
        let ok = match version {
            Version::Legacy => {
                keys::verify_legacy(&self.identity_key, &msg, &self.signed_prekey_signature)
            }
            Version::V2 => keys::verify(&self.identity_key, &msg, &self.signed_prekey_signature),
        };
        if ok { Ok(()) } else { Err(Error::BadSignature) }
    }

    /// Signs `signed_prekey` as the version asks.
    pub(crate) fn sign(
        version: Version,
        identity: &IdentityKeyPair,
        signed_prekey: &[u8; 32],
    ) -> [u8; 64] {
        let msg = Self::signed_message(version, signed_prekey);
        match version {
            Version::Legacy => identity.sign_legacy(&msg),
            Version::V2 => identity.sign(&msg),
        }
    }
}

/// The public identity key in the version's form.
pub fn own_identity_public(version: Version, identity: &IdentityKeyPair) -> [u8; 32] {
    match version {
        Version::Legacy => identity.curve25519_public(),
        Version::V2 => identity.ed25519_public(),
    }
}

/// The Curve25519 form of a peer's identity key given in the version's form.
fn identity_curve(version: Version, identity_key: &[u8; 32]) -> Result<[u8; 32]> {
    match version {
        Version::Legacy => Ok(*identity_key),
        Version::V2 => keys::ed_to_curve(identity_key)
            .ok_or(Error::Malformed("an identity key is not an Ed25519 point")),
    }
}

/// What the initiator sends in its key exchange besides the first message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyExchangeHeader {
    pub prekey_id: u32,
    pub signed_prekey_id: u32,
    /// The initiator's identity key in the version's form.
    pub identity_key: [u8; 32],
    pub ephemeral_key: [u8; 32],
}

/// The result of X3DH on either side.
pub struct Agreement {
    pub shared_secret: [u8; 32],
    /// Initiator's identity ‖ responder's identity, version-encoded.
    pub associated_data: Vec<u8>,
}

fn derive(version: Version, dhs: &[[u8; 32]]) -> [u8; 32] {
    let mut ikm = Vec::with_capacity(32 * (1 + dhs.len()));
    ikm.extend_from_slice(&[0xff; 32]);
    for dh in dhs {
        ikm.extend_from_slice(dh);
    }
    let mut sk = [0u8; 32];
    hkdf_sha256(&[0u8; 32], &ikm, version.x3dh_info(), &mut sk);
    zeroize::Zeroize::zeroize(&mut ikm);
    sk
}

fn associated_data(version: Version, initiator: &[u8; 32], responder: &[u8; 32]) -> Vec<u8> {
    let mut ad = wire::encode_public(version, initiator);
    ad.extend(wire::encode_public(version, responder));
    ad
}

/// The initiator's side: verifies the bundle, picks one of its prekeys at
/// random and agrees on the shared secret.
pub fn initiate(
    version: Version,
    identity: &IdentityKeyPair,
    bundle: &Bundle,
) -> Result<(Agreement, KeyExchangeHeader)> {
    bundle.verify(version)?;
    if bundle.prekeys.is_empty() {
        return Err(Error::NoPreKey);
    }
    let pick = u64::from_le_bytes(crate::random_bytes()) as usize % bundle.prekeys.len();
    let (prekey_id, prekey) = bundle.prekeys[pick];
    let ephemeral = KeyPair::generate();
    let their_identity = identity_curve(version, &bundle.identity_key)?;
    let dh1 = identity.x25519_secret().agree(&bundle.signed_prekey)?;
    let dh2 = ephemeral.agree(&their_identity)?;
    let dh3 = ephemeral.agree(&bundle.signed_prekey)?;
    let dh4 = ephemeral.agree(&prekey)?;
    let own = own_identity_public(version, identity);
    Ok((
        Agreement {
            shared_secret: derive(version, &[dh1, dh2, dh3, dh4]),
            associated_data: associated_data(version, &own, &bundle.identity_key),
        },
        KeyExchangeHeader {
            prekey_id,
            signed_prekey_id: bundle.signed_prekey_id,
            identity_key: own,
            ephemeral_key: ephemeral.public(),
        },
    ))
}

/// The responder's side, with the private keys the header names.
pub fn respond(
    version: Version,
    identity: &IdentityKeyPair,
    signed_prekey: &KeyPair,
    prekey: &KeyPair,
    header: &KeyExchangeHeader,
) -> Result<Agreement> {
    let their_identity = identity_curve(version, &header.identity_key)?;
    let dh1 = signed_prekey.agree(&their_identity)?;
    let dh2 = identity.x25519_secret().agree(&header.ephemeral_key)?;
    let dh3 = signed_prekey.agree(&header.ephemeral_key)?;
    let dh4 = prekey.agree(&header.ephemeral_key)?;
    Ok(Agreement {
        shared_secret: derive(version, &[dh1, dh2, dh3, dh4]),
        associated_data: associated_data(
            version,
            &header.identity_key,
            &own_identity_public(version, identity),
        ),
    })
}

mod sig_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(sig: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(sig)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let v: Vec<u8> = Deserialize::deserialize(d)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("a signature is 64 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceKeys;

    #[test]
    fn both_sides_agree_for_both_versions() {
        for version in [Version::Legacy, Version::V2] {
            let alice = IdentityKeyPair::generate();
            let bob = DeviceKeys::generate(version, IdentityKeyPair::generate(), 5);
            let bundle = bob.bundle();
            let (a, header) = initiate(version, &alice, &bundle).unwrap();
            let spk = bob.signed_prekey(header.signed_prekey_id).unwrap();
            let pk = bob.prekey(header.prekey_id).unwrap();
            let b = respond(version, bob.identity(), spk, pk, &header).unwrap();
            assert_eq!(a.shared_secret, b.shared_secret);
            assert_eq!(a.associated_data, b.associated_data);
            let ik_len = if version == Version::Legacy { 33 } else { 32 };
            assert_eq!(a.associated_data.len(), 2 * ik_len);
        }
    }

    #[test]
    fn forged_bundle_refused() {
        for version in [Version::Legacy, Version::V2] {
            let bob = DeviceKeys::generate(version, IdentityKeyPair::generate(), 1);
            let mut bundle = bob.bundle();
            bundle.signed_prekey[0] ^= 1;
            assert_eq!(
                initiate(version, &IdentityKeyPair::generate(), &bundle).err(),
                Some(Error::BadSignature)
            );
            let mut empty = bob.bundle();
            empty.prekeys.clear();
            assert_eq!(
                initiate(version, &IdentityKeyPair::generate(), &empty).err(),
                Some(Error::NoPreKey)
            );
        }
    }
}
