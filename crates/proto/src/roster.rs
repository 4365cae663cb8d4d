//! The roster (RFC 6121): get, add, remove, pushes; and the subscription
//! presences (`subscribe`, `subscribed`, `unsubscribe`, `unsubscribed`).

use jid::{BareJid, Jid};
use minidom::Element;
use serde::Serialize;
use xmpp_parsers::presence::{Presence, Type as PType};

use super::{Incoming, nc};

pub const NS_ROSTER: &str = "jabber:iq:roster";

/// Longest contact name we keep (characters).
const MAX_NAME: usize = 256;

/// The subscription state of a roster item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subscription {
    None,
    /// They see our presence.
    From,
    /// We see theirs.
    To,
    Both,
    /// In a push: the item is gone.
    Remove,
}

impl Subscription {
    pub fn parse(s: Option<&str>) -> Subscription {
        match s {
            Some("from") => Subscription::From,
            Some("to") => Subscription::To,
            Some("both") => Subscription::Both,
            Some("remove") => Subscription::Remove,
            _ => Subscription::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Subscription::None => "none",
            Subscription::From => "from",
            Subscription::To => "to",
            Subscription::Both => "both",
            Subscription::Remove => "remove",
        }
    }

    /// We receive their presence (and their PEP events).
    pub fn to_them(self) -> bool {
        matches!(self, Subscription::To | Subscription::Both)
    }

    /// They receive ours.
    pub fn from_them(self) -> bool {
        matches!(self, Subscription::From | Subscription::Both)
    }
}

/// One roster item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterItem {
    pub jid: BareJid,
    pub name: Option<String>,
    pub subscription: Subscription,
    /// We asked for their presence and they have not answered yet.
    pub pending_out: bool,
}

/// The four subscription presences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionKind {
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
}

impl SubscriptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionKind::Subscribe => "subscribe",
            SubscriptionKind::Subscribed => "subscribed",
            SubscriptionKind::Unsubscribe => "unsubscribe",
            SubscriptionKind::Unsubscribed => "unsubscribed",
        }
    }
}

/// A subscription presence from someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    pub from: BareJid,
    pub kind: SubscriptionKind,
    /// The request's status text, if any.
    pub status: Option<String>,
}

/// The roster get.
pub fn get() -> Element {
    Element::builder("query", NS_ROSTER).build()
}

/// A roster set adding (or updating) `jid`.
pub fn add(jid: &BareJid, name: Option<&str>) -> Element {
    let mut item = Element::builder("item", NS_ROSTER).attr(nc("jid"), jid.as_str());
    if let Some(n) = name {
        item = item.attr(nc("name"), n);
    }
    Element::builder("query", NS_ROSTER)
        .append(item.build())
        .build()
}

/// A roster set removing `jid` (the server also cancels both
/// subscriptions).
pub fn remove(jid: &BareJid) -> Element {
    Element::builder("query", NS_ROSTER)
        .append(
            Element::builder("item", NS_ROSTER)
                .attr(nc("jid"), jid.as_str())
                .attr(nc("subscription"), "remove")
                .build(),
        )
        .build()
}

