use super::*;

const DEMO: &str = "demo@conference.localhost";
const DEV: &str = "dev@conference.example.org";

fn ctx() -> CompletionContext<'static> {
    CompletionContext {
        nicks: vec!["bob", "Bea", "alice", "bill", "Carol Ann"],
        rooms: vec![DEMO, DEV],
        contacts: vec!["bob@localhost", "carol@localhost"],
        own_nick: Some("alice"),
    }
}

/// An editor with `text` and the cursor where `|` is (or at the end).
fn ed(marked: &str) -> LineEditor {
    let mut e = LineEditor::new();
    match marked.find('|') {
        Some(cursor) => {
            e.set(marked.replacen('|', "", 1));
            e.set_cursor(cursor);
        }
        None => e.set(marked),
    }
    e
}

fn show(e: &LineEditor) -> String {
    let mut s = e.text().to_string();
    if e.cursor() != s.len() {
        s.insert(e.cursor(), '|');
    }
    s
}

/// The lines shown by `tabs` successive Tabs on `marked`.
fn tabs_with(ctx: &CompletionContext, marked: &str, tabs: usize) -> Vec<String> {
    let mut e = ed(marked);
    let mut c = Completer::new();
    (0..tabs)
        .map(|_| {
            c.complete(&mut e, ctx);
            show(&e)
        })
        .collect()
}

fn tabs(marked: &str, n: usize) -> Vec<String> {
    tabs_with(&ctx(), marked, n)
}

fn tab(marked: &str) -> String {
    tabs(marked, 1).remove(0)
}

/// Every candidate of one cycle (Tab until it wraps).
fn cycle(marked: &str) -> Vec<String> {
    let mut e = ed(marked);
    let mut c = Completer::new();
    let mut seen = Vec::new();
    for _ in 0..100 {
        if !c.complete(&mut e, &ctx()) {
            break;
        }
        let s = show(&e);
        if seen.first() == Some(&s) {
            break;
        }
        seen.push(s);
    }
    seen
}

// --- commands ---

#[test]
fn command_names() {
    assert_eq!(tab("/jo"), "/join ");
    assert_eq!(tab("/JO"), "/join ");
    assert_eq!(tab("/he"), "/help ");
    assert_eq!(tab("/join"), "/join ");
    // Names first (table order), then aliases.
    assert_eq!(cycle("/j"), ["/join ", "/j "]);
    assert_eq!(cycle("/q"), ["/quit ", "/query "]);
    assert_eq!(
        cycle("/s"),
        [
            "/say ",
            "/status ",
            "/search ",
            "/save ",
            "/sleep ",
            "/subject ",
            "/sendfile "
        ]
    );
    assert_eq!(cycle("/le"), ["/leave "]);
    assert_eq!(cycle("/ex"), ["/export ", "/exit "]);
}

#[test]
fn every_command_from_a_slash() {
    let all = cycle("/");
    let names: Vec<String> = COMMANDS
        .iter()
        .map(|s| s.name)
        .chain(COMMANDS.iter().flat_map(|s| s.aliases.iter().copied()))
        .map(|n| format!("/{n} "))
        .collect();
    assert_eq!(all, names);
    assert!(all.contains(&"/join ".to_string()) && all.contains(&"/exit ".to_string()));
}

#[test]
fn unknown_command_has_no_candidates() {
    let mut e = ed("/xyz");
    let mut c = Completer::new();
    assert!(!c.complete(&mut e, &ctx()));
    assert_eq!(show(&e), "/xyz");
    assert!(!c.is_active());
    // Arguments of an unknown command: nothing either.
    let mut e = ed("/frob b");
    assert!(!c.complete(&mut e, &ctx()));
    assert_eq!(show(&e), "/frob b");
}

#[test]
fn double_slash_is_text() {
    let mut e = ed("//jo");
    assert!(!Completer::new().complete(&mut e, &ctx()));
    assert_eq!(tab("//say b"), "//say bob ");
}

#[test]
fn command_in_the_middle_of_text_is_not_completed() {
    assert_eq!(tab("see /jo"), "see /jo");
}

