//! One-to-one calls: XEP-0353 Jingle Message Initiation rings the other
//! side, then one two-way XEP-0167 session (ICE-UDP, DTLS-SRTP, Opus)
//! carries the audio both ways — the same Jingle ↔ SDP mapping and media
//! task as conference calls (`MediaCmd::StartDirect`).
//!
//! Calling (`/call USER`): `propose` to the user's bare JID (every
//! resource rings); `ringing` is reported; the first `proceed` from one of
//! the user's resources starts our session-initiate to that resource;
//! `reject` ends the call; `/hangup` before an answer sends `retract`.
//!
//! Called: a `propose` is answered `ringing` and shown (`call` event
//! `incoming`; the TUI prompts); `/answer` sends `proceed` to the caller's
//! resource (and `accept` to our own bare JID, so our other resources
//! stop ringing), `/reject` sends `reject`; the session-initiate is taken
//! only from the resource that proposed, with the proposed id.
//!
//! Only the callee's account may ring, proceed or reject our proposal,
//! only the caller's resource may retract or start the session: anything
//! else is ignored. Ids are 128 random bits (`App::new_sid`). One call at
//! a time: a proposal while another call rings or runs is rejected `busy`.

use std::time::Duration;

use chrono::Utc;
use jid::{BareJid, Jid};
use tokio::time::Instant;
use xmpp_parsers::message::Message;

use crate::media::engine::MediaCmd;
use crate::protocol::iq::IqAnswer;
use crate::protocol::jingle::{self, Action, Reason, Role, sdp};
use crate::protocol::jmi::{self, Action as Jmi, CallMessage};
use crate::protocol::{ErrorInfo, rooms};
use crate::session::{SessionCmd, Tag};
use crate::store::Event;

use super::super::{App, Exec, OUTCOME_TIMEOUT, Waiting, refuse};

/// How long a call rings (ours at the callee, theirs here) before it is
/// called off as not answered.
pub const RING_TIMEOUT: Duration = Duration::from_secs(60);
use super::Signal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// We proposed; no answer yet.
    Proposed,
    /// We proposed; the callee's client rings.
    Ringing,
    /// We are called and ring.
    Incoming,
    /// We sent proceed; the caller's session-initiate is awaited.
    Answered,
    /// The Jingle session is under way.
    Session,
}

/// The one-to-one call ringing or under way.
#[derive(Debug, Clone)]
pub(in crate::app) struct Direct {
    sid: String,
    /// The other side's account.
    peer: BareJid,
    /// Their resource: the one that proposed (called), or that proceeded
    /// (calling).
    resource: Option<Jid>,
    stage: Stage,
    /// When ringing gives up, or the session we answered for must have
    /// started (`None` once it has).
    deadline: Option<Instant>,
}

/// Whether `/call JID` rings a user rather than joins a conference: the
/// JID's disco#info says it is an account, or its server refuses to say
/// (a user whose presence we do not share: `service-unavailable`,
/// `subscription-required`). A domain or a room is never a user.
pub(super) fn is_user(jid: &BareJid, info: Result<&rooms::DiscoInfo, &ErrorInfo>) -> bool {
    if jid.node().is_none() {
        return false;
    }
    match info {
        Ok(info) => info.identities.iter().any(|(c, _, _)| c == "account"),
        Err(e) => matches!(
            e.condition.as_str(),
            "service-unavailable" | "subscription-required"
        ),
    }
}

fn entity(peer: &BareJid) -> String {
    format!("xmpp:{peer}")
}

fn ended(peer: &BareJid, reason: String) -> Event {
    Event::Call {
        jid: peer.to_string(),
        state: "ended",
        reason: Some(reason),
    }
}

impl App {
    fn send_jmi(&mut self, to: Jid, sid: &str, action: Jmi, reason: Option<&str>) -> Tag {
        let tag = self.tag();
        self.send_call_message(tag, jmi::build(to, sid, &action, reason));
        tag
    }

    fn send_call_message(&mut self, tag: Tag, message: Message) {
        self.session.send(SessionCmd::Message {
            message: Box::new(message),
            room: None,
            tag,
        });
    }

