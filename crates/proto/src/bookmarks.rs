//! Room bookmarks: XEP-0402 (PEP native bookmarks, node
//! `urn:xmpp:bookmarks:1`, one item per room) where the server announces
//! `urn:xmpp:bookmarks:1#compat` on the account, else XEP-0048 (private XML
//! storage, `<storage xmlns='storage:bookmarks'>` via `jabber:iq:private`).

use jid::BareJid;
use minidom::Element;

use super::pep::Publication;
use super::{ErrorInfo, nc, ns};

pub const NS_BOOKMARKS2: &str = "urn:xmpp:bookmarks:1";
pub const NS_COMPAT: &str = "urn:xmpp:bookmarks:1#compat";
pub const NS_STORAGE: &str = "storage:bookmarks";
pub const NS_PRIVATE: &str = "jabber:iq:private";
pub const NS_PUBSUB: &str = "http://jabber.org/protocol/pubsub";

/// Where the bookmarks are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// XEP-0402 in PEP.
    Pep,
    /// XEP-0048 in private XML storage.
    Private,
}

/// One room bookmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark {
    pub room: BareJid,
    pub name: Option<String>,
    pub autojoin: bool,
    pub nick: Option<String>,
    pub password: Option<String>,
}

fn is_true(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "1"))
}

fn child_text(el: &Element, name: &str, ns: &str) -> Option<String> {
    el.get_child(name, ns)
        .map(Element::text)
        .filter(|t| !t.is_empty())
}

/// The account's disco#info query (sent to our own bare JID).
pub fn disco_info() -> Element {
    Element::builder("query", ns::DISCO_INFO).build()
}

/// Which storage to use, from the account's disco#info result: XEP-0402
/// when `urn:xmpp:bookmarks:1#compat` is announced, else XEP-0048.
pub fn backend_from_disco(info: Option<&Element>) -> Backend {
    let compat = info.is_some_and(|q| {
        q.children()
            .any(|f| f.is("feature", ns::DISCO_INFO) && f.attr("var") == Some(NS_COMPAT))
    });
    if compat {
        Backend::Pep
    } else {
        Backend::Private
    }
}

// ---- XEP-0402 ----

/// `<conference xmlns='urn:xmpp:bookmarks:1'>` for a bookmark.
fn conference2(b: &Bookmark) -> Element {
    let mut c = Element::builder("conference", NS_BOOKMARKS2)
        .attr(nc("autojoin"), if b.autojoin { "true" } else { "false" });
    if let Some(n) = &b.name {
        c = c.attr(nc("name"), n.as_str());
    }
    if let Some(n) = &b.nick {
        c = c.append(
            Element::builder("nick", NS_BOOKMARKS2)
                .append(n.as_str())
                .build(),
        );
    }
    if let Some(p) = &b.password {
        c = c.append(
            Element::builder("password", NS_BOOKMARKS2)
                .append(p.as_str())
                .build(),
        );
    }
    c.build()
}

/// The publication of one bookmark (XEP-0402 §3.2), with the
/// publish-options the XEP asks for.
pub fn pep_publication(b: &Bookmark) -> Publication {
    Publication {
        node: NS_BOOKMARKS2,
        id: b.room.to_string(),
        payload: conference2(b),
        options: vec![
            ("pubsub#persist_items", "true"),
            ("pubsub#max_items", "max"),
            ("pubsub#send_last_published_item", "never"),
            ("pubsub#access_model", "whitelist"),
        ],
    }
}

/// Publishes (adds or replaces) one bookmark with every publish-option.
pub fn pep_publish(b: &Bookmark) -> Element {
    pep_publication(b).with_options()
}

/// Fetches every bookmark (XEP-0402 §3.3).
pub fn pep_fetch() -> Element {
    Element::builder("pubsub", NS_PUBSUB)
        .append(
            Element::builder("items", NS_PUBSUB)
                .attr(nc("node"), NS_BOOKMARKS2)
                .build(),
        )
        .build()
}

