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
    fn protocol_option(&self) -> Result<Option<crate::store::Protocol>, ParseError> {
        use crate::store::Protocol;
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
mod tests {
    use super::*;

    fn r(jid: &str) -> BareJid {
        BareJid::new(jid).unwrap()
    }

    fn ok(line: &str) -> Command {
        parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    /// (column, message) of a failing parse.
    fn err(line: &str) -> (usize, String) {
        match parse(line) {
            Ok(cmd) => panic!("{line:?} parsed as {cmd:?}"),
            Err(e) => {
                // The message always names the column it reports.
                assert!(e.message.contains(&format!("column {}", e.column)), "{e}");
                assert_eq!(e.to_string(), e.message);
                (e.column, e.message)
            }
        }
    }

    fn texts(line: &str) -> Vec<String> {
        tokenize(line)
            .unwrap()
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    fn wait(kind: WaitKind, secs: f64) -> Command {
        Command::Wait(Wait {
            kind,
            timeout: Duration::from_secs_f64(secs),
        })
    }

    // ---- tokenize ----

    #[test]
    fn tokenize_splits_on_whitespace_with_columns() {
        let tokens = tokenize("  /say \troom@c  hi ").unwrap();
        let got: Vec<(&str, usize, usize)> = tokens
            .iter()
            .map(|t| (t.text.as_str(), t.column, t.end))
            .collect();
        assert_eq!(got, [("/say", 2, 6), ("room@c", 8, 14), ("hi", 16, 18)]);
        assert!(tokens.iter().all(|t| !t.quoted));
        assert!(tokenize("").unwrap().is_empty());
        assert!(tokenize("   ").unwrap().is_empty());
    }

    #[test]
    fn tokenize_quotes_and_escapes() {
        assert_eq!(texts(r#"a "b c"  d"#), ["a", "b c", "d"]);
        assert_eq!(texts(r#"a"b c"d"#), ["ab cd"]);
        assert_eq!(texts(r#""" x"#), ["", "x"]);
        assert_eq!(
            texts(r#"say \"hi\" "a \"q\" b""#),
            ["say", "\"hi\"", "a \"q\" b"]
        );
        assert_eq!(
            texts(r#"back\\slash "\\" \n"#),
            ["back\\slash", "\\", "\\n"]
        );
        assert_eq!(texts("trailing\\"), ["trailing\\"]);
        let tokens = tokenize(r#"x "y z""#).unwrap();
        assert_eq!((tokens[1].column, tokens[1].end), (2, 7));
        assert!(tokens[1].quoted && !tokens[0].quoted);
    }

    #[test]
    fn tokenize_counts_columns_in_chars() {
        let tokens = tokenize("é \"ü x\" ñ").unwrap();
        let got: Vec<(&str, usize)> = tokens.iter().map(|t| (t.text.as_str(), t.column)).collect();
        assert_eq!(got, [("é", 0), ("ü x", 2), ("ñ", 8)]);
    }

    #[test]
    fn tokenize_unterminated_quote() {
        let e = tokenize(r#"a "b c"#).unwrap_err();
        assert_eq!(e.column, 2);
        assert_eq!(e.message, "unterminated quote starting at column 2");
        // An escaped quote does not close.
        assert_eq!(tokenize(r#"x "a\""#).unwrap_err().column, 2);
        assert_eq!(tokenize(r#"ab""#).unwrap_err().column, 2);
    }

    // ---- general ----

    #[test]
    fn must_start_with_slash() {
        assert_eq!(
            err("hello"),
            (0, "expected a command starting with / at column 0".into())
        );
        assert_eq!(err("  hi /join").0, 2);
        assert_eq!(err("").0, 0);
        assert_eq!(err("   ").0, 0);
        assert_eq!(err("\n").0, 0);
        assert_eq!(
            err("/"),
            (1, "expected a command name after / at column 1".into())
        );
        assert_eq!(err("  / join").0, 3);
    }

    #[test]
    fn unknown_commands() {
        assert_eq!(
            err("/jion room@c"),
            (
                0,
                "unknown command /jion (did you mean /join?) at column 0".into()
            )
        );
        assert_eq!(
            err("  /frobnicate"),
            (
                2,
                "unknown command /frobnicate (type /help for a list) at column 2".into()
            )
        );
        // `//text` is not special here.
        assert_eq!(
            err("//hello there").1,
            "unknown command //hello (type /help for a list) at column 0"
        );
        // Misspelt alias.
        assert!(err("/qiut").1.contains("did you mean /quit?"));
    }

    #[test]
    fn leading_whitespace_case_and_line_endings() {
        assert_eq!(ok("   /quit"), Command::Quit);
        assert_eq!(ok("/QUIT"), Command::Quit);
        assert_eq!(ok("/quit\r\n"), Command::Quit);
        assert_eq!(ok("/quit   "), Command::Quit);
        assert_eq!(
            ok("/say r@c hi\r\n"),
            Command::Say {
                room: r("r@c"),
                text: "hi".into()
            }
        );
        assert_eq!(
            ok("  /Join r@c"),
            Command::Join {
                room: r("r@c"),
                nick: None,
                password: None,
                options: Default::default(),
            }
        );
    }

    #[test]
    fn extra_arguments() {
        assert_eq!(
            err("/quit now"),
            (
                5 + 1,
                "/quit: unexpected extra argument \"now\" at column 6".into()
            )
        );
        assert_eq!(err("/join r@c/n pw extra").0, 15);
        assert_eq!(err("/nick r@c bob  smith").0, 15);
        assert_eq!(err("/sleep 1 2").0, 9);
        assert_eq!(err("/help join part").0, 11);
        assert_eq!(
            err("/wait occupant r@c bob carol").1,
            "/wait occupant: unexpected extra argument \"carol\" at column 23"
        );
    }

    // ---- join ----

    #[test]
    fn join() {
        assert_eq!(
            ok("/join room@conf.example.org/nick secret"),
            Command::Join {
                room: r("room@conf.example.org"),
                nick: Some("nick".into()),
                password: Some("secret".into()),
                options: Default::default(),
            }
        );
        assert_eq!(
            ok("/join room@conf"),
            Command::Join {
                room: r("room@conf"),
                nick: None,
                password: None,
                options: Default::default(),
            }
        );
        assert_eq!(
            ok(r#"/j room@conf/a/b "pass word""#),
            Command::Join {
                room: r("room@conf"),
                nick: Some("a/b".into()),
                password: Some("pass word".into()),
                options: Default::default(),
            }
        );
        // A quoted nick with spaces.
        assert_eq!(
            ok(r#"/join "room@conf/Mister X""#),
            Command::Join {
                room: r("room@conf"),
                nick: Some("Mister X".into()),
                password: None,
                options: Default::default(),
            }
        );
    }

    #[test]
    fn join_errors() {
        assert_eq!(
            err("/join"),
            (
                6,
                "/join: expected ROOM[/NICK] (a room JID like room@conference.example.org) at column 6"
                    .into()
            )
        );
        assert_eq!(err("/join   ").0, 6);
        assert_eq!(err("/j").0, 3);
        let (column, message) = err("/join conf.example.org");
        assert_eq!(column, 6);
        assert_eq!(
            message,
            "/join: expected ROOM[/NICK] (a room JID like room@conference.example.org) \
             at column 6, found \"conf.example.org\": a room JID needs a room name before the @"
        );
        let (column, message) = err("/join room@conf/");
        assert_eq!(column, 6);
        assert!(
            message.ends_with("found \"room@conf/\": the nickname is empty"),
            "{message}"
        );
        assert_eq!(err("/join @conf").0, 6);
        assert_eq!(err("/join a@b@c").0, 6);
        assert_eq!(err("/join r@c \"\"").0, 10);
        assert_eq!(
            err("/join \"r@c").1,
            "/join: unterminated quote starting at column 6"
        );
    }

    // ---- part ----

    #[test]
    fn part() {
        assert_eq!(
            ok("/part r@c"),
            Command::Part {
                room: r("r@c"),
                reason: None
            }
        );
        assert_eq!(
            ok("/part r@c   gone  fishing, \"back\" soon"),
            Command::Part {
                room: r("r@c"),
                reason: Some("gone  fishing, \"back\" soon".into())
            }
        );
        assert_eq!(
            ok("/leave r@c \"bye  now\""),
            Command::Part {
                room: r("r@c"),
                reason: Some("bye  now".into())
            }
        );
        assert_eq!(
            ok("/part r@c \"\""),
            Command::Part {
                room: r("r@c"),
                reason: None
            }
        );
        assert_eq!(err("/part").0, 6);
        assert!(
            err("/part r@c/nick")
                .1
                .contains("a room JID has no /NICK part here")
        );
    }

    // ---- correct ----

    #[test]
    fn correct_and_its_alias() {
        let correct = |text: &str| Command::Correct {
            room: r("r@c"),
            text: text.into(),
        };
        assert_eq!(ok("/correct r@c hello  world"), correct("hello  world"));
        assert_eq!(ok("/edit r@c fixed"), correct("fixed"));
        assert_eq!(ok(r#"/correct r@c "  x ""#), correct("  x "));
        assert!(err("/correct r@c").1.contains("TEXT"));
        assert!(err("/correct").1.contains("ROOM"));
        assert_eq!(ok("/correct r@c x").name(), "correct");
    }

    // ---- say ----

    #[test]
    fn say_keeps_the_rest_verbatim() {
        let say = |text: &str| Command::Say {
            room: r("r@c"),
            text: text.into(),
        };
        assert_eq!(ok("/say r@c hello"), say("hello"));
        assert_eq!(ok("/say r@c  hello   world  "), say("hello   world  "));
        assert_eq!(ok("/say r@c \t x"), say("x"));
        // One fully quoted word is unquoted.
        assert_eq!(ok(r#"/say r@c "  hi  there ""#), say("  hi  there "));
        assert_eq!(ok(r#"/say r@c "say \"hi\"""#), say("say \"hi\""));
        assert_eq!(ok(r#"/say r@c "hi"   "#), say("hi"));
        // Anything else is verbatim: several words, partial quotes,
        // unbalanced quotes, backslashes, things that look like options.
        assert_eq!(ok(r#"/say r@c "a" "b""#), say(r#""a" "b""#));
        assert_eq!(ok(r#"/say r@c "a"b"#), say(r#""a"b"#));
        assert_eq!(ok(r#"/say r@c he said "hi"#), say(r#"he said "hi"#));
        assert_eq!(ok(r#"/say r@c "unterminated"#), say(r#""unterminated"#));
        assert_eq!(ok(r#"/say r@c C:\dir\ \"x\""#), say(r#"C:\dir\ \"x\""#));
        assert_eq!(ok("/say r@c --timeout 5"), say("--timeout 5"));
        assert_eq!(ok("/say r@c héllo wörld"), say("héllo wörld"));
    }

    #[test]
    fn say_errors() {
        assert_eq!(
            err("/say r@c"),
            (
                9,
                "/say: expected TEXT (the rest of the line) at column 9".into()
            )
        );
        assert_eq!(err("/say r@c    ").0, 9);
        assert_eq!(
            err(r#"/say r@c """#),
            (
                9,
                "/say: expected TEXT (the rest of the line) at column 9, found \"\": it is empty"
                    .into()
            )
        );
        assert_eq!(err("/say").0, 5);
        assert_eq!(err("/say hello world").0, 5);
    }

    // ---- msg ----

    #[test]
    fn msg() {
        assert_eq!(
            ok("/msg bob@example.org hi  there"),
            Command::Msg {
                to: Jid::new("bob@example.org").unwrap(),
                text: "hi  there".into()
            }
        );
        let cmd = ok("/query room@conf/bob the nick");
        assert_eq!(
            cmd,
            Command::Msg {
                to: Jid::new("room@conf/bob").unwrap(),
                text: "the nick".into()
            }
        );
        let Command::Msg { to, .. } = cmd else {
            unreachable!()
        };
        assert!(to.is_full());
        let (column, message) = err("/msg @example.org hi");
        assert_eq!(column, 5);
        assert!(
            message.starts_with("/msg: expected JID-or-ROOM/NICK (a JID like user@example.org"),
            "{message}"
        );
        assert_eq!(err("/msg bob@example.org").0, 21);
        assert_eq!(err("/msg").0, 5);
    }

    // ---- nick ----

    #[test]
    fn nick() {
        assert_eq!(
            ok("/nick r@c alice2"),
            Command::Nick {
                room: r("r@c"),
                nick: "alice2".into()
            }
        );
        assert_eq!(
            ok(r#"/nick r@c "Alice Liddell""#),
            Command::Nick {
                room: r("r@c"),
                nick: "Alice Liddell".into()
            }
        );
        assert_eq!(
            err("/nick r@c"),
            (
                10,
                "/nick: expected NEWNICK (a nickname) at column 10".into()
            )
        );
        assert_eq!(
            err(r#"/nick r@c """#),
            (
                10,
                "/nick: expected NEWNICK (a nickname) at column 10, found \"\": the nickname is empty"
                    .into()
            )
        );
        assert_eq!(err("/nick alice").0, 6);
    }

    // ---- topic ----

    #[test]
    fn topic() {
        let topic = Command::Topic {
            room: r("r@c"),
            text: "Welcome,  all!".into(),
        };
        assert_eq!(ok("/topic r@c Welcome,  all!"), topic);
        assert_eq!(ok("/subject r@c Welcome,  all!"), topic);
        assert_eq!(err("/topic r@c").0, 11);
        assert_eq!(err("/topic r@c \"\"").0, 11);
    }

    // ---- status ----

    #[test]
    fn status() {
        assert_eq!(
            ok("/status all away back soon"),
            Command::Status {
                target: StatusTarget::All,
                show: Show::Away,
                text: Some("back soon".into())
            }
        );
        assert_eq!(
            ok("/status room@c dnd"),
            Command::Status {
                target: StatusTarget::Room(r("room@c")),
                show: Show::Dnd,
                text: None
            }
        );
        for (word, show) in [
            ("available", Show::Available),
            ("chat", Show::Chat),
            ("away", Show::Away),
            ("xa", Show::Xa),
            ("dnd", Show::Dnd),
            ("AWAY", Show::Away),
        ] {
            let Command::Status { show: got, .. } = ok(&format!("/status ALL {word}")) else {
                unreachable!()
            };
            assert_eq!(got, show);
        }
    }

    #[test]
    fn status_errors() {
        assert_eq!(
            err("/status room@c busy"),
            (
                15,
                "/status: expected one of available, chat, away, xa, dnd at column 15, found \"busy\""
                    .into()
            )
        );
        assert_eq!(
            err("/status all"),
            (
                12,
                "/status: expected one of available, chat, away, xa, dnd at column 12".into()
            )
        );
        let (column, message) = err("/status away");
        assert_eq!(column, 8);
        assert!(message.starts_with("/status: expected ROOM|all (a room JID like room@conference.example.org, or all) at column 8, found \"away\""), "{message}");
    }

    // ---- wait ----

    #[test]
    fn wait_message() {
        assert_eq!(
            ok(r#"/wait message r@c --from bob --contains "hi there" --timeout 5"#),
            wait(
                WaitKind::Message {
                    room: r("r@c"),
                    from: Some("bob".into()),
                    contains: Some("hi there".into())
                },
                5.0
            )
        );
        assert_eq!(
            ok("/wait message r@c"),
            Command::Wait(Wait {
                kind: WaitKind::Message {
                    room: r("r@c"),
                    from: None,
                    contains: None
                },
                timeout: DEFAULT_WAIT,
            })
        );
        // Options anywhere after the command name, `=` form too.
        assert_eq!(
            ok("/wait --timeout=2.5 message --contains=x r@c"),
            wait(
                WaitKind::Message {
                    room: r("r@c"),
                    from: None,
                    contains: Some("x".into())
                },
                2.5
            )
        );
        // An option's value may itself start with --.
        assert_eq!(
            ok("/wait message r@c --contains --x"),
            Command::Wait(Wait {
                kind: WaitKind::Message {
                    room: r("r@c"),
                    from: None,
                    contains: Some("--x".into())
                },
                timeout: DEFAULT_WAIT,
            })
        );
    }

    #[test]
    fn wait_occupant_and_event() {
        assert_eq!(
            ok("/wait occupant r@c bob --timeout 0.5"),
            wait(
                WaitKind::Occupant {
                    room: r("r@c"),
                    nick: "bob".into()
                },
                0.5
            )
        );
        assert_eq!(
            ok("/wait event reconnected"),
            Command::Wait(Wait {
                kind: WaitKind::Event {
                    name: "reconnected".into(),
                    fields: vec![]
                },
                timeout: DEFAULT_WAIT,
            })
        );
        let field = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            ok(r#"/wait event occupant room=r@c --timeout 3 action=nick "text=a = b" empty="#),
            wait(
                WaitKind::Event {
                    name: "occupant".into(),
                    fields: vec![
                        field("room", "r@c"),
                        field("action", "nick"),
                        field("text", "a = b"),
                        field("empty", ""),
                    ]
                },
                3.0
            )
        );
        // Quoted words and words after `--` are never options.
        assert_eq!(
            ok(r#"/wait event "--timeout""#),
            Command::Wait(Wait {
                kind: WaitKind::Event {
                    name: "--timeout".into(),
                    fields: vec![]
                },
                timeout: DEFAULT_WAIT,
            })
        );
        assert_eq!(
            ok("/wait --timeout 1 event -- --odd x=--y"),
            wait(
                WaitKind::Event {
                    name: "--odd".into(),
                    fields: vec![field("x", "--y")]
                },
                1.0
            )
        );
    }

    #[test]
    fn wait_errors() {
        assert_eq!(
            err("/wait"),
            (
                6,
                "/wait: expected one of message, occupant, event at column 6".into()
            )
        );
        assert_eq!(
            err("/wait messages r@c").1,
            "/wait: expected one of message, occupant, event at column 6, found \"messages\""
        );
        assert_eq!(
            err("/wait --frm bob message r@c"),
            (
                6,
                "/wait: unknown option --frm (expected --from, --contains, --timeout) at column 6"
                    .into()
            )
        );
        assert_eq!(
            err("/wait message r@c --frm bob"),
            (
                18,
                "/wait message: unknown option --frm (expected --from, --contains, --timeout) at column 18"
                    .into()
            )
        );
        assert_eq!(
            err("/wait occupant r@c bob --from x"),
            (
                23,
                "/wait occupant: option --from does not apply here (expected --timeout) at column 23"
                    .into()
            )
        );
        // Given before the form was known, checked once it is.
        assert_eq!(err("/wait --contains x event ready").0, 6);
        assert_eq!(
            err("/wait message r@c --from"),
            (
                25,
                "/wait message: option --from expects NICK at column 25".into()
            )
        );
        assert_eq!(
            err("/wait message r@c --timeout soon"),
            (
                28,
                "/wait message: option --timeout expects SECS (a number of seconds) at column 28, \
                 found \"soon\": it must be a non-negative number like 5 or 0.5"
                    .into()
            )
        );
        assert_eq!(err("/wait message r@c --timeout=-1").0, 28);
        assert_eq!(
            err("/wait event x --timeout 1 --timeout 2"),
            (
                26,
                "/wait event: option --timeout given again at column 26 (first at column 14)"
                    .into()
            )
        );
        assert_eq!(err(r#"/wait message r@c --from """#).0, 25);
        assert_eq!(err(r#"/wait message r@c --contains """#).0, 29);
        assert_eq!(
            err("/wait message"),
            (
                14,
                "/wait message: expected ROOM (a room JID like room@conference.example.org) at column 14"
                    .into()
            )
        );
        assert_eq!(err("/wait message --timeout 1").0, 26);
        assert_eq!(err("/wait occupant r@c").0, 19);
        assert_eq!(err("/wait event").0, 12);
        let (column, message) = err("/wait event ready nope");
        assert_eq!(column, 18);
        assert!(
            message.starts_with("/wait event: expected KEY=VALUE"),
            "{message}"
        );
        assert!(message.contains("found \"nope\""), "{message}");
        assert_eq!(err("/wait event ready =x").0, 18);
        assert_eq!(err("/wait event \"unterminated").0, 12);
    }

    // ---- sleep ----

    #[test]
    fn sleep() {
        assert_eq!(ok("/sleep 0.5"), Command::Sleep(Duration::from_millis(500)));
        assert_eq!(ok("/sleep 2"), Command::Sleep(Duration::from_secs(2)));
        assert_eq!(ok("/sleep .25"), Command::Sleep(Duration::from_millis(250)));
        assert_eq!(ok("/sleep 3."), Command::Sleep(Duration::from_secs(3)));
        assert_eq!(ok("/sleep 0"), Command::Sleep(Duration::ZERO));
        assert_eq!(
            ok("/sleep 1.0000000019"),
            Command::Sleep(Duration::new(1, 1))
        );
        assert_eq!(
            err("/sleep"),
            (
                7,
                "/sleep: expected SECS (a number of seconds) at column 7".into()
            )
        );
        assert_eq!(
            err("/sleep -1"),
            (
                7,
                "/sleep: expected SECS (a number of seconds) at column 7, found \"-1\": \
                 it must be a non-negative number like 5 or 0.5"
                    .into()
            )
        );
        for bad in [
            "abc", ".", "1e3", "1.2.3", "inf", "NaN", "\"\"", "+1", "1,5",
        ] {
            assert_eq!(err(&format!("/sleep {bad}")).0, 7, "{bad}");
        }
        assert!(
            err("/sleep 99999999999999999999999")
                .1
                .ends_with("it is too large")
        );
    }

    #[test]
    fn seconds_helper() {
        assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(seconds("007"), Ok(Duration::from_secs(7)));
        assert_eq!(seconds("0.000000001"), Ok(Duration::from_nanos(1)));
        assert!(seconds("").is_err());
        assert!(seconds(" 1").is_err());
    }

    // ---- help, quit ----

    #[test]
    fn help() {
        assert_eq!(ok("/help"), Command::Help { topic: None });
        for line in ["/help join", "/help /join", "/help j", "/help JOIN"] {
            assert_eq!(
                ok(line),
                Command::Help {
                    topic: Some("join".into())
                },
                "{line}"
            );
        }
        assert_eq!(
            ok("/help exit"),
            Command::Help {
                topic: Some("quit".into())
            }
        );
        assert_eq!(
            err("/help jion"),
            (
                6,
                "/help: unknown command /jion (did you mean /join?) at column 6".into()
            )
        );
        // Every topic the parser accepts, help_text explains.
        for spec in table::COMMANDS {
            let Command::Help { topic } = ok(&format!("/help {}", spec.name)) else {
                unreachable!()
            };
            assert!(table::help_text(topic.as_deref()).is_ok());
        }
    }

    #[test]
    fn room_directory_and_life_cycle() {
        let svc = |s: &str| Some(Jid::new(s).unwrap());
        assert_eq!(ok("/rooms"), Command::Rooms { service: None });
        assert_eq!(
            ok("/rooms conference.localhost"),
            Command::Rooms {
                service: svc("conference.localhost")
            }
        );
        assert_eq!(
            ok("/search \"dark cave\" chat.example.org"),
            Command::Search {
                query: "dark cave".into(),
                service: svc("chat.example.org")
            }
        );
        assert_eq!(err("/search").0, 8);
        assert_eq!(ok("/info r@c"), Command::Info { room: r("r@c") });
        assert!(err("/info c").1.contains("room name before the @"));
        assert_eq!(
            ok("/create r@c/al --instant"),
            Command::Create {
                room: r("r@c"),
                nick: Some("al".into()),
                instant: true,
                fields: vec![]
            }
        );
        assert_eq!(
            ok("/create r@c muc#roomconfig_roomname=\"The Cave\" muc#roomconfig_publicroom=1"),
            Command::Create {
                room: r("r@c"),
                nick: None,
                instant: false,
                fields: vec![
                    ("muc#roomconfig_roomname".into(), "The Cave".into()),
                    ("muc#roomconfig_publicroom".into(), "1".into())
                ]
            }
        );
        assert!(err("/create r@c --instant=1").1.contains("takes no value"));
        assert_eq!(
            ok("/destroy r@c --reason \"moving on\" --venue new@c"),
            Command::Destroy {
                room: r("r@c"),
                reason: Some("moving on".into()),
                venue: Some(r("new@c"))
            }
        );
        assert_eq!(
            ok("/destroy r@c"),
            Command::Destroy {
                room: r("r@c"),
                reason: None,
                venue: None
            }
        );
        let (col, msg) = err("/destroy r@c --venue nowhere");
        assert_eq!(col, 21);
        assert!(msg.contains("--venue expects ROOM"), "{msg}");
        assert!(err("/destroy r@c --reason").1.contains("expects TEXT"));
    }

    #[test]
    fn quit() {
        assert_eq!(ok("/quit"), Command::Quit);
        assert_eq!(ok("/exit"), Command::Quit);
        assert_eq!(err("/exit now").0, 6);
    }

    // ---- invitations and bookmarks ----

    #[test]
    fn invitations_and_bookmarks() {
        assert_eq!(
            ok(r#"/invite r@c bob@d "come in" --mediated"#),
            Command::Invite {
                room: r("r@c"),
                to: Jid::new("bob@d").unwrap(),
                reason: Some("come in".into()),
                mediated: true,
            }
        );
        assert_eq!(
            ok("/invite --mediated r@c bob@d/res"),
            Command::Invite {
                room: r("r@c"),
                to: Jid::new("bob@d/res").unwrap(),
                reason: None,
                mediated: true,
            }
        );
        assert!(!matches!(
            ok("/invite r@c bob@d"),
            Command::Invite { mediated: true, .. }
        ));
        // A reason of several words must be quoted.
        assert_eq!(err("/invite r@c bob@d come in").0, 23);
        assert!(err("/invite r@c").1.contains("expected JID"));
        assert_eq!(ok("/invitations"), Command::Invitations);
        assert_eq!(ok("/accept 3"), Command::Accept { id: "3".into() });
        assert!(err("/accept").1.contains("expected ID"));
        assert_eq!(
            ok("/decline 3 not  now"),
            Command::Decline {
                id: "3".into(),
                reason: Some("not  now".into())
            }
        );
        assert_eq!(
            ok("/decline 3"),
            Command::Decline {
                id: "3".into(),
                reason: None
            }
        );
        assert_eq!(
            ok(r#"/bookmark r@c --autojoin --nick ali --password "p w""#),
            Command::Bookmark {
                room: Some(r("r@c")),
                autojoin: true,
                nick: Some("ali".into()),
                password: Some("p w".into()),
                name: None,
            }
        );
        assert_eq!(
            ok("/bookmark"),
            Command::Bookmark {
                room: None,
                autojoin: false,
                nick: None,
                password: None,
                name: None,
            }
        );
        assert!(err("/bookmark r@c --nick").1.contains("--nick expects N"));
        assert!(
            err("/bookmark r@c --frob")
                .1
                .contains("unknown option --frob")
        );
        assert_eq!(ok("/bookmarks"), Command::Bookmarks);
        assert_eq!(
            ok("/unbookmark r@c"),
            Command::Unbookmark { room: r("r@c") }
        );
        assert!(err("/unbookmark").1.contains("expected ROOM"));
    }

    // ---- the table and the parser agree ----

    #[test]
    fn every_command_variant_has_a_table_entry() {
        let lines = [
            "/join r@c",
            "/part r@c",
            "/say r@c x",
            "/correct r@c x",
            "/msg u@d x",
            "/nick r@c n",
            "/topic r@c x",
            "/status all away",
            "/config r@c",
            "/rooms",
            "/search x",
            "/info r@c",
            "/browse r@c",
            "/whois r@c n",
            "/create r@c",
            "/destroy r@c",
            "/kick r@c n",
            "/ban r@c n",
            "/unban r@c u@d",
            "/voice r@c n",
            "/devoice r@c n",
            "/role r@c n none",
            "/affiliation r@c u@d none",
            "/members r@c",
            "/admins r@c",
            "/owners r@c",
            "/outcasts r@c",
            "/moderators r@c",
            "/request-voice r@c",
            "/invite r@c u@d",
            "/invitations",
            "/accept 1",
            "/decline 1",
            "/bookmark r@c",
            "/bookmarks",
            "/unbookmark r@c",
            "/roster",
            "/add u@d",
            "/remove u@d",
            "/approve u@d",
            "/deny u@d",
            "/where u@d",
            "/chatting r@c off",
            "/call r@sfu",
            "/hangup",
            "/mute",
            "/unmute",
            "/deafen",
            "/undeafen",
            "/devices",
            "/callconfig r@sfu muc#max=2",
            "/wait event x",
            "/sleep 1",
            "/me waves",
            "/win 2",
            "/layout rooms hide",
            "/help",
            "/quit",
        ];
        let mut names = Vec::new();
        for line in lines {
            let cmd = ok(line);
            // Exhaustive on purpose: a new variant must be added above.
            match &cmd {
                Command::Join { .. }
                | Command::Part { .. }
                | Command::Say { .. }
                | Command::Correct { .. }
                | Command::Msg { .. }
                | Command::Nick { .. }
                | Command::Topic { .. }
                | Command::Status { .. }
                | Command::Config { .. }
                | Command::Rooms { .. }
                | Command::Search { .. }
                | Command::Info { .. }
                | Command::Browse { .. }
                | Command::Whois { .. }
                | Command::Create { .. }
                | Command::Destroy { .. }
                | Command::Moderate(_)
                | Command::Invite { .. }
                | Command::Invitations
                | Command::Accept { .. }
                | Command::Decline { .. }
                | Command::Bookmark { .. }
                | Command::Bookmarks
                | Command::Unbookmark { .. }
                | Command::Roster
                | Command::AddContact { .. }
                | Command::RemoveContact { .. }
                | Command::Approve { .. }
                | Command::Deny { .. }
                | Command::Where { .. }
                | Command::Chatting { .. }
                | Command::Call { .. }
                | Command::Hangup
                | Command::Mute
                | Command::Unmute
                | Command::Deafen
                | Command::Undeafen
                | Command::Devices
                | Command::CallConfig { .. }
                | Command::Me { .. }
                | Command::Win(_)
                | Command::Layout { .. }
                | Command::Wait(_)
                | Command::Sleep(_)
                | Command::Help { .. }
                | Command::Quit => {}
            }
            let spec = table::lookup(cmd.name()).expect("in the table");
            assert_eq!(spec.name, cmd.name());
            assert_eq!(format!("/{}", spec.name), line.split(' ').next().unwrap());
            names.push(cmd.name());
        }
        let table: Vec<&str> = table::COMMANDS.iter().map(|s| s.name).collect();
        assert_eq!(names, table);
    }

    #[test]
    fn every_alias_parses_as_its_command() {
        for spec in table::COMMANDS {
            for alias in spec.aliases {
                let line = match spec.name {
                    "join" | "part" => format!("/{alias} r@c"),
                    "msg" | "topic" | "correct" => format!("/{alias} r@c x"),
                    "quit" | "roster" => format!("/{alias}"),
                    "win" => format!("/{alias} 3"),
                    other => panic!("no sample for /{other}"),
                };
                assert_eq!(ok(&line).name(), spec.name, "{line}");
            }
        }
    }

    /// A sample value for a usage placeholder (or an optional `[...]` group).
    fn sample(word: &str) -> &'static str {
        match word {
            "ROOM[/NICK]" => "room@conference.example.org/alice",
            "ROOM" => "room@conference.example.org",
            "ROOM|all" => "all",
            "available|chat|away|xa|dnd" => "dnd",
            "JID-or-ROOM/NICK" => "room@conference.example.org/bob",
            "TEXT" => "hello  there",
            "NEWNICK" => "alice2",
            "NICK" => "bob",
            "NAME" => "occupant",
            "SECS" => "0.5",
            "[PASSWORD]" => "secret",
            // Quoted: one word for /invite, the same text for a Rest.
            "[REASON]" => "\"gone fishing\"",
            "ID" => "2",
            "[ROOM]" => "room@conference.example.org",
            "[--mediated]" => "--mediated",
            "[--autojoin]" => "--autojoin",
            "[--nick N]" => "--nick alice",
            "[--password P]" => "--password \"s3cret pw\"",
            "[TEXT]" => "back soon",
            "[COMMAND]" => "join",
            "[--from NICK]" => "--from bob",
            "[--contains TEXT]" => "--contains \"hi there\"",
            "[--timeout SECS]" => "--timeout 2",
            "[KEY=VALUE ...]" => "room=room@conference.example.org action=join",
            "N" => "2",
            "PANE" => "people",
            "SETTING" => "24",
            "[FIELD=VALUE ...]" => "muc#roomconfig_roomname=Lounge muc#roomconfig_publicroom=0",
            "[SERVICE]" => "conference.example.org",
            "QUERY" => "lounge",
            "[--instant]" => "--instant",
            "[--reason TEXT]" => "--reason \"closing time\"",
            "[--venue ROOM]" => "--venue new@conference.example.org",
            "[--focus [FOCUS-JID]|--focus-http URL]" => "--focus focus.example.org",
            "[--prop KEY=VALUE]" => "--prop rtcstatsEnabled=true",
            "[--protocol muc|conference|gc]" => "--protocol conference",
            "[--private]" => "--private",
            "NICK-or-JID" => "bob@example.org",
            "JID" => "bob@example.org",
            "on|off" => "off",
            "ROLE" => "visitor",
            "AFFILIATION" => "member",
            other => panic!("no sample for usage word {other:?}"),
        }
    }

    /// Example lines from a usage line: with every optional group, and
    /// with none.
    fn examples(usage: &str) -> [String; 2] {
        let mut full = Vec::new();
        let mut minimal = Vec::new();
        let mut words = usage.split_whitespace();
        while let Some(word) = words.next() {
            if word.starts_with('/') || table::WAIT_KINDS.contains(&word) {
                full.push(word.to_string());
                minimal.push(word.to_string());
            } else if word.starts_with('[') {
                let mut group = word.to_string();
                while !group.ends_with(']') {
                    group.push(' ');
                    group.push_str(words.next().expect("closing ]"));
                }
                full.push(sample(&group).to_string());
            } else {
                full.push(sample(word).to_string());
                minimal.push(sample(word).to_string());
            }
        }
        [full.join(" "), minimal.join(" ")]
    }

    #[test]
    fn every_usage_line_parses() {
        for spec in table::COMMANDS {
            for usage in spec.usage.lines() {
                for line in examples(usage) {
                    assert_eq!(ok(&line).name(), spec.name, "{line}");
                }
            }
        }
        // Spot-check what the examples mean.
        let [full, minimal] =
            examples("/wait message ROOM [--from NICK] [--contains TEXT] [--timeout SECS]");
        assert_eq!(
            ok(&full),
            wait(
                WaitKind::Message {
                    room: r("room@conference.example.org"),
                    from: Some("bob".into()),
                    contains: Some("hi there".into())
                },
                2.0
            )
        );
        assert_eq!(minimal, "/wait message room@conference.example.org");
        let [full, _] = examples(table::lookup("status").unwrap().usage);
        assert_eq!(
            ok(&full),
            Command::Status {
                target: StatusTarget::All,
                show: Show::Dnd,
                text: Some("back soon".into())
            }
        );
    }

    #[test]
    fn join_with_a_focus() {
        use crate::command::{FocusTarget, JoinOptions};
        let options = |line: &str| match ok(line) {
            Command::Join { options, .. } => options,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            options("/join r@c --focus"),
            JoinOptions {
                focus: Some(FocusTarget::Xmpp(None)),
                ..Default::default()
            }
        );
        let o = options("/join r@c --focus focus.example --prop a=1 --prop b=x=y pw");
        assert_eq!(
            o.focus,
            Some(FocusTarget::Xmpp(Some(Jid::new("focus.example").unwrap())))
        );
        assert_eq!(
            o.focus_props,
            vec![("a".into(), "1".into()), ("b".into(), "x=y".into())]
        );
        assert!(matches!(
            ok("/join r@c --focus --prop a=1 pw"),
            Command::Join { password: Some(p), options: JoinOptions { focus: Some(FocusTarget::Xmpp(None)), .. }, .. } if p == "pw"
        ));
        assert_eq!(
            options("/join r@c --focus-http=http://127.0.0.1:5/").focus,
            Some(FocusTarget::Http("http://127.0.0.1:5/".into()))
        );
        let (column, message) = err("/join r@c --focus --focus-http http://x");
        assert_eq!(column, 10);
        assert!(
            message.contains("either --focus or --focus-http"),
            "{message}"
        );
        let (column, message) = err("/join r@c --prop novalue");
        assert_eq!(column, 17);
        assert!(message.contains("KEY=VALUE"), "{message}");
        let (_, message) = err("/join r@c --focus-http ftp://x");
        assert!(message.contains("http://"), "{message}");
        let (_, message) = err("/join r@c --focus a@@b");
        assert!(message.contains("FOCUS-JID"), "{message}");
        // Other options still may not be repeated.
        let (_, message) = err("/join r@c --focus --focus");
        assert!(message.contains("given again"), "{message}");
    }

    #[test]
    fn every_missing_required_argument_is_reported() {
        // Drop the last required argument of each usage: always an error
        // naming that argument, one column after the end of the line.
        for spec in table::COMMANDS.iter().chain(table::WAIT_FORMS) {
            let Some(last) = spec.args.iter().rposition(|a| a.required) else {
                continue;
            };
            if !table::forms(spec.name).is_empty() {
                continue; // its forms are checked instead
            }
            let arg = spec.args[last];
            let usage = spec.usage.lines().next().unwrap();
            // The last word outside `[...]` groups.
            let mut in_group = false;
            let mut last_word = "";
            for word in usage.split_whitespace() {
                if word.starts_with('[') {
                    in_group = true;
                }
                if !in_group {
                    last_word = word;
                }
                if in_group && word.ends_with(']') {
                    in_group = false;
                }
            }
            let [_, minimal] = examples(usage);
            let line = minimal
                .strip_suffix(&format!(" {}", sample(last_word)))
                .unwrap();
            let e = parse(line).unwrap_err();
            assert_eq!(e.column, line.chars().count() + 1, "{line}: {e}");
            let named = match arg.kind {
                ArgKind::Choice(words) => words.join(", "),
                _ => format!("expected {} (", arg.name),
            };
            assert!(e.message.contains(&named), "{line}: {e}");
        }
    }
}
