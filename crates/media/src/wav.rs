//! WAV files (hound): reading any PCM/float WAV as mono, writing the
//! pipeline's 48 kHz mono 16-bit audio, and the file names of per-stream
//! recordings.
//!
//! A [`WavSink`] updates the WAV header about once a second, so a file that
//! is still being written (or whose writer was killed) is a valid WAV with
//! everything up to the last update.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::mixer::to_i16;
use super::resample::resample;
use super::{FRAME_SAMPLES, MediaError, SAMPLE_RATE};

/// Frames between header updates (1 s).
const FLUSH_EVERY: usize = 50;

/// Writes 48 kHz mono 16-bit WAV.
pub struct WavSink {
    path: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    samples_since_flush: usize,
}

impl WavSink {
    pub fn create(path: &Path) -> Result<WavSink, MediaError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|e| wav_error(path, e))?;
        Ok(WavSink {
            path: path.to_path_buf(),
            writer: Some(writer),
            samples_since_flush: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends samples (−1..1; beyond that they saturate).
    pub fn write(&mut self, samples: &[f32]) -> Result<(), MediaError> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let mut w = writer.get_i16_writer(samples.len() as u32);
        for &x in samples {
            w.write_sample(to_i16(x));
        }
        w.flush().map_err(|e| wav_error(&self.path, e))?;
        self.samples_since_flush += samples.len();
        if self.samples_since_flush >= FLUSH_EVERY * FRAME_SAMPLES {
            self.samples_since_flush = 0;
            writer.flush().map_err(|e| wav_error(&self.path, e))?;
        }
        Ok(())
    }

    /// Writes the final header.
    pub fn finish(mut self) -> Result<(), MediaError> {
        match self.writer.take() {
            Some(w) => w.finalize().map_err(|e| wav_error(&self.path, e)),
            None => Ok(()),
        }
    }
}

fn wav_error(path: &Path, source: hound::Error) -> MediaError {
    MediaError::Wav {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a WAV file (8/16/24/32-bit integer or 32-bit float, any number of
/// channels) as mono −1..1 samples at its own rate: `(samples, rate)`.
pub fn read_mono(path: &Path) -> Result<(Vec<f32>, u32), MediaError> {
    let mut reader = hound::WavReader::open(path).map_err(|e| wav_error(path, e))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 || spec.sample_rate == 0 {
        return Err(MediaError::WavContent {
            path: path.to_path_buf(),
            message: "no channels or no sample rate".into(),
        });
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| wav_error(path, e))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| wav_error(path, e))?
        }
    };
    let mono = if channels == 1 {
        interleaved
    } else {
        interleaved
            .chunks_exact(channels)
            .map(|c| c.iter().sum::<f32>() / channels as f32)
            .collect()
    };
    Ok((mono, spec.sample_rate))
}

/// Reads a WAV file as 48 kHz mono.
pub fn read_mono_48k(path: &Path) -> Result<Vec<f32>, MediaError> {
    let (samples, rate) = read_mono(path)?;
    Ok(resample(&samples, rate, SAMPLE_RATE))
}

/// Writes mono samples at `rate` as a 16-bit WAV (for tests and tools).
pub fn write_mono(path: &Path, samples: &[f32], rate: u32) -> Result<(), MediaError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(|e| wav_error(path, e))?;
    for &x in samples {
        w.write_sample(to_i16(x)).map_err(|e| wav_error(path, e))?;
    }
    w.finalize().map_err(|e| wav_error(path, e))
}

/// The file name (`NAME.wav`) of a stream's recording in `--audio-out-dir`:
/// an `xmpp:` entity loses its scheme (`xmpp:alice@localhost` →
/// `alice@localhost.wav`); other entities keep it. Anything but ASCII
/// letters, digits and `@ . _ + -` becomes `_`, a leading dot becomes `_`,
/// and the name is at most 100 characters; an empty one is `stream`.
pub fn stream_file_name(entity: &str) -> String {
    let stem = entity.strip_prefix("xmpp:").unwrap_or(entity);
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | '+' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    if name.is_empty() {
        name.push_str("stream");
    }
    name.push_str(".wav");
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dominant_frequency;

    #[test]
    fn sink_round_trip_and_readable_while_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        let mut sink = WavSink::create(&path).unwrap();
        let frame: Vec<f32> = (0..FRAME_SAMPLES)
            .map(|i| (i as f32 / 960.0) - 0.5)
            .collect();
        for _ in 0..60 {
            sink.write(&frame).unwrap();
        }
        // Still open: the header covers at least the first second.
        let (partial, rate) = read_mono(&path).unwrap();
        assert_eq!(rate, SAMPLE_RATE);
        assert!(partial.len() >= 50 * FRAME_SAMPLES, "{}", partial.len());
        sink.finish().unwrap();
        let (all, _) = read_mono(&path).unwrap();
        assert_eq!(all.len(), 60 * FRAME_SAMPLES);
        for (a, b) in all.iter().zip(&frame) {
            assert!((a - b).abs() < 1.0 / 16384.0);
        }
    }

    #[test]
    fn stereo_24_bit_44_1k_reads_as_48k_mono() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..44_100 {
            let x = (2.0 * std::f64::consts::PI * 440.0 * f64::from(i) / 44_100.0).sin();
            let s = (x * 0.5 * 8_388_607.0) as i32;
            w.write_sample(s).unwrap();
            w.write_sample(s / 2).unwrap();
        }
        w.finalize().unwrap();
        let samples = read_mono_48k(&path).unwrap();
        assert!((samples.len() as i64 - 48_000).abs() < 4);
        let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!((peak - 0.375).abs() < 0.01, "mixed down: {peak}");
        let f = dominant_frequency(&samples, SAMPLE_RATE).unwrap();
        assert!((f - 440.0).abs() < 0.5, "{f}");
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not.wav");
        std::fs::write(&path, b"hello").unwrap();
        let e = read_mono(&path).unwrap_err().to_string();
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        let e = read_mono(&dir.path().join("missing.wav"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.wav"), "{e}");
        let e = WavSink::create(&dir.path().join("no/such/dir.wav"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("no/such/dir.wav"), "{e}");
    }

    #[test]
    fn stream_file_names_are_safe() {
        assert_eq!(
            stream_file_name("xmpp:alice@localhost"),
            "alice@localhost.wav"
        );
        assert_eq!(
            stream_file_name("sip:bob@example.org"),
            "sip_bob@example.org.wav"
        );
        assert_eq!(stream_file_name("../../etc/passwd"), "_._.._etc_passwd.wav");
        assert_eq!(stream_file_name("xmpp:"), "stream.wav");
        assert_eq!(stream_file_name("a\u{1b}[2Jb/c\\d é"), "a__2Jb_c_d__.wav");
        assert_eq!(stream_file_name(&"x".repeat(300)).len(), 104);
    }
}
