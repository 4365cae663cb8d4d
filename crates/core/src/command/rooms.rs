//! The commands of being in a room or a conversation: join, part, say,
//! correct, msg, close, read, nick, topic, status, config — each command's
//! table entry and its builder.

use jid::Jid;

use super::parse::{Args, ParseError};
use super::table::{ArgKind, CommandSpec, OptSpec, SHOWS, arg, opt_arg};
use super::{Command, FocusTarget, JoinOptions, Show};

pub const JOIN: CommandSpec = CommandSpec {
    name: "join",
    aliases: &["j"],
    usage: "/join ROOM[/NICK] [PASSWORD] [--focus [FOCUS-JID]|--focus-http URL] [--prop KEY=VALUE] [--protocol muc|conference|gc] [--private] [--password P]",
    help: "Join a room, optionally with a nickname and a room password",
    args: &[
        arg("ROOM[/NICK]", ArgKind::RoomNick),
        opt_arg("PASSWORD", ArgKind::Word),
    ],
    options: &[
        OptSpec {
            name: "--focus",
            value: Some("[FOCUS-JID]"),
            help: "ask a Jitsi focus (default focus.DOMAIN) for the conference first",
        },
        OptSpec {
            name: "--focus-http",
            value: Some("URL"),
            help: "the same conference request as JSON over HTTP(S)",
        },
        OptSpec {
            name: "--prop",
            value: Some("KEY=VALUE"),
            help: "a conference property for the focus (repeatable)",
        },
        OptSpec {
            name: "--protocol",
            value: Some("muc|conference|gc"),
            help: "speak this protocol (default: what the service answers to)",
        },
        OptSpec {
            name: "--private",
            value: None,
            help: "generic conferencing: hide your real JID (only messages reach you)",
        },
        OptSpec {
            name: "--password",
            value: Some("P"),
            help: "the room password (conference secret), like PASSWORD",
        },
    ],
    forms: &[],
    build: join,
};

pub const PART: CommandSpec = CommandSpec {
    name: "part",
    aliases: &["leave"],
    usage: "/part ROOM [REASON]",
    help: "Leave a room, optionally saying why",
    args: &[arg("ROOM", ArgKind::Room), opt_arg("REASON", ArgKind::Rest)],
    options: &[],
    forms: &[],
    build: part,
};

pub const SAY: CommandSpec = CommandSpec {
    name: "say",
    aliases: &[],
    usage: "/say ROOM TEXT",
    help: "Send a message to everyone in a room",
    args: &[arg("ROOM", ArgKind::Room), arg("TEXT", ArgKind::Rest)],
    options: &[],
    forms: &[],
    build: say,
};

pub const CORRECT: CommandSpec = CommandSpec {
    name: "correct",
    aliases: &["edit"],
    usage: "/correct ROOM TEXT",
    help: "Correct your last message in a room (XEP-0308): it then reads TEXT",
    args: &[arg("ROOM", ArgKind::Room), arg("TEXT", ArgKind::Rest)],
    options: &[],
    forms: &[],
    build: correct,
};

pub const MSG: CommandSpec = CommandSpec {
    name: "msg",
    aliases: &["query"],
    usage: "/msg JID-or-ROOM/NICK [TEXT]",
    help: "Send a private message to a user, or to a room occupant by ROOM/NICK; without TEXT, open the conversation",
    args: &[
        arg("JID-or-ROOM/NICK", ArgKind::Jid),
        opt_arg("TEXT", ArgKind::Rest),
    ],
    options: &[],
    forms: &[],
    build: msg,
};

