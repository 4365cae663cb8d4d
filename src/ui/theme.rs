//! Colours and styles of the TUI, overridable in the config (`[theme]`).

use ratatui::style::{Color, Modifier, Style};

/// Every style the views use, in one place.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub timestamp: Style,
    /// Nicks when `nick_colors` is off, and our own nick.
    pub nick: Style,
    pub own_nick: Style,
    /// Colour nicks by XEP-0392 (consistent colour generation).
    pub nick_colors: bool,
    /// Messages that mention our nick.
    pub highlight: Style,
    /// `/me` actions.
    pub action: Style,
    /// Join/leave/nick/subject lines.
    pub event: Style,
    /// The day separator line.
    pub day_separator: Style,
    /// The "new messages" marker line.
    pub unread_marker: Style,
    pub title: Style,
    pub status_bar: Style,
    pub border: Style,
    /// The current room in the room list, the selected row of tables.
    pub selected: Style,
    /// Unread / highlight counters in the room list.
    pub unread: Style,
    pub mention: Style,
    pub error: Style,
    /// XEP-0393 quotes (`> text`).
    pub quote: Style,
    /// XEP-0393 preformatted spans and blocks.
    pub code: Style,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            timestamp: Style::default().fg(Color::DarkGray),
            nick: Style::default().add_modifier(Modifier::BOLD),
            own_nick: Style::default()
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
            nick_colors: true,
            highlight: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            action: Style::default().add_modifier(Modifier::ITALIC),
            event: Style::default().fg(Color::DarkGray),
            day_separator: Style::default().fg(Color::Cyan),
            unread_marker: Style::default().fg(Color::Red),
            title: Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            status_bar: Style::default().add_modifier(Modifier::REVERSED),
            border: Style::default().fg(Color::DarkGray),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            unread: Style::default().fg(Color::Cyan),
            mention: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            error: Style::default().fg(Color::Red),
            quote: Style::default().fg(Color::Green),
            code: Style::default().fg(Color::Magenta),
        }
    }
}