    /// `/call USER`: the proposal goes out; the command ends when it is
    /// sent, the call's events tell the rest (`proposed`, `ringing`,
    /// `connecting`, `connected`, or `ended` with the reason).
    pub(super) fn place_direct(&mut self, tag: Tag, command: String, jid: BareJid) -> Vec<Event> {
        if self.store.calls.current.is_some() || self.call.direct.is_some() {
            return vec![super::super::err_event(
                &command,
                "conflict",
                "already in a call; /hangup first",
            )];
        }
        let sid = self.new_sid();
        let events = self
            .store
            .calls
            .start_as(jid.clone(), sid.clone(), Utc::now(), "proposed");
        self.store.calls.set_direct();
        self.call.direct = Some(Direct {
            sid: sid.clone(),
            peer: jid.clone(),
            resource: None,
            stage: Stage::Proposed,
            deadline: Some(Instant::now() + RING_TIMEOUT),
        });
        self.wait_as(tag, &command, Waiting::Sent, false);
        let propose = Jmi::Propose {
            media: vec!["audio".into()],
        };
        self.send_call_message(tag, jmi::build(jid.into(), &sid, &propose, None));
        events
    }

    /// `/answer`: the call that rings is taken.
    pub(in crate::app) fn start_answer(&mut self, text: &str) -> Result<Exec, Box<Event>> {
        let Some(d) = self
            .call
            .direct
            .clone()
            .filter(|d| d.stage == Stage::Incoming)
        else {
            return Err(refuse(text, "item-not-found", "no call is ringing"));
        };
        let Some(from) = d.resource.clone() else {
            return Err(refuse(text, "item-not-found", "no call is ringing"));
        };
        if let Some(own) = self.store.jid.clone() {
            // Our other resources stop ringing.
            self.send_jmi(own.to_bare().into(), &d.sid, Jmi::Accept, None);
        }
        let tag = self.wait(text, Waiting::Sent, false);
        self.send_call_message(tag, jmi::build(from, &d.sid, &Jmi::Proceed, None));
        let mut events = self
            .store
            .calls
            .start(d.peer.clone(), d.sid.clone(), Utc::now());
        self.store.calls.set_direct();
        events.extend(
            self.store
                .calls
                .stream_added(d.sid.clone(), entity(&d.peer)),
        );
        if let Some(d) = &mut self.call.direct {
            d.stage = Stage::Answered;
            d.deadline = Some(Instant::now() + OUTCOME_TIMEOUT);
        }
        Ok(Exec {
            events,
            pending: Some(tag),
        })
    }

    /// `/reject`: the call that rings is declined.
    pub(in crate::app) fn start_reject(&mut self, text: &str) -> Result<Exec, Box<Event>> {
        let Some(d) = self
            .call
            .direct
            .clone()
            .filter(|d| d.stage == Stage::Incoming)
        else {
            return Err(refuse(text, "item-not-found", "no call is ringing"));
        };
        self.call.direct = None;
        let tag = self.wait(text, Waiting::Sent, false);
        if let Some(from) = d.resource {
            self.send_call_message(tag, jmi::build(from, &d.sid, &Jmi::Reject, Some("decline")));
        }
        Ok(Exec {
            events: vec![ended(&d.peer, "declined".into())],
            pending: Some(tag),
        })
    }

    /// The call ends (`end_call`): ringing is called off, a session that
    /// ran is finished.
    pub(super) fn direct_over(&mut self, d: &Direct, reason: &Reason) {
        let to = d.resource.clone().unwrap_or_else(|| d.peer.clone().into());
        match d.stage {
            Stage::Proposed | Stage::Ringing => {
                self.send_jmi(d.peer.clone().into(), &d.sid, Jmi::Retract, Some("cancel"));
            }
            Stage::Incoming => {
                self.send_jmi(to, &d.sid, Jmi::Reject, Some("decline"));
            }
            Stage::Answered | Stage::Session => {
                let why = jingle::reason_name(reason);
                self.send_jmi(to, &d.sid, Jmi::Finish, Some(&why));
            }
        }
    }

