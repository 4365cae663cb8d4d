//! The raw configuration: the TOML file as written, every field optional,
//! with spans kept on the values that are validated later so that errors can
//! name their line.

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::style::Style;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Location};
use crate::ui::theme::Theme;

pub(crate) const TOP_KEYS: &[&str] = &[
    "default_account",
    "history",
    "accounts",
    "ui",
    "theme",
    "keys",
    "chatting",
    "files",
];
pub(crate) const FILES_KEYS: &[&str] = &["download_dir", "max_download_bytes", "opener"];
pub(crate) const CHATTING_KEYS: &[&str] = &["publish", "never"];
pub(crate) const HISTORY_KEYS: &[&str] = &["enabled", "load"];
pub(crate) const UI_KEYS: &[&str] = &[
    "bell",
    "set_title",
    "show_events",
    "rooms_width",
    "people_width",
    "time_format",
    "styling",
    "highlight_words",
    "chat_states",
    "chat_states_max_occupants",
    "notify",
    "notify_command",
    "notify_all",
    "notify_none",
];
/// The fields of `Theme`, in its order.
pub(crate) const THEME_KEYS: &[&str] = &[
    "timestamp",
    "nick",
    "own_nick",
    "nick_colors",
    "highlight",
    "action",
    "event",
    "day_separator",
    "unread_marker",
    "title",
    "status_bar",
    "border",
    "selected",
    "unread",
    "mention",
    "error",
    "quote",
    "code",
];
pub(crate) const ACCOUNT_KEYS: &[&str] = &[
    "jid",
    "server",
    "nick",
    "nicks",
    "password",
    "password_command",
    "password_env",
    "tls",
    "ca_file",
    "resource",
    "autojoin",
    "search_service",
    "call_service",
    "focus",
    "focus_jid",
    "focus_http",
    "resolver",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub default_account: Option<Spanned<String>>,
    #[serde(default)]
    pub history: RawHistory,
    /// Keyed by account name; the key's span locates the `[accounts.NAME]`
    /// header (and gives the file order).
    #[serde(default)]
    pub accounts: BTreeMap<Spanned<String>, RawAccount>,
    #[serde(default)]
    pub ui: RawUi,
    #[serde(default)]
    pub theme: RawTheme,
    /// Key name to action name; the spans give the file order and lines.
    #[serde(default)]
    pub keys: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub chatting: RawChatting,
    #[serde(default)]
    pub files: RawFiles,
}

/// `[files]`: where `/save` writes, how much it takes, what `/open` runs.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table with keys download_dir, max_download_bytes and opener"
)]
pub(crate) struct RawFiles {
    pub download_dir: Option<Spanned<String>>,
    pub max_download_bytes: Option<Spanned<u64>>,
    pub opener: Option<Spanned<Vec<String>>>,
}

/// `[chatting]` (XEP-0194): publish the rooms we are in, except these.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table with keys publish and never")]
pub(crate) struct RawChatting {
    pub publish: Option<bool>,
    pub never: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table with keys enabled and load")]
pub(crate) struct RawHistory {
    pub enabled: Option<bool>,
    pub load: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table of UI settings")]
pub(crate) struct RawUi {
    pub bell: Option<bool>,
    pub set_title: Option<bool>,
    pub show_events: Option<bool>,
    /// Signed, so that `-1` and `1000` get the same "0 to 80" message.
    pub rooms_width: Option<Spanned<i64>>,
    pub people_width: Option<Spanned<i64>>,
    pub time_format: Option<Spanned<String>>,
    pub styling: Option<bool>,
    pub highlight_words: Option<Vec<Spanned<String>>>,
    pub chat_states: Option<bool>,
    pub chat_states_max_occupants: Option<Spanned<i64>>,
    pub notify: Option<Spanned<String>>,
    pub notify_command: Option<Vec<Spanned<String>>>,
    pub notify_all: Option<Vec<Spanned<String>>>,
    pub notify_none: Option<Vec<Spanned<String>>>,
}

/// `[theme]`: one optional style string per `Theme` style field, and
/// `nick_colors`. The macro keeps the struct, [`RawTheme::styles`] and
/// [`set_theme_style`] in step; `Theme`'s field names are checked by the
/// compiler.
macro_rules! raw_theme {
    ($($style:ident),* $(,)?) => {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, expecting = "a table of styles")]
        pub(crate) struct RawTheme {
            $(pub $style: Option<Spanned<String>>,)*
            pub nick_colors: Option<bool>,
        }

        impl RawTheme {
            /// The style entries present in the file, in file order.
            pub fn styles(&self) -> Vec<(&'static str, &Spanned<String>)> {
                let mut styles = Vec::new();
                $(
                    if let Some(value) = &self.$style {
                        styles.push((stringify!($style), value));
                    }
                )*
                styles.sort_by_key(|(_, value)| value.span().start);
                styles
            }
        }

        /// Set the style field `name` (one of [`RawTheme::styles`]' names).
        pub(crate) fn set_theme_style(theme: &mut Theme, name: &str, style: Style) {
            match name {
                $(stringify!($style) => theme.$style = style,)*
                _ => unreachable!("not a Theme style field: {name}"),
            }
        }

        /// Every style field of `theme` by name, in `Theme`'s order.
        pub(crate) fn theme_styles(theme: &Theme) -> Vec<(&'static str, Style)> {
            vec![$((stringify!($style), theme.$style),)*]
        }

        #[cfg(test)]
        pub(crate) const THEME_STYLE_KEYS: &[&str] = &[$(stringify!($style)),*];
    };
}

