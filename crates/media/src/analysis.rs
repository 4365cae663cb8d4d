//! Spectral analysis for tests: the strong frequencies in a buffer or WAV,
//! and the SNR of a known tone ([`tone_snr`], strict: time-domain, per
//! 100 ms phase) and its SINAD ([`tone_sinad`], spectral).
//!
//! A Hann-windowed FFT of the whole buffer (zero-padded to a power of two,
//! at most 2^19 samples: ~11 s at 48 kHz), local maxima of the magnitude,
//! refined by parabolic interpolation of the log magnitude around the
//! peak bin. A few seconds at 48 kHz give bins of 0.1–0.4 Hz, so tones are
//! resolved well within ±1 Hz even after Opus.

use std::f64::consts::PI;
use std::path::Path;

use super::MediaError;

/// A spectral peak: frequency in Hz, amplitude as the sine amplitude it
/// corresponds to (a sine of amplitude 0.5 reads ≈ 0.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub frequency: f32,
    pub amplitude: f32,
}

/// Peaks weaker than this amplitude are noise (−50 dBFS).
pub const MIN_AMPLITUDE: f32 = 0.003;
/// Peaks weaker than this fraction of the strongest are ignored (−20 dB).
pub const RELATIVE_FLOOR: f32 = 0.1;
/// Lowest frequency considered (below is DC and rumble).
pub const MIN_FREQUENCY: f32 = 20.0;
const MAX_FFT: usize = 1 << 19;

/// The strong peaks of `samples` (mono, at `rate`), strongest first. Empty
/// for silence and noise.
pub fn spectrum_peaks(samples: &[f32], rate: u32) -> Vec<Peak> {
    if samples.len() < 64 {
        return Vec::new();
    }
    let samples = if samples.len() > MAX_FFT {
        // The middle of a long buffer.
        let start = (samples.len() - MAX_FFT) / 2;
        &samples[start..start + MAX_FFT]
    } else {
        samples
    };
    let n = samples.len().next_power_of_two().max(1024);
    let len = samples.len();
    let mut re = vec![0.0f64; n];
    let mut im = vec![0.0f64; n];
    let mut window_sum = 0.0;
    for (i, &x) in samples.iter().enumerate() {
        let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / (len - 1) as f64).cos();
        window_sum += w;
        re[i] = f64::from(x) * w;
    }
    fft(&mut re, &mut im);
    // Sine amplitude from a bin: 2|X| / Σw.
    let mag: Vec<f64> = (0..n / 2)
        .map(|k| 2.0 * (re[k] * re[k] + im[k] * im[k]).sqrt() / window_sum)
        .collect();
    let bin_hz = f64::from(rate) / n as f64;
    let lowest = ((f64::from(MIN_FREQUENCY) / bin_hz).ceil() as usize).max(1);
    let mut peaks = Vec::new();
    for k in lowest..mag.len().saturating_sub(1) {
        let (l, c, r) = (mag[k - 1], mag[k], mag[k + 1]);
        if c > l && c >= r && c as f32 >= MIN_AMPLITUDE {
            // Parabola through the log magnitudes of the three bins.
            let (la, lb, lc) = (l.max(1e-12).ln(), c.ln(), r.max(1e-12).ln());
            let denom = la - 2.0 * lb + lc;
            let delta = if denom.abs() > 1e-12 {
                (0.5 * (la - lc) / denom).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            let height = (lb - 0.25 * (la - lc) * delta).exp();
            peaks.push(Peak {
                frequency: ((k as f64 + delta) * bin_hz) as f32,
                amplitude: height as f32,
            });
        }
    }
    peaks.sort_by(|a, b| b.amplitude.total_cmp(&a.amplitude));
    if let Some(top) = peaks.first().map(|p| p.amplitude) {
        peaks.retain(|p| p.amplitude >= top * RELATIVE_FLOOR);
    }
    peaks
}

/// The strongest frequency in `samples`, if there is a clear one.
pub fn dominant_frequency(samples: &[f32], rate: u32) -> Option<f32> {
    spectrum_peaks(samples, rate).first().map(|p| p.frequency)
}

/// The strong peaks of a WAV file (mixed down to mono, at its own rate).
pub fn wav_peaks(path: &Path) -> Result<Vec<Peak>, MediaError> {
    let (samples, rate) = super::wav::read_mono(path)?;
    Ok(spectrum_peaks(&samples, rate))
}

/// The strongest frequency of a WAV file.
pub fn wav_dominant_frequency(path: &Path) -> Result<Option<f32>, MediaError> {
    Ok(wav_peaks(path)?.first().map(|p| p.frequency))
}

/// Blocks over which [`tone_snr`] fits the tone (100 ms at 48 kHz).
pub const SNR_BLOCK: usize = 4800;

