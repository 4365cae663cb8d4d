//! A hand-driven XMPP peer (confab's own connection code, raw stanzas)
//! talking to a confab --batch process: disco#info and ping answers,
//! malformed and hostile stanzas.

use jid::Jid;
use minidom::Element;
use serde_json::Value;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::{Lang, Message, MessageType};
use xmpp_parsers::presence::Presence;

use crate::common::peer::*;
use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_disco_and_ping_and_survives_bad_stanzas() {
    let server = prosody_with(&["alice", "mallory"]);
    let mut alice = Client::start(&server, "alice");
    let alice_jid = Jid::new(alice.connected()["jid"].as_str().unwrap()).unwrap();
    let mut mallory = peer(&server, "mallory").await;

    // disco#info: identity client/console and the MUC feature.
    let q = Element::builder("query", "http://jabber.org/protocol/disco#info").build();
    send(
        &mut mallory,
        Iq::Get {
            from: None,
            to: Some(alice_jid.clone()),
            id: "d1".into(),
            payload: q,
        },
    )
    .await;
    let Iq::Result {
        payload: Some(p), ..
    } = answer(&mut mallory, "d1").await
    else {
        panic!("disco#info failed")
    };
    let identity = p
        .get_child("identity", "http://jabber.org/protocol/disco#info")
        .unwrap();
    assert_eq!(identity.attr("category"), Some("client"));
    assert_eq!(identity.attr("type"), Some("console"));
    assert!(
        p.children()
            .any(|f| f.attr("var") == Some("http://jabber.org/protocol/muc"))
    );

    // ping.
    let ping = Element::builder("ping", "urn:xmpp:ping").build();
    send(
        &mut mallory,
        Iq::Get {
            from: None,
            to: Some(alice_jid.clone()),
            id: "p1".into(),
            payload: ping,
        },
    )
    .await;
    assert!(matches!(
        answer(&mut mallory, "p1").await,
        Iq::Result { .. }
    ));

    // An unknown request gets an error, not silence.
    let odd = Element::builder("frobnicate", "urn:example:nothing").build();
    send(
        &mut mallory,
        Iq::Get {
            from: None,
            to: Some(alice_jid.clone()),
            id: "u1".into(),
            payload: odd,
        },
    )
    .await;
    assert!(matches!(answer(&mut mallory, "u1").await, Iq::Error { .. }));

    // A presence with an invalid <show/> cannot be parsed: reported, dropped.
    let mut bad = Presence::available().with_to(alice_jid.clone());
    bad.payloads.push(
        Element::builder("show", "jabber:client")
            .append("bogus")
            .build(),
    );
    send(&mut mallory, bad).await;
    let e = alice.event("malformed", |v| {
        is(v, "error") && v["condition"] == "malformed-stanza"
    });
    assert!(
        e["text"].as_str().unwrap().contains("mallory@localhost"),
        "{e}"
    );

    // A hostile body: delivered intact, JSON-escaped, and the session goes on.
    // (C0 controls such as ESC cannot travel in XML at all; C1 controls
    // and bidi overrides can.)
    let hostile = "\u{9b}2J\u{9d}0;owned\u{9c}\u{85}\u{202e}evil\u{7f}";
    let mut m = Message::new_with_type(MessageType::Chat, Some(alice_jid.clone()));
    m.bodies.insert(Lang::new(), hostile.to_string());
    send(&mut mallory, m).await;
    let got = alice.event("hostile message", |v| {
        is(v, "message")
            && v["from"]
                .as_str()
                .is_some_and(|f| f.starts_with("mallory@"))
    });
    assert_eq!(got["body"], hostile);
    // The JSON line as printed holds no control character or override.
    let line = alice
        .raw_lines()
        .into_iter()
        .find(|l| l.contains("owned"))
        .expect("printed line");
    assert!(
        !line
            .chars()
            .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
        "{line:?}"
    );

    // Still alive and well.
    alice.ok("/join after@conference.localhost");
    assert_eq!(alice.finish(), 0);
}

/// A live one-to-one message with `<delay/>`: `n`, sent by mallory.
fn delayed_chat(to: &Jid, body: &str, delay_from: Option<&str>) -> Message {
    let mut m = Message::new_with_type(MessageType::Chat, Some(to.clone()));
    m.bodies.insert(Lang::new(), body.to_string());
    let mut delay = Element::builder("delay", "urn:xmpp:delay").attr(
        minidom::rxml::xml_ncname!("stamp").into(),
        "1970-01-01T00:00:00Z",
    );
    if let Some(f) = delay_from {
        delay = delay.attr(minidom::rxml::xml_ncname!("from").into(), f);
    }
    m.payloads.push(delay.build());
    m
}

fn time_of(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v["time"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_chat_is_shown_when_it_arrived_not_when_it_claims() {
    let server = prosody_with(&["alice", "mallory"]);
    let mut alice = Client::start(&server, "alice");
    let alice_jid = Jid::new(alice.connected()["jid"].as_str().unwrap()).unwrap();
    let mut mallory = peer(&server, "mallory").await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    send(&mut mallory, delayed_chat(&alice_jid, "from 1970", None)).await;
    send(
        &mut mallory,
        delayed_chat(
            &alice_jid,
            "from 1970, says mallory",
            Some("mallory@localhost"),
        ),
    )
    .await;
    for body in ["from 1970", "from 1970, says mallory"] {
        let m = alice.event(body, |v| is(v, "message") && v["body"] == body);
        assert!(time_of(&m) >= before, "claimed time shown: {m}");
        assert_eq!(m["delayed"], false, "{m}");
    }
    assert_eq!(alice.finish(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_messages_keep_the_time_our_server_stored_them() {
    let server = prosody_with(&["alice", "mallory"]);
    let mut mallory = peer(&server, "mallory").await;
    // Alice is offline: the server stores the message (XEP-0160).
    let alice = Jid::new(&server.jid("alice")).unwrap();
    let mut m = Message::new_with_type(MessageType::Chat, Some(alice));
    m.bodies
        .insert(Lang::new(), "while you were out".to_string());
    send(&mut mallory, m).await;
    // Stored before this (stamps have whole seconds).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let login = chrono::Utc::now();
    let mut alice = Client::start(&server, "alice");
    let m = alice.event("the offline message", |v| {
        is(v, "message") && v["body"] == "while you were out"
    });
    assert_eq!(m["delayed"], true, "{m}");
    assert!(time_of(&m) < login, "{m}");
    assert!(time_of(&m) > login - chrono::Duration::seconds(60), "{m}");
    assert_eq!(alice.finish(), 0);
}
