//! Notifications: a highlight, a one-to-one or private message, an
//! invitation or a voice stream that starts raises one — unless it is
//! about the window in focus (the current window of a terminal that has
//! the focus). Through the desktop's notification server (freedesktop
//! notifications over D-Bus, `notify-rust`), the terminal (OSC 777
//! `notify`, or OSC 9) and/or a
//! `notify_command`: run directly (never through a shell) with the kind
//! and the window as arguments and the notification as JSON on stdin.
//! At most one per window every [`MIN_GAP`]: a spam wave forks nothing.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jid::BareJid;

use super::sanitize_name;

/// The least time between two notifications about one window.
pub const MIN_GAP: Duration = Duration::from_secs(1);
/// Text of a notification at most (characters).
const MAX_TEXT: usize = 200;

/// Where notifications go besides the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Via {
    #[default]
    None,
    /// `ESC ] 777 ; notify ; TITLE ; BODY BEL` (urxvt, foot, kitty, …).
    Osc777,
    /// `ESC ] 9 ; TEXT BEL` (iTerm2, Windows Terminal, …).
    Osc9,
    /// `org.freedesktop.Notifications` on the session bus (D-Bus).
    Desktop,
}

impl Via {
    pub fn parse(s: &str) -> Result<Via, String> {
        match s {
            "none" => Ok(Via::None),
            "osc777" => Ok(Via::Osc777),
            "osc9" => Ok(Via::Osc9),
            "desktop" | "dbus" => Ok(Via::Desktop),
            _ => Err(format!(
                "expected desktop, osc777, osc9 or none, found {s:?}"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Via::None => "none",
            Via::Osc777 => "osc777",
            Via::Osc9 => "osc9",
            Via::Desktop => "desktop",
        }
    }
}

/// Which messages of a room notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    All,
    /// Highlights only (the default).
    Mentions,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifySettings {
    pub via: Via,
    /// Program and arguments; empty: none.
    pub command: Vec<String>,
    /// Rooms that notify on every message, or never.
    pub rooms: HashMap<BareJid, Level>,
}

impl NotifySettings {
    pub fn level(&self, room: &BareJid) -> Level {
        self.rooms.get(room).copied().unwrap_or(Level::Mentions)
    }

    pub fn enabled(&self) -> bool {
        self.via != Via::None || !self.command.is_empty()
    }
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notification {
    /// `highlight`, `message` (one-to-one or private), `invitation`, `call`.
    pub kind: &'static str,
    /// The room or contact it is about.
    pub window: String,
    pub from: String,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Notifier {
    pub settings: NotifySettings,
    /// Whether the terminal has the focus (crossterm focus events; true
    /// until told otherwise).
    pub unfocused: bool,
    last: HashMap<String, Instant>,
    /// Terminal escapes to write before the next frame.
    pub osc: Vec<u8>,
    /// Notifications raised (what tests look at).
    pub raised: u64,
}

impl Notifier {
    pub fn new(settings: NotifySettings) -> Notifier {
        Notifier {
            settings,
            ..Notifier::default()
        }
    }

    /// Raises `n` unless its window is the one looked at in a focused
    /// terminal, or one was raised about it less than [`MIN_GAP`] ago.
    pub fn raise(&mut self, n: Notification, looking: bool, now: Instant) {
        if !self.settings.enabled() || (looking && !self.unfocused) {
            return;
        }
        if self
            .last
            .get(&n.window)
            .is_some_and(|t| now.duration_since(*t) < MIN_GAP)
        {
            return;
        }
        if self.last.len() > 1_000 {
            self.last.retain(|_, t| now.duration_since(*t) < MIN_GAP);
        }
        self.last.insert(n.window.clone(), now);
        self.raised += 1;
        let title = format!("confab: {}", one_line(&n.from));
        let body = one_line(&n.text);
        match self.settings.via {
            Via::None => {}
            Via::Osc777 => {
                let _ = write!(
                    self.osc,
                    "\x1b]777;notify;{};{}\x07",
                    title.replace(';', ","),
                    body.replace(';', ",")
                );
            }
            Via::Osc9 => {
                let _ = write!(self.osc, "\x1b]9;{title}: {body}\x07");
            }
            Via::Desktop => desktop(title, markup_escaped(&body)),
        }
        if let Some((program, args)) = self.settings.command.split_first() {
            run(program, args, &n);
        }
    }
}

/// Text fit for a terminal escape or a notification: one line, no control
/// or invisible character, at most [`MAX_TEXT`] characters.
fn one_line(s: &str) -> String {
    let clean = sanitize_name(s);
    let mut out: String = clean.chars().take(MAX_TEXT).collect();
    if clean.chars().count() > MAX_TEXT {
        out.push('…');
    }
    out
}

/// Notification servers may read the body as markup (`<b>`, `<a>`, …):
/// what someone else wrote is only text.
fn markup_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Sends a notification to the desktop's server on the session bus, in
/// the background (on the tokio runtime the TUI runs on); a failure (no
/// session bus, no server) is logged, once.
fn desktop(summary: String, body: String) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    rt.spawn(async move {
        let sent = notify_rust::Notification::new()
            .appname("confab")
            .summary(&summary)
            .body(&body)
            .show_async()
            .await;
        if let Err(e) = sent
            && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!("desktop notification failed: {e}");
        }
    });
}

/// Runs the command (no shell): `PROGRAM ARGS… KIND WINDOW`, the
/// notification as one JSON line on stdin; not waited for (a thread
/// reaps it).
fn run(program: &str, args: &[String], n: &Notification) {
    let json = serde_json::to_string(n).unwrap_or_default();
    let child = Command::new(program)
        .args(args)
        .arg(n.kind)
        .arg(one_line(&n.window))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Ok(mut child) = child {
        let _ = std::thread::Builder::new()
            .name("confab-notify".into())
            .spawn(move || {
                if let Some(mut stdin) = child.stdin.take() {
                    let _ = writeln!(stdin, "{json}");
                }
                let _ = child.wait();
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(window: &str, text: &str) -> Notification {
        Notification {
            kind: "highlight",
            window: window.into(),
            from: "bob".into(),
            text: text.into(),
        }
    }

    #[test]
    fn focus_and_rate() {
        let mut x = Notifier::new(NotifySettings {
            via: Via::Osc777,
            ..NotifySettings::default()
        });
        let t = Instant::now();
        x.raise(n("r@c", "hi"), true, t);
        assert_eq!(x.raised, 0, "the window in focus");
        x.unfocused = true;
        x.raise(n("r@c", "hi"), true, t);
        assert_eq!(x.raised, 1, "the terminal is not focused");
        x.raise(n("r@c", "again"), false, t + Duration::from_millis(500));
        assert_eq!(x.raised, 1, "too soon for the same window");
        x.raise(n("s@c", "other"), false, t + Duration::from_millis(500));
        x.raise(n("r@c", "later"), false, t + Duration::from_secs(2));
        assert_eq!(x.raised, 3);
    }

    #[test]
    fn escapes_carry_no_control_characters() {
        let mut x = Notifier::new(NotifySettings {
            via: Via::Osc777,
            ..NotifySettings::default()
        });
        x.raise(
            n("r@c", "evil\u{9b}2J\u{7};semi\u{202e}colon"),
            false,
            Instant::now(),
        );
        let s = String::from_utf8(x.osc.clone()).unwrap();
        assert!(s.starts_with("\x1b]777;notify;confab: bob;"), "{s:?}");
        assert!(s.ends_with('\x07'));
        let inner = &s[1..s.len() - 1];
        assert!(
            !inner.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{s:?}"
        );
        assert_eq!(inner.matches(';').count(), 3, "{s:?}");
        assert_eq!(Via::parse("osc9"), Ok(Via::Osc9));
        assert_eq!(Via::parse("dbus"), Ok(Via::Desktop));
        assert!(Via::parse("kde").is_err());
        assert_eq!(markup_escaped("<b>a&b</b>"), "&lt;b&gt;a&amp;b&lt;/b&gt;");
    }
}
