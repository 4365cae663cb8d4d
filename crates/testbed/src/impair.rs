//! A lossy, jittering UDP relay on loopback: the impaired network path of
//! the call-quality test and benchmark.
//!
//! The relay listens on one loopback port (the address advertised to the
//! sender in place of the receiver's candidate) and forwards to `target`
//! (the receiver's real candidate) from a second socket; whatever comes
//! back goes to the last address the sender used. ICE, DTLS and RTCP pass
//! untouched; only RTP from the sender (RFC 7983: first byte 128–191,
//! payload type not RTCP's 200–204) is impaired:
//!
//! - **loss**: uniform (each packet lost with probability `loss`), or
//!   bursty (Gilbert–Elliott: a good state that loses nothing and a bad
//!   state that loses everything, with the transition probabilities that
//!   give the average loss and the mean burst length asked for);
//! - **delay + jitter**: each packet leaves `delay + U(0, jitter)` after it
//!   arrived, so packets overtake each other when the jitter is larger
//!   than their spacing, as on a real network.
//!
//! The random numbers come from a seeded generator (SplitMix64): the same
//! seed loses the same packets.
//!
//! A [`Blackhole`] shared by relays ([`Relay::start_with`]) cuts the path
//! for a while: every datagram, both ways and of every kind (STUN, DTLS,
//! RTP, RTCP), is dropped until it ends — a network drop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// How packets are lost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    None,
    /// Each packet independently, with this probability.
    Uniform(f64),
    /// Gilbert–Elliott with this average loss and mean burst length (in
    /// packets).
    Bursty {
        loss: f64,
        mean_burst: f64,
    },
}

/// The impairment of the sender's RTP.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impairment {
    pub loss: Loss,
    pub delay: Duration,
    pub jitter: Duration,
    pub seed: u64,
}

impl Impairment {
    /// A clean path.
    pub fn clean() -> Impairment {
        Impairment {
            loss: Loss::None,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            seed: 1,
        }
    }
}

/// SplitMix64: small, seeded, good enough for test loss patterns.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The loss process: decides packet by packet.
#[derive(Debug, Clone)]
pub struct LossModel {
    loss: Loss,
    bad: bool,
}

impl LossModel {
    pub fn new(loss: Loss) -> LossModel {
        LossModel { loss, bad: false }
    }

    /// Whether the next packet is lost.
    pub fn lose(&mut self, rng: &mut Rng) -> bool {
        match self.loss {
            Loss::None => false,
            Loss::Uniform(p) => rng.unit() < p,
            Loss::Bursty { loss, mean_burst } => {
                // Bad → good with r = 1/burst; good → bad with p such that
                // the bad state's share p / (p + r) is the loss.
                let r = 1.0 / mean_burst.max(1.0);
                let p = (loss * r / (1.0 - loss).max(1e-9)).min(1.0);
                let u = rng.unit();
                self.bad = if self.bad { u >= r } else { u < p };
                self.bad
            }
        }
    }
}

/// Whether a datagram is RTP (not STUN, DTLS or RTCP).
pub fn is_rtp(datagram: &[u8]) -> bool {
    datagram.len() >= 12
        && (128..=191).contains(&datagram[0])
        && !(200..=204).contains(&datagram[1])
}

/// What the relay did.
#[derive(Debug, Default)]
pub struct RelayStats {
    pub rtp: AtomicU64,
    pub dropped: AtomicU64,
    /// Datagrams (either way, any kind) dropped by the [`Blackhole`].
    pub blackholed: AtomicU64,
}

/// The switch that cuts relays' paths for a while (cheap to clone; every
/// clone is the same switch).
#[derive(Debug, Clone, Default)]
pub struct Blackhole(Arc<std::sync::Mutex<Option<std::time::Instant>>>);

impl Blackhole {
    /// Drops everything from now on for `d`.
    pub fn cut_for(&self, d: Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now() + d);
    }

    /// Whether the path is cut now.
    pub fn is_cut(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t| std::time::Instant::now() < t)
    }
}

