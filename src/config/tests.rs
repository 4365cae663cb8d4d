use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::password::resolve_with_env;
use super::resolve::parse_server;
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

#[test]
fn full_valid_file() {
    let config = load_from_str(
        FULL,
        Path::new("/home/u/.config/confab/config.toml"),
        &CliOverrides::default(),
        dirs(),
    )
    .unwrap();
    assert!(config.history_enabled);
    assert_eq!(config.history_load, 120);
    let a = &config.account;
    assert_eq!(a.name, "work");
    assert_eq!(a.jid, bare("alice@example.org"));
    assert_eq!(
        a.server,
        Some(ServerAddr {
            host: "xmpp.example.org".into(),
            port: 5223
        })
    );
    assert_eq!(a.nick, "ali");
    assert_eq!(
        a.password,
        PasswordSource::Command("pass show xmpp/alice".into())
    );
    assert_eq!(a.tls, TlsMode::Direct);
    assert_eq!(a.ca_file.as_deref(), Some(Path::new("/etc/confab/ca.pem")));
    assert_eq!(a.resource.as_deref(), Some("laptop"));
    assert_eq!(
        a.autojoin,
        vec![
            AutoJoin {
                room: bare("room@conference.example.org"),
                nick: None
            },
            AutoJoin {
                room: bare("dev@conference.example.org"),
                nick: Some("alice2".into())
            },
        ]
    );
    assert_eq!(
        config.paths,
        Paths {
            config_file: Some(PathBuf::from("/home/u/.config/confab/config.toml")),
            data_dir: PathBuf::from("/nonexistent/confab-test/data"),
            cache_dir: PathBuf::from("/nonexistent/confab-test/cache"),
        }
    );
}

#[test]
fn defaults() {
    let config = load_str("[accounts.a]\njid = \"bob@example.net\"\n").unwrap();
    assert!(config.history_enabled);
    assert_eq!(config.history_load, DEFAULT_HISTORY_LOAD);
    let a = &config.account;
    assert_eq!(a.name, "a");
    assert_eq!(a.nick, "bob");
    assert_eq!(a.server, None);
    assert_eq!(a.tls, TlsMode::StartTls);
    assert_eq!(a.password, PasswordSource::Prompt);
    assert_eq!(a.ca_file, None);
    assert_eq!(a.resource, None);
    assert!(a.autojoin.is_empty());
    assert_eq!(
        a.server_addr(),
        ServerAddr {
            host: "example.net".into(),
            port: 5222
        }
    );

    let direct = load_str("[accounts.a]\njid = \"bob@example.net\"\ntls = \"direct\"\n").unwrap();
    assert_eq!(direct.account.server_addr().port, 5223);

    // A server without a port gets the TLS mode's default port.
    let a = load_str("[accounts.a]\njid = \"bob@example.net\"\nserver = \"srv.example.net\"\n")
        .unwrap()
        .account;
    assert_eq!(a.server_addr().to_string(), "srv.example.net:5222");
    let a = load_str(
        "[accounts.a]\njid = \"bob@example.net\"\nserver = \"srv.example.net\"\ntls = \"direct\"\n",
    )
    .unwrap()
    .account;
    assert_eq!(a.server_addr().to_string(), "srv.example.net:5223");
}

#[test]
fn first_account_in_file_order_and_default_account() {
    let text =
        "[accounts.zeta]\njid = \"z@example.org\"\n[accounts.alpha]\njid = \"a@example.org\"\n";
    assert_eq!(load_str(text).unwrap().account.name, "zeta");
    let text = format!("default_account = \"alpha\"\n{text}");
    assert_eq!(load_str(&text).unwrap().account.name, "alpha");
}

#[test]
fn history_disabled_by_file_or_cli() {
    let text = "[history]\nenabled = false\n[accounts.a]\njid = \"a@example.org\"\n";
    assert!(!load_str(text).unwrap().history_enabled);
    let cli = CliOverrides {
        no_history: true,
        ..Default::default()
    };
    assert!(
        !load_cli("[accounts.a]\njid = \"a@example.org\"\n", &cli)
            .unwrap()
            .history_enabled
    );
}

