//! The XML console (`/xmlconsole`, `--debug-xml`): the last
//! [`MAX_LINES`] elements in and out of the stream, newest at the bottom,
//! with their time and direction; redacted by the session
//! (`session/xml.rs`), sanitised here (never a raw control character),
//! each cut at [`MAX_SHOWN`] characters. Scrolled with PageUp/PageDown;
//! Esc (or `/xmlconsole off`) closes it and the session stops copying.

use std::collections::VecDeque;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use unicode_width::UnicodeWidthChar;

use super::sanitize::sanitize;
use super::state::UiState;
use super::theme::Theme;
use super::views::Overlay;
use crate::store::Event;

/// Elements kept.
pub const MAX_LINES: usize = 2_000;
/// Characters of one element shown.
pub const MAX_SHOWN: usize = 4_000;

/// One element as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlLine {
    /// `HH:MM:SS.mmm` (UTC, as the event says).
    pub at: String,
    pub out: bool,
    /// Sanitised, cut.
    pub xml: String,
}

/// The console's lines (kept while it is closed, until it opens again).
#[derive(Debug, Clone, Default)]
pub struct XmlLog {
    lines: VecDeque<XmlLine>,
    /// Lines that went out of the bound.
    pub dropped: u64,
}

impl XmlLog {
    pub fn push(&mut self, dir: &str, at: &str, xml: &str) {
        if self.lines.len() >= MAX_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
        let mut shown: String = sanitize(xml, false).chars().take(MAX_SHOWN).collect();
        if xml.chars().nth(MAX_SHOWN).is_some() {
            shown.push_str(&format!(" … ({} bytes in all)", xml.len()));
        }
        let at = at.get(11..23).unwrap_or(at);
        self.lines.push_back(XmlLine {
            at: sanitize(at, false).into_owned(),
            out: dir == "out",
            xml: shown,
        });
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &XmlLine> {
        self.lines.iter()
    }
}

/// The console's part of the store's events.
pub(super) fn on_event(ui: &mut UiState, e: &Event) {
    match e {
        Event::XmlConsole { on: true, filter } => {
            ui.overlay = Overlay::XmlConsole { scroll: 0 };
            ui.set_status(
                match filter {
                    Some(f) => format!("XML console, only stanzas with {f:?}: Esc closes"),
                    None => "XML console: Esc closes".to_string(),
                },
                false,
            );
        }
        Event::XmlConsole { on: false, .. } => {
            if matches!(ui.overlay, Overlay::XmlConsole { .. }) {
                ui.overlay = Overlay::None;
            }
        }
        Event::Xml { dir, at, xml } => {
            ui.xml.push(dir, at, xml);
            // Scrolled back: the view stays on what it shows.
            if let Overlay::XmlConsole { scroll } = &mut ui.overlay
                && *scroll > 0
            {
                *scroll += 1;
            }
        }
        _ => {}
    }
}

/// Splits `text` into rows of at most `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut rows = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width && used > 0 {
            rows.push(String::new());
            used = 0;
        }
        rows.last_mut().expect("a row").push(c);
        used += w;
    }
    rows
}

/// Draws the console: `scroll` elements back from the newest.
pub fn render(log: &XmlLog, scroll: usize, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .title(format!(
            " XML console — {} stanzas{}; Esc closes, PageUp/PageDown scroll ",
            log.len(),
            if scroll > 0 {
                format!(", {scroll} back")
            } else {
                String::new()
            }
        ))
        .borders(Borders::TOP)
        .border_style(theme.border);
    let inner = block.inner(area);
    block.render(area, buf);
    let height = inner.height as usize;
    let width = inner.width as usize;
    if height == 0 || width < 8 {
        return;
    }
    // From the newest shown element back, until the pane is full.
    let mut rows: Vec<Line> = Vec::new();
    for l in log.lines().rev().skip(scroll) {
        let (arrow, style) = if l.out {
            ("→ out", theme.own_nick)
        } else {
            ("← in ", theme.nick)
        };
        let head = format!("{} {arrow} ", l.at);
        let text = format!("{head}{}", l.xml);
        let mut element: Vec<Line> = wrap(&text, width)
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                if i == 0 && row.len() >= head.len() {
                    let (h, rest) = row.split_at(head.len());
                    Line::from(vec![
                        Span::styled(h.to_string(), style),
                        Span::styled(rest.to_string(), Style::default()),
                    ])
                } else {
                    Line::from(row)
                }
            })
            .collect();
        element.reverse();
        rows.extend(element);
        if rows.len() >= height {
            break;
        }
    }
    rows.truncate(height);
    // Bottom-aligned, like the messages.
    rows.resize(height, Line::default());
    rows.reverse();
    Paragraph::new(rows).render(inner, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_bounded_and_sanitised() {
        let mut log = XmlLog::default();
        for i in 0..MAX_LINES + 5 {
            log.push(
                "in",
                "2026-12-06T10:00:00.123Z",
                &format!("<message id='{i}'/>"),
            );
        }
        assert_eq!(log.len(), MAX_LINES);
        assert_eq!(log.dropped, 5);
        assert_eq!(log.lines().next().unwrap().xml, "<message id='5'/>");
        log.push(
            "out",
            "2026-12-06T10:00:01.000Z",
            "<body>\u{1b}[2J\u{202e}x</body>",
        );
        let last = log.lines().last().unwrap();
        assert!(last.out);
        assert_eq!(last.at, "10:00:01.000");
        assert!(
            !last.xml.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{:?}",
            last.xml
        );
        let long = "x".repeat(MAX_SHOWN + 10);
        log.push("in", "t", &long);
        assert!(log.lines().last().unwrap().xml.ends_with("bytes in all)"));
    }

    #[test]
    fn the_newest_is_at_the_bottom_wrapped() {
        let mut log = XmlLog::default();
        log.push("out", "2026-12-06T10:00:00.000Z", "<presence/>");
        log.push(
            "in",
            "2026-12-06T10:00:00.500Z",
            &format!("<message>{}</message>", "y".repeat(50)),
        );
        let area = Rect::new(0, 0, 40, 6);
        let mut buf = Buffer::empty(area);
        render(&log, 0, &Theme::default(), area, &mut buf);
        let rows: Vec<String> = (0..6)
            .map(|y| (0..40).map(|x| buf[(x, y)].symbol().to_string()).collect())
            .collect();
        assert!(rows[0].contains("XML console — 2 stanzas"), "{rows:#?}");
        let text = rows.join("\n");
        assert!(text.contains("10:00:00.000 → out <presence/>"), "{rows:#?}");
        assert!(text.contains("10:00:00.500 ← in  <message>"), "{rows:#?}");
        assert!(rows[5].trim_end().ends_with("message>"), "{rows:#?}");
        // One back: the presence is the newest shown.
        let mut buf = Buffer::empty(area);
        render(&log, 1, &Theme::default(), area, &mut buf);
        let last: String = (0..40).map(|x| buf[(x, 5)].symbol().to_string()).collect();
        assert!(last.contains("<presence/>"), "{last}");
    }
}
