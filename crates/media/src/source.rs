//! Frame sources: where the sent audio comes from, one 20 ms frame (960
//! samples of 48 kHz mono) at a time.
//!
//! Tone, file and silence are synthetic: they produce frames as fast as
//! asked, so [`capture`](super::capture) paces them with its own 20 ms
//! timer ([`FrameSource::needs_pacing`]). The microphone
//! ([`device::MicSource`](super::device::MicSource)) blocks until the device
//! delivered a frame and is paced by the sound card.

use std::path::Path;

pub use super::frame::FrameSource;
use super::spec::AudioIn;
use super::{FRAME_SAMPLES, MediaError, SAMPLE_RATE, device, wav};

/// Opens the source an `--audio-in` spec names. A microphone that cannot be
/// opened is an error value (with ALSA's stderr noise silenced).
pub fn open_source(spec: &AudioIn) -> Result<Box<dyn FrameSource>, MediaError> {
    Ok(match spec {
        AudioIn::Tone(hz) => Box::new(ToneSource::new(*hz, 0.5)),
        AudioIn::File(path) => Box::new(WavSource::open(path)?),
        AudioIn::Null => Box::new(SilenceSource),
        AudioIn::Default => Box::new(device::MicSource::open(None)?),
        AudioIn::Device(name) => Box::new(device::MicSource::open(Some(name))?),
    })
}

/// A sine wave (phase kept in f64, so the frequency is exact over hours).
#[derive(Debug, Clone)]
pub struct ToneSource {
    frequency: f32,
    amplitude: f32,
    phase: f64,
    step: f64,
}

impl ToneSource {
    /// A sine of `frequency` Hz and peak `amplitude` (0.5 = −6 dBFS).
    pub fn new(frequency: f32, amplitude: f32) -> ToneSource {
        ToneSource {
            frequency,
            amplitude,
            phase: 0.0,
            step: f64::from(frequency) / f64::from(SAMPLE_RATE),
        }
    }
}

impl FrameSource for ToneSource {
    fn next_frame(&mut self, out: &mut [f32]) -> Result<(), MediaError> {
        for x in out.iter_mut() {
            *x = self.amplitude * (std::f64::consts::TAU * self.phase).sin() as f32;
            self.phase += self.step;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("tone {} Hz", self.frequency)
    }
}

/// Silence.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilenceSource;

impl FrameSource for SilenceSource {
    fn next_frame(&mut self, out: &mut [f32]) -> Result<(), MediaError> {
        out.fill(0.0);
        Ok(())
    }

    fn describe(&self) -> String {
        "silence".into()
    }
}

/// A WAV file, read whole at open (any rate and channel count, mixed down
/// and resampled to 48 kHz mono), played in a loop.
#[derive(Debug, Clone)]
pub struct WavSource {
    name: String,
    samples: Vec<f32>,
    pos: usize,
}

impl WavSource {
    pub fn open(path: &Path) -> Result<WavSource, MediaError> {
        let samples = wav::read_mono_48k(path)?;
        if samples.is_empty() {
            return Err(MediaError::WavContent {
                path: path.to_path_buf(),
                message: "contains no audio".into(),
            });
        }
        Ok(WavSource {
            name: path.display().to_string(),
            samples,
            pos: 0,
        })
    }

    /// Length of one pass through the file, in samples at 48 kHz.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

impl FrameSource for WavSource {
    fn next_frame(&mut self, out: &mut [f32]) -> Result<(), MediaError> {
        let mut filled = 0;
        while filled < out.len() {
            let n = (out.len() - filled).min(self.samples.len() - self.pos);
            out[filled..filled + n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
            filled += n;
            self.pos = (self.pos + n) % self.samples.len();
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("file {} (looping)", self.name)
    }
}

/// A frame-sized buffer.
pub fn frame_buffer() -> Box<[f32; FRAME_SAMPLES]> {
    Box::new([0.0; FRAME_SAMPLES])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dominant_frequency;

    fn frames(src: &mut dyn FrameSource, n: usize) -> Vec<f32> {
        let mut frame = frame_buffer();
        let mut all = Vec::new();
        for _ in 0..n {
            src.next_frame(&mut frame[..]).unwrap();
            all.extend_from_slice(&frame[..]);
        }
        all
    }

    #[test]
    fn tone_source_is_a_continuous_sine() {
        let mut src = open_source(&AudioIn::Tone(440.0)).unwrap();
        assert!(src.needs_pacing());
        assert_eq!(src.describe(), "tone 440 Hz");
        let all = frames(src.as_mut(), 100);
        let f = dominant_frequency(&all, SAMPLE_RATE).unwrap();
        assert!((f - 440.0).abs() < 0.2, "{f}");
        let peak = all.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!((peak - 0.5).abs() < 1e-3);
        // No jump at frame boundaries.
        let max_step = all
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        assert!(max_step < 0.03, "{max_step}");
    }

    #[test]
    fn null_source_is_silent() {
        let mut src = open_source(&AudioIn::Null).unwrap();
        assert!(frames(src.as_mut(), 5).iter().all(|&x| x == 0.0));
    }

    #[test]
    fn file_source_resamples_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        // 0.5 s of 660 Hz at 44.1 kHz.
        let tone: Vec<f32> = (0..22_050)
            .map(|i| (0.4 * (std::f64::consts::TAU * 660.0 * f64::from(i) / 44_100.0).sin()) as f32)
            .collect();
        wav::write_mono(&path, &tone, 44_100).unwrap();
        let mut src = open_source(&AudioIn::File(path.clone())).unwrap();
        assert!(src.describe().ends_with("t.wav (looping)"));
        let all = frames(src.as_mut(), 100); // 2 s: four passes
        assert!(all.iter().filter(|x| x.abs() > 0.3).count() > 10_000);
        let f = dominant_frequency(&all[..24_000], SAMPLE_RATE).unwrap();
        assert!((f - 660.0).abs() < 1.0, "{f}");
        let w = WavSource::open(&path).unwrap();
        assert!((w.len() as i64 - 24_000).abs() < 4);
        // The second pass starts where the first did.
        assert_eq!(all[w.len()..w.len() + 100], all[..100]);
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.wav");
        wav::write_mono(&empty, &[], 48_000).unwrap();
        let e = open_source(&AudioIn::File(empty))
            .err()
            .unwrap()
            .to_string();
        assert!(e.ends_with("empty.wav: contains no audio"), "{e}");
        let e = open_source(&AudioIn::File(dir.path().join("nope.wav")))
            .err()
            .unwrap();
        assert!(e.to_string().contains("nope.wav"), "{e}");
    }
}
