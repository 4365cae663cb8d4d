//! The TUI side of generic conferencing: `/browse`, `/whois` and the
//! conference `/info` as text, and a room that wants a secret (or a MUC
//! password) that was not given, or refused the one given, asks for it:
//! a one-field form (the secret shown as `•`), Enter joins with it, Esc
//! gives up. The secret goes into the join only, never into the input
//! history or the command text shown.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jid::BareJid;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};

use super::sanitize::sanitize;
use super::state::UiState;
use super::views::{Form, FormKind, Overlay};
use super::widgets::{FormEditor, FormOutcome};
use crate::app::App;
use crate::command::{self, Command, JoinOptions};
use crate::store::Event;

/// FORM_TYPE of the form that asks for a room's secret (a form of the
/// TUI's own, never sent).
const SECRET_FORM: &str = "urn:confab:tui:room-secret";

/// `/browse`'s answer in words.
pub fn describe_browse(
    target: &str,
    b: &crate::protocol::conference::Browse,
    snapshot: bool,
) -> String {
    let mut s = format!("{target}: {}", b.item.category);
    if let Some(t) = &b.item.type_ {
        s.push_str(&format!(" ({t})"));
    }
    if let Some(n) = &b.item.name {
        s.push_str(&format!(" \"{n}\""));
    }
    if let Some(j) = b.item.jid.as_deref().filter(|j| *j != target) {
        s.push_str(&format!("\njid: {j}"));
    }
    if !b.items.is_empty() {
        s.push_str(if snapshot {
            "\n\nParticipants now (a snapshot: no updates follow until you join):"
        } else {
            "\n"
        });
        for i in &b.items {
            s.push_str(&format!(
                "\n  {} {}{}",
                i.category,
                i.name.as_deref().unwrap_or(""),
                i.jid
                    .as_deref()
                    .map(|j| format!(" <{j}>"))
                    .unwrap_or_default()
            ));
        }
    }
    if !b.namespaces.is_empty() {
        s.push_str(&format!("\n\nSpeaks: {}", b.namespaces.join(", ")));
    }
    s
}

/// The conference `get` in words.
pub fn describe_requirements(room: &str, r: &crate::protocol::conference::Requirements) -> String {
    let mut s = format!("{room}: generic conferencing room");
    if let Some(n) = &r.name {
        s.push_str(&format!(" \"{n}\""));
    }
    let yes = |b: bool| if b { "yes" } else { "no" };
    s.push_str(&format!(
        "\nnick to choose: {}\nsecret needed: {}\nprivacy offered: {}",
        yes(r.nick),
        yes(r.secret),
        yes(r.privacy)
    ));
    if let Some(t) = &r.topic {
        s.push_str(&format!("\ntopic: {t}"));
    }
    if let (Some(id), Some(n)) = (&r.id, &r.current_nick) {
        s.push_str(&format!("\nyou are {n} ({id})"));
    }
    s
}

fn show(ui: &mut UiState, text: String) {
    ui.overlay = Overlay::Help {
        text: sanitize(&text, true).into_owned(),
        scroll: 0,
    };
}

/// Reacts to the events of this module.
pub fn on_event(ui: &mut UiState, e: &Event) {
    match e {
        Event::Browse {
            target,
            browse,
            snapshot,
        } => show(ui, describe_browse(target, browse, *snapshot)),
        Event::ConferenceInfo { room, requirements } => {
            show(ui, describe_requirements(room, requirements))
        }
        Event::Whois { room, nick, jid } => {
            let text = match jid {
                Some(j) => format!("{room}: {nick} is {j}"),
                None => format!("{room}: the room does not tell who {nick} is"),
            };
            ui.set_status(sanitize(&text, false).into_owned(), false);
        }
        Event::Error {
            command: Some(command),
            room: Some(room),
            condition,
            text,
            ..
        } if condition == "not-authorized"
            && (command.starts_with("/join ") || command.starts_with("/j "))
            && matches!(ui.overlay, Overlay::None) =>
        {
            ask_secret(ui, room.as_str(), command, text.as_deref());
        }
        _ => {}
    }
}

fn hidden(var: &str, value: &str) -> Field {
    let mut f = Field::new(var, FieldType::Hidden);
    f.values = vec![value.to_string()];
    f
}

