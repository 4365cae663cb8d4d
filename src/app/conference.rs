//! Rooms of the older protocols: generic conferencing (seed 000,
//! `jabber:iq:conference` + `jabber:iq:browse`) and groupchat 1.0, shown
//! in the same room view as XEP-0045 rooms.
//!
//! `/join` picks the protocol per room (`--protocol` forces one): a
//! service whose disco#info has the XEP-0045 feature is MUC; otherwise a
//! room that answers the conference `get` (or says 404/405 to it) speaks
//! generic conferencing; otherwise groupchat 1.0. Entering a conference
//! room: the `get` (requirements), presence to the bare room JID, the
//! `set` (secret, the account's nicks in order, `<privacy/>` with
//! `--private`); its result (`id`, `nick`) is our identity there. The
//! roster comes from browse pushes (answered in `requests.rs`), kept as
//! temporary JID → name; presence and messages from temporary JIDs reach
//! the store under those names, as if from `room/name`, so the store and
//! the views need not know. groupchat 1.0 rooms go through the session's
//! room registry (plain presence, `SessionCmd::Groupchat`).

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use jid::{BareJid, Jid};
use xmpp_parsers::presence::{Presence, Type as PType};

use super::{App, Exec, IqStep, IqThen, Waiting, refuse};
use crate::command::JoinOptions;
use crate::protocol::conference::{self as proto, Entry};
use crate::protocol::iq::{self, IqAnswer, IqRequest};
use crate::protocol::muc::{self, MucPresence, Role};
use crate::protocol::{ErrorInfo, Incoming, OccupantInfo, rooms};
use crate::session::{SessionCmd, SessionEvent, Tag};
use crate::store::{Event, Input, Protocol};

/// What the app knows about the older protocols.
#[derive(Debug, Default)]
pub(super) struct ConferenceState {
    /// `nicks = [..]` of the account.
    nicks: Vec<String>,
    /// Service domains whose disco#info has the XEP-0045 feature.
    muc_services: HashSet<String>,
    /// Rooms known to speak generic conferencing or groupchat 1.0.
    protocols: HashMap<BareJid, Protocol>,
    /// Generic conferencing rooms we are in (or entering).
    rooms: HashMap<BareJid, ConfRoom>,
    /// `/create` under way (protocol not yet known): `--instant` and its
    /// FIELD=VALUE words.
    creating: HashMap<BareJid, (bool, Vec<(String, String)>)>,
}

#[derive(Debug, Clone, Default)]
struct ConfRoom {
    /// The resource of our temporary JID, once entered.
    id: Option<String>,
    /// The browse roster: temporary resource → name.
    members: HashMap<String, String>,
    secret: Option<String>,
    private: bool,
}

impl ConfRoom {
    fn resource_of(&self, nick: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(_, n)| n.as_str() == nick)
            .map(|(r, _)| r.as_str())
    }
}

/// How a join goes on once the protocol is known.
#[derive(Clone)]
struct JoinPlan {
    room: BareJid,
    /// Given with `/join ROOM/NICK`.
    nick: Option<String>,
    password: Option<String>,
    private: bool,
}