#[test]
fn cli_overrides_win() {
    let cli = CliOverrides {
        account: Some("home".into()),
        server: Some("[::1]:5999".into()),
        ca_file: Some(PathBuf::from("/tmp/other-ca.pem")),
        password_env: Some("CONFAB_TEST_PW".into()),
        no_history: true,
        ..Default::default()
    };
    let config = load_cli(FULL, &cli).unwrap();
    assert!(!config.history_enabled);
    let a = &config.account;
    assert_eq!(a.name, "home");
    assert_eq!(
        a.server,
        Some(ServerAddr {
            host: "::1".into(),
            port: 5999
        })
    );
    assert_eq!(a.server_addr().to_string(), "[::1]:5999");
    assert_eq!(a.ca_file.as_deref(), Some(Path::new("/tmp/other-ca.pem")));
    assert_eq!(a.password, PasswordSource::Env("CONFAB_TEST_PW".into()));

    // --password-env beats password_command; --jid with --account replaces
    // the JID (and the derived nick follows it, an explicit one stays).
    let cli = CliOverrides {
        account: Some("work".into()),
        jid: Some("carol@example.org".into()),
        password_env: Some("PW".into()),
        ..Default::default()
    };
    let a = load_cli(FULL, &cli).unwrap().account;
    assert_eq!(a.jid, bare("carol@example.org"));
    assert_eq!(a.nick, "ali");
    assert_eq!(a.password, PasswordSource::Env("PW".into()));
    let cli = CliOverrides {
        account: Some("home".into()),
        jid: Some("carol@example.org".into()),
        ..Default::default()
    };
    assert_eq!(load_cli(FULL, &cli).unwrap().account.nick, "carol");
}

#[test]
fn cli_jid_selects_matching_account() {
    let cli = CliOverrides {
        jid: Some("alice@home.example".into()),
        ..Default::default()
    };
    let a = load_cli(FULL, &cli).unwrap().account;
    assert_eq!(a.name, "home");
}

#[test]
fn ad_hoc_account_from_cli_jid() {
    let cli = CliOverrides {
        jid: Some("dave@example.com".into()),
        server: Some("localhost:15222".into()),
        ..Default::default()
    };
    let config = load_cli("", &cli).unwrap();
    let a = &config.account;
    assert_eq!(a.name, "dave@example.com");
    assert_eq!(a.jid, bare("dave@example.com"));
    assert_eq!(a.nick, "dave");
    assert_eq!(a.password, PasswordSource::Prompt);
    assert_eq!(a.tls, TlsMode::StartTls);
    assert_eq!(a.server_addr().to_string(), "localhost:15222");
    assert!(config.history_enabled);
    assert_eq!(config.history_load, 50);

    // A --jid that matches no account in a file with accounts is ad hoc too,
    // and keeps the file's history settings.
    let cli = CliOverrides {
        jid: Some("dave@example.com".into()),
        ..Default::default()
    };
    let config = load_cli(FULL, &cli).unwrap();
    assert_eq!(config.account.name, "dave@example.com");
    assert_eq!(config.history_load, 120);
}

#[test]
fn no_account_is_an_error() {
    let e = load_from_str(
        "[history]\nload = 5\n",
        Path::new("/home/u/.config/confab/config.toml"),
        &CliOverrides::default(),
        dirs(),
    )
    .unwrap_err();
    assert!(matches!(e, ConfigError::NoAccount { .. }));
    let msg = e.to_string();
    assert!(msg.contains("--jid"), "{msg}");
    assert!(msg.contains("[accounts.NAME]"), "{msg}");
    assert!(msg.contains("/home/u/.config/confab/config.toml"), "{msg}");
}

#[test]
fn unknown_cli_account() {
    let cli = CliOverrides {
        account: Some("wrok".into()),
        ..Default::default()
    };
    let msg = err_cli(FULL, &cli);
    assert!(msg.contains("\"wrok\""), "{msg}");
    assert!(msg.contains("home, work"), "{msg}");
}

#[test]
fn unknown_default_account() {
    let msg = err("\ndefault_account = \"wrok\"\n[accounts.work]\njid = \"a@example.org\"\n");
    assert_eq!(
        msg,
        "config.toml:2: default_account: no account named \"wrok\" (defined: work)"
    );
}

