//! Mixing N decoded streams into one, with clipping protection: the sum
//! passes unchanged up to a knee (−2.5 dBFS) and is bent smoothly (tanh)
//! above it, so it never reaches full scale and never wraps.

/// Where the soft clipper starts bending.
pub const KNEE: f32 = 0.75;

/// Soft clipping: identity below [`KNEE`], then a tanh curve that
/// approaches ±1 without reaching it (continuous, slope 1 at the knee).
pub fn soft_clip(x: f32) -> f32 {
    let a = x.abs();
    if a <= KNEE {
        x
    } else if a.is_nan() {
        0.0
    } else {
        let over = (a - KNEE) / (1.0 - KNEE);
        (KNEE + (1.0 - KNEE) * over.tanh()).copysign(x)
    }
}

/// Sums `inputs` into `out` (which is overwritten), then soft-clips.
/// Inputs shorter than `out` count as silence where they end.
pub fn mix_into<'a>(out: &mut [f32], inputs: impl IntoIterator<Item = &'a [f32]>) {
    out.fill(0.0);
    for input in inputs {
        for (o, &x) in out.iter_mut().zip(input) {
            *o += x;
        }
    }
    for o in out.iter_mut() {
        *o = soft_clip(*o);
    }
}

/// Float sample to 16-bit PCM (saturating).
pub fn to_i16(x: f32) -> i16 {
    (x * 32767.0).round().clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::spectrum_peaks;
    use crate::source::{FrameSource, ToneSource};
    use crate::{FRAME_SAMPLES, SAMPLE_RATE};

    #[test]
    fn soft_clip_is_transparent_below_the_knee_and_bounded_above() {
        for x in [-0.75f32, -0.3, 0.0, 0.2, 0.75] {
            assert_eq!(soft_clip(x), x);
        }
        let mut last = KNEE;
        for i in 1..200 {
            let y = soft_clip(KNEE + i as f32 * 0.05);
            assert!(y > last - 1e-6 && y <= 1.0, "monotonic and bounded: {y}");
            last = y;
        }
        assert_eq!(soft_clip(-5.0), -soft_clip(5.0));
        assert!(soft_clip(1e9) <= 1.0);
        assert_eq!(soft_clip(f32::NAN), 0.0);
        assert_eq!(to_i16(2.0), 32767);
        assert_eq!(to_i16(-2.0), -32768);
    }

    #[test]
    fn mixing_sums_streams_and_never_clips() {
        let mut a = [0.0; FRAME_SAMPLES];
        let mut b = [0.0; FRAME_SAMPLES];
        let mut out = [0.0; FRAME_SAMPLES];
        let mut mixed = Vec::new();
        let (mut ta, mut tb) = (ToneSource::new(440.0, 0.3), ToneSource::new(660.0, 0.3));
        for _ in 0..100 {
            ta.next_frame(&mut a).unwrap();
            tb.next_frame(&mut b).unwrap();
            mix_into(&mut out, [&a[..], &b[..]]);
            mixed.extend_from_slice(&out);
        }
        // 0.3 + 0.3 stays below the knee: an exact sum.
        assert_eq!(out[17], a[17] + b[17]);
        let peaks = spectrum_peaks(&mixed, SAMPLE_RATE);
        let mut f: Vec<f32> = peaks.iter().take(2).map(|p| p.frequency).collect();
        f.sort_by(f32::total_cmp);
        assert!(
            (f[0] - 440.0).abs() < 1.0 && (f[1] - 660.0).abs() < 1.0,
            "{peaks:?}"
        );

        // Five loud streams: bounded.
        let loud = [0.9f32; FRAME_SAMPLES];
        mix_into(&mut out, std::iter::repeat_n(&loud[..], 5));
        assert!(out.iter().all(|&x| x > 0.99 && x <= 1.0));
        // No streams: silence; a short stream: silence after its end.
        mix_into(&mut out, []);
        assert!(out.iter().all(|&x| x == 0.0));
        mix_into(&mut out, [&[0.5f32; 10][..]]);
        assert_eq!((out[9], out[10]), (0.5, 0.0));
    }
}
