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
//!
//! This module holds the editor and its keys; `field.rs` a field's value
//! and line editor, `render.rs` the layout and drawing.

mod field;
mod render;
#[cfg(test)]
mod tests;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field};

use super::{FormOutcome, Viewport, is_release, typed_char};
use field::{Entry, Value, edit_text};

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
}
