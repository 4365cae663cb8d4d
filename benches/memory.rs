//! Memory under a flood: the private Prosody, confab (the release binary)
//! in `ROOMS` rooms, raw peers writing `RATE` messages a second to each
//! room for `SECS` seconds; VmRSS of the confab process is sampled from
//! `/proc/PID/status` and printed as a table, then the plateau. First
//! `confab --batch`, then the TUI (in a private tmux server: the real
//! binary, its real screen).
//!
//! `cargo bench --bench memory` (builds `target/release/confab`).
//! Environment: `CONFAB_MEM_SECS` (60; the run was 180),
//! `CONFAB_MEM_ROOMS` (20), `CONFAB_MEM_RATE` (50 a second per room),
//! `CONFAB_MEM_SAMPLE` (5 s), `CONFAB_MEM_MODE` (`batch`, `tui` or both),
//! `CONFAB_MEM_ARGS` (extra confab arguments, e.g. `--no-history`),
//! `CONFAB_BIN` (another binary, e.g. a copy of an older build).
//!
//! The server is not the bottleneck: the MUC component archives nothing
//! and keeps no history here (`muc_log_by_default = false`,
//! `max_history_messages = 0`), Prosody 0.12 has no rate limits unless
//! `mod_limits` is loaded (it is not), and the flood is spread over
//! several peer connections. The table shows messages the peers wrote
//! to their sockets and those confab received (batch: printed; TUI:
//! archived — so the TUI is run with its archive), and the cost per
//! message is per message received. On a loaded machine Prosody forwards
//! fewer than are written (what it has not read when a peer closes is
//! dropped): the figures per message received still hold.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use confab_testbed::flood::{FloodCount, FloodPlan, flood};
use confab_testbed::{MUC_DOMAIN, Prosody, ProsodyOptions};
use jid::BareJid;

/// Peer connections the flood is spread over.
const PEERS: usize = 4;

