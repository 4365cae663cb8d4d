//! The moderation commands (XEP-0045 roles and affiliations): kick, ban,
//! voice, role and affiliation changes, the lists, and voice requests.

use jid::{BareJid, Jid};

use super::Command;
use super::parse::{Args, ParseError};
use super::table::{ArgKind, CommandSpec, arg, opt_arg};
use confab_proto::muc::{Affiliation, Role};

/// Role words accepted by `/role`.
pub const ROLES: &[&str] = &["moderator", "participant", "visitor", "none"];
/// Affiliation words accepted by `/affiliation`.
pub const AFFILIATIONS: &[&str] = &["owner", "admin", "member", "outcast", "none"];

/// The names of the moderation commands in the table.
pub const NAMES: &[&str] = &[
    KICK.name,
    BAN.name,
    UNBAN.name,
    VOICE.name,
    DEVOICE.name,
    ROLE.name,
    AFFILIATION.name,
    MEMBERS.name,
    ADMINS.name,
    OWNERS.name,
    OUTCASTS.name,
    MODERATORS.name,
    REQUEST_VOICE.name,
];

/// Which list `/members`, `/admins`, `/owners`, `/outcasts` or
/// `/moderators` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminList {
    Affiliation(Affiliation),
    Role(Role),
}

impl AdminList {
    /// The table entry of the command that asks for this list.
    pub fn spec(self) -> &'static CommandSpec {
        match self {
            AdminList::Affiliation(Affiliation::Owner) => &OWNERS,
            AdminList::Affiliation(Affiliation::Admin) => &ADMINS,
            // No command asks for the list of affiliation none.
            AdminList::Affiliation(Affiliation::Member | Affiliation::None) => &MEMBERS,
            AdminList::Affiliation(Affiliation::Outcast) => &OUTCASTS,
            AdminList::Role(_) => &MODERATORS,
        }
    }

    /// The command's name, also the `list` field of the `admin-list` event.
    pub fn name(self) -> &'static str {
        match self {
            AdminList::Affiliation(Affiliation::None) => "none",
            list => list.spec().name,
        }
    }
}

/// In events (`admin-list`'s `list`): its name, e.g. `"members"`.
impl serde::Serialize for AdminList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A moderation command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moderate {
    /// `/kick ROOM NICK [REASON]`: role `none`.
    Kick {
        room: BareJid,
        nick: String,
        reason: Option<String>,
    },
    /// `/ban ROOM NICK-or-JID [REASON]`: affiliation `outcast` (a nick is
    /// resolved to the occupant's real JID).
    Ban {
        room: BareJid,
        target: String,
        reason: Option<String>,
    },
    /// `/unban ROOM JID`: affiliation `none`.
    Unban { room: BareJid, jid: Jid },
    /// `/voice ROOM NICK`: role `participant`.
    Voice { room: BareJid, nick: String },
    /// `/devoice ROOM NICK`: role `visitor`.
    Devoice { room: BareJid, nick: String },
    /// `/role ROOM NICK ROLE`
    Role {
        room: BareJid,
        nick: String,
        role: Role,
    },
    /// `/affiliation ROOM JID AFFILIATION`
    Affiliation {
        room: BareJid,
        jid: Jid,
        affiliation: Affiliation,
    },
    /// `/members ROOM` and the other lists.
    List { room: BareJid, list: AdminList },
    /// `/request-voice ROOM`: a visitor asks the moderators for voice.
    RequestVoice { room: BareJid },
}

impl Moderate {
    /// The command's table entry.
    pub fn spec(&self) -> &'static CommandSpec {
        match self {
            Moderate::Kick { .. } => &KICK,
            Moderate::Ban { .. } => &BAN,
            Moderate::Unban { .. } => &UNBAN,
            Moderate::Voice { .. } => &VOICE,
            Moderate::Devoice { .. } => &DEVOICE,
            Moderate::Role { .. } => &ROLE,
            Moderate::Affiliation { .. } => &AFFILIATION,
            Moderate::List { list, .. } => list.spec(),
            Moderate::RequestVoice { .. } => &REQUEST_VOICE,
        }
    }

    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    pub fn room(&self) -> &BareJid {
        match self {
            Moderate::Kick { room, .. }
            | Moderate::Ban { room, .. }
            | Moderate::Unban { room, .. }
            | Moderate::Voice { room, .. }
            | Moderate::Devoice { room, .. }
            | Moderate::Role { room, .. }
            | Moderate::Affiliation { room, .. }
            | Moderate::List { room, .. }
            | Moderate::RequestVoice { room } => room,
        }
    }
}

pub const KICK: CommandSpec = CommandSpec {
    name: "kick",
    aliases: &[],
    usage: "/kick ROOM NICK [REASON]",
    help: "Kick an occupant out of a room (role none), optionally saying why",
    args: &[
        arg("ROOM", ArgKind::Room),
        arg("NICK", ArgKind::Nick),
        opt_arg("REASON", ArgKind::Rest),
    ],
    options: &[],
    forms: &[],
    build: kick,
};

