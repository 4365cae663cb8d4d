//! Reusable TUI pieces that features fill with their data: a scrollable,
//! filterable [`TableView`] (room lists, ban lists, …), a [`FormEditor`]
//! for XEP-0004 data forms (room configuration, ad-hoc commands) and a
//! one-line [`Prompt`] with its [`PromptQueue`] (invitations, notices).
//!
//! Each widget is plain state: `handle_key` turns a key into an outcome
//! ([`TableOutcome`], [`FormOutcome`], [`PromptOutcome`]: `Ignored` when
//! the key is not the widget's, so the caller may use it), `render` draws
//! into a buffer (also as `Widget for &T`).
//! No I/O, no async. Everything that may have come from the network is
//! passed through [`sanitize`](crate::ui::sanitize) before it is drawn.

mod form;
mod prompt;
mod table;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, Ordering};

use crossterm::event::{KeyEvent, KeyEventKind, KeyModifiers};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;
use xmpp_parsers::data_forms::DataForm;

pub use form::FormEditor;
pub use prompt::{Prompt, PromptChoice, PromptOption, PromptQueue};
pub use table::{Column, TableView, Width};

/// What a key did to a [`TableView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOutcome {
    /// Not a key of the table: the caller may use it.
    Ignored,
    /// Used (the selection or the filter may have changed): redraw.
    Handled,
    /// Enter: the selected row, as an index into the unfiltered rows.
    Activate(usize),
    /// Esc: close the table.
    Close,
}

/// What a key did to a [`FormEditor`].
#[derive(Debug, Clone, PartialEq)]
pub enum FormOutcome {
    /// Not a key of the form: the caller may use it.
    Ignored,
    /// Used (a value or the focus may have changed, or a submission was
    /// refused and the error is shown): redraw.
    Handled,
    /// Ctrl-S or F10 with every required field filled: the `submit` form.
    Submit(DataForm),
    /// Esc: the user gave up; close the form (and send a `cancel` form
    /// where the protocol wants one, e.g. ad-hoc commands).
    Cancel,
}

/// What a key did to a [`Prompt`] (or the current one of a
/// [`PromptQueue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptOutcome<C> {
    /// Not one of the prompt's keys: the caller may use it.
    Ignored,
    /// One of the prompt's keys: its choice.
    Chosen(C),
    /// Any key on a notice.
    Dismissed,
}

/// The size a widget was last drawn at: `render(&self)` sets it,
/// `handle_key` reads it to page and scroll. Atomic, so the widgets stay
/// `Send + Sync`.
#[derive(Debug)]
struct Viewport(AtomicU32);

impl Viewport {
    fn new(width: u16, height: u16) -> Self {
        Viewport(AtomicU32::new(u32::from(width) << 16 | u32::from(height)))
    }

    fn get(&self) -> (u16, u16) {
        let v = self.0.load(Ordering::Relaxed);
        ((v >> 16) as u16, v as u16)
    }

    fn set(&self, width: u16, height: u16) {
        self.0.store(
            u32::from(width) << 16 | u32::from(height),
            Ordering::Relaxed,
        );
    }
}

impl Clone for Viewport {
    fn clone(&self) -> Self {
        let (w, h) = self.get();
        Viewport::new(w, h)
    }
}

/// Key releases (reported by terminals with the kitty protocol) are not
/// key presses.
fn is_release(key: &KeyEvent) -> bool {
    key.kind == KeyEventKind::Release
}

/// A key that types a character: no Ctrl or Alt (Shift is fine).
fn typed_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        crossterm::event::KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

/// The first row to show so that `selected` is among the `page` rows shown,
/// moving as little as possible from `offset`, and not leaving rows unused
/// at the bottom.
fn visible_offset(offset: usize, selected: usize, len: usize, page: usize) -> usize {
    let page = page.max(1);
    let offset = if selected < offset {
        selected
    } else if selected >= offset + page {
        selected + 1 - page
    } else {
        offset
    };
    offset.min(len.saturating_sub(page))
}

/// Display width of `s` in terminal columns, grapheme by grapheme (as the
/// buffer counts them).
fn width(s: &str) -> usize {
    s.graphemes(true).map(UnicodeWidthStr::width).sum()
}

/// `s` cut to at most `max` columns; a cut is marked with `…`.
fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = g.width();
        if used + w > max - 1 {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push('…');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyCode;

    #[test]
    fn truncate_by_display_width() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello", 4), "hel…");
        assert_eq!(truncate("hello", 1), "…");
        assert_eq!(truncate("hello", 0), "");
        // Wide characters count twice and are never cut in half.
        assert_eq!(truncate("日本語です", 6), "日本…");
        assert_eq!(truncate("日本語です", 5), "日本…");
        // A combining accent stays with its letter.
        assert_eq!(
            truncate("e\u{301}e\u{301}e\u{301}", 3),
            "e\u{301}e\u{301}e\u{301}"
        );
        assert_eq!(truncate("e\u{301}e\u{301}e\u{301}", 2), "e\u{301}…");
    }

    #[test]
    fn typed_chars_exclude_ctrl_and_alt() {
        let k = |code, m| KeyEvent::new(code, m);
        assert_eq!(
            typed_char(&k(KeyCode::Char('a'), KeyModifiers::NONE)),
            Some('a')
        );
        assert_eq!(
            typed_char(&k(KeyCode::Char('A'), KeyModifiers::SHIFT)),
            Some('A')
        );
        assert_eq!(
            typed_char(&k(KeyCode::Char('a'), KeyModifiers::CONTROL)),
            None
        );
        assert_eq!(typed_char(&k(KeyCode::Char('a'), KeyModifiers::ALT)), None);
        assert_eq!(typed_char(&k(KeyCode::Enter, KeyModifiers::NONE)), None);
    }
}

/// Shared helpers for the widget tests: keys and rendering on a
/// `TestBackend`.
#[cfg(test)]
pub(crate) mod testing {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    pub fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    pub fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    pub fn shift(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::SHIFT)
    }

    /// Draws with `draw` on a `width`×`height` `TestBackend`; the backend
    /// prints as one quoted line per row (the insta recipe of ratatui).
    pub fn render(width: u16, height: u16, draw: impl FnOnce(Rect, &mut Buffer)) -> TestBackend {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| {
                let area = f.area();
                draw(area, f.buffer_mut())
            })
            .unwrap();
        let backend = terminal.backend().clone();
        assert_terminal_safe(backend.buffer());
        backend
    }

    /// No cell holds a control character or a bidi override: what came
    /// from the network was escaped.
    pub fn assert_terminal_safe(buf: &Buffer) {
        for cell in &buf.content {
            assert!(
                !cell.symbol().chars().any(|c| c.is_control()
                    || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')),
                "unsafe cell {:?}",
                cell.symbol()
            );
        }
    }

    /// Hostile strings from the network: a colour escape, a title-setting
    /// OSC, a bidi override, C1 controls.
    pub const HOSTILE: &str = "\u{1b}[31mred\u{1b}]0;pwn\u{7}\u{202E}evil\u{9b}2J";
}
