use super::*;

fn all_specs() -> impl Iterator<Item = &'static CommandSpec> {
    COMMANDS.iter().chain(WAIT_FORMS.iter())
}

#[test]
fn has_every_command() {
    let names: Vec<&str> = COMMANDS.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "join",
            "part",
            "say",
            "correct",
            "msg",
            "omemo",
            "react",
            "reply",
            "retract",
            "moderate",
            "close",
            "read",
            "nick",
            "topic",
            "status",
            "config",
            "rooms",
            "search",
            "info",
            "browse",
            "whois",
            "create",
            "destroy",
            "kick",
            "ban",
            "unban",
            "voice",
            "devoice",
            "role",
            "affiliation",
            "members",
            "admins",
            "owners",
            "outcasts",
            "moderators",
            "request-voice",
            "invite",
            "invitations",
            "accept",
            "decline",
            "bookmark",
            "bookmarks",
            "unbookmark",
            "roster",
            "add",
            "remove",
            "approve",
            "deny",
            "where",
            "chatting",
            "find",
            "export",
            "clear",
            "ignore",
            "unignore",
            "ignored",
            "upload",
            "save",
            "open",
            "cancel",
            "call",
            "answer",
            "reject",
            "hangup",
            "mute",
            "unmute",
            "deafen",
            "undeafen",
            "devices",
            "denoise",
            "record",
            "callconfig",
            "wait",
            "sleep",
            "me",
            "win",
            "layout",
            "xmlconsole",
            "help",
            "quit"
        ]
    );
}

#[test]
fn usages_are_exact() {
    let usage = |n: &str| lookup(n).unwrap().usage;
    assert_eq!(
        usage("join"),
        "/join ROOM[/NICK] [PASSWORD] [--focus [FOCUS-JID]|--focus-http URL] [--prop KEY=VALUE] \
             [--protocol muc|conference|gc] [--private] [--password P]"
    );
    assert_eq!(usage("part"), "/part ROOM [REASON]");
    assert_eq!(usage("say"), "/say ROOM TEXT");
    assert_eq!(usage("msg"), "/msg JID-or-ROOM/NICK [TEXT]");
    assert_eq!(usage("close"), "/close [JID]");
    assert_eq!(usage("read"), "/read [JID]");
    assert_eq!(usage("nick"), "/nick ROOM NEWNICK");
    assert_eq!(usage("topic"), "/topic ROOM TEXT");
    assert_eq!(
        usage("status"),
        "/status ROOM|all available|chat|away|xa|dnd [TEXT]"
    );
    assert_eq!(
        usage("wait").lines().collect::<Vec<_>>(),
        [
            "/wait message ROOM [--from NICK] [--contains TEXT] [--timeout SECS]",
            "/wait occupant ROOM NICK [--timeout SECS]",
            "/wait event NAME [KEY=VALUE ...] [--timeout SECS]",
        ]
    );
    assert_eq!(usage("sleep"), "/sleep SECS");
    assert_eq!(usage("help"), "/help [COMMAND]");
    assert_eq!(usage("quit"), "/quit");
}

#[test]
fn wait_usage_is_its_forms() {
    let wait = lookup("wait").unwrap();
    let forms: Vec<&str> = WAIT_FORMS.iter().map(|f| f.usage).collect();
    assert_eq!(wait.usage.lines().collect::<Vec<_>>(), forms);
    let names: Vec<&str> = WAIT_FORMS.iter().map(|f| f.name).collect();
    assert_eq!(names, WAIT_KINDS);
    assert_eq!(wait.args, &[arg("KIND", ArgKind::Choice(WAIT_KINDS))]);
    // Every form's options are options of /wait itself.
    for form in WAIT_FORMS {
        for opt in form.options {
            assert!(wait.options.contains(opt), "{}", opt.name);
        }
    }
}

#[test]
fn table_is_consistent() {
    let mut seen = Vec::new();
    for spec in COMMANDS {
        for name in std::iter::once(&spec.name).chain(spec.aliases) {
            assert!(!seen.contains(name), "duplicate name /{name}");
            assert_eq!(*name, name.to_ascii_lowercase());
            assert!(!name.starts_with('/'));
            seen.push(name);
        }
    }
    for spec in all_specs() {
        assert!(!spec.help.is_empty() && !spec.help.contains('\n'));
        assert!(spec.usage.starts_with('/'), "{}", spec.usage);
        let mut optional = false;
        for (i, a) in spec.args.iter().enumerate() {
            // Usage mentions every argument.
            let shown = match a.kind {
                ArgKind::Choice(words) if a.name == "SHOW" => words.join("|"),
                ArgKind::Choice(words) if spec.name == "wait" => words[0].to_string(),
                _ => a.name.to_string(),
            };
            assert!(spec.usage.contains(&shown), "{}: {shown}", spec.name);
            // Rest and KeyValues come last; no required after optional.
            if matches!(a.kind, ArgKind::Rest | ArgKind::KeyValues) {
                assert_eq!(i, spec.args.len() - 1, "{}", spec.name);
            }
            assert!(!(optional && a.required), "{}", spec.name);
            optional |= !a.required;
            if !a.required {
                // Its own group, or the end of the one it goes with
                // (`/devices [input|output SPEC]`).
                let grouped = i > 0 && spec.usage.contains(&format!(" {}]", a.name));
                assert!(
                    spec.usage.contains(&format!("[{}", a.name)) || grouped,
                    "{}: {}",
                    spec.name,
                    a.name
                );
            }
        }
        // Options are parsed token by token, so no Rest with options.
        if !spec.options.is_empty() {
            assert!(!spec.args.iter().any(|a| a.kind == ArgKind::Rest));
        }
        for opt in spec.options {
            assert!(opt.name.starts_with("--"));
            assert!(spec.usage.contains(&option_line(opt)), "{}", opt.name);
        }
    }
}

