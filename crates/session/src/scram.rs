//! confab's SCRAM client (RFC 5802, RFC 7677 and SHA-512), with channel
//! binding for the `-PLUS` variants and XEP-0474 downgrade protection.
//!
//! Our own rather than the `sasl` crate's client, which knows no
//! `tls-server-end-point`, does not check that the server's nonce extends
//! ours and ignores the server-first message's extra attributes. The hash
//! functions and PBKDF2 are still the crate's providers (and our
//! [`super::sasl::Sha512`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sasl::common::Password;
use sasl::common::scram::{DeriveError, ScramProvider, Sha1, Sha256};

use super::sasl::Sha512;

/// The hash of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha512,
}

impl Hash {
    /// Best first.
    pub const ALL: [Hash; 3] = [Hash::Sha512, Hash::Sha256, Hash::Sha1];

    /// The mechanism's name, e.g. `SCRAM-SHA-256-PLUS`.
    pub fn mechanism(self, plus: bool) -> &'static str {
        match (self, plus) {
            (Hash::Sha512, false) => "SCRAM-SHA-512",
            (Hash::Sha512, true) => "SCRAM-SHA-512-PLUS",
            (Hash::Sha256, false) => "SCRAM-SHA-256",
            (Hash::Sha256, true) => "SCRAM-SHA-256-PLUS",
            (Hash::Sha1, false) => "SCRAM-SHA-1",
            (Hash::Sha1, true) => "SCRAM-SHA-1-PLUS",
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::hash(data),
            Hash::Sha256 => Sha256::hash(data),
            Hash::Sha512 => Sha512::hash(data),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::hmac(data, key),
            Hash::Sha256 => Sha256::hmac(data, key),
            Hash::Sha512 => Sha512::hmac(data, key),
        }
        .expect("HMAC takes keys of any length")
    }

    fn salted(self, password: &str, salt: &[u8], iterations: u32) -> Result<Vec<u8>, DeriveError> {
        let p = Password::Plain(password.to_string());
        match self {
            Hash::Sha1 => Sha1::derive(&p, salt, iterations),
            Hash::Sha256 => Sha256::derive(&p, salt, iterations),
            Hash::Sha512 => Sha512::derive(&p, salt, iterations),
        }
    }
}

/// The GS2 channel-binding flag (RFC 5802 §5.1, §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    /// `n`: we do not bind (or share no binding type with the server).
    No,
    /// `y`: we could bind, but the server seems not to support it.
    NotOffered,
    /// `p=TYPE`: binding to this connection with TYPE's data.
    Bind(&'static str, Vec<u8>),
}

impl Flag {
    pub fn gs2_header(&self) -> String {
        match self {
            Flag::No => "n,,".into(),
            Flag::NotOffered => "y,,".into(),
            Flag::Bind(kind, _) => format!("p={kind},,"),
        }
    }

    /// The `c=` value: base64 of the GS2 header and the binding data.
    pub fn c_attribute(&self) -> String {
        let mut input = self.gs2_header().into_bytes();
        if let Flag::Bind(_, data) = self {
            input.extend_from_slice(data);
        }
        B64.encode(input)
    }
}

/// XEP-0474 §5.1 (0.4.0+): the advertised mechanisms sorted by octet and
/// joined by 0x1E, then, if XEP-0440 was used, 0x1F and the channel-binding
/// types sorted and joined by 0x1E; hashed with the mechanism's hash.
pub fn ssdp_hash(hash: Hash, mechanisms: &[String], cb_types: Option<&[String]>) -> String {
    let sorted = |l: &[String]| {
        let mut v = l.to_vec();
        v.sort();
        v.dedup();
        v.join("\u{1e}")
    };
    let mut s = sorted(mechanisms);
    if let Some(types) = cb_types {
        s.push('\u{1f}');
        s.push_str(&sorted(types));
    }
    B64.encode(hash.digest(s.as_bytes()))
}

/// Why the exchange failed on our side. (The login's error says more:
/// `sasl.rs` words each with the offer it concerns.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    /// The server's message is not SCRAM (or breaks a rule).
    #[error("{0}")]
    Malformed(String),
    /// XEP-0474: the server's hash of what it offered is not that of what
    /// we saw.
    #[error("the server's SCRAM downgrade protection (XEP-0474) does not match what we saw")]
    Downgrade,
    /// The server's final message has no `v=`.
    #[error("the server's signature is missing")]
    SignatureMissing,
    /// The server's final message has the wrong `v=`.
    #[error("the server's signature is wrong")]
    SignatureWrong,
    /// The server's final message came before ours.
    #[error("the server's final message came before ours")]
    TooEarly,
}

