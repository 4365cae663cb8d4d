//! Calls: `/call`, `/hangup`, `/mute`, `/unmute`, `/deafen`, `/undeafen`,
//! `/devices`, `/callconfig` — XEP-0521 A/V conferences through an SFU.
//!
//! The signalling lives here: our sending session (session-initiate to the
//! conference, its session-accept, trickled transport-info both ways) and
//! the sessions the conference starts towards us, one per forwarded stream
//! (labelled by their XEP-0298 Coin user entity). Descriptions are mapped
//! between Jingle and SDP (`protocol::jingle::sdp`) and handed to the media
//! task (`media::engine`), which does ICE, DTLS-SRTP, Opus and the audio.

use std::collections::HashMap;
use tokio::time::Instant;

use chrono::Utc;
use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::data_forms::DataForm;
use xmpp_parsers::presence::{Presence, Type as PresenceType};

use crate::command::Command;
use crate::media::engine::{MediaCmd, MediaEvent, MediaHandle};
use crate::protocol::iq::IqAnswer;
use crate::protocol::jingle::{self, Action, MediaSession, Reason, Role, sdp};
use crate::protocol::{ErrorInfo, adhoc, iq, ns, rooms};
use crate::session::{SessionCmd, Tag};
use crate::store::Event;

use super::{App, Exec, IqStep, IqThen, OUTCOME_TIMEOUT, Pending, Waiting, err_event, refuse};

/// One Jingle session of the call.
#[derive(Debug, Clone)]
struct Signal {
    /// Where its stanzas go (the conference, or the full JID it called from).
    peer: Jid,
    /// Who initiated it.
    initiator: Jid,
    /// Our sending session (else a stream the conference forwards).
    ours: bool,
    /// The other side knows of it (our session-initiate went out).
    signalled: bool,
    /// Our ICE credentials for transport-info.
    ufrag: Option<String>,
    pwd: Option<String>,
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

