//! Issue 6: generic conferencing (`jabber:iq:conference` + browse) and
//! groupchat 1.0, with `confab --batch` clients against the testbed's
//! legacy conference service (`confab_testbed::legacy`, in-process as a
//! component of the test Prosody).

use std::sync::mpsc;

use serde_json::Value;

use confab_testbed::component::ComponentStream;
use confab_testbed::legacy::{self, Ids, Options, RoomSpec};

use crate::common::*;

const LEGACY: &str = "legacy.localhost";
/// A service that does not create rooms (405).
const FIXED: &str = "fixed.localhost";

fn services() -> Vec<Options> {
    vec![
        Options::new(LEGACY)
            .room(RoomSpec::parse("demo,private,secret=foo,name=Demo Room", false).unwrap())
            .room(RoomSpec::parse("lounge,public,name=Lounge,topic=Be nice", false).unwrap())
            .room(RoomSpec::parse("old", true).unwrap()),
        Options::new(FIXED).no_create(),
    ]
}

/// A Prosody with the accounts and the legacy services running.
fn setup(users: &[&str]) -> Prosody {
    setup_with(users, services())
}

/// A Prosody with the accounts and these legacy services running.
fn setup_with(users: &[&str], services: Vec<Options>) -> Prosody {
    let mut opts = users
        .iter()
        .fold(ProsodyOptions::new(), |o, u| o.account(*u, password_of(u)));
    for s in &services {
        opts = opts.component(s.jid.clone(), "");
    }
    let server = Prosody::start(opts).unwrap_or_else(|e| panic!("starting Prosody: {e}"));
    for s in services {
        let port = server.component_port();
        let secret = server.component_secret().to_string();
        let (tx, rx) = mpsc::channel();
        run_peer(async move {
            let stream = ComponentStream::connect(port, &s.jid, &secret)
                .await
                .expect("the service connects");
            tx.send(()).unwrap();
            let _ = legacy::serve(stream, s).await;
        });
        rx.recv_timeout(LONG).expect("the service is up");
    }
    server
}

/// A client whose account has `nicks = [...]`.
fn with_nicks(server: &Prosody, user: &str, nicks: &[&str]) -> (Client, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("config").join("confab");
    std::fs::create_dir_all(&dir).unwrap();
    let list: Vec<String> = nicks.iter().map(|n| format!("{n:?}")).collect();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[accounts.test]\njid = \"{}\"\nnicks = [{}]\n",
            server.jid(user),
            list.join(", ")
        ),
    )
    .unwrap();
    let mut c = Client::start_in(server, user, home.path(), &["--keep-going"]);
    c.connected();
    (c, home)
}

fn online(server: &Prosody, user: &str) -> Client {
    let home = tempfile::tempdir().unwrap();
    let mut c = Client::start_in(server, user, home.path(), &["--keep-going"]);
    std::mem::forget(home);
    c.connected();
    c
}

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

fn occupant(v: &Value, room: &str, action: &str, nick: &str) -> bool {
    is(v, "occupant") && v["room"] == room && v["action"] == action && v["nick"] == nick
}

