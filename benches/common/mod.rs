//! What the whole-client benchmarks share: confab as a user of the
//! private server, with its config, data, cache and state (its log)
//! under a home of its own, never the real one.

// Each benchmark uses a part of this module.
#![allow(dead_code)]

pub mod rng;

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use confab_testbed::TestServer;

/// confab's arguments for `user` of `server`, the password in
/// `CONFAB_TEST_PASSWORD`.
pub fn account_args(server: &dyn TestServer, user: &str) -> Vec<OsString> {
    vec![
        "--jid".into(),
        server.jid(user).into(),
        "--server".into(),
        format!("127.0.0.1:{}", server.c2s_port()).into(),
        "--ca-file".into(),
        server.ca_file().into(),
        "--password-env".into(),
        "CONFAB_TEST_PASSWORD".into(),
    ]
}

/// `confab --batch -` as `user` (password `USER-pw`) living in `home`,
/// stdin and stdout piped, stderr inherited; `extra` arguments after the
/// account's.
pub fn batch(
    bin: &Path,
    server: &dyn TestServer,
    user: &str,
    home: &Path,
    extra: &[&str],
) -> Command {
    let mut c = Command::new(bin);
    c.args(["--batch", "-"])
        .args(account_args(server, user))
        .args(extra)
        .env("CONFAB_TEST_PASSWORD", format!("{user}-pw"))
        .envs(confab_testbed::confab_xdg_dirs(home))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    c
}
