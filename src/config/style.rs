//! Style strings of the `[theme]` table:
//!
//! ```text
//! FG [on BG] [bold] [italic] [underline] [reversed] [dim]
//! ```
//!
//! A colour is a name (`black`, `red`, …, `lightcyan`, `white`), `#rrggbb`
//! or a number from 0 to 255 (the 256-colour palette); `default` means "no
//! colour" (the terminal's). Words are case-insensitive and may come in any
//! order; the string `"default"` alone is the default (plain) style.

use ratatui::style::{Color, Modifier, Style};

/// The colour names, for messages.
const COLOUR_NAMES: &str = "black, red, green, yellow, blue, magenta, cyan, gray, darkgray, \
     lightred, lightgreen, lightyellow, lightblue, lightmagenta, lightcyan, white";

/// What a colour may be, for messages.
fn colours_expected() -> String {
    format!("a colour name ({COLOUR_NAMES}), \"#rrggbb\", a number from 0 to 255, or \"default\"")
}

/// The grammar, for messages.
const SYNTAX: &str = "a style is \"FG [on BG] [bold] [italic] [underline] [reversed] [dim]\"";

/// Parse a style string; errors say what was expected.
pub(crate) fn parse_style(s: &str) -> Result<Style, String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.is_empty() {
        return Err(format!(
            "the style is empty ({SYNTAX}, e.g. \"yellow bold\" or \"white on blue\"; \
             \"default\" is the plain style)"
        ));
    }
    let mut style = Style::default();
    let mut fg: Option<&str> = None;
    let mut bg: Option<&str> = None;
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let lower = word.to_ascii_lowercase();
        if lower == "on" {
            let Some(colour) = words.next() else {
                return Err(format!(
                    "{s:?}: \"on\" must be followed by a background colour (expected {})",
                    colours_expected()
                ));
            };
            if let Some(first) = bg {
                return Err(format!(
                    "{s:?}: two background colours ({first:?} and {colour:?})"
                ));
            }
            style.bg = match parse_colour(colour) {
                Ok(c) => c,
                Err(Bad::NotAColour) => {
                    return Err(format!(
                        "{colour:?} is not a colour (expected {})",
                        colours_expected()
                    ));
                }
                Err(Bad::Colour(message)) => return Err(message),
            };
            bg = Some(colour);
        } else if let Some(modifier) = modifier(&lower) {
            style = style.add_modifier(modifier);
        } else {
            match parse_colour(word) {
                Ok(colour) => {
                    if let Some(first) = fg {
                        return Err(format!(
                            "{s:?}: two foreground colours ({first:?} and {word:?}); \
                             write \"FG on BG\" for a background colour"
                        ));
                    }
                    style.fg = colour;
                    fg = Some(word);
                }
                Err(Bad::Colour(message)) => return Err(message),
                Err(Bad::NotAColour) => {
                    return Err(format!(
                        "unknown word {word:?} in style {s:?} ({SYNTAX}; colours: {}; \
                         \"default\" alone is the plain style)",
                        colours_expected()
                    ));
                }
            }
        }
    }
    Ok(style)
}

fn modifier(word: &str) -> Option<Modifier> {
    Some(match word {
        "bold" => Modifier::BOLD,
        "italic" => Modifier::ITALIC,
        "underline" | "underlined" => Modifier::UNDERLINED,
        "reversed" | "reverse" => Modifier::REVERSED,
        "dim" => Modifier::DIM,
        _ => return None,
    })
}

enum Bad {
    /// Not colour-shaped at all (maybe a misspelt modifier).
    NotAColour,
    /// Meant as a colour (`#…`, a number) but invalid; the message says why.
    Colour(String),
}

/// `Ok(None)` is `default` (no colour).
fn parse_colour(word: &str) -> Result<Option<Color>, Bad> {
    if let Some(hex) = word.strip_prefix('#') {
        return match u32::from_str_radix(hex, 16) {
            Ok(rgb) if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
                let [_, r, g, b] = rgb.to_be_bytes();
                Ok(Some(Color::Rgb(r, g, b)))
            }
            _ => Err(bad_colour(
                word,
                "RGB colours are \"#rrggbb\" with six hex digits",
            )),
        };
    }
    if word.chars().all(|c| c.is_ascii_digit()) {
        return word
            .parse::<u8>()
            .map(|n| Some(Color::Indexed(n)))
            .map_err(|_| bad_colour(word, "colour numbers go from 0 to 255"));
    }
    let name: String = word
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let colour = match name.replace("grey", "gray").as_str() {
        "default" => return Ok(None),
        "reset" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" => Color::Gray,
        "darkgray" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return Err(Bad::NotAColour),
    };
    Ok(Some(colour))
}

fn bad_colour(word: &str, reason: &str) -> Bad {
    Bad::Colour(format!(
        "{word:?} is not a colour: {reason} (expected {})",
        colours_expected()
    ))
}

/// The style string of `style`, as [`parse_style`] reads it back (for
/// `--print-config`): `"yellow on blue bold"`, or `"default"`.
pub(crate) fn format_style(style: Style) -> String {
    let mut words: Vec<String> = Vec::new();
    if let Some(fg) = style.fg {
        words.push(colour_word(fg));
    }
    if let Some(bg) = style.bg {
        if words.is_empty() {
            words.push("default".to_owned());
        }
        words.push("on".to_owned());
        words.push(colour_word(bg));
    }
    for (modifier, word) in [
        (Modifier::BOLD, "bold"),
        (Modifier::ITALIC, "italic"),
        (Modifier::UNDERLINED, "underline"),
        (Modifier::REVERSED, "reversed"),
        (Modifier::DIM, "dim"),
    ] {
        if style.add_modifier.contains(modifier) {
            words.push(word.to_owned());
        }
    }
    if words.is_empty() {
        "default".to_owned()
    } else {
        words.join(" ")
    }
}

fn colour_word(colour: Color) -> String {
    match colour {
        Color::Reset => "reset".to_owned(),
        Color::Black => "black".to_owned(),
        Color::Red => "red".to_owned(),
        Color::Green => "green".to_owned(),
        Color::Yellow => "yellow".to_owned(),
        Color::Blue => "blue".to_owned(),
        Color::Magenta => "magenta".to_owned(),
        Color::Cyan => "cyan".to_owned(),
        Color::Gray => "gray".to_owned(),
        Color::DarkGray => "darkgray".to_owned(),
        Color::LightRed => "lightred".to_owned(),
        Color::LightGreen => "lightgreen".to_owned(),
        Color::LightYellow => "lightyellow".to_owned(),
        Color::LightBlue => "lightblue".to_owned(),
        Color::LightMagenta => "lightmagenta".to_owned(),
        Color::LightCyan => "lightcyan".to_owned(),
        Color::White => "white".to_owned(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(n) => n.to_string(),
    }
}
