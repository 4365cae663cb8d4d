//! One-way Opus audio sessions over WebRTC (webrtc-rs 0.21).
//!
//! A small layer over the async `webrtc` crate (itself a thin async layer over
//! the sans-IO `rtc` crate) for the two kinds of session an XEP-0521 call
//! uses: the **sending** side is always the SDP *offerer* (the Jingle
//! initiator, `senders='initiator'`) with one send-only Opus track; the
//! **receiving** side is the *answerer* to a remote offer, receive-only.
//!
//! Signalling stays outside: the caller moves SDP and trickled candidates
//! (as `candidate:` attribute strings plus the `mid` of their m-line) through
//! Jingle (see `protocol::jingle` for the Jingle↔SDP mapping).
//!
//! ```text
//! let (tx, mut tx_events) = AudioPeer::offer(RtcOptions::loopback()).await?;
//! let offer = tx.local_sdp().await?;            // → session-initiate
//! let (rx, mut rx_events) = AudioPeer::answer(RtcOptions::loopback(), &offer).await?;
//! tx.set_remote_answer(&rx.local_sdp().await?).await?; // ← session-accept
//! // RtcEvent::LocalCandidate both ways → add_remote_candidate (transport-info)
//! tx.send_opus(&packet, Duration::from_millis(20)).await?;
//! // RtcEvent::Track(RemoteAudio) on the receiver → .next().await
//! ```
//!
//! For an SFU, [`AudioPeer::forward`] writes a packet received on one
//! session into another without decoding it (`TrackLocalStaticRTP`), only
//! rewriting the SSRC and payload type the outgoing session negotiated.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceCandidateInit, RTCIceGatheringState, RTCPeerConnectionIceEvent, RTCSessionDescription,
    Registry, configure_rtcp_reports,
};

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

pub use webrtc::peer_connection::RTCPeerConnectionState as ConnectionState;

/// The RTP payload type we offer Opus with (the same as browsers use).
pub const OPUS_PAYLOAD_TYPE: u8 = 111;
/// Opus RTP clock rate (RFC 7587: always 48 kHz).
pub const OPUS_CLOCK_RATE: u32 = 48_000;
/// Opus channel count declared in SDP (RFC 7587: always 2).
pub const OPUS_CHANNELS: u16 = 2;
/// The Opus `a=fmtp` parameters we declare.
pub const OPUS_FMTP: &str = "minptime=10;useinbandfec=1";

/// Errors from the WebRTC layer, as text (the `webrtc` error type is not
/// something callers can act on beyond showing it).
#[derive(Debug, thiserror::Error)]
pub enum RtcError {
    /// webrtc-rs reported an error.
    #[error("webrtc: {context}: {message}")]
    WebRtc {
        /// What we were doing.
        context: &'static str,
        /// webrtc-rs' message.
        message: String,
    },
    /// The operation does not fit this peer's role (e.g. sending on a
    /// receive-only session).
    #[error("webrtc: {0}")]
    Usage(&'static str),
}

fn wrap<T>(context: &'static str, r: webrtc::error::Result<T>) -> Result<T, RtcError> {
    r.map_err(|e| RtcError::WebRtc {
        context,
        message: e.to_string(),
    })
}

/// Where the peer binds its UDP sockets (its host candidates).
#[derive(Debug, Clone)]
pub struct RtcOptions {
    /// `ip:port` strings; port 0 picks a free port. `0.0.0.0:0` expands to
    /// every interface.
    pub udp_addrs: Vec<String>,
}

impl RtcOptions {
    /// Host candidates on 127.0.0.1 only (tests, local peers).
    pub fn loopback() -> Self {
        RtcOptions {
            udp_addrs: vec!["127.0.0.1:0".to_string()],
        }
    }

    /// Host candidates on every interface.
    pub fn all_interfaces() -> Self {
        RtcOptions {
            udp_addrs: vec!["0.0.0.0:0".to_string()],
        }
    }
}

/// A trickled local ICE candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCandidate {
    /// The SDP candidate attribute, `candidate:…` (RFC 8839 §5.1).
    pub candidate: String,
    /// The `mid` of the m-line it belongs to.
    pub mid: String,
}

