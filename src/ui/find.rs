//! `/find` in the TUI: the results as a table (newest first); Enter shows
//! the message in its window, with the archive loaded back to it and the
//! pane scrolled so that it sits in the middle.

use chrono::{DateTime, Utc};
use jid::BareJid;

use super::state::UiState;
use super::views::{FoundAt, Item, Overlay, Table, TableKind, ViewAction};
use super::widgets::{Column, TableView, Width};
use crate::app::App;
use crate::command::Command;
use crate::store::{Event, FoundLine, Message, SCROLLBACK_LINES};

/// Lines loaded from the archive per step while looking for the message.
const STEP: usize = 500;

pub fn on_event(ui: &mut UiState, e: &Event) {
    match e {
        Event::Found { words, results, .. } if results.is_empty() => {
            ui.set_status(format!("nothing found for {words}"), false)
        }
        Event::Found { words, results, .. } => {
            ui.overlay = Overlay::Table(table(words, results, ui))
        }
        Event::Exported {
            of, path, messages, ..
        } => ui.set_status(format!("{messages} lines of {of} written to {path}"), false),
        Event::Ignored { entries } if entries.is_empty() => {
            ui.set_status("you ignore nobody", false)
        }
        Event::Ignored { entries } => {
            ui.set_status(format!("ignored: {}", entries.join(", ")), false)
        }
        _ => {}
    }
}

fn table(words: &str, results: &[FoundLine], ui: &UiState) -> Table {
    let offset = ui
        .settings
        .utc_offset
        .unwrap_or_else(|| *chrono::Local::now().offset());
    let view = TableView::new(
        format!("Found: {words}"),
        vec![
            Column::new("When", Width::Min(16)),
            Column::new("Where", Width::Min(16)),
            Column::new("Who", Width::Min(10)),
            Column::new("Message", Width::Fill),
        ],
    )
    .with_items(results.iter().map(|r| {
        let time = DateTime::parse_from_rfc3339(&r.time)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let cells = vec![
            time.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            r.conversation.clone(),
            r.nick.clone().unwrap_or_default(),
            r.body.lines().next().unwrap_or("").to_string(),
        ];
        let item = match BareJid::new(&r.conversation) {
            Ok(window) => Item::Found(FoundAt {
                window,
                stanza_id: r.stanza_id.clone(),
                time,
                body: r.body.clone(),
            }),
            Err(_) => Item::None,
        };
        (item, cells)
    }));
    Table::new(TableKind::Found, view)
}

pub fn activate(t: &Table, index: usize) -> Option<ViewAction> {
    match t.item(index)? {
        Item::Found(at) => Some(ViewAction::Show(at.clone())),
        _ => None,
    }
}

fn is(at: &FoundAt, m: &Message) -> bool {
    match &at.stanza_id {
        Some(sid) => m.stanza_id.as_deref() == Some(sid),
        None => m.time == at.time && m.body == at.body,
    }
}

/// Shows the message in its window: a conversation is opened, a room
/// must be one we are in; older lines are loaded until it is held.
pub fn show(app: &mut App, ui: &mut UiState, at: FoundAt) {
    let window = at.window.clone();
    if app.store.window(&window).is_none() {
        if app.store.room(&window).is_some() || app.store.rooms().any(|r| r.jid == window) {
            ui.set_status(format!("join {window} to see it"), true);
            return;
        }
        let shown = format!("/msg {window}");
        let exec = app.execute(
            Command::OpenChat {
                jid: window.clone().into(),
            },
            &shown,
        );
        ui.on_events(&app.store, &exec.events);
    }
    let Some(log) = app.store.window(&window).map(|w| w.messages()) else {
        ui.set_status(
            format!("{window} is a room: join it to see its messages"),
            true,
        );
        return;
    };
    let mut held = log.iter().find(|m| is(&at, m)).map(|m| m.seq);
    let mut loaded = 0;
    while held.is_none() && loaded < SCROLLBACK_LINES {
        let events = app.load_older(&window, STEP);
        ui.on_events(&app.store, &events);
        loaded += STEP;
        let Some(log) = app.store.window(&window).map(|w| w.messages()) else {
            break;
        };
        held = log.iter().find(|m| is(&at, m)).map(|m| m.seq);
        if held.is_none() && !log.can_load_older() {
            break;
        }
    }
    ui.switch_to(&app.store, window.clone());
    match held {
        Some(seq) => ui.view_mut(&window).jump_to = Some(seq),
        None => ui.set_status("the message is too far back to show", true),
    }
}
