//! An editor for XEP-0004 data forms: room configuration, ad-hoc
//! commands, registration.
//!
//! One line per field: its label (or var, `*` when required) and its value.
//! text-single, text-private (shown as `•`), jid-single: a line editor;
//! text-multi and jid-multi: the same, lines separated by `⏎` (Ctrl-J,
//! Shift-Enter or Alt-Enter starts a new line; jid-multi is one JID a
//! line); boolean: `[x]`/`[ ]`, Space toggles; list-single: Left/Right or
//! Space cycle through the options; list-multi: one `[x] label` line per
//! option, Up/Down move among them, Space toggles; fixed: a section
//! header; hidden: not shown, submitted as received. The focused field's
//! `desc` (or the last error) is shown on the bottom line.

use std::borrow::Cow;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Widget};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field, FieldType};

use super::{FormOutcome, Viewport, is_release, truncate, typed_char, visible_offset, width};
use crate::ui::sanitize;

/// Columns taken by the focus marker in front of each line.
const MARK: u16 = 2;
/// Gap between the label column and the values.
const GAP: u16 = 2;
const HIDDEN_CHAR: &str = "•";
const NEWLINE: &str = "⏎";

/// A line editor's text and cursor (in chars).
#[derive(Debug, Clone)]
struct Text {
    text: String,
    cursor: usize,
}

impl Text {
    fn new(text: String) -> Self {
        let cursor = text.chars().count();
        Text { text, cursor }
    }

    fn byte(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(b, _)| b)
    }

    fn insert(&mut self, s: &str) {
        let at = self.byte(self.cursor);
        self.text.insert_str(at, s);
        self.cursor += s.chars().count();
    }

    fn backspace(&mut self) -> bool {
        if self.cursor == 0 {
            return false;
        }
        self.cursor -= 1;
        let at = self.byte(self.cursor);
        self.text.remove(at);
        true
    }

    fn delete(&mut self) -> bool {
        let at = self.byte(self.cursor);
        if at == self.text.len() {
            return false;
        }
        self.text.remove(at);
        true
    }

    fn len(&self) -> usize {
        self.text.chars().count()
    }
}

/// The value being edited, by field type.
#[derive(Debug, Clone)]
enum Value {
    /// text-single, text-private, text-multi, jid-single, jid-multi
    /// (multi: one value a line).
    Text(Text),
    Bool(bool),
    /// list-single: the chosen option, or a value the options lack.
    Single {
        choice: Option<usize>,
        other: Option<String>,
    },
    /// list-multi: the chosen options, the option under the cursor, values
    /// the options lack (kept).
    Multi {
        chosen: Vec<bool>,
        cursor: usize,
        other: Vec<String>,
    },
    Fixed,
    Hidden,
}

#[derive(Debug, Clone)]
struct Entry {
    field: Field,
    value: Value,
}

impl Entry {
    fn new(field: Field) -> Self {
        let first = field.values.first();
        let value = match field.type_ {
            FieldType::Boolean => {
                Value::Bool(first.is_some_and(|v| matches!(v.trim(), "1" | "true")))
            }
            FieldType::ListSingle => {
                let choice = first.and_then(|v| field.options.iter().position(|o| &o.value == v));
                Value::Single {
                    choice,
                    other: if choice.is_none() {
                        first.cloned()
                    } else {
                        None
                    },
                }
            }
            FieldType::ListMulti => Value::Multi {
                chosen: field
                    .options
                    .iter()
                    .map(|o| field.values.contains(&o.value))
                    .collect(),
                cursor: 0,
                other: field
                    .values
                    .iter()
                    .filter(|v| !field.options.iter().any(|o| &&o.value == v))
                    .cloned()
                    .collect(),
            },
            FieldType::Fixed => Value::Fixed,
            FieldType::Hidden => Value::Hidden,
            FieldType::TextMulti | FieldType::JidMulti => {
                Value::Text(Text::new(field.values.join("\n")))
            }
            FieldType::TextSingle | FieldType::TextPrivate | FieldType::JidSingle => {
                Value::Text(Text::new(first.cloned().unwrap_or_default()))
            }
        };
        Entry { field, value }
    }

    fn focusable(&self) -> bool {
        !matches!(self.value, Value::Fixed | Value::Hidden)
    }

    fn multiline(&self) -> bool {
        matches!(self.field.type_, FieldType::TextMulti | FieldType::JidMulti)
    }

