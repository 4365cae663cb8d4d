//! confab's TUI in a private tmux server, driven with send-keys and read
//! with capture-pane.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{LONG, TestServer, confab_bin, password_of, testbed_bin};

pub struct Tmux {
    socket: String,
}

/// `--jid`, `--server` (STARTTLS port), `--password-env
/// CONFAB_TEST_PASSWORD` and, with `trust_ca`, the test CA.
fn account_args(server: &dyn TestServer, user: &str, trust_ca: bool) -> Vec<String> {
    let mut args = vec![
        "--jid".to_string(),
        server.jid(user),
        "--server".to_string(),
        format!("127.0.0.1:{}", server.c2s_port()),
        "--password-env".to_string(),
        "CONFAB_TEST_PASSWORD".to_string(),
    ];
    if trust_ca {
        args.push("--ca-file".to_string());
        args.push(server.ca_file().display().to_string());
    }
    args
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
        Tmux::start_with_env(server, user, home, (width, height), extra, &[])
    }

    /// Like [`Tmux::start_with`], with `NAME=VALUE` pairs in confab's
    /// environment.
    pub fn start_with_env(
        server: &dyn TestServer,
        user: &str,
        home: &Path,
        (width, height): (u16, u16),
        extra: &[&str],
        env: &[&str],
    ) -> Tmux {
        let jid = server.jid(user);
        let account = account_args(server, user, true);
        let mut args: Vec<&str> = account.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        let password = format!("CONFAB_TEST_PASSWORD={}", password_of(user));
        let mut env = env.to_vec();
        env.push(&password);
        let tmux = Tmux::spawn(&args, &env, home, width, height);
        tmux.wait_for("the connection", |s| s.contains(&format!("online {jid}")));
        tmux
    }

    /// Runs `confab-testbed sandbox ARGS` (confab with ARGS in the
    /// sandbox; `CONFAB_BIN` names the freshly built confab) in a
    /// `width`×`height` terminal, with its config and data under `home`.
    pub fn sandbox(args: &[&str], home: &Path, width: u16, height: u16) -> Tmux {
        let confab = format!("CONFAB_BIN={}", confab_bin().display());
        let mut args = args.to_vec();
        args.insert(0, "sandbox");
        Tmux::spawn_program(&testbed_bin(), &args, &[&confab], home, width, height)
    }

    /// Runs confab as `user` with `password` (`None`: without `--ca-file`,
    /// so that the test CA is not trusted), inside `sh`: when confab ends,
    /// the shell prints `EXIT=<status>` and then runs `cat -v` in the same
    /// terminal, so that what confab left behind can be inspected
    /// ([`Tmux::exit_status`], [`Tmux::flags`], [`Tmux::pane_tty`]).
    /// Does not wait for anything.
    pub fn start_wrapped(
        server: &dyn TestServer,
        user: &str,
        password: &str,
        trust_ca: bool,
        home: &Path,
        env: &[&str],
    ) -> Tmux {
        let args = account_args(server, user, trust_ca);
        let password = format!("CONFAB_TEST_PASSWORD={password}");
        let mut env = env.to_vec();
        env.push(&password);
        let tmux = Tmux::new_socket();
        let status = tmux
            .cmd()
            .args(["new-session", "-d", "-s", "confab", "-x", "100", "-y", "30"])
            .args([
                "sh",
                "-c",
                "env \"$@\"; echo \"EXIT=$?\"; exec cat -v",
                "sh",
            ])
            .args(confab_testbed::confab_xdg_env(home))
            .args(&env)
            .arg("TERM=xterm-256color")
            .arg(confab_bin())
            .args(args)
            .status()
            .expect("tmux starts");
        assert!(status.success());
        tmux
    }

    fn new_socket() -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "tmux is needed for this test: apt-get install -y tmux"
        );
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Tmux {
            socket: format!("confab-test-{}-{n}", std::process::id()),
        }
    }

    /// tmux's format variables of the pane, e.g. `#{alternate_on}`.
    pub fn format(&self, format: &str) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "confab", format])
            .output()
            .expect("tmux display-message");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The terminal modes a full-screen program changes, as
    /// `name=value` pairs (see [`Tmux::start_wrapped`]).
    pub fn flags(&self) -> String {
        let names = [
            "alternate_on",
            "mouse_any_flag",
            "mouse_button_flag",
            "mouse_all_flag",
            "mouse_standard_flag",
            "mouse_sgr_flag",
            "mouse_utf8_flag",
            "cursor_flag",
            "keypad_cursor_flag",
            "keypad_flag",
        ];
        let format: Vec<String> = names.iter().map(|n| format!("{n}=#{{{n}}}")).collect();
        self.format(&format.join(" "))
    }

    /// The pane's terminal device (`/dev/pts/N`).
    pub fn pane_tty(&self) -> String {
        self.format("#{pane_tty}")
    }

    /// The process started in the pane (the wrapping shell, or confab).
    pub fn pane_pid(&self) -> u32 {
        self.format("#{pane_pid}").parse().expect("a pane pid")
    }

    /// With [`Tmux::start_wrapped`]: confab's process id (the shell's
    /// child).
    pub fn confab_pid(&self) -> u32 {
        let shell = self.pane_pid();
        let until = Instant::now() + LONG;
        loop {
            let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
                .unwrap_or_default();
            if let Some(pid) = children.split_whitespace().next() {
                return pid.parse().expect("a pid");
            }
            assert!(Instant::now() < until, "confab never started");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// With [`Tmux::start_wrapped`]: waits for confab to end and returns
    /// its exit status (as the shell saw it).
    pub fn exit_status(&self) -> i32 {
        let s = self.wait_for("EXIT=", |s| s.lines().any(|l| l.starts_with("EXIT=")));
        s.lines()
            .find_map(|l| l.strip_prefix("EXIT="))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no exit status on the screen:\n{s}"))
    }

    fn spawn(args: &[&str], env: &[&str], home: &Path, width: u16, height: u16) -> Tmux {
        Tmux::spawn_program(&confab_bin(), args, env, home, width, height)
    }

    fn spawn_program(
        program: &Path,
        args: &[&str],
        env: &[&str],
        home: &Path,
        width: u16,
        height: u16,
    ) -> Tmux {
        let tmux = Tmux::new_socket();
        let status = tmux
            .cmd()
            .args(["new-session", "-d", "-s", "confab", "-x"])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .arg("env")
            .args(confab_testbed::confab_xdg_env(home))
            .args(env)
            .arg("TERM=xterm-256color")
            .arg(program)
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
