//! Big rooms, big archives, the whole client (TLS, XML, store, history,
//! output): the private Prosody, a crowd of real occupants
//! (`confab_testbed::crowd`, one XEP-0114 link, `mod_quiet_crowd` so the
//! server need not broadcast N²/2 presences while filling), and
//! `confab --batch` (the bench profile's binary) as a child process.
//!
//! **Join**: rooms of 2,000 and 10,000 occupants; a fresh confab logs in,
//! then `/join`s: time from the request written to its `joined` event
//! (every occupant's presence comes before our own), confab's CPU over
//! that time (user + system of all its threads, from
//! `/proc/PID/task/*/schedstat`), µs of CPU per occupant, its peak RSS
//! (VmHWM), and the server's floor: a raw stream joining the same room
//! with nothing else to do, until its own presence.
//!
//! **Catch-up**: confab joins a room once and leaves; the crowd says
//! `CONFAB_BIGROOM_BACKLOG` messages there (archived); confab comes back
//! with the same data directory and `/join`s: time to its `mam` event
//! (complete, every message shown once), CPU, µs per message, peak RSS;
//! the floor is a raw stream paging the same archive (RSM, as many per
//! page as the server gives), counting the results.
//!
//! The room archive is kept in Prosody's `memory` storage: `internal`
//! re-reads the whole archive file on every page (about 1 s a page at
//! 50,000 messages), `sql` needs LuaDBI, not installed here. `memory`
//! still copies the whole archive for each page: pages of 250 (what
//! confab asks for) rather than Prosody's default 50 keep the server's
//! part of a 50,000-message catch-up to seconds.
//!
//! `cargo bench --bench big_room`. Environment: `CONFAB_BIGROOM_SIZES`
//! (`2000,10000`), `CONFAB_BIGROOM_BACKLOG` (50000; 0 skips the
//! catch-up), `CONFAB_BIGROOM_PAGE` (Prosody's
//! `max_archive_query_results`: 250 here, 50 as shipped; confab asks
//! for 250),
//! `CONFAB_BIN` (another binary).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use jid::{BareJid, Jid};
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{FallibleStreamElement, ReadError, Timeouts, XmppStreamElement};
use xmpp_parsers::iq::Iq;

use confab::config::{Secret, TlsMode};
use confab::session::connect::{ConnectParams, Stream, connect};
use confab::session::tls_config;
use confab_testbed::crowd::{Crowd, with_crowd};
use confab_testbed::{MUC_DOMAIN, Prosody, ProsodyOptions};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let sizes: String = env_or("CONFAB_BIGROOM_SIZES", "2000,10000".to_string());
    let backlog: usize = env_or("CONFAB_BIGROOM_BACKLOG", 50_000);
    let page: u32 = env_or("CONFAB_BIGROOM_PAGE", 250);
    let bin = std::env::var_os("CONFAB_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_confab")));
    println!("big rooms, big archives: {}", bin.display());

    let plugins = tempfile::tempdir().unwrap();
    let mut opts = ProsodyOptions::new()
        .account("alice", "alice-pw")
        .account("bob", "bob-pw");
    // Prosody keeps 1,000 archived messages a room unless told.
    opts.muc_config = format!(
        "    storage = {{ muc_log = \"memory\" }}\n    max_archive_query_results = {page}\n    \
         storage_archive_item_limit = 10000000\n    muc_log_expires_after = \"never\"\n"
    );
    let server =
        Prosody::start(with_crowd(opts, plugins.path()).unwrap()).expect("the test Prosody starts");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut crowd = rt.block_on(Crowd::connect(&server)).expect("the crowd");

    println!();
    println!(
        "{:>9} {:>7} {:>8} {:>8} {:>10} {:>12} {:>9}",
        "occupants", "fill s", "floor s", "join s", "CPU s", "µs/occupant", "peak MiB"
    );
    let mut first = 0;
    for size in sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        let room = BareJid::new(&format!("big{size}@{MUC_DOMAIN}")).unwrap();
        let filled = Instant::now();
        rt.block_on(crowd.join(&room, first, size))
            .expect("the crowd joins");
        first += size;
        let fill = filled.elapsed().as_secs_f64();
        let floor = rt.block_on(floor_join(&server, &room, size));
        let home = tempfile::tempdir().unwrap();
        let mut confab = Confab::start(&server, home.path(), &bin);
        let m = confab.measure(&format!("/join {room}"), |v| {
            v["event"] == "joined" && v["room"] == room.to_string()
        });
        println!(
            "{:>9} {:>7.1} {:>8.3} {:>8.3} {:>10.3} {:>12.1} {:>9.1}",
            size,
            fill,
            floor.as_secs_f64(),
            m.wall.as_secs_f64(),
            m.cpu,
            m.cpu * 1e6 / size as f64,
            m.peak_kib as f64 / 1024.0
        );
        assert!(
            m.occupants >= size,
            "confab saw {} occupants of {size}",
            m.occupants
        );
        confab.quit();
    }

    if backlog > 0 {
        catch_up(&server, &rt, &mut crowd, first, backlog, &bin);
    }
}

