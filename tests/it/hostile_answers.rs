//! Issue 12 against the private Prosody: answers forged by another
//! account (an IQ result and error while `/info` waits, a `<fin
//! complete='true'/>` in the middle of a MAM catch-up, a message error
//! while `/say` waits) change nothing; a 6,000-message absence comes back
//! whole; a room that did not exist at one join's check gets MAM at the
//! next join.
//!
//! The real ids are random, so the hostile account learns them where the
//! request went: the silent service is a raw component that sees the IQ;
//! for the room, a hook placed in the server through `prosodyctl shell`
//! holds one of our stanzas and tells the test its id (then answers it
//! for real, or lets it through).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use jid::Jid;
use minidom::Element;
use serde_json::Value;
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{FallibleStreamElement, XmppStreamElement};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::{Lang, Message, MessageType};
use xmpp_parsers::presence::Presence;

use confab_testbed::component::iq_result;

use crate::common::peer::*;
use crate::common::*;
use crate::continuity::server_lua;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

fn forged(v: &Value) -> bool {
    is(v, "error") && v["condition"] == "forged-answer"
}

/// Waits (bounded) for a Lua expression in the server to give a value:
/// the text between `<<` and `>>` in `return '<<'..(EXPR)..'>>'`.
fn server_value(server: &Prosody, expr: &str) -> String {
    let until = Instant::now() + LONG;
    loop {
        let out = server_lua(server, &format!("return '<<'..tostring({expr})..'>>'"));
        if let Some(v) = out
            .split("<<")
            .nth(1)
            .and_then(|r| r.split(">>").next())
            .filter(|v| *v != "nil")
        {
            return v.to_string();
        }
        assert!(Instant::now() < until, "no value for {expr}: {out}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `user` as a raw peer in `room` (its own join echoed).
async fn raw_occupant(server: &Prosody, user: &str, room: &str) -> Stream {
    let mut s = peer(server, user).await;
    let me = format!("{room}/{user}");
    let mut join = Presence::available().with_to(Jid::new(&me).unwrap());
    join.payloads
        .push(Element::builder("x", "http://jabber.org/protocol/muc").build());
    send(&mut s, join).await;
    next_stanza(&mut s, |st| {
        matches!(st, Stanza::Presence(p) if p.from.as_ref().is_some_and(|f| f.to_string() == me))
    })
    .await;
    s
}

/// Reads the peer's stream until a stanza matches (bounded wait).
async fn next_stanza(s: &mut Stream, pred: impl Fn(&Stanza) -> bool) -> Stanza {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match s.next().await {
                Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(st)))) if pred(&st) => {
                    return st;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("peer stream: {e}"),
                None => panic!("peer stream closed"),
            }
        }
    })
    .await
    .expect("the stanza in time")
}

fn groupchat(room: &str, body: &str) -> Message {
    let mut m = Message::new_with_type(MessageType::Groupchat, Some(Jid::new(room).unwrap()));
    m.bodies.insert(Lang::new(), body.into());
    m
}

/// Sends `"{prefix}{i}"` for i in 0..n to the room, in pipelined bursts;
/// returns once the room echoed the last one.
async fn flood(s: &mut Stream, room: &str, prefix: &str, n: usize) {
    const BURST: usize = 500;
    for start in (0..n).step_by(BURST) {
        let end = (start + BURST).min(n);
        for i in start..end {
            let m = XmppStreamElement::Stanza(groupchat(room, &format!("{prefix}{i}")).into());
            s.feed(&m).await.unwrap();
        }
        SinkExt::<&XmppStreamElement>::flush(s).await.unwrap();
        let last = format!("{prefix}{}", end - 1);
        next_stanza(s, |st| {
            matches!(st, Stanza::Message(m) if m.type_ == MessageType::Groupchat
                && m.bodies.values().any(|b| *b == last))
        })
        .await;
    }
}