#[test]
fn invalid_jid() {
    let text = "# comment\n\n[accounts.work]\n\njid = \"alice@\"\n";
    let e = load_from_str(
        text,
        Path::new("/home/u/.config/confab/config.toml"),
        &CliOverrides::default(),
        dirs(),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "/home/u/.config/confab/config.toml:5: accounts.work.jid: \"alice@\" is not a valid JID ("
        ),
        "{msg}"
    );
    assert!(matches!(
        e,
        ConfigError::Invalid {
            location: Location { line: Some(5), .. },
            ..
        }
    ));
}

#[test]
fn jid_without_local_part_or_with_resource() {
    let msg = err("[accounts.work]\njid = \"example.org\"\n");
    assert!(
        msg.starts_with("config.toml:2: accounts.work.jid: \"example.org\" has no local part"),
        "{msg}"
    );
    let msg = err("[accounts.work]\njid = \"a@example.org/phone\"\n");
    assert!(
        msg.starts_with("config.toml:2: accounts.work.jid: \"a@example.org/phone\" has a resource"),
        "{msg}"
    );
}

#[test]
fn missing_jid() {
    let msg = err("[history]\nload = 1\n\n[accounts.work]\nnick = \"x\"\n");
    assert!(
        msg.starts_with("config.toml:4: accounts.work: missing required key \"jid\""),
        "{msg}"
    );
}

#[test]
fn nicks_for_conference_rooms() {
    let c = load_str("[accounts.work]\njid = \"a@example.org\"\nnicks = [\"dude\", \"dude_\"]\n")
        .unwrap();
    assert_eq!(c.account.nicks, ["dude", "dude_"]);
    // The first is the nick unless one is given.
    assert_eq!(c.account.nick, "dude");
    let c =
        load_str("[accounts.work]\njid = \"a@example.org\"\nnick = \"al\"\nnicks = [\"dude\"]\n")
            .unwrap();
    assert_eq!(c.account.nick, "al");
    let c = load_str("[accounts.work]\njid = \"a@example.org\"\n").unwrap();
    assert!(c.account.nicks.is_empty());
    let msg = err("[accounts.work]\njid = \"a@example.org\"\nnicks = [\"ok\", \" \"]\n");
    assert!(msg.contains("accounts.work.nicks[1]"), "{msg}");
}

#[test]
fn search_service_is_a_jid() {
    let c = load_str(
        "[accounts.work]\njid = \"a@example.org\"\nsearch_service = \"api@search.jabber.network\"\n",
    )
    .unwrap();
    assert_eq!(
        c.account.search_service.map(|j| j.to_string()).as_deref(),
        Some("api@search.jabber.network")
    );
    let c = load_str("[accounts.work]\njid = \"a@example.org\"\n").unwrap();
    assert_eq!(c.account.search_service, None);
    let msg = err("[accounts.work]\njid = \"a@example.org\"\n\nsearch_service = \"a@@b\"\n");
    assert!(
        msg.starts_with("config.toml:4: accounts.work.search_service: \"a@@b\" is not a valid JID"),
        "{msg}"
    );
    let msg = err("[accounts.work]\njid = \"a@example.org\"\nsearch_service = \" \"\n");
    assert!(
        msg.starts_with("config.toml:3: accounts.work.search_service: the JID is empty"),
        "{msg}"
    );
}

#[test]
fn call_service_is_a_jid() {
    let c =
        load_str("[accounts.work]\njid = \"a@example.org\"\ncall_service = \"sfu.example.org\"\n")
            .unwrap();
    assert_eq!(
        c.account.call_service.map(|j| j.to_string()).as_deref(),
        Some("sfu.example.org")
    );
    let msg = err("[accounts.work]\njid = \"a@example.org\"\ncall_service = \"a@@b\"\n");
    assert!(
        msg.starts_with("config.toml:3: accounts.work.call_service: \"a@@b\" is not a valid JID"),
        "{msg}"
    );
}

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
         (expected one of default_account, history, accounts, ui, theme, keys, chatting)"
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

