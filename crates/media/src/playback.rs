//! The receiving half of a call's audio.
//!
//! Each received stream gets a [`StreamSink`] (owned by whatever reads its
//! RTP packets): it puts packets back in sequence order ([`super::jitter`],
//! an adaptive reordering depth), decodes Opus (mono or stereo packets →
//! mono), takes a lost packet from a later one's RED copy
//! ([`StreamSink::push_with`]) or else recovers it from the next one's
//! in-band FEC, and conceals longer gaps,
//! meters the level, tells speaking from silence, writes the stream's own
//! WAV in `--audio-out-dir` and queues 20 ms frames for the mixer.
//!
//! [`Playback`] runs the mixer thread: every 20 ms (own timer) it takes
//! one frame from each stream's playout queue (its target adapts to the
//! jitter seen: [`take_frames`]), mixes with soft
//! clipping and writes the sink (`--audio-out`: speaker, mix WAV, or
//! nothing). Deafened, the sink gets silence (streams are still decoded,
//! metered and recorded).
//!
//! The sink can be replaced while the mixer runs ([`Playback::set_output`],
//! `/devices output`): the new one is opened by the caller and handed to the
//! mixer thread over its command channel; the mixer finishes the old one
//! (a mix WAV is completed) and writes the next frame to the new one.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use super::codec::{Decoder, MAX_DECODED};
use super::device::SpeakerSink;
use super::jitter::{MAX_DEPTH, Out, Pushed, Reorder};
use super::level::{LevelMeter, SpeakingDetector};
use super::mixer::mix_into;
use super::recording::Recorder;
use super::rtc::Redundant;
use super::spec::AudioOut;
use super::wav::{WavSink, stream_file_name};
use super::{FRAME_DURATION, FRAME_SAMPLES, MediaError, wait_for_tick};

/// Frames a stream buffers before it starts playing (60 ms); its playout
/// target starts here and adapts (see [`take_frames`]).
pub const PREBUFFER: usize = 3;
/// The largest playout target (240 ms).
pub const MAX_TARGET: usize = 12;
/// Frames queued beyond the target before the queue is trimmed back to
/// it (latency is bounded; the oldest audio goes).
pub const MAX_EXCESS: usize = 7;
/// Mixer ticks (20 ms) without running dry before the target shrinks by
/// one frame (10 s).
pub const RELAX_TICKS: u32 = 500;
/// Ticks in a row a stream that ran dry is concealed (the decoder's PLC)
/// before it goes silent and buffers again (100 ms): a stall of the
/// network, not an end of the stream.
pub const MAX_CONCEAL_TICKS: u32 = 5;

/// A stream's level for the TUI meter and `audio-level` events.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamLevel {
    pub entity: String,
    /// 0..1 (−60..0 dBFS).
    pub level: f32,
    pub speaking: bool,
}

/// What happened to a stream's packets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub packets: u64,
    /// Packets that never came (by sequence number).
    pub lost: u64,
    /// Lost packets rebuilt from the next packet's FEC data.
    pub recovered: u64,
    /// Packets lost in their own packet and taken from a later packet's
    /// copy (RED); not counted in `lost`.
    pub redundant: u64,
    /// Frames filled in by concealment (lost or undecodable packets).
    pub concealed: u64,
    /// Packets that did not decode.
    pub invalid: u64,
    /// Packets older than one already played (late or duplicated).
    pub late: u64,
    /// 20 ms frames produced.
    pub frames: u64,
}

struct Slot {
    id: u64,
    entity: String,
    queue: VecDeque<Vec<f32>>,
    playing: bool,
    /// Frames to have queued before playing (adaptive).
    target: usize,
    /// Ticks played since the queue last ran dry.
    calm: u32,
    /// Times it ran dry while playing.
    underruns: u64,
    /// The stream's decoder, shared with its [`StreamSink`]: a tick that
    /// finds the queue dry plays its concealment instead of silence.
    decoder: Arc<Mutex<Decoder>>,
    /// Ticks in a row concealed so far.
    concealing: u32,
    level: f32,
    speaking: bool,
}

struct Shared {
    slots: Mutex<Vec<Slot>>,
    names: Mutex<HashSet<String>>,
    out_dir: Option<PathBuf>,
    stop: AtomicBool,
    deafened: AtomicBool,
    next_id: AtomicU64,
    /// `/record`: gets every mixed frame (deafened or not).
    recorder: Option<Arc<Recorder>>,
}

