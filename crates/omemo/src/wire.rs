//! The protobuf messages of both versions, written out as prost structs
//! (no protoc at build time). Field numbers from libsignal's
//! WhisperTextProtocol.proto (0.3) and XEP-0384's schema (OMEMO 2); fields
//! are declared in tag order, which is how they are encoded.

use prost::Message;

use crate::{Error, Result, Version};

/// 0.3's SignalMessage. On the wire: the version byte 0x33, this message,
/// then the 8-byte truncated MAC.
#[derive(Clone, PartialEq, Message)]
pub struct LegacyMessage {
    /// The sender's ratchet key, 0x05 + 32 bytes.
    #[prost(bytes = "vec", required, tag = "1")]
    pub dh_pub: Vec<u8>,
    #[prost(uint32, required, tag = "2")]
    pub n: u32,
    #[prost(uint32, required, tag = "3")]
    pub pn: u32,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub ciphertext: Option<Vec<u8>>,
}

/// 0.3's PreKeySignalMessage. On the wire: 0x33, then this message.
#[derive(Clone, PartialEq, Message)]
pub struct LegacyKeyExchange {
    #[prost(uint32, required, tag = "1")]
    pub pk_id: u32,
    /// The initiator's ephemeral key, 0x05 + 32 bytes.
    #[prost(bytes = "vec", required, tag = "2")]
    pub ek: Vec<u8>,
    /// The initiator's identity key, 0x05 + 32 bytes (Curve25519).
    #[prost(bytes = "vec", required, tag = "3")]
    pub ik: Vec<u8>,
    /// A whole 0.3 ratchet message (version byte, message, MAC).
    #[prost(bytes = "vec", required, tag = "4")]
    pub message: Vec<u8>,
    /// libsignal's registration id; OMEMO leaves it out.
    #[prost(uint32, optional, tag = "5")]
    pub unused: Option<u32>,
    #[prost(uint32, required, tag = "6")]
    pub spk_id: u32,
}

/// OMEMO 2's OMEMOMessage.
#[derive(Clone, PartialEq, Message)]
pub struct V2Message {
    #[prost(uint32, required, tag = "1")]
    pub n: u32,
    #[prost(uint32, required, tag = "2")]
    pub pn: u32,
    #[prost(bytes = "vec", required, tag = "3")]
    pub dh_pub: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub ciphertext: Option<Vec<u8>>,
}

/// OMEMO 2's OMEMOAuthenticatedMessage: the MAC and the serialized
/// [`V2Message`] it covers.
#[derive(Clone, PartialEq, Message)]
pub struct V2AuthenticatedMessage {
    #[prost(bytes = "vec", required, tag = "1")]
    pub mac: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub message: Vec<u8>,
}

/// OMEMO 2's OMEMOKeyExchange.
#[derive(Clone, PartialEq, Message)]
pub struct V2KeyExchange {
    #[prost(uint32, required, tag = "1")]
    pub pk_id: u32,
    #[prost(uint32, required, tag = "2")]
    pub spk_id: u32,
    /// The initiator's Ed25519 identity key.
    #[prost(bytes = "vec", required, tag = "3")]
    pub ik: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "4")]
    pub ek: Vec<u8>,
    #[prost(message, required, tag = "5")]
    pub message: V2AuthenticatedMessage,
}

/// 0.3's version byte ((3 << 4) | 3) before every message.
pub const LEGACY_VERSION_BYTE: u8 = 0x33;
/// 0.3's public key type byte (DJB) before every public key.
pub const LEGACY_KEY_TYPE: u8 = 0x05;

/// A public key in 0.3's encoding: 0x05 + 32 bytes.
pub fn legacy_public(key: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(33);
    out.push(LEGACY_KEY_TYPE);
    out.extend_from_slice(key);
    out
}

/// Reads a 0.3-encoded public key. Some clients have published keys
/// without the type byte; 32 bytes are taken as they are.
pub fn parse_legacy_public(bytes: &[u8]) -> Result<[u8; 32]> {
    match bytes {
        [LEGACY_KEY_TYPE, rest @ ..] if rest.len() == 32 => Ok(rest.try_into().expect("32 bytes")),
        _ if bytes.len() == 32 => Ok(bytes.try_into().expect("32 bytes")),
        _ => Err(Error::Malformed(
            "a public key is not 33 bytes with the 0x05 type",
        )),
    }
}

/// A public key as the version encodes it in messages.
pub fn encode_public(version: Version, key: &[u8; 32]) -> Vec<u8> {
    match version {
        Version::Legacy => legacy_public(key),
        Version::V2 => key.to_vec(),
    }
}

/// Reads a public key as the version encodes it.
pub fn parse_public(version: Version, bytes: &[u8]) -> Result<[u8; 32]> {
    match version {
        Version::Legacy => parse_legacy_public(bytes),
        Version::V2 => bytes
            .try_into()
            .map_err(|_| Error::Malformed("a public key is not 32 bytes")),
    }
}

/// Decodes a protobuf, refusing what is larger than any OMEMO message has
/// a reason to be (the key element carries 32–48 bytes of key material).
pub(crate) fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(Error::Malformed("an OMEMO key message is too large"));
    }
    M::decode(bytes).map_err(|_| Error::Malformed("an OMEMO protobuf does not parse"))
}

/// The largest key exchange or ratchet message accepted. A real one is
/// under 300 bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes python-oldmemo (google.protobuf) produces for
    /// OMEMOMessage(n=0, pn=0, dh_pub=0x05 + 32*0x01): required zero
    /// fields are present, fields in tag order.
    #[test]
    fn required_zero_fields_are_encoded() {
        let m = LegacyMessage {
            dh_pub: legacy_public(&[1; 32]),
            n: 0,
            pn: 0,
            ciphertext: None,
        };
        let mut expected = vec![0x0a, 33, 0x05];
        expected.extend_from_slice(&[1; 32]);
        expected.extend_from_slice(&[0x10, 0, 0x18, 0]);
        assert_eq!(m.encode_to_vec(), expected);
        let v2 = V2Message {
            n: 1,
            pn: 2,
            dh_pub: vec![7; 32],
            ciphertext: Some(vec![9]),
        };
        let bytes = v2.encode_to_vec();
        assert_eq!(&bytes[..6], &[0x08, 1, 0x10, 2, 0x1a, 32]);
        assert_eq!(decode::<V2Message>(&bytes).unwrap(), v2);
    }

    #[test]
    fn public_key_encodings() {
        assert_eq!(
            parse_legacy_public(&legacy_public(&[3; 32])).unwrap(),
            [3; 32]
        );
        assert_eq!(parse_legacy_public(&[3; 32]).unwrap(), [3; 32]);
        assert!(parse_legacy_public(&[6; 33]).is_err());
        assert!(parse_public(Version::V2, &[1; 33]).is_err());
        assert!(decode::<V2Message>(&vec![0; MAX_MESSAGE_BYTES + 1]).is_err());
    }
}
