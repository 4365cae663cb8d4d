//! The media task: owns the WebRTC peers of a call, the capture that feeds
//! our sending session and the playback that the received streams feed.
//! The app drives it with [`MediaCmd`]s (signalling already mapped to SDP)
//! and hears back [`MediaEvent`]s (local descriptions and candidates to
//! signal, connection states, levels, errors). Nothing here knows XMPP.
//!
//! One sending session (ours) and any number of receiving ones, each under
//! its Jingle session id.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::capture::{Capture, CaptureOptions};
use super::denoise::Denoise;
use super::playback::Playback;
use super::recording::{OWN_NAME, Recorder};
use super::rtc::{AudioPeer, ConnectionState, RtcEvent, RtcOptions};
use super::spec::{AudioIn, AudioOut};

/// Frames between two level reports of one stream (5 × 20 ms = 100 ms; the
/// store throttles further).
const LEVEL_EVERY: u64 = 5;

/// How the media task gets and plays audio.
#[derive(Debug, Clone)]
pub struct MediaOptions {
    pub audio_in: AudioIn,
    pub audio_out: AudioOut,
    /// Each received stream also goes to its own WAV here.
    pub out_dir: Option<PathBuf>,
    pub rtc: RtcOptions,
    /// Noise suppression of what is sent (changed by [`MediaCmd::Denoise`]).
    pub denoise: Denoise,
}

impl Default for MediaOptions {
    fn default() -> Self {
        MediaOptions {
            audio_in: AudioIn::Default,
            audio_out: AudioOut::Default,
            out_dir: None,
            rtc: RtcOptions::all_interfaces(),
            denoise: Denoise::default(),
        }
    }
}

/// What the app asks of the media task.
#[derive(Debug)]
pub enum MediaCmd {
    /// Open the capture and make the offer of our sending session `sid`.
    StartSend {
        sid: String,
    },
    /// The answer to our offer.
    RemoteAnswer {
        sid: String,
        sdp: String,
    },
    /// A candidate of the remote side of session `sid` (`candidate:…`).
    RemoteCandidate {
        sid: String,
        candidate: String,
        mid: String,
    },
    /// Accept a stream the conference offers (receive only), labelled
    /// `entity`.
    AcceptStream {
        sid: String,
        entity: String,
        offer: String,
    },
    /// A one-to-one call (XEP-0167 `senders='both'`): our microphone goes
    /// out and the other side's audio, labelled `entity`, is played, on
    /// one session. `offer` `None`: we make the offer (we called); `Some`:
    /// we answer it (we were called).
    StartDirect {
        sid: String,
        entity: String,
        offer: Option<String>,
    },
    /// End one session.
    Close {
        sid: String,
    },
    /// End every session, stop capture and playback; acknowledged once the
    /// recordings are finished.
    Hangup {
        done: Option<oneshot::Sender<()>>,
    },
    Mute(bool),
    Deafen(bool),
    /// Noise suppression from now on (this call and the next).
    Denoise(Denoise),
    /// `/record DIR` (`Some`): record the call into DIR as Ogg Opus;
    /// `/record stop` (`None`). Answered with [`MediaEvent::Recording`].
    Record(Option<PathBuf>),
    /// `/devices input SPEC`: capture from here on, in the running call
    /// (same session, the RTP timestamps go on) and the next ones.
    /// Answered with [`MediaEvent::Device`].
    Input(AudioIn),
    /// `/devices output SPEC`: play to here from now on (this call and the
    /// next). Answered with [`MediaEvent::Device`].
    Output(AudioOut),
}

/// Where a session's end came from (the app picks the Jingle reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    /// Our own audio: the microphone, the speaker, a recording file.
    Audio,
    /// The WebRTC setup, or a description it could not use.
    Setup,
    /// The connection (ICE, DTLS) failed or closed.
    Connection,
}

