//! Tests of the WebRTC layer: the first mid of an SDP, two loopback peers
//! carrying Opus in order (with RED copies of earlier frames), RED
//! negotiated only when both sides offer it, packets forwarded with
//! payload and timing kept (RED to a peer that has it, the primary frame
//! to one that has not), and two-way peers (one-to-one calls) sending
//! both ways.

use super::*;
use tokio::time::timeout;

#[test]
fn first_mid_finds_the_first_media_id() {
    let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=mid:1\r\n";
    assert_eq!(first_mid(sdp).as_deref(), Some("0"));
    assert_eq!(first_mid("v=0\r\n"), None);
}

/// Waits for `want` on `events`, handing candidates to `other` meanwhile.
async fn pump_until_connected(
    events: &mut mpsc::UnboundedReceiver<RtcEvent>,
    other: &AudioPeer,
    tracks: &mut Vec<RemoteAudio>,
) {
    loop {
        match events.recv().await.expect("events end") {
            RtcEvent::LocalCandidate(c) => {
                other
                    .add_remote_candidate(&c.candidate, &c.mid)
                    .await
                    .expect("add candidate");
            }
            RtcEvent::State(ConnectionState::Connected) => return,
            RtcEvent::State(s @ (ConnectionState::Failed | ConnectionState::Closed)) => {
                panic!("connection {s}")
            }
            RtcEvent::Track(t) => tracks.push(t),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_loopback_peers_carry_opus_in_order() {
    let (tx, mut tx_events) = AudioPeer::offer(RtcOptions::loopback()).await.unwrap();
    let offer = tx.local_sdp().await.unwrap();
    assert!(offer.contains("a=sendonly"), "{offer}");
    assert!(offer.contains("opus/48000/2"), "{offer}");
    assert!(offer.contains("useinbandfec=1"), "{offer}");
    let (rx, mut rx_events) = AudioPeer::answer(RtcOptions::loopback(), &offer)
        .await
        .unwrap();
    let answer = rx.local_sdp().await.unwrap();
    assert!(answer.contains("a=recvonly"), "{answer}");
    assert!(offer.contains("a=rtpmap:63 red/48000/2"), "{offer}");
    assert!(answer.contains("a=fmtp:63 111/111"), "{answer}");
    tx.set_remote_answer(&answer).await.unwrap();
    let red = Some(RedNegotiated {
        red_pt: 63,
        opus_pt: 111,
    });
    assert_eq!((tx.red(), rx.red()), (red, red), "both offered RED");

    // Trickle both ways until both ends are connected.
    let mut tracks = Vec::new();
    let mut no_tracks = Vec::new();
    timeout(Duration::from_secs(20), async {
        tokio::join!(
            pump_until_connected(&mut tx_events, &rx, &mut no_tracks),
            pump_until_connected(&mut rx_events, &tx, &mut tracks),
        )
    })
    .await
    .expect("both peers connect");

    // 50 Opus packets of a 440 Hz tone, 20 ms each.
    let mut encoder =
        opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).unwrap();
    let mut sent = Vec::new();
    for n in 0..50usize {
        let pcm: Vec<i16> = (0..960)
            .map(|i| {
                let t = (n * 960 + i) as f32 / 48_000.0;
                ((t * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16
            })
            .collect();
        let packet = encoder.encode_vec(&pcm, 1500).unwrap();
        tx.send_opus(&packet, Duration::from_millis(20))
            .await
            .unwrap();
        sent.push(packet);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let mut track = first_track(&mut tracks, &mut rx_events).await;
    assert_eq!(track.ssrc, tx.local_ssrc().unwrap());
    let mut got = Vec::new();
    timeout(Duration::from_secs(10), async {
        while got.len() < sent.len() {
            got.push(track.next().await.expect("packet"));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {} packets arrived", got.len(), sent.len()));
    for w in got.windows(2) {
        assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1), "in order");
        assert_eq!(w[1].timestamp, w[0].timestamp.wrapping_add(960));
    }
    // Each packet arrives split: its own frame (as Opus' payload type)
    // and copies of the frames RED_DISTANCES back, oldest first.
    for (n, p) in got.iter().enumerate() {
        assert_eq!(p.payload_type, OPUS_PAYLOAD_TYPE);
        let want: Vec<Redundant> = RED_DISTANCES
            .iter()
            .rev()
            .filter(|&&d| d <= n)
            .map(|&d| Redundant {
                offset: 960 * d as u32,
                payload: sent[n - d].clone(),
            })
            .collect();
        assert_eq!(p.redundancy, want, "packet {n}");
    }
    assert_eq!(track.malformed(), 0);
    let payloads: Vec<Vec<u8>> = got.into_iter().map(|p| p.payload).collect();
    assert_eq!(payloads, sent);
    tx.close().await.unwrap();
    rx.close().await.unwrap();
}

/// Offer from `tx`, answer from a new receiving peer, trickle both ways
/// until both are connected; returns the receiver and its events.
async fn connect(
    tx: &AudioPeer,
    tx_events: &mut mpsc::UnboundedReceiver<RtcEvent>,
) -> (
    AudioPeer,
    mpsc::UnboundedReceiver<RtcEvent>,
    Vec<RemoteAudio>,
) {
    connect_with(tx, tx_events, RtcOptions::loopback()).await
}

/// [`connect`] with the receiver's options.
async fn connect_with(
    tx: &AudioPeer,
    tx_events: &mut mpsc::UnboundedReceiver<RtcEvent>,
    options: RtcOptions,
) -> (
    AudioPeer,
    mpsc::UnboundedReceiver<RtcEvent>,
    Vec<RemoteAudio>,
) {
    let offer = tx.local_sdp().await.unwrap();
    let (rx, mut rx_events) = AudioPeer::answer(options, &offer).await.unwrap();
    tx.set_remote_answer(&rx.local_sdp().await.unwrap())
        .await
        .unwrap();
    let mut tracks = Vec::new();
    let mut none = Vec::new();
    timeout(Duration::from_secs(20), async {
        tokio::join!(
            pump_until_connected(tx_events, &rx, &mut none),
            pump_until_connected(&mut rx_events, tx, &mut tracks),
        )
    })
    .await
    .expect("both peers connect");
    (rx, rx_events, tracks)
}

async fn first_track(
    tracks: &mut Vec<RemoteAudio>,
    events: &mut mpsc::UnboundedReceiver<RtcEvent>,
) -> RemoteAudio {
    timeout(Duration::from_secs(10), async {
        loop {
            if let Some(t) = tracks.pop() {
                return t;
            }
            if let Some(RtcEvent::Track(t)) = events.recv().await {
                return t;
            }
        }
    })
    .await
    .expect("a remote track")
}

fn plain() -> RtcOptions {
    RtcOptions {
        red: false,
        ..RtcOptions::loopback()
    }
}

/// RED is used only when both sides offer it: a peer that does not (as
/// aiortc) gets an answer, or makes one, without it, and plain Opus flows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_is_not_negotiated_with_a_peer_that_does_not_offer_it() {
    for (offerer, answerer) in [
        (RtcOptions::loopback(), plain()),
        (plain(), RtcOptions::loopback()),
    ] {
        let (tx, mut tx_events) = AudioPeer::offer(offerer.clone()).await.unwrap();
        assert_eq!(
            tx.local_sdp().await.unwrap().contains("red/48000"),
            offerer.red
        );
        let (rx, mut rx_events, mut tracks) = connect_with(&tx, &mut tx_events, answerer).await;
        let answer = rx.local_sdp().await.unwrap();
        assert!(!answer.contains("red/48000"), "{answer}");
        assert_eq!((tx.red(), rx.red()), (None, None));
        for n in 0..5u8 {
            tx.send_opus(&[0xf8, n, n], Duration::from_millis(20))
                .await
                .unwrap();
        }
        let mut track = first_track(&mut tracks, &mut rx_events).await;
        for n in 0..5u8 {
            let p = timeout(Duration::from_secs(5), track.next())
                .await
                .expect("a packet")
                .expect("open");
            assert_eq!(p.payload_type, OPUS_PAYLOAD_TYPE);
            assert_eq!(p.payload, vec![0xf8, n, n], "plain Opus");
            assert!(p.redundancy.is_empty());
        }
        tx.close().await.unwrap();
        rx.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_packets_keep_payload_and_timing() {
    forwarding(RtcOptions::loopback()).await;
}

/// An SFU forwards RED to a receiver that negotiated it, and only the
/// primary frame to one that did not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_strips_red_for_a_receiver_without_it() {
    forwarding(plain()).await;
}

async fn forwarding(b_options: RtcOptions) {
    // A sends to the SFU; the SFU forwards into its own session to B.
    let (a, mut a_events) = AudioPeer::offer(RtcOptions::loopback()).await.unwrap();
    let (sfu_in, mut sfu_in_events, mut in_tracks) = connect(&a, &mut a_events).await;
    let (sfu_out, mut out_events) = AudioPeer::offer(RtcOptions::loopback()).await.unwrap();
    let b_red = b_options.red;
    let (b, mut b_events, mut b_tracks) = connect_with(&sfu_out, &mut out_events, b_options).await;
    assert!(sfu_in.red().is_some());
    assert_eq!(sfu_out.red().is_some(), b_red);

    let payloads: Vec<Vec<u8>> = (0..20u8).map(|n| vec![0xf8, n, n, n]).collect();
    for p in &payloads {
        a.send_opus(p, Duration::from_millis(20)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut incoming = first_track(&mut in_tracks, &mut sfu_in_events).await;
    let mut received = Vec::new();
    for _ in 0..payloads.len() {
        let p = timeout(Duration::from_secs(5), incoming.next())
            .await
            .expect("packet at the SFU")
            .expect("open");
        sfu_out.forward(&p).await.unwrap();
        received.push(p);
    }
    let mut outgoing = first_track(&mut b_tracks, &mut b_events).await;
    assert_eq!(outgoing.ssrc, sfu_out.local_ssrc().unwrap());
    for want in &received {
        let got = timeout(Duration::from_secs(5), outgoing.next())
            .await
            .expect("packet at B")
            .expect("open");
        assert_eq!(got.payload, want.payload);
        assert_eq!(got.payload_type, OPUS_PAYLOAD_TYPE);
        assert_eq!(got.sequence, want.sequence);
        assert_eq!(got.timestamp, want.timestamp);
        assert_eq!(got.ssrc, sfu_out.local_ssrc().unwrap());
        if b_red {
            assert_eq!(got.redundancy, want.redundancy);
        } else {
            assert!(got.redundancy.is_empty(), "stripped to the primary frame");
        }
    }
    assert!(received.iter().skip(1).all(|p| !p.redundancy.is_empty()));
    assert_eq!(
        received.into_iter().map(|p| p.payload).collect::<Vec<_>>(),
        payloads
    );
    for p in [&a, &sfu_in, &sfu_out, &b] {
        p.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplex_peers_carry_audio_both_ways_on_one_session() {
    let (a, mut a_events) = AudioPeer::offer_duplex(RtcOptions::loopback())
        .await
        .unwrap();
    let offer = a.local_sdp().await.unwrap();
    assert!(offer.contains("a=sendrecv"), "{offer}");
    let (b, mut b_events) = AudioPeer::answer_duplex(RtcOptions::loopback(), &offer)
        .await
        .unwrap();
    let answer = b.local_sdp().await.unwrap();
    assert!(answer.contains("a=sendrecv"), "{answer}");
    assert_eq!(answer.matches("m=audio").count(), 1, "one m-line: {answer}");
    a.set_remote_answer(&answer).await.unwrap();
    let (mut a_tracks, mut b_tracks) = (Vec::new(), Vec::new());
    timeout(Duration::from_secs(20), async {
        tokio::join!(
            pump_until_connected(&mut a_events, &b, &mut a_tracks),
            pump_until_connected(&mut b_events, &a, &mut b_tracks),
        )
    })
    .await
    .expect("both peers connect");
    // Each side sends its own packets; each receives the other's.
    for n in 0..20u8 {
        a.send_opus(&[0xf8, n, 0xa1], Duration::from_millis(20))
            .await
            .unwrap();
        b.send_opus(&[0xf8, n, 0xb2], Duration::from_millis(20))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut at_a = first_track(&mut a_tracks, &mut a_events).await;
    let mut at_b = first_track(&mut b_tracks, &mut b_events).await;
    assert_eq!(at_a.ssrc, b.local_ssrc().unwrap());
    assert_eq!(at_b.ssrc, a.local_ssrc().unwrap());
    let (from_b, from_a) = timeout(Duration::from_secs(10), async {
        (at_a.next().await.unwrap(), at_b.next().await.unwrap())
    })
    .await
    .expect("a packet each way");
    assert_eq!(from_b.payload[2], 0xb2);
    assert_eq!(from_a.payload[2], 0xa1);
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// What the receiving side makes of packets: RED split only for the
/// negotiated payload type, blocks of another codec left out, a
/// malformed RED payload dropped (`None`), anything else untouched.
#[test]
fn received_red_packets_are_split_and_malformed_ones_dropped() {
    let red = Some(RedNegotiated {
        red_pt: 63,
        opus_pt: 111,
    });
    let packet = |pt: u8, payload: Vec<u8>| rtp::Packet {
        header: rtp::header::Header {
            version: 2,
            payload_type: pt,
            sequence_number: 7,
            timestamp: 96_000,
            ssrc: 42,
            ..Default::default()
        },
        payload: payload.into(),
    };
    let blocks = red::build(
        red::Block {
            payload_type: 111,
            offset: 0,
            data: &[3, 3],
        },
        &[
            red::Block {
                payload_type: 111,
                offset: 1920,
                data: &[1],
            },
            red::Block {
                payload_type: 0,
                offset: 960,
                data: &[9, 9, 9],
            },
        ],
    );
    let got = handler::received(packet(63, blocks.clone()), red).unwrap();
    assert_eq!(
        (
            got.payload_type,
            got.payload.as_slice(),
            got.sequence,
            got.timestamp
        ),
        (111, &[3u8, 3][..], 7, 96_000)
    );
    assert_eq!(
        got.redundancy,
        vec![Redundant {
            offset: 1920,
            payload: vec![1]
        }],
        "the PCMU block is not Opus'"
    );
    // Not negotiated, or another payload type: as it came.
    let plain = handler::received(packet(63, blocks.clone()), None).unwrap();
    assert_eq!((plain.payload_type, plain.payload), (63, blocks.clone()));
    let opus = handler::received(packet(111, vec![0xf8, 1]), red).unwrap();
    assert_eq!(opus.payload, vec![0xf8, 1]);
    assert!(opus.redundancy.is_empty());
    // Malformed RED: dropped.
    for bad in [
        vec![],
        vec![0x80 | 111, 0, 0],
        vec![0x80 | 111, 15, 0, 200, 111, 1],
    ] {
        assert_eq!(
            handler::received(packet(63, bad.clone()), red),
            None,
            "{bad:?}"
        );
    }
}
