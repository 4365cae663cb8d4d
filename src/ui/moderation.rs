//! Moderation in the TUI: the affiliation and role lists as a table, voice
//! requests as prompts (Enter runs `/voice ROOM NICK`, Esc ignores).

use crossterm::event::KeyCode;

use super::views::{Answer, Item, Table, TableKind, ViewAction, quote};
use super::widgets::{Column, Prompt, PromptQueue, TableView, Width};
use crate::command::admin::AdminList;
use crate::protocol::admin::AdminItem;
use crate::protocol::muc::Role;

/// The table shown for an `admin-list` event.
pub fn admin_table(room: &str, list: AdminList, items: &[AdminItem]) -> Table {
    let rows = items.iter().map(|i| {
        let cells = vec![
            i.jid.clone().unwrap_or_default(),
            i.nick.clone().unwrap_or_default(),
            i.affiliation
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
            i.role.map(|r| r.as_str().to_string()).unwrap_or_default(),
            i.reason.clone().unwrap_or_default(),
        ];
        (Item::Admin(i.clone()), cells)
    });
    let view = TableView::new(
        format!("{} of {room} ({})", list.name(), items.len()),
        vec![
            Column::new("JID", Width::Fill),
            Column::new("nick", Width::Min(12)),
            Column::new("affiliation", Width::Min(11)),
            Column::new("role", Width::Min(11)),
            Column::new("reason", Width::Fill),
        ],
    )
    .with_items(rows);
    Table::new(
        TableKind::AdminList {
            room: room.to_string(),
            list,
        },
        view,
    )
}

/// Enter on a row of one of these tables: the input line gets the command
/// that changes that entry, for the user to finish (`/affiliation ROOM
/// JID ` or `/role ROOM NICK `).
pub fn activate(t: &Table, index: usize) -> Option<ViewAction> {
    let TableKind::AdminList { room, list } = &t.kind else {
        return None;
    };
    let Some(Item::Admin(item)) = t.item(index) else {
        return None;
    };
    let line = match list {
        AdminList::Affiliation(_) => {
            let jid = item.jid.as_deref().filter(|j| !j.is_empty())?;
            format!("/affiliation {room} {jid} ")
        }
        AdminList::Role(_) => {
            let nick = item.nick.as_deref().filter(|n| !n.is_empty())?;
            format!("/role {room} {} ", quote(nick))
        }
    };
    Some(ViewAction::Prefill(line))
}

/// The prompt for a `voice-request` event: Enter grants with `/voice ROOM
/// NICK`, Esc runs nothing. `None` when the request names nobody.
pub fn voice_prompt(room: &str, nick: Option<&str>) -> Option<Prompt<Answer>> {
    let nick = nick.filter(|n| !n.is_empty())?;
    let grant = Answer::Voice {
        room: room.to_string(),
        nick: nick.to_string(),
    };
    Some(
        Prompt::new(format!("{nick} asks for voice in {room}"))
            .option(KeyCode::Enter, "grant", grant)
            .option(KeyCode::Esc, "ignore", Answer::Nothing),
    )
}

/// Queues the prompt for a voice request, once per room and nick.
pub fn ask_for_voice(prompts: &mut PromptQueue<Answer>, room: &str, nick: Option<&str>) {
    if let Some(p) = voice_prompt(room, nick) {
        prompts.retain(|q| q != &p);
        prompts.push(p);
    }
}

