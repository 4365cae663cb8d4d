//! Keys and the mouse: what a key does (prompts and overlays first, then
//! the key map, then text for the input line), scrolling, and what Enter
//! on a table's row does.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::keymap::Action;
use super::state::UiState;
use super::views::{Overlay, Table, TableKind, ViewAction};

use super::complete::CompletionContext;
use super::{
    KeyOutcome, PaneRects, conference, contacts, find, invite, moderation, open_help, rooms,
    run_command, select, submit_line, widgets,
};
use crate::app::App;
use crate::command::Command;
pub(super) fn handle_mouse(
    app: &App,
    ui: &mut UiState,
    m: MouseEvent,
    panes: &PaneRects,
    max_scroll: usize,
) {
    let at = Position::new(m.column, m.row);
    match m.kind {
        MouseEventKind::ScrollUp if panes.messages.contains(at) => scroll(ui, 3, max_scroll),
        MouseEventKind::ScrollDown if panes.messages.contains(at) => scroll(ui, -3, max_scroll),
        MouseEventKind::Down(crossterm::event::MouseButton::Left)
            if panes.messages.contains(at) =>
        {
            ui.click = Some(m.row);
        }
        MouseEventKind::ScrollUp if panes.people.contains(at) => scroll_people(app, ui, -3),
        MouseEventKind::ScrollDown if panes.people.contains(at) => scroll_people(app, ui, 3),
        MouseEventKind::Down(_) if panes.rooms.contains(at) => {
            let row = (m.row - panes.rooms.y) as usize;
            let skip = ui
                .current_index(&app.store)
                .unwrap_or(0)
                .saturating_sub((panes.rooms.height as usize).saturating_sub(1));
            ui.go_to(&app.store, skip + row + 1);
        }
        _ => {}
    }
}

/// Moves the participant list `rows` down (up when negative), within the
/// room's occupants.
fn scroll_people(app: &App, ui: &mut UiState, rows: isize) {
    let Some(cur) = ui.current.clone() else {
        return;
    };
    let len = app
        .store
        .window(&cur)
        .and_then(|w| w.room().map(|r| r.occupants.len()))
        .unwrap_or(0);
    let v = ui.view_mut(&cur);
    v.people_scroll = (v.people_scroll as isize + rows).clamp(0, len as isize) as usize;
}

fn scroll(ui: &mut UiState, rows: isize, max_scroll: usize) {
    if let Overlay::XmlConsole { scroll } = &mut ui.overlay {
        // By elements; never past the oldest.
        let most = ui.xml.len().saturating_sub(1) as isize;
        *scroll = (*scroll as isize + rows).clamp(0, most) as usize;
        return;
    }
    let Some(cur) = ui.current.clone() else {
        return;
    };
    if let Overlay::Help { scroll, .. } = &mut ui.overlay {
        *scroll = (*scroll as isize + rows).max(0) as u16;
        return;
    }
    let v = ui.view_mut(&cur);
    // Scrolling back after /clear shows the lines again.
    if rows > 0 && v.cleared.take().is_some() {
        return;
    }
    let next = (v.scroll as isize + rows).max(0) as usize;
    // Scrolling up past what was drawn is allowed by one page: the archive
    // may fill it.
    v.scroll = if rows > 0 {
        next.min(max_scroll + rows as usize)
    } else {
        next
    };
    if v.scroll == 0 {
        v.unread = 0;
        v.highlights = 0;
    }
}

/// A page: the message pane's height less two rows of context.
fn page(ui: &UiState) -> isize {
    (ui.page_rows as isize - 2).max(1)
}

