//! The legacy conference service of the testbed: an XEP-0114 component
//! (e.g. `legacy.localhost`) speaking the room side of generic
//! conferencing (seed 000: `jabber:iq:conference` + `jabber:iq:browse`)
//! and, for other rooms, groupchat 1.0 (presence to `room/nick`).
//!
//! [`Legacy::handle`] is the whole service as a state machine: one
//! stanza in, the stanzas to send out; [`serve`] runs it on a component
//! stream. Rooms given with `--room` are conference rooms; `--gc-room`
//! rooms speak groupchat 1.0; a presence to `room/nick` of an unknown room
//! creates a groupchat 1.0 room, a conference `set` after a 404 creates a
//! conference room — unless the service does not create rooms
//! (`--no-create`), then it answers 405 (`not-allowed`).
//!
//! Conference rooms, as the seed says: browse gives type and name (and
//! the participants of public rooms); the `get` lists the requirements
//! (`<nick/>`, `<secret/>` when there is one, `<privacy/>` when the room
//! offers it, `<name/>`, `<topic/>`), or to a participant the same as its
//! `set` did; entering needs presence to the bare room first, then the
//! `set` (secret checked, 401; `<privacy/>` where not offered, 406; first
//! free nick of the list, else `conflict`, 409; without nicks the node
//! of the JID); the result has `id` (the temporary JID) and `nick`; every
//! change of the participants is pushed to all of them as a browse `set`;
//! messages and presence are broadcast from the temporary JID; traffic to
//! a temporary JID is relayed to the participant (only messages to those
//! who asked for privacy); browsing a temporary JID gives the real JID
//! unless privacy; unavailable presence (which the server also sends when
//! the client's connection drops) removes a participant. A room created
//! by a `set` offers privacy when that `set` had `<privacy/>`. Errors
//! carry the condition and the old numeric `code` (404, 405, 401, 409…)
//! that clients of the seed's time read.

use std::collections::{BTreeMap, HashMap};

use minidom::Element;

use super::component::{
    ComponentError, ComponentStream, Link, NS, error, iq_result, reply, stanza,
};
use crate::protocol::conference::{self, BROWSE, BrowseItem, CONFERENCE};
use crate::protocol::{nc, ns};

/// How a room is configured at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSpec {
    /// The room's node (`lounge` for `lounge@legacy.localhost`).
    pub node: String,
    /// groupchat 1.0 instead of generic conferencing.
    pub groupchat: bool,
    pub public: bool,
    pub secret: Option<String>,
    pub name: Option<String>,
    pub topic: Option<String>,
    /// Privacy mode is offered (`<privacy/>` in the `get`); `noprivacy`
    /// turns it off.
    pub privacy: bool,
}

impl RoomSpec {
    /// Parses `NODE[,public|private][,noprivacy][,secret=S][,name=N][,topic=T]`
    /// (a public conference room offering privacy by default).
    pub fn parse(spec: &str, groupchat: bool) -> Result<RoomSpec, String> {
        let mut parts = spec.split(',');
        let node = parts.next().unwrap_or_default().trim().to_string();
        if node.is_empty() || node.contains(['@', '/']) {
            return Err(format!("{spec:?}: the room needs a node like lounge"));
        }
        let mut r = RoomSpec {
            node,
            groupchat,
            public: true,
            secret: None,
            name: None,
            topic: None,
            privacy: true,
        };
        for p in parts {
            match p.split_once('=') {
                None if p == "noprivacy" => r.privacy = false,
                None if p == "public" => r.public = true,
                None if p == "private" => r.public = false,
                Some(("secret", v)) => r.secret = Some(v.to_string()),
                Some(("name", v)) => r.name = Some(v.to_string()),
                Some(("topic", v)) => r.topic = Some(v.to_string()),
                _ => return Err(format!("{spec:?}: unknown room setting {p:?}")),
            }
        }
        Ok(r)
    }
}

