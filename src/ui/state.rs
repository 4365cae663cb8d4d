//! What the TUI remembers besides the store: the current window, scroll
//! positions, unread and highlight counts, panes, the input line, overlays.
//! Changed by key handling and by events (`events.rs`); read by the view.
//! The feature modules of the TUI import this one, never the other way.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use jid::BareJid;

use super::complete::Completer;
use super::input::{InputHistory, LineEditor};
use super::keymap::KeyMap;
use super::messages::RowCache;
use super::theme::Theme;
use super::views::{Answer, Overlay};
use super::widgets::PromptQueue;
use crate::command::LayoutSetting;
use crate::store::Store;

/// Per-window view state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomView {
    /// Rows scrolled back from the newest line.
    pub scroll: usize,
    /// Messages that arrived while the window was not looked at.
    pub unread: usize,
    /// Of those, the ones that mention us (or are private to us).
    pub highlights: usize,
    /// Seq of the first unread line (the "new messages" marker).
    pub unread_from: Option<i64>,
    /// Seq of a line to bring into view at the next draw (`/find`).
    pub jump_to: Option<i64>,
    /// `/clear`: lines up to this seq are not shown (until scrolling back).
    pub cleared: Option<i64>,
    /// Seq of the message selected to act on (`ui/select.rs`).
    pub selected: Option<i64>,
    /// Occupants scrolled past at the top of the participant list.
    pub people_scroll: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panes {
    pub rooms: bool,
    pub people: bool,
    pub rooms_width: u16,
    pub people_width: u16,
    pub show_events: bool,
}

impl Default for Panes {
    fn default() -> Self {
        Panes {
            rooms: true,
            people: true,
            rooms_width: 18,
            people_width: 22,
            show_events: true,
        }
    }
}

/// Settings of the TUI from the config.
#[derive(Debug, Clone)]
pub struct UiSettings {
    pub bell: bool,
    pub set_title: bool,
    pub time_format: String,
    /// Timezone for times and day separators (`None`: the local one).
    pub utc_offset: Option<chrono::FixedOffset>,
    /// XEP-0393 styling rendered.
    pub styling: bool,
    /// Words that highlight a message besides our nick.
    pub highlight_words: Vec<String>,
    /// Chat states sent and shown; never sent in rooms above the limit.
    pub chat_states: bool,
    pub chat_states_max_occupants: usize,
}

impl Default for UiSettings {
    fn default() -> Self {
        UiSettings {
            bell: true,
            set_title: true,
            time_format: "%H:%M".into(),
            utc_offset: None,
            styling: true,
            highlight_words: Vec::new(),
            chat_states: true,
            chat_states_max_occupants: 30,
        }
    }
}

/// How long a command's result keeps its place on the status line.
pub const RESULT_HELD: std::time::Duration = std::time::Duration::from_secs(5);

pub struct UiState {
    pub current: Option<BareJid>,
    pub views: HashMap<BareJid, RoomView>,
    pub panes: Panes,
    pub overlay: Overlay,
    /// The last result, notice or error (and whether it is an error).
    pub status: String,
    pub status_error: bool,
    /// A command's result on the status line and when it came: news
    /// arriving within [`RESULT_HELD`] is shown after it, not over it.
    pub held: Option<(String, std::time::Instant)>,
    pub editor: LineEditor,
    pub history: InputHistory,
    pub completer: Completer,
    pub prompts: PromptQueue<Answer>,
    pub keymap: KeyMap,
    pub theme: Theme,
    pub settings: UiSettings,
    /// A highlight arrived: ring the bell at the next draw.
    pub bell: bool,
    /// Ctrl-L: clear the terminal and paint everything at the next draw.
    pub repaint: bool,
    /// The terminal reports key releases (the kitty keyboard protocol):
    /// push-to-talk is held, not toggled.
    pub key_releases: bool,
    /// Rooms the user asked to join here: show them when they are joined.
    pub follow: Vec<BareJid>,
    /// Height of the message pane at the last draw (a page).
    pub page_rows: u16,
    /// Desktop notifications (`notify.rs`).
    pub notifier: super::notify::Notifier,
    /// OMEMO is on for the current window (set before each frame).
    pub current_encrypted: bool,
    /// A click in the message pane at this screen row, for the next draw
    /// to find the message there (`ui/select.rs`).
    pub click: Option<u16>,
    /// Each window's row layout, kept between frames.
    pub layouts: Layouts,
    /// What the XML console shows (`xml_console.rs`).
    pub xml: super::xml_console::XmlLog,
}

/// What drawing keeps between frames, by window: the row layout of the
/// message pane ([`RowCache`]) and a room's look-alike nicks (as of the
/// occupants' revision).
#[derive(Debug, Default)]
pub struct Layouts {
    rows: RefCell<HashMap<BareJid, Rc<RowCache>>>,
    lookalikes: RefCell<HashMap<BareJid, (u64, Rc<Lookalikes>)>>,
}

