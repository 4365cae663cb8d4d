//! XEP-0085 chat states against real servers: the TUI sends ours as the
//! draft changes (once per change, `<active/>` with the message, never to
//! a room above the configured size), batch shows others' as
//! `chat-state` events, the TUI's status line says who is typing; a raw
//! peer sends the XEP's own notices.

use jid::Jid;
use minidom::Element;
use serde_json::Value;
use xmpp_parsers::message::{Lang, Message, MessageType};

use crate::common::peer::*;
use crate::common::*;

fn state(v: &Value, who: &str, state: &str) -> bool {
    v["event"] == "chat-state" && (v["nick"] == who || v["from"] == who) && v["state"] == state
}

fn notice(to: &str, type_: MessageType, state: &str, body: Option<&str>) -> Message {
    let mut m = Message::new_with_type(type_, Some(Jid::new(to).unwrap()));
    m.payloads
        .push(Element::builder(state, "http://jabber.org/protocol/chatstates").build());
    if let Some(b) = body {
        m.bodies.insert(Lang::new(), b.into());
    }
    m
}

crate::on_both!(typing_goes_both_ways);

fn typing_goes_both_ways(kind: ServerKind) {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(typing_goes_both_ways_async(kind));
}

async fn typing_goes_both_ways_async(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob", "carol"]);
    let room = format!("states@{}", server.muc_domain());
    let mut bob = Client::online(&*server, "bob");
    bob.ok(&format!("/join {room}/bob"));
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&*server, "alice", home.path(), 110, 24);
    tmux.send(&[&format!("/join {room}"), "Enter"]);
    bob.ok(&format!("/wait occupant {room} alice"));

    // alice types: composing once, however many keys.
    tmux.send(&["hello"]);
    tmux.send(&[" there"]);
    bob.event("alice composing", |v| state(v, "alice", "composing"));
    // Cleared: active.
    tmux.send(&["C-u"]);
    bob.event("alice active", |v| state(v, "alice", "active"));
    // Typed and sent: composing, then the message (its <active/> rides
    // along: no extra notice).
    tmux.send(&["done"]);
    tmux.send(&["Enter"]);
    bob.ok(&format!(
        "/wait message {room} --from alice --contains done"
    ));
    let alice_states: Vec<&Value> = bob
        .events
        .iter()
        .filter(|v| v["event"] == "chat-state" && v["nick"] == "alice")
        .collect();
    let states: Vec<&str> = alice_states
        .iter()
        .map(|v| v["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["composing", "active", "composing"],
        "{alice_states:?}"
    );

    // carol, a raw peer, types in the room: bob's batch and alice's
    // status line see it; her message ends it.
    let mut carol = peer(&*server, "carol").await;
    join_room(&mut carol, &room, "carol").await;
    bob.ok(&format!("/wait occupant {room} carol"));
    send(
        &mut carol,
        notice(&room, MessageType::Groupchat, "composing", None),
    )
    .await;
    bob.event("carol composing", |v| state(v, "carol", "composing"));
    tmux.wait_for("carol typing on alice's status line", |s| {
        s.contains("carol is typing…")
    });
    send(
        &mut carol,
        notice(&room, MessageType::Groupchat, "paused", None),
    )
    .await;
    bob.event("carol paused", |v| state(v, "carol", "paused"));
    tmux.wait_for("carol paused", |s| s.contains("carol paused"));
    send(
        &mut carol,
        notice(&room, MessageType::Groupchat, "active", Some("here I am")),
    )
    .await;
    tmux.wait_for("carol's message, the notice gone", |s| {
        s.contains("here I am") && !s.contains("carol paused") && !s.contains("typing")
    });

    // One-to-one: a notice reaches bob's open window with carol; one to
    // a window bob does not have is not shown.
    let carol_jid = server.jid("carol");
    bob.ok(&format!("/msg {carol_jid}"));
    send(
        &mut carol,
        notice(&server.jid("bob"), MessageType::Chat, "composing", None),
    )
    .await;
    bob.event("carol composing in the conversation", |v| {
        state(v, &carol_jid, "composing")
    });
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
    assert_eq!(bob.finish(), 0);
}

#[test]
fn no_chat_states_to_a_room_above_the_limit() {
    let server = prosody_with(&["alice", "bob"]);
    let room = "biggish@conference.localhost";
    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {room}/bob"));
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("config").join("confab");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "[ui]\nchat_states_max_occupants = 1\n",
    )
    .unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 110, 24);
    tmux.send(&[&format!("/join {room}"), "Enter"]);
    bob.ok(&format!("/wait occupant {room} alice"));
    // Two occupants, limit 1: nothing about typing, not even <active/>.
    tmux.send(&["quietly"]);
    tmux.send(&["Enter"]);
    bob.ok(&format!(
        "/wait message {room} --from alice --contains quietly"
    ));
    // In a conversation the limit does not apply.
    tmux.send(&["/msg bob@localhost", "Enter"]);
    bob.ok("/msg alice@localhost hi from bob");
    tmux.wait_for("bob's message in alice's window", |s| {
        s.contains("hi from bob")
    });
    tmux.send(&["typing to bob"]);
    bob.event("alice composing to bob", |v| {
        state(v, "alice@localhost", "composing")
    });
    assert!(
        !bob.saw(|v| v["event"] == "chat-state" && v["room"] == room),
        "{:?}",
        bob.events
    );
    tmux.send(&["C-u", "/quit", "Enter"]);
    tmux.wait_exit();
    assert_eq!(bob.finish(), 0);
}