#[test]
fn browse_requirements_and_the_secret() {
    let server = setup(&["alice"]);
    let mut alice = online(&server, "alice");
    let demo = format!("demo@{LEGACY}");

    // Browse before entering: type and name, no participants (private).
    alice.ok(&format!("/browse {demo}"));
    let b = alice.event("browse", |v| is(v, "browse"));
    assert_eq!(b["category"], "conference", "{b}");
    assert_eq!(b["type"], "private");
    assert_eq!(b["name"], "Demo Room");
    assert_eq!(b["items"], serde_json::json!([]));
    assert_eq!(b["snapshot"], false);

    // The requirements.
    alice.ok(&format!("/info {demo}"));
    let i = alice.event("conference-info", |v| is(v, "conference-info"));
    assert_eq!(i["room"], demo.as_str());
    assert_eq!(i["secret"], true, "{i}");
    assert_eq!(i["privacy"], true);
    assert_eq!(i["nick"], true);
    assert_eq!(i["name"], "Demo Room");

    // No secret, a wrong one, the right one.
    let e = alice.run(&format!("/join {demo}"));
    assert_eq!(e["event"], "error", "{e}");
    assert_eq!(e["condition"], "not-authorized");
    assert!(e["text"].as_str().unwrap().contains("secret"), "{e}");
    let e = alice.run(&format!("/join {demo} wrong"));
    assert_eq!(e["condition"], "not-authorized", "{e}");
    alice.ok(&format!("/join {demo} --password foo"));
    let j = alice.event("joined", |v| is(v, "joined"));
    assert_eq!(j["protocol"], "conference", "{j}");
    assert_eq!(j["nick"], "alice");
    // Inside, the get answers like the set did.
    alice.ok(&format!("/info {demo}"));
    let i = alice.find(|v| is(v, "conference-info")).unwrap();
    assert_eq!(i["current_nick"], "alice", "{i}");
    assert!(i["id"].as_str().unwrap().starts_with(&format!("{demo}/")));
    alice.ok(&format!("/part {demo}"));
    alice.event("left", |v| is(v, "left") && v["room"] == demo.as_str());
    // Exit status 1: the refused joins.
    assert_eq!(alice.finish(), 1);
}

#[test]
fn roster_nicks_privacy_messages_and_leaving() {
    let server = setup(&["alice", "bob", "carol"]);
    let room = format!("lounge@{LEGACY}");
    let mut alice = online(&server, "alice");
    alice.ok(&format!("/join {room}"));
    let j = alice.event("joined", |v| is(v, "joined"));
    assert_eq!(j["protocol"], "conference");
    // The topic from the room.
    alice.event("subject", |v| is(v, "subject") && v["subject"] == "Be nice");

    // Bob's first nick is taken: the second of his list; he asks for
    // privacy.
    let (mut bob, _bob_home) = with_nicks(&server, "bob", &["alice", "bobby"]);
    bob.ok(&format!("/join {room} --private"));
    let j = bob.event("joined", |v| is(v, "joined"));
    assert_eq!(j["nick"], "bobby", "{j}");
    bob.event("alice in bob's roster", |v| {
        occupant(v, &room, "join", "alice")
    });
    alice.event("bobby arrives", |v| occupant(v, &room, "join", "bobby"));

    // Carol browses before entering: a snapshot of the participants.
    let mut carol = online(&server, "carol");
    carol.ok(&format!("/browse {room}"));
    let b = carol.event("browse", |v| is(v, "browse"));
    assert_eq!(b["snapshot"], true, "{b}");
    let mut names: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["alice", "bobby"]);
    // The requirements and the topic.
    carol.ok(&format!("/info {room}"));
    let i = carol.event("conference-info", |v| is(v, "conference-info"));
    assert_eq!(i["topic"], "Be nice", "{i}");
    assert_eq!(i["name"], "Lounge");
    assert_eq!(i["secret"], false);
    carol.ok(&format!("/join {room}/carol"));
    alice.event("carol arrives", |v| occupant(v, &room, "join", "carol"));
    bob.event("carol arrives", |v| occupant(v, &room, "join", "carol"));
    // The service answers the `set` before it pushes the participant
    // list: carol knows alice once the push has come.
    carol.event("alice in carol's roster", |v| {
        occupant(v, &room, "join", "alice")
    });

    // Real JIDs: alice's is shown, bob's is hidden.
    carol.ok(&format!("/whois {room} alice"));
    let w = carol.event("whois alice", |v| is(v, "whois") && v["nick"] == "alice");
    assert!(
        w["jid"].as_str().unwrap().starts_with("alice@localhost/"),
        "{w}"
    );
    carol.ok(&format!("/whois {room} bobby"));
    let w = carol.event("whois bobby", |v| is(v, "whois") && v["nick"] == "bobby");
    assert!(w.get("jid").is_none(), "{w}");

    // Messages and a private message, under nicks.
    alice.ok(&format!("/say {room} hello everyone"));
    let m = bob.event("alice's message", |v| {
        is(v, "message") && v["body"] == "hello everyone"
    });
    assert_eq!(m["nick"], "alice", "{m}");
    assert_eq!(m["room"], room.as_str());
    carol.ok(&format!("/msg {room}/bobby psst"));
    let m = bob.event("carol's private message", |v| {
        is(v, "message") && v["body"] == "psst"
    });
    assert_eq!(m["nick"], "carol", "{m}");
    assert_eq!(m["private"], true);

    // Bob changes his nick: everyone sees it.
    bob.ok(&format!("/nick {room} robert"));
    bob.event("own nick change", |v| {
        occupant(v, &room, "nick", "robert") && v["self"] == true
    });
    let n = alice.event("bobby is robert", |v| occupant(v, &room, "nick", "robert"));
    assert_eq!(n["old_nick"], "bobby");
    carol.event("bobby is robert", |v| occupant(v, &room, "nick", "robert"));
    alice.ok(&format!("/say {room} hi robert"));
    carol.event("message", |v| is(v, "message") && v["body"] == "hi robert");
    bob.ok(&format!("/say {room} thanks"));
    let m = carol.event("robert speaks", |v| {
        is(v, "message") && v["body"] == "thanks"
    });
    assert_eq!(m["nick"], "robert");

    // Carol leaves; bob's connection drops.
    carol.ok(&format!("/part {room}"));
    carol.event("left", |v| is(v, "left"));
    alice.event("carol leaves", |v| occupant(v, &room, "leave", "carol"));
    bob.event("carol leaves", |v| occupant(v, &room, "leave", "carol"));
    drop(bob);
    alice.event("robert is gone", |v| occupant(v, &room, "leave", "robert"));
    assert_eq!(alice.finish(), 0);
    assert_eq!(carol.finish(), 0);
}

