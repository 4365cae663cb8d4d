use super::*;
use confab_omemo::payload;
use confab_omemo::session::KeyExchange;

const BOTH: [Version; 2] = [Version::Legacy, Version::V2];

#[test]
fn own_device_made_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/omemo.sqlite3");
    let first = {
        let mut s = OmemoStore::open(&path, "alice@localhost").unwrap();
        let own = s.own_device().unwrap();
        assert!(own.created);
        assert!(own.device_id >= 1 && own.device_id < 1 << 31);
        assert_eq!(
            own.legacy.identity().ed25519_public(),
            own.v2.identity().ed25519_public()
        );
        assert_eq!(own.legacy.prekey_count(), PREKEYS);
        (own.device_id, own.v2.bundle())
    };
    let mut s = OmemoStore::open(&path, "alice@localhost").unwrap();
    let own = s.own_device().unwrap();
    assert!(!own.created);
    assert_eq!((own.device_id, own.v2.bundle()), first);
    // Another account in the same file has its own device.
    let mut other = OmemoStore::open(&path, "bob@localhost").unwrap();
    assert_ne!(other.own_device().unwrap().v2.bundle(), first.1);
}

#[cfg(unix)]
#[test]
fn the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("omemo.sqlite3");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut s = OmemoStore::open(&path, "alice@localhost").unwrap();
    s.own_device().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", entry.path().display());
    }
}

#[test]
fn sessions_round_trip_and_a_corrupt_one_is_dropped() {
    for v in BOTH {
        let mut a = OmemoStore::in_memory("alice@localhost").unwrap();
        let mut b = OmemoStore::in_memory("bob@localhost").unwrap();
        let alice = a.own_device().unwrap();
        let mut bob = b.own_device().unwrap();
        let mut sa = Session::initiate(alice.keys(v), &bob.keys(v).bundle()).unwrap();
        let e = payload::encrypt(v, b"stored");
        let k = sa.encrypt(&e.key_material).unwrap();
        a.save_session("bob@localhost", bob.device_id, &sa, 1)
            .unwrap();
        let kex = KeyExchange::parse(v, &k.data).unwrap();
        let (sb, km) = Session::accept(bob.keys_mut(v), &kex).unwrap();
        b.save_own_keys(bob.keys(v)).unwrap();
        b.save_session("alice@localhost", alice.device_id, &sb, 1)
            .unwrap();
        assert_eq!(
            payload::decrypt(v, &km, &e.iv, &e.ciphertext).unwrap(),
            b"stored"
        );
        assert_eq!(b.own_device().unwrap().keys(v).prekey_count(), PREKEYS - 1);

        let Loaded::Found(mut sb) = b.session(v, "alice@localhost", alice.device_id).unwrap()
        else {
            panic!("the session was stored");
        };
        let Loaded::Found(mut sa) = a.session(v, "bob@localhost", bob.device_id).unwrap() else {
            panic!("the session was stored");
        };
        let e = payload::encrypt(v, b"reply");
        let r = sb.encrypt(&e.key_material).unwrap();
        let km = sa.decrypt(&r.data).unwrap();
        assert_eq!(
            payload::decrypt(v, &km, &e.iv, &e.ciphertext).unwrap(),
            b"reply"
        );
        assert!(matches!(
            a.session(v, "bob@localhost", 999).unwrap(),
            Loaded::Missing
        ));

        a.conn
            .execute("UPDATE omemo_sessions SET session = '{\"broken\":1}'", [])
            .unwrap();
        assert!(matches!(
            a.session(v, "bob@localhost", bob.device_id).unwrap(),
            Loaded::Corrupt
        ));
        assert!(matches!(
            a.session(v, "bob@localhost", bob.device_id).unwrap(),
            Loaded::Missing
        ));
    }
}