#[test]
fn command_name_keeps_the_rest_of_the_line() {
    // An existing space after the cursor is not doubled.
    assert_eq!(tab("/j| room"), "/join |room");
    assert_eq!(tab("/jo|x"), "/join |x");
}

// --- arguments ---

#[test]
fn room_arguments() {
    assert_eq!(
        cycle("/join "),
        [format!("/join {DEMO} "), format!("/join {DEV} ")]
    );
    assert_eq!(tab("/join de"), format!("/join {DEMO} "));
    assert_eq!(cycle("/j dev"), [format!("/j {DEV} ")]);
    assert_eq!(tab("/part DE"), format!("/part {DEMO} "));
    assert_eq!(tab("/say dev"), format!("/say {DEV} "));
    assert_eq!(tab("/topic dem"), format!("/topic {DEMO} "));
    assert_eq!(tab("/config dem"), format!("/config {DEMO} "));
    assert_eq!(tab("/nick dem"), format!("/nick {DEMO} "));
    assert_eq!(tab("/join   d"), format!("/join   {DEMO} "));
}

#[test]
fn room_or_all() {
    assert_eq!(
        cycle("/status "),
        [
            format!("/status {DEMO} "),
            format!("/status {DEV} "),
            "/status all ".to_string()
        ]
    );
    assert_eq!(tab("/status A"), "/status all ");
}

#[test]
fn choices() {
    assert_eq!(
        cycle("/status all a"),
        ["/status all available ", "/status all away "]
    );
    assert_eq!(tab("/status all D"), "/status all dnd ");
    assert_eq!(cycle(&format!("/status {DEMO} ")).len(), 5);
    assert_eq!(
        cycle("/wait "),
        ["/wait message ", "/wait occupant ", "/wait event "]
    );
    assert_eq!(tab("/wait o"), "/wait occupant ");
}

#[test]
fn jid_arguments() {
    assert_eq!(
        cycle("/msg "),
        [
            format!("/msg {DEMO} "),
            format!("/msg {DEV} "),
            "/msg bob@localhost ".to_string(),
            "/msg carol@localhost ".to_string(),
        ]
    );
    // After ROOM/: that room's occupants (the context's nicks).
    assert_eq!(
        cycle(&format!("/query {DEMO}/")),
        [
            format!("/query {DEMO}/bob "),
            format!("/query {DEMO}/Bea "),
            format!("/query {DEMO}/bill "),
            format!("/query \"{DEMO}/Carol Ann\" "),
        ]
    );
    assert_eq!(cycle(&format!("/query {DEMO}/b")).len(), 3);
    assert_eq!(tab(&format!("/msg {DEMO}/BE")), format!("/msg {DEMO}/Bea "));
    assert_eq!(
        tab("/msg DEMO@conference.localhost/bo"),
        format!("/msg {DEMO}/bob ")
    );
    // Our own nick is not offered; an unknown room has no occupants.
    assert_eq!(tab(&format!("/msg {DEMO}/al")), format!("/msg {DEMO}/al"));
    assert_eq!(tab("/msg x@y/b"), "/msg x@y/b");
    // With one room open, it is the current one: its occupants at once.
    let one = CompletionContext {
        rooms: vec![DEMO],
        ..ctx()
    };
    assert_eq!(
        tabs_with(&one, "/msg ", 3),
        [
            format!("/msg {DEMO} "),
            format!("/msg {DEMO}/bob "),
            format!("/msg {DEMO}/Bea ")
        ]
    );
    // ... unless it has none listed.
    let empty = CompletionContext {
        rooms: vec![DEMO],
        nicks: vec![],
        contacts: vec![],
        own_nick: None,
    };
    assert_eq!(tabs_with(&empty, "/msg ", 2)[1], format!("/msg {DEMO} "));
}

#[test]
fn nick_arguments() {
    assert_eq!(
        tab(&format!("/nick {DEMO} b")),
        format!("/nick {DEMO} bob ")
    );
    assert_eq!(
        tab(&format!("/wait occupant {DEMO} c")),
        format!("/wait occupant {DEMO} \"Carol Ann\" ")
    );
    // A quoted prefix.
    assert_eq!(
        tab(&format!("/wait occupant {DEMO} \"carol a")),
        format!("/wait occupant {DEMO} \"Carol Ann\" ")
    );
    // Our own nick is not offered.
    assert_eq!(tab(&format!("/nick {DEMO} al")), format!("/nick {DEMO} al"));
}

