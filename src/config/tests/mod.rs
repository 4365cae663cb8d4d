//! Tests of loading the configuration: helpers and the full sample file
//! shared by the test modules, which are split by the part of the file
//! they cover.

mod accounts;
mod connection;
mod errors;
mod show;
mod ui;

use std::path::{Path, PathBuf};

use super::*;

fn dirs() -> DirsOverride {
    DirsOverride::Explicit {
        data_dir: PathBuf::from("/nonexistent/confab-test/data"),
        cache_dir: PathBuf::from("/nonexistent/confab-test/cache"),
    }
}

fn load_cli(text: &str, cli: &CliOverrides) -> Result<Config, ConfigError> {
    load_from_str(text, Path::new("config.toml"), cli, dirs())
}

fn load_str(text: &str) -> Result<Config, ConfigError> {
    load_cli(text, &CliOverrides::default())
}

fn err(text: &str) -> String {
    load_str(text).unwrap_err().to_string()
}

fn err_cli(text: &str, cli: &CliOverrides) -> String {
    load_cli(text, cli).unwrap_err().to_string()
}

fn bare(s: &str) -> jid::BareJid {
    jid::BareJid::new(s).unwrap()
}

const FULL: &str = r#"
default_account = "work"

[history]
enabled = true
load = 120

[accounts.home]
jid = "alice@home.example"

[accounts.work]
jid = "alice@example.org"
server = "xmpp.example.org:5223"
nick = "ali"
password_command = "pass show xmpp/alice"
tls = "direct"
ca_file = "/etc/confab/ca.pem"
resource = "laptop"
autojoin = ["room@conference.example.org", "dev@conference.example.org/alice2"]
"#;
