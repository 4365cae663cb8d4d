//! Noise suppression and voice activity on the sent audio: RNNoise
//! (the pure-Rust `nnnoiseless`) on each 20 ms frame, as two of its 10 ms
//! frames, and its voice probability turned into a speaking flag with a
//! hangover (so the ends of words are not cut).
//!
//! [`Denoise::Auto`] (the default) suppresses noise on a microphone only:
//! the synthetic sources (a tone, a file) are sent as they are unless
//! `/denoise on` asks. [`Denoise::Gate`] also gates the transmission:
//! while nobody speaks, silence is sent.

use nnnoiseless::DenoiseState;

use super::FRAME_SAMPLES;

/// RNNoise's frame: 10 ms at 48 kHz.
const RNN_FRAME: usize = DenoiseState::FRAME_SIZE;
/// RNNoise reads 16-bit sample values as floats.
const SCALE: f32 = 32_768.0;
/// Voice probability at which a frame counts as speech.
pub const VOICE_THRESHOLD: f32 = 0.6;
/// Frames a speaking flag outlasts the last voiced frame (300 ms).
const HANGOVER: u32 = 15;

/// What is done to the sent audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Denoise {
    /// Suppress noise from a microphone; synthetic sources pass unchanged.
    #[default]
    Auto,
    /// Suppress noise from any source.
    On,
    /// Suppress noise and send silence while no voice is heard.
    Gate,
    /// Send what the source gives.
    Off,
}

impl Denoise {
    pub fn parse(s: &str) -> Option<Denoise> {
        Some(match s {
            "auto" => Denoise::Auto,
            "on" => Denoise::On,
            "gate" => Denoise::Gate,
            "off" => Denoise::Off,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Denoise::Auto => "auto",
            Denoise::On => "on",
            Denoise::Gate => "gate",
            Denoise::Off => "off",
        }
    }

    /// Whether a source (`live`: a microphone) is denoised.
    pub fn applies(self, live: bool) -> bool {
        match self {
            Denoise::Auto => live,
            Denoise::On | Denoise::Gate => true,
            Denoise::Off => false,
        }
    }

    pub(crate) fn to_u8(self) -> u8 {
        match self {
            Denoise::Auto => 0,
            Denoise::On => 1,
            Denoise::Gate => 2,
            Denoise::Off => 3,
        }
    }

    pub(crate) fn from_u8(v: u8) -> Denoise {
        match v {
            1 => Denoise::On,
            2 => Denoise::Gate,
            3 => Denoise::Off,
            _ => Denoise::Auto,
        }
    }
}

/// One stream's noise suppressor and voice detector.
pub struct Denoiser {
    state: Box<DenoiseState<'static>>,
    input: Vec<f32>,
    output: Vec<f32>,
    hang: u32,
}

impl Default for Denoiser {
    fn default() -> Denoiser {
        Denoiser::new()
    }
}

impl std::fmt::Debug for Denoiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Denoiser")
            .field("hang", &self.hang)
            .finish()
    }
}

impl Denoiser {
    pub fn new() -> Denoiser {
        Denoiser {
            state: DenoiseState::new(),
            input: vec![0.0; RNN_FRAME],
            output: vec![0.0; RNN_FRAME],
            hang: 0,
        }
    }

    /// Suppresses the noise of one frame in place (any multiple of 10 ms;
    /// a tail shorter than that passes unchanged) and returns the highest
    /// voice probability of its parts (0–1).
    pub fn process(&mut self, frame: &mut [f32]) -> f32 {
        let mut voice: f32 = 0.0;
        for part in frame.chunks_exact_mut(RNN_FRAME) {
            for (i, x) in self.input.iter_mut().zip(part.iter()) {
                *i = x * SCALE;
            }
            let p = self.state.process_frame(&mut self.output, &self.input);
            for (x, o) in part.iter_mut().zip(self.output.iter()) {
                *x = (o / SCALE).clamp(-1.0, 1.0);
            }
            voice = voice.max(p);
        }
        voice
    }

