//! The command-line parser, driven by [`table::COMMANDS`]: it reads a
//! line's arguments and options as the command's entry declares them and
//! hands them ([`Args`]) to the entry's `build` (the words come from the
//! tokenizer, `lex.rs`).
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

use super::lex::{Lexed, Lexer, Token};
use super::table::{self, ArgKind, ArgSpec, CommandSpec, OptSpec};
use super::{Command, StatusTarget};

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
    pub(super) fn new(column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            column,
            message: message.into(),
        }
    }
}

/// The value placeholder of options that may be given more than once
/// (each time one more pair).
const REPEATABLE: &str = "KEY=VALUE";

/// A converted argument.
enum Value {
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
    let mut args = Args {
        spec,
        form: parser.form,
        options: parser.options,
        values: values.into_iter(),
    };
    // The table entry builds its command.
    (spec.build)(&mut args)
}

impl Parser<'_> {
    /// `/wait` or `/wait message`, for messages.
    fn who(&self) -> String {
        who(self.spec, self.form)
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
}

/// What a table entry's `build` reads: the converted arguments of one
/// line in table order (the command's, then its form's), and its options.
pub struct Args {
    spec: &'static CommandSpec,
    form: Option<&'static CommandSpec>,
    options: Vec<GivenOption>,
    values: std::vec::IntoIter<Option<(Value, usize)>>,
}

impl Args {
    /// The form the first argument chose (`/wait message`), if the
    /// command has forms.
    pub(super) fn form(&self) -> Option<&'static CommandSpec> {
        self.form
    }

    /// The next argument (`None` if an optional one was not given).
    fn next(&mut self) -> Option<(Value, usize)> {
        self.values.next().flatten()
    }

    /// A builder read an argument as something its table entry does not
    /// declare: a bug in the entry, found by the parser's tests.
    fn mismatch(&self, what: &str) -> ! {
        panic!("/{}: its table entry has no {what} here", self.spec.name)
    }

    /// A required [`ArgKind::Room`].
    pub(super) fn room(&mut self) -> BareJid {
        match self.next() {
            Some((Value::Room(room), _)) => room,
            _ => self.mismatch("required ROOM"),
        }
    }

    /// An optional [`ArgKind::Room`].
    pub(super) fn optional_room(&mut self) -> Option<BareJid> {
        match self.next() {
            Some((Value::Room(room), _)) => Some(room),
            None => None,
            _ => self.mismatch("ROOM"),
        }
    }

    /// A required [`ArgKind::RoomNick`].
    pub(super) fn room_nick(&mut self) -> (BareJid, Option<String>) {
        match self.next() {
            Some((Value::RoomNick(room, nick), _)) => (room, nick),
            _ => self.mismatch("required ROOM[/NICK]"),
        }
    }

    /// A required [`ArgKind::RoomOrAll`].
    pub(super) fn target(&mut self) -> StatusTarget {
        match self.next() {
            Some((Value::All, _)) => StatusTarget::All,
            Some((Value::Room(room), _)) => StatusTarget::Room(room),
            _ => self.mismatch("required ROOM|all"),
        }
    }

    /// An optional [`ArgKind::Jid`].
    pub(super) fn optional_jid(&mut self) -> Option<Jid> {
        match self.next() {
            Some((Value::Jid(jid), _)) => Some(jid),
            None => None,
            _ => self.mismatch("JID"),
        }
    }

    /// A required [`ArgKind::Jid`].
    pub(super) fn jid(&mut self) -> Jid {
        match self.next() {
            Some((Value::Jid(jid), _)) => jid,
            _ => self.mismatch("required JID"),
        }
    }

    /// A contact: the bare part of a required [`ArgKind::Jid`].
    pub(super) fn contact(&mut self) -> BareJid {
        self.jid().to_bare()
    }

    /// An optional word, nick, choice or rest of the line.
    pub(super) fn text(&mut self) -> Option<String> {
        self.text_at().map(|(text, _)| text)
    }

    /// A required word, nick, choice or rest of the line.
    pub(super) fn word(&mut self) -> String {
        self.word_at().0
    }

    /// A required word with its column (for errors about its content).
    pub(super) fn word_at(&mut self) -> (String, usize) {
        self.text_at()
            .unwrap_or_else(|| self.mismatch("required word"))
    }

    /// An optional word with its column.
    pub(super) fn text_at(&mut self) -> Option<(String, usize)> {
        match self.next() {
            Some((Value::Text(text), column)) => Some((text, column)),
            None => None,
            _ => self.mismatch("word"),
        }
    }

    /// [`ArgKind::KeyValues`] (none given: empty).
    pub(super) fn fields(&mut self) -> Vec<(String, String)> {
        match self.next() {
            Some((Value::Fields(fields), _)) => fields,
            None => Vec::new(),
            _ => self.mismatch("FIELD=VALUE ..."),
        }
    }

    /// A required [`ArgKind::Seconds`].
    pub(super) fn seconds(&mut self) -> Duration {
        match self.next() {
            Some((Value::Seconds(duration), _)) => duration,
            _ => self.mismatch("required SECS"),
        }
    }

    /// `/wait` or `/wait message`, for messages.
    fn who(&self) -> String {
        who(self.spec, self.form)
    }

    /// An error about the argument at `column`, naming the command.
    pub(super) fn error(&self, column: usize, message: impl std::fmt::Display) -> ParseError {
        ParseError::new(column, format!("{}: {message}", self.who()))
    }

    /// Whether the flag (an option without a value) was given.
    pub(super) fn flag(&self, name: &str) -> bool {
        self.given(name).is_some()
    }

    /// Option `name` as given: its column and value.
    pub(super) fn given(&self, name: &str) -> Option<(usize, Option<&Token>)> {
        self.options
            .iter()
            .find(|g| g.spec.name == name)
            .map(|g| (g.column, g.value.as_ref()))
    }

    /// The value of option `name`, if given.
    pub(super) fn option(&self, name: &str) -> Option<&Token> {
        self.given(name).and_then(|(_, value)| value)
    }

    pub(super) fn option_error(
        &self,
        name: &str,
        value: &Token,
        what: &str,
        reason: &str,
    ) -> ParseError {
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

    pub(super) fn nick_option(&self, name: &str) -> Result<Option<String>, ParseError> {
        self.option(name)
            .map(|value| {
                nick(&value.text)
                    .map_err(|reason| self.option_error(name, value, "NICK (a nickname)", &reason))
            })
            .transpose()
    }

    pub(super) fn text_option(&self, name: &str) -> Result<Option<String>, ParseError> {
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

    /// Every value of a repeatable `KEY=VALUE` option, in order.
    pub(super) fn key_value_options(
        &self,
        name: &str,
    ) -> Result<Vec<(String, String)>, ParseError> {
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
}

/// `/wait` or `/wait message`, for messages.
fn who(spec: &CommandSpec, form: Option<&CommandSpec>) -> String {
    match form {
        Some(form) => format!("/{} {}", spec.name, form.name),
        None => format!("/{}", spec.name),
    }
}

/// A room JID: bare, with a local part. `Err` is the reason.
pub(super) fn room(text: &str) -> Result<BareJid, String> {
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
pub(super) fn nick(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("the nickname is empty".into());
    }
    let part = ResourcePart::new(text).map_err(|e| format!("not a valid nickname: {e}"))?;
    Ok(part.as_str().to_string())
}

/// A non-negative decimal number of seconds (`5`, `0.5`, `.5`, `5.`).
pub(super) fn seconds(text: &str) -> Result<Duration, String> {
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