pub const BAN: CommandSpec = CommandSpec {
    name: "ban",
    aliases: &[],
    usage: "/ban ROOM NICK-or-JID [REASON]",
    help: "Ban someone from a room (affiliation outcast); a nick is banned by its real JID",
    args: &[
        arg("ROOM", ArgKind::Room),
        arg("NICK-or-JID", ArgKind::Nick),
        opt_arg("REASON", ArgKind::Rest),
    ],
    options: &[],
    forms: &[],
    build: ban,
};

pub const UNBAN: CommandSpec = CommandSpec {
    name: "unban",
    aliases: &[],
    usage: "/unban ROOM JID",
    help: "Lift a ban (affiliation none)",
    args: &[arg("ROOM", ArgKind::Room), arg("JID", ArgKind::Jid)],
    options: &[],
    forms: &[],
    build: unban,
};

pub const VOICE: CommandSpec = CommandSpec {
    name: "voice",
    aliases: &[],
    usage: "/voice ROOM NICK",
    help: "Give an occupant voice (role participant); also grants a voice request",
    args: &[arg("ROOM", ArgKind::Room), arg("NICK", ArgKind::Nick)],
    options: &[],
    forms: &[],
    build: voice,
};

pub const DEVOICE: CommandSpec = CommandSpec {
    name: "devoice",
    aliases: &[],
    usage: "/devoice ROOM NICK",
    help: "Take an occupant's voice away (role visitor)",
    args: &[arg("ROOM", ArgKind::Room), arg("NICK", ArgKind::Nick)],
    options: &[],
    forms: &[],
    build: devoice,
};

pub const ROLE: CommandSpec = CommandSpec {
    name: "role",
    aliases: &[],
    usage: "/role ROOM NICK ROLE",
    help: "Set an occupant's role: moderator, participant, visitor or none",
    args: &[
        arg("ROOM", ArgKind::Room),
        arg("NICK", ArgKind::Nick),
        arg("ROLE", ArgKind::Choice(ROLES)),
    ],
    options: &[],
    forms: &[],
    build: role,
};

pub const AFFILIATION: CommandSpec = CommandSpec {
    name: "affiliation",
    aliases: &[],
    usage: "/affiliation ROOM JID AFFILIATION",
    help: "Set a JID's affiliation with a room: owner, admin, member, outcast or none",
    args: &[
        arg("ROOM", ArgKind::Room),
        arg("JID", ArgKind::Jid),
        arg("AFFILIATION", ArgKind::Choice(AFFILIATIONS)),
    ],
    options: &[],
    forms: &[],
    build: affiliation,
};

pub const MEMBERS: CommandSpec = CommandSpec {
    name: "members",
    aliases: &[],
    usage: "/members ROOM",
    help: "List a room's members",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[],
    forms: &[],
    build: members,
};

pub const ADMINS: CommandSpec = CommandSpec {
    name: "admins",
    aliases: &[],
    usage: "/admins ROOM",
    help: "List a room's admins",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[],
    forms: &[],
    build: admins,
};

pub const OWNERS: CommandSpec = CommandSpec {
    name: "owners",
    aliases: &[],
    usage: "/owners ROOM",
    help: "List a room's owners",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[],
    forms: &[],
    build: owners,
};

pub const OUTCASTS: CommandSpec = CommandSpec {
    name: "outcasts",
    aliases: &[],
    usage: "/outcasts ROOM",
    help: "List the JIDs banned from a room",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[],
    forms: &[],
    build: outcasts,
};

pub const MODERATORS: CommandSpec = CommandSpec {
    name: "moderators",
    aliases: &[],
    usage: "/moderators ROOM",
    help: "List a room's moderators",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[],
    forms: &[],
    build: moderators,
};

pub const REQUEST_VOICE: CommandSpec = CommandSpec {
    name: "request-voice",
    aliases: &[],
    usage: "/request-voice ROOM",
    help: "Ask the moderators of a moderated room for voice",
    args: &[arg("ROOM", ArgKind::Room)],
    options: &[],
    forms: &[],
    build: request_voice,
};

fn kick(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Moderate(Moderate::Kick {
        room: a.room(),
        nick: a.word(),
        reason: a.text(),
    }))
}

fn ban(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Moderate(Moderate::Ban {
        room: a.room(),
        target: a.word(),
        reason: a.text(),
    }))
}

fn unban(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Moderate(Moderate::Unban {
        room: a.room(),
        jid: a.jid(),
    }))
}

fn voice(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Moderate(Moderate::Voice {
        room: a.room(),
        nick: a.word(),
    }))
}

fn devoice(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Moderate(Moderate::Devoice {
        room: a.room(),
        nick: a.word(),
    }))
}

fn role(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Moderate(Moderate::Role {
        room: a.room(),
        nick: a.word(),
        role: Role::parse(&a.word()),
    }))
}

