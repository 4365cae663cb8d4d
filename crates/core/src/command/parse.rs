//! The command-line parser, driven by [`table::COMMANDS`].
//!
//! A line is `/NAME` followed by arguments. Arguments are separated by
//! whitespace; `"double quotes"` group words (`\"` and `\\` escape a quote
//! and a backslash, inside quotes or not). An argument of kind
//! [`ArgKind::Rest`] takes the rest of the line verbatim instead (unquoted
//! only if it is one fully quoted word). Options (`--timeout 5` or
//! `--timeout=5`) may appear anywhere after the command name, for commands
//! that declare options; `--` ends them. An option whose value is
//! `KEY=VALUE` may be given more than once; one whose value is written
//! `[VALUE]` takes the next word only if it is not an option. Errors carry
//! the 0-based character column they refer to.

use std::time::Duration;

use jid::{BareJid, Jid, ResourcePart};

use super::table::{self, ArgKind, ArgSpec, CommandSpec, OptSpec};
use super::{Command, DEFAULT_WAIT, LayoutSetting, Show, StatusTarget, Wait, WaitKind};

/// Why a line is not a valid command, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// 0-based character (not byte) column in the input line.
    pub column: usize,
    /// What was expected where; includes `at column N`.
    pub message: String,
}

impl ParseError {
    fn new(column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            column,
            message: message.into(),
        }
    }
}

/// One word of a line, after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word with quotes and escapes removed.
    pub text: String,
    /// 0-based character column of its first character.
    pub column: usize,
    /// 0-based character column just past its last character.
    pub end: usize,
    /// Whether it contained a quoted part (then it is never an option).
    pub quoted: bool,
}

/// Splits a line into words: whitespace separates, double quotes group,
/// `\"` and `\\` escape (any other backslash is kept). An unterminated quote
/// is an error.
pub fn tokenize(line: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = line.chars().collect();
    let mut lexer = Lexer {
        chars: &chars,
        pos: 0,
    };
    let mut tokens = Vec::new();
    while let Some(lexed) = lexer.next()? {
        tokens.push(lexed.token);
    }
    Ok(tokens)
}

struct Lexed {
    token: Token,
    /// The token is exactly one quoted string: `"..."`.
    whole_quoted: bool,
}

struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Lexer<'_> {
    fn skip_whitespace(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_whitespace();
        self.pos >= self.chars.len()
    }

    fn next(&mut self) -> Result<Option<Lexed>, ParseError> {
        self.skip_whitespace();
        let chars = self.chars;
        let start = self.pos;
        if start >= chars.len() {
            return Ok(None);
        }
        let mut pos = start;
        let mut text = String::new();
        let mut open_quote: Option<usize> = None;
        let mut sections = 0;
        let mut last_close = None;
        while pos < chars.len() {
            let c = chars[pos];
            if open_quote.is_none() && c.is_whitespace() {
                break;
            }
            match c {
                '\\' if matches!(chars.get(pos + 1), Some('"' | '\\')) => {
                    text.push(chars[pos + 1]);
                    pos += 2;
                }
                '"' => {
                    if open_quote.take().is_some() {
                        last_close = Some(pos);
                    } else {
                        open_quote = Some(pos);
                        sections += 1;
                    }
                    pos += 1;
                }
                _ => {
                    text.push(c);
                    pos += 1;
                }
            }
        }
        if let Some(quote) = open_quote {
            return Err(ParseError::new(
                quote,
                format!("unterminated quote starting at column {quote}"),
            ));
        }
        self.pos = pos;
        Ok(Some(Lexed {
            whole_quoted: chars[start] == '"' && sections == 1 && last_close == Some(pos - 1),
            token: Token {
                text,
                column: start,
                end: pos,
                quoted: sections > 0,
            },
        }))
    }

    /// The next token without consuming it.
    fn peek(&mut self) -> Result<Option<Token>, ParseError> {
        let saved = self.pos;
        let next = self.next();
        self.pos = saved;
        Ok(next?.map(|lexed| lexed.token))
    }
}

/// The value placeholder of options that may be given more than once
/// (each time one more pair).
const REPEATABLE: &str = "KEY=VALUE";

/// A converted argument.
pub(super) enum Value {
    Room(BareJid),
    RoomNick(BareJid, Option<String>),
    Jid(Jid),
    All,
    Text(String),
    Seconds(Duration),
    Fields(Vec<(String, String)>),
}

