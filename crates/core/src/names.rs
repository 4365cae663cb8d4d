//! Names from the network (nicks, JIDs) that pass for others: invisible
//! characters and look-alikes.
//!
//! A nick *imitates* another occupant's when both have the same UTS #39
//! skeleton (Unicode's confusables, via the `unicode-security` crate:
//! `аdmin` with a Cyrillic `а` and `admin` both become `admin`) and the
//! nick is a likely imitation: not plain ASCII, and mixed-script (a
//! Cyrillic letter among Latin ones), or holding invisible characters
//! (`ad\u{200b}min`), or made wholly of letters that look Latin (an
//! all-Cyrillic `сор` next to `cop`). The occupant it imitates is
//! preferably one that is not itself such a nick; two imitations of each
//! other are both marked.

use std::collections::HashMap;

use unicode_security::MixedScript;

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt):
/// characters a renderer shows as nothing at all.
pub fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// The UTS #39 skeleton: what a name looks like, confusables folded
/// (invisible characters dropped).
pub fn skeleton(name: &str) -> String {
    unicode_security::skeleton(name).collect()
}

/// Whether `nick` could be an imitation (see the module's text); cheap
/// for ASCII nicks, which never are.
pub fn likely_imitation(nick: &str) -> bool {
    if nick.is_ascii() {
        return false;
    }
    !nick.is_single_script()
        || nick
            .chars()
            .any(|c| is_default_ignorable(c) || c.is_whitespace() && c != ' ')
        || skeleton(nick).is_ascii()
}

/// Whom `nick` imitates among `others` (the room's other nicks), if
/// anyone.
pub fn imitated<'a>(nick: &str, others: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if !likely_imitation(nick) {
        return None;
    }
    let own = skeleton(nick);
    let mut found = None;
    for other in others {
        if other != nick && skeleton(other) == own {
            if !likely_imitation(other) {
                return Some(other);
            }
            found.get_or_insert(other);
        }
    }
    found
}

/// For a whole room: each imitating nick → the nick it imitates. Costs an
/// ASCII check per nick when nobody imitates anyone.
pub fn lookalikes<'a>(nicks: &[&'a str]) -> HashMap<&'a str, &'a str> {
    let suspects: Vec<&'a str> = nicks
        .iter()
        .copied()
        .filter(|n| likely_imitation(n))
        .collect();
    if suspects.is_empty() {
        return HashMap::new();
    }
    let mut by_skeleton: HashMap<String, Vec<&'a str>> = HashMap::new();
    for n in nicks {
        by_skeleton.entry(skeleton(n)).or_default().push(n);
    }
    let mut out = HashMap::new();
    for s in suspects {
        let group = &by_skeleton[&skeleton(s)];
        if let Some(i) = imitated(s, group.iter().copied()) {
            out.insert(s, i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_script_and_invisible_imitations() {
        let room = ["admin", "\u{430}dmin", "ad\u{200b}min", "bob", "alice"];
        // Cyrillic а among Latin letters.
        assert_eq!(imitated("\u{430}dmin", room), Some("admin"));
        // A zero-width space.
        assert_eq!(imitated("ad\u{200b}min", room), Some("admin"));
        // The original imitates nobody; neither do unrelated nicks.
        assert_eq!(imitated("admin", room), None);
        assert_eq!(imitated("bob", room), None);
        // Alone, an imitation imitates nobody.
        assert_eq!(imitated("\u{430}dmin", ["bob"]), None);
        let all = lookalikes(&room);
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all["\u{430}dmin"], "admin");
        assert_eq!(all["ad\u{200b}min"], "admin");
    }

    #[test]
    fn whole_script_look_alikes() {
        // All Cyrillic, every letter looking Latin.
        assert_eq!(imitated("\u{441}\u{43e}\u{440}", ["cop"]), Some("cop"));
        // Two imitations of an absent nick: both marked.
        let two = lookalikes(&["\u{430}dmin", "adm\u{456}n"]);
        assert_eq!(two.len(), 2, "{two:?}");
    }

    #[test]
    fn honest_names_are_left_alone() {
        let room = [
            "José", "Jose", "Саша", "Sasha", "日本", "Zoë", "Zoe", "l", "I", "rn", "m",
        ];
        assert!(lookalikes(&room).is_empty(), "{:?}", lookalikes(&room));
        // Nothing to do for ASCII nicks.
        assert!(lookalikes(&["a", "b"]).is_empty());
    }
}
