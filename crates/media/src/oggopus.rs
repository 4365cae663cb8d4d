//! Ogg Opus files (RFC 7845), written packet by packet: the `ogg` crate
//! makes the pages (lacing, CRC, flags); this module writes the two
//! header packets, keeps the granule position and marks the end.
//!
//! - Page 1 (beginning of stream) carries `OpusHead` alone: version 1, the
//!   channel count, the encoder's pre-skip, the input rate, gain 0,
//!   mapping family 0.
//! - Page 2 carries `OpusTags` (vendor `confab`, the comments given).
//! - Audio pages follow, about one a second; each page's granule position
//!   is the 48 kHz sample count at the end of its last packet (pre-skip
//!   included, as RFC 7845 §4 counts it). The last page has the
//!   end-of-stream flag.
//!
//! Gaps (RFC 7845 §4.1): the granule position only ever counts the samples
//! of packets in the file, so a gap in a received stream is written as
//! packets that ask the decoder for concealment ([`plc_packet`]: a TOC
//! byte with no frame data), never as a granule jump.

use std::io::Write;

use ogg::writing::{PacketWriteEndInfo, PacketWriter};

use super::SAMPLE_RATE;

/// Audio packets per page (≈ 1 s of 20 ms packets; a crash loses at most
/// that much).
pub const PACKETS_PER_PAGE: usize = 50;
/// Longest comment kept in `OpusTags` (a nickname is hostile input).
pub const MAX_COMMENT: usize = 256;

/// The `OpusHead` identification header (RFC 7845 §5.1), mapping family 0.
pub fn opus_head(channels: u8, pre_skip: u16, input_rate: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(19);
    h.extend_from_slice(b"OpusHead");
    h.push(1); // version
    h.push(channels);
    h.extend_from_slice(&pre_skip.to_le_bytes());
    h.extend_from_slice(&input_rate.to_le_bytes());
    h.extend_from_slice(&0i16.to_le_bytes()); // output gain
    h.push(0); // channel mapping family: mono or stereo, no table
    h
}

/// The `OpusTags` comment header (RFC 7845 §5.2): vendor and
/// `KEY=value` comments (each cut to [`MAX_COMMENT`] bytes on a char
/// boundary).
pub fn opus_tags(vendor: &str, comments: &[String]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"OpusTags");
    t.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    t.extend_from_slice(vendor.as_bytes());
    t.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in comments {
        let mut end = c.len().min(MAX_COMMENT);
        while !c.is_char_boundary(end) {
            end -= 1;
        }
        t.extend_from_slice(&(end as u32).to_le_bytes());
        t.extend_from_slice(&c.as_bytes()[..end]);
    }
    t
}

/// Samples (at 48 kHz) an Opus packet decodes to; `None` for a packet that
/// is not valid Opus framing.
pub fn packet_samples(packet: &[u8]) -> Option<u64> {
    opus::packet::get_nb_samples(packet, SAMPLE_RATE)
        .ok()
        .filter(|&n| n > 0)
        .map(|n| n as u64)
}

/// A packet of one frame with no data, in the configuration (mode,
/// bandwidth, frame size) of `toc`: the decoder conceals that frame
/// (RFC 6716 §3.2.1: a zero-length frame is lost). Its duration is one
/// frame of `toc`'s configuration.
pub fn plc_packet(toc: u8) -> [u8; 1] {
    // Code 0 (one frame), the configuration and stereo bit kept.
    [toc & !0x03]
}

/// An Ogg Opus stream being written to `W`.
pub struct OggOpusWriter<W: Write> {
    pages: PacketWriter<'static, W>,
    serial: u32,
    granule: u64,
    /// The last packet, held back so that the final one can carry the
    /// end-of-stream flag.
    held: Option<(Vec<u8>, u64)>,
    in_page: usize,
    packets: u64,
}

impl<W: Write> OggOpusWriter<W> {
    /// Writes the two header pages. `pre_skip`: samples the decoder drops
    /// at the start (the encoder's lookahead).
    pub fn new(
        out: W,
        serial: u32,
        channels: u8,
        pre_skip: u16,
        comments: &[String],
    ) -> std::io::Result<Self> {
        let mut pages = PacketWriter::new(out);
        pages.write_packet(
            opus_head(channels, pre_skip, SAMPLE_RATE),
            serial,
            PacketWriteEndInfo::EndPage,
            0,
        )?;
        pages.write_packet(
            opus_tags("confab", comments),
            serial,
            PacketWriteEndInfo::EndPage,
            0,
        )?;
        Ok(OggOpusWriter {
            pages,
            serial,
            granule: 0,
            held: None,
            in_page: 0,
            packets: 0,
        })
    }

    /// Appends one Opus packet of `samples` samples (48 kHz).
    pub fn write(&mut self, packet: &[u8], samples: u64) -> std::io::Result<()> {
        self.flush_held(false)?;
        self.granule += samples;
        self.held = Some((packet.to_vec(), self.granule));
        Ok(())
    }

    fn flush_held(&mut self, last: bool) -> std::io::Result<()> {
        let Some((packet, granule)) = self.held.take() else {
            return Ok(());
        };
        self.in_page += 1;
        let end = if last {
            PacketWriteEndInfo::EndStream
        } else if self.in_page >= PACKETS_PER_PAGE {
            PacketWriteEndInfo::EndPage
        } else {
            PacketWriteEndInfo::NormalPacket
        };
        if end != PacketWriteEndInfo::NormalPacket {
            self.in_page = 0;
        }
        self.packets += 1;
        self.pages.write_packet(packet, self.serial, end, granule)
    }

