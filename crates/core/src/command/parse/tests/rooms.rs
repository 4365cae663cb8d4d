//! Tests of the commands of a room and of talking: /join (with a focus),
//! /part, /correct, /say, /msg, /nick, /topic, /status.

use super::*;

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
    assert_eq!(err("/msg").0, 5);
}

// ---- conversations: /msg without text, /close, /read ----

#[test]
fn msg_without_text_opens_the_conversation() {
    assert_eq!(
        ok("/msg bob@example.org"),
        Command::OpenChat {
            jid: Jid::new("bob@example.org").unwrap()
        }
    );
    // irssi's /query.
    assert_eq!(
        ok("/query bob@example.org/phone"),
        Command::OpenChat {
            jid: Jid::new("bob@example.org/phone").unwrap()
        }
    );
    assert_eq!(ok("/query bob@example.org").name(), "msg");
    let (column, _) = err("/msg");
    assert_eq!(column, 5);
}

#[test]
fn close_and_read_take_an_optional_jid() {
    assert_eq!(ok("/close"), Command::Close { jid: None });
    assert_eq!(
        ok("/close bob@example.org/phone"),
        Command::Close {
            jid: Some(r("bob@example.org"))
        }
    );
    assert_eq!(ok("/read"), Command::Read { jid: None });
    assert_eq!(
        ok("/read bob@example.org"),
        Command::Read {
            jid: Some(r("bob@example.org"))
        }
    );
    assert!(parse("/close @nobody").is_err());
    assert!(parse("/close a@b c").is_err(), "one JID at most");
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