pub const CLOSE: CommandSpec = CommandSpec {
    name: "close",
    aliases: &[],
    usage: "/close [JID]",
    help: "Close a one-to-one window (TUI: the current one); its history stays. Rooms: /part",
    args: &[opt_arg("JID", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: close,
};

pub const READ: CommandSpec = CommandSpec {
    name: "read",
    aliases: &[],
    usage: "/read [JID]",
    help: "Mark a conversation read (the TUI does when you look at it; scripts only so)",
    args: &[opt_arg("JID", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: read,
};

pub const NICK: CommandSpec = CommandSpec {
    name: "nick",
    aliases: &[],
    usage: "/nick ROOM NEWNICK",
    help: "Change your nickname in a room",
    args: &[arg("ROOM", ArgKind::Room), arg("NEWNICK", ArgKind::Nick)],
    options: &[],
    forms: &[],
    build: nick,
};

pub const TOPIC: CommandSpec = CommandSpec {
    name: "topic",
    aliases: &["subject"],
    usage: "/topic ROOM TEXT",
    help: "Set a room's topic (subject)",
    args: &[arg("ROOM", ArgKind::Room), arg("TEXT", ArgKind::Rest)],
    options: &[],
    forms: &[],
    build: topic,
};

pub const STATUS: CommandSpec = CommandSpec {
    name: "status",
    aliases: &[],
    usage: "/status ROOM|all available|chat|away|xa|dnd [TEXT]",
    help: "Set your presence in one room or in all rooms, with an optional status text",
    args: &[
        arg("ROOM|all", ArgKind::RoomOrAll),
        arg("SHOW", ArgKind::Choice(SHOWS)),
        opt_arg("TEXT", ArgKind::Rest),
    ],
    options: &[],
    forms: &[],
    build: status,
};

pub const CONFIG: CommandSpec = CommandSpec {
    name: "config",
    aliases: &[],
    usage: "/config ROOM [FIELD=VALUE ...]",
    help: "Show a room's configuration form, or set fields of it (e.g. muc#roomconfig_roomname=Lounge)",
    args: &[
        arg("ROOM", ArgKind::Room),
        opt_arg("FIELD=VALUE ...", ArgKind::KeyValues),
    ],
    options: &[],
    forms: &[],
    build: config,
};

fn join(a: &mut Args) -> Result<Command, ParseError> {
    let (room, nick) = a.room_nick();
    Ok(Command::Join {
        room,
        nick,
        password: a.text().or(a.text_option("--password")?),
        options: JoinOptions {
            focus: focus_option(a)?,
            focus_props: a.key_value_options("--prop")?,
            protocol: protocol_option(a)?,
            private: a.flag("--private"),
        },
    })
}

/// `/join --focus [FOCUS-JID]` or `--focus-http URL` (not both).
fn focus_option(a: &Args) -> Result<Option<FocusTarget>, ParseError> {
    match (a.given("--focus"), a.given("--focus-http")) {
        (Some((column, _)), Some(_)) => Err(a.error(
            column,
            format_args!("give either --focus or --focus-http, not both (at column {column})"),
        )),
        (Some((_, value)), None) => match value {
            None => Ok(Some(FocusTarget::Xmpp(None))),
            Some(value) => Jid::new(&value.text)
                .map(|j| Some(FocusTarget::Xmpp(Some(j))))
                .map_err(|e| a.option_error("--focus", value, "FOCUS-JID (a JID)", &e.to_string())),
        },
        (None, Some((_, value))) => {
            let value = value.expect("--focus-http takes a value");
            let url = value.text.as_str();
            if url.starts_with("http://") || url.starts_with("https://") {
                Ok(Some(FocusTarget::Http(url.to_string())))
            } else {
                Err(a.option_error("--focus-http", value, "URL (http:// or https://)", ""))
            }
        }
        (None, None) => Ok(None),
    }
}

/// `--protocol muc|conference|gc` of `/join`.
fn protocol_option(a: &Args) -> Result<Option<confab_proto::Protocol>, ParseError> {
    use confab_proto::Protocol;
    a.option("--protocol")
        .map(|value| match value.text.as_str() {
            "muc" => Ok(Protocol::Muc),
            "conference" => Ok(Protocol::Conference),
            "gc" | "groupchat" => Ok(Protocol::Groupchat),
            _ => Err(a.option_error("--protocol", value, "muc, conference or gc", "")),
        })
        .transpose()
}

fn part(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Part {
        room: a.room(),
        reason: a.text(),
    })
}

fn say(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Say {
        room: a.room(),
        text: a.word(),
    })
}

fn correct(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Correct {
        room: a.room(),
        text: a.word(),
    })
}

fn msg(a: &mut Args) -> Result<Command, ParseError> {
    let to = a.jid();
    Ok(match a.text() {
        Some(text) => Command::Msg { to, text },
        None => Command::OpenChat { jid: to },
    })
}

fn close(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Close {
        jid: a.optional_jid().map(|j| j.to_bare()),
    })
}

fn read(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Read {
        jid: a.optional_jid().map(|j| j.to_bare()),
    })
}

fn nick(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Nick {
        room: a.room(),
        nick: a.word(),
    })
}

fn topic(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Topic {
        room: a.room(),
        text: a.word(),
    })
}

fn status(a: &mut Args) -> Result<Command, ParseError> {
    let target = a.target();
    let (show, column) = a.word_at();
    let show = Show::from_word(&show).ok_or_else(|| {
        a.error(
            column,
            format_args!("expected one of {} at column {column}", SHOWS.join(", ")),
        )
    })?;
    Ok(Command::Status {
        target,
        show,
        text: a.text(),
    })
}

fn config(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Config {
        room: a.room(),
        fields: a.fields(),
    })
}