/// Each of `n` messages `"{prefix}{i}"` came exactly once, delayed, in
/// order.
fn each_once_delayed(c: &Client, room: &str, prefix: &str, n: usize) {
    let got: Vec<&Value> = c
        .events
        .iter()
        .filter(|v| {
            is(v, "message")
                && v["room"] == room
                && v["body"].as_str().is_some_and(|b| b.starts_with(prefix))
        })
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for v in &got {
        assert_eq!(v["delayed"], true, "{v}");
        *seen.entry(v["body"].as_str().unwrap()).or_default() += 1;
    }
    for i in 0..n {
        let body = format!("{prefix}{i}");
        assert_eq!(seen.get(body.as_str()), Some(&1), "{body}");
    }
    assert_eq!(got.len(), n);
    let in_order = got
        .iter()
        .enumerate()
        .all(|(i, v)| v["body"].as_str() == Some(&format!("{prefix}{i}")));
    assert!(in_order, "not in the order written");
}

fn muc_info(name: &str) -> Element {
    format!(
        "<query xmlns='http://jabber.org/protocol/disco#info'>\
           <identity category='conference' type='text' name='{name}'/>\
           <feature var='http://jabber.org/protocol/muc'/>\
         </query>"
    )
    .parse()
    .unwrap()
}

/// Finding 2: while `/info` waits on a silent service, another account
/// forges its answer (an error, then a result) with the real id, which
/// the service saw. Neither is shown nor ends the command; the service's
/// own answer does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_iq_answer_is_ignored_and_the_real_one_awaited() {
    let server = prosody_with(&["alice", "mallory"]);
    let mut service = attach(&server, DEFAULT_COMPONENT, "component attached").await;
    let mut alice = Client::online(&server, "alice");
    let alice_jid = alice.find(|v| is(v, "connected")).unwrap()["jid"]
        .as_str()
        .unwrap()
        .to_string();
    let mut mallory = peer(&server, "mallory").await;
    let silent = format!("silent@{DEFAULT_COMPONENT}");
    let info = format!("/info {silent}");
    alice.send(&info);
    let request = received(&mut service, "iq", "the request reached the service").await;
    let id = request.attr("id").unwrap().to_string();
    assert!(
        id.len() > 32 && !id.ends_with("-1"),
        "not a sequential id: {id}"
    );
    for (type_, payload) in [
        (
            "error",
            "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>FORGED-ERROR-BY-HOSTILE</text></error>"
                .to_string(),
        ),
        (
            "result",
            String::from(&muc_info("FORGED-BY-HOSTILE")),
        ),
    ] {
        let iq: Element = format!(
            "<iq xmlns='jabber:client' type='{type_}' id='{id}' to='{alice_jid}'>{payload}</iq>"
        )
        .parse()
        .unwrap();
        send(&mut mallory, Stanza::Iq(Iq::try_from(iq).unwrap())).await;
        let e = alice.expect("forged answer reported", forged);
        let text = e["text"].as_str().unwrap();
        assert!(text.contains("mallory@localhost"), "{e}");
        assert!(text.contains(&silent), "{e}");
    }
    // Neither the forged content nor an outcome of /info.
    let shown = |v: &Value| v.to_string().contains("FORGED");
    assert!(!alice.saw(|v| shown(v) && !forged(v)), "{:?}", alice.events);
    assert!(!alice.saw(|v| v["command"] == info.as_str()));
    // The service answers: that is the outcome.
    service
        .send(&iq_result(&request, Some(muc_info("the real one"))))
        .await
        .unwrap();
    let r = alice.expect("/info's outcome", |v| v["command"] == info.as_str());
    assert_eq!(r["event"], "ok", "{r}");
    let ri = alice.find(|v| is(v, "room-info")).expect("room-info");
    assert!(ri.to_string().contains("the real one"), "{ri}");
    assert!(!alice.saw(|v| shown(v) && !forged(v)));
    assert_eq!(alice.finish(), 0);
}