#[test]
fn device_lists_and_btbv_trust() {
    let v = Version::V2;
    let mut s = OmemoStore::in_memory("alice@localhost").unwrap();
    let jid = "bob@localhost";
    assert_eq!(
        s.set_device_list(v, jid, &[1, 2, 2], 10).unwrap(),
        vec![1, 2]
    );
    assert_eq!(s.set_device_list(v, jid, &[2, 3], 20).unwrap(), vec![3]);
    let devices = s.devices(v, jid).unwrap();
    assert_eq!(
        devices
            .iter()
            .map(|d| (d.device_id, d.active))
            .collect::<Vec<_>>(),
        vec![(2, true), (3, true), (1, false)]
    );
    // No key seen yet: not trusted.
    assert!(!s.trusted(v, jid, 2).unwrap());
    let (k2, k3) = ([2u8; 32], [3u8; 32]);
    assert_eq!(
        s.identity_seen(v, jid, 2, &k2, 30).unwrap(),
        IdentitySeen::New
    );
    assert_eq!(
        s.identity_seen(v, jid, 2, &k2, 31).unwrap(),
        IdentitySeen::Same
    );
    assert_eq!(
        s.identity_seen(v, jid, 3, &k3, 32).unwrap(),
        IdentitySeen::New
    );
    // Blind trust before any verification.
    assert!(s.trusted(v, jid, 2).unwrap() && s.trusted(v, jid, 3).unwrap());
    assert_eq!(s.set_trust(v, jid, &k2, Trust::Verified).unwrap(), 1);
    // One verified key: the undecided one is no longer trusted blindly.
    assert!(s.trusted(v, jid, 2).unwrap());
    assert!(!s.trusted(v, jid, 3).unwrap());
    s.set_trust(v, jid, &k3, Trust::Distrusted).unwrap();
    assert!(!s.trusted(v, jid, 3).unwrap());
    // A device showing another key loses its trust.
    assert_eq!(
        s.identity_seen(v, jid, 2, &[9; 32], 40).unwrap(),
        IdentitySeen::Changed
    );
    assert_eq!(s.devices(v, jid).unwrap()[0].trust, Trust::Undecided);
    // The other version and other contacts are apart.
    assert!(s.devices(Version::Legacy, jid).unwrap().is_empty());
    assert!(s.devices(v, "carol@localhost").unwrap().is_empty());
}

#[test]
fn devices_per_contact_are_bounded() {
    let v = Version::Legacy;
    let mut s = OmemoStore::in_memory("alice@localhost").unwrap();
    let jid = "mallory@localhost";
    let many: Vec<u32> = (1..=500).collect();
    s.set_device_list(v, jid, &many, 1).unwrap();
    assert_eq!(s.devices(v, jid).unwrap().len(), MAX_DEVICES_PER_JID);
    // Key exchanges from devices outside the list cannot grow it either.
    for id in 1000..1300 {
        s.identity_seen(v, jid, id, &[1; 32], id as i64).unwrap();
    }
    assert!(s.devices(v, jid).unwrap().len() <= MAX_DEVICES_PER_JID);
    // A new, shorter list: the old devices go inactive, still bounded.
    s.set_device_list(v, jid, &[7000, 7001], 5000).unwrap();
    let d = s.devices(v, jid).unwrap();
    assert!(d.len() <= MAX_DEVICES_PER_JID);
    assert_eq!(d.iter().filter(|d| d.active).count(), 2);
}

#[test]
fn encryption_choice_remembered() {
    let mut s = OmemoStore::in_memory("alice@localhost").unwrap();
    assert_eq!(s.encryption("bob@localhost").unwrap(), None);
    s.set_encryption("bob@localhost", true).unwrap();
    s.set_encryption("room@conference.localhost", false)
        .unwrap();
    assert_eq!(s.encryption("bob@localhost").unwrap(), Some(true));
    s.set_encryption("bob@localhost", false).unwrap();
    assert_eq!(s.encryption("bob@localhost").unwrap(), Some(false));
}
