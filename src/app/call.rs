//! Calls: `/call`, `/hangup`, `/mute`, `/unmute`, `/deafen`, `/undeafen`,
//! `/devices` (switching them: `devices.rs`) — XEP-0521 A/V conferences through an SFU, and one-to-one
//! calls (`direct.rs`: XEP-0353 ringing, then one two-way XEP-0167
//! session); `/callconfig` in `config.rs`.
//!
//! The signalling lives here: our sending session (session-initiate to the
//! conference, its session-accept, trickled transport-info both ways) and
//! the sessions the conference starts towards us, one per forwarded stream
//! (labelled by their XEP-0298 Coin user entity). Descriptions are mapped
//! between Jingle and SDP (`protocol::jingle::sdp`) and handed to the media
//! task (`media::engine`), which does ICE, DTLS-SRTP, Opus and the audio.

use std::collections::HashMap;

use chrono::Utc;
use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::presence::{Presence, Type as PresenceType};

use crate::media::engine::{EndCause, MediaCmd, MediaEvent, MediaHandle};
use crate::protocol::iq::IqAnswer;
use crate::protocol::jingle::{self, Action, MediaSession, Reason, Role, sdp};
use crate::protocol::{ErrorInfo, iq, rooms};
use crate::session::Tag;
use crate::store::Event;

use super::{App, Exec, IqStep, IqThen, Waiting, err_event, refuse};

/// One Jingle session of the call.
#[derive(Debug, Clone)]
struct Signal {
    /// Where its stanzas go (the conference, or the full JID it called from).
    peer: Jid,
    /// Who initiated it.
    initiator: Jid,
    /// Our call's own session: our sending session to a conference, or
    /// the one session of a one-to-one call (else a stream the
    /// conference forwards).
    ours: bool,
    /// We make the offer (session-initiate) rather than answer one.
    offerer: bool,
    /// The other side knows of it (our session-initiate went out).
    signalled: bool,
    /// Our ICE credentials for transport-info.
    ufrag: Option<String>,
    pwd: Option<String>,
}

impl Signal {
    /// Our call's own session, where we make the offer (not signalled
    /// until our session-initiate goes out).
    fn our_offer(peer: Jid, initiator: Jid) -> Signal {
        Signal {
            peer,
            initiator,
            ours: true,
            offerer: true,
            signalled: false,
            ufrag: None,
            pwd: None,
        }
    }

    /// A session `peer` initiated (its session-initiate came): our call's
    /// own (`ours`, one-to-one) or a stream the conference forwards.
    fn answering(peer: Jid, initiator: Jid, ours: bool) -> Signal {
        Signal {
            peer,
            initiator,
            ours,
            offerer: false,
            signalled: true,
            ufrag: None,
            pwd: None,
        }
    }
}

/// The app's side of calls.
#[derive(Default)]
pub(super) struct CallSignals {
    media: Option<MediaHandle>,
    sessions: HashMap<String, Signal>,
    /// The `/call` that waits for the call to connect.
    tag: Option<Tag>,
    /// Ad-hoc configuration sessions (XEP-0050) of conferences whose form
    /// is being edited in the TUI: the session id.
    config: HashMap<BareJid, String>,
    next_sid: u64,
    /// Stanzas that must follow our answer to the request being handled
    /// (a session-terminate after the ack of a session-initiate).
    after_reply: Vec<(Jid, Element)>,
    /// The `/record` (or `/record stop`) waiting for the media task.
    record_tag: Option<Tag>,
    /// The one-to-one call (XEP-0353) ringing or under way.
    direct: Option<direct::Direct>,
    /// The `/devices input|output` commands waiting for the media task,
    /// in the order they were sent (it answers in that order).
    device_tags: std::collections::VecDeque<Tag>,
    /// The A/V conference service whose rooms are linked to text rooms of
    /// the same name (`call_service`): `/call talk@conference.example.org`
    /// calls `talk@SERVICE`.
    service: Option<BareJid>,
    /// A drop of the call and its re-joins (`rejoin.rs`).
    recovery: rejoin::Recovery,
}

