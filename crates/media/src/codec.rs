//! Opus (libopus through the `opus` crate): a mono 48 kHz 20 ms VoIP encoder
//! with in-band FEC, and a decoder that yields mono from mono or stereo
//! packets (libopus downmixes when the decoder has fewer channels than the
//! stream), with FEC recovery and concealment for lost packets.

use super::{FRAME_SAMPLES, SAMPLE_RATE};

/// Largest packet we produce (libopus recommends 4000 bytes as a bound).
pub const MAX_PACKET: usize = 4000;
/// The longest Opus packet (120 ms) at 48 kHz, per channel.
pub const MAX_DECODED: usize = 5760;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("Opus {0}")]
    Opus(#[from] opus::Error),
    #[error("empty Opus packet")]
    EmptyPacket,
    #[error("an Opus frame here is {FRAME_SAMPLES} samples (20 ms at 48 kHz), not {0}")]
    FrameSize(usize),
}

/// Encoder settings. The defaults suit a voice call: 32 kbit/s VBR, in-band
/// FEC on and tuned for 10 % loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderConfig {
    pub bitrate: i32,
    pub fec: bool,
    pub packet_loss_percent: i32,
    /// 0..=10 (libopus' default is 9/10).
    pub complexity: i32,
}

impl Default for EncoderConfig {
    fn default() -> EncoderConfig {
        EncoderConfig {
            bitrate: 32_000,
            fec: true,
            packet_loss_percent: 10,
            complexity: 9,
        }
    }
}

/// Mono 48 kHz Opus encoder for 20 ms frames.
pub struct Encoder {
    inner: opus::Encoder,
    buf: Box<[u8; MAX_PACKET]>,
}

impl Encoder {
    pub fn new(config: EncoderConfig) -> Result<Encoder, CodecError> {
        let mut inner =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)?;
        inner.set_bitrate(opus::Bitrate::Bits(config.bitrate))?;
        inner.set_vbr(true)?;
        inner.set_inband_fec(config.fec)?;
        inner.set_packet_loss_perc(config.packet_loss_percent)?;
        inner.set_complexity(config.complexity)?;
        Ok(Encoder {
            inner,
            buf: Box::new([0; MAX_PACKET]),
        })
    }

    /// Encodes one 20 ms frame (960 samples, −1..1) into `out`; returns
    /// the packet length.
    pub fn encode_into(&mut self, frame: &[f32], out: &mut [u8]) -> Result<usize, CodecError> {
        if frame.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize(frame.len()));
        }
        Ok(self.inner.encode_float(frame, out)?)
    }

    /// Encodes one 20 ms frame into a new packet.
    pub fn encode(&mut self, frame: &[f32]) -> Result<Vec<u8>, CodecError> {
        if frame.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize(frame.len()));
        }
        let n = self.inner.encode_float(frame, &mut self.buf[..])?;
        Ok(self.buf[..n].to_vec())
    }

    pub fn bitrate(&mut self) -> Result<i32, CodecError> {
        Ok(match self.inner.get_bitrate()? {
            opus::Bitrate::Bits(b) => b,
            _ => 0,
        })
    }

    pub fn fec(&mut self) -> Result<bool, CodecError> {
        Ok(self.inner.get_inband_fec()?)
    }

    /// The encoder's lookahead in samples: the pre-skip of an Ogg Opus
    /// file of its packets (RFC 7845 §4.2).
    pub fn lookahead(&mut self) -> Result<i32, CodecError> {
        Ok(self.inner.get_lookahead()?)
    }
}

/// Decoder producing 48 kHz mono from mono or stereo Opus packets.
pub struct Decoder {
    inner: opus::Decoder,
}

