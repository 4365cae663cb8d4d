//! The server must prove it knows the password: a fake server with a
//! trusted certificate that answers SCRAM with a wrong server signature,
//! or none, does not get confab logged in; nor one whose XEP-0474 hash says
//! its mechanisms were not those the stream features showed (-PLUS
//! stripped on the way).

use serde_json::Value;

use crate::common::fake_server::{FakeServer, Finale, Offer, PASSWORD};
use crate::common::{Client, Prosody, ProsodyOptions, password_of};

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

async fn against(finale: Finale) -> (Client, FakeServer, tempfile::TempDir) {
    against_offer(finale, Offer::default()).await
}

async fn against_offer(finale: Finale, offer: Offer) -> (Client, FakeServer, tempfile::TempDir) {
    let server = FakeServer::offering(finale, offer).await;
    let home = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", server.port);
    let c = Client::spawn_at(
        "alice@localhost",
        &addr,
        Some(server.ca_file()),
        home.path(),
        &[],
        PASSWORD,
    );
    (c, server, home)
}

async fn refused(finale: Finale, what: &str) {
    let (mut c, server, _home) = against(finale).await;
    let e = tokio::task::block_in_place(|| c.event("login error", |v| is(v, "error")));
    assert!(
        !c.saw(|v| is(v, "connected")),
        "logged in by an impostor: {:?}",
        c.events
    );
    assert_eq!(e["condition"], "bad-server-signature", "{e}");
    let text = e["text"].as_str().unwrap();
    assert!(text.contains("did not prove it knows the password"), "{e}");
    assert!(text.contains(what), "{e}");
    assert!(!e.to_string().contains(PASSWORD), "password leaked: {e}");
    let code = tokio::task::block_in_place(|| c.exit_status());
    assert_eq!(code, 1);
    // Fatal: no second attempt.
    assert!(!c.saw(|v| is(v, "reconnecting")));
    // confab hung up instead of restarting the stream after `<success>`.
    let out = server.outcome().await.unwrap_err();
    assert!(
        out.contains("closed while waiting for \"<stream:stream\""),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_server_signature_fails_the_login() {
    refused(Finale::WrongSignature, "signature wrong").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_server_signature_fails_the_login() {
    refused(Finale::NoData, "signature missing").await;
}

/// The control: the same fake server with the right signature (in
/// `<success>`, or in a last `<challenge>`) logs confab in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_signature_logs_in_either_way() {
    for finale in [Finale::Valid, Finale::ValidAsChallenge] {
        let (mut c, server, _home) = against(finale).await;
        let v = tokio::task::block_in_place(|| c.connected());
        assert_eq!(v["jid"], "alice@localhost/fake", "{finale:?}");
        assert_eq!(v["sasl"], "SCRAM-SHA-1", "{v}");
        // We could bind (TLS 1.3) and no -PLUS was offered: `y`.
        let first = server.client_first().unwrap();
        assert!(first.starts_with("y,,n=alice,r="), "{first}");
        // (The fake answers no IQ: the batch's roster fetch would wait.)
        drop(c);
        server.outcome().await.expect("served to the end");
    }
}

/// What the real server offered: SCRAM-SHA-1 and -PLUS with two binding
/// types (XEP-0474's own example).
fn had_plus() -> (Vec<&'static str>, Option<Vec<&'static str>>) {
    (
        vec!["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"],
        Some(vec!["tls-exporter", "tls-server-end-point"]),
    )
}

/// Someone between us and the server stripped -PLUS and the XEP-0440
/// list from the features, but the server's `h=` (XEP-0474) hashes what it
/// really offered: the login fails, fatally, before our proof is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripped_plus_is_caught_by_the_downgrade_hash() {
    let offer = Offer {
        mechanisms: vec!["SCRAM-SHA-1"],
        channel_bindings: None,
        ssdp_of: Some(had_plus()),
        ..Default::default()
    };
    let (mut c, server, _home) = against_offer(Finale::Valid, offer).await;
    let e = tokio::task::block_in_place(|| c.event("login error", |v| is(v, "error")));
    assert!(!c.saw(|v| is(v, "connected")), "{:?}", c.events);
    assert_eq!(e["condition"], "downgrade-detected", "{e}");
    let text = e["text"].as_str().unwrap();
    assert!(
        text.contains("XEP-0474") && text.contains("SCRAM-SHA-1"),
        "{e}"
    );
    let code = tokio::task::block_in_place(|| c.exit_status());
    assert_eq!(code, 1);
    assert!(!c.saw(|v| is(v, "reconnecting")));
    assert!(server.client_first().unwrap().starts_with("y,,"));
    // confab hung up instead of sending its client-final message.
    let out = server.outcome().await.unwrap_err();
    assert!(
        out.contains("closed while waiting for \"</response>\""),
        "{out}"
    );
}

/// The control: the same `h=` with the features it hashes (-PLUS offered,
/// but only with a binding type confab does not have) logs in with plain
/// SCRAM and the `n` flag (XEP-0474's rule 6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_downgrade_hash_logs_in() {
    let (m, _) = had_plus();
    let offer = Offer {
        mechanisms: m.clone(),
        channel_bindings: Some(vec!["tls-unique"]),
        ssdp_of: Some((m, Some(vec!["tls-unique"]))),
        ..Default::default()
    };
    let (mut c, server, _home) = against_offer(Finale::Valid, offer).await;
    let v = tokio::task::block_in_place(|| c.connected());
    assert_eq!(v["sasl"], "SCRAM-SHA-1", "{v}");
    let first = server.client_first().unwrap();
    assert!(first.starts_with("n,,n=alice,r="), "{first}");
    drop(c);
    server.outcome().await.expect("served to the end");
}

