//! The testbed SFU: a Jingle A/V conference service (XEP-0521) as an
//! XEP-0114 component (e.g. `sfu.localhost`), with real ICE, DTLS-SRTP and
//! RTP through webrtc-rs ([`confab_media::rtc`]).
//!
//! - Every `room@sfu.localhost` is a conference: disco#info gives the
//!   identity `conference/audio-video` and the feature
//!   `urn:xmpp:jingle:av-conferences:0` (the bare domain too, and its
//!   disco#items lists the rooms with participants).
//! - A participant calls the room (session-initiate, its audio
//!   `senders='initiator'`); the SFU answers receive-only (session-accept
//!   with Coin `isfocus='true'`), trickling candidates both ways
//!   (transport-info).
//! - For every other participant the SFU starts a one-way session from the
//!   room JID carrying that participant's stream, with the Coin user entity
//!   `xmpp:` + its bare JID; RTP is forwarded as it is (never decoded), and
//!   never back to its sender.
//! - A participant leaves with session-terminate, when its presence to the
//!   room goes unavailable (clients send directed presence to the room; the
//!   server sends the unavailable one when they drop), or when its ICE
//!   connection fails: the forwarded sessions carrying its stream or going
//!   to it are terminated.
//! - XEP-0050 node `urn:xmpp:av-conferences:config` on each room: field
//!   `max-participants` (0 = no limit; the `--max-participants` flag sets
//!   the default). A caller beyond the limit gets its IQ acknowledged, then
//!   a session-terminate with `<busy/>` and a text saying the room is full.
//!
//! [`room`] is the pure room state machine; [`Sfu`] turns stanzas and
//! webrtc events into stanzas; [`serve`]/[`run`] drive it on a component
//! stream.
//! Here: the options, the state and the IQ dispatch; `disco.rs` answers
//! service discovery, `config.rs` the room configuration command,
//! `sessions.rs` Jingle and the forwarding of RTP.

mod config;
mod disco;
pub mod room;
mod sessions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use minidom::Element;
use tokio::sync::mpsc;

use super::component::{ComponentError, ComponentStream, Link, NS, error, reply, stanza};
use confab_media::rtc::{AudioPeer, RtcEvent, RtcOptions};
use confab_proto::{nc, ns};
use room::Rooms;

const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
/// The config form's participant-limit field.
pub const MAX_PARTICIPANTS_FIELD: &str = "max-participants";

/// How the SFU runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The component JID (`sfu.localhost`).
    pub jid: String,
    /// The participant limit of rooms not configured otherwise (0 = none).
    pub max_participants: usize,
    /// Where the media sockets bind (host candidates).
    pub rtc: RtcOptions,
}

impl Options {
    /// Loopback media, no participant limit.
    pub fn new(jid: impl Into<String>) -> Options {
        Options {
            jid: jid.into(),
            max_participants: 0,
            rtc: RtcOptions::loopback(),
        }
    }
}

/// Where the packets of one participant's stream go: the forwarded
/// sessions carrying it, by sid.
type Targets = Arc<Mutex<Vec<(String, Arc<AudioPeer>)>>>;

/// A live webrtc session with a peer.
struct Media {
    peer: Arc<AudioPeer>,
    /// The room JID the session is with.
    room: String,
    ufrag: Option<String>,
    pwd: Option<String>,
}

type Key = (String, String);

/// The service: rooms, sessions, and what is in flight.
pub struct Sfu {
    opts: Options,
    rooms: Rooms,
    /// By (peer full JID, sid).
    media: HashMap<Key, Media>,
    /// By (room, source full JID).
    streams: HashMap<Key, Targets>,
    /// Our IQs waiting for an answer: id → (peer, sid).
    pending: HashMap<String, Key>,
    /// Ad-hoc sessions in progress: sessionid → room.
    commands: HashMap<String, String>,
    next_id: u64,
    events_tx: mpsc::UnboundedSender<(Key, RtcEvent)>,
}

fn bare(jid: &str) -> &str {
    jid.split_once('/').map_or(jid, |(b, _)| b)
}

/// `node@domain` → (node, domain); `None` without a node or with a resource.
fn room_parts(jid: &str) -> Option<(&str, &str)> {
    if jid.contains('/') {
        return None;
    }
    jid.split_once('@').filter(|(n, _)| !n.is_empty())
}

fn error_type(condition: &str) -> &'static str {
    match condition {
        "bad-request" | "not-acceptable" | "jid-malformed" | "feature-not-implemented" => "modify",
        "unexpected-request" | "resource-constraint" => "wait",
        _ => "cancel",
    }
}

