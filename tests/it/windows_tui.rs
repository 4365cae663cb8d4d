//! One-to-one windows in the real TUI (tmux) against the test Prosody:
//! Enter on a contact in the Contacts view opens the conversation with
//! its archived lines, `/close` takes it off the window list, and a
//! window left with unread lines comes back after a restart with its
//! count and the "new messages" line.

use crate::common::*;

#[test]
fn tui_opens_a_conversation_from_the_roster_and_keeps_its_unread_lines() {
    let server = prosody_with(&["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut bob = Client::online(&server, "bob");

    // A first run (batch, same home): bob in alice's roster, two lines
    // from him archived; the window closed again.
    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    alice.connected();
    alice.ok("/add bob@localhost");
    bob.ok("/msg alice@localhost archived one");
    bob.ok("/msg alice@localhost archived two");
    alice.ok("/wait event message body=\"archived two\"");
    alice.ok("/close bob@localhost");
    assert_eq!(alice.finish(), 0);

    let tmux = Tmux::start(&server, "alice", home.path(), 120, 30);
    tmux.send(&["/layout rooms 30", "Enter"]);
    // Enter on bob in the Contacts view: his window, with its history.
    tmux.send(&["F5"]);
    tmux.wait_for("bob in the Contacts view", |s| {
        s.contains("Contacts") && s.contains("bob@localhost")
    });
    tmux.send(&["Enter"]);
    tmux.wait_for("bob's window with its archived lines", |s| {
        s.contains("1@bob@localhost") && s.contains("archived one") && s.contains("archived two")
    });
    // /close: off the window list.
    tmux.send(&["/close", "Enter"]);
    tmux.wait_for("the window closed", |s| {
        s.contains("/close: ok") && !s.contains("1@bob@localhost") && !s.contains("archived two")
    });

    // Open again, then look at another window while bob writes.
    tmux.send(&["/msg bob@localhost", "Enter"]);
    tmux.wait_for("bob's window again", |s| {
        s.contains("1@bob@localhost") && s.contains("archived two")
    });
    tmux.send(&["/query carol@localhost", "Enter"]);
    tmux.wait_for("carol's window", |s| s.contains("2@carol@localhost"));
    bob.ok("/msg alice@localhost unread one");
    bob.ok("/msg alice@localhost unread two");
    tmux.wait_for("two unread lines of bob", |s| {
        s.contains("1@bob@localhost !2 2")
    });
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();

    // Back: both windows, bob's with its two unread lines.
    let tmux = Tmux::start(&server, "alice", home.path(), 120, 30);
    tmux.send(&["/layout rooms 30", "Enter"]);
    tmux.wait_for("the windows back with bob's unread count", |s| {
        s.contains("1@bob@localhost !2 2") && s.contains("2@carol@localhost")
    });
    // Looked at: the marker before the first unread line, the count gone.
    tmux.send(&["M-1"]);
    let s = tmux.wait_for("bob's window read", |s| {
        s.contains("new messages") && s.contains("unread two") && !s.contains("!2 2")
    });
    let marker = s.find("new messages").unwrap();
    assert!(s.find("archived two").unwrap() < marker, "{s}");
    assert!(marker < s.find("unread one").unwrap(), "{s}");
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();

    // Read: nothing unread the next time.
    // (The windows are there at the first frame: no count is coming.)
    let tmux = Tmux::start(&server, "alice", home.path(), 120, 30);
    let s = tmux.wait_for("the windows back", |s| {
        s.contains("1@bob@localhost") && s.contains("2@carol")
    });
    let bob_line = s.lines().find(|l| l.contains("1@bob@localhost")).unwrap();
    let entry = bob_line.split('│').next().unwrap().trim();
    assert_eq!(entry, "1@bob@localhost", "{s}");
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
    assert_eq!(bob.finish(), 0);
}
