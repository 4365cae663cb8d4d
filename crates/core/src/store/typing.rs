//! Who is typing (XEP-0085), per window: in a room by nick, in a
//! conversation by the contact's bare JID. Bounded: a room full of
//! typists keeps the newest few, and only windows we have hold any.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jid::BareJid;

pub use confab_proto::chat_states::ChatState;

/// Typists kept per window (the oldest goes first).
pub const MAX_PER_WINDOW: usize = 16;

/// Someone composing or paused in a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typist {
    /// A nick in a room, a bare JID in a conversation.
    pub who: String,
    /// `Composing` or `Paused` (the others remove the typist).
    pub state: ChatState,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct Typing {
    windows: HashMap<BareJid, Vec<Typist>>,
}

impl Typing {
    /// `who` is now in `state` in `window`; whether that changes what is
    /// shown.
    pub fn set(
        &mut self,
        window: &BareJid,
        who: &str,
        state: ChatState,
        now: DateTime<Utc>,
    ) -> bool {
        let shown = matches!(state, ChatState::Composing | ChatState::Paused);
        if !shown {
            return self.clear(window, who);
        }
        let list = self.windows.entry(window.clone()).or_default();
        if let Some(t) = list.iter_mut().find(|t| t.who == who) {
            let changed = t.state != state;
            t.state = state;
            t.since = now;
            return changed;
        }
        if list.len() >= MAX_PER_WINDOW {
            list.remove(0);
        }
        list.push(Typist {
            who: who.to_string(),
            state,
            since: now,
        });
        true
    }

    /// `who` stopped (a message from them, their leaving); whether they
    /// were shown.
    pub fn clear(&mut self, window: &BareJid, who: &str) -> bool {
        let Some(list) = self.windows.get_mut(window) else {
            return false;
        };
        let before = list.len();
        list.retain(|t| t.who != who);
        let changed = list.len() != before;
        if list.is_empty() {
            self.windows.remove(window);
        }
        changed
    }

    /// Nobody's state is known any more (offline, the window left).
    pub fn clear_window(&mut self, window: &BareJid) {
        self.windows.remove(window);
    }

    pub fn clear_all(&mut self) {
        self.windows.clear();
    }

    /// The typists of a window, oldest first.
    pub fn of(&self, window: &BareJid) -> &[Typist] {
        self.windows.get(window).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_replace_and_clear() {
        let mut t = Typing::default();
        let w = BareJid::new("r@c").unwrap();
        let now = Utc::now();
        assert!(t.set(&w, "bob", ChatState::Composing, now));
        // The same state again changes nothing shown.
        assert!(!t.set(&w, "bob", ChatState::Composing, now));
        assert!(t.set(&w, "bob", ChatState::Paused, now));
        assert_eq!(t.of(&w)[0].state, ChatState::Paused);
        assert!(t.set(&w, "bob", ChatState::Active, now));
        assert!(t.of(&w).is_empty());
        assert!(!t.set(&w, "bob", ChatState::Gone, now));
        assert!(t.set(&w, "carol", ChatState::Composing, now));
        assert!(t.clear(&w, "carol"));
        assert!(!t.clear(&w, "carol"));
    }

    #[test]
    fn a_flood_of_typists_is_bounded() {
        let mut t = Typing::default();
        let w = BareJid::new("r@c").unwrap();
        for i in 0..1000 {
            t.set(&w, &format!("n{i}"), ChatState::Composing, Utc::now());
        }
        let list = t.of(&w);
        assert_eq!(list.len(), MAX_PER_WINDOW);
        assert_eq!(list.last().unwrap().who, "n999");
    }
}