/// Nick → the occupant's nick it imitates.
pub type Lookalikes = HashMap<String, String>;

impl Layouts {
    /// `jid`'s row layout (a new one the first time).
    pub fn rows(&self, jid: &BareJid) -> Rc<RowCache> {
        self.rows
            .borrow_mut()
            .entry(jid.clone())
            .or_default()
            .clone()
    }
    /// The look-alike nicks among `room`'s occupants, found again only
    /// when they changed.
    pub fn lookalikes(&self, room: &crate::store::Room) -> Rc<Lookalikes> {
        let revision = room.occupants.revision();
        let mut map = self.lookalikes.borrow_mut();
        if let Some((r, l)) = map.get(&room.jid)
            && *r == revision
        {
            return l.clone();
        }
        // Only a nick that may imitate anyone does: in a room of ASCII
        // nicks, nothing to look for.
        let found: Lookalikes = if room.occupants.suspects().next().is_none() {
            Lookalikes::new()
        } else {
            let nicks: Vec<&str> = room
                .occupants
                .iter_sorted()
                .map(|o| o.nick.as_str())
                .collect();
            crate::names::lookalikes(&nicks)
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let found = Rc::new(found);
        map.insert(room.jid.clone(), (revision, found.clone()));
        found
    }
    /// Forgets what belongs to windows for which `keep` is false.
    pub fn retain(&self, keep: impl Fn(&BareJid) -> bool) {
        self.rows.borrow_mut().retain(|j, _| keep(j));
        self.lookalikes.borrow_mut().retain(|j, _| keep(j));
    }
}

impl Default for UiState {
    fn default() -> Self {
        UiState::new(
            KeyMap::default(),
            Theme::default(),
            Panes::default(),
            UiSettings::default(),
        )
    }
}

impl UiState {
    /// The UI as the config sets it up (keys were validated by the config).
    pub fn from_config(c: &crate::config::UiConfig) -> Result<UiState, String> {
        let keymap = KeyMap::default()
            .with_overrides(c.keys.iter().map(|(k, a)| (k.as_str(), a.as_str())))?;
        let panes = Panes {
            rooms: c.rooms_width > 0,
            people: c.people_width > 0,
            rooms_width: if c.rooms_width > 0 {
                c.rooms_width
            } else {
                Panes::default().rooms_width
            },
            people_width: if c.people_width > 0 {
                c.people_width
            } else {
                Panes::default().people_width
            },
            show_events: c.show_events,
        };
        let settings = UiSettings {
            bell: c.bell,
            set_title: c.set_title,
            time_format: c.time_format.clone(),
            utc_offset: None,
            styling: c.styling,
            highlight_words: c.highlight_words.clone(),
            chat_states: c.chat_states,
            chat_states_max_occupants: c.chat_states_max_occupants,
        };
        let mut ui = UiState::new(keymap, c.theme.clone(), panes, settings);
        ui.notifier = super::notify::Notifier::new(c.notify.clone());
        Ok(ui)
    }

    pub fn new(keymap: KeyMap, theme: Theme, panes: Panes, settings: UiSettings) -> UiState {
        UiState {
            current: None,
            views: HashMap::new(),
            panes,
            overlay: Overlay::None,
            status: String::new(),
            status_error: false,
            held: None,
            editor: LineEditor::new(),
            history: InputHistory::new(),
            completer: Completer::default(),
            prompts: PromptQueue::default(),
            keymap,
            theme,
            settings,
            bell: false,
            repaint: false,
            key_releases: false,
            follow: Vec::new(),
            page_rows: 20,
            notifier: super::notify::Notifier::default(),
            current_encrypted: false,
            click: None,
            layouts: Layouts::default(),
            xml: Default::default(),
        }
    }

    pub fn view(&self, jid: &BareJid) -> RoomView {
        self.views.get(jid).cloned().unwrap_or_default()
    }

    pub fn view_mut(&mut self, jid: &BareJid) -> &mut RoomView {
        self.views.entry(jid.clone()).or_default()
    }

    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = text.into();
        self.status_error = error;
        self.held = None;
    }

    /// The result of a command the user gave (its `ok` or its error):
    /// held for [`RESULT_HELD`] against news ([`UiState::set_news`]).
    pub fn set_result(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        self.held = Some((text.clone(), std::time::Instant::now()));
        self.status = text;
        self.status_error = error;
    }

    /// News nobody asked for (an OMEMO notice, missed messages fetched, a
    /// resumed stream): it replaces the line, except a command's result
    /// shown less than [`RESULT_HELD`] ago, which it follows instead
    /// (`join: ok · news`), so neither is missed.
    pub fn set_news(&mut self, text: impl Into<String>) {
        let text = text.into();
        match &self.held {
            Some((result, at)) if at.elapsed() < RESULT_HELD => {
                self.status = format!("{result} · {text}");
            }
            _ => self.set_status(text, false),
        }
    }