/// Opens the form asking for the secret of `room`, whose join `command`
/// was refused for the want of it (or refused the one it had): `why`, the
/// error's text, says which.
pub fn ask_secret(ui: &mut UiState, room: &str, command: &str, why: Option<&str>) {
    let mut secret = Field::new("secret", FieldType::TextPrivate);
    secret.label = Some("Secret".into());
    secret.required = true;
    secret.desc = Some("Enter joins with it, Esc gives up".into());
    let title = format!("The secret of {room}");
    let form = DataForm {
        type_: DataFormType::Form,
        title: Some(sanitize(&title, false).into_owned()),
        instructions: why.map(|w| sanitize(w, false).into_owned()),
        fields: vec![hidden("FORM_TYPE", SECRET_FORM), secret],
    };
    // The join that was refused (the error event names it by its text),
    // to run again with the secret.
    let join = match command::parse(command) {
        Ok(join @ Command::Join { .. }) => Some(join),
        _ => None,
    };
    let kind = FormKind::Secret {
        room: room.to_string(),
        join,
        shown: command.to_string(),
    };
    ui.overlay = Overlay::Form(Form::new(kind, FormEditor::new(form)));
    ui.set_status(
        sanitize(
            &format!("{room} wants a secret: type it, then Enter (Esc: not now)"),
            false,
        )
        .into_owned(),
        true,
    );
}

fn value(f: &DataForm, var: &str) -> Option<String> {
    f.fields
        .iter()
        .find(|x| x.var.as_deref() == Some(var))
        .and_then(|x| x.values.first().cloned())
}

/// Keys for the secret form, when it is open (true: the key was its).
/// Enter (or Ctrl-S) joins with the secret typed, Esc gives up.
pub fn secret_form_key(app: &mut App, ui: &mut UiState, k: KeyEvent) -> bool {
    let Overlay::Form(f) = &mut ui.overlay else {
        return false;
    };
    if !matches!(f.kind, FormKind::Secret { .. }) {
        return false;
    }
    let k = if k.code == KeyCode::Enter && k.modifiers == KeyModifiers::NONE {
        KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)
    } else {
        k
    };
    let outcome = f.handle_key(k);
    if !matches!(outcome, FormOutcome::Cancel | FormOutcome::Submit(_)) {
        return true;
    }
    let Overlay::Form(Form {
        kind: FormKind::Secret { room, join, shown },
        ..
    }) = std::mem::replace(&mut ui.overlay, Overlay::None)
    else {
        unreachable!("the secret form is open")
    };
    match outcome {
        FormOutcome::Cancel => {
            ui.set_status(
                sanitize(&format!("not joining {room}: no secret given"), false).into_owned(),
                false,
            );
        }
        FormOutcome::Submit(form) => join_with_secret(app, ui, &room, join, shown, &form),
        _ => {}
    }
    true
}

