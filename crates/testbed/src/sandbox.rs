//! `confab-testbed sandbox [CONFAB ARGS…]` (what `scripts/sandbox` runs):
//! a private Prosody with demo accounts and a demo room, a demo user (bob)
//! in it, and confab opened as alice (the `confab` executable beside
//! `confab-testbed`, or [`CONFAB_BIN_ENV`]; see [`confab_exe`]). The
//! project's own peers run beside it: an A/V conference SFU
//! (`sfu.localhost`, bob is in `standup@sfu.localhost` sending a 440 Hz
//! tone), a legacy conference service (`legacy.localhost`: generic
//! conferencing and groupchat 1.0 rooms) and a Jitsi focus
//! (`focus.localhost`). Everything lives in a temp dir that goes away on
//! exit.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{Prosody, ProsodyOptions};

pub const DEMO_ROOM: &str = "demo@conference.localhost";
/// bob's call in the sandbox.
pub const DEMO_CALL: &str = "standup@sfu.localhost";
const PEER_SECRET: &str = "sandbox-peer-secret";

/// The SFU, the legacy conference service and the focus, on a runtime of
/// their own (they live as long as the process).
fn start_peers(server: &Prosody) -> Result<()> {
    use super::component::Link;
    use super::{focus, legacy, sfu};
    let port = server.component_port();
    let mut legacy_opts = legacy::Options::new("legacy.localhost");
    for (spec, gc) in [
        (
            "lobby,public,name=Lobby,topic=A generic conferencing room (jabber:iq:conference)",
            false,
        ),
        ("oldies,topic=A groupchat 1.0 room", true),
    ] {
        legacy_opts
            .rooms
            .push(legacy::RoomSpec::parse(spec, gc).map_err(anyhow::Error::msg)?);
    }
    let runtime = tokio::runtime::Runtime::new().context("a runtime for the peers")?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let link = Link::new(port, PEER_SECRET);
            let sfu = sfu::run(&link, sfu::Options::new("sfu.localhost"));
            let legacy = legacy::run(&link, legacy_opts);
            let focus = focus::run(&link, None, focus::FocusOptions::new("focus.localhost"));
            let _ = tokio::join!(sfu, legacy, focus);
        })
    });
    Ok(())
}
const PASSWORD_VAR: &str = "CONFAB_SANDBOX_PASSWORD";
/// The `confab` executable the sandbox runs, instead of the one beside
/// the current executable.
pub const CONFAB_BIN_ENV: &str = "CONFAB_BIN";

/// The `confab` executable: [`CONFAB_BIN_ENV`] if set, else `confab` in
/// the directory of the current executable (the same target dir as
/// `confab-testbed`). An error names the path when it is missing.
pub fn confab_exe() -> Result<PathBuf> {
    let exe = match std::env::var_os(CONFAB_BIN_ENV) {
        Some(path) => PathBuf::from(path),
        None => {
            let me = std::env::current_exe().context("cannot find the current executable")?;
            me.with_file_name(format!("confab{}", std::env::consts::EXE_SUFFIX))
        }
    };
    if !exe.is_file() {
        bail!(
            "the confab executable {} is missing (build it with `cargo build --bin confab`, \
             or name it with {CONFAB_BIN_ENV}=PATH)",
            exe.display()
        );
    }
    Ok(exe)
}

fn confab(exe: &Path, server: &Prosody, user: &str, home: &Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg("--jid")
        .arg(server.jid(user))
        .arg("--server")
        .arg(format!("127.0.0.1:{}", server.c2s_port()))
        .arg("--ca-file")
        .arg(server.ca_file())
        .arg("--password-env")
        .arg(PASSWORD_VAR)
        .env(PASSWORD_VAR, format!("{user}-pw"))
        .envs(crate::confab_xdg_dirs(home));
    cmd
}

/// Runs the sandbox with the `confab` executable `exe` (bob, then alice
/// with `args` added); returns alice's exit status.
pub fn run(exe: &Path, args: &[OsString]) -> Result<u8> {
    let mut opts = ProsodyOptions::new()
        .account("alice", "alice-pw")
        .account("bob", "bob-pw")
        .account("carol", "carol-pw")
        .component("sfu.localhost", PEER_SECRET)
        .component("legacy.localhost", PEER_SECRET)
        .component("focus.localhost", PEER_SECRET);
    // Stream management (XEP-0198) as a real server would have it: a
    // suspended laptop's confab resumes within 5 minutes.
    opts.extra_modules.push("smacks".into());
    opts.extra_global_config
        .push_str("smacks_hibernation_time = 300\n");
    let server = Prosody::start(opts)?;
    start_peers(&server)?;
    let home = server.dir().join("home");

    // bob joins the demo room, sets its subject and says hello, then stays
    // until we close his input.
    let mut bob = confab(exe, &server, "bob", &home)
        .arg("--batch")
        .arg("-")
        .args(["--audio-in", "tone:440", "--audio-out", "null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start the demo user ({})", exe.display()))?;
    let mut bob_in = bob.stdin.take().context("no stdin for bob")?;
    let bob_out = bob.stdout.take().context("no stdout for bob")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(bob_out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    writeln!(
        bob_in,
        "/join {DEMO_ROOM}/bob\n\
         /topic {DEMO_ROOM} Welcome to the confab sandbox: try /nick, /msg {DEMO_ROOM}/bob hi, /help\n\
         /say {DEMO_ROOM} Hello! I am bob, a demo user. Say something; Ctrl-C or /quit leaves.\n\
         /say {DEMO_ROOM} Accounts: alice, bob and carol (passwords: NAME-pw) on 127.0.0.1:{}\n\
         /say {DEMO_ROOM} I am also in a call playing a 440 Hz tone: /call {DEMO_CALL} (add --audio-in tone:660 to the sandbox command if you have no microphone). Older protocols: /join lobby@legacy.localhost, /join oldies@legacy.localhost. A Jitsi focus: /join meet@conference.localhost --focus\n\
         /call {DEMO_CALL}",
        server.c2s_port()
    )?;
    bob_in.flush()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut oks = 0;
    while oks < 5 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("\"event\":\"ok\"") => oks += 1,
            Ok(line) if line.contains("\"event\":\"error\"") => {
                bail!("the demo user failed: {line}")
            }
            Ok(_) => {}
            Err(_) => bail!(
                "the demo user did not get into {DEMO_ROOM} in time; server log:\n{}",
                server.log_tail(20)
            ),
        }
    }
    // Write alice's config with the demo room to autojoin.
    let config = home.join("alice.toml");
    std::fs::create_dir_all(&home)?;
    std::fs::write(
        &config,
        format!(
            "[accounts.alice]\njid = \"alice@localhost\"\nnick = \"alice\"\nautojoin = [\"{DEMO_ROOM}\"]\n"
        ),
    )?;
    let status = confab(exe, &server, "alice", &home)
        .arg("--config")
        .arg(&config)
        .args(args)
        .status()
        .with_context(|| format!("cannot start confab ({})", exe.display()))?;
    drop(bob_in);
    let _ = bob.wait();
    Ok(status.code().unwrap_or(1).clamp(0, 255) as u8)
}