    pub(super) fn start_call_command(
        &mut self,
        cmd: Command,
        text: &str,
    ) -> Result<Exec, Box<Event>> {
        let no_call = || refuse(text, "item-not-found", "not in a call");
        match cmd {
            Command::Call { room } => {
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
                let jid = room.clone();
                Ok(self.start_iq(
                    text,
                    Some(room.into()),
                    rooms::info_query(),
                    false,
                    IqThen::new(move |_, command, result| {
                        let checked = result
                            .and_then(|r| rooms::parse_info(r.as_ref()))
                            .and_then(|info| jingle::check_av_conference(jid.as_str(), &info));
                        match checked {
                            Ok(()) => {
                                let jid = jid.clone();
                                IqStep::WithTag(Box::new(move |app: &mut App, tag, command| {
                                    app.place_call(tag, command, jid)
                                }))
                            }
                            Err(e) => IqStep::Done(vec![App::result(command, Err(e))]),
                        }
                    }),
                ))
            }
            Command::Hangup => {
                if self.store.calls.current.is_none() {
                    return Err(no_call());
                }
                let mut events = self.end_call(Reason::Success, "hung up");
                events.push(Event::Ok {
                    command: text.to_string(),
                });
                Ok(Exec::done(events))
            }
            Command::Mute | Command::Unmute => {
                let muted = matches!(cmd, Command::Mute);
                if !self.store.calls.set_muted(muted) {
                    return Err(no_call());
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
            Command::Deafen | Command::Undeafen => {
                let deafened = matches!(cmd, Command::Deafen);
                if !self.store.calls.set_deafened(deafened) {
                    return Err(no_call());
                }
                self.media(MediaCmd::Deafen(deafened));
                Ok(Exec::done(vec![Event::Ok {
                    command: text.to_string(),
                }]))
            }
            Command::Devices => match crate::media::devices() {
                Ok(list) => Ok(Exec::done(vec![
                    Event::Info {
                        text: describe_devices(&list),
                    },
                    Event::Ok {
                        command: text.to_string(),
                    },
                ])),
                Err(e) => Err(refuse(text, "service-unavailable", e.to_string())),
            },
            Command::CallConfig { room, fields } => Ok(self.call_config(text, room, fields)),
            other => Err(refuse(
                text,
                "bad-request",
                format!("/{} is not a call command", other.name()),
            )),
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

    fn new_sid(&mut self) -> String {
        self.call.next_sid += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!(
            "confab-{:x}-{nanos:x}-{}",
            std::process::id(),
            self.call.next_sid
        )
    }

    /// The conference answered disco as an A/V conference: start our
    /// sending session; `/call` ends when it is connected.
    fn place_call(&mut self, tag: Tag, command: String, jid: BareJid) -> Vec<Event> {
        let Some(own) = self.own_jid() else {
            return vec![err_event(&command, "remote-server-not-found", "offline")];
        };
        let sid = self.new_sid();
        let events = self.store.calls.start(jid.clone(), sid.clone(), Utc::now());
        self.call.sessions.insert(
            sid.clone(),
            Signal {
                peer: jid.clone().into(),
                initiator: own,
                ours: true,
                signalled: false,
                ufrag: None,
                pwd: None,
            },
        );
        self.pending.insert(
            tag,
            Pending {
                command,
                waiting: Waiting::Call,
                deadline: Some(Instant::now() + OUTCOME_TIMEOUT),
                sent: true,
            },
        );
        self.call.tag = Some(tag);
        // Directed presence: if we vanish, the server tells the conference.
        self.call_presence(&jid, PresenceType::None);
        self.media(MediaCmd::StartSend { sid });
        events
    }

    fn call_presence(&mut self, to: &BareJid, type_: PresenceType) {
        let presence = Presence::new(type_).with_to(Jid::from(to.clone()));
        let tag = self.wait("", Waiting::Sent, false);
        self.session.send(SessionCmd::Presence {
            presence: Box::new(presence),
            tag,
        });
    }

    /// Ends the call: session-terminate for every session, the media
    /// stops, the store says `ended`; a `/call` still waiting fails.
    fn end_call(&mut self, reason: Reason, text: &str) -> Vec<Event> {
        // Offline there is nobody to tell: the server tells the conference
        // that we are gone.
        let online = self.store.connection == crate::store::Connection::Online;
        if online && let Some(jid) = self.store.calls.current.as_ref().map(|c| c.jid.clone()) {
            self.call_presence(&jid, PresenceType::Unavailable);
        }
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

    /// The connection to the server is lost: the conference will have
    /// dropped us (our directed presence went unavailable), so the call
    /// ends here too.
    pub(super) fn call_lost(&mut self) -> Vec<Event> {
        if self.store.calls.current.is_none() {
            return Vec::new();
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
                    let mut events = self.store.calls.connected(Utc::now());
                    events.extend(self.call_outcome(Ok(())));
                    events
                } else {
                    Vec::new()
                }
            }
            MediaEvent::Ended { sid, reason } => match self.call.sessions.get(&sid) {
                // The media never started (no microphone…).
                Some(s) if s.ours && !s.signalled => {
                    self.end_call(Reason::FailedApplication, &reason)
                }
                Some(s) if s.ours => self.end_call(Reason::FailedTransport, &reason),
                Some(_) => {
                    let mut events = vec![Event::error(
                        "undefined-condition",
                        Some(format!("a stream of the call ended: {reason}")),
                    )];
                    events.extend(self.drop_stream(&sid, Reason::FailedTransport, &reason));
                    events
                }
                None => Vec::new(),
            },
            MediaEvent::Level {
                sid,
                level,
                speaking,
            } => self.store.calls.level(&sid, level, speaking, Utc::now()),
            MediaEvent::OwnLevel { level } => {
                self.store.calls.own_level(level);
                Vec::new()
            }
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
        let writer = if s.ours {
            Role::Initiator
        } else {
            Role::Responder
        };
        let session: MediaSession = match sdp::from_sdp(sdp_text, writer) {
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
        if let Some(c) = session.contents.first() {
            s.ufrag = c.transport.ufrag.clone();
            s.pwd = c.transport.pwd.clone();
        }
        s.signalled = true;
        let s = s.clone();
        if s.ours {
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
        let in_this_call = self
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
            Signal {
                peer: from.clone(),
                initiator: j.initiator.clone().unwrap_or(from),
                ours: false,
                signalled: true,
                ufrag: None,
                pwd: None,
            },
        );
        let events = self.store.calls.stream_added(j.sid.clone(), entity.clone());
        self.media(MediaCmd::AcceptStream {
            sid: j.sid,
            entity,
            offer,
        });
        (Ok(None), events)
    }

    /// `/callconfig ROOM [FIELD=VALUE ...]`: the conference's options
    /// through XEP-0050 on `urn:xmpp:av-conferences:config`.
    fn call_config(&mut self, text: &str, room: BareJid, fields: Vec<(String, String)>) -> Exec {
        let to: Jid = room.clone().into();
        self.start_iq(
            text,
            Some(to.clone()),
            adhoc::execute(ns::AV_CONFERENCES_CONFIG),
            true,
            IqThen::new(move |app, command, result| {
                let cmd = match result.and_then(|r| {
                    r.as_ref()
                        .ok_or_else(|| {
                            ErrorInfo::new("bad-request", Some("an empty answer".into()))
                        })
                        .and_then(adhoc::parse)
                }) {
                    Ok(c) => c,
                    Err(e) => return IqStep::Done(vec![App::result(command, Err(e))]),
                };
                if let Some(e) = cmd.error_text() {
                    return IqStep::Done(vec![err_event(command, "bad-request", e)]);
                }
                let (Some(form), Some(sessionid)) = (cmd.form, cmd.sessionid) else {
                    return IqStep::Done(vec![err_event(
                        command,
                        "bad-request",
                        "the conference sent no configuration form",
                    )]);
                };
                if fields.is_empty() {
                    app.call.config.insert(room.clone(), sessionid);
                    return IqStep::Done(vec![
                        Event::RoomForm {
                            room: room.to_string(),
                            purpose: "callconfig",
                            form: rooms::Form::from(&form),
                        },
                        Event::Ok {
                            command: command.to_string(),
                        },
                    ]);
                }
                match rooms::apply_fields(&form, &fields) {
                    Ok(filled) => IqStep::Next {
                        events: Vec::new(),
                        to: Some(to.clone()),
                        payload: adhoc::submit(ns::AV_CONFERENCES_CONFIG, &sessionid, filled),
                        set: true,
                        then: adhoc_done(),
                    },
                    Err(e) => {
                        app.quiet_iq(
                            to.clone(),
                            adhoc::cancel(ns::AV_CONFERENCES_CONFIG, &sessionid),
                        );
                        IqStep::Done(vec![App::result(command, Err(e))])
                    }
                }
            }),
        )
    }

    /// A form edited in the TUI for `/callconfig`: submitted (`Some`) or
    /// cancelled. `None` when `room` has no configuration session open.
    pub fn finish_call_config(
        &mut self,
        room: &BareJid,
        form: Option<DataForm>,
        text: &str,
    ) -> Option<Exec> {
        let sessionid = self.call.config.remove(room)?;
        let to: Jid = room.clone().into();
        Some(match form {
            Some(form) => self.start_iq(
                text,
                Some(to),
                adhoc::submit(ns::AV_CONFERENCES_CONFIG, &sessionid, form),
                true,
                adhoc_done(),
            ),
            None => self.start_iq(
                text,
                Some(to),
                adhoc::cancel(ns::AV_CONFERENCES_CONFIG, &sessionid),
                true,
                IqThen::ok(),
            ),
        })
    }
}

/// The answer to a submitted ad-hoc form: completed, or its error notes.
fn adhoc_done() -> IqThen {
    IqThen::new(|_, command, result| {
        let r = result.and_then(|r| match r.as_ref().map(adhoc::parse) {
            Some(Ok(c)) => match c.error_text() {
                Some(e) => Err(ErrorInfo::new("not-acceptable", Some(e))),
                None => Ok(()),
            },
            Some(Err(e)) => Err(e),
            None => Ok(()),
        });
        IqStep::Done(vec![App::result(command, r)])
    })
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
            return (Vec::new(), None);
        }
        let events = self.end_call(Reason::Success, "hung up");
        (events, self.call.media.clone())
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::UnboundedReceiver;

    use super::*;
    use crate::protocol::iq::IqRequest;
    use crate::protocol::jingle::{CoinUser, ConferenceInfo};
    use crate::session::SessionEvent;

    const ROOM: &str = "standup@sfu.localhost";

    const OFFER: &str = "v=0\r\n\
        o=- 4242 2 IN IP4 127.0.0.1\r\n\
        s=-\r\n\
        t=0 0\r\n\
        a=group:BUNDLE 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
        c=IN IP4 0.0.0.0\r\n\
        a=mid:0\r\n\
        a=ice-ufrag:Ufrg\r\n\
        a=ice-pwd:pwdpwdpwdpwdpwdpwdpwdpwd\r\n\
        a=fingerprint:sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9\r\n\
        a=setup:actpass\r\n\
        a=rtcp-mux\r\n\
        a=sendonly\r\n\
        a=rtpmap:111 opus/48000/2\r\n\
        a=fmtp:111 minptime=10;useinbandfec=1\r\n";

    struct T {
        app: App,
        cmds: UnboundedReceiver<SessionCmd>,
        media: UnboundedReceiver<MediaCmd>,
    }

    impl T {
        fn new() -> T {
            let (app, cmds) = App::for_tests("alice@localhost", 0);
            let (handle, media) = MediaHandle::pair();
            let mut app = app.with_media(handle);
            app.on_session(SessionEvent::Online {
                jid: "alice@localhost/confab".parse().unwrap(),
                reconnect: false,
            });
            T { app, cmds, media }
        }

        fn cmd(&mut self) -> SessionCmd {
            self.cmds.try_recv().expect("a session command")
        }

        fn media(&mut self) -> MediaCmd {
            self.media.try_recv().expect("a media command")
        }

        fn run(&mut self, line: &str) -> Exec {
            let cmd = crate::command::parse(line).unwrap();
            self.app.execute(cmd, line)
        }

        fn request(&mut self, from: &str, payload: Element) -> (IqAnswer, Vec<Event>) {
            let events = self.app.on_session(SessionEvent::IqRequest(IqRequest {
                from: Some(from.parse().unwrap()),
                id: "r1".into(),
                set: true,
                payload,
            }));
            match self.cmd() {
                SessionCmd::Reply { answer, .. } => (answer, events),
                other => panic!("{other:?}"),
            }
        }

        /// `/call ROOM` answered by disco; returns our sid.
        fn call(&mut self, disco: &str) -> (Tag, Vec<Event>) {
            let exec = self.run(&format!("/call {ROOM}"));
            let tag = exec.pending.expect("waits for disco");
            assert!(matches!(self.cmd(), SessionCmd::Iq { set: false, .. }));
            let events = self.app.on_session(SessionEvent::IqResponse {
                tag,
                result: Ok(Some(disco.parse().unwrap())),
            });
            (tag, events)
        }
    }

    const AV: &str = "<query xmlns='http://jabber.org/protocol/disco#info'>\
        <identity category='conference' type='audio-video'/>\
        <feature var='urn:xmpp:jingle:av-conferences:0'/></query>";

    fn iq_payload(cmd: SessionCmd) -> (Option<Jid>, Element) {
        match cmd {
            SessionCmd::Iq {
                to,
                payload,
                set: true,
                ..
            } => (to, payload),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_media_or_twice_a_call_is_refused() {
        let (mut app, _) = App::for_tests("alice@localhost", 0);
        let line = format!("/call {ROOM}");
        let e = app.execute(crate::command::parse(&line).unwrap(), &line);
        assert_eq!(e.events[0].to_json()["condition"], "service-unavailable");
        let mut t = T::new();
        t.call(AV);
        let e = t.run("/call other@sfu.localhost");
        assert_eq!(e.events[0].to_json()["condition"], "conflict");
        let e = t.run("/mute");
        assert_eq!(e.events.last().unwrap().to_json()["event"], "ok");
        assert!(matches!(t.media(), MediaCmd::StartSend { .. }));
        assert!(matches!(t.media(), MediaCmd::Mute(true)));
    }

    #[test]
    fn a_peer_that_is_not_an_av_conference_is_an_error() {
        let mut t = T::new();
        let (_, events) = t.call(
            "<query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='conference' type='text'/>\
             <feature var='http://jabber.org/protocol/muc'/></query>",
        );
        let e = events[0].to_json();
        assert_eq!(e["event"], "error");
        assert_eq!(e["condition"], "feature-not-implemented");
        assert!(t.media.try_recv().is_err(), "no media started");
        assert!(t.app.store.calls.current.is_none());
    }

    #[test]
    fn a_call_is_signalled_streams_come_and_go_and_hangup_ends_it() {
        let mut t = T::new();
        let (tag, events) = t.call(AV);
        assert_eq!(events[0].to_json()["state"], "connecting");
        // Directed presence to the conference, then our offer is made.
        assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
        let MediaCmd::StartSend { sid } = t.media() else {
            panic!()
        };
        t.app.on_media(MediaEvent::LocalDescription {
            sid: sid.clone(),
            sdp: OFFER.into(),
        });
        let (to, init) = iq_payload(t.cmd());
        assert_eq!(to.unwrap().to_string(), ROOM);
        let j = jingle::parse(&init).unwrap();
        assert_eq!(j.action, Action::SessionInitiate);
        assert_eq!(j.initiator.unwrap().to_string(), "alice@localhost/confab");
        assert_eq!(
            j.session.contents[0].senders,
            jingle::Senders::Initiator,
            "we only send"
        );
        // A trickled candidate goes as transport-info with our ufrag.
        t.app.on_media(MediaEvent::LocalCandidate {
            sid: sid.clone(),
            candidate: "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host".into(),
            mid: "0".into(),
        });
        let (_, info) = iq_payload(t.cmd());
        let j = jingle::parse(&info).unwrap();
        assert_eq!(j.action, Action::TransportInfo);
        assert_eq!(
            j.session.contents[0].transport.ufrag.as_deref(),
            Some("Ufrg")
        );
        assert_eq!(j.session.contents[0].transport.candidates[0].port, 50000);

        // The conference accepts: the answer goes to the media task.
        let accept = jingle::session_accept(
            &sid,
            None,
            &Jid::new(ROOM).unwrap(),
            &sdp::from_sdp(&OFFER.replace("a=sendonly", "a=recvonly"), Role::Responder).unwrap(),
            None,
        );
        let (answer, _) = t.request(ROOM, accept);
        assert!(answer.is_ok());
        assert!(matches!(t.media(), MediaCmd::RemoteAnswer { .. }));
        let events = t.app.on_media(MediaEvent::Connected { sid: sid.clone() });
        assert_eq!(events[0].to_json()["state"], "connected");
        assert_eq!(
            events[1].to_json(),
            serde_json::json!({"event":"ok","command":format!("/call {ROOM}")})
        );
        assert!(!t.app.is_pending(tag));

        // The conference forwards bob's stream.
        let coin = ConferenceInfo {
            isfocus: true,
            users: vec![CoinUser {
                entity: "xmpp:bob@localhost".into(),
                display: None,
            }],
        };
        let offer = sdp::from_sdp(OFFER, Role::Initiator).unwrap();
        let init = jingle::session_initiate("s-bob", &Jid::new(ROOM).unwrap(), &offer, Some(&coin));
        let (answer, events) = t.request(ROOM, init.clone());
        assert!(answer.is_ok());
        assert_eq!(
            events[0].to_json(),
            serde_json::json!({"event":"stream","call":ROOM,"entity":"xmpp:bob@localhost","state":"added"})
        );
        let MediaCmd::AcceptStream { sid: s, entity, .. } = t.media() else {
            panic!()
        };
        assert_eq!(
            (s.as_str(), entity.as_str()),
            ("s-bob", "xmpp:bob@localhost")
        );
        // Twice the same session is out of order.
        let (answer, _) = t.request(ROOM, init);
        assert!(answer.is_err());
        // A session from another conference is acknowledged and declined.
        let other = jingle::session_initiate(
            "s-x",
            &Jid::new("other@sfu.localhost").unwrap(),
            &offer,
            None,
        );
        let (answer, events) = t.request("other@sfu.localhost", other);
        assert!(answer.is_ok() && events.is_empty());
        let (to, term) = iq_payload(t.cmd());
        assert_eq!(to.unwrap().to_string(), "other@sfu.localhost");
        assert_eq!(
            jingle::parse(&term).unwrap().action,
            Action::SessionTerminate
        );
        // Unknown sessions are refused.
        let stray = jingle::session_terminate("nope", Reason::Gone, None);
        let (answer, _) = t.request(ROOM, stray);
        assert!(answer.is_err());

        // Levels arrive throttled in the store; bob hangs up.
        let ev = t.app.on_media(MediaEvent::Level {
            sid: "s-bob".into(),
            level: 0.4,
            speaking: true,
        });
        assert_eq!(ev[0].to_json()["event"], "audio-level");
        let (answer, events) =
            t.request(ROOM, jingle::session_terminate("s-bob", Reason::Gone, None));
        assert!(answer.is_ok());
        assert_eq!(events[0].to_json()["state"], "removed");
        assert!(matches!(t.media(), MediaCmd::Close { .. }));

        // We hang up: unavailable presence, terminate, media stops.
        let exec = t.run("/hangup");
        let names: Vec<String> = exec
            .events
            .iter()
            .map(|e| e.to_json()["event"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["call", "ok"]);
        assert_eq!(exec.events[0].to_json()["state"], "ended");
        assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
        let (_, term) = iq_payload(t.cmd());
        assert_eq!(jingle::parse(&term).unwrap().sid, sid);
        assert!(t.cmds.try_recv().is_err(), "one session left to end");
        assert!(matches!(t.media(), MediaCmd::Hangup { .. }));
        let e = t.run("/hangup");
        assert_eq!(e.events[0].to_json()["condition"], "item-not-found");
    }

    #[test]
    fn a_call_whose_media_cannot_start_fails_without_signalling() {
        let mut t = T::new();
        let (tag, _) = t.call(AV);
        assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
        let MediaCmd::StartSend { sid } = t.media() else {
            panic!()
        };
        let events = t.app.on_media(MediaEvent::Ended {
            sid,
            reason: "no microphone found".into(),
        });
        assert_eq!(events[0].to_json()["state"], "ended");
        let e = events[1].to_json();
        assert_eq!(e["condition"], "service-unavailable");
        assert_eq!(e["text"], "no microphone found");
        assert!(!t.app.is_pending(tag));
        // Only the unavailable presence: the conference never heard of it.
        assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
        assert!(t.cmds.try_recv().is_err());
    }

    #[test]
    fn losing_the_server_ends_the_call_quietly() {
        let mut t = T::new();
        t.call(AV);
        assert!(matches!(t.cmd(), SessionCmd::Presence { .. }));
        let MediaCmd::StartSend { sid } = t.media() else {
            panic!()
        };
        t.app.on_media(MediaEvent::LocalDescription {
            sid: sid.clone(),
            sdp: OFFER.into(),
        });
        iq_payload(t.cmd());
        let events = t.app.on_session(SessionEvent::Disconnected {
            reason: "connection reset".into(),
            retry_in: std::time::Duration::from_secs(1),
        });
        let ended = events
            .iter()
            .map(|e| e.to_json())
            .find(|e| e["event"] == "call")
            .expect("the call ends");
        assert_eq!(ended["state"], "ended");
        assert_eq!(ended["reason"], "the connection to the server was lost");
        assert!(
            events
                .iter()
                .any(|e| e.to_json()["command"] == format!("/call {ROOM}"))
        );
        assert!(t.cmds.try_recv().is_err(), "nothing is sent offline");
        assert!(matches!(t.media(), MediaCmd::Hangup { .. }));
    }

    #[test]
    fn callconfig_form_is_edited_then_submitted_by_adhoc() {
        let mut t = T::new();
        let exec = t.run(&format!("/callconfig {ROOM}"));
        let tag = exec.pending.unwrap();
        let (_, exe) = iq_payload(t.cmd());
        assert_eq!(exe.attr("node"), Some(ns::AV_CONFERENCES_CONFIG));
        let form: DataForm = xmpp_parsers::data_forms::DataForm::try_from(
            "<x xmlns='jabber:x:data' type='form'><field var='max-participants' type='text-single'><value>0</value></field></x>"
                .parse::<Element>()
                .unwrap(),
        )
        .unwrap();
        let response = adhoc::response(
            ns::AV_CONFERENCES_CONFIG,
            "cfg-1",
            adhoc::Status::Executing,
            &[adhoc::Action::Complete],
            Some(form.clone()),
            &[],
        );
        let events = t.app.on_session(SessionEvent::IqResponse {
            tag,
            result: Ok(Some(response)),
        });
        assert_eq!(events[0].to_json()["event"], "room-form");
        assert_eq!(events[0].to_json()["purpose"], "callconfig");
        // The TUI submits the edited form: it goes back by XEP-0050.
        let exec = t
            .app
            .submit_room_form(BareJid::new(ROOM).unwrap(), form, "(form)");
        assert!(exec.pending.is_some());
        let (_, submit) = iq_payload(t.cmd());
        assert_eq!(submit.attr("sessionid"), Some("cfg-1"));
        assert_eq!(submit.attr("action"), Some("complete"));
    }
}
