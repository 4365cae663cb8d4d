//! The webrtc-rs side of a peer: its callbacks turned into [`RtcEvent`]s
//! on a channel (received RED packets split, [`received`]), and the peer
//! connection built with Opus (and RED, when asked) and RTCP reports only.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::mpsc;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionIceEvent, Registry, configure_rtcp_reports,
};

use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RtpCodecKind};

use super::redundancy::red_codec;
use super::{
    ConnectionState, LocalCandidate, OPUS_PAYLOAD_TYPE, RED_PAYLOAD_TYPE, RedNegotiated, Redundant,
    RemoteAudio, RtcError, RtcEvent, RtcOptions, RtpAudio, opus_codec, red, wrap,
};

type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Turns webrtc-rs callbacks into [`RtcEvent`]s on a channel.
///
/// The trait is declared with `#[async_trait]`; these are its expanded
/// signatures (confab does not depend on the `async-trait` macro crate).
pub(super) struct Handler {
    pub(super) events: mpsc::UnboundedSender<RtcEvent>,
    pub(super) mid: Arc<StdMutex<String>>,
    /// RED as negotiated: received packets of its payload type are split.
    pub(super) red: Arc<StdMutex<Option<RedNegotiated>>>,
}

/// A received packet as [`RtpAudio`]: a RED one (of the negotiated
/// payload type) split into its primary block and the earlier frames it
/// repeats (blocks of another payload type than the primary's are left
/// out); `None` for a malformed RED payload.
pub(super) fn received(p: rtc::rtp::Packet, red: Option<RedNegotiated>) -> Option<RtpAudio> {
    let mut audio = RtpAudio {
        ssrc: p.header.ssrc,
        sequence: p.header.sequence_number,
        timestamp: p.header.timestamp,
        payload_type: p.header.payload_type,
        marker: p.header.marker,
        payload: Vec::new(),
        redundancy: Vec::new(),
    };
    match red {
        Some(r) if r.red_pt == p.header.payload_type => {
            let blocks = red::parse(&p.payload).ok()?;
            let (primary, earlier) = blocks.split_last()?;
            audio.payload_type = primary.payload_type;
            audio.payload = primary.data.to_vec();
            audio.redundancy = earlier
                .iter()
                .filter(|b| b.payload_type == primary.payload_type && b.offset > 0)
                .map(|b| Redundant {
                    offset: b.offset,
                    payload: b.data.to_vec(),
                })
                .collect();
        }
        _ => audio.payload = p.payload.to_vec(),
    }
    Some(audio)
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
            let malformed = Arc::new(AtomicU64::new(0));
            let _ = self.events.send(RtcEvent::Track(RemoteAudio {
                ssrc,
                mime_type,
                rx,
                malformed: malformed.clone(),
            }));
            let red = self.red.clone();
            tokio::spawn(async move {
                while let Some(event) = track.poll().await {
                    match event {
                        TrackRemoteEvent::OnRtpPacket(p) => {
                            let negotiated = red.lock().ok().and_then(|r| *r);
                            let Some(audio) = received(p, negotiated) else {
                                malformed.fetch_add(1, Ordering::Relaxed);
                                continue;
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

pub(super) async fn build_pc(
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
    if options.red {
        wrap(
            "registering RED",
            media.register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: red_codec(),
                    payload_type: RED_PAYLOAD_TYPE,
                },
                RtpCodecKind::Audio,
            ),
        )?;
    }
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
