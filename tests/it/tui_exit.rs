//! Every way the TUI can end, with the real binary in tmux against the
//! test Prosody: afterwards the terminal is as it was (not in the
//! alternate screen, no mouse tracking, no bracketed paste, cursor shown,
//! keypad modes off, cooked mode with echo) and the exit status says how
//! it ended. Also Ctrl-L, which must really repaint.

use std::io::Write;
use std::process::Command;

use crate::common::*;

fn online(t: &Tmux, server: &Prosody, user: &str) {
    let jid = server.jid(user);
    t.wait_for("the connection", |s| s.contains(&format!("online {jid}")));
}

/// While confab runs, the modes it sets are seen (so the checks after it
/// ended can tell).
fn assert_in_tui(t: &Tmux) {
    let f = t.flags();
    assert!(
        f.contains("alternate_on=1") && f.contains("mouse_any_flag=1"),
        "{f}"
    );
}

fn assert_restored(t: &Tmux) {
    assert_eq!(
        t.flags(),
        "alternate_on=0 mouse_any_flag=0 mouse_button_flag=0 mouse_all_flag=0 \
         mouse_standard_flag=0 mouse_sgr_flag=0 mouse_utf8_flag=0 cursor_flag=1 \
         keypad_cursor_flag=0 keypad_flag=0",
        "{}",
        t.screen()
    );
    // Cooked mode: line editing and echo are back.
    let out = Command::new("stty")
        .arg("-F")
        .arg(t.pane_tty())
        .arg("-a")
        .output()
        .expect("stty");
    let modes = String::from_utf8_lossy(&out.stdout);
    for mode in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(
            modes.split_whitespace().any(|w| w == mode),
            "{mode} is off: {modes}"
        );
    }
    // Bracketed paste is off: a paste arrives as plain text (`cat -v`
    // would show the markers as ^[[200~ … ^[[201~).
    let ok = t
        .cmd()
        .args(["set-buffer", "pasted-after-exit"])
        .status()
        .unwrap();
    assert!(ok.success());
    let ok = t
        .cmd()
        .args(["paste-buffer", "-p", "-t", "confab"])
        .status()
        .unwrap();
    assert!(ok.success());
    t.send(&["Enter"]);
    // Echoed by the terminal, then printed by `cat -v`.
    let s = t.wait_for("the paste, echoed and read", |s| {
        s.lines()
            .filter(|l| l.contains("pasted-after-exit"))
            .count()
            >= 2
    });
    assert!(!s.contains("200~"), "bracketed paste left on:\n{s}");
}

/// Starts confab online as alice, ready to be ended.
fn running(server: &Prosody, env: &[&str]) -> (Tmux, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let t = Tmux::start_wrapped(
        server,
        "alice",
        &password_of("alice"),
        true,
        home.path(),
        env,
    );
    online(&t, server, "alice");
    assert_in_tui(&t);
    (t, home)
}

#[test]
fn quit_command_restores_the_terminal_and_exits_0() {
    let server = prosody_with(&["alice"]);
    let (t, _home) = running(&server, &[]);
    t.send(&["/quit", "Enter"]);
    assert_eq!(t.exit_status(), 0);
    assert_restored(&t);
}

#[test]
fn ctrl_c_restores_the_terminal_and_exits_0() {
    let server = prosody_with(&["alice"]);
    let (t, _home) = running(&server, &[]);
    t.send(&["C-c"]);
    assert_eq!(t.exit_status(), 0);
    assert_restored(&t);
}

fn signal(t: &Tmux, sig: libc::c_int) {
    let pid = t.confab_pid() as libc::pid_t;
    // SAFETY: a plain signal to the confab process this test started.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
}

#[test]
fn sigterm_restores_the_terminal_and_exits_143() {
    let server = prosody_with(&["alice"]);
    let (t, _home) = running(&server, &[]);
    signal(&t, libc::SIGTERM);
    assert_eq!(t.exit_status(), 128 + libc::SIGTERM);
    assert_restored(&t);
}

#[test]
fn sighup_restores_the_terminal_and_exits_129() {
    let server = prosody_with(&["alice"]);
    let (t, _home) = running(&server, &[]);
    signal(&t, libc::SIGHUP);
    assert_eq!(t.exit_status(), 128 + libc::SIGHUP);
    assert_restored(&t);
}