    /// The label (else the var), safe to draw.
    fn label(&self) -> Cow<'_, str> {
        sanitize(
            self.field
                .label
                .as_deref()
                .or(self.field.var.as_deref())
                .unwrap_or(""),
            false,
        )
    }

    /// The label of option `i`, else its value, safe to draw.
    fn option_label(&self, i: usize) -> Cow<'_, str> {
        let o = &self.field.options[i];
        sanitize(o.label.as_deref().unwrap_or(&o.value), false)
    }

    /// The values to submit.
    fn values(&self) -> Vec<String> {
        let options = &self.field.options;
        match &self.value {
            Value::Text(t) => match self.field.type_ {
                FieldType::JidSingle => {
                    let jid = t.text.trim();
                    if jid.is_empty() {
                        vec![]
                    } else {
                        vec![jid.to_string()]
                    }
                }
                FieldType::JidMulti => t
                    .text
                    .split('\n')
                    .map(str::trim)
                    .filter(|j| !j.is_empty())
                    .map(String::from)
                    .collect(),
                FieldType::TextMulti if t.text.is_empty() => vec![],
                FieldType::TextMulti => t.text.split('\n').map(String::from).collect(),
                _ => vec![t.text.clone()],
            },
            Value::Bool(b) => vec![if *b { "1" } else { "0" }.to_string()],
            Value::Single { choice, other } => match choice {
                Some(i) => vec![options[*i].value.clone()],
                None => other.iter().cloned().collect(),
            },
            Value::Multi { chosen, other, .. } => options
                .iter()
                .zip(chosen)
                .filter(|(_, c)| **c)
                .map(|(o, _)| o.value.clone())
                .chain(other.iter().cloned())
                .collect(),
            Value::Fixed | Value::Hidden => self.field.values.clone(),
        }
    }

    /// What the bottom border says about the keys of this field.
    fn hint(&self) -> &'static str {
        match &self.value {
            Value::Text(_) if self.multiline() => "Ctrl-J new line",
            Value::Bool(_) => "Space toggles",
            Value::Single { .. } => "←/→ choose",
            Value::Multi { .. } => "↑/↓ Space toggles",
            _ => "Tab next",
        }
    }
}

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

/// Edits a data form; Ctrl-S (or F10) gives `FormOutcome::Submit` with
/// the `submit` form, Esc gives `FormOutcome::Cancel`.
#[derive(Debug, Clone)]
pub struct FormEditor {
    title: Option<String>,
    instructions: Option<String>,
    entries: Vec<Entry>,
    /// The focused entry (never fixed or hidden).
    focus: Option<usize>,
    error: Option<String>,
    /// First line shown.
    scroll: usize,
    /// Width and height of the scrolled lines at the last render.
    view: Viewport,
}

impl From<DataForm> for FormEditor {
    fn from(form: DataForm) -> Self {
        FormEditor::new(form)
    }
}

impl FormEditor {
    /// An editor for `form` (of type `form`, usually), focused on its first
    /// field that can be edited.
    pub fn new(form: DataForm) -> Self {
        let entries: Vec<Entry> = form.fields.into_iter().map(Entry::new).collect();
        let focus = entries.iter().position(Entry::focusable);
        FormEditor {
            title: form.title,
            instructions: form.instructions,
            entries,
            focus,
            error: None,
            scroll: 0,
            view: Viewport::new(60, 20),
        }
    }

    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The focused field, as received.
    pub fn focused(&self) -> Option<&Field> {
        self.focus.map(|i| &self.entries[i].field)
    }

    /// Why the last submission was refused.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The current values of the field `var`, as they would be submitted.
    pub fn values(&self, var: &str) -> Option<Vec<String>> {
        self.entries
            .iter()
            .find(|e| e.field.var.as_deref() == Some(var))
            .map(Entry::values)
    }

    /// The `submit` form with the current values of every field with a var
    /// (hidden ones and FORM_TYPE included, fixed ones left out), whether or
    /// not the required ones are filled.
    pub fn submission(&self) -> DataForm {
        DataForm {
            type_: DataFormType::Submit,
            title: None,
            instructions: None,
            fields: self
                .entries
                .iter()
                .filter(|e| !matches!(e.value, Value::Fixed))
                .filter_map(|e| {
                    let mut field = Field::new(e.field.var.as_deref()?, e.field.type_.clone());
                    field.values = e.values();
                    Some(field)
                })
                .collect(),
        }
    }

    /// The submission, unless a required field is empty: then the error
    /// names it and it gets the focus.
    fn submit(&mut self) -> FormOutcome {
        let missing = self.entries.iter().position(|e| {
            e.field.required && e.focusable() && e.values().iter().all(|v| v.trim().is_empty())
        });
        match missing {
            Some(i) => {
                self.error = Some(format!("“{}” is required", self.entries[i].label()));
                self.focus = Some(i);
                self.scroll_into_view();
                FormOutcome::Handled
            }
            None => {
                self.error = None;
                FormOutcome::Submit(self.submission())
            }
        }
    }

