//! Files in the real TUI (tmux) against the test Prosody (its upload
//! service is the slow one on loopback, a few MB/s, so a big file is
//! still going when Esc comes): `/upload PATH` with the current room
//! added, the progress bar in the status line, Esc cancels it (no
//! message goes out), then a small file's link is drawn as an
//! attachment line at alice's and reaches bob as an attachment.

use serde_json::Value;

use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

#[test]
fn tui_uploads_shows_progress_cancels_with_esc_and_draws_attachments() {
    let server = ServerKind::Prosody
        .start_with_upload(&[("alice", "alice-pw"), ("bob", "bob-pw")], 500_000_000)
        .unwrap_or_else(|e| panic!("{e}"));
    let room = "tuifiles@conference.localhost";
    let home = tempfile::tempdir().unwrap();
    let big = home.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 300_000_000]).unwrap();
    let small = home.path().join("notes.txt");
    std::fs::write(&small, b"hello").unwrap();
    let tmux = Tmux::start(&*server, "alice", home.path(), 140, 30);
    tmux.wait_for("online", |s| s.contains("online"));
    tmux.send(&[&format!("/join {room}/alice"), "Enter"]);
    // (The join's "ok" on the status line may give way at once to news
    // such as OMEMO's publication: the people pane says it.)
    tmux.wait_for("joined", |s| {
        s.contains(&format!("/join {room}/alice: ok")) || s.contains("1 people")
    });
    let mut bob = Client::online(&*server, "bob");
    bob.ok(&format!("/join {room}/bob"));

    tmux.send(&[&format!("/upload {}", big.display()), "Enter"]);
    tmux.wait_for("the progress bar", |s| {
        s.contains("upload big.bin [") && s.contains("% ") && s.contains("Esc: cancel")
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("cancelled", |s| {
        s.contains("big.bin: cancelled (stopped by /cancel)")
    });

    tmux.send(&[&format!("/upload {}", small.display()), "Enter"]);
    let m = bob.expect("alice's file", |v| is(v, "message") && v["nick"] == "alice");
    assert_eq!(m["attachments"][0]["name"], "notes.txt", "{m}");
    let url = m["body"].as_str().unwrap().to_string();
    tmux.wait_for("the attachment line", |s| {
        // The URL wraps to the next row.
        s.contains("<alice> [file] notes.txt · text/plain ·") && s.contains("/notes.txt")
    });
    // Only the small file's message went out.
    assert!(!bob.saw(|v| is(v, "message")
        && v["nick"] == "alice"
        && v["body"].as_str().is_some_and(|b| b.contains("big.bin"))));
    assert!(url.ends_with("notes.txt"), "{url}");
}
