//! Message carbons (XEP-0280) and the account's archive (XEP-0313 on our
//! own JID), on Prosody and ejabberd: two confab processes on one account
//! (two resources) and a contact; carbons both ways; forged carbons from
//! a contact dropped and reported; what was sent while a client was away
//! shown once after its login (offline storage and the archive both
//! bring it), and not again at the next login.

use std::path::Path;

use serde_json::Value;
use xmpp_parsers::message::{Lang, Message, MessageType};

use crate::common::peer;
use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// Messages so far with this body.
fn with_body(c: &Client, body: &str) -> Vec<Value> {
    c.events
        .iter()
        .filter(|v| is(v, "message") && v["body"] == body)
        .cloned()
        .collect()
}

/// `user` started in `home` (kept by the caller), online, carbons
/// enabled and the account's archive caught up (the `mam-account` event
/// comes after the server answered the carbons request: both go out in
/// this order).
fn logged_in(server: &dyn TestServer, user: &str, home: &Path) -> (Client, String) {
    let mut c = Client::start_in(server, user, home, &[]);
    let jid = c.connected()["jid"].as_str().unwrap().to_string();
    let m = c.event("mam-account", |v| is(v, "mam-account"));
    assert_eq!(m["complete"], true, "{m}");
    assert!(!c.saw(|v| is(v, "error")), "{:?}", c.events);
    (c, jid)
}

/// `alice`'s one line with `body`: once, ours or not, in the
/// conversation with `with`.
fn once(c: &mut Client, body: &str, own: bool, with: &str) -> Value {
    let b = body.to_string();
    let m = c.event(body, move |v| is(v, "message") && v["body"] == b.as_str());
    assert_eq!(m["own"], own, "{m}");
    assert!(m.get("room").is_none(), "{m}");
    assert_eq!(
        m["from"].as_str().unwrap().split('/').next().unwrap(),
        with,
        "{m}"
    );
    m
}

crate::on_both!(
    carbons_show_both_sides_on_every_client,
    forged_carbons_from_a_contact_are_dropped,
    messages_sent_while_away_appear_once_after_login,
    the_account_is_caught_up_after_a_reconnection,
    reactions_and_retractions_from_another_client_are_ours,
);

fn reactions_and_retractions_from_another_client_are_ours(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, _) = logged_in(&*server, "alice", home_a.path());
    let (mut b, _) = logged_in(&*server, "alice", home_b.path());
    let mut bob = Client::online(&*server, "bob");
    bob.ok("/msg alice@localhost react to this");
    let m = once(&mut a, "react to this", false, "bob@localhost");
    once(&mut b, "react to this", false, "bob@localhost");
    let id = m["id"].as_str().unwrap().to_string();
    // B reacts: A shows the reaction as alice's own.
    b.ok(&format!("/react bob@localhost {id} 👍"));
    let r = a.event("B's reaction", |v| is(v, "reactions"));
    assert_eq!(r["target"], id.as_str(), "{r}");
    assert_eq!(r["own"], true, "{r}");
    assert_eq!(r["emojis"], serde_json::json!(["👍"]), "{r}");
    bob.event("the reaction", |v| is(v, "reactions") && v["own"] == false);
    // A writes, B takes it back: gone on A too.
    a.ok("/msg bob@localhost oops");
    once(&mut b, "oops", true, "bob@localhost");
    b.ok("/retract bob@localhost");
    let r = a.event("B's retraction", |v| is(v, "retracted"));
    assert_eq!(r["own"], true, "{r}");
    bob.event("the retraction", |v| is(v, "retracted"));
    for c in [&mut a, &mut b, &mut bob] {
        assert_eq!(c.finish(), 0);
    }
}