/// The join again, with the secret from the form.
fn join_with_secret(
    app: &mut App,
    ui: &mut UiState,
    room: &str,
    join: Option<Command>,
    command: String,
    form: &DataForm,
) {
    let Some(secret) = value(form, "secret") else {
        return;
    };
    let Ok(jid) = BareJid::new(room) else {
        return;
    };
    let (cmd, shown) = match join {
        Some(Command::Join {
            room,
            nick,
            password,
            options,
        }) => {
            // The text shown is the command as typed, unless it had a
            // (wrong) secret in it.
            let shown = match password {
                None => command,
                Some(_) => {
                    let at = nick.as_ref().map(|n| format!("/{n}")).unwrap_or_default();
                    format!("/join {room}{at}")
                }
            };
            (
                Command::Join {
                    room,
                    nick,
                    password: Some(secret),
                    options,
                },
                shown,
            )
        }
        _ => (
            Command::Join {
                room: jid.clone(),
                nick: None,
                password: Some(secret),
                options: JoinOptions::default(),
            },
            format!("/join {jid}"),
        ),
    };
    ui.follow.push(jid);
    let exec = app.execute(cmd, &shown);
    ui.on_events(&app.store, &exec.events);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::conference::{Browse, BrowseItem, Requirements};
    use crate::session::{SessionCmd, SessionEvent};
    use tokio::sync::mpsc::UnboundedReceiver;

    const ROOM: &str = "demo@legacy.example";

    /// The next IQ the app sends (answers to pushes and presence skipped
    /// unless asked for): its tag and payload.
    fn next_iq(rx: &mut UnboundedReceiver<SessionCmd>) -> (crate::session::Tag, minidom::Element) {
        loop {
            match rx.try_recv().expect("a session command") {
                SessionCmd::Iq { tag, payload, .. } => return (tag, payload),
                _ => continue,
            }
        }
    }

    fn answer_requirements(app: &mut App, ui: &mut UiState, tag: crate::session::Tag) {
        let ev = crate::app::fixtures::iq_result(
            app,
            tag,
            "<query xmlns='jabber:iq:conference'><nick/><secret/><privacy/></query>",
        );
        ui.on_events(&app.store, &ev);
    }

    /// The open form as drawn.
    fn screen(ui: &UiState) -> String {
        let area = ratatui::layout::Rect::new(0, 0, 100, 10);
        let mut buf = ratatui::buffer::Buffer::empty(area);
        let Overlay::Form(f) = &ui.overlay else {
            panic!("no form open: status {:?}", ui.status)
        };
        f.render(area, &mut buf);
        buf.content.iter().map(|c| c.symbol()).collect()
    }

    fn key(app: &mut App, ui: &mut UiState, code: KeyCode) {
        super::super::handle_key(app, ui, KeyEvent::new(code, KeyModifiers::NONE));
    }

    /// A room that wants a secret the join did not give: the TUI asks for
    /// it (masked), Enter joins with it; the secret is not shown.
    #[test]
    fn a_room_that_wants_a_secret_asks_for_it() {
        let (mut app, mut rx) = crate::app::fixtures::online("dude@example.org/x");
        let mut ui = UiState::default();
        let line = format!("/join {ROOM} --protocol conference --private");
        super::super::submit_line(&mut app, &mut ui, &line);
        let (tag, payload) = next_iq(&mut rx);
        assert!(payload.is("query", "jabber:iq:conference"));
        answer_requirements(&mut app, &mut ui, tag);
        let Overlay::Form(f) = &ui.overlay else {
            panic!("no question for the secret: status {:?}", ui.status)
        };
        assert_eq!(f.title(), Some("The secret of demo@legacy.example"));
        // Why, in the app's words.
        assert!(screen(&ui).contains("needs a secret"), "{}", screen(&ui));
        assert!(ui.editor.is_empty());

        for c in "open sesame".chars() {
            key(&mut app, &mut ui, KeyCode::Char(c));
        }
        // The secret is masked on screen.
        let shown = screen(&ui);
        assert!(!shown.contains("sesame"), "{shown}");
        assert!(shown.contains("•••"), "{shown}");

        key(&mut app, &mut ui, KeyCode::Enter);
        assert!(matches!(ui.overlay, Overlay::None));
        // The join again, with the secret and the options it had.
        let (tag, payload) = next_iq(&mut rx);
        assert!(payload.is("query", "jabber:iq:conference"));
        answer_requirements(&mut app, &mut ui, tag);
        let (_, payload) = next_iq(&mut rx);
        assert_eq!(
            payload,
            "<query xmlns='jabber:iq:conference'><secret>open sesame</secret><nick>dude</nick><privacy/></query>"
                .parse::<minidom::Element>()
                .unwrap()
        );
        assert!(!ui.status.contains("sesame"), "{}", ui.status);

        // Refused: asked again, saying so; Esc gives up.
        let ev = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Err(crate::protocol::ErrorInfo::new("not-authorized", None)),
        });
        ui.on_events(&app.store, &ev);
        assert!(
            screen(&ui).contains("refused the secret"),
            "{}",
            screen(&ui)
        );
        key(&mut app, &mut ui, KeyCode::Esc);
        assert!(matches!(ui.overlay, Overlay::None));
        assert!(ui.status.contains("not joining"), "{}", ui.status);
        assert!(!ui.status.contains("sesame"));
    }

    #[test]
    fn browse_and_requirements_in_words() {
        let b = Browse {
            item: BrowseItem {
                category: "conference".into(),
                jid: Some("lounge@legacy.localhost".into()),
                name: Some("Lounge\u{1b}[2J".into()),
                type_: Some("public".into()),
            },
            items: vec![BrowseItem {
                category: "user".into(),
                jid: Some("lounge@legacy.localhost/a1".into()),
                name: Some("alice".into()),
                type_: None,
            }],
            namespaces: Vec::new(),
        };
        let text = describe_browse("lounge@legacy.localhost", &b, true);
        assert!(text.starts_with("lounge@legacy.localhost: conference (public) \"Lounge"));
        assert!(text.contains("a snapshot"));
        assert!(text.contains("user alice <lounge@legacy.localhost/a1>"));
        assert!(!sanitize(&text, true).contains('\u{1b}'));
        let r = Requirements {
            nick: true,
            secret: true,
            name: Some("Demo".into()),
            ..Default::default()
        };
        let text = describe_requirements("demo@legacy.localhost", &r);
        assert!(text.contains("secret needed: yes"));
        assert!(text.contains("privacy offered: no"));
    }
}
