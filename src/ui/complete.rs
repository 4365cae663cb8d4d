//! Tab completion for the input line, driven by the command table
//! ([`table::COMMANDS`]): command names and aliases, their arguments by
//! [`ArgKind`], `--options`, and nicks in plain text (`nick: ` at the start
//! of the line). Repeated Tabs cycle through the candidates.

use super::input::LineEditor;
use crate::command::table::{self, ArgKind, ArgSpec, COMMANDS, OptSpec};

/// What completion can offer, from the current state of the UI.
#[derive(Debug, Clone, Default)]
pub struct CompletionContext<'a> {
    /// Nicks of the current room, most recently active first.
    pub nicks: Vec<&'a str>,
    /// Bare JIDs of the open rooms.
    pub rooms: Vec<&'a str>,
    /// Bare JIDs of the open one-to-one windows, then of the roster's
    /// other contacts (offered for JID arguments after the rooms).
    pub contacts: Vec<&'a str>,
    /// Our nick in the current room: never offered.
    pub own_nick: Option<&'a str>,
}

/// The state of Tab completion: the candidates of the word being
/// completed, and which one is shown.
///
/// The caller calls [`complete`](Self::complete) on Tab and
/// [`reset`](Self::reset) on any other key. (If the line changed anyway,
/// the next Tab starts afresh.)
#[derive(Debug, Default)]
pub struct Completer {
    cycle: Option<Cycle>,
}

#[derive(Debug)]
struct Cycle {
    /// Where the completed word starts (byte index).
    start: usize,
    /// End of the text inserted last (byte index).
    end: usize,
    /// Bytes of an existing space after the word that the cursor skips
    /// (then the inserted texts have no trailing space of their own).
    skip: usize,
    /// Candidate texts as inserted (quoted if needed, with the suffix).
    inserts: Vec<String>,
    index: usize,
    /// The line and cursor as we left them.
    text: String,
    cursor: usize,
}

impl Cycle {
    fn apply(&mut self, editor: &mut LineEditor) {
        let insert = &self.inserts[self.index];
        editor.replace(self.start..self.end, insert);
        self.end = self.start + insert.len();
        editor.set_cursor(self.end + self.skip);
        self.text = editor.text().to_string();
        self.cursor = editor.cursor();
    }
}

impl Completer {
    pub fn new() -> Completer {
        Completer::default()
    }

    /// Tab: the first call replaces the word before the cursor with the
    /// first candidate; each further call (with no other edit between)
    /// replaces it with the next one, wrapping around. Returns false, and
    /// changes nothing, when there is no candidate.
    pub fn complete(&mut self, editor: &mut LineEditor, ctx: &CompletionContext) -> bool {
        self.step(editor, ctx, true)
    }

    /// Shift-Tab: like [`complete`](Self::complete), backwards (a first
    /// call starts at the last candidate).
    pub fn complete_previous(&mut self, editor: &mut LineEditor, ctx: &CompletionContext) -> bool {
        self.step(editor, ctx, false)
    }

    /// Forgets the cycle (call it on any key but Tab).
    pub fn reset(&mut self) {
        self.cycle = None;
    }

    /// Whether a cycle is under way (the last key was a successful Tab).
    pub fn is_active(&self) -> bool {
        self.cycle.is_some()
    }