    /// The granule position so far (48 kHz samples written, pre-skip
    /// included).
    pub fn granule(&self) -> u64 {
        self.granule
    }

    /// Audio packets written (held one included).
    pub fn packets(&self) -> u64 {
        self.packets + u64::from(self.held.is_some())
    }

    /// Writes the last page (end of stream) and gives the writer back. A
    /// stream without audio packets still ends properly: an empty
    /// end-of-stream page is not possible in the `ogg` crate, so the
    /// last packet is one concealed 20 ms frame.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.held.is_none() {
            // CELT fullband 20 ms mono (config 31), no data: silence.
            let packet = plc_packet(31 << 3);
            self.granule += 960;
            self.held = Some((packet.to_vec(), self.granule));
        }
        self.flush_held(true)?;
        let mut out = self.pages.into_inner();
        out.flush()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FRAME_SAMPLES;
    use crate::codec::{Decoder, Encoder, EncoderConfig, MAX_DECODED};
    use crate::source::{FrameSource, ToneSource};
    use std::io::Cursor;

    #[test]
    fn headers_follow_rfc_7845() {
        let h = opus_head(1, 312, 48_000);
        assert_eq!(h.len(), 19);
        assert_eq!(&h[..8], b"OpusHead");
        assert_eq!((h[8], h[9]), (1, 1));
        assert_eq!(u16::from_le_bytes([h[10], h[11]]), 312);
        assert_eq!(u32::from_le_bytes([h[12], h[13], h[14], h[15]]), 48_000);
        assert_eq!(h[18], 0);
        let long = "é".repeat(MAX_COMMENT);
        let t = opus_tags("confab", &["A=b".into(), long]);
        assert_eq!(&t[..8], b"OpusTags");
        assert_eq!(u32::from_le_bytes([t[8], t[9], t[10], t[11]]), 6);
        assert_eq!(&t[12..18], b"confab");
        assert_eq!(u32::from_le_bytes([t[18], t[19], t[20], t[21]]), 2);
        // The long comment is cut on a char boundary, at most MAX_COMMENT.
        let second = 22 + 4 + 3;
        let n = u32::from_le_bytes(t[second..second + 4].try_into().unwrap()) as usize;
        assert!(n <= MAX_COMMENT && n.is_multiple_of(2));
        assert!(std::str::from_utf8(&t[second + 4..]).is_ok());
    }

    #[test]
    fn a_written_stream_reads_back_with_granules_and_concealed_gaps() {
        let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
        let mut src = ToneSource::new(440.0, 0.5);
        let mut frame = [0.0f32; FRAME_SAMPLES];
        let mut w = OggOpusWriter::new(Cursor::new(Vec::new()), 7, 1, 312, &[]).unwrap();
        let mut toc = 0;
        for i in 0..120 {
            src.next_frame(&mut frame).unwrap();
            let p = enc.encode(&frame).unwrap();
            toc = p[0];
            if (40..45).contains(&i) {
                // Lost: concealment packets of the same duration.
                let plc = plc_packet(toc);
                assert_eq!(packet_samples(&plc), Some(960));
                w.write(&plc, 960).unwrap();
            } else {
                w.write(&p, packet_samples(&p).unwrap()).unwrap();
            }
        }
        assert_eq!(w.granule(), 120 * 960);
        let _ = toc;
        let bytes = w.finish().unwrap().into_inner();

        let mut r = ogg::reading::PacketReader::new(Cursor::new(bytes));
        let head = r.read_packet_expected().unwrap();
        assert!(head.first_in_stream() && head.last_in_page());
        assert_eq!(&head.data[..8], b"OpusHead");
        let tags = r.read_packet_expected().unwrap();
        assert_eq!(&tags.data[..8], b"OpusTags");
        let mut dec = Decoder::new().unwrap();
        let mut out = vec![0.0; MAX_DECODED];
        let mut pcm = Vec::new();
        let mut last_granule = 0;
        while let Some(p) = r.read_packet().unwrap() {
            let n = dec.decode(&p.data, &mut out).unwrap();
            pcm.extend_from_slice(&out[..n]);
            if p.last_in_page() {
                last_granule = p.absgp_page();
            }
            if p.last_in_stream() {
                break;
            }
        }
        assert_eq!(last_granule, 120 * 960);
        assert_eq!(pcm.len(), 120 * 960);
        let f = crate::analysis::dominant_frequency(&pcm, SAMPLE_RATE).unwrap();
        assert!((f - 440.0).abs() < 2.0, "{f}");
    }

    #[test]
    fn an_empty_stream_still_ends_and_garbage_has_no_duration() {
        let w = OggOpusWriter::new(Vec::new(), 1, 1, 312, &[]).unwrap();
        let bytes = w.finish().unwrap();
        let mut r = ogg::reading::PacketReader::new(Cursor::new(bytes));
        r.read_packet_expected().unwrap();
        r.read_packet_expected().unwrap();
        let last = r.read_packet_expected().unwrap();
        assert!(last.last_in_stream());
        assert_eq!(last.absgp_page(), 960);
        assert_eq!(packet_samples(&[]), None);
        assert_eq!(packet_samples(&[0x03]), None, "code 3 without a count");
    }
}
