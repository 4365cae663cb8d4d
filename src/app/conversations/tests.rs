use chrono::{DateTime, Utc};
use jid::{BareJid, Jid};

use crate::app::App;
use crate::app::fixtures;
use crate::command;
use crate::history::{History, Record};
use crate::protocol::{ChatMessage, Incoming};
use crate::session::SessionEvent;
use crate::store::{Event, Kind, Message};

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
}

fn bob() -> BareJid {
    BareJid::new("bob@localhost").unwrap()
}

/// `n` archived lines of bob (`old 0` … at t(0) …), and one of ours.
fn archive(h: &mut History, n: i64) {
    let mut records: Vec<Record> = (0..n)
        .map(|i| Record {
            conversation: "bob@localhost".into(),
            message: Message {
                stanza_id: Some(format!("s{i}")),
                ..Message::new(
                    Kind::Chat,
                    t(i),
                    Some("bob@localhost/phone".into()),
                    format!("old {i}"),
                )
            },
        })
        .collect();
    records.push(Record {
        conversation: "bob@localhost".into(),
        message: Message {
            own: true,
            ..Message::new(Kind::Chat, t(n), None, "mine".into())
        },
    });
    h.append(&records).unwrap();
}

/// Lines `old FROM` … `old TO-1` of bob, archived later.
fn archive_more(h: &mut History, from: i64, to: i64) {
    let records: Vec<Record> = (from..to)
        .map(|i| Record {
            conversation: "bob@localhost".into(),
            message: Message {
                stanza_id: Some(format!("s{i}")),
                ..Message::new(
                    Kind::Chat,
                    t(i + 1),
                    Some("bob@localhost/phone".into()),
                    format!("old {i}"),
                )
            },
        })
        .collect();
    h.append(&records).unwrap();
}

fn run(app: &mut App, line: &str) -> Vec<Event> {
    let cmd = command::parse(line).unwrap();
    let exec = app.execute(cmd, line);
    assert!(exec.pending.is_none(), "{line} finishes at once");
    exec.events
}

fn names(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.name()).collect()
}

fn bodies(app: &App) -> Vec<String> {
    app.store.conversations[&bob()]
        .messages
        .iter()
        .map(|m| m.body.clone())
        .collect()
}

fn from_bob(body: &str) -> SessionEvent {
    SessionEvent::Incoming(Incoming::Chat(ChatMessage {
        id: Some(format!("id-{body}")),
        ..ChatMessage::new(Jid::new("bob@localhost/phone").unwrap(), body)
    }))
}

#[test]
fn msg_without_text_opens_the_window_with_its_last_lines() {
    let mut h = History::in_memory("alice@localhost").unwrap();
    archive(&mut h, 25);
    h.set_read("bob@localhost").unwrap();
    archive_more(&mut h, 25, 30);
    let (mut app, _rx) = App::for_tests_with("alice@localhost", 10, Some(h));
    let ev = run(&mut app, "/msg bob@localhost");
    assert_eq!(names(&ev), ["window-opened", "history", "ok"]);
    // old 25 … old 29 are after the marker; ours is never unread.
    assert_eq!(ev[0].to_json()["unread"], 5);
    assert_eq!(ev[1].to_json()["count"], 10);
    assert_eq!(bodies(&app).first().unwrap(), "old 21");
    assert_eq!(bodies(&app).get(4).unwrap(), "mine");
    assert_eq!(bodies(&app).last().unwrap(), "old 29");
    let c = &app.store.conversations[&bob()];
    assert_eq!(c.nth_newest_of_others(5), c.messages.get(5).map(|m| m.seq));
    // Open already: just ok.
    assert_eq!(names(&run(&mut app, "/query bob@localhost/phone")), ["ok"]);
    // Scrolling back goes on in the archive.
    let ev = app.load_older(&bob(), 100);
    assert_eq!(ev[0].to_json()["count"], 21);
    assert_eq!(bodies(&app).first().unwrap(), "old 0");
}

#[test]
fn a_message_opens_the_window_with_its_archive_before_it() {
    let mut h = History::in_memory("alice@localhost").unwrap();
    archive(&mut h, 3);
    h.set_read("bob@localhost").unwrap();
    archive_more(&mut h, 3, 5);
    let (mut app, _rx) = App::for_tests_with("alice@localhost", 50, Some(h));
    app.on_session(SessionEvent::Online {
        jid: "alice@localhost/tui".parse().unwrap(),
        reconnect: false,
    });
    let mut ev = app.on_session(from_bob("new"));
    ev.extend(app.on_session(from_bob("newer")));
    assert_eq!(names(&ev), ["message", "message"]);
    let ev = app.flush_history();
    assert_eq!(names(&ev), ["window-opened", "history"]);
    // old 3, old 4 and the two new ones.
    assert_eq!(ev[0].to_json()["unread"], 4);
    assert_eq!(ev[1].to_json()["count"], 6);
    assert_eq!(
        bodies(&app),
        [
            "old 0", "old 1", "old 2", "mine", "old 3", "old 4", "new", "newer"
        ]
    );
    // Told once.
    app.on_session(from_bob("again"));
    assert!(app.flush_history().is_empty());
}

