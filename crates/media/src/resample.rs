//! A streaming resampler: 4-point cubic (Catmull-Rom) interpolation with an
//! exact rational clock, so a tone keeps its frequency exactly across rates
//! (44.1 kHz → 48 kHz and back). No anti-aliasing filter: good enough for
//! voice between the usual device rates (44.1/48 kHz); a device far below
//! 48 kHz folds content above its Nyquist frequency back.
//!
//! Runs on our own threads (it keeps a small growing buffer), never in a
//! cpal callback.

/// Converts a mono stream from one rate to another, chunk by chunk.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    /// Input not yet fully consumed, starting one sample before `index`.
    pending: Vec<f32>,
    /// Position of the next output in `pending`: `index + frac / to`.
    index: usize,
    frac: u64,
}

impl Resampler {
    pub fn new(from: u32, to: u32) -> Resampler {
        assert!(from > 0 && to > 0, "sample rates are positive");
        Resampler {
            from,
            to,
            // One sample of history (silence) so the first output has a
            // left neighbour.
            pending: vec![0.0],
            index: 1,
            frac: 0,
        }
    }

    pub fn from_rate(&self) -> u32 {
        self.from
    }

    pub fn to_rate(&self) -> u32 {
        self.to
    }

    pub fn is_passthrough(&self) -> bool {
        self.from == self.to
    }

    /// Appends the resampled form of `input` to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if self.is_passthrough() {
            out.extend_from_slice(input);
            return;
        }
        self.pending.extend_from_slice(input);
        let to = u64::from(self.to);
        let from = u64::from(self.from);
        // Cubic interpolation at `index + t` needs index-1 ..= index+2.
        while self.index + 2 < self.pending.len() {
            let p = &self.pending[self.index - 1..self.index + 3];
            let t = (self.frac as f64 / to as f64) as f32;
            out.push(catmull_rom(p[0], p[1], p[2], p[3], t));
            self.frac += from;
            self.index += (self.frac / to) as usize;
            self.frac %= to;
        }
        // Keep one sample of history before `index`.
        let keep_from = self.index.saturating_sub(1).min(self.pending.len());
        if keep_from > 0 {
            self.pending.drain(..keep_from);
            self.index -= keep_from;
        }
    }

    /// Output samples that `input_len` more input samples will yield, at most
    /// (for sizing buffers).
    pub fn max_output(&self, input_len: usize) -> usize {
        (input_len as u64 * u64::from(self.to) / u64::from(self.from)) as usize + 3
    }
}

fn catmull_rom(p0: f32, p1: f32, p2: f32, p3: f32, t: f32) -> f32 {
    let a = -0.5 * p0 + 1.5 * p1 - 1.5 * p2 + 0.5 * p3;
    let b = p0 - 2.5 * p1 + 2.0 * p2 - 0.5 * p3;
    let c = -0.5 * p0 + 0.5 * p2;
    ((a * t + b) * t + c) * t + p1
}

/// Resamples a whole buffer at once.
pub fn resample(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    let mut r = Resampler::new(from, to);
    let mut out = Vec::with_capacity(r.max_output(input.len()));
    r.process(input, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dominant_frequency;

    fn tone(freq: f64, rate: u32, secs: f64) -> Vec<f32> {
        let n = (f64::from(rate) * secs) as usize;
        (0..n)
            .map(|i| {
                (0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn tone_frequency_survives_44_1k_to_48k_and_back() {
        let input = tone(440.0, 44_100, 2.0);
        // In odd-sized chunks, as a device would deliver them.
        let mut r = Resampler::new(44_100, 48_000);
        let mut out = Vec::new();
        for chunk in input.chunks(441) {
            r.process(chunk, &mut out);
        }
        let expected = input.len() as f64 * 48_000.0 / 44_100.0;
        assert!(
            (out.len() as f64 - expected).abs() < 4.0,
            "{} vs {expected}",
            out.len()
        );
        let f = dominant_frequency(&out, 48_000).expect("a tone");
        assert!((f - 440.0).abs() < 0.5, "{f}");

        let back = resample(&out, 48_000, 44_100);
        let f = dominant_frequency(&back, 44_100).expect("a tone");
        assert!((f - 440.0).abs() < 0.5, "{f}");
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let input = tone(1000.0, 44_100, 0.2);
        let whole = resample(&input, 44_100, 48_000);
        let mut r = Resampler::new(44_100, 48_000);
        let mut parts = Vec::new();
        for chunk in input.chunks(37) {
            r.process(chunk, &mut parts);
        }
        assert_eq!(whole, parts);
    }

    #[test]
    fn same_rate_passes_through() {
        let input = tone(300.0, 48_000, 0.05);
        assert_eq!(resample(&input, 48_000, 48_000), input);
    }
}
