//! Entering a room, whatever its protocol: the one join path.
//!
//! Every way into a room ends in [`App::enter_room`]: `/join` (and
//! `/accept`, the bookmarks' autojoin, `/create`, which go through
//! [`App::start_join`]), a Jitsi focus's answer (`app/focus.rs`, also its
//! rejoin after a reconnection), the protocol found by detection
//! (`detect_then`, `conference_get_then`) and the re-entry of generic
//! conferencing rooms after a reconnection (`app/conference.rs`). It
//! sends the store its `Joining` input (one `apply`, with the archive's
//! lines) and the session its command; what differs by protocol is a
//! `match` on [`Protocol`] inside it: the XEP-0045 join presence, the
//! groupchat 1.0 room registered with the session first, or generic
//! conferencing's presence to the bare room and the `set`.
//!
//! Which protocol (`--protocol` forces one): a service whose disco#info
//! has the XEP-0045 feature is MUC; otherwise a room that answers the
//! conference `get` (or says 404/405 to it) speaks generic conferencing;
//! otherwise groupchat 1.0. While that is found out, the room window is
//! open in the joining state; the command keeps its tag across the steps
//! (`IqStep::WithTag`).

use std::collections::HashMap;

use chrono::Utc;
use jid::{BareJid, Jid};

use super::conference::{ConfRoom, explain, field, gc_create_then, legacy_answer, occupant};
use super::{App, Exec, IqStep, IqThen, OUTCOME_TIMEOUT, Waiting, refuse};
use crate::command::JoinOptions;
use crate::protocol::conference::{self as proto, Entry};
use crate::protocol::muc::{self, HistoryRequest};
use crate::protocol::{ErrorInfo, Incoming, rooms};
use crate::session::{SessionCmd, Tag};
use crate::store::{Connection, Event, Input, JoinState, Protocol};

/// A room to enter.
pub(super) struct RoomEntry {
    pub(super) room: BareJid,
    /// The nicks to offer, in order; the first names the room window
    /// (XEP-0045 and groupchat 1.0 use it alone).
    pub(super) nicks: Vec<String>,
    pub(super) password: Option<String>,
    /// Generic conferencing's `<privacy/>` (`--private`).
    pub(super) private: bool,
    pub(super) protocol: Protocol,
}

/// A first entry, or the same room again after a reconnection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Occasion {
    /// The room window opens (or starts over) in the joining state, with
    /// the archive's lines; a `/create` under way for the room decides
    /// what the command waits for.
    First,
    /// A room the session leaves to the app after a reconnection (entered
    /// through a focus, or generic conferencing): the window stays as the
    /// reconnection left it (rejoining, its occupants until the room
    /// says otherwise).
    Again,
}

/// How a join goes on once the protocol is known.
#[derive(Clone)]
pub(super) struct JoinPlan {
    pub(super) room: BareJid,
    /// Given with `/join ROOM/NICK`.
    pub(super) nick: Option<String>,
    pub(super) password: Option<String>,
    pub(super) private: bool,
}

impl App {
    /// `/join` (also `/accept`, the bookmarks' autojoin and `/create`):
    /// refused when in already; through a focus when one is asked for or
    /// configured; else by the room's protocol.
    pub(super) fn start_join(
        &mut self,
        text: &str,
        room: BareJid,
        nick: Option<String>,
        password: Option<String>,
        options: JoinOptions,
    ) -> Result<Exec, Box<Event>> {
        self.note_chatting_join(&room, password.is_some(), options.private);
        if let Some(JoinState::Joined) = self.store.room(&room).map(|r| r.state) {
            return Err(refuse(text, "conflict", format!("already in {room}")));
        }
        if let Some(focus) = self.focus_for(&room, &options) {
            let props = options.focus_props;
            return self.start_focus_join(text, room, nick, password, focus, props);
        }
        let plan = JoinPlan {
            room,
            nick,
            password,
            private: options.private,
        };
        self.join_by_protocol(text, plan, options.protocol)
    }

