//! The commands of the room directory and a room's life: rooms, search,
//! info, browse, whois, create, destroy — each command's table entry and
//! its builder.

use super::Command;
use super::parse::{Args, ParseError, room};
use super::table::{ArgKind, CommandSpec, OptSpec, arg, opt_arg};

pub const ROOMS: CommandSpec = CommandSpec {
    name: "rooms",
    aliases: &[],
    usage: "/rooms [SERVICE]",
    help: "List the public rooms of a MUC service (default: your server's)",
    args: &[opt_arg("SERVICE", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: rooms,
};

pub const SEARCH: CommandSpec = CommandSpec {
    name: "search",
    aliases: &[],
    usage: "/search QUERY [SERVICE]",
    help: "Find rooms whose name, JID or description contains QUERY (quote several words)",
    args: &[
        arg("QUERY", ArgKind::Word),
        opt_arg("SERVICE", ArgKind::Jid),
    ],
    options: &[],
    forms: &[],
    build: search,
};

pub const INFO: CommandSpec = CommandSpec {
    name: "info",
    aliases: &[],
    usage: "/info ROOM",
    help: "Show a room's public information: name, description, subject, occupants, features",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[],
    forms: &[],
    build: info,
};

pub const BROWSE: CommandSpec = CommandSpec {
    name: "browse",
    aliases: &[],
    usage: "/browse JID",
    help: "Browse a room, a service or a participant (jabber:iq:browse)",
    args: &[arg("JID", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: browse,
};

pub const WHOIS: CommandSpec = CommandSpec {
    name: "whois",
    aliases: &[],
    usage: "/whois ROOM NICK",
    help: "Show an occupant's real JID, where the room tells it",
    args: &[arg("ROOM", ArgKind::Room), arg("NICK", ArgKind::Nick)],
    options: &[],
    forms: &[],
    build: whois,
};

pub const CREATE: CommandSpec = CommandSpec {
    name: "create",
    aliases: &[],
    usage: "/create ROOM[/NICK] [--instant] [FIELD=VALUE ...]",
    help: "Create a new room: with the defaults (--instant), with these settings, or edit its form",
    args: &[
        arg("ROOM[/NICK]", ArgKind::RoomNick),
        opt_arg("FIELD=VALUE ...", ArgKind::KeyValues),
    ],
    options: &[OptSpec {
        name: "--instant",
        value: None,
        help: "accept the service's default configuration",
    }],
    forms: &[],
    build: create,
};

pub const DESTROY: CommandSpec = CommandSpec {
    name: "destroy",
    aliases: &[],
    usage: "/destroy ROOM [--reason TEXT] [--venue ROOM]",
    help: "Destroy a room you own, telling everyone why and where to go instead",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[
        OptSpec {
            name: "--reason",
            value: Some("TEXT"),
            help: "why the room is destroyed",
        },
        OptSpec {
            name: "--venue",
            value: Some("ROOM"),
            help: "the room to go to instead",
        },
    ],
    forms: &[],
    build: destroy,
};

fn rooms(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Rooms {
        service: a.optional_jid(),
    })
}

fn search(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Search {
        query: a.word(),
        service: a.optional_jid(),
    })
}

fn info(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Info { room: a.room() })
}

fn browse(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Browse { jid: a.jid() })
}

fn whois(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Whois {
        room: a.room(),
        nick: a.word(),
    })
}

fn create(a: &mut Args) -> Result<Command, ParseError> {
    let (room, nick) = a.room_nick();
    Ok(Command::Create {
        room,
        nick,
        fields: a.fields(),
        instant: a.flag("--instant"),
    })
}

fn destroy(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Destroy {
        room: a.room(),
        reason: a.text_option("--reason")?,
        venue: a
            .option("--venue")
            .map(|value| {
                room(&value.text).map_err(|reason| {
                    a.option_error("--venue", value, "ROOM (a room JID)", &reason)
                })
            })
            .transpose()?,
    })
}
