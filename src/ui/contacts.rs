//! Contacts in the TUI: the Contacts view (F5, or `/roster` / `/contacts`)
//! lists each contact with presence, subscription and the room they are in
//! (XEP-0194); Enter opens the conversation with them, Alt-J joins their
//! room. A subscription request waits in the prompt queue (Enter approves,
//! Esc denies); `/where` answers in the status line.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jid::BareJid;

use super::sanitize;
use super::state::UiState;
use super::views::{Answer, Item, Overlay, Table, TableKind, ViewAction};
use super::widgets::{Column, Prompt, TableView, Width};
use crate::protocol::chatting::ChattingRoom;
use crate::store::{ContactItem, Event, PublishState, Store};

pub const CONTACTS: &str = "Contacts (Enter: conversation; Alt-J: join the room they are in)";

/// The room JID of an `xmpp:` URI (`xmpp:room@service?join`), if it is one.
pub fn room_of_uri(uri: &str) -> Option<BareJid> {
    let rest = uri.strip_prefix("xmpp:")?;
    let rest = rest.trim_start_matches("//");
    let jid = rest.split(['?', '#']).next()?;
    let room = BareJid::new(jid).ok()?;
    room.node()?;
    Some(room)
}

fn describe_room(r: &ChattingRoom) -> String {
    let mut s = r.name.clone().unwrap_or_else(|| r.uri.clone());
    if let Some(t) = &r.topic {
        s.push_str(" — ");
        s.push_str(t);
    }
    s
}

/// A contact's row: the contact and the room they are in, and its cells.
fn row(c: &ContactItem) -> (Item, Vec<String>) {
    // The room of an `xmpp:` URI, or a room's JID given as is.
    let joinable = c.room.as_ref().and_then(|r| {
        room_of_uri(&r.uri).or_else(|| BareJid::new(&r.uri).ok().filter(|j| j.node().is_some()))
    });
    let (room, about) = match &c.room {
        Some(r) => (
            room_of_uri(&r.uri)
                .map(|j| j.to_string())
                .unwrap_or_else(|| r.uri.clone()),
            describe_room(r),
        ),
        None => (String::new(), String::new()),
    };
    let subscription = if c.pending {
        format!("{} (asked)", c.subscription)
    } else {
        c.subscription.to_string()
    };
    let item = Item::Contact {
        jid: c.jid.clone(),
        room: joinable,
    };
    let cells = vec![
        c.jid.clone(),
        c.name.clone().unwrap_or_default(),
        c.presence.to_string(),
        subscription,
        room,
        about,
    ];
    (item, cells)
}

/// The Contacts table from these contacts.
pub fn contacts_table(list: &[ContactItem]) -> Table {
    let view = TableView::new(
        CONTACTS,
        vec![
            Column::new("Contact", Width::Fill),
            Column::new("Name", Width::Min(12)),
            Column::new("Presence", Width::Min(9)),
            Column::new("Subscription", Width::Min(12)),
            Column::new("Room", Width::Fill),
            Column::new("About the room", Width::Fill),
        ],
    )
    .with_items(list.iter().map(row));
    Table::new(TableKind::Contacts, view)
}

/// F5: the Contacts view from what the store knows now.
pub fn open(ui: &mut UiState, store: &Store) {
    ui.overlay = Overlay::Table(contacts_table(&store.contacts.items()));
}

/// The prompt of a subscription request: Enter approves, Esc denies.
pub fn request_prompt(from: &str) -> Prompt<Answer> {
    Prompt::new(format!(
        "{from} asks to see your presence and the rooms you share"
    ))
    .option(KeyCode::Enter, "approve", answer(from, true))
    .option(KeyCode::Esc, "deny", answer(from, false))
}

fn answer(from: &str, approve: bool) -> Answer {
    Answer::Subscription {
        from: from.to_string(),
        approve,
    }
}

/// Queues the prompt of `from`'s request, unless it is queued already.
fn ask_once(ui: &mut UiState, from: &str) {
    let p = request_prompt(from);
    if !ui.prompts.contains(&p) {
        ui.prompts.push(p);
    }
}

/// Reacts to roster, subscription and `/where` events.
pub fn on_event(ui: &mut UiState, e: &Event) {
    match e {
        Event::Roster { contacts, requests } => {
            ui.overlay = Overlay::Table(contacts_table(contacts));
            for r in requests {
                ask_once(ui, &r.from);
            }
        }
        Event::Subscription { from, kind, .. } => match *kind {
            "subscribe" => ask_once(ui, from),
            "unsubscribe" => {
                let p = request_prompt(from);
                ui.prompts.retain(|q| *q != p);
            }
            _ => {}
        },
        Event::Where {
            contact,
            presence,
            room,
        } => {
            let text = match room {
                Some(r) => format!("{contact} is {presence}, in {}", describe_room(r)),
                None => format!("{contact} is {presence}, in no room they tell of"),
            };
            ui.set_status(sanitize(&text, false).into_owned(), false);
        }
        _ => {}
    }
}

/// An open Contacts view follows presence, roster and room changes (the
/// selection keeps its place).
pub fn refresh(ui: &mut UiState, store: &Store, e: &Event) {
    if !matches!(
        e,
        Event::Chatting { .. } | Event::Presence { .. } | Event::Contact(_)
    ) {
        return;
    }
    if let Overlay::Table(t) = &mut ui.overlay
        && t.kind == TableKind::Contacts
    {
        t.set_items(store.contacts.items().iter().map(row));
    }
}

