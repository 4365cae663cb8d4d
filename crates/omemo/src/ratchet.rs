//! The Double Ratchet (Signal's specification, as python-doubleratchet and
//! libsignal run it for OMEMO).
//!
//! Root chain: HKDF-SHA-256(salt = root key, IKM = DH output, info = the
//! version's root info) → 32 bytes new root key ‖ 32 bytes chain key.
//! Message chains: message key = HMAC(chain key, 0x01), next chain key =
//! HMAC(chain key, 0x02). Message encryption: HKDF(salt = 32 zero bytes,
//! IKM = message key, info = the version's message info) → AES-256-CBC key
//! ‖ HMAC key ‖ IV; the MAC is HMAC-SHA-256 over the identity keys
//! (sender's first in 0.3, initiator's first in 2) and the serialized
//! message, truncated to 8 (0.3) or 16 (2) bytes.
//!
//! Skipped message keys are kept for out-of-order messages, at most
//! [`MAX_SKIP`] per message and [`MAX_SKIPPED_KEYS`] in all (the oldest
//! dropped first); each key is used once, so a replayed message is
//! refused. A message that fails leaves the state as it was.

use std::collections::VecDeque;

use prost::Message as _;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::kdf::{hkdf_sha256, hmac_sha256, mac_eq};
use crate::keys::KeyPair;
use crate::payload::{aes256_cbc_decrypt, aes256_cbc_encrypt};
use crate::wire::{self, LegacyMessage, V2AuthenticatedMessage, V2Message};
use crate::{Error, Result, Version};

/// The most message keys one incoming message may make the ratchet skip.
pub const MAX_SKIP: u32 = 1000;
/// The most skipped message keys a session keeps.
pub const MAX_SKIPPED_KEYS: usize = 2000;

#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct Chain {
    key: [u8; 32],
    len: u32,
}

impl Chain {
    fn step(&mut self) -> [u8; 32] {
        let message_key = hmac_sha256(&self.key, &[&[0x01]]);
        self.key = hmac_sha256(&self.key, &[&[0x02]]);
        self.len += 1;
        message_key
    }
}

#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct SkippedKey {
    ratchet_pub: [u8; 32],
    n: u32,
    key: [u8; 32],
}

/// A ratchet message's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub ratchet_pub: [u8; 32],
    /// Length of the sender's previous sending chain.
    pub pn: u32,
    /// Number of this message in its chain.
    pub n: u32,
}

/// One session's ratchet state; serializable for storage.
#[derive(Clone, Serialize, Deserialize)]
pub struct Ratchet {
    version: Version,
    root: [u8; 32],
    own: KeyPair,
    their: [u8; 32],
    send: Chain,
    recv: Option<Chain>,
    prev_send: u32,
    skipped: VecDeque<SkippedKey>,
}

impl Drop for Ratchet {
    fn drop(&mut self) {
        self.root.zeroize();
    }
}

fn root_step(
    version: Version,
    root: &mut [u8; 32],
    own: &KeyPair,
    their: &[u8; 32],
) -> Result<Chain> {
    let dh = own.agree(their)?;
    let mut out = [0u8; 64];
    hkdf_sha256(root, &dh, version.root_info(), &mut out);
    root.copy_from_slice(&out[..32]);
    let chain = Chain {
        key: out[32..].try_into().expect("32 bytes"),
        len: 0,
    };
    out.zeroize();
    Ok(chain)
}

