//! `[ui]`, `[theme]` and `[keys]`: the TUI's settings checked.

use std::collections::BTreeMap;

use toml::Spanned;

use super::super::error::{ConfigError, Location};
use super::super::raw::{self, RawTheme, RawUi, render_key};
use super::super::style::parse_style;
use super::super::{MAX_PANE_WIDTH, UiConfig};
use super::Ctx;
use crate::ui::keymap::{Action, Key, KeyMap};

/// `[ui]`, `[theme]` and `[keys]`.
pub(super) fn check_ui(
    ctx: &Ctx<'_>,
    r: &RawUi,
    theme: &RawTheme,
    keys: &BTreeMap<Spanned<String>, Spanned<String>>,
) -> Result<UiConfig, ConfigError> {
    let mut ui = UiConfig::default();
    ui.bell = r.bell.unwrap_or(ui.bell);
    ui.set_title = r.set_title.unwrap_or(ui.set_title);
    ui.show_events = r.show_events.unwrap_or(ui.show_events);
    let width = |value: &Option<Spanned<i64>>, key: &str, what: &str, default: u16| {
        value.as_ref().map_or(Ok(default), |w| {
            ctx.check(w, key, |&w| {
                u16::try_from(w)
                    .ok()
                    .filter(|w| *w <= MAX_PANE_WIDTH)
                    .ok_or_else(|| {
                        format!(
                            "expected a width from 0 to {MAX_PANE_WIDTH} (0 hides the {what}), \
                             found {w}"
                        )
                    })
            })
        })
    };
    ui.rooms_width = width(
        &r.rooms_width,
        "ui.rooms_width",
        "room list",
        ui.rooms_width,
    )?;
    ui.people_width = width(
        &r.people_width,
        "ui.people_width",
        "participant list",
        ui.people_width,
    )?;
    if let Some(format) = &r.time_format {
        ui.time_format = ctx.check(format, "ui.time_format", |f| check_time_format(f))?;
    }
    ui.styling = r.styling.unwrap_or(ui.styling);
    ui.chat_states = r.chat_states.unwrap_or(ui.chat_states);
    if let Some(max) = &r.chat_states_max_occupants {
        ui.chat_states_max_occupants = ctx.check(max, "ui.chat_states_max_occupants", |&n| {
            usize::try_from(n).map_err(|_| format!("expected a number of occupants, found {n}"))
        })?;
    }
    if let Some(via) = &r.notify {
        ui.notify.via = ctx.check(via, "ui.notify", |v| crate::ui::notify::Via::parse(v))?;
    }
    for arg in r.notify_command.iter().flatten() {
        ui.notify.command.push(arg.get_ref().clone());
    }
    if let (Some(first), true) = (
        r.notify_command.as_ref().and_then(|c| c.first()),
        ui.notify
            .command
            .first()
            .is_some_and(|p| p.trim().is_empty()),
    ) {
        return Err(ctx.invalid(
            first.span().start,
            "ui.notify_command".to_owned(),
            "the program is empty".to_owned(),
        ));
    }
    for (list, key, level) in [
        (
            &r.notify_all,
            "ui.notify_all",
            crate::ui::notify::Level::All,
        ),
        (
            &r.notify_none,
            "ui.notify_none",
            crate::ui::notify::Level::None,
        ),
    ] {
        for room in list.iter().flatten() {
            let jid = ctx.check(room, key, |j| {
                jid::BareJid::new(j).map_err(|e| format!("expected a room JID: {e}"))
            })?;
            ui.notify.rooms.insert(jid, level);
        }
    }
    for word in r.highlight_words.iter().flatten() {
        let word = ctx.check(word, "ui.highlight_words", |w| {
            let w = w.trim();
            if w.is_empty() {
                Err("a highlight word is empty".to_owned())
            } else if w.chars().any(char::is_control) {
                Err("a highlight word has a control character".to_owned())
            } else {
                Ok(w.to_owned())
            }
        })?;
        ui.highlight_words.push(word);
    }

    for (name, value) in theme.styles() {
        let style = ctx.check(value, &format!("theme.{name}"), |s| parse_style(s))?;
        raw::set_theme_style(&mut ui.theme, name, style);
    }
    if let Some(on) = theme.nick_colors {
        ui.theme.nick_colors = on;
    }

    ui.keys = check_keys(ctx, keys)?;
    Ok(ui)
}

/// A strftime format chrono accepts.
fn check_time_format(format: &str) -> Result<String, String> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(format).any(|item| item == Item::Error) {
        Err(format!(
            "{format:?} is not a valid strftime format (e.g. \"%H:%M\", \"%H:%M:%S\" or \
             \"%m-%d %H:%M\"; write %% for a literal %)"
        ))
    } else {
        Ok(format.to_owned())
    }
}

/// `[keys]`: each key name and action, then the whole map.
fn check_keys(
    ctx: &Ctx<'_>,
    raw: &BTreeMap<Spanned<String>, Spanned<String>>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut entries: Vec<_> = raw.iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    let mut seen: Vec<(Key, &Spanned<String>)> = Vec::with_capacity(entries.len());
    for &(name, action) in &entries {
        let key = format!("keys.{}", render_key(name.get_ref()));
        let parsed = ctx.check(name, &key, |n| {
            Key::parse(n).map_err(|e| {
                if e.contains('(') {
                    e
                } else {
                    format!(
                        "{e} (like ctrl-n, alt-1, shift-tab, f1 to f24, pageup, or one character)"
                    )
                }
            })
        })?;
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == parsed) {
            let line = Location::at(ctx.file, ctx.text, Some(first.span().start)).line;
            return Err(ctx.invalid(
                name.span().start,
                key,
                format!(
                    "{:?} is the same key as {:?}{}",
                    name.get_ref(),
                    first.get_ref(),
                    line.map(|l| format!(" on line {l}")).unwrap_or_default()
                ),
            ));
        }
        seen.push((parsed, name));
        ctx.check(action, &key, |a| {
            if a == "none" || Action::from_name(a).is_some() {
                return Ok(());
            }
            // The key map's message lists the action names.
            Err(
                match KeyMap::default().with_overrides([(name.get_ref().as_str(), a.as_str())]) {
                    Err(e) => format!("{e}; \"none\" unbinds the key"),
                    Ok(_) => format!("unknown action {a:?}"),
                },
            )
        })?;
    }
    let keys: Vec<(String, String)> = entries
        .iter()
        .map(|(k, a)| (k.get_ref().clone(), a.get_ref().clone()))
        .collect();
    if let Err(message) =
        KeyMap::default().with_overrides(keys.iter().map(|(k, a)| (k.as_str(), a.as_str())))
    {
        let offset = entries.first().map_or(0, |(k, _)| k.span().start);
        return Err(ctx.invalid(offset, "keys".to_owned(), message));
    }
    Ok(keys)
}
