//! One-to-one windows in the TUI: `/msg JID` goes to the window, looking
//! at it reads it, windows brought back at start show their unread count
//! and the "new messages" line, `/close` closes the current window (a
//! room's is refused with a word about `/part`), and the Contacts view
//! opens a conversation with Enter and joins a contact's room with Alt-J.

use super::*;
use crate::history::{History, Record};
use crate::protocol::chatting::{ChattingEvent, ChattingItem, ChattingRoom};
use crate::protocol::roster::{RosterItem, Subscription};
use crate::store::{Kind, Message};

const BOB: &str = "bob@localhost";

/// `n` archived lines of bob, then the window open, read after `read` of
/// them (none: never read).
fn history(n: i64, read: Option<i64>) -> History {
    let mut h = History::in_memory("alice@localhost").unwrap();
    let line = |i: i64| Record {
        conversation: BOB.into(),
        message: Message {
            stanza_id: Some(format!("s{i}")),
            ..Message::new(Kind::Chat, t(i), Some(BOB.into()), format!("line {i}"))
        },
    };
    let split = read.unwrap_or(0);
    h.append(&(0..split).map(line).collect::<Vec<_>>()).unwrap();
    if read.is_some() {
        h.set_read(BOB).unwrap();
    }
    h.append(&(split..n).map(line).collect::<Vec<_>>()).unwrap();
    h.set_open(BOB, true, t(0)).unwrap();
    h
}

fn online_with(h: History) -> (App, UiState, UnboundedReceiver<SessionCmd>) {
    let (mut app, rx) = App::for_tests_with("alice@localhost", 50, Some(h));
    let mut ui = ui_state();
    ui.current = None;
    app.on_session(SessionEvent::Online {
        jid: FullJid::new("alice@localhost/confab").unwrap(),
        reconnect: false,
    });
    (app, ui, rx)
}

fn bob() -> BareJid {
    BareJid::new(BOB).unwrap()
}

#[test]
fn a_restored_window_shows_its_unread_lines_until_looked_at() {
    let (mut app, mut ui, _rx) = online_with(history(6, Some(4)));
    let out = app.restore_windows();
    ui.on_events(&app.store, &out);
    // Not looked at yet: nothing is read.
    assert_eq!(ui.current, None);
    assert!(read_current(&mut app, &ui).is_empty());
    let v = ui.view(&bob());
    assert_eq!((v.unread, v.highlights), (2, 2));
    let c = &app.store.conversations[&bob()];
    let line4 = c.messages.iter().find(|m| m.body == "line 4").unwrap();
    assert_eq!(v.unread_from, Some(line4.seq));
    ui.panes.rooms_width = 24;
    let screen = text(&draw(&app.store, &ui, 100, 24));
    assert!(screen.contains("bob@localhost !2 2"), "{screen}");
    // Looked at: read, and the marker stays until the window is left.
    handle_key(&mut app, &mut ui, alt('1'));
    assert_eq!(ui.current, Some(bob()));
    assert_eq!(ui.view(&bob()).unread, 0);
    assert!(read_current(&mut app, &ui).is_empty());
    assert!(!app.store.conversations[&bob()].has_unread());
    let screen = text(&draw(&app.store, &ui, 100, 24));
    assert!(screen.contains("new messages"), "{screen}");
    assert!(screen.contains("line 5"), "{screen}");
}

#[test]
fn msg_without_text_goes_to_the_window_and_close_leaves_it() {
    let (mut app, mut ui, _rx) = online_with(History::in_memory("alice@localhost").unwrap());
    assert!(!submit_line(&mut app, &mut ui, &format!("/join {ROOM}")));
    let out = app.on_session(App::self_presence(&room(ROOM), "alice"));
    ui.on_events(&app.store, &out);
    assert_eq!(ui.current, Some(room(ROOM)));

    enter(&mut app, &mut ui, "/query carol@localhost/phone");
    let carol = BareJid::new("carol@localhost").unwrap();
    assert_eq!(ui.current, Some(carol.clone()), "{}", ui.status);
    assert_eq!(app.store.windows().count(), 2);
    enter(&mut app, &mut ui, "/close");
    assert_eq!(app.store.windows().count(), 1);
    assert_eq!(ui.current, Some(room(ROOM)), "back to the room");
    assert!(!ui.views.contains_key(&carol));
    // In a room: /part, not /close.
    enter(&mut app, &mut ui, "/close");
    assert!(ui.status_error, "{}", ui.status);
    assert!(ui.status.contains("/part"), "{}", ui.status);
    assert_eq!(app.store.windows().count(), 1);
}

#[test]
fn enter_in_contacts_opens_the_conversation_and_alt_j_joins_their_room() {
    let (mut app, mut ui, mut rx) = online_with(History::in_memory("alice@localhost").unwrap());
    app.store.contacts.set_roster(vec![RosterItem {
        jid: bob(),
        name: None,
        subscription: Subscription::Both,
        pending_out: false,
    }]);
    let lounge = "lounge@conference.localhost";
    app.store.contacts.chatting(ChattingEvent {
        from: bob(),
        items: vec![ChattingItem {
            id: "1".into(),
            room: Some(ChattingRoom {
                name: None,
                topic: None,
                uri: format!("xmpp:{lounge}?join"),
            }),
        }],
    });
    handle_key(&mut app, &mut ui, key(KeyCode::F(5)));
    assert!(matches!(ui.overlay, Overlay::Table(_)));
    handle_key(&mut app, &mut ui, key(KeyCode::Enter));
    assert!(matches!(ui.overlay, Overlay::None));
    assert_eq!(ui.current, Some(bob()));
    assert_eq!(ui.status, format!("/msg {BOB}: ok"));
    assert!(rx.try_recv().is_err(), "nothing sent to open a window");

    handle_key(&mut app, &mut ui, key(KeyCode::F(5)));
    handle_key(&mut app, &mut ui, alt('j'));
    assert!(matches!(ui.overlay, Overlay::None));
    assert!(ui.follow.contains(&room(lounge)));
    // The join starts (the service's protocol is looked up first).
    match rx.try_recv() {
        Ok(SessionCmd::Iq { to: Some(to), .. }) => assert_eq!(to.as_str(), "conference.localhost"),
        other => panic!("not the join's first step: {other:?}"),
    }
    assert!(!ui.status_error, "{}", ui.status);
}

#[test]
fn a_message_we_send_opens_its_window_and_shows_it() {
    let (mut app, mut ui, mut rx) = online_with(History::in_memory("alice@localhost").unwrap());
    assert!(!submit_line(&mut app, &mut ui, &format!("/join {ROOM}")));
    let out = app.on_session(App::self_presence(&room(ROOM), "alice"));
    ui.on_events(&app.store, &out);
    while rx.try_recv().is_ok() {}
    enter(&mut app, &mut ui, "/msg dave@localhost hello");
    assert_eq!(ui.current, Some(room(ROOM)), "not before it is sent");
    let tag = match rx.try_recv() {
        Ok(SessionCmd::Message { tag, .. }) => tag,
        other => panic!("not a message: {other:?}"),
    };
    let mut out = app.on_session(SessionEvent::Sent { tag });
    out.extend(app.flush_history());
    ui.on_events(&app.store, &out);
    assert_eq!(ui.current, Some(BareJid::new("dave@localhost").unwrap()));
    assert!(ui.follow.is_empty());
}