/// Enter in the Contacts view: the conversation with the selected
/// contact (`/msg JID`).
pub fn activate(t: &Table, index: usize) -> Option<ViewAction> {
    if t.kind != TableKind::Contacts {
        return None;
    }
    let Item::Contact { jid, .. } = t.item(index)? else {
        return None;
    };
    Some(match jid::Jid::new(jid) {
        Ok(to) => ViewAction::Run {
            command: crate::command::Command::OpenChat { jid: to },
            shown: format!("/msg {jid}"),
        },
        Err(_) => ViewAction::Refuse(format!("{jid} is not a JID to write to")),
    })
}

/// Alt-J in the Contacts view: join the selected contact's room.
pub fn other_key(t: &Table, k: KeyEvent) -> Option<ViewAction> {
    if t.kind != TableKind::Contacts
        || k.code != KeyCode::Char('j') && k.code != KeyCode::Char('J')
        || !k.modifiers.contains(KeyModifiers::ALT)
    {
        return None;
    }
    let Item::Contact { jid, room } = t.item(t.selected()?)? else {
        return None;
    };
    Some(match room {
        Some(room) => ViewAction::join(room.clone(), None),
        None => ViewAction::Refuse(format!("{jid} is in no room you could join")),
    })
}

/// The title's marker for a room we are in: told to contacts or not.
pub fn marker(store: &Store, room: &BareJid) -> &'static str {
    match store.publishing.get(room) {
        Some(PublishState::Published { .. }) => " [shared with contacts]",
        Some(PublishState::Withheld(_)) => " [not shared]",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::as_line;
    use crate::ui::widgets::PromptOutcome;
    use crossterm::event::{KeyEvent, KeyModifiers};

    fn contact(room: Option<&str>) -> ContactItem {
        ContactItem {
            jid: "bob@localhost".into(),
            name: Some("Bob".into()),
            subscription: "both",
            pending: false,
            presence: "away",
            status: None,
            room: room.map(|u| ChattingRoom {
                name: Some("Lounge".into()),
                topic: Some("Plans".into()),
                uri: u.into(),
            }),
        }
    }

    #[test]
    fn hostile_room_names_and_topics_are_escaped() {
        use crate::ui::widgets::testing::{HOSTILE, render};
        let mut c = contact(Some(&format!("xmpp:{HOSTILE}")));
        c.room.as_mut().unwrap().name = Some(HOSTILE.into());
        c.room.as_mut().unwrap().topic = Some(format!("topic {HOSTILE}\nline"));
        c.status = Some(HOSTILE.into());
        let t = contacts_table(&[c]);
        // `render` asserts that no control character reaches a cell.
        let screen = render(140, 6, |area, buf| t.render(area, buf));
        let text: String = screen
            .buffer()
            .content
            .iter()
            .map(|cell| cell.symbol())
            .collect();
        assert!(text.contains("\\u{1b}"), "{text}");
    }

    #[test]
    fn an_open_view_follows_rooms_and_presence() {
        use crate::protocol::chatting::{ChattingEvent, ChattingItem};
        use crate::protocol::roster::{RosterItem, Subscription};
        let mut store = Store::new();
        store.contacts.set_roster(vec![RosterItem {
            jid: BareJid::new("bob@localhost").unwrap(),
            name: None,
            subscription: Subscription::Both,
            pending_out: false,
        }]);
        let mut ui = UiState::default();
        open(&mut ui, &store);
        let events = store.contacts.chatting(ChattingEvent {
            from: BareJid::new("bob@localhost").unwrap(),
            items: vec![ChattingItem {
                id: "1".into(),
                room: contact(Some("xmpp:lounge@conference.localhost")).room,
            }],
        });
        refresh(&mut ui, &store, &events[0]);
        let Overlay::Table(t) = &ui.overlay else {
            panic!()
        };
        assert_eq!(t.rows()[0][4], "lounge@conference.localhost");
    }

    #[test]
    fn uris_of_rooms() {
        assert_eq!(
            room_of_uri("xmpp:lounge@conference.localhost?join")
                .unwrap()
                .as_str(),
            "lounge@conference.localhost"
        );
        assert!(room_of_uri("irc://irc.example.org/#x").is_none());
        assert!(room_of_uri("xmpp:conference.localhost").is_none());
    }

    #[test]
    fn roster_opens_the_view_and_requests_are_prompts() {
        let mut ui = UiState::default();
        on_event(
            &mut ui,
            &Event::Roster {
                contacts: vec![contact(Some("xmpp:lounge@conference.localhost"))],
                requests: vec![],
            },
        );
        let Overlay::Table(t) = &ui.overlay else {
            panic!()
        };
        assert_eq!(t.title(), CONTACTS);
        assert_eq!(t.rows()[0][4], "lounge@conference.localhost");
        assert_eq!(t.rows()[0][5], "Lounge — Plans");
        let sub = Event::Subscription {
            from: "eve@localhost".into(),
            kind: "subscribe",
            status: None,
        };
        on_event(&mut ui, &sub);
        on_event(&mut ui, &sub);
        assert_eq!(ui.prompts.len(), 1, "one prompt per request");
        let out = as_line(
            ui.prompts
                .handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        );
        assert_eq!(out, PromptOutcome::Chosen("/approve eve@localhost".into()));
    }
}
