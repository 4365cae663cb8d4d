//! The sending half of a call's audio: a source paced to one frame per
//! 20 ms, level-metered, Opus-encoded, handed over as a channel of
//! timestamped packets ([`EncodedFrame`]).
//!
//! Synthetic sources (tone, file, silence) are paced by our own timer
//! against absolute deadlines (no drift; after a stall of more than 200 ms
//! it skips ahead instead of bursting). The microphone is paced by the
//! device. The channel is bounded; when the consumer falls behind, frames
//! are dropped (and counted) rather than queued without end, and the audio
//! thread never waits for the network.
//!
//! The source can be replaced while the capture runs
//! ([`Capture::replace_source`], `/devices input`): the thread picks the
//! new one up at the next frame, and the encoder, the frame numbers and so
//! the RTP timestamps go on as before, so the session never notices.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::codec::{Encoder, EncoderConfig};
use super::denoise::{Denoise, Denoiser};
use super::level::LevelMeter;
use super::source::{FrameSource, frame_buffer, open_source};
use super::spec::AudioIn;
use super::{FRAME_DURATION, FRAME_SAMPLES, MediaError, wait_for_tick};

/// One encoded 20 ms frame.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    /// Frame number from 0.
    pub seq: u64,
    /// Position in samples at 48 kHz (`seq × 960`): the RTP timestamp
    /// offset.
    pub timestamp: u64,
    /// When the frame was complete: its 20 ms deadline for a paced source,
    /// the moment it was read for the microphone.
    pub captured: Instant,
    /// When its packet was ready.
    pub encoded: Instant,
    /// The Opus packet.
    pub payload: Vec<u8>,
    /// Meter level of what was sent (0..1; 0 while muted).
    pub level: f32,
    pub muted: bool,
    /// Whether a voice was heard (with a hangover), when the frame went
    /// through the noise suppressor; `None` when it did not.
    pub speaking: Option<bool>,
}

impl EncodedFrame {
    /// The duration of the audio in the packet (for RTP samples).
    pub fn duration(&self) -> Duration {
        FRAME_DURATION
    }
}

/// Capture settings.
#[derive(Debug, Clone, Copy)]
pub struct CaptureOptions {
    pub encoder: EncoderConfig,
    /// Frames the channel holds before new ones are dropped (default 50: 1 s).
    pub queue: usize,
    /// Noise suppression (and the transmit gate).
    pub denoise: Denoise,
}

impl Default for CaptureOptions {
    fn default() -> CaptureOptions {
        CaptureOptions {
            encoder: EncoderConfig::default(),
            queue: 50,
            denoise: Denoise::default(),
        }
    }
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    muted: AtomicBool,
    denoise: AtomicU8,
    level: AtomicU32,
    frames: AtomicU64,
    dropped: AtomicU64,
    /// A source waiting to replace the current one at the next frame.
    next_source: Mutex<Option<Box<dyn FrameSource>>>,
    /// What is being captured (updated when the source is replaced).
    describe: Mutex<String>,
}

/// A running capture thread. Dropping it stops the thread.
pub struct Capture {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Result<(), MediaError>>>,
}

impl Capture {
    /// Opens the source `spec` names (a microphone that cannot be opened is
    /// an error here) and starts capturing.
    pub fn open(
        spec: &AudioIn,
        options: CaptureOptions,
    ) -> Result<(Capture, mpsc::Receiver<EncodedFrame>), MediaError> {
        Capture::start(open_source(spec)?, options)
    }

    /// Starts capturing from `source`.
    pub fn start(
        source: Box<dyn FrameSource>,
        options: CaptureOptions,
    ) -> Result<(Capture, mpsc::Receiver<EncodedFrame>), MediaError> {
        let encoder = Encoder::new(options.encoder)?;
        let (tx, rx) = mpsc::channel(options.queue.max(1));
        let shared = Arc::new(Shared::default());
        shared
            .denoise
            .store(options.denoise.to_u8(), Ordering::Relaxed);
        *lock(&shared.describe) = source.describe();
        let thread = std::thread::Builder::new()
            .name("confab-capture".into())
            .spawn({
                let shared = shared.clone();
                move || run(source, encoder, tx, &shared)
            })
            .map_err(MediaError::Thread)?;
        Ok((
            Capture {
                shared,
                thread: Some(thread),
            },
            rx,
        ))
    }