    /// A XEP-0353 message.
    pub(in crate::app) fn on_call_message(&mut self, m: CallMessage) -> Vec<Event> {
        let own = self.store.jid.as_ref().map(|j| j.to_bare());
        if let Jmi::Propose { media } = &m.action {
            return self.proposed_to_us(m.clone(), media);
        }
        let Some(d) = self.call.direct.clone().filter(|d| d.sid == m.sid) else {
            return Vec::new();
        };
        let from_peer = m.from.to_bare() == d.peer;
        let from_caller = d.resource.as_ref() == Some(&m.from);
        match (&m.action, d.stage) {
            (Jmi::Ringing, Stage::Proposed) if from_peer => {
                self.set_stage(Stage::Ringing);
                vec![Event::Call {
                    jid: d.peer.to_string(),
                    state: "ringing",
                    reason: None,
                }]
            }
            (Jmi::Proceed, Stage::Proposed | Stage::Ringing) if from_peer => {
                self.proceeded(d, m.from)
            }
            (Jmi::Reject, Stage::Proposed | Stage::Ringing) if from_peer => {
                let why = match m.reason.as_deref() {
                    Some("busy") => format!("{} is busy", d.peer),
                    _ => format!("{} declined the call", d.peer),
                };
                self.call.direct = None;
                self.store.calls.ended(Some(why))
            }
            (Jmi::Retract, Stage::Incoming) if from_caller => {
                self.call.direct = None;
                vec![ended(&d.peer, "called off by the caller".into())]
            }
            // Another of our resources took the call, or declined it.
            (Jmi::Accept | Jmi::Reject, Stage::Incoming) if own == Some(m.from.to_bare()) => {
                self.call.direct = None;
                vec![ended(&d.peer, "answered on another device".into())]
            }
            // Anything else (a forged proceed, a second resource's answer,
            // a finish: the session's terminate ends it) changes nothing.
            _ => Vec::new(),
        }
    }

    fn set_stage(&mut self, stage: Stage) {
        if let Some(d) = &mut self.call.direct {
            d.stage = stage;
            if stage == Stage::Session {
                d.deadline = None;
            }
        }
    }

    /// When [`App::direct_due`] has something to do.
    pub(in crate::app) fn direct_deadline(&self) -> Option<Instant> {
        self.call.direct.as_ref().and_then(|d| d.deadline)
    }

    /// A call that rang too long is called off (ours: retracted; theirs:
    /// missed); a session we answered for that never started ends.
    pub(in crate::app) fn direct_due(&mut self, now: Instant) -> Vec<Event> {
        let Some(d) = self.call.direct.clone() else {
            return Vec::new();
        };
        if d.deadline.is_none_or(|t| t > now) {
            return Vec::new();
        }
        match d.stage {
            Stage::Proposed | Stage::Ringing => self.end_call(
                Reason::Timeout,
                &format!(
                    "{} did not answer within {} s",
                    d.peer,
                    RING_TIMEOUT.as_secs()
                ),
            ),
            Stage::Incoming => {
                self.call.direct = None;
                vec![ended(&d.peer, format!("missed call from {}", d.peer))]
            }
            Stage::Answered => self.end_call(
                Reason::Timeout,
                &format!(
                    "{} did not start the call within {} s",
                    d.peer,
                    OUTCOME_TIMEOUT.as_secs()
                ),
            ),
            Stage::Session => Vec::new(),
        }
    }

    /// A proposal to us: it rings, unless we cannot take it.
    fn proposed_to_us(&mut self, m: CallMessage, media: &[String]) -> Vec<Event> {
        let own = self.store.jid.as_ref().map(|j| j.to_bare());
        if m.delayed {
            // Stored while we were away: it rang then, not now.
            return vec![Event::Info {
                text: format!("missed call from {}", m.from.to_bare()),
            }];
        }
        if own == Some(m.from.to_bare()) {
            // Our own account calling itself (another resource): not ours
            // to answer.
            return Vec::new();
        }
        let busy = self.store.calls.current.is_some() || self.call.direct.is_some();
        let refusal = if busy {
            Some("busy")
        } else if self.call.media.is_none() || !media.iter().any(|k| k == "audio") {
            Some("unsupported-applications")
        } else {
            None
        };
        if let Some(r) = refusal {
            // The same proposal again (a second copy) is not a second call.
            if self.call.direct.as_ref().is_some_and(|d| d.sid == m.sid) {
                return Vec::new();
            }
            self.send_jmi(m.from.clone(), &m.sid, Jmi::Reject, Some(r));
            return vec![Event::Info {
                text: format!("{} called; refused ({r})", m.from.to_bare()),
            }];
        }
        let peer = m.from.to_bare();
        self.call.direct = Some(Direct {
            sid: m.sid.clone(),
            peer: peer.clone(),
            resource: Some(m.from.clone()),
            stage: Stage::Incoming,
            deadline: Some(Instant::now() + RING_TIMEOUT),
        });
        self.send_jmi(m.from, &m.sid, Jmi::Ringing, None);
        vec![Event::Call {
            jid: peer.to_string(),
            state: "incoming",
            reason: None,
        }]
    }

