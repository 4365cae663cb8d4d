//! Notifications from the real TUI (tmux) against the test Prosody: a
//! `notify_command` gets highlights, one-to-one messages and invitations
//! as JSON on stdin (no shell), never about the window being looked at.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

/// The notifications the command wrote so far: (kind, window, JSON).
fn notifications(log: &std::path::Path) -> Vec<(String, String, Value)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let (kind, window, json) = (parts.next()?, parts.next()?, parts.next()?);
            Some((kind.into(), window.into(), serde_json::from_str(json).ok()?))
        })
        .collect()
}

fn wait_for_notification(
    log: &std::path::Path,
    what: &str,
    pred: impl Fn(&(String, String, Value)) -> bool,
) -> Vec<(String, String, Value)> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let all = notifications(log);
        if all.iter().any(&pred) {
            return all;
        }
        assert!(Instant::now() < until, "no notification {what}: {all:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_notify_command_gets_what_is_not_in_focus() {
    let server = prosody_with(&["alice", "bob"]);
    let room = "notes@conference.localhost";
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("notify.sh");
    let log = home.path().join("notifications.log");
    std::fs::write(
        &script,
        "#!/bin/sh\n{ printf '%s\\t%s\\t' \"$2\" \"$3\"; cat; } >> \"$1\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = home.path().join("config").join("confab");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[ui]\nnotify_command = [{:?}, {:?}]\n",
            script.display().to_string(),
            log.display().to_string()
        ),
    )
    .unwrap();

    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {room}/bob"));
    let tmux = Tmux::start(&server, "alice", home.path(), 110, 24);
    tmux.send(&[&format!("/join {room}"), "Enter"]);
    bob.ok(&format!("/wait occupant {room} alice"));
    // Looked at: no notification, even for a mention.
    bob.ok(&format!("/say {room} alice: first look"));
    tmux.wait_for("the first mention", |s| s.contains("first look"));
    // Another window in front: the mention notifies, a plain line does not.
    tmux.send(&["/msg carol@localhost", "Enter"]);
    tmux.wait_for("carol's window", |s| s.contains("carol@localhost"));
    bob.ok(&format!("/say {room} just chatting"));
    bob.ok(&format!("/say {room} alice: second look"));
    let all = wait_for_notification(&log, "for the second mention", |(k, _, v)| {
        k == "highlight" && v["text"] == "alice: second look"
    });
    let n = all.iter().find(|(k, _, _)| k == "highlight").unwrap();
    assert_eq!(n.1, room);
    assert_eq!(n.2["from"], "bob");
    // A one-to-one message and an invitation notify.
    bob.ok("/msg alice@localhost a word in private");
    wait_for_notification(&log, "for the private message", |(k, w, v)| {
        k == "message" && w == "bob@localhost" && v["text"] == "a word in private"
    });
    bob.ok("/join other@conference.localhost/bob");
    bob.ok("/invite other@conference.localhost alice@localhost \"come over\"");
    let all = wait_for_notification(&log, "for the invitation", |(k, w, _)| {
        k == "invitation" && w == "other@conference.localhost"
    });
    assert!(
        !all.iter()
            .any(|(_, _, v)| v["text"] == "alice: first look" || v["text"] == "just chatting"),
        "{all:?}"
    );
    // Decline the invitation's prompt, and only type once it is gone: an
    // Esc followed at once by `/` reads as Alt-/ (one escape sequence).
    tmux.wait_for("the invitation's prompt", |s| s.contains("invites you"));
    tmux.send(&["Escape"]);
    tmux.wait_for("the prompt gone", |s| !s.contains("invites you"));
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
    assert_eq!(bob.finish(), 0);
}

#[test]
fn desktop_notifications_reach_the_freedesktop_server() {
    let desktop = crate::common::desktop::Desktop::start();
    let server = prosody_with(&["alice", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("config").join("confab");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "[ui]\nnotify = \"desktop\"\n").unwrap();
    let bus = format!("DBUS_SESSION_BUS_ADDRESS={}", desktop.bus_address);
    let tmux = Tmux::start_with_env(&server, "alice", home.path(), (110, 24), &[], &[&bus]);
    let mut bob = Client::online(&server, "bob");
    // Looking at bob's window: nothing.
    tmux.send(&["/msg bob@localhost", "Enter"]);
    tmux.wait_for("bob's window", |s| s.contains("bob@localhost"));
    bob.ok("/msg alice@localhost seen already");
    tmux.wait_for("the first message", |s| s.contains("seen already"));
    // Elsewhere: the server shows it, as text (markup and control
    // characters are someone else's words, not instructions).
    tmux.send(&["/msg carol@localhost", "Enter"]);
    tmux.wait_for("carol's window", |s| s.contains("carol@localhost"));
    bob.ok("/msg alice@localhost \"a <b>bold</b> & \u{9b}2Jword\"");
    let all = desktop.wait_shown("bob's message", |(_, _, body)| body.contains("word"));
    let (app, summary, body) = all.iter().find(|(_, _, b)| b.contains("word")).unwrap();
    assert_eq!(app, "confab");
    assert!(summary.starts_with("confab: bob@localhost"), "{summary}");
    assert!(body.contains("&lt;b&gt;bold&lt;/b&gt; &amp;"), "{body}");
    assert!(!body.contains('\u{9b}'), "{body:?}");
    assert!(
        !all.iter().any(|(_, _, b)| b.contains("seen already")),
        "{all:?}"
    );
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
    assert_eq!(bob.finish(), 0);
}