    /// Whether someone speaks, from a frame's voice probability: true on a
    /// voiced frame and for [`HANGOVER`] frames after it.
    pub fn speaking(&mut self, voice: f32) -> bool {
        if voice >= VOICE_THRESHOLD {
            self.hang = HANGOVER;
            true
        } else if self.hang > 0 {
            self.hang -= 1;
            true
        } else {
            false
        }
    }
}

/// Frames of [`FRAME_SAMPLES`] split into RNNoise's frames with nothing
/// left over (checked at compile time).
const _: () = assert!(FRAME_SAMPLES.is_multiple_of(RNN_FRAME));

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(seed: &mut u64, n: usize, amp: f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                ((*seed >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amp
            })
            .collect()
    }

    fn energy(x: &[f32]) -> f32 {
        x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32
    }

    #[test]
    fn steady_noise_is_removed_and_not_taken_for_a_voice() {
        // (White noise without a voice: RNNoise removes most of it.)
        let mut d = Denoiser::new();
        let mut seed = 7;
        let mut before = 0.0;
        let mut after = 0.0;
        let mut voiced = 0;
        for i in 0..200 {
            let mut f = noise(&mut seed, FRAME_SAMPLES, 0.05);
            let e = energy(&f);
            let p = d.process(&mut f);
            // The first second is the model settling.
            if i >= 50 {
                before += e;
                after += energy(&f);
                voiced += usize::from(d.speaking(p));
            }
        }
        let removed = 10.0 * (before / after.max(1e-12)).log10();
        assert!(removed > 15.0, "{removed} dB");
        assert!(voiced < 10, "{voiced} of 150 frames");
    }

    #[test]
    fn the_speaking_flag_outlasts_a_word_by_the_hangover() {
        let mut d = Denoiser::new();
        assert!(!d.speaking(0.1));
        assert!(d.speaking(0.9));
        for _ in 0..HANGOVER {
            assert!(d.speaking(0.0));
        }
        assert!(!d.speaking(0.0));
    }

    #[test]
    fn modes_parse_and_apply() {
        for m in [Denoise::Auto, Denoise::On, Denoise::Gate, Denoise::Off] {
            assert_eq!(Denoise::parse(m.name()), Some(m));
            assert_eq!(Denoise::from_u8(m.to_u8()), m);
        }
        assert_eq!(Denoise::parse("loud"), None);
        assert!(Denoise::Auto.applies(true) && !Denoise::Auto.applies(false));
        assert!(Denoise::On.applies(false) && Denoise::Gate.applies(false));
        assert!(!Denoise::Off.applies(true));
    }
}

/// The noise-suppression figure on a spoken sample (espeak-ng) with
/// white noise added: what [`Denoiser`] removes and keeps.
#[cfg(test)]
mod speech_tests {
    use super::*;
    use crate::speech::{padded_sentence, suppression, with_white_noise};

    #[test]
    fn a_noisy_voice_keeps_the_voice_and_loses_the_noise() {
        let dir = tempfile::tempdir().unwrap();
        let clean = padded_sentence(dir.path()).expect("espeak-ng");
        let noisy = with_white_noise(&clean, 10.0, 0x5eed);
        let mut d = Denoiser::new();
        let mut out = noisy.clone();
        let speaking: Vec<bool> = out
            .chunks_exact_mut(FRAME_SAMPLES)
            .map(|f| {
                let p = d.process(f);
                d.speaking(p)
            })
            .collect();
        let s = suppression(&clean, &noisy, &out, 1_440, 24_000).unwrap();
        println!("{s:?}");
        assert!(s.noise_removed_db >= 10.0, "{s:?}");
        assert!(s.voice_kept_db >= -3.0, "{s:?}");
        assert!(s.seg_snr_after >= s.seg_snr_before + 3.0, "{s:?}");
        // The voice detector: quiet over the first second's noise (after
        // half a second settling), speaking for most of the sentence.
        let second = crate::SAMPLE_RATE as usize / FRAME_SAMPLES;
        let before = speaking[second / 2..second].iter().filter(|s| **s).count();
        let during = &speaking[second..speaking.len() - second];
        let heard = during.iter().filter(|s| **s).count() as f32 / during.len() as f32;
        println!("voice heard in {before} noise frames, {heard:.2} of the sentence");
        assert!(before <= 2, "{before}");
        assert!(heard >= 0.6, "{heard}");
    }
}
