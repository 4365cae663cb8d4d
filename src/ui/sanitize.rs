//! Text from the network never reaches the terminal raw: control
//! characters, escape sequences, bidi overrides and invisible characters
//! are shown escaped (`\u{200b}`).
//!
//! Two strictnesses:
//! - [`sanitize`] for message bodies, subjects, statuses: invisible
//!   characters that do a job in text are kept where they do it — ZWJ
//!   inside a grapheme cluster (emoji sequences such as 👩‍💻, Indic
//!   conjuncts), ZWNJ (Persian, Indic), one variation selector after its
//!   base (❤️), tag characters inside an emoji tag sequence (🏴 flags);
//!   U+2028/U+2029 become line breaks in multi-line text. Every other
//!   invisible character (ZWSP, WJ, BOM, soft hyphen, CGJ, fillers, stray
//!   tags…) is escaped.
//! - [`sanitize_name`] for nicks and JIDs, where an invisible character
//!   only serves to make one name look like another (`ad\u{200b}min`):
//!   the same, but ZWNJ is always escaped, a variation selector only
//!   kept after a symbol (not after a letter or digit), and every space
//!   other than U+0020 is escaped.

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;

use crate::names::is_default_ignorable;

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';
/// The base of the RGI emoji tag sequences (subdivision flags).
const BLACK_FLAG: char = '\u{1F3F4}';

fn is_bidi_control(c: char) -> bool {
    matches!(c,
        '\u{200E}' | '\u{200F}'            // LRM, RLM
        | '\u{202A}'..='\u{202E}'          // LRE, RLE, PDF, LRO, RLO
        | '\u{2066}'..='\u{2069}'          // LRI, RLI, FSI, PDI
        | '\u{061C}'                       // ALM
    )
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' | '\u{180B}'..='\u{180D}' | '\u{180F}')
}

fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0020}'..='\u{E007F}')
}

/// Characters that never reach a terminal as they are, wherever they
/// come from: controls (C0, DEL, C1), bidi controls, invisible
/// characters, line and paragraph separators, interlinear annotation
/// marks. Also what `--batch` writes as `\uXXXX` escapes.
pub fn is_unsafe(c: char) -> bool {
    // Most text is ASCII: of it only the controls (C0, DEL).
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || is_bidi_control(c)
        || is_default_ignorable(c)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FFF9}'..='\u{FFFB}')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Body { multiline: bool },
    Name,
}

/// One piece of network text made safe for the terminal: tabs become a
/// space, newlines (and U+2028/U+2029) are line breaks only if
/// `multiline`, every other control, bidi or stray invisible character
/// becomes a visible `\u{..}` escape (see the module's text for what is
/// kept).
pub fn sanitize(text: &str, multiline: bool) -> Cow<'_, str> {
    clean(text, Mode::Body { multiline })
}

/// A nick or JID made safe and honest for the terminal: one line, and no
/// invisible character that could make it pass for another name.
pub fn sanitize_name(text: &str) -> Cow<'_, str> {
    clean(text, Mode::Name)
}