/// One received RTP packet (Opus payload untouched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpAudio {
    /// Sender's SSRC.
    pub ssrc: u32,
    /// RTP sequence number.
    pub sequence: u16,
    /// RTP timestamp (48 kHz clock for Opus).
    pub timestamp: u32,
    /// RTP payload type.
    pub payload_type: u8,
    /// Marker bit (start of a talk spurt for audio).
    pub marker: bool,
    /// The Opus packet.
    pub payload: Vec<u8>,
}

/// A remote track on a receiving session: the packets as they arrive.
#[derive(Debug)]
pub struct RemoteAudio {
    /// The track's first SSRC (0 if none was known yet).
    pub ssrc: u32,
    /// Codec MIME type as negotiated (e.g. `audio/opus`), if known.
    pub mime_type: Option<String>,
    rx: mpsc::UnboundedReceiver<RtpAudio>,
}

impl RemoteAudio {
    /// The next packet; `None` once the track or the session has ended.
    pub async fn next(&mut self) -> Option<RtpAudio> {
        self.rx.recv().await
    }

    /// A packet if one is waiting (never blocks).
    pub fn try_next(&mut self) -> Option<RtpAudio> {
        self.rx.try_recv().ok()
    }
}

/// What a peer reports while it runs.
#[derive(Debug)]
pub enum RtcEvent {
    /// A local candidate to trickle to the remote side (Jingle transport-info).
    LocalCandidate(LocalCandidate),
    /// Local candidate gathering finished.
    GatheringComplete,
    /// The connection state changed (Connected, Failed, Closed …).
    State(ConnectionState),
    /// A remote track started (receiving side).
    Track(RemoteAudio),
}

/// Sending state: the local track and our RTP counters.
struct SendState {
    track: Arc<TrackLocalStaticRTP>,
    sender: Arc<dyn webrtc::rtp_transceiver::RtpSender>,
    ssrc: u32,
    counters: Mutex<Counters>,
}

struct Counters {
    sequence: u16,
    timestamp: u32,
    first: bool,
    payload_type: Option<u8>,
}

/// One WebRTC peer connection carrying one-way audio.
pub struct AudioPeer {
    pc: Arc<dyn PeerConnection>,
    send: Option<SendState>,
    mid: Arc<StdMutex<String>>,
    /// Remote candidates that arrived before the remote description.
    pending: Mutex<PendingRemote>,
}

#[derive(Default)]
struct PendingRemote {
    have_remote: bool,
    candidates: Vec<RTCIceCandidateInit>,
}

/// A random-enough u32 without a `rand` dependency (SSRCs, initial counters).
fn random_u32() -> u32 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    (h.finish() >> 16) as u32
}

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: OPUS_CLOCK_RATE,
        channels: OPUS_CHANNELS,
        sdp_fmtp_line: OPUS_FMTP.to_owned(),
        rtcp_feedback: vec![],
    }
}

/// The `mid` of the first m-line of an SDP, if any.
pub fn first_mid(sdp: &str) -> Option<String> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix("a=mid:"))
        .map(str::to_string)
}

type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Turns webrtc-rs callbacks into [`RtcEvent`]s on a channel.
///
/// The trait is declared with `#[async_trait]`; these are its expanded
/// signatures (confab does not depend on the `async-trait` macro crate).
struct Handler {
    events: mpsc::UnboundedSender<RtcEvent>,
    mid: Arc<StdMutex<String>>,
}

