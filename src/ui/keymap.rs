//! Keys to actions. The defaults can be overridden in the config
//! (`[keys]`, e.g. `"ctrl-n" = "next-room"`); the help view is generated
//! from the map.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Submit,
    Quit,
    NextRoom,
    PrevRoom,
    /// Alt-1…9, Alt-0 (= 10).
    Window(usize),
    NextHighlight,
    ScrollUp,
    ScrollDown,
    ScrollTop,
    ScrollBottom,
    Help,
    /// The Contacts view.
    Contacts,
    Close,
    Complete,
    HistoryUp,
    HistoryDown,
    Left,
    Right,
    WordLeft,
    WordRight,
    Home,
    End,
    Backspace,
    Delete,
    DeleteWord,
    KillToStart,
    KillToEnd,
    ToggleEvents,
    /// Select the message above (or the newest) to act on it.
    SelectUp,
    SelectDown,
    ToggleRooms,
    TogglePeople,
    Redraw,
    /// In a call: mute, or unmute.
    ToggleMute,
    /// In a call: talk while the key is held (where the terminal reports
    /// key releases), else a toggle like [`Action::ToggleMute`].
    PushToTalk,
}

impl Action {
    /// Name as used in the config and shown in help.
    pub fn name(self) -> String {
        match self {
            Action::Window(n) => format!("window-{n}"),
            other => NAMES
                .iter()
                .find(|(_, a)| *a == other)
                .map(|(n, _)| n.to_string())
                .unwrap_or_default(),
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        if let Some(n) = name.strip_prefix("window-") {
            return n
                .parse()
                .ok()
                .filter(|n| (1..=10).contains(n))
                .map(Action::Window);
        }
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
    }

    pub fn help(self) -> &'static str {
        match self {
            Action::Submit => "run the input line (a /command, or text for the current room)",
            Action::Quit => "quit",
            Action::NextRoom => "next room",
            Action::PrevRoom => "previous room",
            Action::Window(_) => "go to room N (0 = 10)",
            Action::NextHighlight => "next room with a highlight (or unread messages)",
            Action::ScrollUp => "scroll back a page (loads older history at the top)",
            Action::ScrollDown => "scroll forward a page",
            Action::ScrollTop => "scroll to the oldest line",
            Action::ScrollBottom => "scroll to the newest line",
            Action::Help => "this help",
            Action::Contacts => {
                "contacts: presence and rooms (Enter: conversation; Alt-J: join their room)"
            }
            Action::Close => "close help, tables and forms; clear a notice",
            Action::Complete => "complete nick, command or argument (repeat to cycle)",
            Action::HistoryUp => "previous input line of this room",
            Action::HistoryDown => "next input line of this room",
            Action::Left => "cursor left",
            Action::Right => "cursor right",
            Action::WordLeft => "word left",
            Action::WordRight => "word right",
            Action::Home => "start of line",
            Action::End => "end of line",
            Action::Backspace => "delete before the cursor",
            Action::Delete => "delete under the cursor",
            Action::DeleteWord => "delete the word before the cursor",
            Action::KillToStart => "delete to the start of the line",
            Action::KillToEnd => "delete to the end of the line",
            Action::ToggleEvents => "show/hide join, leave and nick lines",
            Action::SelectUp => {
                "select a message (older): then r reply, + react, d retract/moderate"
            }
            Action::SelectDown => "select the next newer message (past the newest: none)",
            Action::ToggleRooms => "show/hide the room list",
            Action::TogglePeople => "show/hide the participant list",
            Action::Redraw => "redraw the screen",
            Action::ToggleMute => "in a call: mute or unmute your microphone",
            Action::PushToTalk => {
                "in a call: talk while held (terminals that report key releases: kitty, foot, \
                 WezTerm, Ghostty…); elsewhere mute/unmute"
            }
        }
    }
}

const NAMES: &[(&str, Action)] = &[
    ("submit", Action::Submit),
    ("quit", Action::Quit),
    ("next-room", Action::NextRoom),
    ("prev-room", Action::PrevRoom),
    ("next-highlight", Action::NextHighlight),
    ("scroll-up", Action::ScrollUp),
    ("scroll-down", Action::ScrollDown),
    ("scroll-top", Action::ScrollTop),
    ("scroll-bottom", Action::ScrollBottom),
    ("help", Action::Help),
    ("contacts", Action::Contacts),
    ("close", Action::Close),
    ("complete", Action::Complete),
    ("history-up", Action::HistoryUp),
    ("history-down", Action::HistoryDown),
    ("left", Action::Left),
    ("right", Action::Right),
    ("word-left", Action::WordLeft),
    ("word-right", Action::WordRight),
    ("home", Action::Home),
    ("end", Action::End),
    ("backspace", Action::Backspace),
    ("delete", Action::Delete),
    ("delete-word", Action::DeleteWord),
    ("kill-to-start", Action::KillToStart),
    ("kill-to-end", Action::KillToEnd),
    ("toggle-events", Action::ToggleEvents),
    ("select-up", Action::SelectUp),
    ("select-down", Action::SelectDown),
    ("toggle-rooms", Action::ToggleRooms),
    ("toggle-people", Action::TogglePeople),
    ("redraw", Action::Redraw),
    ("toggle-mute", Action::ToggleMute),
    ("push-to-talk", Action::PushToTalk),
];