/// The signal-to-noise ratio (dB) of a tone of `hz` in `samples`: the
/// tone's amplitude is the median over blocks of [`SNR_BLOCK`] samples of
/// a least-squares fit, its phase is fitted per block; the sine so made is
/// the signal, what is left is the noise — distortion, concealment's
/// errors, gaps (silence where the tone should be) and level changes all
/// count. The per-block phase means a receiver's resynchronisation (a
/// frame more or less in a jitter buffer) does not count against it.
/// `None` when there is no tone at all.
pub fn tone_snr(samples: &[f32], rate: u32, hz: f32) -> Option<f32> {
    let w = 2.0 * PI * f64::from(hz) / f64::from(rate);
    let mut fits = Vec::new();
    for (b, block) in samples.chunks(SNR_BLOCK).enumerate() {
        let start = b * SNR_BLOCK;
        // Normal equations of x ≈ a·sin + c·cos.
        let (mut ss, mut cc, mut sc, mut xs, mut xc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (i, &x) in block.iter().enumerate() {
            let t = w * (start + i) as f64;
            let (s, c) = t.sin_cos();
            let x = f64::from(x);
            ss += s * s;
            cc += c * c;
            sc += s * c;
            xs += x * s;
            xc += x * c;
        }
        let det = ss * cc - sc * sc;
        let (a, c) = if det.abs() > 1e-9 {
            ((xs * cc - xc * sc) / det, (xc * ss - xs * sc) / det)
        } else {
            (0.0, 0.0)
        };
        fits.push((a, c));
    }
    let mut amplitudes: Vec<f64> = fits.iter().map(|(a, c)| a.hypot(*c)).collect();
    amplitudes.sort_by(f64::total_cmp);
    let amplitude = amplitudes.get(amplitudes.len() / 2).copied().unwrap_or(0.0);
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for (b, block) in samples.chunks(SNR_BLOCK).enumerate() {
        let (a, c) = fits[b];
        let norm = a.hypot(c);
        // The block's phase (any phase for a silent block), the median
        // amplitude.
        let (a, c) = if norm > 1e-12 {
            (a / norm * amplitude, c / norm * amplitude)
        } else {
            (amplitude, 0.0)
        };
        for (i, &x) in block.iter().enumerate() {
            let t = w * (b * SNR_BLOCK + i) as f64;
            let fit = a * t.sin() + c * t.cos();
            signal += fit * fit;
            noise += (f64::from(x) - fit).powi(2);
        }
    }
    if amplitude <= 1e-6 {
        return None;
    }
    Some((10.0 * (signal / noise.max(1e-20)).log10()) as f32)
}

/// Half-width of the band around the tone that [`tone_sinad`] counts as
/// the signal (Hz): slow level changes (≤ 10 Hz) stay in it.
pub const SINAD_BAND: f32 = 10.0;

/// SINAD (dB) of a tone of `hz`: the power within [`SINAD_BAND`] Hz of
/// the tone over the power of everything else from 20 Hz to 20 kHz
/// (noise and distortion, what concealment and gaps add), from a
/// Hann-windowed FFT of the whole buffer (the middle 2^19 samples of a
/// longer one). Unlike [`tone_snr`] it does not care about the phase at
/// all — the classic measure of a channel carrying a test tone. `None`
/// without a tone.
pub fn tone_sinad(samples: &[f32], rate: u32, hz: f32) -> Option<f32> {
    if samples.len() < 1024 {
        return None;
    }
    let samples = if samples.len() > MAX_FFT {
        let start = (samples.len() - MAX_FFT) / 2;
        &samples[start..start + MAX_FFT]
    } else {
        samples
    };
    let n = samples.len().next_power_of_two();
    let len = samples.len();
    let mut re = vec![0.0f64; n];
    let mut im = vec![0.0f64; n];
    for (i, &x) in samples.iter().enumerate() {
        let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / (len - 1) as f64).cos();
        re[i] = f64::from(x) * w;
    }
    fft(&mut re, &mut im);
    let bin_hz = f64::from(rate) / n as f64;
    let (mut signal, mut noise) = (0.0, 0.0);
    for k in 1..n / 2 {
        let f = k as f64 * bin_hz;
        if !(f64::from(MIN_FREQUENCY)..=20_000.0).contains(&f) {
            continue;
        }
        let p = re[k] * re[k] + im[k] * im[k];
        if (f - f64::from(hz)).abs() <= f64::from(SINAD_BAND) {
            signal += p;
        } else {
            noise += p;
        }
    }
    if signal <= 1e-9 {
        return None;
    }
    Some((10.0 * (signal / noise.max(1e-20)).log10()) as f32)
}

/// `samples` without the quiet at its two ends (below `threshold`).
pub fn trim_quiet(samples: &[f32], threshold: f32) -> &[f32] {
    let start = samples.iter().position(|x| x.abs() > threshold);
    let end = samples.iter().rposition(|x| x.abs() > threshold);
    match (start, end) {
        (Some(s), Some(e)) => &samples[s..=e],
        _ => &[],
    }
}