/// A given `--option`.
struct GivenOption {
    spec: &'static OptSpec,
    /// Column of the option name.
    column: usize,
    value: Option<Token>,
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The command as chosen (`spec`), and the form if it has several.
    spec: &'static CommandSpec,
    form: Option<&'static CommandSpec>,
    /// End column of the last consumed token.
    last_end: usize,
    options: Vec<GivenOption>,
    options_done: bool,
}

/// Parses one command line (see the module documentation).
pub fn parse(line: &str) -> Result<Command, ParseError> {
    let mut chars: Vec<char> = line.chars().collect();
    while matches!(chars.last(), Some('\n' | '\r')) {
        chars.pop();
    }
    let start = chars
        .iter()
        .position(|c| !c.is_whitespace())
        .unwrap_or(chars.len());
    if chars.get(start) != Some(&'/') {
        let column = if start == chars.len() { 0 } else { start };
        return Err(ParseError::new(
            column,
            format!("expected a command starting with / at column {column}"),
        ));
    }
    let name_end = (start + 1..chars.len())
        .find(|&i| chars[i].is_whitespace())
        .unwrap_or(chars.len());
    let name: String = chars[start + 1..name_end].iter().collect();
    if name.is_empty() {
        let column = start + 1;
        return Err(ParseError::new(
            column,
            format!("expected a command name after / at column {column}"),
        ));
    }
    let spec = table::lookup(&name).ok_or_else(|| {
        ParseError::new(
            start,
            format!("{} at column {start}", table::unknown_command(&name)),
        )
    })?;
    let mut parser = Parser {
        lexer: Lexer {
            chars: &chars,
            pos: name_end,
        },
        spec,
        form: None,
        last_end: name_end,
        options: Vec::new(),
        options_done: false,
    };
    let values = parser.arguments()?;
    parser.build(values)
}

