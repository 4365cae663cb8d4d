//! `--batch`: commands from a file or stdin, one at a time, each until its
//! outcome; every event printed as one JSON line on stdout.

mod bookmarks;
mod json;
mod seen;
mod wait;

use std::io::Write;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncBufRead;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::app::{App, DRAIN_TIMEOUT, LoopEvent, LoopEvents};
use crate::command::{self, Command};
use crate::session::Tag;
use crate::store::Event;

pub use seen::{SEEN_BYTES, SEEN_EVENTS, Seen};
pub use wait::matches as wait_matches;

/// One event as a JSON line that is safe on a terminal: besides the C0
/// controls JSON escapes anyway, DEL, the C1 controls, bidi controls and
/// invisible characters (zero-width, BOM, soft hyphen, tags, U+2028/9…:
/// [`crate::ui::is_unsafe`]) are written as `\uXXXX` escapes too
/// (surrogate pairs beyond the BMP; still the same JSON value).
pub fn json_line(v: &Value) -> String {
    terminal_safe(serde_json::to_string(v).expect("JSON values serialise"))
}

/// An event as [`json_line`] writes it (the same text as
/// `json_line(&e.to_json())`), without building its `Value` first.
pub fn event_line(e: &Event) -> String {
    match json::to_string(e) {
        Ok(raw) => terminal_safe(raw),
        Err(_) => json_line(&e.to_json()),
    }
}

fn terminal_safe(raw: String) -> String {
    // JSON text has no raw C0 control: of ASCII only DEL needs escaping.
    if (raw.is_ascii() && memchr::memchr(0x7f, raw.as_bytes()).is_none())
        || !raw.chars().any(needs_escape)
    {
        return raw;
    }
    let mut out = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        if needs_escape(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    crate::ui::is_unsafe(c)
}

pub struct BatchOptions {
    /// Go on after a failed command (exit status 1 at the end).
    pub keep_going: bool,
    /// How long to wait for the first connection.
    pub connect_timeout: Duration,
    /// Rooms to join before the script starts (the account's autojoin).
    pub autojoin: Vec<String>,
}

struct Runner<'a, W: Write> {
    app: App,
    /// The session's and the media task's events, the timer's and the
    /// script's lines: the script is read only between commands, and the
    /// timer ticks only while a command runs.
    events: LoopEvents<'a>,
    out: W,
    /// Events since the previous `/wait`, for the next one (bounded).
    seen: Seen,
    /// The `/wait` running, and the position of its first match once
    /// printed: new events are checked as they are printed.
    waiting: Option<(command::WaitKind, Option<u64>)>,
    closed: bool,
    failed: bool,
}

/// Runs a script; returns the exit status (0 all well, 1 a command
/// failed).
pub async fn run<R: AsyncBufRead + Unpin + Send, W: Write>(
    app: App,
    events: UnboundedReceiver<LoopEvent>,
    input: R,
    out: W,
    opts: BatchOptions,
) -> i32 {
    let mut events = LoopEvents::new(events).with_lines(input);
    // No line is read before the first connection and the autojoin rooms.
    events.set_reading(false);
    let mut r = Runner {
        app,
        events,
        out,
        seen: Seen::default(),
        waiting: None,
        closed: false,
        failed: false,
    };
    let status = r.script(&opts).await;
    r.finish().await;
    status
}

/// Prints events as JSON lines and keeps them for `/wait`.
fn print_to(out: &mut impl Write, seen: &mut Seen, events: Vec<Event>) {
    for e in events {
        let line = event_line(&e);
        let _ = writeln!(out, "{line}");
        seen.push(line);
    }
    let _ = out.flush();
}

