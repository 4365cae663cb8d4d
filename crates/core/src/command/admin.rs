//! The moderation commands (XEP-0045 roles and affiliations): kick, ban,
//! voice, role and affiliation changes, the lists, and voice requests.

use jid::{BareJid, Jid};

use super::parse::Value;
use confab_proto::muc::{Affiliation, Role};

/// Role words accepted by `/role`.
pub const ROLES: &[&str] = &["moderator", "participant", "visitor", "none"];
/// Affiliation words accepted by `/affiliation`.
pub const AFFILIATIONS: &[&str] = &["owner", "admin", "member", "outcast", "none"];

/// The names of the moderation commands in the table.
pub const NAMES: &[&str] = &[
    "kick",
    "ban",
    "unban",
    "voice",
    "devoice",
    "role",
    "affiliation",
    "members",
    "admins",
    "owners",
    "outcasts",
    "moderators",
    "request-voice",
];

/// Which list `/members`, `/admins`, `/owners`, `/outcasts` or
/// `/moderators` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminList {
    Affiliation(Affiliation),
    Role(Role),
}

impl AdminList {
    /// The command's name, also the `list` field of the `admin-list` event.
    pub fn name(self) -> &'static str {
        match self {
            AdminList::Affiliation(Affiliation::Owner) => "owners",
            AdminList::Affiliation(Affiliation::Admin) => "admins",
            AdminList::Affiliation(Affiliation::Member) => "members",
            AdminList::Affiliation(Affiliation::Outcast) => "outcasts",
            AdminList::Affiliation(Affiliation::None) => "none",
            AdminList::Role(_) => "moderators",
        }
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
    pub fn name(&self) -> &'static str {
        match self {
            Moderate::Kick { .. } => "kick",
            Moderate::Ban { .. } => "ban",
            Moderate::Unban { .. } => "unban",
            Moderate::Voice { .. } => "voice",
            Moderate::Devoice { .. } => "devoice",
            Moderate::Role { .. } => "role",
            Moderate::Affiliation { .. } => "affiliation",
            Moderate::List { list, .. } => list.name(),
            Moderate::RequestVoice { .. } => "request-voice",
        }
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

fn room(v: Option<(Value, usize)>) -> BareJid {
    match v {
        Some((Value::Room(r), _)) => r,
        _ => unreachable!("the table says this argument is a required room"),
    }
}

fn text(v: Option<(Value, usize)>) -> Option<String> {
    match v {
        Some((Value::Text(t), _)) => Some(t),
        None => None,
        _ => unreachable!("the table says this argument is text"),
    }
}

fn jid(v: Option<(Value, usize)>) -> Jid {
    match v {
        Some((Value::Jid(j), _)) => j,
        _ => unreachable!("the table says this argument is a required JID"),
    }
}

/// Builds the command `name` (one of [`NAMES`]) from its arguments in
/// table order.
pub(super) fn build(name: &str, mut next: impl FnMut() -> Option<(Value, usize)>) -> Moderate {
    let r = room(next());
    match name {
        "kick" => Moderate::Kick {
            room: r,
            nick: text(next()).expect("required"),
            reason: text(next()),
        },
        "ban" => Moderate::Ban {
            room: r,
            target: text(next()).expect("required"),
            reason: text(next()),
        },
        "unban" => Moderate::Unban {
            room: r,
            jid: jid(next()),
        },
        "voice" => Moderate::Voice {
            room: r,
            nick: text(next()).expect("required"),
        },
        "devoice" => Moderate::Devoice {
            room: r,
            nick: text(next()).expect("required"),
        },
        "role" => Moderate::Role {
            room: r,
            nick: text(next()).expect("required"),
            role: Role::parse(&text(next()).expect("required")),
        },
        "affiliation" => Moderate::Affiliation {
            room: r,
            jid: jid(next()),
            affiliation: Affiliation::parse(&text(next()).expect("required")),
        },
        "members" => list(r, AdminList::Affiliation(Affiliation::Member)),
        "admins" => list(r, AdminList::Affiliation(Affiliation::Admin)),
        "owners" => list(r, AdminList::Affiliation(Affiliation::Owner)),
        "outcasts" => list(r, AdminList::Affiliation(Affiliation::Outcast)),
        "moderators" => list(r, AdminList::Role(Role::Moderator)),
        "request-voice" => Moderate::RequestVoice { room: r },
        other => unreachable!("/{other} is not a moderation command"),
    }
}

fn list(room: BareJid, list: AdminList) -> Moderate {
    Moderate::List { room, list }
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