/// An occupant's role changed: a request for voice from them that got it
/// (from any moderator) or that left is no longer a question.
pub fn voice_settled(prompts: &mut PromptQueue<Answer>, room: &str, nick: &str, role: Role) {
    if role != Role::Visitor
        && let Some(p) = voice_prompt(room, Some(nick))
    {
        prompts.retain(|q| q != &p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::occupant;
    use crate::command::admin::Moderate;
    use crate::command::{Command, parse};
    use crate::protocol::muc::{Affiliation, Role};
    use crossterm::event::{KeyEvent, KeyModifiers};

    #[test]
    fn the_prompt_grants_with_voice() {
        let p = voice_prompt("r@c", Some("Mister \"X\"")).unwrap();
        assert_eq!(p.text(), "Mister \"X\" asks for voice in r@c");
        let line = p
            .choose(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
            .unwrap()
            .line();
        assert_eq!(
            parse(&line).unwrap(),
            Command::Moderate(Moderate::Voice {
                room: jid::BareJid::new("r@c").unwrap(),
                nick: "Mister \"X\"".into()
            })
        );
        let ignore = p
            .choose(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE))
            .unwrap()
            .line();
        assert_eq!(ignore, "");
        assert!(voice_prompt("r@c", None).is_none());
    }

    fn app_in_room() -> (
        crate::app::App,
        super::super::state::UiState,
        tokio::sync::mpsc::UnboundedReceiver<crate::session::SessionCmd>,
    ) {
        use crate::app::App;
        use crate::session::SessionEvent;
        let (mut app, mut rx) = App::for_tests("alice@localhost", 50);
        let mut ui = super::super::state::UiState::default();
        assert!(!super::super::submit_line(
            &mut app,
            &mut ui,
            "/join r@c/alice"
        ));
        for (nick, role, codes) in [
            ("bob", Role::Visitor, vec![]),
            ("alice", Role::Moderator, vec![110]),
        ] {
            let p = occupant("r@c", nick)
                .role(role)
                .show("available")
                .codes(&codes);
            let out = app.on_session(SessionEvent::Incoming(p.incoming()));
            ui.on_events(&app.store, &out);
        }
        while rx.try_recv().is_ok() {}
        (app, ui, rx)
    }

    fn next_iq(
        rx: &mut tokio::sync::mpsc::UnboundedReceiver<crate::session::SessionCmd>,
    ) -> (crate::session::Tag, minidom::Element, bool) {
        let iq = crate::app::fixtures::next_iq(rx);
        (iq.tag, iq.payload, iq.set)
    }

    #[test]
    fn enter_on_a_voice_request_gives_voice() {
        let (mut app, mut ui, mut rx) = app_in_room();
        let request = crate::store::Event::VoiceRequest {
            room: "r@c".into(),
            nick: Some("bob".into()),
            jid: Some("bob@localhost/x".into()),
        };
        let other = crate::store::Event::VoiceRequest {
            room: "r@c".into(),
            nick: Some("dave".into()),
            jid: None,
        };
        ui.on_events(&app.store, &[request.clone(), other, request]);
        assert_eq!(ui.prompts.len(), 2, "one prompt per nick");
        assert_eq!(
            ui.prompts.current().unwrap().text(),
            "dave asks for voice in r@c"
        );
        // Once carol has voice (another moderator gave it), her request
        // goes away.
        let carol = crate::store::Event::VoiceRequest {
            room: "r@c".into(),
            nick: Some("carol".into()),
            jid: None,
        };
        ui.on_events(&app.store, &[carol]);
        assert_eq!(ui.prompts.len(), 3);
        super::voice_settled(&mut ui.prompts, "r@c", "carol", Role::Visitor);
        assert_eq!(ui.prompts.len(), 3);
        let carol_has_voice = app.on_session(crate::session::SessionEvent::Incoming(
            occupant("r@c", "carol")
                .role(Role::Participant)
                .show("available")
                .actor("dave")
                .incoming(),
        ));
        ui.on_events(&app.store, &carol_has_voice);
        assert_eq!(ui.prompts.len(), 2);
        // Esc ignores dave; Enter grants bob.
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        super::super::handle_key(&mut app, &mut ui, esc);
        assert!(rx.try_recv().is_err(), "ignoring sends nothing");
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        super::super::handle_key(&mut app, &mut ui, enter);
        assert!(ui.prompts.is_empty());
        let (_, payload, set) = next_iq(&mut rx);
        assert!(set);
        assert_eq!(
            payload,
            crate::protocol::admin::set_role("bob", Role::Participant, None)
        );
    }

    #[test]
    fn a_list_opens_a_table() {
        let (mut app, mut ui, mut rx) = app_in_room();
        assert!(!super::super::submit_line(&mut app, &mut ui, "/outcasts"));
        let (tag, payload, set) = next_iq(&mut rx);
        assert!(!set);
        assert_eq!(
            payload,
            crate::protocol::admin::affiliation_list(Affiliation::Outcast)
        );
        let answer: minidom::Element = "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast' jid='eve@localhost'><reason>spam</reason></item></query>"
            .parse()
            .unwrap();
        let out = app.on_session(crate::session::SessionEvent::IqResponse {
            tag,
            result: Ok(Some(answer)),
        });
        assert_eq!(out.last().unwrap().name(), "ok");
        ui.on_events(&app.store, &out);
        let super::super::views::Overlay::Table(t) = &ui.overlay else {
            panic!("no table")
        };
        assert_eq!(t.title(), "outcasts of r@c (1)");
        assert_eq!(t.rows()[0][0], "eve@localhost");
        assert_eq!(t.rows()[0][4], "spam");
        // Enter on the row: the command to change it, to be finished.
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        super::super::handle_key(&mut app, &mut ui, enter);
        assert!(matches!(ui.overlay, super::super::views::Overlay::None));
        assert_eq!(ui.editor.text(), "/affiliation r@c eve@localhost ");
        assert!(rx.try_recv().is_err(), "nothing is sent");
    }

    #[test]
    fn enter_on_a_moderator_prefills_a_role_change() {
        let (mut app, _rx) = crate::app::App::for_tests("alice@localhost", 0);
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        let mut activate = |ui: &mut super::super::state::UiState, _row: usize| {
            super::super::handle_key(&mut app, ui, enter);
        };
        let mut ui = super::super::state::UiState::default();
        let items = [AdminItem {
            nick: Some("Mister X".into()),
            role: Some(Role::Moderator),
            ..AdminItem::default()
        }];
        ui.overlay = super::super::views::Overlay::Table(admin_table(
            "r@c",
            AdminList::Role(Role::Moderator),
            &items,
        ));
        activate(&mut ui, 0);
        assert_eq!(ui.editor.text(), "/role r@c \"Mister X\" ");
        // Other tables are not ours.
        ui.overlay = super::super::views::Overlay::Table(Table::plain(
            TableView::new("rooms on c", vec![Column::new("JID", Width::Fill)])
                .with_rows(vec![vec!["a@c".into()]]),
        ));
        ui.editor.set("");
        activate(&mut ui, 0);
        assert_eq!(ui.editor.text(), "");
        assert!(matches!(ui.overlay, super::super::views::Overlay::Table(_)));
    }

    #[test]
    fn moderation_lines_in_the_message_pane() {
        use crate::session::SessionEvent;
        let (mut app, _ui, _rx) = app_in_room();
        let bob = |available, role, codes: Vec<u16>, reason: Option<&str>| {
            let mut p = occupant("r@c", "bob")
                .available(available)
                .role(role)
                .show("available")
                .codes(&codes)
                .actor("alice");
            if let Some(reason) = reason {
                p = p.reason(reason);
            }
            SessionEvent::Incoming(p.incoming())
        };
        app.on_session(bob(true, Role::Participant, vec![], None));
        app.on_session(bob(false, Role::None, vec![307], Some("spam")));
        let theme = crate::ui::theme::Theme::default();
        let view = crate::ui::messages::MessageView::for_tests(&theme);
        let area = ratatui::layout::Rect::new(0, 0, 60, 4);
        let mut buf = ratatui::buffer::Buffer::empty(area);
        let log = &app
            .store
            .room(&jid::BareJid::new("r@c").unwrap())
            .unwrap()
            .messages;
        crate::ui::messages::render(log, &view, area, &mut buf);
        let rows: Vec<String> = (0..4)
            .map(|y| {
                (0..60)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect();
        assert!(
            rows.iter()
                .any(|r| r.ends_with("! bob now has voice (by alice)")),
            "{rows:?}"
        );
        assert!(
            rows.iter()
                .any(|r| r.ends_with("! bob was kicked by alice (spam)")),
            "{rows:?}"
        );
    }

    #[test]
    fn being_kicked_says_by_whom_and_why() {
        let (mut app, mut ui, _rx) = app_in_room();
        let out = app.on_session(crate::session::SessionEvent::Incoming(
            occupant("r@c", "alice")
                .unavailable()
                .codes(&[110, 307])
                .reason("spam")
                .actor("bob")
                .incoming(),
        ));
        ui.on_events(&app.store, &out);
        assert_eq!(ui.status, "r@c: you were kicked by bob (spam)");
        assert!(ui.status_error);
    }

    #[test]
    fn the_current_room_is_filled_in() {
        let r = jid::BareJid::new("r@c").unwrap();
        let fill = |line: &str| super::super::with_current_room(line, Some(&r));
        assert_eq!(fill("/kick bob too loud"), "/kick r@c bob too loud");
        assert_eq!(fill("/unban bob@localhost"), "/unban r@c bob@localhost");
        assert_eq!(
            fill("/affiliation carol@localhost member"),
            "/affiliation r@c carol@localhost member"
        );
        assert_eq!(fill("/ban bob@localhost"), "/ban r@c bob@localhost");
        assert_eq!(fill("/ban other@c bob"), "/ban other@c bob");
        assert_eq!(
            fill("/unban other@c bob@localhost"),
            "/unban other@c bob@localhost"
        );
        assert_eq!(fill("/members"), "/members r@c");
        assert_eq!(fill("/members other@c"), "/members other@c");
    }

    #[test]
    fn the_table_has_a_row_per_item() {
        let t = admin_table(
            "r@c",
            AdminList::Affiliation(Affiliation::Outcast),
            &[AdminItem {
                jid: Some("bob@localhost".into()),
                affiliation: Some(Affiliation::Outcast),
                role: Some(Role::None),
                reason: Some("spam".into()),
                ..AdminItem::default()
            }],
        );
        assert_eq!(t.title(), "outcasts of r@c (1)");
        assert_eq!(
            t.rows(),
            &[vec![
                "bob@localhost".to_string(),
                String::new(),
                "outcast".into(),
                "none".into(),
                "spam".into()
            ]]
        );
    }
}
