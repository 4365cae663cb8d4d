//! The buffer tools against real servers: `/find` over the whole local
//! history, `/export` as text and JSON lines (nothing raw reaches a
//! terminal that `cat`s it), `/ignore` by occupant-id across a nick
//! change, by JID in one-to-one chats, remembered across a restart.

use serde_json::Value;
use xmpp_parsers::message::{Lang, Message, MessageType};

use crate::common::peer::*;
use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

crate::on_both!(find_and_export_the_local_history);

fn find_and_export_the_local_history(kind: ServerKind) {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(find_and_export(kind));
}

async fn find_and_export(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "mallory"]);
    let room = format!("annals@{}", server.muc_domain());
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    alice.connected();
    let mut bob = Client::online(&*server, "bob");
    alice.ok(&format!("/join {room}/alice"));
    bob.ok(&format!("/join {room}/bob"));
    bob.ok(&format!("/say {room} the release is out"));
    bob.ok(&format!("/say {room} nothing to see here"));
    bob.ok("/msg alice@localhost Release notes are in the wiki");
    // A hostile body: a C1 CSI and a bidi override (XML carries no C0
    // controls) for whoever cats the export.
    let mut mallory = peer(&*server, "mallory").await;
    join_room(&mut mallory, &room, "mallory").await;
    let mut m = Message::new_with_type(MessageType::Groupchat, Some(jid::Jid::new(&room).unwrap()));
    m.bodies
        .insert(Lang::new(), "clear\u{9b}2J\u{202e}screen release".into());
    send(&mut mallory, m).await;
    alice.ok(&format!(
        "/wait message {room} --from mallory --contains screen"
    ));
    alice.event("bob's private message", |v| {
        is(v, "message") && v["body"] == "Release notes are in the wiki"
    });

    // Everywhere, newest first; in one room; nothing.
    let found = alice.ok("/find release");
    let f = alice
        .events
        .iter()
        .rev()
        .find(|v| is(v, "found"))
        .cloned()
        .unwrap();
    let _ = found;
    let bodies: Vec<&str> = f["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 3, "{f}");
    assert!(bodies[0].contains("screen release"), "{f}");
    assert_eq!(bodies[1], "Release notes are in the wiki");
    assert_eq!(f["results"][1]["conversation"], "bob@localhost");
    assert_eq!(bodies[2], "the release is out");
    alice.ok(&format!("/find \"release out\" {room}"));
    let f = alice.events.iter().rev().find(|v| is(v, "found")).unwrap();
    assert_eq!(f["results"].as_array().unwrap().len(), 1, "{f}");
    assert_eq!(f["results"][0]["conversation"], room.as_str());
    alice.ok("/find zebra");
    let f = alice.events.iter().rev().find(|v| is(v, "found")).unwrap();
    assert!(f["results"].as_array().unwrap().is_empty());

    // Export: text (escaped) and JSON lines, private files.
    let txt = home.path().join("annals.txt");
    alice.ok(&format!("/export {room} {}", txt.display()));
    let e = alice
        .events
        .iter()
        .rev()
        .find(|v| is(v, "exported"))
        .unwrap();
    assert_eq!(e["messages"], 3, "{e}");
    let text = std::fs::read_to_string(&txt).unwrap();
    assert!(text.contains("<bob> the release is out"), "{text}");
    assert!(
        text.contains("<mallory> clear\\u{9b}2J\\u{202e}screen release"),
        "{text}"
    );
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&txt).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let jsonl = home.path().join("bob.jsonl");
    alice.ok(&format!("/export bob@localhost {}", jsonl.display()));
    let lines: Vec<Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["body"], "Release notes are in the wiki");
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);

    // Without a local history there is nothing to search.
    let mut plain = Client::start_in(&*server, "alice", home.path(), &["--no-history"]);
    plain.connected();
    let e = plain.run("/find release");
    assert_eq!(e["event"], "error", "{e}");
    assert!(
        e["text"].as_str().unwrap().contains("no local history"),
        "{e}"
    );
    // A failed command ends a script with 1.
    assert_eq!(plain.finish(), 1);
}

crate::on_both!(ignore_hides_and_is_remembered);

