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

/// Where `reference` starts in `output` (samples, up to `max_lag`), for
/// long searches: first by the envelopes (RMS per 10 ms), then to the
/// sample by correlating the loudest second of the reference within
/// ±10 ms of that. `None` when either is silent or too short.
pub fn align(reference: &[f32], output: &[f32], max_lag: usize) -> Option<usize> {
    const HOP: usize = FRAME_SAMPLES / 2;
    let envelope = |x: &[f32]| -> Vec<f64> {
        x.chunks_exact(HOP)
            .map(|c| (energy(c) / HOP as f64).sqrt())
            .collect()
    };
    let (er, eo) = (envelope(reference), envelope(output));
    // The output may end before the reference does, but not before most
    // of it.
    if er.is_empty() || eo.len() < er.len() * 3 / 4 {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let coarse = (0..=(max_lag / HOP).min(eo.len() - er.len() * 3 / 4))
        .map(|k| {
            let o = &eo[k..(k + er.len()).min(eo.len())];
            let r = &er[..o.len()];
            let (mr, mo) = (mean(r), mean(o));
            let (mut num, mut den) = (0.0, 0.0);
            for (a, b) in r.iter().zip(o) {
                num += (a - mr) * (b - mo);
                den += (b - mo) * (b - mo);
            }
            (
                k,
                if den > 0.0 {
                    num / den.sqrt()
                } else {
                    f64::MIN
                },
            )
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?
        .0
        * HOP;
    let win = (SAMPLE_RATE as usize).min(reference.len());
    let start = (0..=reference.len() - win)
        .step_by(FRAME_SAMPLES)
        .max_by(|a, b| {
            energy(&reference[*a..*a + win]).total_cmp(&energy(&reference[*b..*b + win]))
        })?;
    let r = &reference[start..start + win];
    let from = coarse.saturating_sub(HOP);
    let to = (coarse + HOP)
        .min(max_lag)
        .min(output.len().saturating_sub(start + win));
    (from..=to.max(from)).max_by(|a, b| {
        let c = |lag: usize| -> f64 {
            r.iter()
                .zip(&output[start + lag..])
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum()
        };
        c(*a).total_cmp(&c(*b))
    })
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

/// [`segmental_snr`] of `output` against `reference`, which starts at
/// `lag` in it, following changes of delay of up to ±`slack` samples (an
/// adaptive playout waits or skips a frame; a listener does not hear the
/// shift, one alignment for the whole would count every frame after it):
/// each 0.5 s block of the reference is aligned on its own
/// ([`align`] within ±`slack` of `lag`). What was lost, concealed or cut
/// still counts, in its frames.
pub fn tracked_segmental_snr(
    reference: &[f32],
    output: &[f32],
    lag: usize,
    slack: usize,
) -> Option<f32> {
    const BLOCK: usize = SAMPLE_RATE as usize / 2;
    let active = active_frames(reference);
    let (mut sum, mut counted) = (0.0, 0usize);
    for block in (0..reference.len()).step_by(BLOCK) {
        let end = (block + BLOCK).min(reference.len());
        let frames: Vec<_> = active
            .iter()
            .filter(|f| f.start >= block && f.start < end)
            .collect();
        if frames.is_empty() {
            continue;
        }
        let low = (block + lag).saturating_sub(slack);
        let Some(window) = output.get(low..(block + lag + slack + BLOCK).min(output.len())) else {
            continue;
        };
        let at = low
            + align(&reference[block..end], window, block + lag + slack - low)
                .unwrap_or(block + lag - low);
        for f in frames {
            let Some(o) = output.get(at + f.start - block..at + f.end - block) else {
                continue;
            };
            counted += 1;
            let s = energy(&reference[f.clone()]);
            let e: f64 = reference[f.clone()]
                .iter()
                .zip(o)
                .map(|(r, o)| {
                    let d = f64::from(*r) - f64::from(*o);
                    d * d
                })
                .sum();
            sum += db(s / e.max(1e-20)).clamp(SEG_MIN_DB, SEG_MAX_DB);
        }
    }
    (counted > 0).then(|| sum / counted as f32)
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

    #[test]
    fn align_finds_a_long_delay_to_the_sample() {
        // A "sentence": bursts of two tones with pauses between them.
        let r: Vec<f32> = tone(144_000, 310.0, 0.5)
            .iter()
            .zip(tone(144_000, 1130.0, 0.2))
            .enumerate()
            .map(|(i, (a, b))| if (i / 9_600) % 3 == 1 { 0.0 } else { a + b })
            .collect();
        let delay = 37_123;
        let mut out = vec![0.0; delay];
        out.extend_from_slice(&r);
        out.extend(std::iter::repeat_n(0.0, 10_000));
        assert_eq!(align(&r, &out, 48_000), Some(delay));
        assert_eq!(align(&r, &out[..delay + r.len() / 3], 48_000), None);
        assert_eq!(
            align(&r, &out[..delay + r.len() - 9_600], 48_000),
            Some(delay)
        );
    }

    #[test]
    fn tracked_segmental_snr_follows_a_change_of_delay() {
        let r: Vec<f32> = tone(96_000, 310.0, 0.5)
            .iter()
            .zip(tone(96_000, 1130.0, 0.2))
            .map(|(a, b)| a + b)
            .collect();
        // 480 samples late, then 1180 from the second second on (silence
        // inserted at a block's edge: both tones' phases turn over).
        let mut out = vec![0.0; 480];
        out.extend_from_slice(&r[..48_000]);
        out.extend(std::iter::repeat_n(0.0, 700));
        out.extend_from_slice(&r[48_000..]);
        let fixed = segmental_snr(&r, &out[480..]).unwrap();
        let tracked = tracked_segmental_snr(&r, &out, 480, 960).unwrap();
        // The second half counts as noise when aligned once.
        assert!(fixed < 20.0, "{fixed}");
        assert!(tracked > 30.0 && tracked > fixed + 10.0, "{tracked}");
    }
}