impl PeerConnectionEventHandler for Handler {
    fn on_ice_candidate<'life0, 'async_trait>(
        &'life0 self,
        event: RTCPeerConnectionIceEvent,
    ) -> BoxFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            // Only component 1: we always use rtcp-mux.
            if event.candidate.component > 1 {
                return;
            }
            if let Ok(init) = event.candidate.to_json() {
                let mid = self.mid.lock().map(|m| m.clone()).unwrap_or_default();
                let _ = self.events.send(RtcEvent::LocalCandidate(LocalCandidate {
                    candidate: init.candidate,
                    mid,
                }));
            }
        })
    }

    fn on_ice_gathering_state_change<'life0, 'async_trait>(
        &'life0 self,
        state: RTCIceGatheringState,
    ) -> BoxFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            if state == RTCIceGatheringState::Complete {
                let _ = self.events.send(RtcEvent::GatheringComplete);
            }
        })
    }

    fn on_connection_state_change<'life0, 'async_trait>(
        &'life0 self,
        state: ConnectionState,
    ) -> BoxFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let _ = self.events.send(RtcEvent::State(state));
        })
    }

    fn on_track<'life0, 'async_trait>(
        &'life0 self,
        track: Arc<dyn TrackRemote>,
    ) -> BoxFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let ssrc = track.ssrcs().await.first().copied().unwrap_or(0);
            let mime_type = track.codec(ssrc).await.map(|c| c.mime_type);
            let (tx, rx) = mpsc::unbounded_channel();
            let _ = self.events.send(RtcEvent::Track(RemoteAudio {
                ssrc,
                mime_type,
                rx,
            }));
            tokio::spawn(async move {
                while let Some(event) = track.poll().await {
                    match event {
                        TrackRemoteEvent::OnRtpPacket(p) => {
                            let audio = RtpAudio {
                                ssrc: p.header.ssrc,
                                sequence: p.header.sequence_number,
                                timestamp: p.header.timestamp,
                                payload_type: p.header.payload_type,
                                marker: p.header.marker,
                                payload: p.payload.to_vec(),
                            };
                            if tx.send(audio).is_err() {
                                break;
                            }
                        }
                        TrackRemoteEvent::OnEnded => break,
                        _ => {}
                    }
                }
            });
        })
    }
}

async fn build_pc(
    options: &RtcOptions,
    handler: Handler,
) -> Result<Arc<dyn PeerConnection>, RtcError> {
    let mut media = MediaEngine::default();
    wrap(
        "registering Opus",
        media.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: opus_codec(),
                payload_type: OPUS_PAYLOAD_TYPE,
            },
            RtpCodecKind::Audio,
        ),
    )?;
    // Sender/receiver reports only: no header extensions, no NACK/TWCC, so
    // the SDP stays small and maps cleanly onto Jingle.
    let registry = configure_rtcp_reports(Registry::new());
    let pc = wrap(
        "creating peer connection",
        PeerConnectionBuilder::new()
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(handler))
            .with_udp_addrs(options.udp_addrs.clone())
            .build()
            .await,
    )?;
    Ok(Arc::new(pc))
}

