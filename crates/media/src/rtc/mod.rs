//! Opus audio sessions over WebRTC (webrtc-rs 0.21): one-way for
//! conferences, two-way ([`AudioPeer::offer_duplex`], [`AudioPeer::answer_duplex`])
//! for one-to-one calls.
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
//!
//! `handler.rs` turns webrtc-rs callbacks into [`RtcEvent`]s and builds the
//! peer connection.
//!
//! RED (RFC 2198, `audio/red` as browsers use it for Opus,
//! `a=rtpmap:63 red/48000/2`, `a=fmtp:63 111/111`) is offered and accepted
//! when [`RtcOptions::red`] is set, and used only when the answer has it
//! ([`AudioPeer::red`]): each packet then carries full copies of the frames
//! [`RED_DISTANCES`] back (`red.rs` the format, `redundancy.rs` the
//! negotiation and the sender's history); received RED packets reach
//! [`RemoteAudio`] split into the primary Opus frame and its
//! [`RtpAudio::redundancy`]. Plain Opus otherwise.

mod handler;
pub mod red;
mod redundancy;
#[cfg(test)]
mod tests;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{PeerConnection, RTCIceCandidateInit, RTCSessionDescription};

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

pub use webrtc::peer_connection::RTCPeerConnectionState as ConnectionState;

use handler::{Handler, build_pc};
use redundancy::History;
pub use redundancy::{RED_DISTANCES, RED_PAYLOAD_TYPE, RedNegotiated, negotiated_red};

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
    /// Offer and accept RED (RFC 2198 redundant Opus frames).
    pub red: bool,
}

impl RtcOptions {
    /// Host candidates on 127.0.0.1 only (tests, local peers).
    pub fn loopback() -> Self {
        RtcOptions {
            udp_addrs: vec!["127.0.0.1:0".to_string()],
            red: true,
        }
    }

    /// Host candidates on every interface.
    pub fn all_interfaces() -> Self {
        RtcOptions {
            udp_addrs: vec!["0.0.0.0:0".to_string()],
            red: true,
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

/// A full copy of an earlier frame carried in a RED packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redundant {
    /// RTP ticks before the packet's timestamp (> 0).
    pub offset: u32,
    /// The Opus packet.
    pub payload: Vec<u8>,
}

/// One received RTP packet (Opus payload untouched). A RED packet arrives
/// split: `payload` is its primary block, `payload_type` that block's,
/// and `redundancy` the earlier frames it carried (oldest first).
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
    /// Copies of earlier frames (RED), oldest first; empty for plain Opus.
    pub redundancy: Vec<Redundant>,
}

/// A remote track on a receiving session: the packets as they arrive.
#[derive(Debug)]
pub struct RemoteAudio {
    /// The track's first SSRC (0 if none was known yet).
    pub ssrc: u32,
    /// Codec MIME type as negotiated (e.g. `audio/opus`), if known.
    pub mime_type: Option<String>,
    rx: mpsc::UnboundedReceiver<RtpAudio>,
    malformed: Arc<std::sync::atomic::AtomicU64>,
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

    /// RED packets dropped as malformed ([`red::parse`]) so far.
    pub fn malformed(&self) -> u64 {
        self.malformed.load(std::sync::atomic::Ordering::Relaxed)
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
    /// The frames sent last, for RED.
    history: History,
}

/// One WebRTC peer connection carrying audio (one-way, or both ways).
pub struct AudioPeer {
    pc: Arc<dyn PeerConnection>,
    send: Option<SendState>,
    mid: Arc<StdMutex<String>>,
    /// RED as the answer settled it (shared with the handler, which splits
    /// received RED packets).
    red: Arc<StdMutex<Option<RedNegotiated>>>,
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

/// Our Opus track, with a random SSRC.
fn local_track() -> (Arc<TrackLocalStaticRTP>, u32) {
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
    (track, ssrc)
}

fn send_state(
    track: Arc<TrackLocalStaticRTP>,
    sender: Arc<dyn webrtc::rtp_transceiver::RtpSender>,
    ssrc: u32,
) -> SendState {
    SendState {
        track,
        sender,
        ssrc,
        counters: Mutex::new(Counters {
            sequence: random_u32() as u16,
            timestamp: random_u32(),
            first: true,
            payload_type: None,
            history: History::default(),
        }),
    }
}

/// The `mid` of the first m-line of an SDP, if any.
pub fn first_mid(sdp: &str) -> Option<String> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix("a=mid:"))
        .map(str::to_string)
}

impl AudioPeer {
    /// A sending peer: one send-only Opus track (48000/2, [`OPUS_FMTP`]),
    /// with the offer already created and set locally (gathering has begun;
    /// candidates follow as [`RtcEvent::LocalCandidate`]).
    pub async fn offer(
        options: RtcOptions,
    ) -> Result<(AudioPeer, mpsc::UnboundedReceiver<RtcEvent>), RtcError> {
        AudioPeer::offer_with(options, RTCRtpTransceiverDirection::Sendonly).await
    }

    /// A two-way peer making the offer (a one-to-one call, XEP-0167
    /// `senders='both'`): one send-receive Opus track; what the other side
    /// sends arrives as [`RtcEvent::Track`].
    pub async fn offer_duplex(
        options: RtcOptions,
    ) -> Result<(AudioPeer, mpsc::UnboundedReceiver<RtcEvent>), RtcError> {
        AudioPeer::offer_with(options, RTCRtpTransceiverDirection::Sendrecv).await
    }