#[test]
fn without_an_archive_a_window_still_opens_and_closes() {
    let (mut app, _rx) = fixtures::online("alice@localhost/tui");
    app.on_session(from_bob("hi"));
    let ev = app.flush_history();
    assert_eq!(names(&ev), ["window-opened"]);
    assert_eq!(ev[0].to_json()["unread"], 1);
    let ev = run(&mut app, "/close bob@localhost");
    assert_eq!(names(&ev), ["window-closed", "ok"]);
    assert_eq!(app.store.windows().count(), 0);
}

#[test]
fn close_refuses_rooms_and_windows_not_open() {
    let (mut app, _rx) = fixtures::online("alice@localhost/tui");
    let room = BareJid::new("r@conference.localhost").unwrap();
    fixtures::joined(&mut app, &room, "alice");
    let ev = run(&mut app, "/close r@conference.localhost");
    let j = ev[0].to_json();
    assert_eq!(j["event"], "error");
    assert_eq!(j["condition"], "not-acceptable");
    assert!(j["text"].as_str().unwrap().contains("/part"), "{j}");
    assert!(app.store.room(&room).is_some(), "still in the room");
    let ev = run(&mut app, "/close bob@localhost");
    assert_eq!(ev[0].to_json()["condition"], "item-not-found");
    let ev = run(&mut app, "/close");
    assert_eq!(ev[0].to_json()["condition"], "bad-request");
    let ev = run(&mut app, "/read carol@localhost");
    assert_eq!(ev[0].to_json()["condition"], "item-not-found");
    // A private message needs its text.
    let ev = run(&mut app, "/msg r@conference.localhost/bob");
    assert_eq!(ev[0].to_json()["condition"], "not-acceptable");
}

#[test]
fn open_windows_and_their_unread_lines_come_back_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let carol = BareJid::new("carol@localhost").unwrap();
    {
        let mut h = History::open(&path, "alice@localhost").unwrap();
        archive(&mut h, 3);
        let (mut app, _rx) = App::for_tests_with("alice@localhost", 50, Some(h));
        run(&mut app, "/msg carol@localhost");
        run(&mut app, "/msg bob@localhost");
        // Read, then two more arrive.
        assert_eq!(names(&run(&mut app, "/read bob@localhost")), ["ok"]);
        app.on_session(from_bob("one"));
        app.on_session(from_bob("two"));
        assert!(app.flush_history().is_empty(), "open already");
        // A third window, closed again.
        run(&mut app, "/msg dave@localhost");
        run(&mut app, "/close dave@localhost");
    }
    let h = History::open(&path, "alice@localhost").unwrap();
    let (mut app, _rx) = App::for_tests_with("alice@localhost", 50, Some(h));
    let ev = app.restore_windows();
    assert_eq!(names(&ev), ["window-opened", "window-opened", "history"]);
    let j: Vec<_> = ev.iter().map(|e| e.to_json()).collect();
    assert_eq!(j[0]["jid"], "carol@localhost");
    assert_eq!(j[0]["restored"], true);
    assert_eq!(j[1]["jid"], "bob@localhost");
    assert_eq!(j[1]["unread"], 2);
    assert_eq!(j[2]["count"], 6);
    let windows: Vec<String> = app.store.windows().map(|w| w.jid().to_string()).collect();
    assert_eq!(windows, ["carol@localhost", "bob@localhost"]);
    assert!(app.store.conversations[&bob()].has_unread());
    assert!(app.store.conversations.contains_key(&carol));
    // Read now, and closed: nothing comes back next time.
    app.mark_read(&bob());
    run(&mut app, "/close bob@localhost");
    run(&mut app, "/close carol@localhost");
    drop(app);
    let h = History::open(&path, "alice@localhost").unwrap();
    assert_eq!(
        h.unread("bob@localhost", h.read_marker("bob@localhost").unwrap())
            .unwrap(),
        0
    );
    let (mut app, _rx) = App::for_tests_with("alice@localhost", 50, Some(h));
    assert!(app.restore_windows().is_empty());
}