#[test]
fn ca_file_relative_to_config_dir() {
    let text = "[accounts.w]\njid = \"a@example.org\"\nca_file = \"certs/ca.pem\"\n";
    let config = load_from_str(
        text,
        Path::new("/etc/confab/config.toml"),
        &CliOverrides::default(),
        dirs(),
    )
    .unwrap();
    assert_eq!(
        config.account.ca_file.as_deref(),
        Some(Path::new("/etc/confab/certs/ca.pem"))
    );
}

#[test]
fn server_address_forms() {
    assert_eq!(
        parse_server("example.org"),
        Ok(("example.org".into(), None))
    );
    assert_eq!(
        parse_server("example.org:5223"),
        Ok(("example.org".into(), Some(5223)))
    );
    assert_eq!(parse_server("[::1]"), Ok(("::1".into(), None)));
    assert_eq!(parse_server("[::1]:5222"), Ok(("::1".into(), Some(5222))));
    assert_eq!(parse_server("::1"), Ok(("::1".into(), None)));
    assert!(parse_server("").is_err());
    assert!(parse_server(":5222").is_err());
    assert!(parse_server("host:abc").is_err());
    assert!(parse_server("a b:5222").is_err());
}

#[test]
fn explicit_missing_config_file_is_an_error() {
    let cli = CliOverrides {
        config: Some(PathBuf::from("/nonexistent/confab/no-such-config.toml")),
        jid: Some("a@example.org".into()),
        ..Default::default()
    };
    let e = load(&cli).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("/nonexistent/confab/no-such-config.toml")
    );
}

#[test]
fn password_from_env() {
    let var = "CONFAB_TEST_PASSWORD_7f3a";
    let env = |name: &str| (name == var).then(|| OsString::from("s3cret"));
    let secret = resolve_with_env(&PasswordSource::Env(var.into()), env).unwrap();
    assert_eq!(secret.expose(), "s3cret");

    let msg = resolve_with_env(&PasswordSource::Env("OTHER_VAR".into()), env)
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "password environment variable OTHER_VAR is not set");

    let empty = |_: &str| Some(OsString::new());
    let msg = resolve_with_env(&PasswordSource::Env(var.into()), empty)
        .unwrap_err()
        .to_string();
    assert_eq!(msg, format!("password environment variable {var} is empty"));

    // The real environment: a variable nobody sets.
    let e = resolve_password(&PasswordSource::Env(
        "CONFAB_TEST_SURELY_UNSET_0c9e2b".into(),
    ))
    .unwrap_err();
    assert!(
        matches!(e, ConfigError::PasswordEnvUnset { ref var } if var == "CONFAB_TEST_SURELY_UNSET_0c9e2b")
    );
}

#[test]
fn password_from_command() {
    let secret = resolve_password(&PasswordSource::Command("printf 'pw\\n'".into())).unwrap();
    assert_eq!(secret.expose(), "pw");
    // Only one trailing newline is stripped; inner spaces stay.
    let secret = resolve_password(&PasswordSource::Command("printf ' a b \\n\\n'".into())).unwrap();
    assert_eq!(secret.expose(), " a b \n");
}

#[test]
fn failing_password_command() {
    // The command's text does not contain its output literally.
    let cmd = "printf 'leaked-%s' stdout; echo boom >&2; exit 3";
    let e = resolve_password(&PasswordSource::Command(cmd.into())).unwrap_err();
    let ConfigError::PasswordCommandFailed { status, stderr, .. } = &e else {
        panic!("unexpected error {e:?}");
    };
    assert_eq!(status.code(), Some(3));
    assert_eq!(stderr, "boom");
    let msg = e.to_string();
    assert!(msg.contains("exit status: 3"), "{msg}");
    assert!(msg.contains("boom"), "{msg}");
    assert!(!msg.contains("leaked-stdout"), "{msg}");
    assert!(!format!("{e:?}").contains("leaked-stdout"));
}

#[test]
fn empty_password_command_output_and_prompt() {
    let e = resolve_password(&PasswordSource::Command("printf '\\n'".into())).unwrap_err();
    assert!(matches!(e, ConfigError::PasswordCommandEmpty { .. }), "{e}");
    let e = resolve_password(&PasswordSource::Prompt).unwrap_err();
    assert!(matches!(e, ConfigError::NeedPrompt));
}

