//! The mute and push-to-talk keys in a call.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::super::keys::key_released;
use super::*;

fn in_a_call() -> (App, UiState) {
    let (mut app, ui, _rx) = joined_app();
    app.store
        .calls
        .start("standup@sfu.localhost".parse().unwrap(), "s0".into(), t(0));
    (app, ui)
}

fn muted(app: &App) -> bool {
    app.store.calls.current.as_ref().unwrap().muted
}

fn release(code: KeyCode) -> KeyEvent {
    let mut k = KeyEvent::new(code, KeyModifiers::NONE);
    k.kind = KeyEventKind::Release;
    k
}

#[test]
fn f6_mutes_and_unmutes() {
    let (mut app, mut ui) = in_a_call();
    handle_key(&mut app, &mut ui, key(KeyCode::F(6)));
    assert!(muted(&app));
    handle_key(&mut app, &mut ui, key(KeyCode::F(6)));
    assert!(!muted(&app));
}

#[test]
fn push_to_talk_is_held_where_releases_are_reported() {
    let (mut app, mut ui) = in_a_call();
    ui.key_releases = true;
    handle_key(&mut app, &mut ui, key(KeyCode::F(6)));
    assert!(muted(&app));
    handle_key(&mut app, &mut ui, key(KeyCode::F(7)));
    assert!(!muted(&app), "talking while held");
    // The terminal repeats a held key: still talking.
    let mut repeat = key(KeyCode::F(7));
    repeat.kind = KeyEventKind::Repeat;
    handle_key(&mut app, &mut ui, repeat);
    assert!(!muted(&app));
    // Another key let go changes nothing; F7 let go mutes again.
    key_released(&mut app, &mut ui, release(KeyCode::F(6)));
    assert!(!muted(&app));
    key_released(&mut app, &mut ui, release(KeyCode::F(7)));
    assert!(muted(&app));
}

#[test]
fn push_to_talk_toggles_where_releases_are_not_reported() {
    let (mut app, mut ui) = in_a_call();
    handle_key(&mut app, &mut ui, key(KeyCode::F(7)));
    assert!(muted(&app));
    key_released(&mut app, &mut ui, release(KeyCode::F(7)));
    assert!(muted(&app), "a release (if any came) is not trusted");
    handle_key(&mut app, &mut ui, key(KeyCode::F(7)));
    assert!(!muted(&app));
}

#[test]
fn without_a_call_the_keys_say_so() {
    let (mut app, mut ui, _rx) = joined_app();
    handle_key(&mut app, &mut ui, key(KeyCode::F(6)));
    assert!(app.store.calls.current.is_none());
    assert!(
        ui.status.contains("no call") && ui.status_error,
        "{}",
        ui.status
    );
}