    fn step(&mut self, editor: &mut LineEditor, ctx: &CompletionContext, forward: bool) -> bool {
        if let Some(cycle) = &mut self.cycle
            && editor.text() == cycle.text
            && editor.cursor() == cycle.cursor
        {
            let n = cycle.inserts.len();
            cycle.index = if forward {
                (cycle.index + 1) % n
            } else {
                (cycle.index + n - 1) % n
            };
            cycle.apply(editor);
            return true;
        }
        self.cycle = None;
        let cursor = editor.cursor();
        let Some(plan) = plan(editor.text(), cursor, ctx) else {
            return false;
        };
        if plan.candidates.is_empty() {
            return false;
        }
        let (suffix, skip) =
            if plan.suffix.ends_with(' ') && editor.text()[cursor..].starts_with(' ') {
                (plan.suffix.trim_end(), 1)
            } else {
                (plan.suffix, 0)
            };
        let inserts: Vec<String> = plan
            .candidates
            .iter()
            .map(|c| format!("{c}{suffix}"))
            .collect();
        let index = if forward { 0 } else { inserts.len() - 1 };
        let mut cycle = Cycle {
            start: plan.start,
            end: cursor,
            skip,
            inserts,
            index,
            text: String::new(),
            cursor: 0,
        };
        cycle.apply(editor);
        self.cycle = Some(cycle);
        true
    }
}

/// What the first Tab replaces, and with what.
struct Plan {
    /// Byte index where the replaced word starts (it ends at the cursor).
    start: usize,
    /// In order, ready to insert (quoted if needed), without the suffix.
    candidates: Vec<String>,
    suffix: &'static str,
}

/// The candidates for the word before `cursor`.
fn plan(text: &str, cursor: usize, ctx: &CompletionContext) -> Option<Plan> {
    let before = &text[..cursor];
    if before.starts_with('/') && !before.starts_with("//") {
        return command_plan(before, ctx);
    }
    // Plain text: nicks; `nick: ` to address someone at the start.
    let start = word_start(before);
    Some(Plan {
        start,
        candidates: nicks(ctx, &before[start..]),
        suffix: if start == 0 { ": " } else { " " },
    })
}

fn command_plan(before: &str, ctx: &CompletionContext) -> Option<Plan> {
    let (tokens, open) = lex(before);
    let first = tokens.first()?;
    if tokens.len() == 1 && open {
        let prefix = first.text.strip_prefix('/').unwrap_or(&first.text);
        return Some(Plan {
            start: 0,
            candidates: command_names(prefix)
                .map(|name| format!("/{name}"))
                .collect(),
            suffix: " ",
        });
    }
    let spec = table::lookup(first.text.strip_prefix('/')?)?;
    let (given, word) = if open {
        tokens.split_at(tokens.len() - 1)
    } else {
        (&tokens[..], &[][..])
    };
    let (start, prefix, quoted) = match word.first() {
        Some(token) => (token.start, token.text.as_str(), token.quoted),
        None => (before.len(), "", false),
    };
    let place = place(spec, &given[1..]);
    let plan = |candidates: Vec<String>| Plan {
        start,
        candidates: candidates
            .into_iter()
            .filter(|c| !has_controls(c))
            .map(|c| quote(&c))
            .collect(),
        suffix: " ",
    };

    if let Some(option) = place.option_value {
        return Some(plan(match option.value {
            Some("NICK") => nicks(ctx, prefix),
            _ => Vec::new(),
        }));
    }
    if !place.options.is_empty() && !quoted && prefix.starts_with("--") {
        return Some(Plan {
            start,
            candidates: place
                .options
                .iter()
                .filter(|o| !place.given_options.contains(&o.name))
                .map(|o| o.name)
                .filter(|name| matches(name, prefix))
                .map(str::to_string)
                .collect(),
            suffix: " ",
        });
    }
    let Some(arg) = place.arg else {
        return Some(plan(Vec::new()));
    };
    let rooms = || filter(ctx.rooms.iter().copied(), prefix);
    Some(plan(match arg.kind {
        ArgKind::Word if arg.name == "PATH" => paths(prefix),
        ArgKind::Room | ArgKind::RoomNick => rooms(),
        ArgKind::RoomOrAll => {
            let mut all = rooms();
            all.extend(filter(["all"], prefix));
            all
        }
        ArgKind::Jid => {
            let mut jids = rooms();
            if let Some(room) = nicks_room(ctx, prefix) {
                let full = others(ctx).map(|nick| format!("{room}/{nick}"));
                jids.extend(filter(full, prefix));
            }
            jids.extend(filter(ctx.contacts.iter().copied(), prefix));
            dedup(jids)
        }
        ArgKind::Nick => nicks(ctx, prefix),
        ArgKind::Choice(words) => filter(words.iter().copied(), prefix),
        ArgKind::Word if spec.name == "help" && place.position == 0 => {
            match prefix.strip_prefix('/') {
                Some(name) => command_names(name).map(|n| format!("/{n}")).collect(),
                None => command_names(prefix).map(str::to_string).collect(),
            }
        }
        ArgKind::Rest => {
            // Free text: nicks, as in a message (never `nick: `, never
            // quoted), from the whitespace-delimited word.
            let start = word_start(before);
            return Some(Plan {
                start,
                candidates: nicks(ctx, &before[start..]),
                suffix: " ",
            });
        }
        ArgKind::Word | ArgKind::Seconds | ArgKind::KeyValues => Vec::new(),
    }))
}