#[test]
fn secret_is_never_shown() {
    let secret = Secret::new("hunter2".into());
    assert_eq!(format!("{secret:?}"), "********");
    assert_eq!(format!("{secret}"), "********");
    assert_eq!(format!("{:?}", Some(secret.clone())), "Some(********)");
    assert_eq!(secret.expose(), "hunter2");
}

// ---- [ui], [theme], [keys] ----

use ratatui::style::{Color, Modifier, Style};

use crate::ui::theme::Theme;

const ACCOUNT: &str = "[accounts.a]\njid = \"a@example.org\"\n";

/// `ACCOUNT` followed by `text`; line numbers in `text` are offset by 2.
fn ui_err(text: &str) -> String {
    err(&format!("{ACCOUNT}{text}"))
}

#[test]
fn full_ui_theme_and_keys() {
    let text = format!(
        "{ACCOUNT}
[ui]
bell = false
set_title = false
show_events = false
rooms_width = 0
people_width = 80
time_format = \"%H:%M:%S\"

[theme]
highlight = \"yellow bold\"
own_nick = \"white on blue bold\"
timestamp = \"#1a2B3c on 236 italic underline\"
error = \"LightRed reversed dim\"
border = \"default\"
event = \"default on dark-grey\"
nick_colors = false

[keys]
\"ctrl-j\" = \"next-room\"
\"f5\" = \"help\"
\"ctrl-n\" = \"none\"
\"alt-x\" = \"window-10\"
"
    );
    let ui = load_str(&text).unwrap().ui;
    assert!(!ui.bell);
    assert!(!ui.set_title);
    assert!(!ui.show_events);
    assert_eq!(ui.rooms_width, 0);
    assert_eq!(ui.people_width, 80);
    assert_eq!(ui.time_format, "%H:%M:%S");

    let t = &ui.theme;
    assert_eq!(
        t.highlight,
        Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    );
    assert_eq!(
        t.own_nick,
        Style::default()
            .fg(Color::White)
            .bg(Color::Blue)
            .add_modifier(Modifier::BOLD)
    );
    assert_eq!(
        t.timestamp,
        Style::default()
            .fg(Color::Rgb(0x1a, 0x2b, 0x3c))
            .bg(Color::Indexed(236))
            .add_modifier(Modifier::ITALIC | Modifier::UNDERLINED)
    );
    assert_eq!(
        t.error,
        Style::default()
            .fg(Color::LightRed)
            .add_modifier(Modifier::REVERSED | Modifier::DIM)
    );
    // An entry replaces the style wholly: no DarkGray left over.
    assert_eq!(t.border, Style::default());
    assert_eq!(t.event, Style::default().bg(Color::DarkGray));
    assert!(!t.nick_colors);
    // Untouched styles keep their defaults.
    let d = Theme::default();
    assert_eq!(t.nick, d.nick);
    assert_eq!(t.mention, d.mention);

    assert_eq!(
        ui.keys,
        [
            ("ctrl-j", "next-room"),
            ("f5", "help"),
            ("ctrl-n", "none"),
            ("alt-x", "window-10")
        ]
        .map(|(k, a)| (k.to_owned(), a.to_owned()))
    );
}

#[test]
fn ui_defaults_when_absent() {
    let ui = load_str(ACCOUNT).unwrap().ui;
    assert_eq!(ui, UiConfig::default());
    assert!(ui.bell && ui.set_title && ui.show_events);
    assert_eq!((ui.rooms_width, ui.people_width), (18, 22));
    assert_eq!(ui.time_format, "%H:%M");
    assert_eq!(ui.theme, Theme::default());
    assert!(ui.keys.is_empty());
    // Empty tables are the defaults too.
    let ui = load_str(&format!("{ACCOUNT}[ui]\n[theme]\n[keys]\n"))
        .unwrap()
        .ui;
    assert_eq!(ui, UiConfig::default());
}

