//! Selecting a message with the keyboard to act on it: Alt-Up / Alt-Down
//! move the selection over the messages of the current window (the first
//! Alt-Up takes the newest); with the input line empty, `r` starts a
//! `/reply`, `+` a `/react`, `d` a `/retract` of ours (a `/moderate` of
//! someone else's in a room), each naming the message by its reference;
//! Esc leaves the selection. A left click on a message selects it too.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::UiState;
use crate::store::{Kind, Message, Store};

/// Moves the selection `older` (Alt-Up) or newer (Alt-Down); past the
/// newest it ends.
pub fn step(ui: &mut UiState, store: &Store, older: bool) {
    let Some(jid) = ui.current.clone() else {
        return;
    };
    let Some(w) = store.window(&jid) else {
        return;
    };
    let log = w.messages();
    let usable = |m: &&Message| m.kind == Kind::Chat && m.meta.removed.is_none();
    let cur = ui.view(&jid).selected;
    let next = match (cur, older) {
        (None, true) => log.iter().rev().find(usable).map(|m| m.seq),
        (None, false) => None,
        (Some(s), true) => log
            .iter()
            .rev()
            .filter(usable)
            .find(|m| m.seq < s)
            .map(|m| m.seq)
            .or(Some(s)),
        (Some(s), false) => log.iter().filter(usable).find(|m| m.seq > s).map(|m| m.seq),
    };
    ui.view_mut(&jid).selected = next;
    if next.is_some() {
        ui.set_status(HINT, false);
    }
}

/// After a draw: a click in the message pane selects the message there
/// (none there: the selection ends). True when the pane needs drawing
/// again.
pub fn clicked(ui: &mut UiState, seq: Option<i64>) -> bool {
    if ui.click.take().is_none() {
        return false;
    }
    let Some(jid) = ui.current.clone() else {
        return false;
    };
    ui.view_mut(&jid).selected = seq;
    if seq.is_some() {
        ui.set_status(HINT, false);
    }
    true
}

const HINT: &str = "selected: r reply, + react, d retract/moderate, Esc leave";

/// A key while a message is selected and the input line is empty: true
/// when it acted (the command is put on the input line to finish).
pub fn key(ui: &mut UiState, store: &Store, k: &KeyEvent) -> bool {
    let Some(jid) = ui.current.clone() else {
        return false;
    };
    let Some(seq) = ui.view(&jid).selected else {
        return false;
    };
    if k.code == KeyCode::Esc {
        ui.view_mut(&jid).selected = None;
        ui.set_status("", false);
        return true;
    }
    if !ui.editor.is_empty()
        || k.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT) != KeyModifiers::NONE
    {
        return false;
    }
    let KeyCode::Char(c) = k.code else {
        return false;
    };
    if !matches!(c, 'r' | '+' | 'd') {
        return false;
    }
    let Some(w) = store.window(&jid) else {
        return false;
    };
    let room = w.room();
    let Some(m) = w.messages().iter().rev().find(|m| m.seq == seq) else {
        ui.view_mut(&jid).selected = None;
        return false;
    };
    let reference = if room.is_some() {
        m.stanza_id.clone()
    } else {
        m.id.clone()
    };
    let Some(reference) = reference else {
        ui.set_status("this message has no id to act on", true);
        return true;
    };
    let line = match c {
        'r' => format!("/reply {jid} {reference} "),
        '+' => format!("/react {jid} {reference} "),
        _ if m.own => format!("/retract {jid} {reference}"),
        _ if room.is_some() => format!("/moderate {jid} {reference} "),
        _ => {
            ui.set_status("only your own messages can be retracted", true);
            return true;
        }
    };
    ui.editor.set(line);
    ui.view_mut(&jid).selected = None;
    ui.set_status("", false);
    true
}
