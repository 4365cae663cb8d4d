//! confab-omemo against an independent implementation: python-oldmemo and
//! python-twomemo (the libraries under slixmpp-omemo), driven by
//! tests/peers/omemo_crypto_peer.py. Bundles and `<encrypted/>` elements
//! travel as XML: confab-proto's `omemo` builds and reads confab's side, the
//! libraries' own serializers and schema-validating parsers the other.
//! OMEMO 2's plaintext is a XEP-0420 envelope (confab-proto's `sce`; the
//! script's own, as the Python libraries have none). Sessions are built
//! both ways for both versions, then ratchet steps, out-of-order delivery,
//! empty messages, tampering and replays.
//!
//! The Python venv comes from `scripts/ensure-deps test` (target/py, or
//! $CONFAB_PY_VENV).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use confab_omemo::device::DeviceKeys;
use confab_omemo::keys::IdentityKeyPair;
use confab_omemo::session::{KeyExchange, Session};
use confab_omemo::x3dh::Bundle;
use confab_omemo::{Error, Version, payload, wire};
use confab_proto::omemo::{self as omemo_xml, Encrypted};
use confab_proto::sce::Envelope;
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

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// Serializes an element for the peer.
fn xml(el: &minidom::Element) -> String {
    String::from(el)
}

fn parse_xml(v: &Value) -> minidom::Element {
    v.as_str()
        .expect("an XML string")
        .parse()
        .expect("the peer's XML parses")
}

/// A bundle as confab publishes it (confab-proto's element).
fn bundle_xml(version: Version, b: &Bundle) -> String {
    xml(&omemo_xml::bundle_element(
        omemo_ns(version),
        &omemo_xml::Bundle {
            identity_key: wire::encode_public(version, &b.identity_key),
            signed_prekey_id: b.signed_prekey_id,
            signed_prekey: wire::encode_public(version, &b.signed_prekey),
            signed_prekey_signature: b.signed_prekey_signature.to_vec(),
            prekeys: b
                .prekeys
                .iter()
                .map(|(id, k)| (*id, wire::encode_public(version, k)))
                .collect(),
        },
    ))
}

/// A bundle the peer published, read as confab will.
fn bundle_from_xml(version: Version, v: &Value) -> Bundle {
    let (ns, b) = omemo_xml::parse_bundle(&parse_xml(v)).unwrap();
    assert_eq!(ns, omemo_ns(version));
    let key = |k: &[u8]| wire::parse_public(version, k).unwrap();
    Bundle {
        identity_key: key(&b.identity_key),
        signed_prekey_id: b.signed_prekey_id,
        signed_prekey: key(&b.signed_prekey),
        signed_prekey_signature: b.signed_prekey_signature.try_into().unwrap(),
        prekeys: b.prekeys.iter().map(|(id, k)| (*id, key(k))).collect(),
    }
}

fn omemo_ns(version: Version) -> omemo_xml::Omemo {
    match version {
        Version::Legacy => omemo_xml::Omemo::Legacy,
        Version::V2 => omemo_xml::Omemo::V2,
    }
}

