//! `confab-testbed sandbox` (the README's first command, through
//! `scripts/sandbox`) works on its own: the
//! private Prosody comes up with the demo accounts and room, bob greets
//! alice, and the project's peers are there — bob's call on the SFU can be
//! joined and heard, the legacy service's rooms entered.

use crate::common::*;

#[test]
fn the_sandbox_has_bob_his_call_and_the_legacy_rooms() {
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::sandbox(
        &[
            "--audio-in",
            "tone:660",
            "--audio-out",
            "null",
            "--rtc-bind",
            "127.0.0.1:0",
        ],
        home.path(),
        160,
        40,
    );
    tmux.wait_for("bob's greeting", |s| s.contains("Hello! I am bob"));

    tmux.send(&["/call standup@sfu.localhost", "Enter"]);
    let s = tmux.wait_for("bob's tone in the call panel", |s| {
        s.contains("standup@sfu.localhost · connected") && s.contains("▶ ▮")
    });
    assert!(s.contains("bob@localhost"), "{s}");
    tmux.send(&["/hangup", "Enter"]);
    tmux.wait_for("the call over", |s| !s.contains("Not end-to-end encrypted"));

    tmux.send(&["/join lobby@legacy.localhost", "Enter"]);
    tmux.wait_for("the generic conferencing room", |s| {
        s.contains("generic conferencing room")
    });
    tmux.send(&["/quit", "Enter"]);
    tmux.wait_exit();
}
