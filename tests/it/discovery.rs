//! Server discovery (issue 14, finding 4): confab without `--server` asks a
//! DNS responder on loopback (`--resolver`) for the made-up domain's SRV
//! records (`_xmpp-client._tcp`, `_xmpps-client._tcp`) and reaches the test
//! Prosody, which serves `example.test` beside `localhost`. The SRV targets
//! are names the certificate does not cover: the certificate is checked
//! against the JID's domain (RFC 7590).
//!
//! Prosody only: discovery and the certificate check are confab's side of
//! the connection; the ejabberd harness would need a second host with its
//! own module configuration (`host_config`) to serve `example.test`.

use std::net::{Ipv4Addr, TcpListener};

use serde_json::Value;

use crate::common::*;

const DOMAIN: &str = "example.test";
/// An SRV target the certificate does not name.
const TARGET: &str = "xmpp.hosting.test";

fn is(v: &Value, event: &str) -> bool {
    v["event"] == event
}

/// Prosody serving `example.test` (and `localhost`), and `wrong.test`
/// with a certificate that does not name it; alice on each.
fn server() -> Prosody {
    let opts = ProsodyOptions::new()
        .host(DOMAIN)
        .host_without_certificate("wrong.test")
        .account("alice", password_of("alice"));
    Prosody::start(opts).unwrap_or_else(|e| panic!("starting Prosody: {e}"))
}

fn dns(records: &[DnsRecord]) -> DnsServer {
    DnsServer::start(records).unwrap_or_else(|e| panic!("starting the DNS responder: {e}"))
}

/// A loopback port nothing listens on (connections are refused).
fn closed_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    l.local_addr().unwrap().port()
}

/// confab `--batch` as `user@domain`, no `--server`, asking `dns`.
fn discovering(
    user: &str,
    domain: &str,
    ca: Option<&std::path::Path>,
    dns: &DnsServer,
    home: &std::path::Path,
) -> Client {
    let resolver = dns.addr().to_string();
    Client::spawn_discovering(
        &format!("{user}@{domain}"),
        ca,
        home,
        &["--resolver", &resolver],
        &password_of(user),
    )
}

/// Connected at the first attempt, as `alice@example.test`.
fn connects_first_time(c: &mut Client) {
    let v = c.connected();
    assert!(
        v["jid"]
            .as_str()
            .unwrap()
            .starts_with("alice@example.test/"),
        "{v}"
    );
    assert!(
        !c.saw(|v| is(v, "disconnected")),
        "a failed attempt first: {:?}",
        c.events
    );
    assert_eq!(c.finish(), 0);
}

/// alice discovers `example.test` through `dns` (trusting the server's
/// CA) and connects at the first attempt.
fn alice_connects_first_time(server: &Prosody, dns: &DnsServer) {
    let home = tempfile::tempdir().unwrap();
    let mut c = discovering("alice", DOMAIN, Some(server.ca_file()), dns, home.path());
    connects_first_time(&mut c);
}

#[test]
fn starttls_target_chosen_by_priority() {
    let server = server();
    // The STARTTLS record has the better priority; the direct-TLS one
    // points at the STARTTLS port, so choosing it would fail.
    let dns = dns(&[
        DnsRecord::xmpp(DOMAIN, 5, 0, TARGET, server.c2s_port()),
        DnsRecord::xmpps(DOMAIN, 10, 0, TARGET, server.c2s_port()),
        DnsRecord::loopback(TARGET),
    ]);
    alice_connects_first_time(&server, &dns);
    let asked = dns.questions();
    assert!(
        asked.contains(&"_xmpp-client._tcp.example.test. SRV".to_owned()),
        "{asked:?}"
    );
    assert!(
        asked.contains(&"_xmpps-client._tcp.example.test. SRV".to_owned()),
        "{asked:?}"
    );
}

#[test]
fn direct_tls_target_chosen_by_priority() {
    let server = server();
    // Now direct TLS (XEP-0368) is preferred; the STARTTLS record points
    // at the direct-TLS port, so choosing it would fail.
    let dns = dns(&[
        DnsRecord::xmpps(DOMAIN, 5, 0, TARGET, server.c2s_direct_tls_port()),
        DnsRecord::xmpp(DOMAIN, 10, 0, TARGET, server.c2s_direct_tls_port()),
        DnsRecord::loopback(TARGET),
    ]);
    alice_connects_first_time(&server, &dns);
}

