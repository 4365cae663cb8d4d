//! OMEMO 2's plaintext: an XEP-0420 envelope (`proto::sce`) with the
//! message's `<body/>` in `<content/>`, random `<rpad/>`, `<time/>`,
//! `<to/>` and `<from/>` (XEP-0384 §6.1). A received envelope's affixes
//! are checked against the stanza it came in: a `<from/>` that is not the
//! sender or a `<to/>` that is not the addressee is refused, whatever the
//! content says.

use chrono::Utc;
use jid::BareJid;

use crate::protocol::sce::Envelope;

/// The bytes OMEMO 2 encrypts for a one-to-one message.
pub(super) fn envelope(body: &str, from: &BareJid, to: &BareJid) -> Vec<u8> {
    Envelope::body(body, from.clone().into(), to.clone().into(), Utc::now()).to_bytes()
}

/// What a decrypted envelope holds for the conversation: the body text,
/// or `None` (an envelope without a body: nothing to show). `sender`: the
/// stanza's sender; `addressee`: the stanza's recipient; `groupchat`: a
/// room's message (sender: the occupant's real JID, addressee: the room;
/// `<to/>` required).
pub(super) fn open(
    bytes: &[u8],
    sender: &BareJid,
    addressee: &BareJid,
    groupchat: bool,
) -> Result<Option<String>, String> {
    let text = |e: crate::protocol::ErrorInfo| e.text.unwrap_or(e.condition);
    let env = Envelope::parse(bytes).map_err(text)?;
    env.check(sender, addressee, groupchat)
        .map_err(|e| format!("refused: {}", text(e)))?;
    Ok(env.body_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> BareJid {
        s.parse().unwrap()
    }

    #[test]
    fn round_trip_and_forged_affixes() {
        let (alice, bob, eve) = (jid("alice@x.lit"), jid("bob@x.lit"), jid("eve@x.lit"));
        let bytes = envelope("hi <b>", &alice, &bob);
        assert_eq!(
            open(&bytes, &alice, &bob, false).unwrap().as_deref(),
            Some("hi <b>")
        );
        let e = open(&bytes, &eve, &bob, false).unwrap_err();
        assert!(e.contains("<from/> is not the sender"), "{e}");
        let e = open(&bytes, &alice, &eve, false).unwrap_err();
        assert!(e.contains("<to/>"), "{e}");
        assert!(open(b"<x/>", &alice, &bob, false).is_err());
    }

    #[test]
    fn room_envelope_is_to_the_room() {
        let (alice, bob) = (jid("alice@x.lit"), jid("bob@x.lit"));
        let (room, other) = (jid("club@rooms.x.lit"), jid("den@rooms.x.lit"));
        let bytes = envelope("to all", &alice, &room);
        assert_eq!(
            open(&bytes, &alice, &room, true).unwrap().as_deref(),
            Some("to all")
        );
        assert!(open(&bytes, &alice, &other, true).is_err());
        assert!(open(&bytes, &bob, &room, true).is_err());
        // A one-to-one message replayed into a room is not the room's.
        let private = envelope("just you", &alice, &bob);
        let e = open(&private, &alice, &room, true).unwrap_err();
        assert!(e.contains("<to/>"), "{e}");
    }
}
