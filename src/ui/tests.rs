//! TUI tests: whole screens as snapshots (ratatui TestBackend + insta),
//! key sequences in and commands / UI state out, and hostile strings
//! through every view.

use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jid::{BareJid, FullJid, Jid};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::sync::mpsc::UnboundedReceiver;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};

use super::state::UiState;
use super::views::{Form, Overlay, Table};
use super::widgets::{Column, FormEditor, TableView, Width};
use super::*;
use crate::app::App;
use crate::app::fixtures::{occupant, room_message};
use crate::protocol::muc::{Affiliation, Role};
use crate::protocol::{ChatMessage, Incoming};
use crate::session::{SessionCmd, SessionEvent};
use crate::store::{Input, Protocol, Store};

mod omemo;
mod people;
mod talk;
mod windows;
mod xml_console;

const ROOM: &str = "coven@conference.localhost";
const ROOM2: &str = "heath@conference.localhost";

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T23:58:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + chrono::Duration::seconds(secs)
}

fn room(j: &str) -> BareJid {
    BareJid::new(j).unwrap()
}

fn presence(
    room_jid: &str,
    nick: &str,
    role: Role,
    affil: Affiliation,
    show: &'static str,
    status: Option<&str>,
    codes: &[u16],
) -> Input {
    let mut p = occupant(room_jid, nick)
        .role(role)
        .affiliation(affil)
        .show(show)
        .codes(codes);
    if let Some(status) = status {
        p = p.status(status);
    }
    Input::Incoming(p.incoming())
}

fn say(room_jid: &str, nick: &str, body: &str, sid: &str) -> Input {
    Input::Incoming(
        room_message(&room(room_jid), nick, body)
            .stanza_id(sid)
            .incoming(),
    )
}

/// A store with two rooms: coven (joined, people of every role, messages
/// across midnight, events) and heath.
fn fixture(store: &mut Store, names: &Names) {
    let online = Input::Online {
        jid: FullJid::new("alice@localhost/confab").unwrap(),
        reconnect: false,
    };
    store.apply(online, t(0));
    for (r, n) in [(ROOM, &names.own), (ROOM2, &names.own)] {
        store.apply(
            Input::Joining {
                room: room(r),
                nick: n.clone(),
                protocol: Protocol::Muc,
            },
            t(0),
        );
    }
    store.apply(
        presence(
            ROOM,
            &names.bob,
            Role::Moderator,
            Affiliation::Owner,
            "available",
            None,
            &[],
        ),
        t(1),
    );
    store.apply(
        presence(
            ROOM,
            "carol",
            Role::Participant,
            Affiliation::Member,
            "away",
            Some(&names.status),
            &[],
        ),
        t(1),
    );
    store.apply(
        presence(
            ROOM,
            "dave",
            Role::Visitor,
            Affiliation::None,
            "dnd",
            None,
            &[],
        ),
        t(1),
    );
    store.apply(
        presence(
            ROOM,
            &names.own,
            Role::Participant,
            Affiliation::Member,
            "available",
            None,
            &[110],
        ),
        t(1),
    );
    store.apply(
        presence(
            ROOM2,
            &names.own,
            Role::Participant,
            Affiliation::None,
            "available",
            None,
            &[110],
        ),
        t(1),
    );
    store.apply(
        Input::Incoming(Incoming::Subject {
            room: room(ROOM),
            nick: Some(names.bob.clone()),
            subject: names.subject.clone(),
            delayed: false,
        }),
        t(2),
    );
    store.apply(say(ROOM, &names.bob, &names.body, "s1"), t(10));
    store.apply(say(ROOM, "carol", "/me stirs the cauldron", "s2"), t(20));
    store.apply(
        say(
            ROOM,
            "carol",
            &format!("{}: double, double toil and trouble", names.own),
            "s3",
        ),
        t(30),
    );
    store.apply(
        presence(
            ROOM,
            "eve",
            Role::Participant,
            Affiliation::None,
            "available",
            None,
            &[],
        ),
        t(200),
    );
    store.apply(
        say(
            ROOM,
            &names.own,
            "fire burn and cauldron bubble — 火と大釜",
            "s4",
        ),
        t(300),
    );
}

