//! The XML console in the real TUI (tmux): `/xmlconsole` opens it, a
//! message said in the room shows as an outgoing stanza and its echo as
//! an incoming one, Esc closes it (and the session stops copying).

use crate::common::*;

/// The screen with its rows joined: the console wraps long stanzas at
/// the pane's width, so a wrapped one reads whole again.
fn joined(s: &str) -> String {
    s.replace('\n', "")
}

#[test]
fn tui_xml_console_shows_stanzas_in_and_out() {
    let server = prosody_with(&["alice"]);
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&server, "alice", home.path(), 120, 30);
    tmux.send(&["/join lobby@conference.localhost", "Enter"]);
    tmux.wait_for("the room joined", |s| {
        s.contains("lobby@conference.localhost")
    });
    tmux.send(&["/xmlconsole", "Enter"]);
    tmux.wait_for("the console", |s| s.contains("XML console — "));
    tmux.send(&["traced-hello-42", "Enter"]);
    let screen = tmux.wait_for("our message out and its echo in", |s| {
        let j = joined(s);
        j.contains("→ out <message") && j.contains("← in  <message") && {
            // Ours, and the room's echo (with its xml:lang).
            j.matches(">traced-hello-42</body>").count() >= 2
        }
    });
    assert!(!screen.contains('\u{1b}'), "{screen}");
    tmux.send(&["Escape"]);
    tmux.wait_for("the console closed", |s| {
        !s.contains("XML console — ")
            && s.contains("/xmlconsole off: ok")
            && s.contains("traced-hello-42")
    });
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
}
