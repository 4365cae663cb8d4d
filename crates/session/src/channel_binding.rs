//! Channel-binding data of a TLS connection, for the SCRAM `-PLUS`
//! mechanisms (`scram.rs`):
//!
//! - `tls-exporter` (RFC 9266): 32 bytes of keying material exported
//!   with the label "EXPORTER-Channel-Binding" and an empty context; only
//!   on TLS 1.3 (on 1.2 it would need the extended master secret).
//! - `tls-server-end-point` (RFC 5929 §4.1): the hash of the server's
//!   end-entity certificate, with the hash of the certificate's own
//!   signature algorithm (SHA-256 for MD5 and SHA-1); undefined — `None`
//!   — for algorithms with no single hash (RSASSA-PSS, Ed25519).
//!
//! `tls-unique`, the only type of older servers (ejabberd 23.01, Prosody
//! 0.12), is not available: rustls does not expose the Finished messages,
//! and RFC 9266 forbids it on TLS 1.3.

use sha2::Digest;
use tokio_rustls::rustls::{self, ProtocolVersion};

pub const EXPORTER: &str = "tls-exporter";
pub const END_POINT: &str = "tls-server-end-point";

/// What this connection can bind to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsBindings {
    /// The `tls-exporter` data (TLS 1.3 only).
    pub exporter: Option<Vec<u8>>,
    /// The `tls-server-end-point` data.
    pub end_point: Option<Vec<u8>>,
}

impl TlsBindings {
    /// Reads both from an established client connection.
    pub fn of(conn: &rustls::ClientConnection) -> TlsBindings {
        let exporter = (conn.protocol_version() == Some(ProtocolVersion::TLSv1_3))
            .then(|| {
                conn.export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", Some(&[]))
                    .ok()
            })
            .flatten();
        let end_point = conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| end_point_hash(leaf.as_ref()));
        TlsBindings {
            exporter,
            end_point,
        }
    }

    /// The types we can bind to here, best first.
    pub fn types(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.exporter.is_some() {
            out.push(EXPORTER);
        }
        if self.end_point.is_some() {
            out.push(END_POINT);
        }
        out
    }

    /// The data for `kind` (one of [`TlsBindings::types`]).
    pub fn data(&self, kind: &str) -> Option<&[u8]> {
        match kind {
            EXPORTER => self.exporter.as_deref(),
            END_POINT => self.end_point.as_deref(),
            _ => None,
        }
    }
}

/// One DER TLV: (tag, value, rest).
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The OID of the certificate's `signatureAlgorithm` (DER content bytes).
fn signature_oid(cert: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    let (SEQUENCE, body, _) = tlv(cert)? else {
        return None;
    };
    let (SEQUENCE, _tbs, rest) = tlv(body)? else {
        return None;
    };
    let (SEQUENCE, alg, _) = tlv(rest)? else {
        return None;
    };
    match tlv(alg)? {
        (0x06, oid, _) => Some(oid),
        _ => None,
    }
}