struct Names {
    own: String,
    bob: String,
    status: String,
    subject: String,
    body: String,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            own: "alice".into(),
            bob: "bob".into(),
            status: "gathering herbs".into(),
            subject: "Midnight meeting".into(),
            body: "When shall we three meet again, in thunder, lightning, or in rain? When the hurlyburly's done.".into(),
        }
    }
}

fn ui_state() -> UiState {
    let mut ui = UiState::default();
    ui.settings.utc_offset = Some(FixedOffset::east_opt(0).unwrap());
    ui.current = Some(room(ROOM));
    ui
}

fn draw(store: &Store, ui: &UiState, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    view::render_buf(store, ui, area, &mut buf).expect("big enough");
    buf
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut skip = 0;
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            out.push_str(sym);
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
        }
        out.push('\n');
    }
    out
}

fn assert_terminal_safe(buf: &Buffer) {
    for cell in buf.content() {
        for c in cell.symbol().chars() {
            assert!(
                !c.is_control()
                    && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}'),
                "raw {c:?} reached the terminal buffer"
            );
        }
    }
}

#[test]
fn snapshot_room_with_messages_and_participants() {
    let mut store = Store::new();
    fixture(&mut store, &Names::default());
    let mut ui = ui_state();
    ui.on_events(&store, &[]);
    // Something arrived in the other room.
    let ev = store.apply(say(ROOM2, "bob", "alice, are you there?", "h1"), t(400));
    ui.on_events(&store, &ev);
    insta::assert_snapshot!("room_100x24", text(&draw(&store, &ui, 100, 24)));
}

#[test]
fn snapshot_narrow_terminal() {
    let mut store = Store::new();
    fixture(&mut store, &Names::default());
    let ui = ui_state();
    let buf = draw(&store, &ui, 80, 24);
    insta::assert_snapshot!("room_80x24", text(&buf));
    // 60 columns: the side panes give way, the messages stay readable.
    let buf = draw(&store, &ui, 50, 16);
    let screen = text(&buf);
    assert!(screen.contains("cauldron"), "{screen}");
    assert!(!screen.contains("Moderators"), "{screen}");
}

#[test]
fn snapshot_help_view() {
    let mut store = Store::new();
    fixture(&mut store, &Names::default());
    let mut ui = ui_state();
    let (mut app, _rx) = test_app();
    assert_eq!(
        handle_key(&mut app, &mut ui, key(KeyCode::F(1))),
        KeyOutcome::Continue
    );
    assert!(matches!(ui.overlay, Overlay::Help { .. }));
    let screen = text(&draw(&store, &ui, 100, 30));
    assert!(screen.contains("/join ROOM[/NICK] [PASSWORD]"), "{screen}");
    insta::assert_snapshot!("help_100x30", screen);
    // The help lists every command and every key binding.
    if let Overlay::Help { text, .. } = &ui.overlay {
        for spec in crate::command::table::COMMANDS {
            assert!(text.contains(&format!("/{}", spec.name)), "{}", spec.name);
        }
        assert!(
            text.contains("Alt-A") && text.contains("Ctrl-N") && text.contains("F1"),
            "{text}"
        );
    }
    handle_key(&mut app, &mut ui, key(KeyCode::Esc));
    assert!(matches!(ui.overlay, Overlay::None));
}

#[test]
fn snapshot_table_and_form_views() {
    let mut store = Store::new();
    fixture(&mut store, &Names::default());
    let mut ui = ui_state();
    let rows = (0..50)
        .map(|i| {
            vec![
                format!("Room {i}"),
                format!("room{i}@conference.localhost"),
                format!("{}", i * 3),
            ]
        })
        .collect();
    ui.overlay = Overlay::Table(Table::plain(
        TableView::new(
            "rooms on conference.localhost",
            vec![
                Column::new("name", Width::Min(10)),
                Column::new("JID", Width::Fill),
                Column::new("people", Width::Min(6)),
            ],
        )
        .with_rows(rows),
    ));
    insta::assert_snapshot!("table_80x20", text(&draw(&store, &ui, 80, 20)));

    let mut name = Field::new("muc#roomconfig_roomname", FieldType::TextSingle);
    name.label = Some("Room name".into());
    name.values = vec!["Coven".into()];
    let mut public = Field::new("muc#roomconfig_publicroom", FieldType::Boolean);
    public.label = Some("Public".into());
    public.values = vec!["1".into()];
    let mut secret = Field::new("muc#roomconfig_roomsecret", FieldType::TextPrivate);
    secret.label = Some("Password".into());
    let form = DataForm::new(
        DataFormType::Form,
        "http://jabber.org/protocol/muc#roomconfig",
        vec![name, public, secret],
    );
    ui.overlay = Overlay::Form(Form::plain(FormEditor::new(form)));
    insta::assert_snapshot!("form_80x20", text(&draw(&store, &ui, 80, 20)));
}