#[test]
fn creating_rooms_after_404_and_the_405() {
    let server = setup(&["alice", "bob"]);
    let mut alice = online(&server, "alice");
    let room = format!("fresh@{LEGACY}");

    // Not there: /join says so.
    let e = alice.run(&format!("/join {room}"));
    assert_eq!(e["condition"], "item-not-found", "{e}");
    assert!(e["text"].as_str().unwrap().contains("/create"), "{e}");

    alice.ok(&format!("/create {room} name=Fresh secret=s3"));
    let j = alice.event("joined", |v| is(v, "joined") && v["room"] == room.as_str());
    assert_eq!(j["protocol"], "conference");

    let mut bob = online(&server, "bob");
    bob.ok(&format!("/info {room}"));
    let i = bob.event("conference-info", |v| is(v, "conference-info"));
    assert_eq!(i["name"], "Fresh", "{i}");
    assert_eq!(i["secret"], true);
    bob.ok(&format!("/join {room} s3"));
    alice.event("bob arrives", |v| occupant(v, &room, "join", "bob"));

    // Creating it again: it exists.
    let e = bob.run(&format!("/create {room}"));
    assert_eq!(e["event"], "error", "{e}");

    // A service that does not create rooms.
    let e = alice.run(&format!("/create new@{FIXED}"));
    assert_eq!(e["condition"], "not-allowed", "{e}");
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .contains("this service does not create rooms"),
        "{e}"
    );
    // Exit status 1: the refused commands.
    assert_eq!(alice.finish(), 1);
    assert_eq!(bob.finish(), 1);
}

