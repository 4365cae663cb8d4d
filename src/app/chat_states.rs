//! Our chat states (XEP-0085): `composing` when the user starts typing in
//! a window, `active` when the draft is cleared or another window is
//! chosen, and `<active/>` with each message, each at most once per change.
//! Never in rooms with more occupants than the limit, never while offline,
//! and not at all unless the TUI turned them on (`--batch` sends none).

use std::collections::HashMap;

use jid::{BareJid, Jid};

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
}

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
            .filter(|(w, s)| **s == ChatState::Composing && Some(*w) != window)
            .map(|(w, _)| w.clone())
            .collect();
        for w in left {
            self.send_chat_state(&w, ChatState::Active);
        }
        let Some(window) = window else { return };
        let last = self.chat_states.sent.get(window).copied();
        if composing && last != Some(ChatState::Composing) {
            self.send_chat_state(window, ChatState::Composing);
        } else if !composing && last == Some(ChatState::Composing) {
            self.send_chat_state(window, ChatState::Active);
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