#[test]
fn hostile_strings_never_reach_the_terminal_raw() {
    let evil = "\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m\u{202e}gnp.exe\u{2066}\u{85}\r\n";
    let names = Names {
        own: format!("me{evil}"),
        bob: format!("b{evil}ob"),
        status: format!("status{evil}"),
        subject: format!("subject{evil}"),
        body: format!("body{evil}text"),
    };
    let mut store = Store::new();
    fixture(&mut store, &names);
    let mut ui = ui_state();
    ui.set_status(format!("error from network: {evil}"), true);
    let ev = store.apply(say(ROOM2, &names.bob, &names.body, "h2"), t(500));
    ui.on_events(&store, &ev);
    // A one-to-one conversation with a hostile JID resource.
    store.apply(
        Input::Incoming(Incoming::Chat(ChatMessage {
            from: Jid::new("mallory@localhost/x").unwrap(),
            to: None,
            body: format!("pm{evil}"),
            id: None,
            time: None,
            delayed: false,
            muc_user: false,
            delays: Vec::new(),
            stanza_ids: Vec::new(),
            reply: None,
            encrypted: None,
            e2e: None,
        })),
        t(600),
    );
    for (w, h) in [(100, 30), (40, 12)] {
        let buf = draw(&store, &ui, w, h);
        assert_terminal_safe(&buf);
        let screen = text(&buf);
        assert!(screen.contains("\\u{1b}"), "escapes shown:\n{screen}");
    }
    ui.switch_to(&store, room("mallory@localhost"));
    assert_terminal_safe(&draw(&store, &ui, 100, 30));
    ui.overlay = Overlay::Help {
        text: format!("help{evil}"),
        scroll: 0,
    };
    assert_terminal_safe(&draw(&store, &ui, 100, 30));
}

#[test]
fn snapshot_lookalike_and_invisible_nicks() {
    let mut store = Store::new();
    fixture(&mut store, &Names::default());
    // Two imitations of bob: a Cyrillic о, a zero-width space.
    for (k, nick) in ["b\u{43e}b", "b\u{200b}ob"].into_iter().enumerate() {
        store.apply(
            presence(
                ROOM,
                nick,
                Role::Participant,
                Affiliation::None,
                "available",
                None,
                &[],
            ),
            t(700 + k as i64),
        );
        store.apply(
            say(ROOM, nick, "I am bob, trust me", &format!("l{k}")),
            t(710 + k as i64),
        );
    }
    // Bodies: hidden characters shown, a line separator breaks the line,
    // an emoji ZWJ sequence stays whole.
    store.apply(
        say(
            ROOM,
            "bob",
            "pay\u{200b}pal\u{2028}next line 👩\u{200d}💻 \u{feff}",
            "l9",
        ),
        t(720),
    );
    let ui = ui_state();
    let buf = draw(&store, &ui, 100, 24);
    for cell in buf.content() {
        for c in cell.symbol().chars() {
            assert!(
                !matches!(
                    c,
                    '\u{200b}' | '\u{2028}' | '\u{feff}' | '\u{ad}' | '\u{2060}'
                ),
                "raw {c:?} reached the terminal buffer"
            );
        }
    }
    let screen = text(&buf);
    assert!(screen.contains("👩\u{200d}💻"), "{screen}");
    insta::assert_snapshot!("lookalikes_100x24", screen);
}

// ---- keys ----