#[test]
fn theme_keys_are_the_theme_fields() {
    let mut styles: Vec<&str> = raw::THEME_STYLE_KEYS.to_vec();
    styles.push("nick_colors");
    styles.sort_unstable();
    let mut keys = raw::THEME_KEYS.to_vec();
    keys.sort_unstable();
    assert_eq!(styles, keys);
    // Every style field can be set (and `set_theme_style` reaches it).
    let text: String = raw::THEME_STYLE_KEYS
        .iter()
        .map(|k| format!("{k} = \"magenta\"\n"))
        .collect();
    let theme = load_str(&format!("{ACCOUNT}[theme]\n{text}"))
        .unwrap()
        .ui
        .theme;
    let magenta = Style::default().fg(Color::Magenta);
    let all = [
        theme.timestamp,
        theme.nick,
        theme.own_nick,
        theme.highlight,
        theme.action,
        theme.event,
        theme.day_separator,
        theme.unread_marker,
        theme.title,
        theme.status_bar,
        theme.border,
        theme.selected,
        theme.unread,
        theme.mention,
        theme.error,
    ];
    assert_eq!(all.len(), raw::THEME_STYLE_KEYS.len());
    assert!(all.iter().all(|s| *s == magenta), "{theme:?}");
}

#[test]
fn bad_width() {
    assert_eq!(
        ui_err("[ui]\nbell = true\nrooms_width = 81\n"),
        "config.toml:5: ui.rooms_width: expected a width from 0 to 80 \
         (0 hides the room list), found 81"
    );
    assert_eq!(
        ui_err("[ui]\npeople_width = -1\n"),
        "config.toml:4: ui.people_width: expected a width from 0 to 80 \
         (0 hides the participant list), found -1"
    );
    let msg = ui_err("[ui]\nrooms_width = \"wide\"\n");
    assert!(
        msg.starts_with("config.toml:4: ui.rooms_width: invalid type: string"),
        "{msg}"
    );
}

#[test]
fn unknown_ui_and_theme_keys() {
    let e = load_str(&format!(
        "{ACCOUNT}[theme]\nhighlight = \"red\"\nhilight = \"red\"\n"
    ))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "config.toml:5: unknown key \"hilight\" in [theme] (expected one of timestamp, nick, \
         own_nick, nick_colors, highlight, action, event, day_separator, unread_marker, title, \
         status_bar, border, selected, unread, mention, error)"
    );
    assert!(matches!(e, ConfigError::UnknownKey { ref key, .. } if key == "hilight"));
    assert_eq!(
        ui_err("[ui]\nbeep = true\n"),
        "config.toml:4: unknown key \"beep\" in [ui] (expected one of bell, set_title, \
         show_events, rooms_width, people_width, time_format)"
    );
    let msg = ui_err("[tui]\nbell = true\n");
    assert!(
        msg.starts_with("config.toml:3: unknown key \"tui\" in the top level (expected one of default_account, history, accounts, ui, theme, keys, chatting)"),
        "{msg}"
    );
}

#[test]
fn bad_colour() {
    let msg = ui_err("[theme]\n\nhighlight = \"#ffee0 bold\"\n");
    assert!(
        msg.starts_with(
            "config.toml:5: theme.highlight: \"#ffee0\" is not a colour: RGB colours are \
             \"#rrggbb\" with six hex digits (expected a colour name (black, red, "
        ),
        "{msg}"
    );
    assert!(
        msg.contains("white), \"#rrggbb\", a number from 0 to 255, or \"default\")"),
        "{msg}"
    );
    let msg = ui_err("[theme]\nown_nick = \"white on 256\"\n");
    assert!(
        msg.starts_with(
            "config.toml:4: theme.own_nick: \"256\" is not a colour: colour numbers go from 0 to 255"
        ),
        "{msg}"
    );
    let msg = ui_err("[theme]\nown_nick = \"white on purple\"\n");
    assert!(
        msg.starts_with(
            "config.toml:4: theme.own_nick: \"purple\" is not a colour (expected a colour name (black, red,"
        ),
        "{msg}"
    );
    let msg = ui_err("[theme]\ntitle = \"white on\"\n");
    assert!(
        msg.starts_with(
            "config.toml:4: theme.title: \"white on\": \"on\" must be followed by a background colour"
        ),
        "{msg}"
    );
    let msg = ui_err("[theme]\ntitle = \"red blue\"\n");
    assert!(
        msg.starts_with("config.toml:4: theme.title: \"red blue\": two foreground colours"),
        "{msg}"
    );
    let msg = ui_err("[theme]\ntitle = \"  \"\n");
    assert!(
        msg.starts_with("config.toml:4: theme.title: the style is empty"),
        "{msg}"
    );
}

