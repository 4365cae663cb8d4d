//! Who may answer what we sent, and ids nobody can guess.
//!
//! An IQ answer or a message error is matched to what we sent by its id,
//! and ids travel in the open (a room shows our message ids to every
//! occupant). So an answer counts only when it comes from the entity the
//! request went to (RFC 6120 §8.1.2.1 for IQs); and every id we make is
//! random (128 bits), so that a stranger cannot even aim at a request in
//! flight.

use jid::{FullJid, Jid};

/// A fresh id: `confab-PREFIX-` and 128 random bits in hex. Used for IQ
/// ids (requests, self-pings, keep-alive pings), message ids (which are
/// also our XEP-0359 origin-ids) and MAM queryids.
pub fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    // The OS random source does not fail on the systems we run on; if it
    // ever did, nothing we send could be trusted to be ours.
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let mut id = String::with_capacity(prefix.len() + 39);
    id.push_str("confab-");
    id.push_str(prefix);
    id.push('-');
    for b in bytes {
        id.push(char::from_digit(u32::from(b >> 4), 16).expect("a nibble"));
        id.push(char::from_digit(u32::from(b & 0xf), 16).expect("a nibble"));
    }
    id
}

/// Whether `from` may answer an IQ request we sent to `to`, logged in as
/// `own`. RFC 6120 §8.1.2.1: a request without `to` (or to our own bare
/// JID) is handled by our server for our account, and its answer comes
/// with no `from`, from our bare JID, our full JID or our server's
/// domain; any other request is answered by the entity it went to, and
/// only by it (compared as parsed JIDs).
pub fn answers_iq(to: Option<&Jid>, from: Option<&Jid>, own: Option<&FullJid>) -> bool {
    let to_account = match (to, own) {
        (None, _) => true,
        (Some(t), Some(own)) => t.resource().is_none() && t.to_bare() == own.to_bare(),
        (Some(_), None) => false,
    };
    if to_account {
        let Some(from) = from else {
            return true;
        };
        let Some(own) = own else {
            // Not bound yet: only an answer without `from` is certain.
            return false;
        };
        let bare = from.resource().is_none();
        return (bare && from.to_bare() == own.to_bare())
            || from.try_as_full().ok() == Some(own)
            || (bare && from.node().is_none() && from.domain() == own.domain());
    }
    from.is_some() && from == to
}

/// Whether `from` may bounce a message we sent to `to` (an error with its
/// id). The entity it went to answers: for a room (groupchat, or its bare
/// JID) exactly the room's bare JID — an occupant's JID `room/nick` is
/// someone else; for a full JID exactly that JID; for an account's bare
/// JID that account (its server, or one of its clients).
pub fn bounces_message(to: &Jid, to_room: bool, from: Option<&Jid>) -> bool {
    let Some(from) = from else {
        return false;
    };
    if from == to {
        return true;
    }
    !to_room && to.resource().is_none() && from.to_bare() == to.to_bare()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Jid {
        Jid::new(s).unwrap()
    }

    #[test]
    fn ids_are_random_and_well_formed() {
        let a = random_id("iq");
        let b = random_id("iq");
        assert_ne!(a, b);
        assert!(a.starts_with("confab-iq-"), "{a}");
        let hex = a.strip_prefix("confab-iq-").unwrap();
        assert_eq!(hex.len(), 32);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
        // 1,000 ids, no two alike.
        let many: std::collections::HashSet<String> = (0..1000).map(|_| random_id("msg")).collect();
        assert_eq!(many.len(), 1000);
    }

    #[test]
    fn requests_to_our_account_are_answered_by_our_server() {
        let own = FullJid::new("alice@localhost/confab").unwrap();
        let own = Some(&own);
        for to in [None, Some(j("alice@localhost"))] {
            let to = to.as_ref();
            assert!(answers_iq(to, None, own));
            assert!(answers_iq(to, Some(&j("alice@localhost")), own));
            assert!(answers_iq(to, Some(&j("alice@localhost/confab")), own));
            assert!(answers_iq(to, Some(&j("localhost")), own));
            // Another account, another of our own clients, another server,
            // a JID on our server that is not the server.
            for other in [
                "mallory@localhost",
                "mallory@localhost/peer",
                "alice@localhost/other",
                "evil.example",
                "localhost/x",
                "conference.localhost",
            ] {
                assert!(!answers_iq(to, Some(&j(other)), own), "{other}");
            }
        }
        // Before binding, only a `from`-less answer is our server's.
        assert!(answers_iq(None, None, None));
        assert!(!answers_iq(None, Some(&j("localhost")), None));
    }

    #[test]
    fn other_requests_are_answered_by_their_addressee_only() {
        let own = FullJid::new("alice@localhost/confab").unwrap();
        let own = Some(&own);
        let room = j("r@conference.localhost");
        assert!(answers_iq(
            Some(&room),
            Some(&j("r@conference.localhost")),
            own
        ));
        // Parsed, not compared as text: the domain's case does not matter.
        assert!(answers_iq(
            Some(&room),
            Some(&j("r@Conference.Localhost")),
            own
        ));
        for other in [
            "r@conference.localhost/mallory",
            "mallory@localhost/peer",
            "conference.localhost",
            "localhost",
            "alice@localhost",
        ] {
            assert!(!answers_iq(Some(&room), Some(&j(other)), own), "{other}");
        }
        assert!(!answers_iq(Some(&room), None, own));
        // A full JID (a self-ping goes to room/nick).
        let occupant = j("r@conference.localhost/alice");
        assert!(answers_iq(Some(&occupant), Some(&occupant), own));
        assert!(!answers_iq(Some(&occupant), Some(&room), own));
        // The server itself.
        let server = j("localhost");
        assert!(answers_iq(Some(&server), Some(&server), own));
        assert!(!answers_iq(Some(&server), None, own));
    }

    #[test]
    fn message_errors_come_from_where_the_message_went() {
        let room = j("r@conference.localhost");
        assert!(bounces_message(&room, true, Some(&room)));
        for other in [
            "r@conference.localhost/mallory",
            "mallory@localhost/peer",
            "conference.localhost",
        ] {
            assert!(!bounces_message(&room, true, Some(&j(other))), "{other}");
        }
        assert!(!bounces_message(&room, true, None));
        // A private message in a room: that occupant.
        let occupant = j("r@conference.localhost/bob");
        assert!(bounces_message(&occupant, false, Some(&occupant)));
        assert!(!bounces_message(&occupant, false, Some(&room)));
        assert!(!bounces_message(
            &occupant,
            false,
            Some(&j("r@conference.localhost/mallory"))
        ));
        // An account: its server or its clients, nobody else.
        let bob = j("bob@localhost");
        assert!(bounces_message(&bob, false, Some(&bob)));
        assert!(bounces_message(
            &bob,
            false,
            Some(&j("bob@localhost/phone"))
        ));
        assert!(!bounces_message(&bob, false, Some(&j("mallory@localhost"))));
        assert!(!bounces_message(&bob, false, Some(&j("localhost"))));
    }
}