/// The service's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The component's JID (the service domain).
    pub jid: String,
    /// Rooms are created on demand; `false`: 405 instead.
    pub create_rooms: bool,
    pub rooms: Vec<RoomSpec>,
    /// What the room does to the id of a message it broadcasts.
    pub ids: Ids,
}

/// What a room does to the message ids it broadcasts (`--ids`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Ids {
    /// The sender's id goes out unchanged.
    #[default]
    Keep,
    /// A new id of the room's; the rest of the message (XEP-0359
    /// `<origin-id/>` too) is kept.
    Rewrite,
    /// A new id, and the message rebuilt from its body, subject and
    /// thread: what services that predate XEP-0359 do.
    RewriteBare,
}

impl Options {
    pub fn new(jid: impl Into<String>) -> Options {
        Options {
            jid: jid.into(),
            create_rooms: true,
            rooms: Vec::new(),
            ids: Ids::Keep,
        }
    }
    pub fn room(mut self, spec: RoomSpec) -> Options {
        self.rooms.push(spec);
        self
    }
    pub fn no_create(mut self) -> Options {
        self.create_rooms = false;
        self
    }
    pub fn ids(mut self, ids: Ids) -> Options {
        self.ids = ids;
        self
    }
}

#[derive(Debug, Clone)]
struct Participant {
    /// The real (full) JID.
    real: String,
    /// The resource of the temporary JID.
    id: String,
    nick: String,
    private: bool,
    /// The last available presence (children only).
    presence: Vec<Element>,
}

#[derive(Debug, Clone)]
struct ConfRoom {
    name: Option<String>,
    public: bool,
    secret: Option<String>,
    topic: Option<String>,
    /// Participants may ask for privacy.
    privacy: bool,
    /// In order of entry.
    participants: Vec<Participant>,
}

#[derive(Debug, Clone)]
struct GcOccupant {
    real: String,
    nick: String,
    presence: Vec<Element>,
}

#[derive(Debug, Clone)]
struct GcRoom {
    topic: Option<String>,
    occupants: Vec<GcOccupant>,
}

#[derive(Debug, Clone)]
enum Room {
    Conf(ConfRoom),
    Gc(GcRoom),
}

/// The service's state.
#[derive(Debug)]
pub struct Legacy {
    opts: Options,
    rooms: HashMap<String, Room>,
    /// Real JIDs that sent presence to a conference room's bare JID
    /// (node → JID → presence children), not (yet) participants.
    watchers: HashMap<String, BTreeMap<String, Vec<Element>>>,
    next: u64,
}

/// The XEP-0030 namespace (answered with an error: this service predates
/// service discovery).
const DISCO_INFO: &str = ns::DISCO_INFO;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The code of the old protocol (the seed's 404, 405…) that goes with a
/// condition: clients older than the conditions read only the code.
fn legacy_code(condition: &str) -> &'static str {
    match condition {
        "bad-request" | "jid-malformed" => "400",
        "not-authorized" => "401",
        "forbidden" => "403",
        "item-not-found" => "404",
        "not-allowed" => "405",
        "not-acceptable" => "406",
        "conflict" => "409",
        "feature-not-implemented" => "501",
        "service-unavailable" => "503",
        _ => "500",
    }
}

fn error_el(type_: &str, condition: &str, text: &str) -> Element {
    error(type_, condition, text)
        .attr(nc("code"), legacy_code(condition))
        .build()
}

/// The error type that goes with a condition.
fn error_type(condition: &str) -> &'static str {
    match condition {
        "not-authorized" => "auth",
        "conflict" | "not-acceptable" | "bad-request" | "jid-malformed" => "modify",
        _ => "cancel",
    }
}

/// The bounce of `el` with `condition`: addresses swapped, type error.
fn bounce(el: &Element, condition: &str, text: &str) -> Element {
    reply(el, "error")
        .append(error_el(error_type(condition), condition, text))
        .build()
}