#[test]
fn unknown_style_word() {
    let msg = ui_err("[theme]\nevent = \"gray\"\nmention = \"yellow blink\"\n");
    assert!(
        msg.starts_with(
            "config.toml:5: theme.mention: unknown word \"blink\" in style \"yellow blink\" \
             (a style is \"FG [on BG] [bold] [italic] [underline] [reversed] [dim]\"; colours: \
             a colour name (black, red, "
        ),
        "{msg}"
    );
    // Style entries are checked in file order, not field order.
    let msg = ui_err("[theme]\nmention = \"shiny\"\ntimestamp = \"dull\"\n");
    assert!(msg.starts_with("config.toml:4: theme.mention: "), "{msg}");
    // A style must be a string.
    let msg = ui_err("[theme]\nnick = 3\n");
    assert!(
        msg.starts_with("config.toml:4: theme.nick: invalid type: integer"),
        "{msg}"
    );
}

#[test]
fn nick_colors_wrong_type() {
    let msg = ui_err("[theme]\nnick = \"bold\"\nnick_colors = \"yes\"\n");
    assert!(
        msg.starts_with(
            "config.toml:5: theme.nick_colors: invalid type: string \"yes\", expected a boolean"
        ),
        "{msg}"
    );
    assert_eq!(
        err(&format!("keys = 5\n{ACCOUNT}")),
        "config.toml:1: keys: invalid type: integer `5`, expected a table"
    );
    let msg = ui_err("[ui]\nbell = 1\n");
    assert!(
        msg.starts_with("config.toml:4: ui.bell: invalid type: integer"),
        "{msg}"
    );
}

#[test]
fn unknown_key_name() {
    let msg = ui_err("[keys]\n\"ctrl-j\" = \"next-room\"\n\"hyper-x\" = \"help\"\n");
    assert_eq!(
        msg,
        "config.toml:5: keys.hyper-x: unknown key \"hyper-x\" (like ctrl-n, alt-1, f1, pageup)"
    );
    let msg = ui_err("[keys]\nf99 = \"help\"\n");
    assert!(
        msg.starts_with("config.toml:4: keys.f99: unknown key \"f99\" (like ctrl-n, "),
        "{msg}"
    );
    // Two spellings of one key.
    let msg = ui_err("[keys]\n\"ctrl-j\" = \"next-room\"\n\"C-J\" = \"prev-room\"\n");
    assert_eq!(
        msg,
        "config.toml:5: keys.C-J: \"C-J\" is the same key as \"ctrl-j\" on line 4"
    );
}

#[test]
fn unknown_action() {
    let msg = ui_err("[keys]\n\"f5\" = \"help\"\n\"ctrl-j\" = \"fly\"\n");
    assert!(
        msg.starts_with("config.toml:5: keys.ctrl-j: unknown action \"fly\" for key \"ctrl-j\" (one of submit, quit, next-room,"),
        "{msg}"
    );
    assert!(
        msg.ends_with("window-N); \"none\" unbinds the key"),
        "{msg}"
    );
    let msg = ui_err("[keys]\nf5 = \"window-11\"\n");
    assert!(
        msg.starts_with("config.toml:4: keys.f5: unknown action \"window-11\""),
        "{msg}"
    );
    let msg = ui_err("[keys]\nf5 = 1\n");
    assert!(
        msg.starts_with("config.toml:4: keys.f5: invalid type: integer"),
        "{msg}"
    );
}

#[test]
fn bad_time_format() {
    assert_eq!(
        ui_err("[ui]\ntime_format = \"%H:%Q\"\n"),
        "config.toml:4: ui.time_format: \"%H:%Q\" is not a valid strftime format \
         (e.g. \"%H:%M\", \"%H:%M:%S\" or \"%m-%d %H:%M\"; write %% for a literal %)"
    );
    let msg = ui_err("[ui]\ntime_format = \"%H:%M %\"\n");
    assert!(msg.starts_with("config.toml:4: ui.time_format: "), "{msg}");
    assert!(
        load_str(&format!(
            "{ACCOUNT}[ui]\ntime_format = \"[%d.%m. %H:%M] 100%%\"\n"
        ))
        .is_ok()
    );
}

