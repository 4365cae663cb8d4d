//! Catch-up of the account's archive (XEP-0313 on our own JID): a peer
//! (bob) writes `N` one-to-one messages to alice, who is away from
//! confab; then `confab --batch` logs in as alice with an empty data
//! directory and the time from its `connected` event to its
//! `mam-account` event (the end of the catch-up) is printed, with the
//! messages shown (each must come once) and messages per second. Two
//! cases: `phone` — another client of alice's (a raw stream) was online
//! and got the messages, so only the archive has them for confab;
//! `nobody` — no client of hers was online, so the server also kept them
//! in offline storage and delivers them at login, and the archive's
//! copies are recognised as duplicates. A second login in the same data
//! directory then shows the cost of a catch-up with nothing new.
//!
//! `cargo bench --bench account_archive` (the bench profile's confab);
//! the figure in the note was taken with the dev build:
//! `cargo bench --profile dev --bench account_archive`.
//! Environment: `CONFAB_MAM_N` (10000), `CONFAB_MAM_SERVERS`
//! (`prosody,ejabberd`), `CONFAB_MAM_ONLINE` (`phone,nobody`),
//! `CONFAB_BIN` (another binary).
//!
//! `floor s` is the server's own cost: a raw stream of alice's pages
//! through the same archive (RSM, as many per page as the server gives)
//! with nothing else to do; `confab CPU s` is the user + system time of
//! the first login's process.
//!
//! The servers cap a page at 50 results (Prosody's
//! `max_archive_query_results`, ejabberd's RSM limit), so 10,000
//! messages are 200 pages, one round trip each.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use jid::{BareJid, Jid};
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{FallibleStreamElement, ReadError, Timeouts, XmppStreamElement};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::{Id, Lang, Message, MessageType};

use confab::config::{Secret, TlsMode};
use confab::session::connect::{ConnectParams, connect};
use confab::session::tls_config;
use confab_testbed::{ServerKind, TestServer};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n: usize = env_or("CONFAB_MAM_N", 10_000);
    let servers: String = env_or("CONFAB_MAM_SERVERS", "prosody,ejabberd".to_string());
    let cases: String = env_or("CONFAB_MAM_ONLINE", "phone,nobody".to_string());
    let bin = std::env::var_os("CONFAB_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_confab")));
    println!(
        "account archive catch-up, {n} one-to-one messages, {}",
        bin.display()
    );
    println!(
        "{:<9} {:<7} {:>7} {:>7} {:>9} {:>11} {:>11} {:>8} {:>8} {:>13}",
        "server",
        "online",
        "fill s",
        "shown",
        "from MAM",
        "catch-up s",
        "messages/s",
        "again s",
        "floor s",
        "confab CPU s"
    );
    for name in servers.split(',') {
        let kind = match name.trim() {
            "prosody" => ServerKind::Prosody,
            "ejabberd" => ServerKind::Ejabberd,
            other => panic!("unknown server {other}"),
        };
        for online in cases.split(',') {
            run(kind, n, online.trim() == "phone", &bin);
        }
    }
}

fn run(kind: ServerKind, n: usize, phone: bool, bin: &Path) {
    let server = kind
        .start(&[("alice", "alice-pw"), ("bob", "bob-pw")])
        .unwrap_or_else(|e| panic!("starting {kind}: {e}"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let filled = Instant::now();
    rt.block_on(fill(&*server, n, phone));
    let fill_s = filled.elapsed().as_secs_f64();
    let floor = rt.block_on(floor(&*server, n));
    let home = tempfile::tempdir().unwrap();
    let cpu = children_cpu();
    let first = login(&*server, home.path(), bin);
    let cpu = children_cpu() - cpu;
    assert_eq!(first.shown, n, "{kind}: every message once");
    let again = login(&*server, home.path(), bin);
    assert_eq!(again.shown, 0, "{kind}: nothing new the second time");
    println!(
        "{:<9} {:<7} {:>7.1} {:>7} {:>9} {:>11.2} {:>11.0} {:>8.2} {:>8.2} {:>13.2}",
        kind.to_string(),
        if phone { "phone" } else { "nobody" },
        fill_s,
        first.shown,
        first.from_mam,
        first.catch_up.as_secs_f64(),
        n as f64 / first.catch_up.as_secs_f64(),
        again.catch_up.as_secs_f64(),
        floor.as_secs_f64(),
        cpu,
    );
}

fn params(server: &dyn TestServer, user: &str) -> ConnectParams {
    ConnectParams {
        jid: BareJid::new(&server.jid(user)).unwrap(),
        password: Secret::new(format!("{user}-pw")),
        host: "127.0.0.1".into(),
        port: server.c2s_port(),
        tls: TlsMode::StartTls,
        discovery: None,
        resource: "flood".into(),
        tls_config: tls_config(Some(server.ca_file())).unwrap(),
        timeouts: Timeouts::tight(),
        attempt_timeout: Duration::from_secs(20),
        stream_management: false,
    }
}

/// Bob writes `n` messages to alice's bare JID, then waits for the
/// server's answer to a ping: it has handled (archived) all before it.
/// With `phone`, a client of alice's is online meanwhile and receives
/// them all (no offline storage).
async fn fill(server: &dyn TestServer, n: usize, phone: bool) {
    let phone = if phone {
        let mut s = connect(&params(server, "alice"), None)
            .await
            .expect("alice's phone")
            .stream;
        let presence = xmpp_parsers::presence::Presence::available();
        s.send(&XmppStreamElement::Stanza(presence.into()))
            .await
            .unwrap();
        Some(tokio::spawn(async move {
            let mut got = 0;
            while got < n {
                match s.next().await {
                    Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(
                        Stanza::Message(m),
                    )))) if !m.bodies.is_empty() => got += 1,
                    Some(Ok(_)) | Some(Err(ReadError::SoftTimeout)) => {}
                    other => panic!("alice's phone lost its stream: {other:?}"),
                }
            }
            let _ = SinkExt::<&XmppStreamElement>::close(&mut s).await;
        }))
    } else {
        None
    };
    let mut stream = connect(&params(server, "bob"), None)
        .await
        .expect("bob connects")
        .stream;
    let alice: Jid = server.jid("alice").parse().unwrap();
    for i in 0..n {
        let mut m = Message::new_with_type(MessageType::Chat, Some(alice.clone()));
        m.id = Some(Id(format!("b{i}")));
        m.bodies.insert(Lang::new(), format!("message {i} of {n}"));
        stream
            .feed(&XmppStreamElement::Stanza(m.into()))
            .await
            .unwrap();
    }
    let ping = Iq::from_get("done", xmpp_parsers::ping::Ping);
    stream
        .send(&XmppStreamElement::Stanza(ping.into()))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(item) = stream.next().await {
            if let Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(iq)))) = item
                && iq.id() == "done"
            {
                return;
            }
        }
        panic!("bob's stream closed")
    })
    .await
    .expect("the server handled bob's messages");
    let _ = SinkExt::<&XmppStreamElement>::close(&mut stream).await;
    if let Some(phone) = phone {
        tokio::time::timeout(Duration::from_secs(300), phone)
            .await
            .expect("the phone got every message")
            .unwrap();
    }
}

