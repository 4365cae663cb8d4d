//! Encrypted files (XEP-0454) in OMEMO conversations, on Prosody and
//! ejabberd with their upload services: `/upload` with OMEMO on encrypts
//! the file (AES-256-GCM), the server holds only the ciphertext, and the
//! `aesgcm://` link goes only inside the OMEMO message — confab → confab
//! one-to-one and in a members-only room, where the receiver `/save`s the
//! same bytes; confab → slixmpp-omemo, which decrypts the message to the
//! link and finds no link (nor OOB) in the clear. The key is in no trace.

use std::path::Path;

use serde_json::{Value, json};

use confab::session::transfer::{encrypt, parse_aesgcm};

use crate::common::*;
use crate::omemo::ready;
use crate::omemo_slixmpp::SlixPeer;
use crate::upload::{pattern, upload_server, write};

const ROOM: &str = "vault@conference.localhost";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// The `aesgcm://` message `c` shows.
fn link_message(c: &mut Client) -> Value {
    c.event("the aesgcm:// link", |v| {
        is(v, "message")
            && v["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("aesgcm://"))
    })
}

/// The server's stored files: one is exactly the link's ciphertext of
/// `plain`, none is `plain`; the key in no trace of `homes`.
fn only_ciphertext_stored(server: &dyn TestServer, link: &str, plain: &[u8], logs: &[&Path]) {
    let (_, key) = parse_aesgcm(link).expect("a valid aesgcm link");
    let sealed = encrypt(&key, plain);
    let stored: Vec<Vec<u8>> = files_under(server.dir())
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|d| d.len() >= plain.len())
        .collect();
    assert!(
        stored.contains(&sealed),
        "the server holds no ciphertext of the file"
    );
    assert!(
        !stored.iter().any(|d| d == plain),
        "the server holds the plaintext"
    );
    let fragment = link.rsplit_once('#').unwrap().1;
    for log in logs {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(!text.is_empty(), "{}: no trace", log.display());
        assert!(
            !text.contains(fragment),
            "{}: the key is logged",
            log.display()
        );
        assert!(
            !text.contains("aesgcm://"),
            "{}: the link is logged",
            log.display()
        );
        assert!(
            !text.contains("jabber:x:oob"),
            "{}: an OOB was sent",
            log.display()
        );
    }
}

/// Alice and bob, both confab with OMEMO ready, on a server with an
/// upload service.
struct Pair {
    server: Box<dyn TestServer>,
    homes: [tempfile::TempDir; 2],
    alice: Client,
    alice_dev: u64,
    bob: Client,
}

fn pair(kind: ServerKind) -> Pair {
    let server = upload_server(kind, &["alice", "bob"], 10_000_000);
    let homes = [(); 2].map(|_| tempfile::tempdir().unwrap());
    let (alice, alice_dev) = ready(&*server, "alice", homes[0].path());
    let (bob, _) = ready(&*server, "bob", homes[1].path());
    Pair {
        server,
        homes,
        alice,
        alice_dev,
        bob,
    }
}

impl Pair {
    /// Bob got alice's link `m` (`own` as she shows it): `/save WHAT`
    /// into `name` in his home gives him the same bytes as `data`,
    /// nobody erred, and the server and both logs hold only what they
    /// may.
    fn saved_alike(mut self, own: &Value, m: &Value, what: &str, name: &str, data: &[u8]) {
        let link = m["body"].as_str().unwrap().to_string();
        assert_eq!(own["body"], link.as_str());
        let dest = self.homes[1].path().join(name);
        self.bob.ok(&format!("/save {what} {}", dest.display()));
        assert_eq!(std::fs::read(&dest).unwrap(), data, "the bytes differ");
        assert!(
            !self.alice.saw(|v| is(v, "error")),
            "{:?}",
            self.alice.events
        );
        assert_eq!(self.alice.finish(), 0);
        assert_eq!(self.bob.finish(), 0);
        let logs = [
            self.homes[0].path().join("alice.log"),
            self.homes[1].path().join("bob.log"),
        ];
        only_ciphertext_stored(
            &*self.server,
            &link,
            data,
            &logs.each_ref().map(|p| p.as_path()),
        );
    }
}

crate::on_both!(
    an_encrypted_file_one_to_one,
    an_encrypted_file_in_a_room,
    an_encrypted_file_to_slixmpp_omemo,
);

