//! The real confab binary in a real terminal (tmux) against the test
//! Prosody: join from the input line, send a message, see another
//! client's message and both participants.

use crate::common::*;

#[test]
fn tui_joins_chats_and_lists_participants() {
    let server = prosody_with(&["alice", "bob"]);
    let room = "tuiroom@conference.localhost";
    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {room}/bob"));

    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 110, 30);
    tmux.send(&[&format!("/join {room}"), "Enter"]);
    let s = tmux.wait_for("both participants", |s| {
        s.contains("bob") && s.contains("2 people")
    });
    assert!(s.contains("alice"), "{s}");
    assert!(s.contains("tuiroom"), "{s}");

    tmux.send(&["hello from the terminal", "Enter"]);
    bob.ok(&format!(
        "/wait message {room} --from alice --contains \"hello from the terminal\""
    ));
    bob.ok(&format!("/say {room} hi alice, welcome to tmux"));
    let s = tmux.wait_for("bob's message", |s| s.contains("welcome to tmux"));
    assert!(s.contains("<bob>"), "{s}");
    assert!(s.contains("<alice> hello from the terminal"), "{s}");

    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
    let left = bob.event("alice leaves", |v| {
        v["event"] == "occupant" && v["action"] == "leave"
    });
    assert_eq!(left["nick"], "alice");
    assert_eq!(bob.finish(), 0);
}
