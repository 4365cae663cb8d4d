//! Rooms of the older protocols: generic conferencing (seed 000,
//! `jabber:iq:conference` + `jabber:iq:browse`) and groupchat 1.0, shown
//! in the same room view as XEP-0045 rooms.
//!
//! `/join` picks the protocol per room and enters it (`app/join.rs`).
//! Entering a conference room: the `get` (requirements), presence to the
//! bare room JID, the `set` (secret, the account's nicks in order,
//! `<privacy/>` with `--private`); its result (`id`, `nick`) is our
//! identity there. The roster comes from browse pushes (answered in
//! `requests.rs`, one store input per push), kept as temporary JID →
//! name; presence and messages from temporary JIDs reach the store under
//! those names, as if from `room/name`, so the store and the views need
//! not know. groupchat 1.0 rooms go through the session's room registry
//! (plain presence, `SessionCmd::Groupchat`).

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use jid::{BareJid, Jid};
use xmpp_parsers::presence::{Presence, Type as PType};

use super::join::{JoinPlan, Occasion};
use super::{App, Exec, IqStep, IqThen, refuse};
use crate::protocol::conference::{self as proto, Entry};
use crate::protocol::iq::{self, IqAnswer, IqRequest};
use crate::protocol::muc::{self, MucPresence, Role, StatusCode};
use crate::protocol::{ErrorInfo, Incoming, OccupantInfo, rooms};
use crate::session::SessionEvent;
use crate::store::{Event, Input, Protocol};

/// What the app knows about the older protocols.
#[derive(Debug, Default)]
pub(super) struct ConferenceState {
    /// `nicks = [..]` of the account.
    pub(super) nicks: Vec<String>,
    /// Service domains whose disco#info has the XEP-0045 feature.
    pub(super) muc_services: HashSet<String>,
    /// Rooms known to speak generic conferencing or groupchat 1.0.
    pub(super) protocols: HashMap<BareJid, Protocol>,
    /// Generic conferencing rooms we are in (or entering).
    pub(super) rooms: HashMap<BareJid, ConfRoom>,
    /// `/create` under way, until its room is entered
    /// (`App::enter_room`): `--instant` and its FIELD=VALUE words.
    pub(super) creating: HashMap<BareJid, (bool, Vec<(String, String)>)>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct ConfRoom {
    /// The resource of our temporary JID, once entered.
    pub(super) id: Option<String>,
    /// The browse roster: temporary resource → name.
    pub(super) members: HashMap<String, String>,
    pub(super) secret: Option<String>,
    pub(super) private: bool,
}

impl ConfRoom {
    fn resource_of(&self, nick: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(_, n)| n.as_str() == nick)
            .map(|(r, _)| r.as_str())
    }
}

pub(super) fn occupant(
    room: &BareJid,
    nick: &str,
    available: bool,
    codes: Vec<StatusCode>,
) -> Incoming {
    Incoming::MucPresence(MucPresence {
        room: room.clone(),
        nick: nick.to_string(),
        available,
        info: OccupantInfo {
            role: Role::Participant,
            show: if available {
                "available"
            } else {
                "unavailable"
            },
            ..Default::default()
        },
        codes,
        has_muc_user: true,
        new_nick: None,
        reason: None,
        actor: None,
        destroyed: None,
    })
}

fn renamed(room: &BareJid, old: &str, new: &str, own: bool) -> Incoming {
    let mut codes = vec![StatusCode::NewNick];
    if own {
        codes.push(StatusCode::SelfPresence);
    }
    let Incoming::MucPresence(mut p) = occupant(room, old, false, codes) else {
        unreachable!()
    };
    p.new_nick = Some(new.to_string());
    Incoming::MucPresence(p)
}

