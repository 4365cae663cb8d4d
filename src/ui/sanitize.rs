//! Text from the network never reaches the terminal raw: control
//! characters, escape sequences and bidi overrides are shown escaped.

use std::borrow::Cow;

fn is_unsafe(c: char) -> bool {
    c.is_control()  // C0, DEL and C1
        || matches!(c,
            '\u{200E}' | '\u{200F}'            // LRM, RLM
            | '\u{202A}'..='\u{202E}'          // LRE, RLE, PDF, LRO, RLO
            | '\u{2066}'..='\u{2069}'          // LRI, RLI, FSI, PDI
            | '\u{061C}'                       // ALM
        )
}

/// One line of network text made safe for the terminal: tabs become a
/// space, newlines are kept only if `multiline`, every other control or
/// bidi-override character becomes a visible `\u{..}` escape.
pub fn sanitize(text: &str, multiline: bool) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push(' '),
            '\n' if multiline => out.push('\n'),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched() {
        assert!(matches!(
            sanitize("hello, wörld 日本 🎉", false),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn escapes_are_neutralised() {
        let s = sanitize("\u{1b}[2J\u{1b}]0;pwned\u{7}evil\u{9b}31m", false);
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert!(s.contains("\\u{1b}[2J"));
        assert!(s.contains("\\u{9b}"));
    }

    #[test]
    fn bidi_and_newlines() {
        let s = sanitize("abc\u{202E}def\nnext\r", false);
        assert_eq!(s, "abc\\u{202e}def\\u{a}next\\u{d}");
        let s = sanitize("one\ntwo\tthree", true);
        assert_eq!(s, "one\ntwo three");
    }
}