#[test]
fn focus_settings() {
    let c = load_str(
        "[accounts.work]\njid = \"a@example.org\"\nfocus = [\"conference.meet.example\", \"r@conference.x\"]\n\
         focus_jid = \"focus.meet.example\"\nfocus_http = \"https://meet.example/\"\n",
    )
    .unwrap();
    let f = &c.account.focus;
    assert_eq!(f.entries, ["conference.meet.example", "r@conference.x"]);
    assert_eq!(
        f.jid.as_ref().map(|j| j.to_string()).as_deref(),
        Some("focus.meet.example")
    );
    assert_eq!(f.http.as_deref(), Some("https://meet.example/"));
    let c = load_str("[accounts.work]\njid = \"a@example.org\"\n").unwrap();
    assert_eq!(c.account.focus, Default::default());
    let msg = err("[accounts.work]\njid = \"a@example.org\"\nfocus = [\"ok.example\", \"a@@b\"]\n");
    assert!(
        msg.starts_with(
            "config.toml:3: accounts.work.focus[1]: \"a@@b\" is not a MUC domain or room JID"
        ),
        "{msg}"
    );
    let msg = err("[accounts.work]\njid = \"a@example.org\"\nfocus_http = \"ftp://x\"\n");
    assert!(
        msg.starts_with("config.toml:3: accounts.work.focus_http: \"ftp://x\" is not an http"),
        "{msg}"
    );
}

#[test]
fn chatting_section() {
    let text = "[accounts.a]\njid = \"a@example.org\"\n[chatting]\npublish = false\nnever = [\"*@Conference.work.example\", \"secret@*\"]\n";
    let config = load_str(text).unwrap();
    assert!(!config.chatting.publish);
    assert_eq!(
        config.chatting.never,
        ["*@conference.work.example", "secret@*"]
    );
    let config = load_str("[accounts.a]\njid = \"a@example.org\"\n").unwrap();
    assert_eq!(config.chatting, crate::config::ChattingConfig::default());
    assert!(config.chatting.publish);
    let msg = err("[accounts.a]\njid = \"a@example.org\"\n[chatting]\nnever = [\" \"]\n");
    assert!(msg.starts_with("config.toml:4:"), "{msg}");
    assert!(msg.contains("chatting.never[0]"), "{msg}");
    let msg = err("[chatting]\npublsh = true\n");
    assert!(
        msg.contains("unknown key \"publsh\" in [chatting] (expected one of publish, never)"),
        "{msg}"
    );
}

#[test]
fn resolver_from_file_or_cli() {
    let base = "[accounts.a]\njid = \"a@example.org\"\n";
    assert_eq!(load_str(base).unwrap().account.resolver, None);
    let a = load_str(&format!("{base}resolver = \"127.0.0.1:5353\"\n")).unwrap();
    assert_eq!(a.account.resolver, Some("127.0.0.1:5353".parse().unwrap()));
    let a = load_str(&format!("{base}resolver = \"::1\"\n")).unwrap();
    assert_eq!(a.account.resolver, Some("[::1]:53".parse().unwrap()));
    let msg = err(&format!("{base}resolver = \"dns.example\"\n"));
    assert!(
        msg.starts_with("config.toml:3: accounts.a.resolver: "),
        "{msg}"
    );
    assert!(msg.contains("IP:PORT"), "{msg}");
    let cli = CliOverrides {
        resolver: Some("10.0.0.1:53".into()),
        ..Default::default()
    };
    let a = load_cli(&format!("{base}resolver = \"127.0.0.1:5353\"\n"), &cli).unwrap();
    assert_eq!(a.account.resolver, Some("10.0.0.1:53".parse().unwrap()));
    let cli = CliOverrides {
        resolver: Some("nope".into()),
        ..Default::default()
    };
    assert!(err_cli(base, &cli).contains("--resolver"));
}