/// An error of the conference `get`/`set` in words a user can act on
/// (`set`: of a `set`; a 405 to a `get`, or to the `set` creating a
/// room, is the service not creating rooms, to another `set` a refusal).
pub(super) fn explain(room: &BareJid, e: ErrorInfo, creating: bool, set: bool) -> ErrorInfo {
    let text = match e.condition.as_str() {
        "item-not-found" if !creating => format!("{room} does not exist (/create {room} makes it)"),
        "not-allowed" if set && !creating => format!("{room} does not allow it"),
        "not-allowed" => format!("this service does not create rooms ({room} does not exist)"),
        "not-authorized" => {
            format!("{room} refused the secret (give it as PASSWORD or --password)")
        }
        "conflict" => format!("every nick offered is taken in {room}"),
        _ => return e,
    };
    let text = match e.text {
        Some(t) if !t.is_empty() => format!("{text}: {t}"),
        _ => text,
    };
    ErrorInfo::new(&e.condition, Some(text))
}

pub(super) fn field<'a>(fields: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| names.contains(&k.as_str()))
        .map(|(_, v)| v.as_str())
}

impl App {
    /// The account's `nicks = [..]`, offered in order to conference rooms.
    pub fn set_nicks(&mut self, nicks: Vec<String>) {
        self.conference.nicks = nicks;
    }

    fn is_muc_service(&self, room: &BareJid) -> bool {
        let domain = room.domain().as_str();
        self.conference.muc_services.contains(domain)
            || self
                .rooms
                .muc_service
                .as_ref()
                .is_some_and(|s| s.as_str() == domain)
    }

    pub(super) fn known_protocol(&self, room: &BareJid) -> Option<Protocol> {
        self.conference
            .protocols
            .get(room)
            .copied()
            .or_else(|| self.is_muc_service(room).then_some(Protocol::Muc))
    }

    /// A presence to the bare room JID (no command of its own).
    pub(super) fn room_presence(&mut self, room: &BareJid, available: bool) {
        let mut p = if available {
            Presence::available()
        } else {
            Presence::new(PType::Unavailable)
        };
        p.to = Some(room.clone().into());
        self.send_presence("", p);
    }

    /// Our own nick change in a conference room: a new `set`.
    pub(super) fn conference_nick(
        &mut self,
        text: &str,
        room: &BareJid,
        nick: &str,
    ) -> Option<Exec> {
        self.conference.rooms.get(room)?.id.as_ref()?;
        let entry = Entry {
            nicks: vec![nick.to_string()],
            ..Default::default()
        };
        let room2 = room.clone();
        let then = IqThen::new(move |app, command, result| {
            let room = &room2;
            match result.and_then(|r| proto::parse_entered(r.as_ref())) {
                Ok(entered) => {
                    let mut events = Vec::new();
                    let old = app.store.room(room).map(|r| r.own_nick.clone());
                    if let Some(r) = app.conference.rooms.get_mut(room)
                        && let Some(id) = &r.id
                    {
                        r.members.insert(id.clone(), entered.nick.clone());
                    }
                    if let Some(old) = old.filter(|o| *o != entered.nick) {
                        events = app.store.apply(
                            Input::Incoming(renamed(room, &old, &entered.nick, true)),
                            Utc::now(),
                        );
                    }
                    events.push(App::result(command, Ok(())));
                    IqStep::Done(events)
                }
                Err(e) => IqStep::Done(vec![App::result(
                    command,
                    Err(explain(room, e, false, true)),
                )]),
            }
        });
        Some(self.start_iq(
            text,
            Some(room.clone().into()),
            proto::set(&entry),
            true,
            then,
        ))
    }

    /// `/part` of a conference room: unavailable presence to the room.
    pub(super) fn conference_part(&mut self, text: &str, room: &BareJid) -> Option<Exec> {
        let r = self.conference.rooms.remove(room)?;
        let mut p = Presence::new(PType::Unavailable);
        p.to = Some(room.clone().into());
        let tag = self.send_presence(text, p);
        let nick = self
            .store
            .room(room)
            .map(|s| s.own_nick.clone())
            .or_else(|| r.id.and_then(|id| r.members.get(&id).cloned()))
            .unwrap_or_default();
        let events = self.store.apply(
            Input::Batch(vec![
                Input::Leaving { room: room.clone() },
                Input::Incoming(occupant(room, &nick, false, vec![StatusCode::SelfPresence])),
            ]),
            Utc::now(),
        );
        let mut exec = Exec::pending(tag);
        exec.events = events;
        Some(exec)
    }