fn affiliation(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Moderate(Moderate::Affiliation {
        room: a.room(),
        jid: a.jid(),
        affiliation: Affiliation::parse(&a.word()),
    }))
}

fn list(a: &mut Args, list: AdminList) -> Result<Command, ParseError> {
    Ok(Command::Moderate(Moderate::List {
        room: a.room(),
        list,
    }))
}

fn members(a: &mut Args) -> Result<Command, ParseError> {
    list(a, AdminList::Affiliation(Affiliation::Member))
}

fn admins(a: &mut Args) -> Result<Command, ParseError> {
    list(a, AdminList::Affiliation(Affiliation::Admin))
}

fn owners(a: &mut Args) -> Result<Command, ParseError> {
    list(a, AdminList::Affiliation(Affiliation::Owner))
}

fn outcasts(a: &mut Args) -> Result<Command, ParseError> {
    list(a, AdminList::Affiliation(Affiliation::Outcast))
}

fn moderators(a: &mut Args) -> Result<Command, ParseError> {
    list(a, AdminList::Role(Role::Moderator))
}

fn request_voice(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Moderate(Moderate::RequestVoice { room: a.room() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, parse};

    fn ok(line: &str) -> Moderate {
        match parse(line) {
            Ok(Command::Moderate(m)) => m,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    fn err(line: &str) -> String {
        match parse(line) {
            Ok(c) => panic!("{line:?} parsed as {c:?}"),
            Err(e) => e.message,
        }
    }

    fn r() -> BareJid {
        BareJid::new("r@c").unwrap()
    }

    #[test]
    fn kick_and_ban() {
        assert_eq!(
            ok("/kick r@c bob  go away now"),
            Moderate::Kick {
                room: r(),
                nick: "bob".into(),
                reason: Some("go away now".into())
            }
        );
        assert_eq!(
            ok("/kick r@c \"Mister X\""),
            Moderate::Kick {
                room: r(),
                nick: "Mister X".into(),
                reason: None
            }
        );
        assert_eq!(
            ok("/ban r@c bob@localhost Treason"),
            Moderate::Ban {
                room: r(),
                target: "bob@localhost".into(),
                reason: Some("Treason".into())
            }
        );
        assert_eq!(
            ok("/unban r@c bob@localhost"),
            Moderate::Unban {
                room: r(),
                jid: Jid::new("bob@localhost").unwrap()
            }
        );
        assert!(err("/kick r@c").contains("expected NICK"));
        assert!(err("/kick bob").contains("expected ROOM"));
        assert!(err("/unban r@c").contains("expected JID"));
        assert!(err("/unban r@c a@b@c").contains("expected JID"));
    }

    #[test]
    fn roles_and_affiliations() {
        assert_eq!(
            ok("/voice r@c carol"),
            Moderate::Voice {
                room: r(),
                nick: "carol".into()
            }
        );
        assert_eq!(
            ok("/devoice r@c carol"),
            Moderate::Devoice {
                room: r(),
                nick: "carol".into()
            }
        );
        assert_eq!(
            ok("/role r@c carol MODERATOR"),
            Moderate::Role {
                room: r(),
                nick: "carol".into(),
                role: Role::Moderator
            }
        );
        assert_eq!(
            ok("/affiliation r@c carol@localhost member"),
            Moderate::Affiliation {
                room: r(),
                jid: Jid::new("carol@localhost").unwrap(),
                affiliation: Affiliation::Member
            }
        );
        assert_eq!(
            ok("/affiliation r@c carol@localhost none").name(),
            "affiliation"
        );
        assert!(err("/role r@c carol king").contains("expected one of moderator, participant"));
        assert!(
            err("/affiliation r@c carol@localhost friend")
                .contains("expected one of owner, admin, member, outcast, none")
        );
        assert!(err("/voice r@c carol extra").contains("unexpected extra argument"));
    }

    #[test]
    fn lists_and_voice_requests() {
        for (line, name) in [
            ("/members r@c", "members"),
            ("/admins r@c", "admins"),
            ("/owners r@c", "owners"),
            ("/outcasts r@c", "outcasts"),
            ("/moderators r@c", "moderators"),
            ("/request-voice r@c", "request-voice"),
        ] {
            let m = ok(line);
            assert_eq!(m.name(), name);
            assert_eq!(m.room(), &r());
            assert_eq!(Command::Moderate(m).name(), name);
        }
        assert_eq!(
            ok("/outcasts r@c"),
            Moderate::List {
                room: r(),
                list: AdminList::Affiliation(Affiliation::Outcast)
            }
        );
        assert_eq!(
            ok("/moderators r@c"),
            Moderate::List {
                room: r(),
                list: AdminList::Role(Role::Moderator)
            }
        );
        assert!(err("/members").contains("expected ROOM"));
        assert!(err("/request-voice r@c now").contains("unexpected extra argument"));
    }

    #[test]
    fn every_name_is_in_the_table() {
        for name in NAMES {
            let spec = crate::command::table::lookup(name).expect("in the table");
            assert_eq!(&spec.name, name);
        }
    }
}
