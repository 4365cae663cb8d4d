//! Idle at rest: how often an idle confab TUI wakes up. The private
//! Prosody; bob (a `confab --batch` peer) in a room; alice's TUI (in a
//! private tmux server: the real binary on a real pseudo-terminal) joins
//! it, sees bob, and is left alone. After it settles, the context
//! switches of every thread of the confab process
//! (`voluntary_ctxt_switches` + `nonvoluntary_ctxt_switches` of
//! `/proc/PID/task/*/status`) are counted over the window: each one is a
//! wake-up. Printed: the wake-ups a second, the thread count, and the
//! breakdown per thread (by `/proc/PID/task/*/comm`), so that one sees
//! which thread wakes.
//!
//! `cargo bench --bench idle` (the optimized binary), or `cargo test
//! --bench idle` (the debug one: an idle process wakes as often either
//! way, and it builds much quicker). Environment: `CONFAB_IDLE_SECS`
//! (the window, 60), `CONFAB_IDLE_SETTLE` (seconds left to settle after
//! the join, 5), `CONFAB_IDLE_ROOMS` (rooms joined, each with bob, 1),
//! `CONFAB_IDLE_ARGS` (extra confab arguments, e.g. `--self-ping 20` to
//! see quiet rooms' self-pings within the window),
//! `CONFAB_BIN` (another binary, e.g. a copy of an older build). The
//! goal (issue 18): at most 0.2 wake-ups a second.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use confab_testbed::{MUC_DOMAIN, Prosody, ProsodyOptions};

/// The goal of issue 18, in wake-ups a second.
const GOAL: f64 = 0.2;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to read.
    let secs: u64 = env_or("CONFAB_IDLE_SECS", 60);
    let settle: u64 = env_or("CONFAB_IDLE_SETTLE", 5);
    let n_rooms: usize = env_or("CONFAB_IDLE_ROOMS", 1).max(1);
    let extra: Vec<String> = std::env::var("CONFAB_IDLE_ARGS")
        .map(|a| a.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let bin = std::env::var_os("CONFAB_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_confab")));
    println!(
        "idle at rest: confab TUI joined to {n_rooms} room(s) with a peer, {settle} s to settle, \
         then {secs} s counted; binary {} {}",
        bin.display(),
        extra.join(" ")
    );
    let server = Prosody::start(
        ProsodyOptions::new()
            .account("alice", "alice-pw")
            .account("bob", "bob-pw"),
    )
    .expect("the test Prosody starts");
    let home = tempfile::tempdir().expect("a temporary home");
    let rooms: Vec<String> = (0..n_rooms)
        .map(|i| format!("idle{i}@{MUC_DOMAIN}"))
        .collect();
    let _bob = Peer::start(&bin, &server, &home.path().join("bob"), &rooms);
    let tui = Tui::start(&bin, &server, &home.path().join("alice"), &extra, &rooms);
    std::thread::sleep(Duration::from_secs(settle));

    let pid = tui.pid;
    let before = threads(pid);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let after = threads(pid);
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        tui.alive(),
        "confab ended during the window:\n{}",
        tui.screen()
    );

    // Per thread: the switches in the window (a thread born meanwhile
    // counts from 0; one that ended meanwhile is listed apart).
    let mut rows: Vec<(u32, String, u64)> = Vec::new();
    for (tid, (comm, n)) in &after {
        let was = before.get(tid).map_or(0, |(_, b)| *b);
        rows.push((*tid, comm.clone(), n.saturating_sub(was)));
    }
    let ended: Vec<_> = before
        .iter()
        .filter(|(tid, _)| !after.contains_key(tid))
        .collect();
    let total: u64 = rows.iter().map(|r| r.2).sum();
    println!();
    println!(
        "{:>8}  {:<16} {:>10} {:>10}",
        "tid", "thread", "switches", "per s"
    );
    for (tid, comm, n) in &rows {
        println!("{tid:>8}  {comm:<16} {n:>10} {:>10.2}", *n as f64 / elapsed);
    }
    for (tid, (comm, _)) in &ended {
        println!("{tid:>8}  {comm:<16} (ended during the window: not counted)");
    }
    let mut by_name: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for (_, comm, n) in &rows {
        let e = by_name.entry(comm.as_str()).or_default();
        e.0 += 1;
        e.1 += n;
    }
    println!();
    println!(
        "{:<16} {:>7} {:>10} {:>10}",
        "by name", "threads", "switches", "per s"
    );
    for (name, (count, n)) in &by_name {
        println!(
            "{name:<16} {count:>7} {n:>10} {:>10.2}",
            *n as f64 / elapsed
        );
    }
    let rate = total as f64 / elapsed;
    println!();
    println!(
        "threads: {} at the start, {} at the end; {total} context switches in {elapsed:.1} s",
        before.len(),
        after.len()
    );
    println!(
        "idle wake-ups: {rate:.2}/s (goal <= {GOAL}/s: {})",
        if rate <= GOAL { "met" } else { "NOT met" }
    );
}

