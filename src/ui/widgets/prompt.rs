//! One-line prompts and notices: `alice invites you to room@conf: Enter to
//! accept, Esc to decline`. A [`PromptQueue`] keeps the ones waiting their
//! turn.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::Widget;

use super::{PromptOutcome, is_release, truncate, width};
use crate::ui::sanitize;

/// What the keys of a prompt stand for, unless the caller picks its own
/// type: e.g. the command line to run (`/join room@conf`), or an id.
pub type PromptChoice = String;

/// A key of a prompt and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptOption<C = PromptChoice> {
    /// `KeyCode::Char` matches either case.
    pub key: KeyCode,
    pub label: String,
    pub choice: C,
}

/// A question on one line, answered by one key:
/// `PromptOutcome::Chosen(choice)` for a key of an option, `Ignored` for
/// other keys. Without options it is a notice that any key dismisses
/// (`PromptOutcome::Dismissed`).
///
/// The text may contain network text (nicks, room names, reasons): it is
/// sanitised when drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt<C = PromptChoice> {
    text: String,
    options: Vec<PromptOption<C>>,
}

impl<C: Clone> Prompt<C> {
    /// A prompt; add its keys with [`option`](Self::option).
    pub fn new(text: impl Into<String>) -> Self {
        Prompt {
            text: text.into(),
            options: Vec::new(),
        }
    }

    /// A notice: no options, any key dismisses it.
    pub fn notice(text: impl Into<String>) -> Self {
        Prompt::new(text)
    }

    /// Adds a key: shown as `KEY to LABEL`.
    pub fn option(mut self, key: KeyCode, label: impl Into<String>, choice: C) -> Self {
        self.options.push(PromptOption {
            key,
            label: label.into(),
            choice,
        });
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn options(&self) -> &[PromptOption<C>] {
        &self.options
    }

    pub fn is_notice(&self) -> bool {
        self.options.is_empty()
    }

    /// The choice of `key`, if it is one of the prompt's keys.
    pub fn choose(&self, key: &KeyEvent) -> Option<C> {
        match self.handle_key(*key) {
            PromptOutcome::Chosen(c) => Some(c),
            _ => None,
        }
    }

    pub fn handle_key(&self, key: KeyEvent) -> PromptOutcome<C> {
        if is_release(&key) || matches!(key.code, KeyCode::Modifier(_)) {
            return PromptOutcome::Ignored;
        }
        if self.is_notice() {
            return PromptOutcome::Dismissed;
        }
        // Shift is part of the character; Ctrl/Alt make another key.
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SUPER)
        {
            return PromptOutcome::Ignored;
        }
        let hit = self.options.iter().find(|o| match (o.key, key.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) => a.to_lowercase().eq(b.to_lowercase()),
            (a, b) => a == b,
        });
        match hit {
            Some(o) => PromptOutcome::Chosen(o.choice.clone()),
            None => PromptOutcome::Ignored,
        }
    }

    /// `: Enter to accept, Esc to decline`, or ` [any key]` for a notice.
    fn hints(&self) -> String {
        if self.options.is_empty() {
            return " [any key]".into();
        }
        let keys: Vec<String> = self
            .options
            .iter()
            .map(|o| format!("{} to {}", o.key, sanitize(&o.label, false)))
            .collect();
        format!(": {}", keys.join(", "))
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        self.render_with(area, buf, "");
    }

    /// Draws on the first line of `area`: the text, the keys, `more`; when
    /// it is too long, the text is cut first (with `…`), then the rest.
    fn render_with(&self, area: Rect, buf: &mut Buffer, more: &str) {
        if area.height == 0 || area.width == 0 {
            return;
        }
        let w = usize::from(area.width);
        let text = sanitize(&self.text, false);
        let tail = format!("{}{more}", self.hints());
        let tail_w = width(&tail);
        // The text keeps at least this much before the keys are cut.
        const MIN_TEXT: usize = 12;
        let (text, tail) = if width(&text) + tail_w <= w {
            (text.into_owned(), tail)
        } else if w >= tail_w + MIN_TEXT {
            (truncate(&text, w - tail_w).into_owned(), tail)
        } else {
            (
                truncate(&format!("{text}{tail}"), w).into_owned(),
                String::new(),
            )
        };
        let line = Rect { height: 1, ..area };
        buf.set_style(line, Style::new().add_modifier(Modifier::REVERSED));
        let (x, _) = buf.set_stringn(area.x, area.y, &text, w, Style::new());
        let bold = Style::new().add_modifier(Modifier::BOLD);
        buf.set_stringn(x, area.y, &tail, usize::from(area.right() - x), bold);
    }
}

