//! The terminal UI (a first, plain version; the full TUI is its own
//! issue): room list, messages, participants, status and input line.
//!
//! The loop never waits on the network: it redraws when something changed,
//! at most ~60 times a second, and only reads the store.

pub mod keymap;
mod sanitize;
pub mod theme;
mod view;

use std::io;
use std::time::Duration;

use crossterm::event::{
    Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use futures::StreamExt;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::app::App;
use crate::command::{self, Command};
use crate::session::{SessionCmd, SessionEvent};
use crate::store::Event;

pub use sanitize::sanitize;

/// What the view needs besides the store.
#[derive(Debug, Default)]
pub struct UiState {
    /// Index into the store's room list.
    pub current: usize,
    pub input: String,
    /// Cursor position in `input`, in chars.
    pub cursor: usize,
    /// Last result or notice, shown in the status line.
    pub status: String,
    /// Lines scrolled back from the bottom of the message pane.
    pub scroll: usize,
    /// Help text shown instead of the messages, until Esc.
    pub help: Option<String>,
}

const FRAME: Duration = Duration::from_millis(16);

/// Runs the TUI until `/quit` or Ctrl-C; returns the exit status.
pub async fn run(
    mut app: App,
    mut events: UnboundedReceiver<SessionEvent>,
    autojoin: Vec<String>,
    startup_errors: Vec<String>,
) -> i32 {
    let mut terminal = ratatui::init();
    let mut ui = UiState {
        status: startup_errors.join("; "),
        ..UiState::default()
    };
    let mut keys = EventStream::new();
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut autojoin = Some(autojoin);
    let code = loop {
        if dirty {
            let wait = FRAME.saturating_sub(last_draw.elapsed());
            if wait.is_zero() {
                if let Err(e) = terminal.draw(|f| view::render(&app.store, &ui, f)) {
                    ui.status = format!("draw failed: {e}");
                }
                last_draw = Instant::now();
                dirty = false;
            }
        }
        let frame_due = tokio::time::sleep(if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(3600)
        });
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break 1 };
                let mut out = app.on_session(ev);
                while let Ok(ev) = events.try_recv() {
                    out.extend(app.on_session(ev));
                }
                out.extend(app.flush_history());
                if out.iter().any(|e| matches!(e, Event::Connected { .. }))
                    && let Some(rooms) = autojoin.take() {
                        for r in rooms {
                            let line = format!("/join {r}");
                            run_line(&mut app, &mut ui, &line);
                        }
                    }
                note(&mut ui, &out);
                dirty = true;
            }
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => {
                    match on_key(&mut app, &mut ui, k) {
                        KeyOutcome::Quit => break 0,
                        KeyOutcome::Continue => dirty = true,
                    }
                }
                Some(Ok(TermEvent::Paste(text))) => {
                    insert(&mut ui, &text.replace(['\r', '\n'], " "));
                    dirty = true;
                }
                Some(Ok(_)) => dirty = true,
                Some(Err(e)) => { ui.status = format!("terminal: {e}"); dirty = true; }
                None => break 0,
            },
            _ = tick.tick() => {
                let late = app.tick();
                if !late.is_empty() {
                    note(&mut ui, &late);
                    dirty = true;
                }
            }
            _ = frame_due, if dirty => {}
        }
    };
    // Leave rooms and close the stream, briefly.
    app.session().send(SessionCmd::Shutdown);
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(ev) = events.recv().await {
            if ev == SessionEvent::Closed {
                break;
            }
        }
    })
    .await;
    ratatui::restore();
    code
}

/// Puts results and errors in the status line.
fn note(ui: &mut UiState, events: &[Event]) {
    for e in events {
        match e {
            Event::Error {
                command,
                condition,
                text,
                ..
            } => {
                ui.status = format!(
                    "{}{}{}",
                    command
                        .as_deref()
                        .map(|c| format!("{c}: "))
                        .unwrap_or_default(),
                    condition,
                    text.as_deref()
                        .map(|t| format!(" ({t})"))
                        .unwrap_or_default()
                );
            }
            Event::Ok { command } => ui.status = format!("{command}: ok"),
            Event::Info { text } => ui.help = Some(text.clone()),
            Event::Disconnected { reason, .. } => ui.status = format!("disconnected: {reason}"),
            Event::Reconnected { .. } => ui.status = "reconnected".into(),
            _ => {}
        }
    }
}

enum KeyOutcome {
    Continue,
    Quit,
}

