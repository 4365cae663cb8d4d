use super::*;
use crate::keys::IdentityKeyPair;
use crate::payload;

const BOTH: [Version; 2] = [Version::Legacy, Version::V2];

fn device(v: Version) -> DeviceKeys {
    DeviceKeys::generate(v, IdentityKeyPair::generate(), 5)
}

/// Sends a body the way a client does: payload encryption, then the key
/// material through the session.
fn send(v: Version, s: &mut Session, body: &str) -> (KeyElement, payload::Encrypted) {
    let e = payload::encrypt(v, body.as_bytes());
    (s.encrypt(&e.key_material).unwrap(), e)
}

fn open(v: Version, km: &[u8], e: &payload::Encrypted) -> String {
    String::from_utf8(payload::decrypt(v, km, &e.iv, &e.ciphertext).unwrap()).unwrap()
}

#[test]
fn key_exchange_until_answered_then_plain_messages() {
    for v in BOTH {
        let alice = device(v);
        let mut bob = device(v);
        let mut a = Session::initiate(&alice, &bob.bundle()).unwrap();
        let (k1, e1) = send(v, &mut a, "hello");
        let (k2, e2) = send(v, &mut a, "again");
        assert!(k1.key_exchange && k2.key_exchange);
        let kex1 = KeyExchange::parse(v, &k1.data).unwrap();
        assert_eq!(kex1.encode(v).unwrap(), k1.data);
        let (mut b, km) = Session::accept(&mut bob, &kex1).unwrap();
        assert_eq!(open(v, &km, &e1), "hello");
        assert_eq!(bob.prekey_count(), 4, "the used prekey is gone");
        assert_eq!(b.their_identity(), alice.identity_public());
        // The repeated key exchange belongs to the same session.
        let kex2 = KeyExchange::parse(v, &k2.data).unwrap();
        assert!(b.built_from(&kex2));
        assert_eq!(
            Session::accept(&mut bob, &kex2).err(),
            Some(Error::UnknownPreKey)
        );
        assert_eq!(open(v, &b.decrypt(&kex2.message).unwrap(), &e2), "again");
        // A replayed key exchange shows nothing twice.
        assert_eq!(b.decrypt(&kex1.message).err(), Some(Error::Duplicate));
        let (r, er) = send(v, &mut b, "hi alice");
        assert!(!r.key_exchange);
        assert_eq!(open(v, &a.decrypt(&r.data).unwrap(), &er), "hi alice");
        assert!(a.confirmed());
        let (k3, e3) = send(v, &mut a, "now plain");
        assert!(!k3.key_exchange);
        assert_eq!(open(v, &b.decrypt(&k3.data).unwrap(), &e3), "now plain");
    }
}

#[test]
fn a_key_exchange_for_someone_else_fails_and_keeps_the_prekey() {
    for v in BOTH {
        let alice = device(v);
        let mut bob = device(v);
        let mut a = Session::initiate(&alice, &bob.bundle()).unwrap();
        let (k, _) = send(v, &mut a, "x");
        let mut kex = KeyExchange::parse(v, &k.data).unwrap();
        // Claim another identity: the MAC over the identities fails.
        kex.header.identity_key = device(v).identity_public();
        assert_eq!(
            Session::accept(&mut bob, &kex).err(),
            Some(Error::Authentication)
        );
        assert_eq!(bob.prekey_count(), 5);
        kex.header.signed_prekey_id = 99;
        assert_eq!(
            Session::accept(&mut bob, &kex).err(),
            Some(Error::UnknownSignedPreKey)
        );
        assert!(KeyExchange::parse(v, &k.data[1..]).is_err() || v == Version::V2);
    }
}

#[test]
fn versions_do_not_mix() {
    let alice = device(Version::V2);
    let bob = device(Version::Legacy);
    // A 0.3 bundle read as OMEMO 2: the signature does not verify.
    assert!(Session::initiate(&alice, &bob.bundle()).is_err());
}

#[test]
fn session_survives_serialization() {
    for v in BOTH {
        let alice = device(v);
        let mut bob = device(v);
        let mut a = Session::initiate(&alice, &bob.bundle()).unwrap();
        let (k, _) = send(v, &mut a, "x");
        let (b, _) = Session::accept(&mut bob, &KeyExchange::parse(v, &k.data).unwrap()).unwrap();
        let mut b: Session = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        let mut a: Session = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        let (r, er) = send(v, &mut b, "after restore");
        assert_eq!(open(v, &a.decrypt(&r.data).unwrap(), &er), "after restore");
    }
}

#[test]
fn heartbeat_due_after_53_unanswered() {
    for v in BOTH {
        let alice = device(v);
        let mut bob = device(v);
        let mut a = Session::initiate(&alice, &bob.bundle()).unwrap();
        let (k, _) = send(v, &mut a, "x");
        let (mut b, _) =
            Session::accept(&mut bob, &KeyExchange::parse(v, &k.data).unwrap()).unwrap();
        let r = b.encrypt(&payload::empty_key_material(v)).unwrap();
        assert_eq!(
            a.decrypt(&r.data).unwrap().len(),
            payload::empty_key_material(v).len()
        );
        for i in 0..=HEARTBEAT_AFTER {
            assert!(!b.needs_heartbeat(), "after {i}");
            let (k, _) = send(v, &mut a, "x");
            b.decrypt(&k.data).unwrap();
        }
        assert!(b.needs_heartbeat());
        // The heartbeat moves Alice to a new chain: Bob's count restarts.
        let h = b.encrypt(&payload::empty_key_material(v)).unwrap();
        a.decrypt(&h.data).unwrap();
        let (k, _) = send(v, &mut a, "x");
        b.decrypt(&k.data).unwrap();
        assert!(!b.needs_heartbeat());
    }
}