/// A running relay (see the module docs); stops when dropped.
pub struct Relay {
    pub addr: SocketAddr,
    pub stats: Arc<RelayStats>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Relay {
    /// A relay on 127.0.0.1 towards `target`.
    pub async fn start(target: SocketAddr, imp: Impairment) -> std::io::Result<Relay> {
        Relay::start_with(target, imp, Blackhole::default()).await
    }

    /// The same, cut while `blackhole` is.
    pub async fn start_with(
        target: SocketAddr,
        imp: Impairment,
        blackhole: Blackhole,
    ) -> std::io::Result<Relay> {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let back = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let addr = front.local_addr()?;
        let stats = Arc::new(RelayStats::default());
        let sender: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
        let forward = tokio::spawn({
            let (front, back, stats, sender, blackhole) = (
                front.clone(),
                back.clone(),
                stats.clone(),
                sender.clone(),
                blackhole.clone(),
            );
            async move {
                let mut rng = Rng::new(imp.seed);
                let mut loss = LossModel::new(imp.loss);
                let mut buf = vec![0u8; 2048];
                while let Ok((n, from)) = front.recv_from(&mut buf).await {
                    if blackhole.is_cut() {
                        stats.blackholed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    *sender.lock().await = Some(from);
                    let datagram = buf[..n].to_vec();
                    if !is_rtp(&datagram) {
                        let _ = back.send_to(&datagram, target).await;
                        continue;
                    }
                    stats.rtp.fetch_add(1, Ordering::Relaxed);
                    if loss.lose(&mut rng) {
                        stats.dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let extra = imp.jitter.mul_f64(rng.unit());
                    let wait = imp.delay + extra;
                    if wait.is_zero() {
                        let _ = back.send_to(&datagram, target).await;
                    } else {
                        let back = back.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(wait).await;
                            let _ = back.send_to(&datagram, target).await;
                        });
                    }
                }
            }
        });
        let backward = tokio::spawn({
            let (front, back, stats) = (front.clone(), back.clone(), stats.clone());
            async move {
                let mut buf = vec![0u8; 2048];
                while let Ok((n, _)) = back.recv_from(&mut buf).await {
                    if blackhole.is_cut() {
                        stats.blackholed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let to = *sender.lock().await;
                    if let Some(to) = to {
                        let _ = front.send_to(&buf[..n], to).await;
                    }
                }
            }
        });
        Ok(Relay {
            addr,
            stats,
            tasks: vec![forward, backward],
        })
    }
}

/// The address of a UDP ICE candidate (`candidate:… 1 udp PRIO IP PORT
/// typ …`), if it is one.
pub fn candidate_addr(candidate: &str) -> Option<SocketAddr> {
    let f: Vec<&str> = candidate.split_whitespace().collect();
    if f.len() < 6 || !f[2].eq_ignore_ascii_case("udp") {
        return None;
    }
    format!("{}:{}", f[4], f[5]).parse().ok()
}

/// `candidate` with its address replaced by `addr`.
pub fn rewrite_candidate(candidate: &str, addr: SocketAddr) -> String {
    let mut f: Vec<String> = candidate.split_whitespace().map(str::to_string).collect();
    if f.len() >= 6 {
        f[4] = addr.ip().to_string();
        f[5] = addr.port().to_string();
    }
    f.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_models_hit_their_average_and_bursts() {
        let mut rng = Rng::new(7);
        let mut uniform = LossModel::new(Loss::Uniform(0.2));
        let lost = (0..100_000).filter(|_| uniform.lose(&mut rng)).count();
        assert!((lost as f64 / 1e5 - 0.2).abs() < 0.01, "{lost}");
        let mut bursty = LossModel::new(Loss::Bursty {
            loss: 0.2,
            mean_burst: 3.0,
        });
        let pattern: Vec<bool> = (0..100_000).map(|_| bursty.lose(&mut rng)).collect();
        let lost = pattern.iter().filter(|&&l| l).count();
        assert!((lost as f64 / 1e5 - 0.2).abs() < 0.02, "{lost}");
        let bursts = pattern.windows(2).filter(|w| !w[0] && w[1]).count();
        let mean = lost as f64 / bursts as f64;
        assert!((mean - 3.0).abs() < 0.3, "mean burst {mean}");
        // Seeded: the same seed, the same losses.
        let again: Vec<bool> = {
            let mut rng = Rng::new(7);
            let mut m = LossModel::new(Loss::Uniform(0.2));
            (0..100).map(|_| m.lose(&mut rng)).collect()
        };
        let mut rng = Rng::new(7);
        let mut m = LossModel::new(Loss::Uniform(0.2));
        assert_eq!(
            again,
            (0..100).map(|_| m.lose(&mut rng)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn rtp_is_told_from_stun_dtls_and_rtcp_and_candidates_are_rewritten() {
        let mut rtp = vec![0x80, 111];
        rtp.resize(20, 0);
        assert!(is_rtp(&rtp));
        let mut rtcp = vec![0x80, 200];
        rtcp.resize(20, 0);
        assert!(!is_rtp(&rtcp));
        assert!(!is_rtp(&[0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // STUN
        assert!(!is_rtp(&[22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // DTLS
        let c = "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host";
        assert_eq!(candidate_addr(c), Some("127.0.0.1:40000".parse().unwrap()));
        let r = rewrite_candidate(c, "127.0.0.1:5".parse().unwrap());
        assert_eq!(r, "candidate:1 1 udp 2130706431 127.0.0.1 5 typ host");
        assert_eq!(
            candidate_addr("candidate:1 1 tcp 1 127.0.0.1 9 typ host"),
            None
        );
    }

    #[tokio::test]
    async fn a_blackhole_drops_everything_both_ways_until_it_ends() {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let hole = Blackhole::default();
        let relay = Relay::start_with(
            receiver.local_addr().unwrap(),
            Impairment::clean(),
            hole.clone(),
        )
        .await
        .unwrap();
        let within = Duration::from_secs(5);
        let mut buf = [0u8; 64];
        // Open: there and back.
        sender.send_to(b"ping", relay.addr).await.unwrap();
        let (n, back) = tokio::time::timeout(within, receiver.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"ping");
        receiver.send_to(b"pong", back).await.unwrap();
        let (n, _) = tokio::time::timeout(within, sender.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"pong");
        // Cut: nothing passes either way (counted), then it is open again.
        hole.cut_for(Duration::from_millis(600));
        assert!(hole.is_cut());
        sender.send_to(b"lost", relay.addr).await.unwrap();
        receiver.send_to(b"lost", back).await.unwrap();
        while relay.stats.blackholed.load(Ordering::Relaxed) < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        while hole.is_cut() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        sender.send_to(b"again", relay.addr).await.unwrap();
        let (n, _) = tokio::time::timeout(within, receiver.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"again", "the cut datagram never came");
        receiver.send_to(b"again", back).await.unwrap();
        let (n, _) = tokio::time::timeout(within, sender.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"again", "the cut datagram never came");
    }
}
