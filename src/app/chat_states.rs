//! Our chat states (XEP-0085): `composing` when the user starts typing in
//! a window, `paused` when the typing stops for [`PAUSED_AFTER`] (and
//! `composing` again at the next key), `active` when the draft is cleared
//! or another window is chosen, and `<active/>` with each message, each
//! at most once per change.
//! Never in rooms with more occupants than the limit, never while offline,
//! and not at all unless the TUI turned them on (`--batch` sends none).

use std::collections::HashMap;
use std::time::Duration;

use jid::{BareJid, Jid};
use tokio::time::Instant;

use crate::protocol::chat_states::{self, ChatState};
use crate::session::SessionCmd;
use crate::store::{Connection, JoinState, Window};

use super::App;

/// What the app sends of our chat states.
#[derive(Debug, Default)]
pub(super) struct ChatStates {
    /// `Some(limit)`: on, never to rooms with more occupants than `limit`.
    limit: Option<usize>,
    /// The last state sent to each window.
    sent: HashMap<BareJid, ChatState>,
    /// The window typed in last while composing, and when.
    last_key: Option<(BareJid, Instant)>,
}

/// How long after the last key a draft counts as paused (XEP-0085 §5.2:
/// "a short period of time (e.g., 30 seconds)").
pub const PAUSED_AFTER: Duration = Duration::from_secs(30);

impl App {
    /// Turns our chat states on (`Some(max occupants)`) or off.
    pub fn set_chat_states(&mut self, limit: Option<usize>) {
        self.chat_states.limit = limit;
        self.chat_states.sent.clear();
    }

    /// Whether our chat states go to `window`: on, online, a joined room
    /// within the limit or a conversation.
    pub fn chat_states_to(&self, window: &BareJid) -> bool {
        let Some(limit) = self.chat_states.limit else {
            return false;
        };
        if self.store.connection != Connection::Online {
            return false;
        }
        match self.store.window(window) {
            Some(Window::Room(r)) => r.state == JoinState::Joined && r.occupants.len() <= limit,
            Some(Window::Chat(..)) => true,
            None => false,
        }
    }

    /// The user's draft in `window` (the one shown, if any) is now
    /// non-empty (`composing`) or empty. Sends what changed: `active` to
    /// a window left while composing, `composing` or `active` here.
    pub fn typing_in(&mut self, window: Option<&BareJid>, composing: bool) {
        let left: Vec<BareJid> = self
            .chat_states
            .sent
            .iter()
            .filter(|(w, s)| {
                matches!(s, ChatState::Composing | ChatState::Paused) && Some(*w) != window
            })
            .map(|(w, _)| w.clone())
            .collect();
        for w in left {
            self.send_chat_state(&w, ChatState::Active);
        }
        self.chat_states.last_key = None;
        let Some(window) = window else { return };
        let last = self.chat_states.sent.get(window).copied();
        let typing = matches!(last, Some(ChatState::Composing | ChatState::Paused));
        if composing && last != Some(ChatState::Composing) {
            self.send_chat_state(window, ChatState::Composing);
        } else if !composing && typing {
            self.send_chat_state(window, ChatState::Active);
        }
        if composing && self.chat_states.sent.get(window) == Some(&ChatState::Composing) {
            self.chat_states.last_key = Some((window.clone(), Instant::now()));
        }
    }

    /// When a draft being composed counts as paused.
    pub(super) fn chat_state_deadline(&self) -> Option<Instant> {
        self.chat_states
            .last_key
            .as_ref()
            .map(|(_, t)| *t + PAUSED_AFTER)
    }

    /// `paused` to the window typed in last, if its time has come.
    pub(super) fn chat_state_due(&mut self, now: Instant) {
        let Some((window, at)) = self.chat_states.last_key.clone() else {
            return;
        };
        if now < at + PAUSED_AFTER {
            return;
        }
        self.chat_states.last_key = None;
        if self.chat_states.sent.get(&window) == Some(&ChatState::Composing) {
            self.send_chat_state(&window, ChatState::Paused);
        }
    }

    /// A message to `window` carries `<active/>` (and counts as sent).
    pub(super) fn with_chat_state(
        &mut self,
        window: &BareJid,
        mut message: xmpp_parsers::message::Message,
    ) -> xmpp_parsers::message::Message {
        if self.chat_states_to(window) {
            message.payloads.push(ChatState::Active.element());
            self.chat_states
                .sent
                .insert(window.clone(), ChatState::Active);
        }
        message
    }

    fn send_chat_state(&mut self, window: &BareJid, state: ChatState) {
        // Forgotten either way: a window we may not send to starts afresh.
        self.chat_states.sent.remove(window);
        if !self.chat_states_to(window) {
            return;
        }
        let groupchat = matches!(self.store.window(window), Some(Window::Room(_)));
        let id = self.message_id();
        let message = chat_states::notice(Jid::from(window.clone()), groupchat, state, &id);
        let tag = self.tag();
        self.session.send(SessionCmd::Message {
            message: Box::new(message),
            room: None,
            tag,
        });
        self.chat_states.sent.insert(window.clone(), state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;

    fn states(rx: &mut tokio::sync::mpsc::UnboundedReceiver<SessionCmd>) -> Vec<ChatState> {
        let mut out = Vec::new();
        while let Ok(cmd) = rx.try_recv() {
            if let SessionCmd::Message { message, .. } = cmd {
                out.extend(chat_states::of(&message));
            }
        }
        out
    }

    #[test]
    fn a_pause_in_typing_is_paused_and_the_next_key_composing() {
        let (mut app, mut rx) = crate::app::fixtures::online("alice@localhost/a");
        let bob = BareJid::new("bob@localhost").unwrap();
        app.execute(
            Command::OpenChat {
                jid: bob.clone().into(),
            },
            "/msg bob@localhost",
        );
        app.set_chat_states(Some(30));
        states(&mut rx);
        let before = Instant::now();
        app.typing_in(Some(&bob), true);
        assert_eq!(states(&mut rx), [ChatState::Composing]);
        // The next key moves the pause back and sends nothing.
        app.typing_in(Some(&bob), true);
        assert_eq!(states(&mut rx), []);
        let due = app.next_deadline().expect("the pause is due");
        assert!(due >= before + PAUSED_AFTER, "{due:?}");
        app.chat_state_due(due - Duration::from_millis(1));
        assert_eq!(states(&mut rx), []);
        app.chat_state_due(due);
        assert_eq!(states(&mut rx), [ChatState::Paused]);
        assert_eq!(app.next_deadline(), None, "nothing more to wait for");
        // Typing again, then clearing the draft.
        app.typing_in(Some(&bob), true);
        app.typing_in(Some(&bob), false);
        assert_eq!(states(&mut rx), [ChatState::Composing, ChatState::Active]);
        assert_eq!(app.next_deadline(), None);
    }
}