/// User + system seconds of the children waited for so far.
fn children_cpu() -> f64 {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let u = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, u.as_mut_ptr());
        u.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

/// The server's floor: a raw stream of alice pages through her whole
/// archive, one page after the other, and only counts the results.
async fn floor(server: &dyn TestServer, n: usize) -> Duration {
    use xmpp_parsers::mam::{Fin, Query, QueryId};
    use xmpp_parsers::rsm::SetQuery;
    let mut s = connect(&params(server, "alice"), None)
        .await
        .expect("alice's raw stream")
        .stream;
    let started = Instant::now();
    let (mut after, mut results) = (None::<String>, 0);
    for page in 0.. {
        let query = Query {
            queryid: Some(QueryId(format!("q{page}"))),
            node: None,
            form: None,
            set: Some(SetQuery {
                max: Some(250),
                after: after.clone(),
                before: None,
                index: None,
            }),
            flip_page: false,
        };
        let id = format!("page{page}");
        s.send(&XmppStreamElement::Stanza(
            Iq::from_set(id.clone(), query).into(),
        ))
        .await
        .unwrap();
        let fin = loop {
            match s.next().await {
                Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(
                    Stanza::Message(m),
                )))) if m
                    .payloads
                    .iter()
                    .any(|p| p.is("result", xmpp_parsers::ns::MAM)) =>
                {
                    results += 1
                }
                Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(
                    Iq::Result {
                        id: got,
                        payload: Some(p),
                        ..
                    },
                )))))
                    if got == id =>
                {
                    break Fin::try_from(p).expect("a <fin/>");
                }
                Some(Ok(_)) | Some(Err(ReadError::SoftTimeout)) => {}
                other => panic!("alice's raw stream: {other:?}"),
            }
        };
        if fin.complete {
            break;
        }
        after = Some(fin.set.last.expect("a page's <last/>"));
    }
    let took = started.elapsed();
    assert_eq!(results, n, "the floor paged through every message");
    let _ = SinkExt::<&XmppStreamElement>::close(&mut s).await;
    took
}

struct Login {
    /// `message` events printed until the catch-up's end.
    shown: usize,
    /// New messages the archive brought (the `mam-account` count; the
    /// rest came by offline storage first).
    from_mam: usize,
    /// `connected` to `mam-account`.
    catch_up: Duration,
}

/// `confab --batch` as alice in `home`, until its account catch-up ends.
fn login(server: &dyn TestServer, home: &Path, bin: &Path) -> Login {
    let mut child = common::batch(bin, server, "alice", home, &[])
        .spawn()
        .expect("confab starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if tx.send((Instant::now(), v)).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    let (mut connected, mut shown) = (None, 0);
    let login = loop {
        let (at, v) = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the catch-up ends in time");
        match v["event"].as_str() {
            Some("connected") => connected = Some(at),
            Some("message") => shown += 1,
            Some("error") => eprintln!("confab: {v}"),
            Some("mam-account") => {
                assert_eq!(v["complete"], true, "{v}");
                break Login {
                    shown,
                    from_mam: v["count"].as_u64().unwrap_or(0) as usize,
                    catch_up: at - connected.expect("connected first"),
                };
            }
            _ => {}
        }
    };
    // End of script: confab writes its archive and leaves; a copy shown
    // after the end event would be a duplicate.
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "confab exit: {status}");
    let late = rx.iter().filter(|(_, v)| v["event"] == "message").count();
    assert_eq!(late, 0, "messages after the catch-up's end");
    login
}
