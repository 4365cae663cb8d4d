//! Where to connect. An explicit server (`--server`, `server =`) is used as
//! given; otherwise DNS SRV discovery through hickory-resolver:
//! `_xmpps-client._tcp.DOMAIN` (XEP-0368, direct TLS) and
//! `_xmpp-client._tcp.DOMAIN` (RFC 6120 §3.2.1, STARTTLS), both kinds
//! ordered together by priority, then weighted-random by weight (RFC 2782);
//! each target's addresses are tried in turn until one accepts. With no SRV
//! record at all, the domain itself on the default port (5222, STARTTLS);
//! a `.` target means the domain offers no XMPP service.
//!
//! Only the TCP connection is made here: the TLS certificate is checked
//! against the JID's domain, never the SRV target (RFC 7590, `connect.rs`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use tokio::net::TcpStream;

use super::TlsMode;
use super::connect::{ConnectError, ConnectParams, io_error};

/// How long one address may take to accept the TCP connection before the
/// next one is tried (the whole attempt has its own limit).
const PER_ADDRESS: Duration = Duration::from_secs(10);

/// SRV discovery settings: `None` in [`ConnectParams::discovery`] means an
/// explicit server (no DNS SRV).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Ask this DNS server (`--resolver`, `resolver =`) instead of the
    /// system's (resolv.conf).
    pub resolver: Option<SocketAddr>,
}

/// One SRV record of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// Without the trailing dot; `"."` stays `"."`.
    pub target: String,
    /// `Direct` for `_xmpps-client`, `StartTls` for `_xmpp-client`.
    pub tls: TlsMode,
}

/// A host and port to try, and how TLS starts there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} ({})", self.host, self.port, self.tls)
    }
}

/// What the SRV records say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Try these, in this order.
    Targets(Vec<Target>),
    /// No SRV record of either kind: the domain on the default port.
    Fallback,
    /// Only `.` targets: the domain says it offers no XMPP service.
    NoService,
}

/// Orders both kinds together (XEP-0368): by priority, then within one
/// priority by RFC 2782's weighted random selection (`random(n)` gives a
/// number in `0..=n`). Direct TLS goes first in a group's initial order,
/// so zero weights (and ties at zero) prefer it.
pub fn plan(records: &[SrvRecord], mut random: impl FnMut(u32) -> u32) -> Plan {
    if records.is_empty() {
        return Plan::Fallback;
    }
    let mut usable: Vec<&SrvRecord> = records.iter().filter(|r| r.target != ".").collect();
    if usable.is_empty() {
        return Plan::NoService;
    }
    usable.sort_by_key(|r| (r.priority, r.tls == TlsMode::StartTls));
    let mut out = Vec::with_capacity(usable.len());
    let mut rest = &usable[..];
    while let Some(first) = rest.first() {
        let n = rest
            .iter()
            .take_while(|r| r.priority == first.priority)
            .count();
        let (group, tail) = rest.split_at(n);
        rest = tail;
        // RFC 2782: zero weights first, then pick by running sums.
        let mut group: Vec<&SrvRecord> = group
            .iter()
            .filter(|r| r.weight == 0)
            .chain(group.iter().filter(|r| r.weight > 0))
            .copied()
            .collect();
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let pick = random(total).min(total);
            let mut sum = 0;
            let i = group
                .iter()
                .position(|r| {
                    sum += u32::from(r.weight);
                    sum >= pick
                })
                .unwrap_or(0);
            let r = group.remove(i);
            out.push(Target {
                host: r.target.clone(),
                port: r.port,
                tls: r.tls,
            });
        }
    }
    Plan::Targets(out)
}

/// A uniform number in `0..=n` from the system's random source.
fn system_random(n: u32) -> u32 {
    let r = getrandom::u32().unwrap_or(0);
    if n == u32::MAX { r } else { r % (n + 1) }
}