fn test_app() -> (App, UnboundedReceiver<SessionCmd>) {
    App::for_tests("alice@localhost", 50)
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}
fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}
fn alt(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT)
}

fn typed(app: &mut App, ui: &mut UiState, s: &str) {
    for c in s.chars() {
        handle_key(app, ui, key(KeyCode::Char(c)));
    }
}

/// An app whose store has the fixture's rooms (joined through the app, so
/// that commands are accepted).
fn joined_app() -> (App, UiState, UnboundedReceiver<SessionCmd>) {
    let (mut app, mut rx) = test_app();
    let mut ui = ui_state();
    ui.current = None;
    app.on_session(SessionEvent::Online {
        jid: FullJid::new("alice@localhost/confab").unwrap(),
        reconnect: false,
    });
    for r in [ROOM, ROOM2] {
        assert!(!submit_line(&mut app, &mut ui, &format!("/join {r}")));
        let occupants = [
            ("bob", Role::Moderator),
            ("carol", Role::Participant),
            ("alice", Role::Participant),
        ];
        for (nick, role) in occupants {
            let codes: &[u16] = if nick == "alice" { &[110] } else { &[] };
            let Input::Incoming(inc) =
                presence(r, nick, role, Affiliation::None, "available", None, codes)
            else {
                unreachable!()
            };
            let out = app.on_session(SessionEvent::Incoming(inc));
            ui.on_events(&app.store, &out);
        }
    }
    while rx.try_recv().is_ok() {}
    (app, ui, rx)
}

#[test]
fn joining_from_the_input_line_shows_the_room() {
    let (app, ui, _rx) = joined_app();
    assert_eq!(
        ui.current,
        Some(room(ROOM2)),
        "the last room joined here is shown"
    );
    assert_eq!(app.store.windows().count(), 2);
}

/// Types a line and presses Enter.
fn enter(app: &mut App, ui: &mut UiState, line: &str) {
    typed(app, ui, line);
    handle_key(app, ui, key(KeyCode::Enter));
}

