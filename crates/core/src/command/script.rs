//! The commands of scripts and of the TUI alone: wait (and its forms),
//! sleep, me, win, layout, help, quit — each command's table entry and its
//! builder.

use super::parse::{Args, ParseError, seconds};
use super::table::{
    self, ArgKind, CommandSpec, LAYOUT_PANES, OPT_CONTAINS, OPT_FROM, OPT_TIMEOUT, OptSpec,
    WAIT_KINDS, arg, opt_arg,
};
use super::{Command, DEFAULT_WAIT, LayoutSetting, Wait, WaitKind};

pub const WAIT: CommandSpec = CommandSpec {
    name: "wait",
    aliases: &[],
    usage: "/wait message ROOM [--from NICK] [--contains TEXT] [--timeout SECS]\n\
            /wait occupant ROOM NICK [--timeout SECS]\n\
            /wait event NAME [KEY=VALUE ...] [--timeout SECS]",
    help: "Wait until a message arrives, an occupant is present or an event happens (for scripts)",
    args: &[arg("KIND", ArgKind::Choice(WAIT_KINDS))],
    options: &[OPT_FROM, OPT_CONTAINS, OPT_TIMEOUT],
    forms: &[WAIT_MESSAGE, WAIT_OCCUPANT, WAIT_EVENT],
    build: wait,
};

pub const SLEEP: CommandSpec = CommandSpec {
    name: "sleep",
    aliases: &[],
    usage: "/sleep SECS",
    help: "Pause for SECS seconds, e.g. 0.5 (for scripts)",
    args: &[arg("SECS", ArgKind::Seconds)],
    options: &[],
    forms: &[],
    build: sleep,
};

pub const ME: CommandSpec = CommandSpec {
    name: "me",
    aliases: &[],
    usage: "/me TEXT",
    help: "Say an action in the current room (TUI; in scripts: /say ROOM /me TEXT)",
    args: &[arg("TEXT", ArgKind::Rest)],
    options: &[],
    forms: &[],
    build: me,
};

pub const WIN: CommandSpec = CommandSpec {
    name: "win",
    aliases: &["w"],
    usage: "/win N",
    help: "Go to room N of the room list (TUI)",
    args: &[arg("N", ArgKind::Word)],
    options: &[],
    forms: &[],
    build: win,
};

pub const LAYOUT: CommandSpec = CommandSpec {
    name: "layout",
    aliases: &[],
    usage: "/layout PANE SETTING",
    help: "PANE rooms, people or events; SETTING show, hide, toggle or a width (TUI)",
    args: &[
        arg("PANE", ArgKind::Choice(LAYOUT_PANES)),
        arg("SETTING", ArgKind::Word),
    ],
    options: &[],
    forms: &[],
    build: layout,
};

pub const HELP: CommandSpec = CommandSpec {
    name: "help",
    aliases: &[],
    usage: "/help [COMMAND]",
    help: "List the commands, or explain one command",
    args: &[opt_arg("COMMAND", ArgKind::Word)],
    options: &[],
    forms: &[],
    build: help,
};

pub const XMLCONSOLE: CommandSpec = CommandSpec {
    name: "xmlconsole",
    aliases: &[],
    usage: "/xmlconsole [on|off] [--filter TEXT]",
    help: "Show the stanzas in and out as they pass, secrets masked (TUI: a view; batch: xml events); no argument toggles",
    args: &[opt_arg("on|off", ArgKind::Choice(&["on", "off"]))],
    options: &[OptSpec {
        name: "--filter",
        value: Some("TEXT"),
        help: "only the stanzas that contain TEXT",
    }],
    forms: &[],
    build: xmlconsole,
};

pub const QUIT: CommandSpec = CommandSpec {
    name: "quit",
    aliases: &["exit"],
    usage: "/quit",
    help: "Leave all rooms and exit",
    args: &[],
    options: &[],
    forms: &[],
    build: quit,
};

pub const WAIT_MESSAGE: CommandSpec = CommandSpec {
    name: "message",
    aliases: &[],
    usage: "/wait message ROOM [--from NICK] [--contains TEXT] [--timeout SECS]",
    help: "Wait for a message in ROOM (matching --from and --contains if given)",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[OPT_FROM, OPT_CONTAINS, OPT_TIMEOUT],
    forms: &[],
    build: wait_message,
};

