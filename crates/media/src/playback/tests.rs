use super::*;
use crate::SAMPLE_RATE;
use crate::analysis::{dominant_frequency, spectrum_peaks, wav_dominant_frequency};
use crate::codec::{Encoder, EncoderConfig};
use crate::source::{FrameSource, ToneSource};
use crate::wav::read_mono;
use std::time::Duration;

fn packets(hz: f32, n: usize) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
    let mut src = ToneSource::new(hz, 0.4);
    let mut frame = [0.0f32; FRAME_SAMPLES];
    (0..n)
        .map(|_| {
            src.next_frame(&mut frame).unwrap();
            enc.encode(&frame).unwrap()
        })
        .collect()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn streams_are_recorded_mixed_and_metered() {
    let dir = tempfile::tempdir().unwrap();
    let mix = dir.path().join("mix.wav");
    let streams = dir.path().join("streams");
    let playback = Playback::start(&AudioOut::File(mix.clone()), Some(&streams)).unwrap();
    let mut a = playback.add_stream("xmpp:alice@localhost").unwrap();
    let mut b = playback.add_stream("xmpp:bob@localhost").unwrap();
    assert_eq!(playback.stream_count(), 2);
    let (pa, pb) = (packets(440.0, 100), packets(660.0, 100));
    // Fed in real time-ish bursts of 5 frames (100 ms).
    for i in (0..100).step_by(5) {
        for j in i..i + 5 {
            a.push(j as u16, &pa[j]).unwrap();
            b.push(j as u16 + 1000, &pb[j]).unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let levels = playback.levels();
    assert_eq!(levels.len(), 2);
    assert_eq!(levels[0].entity, "xmpp:alice@localhost");
    assert!(
        levels.iter().all(|l| l.level > 0.7 && l.speaking),
        "{levels:?}"
    );
    assert_eq!(a.stats().frames, 100);
    assert_eq!(a.stats().lost, 0);
    let path_a = a.wav_path().unwrap().to_path_buf();
    a.finish().unwrap();
    b.finish().unwrap();
    assert_eq!(playback.stream_count(), 0);
    playback.finish().unwrap();

    assert_eq!(path_a, streams.join("alice@localhost.wav"));
    let fa = wav_dominant_frequency(&path_a).unwrap().unwrap();
    let fb = wav_dominant_frequency(&streams.join("bob@localhost.wav"))
        .unwrap()
        .unwrap();
    assert!(
        (fa - 440.0).abs() <= 2.0 && (fb - 660.0).abs() <= 2.0,
        "{fa} {fb}"
    );
    let (mixed, rate) = read_mono(&mix).unwrap();
    assert_eq!(rate, SAMPLE_RATE);
    let peaks = spectrum_peaks(&mixed, rate);
    let mut f: Vec<f32> = peaks.iter().take(2).map(|p| p.frequency).collect();
    f.sort_by(f32::total_cmp);
    assert!(
        f.len() == 2 && (f[0] - 440.0).abs() <= 2.0 && (f[1] - 660.0).abs() <= 2.0,
        "{peaks:?}"
    );
}

#[tokio::test]
async fn capture_to_playback_keeps_the_tone() {
    use crate::capture::{Capture, CaptureOptions};
    use crate::spec::AudioIn;
    let dir = tempfile::tempdir().unwrap();
    let playback = Playback::start(&AudioOut::Null, Some(dir.path())).unwrap();
    let mut sink = playback.add_stream("xmpp:tone@localhost").unwrap();
    let (capture, mut rx) =
        Capture::open(&AudioIn::Tone(660.0), CaptureOptions::default()).unwrap();
    for _ in 0..60 {
        let f = rx.recv().await.unwrap();
        sink.push(f.seq as u16, &f.payload).unwrap();
    }
    capture.stop().unwrap();
    assert_eq!(sink.stats().lost, 0);
    let path = sink.wav_path().unwrap().to_path_buf();
    sink.finish().unwrap();
    playback.finish().unwrap();
    let f = wav_dominant_frequency(&path).unwrap().unwrap();
    assert!((f - 660.0).abs() <= 2.0, "{f}");
}

#[test]
fn loss_is_recovered_reordering_undone_late_packets_dropped_garbage_concealed() {
    let playback = Playback::start(&AudioOut::Null, None).unwrap();
    let mut s = playback.add_stream("sip:carol@example.org").unwrap();
    let p = packets(440.0, 60);
    let mut pcm_frames = 0;
    for (i, packet) in p.iter().enumerate() {
        // Lose 10 and 20..23; 30 arrives twice; 40 is overtaken by 41
        // (put back in order); 45 by 46..=50 (too late: lost by then).
        match i {
            10 | 20 | 21 | 22 | 40 | 45 => continue,
            _ => {}
        }
        s.push((i as u16).wrapping_add(65_500), packet).unwrap(); // wraps around 65535
        if i == 30 {
            s.push((i as u16).wrapping_add(65_500), packet).unwrap();
        }
        if i == 41 {
            s.push(40u16.wrapping_add(65_500), &p[40]).unwrap();
        }
        if i == 50 {
            assert_eq!(s.reorder_depth(), crate::jitter::START_DEPTH);
            s.push(45u16.wrapping_add(65_500), &p[45]).unwrap();
        }
        pcm_frames += 1;
    }
    s.push(60u16.wrapping_add(65_500), &[0xff, 0xff, 0xff])
        .unwrap();
    let st = s.stats();
    assert_eq!(st.lost, 5, "{st:?}");
    // One FEC recovery per gap, concealment for the rest and the garbage.
    assert_eq!(st.recovered, 3, "{st:?}");
    assert_eq!(st.concealed, 3, "{st:?}");
    assert_eq!(st.late, 2, "{st:?}");
    assert_eq!(st.invalid, 1);
    assert_eq!(
        st.frames, 61,
        "{pcm_frames} decoded + 5 lost + garbage - late 45"
    );
    // 45 was overtaken by five: the reordering depth grew to cover it.
    assert_eq!(s.reorder_depth(), 6);
    assert!(s.level().level > 0.5);
    // A long pause in sending is not filled in.
    s.push(500, &p[0]).unwrap();
    assert_eq!(s.stats().frames, 62);
    drop(s);
    assert_eq!(playback.stream_count(), 0);
}

/// RED: each packet carries copies of the 3 frames before it. A frame
/// lost in its own packet is taken from a later packet's copy (no loss
/// for the decoder); a burst of 3 is rebuilt from the 4th packet; a burst
/// of 5 loses the 2 frames no packet that came carried.
#[test]
fn red_copies_fill_lost_frames_before_fec_or_concealment() {
    let playback = Playback::start(&AudioOut::Null, None).unwrap();
    let mut s = playback.add_stream("xmpp:red@example.org").unwrap();
    let p = packets(440.0, 60);
    let lost = |i: usize| matches!(i, 10 | 20..=22 | 40..=44);
    for (i, packet) in p.iter().enumerate() {
        if lost(i) {
            continue;
        }
        let copies: Vec<Redundant> = [3usize, 2, 1]
            .iter()
            .filter(|&&d| d <= i)
            .map(|&d| Redundant {
                offset: 960 * d as u32,
                payload: p[i - d].clone(),
            })
            .collect();
        s.push_with(i as u16, packet, &copies).unwrap();
    }
    let st = s.stats();
    assert_eq!(st.redundant, 1 + 3 + 3, "{st:?}");
    assert_eq!(st.lost, 2, "40 and 41: no copy came: {st:?}");
    assert_eq!(st.recovered + st.concealed, 2, "{st:?}");
    assert_eq!(st.late, 0, "{st:?}");
    assert_eq!(
        st.frames, 60,
        "every frame played, 2 of them rebuilt: {st:?}"
    );
    assert_eq!(s.reorder_depth(), 3, "the farthest copy's distance");
    // Copies of odd sizes or beyond the buffer are left alone.
    let odd = [
        Redundant {
            offset: 500,
            payload: p[0].clone(),
        },
        Redundant {
            offset: 960 * 40,
            payload: p[0].clone(),
        },
        Redundant {
            offset: 960,
            payload: vec![0xff, 0xff],
        },
    ];
    s.push_with(61, &p[1], &odd).unwrap();
    assert_eq!(s.stats().redundant, st.redundant);
}

#[test]
fn playout_prebuffers_rebuffers_and_adapts_its_target() {
    let mut slots = vec![Slot {
        id: 1,
        entity: "x".into(),
        queue: VecDeque::new(),
        playing: false,
        target: PREBUFFER,
        calm: 0,
        underruns: 0,
        decoder: Arc::new(Mutex::new(Decoder::new().unwrap())),
        concealing: 0,
        level: 0.0,
        speaking: false,
    }];
    let mut out = Vec::new();
    slots[0].queue.extend([vec![1.0], vec![2.0]]);
    take_frames(&mut slots, &mut out);
    assert!(out.is_empty(), "waits for {PREBUFFER} frames");
    slots[0].queue.push_back(vec![3.0]);
    for expect in [1.0, 2.0, 3.0] {
        out.clear();
        take_frames(&mut slots, &mut out);
        assert_eq!(out, vec![vec![expect]]);
    }
    // Ran dry while playing: the target grows, up to its maximum, and
    // the decoder's concealment fills the ticks, up to a limit.
    for _ in 0..MAX_CONCEAL_TICKS {
        out.clear();
        take_frames(&mut slots, &mut out);
        assert_eq!(out.len(), 1, "concealed");
        assert_eq!(out[0].len(), FRAME_SAMPLES);
        assert!(slots[0].playing);
    }
    assert_eq!((slots[0].target, slots[0].underruns), (PREBUFFER + 2, 1));
    out.clear();
    take_frames(&mut slots, &mut out);
    assert!(out.is_empty() && !slots[0].playing, "quiet after the limit");
    // Frames arriving after a concealment play after it.
    slots[0].playing = true;
    slots[0].queue.push_back(vec![4.0]);
    take_frames(&mut slots, &mut out);
    take_frames(&mut slots, &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], vec![4.0]);
    assert_eq!(slots[0].underruns, 2);
    slots[0].playing = false;
    slots[0].target = PREBUFFER + 2;
    out.clear();
    slots[0]
        .queue
        .extend((0..PREBUFFER + 1).map(|i| vec![i as f32]));
    take_frames(&mut slots, &mut out);
    assert!(out.is_empty(), "waits for the new target");
    for _ in 0..10 {
        // Separate underruns (a run of concealed ticks counts once).
        slots[0].playing = true;
        slots[0].concealing = 0;
        slots[0].queue.clear();
        take_frames(&mut slots, &mut out);
    }
    assert_eq!(slots[0].target, MAX_TARGET);
    // A long calm lowers it again, one frame at a time.
    slots[0]
        .queue
        .extend((0..RELAX_TICKS as usize * 2).map(|_| vec![0.0]));
    for _ in 0..RELAX_TICKS * 2 {
        take_frames(&mut slots, &mut out);
    }
    assert_eq!(slots[0].target, MAX_TARGET - 2);
    assert_eq!(unique_name(&HashSet::new(), "a.wav"), "a.wav");
    let used: HashSet<String> = ["a.wav".to_string(), "a-2.wav".to_string()].into();
    assert_eq!(unique_name(&used, "a.wav"), "a-3.wav");
}

#[test]
fn the_output_is_switched_while_the_mixer_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    let playback = Playback::start(&AudioOut::File(a.clone()), None).unwrap();
    let mut s = playback.add_stream("xmpp:alice@localhost").unwrap();
    let p = packets(440.0, 100);
    let mut feed = |range: std::ops::Range<usize>| {
        for i in range.step_by(5) {
            for (j, packet) in p.iter().enumerate().skip(i).take(5) {
                s.push(j as u16, packet).unwrap();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    feed(0..50);
    // A sink that cannot be opened: an error, and the old one stays.
    let bad = AudioOut::File(dir.path().join("no/such/dir/x.wav"));
    assert!(playback.set_output(&bad).is_err());
    assert_eq!(playback.sink(), format!("file:{}", a.display()));
    assert!(check_output(&bad).is_err());
    assert!(check_output(&AudioOut::File(b.clone())).is_ok());
    // The switch: the old file is finished at once, the new one plays.
    assert!(
        playback
            .set_output(&AudioOut::File(b.clone()))
            .unwrap()
            .is_none()
    );
    assert_eq!(playback.sink(), format!("file:{}", b.display()));
    let (first, _) = read_mono(&a).unwrap();
    assert!(first.len() >= 30 * FRAME_SAMPLES, "{}", first.len());
    feed(50..100);
    s.finish().unwrap();
    playback.finish().unwrap();
    for path in [&a, &b] {
        let f = wav_dominant_frequency(path).unwrap().unwrap();
        assert!((f - 440.0).abs() <= 2.0, "{}: {f}", path.display());
    }
    let (second, _) = read_mono(&b).unwrap();
    assert!(second.len() >= 30 * FRAME_SAMPLES, "{}", second.len());
}

#[test]
fn same_entity_twice_gets_a_second_file_and_deafen_silences_the_mix() {
    let dir = tempfile::tempdir().unwrap();
    let mix = dir.path().join("mix.wav");
    let playback = Playback::start(&AudioOut::File(mix.clone()), Some(dir.path())).unwrap();
    playback.set_deafened(true);
    assert!(playback.is_deafened());
    let mut s1 = playback.add_stream("xmpp:a@b").unwrap();
    let s2 = playback.add_stream("xmpp:a@b").unwrap();
    assert_eq!(s2.wav_path().unwrap(), dir.path().join("a@b-2.wav"));
    for (i, p) in packets(440.0, 50).iter().enumerate() {
        s1.push(i as u16, p).unwrap();
    }
    wait_until("the mixer to take the frames", || {
        playback.shared.slots().iter().all(|s| s.queue.is_empty())
    });
    drop((s1, s2));
    playback.finish().unwrap();
    let (mixed, _) = read_mono(&mix).unwrap();
    assert!(mixed.iter().all(|&x| x == 0.0));
    assert_eq!(dominant_frequency(&mixed, SAMPLE_RATE), None);
    let (rec, _) = read_mono(&dir.path().join("a@b.wav")).unwrap();
    assert_eq!(rec.len(), 50 * FRAME_SAMPLES, "recorded although deafened");
}