struct Settings {
    secs: u64,
    rooms: usize,
    rate: u32,
    sample: u64,
    args: Vec<String>,
    bin: PathBuf,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to read.
    let s = Settings {
        secs: env_or("CONFAB_MEM_SECS", 60),
        rooms: env_or("CONFAB_MEM_ROOMS", 20),
        rate: env_or("CONFAB_MEM_RATE", 50),
        sample: env_or("CONFAB_MEM_SAMPLE", 5),
        args: std::env::var("CONFAB_MEM_ARGS")
            .map(|a| a.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        bin: std::env::var_os("CONFAB_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/confab")),
    };
    let mode = std::env::var("CONFAB_MEM_MODE").unwrap_or_default();
    println!(
        "memory under a flood: {} rooms x {} msg/s for {} s ({} msg/s), binary {} {}",
        s.rooms,
        s.rate,
        s.secs,
        s.rooms as u32 * s.rate,
        s.bin.display(),
        s.args.join(" ")
    );
    if mode.is_empty() || mode == "batch" {
        run(&s, Mode::Batch);
    }
    if mode.is_empty() || mode == "tui" {
        run(&s, Mode::Tui);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Batch,
    Tui,
}

fn server() -> Prosody {
    let mut opts = ProsodyOptions::new().account("alice", "alice-pw");
    for p in 0..PEERS {
        opts = opts.account(format!("flood{p}"), "flood-pw");
    }
    // No archive, no history: the server only forwards.
    opts.muc_config = "    muc_log_by_default = false\n    max_history_messages = 0\n".into();
    Prosody::start(opts).expect("the test Prosody starts")
}

fn rooms(n: usize) -> Vec<BareJid> {
    (0..n)
        .map(|i| BareJid::new(&format!("flood{i}@{MUC_DOMAIN}")).unwrap())
        .collect()
}

/// confab under test: a batch process or a tmux server running the TUI.
enum Subject {
    Batch {
        child: Child,
        stdin: Option<std::process::ChildStdin>,
        printed: Arc<AtomicU64>,
    },
    Tui {
        socket: String,
        pid: u32,
        /// The TUI prints nothing: what it received is counted in its
        /// archive (written after every burst).
        archive: PathBuf,
    },
}

impl Subject {
    fn pid(&self) -> u32 {
        match self {
            Subject::Batch { child, .. } => child.id(),
            Subject::Tui { pid, .. } => *pid,
        }
    }
    /// Messages confab took in: printed (batch) or archived (TUI).
    fn printed(&self) -> Option<u64> {
        match self {
            Subject::Batch { printed, .. } => Some(printed.load(Ordering::Relaxed)),
            Subject::Tui { archive, .. } => {
                let db = rusqlite::Connection::open_with_flags(
                    find(archive, "history.sqlite3")?,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .ok()?;
                db.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0))
                    .ok()
                    .map(|n| n as u64)
            }
        }
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        match self {
            Subject::Batch { child, stdin, .. } => {
                drop(stdin.take());
                let until = Instant::now() + Duration::from_secs(10);
                while Instant::now() < until {
                    if let Ok(Some(_)) = child.try_wait() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            Subject::Tui { socket, .. } => {
                let _ = Command::new("tmux")
                    .args(["-L", socket, "kill-server"])
                    .output();
            }
        }
    }
}

fn start_batch(s: &Settings, server: &Prosody, home: &Path, rooms: &[BareJid]) -> Subject {
    let extra: Vec<&str> = s.args.iter().map(String::as_str).collect();
    let mut child = common::batch(&s.bin, server, "alice", home, &extra)
        .spawn()
        .expect("confab starts");
    let printed = Arc::new(AtomicU64::new(0));
    let joined = Arc::new(AtomicU64::new(0));
    let stdout = child.stdout.take().unwrap();
    let (p, j) = (printed.clone(), joined.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("{\"event\":\"message\"") || line.contains("\"event\":\"message\"")
            {
                p.fetch_add(1, Ordering::Relaxed);
            } else if line.contains("\"event\":\"joined\"") {
                j.fetch_add(1, Ordering::Relaxed);
            } else if line.contains("\"event\":\"error\"") {
                eprintln!("confab: {line}");
            }
        }
    });
    let mut stdin = child.stdin.take();
    let w = stdin.as_mut().unwrap();
    for r in rooms {
        writeln!(w, "/join {r}").unwrap();
    }
    w.flush().unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while joined.load(Ordering::Relaxed) < rooms.len() as u64 {
        assert!(Instant::now() < until, "confab did not join the rooms");
        std::thread::sleep(Duration::from_millis(100));
    }
    Subject::Batch {
        child,
        stdin,
        printed,
    }
}

