//! Rendering: reads the store and the UI state, draws what is visible. No
//! side effects; what the loop needs to know comes back in [`Drawn`].

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::messages::{self, MessageView};
use super::state::{Lookalikes, UiState};
use super::views::Overlay;
use super::{PaneRects, sanitize, sanitize_name};
use crate::protocol::muc::{Affiliation, Role};
use crate::store::{Connection, JoinState, Store, Window};

/// What a draw learned that the loop acts on.
#[derive(Debug, Default, Clone, Copy)]
pub struct Drawn {
    /// The oldest line held is on screen (load older ones from the archive).
    pub reached_top: bool,
    /// Rows available above what is shown (to bound scrolling).
    pub max_scroll: usize,
    pub panes: PaneRects,
    /// The scroll a pending jump (`RoomView::jump_to`) was drawn at.
    pub jumped: Option<usize>,
    /// The message under a mouse click ([`UiState::click`]), by seq.
    pub clicked: Option<i64>,
}

pub fn render(store: &Store, ui: &UiState, f: &mut Frame) -> Drawn {
    let area = f.area();
    match render_buf(store, ui, area, f.buffer_mut()) {
        Some((drawn, cursor)) => {
            if let Some(c) = cursor {
                f.set_cursor_position(c);
            }
            drawn
        }
        None => Drawn::default(),
    }
}

