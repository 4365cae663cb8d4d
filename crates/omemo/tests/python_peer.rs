//! confab-omemo against an independent implementation: python-oldmemo and
//! python-twomemo (the libraries under slixmpp-omemo), driven by
//! tests/peers/omemo_crypto_peer.py with bundles and key elements as their
//! XML carries them. Sessions are built both ways for both versions, then
//! ratchet steps, out-of-order delivery, tampering and replays.
//!
//! The Python venv comes from `scripts/ensure-deps test` (target/py, or
//! $CONFAB_PY_VENV).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use confab_omemo::device::DeviceKeys;
use confab_omemo::keys::IdentityKeyPair;
use confab_omemo::session::{KeyExchange, Session};
use confab_omemo::x3dh::Bundle;
use confab_omemo::{Error, Version, payload, wire};
use serde_json::{Value, json};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let venv = std::env::var_os("CONFAB_PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/py"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: `scripts/ensure-deps test` installs the OMEMO test peers",
        python.display()
    );
    python
}

struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    /// `sign`: the sign bit of the peer's Ed25519 identity key.
    fn start(version: Version, sign: u8) -> Self {
        let flavour = match version {
            Version::Legacy => "oldmemo",
            Version::V2 => "twomemo",
        };
        let mut child = Command::new(python())
            .arg(workspace().join("tests/peers/omemo_crypto_peer.py"))
            .arg(flavour)
            .arg(sign.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Python peer");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
        }
    }

    /// One request, one answer. `Err` is the peer's refusal.
    fn ask(&mut self, request: Value) -> Result<Value, String> {
        writeln!(self.stdin, "{request}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        // The peer answers every request (a failure is an answer); EOF
        // means it died, and its stderr is in the test output.
        assert!(
            self.stdout.read_line(&mut line).unwrap() > 0,
            "the Python peer exited"
        );
        let answer: Value = serde_json::from_str(&line).unwrap();
        if answer["ok"] == true {
            Ok(answer)
        } else {
            Err(answer["error"].as_str().unwrap_or("").to_owned())
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn b64(data: &[u8]) -> String {
    B64.encode(data)
}
fn unb64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().expect("a base64 string")).unwrap()
}

/// A bundle as the XML elements carry it (0.3's keys with the 0x05 byte).
fn bundle_json(version: Version, b: &Bundle) -> Value {
    json!({
        "ik": b64(&wire::encode_public(version, &b.identity_key)),
        "spk": b64(&wire::encode_public(version, &b.signed_prekey)),
        "spk_id": b.signed_prekey_id,
        "spk_sig": b64(&b.signed_prekey_signature),
        "prekeys": b.prekeys.iter().map(|(id, k)| json!([id, b64(&wire::encode_public(version, k))])).collect::<Vec<_>>(),
    })
}

fn bundle_from_json(version: Version, j: &Value) -> Bundle {
    let key = |v: &Value| wire::parse_public(version, &unb64(v)).unwrap();
    Bundle {
        identity_key: key(&j["ik"]),
        signed_prekey_id: j["spk_id"].as_u64().unwrap() as u32,
        signed_prekey: key(&j["spk"]),
        signed_prekey_signature: unb64(&j["spk_sig"]).try_into().unwrap(),
        prekeys: j["prekeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_u64().unwrap() as u32, key(&p[1])))
            .collect(),
    }
}

const RUST_JID: &str = "rust@peer.test";

/// A confab-side device talking to the Python peer.
struct Rust {
    version: Version,
    device_id: u32,
    keys: DeviceKeys,
    session: Option<Session>,
}

impl Rust {
    /// `sign`: the sign bit of the Ed25519 identity key, which 0.3 carries
    /// in the signature's top bit.
    fn new(version: Version, device_id: u32, sign: u8) -> Self {
        let identity = loop {
            let id = IdentityKeyPair::generate();
            if id.ed25519_public()[31] >> 7 == sign {
                break id;
            }
        };
        Self {
            version,
            device_id,
            keys: DeviceKeys::generate(version, identity, 10),
            session: None,
        }
    }

    fn introduce(&self, py: &mut Peer) {
        py.ask(json!({"op": "peer", "jid": RUST_JID, "device": self.device_id, "bundle": bundle_json(self.version, &self.keys.bundle())}))
            .unwrap();
    }

    /// A message as the Python peer would put it in a stanza.
    fn send(&mut self, text: &str) -> Value {
        let e = payload::encrypt(self.version, text.as_bytes());
        let key = self
            .session
            .as_mut()
            .unwrap()
            .encrypt(&e.key_material)
            .unwrap();
        json!({
            "op": "decrypt", "jid": RUST_JID, "device": self.device_id,
            "key": b64(&key.data), "kex": key.key_exchange,
            "iv": b64(&e.iv), "payload": b64(&e.ciphertext),
        })
    }

    /// An empty OMEMO message (key transport, heartbeat): a key element and
    /// no payload.
    fn send_empty(&mut self) -> Value {
        let key = self
            .session
            .as_mut()
            .unwrap()
            .encrypt(&payload::empty_key_material(self.version))
            .unwrap();
        json!({"op": "decrypt", "jid": RUST_JID, "device": self.device_id, "key": b64(&key.data), "kex": key.key_exchange})
    }

    /// Reads a message from the Python peer, as the XMPP layer will.
    fn receive(&mut self, m: &Value) -> Result<String, Error> {
        let key_material = self.receive_key(m)?;
        let iv = if m["iv"].is_string() {
            unb64(&m["iv"])
        } else {
            Vec::new()
        };
        let body = payload::decrypt(self.version, &key_material, &iv, &unb64(&m["payload"]))?;
        Ok(String::from_utf8(body).unwrap())
    }

    /// The key material of this device's key element.
    fn receive_key(&mut self, m: &Value) -> Result<Vec<u8>, Error> {
        let data = unb64(&m["key"]);
        let key_material = if m["kex"] == true {
            let kex = KeyExchange::parse(self.version, &data)?;
            match self.session.as_mut() {
                Some(s) if s.built_from(&kex) => s.decrypt(&kex.message)?,
                _ => {
                    let (s, km) = Session::accept(&mut self.keys, &kex)?;
                    self.session = Some(s);
                    km
                }
            }
        } else {
            self.session
                .as_mut()
                .ok_or(Error::Malformed("no session"))?
                .decrypt(&data)?
        };
        Ok(key_material)
    }
}

fn py_send(py: &mut Peer, to: &Rust, text: &str) -> Value {
    py.ask(json!({"op": "encrypt", "jid": RUST_JID, "device": to.device_id, "text": text}))
        .unwrap()
}

fn py_receive(py: &mut Peer, m: &Value) -> Result<String, String> {
    py.ask(m.clone())
        .map(|a| a["text"].as_str().unwrap().to_owned())
}

fn flip(m: &Value, field: &str, byte: usize) -> Value {
    let mut data = unb64(&m[field]);
    let i = byte.min(data.len() - 1);
    data[i] ^= 0x01;
    let mut t = m.clone();
    t[field] = json!(b64(&data));
    t
}

/// Python starts: its key exchange, repeated until Rust answers, then
/// ratchet steps both ways with out-of-order delivery.
fn python_initiates(version: Version) {
    let mut py = Peer::start(version, 0);
    let mut rust = Rust::new(version, 1, 1);
    rust.introduce(&mut py);

    let m1 = py_send(&mut py, &rust, "hello from python");
    let m2 = py_send(&mut py, &rust, "still unanswered");
    assert_eq!(m1["kex"], true);
    assert_eq!(m2["kex"], true);
    // A key exchange altered in transit builds nothing and costs no prekey.
    let before = rust.keys.prekey_count();
    assert!(rust.receive(&flip(&m1, "key", 60)).is_err());
    assert_eq!(rust.keys.prekey_count(), before);
    assert_eq!(rust.receive(&m1).unwrap(), "hello from python");
    assert_eq!(rust.keys.prekey_count(), before - 1);
    assert_eq!(rust.receive(&m2).unwrap(), "still unanswered");
    // Replays are refused.
    assert_eq!(rust.receive(&m2), Err(Error::Duplicate));
    assert_eq!(rust.receive(&m1), Err(Error::Duplicate));

    let r1 = rust.send("hello from rust");
    assert_eq!(r1["kex"], false);
    assert_eq!(py_receive(&mut py, &r1).unwrap(), "hello from rust");
    // Python has heard back: no more key exchanges.
    for round in 0..4 {
        let a = py_send(&mut py, &rust, &format!("py {round}a"));
        let b = py_send(&mut py, &rust, &format!("py {round}b"));
        assert_eq!(a["kex"], false);
        // Out of order.
        assert_eq!(rust.receive(&b).unwrap(), format!("py {round}b"));
        assert_eq!(rust.receive(&a).unwrap(), format!("py {round}a"));
        let c = rust.send(&format!("rust {round}c"));
        let d = rust.send(&format!("rust {round}d"));
        assert_eq!(py_receive(&mut py, &d).unwrap(), format!("rust {round}d"));
        assert_eq!(py_receive(&mut py, &c).unwrap(), format!("rust {round}c"));
    }
    // Python refuses a replay and a message altered in transit.
    let e = rust.send("once only");
    assert_eq!(py_receive(&mut py, &e).unwrap(), "once only");
    assert!(
        py_receive(&mut py, &e).is_err(),
        "python decrypted a replay"
    );
    let f = rust.send("tampered");
    assert!(py_receive(&mut py, &flip(&f, "payload", 0)).is_err());
    assert!(py_receive(&mut py, &flip(&f, "key", 40)).is_err());
    // Empty messages (key transport, heartbeat) both ways move the ratchet.
    let empty = py
        .ask(json!({"op": "encrypt", "jid": RUST_JID, "device": rust.device_id, "empty": true}))
        .unwrap();
    assert!(empty.get("payload").is_none());
    let km = rust.receive_key(&empty).unwrap();
    assert_eq!(km.len(), if version == Version::Legacy { 16 } else { 32 });
    let empty = rust.send_empty();
    assert_eq!(py.ask(empty).unwrap()["empty"], true);
    // The session survives a serialization on the Rust side.
    let s = rust.session.take().unwrap();
    rust.session = Some(serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap());
    let g = py_send(&mut py, &rust, "after a restart ✓");
    assert_eq!(rust.receive(&g).unwrap(), "after a restart ✓");
    let t = flip(&py_send(&mut py, &rust, "tampered"), "payload", 3);
    assert_eq!(rust.receive(&t), Err(Error::Authentication));
}

/// Rust starts from the Python bundle.
fn rust_initiates(version: Version) {
    let mut py = Peer::start(version, 1);
    let mut rust = Rust::new(version, 2, 0);
    rust.introduce(&mut py);
    let bundle = bundle_from_json(version, &py.ask(json!({"op": "bundle"})).unwrap()["bundle"]);
    bundle
        .verify(version)
        .expect("the Python bundle's signature verifies");
    let mut forged = bundle.clone();
    forged.signed_prekey_signature[0] ^= 1;
    assert_eq!(
        Session::initiate(&rust.keys, &forged).err(),
        Some(Error::BadSignature)
    );
    rust.session = Some(Session::initiate(&rust.keys, &bundle).unwrap());

    let m1 = rust.send("hello python, from rust");
    let m2 = rust.send("second before any answer");
    assert_eq!(m1["kex"], true);
    assert_eq!(
        py_receive(&mut py, &m2).unwrap(),
        "second before any answer"
    );
    assert_eq!(py_receive(&mut py, &m1).unwrap(), "hello python, from rust");
    let a = py_send(&mut py, &rust, "answer from python");
    assert_eq!(a["kex"], false);
    assert_eq!(rust.receive(&a).unwrap(), "answer from python");
    assert!(rust.session.as_ref().unwrap().confirmed());
    for round in 0..4 {
        let m = rust.send(&format!("rust {round}"));
        assert_eq!(m["kex"], false);
        assert_eq!(py_receive(&mut py, &m).unwrap(), format!("rust {round}"));
        let skipped = py_send(&mut py, &rust, &format!("py {round} late"));
        let b = py_send(&mut py, &rust, &format!("py {round}"));
        assert_eq!(rust.receive(&b).unwrap(), format!("py {round}"));
        assert_eq!(rust.receive(&skipped).unwrap(), format!("py {round} late"));
        assert_eq!(rust.receive(&skipped), Err(Error::Duplicate));
    }
}

#[test]
fn legacy_python_initiates() {
    python_initiates(Version::Legacy);
}

#[test]
fn legacy_rust_initiates() {
    rust_initiates(Version::Legacy);
}

#[test]
fn v2_python_initiates() {
    python_initiates(Version::V2);
}

#[test]
fn v2_rust_initiates() {
    rust_initiates(Version::V2);
}
