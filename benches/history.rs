//! The local archive under a catch-up's load, alone: a file-backed
//! archive in a temporary directory takes `CONFAB_HISTORY_MESSAGES`
//! (50,000) archived messages of one room as the app gets them (XEP-0313
//! results in bursts of `CONFAB_HISTORY_BURST`, 50): every result is first
//! looked up by its stanza-id (`History::has_stanza_id`, as
//! `App::on_mam_result` does), then the burst is written in one go
//! (`History::append`, as `App::flush_history` does). Prints the CPU
//! (user + system, `getrusage`) per message over the whole run and over
//! its first and last 10,000, the share of the look-ups, the bytes
//! written, the peak RSS and the file's size.
//!
//! `cargo bench --bench history`.

mod common;

use std::time::Instant;

use chrono::{DateTime, Utc};
use confab::history::{History, Record};
use confab::store::{Kind, Message};

use common::rng::Rng;

const ROOM: &str = "catchup-archive-test@conference.example.org";
const ACCOUNT: &str = "alice.liddell@example.org";
const WORDS: &[&str] = &[
    "the", "release", "meeting", "coffee", "deploy", "server", "room", "call", "bug", "fix",
    "tomorrow", "today", "lunch", "review", "merge", "branch", "test", "ping", "hello", "thanks",
    "docs", "client", "voice", "video", "later", "maybe", "agreed", "issue", "patch", "build",
    "don't", "café", "naïve", "won't",
];

/// User and system CPU of this process so far, in seconds.
fn cpu() -> (f64, f64) {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid rusage for the call to fill.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (s(u.ru_utime), s(u.ru_stime))
}

/// A line of /proc/self/status or /proc/self/io, in its unit.
fn proc_field(file: &str, key: &str) -> u64 {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn message(rng: &mut Rng, t0: DateTime<Utc>, i: usize) -> Message {
    let mut body = String::new();
    while body.len() < 70 {
        if !body.is_empty() {
            body.push(' ');
        }
        body.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
    }
    body.push_str(&format!(" #{i}"));
    Message {
        stanza_id: Some(rng.uuid()),
        id: Some(rng.uuid()),
        delayed: true,
        ..Message::new(
            Kind::Chat,
            t0 + chrono::Duration::milliseconds(i as i64 * 1500),
            Some(format!("occupant-{}", rng.next() % 200)),
            body,
        )
    }
}

fn main() {
    let n = env_or("CONFAB_HISTORY_MESSAGES", 50_000);
    let burst = env_or("CONFAB_HISTORY_BURST", 50).max(1);
    let slice = 10_000.min(n);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let mut h = History::open(&path, ACCOUNT).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t0: DateTime<Utc> = DateTime::from_timestamp(1_700_000_000, 0).unwrap();

    let written0 = proc_field("/proc/self/io", "wchar:");
    let (u0, s0) = cpu();
    let wall = Instant::now();
    let mut lookups = 0.0;
    let mut marks = vec![(0usize, u0 + s0)];
    let mut records = Vec::with_capacity(burst);
    let mut i = 0;
    while i < n {
        let end = (i + burst).min(n);
        let before = cpu();
        for j in i..end {
            let m = message(&mut rng, t0, j);
            let sid = m.stanza_id.as_deref().unwrap();
            assert!(!h.has_stanza_id(ROOM, sid).unwrap(), "a new message");
            records.push(Record {
                conversation: ROOM.to_string(),
                message: m,
            });
        }
        let after = cpu();
        lookups += (after.0 + after.1) - (before.0 + before.1);
        assert_eq!(h.append(&records).unwrap(), records.len());
        records.clear();
        i = end;
        if i % slice == 0 || i == n {
            let (u, s) = cpu();
            marks.push((i, u + s));
        }
    }
    let (u1, s1) = cpu();
    let wall = wall.elapsed().as_secs_f64();
    let written = proc_field("/proc/self/io", "wchar:") - written0;
    let per = |secs: f64, count: usize| secs * 1e6 / count.max(1) as f64;
    let total = (u1 - u0) + (s1 - s0);
    println!("history under a catch-up: {n} messages of one room in bursts of {burst}");
    println!(
        "CPU {:.2} s (user {:.2}, sys {:.2}), wall {:.2} s: {:.1} µs/message \
         (look-ups {:.1}, writes {:.1})",
        total,
        u1 - u0,
        s1 - s0,
        wall,
        per(total, n),
        per(lookups, n),
        per(total - lookups, n)
    );
    for w in marks.windows(2) {
        let ((a, ta), (b, tb)) = (w[0], w[1]);
        println!(
            "  messages {:>6} to {:>6}: {:.1} µs/message",
            a + 1,
            b,
            per(tb - ta, b - a)
        );
    }
    let size = |name: &str| std::fs::metadata(dir.path().join(name)).map_or(0, |m| m.len());
    println!(
        "written {:.1} MB ({:.1} kB/message); file {:.1} MB + WAL {:.1} MB; peak RSS {:.1} MiB",
        written as f64 / 1e6,
        written as f64 / 1e3 / n as f64,
        size("history.sqlite3") as f64 / 1e6,
        size("history.sqlite3-wal") as f64 / 1e6,
        proc_field("/proc/self/status", "VmHWM:") as f64 / 1024.0
    );
    // What the app reads afterwards still works.
    assert_eq!(h.recent(ROOM, 10).unwrap().len(), 10.min(n));
    assert!(!h.find("release", Some(ROOM), 10).unwrap().is_empty());
}
