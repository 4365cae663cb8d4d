//! A flood of groupchat messages from raw peers, for load tests and the
//! memory benchmark (`benches/memory.rs`): each peer is a plain
//! `session::connect` stream that joins some rooms and writes messages to
//! them at a steady rate, reading (and discarding) what the server sends
//! back so that the server never has to hold it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use jid::BareJid;
use minidom::Element;
use tokio_xmpp::Stanza;
use tokio_xmpp::xmlstream::{Timeouts, XmppStreamElement};

use super::Prosody;
use confab_session::connect::{ConnectParams, Stream, connect};
use confab_session::{Secret, TlsMode, tls_config};

/// What to flood, and where.
#[derive(Debug, Clone)]
pub struct FloodPlan {
    /// The peer account and its password; its nick in the rooms is the
    /// account's local part.
    pub jid: BareJid,
    pub password: String,
    /// The server's c2s port on 127.0.0.1 and the CA to trust.
    pub port: u16,
    pub ca_file: PathBuf,
    /// Rooms to join and write to.
    pub rooms: Vec<BareJid>,
    /// Messages per second per room.
    pub rate: u32,
    /// How long to write.
    pub duration: Duration,
}

impl FloodPlan {
    /// `user@localhost` of `server` writing `rate` messages a second to
    /// each of `rooms` for `duration`.
    pub fn new(
        server: &Prosody,
        user: &str,
        password: &str,
        rooms: Vec<BareJid>,
        rate: u32,
        duration: Duration,
    ) -> Result<FloodPlan, String> {
        Ok(FloodPlan {
            jid: BareJid::new(&server.jid(user)).map_err(|e| e.to_string())?,
            password: password.into(),
            port: server.c2s_port(),
            ca_file: server.ca_file().to_path_buf(),
            rooms,
            rate,
            duration,
        })
    }
}

/// Messages written so far, shared with the caller.
#[derive(Debug, Clone, Default)]
pub struct FloodCount(Arc<AtomicU64>);

impl FloodCount {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Connects the peer, joins the rooms (nick = the user),
/// then writes `plan.rate` messages per second to each room for
/// `plan.duration`; every message is counted in `count`. Errors are
/// returned as text.
pub async fn flood(plan: FloodPlan, count: FloodCount) -> Result<(), String> {
    let nick = plan.jid.node().map(|n| n.to_string()).unwrap_or_default();
    let params = ConnectParams {
        jid: plan.jid.clone(),
        password: Secret::new(plan.password.clone()),
        host: "127.0.0.1".into(),
        port: plan.port,
        tls: TlsMode::StartTls,
        resource: "flood".into(),
        tls_config: tls_config(Some(&plan.ca_file)).map_err(|e| e.to_string())?,
        timeouts: Timeouts::tight(),
        attempt_timeout: Duration::from_secs(20),
        discovery: None,
        stream_management: false,
    };
    let mut stream = connect(&params, None)
        .await
        .map_err(|e| e.to_string())?
        .stream;
    for room in &plan.rooms {
        let join: Element = format!(
            "<presence xmlns='jabber:client' to='{room}/{}'>\
             <x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>",
            nick
        )
        .parse()
        .map_err(|e| format!("{e}"))?;
        send(&mut stream, join).await?;
    }
    // Let the joins settle (and read the presences) before writing.
    drain_for(&mut stream, Duration::from_millis(500)).await?;

    // Ten writes a second, `rate / 10` messages to each room per write
    // (the remainder spread over the ticks).
    let ticks_per_sec = 10u32;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let deadline = tokio::time::Instant::now() + plan.duration;
    let mut t: u64 = 0;
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if tokio::time::Instant::now() >= deadline {
                    break;
                }
                // Messages due by the end of this tick, per room.
                let due = (t + 1) * plan.rate as u64 / ticks_per_sec as u64
                    - t * plan.rate as u64 / ticks_per_sec as u64;
                t += 1;
                for _ in 0..due {
                    for room in &plan.rooms {
                        n += 1;
                        send(&mut stream, message(room, n)).await?;
                        count.0.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            item = stream.next() => match item {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("flood stream: {e}")),
                None => return Err("flood stream closed".into()),
            },
        }
    }
    // What the server still echoes is read, then the stream closed.
    drain_for(&mut stream, Duration::from_millis(500)).await?;
    let _ = SinkExt::<&XmppStreamElement>::close(&mut stream).await;
    Ok(())
}

fn message(room: &BareJid, n: u64) -> Element {
    format!(
        "<message xmlns='jabber:client' to='{room}' type='groupchat' id='flood-{n}'>\
         <body>flood message {n}: some ordinary text of an ordinary length</body></message>"
    )
    .parse()
    .expect("a well-formed message")
}

async fn send(stream: &mut Stream, e: Element) -> Result<(), String> {
    let stanza: Stanza = if e.name() == "presence" {
        xmpp_parsers::presence::Presence::try_from(e)
            .map_err(|e| format!("{e}"))?
            .into()
    } else {
        xmpp_parsers::message::Message::try_from(e)
            .map_err(|e| format!("{e}"))?
            .into()
    };
    stream
        .send(&XmppStreamElement::Stanza(stanza))
        .await
        .map_err(|e| format!("flood send: {e}"))
}

async fn drain_for(stream: &mut Stream, d: Duration) -> Result<(), String> {
    let until = tokio::time::Instant::now() + d;
    loop {
        match tokio::time::timeout_at(until, stream.next()).await {
            Err(_) => return Ok(()),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(format!("flood stream: {e}")),
            Ok(None) => return Err("flood stream closed".into()),
        }
    }
}