#[test]
fn groupchat_one_point_oh_rooms() {
    let server = setup(&["alice", "bob"]);
    let room = format!("old@{LEGACY}");
    let mut alice = online(&server, "alice");
    // Detected: no disco, no jabber:iq:conference.
    alice.ok(&format!("/join {room}"));
    let j = alice.event("joined", |v| is(v, "joined"));
    assert_eq!(j["protocol"], "gc", "{j}");
    let mut bob = online(&server, "bob");
    bob.ok(&format!("/join {room} --protocol gc"));
    let j = bob.event("joined", |v| is(v, "joined"));
    assert_eq!(j["protocol"], "gc");
    bob.event("alice in bob's roster", |v| {
        occupant(v, &room, "join", "alice")
    });
    alice.event("bob arrives", |v| occupant(v, &room, "join", "bob"));

    bob.ok(&format!("/say {room} hi all"));
    let m = alice.event("bob's message", |v| {
        is(v, "message") && v["body"] == "hi all"
    });
    assert_eq!(m["nick"], "bob");

    bob.ok(&format!("/nick {room} robert"));
    bob.event("own nick change", |v| {
        occupant(v, &room, "nick", "robert") && v["self"] == true
    });
    alice.event("robert arrives", |v| occupant(v, &room, "join", "robert"));
    bob.ok(&format!("/say {room} renamed"));
    let m = alice.event("robert's message", |v| {
        is(v, "message") && v["body"] == "renamed"
    });
    assert_eq!(m["nick"], "robert");

    bob.ok(&format!("/part {room}"));
    bob.event("left", |v| is(v, "left"));
    alice.event("robert leaves", |v| occupant(v, &room, "leave", "robert"));

    // /create of a groupchat 1.0 room: made by entering it, unless someone
    // is there (then it existed, and bob leaves again).
    let e = bob.run(&format!("/create {room}"));
    assert_eq!(e["condition"], "conflict", "{e}");
    assert!(e["text"].as_str().unwrap().contains("room exists"), "{e}");
    alice.event("bob came and went", |v| occupant(v, &room, "leave", "bob"));
    let fresh = format!("newgc@{LEGACY}");
    bob.ok(&format!("/join {fresh} --protocol gc"));
    bob.event("joined", |v| is(v, "joined") && v["room"] == fresh.as_str());

    // XEP-0045 rooms are still XEP-0045.
    alice.ok("/join plain@conference.localhost");
    let j = alice.event("muc joined", |v| {
        is(v, "joined") && v["room"] == "plain@conference.localhost"
    });
    assert_eq!(j["protocol"], "muc");
    assert_eq!(alice.finish(), 0);
    // Exit status 1: the refused /create.
    assert_eq!(bob.finish(), 1);
}

/// A hand-driven client (seed 000 done by hand) checks the relays:
/// traffic to a temporary JID reaches the participant, but only messages
/// reach one who asked for privacy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_lets_only_messages_through() {
    use confab::protocol::conference as proto;
    use jid::Jid;
    use xmpp_parsers::iq::Iq;
    use xmpp_parsers::message::{Lang, Message, MessageType};
    use xmpp_parsers::ping::Ping;
    use xmpp_parsers::presence::Presence;

    let server = tokio::task::block_in_place(|| setup(&["alice", "bob", "dave"]));
    let room = format!("lounge@{LEGACY}");
    let (mut alice, mut bob) = tokio::task::block_in_place(|| {
        let mut alice = online(&server, "alice");
        alice.ok(&format!("/join {room} --private"));
        let mut bob = online(&server, "bob");
        bob.ok(&format!("/join {room}"));
        (alice, bob)
    });

    // Dave enters by hand: presence to the room, then the set.
    let mut dave = peer::peer(&server, "dave").await;
    let room_jid = Jid::new(&room).unwrap();
    let mut p = Presence::available();
    p.to = Some(room_jid.clone());
    peer::send(&mut dave, p).await;
    let set = Iq::Set {
        from: None,
        to: Some(room_jid.clone()),
        id: "enter".into(),
        payload: proto::set(&proto::Entry {
            nicks: vec!["dave".into()],
            ..Default::default()
        }),
    };
    peer::send(&mut dave, set).await;
    let Iq::Result { payload, .. } = peer::answer(&mut dave, "enter").await else {
        panic!("dave is refused")
    };
    let entered = proto::parse_entered(payload.as_ref()).unwrap();
    assert_eq!(entered.nick, "dave");

    // The others' temporary JIDs, from browsing the (public) room.
    peer::send(
        &mut dave,
        Iq::Get {
            from: None,
            to: Some(room_jid.clone()),
            id: "look".into(),
            payload: proto::browse_get(),
        },
    )
    .await;
    let Iq::Result { payload, .. } = peer::answer(&mut dave, "look").await else {
        panic!("no browse")
    };
    let browse = proto::parse_browse(payload.as_ref()).unwrap();
    let tmp = |name: &str| {
        Jid::new(
            browse
                .users()
                .find(|u| u.name.as_deref() == Some(name))
                .and_then(|u| u.jid.as_deref())
                .unwrap(),
        )
        .unwrap()
    };
    let (alice_tmp, bob_tmp) = (tmp("alice"), tmp("bob"));

    // A ping reaches bob (his session answers it, back through the room).
    peer::send(&mut dave, Iq::from_get("p1", Ping).with_to(bob_tmp.clone())).await;
    let answer = peer::answer(&mut dave, "p1").await;
    assert!(matches!(answer, Iq::Result { .. }), "{answer:?}");
    // Not alice: she asked for privacy.
    peer::send(
        &mut dave,
        Iq::from_get("p2", Ping).with_to(alice_tmp.clone()),
    )
    .await;
    match peer::answer(&mut dave, "p2").await {
        Iq::Error { error, .. } => assert_eq!(
            error.defined_condition,
            xmpp_parsers::stanza_error::DefinedCondition::NotAllowed
        ),
        other => panic!("{other:?}"),
    }
    // A message does reach her, from dave's nick.
    let mut m = Message::new_with_type(MessageType::Chat, Some(alice_tmp));
    m.bodies.insert(Lang::new(), "psst, alice".into());
    peer::send(&mut dave, m).await;
    tokio::task::block_in_place(|| {
        let m = alice.event("dave's message", |v| {
            is(v, "message") && v["body"] == "psst, alice"
        });
        assert_eq!(m["nick"], "dave", "{m}");
        assert_eq!(m["private"], true);
        // Dave's real JID is there for the asking; alice's is not.
        bob.ok(&format!("/whois {room} dave"));
        let w = bob.event("whois dave", |v| is(v, "whois") && v["nick"] == "dave");
        assert_eq!(w["jid"], "dave@localhost/peer", "{w}");
        bob.ok(&format!("/whois {room} alice"));
        let w = bob.event("whois alice", |v| is(v, "whois") && v["nick"] == "alice");
        assert!(w.get("jid").is_none(), "{w}");
        assert_eq!(alice.finish(), 0);
        assert_eq!(bob.finish(), 0);
    });
}