fn occupant(room: &BareJid, nick: &str, available: bool, codes: Vec<u16>) -> Incoming {
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
    let mut codes = vec![303];
    if own {
        codes.push(110);
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
fn explain(room: &BareJid, e: ErrorInfo, creating: bool, set: bool) -> ErrorInfo {
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

fn field<'a>(fields: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
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

    fn known_protocol(&self, room: &BareJid) -> Option<Protocol> {
        self.conference
            .protocols
            .get(room)
            .copied()
            .or_else(|| self.is_muc_service(room).then_some(Protocol::Muc))
    }

    /// `/join` of a room that is not (known to be) XEP-0045: `None` lets
    /// the MUC join go ahead.
    pub(super) fn join_by_protocol(
        &mut self,
        text: &str,
        room: &BareJid,
        nick: &Option<String>,
        password: &Option<String>,
        options: &JoinOptions,
    ) -> Result<Option<Exec>, Box<Event>> {
        let protocol = options.protocol.or_else(|| self.known_protocol(room));
        let online = self.store.connection == crate::store::Connection::Online;
        let plan = JoinPlan {
            room: room.clone(),
            nick: nick.clone(),
            password: password.clone(),
            private: options.private,
        };
        if let Some(n) = nick {
            muc::occupant_jid(room, n)
                .map_err(|e| refuse(text, &e.condition, e.text.unwrap_or_default()))?;
        }
        match protocol {
            Some(Protocol::Muc) => Ok(None),
            None if !online => Ok(None),
            Some(Protocol::Groupchat) => {
                let tag = self.tag();
                let mut exec = Exec::pending(tag);
                exec.events =
                    self.continue_plainly(tag, text.to_string(), plan, Protocol::Groupchat);
                Ok(Some(exec))
            }
            Some(Protocol::Conference) => {
                if !online {
                    return Err(refuse(text, "not-acceptable", "not connected"));
                }
                let events = self.joining(&plan, Protocol::Conference);
                let mut exec = self.start_iq(
                    text,
                    Some(room.clone().into()),
                    proto::get(),
                    false,
                    conference_get_then(plan),
                );
                exec.events = events;
                Ok(Some(exec))
            }
            None => {
                // Which protocol: the service's disco#info first.
                let events = self.joining(&plan, Protocol::Muc);
                let service: Jid = BareJid::from_parts(None, room.domain()).into();
                let mut exec = self.start_iq(
                    text,
                    Some(service),
                    rooms::info_query(),
                    false,
                    detect_then(plan),
                );
                exec.events = events;
                Ok(Some(exec))
            }
        }
    }

    fn nicks_for(&self, plan: &JoinPlan) -> Vec<String> {
        match &plan.nick {
            Some(n) => vec![n.clone()],
            None if !self.conference.nicks.is_empty() => self.conference.nicks.clone(),
            None => vec![self.opts.default_nick.clone()],
        }
    }

    /// The room window, in the "joining" state.
    fn joining(&mut self, plan: &JoinPlan, protocol: Protocol) -> Vec<Event> {
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

    /// A MUC or groupchat 1.0 join with the command's `tag` (already
    /// waiting for the room's self-presence).
    fn join_plainly(&mut self, plan: JoinPlan, protocol: Protocol, tag: Tag) -> Vec<Event> {
        let mut events = self.joining(&plan, protocol);
        let room = plan.room.clone();
        if protocol == Protocol::Groupchat {
            self.conference
                .protocols
                .insert(room.clone(), Protocol::Groupchat);
            self.session
                .send(SessionCmd::Groupchat { room: room.clone() });
        }
        // The nick the room window was opened with (the first of the list).
        let nick = self.nicks_for(&plan).remove(0);
        let history = self.load_archive(&room, &mut events);
        self.store
            .invitations
            .note_password(&room, plan.password.as_deref());
        self.send_join(room, nick, plan.password, history, tag);
        events
    }

    /// The command `tag` goes on as a MUC or groupchat 1.0 join.
    fn continue_plainly(
        &mut self,
        tag: Tag,
        command: String,
        plan: JoinPlan,
        protocol: Protocol,
    ) -> Vec<Event> {
        let room = plan.room.clone();
        let waiting = match self.conference.creating.remove(&room) {
            Some((instant, fields)) if protocol == Protocol::Muc => Waiting::JoinThen {
                room: room.clone(),
                then: super::rooms::create_then(room.clone(), instant, fields),
            },
            Some((_, fields)) => Waiting::JoinThen {
                room: room.clone(),
                then: gc_create_then(room.clone(), fields),
            },
            None => Waiting::Join { room },
        };
        self.wait_as(tag, &command, waiting, true);
        self.join_plainly(plan, protocol, tag)
    }

    /// A join that failed before the room had us: the room window shows
    /// it, the command ends with the error.
    fn join_failed(&mut self, command: &str, room: &BareJid, e: ErrorInfo) -> IqStep {
        self.conference.rooms.remove(room);
        self.conference.creating.remove(room);
        let events = self.store.apply(
            Input::Incoming(Incoming::MucPresenceError {
                room: room.clone(),
                nick: None,
                error: e.clone(),
            }),
            Utc::now(),
        );
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

    /// A presence to the bare room JID (no command of its own).
    fn room_presence(&mut self, room: &BareJid, available: bool) {
        let mut p = if available {
            Presence::available()
        } else {
            Presence::new(PType::Unavailable)
        };
        p.to = Some(room.clone().into());
        self.send_presence("", p);
    }

    /// Presence to the room, then the `set` entering (or creating) it.
    fn enter(&mut self, plan: JoinPlan, creating: bool) -> IqStep {
        let room = plan.room.clone();
        let (_, fields) = self.conference.creating.remove(&room).unwrap_or_default();
        let mut entry = Entry {
            secret: plan.password.clone(),
            nicks: self.nicks_for(&plan),
            privacy: plan.private,
            name: None,
        };
        if creating {
            if let Some(s) = field(&fields, &["secret", "password"]) {
                entry.secret = Some(s.to_string());
            }
            if let Some(n) = field(&fields, &["name", "muc#roomconfig_roomname"]) {
                entry.name = Some(n.to_string());
            }
            if field(&fields, &["privacy"]).is_some_and(|v| matches!(v, "1" | "true" | "yes")) {
                entry.privacy = true;
            }
        }
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
        let plan2 = plan.clone();
        IqStep::Next {
            events: Vec::new(),
            to: Some(room.clone().into()),
            payload: proto::set(&entry),
            set: true,
            then: IqThen::new(move |app, command, result| {
                let room = &plan2.room;
                match result.and_then(|r| proto::parse_entered(r.as_ref())) {
                    Ok(entered) => IqStep::Done(app.entered(command, room, entered)),
                    Err(e) => {
                        app.room_presence(room, false);
                        app.join_failed(command, room, explain(room, e, creating, true))
                    }
                }
            }),
        }
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
            Input::Incoming(occupant(room, &entered.nick, true, vec![110])),
            Utc::now(),
        );
        if !command.is_empty() {
            events.push(Event::Ok {
                command: command.to_string(),
            });
        }
        events
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
        self.store
            .apply(Input::Leaving { room: room.clone() }, Utc::now());
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
            Input::Incoming(occupant(room, &nick, false, vec![110])),
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
        self.conference
            .creating
            .insert(room.clone(), (instant, fields));
        let options = JoinOptions::default();
        match self.join_by_protocol(text, &room, &nick, &None, &options)? {
            Some(exec) => Ok(exec),
            None => {
                let (instant, fields) = self.conference.creating.remove(&room).unwrap_or_default();
                self.start_create(text, room, nick, instant, fields)
            }
        }
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
            let step = self.enter(plan, false);
            let tag = self.tag();
            let events = self.follow_step(tag, String::new(), step);
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
                    if is_own { vec![110] } else { vec![] },
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
        let mut events = Vec::new();
        for inc in inputs {
            events.extend(self.store.apply(Input::Incoming(inc), Utc::now()));
        }
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
fn gc_create_then(room: BareJid, fields: Vec<(String, String)>) -> IqThen {
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
fn legacy_answer(e: &ErrorInfo) -> bool {
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
            let plan = plan.clone();
            return IqStep::WithTag(Box::new(move |app: &mut App, tag, command| {
                app.continue_plainly(tag, command, plan, Protocol::Muc)
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
        match result.and_then(|r| proto::parse_requirements(r.as_ref())) {
            Ok(req) => {
                app.conference
                    .protocols
                    .insert(room.clone(), Protocol::Conference);
                let events = app.joining(&plan, Protocol::Conference);
                if creating {
                    let mut step = app.join_failed(
                        command,
                        &room,
                        ErrorInfo::new("conflict", Some(format!("room exists: {room}"))),
                    );
                    if let IqStep::Done(e) = &mut step {
                        e.splice(0..0, events);
                    }
                    return step;
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
                    );
                }
                let mut step = app.enter(plan.clone(), false);
                if let IqStep::Next { events: e, .. } = &mut step {
                    *e = events;
                }
                step
            }
            Err(e) if creating && e.condition == "item-not-found" => {
                let events = app.joining(&plan, Protocol::Conference);
                let mut step = app.enter(plan.clone(), true);
                if let IqStep::Next { events: e, .. } = &mut step {
                    *e = events;
                }
                step
            }
            Err(e) if matches!(e.condition.as_str(), "item-not-found" | "not-allowed") => {
                app.conference
                    .protocols
                    .insert(room.clone(), Protocol::Conference);
                app.join_failed(command, &room, explain(&room, e, creating, false))
            }
            Err(e) if legacy_answer(&e) => {
                // Neither XEP-0045 nor generic conferencing.
                let plan = plan.clone();
                IqStep::WithTag(Box::new(move |app: &mut App, tag, command| {
                    app.continue_plainly(tag, command, plan, Protocol::Groupchat)
                }))
            }
            Err(e) => app.join_failed(command, &room, e),
        }
    })
}

#[cfg(test)]
mod tests;