/// A message parsed far enough to find its key.
struct Parsed {
    header: Header,
    /// The bytes the MAC covers after the identity keys.
    authenticated: Vec<u8>,
    mac: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl Ratchet {
    /// The initiator's ratchet, from X3DH's secret and the responder's
    /// signed prekey (its first ratchet key).
    pub fn initiate(
        version: Version,
        shared_secret: [u8; 32],
        their_signed_prekey: [u8; 32],
    ) -> Result<Self> {
        let mut root = shared_secret;
        let own = KeyPair::generate();
        let send = root_step(version, &mut root, &own, &their_signed_prekey)?;
        Ok(Self {
            version,
            root,
            own,
            their: their_signed_prekey,
            send,
            recv: None,
            prev_send: 0,
            skipped: VecDeque::new(),
        })
    }

    /// The responder's ratchet, from X3DH's secret, its signed prekey and
    /// the ratchet key in the initiator's first message.
    pub fn respond(
        version: Version,
        shared_secret: [u8; 32],
        signed_prekey: &KeyPair,
        their_ratchet_pub: [u8; 32],
    ) -> Result<Self> {
        let mut root = shared_secret;
        let recv = root_step(version, &mut root, signed_prekey, &their_ratchet_pub)?;
        let own = KeyPair::generate();
        let send = root_step(version, &mut root, &own, &their_ratchet_pub)?;
        Ok(Self {
            version,
            root,
            own,
            their: their_ratchet_pub,
            send,
            recv: Some(recv),
            prev_send: 0,
            skipped: VecDeque::new(),
        })
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// Messages received on the current receiving chain (None before any).
    pub fn receiving_chain_length(&self) -> Option<u32> {
        self.recv.as_ref().map(|c| c.len)
    }

    /// How many skipped message keys are kept.
    pub fn skipped_keys(&self) -> usize {
        self.skipped.len()
    }

    /// Encrypts `plaintext` (OMEMO's key material) into a whole ratchet
    /// message: 0.3's version byte, SignalMessage and MAC, or OMEMO 2's
    /// OMEMOAuthenticatedMessage. `identities` are the two identity keys in
    /// the order this version's MAC takes them.
    pub fn encrypt(&mut self, plaintext: &[u8], identities: &[u8]) -> Vec<u8> {
        let header = Header {
            ratchet_pub: self.own.public(),
            pn: self.prev_send,
            n: self.send.len,
        };
        let mut message_key = self.send.step();
        let (mut enc, mut auth, iv) = message_keys(self.version, &message_key);
        message_key.zeroize();
        let ciphertext = aes256_cbc_encrypt(&enc, &iv, plaintext);
        enc.zeroize();
        let out = match self.version {
            Version::Legacy => {
                let mut msg = vec![wire::LEGACY_VERSION_BYTE];
                LegacyMessage {
                    dh_pub: wire::legacy_public(&header.ratchet_pub),
                    n: header.n,
                    pn: header.pn,
                    ciphertext: Some(ciphertext),
                }
                .encode(&mut msg)
                .expect("a Vec grows");
                let mac = hmac_sha256(&auth, &[identities, &msg]);
                msg.extend_from_slice(&mac[..self.version.mac_len()]);
                msg
            }
            Version::V2 => {
                let msg = V2Message {
                    n: header.n,
                    pn: header.pn,
                    dh_pub: header.ratchet_pub.to_vec(),
                    ciphertext: Some(ciphertext),
                }
                .encode_to_vec();
                let mac = hmac_sha256(&auth, &[identities, &msg]);
                V2AuthenticatedMessage {
                    mac: mac[..self.version.mac_len()].to_vec(),
                    message: msg,
                }
                .encode_to_vec()
            }
        };
        auth.zeroize();
        out
    }

    /// Decrypts a whole ratchet message. On any error the state is left as
    /// it was.
    pub fn decrypt(&mut self, message: &[u8], identities: &[u8]) -> Result<Vec<u8>> {
        let parsed = parse(self.version, message)?;
        let h = parsed.header;
        if let Some(i) = self
            .skipped
            .iter()
            .position(|k| k.ratchet_pub == h.ratchet_pub && k.n == h.n)
        {
            let plaintext = open(self.version, &self.skipped[i].key, &parsed, identities)?;
            self.skipped.remove(i);
            return Ok(plaintext);
        }
        let mut next = self.clone();
        let (mut key, skipped) = next.advance(&h)?;
        let plaintext = open(self.version, &key, &parsed, identities);
        key.zeroize();
        let plaintext = plaintext?;
        next.skipped.extend(skipped);
        while next.skipped.len() > MAX_SKIPPED_KEYS {
            next.skipped.pop_front();
        }
        *self = next;
        Ok(plaintext)
    }

    /// Moves the receiving side to the message with header `h`: a DH step
    /// for a new ratchet key, then along the chain. Returns its key and the
    /// keys skipped on the way.
    fn advance(&mut self, h: &Header) -> Result<([u8; 32], Vec<SkippedKey>)> {
        let mut skipped = Vec::new();
        if h.ratchet_pub != self.their {
            if let Some(recv) = self.recv.as_mut() {
                // The rest of the old chain, when it is not absurdly long
                // (then those messages are lost, as in python-doubleratchet).
                let num = h.pn.saturating_sub(recv.len);
                if num <= MAX_SKIP {
                    for _ in 0..num {
                        let n = recv.len;
                        skipped.push(SkippedKey {
                            ratchet_pub: self.their,
                            n,
                            key: recv.step(),
                        });
                    }
                }
            }
            self.their = h.ratchet_pub;
            self.recv = Some(root_step(
                self.version,
                &mut self.root,
                &self.own,
                &self.their,
            )?);
            self.own = KeyPair::generate();
            self.prev_send = self.send.len;
            self.send = root_step(self.version, &mut self.root, &self.own, &self.their)?;
        }
        let their = self.their;
        let recv = self.recv.as_mut().ok_or(Error::Malformed(
            "a message on a chain that was never opened",
        ))?;
        let num = h.n.saturating_sub(recv.len);
        if num > MAX_SKIP {
            return Err(Error::TooManySkipped(MAX_SKIP));
        }
        for _ in 0..num {
            let n = recv.len;
            skipped.push(SkippedKey {
                ratchet_pub: their,
                n,
                key: recv.step(),
            });
        }
        if h.n < recv.len {
            return Err(Error::Duplicate);
        }
        Ok((recv.step(), skipped))
    }
}

fn message_keys(version: Version, message_key: &[u8; 32]) -> ([u8; 32], [u8; 32], [u8; 16]) {
    let mut out = [0u8; 80];
    hkdf_sha256(
        &[0u8; 32],
        message_key,
        version.message_key_info(),
        &mut out,
    );
    let keys = (
        out[..32].try_into().expect("32 bytes"),
        out[32..64].try_into().expect("32 bytes"),
        out[64..].try_into().expect("16 bytes"),
    );
    out.zeroize();
    keys
}

/// Reads a ratchet message's header (not yet authenticated).
fn parse(version: Version, message: &[u8]) -> Result<Parsed> {
    match version {
        Version::Legacy => {
            let mac_len = version.mac_len();
            if message.len() < 1 + mac_len {
                return Err(Error::Malformed("a 0.3 message is too short"));
            }
            let (authenticated, mac) = message.split_at(message.len() - mac_len);
            if authenticated[0] != wire::LEGACY_VERSION_BYTE {
                return Err(Error::Malformed(
                    "a 0.3 message has an unknown version byte",
                ));
            }
            let m: LegacyMessage = wire::decode(&authenticated[1..])?;
            Ok(Parsed {
                header: Header {
                    ratchet_pub: wire::parse_legacy_public(&m.dh_pub)?,
                    pn: m.pn,
                    n: m.n,
                },
                authenticated: authenticated.to_vec(),
                mac: mac.to_vec(),
                ciphertext: m.ciphertext.unwrap_or_default(),
            })
        }
        Version::V2 => {
            let outer: V2AuthenticatedMessage = wire::decode(message)?;
            if outer.mac.len() != version.mac_len() {
                return Err(Error::Malformed("an OMEMO 2 message's MAC is not 16 bytes"));
            }
            let m: V2Message = wire::decode(&outer.message)?;
            Ok(Parsed {
                header: Header {
                    ratchet_pub: wire::parse_public(version, &m.dh_pub)?,
                    pn: m.pn,
                    n: m.n,
                },
                authenticated: outer.message,
                mac: outer.mac,
                ciphertext: m.ciphertext.unwrap_or_default(),
            })
        }
    }
}

/// The header of a ratchet message, for matching a key exchange's first
/// message to the ratchet it starts.
pub fn peek_header(version: Version, message: &[u8]) -> Result<Header> {
    parse(version, message).map(|p| p.header)
}

fn open(
    version: Version,
    message_key: &[u8; 32],
    parsed: &Parsed,
    identities: &[u8],
) -> Result<Vec<u8>> {
    let (mut enc, mut auth, iv) = message_keys(version, message_key);
    let mac = hmac_sha256(&auth, &[identities, &parsed.authenticated]);
    auth.zeroize();
    if !mac_eq(&mac[..version.mac_len()], &parsed.mac) {
        enc.zeroize();
        return Err(Error::Authentication);
    }
    let plaintext = aes256_cbc_decrypt(&enc, &iv, &parsed.ciphertext);
    enc.zeroize();
    plaintext
}

#[cfg(test)]
#[path = "ratchet_tests.rs"]
mod tests;
