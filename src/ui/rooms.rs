//! The room directory and room forms in the TUI: `/rooms` and `/search`
//! fill a table (page by page; Enter joins the selected room), `/info`
//! shows the room's information, and the `muc#roomconfig` form of
//! `/create` and `/config` opens in the form editor (Ctrl-S submits, Esc
//! cancels: a room being created is then destroyed).

use jid::BareJid;
use xmpp_parsers::data_forms::DataForm;

use super::state::UiState;
use super::views::{Answer, Form, FormKind, Item, Overlay, Table, TableKind, ViewAction};
use super::widgets::{Column, FormEditor, Prompt, TableView, Width};
use crate::app::App;
use crate::protocol::rooms::{RoomItem, describe_room_info};
use crate::store::Event;
use crossterm::event::KeyCode;

/// A row of a room table: the room (as a JID to join) and its cells.
fn row(r: &RoomItem, description: bool) -> (Item, Vec<String>) {
    let mut row = vec![
        r.name.clone().unwrap_or_default(),
        r.jid.clone(),
        r.occupants.map(|n| n.to_string()).unwrap_or_default(),
    ];
    if description {
        row.push(r.description.clone().unwrap_or_default());
    }
    let room = BareJid::new(&r.jid).ok().filter(|j| j.node().is_some());
    (
        Item::Room {
            jid: r.jid.clone(),
            room,
        },
        row,
    )
}

fn columns(description: bool) -> Vec<Column> {
    let mut c = vec![
        Column::new("Name", Width::Fill),
        Column::new("JID", Width::Fill),
        Column::new("People", Width::Min(6)),
    ];
    if description {
        c.push(Column::new("Description", Width::Fill));
    }
    c
}

/// Reacts to the room directory's events.
pub fn on_event(ui: &mut UiState, e: &Event) {
    match e {
        Event::RoomList {
            service,
            page,
            rooms,
            ..
        } => {
            let title = format!("Rooms on {service}");
            let kind = TableKind::RoomList {
                service: service.clone(),
            };
            match &mut ui.overlay {
                // The first page opens the table, the next ones fill it.
                _ if *page == 0 => {
                    let t = TableView::new(title, columns(false))
                        .with_items(rooms.iter().map(|r| row(r, false)));
                    ui.overlay = Overlay::Table(Table::new(kind, t));
                }
                Overlay::Table(t) if t.kind == kind => {
                    t.push_items(rooms.iter().map(|r| row(r, false)))
                }
                // Closed while it was filling: it stays closed.
                _ => {}
            }
        }
        Event::RoomSearch {
            service,
            via,
            query,
            rooms,
            not_described,
            ..
        } => {
            let mut title = if *via == "xep-0433" {
                format!("Rooms matching “{query}” (search service {service})")
            } else {
                format!("Rooms on {service} matching “{query}”")
            };
            if *not_described > 0 {
                title.push_str(&format!(
                    " (descriptions of {not_described} rooms not searched)"
                ));
            }
            let t =
                TableView::new(title, columns(true)).with_items(rooms.iter().map(|r| row(r, true)));
            ui.overlay = Overlay::Table(Table::new(TableKind::RoomSearch, t));
        }
        Event::RoomInfo { room, info } => {
            ui.overlay = Overlay::Help {
                text: describe_room_info(room, info),
                scroll: 0,
            };
        }
        Event::RoomForm {
            room,
            purpose,
            form,
        } => {
            if let Ok(jid) = BareJid::new(room) {
                let kind = FormKind::RoomConfig {
                    room: jid,
                    creating: *purpose == "create",
                };
                ui.overlay = Overlay::Form(Form::new(kind, FormEditor::new(form.to_data_form())));
            }
        }
        _ => {}
    }
}

