//! `--batch` as a script runner: errors, exit codes, /wait, /sleep, config.

use std::process::Command;

use serde_json::Value;

use crate::common::*;

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

#[test]
fn parse_error_fails_the_script_and_keep_going_continues() {
    let server = prosody_with(&["alice"]);
    let mut c = Client::online(&server, "alice");
    let e = c.run("/jion room@conference.localhost");
    assert_eq!(e["event"], "error");
    assert_eq!(e["condition"], "bad-request");
    assert!(e["text"].as_str().unwrap().contains("/join"), "{e}");
    assert_eq!(c.exit_status(), 1);

    let home = tempfile::tempdir().unwrap();
    let mut c = Client::start_in(&server, "alice", home.path(), &["--keep-going"]);
    c.connected();
    assert_eq!(c.run("say without slash")["event"], "error");
    c.ok("/sleep 0.1");
    c.ok("/join r@conference.localhost");
    assert_eq!(c.finish(), 1, "a failed command makes the exit status 1");
}

#[test]
fn wait_times_out_with_an_error() {
    let server = prosody_with(&["alice"]);
    let mut c = Client::online(&server, "alice");
    c.ok("/join r@conference.localhost");
    let e = c.run("/wait message r@conference.localhost --from nobody --timeout 0.3");
    assert_eq!(e["event"], "error");
    assert_eq!(e["condition"], "remote-server-timeout");
    // /wait event sees what already happened since the previous /wait.
    let mut c = Client::online(&server, "alice");
    c.ok("/wait event connected");
    assert_eq!(c.finish(), 0);
}

#[test]
fn commands_on_rooms_we_are_not_in_are_refused() {
    let server = prosody_with(&["alice"]);
    let home = tempfile::tempdir().unwrap();
    let mut c = Client::start_in(&server, "alice", home.path(), &["--keep-going"]);
    c.connected();
    let e = c.run("/say nowhere@conference.localhost hello?");
    assert_eq!(e["event"], "error");
    assert!(e["text"].as_str().unwrap().contains("not in"), "{e}");
    let e = c.run("/part nowhere@conference.localhost");
    assert_eq!(e["event"], "error");
    assert_eq!(c.finish(), 1);
}

#[test]
fn config_errors_exit_2_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[accounts.me]\njid = \"me@localhost\"\ntls = \"ssl\"\n",
    )
    .unwrap();
    let out = Command::new(confab_bin())
        .arg("--config")
        .arg(&cfg)
        .arg("--batch")
        .arg("-")
        .envs(confab_testbed::confab_xdg_dirs(dir.path()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3"), "{err}");
    assert!(err.contains("tls"), "{err}");

    // No password source in batch: a usage error, not a hang.
    let out = Command::new(confab_bin())
        .args(["--jid", "me@localhost", "--batch", "-"])
        .envs(confab_testbed::confab_xdg_dirs(dir.path()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-env"));
}

#[test]
fn history_is_shown_on_rejoin_without_duplicates() {
    let server = prosody_with(&["alice", "bob"]);
    let room = "archive@conference.localhost";
    let home = tempfile::tempdir().unwrap();
    let mut bob = Client::online(&server, "bob");
    bob.ok(&format!("/join {room}/bob"));
    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    alice.connected();
    alice.ok(&format!("/join {room}/alice"));
    for i in 1..=3 {
        alice.ok(&format!("/say {room} archived message {i}"));
    }
    assert_eq!(alice.finish(), 0);
    bob.ok(&format!("/say {room} said while alice was away"));

    let mut alice = Client::start_in(&server, "alice", home.path(), &[]);
    alice.connected();
    alice.ok(&format!("/join {room}/alice"));
    let h = alice.find(|v| is(v, "history")).expect("history event");
    assert_eq!(h["room"], room);
    assert_eq!(h["count"], 3);
    // The room's own replay of those three is not repeated...
    assert!(
        !alice.saw(|v| is(v, "message") && v["body"].as_str().unwrap().starts_with("archived")),
        "duplicates: {:?}",
        alice.events
    );
    // ...but what was said meanwhile arrives, marked delayed.
    let m = alice.event("missed message", |v| {
        is(v, "message") && v["body"] == "said while alice was away"
    });
    assert_eq!(m["delayed"], true);
    assert_eq!(alice.finish(), 0);
    assert_eq!(bob.finish(), 0);

    // --no-history keeps nothing.
    let home2 = tempfile::tempdir().unwrap();
    let mut carol = Client::start_in(&server, "bob", home2.path(), &["--no-history"]);
    carol.connected();
    carol.ok(&format!("/join {room}/bob2"));
    carol.ok(&format!("/say {room} not archived"));
    assert_eq!(carol.finish(), 0);
    let files: Vec<_> = files_under(home2.path());
    assert!(
        !files
            .iter()
            .any(|p| p.to_string_lossy().contains("history")),
        "{files:?}"
    );
}

#[test]
fn config_file_account_with_autojoin() {
    let server = prosody_with(&["alice"]);
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("confab.toml");
    std::fs::write(
        &cfg,
        format!(
            "[accounts.main]\njid = \"alice@localhost\"\nserver = \"127.0.0.1:{}\"\nnick = \"ally\"\n\
             password_command = \"printf 'alice-pw\\\\n'\"\nca_file = \"{}\"\n\
             autojoin = [\"auto@conference.localhost\"]\n",
            server.c2s_port(),
            server.ca_file().display()
        ),
    )
    .unwrap();
    let out = Command::new(confab_bin())
        .arg("--config")
        .arg(&cfg)
        .args(["--batch", "-"])
        .envs(confab_testbed::confab_xdg_dirs(home.path()))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let joined = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| is(v, "joined"))
        .expect("autojoined");
    assert_eq!(joined["room"], "auto@conference.localhost");
    assert_eq!(joined["nick"], "ally");
    assert!(!stdout.contains("alice-pw"));
}