/// Handles one key: overlays and prompts first, then the key map, then
/// text for the input line.
pub fn handle_key(app: &mut App, ui: &mut UiState, k: KeyEvent) -> KeyOutcome {
    // A prompt (e.g. an invitation) takes its keys first.
    match ui.prompts.handle_key(k) {
        widgets::PromptOutcome::Ignored => {}
        widgets::PromptOutcome::Chosen(answer) => {
            if let Some(action) = answer.action() {
                do_view_action(app, ui, action);
            }
            return KeyOutcome::Continue;
        }
        widgets::PromptOutcome::Dismissed => return KeyOutcome::Continue,
    }
    // The form asking for a room's secret.
    if conference::secret_form_key(app, ui, k) {
        return KeyOutcome::Continue;
    }
    match &mut ui.overlay {
        Overlay::Table(t) => {
            match t.handle_key(k) {
                widgets::TableOutcome::Close => ui.overlay = Overlay::None,
                widgets::TableOutcome::Activate(row) => {
                    if let Some(action) = row_action(t, row) {
                        if !matches!(action, ViewAction::Refuse(_)) {
                            ui.overlay = Overlay::None;
                        }
                        do_view_action(app, ui, action);
                    }
                }
                widgets::TableOutcome::Ignored => {
                    // A table's own keys beyond Enter (Alt-J in Contacts).
                    if let Some(action) = contacts::other_key(t, k) {
                        if !matches!(action, ViewAction::Refuse(_)) {
                            ui.overlay = Overlay::None;
                        }
                        do_view_action(app, ui, action);
                    }
                }
                widgets::TableOutcome::Handled => {}
            }
            return KeyOutcome::Continue;
        }
        Overlay::Form(f) => {
            match f.handle_key(k) {
                widgets::FormOutcome::Cancel => {
                    let Overlay::Form(f) = std::mem::replace(&mut ui.overlay, Overlay::None) else {
                        unreachable!("a form is open")
                    };
                    rooms::form_cancelled(app, ui, f.kind);
                }
                widgets::FormOutcome::Submit(form) => {
                    let Overlay::Form(f) = std::mem::replace(&mut ui.overlay, Overlay::None) else {
                        unreachable!("a form is open")
                    };
                    rooms::form_submitted(app, ui, f.kind, form);
                }
                _ => {}
            }
            return KeyOutcome::Continue;
        }
        _ => {}
    }
    if select::key(ui, &app.store, &k) {
        return KeyOutcome::Continue;
    }
    let action = ui.keymap.action(&k);
    if action != Some(Action::Complete) {
        ui.completer.reset();
    }
    let room_key = ui
        .current
        .as_ref()
        .map(|j| j.to_string())
        .unwrap_or_default();
    match action {
        Some(Action::Quit) => return KeyOutcome::Quit,
        Some(Action::Submit) => {
            let line = ui.editor.take();
            ui.history.push(&room_key, &line);
            ui.history.reset(&room_key);
            if submit_line(app, ui, &line) {
                return KeyOutcome::Quit;
            }
        }
        Some(Action::NextRoom) => ui.cycle(&app.store, 1),
        Some(Action::PrevRoom) => ui.cycle(&app.store, -1),
        Some(Action::Window(n)) => {
            if !ui.go_to(&app.store, n) {
                ui.set_status(format!("no window {n}"), true);
            }
        }
        Some(Action::NextHighlight) => {
            if !ui.next_active(&app.store) {
                ui.set_status("nothing new", false);
            }
        }
        Some(Action::ScrollUp) => scroll(ui, page(ui), usize::MAX / 2),
        Some(Action::ScrollDown) => scroll(ui, -page(ui), usize::MAX / 2),
        Some(Action::ScrollTop) => scroll(ui, isize::MAX / 4, usize::MAX / 2),
        Some(Action::ScrollBottom) => scroll(ui, isize::MIN / 4, 0),
        Some(Action::Help) => open_help(ui, None),
        Some(Action::Contacts) => contacts::open(ui, &app.store),
        Some(Action::Close) if matches!(ui.overlay, Overlay::XmlConsole { .. }) => {
            // The session stops copying.
            let off = Command::XmlConsole {
                on: Some(false),
                filter: None,
            };
            run_command(app, ui, off, "/xmlconsole off");
        }
        Some(Action::Close) => {
            if !matches!(ui.overlay, Overlay::None) {
                ui.overlay = Overlay::None;
            } else if app.transferring() {
                run_command(app, ui, Command::Cancel, "/cancel");
            } else {
                ui.set_status("", false);
            }
        }
        Some(Action::Complete) => {
            let rooms: Vec<String> = app.store.rooms().map(|r| r.jid.to_string()).collect();
            let room = ui.current.as_ref().and_then(|j| app.store.room(j));
            let ctx_nicks: Vec<String> = room
                .map(|r| r.occupants.iter_sorted().map(|o| o.nick.clone()).collect())
                .unwrap_or_default();
            // Open conversations first, then the rest of the roster.
            let mut contacts: Vec<String> = app
                .store
                .windows()
                .filter(|w| w.room().is_none())
                .map(|w| w.jid().to_string())
                .collect();
            let mut roster: Vec<String> = app
                .store
                .contacts
                .items()
                .into_iter()
                .map(|c| c.jid)
                .filter(|j| !contacts.contains(j))
                .collect();
            roster.sort();
            contacts.extend(roster);
            let ctx = CompletionContext {
                nicks: ctx_nicks.iter().map(String::as_str).collect(),
                rooms: rooms.iter().map(String::as_str).collect(),
                contacts: contacts.iter().map(String::as_str).collect(),
                own_nick: room.map(|r| r.own_nick.as_str()),
            };
            ui.completer.complete(&mut ui.editor, &ctx);
        }
        Some(Action::HistoryUp) => {
            let draft = ui.editor.text().to_string();
            if let Some(l) = ui.history.up(&room_key, &draft) {
                ui.editor.set(l);
            }
        }
        Some(Action::HistoryDown) => {
            if let Some(l) = ui.history.down(&room_key) {
                ui.editor.set(l);
            }
        }
        Some(Action::Left) => ui.editor.left(),
        Some(Action::Right) => ui.editor.right(),
        Some(Action::WordLeft) => ui.editor.word_left(),
        Some(Action::WordRight) => ui.editor.word_right(),
        Some(Action::Home) => ui.editor.home(),
        Some(Action::End) => ui.editor.end(),
        Some(Action::Backspace) => ui.editor.backspace(),
        Some(Action::Delete) => ui.editor.delete(),
        Some(Action::DeleteWord) => ui.editor.delete_word_before(),
        Some(Action::KillToStart) => ui.editor.kill_to_start(),
        Some(Action::KillToEnd) => ui.editor.kill_to_end(),
        Some(Action::ToggleEvents) => ui.panes.show_events = !ui.panes.show_events,
        Some(Action::SelectUp) => select::step(ui, &app.store, true),
        Some(Action::SelectDown) => select::step(ui, &app.store, false),
        Some(Action::ToggleRooms) => ui.panes.rooms = !ui.panes.rooms,
        Some(Action::TogglePeople) => ui.panes.people = !ui.panes.people,
        Some(Action::Redraw) => ui.repaint = true,
        Some(Action::ToggleMute) => set_muted(app, ui, None),
        // Held where releases are reported (let go: muted again).
        Some(Action::PushToTalk) if ui.key_releases => set_muted(app, ui, Some(false)),
        Some(Action::PushToTalk) => set_muted(app, ui, None),
        None => {
            if let KeyCode::Char(c) = k.code
                && !k
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
            {
                ui.editor.insert_char(c);
                ui.history.reset(&room_key);
            }
        }
    }
    KeyOutcome::Continue
}