/// What the media task reports.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaEvent {
    /// Our SDP for session `sid`: the offer of our sending session, the
    /// answer of a receiving one.
    LocalDescription { sid: String, sdp: String },
    /// A local candidate to trickle (`candidate:…`, with its mid).
    LocalCandidate {
        sid: String,
        candidate: String,
        mid: String,
    },
    /// Session `sid` is connected (ICE + DTLS); again after it was
    /// [`MediaEvent::Disconnected`].
    Connected { sid: String },
    /// Session `sid` lost its connection (ICE consent checks went
    /// unanswered: a network drop); it may come back by itself
    /// ([`MediaEvent::Connected`]) or fail ([`MediaEvent::Ended`]).
    Disconnected { sid: String },
    /// Session `sid` failed or closed by itself; `cause` says where.
    Ended {
        sid: String,
        reason: String,
        cause: EndCause,
    },
    /// The level of a received stream (0–1), ~10 times a second.
    Level {
        sid: String,
        level: f32,
        speaking: bool,
    },
    /// Our microphone's level, ~10 times a second; whether a voice is
    /// heard in it when it goes through noise suppression.
    OwnLevel { level: f32, speaking: Option<bool> },
    /// The recording started (`active`, the files so far) or stopped (every
    /// file written); `error` when the command could not be carried out
    /// (nothing changed) or when writing failed.
    Recording {
        active: bool,
        dir: Option<PathBuf>,
        files: Vec<PathBuf>,
        error: Option<String>,
    },
    /// The answer to [`MediaCmd::Input`] (`output` false) or
    /// [`MediaCmd::Output`]: what is used now (`now`: "tone 880 Hz",
    /// "file:b.wav"; `None` when the switch failed and the old device
    /// stayed), and the error, if any (a failed switch; or, after a
    /// switch, finishing the old output file).
    Device {
        output: bool,
        now: Option<String>,
        error: Option<String>,
    },
    /// Something failed for session `sid` (or the call: the microphone,
    /// the speaker); the call goes on where it can.
    Error { sid: Option<String>, text: String },
}

/// The app's end of the media task. Sending never blocks.
#[derive(Debug, Clone)]
pub struct MediaHandle {
    tx: mpsc::UnboundedSender<MediaCmd>,
}

impl MediaHandle {
    /// A handle with the receiving end given back (unit tests).
    pub fn pair() -> (MediaHandle, mpsc::UnboundedReceiver<MediaCmd>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (MediaHandle { tx }, rx)
    }

    /// Queues a command; false when the media task has ended.
    pub fn send(&self, cmd: MediaCmd) -> bool {
        self.tx.send(cmd).is_ok()
    }

    /// Hangs up and waits (at most `limit`) until the recordings are
    /// finished: before the program exits.
    pub async fn shutdown(&self, limit: Duration) {
        let (done, wait) = oneshot::channel();
        if self.send(MediaCmd::Hangup { done: Some(done) }) {
            let _ = tokio::time::timeout(limit, wait).await;
        }
    }
}

/// Starts the media task on the current runtime.
pub fn spawn(options: MediaOptions) -> (MediaHandle, mpsc::UnboundedReceiver<MediaEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    tokio::spawn(
        Engine {
            options,
            events: ev_tx,
            sessions: HashMap::new(),
            capture: None,
            playback: None,
            muted: false,
            deafened: false,
            recorder: Arc::new(Recorder::new()),
        }
        .run(rx),
    );
    (MediaHandle { tx }, ev_rx)
}

struct Session {
    peer: Arc<AudioPeer>,
    /// The task translating the peer's events (and, receiving, reading
    /// its packets).
    task: JoinHandle<()>,
    /// Our sending session's packet pump.
    pump: Option<JoinHandle<()>>,
}

struct Engine {
    options: MediaOptions,
    events: mpsc::UnboundedSender<MediaEvent>,
    sessions: HashMap<String, Session>,
    capture: Option<Capture>,
    playback: Option<Arc<Playback>>,
    muted: bool,
    deafened: bool,
    /// `/record`: shared with the stream readers, the send pump and the
    /// mixer.
    recorder: Arc<Recorder>,
}