/// A key as written in the config: `ctrl-n`, `alt-1`, `f1`, `pageup`,
/// `shift-tab`, `a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        Key { code, mods }
    }

    pub fn from_event(k: &KeyEvent) -> Key {
        // Shift is part of the character for printable keys.
        let mut mods =
            k.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match k.code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        if matches!(code, KeyCode::Char(_)) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key { code, mods }
    }

    pub fn parse(s: &str) -> Result<Key, String> {
        let lower = s.trim().to_ascii_lowercase();
        let mut mods = KeyModifiers::NONE;
        let mut rest = lower.as_str();
        loop {
            if let Some(r) = rest
                .strip_prefix("ctrl-")
                .or_else(|| rest.strip_prefix("c-"))
            {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest
                .strip_prefix("alt-")
                .or_else(|| rest.strip_prefix("m-"))
            {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("shift-") {
                mods |= KeyModifiers::SHIFT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" | "return" => KeyCode::Enter,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "esc" | "escape" => KeyCode::Esc,
            "backspace" | "bs" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            f if f.starts_with('f') && f.len() > 1 => {
                let n: u8 = f[1..].parse().map_err(|_| format!("unknown key {s:?}"))?;
                if !(1..=24).contains(&n) {
                    return Err(format!("unknown key {s:?}"));
                }
                KeyCode::F(n)
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().expect("one char")),
            _ => {
                return Err(format!(
                    "unknown key {s:?} (like ctrl-n, alt-1, f1, pageup)"
                ));
            }
        };
        Ok(Key { code, mods })
    }

    pub fn describe(&self) -> String {
        let mut out = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            out.push_str("Ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            out.push_str("Alt-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            out.push_str("Shift-");
        }
        match self.code {
            KeyCode::Char(' ') => out.push_str("Space"),
            KeyCode::Char(c) => out.push(if self.mods.is_empty() {
                c
            } else {
                c.to_ascii_uppercase()
            }),
            KeyCode::F(n) => out.push_str(&format!("F{n}")),
            KeyCode::PageUp => out.push_str("PageUp"),
            KeyCode::PageDown => out.push_str("PageDown"),
            other => out.push_str(&format!("{other:?}")),
        }
        out
    }
}

/// The key map: defaults, then the config's overrides.
#[derive(Debug, Clone)]
pub struct KeyMap {
    map: HashMap<Key, Action>,
}

impl Default for KeyMap {
    fn default() -> Self {
        use KeyCode::*;
        let c = KeyModifiers::CONTROL;
        let a = KeyModifiers::ALT;
        let n = KeyModifiers::NONE;
        let mut map = HashMap::new();
        let mut bind = |code, mods, action| {
            map.insert(Key::new(code, mods), action);
        };
        bind(Enter, n, Action::Submit);
        bind(Char('c'), c, Action::Quit);
        bind(Char('n'), c, Action::NextRoom);
        bind(Char('p'), c, Action::PrevRoom);
        for i in 1..=9u8 {
            bind(Char((b'0' + i) as char), a, Action::Window(i as usize));
        }
        bind(Char('0'), a, Action::Window(10));
        bind(Char('a'), a, Action::NextHighlight);
        bind(PageUp, n, Action::ScrollUp);
        bind(PageDown, n, Action::ScrollDown);
        bind(Home, c, Action::ScrollTop);
        bind(End, c, Action::ScrollBottom);
        bind(F(1), n, Action::Help);
        bind(F(5), n, Action::Contacts);
        bind(Esc, n, Action::Close);
        bind(Tab, n, Action::Complete);
        bind(Up, n, Action::HistoryUp);
        bind(Down, n, Action::HistoryDown);
        bind(Left, n, Action::Left);
        bind(Right, n, Action::Right);
        bind(Char('b'), a, Action::WordLeft);
        bind(Char('f'), a, Action::WordRight);
        bind(Left, c, Action::WordLeft);
        bind(Right, c, Action::WordRight);
        bind(Home, n, Action::Home);
        bind(End, n, Action::End);
        bind(Char('a'), c, Action::Home);
        bind(Char('e'), c, Action::End);
        bind(Backspace, n, Action::Backspace);
        bind(Char('h'), c, Action::Backspace);
        bind(Delete, n, Action::Delete);
        bind(Char('d'), c, Action::Delete);
        bind(Char('w'), c, Action::DeleteWord);
        bind(Char('u'), c, Action::KillToStart);
        bind(Char('k'), c, Action::KillToEnd);
        bind(F(2), n, Action::ToggleEvents);
        bind(Up, a, Action::SelectUp);
        bind(Down, a, Action::SelectDown);
        bind(F(3), n, Action::ToggleRooms);
        bind(F(4), n, Action::TogglePeople);
        bind(Char('l'), c, Action::Redraw);
        bind(F(6), n, Action::ToggleMute);
        bind(F(7), n, Action::PushToTalk);
        KeyMap { map }
    }
}

impl KeyMap {
    /// Applies overrides (`key = action`, or `key = "none"` to unbind).
    pub fn with_overrides<'a>(
        mut self,
        overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<KeyMap, String> {
        for (key, action) in overrides {
            let k = Key::parse(key)?;
            if action == "none" {
                self.map.remove(&k);
                continue;
            }
            let a = Action::from_name(action).ok_or_else(|| {
                format!(
                    "unknown action {action:?} for key {key:?} (one of {}, window-N)",
                    NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )
            })?;
            self.map.insert(k, a);
        }
        Ok(self)
    }

    pub fn action(&self, k: &KeyEvent) -> Option<Action> {
        self.map.get(&Key::from_event(k)).copied()
    }

    /// "Keys" section of the help: one line per action with its keys.
    pub fn help_text(&self) -> String {
        let mut by_action: Vec<(String, Vec<String>, &'static str)> = Vec::new();
        let mut entries: Vec<(&Key, &Action)> = self.map.iter().collect();
        entries.sort_by_key(|(k, a)| (a.name(), k.describe()));
        for (k, a) in entries {
            let name = match a {
                Action::Window(_) => "window-N".to_string(),
                other => other.name(),
            };
            match by_action.iter_mut().find(|(n, _, _)| *n == name) {
                Some((_, keys, _)) => keys.push(k.describe()),
                None => by_action.push((name, vec![k.describe()], a.help())),
            }
        }
        by_action
            .iter()
            .map(|(_, keys, help)| format!("{:<24} {help}", keys.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults() {
        let m = KeyMap::default();
        assert_eq!(
            m.action(&ev(KeyCode::Char('n'), KeyModifiers::CONTROL)),
            Some(Action::NextRoom)
        );
        assert_eq!(
            m.action(&ev(KeyCode::Char('3'), KeyModifiers::ALT)),
            Some(Action::Window(3))
        );
        assert_eq!(
            m.action(&ev(KeyCode::Char('0'), KeyModifiers::ALT)),
            Some(Action::Window(10))
        );
        assert_eq!(
            m.action(&ev(KeyCode::Left, KeyModifiers::CONTROL)),
            Some(Action::WordLeft)
        );
        assert_eq!(m.action(&ev(KeyCode::Char('x'), KeyModifiers::NONE)), None);
        // Shift on a letter is just the letter.
        assert_eq!(
            m.action(&ev(
                KeyCode::Char('N'),
                KeyModifiers::CONTROL | KeyModifiers::SHIFT
            )),
            Some(Action::NextRoom)
        );
    }

    #[test]
    fn parse_and_override() {
        assert_eq!(
            Key::parse("ctrl-n").unwrap(),
            Key::new(KeyCode::Char('n'), KeyModifiers::CONTROL)
        );
        assert_eq!(
            Key::parse("Alt-1").unwrap(),
            Key::new(KeyCode::Char('1'), KeyModifiers::ALT)
        );
        assert_eq!(
            Key::parse("f12").unwrap(),
            Key::new(KeyCode::F(12), KeyModifiers::NONE)
        );
        assert_eq!(Key::parse("pageup").unwrap().code, KeyCode::PageUp);
        assert!(Key::parse("hyper-x").is_err());
        assert!(Key::parse("f99").is_err());
        let m = KeyMap::default()
            .with_overrides([("ctrl-j", "next-room"), ("ctrl-n", "none")])
            .unwrap();
        assert_eq!(
            m.action(&ev(KeyCode::Char('j'), KeyModifiers::CONTROL)),
            Some(Action::NextRoom)
        );
        assert_eq!(
            m.action(&ev(KeyCode::Char('n'), KeyModifiers::CONTROL)),
            None
        );
        let e = KeyMap::default()
            .with_overrides([("ctrl-j", "fly")])
            .unwrap_err();
        assert!(e.contains("fly") && e.contains("next-room"), "{e}");
    }

    #[test]
    fn every_action_has_a_name_and_help() {
        for (name, a) in NAMES {
            assert_eq!(Action::from_name(name), Some(*a));
            assert_eq!(a.name(), *name);
            assert!(!a.help().is_empty());
        }
        assert_eq!(Action::from_name("window-10"), Some(Action::Window(10)));
        let help = KeyMap::default().help_text();
        assert!(
            help.contains("Ctrl-N") && help.contains("next room"),
            "{help}"
        );
        assert!(help.contains("Alt-1"), "{help}");
    }
}
