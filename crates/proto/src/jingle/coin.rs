//! XEP-0298 Coin `<conference-info xmlns='urn:xmpp:coin:1'/>` as a child
//! of `<jingle/>`: the focus flag and, for XEP-0521 forwarded streams, the
//! `<users><user entity='…'/></users>` whose stream a session carries.
//! The entity is any URI (`xmpp:…`, `sip:…`, or something else).

use minidom::Element;

use super::super::{nc, ns};

/// RFC 4575's namespace: `<users>` inside a Coin element is read in it
/// too (XEP-0298 reuses its format).
pub const CONFERENCE_INFO: &str = "urn:ietf:params:xml:ns:conference-info";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoinUser {
    /// The entity URI as sent (`xmpp:juliet@capulet.lit`, `sip:…`).
    pub entity: String,
    /// A `<display-text/>`, if any.
    pub display: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConferenceInfo {
    pub isfocus: bool,
    pub users: Vec<CoinUser>,
}

impl ConferenceInfo {
    /// What an SFU sends with a forwarded stream: focus, one user.
    pub fn focus_of(entity: &str) -> ConferenceInfo {
        ConferenceInfo {
            isfocus: true,
            users: vec![CoinUser {
                entity: entity.to_string(),
                display: None,
            }],
        }
    }

    /// The first user's entity (whose stream this is), if any.
    pub fn entity(&self) -> Option<&str> {
        self.users.first().map(|u| u.entity.as_str())
    }
}

/// An entity for display: `xmpp:` URIs as the JID, others as they are.
pub fn display_entity(entity: &str) -> &str {
    entity.strip_prefix("xmpp:").unwrap_or(entity)
}

/// `<conference-info xmlns='urn:xmpp:coin:1' isfocus='…'>` with
/// `<users><user entity='…'/></users>` when there are users.
pub fn build(info: &ConferenceInfo) -> Element {
    let mut b = Element::builder("conference-info", ns::COIN)
        .attr(nc("isfocus"), if info.isfocus { "true" } else { "false" });
    if !info.users.is_empty() {
        let mut users = Element::builder("users", ns::COIN);
        for u in &info.users {
            let mut user = Element::builder("user", ns::COIN).attr(nc("entity"), u.entity.as_str());
            if let Some(d) = &u.display {
                user = user.append(
                    Element::builder("display-text", ns::COIN)
                        .append(d.as_str())
                        .build(),
                );
            }
            users = users.append(user.build());
        }
        b = b.append(users.build());
    }
    b.build()
}

/// Reads a Coin `<conference-info/>` (`None` for any other element).
/// `isfocus` is true for `true`/`1`; users without an entity are left out.
pub fn parse(el: &Element) -> Option<ConferenceInfo> {
    if !el.is("conference-info", ns::COIN) {
        return None;
    }
    let isfocus = matches!(el.attr("isfocus"), Some("true") | Some("1"));
    let in_ns = |e: &Element, name: &str| e.is(name, ns::COIN) || e.is(name, CONFERENCE_INFO);
    let users = el
        .children()
        .filter(|c| in_ns(c, "users"))
        .flat_map(|u| u.children())
        .filter(|u| in_ns(u, "user"))
        .filter_map(|u| {
            let entity = u.attr("entity").filter(|e| !e.is_empty())?;
            let display = u
                .children()
                .find(|d| in_ns(d, "display-text"))
                .map(|d| d.text())
                .filter(|t| !t.is_empty());
            Some(CoinUser {
                entity: entity.to_string(),
                display,
            })
        })
        .collect();
    Some(ConferenceInfo { isfocus, users })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    #[test]
    fn xep_0298_focus_flag_without_users() {
        // XEP-0298 §5: a mixer's session-initiate carries the bare flag.
        let c = parse(&el(
            "<conference-info xmlns='urn:xmpp:coin:1' isfocus='true'/>",
        ))
        .unwrap();
        assert!(c.isfocus);
        assert!(c.users.is_empty());
        assert_eq!(c.entity(), None);
        assert_eq!(
            build(&c),
            el("<conference-info xmlns='urn:xmpp:coin:1' isfocus='true'/>")
        );
    }

    #[test]
    fn user_entity_round_trip_any_uri() {
        for entity in [
            "xmpp:alice@localhost",
            "sip:alice@example.com",
            "Mallory's phone",
        ] {
            let c = ConferenceInfo::focus_of(entity);
            let back = parse(&build(&c)).unwrap();
            assert_eq!(back, c);
            assert_eq!(back.entity(), Some(entity));
        }
        assert_eq!(display_entity("xmpp:alice@localhost"), "alice@localhost");
        assert_eq!(
            display_entity("sip:alice@example.com"),
            "sip:alice@example.com"
        );
    }

    #[test]
    fn reads_users_in_the_rfc_4575_namespace_and_display_text() {
        let c = parse(&el("<conference-info xmlns='urn:xmpp:coin:1' isfocus='1'>\
               <users xmlns='urn:ietf:params:xml:ns:conference-info'>\
               <user entity='xmpp:juliet@capulet.lit' state='full'><display-text>Juliet</display-text></user>\
               <user/>\
               </users></conference-info>"))
        .unwrap();
        assert!(c.isfocus);
        assert_eq!(c.users.len(), 1, "the user without entity is left out");
        assert_eq!(c.users[0].entity, "xmpp:juliet@capulet.lit");
        assert_eq!(c.users[0].display.as_deref(), Some("Juliet"));
        assert_eq!(parse(&build(&c)).unwrap(), c);
    }

    #[test]
    fn other_elements_and_non_focus() {
        assert!(
            parse(&el(
                "<conference-info xmlns='urn:ietf:params:xml:ns:conference-info' entity='x'/>"
            ))
            .is_none()
        );
        let c = parse(&el(
            "<conference-info xmlns='urn:xmpp:coin:1' isfocus='false'/>",
        ))
        .unwrap();
        assert!(!c.isfocus);
        let c = parse(&el("<conference-info xmlns='urn:xmpp:coin:1'/>")).unwrap();
        assert!(!c.isfocus);
    }
}
