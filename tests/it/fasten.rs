//! Reactions (XEP-0444), replies (XEP-0461), retraction (XEP-0424) and
//! moderation (XEP-0425) against real servers: two confab processes in a
//! room and in a one-to-one chat, the raw peer sending other clients'
//! shapes (several emojis, a reply to a message never seen) and playing a
//! room that speaks `urn:xmpp:message-moderate:1`; Prosody's
//! `mod_muc_moderation` speaks `:0`, tombstones come back through MAM.

use jid::Jid;
use minidom::Element;
use serde_json::Value;
use xmpp_parsers::message::{Id, Lang, Message, MessageType};

use crate::common::peer::*;
use crate::common::*;

const ROOM: &str = "fasten@conference.localhost";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// The stanza-id the room gave the message with this body, as `who` saw it.
fn sid_of(c: &mut Client, body: &str) -> String {
    let m = c.event(body, |v| is(v, "message") && v["body"] == body);
    m["stanza_id"].as_str().expect("a stanza-id").to_string()
}

crate::on_both!(reactions_outlive_a_restart);

/// Reactions are kept in the local archive with their line: after a
/// restart they are still there (here: in the JSON export), and a
/// removal takes them away with the text.
fn reactions_outlive_a_restart(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    alice.connected();
    let mut bob = Client::online(&*server, "bob");
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    bob.ok(&format!("/say {ROOM} shall we keep this"));
    bob.ok(&format!("/say {ROOM} and this one"));
    alice.ok(&format!(
        "/wait message {ROOM} --from bob --contains \"this one\""
    ));
    let keep = sid_of(&mut alice, "shall we keep this");
    alice.ok(&format!("/react {ROOM} {keep} 👍"));
    bob.ok(&format!("/react {ROOM} {keep} 🎉 👍"));
    bob.ok(&format!("/react {ROOM} @bob 🐢"));
    alice.expect("bob's reactions", |v| {
        is(v, "reactions") && v["nick"] == "bob"
    });
    alice.expect("bob's second", |v| {
        is(v, "reactions") && v["emojis"] == serde_json::json!(["🐢"])
    });
    bob.ok(&format!("/retract {ROOM}"));
    alice.expect("the retraction", |v| is(v, "retracted"));
    assert_eq!(alice.finish(), 0);

    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    alice.connected();
    let out = home.path().join("room.jsonl");
    alice.ok(&format!("/export {ROOM} {}", out.display()));
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kept = lines
        .iter()
        .find(|l| l["body"] == "shall we keep this")
        .unwrap();
    let mut r: Vec<(String, Value, bool)> = kept["reactions"]
        .as_array()
        .unwrap_or_else(|| panic!("{kept}"))
        .iter()
        .map(|x| {
            (
                x["nick"].as_str().unwrap().to_string(),
                x["emojis"].clone(),
                x["own"] == true,
            )
        })
        .collect();
    r.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        r,
        [
            ("alice".into(), serde_json::json!(["👍"]), true),
            ("bob".into(), serde_json::json!(["🎉", "👍"]), false),
        ]
    );
    let gone = lines.iter().find(|l| l["removed"].is_object()).unwrap();
    assert!(
        gone.get("reactions").is_none() && gone["body"] == "",
        "{gone}"
    );
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

