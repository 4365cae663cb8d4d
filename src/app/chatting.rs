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
use crate::command::{Command, StatusTarget};
use crate::config::ChattingConfig;
use crate::protocol::ErrorInfo;
use crate::protocol::chatting::{self, ChattingRoom};
use crate::protocol::muc::StatusCode;
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
            .is_some_and(|r| r.codes.contains(&StatusCode::RoomHasBeenCreated));
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
        let publication = chatting::publication(&id, content.as_ref());
        let then = publish_then(room, id, content.is_some(), list);
        let (payload, then) = self.pep_publish(publication, then);
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
                    // A new session: publish-options are tried again.
                    self.pep_new_session();
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
                    let published = self.store.publishing.is_published(room);
                    if *rejoined {
                        self.chatting.awaiting_config.remove(room);
                        more.extend(self.consider_room(room.clone(), true));
                    } else if !published {
                        more.extend(self.consider_room(room.clone(), false));
                    }
                }
                // A new room is configured (`/join`, `/create`), or a
                // room's configuration changed (`/config`): decide again.
                Event::Ok { command } => {
                    let Ok(command) = crate::command::parse(command) else {
                        continue;
                    };
                    let Some(room) = command.room().cloned() else {
                        continue;
                    };
                    let joined = self
                        .store
                        .room(&room)
                        .is_some_and(|r| r.state == JoinState::Joined);
                    let config = matches!(command, Command::Config { .. });
                    if self.chatting.awaiting_config.remove(&room) || (config && joined) {
                        more.extend(self.consider_room(room, true));
                    }
                }
                Event::Subject { room, .. } => {
                    let room = room.clone();
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
                    let room = room.clone();
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
        let list = self.all_left();
        self.publish_rooms("", list);
    }

    /// Every published room, published as left.
    fn all_left(&self) -> Vec<Publication> {
        self.store
            .publishing
            .published()
            .into_iter()
            .map(|(room, id)| (room, id, None))
            .collect()
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
                let list = self.all_left();
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
        let publication = chatting::publication(&id, content.as_ref());
        let then = publish_then(next, id, content.is_some(), rest);
        let (payload, then) = app.pep_publish(publication, then);
        IqStep::Next {
            events,
            to: None,
            payload,
            set: true,
            then,
        }
    })
}

#[cfg(test)]
mod tests;
