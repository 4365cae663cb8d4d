//! Drawing the form: its lines laid out (instructions, fixed sections,
//! fields, list-multi options), scrolled to the focus, each field's label
//! and value, the focused line editor, and the help line.

use std::borrow::Cow;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Widget};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;
use xmpp_parsers::data_forms::FieldType;

use super::super::{truncate, visible_offset, width};
use super::FormEditor;
use super::field::{Entry, Text, Value};
use crate::ui::sanitize;

/// Columns taken by the focus marker in front of each line.
const MARK: u16 = 2;
/// Gap between the label column and the values.
const GAP: u16 = 2;
const HIDDEN_CHAR: &str = "•";
const NEWLINE: &str = "⏎";

/// One line of the laid-out form.
#[derive(Debug, Clone, PartialEq)]
enum Row {
    /// A line of the instructions (sanitised, wrapped).
    Text(String),
    Blank,
    /// A line of a fixed field (sanitised, wrapped).
    Fixed(String),
    /// The line of field `i`.
    Field(usize),
    /// Option `k` of list-multi field `i`.
    Choice(usize, usize),
}

impl FormEditor {
    /// Scrolls so the focus is visible at the size of the last render.
    pub(super) fn scroll_into_view(&mut self) {
        let (width, height) = self.view.get();
        let rows = self.layout(width);
        self.scroll = self.offset(&rows, height.into());
    }

    /// The lines of the form for `width` columns (after the marker).
    fn layout(&self, width: u16) -> Vec<Row> {
        let width = usize::from(width.max(1));
        let mut rows = Vec::new();
        if let Some(text) = &self.instructions {
            for line in sanitize(text, true).split('\n') {
                rows.extend(wrap(line, width).into_iter().map(Row::Text));
            }
            rows.push(Row::Blank);
        }
        for (i, e) in self.entries.iter().enumerate() {
            match &e.value {
                Value::Hidden => {}
                Value::Fixed => {
                    if !matches!(rows.last(), None | Some(Row::Blank)) {
                        rows.push(Row::Blank);
                    }
                    let texts: Vec<&str> = if e.field.values.is_empty() {
                        e.field.label.as_deref().into_iter().collect()
                    } else {
                        e.field.values.iter().map(String::as_str).collect()
                    };
                    for text in texts {
                        for line in sanitize(text, true).split('\n') {
                            rows.extend(wrap(line, width).into_iter().map(Row::Fixed));
                        }
                    }
                }
                Value::Multi { chosen, .. } => {
                    rows.push(Row::Field(i));
                    rows.extend((0..chosen.len()).map(|k| Row::Choice(i, k)));
                }
                _ => rows.push(Row::Field(i)),
            }
        }
        rows
    }

    /// The line of the focus: the field's, or its option's under the
    /// cursor.
    fn focus_row(&self, rows: &[Row]) -> Option<usize> {
        let i = self.focus?;
        let option = match &self.entries[i].value {
            Value::Multi { chosen, cursor, .. } if !chosen.is_empty() => Some(*cursor),
            _ => None,
        };
        rows.iter().position(|r| match (r, option) {
            (Row::Choice(f, k), Some(c)) => *f == i && *k == c,
            (Row::Field(f), None) => *f == i,
            _ => false,
        })
    }

    /// The first line to show in `height` lines so the focus is visible
    /// (and whatever precedes the first field, while it fits).
    fn offset(&self, rows: &[Row], height: usize) -> usize {
        let Some(r) = self.focus_row(rows) else {
            return self.scroll.min(rows.len().saturating_sub(height));
        };
        let first = self.entries.iter().position(Entry::focusable) == self.focus;
        if first && r < height.max(1) {
            return 0;
        }
        visible_offset(self.scroll, r, rows.len(), height)
    }

