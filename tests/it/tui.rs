//! The real confab binary in a real terminal (tmux) against the test
//! Prosody: join from the input line, send a message, see another
//! client's message and both participants.

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
    fn alive(&self) -> bool {
        self.cmd()
            .args(["has-session", "-t", "confab"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn tui_joins_chats_and_lists_participants() {
    assert!(
        tmux_available(),
        "tmux is needed for this test: apt-get install -y tmux"
    );
    let server = prosody_with(&["alice", "bob"]);
    let room = "tuiroom@conference.localhost";
    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {room}/bob"));

    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux {
        socket: format!("confab-test-{}", std::process::id()),
    };
    let h = home.path();
    let env = |name: &str, p: &Path| format!("{name}={}", p.display());
    let status = tmux
        .cmd()
        .args(["new-session", "-d", "-s", "confab", "-x", "110", "-y", "30"])
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

    tmux.wait_for("the connection", |s| s.contains("online alice@localhost"));
    tmux.send(&[&format!("/join {room}"), "Enter"]);
    let s = tmux.wait_for("both participants", |s| {
        s.contains("bob") && s.contains("2 people")
    });
    assert!(s.contains("alice"), "{s}");
    assert!(s.contains("tuiroom"), "{s}");

    tmux.send(&["hello from the terminal", "Enter"]);
    bob.ok(&format!(
        "/wait message {room} --from alice --contains \"hello from the terminal\""
    ));
    bob.ok(&format!("/say {room} hi alice, welcome to tmux"));
    let s = tmux.wait_for("bob's message", |s| s.contains("welcome to tmux"));
    assert!(s.contains("<bob>"), "{s}");
    assert!(s.contains("<alice> hello from the terminal"), "{s}");

    tmux.send(&["/quit", "Enter"]);
    let until = Instant::now() + LONG;
    while tmux.alive() {
        assert!(Instant::now() < until, "confab did not quit");
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = bob.event("alice leaves", |v| {
        v["event"] == "occupant" && v["action"] == "leave"
    });
    assert_eq!(left["nick"], "alice");
    assert_eq!(bob.finish(), 0);
}
