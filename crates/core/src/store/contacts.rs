//! Contacts: the roster, each contact's presence and the room they say
//! they are in (XEP-0194 PEP events), pending subscription requests; and
//! which of our own rooms we publish (see `app/chatting.rs`).

use std::collections::{BTreeMap, HashMap};

use jid::{BareJid, FullJid};
use serde::Serialize;

use super::Event;
use confab_proto::chatting::{ChattingEvent, ChattingItem, ChattingRoom};
use confab_proto::roster::{RosterItem, Subscription, SubscriptionKind, SubscriptionRequest};

/// Most resources kept per contact, and most contacts kept that are not in
/// the roster (presence from anyone else is not remembered past these).
const MAX_RESOURCES: usize = 16;
const MAX_STRANGERS: usize = 256;
/// Most chatting items kept per contact, and most pending requests.
const MAX_ROOMS: usize = 32;
const MAX_REQUESTS: usize = 64;

/// One contact as events show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactItem {
    pub jid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `none`, `from`, `to`, `both`, or `remove` (a removed contact).
    pub subscription: &'static str,
    /// We asked for their presence; no answer yet.
    pub pending: bool,
    /// `available`, `chat`, `away`, `xa`, `dnd` or `offline`.
    pub presence: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The room they said they are in last (XEP-0194), if any.
    pub room: Option<ChattingRoom>,
}