#[test]
fn a_panic_restores_the_terminal_and_exits_101() {
    let server = prosody_with(&["alice"]);
    // Test-only: F12 panics when CONFAB_TEST_PANIC is set.
    let (t, _home) = running(&server, &["CONFAB_TEST_PANIC=1", "RUST_BACKTRACE=0"]);
    t.send(&["F12"]);
    assert_eq!(t.exit_status(), 101);
    let s = t.screen();
    assert!(
        s.contains("test-only panic"),
        "the panic message is shown:\n{s}"
    );
    assert_restored(&t);
}

#[test]
fn a_panic_in_a_task_restores_the_terminal_and_exits_101() {
    let server = prosody_with(&["alice"]);
    // Test-only: F11 panics in a task when CONFAB_TEST_PANIC is set.
    let (t, _home) = running(&server, &["CONFAB_TEST_PANIC=1", "RUST_BACKTRACE=0"]);
    t.send(&["F11"]);
    assert_eq!(t.exit_status(), 101);
    let s = t.screen();
    assert!(s.contains("test-only panic in a task"), "{s}");
    assert_restored(&t);
}

#[test]
fn wrong_password_ends_the_tui_with_the_error_and_exit_1() {
    let server = prosody_with(&["alice"]);
    let home = tempfile::tempdir().unwrap();
    let t = Tmux::start_wrapped(&server, "alice", "not-the-password", true, home.path(), &[]);
    assert_eq!(t.exit_status(), 1);
    let s = t.screen();
    assert!(s.contains("confab: not-authorized"), "{s}");
    assert!(!s.contains("not-the-password"), "password shown:\n{s}");
    assert_restored(&t);
}

#[test]
fn a_fatal_error_after_being_online_keeps_the_tui_open_then_exits_1() {
    let mut server = prosody_with(&["alice"]);
    let (t, _home) = running(&server, &[]);
    // The password changes while the server is down: the reconnection
    // cannot log in.
    server.stop();
    server.register("alice", "changed-meanwhile").unwrap();
    server.restart().expect("prosody restarts");
    let s = t.wait_for("the error", |s| s.contains("not-authorized"));
    // Still open, showing it.
    assert_in_tui(&t);
    assert!(s.contains("failed"), "{s}");
    t.send(&["C-c"]);
    assert_eq!(t.exit_status(), 1);
    let s = t.screen();
    assert!(s.contains("confab: not-authorized"), "{s}");
    assert_restored(&t);
}

#[test]
fn bad_certificate_ends_the_tui_with_the_error_and_exit_1() {
    let server = prosody_with(&["alice"]);
    let home = tempfile::tempdir().unwrap();
    // No --ca-file: the test CA is not trusted.
    let t = Tmux::start_wrapped(
        &server,
        "alice",
        &password_of("alice"),
        false,
        home.path(),
        &[],
    );
    assert_eq!(t.exit_status(), 1);
    let s = t.screen();
    assert!(s.contains("confab: bad-certificate"), "{s}");
    assert!(s.contains("--ca-file"), "{s}");
    assert_restored(&t);
}

#[test]
fn ctrl_l_repaints_what_something_else_scribbled_over() {
    let server = prosody_with(&["alice"]);
    let (t, _home) = running(&server, &[]);
    // Another program writes over confab's screen (row 12, column 30:
    // the empty message pane).
    let mut tty = std::fs::OpenOptions::new()
        .write(true)
        .open(t.pane_tty())
        .expect("the pane's terminal");
    tty.write_all(b"\x1b[12;30HSCRIBBLED-OVER").unwrap();
    tty.flush().unwrap();
    t.wait_for("the scribble", |s| s.contains("SCRIBBLED-OVER"));
    t.send(&["C-l"]);
    // The screen is cleared, then drawn again: wait for both, or the
    // capture may land between the two.
    let online = format!("online {}", server.jid("alice"));
    let s = t.wait_for("a clean, repainted screen", |s| {
        !s.contains("SCRIBBLED-OVER") && s.contains(&online)
    });
    assert!(s.contains(&online), "{s}");
    t.send(&["/quit", "Enter"]);
    assert_eq!(t.exit_status(), 0);
}
