//! Call quality under loss and jitter: a 440 Hz tone sent from one WebRTC
//! peer to another through the testbed's impaired UDP relay
//! (`confab_testbed::impair`: seeded loss, 20 ms delay + 0–40 ms jitter),
//! received by confab-media's stream sink and mixer, and measured as the
//! tone's SNR in what was played (`analysis::tone_snr`: strict, time
//! domain, phase fitted per 100 ms), its SINAD (`analysis::tone_sinad`:
//! spectral) and the SNR of the stream as decoded (before the playout
//! queue). Prints the table
//! for 0, 5, 10, 20 and 30 % loss, uniform and bursty (Gilbert–Elliott,
//! mean burst 3 packets). Each row also sends a spoken sentence
//! (espeak-ng, `media::speech::padded_sentence`) once through the same
//! impairment, as a file source, and prints its segmental SNR
//! (`media::speech::segmental_snr`) as played and as decoded. Run with
//! `cargo bench --bench call_quality`; `CONFAB_QUALITY_SECS` sets the
//! seconds of tone per cell (default 6). Every row is measured twice:
//! plain Opus (in-band FEC and concealment; neither peer offers RED) and
//! with RED negotiated (RFC 2198: each packet repeats the frames
//! `rtc::RED_DISTANCES` back); `copies` counts the frames a RED copy
//! rebuilt (not counted as lost to the decoder); `CONFAB_QUALITY_RED=on`
//! or `off` measures one of the two only.

use std::time::Duration;

use confab_testbed::impair::{Impairment, Loss};
use confab_testbed::quality::{speech_through_with, tone_through_with};

fn main() {
    let secs: f64 = std::env::var("CONFAB_QUALITY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "call quality: 440 Hz tone ({secs} s) and a spoken sentence, \
         20 ms delay + 0–40 ms jitter"
    );
    let reds: Vec<bool> = match std::env::var("CONFAB_QUALITY_RED").as_deref() {
        Ok("on") => vec![true],
        Ok("off") => vec![false],
        _ => vec![false, true],
    };
    println!(
        "{:>6}  {:>9}  {:>5}  {:>8}  {:>9}  {:>11}  {:>10}  {:>11}  {:>6}  {:>6}  {:>9}  {:>6}  {:>9}  {:>5}",
        "loss",
        "model",
        "RED",
        "SNR dB",
        "SINAD dB",
        "decoded SNR",
        "speech dB",
        "decoded sp.",
        "sent",
        "lost",
        "recovered",
        "copies",
        "concealed",
        "late"
    );
    for pct in [0u32, 5, 10, 20, 30] {
        let p = f64::from(pct) / 100.0;
        let models: Vec<(&str, Loss)> = if pct == 0 {
            vec![("none", Loss::None)]
        } else {
            vec![
                ("uniform", Loss::Uniform(p)),
                (
                    "bursty",
                    Loss::Bursty {
                        loss: p,
                        mean_burst: 3.0,
                    },
                ),
            ]
        };
        for ((name, loss), red) in models
            .into_iter()
            .flat_map(|m| reds.iter().map(move |&r| (m, r)))
        {
            let imp = Impairment {
                loss,
                delay: Duration::from_millis(20),
                jitter: Duration::from_millis(40),
                seed: 0x5eed + u64::from(pct),
            };
            let speech = rt.block_on(speech_through_with(imp, dir.path(), red));
            let (sp, sp_dec) = match &speech {
                Ok(s) => (s.seg_snr_db, s.decoded_seg_snr_db),
                Err(e) => {
                    eprintln!("speech, {pct} % {name}: {e}");
                    (f32::NAN, f32::NAN)
                }
            };
            match rt.block_on(tone_through_with(imp, 440.0, secs, red)) {
                Ok(q) => println!(
                    "{:>5}%  {:>9}  {:>5}  {:>8.1}  {:>9.1}  {:>11.1}  {:>10.1}  {:>11.1}  {:>6}  {:>6}  {:>9}  {:>6}  {:>9}  {:>5}",
                    pct,
                    name,
                    if q.red { "on" } else { "off" },
                    q.snr_db,
                    q.sinad_db,
                    q.decoded_snr_db,
                    sp,
                    sp_dec,
                    q.sent,
                    q.dropped,
                    q.stream.recovered,
                    q.stream.redundant,
                    q.stream.concealed,
                    q.stream.late
                ),
                Err(e) => println!("{pct:>5}%  {name:>9}  {red:>5}  failed: {e}"),
            }
        }
    }
}