    /// `/status` in conference rooms: presence to the bare room JID (the
    /// room broadcasts it). For one room, the command's own; for all, in
    /// addition to the session's.
    pub(super) fn conference_status(
        &mut self,
        text: &str,
        room: Option<&BareJid>,
        show: crate::command::Show,
        status: Option<&str>,
    ) -> Option<Exec> {
        let rooms: Vec<BareJid> = match room {
            Some(r) => vec![r.clone()],
            None => self
                .conference
                .rooms
                .iter()
                .filter(|(_, c)| c.id.is_some())
                .map(|(j, _)| j.clone())
                .collect(),
        };
        let mut exec = None;
        for r in rooms {
            if !self.conference.rooms.contains_key(&r) {
                continue;
            }
            let p = muc::status_presence(Some(r.into()), show, status);
            let command = if room.is_some() { text } else { "" };
            let tag = self.send_presence(command, p);
            exec = room.is_some().then(|| Exec::pending(tag));
        }
        exec
    }

    /// `/msg ROOM/NICK` in a conference room goes to the temporary JID.
    pub(super) fn wire_address(&self, to: &Jid) -> Jid {
        let Some(nick) = to.resource() else {
            return to.clone();
        };
        let room = to.to_bare();
        self.conference
            .rooms
            .get(&room)
            .and_then(|r| r.resource_of(nick.as_str()))
            .and_then(|res| muc::occupant_jid(&room, res).ok())
            .map(Jid::from)
            .unwrap_or_else(|| to.clone())
    }

    /// `/create` when the room may be a conference room: its FIELD=VALUE
    /// words are kept for the `set`.
    pub(super) fn start_create_any(
        &mut self,
        text: &str,
        room: BareJid,
        nick: Option<String>,
        instant: bool,
        fields: Vec<(String, String)>,
    ) -> Result<Exec, Box<Event>> {
        let online = self.store.connection == crate::store::Connection::Online;
        match self.known_protocol(&room) {
            Some(Protocol::Muc) => return self.start_create(text, room, nick, instant, fields),
            None if !online => return self.start_create(text, room, nick, instant, fields),
            _ => {}
        }
        self.refuse_if_in(text, &room)?;
        // The entry of the room creates it (`App::enter_room`).
        self.conference
            .creating
            .insert(room.clone(), (instant, fields));
        let plan = JoinPlan {
            room: room.clone(),
            nick,
            password: None,
            private: false,
        };
        let exec = self.join_by_protocol(text, plan, None);
        if exec.is_err() {
            self.conference.creating.remove(&room);
        }
        exec
    }