impl App {
    /// Gives the app its media task (without one, `/call` is refused).
    pub fn with_media(mut self, media: MediaHandle) -> App {
        self.call.media = Some(media);
        self
    }

    /// Whether a call is on (the program hangs up before it exits).
    pub fn in_call(&self) -> bool {
        self.store.calls.current.is_some()
    }

    /// `/call ROOM|USER`: the JID's disco#info first (`call_checked`).
    pub(super) fn start_call(&mut self, text: &str, room: BareJid) -> Result<Exec, Box<Event>> {
        if self.call.media.is_none() {
            return Err(refuse(
                text,
                "service-unavailable",
                "audio is not available in this session",
            ));
        }
        if let Some(c) = &self.store.calls.current {
            return Err(refuse(
                text,
                "conflict",
                format!("already in a call with {}; /hangup first", c.jid),
            ));
        }
        Ok(self.start_iq(
            text,
            Some(room.clone().into()),
            rooms::info_query(),
            false,
            call_checked(room, true),
        ))
    }

    /// `/hangup`
    pub(super) fn start_hangup(&mut self, text: &str) -> Result<Exec, Box<Event>> {
        if self.store.calls.current.is_none() {
            if self.ringing_here() {
                return self.start_reject(text);
            }
            return Err(no_call(text));
        }
        let mut events = self.end_call(Reason::Success, "hung up");
        events.push(Event::Ok {
            command: text.to_string(),
        });
        Ok(Exec::done(events))
    }

    /// `/mute`, `/unmute`
    pub(super) fn start_mute(&mut self, text: &str, muted: bool) -> Result<Exec, Box<Event>> {
        if !self.store.calls.set_muted(muted) {
            return Err(no_call(text));
        }
        self.media(MediaCmd::Mute(muted));
        Ok(Exec::done(vec![
            Event::Info {
                text: if muted {
                    "microphone muted".into()
                } else {
                    "microphone on".into()
                },
            },
            Event::Ok {
                command: text.to_string(),
            },
        ]))
    }

    /// `/deafen`, `/undeafen`
    pub(super) fn start_deafen(&mut self, text: &str, deafened: bool) -> Result<Exec, Box<Event>> {
        if !self.store.calls.set_deafened(deafened) {
            return Err(no_call(text));
        }
        self.media(MediaCmd::Deafen(deafened));
        Ok(Exec::done(vec![Event::Ok {
            command: text.to_string(),
        }]))
    }

    /// `/devices`
    pub(super) fn start_devices(&mut self, text: &str) -> Result<Exec, Box<Event>> {
        match crate::media::devices() {
            Ok(list) => Ok(Exec::done(vec![
                Event::Info {
                    text: describe_devices(&list),
                },
                Event::Ok {
                    command: text.to_string(),
                },
            ])),
            Err(e) => Err(refuse(text, "service-unavailable", e.to_string())),
        }
    }

    fn media(&self, cmd: MediaCmd) {
        if let Some(m) = &self.call.media {
            m.send(cmd);
        }
    }

    fn own_jid(&self) -> Option<Jid> {
        self.store.jid.clone().map(Jid::from)
    }

