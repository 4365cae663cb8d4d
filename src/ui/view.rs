//! Rendering: reads the store and the UI state, draws what is visible.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{UiState, sanitize};
use crate::store::{Connection, JoinState, Store};

pub fn render(store: &Store, ui: &UiState, f: &mut Frame) {
    let [main, status, input] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(f.area());
    let narrow = main.width < 60;
    let [rooms, messages, people] = if narrow {
        Layout::horizontal([
            Constraint::Length(0),
            Constraint::Min(10),
            Constraint::Length(0),
        ])
        .areas(main)
    } else {
        Layout::horizontal([
            Constraint::Length(18),
            Constraint::Min(20),
            Constraint::Length(20),
        ])
        .areas(main)
    };
    let current = store.rooms().nth(ui.current);

    // Room list.
    let lines: Vec<Line> = store
        .rooms()
        .enumerate()
        .map(|(i, r)| {
            let mark = match r.state {
                JoinState::Joined => " ",
                JoinState::Left => "x",
                _ => "…",
            };
            let name = format!(
                "{mark}{}",
                sanitize(r.jid.node().map(|n| n.as_str()).unwrap_or(""), false)
            );
            let style = if i == ui.current {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            };
            Line::styled(name, style)
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::RIGHT).title("rooms")),
        rooms,
    );

    // Messages (or help).
    let title = match current {
        Some(r) => format!(
            "{} {}",
            sanitize(r.jid.as_str(), false),
            r.subject
                .as_deref()
                .map(|s| sanitize(s, false).into_owned())
                .unwrap_or_default()
        ),
        None => "confab — /join ROOM to start, F1 for help".to_string(),
    };
    if let Some(help) = &ui.help {
        f.render_widget(
            Paragraph::new(help.as_str())
                .block(Block::default().title("help (Esc closes)"))
                .wrap(Wrap { trim: false }),
            messages,
        );
    } else {
        f.render_widget(message_pane(store, ui, messages, &title), messages);
    }

    // Participants.
    if let Some(r) = current {
        let height = people.height as usize;
        let lines: Vec<Line> = r
            .occupants
            .iter_sorted()
            .take(height)
            .map(|o| {
                let role = match o.info.role {
                    crate::protocol::muc::Role::Moderator => "@",
                    crate::protocol::muc::Role::Participant => "+",
                    _ => " ",
                };
                Line::raw(format!("{role}{}", sanitize(&o.nick, false)))
            })
            .collect();
        f.render_widget(
            Paragraph::new(lines).block(
                Block::default()
                    .borders(Borders::LEFT)
                    .title(format!("{} people", r.occupants.len())),
            ),
            people,
        );
    }

    // Status line.
    let conn = match store.connection {
        Connection::Online => "online",
        Connection::Connecting => "connecting",
        Connection::Offline => "offline",
        Connection::Failed => "failed",
    };
    let who = store
        .jid
        .as_ref()
        .map(|j| j.to_string())
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!("[{conn}] {who} "),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(sanitize(&ui.status, false).into_owned()),
        ])),
        status,
    );

    // Input line, scrolled so the cursor stays visible.
    let width = input.width.saturating_sub(2) as usize;
    let start = ui.cursor.saturating_sub(width);
    let shown: String = ui.input.chars().skip(start).take(width).collect();
    f.render_widget(
        Paragraph::new(format!("> {}", sanitize(&shown, false))),
        input,
    );
    f.set_cursor_position((input.x + 2 + (ui.cursor - start) as u16, input.y));
}

fn message_pane<'a>(store: &'a Store, ui: &UiState, area: Rect, title: &str) -> Paragraph<'a> {
    let height = area.height.saturating_sub(1) as usize;
    let mut lines: Vec<Line> = Vec::new();
    if let Some(r) = store.rooms().nth(ui.current) {
        // Only the messages that can be visible are formatted.
        let total = r.messages.len();
        let end = total.saturating_sub(ui.scroll);
        let start = end.saturating_sub(height);
        for m in r.messages.iter().skip(start).take(end - start) {
            let time = m.time.with_timezone(&chrono::Local).format("%H:%M");
            let nick = m.nick.as_deref().unwrap_or("*");
            let marker = if m.private { " (private)" } else { "" };
            lines.push(Line::from(vec![
                Span::raw(format!("{time} ")),
                Span::styled(
                    format!("<{}>{marker} ", sanitize(nick, false)),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(sanitize(&m.body, false).into_owned()),
            ]));
        }
    }
    Paragraph::new(lines)
        .block(Block::default().title(title.to_string()))
        .wrap(Wrap { trim: false })
}
