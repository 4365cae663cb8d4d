//! The message body's encryption, whose key travels in the per-device key
//! elements.
//!
//! 0.3: AES-128-GCM under a random key and 12-byte IV; the key element
//! carries key ‖ 16-byte tag, the payload the ciphertext without the tag.
//! OMEMO 2: a random 32-byte key; HKDF-SHA-256(salt = 32 zero bytes,
//! info = "OMEMO Payload") → AES-256 key ‖ HMAC key ‖ IV; AES-256-CBC
//! with PKCS#7; the key element carries key ‖ HMAC-SHA-256(ciphertext)
//! truncated to 16 bytes. OMEMO 2's plaintext is the XEP-0420 envelope
//! (built by confab-proto), 0.3's the body text.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes128;
use aes_gcm::{AesGcm, Nonce};
use zeroize::Zeroize;

use crate::kdf::{hkdf_sha256, hmac_sha256, mac_eq};
use crate::{Error, Result, Version, random_bytes};

type Aes128Gcm12 = AesGcm<Aes128, aes_gcm::aead::consts::U12>;
type Aes128Gcm16 = AesGcm<Aes128, aes_gcm::aead::consts::U16>;

pub(crate) fn aes256_cbc_encrypt(key: &[u8; 32], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<aes::Aes256>::new(key.into(), iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plaintext)
}

pub(crate) fn aes256_cbc_decrypt(
    key: &[u8; 32],
    iv: &[u8; 16],
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    cbc::Decryptor::<aes::Aes256>::new(key.into(), iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .map_err(|_| Error::Malformed("the AES-CBC padding is wrong"))
}

/// An encrypted message body and the key material for the key elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encrypted {
    /// 0.3: the 12-byte IV of the `<iv>` element; OMEMO 2: empty.
    pub iv: Vec<u8>,
    pub ciphertext: Vec<u8>,
    /// What the ratchet encrypts for each device (0.3: 32 bytes, 2: 48).
    pub key_material: Vec<u8>,
}

/// The largest payload accepted for decryption (a message body; files go
/// by upload). XMPP servers cap stanzas well below this.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Encrypts a message body.
pub fn encrypt(version: Version, plaintext: &[u8]) -> Encrypted {
    match version {
        Version::Legacy => {
            let mut key: [u8; 16] = random_bytes();
            let iv: [u8; 12] = random_bytes();
            let mut sealed = Aes128Gcm12::new((&key).into())
                .encrypt(Nonce::from_slice(&iv), plaintext)
                .expect("AES-GCM encrypts any message under 64 GiB");
            let tag = sealed.split_off(sealed.len() - 16);
            let mut key_material = key.to_vec();
            key_material.extend_from_slice(&tag);
            key.zeroize();
            Encrypted {
                iv: iv.to_vec(),
                ciphertext: sealed,
                key_material,
            }
        }
        Version::V2 => {
            let mut key: [u8; 32] = random_bytes();
            let (mut enc, mut auth, iv) = v2_keys(&key);
            let ciphertext = aes256_cbc_encrypt(&enc, &iv, plaintext);
            let tag = hmac_sha256(&auth, &[&ciphertext]);
            let mut key_material = key.to_vec();
            key_material.extend_from_slice(&tag[..16]);
            key.zeroize();
            enc.zeroize();
            auth.zeroize();
            Encrypted {
                iv: Vec::new(),
                ciphertext,
                key_material,
            }
        }
    }
}

fn v2_keys(key: &[u8]) -> ([u8; 32], [u8; 32], [u8; 16]) {
    let mut out = [0u8; 80];
    hkdf_sha256(&[0u8; 32], key, b"OMEMO Payload", &mut out);
    let keys = (
        out[..32].try_into().expect("32 bytes"),
        out[32..64].try_into().expect("32 bytes"),
        out[64..].try_into().expect("16 bytes"),
    );
    out.zeroize();
    keys
}

/// Decrypts a message body with the key material from this device's key
/// element.
pub fn decrypt(
    version: Version,
    key_material: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    if ciphertext.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::Malformed("an OMEMO payload is too large"));
    }
    match version {
        Version::Legacy => {
            // key ‖ tag; some old clients sent a 16-byte IV.
            if key_material.len() != 32 {
                return Err(Error::Malformed(
                    "0.3 key material is not a 16-byte key and a 16-byte tag",
                ));
            }
            let (key, tag) = key_material.split_at(16);
            let mut sealed = ciphertext.to_vec();
            sealed.extend_from_slice(tag);
            let payload = Payload {
                msg: &sealed,
                aad: b"",
            };
            let opened = match iv.len() {
                12 => Aes128Gcm12::new(key.into()).decrypt(Nonce::from_slice(iv), payload),
                16 => Aes128Gcm16::new(key.into()).decrypt(iv.into(), payload),
                _ => return Err(Error::Malformed("a 0.3 IV is neither 12 nor 16 bytes")),
            };
            opened.map_err(|_| Error::Authentication)
        }
        Version::V2 => {
            if key_material.len() != 48 {
                return Err(Error::Malformed(
                    "OMEMO 2 key material is not a 32-byte key and a 16-byte tag",
                ));
            }
            let (key, tag) = key_material.split_at(32);
            let (mut enc, mut auth, iv) = v2_keys(key);
            let expected = hmac_sha256(&auth, &[ciphertext]);
            auth.zeroize();
            if !mac_eq(&expected[..16], tag) {
                enc.zeroize();
                return Err(Error::Authentication);
            }
            let plaintext = aes256_cbc_decrypt(&enc, &iv, ciphertext);
            enc.zeroize();
            plaintext
        }
    }
}

/// Key material for an empty OMEMO message (a key transport or heartbeat:
/// no payload, only the ratchet moves): 0.3 sends a random 16-byte key
/// with no tag, OMEMO 2 32 zero bytes.
pub fn empty_key_material(version: Version) -> Vec<u8> {
    match version {
        Version::Legacy => random_bytes::<16>().to_vec(),
        Version::V2 => vec![0u8; 32],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_both_versions() {
        for version in [Version::Legacy, Version::V2] {
            let e = encrypt(version, "héllo ✓".as_bytes());
            assert_eq!(
                decrypt(version, &e.key_material, &e.iv, &e.ciphertext).unwrap(),
                "héllo ✓".as_bytes()
            );
            let mut ct = e.ciphertext.clone();
            ct[0] ^= 1;
            assert_eq!(
                decrypt(version, &e.key_material, &e.iv, &ct),
                Err(Error::Authentication)
            );
            let mut km = e.key_material.clone();
            let last = km.len() - 1;
            km[last] ^= 1;
            assert_eq!(
                decrypt(version, &km, &e.iv, &e.ciphertext),
                Err(Error::Authentication)
            );
            assert!(decrypt(version, &km[1..], &e.iv, &e.ciphertext).is_err());
        }
        let e = encrypt(Version::Legacy, b"x");
        assert_eq!((e.iv.len(), e.key_material.len()), (12, 32));
        assert_eq!(encrypt(Version::V2, b"x").key_material.len(), 48);
    }

    /// NIST's GCM test case 2 (AES-128, zero key and IV, one zero block),
    /// through the 0.3 split of key ‖ tag and ciphertext.
    #[test]
    fn gcm_published_vector() {
        let mut km = vec![0u8; 16];
        km.extend(unhex("ab6e47d42cec13bdf53a67b21257bddf"));
        let ct = unhex("0388dace60b6a392f328c2b971b2fe78");
        assert_eq!(
            decrypt(Version::Legacy, &km, &[0u8; 12], &ct).unwrap(),
            vec![0u8; 16]
        );
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