/// An IQ error answering `req` (`extra`: an application condition).
fn iq_error(req: &Element, condition: &str, text: &str, extra: Option<Element>) -> Element {
    let mut e = error(error_type(condition), condition, text);
    if let Some(x) = extra {
        e = e.append(x);
    }
    reply(req, "error").append(e.build()).build()
}

/// The same, from an xmpp-parsers stanza error (Jingle's conditions).
fn iq_stanza_error(req: &Element, err: xmpp_parsers::stanza_error::StanzaError) -> Element {
    let el = Element::from(err);
    let mut e = stanza("error");
    for a in ["type", "by"] {
        if let Some(v) = el.attr(a) {
            e = e.attr(nc(a), v);
        }
    }
    let e = e.append_all(el.children().cloned()).build();
    reply(req, "error").append(e).build()
}

impl Sfu {
    /// A service with no rooms; webrtc events go to `events_tx` (feed them
    /// back through [`Sfu::on_rtc`]).
    pub fn new(opts: Options, events_tx: mpsc::UnboundedSender<(Key, RtcEvent)>) -> Sfu {
        let prefix = format!("sfu{:x}", std::process::id());
        Sfu {
            rooms: Rooms::new(opts.max_participants, &prefix),
            opts,
            media: HashMap::new(),
            streams: HashMap::new(),
            pending: HashMap::new(),
            commands: HashMap::new(),
            next_id: 0,
            events_tx,
        }
    }

    /// The rooms (for tests and logs).
    pub fn rooms(&self) -> &Rooms {
        &self.rooms
    }

    /// How many webrtc sessions are open (participants' own and
    /// forwarded), for tests: none is left behind.
    pub fn session_count(&self) -> usize {
        self.media.len()
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("sfu-{}", self.next_id)
    }

    /// An IQ set from `from` to `to` carrying `payload`, remembered as
    /// belonging to session `key`.
    fn iq_set(&mut self, from: &str, to: &str, payload: Element, key: Key) -> Element {
        let id = self.new_id();
        self.pending.insert(id.clone(), key);
        stanza("iq")
            .attr(nc("type"), "set")
            .attr(nc("from"), from)
            .attr(nc("to"), to)
            .attr(nc("id"), id)
            .append(payload)
            .build()
    }

    /// Lets webrtc events of `peer` flow into the service's channel.
    fn watch(&self, key: Key, mut events: mpsc::UnboundedReceiver<RtcEvent>) {
        let tx = self.events_tx.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                if tx.send((key.clone(), ev)).is_err() {
                    break;
                }
            }
        });
    }

    /// One stanza from the server; returns the stanzas to send.
    pub async fn on_stanza(&mut self, el: &Element) -> Vec<Element> {
        if el.ns() != NS {
            return Vec::new();
        }
        let (Some(from), Some(to)) = (el.attr("from"), el.attr("to")) else {
            return Vec::new();
        };
        let (from, to) = (from.to_string(), to.to_string());
        match (el.name(), el.attr("type").unwrap_or("")) {
            ("iq", "get" | "set") => self.on_iq(el, &from, &to).await,
            ("iq", "result") => {
                if let Some(id) = el.attr("id") {
                    self.pending.remove(id);
                }
                Vec::new()
            }
            ("iq", "error") => self.on_iq_error(el).await,
            ("presence", "unavailable") => self.on_gone(&from).await,
            _ => Vec::new(),
        }
    }

    async fn on_iq(&mut self, el: &Element, from: &str, to: &str) -> Vec<Element> {
        let set = el.attr("type") == Some("set");
        let Some(payload) = el.children().next() else {
            return vec![iq_error(el, "bad-request", "empty IQ", None)];
        };
        let node = payload.attr("node");
        match (payload.name(), payload.ns().as_str(), set) {
            ("query", ns::DISCO_INFO, false) => vec![self.disco_info(el, to, node)],
            ("query", DISCO_ITEMS, false) => vec![self.disco_items(el, to, node)],
            ("jingle", ns::JINGLE, true) => self.on_jingle(el, payload, from, to).await,
            ("command", ns::COMMANDS, true) => vec![self.on_command(el, payload, to)],
            _ => vec![iq_error(el, "service-unavailable", "", None)],
        }
    }
}

/// Runs the SFU on a connected component stream until it ends.
pub async fn serve(mut stream: ComponentStream, opts: Options) -> std::io::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut sfu = Sfu::new(opts, tx);
    loop {
        let out = tokio::select! {
            el = stream.next() => match el {
                Some(el) => sfu.on_stanza(&el).await,
                None => break,
            },
            Some((key, ev)) = rx.recv() => sfu.on_rtc(key, ev).await,
        };
        for el in out {
            stream.send(&el).await?;
        }
    }
    for m in sfu.media.values() {
        let _ = m.peer.close().await;
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

#[cfg(test)]
mod tests;