fn catch_up(
    server: &Prosody,
    rt: &tokio::runtime::Runtime,
    crowd: &mut Crowd,
    member: usize,
    n: usize,
    bin: &Path,
) {
    let room = BareJid::new(&format!("archive@{MUC_DOMAIN}")).unwrap();
    rt.block_on(crowd.join(&room, member, 1)).unwrap();
    rt.block_on(crowd.say(&room, member, 0, 1)).unwrap();
    // confab knows the room and its newest message, then leaves.
    let home = tempfile::tempdir().unwrap();
    let mut confab = Confab::start(server, home.path(), bin);
    // The room's history (its one message) comes after our own presence.
    confab.measure(&format!("/join {room}"), |v| v["event"] == "message");
    confab.quit();

    let filled = Instant::now();
    rt.block_on(crowd.say(&room, member, 1, n)).unwrap();
    let fill = filled.elapsed().as_secs_f64();
    let floor = rt.block_on(floor_archive(server, &room, n + 1));

    let mut confab = Confab::start(server, home.path(), bin);
    let m = confab.measure(&format!("/join {room}"), |v| {
        v["event"] == "mam" && v["room"] == room.to_string()
    });
    assert_eq!(m.last["complete"], true, "{}", m.last);
    assert_eq!(m.messages, n, "every new message once");
    confab.quit();
    println!();
    println!(
        "{:>9} {:>7} {:>8} {:>10} {:>8} {:>8} {:>12} {:>9}",
        "archived", "fill s", "floor s", "catch-up s", "CPU s", "sys s", "µs/message", "peak MiB"
    );
    println!(
        "{:>9} {:>7.1} {:>8.3} {:>10.3} {:>8.3} {:>8.2} {:>12.1} {:>9.1}",
        n,
        fill,
        floor.as_secs_f64(),
        m.wall.as_secs_f64(),
        m.cpu,
        m.sys,
        m.cpu * 1e6 / n as f64,
        m.peak_kib as f64 / 1024.0
    );
}

/// `confab --batch` as alice, reading commands from a pipe.
struct Confab {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<(Instant, serde_json::Value)>,
}

/// What one command cost.
struct Measure {
    wall: Duration,
    /// User + system seconds of all confab's threads.
    cpu: f64,
    /// The system part of it (clock ticks, so coarse).
    sys: f64,
    peak_kib: u64,
    /// `occupant` and `message` events on the way.
    occupants: usize,
    messages: usize,
    /// The event that ended it.
    last: serde_json::Value,
}

impl Confab {
    fn start(server: &Prosody, home: &Path, bin: &Path) -> Confab {
        let mut child = common::batch(bin, server, "alice", home, &[])
            .spawn()
            .expect("confab starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Messages and occupants are counted, not parsed: this
                // thread must keep up with confab.
                let v = if line.starts_with("{\"event\":\"message\"") {
                    serde_json::json!({"event": "message"})
                } else if line.starts_with("{\"event\":\"occupant\"") {
                    serde_json::json!({"event": "occupant"})
                } else {
                    serde_json::from_str(&line).unwrap_or_default()
                };
                if tx.send((Instant::now(), v)).is_err() {
                    break;
                }
            }
        });
        let mut confab = Confab {
            stdin: child.stdin.take(),
            child,
            lines,
        };
        confab.wait_for(|v| v["event"] == "connected");
        // What login brings (carbons, the account's catch-up, the OMEMO
        // device's publication: 100 prekeys) is done before the
        // measurement starts.
        let (mut caught_up, mut published) = (false, false);
        confab.wait_for(|v| {
            caught_up |= v["event"] == "mam-account";
            published |= v["event"] == "omemo"
                && v["text"].as_str().is_some_and(|t| t.ends_with("published"));
            caught_up && published
        });
        confab
    }

    fn wait_for(&mut self, mut done: impl FnMut(&serde_json::Value) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let (_, v) = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("confab answers in time");
            if v["event"] == "error" {
                eprintln!("confab: {v}");
            }
            if done(&v) {
                return;
            }
        }
    }

    fn measure(&mut self, command: &str, done: impl Fn(&serde_json::Value) -> bool) -> Measure {
        let pid = self.child.id();
        let cpu0 = cpu_secs(pid);
        let sys0 = sys_secs(pid);
        let w = self.stdin.as_mut().unwrap();
        let started = Instant::now();
        writeln!(w, "{command}").unwrap();
        w.flush().unwrap();
        let deadline = started + Duration::from_secs(600);
        let (mut occupants, mut messages) = (0, 0);
        let (at, last) = loop {
            let (at, v) = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("confab answers in time");
            match v["event"].as_str() {
                Some("occupant") => occupants += 1,
                Some("message") => messages += 1,
                Some("error") => eprintln!("confab: {v}"),
                _ => {}
            }
            if done(&v) {
                break (at, v);
            }
        };
        Measure {
            wall: at - started,
            cpu: cpu_secs(pid) - cpu0,
            sys: sys_secs(pid) - sys0,
            peak_kib: peak_kib(pid),
            occupants,
            messages,
            last,
        }
    }

    /// End of script: confab writes its archive and leaves.
    fn quit(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "confab exit: {status}");
    }
}