/// Finding 3: the room holds alice's `/say` (a hook in the server keeps
/// it and tells its id); another account forges an error for it. The
/// command waits on; the room's own error ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_message_error_does_not_fail_say() {
    const ROOM: &str = "held@conference.localhost";
    let mut opts = ProsodyOptions::new()
        .account("alice", password_of("alice"))
        .account("mallory", password_of("mallory"));
    opts.extra_modules.push("admin_shell".into());
    let server = Prosody::start(opts).expect("prosody");
    let mut alice = Client::online(&server, "alice");
    let alice_jid = alice.find(|v| is(v, "connected")).unwrap()["jid"]
        .as_str()
        .unwrap()
        .to_string();
    alice.ok(&format!("/join {ROOM}/alice"));
    let mut mallory = raw_occupant(&server, "mallory", ROOM).await;
    let out = server_lua(
        &server,
        "local h = prosody.hosts['conference.localhost']; prosody.confab_held = {}; \
         h.events.add_handler('message/bare', function(e) \
           if e.stanza:get_child_text('body') == 'HOLD ME' then prosody.confab_held.say = e; return true end \
         end, 1000); return 'hooked'",
    );
    assert!(out.contains("hooked"), "{out}");
    let say = format!("/say {ROOM} HOLD ME");
    alice.send(&say);
    let id = server_value(
        &server,
        "prosody.confab_held.say and prosody.confab_held.say.stanza.attr.id",
    );
    let error: Element = format!(
        "<message xmlns='jabber:client' type='error' id='{id}' to='{alice_jid}'>\
           <error type='cancel'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
           <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>SPOOFED-ERROR from hostile</text></error>\
         </message>"
    )
    .parse()
    .unwrap();
    send(&mut mallory, Message::try_from(error).unwrap()).await;
    let e = alice.expect("forged error reported", forged);
    assert!(
        e["text"].as_str().unwrap().contains("mallory@localhost"),
        "{e}"
    );
    assert!(e.get("message-id").is_none(), "{e}");
    assert!(!alice.saw(|v| v.to_string().contains("SPOOFED")));
    assert!(
        !alice.saw(|v| v["command"] == say.as_str()),
        "/say still waits"
    );
    // The room's own error (from its bare JID) is the outcome.
    let out = server_lua(
        &server,
        "local st = require 'util.stanza'; local e = prosody.confab_held.say; \
         e.origin.send(st.error_reply(e.stanza, 'cancel', 'not-allowed', 'GENUINE: held by the test')); \
         return 'answered'",
    );
    assert!(out.contains("answered"), "{out}");
    let r = alice.expect("/say's outcome", |v| v["command"] == say.as_str());
    assert_eq!(r["event"], "error", "{r}");
    assert_eq!(r["condition"], "not-allowed", "{r}");
    assert_eq!(r["message-id"], id.as_str(), "{r}");
    assert!(r["text"].as_str().unwrap().contains("GENUINE"), "{r}");
    assert_eq!(alice.finish(), 1, "a failed command");
}

/// Prosody with alice and bob, MUC archive pages of up to `page`.
fn archive_server(page: Option<u32>) -> Prosody {
    let mut opts = ProsodyOptions::new()
        .account("alice", password_of("alice"))
        .account("bob", password_of("bob"))
        .account("mallory", password_of("mallory"));
    opts.extra_modules.push("admin_shell".into());
    if let Some(p) = page {
        opts.muc_config = format!("    max_archive_query_results = {p}\n");
    }
    Prosody::start(opts).expect("prosody")
}

/// alice (with her archive in `home`) sees bob say "before the gap" in
/// `room` and leaves; returns bob, a raw occupant of the room.
async fn alice_leaves(server: &Prosody, home: &std::path::Path, room: &str) -> Stream {
    let mut alice = Client::start_in(server, "alice", home, &[]);
    alice.connected();
    alice.ok(&format!("/join {room}/alice"));
    let mut bob = raw_occupant(server, "bob", room).await;
    send(&mut bob, groupchat(room, "before the gap")).await;
    alice.ok(&format!("/wait message {room} --from bob --contains gap"));
    assert_eq!(alice.finish(), 0);
    bob
}

