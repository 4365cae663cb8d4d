//! Files: upload (XEP-0363), save and open an attachment or link of a
//! message, cancel transfers — each command's table entry and builder.
//! A message is named as `/react` names it (`MessageRef`: its id, or
//! `@NICK` for NICK's newest, `@` the newest with an attachment or link).

use super::parse::{Args, ParseError};
use super::table::{ArgKind, CommandSpec, arg, opt_arg};
use super::{Command, MessageRef};

pub const UPLOAD: CommandSpec = CommandSpec {
    name: "upload",
    aliases: &["sendfile"],
    usage: "/upload PATH [ROOM|JID]",
    help: "Send a file: upload it to the server's upload service (XEP-0363) and send its link to ROOM|JID (with OMEMO on: encrypted first, its aesgcm:// link only inside the OMEMO message; TUI: the current window unless named; Esc or /cancel stops it)",
    args: &[
        arg("PATH", ArgKind::Word),
        opt_arg("ROOM|JID", ArgKind::Room),
    ],
    options: &[],
    forms: &[],
    build: upload,
};

pub const SAVE: CommandSpec = CommandSpec {
    name: "save",
    aliases: &[],
    usage: "/save ROOM|JID ID|@NICK [PATH]",
    help: "Download the file of a message (its attachment or first link; aesgcm:// decrypted) to PATH (a folder or file; default: the download folder)",
    args: &[
        arg("ROOM|JID", ArgKind::Room),
        arg("ID|@NICK", ArgKind::Word),
        opt_arg("PATH", ArgKind::Word),
    ],
    options: &[],
    forms: &[],
    build: save,
};

pub const OPEN: CommandSpec = CommandSpec {
    name: "open",
    aliases: &[],
    usage: "/open ROOM|JID ID|@NICK",
    help: "Open the attachment or first link of a message with the configured opener ([files] opener, default xdg-open; http, https only)",
    args: &[
        arg("ROOM|JID", ArgKind::Room),
        arg("ID|@NICK", ArgKind::Word),
    ],
    options: &[],
    forms: &[],
    build: open,
};

pub const CANCEL: CommandSpec = CommandSpec {
    name: "cancel",
    aliases: &[],
    usage: "/cancel",
    help: "Stop the uploads and downloads under way",
    args: &[],
    options: &[],
    forms: &[],
    build: cancel,
};

fn upload(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Upload {
        path: a.word(),
        to: a.optional_room(),
    })
}

fn save(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Save {
        of: a.room(),
        target: MessageRef::parse(&a.word()),
        path: a.text(),
    })
}

fn open(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Open {
        of: a.room(),
        target: MessageRef::parse(&a.word()),
    })
}

fn cancel(_: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Cancel)
}
