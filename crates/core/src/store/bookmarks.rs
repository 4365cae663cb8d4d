//! The account's room bookmarks as last fetched or changed, and which
//! storage the server offers (see [`confab_proto::bookmarks`]).

use std::collections::BTreeMap;

use jid::BareJid;
use serde::Serialize;

use confab_proto::bookmarks::{Backend, Bookmark};

/// One bookmark as events show it (the password is never printed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookmarkItem {
    pub room: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub autojoin: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    /// Whether a password is stored.
    pub password: bool,
}

impl From<&Bookmark> for BookmarkItem {
    fn from(b: &Bookmark) -> BookmarkItem {
        BookmarkItem {
            room: b.room.to_string(),
            name: b.name.clone(),
            autojoin: b.autojoin,
            nick: b.nick.clone(),
            password: b.password.is_some(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Bookmarks {
    /// Learnt from the account's disco#info on first use.
    pub backend: Option<Backend>,
    list: BTreeMap<BareJid, Bookmark>,
}

impl Bookmarks {
    pub fn new() -> Bookmarks {
        Bookmarks::default()
    }

    /// Replaces the list with what the server holds.
    pub fn set_all(&mut self, list: Vec<Bookmark>) {
        self.list = list.into_iter().map(|b| (b.room.clone(), b)).collect();
    }

    pub fn put(&mut self, b: Bookmark) {
        self.list.insert(b.room.clone(), b);
    }

    pub fn remove(&mut self, room: &BareJid) {
        self.list.remove(room);
    }

    pub fn get(&self, room: &BareJid) -> Option<&Bookmark> {
        self.list.get(room)
    }

    /// Every bookmark, by room.
    pub fn iter(&self) -> impl Iterator<Item = &Bookmark> + '_ {
        self.list.values()
    }

    /// The list as events show it.
    pub fn items(&self) -> Vec<BookmarkItem> {
        self.list.values().map(BookmarkItem::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_one_per_room_and_hides_passwords() {
        let mut s = Bookmarks::new();
        let b = |room: &str, autojoin| Bookmark {
            room: BareJid::new(room).unwrap(),
            name: None,
            autojoin,
            nick: Some("me".into()),
            password: Some("secret".into()),
        };
        s.set_all(vec![b("b@c", false), b("a@c", true)]);
        s.put(b("b@c", true));
        let items = s.items();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].room, "a@c");
        assert!(items[1].autojoin);
        let j = serde_json::to_value(&items[0]).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"room":"a@c","autojoin":true,"nick":"me","password":true})
        );
        s.remove(&BareJid::new("a@c").unwrap());
        assert_eq!(s.iter().count(), 1);
        assert!(s.get(&BareJid::new("b@c").unwrap()).is_some());
    }
}
