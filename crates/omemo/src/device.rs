//! This device's key material for one OMEMO version: identity, signed
//! prekey (and the previous one, kept while late key exchanges may still
//! name it), one-time prekeys. Serializable for the key store; the caller
//! keeps time (when to rotate) and publishes [`DeviceKeys::bundle`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Version;
use crate::keys::{IdentityKeyPair, KeyPair};
use crate::x3dh::{Bundle, own_identity_public};

#[derive(Clone, Serialize, Deserialize)]
struct SignedPreKey {
    id: u32,
    key: KeyPair,
    signature: Vec<u8>,
}

/// How many one-time prekeys a bundle offers (XEP-0384: at least 25;
/// Conversations and python-omemo publish 100).
pub const PREKEYS: usize = 100;

#[derive(Clone, Serialize, Deserialize)]
pub struct DeviceKeys {
    version: Version,
    identity: IdentityKeyPair,
    signed_prekey: SignedPreKey,
    old_signed_prekey: Option<SignedPreKey>,
    prekeys: BTreeMap<u32, KeyPair>,
    next_prekey_id: u32,
}

impl DeviceKeys {
    /// New key material around `identity` with `prekeys` one-time prekeys.
    pub fn generate(version: Version, identity: IdentityKeyPair, prekeys: usize) -> Self {
        let signed_prekey = Self::new_signed_prekey(version, &identity, 1);
        let mut keys = Self {
            version,
            identity,
            signed_prekey,
            old_signed_prekey: None,
            prekeys: BTreeMap::new(),
            next_prekey_id: 1,
        };
        keys.replenish(prekeys);
        keys
    }

    fn new_signed_prekey(version: Version, identity: &IdentityKeyPair, id: u32) -> SignedPreKey {
        let key = KeyPair::generate();
        let signature = Bundle::sign(version, identity, &key.public()).to_vec();
        SignedPreKey { id, key, signature }
    }

    pub fn version(&self) -> Version {
        self.version
    }

    pub fn identity(&self) -> &IdentityKeyPair {
        &self.identity
    }

    /// The public identity key in this version's form.
    pub fn identity_public(&self) -> [u8; 32] {
        own_identity_public(self.version, &self.identity)
    }

    /// The bundle to publish.
    pub fn bundle(&self) -> Bundle {
        Bundle {
            identity_key: self.identity_public(),
            signed_prekey_id: self.signed_prekey.id,
            signed_prekey: self.signed_prekey.key.public(),
            signed_prekey_signature: self
                .signed_prekey
                .signature
                .clone()
                .try_into()
                .expect("64 bytes"),
            prekeys: self
                .prekeys
                .iter()
                .map(|(id, k)| (*id, k.public()))
                .collect(),
        }
    }

    /// The current or previous signed prekey with this id.
    pub fn signed_prekey(&self, id: u32) -> Option<&KeyPair> {
        std::iter::once(&self.signed_prekey)
            .chain(&self.old_signed_prekey)
            .find(|s| s.id == id)
            .map(|s| &s.key)
    }

    pub fn prekey(&self, id: u32) -> Option<&KeyPair> {
        self.prekeys.get(&id)
    }

    /// Forgets a one-time prekey once a session was built from it.
    pub fn remove_prekey(&mut self, id: u32) -> bool {
        self.prekeys.remove(&id).is_some()
    }

    pub fn prekey_count(&self) -> usize {
        self.prekeys.len()
    }

    /// Generates prekeys until there are `target`; ids are never reused.
    /// Returns how many were added (the bundle needs publishing if any).
    pub fn replenish(&mut self, target: usize) -> usize {
        let mut added = 0;
        while self.prekeys.len() < target {
            self.prekeys
                .insert(self.next_prekey_id, KeyPair::generate());
            self.next_prekey_id = self.next_prekey_id.wrapping_add(1).max(1);
            added += 1;
        }
        added
    }

    /// A new signed prekey; the previous one stays usable until the next
    /// rotation.
    pub fn rotate_signed_prekey(&mut self) {
        let id = self.signed_prekey.id.wrapping_add(1).max(1);
        let new = Self::new_signed_prekey(self.version, &self.identity, id);
        self.old_signed_prekey = Some(std::mem::replace(&mut self.signed_prekey, new));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_verifies_and_prekeys_replenish() {
        for version in [Version::Legacy, Version::V2] {
            let mut d = DeviceKeys::generate(version, IdentityKeyPair::generate(), 3);
            d.bundle().verify(version).unwrap();
            assert_eq!(
                d.bundle().prekeys.iter().map(|p| p.0).collect::<Vec<_>>(),
                vec![1, 2, 3]
            );
            assert!(d.remove_prekey(2));
            assert!(!d.remove_prekey(2));
            assert_eq!(d.replenish(3), 1);
            assert_eq!(
                d.bundle().prekeys.iter().map(|p| p.0).collect::<Vec<_>>(),
                vec![1, 3, 4]
            );
            let old = d.bundle().signed_prekey_id;
            d.rotate_signed_prekey();
            d.bundle().verify(version).unwrap();
            assert!(d.signed_prekey(old).is_some());
            assert_ne!(d.bundle().signed_prekey_id, old);
            let json = serde_json::to_string(&d).unwrap();
            let back: DeviceKeys = serde_json::from_str(&json).unwrap();
            assert_eq!(back.bundle(), d.bundle());
        }
    }
}