impl Engine {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<MediaCmd>) {
        while let Some(cmd) = rx.recv().await {
            self.handle(cmd).await;
        }
        self.hangup().await;
    }

    fn emit(&self, ev: MediaEvent) {
        let _ = self.events.send(ev);
    }

    fn error(&self, sid: Option<&str>, text: impl Into<String>) {
        self.emit(MediaEvent::Error {
            sid: sid.map(str::to_string),
            text: text.into(),
        });
    }

    async fn handle(&mut self, cmd: MediaCmd) {
        match cmd {
            MediaCmd::StartSend { sid } => {
                if let Err((cause, reason)) = self.start_send(&sid).await {
                    self.emit(MediaEvent::Ended { sid, reason, cause });
                }
            }
            MediaCmd::RemoteAnswer { sid, sdp } => {
                let Some(s) = self.sessions.get(&sid) else {
                    return self.error(Some(&sid), "an answer for an unknown session");
                };
                if let Err(e) = s.peer.set_remote_answer(&sdp).await {
                    self.error(Some(&sid), format!("the answer was refused: {e}"));
                    self.close(&sid).await;
                    self.emit(MediaEvent::Ended {
                        sid,
                        reason: "the remote answer was unusable".into(),
                        cause: EndCause::Setup,
                    });
                }
            }
            MediaCmd::RemoteCandidate {
                sid,
                candidate,
                mid,
            } => {
                if let Some(s) = self.sessions.get(&sid)
                    && let Err(e) = s.peer.add_remote_candidate(&candidate, &mid).await
                {
                    self.error(Some(&sid), format!("a remote candidate was refused: {e}"));
                }
            }
            MediaCmd::AcceptStream { sid, entity, offer } => {
                if let Err((cause, reason)) = self.accept(&sid, &entity, &offer).await {
                    self.emit(MediaEvent::Ended { sid, reason, cause });
                }
            }
            MediaCmd::StartDirect { sid, entity, offer } => {
                if let Err((cause, reason)) = self.start_direct(&sid, &entity, offer).await {
                    self.close(&sid).await;
                    self.emit(MediaEvent::Ended { sid, reason, cause });
                }
            }
            MediaCmd::Close { sid } => self.close(&sid).await,
            MediaCmd::Hangup { done } => {
                self.hangup().await;
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            MediaCmd::Mute(m) => {
                self.muted = m;
                if let Some(c) = &self.capture {
                    c.set_muted(m);
                }
            }
            MediaCmd::Record(Some(dir)) => self.start_recording(dir),
            MediaCmd::Record(None) => {
                if !self.stop_recording() {
                    self.emit(MediaEvent::Recording {
                        active: false,
                        dir: None,
                        files: Vec::new(),
                        error: Some("not recording".into()),
                    });
                }
            }
            MediaCmd::Denoise(d) => {
                self.options.denoise = d;
                if let Some(c) = &self.capture {
                    c.set_denoise(d);
                }
            }
            MediaCmd::Input(spec) => {
                let ev = match self.set_input(spec).await {
                    Ok(now) => MediaEvent::Device {
                        output: false,
                        now: Some(now),
                        error: None,
                    },
                    Err(e) => MediaEvent::Device {
                        output: false,
                        now: None,
                        error: Some(e),
                    },
                };
                self.emit(ev);
            }
            MediaCmd::Output(out) => {
                let ev = match self.set_output(out).await {
                    Ok((now, error)) => MediaEvent::Device {
                        output: true,
                        now: Some(now),
                        error,
                    },
                    Err(e) => MediaEvent::Device {
                        output: true,
                        now: None,
                        error: Some(e),
                    },
                };
                self.emit(ev);
            }
            MediaCmd::Deafen(d) => {
                self.deafened = d;
                if let Some(p) = &self.playback {
                    p.set_deafened(d);
                }
            }
        }
    }

    /// Opens the capture (replacing one still open), muted as we are.
    async fn open_capture(
        &mut self,
    ) -> Result<mpsc::Receiver<super::capture::EncodedFrame>, (EndCause, String)> {
        if let Some(old) = self.capture.take() {
            let _ = tokio::task::spawn_blocking(move || old.stop()).await;
        }
        let spec = self.options.audio_in.clone();
        let options = CaptureOptions {
            denoise: self.options.denoise,
            ..CaptureOptions::default()
        };
        let (capture, frames) = tokio::task::spawn_blocking(move || Capture::open(&spec, options))
            .await
            .map_err(|e| (EndCause::Setup, e.to_string()))?
            .map_err(|e| (EndCause::Audio, e.to_string()))?;
        capture.set_muted(self.muted);
        self.capture = Some(capture);
        Ok(frames)
    }

    /// Opens `spec` and hands it to the running capture (or, without one,
    /// closes it again: it was only checked); the next capture opens it.
    /// What is captured now, or why nothing changed.
    async fn set_input(&mut self, spec: AudioIn) -> Result<String, String> {
        let s = spec.clone();
        let source = tokio::task::spawn_blocking(move || super::source::open_source(&s))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let now = source.describe();
        self.options.audio_in = spec;
        match &self.capture {
            Some(c) => c.replace_source(source),
            None => {
                let _ = tokio::task::spawn_blocking(move || drop(source)).await;
            }
        }
        Ok(now)
    }

    /// Switches the running playback to `out` (or, without one, checks
    /// that it could be played to); the next playback opens it. What is
    /// played to now and an error finishing the old output, or why
    /// nothing changed.
    async fn set_output(&mut self, out: AudioOut) -> Result<(String, Option<String>), String> {
        let o = out.clone();
        let old_error = match self.playback.clone() {
            Some(p) => tokio::task::spawn_blocking(move || p.set_output(&o))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?
                .map(|e| format!("finishing the old output: {e}")),
            None => {
                tokio::task::spawn_blocking(move || super::playback::check_output(&o))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                None
            }
        };
        let now = out.to_string();
        self.options.audio_out = out;
        Ok((now, old_error))
    }

    async fn start_send(&mut self, sid: &str) -> Result<(), (EndCause, String)> {
        let frames = self.open_capture().await?;
        let (peer, rtc_events) = AudioPeer::offer(self.options.rtc.clone())
            .await
            .map_err(|e| (EndCause::Setup, format!("WebRTC: {e}")))?;
        let peer = self
            .register(sid, peer, rtc_events, None)
            .await
            .map_err(|e| (EndCause::Setup, e))?;
        self.pump(sid, peer, frames);
        Ok(())
    }

    /// A one-to-one call's session: capture, playback and one two-way
    /// peer (offering, or answering `offer`).
    async fn start_direct(
        &mut self,
        sid: &str,
        entity: &str,
        offer: Option<String>,
    ) -> Result<(), (EndCause, String)> {
        let playback = self.playback().map_err(|e| (EndCause::Audio, e))?;
        let sink = playback
            .add_stream(entity)
            .map_err(|e| (EndCause::Audio, e.to_string()))?;
        let frames = self.open_capture().await?;
        let rtc = self.options.rtc.clone();
        let (peer, rtc_events) = match offer {
            None => AudioPeer::offer_duplex(rtc).await,
            Some(o) => AudioPeer::answer_duplex(rtc, &o).await,
        }
        .map_err(|e| (EndCause::Setup, format!("WebRTC: {e}")))?;
        let peer = self
            .register(sid, peer, rtc_events, Some(sink))
            .await
            .map_err(|e| (EndCause::Setup, e))?;
        self.pump(sid, peer, frames);
        Ok(())
    }

    /// Sends the captured frames on session `sid` (and to the recording).
    fn pump(
        &mut self,
        sid: &str,
        peer: Arc<AudioPeer>,
        mut frames: mpsc::Receiver<super::capture::EncodedFrame>,
    ) {
        let pump = tokio::spawn({
            let events = self.events.clone();
            let recorder = self.recorder.clone();
            let sid = sid.to_string();
            async move {
                let mut n = 0u64;
                while let Some(frame) = frames.recv().await {
                    // The RTP timestamp's offset: the file only needs
                    // its steps.
                    recorder.packet(&sid, OWN_NAME, frame.timestamp as u32, &frame.payload);
                    n += 1;
                    if n.is_multiple_of(LEVEL_EVERY) {
                        let _ = events.send(MediaEvent::OwnLevel {
                            level: frame.level,
                            speaking: frame.speaking,
                        });
                    }
                    // Before the connection is up packets have nowhere to
                    // go; they are dropped, not queued.
                    let _ = peer.send_opus(&frame.payload, frame.duration()).await;
                }
            }
        });
        if let Some(s) = self.sessions.get_mut(sid) {
            s.pump = Some(pump);
        }
    }

    /// Signals a new peer's local description, starts translating its
    /// events (reading into `sink` when it receives) and keeps it as
    /// session `sid`.
    async fn register(
        &mut self,
        sid: &str,
        peer: AudioPeer,
        rtc_events: mpsc::UnboundedReceiver<RtcEvent>,
        sink: Option<super::playback::StreamSink>,
    ) -> Result<Arc<AudioPeer>, String> {
        let peer = Arc::new(peer);
        let sdp = peer.local_sdp().await.map_err(|e| format!("WebRTC: {e}"))?;
        self.emit(MediaEvent::LocalDescription {
            sid: sid.to_string(),
            sdp,
        });
        let task = tokio::spawn(peer_events(
            sid.to_string(),
            rtc_events,
            self.events.clone(),
            sink,
            self.recorder.clone(),
        ));
        self.sessions.insert(
            sid.to_string(),
            Session {
                peer: peer.clone(),
                task,
                pump: None,
            },
        );
        Ok(peer)
    }

    fn playback(&mut self) -> Result<Arc<Playback>, String> {
        if let Some(p) = &self.playback {
            return Ok(p.clone());
        }
        let p = Arc::new(
            Playback::start_recorded(
                &self.options.audio_out,
                self.options.out_dir.as_deref(),
                Some(self.recorder.clone()),
            )
            .map_err(|e| e.to_string())?,
        );
        p.set_deafened(self.deafened);
        self.playback = Some(p.clone());
        Ok(p)
    }

    async fn accept(
        &mut self,
        sid: &str,
        entity: &str,
        offer: &str,
    ) -> Result<(), (EndCause, String)> {
        // The speaker (or the recording) first: without it the stream
        // cannot be played.
        let playback = self.playback().map_err(|e| (EndCause::Audio, e))?;
        let sink = playback
            .add_stream(entity)
            .map_err(|e| (EndCause::Audio, e.to_string()))?;
        let (peer, rtc_events) = AudioPeer::answer(self.options.rtc.clone(), offer)
            .await
            .map_err(|e| (EndCause::Setup, format!("WebRTC: {e}")))?;
        self.register(sid, peer, rtc_events, Some(sink))
            .await
            .map_err(|e| (EndCause::Setup, e))?;
        Ok(())
    }

    async fn close(&mut self, sid: &str) {
        if let Some(s) = self.sessions.remove(sid) {
            if let Some(p) = s.pump {
                p.abort();
            }
            let _ = s.peer.close().await;
            // The reader ends with the peer and finishes its recording.
            let _ = tokio::time::timeout(Duration::from_secs(2), s.task).await;
            self.recorder.end_stream(sid);
        }
        if !self.sessions.values().any(|s| s.pump.is_some())
            && let Some(c) = self.capture.take()
        {
            let _ = tokio::task::spawn_blocking(move || c.stop()).await;
        }
    }

    /// `/record DIR`: the speaker (or sink) is opened if no stream has
    /// done it yet, so that the mix is written from now on.
    fn start_recording(&mut self, dir: PathBuf) {
        let started = self
            .playback()
            .and_then(|_| self.recorder.start(&dir).map_err(|e| e.to_string()));
        self.emit(match started {
            Ok(mix) => MediaEvent::Recording {
                active: true,
                dir: Some(dir),
                files: vec![mix],
                error: None,
            },
            Err(e) => MediaEvent::Recording {
                active: self.recorder.is_recording(),
                dir: self.recorder.dir(),
                files: Vec::new(),
                error: Some(e),
            },
        });
    }

    /// Finishes the recording's files and reports them; false when
    /// nothing was being recorded.
    fn stop_recording(&mut self) -> bool {
        let Some(report) = self.recorder.stop() else {
            return false;
        };
        let error = (!report.errors.is_empty()).then(|| report.errors.join("; "));
        self.emit(MediaEvent::Recording {
            active: false,
            dir: Some(report.dir),
            files: report.files,
            error,
        });
        true
    }

    async fn hangup(&mut self) {
        let sids: Vec<String> = self.sessions.keys().cloned().collect();
        for sid in sids {
            self.close(&sid).await;
        }
        self.stop_recording();
        if let Some(p) = self.playback.take() {
            match Arc::try_unwrap(p) {
                Ok(p) => {
                    if let Err(e) = tokio::task::spawn_blocking(move || p.finish())
                        .await
                        .unwrap_or(Ok(()))
                    {
                        self.error(None, format!("playback: {e}"));
                    }
                }
                // A reader still holds it: it stops when that one ends.
                Err(p) => drop(p),
            }
        }
    }
}