impl<C: Clone> Widget for &Prompt<C> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        Prompt::render(self, area, buf);
    }
}

/// Prompts waiting at most (invitations, voice requests and notices come
/// from the network): past it the oldest waiting one (not the one shown)
/// is dropped.
pub const MAX_PROMPTS: usize = 64;

/// Prompts waiting their turn: the first is shown and answered, then the
/// next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptQueue<C = PromptChoice> {
    items: VecDeque<Prompt<C>>,
}

impl<C> Default for PromptQueue<C> {
    fn default() -> Self {
        PromptQueue {
            items: VecDeque::new(),
        }
    }
}

impl<C: Clone> PromptQueue<C> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a prompt after the others.
    pub fn push(&mut self, prompt: Prompt<C>) {
        self.items.push_back(prompt);
        if self.items.len() > MAX_PROMPTS {
            self.items.remove(1);
        }
    }

    /// The prompt shown now.
    pub fn current(&self) -> Option<&Prompt<C>> {
        self.items.front()
    }

    pub fn current_mut(&mut self) -> Option<&mut Prompt<C>> {
        self.items.front_mut()
    }

    /// Removes the prompt shown now (the next one shows).
    pub fn pop(&mut self) -> Option<Prompt<C>> {
        self.items.pop_front()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether this prompt is queued (shown now or waiting).
    pub fn contains(&self, prompt: &Prompt<C>) -> bool
    where
        C: PartialEq,
    {
        self.items.contains(prompt)
    }

    /// Keeps only the prompts `keep` approves (e.g. drop an invitation to a
    /// room that was joined meanwhile).
    pub fn retain(&mut self, keep: impl FnMut(&Prompt<C>) -> bool) {
        self.items.retain(keep);
    }

    /// The key goes to the current prompt; once it is answered (`Chosen`)
    /// or dismissed (`Dismissed`) it leaves the queue. `Ignored` when
    /// empty.
    pub fn handle_key(&mut self, key: KeyEvent) -> PromptOutcome<C> {
        let Some(current) = self.items.front() else {
            return PromptOutcome::Ignored;
        };
        let outcome = current.handle_key(key);
        if matches!(outcome, PromptOutcome::Chosen(_) | PromptOutcome::Dismissed) {
            self.items.pop_front();
        }
        outcome
    }

    /// The current prompt, with ` (+N more)` when others wait.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        if let Some(current) = self.items.front() {
            let more = match self.items.len() {
                1 => String::new(),
                n => format!(" (+{} more)", n - 1),
            };
            current.render_with(area, buf, &more);
        }
    }
}