/// A key let go (terminals that report releases): the end of a
/// push-to-talk.
pub fn key_released(app: &mut App, ui: &mut UiState, k: KeyEvent) {
    if ui.key_releases && ui.keymap.action(&k) == Some(Action::PushToTalk) {
        set_muted(app, ui, Some(true));
    }
}

/// Mutes (`Some(true)`), unmutes or toggles (`None`) the microphone of
/// the call, through `/mute` and `/unmute`.
fn set_muted(app: &mut App, ui: &mut UiState, want: Option<bool>) {
    let Some(call) = &app.store.calls.current else {
        ui.set_status("no call", true);
        return;
    };
    let muted = want.unwrap_or(!call.muted);
    if muted != call.muted {
        let (cmd, text) = if muted {
            (Command::Mute, "/mute")
        } else {
            (Command::Unmute, "/unmute")
        };
        run_command(app, ui, cmd, text);
    }
}

/// What Enter on row `index` of a table does, by what the table lists.
fn row_action(t: &Table, index: usize) -> Option<ViewAction> {
    match t.kind {
        TableKind::RoomList { .. } | TableKind::RoomSearch => rooms::activate(t, index),
        TableKind::Invitations | TableKind::Bookmarks => invite::activate(t, index),
        TableKind::Contacts => contacts::activate(t, index),
        TableKind::AdminList { .. } => moderation::activate(t, index),
        TableKind::Found => find::activate(t, index),
        TableKind::Plain => None,
    }
}

/// Does what a table row or a prompt's key stands for (never a `/quit`).
fn do_view_action(app: &mut App, ui: &mut UiState, action: ViewAction) {
    match action {
        ViewAction::Run { command, shown } => {
            run_command(app, ui, command, &shown);
        }
        ViewAction::Prefill(line) => ui.editor.set(line),
        ViewAction::Refuse(why) => ui.set_status(why, true),
        ViewAction::Show(at) => find::show(app, ui, at),
    }
}