/// Files and folders (`name/`) whose path starts with `prefix` (`~/`
/// for the home folder); hidden ones only for a prefix naming them.
fn paths(prefix: &str) -> Vec<String> {
    let (dir, start) = match prefix.rfind('/') {
        Some(i) => (&prefix[..=i], &prefix[i + 1..]),
        None => ("", prefix),
    };
    let on_disk = match (dir.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
        _ if dir.is_empty() => std::path::PathBuf::from("."),
        _ => std::path::PathBuf::from(dir),
    };
    let Ok(entries) = std::fs::read_dir(on_disk) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(start) || (name.starts_with('.') && !start.starts_with('.')) {
                return None;
            }
            let slash = if e.file_type().ok()?.is_dir() {
                "/"
            } else {
                ""
            };
            Some(format!("{dir}{name}{slash}"))
        })
        .take(500)
        .collect();
    out.sort();
    out
}

/// Where in a command's arguments the word being completed is.
struct Place {
    /// The positional argument it would be (`None`: past the last).
    arg: Option<ArgSpec>,
    /// Its index among the positional arguments (the form's follow the
    /// form word).
    position: usize,
    /// The option whose value it is, if it follows `--option`.
    option_value: Option<&'static OptSpec>,
    /// The options that may still come (empty after `--`).
    options: &'static [OptSpec],
    /// Options already given.
    given_options: Vec<&'static str>,
}

/// Walks the arguments before the completed word like the parser does:
/// options (and their values) anywhere for commands that have options,
/// `--` ending them; the first argument of `/wait` choosing its form.
fn place(spec: &'static table::CommandSpec, given: &[Tok]) -> Place {
    let mut args: Vec<ArgSpec> = spec.args.to_vec();
    let mut options = spec.options;
    let mut given_options = Vec::new();
    let mut options_done = false;
    let mut value_of: Option<&'static OptSpec> = None;
    let mut position = 0;
    for token in given {
        if value_of.take().is_some() {
            continue;
        }
        if !options_done
            && !spec.options.is_empty()
            && !token.quoted
            && token.text.starts_with("--")
        {
            if token.text == "--" {
                options_done = true;
            } else {
                let (name, inline) = match token.text.split_once('=') {
                    Some((name, _)) => (name, true),
                    None => (token.text.as_str(), false),
                };
                if let Some(option) = spec.options.iter().find(|o| o.name == name) {
                    given_options.push(option.name);
                    if option.value.is_some() && !inline {
                        value_of = Some(option);
                    }
                }
            }
            continue;
        }
        let Some(arg) = args.get(position).copied() else {
            position += 1;
            continue;
        };
        if position == 0
            && let Some(form) = table::forms(spec.name)
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(&token.text))
        {
            args.extend_from_slice(form.args);
            options = form.options;
        }
        if !matches!(arg.kind, ArgKind::Rest | ArgKind::KeyValues) {
            position += 1;
        }
    }
    Place {
        arg: args.get(position).copied(),
        position,
        option_value: value_of,
        options: if options_done { &[] } else { options },
        given_options,
    }
}

