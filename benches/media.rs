//! Media benchmark: Opus encode+decode CPU time per second of audio (tone
//! and noise, 48 kHz mono, 20 ms frames, FEC on), the receive path (decode,
//! meter, jitter queue) and the capture→packet latency of the pipeline
//! (timestamped frames from the paced source through the encoder to the
//! packet channel's consumer). Prints figures (run with
//! `cargo bench --bench media`).

use std::time::{Duration, Instant};

use confab::media::codec::{Decoder, Encoder, EncoderConfig, MAX_DECODED};
use confab::media::source::{FrameSource, ToneSource};
use confab::media::{AudioIn, AudioOut, Capture, CaptureOptions, FRAME_SAMPLES, Playback};

/// CPU time of this thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

struct Noise(u64);

impl FrameSource for Noise {
    fn next_frame(&mut self, out: &mut [f32]) -> Result<(), confab::media::MediaError> {
        for x in out.iter_mut() {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
            *x = (r as f32 / (1u64 << 24) as f32 - 0.5) * 0.5;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        "noise".into()
    }
}

fn codec(name: &str, source: &mut dyn FrameSource, seconds: usize) {
    let frames_n = seconds * 50;
    let mut frames = Vec::with_capacity(frames_n);
    for _ in 0..frames_n {
        let mut f = vec![0.0f32; FRAME_SAMPLES];
        source.next_frame(&mut f).unwrap();
        frames.push(f);
    }
    let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
    let t = thread_cpu();
    let packets: Vec<Vec<u8>> = frames.iter().map(|f| enc.encode(f).unwrap()).collect();
    let encode = thread_cpu() - t;
    let bytes: usize = packets.iter().map(Vec::len).sum();
    let mut dec = Decoder::new().unwrap();
    let mut out = vec![0.0f32; MAX_DECODED];
    let t = thread_cpu();
    for p in &packets {
        dec.decode(p, &mut out).unwrap();
    }
    let decode = thread_cpu() - t;
    let per_s = |d: Duration| d.as_secs_f64() * 1000.0 / seconds as f64;
    println!(
        "opus {name:5}: encode {:6.2} ms CPU per s of audio, decode {:5.2} ms, \
         together {:6.2} ms ({:.1}% of one core; {:.0}x real time); {:.1} kbit/s",
        per_s(encode),
        per_s(decode),
        per_s(encode + decode),
        per_s(encode + decode) / 10.0,
        1000.0 / per_s(encode + decode),
        bytes as f64 * 8.0 / seconds as f64 / 1000.0,
    );
}

fn receive_path(seconds: usize) {
    let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
    let mut tone = ToneSource::new(440.0, 0.4);
    let mut f = vec![0.0f32; FRAME_SAMPLES];
    let packets: Vec<Vec<u8>> = (0..seconds * 50)
        .map(|_| {
            tone.next_frame(&mut f).unwrap();
            enc.encode(&f).unwrap()
        })
        .collect();
    let playback = Playback::start(&AudioOut::Null, None).unwrap();
    let mut sink = playback.add_stream("xmpp:bench@localhost").unwrap();
    let t = thread_cpu();
    for (i, p) in packets.iter().enumerate() {
        sink.push(i as u16, p).unwrap();
    }
    let cpu = thread_cpu() - t;
    println!(
        "receive path (decode + level + speaking + jitter queue): {:.2} ms CPU per s of audio",
        cpu.as_secs_f64() * 1000.0 / seconds as f64
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn latency(seconds: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (capture, mut rx) = Capture::open(&AudioIn::Tone(440.0), CaptureOptions::default()).unwrap();
        let n = seconds as usize * 50;
        let mut to_packet = Vec::with_capacity(n);
        let mut to_consumer = Vec::with_capacity(n);
        let mut intervals = Vec::with_capacity(n);
        let mut last: Option<Instant> = None;
        while to_packet.len() < n {
            let f = rx.recv().await.expect("frames");
            let got = Instant::now();
            to_packet.push(f.encoded - f.captured);
            to_consumer.push(got - f.captured);
            if let Some(prev) = last {
                intervals.push(got - prev);
            }
            last = Some(got);
        }
        assert_eq!(capture.dropped(), 0);
        capture.stop().unwrap();
        for (what, v) in [
            ("frame deadline → Opus packet", &mut to_packet),
            ("frame deadline → packet at consumer", &mut to_consumer),
            ("packet interval at consumer", &mut intervals),
        ] {
            v.sort();
            println!(
                "{what:36}: min {:7.3} ms, median {:7.3}, p95 {:7.3}, p99 {:7.3}, max {:7.3} ({} frames)",
                v[0].as_secs_f64() * 1e3,
                percentile(v, 0.5).as_secs_f64() * 1e3,
                percentile(v, 0.95).as_secs_f64() * 1e3,
                percentile(v, 0.99).as_secs_f64() * 1e3,
                v[v.len() - 1].as_secs_f64() * 1e3,
                v.len(),
            );
        }
    });
}

/// The whole sending path to the network and back out: a paced tone frame
/// is captured, Opus-encoded, packed into RTP, SRTP-protected and sent by
/// one WebRTC peer over loopback, and read from the remote track by another
/// (ICE, DTLS-SRTP: what a call does, minus the device buffer).
fn rtp_latency(seconds: u64) {
    use confab::media::rtc::{AudioPeer, ConnectionState, RtcEvent, RtcOptions};
    use std::sync::{Arc, Mutex};
    use tokio::sync::mpsc::UnboundedReceiver;

    async fn pump(
        events: &mut UnboundedReceiver<RtcEvent>,
        other: &AudioPeer,
        tracks: &mut Vec<confab::media::rtc::RemoteAudio>,
    ) {
        loop {
            match events.recv().await.expect("peer events") {
                RtcEvent::LocalCandidate(c) => other
                    .add_remote_candidate(&c.candidate, &c.mid)
                    .await
                    .expect("candidate"),
                RtcEvent::State(ConnectionState::Connected) => return,
                RtcEvent::State(s @ (ConnectionState::Failed | ConnectionState::Closed)) => {
                    panic!("connection {s}")
                }
                RtcEvent::Track(t) => tracks.push(t),
                _ => {}
            }
        }
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut tx_events) = AudioPeer::offer(RtcOptions::loopback()).await.unwrap();
        let offer = tx.local_sdp().await.unwrap();
        let (rx, mut rx_events) = AudioPeer::answer(RtcOptions::loopback(), &offer).await.unwrap();
        tx.set_remote_answer(&rx.local_sdp().await.unwrap()).await.unwrap();
        let (mut none, mut tracks) = (Vec::new(), Vec::new());
        tokio::join!(
            pump(&mut tx_events, &rx, &mut none),
            pump(&mut rx_events, &tx, &mut tracks)
        );
        let n = seconds as usize * 50;
        let captured: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::with_capacity(n)));
        let (capture, mut frames) = Capture::open(&AudioIn::Tone(440.0), CaptureOptions::default()).unwrap();
        let sender = {
            let captured = captured.clone();
            async move {
                while let Some(f) = frames.recv().await {
                    captured.lock().unwrap().push(f.captured);
                    tx.send_opus(&f.payload, f.duration()).await.unwrap();
                    if captured.lock().unwrap().len() >= n {
                        break;
                    }
                }
                tx
            }
        };
        let receiver = async {
            let mut track = loop {
                if let Some(t) = tracks.pop() {
                    break t;
                }
                if let Some(RtcEvent::Track(t)) = rx_events.recv().await {
                    break t;
                }
            };
            let mut first_ts = None;
            let mut lat = Vec::with_capacity(n);
            while lat.len() < n {
                let Ok(Some(p)) = tokio::time::timeout(Duration::from_secs(2), track.next()).await else {
                    break;
                };
                let got = Instant::now();
                let first = *first_ts.get_or_insert(p.timestamp);
                let i = (p.timestamp.wrapping_sub(first) / 960) as usize;
                if let Some(t) = captured.lock().unwrap().get(i) {
                    lat.push(got - *t);
                }
            }
            lat
        };
        let (tx, mut lat) = tokio::join!(sender, receiver);
        capture.stop().unwrap();
        let _ = tx.close().await;
        let _ = rx.close().await;
        lat.sort();
        println!(
            "{:36}: min {:7.3} ms, median {:7.3}, p95 {:7.3}, p99 {:7.3}, max {:7.3} ({} of {n} frames)",
            "frame deadline → RTP at the peer",
            lat[0].as_secs_f64() * 1e3,
            percentile(&lat, 0.5).as_secs_f64() * 1e3,
            percentile(&lat, 0.95).as_secs_f64() * 1e3,
            percentile(&lat, 0.99).as_secs_f64() * 1e3,
            lat[lat.len() - 1].as_secs_f64() * 1e3,
            lat.len(),
        );
    });
}