/// In-place iterative radix-2 FFT; `re.len()` is a power of two.
fn fft(re: &mut [f64], im: &mut [f64]) {
    let n = re.len();
    debug_assert!(n.is_power_of_two() && im.len() == n);
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if j > i {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut size = 2;
    while size <= n {
        let half = size / 2;
        let step = -2.0 * PI / size as f64;
        // Twiddles for this stage, computed once.
        let tw: Vec<(f64, f64)> = (0..half)
            .map(|k| {
                let a = step * k as f64;
                (a.cos(), a.sin())
            })
            .collect();
        for start in (0..n).step_by(size) {
            for (k, &(wr, wi)) in tw.iter().enumerate() {
                let a = start + k;
                let b = a + half;
                let tr = re[b] * wr - im[b] * wi;
                let ti = re[b] * wi + im[b] * wr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        size *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, amp: f64, rate: u32, secs: f64) -> Vec<f32> {
        (0..(f64::from(rate) * secs) as usize)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()) as f32)
            .collect()
    }

    #[test]
    fn tone_snr_measures_noise_and_gaps_not_phase() {
        let clean = sine(440.0, 0.5, 48_000, 2.0);
        assert!(tone_snr(&clean, 48_000, 440.0).unwrap() > 80.0);
        // White-ish noise 40 dB below the tone.
        let mut seed = 1u32;
        let noisy: Vec<f32> = clean
            .iter()
            .map(|&x| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let u = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                x + u * 0.0122 // uniform: rms 0.0122/√12 ≈ 0.00354 = 0.354/100
            })
            .collect();
        let snr = tone_snr(&noisy, 48_000, 440.0).unwrap();
        assert!((snr - 40.0).abs() < 1.0, "{snr}");
        // A phase jump between blocks costs nothing; 10 % silence ≈ 10 dB.
        let mut jumped = sine(440.0, 0.5, 48_000, 1.0);
        jumped.extend(sine(440.0, -0.5, 48_000, 1.0));
        assert!(tone_snr(&jumped, 48_000, 440.0).unwrap() > 40.0);
        let mut gappy = clean.clone();
        for block in gappy.chunks_mut(SNR_BLOCK * 10) {
            block[..SNR_BLOCK].fill(0.0);
        }
        let snr = tone_snr(&gappy, 48_000, 440.0).unwrap();
        assert!((snr - 9.5).abs() < 1.0, "{snr}");
        assert_eq!(tone_snr(&[0.0; 9600], 48_000, 440.0), None);
        // SINAD: the same noise reads about the same (a little less of it
        // lies between 20 Hz and 20 kHz).
        let sinad = tone_sinad(&noisy, 48_000, 440.0).unwrap();
        assert!((sinad - 40.0).abs() < 1.5, "{sinad}");
        assert!(tone_sinad(&clean, 48_000, 440.0).unwrap() > 60.0);
        assert_eq!(tone_sinad(&[0.0; 9600], 48_000, 440.0), None);
        assert_eq!(
            trim_quiet(&[0.0, 0.5, 0.0, -0.5, 0.0], 0.1),
            &[0.5, 0.0, -0.5]
        );
        assert!(trim_quiet(&[0.0; 4], 0.1).is_empty());
    }

    #[test]
    fn fft_of_an_impulse_is_flat() {
        let mut re = vec![0.0; 8];
        let mut im = vec![0.0; 8];
        re[0] = 1.0;
        fft(&mut re, &mut im);
        assert!(re.iter().all(|&x| (x - 1.0).abs() < 1e-12));
        assert!(im.iter().all(|&x| x.abs() < 1e-12));
    }

    #[test]
    fn finds_tones_between_bins_with_their_amplitude() {
        for f in [440.0, 660.0, 441.3, 1234.5] {
            let peaks = spectrum_peaks(&sine(f, 0.5, 48_000, 1.0), 48_000);
            assert_eq!(peaks.len(), 1, "{f}: {peaks:?}");
            assert!(
                (f64::from(peaks[0].frequency) - f).abs() < 0.1,
                "{f}: {peaks:?}"
            );
            assert!((peaks[0].amplitude - 0.5).abs() < 0.02, "{peaks:?}");
        }
    }

    #[test]
    fn two_tones_give_two_peaks_silence_and_hum_none() {
        let a = sine(440.0, 0.3, 48_000, 2.0);
        let b = sine(660.0, 0.2, 48_000, 2.0);
        let sum: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let peaks = spectrum_peaks(&sum, 48_000);
        assert_eq!(peaks.len(), 2, "{peaks:?}");
        assert!((peaks[0].frequency - 440.0).abs() < 0.1);
        assert!((peaks[1].frequency - 660.0).abs() < 0.1);
        assert_eq!(spectrum_peaks(&vec![0.0; 96_000], 48_000), vec![]);
        assert_eq!(
            spectrum_peaks(&sine(440.0, 0.001, 48_000, 1.0), 48_000),
            vec![]
        );
        assert_eq!(spectrum_peaks(&[0.5; 10], 48_000), vec![]);
        assert_eq!(
            dominant_frequency(&sine(10.0, 0.5, 48_000, 1.0), 48_000),
            None
        );
    }
}
