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

/// Alice and bob (both confab) on `server`, their homes.
struct Pair<'a> {
    server: &'a dyn TestServer,
    alice: Client,
    bob: Client,
    homes: [&'a Path; 2],
}

/// Bob got alice's link `m` (`own` as she shows it): `save` gives him
/// the same bytes as `data`, nobody erred, and the server and both logs
/// hold only what they may.
fn saved_alike(p: Pair<'_>, own: &Value, m: &Value, save: &str, data: &[u8]) {
    let Pair {
        server,
        mut alice,
        mut bob,
        homes,
    } = p;
    let link = m["body"].as_str().unwrap().to_string();
    assert_eq!(own["body"], link.as_str());
    bob.ok(save);
    let dest = save.rsplit_once(' ').unwrap().1;
    assert_eq!(std::fs::read(dest).unwrap(), data, "the bytes differ");
    assert!(!alice.saw(|v| is(v, "error")), "{:?}", alice.events);
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
    let logs = [&homes[0].join("alice.log"), &homes[1].join("bob.log")];
    only_ciphertext_stored(server, &link, data, &logs.map(|p| p.as_path()));
}

crate::on_both!(
    an_encrypted_file_one_to_one,
    an_encrypted_file_in_a_room,
    an_encrypted_file_to_slixmpp_omemo,
);

fn an_encrypted_file_one_to_one(kind: ServerKind) {
    let server = upload_server(kind, &["alice", "bob"], 10_000_000);
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut alice, alice_dev) = ready(&*server, "alice", home_a.path());
    let (mut bob, _) = ready(&*server, "bob", home_b.path());
    let data = pattern(300_000);
    let path = write(home_a.path(), "plans.pdf", &data);
    alice.ok("/omemo on bob@localhost");
    alice.ok(&format!("/upload {path} bob@localhost"));
    let done = alice.event("upload done", |v| is(v, "upload") && v["state"] == "done");
    assert_eq!(done["bytes"], 300_000, "{done}");
    assert!(
        done["url"].as_str().unwrap().starts_with("https://"),
        "{done}"
    );
    let own = link_message(&mut alice);
    assert_eq!(own["own"], true, "{own}");
    assert_eq!(own["encrypted"]["decrypted"], true, "{own}");

    let m = link_message(&mut bob);
    assert_eq!(m["encrypted"]["device"], alice_dev, "{m}");
    assert_eq!(m["encrypted"]["decrypted"], true, "{m}");
    assert_eq!(m["attachments"][0]["encrypted"], true, "{m}");
    assert_eq!(m["attachments"][0]["name"], "plans.pdf", "{m}");
    let save = format!(
        "/save alice@localhost @ {}",
        home_b.path().join("saved.pdf").display()
    );
    saved_alike(
        Pair {
            server: &*server,
            alice,
            bob,
            homes: [home_a.path(), home_b.path()],
        },
        &own,
        &m,
        &save,
        &data,
    );
}

fn an_encrypted_file_in_a_room(kind: ServerKind) {
    let server = upload_server(kind, &["alice", "bob"], 10_000_000);
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut alice, alice_dev) = ready(&*server, "alice", home_a.path());
    let (mut bob, _) = ready(&*server, "bob", home_b.path());
    alice.ok(&format!(
        "/create {ROOM} muc#roomconfig_membersonly=1 muc#roomconfig_whois=anyone"
    ));
    alice.ok(&format!("/affiliation {ROOM} bob@localhost member"));
    bob.ok(&format!("/join {ROOM}/bob"));
    alice.ok(&format!("/wait occupant {ROOM} bob"));
    alice.ok(&format!("/omemo on {ROOM}"));
    let data = pattern(120_000);
    let path = write(home_a.path(), "map.png", &data);
    alice.ok(&format!("/upload {path} {ROOM}"));
    let own = link_message(&mut alice);
    assert_eq!(own["own"], true, "{own}");
    assert_eq!(own["room"], ROOM, "{own}");
    let m = link_message(&mut bob);
    assert_eq!(m["room"], ROOM, "{m}");
    assert_eq!(m["nick"], "alice", "{m}");
    assert_eq!(m["encrypted"]["version"], "2", "{m}");
    assert_eq!(m["encrypted"]["device"], alice_dev, "{m}");
    assert_eq!(m["encrypted"]["decrypted"], true, "{m}");
    let save = format!(
        "/save {ROOM} @alice {}",
        home_b.path().join("map.png").display()
    );
    saved_alike(
        Pair {
            server: &*server,
            alice,
            bob,
            homes: [home_a.path(), home_b.path()],
        },
        &own,
        &m,
        &save,
        &data,
    );
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