impl<W: Write> Runner<'_, W> {
    /// Prints `events` now.
    fn print(&mut self, events: Vec<Event>) {
        let mut buf = String::new();
        self.print_into(&mut buf, events);
        self.write_out(&buf);
    }

    /// One write for all the lines of a burst (stdout is line-buffered:
    /// one system call per line was a tenth of a catch-up's CPU).
    fn write_out(&mut self, buf: &str) {
        if !buf.is_empty() {
            let _ = self.out.write_all(buf.as_bytes());
        }
        let _ = self.out.flush();
    }

    /// The lines of `events` appended to `buf`, kept for `/wait`.
    fn print_into(&mut self, buf: &mut String, events: Vec<Event>) {
        for e in events {
            let line = event_line(&e);
            buf.push_str(&line);
            buf.push('\n');
            let pos = self.seen.push(line);
            // The event's `Value` only while a `/wait` looks for a match.
            if let Some((kind, found @ None)) = &mut self.waiting
                && wait::matches(kind, &e.to_json(), &self.app.store)
            {
                *found = Some(pos);
            }
        }
    }

    /// Handles one event of the loop and everything already queued behind
    /// it, then archives the burst in one go.
    fn pump(&mut self, first: LoopEvent) {
        let mut batch = vec![first];
        while batch.len() < 1024 {
            match self.events.try_next_app() {
                Some(ev) => batch.push(ev),
                None => break,
            }
        }
        let mut buf = String::new();
        for ev in batch {
            if ev.is_closed() {
                self.closed = true;
            }
            let out = self.app.on_event(ev);
            self.print_into(&mut buf, out);
        }
        let out = self.app.flush_history();
        self.print_into(&mut buf, out);
        self.write_out(&buf);
    }

    /// Waits for the next event of the loop (or the deadline); false when
    /// the session is gone or the deadline passed. The script is not read
    /// meanwhile.
    async fn step(&mut self, deadline: Instant) -> bool {
        // The app's own next deadline (a command's, a focus back-off):
        // no tick, so an idle run sleeps until something comes.
        self.events.set_deadline(self.app.next_deadline());
        tokio::select! {
            ev = self.events.next() => match ev {
                Some(LoopEvent::Tick) => {
                    let late = self.app.on_event(LoopEvent::Tick);
                    self.print(late);
                    true
                }
                Some(ev) => { self.pump(ev); true }
                None => { self.closed = true; false }
            },
            // The deadline of the command running (not an event of the loop).
            _ = tokio::time::sleep_until(deadline) => false,
        }
    }

    /// The next line of the script, handling the session's events while it
    /// is read (the app's deadlines not minded, as no command runs — but
    /// a call's: its re-joins after a drop, [`App::call_deadline`]);
    /// `Ok(None)` at its end.
    async fn next_line(&mut self) -> Result<Option<String>, String> {
        self.events.set_reading(true);
        let mut session_gone = false;
        let line = loop {
            self.events.set_deadline(self.app.call_deadline());
            match self.events.next().await {
                Some(LoopEvent::Line(l)) => break Ok(Some(l)),
                Some(LoopEvent::InputEnd) => break Ok(None),
                Some(LoopEvent::InputError(e)) => break Err(e),
                Some(LoopEvent::Tick) => {
                    let late = self.app.on_event(LoopEvent::Tick);
                    self.print(late);
                }
                // None from a script.
                Some(LoopEvent::Term(_) | LoopEvent::TermError(_)) => {}
                // After the session closed, nothing more of it is shown.
                Some(_) if self.closed => {}
                Some(ev) => self.pump(ev),
                // The session is gone: only the script is left to read.
                None if !session_gone => {
                    session_gone = true;
                    self.closed = true;
                }
                // Nothing is left to come.
                None => break Ok(None),
            }
        };
        self.events.set_reading(false);
        line
    }

    /// Runs until the command with `tag` has its result; true if `ok`.
    async fn until_done(&mut self, tag: Tag, command: &str) -> bool {
        loop {
            // The result event is the last `ok`/`error` naming the command;
            // the app removes the tag when it emits it.
            if !self.app.is_pending(tag) {
                return self.result_of(command);
            }
            if self.closed {
                self.print(vec![Event::Error {
                    command: Some(command.to_string()),
                    room: None,
                    condition: "remote-server-not-found".into(),
                    text: Some("the session has ended".into()),
                    message_id: None,
                }]);
                return false;
            }
            self.step(Instant::now() + Duration::from_secs(3600)).await;
        }
    }

    /// Whether the newest result event for `command` is `ok`.
    fn result_of(&self, command: &str) -> bool {
        self.seen
            .rfind(|v| {
                matches!(v["event"].as_str(), Some("ok") | Some("error"))
                    && v["command"].as_str() == Some(command)
            })
            .is_some_and(|v| v["event"] == "ok")
    }

    async fn connect(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.seen.rfind(|v| v["event"] == "connected").is_some() {
                return true;
            }
            if self.closed || self.app.store.connection == crate::store::Connection::Failed {
                return false;
            }
            if Instant::now() >= deadline {
                self.print(vec![Event::error(
                    "remote-server-timeout",
                    Some(format!("no connection within {} s", timeout.as_secs())),
                )]);
                return false;
            }
            self.step(deadline).await;
        }
    }

    async fn script(&mut self, opts: &BatchOptions) -> i32 {
        // The one-to-one windows open when confab last ran.
        let restored = self.app.restore_windows();
        self.print(restored);
        if !self.connect(opts.connect_timeout).await {
            return 1;
        }
        for room in &opts.autojoin {
            let line = format!("/join {room}");
            if !self.run_line(&line).await && !opts.keep_going {
                return 1;
            }
        }
        // The roster (quietly), carbons and the account's archive, then
        // the bookmarks' autojoin rooms.
        self.app.fetch_roster();
        self.app.account_online();
        self.autojoin_bookmarks().await;
        loop {
            // Keep handling events while waiting for the next line.
            let line = match self.next_line().await {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => {
                    self.print(vec![Event::error(
                        "bad-request",
                        Some(format!("cannot read the script: {e}")),
                    )]);
                    return 1;
                }
            };
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if matches!(command::parse(trimmed), Ok(Command::Quit)) {
                self.print(vec![Event::Ok {
                    command: trimmed.to_string(),
                }]);
                break;
            }
            if !self.run_line(trimmed).await {
                self.failed = true;
                if !opts.keep_going {
                    return 1;
                }
            }
        }
        if self.failed { 1 } else { 0 }
    }

    /// Runs one command line to its outcome; true if it succeeded.
    async fn run_line(&mut self, line: &str) -> bool {
        let cmd = match command::parse(line) {
            Ok(c) => c,
            Err(e) => {
                self.print(vec![Event::Error {
                    command: Some(line.to_string()),
                    room: None,
                    condition: "bad-request".into(),
                    text: Some(e.to_string()),
                    message_id: None,
                }]);
                return false;
            }
        };
        match cmd {
            Command::Wait(w) => self.wait(line, w).await,
            Command::Sleep(d) => {
                let deadline = Instant::now() + d;
                while Instant::now() < deadline {
                    self.step(deadline).await;
                }
                self.print(vec![Event::Ok {
                    command: line.to_string(),
                }]);
                true
            }
            other => {
                let exec = self.app.execute(other, line);
                self.print(exec.events);
                match exec.pending {
                    None => self.result_of(line),
                    Some(tag) => self.until_done(tag, line).await,
                }
            }
        }
    }

    async fn wait(&mut self, line: &str, w: command::Wait) -> bool {
        let deadline = Instant::now() + w.timeout;
        // Events before the /wait that are still held, then each new one
        // as it is printed.
        let earlier = self
            .seen
            .find_from(0, |v| wait::matches(&w.kind, v, &self.app.store));
        self.waiting = Some((w.kind.clone(), earlier));
        let matched = loop {
            if let Some((_, Some(pos))) = &self.waiting {
                break Some(*pos);
            }
            if wait::satisfied_now(&w.kind, &self.app.store) {
                break None;
            }
            if Instant::now() >= deadline || self.closed {
                self.waiting = None;
                self.print(vec![Event::Error {
                    command: Some(line.to_string()),
                    room: None,
                    condition: "remote-server-timeout".into(),
                    text: Some(format!(
                        "no matching event within {} s",
                        w.timeout.as_secs_f64()
                    )),
                    message_id: None,
                }]);
                return false;
            }
            self.step(deadline).await;
        };
        self.waiting = None;
        match matched {
            // Consumed through the match; later events stay for the next
            // /wait.
            Some(pos) => self.seen.consume_through(pos),
            // Everything so far is behind this /wait.
            None => self.seen.clear(),
        }
        self.print(vec![Event::Ok {
            command: line.to_string(),
        }]);
        self.seen.pop_back();
        true
    }

    /// End of input: leave the rooms, let the app's own requests finish
    /// (e.g. telling contacts we left), close the stream.
    async fn finish(&mut self) {
        if self.closed {
            return;
        }
        // A call is hung up first, and its recordings finished.
        let (events, media) = self.app.leave_call();
        self.print(events);
        if let Some(m) = media {
            m.shutdown(Duration::from_secs(3)).await;
        }
        for room in self.app.active_rooms() {
            let line = format!("/part {room}");
            if let Ok(cmd) = command::parse(&line) {
                let exec = self.app.execute(cmd, &line);
                self.print(exec.events);
                if let Some(tag) = exec.pending {
                    let deadline = Instant::now() + Duration::from_secs(5);
                    while self.app.is_pending(tag) && Instant::now() < deadline && !self.closed {
                        self.step(deadline).await;
                    }
                }
            }
        }
        if !self.closed {
            let (out, seen) = (&mut self.out, &mut self.seen);
            let drained = self
                .app
                .drain(self.events.app_events(), DRAIN_TIMEOUT, |_, events| {
                    print_to(out, seen, events)
                })
                .await;
            if drained.closed {
                self.closed = true;
                return;
            }
        }
        self.app.shutdown();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.closed && Instant::now() < deadline {
            if !self.step(deadline).await {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_terminal_safe_and_still_the_same_json() {
        let v = serde_json::json!({"event":"message","body":"\u{1b}[2J\u{9b}31m\u{202e}x\u{7f} ok ü 日本"});
        let line = json_line(&v);
        assert!(!line.chars().any(needs_escape), "{line:?}");
        assert!(
            line.contains("\\u009b") && line.contains("\\u202e"),
            "{line}"
        );
        let back: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, v);
        // Invisible characters too, beyond the BMP as surrogate pairs.
        let v = serde_json::json!({"nick":"ad\u{200b}min\u{e0041}\u{2028}"});
        let line = json_line(&v);
        assert_eq!(line, r#"{"nick":"ad\u200bmin\udb40\udc41\u2028"}"#);
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), v);
        // Plain text is left alone.
        let plain = serde_json::json!({"event":"ok","command":"/say r@c ü"});
        assert_eq!(json_line(&plain), serde_json::to_string(&plain).unwrap());
    }
}