/// Findings 2 and 5: 2,000 missed messages (pages of 50, Prosody's
/// default cap); the hook holds the third page's query, mallory forges
/// `<fin complete='true'/>` with its id (and an archive result with its
/// queryid). The catch-up goes on: all 2,000 arrive, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_fins_do_not_stop_a_catch_up() {
    const ROOM: &str = "annals@conference.localhost";
    const N: usize = 2000;
    let server = archive_server(None);
    let home = tempfile::tempdir().unwrap();
    let mut bob = alice_leaves(&server, home.path(), ROOM).await;
    flood(&mut bob, ROOM, "missed ", N).await;
    let out = server_lua(
        &server,
        "local h = prosody.hosts['conference.localhost']; prosody.confab_held = { n = 0 }; \
         h.events.add_handler('iq-set/bare/urn:xmpp:mam:2:query', function(e) \
           local held = prosody.confab_held; \
           if e.stanza.attr.from:match('^alice@') then held.n = held.n + 1; \
             if held.n == 3 then held.mam = e; return true end end \
         end, 1000); return 'hooked'",
    );
    assert!(out.contains("hooked"), "{out}");

    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    let alice_jid = alice.connected()["jid"].as_str().unwrap().to_string();
    alice.ok(&format!("/join {ROOM}/alice"));
    let held = "prosody.confab_held.mam and prosody.confab_held.mam.stanza";
    let id = server_value(&server, &format!("{held}.attr.id"));
    let queryid = server_value(&server, &format!("{held}.tags[1].attr.queryid"));
    let mut mallory = peer(&server, "mallory").await;
    let fin: Element = format!(
        "<iq xmlns='jabber:client' type='result' id='{id}' to='{alice_jid}'>\
           <fin xmlns='urn:xmpp:mam:2' complete='true'>\
             <set xmlns='http://jabber.org/protocol/rsm'><last>forged</last><count>0</count></set>\
           </fin></iq>"
    )
    .parse()
    .unwrap();
    let result: Element = format!(
        "<message xmlns='jabber:client' to='{alice_jid}'>\
           <result xmlns='urn:xmpp:mam:2' queryid='{queryid}' id='forged-1'>\
             <forwarded xmlns='urn:xmpp:forward:0'>\
               <delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>\
               <message xmlns='jabber:client' from='{ROOM}/bob' type='groupchat'>\
                 <body>missed FORGED</body></message>\
             </forwarded></result></message>"
    )
    .parse()
    .unwrap();
    send(&mut mallory, Message::try_from(result).unwrap()).await;
    send(&mut mallory, Stanza::Iq(Iq::try_from(fin).unwrap())).await;
    let e = alice.expect("forged fin reported", forged);
    assert!(
        e["text"].as_str().unwrap().contains("mallory@localhost"),
        "{e}"
    );
    assert!(!alice.saw(|v| is(v, "mam")), "the catch-up goes on");
    // The held page goes to the archive now.
    let out = server_lua(
        &server,
        "local e = prosody.confab_held.mam; \
         prosody.hosts['conference.localhost'].events.fire_event('iq-set/bare/urn:xmpp:mam:2:query', e); \
         return 'released'",
    );
    assert!(out.contains("released"), "{out}");
    let m = alice.event("mam", |v| is(v, "mam") && v["room"] == ROOM);
    assert_eq!(m["count"], N, "{m}");
    assert_eq!(m["complete"], true, "{m}");
    each_once_delayed(&alice, ROOM, "missed ", N);
    assert!(!alice.saw(|v| v["body"] == "missed FORGED"));
    assert_eq!(alice.finish(), 0);
}