    /// Makes a window current; its unread counts are cleared, the marker
    /// stays where the unread lines start until the next switch.
    pub fn switch_to(&mut self, store: &Store, jid: BareJid) {
        if self.current.as_ref() == Some(&jid) {
            return;
        }
        // Leaving a window: what was read there is read.
        if let Some(old) = self.current.take() {
            let v = self.view_mut(&old);
            v.unread_from = None;
        }
        let v = self.view_mut(&jid);
        v.unread = 0;
        v.highlights = 0;
        v.scroll = 0;
        let _ = store;
        self.current = Some(jid);
    }

    /// Index (0-based) of the current window in the store's window list.
    pub fn current_index(&self, store: &Store) -> Option<usize> {
        let cur = self.current.as_ref()?;
        store.windows().position(|w| w.jid() == cur)
    }

    /// Goes to window number `n` (1-based).
    pub fn go_to(&mut self, store: &Store, n: usize) -> bool {
        match store.windows().nth(n.saturating_sub(1)) {
            Some(w) if n >= 1 => {
                let j = w.jid().clone();
                self.switch_to(store, j);
                true
            }
            _ => false,
        }
    }

    /// Next (or previous) window, wrapping.
    pub fn cycle(&mut self, store: &Store, step: isize) {
        let n = store.windows().count();
        if n == 0 {
            return;
        }
        let i = self.current_index(store).map(|i| i as isize).unwrap_or(-1);
        let next = (i + step).rem_euclid(n as isize) as usize;
        self.go_to(store, next + 1);
    }

    /// The next window with highlights, else with unread messages.
    pub fn next_active(&mut self, store: &Store) -> bool {
        let windows: Vec<BareJid> = store.windows().map(|w| w.jid().clone()).collect();
        let start = self.current_index(store).map(|i| i + 1).unwrap_or(0);
        let order = (0..windows.len()).map(|k| &windows[(start + k) % windows.len()]);
        let pick = order
            .clone()
            .find(|j| self.view(j).highlights > 0)
            .or_else(|| order.clone().find(|j| self.view(j).unread > 0))
            .cloned();
        match pick {
            Some(j) => {
                self.switch_to(store, j);
                true
            }
            None => false,
        }
    }

    pub fn apply_layout(&mut self, pane: &str, setting: LayoutSetting) {
        let p = &mut self.panes;
        let (shown, width) = match pane {
            "rooms" => (&mut p.rooms, Some(&mut p.rooms_width)),
            "people" => (&mut p.people, Some(&mut p.people_width)),
            _ => (&mut p.show_events, None),
        };
        match setting {
            LayoutSetting::Show => *shown = true,
            LayoutSetting::Hide => *shown = false,
            LayoutSetting::Toggle => *shown = !*shown,
            LayoutSetting::Width(w) => {
                if let Some(width) = width {
                    *width = w;
                }
                *shown = w > 0;
            }
        }
    }

    /// Terminal title: unread and highlight totals.
    pub fn title(&self) -> String {
        let (u, h) = self
            .views
            .values()
            .fold((0, 0), |(u, h), v| (u + v.unread, h + v.highlights));
        match (u, h) {
            (0, _) => "confab".into(),
            (u, 0) => format!("confab ({u})"),
            (u, h) => format!("confab ({u}, {h}!)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::messages::mentions;

    #[test]
    fn mention_is_a_word() {
        assert!(mentions("hi alice, look", "alice"));
        assert!(mentions("ALICE: hi", "alice"));
        assert!(mentions("alice", "alice"));
        assert!(!mentions("malice aforethought", "alice"));
        assert!(!mentions("alice_bot here", "alice"));
        assert!(!mentions("anything", ""));
        assert!(mentions("so, 日本語 alice!", "alice"));
    }

    #[test]
    fn news_follows_a_fresh_result_and_replaces_anything_else() {
        let mut ui = super::UiState::default();
        ui.set_news("OMEMO: published");
        assert_eq!(ui.status, "OMEMO: published");
        ui.set_result("join: ok", false);
        ui.set_news("OMEMO: bob has a new device 7");
        ui.set_news("resumed");
        assert_eq!(ui.status, "join: ok · resumed");
        assert!(!ui.status_error);
        ui.set_result("say: not-allowed", true);
        ui.set_news("resumed");
        assert_eq!(ui.status, "say: not-allowed · resumed");
        assert!(ui.status_error, "the error keeps its colour");
        // Anything else takes the line, and news after it replaces it.
        ui.set_status("upload a.png 10 %", false);
        ui.set_news("resumed");
        assert_eq!(ui.status, "resumed");
        // A result older than the hold is replaced.
        ui.held = Some((
            "join: ok".into(),
            std::time::Instant::now() - super::RESULT_HELD,
        ));
        ui.set_news("resumed");
        assert_eq!(ui.status, "resumed");
    }
}