    /// What is being captured ("tone 440 Hz", "microphone …").
    pub fn source(&self) -> String {
        lock(&self.shared.describe).clone()
    }

    /// Captures from `source` from the next frame on (the one opened
    /// before is dropped by the capture thread); the encoder and the
    /// frame numbering go on. A replacement not yet picked up is itself
    /// replaced.
    pub fn replace_source(&self, source: Box<dyn FrameSource>) {
        *lock(&self.shared.describe) = source.describe();
        *lock(&self.shared.next_source) = Some(source);
    }

    /// Muted: silence is encoded and sent (the stream keeps its timing).
    pub fn set_muted(&self, muted: bool) {
        self.shared.muted.store(muted, Ordering::Relaxed);
    }

    pub fn is_muted(&self) -> bool {
        self.shared.muted.load(Ordering::Relaxed)
    }

    /// Noise suppression from the next frame on.
    pub fn set_denoise(&self, d: Denoise) {
        self.shared.denoise.store(d.to_u8(), Ordering::Relaxed);
    }

    /// The meter level of what is sent (0..1).
    pub fn level(&self) -> f32 {
        f32::from_bits(self.shared.level.load(Ordering::Relaxed))
    }

    /// Frames captured so far.
    pub fn frames(&self) -> u64 {
        self.shared.frames.load(Ordering::Relaxed)
    }

    /// Frames dropped because the consumer did not keep up.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Whether the thread still runs (it ends when the source fails or the
    /// receiver is dropped).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the thread; the error that ended it early, if any (a
    /// microphone that failed or stalled).
    pub fn stop(mut self) -> Result<(), MediaError> {
        self.join()
    }

