//! A `confab --batch -` process driven line by line, its JSON events read
//! as they come.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{TestServer, confab_bin, password_of};

/// Generous upper bound for anything to happen on loopback.
pub const LONG: Duration = Duration::from_secs(40);

pub struct Client {
    pub user: String,
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Option<(String, Value)>>,
    /// Every stdout line as printed.
    lines: Vec<String>,
    /// Every event received so far.
    pub events: Vec<Value>,
    /// How far `expect` has looked.
    cursor: usize,
    eof: bool,
    _home: Option<tempfile::TempDir>,
    pub home: PathBuf,
}

impl Client {
    /// `user@localhost` with its own fresh data dirs.
    pub fn start(server: &dyn TestServer, user: &str) -> Client {
        let home = tempfile::tempdir().expect("temp home");
        let path = home.path().to_path_buf();
        let mut c = Client::start_in(server, user, &path, &[]);
        c._home = Some(home);
        c
    }

    /// Like [`Client::start`], then waits for `connected`.
    pub fn online(server: &dyn TestServer, user: &str) -> Client {
        let mut c = Client::start(server, user);
        c.connected();
        c
    }

    /// `user@localhost` with data dirs under `home` and extra arguments.
    pub fn start_in(server: &dyn TestServer, user: &str, home: &Path, extra: &[&str]) -> Client {
        Client::spawn(server, user, home, extra, &password_of(user), true)
    }

    /// Over direct TLS (XEP-0368) to the server's direct-TLS port: the
    /// account in a config file says `tls = "direct"`.
    pub fn start_direct_tls(server: &dyn TestServer, user: &str, home: &Path) -> Client {
        let dir = home.join("config").join("confab");
        std::fs::create_dir_all(&dir).expect("config dir");
        let config = format!(
            "[accounts.test]\njid = \"{}\"\nserver = \"127.0.0.1:{}\"\ntls = \"direct\"\n",
            server.jid(user),
            server.c2s_direct_tls_port()
        );
        std::fs::write(dir.join("config.toml"), config).expect("config file");
        Client::spawn_with(server, user, home, &[], &password_of(user), true, false)
    }

    /// Logs in with the given (wrong) password.
    pub fn start_in_with_password(
        server: &dyn TestServer,
        user: &str,
        home: &Path,
        pw: &str,
    ) -> Client {
        Client::spawn(server, user, home, &[], pw, true)
    }

    /// Without `--ca-file`: the test CA is not trusted.
    pub fn start_in_without_ca(server: &dyn TestServer, user: &str, home: &Path) -> Client {
        Client::spawn(server, user, home, &[], &password_of(user), false)
    }

    fn spawn(
        server: &dyn TestServer,
        user: &str,
        home: &Path,
        extra: &[&str],
        pw: &str,
        ca: bool,
    ) -> Client {
        Client::spawn_with(server, user, home, extra, pw, ca, true)
    }

    /// `account_args`: `--jid` and `--server` (STARTTLS port) on the
    /// command line; without them the config file names the account.
    fn spawn_with(
        server: &dyn TestServer,
        user: &str,
        home: &Path,
        extra: &[&str],
        pw: &str,
        ca: bool,
        account_args: bool,
    ) -> Client {
        let ca = ca.then(|| server.ca_file());
        let jid = server.jid(user);
        let addr = format!("127.0.0.1:{}", server.c2s_port());
        let account = account_args.then_some((jid.as_str(), addr.as_str()));
        Client::spawn_raw(user, account, ca, home, extra, pw)
    }

    /// `jid` against any server at `addr` (e.g. a fake one), trusting `ca`.
    pub fn spawn_at(
        jid: &str,
        addr: &str,
        ca: Option<&Path>,
        home: &Path,
        extra: &[&str],
        pw: &str,
    ) -> Client {
        let user = jid.split('@').next().unwrap_or(jid);
        Client::spawn_raw(user, Some((jid, addr)), ca, home, extra, pw)
    }

    /// `jid` with `--jid` only: no `--server`, so confab discovers the
    /// server through DNS SRV (`extra` gives `--resolver`).
    pub fn spawn_discovering(
        jid: &str,
        ca: Option<&Path>,
        home: &Path,
        extra: &[&str],
        pw: &str,
    ) -> Client {
        let user = jid.split('@').next().unwrap_or(jid);
        let mut args = vec!["--jid", jid];
        args.extend_from_slice(extra);
        Client::spawn_raw(user, None, ca, home, &args, pw)
    }