impl Decoder {
    pub fn new() -> Result<Decoder, CodecError> {
        Ok(Decoder {
            inner: opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)?,
        })
    }

    /// Decodes a packet into `out` (give it [`MAX_DECODED`] samples of
    /// room); returns the number of samples (960 for our 20 ms packets).
    /// A corrupt packet is an error (the caller conceals it).
    pub fn decode(&mut self, packet: &[u8], out: &mut [f32]) -> Result<usize, CodecError> {
        if packet.is_empty() {
            // An empty slice means "lost" to libopus; a real packet is never empty.
            return Err(CodecError::EmptyPacket);
        }
        Ok(self.inner.decode_float(packet, out, false)?)
    }

    /// Recovers the frame lost just before `next` from the in-band FEC data
    /// in `next` (concealment when `next` has none). `out` is the lost
    /// frame's length (960).
    pub fn recover(&mut self, next: &[u8], out: &mut [f32]) -> Result<usize, CodecError> {
        Ok(self.inner.decode_float(next, out, true)?)
    }

    /// Packet-loss concealment for a lost frame of `out.len()` samples.
    pub fn conceal(&mut self, out: &mut [f32]) -> Result<usize, CodecError> {
        Ok(self.inner.decode_float(&[], out, false)?)
    }

    /// Samples per channel in a packet (without decoding it).
    pub fn samples_in(&self, packet: &[u8]) -> Result<usize, CodecError> {
        Ok(self.inner.get_nb_samples(packet)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{dominant_frequency, spectrum_peaks};
    use crate::source::{FrameSource, ToneSource};

    fn encode_tone(hz: f32, frames: usize) -> Vec<Vec<u8>> {
        let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
        let mut src = ToneSource::new(hz, 0.5);
        let mut frame = [0.0f32; FRAME_SAMPLES];
        (0..frames)
            .map(|_| {
                src.next_frame(&mut frame).unwrap();
                enc.encode(&frame).unwrap()
            })
            .collect()
    }

    fn decode_all(packets: &[Vec<u8>]) -> Vec<f32> {
        let mut dec = Decoder::new().unwrap();
        let mut out = vec![0.0; MAX_DECODED];
        let mut pcm = Vec::new();
        for p in packets {
            let n = dec.decode(p, &mut out).unwrap();
            pcm.extend_from_slice(&out[..n]);
        }
        pcm
    }

    #[test]
    fn encoder_settings_are_applied() {
        let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
        assert!(enc.fec().unwrap());
        assert_eq!(enc.bitrate().unwrap(), 32_000);
        assert!(matches!(
            enc.encode(&[0.0; 100]),
            Err(CodecError::FrameSize(100))
        ));
    }

    #[test]
    fn tone_through_opus_keeps_its_frequency() {
        for hz in [440.0, 660.0] {
            let packets = encode_tone(hz, 150); // 3 s
            assert!(packets.iter().all(|p| !p.is_empty() && p.len() < 400));
            let pcm = decode_all(&packets);
            assert_eq!(pcm.len(), 150 * FRAME_SAMPLES);
            let f = dominant_frequency(&pcm, SAMPLE_RATE).expect("a tone");
            assert!((f - hz).abs() <= 2.0, "{hz} Hz came out as {f} Hz");
        }
    }

    #[test]
    fn two_tones_show_two_peaks_and_silence_none() {
        let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
        let (mut a, mut b) = (ToneSource::new(440.0, 0.3), ToneSource::new(660.0, 0.3));
        let (mut fa, mut fb) = ([0.0f32; FRAME_SAMPLES], [0.0f32; FRAME_SAMPLES]);
        let mut packets = Vec::new();
        for _ in 0..150 {
            a.next_frame(&mut fa).unwrap();
            b.next_frame(&mut fb).unwrap();
            let sum: Vec<f32> = fa.iter().zip(&fb).map(|(x, y)| x + y).collect();
            packets.push(enc.encode(&sum).unwrap());
        }
        let peaks = spectrum_peaks(&decode_all(&packets), SAMPLE_RATE);
        assert!(peaks.len() >= 2, "{peaks:?}");
        let mut top: Vec<f32> = peaks[..2].iter().map(|p| p.frequency).collect();
        top.sort_by(f32::total_cmp);
        assert!(
            (top[0] - 440.0).abs() <= 2.0 && (top[1] - 660.0).abs() <= 2.0,
            "{peaks:?}"
        );

        let silence: Vec<Vec<u8>> = {
            let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
            (0..100)
                .map(|_| enc.encode(&[0.0; FRAME_SAMPLES]).unwrap())
                .collect()
        };
        assert_eq!(spectrum_peaks(&decode_all(&silence), SAMPLE_RATE), vec![]);
    }

    #[test]
    fn stereo_packets_decode_to_mono() {
        let mut enc =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Stereo, opus::Application::Voip)
                .unwrap();
        let mut src = ToneSource::new(660.0, 0.5);
        let mut frame = [0.0f32; FRAME_SAMPLES];
        let mut dec = Decoder::new().unwrap();
        let mut out = vec![0.0; MAX_DECODED];
        let mut pcm = Vec::new();
        for _ in 0..100 {
            src.next_frame(&mut frame).unwrap();
            let stereo: Vec<f32> = frame.iter().flat_map(|&x| [x, x]).collect();
            let packet = enc.encode_vec_float(&stereo, MAX_PACKET).unwrap();
            let n = dec.decode(&packet, &mut out).unwrap();
            assert_eq!(n, FRAME_SAMPLES);
            pcm.extend_from_slice(&out[..n]);
        }
        let f = dominant_frequency(&pcm, SAMPLE_RATE).unwrap();
        assert!((f - 660.0).abs() <= 2.0, "{f}");
    }

    #[test]
    fn lost_packets_are_recovered_or_concealed_and_garbage_is_an_error() {
        let packets = encode_tone(440.0, 20);
        let mut dec = Decoder::new().unwrap();
        let mut out = vec![0.0; MAX_DECODED];
        dec.decode(&packets[0], &mut out).unwrap();
        // Packet 1 lost: recover it from packet 2's FEC data, then decode 2.
        assert_eq!(
            dec.recover(&packets[2], &mut out[..FRAME_SAMPLES]).unwrap(),
            FRAME_SAMPLES
        );
        assert_eq!(dec.decode(&packets[2], &mut out).unwrap(), FRAME_SAMPLES);
        assert_eq!(
            dec.conceal(&mut out[..FRAME_SAMPLES]).unwrap(),
            FRAME_SAMPLES
        );
        assert!(dec.decode(&[], &mut out).is_err());
        // A TOC byte announcing code 3 with a frame count of zero is invalid.
        assert!(dec.decode(&[0x03, 0x00], &mut out).is_err());
    }
}
