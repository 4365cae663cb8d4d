//! Hostile peers against the private Prosody: stanzas nested thousands
//! deep (an IQ, a directed presence, a headline message) are dropped by
//! confab's parse guard with a `dropped` event each, and confab goes on —
//! in batch and in the TUI.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{FallibleStreamElement, XmppStreamElement};

use confab::session::connect::Io;

use crate::common::peer::*;
use crate::common::*;

/// Deep enough to overflow the stack of the recursive element code in
/// both builds (the issue saw the release build survive 3,000).
const DEPTH: usize = 3500;

/// A stanza `<name ATTRS>` with `depth` nested elements, as raw bytes: a
/// minidom tree this deep would overflow the test's own stack.
fn deep(name: &str, attrs: &str) -> String {
    let mut s = format!("<{name} {attrs}>");
    s.push_str("<a xmlns='urn:example:deep'>");
    s.push_str(&"<a>".repeat(DEPTH - 1));
    s.push_str(&"</a>".repeat(DEPTH));
    s.push_str(&format!("</{name}>"));
    s
}

/// Mallory writes a deep IQ, directed presence and headline message to
/// `to`, then a normal chat message, straight onto the TLS stream.
/// Returns the connection (keep it open until the end of the test).
async fn attack(stream: Stream, to: &str) -> Io {
    let mut io = stream.into_inner();
    let mut bytes = String::new();
    bytes.push_str(&deep("iq", &format!("type='get' id='deep-iq' to='{to}'")));
    bytes.push_str(&deep("presence", &format!("to='{to}'")));
    bytes.push_str(&deep("message", &format!("type='headline' to='{to}'")));
    bytes.push_str(&format!(
        "<message type='chat' id='after-1' to='{to}'><body>still here after the attack</body></message>"
    ));
    assert!(bytes.len() > 3 * 7 * DEPTH);
    io.write_all(bytes.as_bytes()).await.expect("write");
    io.flush().await.expect("flush");
    io
}

fn dropped(v: &Value, stanza: &str) -> bool {
    v["event"] == "dropped" && v["stanza"] == stanza
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_stanzas_are_dropped_and_batch_goes_on() {
    let server = prosody_with(&["alice", "mallory"]);
    let mut alice = Client::start(&server, "alice");
    let alice_jid = alice.connected()["jid"].as_str().unwrap().to_string();
    let (mallory, mallory_jid) = peer_with_jid(&server, "mallory").await;
    let mut conn = attack(mallory, &alice_jid).await;

    for stanza in ["iq", "presence", "message"] {
        let d = alice.event(&format!("a dropped {stanza}"), |v| dropped(v, stanza));
        assert_eq!(d["from"], mallory_jid.to_string(), "{d}");
        assert_eq!(d["reason"], "too-deep", "{d}");
        assert!(
            d["text"].as_str().unwrap().contains("deeper than 64"),
            "{d}"
        );
        assert!(d.get("room").is_none(), "{d}");
    }
    // The message sent after them arrives: the stream went on.
    let m = alice.event("the message after the attack", |v| {
        v["event"] == "message" && v["body"] == "still here after the attack"
    });
    assert!(
        m["from"].as_str().unwrap().starts_with("mallory@localhost"),
        "{m}"
    );
    assert!(!alice.saw(|v| v["event"] == "disconnected"));
    // The deep IQ request was answered with an error, not left hanging.
    let answer = tokio::time::timeout(Duration::from_secs(20), async {
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some(i) = text
                .find("id='deep-iq'")
                .or_else(|| text.find("id=\"deep-iq\""))
            {
                let start = text[..i].rfind("<iq").unwrap_or(0);
                if let Some(end) = text[i..].find("</iq>") {
                    return text[start..i + end].to_string();
                }
            }
            let n = conn.read(&mut chunk).await.expect("read");
            assert!(n > 0, "mallory's connection closed: {text}");
            got.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("an answer to the deep IQ");
    assert!(
        answer.contains("type='error'") || answer.contains("type=\"error\""),
        "{answer}"
    );
    assert!(answer.contains("policy-violation"), "{answer}");
    // Still alive and well.
    alice.ok("/join afterwards@conference.localhost");
    assert_eq!(alice.finish(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_stanzas_leave_the_tui_running() {
    let server = prosody_with(&["alice", "mallory"]);
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 180, 30);
    let mut mallory = peer(&server, "mallory").await;
    // Alice writes first, so that Mallory learns her full JID.
    tmux.send(&["/msg mallory@localhost hello mallory", "Enter"]);
    let alice_jid = tokio::time::timeout(Duration::from_secs(40), async {
        loop {
            match mallory.next().await {
                Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(
                    Stanza::Message(m),
                )))) if !m.bodies.is_empty() => return m.from.expect("from").to_string(),
                Some(Ok(_)) => continue,
                other => panic!("mallory's stream: {other:?}"),
            }
        }
    })
    .await
    .expect("alice's message");
    let _conn = attack(mallory, &alice_jid).await;

    let s = tmux.wait_for("a drop in the status line", |s| {
        s.contains("dropped unread") && s.contains("deeper than 64")
    });
    assert!(s.contains("mallory@localhost"), "{s}");
    assert!(tmux.alive());
    // Still reading and rendering: a join goes through and is drawn.
    tmux.send(&["/join tuiafter@conference.localhost", "Enter"]);
    tmux.wait_for("the room joined", |s| {
        s.contains("tuiafter") && s.contains("1 people") && s.contains("~alice")
    });
    assert!(tmux.alive());
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
}

/// The testbed's components (XEP-0114 peers that run for days) have the
/// same guard: a deep stanza for one is dropped, the next one arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_drops_deep_stanzas_and_goes_on() {
    use confab_testbed::component::NS;
    let server = prosody_with(&["mallory"]);
    let mut comp = attach(&server, DEFAULT_COMPONENT, "handshake accepted").await;
    let mallory = peer(&server, "mallory").await;
    let _conn = attack(mallory, &format!("echo@{DEFAULT_COMPONENT}")).await;
    let got = received(
        &mut comp,
        "message",
        "the message after the attack reached the component",
    )
    .await;
    assert_eq!(
        got.get_child("body", NS).unwrap().text(),
        "still here after the attack"
    );
}
