//! History and identity against a real Prosody: MAM (XEP-0313) catch-up
//! after time offline, message corrections (XEP-0308, and a forged one
//! from someone else), occupant-id (XEP-0421) across rejoins, and MUC
//! self-ping (XEP-0410) in a healthy room. The catch-up after a server
//! restart and the corrections in the archive also run on ejabberd.

use std::time::{Duration, Instant};

use jid::Jid;
use minidom::Element;
use serde_json::Value;
use xmpp_parsers::message::{Id, Lang, Message, MessageType};
use xmpp_parsers::presence::Presence;

use crate::common::peer::*;
use crate::common::*;

const ROOM: &str = "annals@conference.localhost";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

fn bodies(c: &Client, body_prefix: &str) -> Vec<Value> {
    c.events
        .iter()
        .filter(|v| {
            is(v, "message")
                && v["room"] == ROOM
                && v["body"]
                    .as_str()
                    .is_some_and(|b| b.starts_with(body_prefix))
        })
        .cloned()
        .collect()
}

/// Each of `n` messages `"{prefix}{i}"` came exactly once, delayed.
fn each_once_delayed(c: &Client, prefix: &str, n: usize) {
    let got = bodies(c, prefix);
    for i in 0..n {
        let body = format!("{prefix}{i}");
        let copies: Vec<&Value> = got.iter().filter(|v| v["body"] == body.as_str()).collect();
        assert_eq!(copies.len(), 1, "{body}: {copies:?}");
        assert_eq!(copies[0]["delayed"], true, "{:?}", copies[0]);
        assert_eq!(copies[0]["nick"], "bob");
    }
    assert_eq!(got.len(), n, "{got:?}");
    // In the order they were written.
    let order: Vec<String> = got
        .iter()
        .map(|v| v["body"].as_str().unwrap().to_string())
        .collect();
    let written: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    assert_eq!(order, written);
}

