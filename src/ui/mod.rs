//! The terminal UI: room list, messages, participants, title and status
//! bars, input line, help, tables, forms and prompts.
//!
//! The loop never waits on the network: it redraws when something changed,
//! at most ~60 times a second, and only what is visible. Keys become
//! [`keymap::Action`]s or text; the input line goes through the same
//! command parser as `--batch`.

mod call;
pub mod color;
pub mod complete;
mod conference;
mod contacts;
mod events;
mod find;
pub mod input;
mod invite;
pub mod keymap;
mod keys;
pub mod messages;
mod moderation;
pub mod notify;
pub mod rooms;
mod sanitize;
mod select;
pub mod state;
pub mod styling;
pub mod theme;
pub mod transfer;
mod typing;
pub mod view;
pub mod views;
pub mod widgets;
pub mod xml_console;

use std::io::{self, Write};
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent, EventStream, KeyCode, KeyEventKind, KeyModifiers,
};
use jid::BareJid;
use ratatui::layout::Rect;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::app::{App, LoopEvent, LoopEvents, sleep_until};
use crate::command::{self, Command, OmemoAction, table};
use crate::session::SessionEvent;
use crate::store::{Event, Window};

pub use keys::handle_key;
use keys::handle_mouse;
pub use sanitize::{is_unsafe, sanitize, sanitize_name};
use state::UiState;
use views::Overlay;

/// Where the panes were drawn (for the mouse).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PaneRects {
    pub rooms: Rect,
    pub messages: Rect,
    pub people: Rect,
}

const FRAME: Duration = Duration::from_millis(16);
/// How often the call panel (its clock, the meters) is redrawn in a call.
const CALL_REFRESH: Duration = Duration::from_millis(250);
/// Lines loaded from the archive per step when scrolling past the top.
const OLDER_BATCH: usize = 200;

/// What a key did.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    Continue,
    Quit,
}

/// Test-only: when this environment variable is set, F12 makes the TUI
/// panic (F11: a task of the runtime), so that the tests can check what a
/// panic leaves on the terminal (`tests/it/tui_exit.rs`). Not for users;
/// nothing else reads it.
pub const TEST_PANIC_ENV: &str = "CONFAB_TEST_PANIC";

/// After a SIGHUP, the most a clean exit may take (the call's media, the
/// drain) before the process is ended anyway.
const HANGUP_GRACE: Duration = Duration::from_secs(15);

/// Puts the terminal back as it was: mouse tracking and bracketed paste
/// off, cursor shown, raw mode off, out of the alternate screen. Safe to
/// call more than once (the panic hook and the normal exit both do).
/// Whether keyboard enhancement flags were pushed (popped on the way out).
static KEYBOARD_PUSHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn leave_terminal() {
    if KEYBOARD_PUSHED.swap(false, std::sync::atomic::Ordering::Relaxed) {
        let _ = crossterm::execute!(io::stdout(), crossterm::event::PopKeyboardEnhancementFlags);
    }
    let _ = crossterm::execute!(
        io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        crossterm::event::DisableFocusChange,
        crossterm::cursor::Show
    );
    ratatui::restore();
}