impl<C: Clone> Widget for &PromptQueue<C> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        PromptQueue::render(self, area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::widgets::testing::{HOSTILE, ctrl, key, render, shift};
    use insta::assert_snapshot;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Answer {
        Accept(String),
        Decline(String),
        Later,
    }

    fn invite(from: &str, room: &str) -> Prompt<Answer> {
        Prompt::new(format!("{from} invites you to {room}"))
            .option(KeyCode::Enter, "accept", Answer::Accept(room.into()))
            .option(KeyCode::Esc, "decline", Answer::Decline(room.into()))
            .option(KeyCode::Char('l'), "decide later", Answer::Later)
    }

    #[test]
    fn keys_choose() {
        let p = invite("alice", "room@conf");
        assert_eq!(
            p.handle_key(key(KeyCode::Enter)),
            PromptOutcome::Chosen(Answer::Accept("room@conf".into()))
        );
        assert_eq!(
            p.handle_key(key(KeyCode::Esc)),
            PromptOutcome::Chosen(Answer::Decline("room@conf".into()))
        );
        assert_eq!(
            p.handle_key(key(KeyCode::Char('l'))),
            PromptOutcome::Chosen(Answer::Later)
        );
        assert_eq!(
            p.handle_key(shift(KeyCode::Char('L'))),
            PromptOutcome::Chosen(Answer::Later)
        );
        assert_eq!(p.handle_key(ctrl('l')), PromptOutcome::Ignored);
        assert_eq!(
            p.handle_key(key(KeyCode::Char('x'))),
            PromptOutcome::Ignored
        );
        assert_eq!(p.handle_key(key(KeyCode::Tab)), PromptOutcome::Ignored);
        let mut release = key(KeyCode::Enter);
        release.kind = crossterm::event::KeyEventKind::Release;
        assert_eq!(p.handle_key(release), PromptOutcome::Ignored);
        assert!(!p.is_notice());
        assert_eq!(p.options().len(), 3);
    }

    #[test]
    fn any_key_dismisses_a_notice() {
        let n: Prompt<Answer> = Prompt::notice("you were kicked from room@conf");
        assert!(n.is_notice());
        assert_eq!(
            n.handle_key(key(KeyCode::Char('q'))),
            PromptOutcome::Dismissed
        );
        assert_eq!(n.handle_key(ctrl('c')), PromptOutcome::Dismissed);
        assert_eq!(n.handle_key(key(KeyCode::Esc)), PromptOutcome::Dismissed);
        assert_eq!(
            n.handle_key(key(KeyCode::Modifier(
                crossterm::event::ModifierKeyCode::LeftShift
            ))),
            PromptOutcome::Ignored
        );
    }

    #[test]
    fn the_queue_is_bounded_and_keeps_the_prompt_shown() {
        let mut q = PromptQueue::new();
        for i in 0..MAX_PROMPTS + 5 {
            q.push(invite(&format!("u{i}"), "a@conf"));
        }
        assert_eq!(q.len(), MAX_PROMPTS);
        assert_eq!(q.current().unwrap().text(), "u0 invites you to a@conf");
        q.pop();
        assert_eq!(q.current().unwrap().text(), "u6 invites you to a@conf");
    }

    #[test]
    fn queue_takes_turns() {
        let mut q = PromptQueue::new();
        assert_eq!(q.handle_key(key(KeyCode::Enter)), PromptOutcome::Ignored);
        q.push(invite("alice", "a@conf"));
        q.push(Prompt::notice("bob left"));
        q.push(invite("carol", "c@conf"));
        assert_eq!(q.len(), 3);
        assert_eq!(q.current().unwrap().text(), "alice invites you to a@conf");
        // Not an answer: it stays.
        assert_eq!(
            q.handle_key(key(KeyCode::Char('z'))),
            PromptOutcome::Ignored
        );
        assert_eq!(q.len(), 3);
        assert_eq!(
            q.handle_key(key(KeyCode::Esc)),
            PromptOutcome::Chosen(Answer::Decline("a@conf".into()))
        );
        assert_eq!(q.current().unwrap().text(), "bob left");
        assert_eq!(
            q.handle_key(key(KeyCode::Char('z'))),
            PromptOutcome::Dismissed
        );
        assert_eq!(
            q.handle_key(key(KeyCode::Enter)),
            PromptOutcome::Chosen(Answer::Accept("c@conf".into()))
        );
        assert!(q.is_empty());
        assert_eq!(q.current(), None);
        // pop and retain.
        q.push(invite("alice", "a@conf"));
        q.push(invite("dave", "d@conf"));
        q.push(invite("erin", "e@conf"));
        q.retain(|p| !p.text().starts_with("dave"));
        assert_eq!(q.pop().unwrap().text(), "alice invites you to a@conf");
        assert_eq!(q.current().unwrap().text(), "erin invites you to e@conf");
    }

    fn draw(w: u16, draw: impl FnOnce(Rect, &mut Buffer)) -> String {
        render(w, 1, draw).to_string()
    }

    #[test]
    fn long_text_is_cut_before_the_keys() {
        let p = invite(
            "alice",
            "a-room-with-a-very-long-name@conference.example.org",
        );
        let wide = draw(200, |a, b| p.render(a, b));
        assert!(wide.contains(
            "alice invites you to a-room-with-a-very-long-name@conference.example.org: Enter to accept, Esc to decline, l to decide later"
        ), "{wide}");
        let narrow = draw(80, |a, b| p.render(a, b));
        assert_eq!(
            narrow.trim_end(),
            "\"alice invites you to a-room…: Enter to accept, Esc to decline, l to decide later\""
        );
        // Too narrow for the keys: everything is cut.
        let tiny = draw(30, |a, b| p.render(a, b));
        assert_eq!(tiny.trim_end(), "\"alice invites you to a-room-w…\"");
    }

    #[test]
    fn snapshot_prompts() {
        let mut q = PromptQueue::new();
        q.push(invite("alice", "room@conference.example.org"));
        q.push(Prompt::notice("carol left"));
        let first = draw(100, |a, b| q.render(a, b));
        q.handle_key(key(KeyCode::Char('l')));
        let notice = draw(100, |a, b| Widget::render(&q, a, b));
        let narrow = draw(40, |a, b| {
            invite("alice", "room@conference.example.org").render(a, b)
        });
        let hostile = invite(&format!("mallory{HOSTILE}"), &format!("{HOSTILE}@conf")).option(
            KeyCode::F(2),
            format!("label{HOSTILE}"),
            Answer::Later,
        );
        let hostile = draw(160, |a, b| hostile.render(a, b));
        assert_snapshot!(format!("{first}{notice}{narrow}{hostile}"));
    }
}