impl Parser<'_> {
    /// `/wait` or `/wait message`, for messages.
    fn who(&self) -> String {
        match self.form {
            Some(form) => format!("/{} {}", self.spec.name, form.name),
            None => format!("/{}", self.spec.name),
        }
    }

    /// The spec whose arguments and options currently apply.
    fn current(&self) -> &'static CommandSpec {
        self.form.unwrap_or(self.spec)
    }

    fn wrap(&self, error: ParseError) -> ParseError {
        ParseError::new(error.column, format!("{}: {}", self.who(), error.message))
    }

    fn error(&self, column: usize, message: impl std::fmt::Display) -> ParseError {
        ParseError::new(column, format!("{}: {message}", self.who()))
    }

    fn next_token(&mut self) -> Result<Option<Lexed>, ParseError> {
        let lexed = self.lexer.next().map_err(|e| self.wrap(e))?;
        if let Some(lexed) = &lexed {
            self.last_end = lexed.token.end;
        }
        Ok(lexed)
    }

    /// Where a missing argument should have been.
    fn missing_column(&self) -> usize {
        self.last_end + 1
    }

    /// Consumes the positional arguments (and options) of the command.
    fn arguments(&mut self) -> Result<Vec<Option<(Value, usize)>>, ParseError> {
        let mut args: Vec<ArgSpec> = self.spec.args.to_vec();
        let mut values = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i];
            self.options()?;
            let value = match arg.kind {
                ArgKind::Rest => self.rest(arg)?,
                ArgKind::KeyValues => self.key_values(arg)?,
                _ => match self.next_token()? {
                    Some(lexed) => {
                        let token = lexed.token;
                        Some((self.convert(arg, &token)?, token.column))
                    }
                    None if arg.required => return Err(self.missing(arg)),
                    None => None,
                },
            };
            let forms = table::forms(self.spec.name);
            if i == 0 && !forms.is_empty() {
                // The first argument chose the form: its arguments follow.
                if let Some((Value::Text(word), _)) = &value {
                    let form = forms
                        .iter()
                        .find(|f| f.name == word)
                        .expect("a command's forms match its first argument's choices");
                    self.form = Some(form);
                    args.extend_from_slice(form.args);
                    // Options given before the form was known must apply to it.
                    for given in &self.options {
                        self.check_option(given.spec.name, given.column)?;
                    }
                }
            }
            values.push(value);
            i += 1;
        }
        self.options()?;
        if let Some(lexed) = self.next_token()? {
            let token = lexed.token;
            return Err(self.error(
                token.column,
                format_args!(
                    "unexpected extra argument {:?} at column {}",
                    token.text, token.column
                ),
            ));
        }
        Ok(values)
    }

    /// `expected ROOM (a room JID like ...)` or `expected one of a, b, c`.
    fn expected(arg: ArgSpec) -> String {
        match arg.kind {
            ArgKind::Choice(words) => format!("expected one of {}", words.join(", ")),
            kind => format!("expected {} ({})", arg.name, kind.describe()),
        }
    }

    fn missing(&self, arg: ArgSpec) -> ParseError {
        let column = self.missing_column();
        self.error(
            column,
            format_args!("{} at column {column}", Self::expected(arg)),
        )
    }

    fn invalid(&self, arg: ArgSpec, column: usize, found: &str, reason: &str) -> ParseError {
        let mut message = format!(
            "{} at column {column}, found {found:?}",
            Self::expected(arg)
        );
        if !reason.is_empty() {
            message.push_str(": ");
            message.push_str(reason);
        }
        self.error(column, message)
    }

    fn convert(&self, arg: ArgSpec, token: &Token) -> Result<Value, ParseError> {
        let text = token.text.as_str();
        let invalid = |reason: &str| self.invalid(arg, token.column, text, reason);
        Ok(match arg.kind {
            ArgKind::Room => Value::Room(room(text).map_err(|r| invalid(&r))?),
            ArgKind::RoomOrAll if text.eq_ignore_ascii_case("all") => Value::All,
            ArgKind::RoomOrAll => Value::Room(room(text).map_err(|r| invalid(&r))?),
            ArgKind::RoomNick => match text.split_once('/') {
                Some((r, n)) => Value::RoomNick(
                    room(r).map_err(|r| invalid(&r))?,
                    Some(nick(n).map_err(|r| invalid(&r))?),
                ),
                None => Value::RoomNick(room(text).map_err(|r| invalid(&r))?, None),
            },
            ArgKind::Jid => Value::Jid(Jid::new(text).map_err(|e| invalid(&e.to_string()))?),
            ArgKind::Nick => Value::Text(nick(text).map_err(|r| invalid(&r))?),
            ArgKind::Word if text.is_empty() => return Err(invalid("it is empty")),
            ArgKind::Word => Value::Text(text.to_string()),
            ArgKind::Choice(words) => match words.iter().find(|w| w.eq_ignore_ascii_case(text)) {
                Some(word) => Value::Text(word.to_string()),
                None => return Err(invalid("")),
            },
            ArgKind::Seconds => Value::Seconds(seconds(text).map_err(|r| invalid(&r))?),
            ArgKind::KeyValues | ArgKind::Rest => {
                unreachable!("multi-word arguments are consumed separately")
            }
        })
    }

    /// The rest of the line, verbatim but for the separating whitespace
    /// (unquoted if it is one fully quoted word).
    fn rest(&mut self, arg: ArgSpec) -> Result<Option<(Value, usize)>, ParseError> {
        if self.lexer.at_end() {
            return if arg.required {
                Err(self.missing(arg))
            } else {
                Ok(None)
            };
        }
        let column = self.lexer.pos;
        let chars = self.lexer.chars;
        let raw: String = chars[column..].iter().collect();
        let text = match self.lexer.next() {
            Ok(Some(lexed))
                if lexed.whole_quoted
                    && chars[lexed.token.end..].iter().all(|c| c.is_whitespace()) =>
            {
                lexed.token.text
            }
            _ => raw,
        };
        self.lexer.pos = chars.len();
        self.last_end = chars.len();
        if text.is_empty() {
            return if arg.required {
                Err(self.invalid(arg, column, &text, "it is empty"))
            } else {
                Ok(None)
            };
        }
        Ok(Some((Value::Text(text), column)))
    }

    /// Zero or more `KEY=VALUE` words, with options in between.
    fn key_values(&mut self, arg: ArgSpec) -> Result<Option<(Value, usize)>, ParseError> {
        let column = self.missing_column();
        let mut fields = Vec::new();
        loop {
            self.options()?;
            let Some(lexed) = self.next_token()? else {
                break;
            };
            let token = lexed.token;
            match token.text.split_once('=') {
                Some((key, value)) if !key.is_empty() => {
                    fields.push((key.to_string(), value.to_string()));
                }
                _ => {
                    return Err(self.invalid(
                        arg,
                        token.column,
                        &token.text,
                        "it needs a field name, then =, then the value",
                    ));
                }
            }
        }
        if fields.is_empty() && arg.required {
            return Err(self.missing(arg));
        }
        Ok(Some((Value::Fields(fields), column)))
    }

    /// Consumes any options at the current position.
    fn options(&mut self) -> Result<(), ParseError> {
        if self.spec.options.is_empty() || self.options_done {
            return Ok(());
        }
        loop {
            let Some(token) = self.lexer.peek().map_err(|e| self.wrap(e))? else {
                return Ok(());
            };
            if token.quoted || !token.text.starts_with("--") {
                return Ok(());
            }
            self.next_token()?;
            if token.text == "--" {
                self.options_done = true;
                return Ok(());
            }
            let (name, inline) = match token.text.split_once('=') {
                Some((name, value)) => {
                    let column = token.column + name.chars().count() + 1;
                    let value = Token {
                        text: value.to_string(),
                        column,
                        end: token.end,
                        quoted: token.quoted,
                    };
                    (name, Some(value))
                }
                None => (token.text.as_str(), None),
            };
            let spec = self.check_option(name, token.column)?;
            if let Some(earlier) = self
                .options
                .iter()
                .find(|g| g.spec.name == spec.name && spec.value != Some(REPEATABLE))
            {
                return Err(self.error(
                    token.column,
                    format_args!(
                        "option {} given again at column {} (first at column {})",
                        spec.name, token.column, earlier.column
                    ),
                ));
            }
            let value = match (spec.value, inline) {
                (None, None) => None,
                (None, Some(_)) => {
                    return Err(self.error(
                        token.column,
                        format_args!(
                            "option {} at column {} takes no value",
                            spec.name, token.column
                        ),
                    ));
                }
                (Some(_), Some(value)) => Some(value),
                // An optional value: only a following word that is not
                // an option.
                (Some(placeholder), None)
                    if placeholder.starts_with('[')
                        && self
                            .lexer
                            .peek()
                            .map_err(|e| self.wrap(e))?
                            .is_none_or(|t| !t.quoted && t.text.starts_with("--")) =>
                {
                    None
                }
                (Some(placeholder), None) => match self.next_token()? {
                    Some(lexed) => Some(lexed.token),
                    None => {
                        let column = self.missing_column();
                        return Err(self.error(
                            column,
                            format_args!(
                                "option {} expects {placeholder} at column {column}",
                                spec.name
                            ),
                        ));
                    }
                },
            };
            self.options.push(GivenOption {
                spec,
                column: token.column,
                value,
            });
        }
    }

    /// The spec of option `name` if it applies to the current command/form.
    fn check_option(&self, name: &str, column: usize) -> Result<&'static OptSpec, ParseError> {
        let current = self.current();
        if let Some(spec) = current.options.iter().find(|o| o.name == name) {
            return Ok(spec);
        }
        let expected: Vec<&str> = current.options.iter().map(|o| o.name).collect();
        let expected = expected.join(", ");
        let message = if self.spec.options.iter().any(|o| o.name == name) {
            format!("option {name} does not apply here (expected {expected}) at column {column}")
        } else {
            format!("unknown option {name} (expected {expected}) at column {column}")
        };
        Err(self.error(column, message))
    }

    /// The value of option `name`, if given.
    fn option(&self, name: &str) -> Option<&Token> {
        self.options
            .iter()
            .find(|g| g.spec.name == name)
            .and_then(|g| g.value.as_ref())
    }

    fn option_error(&self, name: &str, value: &Token, what: &str, reason: &str) -> ParseError {
        let mut message = format!(
            "option {name} expects {what} at column {}, found {:?}",
            value.column, value.text
        );
        if !reason.is_empty() {
            message.push_str(": ");
            message.push_str(reason);
        }
        self.error(value.column, message)
    }

    /// Builds the command from the converted arguments (in table order).
    fn build(&self, values: Vec<Option<(Value, usize)>>) -> Result<Command, ParseError> {
        let mut values = values.into_iter();
        let mut next = move || values.next().flatten();
        Ok(match self.spec.name {
            "join" => {
                let Some((Value::RoomNick(room, nick), _)) = next() else {
                    unreachable!()
                };
                Command::Join {
                    room,
                    nick,
                    password: text(next()).or(self.text_option("--password")?),
                    options: super::JoinOptions {
                        focus: self.focus_option()?,
                        focus_props: self.key_value_options("--prop")?,
                        protocol: self.protocol_option()?,
                        private: self.options.iter().any(|g| g.spec.name == "--private"),
                    },
                }
            }
            "part" => Command::Part {
                room: bare(next()),
                reason: text(next()),
            },
            "say" => Command::Say {
                room: bare(next()),
                text: text(next()).expect("required"),
            },
            "correct" => Command::Correct {
                room: bare(next()),
                text: text(next()).expect("required"),
            },
            "msg" => {
                let Some((Value::Jid(to), _)) = next() else {
                    unreachable!()
                };
                Command::Msg {
                    to,
                    text: text(next()).expect("required"),
                }
            }
            "nick" => Command::Nick {
                room: bare(next()),
                nick: text(next()).expect("required"),
            },
            "topic" => Command::Topic {
                room: bare(next()),
                text: text(next()).expect("required"),
            },
            "status" => {
                let target = match next() {
                    Some((Value::All, _)) => StatusTarget::All,
                    Some((Value::Room(room), _)) => StatusTarget::Room(room),
                    _ => unreachable!(),
                };
                let show = text(next()).expect("required");
                Command::Status {
                    target,
                    show: Show::from_word(&show).expect("the table lists valid shows"),
                    text: text(next()),
                }
            }
            "wait" => {
                let kind = text(next()).expect("required");
                let kind = match kind.as_str() {
                    "message" => WaitKind::Message {
                        room: bare(next()),
                        from: self.nick_option("--from")?,
                        contains: self.text_option("--contains")?,
                    },
                    "occupant" => WaitKind::Occupant {
                        room: bare(next()),
                        nick: text(next()).expect("required"),
                    },
                    "event" => {
                        let name = text(next()).expect("required");
                        let Some((Value::Fields(fields), _)) = next() else {
                            unreachable!()
                        };
                        WaitKind::Event { name, fields }
                    }
                    _ => unreachable!(),
                };
                let timeout = match self.option("--timeout") {
                    Some(value) => seconds(&value.text).map_err(|reason| {
                        self.option_error("--timeout", value, "SECS (a number of seconds)", &reason)
                    })?,
                    None => DEFAULT_WAIT,
                };
                Command::Wait(Wait { kind, timeout })
            }
            "config" => {
                let room = bare(next());
                let fields = match next() {
                    Some((Value::Fields(fields), _)) => fields,
                    _ => Vec::new(),
                };
                Command::Config { room, fields }
            }
            "rooms" => Command::Rooms {
                service: jid_value(next()),
            },
            "search" => Command::Search {
                query: text(next()).expect("required"),
                service: jid_value(next()),
            },
            "info" => Command::Info { room: bare(next()) },
            "browse" => Command::Browse {
                jid: jid_value(next()).expect("required"),
            },
            "whois" => Command::Whois {
                room: bare(next()),
                nick: text(next()).expect("required"),
            },
            "create" => {
                let Some((Value::RoomNick(room, nick), _)) = next() else {
                    unreachable!()
                };
                let fields = match next() {
                    Some((Value::Fields(fields), _)) => fields,
                    _ => Vec::new(),
                };
                Command::Create {
                    room,
                    nick,
                    instant: self.options.iter().any(|g| g.spec.name == "--instant"),
                    fields,
                }
            }
            "destroy" => Command::Destroy {
                room: bare(next()),
                reason: self.text_option("--reason")?,
                venue: self
                    .option("--venue")
                    .map(|value| {
                        room(&value.text).map_err(|reason| {
                            self.option_error("--venue", value, "ROOM (a room JID)", &reason)
                        })
                    })
                    .transpose()?,
            },
            name if super::admin::NAMES.contains(&name) => {
                Command::Moderate(super::admin::build(name, &mut next))
            }
            "sleep" => {
                let Some((Value::Seconds(duration), _)) = next() else {
                    unreachable!()
                };
                Command::Sleep(duration)
            }
            "me" => Command::Me {
                text: text(next()).expect("required"),
            },
            "win" => {
                let Some((Value::Text(word), column)) = next() else {
                    unreachable!()
                };
                match word.parse::<usize>() {
                    Ok(n) if n >= 1 => Command::Win(n),
                    _ => {
                        return Err(self.error(
                            column,
                            format_args!(
                                "/win: expected N (a room number from 1) at column {column}, found {word:?}"
                            ),
                        ));
                    }
                }
            }
            "layout" => {
                let pane = text(next()).expect("required");
                let Some((Value::Text(word), column)) = next() else {
                    unreachable!()
                };
                let setting = match word.to_ascii_lowercase().as_str() {
                    "show" => LayoutSetting::Show,
                    "hide" => LayoutSetting::Hide,
                    "toggle" => LayoutSetting::Toggle,
                    w => match w.parse::<u16>() {
                        Ok(n) if n <= 80 && pane != "events" => LayoutSetting::Width(n),
                        _ => {
                            return Err(self.error(
                                column,
                                format_args!(
                                    "/layout: expected show, hide, toggle{} at column {column}, found {word:?}",
                                    if pane == "events" { "" } else { " or a width from 0 to 80" }
                                ),
                            ));
                        }
                    },
                };
                Command::Layout { pane, setting }
            }
            "invite" => {
                let room = bare(next());
                let Some((Value::Jid(to), _)) = next() else {
                    unreachable!()
                };
                Command::Invite {
                    room,
                    to,
                    reason: text(next()),
                    mediated: self.options.iter().any(|g| g.spec.name == "--mediated"),
                }
            }
            "invitations" => Command::Invitations,
            "call" => Command::Call { room: bare(next()) },
            "hangup" => Command::Hangup,
            "mute" => Command::Mute,
            "unmute" => Command::Unmute,
            "deafen" => Command::Deafen,
            "undeafen" => Command::Undeafen,
            "devices" => Command::Devices,
            "callconfig" => {
                let room = bare(next());
                let fields = match next() {
                    Some((Value::Fields(fields), _)) => fields,
                    _ => Vec::new(),
                };
                Command::CallConfig { room, fields }
            }
            "accept" => Command::Accept {
                id: text(next()).expect("required"),
            },
            "decline" => Command::Decline {
                id: text(next()).expect("required"),
                reason: text(next()),
            },
            "bookmark" => Command::Bookmark {
                room: next().map(|v| bare(Some(v))),
                autojoin: self.options.iter().any(|g| g.spec.name == "--autojoin"),
                nick: self.nick_option("--nick")?,
                password: self.text_option("--password")?,
                name: None,
            },
            "bookmarks" => Command::Bookmarks,
            "unbookmark" => Command::Unbookmark { room: bare(next()) },
            "roster" => Command::Roster,
            "add" => Command::AddContact {
                jid: contact(next()),
            },
            "remove" => Command::RemoveContact {
                jid: contact(next()),
            },
            "approve" => Command::Approve {
                jid: contact(next()),
            },
            "deny" => Command::Deny {
                jid: contact(next()),
            },
            "where" => Command::Where {
                contact: contact(next()),
            },
            "chatting" => {
                let target = match next() {
                    Some((Value::All, _)) => StatusTarget::All,
                    Some((Value::Room(room), _)) => StatusTarget::Room(room),
                    _ => unreachable!(),
                };
                Command::Chatting {
                    target,
                    publish: text(next()).as_deref() == Some("on"),
                }
            }
            "help" => Command::Help {
                topic: self.help_topic(next())?,
            },
            "quit" => Command::Quit,
            other => unreachable!("no parser for table entry /{other}"),
        })
    }

    fn nick_option(&self, name: &str) -> Result<Option<String>, ParseError> {
        self.option(name)
            .map(|value| {
                nick(&value.text)
                    .map_err(|reason| self.option_error(name, value, "NICK (a nickname)", &reason))
            })
            .transpose()
    }

    /// Every value of a repeatable `KEY=VALUE` option, in order.
    fn key_value_options(&self, name: &str) -> Result<Vec<(String, String)>, ParseError> {
        self.options
            .iter()
            .filter(|g| g.spec.name == name)
            .filter_map(|g| g.value.as_ref())
            .map(|value| match value.text.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(self.option_error(
                    name,
                    value,
                    REPEATABLE,
                    "it needs a name, then =, then the value",
                )),
            })
            .collect()
    }

    /// `/join --focus [FOCUS-JID]` or `--focus-http URL` (not both).
    fn focus_option(&self) -> Result<Option<super::FocusTarget>, ParseError> {
        let given = |name: &str| self.options.iter().find(|g| g.spec.name == name);
        match (given("--focus"), given("--focus-http")) {
            (Some(f), Some(_)) => Err(self.error(
                f.column,
                format_args!(
                    "give either --focus or --focus-http, not both (at column {})",
                    f.column
                ),
            )),
            (Some(f), None) => match &f.value {
                None => Ok(Some(super::FocusTarget::Xmpp(None))),
                Some(value) => Jid::new(&value.text)
                    .map(|j| Some(super::FocusTarget::Xmpp(Some(j))))
                    .map_err(|e| {
                        self.option_error("--focus", value, "FOCUS-JID (a JID)", &e.to_string())
                    }),
            },
            (None, Some(h)) => {
                let value = h.value.as_ref().expect("--focus-http takes a value");
                let url = value.text.as_str();
                if url.starts_with("http://") || url.starts_with("https://") {
                    Ok(Some(super::FocusTarget::Http(url.to_string())))
                } else {
                    Err(self.option_error("--focus-http", value, "URL (http:// or https://)", ""))
                }
            }
            (None, None) => Ok(None),
        }
    }

    /// `--protocol muc|conference|gc` of `/join`.
    fn protocol_option(&self) -> Result<Option<confab_proto::Protocol>, ParseError> {
        use confab_proto::Protocol;
        self.option("--protocol")
            .map(|value| match value.text.as_str() {
                "muc" => Ok(Protocol::Muc),
                "conference" => Ok(Protocol::Conference),
                "gc" | "groupchat" => Ok(Protocol::Groupchat),
                _ => Err(self.option_error("--protocol", value, "muc, conference or gc", "")),
            })
            .transpose()
    }

    fn text_option(&self, name: &str) -> Result<Option<String>, ParseError> {
        self.option(name)
            .map(|value| {
                if value.text.is_empty() {
                    Err(self.option_error(name, value, "TEXT", "it is empty"))
                } else {
                    Ok(value.text.clone())
                }
            })
            .transpose()
    }

    /// `/help [COMMAND]`: the command must exist; yields its canonical name.
    fn help_topic(&self, value: Option<(Value, usize)>) -> Result<Option<String>, ParseError> {
        let Some((Value::Text(word), column)) = value else {
            return Ok(None);
        };
        let name = word.strip_prefix('/').unwrap_or(&word);
        match table::lookup(name) {
            Some(spec) => Ok(Some(spec.name.to_string())),
            None => Err(self.error(
                column,
                format_args!("{} at column {column}", table::unknown_command(name)),
            )),
        }
    }
}