/// A pending subscription request (they asked for our presence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestItem {
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Contact {
    pub item: Option<RosterItem>,
    /// Resource → (show, status).
    pub resources: BTreeMap<String, (&'static str, Option<String>)>,
    /// Chatting items (id, room), the newest last.
    pub rooms: Vec<(String, ChattingRoom)>,
}

impl Contact {
    /// The "most available" show of the contact's resources.
    pub fn presence(&self) -> (&'static str, Option<String>) {
        let rank = |s: &str| match s {
            "chat" => 0,
            "available" => 1,
            "away" => 2,
            "dnd" => 3,
            "xa" => 4,
            _ => 5,
        };
        self.resources
            .values()
            .min_by_key(|(s, _)| rank(s))
            .map(|(s, st)| (*s, st.clone()))
            .unwrap_or(("offline", None))
    }

    /// The room they announced last.
    pub fn room(&self) -> Option<&ChattingRoom> {
        self.rooms.last().map(|(_, r)| r)
    }
}

#[derive(Debug, Default)]
pub struct Contacts {
    /// The roster was fetched this session.
    pub loaded: bool,
    contacts: BTreeMap<BareJid, Contact>,
    requests: Vec<(BareJid, Option<String>)>,
}

impl Contacts {
    pub fn new() -> Contacts {
        Contacts::default()
    }

    pub fn get(&self, jid: &BareJid) -> Option<&Contact> {
        self.contacts.get(jid)
    }

    fn item_of(jid: &BareJid, c: &Contact) -> ContactItem {
        let (presence, status) = c.presence();
        ContactItem {
            jid: jid.to_string(),
            name: c.item.as_ref().and_then(|i| i.name.clone()),
            subscription: c
                .item
                .as_ref()
                .map(|i| i.subscription.as_str())
                .unwrap_or("none"),
            pending: c.item.as_ref().is_some_and(|i| i.pending_out),
            presence,
            status,
            room: c.room().cloned(),
        }
    }

    /// The contact as events show it (also for JIDs not in the roster).
    pub fn item(&self, jid: &BareJid) -> ContactItem {
        match self.contacts.get(jid) {
            Some(c) => Self::item_of(jid, c),
            None => Self::item_of(jid, &Contact::default()),
        }
    }

    /// The roster items, by JID.
    pub fn items(&self) -> Vec<ContactItem> {
        self.contacts
            .iter()
            .filter(|(_, c)| c.item.is_some())
            .map(|(j, c)| Self::item_of(j, c))
            .collect()
    }

    /// The roster item of `jid`, if it is in the roster.
    pub fn roster_item(&self, jid: &BareJid) -> Option<&RosterItem> {
        self.contacts.get(jid).and_then(|c| c.item.as_ref())
    }

    /// The roster as the server sent it.
    pub fn set_roster(&mut self, items: Vec<RosterItem>) {
        for c in self.contacts.values_mut() {
            c.item = None;
        }
        for i in items {
            let jid = i.jid.clone();
            self.contacts.entry(jid).or_default().item = Some(i);
        }
        self.loaded = true;
        self.trim();
    }

    /// A roster push: one item added, changed or removed.
    pub fn push(&mut self, item: RosterItem) -> Event {
        let jid = item.jid.clone();
        if item.subscription == Subscription::Remove {
            let mut shown = self.item(&jid);
            shown.subscription = "remove";
            shown.pending = false;
            if let Some(c) = self.contacts.get_mut(&jid) {
                c.item = None;
            }
            self.trim();
            return Event::Contact(shown);
        }
        self.contacts.entry(jid.clone()).or_default().item = Some(item);
        Event::Contact(self.item(&jid))
    }

    /// Presence of a contact's resource; `None` when nothing shown changed.
    pub fn presence(
        &mut self,
        from: &FullJid,
        available: bool,
        show: &'static str,
        status: Option<String>,
    ) -> Option<Event> {
        let bare = from.to_bare();
        let res = from.resource().as_str().to_string();
        if !self.contacts.contains_key(&bare) {
            if !available {
                return None;
            }
            let strangers = self.contacts.values().filter(|c| c.item.is_none()).count();
            if strangers >= MAX_STRANGERS {
                return None;
            }
        }
        let c = self.contacts.entry(bare.clone()).or_default();
        let before = c.presence();
        if available {
            if c.resources.len() >= MAX_RESOURCES && !c.resources.contains_key(&res) {
                return None;
            }
            c.resources.insert(res, (show, status));
        } else {
            c.resources.remove(&res);
        }
        let after = c.presence();
        (before != after).then(|| Event::Presence {
            from: bare.to_string(),
            show: after.0,
            status: after.1,
        })
    }

    /// The connection is gone: nobody's presence is known any more.
    pub fn offline(&mut self) {
        for c in self.contacts.values_mut() {
            c.resources.clear();
        }
    }

    /// A chatting PEP event: one `chatting` event per item.
    pub fn chatting(&mut self, e: ChattingEvent) -> Vec<Event> {
        let c = self.contacts.entry(e.from.clone()).or_default();
        let mut out = Vec::new();
        for item in e.items {
            c.rooms.retain(|(id, _)| *id != item.id);
            if let Some(room) = &item.room {
                c.rooms.push((item.id.clone(), room.clone()));
                if c.rooms.len() > MAX_ROOMS {
                    c.rooms.remove(0);
                }
            }
            out.push(Event::Chatting {
                from: e.from.to_string(),
                item: item.id,
                room: item.room,
            });
        }
        self.trim();
        out
    }

    /// Roster contacts whose presence we have, so whose chatting node we
    /// may read (fetched after login and after a reconnection).
    pub fn chatting_sources(&self) -> Vec<BareJid> {
        self.contacts
            .iter()
            .filter(|(_, c)| c.item.as_ref().is_some_and(|i| i.subscription.to_them()))
            .map(|(j, _)| j.clone())
            .take(MAX_STRANGERS)
            .collect()
    }

    /// A contact's whole chatting node as fetched now: it replaces what we
    /// knew (events missed while offline). One `chatting` event per room
    /// that changed: new or different content, or gone (`room: null`).
    pub fn replace_rooms(&mut self, from: &BareJid, items: Vec<ChattingItem>) -> Vec<Event> {
        let c = self.contacts.entry(from.clone()).or_default();
        let mut fresh: Vec<(String, ChattingRoom)> = Vec::new();
        for i in items {
            if let Some(room) = i.room
                && !fresh.iter().any(|(id, _)| *id == i.id)
            {
                fresh.push((i.id, room));
            }
        }
        let mut out = Vec::new();
        let event = |id: &str, room: Option<ChattingRoom>| Event::Chatting {
            from: from.to_string(),
            item: id.to_string(),
            room,
        };
        // Known rooms keep their order (the newest last); new ones follow.
        let mut rooms = Vec::new();
        for (id, old) in &c.rooms {
            match fresh.iter().position(|(f, _)| f == id) {
                Some(at) => {
                    let (id, room) = fresh.remove(at);
                    if room != *old {
                        out.push(event(&id, Some(room.clone())));
                    }
                    rooms.push((id, room));
                }
                None => out.push(event(id, None)),
            }
        }
        for (id, room) in fresh {
            out.push(event(&id, Some(room.clone())));
            rooms.push((id, room));
        }
        let skip = rooms.len().saturating_sub(MAX_ROOMS);
        c.rooms = rooms.into_iter().skip(skip).collect();
        self.trim();
        out
    }

    /// A subscription presence: requests are kept until answered.
    pub fn subscription(&mut self, s: SubscriptionRequest) -> Event {
        match s.kind {
            SubscriptionKind::Subscribe => {
                if !self.requests.iter().any(|(j, _)| *j == s.from) {
                    if self.requests.len() >= MAX_REQUESTS {
                        self.requests.remove(0);
                    }
                    self.requests.push((s.from.clone(), s.status.clone()));
                }
            }
            SubscriptionKind::Unsubscribe => self.requests.retain(|(j, _)| *j != s.from),
            SubscriptionKind::Subscribed | SubscriptionKind::Unsubscribed => {}
        }
        Event::Subscription {
            from: s.from.to_string(),
            kind: s.kind.as_str(),
            status: s.status,
        }
    }

    /// Pending requests, oldest first.
    pub fn requests(&self) -> Vec<RequestItem> {
        self.requests
            .iter()
            .map(|(j, s)| RequestItem {
                from: j.to_string(),
                status: s.clone(),
            })
            .collect()
    }

    /// Drops `jid`'s request; whether there was one.
    pub fn take_request(&mut self, jid: &BareJid) -> bool {
        let before = self.requests.len();
        self.requests.retain(|(j, _)| j != jid);
        before != self.requests.len()
    }

    /// Forgets strangers without presence or rooms.
    fn trim(&mut self) {
        self.contacts
            .retain(|_, c| c.item.is_some() || !c.resources.is_empty() || !c.rooms.is_empty());
    }
}

/// Whether one of our rooms is published (XEP-0194), and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishState {
    /// Waiting for the room's disco#info (or, for a new room, for its
    /// configuration); the item id still published from before, if any.
    Deciding(Option<String>),
    /// Published with this content (item id, room).
    Published { id: String, room: ChattingRoom },
    /// Not published, and why.
    Withheld(String),
}