fn carbons_show_both_sides_on_every_client(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, jid_a) = logged_in(&*server, "alice", home_a.path());
    let (mut b, jid_b) = logged_in(&*server, "alice", home_b.path());
    assert_ne!(jid_a, jid_b, "two resources");
    let mut bob = Client::online(&*server, "bob");

    // Alice writes from A: B shows it as hers, with bob.
    a.ok("/msg bob@localhost sent from A");
    once(&mut bob, "sent from A", false, "alice@localhost");
    once(&mut b, "sent from A", true, "bob@localhost");
    // Bob writes to A only: B gets the received carbon.
    bob.ok(&format!("/msg {jid_a} to A only"));
    once(&mut a, "to A only", false, "bob@localhost");
    once(&mut b, "to A only", false, "bob@localhost");
    // And the other way round.
    b.ok("/msg bob@localhost sent from B");
    once(&mut bob, "sent from B", false, "alice@localhost");
    once(&mut a, "sent from B", true, "bob@localhost");
    bob.ok(&format!("/msg {jid_b} to B only"));
    once(&mut b, "to B only", false, "bob@localhost");
    once(&mut a, "to B only", false, "bob@localhost");
    // A round trip later, each is still there once.
    bob.ok("/msg alice@localhost the end");
    once(&mut a, "the end", false, "bob@localhost");
    once(&mut b, "the end", false, "bob@localhost");
    for c in [&a, &b] {
        for body in ["sent from A", "to A only", "sent from B", "to B only"] {
            assert_eq!(with_body(c, body).len(), 1, "{body}: {:?}", c.events);
        }
    }
    for c in [&mut a, &mut b, &mut bob] {
        assert_eq!(c.finish(), 0);
    }
}

/// A `<received/>` or `<sent/>` wrapper around `inner`, as a contact
/// (not our server) would forge it, to `to`.
fn forged(to: &str, wrapper: &str, inner_from: &str, inner_to: &str, body: &str) -> Message {
    let inner = format!(
        "<message xmlns='jabber:client' from='{inner_from}' to='{inner_to}' type='chat'><body>{body}</body></message>"
    );
    let xml = format!(
        "<{wrapper} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{inner}</forwarded></{wrapper}>"
    );
    let mut m = Message::new_with_type(MessageType::Chat, Some(to.parse().unwrap()));
    m.payloads.push(xml.parse().unwrap());
    m
}

