//! Tests of tokenizing and of what every line obeys: the leading slash,
//! unknown commands, case and line endings, extra arguments; /help, /quit.

use super::*;

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
fn quit() {
    assert_eq!(ok("/quit"), Command::Quit);
    assert_eq!(ok("/exit"), Command::Quit);
    assert_eq!(err("/exit now").0, 6);
}
