//! OMEMO end-to-end encryption (XEP-0384), both versions the deployed clients
//! speak: `eu.siacs.conversations.axolotl` (OMEMO 0.3, libsignal's wire
//! format) and `urn:xmpp:omemo:2`. Pure: no I/O, no XML, no clock. The
//! stanzas are built by confab-proto, the keys stored by confab-core.
//!
//! Layers, bottom up: [`keys`] (identity, X25519 pairs, the 0.3 XEdDSA sign
//! bit convention), [`kdf`], [`wire`] (the protobufs), [`x3dh`], [`ratchet`]
//! (the Double Ratchet, skipped keys bounded), [`payload`] (the message
//! body's encryption), [`session`] (one peer device), [`device`] (this
//! device's prekeys and bundle).

pub mod device;
pub mod kdf;
pub mod keys;
pub mod payload;
pub mod ratchet;
pub mod session;
pub mod wire;
pub mod x3dh;

use serde::{Deserialize, Serialize};

/// The two OMEMO versions. They share nothing on the wire; a device may
/// speak both with one identity key (as python-omemo and Dino do).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Version {
    /// OMEMO 0.3, namespace `eu.siacs.conversations.axolotl`.
    Legacy,
    /// OMEMO 2, namespace `urn:xmpp:omemo:2`.
    V2,
}

impl Version {
    pub const fn namespace(self) -> &'static str {
        match self {
            Version::Legacy => "eu.siacs.conversations.axolotl",
            Version::V2 => "urn:xmpp:omemo:2",
        }
    }
    /// HKDF info of X3DH's shared secret.
    pub(crate) const fn x3dh_info(self) -> &'static [u8] {
        match self {
            Version::Legacy => b"WhisperText",
            Version::V2 => b"OMEMO X3DH",
        }
    }
    /// HKDF info of the root chain.
    pub(crate) const fn root_info(self) -> &'static [u8] {
        match self {
            Version::Legacy => b"WhisperRatchet",
            Version::V2 => b"OMEMO Root Chain",
        }
    }
    /// HKDF info turning a message key into AES key, HMAC key and IV.
    pub(crate) const fn message_key_info(self) -> &'static [u8] {
        match self {
            Version::Legacy => b"WhisperMessageKeys",
            Version::V2 => b"OMEMO Message Key Material",
        }
    }
    /// Length of the truncated HMAC-SHA-256 on each ratchet message.
    pub(crate) const fn mac_len(self) -> usize {
        match self {
            Version::Legacy => 8,
            Version::V2 => 16,
        }
    }
}

/// Why a key, bundle or message was refused. None of these carry key
/// material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("malformed OMEMO data: {0}")]
    Malformed(&'static str),
    #[error("the signed prekey's signature does not verify")]
    BadSignature,
    #[error("the bundle has no one-time prekey")]
    NoPreKey,
    #[error(
        "the key exchange names a prekey this device does not have (used already, or never published)"
    )]
    UnknownPreKey,
    #[error("the key exchange names a signed prekey this device does not have")]
    UnknownSignedPreKey,
    #[error("authentication failed: the message was altered or is not for this session")]
    Authentication,
    #[error("this message was already decrypted (replayed)")]
    Duplicate,
    #[error("the message skips more than {0} messages")]
    TooManySkipped(u32),
    #[error("a key agreement produced the all-zero secret (a low-order public key)")]
    WeakKey,
}

pub type Result<T> = std::result::Result<T, Error>;

/// Fills `buf` from the operating system's generator. The OS generator
/// failing is not something an OMEMO client can recover from.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random generator failed");
    buf
}