    /// A Jingle session id nobody can guess: 128 random bits.
    fn new_sid(&mut self) -> String {
        self.call.next_sid += 1;
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // No system randomness: at least never the same twice.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            bytes = (nanos ^ u128::from(self.call.next_sid)).to_le_bytes();
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Sets the A/V conference service linked to text rooms (`None`: no
    /// link; `/call` of a text room is an error that says so).
    pub fn set_call_service(&mut self, service: Option<BareJid>) {
        self.call.service = service;
    }

    /// The A/V conference linked to the text room `room`: the room of the
    /// same name at the `call_service`.
    fn linked_conference(&self, room: &BareJid) -> Option<BareJid> {
        let service = self.call.service.as_ref()?;
        let linked = BareJid::from_parts(room.node(), service.domain());
        (linked != *room).then_some(linked)
    }

    /// The conference answered disco as an A/V conference: start our
    /// sending session; `/call` ends when it is connected.
    fn place_call(&mut self, tag: Tag, command: String, jid: BareJid) -> Vec<Event> {
        let Some(own) = self.own_jid() else {
            return vec![err_event(&command, "remote-server-not-found", "offline")];
        };
        // Another /call got there while this one waited for disco.
        if let Some(c) = &self.store.calls.current {
            return vec![err_event(
                &command,
                "conflict",
                format!("already in a call with {}; /hangup first", c.jid),
            )];
        }
        let sid = self.new_sid();
        let events = self.store.calls.start(jid.clone(), sid.clone(), Utc::now());
        self.call
            .sessions
            .insert(sid.clone(), Signal::our_offer(jid.clone().into(), own));
        self.wait_as(tag, &command, Waiting::Call, true);
        self.call.tag = Some(tag);
        // Directed presence: if we vanish, the server tells the conference.
        self.call_presence(&jid, PresenceType::None);
        self.media(MediaCmd::StartSend { sid });
        events
    }

    fn call_presence(&mut self, to: &BareJid, type_: PresenceType) {
        let presence = Presence::new(type_).with_to(Jid::from(to.clone()));
        self.send_presence("", presence);
    }

    /// Ends the call: session-terminate for every session, the media
    /// stops, the store says `ended`; a `/call` still waiting fails.
    fn end_call(&mut self, reason: Reason, text: &str) -> Vec<Event> {
        // Offline there is nobody to tell: the server tells the conference
        // that we are gone.
        let online = self.store.connection == crate::store::Connection::Online;
        // A one-to-one call: no directed presence was sent; ringing is
        // called off, a session finished (XEP-0353).
        let direct = self.call.direct.take();
        if let Some(d) = direct.as_ref().filter(|_| online) {
            self.direct_over(d, &reason);
        }
        if online
            && direct.is_none()
            && let Some(jid) = self.store.calls.current.as_ref().map(|c| c.jid.clone())
        {
            self.call_presence(&jid, PresenceType::Unavailable);
        }
        self.call.recovery = rejoin::Recovery::default();
        let sessions: Vec<(String, Signal)> = self.call.sessions.drain().collect();
        for (sid, s) in sessions.into_iter().filter(|(_, s)| online && s.signalled) {
            self.quiet_iq(
                s.peer,
                jingle::session_terminate(&sid, reason.clone(), Some(text)),
            );
        }
        self.media(MediaCmd::Hangup { done: None });
        let condition = match reason {
            Reason::Busy | Reason::Decline => "not-allowed",
            Reason::FailedTransport | Reason::ConnectivityError => "remote-server-timeout",
            Reason::FailedApplication | Reason::MediaError => "service-unavailable",
            _ => "undefined-condition",
        };
        let mut events = self.store.calls.ended(Some(text.to_string()));
        events.extend(self.call_outcome(Err((condition, text.to_string()))));
        events
    }

    /// The connection to the server is lost: a conference call waits for
    /// it to come back (`rejoin.rs`); a one-to-one call ends (its peer
    /// loses us).
    pub(super) fn call_lost(&mut self) -> Vec<Event> {
        if self.store.calls.current.is_none() {
            // A call that rang here: it cannot be answered any more.
            return self.ringing_gone("the connection to the server was lost", false);
        }
        // A conference call waits for the connection (`rejoin.rs`).
        if let Some(events) = self.call_offline() {
            return events;
        }
        self.end_call(
            Reason::ConnectivityError,
            "the connection to the server was lost",
        )
    }

    /// Finishes the waiting `/call`, if any.
    fn call_outcome(&mut self, outcome: Result<(), (&str, String)>) -> Vec<Event> {
        let Some(tag) = self.call.tag.take() else {
            return Vec::new();
        };
        let Some(p) = self.pending.remove(&tag) else {
            return Vec::new();
        };
        vec![match outcome {
            Ok(()) => Event::Ok { command: p.command },
            Err((condition, why)) => err_event(&p.command, condition, why),
        }]
    }

    /// What the media task reports.
    pub fn on_media(&mut self, ev: MediaEvent) -> Vec<Event> {
        match ev {
            MediaEvent::LocalDescription { sid, sdp } => self.local_description(sid, &sdp),
            MediaEvent::LocalCandidate {
                sid,
                candidate,
                mid,
            } => {
                let Some(s) = self.call.sessions.get(&sid).cloned() else {
                    return Vec::new();
                };
                // mDNS names and the like cannot be signalled: skipped.
                let Ok(c) = sdp::candidate_to_jingle(&candidate) else {
                    return Vec::new();
                };
                self.quiet_iq(
                    s.peer,
                    jingle::transport_info(&sid, &mid, s.ufrag.as_deref(), s.pwd.as_deref(), &c),
                );
                Vec::new()
            }
            MediaEvent::Connected { sid } => {
                if self.call.sessions.get(&sid).is_some_and(|s| s.ours) {
                    self.call_media_up();
                    let mut events = self.store.calls.connected(Utc::now());
                    events.extend(self.call_outcome(Ok(())));
                    events
                } else {
                    Vec::new()
                }
            }
            MediaEvent::Disconnected { sid } => {
                if self.call.sessions.get(&sid).is_some_and(|s| s.ours) {
                    self.call_media_down()
                } else {
                    Vec::new()
                }
            }
            MediaEvent::Ended { sid, reason, cause } => {
                match self.call.sessions.get(&sid) {
                    // Our session (a session never signalled — no microphone… —
                    // is not terminated: the conference never heard of it); a
                    // failed connection of a conference call re-joins it.
                    Some(s) if s.ours => {
                        let failed = format!("our connection to the conference failed ({reason})");
                        match cause {
                            EndCause::Connection => self.call_media_failed(&failed),
                            _ => None,
                        }
                        .unwrap_or_else(|| self.end_call(jingle_reason(cause), &reason))
                    }
                    // A stream lost in a drop of ours: the re-join brings it
                    // back (no error).
                    Some(_)
                        if cause == EndCause::Connection
                            && self.store.calls.current.as_ref().is_some_and(|c| {
                                c.state == crate::store::CallState::Reconnecting
                            }) =>
                    {
                        self.drop_stream(&sid, jingle_reason(cause), &reason)
                    }
                    // A received stream (e.g. the speaker cannot open: the
                    // conference hears media-error, not a transport failure).
                    Some(_) => {
                        let mut events = vec![Event::error(
                            "undefined-condition",
                            Some(format!("a stream of the call ended: {reason}")),
                        )];
                        events.extend(self.drop_stream(&sid, jingle_reason(cause), &reason));
                        events
                    }
                    None => Vec::new(),
                }
            }
            MediaEvent::Level {
                sid,
                level,
                speaking,
            } => self.store.calls.level(&sid, level, speaking, Utc::now()),
            MediaEvent::OwnLevel { level, speaking } => self.store.calls.own_level(level, speaking),
            MediaEvent::Recording {
                active,
                dir,
                files,
                error,
            } => self.recording(active, dir, files, error),
            MediaEvent::Device { output, now, error } => self.device_switched(output, now, error),
            MediaEvent::Error { sid: _, text } => {
                vec![Event::error(
                    "undefined-condition",
                    Some(format!("audio: {text}")),
                )]
            }
        }
    }

    /// Our SDP for a session: the offer of our sending session becomes the
    /// session-initiate, the answer to a stream the session-accept.
    fn local_description(&mut self, sid: String, sdp_text: &str) -> Vec<Event> {
        let Some(own) = self.own_jid() else {
            return Vec::new();
        };
        let Some(s) = self.call.sessions.get_mut(&sid) else {
            return Vec::new();
        };
        let writer = if s.offerer {
            Role::Initiator
        } else {
            Role::Responder
        };
        let mut session: MediaSession = match sdp::from_sdp(sdp_text, writer) {
            Ok(m) => m,
            Err(e) => {
                let text = format!("our own description did not map to Jingle: {e}");
                return if s.ours {
                    self.end_call(Reason::FailedApplication, &text)
                } else {
                    self.drop_stream(&sid, Reason::FailedApplication, &text)
                };
            }
        };
        if s.offerer {
            // webrtc-rs writes no a=ptime; we send 20 ms frames: say so.
            declare_ptime(&mut session);
        }
        if let Some(c) = session.contents.first() {
            s.ufrag = c.transport.ufrag.clone();
            s.pwd = c.transport.pwd.clone();
        }
        s.signalled = true;
        let s = s.clone();
        if s.offerer {
            let payload = jingle::session_initiate(&sid, &own, &session, None);
            let then = IqThen::new(move |app, _, result| match result {
                Ok(_) => IqStep::Done(Vec::new()),
                Err(e) => IqStep::Done(app.call_refused(&sid, e)),
            });
            self.quiet_iq_then(s.peer, payload, then);
        } else {
            let payload = jingle::session_accept(&sid, Some(&s.initiator), &own, &session, None);
            self.quiet_iq(s.peer, payload);
        }
        Vec::new()
    }

    /// The conference refused our session-initiate.
    fn call_refused(&mut self, sid: &str, e: ErrorInfo) -> Vec<Event> {
        if !self.call.sessions.get(sid).is_some_and(|s| s.ours) {
            return Vec::new();
        }
        let text = match &e.text {
            Some(t) if !t.is_empty() => format!("the conference refused the call: {t}"),
            _ => format!("the conference refused the call ({})", e.condition),
        };
        self.call.sessions.remove(sid);
        self.end_call(Reason::Decline, &text)
    }

    /// A stream's session is over.
    fn drop_stream(&mut self, sid: &str, reason: Reason, text: &str) -> Vec<Event> {
        if let Some(s) = self.call.sessions.remove(sid) {
            self.quiet_iq(s.peer, jingle::session_terminate(sid, reason, Some(text)));
        }
        self.media(MediaCmd::Close {
            sid: sid.to_string(),
        });
        self.store.calls.stream_removed(sid)
    }

    /// A Jingle request (from `app/requests.rs`).
    pub(super) fn on_jingle(
        &mut self,
        from: Option<&Jid>,
        payload: &Element,
    ) -> (IqAnswer, Vec<Event>) {
        let j = match jingle::parse(payload) {
            Ok(j) => j,
            Err(e) => {
                return (
                    Err(jingle::bad_request(&e.text.unwrap_or_default())),
                    Vec::new(),
                );
            }
        };
        let Some(from) = from.cloned() else {
            return (Err(jingle::bad_request("no sender")), Vec::new());
        };
        // The session a one-to-one call's proceed announced.
        if let Some(answer) = self.direct_initiate(&from, &j) {
            return answer;
        }
        let known = self.call.sessions.get(&j.sid).cloned();
        match (&j.action, known) {
            (Action::SessionInitiate, None) => self.stream_offered(from, j),
            (Action::SessionInitiate, Some(_)) => (Err(jingle::out_of_order()), Vec::new()),
            (_, None) => (Err(jingle::unknown_session()), Vec::new()),
            (_, Some(s)) if s.peer.to_bare() != from.to_bare() => {
                (Err(jingle::unknown_session()), Vec::new())
            }
            (Action::SessionAccept, Some(s)) if s.ours => {
                match sdp::to_sdp(&j.session, Role::Responder) {
                    Ok(answer) => {
                        self.media(MediaCmd::RemoteAnswer {
                            sid: j.sid,
                            sdp: answer,
                        });
                        (Ok(None), Vec::new())
                    }
                    Err(e) => {
                        let text = format!("the conference's answer is unusable: {e}");
                        let events = self.end_call(Reason::FailedApplication, &text);
                        (Err(jingle::bad_request(&text)), events)
                    }
                }
            }
            (Action::TransportInfo, Some(_)) => {
                for c in &j.session.contents {
                    for cand in &c.transport.candidates {
                        self.media(MediaCmd::RemoteCandidate {
                            sid: j.sid.clone(),
                            candidate: sdp::candidate_to_sdp(cand),
                            mid: c.name.clone(),
                        });
                    }
                }
                (Ok(None), Vec::new())
            }
            (Action::SessionTerminate, Some(s)) => {
                let why = j
                    .reason
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "ended by the conference".into());
                let events = if s.ours {
                    self.call.sessions.remove(&j.sid);
                    self.end_call(Reason::Success, &why)
                } else {
                    self.call.sessions.remove(&j.sid);
                    self.media(MediaCmd::Close { sid: j.sid.clone() });
                    self.store.calls.stream_removed(&j.sid)
                };
                (Ok(None), events)
            }
            (Action::SessionInfo, Some(_)) if j.info_understood() => (Ok(None), Vec::new()),
            (Action::SessionInfo, Some(_)) => (Err(jingle::unsupported_info()), Vec::new()),
            (_, Some(_)) => (
                Err(iq::error(
                    xmpp_parsers::stanza_error::ErrorType::Cancel,
                    xmpp_parsers::stanza_error::DefinedCondition::FeatureNotImplemented,
                    "confab does not handle this Jingle action",
                )),
                Vec::new(),
            ),
        }
    }

    /// Sends what had to wait for the answer to a request.
    pub(super) fn after_reply(&mut self) {
        for (to, payload) in std::mem::take(&mut self.call.after_reply) {
            self.quiet_iq(to, payload);
        }
    }

    /// The conference starts a session to forward a stream to us.
    fn stream_offered(&mut self, from: Jid, j: jingle::JingleIq) -> (IqAnswer, Vec<Event>) {
        let in_this_call = self.call.direct.is_none()
            && self
                .store
                .calls
                .current
                .as_ref()
                .is_some_and(|c| c.jid == from.to_bare());
        if !in_this_call {
            // Acknowledged, then declined (XEP-0166 §6.3.2).
            self.call.after_reply.push((
                from,
                jingle::session_terminate(&j.sid, Reason::Decline, Some("not in this conference")),
            ));
            return (Ok(None), Vec::new());
        }
        let offer = match sdp::to_sdp(&j.session, Role::Initiator) {
            Ok(o) => o,
            Err(e) => return (Err(jingle::bad_request(&e.to_string())), Vec::new()),
        };
        let entity = j
            .conference
            .as_ref()
            .and_then(|c| c.users.first())
            .map(|u| u.entity.clone())
            .unwrap_or_else(|| from.to_string());
        self.call.sessions.insert(
            j.sid.clone(),
            Signal::answering(from.clone(), j.initiator.clone().unwrap_or(from), false),
        );
        let events = self.store.calls.stream_added(j.sid.clone(), entity.clone());
        self.media(MediaCmd::AcceptStream {
            sid: j.sid,
            entity,
            offer,
        });
        (Ok(None), events)
    }
}

/// The disco#info of `jid` answered a `/call`: an A/V conference is
/// called; a text chat room (XEP-0045) leads to the conference linked to
/// it (`call_service`), once (`follow_link`), else the error says how to
/// link one.
fn call_checked(jid: BareJid, follow_link: bool) -> IqThen {
    IqThen::new(move |app, command, result| {
        let info = result.and_then(|r| rooms::parse_info(r.as_ref()));
        if follow_link && direct::is_user(&jid, info.as_ref()) {
            let jid = jid.clone();
            return IqStep::WithTag(Box::new(move |app: &mut App, tag, command| {
                app.place_direct(tag, command, jid)
            }));
        }
        let info = match info {
            Ok(info) => info,
            Err(e) => return IqStep::Done(vec![App::result(command, Err(e))]),
        };
        let Err(mut e) = jingle::check_av_conference(jid.as_str(), &info) else {
            let jid = jid.clone();
            return IqStep::WithTag(Box::new(move |app: &mut App, tag, command| {
                app.place_call(tag, command, jid)
            }));
        };
        let text_room = jid.node().is_some() && info.is_muc_service();
        if text_room && follow_link {
            if let Some(linked) = app.linked_conference(&jid) {
                return IqStep::Next {
                    events: vec![Event::Info {
                        text: format!(
                            "{jid} is a text chat room: calling its A/V conference {linked}"
                        ),
                    }],
                    to: Some(linked.clone().into()),
                    payload: rooms::info_query(),
                    set: false,
                    then: call_checked(linked, false),
                };
            }
            e.text = Some(format!(
                "{jid} is a text chat room, not an audio/video conference; \
                 /call a conference JID, or set call_service (--call-service) to the \
                 A/V conference service whose rooms go with your chat rooms"
            ));
        }
        IqStep::Done(vec![App::result(command, Err(e))])
    })
}

/// Declares the packet duration we send ([`crate::media::FRAME_DURATION`])
/// on every payload type of our offer that has none (XEP-0167 `ptime`).
fn declare_ptime(session: &mut MediaSession) {
    let ms = crate::media::FRAME_DURATION.as_millis() as u32;
    for c in &mut session.contents {
        if let Some(d) = &mut c.description {
            for p in d.payload_types.iter_mut().filter(|p| p.ptime.is_none()) {
                p.ptime = Some(ms);
            }
        }
    }
}

fn describe_devices(list: &crate::media::DeviceList) -> String {
    let mut out = format!("Audio devices ({}):\n", list.host);
    for (title, devices) in [("Inputs", &list.inputs), ("Outputs", &list.outputs)] {
        out.push_str(title);
        out.push_str(":\n");
        if devices.is_empty() {
            out.push_str("  (none)\n");
        }
        for d in devices {
            let mark = if d.is_default { "*" } else { " " };
            let config = match &d.config {
                Ok(c) => c.clone(),
                Err(e) => format!("unusable: {e}"),
            };
            out.push_str(&format!("{mark} {} — {} ({config})\n", d.id, d.description));
        }
    }
    out.trim_end().to_string()
}

impl App {
    /// Before the program exits: hang up (the conference is told) and hand
    /// back the media task, to wait until the recordings are finished.
    pub fn leave_call(&mut self) -> (Vec<Event>, Option<MediaHandle>) {
        if self.store.calls.current.is_none() {
            // A call ringing here is declined: the caller stops waiting.
            return (self.ringing_gone("declined: confab quit", true), None);
        }
        let events = self.end_call(Reason::Success, "hung up");
        (events, self.call.media.clone())
    }
}

/// The XEP-0166 §7.4 reason for a session our media ended: our own
/// audio (microphone, speaker, recording) is `media-error` ("media
/// processing problems" — specific, and no retry of the connection will
/// help); a WebRTC setup or description we could not use is
/// `failed-application`; only a failed or closed connection is
/// `failed-transport`.
fn jingle_reason(cause: EndCause) -> Reason {
    match cause {
        EndCause::Audio => Reason::MediaError,
        EndCause::Setup => Reason::FailedApplication,
        EndCause::Connection => Reason::FailedTransport,
    }
}

/// The refusal of a call command without a call.
fn no_call(text: &str) -> Box<Event> {
    refuse(text, "item-not-found", "not in a call")
}

mod config;
mod devices;
mod direct;
mod record;
mod rejoin;
#[cfg(test)]
mod tests;
mod voice;
