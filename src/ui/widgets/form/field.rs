//! One field of the form being edited: the value by field type, the line
//! editor of text fields and its keys, and the values a field submits.

use std::borrow::Cow;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use xmpp_parsers::data_forms::{Field, FieldType};

use super::super::typed_char;
use crate::ui::sanitize;

/// A line editor's text and cursor (in chars).
#[derive(Debug, Clone)]
pub(super) struct Text {
    pub(super) text: String,
    pub(super) cursor: usize,
}

impl Text {
    pub(super) fn new(text: String) -> Self {
        let cursor = text.chars().count();
        Text { text, cursor }
    }

    pub(super) fn byte(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(b, _)| b)
    }

    pub(super) fn insert(&mut self, s: &str) {
        let at = self.byte(self.cursor);
        self.text.insert_str(at, s);
        self.cursor += s.chars().count();
    }

    pub(super) fn backspace(&mut self) -> bool {
        if self.cursor == 0 {
            return false;
        }
        self.cursor -= 1;
        let at = self.byte(self.cursor);
        self.text.remove(at);
        true
    }

    pub(super) fn delete(&mut self) -> bool {
        let at = self.byte(self.cursor);
        if at == self.text.len() {
            return false;
        }
        self.text.remove(at);
        true
    }

    pub(super) fn len(&self) -> usize {
        self.text.chars().count()
    }
}

/// The value being edited, by field type.
#[derive(Debug, Clone)]
pub(super) enum Value {
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
pub(super) struct Entry {
    pub(super) field: Field,
    pub(super) value: Value,
}

impl Entry {
    pub(super) fn new(field: Field) -> Self {
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

    pub(super) fn focusable(&self) -> bool {
        !matches!(self.value, Value::Fixed | Value::Hidden)
    }

    pub(super) fn multiline(&self) -> bool {
        matches!(self.field.type_, FieldType::TextMulti | FieldType::JidMulti)
    }

    /// The label (else the var), safe to draw.
    pub(super) fn label(&self) -> Cow<'_, str> {
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
    pub(super) fn option_label(&self, i: usize) -> Cow<'_, str> {
        let o = &self.field.options[i];
        sanitize(o.label.as_deref().unwrap_or(&o.value), false)
    }

    /// The values to submit.
    pub(super) fn values(&self) -> Vec<String> {
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
    pub(super) fn hint(&self) -> &'static str {
        match &self.value {
            Value::Text(_) if self.multiline() => "Ctrl-J new line",
            Value::Bool(_) => "Space toggles",
            Value::Single { .. } => "←/→ choose",
            Value::Multi { .. } => "↑/↓ Space toggles",
            _ => "Tab next",
        }
    }
}

/// Line editing keys; `Some(changed)` when the key was for the editor.
pub(super) fn edit_text(t: &mut Text, key: &KeyEvent, multiline: bool) -> Option<bool> {
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