fn forged_carbons_from_a_contact_are_dropped(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let (mut alice, jid) = logged_in(&*server, "alice", home.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut bob = rt.block_on(peer::peer(&*server, "bob"));
    // Bob pretends alice's server forwards "her" message to him, and one
    // "from carol" to another client of hers.
    for m in [
        forged(
            &jid,
            "sent",
            "alice@localhost/phone",
            "bob@localhost",
            "I owe bob 100 euros",
        ),
        forged(
            &jid,
            "received",
            "carol@localhost/x",
            "alice@localhost/phone",
            "carol says trust bob",
        ),
    ] {
        rt.block_on(peer::send(&mut bob, m));
    }
    let mut plain = Message::new_with_type(MessageType::Chat, Some(jid.parse().unwrap()));
    plain.bodies.insert(Lang::new(), "an honest message".into());
    rt.block_on(peer::send(&mut bob, plain));
    once(&mut alice, "an honest message", false, "bob@localhost");
    // Each forgery was reported (before the honest message: in order).
    let reports: Vec<&Value> = alice
        .events
        .iter()
        .filter(|v| {
            is(v, "error")
                && v["condition"] == "forged-answer"
                && v["text"].as_str().unwrap_or("").contains("forged carbon")
        })
        .collect();
    assert_eq!(reports.len(), 2, "{:?}", alice.events);
    assert!(
        reports[0]["text"]
            .as_str()
            .unwrap()
            .contains("bob@localhost"),
        "{}",
        reports[0]
    );
    for body in ["I owe bob 100 euros", "carol says trust bob"] {
        assert!(
            with_body(&alice, body).is_empty(),
            "{body}: {:?}",
            alice.events
        );
    }
    assert_eq!(alice.finish(), 0);
}

fn messages_sent_while_away_appear_once_after_login(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // B was here once (no history of alice's yet), and is gone.
    let (mut b, _) = logged_in(&*server, "alice", home_b.path());
    assert_eq!(b.finish(), 0);
    let (mut a, _) = logged_in(&*server, "alice", home_a.path());
    let mut bob = Client::online(&*server, "bob");
    const N: usize = 3;
    for i in 0..N {
        bob.ok(&format!("/msg alice@localhost while B was away {i}"));
        once(
            &mut a,
            &format!("while B was away {i}"),
            false,
            "bob@localhost",
        );
    }
    a.ok("/msg bob@localhost A wrote while B was away");
    once(
        &mut bob,
        "A wrote while B was away",
        false,
        "alice@localhost",
    );
    assert_eq!(a.finish(), 0);
    // Now nobody of alice's is online: offline storage too.
    bob.ok("/msg alice@localhost while all were away");

    // B is back: from the archive (and offline storage), each once.
    let (mut b, _) = logged_in(&*server, "alice", home_b.path());
    for i in 0..N {
        let m = once(
            &mut b,
            &format!("while B was away {i}"),
            false,
            "bob@localhost",
        );
        assert_eq!(m["delayed"], true, "{m}");
    }
    let m = once(&mut b, "A wrote while B was away", true, "bob@localhost");
    assert_eq!(m["delayed"], true, "{m}");
    once(&mut b, "while all were away", false, "bob@localhost");
    // A live round trip: offline storage has delivered by now.
    bob.ok("/msg alice@localhost welcome back");
    once(&mut b, "welcome back", false, "bob@localhost");
    let all = |c: &Client| {
        c.events
            .iter()
            .filter(|v| is(v, "message") && v["body"].as_str().unwrap().contains("away"))
            .count()
    };
    assert_eq!(all(&b), N + 2, "{:?}", b.events);
    assert_eq!(b.finish(), 0);

    // And at the next login nothing is new: the archive mark and the
    // history know it all.
    let (mut b, _) = logged_in(&*server, "alice", home_b.path());
    let m = b.event("mam-account", |v| is(v, "mam-account"));
    assert_eq!(m["count"], 0, "{m}");
    bob.ok("/msg alice@localhost once more");
    once(&mut b, "once more", false, "bob@localhost");
    assert_eq!(all(&b), 0, "{:?}", b.events);
    assert_eq!(b.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

fn the_account_is_caught_up_after_a_reconnection(kind: ServerKind) {
    let mut server = server_with(kind, &["alice", "bob"]);
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, _) = logged_in(&*server, "alice", home_a.path());
    let mut bob = Client::online(&*server, "bob");
    bob.ok("/msg alice@localhost before the restart");
    once(&mut a, "before the restart", false, "bob@localhost");
    assert_eq!(bob.finish(), 0);
    server.stop();
    // A retries with backoff (0.5, 1, 2, 4, 8 s): right after its 4th
    // attempt it waits 8 s, time for bob to write to alice's phone (B)
    // while A is away: only the archive has it for A then.
    a.event("4th attempt", |v| {
        is(v, "reconnecting") && v["attempt"] == 4
    });
    server.restart().expect("the server restarts");
    let started = std::time::Instant::now();
    let (mut b, _) = logged_in(&*server, "alice", home_b.path());
    let mut bob = Client::online(&*server, "bob");
    const N: usize = 3;
    for i in 0..N {
        bob.ok(&format!("/msg alice@localhost while A was away {i}"));
        once(
            &mut b,
            &format!("while A was away {i}"),
            false,
            "bob@localhost",
        );
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(7),
        "too slow for the test's window"
    );
    a.event("reconnected", |v| is(v, "reconnected"));
    let m = a.expect("the second catch-up", |v| is(v, "mam-account"));
    assert_eq!(
        (m["count"].clone(), m["complete"].clone()),
        (N.into(), true.into()),
        "{m}"
    );
    for i in 0..N {
        let m = once(
            &mut a,
            &format!("while A was away {i}"),
            false,
            "bob@localhost",
        );
        assert_eq!(m["delayed"], true, "{m}");
    }
    assert_eq!(with_body(&a, "before the restart").len(), 1);
    for c in [&mut a, &mut b, &mut bob] {
        assert_eq!(c.finish(), 0);
    }
}
