//! The command table: every command's name, aliases, usage, arguments,
//! options, help and builder. The entries live with their builders, one
//! file per family of commands (`rooms.rs`, `directory.rs`, `admin.rs`,
//! `social.rs`, `call.rs`, `script.rs`); this file lists them in `/help`'s
//! order. The parser ([`super::parse`]) dispatches through the entry,
//! `/help` ([`help_text`]) and completion read it, so they cannot drift
//! apart.

use super::parse::{Args, ParseError};
use super::{Command, admin, buffer, call, directory, fasten, files, omemo, rooms, script, social};

/// One command of the command language.
#[derive(Debug)]
pub struct CommandSpec {
    /// Canonical name, without the leading `/`.
    pub name: &'static str,
    /// Other names, without the leading `/`.
    pub aliases: &'static [&'static str],
    /// Usage text; several lines for commands with several forms (`/wait`).
    pub usage: &'static str,
    /// One-line description.
    pub help: &'static str,
    /// Positional arguments, in order.
    pub args: &'static [ArgSpec],
    /// `--options`; they may appear anywhere after the command name.
    pub options: &'static [OptSpec],
    /// The forms of a command whose first argument chooses one (`/wait
    /// message`), each with its own arguments and builder; else empty.
    pub forms: &'static [CommandSpec],
    /// Makes the command from its arguments (see [`Args`]).
    pub build: Build,
}

/// A table entry's builder: the parser hands it the converted arguments
/// of a line; it makes the [`Command`] (or says what is wrong).
pub type Build = fn(&mut Args) -> Result<Command, ParseError>;

/// One positional argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    /// Placeholder as written in the usage, e.g. `ROOM`.
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
}

/// What an argument must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A room: a bare JID with a local part (`room@conference.example.org`).
    Room,
    /// `ROOM[/NICK]`: a room, optionally followed by `/` and a nickname.
    RoomNick,
    /// Any JID, including `ROOM/NICK` (full JIDs are allowed).
    Jid,
    /// A room, or the word `all` (every joined room).
    RoomOrAll,
    /// A nickname (non-empty).
    Nick,
    /// Any single word.
    Word,
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// A non-negative decimal number of seconds, e.g. `0.5`.
    Seconds,
    /// Zero or more `KEY=VALUE` words; must be last.
    KeyValues,
    /// The rest of the line verbatim; must be last.
    Rest,
}

impl ArgKind {
    /// A short explanation of what is expected, for error messages and help.
    pub fn describe(self) -> &'static str {
        match self {
            ArgKind::Room => "a room JID like room@conference.example.org",
            ArgKind::RoomNick => "a room JID like room@conference.example.org",
            ArgKind::Jid => "a JID like user@example.org, or room@conference.example.org/nick",
            ArgKind::RoomOrAll => "a room JID like room@conference.example.org, or all",
            ArgKind::Nick => "a nickname",
            ArgKind::Word => "a word",
            ArgKind::Choice(_) => "one of the listed words",
            ArgKind::Seconds => "a number of seconds",
            ArgKind::KeyValues => "a field and its value, like room=room@conference.example.org",
            ArgKind::Rest => "the rest of the line",
        }
    }
}

/// One `--option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptSpec {
    /// Including the dashes, e.g. `--timeout`.
    pub name: &'static str,
    /// Value placeholder (`SECS`, `NICK`, ...); `None` for a flag.
    pub value: Option<&'static str>,
    pub help: &'static str,
}

pub(super) const fn arg(name: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        required: true,
    }
}

pub(super) const fn opt_arg(name: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        required: false,
    }
}

/// Presence values accepted by `/status`, in usage order.
pub const SHOWS: &[&str] = &["available", "chat", "away", "xa", "dnd"];

/// The panes `/layout` knows.
pub const LAYOUT_PANES: &[&str] = &["rooms", "people", "events"];

/// The forms of `/wait`, in usage order (the names of [`WAIT_FORMS`]).
pub const WAIT_KINDS: &[&str] = &["message", "occupant", "event"];

pub(super) const OPT_FROM: OptSpec = OptSpec {
    name: "--from",
    value: Some("NICK"),
    help: "only a message from this nickname",
};
pub(super) const OPT_CONTAINS: OptSpec = OptSpec {
    name: "--contains",
    value: Some("TEXT"),
    help: "only a message whose body contains TEXT",
};
pub(super) const OPT_TIMEOUT: OptSpec = OptSpec {
    name: "--timeout",
    value: Some("SECS"),
    help: "fail after SECS seconds (default 30)",
};

/// Every command, in the order `/help` lists them.
pub static COMMANDS: &[CommandSpec] = &[
    rooms::JOIN,
    rooms::PART,
    rooms::SAY,
    rooms::CORRECT,
    rooms::MSG,
    omemo::OMEMO,
    fasten::REACT,
    fasten::REPLY,
    fasten::RETRACT,
    fasten::MODERATE,
    rooms::CLOSE,
    rooms::READ,
    rooms::NICK,
    rooms::TOPIC,
    rooms::STATUS,
    rooms::CONFIG,
    directory::ROOMS,
    directory::SEARCH,
    directory::INFO,
    directory::BROWSE,
    directory::WHOIS,
    directory::CREATE,
    directory::DESTROY,
    admin::KICK,
    admin::BAN,
    admin::UNBAN,
    admin::VOICE,
    admin::DEVOICE,
    admin::ROLE,
    admin::AFFILIATION,
    admin::MEMBERS,
    admin::ADMINS,
    admin::OWNERS,
    admin::OUTCASTS,
    admin::MODERATORS,
    admin::REQUEST_VOICE,
    social::INVITE,
    social::INVITATIONS,
    social::ACCEPT,
    social::DECLINE,
    social::BOOKMARK,
    social::BOOKMARKS,
    social::UNBOOKMARK,
    social::ROSTER,
    social::ADD,
    social::REMOVE,
    social::APPROVE,
    social::DENY,
    social::WHERE,
    social::CHATTING,
    buffer::FIND,
    buffer::EXPORT,
    buffer::CLEAR,
    buffer::IGNORE,
    buffer::UNIGNORE,
    buffer::IGNORED,
    files::UPLOAD,
    files::SAVE,
    files::OPEN,
    files::CANCEL,
    call::CALL,
    call::ANSWER,
    call::REJECT,
    call::HANGUP,
    call::MUTE,
    call::UNMUTE,
    call::DEAFEN,
    call::UNDEAFEN,
    call::DEVICES,
    call::DENOISE,
    call::RECORD,
    call::CALLCONFIG,
    script::WAIT,
    script::SLEEP,
    script::ME,
    script::WIN,
    script::LAYOUT,
    script::XMLCONSOLE,
    script::HELP,
    script::QUIT,
];

