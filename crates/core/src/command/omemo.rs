//! `/omemo`: end-to-end encryption of one-to-one chats and private rooms
//! (XEP-0384) — on or off per conversation, fingerprints, trust — its
//! table entry and builder.

use jid::BareJid;

use super::Command;
use super::parse::{Args, ParseError};
use super::table::{ArgKind, CommandSpec, arg, opt_arg};

/// What `/omemo` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OmemoAction {
    /// Encrypt the conversation with the contact from now on (remembered).
    On,
    Off,
    /// Our own fingerprint and the contact's devices' (all contacts' known
    /// devices without a JID).
    Fingerprints,
    /// Verify the contact's key with this fingerprint.
    Trust(String),
    /// Never encrypt to, and mark, the contact's key with this fingerprint.
    Distrust(String),
}

pub const OMEMO: CommandSpec = CommandSpec {
    name: "omemo",
    aliases: &[],
    usage: "/omemo on|off|fingerprints|trust|distrust [JID] [FINGERPRINT]",
    help: "OMEMO encryption of a one-to-one chat or of a members-only, non-anonymous room (XEP-0384): on or off (remembered; TUI: the current window unless named), show fingerprints, trust or distrust a contact's key by its fingerprint",
    args: &[
        arg(
            "on|off|fingerprints|trust|distrust",
            ArgKind::Choice(&["on", "off", "fingerprints", "trust", "distrust"]),
        ),
        opt_arg("JID", ArgKind::Jid),
        opt_arg("FINGERPRINT", ArgKind::Rest),
    ],
    options: &[],
    forms: &[],
    build: omemo,
};

fn omemo(a: &mut Args) -> Result<Command, ParseError> {
    let action = a.word();
    let jid: Option<BareJid> = a.optional_jid().map(|j| j.to_bare());
    let fp = a.text_at();
    let need_fp = |fp: Option<(String, usize)>| match fp {
        Some((f, _)) => Ok(f),
        None => Err(ParseError::new(
            0,
            "/omemo trust|distrust: give the JID and the fingerprint".to_string(),
        )),
    };
    let action = match action.as_str() {
        "on" => OmemoAction::On,
        "off" => OmemoAction::Off,
        "fingerprints" => OmemoAction::Fingerprints,
        "trust" => OmemoAction::Trust(need_fp(fp)?),
        _ => OmemoAction::Distrust(need_fp(fp)?),
    };
    // `on`/`off` without a JID: the TUI's current window (the app
    // refuses it elsewhere).
    if jid.is_none() && matches!(action, OmemoAction::Trust(_) | OmemoAction::Distrust(_)) {
        return Err(ParseError::new(
            0,
            "/omemo: name the contact (JID)".to_string(),
        ));
    }
    Ok(Command::Omemo { action, jid })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn parses_the_family() {
        let c = parse("/omemo on bob@example.org").unwrap();
        assert_eq!(
            c,
            Command::Omemo {
                action: OmemoAction::On,
                jid: Some("bob@example.org".parse().unwrap())
            }
        );
        let c = parse("/omemo trust bob@example.org 05ab12cd 0011aabb").unwrap();
        assert_eq!(
            c,
            Command::Omemo {
                action: OmemoAction::Trust("05ab12cd 0011aabb".into()),
                jid: Some("bob@example.org".parse().unwrap())
            }
        );
        assert!(parse("/omemo trust bob@example.org").is_err());
        // The TUI fills in the current window.
        assert_eq!(
            parse("/omemo off").unwrap(),
            Command::Omemo {
                action: OmemoAction::Off,
                jid: None
            }
        );
        assert!(matches!(
            parse("/omemo fingerprints"),
            Ok(Command::Omemo {
                action: OmemoAction::Fingerprints,
                jid: None
            })
        ));
    }
}