/// Removes one bookmark (XEP-0402 §3.4).
pub fn pep_retract(room: &BareJid) -> Element {
    Element::builder("pubsub", NS_PUBSUB)
        .append(
            Element::builder("retract", NS_PUBSUB)
                .attr(nc("node"), NS_BOOKMARKS2)
                .attr(nc("notify"), "true")
                .append(
                    Element::builder("item", NS_PUBSUB)
                        .attr(nc("id"), room.as_str())
                        .build(),
                )
                .build(),
        )
        .build()
}

/// The bookmarks in a pubsub items result; items that are not valid room
/// bookmarks are skipped.
pub fn parse_pep_items(result: Option<&Element>) -> Vec<Bookmark> {
    let Some(items) = result.and_then(|p| p.get_child("items", NS_PUBSUB)) else {
        return Vec::new();
    };
    items
        .children()
        .filter(|i| i.is("item", NS_PUBSUB))
        .filter_map(|i| {
            let room = BareJid::new(i.attr("id")?).ok()?;
            room.node()?;
            let c = i.get_child("conference", NS_BOOKMARKS2)?;
            Some(Bookmark {
                room,
                name: c.attr("name").filter(|n| !n.is_empty()).map(str::to_string),
                autojoin: is_true(c.attr("autojoin")),
                nick: child_text(c, "nick", NS_BOOKMARKS2),
                password: child_text(c, "password", NS_BOOKMARKS2),
            })
        })
        .collect()
}

/// An error of a bookmarks fetch: `item-not-found` just means none yet.
pub fn empty_if_missing(
    r: Result<Option<Element>, ErrorInfo>,
) -> Result<Option<Element>, ErrorInfo> {
    match r {
        Err(e) if e.condition == "item-not-found" => Ok(None),
        other => other,
    }
}

// ---- XEP-0048 (private XML storage) ----

/// Fetches the storage element.
pub fn private_fetch() -> Element {
    Element::builder("query", NS_PRIVATE)
        .append(Element::builder("storage", NS_STORAGE).build())
        .build()
}

/// The `<storage/>` in a private XML result (an empty one if absent).
pub fn private_storage(result: Option<&Element>) -> Element {
    result
        .and_then(|q| q.get_child("storage", NS_STORAGE))
        .cloned()
        .unwrap_or_else(|| Element::builder("storage", NS_STORAGE).build())
}

/// The room bookmarks of a `<storage/>`.
pub fn parse_storage(storage: &Element) -> Vec<Bookmark> {
    storage
        .children()
        .filter(|c| c.is("conference", NS_STORAGE))
        .filter_map(|c| {
            let room = BareJid::new(c.attr("jid")?).ok()?;
            room.node()?;
            Some(Bookmark {
                room,
                name: c.attr("name").filter(|n| !n.is_empty()).map(str::to_string),
                autojoin: is_true(c.attr("autojoin")),
                nick: child_text(c, "nick", NS_STORAGE),
                password: child_text(c, "password", NS_STORAGE),
            })
        })
        .collect()
}

fn conference1(b: &Bookmark) -> Element {
    let mut c = Element::builder("conference", NS_STORAGE)
        .attr(nc("jid"), b.room.as_str())
        .attr(nc("autojoin"), if b.autojoin { "true" } else { "false" });
    if let Some(n) = &b.name {
        c = c.attr(nc("name"), n.as_str());
    }
    if let Some(n) = &b.nick {
        c = c.append(
            Element::builder("nick", NS_STORAGE)
                .append(n.as_str())
                .build(),
        );
    }
    if let Some(p) = &b.password {
        c = c.append(
            Element::builder("password", NS_STORAGE)
                .append(p.as_str())
                .build(),
        );
    }
    c.build()
}

