//! `/find` over a large archive: 100,000 messages in 20 conversations in
//! a SQLite file (FTS5), then the queries a user types, timed (median and
//! worst of 20 runs each). `cargo bench --bench find`; the archive size
//! with CONFAB_FIND_MESSAGES.

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use confab::history::{History, MAX_FOUND, Record};
use confab::store::{Kind, Message};

use common::rng::Rng;

const WORDS: &[&str] = &[
    "the", "release", "meeting", "coffee", "deploy", "server", "room", "call", "bug", "fix",
    "tomorrow", "today", "lunch", "review", "merge", "branch", "test", "ping", "hello", "thanks",
    "docs", "client", "voice", "video", "later", "maybe", "agreed", "issue", "patch", "build",
];

fn main() {
    let n: usize = std::env::var("CONFAB_FIND_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let mut h = History::open(&path, "alice@localhost").unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t0: DateTime<Utc> = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let start = Instant::now();
    let mut batch = Vec::with_capacity(1000);
    for i in 0..n {
        let words: Vec<&str> = (0..8 + rng.next() % 12)
            .map(|_| WORDS[(rng.next() % WORDS.len() as u64) as usize])
            .collect();
        let mut body = words.join(" ");
        if i == n / 3 {
            body.push_str(" xylophone");
        }
        batch.push(Record {
            conversation: format!("room{}@conference.localhost", i % 20),
            message: Message {
                stanza_id: Some(format!("s{i}")),
                ..Message::new(
                    Kind::Chat,
                    t0 + chrono::Duration::seconds(i as i64),
                    Some(format!("nick{}", rng.next() % 50)),
                    body,
                )
            },
        });
        if batch.len() == 1000 {
            h.append(&batch).unwrap();
            batch.clear();
        }
    }
    h.append(&batch).unwrap();
    let fill = start.elapsed();
    let size = std::fs::metadata(&path).unwrap().len()
        + std::fs::metadata(dir.path().join("history.sqlite3-wal")).map_or(0, |m| m.len());
    println!(
        "archive: {n} messages written in {:.2} s ({:.1} µs/message with the index), {:.1} MB",
        fill.as_secs_f64(),
        fill.as_secs_f64() * 1e6 / n as f64,
        size as f64 / 1e6
    );
    println!("| query | where | results | median | worst |");
    println!("|---|---|---|---|---|");
    let queries: &[(&str, Option<&str>)] = &[
        ("xylophone", None),
        ("release", None),
        ("release deploy", None),
        ("coffee tomorrow lunch", None),
        ("release", Some("room7@conference.localhost")),
        ("nothingmatches", None),
    ];
    for (q, within) in queries {
        let mut times: Vec<Duration> = Vec::new();
        let mut count = 0;
        for _ in 0..20 {
            let t = Instant::now();
            count = h.find(q, *within, MAX_FOUND).unwrap().len();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "| {q} | {} | {count} | {:.2} ms | {:.2} ms |",
            within.unwrap_or("everywhere"),
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
    }
}
