//! The server must prove it knows the password: a fake server with a
//! trusted certificate that answers SCRAM with a wrong server signature,
//! or none, does not get confab logged in.

use serde_json::Value;

use crate::common::Client;
use crate::common::fake_server::{FakeServer, Finale, PASSWORD};

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

async fn against(finale: Finale) -> (Client, FakeServer, tempfile::TempDir) {
    let server = FakeServer::start(finale).await;
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
        // (The fake answers no IQ: the batch's roster fetch would wait.)
        drop(c);
        server.outcome().await.expect("served to the end");
    }
}