/// The storage with `room`'s bookmark replaced by `new` (or removed when
/// `None`); everything else (URLs, other rooms, unknown elements) stays.
/// Also says whether `room` was there before.
pub fn storage_with(storage: &Element, room: &BareJid, new: Option<&Bookmark>) -> (Element, bool) {
    let mut out = Element::builder("storage", NS_STORAGE).build();
    let mut found = false;
    for c in storage.children() {
        let same = c.is("conference", NS_STORAGE)
            && c.attr("jid")
                .and_then(|j| BareJid::new(j).ok())
                .is_some_and(|j| &j == room);
        if same {
            found = true;
            continue;
        }
        out.append_child(c.clone());
    }
    if let Some(b) = new {
        out.append_child(conference1(b));
    }
    (out, found)
}

/// Stores the whole `<storage/>`.
pub fn private_store(storage: Element) -> Element {
    Element::builder("query", NS_PRIVATE)
        .append(storage)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS_DATA: &str = "jabber:x:data";
    use crate::fixtures::el;

    fn play() -> Bookmark {
        Bookmark {
            room: BareJid::new("theplay@conference.shakespeare.lit").unwrap(),
            name: Some("The Play's the Thing".into()),
            autojoin: true,
            nick: Some("JC".into()),
            password: None,
        }
    }

    #[test]
    fn backend_from_account_disco() {
        let with = el(
            "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='account' type='registered'/>\
            <identity category='pubsub' type='pep'/><feature var='urn:xmpp:bookmarks:1#compat'/></query>",
        );
        assert_eq!(backend_from_disco(Some(&with)), Backend::Pep);
        let without = el(
            "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='account' type='registered'/></query>",
        );
        assert_eq!(backend_from_disco(Some(&without)), Backend::Private);
        assert_eq!(backend_from_disco(None), Backend::Private);
    }

    #[test]
    fn pep_publish_as_in_xep_0402() {
        // XEP-0402 example 3 (adding a bookmark) with its publish-options.
        let p = pep_publish(&play());
        let publish = p.get_child("publish", NS_PUBSUB).unwrap();
        assert_eq!(publish.attr("node"), Some("urn:xmpp:bookmarks:1"));
        let item = publish.get_child("item", NS_PUBSUB).unwrap();
        assert_eq!(item.attr("id"), Some("theplay@conference.shakespeare.lit"));
        let c = item.get_child("conference", NS_BOOKMARKS2).unwrap();
        assert_eq!(c.attr("name"), Some("The Play's the Thing"));
        assert_eq!(c.attr("autojoin"), Some("true"));
        assert_eq!(c.get_child("nick", NS_BOOKMARKS2).unwrap().text(), "JC");
        assert!(c.get_child("password", NS_BOOKMARKS2).is_none());
        let x = p
            .get_child("publish-options", NS_PUBSUB)
            .unwrap()
            .get_child("x", NS_DATA)
            .unwrap();
        assert_eq!(x.attr("type"), Some("submit"));
        let fields: Vec<(String, String)> = x
            .children()
            .map(|f| {
                (
                    f.attr("var").unwrap().to_string(),
                    f.get_child("value", NS_DATA).unwrap().text(),
                )
            })
            .collect();
        let get = |k: &str| fields.iter().find(|(v, _)| v == k).map(|(_, v)| v.as_str());
        assert_eq!(
            get("FORM_TYPE"),
            Some("http://jabber.org/protocol/pubsub#publish-options")
        );
        assert_eq!(get("pubsub#persist_items"), Some("true"));
        assert_eq!(get("pubsub#access_model"), Some("whitelist"));
        assert_eq!(get("pubsub#max_items"), Some("max"));
        // It reads back as the same bookmark.
        let result = Element::builder("pubsub", NS_PUBSUB)
            .append(
                Element::builder("items", NS_PUBSUB)
                    .attr(nc("node"), NS_BOOKMARKS2)
                    .append(item.clone())
                    .build(),
            )
            .build();
        assert_eq!(parse_pep_items(Some(&result)), vec![play()]);
    }

    #[test]
    fn pep_items_as_in_xep_0402() {
        // XEP-0402 example 5 (retrieving all bookmarks), plus a password
        // and items that are not room bookmarks.
        let r = el(
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'>\
            <item id='theplay@conference.shakespeare.lit'><conference xmlns='urn:xmpp:bookmarks:1' name='The Play&apos;s the Thing' autojoin='true'><nick>JC</nick></conference></item>\
            <item id='orchard@conference.shakespeare.lit'><conference xmlns='urn:xmpp:bookmarks:1' name='The Orchard' autojoin='1'><nick>JC</nick><password>pw</password><extensions><state xmlns='http://myclient.example/bookmark/state' minimized='true'/></extensions></conference></item>\
            <item id='conference.shakespeare.lit'><conference xmlns='urn:xmpp:bookmarks:1'/></item>\
            <item id='x@y'><other xmlns='urn:example'/></item>\
            </items></pubsub>",
        );
        let list = parse_pep_items(Some(&r));
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], play());
        assert_eq!(list[1].room.as_str(), "orchard@conference.shakespeare.lit");
        assert!(list[1].autojoin);
        assert_eq!(list[1].password.as_deref(), Some("pw"));
        assert!(parse_pep_items(None).is_empty());
        let empty = empty_if_missing(Err(ErrorInfo::new("item-not-found", None)));
        assert_eq!(empty, Ok(None));
        assert!(empty_if_missing(Err(ErrorInfo::new("forbidden", None))).is_err());
    }

    #[test]
    fn pep_fetch_and_retract() {
        let f = pep_fetch();
        assert_eq!(
            f.get_child("items", NS_PUBSUB).unwrap().attr("node"),
            Some(NS_BOOKMARKS2)
        );
        // XEP-0402 example 7.
        let r = pep_retract(&play().room);
        let retract = r.get_child("retract", NS_PUBSUB).unwrap();
        assert_eq!(retract.attr("node"), Some(NS_BOOKMARKS2));
        assert_eq!(retract.attr("notify"), Some("true"));
        assert_eq!(
            retract.get_child("item", NS_PUBSUB).unwrap().attr("id"),
            Some("theplay@conference.shakespeare.lit")
        );
    }

    #[test]
    fn private_storage_as_in_xep_0048() {
        // XEP-0048 example 3 (with a URL kept through an update).
        let q = el(
            "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>\
            <conference name='Council of Oberon' autojoin='true' jid='council@conference.underhill.org'><nick>Puck</nick><password>titania</password></conference>\
            <url name='Complete Works of Shakespeare' url='http://the-tech.mit.edu/Shakespeare/'/>\
            </storage></query>",
        );
        let storage = private_storage(Some(&q));
        let list = parse_storage(&storage);
        assert_eq!(
            list,
            vec![Bookmark {
                room: BareJid::new("council@conference.underhill.org").unwrap(),
                name: Some("Council of Oberon".into()),
                autojoin: true,
                nick: Some("Puck".into()),
                password: Some("titania".into()),
            }]
        );
        // Add one: the others and the URL stay.
        let (added, found) = storage_with(&storage, &play().room, Some(&play()));
        assert!(!found);
        let list = parse_storage(&added);
        assert_eq!(list.len(), 2);
        assert_eq!(list[1], play());
        assert_eq!(added.children().filter(|c| c.name() == "url").count(), 1);
        // Replace it.
        let mut changed = play();
        changed.autojoin = false;
        let (replaced, found) = storage_with(&added, &play().room, Some(&changed));
        assert!(found);
        assert_eq!(parse_storage(&replaced)[1], changed);
        assert_eq!(parse_storage(&replaced).len(), 2);
        // Remove it.
        let (removed, found) = storage_with(&replaced, &play().room, None);
        assert!(found);
        assert_eq!(parse_storage(&removed).len(), 1);
        let (_, found) = storage_with(&removed, &play().room, None);
        assert!(!found);
        // The set payload wraps the storage.
        let set = private_store(removed);
        assert!(set.is("query", NS_PRIVATE));
        assert!(set.get_child("storage", NS_STORAGE).is_some());
        // Nothing stored yet: an empty storage.
        let empty = private_storage(Some(&el("<query xmlns='jabber:iq:private'/>")));
        assert!(parse_storage(&empty).is_empty());
        assert!(private_fetch().get_child("storage", NS_STORAGE).is_some());
    }
}