/// We are out of a destroyed room: why, in the status line, and a prompt
/// that stays until answered: Enter joins the room to go to instead (if
/// the room named one).
pub fn destroyed(ui: &mut UiState, room: &str, reason: Option<&str>, venue: Option<&str>) {
    let mut text = format!("{room} was destroyed");
    if let Some(r) = reason {
        text.push_str(&format!(" ({r})"));
    }
    ui.set_status(text.clone(), true);
    let prompt = match venue {
        Some(v) => Prompt::new(text)
            .option(
                KeyCode::Enter,
                format!("go to {v}"),
                Answer::GoTo(v.to_string()),
            )
            .option(KeyCode::Esc, "stay", Answer::Nothing),
        None => Prompt::notice(text),
    };
    ui.prompts.push(prompt);
}

/// Enter in a room list or search results: join the selected room.
pub fn activate(t: &Table, index: usize) -> Option<ViewAction> {
    if !matches!(t.kind, TableKind::RoomList { .. } | TableKind::RoomSearch) {
        return None;
    }
    match t.item(index)? {
        Item::Room {
            room: Some(room), ..
        } => Some(ViewAction::join(room.clone(), None)),
        Item::Room { jid, room: None } => Some(ViewAction::Refuse(format!(
            "{jid} is not a room you could join"
        ))),
        _ => None,
    }
}

/// Ctrl-S in a room's configuration form: submit it.
pub fn form_submitted(app: &mut App, ui: &mut UiState, kind: FormKind, form: DataForm) {
    if let FormKind::RoomConfig { room, .. } = kind {
        let text = format!("/config {room}");
        let exec = app.submit_room_form(room, form, &text);
        ui.on_events(&app.store, &exec.events);
    }
}