fn bare(value: Option<(Value, usize)>) -> BareJid {
    match value {
        Some((Value::Room(room), _)) => room,
        _ => unreachable!("the table says this argument is a required room"),
    }
}

/// A contact: the bare part of a required JID argument.
fn contact(value: Option<(Value, usize)>) -> BareJid {
    match value {
        Some((Value::Jid(jid), _)) => jid.to_bare(),
        _ => unreachable!("the table says this argument is a required JID"),
    }
}

fn jid_value(value: Option<(Value, usize)>) -> Option<Jid> {
    match value {
        Some((Value::Jid(jid), _)) => Some(jid),
        None => None,
        _ => unreachable!("the table says this argument is a JID"),
    }
}

fn text(value: Option<(Value, usize)>) -> Option<String> {
    match value {
        Some((Value::Text(text), _)) => Some(text),
        None => None,
        _ => unreachable!("the table says this argument is text"),
    }
}

/// A room JID: bare, with a local part. `Err` is the reason.
fn room(text: &str) -> Result<BareJid, String> {
    if text.contains('/') {
        return Err("a room JID has no /NICK part here".into());
    }
    let jid = BareJid::new(text).map_err(|e| e.to_string())?;
    if jid.node().is_none() {
        return Err("a room JID needs a room name before the @".into());
    }
    Ok(jid)
}

/// A nickname: non-empty and a valid resource. `Err` is the reason.
fn nick(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("the nickname is empty".into());
    }
    let part = ResourcePart::new(text).map_err(|e| format!("not a valid nickname: {e}"))?;
    Ok(part.as_str().to_string())
}

/// A non-negative decimal number of seconds (`5`, `0.5`, `.5`, `5.`).
fn seconds(text: &str) -> Result<Duration, String> {
    const REASON: &str = "it must be a non-negative number like 5 or 0.5";
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(REASON.into());
    }
    let secs: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| "it is too large".to_string())?
    };
    let mut nanos = 0u32;
    for i in 0..9 {
        let digit = frac.as_bytes().get(i).map_or(0, |b| u32::from(b - b'0'));
        nanos = nanos * 10 + digit;
    }
    Ok(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests;
