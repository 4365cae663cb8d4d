//! `/record`: the call written as Ogg Opus files ([`super::oggopus`]) in a
//! directory, one per speaker and one of the mix.
//!
//! - **A speaker's file** holds the Opus packets as they arrived (RTP
//!   payloads, never re-encoded). The RTP timestamp (48 kHz) places each
//!   packet: a gap (lost packets, a pause in sending) becomes concealment
//!   packets of the same duration, so the granule position always equals
//!   the samples of the packets in the file (RFC 7845 §4.1). A gap is
//!   believed only as far as the wall clock agrees (time since the last
//!   packet, plus a second): a timestamp that jumps ahead by hours fills
//!   nothing it did not live through. Late or duplicate packets (behind
//!   what was written) and packets that are not Opus are left out and
//!   counted.
//! - **The mix** is the mixer's output (what the speaker plays, whether
//!   deafened or not), encoded once with our encoder.
//! - **Our own audio**, when we send, is a speaker's file too (the packets
//!   we send).
//!
//! File names come from the stream's entity through
//! [`super::wav::stream_file_name`] (a nickname is hostile input), with
//! `.opus`, made unique in the directory (`-2`, `-3`, …); files are
//! created new (never overwritten), readable by their owner only.
//!
//! The [`Recorder`] is shared by the stream readers, the send pump and the
//! mixer thread; while nothing is recorded each call costs one atomic load.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::codec::{Encoder, EncoderConfig, MAX_PACKET};
use super::oggopus::{OggOpusWriter, packet_samples, plc_packet};
use super::wav::stream_file_name;
use super::{FRAME_SAMPLES, MediaError, SAMPLE_RATE};

/// The pre-skip written for received streams: libopus' lookahead at
/// 48 kHz (2.5 ms + 4 ms), what every libopus-based sender has.
pub const RECEIVED_PRE_SKIP: u16 = 312;
/// The file of the mix (`mix.opus`).
pub const MIX_NAME: &str = "mix";
/// The file of our own audio (`own.opus`).
pub const OWN_NAME: &str = "own";
/// Slack on the wall-clock bound of a gap (1 s at 48 kHz).
const GAP_SLACK: u64 = SAMPLE_RATE as u64;

type Writer = OggOpusWriter<BufWriter<File>>;

/// What a recording wrote, once stopped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingReport {
    pub dir: PathBuf,
    /// Every file, the mix first.
    pub files: Vec<PathBuf>,
    /// Packets left out of speakers' files (late, duplicate, not Opus).
    pub dropped: u64,
    /// Samples of concealment written for gaps.
    pub concealed_samples: u64,
    /// Write errors (a file stops at its first).
    pub errors: Vec<String>,
}

struct Track {
    writer: Option<Writer>,
    path: PathBuf,
    next_ts: Option<u32>,
    last_arrival: Instant,
    toc: u8,
}

struct Mix {
    encoder: Encoder,
    writer: Option<Writer>,
    path: PathBuf,
    packet: Vec<u8>,
}

struct Active {
    dir: PathBuf,
    names: HashSet<String>,
    tracks: HashMap<String, Track>,
    mix: Mix,
    report: RecordingReport,
}

/// The recording of a call (see the module docs). One at a time.
#[derive(Default)]
pub struct Recorder {
    on: AtomicBool,
    inner: Mutex<Option<Active>>,
}

fn serial() -> u32 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() as u32
}

