//! Sound devices through cpal: the microphone ([`MicSource`]), the speaker
//! ([`SpeakerSink`]) and the list for `/devices` ([`devices`]).
//!
//! Every cpal call that probes or opens a device runs inside
//! [`QuietStderr`]: ALSA prints "cannot find card" and similar lines on
//! stderr, which would scribble over the TUI, so stderr is pointed at
//! /dev/null (dup2) for the duration and restored after. Errors still come
//! back as values ([`MediaError`]), never as panics.
//!
//! The cpal callbacks only convert samples and move them through a
//! lock-free ring ([`super::ring`]); mixing down to mono, resampling and
//! everything else happens on our threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig};

use super::frame::FrameSource;
use super::resample::Resampler;
use super::ring::{Consumer, Producer, ring};
use super::{DeviceKind, FRAME_SAMPLES, MediaError, SAMPLE_RATE};

/// Points stderr at /dev/null until dropped. One at a time process-wide (a
/// global lock, so concurrent guards restore correctly); do not nest them
/// in one thread (that would wait forever).
pub struct QuietStderr {
    saved: Option<libc::c_int>,
    _lock: MutexGuard<'static, ()>,
}

static QUIET: Mutex<()> = Mutex::new(());

impl QuietStderr {
    /// Silences stderr. If that fails (no /dev/null), stderr stays as it is.
    pub fn new() -> QuietStderr {
        let lock = QUIET.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: plain POSIX calls on a descriptor we opened and close.
        let saved = unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if null < 0 {
                None
            } else {
                let saved = point_stderr_at(null);
                libc::close(null);
                saved
            }
        };
        QuietStderr { saved, _lock: lock }
    }
}

/// Makes fd 2 a copy of `fd`; returns a copy of the old fd 2 to restore.
fn point_stderr_at(fd: libc::c_int) -> Option<libc::c_int> {
    // SAFETY: dup/dup2/close on descriptors; nothing is dereferenced.
    unsafe {
        let saved = libc::dup(2);
        if saved < 0 {
            return None;
        }
        if libc::dup2(fd, 2) < 0 {
            libc::close(saved);
            return None;
        }
        Some(saved)
    }
}

/// Puts back the fd 2 [`point_stderr_at`] saved.
fn restore_stderr(saved: libc::c_int) {
    // SAFETY: `saved` is a descriptor we duplicated and own.
    unsafe {
        libc::dup2(saved, 2);
        libc::close(saved);
    }
}

impl Default for QuietStderr {
    fn default() -> QuietStderr {
        QuietStderr::new()
    }
}

impl Drop for QuietStderr {
    fn drop(&mut self) {
        if let Some(saved) = self.saved.take() {
            restore_stderr(saved);
        }
    }
}

/// Runs `f` with stderr silenced.
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let _quiet = QuietStderr::new();
    f()
}

/// One device as `/devices` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The short name `device:NAME` takes (ALSA's PCM name such as
    /// `default`, `null` or `hw:CARD=PCH,DEV=0`).
    pub id: String,
    /// The human description (its first line).
    pub description: String,
    pub is_default: bool,
    /// Its default format ("48000 Hz, 2 ch, f32"), or why it cannot be used.
    pub config: Result<String, String>,
}

/// The audio host's inputs and outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceList {
    pub host: String,
    pub inputs: Vec<DeviceInfo>,
    pub outputs: Vec<DeviceInfo>,
}

/// Lists the input and output devices (probing each one's default format).
/// On a machine without a sound card the lists may hold ALSA's virtual
/// devices only (e.g. `null`).
pub fn devices() -> Result<DeviceList, MediaError> {
    quietly(|| {
        let host = cpal::default_host();
        let default_in = host.default_input_device().map(|d| device_id(&d));
        let default_out = host.default_output_device().map(|d| device_id(&d));
        let info = |d: &cpal::Device, default: &Option<String>, input: bool| {
            let id = device_id(d);
            let config = if input {
                d.default_input_config()
            } else {
                d.default_output_config()
            };
            DeviceInfo {
                is_default: default.as_deref() == Some(id.as_str()),
                description: device_name(d),
                config: config
                    .map(|c| describe_config(&c))
                    .map_err(|e| e.to_string()),
                id,
            }
        };
        let inputs = host
            .input_devices()
            .map_err(MediaError::Enumerate)?
            .map(|d| info(&d, &default_in, true))
            .collect();
        let outputs = host
            .output_devices()
            .map_err(MediaError::Enumerate)?
            .map(|d| info(&d, &default_out, false))
            .collect();
        Ok(DeviceList {
            host: format!("{:?}", host.id()),
            inputs,
            outputs,
        })
    })
}

