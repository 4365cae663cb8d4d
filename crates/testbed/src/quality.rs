//! Call quality through an impaired path: a tone sent by one WebRTC peer
//! (confab-media's capture, encoder and sending session) to another
//! through an [`impair::Relay`](crate::impair::Relay), received with
//! confab-media's stream sink and mixer (FEC, concealment, jitter
//! handling) into a WAV, and measured: the tone's SNR
//! ([`confab_media::analysis::tone_snr`]) and SINAD
//! ([`confab_media::analysis::tone_sinad`]) in what was played and in the
//! stream as decoded, and what the stream sink counted.
//!
//! The receiver's candidates reach the sender rewritten to relays in front
//! of them; the sender's candidates are not given to the receiver, which
//! learns the way back through the relay (peer-reflexive). So every
//! packet of the call crosses the relay.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::time::timeout;

use confab_media::SAMPLE_RATE;
use confab_media::analysis::{tone_sinad, tone_snr, trim_quiet};
use confab_media::capture::{Capture, CaptureOptions};
use confab_media::denoise::Denoise;
use confab_media::playback::{Playback, StreamStats};
use confab_media::rtc::{AudioPeer, ConnectionState, RemoteAudio, RtcEvent, RtcOptions};
use confab_media::spec::{AudioIn, AudioOut};
use confab_media::speech;

use crate::impair::{Impairment, Relay, candidate_addr, rewrite_candidate};

/// `sdp` without its `a=candidate` lines (and end-of-candidates).
fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|l| !l.starts_with("a=candidate:") && !l.starts_with("a=end-of-candidates"))
        .collect()
}

/// What one impaired call measured.
#[derive(Debug, Clone)]
pub struct Quality {
    /// The tone's SNR in what was played (dB).
    pub snr_db: f32,
    /// Its SINAD ([`tone_sinad`]: spectral, blind to phase).
    pub sinad_db: f32,
    /// The SNR of the stream as decoded, before the playout queue (its
    /// timing: waits and dropped frames, not counted here).
    pub decoded_snr_db: f32,
    /// RTP packets the relay saw and dropped.
    pub sent: u64,
    pub dropped: u64,
    /// The receiving stream sink's counters.
    pub stream: StreamStats,
    /// Whether the peers negotiated RED.
    pub red: bool,
}

