//! Tests of accounts and account-wide settings: the full file, defaults,
//! which account is used, CLI overrides, JIDs, nicks and service JIDs,
//! [history], focus, [chatting] and the resolver.

use super::*;

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
            log_dir: PathBuf::from("/nonexistent/confab-test/cache"),
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

#[test]
fn files_section() {
    let text = "[accounts.a]\njid = \"a@example.org\"\n[files]\ndownload_dir = \"/srv/in\"\nmax_download_bytes = 5000\nopener = [\"firefox\", \"--new-tab\"]\n";
    let config = load_str(text).unwrap();
    assert_eq!(
        config.files.download_dir,
        std::path::PathBuf::from("/srv/in")
    );
    assert_eq!(config.files.max_download, 5000);
    assert_eq!(config.files.opener, ["firefox", "--new-tab"]);
    let defaults = load_str("[accounts.a]\njid = \"a@example.org\"\n").unwrap();
    assert_eq!(defaults.files.max_download, 100_000_000);
    assert_eq!(defaults.files.opener, ["xdg-open"]);
    let e = err("[accounts.a]\njid = \"a@example.org\"\n[files]\nopener = []\n");
    assert!(
        e.contains("config.toml:4") && e.contains("name a program"),
        "{e}"
    );
    let e = err("[accounts.a]\njid = \"a@example.org\"\n[files]\nmax_download_bytes = 0\n");
    assert!(e.contains("files.max_download_bytes"), "{e}");
}
