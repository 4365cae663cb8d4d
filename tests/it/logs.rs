//! The log (issue 18): a whole session at `--log-level trace` writes the
//! protocol trace, and neither the account password, nor a room's
//! password, nor any SASL payload (the SCRAM client proof above all) is in
//! it; `/xmlconsole` in `--batch` gives the same redacted stream as `xml`
//! events, only while it is on.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use crate::common::{Client, ServerKind, password_of, server_with};

const MASK: &str = "[redacted]";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// The one daily log file under `dir`.
fn daily_log(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("no log directory {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.starts_with("confab.") && n.ends_with(".log")
        })
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one log file in {}: {files:?}",
        dir.display()
    );
    files.into_iter().next().unwrap()
}

/// The text of every element `name` in `log` (`<name …>TEXT</name>`).
fn contents<'a>(log: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = log;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        // `<responseX` is another element.
        if !after.starts_with([' ', '>', '/']) {
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        if after[..gt].ends_with('/') {
            rest = &after[gt..];
            continue;
        }
        let body = &after[gt + 1..];
        let end = body.find(&close).unwrap_or(body.len());
        out.push(&body[..end]);
        rest = &body[end..];
    }
    out
}

/// Every run of base64 characters of 12 or more in `log`, decoded where
/// it decodes to text.
fn decoded_base64(log: &str) -> Vec<String> {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    log.split(|c: char| !is_b64(c))
        .filter(|w| w.len() >= 12 && w.len() % 4 == 0)
        .filter_map(|w| B64.decode(w).ok())
        .filter_map(|b| String::from_utf8(b).ok())
        .collect()
}

/// What must never be in a log: the passwords as they are and in base64,
/// SASL PLAIN's message, any SASL element with content, any SCRAM
/// message (client-first `n,,n=`, server-first `r=…,s=…,i=`, the
/// client-final `c=…,r=…,p=PROOF`, the server-final `v=`).
fn assert_clean(log: &str, who: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!log.contains(s), "{who}'s log holds the secret {s:?}");
        let b = B64.encode(s);
        assert!(!log.contains(&b), "{who}'s log holds base64 of {s:?}: {b}");
    }
    let plain = B64.encode(format!("\0{who}\0{}", password_of(who)));
    assert!(!log.contains(&plain), "{who}'s log holds the PLAIN message");
    for name in ["auth", "challenge", "response", "success"] {
        for body in contents(log, name) {
            assert_eq!(body, MASK, "{who}'s log: <{name}> with content {body:?}");
        }
    }
    for text in decoded_base64(log) {
        let scram = text.starts_with("n,,")
            || text.starts_with("p=")
            || text.starts_with("y,,")
            || (text.starts_with("r=") && text.contains(",s=") && text.contains(",i="))
            || (text.starts_with("c=") && text.contains(",p="))
            || text.starts_with("v=");
        assert!(!scram, "{who}'s log holds a SCRAM message: {text:?}");
    }
}

crate::on_both!(a_traced_session_keeps_its_secrets);

