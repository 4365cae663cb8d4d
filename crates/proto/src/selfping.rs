//! XEP-0410 MUC Self-Ping: a ping to our own occupant JID tells whether
//! the room still has us.

use minidom::Element;

use super::{ErrorInfo, ns};

/// What the answer to a self-ping means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfPing {
    /// Still in the room.
    Joined,
    /// The room no longer has us (or is gone): rejoin.
    Dropped,
    /// No decision (the MUC service is unreachable, or no answer): ask
    /// again later.
    Unknown,
}

/// The ping payload (sent as a get to `room/ournick`).
pub fn ping() -> Element {
    Element::builder("ping", ns::PING).build()
}

/// Classifies the answer to a self-ping (XEP-0410 §3.2). `Err` with
/// `remote-server-timeout` is also what an unanswered ping becomes.
pub fn classify(answer: &Result<Option<Element>, ErrorInfo>) -> SelfPing {
    match answer {
        Ok(_) => SelfPing::Joined,
        Err(e) => match e.condition.as_str() {
            // The ping reached our own client (through the room), which
            // does not answer pings: still joined.
            "service-unavailable" | "feature-not-implemented" => SelfPing::Joined,
            // Not an occupant, or the room (service) is gone.
            "not-acceptable" | "item-not-found" | "remote-server-not-found" => SelfPing::Dropped,
            "remote-server-timeout" => SelfPing::Unknown,
            // Any other error: probably not joined any more.
            _ => SelfPing::Dropped,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    fn error(xml: &str) -> Result<Option<Element>, ErrorInfo> {
        Err(ErrorInfo::from_error_element(&el(xml)))
    }

    #[test]
    fn answers_of_xep_0410() {
        // Example 2: the room answers for us.
        assert_eq!(classify(&Ok(None)), SelfPing::Joined);
        // Example 3: the room forwarded the ping to our client, which does
        // not support it.
        assert_eq!(
            classify(&error(
                "<error xmlns='jabber:client' type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
            )),
            SelfPing::Joined
        );
        assert_eq!(
            classify(&error(
                "<error xmlns='jabber:client' type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
            )),
            SelfPing::Joined
        );
        // Example 4: not joined (Prosody: "You are not currently connected
        // to this chat").
        assert_eq!(
            classify(&error(
                "<error xmlns='jabber:client' type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>You are not currently connected to this chat</text></error>"
            )),
            SelfPing::Dropped
        );
        for gone in ["item-not-found", "remote-server-not-found", "bad-request"] {
            let xml = format!(
                "<error xmlns='jabber:client' type='cancel'><{gone} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
            );
            assert_eq!(classify(&error(&xml)), SelfPing::Dropped, "{gone}");
        }
        assert_eq!(
            classify(&Err(ErrorInfo::new("remote-server-timeout", None))),
            SelfPing::Unknown
        );
    }

    #[test]
    fn ping_payload() {
        let p = ping();
        assert!(p.is("ping", "urn:xmpp:ping"));
        assert_eq!(p.children().count(), 0);
    }
}