/// Renders into a buffer (tests use it directly). Returns what was drawn
/// and where the cursor goes.
pub fn render_buf(
    store: &Store,
    ui: &UiState,
    area: Rect,
    buf: &mut Buffer,
) -> Option<(Drawn, Option<(u16, u16)>)> {
    if area.height < 4 || area.width < 10 {
        return None;
    }
    let theme = &ui.theme;
    let [title, body, status, input] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);

    // A call puts its panel above everything else in the body.
    let (call_a, body) = match &store.calls.current {
        Some(c) if body.height >= super::call::height(c) + 5 => {
            let [a, b] = Layout::vertical([
                Constraint::Length(super::call::height(c)),
                Constraint::Min(1),
            ])
            .areas(body);
            (Some((c, a)), b)
        }
        _ => (None, body),
    };

    // Narrow terminals: the side panes give way to the messages.
    let want_rooms = if ui.panes.rooms {
        ui.panes.rooms_width
    } else {
        0
    };
    let want_people = if ui.panes.people {
        ui.panes.people_width
    } else {
        0
    };
    let min_messages = 40u16;
    let mut rooms_w = want_rooms.min(body.width.saturating_sub(min_messages));
    let people_w = want_people.min(body.width.saturating_sub(min_messages + rooms_w));
    if rooms_w < 8 {
        rooms_w = 0;
    }
    let people_w = if people_w < 10 { 0 } else { people_w };
    let [rooms_a, messages_a, people_a] = Layout::horizontal([
        Constraint::Length(rooms_w),
        Constraint::Min(1),
        Constraint::Length(people_w),
    ])
    .areas(body);

    let window = ui.current.as_ref().and_then(|j| store.window(j));
    let mut drawn = Drawn {
        panes: PaneRects {
            rooms: rooms_a,
            messages: messages_a,
            people: people_a,
        },
        ..Drawn::default()
    };

    // Title bar.
    let title_text = match window {
        Some(Window::Room(r)) => {
            let name = r.name.as_deref().unwrap_or_else(|| r.jid.as_str());
            let subject = r.subject.as_deref().unwrap_or("");
            let state = match r.state {
                JoinState::Joined => "",
                JoinState::Joining => " (joining…)",
                JoinState::Rejoining => " (rejoining…)",
                JoinState::Leaving => " (leaving…)",
                JoinState::Left => " (not joined)",
            };
            // XEP-0194: whether contacts are told we are here.
            let state = if r.state == JoinState::Joined {
                format!("{state}{}", super::contacts::marker(store, &r.jid))
            } else {
                state.to_string()
            };
            if subject.is_empty() {
                format!(" {}{state}", sanitize(name, false))
            } else {
                format!(
                    " {}{state} — {}",
                    sanitize(name, false),
                    sanitize(subject, false)
                )
            }
        }
        Some(Window::Chat(j, _)) => format!(
            " {} (chat){}",
            sanitize_name(j.as_str()),
            if ui.current_encrypted {
                " 🔒 OMEMO"
            } else {
                ""
            }
        ),
        None => " confab — /join ROOM to start, F1 for help".into(),
    };
    Paragraph::new(title_text)
        .style(theme.title)
        .render(title, buf);
    if let Some((c, a)) = call_a {
        super::call::render(c, chrono::Utc::now(), theme, a, buf);
    }

    let covered = !matches!(ui.overlay, Overlay::None);
    if rooms_w > 0 && !covered {
        render_rooms(store, ui, rooms_a, buf);
    }

    // Messages, or what covers them (help, tables and forms get the whole
    // width).
    let cover = Rect {
        height: body.height,
        ..body
    };
    match &ui.overlay {
        Overlay::Help { text, scroll } => {
            Paragraph::new(text.as_str())
                .block(
                    Block::default()
                        .title(" help — Esc closes, PageUp/PageDown scroll ")
                        .borders(Borders::TOP)
                        .border_style(theme.border),
                )
                .wrap(Wrap { trim: false })
                .scroll((*scroll, 0))
                .render(cover, buf);
        }
        Overlay::Table(t) => t.render(cover, buf),
        Overlay::Form(form) => form.render(cover, buf),
        Overlay::XmlConsole { scroll } => {
            super::xml_console::render(&ui.xml, *scroll, theme, cover, buf)
        }
        Overlay::None => {
            if let Some(w) = window {
                let v = ui.view(w.jid());
                ui.layouts.retain(|j| store.window(j).is_some());
                let found = w.room().map(|r| ui.layouts.lookalikes(r));
                let lookalikes = borrowed(found.as_deref());
                let own = w.room().map(|r| r.own_nick.as_str());
                let rows = ui.layouts.rows(w.jid());
                let view = MessageView {
                    theme,
                    own_nick: own,
                    show_events: ui.panes.show_events,
                    unread_from: v.unread_from,
                    scroll: v.scroll,
                    local_offset: ui
                        .settings
                        .utc_offset
                        .unwrap_or_else(|| *chrono::Local::now().offset()),
                    time_format: (ui.settings.time_format != "%H:%M")
                        .then_some(ui.settings.time_format.as_str()),
                    lookalikes: Some(&lookalikes),
                    styling: ui.settings.styling,
                    highlight_words: &ui.settings.highlight_words,
                    cleared: v.cleared,
                    selected: v.selected,
                    rows: Some(&rows),
                };
                let mut view = view;
                if let Some(seq) = v.jump_to {
                    let (w_, h_) = (messages_a.width as usize, messages_a.height as usize);
                    if let Some(s) = messages::focus_scroll(w.messages(), &view, w_, h_, seq) {
                        view.scroll = s;
                        drawn.jumped = Some(s);
                    }
                }
                let r = messages::render(w.messages(), &view, messages_a, buf);
                drawn.clicked = ui
                    .click
                    .and_then(|y| messages::line_at(w.messages(), &view, messages_a, y));
                drawn.reached_top = r.reached_top;
                drawn.max_scroll = r.max_scroll;
            }
        }
    }

    if people_w > 0
        && !covered
        && let Some(Window::Room(r)) = window
    {
        render_people(r, ui, people_a, buf);
    }

    // Status bar: a pending prompt wins over the status line.
    if let Some(p) = ui.prompts.current() {
        p.render(status, buf);
    } else {
        let conn = match store.connection {
            Connection::Online => "online",
            Connection::Connecting => "connecting…",
            Connection::Offline => "offline",
            Connection::Failed => "failed",
        };
        let who = store
            .jid
            .as_ref()
            .map(|j| j.to_string())
            .unwrap_or_default();
        let pos = ui
            .current_index(store)
            .map(|i| format!(" [{}/{}]", i + 1, store.windows().count()))
            .unwrap_or_default();
        let style = if ui.status_error {
            theme.error
        } else {
            Style::default()
        };
        let mut spans = vec![
            Span::styled(format!(" {conn} {who}{pos} "), theme.status_bar),
            Span::raw(" "),
            Span::styled(sanitize(&ui.status, false).into_owned(), style),
        ];
        // Who is typing in this window (XEP-0085).
        if ui.settings.chat_states
            && let Some(w) = &ui.current
            && let Some(typing) = super::typing::line(store, w, chrono::Utc::now())
        {
            let gap = if ui.status.is_empty() { "" } else { "  " };
            spans.push(Span::styled(format!("{gap}{typing}"), theme.event));
        }
        Paragraph::new(Line::from(spans)).render(status, buf);
    }

    // Input line.
    let prompt = "> ";
    let width = input.width.saturating_sub(prompt.len() as u16);
    let (shown, col) = ui.editor.display_window(width);
    Paragraph::new(format!("{prompt}{shown}")).render(input, buf);
    let cursor = match ui.overlay {
        Overlay::Table(_) | Overlay::Form(_) => None,
        _ => Some((input.x + prompt.len() as u16 + col, input.y)),
    };
    Some((drawn, cursor))
}

