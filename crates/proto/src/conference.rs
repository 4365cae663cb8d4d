//! Generic conferencing (seed 000): `jabber:iq:conference` to learn a
//! room's requirements and to enter it, and `jabber:iq:browse` for the
//! room's type, name and participants (browse results and the pushes a
//! room sends its participants). Builders and lenient parsers on plain
//! elements; the namespace of the stanza around them does not matter.

use minidom::Element;
use serde::Serialize;

use super::{ErrorInfo, bad, nc};

/// `jabber:iq:conference`.
pub const CONFERENCE: &str = "jabber:iq:conference";
/// `jabber:iq:browse`.
pub const BROWSE: &str = "jabber:iq:browse";

/// `<query xmlns='jabber:iq:conference'/>`: the `get` for a room's
/// requirements (and, once inside, our id and nick again).
pub fn get() -> Element {
    Element::builder("query", CONFERENCE).build()
}

/// What the `get` says about a room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requirements {
    /// A nick is to be chosen (else the room assigns one).
    pub nick: bool,
    /// A secret (password) is needed.
    pub secret: bool,
    /// The room offers privacy (real JID hidden, only messages relayed).
    pub privacy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The current topic, where the room says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Our id in the room, when we are in it (a get then answers like the
    /// set did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Our nick there, likewise (or the nick a room suggests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_nick: Option<String>,
}

fn text_of(el: &Element) -> Option<String> {
    let t = el.text();
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parses the result of the `get`.
pub fn parse_requirements(result: Option<&Element>) -> Result<Requirements, ErrorInfo> {
    let q = result
        .filter(|q| q.is("query", CONFERENCE))
        .ok_or_else(|| bad("no jabber:iq:conference answer"))?;
    let mut r = Requirements::default();
    for c in q.children().filter(|c| c.ns() == CONFERENCE) {
        match c.name() {
            "nick" => {
                r.nick = true;
                if r.current_nick.is_none() {
                    r.current_nick = text_of(c);
                }
            }
            "secret" => r.secret = true,
            "privacy" => r.privacy = true,
            "name" => r.name = text_of(c),
            "topic" => r.topic = text_of(c),
            "id" => r.id = text_of(c),
            _ => {}
        }
    }
    Ok(r)
}

/// What the `set` carries: to enter (or to create a room after a 404),
/// or, once inside, to change the nick.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub secret: Option<String>,
    /// Nicks in order of preference.
    pub nicks: Vec<String>,
    pub privacy: bool,
    /// The room's name (only when creating it).
    pub name: Option<String>,
}

/// `<query xmlns='jabber:iq:conference'><secret/><nick/>…<privacy/><name/>`.
pub fn set(entry: &Entry) -> Element {
    let mut q = Element::builder("query", CONFERENCE);
    if let Some(s) = &entry.secret {
        q = q.append(
            Element::builder("secret", CONFERENCE)
                .append(s.as_str())
                .build(),
        );
    }
    for n in &entry.nicks {
        q = q.append(
            Element::builder("nick", CONFERENCE)
                .append(n.as_str())
                .build(),
        );
    }
    if entry.privacy {
        q = q.append(Element::builder("privacy", CONFERENCE).build());
    }
    if let Some(n) = &entry.name {
        q = q.append(
            Element::builder("name", CONFERENCE)
                .append(n.as_str())
                .build(),
        );
    }
    q.build()
}

/// The set's result: who we are in the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entered {
    /// Our temporary JID in the room (`grp@gserv/a32d…`), as sent.
    pub id: String,
    pub nick: String,
}

/// Parses the result of the `set`.
pub fn parse_entered(result: Option<&Element>) -> Result<Entered, ErrorInfo> {
    let r = parse_requirements(result)?;
    match (r.id, r.current_nick) {
        (Some(id), Some(nick)) => Ok(Entered { id, nick }),
        _ => Err(bad("the room's answer has no id and nick")),
    }
}

/// `<query xmlns='jabber:iq:browse'/>`.
pub fn browse_get() -> Element {
    Element::builder("query", BROWSE).build()
}

/// One entry of a browse result (`<user jid name/>`, `<conference …/>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrowseItem {
    /// The element's name: `user`, `conference`, `service`…
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// A browse result or push: the browsed entity and what it lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Browse {
    #[serde(flatten)]
    pub item: BrowseItem,
    /// Children: participants of a conference, rooms of a service.
    pub items: Vec<BrowseItem>,
    /// `<ns>` namespaces the entity speaks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

impl Browse {
    /// The participants (`<user/>` children with a JID).
    pub fn users(&self) -> impl Iterator<Item = &BrowseItem> {
        self.items
            .iter()
            .filter(|i| i.category == "user" && i.jid.is_some())
    }
}

fn item_of(el: &Element) -> BrowseItem {
    let attr = |n: &str| el.attr(n).filter(|v| !v.is_empty()).map(str::to_string);
    BrowseItem {
        category: el.name().to_string(),
        jid: attr("jid"),
        name: attr("name"),
        type_: attr("type"),
    }
}