const RUST_JID: &str = "rust@peer.test";
const PY_JID: &str = "python@peer.test";
const PY_DEVICE: u32 = 31337;

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
        py.ask(json!({"op": "peer", "jid": RUST_JID, "device": self.device_id, "xml": bundle_xml(self.version, &self.keys.bundle())}))
            .unwrap();
    }

    fn encrypted(
        &mut self,
        key_material: &[u8],
        iv: Vec<u8>,
        payload: Option<Vec<u8>>,
    ) -> Encrypted {
        let key = self
            .session
            .as_mut()
            .unwrap()
            .encrypt(key_material)
            .unwrap();
        Encrypted {
            omemo: omemo_ns(self.version),
            sid: self.device_id,
            keys: vec![omemo_xml::Key {
                jid: (self.version == Version::V2).then(|| PY_JID.parse().unwrap()),
                rid: PY_DEVICE,
                kex: key.key_exchange,
                data: key.data,
            }],
            iv,
            payload,
        }
    }

    /// A message for the Python peer's device: 0.3 encrypts the body,
    /// OMEMO 2 a XEP-0420 envelope.
    fn send(&mut self, text: &str) -> Encrypted {
        let plaintext = match self.version {
            Version::Legacy => text.as_bytes().to_vec(),
            Version::V2 => {
                let from = jid::Jid::new(&format!("{RUST_JID}/confab")).unwrap();
                Envelope::body(text, from, jid::Jid::new(PY_JID).unwrap(), chrono_now()).to_bytes()
            }
        };
        let e = payload::encrypt(self.version, &plaintext);
        self.encrypted(&e.key_material, e.iv, Some(e.ciphertext))
    }

    /// An empty OMEMO message (key transport, heartbeat): a key element and
    /// no payload (0.3 still sends an IV).
    fn send_empty(&mut self) -> Encrypted {
        let iv = if self.version == Version::Legacy {
            vec![0; 12]
        } else {
            Vec::new()
        };
        self.encrypted(&payload::empty_key_material(self.version), iv, None)
    }

    /// Reads a message from the Python peer, as the XMPP layer will.
    fn receive(&mut self, m: &Encrypted) -> Result<String, Error> {
        let key_material = self.receive_key(m)?;
        let body = payload::decrypt(
            self.version,
            &key_material,
            &m.iv,
            m.payload.as_deref().unwrap(),
        )?;
        Ok(match self.version {
            Version::Legacy => String::from_utf8(body).unwrap(),
            Version::V2 => {
                let env = Envelope::parse(&body).expect("the peer's SCE envelope parses");
                env.check(&PY_JID.parse().unwrap(), &RUST_JID.parse().unwrap(), false)
                    .expect("the envelope's affixes match");
                env.body_text().expect("a body in the envelope")
            }
        })
    }

    /// The key material of this device's key element.
    fn receive_key(&mut self, m: &Encrypted) -> Result<Vec<u8>, Error> {
        assert_eq!(m.sid, PY_DEVICE);
        let own: jid::BareJid = RUST_JID.parse().unwrap();
        let key = m
            .key_for(&own, self.device_id)
            .expect("a key for this device");
        if key.kex {
            let kex = KeyExchange::parse(self.version, &key.data)?;
            Ok(match self.session.as_mut() {
                Some(s) if s.built_from(&kex) => s.decrypt(&kex.message)?,
                _ => {
                    let (s, km) = Session::accept(&mut self.keys, &kex)?;
                    self.session = Some(s);
                    km
                }
            })
        } else {
            self.session
                .as_mut()
                .ok_or(Error::Malformed("no session"))?
                .decrypt(&key.data)
        }
    }
}

/// The Python peer encrypts for `to`; the `<encrypted/>` it serialized,
/// read by confab-proto.
fn py_send(py: &mut Peer, to: &Rust, text: &str) -> Encrypted {
    let a = py
        .ask(json!({"op": "encrypt", "jid": RUST_JID, "device": to.device_id, "text": text}))
        .unwrap();
    let e = Encrypted::parse(&parse_xml(&a["xml"])).unwrap();
    assert_eq!(a["kex"], e.keys[0].kex);
    e
}

/// The Python peer reads confab-proto's `<encrypted/>`.
fn py_receive(py: &mut Peer, from: &Rust, m: &Encrypted) -> Result<String, String> {
    py.ask(json!({"op": "decrypt", "jid": RUST_JID, "device": from.device_id, "xml": xml(&m.to_element())}))
        .map(|a| a["text"].as_str().unwrap_or("").to_owned())
}