fn fail(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// What one impaired call carried, before measuring.
struct Carried {
    /// What the mixer played, and the stream as decoded (48 kHz mono).
    played: Vec<f32>,
    decoded: Vec<f32>,
    sent: u64,
    dropped: u64,
    stream: StreamStats,
    red: bool,
}

/// Sends a `hz` tone for `secs` seconds through a relay impaired as `imp`
/// and measures what is played (the first half second, where the jitter
/// handling settles, is left out). Both peers offer RED.
pub async fn tone_through(imp: Impairment, hz: f32, secs: f64) -> Result<Quality, String> {
    tone_through_with(imp, hz, secs, true).await
}

/// [`tone_through`], with RED offered by both peers or by neither (plain
/// Opus: in-band FEC and concealment only).
pub async fn tone_through_with(
    imp: Impairment,
    hz: f32,
    secs: f64,
    red: bool,
) -> Result<Quality, String> {
    let c = carry(imp, &AudioIn::Tone(hz), secs, red).await?;
    let measure = |pcm: &[f32]| -> (f32, f32) {
        let pcm = trim_quiet(pcm, 0.05);
        let settle = (SAMPLE_RATE as usize / 2).min(pcm.len());
        let pcm = &pcm[settle..];
        (
            tone_snr(pcm, SAMPLE_RATE, hz).unwrap_or(f32::NEG_INFINITY),
            tone_sinad(pcm, SAMPLE_RATE, hz).unwrap_or(f32::NEG_INFINITY),
        )
    };
    let (snr_db, sinad_db) = measure(&c.played);
    Ok(Quality {
        snr_db,
        sinad_db,
        decoded_snr_db: measure(&c.decoded).0,
        sent: c.sent,
        dropped: c.dropped,
        stream: c.stream,
        red: c.red,
    })
}

/// What speech through one impaired call measured.
#[derive(Debug, Clone)]
pub struct SpeechQuality {
    /// Segmental SNR of what was played against the sentence sent,
    /// following changes of playout delay
    /// ([`confab_media::speech::tracked_segmental_snr`]).
    pub seg_snr_db: f32,
    /// … of the stream as decoded (before the playout queue).
    pub decoded_seg_snr_db: f32,
    pub sent: u64,
    pub dropped: u64,
    pub stream: StreamStats,
    /// Whether the peers negotiated RED.
    pub red: bool,
}

/// Sends the spoken sentence ([`confab_media::speech::padded_sentence`],
/// made with espeak-ng in `dir`) once through a relay impaired as `imp`,
/// as a file source, and measures its segmental SNR in what was played.
/// Both peers offer RED.
pub async fn speech_through(imp: Impairment, dir: &Path) -> Result<SpeechQuality, String> {
    speech_through_with(imp, dir, true).await
}

/// [`speech_through`], with RED offered by both peers or by neither.
pub async fn speech_through_with(
    imp: Impairment,
    dir: &Path,
    red: bool,
) -> Result<SpeechQuality, String> {
    let sentence = speech::padded_sentence(dir).map_err(|e| fail("espeak-ng", e))?;
    let file = dir.join("sentence.wav");
    confab_media::wav::write_mono(&file, &sentence, SAMPLE_RATE).map_err(|e| fail("wav", e))?;
    // The sentence, and time for the path's delay: what is played starts
    // with the mixer, before the first packet arrives.
    let max_lag = SAMPLE_RATE as usize * 3 / 2;
    let secs = (sentence.len() + max_lag) as f64 / f64::from(SAMPLE_RATE);
    let c = carry(imp, &AudioIn::File(file), secs, red).await?;
    // Playout may change its delay (by up to 120 ms here).
    let slack = SAMPLE_RATE as usize / 8;
    let measure = |pcm: &[f32]| -> f32 {
        speech::align(&sentence, pcm, max_lag)
            .and_then(|lag| speech::tracked_segmental_snr(&sentence, pcm, lag, slack))
            .unwrap_or(f32::NEG_INFINITY)
    };
    Ok(SpeechQuality {
        seg_snr_db: measure(&c.played),
        decoded_seg_snr_db: measure(&c.decoded),
        sent: c.sent,
        dropped: c.dropped,
        stream: c.stream,
        red: c.red,
    })
}

/// Sends `input` for `secs` seconds through a relay impaired as `imp`
/// (RED offered by both peers or by neither) and returns what was played
/// and decoded.
async fn carry(imp: Impairment, input: &AudioIn, secs: f64, red: bool) -> Result<Carried, String> {
    let options = RtcOptions {
        red,
        ..RtcOptions::loopback()
    };
    let (tx, mut tx_events) = AudioPeer::offer(options.clone())
        .await
        .map_err(|e| fail("offer", e))?;
    let offer = without_candidates(&tx.local_sdp().await.map_err(|e| fail("offer", e))?);
    let (rx, mut rx_events) = AudioPeer::answer(options, &offer)
        .await
        .map_err(|e| fail("answer", e))?;
    let answer = rx.local_sdp().await.map_err(|e| fail("answer", e))?;
    // The answer's own candidates would lead past the relay: they go
    // through it like the trickled ones.
    let early: Vec<String> = answer
        .lines()
        .filter_map(|l| l.trim_end().strip_prefix("a="))
        .filter(|l| l.starts_with("candidate:"))
        .map(str::to_string)
        .collect();
    let mid = confab_media::rtc::first_mid(&answer).unwrap_or_else(|| "0".into());
    tx.set_remote_answer(&without_candidates(&answer))
        .await
        .map_err(|e| fail("answer", e))?;
    let mut relays: Vec<Relay> = Vec::new();
    for c in early {
        if let Some(addr) = candidate_addr(&c) {
            let relay = Relay::start(addr, imp)
                .await
                .map_err(|e| fail("relay", e))?;
            let _ = tx
                .add_remote_candidate(&rewrite_candidate(&c, relay.addr), &mid)
                .await;
            relays.push(relay);
        }
    }

    let mut track: Option<RemoteAudio> = None;
    let (mut tx_up, mut rx_up) = (false, false);
    timeout(Duration::from_secs(20), async {
        while !(tx_up && rx_up) {
            tokio::select! {
                Some(ev) = tx_events.recv() => match ev {
                    RtcEvent::State(ConnectionState::Connected) => tx_up = true,
                    RtcEvent::State(s @ (ConnectionState::Failed | ConnectionState::Closed)) => {
                        return Err(format!("sender: connection {s}"));
                    }
                    _ => {}
                },
                Some(ev) = rx_events.recv() => match ev {
                    RtcEvent::LocalCandidate(c) => {
                        if let Some(addr) = candidate_addr(&c.candidate) {
                            let relay = Relay::start(addr, imp).await.map_err(|e| fail("relay", e))?;
                            let _ = tx
                                .add_remote_candidate(&rewrite_candidate(&c.candidate, relay.addr), &c.mid)
                                .await;
                            relays.push(relay);
                        }
                    }
                    RtcEvent::State(ConnectionState::Connected) => rx_up = true,
                    RtcEvent::State(s @ (ConnectionState::Failed | ConnectionState::Closed)) => {
                        return Err(format!("receiver: connection {s}"));
                    }
                    RtcEvent::Track(t) => track = Some(t),
                    _ => {}
                },
            }
        }
        Ok(())
    })
    .await
    .map_err(|_| "the peers did not connect through the relay".to_string())??;

    let dir = tempfile::tempdir().map_err(|e| fail("temp dir", e))?;
    let wav = dir.path().join("played.wav");
    let playback = Playback::start(&AudioOut::File(wav.clone()), Some(dir.path()))
        .map_err(|e| fail("playback", e))?;
    let mut sink = playback
        .add_stream("xmpp:tone@quality.test")
        .map_err(|e| fail("stream", e))?;
    // What is sent is measured as it is: no noise suppression.
    let options = CaptureOptions {
        denoise: Denoise::Off,
        ..CaptureOptions::default()
    };
    let (capture, mut frames) = Capture::open(input, options).map_err(|e| fail("capture", e))?;
    let (stop_tx, mut stop_rx) = mpsc::channel::<()>(1);
    let sender = tokio::spawn(async move {
        loop {
            tokio::select! {
                f = frames.recv() => match f {
                    Some(f) => { let _ = tx.send_opus(&f.payload, f.duration()).await; }
                    None => break,
                },
                _ = stop_rx.recv() => break,
            }
        }
        tx
    });

    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut track = match track {
        Some(t) => t,
        None => timeout(Duration::from_secs(5), async {
            loop {
                match rx_events.recv().await {
                    Some(RtcEvent::Track(t)) => return Some(t),
                    Some(_) => {}
                    None => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
        .ok_or("no track arrived")?,
    };
    while Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        match timeout(left, track.next()).await {
            Ok(Some(p)) => sink
                .push_with(p.sequence, &p.payload, &p.redundancy)
                .map_err(|e| fail("sink", e))?,
            Ok(None) => return Err("the track ended".into()),
            Err(_) => break,
        }
    }
    let _ = stop_tx.send(()).await;
    let tx = sender.await.map_err(|e| fail("sender", e))?;
    let _ = capture.stop();
    let stream = sink.stats();
    let decoded_wav = sink.wav_path().map(|p| p.to_path_buf());
    sink.finish().map_err(|e| fail("sink", e))?;
    playback.finish().map_err(|e| fail("playback", e))?;
    let red = tx.red().is_some() && rx.red().is_some();
    let _ = tx.close().await;
    let _ = rx.close().await;
    let (sent, dropped) = relays.iter().fold((0, 0), |(s, d), r| {
        (
            s + r.stats.rtp.load(std::sync::atomic::Ordering::Relaxed),
            d + r.stats.dropped.load(std::sync::atomic::Ordering::Relaxed),
        )
    });

    let read = |path: &Path| -> Result<Vec<f32>, String> {
        confab_media::wav::read_mono_48k(path).map_err(|e| fail("wav", e))
    };
    Ok(Carried {
        played: read(&wav)?,
        decoded: match decoded_wav {
            Some(p) => read(&p)?,
            None => Vec::new(),
        },
        sent,
        dropped,
        stream,
        red,
    })
}