#[test]
fn reactions_and_replies_in_a_room() {
    let server = prosody_with(&["alice", "bob"]);
    let mut alice = Client::online(&server, "alice");
    let mut bob = Client::online(&server, "bob");
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    alice.ok(&format!("/say {ROOM} We should bake a cake"));
    bob.ok(&format!(
        "/wait message {ROOM} --from alice --contains cake"
    ));
    let sid = sid_of(&mut bob, "We should bake a cake");

    // Bob reacts by stanza-id, then adds one by "alice's last message".
    bob.ok(&format!("/react {ROOM} {sid} 👍"));
    bob.ok(&format!("/react {ROOM} @alice 🎂"));
    let r = alice.expect("bob's two reactions", |v| {
        is(v, "reactions") && v["emojis"].as_array().is_some_and(|a| a.len() == 2)
    });
    assert_eq!(r["target"], sid.as_str());
    assert_eq!(r["nick"], "bob");
    assert_eq!(r["own"], false);
    // Alice reacts too: grouped with counts.
    alice.ok(&format!("/react {ROOM} {sid} 👍"));
    let r = bob.expect("alice's reaction", |v| {
        is(v, "reactions") && v["nick"] == "alice"
    });
    let thumbs = r["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["emoji"] == "👍")
        .unwrap()
        .clone();
    assert_eq!(thumbs["count"], 2, "{r}");
    // Bob takes 👍 back (toggle), then withdraws everything.
    bob.ok(&format!("/react {ROOM} {sid} 👍"));
    alice.expect("bob's set without 👍", |v| {
        is(v, "reactions") && v["nick"] == "bob" && v["emojis"] == serde_json::json!(["🎂"])
    });
    bob.ok(&format!("/react {ROOM} {sid}"));
    alice.expect("bob's reactions withdrawn", |v| {
        is(v, "reactions") && v["nick"] == "bob" && v["emojis"] == serde_json::json!([])
    });

    // A reply: bob sees the text without the quote, and what it answers.
    bob.ok(&format!("/reply {ROOM} @alice Great idea!"));
    let m = alice.expect("the reply", |v| is(v, "message") && v["nick"] == "bob");
    assert_eq!(m["body"], "Great idea!");
    assert_eq!(m["reply_to"]["id"], sid.as_str());
    assert_eq!(m["reply_to"]["quote"], "We should bake a cake");
    // Refused at once: nothing to name.
    let e = bob.run(&format!("/react {ROOM} no-such-id 👍"));
    assert_eq!(e["condition"], "item-not-found", "{e}");
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.exit_status(), 1);
}