pub const WAIT_OCCUPANT: CommandSpec = CommandSpec {
    name: "occupant",
    aliases: &[],
    usage: "/wait occupant ROOM NICK [--timeout SECS]",
    help: "Wait until NICK is present in ROOM",
    args: &[arg("ROOM", ArgKind::Room), arg("NICK", ArgKind::Nick)],
    options: &[OPT_TIMEOUT],
    forms: &[],
    build: wait_occupant,
};

pub const WAIT_EVENT: CommandSpec = CommandSpec {
    name: "event",
    aliases: &[],
    usage: "/wait event NAME [KEY=VALUE ...] [--timeout SECS]",
    help: "Wait for an event called NAME whose fields have the given values",
    args: &[
        arg("NAME", ArgKind::Word),
        opt_arg("KEY=VALUE", ArgKind::KeyValues),
    ],
    options: &[OPT_TIMEOUT],
    forms: &[],
    build: wait_event,
};

/// `/wait`: the form its first argument chose builds the command.
fn wait(a: &mut Args) -> Result<Command, ParseError> {
    match a.form() {
        Some(form) => {
            // KIND, the form's name.
            a.word();
            (form.build)(a)
        }
        None => Err(a.error(0, "expected message, occupant or event at column 0")),
    }
}

fn wait_message(a: &mut Args) -> Result<Command, ParseError> {
    let kind = WaitKind::Message {
        room: a.room(),
        from: a.nick_option("--from")?,
        contains: a.text_option("--contains")?,
    };
    waiting(a, kind)
}

fn wait_occupant(a: &mut Args) -> Result<Command, ParseError> {
    let kind = WaitKind::Occupant {
        room: a.room(),
        nick: a.word(),
    };
    waiting(a, kind)
}

fn wait_event(a: &mut Args) -> Result<Command, ParseError> {
    let kind = WaitKind::Event {
        name: a.word(),
        fields: a.fields(),
    };
    waiting(a, kind)
}

/// A `/wait` with its `--timeout`.
fn waiting(a: &Args, kind: WaitKind) -> Result<Command, ParseError> {
    let timeout = match a.option("--timeout") {
        Some(value) => seconds(&value.text).map_err(|reason| {
            a.option_error("--timeout", value, "SECS (a number of seconds)", &reason)
        })?,
        None => DEFAULT_WAIT,
    };
    Ok(Command::Wait(Wait { kind, timeout }))
}

fn sleep(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Sleep(a.seconds()))
}

fn me(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Me { text: a.word() })
}

fn win(a: &mut Args) -> Result<Command, ParseError> {
    let (word, column) = a.word_at();
    match word.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Command::Win(n)),
        _ => Err(a.error(
            column,
            format_args!(
                "/win: expected N (a room number from 1) at column {column}, found {word:?}"
            ),
        )),
    }
}

fn layout(a: &mut Args) -> Result<Command, ParseError> {
    let pane = a.word();
    let (word, column) = a.word_at();
    let setting =
        match word.to_ascii_lowercase().as_str() {
            "show" => LayoutSetting::Show,
            "hide" => LayoutSetting::Hide,
            "toggle" => LayoutSetting::Toggle,
            w => match w.parse::<u16>() {
                Ok(n) if n <= 80 && pane != "events" => LayoutSetting::Width(n),
                _ => {
                    return Err(a.error(
                    column,
                    format_args!(
                        "/layout: expected show, hide, toggle{} at column {column}, found {word:?}",
                        if pane == "events" { "" } else { " or a width from 0 to 80" }
                    ),
                ));
                }
            },
        };
    Ok(Command::Layout { pane, setting })
}

/// `/help [COMMAND]`: the command must exist; yields its canonical name.
fn help(a: &mut Args) -> Result<Command, ParseError> {
    let Some((word, column)) = a.text_at() else {
        return Ok(Command::Help { topic: None });
    };
    let name = word.strip_prefix('/').unwrap_or(&word);
    match table::lookup(name) {
        Some(spec) => Ok(Command::Help {
            topic: Some(spec.name.to_string()),
        }),
        None => Err(a.error(
            column,
            format_args!("{} at column {column}", table::unknown_command(name)),
        )),
    }
}

fn quit(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Quit)
}

fn xmlconsole(a: &mut Args) -> Result<Command, ParseError> {
    let on = a.text().map(|w| w == "on");
    Ok(Command::XmlConsole {
        on,
        filter: a.text_option("--filter")?,
    })
}
