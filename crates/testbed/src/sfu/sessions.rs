//! The Jingle sessions of the SFU: a participant's call answered
//! receive-only, the forwarded sessions carrying its stream to the others,
//! session-accept/-terminate, the room steps carried out, webrtc events,
//! and the pump that forwards RTP undecoded.

use std::sync::Arc;

use jid::Jid;
use minidom::Element;

use super::super::component::iq_result;
use super::room::{Forward, Refusal, SessionRef, Step};
use super::{Key, Media, Sfu, Targets, bare, iq_error, iq_stanza_error, room_parts};
use confab_media::rtc::{AudioPeer, ConnectionState, RemoteAudio, RtcEvent};
use confab_proto::jingle::sdp;
use confab_proto::jingle::{self, Action, ConferenceInfo, JingleIq, MediaSession, Reason, Role};

impl Sfu {
    pub(super) async fn on_jingle(
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
            Ok::<_, confab_media::rtc::RtcError>((peer, events, answer))
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
            Ok::<_, confab_media::rtc::RtcError>((peer, events, offer))
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

    pub(super) async fn on_iq_error(&mut self, el: &Element) -> Vec<Element> {
        let Some(key) = el.attr("id").and_then(|id| self.pending.remove(id)) else {
            return Vec::new();
        };
        // Our session-initiate (or anything else) was refused: the
        // session is over.
        self.session_ended(&key, false).await
    }

    pub(super) async fn on_gone(&mut self, from: &str) -> Vec<Element> {
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
