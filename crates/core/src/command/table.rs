//! The command table: every command's name, aliases, usage, arguments,
//! options and help. The parser ([`super::parse`]), `/help`
//! ([`help_text`]) and completion all read this table, so they cannot
//! drift apart.

/// One command of the command language.
#[derive(Debug)]
pub struct CommandSpec {
    /// Canonical name, without the leading `/`.
    pub name: &'static str,
    /// Other names, without the leading `/`.
    pub aliases: &'static [&'static str],
    /// Usage text; several lines for commands with several forms (`/wait`).
    pub usage: &'static str,
    /// One-line description.
    pub help: &'static str,
    /// Positional arguments, in order.
    pub args: &'static [ArgSpec],
    /// `--options`; they may appear anywhere after the command name.
    pub options: &'static [OptSpec],
}

/// One positional argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    /// Placeholder as written in the usage, e.g. `ROOM`.
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
}

/// What an argument must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A room: a bare JID with a local part (`room@conference.example.org`).
    Room,
    /// `ROOM[/NICK]`: a room, optionally followed by `/` and a nickname.
    RoomNick,
    /// Any JID, including `ROOM/NICK` (full JIDs are allowed).
    Jid,
    /// A room, or the word `all` (every joined room).
    RoomOrAll,
    /// A nickname (non-empty).
    Nick,
    /// Any single word.
    Word,
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// A non-negative decimal number of seconds, e.g. `0.5`.
    Seconds,
    /// Zero or more `KEY=VALUE` words; must be last.
    KeyValues,
    /// The rest of the line verbatim; must be last.
    Rest,
}

impl ArgKind {
    /// A short explanation of what is expected, for error messages and help.
    pub fn describe(self) -> &'static str {
        match self {
            ArgKind::Room => "a room JID like room@conference.example.org",
            ArgKind::RoomNick => "a room JID like room@conference.example.org",
            ArgKind::Jid => "a JID like user@example.org, or room@conference.example.org/nick",
            ArgKind::RoomOrAll => "a room JID like room@conference.example.org, or all",
            ArgKind::Nick => "a nickname",
            ArgKind::Word => "a word",
            ArgKind::Choice(_) => "one of the listed words",
            ArgKind::Seconds => "a number of seconds",
            ArgKind::KeyValues => "a field and its value, like room=room@conference.example.org",
            ArgKind::Rest => "the rest of the line",
        }
    }
}

/// One `--option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptSpec {
    /// Including the dashes, e.g. `--timeout`.
    pub name: &'static str,
    /// Value placeholder (`SECS`, `NICK`, ...); `None` for a flag.
    pub value: Option<&'static str>,
    pub help: &'static str,
}

const fn arg(name: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        required: true,
    }
}

const fn opt_arg(name: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        required: false,
    }
}

/// Presence values accepted by `/status`, in usage order.
pub const SHOWS: &[&str] = &["available", "chat", "away", "xa", "dnd"];

/// The panes `/layout` knows.
pub const LAYOUT_PANES: &[&str] = &["rooms", "people", "events"];

/// The forms of `/wait`, in usage order (the names of [`WAIT_FORMS`]).
pub const WAIT_KINDS: &[&str] = &["message", "occupant", "event"];

const OPT_FROM: OptSpec = OptSpec {
    name: "--from",
    value: Some("NICK"),
    help: "only a message from this nickname",
};
const OPT_CONTAINS: OptSpec = OptSpec {
    name: "--contains",
    value: Some("TEXT"),
    help: "only a message whose body contains TEXT",
};
const OPT_TIMEOUT: OptSpec = OptSpec {
    name: "--timeout",
    value: Some("SECS"),
    help: "fail after SECS seconds (default 30)",
};

