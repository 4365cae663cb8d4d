//! The testbed SFU: a Jingle A/V conference service (XEP-0521) as an
//! XEP-0114 component (e.g. `sfu.localhost`), with real ICE, DTLS-SRTP and
//! RTP through webrtc-rs ([`crate::media::rtc`]).
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

pub mod room;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jid::Jid;
use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::data_forms::{DataForm, DataFormType, Field};

use super::component::{
    ComponentError, ComponentStream, Link, NS, error, iq_result, reply, stanza,
};
use crate::media::rtc::{AudioPeer, ConnectionState, RemoteAudio, RtcEvent, RtcOptions};
use crate::protocol::adhoc;
use crate::protocol::jingle::sdp;
use crate::protocol::jingle::{self, Action, ConferenceInfo, JingleIq, MediaSession, Reason, Role};
use crate::protocol::{nc, ns};
use room::{Forward, Refusal, Rooms, SessionRef, Step};

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

fn feature(var: &str) -> Element {
    Element::builder("feature", ns::DISCO_INFO)
        .attr(nc("var"), var)
        .build()
}

/// Every Jingle feature the conference rooms speak.
const ROOM_FEATURES: &[&str] = &[
    ns::DISCO_INFO,
    DISCO_ITEMS,
    ns::COMMANDS,
    ns::JINGLE,
    ns::JINGLE_RTP,
    ns::JINGLE_RTP_AUDIO,
    ns::JINGLE_ICE_UDP,
    ns::JINGLE_DTLS,
    ns::JINGLE_GROUPING,
    ns::COIN,
    ns::JINGLE_AV_CONFERENCES,
];

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

    // ---- discovery ----

    fn disco_info(&self, el: &Element, to: &str, node: Option<&str>) -> Element {
        let (name, features): (String, &[&str]) = match room_parts(to) {
            Some((n, d)) if d == self.opts.jid => (n.to_string(), ROOM_FEATURES),
            None if to == self.opts.jid => (
                "confab testbed SFU".to_string(),
                &[
                    ns::DISCO_INFO,
                    DISCO_ITEMS,
                    ns::JINGLE,
                    ns::JINGLE_AV_CONFERENCES,
                ],
            ),
            _ => return iq_error(el, "item-not-found", "", None),
        };
        if node.is_some_and(|n| n != ns::COMMANDS) {
            return iq_error(el, "item-not-found", "no such node", None);
        }
        let mut q = Element::builder("query", ns::DISCO_INFO).append(
            Element::builder("identity", ns::DISCO_INFO)
                .attr(nc("category"), "conference")
                .attr(nc("type"), "audio-video")
                .attr(nc("name"), name)
                .build(),
        );
        if let Some(n) = node {
            q = q.attr(nc("node"), n);
        }
        let q = q.append_all(features.iter().map(|f| feature(f))).build();
        iq_result(el, Some(q))
    }

    fn disco_items(&self, el: &Element, to: &str, node: Option<&str>) -> Element {
        let mut q = Element::builder("query", DISCO_ITEMS);
        if let Some(n) = node {
            q = q.attr(nc("node"), n);
        }
        let item = |jid: &str, node: Option<&str>, name: &str| {
            let mut b = Element::builder("item", DISCO_ITEMS)
                .attr(nc("jid"), jid)
                .attr(nc("name"), name);
            if let Some(n) = node {
                b = b.attr(nc("node"), n);
            }
            b.build()
        };
        match (room_parts(to), node) {
            (Some((_, d)), Some(ns::COMMANDS)) if d == self.opts.jid => {
                q = q.append(item(
                    to,
                    Some(ns::AV_CONFERENCES_CONFIG),
                    "Configure the conference",
                ));
            }
            (Some((_, d)), None) if d == self.opts.jid => {}
            (None, None) if to == self.opts.jid => {
                for (room, r) in self.rooms.active() {
                    let n = r.participants.len();
                    let name =
                        format!("{} ({n} in the call)", room_parts(room).map_or("", |p| p.0));
                    q = q.append(item(room, None, &name));
                }
            }
            _ => return iq_error(el, "item-not-found", "", None),
        }
        iq_result(el, Some(q.build()))
    }

    // ---- ad-hoc configuration (XEP-0050) ----

    fn config_form(&self, room: &str) -> DataForm {
        let mut form = DataForm::new(
            DataFormType::Form,
            ns::AV_CONFERENCES_CONFIG,
            vec![{
                let mut f = Field::text_single(
                    MAX_PARTICIPANTS_FIELD,
                    &self.rooms.max_participants(room).to_string(),
                );
                f.label = Some("Maximum number of participants (0 = no limit)".into());
                f
            }],
        );
        form.title = Some(format!("Options of the conference {room}"));
        form
    }

    fn on_command(&mut self, el: &Element, payload: &Element, to: &str) -> Element {
        if room_parts(to).is_none_or(|(_, d)| d != self.opts.jid) {
            return iq_error(
                el,
                "item-not-found",
                "commands are on rooms (room@service)",
                None,
            );
        }
        let cmd = match adhoc::parse(payload) {
            Ok(c) => c,
            Err(e) => return iq_error(el, &e.condition, e.text.as_deref().unwrap_or(""), None),
        };
        if cmd.node != ns::AV_CONFERENCES_CONFIG {
            return iq_error(el, "item-not-found", "no such command", None);
        }
        let node = ns::AV_CONFERENCES_CONFIG;
        let submitted = cmd
            .form
            .as_ref()
            .filter(|f| f.type_ == DataFormType::Submit);
        match (cmd.requested(), submitted) {
            (adhoc::Action::Cancel, _) => {
                let sid = cmd.sessionid.clone().unwrap_or_default();
                self.commands.remove(&sid);
                iq_result(
                    el,
                    Some(adhoc::response(
                        node,
                        &sid,
                        adhoc::Status::Canceled,
                        &[],
                        None,
                        &[],
                    )),
                )
            }
            (_, Some(form)) => {
                let sid = cmd.sessionid.clone().unwrap_or_else(|| self.new_id());
                self.commands.remove(&sid);
                let value = form
                    .fields
                    .iter()
                    .find(|f| f.var.as_deref() == Some(MAX_PARTICIPANTS_FIELD))
                    .and_then(|f| f.values.first())
                    .map(|v| v.trim().to_string());
                let Some(value) = value else {
                    let form = self.config_form(to);
                    let note = adhoc::Note::info("nothing changed");
                    return iq_result(
                        el,
                        Some(adhoc::response(
                            node,
                            &sid,
                            adhoc::Status::Completed,
                            &[],
                            Some(form),
                            &[note],
                        )),
                    );
                };
                match value.parse::<usize>() {
                    Ok(n) => {
                        self.rooms.set_max_participants(to, n);
                        let text = if n == 0 {
                            format!("{to} takes any number of participants")
                        } else {
                            format!("{to} takes at most {n} participants")
                        };
                        iq_result(
                            el,
                            Some(adhoc::response(
                                node,
                                &sid,
                                adhoc::Status::Completed,
                                &[],
                                None,
                                &[adhoc::Note::info(&text)],
                            )),
                        )
                    }
                    Err(_) => iq_error(
                        el,
                        "bad-request",
                        &format!(
                            "{MAX_PARTICIPANTS_FIELD} must be a whole number (0 = no limit), not {value:?}"
                        ),
                        Some(Element::builder("bad-payload", ns::COMMANDS).build()),
                    ),
                }
            }
            (_, None) => {
                let sid = self.new_id();
                self.commands.insert(sid.clone(), to.to_string());
                iq_result(
                    el,
                    Some(adhoc::response(
                        node,
                        &sid,
                        adhoc::Status::Executing,
                        &[adhoc::Action::Complete],
                        Some(self.config_form(to)),
                        &[],
                    )),
                )
            }
        }
    }

    // ---- Jingle ----

    async fn on_jingle(
        &mut self,
        el: &Element,
        payload: &Element,
        from: &str,
        to: &str,
    ) -> Vec<Element> {
        let iq = match jingle::parse(payload) {
            Ok(iq) => iq,
            Err(e) => {
                return vec![iq_error(
                    el,
                    &e.condition,
                    e.text.as_deref().unwrap_or(""),
                    None,
                )];
            }
        };
        if iq.action == Action::SessionInitiate {
            return self.on_initiate(el, iq, from, to).await;
        }
        let key = (from.to_string(), iq.sid.clone());
        if !self.media.contains_key(&key) {
            return vec![iq_stanza_error(el, jingle::unknown_session())];
        }
        match iq.action {
            Action::TransportInfo => {
                let peer = self.media[&key].peer.clone();
                for c in &iq.session.contents {
                    for cand in &c.transport.candidates {
                        // A bad candidate only loses that candidate.
                        let _ = peer
                            .add_remote_candidate(&sdp::candidate_to_sdp(cand), &c.name)
                            .await;
                    }
                }
                vec![iq_result(el, None)]
            }
            Action::SessionAccept => self.on_accept(el, &iq, key).await,
            Action::SessionTerminate => {
                let mut out = vec![iq_result(el, None)];
                out.extend(self.session_ended(&key, false).await);
                out
            }
            Action::SessionInfo => vec![iq_result(el, None)],
            _ => vec![iq_stanza_error(el, jingle::unsupported_info())],
        }
    }

    async fn on_initiate(
        &mut self,
        el: &Element,
        iq: JingleIq,
        from: &str,
        to: &str,
    ) -> Vec<Element> {
        let room = match room_parts(to) {
            Some((_, d)) if d == self.opts.jid => to.to_string(),
            _ => {
                return vec![iq_error(
                    el,
                    "bad-request",
                    &format!("call a conference room, like room@{}", self.opts.jid),
                    None,
                )];
            }
        };
        let key = (from.to_string(), iq.sid.clone());
        if self.media.contains_key(&key) {
            return vec![iq_stanza_error(el, jingle::out_of_order())];
        }
        let offer = match sdp::to_sdp(&iq.session, Role::Initiator) {
            Ok(s) => s,
            Err(e) => return vec![iq_stanza_error(el, jingle::bad_request(&e.0))],
        };
        let mut out = vec![iq_result(el, None)];
        let steps = match self.rooms.join(&room, from, &iq.sid) {
            Ok(steps) => steps,
            Err(refusal @ Refusal::Full { .. }) => {
                let t =
                    jingle::session_terminate(&iq.sid, Reason::Busy, Some(&refusal.to_string()));
                out.push(self.iq_set(&room, from, t, key));
                return out;
            }
        };
        let answered = async {
            let (peer, events) = AudioPeer::answer(self.opts.rtc.clone(), &offer).await?;
            let answer = peer.local_sdp().await?;
            Ok::<_, crate::media::rtc::RtcError>((peer, events, answer))
        }
        .await;
        let (peer, events, answer) = match answered {
            Ok(x) => x,
            Err(e) => {
                // The forwarded sessions the join planned never started.
                self.rooms.leave(&room, from);
                let t = jingle::session_terminate(
                    &iq.sid,
                    Reason::FailedApplication,
                    Some(&e.to_string()),
                );
                out.push(self.iq_set(&room, from, t, key));
                return out;
            }
        };
        let mut session = match sdp::from_sdp(&answer, Role::Responder) {
            Ok(s) => s,
            Err(e) => {
                self.rooms.leave(&room, from);
                let _ = peer.close().await;
                let t = jingle::session_terminate(&iq.sid, Reason::FailedApplication, Some(&e.0));
                out.push(self.iq_set(&room, from, t, key));
                return out;
            }
        };
        let (ufrag, pwd) = strip_candidates(&mut session);
        let room_jid = room.parse::<Jid>().ok();
        let initiator = iq.initiator.clone().or_else(|| from.parse::<Jid>().ok());
        if let Some(room_jid) = &room_jid {
            let focus = ConferenceInfo {
                isfocus: true,
                users: Vec::new(),
            };
            let accept = jingle::session_accept(
                &iq.sid,
                initiator.as_ref(),
                room_jid,
                &session,
                Some(&focus),
            );
            out.push(self.iq_set(&room, from, accept, key.clone()));
        }
        self.watch(key.clone(), events);
        self.media.insert(
            key,
            Media {
                peer: Arc::new(peer),
                room: room.clone(),
                ufrag,
                pwd,
            },
        );
        self.streams
            .insert((room.clone(), from.to_string()), Targets::default());
        out.extend(self.run_steps(&room, steps, None).await);
        out
    }

    async fn on_accept(&mut self, el: &Element, iq: &JingleIq, key: Key) -> Vec<Element> {
        let peer = self.media[&key].peer.clone();
        if !peer.is_sender() {
            return vec![iq_stanza_error(el, jingle::out_of_order())];
        }
        let applied = match sdp::to_sdp(&iq.session, Role::Responder) {
            Ok(answer) => peer
                .set_remote_answer(&answer)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.0),
        };
        let mut out = vec![iq_result(el, None)];
        if let Err(text) = applied {
            let room = self.media[&key].room.clone();
            let t = jingle::session_terminate(&key.1, Reason::FailedApplication, Some(&text));
            out.push(self.iq_set(&room, &key.0, t, key.clone()));
            out.extend(self.session_ended(&key, false).await);
        }
        out
    }

    /// Session `key` is over (terminated by the peer, failed, or its
    /// session-initiate was refused): clean up and end what depended on it.
    /// `gone`: the peer is offline, send it nothing more.
    async fn session_ended(&mut self, key: &Key, gone: bool) -> Vec<Element> {
        let Some(media) = self.media.remove(key) else {
            return Vec::new();
        };
        let _ = media.peer.close().await;
        match self.rooms.session(&key.0, &key.1) {
            Some(SessionRef::Incoming { room, participant }) => {
                self.streams.remove(&(room.clone(), participant.clone()));
                let steps = self.rooms.leave(&room, &participant);
                let leaver = if gone {
                    Some(participant.as_str())
                } else {
                    None
                };
                self.run_steps(&room, steps, leaver).await
            }
            Some(SessionRef::Forward { room, forward }) => {
                self.rooms.forward_ended(&room, &forward.sid);
                self.untarget(&room, &forward);
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    fn untarget(&self, room: &str, f: &Forward) {
        if let Some(t) = self.streams.get(&(room.to_string(), f.source.clone()))
            && let Ok(mut t) = t.lock()
        {
            t.retain(|(sid, _)| *sid != f.sid);
        }
    }

    /// Carries out room steps. `gone`: a participant that is offline (it
    /// gets no session-terminate).
    async fn run_steps(
        &mut self,
        room: &str,
        steps: Vec<Step>,
        gone: Option<&str>,
    ) -> Vec<Element> {
        let mut out = Vec::new();
        for step in steps {
            match step {
                Step::StartForward(f) => out.extend(self.start_forward(room, f).await),
                Step::EndForward(f) => {
                    let key = (f.target.clone(), f.sid.clone());
                    self.untarget(room, &f);
                    if let Some(m) = self.media.remove(&key) {
                        let _ = m.peer.close().await;
                    }
                    if gone != Some(f.target.as_str()) {
                        let (reason, text) = if gone == Some(f.source.as_str())
                            || !self
                                .rooms
                                .get(room)
                                .is_some_and(|r| r.participants.iter().any(|p| p.jid == f.source))
                        {
                            (
                                Reason::Gone,
                                format!("{} left the conference", bare(&f.source)),
                            )
                        } else {
                            (Reason::Success, "you left the conference".to_string())
                        };
                        let t = jingle::session_terminate(&f.sid, reason, Some(&text));
                        out.push(self.iq_set(room, &f.target, t, key));
                    }
                }
                Step::EndIncoming(p) => {
                    let key = (p.jid.clone(), p.sid.clone());
                    if let Some(m) = self.media.remove(&key) {
                        let _ = m.peer.close().await;
                    }
                    let t = jingle::session_terminate(
                        &p.sid,
                        Reason::AlternativeSession { sid: None },
                        Some("replaced by your new call"),
                    );
                    out.push(self.iq_set(room, &p.jid, t, key));
                }
            }
        }
        out
    }

    async fn start_forward(&mut self, room: &str, f: Forward) -> Vec<Element> {
        let key = (f.target.clone(), f.sid.clone());
        let offered = async {
            let (peer, events) = AudioPeer::offer(self.opts.rtc.clone()).await?;
            let offer = peer.local_sdp().await?;
            Ok::<_, crate::media::rtc::RtcError>((peer, events, offer))
        }
        .await;
        let session = offered
            .map_err(|e| e.to_string())
            .and_then(|(p, ev, offer)| {
                sdp::from_sdp(&offer, Role::Initiator)
                    .map(|s| (p, ev, s))
                    .map_err(|e| e.0)
            });
        let (peer, events, mut session) = match session {
            Ok(x) => x,
            Err(_) => {
                // Nothing was sent: the forward simply does not exist.
                self.rooms.forward_ended(room, &f.sid);
                return Vec::new();
            }
        };
        let (ufrag, pwd) = strip_candidates(&mut session);
        let Ok(room_jid) = room.parse::<Jid>() else {
            self.rooms.forward_ended(room, &f.sid);
            return Vec::new();
        };
        let coin = ConferenceInfo::focus_of(&format!("xmpp:{}", bare(&f.source)));
        let initiate = jingle::session_initiate(&f.sid, &room_jid, &session, Some(&coin));
        let peer = Arc::new(peer);
        self.watch(key.clone(), events);
        self.media.insert(
            key.clone(),
            Media {
                peer: peer.clone(),
                room: room.to_string(),
                ufrag,
                pwd,
            },
        );
        if let Some(t) = self.streams.get(&(room.to_string(), f.source.clone()))
            && let Ok(mut t) = t.lock()
        {
            t.push((f.sid.clone(), peer));
        }
        vec![self.iq_set(room, &f.target, initiate, key)]
    }

    async fn on_iq_error(&mut self, el: &Element) -> Vec<Element> {
        let Some(key) = el.attr("id").and_then(|id| self.pending.remove(id)) else {
            return Vec::new();
        };
        // Our session-initiate (or anything else) was refused: the
        // session is over.
        self.session_ended(&key, false).await
    }

    async fn on_gone(&mut self, from: &str) -> Vec<Element> {
        let mut out = Vec::new();
        let keys: Vec<Key> = self
            .media
            .keys()
            .filter(|(peer, _)| peer == from)
            .cloned()
            .collect();
        // Its own sessions first (ending the forwards of its stream), then
        // whatever forwarded sessions to it remain.
        let mut keys = keys;
        keys.sort_by_key(|k| {
            !matches!(
                self.rooms.session(&k.0, &k.1),
                Some(SessionRef::Incoming { .. })
            )
        });
        for key in keys {
            out.extend(self.session_ended(&key, true).await);
        }
        out
    }

    /// A webrtc event of session `key`; returns the stanzas to send.
    pub async fn on_rtc(&mut self, key: Key, event: RtcEvent) -> Vec<Element> {
        let Some(media) = self.media.get(&key) else {
            return Vec::new();
        };
        match event {
            RtcEvent::LocalCandidate(c) => {
                let Ok(cand) = sdp::candidate_to_jingle(&c.candidate) else {
                    return Vec::new();
                };
                let t = jingle::transport_info(
                    &key.1,
                    &c.mid,
                    media.ufrag.as_deref(),
                    media.pwd.as_deref(),
                    &cand,
                );
                let room = media.room.clone();
                vec![self.iq_set(&room, &key.0, t, key.clone())]
            }
            RtcEvent::Track(audio) => {
                let targets = match self.rooms.session(&key.0, &key.1) {
                    Some(SessionRef::Incoming { room, participant }) => {
                        self.streams.get(&(room, participant)).cloned()
                    }
                    _ => None,
                };
                if let Some(targets) = targets {
                    tokio::spawn(pump(audio, targets));
                }
                Vec::new()
            }
            RtcEvent::State(ConnectionState::Failed) => {
                let room = media.room.clone();
                let t = jingle::session_terminate(
                    &key.1,
                    Reason::FailedTransport,
                    Some("the media connection failed"),
                );
                let mut out = vec![self.iq_set(&room, &key.0, t, key.clone())];
                out.extend(self.session_ended(&key, false).await);
                out
            }
            _ => Vec::new(),
        }
    }
}

/// The ICE credentials of the first content; candidates are removed (they
/// all follow as transport-info, so none is announced twice).
fn strip_candidates(session: &mut MediaSession) -> (Option<String>, Option<String>) {
    for c in &mut session.contents {
        c.transport.candidates.clear();
    }
    session
        .contents
        .first()
        .map(|c| (c.transport.ufrag.clone(), c.transport.pwd.clone()))
        .unwrap_or_default()
}

/// Forwards every packet of one participant's stream to the sessions
/// carrying it, undecoded.
async fn pump(mut audio: RemoteAudio, targets: Targets) {
    while let Some(packet) = audio.next().await {
        let now: Vec<Arc<AudioPeer>> = match targets.lock() {
            Ok(t) => t.iter().map(|(_, p)| p.clone()).collect(),
            Err(_) => break,
        };
        for peer in now {
            // Not yet negotiated or already closed: that packet is lost.
            let _ = peer.forward(&packet).await;
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