fn clean(text: &str, mode: Mode) -> Cow<'_, str> {
    let odd_space = |c: char| mode == Mode::Name && c.is_whitespace() && c != ' ';
    if !text.chars().any(|c| is_unsafe(c) || odd_space(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let escape = |out: &mut String, c: char| out.push_str(&format!("\\u{{{:x}}}", c as u32));
    for cluster in text.graphemes(true) {
        let chars: Vec<char> = cluster.chars().collect();
        let emoji_tags = chars.first() == Some(&BLACK_FLAG);
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            match c {
                '\t' => out.push(' '),
                '\n' | '\u{2028}' | '\u{2029}' if mode == (Mode::Body { multiline: true }) => {
                    out.push('\n')
                }
                // Joins two visible characters of one cluster: only an
                // emoji ZWJ sequence or a conjunct can do that.
                ZWJ if next.is_some_and(|n| !is_unsafe(n)) => out.push(c),
                ZWNJ if matches!(mode, Mode::Body { .. }) => out.push(c),
                c if is_variation_selector(c)
                    && prev.is_some_and(|p| {
                        !is_unsafe(p)
                            && (matches!(mode, Mode::Body { .. })
                                || !(p.is_alphanumeric() || p.is_whitespace()))
                    }) =>
                {
                    out.push(c)
                }
                c if is_tag(c) && emoji_tags => out.push(c),
                c if is_unsafe(c) || odd_space(c) => escape(&mut out, c),
                c => out.push(c),
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_shortcut_agrees_with_the_full_test() {
        for b in 0u8..=0x7f {
            let c = b as char;
            let full = c.is_control()
                || is_bidi_control(c)
                || is_default_ignorable(c)
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FFF9}'..='\u{FFFB}');
            assert_eq!(is_unsafe(c), full, "{b:#x}");
        }
    }

    #[test]
    fn plain_text_is_untouched() {
        assert!(matches!(
            sanitize("hello, wörld 日本 🎉", false),
            Cow::Borrowed(_)
        ));
        assert!(matches!(sanitize_name("Zoë 日本"), Cow::Borrowed(_)));
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

    #[test]
    fn invisible_characters_in_names_are_shown() {
        for (name, shown) in [
            ("ad\u{200b}min", "ad\\u{200b}min"),   // ZWSP
            ("ad\u{200d}min", "ad\\u{200d}min"),   // ZWJ between letters
            ("ad\u{200c}min", "ad\\u{200c}min"),   // ZWNJ
            ("ad\u{2060}min", "ad\\u{2060}min"),   // WJ
            ("\u{feff}admin", "\\u{feff}admin"),   // BOM
            ("ad\u{ad}min", "ad\\u{ad}min"),       // soft hyphen
            ("admin\u{e0041}", "admin\\u{e0041}"), // a tag character
            ("ad\u{fe0f}min", "ad\\u{fe0f}min"),   // VS16 after a letter
            ("ad\u{2028}min", "ad\\u{2028}min"),   // line separator
            ("admin\u{a0}", "admin\\u{a0}"),       // no-break space
            ("a\u{3164}", "a\\u{3164}"),           // Hangul filler
            ("a@b.example/r\u{200b}", "a@b.example/r\\u{200b}"),
        ] {
            assert_eq!(sanitize_name(name), shown, "{name:?}");
        }
    }

    #[test]
    fn emoji_sequences_keep_working() {
        // ZWJ sequences, VS16, skin tones, a subdivision flag (tags).
        for text in [
            "👩\u{200d}💻",
            "👨\u{200d}👩\u{200d}👧",
            "❤\u{fe0f}",
            "👍🏽",
            "🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}",
        ] {
            assert_eq!(sanitize(text, false), text, "{text:?}");
            assert_eq!(sanitize_name(text), text, "{text:?}");
        }
        // A dangling ZWJ joins nothing: shown.
        assert_eq!(sanitize("👩\u{200d} x", false), "👩\\u{200d} x");
    }

    #[test]
    fn invisible_characters_in_bodies() {
        // Hidden characters are shown…
        assert_eq!(
            sanitize("pay\u{200b}pal \u{feff}x\u{ad}y\u{2060}z", false),
            "pay\\u{200b}pal \\u{feff}x\\u{ad}y\\u{2060}z"
        );
        // …tags smuggled outside a flag too…
        assert_eq!(
            sanitize("hi\u{e0068}\u{e0069}", false),
            "hi\\u{e0068}\\u{e0069}"
        );
        // …but ZWNJ (Persian) and Indic conjuncts with ZWJ stay.
        assert_eq!(sanitize("می\u{200c}خواهم", false), "می\u{200c}خواهم");
        assert_eq!(sanitize("क्\u{200d}ष", false), "क्\u{200d}ष");
        // A second variation selector after one base is shown.
        assert_eq!(sanitize("❤\u{fe0f}\u{fe0f}", false), "❤\u{fe0f}\\u{fe0f}");
    }

    #[test]
    fn line_and_paragraph_separators() {
        assert_eq!(
            sanitize("one\u{2028}two\u{2029}three", true),
            "one\ntwo\nthree"
        );
        assert_eq!(
            sanitize("one\u{2028}two\u{2029}three", false),
            "one\\u{2028}two\\u{2029}three"
        );
    }
}
