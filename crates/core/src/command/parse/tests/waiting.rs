//! Tests of /wait (message, occupant and event forms, their errors) and
//! /sleep.

use super::*;

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