fn parse_item(el: &Element) -> Option<RosterItem> {
    if !el.is("item", NS_ROSTER) {
        return None;
    }
    let jid = BareJid::new(el.attr("jid")?).ok()?;
    let name = el
        .attr("name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(MAX_NAME).collect());
    Some(RosterItem {
        jid,
        name,
        subscription: Subscription::parse(el.attr("subscription")),
        pending_out: el.attr("ask") == Some("subscribe"),
    })
}

/// The items of a roster result or push (`<query xmlns='jabber:iq:roster'>`);
/// items with a bad JID are skipped.
pub fn parse_query(query: Option<&Element>) -> Vec<RosterItem> {
    query
        .filter(|q| q.is("query", NS_ROSTER))
        .map(|q| q.children().filter_map(parse_item).collect())
        .unwrap_or_default()
}

/// A roster push is only believed from our own account (no `from`, or our
/// bare JID) and must carry exactly one item (RFC 6121 §2.1.6).
pub fn parse_push(from: Option<&Jid>, account: &BareJid, query: &Element) -> Option<RosterItem> {
    if from.is_some_and(|f| f.to_bare() != *account || f.resource().is_some()) {
        return None;
    }
    let items: Vec<&Element> = query.children().collect();
    match items.as_slice() {
        [one] => parse_item(one),
        _ => None,
    }
}

/// A subscription presence to `to`.
pub fn subscription(to: &BareJid, kind: SubscriptionKind) -> Presence {
    let type_ = match kind {
        SubscriptionKind::Subscribe => PType::Subscribe,
        SubscriptionKind::Subscribed => PType::Subscribed,
        SubscriptionKind::Unsubscribe => PType::Unsubscribe,
        SubscriptionKind::Unsubscribed => PType::Unsubscribed,
    };
    Presence::new(type_).with_to(Jid::from(to.clone()))
}

/// A received subscription presence, if `p` is one.
pub fn parse_subscription(p: &Presence) -> Option<Incoming> {
    let kind = match p.type_ {
        PType::Subscribe => SubscriptionKind::Subscribe,
        PType::Subscribed => SubscriptionKind::Subscribed,
        PType::Unsubscribe => SubscriptionKind::Unsubscribe,
        PType::Unsubscribed => SubscriptionKind::Unsubscribed,
        _ => return None,
    };
    let Some(from) = p.from.as_ref() else {
        return Some(Incoming::Ignored("subscription presence without sender"));
    };
    let status = p
        .statuses
        .get("")
        .or_else(|| p.statuses.values().next())
        .map(|s| s.chars().take(MAX_NAME).collect());
    Some(Incoming::Subscription(SubscriptionRequest {
        from: from.to_bare(),
        kind,
        status,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{classify_presence, fixtures::el};

    #[test]
    fn roster_result_as_in_rfc_6121() {
        // RFC 6121 example 2.1.4 (plus a broken item).
        let q = el("<query xmlns='jabber:iq:roster' ver='ver11'>\
            <item jid='romeo@example.net' name='Romeo' subscription='both'><group>Friends</group></item>\
            <item jid='mercutio@example.com' name='Mercutio' subscription='from'/>\
            <item jid='benvolio@example.net' name='Benvolio' subscription='none' ask='subscribe'/>\
            <item jid='@@bad' subscription='both'/></query>");
        let items = parse_query(Some(&q));
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].jid.as_str(), "romeo@example.net");
        assert_eq!(items[0].name.as_deref(), Some("Romeo"));
        assert_eq!(items[0].subscription, Subscription::Both);
        assert!(items[0].subscription.to_them() && items[0].subscription.from_them());
        assert_eq!(items[1].subscription, Subscription::From);
        assert!(items[2].pending_out);
        assert!(parse_query(None).is_empty());
    }

    #[test]
    fn pushes_only_from_our_account() {
        let account = BareJid::new("juliet@example.com").unwrap();
        let q = el(
            "<query xmlns='jabber:iq:roster'><item jid='nurse@example.com' subscription='remove'/></query>",
        );
        let ours = Jid::new("juliet@example.com").unwrap();
        let item = parse_push(Some(&ours), &account, &q).unwrap();
        assert_eq!(item.subscription, Subscription::Remove);
        assert!(parse_push(None, &account, &q).is_some());
        let other = Jid::new("mallory@example.com").unwrap();
        assert!(parse_push(Some(&other), &account, &q).is_none());
        let two = el("<query xmlns='jabber:iq:roster'><item jid='a@b'/><item jid='c@d'/></query>");
        assert!(parse_push(None, &account, &two).is_none());
    }

    #[test]
    fn builders() {
        let jid = BareJid::new("nurse@example.com").unwrap();
        let a = add(&jid, Some("Nurse"));
        let item = a.get_child("item", NS_ROSTER).unwrap();
        assert_eq!(item.attr("jid"), Some("nurse@example.com"));
        assert_eq!(item.attr("name"), Some("Nurse"));
        assert_eq!(item.attr("subscription"), None);
        let r = remove(&jid);
        assert_eq!(
            r.get_child("item", NS_ROSTER).unwrap().attr("subscription"),
            Some("remove")
        );
        let p: Element = subscription(&jid, SubscriptionKind::Subscribed).into();
        assert_eq!(p.attr("type"), Some("subscribed"));
        assert_eq!(p.attr("to"), Some("nurse@example.com"));
    }

    #[test]
    fn subscription_presences_are_classified_before_muc() {
        let p = Presence::try_from(el(
            "<presence xmlns='jabber:client' from='romeo@example.net/orchard' type='subscribe'><status>hi</status></presence>",
        ))
        .unwrap();
        let Incoming::Subscription(s) = classify_presence(&p) else {
            panic!("{:?}", classify_presence(&p))
        };
        assert_eq!(s.from.as_str(), "romeo@example.net");
        assert_eq!(s.kind, SubscriptionKind::Subscribe);
        assert_eq!(s.status.as_deref(), Some("hi"));
        // Occupant presence stays MUC presence.
        let p = Presence::try_from(el(
            "<presence xmlns='jabber:client' from='r@c/nick'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x></presence>",
        ))
        .unwrap();
        assert!(matches!(classify_presence(&p), Incoming::MucPresence(_)));
    }
}
