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
mod tests {
    use super::*;

    const DEMO: &str = "demo@conference.localhost";
    const DEV: &str = "dev@conference.example.org";

    fn ctx() -> CompletionContext<'static> {
        CompletionContext {
            nicks: vec!["bob", "Bea", "alice", "bill", "Carol Ann"],
            rooms: vec![DEMO, DEV],
            own_nick: Some("alice"),
        }
    }

    /// An editor with `text` and the cursor where `|` is (or at the end).
    fn ed(marked: &str) -> LineEditor {
        let mut e = LineEditor::new();
        match marked.find('|') {
            Some(cursor) => {
                e.set(marked.replacen('|', "", 1));
                e.set_cursor(cursor);
            }
            None => e.set(marked),
        }
        e
    }

    fn show(e: &LineEditor) -> String {
        let mut s = e.text().to_string();
        if e.cursor() != s.len() {
            s.insert(e.cursor(), '|');
        }
        s
    }

    /// The lines shown by `tabs` successive Tabs on `marked`.
    fn tabs_with(ctx: &CompletionContext, marked: &str, tabs: usize) -> Vec<String> {
        let mut e = ed(marked);
        let mut c = Completer::new();
        (0..tabs)
            .map(|_| {
                c.complete(&mut e, ctx);
                show(&e)
            })
            .collect()
    }

    fn tabs(marked: &str, n: usize) -> Vec<String> {
        tabs_with(&ctx(), marked, n)
    }

    fn tab(marked: &str) -> String {
        tabs(marked, 1).remove(0)
    }

    /// Every candidate of one cycle (Tab until it wraps).
    fn cycle(marked: &str) -> Vec<String> {
        let mut e = ed(marked);
        let mut c = Completer::new();
        let mut seen = Vec::new();
        for _ in 0..100 {
            if !c.complete(&mut e, &ctx()) {
                break;
            }
            let s = show(&e);
            if seen.first() == Some(&s) {
                break;
            }
            seen.push(s);
        }
        seen
    }

    // --- commands ---

    #[test]
    fn command_names() {
        assert_eq!(tab("/jo"), "/join ");
        assert_eq!(tab("/JO"), "/join ");
        assert_eq!(tab("/he"), "/help ");
        assert_eq!(tab("/join"), "/join ");
        // Names first (table order), then aliases.
        assert_eq!(cycle("/j"), ["/join ", "/j "]);
        assert_eq!(cycle("/q"), ["/quit ", "/query "]);
        assert_eq!(
            cycle("/s"),
            ["/say ", "/status ", "/search ", "/sleep ", "/subject "]
        );
        assert_eq!(cycle("/le"), ["/leave "]);
        assert_eq!(cycle("/ex"), ["/exit "]);
    }

    #[test]
    fn every_command_from_a_slash() {
        let all = cycle("/");
        let names: Vec<String> = COMMANDS
            .iter()
            .map(|s| s.name)
            .chain(COMMANDS.iter().flat_map(|s| s.aliases.iter().copied()))
            .map(|n| format!("/{n} "))
            .collect();
        assert_eq!(all, names);
        assert!(all.contains(&"/join ".to_string()) && all.contains(&"/exit ".to_string()));
    }

    #[test]
    fn unknown_command_has_no_candidates() {
        let mut e = ed("/xyz");
        let mut c = Completer::new();
        assert!(!c.complete(&mut e, &ctx()));
        assert_eq!(show(&e), "/xyz");
        assert!(!c.is_active());
        // Arguments of an unknown command: nothing either.
        let mut e = ed("/frob b");
        assert!(!c.complete(&mut e, &ctx()));
        assert_eq!(show(&e), "/frob b");
    }

    #[test]
    fn double_slash_is_text() {
        let mut e = ed("//jo");
        assert!(!Completer::new().complete(&mut e, &ctx()));
        assert_eq!(tab("//say b"), "//say bob ");
    }

    #[test]
    fn command_in_the_middle_of_text_is_not_completed() {
        assert_eq!(tab("see /jo"), "see /jo");
    }

    #[test]
    fn command_name_keeps_the_rest_of_the_line() {
        // An existing space after the cursor is not doubled.
        assert_eq!(tab("/j| room"), "/join |room");
        assert_eq!(tab("/jo|x"), "/join |x");
    }

    // --- arguments ---

    #[test]
    fn room_arguments() {
        assert_eq!(
            cycle("/join "),
            [format!("/join {DEMO} "), format!("/join {DEV} ")]
        );
        assert_eq!(tab("/join de"), format!("/join {DEMO} "));
        assert_eq!(cycle("/j dev"), [format!("/j {DEV} ")]);
        assert_eq!(tab("/part DE"), format!("/part {DEMO} "));
        assert_eq!(tab("/say dev"), format!("/say {DEV} "));
        assert_eq!(tab("/topic dem"), format!("/topic {DEMO} "));
        assert_eq!(tab("/config dem"), format!("/config {DEMO} "));
        assert_eq!(tab("/nick dem"), format!("/nick {DEMO} "));
        assert_eq!(tab("/join   d"), format!("/join   {DEMO} "));
    }

    #[test]
    fn room_or_all() {
        assert_eq!(
            cycle("/status "),
            [
                format!("/status {DEMO} "),
                format!("/status {DEV} "),
                "/status all ".to_string()
            ]
        );
        assert_eq!(tab("/status A"), "/status all ");
    }

    #[test]
    fn choices() {
        assert_eq!(
            cycle("/status all a"),
            ["/status all available ", "/status all away "]
        );
        assert_eq!(tab("/status all D"), "/status all dnd ");
        assert_eq!(cycle(&format!("/status {DEMO} ")).len(), 5);
        assert_eq!(
            cycle("/wait "),
            ["/wait message ", "/wait occupant ", "/wait event "]
        );
        assert_eq!(tab("/wait o"), "/wait occupant ");
    }

    #[test]
    fn jid_arguments() {
        assert_eq!(
            cycle("/msg "),
            [format!("/msg {DEMO} "), format!("/msg {DEV} ")]
        );
        // After ROOM/: that room's occupants (the context's nicks).
        assert_eq!(
            cycle(&format!("/query {DEMO}/")),
            [
                format!("/query {DEMO}/bob "),
                format!("/query {DEMO}/Bea "),
                format!("/query {DEMO}/bill "),
                format!("/query \"{DEMO}/Carol Ann\" "),
            ]
        );
        assert_eq!(cycle(&format!("/query {DEMO}/b")).len(), 3);
        assert_eq!(tab(&format!("/msg {DEMO}/BE")), format!("/msg {DEMO}/Bea "));
        assert_eq!(
            tab("/msg DEMO@conference.localhost/bo"),
            format!("/msg {DEMO}/bob ")
        );
        // Our own nick is not offered; an unknown room has no occupants.
        assert_eq!(tab(&format!("/msg {DEMO}/al")), format!("/msg {DEMO}/al"));
        assert_eq!(tab("/msg x@y/b"), "/msg x@y/b");
        // With one room open, it is the current one: its occupants at once.
        let one = CompletionContext {
            rooms: vec![DEMO],
            ..ctx()
        };
        assert_eq!(
            tabs_with(&one, "/msg ", 3),
            [
                format!("/msg {DEMO} "),
                format!("/msg {DEMO}/bob "),
                format!("/msg {DEMO}/Bea ")
            ]
        );
        // ... unless it has none listed.
        let empty = CompletionContext {
            rooms: vec![DEMO],
            nicks: vec![],
            own_nick: None,
        };
        assert_eq!(tabs_with(&empty, "/msg ", 2)[1], format!("/msg {DEMO} "));
    }

    #[test]
    fn nick_arguments() {
        assert_eq!(
            tab(&format!("/nick {DEMO} b")),
            format!("/nick {DEMO} bob ")
        );
        assert_eq!(
            tab(&format!("/wait occupant {DEMO} c")),
            format!("/wait occupant {DEMO} \"Carol Ann\" ")
        );
        // A quoted prefix.
        assert_eq!(
            tab(&format!("/wait occupant {DEMO} \"carol a")),
            format!("/wait occupant {DEMO} \"Carol Ann\" ")
        );
        // Our own nick is not offered.
        assert_eq!(tab(&format!("/nick {DEMO} al")), format!("/nick {DEMO} al"));
    }

    #[test]
    fn wait_forms_and_options() {
        assert_eq!(tab("/wait message d"), format!("/wait message {DEMO} "));
        assert_eq!(tab("/wait occupant d"), format!("/wait occupant {DEMO} "));
        assert_eq!(tab("/wait MESSAGE d"), format!("/wait MESSAGE {DEMO} "));
        assert_eq!(tab("/wait event "), "/wait event ");
        let m = format!("/wait message {DEMO}");
        assert_eq!(
            cycle(&format!("{m} --")),
            [
                format!("{m} --from "),
                format!("{m} --contains "),
                format!("{m} --timeout ")
            ]
        );
        assert_eq!(tab(&format!("{m} --t")), format!("{m} --timeout "));
        assert_eq!(tab(&format!("{m} --from b")), format!("{m} --from bob "));
        assert_eq!(tab(&format!("{m} --timeout ")), format!("{m} --timeout "));
        // Options already given are not offered again.
        assert_eq!(
            cycle(&format!("{m} --from bob --")),
            [
                format!("{m} --from bob --contains "),
                format!("{m} --from bob --timeout ")
            ]
        );
        assert_eq!(
            cycle(&format!("{m} --from=bob --")).len(),
            2,
            "an inline value is no separate word"
        );
        // Only the form's options.
        let o = format!("/wait occupant {DEMO}");
        assert_eq!(cycle(&format!("{o} --")), [format!("{o} --timeout ")]);
        // Options before the positional arguments.
        assert_eq!(
            tab("/wait message --timeout 5 d"),
            format!("/wait message --timeout 5 {DEMO} ")
        );
        assert_eq!(
            tab(&format!("/wait occupant --timeout 5 {DEMO} b")),
            format!("/wait occupant --timeout 5 {DEMO} bob ")
        );
        // After `--`, no options.
        assert_eq!(tab(&format!("{m} -- --t")), format!("{m} -- --t"));
        // Commands without options never complete `--`.
        assert_eq!(tab("/say --"), "/say --");
        // `/join` has options now.
        assert_eq!(tab("/join --foc"), "/join --focus ");
    }

    #[test]
    fn help_argument() {
        assert_eq!(tab("/help st"), "/help status ");
        assert_eq!(tab("/help /st"), "/help /status ");
        assert_eq!(cycle("/help q"), ["/help quit ", "/help query "]);
        let every = COMMANDS.iter().map(|s| 1 + s.aliases.len()).sum::<usize>();
        assert_eq!(cycle("/help ").len(), every);
        assert_eq!(tab("/help quit "), "/help quit ");
    }

    #[test]
    fn nothing_to_complete() {
        for line in [
            "/quit ".to_string(),
            "/sleep ".to_string(),
            "/sleep 1".to_string(),
            format!("/join {DEMO} "),
            format!("/config {DEMO} muc"),
            "/status all away x".to_string(),
        ] {
            let mut e = ed(&line);
            let mut c = Completer::new();
            assert!(!c.complete(&mut e, &ctx()), "{line:?}");
            assert_eq!(show(&e), line);
        }
    }

    #[test]
    fn tui_commands() {
        assert_eq!(tab("/me b"), "/me bob ");
        assert_eq!(tab("/me waves at b"), "/me waves at bob ");
        assert_eq!(
            cycle("/layout "),
            ["/layout rooms ", "/layout people ", "/layout events "]
        );
        assert_eq!(tab("/layout P"), "/layout people ");
        assert_eq!(tab("/layout people s"), "/layout people s");
        assert_eq!(tab("/win "), "/win ");
    }

    #[test]
    fn free_text_arguments_complete_nicks() {
        assert_eq!(tab(&format!("/say {DEMO} b")), format!("/say {DEMO} bob "));
        assert_eq!(
            tab(&format!("/say {DEMO} hi b")),
            format!("/say {DEMO} hi bob ")
        );
        // The rest of the line is verbatim: no quoting, quotes ignored.
        assert_eq!(
            tab(&format!("/topic {DEMO} \"with c")),
            format!("/topic {DEMO} \"with Carol Ann ")
        );
        assert_eq!(
            tab(&format!("/status {DEMO} away see b")),
            format!("/status {DEMO} away see bob ")
        );
    }

    // --- plain text ---

    #[test]
    fn nick_at_line_start_gets_colon() {
        assert_eq!(tab("b"), "bob: ");
        assert_eq!(tab("BE"), "Bea: ");
        assert_eq!(tab("car"), "Carol Ann: ");
        assert_eq!(tab(""), "bob: ");
    }

    #[test]
    fn nick_elsewhere_gets_space() {
        assert_eq!(tab("hi b"), "hi bob ");
        assert_eq!(tab("bob: and bi"), "bob: and bill ");
        assert_eq!(tab(" b"), " bob ");
        assert_eq!(tab("one\nb"), "one\nbob ");
    }

    #[test]
    fn own_nick_is_excluded() {
        assert_eq!(tab("al"), "al");
        let ctx = CompletionContext {
            own_nick: None,
            ..ctx()
        };
        assert_eq!(tabs_with(&ctx, "al", 1), ["alice: "]);
    }

    #[test]
    fn nicks_in_the_middle_of_the_line() {
        assert_eq!(tab("b| is here"), "bob: |is here");
        assert_eq!(tabs("b| is here", 2)[1], "Bea: |is here");
        assert_eq!(tab("hi b|!"), "hi bob |!");
    }

    #[test]
    fn cycling_wraps_around() {
        assert_eq!(tabs("b", 5), ["bob: ", "Bea: ", "bill: ", "bob: ", "Bea: "]);
        assert_eq!(
            tabs("hi b", 4),
            ["hi bob ", "hi Bea ", "hi bill ", "hi bob "]
        );
        assert_eq!(tabs("/jo", 3), ["/join ", "/join ", "/join "]);
    }

    #[test]
    fn complete_previous_goes_backwards() {
        let mut e = ed("b");
        let mut c = Completer::new();
        assert!(c.complete_previous(&mut e, &ctx()));
        assert_eq!(show(&e), "bill: ");
        c.complete_previous(&mut e, &ctx());
        assert_eq!(show(&e), "Bea: ");
        c.complete(&mut e, &ctx());
        assert_eq!(show(&e), "bill: ");
        c.complete(&mut e, &ctx());
        assert_eq!(show(&e), "bob: ");
    }

    #[test]
    fn no_candidates_changes_nothing() {
        let mut c = Completer::new();
        for line in ["zz", "hi zz", "hi zz| there"] {
            let mut e = ed(line);
            assert!(!c.complete(&mut e, &ctx()), "{line}");
            assert_eq!(show(&e), line);
        }
        let empty = CompletionContext::default();
        let mut e = ed("b");
        assert!(!c.complete(&mut e, &empty));
        assert_eq!(show(&e), "b");
        let mut e = ed("/join ");
        assert!(!c.complete(&mut e, &empty));
        assert_eq!(show(&e), "/join ");
    }

    #[test]
    fn reset_starts_a_new_completion() {
        let mut e = ed("b");
        let mut c = Completer::new();
        c.complete(&mut e, &ctx());
        assert!(c.is_active());
        assert_eq!(show(&e), "bob: ");
        c.reset();
        assert!(!c.is_active());
        e.set("hi bi");
        c.complete(&mut e, &ctx());
        assert_eq!(show(&e), "hi bill ");
        // Tab now completes the (empty) word after the space afresh.
        c.reset();
        c.complete(&mut e, &ctx());
        assert_eq!(show(&e), "hi bill bob ");
    }

    #[test]
    fn an_edit_without_reset_starts_afresh() {
        let mut e = ed("b");
        let mut c = Completer::new();
        c.complete(&mut e, &ctx());
        assert_eq!(show(&e), "bob: ");
        e.set("be");
        c.complete(&mut e, &ctx());
        assert_eq!(show(&e), "Bea: ");
        // Moving the cursor is an edit too.
        let mut e = ed("x b");
        c.complete(&mut e, &ctx());
        assert_eq!(show(&e), "x bob ");
        e.set_cursor(1);
        c.complete(&mut e, &ctx());
        assert_eq!(show(&e), "x| bob ");
    }

    #[test]
    fn duplicates_and_control_characters_are_dropped() {
        let ctx = CompletionContext {
            nicks: vec!["bob", "bob", "b\u{1b}[2J", "", "bo"],
            rooms: vec![DEMO, DEMO],
            own_nick: None,
        };
        assert_eq!(tabs_with(&ctx, "b", 3), ["bob: ", "bo: ", "bob: "]);
        assert_eq!(tabs_with(&ctx, "/join ", 2)[1], format!("/join {DEMO} "));
    }

    #[test]
    fn wide_and_non_ascii_nicks() {
        let ctx = CompletionContext {
            nicks: vec!["Émile", "日本", "éa"],
            rooms: vec![],
            own_nick: None,
        };
        assert_eq!(tabs_with(&ctx, "é", 2), ["Émile: ", "éa: "]);
        assert_eq!(tabs_with(&ctx, "hi 日", 1), ["hi 日本 "]);
    }

    #[test]
    fn quoting_of_arguments() {
        assert_eq!(quote("bob"), "bob");
        assert_eq!(quote("Carol Ann"), "\"Carol Ann\"");
        assert_eq!(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote("a\\b"), "\"a\\\\b\"");
        assert_eq!(quote("--x"), "\"--x\"");
        // The parser reads them back.
        for word in ["Carol Ann", "say \"hi\"", "a\\b", "--x"] {
            let tokens = crate::command::tokenize(&quote(word)).unwrap();
            assert_eq!(tokens.len(), 1);
            assert_eq!(tokens[0].text, word);
        }
    }

    #[test]
    fn lexing_before_the_cursor() {
        let (tokens, open) = lex("/wait \"a b\" c\\\"d ");
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["/wait", "a b", "c\"d"]);
        assert!(!open);
        assert_eq!(tokens[1].start, 6);
        assert!(tokens[1].quoted && !tokens[2].quoted);
        let (tokens, open) = lex("/nick r \"Carol A");
        assert!(open);
        assert_eq!(tokens[2].text, "Carol A");
        assert_eq!(tokens[2].start, 8);
    }

    #[test]
    fn completed_commands_parse() {
        // Whatever Tab produces for a whole command is what the parser
        // accepts.
        let line = tabs(&format!("/wait occupant {DEMO} c"), 1).remove(0);
        match crate::command::parse(&line).unwrap() {
            crate::command::Command::Wait(w) => assert_eq!(
                w.kind,
                crate::command::WaitKind::Occupant {
                    room: DEMO.parse().unwrap(),
                    nick: "Carol Ann".into()
                }
            ),
            other => panic!("{other:?}"),
        }
        let line = cycle(&format!("/msg {DEMO}/")).pop().unwrap();
        assert!(
            crate::command::parse(&format!("{line}hi")).is_ok(),
            "{line}"
        );
    }
}
