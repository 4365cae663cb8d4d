//! Keys: the device's identity key, X25519 pairs (prekeys, ratchet keys),
//! and the conversions between the Edwards and Montgomery forms.
//!
//! The identity key is an Ed25519 seed, as in python-omemo: OMEMO 2
//! publishes its Ed25519 public key, OMEMO 0.3 the Montgomery (Curve25519)
//! form of the same point, and both use the clamped secret scalar for
//! X25519. A 0.3 signature verifies against the Edwards point recovered
//! from the Curve25519 key, whose lost sign bit libsignal carries in the
//! top bit of the signature's last byte (XEdDSA-compatible: a signer whose
//! point has sign 0 leaves it clear).

use curve25519_dalek::montgomery::MontgomeryPoint;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Error, Result, random_bytes};

/// This device's long-term identity.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct IdentityKeyPair {
    seed: [u8; 32],
}

impl std::fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdentityKeyPair({})", hex(&self.ed25519_public()))
    }
}

impl IdentityKeyPair {
    pub fn generate() -> Self {
        Self {
            seed: random_bytes(),
        }
    }
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { seed }
    }
    fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(&self.seed)
    }
    /// The Ed25519 public key (OMEMO 2's `ik`).
    pub fn ed25519_public(&self) -> [u8; 32] {
        self.signing_key().verifying_key().to_bytes()
    }
    /// The Curve25519 public key (OMEMO 0.3's `identityKey`, without the
    /// 0x05 type byte).
    pub fn curve25519_public(&self) -> [u8; 32] {
        self.signing_key()
            .verifying_key()
            .to_montgomery()
            .to_bytes()
    }
    /// The X25519 secret scalar of the same key.
    pub(crate) fn x25519_secret(&self) -> KeyPair {
        KeyPair {
            secret: self.signing_key().to_scalar_bytes(),
        }
    }
    /// An Ed25519 signature (OMEMO 2).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing_key().sign(message).to_bytes()
    }
    /// A signature in libsignal's form for the Curve25519 key: Ed25519,
    /// with the Edwards point's sign bit in the top bit of byte 63 (always
    /// clear in a valid Ed25519 signature, as s < 2^253).
    pub fn sign_legacy(&self, message: &[u8]) -> [u8; 64] {
        let mut sig = self.sign(message);
        sig[63] |= self.ed25519_public()[31] & 0x80;
        sig
    }
}

/// Verifies an Ed25519 signature (OMEMO 2).
pub fn verify(ed25519_public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(ed25519_public) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(signature))
        .is_ok()
}

/// Verifies a libsignal/XEdDSA signature made for a Curve25519 key.
pub fn verify_legacy(curve25519_public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let sign = signature[63] >> 7;
    let mut sig = *signature;
    sig[63] &= 0x7f;
    match curve_to_ed(curve25519_public, sign) {
        Some(ed) => verify(&ed, message, &sig),
        None => false,
    }
}

/// The Montgomery u-coordinate of an Ed25519 public key.
pub fn ed_to_curve(ed25519_public: &[u8; 32]) -> Option<[u8; 32]> {
    VerifyingKey::from_bytes(ed25519_public)
        .ok()
        .map(|k| k.to_montgomery().to_bytes())
}

/// The Ed25519 point with u-coordinate `curve25519_public` and the given
/// sign (0 or 1); None on the twist.
pub fn curve_to_ed(curve25519_public: &[u8; 32], sign: u8) -> Option<[u8; 32]> {
    MontgomeryPoint(*curve25519_public)
        .to_edwards(sign)
        .map(|p| p.compress().to_bytes())
}

/// An X25519 key pair: a prekey, a signed prekey, a ratchet key.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct KeyPair {
    secret: [u8; 32],
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", hex(&self.public()))
    }
}

impl KeyPair {
    pub fn generate() -> Self {
        Self {
            secret: random_bytes(),
        }
    }
    /// The public key: the clamped secret times the base point, by the
    /// fixed-base table (what `x25519(secret, 9)` gives, about a sixth of
    /// its work: a login publishes a bundle of 100 prekeys).
    pub fn public(&self) -> [u8; 32] {
        curve25519_dalek::MontgomeryPoint::mul_base_clamped(self.secret).to_bytes()
    }
    /// X25519 with `their_public`; the all-zero result of a low-order
    /// point is refused.
    pub fn agree(&self, their_public: &[u8; 32]) -> Result<[u8; 32]> {
        let shared = x25519_dalek::x25519(self.secret, *their_public);
        if shared == [0u8; 32] {
            return Err(Error::WeakKey);
        }
        Ok(shared)
    }
}

