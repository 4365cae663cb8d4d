//! The commands of invitations, bookmarks and contacts: invite,
//! invitations, accept, decline, bookmark, bookmarks, unbookmark, roster,
//! add, remove, approve, deny, where, chatting — each command's table
//! entry and its builder.

use super::Command;
use super::parse::{Args, ParseError};
use super::table::{ArgKind, CommandSpec, OptSpec, arg, opt_arg};

pub const INVITE: CommandSpec = CommandSpec {
    name: "invite",
    aliases: &[],
    usage: "/invite ROOM JID [REASON] [--mediated]",
    help: "Invite someone to a room: directly (XEP-0249, with the room password), or through the room with --mediated; quote a REASON of several words",
    args: &[
        arg("ROOM", ArgKind::Room),
        arg("JID", ArgKind::Jid),
        opt_arg("REASON", ArgKind::Word),
    ],
    options: &[OptSpec {
        name: "--mediated",
        value: None,
        help: "send the invitation through the room (XEP-0045)",
    }],
    forms: &[],
    build: invite,
};

pub const INVITATIONS: CommandSpec = CommandSpec {
    name: "invitations",
    aliases: &[],
    usage: "/invitations",
    help: "List the invitations waiting for an answer",
    args: &[],
    options: &[],
    forms: &[],
    build: invitations,
};

pub const ACCEPT: CommandSpec = CommandSpec {
    name: "accept",
    aliases: &[],
    usage: "/accept ID",
    help: "Accept invitation ID: join its room (with its password)",
    args: &[arg("ID", ArgKind::Word)],
    options: &[],
    forms: &[],
    build: accept,
};

pub const DECLINE: CommandSpec = CommandSpec {
    name: "decline",
    aliases: &[],
    usage: "/decline ID [REASON]",
    help: "Decline invitation ID (a mediated one is declined through the room)",
    args: &[arg("ID", ArgKind::Word), opt_arg("REASON", ArgKind::Rest)],
    options: &[],
    forms: &[],
    build: decline,
};

pub const BOOKMARK: CommandSpec = CommandSpec {
    name: "bookmark",
    aliases: &[],
    usage: "/bookmark [ROOM] [--autojoin] [--nick N] [--password P]",
    help: "Bookmark a room (or replace its bookmark); --autojoin joins it at every login",
    args: &[opt_arg("ROOM", ArgKind::Room)],
    options: &[
        OptSpec {
            name: "--autojoin",
            value: None,
            help: "join the room at every login",
        },
        OptSpec {
            name: "--nick",
            value: Some("N"),
            help: "the nickname to join with",
        },
        OptSpec {
            name: "--password",
            value: Some("P"),
            help: "the room password",
        },
    ],
    forms: &[],
    build: bookmark,
};

pub const BOOKMARKS: CommandSpec = CommandSpec {
    name: "bookmarks",
    aliases: &[],
    usage: "/bookmarks",
    help: "List your room bookmarks",
    args: &[],
    options: &[],
    forms: &[],
    build: bookmarks,
};

pub const UNBOOKMARK: CommandSpec = CommandSpec {
    name: "unbookmark",
    aliases: &[],
    usage: "/unbookmark ROOM",
    help: "Remove a room's bookmark",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[],
    forms: &[],
    build: unbookmark,
};

pub const ROSTER: CommandSpec = CommandSpec {
    name: "roster",
    aliases: &["contacts"],
    usage: "/roster",
    help: "List your contacts with their presence and the room they are in, and subscription requests (TUI: Enter opens the conversation with a contact, Alt-J joins their room)",
    args: &[],
    options: &[],
    forms: &[],
    build: roster,
};

pub const ADD: CommandSpec = CommandSpec {
    name: "add",
    aliases: &[],
    usage: "/add JID",
    help: "Add a contact and ask to see their presence",
    args: &[arg("JID", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: add,
};

pub const REMOVE: CommandSpec = CommandSpec {
    name: "remove",
    aliases: &[],
    usage: "/remove JID",
    help: "Remove a contact (both presence subscriptions end)",
    args: &[arg("JID", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: remove,
};

pub const APPROVE: CommandSpec = CommandSpec {
    name: "approve",
    aliases: &[],
    usage: "/approve JID",
    help: "Let JID see your presence and the rooms you publish (answers their request)",
    args: &[arg("JID", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: approve,
};

pub const DENY: CommandSpec = CommandSpec {
    name: "deny",
    aliases: &[],
    usage: "/deny JID",
    help: "Refuse JID's subscription request, or stop sharing your presence with JID",
    args: &[arg("JID", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: deny,
};

pub const WHERE: CommandSpec = CommandSpec {
    name: "where",
    aliases: &[],
    usage: "/where JID",
    help: "Show a contact's presence and the room they are in (XEP-0194)",
    args: &[arg("JID", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: where_contact,
};

pub const CHATTING: CommandSpec = CommandSpec {
    name: "chatting",
    aliases: &[],
    usage: "/chatting ROOM|all on|off",
    help: "Tell your contacts that you are in a room (XEP-0194), or stop; all: publishing as a whole",
    args: &[
        arg("ROOM|all", ArgKind::RoomOrAll),
        arg("on|off", ArgKind::Choice(&["on", "off"])),
    ],
    options: &[],
    forms: &[],
    build: chatting,
};

fn invite(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Invite {
        room: a.room(),
        to: a.jid(),
        reason: a.text(),
        mediated: a.flag("--mediated"),
    })
}

fn invitations(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Invitations)
}

fn accept(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Accept { id: a.word() })
}

fn decline(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Decline {
        id: a.word(),
        reason: a.text(),
    })
}

fn bookmark(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Bookmark {
        room: a.optional_room(),
        autojoin: a.flag("--autojoin"),
        nick: a.nick_option("--nick")?,
        password: a.text_option("--password")?,
        name: None,
    })
}

fn bookmarks(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Bookmarks)
}

fn unbookmark(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Unbookmark { room: a.room() })
}

fn roster(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Roster)
}

fn add(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::AddContact { jid: a.contact() })
}

fn remove(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::RemoveContact { jid: a.contact() })
}

fn approve(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Approve { jid: a.contact() })
}

fn deny(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Deny { jid: a.contact() })
}

fn where_contact(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Where {
        contact: a.contact(),
    })
}

fn chatting(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Chatting {
        target: a.target(),
        publish: a.text().as_deref() == Some("on"),
    })
}
