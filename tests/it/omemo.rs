//! OMEMO (XEP-0384) between two confab processes, on Prosody and
//! ejabberd: each publishes its device and bundles (0.3
//! `eu.siacs.conversations.axolotl` and `urn:xmpp:omemo:2`) at login and
//! they speak OMEMO 2 to each other; `/omemo on` encrypts a conversation; both sides read
//! each other (sessions built from bundles and key exchanges); the
//! `message` events say how; trust commands change what is marked; the
//! trace at `--log-level trace` never holds the plaintext; with OMEMO on
//! and no device to encrypt to, nothing is sent.

use std::path::Path;

use serde_json::Value;

use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// Logged in, our OMEMO device published.
pub(crate) fn ready(server: &dyn TestServer, user: &str, home: &Path) -> (Client, u64) {
    let log = home.join(format!("{user}.log"));
    let log = log.to_str().unwrap().to_string();
    let mut c = Client::start_in(
        server,
        user,
        home,
        &["--keep-going", "--log-level", "trace", "--log-file", &log],
    );
    c.connected();
    let info = c.event("OMEMO device published", |v| {
        is(v, "omemo")
            && v["text"]
                .as_str()
                .is_some_and(|t| t.ends_with(" published"))
    });
    let id = info["text"]
        .as_str()
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(!c.saw(|v| is(v, "error")), "{:?}", c.events);
    (c, id)
}

pub(crate) fn message_with(c: &mut Client, body: &str) -> Value {
    let b = body.to_string();
    c.event(body, move |v| is(v, "message") && v["body"] == b.as_str())
}

crate::on_both!(confab_to_confab_both_ways, no_device_no_message,);

fn confab_to_confab_both_ways(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut alice, alice_dev) = ready(&*server, "alice", home_a.path());
    let (mut bob, bob_dev) = ready(&*server, "bob", home_b.path());

    alice.ok("/omemo on bob@localhost");
    alice.ok("/msg bob@localhost the eagle lands at noon");
    let own = message_with(&mut alice, "the eagle lands at noon");
    assert_eq!(own["own"], true, "{own}");
    assert_eq!(own["encrypted"]["version"], "2", "{own}");
    let m = message_with(&mut bob, "the eagle lands at noon");
    assert_eq!(m["own"], false, "{m}");
    assert_eq!(m["encrypted"]["version"], "2", "{m}");
    assert_eq!(m["encrypted"]["device"], alice_dev, "{m}");
    assert_eq!(m["encrypted"]["trusted"], true, "{m}");
    assert_eq!(m["encrypted"]["decrypted"], true, "{m}");

    // The other way, on the session Bob answered.
    bob.ok("/omemo on alice@localhost");
    bob.ok("/msg alice@localhost the fox runs at dusk");
    let m = message_with(&mut alice, "the fox runs at dusk");
    assert_eq!(m["encrypted"]["device"], bob_dev, "{m}");
    assert_eq!(m["encrypted"]["trusted"], true, "{m}");
    // And again, both ratchets moving.
    alice.ok("/msg bob@localhost second from alice");
    message_with(&mut bob, "second from alice");

    // Alice distrusts Bob's key: his messages are marked untrusted, and
    // she no longer encrypts to him.
    let fps = alice.ok("/omemo fingerprints bob@localhost");
    let _ = fps;
    let info = alice
        .find(|v| {
            is(v, "info")
                && v["text"]
                    .as_str()
                    .is_some_and(|t| t.contains(&format!("device {bob_dev} (OMEMO 2):")))
        })
        .expect("bob's device in the fingerprints");
    let text = info["text"].as_str().unwrap();
    let line = text
        .lines()
        .find(|l| l.contains(&format!("device {bob_dev} (OMEMO 2):")))
        .unwrap();
    let fp = line
        .split(": ")
        .nth(1)
        .unwrap()
        .split(" [")
        .next()
        .unwrap()
        .to_string();
    assert_eq!(fp.replace(' ', "").len(), 64, "{line}");
    alice.ok(&format!("/omemo distrust bob@localhost {fp}"));
    bob.ok("/msg alice@localhost from a distrusted key");
    let m = message_with(&mut alice, "from a distrusted key");
    assert_eq!(m["encrypted"]["trusted"], false, "{m}");
    let e = alice.run("/msg bob@localhost not to a distrusted key");
    assert!(is(&e, "error"), "{e}");
    alice.ok(&format!("/omemo trust bob@localhost {fp}"));
    bob.ok("/msg alice@localhost verified now");
    let m = message_with(&mut alice, "verified now");
    assert_eq!(m["encrypted"]["trusted"], true, "{m}");

    // No plaintext in either trace (the ciphertext is there).
    alice.finish();
    bob.finish();
    for (home, user) in [(home_a.path(), "alice"), (home_b.path(), "bob")] {
        let log = std::fs::read_to_string(home.join(format!("{user}.log"))).unwrap();
        assert!(
            log.contains("eu.siacs.conversations.axolotl") && log.contains("urn:xmpp:omemo:2"),
            "{user}: no trace"
        );
        // Keys (message keys, bundles of both versions) and payloads
        // masked in the trace.
        for el in [
            "key",
            "payload",
            "identityKey",
            "preKeyPublic",
            "ik",
            "spk",
            "spks",
            "pk",
        ] {
            let open = format!("<{el} ");
            let plain = format!("<{el}>");
            for (i, _) in log.match_indices(&open).chain(log.match_indices(&plain)) {
                let rest = &log[i..];
                let gt = rest.find('>').unwrap();
                assert!(
                    rest[gt + 1..].starts_with("[redacted]"),
                    "{user}: <{el}> not masked: {}",
                    &rest[..rest.len().min(120)]
                );
            }
        }
        for secret in [
            "the eagle lands",
            "the fox runs",
            "second from alice",
            "distrusted key",
            "verified now",
        ] {
            assert!(
                !log.contains(secret),
                "{user}'s log holds the plaintext {secret:?}"
            );
        }
    }
}

fn no_device_no_message(kind: ServerKind) {
    let server = server_with(kind, &["alice", "carol"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, _) = ready(&*server, "alice", home.path());
    // Carol has never logged in: no device of hers (a confab would
    // publish one).
    alice.ok("/omemo on carol@localhost");
    let e = alice.run("/msg carol@localhost plain would leak");
    assert!(is(&e, "error"), "{e}");
    assert!(e["text"].as_str().unwrap().contains("not sent"), "{e}");
    // Nor a file's link (this server has no upload service: the
    // command fails; with one, the link would go encrypted only, see
    // omemo_files.rs).
    let file = home.path().join("secret.txt");
    std::fs::write(&file, "the plans").unwrap();
    let e = alice.run(&format!("/upload {} carol@localhost", file.display()));
    assert!(is(&e, "error"), "{e}");
    // Nothing waits for her in offline storage.
    let mut carol = Client::online(&*server, "carol");
    carol.ok("/msg alice@localhost ping");
    message_with(&mut alice, "ping");
    assert!(!carol.saw(|v| is(v, "message") && v["body"] == "plain would leak"));
    assert!(
        !carol
            .saw(|v| is(v, "message")
                && v["body"].as_str().is_some_and(|b| b.contains("secret.txt")))
    );
}