/// Every command, in the order `/help` lists them.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
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
    },
    CommandSpec {
        name: "part",
        aliases: &["leave"],
        usage: "/part ROOM [REASON]",
        help: "Leave a room, optionally saying why",
        args: &[arg("ROOM", ArgKind::Room), opt_arg("REASON", ArgKind::Rest)],
        options: &[],
    },
    CommandSpec {
        name: "say",
        aliases: &[],
        usage: "/say ROOM TEXT",
        help: "Send a message to everyone in a room",
        args: &[arg("ROOM", ArgKind::Room), arg("TEXT", ArgKind::Rest)],
        options: &[],
    },
    CommandSpec {
        name: "correct",
        aliases: &["edit"],
        usage: "/correct ROOM TEXT",
        help: "Correct your last message in a room (XEP-0308): it then reads TEXT",
        args: &[arg("ROOM", ArgKind::Room), arg("TEXT", ArgKind::Rest)],
        options: &[],
    },
    CommandSpec {
        name: "msg",
        aliases: &["query"],
        usage: "/msg JID-or-ROOM/NICK TEXT",
        help: "Send a private message to a user, or to a room occupant by ROOM/NICK",
        args: &[
            arg("JID-or-ROOM/NICK", ArgKind::Jid),
            arg("TEXT", ArgKind::Rest),
        ],
        options: &[],
    },
    CommandSpec {
        name: "nick",
        aliases: &[],
        usage: "/nick ROOM NEWNICK",
        help: "Change your nickname in a room",
        args: &[arg("ROOM", ArgKind::Room), arg("NEWNICK", ArgKind::Nick)],
        options: &[],
    },
    CommandSpec {
        name: "topic",
        aliases: &["subject"],
        usage: "/topic ROOM TEXT",
        help: "Set a room's topic (subject)",
        args: &[arg("ROOM", ArgKind::Room), arg("TEXT", ArgKind::Rest)],
        options: &[],
    },
    CommandSpec {
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
    },
    CommandSpec {
        name: "config",
        aliases: &[],
        usage: "/config ROOM [FIELD=VALUE ...]",
        help: "Show a room's configuration form, or set fields of it (e.g. muc#roomconfig_roomname=Lounge)",
        args: &[
            arg("ROOM", ArgKind::Room),
            opt_arg("FIELD=VALUE ...", ArgKind::KeyValues),
        ],
        options: &[],
    },
    CommandSpec {
        name: "rooms",
        aliases: &[],
        usage: "/rooms [SERVICE]",
        help: "List the public rooms of a MUC service (default: your server's)",
        args: &[opt_arg("SERVICE", ArgKind::Jid)],
        options: &[],
    },
    CommandSpec {
        name: "search",
        aliases: &[],
        usage: "/search QUERY [SERVICE]",
        help: "Find rooms whose name, JID or description contains QUERY (quote several words)",
        args: &[
            arg("QUERY", ArgKind::Word),
            opt_arg("SERVICE", ArgKind::Jid),
        ],
        options: &[],
    },
    CommandSpec {
        name: "info",
        aliases: &[],
        usage: "/info ROOM",
        help: "Show a room's public information: name, description, subject, occupants, features",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[],
    },
    CommandSpec {
        name: "browse",
        aliases: &[],
        usage: "/browse JID",
        help: "Browse a room, a service or a participant (jabber:iq:browse)",
        args: &[arg("JID", ArgKind::Jid)],
        options: &[],
    },
    CommandSpec {
        name: "whois",
        aliases: &[],
        usage: "/whois ROOM NICK",
        help: "Show an occupant's real JID, where the room tells it",
        args: &[arg("ROOM", ArgKind::Room), arg("NICK", ArgKind::Nick)],
        options: &[],
    },
    CommandSpec {
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
    },
    CommandSpec {
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
    },
    CommandSpec {
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
    },
    CommandSpec {
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
    },
    CommandSpec {
        name: "unban",
        aliases: &[],
        usage: "/unban ROOM JID",
        help: "Lift a ban (affiliation none)",
        args: &[arg("ROOM", ArgKind::Room), arg("JID", ArgKind::Jid)],
        options: &[],
    },
    CommandSpec {
        name: "voice",
        aliases: &[],
        usage: "/voice ROOM NICK",
        help: "Give an occupant voice (role participant); also grants a voice request",
        args: &[arg("ROOM", ArgKind::Room), arg("NICK", ArgKind::Nick)],
        options: &[],
    },
    CommandSpec {
        name: "devoice",
        aliases: &[],
        usage: "/devoice ROOM NICK",
        help: "Take an occupant's voice away (role visitor)",
        args: &[arg("ROOM", ArgKind::Room), arg("NICK", ArgKind::Nick)],
        options: &[],
    },
    CommandSpec {
        name: "role",
        aliases: &[],
        usage: "/role ROOM NICK ROLE",
        help: "Set an occupant's role: moderator, participant, visitor or none",
        args: &[
            arg("ROOM", ArgKind::Room),
            arg("NICK", ArgKind::Nick),
            arg("ROLE", ArgKind::Choice(super::admin::ROLES)),
        ],
        options: &[],
    },
    CommandSpec {
        name: "affiliation",
        aliases: &[],
        usage: "/affiliation ROOM JID AFFILIATION",
        help: "Set a JID's affiliation with a room: owner, admin, member, outcast or none",
        args: &[
            arg("ROOM", ArgKind::Room),
            arg("JID", ArgKind::Jid),
            arg("AFFILIATION", ArgKind::Choice(super::admin::AFFILIATIONS)),
        ],
        options: &[],
    },
    CommandSpec {
        name: "members",
        aliases: &[],
        usage: "/members ROOM",
        help: "List a room's members",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[],
    },
    CommandSpec {
        name: "admins",
        aliases: &[],
        usage: "/admins ROOM",
        help: "List a room's admins",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[],
    },
    CommandSpec {
        name: "owners",
        aliases: &[],
        usage: "/owners ROOM",
        help: "List a room's owners",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[],
    },
    CommandSpec {
        name: "outcasts",
        aliases: &[],
        usage: "/outcasts ROOM",
        help: "List the JIDs banned from a room",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[],
    },
    CommandSpec {
        name: "moderators",
        aliases: &[],
        usage: "/moderators ROOM",
        help: "List a room's moderators",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[],
    },
    CommandSpec {
        name: "request-voice",
        aliases: &[],
        usage: "/request-voice ROOM",
        help: "Ask the moderators of a moderated room for voice",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[],
    },
    CommandSpec {
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
    },
    CommandSpec {
        name: "invitations",
        aliases: &[],
        usage: "/invitations",
        help: "List the invitations waiting for an answer",
        args: &[],
        options: &[],
    },
    CommandSpec {
        name: "accept",
        aliases: &[],
        usage: "/accept ID",
        help: "Accept invitation ID: join its room (with its password)",
        args: &[arg("ID", ArgKind::Word)],
        options: &[],
    },
    CommandSpec {
        name: "decline",
        aliases: &[],
        usage: "/decline ID [REASON]",
        help: "Decline invitation ID (a mediated one is declined through the room)",
        args: &[arg("ID", ArgKind::Word), opt_arg("REASON", ArgKind::Rest)],
        options: &[],
    },
    CommandSpec {
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
    },
    CommandSpec {
        name: "bookmarks",
        aliases: &[],
        usage: "/bookmarks",
        help: "List your room bookmarks",
        args: &[],
        options: &[],
    },
    CommandSpec {
        name: "unbookmark",
        aliases: &[],
        usage: "/unbookmark ROOM",
        help: "Remove a room's bookmark",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[],
    },
    CommandSpec {
        name: "roster",
        aliases: &["contacts"],
        usage: "/roster",
        help: "List your contacts with their presence and the room they are in, and subscription requests (TUI: Enter joins a contact's room)",
        args: &[],
        options: &[],
    },
    CommandSpec {
        name: "add",
        aliases: &[],
        usage: "/add JID",
        help: "Add a contact and ask to see their presence",
        args: &[arg("JID", ArgKind::Jid)],
        options: &[],
    },
    CommandSpec {
        name: "remove",
        aliases: &[],
        usage: "/remove JID",
        help: "Remove a contact (both presence subscriptions end)",
        args: &[arg("JID", ArgKind::Jid)],
        options: &[],
    },
    CommandSpec {
        name: "approve",
        aliases: &[],
        usage: "/approve JID",
        help: "Let JID see your presence and the rooms you publish (answers their request)",
        args: &[arg("JID", ArgKind::Jid)],
        options: &[],
    },
    CommandSpec {
        name: "deny",
        aliases: &[],
        usage: "/deny JID",
        help: "Refuse JID's subscription request, or stop sharing your presence with JID",
        args: &[arg("JID", ArgKind::Jid)],
        options: &[],
    },
    CommandSpec {
        name: "where",
        aliases: &[],
        usage: "/where JID",
        help: "Show a contact's presence and the room they are in (XEP-0194)",
        args: &[arg("JID", ArgKind::Jid)],
        options: &[],
    },
    CommandSpec {
        name: "chatting",
        aliases: &[],
        usage: "/chatting ROOM|all on|off",
        help: "Tell your contacts that you are in a room (XEP-0194), or stop; all: publishing as a whole",
        args: &[
            arg("ROOM|all", ArgKind::RoomOrAll),
            arg("on|off", ArgKind::Choice(&["on", "off"])),
        ],
        options: &[],
    },
    CommandSpec {
        name: "call",
        aliases: &[],
        usage: "/call ROOM",
        help: "Join the voice conference ROOM of an A/V service (XEP-0521) with your microphone; \
               a text room: its conference of the same name at call_service",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[],
    },
    CommandSpec {
        name: "hangup",
        aliases: &[],
        usage: "/hangup",
        help: "Leave the call",
        args: &[],
        options: &[],
    },
    CommandSpec {
        name: "mute",
        aliases: &[],
        usage: "/mute",
        help: "Stop sending your microphone in the call",
        args: &[],
        options: &[],
    },
    CommandSpec {
        name: "unmute",
        aliases: &[],
        usage: "/unmute",
        help: "Send your microphone again",
        args: &[],
        options: &[],
    },
    CommandSpec {
        name: "deafen",
        aliases: &[],
        usage: "/deafen",
        help: "Stop playing the others in the call (they still hear you unless muted)",
        args: &[],
        options: &[],
    },
    CommandSpec {
        name: "undeafen",
        aliases: &[],
        usage: "/undeafen",
        help: "Play the others in the call again",
        args: &[],
        options: &[],
    },
    CommandSpec {
        name: "devices",
        aliases: &[],
        usage: "/devices",
        help: "List the audio input and output devices",
        args: &[],
        options: &[],
    },
    CommandSpec {
        name: "callconfig",
        aliases: &[],
        usage: "/callconfig ROOM [FIELD=VALUE ...]",
        help: "Show an A/V conference's options (XEP-0050 ad-hoc), or set fields of them",
        args: &[
            arg("ROOM", ArgKind::Room),
            opt_arg("FIELD=VALUE ...", ArgKind::KeyValues),
        ],
        options: &[],
    },
    CommandSpec {
        name: "wait",
        aliases: &[],
        usage: "/wait message ROOM [--from NICK] [--contains TEXT] [--timeout SECS]\n\
                /wait occupant ROOM NICK [--timeout SECS]\n\
                /wait event NAME [KEY=VALUE ...] [--timeout SECS]",
        help: "Wait until a message arrives, an occupant is present or an event happens (for scripts)",
        args: &[arg("KIND", ArgKind::Choice(WAIT_KINDS))],
        options: &[OPT_FROM, OPT_CONTAINS, OPT_TIMEOUT],
    },
    CommandSpec {
        name: "sleep",
        aliases: &[],
        usage: "/sleep SECS",
        help: "Pause for SECS seconds, e.g. 0.5 (for scripts)",
        args: &[arg("SECS", ArgKind::Seconds)],
        options: &[],
    },
    CommandSpec {
        name: "me",
        aliases: &[],
        usage: "/me TEXT",
        help: "Say an action in the current room (TUI; in scripts: /say ROOM /me TEXT)",
        args: &[arg("TEXT", ArgKind::Rest)],
        options: &[],
    },
    CommandSpec {
        name: "win",
        aliases: &["w"],
        usage: "/win N",
        help: "Go to room N of the room list (TUI)",
        args: &[arg("N", ArgKind::Word)],
        options: &[],
    },
    CommandSpec {
        name: "layout",
        aliases: &[],
        usage: "/layout PANE SETTING",
        help: "PANE rooms, people or events; SETTING show, hide, toggle or a width (TUI)",
        args: &[
            arg("PANE", ArgKind::Choice(LAYOUT_PANES)),
            arg("SETTING", ArgKind::Word),
        ],
        options: &[],
    },
    CommandSpec {
        name: "help",
        aliases: &[],
        usage: "/help [COMMAND]",
        help: "List the commands, or explain one command",
        args: &[opt_arg("COMMAND", ArgKind::Word)],
        options: &[],
    },
    CommandSpec {
        name: "quit",
        aliases: &["exit"],
        usage: "/quit",
        help: "Leave all rooms and exit",
        args: &[],
        options: &[],
    },
];