    /// Pasted text goes into the focused text field (newlines become
    /// spaces in one-line fields).
    pub fn paste(&mut self, text: &str) -> FormOutcome {
        let Some(i) = self.focus else {
            return FormOutcome::Ignored;
        };
        let multiline = self.entries[i].multiline();
        let Value::Text(t) = &mut self.entries[i].value else {
            return FormOutcome::Ignored;
        };
        let text = text.replace("\r\n", "\n");
        if multiline {
            t.insert(&text);
        } else {
            t.insert(&text.replace(['\r', '\n'], " "));
        }
        self.error = None;
        self.scroll_into_view();
        FormOutcome::Handled
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> FormOutcome {
        if is_release(&key) {
            return FormOutcome::Ignored;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancel,
            KeyCode::Char('s') if ctrl => return self.submit(),
            KeyCode::F(10) => return self.submit(),
            KeyCode::Tab => {
                self.go(true, true, false);
                return FormOutcome::Handled;
            }
            KeyCode::BackTab => {
                self.go(false, true, false);
                return FormOutcome::Handled;
            }
            _ => {}
        }
        let Some(i) = self.focus else {
            return match key.code {
                KeyCode::Up | KeyCode::Down | KeyCode::Enter => FormOutcome::Handled,
                _ => FormOutcome::Ignored,
            };
        };
        let multiline = self.entries[i].multiline();
        let entry = &mut self.entries[i];
        let n = entry.field.options.len();
        let space = typed_char(&key) == Some(' ');
        // Some(changed) when the field used the key.
        let used: Option<bool> = match &mut entry.value {
            Value::Text(t) => edit_text(t, &key, multiline),
            Value::Bool(b) if space => {
                *b = !*b;
                Some(true)
            }
            Value::Single { choice, .. } if n > 0 => match key.code {
                KeyCode::Left => {
                    *choice = Some(choice.map_or(n - 1, |c| (c + n - 1) % n));
                    Some(true)
                }
                KeyCode::Right => {
                    *choice = Some(choice.map_or(0, |c| (c + 1) % n));
                    Some(true)
                }
                _ if space => {
                    *choice = Some(choice.map_or(0, |c| (c + 1) % n));
                    Some(true)
                }
                _ => None,
            },
            Value::Multi { chosen, cursor, .. } => match key.code {
                KeyCode::Up if *cursor > 0 => {
                    *cursor -= 1;
                    Some(false)
                }
                KeyCode::Down if *cursor + 1 < chosen.len() => {
                    *cursor += 1;
                    Some(false)
                }
                _ if space && !chosen.is_empty() => {
                    chosen[*cursor] = !chosen[*cursor];
                    Some(true)
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(changed) = used {
            if changed {
                self.error = None;
            }
            self.scroll_into_view();
            return FormOutcome::Handled;
        }
        match key.code {
            KeyCode::Up => self.go(false, false, true),
            KeyCode::Down | KeyCode::Enter => self.go(true, false, true),
            _ => return FormOutcome::Ignored,
        }
        FormOutcome::Handled
    }

    /// The next (previous) focusable field after the focused one.
    fn neighbour(&self, forward: bool, wrap: bool) -> Option<usize> {
        let from = self.focus?;
        let n = self.entries.len();
        for k in 1..n {
            let i = if forward {
                if from + k < n {
                    from + k
                } else if wrap {
                    from + k - n
                } else {
                    return None;
                }
            } else if k <= from {
                from - k
            } else if wrap {
                from + n - k
            } else {
                return None;
            };
            if self.entries[i].focusable() {
                return Some(i);
            }
        }
        None
    }

    /// Moves the focus; `arrow`: by Up/Down, which enter a list-multi at
    /// the near end.
    fn go(&mut self, forward: bool, wrap: bool, arrow: bool) {
        if let Some(j) = self.neighbour(forward, wrap) {
            self.focus = Some(j);
            if let Value::Multi { chosen, cursor, .. } = &mut self.entries[j].value {
                *cursor = if arrow && !forward {
                    chosen.len().saturating_sub(1)
                } else {
                    0
                };
            }
        }
        self.scroll_into_view();
    }

    fn scroll_into_view(&mut self) {
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

/// Line editing keys; `Some(changed)` when the key was for the editor.
fn edit_text(t: &mut Text, key: &KeyEvent, multiline: bool) -> Option<bool> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let newline = match key.code {
        KeyCode::Enter => key
            .modifiers
            .intersects(KeyModifiers::SHIFT | KeyModifiers::ALT),
        KeyCode::Char('j') => ctrl,
        _ => false,
    };
    if newline && multiline {
        t.insert("\n");
        return Some(true);
    }
    match key.code {
        KeyCode::Left => t.cursor = t.cursor.saturating_sub(1),
        KeyCode::Right => t.cursor = (t.cursor + 1).min(t.len()),
        KeyCode::Home => t.cursor = 0,
        KeyCode::End => t.cursor = t.len(),
        KeyCode::Char('a') if ctrl => t.cursor = 0,
        KeyCode::Char('e') if ctrl => t.cursor = t.len(),
        KeyCode::Backspace => return Some(t.backspace()),
        KeyCode::Delete => return Some(t.delete()),
        KeyCode::Char('u') if ctrl => {
            let at = t.byte(t.cursor);
            t.text.drain(..at);
            t.cursor = 0;
            return Some(at > 0);
        }
        KeyCode::Char('k') if ctrl => {
            let at = t.byte(t.cursor);
            let changed = at < t.text.len();
            t.text.truncate(at);
            return Some(changed);
        }
        _ => {
            let c = typed_char(key)?;
            let mut b = [0; 4];
            t.insert(c.encode_utf8(&mut b));
            return Some(true);
        }
    }
    Some(false)
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
fn wrap(line: &str, width: usize) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::widgets::testing::{HOSTILE, ctrl, key, render, shift};
    use insta::assert_snapshot;
    use minidom::Element;

    const ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";

    fn parse(xml: &str) -> DataForm {
        let el: Element = xml.parse().unwrap();
        DataForm::try_from(el).unwrap()
    }

    /// A form with every field type (a room configuration, more or less).
    fn sample() -> DataForm {
        parse(
            "<x xmlns='jabber:x:data' type='form'>
              <title>Configuration for dev@conference.example.org</title>
              <instructions>Complete this form to change the configuration of your room.</instructions>
              <field type='fixed'><value>Room information</value></field>
              <field var='muc#roomconfig_roomname' type='text-single' label='Room name'>
                <required/><desc>A short name for the room</desc><value>Developers</value>
              </field>
              <field var='muc#roomconfig_roomdesc' type='text-multi' label='Description'>
                <value>Line one</value><value>Line two</value>
              </field>
              <field var='muc#roomconfig_roomsecret' type='text-private' label='Password'>
                <value>hunter2</value>
              </field>
              <field var='muc#roomconfig_persistentroom' type='boolean' label='Make room persistent'>
                <value>1</value>
              </field>
              <field var='muc#roomconfig_maxusers' type='list-single' label='Maximum occupants'>
                <option label='10'><value>10</value></option>
                <option label='Twenty'><value>20</value></option>
                <option label='No limit'><value>none</value></option>
                <value>20</value>
              </field>
              <field type='fixed'><value>Permissions</value></field>
              <field var='muc#roomconfig_presencebroadcast' type='list-multi' label='Presence broadcast for'>
                <option label='Moderators'><value>moderator</value></option>
                <option label='Participants'><value>participant</value></option>
                <option label='Visitors'><value>visitor</value></option>
                <value>moderator</value><value>participant</value>
              </field>
              <field var='contact' type='jid-single' label='Contact'><desc>Who answers questions</desc></field>
              <field var='muc#roomconfig_roomadmins' type='jid-multi' label='Room admins'>
                <value>alice@example.org</value><value>bob@example.org</value>
              </field>
              <field var='session' type='hidden'><value>abc123</value></field>
              <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>
            </x>",
        )
    }

    fn focus_var(f: &FormEditor) -> Option<&str> {
        f.focused().and_then(|f| f.var.as_deref())
    }

    fn type_str(f: &mut FormEditor, s: &str) {
        for c in s.chars() {
            assert_eq!(f.handle_key(key(KeyCode::Char(c))), FormOutcome::Handled);
        }
    }

    fn focus_on(f: &mut FormEditor, var: &str) {
        for _ in 0..f.entries.len() {
            if focus_var(f) == Some(var) {
                return;
            }
            f.handle_key(key(KeyCode::Tab));
        }
        panic!("no field {var}");
    }

    fn values(f: &FormEditor, var: &str) -> Vec<String> {
        f.values(var).unwrap()
    }

    #[test]
    fn focus_moves_over_editable_fields_only() {
        let mut f = FormEditor::new(sample());
        assert_eq!(focus_var(&f), Some("muc#roomconfig_roomname"));
        f.handle_key(key(KeyCode::Up));
        assert_eq!(
            focus_var(&f),
            Some("muc#roomconfig_roomname"),
            "Up stops at the top"
        );
        let order = [
            "muc#roomconfig_roomdesc",
            "muc#roomconfig_roomsecret",
            "muc#roomconfig_persistentroom",
            "muc#roomconfig_maxusers",
            "muc#roomconfig_presencebroadcast",
            "contact",
            "muc#roomconfig_roomadmins",
            "muc#roomconfig_roomname", // Tab wraps
        ];
        for var in order {
            f.handle_key(key(KeyCode::Tab));
            assert_eq!(focus_var(&f), Some(var));
        }
        f.handle_key(key(KeyCode::BackTab));
        assert_eq!(
            focus_var(&f),
            Some("muc#roomconfig_roomadmins"),
            "BackTab wraps"
        );
        f.handle_key(key(KeyCode::Down));
        assert_eq!(
            focus_var(&f),
            Some("muc#roomconfig_roomadmins"),
            "Down stops at the bottom"
        );
        // Up and Down walk through the options of the list-multi.
        f.handle_key(key(KeyCode::Up));
        assert_eq!(focus_var(&f), Some("contact"));
        f.handle_key(key(KeyCode::Up));
        assert_eq!(focus_var(&f), Some("muc#roomconfig_presencebroadcast"));
        assert!(
            matches!(f.entries[8].value, Value::Multi { cursor: 2, .. }),
            "entered from below"
        );
        f.handle_key(key(KeyCode::Up));
        f.handle_key(key(KeyCode::Up));
        assert!(matches!(f.entries[8].value, Value::Multi { cursor: 0, .. }));
        f.handle_key(key(KeyCode::Up));
        assert_eq!(focus_var(&f), Some("muc#roomconfig_maxusers"));
        f.handle_key(key(KeyCode::Down));
        assert!(
            matches!(f.entries[8].value, Value::Multi { cursor: 0, .. }),
            "entered from above"
        );
        // Enter goes to the next field.
        f.handle_key(key(KeyCode::Tab));
        assert_eq!(focus_var(&f), Some("contact"));
        f.handle_key(key(KeyCode::Enter));
        assert_eq!(focus_var(&f), Some("muc#roomconfig_roomadmins"));
    }

    #[test]
    fn text_single_editing() {
        let mut f = FormEditor::new(sample());
        type_str(&mut f, "!");
        assert_eq!(values(&f, "muc#roomconfig_roomname"), ["Developers!"]);
        f.handle_key(key(KeyCode::Home));
        type_str(&mut f, "The ");
        f.handle_key(key(KeyCode::Delete));
        type_str(&mut f, "d");
        assert_eq!(values(&f, "muc#roomconfig_roomname"), ["The developers!"]);
        f.handle_key(key(KeyCode::End));
        f.handle_key(key(KeyCode::Backspace));
        f.handle_key(key(KeyCode::Left));
        f.handle_key(key(KeyCode::Left));
        f.handle_key(key(KeyCode::Backspace));
        f.handle_key(key(KeyCode::Right));
        type_str(&mut f, "é");
        assert_eq!(values(&f, "muc#roomconfig_roomname"), ["The developrés"]);
        f.handle_key(key(KeyCode::Left));
        f.handle_key(ctrl('k'));
        assert_eq!(values(&f, "muc#roomconfig_roomname"), ["The developr"]);
        f.handle_key(key(KeyCode::Left));
        f.handle_key(ctrl('u'));
        assert_eq!(values(&f, "muc#roomconfig_roomname"), ["r"]);
        // Space is text here, Ctrl-letters are not.
        f.handle_key(key(KeyCode::Home));
        type_str(&mut f, " x");
        assert_eq!(f.handle_key(ctrl('t')), FormOutcome::Ignored);
        assert_eq!(values(&f, "muc#roomconfig_roomname"), [" xr"]);
        f.handle_key(key(KeyCode::Backspace));
        f.handle_key(key(KeyCode::Backspace));
        assert_eq!(f.handle_key(key(KeyCode::Backspace)), FormOutcome::Handled);
        assert_eq!(values(&f, "muc#roomconfig_roomname"), ["r"]);
        // An empty text-single is submitted as an empty value.
        f.handle_key(key(KeyCode::Delete));
        assert_eq!(values(&f, "muc#roomconfig_roomname"), [""]);
    }

    #[test]
    fn text_multi_newlines() {
        let mut f = FormEditor::new(sample());
        focus_on(&mut f, "muc#roomconfig_roomdesc");
        assert_eq!(
            values(&f, "muc#roomconfig_roomdesc"),
            ["Line one", "Line two"]
        );
        f.handle_key(ctrl('j'));
        type_str(&mut f, "three");
        f.handle_key(shift(KeyCode::Enter));
        f.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
        type_str(&mut f, "five");
        assert_eq!(
            values(&f, "muc#roomconfig_roomdesc"),
            ["Line one", "Line two", "three", "", "five"]
        );
        // Plain Enter leaves the field.
        f.handle_key(key(KeyCode::Enter));
        assert_eq!(focus_var(&f), Some("muc#roomconfig_roomsecret"));
        // In a one-line field, Ctrl-J is nothing and Shift-Enter moves on.
        assert_eq!(f.handle_key(ctrl('j')), FormOutcome::Ignored);
        f.handle_key(shift(KeyCode::Enter));
        assert_eq!(focus_var(&f), Some("muc#roomconfig_persistentroom"));
        // Emptied, a text-multi has no values.
        focus_on(&mut f, "muc#roomconfig_roomdesc");
        f.handle_key(ctrl('u'));
        assert_eq!(values(&f, "muc#roomconfig_roomdesc"), Vec::<String>::new());
    }

    #[test]
    fn text_private_is_never_shown() {
        let mut f = FormEditor::new(sample());
        focus_on(&mut f, "muc#roomconfig_roomsecret");
        f.handle_key(key(KeyCode::Backspace));
        type_str(&mut f, "3!");
        assert_eq!(values(&f, "muc#roomconfig_roomsecret"), ["hunter3!"]);
        let shown = render(80, 30, |a, b| f.render(a, b)).to_string();
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("••••••••"), "{shown}");
        f.handle_key(key(KeyCode::Tab));
        let shown = render(80, 30, |a, b| f.render(a, b)).to_string();
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("••••••••"), "{shown}");
    }

    #[test]
    fn boolean_toggles() {
        let mut f = FormEditor::new(sample());
        focus_on(&mut f, "muc#roomconfig_persistentroom");
        assert_eq!(values(&f, "muc#roomconfig_persistentroom"), ["1"]);
        assert_eq!(f.handle_key(key(KeyCode::Char(' '))), FormOutcome::Handled);
        assert_eq!(values(&f, "muc#roomconfig_persistentroom"), ["0"]);
        f.handle_key(key(KeyCode::Char(' ')));
        assert_eq!(values(&f, "muc#roomconfig_persistentroom"), ["1"]);
        assert_eq!(f.handle_key(key(KeyCode::Char('x'))), FormOutcome::Ignored);
        assert_eq!(f.handle_key(key(KeyCode::Left)), FormOutcome::Ignored);
        // "true" is true; no value is false.
        let f = FormEditor::new(parse(
            "<x xmlns='jabber:x:data' type='form'>
              <field var='a' type='boolean'><value>true</value></field>
              <field var='b' type='boolean'/></x>",
        ));
        assert_eq!(values(&f, "a"), ["1"]);
        assert_eq!(values(&f, "b"), ["0"]);
    }

    #[test]
    fn list_single_cycles() {
        let mut f = FormEditor::new(sample());
        focus_on(&mut f, "muc#roomconfig_maxusers");
        let v = "muc#roomconfig_maxusers";
        assert_eq!(values(&f, v), ["20"]);
        f.handle_key(key(KeyCode::Right));
        assert_eq!(values(&f, v), ["none"]);
        f.handle_key(key(KeyCode::Right));
        assert_eq!(values(&f, v), ["10"], "wraps");
        f.handle_key(key(KeyCode::Left));
        assert_eq!(values(&f, v), ["none"], "wraps back");
        f.handle_key(key(KeyCode::Char(' ')));
        assert_eq!(values(&f, v), ["10"]);
        f.handle_key(key(KeyCode::Char(' ')));
        assert_eq!(values(&f, v), ["20"]);
        let shown = render(80, 30, |a, b| f.render(a, b)).to_string();
        assert!(shown.contains("< Twenty >"), "{shown}");
        // A value the options lack is kept until another is chosen.
        let mut f = FormEditor::new(parse(
            "<x xmlns='jabber:x:data' type='form'>
              <field var='l' type='list-single'>
                <option><value>a</value></option><option><value>b</value></option>
                <value>zzz</value></field></x>",
        ));
        assert_eq!(values(&f, "l"), ["zzz"]);
        f.handle_key(key(KeyCode::Left));
        assert_eq!(values(&f, "l"), ["b"]);
    }

    #[test]
    fn list_multi_toggles_under_the_cursor() {
        let mut f = FormEditor::new(sample());
        focus_on(&mut f, "muc#roomconfig_presencebroadcast");
        let v = "muc#roomconfig_presencebroadcast";
        assert_eq!(values(&f, v), ["moderator", "participant"]);
        f.handle_key(key(KeyCode::Char(' ')));
        assert_eq!(values(&f, v), ["participant"]);
        f.handle_key(key(KeyCode::Down));
        f.handle_key(key(KeyCode::Down));
        f.handle_key(key(KeyCode::Char(' ')));
        assert_eq!(values(&f, v), ["participant", "visitor"]);
        f.handle_key(key(KeyCode::Up));
        f.handle_key(key(KeyCode::Char(' ')));
        assert_eq!(values(&f, v), ["visitor"]);
        assert_eq!(f.handle_key(key(KeyCode::Right)), FormOutcome::Ignored);
    }

    #[test]
    fn jid_fields() {
        let mut f = FormEditor::new(sample());
        focus_on(&mut f, "contact");
        assert_eq!(
            values(&f, "contact"),
            Vec::<String>::new(),
            "empty jid-single: no value"
        );
        type_str(&mut f, " carol@example.org ");
        assert_eq!(values(&f, "contact"), ["carol@example.org"]);
        f.handle_key(key(KeyCode::Tab));
        assert_eq!(
            values(&f, "muc#roomconfig_roomadmins"),
            ["alice@example.org", "bob@example.org"]
        );
        f.handle_key(ctrl('j'));
        f.handle_key(ctrl('j'));
        type_str(&mut f, "dave@example.org ");
        assert_eq!(
            values(&f, "muc#roomconfig_roomadmins"),
            ["alice@example.org", "bob@example.org", "dave@example.org"],
            "one a line, blank lines dropped"
        );
    }

    #[test]
    fn required_fields_must_be_filled() {
        let mut f = FormEditor::new(sample());
        f.handle_key(ctrl('u'));
        type_str(&mut f, "   ");
        f.handle_key(key(KeyCode::Tab));
        f.handle_key(key(KeyCode::Tab));
        assert_eq!(f.handle_key(ctrl('s')), FormOutcome::Handled);
        assert_eq!(f.error(), Some("“Room name” is required"));
        assert_eq!(focus_var(&f), Some("muc#roomconfig_roomname"));
        let shown = render(80, 30, |a, b| f.render(a, b)).to_string();
        assert!(shown.contains("! “Room name” is required"), "{shown}");
        // Moving does not clear the error, editing does.
        f.handle_key(key(KeyCode::End));
        assert!(f.error().is_some());
        type_str(&mut f, "x");
        assert_eq!(f.error(), None);
        assert!(matches!(
            f.handle_key(key(KeyCode::F(10))),
            FormOutcome::Submit(_)
        ));
        // A required list-multi with nothing chosen.
        let mut f = FormEditor::new(parse(
            "<x xmlns='jabber:x:data' type='form'>
              <field var='t' type='text-single'><value>x</value></field>
              <field var='m' type='list-multi' label='Pick'><required/>
                <option><value>a</value></option></field></x>",
        ));
        assert_eq!(f.handle_key(ctrl('s')), FormOutcome::Handled);
        assert_eq!(f.error(), Some("“Pick” is required"));
        assert_eq!(focus_var(&f), Some("m"));
        f.handle_key(key(KeyCode::Char(' ')));
        assert!(matches!(f.handle_key(ctrl('s')), FormOutcome::Submit(_)));
    }

    #[test]
    fn submit_has_every_field_with_its_value() {
        let mut f = FormEditor::new(sample());
        focus_on(&mut f, "muc#roomconfig_persistentroom");
        f.handle_key(key(KeyCode::Char(' ')));
        let FormOutcome::Submit(form) = f.handle_key(ctrl('s')) else {
            panic!("not submitted");
        };
        assert_eq!(form.type_, DataFormType::Submit);
        assert_eq!(form.form_type(), Some(ROOMCONFIG));
        assert_eq!(
            (form.title.as_deref(), form.instructions.as_deref()),
            (None, None)
        );
        let got: Vec<(&str, Vec<&str>)> = form
            .fields
            .iter()
            .map(|f| {
                assert!(
                    f.label.is_none() && f.desc.is_none() && f.options.is_empty() && !f.required
                );
                (
                    f.var.as_deref().unwrap(),
                    f.values.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("FORM_TYPE", vec![ROOMCONFIG]),
                ("muc#roomconfig_roomname", vec!["Developers"]),
                ("muc#roomconfig_roomdesc", vec!["Line one", "Line two"]),
                ("muc#roomconfig_roomsecret", vec!["hunter2"]),
                ("muc#roomconfig_persistentroom", vec!["0"]),
                ("muc#roomconfig_maxusers", vec!["20"]),
                (
                    "muc#roomconfig_presencebroadcast",
                    vec!["moderator", "participant"]
                ),
                ("contact", vec![]),
                (
                    "muc#roomconfig_roomadmins",
                    vec!["alice@example.org", "bob@example.org"]
                ),
                ("session", vec!["abc123"]),
            ]
        );
        // It serialises as a submit form the parser reads back.
        let el: Element = form.clone().into();
        assert_eq!(el.attr("type"), Some("submit"));
        assert_eq!(DataForm::try_from(el).unwrap(), form);
        assert_eq!(f.submission(), form);
    }

    #[test]
    fn cancel_and_other_keys() {
        let mut f = FormEditor::new(sample());
        assert_eq!(f.handle_key(key(KeyCode::Esc)), FormOutcome::Cancel);
        assert_eq!(f.handle_key(key(KeyCode::F(5))), FormOutcome::Ignored);
        let mut release = key(KeyCode::Char('a'));
        release.kind = crossterm::event::KeyEventKind::Release;
        assert_eq!(f.handle_key(release), FormOutcome::Ignored);
        assert_eq!(values(&f, "muc#roomconfig_roomname"), ["Developers"]);
        // A form with nothing to edit still submits.
        let mut f = FormEditor::new(parse(
            "<x xmlns='jabber:x:data' type='form'>
              <field type='fixed'><value>Nothing to see</value></field>
              <field var='FORM_TYPE' type='hidden'><value>urn:x</value></field></x>",
        ));
        assert_eq!(f.focused(), None);
        assert_eq!(f.handle_key(key(KeyCode::Down)), FormOutcome::Handled);
        assert_eq!(f.handle_key(key(KeyCode::Char('a'))), FormOutcome::Ignored);
        let FormOutcome::Submit(form) = f.handle_key(ctrl('s')) else {
            panic!()
        };
        assert_eq!(form.form_type(), Some("urn:x"));
        assert_eq!(form.fields.len(), 1);
    }

    #[test]
    fn paste_into_text_fields() {
        let mut f = FormEditor::new(sample());
        f.handle_key(ctrl('u'));
        assert_eq!(f.paste("a\r\nb\nc"), FormOutcome::Handled);
        assert_eq!(values(&f, "muc#roomconfig_roomname"), ["a b c"]);
        f.handle_key(key(KeyCode::Tab));
        f.handle_key(ctrl('u'));
        f.paste("x\r\ny");
        assert_eq!(values(&f, "muc#roomconfig_roomdesc"), ["x", "y"]);
        focus_on(&mut f, "muc#roomconfig_persistentroom");
        assert_eq!(f.paste("zzz"), FormOutcome::Ignored);
    }

    #[test]
    fn scrolls_to_the_focus() {
        let mut f = FormEditor::new(sample());
        // 10 lines: 8 for the form, 1 for help, 2 borders... minus: 7 rows shown.
        let draw = |f: &FormEditor| render(60, 10, |a, b| f.render(a, b)).to_string();
        let shown = draw(&f);
        assert!(shown.contains("Complete this form"), "{shown}");
        focus_on(&mut f, "muc#roomconfig_roomadmins");
        assert!(f.scroll > 0);
        let shown = draw(&f);
        assert!(shown.contains("> Room admins"), "{shown}");
        assert!(!shown.contains("Complete this form"), "{shown}");
        f.handle_key(key(KeyCode::Tab));
        assert_eq!(f.scroll, 0, "the first field shows the instructions again");
        let shown = draw(&f);
        assert!(shown.contains("Complete this form"), "{shown}");
        assert!(shown.contains("> Room name"), "{shown}");
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("short", 10), ["short"]);
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(wrap("abcdefghijkl xy", 5), ["abcde", "fghij", "kl xy"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("日本語日本語", 5), ["日本", "語日", "本語"]);
    }

    #[test]
    fn snapshot_every_field_type() {
        let mut f = FormEditor::new(sample());
        // Cursor in the middle of the room name.
        f.handle_key(key(KeyCode::Left));
        f.handle_key(key(KeyCode::Left));
        let shown = render(72, 24, |a, b| f.render(a, b));
        // The cursor cell (on the "r" of "Developers") is reversed:
        // border, marker, label column (22), gap.
        let cell = &shown.buffer()[(1 + 2 + 22 + 2 + 8, 4)];
        assert_eq!(cell.symbol(), "r");
        assert!(cell.modifier.contains(Modifier::REVERSED));
        assert!(
            !shown.buffer()[(1 + 2 + 22 + 2 + 7, 4)]
                .modifier
                .contains(Modifier::REVERSED)
        );
        assert_snapshot!(shown);
    }

    #[test]
    fn snapshot_list_multi_focused_and_error() {
        let mut f = FormEditor::new(sample());
        f.handle_key(ctrl('u'));
        focus_on(&mut f, "muc#roomconfig_presencebroadcast");
        f.handle_key(key(KeyCode::Down));
        f.handle_key(key(KeyCode::Char(' ')));
        let partial = render(72, 24, |a, b| f.render(a, b));
        f.handle_key(ctrl('s'));
        let error = render(72, 12, |a, b| f.render(a, b));
        assert_snapshot!(format!("{partial}\n{error}"));
    }

    #[test]
    fn snapshot_long_value_scrolls_horizontally() {
        let mut f = FormEditor::new(parse(
            "<x xmlns='jabber:x:data' type='form'>
              <field var='a' type='text-single' label='Subject'>
                <value>A very long subject that does not fit in the field at all, really not</value></field>
              <field var='b' type='text-single' label='Other'>
                <value>Another long value that is cut at the end with an ellipsis</value></field>
            </x>",
        ));
        let end = render(40, 5, |a, b| f.render(a, b));
        for _ in 0..30 {
            f.handle_key(key(KeyCode::Left));
        }
        let middle = render(40, 5, |a, b| f.render(a, b));
        f.handle_key(key(KeyCode::Home));
        let start = render(40, 5, |a, b| f.render(a, b));
        assert_snapshot!(format!("{end}\n{middle}\n{start}"));
    }

    #[test]
    fn snapshot_hostile_form() {
        // Raw control characters cannot travel in XML 1.0: build the form.
        let mut form = parse(
            "<x xmlns='jabber:x:data' type='form'>
              <field var='t' type='text-single' label='Name'/>
              <field var='l' type='list-single' label='Mode'>
                <option><value>v</value></option><value>v</value></field>
              <field var='m' type='list-multi' label='Roles'>
                <option><value>a</value></option></field>
              <field var='x' type='text-single' label='placeholder'/>
            </x>",
        );
        form.title = Some(format!("Title {HOSTILE}"));
        form.instructions = Some(format!("Line one {HOSTILE}\nLine two"));
        form.fields[0].values = vec![format!("value {HOSTILE}")];
        form.fields[0].desc = Some(format!("desc {HOSTILE}"));
        form.fields[1].options[0].label = Some(format!("option {HOSTILE}"));
        form.fields[2].options[0].label = Some(format!("choice {HOSTILE}"));
        form.fields[3].label = Some(HOSTILE.to_string());
        form.fields.insert(
            0,
            Field {
                values: vec![format!("Section {HOSTILE}")],
                ..Field::new("f", FieldType::Fixed)
            },
        );
        let mut f = FormEditor::new(form);
        let focused = render(100, 14, |a, b| f.render(a, b));
        f.handle_key(key(KeyCode::Tab));
        let unfocused = render(100, 14, |a, b| f.render(a, b));
        assert_snapshot!(format!("{focused}\n{unfocused}"));
    }
}
