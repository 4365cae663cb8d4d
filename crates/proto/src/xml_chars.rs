//! Characters XML 1.0 cannot carry (§2.2 `Char`): C0 controls other than
//! tab, line feed and carriage return, and U+FFFE/U+FFFF. A stanza with
//! one cannot be written at all (the writer refuses it and the stream
//! would be lost), so what we send is checked first.

use minidom::{Element, Node};

/// Whether XML 1.0 can carry `c`.
pub fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character of `s` XML cannot carry.
pub fn forbidden_in(s: &str) -> Option<char> {
    s.chars().find(|c| !allowed(*c))
}

/// The first character XML cannot carry in `el`: its attribute values
/// and text, all the way down (the depth is ours: built by us).
pub fn forbidden(el: &Element) -> Option<char> {
    let mut todo = vec![el];
    while let Some(el) = todo.pop() {
        // Names are checked by their types (`NcName`); values are not.
        let found = el.attrs().iter().find_map(|(_, v)| forbidden_in(v));
        if found.is_some() {
            return found;
        }
        for node in el.nodes() {
            match node {
                Node::Element(child) => todo.push(child),
                Node::Text(text) => {
                    if let Some(c) = forbidden_in(text) {
                        return Some(c);
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_found_anywhere() {
        assert!(allowed('\n') && allowed('é') && allowed('\u{1F600}'));
        assert!(!allowed('\u{1b}') && !allowed('\0') && !allowed('\u{FFFF}'));
        let ok: Element =
            "<message xmlns='jabber:client' to='a@b'><body>fine\ttext\n</body></message>"
                .parse()
                .unwrap();
        assert_eq!(forbidden(&ok), None);
        let mut bad = ok.clone();
        bad.append_child(Element::builder("x", "urn:x").append("a\u{1b}[2J").build());
        assert_eq!(forbidden(&bad), Some('\u{1b}'));
        let attr = Element::builder("x", "urn:x")
            .attr(crate::nc("nick"), "b\u{7}")
            .build();
        assert_eq!(forbidden(&attr), Some('\u{7}'));
    }
}