    async fn offer_with(
        options: RtcOptions,
        direction: RTCRtpTransceiverDirection,
    ) -> Result<(AudioPeer, mpsc::UnboundedReceiver<RtcEvent>), RtcError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mid = Arc::new(StdMutex::new(String::from("0")));
        let red = Arc::new(StdMutex::new(None));
        let pc = build_pc(
            &options,
            Handler {
                events: tx,
                mid: mid.clone(),
                red: red.clone(),
            },
        )
        .await?;
        let (track, ssrc) = local_track();
        let transceiver = wrap(
            "adding audio track",
            pc.add_transceiver_from_track(
                track.clone() as Arc<dyn TrackLocal>,
                Some(RTCRtpTransceiverInit {
                    direction,
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
            send: Some(send_state(track, sender, ssrc)),
            mid,
            red,
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
        AudioPeer::answer_with(options, remote_offer, false).await
    }

    /// A two-way peer answering `remote_offer` (a one-to-one call): our
    /// Opus track goes on the offered audio m-line, which becomes
    /// send-receive if the offer lets us send.
    pub async fn answer_duplex(
        options: RtcOptions,
        remote_offer: &str,
    ) -> Result<(AudioPeer, mpsc::UnboundedReceiver<RtcEvent>), RtcError> {
        AudioPeer::answer_with(options, remote_offer, true).await
    }

    async fn answer_with(
        options: RtcOptions,
        remote_offer: &str,
        duplex: bool,
    ) -> Result<(AudioPeer, mpsc::UnboundedReceiver<RtcEvent>), RtcError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mid = Arc::new(StdMutex::new(
            first_mid(remote_offer).unwrap_or_else(|| "0".to_string()),
        ));
        let red = Arc::new(StdMutex::new(None));
        let pc = build_pc(
            &options,
            Handler {
                events: tx,
                mid: mid.clone(),
                red: red.clone(),
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
        let send = if duplex {
            // addTrack takes the offered audio transceiver (W3C: one not
            // yet sending), which then sends as well as receives.
            let (track, ssrc) = local_track();
            let sender = wrap(
                "adding audio track",
                pc.add_track(track.clone() as Arc<dyn TrackLocal>).await,
            )?;
            Some(send_state(track, sender, ssrc))
        } else {
            // Receive only: whatever we did not offer to send we do not send.
            for t in pc.get_transceivers().await {
                let _ = t.set_direction(RTCRtpTransceiverDirection::Recvonly).await;
            }
            None
        };
        let answer = wrap("creating answer", pc.create_answer(None).await)?;
        if let Some(m) = first_mid(&answer.sdp)
            && let Ok(mut slot) = mid.lock()
        {
            *slot = m;
        }
        let negotiated = negotiated_red(&answer.sdp);
        wrap(
            "setting local answer",
            pc.set_local_description(answer).await,
        )?;
        if let Ok(mut slot) = red.lock() {
            *slot = negotiated;
        }
        let peer = AudioPeer {
            pc,
            send,
            mid,
            red,
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

    /// Whether this peer sends.
    pub fn is_sender(&self) -> bool {
        self.send.is_some()
    }

    /// RED as the answer settled it: `None` before the answer, or when
    /// either side did not offer it (plain Opus then).
    pub fn red(&self) -> Option<RedNegotiated> {
        self.red.lock().ok().and_then(|r| *r)
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
        if let Ok(mut slot) = self.red.lock() {
            *slot = negotiated_red(sdp);
        }
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
    /// With RED negotiated, the packet also carries the frames
    /// [`RED_DISTANCES`] back.
    pub async fn send_opus(&self, packet: &[u8], duration: Duration) -> Result<(), RtcError> {
        let send = self
            .send
            .as_ref()
            .ok_or(RtcError::Usage("this session only receives"))?;
        let red = self.red();
        let mut counters = send.counters.lock().await;
        let (payload_type, payload) = match red {
            Some(r) => {
                let timestamp = counters.timestamp;
                let payload = counters.history.red(r.opus_pt, timestamp, packet);
                counters.history.push(timestamp, packet);
                (r.red_pt, payload)
            }
            None => (
                self.payload_type(send, &mut counters).await,
                packet.to_vec(),
            ),
        };
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
            payload: payload.into(),
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
    /// kept; SSRC and payload type become this session's. Its redundant
    /// frames go along as RED if this session negotiated RED; otherwise
    /// only the primary Opus frame goes.
    pub async fn forward(&self, packet: &RtpAudio) -> Result<(), RtcError> {
        let send = self
            .send
            .as_ref()
            .ok_or(RtcError::Usage("this session only receives"))?;
        let (payload_type, payload) = match self.red() {
            Some(r) if !packet.redundancy.is_empty() => {
                let blocks: Vec<red::Block<'_>> = packet
                    .redundancy
                    .iter()
                    .map(|b| red::Block {
                        payload_type: r.opus_pt,
                        offset: b.offset,
                        data: &b.payload,
                    })
                    .collect();
                let primary = red::Block {
                    payload_type: r.opus_pt,
                    offset: 0,
                    data: &packet.payload,
                };
                (r.red_pt, red::build(primary, &blocks))
            }
            _ => {
                let mut counters = send.counters.lock().await;
                let pt = self.payload_type(send, &mut counters).await;
                (pt, packet.payload.clone())
            }
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
            payload: payload.into(),
        };
        wrap("forwarding RTP", send.track.write_rtp(rtp).await)
    }

    /// Closes the connection (idempotent).
    pub async fn close(&self) -> Result<(), RtcError> {
        wrap("closing", self.pc.close().await)
    }
}