#[test]
fn mam_fills_the_gap_while_a_client_was_away() {
    let server = prosody_with(&["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    let mut bob = Client::online(&server, "bob");
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    bob.ok(&format!("/say {ROOM} before the gap"));
    alice.ok(&format!("/wait message {ROOM} --from bob --contains gap"));
    // Alice leaves (her archive keeps what she saw).
    assert_eq!(alice.finish(), 0);

    // More than one page of the room's archive (50 per page).
    const N: usize = 60;
    for i in 0..N {
        bob.ok(&format!("/say {ROOM} missed {i}"));
    }

    // Back with the same data dir: the room is asked for its archive.
    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    let m = alice.event("mam", |v| is(v, "mam") && v["room"] == ROOM);
    assert_eq!(m["count"], N, "{m}");
    each_once_delayed(&alice, "missed ", N);
    // What the archive held is shown as history, never as a new message.
    let h = alice.event("history", |v| is(v, "history") && v["room"] == ROOM);
    assert!(h["count"].as_u64().unwrap() >= 1, "{h}");
    assert!(bodies(&alice, "before the gap").is_empty());
    // Live messages still come once, not delayed.
    bob.ok(&format!("/say {ROOM} live again"));
    alice.ok(&format!(
        "/wait message {ROOM} --from bob --contains \"live again\""
    ));
    assert_eq!(bodies(&alice, "live again").len(), 1);
    assert_eq!(bodies(&alice, "live again")[0]["delayed"], false);
    assert_eq!(alice.finish(), 0);

    // A third run: everything is in the archive now; nothing is repeated.
    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    let m = alice.event("mam", |v| is(v, "mam") && v["room"] == ROOM);
    assert_eq!(m["count"], 0, "{m}");
    assert!(bodies(&alice, "").is_empty(), "{:?}", bodies(&alice, ""));
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

crate::on_both!(mam_catches_up_after_a_server_restart);

fn mam_catches_up_after_a_server_restart(kind: ServerKind) {
    let mut server = server_with(kind, &["alice", "bob"]);
    let mut alice = Client::start(&*server, "alice");
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    alice.ok(&format!("/say {ROOM} before the restart"));
    server.stop();
    // Alice retries with backoff (0.5, 1, 2, 4, 8 s): right after her 4th
    // attempt she waits 8 s, time for bob to write while she is away.
    alice.event("4th attempt", |v| {
        is(v, "reconnecting") && v["attempt"] == 4
    });
    server.restart().expect("the server restarts");
    let started = Instant::now();
    let mut bob = Client::online(&*server, "bob");
    bob.ok(&format!("/join {ROOM}/bob"));
    const N: usize = 3;
    for i in 0..N {
        bob.ok(&format!("/say {ROOM} while away {i}"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "bob was too slow for the test's window"
    );
    // Alice is back; her rejoin asks for no MUC history, MAM fills the gap.
    let j = alice.event("rejoined", |v| {
        is(v, "joined") && v["room"] == ROOM && v["rejoined"] == true
    });
    assert_eq!(j["nick"], "alice");
    let m = alice.event("mam", |v| is(v, "mam") && v["room"] == ROOM);
    assert_eq!(m["count"], N, "{m}");
    each_once_delayed(&alice, "while away ", N);
    assert_eq!(bodies(&alice, "before the restart").len(), 1);
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

fn groupchat(body: &str, id: &str, replace: Option<&str>) -> Message {
    let mut m = Message::new_with_type(MessageType::Groupchat, Some(Jid::new(ROOM).unwrap()));
    m.id = Some(Id(id.into()));
    m.bodies.insert(Lang::new(), body.into());
    if let Some(r) = replace {
        m.payloads.push(
            Element::builder("replace", "urn:xmpp:message-correct:0")
                .attr(confab::protocol::nc("id"), r)
                .build(),
        );
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrections_are_shown_and_forged_ones_ignored() {
    let server = prosody_with(&["alice", "bob", "mallory"]);
    let mut alice = Client::online(&server, "alice");
    let mut bob = Client::online(&server, "bob");
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));

    bob.ok(&format!("/say {ROOM} teh cat sat"));
    alice.ok(&format!("/wait message {ROOM} --from bob --contains teh"));
    let original = alice.event("bob's message", |v| {
        is(v, "message") && v["body"] == "teh cat sat"
    });
    let id = original["id"]
        .as_str()
        .expect("the message has an id")
        .to_string();

    // Bob corrects it (/edit is the same command).
    bob.ok(&format!("/edit {ROOM} the cat sat"));
    let own = bob.event("own correction", |v| is(v, "correction"));
    assert_eq!(own["own"], true);
    assert_eq!(own["replaces"], id.as_str());
    let c = alice.event("correction", |v| is(v, "correction"));
    assert_eq!(c["room"], ROOM);
    assert_eq!(c["nick"], "bob");
    assert_eq!(c["replaces"], id.as_str());
    assert_eq!(c["body"], "the cat sat");
    assert_eq!(c["own"], false);
    // Not a new message.
    assert!(!alice.saw(|v| is(v, "message") && v["body"] == "the cat sat"));

    // Mallory, a raw peer in the room, forges a correction of bob's
    // message (same id), then says something plain.
    let mut mallory = peer(&server, "mallory").await;
    let mut join = Presence::available().with_to(Jid::new(&format!("{ROOM}/mallory")).unwrap());
    join.payloads
        .push(Element::builder("x", "http://jabber.org/protocol/muc").build());
    send(&mut mallory, join).await;
    presence_from(&mut mallory, &format!("{ROOM}/mallory")).await;
    alice.ok(&format!("/wait occupant {ROOM} mallory"));
    send(
        &mut mallory,
        groupchat("bob is a fool", "forged-1", Some(&id)),
    )
    .await;
    send(&mut mallory, groupchat("hello all", "plain-1", None)).await;
    alice.ok(&format!(
        "/wait message {ROOM} --from mallory --contains \"hello all\""
    ));
    // The forgery changed nothing and was not shown.
    let corrections: Vec<&Value> = alice
        .events
        .iter()
        .filter(|v| is(v, "correction"))
        .collect();
    assert_eq!(corrections.len(), 1, "{corrections:?}");
    assert!(!alice.saw(|v| v["body"] == "bob is a fool"));

    // Bob corrects again; the later correction wins.
    bob.ok(&format!("/correct {ROOM} the cat sat on the mat"));
    alice.expect("second correction", |v| {
        is(v, "correction") && v["body"] == "the cat sat on the mat"
    });
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

crate::on_both!(corrections_reach_the_archive_and_come_back_edited);

fn corrections_reach_the_archive_and_come_back_edited(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    let mut bob = Client::online(&*server, "bob");
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    alice.ok(&format!("/say {ROOM} helo"));
    alice.ok(&format!("/correct {ROOM} hello"));
    bob.expect("correction", |v| {
        is(v, "correction") && v["body"] == "hello"
    });
    assert_eq!(alice.finish(), 0);

    // The archive has the corrected text: the MAM copies (original and
    // correction) add nothing.
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    let m = alice.event("mam", |v| is(v, "mam") && v["room"] == ROOM);
    assert_eq!(m["count"], 0, "{m}");
    let db =
        rusqlite::Connection::open(find_file(home.path(), "history.sqlite3").expect("an archive"))
            .unwrap();
    let (body, edited): (String, bool) = db
        .query_row(
            "SELECT body, edited FROM messages WHERE nick = 'alice' AND body LIKE 'hel%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((body.as_str(), edited), ("hello", true));
    assert_eq!(alice.finish(), 0);
    // Bob wrote nothing in the room: nothing to correct, refused at once.
    let r = bob.run(&format!("/correct {ROOM} x"));
    assert_eq!(r["event"], "error", "{r}");
    assert_eq!(r["condition"], "item-not-found", "{r}");
    assert_eq!(bob.exit_status(), 1);
}

#[test]
fn occupant_id_follows_bob_across_a_rejoin_under_another_nick() {
    let server = prosody_with(&["alice", "bob"]);
    let mut alice = Client::online(&server, "alice");
    let mut bob = Client::online(&server, "bob");
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    let first = alice.event("bob joins", |v| {
        is(v, "occupant") && v["nick"] == "bob" && v["action"] == "join"
    });
    // Prosody 0.12's mod_muc adds XEP-0421 occupant-ids.
    let oid = first["occupant_id"]
        .as_str()
        .expect("occupant-id")
        .to_string();
    assert!(first.get("was").is_none(), "{first}");
    bob.ok(&format!("/part {ROOM}"));
    alice.expect("bob leaves", |v| {
        is(v, "occupant") && v["nick"] == "bob" && v["action"] == "leave"
    });
    bob.ok(&format!("/join {ROOM}/robert"));
    let again = alice.expect("robert joins", |v| {
        is(v, "occupant") && v["nick"] == "robert" && v["action"] == "join"
    });
    assert_eq!(again["occupant_id"], oid.as_str());
    assert_eq!(again["was"], "bob", "{again}");
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

#[test]
fn self_ping_keeps_a_healthy_room_joined() {
    let mut opts = ProsodyOptions::new()
        .account("alice", password_of("alice"))
        .account("bob", password_of("bob"));
    opts.debug_log = true;
    let server = Prosody::start(opts).expect("prosody");
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&server, "alice", home.path(), &["--self-ping", "0.3"]);
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    // Quiet room: confab pings itself there, again and again (seen in the
    // server's log), and the room answers for it.
    let until = Instant::now() + LONG;
    loop {
        let log = std::fs::read_to_string(server.log_path()).unwrap_or_default();
        if log.matches("confab-selfping-").count() >= 6 {
            break;
        }
        assert!(Instant::now() < until, "no self-pings reached the server");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alice.saw(|v| is(v, "dropped")));
    assert!(!alice.saw(|v| is(v, "joined") && v["rejoined"] == true));
    // Still in the room.
    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {ROOM}/bob"));
    alice.ok(&format!("/say {ROOM} still here"));
    bob.ok(&format!(
        "/wait message {ROOM} --from alice --contains \"still here\""
    ));
    assert!(!alice.saw(|v| is(v, "dropped") || is(v, "error")));
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

/// Runs Lua inside the server through `prosodyctl shell` (mod_admin_shell).
pub(crate) fn server_lua(server: &Prosody, lua: &str) -> String {
    let out = std::process::Command::new("prosodyctl")
        .arg("--config")
        .arg(server.config_path())
        .arg("shell")
        .arg(format!(">{lua}"))
        .output()
        .expect("prosodyctl runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn self_ping_notices_a_silent_drop_and_rejoins() {
    let mut opts = ProsodyOptions::new()
        .account("alice", password_of("alice"))
        .account("bob", password_of("bob"));
    opts.extra_modules.push("admin_shell".into());
    let server = Prosody::start(opts).expect("prosody");
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&server, "alice", home.path(), &["--self-ping", "0.5"]);
    let mut bob = Client::online(&server, "bob");
    alice.connected();
    alice.ok(&format!("/join {ROOM}/alice"));
    bob.ok(&format!("/join {ROOM}/bob"));
    // The room forgets alice without telling anyone (as a MUC service that
    // restarted or lost state would).
    let out = server_lua(
        &server,
        &format!(
            "local room = prosody.hosts['conference.localhost'].modules.muc.get_room_from_jid('{ROOM}'); \
             local occ = room:get_occupant_by_nick('{ROOM}/alice'); \
             for real in occ:each_session() do room._jid_nick[real] = nil end; \
             room._occupants[occ.nick] = nil; return 'dropped'"
        ),
    );
    assert!(out.contains("dropped"), "{out}");
    // Alice's next self-ping finds out, and she rejoins.
    let d = alice.event("dropped", |v| is(v, "dropped"));
    assert_eq!(d["room"], ROOM);
    assert_eq!(d["condition"], "not-acceptable", "{d}");
    let j = alice.expect("rejoined", |v| {
        is(v, "joined") && v["room"] == ROOM && v["rejoined"] == true
    });
    assert_eq!(j["nick"], "alice");
    // The room works for her again.
    alice.ok(&format!("/say {ROOM} back again"));
    bob.ok(&format!(
        "/wait message {ROOM} --from alice --contains \"back again\""
    ));
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_results_we_did_not_ask_for_are_ignored() {
    let server = prosody_with(&["alice", "mallory"]);
    let mut alice = Client::online(&server, "alice");
    alice.ok(&format!("/join {ROOM}/alice"));
    let alice_jid = Jid::new(
        alice.find(|v| is(v, "connected")).unwrap()["jid"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut mallory = peer(&server, "mallory").await;
    // A forged archive result, as if the room's archive answered a query
    // of alice's (both a plausible and an unknown queryid).
    for queryid in ["confab-mam-1", "f27"] {
        let forged: Element = format!(
            "<message xmlns='jabber:client' to='{alice_jid}'>
               <result xmlns='urn:xmpp:mam:2' queryid='{queryid}' id='forged-{queryid}'>
                 <forwarded xmlns='urn:xmpp:forward:0'>
                   <delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>
                   <message xmlns='jabber:client' from='{ROOM}/bob' type='groupchat'>
                     <body>forged archive {queryid}</body>
                   </message>
                 </forwarded>
               </result>
             </message>"
        )
        .parse()
        .unwrap();
        send(&mut mallory, Message::try_from(forged).unwrap()).await;
    }
    let mut marker = Message::new_with_type(MessageType::Chat, Some(alice_jid.clone()));
    marker.bodies.insert(Lang::new(), "marker".into());
    send(&mut mallory, marker).await;
    alice.event("marker", |v| is(v, "message") && v["body"] == "marker");
    assert!(
        !alice.saw(|v| v["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("forged archive"))),
        "{:?}",
        alice.events
    );
    assert_eq!(alice.finish(), 0);
}