/// Our own rooms' publication state.
#[derive(Debug, Default)]
pub struct Publishing {
    states: HashMap<BareJid, PublishState>,
}

impl Publishing {
    pub fn get(&self, room: &BareJid) -> Option<&PublishState> {
        self.states.get(room)
    }

    pub fn set(&mut self, room: BareJid, state: PublishState) {
        self.states.insert(room, state);
    }

    pub fn remove(&mut self, room: &BareJid) -> Option<PublishState> {
        self.states.remove(room)
    }

    /// The item id published for `room` now, if any.
    pub fn published_id(&self, room: &BareJid) -> Option<&str> {
        match self.states.get(room)? {
            PublishState::Published { id, .. } | PublishState::Deciding(Some(id)) => Some(id),
            _ => None,
        }
    }

    /// The rooms published now, with their item ids.
    pub fn published(&self) -> Vec<(BareJid, String)> {
        let mut list: Vec<(BareJid, String)> = self
            .states
            .keys()
            .filter_map(|r| Some((r.clone(), self.published_id(r)?.to_string())))
            .collect();
        list.sort();
        list
    }

    /// Whether `room` is published now.
    pub fn is_published(&self, room: &BareJid) -> bool {
        self.published_id(room).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_proto::chatting::ChattingItem;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    fn full(s: &str) -> FullJid {
        FullJid::new(s).unwrap()
    }

    fn room(uri: &str) -> ChattingRoom {
        ChattingRoom {
            name: None,
            topic: Some("t".into()),
            uri: uri.into(),
        }
    }

    #[test]
    fn roster_pushes_presence_and_rooms() {
        let mut c = Contacts::new();
        c.set_roster(vec![RosterItem {
            jid: jid("bob@x"),
            name: Some("Bob".into()),
            subscription: Subscription::Both,
            pending_out: false,
        }]);
        assert!(c.loaded);
        assert_eq!(c.items().len(), 1);
        assert_eq!(c.items()[0].presence, "offline");
        let e = c.presence(&full("bob@x/a"), true, "away", Some("lunch".into()));
        assert_eq!(
            e.unwrap().to_json(),
            serde_json::json!({"event":"presence","from":"bob@x","show":"away","status":"lunch"})
        );
        let e = c
            .presence(&full("bob@x/b"), true, "available", None)
            .unwrap();
        assert_eq!(e.to_json()["show"], "available");
        assert!(
            c.presence(&full("bob@x/a"), false, "unavailable", None)
                .is_none()
        );
        let out = c.chatting(ChattingEvent {
            from: jid("bob@x"),
            items: vec![
                ChattingItem {
                    id: "1".into(),
                    room: Some(room("xmpp:a@c")),
                },
                ChattingItem {
                    id: "2".into(),
                    room: Some(room("xmpp:b@c")),
                },
            ],
        });
        assert_eq!(out.len(), 2);
        assert_eq!(
            c.get(&jid("bob@x")).unwrap().room().unwrap().uri,
            "xmpp:b@c"
        );
        let out = c.chatting(ChattingEvent {
            from: jid("bob@x"),
            items: vec![ChattingItem {
                id: "2".into(),
                room: None,
            }],
        });
        assert_eq!(
            out[0].to_json(),
            serde_json::json!({"event":"chatting","from":"bob@x","item":"2","room":null})
        );
        assert_eq!(
            c.get(&jid("bob@x")).unwrap().room().unwrap().uri,
            "xmpp:a@c"
        );
        // Removed from the roster: still known while they have presence.
        let e = c.push(RosterItem {
            jid: jid("bob@x"),
            name: None,
            subscription: Subscription::Remove,
            pending_out: false,
        });
        assert_eq!(e.to_json()["subscription"], "remove");
        assert!(c.items().is_empty());
    }

    #[test]
    fn the_store_tells_contacts_from_occupants() {
        use crate::store::{Input, Protocol, Store};
        use confab_proto::Incoming;
        use confab_proto::chatting::ChattingEvent;
        use confab_proto::fixtures::occupant_in;

        let now = chrono::Utc::now();
        let mut store = Store::new();
        store.apply(
            Input::Online {
                jid: full("alice@x/me"),
                reconnect: false,
            },
            now,
        );
        let presence = |from: &str, muc: bool| {
            let f = full(from);
            Input::Incoming(
                occupant_in(&f.to_bare(), f.resource().as_str())
                    .show("dnd")
                    .muc_user(muc)
                    .incoming(),
            )
        };
        let out = store.apply(presence("bob@x/phone", false), now);
        assert_eq!(out[0].to_json()["event"], "presence");
        assert_eq!(out[0].to_json()["show"], "dnd");
        // Our own other resources and occupant presence are not contacts.
        assert!(
            store
                .apply(presence("alice@x/other", false), now)
                .is_empty()
        );
        assert!(store.apply(presence("r@c/nick", true), now).is_empty());
        // An occupant of a room we are in stays an occupant.
        store.apply(
            Input::Joining {
                room: jid("den@c"),
                nick: "alice".into(),
                protocol: Protocol::Muc,
            },
            now,
        );
        let out = store.apply(presence("den@c/bob", false), now);
        assert_eq!(out[0].to_json()["event"], "occupant");
        // Our own chatting events are not shown.
        let own = |from: &str| {
            Input::Incoming(Incoming::Chatting(ChattingEvent {
                from: jid(from),
                items: vec![ChattingItem {
                    id: "1".into(),
                    room: Some(room("xmpp:a@c")),
                }],
            }))
        };
        assert!(store.apply(own("alice@x"), now).is_empty());
        assert_eq!(
            store.apply(own("bob@x"), now)[0].to_json()["event"],
            "chatting"
        );
    }

    #[test]
    fn a_fetched_node_replaces_what_was_missed() {
        let mut c = Contacts::new();
        c.set_roster(vec![
            RosterItem {
                jid: jid("bob@x"),
                name: None,
                subscription: Subscription::Both,
                pending_out: false,
            },
            RosterItem {
                jid: jid("eve@x"),
                name: None,
                subscription: Subscription::From,
                pending_out: false,
            },
        ]);
        assert_eq!(c.chatting_sources(), vec![jid("bob@x")]);
        let item = |id: &str, uri: Option<&str>| ChattingItem {
            id: id.into(),
            room: uri.map(room),
        };
        c.chatting(ChattingEvent {
            from: jid("bob@x"),
            items: vec![item("1", Some("xmpp:a@c")), item("2", Some("xmpp:b@c"))],
        });
        // While we were away: bob left b, moved on to d; a unchanged.
        let out = c.replace_rooms(
            &jid("bob@x"),
            vec![
                item("3", Some("xmpp:d@c")),
                item("2", None),
                item("1", Some("xmpp:a@c")),
            ],
        );
        let json: Vec<_> = out.iter().map(Event::to_json).collect();
        assert_eq!(
            json,
            vec![
                serde_json::json!({"event":"chatting","from":"bob@x","item":"2","room":null}),
                serde_json::json!({"event":"chatting","from":"bob@x","item":"3","room":{"topic":"t","uri":"xmpp:d@c"}}),
            ]
        );
        assert_eq!(
            c.get(&jid("bob@x")).unwrap().room().unwrap().uri,
            "xmpp:d@c"
        );
        // Nothing new: nothing said; an empty node: every room gone.
        assert!(
            c.replace_rooms(
                &jid("bob@x"),
                vec![item("1", Some("xmpp:a@c")), item("3", Some("xmpp:d@c"))]
            )
            .is_empty()
        );
        assert_eq!(c.replace_rooms(&jid("bob@x"), vec![]).len(), 2);
        assert!(c.get(&jid("bob@x")).unwrap().room().is_none());
    }

    #[test]
    fn requests_are_kept_until_answered() {
        let mut c = Contacts::new();
        let e = c.subscription(SubscriptionRequest {
            from: jid("eve@x"),
            kind: SubscriptionKind::Subscribe,
            status: None,
        });
        assert_eq!(
            e.to_json(),
            serde_json::json!({"event":"subscription","from":"eve@x","type":"subscribe"})
        );
        c.subscription(SubscriptionRequest {
            from: jid("eve@x"),
            kind: SubscriptionKind::Subscribe,
            status: None,
        });
        assert_eq!(c.requests().len(), 1);
        assert!(c.take_request(&jid("eve@x")));
        assert!(!c.take_request(&jid("eve@x")));
        // Strangers without presence are not remembered.
        assert!(
            c.presence(&full("z@x/r"), false, "unavailable", None)
                .is_none()
        );
        assert!(c.get(&jid("z@x")).is_none());
    }
}
