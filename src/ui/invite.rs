//! Invitations and bookmarks in the TUI: an invitation waits in the
//! prompt queue (Enter accepts, Esc declines), a decline of ours is a
//! notice, `/invitations` and `/bookmarks` open tables (Enter accepts the
//! invitation / joins the room).

use crossterm::event::KeyCode;

use jid::{BareJid, ResourcePart};

use super::state::UiState;
use super::views::{Answer, Item, Overlay, Table, TableKind, ViewAction};
use super::widgets::{Column, Prompt, TableView, Width};
use crate::command::Command;
use crate::store::{BookmarkItem, Event, InvitationItem};

const INVITATIONS: &str = "Invitations (Enter accepts)";
const BOOKMARKS: &str = "Bookmarks (Enter joins)";

/// Who invites, as shown: the bare JID, or the nick when the room names
/// the inviter by their occupant JID.
fn who<'a>(from: &'a str, room: &str) -> &'a str {
    match from.split_once('/') {
        Some((bare, nick)) if bare == room => nick,
        Some((bare, _)) => bare,
        None => from,
    }
}

fn reason(r: Option<&str>) -> String {
    r.map(|r| format!(" ({r})")).unwrap_or_default()
}

/// The prompt of an invitation: Enter accepts, Esc declines.
pub fn invitation_prompt(i: &InvitationItem) -> Prompt<Answer> {
    Prompt::new(format!(
        "{} invites you to {}{}",
        who(&i.from, &i.room),
        i.room,
        reason(i.reason.as_deref())
    ))
    .option(KeyCode::Enter, "accept", answer(i, true))
    .option(KeyCode::Esc, "decline", answer(i, false))
}

fn answer(i: &InvitationItem, accept: bool) -> Answer {
    Answer::Invitation {
        id: i.id,
        room: i.room.clone(),
        accept,
    }
}

/// The prompt of invitation `id`, or of one to `room`.
fn is_prompt_of(p: &Prompt<Answer>, id: Option<u32>, room: Option<&str>) -> bool {
    p.options().iter().any(|o| match &o.choice {
        Answer::Invitation { id: i, room: r, .. } => Some(*i) == id || Some(r.as_str()) == room,
        _ => false,
    })
}

pub fn invitations_table(list: &[InvitationItem]) -> Table {
    let view = TableView::new(
        INVITATIONS,
        vec![
            Column::new("ID", Width::Min(4)),
            Column::new("Room", Width::Fill),
            Column::new("From", Width::Fill),
            Column::new("Kind", Width::Min(9)),
            Column::new("Reason", Width::Fill),
        ],
    )
    .with_items(list.iter().map(|i| {
        let cells = vec![
            i.id.to_string(),
            i.room.clone(),
            who(&i.from, &i.room).to_string(),
            i.kind.as_str().to_string(),
            i.reason.clone().unwrap_or_default(),
        ];
        (Item::Invitation { id: i.id }, cells)
    }));
    Table::new(TableKind::Invitations, view)
}

/// The room and nick a bookmark joins with (`None`: not valid ones).
fn bookmark_join(b: &BookmarkItem) -> Option<(BareJid, Option<String>)> {
    let room = BareJid::new(&b.room).ok().filter(|j| j.node().is_some())?;
    let nick = match b.nick.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => Some(ResourcePart::new(n).ok()?.as_str().to_string()),
        None => None,
    };
    Some((room, nick))
}

pub fn bookmarks_table(list: &[BookmarkItem]) -> Table {
    let view = TableView::new(
        BOOKMARKS,
        vec![
            Column::new("Room", Width::Fill),
            Column::new("Name", Width::Fill),
            Column::new("Nick", Width::Min(12)),
            Column::new("Autojoin", Width::Min(8)),
        ],
    )
    .with_items(list.iter().map(|b| {
        let cells = vec![
            b.room.clone(),
            b.name.clone().unwrap_or_default(),
            b.nick.clone().unwrap_or_default(),
            if b.autojoin { "yes" } else { "no" }.to_string(),
        ];
        let item = Item::Bookmark {
            room: b.room.clone(),
            join: bookmark_join(b),
        };
        (item, cells)
    }));
    Table::new(TableKind::Bookmarks, view)
}