#[test]
fn lookup_finds_names_and_aliases() {
    for spec in COMMANDS {
        assert_eq!(lookup(spec.name).unwrap().name, spec.name);
    }
    assert_eq!(lookup("j").unwrap().name, "join");
    assert_eq!(lookup("leave").unwrap().name, "part");
    assert_eq!(lookup("query").unwrap().name, "msg");
    assert_eq!(lookup("exit").unwrap().name, "quit");
    assert_eq!(lookup("subject").unwrap().name, "topic");
    assert_eq!(lookup("JOIN").unwrap().name, "join");
    assert!(lookup("jion").is_none());
    assert!(lookup("").is_none());
    assert!(lookup("/join").is_none());
}

#[test]
fn suggestions() {
    assert_eq!(suggest("jion"), Some("join"));
    assert_eq!(suggest("jon"), Some("join"));
    assert_eq!(suggest("qiut"), Some("quit"));
    assert_eq!(suggest("stauts"), Some("status"));
    assert_eq!(suggest("sta"), Some("status"));
    assert_eq!(suggest("topc"), Some("topic"));
    assert_eq!(suggest("xyzzy"), None);
    assert_eq!(suggest(""), None);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("ab", "ba"), 1);
    assert_eq!(edit_distance("", "abc"), 3);
}

#[test]
fn help_lists_every_command() {
    let text = help_text(None).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut long = 0;
    for spec in COMMANDS {
        let i = lines
            .iter()
            .position(|l| l.trim_start().starts_with(&synopsis(spec)))
            .unwrap_or_else(|| panic!("no line for /{} in\n{text}", spec.name));
        if synopsis(spec).chars().count() > HELP_COLUMN {
            // Too long to share: the help text goes on the next line.
            long += 1;
            assert!(lines[i + 1].trim_start().starts_with(spec.help), "{text}");
        } else {
            assert!(lines[i].contains(spec.help), "{}", lines[i]);
        }
    }
    assert!(long >= 1, "/join's synopsis is long");
    assert!(text.contains("/wait message|occupant|event ..."));
    assert!(text.contains("/status ROOM|all available|chat|away|xa|dnd [TEXT]"));
    // One line per command (two for the long ones), a header and a footer.
    assert_eq!(text.lines().count(), COMMANDS.len() + long + 2);
}

#[test]
fn help_for_one_command() {
    let join = help_text(Some("join")).unwrap();
    assert!(
        join.starts_with(&format!(
            "Usage: {}\nAliases: /j\n\
                 Join a room, optionally with a nickname and a room password\nOptions:\n",
            lookup("join").unwrap().usage
        )),
        "{join}"
    );
    assert!(
        join.contains("\n  --protocol muc|conference|gc  speak this protocol"),
        "{join}"
    );
    // With a slash, by alias, any case.
    assert_eq!(help_text(Some("/j")).unwrap(), join);
    assert_eq!(help_text(Some("JOIN")).unwrap(), join);

    let wait = help_text(Some("wait")).unwrap();
    for line in lookup("wait").unwrap().usage.lines() {
        assert!(wait.contains(&format!("Usage: {line}")), "{wait}");
    }
    for form in WAIT_FORMS {
        assert!(wait.contains(form.help), "{wait}");
    }
    assert!(wait.contains("Options:"));
    assert!(wait.contains("--from NICK"));
    assert!(wait.contains("--contains TEXT"));
    assert!(wait.contains("--timeout SECS"));
    assert!(wait.contains(OPT_TIMEOUT.help));

    let quit = help_text(Some("quit")).unwrap();
    assert!(quit.contains("Aliases: /exit"));
    assert!(!quit.contains("Options:"));

    for spec in COMMANDS {
        let text = help_text(Some(spec.name)).unwrap();
        assert!(text.contains(spec.help));
        for alias in spec.aliases {
            assert!(text.contains(&format!("/{alias}")));
        }
    }
}

#[test]
fn help_for_unknown_command() {
    assert_eq!(
        help_text(Some("jion")).unwrap_err(),
        "unknown command /jion (did you mean /join?)"
    );
    assert_eq!(
        help_text(Some("/frobnicate")).unwrap_err(),
        "unknown command /frobnicate (type /help for a list)"
    );
}

#[test]
fn describe_mentions_examples() {
    assert!(
        ArgKind::Room
            .describe()
            .contains("room@conference.example.org")
    );
    assert!(ArgKind::Jid.describe().contains("user@example.org"));
    assert_eq!(ArgKind::Seconds.describe(), "a number of seconds");
}