/// Translates one peer's events; on a receiving session also reads the
/// track's packets into `sink` (decode, level, recording) and `recorder`
/// (`/record`).
async fn peer_events(
    sid: String,
    mut rtc: mpsc::UnboundedReceiver<RtcEvent>,
    events: mpsc::UnboundedSender<MediaEvent>,
    mut sink: Option<super::playback::StreamSink>,
    recorder: Arc<Recorder>,
) {
    let mut reader: Option<JoinHandle<Option<super::playback::StreamSink>>> = None;
    while let Some(ev) = rtc.recv().await {
        match ev {
            RtcEvent::LocalCandidate(c) => {
                let _ = events.send(MediaEvent::LocalCandidate {
                    sid: sid.clone(),
                    candidate: c.candidate,
                    mid: c.mid,
                });
            }
            RtcEvent::GatheringComplete => {}
            RtcEvent::State(ConnectionState::Connected) => {
                let _ = events.send(MediaEvent::Connected { sid: sid.clone() });
            }
            RtcEvent::State(ConnectionState::Disconnected) => {
                let _ = events.send(MediaEvent::Disconnected { sid: sid.clone() });
            }
            RtcEvent::State(s @ (ConnectionState::Failed | ConnectionState::Closed)) => {
                let _ = events.send(MediaEvent::Ended {
                    sid: sid.clone(),
                    reason: format!("connection {s}").to_lowercase(),
                    cause: EndCause::Connection,
                });
                break;
            }
            RtcEvent::State(_) => {}
            RtcEvent::Track(mut track) => {
                let Some(mut s) = sink.take() else {
                    continue;
                };
                let events = events.clone();
                let sid = sid.clone();
                let recorder = recorder.clone();
                reader = Some(tokio::spawn(async move {
                    let mut n = 0u64;
                    while let Some(p) = track.next().await {
                        recorder.packet(&sid, s.entity(), p.timestamp, &p.payload);
                        if let Err(e) = s.push_with(p.sequence, &p.payload, &p.redundancy) {
                            let _ = events.send(MediaEvent::Error {
                                sid: Some(sid.clone()),
                                text: e.to_string(),
                            });
                            break;
                        }
                        n += 1;
                        if n.is_multiple_of(LEVEL_EVERY) {
                            let l = s.level();
                            let _ = events.send(MediaEvent::Level {
                                sid: sid.clone(),
                                level: l.level,
                                speaking: l.speaking,
                            });
                        }
                    }
                    recorder.end_stream(&sid);
                    Some(s)
                }));
            }
        }
    }
    // The session is over: finish the stream's recording.
    let finished = match reader {
        // The track ends with the peer; a reader that hangs on is left.
        Some(r) => match tokio::time::timeout(Duration::from_secs(1), r).await {
            Ok(Ok(s)) => s,
            _ => None,
        },
        None => sink,
    };
    if let Some(s) = finished
        && let Err(e) = s.finish()
    {
        let _ = events.send(MediaEvent::Error {
            sid: Some(sid),
            text: e.to_string(),
        });
    }
}
