use super::*;

fn pair(version: Version) -> (Ratchet, Ratchet, Vec<u8>) {
    let secret: [u8; 32] = crate::random_bytes();
    let bob_spk = KeyPair::generate();
    let mut alice = Ratchet::initiate(version, secret, bob_spk.public()).unwrap();
    let ids = vec![7u8; if version == Version::Legacy { 66 } else { 64 }];
    let first = alice.encrypt(b"first", &ids);
    let h = peek_header(version, &first).unwrap();
    let mut bob = Ratchet::respond(version, secret, &bob_spk, h.ratchet_pub).unwrap();
    assert_eq!(bob.decrypt(&first, &ids).unwrap(), b"first");
    (alice, bob, ids)
}

const BOTH: [Version; 2] = [Version::Legacy, Version::V2];

#[test]
fn ping_pong_with_ratchet_steps() {
    for v in BOTH {
        let (mut a, mut b, ids) = pair(v);
        for round in 0..5u8 {
            let m = b.encrypt(&[round; 32], &ids);
            assert_eq!(a.decrypt(&m, &ids).unwrap(), vec![round; 32]);
            let m1 = a.encrypt(&[round, 1], &ids);
            let m2 = a.encrypt(&[round, 2], &ids);
            assert_eq!(b.decrypt(&m1, &ids).unwrap(), vec![round, 1]);
            assert_eq!(b.decrypt(&m2, &ids).unwrap(), vec![round, 2]);
        }
        assert_eq!(a.skipped_keys() + b.skipped_keys(), 0);
    }
}

#[test]
fn out_of_order_across_a_ratchet_step() {
    for v in BOTH {
        let (mut a, mut b, ids) = pair(v);
        let early: Vec<_> = (0..3u8).map(|i| a.encrypt(&[i], &ids)).collect();
        // Bob hears only the last, answers; Alice steps; then the rest.
        assert_eq!(b.decrypt(&early[2], &ids).unwrap(), vec![2]);
        assert_eq!(b.skipped_keys(), 2);
        let reply = b.encrypt(b"r", &ids);
        assert_eq!(a.decrypt(&reply, &ids).unwrap(), b"r");
        let late = a.encrypt(b"new chain", &ids);
        assert_eq!(b.decrypt(&late, &ids).unwrap(), b"new chain");
        assert_eq!(b.decrypt(&early[0], &ids).unwrap(), vec![0]);
        assert_eq!(b.decrypt(&early[1], &ids).unwrap(), vec![1]);
        assert_eq!(b.skipped_keys(), 0);
    }
}

#[test]
fn skipped_messages_from_a_finished_chain_are_kept() {
    for v in BOTH {
        let (mut a, mut b, ids) = pair(v);
        let lost = a.encrypt(b"lost for now", &ids);
        let m = b.encrypt(b"x", &ids);
        a.decrypt(&m, &ids).unwrap();
        // Alice's next message is on a new chain; its pn covers `lost`.
        let next = a.encrypt(b"next", &ids);
        assert_eq!(b.decrypt(&next, &ids).unwrap(), b"next");
        assert_eq!(b.skipped_keys(), 1);
        assert_eq!(b.decrypt(&lost, &ids).unwrap(), b"lost for now");
    }
}

#[test]
fn replay_refused_state_unchanged() {
    for v in BOTH {
        let (mut a, mut b, ids) = pair(v);
        let m = a.encrypt(b"once", &ids);
        assert_eq!(b.decrypt(&m, &ids).unwrap(), b"once");
        assert_eq!(b.decrypt(&m, &ids), Err(Error::Duplicate));
        // A replayed out-of-order message: its skipped key is gone.
        let m1 = a.encrypt(b"1", &ids);
        let m2 = a.encrypt(b"2", &ids);
        b.decrypt(&m2, &ids).unwrap();
        b.decrypt(&m1, &ids).unwrap();
        assert_eq!(b.decrypt(&m1, &ids), Err(Error::Duplicate));
        let m3 = a.encrypt(b"3", &ids);
        assert_eq!(b.decrypt(&m3, &ids).unwrap(), b"3");
    }
}

#[test]
fn tampered_or_misaddressed_refused_state_unchanged() {
    for v in BOTH {
        let (mut a, mut b, ids) = pair(v);
        let m = a.encrypt(b"intact", &ids);
        // Flip every byte in turn: never accepted, never a panic.
        for i in 0..m.len() {
            let mut t = m.clone();
            t[i] ^= 0x01;
            assert!(b.decrypt(&t, &ids).is_err(), "byte {i} of {v:?}");
        }
        let mut other_ids = ids.clone();
        other_ids[0] ^= 1;
        assert_eq!(b.decrypt(&m, &other_ids), Err(Error::Authentication));
        assert!(b.decrypt(&m[..m.len() - 1], &ids).is_err());
        assert!(b.decrypt(&[], &ids).is_err());
        assert_eq!(b.decrypt(&m, &ids).unwrap(), b"intact");
    }
}

#[test]
fn skipped_keys_are_bounded() {
    for v in BOTH {
        let (mut a, mut b, ids) = pair(v);
        // More than MAX_SKIP in one message: refused, nothing stored.
        let far: Vec<_> = (0..=MAX_SKIP + 1).map(|_| a.encrypt(b"f", &ids)).collect();
        assert_eq!(
            b.decrypt(far.last().unwrap(), &ids),
            Err(Error::TooManySkipped(MAX_SKIP))
        );
        assert_eq!(b.skipped_keys(), 0);
        // Exactly MAX_SKIP is fine.
        assert_eq!(b.decrypt(&far[MAX_SKIP as usize], &ids).unwrap(), b"f");
        assert_eq!(b.skipped_keys(), MAX_SKIP as usize);
        // Keep skipping on new chains: the total stays capped, oldest out.
        for _ in 0..2 {
            let r = b.encrypt(b"r", &ids);
            a.decrypt(&r, &ids).unwrap();
            let burst: Vec<_> = (0..=MAX_SKIP).map(|_| a.encrypt(b"g", &ids)).collect();
            b.decrypt(burst.last().unwrap(), &ids).unwrap();
        }
        assert_eq!(b.skipped_keys(), MAX_SKIPPED_KEYS);
        assert!(
            b.decrypt(&far[0], &ids).is_err(),
            "the oldest skipped key was dropped"
        );
    }
}

#[test]
fn state_survives_serialization() {
    for v in BOTH {
        let (mut a, mut b, ids) = pair(v);
        let skipped = a.encrypt(b"later", &ids);
        let m = a.encrypt(b"now", &ids);
        b.decrypt(&m, &ids).unwrap();
        let mut b: Ratchet = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        let mut a: Ratchet = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(b.decrypt(&skipped, &ids).unwrap(), b"later");
        let r = b.encrypt(b"back", &ids);
        assert_eq!(a.decrypt(&r, &ids).unwrap(), b"back");
    }
}