    /// Width of the label column: the longest label, at most half.
    fn label_width(&self, width: u16) -> u16 {
        let longest = self
            .entries
            .iter()
            .filter(|e| e.focusable())
            .map(width_of_label)
            .max()
            .unwrap_or(0);
        (longest.min(usize::from(width / 2)) as u16).max(1)
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let title = self
            .title
            .as_deref()
            .map_or(Cow::Borrowed("Form"), |t| sanitize(t, false));
        let hint = self
            .focus
            .map(|i| format!("{} · ", self.entries[i].hint()))
            .unwrap_or_default();
        let block = Block::bordered()
            .title(Line::from(format!(" {title} ")))
            .title_bottom(Line::from(format!(" {hint}Ctrl-S submit · Esc cancel ")));
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.height < 2 || inner.width <= MARK + GAP + 2 {
            return;
        }
        let width = inner.width - MARK;
        let height = inner.height - 1;
        self.view.set(width, height);
        let rows = self.layout(width);
        let offset = self.offset(&rows, height.into());
        let focus_row = self.focus_row(&rows);
        let label_w = self.label_width(width);
        let dim = Style::new().add_modifier(Modifier::DIM);
        for (line, row) in rows.iter().enumerate().skip(offset).take(height.into()) {
            let y = inner.y + (line - offset) as u16;
            if Some(line) == focus_row {
                buf.set_string(inner.x, y, ">", Style::new().add_modifier(Modifier::BOLD));
            }
            let x = inner.x + MARK;
            match row {
                Row::Blank => {}
                Row::Text(text) => {
                    buf.set_stringn(x, y, text, width.into(), Style::new());
                }
                Row::Fixed(text) => {
                    buf.set_stringn(
                        x,
                        y,
                        text,
                        width.into(),
                        Style::new().add_modifier(Modifier::BOLD),
                    );
                }
                Row::Field(i) => self.render_field(*i, Rect::new(x, y, width, 1), label_w, buf),
                Row::Choice(i, k) => {
                    let e = &self.entries[*i];
                    let Value::Multi { chosen, .. } = &e.value else {
                        continue;
                    };
                    let vx = x + label_w + GAP;
                    let vw = usize::from(inner.right().saturating_sub(vx));
                    let text = format!(
                        "[{}] {}",
                        if chosen[*k] { "x" } else { " " },
                        e.option_label(*k)
                    );
                    let style = if Some(line) == focus_row {
                        Style::new().add_modifier(Modifier::REVERSED)
                    } else {
                        Style::new()
                    };
                    buf.set_stringn(vx, y, truncate(&text, vw), vw, style);
                }
            }
        }
        if offset > 0 {
            buf.set_string(inner.right() - 1, inner.y, "↑", dim);
        }
        if offset + usize::from(height) < rows.len() {
            buf.set_string(inner.right() - 1, inner.y + height - 1, "↓", dim);
        }

        // The help line: the error, else the focused field's description.
        let y = inner.bottom() - 1;
        let w = usize::from(inner.width);
        if let Some(error) = &self.error {
            let style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
            buf.set_stringn(
                inner.x,
                y,
                truncate(&format!("! {}", sanitize(error, false)), w),
                w,
                style,
            );
        } else if let Some(desc) = self
            .focus
            .and_then(|i| self.entries[i].field.desc.as_deref())
        {
            let style = dim.add_modifier(Modifier::ITALIC);
            buf.set_stringn(inner.x, y, truncate(&sanitize(desc, false), w), w, style);
        }
    }