impl Shared {
    fn slots(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

enum Sink {
    Null,
    File(WavSink),
    Speaker(SpeakerSink),
}

impl Sink {
    fn open(out: &AudioOut) -> Result<Sink, MediaError> {
        Ok(match out {
            AudioOut::Null => Sink::Null,
            AudioOut::File(path) => Sink::File(WavSink::create(path)?),
            AudioOut::Default => Sink::Speaker(SpeakerSink::open(None)?),
            AudioOut::Device(name) => Sink::Speaker(SpeakerSink::open(Some(name))?),
        })
    }

    fn write(&mut self, frame: &[f32]) -> Result<(), MediaError> {
        match self {
            Sink::Null => Ok(()),
            Sink::File(w) => w.write(frame),
            Sink::Speaker(s) => s.write(frame),
        }
    }

    fn finish(self) -> Result<(), MediaError> {
        match self {
            Sink::File(w) => w.finish(),
            Sink::Null | Sink::Speaker(_) => Ok(()),
        }
    }
}

/// The mixer thread and the streams feeding it. Dropping it stops the
/// thread (use [`Playback::finish`] to see errors).
pub struct Playback {
    shared: Arc<Shared>,
    /// The `--audio-out` spec being played to.
    sink: Mutex<String>,
    /// Commands to the mixer thread.
    mixer: Mutex<std_mpsc::Sender<MixerCmd>>,
    thread: Option<JoinHandle<Result<(), MediaError>>>,
}

impl Playback {
    /// Opens the sink `out` names (a speaker that cannot be opened is an
    /// error here), creates `out_dir` for per-stream WAVs if given, and
    /// starts the mixer.
    pub fn start(out: &AudioOut, out_dir: Option<&Path>) -> Result<Playback, MediaError> {
        Playback::start_recorded(out, out_dir, None)
    }

    /// [`Playback::start`], the mix also going to `recorder` (which writes
    /// it while it records).
    pub fn start_recorded(
        out: &AudioOut,
        out_dir: Option<&Path>,
        recorder: Option<Arc<Recorder>>,
    ) -> Result<Playback, MediaError> {
        if let Some(dir) = out_dir {
            std::fs::create_dir_all(dir).map_err(|source| MediaError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let sink = Sink::open(out)?;
        let shared = Arc::new(Shared {
            slots: Mutex::new(Vec::new()),
            names: Mutex::new(HashSet::new()),
            out_dir: out_dir.map(Path::to_path_buf),
            stop: AtomicBool::new(false),
            deafened: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            recorder,
        });
        let (mixer, commands) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("confab-mixer".into())
            .spawn({
                let shared = shared.clone();
                move || run_mixer(sink, &shared, &commands)
            })
            .map_err(MediaError::Thread)?;
        Ok(Playback {
            shared,
            sink: Mutex::new(out.to_string()),
            mixer: Mutex::new(mixer),
            thread: Some(thread),
        })
    }

    /// The `--audio-out` spec being played to.
    pub fn sink(&self) -> String {
        self.sink.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Plays to `out` from the next mixer tick on. The new sink is opened
    /// here (blocking: a speaker takes a moment); when it cannot be, the
    /// old one stays and the error says why. The old sink is finished by
    /// the mixer (a mix WAV is completed): `Ok(Some(e))` when that failed
    /// (the new sink is in place all the same).
    pub fn set_output(&self, out: &AudioOut) -> Result<Option<MediaError>, MediaError> {
        let sink = Sink::open(out)?;
        let (done, finished) = std_mpsc::sync_channel(1);
        let sent = self
            .mixer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(MixerCmd::Output { sink, done });
        if sent.is_err() {
            return Err(MediaError::PlaybackStopped);
        }
        // The mixer answers within a tick, unless it has just ended.
        let old = finished.recv().map_err(|_| MediaError::PlaybackStopped)?;
        *self.sink.lock().unwrap_or_else(|e| e.into_inner()) = out.to_string();
        Ok(old.err())
    }

    /// A new stream labelled `entity` (a Coin user entity such as
    /// `xmpp:alice@localhost`). With an output directory its audio is
    /// recorded to [`stream_file_name`]`(entity)` there (`-2`, `-3`, … when
    /// the name was used before in this playback).
    pub fn add_stream(&self, entity: &str) -> Result<StreamSink, MediaError> {
        let wav = match &self.shared.out_dir {
            Some(dir) => {
                let name = {
                    let mut names = self.shared.names.lock().unwrap_or_else(|e| e.into_inner());
                    let name = unique_name(&names, &stream_file_name(entity));
                    names.insert(name.clone());
                    name
                };
                Some(WavSink::create(&dir.join(name))?)
            }
            None => None,
        };
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let decoder = Arc::new(Mutex::new(Decoder::new()?));
        self.shared.slots().push(Slot {
            id,
            entity: entity.to_string(),
            queue: VecDeque::with_capacity(MAX_TARGET + MAX_EXCESS + 1),
            playing: false,
            target: PREBUFFER,
            calm: 0,
            underruns: 0,
            decoder: decoder.clone(),
            concealing: 0,
            level: 0.0,
            speaking: false,
        });
        Ok(StreamSink {
            id,
            entity: entity.to_string(),
            shared: self.shared.clone(),
            decoder,
            wav,
            meter: LevelMeter::new(),
            speaking: SpeakingDetector::default(),
            reorder: Reorder::new(),
            last_samples: FRAME_SAMPLES,
            pcm: vec![0.0; MAX_DECODED],
            pending: Vec::with_capacity(MAX_DECODED + FRAME_SAMPLES),
            stats: StreamStats::default(),
        })
    }

    /// Every stream's current level, in the order they were added.
    pub fn levels(&self) -> Vec<StreamLevel> {
        self.shared
            .slots()
            .iter()
            .map(|s| StreamLevel {
                entity: s.entity.clone(),
                level: s.level,
                speaking: s.speaking,
            })
            .collect()
    }

    /// Streams currently feeding the mixer.
    pub fn stream_count(&self) -> usize {
        self.shared.slots().len()
    }

    /// Deafened: the sink gets silence.
    pub fn set_deafened(&self, deafened: bool) {
        self.shared.deafened.store(deafened, Ordering::Relaxed);
    }

    pub fn is_deafened(&self) -> bool {
        self.shared.deafened.load(Ordering::Relaxed)
    }

    /// Stops the mixer and finishes the mix WAV; the error that stopped the
    /// mixer early, if any (a speaker that failed, a full disk).
    pub fn finish(mut self) -> Result<(), MediaError> {
        self.join()
    }

    fn join(&mut self) -> Result<(), MediaError> {
        self.shared.stop.store(true, Ordering::Relaxed);
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| MediaError::ThreadPanicked)?,
            None => Ok(()),
        }
    }
}

impl Drop for Playback {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// Whether `out` could be played to (for a switch with no playback
/// running): a speaker is opened and closed again; a file's folder must
/// exist (the file is only created when a call plays to it).
pub fn check_output(out: &AudioOut) -> Result<(), MediaError> {
    match out {
        AudioOut::Null => Ok(()),
        AudioOut::Default => SpeakerSink::open(None).map(drop),
        AudioOut::Device(name) => SpeakerSink::open(Some(name)).map(drop),
        AudioOut::File(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            if dir.is_dir() {
                Ok(())
            } else {
                Err(MediaError::Io {
                    path: dir.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such folder for the output file",
                    ),
                })
            }
        }
    }
}

fn unique_name(used: &HashSet<String>, name: &str) -> String {
    if !used.contains(name) {
        return name.to_string();
    }
    let stem = name.strip_suffix(".wav").unwrap_or(name);
    (2..)
        .map(|i| format!("{stem}-{i}.wav"))
        .find(|n| !used.contains(n))
        .expect("an unused name")
}

/// What the mixer thread is asked between two ticks.
enum MixerCmd {
    /// Write to `sink` from now on; the old sink's finishing is answered
    /// on `done`.
    Output {
        sink: Sink,
        done: std_mpsc::SyncSender<Result<(), MediaError>>,
    },
}

fn run_mixer(
    mut sink: Sink,
    shared: &Shared,
    commands: &std_mpsc::Receiver<MixerCmd>,
) -> Result<(), MediaError> {
    let mut out = vec![0.0f32; FRAME_SAMPLES];
    let mut frames: Vec<Vec<f32>> = Vec::new();
    let mut next = Instant::now() + FRAME_DURATION;
    let result = loop {
        if shared.stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        wait_for_tick(&mut next);
        while let Ok(MixerCmd::Output { sink: new, done }) = commands.try_recv() {
            let old = std::mem::replace(&mut sink, new);
            let _ = done.send(old.finish());
        }
        next += FRAME_DURATION;
        frames.clear();
        take_frames(&mut shared.slots(), &mut frames);
        mix_into(&mut out, frames.iter().map(Vec::as_slice));
        if let Some(r) = &shared.recorder {
            r.mix(&out);
        }
        if shared.deafened.load(Ordering::Relaxed) {
            out.fill(0.0);
        }
        if let Err(e) = sink.write(&out) {
            break Err(e);
        }
    };
    let finished = sink.finish();
    result.and(finished)
}

/// One mixer tick's playout: a stream plays once it has its target of
/// frames queued and gives one frame per tick. Running dry while playing
/// raises the target by two frames (up to [`MAX_TARGET`]): the jitter
/// seen is larger than the buffer. The tick is then filled by the
/// decoder's concealment, not silence, for up to [`MAX_CONCEAL_TICKS`]
/// in a row, while the late frames are awaited (they play after it: the
/// delay grows by what was concealed); after that the stream goes quiet
/// and buffers to its target again. [`RELAX_TICKS`] ticks without running
/// dry lower the target by one (down to [`PREBUFFER`]): the latency
/// follows the network back down.
fn take_frames(slots: &mut [Slot], frames: &mut Vec<Vec<f32>>) {
    for slot in slots.iter_mut() {
        if !slot.playing && slot.queue.len() >= slot.target {
            slot.playing = true;
        }
        if slot.playing {
            match slot.queue.pop_front() {
                Some(f) => {
                    frames.push(f);
                    slot.concealing = 0;
                    slot.calm += 1;
                    if slot.calm >= RELAX_TICKS && slot.target > PREBUFFER {
                        slot.target -= 1;
                        slot.calm = 0;
                    }
                }
                None => {
                    if slot.concealing == 0 {
                        slot.underruns += 1;
                        slot.target = (slot.target + 2).min(MAX_TARGET);
                    }
                    slot.calm = 0;
                    slot.concealing += 1;
                    let mut f = vec![0.0; FRAME_SAMPLES];
                    let concealed = slot.concealing <= MAX_CONCEAL_TICKS
                        && lock(&slot.decoder).conceal(&mut f).is_ok();
                    if concealed {
                        frames.push(f);
                    } else {
                        slot.playing = false;
                        slot.concealing = 0;
                    }
                }
            }
        }
    }
}

fn lock(decoder: &Mutex<Decoder>) -> MutexGuard<'_, Decoder> {
    decoder.lock().unwrap_or_else(|e| e.into_inner())
}

/// One received stream (see the module docs). Dropping it removes the
/// stream from the mixer and finishes its WAV.
pub struct StreamSink {
    id: u64,
    entity: String,
    shared: Arc<Shared>,
    decoder: Arc<Mutex<Decoder>>,
    wav: Option<WavSink>,
    meter: LevelMeter,
    speaking: SpeakingDetector,
    reorder: Reorder,
    last_samples: usize,
    pcm: Vec<f32>,
    pending: Vec<f32>,
    stats: StreamStats,
}

impl StreamSink {
    pub fn entity(&self) -> &str {
        &self.entity
    }

    /// Where this stream is recorded, if anywhere.
    pub fn wav_path(&self) -> Option<&Path> {
        self.wav.as_ref().map(WavSink::path)
    }

    /// Takes one RTP payload with its RTP sequence number, through the
    /// reordering buffer ([`super::jitter`]): packets are decoded in
    /// sequence order; a missing one, once [`Reorder::depth`] later ones
    /// have arrived, is recovered with the next one's FEC or concealed;
    /// late and duplicate packets are dropped; undecodable packets are
    /// concealed; a jump far ahead (a pause in sending, a restart) is not
    /// filled in. Errors only come from writing the stream's WAV.
    pub fn push(&mut self, seq: u16, payload: &[u8]) -> Result<(), MediaError> {
        self.push_with(seq, payload, &[])
    }

    /// [`StreamSink::push`] for a packet that carries copies of earlier
    /// frames (RED, [`Redundant`]: each names its frame by the RTP ticks
    /// before this packet, so by the frames before it): a copy fills its
    /// frame's hole if that is still waiting; the reordering depth stays
    /// at least the farthest copy's distance, so a hole waits for every
    /// copy (a copy that came too late deepens it further).
    pub fn push_with(
        &mut self,
        seq: u16,
        payload: &[u8],
        redundancy: &[Redundant],
    ) -> Result<(), MediaError> {
        self.stats.packets += 1;
        match self.reorder.push(seq, payload.to_vec()) {
            Pushed::Held => {}
            Pushed::Late => {
                self.stats.late += 1;
                return Ok(());
            }
            Pushed::Jump => {
                self.drain(true)?;
                self.reorder.restart(seq);
                self.reorder.push(seq, payload.to_vec());
            }
        }
        self.fill(seq, redundancy);
        self.drain(false)
    }

    /// Fills holes from the copies packet `seq` carried.
    fn fill(&mut self, seq: u16, redundancy: &[Redundant]) {
        let mut farthest = 0;
        for r in redundancy {
            let samples = lock(&self.decoder).samples_in(&r.payload).unwrap_or(0);
            let offset = r.offset as usize;
            if samples == 0 || !offset.is_multiple_of(samples) {
                continue;
            }
            let back = offset / samples;
            if back == 0 || back > MAX_DEPTH {
                continue;
            }
            farthest = farthest.max(back);
            if self
                .reorder
                .fill(seq.wrapping_sub(back as u16), r.payload.clone())
            {
                self.stats.redundant += 1;
            }
        }
        if farthest > self.reorder.floor() {
            self.reorder.set_floor(farthest);
        }
    }

    /// Decodes what the reordering buffer lets out (everything held when
    /// `flush`).
    fn drain(&mut self, flush: bool) -> Result<(), MediaError> {
        loop {
            let out = if flush {
                self.reorder.flush()
            } else {
                self.reorder.pop()
            };
            match out {
                None => return Ok(()),
                Some(Out::Packet(p)) => self.decode(&p)?,
                Some(Out::Lost { next }) => {
                    self.stats.lost += 1;
                    match next {
                        Some(n) => self.recover(&n)?,
                        None => self.conceal()?,
                    }
                }
            }
        }
    }

    fn decode(&mut self, payload: &[u8]) -> Result<(), MediaError> {
        let decoded = lock(&self.decoder).decode(payload, &mut self.pcm);
        match decoded {
            Ok(n) => {
                self.last_samples = n.clamp(1, MAX_DECODED);
                self.emit_pcm(n)
            }
            Err(_) => {
                self.stats.invalid += 1;
                self.conceal()
            }
        }
    }

    /// Packets a hole in the sequence waits for now (the reordering
    /// depth, adapted to the lateness seen).
    pub fn reorder_depth(&self) -> usize {
        self.reorder.depth()
    }

    fn conceal(&mut self) -> Result<(), MediaError> {
        self.stats.concealed += 1;
        let n = self.last_samples;
        let concealed = lock(&self.decoder).conceal(&mut self.pcm[..n]);
        match concealed {
            Ok(n) => self.emit_pcm(n),
            Err(_) => {
                self.pcm[..n].fill(0.0);
                self.emit_pcm(n)
            }
        }
    }

    fn recover(&mut self, next: &[u8]) -> Result<(), MediaError> {
        let n = self.last_samples;
        let recovered = lock(&self.decoder).recover(next, &mut self.pcm[..n]);
        match recovered {
            Ok(n) => {
                self.stats.recovered += 1;
                self.emit_pcm(n)
            }
            Err(_) => self.conceal(),
        }
    }

    fn emit_pcm(&mut self, n: usize) -> Result<(), MediaError> {
        self.pending.extend_from_slice(&self.pcm[..n]);
        let whole = self.pending.len() / FRAME_SAMPLES * FRAME_SAMPLES;
        if whole == 0 {
            return Ok(());
        }
        let mut frames = Vec::with_capacity(whole / FRAME_SAMPLES);
        let mut level = 0.0;
        let mut speaking = false;
        for frame in self.pending[..whole].chunks_exact(FRAME_SAMPLES) {
            level = self.meter.update(frame);
            speaking = self.speaking.update(self.meter.dbfs());
            frames.push(frame.to_vec());
        }
        let written = match self.wav.as_mut() {
            Some(w) => w.write(&self.pending[..whole]),
            None => Ok(()),
        };
        self.pending.drain(..whole);
        self.stats.frames += frames.len() as u64;
        let mut slots = self.shared.slots();
        if let Some(slot) = slots.iter_mut().find(|s| s.id == self.id) {
            slot.level = level;
            slot.speaking = speaking;
            // A hole holds frames back for up to `depth` packets, then
            // lets them all out: the playout covers that wait.
            slot.target = slot.target.max((self.reorder.depth() + 2).min(MAX_TARGET));
            slot.queue.extend(frames);
            if slot.queue.len() > slot.target + MAX_EXCESS {
                let excess = slot.queue.len() - slot.target;
                slot.queue.drain(..excess);
            }
        }
        written
    }

    /// The stream's level now.
    pub fn level(&self) -> StreamLevel {
        StreamLevel {
            entity: self.entity.clone(),
            level: self.meter.level(),
            speaking: self.speaking.speaking(),
        }
    }

    pub fn stats(&self) -> StreamStats {
        self.stats
    }

    /// Removes the stream and finishes its WAV (errors of that last write).
    pub fn finish(mut self) -> Result<(), MediaError> {
        let drained = self.drain(true);
        match self.wav.take() {
            Some(w) => drained.and(w.finish()),
            None => drained,
        }
    }
}

impl Drop for StreamSink {
    fn drop(&mut self) {
        self.shared.slots().retain(|s| s.id != self.id);
    }
}

#[cfg(test)]
mod tests;