/// Per thread of `pid`: (name, voluntary + nonvoluntary context switches).
fn threads(pid: u32) -> BTreeMap<u32, (String, u64)> {
    let mut out = BTreeMap::new();
    let dir = format!("/proc/{pid}/task");
    for e in std::fs::read_dir(&dir)
        .expect("the process's threads")
        .flatten()
    {
        let Some(tid) = e.file_name().to_str().and_then(|t| t.parse::<u32>().ok()) else {
            continue;
        };
        let p = e.path();
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        let Ok(status) = std::fs::read_to_string(p.join("status")) else {
            continue;
        };
        let n: u64 = status
            .lines()
            .filter_map(|l| {
                l.strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
            })
            .filter_map(|v| v.trim().parse::<u64>().ok())
            .sum();
        out.insert(tid, (comm.trim().to_string(), n));
    }
    out
}

/// bob, a `confab --batch` in the room, until dropped.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Peer {
    fn start(bin: &Path, server: &Prosody, home: &Path, rooms: &[String]) -> Peer {
        let mut child = common::batch(bin, server, "bob", home, &["--no-history"])
            .spawn()
            .expect("the peer starts");
        let joined = Arc::new(AtomicUsize::new(0));
        let stdout = child.stdout.take().expect("its stdout");
        let j = joined.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("\"event\":\"joined\"") {
                    j.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let mut stdin = child.stdin.take();
        let w = stdin.as_mut().expect("its stdin");
        for room in rooms {
            writeln!(w, "/join {room}").expect("the peer reads");
        }
        w.flush().expect("the peer reads");
        let until = Instant::now() + Duration::from_secs(60);
        while joined.load(Ordering::Relaxed) < rooms.len() {
            assert!(Instant::now() < until, "the peer did not join");
            std::thread::sleep(Duration::from_millis(100));
        }
        Peer { child, stdin }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// alice's TUI in a private tmux server, until dropped.
struct Tui {
    socket: String,
    pid: u32,
}

impl Tui {
    fn start(bin: &Path, server: &Prosody, home: &Path, extra: &[String], rooms: &[String]) -> Tui {
        let mut tui = Tui {
            socket: format!("confab-idlebench-{}", std::process::id()),
            pid: 0,
        };
        let ok = tui
            .tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                "confab",
                "-x",
                "120",
                "-y",
                "35",
                "env",
            ])
            .args(confab_testbed::confab_xdg_env(home))
            .args(["CONFAB_TEST_PASSWORD=alice-pw", "TERM=xterm-256color"])
            .arg(bin)
            .args(common::account_args(server, "alice"))
            .args(extra)
            .status()
            .expect("tmux runs (apt-get install -y tmux)");
        assert!(ok.success());
        tui.wait_for("the connection", |s| s.contains("online"));
        tui.pid = String::from_utf8_lossy(
            &tui.tmux()
                .args(["display-message", "-p", "-t", "confab", "#{pane_pid}"])
                .output()
                .expect("tmux")
                .stdout,
        )
        .trim()
        .parse()
        .expect("the pane's pid");
        for room in rooms {
            let join = format!("/join {room}");
            let ok = tui
                .tmux()
                .args(["send-keys", "-t", "confab", &join, "Enter"])
                .status()
                .expect("tmux send-keys");
            assert!(ok.success());
        }
        // Joined (the last room listed), with bob among the participants.
        let last = rooms
            .last()
            .and_then(|r| r.split('@').next())
            .unwrap_or("idle");
        tui.wait_for("the rooms with bob", |s| {
            s.contains(last) && s.contains("bob")
        });
        tui
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "confab"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.screen();
            if pred(&s) {
                return;
            }
            assert!(Instant::now() < until, "the TUI never showed {what}:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn alive(&self) -> bool {
        self.pid != 0 && Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}