    /// The join of `plan` by its protocol (`forced`, else known, else
    /// found out first).
    pub(super) fn join_by_protocol(
        &mut self,
        text: &str,
        plan: JoinPlan,
        forced: Option<Protocol>,
    ) -> Result<Exec, Box<Event>> {
        let room = plan.room.clone();
        let protocol = forced.or_else(|| self.known_protocol(&room));
        let online = self.store.connection == Connection::Online;
        if let Some(n) = &plan.nick {
            muc::occupant_jid(&room, n)
                .map_err(|e| refuse(text, &e.condition, e.text.unwrap_or_default()))?;
        }
        let muc = match protocol {
            Some(Protocol::Muc) => true,
            None => !online,
            Some(_) => false,
        };
        if muc {
            let nick = plan
                .nick
                .clone()
                .unwrap_or_else(|| self.opts.default_nick.clone());
            muc::occupant_jid(&room, &nick)
                .map_err(|e| refuse(text, &e.condition, e.text.unwrap_or_default()))?;
            let tag = self.tag();
            let entering = RoomEntry {
                room,
                nicks: vec![nick],
                password: plan.password,
                private: plan.private,
                protocol: Protocol::Muc,
            };
            let mut exec = Exec::pending(tag);
            exec.events = self.enter_room(tag, text, entering, Occasion::First);
            return Ok(exec);
        }
        match protocol {
            Some(Protocol::Groupchat) => {
                let tag = self.tag();
                let entering = self.entering(plan, Protocol::Groupchat);
                let mut exec = Exec::pending(tag);
                exec.events = self.enter_room(tag, text, entering, Occasion::First);
                Ok(exec)
            }
            Some(Protocol::Conference) => {
                if !online {
                    return Err(refuse(text, "not-acceptable", "not connected"));
                }
                let events = self.open_window(&plan, Protocol::Conference);
                let mut exec = self.start_iq(
                    text,
                    Some(room.into()),
                    proto::get(),
                    false,
                    conference_get_then(plan),
                );
                exec.events = events;
                Ok(exec)
            }
            Some(Protocol::Muc) | None => {
                // Which protocol: the service's disco#info first.
                let events = self.open_window(&plan, Protocol::Muc);
                let service: Jid = BareJid::from_parts(None, room.domain()).into();
                let mut exec = self.start_iq(
                    text,
                    Some(service),
                    rooms::info_query(),
                    false,
                    detect_then(plan),
                );
                exec.events = events;
                Ok(exec)
            }
        }
    }

    /// The nicks a join offers: the one given, else the account's
    /// `nicks = [..]`, else the default nick.
    fn nicks_for(&self, plan: &JoinPlan) -> Vec<String> {
        match &plan.nick {
            Some(n) => vec![n.clone()],
            None if !self.conference.nicks.is_empty() => self.conference.nicks.clone(),
            None => vec![self.opts.default_nick.clone()],
        }
    }

    pub(super) fn entering(&self, plan: JoinPlan, protocol: Protocol) -> RoomEntry {
        RoomEntry {
            nicks: self.nicks_for(&plan),
            room: plan.room,
            password: plan.password,
            private: plan.private,
            protocol,
        }
    }

    /// The room window, in the "joining" state, while the protocol is
    /// found out.
    fn open_window(&mut self, plan: &JoinPlan, protocol: Protocol) -> Vec<Event> {
        let nick = self.nicks_for(plan).remove(0);
        self.store.apply(
            Input::Joining {
                room: plan.room.clone(),
                nick,
                protocol,
            },
            Utc::now(),
        )
    }

