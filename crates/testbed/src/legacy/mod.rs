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
//!
//! Here: the options, the state and the stanza helpers; `iq.rs` answers
//! IQs (browse, the conference `get`/`set`), `presence.rs` presence to
//! rooms, `messages.rs` messages.

use std::collections::{BTreeMap, HashMap};

use minidom::Element;

use super::component::{ComponentError, ComponentStream, Link, NS, error, reply, stanza};
use confab_proto::nc;

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

mod iq;
mod messages;
mod presence;
#[cfg(test)]
mod tests;