#[test]
fn wait_forms_and_options() {
    assert_eq!(tab("/wait message d"), format!("/wait message {DEMO} "));
    assert_eq!(tab("/wait occupant d"), format!("/wait occupant {DEMO} "));
    assert_eq!(tab("/wait MESSAGE d"), format!("/wait MESSAGE {DEMO} "));
    assert_eq!(tab("/wait event "), "/wait event ");
    let m = format!("/wait message {DEMO}");
    assert_eq!(
        cycle(&format!("{m} --")),
        [
            format!("{m} --from "),
            format!("{m} --contains "),
            format!("{m} --timeout ")
        ]
    );
    assert_eq!(tab(&format!("{m} --t")), format!("{m} --timeout "));
    assert_eq!(tab(&format!("{m} --from b")), format!("{m} --from bob "));
    assert_eq!(tab(&format!("{m} --timeout ")), format!("{m} --timeout "));
    // Options already given are not offered again.
    assert_eq!(
        cycle(&format!("{m} --from bob --")),
        [
            format!("{m} --from bob --contains "),
            format!("{m} --from bob --timeout ")
        ]
    );
    assert_eq!(
        cycle(&format!("{m} --from=bob --")).len(),
        2,
        "an inline value is no separate word"
    );
    // Only the form's options.
    let o = format!("/wait occupant {DEMO}");
    assert_eq!(cycle(&format!("{o} --")), [format!("{o} --timeout ")]);
    // Options before the positional arguments.
    assert_eq!(
        tab("/wait message --timeout 5 d"),
        format!("/wait message --timeout 5 {DEMO} ")
    );
    assert_eq!(
        tab(&format!("/wait occupant --timeout 5 {DEMO} b")),
        format!("/wait occupant --timeout 5 {DEMO} bob ")
    );
    // After `--`, no options.
    assert_eq!(tab(&format!("{m} -- --t")), format!("{m} -- --t"));
    // Commands without options never complete `--`.
    assert_eq!(tab("/say --"), "/say --");
    // `/join` has options now.
    assert_eq!(tab("/join --foc"), "/join --focus ");
}

#[test]
fn help_argument() {
    assert_eq!(tab("/help st"), "/help status ");
    assert_eq!(tab("/help /st"), "/help /status ");
    assert_eq!(cycle("/help q"), ["/help quit ", "/help query "]);
    let every = COMMANDS.iter().map(|s| 1 + s.aliases.len()).sum::<usize>();
    assert_eq!(cycle("/help ").len(), every);
    assert_eq!(tab("/help quit "), "/help quit ");
}

#[test]
fn nothing_to_complete() {
    for line in [
        "/quit ".to_string(),
        "/sleep ".to_string(),
        "/sleep 1".to_string(),
        format!("/join {DEMO} "),
        format!("/config {DEMO} muc"),
        "/status all away x".to_string(),
    ] {
        let mut e = ed(&line);
        let mut c = Completer::new();
        assert!(!c.complete(&mut e, &ctx()), "{line:?}");
        assert_eq!(show(&e), line);
    }
}

#[test]
fn tui_commands() {
    assert_eq!(tab("/me b"), "/me bob ");
    assert_eq!(tab("/me waves at b"), "/me waves at bob ");
    assert_eq!(
        cycle("/layout "),
        ["/layout rooms ", "/layout people ", "/layout events "]
    );
    assert_eq!(tab("/layout P"), "/layout people ");
    assert_eq!(tab("/layout people s"), "/layout people s");
    assert_eq!(tab("/win "), "/win ");
}

#[test]
fn free_text_arguments_complete_nicks() {
    assert_eq!(tab(&format!("/say {DEMO} b")), format!("/say {DEMO} bob "));
    assert_eq!(
        tab(&format!("/say {DEMO} hi b")),
        format!("/say {DEMO} hi bob ")
    );
    // The rest of the line is verbatim: no quoting, quotes ignored.
    assert_eq!(
        tab(&format!("/topic {DEMO} \"with c")),
        format!("/topic {DEMO} \"with Carol Ann ")
    );
    assert_eq!(
        tab(&format!("/status {DEMO} away see b")),
        format!("/status {DEMO} away see bob ")
    );
}