/// A copy of `el` (name, type, id, children) from `from` to `to`.
fn readdress(el: &Element, from: &str, to: &str) -> Element {
    let mut b = stanza(el.name()).attr(nc("from"), from).attr(nc("to"), to);
    for a in ["type", "id"] {
        if let Some(v) = el.attr(a) {
            b = b.attr(nc(a), v);
        }
    }
    b.append_all(el.children().cloned()).build()
}

fn presence(from: &str, to: &str, children: &[Element]) -> Element {
    stanza("presence")
        .attr(nc("from"), from)
        .attr(nc("to"), to)
        .append_all(children.iter().cloned())
        .build()
}

fn unavailable(from: &str, to: &str) -> Element {
    stanza("presence")
        .attr(nc("from"), from)
        .attr(nc("to"), to)
        .attr(nc("type"), "unavailable")
        .build()
}

/// `node@domain/resource` split into its parts (no node: the service).
fn split(jid: &str) -> (Option<&str>, &str, Option<&str>) {
    let (bare, res) = match jid.split_once('/') {
        Some((b, r)) => (b, Some(r)),
        None => (jid, None),
    };
    match bare.split_once('@') {
        Some((n, d)) => (Some(n), d, res),
        None => (None, bare, res),
    }
}

fn node_of(jid: &str) -> &str {
    split(jid).0.unwrap_or(split(jid).1)
}

impl Legacy {
    pub fn new(opts: Options) -> Legacy {
        let mut rooms = HashMap::new();
        for r in &opts.rooms {
            let room = if r.groupchat {
                Room::Gc(GcRoom {
                    topic: r.topic.clone(),
                    occupants: Vec::new(),
                })
            } else {
                Room::Conf(ConfRoom {
                    name: r.name.clone(),
                    public: r.public,
                    secret: r.secret.clone(),
                    topic: r.topic.clone(),
                    privacy: r.privacy,
                    participants: Vec::new(),
                })
            };
            rooms.insert(r.node.clone(), room);
        }
        Legacy {
            opts,
            rooms,
            watchers: HashMap::new(),
            next: 0,
        }
    }

    fn room_jid(&self, node: &str) -> String {
        format!("{node}@{}", self.opts.jid)
    }