/// Runs the TUI until `/quit`, Ctrl-C, SIGTERM/SIGHUP or a fatal login
/// error; returns the exit status: 0 after `/quit` or Ctrl-C, 1 after a
/// fatal error (wrong password, bad certificate; the error is printed on
/// stderr once the terminal is restored), 128 + the signal's number after
/// SIGTERM or SIGHUP.
pub async fn run(
    mut app: App,
    events: UnboundedReceiver<LoopEvent>,
    mut ui: UiState,
    autojoin: Vec<String>,
) -> i32 {
    let mut terminal = ratatui::init();
    // ratatui's own hook leaves the alternate screen and raw mode; the
    // mouse, bracketed paste and the cursor need putting back too.
    // A panic elsewhere (a task, the media threads) leaves a TUI that
    // cannot go on on a restored terminal: the process ends there.
    let previous = std::panic::take_hook();
    let tui_thread = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        leave_terminal();
        previous(info);
        if std::thread::current().id() != tui_thread {
            std::process::exit(101);
        }
    }));
    let test_panic = std::env::var_os(TEST_PANIC_ENV).is_some();
    let _ = crossterm::execute!(
        io::stdout(),
        EnableMouseCapture,
        EnableBracketedPaste,
        crossterm::event::EnableFocusChange
    );
    // Key releases for push-to-talk, where the terminal speaks the kitty
    // keyboard protocol (asked, never assumed).
    if matches!(
        crossterm::terminal::supports_keyboard_enhancement(),
        Ok(true)
    ) {
        use crossterm::event::{KeyboardEnhancementFlags as F, PushKeyboardEnhancementFlags};
        let flags = F::DISAMBIGUATE_ESCAPE_CODES | F::REPORT_EVENT_TYPES;
        if crossterm::execute!(io::stdout(), PushKeyboardEnhancementFlags(flags)).is_ok() {
            KEYBOARD_PUSHED.store(true, std::sync::atomic::Ordering::Relaxed);
            ui.key_releases = true;
        }
    }
    // A fatal login error, and whether we were ever online (before that,
    // the TUI has nothing to show: it ends and prints the error).
    let mut fatal: Option<crate::protocol::ErrorInfo> = None;
    let mut ever_online = false;
    // One source of events: the session's, the media task's, the timer's
    // and the terminal's.
    let mut events = LoopEvents::new(events).with_terminal(EventStream::new());
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut drawn = view::Drawn::default();
    let mut autojoin = Some(autojoin);
    let mut title = String::new();
    // SIGTERM / SIGHUP end the session like /quit (and restore the terminal).
    let mut term_signal = signal(tokio::signal::unix::SignalKind::terminate());
    let mut hup_signal = signal(tokio::signal::unix::SignalKind::hangup());
    // crossterm's reader can spin on a terminal that hung up (`read()`
    // returning 0, forever) without coming back to this loop, which then
    // never sees the SIGHUP: a worker ends the process once a clean exit
    // (the drain included) would have had its time.
    if let Some(mut hup) = signal(tokio::signal::unix::SignalKind::hangup()) {
        tokio::spawn(async move {
            hup.recv().await;
            tokio::time::sleep(HANGUP_GRACE).await;
            std::process::exit(128 + libc::SIGHUP);
        });
    }
    app.set_chat_states(
        ui.settings
            .chat_states
            .then_some(ui.settings.chat_states_max_occupants),
    );
    // The one-to-one windows open when confab last ran.
    let restored = app.restore_windows();
    ui.on_events(&app.store, &restored);
    let code = loop {
        if ui.repaint {
            // Ctrl-L: clear the screen and forget what ratatui thinks is
            // on it, so that the next draw paints every cell.
            ui.repaint = false;
            let _ = terminal.clear();
            dirty = true;
            last_draw = Instant::now() - FRAME;
        }
        if dirty && last_draw.elapsed() >= FRAME {
            ui.current_encrypted = ui.current.as_ref().is_some_and(|j| app.omemo_enabled(j));
            match terminal.draw(|f| drawn = view::render(&app.store, &ui, f)) {
                Ok(_) => {}
                Err(e) => ui.set_status(format!("draw failed: {e}"), true),
            }
            last_draw = Instant::now();
            dirty = false;
            ui.page_rows = drawn.panes.messages.height.max(3);
            // Terminal notifications (OSC 777/9), between frames.
            if !ui.notifier.osc.is_empty() {
                let mut out = io::stdout();
                let _ = out.write_all(&std::mem::take(&mut ui.notifier.osc));
                let _ = out.flush();
            }
            if let Some(current) = ui.current.clone() {
                let v = ui.view_mut(&current);
                if v.jump_to.take().is_some()
                    && let Some(s) = drawn.jumped
                {
                    v.scroll = s;
                }
            }
            // A click found its message: selected, drawn so at once.
            dirty |= select::clicked(&mut ui, drawn.clicked);
            if ui.bell {
                ui.bell = false;
                let _ = io::stdout().write_all(b"\x07");
                let _ = io::stdout().flush();
            }
            if ui.settings.set_title {
                let t = ui.title();
                if t != title {
                    let _ = crossterm::execute!(io::stdout(), crossterm::terminal::SetTitle(&t));
                    title = t;
                }
            }
            // Scrolled to the oldest line held: fetch older ones.
            if drawn.reached_top
                && let Some(cur) = ui.current.clone()
                && ui.view(&cur).scroll > 0
            {
                let out = app.load_older(&cur, OLDER_BATCH);
                if !out.is_empty() {
                    ui.on_events(&app.store, &out);
                    dirty = true;
                }
            }
            // A conversation looked at, at its newest line, is read.
            let read = read_current(&mut app, &ui);
            if !read.is_empty() {
                ui.on_events(&app.store, &read);
            }
            // Back at the newest line (or in another window): what
            // scrolling back loaded beyond the window is let go.
            let reading_back = ui.current.clone().filter(|c| ui.view(c).scroll > 0);
            app.store.shrink_windows(reading_back.as_ref());
        }
        // The next frame: soon when something changed; in a call, the
        // panel's clock and meters move on their own; else none (an idle
        // TUI is not woken: no tick, the app's next deadline only).
        let frame_due = if dirty {
            Some(last_draw + FRAME)
        } else if app.in_call() {
            Some(last_draw + CALL_REFRESH)
        } else {
            None
        };
        events.set_deadline(app.next_deadline());
        tokio::select! {
            ev = events.next() => match ev {
                None => break 1,
                Some(LoopEvent::Term(TermEvent::Key(k))) => {
                    if k.kind != KeyEventKind::Release {
                        if test_panic && k.code == KeyCode::F(12) {
                            panic!("test-only panic ({TEST_PANIC_ENV} is set)");
                        }
                        if test_panic && k.code == KeyCode::F(11) {
                            tokio::spawn(async {
                                panic!("test-only panic in a task ({TEST_PANIC_ENV} is set)")
                            });
                        }
                        if handle_key(&mut app, &mut ui, k) == KeyOutcome::Quit {
                            break 0;
                        }
                        typing::after_input(&mut app, &ui);
                    } else {
                        keys::key_released(&mut app, &mut ui, k);
                    }
                    dirty = true;
                }
                Some(LoopEvent::Term(TermEvent::Paste(text)))
                    if matches!(ui.overlay, Overlay::Form(_)) =>
                {
                    // Into the open form (e.g. a room's secret).
                    if let Overlay::Form(f) = &mut ui.overlay {
                        f.paste(&text);
                    }
                    dirty = true;
                }
                Some(LoopEvent::Term(TermEvent::Paste(text))) => {
                    // A multi-line paste stays one message.
                    ui.editor.insert_str(&text.replace("\r\n", "\n").replace('\r', "\n"));
                    ui.completer.reset();
                    typing::after_input(&mut app, &ui);
                    dirty = true;
                }
                Some(LoopEvent::Term(TermEvent::Mouse(m))) => {
                    handle_mouse(&app, &mut ui, m, &drawn.panes, drawn.max_scroll);
                    dirty = true;
                }
                // Notifications about the current window only while the
                // terminal is not focused.
                Some(LoopEvent::Term(TermEvent::FocusLost)) => ui.notifier.unfocused = true,
                Some(LoopEvent::Term(TermEvent::FocusGained)) => ui.notifier.unfocused = false,
                Some(LoopEvent::Term(_)) => dirty = true,
                Some(LoopEvent::TermError(e)) => {
                    ui.set_status(format!("terminal: {e}"), true);
                    dirty = true;
                }
                Some(LoopEvent::InputEnd) => break 0,
                // No script here.
                Some(LoopEvent::Line(_) | LoopEvent::InputError(_)) => {}
                Some(LoopEvent::Tick) => {
                    let late = app.on_event(LoopEvent::Tick);
                    if !late.is_empty() {
                        ui.on_events(&app.store, &late);
                        dirty = true;
                    }
                }
                Some(ev) => {
                    // From the session or the media task, and what is
                    // queued behind it, before the next draw.
                    let note = |ev: &LoopEvent, fatal: &mut Option<crate::protocol::ErrorInfo>| {
                        if let LoopEvent::Session(SessionEvent::Fatal(e)) = ev {
                            *fatal = Some(e.clone());
                        }
                    };
                    note(&ev, &mut fatal);
                    let mut out = app.on_event(ev);
                    while let Some(ev) = events.try_next_app() {
                        note(&ev, &mut fatal);
                        out.extend(app.on_event(ev));
                    }
                    ever_online |= out.iter().any(|e| matches!(e, Event::Connected { .. }));
                    if fatal.is_some() && !ever_online {
                        break 1;
                    }
                    out.extend(app.flush_history());
                    if out.iter().any(|e| matches!(e, Event::Connected { .. }))
                        && let Some(rooms) = autojoin.take()
                    {
                        for r in rooms {
                            submit_line(&mut app, &mut ui, &format!("/join {r}"));
                        }
                        // Then the bookmarked rooms marked autojoin.
                        app.fetch_roster();
                        app.account_online();
                        let exec = app.autojoin_bookmarks();
                        ui.on_events(&app.store, &exec.events);
                    }
                    ui.on_events(&app.store, &out);
                    dirty = true;
                }
            },
            // Outside the loop's events: the frame timer of this loop's
            // drawing, and the signals that end it.
            _ = sleep_until(frame_due), if frame_due.is_some() => dirty = true,
            _ = recv_signal(&mut term_signal) => break 128 + libc::SIGTERM,
            _ = recv_signal(&mut hup_signal) => break 128 + libc::SIGHUP,
        }
    };
    // After a fatal error, once online: the TUI stayed open to show it;
    // leaving it is still a failure.
    let code = if fatal.is_some() { 1 } else { code };
    // Leave rooms and close the stream, briefly (contacts are told first).
    let (_, media) = app.leave_call();
    if let Some(m) = media {
        m.shutdown(Duration::from_secs(2)).await;
    }
    app.retract_chatting();
    // Those publications (and other requests of the app's own) are
    // answered before the stream closes, briefly.
    let drained = app
        .drain(
            events.app_events(),
            crate::app::DRAIN_TIMEOUT,
            |app, out| ui.on_events(&app.store, &out),
        )
        .await;
    if !drained.closed {
        app.shutdown();
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(ev) = events.app_events().recv().await {
                if ev.is_closed() {
                    break;
                }
            }
        })
        .await;
    }
    drop(terminal);
    leave_terminal();
    if drained.unanswered > 0 {
        eprintln!(
            "confab: closed with {} request(s) of our own unanswered after {} s",
            drained.unanswered,
            crate::app::DRAIN_TIMEOUT.as_secs()
        );
    }
    if let Some(e) = fatal {
        eprintln!("confab: {}", sanitize(&e.to_string(), false));
    }
    code
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).ok()
}