// --- plain text ---

#[test]
fn nick_at_line_start_gets_colon() {
    assert_eq!(tab("b"), "bob: ");
    assert_eq!(tab("BE"), "Bea: ");
    assert_eq!(tab("car"), "Carol Ann: ");
    assert_eq!(tab(""), "bob: ");
}

#[test]
fn nick_elsewhere_gets_space() {
    assert_eq!(tab("hi b"), "hi bob ");
    assert_eq!(tab("bob: and bi"), "bob: and bill ");
    assert_eq!(tab(" b"), " bob ");
    assert_eq!(tab("one\nb"), "one\nbob ");
}

#[test]
fn own_nick_is_excluded() {
    assert_eq!(tab("al"), "al");
    let ctx = CompletionContext {
        own_nick: None,
        ..ctx()
    };
    assert_eq!(tabs_with(&ctx, "al", 1), ["alice: "]);
}

#[test]
fn nicks_in_the_middle_of_the_line() {
    assert_eq!(tab("b| is here"), "bob: |is here");
    assert_eq!(tabs("b| is here", 2)[1], "Bea: |is here");
    assert_eq!(tab("hi b|!"), "hi bob |!");
}

#[test]
fn cycling_wraps_around() {
    assert_eq!(tabs("b", 5), ["bob: ", "Bea: ", "bill: ", "bob: ", "Bea: "]);
    assert_eq!(
        tabs("hi b", 4),
        ["hi bob ", "hi Bea ", "hi bill ", "hi bob "]
    );
    assert_eq!(tabs("/jo", 3), ["/join ", "/join ", "/join "]);
}

#[test]
fn complete_previous_goes_backwards() {
    let mut e = ed("b");
    let mut c = Completer::new();
    assert!(c.complete_previous(&mut e, &ctx()));
    assert_eq!(show(&e), "bill: ");
    c.complete_previous(&mut e, &ctx());
    assert_eq!(show(&e), "Bea: ");
    c.complete(&mut e, &ctx());
    assert_eq!(show(&e), "bill: ");
    c.complete(&mut e, &ctx());
    assert_eq!(show(&e), "bob: ");
}

#[test]
fn no_candidates_changes_nothing() {
    let mut c = Completer::new();
    for line in ["zz", "hi zz", "hi zz| there"] {
        let mut e = ed(line);
        assert!(!c.complete(&mut e, &ctx()), "{line}");
        assert_eq!(show(&e), line);
    }
    let empty = CompletionContext::default();
    let mut e = ed("b");
    assert!(!c.complete(&mut e, &empty));
    assert_eq!(show(&e), "b");
    let mut e = ed("/join ");
    assert!(!c.complete(&mut e, &empty));
    assert_eq!(show(&e), "/join ");
}

#[test]
fn reset_starts_a_new_completion() {
    let mut e = ed("b");
    let mut c = Completer::new();
    c.complete(&mut e, &ctx());
    assert!(c.is_active());
    assert_eq!(show(&e), "bob: ");
    c.reset();
    assert!(!c.is_active());
    e.set("hi bi");
    c.complete(&mut e, &ctx());
    assert_eq!(show(&e), "hi bill ");
    // Tab now completes the (empty) word after the space afresh.
    c.reset();
    c.complete(&mut e, &ctx());
    assert_eq!(show(&e), "hi bill bob ");
}

#[test]
fn an_edit_without_reset_starts_afresh() {
    let mut e = ed("b");
    let mut c = Completer::new();
    c.complete(&mut e, &ctx());
    assert_eq!(show(&e), "bob: ");
    e.set("be");
    c.complete(&mut e, &ctx());
    assert_eq!(show(&e), "Bea: ");
    // Moving the cursor is an edit too.
    let mut e = ed("x b");
    c.complete(&mut e, &ctx());
    assert_eq!(show(&e), "x bob ");
    e.set_cursor(1);
    c.complete(&mut e, &ctx());
    assert_eq!(show(&e), "x| bob ");
}