fn chat_stanza(to: &str, id: &str, payload: &str, body: Option<&str>) -> Message {
    let mut m = Message::new_with_type(MessageType::Chat, Some(Jid::new(to).unwrap()));
    m.id = Some(Id(id.into()));
    if let Some(b) = body {
        m.bodies.insert(Lang::new(), b.into());
    }
    if !payload.is_empty() {
        m.payloads.push(payload.parse::<Element>().unwrap());
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_replies_and_retraction_in_a_chat() {
    let server = prosody_with(&["alice", "bob", "carol"]);
    let mut alice = Client::online(&server, "alice");
    let mut bob = Client::online(&server, "bob");
    alice.ok("/msg bob@localhost hi bob");
    let m = bob.expect("alice's message", |v| {
        is(v, "message") && v["body"] == "hi bob"
    });
    let id = m["id"].as_str().unwrap().to_string();
    bob.ok(&format!("/react alice@localhost {id} 👋"));
    let r = alice.expect("bob's reaction", |v| is(v, "reactions"));
    assert_eq!(r["target"], id.as_str());
    assert_eq!(r["emojis"], serde_json::json!(["👋"]));
    // Our own reaction enters our store too.
    assert!(bob.saw(|v| is(v, "reactions") && v["own"] == true));

    bob.ok("/reply alice@localhost @ hello to you");
    let m = alice.expect("bob's reply", |v| {
        is(v, "message") && v["body"] == "hello to you"
    });
    assert_eq!(m["reply_to"]["id"], id.as_str());

    // Alice takes her message back: gone on both sides.
    alice.ok("/retract bob@localhost");
    let r = bob.expect("the retraction", |v| is(v, "retracted"));
    assert_eq!(r["target"], id.as_str());
    assert_eq!(r["moderated"], false);
    assert!(alice.saw(|v| is(v, "retracted") && v["own"] == true));

    // Carol's client, raw: a reaction with several emojis, then a reply to
    // a message bob never saw, then a retraction of someone else's id.
    let mut carol = peer(&server, "carol").await;
    send(
        &mut carol,
        chat_stanza("bob@localhost", "c1", "", Some("from carol")),
    )
    .await;
    let m = bob.expect("carol's message", |v| {
        is(v, "message") && v["body"] == "from carol"
    });
    assert_eq!(m["id"], "c1");
    send(
        &mut carol,
        chat_stanza(
            "bob@localhost",
            "c2",
            "<reactions xmlns='urn:xmpp:reactions:0' id='c1'><reaction>👍</reaction><reaction>🐢</reaction><reaction>👍</reaction><reaction>\u{202e}x</reaction></reactions>",
            None,
        ),
    )
    .await;
    let r = bob.expect("carol's reactions", |v| {
        is(v, "reactions") && v["target"] == "c1"
    });
    assert_eq!(r["emojis"].as_array().unwrap().len(), 3, "{r}");
    let reply = "<reply xmlns='urn:xmpp:reply:0' id='never-seen' to='alice@localhost'/>";
    let mut m = chat_stanza(
        "bob@localhost",
        "c3",
        reply,
        Some("> alice wrote:\n> lost words\nindeed"),
    );
    m.payloads.push(
        "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='28'/></fallback>"
            .parse::<Element>()
            .unwrap(),
    );
    send(&mut carol, m).await;
    let m = bob.expect("carol's reply", |v| {
        is(v, "message") && v["body"] == "indeed"
    });
    assert_eq!(m["reply_to"]["quote"], "lost words");
    send(
        &mut carol,
        chat_stanza(
            "bob@localhost",
            "c4",
            "<retract xmlns='urn:xmpp:message-retract:1' id='nope'/>",
            None,
        ),
    )
    .await;
    send(
        &mut carol,
        chat_stanza("bob@localhost", "c5", "", Some("still here")),
    )
    .await;
    bob.expect("carol's last", |v| {
        is(v, "message") && v["body"] == "still here"
    });
    assert!(!bob.saw(|v| is(v, "retracted") && v["target"] == "nope"));
    assert!(!bob.saw(|v| is(v, "error") && v.get("command").is_none()));
    // Bob cannot retract carol's message (an error ends bob's script).
    let e = bob.run("/retract carol@localhost c1");
    assert_eq!(e["condition"], "forbidden", "{e}");
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.exit_status(), 1);
}

fn db_rows(
    home: &std::path::Path,
    sql: &str,
) -> Vec<(String, bool, Option<String>, Option<String>)> {
    let path = find_file(home, "history.sqlite3").expect("an archive");
    let db = rusqlite::Connection::open(path).unwrap();
    let mut stmt = db.prepare(sql).unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

const ROWS: &str = "SELECT body, removed, removed_by, removed_reason FROM messages
                    WHERE conv IN (SELECT id FROM conversations
                                   WHERE jid = 'fasten@conference.localhost')
                      AND nick = 'bob'
                    ORDER BY time_ms";

crate::on_both!(retraction_and_moderation_reach_screen_and_archive);

/// Bob retracts his own message; alice, the room's owner, moderates bob's
/// spam with a reason (Prosody's `mod_muc_moderation` and ejabberd 23.01
/// speak `:0`). Both are gone from everyone's archive; carol, away
/// meanwhile, gets the archive's tombstone through MAM when she is back.
fn retraction_and_moderation_reach_screen_and_archive(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let (ahome, chome) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut alice = Client::start_in(&*server, "alice", ahome.path(), &[]);
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    let mut bob = Client::online(&*server, "bob");
    bob.ok(&format!("/join {ROOM}/bob"));
    let mut carol = Client::start_in(&*server, "carol", chome.path(), &[]);
    carol.connected();
    carol.ok(&format!("/join {ROOM}/carol"));
    bob.ok(&format!("/say {ROOM} hello all"));
    carol.ok(&format!("/wait message {ROOM} --from bob --contains hello"));
    assert_eq!(carol.finish(), 0);

    // Bob takes back his typo: only his to take.
    bob.ok(&format!("/say {ROOM} secret typo"));
    alice.ok(&format!("/wait message {ROOM} --from bob --contains typo"));
    bob.ok(&format!("/retract {ROOM}"));
    let r = alice.expect("bob's retraction", |v| is(v, "retracted"));
    assert_eq!(r["nick"], "bob");
    assert_eq!(r["moderated"], false);

    // Spam, removed by the owner (a moderator) with a reason.
    bob.ok(&format!("/say {ROOM} buy cheap pills"));
    alice.ok(&format!("/wait message {ROOM} --from bob --contains pills"));
    // ejabberd 23.01 announces no XEP-0425 (its rooms speak neither
    // version): refused before anything is sent.
    let moderates = kind == ServerKind::Prosody;
    if moderates {
        alice.ok(&format!("/moderate {ROOM} @bob spam, sorry"));
        for (who, c) in [("alice", &mut alice), ("bob", &mut bob)] {
            let r = c.event(&format!("{who} sees the moderation"), |v| {
                is(v, "retracted") && v["moderated"] == true
            });
            assert_eq!(r["by"], "alice", "{r}");
            assert_eq!(r["reason"], "spam, sorry", "{r}");
            assert_eq!(r["nick"], "bob", "{r}");
        }
    } else {
        bob.ok(&format!("/retract {ROOM}"));
        alice.event("bob's second retraction", |v| {
            is(v, "retracted") && v["target"] != r["target"]
        });
    }
    // Bob is no moderator: refused (an error ends his script).
    bob.ok(&format!("/say {ROOM} more spam"));
    let e = bob.run(&format!("/moderate {ROOM} @bob oops"));
    let why = if moderates {
        "forbidden"
    } else {
        "feature-not-implemented"
    };
    assert_eq!(e["condition"], why, "{e}");
    alice.ok(&format!("/wait message {ROOM} --from bob --contains more"));
    // Carol comes back: the archive has tombstones instead of the texts.
    let mut carol = Client::start_in(&*server, "carol", chome.path(), &[]);
    carol.connected();
    carol.ok(&format!("/join {ROOM}/carol"));
    carol.expect("the catch-up", |v| is(v, "mam") && v["room"] == ROOM);
    // The spam was replaced by a tombstone: never shown. (Bob's own
    // retraction leaves the text in the room's archive: it comes, then
    // its retraction removes it.)
    let pills = |v: &Value| v["body"].as_str().is_some_and(|b| b.contains("pills"));
    assert_eq!(carol.saw(pills), !moderates);
    assert!(
        carol.saw(|v| is(v, "retracted") && v["moderated"] == moderates),
        "{:?}",
        carol.events
    );
    assert_eq!(carol.finish(), 0);
    let rows = db_rows(chome.path(), ROWS);
    assert!(
        rows.iter()
            .all(|r| !r.0.contains("typo") && (!moderates || !r.0.contains("pills"))),
        "{rows:?}"
    );
    assert!(rows.iter().any(|r| r.0 == "more spam"), "{rows:?}");
    assert_eq!(bob.exit_status(), 1);
    // Only their own: alice may not retract bob's message.
    let e = alice.run(&format!("/retract {ROOM} @bob"));
    assert_eq!(e["condition"], "forbidden", "{e}");
    assert_eq!(alice.exit_status(), 1);
    // Out of everyone's archive (read once the process is gone: a batch
    // burst is archived after it is printed).
    let rows = db_rows(ahome.path(), ROWS);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows[0].0, "hello all");
    assert_eq!((rows[1].0.as_str(), rows[1].1), ("", true));
    let by = moderates.then(|| "alice".to_string());
    let reason = moderates.then(|| "spam, sorry".to_string());
    assert_eq!(rows[2], (String::new(), true, by, reason));
}

/// A room that speaks `urn:xmpp:message-moderate:1` (XEP-0425 0.3), played
/// by a component: `/moderate` sends the `:1` request the room's disco#info
/// asks for, the room's `:1` broadcast removes the message, and the same
/// broadcast from an occupant (forged) is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderation_version_1_with_a_room_that_speaks_it() {
    use confab::protocol::{nc, retract};
    use confab_testbed::component::{iq_result, stanza};

    let server = prosody_with(&["alice"]);
    let mut comp = attach(&server, DEFAULT_COMPONENT, "the room connects").await;
    let room = format!("mod1@{DEFAULT_COMPONENT}");
    let mut alice = tokio::task::block_in_place(|| Client::online(&server, "alice"));
    let join = format!("/join {room}/alice --protocol muc");
    alice.send(&join);
    // Our presence: the room answers with alice's self-presence (moderator).
    let p = received(&mut comp, "presence", "the join").await;
    let me = p.attr("from").unwrap().to_string();
    let self_presence = stanza("presence")
        .attr(nc("from"), format!("{room}/alice"))
        .attr(nc("to"), me.clone())
        .append(
            Element::builder("x", "http://jabber.org/protocol/muc#user")
                .append(
                    Element::builder("item", "http://jabber.org/protocol/muc#user")
                        .attr(nc("affiliation"), "owner")
                        .attr(nc("role"), "moderator")
                        .build(),
                )
                .append(
                    Element::builder("status", "http://jabber.org/protocol/muc#user")
                        .attr(nc("code"), "110")
                        .build(),
                )
                .build(),
        )
        .build();
    comp.send(&self_presence).await.unwrap();
    let subject = stanza("message")
        .attr(nc("from"), room.clone())
        .attr(nc("to"), me.clone())
        .attr(nc("type"), "groupchat")
        .append(stanza("subject").build())
        .build();
    comp.send(&subject).await.unwrap();
    tokio::task::block_in_place(|| {
        alice.expect("joined", |v| {
            v["event"] == "ok" && v["command"] == join.as_str()
        })
    });
    // Spam from an occupant, with the room's stanza-id.
    let spam = |sid: &str| {
        stanza("message")
            .attr(nc("from"), format!("{room}/spammer"))
            .attr(nc("to"), me.clone())
            .attr(nc("type"), "groupchat")
            .attr(nc("id"), format!("m-{sid}"))
            .append(stanza("body").append(format!("spam {sid}")).build())
            .append(
                Element::builder("stanza-id", "urn:xmpp:sid:0")
                    .attr(nc("id"), sid)
                    .attr(nc("by"), room.clone())
                    .build(),
            )
            .build()
    };
    comp.send(&spam("s1")).await.unwrap();
    comp.send(&spam("s2")).await.unwrap();
    tokio::task::block_in_place(|| alice.expect("spam", |v| v["body"] == "spam s2"));

    // A forged `:1` moderation, from an occupant: nothing happens.
    let broadcast = |from: &str, by: &str, reason: &str| {
        stanza("message")
            .attr(nc("from"), from)
            .attr(nc("to"), me.clone())
            .attr(nc("type"), "groupchat")
            .attr(nc("id"), "mod-1")
            .append(
                Element::builder("retract", retract::RETRACT)
                    .attr(nc("id"), "s1")
                    .append(
                        Element::builder("moderated", retract::MODERATE)
                            .attr(nc("by"), by)
                            .build(),
                    )
                    .append(
                        Element::builder("reason", retract::RETRACT)
                            .append(reason)
                            .build(),
                    )
                    .build(),
            )
            .build()
    };
    let forged = broadcast(
        &format!("{room}/mallory"),
        &format!("{room}/mallory"),
        "forged",
    );
    comp.send(&forged).await.unwrap();

    let cmd = format!("/moderate {room} s1 rude");
    alice.send(&cmd);
    // The room's disco#info announces `:1` only; then the request.
    let iq = loop {
        let iq = received(&mut comp, "iq", "the moderation request").await;
        if iq.has_child("moderate", retract::MODERATE) {
            break iq;
        }
        assert!(!iq.has_child("apply-to", retract::FASTEN), "{iq:?}");
        let q = iq
            .has_child("query", "http://jabber.org/protocol/disco#info")
            .then(|| {
                Element::builder("query", "http://jabber.org/protocol/disco#info")
                    .append(
                        Element::builder("feature", "http://jabber.org/protocol/disco#info")
                            .attr(nc("var"), retract::MODERATE)
                            .build(),
                    )
                    .build()
            });
        comp.send(&iq_result(&iq, q)).await.unwrap();
    };
    let m = iq.get_child("moderate", retract::MODERATE).unwrap();
    assert_eq!(m.attr("id"), Some("s1"));
    assert!(m.has_child("retract", retract::RETRACT));
    assert_eq!(
        m.get_child("reason", retract::MODERATE).unwrap().text(),
        "rude"
    );
    comp.send(&iq_result(&iq, None)).await.unwrap();
    let b = broadcast(&room, &format!("{room}/alice"), "rude");
    comp.send(&b).await.unwrap();
    let r = tokio::task::block_in_place(|| {
        alice.expect("/moderate ok", |v| {
            v["event"] == "ok" && v["command"] == cmd.as_str()
        });
        alice.event("the moderation", |v| is(v, "retracted"))
    });
    assert_eq!(r["target"], "s1");
    assert_eq!(r["by"], "alice");
    assert_eq!(r["reason"], "rude");
    assert_eq!(r["nick"], "spammer");
    // Only one: the forged one changed nothing.
    assert!(!alice.saw(|v| is(v, "retracted") && v["reason"] == "forged"));
    assert_eq!(tokio::task::block_in_place(|| alice.finish()), 0);
}