/// Lower-case hex, for fingerprints and debugging output of public keys.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fingerprint users compare: the identity key's public form in the
/// version's own encoding, as hex in groups of eight (Conversations and Dino
/// show 0.3's Curve25519 key without the 0x05 byte; OMEMO 2 the Ed25519 key).
pub fn fingerprint(public: &[u8; 32]) -> String {
    let h = hex(public);
    h.as_bytes()
        .chunks(8)
        .map(|c| std::str::from_utf8(c).expect("hex is ASCII"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        let v: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect();
        v.try_into().unwrap()
    }

    /// RFC 7748 §6.1: Alice's and Bob's keys and their shared secret.
    #[test]
    fn x25519_rfc7748_section_6_1() {
        let alice = KeyPair {
            secret: unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
        };
        let bob = KeyPair {
            secret: unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"),
        };
        assert_eq!(
            alice.public(),
            unhex::<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        assert_eq!(
            bob.public(),
            unhex::<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        );
        let shared =
            unhex::<32>("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(alice.agree(&bob.public()).unwrap(), shared);
        assert_eq!(bob.agree(&alice.public()).unwrap(), shared);
    }

    /// The fixed-base public key is X25519 of the base point, for any
    /// secret (clamping included: the top and low bits set at random).
    #[test]
    fn public_is_x25519_of_the_base_point() {
        for _ in 0..64 {
            let k = KeyPair::generate();
            assert_eq!(
                k.public(),
                x25519_dalek::x25519(k.secret, x25519_dalek::X25519_BASEPOINT_BYTES)
            );
        }
    }

    #[test]
    fn low_order_point_refused() {
        let k = KeyPair::generate();
        assert_eq!(k.agree(&[0u8; 32]), Err(Error::WeakKey));
    }

    /// RFC 8032 §7.1 test 1: the seed's public key, and that the identity's
    /// X25519 scalar matches the Montgomery form of that key.
    #[test]
    fn identity_forms_agree() {
        let id = IdentityKeyPair::from_seed(unhex(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        ));
        assert_eq!(
            id.ed25519_public(),
            unhex::<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
        assert_eq!(id.x25519_secret().public(), id.curve25519_public());
        assert_eq!(
            ed_to_curve(&id.ed25519_public()),
            Some(id.curve25519_public())
        );
        let sign = id.ed25519_public()[31] >> 7;
        assert_eq!(
            curve_to_ed(&id.curve25519_public(), sign),
            Some(id.ed25519_public())
        );
    }

    #[test]
    fn legacy_signatures_carry_the_sign_bit() {
        // Until both signs of the Edwards point occurred (each is 1/2).
        let mut signs = [false; 2];
        for _ in 0..200 {
            if signs == [true, true] {
                break;
            }
            let id = IdentityKeyPair::generate();
            signs[(id.ed25519_public()[31] >> 7) as usize] = true;
            let msg = b"\x05signed prekey";
            let sig = id.sign_legacy(msg);
            assert!(verify_legacy(&id.curve25519_public(), msg, &sig));
            assert!(!verify_legacy(&id.curve25519_public(), b"\x05other", &sig));
            let mut flipped = sig;
            flipped[63] ^= 0x80;
            assert!(!verify_legacy(&id.curve25519_public(), msg, &flipped));
            assert!(verify(&id.ed25519_public(), msg, &id.sign(msg)));
        }
        assert_eq!(signs, [true, true]);
    }

    /// Signatures made by libxeddsa (python-xeddsa 1.2.0, which python-oldmemo
    /// uses) with a fixed nonce over 0x05 ‖ 32×0x42, for the clamped private
    /// keys 0..32 and 100..132, whose Edwards forms have sign 0 and 1:
    /// XEdDSA proper (sign forced to 0) and libsignal's form as
    /// python-oldmemo publishes it (the sign bit in byte 63; for sign 0 the
    /// two are the same).
    #[test]
    fn libxeddsa_vectors() {
        let mut msg = vec![0x05];
        msg.extend_from_slice(&[0x42; 32]);
        let cases: [(&str, &str, &str); 2] = [
            (
                "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f",
                "f1f7602c430b0ce9ae9424dfacd50318f273f76927e1dfc078ca7a03d2c99f251a67fd31b0d542a0858105820c3489660b9bb70e2f6a4c2b44732b67661ffb0c",
                "f1f7602c430b0ce9ae9424dfacd50318f273f76927e1dfc078ca7a03d2c99f251a67fd31b0d542a0858105820c3489660b9bb70e2f6a4c2b44732b67661ffb0c",
            ),
            (
                "7d9c24316539825c1896e57f28197746793ce60cbee3ad47da9d07b85fa55e2a",
                "ebe813a8041f9847a04e7cadf6b20d8dab396df743f17b72f4fc76a26a9b467fd42fa1161b2a9e4b50b372ac14f58d470e0edbb814e96f77b7e70c0a66abd200",
                "855a21cf1816b0a55bf33c3efc86fa4eea65836d4ad1ffad8cce35e0ef6246c4a3a2aa5addec2e3c5852ba5cf6494dd86c18cb2accce31e47a2d3f4da540ab89",
            ),
        ];
        for (public, xeddsa, libsignal) in cases {
            let public = unhex::<32>(public);
            for sig in [unhex::<64>(xeddsa), unhex::<64>(libsignal)] {
                assert!(verify_legacy(&public, &msg, &sig));
                let mut bad = sig;
                bad[10] ^= 1;
                assert!(!verify_legacy(&public, &msg, &bad));
                assert!(!verify_legacy(&public, &msg[1..], &sig));
            }
        }
    }

    #[test]
    fn fingerprint_is_grouped_hex() {
        assert_eq!(fingerprint(&[0xab; 32]).len(), 64 + 7);
        assert!(fingerprint(&[0xab; 32]).starts_with("abababab abababab"));
    }
}
