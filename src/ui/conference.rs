//! The TUI side of generic conferencing: `/browse`, `/whois` and the
//! conference `/info` as text, and a room that wants a secret (or a MUC
//! password) puts `/join ROOM ` on an empty input line to type it after.

use super::sanitize::sanitize;
use super::state::{Overlay, UiState};
use crate::store::Event;

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
            ..
        } if condition == "not-authorized"
            && (command.starts_with("/join ") || command.starts_with("/j "))
            && ui.editor.is_empty() =>
        {
            // The secret goes after the room.
            ui.editor.set(format!("/join {room} "));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::conference::{Browse, BrowseItem, Requirements};

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
