//! confab's TUI in a private tmux server, driven with send-keys and read
//! with capture-pane.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{LONG, TestServer, confab_bin, password_of};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `confab` as `user` (data under `home`) in a `width`×`height`
    /// terminal and waits until it is online.
    pub fn start(
        server: &dyn TestServer,
        user: &str,
        home: &Path,
        width: u16,
        height: u16,
    ) -> Tmux {
        Tmux::start_with(server, user, home, width, height, &[])
    }

    /// Like [`Tmux::start`], with extra arguments for confab.
    pub fn start_with(
        server: &dyn TestServer,
        user: &str,
        home: &Path,
        width: u16,
        height: u16,
        extra: &[&str],
    ) -> Tmux {
        let jid = server.jid(user);
        let addr = format!("127.0.0.1:{}", server.c2s_port());
        let ca = server.ca_file().display().to_string();
        let mut args = vec![
            "--jid",
            &jid,
            "--server",
            &addr,
            "--ca-file",
            &ca,
            "--password-env",
            "CONFAB_TEST_PASSWORD",
        ];
        args.extend_from_slice(extra);
        let password = format!("CONFAB_TEST_PASSWORD={}", password_of(user));
        let tmux = Tmux::spawn(&args, &[&password], home, width, height);
        tmux.wait_for("the connection", |s| s.contains(&format!("online {jid}")));
        tmux
    }

    /// Runs `confab ARGS` (no account given) in a `width`×`height`
    /// terminal, with its config and data under `home`.
    pub fn run(args: &[&str], home: &Path, width: u16, height: u16) -> Tmux {
        Tmux::spawn(args, &[], home, width, height)
    }

    fn spawn(args: &[&str], env: &[&str], home: &Path, width: u16, height: u16) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "tmux is needed for this test: apt-get install -y tmux"
        );
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmux = Tmux {
            socket: format!("confab-test-{}-{n}", std::process::id()),
        };
        let dir = |name: &str, p: &Path| format!("{name}={}", p.display());
        let status = tmux
            .cmd()
            .args(["new-session", "-d", "-s", "confab", "-x"])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .arg("env")
            .arg(dir("XDG_CONFIG_HOME", &home.join("config")))
            .arg(dir("XDG_DATA_HOME", &home.join("data")))
            .args(env)
            .arg("TERM=xterm-256color")
            .arg(confab_bin())
            .args(args)
            .status()
            .expect("tmux starts");
        assert!(status.success());
        tmux
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.socket);
        c
    }

    pub fn send(&self, keys: &[&str]) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "confab"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(ok.success());
    }

    pub fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "confab"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `pred` holds (bounded by [`LONG`]).
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
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

    pub fn alive(&self) -> bool {
        self.cmd()
            .args(["has-session", "-t", "confab"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// Waits until confab has exited (bounded).
    pub fn wait_exit(&self) {
        let until = Instant::now() + LONG;
        while self.alive() {
            assert!(Instant::now() < until, "confab did not quit");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}
