//! Contacts and XEP-0194 in the real TUI (tmux) against the test Prosody:
//! a subscription request is a prompt (Enter approves), the Contacts view
//! (F5) shows the room a contact is in and Alt-J joins it, and the title
//! says whether the room is told to contacts.

use serde_json::Value;

use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

#[test]
fn tui_contacts_view_joins_a_contacts_room_and_shows_sharing() {
    let server = prosody_with(&["alice", "bob"]);
    let lounge = "tuilounge@conference.localhost";
    let mut bob = Client::online(&server, "bob");
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 140, 30);
    tmux.wait_for("online", |s| s.contains("online"));

    // bob asks; alice approves in the prompt (and asks back); bob approves.
    bob.ok("/add alice@localhost");
    tmux.wait_for("the request prompt", |s| {
        s.contains("bob@localhost asks to see your presence") && s.contains("Enter to approve")
    });
    tmux.send(&["Enter"]);
    bob.event("alice asks back", |v| {
        is(v, "subscription") && v["from"] == "alice@localhost" && v["type"] == "subscribe"
    });
    bob.ok("/approve alice@localhost");
    bob.event("mutual", |v| {
        is(v, "contact") && v["jid"] == "alice@localhost" && v["subscription"] == "both"
    });

    // bob is in a public room: alice's Contacts view shows it, Alt-J joins
    // (Enter opens the conversation: `tests/it/windows_tui.rs`).
    bob.ok(&format!(
        "/create {lounge} muc#roomconfig_roomname=Lounge muc#roomconfig_publicroom=1"
    ));
    bob.event("published", |v| {
        is(v, "chatting-publish") && v["published"] == true
    });
    tmux.send(&["F5"]);
    tmux.wait_for("bob's room in the Contacts view", |s| {
        s.contains("Contacts") && s.contains("bob@localhost") && s.contains(lounge)
    });
    tmux.send(&["M-j"]);
    bob.ok(&format!("/wait occupant {lounge} alice"));
    // A public room: alice tells her contacts too, and the title says so.
    tmux.wait_for("the shared marker", |s| {
        s.contains("[shared with contacts]")
    });
    bob.event("alice's room", |v| {
        is(v, "chatting") && v["from"] == "alice@localhost" && v["room"].is_object()
    });
    tmux.send(&[&format!("/chatting {lounge} off"), "Enter"]);
    tmux.wait_for("the not-shared marker", |s| s.contains("[not shared]"));
    bob.event("alice's room withdrawn", |v| {
        is(v, "chatting") && v["from"] == "alice@localhost" && v["room"].is_null()
    });

    tmux.send(&["/quit", "Enter"]);
    assert_eq!(bob.finish(), 0, "{:#?}", bob.events);
}