fn ignore_hides_and_is_remembered(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let room = format!("quiet@{}", server.muc_domain());
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    alice.connected();
    let mut bob = Client::online(&*server, "bob");
    let mut carol = Client::online(&*server, "carol");
    alice.ok(&format!("/join {room}/alice"));
    bob.ok(&format!("/join {room}/bob"));
    alice.ok(&format!("/wait occupant {room} bob"));
    let bob_seen = alice
        .events
        .iter()
        .find(|v| is(v, "occupant") && v["nick"] == "bob")
        .cloned()
        .unwrap();
    let by_id = bob_seen["occupant_id"].is_string();

    alice.ok(&format!("/ignore {room} bob"));
    alice.ok("/ignore carol@localhost");
    bob.ok(&format!("/say {room} bob one"));
    // The room keeps its order: after our own echo, bob's line came.
    alice.ok(&format!("/say {room} marker one"));
    if by_id {
        // A new nick does not escape an occupant-id.
        bob.ok(&format!("/nick {room} robert"));
        alice.ok(&format!("/wait occupant {room} robert"));
        bob.ok(&format!("/say {room} robert two"));
        alice.ok(&format!("/say {room} marker two"));
    }
    assert!(
        !alice.saw(|v| is(v, "message") && (v["nick"] == "bob" || v["nick"] == "robert")),
        "{:?}",
        alice.events
    );
    // Whenever it arrives (now, from offline storage or the archive at
    // the next login), carol's message is dropped.
    carol.ok("/msg alice@localhost carol private");
    assert_eq!(alice.finish(), 0);

    // Remembered: the next run still ignores them, /unignore ends it.
    let mut alice = Client::start_in(&*server, "alice", home.path(), &["--keep-going"]);
    alice.connected();
    alice.ok("/ignored");
    let list = alice
        .events
        .iter()
        .rev()
        .find(|v| is(v, "ignored"))
        .unwrap();
    assert_eq!(list["entries"].as_array().unwrap().len(), 2, "{list}");
    alice.ok(&format!("/join {room}/alice"));
    alice.event("the account's catch-up", |v| is(v, "mam-account"));
    bob.ok(&format!("/say {room} bob three"));
    alice.ok(&format!("/say {room} marker three"));
    let nick = if by_id { "robert" } else { "bob" };
    alice.ok("/unignore carol@localhost");
    alice.ok(&format!("/unignore {room} {nick}"));
    let e = alice.run(&format!("/unignore {room} {nick}"));
    assert_eq!(e["event"], "error", "{e}");
    bob.ok(&format!("/say {room} heard again"));
    carol.ok("/msg alice@localhost carol heard");
    alice.event("bob heard again", |v| {
        is(v, "message") && v["body"] == "heard again"
    });
    alice.event("carol heard", |v| {
        is(v, "message") && v["body"] == "carol heard"
    });
    assert!(!alice.saw(|v| is(v, "message") && v["body"] == "carol private"));
    assert!(!alice.saw(|v| is(v, "message") && v["body"] == "bob three"));
    alice.ok("/find private");
    let f = alice.events.iter().rev().find(|v| is(v, "found")).unwrap();
    assert!(f["results"].as_array().unwrap().is_empty(), "{f}");
    // The second /unignore failed: 1 at the end.
    assert_eq!(alice.finish(), 1);
    assert_eq!(bob.finish(), 0);
    assert_eq!(carol.finish(), 0);
}

#[test]
fn the_tui_finds_a_message_far_back_and_shows_it_in_its_room() {
    let server = prosody_with(&["alice", "bob"]);
    let room = "haystack@conference.localhost";
    let home = tempfile::tempdir().unwrap();
    // A first run (batch): the needle, then a screenful and more.
    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    alice.connected();
    let mut bob = Client::online(&server, "bob");
    alice.ok(&format!("/join {room}/alice"));
    bob.ok(&format!("/join {room}/bob"));
    bob.ok(&format!("/say {room} the needle is here"));
    for i in 0..80 {
        bob.ok(&format!("/say {room} filler {i}"));
    }
    alice.ok(&format!(
        "/wait message {room} --from bob --contains \"filler 79\""
    ));
    assert_eq!(alice.finish(), 0);

    // The TUI shows 20 lines of its archive on join: the needle is not
    // among them until /find brings it.
    let dir = home.path().join("config").join("confab");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "[history]\nload = 20\n").unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 110, 24);
    tmux.send(&[&format!("/join {room}"), "Enter"]);
    tmux.wait_for("the room's last lines", |s| {
        s.contains("filler 79") && !s.contains("needle")
    });
    tmux.send(&["/find needle", "Enter"]);
    tmux.wait_for("the result table", |s| {
        s.contains("Found: needle") && s.contains("the needle is here")
    });
    tmux.send(&["Enter"]);
    let s = tmux.wait_for("the needle in the room's pane", |s| {
        !s.contains("Found: needle") && s.contains("<bob> the needle is here")
    });
    assert!(s.contains("filler 0"), "{s}");
    // /clear empties the pane; scrolling back brings the lines again.
    tmux.send(&["/clear", "Enter"]);
    tmux.wait_for("an empty pane", |s| {
        !s.contains("filler") && !s.contains("the needle is here")
    });
    tmux.send(&["PPage"]);
    tmux.wait_for("the lines back", |s| s.contains("filler 79"));
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
    assert_eq!(bob.finish(), 0);
}
