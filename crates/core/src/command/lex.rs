//! The tokenizer of command lines: whitespace separates words, `"double
//! quotes"` group them, `\"` and `\\` escape a quote and a backslash.

use super::parse::ParseError;

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

pub(super) struct Lexed {
    pub(super) token: Token,
    /// The token is exactly one quoted string: `"..."`.
    pub(super) whole_quoted: bool,
}

pub(super) struct Lexer<'a> {
    pub(super) chars: &'a [char],
    pub(super) pos: usize,
}

impl Lexer<'_> {
    fn skip_whitespace(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    pub(super) fn at_end(&mut self) -> bool {
        self.skip_whitespace();
        self.pos >= self.chars.len()
    }

    pub(super) fn next(&mut self) -> Result<Option<Lexed>, ParseError> {
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
    pub(super) fn peek(&mut self) -> Result<Option<Token>, ParseError> {
        let saved = self.pos;
        let next = self.next();
        self.pos = saved;
        Ok(next?.map(|lexed| lexed.token))
    }
}
