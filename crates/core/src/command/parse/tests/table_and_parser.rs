//! Tests that the command table and the parser agree: every variant has
//! an entry, every alias and usage line parses, every missing required
//! argument is reported.

use super::*;

// ---- the table and the parser agree ----

#[test]
fn every_command_variant_has_a_table_entry() {
    let lines = [
        "/join r@c",
        "/part r@c",
        "/say r@c x",
        "/correct r@c x",
        "/msg u@d x",
        "/omemo fingerprints",
        "/react r@c s1 x",
        "/reply r@c s1 x",
        "/retract r@c",
        "/moderate r@c s1",
        "/close u@d",
        "/read u@d",
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
        "/find release",
        "/export r@c",
        "/clear",
        "/ignore r@c bob",
        "/unignore bob@example.org",
        "/ignored",
        "/upload /tmp/x.png r@c",
        "/save r@c @bob",
        "/open r@c abc",
        "/cancel",
        "/call r@sfu",
        "/answer",
        "/reject",
        "/hangup",
        "/mute",
        "/unmute",
        "/deafen",
        "/undeafen",
        "/devices",
        "/denoise gate",
        "/record",
        "/callconfig r@sfu muc#max=2",
        "/wait event x",
        "/sleep 1",
        "/me waves",
        "/win 2",
        "/layout rooms hide",
        "/xmlconsole on",
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
            | Command::React { .. }
            | Command::Reply { .. }
            | Command::Retract { .. }
            | Command::RemoveMessage { .. }
            | Command::OpenChat { .. }
            | Command::Close { .. }
            | Command::Read { .. }
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
            | Command::Omemo { .. }
            | Command::Find { .. }
            | Command::Export { .. }
            | Command::Upload { .. }
            | Command::Save { .. }
            | Command::Open { .. }
            | Command::Cancel
            | Command::Clear
            | Command::Ignore { .. }
            | Command::Unignore { .. }
            | Command::Ignored
            | Command::Call { .. }
            | Command::AnswerCall
            | Command::RejectCall
            | Command::Hangup
            | Command::Mute
            | Command::Unmute
            | Command::Deafen
            | Command::Undeafen
            | Command::Devices
            | Command::SwitchDevice { .. }
            | Command::Denoise { .. }
            | Command::Record { .. }
            | Command::RecordStop
            | Command::CallConfig { .. }
            | Command::Me { .. }
            | Command::Win(_)
            | Command::Layout { .. }
            | Command::Wait(_)
            | Command::Sleep(_)
            | Command::XmlConsole { .. }
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
                "upload" => format!("/{alias} /tmp/a.png r@c"),
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
        "ROOM|USER" => "room@conference.example.org",
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
        "WORDS" => "\"release notes\"",
        "[ROOM|JID]" => "room@conference.example.org",
        "ROOM|JID" => "room@conference.example.org",
        "[FILE]" => "out.txt",
        "[--json]" => "--json",
        "[NICK]" => "bob",
        "JID" => "bob@example.org",
        "[JID]" => "bob@example.org",
        "on|off" => "off",
        "[on|off]" => "on",
        "[--filter TEXT]" => "--filter \"<message\"",
        "ROLE" => "visitor",
        "ROOM-or-JID" => "room@conference.example.org",
        "ID|@NICK" => "@bob",
        "[EMOJI ...]" => "👍 🎉",
        "[ID]" => "s-1",
        "AFFILIATION" => "member",
        "[DIR|stop]" => "stop",
        "PATH" => "\"/tmp/a file.png\"",
        "[PATH]" => "~/Downloads",
        "on|off|fingerprints|trust|distrust" => "fingerprints",
        "auto|on|gate|off" => "gate",
        "[input|output SPEC]" => "output file:/tmp/mix.wav",
        "[FINGERPRINT]" => "05ab12cd 0011aabb",
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

#[test]
fn a_command_names_its_entry_and_its_room() {
    for spec in table::COMMANDS {
        for usage in spec.usage.lines() {
            for line in examples(usage) {
                let cmd = ok(&line);
                assert_eq!(cmd.spec().usage, spec.usage, "{line}");
                // The room is the first argument exactly when that is a room.
                if matches!(
                    spec.args.first().map(|a| a.kind),
                    Some(ArgKind::Room | ArgKind::RoomNick)
                ) && spec.args[0].required
                {
                    assert_eq!(
                        cmd.room(),
                        Some(&r("room@conference.example.org")),
                        "{line}"
                    );
                }
            }
        }
    }
    assert_eq!(ok("/status all away").room(), None);
    assert_eq!(ok("/status r@c away").room(), Some(&r("r@c")));
    assert_eq!(ok("/msg r@c/bob hi").room(), None);
    assert_eq!(ok("/bookmarks").room(), None);
}

#[test]
fn buffer_tools_parse() {
    assert_eq!(
        ok("/find \"release notes\" r@c.example"),
        Command::Find {
            text: "release notes".into(),
            within: Some(jid::BareJid::new("r@c.example").unwrap()),
        }
    );
    assert!(matches!(ok("/find x"), Command::Find { within: None, .. }));
    assert!(parse("/find").is_err());
    assert!(parse("/find x notajid").is_err());
    assert_eq!(
        ok("/export bob@example.org out.jsonl"),
        Command::Export {
            of: jid::BareJid::new("bob@example.org").unwrap(),
            file: Some("out.jsonl".into()),
            json: true,
        }
    );
    assert!(matches!(
        ok("/export r@c --json"),
        Command::Export {
            json: true,
            file: None,
            ..
        }
    ));
    assert_eq!(
        ok("/ignore r@c mallory"),
        Command::Ignore {
            jid: jid::BareJid::new("r@c").unwrap(),
            nick: Some("mallory".into()),
        }
    );
    assert!(matches!(
        ok("/unignore spam@evil.example"),
        Command::Unignore { nick: None, .. }
    ));
}

#[test]
fn devices_lists_or_switches_a_side() {
    assert_eq!(ok("/devices"), Command::Devices);
    assert_eq!(
        ok("/devices input tone:880"),
        Command::SwitchDevice {
            output: false,
            spec: "tone:880".into()
        }
    );
    assert_eq!(
        ok("/devices OUTPUT device:HDA Intel PCH, ALC3246 Analog"),
        Command::SwitchDevice {
            output: true,
            spec: "device:HDA Intel PCH, ALC3246 Analog".into()
        }
    );
    assert_eq!(ok("/devices output null").name(), "devices");
    let (column, message) = err("/devices input");
    assert_eq!(column, 15, "{message}");
    assert!(message.contains("expected SPEC"), "{message}");
    let (_, message) = err("/devices speaker default");
    assert!(message.contains("input, output"), "{message}");
}

#[test]
fn record_takes_a_directory_or_stop() {
    assert_eq!(ok("/record"), Command::Record { dir: None });
    assert_eq!(
        ok("/record /tmp/calls"),
        Command::Record {
            dir: Some("/tmp/calls".into())
        }
    );
    assert_eq!(ok("/record stop"), Command::RecordStop);
    assert_eq!(ok("/record stop").name(), "record");
}

#[test]
fn file_commands() {
    use crate::command::MessageRef;
    assert_eq!(
        ok("/upload \"/tmp/a b.png\" r@c"),
        Command::Upload {
            path: "/tmp/a b.png".into(),
            to: Some("r@c".parse().unwrap()),
        }
    );
    assert_eq!(
        ok("/upload x.png"),
        Command::Upload {
            path: "x.png".into(),
            to: None,
        }
    );
    assert_eq!(
        ok("/save u@d @bob ~/x"),
        Command::Save {
            of: "u@d".parse().unwrap(),
            target: MessageRef::LastOf(Some("bob".into())),
            path: Some("~/x".into())
        }
    );
    assert_eq!(
        ok("/open r@c id1"),
        Command::Open {
            of: "r@c".parse().unwrap(),
            target: MessageRef::Id("id1".into())
        }
    );
    assert!(parse("/upload").is_err());
}