    /// Label and value of field `i` on the line `area`.
    fn render_field(&self, i: usize, area: Rect, label_w: u16, buf: &mut Buffer) {
        let e = &self.entries[i];
        let focused = self.focus == Some(i);
        let star = if e.field.required { "*" } else { "" };
        let label = e.label();
        let label = format!(
            "{}{star}",
            truncate(&label, usize::from(label_w).saturating_sub(star.len()))
        );
        let label_style = if focused {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        };
        buf.set_stringn(area.x, area.y, &label, label_w.into(), label_style);
        let vx = area.x + label_w + GAP;
        let vw = usize::from(area.right().saturating_sub(vx));
        let plain = Style::new();
        match &e.value {
            Value::Text(t) => {
                let private = e.field.type_ == FieldType::TextPrivate;
                if focused {
                    render_editor(t, private, Rect::new(vx, area.y, vw as u16, 1), buf);
                } else {
                    let shown = if private {
                        Cow::Owned(HIDDEN_CHAR.repeat(t.len()))
                    } else {
                        Cow::Owned(sanitize(&t.text, true).replace('\n', NEWLINE))
                    };
                    buf.set_stringn(vx, area.y, truncate(&shown, vw), vw, plain);
                }
            }
            Value::Bool(b) => {
                buf.set_stringn(vx, area.y, if *b { "[x]" } else { "[ ]" }, vw, plain);
            }
            Value::Single { choice, other } => {
                let shown = match (choice, other) {
                    (Some(c), _) => e.option_label(*c),
                    (None, Some(v)) => sanitize(v, false),
                    (None, None) => Cow::Borrowed("(none)"),
                };
                let shown = if focused {
                    Cow::Owned(format!("< {shown} >"))
                } else {
                    shown
                };
                buf.set_stringn(vx, area.y, truncate(&shown, vw), vw, plain);
            }
            Value::Multi { chosen, .. } => {
                let n = chosen.iter().filter(|c| **c).count();
                let shown = format!("{n} of {} chosen", chosen.len());
                buf.set_stringn(
                    vx,
                    area.y,
                    truncate(&shown, vw),
                    vw,
                    Style::new().add_modifier(Modifier::DIM),
                );
            }
            Value::Fixed | Value::Hidden => {}
        }
    }
}

impl Widget for &FormEditor {
    fn render(self, area: Rect, buf: &mut Buffer) {
        FormEditor::render(self, area, buf);
    }
}

fn width_of_label(e: &Entry) -> usize {
    width(&e.label()) + usize::from(e.field.required)
}

/// The focused line editor: a window of the text around the cursor, the
/// cursor cell reversed.
fn render_editor(t: &Text, private: bool, area: Rect, buf: &mut Buffer) {
    let avail = usize::from(area.width);
    if avail == 0 {
        return;
    }
    // What each char looks like.
    let pieces: Vec<Cow<'_, str>> = t
        .text
        .chars()
        .map(|c| {
            if private {
                Cow::Borrowed(HIDDEN_CHAR)
            } else if c == '\n' {
                Cow::Borrowed(NEWLINE)
            } else {
                let mut b = [0; 4];
                Cow::Owned(sanitize(c.encode_utf8(&mut b), false).into_owned())
            }
        })
        .collect();
    let widths: Vec<usize> = pieces.iter().map(|p| p.width()).collect();
    let cursor = t.cursor.min(pieces.len());
    let cursor_w = widths.get(cursor).copied().unwrap_or(1).max(1);
    let more_after = usize::from(cursor + 1 < pieces.len());
    // Drop chars at the front until the cursor fits (with a `…` each side
    // when something is cut).
    let mut start = 0;
    let mut before: usize = widths[..cursor].iter().sum();
    while start < cursor && before + cursor_w + more_after + usize::from(start > 0) > avail {
        before -= widths[start];
        start += 1;
    }
    let mut x = area.x;
    let mut room = avail;
    if start > 0 {
        buf.set_string(x, area.y, "…", Style::new());
        x += 1;
        room -= 1;
    }
    let shown: String = pieces[start..].concat();
    buf.set_stringn(x, area.y, truncate(&shown, room), room, Style::new());
    let cx = x as usize + before;
    if cx < usize::from(area.right()) {
        buf.set_style(
            Rect::new(cx as u16, area.y, 1, 1),
            Style::new().add_modifier(Modifier::REVERSED),
        );
    }
}

/// `line` broken into lines of at most `width` columns, at spaces when it
/// can be.
pub(super) fn wrap(line: &str, width: usize) -> Vec<String> {
    if self::width(line) <= width {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for word in line.split_inclusive(' ') {
        let w = self::width(word.trim_end());
        if used > 0 && used + w > width {
            out.push(current.trim_end().to_string());
            current.clear();
            used = 0;
        }
        if w > width {
            for g in word.graphemes(true) {
                let gw = g.width();
                if used + gw > width && used > 0 {
                    out.push(std::mem::take(&mut current));
                    used = 0;
                }
                current.push_str(g);
                used += gw;
            }
        } else {
            current.push_str(word);
            used += self::width(word);
        }
    }
    if !current.trim_end().is_empty() || out.is_empty() {
        out.push(current.trim_end().to_string());
    }
    out
}