impl AudioPeer {
    /// A sending peer: one send-only Opus track (48000/2, [`OPUS_FMTP`]),
    /// with the offer already created and set locally (gathering has begun;
    /// candidates follow as [`RtcEvent::LocalCandidate`]).
    pub async fn offer(
        options: RtcOptions,
    ) -> Result<(AudioPeer, mpsc::UnboundedReceiver<RtcEvent>), RtcError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mid = Arc::new(StdMutex::new(String::from("0")));
        let pc = build_pc(
            &options,
            Handler {
                events: tx,
                mid: mid.clone(),
            },
        )
        .await?;
        let ssrc = random_u32();
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            format!("confab-{ssrc:08x}"),
            format!("audio-{ssrc:08x}"),
            "audio".to_string(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: opus_codec(),
                ..Default::default()
            }],
        )));
        let transceiver = wrap(
            "adding audio track",
            pc.add_transceiver_from_track(
                track.clone() as Arc<dyn TrackLocal>,
                Some(RTCRtpTransceiverInit {
                    direction: RTCRtpTransceiverDirection::Sendonly,
                    ..Default::default()
                }),
            )
            .await,
        )?;
        let sender = wrap("getting RTP sender", transceiver.sender().await)?
            .ok_or(RtcError::Usage("the audio transceiver has no sender"))?;
        let offer = wrap("creating offer", pc.create_offer(None).await)?;
        if let Some(m) = first_mid(&offer.sdp)
            && let Ok(mut slot) = mid.lock()
        {
            *slot = m;
        }
        wrap("setting local offer", pc.set_local_description(offer).await)?;
        let peer = AudioPeer {
            pc,
            send: Some(SendState {
                track,
                sender,
                ssrc,
                counters: Mutex::new(Counters {
                    sequence: random_u32() as u16,
                    timestamp: random_u32(),
                    first: true,
                    payload_type: None,
                }),
            }),
            mid,
            pending: Mutex::new(PendingRemote::default()),
        };
        Ok((peer, rx))
    }

    /// A receiving peer answering `remote_offer` (SDP). Whatever the offer
    /// sends arrives as [`RtcEvent::Track`]; we send nothing.
    pub async fn answer(
        options: RtcOptions,
        remote_offer: &str,
    ) -> Result<(AudioPeer, mpsc::UnboundedReceiver<RtcEvent>), RtcError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mid = Arc::new(StdMutex::new(
            first_mid(remote_offer).unwrap_or_else(|| "0".to_string()),
        ));
        let pc = build_pc(
            &options,
            Handler {
                events: tx,
                mid: mid.clone(),
            },
        )
        .await?;
        let offer = wrap(
            "parsing remote offer",
            RTCSessionDescription::offer(remote_offer.to_string()),
        )?;
        wrap(
            "setting remote offer",
            pc.set_remote_description(offer).await,
        )?;
        // Receive only: whatever we did not offer to send we do not send.
        for t in pc.get_transceivers().await {
            let _ = t.set_direction(RTCRtpTransceiverDirection::Recvonly).await;
        }
        let answer = wrap("creating answer", pc.create_answer(None).await)?;
        if let Some(m) = first_mid(&answer.sdp)
            && let Ok(mut slot) = mid.lock()
        {
            *slot = m;
        }
        wrap(
            "setting local answer",
            pc.set_local_description(answer).await,
        )?;
        let peer = AudioPeer {
            pc,
            send: None,
            mid,
            pending: Mutex::new(PendingRemote {
                have_remote: true,
                candidates: Vec::new(),
            }),
        };
        Ok((peer, rx))
    }

    /// Our local SDP (offer or answer), with whatever candidates were
    /// gathered so far.
    pub async fn local_sdp(&self) -> Result<String, RtcError> {
        self.pc
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or(RtcError::Usage("no local description yet"))
    }

    /// The `mid` of our audio m-line.
    pub fn mid(&self) -> String {
        self.mid.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Whether this peer sends (offerer) rather than receives.
    pub fn is_sender(&self) -> bool {
        self.send.is_some()
    }

    /// The SSRC we send with (sending side).
    pub fn local_ssrc(&self) -> Option<u32> {
        self.send.as_ref().map(|s| s.ssrc)
    }

    /// The remote answer (sending side), then any candidates that arrived
    /// before it.
    pub async fn set_remote_answer(&self, sdp: &str) -> Result<(), RtcError> {
        let answer = wrap(
            "parsing remote answer",
            RTCSessionDescription::answer(sdp.to_string()),
        )?;
        wrap(
            "setting remote answer",
            self.pc.set_remote_description(answer).await,
        )?;
        let queued = {
            let mut pending = self.pending.lock().await;
            pending.have_remote = true;
            std::mem::take(&mut pending.candidates)
        };
        for c in queued {
            wrap(
                "adding remote candidate",
                self.pc.add_ice_candidate(c).await,
            )?;
        }
        Ok(())
    }

    /// A remote candidate (`candidate:…` or the bare attribute value) for
    /// the m-line `mid`. Queued until the remote description is set.
    pub async fn add_remote_candidate(&self, candidate: &str, mid: &str) -> Result<(), RtcError> {
        let candidate = if candidate.starts_with("candidate:") {
            candidate.to_string()
        } else {
            format!("candidate:{candidate}")
        };
        let init = RTCIceCandidateInit {
            candidate,
            sdp_mid: Some(mid.to_string()),
            sdp_mline_index: Some(0),
            ..Default::default()
        };
        {
            let mut pending = self.pending.lock().await;
            if !pending.have_remote {
                pending.candidates.push(init);
                return Ok(());
            }
        }
        wrap(
            "adding remote candidate",
            self.pc.add_ice_candidate(init).await,
        )
    }

    async fn payload_type(&self, send: &SendState, counters: &mut Counters) -> u8 {
        if let Some(pt) = counters.payload_type {
            return pt;
        }
        let negotiated = send.sender.get_parameters().await.ok().and_then(|p| {
            p.rtp_parameters
                .codecs
                .iter()
                .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(MIME_TYPE_OPUS))
                .map(|c| c.payload_type)
        });
        // Only cache what negotiation settled.
        if let Some(pt) = negotiated {
            counters.payload_type = Some(pt);
        }
        negotiated.unwrap_or(OPUS_PAYLOAD_TYPE)
    }

    /// Sends one Opus packet covering `duration` of audio (sending side).
    pub async fn send_opus(&self, packet: &[u8], duration: Duration) -> Result<(), RtcError> {
        let send = self
            .send
            .as_ref()
            .ok_or(RtcError::Usage("this session only receives"))?;
        let mut counters = send.counters.lock().await;
        let payload_type = self.payload_type(send, &mut counters).await;
        let rtp = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                marker: counters.first,
                payload_type,
                sequence_number: counters.sequence,
                timestamp: counters.timestamp,
                ssrc: send.ssrc,
                ..Default::default()
            },
            payload: packet.to_vec().into(),
        };
        wrap("sending RTP", send.track.write_rtp(rtp).await)?;
        counters.first = false;
        counters.sequence = counters.sequence.wrapping_add(1);
        let ticks = duration.as_micros() as u64 * u64::from(OPUS_CLOCK_RATE) / 1_000_000;
        counters.timestamp = counters.timestamp.wrapping_add(ticks as u32);
        Ok(())
    }

    /// Forwards a packet received on another session, undecoded (sending
    /// side; for an SFU). Sequence number, timestamp, marker and payload are
    /// kept; SSRC and payload type become this session's.
    pub async fn forward(&self, packet: &RtpAudio) -> Result<(), RtcError> {
        let send = self
            .send
            .as_ref()
            .ok_or(RtcError::Usage("this session only receives"))?;
        let payload_type = {
            let mut counters = send.counters.lock().await;
            self.payload_type(send, &mut counters).await
        };
        let rtp = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                marker: packet.marker,
                payload_type,
                sequence_number: packet.sequence,
                timestamp: packet.timestamp,
                ssrc: send.ssrc,
                ..Default::default()
            },
            payload: packet.payload.clone().into(),
        };
        wrap("forwarding RTP", send.track.write_rtp(rtp).await)
    }

    /// Closes the connection (idempotent).
    pub async fn close(&self) -> Result<(), RtcError> {
        wrap("closing", self.pc.close().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::timeout;

    #[test]
    fn first_mid_finds_the_first_media_id() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=mid:1\r\n";
        assert_eq!(first_mid(sdp).as_deref(), Some("0"));
        assert_eq!(first_mid("v=0\r\n"), None);
    }

    /// Waits for `want` on `events`, handing candidates to `other` meanwhile.
    async fn pump_until_connected(
        events: &mut mpsc::UnboundedReceiver<RtcEvent>,
        other: &AudioPeer,
        tracks: &mut Vec<RemoteAudio>,
    ) {
        loop {
            match events.recv().await.expect("events end") {
                RtcEvent::LocalCandidate(c) => {
                    other
                        .add_remote_candidate(&c.candidate, &c.mid)
                        .await
                        .expect("add candidate");
                }
                RtcEvent::State(ConnectionState::Connected) => return,
                RtcEvent::State(s @ (ConnectionState::Failed | ConnectionState::Closed)) => {
                    panic!("connection {s}")
                }
                RtcEvent::Track(t) => tracks.push(t),
                _ => {}
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_loopback_peers_carry_opus_in_order() {
        let (tx, mut tx_events) = AudioPeer::offer(RtcOptions::loopback()).await.unwrap();
        let offer = tx.local_sdp().await.unwrap();
        assert!(offer.contains("a=sendonly"), "{offer}");
        assert!(offer.contains("opus/48000/2"), "{offer}");
        assert!(offer.contains("useinbandfec=1"), "{offer}");
        let (rx, mut rx_events) = AudioPeer::answer(RtcOptions::loopback(), &offer)
            .await
            .unwrap();
        let answer = rx.local_sdp().await.unwrap();
        assert!(answer.contains("a=recvonly"), "{answer}");
        tx.set_remote_answer(&answer).await.unwrap();

        // Trickle both ways until both ends are connected.
        let mut tracks = Vec::new();
        let mut no_tracks = Vec::new();
        timeout(Duration::from_secs(20), async {
            tokio::join!(
                pump_until_connected(&mut tx_events, &rx, &mut no_tracks),
                pump_until_connected(&mut rx_events, &tx, &mut tracks),
            )
        })
        .await
        .expect("both peers connect");

        // 50 Opus packets of a 440 Hz tone, 20 ms each.
        let mut encoder =
            opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).unwrap();
        let mut sent = Vec::new();
        for n in 0..50usize {
            let pcm: Vec<i16> = (0..960)
                .map(|i| {
                    let t = (n * 960 + i) as f32 / 48_000.0;
                    ((t * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16
                })
                .collect();
            let packet = encoder.encode_vec(&pcm, 1500).unwrap();
            tx.send_opus(&packet, Duration::from_millis(20))
                .await
                .unwrap();
            sent.push(packet);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        let mut track = first_track(&mut tracks, &mut rx_events).await;
        assert_eq!(track.ssrc, tx.local_ssrc().unwrap());
        let mut got = Vec::new();
        timeout(Duration::from_secs(10), async {
            while got.len() < sent.len() {
                got.push(track.next().await.expect("packet"));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("only {} of {} packets arrived", got.len(), sent.len()));
        for w in got.windows(2) {
            assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1), "in order");
            assert_eq!(w[1].timestamp, w[0].timestamp.wrapping_add(960));
        }
        let payloads: Vec<Vec<u8>> = got.into_iter().map(|p| p.payload).collect();
        assert_eq!(payloads, sent);
        tx.close().await.unwrap();
        rx.close().await.unwrap();
    }

    /// Offer from `tx`, answer from a new receiving peer, trickle both ways
    /// until both are connected; returns the receiver and its events.
    async fn connect(
        tx: &AudioPeer,
        tx_events: &mut mpsc::UnboundedReceiver<RtcEvent>,
    ) -> (
        AudioPeer,
        mpsc::UnboundedReceiver<RtcEvent>,
        Vec<RemoteAudio>,
    ) {
        let offer = tx.local_sdp().await.unwrap();
        let (rx, mut rx_events) = AudioPeer::answer(RtcOptions::loopback(), &offer)
            .await
            .unwrap();
        tx.set_remote_answer(&rx.local_sdp().await.unwrap())
            .await
            .unwrap();
        let mut tracks = Vec::new();
        let mut none = Vec::new();
        timeout(Duration::from_secs(20), async {
            tokio::join!(
                pump_until_connected(tx_events, &rx, &mut none),
                pump_until_connected(&mut rx_events, tx, &mut tracks),
            )
        })
        .await
        .expect("both peers connect");
        (rx, rx_events, tracks)
    }

    async fn first_track(
        tracks: &mut Vec<RemoteAudio>,
        events: &mut mpsc::UnboundedReceiver<RtcEvent>,
    ) -> RemoteAudio {
        timeout(Duration::from_secs(10), async {
            loop {
                if let Some(t) = tracks.pop() {
                    return t;
                }
                if let Some(RtcEvent::Track(t)) = events.recv().await {
                    return t;
                }
            }
        })
        .await
        .expect("a remote track")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forwarded_packets_keep_payload_and_timing() {
        // A sends to the SFU; the SFU forwards into its own session to B.
        let (a, mut a_events) = AudioPeer::offer(RtcOptions::loopback()).await.unwrap();
        let (sfu_in, mut sfu_in_events, mut in_tracks) = connect(&a, &mut a_events).await;
        let (sfu_out, mut out_events) = AudioPeer::offer(RtcOptions::loopback()).await.unwrap();
        let (b, mut b_events, mut b_tracks) = connect(&sfu_out, &mut out_events).await;

        let payloads: Vec<Vec<u8>> = (0..20u8).map(|n| vec![0xf8, n, n, n]).collect();
        for p in &payloads {
            a.send_opus(p, Duration::from_millis(20)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut incoming = first_track(&mut in_tracks, &mut sfu_in_events).await;
        let mut received = Vec::new();
        for _ in 0..payloads.len() {
            let p = timeout(Duration::from_secs(5), incoming.next())
                .await
                .expect("packet at the SFU")
                .expect("open");
            sfu_out.forward(&p).await.unwrap();
            received.push(p);
        }
        let mut outgoing = first_track(&mut b_tracks, &mut b_events).await;
        assert_eq!(outgoing.ssrc, sfu_out.local_ssrc().unwrap());
        for want in &received {
            let got = timeout(Duration::from_secs(5), outgoing.next())
                .await
                .expect("packet at B")
                .expect("open");
            assert_eq!(got.payload, want.payload);
            assert_eq!(got.sequence, want.sequence);
            assert_eq!(got.timestamp, want.timestamp);
            assert_eq!(got.ssrc, sfu_out.local_ssrc().unwrap());
        }
        assert_eq!(
            received.into_iter().map(|p| p.payload).collect::<Vec<_>>(),
            payloads
        );
        for p in [&a, &sfu_in, &sfu_out, &b] {
            p.close().await.unwrap();
        }
    }
}