fn insert(ui: &mut UiState, s: &str) {
    let byte = byte_at(&ui.input, ui.cursor);
    ui.input.insert_str(byte, s);
    ui.cursor += s.chars().count();
}

fn byte_at(s: &str, chars: usize) -> usize {
    s.char_indices()
        .nth(chars)
        .map(|(b, _)| b)
        .unwrap_or(s.len())
}

fn on_key(app: &mut App, ui: &mut UiState, k: KeyEvent) -> KeyOutcome {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    match k.code {
        KeyCode::Char('c') if ctrl => return KeyOutcome::Quit,
        KeyCode::Char('n') if ctrl => next_room(app, ui, 1),
        KeyCode::Char('p') if ctrl => next_room(app, ui, -1),
        KeyCode::Char('a') if ctrl => ui.cursor = 0,
        KeyCode::Char('e') if ctrl => ui.cursor = ui.input.chars().count(),
        KeyCode::Char('u') if ctrl => {
            let b = byte_at(&ui.input, ui.cursor);
            ui.input.drain(..b);
            ui.cursor = 0;
        }
        KeyCode::Char(c) if !ctrl => insert(ui, &c.to_string()),
        KeyCode::Backspace if ui.cursor > 0 => {
            ui.cursor -= 1;
            let b = byte_at(&ui.input, ui.cursor);
            ui.input.remove(b);
        }
        KeyCode::Delete if ui.cursor < ui.input.chars().count() => {
            let b = byte_at(&ui.input, ui.cursor);
            ui.input.remove(b);
        }
        KeyCode::Left => ui.cursor = ui.cursor.saturating_sub(1),
        KeyCode::Right => ui.cursor = (ui.cursor + 1).min(ui.input.chars().count()),
        KeyCode::Home => ui.cursor = 0,
        KeyCode::End => ui.cursor = ui.input.chars().count(),
        KeyCode::PageUp => ui.scroll += 10,
        KeyCode::PageDown => ui.scroll = ui.scroll.saturating_sub(10),
        KeyCode::Esc => ui.help = None,
        KeyCode::F(1) => ui.help = crate::command::table::help_text(None).ok(),
        KeyCode::Enter => {
            let line = std::mem::take(&mut ui.input);
            ui.cursor = 0;
            if line.trim() == "/quit" || line.trim() == "/exit" {
                return KeyOutcome::Quit;
            }
            run_line(app, ui, &line);
        }
        _ => {}
    }
    KeyOutcome::Continue
}

fn next_room(app: &App, ui: &mut UiState, step: isize) {
    let n = app.store.rooms().count();
    if n > 0 {
        ui.current = (ui.current as isize + step).rem_euclid(n as isize) as usize;
        ui.scroll = 0;
    }
}

/// The input line: a command, or text for the current room.
fn run_line(app: &mut App, ui: &mut UiState, line: &str) {
    if line.trim().is_empty() {
        return;
    }
    let current = app.store.rooms().nth(ui.current).map(|r| r.jid.clone());
    let (cmd, text) = if line.starts_with('/') && !line.starts_with("//") {
        match command::parse(line) {
            Ok(c) => (c, line.to_string()),
            Err(e) => {
                ui.status = e.to_string();
                return;
            }
        }
    } else {
        let body = line.strip_prefix('/').unwrap_or(line).to_string();
        let Some(room) = current else {
            ui.status = "no room open: /join ROOM first".into();
            return;
        };
        (
            Command::Say {
                room: room.clone(),
                text: body,
            },
            format!("/say {room} …"),
        )
    };
    if let Command::Join { room, .. } = &cmd {
        // Show the room being joined.
        let pos = app.store.rooms().position(|r| &r.jid == room);
        ui.current = pos.unwrap_or_else(|| app.store.rooms().count());
    }
    let exec = app.execute(cmd, &text);
    note(ui, &exec.events);
}

/// Asks for the password on the terminal without echo.
pub fn prompt_password(jid: &str) -> io::Result<String> {
    use crossterm::event::{Event, KeyCode, read};
    use std::io::Write;
    eprint!("Password for {}: ", sanitize(jid, false));
    io::stderr().flush()?;
    crossterm::terminal::enable_raw_mode()?;
    let mut pw = String::new();
    let result = loop {
        match read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
                }
                KeyCode::Char(c) => pw.push(c),
                KeyCode::Backspace => {
                    pw.pop();
                }
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(e),
        }
    };
    crossterm::terminal::disable_raw_mode()?;
    eprintln!();
    result.map(|_| pw)
}