/// `m` with one byte of its key (`in_key`) or payload flipped.
fn flip(m: &Encrypted, in_key: bool, byte: usize) -> Encrypted {
    let mut t = m.clone();
    let data = if in_key {
        &mut t.keys[0].data
    } else {
        t.payload.as_mut().unwrap()
    };
    let i = byte.min(data.len() - 1);
    data[i] ^= 0x01;
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
    assert!(m1.keys[0].kex && m2.keys[0].kex);
    // A key exchange altered in transit builds nothing and costs no prekey.
    let before = rust.keys.prekey_count();
    assert!(rust.receive(&flip(&m1, true, 60)).is_err());
    assert_eq!(rust.keys.prekey_count(), before);
    assert_eq!(rust.receive(&m1).unwrap(), "hello from python");
    assert_eq!(rust.keys.prekey_count(), before - 1);
    assert_eq!(rust.receive(&m2).unwrap(), "still unanswered");
    // Replays are refused.
    assert_eq!(rust.receive(&m2), Err(Error::Duplicate));
    assert_eq!(rust.receive(&m1), Err(Error::Duplicate));

    let r1 = rust.send("hello from rust");
    assert!(!r1.keys[0].kex);
    assert_eq!(py_receive(&mut py, &rust, &r1).unwrap(), "hello from rust");
    // Python has heard back: no more key exchanges.
    for round in 0..4 {
        let a = py_send(&mut py, &rust, &format!("py {round}a"));
        let b = py_send(&mut py, &rust, &format!("py {round}b"));
        assert!(!a.keys[0].kex);
        // Out of order.
        assert_eq!(rust.receive(&b).unwrap(), format!("py {round}b"));
        assert_eq!(rust.receive(&a).unwrap(), format!("py {round}a"));
        let c = rust.send(&format!("rust {round}c"));
        let d = rust.send(&format!("rust {round}d"));
        assert_eq!(
            py_receive(&mut py, &rust, &d).unwrap(),
            format!("rust {round}d")
        );
        assert_eq!(
            py_receive(&mut py, &rust, &c).unwrap(),
            format!("rust {round}c")
        );
    }
    // Python refuses a replay and a message altered in transit.
    let e = rust.send("once only");
    assert_eq!(py_receive(&mut py, &rust, &e).unwrap(), "once only");
    assert!(
        py_receive(&mut py, &rust, &e).is_err(),
        "python decrypted a replay"
    );
    let f = rust.send("tampered");
    assert!(py_receive(&mut py, &rust, &flip(&f, false, 0)).is_err());
    assert!(py_receive(&mut py, &rust, &flip(&f, true, 40)).is_err());
    // Empty messages (key transport, heartbeat) both ways move the ratchet.
    let empty = py
        .ask(json!({"op": "encrypt", "jid": RUST_JID, "device": rust.device_id, "empty": true}))
        .unwrap();
    let empty = Encrypted::parse(&parse_xml(&empty["xml"])).unwrap();
    assert_eq!(empty.payload, None);
    let km = rust.receive_key(&empty).unwrap();
    assert_eq!(km.len(), if version == Version::Legacy { 16 } else { 32 });
    let empty = rust.send_empty();
    let answer = py.ask(json!({"op": "decrypt", "jid": RUST_JID, "device": rust.device_id, "xml": xml(&empty.to_element())}));
    assert_eq!(answer.unwrap()["empty"], true);
    // The session survives a serialization on the Rust side.
    let s = rust.session.take().unwrap();
    rust.session = Some(serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap());
    let g = py_send(&mut py, &rust, "after a restart ✓");
    assert_eq!(rust.receive(&g).unwrap(), "after a restart ✓");
    let t = flip(&py_send(&mut py, &rust, "tampered"), false, 3);
    assert_eq!(rust.receive(&t), Err(Error::Authentication));
}

/// Rust starts from the Python bundle.
fn rust_initiates(version: Version) {
    let mut py = Peer::start(version, 1);
    let mut rust = Rust::new(version, 2, 0);
    rust.introduce(&mut py);
    let bundle = bundle_from_xml(version, &py.ask(json!({"op": "bundle"})).unwrap()["xml"]);
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
    assert!(m1.keys[0].kex && m2.keys[0].kex);
    assert_eq!(
        py_receive(&mut py, &rust, &m2).unwrap(),
        "second before any answer"
    );
    assert_eq!(
        py_receive(&mut py, &rust, &m1).unwrap(),
        "hello python, from rust"
    );
    let a = py_send(&mut py, &rust, "answer from python");
    assert!(!a.keys[0].kex);
    assert_eq!(rust.receive(&a).unwrap(), "answer from python");
    assert!(rust.session.as_ref().unwrap().confirmed());
    for round in 0..4 {
        let m = rust.send(&format!("rust {round}"));
        assert!(!m.keys[0].kex);
        assert_eq!(
            py_receive(&mut py, &rust, &m).unwrap(),
            format!("rust {round}")
        );
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
