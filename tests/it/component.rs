//! The XEP-0114 base of the testbed peers: a component attached to the
//! test Prosody talks to a confab client both ways.

use minidom::Element;

use confab::protocol::nc;
use confab_testbed::component::{ComponentError, ComponentStream, NS, stanza};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_exchanges_messages_with_a_client() {
    let server = prosody_with(&["alice"]);
    let mut comp = attach(&server, DEFAULT_COMPONENT, "handshake accepted").await;
    assert_eq!(comp.jid(), DEFAULT_COMPONENT);

    let mut alice = tokio::task::block_in_place(|| Client::online(&server, "alice"));
    let alice_jid = alice.find(|v| v["event"] == "connected").unwrap()["jid"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::task::block_in_place(|| {
        alice.ok(&format!(
            "/msg echo@{DEFAULT_COMPONENT} ping through the component"
        ))
    });

    // The component gets it, from alice's full JID.
    let got = received(&mut comp, "message", "message reached the component").await;
    assert_eq!(got.attr("from"), Some(alice_jid.as_str()));
    assert_eq!(
        got.attr("to"),
        Some(format!("echo@{DEFAULT_COMPONENT}").as_str())
    );
    assert_eq!(
        got.get_child("body", NS).unwrap().text(),
        "ping through the component"
    );

    // And answers.
    let reply: Element = stanza("message")
        .attr(nc("from"), format!("echo@{DEFAULT_COMPONENT}"))
        .attr(nc("to"), alice_jid.clone())
        .attr(nc("type"), "chat")
        .append(stanza("body").append("pong from the component").build())
        .build();
    comp.send(&reply).await.unwrap();
    let m = tokio::task::block_in_place(|| {
        alice.event("the component's answer", |v| {
            v["event"] == "message" && v["body"] == "pong from the component"
        })
    });
    assert_eq!(m["from"], format!("echo@{DEFAULT_COMPONENT}"));
    assert_eq!(tokio::task::block_in_place(|| alice.finish()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_component_secret_is_refused() {
    let server = prosody_with(&[]);
    let e = ComponentStream::connect(server.component_port(), DEFAULT_COMPONENT, "not-the-secret")
        .await
        .err()
        .expect("refused");
    assert!(matches!(e, ComponentError::Refused { .. }), "{e}");
    assert!(e.to_string().contains("not-authorized"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_iq_answer_ends_the_command_at_once() {
    // An old service answers with a numeric error code only (no
    // condition): xmpp-parsers cannot read it, yet the request that waits
    // for it must end now, not after its 30 s timeout.
    let server = prosody_with(&["alice"]);
    let mut comp = attach(&server, DEFAULT_COMPONENT, "handshake accepted").await;
    let mut alice = tokio::task::block_in_place(|| Client::online(&server, "alice"));
    tokio::task::block_in_place(|| alice.send(&format!("/browse old@{DEFAULT_COMPONENT}")));
    let iq = received(&mut comp, "iq", "the browse request").await;
    let reply = stanza("iq")
        .attr(nc("type"), "error")
        .attr(nc("id"), iq.attr("id").unwrap())
        .attr(nc("to"), iq.attr("from").unwrap())
        .attr(nc("from"), iq.attr("to").unwrap())
        .append(stanza("error").attr(nc("code"), "404").build())
        .build();
    comp.send(&reply).await.unwrap();
    let started = std::time::Instant::now();
    let e = tokio::task::block_in_place(|| {
        alice.event("the command's error", |v| {
            v["event"] == "error" && v["command"] == format!("/browse old@{DEFAULT_COMPONENT}")
        })
    });
    assert!(
        e["text"]
            .as_str()
            .unwrap_or_default()
            .contains("could not be read"),
        "{e}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// A browse (`jabber:iq:browse`) of the legacy service `to` from a fresh
/// peer of `user`: is the service there?
async fn answered(server: &Prosody, user: &str, to: &str) -> bool {
    use xmpp_parsers::iq::Iq;
    let mut alice = peer::peer(server, user).await;
    let browse = Element::builder("query", "jabber:iq:browse").build();
    let iq = Iq::Get {
        from: None,
        to: Some(to.parse().unwrap()),
        id: "probe".into(),
        payload: browse,
    };
    peer::send(&mut alice, iq).await;
    matches!(peer::answer(&mut alice, "probe").await, Iq::Result { .. })
}

/// Whether `jid` answers within 20 s (asked every 200 ms).
async fn attached(server: &Prosody, jid: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if answered(server, "alice", jid).await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_stays_attached_through_quiet_periods_and_server_restarts() {
    use confab_testbed::component::Link;
    use confab_testbed::legacy;
    use std::time::Duration;
    use tokio_xmpp::xmlstream::Timeouts;

    const JID: &str = "legacy.localhost";
    let mut server = Prosody::start(
        ProsodyOptions::new()
            .account("alice", password_of("alice"))
            .component(JID, ""),
    )
    .unwrap_or_else(|e| panic!("Prosody: {e}"));
    // A link that is declared dead after 1 s of silence plus 1 s without
    // an answer: the peer must keep it busy itself.
    let link = Link {
        port: server.component_port(),
        secret: server.component_secret().to_string(),
        timeouts: Timeouts {
            read_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
        },
    };
    run_peer(async move {
        let e = legacy::run(&link, legacy::Options::new(JID)).await;
        eprintln!("legacy service ended: {e:?}");
    });
    assert!(attached(&server, JID).await, "first attach");

    // Quiet for twice the link's whole timeout: still there, at the first
    // question (before, the stream timed out and nothing reconnected it).
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        answered(&server, "alice", JID).await,
        "detached after a quiet period:\n{}",
        server.log_tail(20)
    );
    assert!(
        !std::fs::read_to_string(server.log_path())
            .unwrap_or_default()
            .contains("component disconnected"),
        "the link dropped while quiet:\n{}",
        server.log_tail(20)
    );

    // The server restarts: the peer connects again by itself.
    tokio::task::block_in_place(|| server.restart()).expect("restart");
    assert!(
        attached(&server, JID).await,
        "not back after a restart:\n{}",
        server.log_tail(20)
    );
}