#[test]
fn a_refusing_first_target_is_skipped() {
    let server = server();
    let dns = dns(&[
        DnsRecord::xmpps(DOMAIN, 1, 0, "dead.hosting.test", closed_port()),
        DnsRecord::xmpp(DOMAIN, 2, 0, TARGET, server.c2s_port()),
        DnsRecord::loopback("dead.hosting.test"),
        DnsRecord::loopback(TARGET),
    ]);
    alice_connects_first_time(&server, &dns);
    let asked = dns.questions();
    assert!(
        asked.iter().any(|q| q.starts_with("dead.hosting.test. ")),
        "the first target was not even looked up: {asked:?}"
    );
}

#[test]
fn the_certificate_is_checked_against_the_domain_not_the_target() {
    let server = server();
    // wrong.test (served, but not named in the certificate) has one record
    // leading to the test server under a target name the certificate
    // covers (example.test): checked against the JID's domain, TLS fails.
    let dns = dns(&[
        DnsRecord::xmpp("wrong.test", 0, 0, DOMAIN, server.c2s_port()),
        DnsRecord::loopback(DOMAIN),
    ]);
    let home = tempfile::tempdir().unwrap();
    let mut c = discovering(
        "alice",
        "wrong.test",
        Some(server.ca_file()),
        &dns,
        home.path(),
    );
    let e = c.event("certificate error", |v| is(v, "error"));
    assert_eq!(e["condition"], "bad-certificate", "{e}");
    assert_eq!(c.exit_status(), 1);
    assert!(!c.saw(|v| is(v, "connected")));
}

#[test]
fn without_srv_records_the_domain_on_5222_is_tried() {
    // Only an address for the domain: no SRV of either kind.
    let dns = dns(&[DnsRecord::loopback("nosrv.test")]);
    let home = tempfile::tempdir().unwrap();
    let mut c = discovering("alice", "nosrv.test", None, &dns, home.path());
    let d = c.event("failed attempt", |v| is(v, "disconnected"));
    let reason = d["reason"].as_str().unwrap();
    assert!(reason.contains("nosrv.test:5222 (127.0.0.1)"), "{d}");
    assert!(reason.contains("no SRV records"), "{d}");
    let asked = dns.questions();
    for q in [
        "_xmpp-client._tcp.nosrv.test. SRV",
        "_xmpps-client._tcp.nosrv.test. SRV",
    ] {
        assert!(asked.contains(&q.to_owned()), "{q} not in {asked:?}");
    }
}

#[test]
fn every_refusing_target_is_named() {
    let (p1, p2) = (closed_port(), closed_port());
    let dns = dns(&[
        DnsRecord::xmpp(DOMAIN, 1, 0, "one.hosting.test", p1),
        DnsRecord::xmpps(DOMAIN, 2, 0, "two.hosting.test", p2),
        DnsRecord::loopback("one.hosting.test"),
        DnsRecord::loopback("two.hosting.test"),
    ]);
    let home = tempfile::tempdir().unwrap();
    let mut c = discovering("alice", DOMAIN, None, &dns, home.path());
    let d = c.event("failed attempt", |v| is(v, "disconnected"));
    let reason = d["reason"].as_str().unwrap();
    assert!(reason.starts_with("connection-refused"), "{d}");
    let one = reason.find(&format!("one.hosting.test:{p1}")).expect("{d}");
    let two = reason.find(&format!("two.hosting.test:{p2}")).expect("{d}");
    assert!(one < two, "tried in priority order: {d}");
}

#[test]
fn a_dot_target_is_a_clear_fatal_error() {
    let dns = dns(&[
        DnsRecord::xmpp("none.test", 0, 0, ".", 0),
        DnsRecord::xmpps("none.test", 0, 0, ".", 0),
    ]);
    let home = tempfile::tempdir().unwrap();
    let mut c = discovering("alice", "none.test", None, &dns, home.path());
    let e = c.event("no service", |v| is(v, "error"));
    assert_eq!(e["condition"], "service-unavailable", "{e}");
    assert!(
        e["text"]
            .as_str()
            .unwrap()
            .contains("none.test offers no XMPP service"),
        "{e}"
    );
    assert_eq!(c.exit_status(), 1);
}

#[test]
fn a_dns_failure_is_not_a_missing_record() {
    // A "DNS server" that answers nothing: a bound UDP socket never read.
    let silent = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let resolver = silent.local_addr().unwrap().to_string();
    let home = tempfile::tempdir().unwrap();
    let mut c = Client::spawn_discovering(
        "alice@example.test",
        None,
        home.path(),
        &["--resolver", &resolver],
        &password_of("alice"),
    );
    let d = c.event("failed attempt", |v| is(v, "disconnected"));
    let reason = d["reason"].as_str().unwrap();
    assert!(reason.starts_with("dns-error"), "{d}");
    assert!(reason.contains("_xmpp"), "{d}");
}