    /// One stanza from the server; returns the stanzas to send.
    pub fn handle(&mut self, el: &Element) -> Vec<Element> {
        if el.ns() != NS {
            return Vec::new();
        }
        let (Some(from), Some(to)) = (el.attr("from"), el.attr("to")) else {
            return Vec::new();
        };
        let (from, to) = (from.to_string(), to.to_string());
        let (node, _, res) = split(&to);
        let (node, res) = (node.map(str::to_string), res.map(str::to_string));
        match el.name() {
            "iq" => self.on_iq(el, &from, node, res),
            "presence" => match node {
                Some(node) => self.on_presence(el, &from, &node, res),
                None => Vec::new(),
            },
            "message" => match node {
                Some(node) => self.on_message(el, &from, &node, res),
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    // ---- IQ ----

    fn on_iq(
        &mut self,
        el: &Element,
        from: &str,
        node: Option<String>,
        res: Option<String>,
    ) -> Vec<Element> {
        let type_ = el.attr("type").unwrap_or_default();
        let request = matches!(type_, "get" | "set");
        let payload = el.children().next();
        let pns = payload.map(|p| p.ns()).unwrap_or_default();
        match (node, res) {
            (None, _) => {
                if !request {
                    return Vec::new();
                }
                if type_ == "get" && pns == BROWSE {
                    return vec![iq_result(el, Some(self.service_browse()))];
                }
                vec![bounce(el, "service-unavailable", "")]
            }
            (Some(node), None) => {
                if !request {
                    // Answers to our pushes.
                    return Vec::new();
                }
                match (pns.as_str(), type_) {
                    (CONFERENCE, "get") => self.conference_get(el, from, &node),
                    (CONFERENCE, "set") => self.conference_set(el, from, &node),
                    (BROWSE, "get") => self.room_browse(el, &node),
                    (DISCO_INFO, _) => vec![bounce(el, "service-unavailable", "")],
                    _ => vec![bounce(el, "service-unavailable", "")],
                }
            }
            (Some(node), Some(res)) => self.iq_to_occupant(el, from, &node, &res, request, &pns),
        }
    }

    fn service_browse(&self) -> Element {
        let mut rooms: Vec<BrowseItem> = self
            .rooms
            .iter()
            .filter_map(|(node, r)| match r {
                Room::Conf(c) if c.public => Some(BrowseItem {
                    category: "conference".into(),
                    jid: Some(self.room_jid(node)),
                    name: c.name.clone(),
                    type_: Some("public".into()),
                }),
                _ => None,
            })
            .collect();
        rooms.sort_by(|a, b| a.jid.cmp(&b.jid));
        conference::browse_element(
            &BrowseItem {
                category: "service".into(),
                jid: Some(self.opts.jid.clone()),
                name: Some("Legacy conferencing".into()),
                type_: Some("conference".into()),
            },
            &rooms,
            &[CONFERENCE, BROWSE],
        )
    }

    /// The browse view of a conference room; participants only when public
    /// (or `all`: the pushes to participants).
    fn conf_browse(&self, node: &str, c: &ConfRoom, all: bool) -> Element {
        let room = self.room_jid(node);
        let users: Vec<BrowseItem> = if c.public || all {
            c.participants
                .iter()
                .map(|p| BrowseItem {
                    category: "user".into(),
                    jid: Some(format!("{room}/{}", p.id)),
                    name: Some(p.nick.clone()),
                    type_: None,
                })
                .collect()
        } else {
            Vec::new()
        };
        conference::browse_element(
            &BrowseItem {
                category: "conference".into(),
                jid: Some(room),
                name: c.name.clone(),
                type_: Some(if c.public { "public" } else { "private" }.into()),
            },
            &users,
            &[],
        )
    }

    fn room_browse(&self, el: &Element, node: &str) -> Vec<Element> {
        match self.rooms.get(node) {
            Some(Room::Conf(c)) => vec![iq_result(el, Some(self.conf_browse(node, c, false)))],
            Some(Room::Gc(_)) => vec![bounce(el, "service-unavailable", "")],
            None => vec![bounce(el, "item-not-found", "no such room")],
        }
    }

    fn entered(&self, node: &str, p: &Participant) -> Element {
        Element::builder("query", CONFERENCE)
            .append(
                Element::builder("id", CONFERENCE)
                    .append(format!("{}/{}", self.room_jid(node), p.id))
                    .build(),
            )
            .append(
                Element::builder("nick", CONFERENCE)
                    .append(p.nick.as_str())
                    .build(),
            )
            .build()
    }

    fn conference_get(&self, el: &Element, from: &str, node: &str) -> Vec<Element> {
        let c = match self.rooms.get(node) {
            Some(Room::Conf(c)) => c,
            Some(Room::Gc(_)) => return vec![bounce(el, "service-unavailable", "")],
            None if self.opts.create_rooms => {
                return vec![bounce(
                    el,
                    "item-not-found",
                    "no such room (a set creates it)",
                )];
            }
            None => {
                return vec![bounce(
                    el,
                    "not-allowed",
                    "this service does not create rooms",
                )];
            }
        };
        if let Some(p) = c.participants.iter().find(|p| p.real == from) {
            return vec![iq_result(el, Some(self.entered(node, p)))];
        }
        let mut q = Element::builder("query", CONFERENCE)
            .append(Element::builder("nick", CONFERENCE).build());
        if c.secret.is_some() {
            q = q.append(Element::builder("secret", CONFERENCE).build());
        }
        if c.privacy {
            q = q.append(Element::builder("privacy", CONFERENCE).build());
        }
        if let Some(n) = &c.name {
            q = q.append(
                Element::builder("name", CONFERENCE)
                    .append(n.as_str())
                    .build(),
            );
        }
        if let Some(t) = &c.topic {
            q = q.append(
                Element::builder("topic", CONFERENCE)
                    .append(t.as_str())
                    .build(),
            );
        }
        vec![iq_result(el, Some(q.build()))]
    }

    fn new_id(&mut self, c: &ConfRoom) -> String {
        loop {
            self.next += 1;
            let id = format!("{:08x}", splitmix(self.next) as u32);
            if !c.participants.iter().any(|p| p.id == id) {
                return id;
            }
        }
    }

    fn conference_set(&mut self, el: &Element, from: &str, node: &str) -> Vec<Element> {
        let q = el.children().next().expect("the payload was looked at");
        let mut secret = None;
        let mut nicks = Vec::new();
        let mut privacy = false;
        let mut name = None;
        for c in q.children().filter(|c| c.ns() == CONFERENCE) {
            match c.name() {
                "secret" => secret = Some(c.text()),
                "nick" => {
                    let n = c.text().trim().to_string();
                    if !n.is_empty() {
                        nicks.push(n);
                    }
                }
                "privacy" => privacy = true,
                "name" => name = Some(c.text()).filter(|n| !n.trim().is_empty()),
                _ => {}
            }
        }
        let creating = match self.rooms.get(node) {
            Some(Room::Gc(_)) => return vec![bounce(el, "service-unavailable", "")],
            Some(Room::Conf(_)) => false,
            None if self.opts.create_rooms => true,
            None => {
                return vec![bounce(
                    el,
                    "not-allowed",
                    "this service does not create rooms",
                )];
            }
        };
        let watched = self.watchers.get(node).and_then(|w| w.get(from)).cloned();
        if creating {
            if watched.is_none() {
                return vec![bounce(
                    el,
                    "not-acceptable",
                    "send presence to the room before the set",
                )];
            }
            self.rooms.insert(
                node.to_string(),
                Room::Conf(ConfRoom {
                    name,
                    public: true,
                    secret: secret.clone().filter(|s| !s.is_empty()),
                    topic: None,
                    // The creator's <privacy/> lets the room offer it.
                    privacy,
                    participants: Vec::new(),
                }),
            );
        }
        let Some(Room::Conf(c)) = self.rooms.get(node) else {
            unreachable!()
        };
        let mut c = c.clone();
        let me = c.participants.iter().position(|p| p.real == from);
        if me.is_none() {
            // Entering: the secret first, then the rest.
            if let Some(s) = &c.secret
                && secret.as_deref() != Some(s.as_str())
            {
                return vec![bounce(el, "not-authorized", "wrong or missing secret")];
            }
            if privacy && !c.privacy {
                return vec![bounce(
                    el,
                    "not-acceptable",
                    "this room does not offer privacy",
                )];
            }
        }
        let taken =
            |n: &str, c: &ConfRoom| c.participants.iter().any(|p| p.nick == n && p.real != from);
        if nicks.is_empty() {
            match me {
                // A set without nick from a participant changes nothing.
                Some(i) => nicks.push(c.participants[i].nick.clone()),
                None => {
                    // The server determines the nick.
                    let base = node_of(from).to_string();
                    let mut n = base.clone();
                    let mut k = 1;
                    while taken(&n, &c) {
                        k += 1;
                        n = format!("{base}{k}");
                    }
                    nicks.push(n);
                }
            }
        }
        let Some(nick) = nicks.iter().find(|n| !taken(n, &c)).cloned() else {
            return vec![bounce(el, "conflict", "every nick given is taken")];
        };
        let mut out = Vec::new();
        let room = self.room_jid(node);
        match me {
            Some(i) => {
                // A nick change.
                c.participants[i].nick = nick;
                out.push(iq_result(el, Some(self.entered(node, &c.participants[i]))));
            }
            None => {
                let Some(initial) = watched else {
                    return vec![bounce(
                        el,
                        "not-acceptable",
                        "send presence to the room before the set",
                    )];
                };
                let id = self.new_id(&c);
                let p = Participant {
                    real: from.to_string(),
                    id,
                    nick,
                    private: privacy,
                    presence: initial,
                };
                if let Some(w) = self.watchers.get_mut(node) {
                    w.remove(from);
                }
                out.push(iq_result(el, Some(self.entered(node, &p))));
                c.participants.push(p.clone());
                // The pushes, then presence: the newcomer's to everyone,
                // everyone else's to the newcomer.
                out.extend(self.pushes(node, &c));
                let from_tmp = format!("{room}/{}", p.id);
                for q in &c.participants {
                    out.push(presence(&from_tmp, &q.real, &p.presence));
                    if q.real != p.real {
                        out.push(presence(&format!("{room}/{}", q.id), &p.real, &q.presence));
                    }
                }
                if let Some(t) = &c.topic {
                    out.push(
                        stanza("message")
                            .attr(nc("from"), room.as_str())
                            .attr(nc("to"), from)
                            .attr(nc("type"), "groupchat")
                            .append(stanza("subject").append(t.as_str()).build())
                            .build(),
                    );
                }
                self.rooms.insert(node.to_string(), Room::Conf(c));
                return out;
            }
        }
        out.extend(self.pushes(node, &c));
        self.rooms.insert(node.to_string(), Room::Conf(c));
        out
    }

    /// The browse push of the participant list to every participant.
    fn pushes(&mut self, node: &str, c: &ConfRoom) -> Vec<Element> {
        let list = self.conf_browse(node, c, true);
        let room = self.room_jid(node);
        let mut out = Vec::new();
        for p in &c.participants {
            self.next += 1;
            out.push(
                stanza("iq")
                    .attr(nc("type"), "set")
                    .attr(nc("from"), room.as_str())
                    .attr(nc("to"), p.real.as_str())
                    .attr(nc("id"), format!("legacy-push-{}", self.next))
                    .append(list.clone())
                    .build(),
            );
        }
        out
    }

    fn iq_to_occupant(
        &mut self,
        el: &Element,
        from: &str,
        node: &str,
        res: &str,
        request: bool,
        pns: &str,
    ) -> Vec<Element> {
        let room = self.room_jid(node);
        match self.rooms.get(node) {
            Some(Room::Conf(c)) => {
                let Some(target) = c.participants.iter().find(|p| p.id == res) else {
                    return if request {
                        vec![bounce(el, "item-not-found", "no such participant")]
                    } else {
                        Vec::new()
                    };
                };
                if request && pns == BROWSE && el.attr("type") == Some("get") {
                    let jid = if target.private {
                        format!("{room}/{}", target.id)
                    } else {
                        target.real.clone()
                    };
                    let user = conference::browse_element(
                        &BrowseItem {
                            category: "user".into(),
                            jid: Some(jid),
                            name: Some(target.nick.clone()),
                            type_: None,
                        },
                        &[],
                        &[],
                    );
                    return vec![iq_result(el, Some(user))];
                }
                let Some(sender) = c.participants.iter().find(|p| p.real == from) else {
                    return if request {
                        vec![bounce(el, "not-acceptable", "you are not in the room")]
                    } else {
                        Vec::new()
                    };
                };
                if target.private {
                    return if request {
                        vec![bounce(
                            el,
                            "not-allowed",
                            "this participant receives only messages",
                        )]
                    } else {
                        Vec::new()
                    };
                }
                vec![readdress(
                    el,
                    &format!("{room}/{}", sender.id),
                    &target.real,
                )]
            }
            Some(Room::Gc(g)) => {
                let Some(target) = g.occupants.iter().find(|o| o.nick == res) else {
                    return if request {
                        vec![bounce(el, "item-not-found", "no such occupant")]
                    } else {
                        Vec::new()
                    };
                };
                if request && target.real == from && pns == ns::PING {
                    // XEP-0410 self-ping: still in the room.
                    return vec![iq_result(el, None)];
                }
                match g.occupants.iter().find(|o| o.real == from) {
                    Some(sender) => {
                        vec![readdress(
                            el,
                            &format!("{room}/{}", sender.nick),
                            &target.real,
                        )]
                    }
                    None if request => {
                        vec![bounce(el, "not-acceptable", "you are not in the room")]
                    }
                    None => Vec::new(),
                }
            }
            None if request => vec![bounce(el, "item-not-found", "no such room")],
            None => Vec::new(),
        }
    }

    // ---- presence ----

    fn on_presence(
        &mut self,
        el: &Element,
        from: &str,
        node: &str,
        res: Option<String>,
    ) -> Vec<Element> {
        let type_ = el.attr("type").unwrap_or_default();
        let gone = matches!(type_, "unavailable" | "error");
        if !gone && !type_.is_empty() {
            // probe, subscribe…: not for rooms.
            return Vec::new();
        }
        let children: Vec<Element> = el.children().cloned().collect();
        match res {
            None => self.conf_presence(el, from, node, gone, children),
            Some(nick) => self.gc_presence(el, from, node, &nick, gone, children),
        }
    }

    fn conf_presence(
        &mut self,
        el: &Element,
        from: &str,
        node: &str,
        gone: bool,
        children: Vec<Element>,
    ) -> Vec<Element> {
        let room = self.room_jid(node);
        let Some(Room::Conf(c)) = self.rooms.get(node) else {
            if let Some(Room::Gc(_)) = self.rooms.get(node) {
                // Leaving a groupchat 1.0 room by its bare JID.
                if gone {
                    return self.gc_leave(from, node);
                }
                return vec![bounce(
                    el,
                    "not-acceptable",
                    "this room wants presence to room/nick",
                )];
            }
            // A room that may be created by the set: remember the sender.
            if gone {
                if let Some(w) = self.watchers.get_mut(node) {
                    w.remove(from);
                }
            } else {
                self.watchers
                    .entry(node.to_string())
                    .or_default()
                    .insert(from.to_string(), children);
            }
            return Vec::new();
        };
        let mut c = c.clone();
        let Some(i) = c.participants.iter().position(|p| p.real == from) else {
            if gone {
                if let Some(w) = self.watchers.get_mut(node) {
                    w.remove(from);
                }
            } else {
                self.watchers
                    .entry(node.to_string())
                    .or_default()
                    .insert(from.to_string(), children);
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        if gone {
            let p = c.participants.remove(i);
            let tmp = format!("{room}/{}", p.id);
            for q in &c.participants {
                out.push(unavailable(&tmp, &q.real));
            }
            out.extend(self.pushes(node, &c));
        } else {
            c.participants[i].presence = children;
            let p = &c.participants[i];
            let tmp = format!("{room}/{}", p.id);
            for q in &c.participants {
                out.push(presence(&tmp, &q.real, &p.presence));
            }
        }
        self.rooms.insert(node.to_string(), Room::Conf(c));
        out
    }

    fn gc_leave(&mut self, from: &str, node: &str) -> Vec<Element> {
        let room = self.room_jid(node);
        let Some(Room::Gc(g)) = self.rooms.get_mut(node) else {
            return Vec::new();
        };
        let Some(i) = g.occupants.iter().position(|o| o.real == from) else {
            return Vec::new();
        };
        let o = g.occupants.remove(i);
        let me = format!("{room}/{}", o.nick);
        let mut out = vec![unavailable(&me, &o.real)];
        for q in &g.occupants {
            out.push(unavailable(&me, &q.real));
        }
        out
    }

    fn gc_presence(
        &mut self,
        el: &Element,
        from: &str,
        node: &str,
        nick: &str,
        gone: bool,
        children: Vec<Element>,
    ) -> Vec<Element> {
        let room = self.room_jid(node);
        match self.rooms.get(node) {
            Some(Room::Conf(c)) => {
                if let Some(target) = c.participants.iter().find(|p| p.id == nick) {
                    // Directed presence to a participant: relayed, unless
                    // they asked for privacy (only messages then).
                    let Some(sender) = c.participants.iter().find(|p| p.real == from) else {
                        return if gone {
                            Vec::new()
                        } else {
                            vec![bounce(el, "not-acceptable", "you are not in the room")]
                        };
                    };
                    if target.private {
                        return if gone {
                            Vec::new()
                        } else {
                            vec![bounce(
                                el,
                                "not-allowed",
                                "this participant receives only messages",
                            )]
                        };
                    }
                    return vec![readdress(
                        el,
                        &format!("{room}/{}", sender.id),
                        &target.real,
                    )];
                }
                if gone {
                    return self.conf_presence(el, from, node, true, children);
                }
                return vec![bounce(
                    el,
                    "not-acceptable",
                    "this room speaks jabber:iq:conference: send presence to the room, then a set",
                )];
            }
            Some(Room::Gc(_)) => {}
            None if gone => return Vec::new(),
            None if self.opts.create_rooms => {
                self.rooms.insert(
                    node.to_string(),
                    Room::Gc(GcRoom {
                        topic: None,
                        occupants: Vec::new(),
                    }),
                );
            }
            None => return vec![bounce(el, "item-not-found", "no such room")],
        }
        if gone {
            return self.gc_leave(from, node);
        }
        let Some(Room::Gc(g)) = self.rooms.get_mut(node) else {
            unreachable!()
        };
        if g.occupants.iter().any(|o| o.nick == nick && o.real != from) {
            return vec![bounce(el, "conflict", "that nick is taken")];
        }
        let new_at = format!("{room}/{nick}");
        let mut out = Vec::new();
        match g.occupants.iter().position(|o| o.real == from) {
            Some(i) if g.occupants[i].nick == nick => {
                g.occupants[i].presence = children;
                for q in &g.occupants {
                    out.push(presence(&new_at, &q.real, &g.occupants[i].presence));
                }
            }
            Some(i) => {
                // A nick change: unavailable from the old nick, then
                // available from the new one.
                let old_at = format!("{room}/{}", g.occupants[i].nick);
                g.occupants[i].nick = nick.to_string();
                g.occupants[i].presence = children;
                for q in &g.occupants {
                    out.push(unavailable(&old_at, &q.real));
                }
                for q in &g.occupants {
                    out.push(presence(&new_at, &q.real, &g.occupants[i].presence));
                }
            }
            None => {
                // Entering: the others' presence, then ours to everyone
                // (to us last), then the topic.
                for q in &g.occupants {
                    out.push(presence(&format!("{room}/{}", q.nick), from, &q.presence));
                }
                let children: Vec<Element> =
                    children.into_iter().filter(|c| c.ns() != ns::MUC).collect();
                for q in &g.occupants {
                    out.push(presence(&new_at, &q.real, &children));
                }
                out.push(presence(&new_at, from, &children));
                g.occupants.push(GcOccupant {
                    real: from.to_string(),
                    nick: nick.to_string(),
                    presence: children,
                });
                if let Some(t) = &g.topic {
                    out.push(
                        stanza("message")
                            .attr(nc("from"), room.as_str())
                            .attr(nc("to"), from)
                            .attr(nc("type"), "groupchat")
                            .append(stanza("subject").append(t.as_str()).build())
                            .build(),
                    );
                }
            }
        }
        out
    }
}

/// Runs the service on a connected component stream until it ends.
pub async fn serve(mut stream: ComponentStream, opts: Options) -> std::io::Result<()> {
    let mut service = Legacy::new(opts);
    while let Some(el) = stream.next().await {
        for out in service.handle(&el) {
            stream.send(&out).await?;
        }
    }
    Ok(())
}

/// Connects to the server's component port on loopback as `opts.jid` and
/// serves, connecting again whenever the stream ends
/// ([`super::component::connect_and_serve`]); returns only when the
/// server refuses the component.
pub async fn run(link: &Link, opts: Options) -> Result<(), ComponentError> {
    let jid = opts.jid.clone();
    super::component::connect_and_serve(link, &jid, |s| serve(s, opts.clone())).await
}

mod messages;
#[cfg(test)]
mod tests;