    /// Enters a room for the command `tag` (`command` empty: the app's
    /// own): the store's `Joining` (with the archive's lines) on a first
    /// entry, what the command waits for, and the session's command(s)
    /// by protocol. Returns the events to show.
    pub(super) fn enter_room(
        &mut self,
        tag: Tag,
        command: &str,
        entry: RoomEntry,
        occasion: Occasion,
    ) -> Vec<Event> {
        let room = entry.room.clone();
        let first = occasion == Occasion::First;
        let creating = if first {
            self.conference.creating.remove(&room)
        } else {
            None
        };
        let mut events = Vec::new();
        let mut history = HistoryRequest::Default;
        if first {
            let joining = Input::Joining {
                room: room.clone(),
                nick: entry.nicks[0].clone(),
                protocol: entry.protocol,
            };
            let (archive, request, broken) = match entry.protocol {
                // A conference room shows no archive on entry.
                Protocol::Conference => (None, history.clone(), None),
                Protocol::Muc | Protocol::Groupchat => self.load_archive(&room),
            };
            history = request;
            let input = match archive {
                Some(archive) => Input::Batch(vec![joining, archive]),
                None => joining,
            };
            events = self.store.apply(input, Utc::now());
            events.extend(broken);
        }
        match entry.protocol {
            Protocol::Muc | Protocol::Groupchat => {
                let waiting = match creating {
                    Some((instant, fields)) if entry.protocol == Protocol::Muc => {
                        Waiting::JoinThen {
                            room: room.clone(),
                            then: super::rooms::create_then(room.clone(), instant, fields),
                        }
                    }
                    Some((_, fields)) => Waiting::JoinThen {
                        room: room.clone(),
                        then: gc_create_then(room.clone(), fields),
                    },
                    None => Waiting::Join { room: room.clone() },
                };
                self.wait_as(tag, command, waiting, true);
                if entry.protocol == Protocol::Groupchat {
                    // The session's room registry joins it by plain presence.
                    self.conference
                        .protocols
                        .insert(room.clone(), Protocol::Groupchat);
                    self.session
                        .send(SessionCmd::Groupchat { room: room.clone() });
                }
                if first {
                    self.store
                        .invitations
                        .note_password(&room, entry.password.as_deref());
                }
                // Asks the room about MAM first when we hold its history.
                let nick = entry.nicks.into_iter().next().unwrap_or_default();
                self.send_join(room, nick, entry.password, history, tag);
            }
            Protocol::Conference => {
                let creating = creating.map(|(_, fields)| fields);
                let (payload, then) = self.enter_conference(entry, creating);
                self.wait_as(tag, command, Waiting::Iq(then), true);
                self.session.send(SessionCmd::Iq {
                    to: Some(room.into()),
                    payload,
                    set: true,
                    timeout: OUTCOME_TIMEOUT,
                    tag,
                });
            }
        }
        events
    }

    /// Generic conferencing: presence to the bare room JID, then the `set`
    /// entering (or, with the `/create` fields, creating) it, returned
    /// with what its answer does.
    fn enter_conference(
        &mut self,
        e: RoomEntry,
        creating: Option<Vec<(String, String)>>,
    ) -> (minidom::Element, IqThen) {
        let room = e.room.clone();
        let mut entry = Entry {
            secret: e.password.clone(),
            nicks: e.nicks,
            privacy: e.private,
            name: None,
        };
        if let Some(fields) = &creating {
            if let Some(s) = field(fields, &["secret", "password"]) {
                entry.secret = Some(s.to_string());
            }
            if let Some(n) = field(fields, &["name", "muc#roomconfig_roomname"]) {
                entry.name = Some(n.to_string());
            }
            if field(fields, &["privacy"]).is_some_and(|v| matches!(v, "1" | "true" | "yes")) {
                entry.privacy = true;
            }
        }
        let creating = creating.is_some();
        self.conference.rooms.insert(
            room.clone(),
            ConfRoom {
                id: None,
                members: HashMap::new(),
                secret: entry.secret.clone(),
                private: entry.privacy,
            },
        );
        self.conference
            .protocols
            .insert(room.clone(), Protocol::Conference);
        self.room_presence(&room, true);
        let then = IqThen::new(move |app, command, result| {
            match result.and_then(|r| proto::parse_entered(r.as_ref())) {
                Ok(entered) => IqStep::Done(app.entered(command, &room, entered)),
                Err(e) => {
                    app.room_presence(&room, false);
                    app.join_failed(command, &room, explain(&room, e, creating, true), None)
                }
            }
        });
        (proto::set(&entry), then)
    }

    /// The `set` result: we are in the room as `entered.nick`.
    fn entered(&mut self, command: &str, room: &BareJid, entered: proto::Entered) -> Vec<Event> {
        let id = Jid::new(&entered.id)
            .ok()
            .filter(|j| j.to_bare() == *room)
            .and_then(|j| j.resource().map(|r| r.to_string()));
        if let Some(r) = self.conference.rooms.get_mut(room) {
            if let Some(id) = &id {
                r.members.insert(id.clone(), entered.nick.clone());
            }
            r.id = id;
        }
        self.store.invitations.note_password(
            room,
            self.conference
                .rooms
                .get(room)
                .and_then(|r| r.secret.as_deref()),
        );
        let mut events = self.store.apply(
            Input::Incoming(occupant(
                room,
                &entered.nick,
                true,
                vec![muc::StatusCode::SelfPresence],
            )),
            Utc::now(),
        );
        if !command.is_empty() {
            events.push(Event::Ok {
                command: command.to_string(),
            });
        }
        events
    }