fn device_name(d: &cpal::Device) -> String {
    d.description()
        .map(|desc| desc.name().to_string())
        .unwrap_or_else(|_| d.to_string())
}

/// The short name: the driver's name for the device where the host has one
/// (ALSA's PCM id), else the description.
fn device_id(d: &cpal::Device) -> String {
    d.description()
        .ok()
        .and_then(|desc| desc.driver().map(str::to_string))
        .unwrap_or_else(|| device_name(d))
}

fn describe_config(c: &cpal::SupportedStreamConfig) -> String {
    format!(
        "{} Hz, {} ch, {}",
        c.sample_rate(),
        c.channels(),
        c.sample_format()
    )
}

/// The default device, or the one whose name (or id) is `name`.
fn find_device(kind: DeviceKind, name: Option<&str>) -> Result<cpal::Device, MediaError> {
    let host = cpal::default_host();
    let Some(name) = name else {
        let d = match kind {
            DeviceKind::Microphone => host.default_input_device(),
            DeviceKind::Speaker => host.default_output_device(),
        };
        return d.ok_or(MediaError::NoDevice(kind));
    };
    let list = match kind {
        DeviceKind::Microphone => host.input_devices().map(|d| d.collect::<Vec<_>>()),
        DeviceKind::Speaker => host.output_devices().map(|d| d.collect::<Vec<_>>()),
    }
    .map_err(MediaError::Enumerate)?;
    list.into_iter()
        .find(|d| {
            device_id(d) == name
                || device_name(d) == name
                || d.id().is_ok_and(|id| id.to_string() == name)
        })
        .ok_or_else(|| MediaError::DeviceNotFound {
            kind,
            name: name.to_string(),
        })
}

fn device_error(kind: DeviceKind, name: &str) -> impl Fn(cpal::Error) -> MediaError + '_ {
    move |source| MediaError::Device {
        kind,
        name: name.to_string(),
        source,
    }
}

/// The microphone: a cpal input stream (device rate, channels and format)
/// whose callback mixes down to mono and pushes into a ring; frames are
/// resampled to 48 kHz on the reading thread.
pub struct MicSource {
    name: String,
    rate: u32,
    _stream: cpal::Stream,
    ring: Consumer,
    resampler: Resampler,
    scratch: Vec<f32>,
    ready: Vec<f32>,
    failed: Arc<AtomicBool>,
}

/// How long [`MicSource::next_frame`] waits for the device.
const MIC_TIMEOUT: Duration = Duration::from_secs(2);

impl MicSource {
    /// Opens the default microphone (`None`) or the one named.
    pub fn open(name: Option<&str>) -> Result<MicSource, MediaError> {
        let kind = DeviceKind::Microphone;
        let _quiet = QuietStderr::new();
        let device = find_device(kind, name)?;
        let dname = name
            .map(str::to_string)
            .unwrap_or_else(|| device_id(&device));
        let supported = device
            .default_input_config()
            .map_err(device_error(kind, &dname))?;
        let rate = supported.sample_rate();
        let channels = usize::from(supported.channels()).max(1);
        // Half a second of device audio.
        let (producer, consumer) = ring(rate as usize / 2);
        let failed = Arc::new(AtomicBool::new(false));
        let config = supported.config();
        let stream = match supported.sample_format() {
            SampleFormat::I8 => build_input::<i8>(&device, config, channels, producer, &failed),
            SampleFormat::I16 => build_input::<i16>(&device, config, channels, producer, &failed),
            SampleFormat::I32 => build_input::<i32>(&device, config, channels, producer, &failed),
            SampleFormat::U8 => build_input::<u8>(&device, config, channels, producer, &failed),
            SampleFormat::U16 => build_input::<u16>(&device, config, channels, producer, &failed),
            SampleFormat::F32 => build_input::<f32>(&device, config, channels, producer, &failed),
            SampleFormat::F64 => build_input::<f64>(&device, config, channels, producer, &failed),
            other => {
                return Err(MediaError::SampleFormat {
                    kind,
                    name: dname,
                    format: other.to_string(),
                });
            }
        }
        .map_err(device_error(kind, &dname))?;
        stream.play().map_err(device_error(kind, &dname))?;
        Ok(MicSource {
            name: dname,
            rate,
            _stream: stream,
            ring: consumer,
            resampler: Resampler::new(rate, SAMPLE_RATE),
            scratch: Vec::with_capacity(rate as usize / 10),
            ready: Vec::with_capacity(4 * FRAME_SAMPLES),
            failed,
        })
    }