fn start_tui(s: &Settings, server: &Prosody, home: &Path, rooms: &[BareJid]) -> Subject {
    let socket = format!("confab-membench-{}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .output()
            .expect("tmux runs (apt-get install -y tmux)")
    };
    let ok = Command::new("tmux")
        .args(["-L", &socket, "new-session", "-d", "-s", "confab"])
        .args(["-x", "160", "-y", "50", "env"])
        .args(confab_testbed::confab_xdg_env(home))
        .args(["CONFAB_TEST_PASSWORD=alice-pw", "TERM=xterm-256color"])
        .arg(&s.bin)
        .args(common::account_args(server, "alice"))
        .args(&s.args)
        .status()
        .expect("tmux starts");
    assert!(ok.success());
    let screen = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "confab"]).stdout).into_owned()
    };
    let until = Instant::now() + Duration::from_secs(30);
    while !screen().contains("online") {
        assert!(
            Instant::now() < until,
            "the TUI never went online:\n{}",
            screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid: u32 = String::from_utf8_lossy(
        &tmux(&["display-message", "-p", "-t", "confab", "#{pane_pid}"]).stdout,
    )
    .trim()
    .parse()
    .expect("the pane's pid");
    for r in rooms {
        tmux(&["send-keys", "-t", "confab", &format!("/join {r}"), "Enter"]);
        std::thread::sleep(Duration::from_millis(100));
    }
    // The rooms are joined when the last one's window is listed.
    let last = rooms.last().unwrap().node().unwrap().to_string();
    let until = Instant::now() + Duration::from_secs(30);
    while !screen().contains(&last) {
        assert!(
            Instant::now() < until,
            "the TUI never joined:\n{}",
            screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    let archive = home.to_path_buf();
    Subject::Tui {
        socket,
        pid,
        archive,
    }
}

/// The file `name` under `dir`.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
        if p.is_dir()
            && let Some(f) = find(&p, name)
        {
            return Some(f);
        }
    }
    None
}

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn run(s: &Settings, mode: Mode) {
    let server = server();
    let home = tempfile::tempdir().expect("temp home");
    let rooms = rooms(s.rooms);
    let subject = match mode {
        Mode::Batch => start_batch(s, &server, home.path(), &rooms),
        Mode::Tui => start_tui(s, &server, home.path(), &rooms),
    };
    let pid = subject.pid();
    let start_rss = rss_kib(pid).unwrap_or(0);
    println!();
    println!(
        "== {} (pid {pid}), joined {} rooms, RSS {:.1} MiB",
        match mode {
            Mode::Batch => "confab --batch",
            Mode::Tui => "confab TUI in tmux",
        },
        rooms.len(),
        start_rss as f64 / 1024.0
    );
    println!(
        "{:>6}  {:>10}  {:>10}  {:>9}  {:>10}",
        "time s", "written", "received", "RSS MiB", "B/message"
    );

    // The flood, on its own runtime thread.
    let count = FloodCount::default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let per_peer = rooms.len().div_ceil(PEERS);
    let mut tasks = Vec::new();
    for (p, chunk) in rooms.chunks(per_peer.max(1)).enumerate() {
        let plan = FloodPlan::new(
            &server,
            &format!("flood{p}"),
            "flood-pw",
            chunk.to_vec(),
            s.rate,
            Duration::from_secs(s.secs),
        )
        .expect("a flood plan");
        let count = count.clone();
        tasks.push(rt.spawn(flood(plan, count)));
    }

    let t0 = Instant::now();
    let mut samples = Vec::new();
    let after = 15; // seconds sampled after the flood
    let total = s.secs + after;
    let mut next = 0;
    while next <= total {
        let due = t0 + Duration::from_secs(next);
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        let rss = rss_kib(pid).unwrap_or(0);
        let written = count.get();
        let received = subject.printed().unwrap_or(written);
        let per = if received > 0 {
            format!(
                "{:.0}",
                (rss.saturating_sub(start_rss) * 1024) as f64 / received as f64
            )
        } else {
            "-".into()
        };
        println!(
            "{:>6}  {:>10}  {:>10}  {:>9.1}  {:>10}",
            next,
            written,
            subject
                .printed()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into()),
            rss as f64 / 1024.0,
            per
        );
        samples.push((next, received, rss));
        next += s.sample;
    }
    for t in tasks {
        if let Ok(Err(e)) = rt.block_on(t) {
            println!("flood peer failed: {e}");
        }
    }
    // Plateau: the growth over the second half of the flood.
    let half = samples
        .iter()
        .find(|(t, ..)| *t >= s.secs / 2)
        .copied()
        .unwrap_or(samples[0]);
    let end = samples
        .iter()
        .rev()
        .find(|(t, ..)| *t <= s.secs)
        .copied()
        .unwrap_or(*samples.last().unwrap());
    let last = *samples.last().unwrap();
    let peak = samples.iter().map(|x| x.2).max().unwrap_or(0);
    let msgs = end.1.saturating_sub(half.1).max(1);
    println!(
        "RSS: start {:.1} MiB, peak {:.1} MiB, end of flood {:.1} MiB, {} s later {:.1} MiB",
        start_rss as f64 / 1024.0,
        peak as f64 / 1024.0,
        end.2 as f64 / 1024.0,
        after,
        last.2 as f64 / 1024.0
    );
    println!(
        "per message: {:.0} B over the whole flood ({} messages), {:.0} B over its second half \
         ({} s .. {} s: {:+.1} MiB for {} messages)",
        (end.2.saturating_sub(start_rss) * 1024) as f64 / end.1.max(1) as f64,
        end.1,
        (end.2 as f64 - half.2 as f64) * 1024.0 / msgs as f64,
        half.0,
        end.0,
        (end.2 as f64 - half.2 as f64) / 1024.0,
        msgs
    );
    drop(subject);
    drop(rt);
}