    fn join(&mut self) -> Result<(), MediaError> {
        self.shared.stop.store(true, Ordering::Relaxed);
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| MediaError::ThreadPanicked)?,
            None => Ok(()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

fn run(
    mut source: Box<dyn FrameSource>,
    mut encoder: Encoder,
    tx: mpsc::Sender<EncodedFrame>,
    shared: &Shared,
) -> Result<(), MediaError> {
    let mut paced = source.needs_pacing();
    let mut live = source.is_live();
    let mut denoiser: Option<Denoiser> = None;
    let mut frame = frame_buffer();
    let mut meter = LevelMeter::new();
    let mut next = Instant::now() + FRAME_DURATION;
    let mut seq = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        // Never waits on the thread replacing the source.
        let replaced = shared
            .next_source
            .try_lock()
            .ok()
            .and_then(|mut next| next.take());
        if let Some(new) = replaced {
            source = new;
            live = source.is_live();
            if !paced && source.needs_pacing() {
                // From a device to our own timer: it starts from now.
                next = Instant::now() + FRAME_DURATION;
            }
            paced = source.needs_pacing();
        }
        if paced {
            wait_for_tick(&mut next);
        }
        source.next_frame(&mut frame[..])?;
        let captured = if paced { next } else { Instant::now() };
        next += FRAME_DURATION;
        let mode = Denoise::from_u8(shared.denoise.load(Ordering::Relaxed));
        let speaking = if mode.applies(live) {
            // Made on first use: a call without it pays nothing.
            let d = denoiser.get_or_insert_with(Denoiser::new);
            let voice = d.process(&mut frame[..]);
            let speaking = d.speaking(voice);
            if mode == Denoise::Gate && !speaking {
                frame.fill(0.0);
            }
            Some(speaking)
        } else {
            None
        };
        let muted = shared.muted.load(Ordering::Relaxed);
        if muted {
            // Silence is sent, and the meter drops at once (no release).
            frame.fill(0.0);
            meter.reset();
        }
        let level = meter.update(&frame[..]);
        shared.level.store(level.to_bits(), Ordering::Relaxed);
        let payload = encoder.encode(&frame[..])?;
        let packet = EncodedFrame {
            seq,
            timestamp: seq * FRAME_SAMPLES as u64,
            captured,
            encoded: Instant::now(),
            payload,
            level,
            muted,
            speaking: speaking.map(|s| s && !muted),
        };
        seq += 1;
        shared.frames.fetch_add(1, Ordering::Relaxed);
        match tx.try_send(packet) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SAMPLE_RATE;
    use crate::analysis::dominant_frequency;
    use crate::codec::{Decoder, MAX_DECODED};

    #[tokio::test]
    async fn tone_capture_is_paced_timestamped_and_decodable() {
        let (capture, mut rx) =
            Capture::open(&AudioIn::Tone(440.0), CaptureOptions::default()).unwrap();
        assert_eq!(capture.source(), "tone 440 Hz");
        let start = Instant::now();
        let mut dec = Decoder::new().unwrap();
        let mut out = vec![0.0; MAX_DECODED];
        let mut pcm = Vec::new();
        let mut last: Option<EncodedFrame> = None;
        for i in 0..25 {
            let f = rx.recv().await.expect("a frame");
            assert_eq!(f.seq, i);
            assert_eq!(f.timestamp, i * 960);
            assert!(f.encoded >= f.captured);
            if let Some(prev) = &last {
                assert_eq!(f.captured - prev.captured, FRAME_DURATION);
            }
            let n = dec.decode(&f.payload, &mut out).unwrap();
            pcm.extend_from_slice(&out[..n]);
            last = Some(f);
        }
        // 25 frames are 500 ms of audio: paced, not a burst.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(460), "{took:?}");
        assert!(capture.level() > 0.8, "{}", capture.level());
        let f = dominant_frequency(&pcm, SAMPLE_RATE).unwrap();
        assert!((f - 440.0).abs() < 3.0, "{f}");

        capture.set_muted(true);
        assert!(capture.is_muted());
        // Frames already queued may be unmuted; the muted ones follow.
        let muted = loop {
            let f = rx.recv().await.unwrap();
            if f.muted {
                break f;
            }
        };
        assert_eq!(muted.level, 0.0);
        assert!(capture.is_running());
        capture.stop().unwrap();
        // The thread ended, so the channel closes after what was queued.
        while rx.recv().await.is_some() {}
    }

    #[tokio::test]
    async fn a_replaced_source_continues_the_same_stream() {
        let (capture, mut rx) =
            Capture::open(&AudioIn::Tone(440.0), CaptureOptions::default()).unwrap();
        let mut dec = Decoder::new().unwrap();
        let mut out = vec![0.0; MAX_DECODED];
        let mut before = Vec::new();
        for i in 0..10 {
            let f = rx.recv().await.expect("a frame");
            assert_eq!(f.seq, i);
            let n = dec.decode(&f.payload, &mut out).unwrap();
            before.extend_from_slice(&out[..n]);
        }
        capture.replace_source(crate::source::open_source(&AudioIn::Tone(880.0)).unwrap());
        assert_eq!(capture.source(), "tone 880 Hz");
        let mut after = Vec::new();
        for i in 10..60 {
            let f = rx.recv().await.expect("a frame");
            // One stream: the numbering and the RTP timestamps go on.
            assert_eq!((f.seq, f.timestamp), (i, i * 960));
            let n = dec.decode(&f.payload, &mut out).unwrap();
            // A frame or two may have been queued before the switch.
            if i >= 15 {
                after.extend_from_slice(&out[..n]);
            }
        }
        let f0 = dominant_frequency(&before[1920..], SAMPLE_RATE).unwrap();
        let f1 = dominant_frequency(&after, SAMPLE_RATE).unwrap();
        assert!(
            (f0 - 440.0).abs() < 3.0 && (f1 - 880.0).abs() < 3.0,
            "{f0} {f1}"
        );
        assert!(capture.is_running());
        capture.stop().unwrap();
    }

    #[test]
    fn dropping_the_receiver_ends_the_thread_and_a_full_queue_drops() {
        let options = CaptureOptions {
            queue: 2,
            ..CaptureOptions::default()
        };
        let (capture, rx) = Capture::open(&AudioIn::Null, options).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        assert!(capture.dropped() >= 2, "{}", capture.dropped());
        assert!(capture.frames() >= 4);
        drop(rx);
        let deadline = Instant::now() + Duration::from_secs(2);
        while capture.is_running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!capture.is_running());
        capture.stop().unwrap();
    }
}
