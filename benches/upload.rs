//! File transfer throughput on loopback: `confab --batch` uploads a
//! 50 MB file through the server's XEP-0363 service (HTTPS, the test
//! CA) into a room and `/save`s it back, timed from each transfer's
//! `started` event to its `done` event; MB/s printed for both, on
//! Prosody (`mod_http_file_share`) and ejabberd (`mod_http_upload`).
//!
//! `cargo bench --bench upload` (the bench profile's confab); a debug
//! figure: `cargo bench --profile dev --bench upload`.
//! Environment: `CONFAB_UPLOAD_MB` (50), `CONFAB_UPLOAD_SERVERS`
//! (`prosody,ejabberd`), `CONFAB_BIN` (another binary).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Instant;

use confab_testbed::ServerKind;
use serde_json::Value;

fn main() {
    let mb: u64 = std::env::var("CONFAB_UPLOAD_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let servers = std::env::var("CONFAB_UPLOAD_SERVERS").unwrap_or("prosody,ejabberd".into());
    let bin = std::env::var_os("CONFAB_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_confab")));
    let size = mb * 1_000_000;
    for kind in ServerKind::ALL {
        if !servers.split(',').any(|s| s == kind.name()) {
            continue;
        }
        let server = kind
            .start_with_upload(&[("alice", "alice-pw")], size + 1_000_000)
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("big.bin");
        let data: Vec<u8> = (0..size as usize).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&file, &data).unwrap();
        let back = home.path().join("back.bin");
        let mut child = common::batch(&bin, &*server, "alice", home.path(), &[])
            .spawn()
            .unwrap();
        let room = "bench@conference.localhost";
        let mut stdin = child.stdin.take().unwrap();
        writeln!(
            stdin,
            "/join {room}/alice\n/upload {} {room}\n/save {room} @me {}\n/quit",
            file.display(),
            back.display()
        )
        .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut times: Vec<(String, String, Instant)> = Vec::new();
        for line in out.lines() {
            let Ok(line) = line else { break };
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let event = v["event"].as_str().unwrap_or_default().to_string();
            if event == "upload" || event == "download" {
                let state = v["state"].as_str().unwrap_or_default().to_string();
                if state != "progress" {
                    times.push((event.clone(), state, Instant::now()));
                }
            }
            if event == "error" {
                panic!("{kind}: {v}");
            }
        }
        let _ = child.wait();
        let span = |what: &str| {
            let at = |state: &str| {
                times
                    .iter()
                    .find(|(e, s, _)| e == what && s == state)
                    .map(|(_, _, t)| *t)
                    .unwrap_or_else(|| panic!("{kind}: no {what} {state}"))
            };
            at("done") - at("started")
        };
        let (up, down) = (span("upload"), span("download"));
        assert_eq!(std::fs::read(&back).unwrap(), data, "{kind}: bytes differ");
        let rate = |d: std::time::Duration| size as f64 / 1e6 / d.as_secs_f64();
        println!(
            "{kind:8} {mb} MB  upload {:6.2} s {:7.1} MB/s   download {:6.2} s {:7.1} MB/s",
            up.as_secs_f64(),
            rate(up),
            down.as_secs_f64(),
            rate(down)
        );
    }
}
