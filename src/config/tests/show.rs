//! Tests of the `password` key, its warning, and `--print-config`'s
//! rendering (which must load back into the same configuration).

use super::*;

const WITH_PASSWORD: &str = r#"
[accounts.work]
jid = "alice@example.org"
password = "s3cret \"quoted\""
"#;

#[test]
fn password_key_is_a_password_source() {
    let config = load_str(WITH_PASSWORD).unwrap();
    let PasswordSource::File(pw) = &config.account.password else {
        panic!("not a file password: {:?}", config.account.password);
    };
    assert_eq!(pw.0.expose(), "s3cret \"quoted\"");
    assert_eq!(
        resolve_password(&config.account.password).unwrap().expose(),
        "s3cret \"quoted\""
    );
    // Never in Debug output.
    assert!(!format!("{config:?}").contains("s3cret"));
}

#[test]
fn password_key_conflicts_and_empties_name_the_line() {
    let text = "[accounts.a]\njid = \"a@example.org\"\npassword_env = \"PW\"\npassword = \"x\"\n";
    assert_eq!(
        err(text),
        "config.toml:4: accounts.a.password: set either password_env or password, not both"
    );
    let text = "[accounts.a]\njid = \"a@example.org\"\npassword = \"x\"\n\
                password_command = \"c\"\npassword_env = \"PW\"\n";
    assert_eq!(
        err(text),
        "config.toml:4: accounts.a.password_command: set only one of password, \
         password_command, password_env"
    );
    let text = "[accounts.a]\njid = \"a@example.org\"\npassword = \"\"\n";
    assert_eq!(
        err(text),
        "config.toml:3: accounts.a.password: the password is empty"
    );
}

#[test]
fn password_env_flag_wins_over_the_password_key() {
    let cli = CliOverrides {
        password_env: Some("CONFAB_PW".into()),
        ..Default::default()
    };
    let config = load_cli(WITH_PASSWORD, &cli).unwrap();
    assert_eq!(
        config.account.password,
        PasswordSource::Env("CONFAB_PW".into())
    );
}

#[cfg(unix)]
#[test]
fn readable_file_with_a_password_warns() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, WITH_PASSWORD).unwrap();
    let load = || {
        let cli = CliOverrides {
            config: Some(path.clone()),
            ..Default::default()
        };
        load_from_str(WITH_PASSWORD, &path, &cli, dirs()).unwrap()
    };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warning = password_file_warning(&load()).expect("a warning");
    assert!(warning.contains("mode 0644"), "{warning}");
    assert!(warning.contains("account work"), "{warning}");
    assert!(!warning.contains("s3cret"), "{warning}");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(password_file_warning(&load()), None);

    // No password in the file: no warning, whatever the mode.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = "[accounts.a]\njid = \"a@example.org\"\npassword_command = \"pass x\"\n";
    let config = load_from_str(text, &path, &CliOverrides::default(), dirs()).unwrap();
    assert_eq!(password_file_warning(&config), None);
}

/// The sample with every section, theme styles in every shape.
const EVERYTHING: &str = r##"
[history]
enabled = false
load = 7

[chatting]
publish = false
never = ["*@conference.work.example"]

[accounts."odd name"]
jid = "alice@example.org"
server = "[::1]:5223"
resolver = "192.0.2.53:53"
nicks = ["alice", "alice_"]
password_command = "pass show \"xmpp\""
tls = "direct"
ca_file = "/etc/confab/ca.pem"
resource = "laptop"
autojoin = ["room@conference.example.org", "dev@conference.example.org/alice2"]
search_service = "search.example.org"
call_service = "av.example.org"
focus = ["conference.meet.example"]
focus_http = "https://meet.example/conference-request/v1"

[ui]
bell = false
rooms_width = 0
time_format = "%H:%M:%S"

[theme]
own_nick = "white on blue bold"
timestamp = "#1a2b3c on 236 italic underline"
error = "LightRed reversed dim"
border = "default"
event = "default on dark-grey"
nick_colors = false

[keys]
"ctrl-j" = "next-room"
"ctrl-n" = "none"
"##;

#[test]
fn printed_config_loads_back_the_same() {
    for text in [EVERYTHING, FULL, "[accounts.a]\njid = \"a@example.org\"\n"] {
        let config = load_str(text).unwrap();
        let printed = render_config(&config);
        let again = load_str(&printed).unwrap_or_else(|e| panic!("{e}\n{printed}"));
        assert_eq!(again, config, "{printed}");
    }
}

#[test]
fn printed_config_masks_the_password_and_shows_the_command() {
    let printed = render_config(&load_str(WITH_PASSWORD).unwrap());
    assert!(printed.contains("password = \"********\""), "{printed}");
    assert!(!printed.contains("s3cret"), "{printed}");
    let printed = render_config(&load_str(FULL).unwrap());
    assert!(
        printed.contains("password_command = \"pass show xmpp/alice\""),
        "{printed}"
    );
    // The default account is the one shown.
    assert!(printed.contains("[accounts.work]"), "{printed}");
    assert!(!printed.contains("[accounts.home]"), "{printed}");
}
