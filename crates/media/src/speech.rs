//! Objective measures of speech for tests and benchmarks: a spoken
//! sample made with espeak-ng, the lag between a reference and what came
//! out of a path, segmental SNR, and the noise-suppression figures
//! (noise removed, voice kept).
//!
//! **Segmental SNR** (the measure the project tracks for speech): the
//! signal is cut into 20 ms frames; for each frame where the reference
//! speaks (its energy within 40 dB of the loudest frame), the SNR of the
//! output against the reference, clamped to −10…35 dB; their mean. Unlike
//! one SNR over the whole file it weighs quiet syllables like loud ones,
//! so it follows what a listener hears.

use std::path::Path;
use std::process::Command;

use super::{FRAME_SAMPLES, MediaError, SAMPLE_RATE, wav};

/// Frames whose reference energy is this far below the loudest are not
/// speech.
const ACTIVE_RANGE_DB: f32 = 40.0;
const SEG_MIN_DB: f32 = -10.0;
const SEG_MAX_DB: f32 = 35.0;

/// `text` spoken by espeak-ng, mono 48 kHz in −1..1 (espeak-ng must be
/// installed: `scripts/ensure-deps test`).
pub fn espeak(text: &str, dir: &Path) -> Result<Vec<f32>, MediaError> {
    let path = dir.join("speech.wav");
    let out = Command::new("espeak-ng")
        .args(["-v", "en", "-s", "150", "-w"])
        .arg(&path)
        .arg(text)
        .output()
        .map_err(|source| MediaError::Io {
            path: "espeak-ng (scripts/ensure-deps test installs it)".into(),
            source,
        })?;
    if !out.status.success() {
        return Err(MediaError::WavContent {
            path,
            message: format!("espeak-ng failed: {}", String::from_utf8_lossy(&out.stderr)),
        });
    }
    wav::read_mono_48k(&path)
}

/// `clean` with white noise `snr_db` under its level (its RMS over the
/// whole signal), from a fixed seed: the same noise every run.
pub fn with_white_noise(clean: &[f32], snr_db: f32, seed: u64) -> Vec<f32> {
    let rms = (energy(clean) / clean.len().max(1) as f64).sqrt() as f32;
    // A uniform variable in −a..a has an RMS of a/√3.
    let amp = rms * 10f32.powf(-snr_db / 20.0) * 3f32.sqrt();
    let mut x = seed | 1;
    clean
        .iter()
        .map(|s| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s + ((x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amp
        })
        .collect()
}

/// The sentence the noise-suppression measures speak, padded with a
/// second of silence on each side (the noise is measured there).
pub fn padded_sentence(dir: &Path) -> Result<Vec<f32>, MediaError> {
    let voice = espeak(
        "Noise suppression should remove the fan and the keyboard, \
         and keep every word of what I say.",
        dir,
    )?;
    let pad = vec![0.0; SAMPLE_RATE as usize];
    Ok([&pad[..], &voice[..], &pad[..]].concat())
}

fn energy(x: &[f32]) -> f64 {
    x.iter().map(|v| f64::from(*v) * f64::from(*v)).sum()
}

fn db(ratio: f64) -> f32 {
    (10.0 * ratio.max(1e-20).log10()) as f32
}

/// The delay (samples, up to `max_lag`) of `output` against `reference`
/// that correlates best, searched on the loudest second of the reference.
pub fn lag(reference: &[f32], output: &[f32], max_lag: usize) -> usize {
    let win = SAMPLE_RATE as usize;
    let start = (0..reference.len().saturating_sub(win))
        .step_by(FRAME_SAMPLES)
        .max_by(|a, b| {
            energy(&reference[*a..*a + win]).total_cmp(&energy(&reference[*b..*b + win]))
        })
        .unwrap_or(0);
    let r = &reference[start..(start + win).min(reference.len())];
    (0..=max_lag)
        .max_by(|a, b| {
            let c = |lag: usize| -> f64 {
                r.iter()
                    .zip(output.iter().skip(start + lag))
                    .map(|(x, y)| f64::from(*x) * f64::from(*y))
                    .sum()
            };
            c(*a).total_cmp(&c(*b))
        })
        .unwrap_or(0)
}

/// The frames (index ranges of [`FRAME_SAMPLES`]) where `reference` speaks.
fn active_frames(reference: &[f32]) -> Vec<std::ops::Range<usize>> {
    let frames: Vec<_> = (0..reference.len() / FRAME_SAMPLES)
        .map(|i| i * FRAME_SAMPLES..(i + 1) * FRAME_SAMPLES)
        .collect();
    let loudest = frames
        .iter()
        .map(|f| energy(&reference[f.clone()]))
        .fold(0.0, f64::max);
    let floor = loudest * 10f64.powf(-f64::from(ACTIVE_RANGE_DB) / 10.0);
    frames
        .into_iter()
        .filter(|f| loudest > 0.0 && energy(&reference[f.clone()]) > floor)
        .collect()
}

/// Segmental SNR (dB) of `output` against `reference` (aligned: same
/// start), over the frames where the reference speaks.
pub fn segmental_snr(reference: &[f32], output: &[f32]) -> Option<f32> {
    let n = reference.len().min(output.len());
    let frames = active_frames(&reference[..n]);
    if frames.is_empty() {
        return None;
    }
    let sum: f32 = frames
        .iter()
        .map(|f| {
            let s = energy(&reference[f.clone()]);
            let e: f64 = reference[f.clone()]
                .iter()
                .zip(&output[f.clone()])
                .map(|(r, o)| {
                    let d = f64::from(*r) - f64::from(*o);
                    d * d
                })
                .sum();
            db(s / e.max(1e-20)).clamp(SEG_MIN_DB, SEG_MAX_DB)
        })
        .sum();
    Some(sum / frames.len() as f32)
}

/// What noise suppression did to a noisy voice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Suppression {
    /// Energy of the noise where nobody speaks, before over after (dB).
    pub noise_removed_db: f32,
    /// Energy of the output where the voice speaks, over the clean
    /// voice's there (dB; 0 = kept whole, negative = lost).
    pub voice_kept_db: f32,
    /// Segmental SNR of the noisy input against the clean voice.
    pub seg_snr_before: f32,
    /// … and of the output.
    pub seg_snr_after: f32,
}

