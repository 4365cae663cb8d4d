use super::*;

fn r(jid: &str) -> BareJid {
    BareJid::new(jid).unwrap()
}

fn ok(line: &str) -> Command {
    parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

/// (column, message) of a failing parse.
fn err(line: &str) -> (usize, String) {
    match parse(line) {
        Ok(cmd) => panic!("{line:?} parsed as {cmd:?}"),
        Err(e) => {
            // The message always names the column it reports.
            assert!(e.message.contains(&format!("column {}", e.column)), "{e}");
            assert_eq!(e.to_string(), e.message);
            (e.column, e.message)
        }
    }
}

fn texts(line: &str) -> Vec<String> {
    tokenize(line)
        .unwrap()
        .into_iter()
        .map(|t| t.text)
        .collect()
}

fn wait(kind: WaitKind, secs: f64) -> Command {
    Command::Wait(Wait {
        kind,
        timeout: Duration::from_secs_f64(secs),
    })
}

// ---- tokenize ----

#[test]
fn tokenize_splits_on_whitespace_with_columns() {
    let tokens = tokenize("  /say \troom@c  hi ").unwrap();
    let got: Vec<(&str, usize, usize)> = tokens
        .iter()
        .map(|t| (t.text.as_str(), t.column, t.end))
        .collect();
    assert_eq!(got, [("/say", 2, 6), ("room@c", 8, 14), ("hi", 16, 18)]);
    assert!(tokens.iter().all(|t| !t.quoted));
    assert!(tokenize("").unwrap().is_empty());
    assert!(tokenize("   ").unwrap().is_empty());
}

#[test]
fn tokenize_quotes_and_escapes() {
    assert_eq!(texts(r#"a "b c"  d"#), ["a", "b c", "d"]);
    assert_eq!(texts(r#"a"b c"d"#), ["ab cd"]);
    assert_eq!(texts(r#""" x"#), ["", "x"]);
    assert_eq!(
        texts(r#"say \"hi\" "a \"q\" b""#),
        ["say", "\"hi\"", "a \"q\" b"]
    );
    assert_eq!(
        texts(r#"back\\slash "\\" \n"#),
        ["back\\slash", "\\", "\\n"]
    );
    assert_eq!(texts("trailing\\"), ["trailing\\"]);
    let tokens = tokenize(r#"x "y z""#).unwrap();
    assert_eq!((tokens[1].column, tokens[1].end), (2, 7));
    assert!(tokens[1].quoted && !tokens[0].quoted);
}

#[test]
fn tokenize_counts_columns_in_chars() {
    let tokens = tokenize("é \"ü x\" ñ").unwrap();
    let got: Vec<(&str, usize)> = tokens.iter().map(|t| (t.text.as_str(), t.column)).collect();
    assert_eq!(got, [("é", 0), ("ü x", 2), ("ñ", 8)]);
}

#[test]
fn tokenize_unterminated_quote() {
    let e = tokenize(r#"a "b c"#).unwrap_err();
    assert_eq!(e.column, 2);
    assert_eq!(e.message, "unterminated quote starting at column 2");
    // An escaped quote does not close.
    assert_eq!(tokenize(r#"x "a\""#).unwrap_err().column, 2);
    assert_eq!(tokenize(r#"ab""#).unwrap_err().column, 2);
}

// ---- general ----

#[test]
fn must_start_with_slash() {
    assert_eq!(
        err("hello"),
        (0, "expected a command starting with / at column 0".into())
    );
    assert_eq!(err("  hi /join").0, 2);
    assert_eq!(err("").0, 0);
    assert_eq!(err("   ").0, 0);
    assert_eq!(err("\n").0, 0);
    assert_eq!(
        err("/"),
        (1, "expected a command name after / at column 1".into())
    );
    assert_eq!(err("  / join").0, 3);
}

#[test]
fn unknown_commands() {
    assert_eq!(
        err("/jion room@c"),
        (
            0,
            "unknown command /jion (did you mean /join?) at column 0".into()
        )
    );
    assert_eq!(
        err("  /frobnicate"),
        (
            2,
            "unknown command /frobnicate (type /help for a list) at column 2".into()
        )
    );
    // `//text` is not special here.
    assert_eq!(
        err("//hello there").1,
        "unknown command //hello (type /help for a list) at column 0"
    );
    // Misspelt alias.
    assert!(err("/qiut").1.contains("did you mean /quit?"));
}

#[test]
fn leading_whitespace_case_and_line_endings() {
    assert_eq!(ok("   /quit"), Command::Quit);
    assert_eq!(ok("/QUIT"), Command::Quit);
    assert_eq!(ok("/quit\r\n"), Command::Quit);
    assert_eq!(ok("/quit   "), Command::Quit);
    assert_eq!(
        ok("/say r@c hi\r\n"),
        Command::Say {
            room: r("r@c"),
            text: "hi".into()
        }
    );
    assert_eq!(
        ok("  /Join r@c"),
        Command::Join {
            room: r("r@c"),
            nick: None,
            password: None,
            options: Default::default(),
        }
    );
}

#[test]
fn extra_arguments() {
    assert_eq!(
        err("/quit now"),
        (
            5 + 1,
            "/quit: unexpected extra argument \"now\" at column 6".into()
        )
    );
    assert_eq!(err("/join r@c/n pw extra").0, 15);
    assert_eq!(err("/nick r@c bob  smith").0, 15);
    assert_eq!(err("/sleep 1 2").0, 9);
    assert_eq!(err("/help join part").0, 11);
    assert_eq!(
        err("/wait occupant r@c bob carol").1,
        "/wait occupant: unexpected extra argument \"carol\" at column 23"
    );
}

// ---- join ----

#[test]
fn join() {
    assert_eq!(
        ok("/join room@conf.example.org/nick secret"),
        Command::Join {
            room: r("room@conf.example.org"),
            nick: Some("nick".into()),
            password: Some("secret".into()),
            options: Default::default(),
        }
    );
    assert_eq!(
        ok("/join room@conf"),
        Command::Join {
            room: r("room@conf"),
            nick: None,
            password: None,
            options: Default::default(),
        }
    );
    assert_eq!(
        ok(r#"/j room@conf/a/b "pass word""#),
        Command::Join {
            room: r("room@conf"),
            nick: Some("a/b".into()),
            password: Some("pass word".into()),
            options: Default::default(),
        }
    );
    // A quoted nick with spaces.
    assert_eq!(
        ok(r#"/join "room@conf/Mister X""#),
        Command::Join {
            room: r("room@conf"),
            nick: Some("Mister X".into()),
            password: None,
            options: Default::default(),
        }
    );
}

#[test]
fn join_errors() {
    assert_eq!(
        err("/join"),
        (
            6,
            "/join: expected ROOM[/NICK] (a room JID like room@conference.example.org) at column 6"
                .into()
        )
    );
    assert_eq!(err("/join   ").0, 6);
    assert_eq!(err("/j").0, 3);
    let (column, message) = err("/join conf.example.org");
    assert_eq!(column, 6);
    assert_eq!(
        message,
        "/join: expected ROOM[/NICK] (a room JID like room@conference.example.org) \
             at column 6, found \"conf.example.org\": a room JID needs a room name before the @"
    );
    let (column, message) = err("/join room@conf/");
    assert_eq!(column, 6);
    assert!(
        message.ends_with("found \"room@conf/\": the nickname is empty"),
        "{message}"
    );
    assert_eq!(err("/join @conf").0, 6);
    assert_eq!(err("/join a@b@c").0, 6);
    assert_eq!(err("/join r@c \"\"").0, 10);
    assert_eq!(
        err("/join \"r@c").1,
        "/join: unterminated quote starting at column 6"
    );
}

// ---- part ----

#[test]
fn part() {
    assert_eq!(
        ok("/part r@c"),
        Command::Part {
            room: r("r@c"),
            reason: None
        }
    );
    assert_eq!(
        ok("/part r@c   gone  fishing, \"back\" soon"),
        Command::Part {
            room: r("r@c"),
            reason: Some("gone  fishing, \"back\" soon".into())
        }
    );
    assert_eq!(
        ok("/leave r@c \"bye  now\""),
        Command::Part {
            room: r("r@c"),
            reason: Some("bye  now".into())
        }
    );
    assert_eq!(
        ok("/part r@c \"\""),
        Command::Part {
            room: r("r@c"),
            reason: None
        }
    );
    assert_eq!(err("/part").0, 6);
    assert!(
        err("/part r@c/nick")
            .1
            .contains("a room JID has no /NICK part here")
    );
}

// ---- correct ----

#[test]
fn correct_and_its_alias() {
    let correct = |text: &str| Command::Correct {
        room: r("r@c"),
        text: text.into(),
    };
    assert_eq!(ok("/correct r@c hello  world"), correct("hello  world"));
    assert_eq!(ok("/edit r@c fixed"), correct("fixed"));
    assert_eq!(ok(r#"/correct r@c "  x ""#), correct("  x "));
    assert!(err("/correct r@c").1.contains("TEXT"));
    assert!(err("/correct").1.contains("ROOM"));
    assert_eq!(ok("/correct r@c x").name(), "correct");
}

// ---- say ----

#[test]
fn say_keeps_the_rest_verbatim() {
    let say = |text: &str| Command::Say {
        room: r("r@c"),
        text: text.into(),
    };
    assert_eq!(ok("/say r@c hello"), say("hello"));
    assert_eq!(ok("/say r@c  hello   world  "), say("hello   world  "));
    assert_eq!(ok("/say r@c \t x"), say("x"));
    // One fully quoted word is unquoted.
    assert_eq!(ok(r#"/say r@c "  hi  there ""#), say("  hi  there "));
    assert_eq!(ok(r#"/say r@c "say \"hi\"""#), say("say \"hi\""));
    assert_eq!(ok(r#"/say r@c "hi"   "#), say("hi"));
    // Anything else is verbatim: several words, partial quotes,
    // unbalanced quotes, backslashes, things that look like options.
    assert_eq!(ok(r#"/say r@c "a" "b""#), say(r#""a" "b""#));
    assert_eq!(ok(r#"/say r@c "a"b"#), say(r#""a"b"#));
    assert_eq!(ok(r#"/say r@c he said "hi"#), say(r#"he said "hi"#));
    assert_eq!(ok(r#"/say r@c "unterminated"#), say(r#""unterminated"#));
    assert_eq!(ok(r#"/say r@c C:\dir\ \"x\""#), say(r#"C:\dir\ \"x\""#));
    assert_eq!(ok("/say r@c --timeout 5"), say("--timeout 5"));
    assert_eq!(ok("/say r@c héllo wörld"), say("héllo wörld"));
}

#[test]
fn say_errors() {
    assert_eq!(
        err("/say r@c"),
        (
            9,
            "/say: expected TEXT (the rest of the line) at column 9".into()
        )
    );
    assert_eq!(err("/say r@c    ").0, 9);
    assert_eq!(
        err(r#"/say r@c """#),
        (
            9,
            "/say: expected TEXT (the rest of the line) at column 9, found \"\": it is empty"
                .into()
        )
    );
    assert_eq!(err("/say").0, 5);
    assert_eq!(err("/say hello world").0, 5);
}

// ---- msg ----

#[test]
fn msg() {
    assert_eq!(
        ok("/msg bob@example.org hi  there"),
        Command::Msg {
            to: Jid::new("bob@example.org").unwrap(),
            text: "hi  there".into()
        }
    );
    let cmd = ok("/query room@conf/bob the nick");
    assert_eq!(
        cmd,
        Command::Msg {
            to: Jid::new("room@conf/bob").unwrap(),
            text: "the nick".into()
        }
    );
    let Command::Msg { to, .. } = cmd else {
        unreachable!()
    };
    assert!(to.is_full());
    let (column, message) = err("/msg @example.org hi");
    assert_eq!(column, 5);
    assert!(
        message.starts_with("/msg: expected JID-or-ROOM/NICK (a JID like user@example.org"),
        "{message}"
    );
    assert_eq!(err("/msg bob@example.org").0, 21);
    assert_eq!(err("/msg").0, 5);
}

// ---- nick ----

#[test]
fn nick() {
    assert_eq!(
        ok("/nick r@c alice2"),
        Command::Nick {
            room: r("r@c"),
            nick: "alice2".into()
        }
    );
    assert_eq!(
        ok(r#"/nick r@c "Alice Liddell""#),
        Command::Nick {
            room: r("r@c"),
            nick: "Alice Liddell".into()
        }
    );
    assert_eq!(
        err("/nick r@c"),
        (
            10,
            "/nick: expected NEWNICK (a nickname) at column 10".into()
        )
    );
    assert_eq!(
        err(r#"/nick r@c """#),
        (
            10,
            "/nick: expected NEWNICK (a nickname) at column 10, found \"\": the nickname is empty"
                .into()
        )
    );
    assert_eq!(err("/nick alice").0, 6);
}

// ---- topic ----

#[test]
fn topic() {
    let topic = Command::Topic {
        room: r("r@c"),
        text: "Welcome,  all!".into(),
    };
    assert_eq!(ok("/topic r@c Welcome,  all!"), topic);
    assert_eq!(ok("/subject r@c Welcome,  all!"), topic);
    assert_eq!(err("/topic r@c").0, 11);
    assert_eq!(err("/topic r@c \"\"").0, 11);
}

// ---- status ----

#[test]
fn status() {
    assert_eq!(
        ok("/status all away back soon"),
        Command::Status {
            target: StatusTarget::All,
            show: Show::Away,
            text: Some("back soon".into())
        }
    );
    assert_eq!(
        ok("/status room@c dnd"),
        Command::Status {
            target: StatusTarget::Room(r("room@c")),
            show: Show::Dnd,
            text: None
        }
    );
    for (word, show) in [
        ("available", Show::Available),
        ("chat", Show::Chat),
        ("away", Show::Away),
        ("xa", Show::Xa),
        ("dnd", Show::Dnd),
        ("AWAY", Show::Away),
    ] {
        let Command::Status { show: got, .. } = ok(&format!("/status ALL {word}")) else {
            unreachable!()
        };
        assert_eq!(got, show);
    }
}

#[test]
fn status_errors() {
    assert_eq!(
        err("/status room@c busy"),
        (
            15,
            "/status: expected one of available, chat, away, xa, dnd at column 15, found \"busy\""
                .into()
        )
    );
    assert_eq!(
        err("/status all"),
        (
            12,
            "/status: expected one of available, chat, away, xa, dnd at column 12".into()
        )
    );
    let (column, message) = err("/status away");
    assert_eq!(column, 8);
    assert!(message.starts_with("/status: expected ROOM|all (a room JID like room@conference.example.org, or all) at column 8, found \"away\""), "{message}");
}

// ---- wait ----

#[test]
fn wait_message() {
    assert_eq!(
        ok(r#"/wait message r@c --from bob --contains "hi there" --timeout 5"#),
        wait(
            WaitKind::Message {
                room: r("r@c"),
                from: Some("bob".into()),
                contains: Some("hi there".into())
            },
            5.0
        )
    );
    assert_eq!(
        ok("/wait message r@c"),
        Command::Wait(Wait {
            kind: WaitKind::Message {
                room: r("r@c"),
                from: None,
                contains: None
            },
            timeout: DEFAULT_WAIT,
        })
    );
    // Options anywhere after the command name, `=` form too.
    assert_eq!(
        ok("/wait --timeout=2.5 message --contains=x r@c"),
        wait(
            WaitKind::Message {
                room: r("r@c"),
                from: None,
                contains: Some("x".into())
            },
            2.5
        )
    );
    // An option's value may itself start with --.
    assert_eq!(
        ok("/wait message r@c --contains --x"),
        Command::Wait(Wait {
            kind: WaitKind::Message {
                room: r("r@c"),
                from: None,
                contains: Some("--x".into())
            },
            timeout: DEFAULT_WAIT,
        })
    );
}

#[test]
fn wait_occupant_and_event() {
    assert_eq!(
        ok("/wait occupant r@c bob --timeout 0.5"),
        wait(
            WaitKind::Occupant {
                room: r("r@c"),
                nick: "bob".into()
            },
            0.5
        )
    );
    assert_eq!(
        ok("/wait event reconnected"),
        Command::Wait(Wait {
            kind: WaitKind::Event {
                name: "reconnected".into(),
                fields: vec![]
            },
            timeout: DEFAULT_WAIT,
        })
    );
    let field = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        ok(r#"/wait event occupant room=r@c --timeout 3 action=nick "text=a = b" empty="#),
        wait(
            WaitKind::Event {
                name: "occupant".into(),
                fields: vec![
                    field("room", "r@c"),
                    field("action", "nick"),
                    field("text", "a = b"),
                    field("empty", ""),
                ]
            },
            3.0
        )
    );
    // Quoted words and words after `--` are never options.
    assert_eq!(
        ok(r#"/wait event "--timeout""#),
        Command::Wait(Wait {
            kind: WaitKind::Event {
                name: "--timeout".into(),
                fields: vec![]
            },
            timeout: DEFAULT_WAIT,
        })
    );
    assert_eq!(
        ok("/wait --timeout 1 event -- --odd x=--y"),
        wait(
            WaitKind::Event {
                name: "--odd".into(),
                fields: vec![field("x", "--y")]
            },
            1.0
        )
    );
}

#[test]
fn wait_errors() {
    assert_eq!(
        err("/wait"),
        (
            6,
            "/wait: expected one of message, occupant, event at column 6".into()
        )
    );
    assert_eq!(
        err("/wait messages r@c").1,
        "/wait: expected one of message, occupant, event at column 6, found \"messages\""
    );
    assert_eq!(
        err("/wait --frm bob message r@c"),
        (
            6,
            "/wait: unknown option --frm (expected --from, --contains, --timeout) at column 6"
                .into()
        )
    );
    assert_eq!(
            err("/wait message r@c --frm bob"),
            (
                18,
                "/wait message: unknown option --frm (expected --from, --contains, --timeout) at column 18"
                    .into()
            )
        );
    assert_eq!(
        err("/wait occupant r@c bob --from x"),
        (
            23,
            "/wait occupant: option --from does not apply here (expected --timeout) at column 23"
                .into()
        )
    );
    // Given before the form was known, checked once it is.
    assert_eq!(err("/wait --contains x event ready").0, 6);
    assert_eq!(
        err("/wait message r@c --from"),
        (
            25,
            "/wait message: option --from expects NICK at column 25".into()
        )
    );
    assert_eq!(
        err("/wait message r@c --timeout soon"),
        (
            28,
            "/wait message: option --timeout expects SECS (a number of seconds) at column 28, \
                 found \"soon\": it must be a non-negative number like 5 or 0.5"
                .into()
        )
    );
    assert_eq!(err("/wait message r@c --timeout=-1").0, 28);
    assert_eq!(
        err("/wait event x --timeout 1 --timeout 2"),
        (
            26,
            "/wait event: option --timeout given again at column 26 (first at column 14)".into()
        )
    );
    assert_eq!(err(r#"/wait message r@c --from """#).0, 25);
    assert_eq!(err(r#"/wait message r@c --contains """#).0, 29);
    assert_eq!(
            err("/wait message"),
            (
                14,
                "/wait message: expected ROOM (a room JID like room@conference.example.org) at column 14"
                    .into()
            )
        );
    assert_eq!(err("/wait message --timeout 1").0, 26);
    assert_eq!(err("/wait occupant r@c").0, 19);
    assert_eq!(err("/wait event").0, 12);
    let (column, message) = err("/wait event ready nope");
    assert_eq!(column, 18);
    assert!(
        message.starts_with("/wait event: expected KEY=VALUE"),
        "{message}"
    );
    assert!(message.contains("found \"nope\""), "{message}");
    assert_eq!(err("/wait event ready =x").0, 18);
    assert_eq!(err("/wait event \"unterminated").0, 12);
}

// ---- sleep ----

#[test]
fn sleep() {
    assert_eq!(ok("/sleep 0.5"), Command::Sleep(Duration::from_millis(500)));
    assert_eq!(ok("/sleep 2"), Command::Sleep(Duration::from_secs(2)));
    assert_eq!(ok("/sleep .25"), Command::Sleep(Duration::from_millis(250)));
    assert_eq!(ok("/sleep 3."), Command::Sleep(Duration::from_secs(3)));
    assert_eq!(ok("/sleep 0"), Command::Sleep(Duration::ZERO));
    assert_eq!(
        ok("/sleep 1.0000000019"),
        Command::Sleep(Duration::new(1, 1))
    );
    assert_eq!(
        err("/sleep"),
        (
            7,
            "/sleep: expected SECS (a number of seconds) at column 7".into()
        )
    );
    assert_eq!(
        err("/sleep -1"),
        (
            7,
            "/sleep: expected SECS (a number of seconds) at column 7, found \"-1\": \
                 it must be a non-negative number like 5 or 0.5"
                .into()
        )
    );
    for bad in [
        "abc", ".", "1e3", "1.2.3", "inf", "NaN", "\"\"", "+1", "1,5",
    ] {
        assert_eq!(err(&format!("/sleep {bad}")).0, 7, "{bad}");
    }
    assert!(
        err("/sleep 99999999999999999999999")
            .1
            .ends_with("it is too large")
    );
}

#[test]
fn seconds_helper() {
    assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
    assert_eq!(seconds("007"), Ok(Duration::from_secs(7)));
    assert_eq!(seconds("0.000000001"), Ok(Duration::from_nanos(1)));
    assert!(seconds("").is_err());
    assert!(seconds(" 1").is_err());
}

// ---- help, quit ----

#[test]
fn help() {
    assert_eq!(ok("/help"), Command::Help { topic: None });
    for line in ["/help join", "/help /join", "/help j", "/help JOIN"] {
        assert_eq!(
            ok(line),
            Command::Help {
                topic: Some("join".into())
            },
            "{line}"
        );
    }
    assert_eq!(
        ok("/help exit"),
        Command::Help {
            topic: Some("quit".into())
        }
    );
    assert_eq!(
        err("/help jion"),
        (
            6,
            "/help: unknown command /jion (did you mean /join?) at column 6".into()
        )
    );
    // Every topic the parser accepts, help_text explains.
    for spec in table::COMMANDS {
        let Command::Help { topic } = ok(&format!("/help {}", spec.name)) else {
            unreachable!()
        };
        assert!(table::help_text(topic.as_deref()).is_ok());
    }
}

#[test]
fn room_directory_and_life_cycle() {
    let svc = |s: &str| Some(Jid::new(s).unwrap());
    assert_eq!(ok("/rooms"), Command::Rooms { service: None });
    assert_eq!(
        ok("/rooms conference.localhost"),
        Command::Rooms {
            service: svc("conference.localhost")
        }
    );
    assert_eq!(
        ok("/search \"dark cave\" chat.example.org"),
        Command::Search {
            query: "dark cave".into(),
            service: svc("chat.example.org")
        }
    );
    assert_eq!(err("/search").0, 8);
    assert_eq!(ok("/info r@c"), Command::Info { room: r("r@c") });
    assert!(err("/info c").1.contains("room name before the @"));
    assert_eq!(
        ok("/create r@c/al --instant"),
        Command::Create {
            room: r("r@c"),
            nick: Some("al".into()),
            instant: true,
            fields: vec![]
        }
    );
    assert_eq!(
        ok("/create r@c muc#roomconfig_roomname=\"The Cave\" muc#roomconfig_publicroom=1"),
        Command::Create {
            room: r("r@c"),
            nick: None,
            instant: false,
            fields: vec![
                ("muc#roomconfig_roomname".into(), "The Cave".into()),
                ("muc#roomconfig_publicroom".into(), "1".into())
            ]
        }
    );
    assert!(err("/create r@c --instant=1").1.contains("takes no value"));
    assert_eq!(
        ok("/destroy r@c --reason \"moving on\" --venue new@c"),
        Command::Destroy {
            room: r("r@c"),
            reason: Some("moving on".into()),
            venue: Some(r("new@c"))
        }
    );
    assert_eq!(
        ok("/destroy r@c"),
        Command::Destroy {
            room: r("r@c"),
            reason: None,
            venue: None
        }
    );
    let (col, msg) = err("/destroy r@c --venue nowhere");
    assert_eq!(col, 21);
    assert!(msg.contains("--venue expects ROOM"), "{msg}");
    assert!(err("/destroy r@c --reason").1.contains("expects TEXT"));
}

#[test]
fn quit() {
    assert_eq!(ok("/quit"), Command::Quit);
    assert_eq!(ok("/exit"), Command::Quit);
    assert_eq!(err("/exit now").0, 6);
}

// ---- invitations and bookmarks ----

#[test]
fn invitations_and_bookmarks() {
    assert_eq!(
        ok(r#"/invite r@c bob@d "come in" --mediated"#),
        Command::Invite {
            room: r("r@c"),
            to: Jid::new("bob@d").unwrap(),
            reason: Some("come in".into()),
            mediated: true,
        }
    );
    assert_eq!(
        ok("/invite --mediated r@c bob@d/res"),
        Command::Invite {
            room: r("r@c"),
            to: Jid::new("bob@d/res").unwrap(),
            reason: None,
            mediated: true,
        }
    );
    assert!(!matches!(
        ok("/invite r@c bob@d"),
        Command::Invite { mediated: true, .. }
    ));
    // A reason of several words must be quoted.
    assert_eq!(err("/invite r@c bob@d come in").0, 23);
    assert!(err("/invite r@c").1.contains("expected JID"));
    assert_eq!(ok("/invitations"), Command::Invitations);
    assert_eq!(ok("/accept 3"), Command::Accept { id: "3".into() });
    assert!(err("/accept").1.contains("expected ID"));
    assert_eq!(
        ok("/decline 3 not  now"),
        Command::Decline {
            id: "3".into(),
            reason: Some("not  now".into())
        }
    );
    assert_eq!(
        ok("/decline 3"),
        Command::Decline {
            id: "3".into(),
            reason: None
        }
    );
    assert_eq!(
        ok(r#"/bookmark r@c --autojoin --nick ali --password "p w""#),
        Command::Bookmark {
            room: Some(r("r@c")),
            autojoin: true,
            nick: Some("ali".into()),
            password: Some("p w".into()),
            name: None,
        }
    );
    assert_eq!(
        ok("/bookmark"),
        Command::Bookmark {
            room: None,
            autojoin: false,
            nick: None,
            password: None,
            name: None,
        }
    );
    assert!(err("/bookmark r@c --nick").1.contains("--nick expects N"));
    assert!(
        err("/bookmark r@c --frob")
            .1
            .contains("unknown option --frob")
    );
    assert_eq!(ok("/bookmarks"), Command::Bookmarks);
    assert_eq!(
        ok("/unbookmark r@c"),
        Command::Unbookmark { room: r("r@c") }
    );
    assert!(err("/unbookmark").1.contains("expected ROOM"));
}

// ---- the table and the parser agree ----

#[test]
fn every_command_variant_has_a_table_entry() {
    let lines = [
        "/join r@c",
        "/part r@c",
        "/say r@c x",
        "/correct r@c x",
        "/msg u@d x",
        "/nick r@c n",
        "/topic r@c x",
        "/status all away",
        "/config r@c",
        "/rooms",
        "/search x",
        "/info r@c",
        "/browse r@c",
        "/whois r@c n",
        "/create r@c",
        "/destroy r@c",
        "/kick r@c n",
        "/ban r@c n",
        "/unban r@c u@d",
        "/voice r@c n",
        "/devoice r@c n",
        "/role r@c n none",
        "/affiliation r@c u@d none",
        "/members r@c",
        "/admins r@c",
        "/owners r@c",
        "/outcasts r@c",
        "/moderators r@c",
        "/request-voice r@c",
        "/invite r@c u@d",
        "/invitations",
        "/accept 1",
        "/decline 1",
        "/bookmark r@c",
        "/bookmarks",
        "/unbookmark r@c",
        "/roster",
        "/add u@d",
        "/remove u@d",
        "/approve u@d",
        "/deny u@d",
        "/where u@d",
        "/chatting r@c off",
        "/call r@sfu",
        "/hangup",
        "/mute",
        "/unmute",
        "/deafen",
        "/undeafen",
        "/devices",
        "/callconfig r@sfu muc#max=2",
        "/wait event x",
        "/sleep 1",
        "/me waves",
        "/win 2",
        "/layout rooms hide",
        "/help",
        "/quit",
    ];
    let mut names = Vec::new();
    for line in lines {
        let cmd = ok(line);
        // Exhaustive on purpose: a new variant must be added above.
        match &cmd {
            Command::Join { .. }
            | Command::Part { .. }
            | Command::Say { .. }
            | Command::Correct { .. }
            | Command::Msg { .. }
            | Command::Nick { .. }
            | Command::Topic { .. }
            | Command::Status { .. }
            | Command::Config { .. }
            | Command::Rooms { .. }
            | Command::Search { .. }
            | Command::Info { .. }
            | Command::Browse { .. }
            | Command::Whois { .. }
            | Command::Create { .. }
            | Command::Destroy { .. }
            | Command::Moderate(_)
            | Command::Invite { .. }
            | Command::Invitations
            | Command::Accept { .. }
            | Command::Decline { .. }
            | Command::Bookmark { .. }
            | Command::Bookmarks
            | Command::Unbookmark { .. }
            | Command::Roster
            | Command::AddContact { .. }
            | Command::RemoveContact { .. }
            | Command::Approve { .. }
            | Command::Deny { .. }
            | Command::Where { .. }
            | Command::Chatting { .. }
            | Command::Call { .. }
            | Command::Hangup
            | Command::Mute
            | Command::Unmute
            | Command::Deafen
            | Command::Undeafen
            | Command::Devices
            | Command::CallConfig { .. }
            | Command::Me { .. }
            | Command::Win(_)
            | Command::Layout { .. }
            | Command::Wait(_)
            | Command::Sleep(_)
            | Command::Help { .. }
            | Command::Quit => {}
        }
        let spec = table::lookup(cmd.name()).expect("in the table");
        assert_eq!(spec.name, cmd.name());
        assert_eq!(format!("/{}", spec.name), line.split(' ').next().unwrap());
        names.push(cmd.name());
    }
    let table: Vec<&str> = table::COMMANDS.iter().map(|s| s.name).collect();
    assert_eq!(names, table);
}

#[test]
fn every_alias_parses_as_its_command() {
    for spec in table::COMMANDS {
        for alias in spec.aliases {
            let line = match spec.name {
                "join" | "part" => format!("/{alias} r@c"),
                "msg" | "topic" | "correct" => format!("/{alias} r@c x"),
                "quit" | "roster" => format!("/{alias}"),
                "win" => format!("/{alias} 3"),
                other => panic!("no sample for /{other}"),
            };
            assert_eq!(ok(&line).name(), spec.name, "{line}");
        }
    }
}

/// A sample value for a usage placeholder (or an optional `[...]` group).
fn sample(word: &str) -> &'static str {
    match word {
        "ROOM[/NICK]" => "room@conference.example.org/alice",
        "ROOM" => "room@conference.example.org",
        "ROOM|all" => "all",
        "available|chat|away|xa|dnd" => "dnd",
        "JID-or-ROOM/NICK" => "room@conference.example.org/bob",
        "TEXT" => "hello  there",
        "NEWNICK" => "alice2",
        "NICK" => "bob",
        "NAME" => "occupant",
        "SECS" => "0.5",
        "[PASSWORD]" => "secret",
        // Quoted: one word for /invite, the same text for a Rest.
        "[REASON]" => "\"gone fishing\"",
        "ID" => "2",
        "[ROOM]" => "room@conference.example.org",
        "[--mediated]" => "--mediated",
        "[--autojoin]" => "--autojoin",
        "[--nick N]" => "--nick alice",
        "[--password P]" => "--password \"s3cret pw\"",
        "[TEXT]" => "back soon",
        "[COMMAND]" => "join",
        "[--from NICK]" => "--from bob",
        "[--contains TEXT]" => "--contains \"hi there\"",
        "[--timeout SECS]" => "--timeout 2",
        "[KEY=VALUE ...]" => "room=room@conference.example.org action=join",
        "N" => "2",
        "PANE" => "people",
        "SETTING" => "24",
        "[FIELD=VALUE ...]" => "muc#roomconfig_roomname=Lounge muc#roomconfig_publicroom=0",
        "[SERVICE]" => "conference.example.org",
        "QUERY" => "lounge",
        "[--instant]" => "--instant",
        "[--reason TEXT]" => "--reason \"closing time\"",
        "[--venue ROOM]" => "--venue new@conference.example.org",
        "[--focus [FOCUS-JID]|--focus-http URL]" => "--focus focus.example.org",
        "[--prop KEY=VALUE]" => "--prop rtcstatsEnabled=true",
        "[--protocol muc|conference|gc]" => "--protocol conference",
        "[--private]" => "--private",
        "NICK-or-JID" => "bob@example.org",
        "JID" => "bob@example.org",
        "on|off" => "off",
        "ROLE" => "visitor",
        "AFFILIATION" => "member",
        other => panic!("no sample for usage word {other:?}"),
    }
}

/// Example lines from a usage line: with every optional group, and
/// with none.
fn examples(usage: &str) -> [String; 2] {
    let mut full = Vec::new();
    let mut minimal = Vec::new();
    let mut words = usage.split_whitespace();
    while let Some(word) = words.next() {
        if word.starts_with('/') || table::WAIT_KINDS.contains(&word) {
            full.push(word.to_string());
            minimal.push(word.to_string());
        } else if word.starts_with('[') {
            let mut group = word.to_string();
            while !group.ends_with(']') {
                group.push(' ');
                group.push_str(words.next().expect("closing ]"));
            }
            full.push(sample(&group).to_string());
        } else {
            full.push(sample(word).to_string());
            minimal.push(sample(word).to_string());
        }
    }
    [full.join(" "), minimal.join(" ")]
}

#[test]
fn every_usage_line_parses() {
    for spec in table::COMMANDS {
        for usage in spec.usage.lines() {
            for line in examples(usage) {
                assert_eq!(ok(&line).name(), spec.name, "{line}");
            }
        }
    }
    // Spot-check what the examples mean.
    let [full, minimal] =
        examples("/wait message ROOM [--from NICK] [--contains TEXT] [--timeout SECS]");
    assert_eq!(
        ok(&full),
        wait(
            WaitKind::Message {
                room: r("room@conference.example.org"),
                from: Some("bob".into()),
                contains: Some("hi there".into())
            },
            2.0
        )
    );
    assert_eq!(minimal, "/wait message room@conference.example.org");
    let [full, _] = examples(table::lookup("status").unwrap().usage);
    assert_eq!(
        ok(&full),
        Command::Status {
            target: StatusTarget::All,
            show: Show::Dnd,
            text: Some("back soon".into())
        }
    );
}

#[test]
fn join_with_a_focus() {
    use crate::command::{FocusTarget, JoinOptions};
    let options = |line: &str| match ok(line) {
        Command::Join { options, .. } => options,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        options("/join r@c --focus"),
        JoinOptions {
            focus: Some(FocusTarget::Xmpp(None)),
            ..Default::default()
        }
    );
    let o = options("/join r@c --focus focus.example --prop a=1 --prop b=x=y pw");
    assert_eq!(
        o.focus,
        Some(FocusTarget::Xmpp(Some(Jid::new("focus.example").unwrap())))
    );
    assert_eq!(
        o.focus_props,
        vec![("a".into(), "1".into()), ("b".into(), "x=y".into())]
    );
    assert!(matches!(
        ok("/join r@c --focus --prop a=1 pw"),
        Command::Join { password: Some(p), options: JoinOptions { focus: Some(FocusTarget::Xmpp(None)), .. }, .. } if p == "pw"
    ));
    assert_eq!(
        options("/join r@c --focus-http=http://127.0.0.1:5/").focus,
        Some(FocusTarget::Http("http://127.0.0.1:5/".into()))
    );
    let (column, message) = err("/join r@c --focus --focus-http http://x");
    assert_eq!(column, 10);
    assert!(
        message.contains("either --focus or --focus-http"),
        "{message}"
    );
    let (column, message) = err("/join r@c --prop novalue");
    assert_eq!(column, 17);
    assert!(message.contains("KEY=VALUE"), "{message}");
    let (_, message) = err("/join r@c --focus-http ftp://x");
    assert!(message.contains("http://"), "{message}");
    let (_, message) = err("/join r@c --focus a@@b");
    assert!(message.contains("FOCUS-JID"), "{message}");
    // Other options still may not be repeated.
    let (_, message) = err("/join r@c --focus --focus");
    assert!(message.contains("given again"), "{message}");
}

#[test]
fn every_missing_required_argument_is_reported() {
    // Drop the last required argument of each usage: always an error
    // naming that argument, one column after the end of the line.
    for spec in table::COMMANDS.iter().chain(table::WAIT_FORMS) {
        let Some(last) = spec.args.iter().rposition(|a| a.required) else {
            continue;
        };
        if !table::forms(spec.name).is_empty() {
            continue; // its forms are checked instead
        }
        let arg = spec.args[last];
        let usage = spec.usage.lines().next().unwrap();
        // The last word outside `[...]` groups.
        let mut in_group = false;
        let mut last_word = "";
        for word in usage.split_whitespace() {
            if word.starts_with('[') {
                in_group = true;
            }
            if !in_group {
                last_word = word;
            }
            if in_group && word.ends_with(']') {
                in_group = false;
            }
        }
        let [_, minimal] = examples(usage);
        let line = minimal
            .strip_suffix(&format!(" {}", sample(last_word)))
            .unwrap();
        let e = parse(line).unwrap_err();
        assert_eq!(e.column, line.chars().count() + 1, "{line}: {e}");
        let named = match arg.kind {
            ArgKind::Choice(words) => words.join(", "),
            _ => format!("expected {} (", arg.name),
        };
        assert!(e.message.contains(&named), "{line}: {e}");
    }
}