fn a_traced_session_keeps_its_secrets(kind: ServerKind) {
    let server = server_with(kind, &["alice", "bob"]);
    let den = "den@conference.localhost";
    let room_pw = "orchard-gate-9731";
    // alice logs to the default place (the state directory), bob to a file.
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &["--log-level", "trace"]);
    alice.connected();
    let bob_log = home.path().join("bob").join("bob.log");
    let bob_log_arg = bob_log.display().to_string();
    let bob_home = tempfile::tempdir().unwrap();
    let mut bob = Client::start_in(
        &*server,
        "bob",
        bob_home.path(),
        &["--log-level", "trace", "--log-file", &bob_log_arg],
    );
    bob.connected();

    // A room with a secret (a form field), joined with it (a presence).
    let protect = match kind {
        ServerKind::Prosody => "",
        ServerKind::Ejabberd => " muc#roomconfig_passwordprotectedroom=1",
    };
    alice.ok(&format!(
        "/create {den} muc#roomconfig_roomsecret={room_pw}{protect}"
    ));
    bob.ok(&format!("/join {den}/bob {room_pw}"));
    let body = "hello through the traced stream";
    bob.ok(&format!("/say {den} {body}"));
    alice.expect("bob's message", |v| is(v, "message") && v["body"] == body);
    alice.ok(&format!("/say {den} and back"));
    bob.expect("alice's answer", |v| {
        is(v, "message") && v["body"] == "and back"
    });
    assert_eq!(bob.finish(), 0);
    assert_eq!(alice.finish(), 0);

    let alice_log = daily_log(&home.path().join("state").join("confab"));
    for (who, path) in [("alice", &alice_log), ("bob", &bob_log)] {
        let log = std::fs::read_to_string(path).unwrap();
        // The trace is there: the login (masked), the message both ways.
        assert!(
            log.contains("confab::xml")
                && log.contains("dir=\"out\"")
                && log.contains("dir=\"in\""),
            "{who}: no protocol trace in {}:\n{}",
            path.display(),
            &log[..log.len().min(2000)]
        );
        assert!(log.contains(body), "{who}: the message is not traced");
        assert!(
            log.contains(MASK),
            "{who}: nothing was masked (no SASL traced?)"
        );
        assert!(
            contents(&log, "auth").len() == 1,
            "{who}: one <auth> traced"
        );
        assert!(
            log.contains(" INFO ") && log.contains("joined"),
            "{who}: no events"
        );
        assert_clean(&log, who, &[&password_of(who), room_pw]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{who}: log mode {mode:o}");
        }
    }
    // bob's presence to the room carried the password: it was traced, masked.
    let log = std::fs::read_to_string(&bob_log).unwrap();
    assert!(
        log.lines().any(|l| l.contains("dir=\"out\"")
            && l.contains("<presence")
            && l.contains(&format!("<password>{MASK}</password>"))),
        "bob's join with its password is not in the trace"
    );
    // alice's room form carried the secret: traced, masked.
    let log = std::fs::read_to_string(&alice_log).unwrap();
    assert!(
        log.contains("muc#roomconfig_roomsecret")
            && log.contains(&format!("<value>{MASK}</value>")),
        "alice's room form is not in the trace, masked"
    );
}

crate::on_both!(xmlconsole_in_batch_shows_the_stream_while_on);

fn xmlconsole_in_batch_shows_the_stream_while_on(kind: ServerKind) {
    let server = server_with(kind, &["alice"]);
    let lobby = "lobby@conference.localhost";
    let home = tempfile::tempdir().unwrap();
    let mut alice = Client::start_in(&*server, "alice", home.path(), &["--debug-xml"]);
    alice.expect("console on", |v| is(v, "xml-console") && v["on"] == true);
    // The login is in the stream, its secrets masked.
    let auth = alice.expect("auth", |v| {
        is(v, "xml") && v["dir"] == "out" && v["xml"].as_str().unwrap_or("").starts_with("<auth")
    });
    assert!(auth["xml"].as_str().unwrap().contains(MASK), "{auth}");
    alice.connected();
    alice.ok(&format!("/join {lobby}"));
    alice.ok(&format!("/say {lobby} seen on the console"));
    let out = alice.event("our message out", |v| {
        is(v, "xml")
            && v["dir"] == "out"
            && v["xml"]
                .as_str()
                .unwrap_or("")
                .contains("seen on the console")
    });
    assert!(out["at"].as_str().is_some_and(|t| t.contains('T')), "{out}");
    alice.event("its echo in", |v| {
        is(v, "xml")
            && v["dir"] == "in"
            && v["xml"]
                .as_str()
                .unwrap_or("")
                .contains("seen on the console")
    });
    // Off: nothing more; a filter shows only what matches.
    alice.ok("/xmlconsole off");
    alice.ok(&format!("/say {lobby} after the console"));
    alice.ok("/xmlconsole on --filter filtered-in");
    alice.ok(&format!("/say {lobby} filtered-in line"));
    alice.event("the filtered line", |v| {
        is(v, "xml") && v["xml"].as_str().unwrap_or("").contains("filtered-in line")
    });
    alice.ok(&format!("/say {lobby} filtered out"));
    alice.ok("/xmlconsole");
    assert_eq!(alice.finish(), 0);
    let xml: Vec<&str> = alice
        .events
        .iter()
        .filter(|v| is(v, "xml"))
        .filter_map(|v| v["xml"].as_str())
        .collect();
    assert!(
        !xml.iter().any(|x| x.contains("after the console")),
        "{xml:?}"
    );
    assert!(!xml.iter().any(|x| x.contains("filtered out")), "{xml:?}");
    let all = xml.join("\n");
    assert_clean(&all, "alice", &[&password_of("alice")]);
}
