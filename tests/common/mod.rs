//! Helpers shared by the integration tests in `tests/it`.
//!
//! Every test gets its own private Prosody (see `confab_testbed`), or
//! ejabberd for tests that run on both ([`server_with`], [`on_both!`]);
//! tests never share a server, so they can run in parallel.

// Each test module uses a different subset of these helpers.
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;

pub use confab_testbed::*;

/// The password [`prosody_with`] gives `user`: `"{user}-pw"`.
pub fn password_of(user: &str) -> String {
    format!("{user}-pw")
}

/// Start a private Prosody with accounts `user@localhost` / `"{user}-pw"`.
/// Panics with the harness's error text (incl. the log tail) on failure.
pub fn prosody_with(users: &[&str]) -> Prosody {
    let opts = users.iter().fold(ProsodyOptions::new(), |opts, user| {
        opts.account(*user, password_of(user))
    });
    Prosody::start(opts).unwrap_or_else(|e| panic!("starting the test Prosody failed: {e}"))
}

/// Start a private server of `kind` with accounts `user@localhost` /
/// `"{user}-pw"`. Panics with the harness's error text on failure.
pub fn server_with(kind: ServerKind, users: &[&str]) -> Box<dyn TestServer> {
    let passwords: Vec<String> = users.iter().map(|u| password_of(u)).collect();
    let accounts: Vec<(&str, &str)> = users
        .iter()
        .copied()
        .zip(passwords.iter().map(String::as_str))
        .collect();
    kind.start(&accounts)
        .unwrap_or_else(|e| panic!("starting the test {kind} failed: {e}"))
}

/// `on_both!(body)` for `fn body(kind: ServerKind)`: a module `body` with
/// the tests `prosody` and `ejabberd` (filter with `test(ejabberd)`).
#[macro_export]
macro_rules! on_both {
    ($($body:ident),+ $(,)?) => {$(
        mod $body {
            #[test]
            fn prosody() {
                super::$body(confab_testbed::ServerKind::Prosody)
            }
            #[test]
            fn ejabberd() {
                super::$body(confab_testbed::ServerKind::Ejabberd)
            }
        }
    )+};
}

/// Every file under `dir`, at any depth.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The first file called `name` under `dir` (e.g. a confab home's
/// `history.sqlite3`).
pub fn find_file(dir: &std::path::Path, name: &str) -> Option<PathBuf> {
    files_under(dir)
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == name))
}

/// Path of the freshly built `confab` binary.
pub fn confab_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_confab"))
}

/// Path of the freshly built `confab-testbed` binary (the peers, the
/// sandbox).
pub fn testbed_bin() -> PathBuf {
    // Another package's binary: cargo builds it with the workspace (its
    // default members) into the same directory as confab.
    let path = confab_bin().with_file_name("confab-testbed");
    assert!(
        path.exists(),
        "{} is missing: build the workspace (`cargo build`)",
        path.display()
    );
    path
}

pub mod client;
pub use client::{Client, LONG};
pub mod components;
pub use components::{attach, received, run_peer};
pub mod tmux;
pub use tmux::Tmux;
pub mod desktop;
pub mod fake_server;
pub mod peer;