    /// SessionEvents about conference rooms, put in the terms of the
    /// store: temporary JIDs become `room/name`. `None`: nothing to show.
    pub(super) fn conference_incoming(&mut self, ev: SessionEvent) -> Option<SessionEvent> {
        let inc = match ev {
            SessionEvent::Online {
                reconnect: true, ..
            } => {
                self.reenter_conferences();
                return Some(ev);
            }
            SessionEvent::Incoming(inc) => inc,
            ev => return Some(ev),
        };
        let room = match &inc {
            Incoming::MucPresence(p) => p.room.clone(),
            Incoming::RoomMessage(m) => m.room.clone(),
            Incoming::Subject { room, .. } => room.clone(),
            Incoming::Chat(c) => c.from.to_bare(),
            _ => return Some(SessionEvent::Incoming(inc)),
        };
        let Some(r) = self.conference.rooms.get(&room) else {
            return Some(SessionEvent::Incoming(inc));
        };
        let name = |res: &str| r.members.get(res).cloned();
        let inc = match inc {
            Incoming::MucPresence(mut p) => {
                // The roster comes from the pushes; presence only says
                // how participants are (and our own is ours).
                if !p.available || Some(&p.nick) == r.id.as_ref() {
                    return None;
                }
                p.nick = name(&p.nick)?;
                p.has_muc_user = true;
                p.codes.clear();
                p.info.role = Role::Participant;
                Incoming::MucPresence(p)
            }
            Incoming::RoomMessage(mut m) => {
                m.nick = m.nick.map(|n| name(&n).unwrap_or(n));
                Incoming::RoomMessage(m)
            }
            Incoming::Subject {
                room,
                nick,
                subject,
                delayed,
            } => Incoming::Subject {
                room,
                nick: nick.map(|n| name(&n).unwrap_or(n)),
                subject,
                delayed,
            },
            Incoming::Chat(mut c) => {
                if let Some(n) = c.from.resource().and_then(|res| name(res.as_str()))
                    && let Ok(j) = muc::occupant_jid(&room, &n)
                {
                    c.from = j.into();
                }
                Incoming::Chat(c)
            }
            other => other,
        };
        Some(SessionEvent::Incoming(inc))
    }

    /// After a reconnection the rooms no longer have us: enter again.
    fn reenter_conferences(&mut self) {
        let rooms: Vec<(BareJid, ConfRoom)> = self
            .conference
            .rooms
            .iter()
            .filter(|(_, r)| r.id.is_some())
            .map(|(j, r)| (j.clone(), r.clone()))
            .collect();
        for (room, r) in rooms {
            let own = self.store.room(&room).map(|s| s.own_nick.clone());
            if let Some(c) = self.conference.rooms.get_mut(&room) {
                c.id = None;
                c.members.clear();
            }
            let plan = JoinPlan {
                room: room.clone(),
                nick: own,
                password: r.secret.clone(),
                private: r.private,
            };
            let entering = self.entering(plan, Protocol::Conference);
            let tag = self.tag();
            let events = self.enter_room(tag, "", entering, Occasion::Again);
            debug_assert!(events.is_empty());
        }
    }

