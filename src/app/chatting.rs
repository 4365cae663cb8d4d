//! XEP-0194 User Chatting, our side: when we enter a room we tell our
//! contacts (PEP node `urn:xmpp:chatting:0`, access model `presence`),
//! keep the topic current, and publish an empty `<room/>` when we leave.
//!
//! Privacy first: nothing is published while the room's disco#info is
//! unknown; members-only, password-protected and hidden rooms, rooms
//! joined with a password or `--private`, rooms matching a `never`
//! pattern and everything when `[chatting] publish = false` stay
//! unpublished, unless `/chatting ROOM on` says otherwise.

use std::collections::{HashMap, HashSet};

use jid::BareJid;

use super::{App, Exec, IqStep, IqThen};
use crate::command::StatusTarget;
use crate::config::ChattingConfig;
use crate::protocol::ErrorInfo;
use crate::protocol::chatting::{self, ChattingRoom};
use crate::store::{Event, JoinState, Protocol, PublishState};

/// How a room was joined, as far as privacy goes.
#[derive(Debug, Clone, Copy, Default)]
struct JoinPrivacy {
    password: bool,
    private: bool,
}

#[derive(Debug, Default)]
pub(super) struct ChattingState {
    config: ChattingConfig,
    /// `/chatting ROOM on|off`.
    overrides: HashMap<BareJid, bool>,
    joins: HashMap<BareJid, JoinPrivacy>,
    /// New rooms (status 201): decided once their configuration is done
    /// (the `ok` of the command that made them), not before.
    awaiting_config: HashSet<BareJid>,
    /// Empty items that could not be published (offline): room → item
    /// id, published after the reconnection.
    unsent: HashMap<BareJid, String>,
}

/// One publication: the room, its item id, the content (`None`: left).
type Publication = (BareJid, String, Option<ChattingRoom>);

