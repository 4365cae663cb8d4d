//! The buffer tools: find, export, clear, ignore, unignore, ignored —
//! each command's table entry and its builder.

use jid::BareJid;

use super::Command;
use super::parse::{Args, ParseError};
use super::table::{ArgKind, CommandSpec, OptSpec, arg, opt_arg};

pub const FIND: CommandSpec = CommandSpec {
    name: "find",
    aliases: &[],
    usage: "/find WORDS [ROOM|JID]",
    help: "Find messages with all the WORDS (quote several) in the whole local history, or one room's or contact's, newest first (TUI: Enter shows the message in its window)",
    args: &[
        arg("WORDS", ArgKind::Word),
        opt_arg("ROOM|JID", ArgKind::Room),
    ],
    options: &[],
    forms: &[],
    build: find,
};

pub const EXPORT: CommandSpec = CommandSpec {
    name: "export",
    aliases: &[],
    usage: "/export ROOM|JID [FILE] [--json]",
    help: "Write a room's or contact's local history to FILE (default: the exports folder of the data directory) as plain text, or JSON lines with --json or a .jsonl FILE",
    args: &[
        arg("ROOM|JID", ArgKind::Room),
        opt_arg("FILE", ArgKind::Word),
    ],
    options: &[OptSpec {
        name: "--json",
        value: None,
        help: "one JSON object per message",
    }],
    forms: &[],
    build: export,
};

pub const CLEAR: CommandSpec = CommandSpec {
    name: "clear",
    aliases: &[],
    usage: "/clear",
    help: "Clear the window's message pane (the screen only: the history keeps every line; scrolling back shows them again)",
    args: &[],
    options: &[],
    forms: &[],
    build: clear,
};

pub const IGNORE: CommandSpec = CommandSpec {
    name: "ignore",
    aliases: &[],
    usage: "/ignore ROOM|JID [NICK]",
    help: "Hide someone's messages and typing: NICK in ROOM (by occupant-id where the room offers it, else real JID or nick), or a JID everywhere; remembered",
    args: &[
        arg("ROOM|JID", ArgKind::Room),
        opt_arg("NICK", ArgKind::Nick),
    ],
    options: &[],
    forms: &[],
    build: ignore,
};

pub const UNIGNORE: CommandSpec = CommandSpec {
    name: "unignore",
    aliases: &[],
    usage: "/unignore ROOM|JID [NICK]",
    help: "Show the messages of NICK in ROOM, or of JID, again",
    args: &[
        arg("ROOM|JID", ArgKind::Room),
        opt_arg("NICK", ArgKind::Nick),
    ],
    options: &[],
    forms: &[],
    build: unignore,
};

pub const IGNORED: CommandSpec = CommandSpec {
    name: "ignored",
    aliases: &[],
    usage: "/ignored",
    help: "List whom you ignore",
    args: &[],
    options: &[],
    forms: &[],
    build: ignored,
};

fn find(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Find {
        text: a.word(),
        within: a.optional_room(),
    })
}

fn export(a: &mut Args) -> Result<Command, ParseError> {
    let of = a.room();
    let file = a.text();
    let json = a.flag("--json") || file.as_deref().is_some_and(|f| f.ends_with(".jsonl"));
    Ok(Command::Export { of, file, json })
}

fn clear(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Clear)
}

fn target(a: &mut Args) -> (BareJid, Option<String>) {
    (a.room(), a.text())
}

fn ignore(a: &mut Args) -> Result<Command, ParseError> {
    let (jid, nick) = target(a);
    Ok(Command::Ignore { jid, nick })
}

fn unignore(a: &mut Args) -> Result<Command, ParseError> {
    let (jid, nick) = target(a);
    Ok(Command::Unignore { jid, nick })
}

fn ignored(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Ignored)
}