/// Services that give the messages they broadcast ids of their own: with
/// our XEP-0359 origin-id kept, or rebuilt from the body (services older
/// than XEP-0359). `/say` still ends `ok` with the room's echo, quickly,
/// in conference and groupchat 1.0 rooms, and the echo is shown once.
#[test]
fn say_ends_with_the_echo_where_the_service_writes_new_ids() {
    const REWRITE: &str = "rewrite.localhost";
    const BARE: &str = "bare.localhost";
    let rooms = |o: Options| {
        o.room(RoomSpec::parse("lounge", false).unwrap())
            .room(RoomSpec::parse("old", true).unwrap())
    };
    let server = setup_with(
        &["alice", "bob"],
        vec![
            rooms(Options::new(REWRITE).ids(Ids::Rewrite)),
            rooms(Options::new(BARE).ids(Ids::RewriteBare)),
        ],
    );
    let mut alice = online(&server, "alice");
    let mut bob = online(&server, "bob");
    for service in [REWRITE, BARE] {
        for node in ["lounge", "old"] {
            let room = format!("{node}@{service}");
            alice.ok(&format!("/join {room}"));
            bob.ok(&format!("/join {room}"));
            for n in 0..2 {
                let body = format!("hello {room} {n}");
                let started = std::time::Instant::now();
                alice.ok(&format!("/say {room} {body}"));
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(5),
                    "{room}: /say took {:?}",
                    started.elapsed()
                );
                let m = bob.event("the message", |v| {
                    is(v, "message") && v["room"] == room.as_str() && v["body"] == body.as_str()
                });
                // Without the origin-id the service's own id is all there is.
                let id = m["id"].as_str().unwrap_or_default();
                assert_eq!(service == BARE, id.starts_with("legacy-msg-"), "{m}");
            }
            let echoes = alice
                .raw_lines()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| is(v, "message") && v["room"] == room.as_str() && v["own"] == true)
                .count();
            assert_eq!(echoes, 2, "{room}: each echo shown once");
        }
    }
    alice.send("/quit");
    assert_eq!(alice.finish(), 0);
}
