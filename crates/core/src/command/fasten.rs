//! The commands that act on one message: react, reply, retract, moderate
//! — each command's table entry and its builder. A message is named by a
//! reference (`MessageRef`): the id each XEP uses (in a room the room's
//! stanza-id, in a one-to-one chat the message id, as the `message`
//! events give them), or `@NICK` for the newest message of NICK (`@` for
//! the newest message of the other side of a chat, `@me` for our own).

use jid::Jid;

use super::Command;
use super::parse::{Args, ParseError};
use super::table::{ArgKind, CommandSpec, arg, opt_arg};

/// Which message a command acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageRef {
    /// Its id (stanza-id in a room, message id in a chat).
    Id(String),
    /// The newest message of this nick in a room (`None`: of the other
    /// side of a chat, or anyone's); `Some("me")`: our own newest.
    LastOf(Option<String>),
}

impl MessageRef {
    pub fn parse(word: &str) -> MessageRef {
        match word.strip_prefix('@') {
            Some("") => MessageRef::LastOf(None),
            Some(nick) => MessageRef::LastOf(Some(nick.to_string())),
            None => MessageRef::Id(word.to_string()),
        }
    }
}

pub const REACT: CommandSpec = CommandSpec {
    name: "react",
    aliases: &[],
    usage: "/react ROOM-or-JID ID|@NICK [EMOJI ...]",
    help: "React to a message (XEP-0444): toggle each EMOJI; none: withdraw yours (ID: its stanza_id or id; @NICK: their last)",
    args: &[
        arg("ROOM-or-JID", ArgKind::Jid),
        arg("ID|@NICK", ArgKind::Word),
        opt_arg("EMOJI ...", ArgKind::Rest),
    ],
    options: &[],
    forms: &[],
    build: react,
};

pub const REPLY: CommandSpec = CommandSpec {
    name: "reply",
    aliases: &[],
    usage: "/reply ROOM-or-JID ID|@NICK TEXT",
    help: "Answer a message (XEP-0461), quoting its first line",
    args: &[
        arg("ROOM-or-JID", ArgKind::Jid),
        arg("ID|@NICK", ArgKind::Word),
        arg("TEXT", ArgKind::Rest),
    ],
    options: &[],
    forms: &[],
    build: reply,
};

pub const RETRACT: CommandSpec = CommandSpec {
    name: "retract",
    aliases: &[],
    usage: "/retract ROOM-or-JID [ID]",
    help: "Take back your message (XEP-0424; default: your last one)",
    args: &[
        arg("ROOM-or-JID", ArgKind::Jid),
        opt_arg("ID", ArgKind::Word),
    ],
    options: &[],
    forms: &[],
    build: retract,
};

pub const MODERATE: CommandSpec = CommandSpec {
    name: "moderate",
    aliases: &[],
    usage: "/moderate ROOM ID|@NICK [REASON]",
    help: "Remove anyone's message as a moderator (XEP-0425)",
    args: &[
        arg("ROOM", ArgKind::Room),
        arg("ID|@NICK", ArgKind::Word),
        opt_arg("REASON", ArgKind::Rest),
    ],
    options: &[],
    forms: &[],
    build: moderate,
};

fn window(a: &mut Args) -> Jid {
    Jid::from(a.jid().to_bare())
}

fn react(a: &mut Args) -> Result<Command, ParseError> {
    let to = window(a);
    let target = MessageRef::parse(&a.word());
    let emojis = a
        .text()
        .map(|t| t.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    Ok(Command::React { to, target, emojis })
}

fn reply(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Reply {
        to: window(a),
        target: MessageRef::parse(&a.word()),
        text: a.word(),
    })
}

fn retract(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Retract {
        to: window(a),
        target: a.text().map_or(MessageRef::LastOf(Some("me".into())), |w| {
            MessageRef::parse(&w)
        }),
    })
}

fn moderate(a: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::RemoveMessage {
        room: a.room(),
        target: MessageRef::parse(&a.word()),
        reason: a.text(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse;

    #[test]
    fn the_commands_parse() {
        assert_eq!(
            parse("/react r@c.example s-1 👍 🎉").unwrap(),
            Command::React {
                to: Jid::new("r@c.example").unwrap(),
                target: MessageRef::Id("s-1".into()),
                emojis: vec!["👍".into(), "🎉".into()],
            }
        );
        assert_eq!(
            parse("/react bob@example.org/phone @").unwrap(),
            Command::React {
                to: Jid::new("bob@example.org").unwrap(),
                target: MessageRef::LastOf(None),
                emojis: vec![],
            }
        );
        assert_eq!(
            parse("/reply r@c.example @anna Great idea!").unwrap(),
            Command::Reply {
                to: Jid::new("r@c.example").unwrap(),
                target: MessageRef::LastOf(Some("anna".into())),
                text: "Great idea!".into(),
            }
        );
        assert_eq!(
            parse("/retract r@c.example").unwrap(),
            Command::Retract {
                to: Jid::new("r@c.example").unwrap(),
                target: MessageRef::LastOf(Some("me".into())),
            }
        );
        assert_eq!(
            parse("/moderate r@c.example s-9 spam, again").unwrap(),
            Command::RemoveMessage {
                room: jid::BareJid::new("r@c.example").unwrap(),
                target: MessageRef::Id("s-9".into()),
                reason: Some("spam, again".into()),
            }
        );
        assert!(parse("/reply r@c.example s-1").is_err());
        assert!(parse("/moderate r@c.example").is_err());
    }
}
