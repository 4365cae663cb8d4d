//! "typing…" (XEP-0085) in the TUI: what the status line says of the
//! current window's typists, and our own state from the input line.

use chrono::{DateTime, Utc};
use jid::BareJid;

use super::sanitize_name;
use super::state::UiState;
use crate::app::App;
use crate::store::{ChatState, Store};

/// A typist not heard from for this long is no longer shown (a client
/// that went away without `active`).
const STALE_SECS: i64 = 120;
/// Names listed before "and N more".
const NAMES: usize = 3;

/// What the status line says of who is typing in `window`, if anyone.
pub fn line(store: &Store, window: &BareJid, now: DateTime<Utc>) -> Option<String> {
    let fresh = |s: ChatState| {
        store
            .typing
            .of(window)
            .iter()
            .filter(move |t| t.state == s && (now - t.since).num_seconds() < STALE_SECS)
            .map(|t| sanitize_name(short(&t.who)).into_owned())
            .collect::<Vec<_>>()
    };
    let composing = fresh(ChatState::Composing);
    let paused = fresh(ChatState::Paused);
    let mut parts = Vec::new();
    if !composing.is_empty() {
        let verb = if composing.len() == 1 { "is" } else { "are" };
        parts.push(format!("{} {verb} typing…", names(&composing)));
    }
    if !paused.is_empty() {
        parts.push(format!("{} paused", names(&paused)));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A conversation's typist is a bare JID: its local part is enough.
fn short(who: &str) -> &str {
    who.split_once('@').map_or(who, |(local, _)| local)
}

fn names(list: &[String]) -> String {
    match list {
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        _ if list.len() <= NAMES => {
            let (last, rest) = list.split_last().expect("several");
            format!("{} and {last}", rest.join(", "))
        }
        _ => format!(
            "{} and {} more",
            list[..NAMES].join(", "),
            list.len() - NAMES
        ),
    }
}

/// After a key or a paste: our chat state follows the draft (a command
/// being typed is not composing a message).
pub fn after_input(app: &mut App, ui: &UiState) {
    if !ui.settings.chat_states {
        return;
    }
    let text = ui.editor.text();
    let command = text.starts_with('/') && !text.starts_with("//");
    let composing = !command && !text.trim().is_empty();
    app.typing_in(ui.current.as_ref(), composing);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Input;
    use confab_proto::Incoming;
    use confab_proto::chat_states::ChatStateNotice;

    #[test]
    fn the_line_names_typists_and_forgets_stale_ones() {
        let mut store = Store::new();
        let room = BareJid::new("r@c").unwrap();
        let now = Utc::now();
        store.apply(
            Input::Joining {
                room: room.clone(),
                nick: "me".into(),
                protocol: crate::store::Protocol::Muc,
            },
            now,
        );
        use confab_proto::fixtures::occupant_in;
        for n in ["bob", "carol", "dave", "eve", "fred"] {
            store.apply(Input::Incoming(occupant_in(&room, n).incoming()), now);
        }
        store.apply(
            Input::Incoming(occupant_in(&room, "me").codes(&[110]).incoming()),
            now,
        );
        let notice = |nick: &str, state| {
            Input::Incoming(Incoming::ChatState(ChatStateNotice {
                from: jid::Jid::new(&format!("r@c/{nick}")).unwrap(),
                room: Some(room.clone()),
                state,
            }))
        };
        assert_eq!(line(&store, &room, now), None);
        store.apply(notice("bob", ChatState::Composing), now);
        assert_eq!(line(&store, &room, now).unwrap(), "bob is typing…");
        store.apply(notice("carol", ChatState::Composing), now);
        assert_eq!(
            line(&store, &room, now).unwrap(),
            "bob and carol are typing…"
        );
        for n in ["dave", "eve", "fred"] {
            store.apply(notice(n, ChatState::Composing), now);
        }
        store.apply(notice("bob", ChatState::Paused), now);
        let l = line(&store, &room, now).unwrap();
        assert!(l.ends_with("and 1 more are typing…; bob paused"), "{l}");
        // Two minutes later nobody is shown.
        assert_eq!(
            line(&store, &room, now + chrono::Duration::seconds(121)),
            None
        );
    }
}