#[test]
fn duplicates_and_control_characters_are_dropped() {
    let ctx = CompletionContext {
        nicks: vec!["bob", "bob", "b\u{1b}[2J", "", "bo"],
        rooms: vec![DEMO, DEMO],
        contacts: vec![],
        own_nick: None,
    };
    assert_eq!(tabs_with(&ctx, "b", 3), ["bob: ", "bo: ", "bob: "]);
    assert_eq!(tabs_with(&ctx, "/join ", 2)[1], format!("/join {DEMO} "));
}

#[test]
fn wide_and_non_ascii_nicks() {
    let ctx = CompletionContext {
        nicks: vec!["Émile", "日本", "éa"],
        rooms: vec![],
        contacts: vec![],
        own_nick: None,
    };
    assert_eq!(tabs_with(&ctx, "é", 2), ["Émile: ", "éa: "]);
    assert_eq!(tabs_with(&ctx, "hi 日", 1), ["hi 日本 "]);
}

#[test]
fn quoting_of_arguments() {
    assert_eq!(quote("bob"), "bob");
    assert_eq!(quote("Carol Ann"), "\"Carol Ann\"");
    assert_eq!(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
    assert_eq!(quote("a\\b"), "\"a\\\\b\"");
    assert_eq!(quote("--x"), "\"--x\"");
    // The parser reads them back.
    for word in ["Carol Ann", "say \"hi\"", "a\\b", "--x"] {
        let tokens = crate::command::tokenize(&quote(word)).unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].text, word);
    }
}

#[test]
fn lexing_before_the_cursor() {
    let (tokens, open) = lex("/wait \"a b\" c\\\"d ");
    let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, ["/wait", "a b", "c\"d"]);
    assert!(!open);
    assert_eq!(tokens[1].start, 6);
    assert!(tokens[1].quoted && !tokens[2].quoted);
    let (tokens, open) = lex("/nick r \"Carol A");
    assert!(open);
    assert_eq!(tokens[2].text, "Carol A");
    assert_eq!(tokens[2].start, 8);
}

#[test]
fn completed_commands_parse() {
    // Whatever Tab produces for a whole command is what the parser
    // accepts.
    let line = tabs(&format!("/wait occupant {DEMO} c"), 1).remove(0);
    match crate::command::parse(&line).unwrap() {
        crate::command::Command::Wait(w) => assert_eq!(
            w.kind,
            crate::command::WaitKind::Occupant {
                room: DEMO.parse().unwrap(),
                nick: "Carol Ann".into()
            }
        ),
        other => panic!("{other:?}"),
    }
    let line = cycle(&format!("/msg {DEMO}/")).pop().unwrap();
    assert!(
        crate::command::parse(&format!("{line}hi")).is_ok(),
        "{line}"
    );
}

#[test]
fn jid_arguments_offer_conversations_and_contacts_after_rooms() {
    assert_eq!(tab("/close b"), "/close bob@localhost ");
    assert_eq!(tab("/read c"), "/read carol@localhost ");
    assert_eq!(
        cycle("/add "),
        [
            format!("/add {DEMO} "),
            format!("/add {DEV} "),
            "/add bob@localhost ".to_string(),
            "/add carol@localhost ".to_string(),
        ]
    );
}

#[test]
fn upload_and_save_complete_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report one.pdf"), b"x").unwrap();
    std::fs::write(dir.path().join(".hidden"), b"x").unwrap();
    std::fs::write(dir.path().join("bad\u{1b}[2J"), b"x").unwrap();
    std::fs::create_dir(dir.path().join("photos")).unwrap();
    let d = dir.path().display();
    // `/upload PATH` (the TUI adds the room), quoted where needed; no
    // hidden files, nothing with terminal controls.
    assert_eq!(
        cycle(&format!("/upload {d}/")),
        [
            format!("/upload \"{d}/photos/\" "),
            format!("/upload \"{d}/report one.pdf\" "),
        ]
        .map(|s| s.replace(&format!("\"{d}/photos/\""), &format!("{d}/photos/")))
    );
    assert_eq!(
        tab(&format!("/save {DEMO} @bob {d}/ph")),
        format!("/save {DEMO} @bob {d}/photos/ ")
    );
}
