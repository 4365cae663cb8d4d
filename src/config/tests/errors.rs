//! Tests of what the loader refuses, naming the file, line and key:
//! unknown keys, bad values and types, syntax errors, both password
//! sources, bad autojoin entries.

use super::*;

#[test]
fn unknown_key_in_account() {
    let text = "[accounts.work]\njid = \"a@example.org\"\nnickk = \"alice\"\n";
    let e = load_str(text).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "config.toml:3: unknown key \"nickk\" in [accounts.work] (expected one of jid, server, nick, "
        ),
        "{msg}"
    );
    assert!(matches!(e, ConfigError::UnknownKey { ref key, .. } if key == "nickk"));
}

#[test]
fn unknown_key_top_level_and_history() {
    let msg = err("\n\nfoo = 1\n");
    assert_eq!(
        msg,
        "config.toml:3: unknown key \"foo\" in the top level \
         (expected one of default_account, history, accounts, ui, theme, keys, chatting, files)"
    );
    let msg = err("[history]\nenabled = true\nloaad = 3\n");
    assert_eq!(
        msg,
        "config.toml:3: unknown key \"loaad\" in [history] (expected one of enabled, load)"
    );
    // Dotted keys and inline tables are located too.
    let msg = err("accounts.work.jid = \"a@example.org\"\naccounts.work.tsl = \"direct\"\n");
    assert!(
        msg.starts_with("config.toml:2: unknown key \"tsl\" in [accounts.work]"),
        "{msg}"
    );
    let msg = err("[accounts]\nwork = { jid = \"a@example.org\", pw = \"x\" }\n");
    assert!(
        msg.starts_with("config.toml:2: unknown key \"pw\" in [accounts.work]"),
        "{msg}"
    );
}

#[test]
fn bad_tls_mode() {
    let text = "[accounts.work]\njid = \"a@example.org\"\n\n\n\n\n\n\ntls = \"ssl\"\n";
    assert_eq!(
        err(text),
        "config.toml:9: accounts.work.tls: expected \"starttls\" or \"direct\", found \"ssl\""
    );
}

#[test]
fn bad_port() {
    let text = "[accounts.work]\njid = \"a@example.org\"\n\nserver = \"xmpp.example.org:99999\"\n";
    assert_eq!(
        err(text),
        "config.toml:4: accounts.work.server: port \"99999\" is not a number from 1 to 65535"
    );
    let cli = CliOverrides {
        jid: Some("a@example.org".into()),
        server: Some("host:0".into()),
        ..Default::default()
    };
    assert_eq!(
        err_cli("", &cli),
        "--server: port \"0\" is not a number from 1 to 65535"
    );
}

#[test]
fn bad_cli_values() {
    let cli = CliOverrides {
        jid: Some("alice@".into()),
        ..Default::default()
    };
    let msg = err_cli("", &cli);
    assert!(
        msg.starts_with("--jid: \"alice@\" is not a valid JID ("),
        "{msg}"
    );
    let cli = CliOverrides {
        jid: Some("a@example.org".into()),
        password_env: Some(String::new()),
        ..Default::default()
    };
    assert!(err_cli("", &cli).starts_with("--password-env: "));
}

#[test]
fn wrong_type_names_key_and_line() {
    let msg = err("[history]\nenabled = true\nload = \"many\"\n");
    assert!(
        msg.starts_with("config.toml:3: history.load: invalid type: string"),
        "{msg}"
    );
    let msg =
        err("[accounts.work]\njid = \"a@example.org\"\nautojoin = [\"r@c.example.org\", 7]\n");
    assert!(
        msg.starts_with("config.toml:3: accounts.work.autojoin[1]: invalid type: integer"),
        "{msg}"
    );
    let msg = err("[accounts.work]\njid = 5\n");
    assert!(
        msg.starts_with("config.toml:2: accounts.work.jid: invalid type: integer"),
        "{msg}"
    );
}

#[test]
fn syntax_error_has_line() {
    let msg = err("[history]\nload = 5\nenabled = \n");
    assert!(msg.starts_with("config.toml:3: invalid TOML: "), "{msg}");
}

#[test]
fn both_password_sources() {
    let text = "[accounts.work]\njid = \"a@example.org\"\npassword_command = \"pass x\"\npassword_env = \"PW\"\n";
    assert_eq!(
        err(text),
        "config.toml:4: accounts.work.password_env: set either password_command or password_env, not both"
    );
}

#[test]
fn bad_autojoin_entries() {
    let msg = err(
        "[accounts.work]\njid = \"a@example.org\"\nautojoin = [\n  \"ok@muc.example.org\",\n  \"muc.example.org\",\n]\n",
    );
    assert!(
        msg.starts_with(
            "config.toml:5: accounts.work.autojoin[1]: \"muc.example.org\" has no room name"
        ),
        "{msg}"
    );
    let msg = err(
        "[accounts.work]\njid = \"a@example.org\"\nautojoin = [\"r@muc.example.org\", \"r@muc.example.org/x\"]\n",
    );
    assert!(
        msg.contains("accounts.work.autojoin[1]: room r@muc.example.org is listed more than once"),
        "{msg}"
    );
}
