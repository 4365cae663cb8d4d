//! The webrtc-rs side of a peer: its callbacks turned into [`RtcEvent`]s
//! on a channel, and the peer connection built with Opus and RTCP reports
//! only.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::mpsc;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionIceEvent, Registry, configure_rtcp_reports,
};

use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RtpCodecKind};

use super::{
    ConnectionState, LocalCandidate, OPUS_PAYLOAD_TYPE, RemoteAudio, RtcError, RtcEvent,
    RtcOptions, RtpAudio, opus_codec, wrap,
};

type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Turns webrtc-rs callbacks into [`RtcEvent`]s on a channel.
///
/// The trait is declared with `#[async_trait]`; these are its expanded
/// signatures (confab does not depend on the `async-trait` macro crate).
pub(super) struct Handler {
    pub(super) events: mpsc::UnboundedSender<RtcEvent>,
    pub(super) mid: Arc<StdMutex<String>>,
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