/// RFC 5929 §4.1: the certificate hashed with its signature's hash
/// (MD5 and SHA-1 become SHA-256).
pub fn end_point_hash(cert: &[u8]) -> Option<Vec<u8>> {
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
    let oid = signature_oid(cert)?;
    #[derive(PartialEq)]
    enum H {
        S256,
        S384,
        S512,
        S224,
    }
    let h = if let Some(n) = oid.strip_prefix(RSA) {
        match n {
            [0x04] | [0x05] | [0x0b] => H::S256, // md5, sha1, sha256 WithRSA
            [0x0c] => H::S384,
            [0x0d] => H::S512,
            [0x0e] => H::S224,
            _ => return None, // RSASSA-PSS (0x0a) and others
        }
    } else if let Some(n) = oid.strip_prefix(ECDSA) {
        match n {
            [0x01] | [0x03, 0x02] => H::S256, // ecdsa-with-SHA1, -SHA256
            [0x03, 0x01] => H::S224,
            [0x03, 0x03] => H::S384,
            [0x03, 0x04] => H::S512,
            _ => return None,
        }
    } else {
        return None;
    };
    Some(match h {
        H::S224 => sha2::Sha224::digest(cert).to_vec(),
        H::S256 => sha2::Sha256::digest(cert).to_vec(),
        H::S384 => sha2::Sha384::digest(cert).to_vec(),
        H::S512 => sha2::Sha512::digest(cert).to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    use std::sync::Arc;

    fn der(pem: &str) -> Vec<u8> {
        rustls_pemfile::certs(&mut pem.as_bytes())
            .next()
            .unwrap()
            .unwrap()
            .to_vec()
    }

    /// A self-signed certificate for `localhost` (rcgen: ECDSA P-256 with
    /// SHA-256) and its private key, both PEM.
    fn self_signed() -> (String, String) {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        (c.cert.pem(), c.signing_key.serialize_pem())
    }

    /// Known certificates and their hashes as `openssl x509 -outform der |
    /// openssl dgst -sha256/-sha384` printed them: SHA-1 signatures are
    /// hashed with SHA-256, ECDSA-SHA384 ones with SHA-384.
    #[test]
    fn end_point_uses_the_signature_hash() {
        let sha1 = der(include_str!("testdata/rsa_sha1.pem"));
        assert_eq!(
            B64.encode(end_point_hash(&sha1).unwrap()),
            "np0IOZ+7d3yY67y/L1JOZyoRyhE9jPm2VaBlm5Ue70w="
        );
        let sha384 = der(include_str!("testdata/ec_sha384.pem"));
        assert_eq!(
            B64.encode(end_point_hash(&sha384).unwrap()),
            "Teerk4/9OfH501+9Y671RDI9O178/5Fug0ooq+YxYLUoIoHYWKssrvkXExHq0ail"
        );
        // rcgen's (ECDSA P-256 with SHA-256).
        let (leaf_pem, _) = self_signed();
        let leaf = der(&leaf_pem);
        assert_eq!(
            end_point_hash(&leaf).unwrap(),
            sha2::Sha256::digest(&leaf).to_vec()
        );
        assert_eq!(end_point_hash(b"\x30\x03\x02\x01\x00"), None);
        assert_eq!(end_point_hash(&sha1[..40]), None);
    }

    /// A real rustls client and server, in memory: what the client binds to
    /// is what the server computes with RFC 9266's label, empty context
    /// and length, and the server certificate's hash.
    fn handshake(
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> (rustls::ClientConnection, rustls::ServerConnection, Vec<u8>) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (leaf_pem, key_pem) = self_signed();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der(&leaf_pem).into()).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let leaf = der(&leaf_pem);
        let key = rustls_pemfile::private_key(&mut key_pem.as_bytes())
            .unwrap()
            .unwrap();
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.clone().into()], key)
            .unwrap();
        let mut c =
            rustls::ClientConnection::new(Arc::new(client), "localhost".try_into().unwrap())
                .unwrap();
        let mut s = rustls::ServerConnection::new(Arc::new(server)).unwrap();
        for _ in 0..10 {
            let mut buf = Vec::new();
            while c.wants_write() {
                c.write_tls(&mut buf).unwrap();
            }
            s.read_tls(&mut &buf[..]).unwrap();
            s.process_new_packets().unwrap();
            let mut buf = Vec::new();
            while s.wants_write() {
                s.write_tls(&mut buf).unwrap();
            }
            c.read_tls(&mut &buf[..]).unwrap();
            c.process_new_packets().unwrap();
        }
        assert!(!c.is_handshaking() && !s.is_handshaking());
        (c, s, leaf)
    }

    #[test]
    fn tls_exporter_matches_the_server_on_tls13() {
        let (c, s, leaf) = handshake(&[&rustls::version::TLS13]);
        let b = TlsBindings::of(&c);
        let server = s
            .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", Some(&[]))
            .unwrap();
        assert_eq!(b.exporter.as_deref(), Some(&server[..]));
        assert_eq!(
            b.end_point.as_deref(),
            Some(&sha2::Sha256::digest(&leaf)[..])
        );
        assert_eq!(b.types(), [EXPORTER, END_POINT]);
        assert_eq!(b.data(EXPORTER), Some(&server[..]));
        // Another label would not match (the label is what binds).
        let other = s
            .export_keying_material([0u8; 32], b"EXPORTER-Channel-Bindin", Some(&[]))
            .unwrap();
        assert_ne!(b.exporter.as_deref(), Some(&other[..]));
    }

    #[test]
    fn no_exporter_on_tls12() {
        let (c, _s, leaf) = handshake(&[&rustls::version::TLS12]);
        let b = TlsBindings::of(&c);
        assert_eq!(b.exporter, None);
        assert_eq!(b.types(), [END_POINT]);
        assert_eq!(b.data(END_POINT), Some(&sha2::Sha256::digest(&leaf)[..]));
        assert_eq!(b.data("tls-unique"), None);
    }
}