/// Noise suppression (RNNoise, `media::denoise`) on a spoken sentence
/// (espeak-ng) with white noise at several levels: the figures of
/// `media::speech::suppression`, and its CPU cost per second of audio.
fn denoise() {
    use confab::media::Denoiser;
    use confab::media::speech::{padded_sentence, suppression, with_white_noise};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let clean = match padded_sentence(dir.path()) {
        Ok(c) => c,
        Err(e) => {
            println!("denoise: skipped ({e})");
            return;
        }
    };
    println!(
        "denoise (RNNoise) on a spoken sentence with white noise, {:.1} s:",
        clean.len() as f32 / 48_000.0
    );
    println!(
        "  input SNR | noise removed | voice kept | segmental SNR before → after | CPU per s of audio"
    );
    for snr in [20.0, 10.0, 5.0, 0.0] {
        let noisy = with_white_noise(&clean, snr, 0x5eed);
        let mut out = noisy.clone();
        let mut d = Denoiser::new();
        let start = thread_cpu();
        for f in out.chunks_exact_mut(FRAME_SAMPLES) {
            d.process(f);
        }
        let cpu = thread_cpu() - start;
        let s = suppression(&clean, &noisy, &out, 1_440, 24_000).expect("a voice to measure");
        println!(
            "  {snr:>6.0} dB | {:>10.1} dB | {:>7.1} dB | {:>9.1} dB → {:>5.1} dB | {:>8.2} ms",
            s.noise_removed_db,
            s.voice_kept_db,
            s.seg_snr_before,
            s.seg_snr_after,
            cpu.as_secs_f64() * 1000.0 / (clean.len() as f64 / 48_000.0)
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    println!("confab media benchmark (48 kHz mono, 20 ms frames, Opus 32 kbit/s VBR, FEC on)");
    codec("tone", &mut ToneSource::new(440.0, 0.5), 20);
    codec("noise", &mut Noise(0x9E37_79B9_7F4A_7C15), 20);
    receive_path(20);
    denoise();
    latency(5);
    rtp_latency(5);
    println!(
        "(capture latency excludes the device: a microphone adds its own buffer, typically 5–20 ms)"
    );
}