/// One word of a command line before the cursor, lexed like
/// `command::tokenize` does, but an unterminated quote is the word being
/// typed rather than an error.
#[derive(Debug)]
struct Tok {
    /// Byte index of its first character.
    start: usize,
    /// Without quotes and escapes.
    text: String,
    quoted: bool,
}

/// The words of `s`, and whether the last one runs up to the end of `s`
/// (it is the word being completed).
fn lex(s: &str) -> (Vec<Tok>, bool) {
    let mut tokens = Vec::new();
    let mut current: Option<Tok> = None;
    let mut in_quote = false;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !in_quote && c.is_whitespace() {
            tokens.extend(current.take());
            continue;
        }
        let token = current.get_or_insert_with(|| Tok {
            start: i,
            text: String::new(),
            quoted: false,
        });
        match c {
            '\\' if matches!(chars.peek(), Some((_, '"' | '\\'))) => {
                if let Some((_, escaped)) = chars.next() {
                    token.text.push(escaped);
                }
            }
            '"' => {
                in_quote = !in_quote;
                token.quoted = true;
            }
            c => token.text.push(c),
        }
    }
    let open = current.is_some();
    tokens.extend(current);
    (tokens, open)
}

/// Byte index where the whitespace-delimited word at the end of `s`
/// starts.
fn word_start(s: &str) -> usize {
    s.char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// A command argument as the parser reads it back: quoted if it has
/// whitespace, quotes or backslashes, or would look like an option.
fn quote(word: &str) -> String {
    if !word.is_empty()
        && !word.starts_with("--")
        && !word.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\')
    {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Case-insensitive prefix match.
fn matches(candidate: &str, prefix: &str) -> bool {
    candidate.to_lowercase().starts_with(&prefix.to_lowercase())
}

fn has_controls(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The candidates that match `prefix`, in order, without repeats.
fn filter<S: AsRef<str>>(candidates: impl IntoIterator<Item = S>, prefix: &str) -> Vec<String> {
    dedup(
        candidates
            .into_iter()
            .filter(|c| matches(c.as_ref(), prefix))
            .map(|c| c.as_ref().to_string())
            .collect(),
    )
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The room whose `ROOM/NICK` JIDs a JID argument is offered: the room
/// typed before a `/` (the context's nicks are taken to be that room's:
/// the caller lists the current room's), or, before any `/`, the only
/// open room (then it is the current one).
fn nicks_room<'c>(ctx: &CompletionContext<'c>, prefix: &str) -> Option<&'c str> {
    match prefix.split_once('/') {
        Some((typed, _)) => ctx
            .rooms
            .iter()
            .copied()
            .find(|room| room.to_lowercase() == typed.to_lowercase()),
        None => match ctx.rooms[..] {
            [only] if !ctx.nicks.is_empty() => Some(only),
            _ => None,
        },
    }
}

/// The room's nicks but ours.
fn others<'c>(ctx: &'c CompletionContext) -> impl Iterator<Item = &'c str> {
    ctx.nicks
        .iter()
        .copied()
        .filter(move |n| !n.is_empty() && Some(*n) != ctx.own_nick && !has_controls(n))
}

fn nicks(ctx: &CompletionContext, prefix: &str) -> Vec<String> {
    filter(others(ctx), prefix)
}

/// Command names matching `prefix` (without `/`): every name in table
/// order, then every alias.
fn command_names(prefix: &str) -> impl Iterator<Item = &'static str> {
    let names = COMMANDS.iter().map(|spec| spec.name);
    let aliases = COMMANDS
        .iter()
        .flat_map(|spec| spec.aliases.iter().copied());
    let prefix = prefix.to_string();
    names.chain(aliases).filter(move |n| matches(n, &prefix))
}

#[cfg(test)]
mod tests;