/// A real Prosody 0.12 with `tests/prosody-modules/mod_test_channel_binding.lua`,
/// which announces (XEP-0440) and verifies the binding types it lacks: its
/// own SCRAM code checks confab's `c=` against what the module computes.
fn prosody_binding(types: &[&str], wrong: bool) -> Prosody {
    let mut opts = ProsodyOptions::new().account("alice", password_of("alice"));
    opts.extra_modules.push("test_channel_binding".into());
    let list: Vec<String> = types.iter().map(|t| format!("\"{t}\"")).collect();
    opts.extra_global_config = format!(
        "plugin_paths = {{ \"{}/tests/prosody-modules\" }}\n\
         test_cb_types = {{ {} }}\ntest_cb_wrong = {wrong}",
        env!("CARGO_MANIFEST_DIR"),
        list.join(", ")
    );
    Prosody::start(opts).unwrap_or_else(|e| panic!("prosody: {e}"))
}

/// TLS 1.3 and tls-exporter offered: SCRAM-SHA-1-PLUS, and the server
/// agrees on the binding data (RFC 9266).
#[test]
fn plus_with_tls_exporter_on_a_real_server() {
    let server = prosody_binding(&["tls-exporter", "tls-server-end-point"], false);
    let mut alice = Client::start(&server, "alice");
    let c = alice.connected();
    assert_eq!(c["sasl"], "SCRAM-SHA-1-PLUS", "{c}");
    assert_eq!(alice.finish(), 0);
}

/// Only tls-server-end-point offered: bound to the certificate's hash
/// (RFC 5929).
#[test]
fn plus_with_tls_server_end_point_on_a_real_server() {
    let server = prosody_binding(&["tls-server-end-point"], false);
    let mut alice = Client::start(&server, "alice");
    let c = alice.connected();
    assert_eq!(c["sasl"], "SCRAM-SHA-1-PLUS", "{c}");
    assert_eq!(alice.finish(), 0);
}

/// The control: a server whose binding data differs from ours (as a
/// machine in the middle's TLS would) refuses the login.
#[test]
fn a_binding_mismatch_is_refused_by_the_server() {
    for kind in ["tls-exporter", "tls-server-end-point"] {
        let server = prosody_binding(&[kind], true);
        let home = tempfile::tempdir().unwrap();
        let mut c =
            Client::start_in_with_password(&server, "alice", home.path(), &password_of("alice"));
        let e = c.event("login error", |v| is(v, "error"));
        assert!(!c.saw(|v| is(v, "connected")), "{kind}: {:?}", c.events);
        let text = e["text"].as_str().unwrap();
        assert!(text.contains("SCRAM-SHA-1-PLUS"), "{kind}: {e}");
        assert!(text.contains("channel binding"), "{kind}: {e}");
        assert_eq!(c.exit_status(), 1);
    }
}