/// `*` matches any run of characters; the rest literally, ignoring case.
pub(crate) fn matches_pattern(pattern: &str, jid: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let s: Vec<char> = jid.to_lowercase().chars().collect();
    // Classic wildcard matching with one backtrack point.
    let (mut i, mut j) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while j < s.len() {
        if i < p.len() && p[i] != '*' && p[i] == s[j] {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(st) = star {
            i = st + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

impl App {
    /// `[chatting]` from the config.
    pub fn set_chatting(&mut self, config: ChattingConfig) {
        self.chatting.config = config;
    }

    /// A join starts: remember what makes it private.
    pub(super) fn note_chatting_join(&mut self, room: &BareJid, password: bool, private: bool) {
        self.chatting
            .joins
            .insert(room.clone(), JoinPrivacy { password, private });
    }

    /// What the rules say before asking the room: `Err(reason)` to keep
    /// it unpublished.
    fn chatting_rules(&self, room: &BareJid) -> Result<(), String> {
        if let Some(on) = self.chatting.overrides.get(room) {
            return if *on {
                Ok(())
            } else {
                Err("turned off with /chatting".into())
            };
        }
        if !self.chatting.config.publish {
            return Err("publishing is off".into());
        }
        if let Some(p) = self
            .chatting
            .config
            .never
            .iter()
            .find(|p| matches_pattern(p, room.as_str()))
        {
            return Err(format!("matches never pattern {p:?}"));
        }
        let join = self.chatting.joins.get(room).copied().unwrap_or_default();
        if join.private {
            return Err("joined privately".into());
        }
        if join.password || self.store.invitations.password_of(room).is_some() {
            return Err("joined with a password".into());
        }
        Ok(())
    }

    fn withhold(&mut self, room: &BareJid, reason: String) -> Event {
        self.store
            .publishing
            .set(room.clone(), PublishState::Withheld(reason.clone()));
        Event::ChattingPublish {
            room: room.to_string(),
            published: false,
            reason: Some(reason),
        }
    }

    /// Not published (any more): the empty item if it was, and why not.
    fn withhold_and_retract(
        &mut self,
        room: &BareJid,
        reason: String,
        published: Option<String>,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        if let Some(id) = published {
            events.extend(
                self.publish_rooms("", vec![(room.clone(), id, None)])
                    .events,
            );
        }
        events.push(self.withhold(room, reason));
        events
    }

    /// We are in `room` (again, or it was reconfigured): decide, asking
    /// the room's disco#info. A new room is decided after its
    /// configuration (`configured`).
    fn consider_room(&mut self, room: BareJid, configured: bool) -> Vec<Event> {
        let published = self
            .store
            .publishing
            .published_id(&room)
            .map(str::to_string);
        if let Err(reason) = self.chatting_rules(&room) {
            return self.withhold_and_retract(&room, reason, published);
        }
        self.store
            .publishing
            .set(room.clone(), PublishState::Deciding(published));
        let new = self
            .store
            .room(&room)
            .is_some_and(|r| r.codes.contains(&201));
        if new && !configured {
            self.chatting.awaiting_config.insert(room);
            return Vec::new();
        }
        let target = room.clone();
        let then = IqThen::new(move |app, _, r| {
            let events = app.decide_room(&target, r);
            IqStep::Done(events)
        });
        self.start_iq("", Some(room.into()), chatting::disco_info(), false, then);
        Vec::new()
    }

    fn decide_room(
        &mut self,
        room: &BareJid,
        info: Result<Option<minidom::Element>, ErrorInfo>,
    ) -> Vec<Event> {
        // Left (or decided otherwise) meanwhile: nothing to do.
        let published = match self.store.publishing.get(room) {
            Some(PublishState::Deciding(p)) => p.clone(),
            _ => return Vec::new(),
        };
        let forced = self.chatting.overrides.get(room) == Some(&true);
        let is_muc = self
            .store
            .room(room)
            .is_none_or(|r| r.protocol == Protocol::Muc);
        let info = match info {
            Ok(i) => i,
            Err(_) if forced || !is_muc => None,
            Err(e) => {
                let why = format!("room information unavailable ({e})");
                return self.withhold_and_retract(room, why, published);
            }
        };
        if !forced && let Some(why) = chatting::private_by_features(info.as_ref()) {
            return self.withhold_and_retract(room, why.to_string(), published);
        }
        // Rules may have changed while we asked.
        if let Err(reason) = self.chatting_rules(room) {
            return self.withhold_and_retract(room, reason, published);
        }
        let name = chatting::name_from_disco(info.as_ref());
        let content = self.room_content(room, name);
        self.publish_rooms(
            "",
            vec![(room.clone(), chatting::item_id(&content.uri), Some(content))],
        )
        .events
    }

    fn room_content(&self, room: &BareJid, name: Option<String>) -> ChattingRoom {
        let topic = self
            .store
            .room(room)
            .and_then(|r| r.subject.clone())
            .filter(|s| !s.trim().is_empty());
        ChattingRoom {
            name,
            topic,
            uri: chatting::room_uri(room),
        }
    }

    /// Publishes these items one after the other; `command` (if any) ends
    /// after the last. The store marks rooms published (or not) at once,
    /// so that a leave meanwhile is published too.
    fn publish_rooms(&mut self, command: &str, mut list: Vec<Publication>) -> Exec {
        if list.is_empty() {
            return Exec::done(if command.is_empty() {
                Vec::new()
            } else {
                vec![App::result(command, Ok(()))]
            });
        }
        let (room, id, content) = list.remove(0);
        note_publication(self, &room, &id, content.as_ref());
        let payload = chatting::publish(&id, content.as_ref());
        let then = publish_then(room, id, content.is_some(), list);
        self.start_iq(command, None, payload, true, then)
    }

    /// Store events about our rooms: publish on join, topic changes and
    /// leaves.
    pub(super) fn contacts_after_events(&mut self, events: &[Event]) -> Vec<Event> {
        let mut more = Vec::new();
        for e in events {
            match e {
                // After a reconnection: the roster and contacts' rooms
                // again (missed while away), and the leaves not told.
                Event::Reconnected { .. } => {
                    self.fetch_roster();
                    let list: Vec<Publication> = std::mem::take(&mut self.chatting.unsent)
                        .into_iter()
                        .filter(|(room, _)| !deciding_or_published(self, room))
                        .map(|(room, id)| (room, id, None))
                        .collect();
                    more.extend(self.publish_rooms("", list).events);
                }
                // Rejoined after a reconnection: decided again, as the
                // room may have changed (or be new: configured already).
                Event::Joined { room, rejoined, .. } => {
                    if let Ok(room) = BareJid::new(room) {
                        let published = self.store.publishing.is_published(&room);
                        if *rejoined {
                            self.chatting.awaiting_config.remove(&room);
                            more.extend(self.consider_room(room, true));
                        } else if !published {
                            more.extend(self.consider_room(room, false));
                        }
                    }
                }
                // A new room is configured (`/join`, `/create`), or a
                // room's configuration changed (`/config`): decide again.
                Event::Ok { command } => {
                    let mut words = command.split_whitespace();
                    let (Some(verb), Some(arg)) = (words.next(), words.next()) else {
                        continue;
                    };
                    let Ok(room) = BareJid::new(arg.split('/').next().unwrap_or(arg)) else {
                        continue;
                    };
                    let joined = self
                        .store
                        .room(&room)
                        .is_some_and(|r| r.state == JoinState::Joined);
                    if self.chatting.awaiting_config.remove(&room) || (verb == "/config" && joined)
                    {
                        more.extend(self.consider_room(room, true));
                    }
                }
                Event::Subject { room, .. } => {
                    let Ok(room) = BareJid::new(room) else {
                        continue;
                    };
                    if let Some(PublishState::Published { id, room: old }) =
                        self.store.publishing.get(&room).cloned()
                    {
                        let content = self.room_content(&room, old.name.clone());
                        if content != old {
                            more.extend(
                                self.publish_rooms("", vec![(room, id, Some(content))])
                                    .events,
                            );
                        }
                    }
                }
                Event::Left { room, .. } => {
                    let Ok(room) = BareJid::new(room) else {
                        continue;
                    };
                    self.chatting.joins.remove(&room);
                    self.chatting.awaiting_config.remove(&room);
                    let published = self
                        .store
                        .publishing
                        .published_id(&room)
                        .map(str::to_string);
                    self.store.publishing.remove(&room);
                    if let Some(id) = published {
                        more.extend(self.publish_rooms("", vec![(room, id, None)]).events);
                    }
                }
                _ => {}
            }
        }
        more
    }

    /// Before quitting without leaving rooms one by one: every published
    /// room is published as left (the IQs go out before the stream closes).
    pub fn retract_chatting(&mut self) {
        let list: Vec<Publication> = self
            .store
            .publishing
            .published()
            .into_iter()
            .map(|(room, id)| (room, id, None))
            .collect();
        self.publish_rooms("", list);
    }

    /// `/chatting ROOM|all on|off`.
    pub(super) fn start_chatting(&mut self, text: &str, target: StatusTarget, on: bool) -> Exec {
        let joined = |app: &App, room: &BareJid| {
            app.store
                .room(room)
                .is_some_and(|r| matches!(r.state, JoinState::Joined | JoinState::Rejoining))
        };
        match (target, on) {
            (StatusTarget::Room(room), false) => {
                self.chatting.overrides.insert(room.clone(), false);
                match self
                    .store
                    .publishing
                    .published_id(&room)
                    .map(str::to_string)
                {
                    Some(id) => {
                        let mut exec = self.publish_rooms(text, vec![(room.clone(), id, None)]);
                        exec.events
                            .push(self.withhold(&room, "turned off with /chatting".into()));
                        exec
                    }
                    _ if joined(self, &room) => Exec::done(vec![
                        self.withhold(&room, "turned off with /chatting".into()),
                        App::result(text, Ok(())),
                    ]),
                    _ => Exec::done(vec![App::result(text, Ok(()))]),
                }
            }
            (StatusTarget::Room(room), true) => {
                self.chatting.overrides.insert(room.clone(), true);
                if joined(self, &room) && !self.store.publishing.is_published(&room) {
                    let name = None;
                    let content = self.room_content(&room, name);
                    let id = chatting::item_id(&content.uri);
                    self.publish_rooms(text, vec![(room, id, Some(content))])
                } else {
                    Exec::done(vec![App::result(text, Ok(()))])
                }
            }
            (StatusTarget::All, false) => {
                self.chatting.config.publish = false;
                self.chatting.overrides.retain(|_, on| !*on);
                let list: Vec<Publication> = self
                    .store
                    .publishing
                    .published()
                    .into_iter()
                    .map(|(room, id)| (room, id, None))
                    .collect();
                let rooms: Vec<BareJid> = list.iter().map(|(r, ..)| r.clone()).collect();
                let mut exec = self.publish_rooms(text, list);
                for r in rooms {
                    exec.events
                        .push(self.withhold(&r, "publishing is off".into()));
                }
                exec
            }
            (StatusTarget::All, true) => {
                self.chatting.config.publish = true;
                let rooms: Vec<BareJid> = self
                    .store
                    .rooms()
                    .filter(|r| r.state == JoinState::Joined)
                    .map(|r| r.jid.clone())
                    .filter(|r| !self.store.publishing.is_published(r))
                    .collect();
                let mut events = Vec::new();
                for r in rooms {
                    events.extend(self.consider_room(r, true));
                }
                events.push(App::result(text, Ok(())));
                Exec::done(events)
            }
        }
    }
}

/// Whether `room` is published, or about to be: a leave not told before
/// would be outdated.
fn deciding_or_published(app: &App, room: &BareJid) -> bool {
    matches!(
        app.store.publishing.get(room),
        Some(PublishState::Published { .. } | PublishState::Deciding(_))
    )
}

/// A publication goes out: the room counts as published (or not) now.
fn note_publication(app: &mut App, room: &BareJid, id: &str, content: Option<&ChattingRoom>) {
    app.chatting.unsent.remove(room);
    match content {
        Some(c) => app.store.publishing.set(
            room.clone(),
            PublishState::Published {
                id: id.to_string(),
                room: c.clone(),
            },
        ),
        None => {
            if app.store.publishing.is_published(room) {
                app.store.publishing.remove(room);
            }
        }
    }
}

/// After one publication: the state and event for that room, then the
/// next publication or the end.
fn publish_then(room: BareJid, id: String, published: bool, rest: Vec<Publication>) -> IqThen {
    IqThen::new(move |app, command, r| {
        let mut events = Vec::new();
        match r {
            Ok(_) if published => {
                if app.store.publishing.is_published(&room) {
                    events.push(Event::ChattingPublish {
                        room: room.to_string(),
                        published: true,
                        reason: None,
                    });
                }
            }
            Ok(_) => {}
            Err(mut e) => {
                if published {
                    events.push(app.withhold(&room, format!("publishing failed ({e})")));
                } else if !deciding_or_published(app, &room) {
                    // Told once we are back online.
                    app.chatting.unsent.insert(room.clone(), id.clone());
                }
                let later = if app.chatting.unsent.contains_key(&room) {
                    " (contacts are told once back online)"
                } else {
                    ""
                };
                let text = e.text.take().unwrap_or_else(|| e.condition.clone());
                if !command.is_empty() {
                    // The command ends here: the leaves still to tell
                    // wait for the reconnection too.
                    for (r, id, content) in &rest {
                        if content.is_none() && !deciding_or_published(app, r) {
                            app.chatting.unsent.insert(r.clone(), id.clone());
                        }
                    }
                    e.text = Some(format!(
                        "could not tell contacts about {room}: {text}{later}"
                    ));
                    events.push(App::result(command, Err(e)));
                    return IqStep::Done(events);
                }
                events.push(Event::error(
                    &e.condition,
                    Some(format!(
                        "could not tell contacts about {room}: {text}{later}"
                    )),
                ));
            }
        }
        if rest.is_empty() {
            if !command.is_empty() {
                events.push(App::result(command, Ok(())));
            }
            return IqStep::Done(events);
        }
        let mut rest = rest.clone();
        let (next, id, content) = rest.remove(0);
        note_publication(app, &next, &id, content.as_ref());
        IqStep::Next {
            events,
            to: None,
            payload: chatting::publish(&id, content.as_ref()),
            set: true,
            then: publish_then(next, id, content.is_some(), rest),
        }
    })
}

#[cfg(test)]
mod tests {
    use minidom::Element;
    use tokio::sync::mpsc::UnboundedReceiver;

    use super::*;
    use crate::command::Command;
    use crate::protocol::muc::MucPresence;
    use crate::protocol::{Incoming, OccupantInfo};
    use crate::session::{SessionCmd, SessionEvent, Tag};

    #[test]
    fn patterns() {
        assert!(matches_pattern(
            "*@conference.work.example",
            "x@conference.work.example"
        ));
        assert!(matches_pattern("secret*", "Secret-Room@c"));
        assert!(matches_pattern("a@b", "A@B"));
        assert!(!matches_pattern("a@b", "a@bc"));
        assert!(matches_pattern("*", "anything"));
        assert!(matches_pattern("*room*@*", "my-room-2@c"));
        assert!(!matches_pattern("*room*@x", "my-room-2@c"));
    }

    fn join(app: &mut App, room: &str, password: Option<&str>) {
        let room = BareJid::new(room).unwrap();
        app.execute(
            Command::Join {
                room: room.clone(),
                nick: None,
                password: password.map(str::to_string),
                options: Default::default(),
            },
            &format!("/join {room}"),
        );
        app.on_session(SessionEvent::Incoming(Incoming::MucPresence(MucPresence {
            room,
            nick: "alice".into(),
            available: true,
            info: OccupantInfo::default(),
            codes: vec![110],
            has_muc_user: true,
            new_nick: None,
            reason: None,
            actor: None,
            destroyed: None,
        })));
    }

    /// The IQs sent so far: (tag, payload).
    fn iqs(rx: &mut UnboundedReceiver<SessionCmd>) -> Vec<(Tag, Element)> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|c| match c {
                SessionCmd::Iq { tag, payload, .. } => Some((tag, payload)),
                _ => None,
            })
            .collect()
    }

    fn answer(app: &mut App, tag: Tag, xml: Option<&str>) -> Vec<Event> {
        app.on_session(SessionEvent::IqResponse {
            tag,
            result: Ok(xml.map(|x| x.parse().unwrap())),
        })
    }

    const OPEN: &str = "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text' name='Lounge'/><feature var='muc_public'/><feature var='muc_open'/></query>";
    const MEMBERS: &str = "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text'/><feature var='muc_membersonly'/></query>";

    #[test]
    fn public_rooms_are_published_private_ones_not() {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
        join(&mut app, "lounge@c", None);
        let sent = iqs(&mut rx);
        // The last one: MAM catch-up asks the room's disco#info too.
        let (tag, _) = sent
            .iter()
            .rfind(|(_, p)| p.is("query", crate::protocol::ns::DISCO_INFO))
            .cloned()
            .expect("disco#info of the room");
        let lounge = BareJid::new("lounge@c").unwrap();
        assert_eq!(
            app.store.publishing.get(&lounge),
            Some(&PublishState::Deciding(None))
        );
        answer(&mut app, tag, Some(OPEN));
        let sent = iqs(&mut rx);
        let (tag, p) = sent
            .iter()
            .find(|(_, p)| p.is("pubsub", chatting::NS_PUBSUB))
            .cloned()
            .expect("a publish");
        let item = p
            .get_child("publish", chatting::NS_PUBSUB)
            .unwrap()
            .get_child("item", chatting::NS_PUBSUB)
            .unwrap();
        assert_eq!(
            item.attr("id"),
            Some(chatting::item_id("xmpp:lounge@c").as_str())
        );
        let room =
            chatting::parse_room(item.get_child("room", chatting::NS_CHATTING).unwrap()).unwrap();
        assert_eq!(room.name.as_deref(), Some("Lounge"));
        let out = answer(&mut app, tag, None);
        assert_eq!(
            out[0].to_json(),
            serde_json::json!({"event":"chatting-publish","room":"lounge@c","published":true})
        );
        // Members-only: nothing published.
        join(&mut app, "club@c", None);
        let (tag, _) = iqs(&mut rx).pop().unwrap();
        assert!(
            !app.store
                .publishing
                .is_published(&BareJid::new("club@c").unwrap())
        );
        let out = answer(&mut app, tag, Some(MEMBERS));
        assert_eq!(out[0].to_json()["reason"], "members-only room");
        assert!(iqs(&mut rx).is_empty());
        // Joined with a password: not even asked.
        join(&mut app, "den@c", Some("pw"));
        let disco = |sent: Vec<(Tag, Element)>| {
            sent.iter()
                .filter(|(_, p)| p.is("query", crate::protocol::ns::DISCO_INFO))
                .count()
        };
        assert_eq!(disco(iqs(&mut rx)), 1, "only MAM's");
        let den = BareJid::new("den@c").unwrap();
        assert_eq!(
            app.store.publishing.get(&den),
            Some(&PublishState::Withheld("joined with a password".into()))
        );
        // /chatting off: the empty item under the same id.
        let exec = app.execute(
            Command::Chatting {
                target: StatusTarget::Room(lounge.clone()),
                publish: false,
            },
            "/chatting lounge@c off",
        );
        let (tag, p) = iqs(&mut rx).pop().unwrap();
        let item = p
            .get_child("publish", chatting::NS_PUBSUB)
            .unwrap()
            .get_child("item", chatting::NS_PUBSUB)
            .unwrap();
        assert_eq!(
            item.attr("id"),
            Some(chatting::item_id("xmpp:lounge@c").as_str())
        );
        assert_eq!(
            item.get_child("room", chatting::NS_CHATTING)
                .unwrap()
                .children()
                .count(),
            0
        );
        assert_eq!(exec.events[0].to_json()["published"], false);
        let out = answer(&mut app, tag, None);
        assert_eq!(out.last().unwrap().to_json()["event"], "ok");
        assert!(!app.store.publishing.is_published(&lounge));
    }

    fn presence_of_self(app: &mut App, room: &str) -> Vec<Event> {
        app.on_session(SessionEvent::Incoming(Incoming::MucPresence(MucPresence {
            room: BareJid::new(room).unwrap(),
            nick: "alice".into(),
            available: true,
            info: OccupantInfo::default(),
            codes: vec![110],
            has_muc_user: true,
            new_nick: None,
            reason: None,
            actor: None,
            destroyed: None,
        })))
    }

    fn is_disco(p: &Element) -> bool {
        p.is("query", crate::protocol::ns::DISCO_INFO)
    }

    /// The item of a publish: (id, whether the `<room/>` is empty).
    fn published_item(p: &Element) -> Option<(String, bool)> {
        let item = p
            .get_child("publish", chatting::NS_PUBSUB)?
            .get_child("item", chatting::NS_PUBSUB)?;
        let room = item.get_child("room", chatting::NS_CHATTING)?;
        Some((item.attr("id")?.to_string(), room.children().count() == 0))
    }

    /// Joins a public room and publishes it.
    fn join_published(app: &mut App, rx: &mut UnboundedReceiver<SessionCmd>, room: &str) {
        join(app, room, None);
        let (tag, _) = iqs(rx).into_iter().rfind(|(_, p)| is_disco(p)).unwrap();
        answer(app, tag, Some(OPEN));
        let (tag, p) = iqs(rx).pop().unwrap();
        assert!(published_item(&p).is_some_and(|(_, empty)| !empty));
        answer(app, tag, None);
        assert!(
            app.store
                .publishing
                .is_published(&BareJid::new(room).unwrap())
        );
    }

    #[test]
    fn after_a_reconnection_rooms_are_decided_again_and_missed_leaves_told() {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
        let me: jid::FullJid = "alice@localhost/r".parse().unwrap();
        app.on_session(SessionEvent::Online {
            jid: me.clone(),
            reconnect: false,
        });
        join_published(&mut app, &mut rx, "lounge@c");
        join_published(&mut app, &mut rx, "hall@c");
        let lounge = BareJid::new("lounge@c").unwrap();
        let hall = BareJid::new("hall@c").unwrap();

        // Offline: the hall's empty item cannot go out.
        app.on_session(SessionEvent::Disconnected {
            reason: "connection lost".into(),
            retry_in: std::time::Duration::from_secs(1),
        });
        app.execute(
            Command::Chatting {
                target: StatusTarget::Room(hall.clone()),
                publish: false,
            },
            "/chatting hall@c off",
        );
        let (tag, p) = iqs(&mut rx).pop().unwrap();
        assert_eq!(
            published_item(&p),
            Some((chatting::item_id("xmpp:hall@c"), true))
        );
        let out = app.on_session(SessionEvent::IqResponse {
            tag,
            result: Err(ErrorInfo::new(
                "remote-server-timeout",
                Some("not connected".to_string()),
            )),
        });
        let err = out
            .iter()
            .find(|e| e.to_json()["event"] == "error")
            .unwrap();
        assert!(
            err.to_json()["text"]
                .as_str()
                .unwrap()
                .contains("told once back online"),
            "{out:?}"
        );

        // Back: the roster again, and the hall's empty item.
        app.on_session(SessionEvent::Online {
            jid: me,
            reconnect: true,
        });
        let sent = iqs(&mut rx);
        assert!(
            sent.iter().any(|(_, p)| p.is("query", "jabber:iq:roster")),
            "{sent:?}"
        );
        let (tag, _) = sent
            .iter()
            .find(|(_, p)| published_item(p) == Some((chatting::item_id("xmpp:hall@c"), true)))
            .cloned()
            .expect("the hall's empty item");
        answer(&mut app, tag, None);

        // The lounge rejoined: asked again; members-only now, so its
        // empty item goes out.
        let out = presence_of_self(&mut app, "lounge@c");
        assert!(out.iter().any(|e| e.to_json()["rejoined"] == true));
        let (tag, _) = iqs(&mut rx)
            .into_iter()
            .rfind(|(_, p)| is_disco(p))
            .unwrap();
        assert_eq!(
            app.store.publishing.get(&lounge),
            Some(&PublishState::Deciding(Some(chatting::item_id(
                "xmpp:lounge@c"
            ))))
        );
        let out = answer(&mut app, tag, Some(MEMBERS));
        assert!(
            out.iter()
                .any(|e| e.to_json()["reason"] == "members-only room"),
            "{out:?}"
        );
        let (_, p) = iqs(&mut rx).pop().unwrap();
        assert_eq!(
            published_item(&p),
            Some((chatting::item_id("xmpp:lounge@c"), true))
        );
        assert!(!app.store.publishing.is_published(&lounge));
    }

    #[test]
    fn publishing_off_tells_the_empty_item_of_every_published_room() {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
        join_published(&mut app, &mut rx, "lounge@c");
        join_published(&mut app, &mut rx, "hall@c");
        let exec = app.execute(
            Command::Chatting {
                target: StatusTarget::All,
                publish: false,
            },
            "/chatting all off",
        );
        assert_eq!(
            exec.events
                .iter()
                .filter(|e| e.to_json()["published"] == false)
                .count(),
            2
        );
        // One after the other, then ok.
        let (tag, p) = iqs(&mut rx).pop().unwrap();
        assert_eq!(
            published_item(&p),
            Some((chatting::item_id("xmpp:hall@c"), true))
        );
        assert!(answer(&mut app, tag, None).is_empty());
        let (tag, p) = iqs(&mut rx).pop().unwrap();
        assert_eq!(
            published_item(&p),
            Some((chatting::item_id("xmpp:lounge@c"), true))
        );
        let out = answer(&mut app, tag, None);
        assert_eq!(out.last().unwrap().to_json()["event"], "ok");
        assert!(app.store.publishing.published().is_empty());
        // A room joined now stays unpublished, without asking.
        join(&mut app, "yard@c", None);
        assert!(
            !iqs(&mut rx)
                .iter()
                .any(|(_, p)| p.is("pubsub", chatting::NS_PUBSUB))
        );
        assert_eq!(
            app.store.publishing.get(&BareJid::new("yard@c").unwrap()),
            Some(&PublishState::Withheld("publishing is off".into()))
        );
    }

    #[test]
    fn rooms_joined_privately_are_never_asked_about() {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
        let room = BareJid::new("quiet@c").unwrap();
        let options = crate::command::JoinOptions {
            private: true,
            ..Default::default()
        };
        app.execute(
            Command::Join {
                room: room.clone(),
                nick: None,
                password: None,
                options,
            },
            "/join quiet@c --private",
        );
        presence_of_self(&mut app, "quiet@c");
        assert!(
            !iqs(&mut rx)
                .iter()
                .any(|(_, p)| p.is("pubsub", chatting::NS_PUBSUB))
        );
        assert_eq!(
            app.store.publishing.get(&room),
            Some(&PublishState::Withheld("joined privately".into()))
        );
    }

    #[test]
    fn config_off_and_never_patterns() {
        let (mut app, mut rx) = App::for_tests("alice@localhost", 0);
        app.set_chatting(ChattingConfig {
            publish: true,
            never: vec!["*@secret.c".into()],
        });
        join(&mut app, "x@secret.c", None);
        let disco = iqs(&mut rx)
            .iter()
            .filter(|(_, p)| p.is("query", crate::protocol::ns::DISCO_INFO))
            .count();
        assert_eq!(disco, 1, "only MAM's");
        let x = BareJid::new("x@secret.c").unwrap();
        assert!(matches!(
            app.store.publishing.get(&x),
            Some(PublishState::Withheld(r)) if r.contains("never")
        ));
        app.set_chatting(ChattingConfig {
            publish: false,
            never: vec![],
        });
        join(&mut app, "y@c", None);
        let y = BareJid::new("y@c").unwrap();
        assert_eq!(
            app.store.publishing.get(&y),
            Some(&PublishState::Withheld("publishing is off".into()))
        );
        // /chatting ROOM on overrides.
        app.execute(
            Command::Chatting {
                target: StatusTarget::Room(y.clone()),
                publish: true,
            },
            "/chatting y@c on",
        );
        assert!(app.store.publishing.is_published(&y));
    }
}