/// Waits for a signal (forever if it could not be installed).
async fn recv_signal(s: &mut Option<tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Marks the current conversation read when it is shown at its newest
/// line with nothing unread left (archive failures come back).
pub fn read_current(app: &mut App, ui: &UiState) -> Vec<Event> {
    match ui.current.as_ref() {
        Some(cur) if ui.view(cur).scroll == 0 && ui.view(cur).unread == 0 => app.mark_read(cur),
        _ => Vec::new(),
    }
}

fn open_help(ui: &mut UiState, topic: Option<&str>) {
    let text = match topic {
        Some(t) => table::help_text(Some(t)).unwrap_or_else(|e| e),
        None => format!(
            "Commands\n\n{}\n\nKeys\n\n{}\n",
            table::help_text(None).unwrap_or_default(),
            ui.keymap.help_text()
        ),
    };
    ui.overlay = Overlay::Help { text, scroll: 0 };
}

/// Commands whose first argument is a room: in the TUI it may be left out
/// and the current room is used.
fn with_current_room(line: &str, room: Option<&BareJid>) -> String {
    let Some(room) = room else {
        return line.to_string();
    };
    let mut parts = line.splitn(2, char::is_whitespace);
    let name = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("").trim_start();
    let Some(spec) = table::lookup(name.trim_start_matches('/')) else {
        return line.to_string();
    };
    let first_is_room = spec.args.first().is_some_and(|a| {
        matches!(
            a.kind,
            table::ArgKind::Room | table::ArgKind::RoomNick | table::ArgKind::RoomOrAll
        )
    });
    let first_word = rest.split_whitespace().next().unwrap_or("");
    let given = first_word.contains('@') || (first_word == "all" && spec.name == "status");
    if !first_is_room || spec.name == "join" {
        return line.to_string();
    }
    let with_room = if rest.is_empty() {
        format!("{name} {room}")
    } else {
        format!("{name} {room} {rest}")
    };
    // A JID first is the room, unless only the current room makes the
    // line whole (`/unban bob@example.org`).
    if given && (command::parse(line).is_ok() || command::parse(&with_room).is_err()) {
        return line.to_string();
    }
    with_room
}

/// Runs an input line; returns true when it asks to quit.
pub fn submit_line(app: &mut App, ui: &mut UiState, line: &str) -> bool {
    if line.trim().is_empty() {
        return false;
    }
    let current = ui.current.clone();
    let is_command = line.starts_with('/') && !line.starts_with("//");
    let text = if is_command {
        with_current_room(line, current.as_ref())
    } else {
        line.to_string()
    };
    let cmd = if is_command {
        match command::parse(&text) {
            Ok(c) => c,
            Err(e) => {
                ui.set_status(e.to_string(), true);
                return false;
            }
        }
    } else {
        let body = line.strip_prefix('/').unwrap_or(line).to_string();
        match current.as_ref().and_then(|j| app.store.window(j)) {
            Some(Window::Room(r)) => Command::Say {
                room: r.jid.clone(),
                text: body,
            },
            Some(Window::Chat(j, _)) => Command::Msg {
                to: j.clone().into(),
                text: body,
            },
            None => {
                ui.set_status("no room open: /join ROOM first", true);
                return false;
            }
        }
    };
    let shown = if is_command {
        text.clone()
    } else {
        "message".to_string()
    };
    run_command(app, ui, cmd, &shown)
}

/// Runs a command, shown as `shown` (its text as typed); returns true when
/// it asks to quit.
fn run_command(app: &mut App, ui: &mut UiState, cmd: Command, shown: &str) -> bool {
    let current = ui.current.clone();
    match cmd {
        Command::Quit => return true,
        Command::Win(n) => {
            if !ui.go_to(&app.store, n) {
                ui.set_status(format!("no window {n}"), true);
            }
        }
        Command::Layout { pane, setting } => ui.apply_layout(&pane, setting),
        Command::Help { topic } => open_help(ui, topic.as_deref()),
        Command::Me { text } => {
            match current.and_then(|j| app.store.room(&j).map(|r| r.jid.clone())) {
                Some(room) => execute(
                    app,
                    ui,
                    Command::Say {
                        room,
                        text: format!("/me {text}"),
                    },
                    shown,
                ),
                None => ui.set_status("/me: no room open", true),
            }
        }
        // The current window unless one is named.
        Command::Upload { to: None, path } => match current {
            Some(to) => execute(app, ui, Command::Upload { to: Some(to), path }, shown),
            None => ui.set_status(
                "/upload: no window open (or name one: /upload PATH ROOM|JID)",
                true,
            ),
        },
        // `/omemo on|off` without a JID: the current window (a
        // conversation or a room).
        Command::Omemo {
            action: action @ (OmemoAction::On | OmemoAction::Off),
            jid: None,
        } => match current {
            Some(jid) => execute(
                app,
                ui,
                Command::Omemo {
                    action,
                    jid: Some(jid),
                },
                shown,
            ),
            None => ui.set_status("/omemo: no window open (or name one: /omemo on JID)", true),
        },
        Command::Close { jid: None } | Command::Read { jid: None } => {
            let Some(jid) = current else {
                ui.set_status(format!("/{}: no window open", cmd.name()), true);
                return false;
            };
            let cmd = match cmd {
                Command::Close { .. } => Command::Close { jid: Some(jid) },
                _ => Command::Read { jid: Some(jid) },
            };
            execute(app, ui, cmd, shown);
        }
        Command::Clear => match current {
            Some(jid) => {
                let newest = app
                    .store
                    .window(&jid)
                    .and_then(|w| w.messages().iter().last().map(|m| m.seq));
                let v = ui.view_mut(&jid);
                v.cleared = newest;
                v.scroll = 0;
                v.unread_from = None;
            }
            None => ui.set_status("/clear: no window open", true),
        },
        Command::Wait(_) | Command::Sleep(_) => {
            ui.set_status(format!("/{} is for scripts (--batch)", cmd.name()), true)
        }
        other => {
            if let Command::Join { room, .. } | Command::Create { room, .. } = &other {
                ui.follow.push(room.clone());
            }
            if let Command::Accept { id } = &other
                && let Some(room) = app.store.invitations.get(id)
                && let Ok(room) = BareJid::new(&room.room)
            {
                ui.follow.push(room);
            }
            if let Command::Msg { to, .. } = &other {
                // A one-to-one conversation gets its window at once.
                if to.resource().is_none() && app.store.room(&to.to_bare()).is_none() {
                    ui.follow.push(to.to_bare());
                }
            }
            if let Command::OpenChat { jid } = &other
                && app.store.room(&jid.to_bare()).is_none()
            {
                ui.follow.push(jid.to_bare());
            }
            execute(app, ui, other, shown);
        }
    }
    false
}

fn execute(app: &mut App, ui: &mut UiState, cmd: Command, shown: &str) {
    let exec = app.execute(cmd, shown);
    ui.on_events(&app.store, &exec.events);
    // A conversation opened by /msg: show it.
    if let Some(j) = ui.follow.last().cloned()
        && app.store.room(&j).is_none()
        && app.store.window(&j).is_some()
    {
        ui.follow.pop();
        ui.switch_to(&app.store, j);
    }
}

/// Asks for the password on the terminal without echo.
pub fn prompt_password(jid: &str) -> io::Result<String> {
    use crossterm::event::{Event, read};
    eprint!("Password for {}: ", sanitize_name(jid));
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

#[cfg(test)]
mod tests;