/// The next message the app gave the session: (room, body, subject).
fn sent(
    rx: &mut UnboundedReceiver<SessionCmd>,
) -> (Option<BareJid>, Option<String>, Option<String>) {
    match rx.try_recv().expect("a command for the session") {
        SessionCmd::Message { message, room, .. } => (
            room,
            message.bodies.values().next().cloned(),
            message.subjects.values().next().cloned(),
        ),
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn text_goes_to_the_current_room_and_commands_default_to_it() {
    let (mut app, mut ui, mut rx) = joined_app();
    enter(&mut app, &mut ui, "hello witches");
    assert_eq!(
        sent(&mut rx),
        (Some(room(ROOM2)), Some("hello witches".into()), None)
    );
    assert!(ui.editor.is_empty());
    // /topic without a room: the current one.
    enter(&mut app, &mut ui, "/topic brewing");
    assert_eq!(
        sent(&mut rx),
        (Some(room(ROOM2)), None, Some("brewing".into()))
    );
    // /me is an action in the current room.
    enter(&mut app, &mut ui, "/me waves");
    assert_eq!(sent(&mut rx).1.as_deref(), Some("/me waves"));
    // //text sends text starting with a slash.
    enter(&mut app, &mut ui, "//shrug");
    assert_eq!(sent(&mut rx).1.as_deref(), Some("/shrug"));
    // A bad command is reported in the status line, nothing is sent.
    enter(&mut app, &mut ui, "/jion x");
    assert!(
        ui.status_error && ui.status.contains("/join"),
        "{}",
        ui.status
    );
    assert!(rx.try_recv().is_err());
    // /part with no room leaves the current one.
    enter(&mut app, &mut ui, "/part");
    assert!(
        matches!(rx.try_recv().unwrap(), SessionCmd::Leave { room: r, .. } if r == room(ROOM2))
    );
}

#[test]
fn ctrl_l_asks_for_a_full_repaint() {
    let (mut app, mut ui, _rx) = joined_app();
    assert!(!ui.repaint);
    assert_eq!(
        handle_key(&mut app, &mut ui, ctrl('l')),
        KeyOutcome::Continue
    );
    // The loop then clears the terminal and ratatui's idea of it.
    assert!(ui.repaint);
}

#[test]
fn navigation_keys() {
    let (mut app, mut ui, _rx) = joined_app();
    handle_key(&mut app, &mut ui, alt('1'));
    assert_eq!(ui.current, Some(room(ROOM)));
    handle_key(&mut app, &mut ui, ctrl('n'));
    assert_eq!(ui.current, Some(room(ROOM2)));
    handle_key(&mut app, &mut ui, ctrl('n'));
    assert_eq!(ui.current, Some(room(ROOM)), "wraps around");
    handle_key(&mut app, &mut ui, ctrl('p'));
    assert_eq!(ui.current, Some(room(ROOM2)));
    handle_key(&mut app, &mut ui, alt('9'));
    assert!(ui.status.contains("no window 9"));
    assert!(!submit_line(&mut app, &mut ui, "/win 1"));
    assert_eq!(ui.current, Some(room(ROOM)));
    // A highlight in the other room: counted, and Alt-A goes there.
    let Input::Incoming(inc) = say(ROOM2, "bob", "alice: look here", "x1") else {
        unreachable!()
    };
    let out = app.on_session(SessionEvent::Incoming(inc));
    ui.on_events(&app.store, &out);
    let v = ui.view(&room(ROOM2));
    assert_eq!((v.unread, v.highlights), (1, 1));
    assert!(ui.bell, "a highlight rings the bell");
    assert!(ui.title().contains("1!"), "{}", ui.title());
    handle_key(&mut app, &mut ui, alt('a'));
    assert_eq!(ui.current, Some(room(ROOM2)));
    assert_eq!(ui.view(&room(ROOM2)).unread, 0, "read once shown");
    // Ctrl-C quits.
    assert_eq!(handle_key(&mut app, &mut ui, ctrl('c')), KeyOutcome::Quit);
    assert!(submit_line(&mut app, &mut ui, "/quit"));
}

#[test]
fn editing_history_and_completion() {
    let (mut app, mut ui, _rx) = joined_app();
    typed(&mut app, &mut ui, "bo");
    handle_key(&mut app, &mut ui, key(KeyCode::Tab));
    assert_eq!(ui.editor.text(), "bob: ");
    typed(&mut app, &mut ui, "hi there");
    handle_key(&mut app, &mut ui, ctrl('w'));
    assert_eq!(ui.editor.text(), "bob: hi ");
    handle_key(&mut app, &mut ui, ctrl('a'));
    handle_key(&mut app, &mut ui, alt('f'));
    handle_key(&mut app, &mut ui, ctrl('k'));
    assert_eq!(ui.editor.text(), "bob");
    handle_key(&mut app, &mut ui, ctrl('u'));
    assert!(ui.editor.is_empty());
    // Commands complete too, and repeated Tab cycles.
    typed(&mut app, &mut ui, "/sta");
    handle_key(&mut app, &mut ui, key(KeyCode::Tab));
    assert_eq!(ui.editor.text(), "/status ");
    handle_key(&mut app, &mut ui, ctrl('u'));
    // History per room.
    typed(&mut app, &mut ui, "first line");
    handle_key(&mut app, &mut ui, key(KeyCode::Enter));
    typed(&mut app, &mut ui, "draft");
    handle_key(&mut app, &mut ui, key(KeyCode::Up));
    assert_eq!(ui.editor.text(), "first line");
    handle_key(&mut app, &mut ui, key(KeyCode::Down));
    assert_eq!(ui.editor.text(), "draft");
    handle_key(&mut app, &mut ui, alt('1'));
    handle_key(&mut app, &mut ui, ctrl('u'));
    handle_key(&mut app, &mut ui, key(KeyCode::Up));
    assert!(ui.editor.is_empty(), "other rooms have their own history");
}

#[test]
fn layout_and_event_lines() {
    let (mut app, mut ui, _rx) = joined_app();
    submit_line(&mut app, &mut ui, "/layout rooms hide");
    assert!(!ui.panes.rooms);
    submit_line(&mut app, &mut ui, "/layout people 30");
    assert_eq!((ui.panes.people, ui.panes.people_width), (true, 30));
    handle_key(&mut app, &mut ui, key(KeyCode::F(2)));
    assert!(!ui.panes.show_events);
    submit_line(&mut app, &mut ui, "/layout events show");
    assert!(ui.panes.show_events);
    let mut store = Store::new();
    fixture(&mut store, &Names::default());
    let mut ui2 = ui_state();
    ui2.panes = ui.panes.clone();
    let screen = text(&draw(&store, &ui2, 100, 24));
    assert!(!screen.contains("Moderators") || screen.find("Moderators") > Some(0));
    assert!(screen.contains("eve joined"), "{screen}");
    ui2.panes.show_events = false;
    let screen = text(&draw(&store, &ui2, 100, 24));
    assert!(!screen.contains("eve joined"), "{screen}");
}

#[test]
fn scrolling_keys_and_unread_marker() {
    let (mut app, mut ui, _rx) = joined_app();
    for i in 0..100 {
        let Input::Incoming(inc) = say(ROOM2, "bob", &format!("line {i}"), &format!("l{i}")) else {
            unreachable!()
        };
        let out = app.on_session(SessionEvent::Incoming(inc));
        ui.on_events(&app.store, &out);
    }
    ui.page_rows = 10;
    handle_key(&mut app, &mut ui, key(KeyCode::PageUp));
    assert_eq!(ui.view(&room(ROOM2)).scroll, 8);
    handle_key(&mut app, &mut ui, key(KeyCode::PageDown));
    assert_eq!(ui.view(&room(ROOM2)).scroll, 0);
    // Lines arriving while scrolled back are unread; the marker is set.
    handle_key(&mut app, &mut ui, key(KeyCode::PageUp));
    let Input::Incoming(inc) = say(ROOM2, "bob", "new one", "n1") else {
        unreachable!()
    };
    let out = app.on_session(SessionEvent::Incoming(inc));
    ui.on_events(&app.store, &out);
    let v = ui.view(&room(ROOM2));
    assert_eq!(v.unread, 1);
    assert!(v.unread_from.is_some());
    handle_key(&mut app, &mut ui, ctrl('e'));
    handle_key(
        &mut app,
        &mut ui,
        KeyEvent::new(KeyCode::End, KeyModifiers::CONTROL),
    );
    assert_eq!(ui.view(&room(ROOM2)).scroll, 0);
}

#[test]
fn correct_in_the_tui_edits_our_last_message_in_the_current_room() {
    let (mut app, mut ui, mut rx) = joined_app();
    // The room's echo of what we sent.
    let echo = |m: Box<xmpp_parsers::message::Message>| {
        let mut m = *m;
        m.from = Some(Jid::new(&format!("{ROOM2}/alice")).unwrap());
        SessionEvent::Incoming(crate::protocol::classify_message(&m))
    };
    enter(&mut app, &mut ui, "helo");
    let Ok(SessionCmd::Message { message, .. }) = rx.try_recv() else {
        panic!("the message")
    };
    let original = message.id.clone().unwrap().0;
    let out = app.on_session(echo(message));
    ui.on_events(&app.store, &out);
    // No room given: the current one.
    enter(&mut app, &mut ui, "/correct hello");
    let (message, to) = match rx.try_recv() {
        Ok(SessionCmd::Message { message, room, .. }) => (message, room),
        other => panic!("the correction: {other:?}"),
    };
    assert_eq!(to, Some(room(ROOM2)));
    let replaces = crate::protocol::correction::replaces(&message);
    assert_eq!(replaces.as_deref(), Some(original.as_str()));
    let out = app.on_session(echo(message));
    ui.on_events(&app.store, &out);
    assert!(ui.status.starts_with("/correct"), "{}", ui.status);
    assert!(ui.status.ends_with(": ok"), "{}", ui.status);
    let log = &app.store.room(&room(ROOM2)).unwrap().messages;
    let last = log.iter().rev().find(|m| m.own).unwrap();
    assert_eq!((last.body.as_str(), last.edited), ("hello", true));
    let screen = text(&draw(&app.store, &ui, 100, 30));
    assert!(screen.contains("<alice> hello (edited)"), "{screen}");
}