/// Compares `clean`, the `noisy` input made from it, and `output` (the
/// noisy input through a suppressor, delayed by up to `max_lag`
/// samples). Frames before `settle` samples are left out (a model
/// settling).
pub fn suppression(
    clean: &[f32],
    noisy: &[f32],
    output: &[f32],
    max_lag: usize,
    settle: usize,
) -> Option<Suppression> {
    let delay = lag(clean, output, max_lag);
    let output = output.get(delay..)?;
    let n = clean.len().min(output.len()).min(noisy.len());
    let (clean, noisy, output) = (&clean[settle..n], &noisy[settle..n], &output[settle..n]);
    let active = active_frames(clean);
    let is_active = |i: usize| active.iter().any(|f| f.start == i);
    let (mut noise_in, mut noise_out, mut voice_in, mut voice_out) = (0.0, 0.0, 0.0, 0.0);
    for i in (0..n - settle).step_by(FRAME_SAMPLES) {
        let f = i..(i + FRAME_SAMPLES).min(n - settle);
        if is_active(i) {
            voice_in += energy(&clean[f.clone()]);
            voice_out += energy(&output[f]);
        } else if energy(&clean[f.clone()]) == 0.0 {
            noise_in += energy(&noisy[f.clone()]);
            noise_out += energy(&output[f]);
        }
    }
    Some(Suppression {
        noise_removed_db: db(noise_in / noise_out.max(1e-20)),
        voice_kept_db: db(voice_out / voice_in.max(1e-20)),
        seg_snr_before: segmental_snr(clean, noisy)?,
        seg_snr_after: segmental_snr(clean, output)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, hz: f32, amp: f32) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (std::f32::consts::TAU * hz * i as f32 / SAMPLE_RATE as f32).sin())
            .collect()
    }

    #[test]
    fn lag_finds_a_delay_and_segmental_snr_follows_the_error() {
        let r = tone(96_000, 310.0, 0.5)
            .iter()
            .zip(tone(96_000, 1130.0, 0.2))
            .map(|(a, b)| a + b)
            .collect::<Vec<_>>();
        let mut delayed = vec![0.0; 480];
        delayed.extend_from_slice(&r);
        assert_eq!(lag(&r, &delayed, 960), 480);
        assert_eq!(segmental_snr(&r, &r), Some(SEG_MAX_DB));
        let half: Vec<f32> = r.iter().map(|x| x * 0.5).collect();
        // An error of half the signal: 6 dB.
        let s = segmental_snr(&r, &half).unwrap();
        assert!((s - 6.02).abs() < 0.1, "{s}");
        assert_eq!(segmental_snr(&[0.0; 4800], &[0.0; 4800]), None);
    }
}