    /// The device's own sample rate.
    pub fn device_rate(&self) -> u32 {
        self.rate
    }
}

/// A stream's error callback: anything but an xrun or a device change
/// marks the stream `failed`.
fn on_stream_error(failed: &Arc<AtomicBool>) -> impl FnMut(cpal::Error) + Send + 'static {
    let failed = failed.clone();
    move |e| {
        if !matches!(
            e.kind(),
            cpal::ErrorKind::Xrun | cpal::ErrorKind::DeviceChanged
        ) {
            failed.store(true, Ordering::Relaxed);
        }
    }
}

fn build_input<T>(
    device: &cpal::Device,
    config: StreamConfig,
    channels: usize,
    mut producer: Producer,
    failed: &Arc<AtomicBool>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let scale = 1.0 / channels as f32;
    device.build_input_stream(
        config,
        // Real-time: no locks, no allocation.
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            producer.push_iter(
                data.chunks_exact(channels)
                    .map(|c| c.iter().map(|s| s.to_sample::<f32>()).sum::<f32>() * scale),
            );
        },
        on_stream_error(failed),
        None,
    )
}

impl FrameSource for MicSource {
    fn next_frame(&mut self, out: &mut [f32]) -> Result<(), MediaError> {
        let started = Instant::now();
        while self.ready.len() < out.len() {
            if self.failed.load(Ordering::Relaxed) {
                return Err(MediaError::DeviceFailed(DeviceKind::Microphone));
            }
            self.scratch.clear();
            if self.ring.drain_into(&mut self.scratch) == 0 {
                if started.elapsed() > MIC_TIMEOUT {
                    return Err(MediaError::DeviceStalled(DeviceKind::Microphone));
                }
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            self.resampler.process(&self.scratch, &mut self.ready);
        }
        out.copy_from_slice(&self.ready[..out.len()]);
        self.ready.drain(..out.len());
        Ok(())
    }

    fn needs_pacing(&self) -> bool {
        false
    }

    fn is_live(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("microphone {} ({} Hz)", self.name, self.rate)
    }
}

/// The speaker: a cpal output stream fed from a ring by the playback
/// thread (48 kHz mono resampled to the device rate, copied to every
/// channel in the callback).
pub struct SpeakerSink {
    name: String,
    rate: u32,
    _stream: cpal::Stream,
    ring: Producer,
    resampler: Resampler,
    scratch: Vec<f32>,
    /// More than this many samples waiting (device clock slower than ours):
    /// new audio is dropped instead of adding latency.
    max_fill: usize,
    failed: Arc<AtomicBool>,
}

impl SpeakerSink {
    /// Opens the default speaker (`None`) or the one named.
    pub fn open(name: Option<&str>) -> Result<SpeakerSink, MediaError> {
        let kind = DeviceKind::Speaker;
        let _quiet = QuietStderr::new();
        let device = find_device(kind, name)?;
        let dname = name
            .map(str::to_string)
            .unwrap_or_else(|| device_id(&device));
        let supported = device
            .default_output_config()
            .map_err(device_error(kind, &dname))?;
        let rate = supported.sample_rate();
        let channels = usize::from(supported.channels()).max(1);
        let (mut producer, consumer) = ring(rate as usize);
        // 40 ms of silence as a cushion against our timer's jitter.
        producer.push_iter(std::iter::repeat_n(0.0, rate as usize / 25));
        let failed = Arc::new(AtomicBool::new(false));
        let config = supported.config();
        let stream = match supported.sample_format() {
            SampleFormat::I8 => build_output::<i8>(&device, config, channels, consumer, &failed),
            SampleFormat::I16 => build_output::<i16>(&device, config, channels, consumer, &failed),
            SampleFormat::I32 => build_output::<i32>(&device, config, channels, consumer, &failed),
            SampleFormat::U8 => build_output::<u8>(&device, config, channels, consumer, &failed),
            SampleFormat::U16 => build_output::<u16>(&device, config, channels, consumer, &failed),
            SampleFormat::F32 => build_output::<f32>(&device, config, channels, consumer, &failed),
            SampleFormat::F64 => build_output::<f64>(&device, config, channels, consumer, &failed),
            other => {
                return Err(MediaError::SampleFormat {
                    kind,
                    name: dname,
                    format: other.to_string(),
                });
            }
        }
        .map_err(device_error(kind, &dname))?;
        stream.play().map_err(device_error(kind, &dname))?;
        Ok(SpeakerSink {
            name: dname,
            rate,
            _stream: stream,
            ring: producer,
            resampler: Resampler::new(SAMPLE_RATE, rate),
            scratch: Vec::with_capacity(rate as usize / 10),
            max_fill: rate as usize / 5,
            failed,
        })
    }

