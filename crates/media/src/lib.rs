//! **confab-media** — rule: audio and RTP (cpal, Opus, webrtc-rs);
//! `MediaCmd` in, `MediaEvent` out; no XMPP and no other confab crate (the
//! app maps Jingle to SDP and back).
//!
//! The media core: everything about audio that is not network.
//!
//! Audio inside confab is 48 kHz mono `f32` in 20 ms frames (960 samples).
//! Opus is declared stereo in SDP but sent mono; the decoder takes mono and
//! stereo packets and always yields mono for the mixer.
//!
//! - [`spec`]: `--audio-in` / `--audio-out` specs ([`AudioIn`], [`AudioOut`]).
//! - [`source`]: frame sources (tone, WAV file, silence; the microphone is in
//!   [`device`]; the [`FrameSource`] trait both implement is in [`frame`]). [`capture`]: a source paced to one frame per 20 ms, encoded,
//!   as a channel of timestamped Opus packets ([`Capture`]).
//! - [`playback`]: per-stream decoders ([`StreamSink`]: FEC/PLC on loss, level,
//!   per-stream WAV) feeding a paced mixer that writes the sink ([`Playback`]).
//! - [`codec`]: Opus encoder/decoder wrappers. [`resample`]: a streaming
//!   resampler. [`mixer`]: mixing with soft clipping. [`level`]: level meter,
//!   speaking detector. [`wav`]: WAV reading/writing.
//!   [`analysis`]: dominant frequencies (for tests). [`ring`]: the lock-free
//!   SPSC ring between cpal callbacks and our threads.
//! - [`recording`]: `/record`, the call as Ogg Opus files (received packets
//!   as they came, the mix encoded once); [`oggopus`] writes RFC 7845.
//! - [`device`]: cpal (microphone, speaker, `/devices`), with ALSA's stderr
//!   noise silenced around every probe and open ([`device::QuietStderr`]).
//!
//! Real-time rule: cpal callbacks only convert samples and touch the ring
//! (atomics); no locks, no allocation. Everything else runs on our threads.

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub mod analysis;
pub mod capture;
pub mod codec;
pub mod denoise;
pub mod device;
pub mod engine;
pub mod frame;
pub mod jitter;
pub mod level;
pub mod mixer;
pub mod oggopus;
pub mod playback;
pub mod recording;
pub mod resample;
pub mod ring;
pub mod rtc;
pub mod source;
pub mod spec;
pub mod speech;
pub mod wav;

pub use capture::{Capture, CaptureOptions, EncodedFrame};
pub use codec::{CodecError, Decoder, Encoder, EncoderConfig};
pub use denoise::{Denoise, Denoiser};
pub use device::{DeviceInfo, DeviceList, devices};
pub use level::{LevelMeter, SpeakingDetector};
pub use playback::{Playback, StreamLevel, StreamSink, StreamStats};
pub use recording::{Recorder, RecordingReport};
pub use source::{FrameSource, open_source};
pub use spec::{AudioIn, AudioOut, SpecError};

/// The sample rate of everything inside the pipeline (and of Opus).
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms mono frame at [`SAMPLE_RATE`].
pub const FRAME_SAMPLES: usize = 960;
/// The duration of one frame.
pub const FRAME_DURATION: Duration = Duration::from_millis(20);

/// How far behind its schedule a frame clock may fall before it skips ahead.
const MAX_LAG: Duration = Duration::from_millis(200);

/// Sleeps until the frame clock's `next` tick; a clock more than
/// [`MAX_LAG`] behind skips ahead to now instead of catching up.
fn wait_for_tick(next: &mut Instant) {
    let now = Instant::now();
    if *next > now {
        std::thread::sleep(*next - now);
    } else if now - *next > MAX_LAG {
        *next = now;
    }
}

/// Microphone or speaker, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Microphone,
    Speaker,
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DeviceKind::Microphone => "microphone",
            DeviceKind::Speaker => "speaker",
        })
    }
}

/// Errors of the media core. Devices that cannot be opened are values of
/// this type, never panics.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no {0} found (no sound card?); {hint}", hint = hint(*.0))]
    NoDevice(DeviceKind),
    #[error("no {kind} named \"{name}\" (see /devices)")]
    DeviceNotFound { kind: DeviceKind, name: String },
    #[error("cannot open {kind} \"{name}\": {source}; {hint}", hint = hint(*.kind))]
    Device {
        kind: DeviceKind,
        name: String,
        #[source]
        source: cpal::Error,
    },
    #[error("cannot open {kind} \"{name}\": its sample format {format} is not supported")]
    SampleFormat {
        kind: DeviceKind,
        name: String,
        format: String,
    },
    #[error("the {0} stopped delivering audio")]
    DeviceStalled(DeviceKind),
    #[error("the {0} failed while running")]
    DeviceFailed(DeviceKind),
    #[error("listing audio devices: {0}")]
    Enumerate(#[source] cpal::Error),
    #[error("{}: {source}", path.display())]
    Wav {
        path: PathBuf,
        #[source]
        source: hound::Error,
    },
    #[error("{}: {message}", path.display())]
    WavContent { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("starting the audio thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("the audio thread panicked")]
    ThreadPanicked,
    #[error("the playback has stopped")]
    PlaybackStopped,
}

fn hint(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Microphone => "use --audio-in tone:HZ, file:PATH.wav or null instead",
        DeviceKind::Speaker => "use --audio-out file:PATH.wav or null instead",
    }
}