/// The forms of `/wait`. Each form's `name` is the word after `/wait`; its
/// `args` follow that word, and its `options` are the subset of `/wait`'s
/// options that apply to it.
pub static WAIT_FORMS: &[CommandSpec] = &[
    CommandSpec {
        name: "message",
        aliases: &[],
        usage: "/wait message ROOM [--from NICK] [--contains TEXT] [--timeout SECS]",
        help: "Wait for a message in ROOM (matching --from and --contains if given)",
        args: &[arg("ROOM", ArgKind::Room)],
        options: &[OPT_FROM, OPT_CONTAINS, OPT_TIMEOUT],
    },
    CommandSpec {
        name: "occupant",
        aliases: &[],
        usage: "/wait occupant ROOM NICK [--timeout SECS]",
        help: "Wait until NICK is present in ROOM",
        args: &[arg("ROOM", ArgKind::Room), arg("NICK", ArgKind::Nick)],
        options: &[OPT_TIMEOUT],
    },
    CommandSpec {
        name: "event",
        aliases: &[],
        usage: "/wait event NAME [KEY=VALUE ...] [--timeout SECS]",
        help: "Wait for an event called NAME whose fields have the given values",
        args: &[
            arg("NAME", ArgKind::Word),
            opt_arg("KEY=VALUE", ArgKind::KeyValues),
        ],
        options: &[OPT_TIMEOUT],
    },
];

