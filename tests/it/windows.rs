//! One-to-one windows in batch mode, on both servers: a message opens
//! alice's window with bob (`window-opened`, its unread count); `/read`
//! moves the read marker; across restarts with the same home the window
//! comes back (`restored`) with its archived lines and unread count, a
//! message stored while alice was away counts as unread, and a window
//! closed with `/close` stays closed.

use serde_json::Value;

use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

fn restored(v: &Value) -> bool {
    is(v, "window-opened") && v["restored"] == true
}

crate::on_both!(a_conversation_window_and_its_unread_lines_survive_restarts);

fn a_conversation_window_and_its_unread_lines_survive_restarts(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    alice.connected();
    let mut bob = Client::online(&*server, "bob");

    // bob writes: alice's window with him opens, one line unread.
    bob.ok("/msg alice@localhost first");
    let w = alice.event("bob's window", |v| {
        is(v, "window-opened") && v["jid"] == "bob@localhost"
    });
    assert_eq!(w["unread"], 1, "{kind}: {w}");
    assert!(w.get("restored").is_none(), "{kind}: {w}");
    bob.ok("/msg alice@localhost second");
    alice.ok("/wait event message body=second");
    // Read up to here; then one more.
    alice.ok("/read bob@localhost");
    bob.ok("/msg alice@localhost third");
    alice.ok("/wait event message body=third");
    // Opened already: just ok, no second window.
    alice.ok("/msg bob@localhost");
    assert_eq!(
        alice
            .events
            .iter()
            .filter(|v| is(v, "window-opened"))
            .count(),
        1,
        "{kind}"
    );
    assert_eq!(alice.finish(), 0);

    // Back: the window with its three lines, one unread.
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    let w = alice.event("the window back", restored);
    assert_eq!(w["jid"], "bob@localhost", "{kind}: {w}");
    assert_eq!(w["unread"], 1, "{kind}: {w}");
    let h = alice.event("its history", |v| {
        is(v, "history") && v["room"] == "bob@localhost"
    });
    assert_eq!(h["count"], 3, "{kind}: {h}");
    alice.connected();
    assert_eq!(alice.finish(), 0);

    // bob writes while alice is away: the server keeps it, and it counts
    // as unread once it has landed.
    bob.ok("/msg alice@localhost while you were away");
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    let w = alice.event("the window back", restored);
    assert_eq!(w["unread"], 1, "{kind}: {w}");
    alice.connected();
    alice.ok("/wait event message body=\"while you were away\"");
    assert_eq!(alice.finish(), 0);
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    let w = alice.event("the window back", restored);
    assert_eq!(w["unread"], 2, "{kind}: {w}");
    let h = alice.event("its history", |v| is(v, "history"));
    assert_eq!(h["count"], 4, "{kind}: {h}");
    alice.connected();
    // Closed: read, and not back next time.
    alice.ok("/close bob@localhost");
    alice.event("closed", |v| {
        is(v, "window-closed") && v["jid"] == "bob@localhost"
    });
    assert_eq!(alice.finish(), 0);
    let mut alice = Client::start_in(&*server, "alice", home.path(), &[]);
    alice.connected();
    assert!(!alice.saw(|v| is(v, "window-opened")), "{kind}");
    // Opened again: its history, nothing unread.
    alice.ok("/msg bob@localhost");
    let w = alice.event("opened again", |v| is(v, "window-opened"));
    assert_eq!(w["unread"], 0, "{kind}: {w}");
    let h = alice.event("its history", |v| is(v, "history"));
    assert_eq!(h["count"], 4, "{kind}: {h}");
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);
}