    /// Queues one 48 kHz mono frame for playing.
    pub fn write(&mut self, frame: &[f32]) -> Result<(), MediaError> {
        if self.failed.load(Ordering::Relaxed) {
            return Err(MediaError::DeviceFailed(DeviceKind::Speaker));
        }
        self.scratch.clear();
        self.resampler.process(frame, &mut self.scratch);
        if self.ring.len() <= self.max_fill {
            self.ring.push_slice(&self.scratch);
        }
        Ok(())
    }

    pub fn describe(&self) -> String {
        format!("speaker {} ({} Hz)", self.name, self.rate)
    }
}

fn build_output<T>(
    device: &cpal::Device,
    config: StreamConfig,
    channels: usize,
    mut consumer: Consumer,
    failed: &Arc<AtomicBool>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    device.build_output_stream(
        config,
        // Real-time: no locks, no allocation.
        move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            let frames = data.len() / channels;
            let mut i = 0;
            consumer.pop_each(frames, |x| {
                let v = T::from_sample(x);
                for s in &mut data[i * channels..(i + 1) * channels] {
                    *s = v;
                }
                i += 1;
            });
            for s in &mut data[i * channels..] {
                *s = T::EQUILIBRIUM;
            }
        },
        on_stream_error(failed),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CI and this machine have no sound card: opening must give a clear
    /// error, not a panic (and on a machine with one, it may just work).
    #[test]
    fn opening_devices_without_a_sound_card_is_a_clear_error() {
        match MicSource::open(None) {
            Ok(mic) => assert!(mic.describe().starts_with("microphone")),
            Err(e) => {
                let text = e.to_string();
                println!("microphone: {text}");
                assert!(text.contains("microphone"), "{text}");
                assert!(text.contains("--audio-in"), "a hint: {text}");
            }
        }
        match SpeakerSink::open(None) {
            Ok(s) => assert!(s.describe().starts_with("speaker")),
            Err(e) => {
                println!("speaker: {e}");
                assert!(e.to_string().contains("speaker"), "{e}");
            }
        }
        let e = MicSource::open(Some("no such microphone 1234"))
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("no such microphone 1234")
                || matches!(e, MediaError::Enumerate(_)),
            "{e}"
        );
        // Listing never panics either.
        println!("{:#?}", devices());
    }

    #[test]
    fn quiet_stderr_silences_and_restores() {
        use std::os::fd::AsRawFd;
        let file = tempfile::NamedTempFile::new().unwrap();
        let write2 = |text: &str| {
            // SAFETY: writes from a live buffer to fd 2.
            unsafe { libc::write(2, text.as_ptr().cast(), text.len()) };
        };
        // Catch fd 2 in a file (holding the lock so no guard in another
        // test thread interleaves), then check what reached it.
        {
            let _lock = QUIET.lock().unwrap_or_else(|e| e.into_inner());
            let original = point_stderr_at(file.as_file().as_raw_fd()).unwrap();
            drop(_lock);
            {
                let _quiet = QuietStderr::new();
                write2("during-quiet\n");
            }
            write2("after-quiet\n");
            let _lock = QUIET.lock().unwrap_or_else(|e| e.into_inner());
            restore_stderr(original);
        }
        let caught = std::fs::read_to_string(file.path()).unwrap();
        assert!(caught.contains("after-quiet"), "{caught}");
        assert!(!caught.contains("during-quiet"), "{caught}");
        assert_eq!(quietly(|| 7), 7);
    }
}