/// User + system seconds of every thread of `pid` so far (nanoseconds
/// in `/proc/PID/task/TID/schedstat`; the tick-based `stat` is too
/// coarse for a 2,000-occupant join).
fn cpu_secs(pid: u32) -> f64 {
    let mut ns = 0u64;
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
            ns += s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    ns as f64 / 1e9
}

/// System seconds of `pid` so far (`/proc/PID/stat`, in clock ticks of
/// 10 ms: only the catch-up is long enough for it to mean much).
fn sys_secs(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The fields after the command's closing parenthesis; stime
            // is the 15th of the line, the 13th after it.
            let rest = &s[s.rfind(')')? + 2..];
            rest.split_whitespace().nth(12)?.parse::<u64>().ok()
        })
        .map_or(0.0, |ticks| ticks as f64 / 100.0)
}

/// VmHWM of a process, in KiB.
fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

async fn bob(server: &Prosody) -> Stream {
    let params = ConnectParams {
        jid: BareJid::new(&server.jid("bob")).unwrap(),
        password: Secret::new("bob-pw".into()),
        host: "127.0.0.1".into(),
        port: server.c2s_port(),
        tls: TlsMode::StartTls,
        discovery: None,
        resource: "floor".into(),
        tls_config: tls_config(Some(server.ca_file())).unwrap(),
        timeouts: Timeouts::tight(),
        attempt_timeout: Duration::from_secs(20),
        stream_management: false,
    };
    connect(&params, None).await.expect("bob connects").stream
}

async fn next(s: &mut Stream) -> Stanza {
    loop {
        match s.next().await {
            Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(st)))) => return st,
            Some(Ok(_)) | Some(Err(ReadError::SoftTimeout)) => {}
            other => panic!("bob's raw stream: {other:?}"),
        }
    }
}

/// The server's floor for a join: a raw stream of bob's joins `room`
/// (no history) and counts presences until its own; then leaves.
async fn floor_join(server: &Prosody, room: &BareJid, size: usize) -> Duration {
    let mut s = bob(server).await;
    let me: Jid = format!("{room}/floor-bob").parse().unwrap();
    let join: minidom::Element = format!(
        "<presence xmlns='jabber:client' to='{me}'>\
         <x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>"
    )
    .parse()
    .unwrap();
    let started = Instant::now();
    s.send(&XmppStreamElement::Stanza(
        xmpp_parsers::presence::Presence::try_from(join)
            .unwrap()
            .into(),
    ))
    .await
    .unwrap();
    let mut seen = 0;
    let took = loop {
        if let Stanza::Presence(p) = next(&mut s).await {
            if p.from.as_ref() == Some(&me) {
                break started.elapsed();
            }
            seen += 1;
        }
    };
    assert!(seen >= size, "the floor saw {seen} occupants of {size}");
    let leave: minidom::Element =
        format!("<presence xmlns='jabber:client' to='{me}' type='unavailable'/>")
            .parse()
            .unwrap();
    s.send(&XmppStreamElement::Stanza(
        xmpp_parsers::presence::Presence::try_from(leave)
            .unwrap()
            .into(),
    ))
    .await
    .unwrap();
    let _ = SinkExt::<&XmppStreamElement>::close(&mut s).await;
    took
}

/// The server's floor for a catch-up: bob's raw stream pages through
/// `room`'s whole archive (`n` messages), one page after the other.
async fn floor_archive(server: &Prosody, room: &BareJid, n: usize) -> Duration {
    use xmpp_parsers::mam::{Fin, Query, QueryId};
    use xmpp_parsers::rsm::SetQuery;
    let mut s = bob(server).await;
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
            Iq::from_set(id.clone(), query)
                .with_to(Jid::from(room.clone()))
                .into(),
        ))
        .await
        .unwrap();
        let fin = loop {
            match next(&mut s).await {
                Stanza::Message(m)
                    if m.payloads
                        .iter()
                        .any(|p| p.is("result", xmpp_parsers::ns::MAM)) =>
                {
                    results += 1
                }
                Stanza::Iq(Iq::Result {
                    id: got,
                    payload: Some(p),
                    ..
                }) if got == id => break Fin::try_from(p).expect("a <fin/>"),
                _ => {}
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