fn io_error(path: &Path, source: std::io::Error) -> MediaError {
    MediaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `STEM.opus` (or `STEM-2.opus`, …) anew in `dir`, a name not in
/// `names` nor on disk; owner-only.
fn create_unique(
    dir: &Path,
    names: &mut HashSet<String>,
    stem: &str,
) -> Result<(File, PathBuf), MediaError> {
    use std::os::unix::fs::OpenOptionsExt;
    for i in 1..1000 {
        let name = if i == 1 {
            format!("{stem}.opus")
        } else {
            format!("{stem}-{i}.opus")
        };
        if names.contains(&name) {
            continue;
        }
        let path = dir.join(&name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => {
                names.insert(name);
                return Ok((f, path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(&path, e)),
        }
    }
    Err(io_error(
        &dir.join(format!("{stem}.opus")),
        std::io::Error::other("no free file name"),
    ))
}

fn open_writer(
    dir: &Path,
    names: &mut HashSet<String>,
    stem: &str,
    pre_skip: u16,
    comments: &[String],
) -> Result<(Writer, PathBuf), MediaError> {
    let (file, path) = create_unique(dir, names, stem)?;
    let w = OggOpusWriter::new(BufWriter::new(file), serial(), 1, pre_skip, comments)
        .map_err(|e| io_error(&path, e))?;
    Ok((w, path))
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    fn lock(&self) -> MutexGuard<'_, Option<Active>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_recording(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// The directory being recorded to.
    pub fn dir(&self) -> Option<PathBuf> {
        self.lock().as_ref().map(|a| a.dir.clone())
    }

    /// Starts recording into `dir` (created if missing): the mix file is
    /// created now, speakers' files with their first packet. Returns the
    /// mix file. An error when already recording.
    pub fn start(&self, dir: &Path) -> Result<PathBuf, MediaError> {
        let mut inner = self.lock();
        if let Some(a) = inner.as_ref() {
            return Err(io_error(
                &a.dir,
                std::io::Error::other("already recording here"),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let mut names = HashSet::new();
        let mut encoder = Encoder::new(EncoderConfig {
            fec: false,
            packet_loss_percent: 0,
            bitrate: 64_000,
            ..EncoderConfig::default()
        })?;
        let pre_skip = encoder.lookahead()?.clamp(0, i32::from(u16::MAX)) as u16;
        let (writer, path) = open_writer(
            dir,
            &mut names,
            MIX_NAME,
            pre_skip,
            &["TITLE=the call, mixed".to_string()],
        )?;
        *inner = Some(Active {
            dir: dir.to_path_buf(),
            names,
            tracks: HashMap::new(),
            mix: Mix {
                encoder,
                writer: Some(writer),
                path: path.clone(),
                packet: vec![0; MAX_PACKET],
            },
            report: RecordingReport {
                dir: dir.to_path_buf(),
                files: vec![path.clone()],
                ..RecordingReport::default()
            },
        });
        self.on.store(true, Ordering::Relaxed);
        Ok(path)
    }

    /// One received (or sent) packet of stream `key`, whose speaker is
    /// `entity`, with its RTP timestamp.
    pub fn packet(&self, key: &str, entity: &str, timestamp: u32, payload: &[u8]) {
        self.packet_at(key, entity, timestamp, payload, Instant::now());
    }

    /// [`Recorder::packet`] with the arrival time given.
    pub fn packet_at(&self, key: &str, entity: &str, timestamp: u32, payload: &[u8], now: Instant) {
        if !self.is_recording() {
            return;
        }
        let mut inner = self.lock();
        let Some(a) = inner.as_mut() else {
            return;
        };
        let Some(samples) = packet_samples(payload) else {
            a.report.dropped += 1;
            return;
        };
        if !a.tracks.contains_key(key) {
            let stem = stream_file_name(entity);
            let stem = stem.strip_suffix(".wav").unwrap_or(&stem).to_string();
            // Hostile input in a file others' tools print: no controls.
            let shown: String = entity.chars().filter(|c| !c.is_control()).collect();
            let comment = format!("ARTIST={shown}");
            match open_writer(&a.dir, &mut a.names, &stem, RECEIVED_PRE_SKIP, &[comment]) {
                Ok((writer, path)) => {
                    a.report.files.push(path.clone());
                    a.tracks.insert(
                        key.to_string(),
                        Track {
                            writer: Some(writer),
                            path,
                            next_ts: None,
                            last_arrival: now,
                            toc: payload[0],
                        },
                    );
                }
                Err(e) => {
                    a.report.errors.push(e.to_string());
                    // A track without a writer: the error is reported once.
                    a.tracks.insert(
                        key.to_string(),
                        Track {
                            writer: None,
                            path: PathBuf::new(),
                            next_ts: None,
                            last_arrival: now,
                            toc: payload[0],
                        },
                    );
                    return;
                }
            }
        }
        let Active { tracks, report, .. } = a;
        let t = tracks.get_mut(key).expect("inserted above");
        if let Some(next) = t.next_ts {
            let ahead = timestamp.wrapping_sub(next);
            if ahead >= 0x8000_0000 {
                // Behind what is written: late or a duplicate.
                report.dropped += 1;
                return;
            }
            let lived = now.saturating_duration_since(t.last_arrival).as_micros() as u64
                * u64::from(SAMPLE_RATE)
                / 1_000_000;
            let gap = u64::from(ahead).min(lived + GAP_SLACK);
            let plc = plc_packet(t.toc);
            let frame = packet_samples(&plc).unwrap_or(FRAME_SAMPLES as u64);
            for _ in 0..gap / frame {
                if let Some(w) = t.writer.as_mut() {
                    if let Err(e) = w.write(&plc, frame) {
                        report.errors.push(format!("{}: {e}", t.path.display()));
                        t.writer = None;
                    } else {
                        report.concealed_samples += frame;
                    }
                }
            }
        }
        t.next_ts = Some(timestamp.wrapping_add(samples as u32));
        t.last_arrival = now;
        t.toc = payload[0];
        if let Some(w) = t.writer.as_mut()
            && let Err(e) = w.write(payload, samples)
        {
            report.errors.push(format!("{}: {e}", t.path.display()));
            t.writer = None;
        }
    }

    /// Stream `key` ended: its file is finished (a later packet of the
    /// same key would start a new file).
    pub fn end_stream(&self, key: &str) {
        if !self.is_recording() {
            return;
        }
        let mut inner = self.lock();
        if let Some(a) = inner.as_mut()
            && let Some(t) = a.tracks.remove(key)
        {
            finish_track(t, &mut a.report);
        }
    }

    /// One 20 ms frame of the mix.
    pub fn mix(&self, frame: &[f32]) {
        if !self.is_recording() {
            return;
        }
        let mut inner = self.lock();
        let Some(a) = inner.as_mut() else {
            return;
        };
        let m = &mut a.mix;
        let Some(w) = m.writer.as_mut() else {
            return;
        };
        let result = match m.encoder.encode_into(frame, &mut m.packet) {
            Ok(n) => w
                .write(&m.packet[..n], frame.len() as u64)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = result {
            a.report.errors.push(format!("{}: {e}", m.path.display()));
            m.writer = None;
        }
    }

    /// Stops: every file is finished (end-of-stream page). `None` when
    /// nothing was being recorded.
    pub fn stop(&self) -> Option<RecordingReport> {
        let mut inner = self.lock();
        let mut a = inner.take()?;
        self.on.store(false, Ordering::Relaxed);
        for (_, t) in a.tracks.drain() {
            finish_track(t, &mut a.report);
        }
        if let Some(w) = a.mix.writer.take()
            && let Err(e) = w.finish()
        {
            a.report
                .errors
                .push(format!("{}: {e}", a.mix.path.display()));
        }
        Some(a.report)
    }
}

fn finish_track(t: Track, report: &mut RecordingReport) {
    if let Some(w) = t.writer
        && let Err(e) = w.finish()
    {
        report.errors.push(format!("{}: {e}", t.path.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Decoder, MAX_DECODED};
    use crate::source::{FrameSource, ToneSource};
    use std::time::Duration;

    /// Decodes an Ogg Opus file: (pre-skip, last granule, samples after
    /// pre-skip).
    fn decode(path: &Path) -> (u16, u64, Vec<f32>) {
        let f = File::open(path).unwrap();
        let mut r = ogg::reading::PacketReader::new(std::io::BufReader::new(f));
        let head = r.read_packet_expected().unwrap();
        assert_eq!(&head.data[..8], b"OpusHead");
        let pre_skip = u16::from_le_bytes([head.data[10], head.data[11]]);
        let tags = r.read_packet_expected().unwrap();
        assert_eq!(&tags.data[..8], b"OpusTags");
        let mut dec = Decoder::new().unwrap();
        let mut out = vec![0.0; MAX_DECODED];
        let mut pcm = Vec::new();
        let mut granule = 0;
        while let Some(p) = r.read_packet().unwrap() {
            let n = dec.decode(&p.data, &mut out).unwrap();
            pcm.extend_from_slice(&out[..n]);
            if p.last_in_page() {
                granule = p.absgp_page();
            }
            if p.last_in_stream() {
                break;
            }
        }
        (pre_skip, granule, pcm.split_off(usize::from(pre_skip)))
    }

    #[test]
    fn streams_gaps_late_packets_and_the_mix_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder::new();
        rec.packet("s1", "xmpp:early@x", 0, &[0xf8, 0xff]); // not recording: ignored
        let mix = rec.start(dir.path()).unwrap();
        assert!(rec.start(dir.path()).is_err(), "one recording at a time");
        assert_eq!(mix, dir.path().join("mix.opus"));
        let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
        let mut src = ToneSource::new(440.0, 0.5);
        let mut frame = [0.0f32; FRAME_SAMPLES];
        let t0 = Instant::now();
        let base = u32::MAX - 10 * 960; // the timestamp wraps
        for i in 0..100u32 {
            src.next_frame(&mut frame).unwrap();
            let p = enc.encode(&frame).unwrap();
            rec.mix(&frame);
            let at = t0 + Duration::from_millis(20 * u64::from(i));
            let ts = base.wrapping_add(i * 960);
            if (30..35).contains(&i) {
                continue; // lost
            }
            rec.packet_at("s1", "xmpp:../../evil\u{1b}[2J@x", ts, &p, at);
            if i == 50 {
                // A duplicate and a late one.
                rec.packet_at("s1", "", ts, &p, at);
                rec.packet_at("s1", "", ts.wrapping_sub(960 * 3), &p, at);
            }
        }
        // A hostile jump of an hour, 20 ms after the last packet: at most
        // the slack is filled.
        let p = enc.encode(&frame).unwrap();
        rec.packet_at(
            "s1",
            "",
            base.wrapping_add(100 * 960 + 48_000 * 3600),
            &p,
            t0 + Duration::from_millis(2000),
        );
        rec.packet_at("s2", "xmpp:mix", 5, &[], t0); // not Opus
        let report = rec.stop().unwrap();
        assert!(rec.stop().is_none());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.dropped, 3);
        assert_eq!(report.concealed_samples, 5 * 960 + 48_000 + 960);
        let evil = dir.path().join("_._.._evil__2J@x.opus");
        assert_eq!(report.files, vec![mix.clone(), evil.clone()]);

        let bytes = std::fs::read(&evil).unwrap();
        let tag = b"ARTIST=xmpp:../../evil[2J@x";
        assert!(
            bytes.windows(tag.len()).any(|w| w == tag),
            "the speaker in OpusTags, without control characters"
        );
        let (pre_skip, granule, pcm) = decode(&evil);
        assert_eq!(pre_skip, RECEIVED_PRE_SKIP);
        assert_eq!(granule, (100 + 1 + 50 + 1) * 960);
        let tone = &pcm[..100 * 960 - 312];
        let f = crate::analysis::dominant_frequency(tone, SAMPLE_RATE).unwrap();
        assert!((f - 440.0).abs() < 2.0, "{f}");

        let (pre_skip, granule, pcm) = decode(&mix);
        assert!(pre_skip > 0);
        assert_eq!(granule, 100 * 960);
        assert_eq!(pcm.len() as u64, granule - u64::from(pre_skip));
        let f = crate::analysis::dominant_frequency(&pcm, SAMPLE_RATE).unwrap();
        assert!((f - 440.0).abs() < 2.0, "{f}");

        // A second recording in the same directory never overwrites.
        let mix2 = rec.start(dir.path()).unwrap();
        assert_eq!(mix2, dir.path().join("mix-2.opus"));
        rec.end_stream("nothing");
        assert_eq!(rec.stop().unwrap().files, vec![mix2]);
    }
}