fn resolver(discovery: &Discovery) -> Result<TokioResolver, ConnectError> {
    let builder = match discovery.resolver {
        Some(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = addr.port();
            let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![server]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio().map_err(|e| {
            ConnectError::retry(
                "dns-error",
                format!("cannot read the system's DNS configuration: {e}"),
            )
        })?,
    };
    builder.build().map_err(|e| {
        ConnectError::retry("dns-error", format!("cannot set up the DNS resolver: {e}"))
    })
}

/// "No such record" (NXDOMAIN or an empty answer), as opposed to a failure.
fn is_absent(e: &NetError) -> bool {
    e.is_no_records_found() || e.is_nx_domain()
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

async fn srv_records(
    resolver: &TokioResolver,
    domain: &str,
) -> Result<Vec<SrvRecord>, ConnectError> {
    let kinds = [
        ("_xmpps-client._tcp", TlsMode::Direct),
        ("_xmpp-client._tcp", TlsMode::StartTls),
    ];
    let names: Vec<String> = kinds
        .iter()
        .map(|(prefix, _)| fqdn(&format!("{prefix}.{domain}")))
        .collect();
    let (direct, starttls) = tokio::join!(
        resolver.srv_lookup(names[0].as_str()),
        resolver.srv_lookup(names[1].as_str())
    );
    let mut records = Vec::new();
    let mut failure = None;
    for ((result, (_, tls)), name) in [direct, starttls].into_iter().zip(kinds).zip(&names) {
        match result {
            Ok(lookup) => {
                for record in lookup.answers() {
                    if let RData::SRV(srv) = &record.data {
                        let target = if srv.target.is_root() {
                            ".".to_owned()
                        } else {
                            srv.target.to_ascii().trim_end_matches('.').to_owned()
                        };
                        records.push(SrvRecord {
                            priority: srv.priority,
                            weight: srv.weight,
                            port: srv.port,
                            target,
                            tls,
                        });
                    }
                }
            }
            Err(e) if is_absent(&e) => {}
            Err(e) => failure = Some(format!("DNS lookup of {name} failed: {e}")),
        }
    }
    // A failed lookup only matters when the other kind gave nothing.
    match failure {
        Some(text) if records.is_empty() => Err(ConnectError::retry("dns-error", text)),
        _ => Ok(records),
    }
}

/// Why a target has no addresses (in the error listing the targets tried).
#[derive(Debug, thiserror::Error)]
enum AddressError {
    /// The system's lookup failed.
    #[error("no address: {0}")]
    System(std::io::Error),
    /// The `--resolver` server has no A/AAAA record for it.
    #[error("no address (A/AAAA)")]
    Absent,
    /// The `--resolver` server could not be asked.
    #[error("DNS lookup failed: {0}")]
    Lookup(NetError),
}

/// A target's addresses: from the `--resolver` server when one is given,
/// else from the system (getaddrinfo: /etc/hosts, nsswitch) as before.
async fn addresses(
    resolver: &TokioResolver,
    discovery: &Discovery,
    host: &str,
) -> Result<Vec<IpAddr>, AddressError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    if discovery.resolver.is_none() {
        return match tokio::net::lookup_host((host, 0)).await {
            Ok(addrs) => Ok(addrs.map(|a| a.ip()).collect()),
            Err(e) => Err(AddressError::System(e)),
        };
    }
    match resolver.lookup_ip(fqdn(host).as_str()).await {
        Ok(ips) => Ok(ips.iter().collect()),
        Err(e) if is_absent(&e) => Err(AddressError::Absent),
        Err(e) => Err(AddressError::Lookup(e)),
    }
}

/// The TCP connection for this attempt and the TLS mode to use on it.
pub(super) async fn open(p: &ConnectParams) -> Result<(TcpStream, TlsMode), ConnectError> {
    let Some(discovery) = &p.discovery else {
        tracing::debug!(host = %p.host, port = p.port, tls = ?p.tls, "connecting to the given server");
        let tcp = TcpStream::connect((p.host.as_str(), p.port))
            .await
            .map_err(|e| {
                let mut err = io_error(e);
                err.text = format!("{}:{}: {}", p.host, p.port, err.text);
                err
            })?;
        return Ok((tcp, p.tls));
    };
    let domain = p.jid.domain().as_str();
    let resolver = resolver(discovery)?;
    let records = srv_records(&resolver, domain).await?;
    tracing::debug!(domain, records = records.len(), "SRV records");
    let (targets, srv) = match plan(&records, system_random) {
        Plan::Targets(t) => (t, true),
        Plan::Fallback => (
            vec![Target {
                host: p.host.clone(),
                port: p.port,
                tls: p.tls,
            }],
            false,
        ),
        Plan::NoService => {
            return Err(ConnectError::fatal(
                "service-unavailable",
                format!(
                    "{domain} offers no XMPP service: its SRV records \
                     (_xmpps-client._tcp, _xmpp-client._tcp) have the target \".\""
                ),
            ));
        }
    };
    let mut tried = Vec::new();
    let mut condition = "remote-server-not-found";
    for target in &targets {
        let ips = match addresses(&resolver, discovery, &target.host).await {
            Ok(ips) => ips,
            Err(why) => {
                tried.push(format!("{}:{}: {why}", target.host, target.port));
                continue;
            }
        };
        for ip in ips {
            let addr = SocketAddr::new(ip, target.port);
            let result = tokio::time::timeout(PER_ADDRESS, TcpStream::connect(addr)).await;
            let err = match result {
                Ok(Ok(tcp)) => {
                    tracing::debug!(host = %target.host, %addr, tls = ?target.tls, "TCP connected");
                    return Ok((tcp, target.tls));
                }
                Ok(Err(e)) => io_error(e),
                Err(_) => ConnectError::retry(
                    "connection-timeout",
                    format!("no answer in {} s", PER_ADDRESS.as_secs()),
                ),
            };
            condition = if err.condition == "connection-refused" {
                "connection-refused"
            } else {
                "remote-server-timeout"
            };
            tried.push(format!(
                "{}:{} ({ip}): {}",
                target.host, target.port, err.text
            ));
        }
    }
    let how = if srv {
        "its SRV targets"
    } else {
        "no SRV records (_xmpps-client._tcp, _xmpp-client._tcp), so the domain itself"
    };
    Err(ConnectError::retry(
        condition,
        format!(
            "could not connect to {domain}: {how}; tried {}",
            tried.join("; ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(priority: u16, weight: u16, target: &str, tls: TlsMode) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port: if tls == TlsMode::Direct { 5223 } else { 5222 },
            target: target.to_owned(),
            tls,
        }
    }

    fn hosts(plan: Plan) -> Vec<String> {
        match plan {
            Plan::Targets(t) => t.into_iter().map(|t| t.host).collect(),
            other => panic!("expected targets, got {other:?}"),
        }
    }

    /// A small deterministic generator (xorshift) for the weight tests.
    fn rng(seed: u32) -> impl FnMut(u32) -> u32 {
        let mut s = seed.max(1);
        move |n| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            if n == u32::MAX { s } else { s % (n + 1) }
        }
    }

    #[test]
    fn lower_priority_first_across_both_kinds() {
        let records = [
            rec(20, 0, "b.example", TlsMode::StartTls),
            rec(5, 0, "a.example", TlsMode::StartTls),
            rec(10, 0, "c.example", TlsMode::Direct),
        ];
        assert_eq!(
            hosts(plan(&records, rng(7))),
            ["a.example", "c.example", "b.example"]
        );
        match plan(&records, rng(7)) {
            Plan::Targets(t) => {
                assert_eq!(t[1].tls, TlsMode::Direct);
                assert_eq!(t[1].port, 5223);
                assert_eq!(t[0].tls, TlsMode::StartTls);
            }
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn a_tie_at_zero_weight_prefers_direct_tls() {
        let records = [
            rec(0, 0, "plain.example", TlsMode::StartTls),
            rec(0, 0, "tls.example", TlsMode::Direct),
        ];
        for seed in 1..50 {
            assert_eq!(
                hosts(plan(&records, rng(seed))),
                ["tls.example", "plain.example"]
            );
        }
    }

    #[test]
    fn weights_share_the_first_place_in_proportion() {
        let records = [
            rec(1, 10, "light.example", TlsMode::StartTls),
            rec(1, 30, "heavy.example", TlsMode::Direct),
            rec(1, 60, "heaviest.example", TlsMode::StartTls),
            rec(2, 100, "backup.example", TlsMode::StartTls),
        ];
        let mut first = std::collections::HashMap::new();
        let mut random = rng(12345);
        let runs = 20_000;
        for _ in 0..runs {
            let h = hosts(plan(&records, &mut random));
            assert_eq!(h.len(), 4);
            // The other priority is always last.
            assert_eq!(h[3], "backup.example");
            *first.entry(h[0].clone()).or_insert(0u32) += 1;
        }
        let share = |h: &str| f64::from(first[h]) / f64::from(runs);
        assert!((share("light.example") - 0.10).abs() < 0.02, "{first:?}");
        assert!((share("heavy.example") - 0.30).abs() < 0.02, "{first:?}");
        assert!((share("heaviest.example") - 0.60).abs() < 0.02, "{first:?}");
    }

    #[test]
    fn zero_weight_records_still_come_but_rarely_first() {
        let records = [
            rec(1, 0, "zero.example", TlsMode::StartTls),
            rec(1, 100, "weighted.example", TlsMode::StartTls),
        ];
        let mut zero_first = 0;
        let mut random = rng(99);
        for _ in 0..5_000 {
            let h = hosts(plan(&records, &mut random));
            assert_eq!(h.len(), 2);
            if h[0] == "zero.example" {
                zero_first += 1;
            }
        }
        // Only when the random number is exactly 0: about 1 in 101.
        assert!(zero_first < 150, "{zero_first}");
    }

    #[test]
    fn dot_target_means_no_service_and_none_means_fallback() {
        assert_eq!(plan(&[], rng(1)), Plan::Fallback);
        assert_eq!(
            plan(&[rec(0, 0, ".", TlsMode::StartTls)], rng(1)),
            Plan::NoService
        );
        assert_eq!(
            plan(
                &[
                    rec(0, 0, ".", TlsMode::StartTls),
                    rec(0, 0, ".", TlsMode::Direct)
                ],
                rng(1)
            ),
            Plan::NoService
        );
        // A `.` of one kind beside a real target of the other: that target.
        assert_eq!(
            hosts(plan(
                &[
                    rec(0, 0, ".", TlsMode::Direct),
                    rec(5, 0, "x.example", TlsMode::StartTls)
                ],
                rng(1)
            )),
            ["x.example"]
        );
    }

    #[test]
    fn names_are_made_absolute() {
        assert_eq!(
            fqdn("_xmpp-client._tcp.example.test"),
            "_xmpp-client._tcp.example.test."
        );
        assert_eq!(fqdn("example.test."), "example.test.");
    }
}
