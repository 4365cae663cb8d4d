//! `/omemo on` and `/omemo off` without a JID apply to the current window:
//! a one-to-one conversation (the switch remembered in the key store) or
//! a room (`on` asks the room's features first); with no window open, a
//! word on the status line and nothing done.

use super::*;
use confab_core::omemo_store::OmemoStore;

const BOB: &str = "bob@localhost";

/// The joined app with a key store (in `dir`) and our device made.
fn omemo_app(dir: &std::path::Path) -> (App, UiState, UnboundedReceiver<SessionCmd>) {
    let (mut app, ui, mut rx) = joined_app();
    app.set_omemo_store(
        OmemoStore::open(&dir.join("omemo.sqlite3"), "alice@localhost").map_err(|e| e.to_string()),
    );
    // Logged in: our device is made, its publication asked.
    app.account_online();
    assert!(app.omemo_device().is_some());
    while rx.try_recv().is_ok() {}
    (app, ui, rx)
}

#[test]
fn omemo_on_and_off_apply_to_the_current_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, mut ui, _rx) = omemo_app(dir.path());
    let bob = room(BOB);
    assert!(!submit_line(&mut app, &mut ui, &format!("/msg {BOB}")));
    ui.switch_to(&app.store, bob.clone());
    assert!(!app.omemo_enabled(&bob));
    assert!(!submit_line(&mut app, &mut ui, "/omemo on"));
    assert!(app.omemo_enabled(&bob), "{}", ui.status);
    // Only the current window's switch moved.
    assert!(!app.omemo_enabled(&room(ROOM)));
    assert!(!submit_line(&mut app, &mut ui, "/omemo off"));
    assert!(!app.omemo_enabled(&bob));
}

#[test]
fn omemo_on_and_off_apply_to_the_current_room() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, mut ui, mut rx) = omemo_app(dir.path());
    ui.switch_to(&app.store, room(ROOM));
    assert!(!submit_line(&mut app, &mut ui, "/omemo on"));
    // A room: its features are asked before OMEMO goes on.
    let mut asked = false;
    while let Ok(cmd) = rx.try_recv() {
        if let SessionCmd::Iq { to: Some(to), .. } = cmd {
            asked |= to.to_bare() == room(ROOM);
        }
    }
    assert!(asked, "no disco#info to {ROOM}");
    // Off needs no answer.
    assert!(!submit_line(&mut app, &mut ui, "/omemo off"));
    assert!(!app.omemo_enabled(&room(ROOM)));
    assert!(!app.omemo_enabled(&room(ROOM2)));
}

#[test]
fn omemo_on_without_a_window_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, mut ui, mut rx) = omemo_app(dir.path());
    ui.current = None;
    assert!(!submit_line(&mut app, &mut ui, "/omemo on"));
    assert!(ui.status.contains("no window open"), "{}", ui.status);
    assert!(ui.status_error);
    assert!(rx.try_recv().is_err(), "nothing sent");
    // Batch (no window): the app refuses it.
    let exec = app.execute(crate::command::parse("/omemo on").unwrap(), "/omemo on");
    assert!(
        matches!(&exec.events[..], [crate::store::Event::Error { .. }]),
        "{:?}",
        exec.events
    );
}