    /// `account`: `--jid` and `--server` on the command line; without it
    /// the config file names the account.
    fn spawn_raw(
        user: &str,
        account: Option<(&str, &str)>,
        ca: Option<&Path>,
        home: &Path,
        extra: &[&str],
        pw: &str,
    ) -> Client {
        let mut cmd = Command::new(confab_bin());
        if let Some(ca) = ca {
            cmd.arg("--ca-file").arg(ca);
        }
        if let Some((jid, addr)) = account {
            cmd.arg("--jid").arg(jid).arg("--server").arg(addr);
        }
        let mut child = cmd
            .arg("--batch")
            .arg("-")
            .arg("--password-env")
            .arg("CONFAB_TEST_PASSWORD")
            .args(extra)
            .env("CONFAB_TEST_PASSWORD", pw)
            .envs(confab_testbed::confab_xdg_dirs(home))
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("confab starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let who = user.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send(Some((line, v))).is_err() {
                            return;
                        }
                    }
                    Err(e) => panic!("{who}: stdout line is not JSON ({e}): {line:?}"),
                }
            }
            let _ = tx.send(None);
        });
        Client {
            user: user.to_string(),
            stdin: child.stdin.take(),
            child,
            rx,
            lines: Vec::new(),
            events: Vec::new(),
            cursor: 0,
            eof: false,
            _home: None,
            home: home.to_path_buf(),
        }
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to confab");
        stdin.flush().expect("flush");
    }

    fn recv(&mut self, until: Instant) -> Option<Value> {
        if self.eof {
            return None;
        }
        let left = until.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(Some((line, v))) => {
                self.lines.push(line);
                self.events.push(v.clone());
                Some(v)
            }
            Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                None
            }
            Err(RecvTimeoutError::Timeout) => None,
        }
    }

    /// Takes in at most one more event, waiting up to `d` for it.
    pub fn pump(&mut self, d: Duration) {
        let _ = self.recv(Instant::now() + d);
    }

    /// Waits for an event (after those already looked at) matching `pred`.
    pub fn expect(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + LONG;
        loop {
            while self.cursor < self.events.len() {
                let v = &self.events[self.cursor];
                self.cursor += 1;
                if pred(v) {
                    return v.clone();
                }
            }
            if self.recv(until).is_none() && (self.eof || Instant::now() >= until) {
                panic!(
                    "{}: no event {what}; got:\n{}",
                    self.user,
                    self.events
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
        }
    }

    /// The first event so far that matches, or else the next one to come.
    pub fn event(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.events.iter().find(|v| pred(v)) {
            return v.clone();
        }
        self.cursor = self.events.len();
        self.expect(what, pred)
    }

    /// Sends a command and returns its result event (`ok` or `error`).
    pub fn run(&mut self, line: &str) -> Value {
        self.send(line);
        let l = line.to_string();
        self.expect(&format!("result of {line:?}"), move |v| {
            (v["event"] == "ok" || v["event"] == "error") && v["command"] == l.as_str()
        })
    }

    /// Runs a command that must succeed.
    pub fn ok(&mut self, line: &str) -> Value {
        let v = self.run(line);
        assert_eq!(v["event"], "ok", "{}: {line} failed: {v}", self.user);
        v
    }

    /// Waits for the first `connected` event.
    pub fn connected(&mut self) -> Value {
        self.expect("connected", |v| v["event"] == "connected")
    }

    /// Every stdout line so far, as printed.
    pub fn raw_lines(&self) -> Vec<String> {
        self.lines.clone()
    }

    /// The newest event so far that matches.
    pub fn find(&self, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        self.events.iter().rev().find(|v| pred(v)).cloned()
    }

    /// Whether any event so far matches.
    pub fn saw(&self, pred: impl Fn(&Value) -> bool) -> bool {
        self.events.iter().any(pred)
    }

    /// Closes stdin (end of script) and waits for the exit status.
    pub fn finish(&mut self) -> i32 {
        self.stdin.take();
        self.exit_status()
    }

    /// Waits for the process to exit (reading all its events).
    pub fn exit_status(&mut self) -> i32 {
        let until = Instant::now() + LONG;
        while !self.eof && Instant::now() < until {
            self.recv(until);
        }
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s.code().unwrap_or(-1);
            }
            if Instant::now() >= until {
                panic!("{}: confab did not exit", self.user);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