/// The forms of `/wait`. Each form's `name` is the word after `/wait`; its
/// `args` follow that word, and its `options` are the subset of `/wait`'s
/// options that apply to it.
pub static WAIT_FORMS: &[CommandSpec] = script::WAIT.forms;

/// The sub-forms of a command (selected by its first argument, a
/// [`ArgKind::Choice`] of their names), or an empty slice.
pub fn forms(command: &str) -> &'static [CommandSpec] {
    lookup(command).map_or(&[], |spec| spec.forms)
}

/// Finds a command by name or alias (without the `/`, case-insensitive).
pub fn lookup(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|spec| {
        spec.name.eq_ignore_ascii_case(name)
            || spec.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The command name or alias closest to a misspelt `name`, if any is close.
pub fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    let candidates = COMMANDS
        .iter()
        .flat_map(|spec| std::iter::once(&spec.name).chain(spec.aliases.iter()));
    let mut best: Option<(usize, &'static str)> = None;
    for &candidate in candidates {
        let distance = if candidate.starts_with(&name) {
            // A prefix ("/jo"): as good as one typo.
            1
        } else {
            edit_distance(&name, candidate)
        };
        let limit = if candidate.len() <= 3 { 1 } else { 2 };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance (Levenshtein plus adjacent swaps).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// `unknown command /NAME (did you mean /X?)`, without a column.
pub(crate) fn unknown_command(name: &str) -> String {
    match suggest(name) {
        Some(s) => format!("unknown command /{name} (did you mean /{s}?)"),
        None => format!("unknown command /{name} (type /help for a list)"),
    }
}

/// The one-line synopsis of a command: its usage, or for commands with
/// several forms `/wait message|occupant|event ...`.
fn synopsis(spec: &CommandSpec) -> String {
    let forms = spec.forms;
    if forms.is_empty() {
        spec.usage.to_string()
    } else {
        let names: Vec<&str> = forms.iter().map(|f| f.name).collect();
        format!("/{} {} ...", spec.name, names.join("|"))
    }
}

fn option_line(opt: &OptSpec) -> String {
    match opt.value {
        Some(value) => format!("{} {}", opt.name, value),
        None => opt.name.to_string(),
    }
}

/// Help generated from the table.
///
/// `None`: every command, one per line (synopsis and help). `Some(name)`
/// (with or without `/`, aliases allowed): that command's usage, aliases,
/// help and options. An unknown name is an error message.
/// Widest synopsis that shares its line with the help text in `/help`.
const HELP_COLUMN: usize = 52;

pub fn help_text(topic: Option<&str>) -> Result<String, String> {
    let Some(topic) = topic else {
        let rows: Vec<(String, &str)> = COMMANDS.iter().map(|s| (synopsis(s), s.help)).collect();
        // A few very long synopses (`/join` and its options) get a line of
        // their own instead of pushing every help text to the right.
        let width = rows
            .iter()
            .map(|(u, _)| u.chars().count())
            .filter(|&n| n <= HELP_COLUMN)
            .max()
            .unwrap_or(0);
        let mut out = String::from("Commands:\n");
        for (usage, help) in rows {
            if usage.chars().count() > width {
                out.push_str(&format!("  {usage}\n  {:width$}  {help}\n", ""));
            } else {
                out.push_str(&format!("  {usage:<width$}  {help}\n"));
            }
        }
        out.push_str("Type /help COMMAND for details about one command.");
        return Ok(out);
    };
    let name = topic.trim().strip_prefix('/').unwrap_or(topic.trim());
    let spec = lookup(name).ok_or_else(|| unknown_command(name))?;
    let mut out = String::new();
    for line in spec.usage.lines() {
        out.push_str(&format!("Usage: {}\n", line.trim()));
    }
    if !spec.aliases.is_empty() {
        let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("/{a}")).collect();
        out.push_str(&format!("Aliases: {}\n", aliases.join(", ")));
    }
    out.push_str(spec.help);
    out.push('\n');
    let forms = spec.forms;
    if !forms.is_empty() {
        out.push_str("Forms:\n");
        let width = forms.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for form in forms {
            out.push_str(&format!("  {:<width$}  {}\n", form.name, form.help));
        }
    }
    if !spec.options.is_empty() {
        out.push_str("Options:\n");
        let rows: Vec<String> = spec.options.iter().map(option_line).collect();
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
        for (row, opt) in rows.iter().zip(spec.options) {
            out.push_str(&format!("  {row:<width$}  {}\n", opt.help));
        }
    }
    Ok(out.trim_end().to_string())
}

#[cfg(test)]
mod tests;