/// Finding 5: a 6,000-message absence comes back whole (pages of up to
/// 250 here: the server allows them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_thousand_missed_messages_all_arrive() {
    const ROOM: &str = "absence@conference.localhost";
    const N: usize = 6000;
    let server = archive_server(Some(250));
    let home = tempfile::tempdir().unwrap();
    let mut bob = alice_leaves(&server, home.path(), ROOM).await;
    let t = Instant::now();
    flood(&mut bob, ROOM, "missed ", N).await;
    eprintln!(
        "6,000 sent and echoed in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    let m = alice.event("mam", |v| is(v, "mam") && v["room"] == ROOM);
    eprintln!(
        "6,000 caught up in {:.1} s from start",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(m["count"], N, "{m}");
    assert_eq!(m["complete"], true, "{m}");
    each_once_delayed(&alice, ROOM, "missed ", N);
    assert!(
        !alice.saw(|v| is(v, "error")),
        "{:?}",
        alice.find(|v| is(v, "error"))
    );
    assert_eq!(alice.finish(), 0);
}

/// Finding 6: alice holds history of a room that no longer exists when
/// she next joins it (a temporary room, destroyed when its last occupant
/// left): that join gets MUC history. The next join asks again and uses
/// MAM: 30 missed messages (more than the room's MUC history of 20) all
/// arrive.
#[test]
fn a_room_that_did_not_exist_at_one_check_gets_mam_at_the_next_join() {
    const ROOM: &str = "passing@conference.localhost";
    const N: usize = 30;
    let server = prosody_with(&["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    alice.ok(&format!("/say {ROOM} first visit"));
    // The last occupant leaves: the room is gone.
    assert_eq!(alice.finish(), 0);

    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    alice.connected();
    let j = alice.ok(&format!("/join {ROOM}/alice"));
    assert!(j["event"] == "ok");
    assert!(
        alice.saw(|v| is(v, "joined") && v.to_string().contains("new room")),
        "the room was created anew: {:?}",
        alice.events
    );
    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {ROOM}/bob"));
    alice.ok(&format!("/part {ROOM}"));
    for i in 0..N {
        bob.ok(&format!("/say {ROOM} while away {i}"));
    }
    alice.ok(&format!("/join {ROOM}/alice"));
    let m = alice.event("mam", |v| is(v, "mam") && v["room"] == ROOM);
    assert_eq!(m["count"], N, "{m}");
    assert_eq!(m["complete"], true, "{m}");
    each_once_delayed(&alice, ROOM, "while away ", N);
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

/// Finding 2, XEP-0410: a hook holds alice's self-ping in the room;
/// another account answers it with the error that would mean "the room
/// dropped you". Nothing is dropped or rejoined; the held ping, let
/// through, is answered by the room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_self_ping_answer_changes_nothing() {
    const ROOM: &str = "pinged@conference.localhost";
    let server = archive_server(None);
    let out = server_lua(
        &server,
        "local h = prosody.hosts['conference.localhost']; prosody.confab_held = {}; \
         h.events.add_handler('iq/full', function(e) \
           local s = e.stanza; \
           if not prosody.confab_held.ping and s.attr.type == 'get' and s:get_child('ping', 'urn:xmpp:ping') \
              and s.attr.from:match('^alice@') then prosody.confab_held.ping = e; return true end \
         end, 1000); return 'hooked'",
    );
    assert!(out.contains("hooked"), "{out}");
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&server, "alice", home.path(), &["--self-ping", "0.3"]);
    let alice_jid = alice.connected()["jid"].as_str().unwrap().to_string();
    alice.ok(&format!("/join {ROOM}/alice"));
    let held = "prosody.confab_held.ping and prosody.confab_held.ping.stanza";
    let id = server_value(&server, &format!("{held}.attr.id"));
    assert_eq!(
        server_value(&server, &format!("{held}.attr.to")),
        format!("{ROOM}/alice")
    );
    let mut mallory = peer(&server, "mallory").await;
    let answer: Element = format!(
        "<iq xmlns='jabber:client' type='error' id='{id}' to='{alice_jid}'>\
           <error type='cancel' by='{ROOM}'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
           <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>You are not currently connected to this chat</text>\
           </error></iq>"
    )
    .parse()
    .unwrap();
    send(&mut mallory, Stanza::Iq(Iq::try_from(answer).unwrap())).await;
    let e = alice.expect("forged answer reported", forged);
    let text = e["text"].as_str().unwrap();
    assert!(text.contains("mallory@localhost"), "{e}");
    assert!(text.contains(&format!("{ROOM}/alice")), "{e}");
    // Let the ping through: the room answers it, and alice stays.
    let out = server_lua(
        &server,
        "local e = prosody.confab_held.ping; \
         prosody.hosts['conference.localhost'].events.fire_event('iq/full', e); return 'released'",
    );
    assert!(out.contains("released"), "{out}");
    alice.ok(&format!("/say {ROOM} still here"));
    assert!(!alice.saw(|v| is(v, "dropped")), "{:?}", alice.events);
    assert!(!alice.saw(|v| is(v, "joined") && v["rejoined"] == true));
    assert_eq!(alice.finish(), 0);
}
