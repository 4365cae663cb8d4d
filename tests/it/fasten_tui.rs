//! Acting on a message in the real TUI (tmux) against the test Prosody:
//! Alt-Up selects the newest message, `+` starts a `/react` naming it by
//! the room's stanza-id, `r` a `/reply`; the reactions row and the quote
//! are drawn, and a batch client in the room gets both; a mouse click
//! selects a message and `d` moderates it.

use serde_json::Value;

use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

#[test]
fn tui_selects_a_message_and_reacts_and_replies() {
    let server = prosody_with(&["alice", "bob"]);
    let room = "tuifasten@conference.localhost";
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 120, 30);
    tmux.wait_for("online", |s| s.contains("online"));
    tmux.send(&[&format!("/join {room}/alice"), "Enter"]);
    // (The join's "ok" on the status line may give way at once to news
    // such as OMEMO's publication: the people pane says it.)
    tmux.wait_for("joined", |s| {
        s.contains(&format!("/join {room}/alice: ok")) || s.contains("1 people")
    });
    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {room}/bob"));
    bob.ok(&format!("/say {room} cake time"));
    let sid = bob.event("bob's echo", |v| {
        is(v, "message") && v["body"] == "cake time"
    })["stanza_id"]
        .as_str()
        .unwrap()
        .to_string();
    tmux.wait_for("bob's message", |s| s.contains("<bob> cake time"));

    // Select it, react with +.
    tmux.send(&["M-Up"]);
    tmux.wait_for("selected", |s| s.contains("r reply, + react"));
    tmux.send(&["+"]);
    tmux.wait_for("the command on the input line", |s| {
        s.contains(&format!("/react {room} {sid}"))
    });
    tmux.send(&["-l", "👍"]);
    tmux.send(&["Enter"]);
    let r = bob.expect("alice's reaction", |v| is(v, "reactions"));
    assert_eq!(r["nick"], "alice");
    assert_eq!(r["target"], sid.as_str());
    assert_eq!(r["emojis"], serde_json::json!(["👍"]));
    tmux.wait_for("the reactions row", |s| s.contains("👍 1 alice"));

    // Select it again, reply with r.
    tmux.send(&["M-Up"]);
    tmux.wait_for("selected again", |s| s.contains("r reply, + react"));
    tmux.send(&["r"]);
    tmux.wait_for("the reply on the input line", |s| {
        s.contains(&format!("/reply {room} {sid}"))
    });
    tmux.send(&["-l", "yes please"]);
    tmux.send(&["Enter"]);
    let m = bob.expect("alice's reply", |v| {
        is(v, "message") && v["nick"] == "alice"
    });
    assert_eq!(m["body"], "yes please");
    assert_eq!(m["reply_to"]["id"], sid.as_str());
    tmux.wait_for("the quote above the reply", |s| {
        s.contains("↪ bob: cake time") && s.contains("<alice> yes please")
    });

    // A click on bob's line selects it; d: alice (the room's owner) may
    // remove it, so /moderate comes on the input line.
    let screen = tmux.screen();
    let (y, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("<bob> cake time"))
        .expect("bob's line on screen");
    let x = line.find("cake time").unwrap();
    // SGR mouse reports (1-based): left button down, then up.
    tmux.send(&["-l", &format!("\x1b[<0;{};{}M", x + 1, y + 1)]);
    tmux.send(&["-l", &format!("\x1b[<0;{};{}m", x + 1, y + 1)]);
    tmux.wait_for("selected by the click", |s| s.contains("r reply, + react"));
    tmux.send(&["d"]);
    tmux.wait_for("the moderation on the input line", |s| {
        s.contains(&format!("/moderate {room} {sid}"))
    });
    tmux.send(&["-l", "off topic"]);
    tmux.send(&["Enter"]);
    let r = bob.expect("the moderation", |v| is(v, "retracted"));
    assert_eq!(r["moderated"], true);
    assert_eq!(r["by"], "alice");
    assert_eq!(r["reason"], "off topic");
    tmux.wait_for("the removed line", |s| {
        s.contains("<bob> removed by alice: off topic") && !s.contains("<bob> cake time")
    });
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
    assert_eq!(bob.finish(), 0);
}