/// Parses a browse result or push: any element in `jabber:iq:browse`.
pub fn parse_browse(result: Option<&Element>) -> Result<Browse, ErrorInfo> {
    let top = result
        .filter(|e| e.ns() == BROWSE)
        .ok_or_else(|| bad("no jabber:iq:browse answer"))?;
    let mut b = Browse {
        item: item_of(top),
        items: Vec::new(),
        namespaces: Vec::new(),
    };
    for c in top.children().filter(|c| c.ns() == BROWSE) {
        if c.name() == "ns" {
            if let Some(t) = text_of(c) {
                b.namespaces.push(t);
            }
        } else {
            b.items.push(item_of(c));
        }
    }
    Ok(b)
}

/// Builds a browse element: `<category xmlns='jabber:iq:browse' …>` with
/// `items` as children (used by the testbed service, and in tests).
pub fn browse_element(item: &BrowseItem, items: &[BrowseItem], namespaces: &[&str]) -> Element {
    fn one(i: &BrowseItem) -> minidom::ElementBuilder {
        let mut b = Element::builder(i.category.as_str(), BROWSE);
        if let Some(j) = &i.jid {
            b = b.attr(nc("jid"), j.as_str());
        }
        if let Some(t) = &i.type_ {
            b = b.attr(nc("type"), t.as_str());
        }
        if let Some(n) = &i.name {
            b = b.attr(nc("name"), n.as_str());
        }
        b
    }
    let mut top = one(item);
    for i in items {
        top = top.append(one(i).build());
    }
    for n in namespaces {
        top = top.append(Element::builder("ns", BROWSE).append(*n).build());
    }
    top.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::el;

    #[test]
    fn requirements_from_the_seed() {
        let r = parse_requirements(Some(&el(
            "<query xmlns='jabber:iq:conference'><nick/><secret/><privacy/><name>Demo Room</name></query>",
        )))
        .unwrap();
        assert!(r.nick && r.secret && r.privacy);
        assert_eq!(r.name.as_deref(), Some("Demo Room"));
        assert_eq!(r.topic, None);
        assert_eq!(r.id, None);
        let none = parse_requirements(Some(&el("<query xmlns='jabber:iq:conference'/>"))).unwrap();
        assert_eq!(none, Requirements::default());
        assert!(parse_requirements(None).is_err());
        assert!(parse_requirements(Some(&el("<query xmlns='jabber:iq:browse'/>"))).is_err());
    }

    #[test]
    fn set_as_in_the_seed_and_back() {
        let entry = Entry {
            secret: Some("foo".into()),
            nicks: vec!["dude".into(), "dude_".into()],
            privacy: true,
            name: None,
        };
        let q = set(&entry);
        assert_eq!(
            q,
            el(
                "<query xmlns='jabber:iq:conference'><secret>foo</secret><nick>dude</nick><nick>dude_</nick><privacy/></query>"
            )
        );
        let created = set(&Entry {
            name: Some("Demo Room".into()),
            ..Default::default()
        });
        assert_eq!(
            parse_requirements(Some(&created)).unwrap().name.as_deref(),
            Some("Demo Room")
        );
    }

    #[test]
    fn entered_from_the_seed() {
        let e = parse_entered(Some(&el(
            "<query xmlns='jabber:iq:conference'><id>grp@gserv/a32d</id><nick>dude</nick></query>",
        )))
        .unwrap();
        assert_eq!(e.id, "grp@gserv/a32d");
        assert_eq!(e.nick, "dude");
        let e = parse_entered(Some(&el(
            "<query xmlns='jabber:iq:conference'><nick>dude</nick></query>",
        )))
        .unwrap_err();
        assert_eq!(e.condition, "bad-request");
    }

    #[test]
    fn browse_push_from_the_seed() {
        let b = parse_browse(Some(&el(
            "<conference type='private' xmlns='jabber:iq:browse' name='Demo Room'>\
               <user jid='grp@gserv/d351' name='jer'/>\
               <user jid='grp@gserv/a32d' name='dude'/>\
             </conference>",
        )))
        .unwrap();
        assert_eq!(b.item.category, "conference");
        assert_eq!(b.item.type_.as_deref(), Some("private"));
        assert_eq!(b.item.name.as_deref(), Some("Demo Room"));
        let users: Vec<(&str, &str)> = b
            .users()
            .map(|u| (u.jid.as_deref().unwrap(), u.name.as_deref().unwrap()))
            .collect();
        assert_eq!(
            users,
            [("grp@gserv/d351", "jer"), ("grp@gserv/a32d", "dude")]
        );
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json["type"], "private");
        assert_eq!(json["items"][1]["name"], "dude");
    }

    #[test]
    fn browse_round_trip_with_namespaces() {
        let item = BrowseItem {
            category: "service".into(),
            jid: Some("legacy.localhost".into()),
            name: Some("Legacy".into()),
            type_: Some("private".into()),
        };
        let rooms = [BrowseItem {
            category: "conference".into(),
            jid: Some("lounge@legacy.localhost".into()),
            name: Some("Lounge".into()),
            type_: Some("public".into()),
        }];
        let e = browse_element(&item, &rooms, &[CONFERENCE]);
        let b = parse_browse(Some(&e)).unwrap();
        assert_eq!(b.item, item);
        assert_eq!(b.items, rooms);
        assert_eq!(b.namespaces, [CONFERENCE]);
        assert_eq!(b.users().count(), 0);
        assert!(parse_browse(Some(&el("<query xmlns='jabber:iq:conference'/>"))).is_err());
    }
}