    /// A browse push from a room we are in: the participant list now.
    pub(super) fn on_browse_push(&mut self, req: &IqRequest) -> (IqAnswer, Vec<Event>) {
        use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};
        if !req.set {
            return (Err(iq::unsupported()), Vec::new());
        }
        let Some(room) = req
            .from
            .as_ref()
            .filter(|f| f.resource().is_none())
            .map(|f| f.to_bare())
            .filter(|r| self.conference.rooms.contains_key(r))
        else {
            return (
                Err(iq::error(
                    ErrorType::Cancel,
                    DefinedCondition::NotAllowed,
                    "not from a room we are in",
                )),
                Vec::new(),
            );
        };
        let browse = match proto::parse_browse(Some(&req.payload)) {
            Ok(b) => b,
            Err(e) => {
                let text = e.text.unwrap_or_default();
                return (
                    Err(iq::error(
                        ErrorType::Modify,
                        DefinedCondition::BadRequest,
                        &text,
                    )),
                    Vec::new(),
                );
            }
        };
        let now: HashMap<String, String> = browse
            .users()
            .filter_map(|u| {
                let j = Jid::new(u.jid.as_deref()?).ok()?;
                if j.to_bare() != room {
                    return None;
                }
                let res = j.resource()?.to_string();
                let name = u.name.clone().unwrap_or_else(|| res.clone());
                Some((res, name))
            })
            .collect();
        let r = self.conference.rooms.get_mut(&room).expect("checked");
        let before = std::mem::replace(&mut r.members, now.clone());
        let own = r.id.clone();
        let mut inputs = Vec::new();
        for (res, old) in &before {
            let is_own = own.as_deref() == Some(res.as_str());
            match now.get(res) {
                None => inputs.push(occupant(
                    &room,
                    old,
                    false,
                    if is_own {
                        vec![StatusCode::SelfPresence]
                    } else {
                        vec![]
                    },
                )),
                Some(new) if new != old => inputs.push(renamed(&room, old, new, is_own)),
                Some(_) => {}
            }
        }
        let mut added: Vec<(&String, &String)> = now
            .iter()
            .filter(|(res, _)| !before.contains_key(*res))
            .collect();
        added.sort();
        for (res, name) in added {
            if own.as_deref() == Some(res.as_str()) {
                continue;
            }
            inputs.push(occupant(&room, name, true, Vec::new()));
        }
        if own.as_ref().is_some_and(|o| !now.contains_key(o)) {
            // The room dropped us.
            self.conference.rooms.remove(&room);
        }
        // One push, one input of the store.
        let events = match inputs.len() {
            0 => Vec::new(),
            _ => self.store.apply(
                Input::Batch(inputs.into_iter().map(Input::Incoming).collect()),
                Utc::now(),
            ),
        };
        (Ok(None), events)
    }

    /// `/browse JID`.
    pub(super) fn start_browse(&mut self, text: &str, jid: Jid) -> Exec {
        let target = jid.clone();
        let then = IqThen::new(move |app, command, result| {
            match result.and_then(|r| proto::parse_browse(r.as_ref())) {
                Ok(browse) => {
                    let bare = target.to_bare();
                    let is_room =
                        browse.item.category == "conference" && target.resource().is_none();
                    if is_room && bare.node().is_some() {
                        app.conference
                            .protocols
                            .entry(bare.clone())
                            .or_insert(Protocol::Conference);
                    }
                    let inside = app
                        .conference
                        .rooms
                        .get(&bare)
                        .is_some_and(|r| r.id.is_some());
                    let snapshot = is_room && !inside && browse.users().next().is_some();
                    IqStep::Done(vec![
                        Event::Browse {
                            target: target.to_string(),
                            browse,
                            snapshot,
                        },
                        App::result(command, Ok(())),
                    ])
                }
                Err(e) => IqStep::Done(vec![App::result(command, Err(e))]),
            }
        });
        self.start_iq(text, Some(jid), proto::browse_get(), false, then)
    }

    /// `/whois ROOM NICK`: a conference room is asked (browse of the
    /// temporary JID); other rooms tell it in the occupant's presence.
    pub(super) fn start_whois(
        &mut self,
        text: &str,
        room: BareJid,
        nick: String,
    ) -> Result<Exec, Box<Event>> {
        if let Some(r) = self.conference.rooms.get(&room) {
            let Some(res) = r.resource_of(&nick) else {
                return Err(refuse(
                    text,
                    "item-not-found",
                    format!("no {nick} in {room}"),
                ));
            };
            let to = muc::occupant_jid(&room, res)
                .map_err(|e| refuse(text, &e.condition, e.text.unwrap_or_default()))?;
            let then = IqThen::new(move |_, command, result| {
                match result.and_then(|r| proto::parse_browse(r.as_ref())) {
                    Ok(b) => {
                        let jid = b
                            .item
                            .jid
                            .and_then(|j| Jid::new(&j).ok())
                            .filter(|j| j.to_bare() != room);
                        IqStep::Done(vec![
                            Event::Whois {
                                room: room.to_string(),
                                nick: nick.clone(),
                                jid: jid.map(|j| j.to_string()),
                            },
                            App::result(command, Ok(())),
                        ])
                    }
                    Err(e) => IqStep::Done(vec![App::result(command, Err(e))]),
                }
            });
            return Ok(self.start_iq(text, Some(to.into()), proto::browse_get(), false, then));
        }
        let Some(occ) = self.store.room(&room).and_then(|r| r.occupants.get(&nick)) else {
            return Err(refuse(
                text,
                "item-not-found",
                format!("no {nick} in {room}"),
            ));
        };
        let jid = occ.info.jid.as_ref().map(|j| j.to_string());
        Ok(Exec::done(vec![
            Event::Whois {
                room: room.to_string(),
                nick,
                jid,
            },
            App::result(text, Ok(())),
        ]))
    }

    /// `/info ROOM`: a conference room shows its requirements (the `get`);
    /// `None`: the XEP-0045 disco#info.
    pub(super) fn conference_info(&mut self, text: &str, room: &BareJid) -> Option<Exec> {
        let online = self.store.connection == crate::store::Connection::Online;
        match self.known_protocol(room) {
            Some(Protocol::Conference) => Some(self.start_iq(
                text,
                Some(room.clone().into()),
                proto::get(),
                false,
                info_then(room.clone()),
            )),
            None if online => {
                // disco#info first; a room that does not know it may
                // answer the conference get.
                let room2 = room.clone();
                let then = IqThen::new(move |_, command, result| match result {
                    Ok(p) => match rooms::parse_info(p.as_ref()) {
                        Ok(info) => IqStep::Done(vec![
                            Event::RoomInfo {
                                room: room2.to_string(),
                                info: rooms::room_info(&info),
                            },
                            App::result(command, Ok(())),
                        ]),
                        Err(e) => IqStep::Done(vec![App::result(command, Err(e))]),
                    },
                    Err(e) if legacy_answer(&e) => IqStep::Next {
                        events: Vec::new(),
                        to: Some(room2.clone().into()),
                        payload: proto::get(),
                        set: false,
                        then: info_then(room2.clone()),
                    },
                    Err(e) => IqStep::Done(vec![App::result(command, Err(e))]),
                });
                Some(self.start_iq(
                    text,
                    Some(room.clone().into()),
                    rooms::info_query(),
                    false,
                    then,
                ))
            }
            _ => None,
        }
    }
}