/// Esc in a room's configuration form: cancel (a room being created is
/// destroyed).
pub fn form_cancelled(app: &mut App, ui: &mut UiState, kind: FormKind) {
    if let FormKind::RoomConfig { room, creating } = kind {
        let text = if creating {
            format!("/destroy {room}")
        } else {
            format!("/config {room}")
        };
        let exec = app.cancel_room_form(room, creating, &text);
        ui.on_events(&app.store, &exec.events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::protocol::rooms::{Form, FormField, RoomInfo};
    use crate::session::SessionCmd;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn app() -> (App, tokio::sync::mpsc::UnboundedReceiver<SessionCmd>) {
        App::for_tests("alice@localhost", 0)
    }

    fn item(i: usize) -> RoomItem {
        RoomItem {
            jid: format!("r{i}@conference.localhost"),
            name: Some(format!("Room {i}")),
            occupants: None,
            description: None,
        }
    }

    fn page(range: std::ops::Range<usize>, page: usize, complete: bool) -> Event {
        Event::RoomList {
            service: "conference.localhost".into(),
            page,
            rooms: range.map(item).collect(),
            complete,
        }
    }

    #[test]
    fn room_list_fills_page_by_page_and_enter_joins() {
        let (mut app, mut rx) = app();
        let mut ui = UiState::default();
        ui.on_events(&app.store, &[page(0..100, 0, false)]);
        ui.on_events(&app.store, &[page(100..150, 1, true)]);
        let Overlay::Table(t) = &ui.overlay else {
            panic!("a table")
        };
        assert_eq!(t.len(), 150);
        assert_eq!(t.rows()[120][1], "r120@conference.localhost");
        // A new /rooms starts a new table.
        ui.on_events(&app.store, &[page(0..3, 0, false)]);
        let Overlay::Table(t) = &ui.overlay else {
            panic!("a table")
        };
        assert_eq!(t.len(), 3);
        let down = KeyEvent::new(KeyCode::Down, KeyModifiers::NONE);
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        super::super::handle_key(&mut app, &mut ui, down);
        super::super::handle_key(&mut app, &mut ui, enter);
        assert!(matches!(ui.overlay, Overlay::None));
        let Ok(SessionCmd::Join { room, .. }) = rx.try_recv() else {
            panic!("a join")
        };
        assert_eq!(room.as_str(), "r1@conference.localhost");
        // Closed while filling: the next pages do not reopen it.
        ui.on_events(&app.store, &[page(0..3, 0, false)]);
        super::super::handle_key(&mut app, &mut ui, esc);
        ui.on_events(&app.store, &[page(3..6, 1, true)]);
        assert!(matches!(ui.overlay, Overlay::None));
        // Another engineer's table is not ours to fill or to act on.
        ui.overlay = Overlay::Table(Table::plain(TableView::new("Members", columns(false))));
        ui.on_events(&app.store, &[page(3..6, 1, true)]);
        let Overlay::Table(t) = &ui.overlay else {
            panic!("a table")
        };
        assert_eq!(t.len(), 0);
        super::super::handle_key(&mut app, &mut ui, enter);
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_destroyed_room_offers_its_venue() {
        let (mut app, mut rx) = app();
        let mut ui = UiState::default();
        let left = |venue: Option<&str>| Event::Left {
            room: jid::BareJid::new("old@c").unwrap(),
            kind: crate::store::LeftKind::Destroyed,
            reason: Some("we moved".into()),
            actor: None,
            venue: venue.map(str::to_string),
        };
        ui.on_events(&app.store, &[left(None), left(Some("new@c"))]);
        assert_eq!(ui.prompts.len(), 2);
        assert!(ui.status.contains("old@c was destroyed (we moved)"));
        // The notice first (any key), then the question.
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        super::super::handle_key(&mut app, &mut ui, enter);
        assert!(rx.try_recv().is_err());
        let question = ui.prompts.current().unwrap();
        assert!(question.text().contains("was destroyed (we moved)"));
        assert_eq!(question.options()[0].label, "go to new@c");
        super::super::handle_key(&mut app, &mut ui, enter);
        let Ok(SessionCmd::Join { room, .. }) = rx.try_recv() else {
            panic!("a join")
        };
        assert_eq!(room.as_str(), "new@c");
    }

    #[test]
    fn info_and_forms() {
        let (mut app, mut rx) = app();
        let mut ui = UiState::default();
        ui.on_events(
            &app.store,
            &[Event::RoomInfo {
                room: "r@c".into(),
                info: RoomInfo {
                    name: Some("Lounge".into()),
                    features: vec!["public".into()],
                    ..RoomInfo::default()
                },
            }],
        );
        let Overlay::Help { text, .. } = &ui.overlay else {
            panic!("text")
        };
        assert!(text.contains("Lounge") && text.contains("public"), "{text}");

        let form = Form {
            fields: vec![FormField {
                var: Some("muc#roomconfig_roomname".into()),
                type_: "text-single".into(),
                label: Some("Name".into()),
                ..FormField::default()
            }],
            ..Form::default()
        };
        ui.on_events(
            &app.store,
            &[Event::RoomForm {
                room: "new@c".into(),
                purpose: "create",
                form: form.clone(),
            }],
        );
        assert!(matches!(ui.overlay, Overlay::Form(_)));
        for c in "Den".chars() {
            super::super::handle_key(
                &mut app,
                &mut ui,
                KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            );
        }
        super::super::handle_key(
            &mut app,
            &mut ui,
            KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL),
        );
        assert!(matches!(ui.overlay, Overlay::None));
        let Ok(SessionCmd::Iq {
            to, payload, set, ..
        }) = rx.try_recv()
        else {
            panic!("the submission")
        };
        assert!(set);
        assert_eq!(to.unwrap().to_string(), "new@c");
        let x = payload.get_child("x", "jabber:x:data").unwrap();
        assert_eq!(x.attr("type"), Some("submit"));
        assert!(String::from(&payload).contains("Den"));

        // Esc on a room being created: cancel (then destroy).
        ui.on_events(
            &app.store,
            &[Event::RoomForm {
                room: "new2@c".into(),
                purpose: "create",
                form,
            }],
        );
        super::super::handle_key(
            &mut app,
            &mut ui,
            KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        );
        let Ok(SessionCmd::Iq { payload, .. }) = rx.try_recv() else {
            panic!("the cancel")
        };
        let x = payload.get_child("x", "jabber:x:data").unwrap();
        assert_eq!(x.attr("type"), Some("cancel"));
    }
}