enum State {
    Start,
    SentFirst,
    SentFinal { server_signature: Vec<u8> },
}

/// One SCRAM exchange.
pub struct Scram {
    hash: Hash,
    flag: Flag,
    user: String,
    password: String,
    nonce: String,
    /// The XEP-0474 hash of what the stream features offered.
    ssdp: String,
    state: State,
    first_bare: String,
}

/// `=` and `,` escaped in a SCRAM username (RFC 5802 §5.1).
fn escape(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

fn attributes(text: &str) -> Vec<(&str, &str)> {
    text.split(',').filter_map(|a| a.split_once('=')).collect()
}

impl Scram {
    pub fn new(hash: Hash, flag: Flag, user: &str, password: &str, ssdp: String) -> Scram {
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw).expect("the OS random source works");
        Scram::with_nonce(hash, flag, user, password, ssdp, B64.encode(raw))
    }

    fn with_nonce(
        hash: Hash,
        flag: Flag,
        user: &str,
        password: &str,
        ssdp: String,
        nonce: String,
    ) -> Scram {
        Scram {
            hash,
            flag,
            user: user.to_string(),
            password: password.to_string(),
            nonce,
            ssdp,
            state: State::Start,
            first_bare: String::new(),
        }
    }

    /// The client-first message.
    pub fn initial(&mut self) -> Vec<u8> {
        self.first_bare = format!("n={},r={}", escape(&self.user), self.nonce);
        self.state = State::SentFirst;
        format!("{}{}", self.flag.gs2_header(), self.first_bare).into_bytes()
    }

    /// The client-final message for the server-first message.
    pub fn response(&mut self, server_first: &[u8]) -> Result<Vec<u8>, ScramError> {
        if !matches!(self.state, State::SentFirst) {
            return Err(ScramError::Malformed(
                "a second server-first message".into(),
            ));
        }
        let text = std::str::from_utf8(server_first)
            .map_err(|_| ScramError::Malformed("server-first is not UTF-8".into()))?;
        let attrs = attributes(text);
        let get = |k: &str| attrs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        if let Some(m) = get("m") {
            return Err(ScramError::Malformed(format!(
                "unsupported mandatory extension m={m}"
            )));
        }
        let nonce = get("r").ok_or(ScramError::Malformed("no nonce".into()))?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(ScramError::Malformed(
                "the server's nonce does not extend ours".into(),
            ));
        }
        let salt = get("s")
            .and_then(|s| B64.decode(s).ok())
            .ok_or(ScramError::Malformed("no salt".into()))?;
        let iterations: u32 = get("i")
            .and_then(|i| i.parse().ok())
            .filter(|i| *i > 0)
            .ok_or(ScramError::Malformed("no iteration count".into()))?;
        // XEP-0474: checked before anything of ours depends on it.
        if let Some(h) = get("h")
            && h != self.ssdp
        {
            return Err(ScramError::Downgrade);
        }
        let without_proof = format!("c={},r={nonce}", self.flag.c_attribute());
        let salted = self
            .hash
            .salted(&self.password, &salt, iterations)
            .map_err(|e| ScramError::Malformed(e.to_string()))?;
        let client_key = self.hash.hmac(&salted, b"Client Key");
        let server_key = self.hash.hmac(&salted, b"Server Key");
        let stored_key = self.hash.digest(&client_key);
        let auth_message = format!("{},{text},{without_proof}", self.first_bare);
        let client_signature = self.hash.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(a, b)| a ^ b)
            .collect();
        self.state = State::SentFinal {
            server_signature: self.hash.hmac(&server_key, auth_message.as_bytes()),
        };
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    /// Checks the server-final message (`v=` the server signature).
    pub fn verify(&self, server_final: &[u8]) -> Result<(), ScramError> {
        let State::SentFinal { server_signature } = &self.state else {
            return Err(ScramError::TooEarly);
        };
        let text = String::from_utf8_lossy(server_final);
        let v = attributes(&text)
            .into_iter()
            .find(|(k, _)| *k == "v")
            .and_then(|(_, v)| B64.decode(v).ok());
        match v {
            None => Err(ScramError::SignatureMissing),
            Some(v) if v == *server_signature => Ok(()),
            Some(_) => Err(ScramError::SignatureWrong),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5802 §5's example (SCRAM-SHA-1, user "user", password "pencil").
    #[test]
    fn rfc5802_example() {
        let mut c = Scram::with_nonce(
            Hash::Sha1,
            Flag::No,
            "user",
            "pencil",
            String::new(),
            "fyko+d2lbbFgONRv9qkxdawL".into(),
        );
        assert_eq!(c.initial(), b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        let fin = c
            .response(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
            .unwrap();
        assert_eq!(
            String::from_utf8(fin).unwrap(),
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        c.verify(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap();
        assert_eq!(
            c.verify(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            Err(ScramError::SignatureWrong)
        );
        assert_eq!(c.verify(b""), Err(ScramError::SignatureMissing));
    }

    /// RFC 7677 §3's example (SCRAM-SHA-256).
    #[test]
    fn rfc7677_example() {
        let mut c = Scram::with_nonce(
            Hash::Sha256,
            Flag::No,
            "user",
            "pencil",
            String::new(),
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        c.initial();
        let fin = c
            .response(
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                  s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(fin).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        c.verify(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
    }

    #[test]
    fn gs2_headers_and_c_attribute() {
        assert_eq!(Flag::No.gs2_header(), "n,,");
        assert_eq!(Flag::No.c_attribute(), "biws");
        assert_eq!(Flag::NotOffered.gs2_header(), "y,,");
        assert_eq!(Flag::NotOffered.c_attribute(), "eSws");
        let f = Flag::Bind("tls-exporter", b"THIS IS FAKE CB DATA".to_vec());
        assert_eq!(f.gs2_header(), "p=tls-exporter,,");
        // XEP-0474's example client-final: c=base64("p=tls-exporter,," +
        // the binding data).
        assert_eq!(
            f.c_attribute(),
            "cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB"
        );
        let f = Flag::Bind("tls-server-end-point", vec![0xff, 0x00]);
        assert_eq!(f.gs2_header(), "p=tls-server-end-point,,");
        assert_eq!(
            B64.decode(f.c_attribute()).unwrap(),
            b"p=tls-server-end-point,,\xff\x00"
        );
        let mut c = Scram::new(Hash::Sha256, f, "a,b=c", "p", String::new());
        let first = String::from_utf8(c.initial()).unwrap();
        assert!(
            first.starts_with("p=tls-server-end-point,,n=a=2Cb=3Dc,r="),
            "{first}"
        );
    }

    /// XEP-0474's example: `h` of SHA-1 over
    /// "SCRAM-SHA-1␞SCRAM-SHA-1-PLUS␟tls-exporter␞tls-server-end-point".
    #[test]
    fn ssdp_hash_matches_the_xep_example() {
        let m = ["SCRAM-SHA-1-PLUS".to_string(), "SCRAM-SHA-1".to_string()];
        let cb = [
            "tls-server-end-point".to_string(),
            "tls-exporter".to_string(),
        ];
        assert_eq!(
            ssdp_hash(Hash::Sha1, &m, Some(&cb)),
            "G6k/rBLDqgOhRRaCuuatSDFkJ08="
        );
        // Without XEP-0440 there is no 0x1F part.
        assert_ne!(
            ssdp_hash(Hash::Sha1, &m, Some(&[])),
            ssdp_hash(Hash::Sha1, &m, None)
        );
        assert_eq!(
            ssdp_hash(Hash::Sha256, &m[1..], None),
            B64.encode(Hash::Sha256.digest(b"SCRAM-SHA-1"))
        );
    }

    fn started(ssdp: &str) -> Scram {
        let mut c = Scram::with_nonce(
            Hash::Sha1,
            Flag::NotOffered,
            "user",
            "pencil",
            ssdp.into(),
            "abc".into(),
        );
        c.initial();
        c
    }

    #[test]
    fn server_first_rules() {
        let ok = "r=abcdef,s=QSXCR+Q6sek8bf92,i=4096";
        assert!(started("X").response(ok.as_bytes()).is_ok());
        assert!(
            started("X")
                .response(format!("{ok},h=X").as_bytes())
                .is_ok()
        );
        assert_eq!(
            started("X").response(format!("{ok},h=Y").as_bytes()),
            Err(ScramError::Downgrade)
        );
        for bad in [
            "r=xyzdef,s=QSXCR+Q6sek8bf92,i=4096",
            "r=abc,s=QSXCR+Q6sek8bf92,i=4096",
            "r=abcdef,i=4096",
            "r=abcdef,s=QSXCR+Q6sek8bf92,i=0",
            "m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096",
        ] {
            assert!(
                matches!(
                    started("").response(bad.as_bytes()),
                    Err(ScramError::Malformed(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(started("").verify(b"v=AAAA"), Err(ScramError::TooEarly));
    }
}