fn render_rooms(store: &Store, ui: &UiState, area: Rect, buf: &mut Buffer) {
    let theme = &ui.theme;
    let block = Block::default()
        .borders(Borders::RIGHT)
        .border_style(theme.border);
    let inner = block.inner(area);
    block.render(area, buf);
    let height = inner.height as usize;
    let current = ui.current_index(store).unwrap_or(0);
    // Keep the current window visible.
    let skip = current.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = store
        .windows()
        .enumerate()
        .skip(skip)
        .take(height)
        .map(|(i, w)| {
            let v = ui.view(w.jid());
            let mark = match w {
                Window::Room(r) => match r.state {
                    JoinState::Joined => ' ',
                    JoinState::Left => 'x',
                    _ => '…',
                },
                Window::Chat(..) => '@',
            };
            let name = match w {
                Window::Room(r) => r
                    .name
                    .clone()
                    .unwrap_or_else(|| r.jid.node().map(|n| n.to_string()).unwrap_or_default()),
                Window::Chat(j, _) => j.to_string(),
            };
            let mut spans = vec![Span::raw(format!("{:>2}{mark}", i + 1))];
            spans.push(Span::styled(
                sanitize_name(&name).into_owned(),
                if Some(w.jid()) == ui.current.as_ref() {
                    theme.selected
                } else {
                    Style::default()
                },
            ));
            if v.highlights > 0 {
                spans.push(Span::styled(format!(" !{}", v.highlights), theme.mention));
            }
            if v.unread > 0 {
                spans.push(Span::styled(format!(" {}", v.unread), theme.unread));
            }
            Line::from(spans)
        })
        .collect();
    Paragraph::new(lines).render(inner, buf);
}

fn role_title(role: Role) -> &'static str {
    match role {
        Role::Moderator => "Moderators",
        Role::Participant => "Participants",
        Role::Visitor => "Visitors",
        Role::None => "Others",
    }
}

/// Occupants whose nick imitates another's → whom, as the views take it.
fn borrowed(found: Option<&Lookalikes>) -> HashMap<&str, &str> {
    found
        .into_iter()
        .flatten()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect()
}

fn render_people(room: &crate::store::Room, ui: &UiState, area: Rect, buf: &mut Buffer) {
    let theme = &ui.theme;
    let lookalikes = ui.layouts.lookalikes(room);
    let block = Block::default()
        .borders(Borders::LEFT)
        .border_style(theme.border)
        .title(format!(" {} people ", room.occupants.len()));
    let inner = block.inner(area);
    block.render(area, buf);
    let height = inner.height as usize;
    let mut lines: Vec<Line> = Vec::with_capacity(height);
    let mut last_role = None;
    // Scrolled at most so far that the last occupant is at the bottom
    // (with its role's title above the first row).
    let skip = ui.view(&room.jid).people_scroll.min(
        room.occupants
            .len()
            .saturating_sub(height.saturating_sub(1)),
    );
    // Only as many occupants as fit are visited.
    for o in room.occupants.iter_sorted_from(skip) {
        if lines.len() >= height {
            break;
        }
        if last_role != Some(o.info.role) {
            last_role = Some(o.info.role);
            lines.push(Line::styled(role_title(o.info.role), theme.event));
            if lines.len() >= height {
                break;
            }
        }
        let show = match o.info.show {
            "available" | "chat" => {
                Span::styled("●", Style::default().fg(ratatui::style::Color::Green))
            }
            "away" | "xa" => Span::styled("◐", Style::default().fg(ratatui::style::Color::Yellow)),
            "dnd" => Span::styled("⊘", Style::default().fg(ratatui::style::Color::Red)),
            _ => Span::raw(" "),
        };
        let affil = match o.info.affiliation {
            Affiliation::Owner => "~",
            Affiliation::Admin => "&",
            Affiliation::Member => "+",
            _ => " ",
        };
        let nick_style = if o.nick == room.own_nick {
            theme.own_nick
        } else {
            Style::default()
        };
        let mut spans = vec![
            show,
            Span::raw(affil),
            Span::styled(sanitize_name(&o.nick).into_owned(), nick_style),
        ];
        if let Some(real) = lookalikes.get(o.nick.as_str()) {
            // Looks like another occupant's nick.
            spans.push(Span::styled(
                format!(" (≈{})", sanitize_name(real)),
                theme.error,
            ));
        }
        if room.is_focus(&o.info) {
            // The room's trusted Jitsi focus.
            spans.push(Span::styled(" (focus)", theme.event));
        }
        if let Some(s) = &o.info.status {
            spans.push(Span::styled(
                format!(" {}", sanitize(s, false)),
                theme.event,
            ));
        }
        lines.push(Line::from(spans));
    }
    Paragraph::new(lines).render(inner, buf);
}