/// Reacts to the invitation and bookmark events.
pub fn on_event(ui: &mut UiState, e: &Event) {
    match e {
        Event::Invitation(i) => {
            // The same invitation again replaces its prompt.
            ui.prompts.retain(|p| !is_prompt_of(p, Some(i.id), None));
            ui.prompts.push(invitation_prompt(i));
        }
        Event::InvitationDeclined(d) => ui.prompts.push(Prompt::notice(format!(
            "{} declined your invitation to {}{}",
            who(&d.from, &d.room),
            d.room,
            reason(d.reason.as_deref())
        ))),
        Event::Invitations { invitations } => {
            if invitations.is_empty() {
                ui.set_status("no pending invitations", false);
            } else {
                ui.overlay = Overlay::Table(invitations_table(invitations));
            }
        }
        Event::Bookmarks { bookmarks } => {
            if bookmarks.is_empty() {
                ui.set_status("no bookmarks", false);
            } else {
                ui.overlay = Overlay::Table(bookmarks_table(bookmarks));
            }
        }
        Event::Joined { room, .. } => {
            // An invitation to a room we are now in is settled.
            ui.prompts
                .retain(|p| !is_prompt_of(p, None, Some(room.as_str())));
        }
        _ => {}
    }
}

/// Enter in the invitations or bookmarks table: accept the selected
/// invitation, or join the selected bookmark's room.
pub fn activate(t: &Table, index: usize) -> Option<ViewAction> {
    match (&t.kind, t.item(index)?) {
        (TableKind::Invitations, Item::Invitation { id }) => Some(ViewAction::Run {
            command: Command::Accept { id: id.to_string() },
            shown: format!("/accept {id}"),
        }),
        (TableKind::Bookmarks, Item::Bookmark { join, room }) => Some(match join {
            Some((room, nick)) => ViewAction::join(room.clone(), nick.clone()),
            None => ViewAction::Refuse(format!("{room}: not a room you could join")),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::invite::InviteKind;
    use crate::ui::views::as_line;
    use crate::ui::widgets::PromptOutcome;
    use crossterm::event::{KeyEvent, KeyModifiers};

    fn item(id: u32, room: &str) -> InvitationItem {
        InvitationItem {
            id,
            room: room.into(),
            from: "alice@localhost/x".into(),
            reason: Some("come".into()),
            password: None,
            kind: InviteKind::Direct,
            time: None,
        }
    }

    #[test]
    fn invitation_prompts_run_accept_or_decline() {
        let mut ui = UiState::default();
        on_event(&mut ui, &Event::Invitation(item(3, "r@c")));
        on_event(&mut ui, &Event::Invitation(item(3, "r@c")));
        assert_eq!(ui.prompts.len(), 1, "the same invitation once");
        assert_eq!(
            ui.prompts.current().unwrap().text(),
            "alice@localhost invites you to r@c (come)"
        );
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(
            as_line(ui.prompts.current().unwrap().handle_key(enter)),
            PromptOutcome::Chosen("/accept 3".to_string())
        );
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(
            as_line(ui.prompts.current().unwrap().handle_key(esc)),
            PromptOutcome::Chosen("/decline 3".to_string())
        );
        // Joining the room settles it.
        on_event(
            &mut ui,
            &Event::Joined {
                room: jid::BareJid::new("r@c").unwrap(),
                nick: "me".into(),
                protocol: "muc",
                rejoined: false,
                notices: vec![],
            },
        );
        assert!(ui.prompts.is_empty());
        // A decline is a notice.
        on_event(
            &mut ui,
            &Event::InvitationDeclined(crate::store::DeclineItem {
                room: "r@c".into(),
                from: "bob@localhost".into(),
                reason: None,
            }),
        );
        assert!(ui.prompts.current().unwrap().is_notice());
        assert_eq!(
            ui.prompts.current().unwrap().text(),
            "bob@localhost declined your invitation to r@c"
        );
    }

    #[test]
    fn tables() {
        let mut ui = UiState::default();
        on_event(
            &mut ui,
            &Event::Invitations {
                invitations: vec![item(1, "a@c"), item(2, "b@c")],
            },
        );
        let Overlay::Table(t) = &ui.overlay else {
            panic!("a table")
        };
        assert_eq!(t.title(), INVITATIONS);
        assert_eq!(t.rows()[1][..4], ["2", "b@c", "alice@localhost", "direct"]);
        assert_eq!(who("b@c/alice", "b@c"), "alice");
        on_event(
            &mut ui,
            &Event::Bookmarks {
                bookmarks: vec![BookmarkItem {
                    room: "a@c".into(),
                    name: Some("A".into()),
                    autojoin: true,
                    nick: Some("me".into()),
                    password: false,
                }],
            },
        );
        let Overlay::Table(t) = &ui.overlay else {
            panic!("a table")
        };
        assert_eq!(t.title(), BOOKMARKS);
        assert_eq!(t.rows()[0], ["a@c", "A", "me", "yes"]);
        ui.overlay = Overlay::None;
        on_event(&mut ui, &Event::Bookmarks { bookmarks: vec![] });
        assert!(matches!(ui.overlay, Overlay::None));
        assert_eq!(ui.status, "no bookmarks");
    }

    #[test]
    fn enter_on_the_prompt_or_the_table_accepts() {
        use crate::app::App;
        use crate::protocol::Incoming;
        use crate::protocol::invite::Invitation;
        use crate::session::{SessionCmd, SessionEvent};

        let (mut app, mut rx) = App::for_tests("bob@localhost", 0);
        let mut ui = UiState::default();
        for room in ["a@c", "b@c"] {
            let out = app.on_session(SessionEvent::Incoming(Incoming::Invitation(Invitation {
                room: jid::BareJid::new(room).unwrap(),
                from: jid::Jid::new("alice@localhost").unwrap(),
                reason: None,
                password: Some("pw".into()),
                kind: InviteKind::Direct,
                continue_chat: false,
                thread: None,
            })));
            ui.on_events(&app.store, &out);
        }
        assert_eq!(ui.prompts.len(), 2);
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        crate::ui::handle_key(&mut app, &mut ui, enter);
        match rx.try_recv().unwrap() {
            SessionCmd::Join { room, password, .. } => {
                assert_eq!(room.as_str(), "a@c");
                assert_eq!(password.as_deref(), Some("pw"));
            }
            other => panic!("{other:?}"),
        }
        // The other one from the table.
        ui.prompts.pop();
        let exec = app.execute(crate::command::Command::Invitations, "/invitations");
        ui.on_events(&app.store, &exec.events);
        assert!(matches!(ui.overlay, Overlay::Table(_)));
        crate::ui::handle_key(
            &mut app,
            &mut ui,
            KeyEvent::new(KeyCode::Down, KeyModifiers::NONE),
        );
        crate::ui::handle_key(&mut app, &mut ui, enter);
        assert!(matches!(ui.overlay, Overlay::None));
        match rx.try_recv().unwrap() {
            SessionCmd::Join { room, .. } => assert_eq!(room.as_str(), "b@c"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_current_room_fills_in() {
        let room = jid::BareJid::new("r@c").unwrap();
        let cur = Some(&room);
        let fill = |line: &str| crate::ui::with_current_room(line, cur);
        assert_eq!(fill("/invite bob@d"), "/invite r@c bob@d");
        assert_eq!(
            fill("/invite bob@d \"come in\""),
            "/invite r@c bob@d \"come in\""
        );
        assert_eq!(fill("/invite other@c bob@d"), "/invite other@c bob@d");
        assert_eq!(fill("/bookmark --autojoin"), "/bookmark r@c --autojoin");
        assert_eq!(fill("/bookmark"), "/bookmark r@c");
        assert_eq!(fill("/unbookmark"), "/unbookmark r@c");
        assert_eq!(fill("/accept 2"), "/accept 2");
    }
}
