//! Invitations and bookmarks in the real TUI (tmux) against the test
//! Prosody: a bookmarked autojoin room is joined at login, an invitation
//! shows as a prompt and Enter accepts it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.socket);
        c
    }
    fn send(&self, keys: &[&str]) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "confab"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(ok.success());
    }
    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "confab"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Polls the screen until `pred` holds (bounded).
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + LONG;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(Instant::now() < until, "screen never showed {what}:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

#[test]
fn tui_autojoins_bookmarks_and_accepts_an_invitation() {
    let server = prosody_with(&["alice", "bob"]);
    let den = "tuiden@conference.localhost";
    let party = "tuiparty@conference.localhost";
    // Alice's bookmark, stored from a batch session.
    let mut setup = Client::online(&server, "alice");
    setup.ok(&format!("/bookmark {den} --autojoin --nick alicia"));
    assert_eq!(setup.finish(), 0);
    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {den}/bob"));
    bob.ok(&format!("/join {party}/bob"));

    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux {
        socket: format!("confab-invite-test-{}", std::process::id()),
    };
    let h = home.path();
    let env = |name: &str, p: &Path| format!("{name}={}", p.display());
    let status = tmux
        .cmd()
        .args(["new-session", "-d", "-s", "confab", "-x", "120", "-y", "30"])
        .arg("env")
        .arg(env("XDG_CONFIG_HOME", &h.join("config")))
        .arg(env("XDG_DATA_HOME", &h.join("data")))
        .arg(format!("CONFAB_TEST_PASSWORD={}", password_of("alice")))
        .arg("TERM=xterm-256color")
        .arg(confab_bin())
        .args(["--jid", "alice@localhost", "--server"])
        .arg(format!("127.0.0.1:{}", server.c2s_port()))
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["--password-env", "CONFAB_TEST_PASSWORD"])
        .status()
        .expect("tmux starts");
    assert!(status.success());

    // The bookmark's room is joined at login, with its nick.
    bob.ok(&format!("/wait occupant {den} alicia"));
    tmux.wait_for("the autojoined room", |s| s.contains("tuiden"));

    // An invitation: a prompt; Enter accepts.
    bob.ok(&format!("/invite {party} alice@localhost cake"));
    tmux.wait_for("the invitation prompt", |s| {
        s.contains("bob@localhost invites you to tuiparty@conference.localhost (cake)")
            && s.contains("Enter to accept, Esc to decline")
    });
    tmux.send(&["Enter"]);
    bob.ok(&format!("/wait occupant {party} alice"));
    tmux.wait_for("the joined room", |s| {
        s.contains("2 people") && s.contains("tuiparty")
    });

    tmux.send(&["/quit", "Enter"]);
    assert_eq!(bob.finish(), 0);
}