raw_theme!(
    timestamp,
    nick,
    own_nick,
    highlight,
    action,
    event,
    day_separator,
    unread_marker,
    title,
    status_bar,
    border,
    selected,
    unread,
    mention,
    error,
    quote,
    code,
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table of account settings")]
pub(crate) struct RawAccount {
    pub jid: Option<Spanned<String>>,
    pub server: Option<Spanned<String>>,
    pub nick: Option<Spanned<String>>,
    pub nicks: Option<Vec<Spanned<String>>>,
    pub password: Option<Spanned<String>>,
    pub password_command: Option<Spanned<String>>,
    pub password_env: Option<Spanned<String>>,
    pub tls: Option<Spanned<String>>,
    pub ca_file: Option<Spanned<String>>,
    pub resource: Option<Spanned<String>>,
    pub autojoin: Option<Vec<Spanned<String>>>,
    pub search_service: Option<Spanned<String>>,
    pub call_service: Option<Spanned<String>>,
    pub focus: Option<Vec<Spanned<String>>>,
    pub focus_jid: Option<Spanned<String>>,
    pub focus_http: Option<Spanned<String>>,
    pub resolver: Option<Spanned<String>>,
}

/// Parse `text` (the content of `file`).
pub(crate) fn parse(text: &str, file: &Path) -> Result<RawConfig, ConfigError> {
    match toml::from_str::<RawConfig>(text) {
        Ok(raw) => Ok(raw),
        // Parse again without serde to tell syntax errors from type errors
        // and to find which key a type error is about.
        Err(err) => Err(match DeTable::parse(text) {
            Err(syntax) => ConfigError::Syntax {
                location: Location::at(file, text, syntax.span().map(|s| s.start)),
                message: one_line(syntax.message()),
            },
            Ok(doc) => de_error(&err, doc.get_ref(), text, file),
        }),
    }
}

/// One segment of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// `accounts.work.autojoin[1]`; keys that are not bare TOML keys are quoted.
pub(crate) fn render_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&render_key(k));
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn de_error(err: &toml::de::Error, doc: &DeTable<'_>, text: &str, file: &Path) -> ConfigError {
    let start = err.span().map(|s| s.start);
    let location = Location::at(file, text, start);
    // Speak TOML rather than serde.
    let message = one_line(err.message())
        .replace("expected usize", "expected a non-negative integer")
        .replace("expected a map", "expected a table")
        .replace("expected a sequence", "expected an array");
    let path = start.and_then(|pos| locate(doc, pos)).unwrap_or_default();

    if message.starts_with("unknown field")
        && let Some((Seg::Key(key), table)) = path.split_last()
    {
        let expected = match table {
            [] => Some(TOP_KEYS),
            [Seg::Key(h)] if h == "history" => Some(HISTORY_KEYS),
            [Seg::Key(h)] if h == "ui" => Some(UI_KEYS),
            [Seg::Key(h)] if h == "chatting" => Some(CHATTING_KEYS),
            [Seg::Key(h)] if h == "files" => Some(FILES_KEYS),
            [Seg::Key(h)] if h == "theme" => Some(THEME_KEYS),
            [Seg::Key(a), Seg::Key(_)] if a == "accounts" => Some(ACCOUNT_KEYS),
            _ => None,
        };
        if let Some(expected) = expected {
            let table = if table.is_empty() {
                "the top level".to_owned()
            } else {
                format!("[{}]", render_path(table))
            };
            return ConfigError::UnknownKey {
                location,
                key: key.clone(),
                table,
                expected: expected.to_vec(),
            };
        }
    }

    let key = if path.is_empty() {
        "(top level)".to_owned()
    } else {
        render_path(&path)
    };
    ConfigError::Invalid {
        location,
        key,
        message,
    }
}

/// The key path of the smallest key or value whose span contains `pos`.
fn locate(doc: &DeTable<'_>, pos: usize) -> Option<Vec<Seg>> {
    let mut best: Option<(usize, Vec<Seg>)> = None;
    let mut prefix = Vec::new();
    walk_table(doc, pos, &mut prefix, &mut best);
    best.map(|(_, path)| path)
}

fn contains(span: &std::ops::Range<usize>, pos: usize) -> bool {
    span.contains(&pos) || (span.is_empty() && span.start == pos)
}

fn consider(
    span: std::ops::Range<usize>,
    pos: usize,
    path: &[Seg],
    best: &mut Option<(usize, Vec<Seg>)>,
) {
    if contains(&span, pos) {
        let len = span.len();
        // `<=`: on a tie the deeper (later visited) entry wins.
        if best.as_ref().is_none_or(|(l, _)| len <= *l) {
            *best = Some((len, path.to_vec()));
        }
    }
}

fn walk_table(
    table: &DeTable<'_>,
    pos: usize,
    prefix: &mut Vec<Seg>,
    best: &mut Option<(usize, Vec<Seg>)>,
) {
    for (key, value) in table.iter() {
        prefix.push(Seg::Key(key.get_ref().to_string()));
        consider(key.span(), pos, prefix, best);
        walk_value(value, pos, prefix, best);
        prefix.pop();
    }
}

fn walk_value(
    value: &Spanned<DeValue<'_>>,
    pos: usize,
    prefix: &mut Vec<Seg>,
    best: &mut Option<(usize, Vec<Seg>)>,
) {
    consider(value.span(), pos, prefix, best);
    match value.get_ref() {
        DeValue::Table(t) => walk_table(t, pos, prefix, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                prefix.push(Seg::Index(i));
                walk_value(item, pos, prefix, best);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn one_line(message: &str) -> String {
    message
        .trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