    /// A join that failed before the room had us: the room window shows
    /// it (opened first with `window`'s input when given), the command
    /// ends with the error.
    fn join_failed(
        &mut self,
        command: &str,
        room: &BareJid,
        e: ErrorInfo,
        window: Option<Input>,
    ) -> IqStep {
        self.conference.rooms.remove(room);
        self.conference.creating.remove(room);
        let failed = Input::Incoming(Incoming::MucPresenceError {
            room: room.clone(),
            nick: None,
            error: e.clone(),
        });
        let input = match window {
            Some(w) => Input::Batch(vec![w, failed]),
            None => failed,
        };
        let events = self.store.apply(input, Utc::now());
        let mut out: Vec<Event> = events
            .into_iter()
            .filter(|e| !matches!(e, Event::Error { .. }))
            .collect();
        out.push(Event::Error {
            command: (!command.is_empty()).then(|| command.to_string()),
            room: Some(room.clone()),
            condition: e.condition,
            text: e.text,
            message_id: None,
        });
        IqStep::Done(out)
    }
}

/// The join's protocol from the service's disco#info; without a clear
/// answer the room is asked the conference `get`.
fn detect_then(plan: JoinPlan) -> IqThen {
    IqThen::new(move |app, _, result| {
        let domain = plan.room.domain().to_string();
        let info = result.ok().and_then(|p| rooms::parse_info(p.as_ref()).ok());
        let has = |f: &str| {
            info.as_ref()
                .is_some_and(|i| i.features.iter().any(|x| x == f))
        };
        if has(crate::protocol::ns::MUC) {
            app.conference.muc_services.insert(domain);
            let entering = app.entering(plan.clone(), Protocol::Muc);
            return IqStep::WithTag(Box::new(move |app: &mut App, tag, command| {
                app.enter_room(tag, &command, entering, Occasion::First)
            }));
        }
        IqStep::Next {
            events: Vec::new(),
            to: Some(plan.room.clone().into()),
            payload: proto::get(),
            set: false,
            then: conference_get_then(plan.clone()),
        }
    })
}

/// The answer to the conference `get` of a join (or `/create`).
fn conference_get_then(plan: JoinPlan) -> IqThen {
    IqThen::new(move |app, command, result| {
        let room = plan.room.clone();
        let creating = app.conference.creating.contains_key(&room);
        let entering = app.entering(plan.clone(), Protocol::Conference);
        match result.and_then(|r| proto::parse_requirements(r.as_ref())) {
            Ok(req) => {
                app.conference
                    .protocols
                    .insert(room.clone(), Protocol::Conference);
                // The room window is a conference room's, whatever follows.
                let window = Input::Joining {
                    room: room.clone(),
                    nick: entering.nicks[0].clone(),
                    protocol: Protocol::Conference,
                };
                if creating {
                    return app.join_failed(
                        command,
                        &room,
                        ErrorInfo::new("conflict", Some(format!("room exists: {room}"))),
                        Some(window),
                    );
                }
                if req.secret && plan.password.is_none() {
                    return app.join_failed(
                        command,
                        &room,
                        ErrorInfo::new(
                            "not-authorized",
                            Some(format!(
                                "{room} needs a secret: /join {room} SECRET (or --password SECRET)"
                            )),
                        ),
                        Some(window),
                    );
                }
                enter_with_tag(entering)
            }
            Err(e) if creating && e.condition == "item-not-found" => enter_with_tag(entering),
            Err(e) if matches!(e.condition.as_str(), "item-not-found" | "not-allowed") => {
                app.conference
                    .protocols
                    .insert(room.clone(), Protocol::Conference);
                app.join_failed(command, &room, explain(&room, e, creating, false), None)
            }
            Err(e) if legacy_answer(&e) => {
                // Neither XEP-0045 nor generic conferencing.
                let entering = app.entering(plan.clone(), Protocol::Groupchat);
                enter_with_tag(entering)
            }
            Err(e) => app.join_failed(command, &room, e, None),
        }
    })
}

/// The command goes on under its tag by entering the room.
fn enter_with_tag(entering: RoomEntry) -> IqStep {
    IqStep::WithTag(Box::new(move |app: &mut App, tag, command| {
        app.enter_room(tag, &command, entering, Occasion::First)
    }))
}