    /// The callee's resource `from` took our call: our offer goes to it.
    fn proceeded(&mut self, d: Direct, from: Jid) -> Vec<Event> {
        let Some(own) = self.own_jid() else {
            return Vec::new();
        };
        if let Some(x) = &mut self.call.direct {
            x.resource = Some(from.clone());
            x.stage = Stage::Session;
        }
        self.call
            .sessions
            .insert(d.sid.clone(), Signal::our_offer(from, own));
        let mut events = vec![Event::Call {
            jid: d.peer.to_string(),
            state: "connecting",
            reason: None,
        }];
        events.extend(
            self.store
                .calls
                .stream_added(d.sid.clone(), entity(&d.peer)),
        );
        self.media(MediaCmd::StartDirect {
            sid: d.sid,
            entity: entity(&d.peer),
            offer: None,
        });
        events
    }

    /// A session-initiate for the call we answered: taken only from the
    /// resource that proposed, with the proposed id. `None`: not about a
    /// one-to-one call (the conference code takes it).
    pub(super) fn direct_initiate(
        &mut self,
        from: &Jid,
        j: &jingle::JingleIq,
    ) -> Option<(IqAnswer, Vec<Event>)> {
        let d = self.call.direct.clone()?;
        if j.action != Action::SessionInitiate {
            return None;
        }
        if d.sid != j.sid || d.stage != Stage::Answered || d.resource.as_ref() != Some(from) {
            // Nobody else starts sessions with us while a call is on.
            return Some((Err(jingle::unknown_session()), Vec::new()));
        }
        let offer = match sdp::to_sdp(&j.session, Role::Initiator) {
            Ok(o) => o,
            Err(e) => {
                let text = format!("the caller's offer is unusable: {e}");
                let events = self.end_call(Reason::FailedApplication, &text);
                return Some((Err(jingle::bad_request(&text)), events));
            }
        };
        self.set_stage(Stage::Session);
        self.call.sessions.insert(
            d.sid.clone(),
            Signal::answering(
                from.clone(),
                j.initiator.clone().unwrap_or_else(|| from.clone()),
                true,
            ),
        );
        self.media(MediaCmd::StartDirect {
            sid: d.sid,
            entity: entity(&d.peer),
            offer: Some(offer),
        });
        Some((Ok(None), Vec::new()))
    }

    /// A message bounced: our proposal could not reach the user (no such
    /// account, …): the call ends with the reason. `None`: not ours.
    pub(in crate::app) fn call_message_error(
        &mut self,
        from: Option<&Jid>,
        id: Option<&str>,
        error: &ErrorInfo,
    ) -> Option<Vec<Event>> {
        let d = self.call.direct.as_ref()?;
        let ours = id.is_some_and(|i| i.starts_with(&format!("jmi-{}-", d.sid)))
            && from.is_some_and(|f| f.to_bare() == d.peer);
        if !ours || !matches!(d.stage, Stage::Proposed | Stage::Ringing) {
            return None;
        }
        let why = format!(
            "{} cannot be called: {}",
            d.peer,
            error
                .text
                .clone()
                .unwrap_or_else(|| error.condition.clone())
        );
        self.call.direct = None;
        Some(self.store.calls.ended(Some(why)))
    }

    /// A call ringing here goes unanswered: declined (`tell`: the caller
    /// is sent `reject`), the ringing ends with `why`.
    pub(super) fn ringing_gone(&mut self, why: &str, tell: bool) -> Vec<Event> {
        let Some(d) = self.call.direct.take_if(|d| d.stage == Stage::Incoming) else {
            return Vec::new();
        };
        if tell && let Some(from) = d.resource.clone() {
            self.send_jmi(from, &d.sid, Jmi::Reject, Some("decline"));
        }
        vec![ended(&d.peer, why.to_string())]
    }

    /// Whether a call rings here, unanswered.
    pub(super) fn ringing_here(&self) -> bool {
        self.call
            .direct
            .as_ref()
            .is_some_and(|d| d.stage == Stage::Incoming)
    }
}

#[cfg(test)]
mod tests;