fn an_encrypted_file_one_to_one(kind: ServerKind) {
    let mut p = pair(kind);
    let (alice, bob) = (&mut p.alice, &mut p.bob);
    let data = pattern(300_000);
    let path = write(p.homes[0].path(), "plans.pdf", &data);
    alice.ok("/omemo on bob@localhost");
    alice.ok(&format!("/upload {path} bob@localhost"));
    let done = alice.event("upload done", |v| is(v, "upload") && v["state"] == "done");
    assert_eq!(done["bytes"], 300_000, "{done}");
    assert!(
        done["url"].as_str().unwrap().starts_with("https://"),
        "{done}"
    );
    let own = link_message(alice);
    assert_eq!(own["own"], true, "{own}");
    assert_eq!(own["encrypted"]["decrypted"], true, "{own}");

    let m = link_message(bob);
    assert_eq!(m["encrypted"]["device"], p.alice_dev, "{m}");
    assert_eq!(m["encrypted"]["decrypted"], true, "{m}");
    assert_eq!(m["attachments"][0]["encrypted"], true, "{m}");
    assert_eq!(m["attachments"][0]["name"], "plans.pdf", "{m}");
    p.saved_alike(&own, &m, "alice@localhost @", "saved.pdf", &data);
}

fn an_encrypted_file_in_a_room(kind: ServerKind) {
    let mut p = pair(kind);
    let (alice, bob) = (&mut p.alice, &mut p.bob);
    alice.ok(&format!(
        "/create {ROOM} muc#roomconfig_membersonly=1 muc#roomconfig_whois=anyone"
    ));
    alice.ok(&format!("/affiliation {ROOM} bob@localhost member"));
    bob.ok(&format!("/join {ROOM}/bob"));
    alice.ok(&format!("/wait occupant {ROOM} bob"));
    alice.ok(&format!("/omemo on {ROOM}"));
    let data = pattern(120_000);
    let path = write(p.homes[0].path(), "map.png", &data);
    alice.ok(&format!("/upload {path} {ROOM}"));
    let own = link_message(alice);
    assert_eq!(own["own"], true, "{own}");
    assert_eq!(own["room"], ROOM, "{own}");
    let m = link_message(bob);
    assert_eq!(m["room"], ROOM, "{m}");
    assert_eq!(m["nick"], "alice", "{m}");
    assert_eq!(m["encrypted"]["version"], "2", "{m}");
    assert_eq!(m["encrypted"]["device"], p.alice_dev, "{m}");
    assert_eq!(m["encrypted"]["decrypted"], true, "{m}");
    p.saved_alike(&own, &m, &format!("{ROOM} @alice"), "map.png", &data);
}

fn an_encrypted_file_to_slixmpp_omemo(kind: ServerKind) {
    let server = upload_server(kind, &["alice", "bob"], 10_000_000);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, alice_dev) = ready(&*server, "alice", home.path());
    let mut bob = SlixPeer::start(&*server, "bob");
    bob.event("ready", |v| is(v, "ready"));
    let data = pattern(40_000);
    let path = write(home.path(), "notes.txt", &data);
    alice.ok("/omemo on bob@localhost");
    alice.ok(&format!("/upload {path} bob@localhost"));
    let m = bob.event("the link", |v| {
        is(v, "message")
            && v["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("aesgcm://"))
    });
    assert_eq!(m["encrypted"], true, "{m}");
    assert_eq!(m["device"], alice_dev, "{m}");
    assert_eq!(m["in_clear"]["oob"], false, "{m}");
    assert_eq!(m["in_clear"]["replace"], json!(null), "{m}");
    let link = m["body"].as_str().unwrap().to_string();
    // Neither the link nor where the file lies, outside the encryption.
    let location = link["aesgcm://".len()..].split('#').next().unwrap();
    let clear = m["in_clear"]["stanza"].as_str().unwrap();
    assert!(clear.contains("eu.siacs.conversations.axolotl"), "{clear}");
    assert!(
        !clear.contains("aesgcm") && !clear.contains(location),
        "the link in the clear: {clear}"
    );
    let (_, key) = parse_aesgcm(&link).expect("a valid aesgcm link");
    assert_eq!(key.iv.len(), 12, "XEP-0454: a 12-byte IV");
    assert!(link.contains("/notes.txt#"), "{link}");
    assert!(!bob.seen.iter().any(|v| is(v, "error")), "{:?}", bob.seen);
    assert_eq!(alice.finish(), 0);
    only_ciphertext_stored(&*server, &link, &data, &[&home.path().join("alice.log")]);
}