/// `/create` of a groupchat 1.0 room, once in: entering made it, unless
/// others were there already (their presence comes before ours): then it
/// existed, and we leave it again, as `/create` of an XEP-0045 room does.
/// Such rooms have no settings: FIELD=VALUE words are said to be unused.
pub(super) fn gc_create_then(room: BareJid, fields: Vec<(String, String)>) -> IqThen {
    IqThen::new(move |app, command, _| {
        let others = app
            .store
            .room(&room)
            .map(|r| r.occupants.len().saturating_sub(1))
            .unwrap_or(0);
        if others > 0 {
            app.leave_quietly(&room);
            return IqStep::Done(vec![App::result(
                command,
                Err(ErrorInfo::new(
                    "conflict",
                    Some(format!(
                        "room exists: {room} had {others} occupant(s) already (left it again)"
                    )),
                )),
            )]);
        }
        let mut events = Vec::new();
        if !fields.is_empty() {
            let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
            events.push(Event::Info {
                text: format!(
                    "{room} is a groupchat 1.0 room: it has no settings ({} not used)",
                    names.join(", ")
                ),
            });
        }
        events.push(App::result(command, Ok(())));
        IqStep::Done(events)
    })
}

/// An error that says "I do not speak that" (a service older than disco).
pub(super) fn legacy_answer(e: &ErrorInfo) -> bool {
    matches!(
        e.condition.as_str(),
        "service-unavailable" | "feature-not-implemented" | "bad-request" | "undefined-condition"
    )
}

/// `/info` of a conference room: the `get`'s answer.
fn info_then(room: BareJid) -> IqThen {
    IqThen::new(move |app, command, result| {
        match result.and_then(|r| proto::parse_requirements(r.as_ref())) {
            Ok(mut req) => {
                app.conference
                    .protocols
                    .insert(room.clone(), Protocol::Conference);
                if req.topic.is_none() {
                    req.topic = app.store.room(&room).and_then(|r| r.subject.clone());
                }
                IqStep::Done(vec![
                    Event::ConferenceInfo {
                        room: room.to_string(),
                        requirements: req,
                    },
                    App::result(command, Ok(())),
                ])
            }
            Err(e) => IqStep::Done(vec![App::result(
                command,
                Err(explain(&room, e, false, false)),
            )]),
        }
    })
}

#[cfg(test)]
mod tests;