/// The sub-forms of a command (selected by its first argument, a
/// [`ArgKind::Choice`] of their names), or an empty slice.
pub fn forms(command: &str) -> &'static [CommandSpec] {
    match command {
        "wait" => WAIT_FORMS,
        _ => &[],
    }
}

/// Finds a command by name or alias (without the `/`, case-insensitive).
pub fn lookup(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|spec| {
        spec.name.eq_ignore_ascii_case(name)
            || spec.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The command name or alias closest to a misspelt `name`, if any is close.
pub fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    let candidates = COMMANDS
        .iter()
        .flat_map(|spec| std::iter::once(&spec.name).chain(spec.aliases.iter()));
    let mut best: Option<(usize, &'static str)> = None;
    for &candidate in candidates {
        let distance = if candidate.starts_with(&name) {
            // A prefix ("/jo"): as good as one typo.
            1
        } else {
            edit_distance(&name, candidate)
        };
        let limit = if candidate.len() <= 3 { 1 } else { 2 };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance (Levenshtein plus adjacent swaps).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// `unknown command /NAME (did you mean /X?)`, without a column.
pub(crate) fn unknown_command(name: &str) -> String {
    match suggest(name) {
        Some(s) => format!("unknown command /{name} (did you mean /{s}?)"),
        None => format!("unknown command /{name} (type /help for a list)"),
    }
}

/// The one-line synopsis of a command: its usage, or for commands with
/// several forms `/wait message|occupant|event ...`.
fn synopsis(spec: &CommandSpec) -> String {
    let forms = forms(spec.name);
    if forms.is_empty() {
        spec.usage.to_string()
    } else {
        let names: Vec<&str> = forms.iter().map(|f| f.name).collect();
        format!("/{} {} ...", spec.name, names.join("|"))
    }
}

fn option_line(opt: &OptSpec) -> String {
    match opt.value {
        Some(value) => format!("{} {}", opt.name, value),
        None => opt.name.to_string(),
    }
}

/// Help generated from the table.
///
/// `None`: every command, one per line (synopsis and help). `Some(name)`
/// (with or without `/`, aliases allowed): that command's usage, aliases,
/// help and options. An unknown name is an error message.
/// Widest synopsis that shares its line with the help text in `/help`.
const HELP_COLUMN: usize = 52;

pub fn help_text(topic: Option<&str>) -> Result<String, String> {
    let Some(topic) = topic else {
        let rows: Vec<(String, &str)> = COMMANDS.iter().map(|s| (synopsis(s), s.help)).collect();
        // A few very long synopses (`/join` and its options) get a line of
        // their own instead of pushing every help text to the right.
        let width = rows
            .iter()
            .map(|(u, _)| u.chars().count())
            .filter(|&n| n <= HELP_COLUMN)
            .max()
            .unwrap_or(0);
        let mut out = String::from("Commands:\n");
        for (usage, help) in rows {
            if usage.chars().count() > width {
                out.push_str(&format!("  {usage}\n  {:width$}  {help}\n", ""));
            } else {
                out.push_str(&format!("  {usage:<width$}  {help}\n"));
            }
        }
        out.push_str("Type /help COMMAND for details about one command.");
        return Ok(out);
    };
    let name = topic.trim().strip_prefix('/').unwrap_or(topic.trim());
    let spec = lookup(name).ok_or_else(|| unknown_command(name))?;
    let mut out = String::new();
    for line in spec.usage.lines() {
        out.push_str(&format!("Usage: {}\n", line.trim()));
    }
    if !spec.aliases.is_empty() {
        let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("/{a}")).collect();
        out.push_str(&format!("Aliases: {}\n", aliases.join(", ")));
    }
    out.push_str(spec.help);
    out.push('\n');
    let forms = forms(spec.name);
    if !forms.is_empty() {
        out.push_str("Forms:\n");
        let width = forms.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for form in forms {
            out.push_str(&format!("  {:<width$}  {}\n", form.name, form.help));
        }
    }
    if !spec.options.is_empty() {
        out.push_str("Options:\n");
        let rows: Vec<String> = spec.options.iter().map(option_line).collect();
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
        for (row, opt) in rows.iter().zip(spec.options) {
            out.push_str(&format!("  {row:<width$}  {}\n", opt.help));
        }
    }
    Ok(out.trim_end().to_string())
}

#[cfg(test)]
mod tests;
